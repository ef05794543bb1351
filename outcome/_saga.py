"""
Multi-step commits that undo what they did when a later step fails.

A `Saga` runs its steps in order. Each step's action returns ``Ok(log)`` or
``Err(errors)`` (or raises); when one fails, the steps that completed are
compensated in reverse order, each at most once, each with the log its own
action returned. A compensation that fails does not stop the others: every
failure is reported, and the original errors are never replaced.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, final

import attrs

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._result import Err, Ok, Result
from outcome._retry import Retrying, RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

C = TypeVar("C")
L = TypeVar("L")


def _check_step_callable(
    name: str, field: str, value: object, *, optional: bool
) -> None:
    if value is None and optional:
        return
    if not callable(value):
        msg = (
            f"step {name!r}: {field} must be callable, not {value!r} "
            f"(of type {type(value).__name__})"
        )
        raise TypeError(msg)


@final
@attrs.frozen
class Step(Generic[C, L]):
    """
    One step of a saga: an action and, optionally, how to undo it.

    Args:
        name: Unique within its saga; used in reports, hooks and logs.
        action: Called with the context; returns ``Ok(log)`` on success (the
            log is what `compensate` needs to undo it, e.g. a row id) or
            ``Err(errors)``; it may also raise. It may be a coroutine function
            when the saga is run with `Saga.run_async`.
        compensate: Called with the context and the log to undo a completed
            action. Returning ``Err(errors)`` or raising means it could not be
            undone; any other return (`None`, `Ok`, ...) means undone.
        compensate_failed: Called with the context when the action itself
            failed, for an outcome that may have happened anyway (an enqueue
            that timed out). Without it, a failed step is not compensated.
        retry_policy: The policy for transient failures of the action and of
            its compensations; without it, nothing is retried. The saga's
            `Retrying` gives the hooks, the sleep and the clock.

    >>> step = Step("reserve", lambda ctx: Ok("hold-1"), lambda ctx, hold: None)
    >>> step.name
    'reserve'

    Raises:
        TypeError: When the name is not a non-empty str, or the action or a
            compensation is not callable.

    .. versionadded:: 0.1.0
    """

    name: str
    action: Callable[[C], Result[L, Errors] | Awaitable[Result[L, Errors]]]
    compensate: Callable[[C, L], object] | None = None
    compensate_failed: Callable[[C], object] | None = attrs.field(
        default=None, kw_only=True
    )
    retry_policy: RetryPolicy | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        name: object = self.name
        if type(name) is not str or not name:
            msg = f"a step needs a non-empty str name, not {name!r}"
            raise TypeError(msg)
        _check_step_callable(self.name, "action", self.action, optional=False)
        _check_step_callable(self.name, "compensate", self.compensate, optional=True)
        _check_step_callable(
            self.name, "compensate_failed", self.compensate_failed, optional=True
        )
        policy: object = self.retry_policy
        if policy is not None and type(policy) is not RetryPolicy:
            msg = (
                f"step {self.name!r}: retry_policy must be a RetryPolicy, "
                f"not {policy!r}"
            )
            raise TypeError(msg)


def _read_only(errors: Mapping[str, Errors]) -> Mapping[str, Errors]:
    return MappingProxyType(dict(errors))


@final
@attrs.frozen
class SagaFailure:
    """
    What happened when a saga failed: the original errors and every undo.

    Attributes:
        step: The name of the step that failed.
        original: The failing step's errors, exactly as it reported them.
        compensated: The steps that were undone, in the order they were undone.
        stuck: The steps whose compensation failed: a person must look at them.
        compensation_errors: For each stuck step, what its compensation said.
        cause: The exception behind the failure, if the step raised; for logs.

    >>> failure = SagaFailure("charge", Errors([ErrorDetail("card", "declined")]))
    >>> failure.errors.full_messages()
    ['Card was declined']

    .. versionadded:: 0.1.0
    """

    step: str
    original: Errors
    compensated: tuple[str, ...] = ()
    stuck: tuple[str, ...] = ()
    compensation_errors: Mapping[str, Errors] = attrs.field(
        default=MappingProxyType({}), converter=_read_only
    )
    cause: BaseException | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def errors(self) -> Errors:
        """
        Everything, merged into one `Errors` fit for an API response.

        The original errors first, then each failed compensation's, with a
        ``compensating`` param naming its step, so that an undo that failed
        the way the step did is never merged away. Serialise it as usual:
        programmer errors are redacted there.

        >>> stuck = Errors([ErrorDetail(None, "stuck")])
        >>> failure = SagaFailure(
        ...     "enqueue",
        ...     Errors([ErrorDetail(None, "unavailable")]),
        ...     stuck=("mark_processing",),
        ...     compensation_errors={"mark_processing": stuck},
        ... )
        >>> failure.errors.codes()
        ['unavailable', 'stuck']
        """
        merged = self.original.copy()
        for step, errors in self.compensation_errors.items():
            merged.merge(_compensating(step, errors))
        return merged

    def describe(self) -> str:
        """
        Say in one line what failed and what was undone, for notes and logs.

        >>> SagaFailure("charge", Errors(), compensated=("reserve",)).describe()
        "saga step 'charge' failed; compensated: 'reserve'; could not compensate: none"
        """
        undone = ", ".join(map(repr, self.compensated)) or "none"
        stuck = ", ".join(map(repr, self.stuck)) or "none"
        return (
            f"saga step {self.step!r} failed; compensated: {undone}; "
            f"could not compensate: {stuck}"
        )


def _as_errors(failure: object, classifier: Classifier) -> Errors:
    """The Errors a step's failure (an Err's value or an exception) stands for."""
    if isinstance(failure, BaseException):
        errors = Errors()
        errors.add_exception(failure, classifier=classifier)
        return errors
    if type(failure) is Errors:
        return failure
    if type(failure) is ErrorDetail:
        return Errors([failure])
    errors = Errors()
    errors.add(None, "step_failed", bucket=classifier.classify(failure).bucket)
    return errors


def _checked(step: Step[Any, Any], outcome: object) -> Result[object, object]:
    """The action's outcome if it is a Result; a TypeError naming it otherwise."""
    if type(outcome) is Ok or type(outcome) is Err:
        return cast("Result[object, object]", outcome)
    if inspect.isawaitable(outcome):
        if inspect.iscoroutine(outcome):
            outcome.close()  # never awaited: close it so no warning follows
        msg = (
            f"step {step.name!r}: its action is async; run the saga with "
            "`await saga.run_async(ctx)`"
        )
        raise TypeError(msg)
    raise _not_a_step_result(step.name, outcome)


def _not_a_step_result(step: str, value: object) -> TypeError:
    return TypeError(
        f"step {step!r}: its action must return Ok(log) or Err(errors), but returned "
        f"{value!r} (of type {type(value).__name__}); wrap the value in Ok(...)"
    )


class _Run:
    """The state of one run: what completed, in order, with its log."""

    __slots__ = (
        "cancelled",
        "compensated",
        "compensation_errors",
        "completed",
        "hook_failures",
        "stuck",
    )

    def __init__(self) -> None:
        self.cancelled = False
        self.hook_failures: list[Exception] = []
        self.completed: list[tuple[Step[Any, Any], object]] = []
        self.compensated: list[str] = []
        self.stuck: list[str] = []
        self.compensation_errors: dict[str, Errors] = {}


class Saga(Generic[C]):
    """
    Steps that run in order and are undone in reverse when one fails.

    On the first failure the completed steps are compensated, newest first,
    each at most once; steps that never started are never touched. A failed
    compensation does not stop the others. The result is ``Ok(logs)`` (each
    step's log by name) or ``Err(SagaFailure)``.

    Exceptions are classified: a transient one is retried under the step's
    policy; a user-fixable or user-visible one becomes the `Err`; a programmer
    error is compensated for and then re-raised, with notes on what was and
    was not undone. `KeyboardInterrupt` and `SystemExit` are not caught; with
    `run_async`, cancellation compensates under `asyncio.shield` and then
    propagates.

    Args:
        steps: The steps, in the order they run; names must be unique.
        classifier: Decides what a failure is; `DEFAULT_CLASSIFIER` if omitted.
        on_step: Called with a step's name and log after it succeeds.
        on_compensated: Called with a step's name after it was undone.
        on_stuck: Called with a step's name and errors when its compensation
            failed for good: a person must look.
        on_failure: Called once with the `SagaFailure` when the saga fails.
        retrying: How the steps that have a `Step.retry_policy` are retried:
            its hooks, sleeps, clock and random source (its policy is each
            step's own). Its classifier, if it has one, is the saga's when
            `classifier` is not given.

    >>> log: list[str] = []
    >>> def release(ctx: dict[str, str], hold: str) -> None:
    ...     log.append(f"release {hold}")
    >>> def decline(ctx: dict[str, str]) -> Result[str, Errors]:
    ...     return Err(Errors([ErrorDetail("card", "declined")]))
    >>> saga = Saga([
    ...     Step("reserve", lambda ctx: Ok("hold-1"), release),
    ...     Step("charge", decline),
    ... ])
    >>> result = saga.run({})
    >>> result.map_err(lambda failure: failure.describe())
    Err("saga step 'charge' failed; compensated: 'reserve'; could not compensate: none")
    >>> log
    ['release hold-1']

    Raises:
        TypeError: When a step is not a `Step`, or `retrying` is not a `Retrying`.
        ValueError: When two steps have the same name, or `classifier` and the
            classifier of `retrying` are both given and differ.

    .. versionadded:: 0.1.0
    """

    def __init__(  # noqa: PLR0913 - the steps, the classifier and each hook
        self,
        steps: Sequence[Step[C, Any]],
        *,
        classifier: Classifier | None = None,
        on_step: Callable[[str, object], object] | None = None,
        on_compensated: Callable[[str], object] | None = None,
        on_stuck: Callable[[str, Errors], object] | None = None,
        on_failure: Callable[[SagaFailure], object] | None = None,
        retrying: Retrying | None = None,
    ) -> None:
        steps = tuple(steps)  # an iterator would be used up by the checks below
        for index, given in enumerate(cast("Sequence[object]", steps)):
            if type(given) is not Step:
                msg = (
                    f"Saga takes Step values, but item {index} is {given!r}; "
                    "write Step(name, action, compensate)"
                )
                raise TypeError(msg)
        seen: set[str] = set()
        for step in steps:
            if step.name in seen:
                msg = f"two steps are named {step.name!r}; step names must be unique"
                raise ValueError(msg)
            seen.add(step.name)
        base = Retrying() if retrying is None else retrying
        if type(cast("object", base)) is not Retrying:  # callers may be untyped
            msg = f"Saga retrying must be a Retrying, not {retrying!r}"
            raise TypeError(msg)
        if classifier is not None and base.classifier not in (None, classifier):
            msg = (
                "Saga got a classifier and a Retrying with another one; give "
                "the classifier once, to Saga or to Retrying"
            )
            raise ValueError(msg)
        self.steps: tuple[Step[C, Any], ...] = steps
        self.classifier: Classifier = (
            classifier or base.classifier or DEFAULT_CLASSIFIER
        )
        self.on_step = on_step
        self.on_compensated = on_compensated
        self.on_stuck = on_stuck
        self.on_failure = on_failure
        # Built once: each step that retries, under its own policy. Most sagas
        # have none, and then it costs each step one truth test.
        self._retrying: dict[str, Retrying] = {
            step.name: attrs.evolve(
                base, policy=step.retry_policy, classifier=self.classifier
            )
            for step in steps
            if step.retry_policy is not None
        }

    # Running -------------------------------------------------------------------

    def run(self, ctx: C) -> Result[dict[str, object], SagaFailure]:
        """
        Run the steps with `ctx`; compensate and report if one fails.

        Raises:
            Exception: A programmer error raised by a step, after the completed
                steps were compensated, with a note saying what was and was not
                undone. A step that returns something other than a Result is
                such an error (a `TypeError`).
        """
        state = _Run()
        for step in self.steps:
            # Compensate only once out of any `except` block: otherwise what a
            # compensation raises would chain to this failure and be read as it.
            outcome = self._attempt(step, ctx)
            if isinstance(outcome, Exception):
                return self._fail(step, outcome, outcome, ctx, state)
            if type(outcome) is Err:
                return self._fail(step, outcome.err_value, None, ctx, state)
            hook_failure = self._completed(step, outcome.ok_value, state)
            if hook_failure is not None:  # raised by _conclude, whatever it is
                return self._fail(step, hook_failure, None, ctx, state, own=False)
        return Ok({step.name: log for step, log in state.completed})

    async def run_async(self, ctx: C) -> Result[dict[str, object], SagaFailure]:
        """
        Run the steps with `ctx`, awaiting actions and compensations that are async.

        Cancellation while a step runs compensates the completed steps under
        `asyncio.shield`, then propagates.

        Raises:
            Exception: As `run` does.
            asyncio.CancelledError: After compensating, when the run was cancelled.
        """
        state = _Run()
        for step in self.steps:
            outcome = await self._attempt_async(step, ctx)
            if isinstance(outcome, asyncio.CancelledError):
                await _to_the_end(self._compensate_async(ctx, state))
                raise outcome
            if isinstance(outcome, Exception):
                return await self._fail_async(step, outcome, outcome, ctx, state)
            if type(outcome) is Err:
                return await self._fail_async(step, outcome.err_value, None, ctx, state)
            hook_failure = self._completed(step, outcome.ok_value, state)
            if hook_failure is not None:  # raised by _conclude, whatever it is
                return await self._fail_async(
                    step, hook_failure, None, ctx, state, own=False
                )
        return Ok({step.name: log for step, log in state.completed})

    # Steps ---------------------------------------------------------------------

    def _call(self, step: Step[Any, Any], ctx: object) -> Result[object, object]:
        return _checked(step, step.action(ctx))

    async def _call_async(
        self, step: Step[Any, Any], ctx: object
    ) -> Result[object, object]:
        outcome: object = step.action(ctx)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return _checked(step, outcome)

    def _attempt(
        self, step: Step[Any, Any], ctx: object
    ) -> Result[object, object] | Exception:
        retrying = self._retrying.get(step.name) if self._retrying else None
        try:
            if retrying is None:  # nothing to retry: no retry machinery either
                return self._call(step, ctx)
            return retrying.call(self._call, step, ctx)
        except Exception as exc:  # noqa: BLE001 - returned, and classified in _fail
            return exc

    async def _attempt_async(
        self, step: Step[Any, Any], ctx: object
    ) -> Result[object, object] | Exception | asyncio.CancelledError:
        retrying = self._retrying.get(step.name) if self._retrying else None
        try:
            if retrying is None:
                return await self._call_async(step, ctx)
            return await retrying.call_async(self._call_async, step, ctx)
        except asyncio.CancelledError as cancelled:
            return cancelled
        except Exception as exc:  # noqa: BLE001 - returned, and classified in _fail
            return exc

    def _completed(
        self, step: Step[Any, Any], log: object, state: _Run
    ) -> Exception | None:
        """Record a completed step; a hook that raises is a failure of the step."""
        state.completed.append((step, log))
        hook_failure = _call_hook(self.on_step, step.name, log)
        if hook_failure is not None:
            state.hook_failures.append(hook_failure)
        return hook_failure

    # Failing -------------------------------------------------------------------

    def _fail(  # noqa: PLR0913 - what failed, and the state to undo
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        ctx: object,
        state: _Run,
        *,
        own: bool = True,
    ) -> Err[SagaFailure]:
        if own and step.compensate_failed is not None:
            self._undo(step, functools.partial(step.compensate_failed, ctx), state)
        self._compensate(ctx, state)
        return self._conclude(step, error, exc, state)

    async def _fail_async(  # noqa: PLR0913 - what failed, and the state to undo
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        ctx: object,
        state: _Run,
        *,
        own: bool = True,
    ) -> Err[SagaFailure]:
        undo_own = step.compensate_failed if own else None

        async def compensate() -> None:
            if undo_own is not None:
                await self._undo_async(step, functools.partial(undo_own, ctx), state)
            await self._compensate_async(ctx, state)

        cancelled = await _to_the_end(compensate())
        outcome = self._conclude(step, error, exc, state)
        if cancelled or state.cancelled:
            raise asyncio.CancelledError
        return outcome

    def _conclude(
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        state: _Run,
    ) -> Err[SagaFailure]:
        """Report the failure; re-raise a programmer error, else return the Err."""
        failure = SagaFailure(
            step.name,
            _as_errors(error, self.classifier),
            tuple(state.compensated),
            tuple(state.stuck),
            state.compensation_errors,
            exc,
        )
        # Hooks are the programmer's code: one that raised is a programmer
        # error, surfaced only now that every compensation has run.
        hook_failure = state.hook_failures[0] if state.hook_failures else None
        if hook_failure is None:
            hook_failure = _call_hook(self.on_failure, failure)
        if (
            exc is not None
            and self.classifier.classify(exc).bucket is Bucket.PROGRAMMER_ERROR
        ):
            # The step's own bug comes first; a broken hook is mentioned.
            exc.add_note(failure.describe())
            if hook_failure is not None:
                exc.add_note(f"a saga hook raised too: {hook_failure!r}")
            raise exc
        if hook_failure is not None:
            hook_failure.add_note(f"raised by a saga hook; {failure.describe()}")
            raise hook_failure
        return Err(failure)

    # Compensating ----------------------------------------------------------------

    def _compensate(self, ctx: object, state: _Run) -> None:
        while state.completed:
            step, log = state.completed.pop()
            if step.compensate is not None:
                self._undo(step, functools.partial(step.compensate, ctx, log), state)

    async def _compensate_async(self, ctx: object, state: _Run) -> None:
        while state.completed:
            step, log = state.completed.pop()
            if step.compensate is not None:
                await self._undo_async(
                    step, functools.partial(step.compensate, ctx, log), state
                )

    def _undo(
        self, step: Step[Any, Any], call: Callable[[], object], state: _Run
    ) -> None:
        retrying = self._retrying.get(step.name) if self._retrying else None
        try:
            if retrying is None:
                outcome = _undo_outcome(call(), step.name)
            else:
                outcome = retrying.call(lambda: _undo_outcome(call(), step.name))
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            outcome = Err(exc)
        self._record_undo(step, outcome, state)

    async def _undo_async(
        self, step: Step[Any, Any], call: Callable[[], object], state: _Run
    ) -> None:
        async def attempt() -> Result[object, object]:
            outcome = call()
            if inspect.isawaitable(outcome):
                outcome = await outcome
            return _undo_outcome(outcome, step.name)

        retrying = self._retrying.get(step.name) if self._retrying else None
        try:
            if retrying is None:
                outcome = await attempt()
            else:
                outcome = await retrying.call_async(attempt)
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            outcome = Err(exc)
        except asyncio.CancelledError as cancelled:  # stuck; the others still run
            state.cancelled = True
            outcome = Err(cancelled)
        self._record_undo(step, outcome, state)

    def _record_undo(
        self, step: Step[Any, Any], outcome: Result[object, object], state: _Run
    ) -> None:
        if type(outcome) is Ok:
            state.compensated.append(step.name)
            hook_failure = _call_hook(self.on_compensated, step.name)
        else:
            errors = _compensating(
                step.name, _as_errors(outcome.err_value, self.classifier)
            )
            state.stuck.append(step.name)
            state.compensation_errors[step.name] = errors
            hook_failure = _call_hook(self.on_stuck, step.name, errors)
        if hook_failure is not None:  # kept until every compensation has run
            state.hook_failures.append(hook_failure)


def _compensating(step: str, errors: Errors) -> Errors:
    """`errors` with a ``compensating`` param naming the step they came from."""
    tagged = Errors()
    for detail in errors:
        if detail.params.get("compensating") == step:
            tagged.append(detail)
            continue
        tagged.append(
            ErrorDetail(
                detail.path,
                detail.code,
                detail.message,
                params={**detail.params, "compensating": step},
                bucket=detail.bucket,
                cause=detail.cause,
            )
        )
    return tagged


def _call_hook(
    hook: Callable[..., object] | None, *arguments: object
) -> Exception | None:
    """Call `hook`, returning what it raised instead of letting it interrupt."""
    if hook is None:
        return None
    try:
        hook(*arguments)
    except Exception as exc:  # noqa: BLE001 - returned, then raised by the saga
        return exc
    return None


def _undo_outcome(outcome: object, step: str) -> Result[object, object]:
    """A compensation's return: Err means it failed; anything else, done."""
    if outcome is None:
        return Ok(None)
    if type(outcome) is Ok or type(outcome) is Err:
        return cast("Result[object, object]", outcome)
    if inspect.isawaitable(outcome):  # an async compensation under run(): not done
        if inspect.iscoroutine(outcome):
            outcome.close()
        return Err(
            TypeError(
                f"step {step!r}: its compensation is async; run the saga with "
                "`await saga.run_async(ctx)`"
            )
        )
    return Ok(outcome)


async def _to_the_end(compensation: Awaitable[None]) -> bool:
    """
    Await `compensation` to the end, shielded; return whether a cancel came.

    A cancel while compensating must not leave steps half undone: it is held
    until every compensation has run, and the caller then propagates it.
    """
    task = asyncio.ensure_future(compensation)
    cancelled = False
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():  # the compensation itself was cancelled
                return True
            cancelled = True
        else:
            return cancelled
