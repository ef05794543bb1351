"""
Multi-step commits that undo what they did when a later step fails.

A `Saga` runs its steps in order. Each step's action returns ``Ok(log)`` or
``Err(errors)`` (or raises); when one fails, the steps that completed are
compensated in reverse order, each at most once, each with the log its own
action returned. A compensation that fails does not stop the others: every
failure is reported, and the original errors are never replaced.
"""

from __future__ import annotations

import contextvars
import inspect
import sys
from operator import attrgetter
from types import CoroutineType, MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    NoReturn,
    TypeAlias,
    TypeGuard,
    TypeVar,
    cast,
    final,
)

import attrs
from typing_extensions import TypeIs

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._result import Err, Ok, Result
from outcome._retry import Retrying, RetryPolicy, _add_note

if TYPE_CHECKING:
    from asyncio import CancelledError, Future, Task
    from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence

C = TypeVar("C")
# A step's context is only ever passed in, so a step written for a base
# context joins a saga over a derived one. Its log is covariant although the
# compensation takes it: the saga hands a compensation only the log its own
# action returned, a pairing checked where the step is made; and so steps
# with different logs make one list, `Step[Order, object]`, that a saga takes
# with no annotation.
C_contra = TypeVar("C_contra", contravariant=True)
L_co = TypeVar("L_co", covariant=True)


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
class Step(Generic[C_contra, L_co]):
    """
    One step of a saga: an action and, optionally, how to undo it.

    Args:
        name: Unique within its saga; used in reports, hooks and logs.
        action: Called with the context; returns ``Ok(log)`` on success (the
            log is what `compensate` needs to undo it, e.g. a row id) or
            ``Err(errors)``, with an `Errors` or one `ErrorDetail`; it may
            also raise. It may be a coroutine function when the saga is run
            with `Saga.run_async`.
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
    action: Callable[
        [C_contra],
        Result[L_co, Errors | ErrorDetail]
        | Awaitable[Result[L_co, Errors | ErrorDetail]],
    ]
    compensate: Callable[[C_contra, L_co], object] | None = None
    compensate_failed: Callable[[C_contra], object] | None = attrs.field(
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

    def read_log(self, logs: Mapping[str, object]) -> L_co:
        """
        Read this step's log from the logs of a run, typed as its action's.

        A saga's logs are ``dict[str, object]``: each step's log has its own
        type. The step knows which, so reading through it needs no cast.

        >>> reserve = Step("reserve", lambda ctx: Ok("hold-1"))
        >>> logs = Saga([reserve]).run(None).unwrap()
        >>> reserve.read_log(logs)
        'hold-1'

        Raises:
            KeyError: When `logs` has no log for this step: they are not the
                logs of a run of a saga this step is in.

        .. versionadded:: 0.1.0
        """
        try:
            return cast("L_co", logs[self.name])
        except KeyError:
            msg = (
                f"no log for step {self.name!r} among {sorted(logs)!r}: read "
                "the logs of a run of a saga this step is in"
            )
            raise KeyError(msg) from None


if TYPE_CHECKING:
    # An undo to await: its step, and what its compensation returned.
    _Pending: TypeAlias = tuple[Step[Any, Any], Awaitable[object]]


def _read_only(errors: Mapping[str, Errors]) -> Mapping[str, Errors]:
    return MappingProxyType(dict(errors))


@final
@attrs.frozen
class SagaFailure:
    """
    What happened when a saga failed: the original errors and every undo.

    It pickles and deep-copies (its cause too, as far as the cause does), so
    it can be a job's result, cross to another process, or be cached.
    ``str()`` is fit for a user: `describe`, then the errors' messages, with
    a programmer error's redacted; ``repr()`` is for logs.

    Attributes:
        step: The name of the step that failed (or after which `hook` raised).
        original: The failing step's errors, as it reported them. An empty
            `Errors` is reported as a ``step_failed`` error with a ``step``
            param, so that a failure is never reported empty.
        compensated: The steps that were undone, in the order they were undone.
        stuck: The steps whose compensation failed: a person must look at them.
        compensation_errors: For each stuck step, what its compensation said.
        cause: The exception behind the failure, if the step (or `hook`)
            raised; for logs.
        hook: ``"on_step"`` when it was that hook that raised, after `step`
            completed, rather than the step that failed; else `None`.

    >>> failure = SagaFailure("charge", Errors([ErrorDetail("card", "declined")]))
    >>> failure.errors.full_messages()
    ['Card was declined']
    >>> str(failure)
    "saga step 'charge' failed; compensated: none; ...: Card was declined"

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
    hook: str | None = attrs.field(default=None, kw_only=True)

    def __str__(self) -> str:
        # str() may end up in front of a user: the redacted messages, as
        # Errors' own str(). repr() is the one for logs.
        said = str(self.errors)
        return f"{self.describe()}: {said}" if said else self.describe()

    def __reduce__(self) -> tuple[object, ...]:
        # The read-only mapping does not pickle: a dict takes its place, which
        # the constructor makes read-only again.
        fields = (
            self.step,
            self.original,
            self.compensated,
            self.stuck,
            dict(self.compensation_errors),
            self.cause,
            self.hook,
        )
        return (SagaFailure._restore, fields)

    @classmethod
    def _restore(  # noqa: PLR0913, PLR0917 - one argument per field
        cls,
        step: str,
        original: Errors,
        compensated: tuple[str, ...],
        stuck: tuple[str, ...],
        compensation_errors: Mapping[str, Errors],
        cause: BaseException | None,
        hook: str | None,
    ) -> SagaFailure:
        return cls(
            step, original, compensated, stuck, compensation_errors, cause, hook=hook
        )

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
        >>> SagaFailure("charge", Errors(), ("charge",), hook="on_step").describe()
        "saga hook on_step raised after step 'charge' completed; compensated: ..."
        """
        undone = ", ".join(map(repr, self.compensated)) or "none"
        stuck = ", ".join(map(repr, self.stuck)) or "none"
        if self.hook is None:
            what = f"saga step {self.step!r} failed"
        else:
            what = f"saga hook {self.hook} raised after step {self.step!r} completed"
        return f"{what}; compensated: {undone}; could not compensate: {stuck}"


def _as_errors(
    failure: object, classifier: Classifier, step: str, *, undo: bool = False
) -> Errors:
    """
    The Errors a step's failure (an Err's value or an exception) stands for.

    Never empty: an empty Errors, or a value that is no error, becomes a
    ``step_failed`` error naming the step (``compensation_failed`` for an
    undo, which `_compensating` tags with the step), bucketed by `classifier`.
    """
    if isinstance(failure, BaseException):
        errors = Errors()
        errors.add_exception(failure, classifier=classifier)
        return errors
    if type(failure) is Errors:
        if failure._details:  # noqa: SLF001 - the package's own; bool() is a call
            return failure
    elif type(failure) is ErrorDetail:
        return Errors([failure])
    bucket = classifier.classify(failure).bucket
    errors = Errors()
    if undo:
        errors.add(None, "compensation_failed", bucket=bucket)
    else:
        errors.add(None, "step_failed", bucket=bucket, step=step)
    return errors


def _attach(exc: BaseException, failure: SagaFailure) -> None:
    """Make `failure` reachable from what the saga raises: ``exc.saga_failure``."""
    # Through the instance's dict: an exception class may refuse setattr
    # (a frozen dataclass), and every exception has one.
    vars(exc)["saga_failure"] = failure


# What an Ok or an Err holds, read from its slot: the properties cost a call.
_value_of: Final = attrgetter("_value")


def _checked(step: Step[Any, Any], outcome: object) -> Result[object, object]:
    """The action's outcome if it is a Result; a TypeError naming it otherwise."""
    if type(outcome) is Ok or type(outcome) is Err:
        return cast("Result[object, object]", outcome)
    raise _refused(step, outcome)


def _refused(step: Step[Any, Any], outcome: object) -> TypeError:
    """The TypeError for an action that returned `outcome`, which is no Result."""
    if inspect.isawaitable(outcome):
        if inspect.iscoroutine(outcome):
            outcome.close()  # never awaited: close it so no warning follows
        return TypeError(
            f"step {step.name!r}: its action is async; run the saga with "
            "`await saga.run_async(ctx)`"
        )
    return _not_a_step_result(step.name, outcome)


def _not_a_step_result(step: str, value: object) -> TypeError:
    return TypeError(
        f"step {step!r}: its action must return Ok(log) or Err(errors), but returned "
        f"{value!r} (of type {type(value).__name__}); wrap the value in Ok(...)"
    )


def _is_cancel(exc: BaseException) -> TypeIs[CancelledError]:
    """Whether `exc` is an asyncio cancellation; with no asyncio imported, none is."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def _running_task() -> Task[Any] | None:
    """The asyncio task running now, if asyncio is what runs this code."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:  # no asyncio imported, so no task of its
        return None
    try:
        task: Task[Any] | None = asyncio.current_task()
    except RuntimeError:  # no event loop running: something else drives the coroutine
        return None
    return task


class _Run:
    """The state of a run that failed: what is still to undo, and what was."""

    __slots__ = (
        "cancel",
        "compensated",
        "compensation_errors",
        "hook_failures",
        "logs",
        "steps",
        "stuck",
    )

    def __init__(self, steps: Sequence[Step[Any, Any]], logs: list[object]) -> None:
        self.cancel: CancelledError | None = None  # the first one
        self.hook_failures: list[tuple[str, Exception]] = []  # hook, raised
        # The logs of the steps not undone yet: step i gave logs[i].
        self.steps = steps
        self.logs = logs
        self.compensated: list[str] = []
        self.stuck: list[str] = []
        self.compensation_errors: dict[str, Errors] = {}

    def keep(self, cancel: CancelledError) -> None:
        """Keep `cancel` to raise once compensated, unless one came before it."""
        if self.cancel is None:
            self.cancel = cancel


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
    `run_async`, a cancellation compensates, shielded from that cancellation
    and any that follow, and then propagates.

    The hooks are the programmer's code: one that raises does not stop the
    compensations, and its exception is raised once they are done. An
    exception the saga raises after compensating (a bug, a hook's, a cancel
    that came while compensating) carries the `SagaFailure` as its
    ``saga_failure`` attribute, besides a note that describes it.

    Args:
        steps: The steps, in the order they run; names must be unique.
        classifier: Decides what a failure is; `DEFAULT_CLASSIFIER` if omitted.
        on_step: Called with a step's name and log after it succeeds. If it
            raises, the saga fails there, as a failure of the hook: the step
            completed, so it is compensated too.
        on_compensated: Called with a step's name after it was undone.
        on_stuck: Called with a step's name and errors when its compensation
            failed for good: a person must look.
        on_failure: Called once with the `SagaFailure` when the saga fails
            (unless another hook raised first).
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
        self._names = tuple(step.name for step in steps)  # the keys of the logs
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

        Returns:
            ``Ok`` of each step's log by name (`Step.read_log` reads one back
            with its type), or ``Err(SagaFailure)``.

        Raises:
            Exception: A programmer error raised by a step, after the completed
                steps were compensated, with a note saying what was and was not
                undone. A step that returns something other than a Result is
                such an error (a `TypeError`). Or what a hook raised, after
                the compensations. Either carries the `SagaFailure` as its
                ``saga_failure`` attribute.
        """
        logs: list[object] = []  # the completed steps' logs, in order
        retrying = self._retrying
        for step in self.steps:
            # Compensate only once out of any `except` block: otherwise what a
            # compensation raises would chain to this failure and be read as it.
            outcome: object  # an untyped action may return anything at all
            try:
                if retrying and step.name in retrying:
                    outcome = retrying[step.name].call(self._call, step, ctx)
                else:  # nothing to retry: no retry machinery either
                    outcome = step.action(ctx)
            except Exception as exc:  # noqa: BLE001 - classified in _fail
                failure = exc
            else:
                kind = type(outcome)
                if kind is Ok:
                    log = _value_of(outcome)
                    logs.append(log)
                    if (
                        self.on_step is None
                        or (hook_failure := self._on_step(step, log)) is None
                    ):
                        continue
                    return self._fail(
                        step,
                        hook_failure,
                        hook_failure,
                        ctx,
                        _Run(self.steps, logs),
                        hook="on_step",
                    )
                if kind is Err:
                    error = _value_of(outcome)
                    return self._fail(step, error, None, ctx, _Run(self.steps, logs))
                failure = _refused(step, outcome)
            return self._fail(step, failure, failure, ctx, _Run(self.steps, logs))
        return Ok(dict(zip(self._names, logs, strict=True)))

    async def run_async(self, ctx: C) -> Result[dict[str, object], SagaFailure]:  # noqa: C901 - one loop: a helper would cost each step a call
        """
        Run the steps with `ctx`, awaiting actions and compensations that are async.

        A cancel while a step runs calls that step's `Step.compensate_failed`
        (it may have done its work: an enqueue that timed out) and compensates
        the completed steps, shielded from the cancel as `asyncio.shield`
        would, then propagates. A cancel while compensating lets the
        compensations finish, then propagates. Either way it is the first
        `asyncio.CancelledError` that is raised, with its message, whatever a
        compensation raised. A compensation that is awaited runs in a task of
        its own, so a timeout it sets for itself still interrupts it.

        Raises:
            Exception: As `run` does.
            asyncio.CancelledError: After compensating, when the run was
                cancelled. A programmer error or a hook's exception that it
                interrupted is its ``__cause__``; if the saga had failed, it
                carries the `SagaFailure` as its ``saga_failure`` attribute.
        """
        logs: list[object] = []  # the completed steps' logs, in order
        retrying = self._retrying
        for step in self.steps:
            outcome: object  # an untyped action may return anything at all
            try:
                outcome = (
                    retrying[step.name].call_async(self._call_async, step, ctx)
                    if retrying and step.name in retrying
                    else step.action(ctx)
                )
                if type(outcome) is CoroutineType or (
                    type(outcome) is not Ok
                    and type(outcome) is not Err
                    and inspect.isawaitable(outcome)
                ):
                    outcome = await cast("Awaitable[object]", outcome)
            except Exception as exc:  # noqa: BLE001 - classified in _fail_async
                failure: Exception | CancelledError = exc
            except BaseException as exc:
                if not _is_cancel(exc):
                    raise
                failure = exc
            else:
                kind = type(outcome)
                if kind is Ok:
                    log = _value_of(outcome)
                    logs.append(log)
                    if (
                        self.on_step is None
                        or (hook_failure := self._on_step(step, log)) is None
                    ):
                        continue
                    return await self._fail_async(
                        step,
                        hook_failure,
                        hook_failure,
                        ctx,
                        _Run(self.steps, logs),
                        hook="on_step",
                    )
                if kind is Err:
                    error = _value_of(outcome)
                    return await self._fail_async(
                        step, error, None, ctx, _Run(self.steps, logs)
                    )
                failure = _refused(step, outcome)
            state = _Run(self.steps, logs)
            if not isinstance(failure, Exception):  # a cancel, not a failure
                await self._cancelled(step, failure, ctx, state)
            return await self._fail_async(step, failure, failure, ctx, state)
        return Ok(dict(zip(self._names, logs, strict=True)))

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

    def _on_step(self, step: Step[Any, Any], log: object) -> Exception | None:
        """Call on_step for a completed step; return what it raised, if it did."""
        return _call_hook(self.on_step, step.name, log)

    # Failing -------------------------------------------------------------------

    def _fail(  # noqa: PLR0913 - what failed, and the state to undo
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        ctx: object,
        state: _Run,
        *,
        hook: str | None = None,
    ) -> Err[SagaFailure]:
        """Compensate, then report; `hook` is the hook that failed, if not the step."""
        if hook is not None:
            state.hook_failures.append((hook, cast("Exception", exc)))
        elif step.compensate_failed is not None:
            self._undo(step, step.compensate_failed, (ctx,), state)
        self._compensate(ctx, state)
        failure, raised = self._conclude(step, error, exc, state, hook)
        if raised is not None:
            raise raised
        return Err(failure)

    async def _fail_async(  # noqa: PLR0913 - what failed, and the state to undo
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        ctx: object,
        state: _Run,
        *,
        hook: str | None = None,
    ) -> Err[SagaFailure]:
        if hook is not None:
            state.hook_failures.append((hook, cast("Exception", exc)))
        rest = self._compensate_now(None if hook else step, ctx, state)
        if rest is not None:
            await rest
        failure, raised = self._conclude(step, error, exc, state, hook)
        cancel = state.cancel
        if cancel is not None:  # it came while compensating: it goes on now
            _attach(cancel, failure)
            _add_note(cancel, f"cancelled while compensating: {failure.describe()}")
            if raised is not None:
                raise cancel from raised
            raise cancel
        if raised is not None:
            raise raised
        return Err(failure)

    async def _cancelled(
        self,
        step: Step[Any, Any],
        cancel: CancelledError,
        ctx: object,
        state: _Run,
    ) -> NoReturn:
        """A cancel came while `step` ran: compensate it too, then go on."""
        state.cancel = cancel
        rest = self._compensate_now(step, ctx, state)
        if rest is not None:
            await rest
        # Not a failure of the saga, so no SagaFailure and no on_failure; but
        # a hook that raised meanwhile is a bug, and must not be lost.
        if state.hook_failures:
            (hook, raised), *others = state.hook_failures
            _add_note(
                raised,
                f"raised by the saga hook {hook} while compensating for a cancel "
                f"of step {step.name!r}",
            )
            _note_others(raised, others)
            raise cancel from raised
        raise cancel

    def _conclude(
        self,
        step: Step[Any, Any],
        error: object,
        exc: Exception | None,
        state: _Run,
        hook: str | None,
    ) -> tuple[SagaFailure, Exception | None]:
        """Report the failure: the SagaFailure, and what to raise, if anything."""
        failure = SagaFailure(
            step.name,
            _as_errors(error, self.classifier, step.name),
            tuple(state.compensated),
            tuple(state.stuck),
            state.compensation_errors,
            exc,
            hook=hook,
        )
        # Hooks are the programmer's code: one that raised is a programmer
        # error, surfaced only now that every compensation has run.
        hook_failures = state.hook_failures
        if not hook_failures and self.on_failure is not None:
            on_failure = _call_hook(self.on_failure, failure)
            if on_failure is not None:
                hook_failures.append(("on_failure", on_failure))
        if (
            hook is None
            and exc is not None
            and self.classifier.classify(exc).bucket is Bucket.PROGRAMMER_ERROR
        ):
            # The step's own bug comes first; a broken hook is mentioned.
            raised, others = exc, hook_failures
            _add_note(exc, failure.describe())
        elif hook_failures:
            (name, raised), *others = hook_failures
            _add_note(
                raised,
                failure.describe()
                if name == hook
                else f"raised by the saga hook {name}; {failure.describe()}",
            )
        else:
            return failure, None
        _note_others(raised, others)
        _attach(raised, failure)
        return failure, raised

    # Compensating ----------------------------------------------------------------

    def _compensate(self, ctx: object, state: _Run) -> None:
        steps, logs = state.steps, state.logs
        retrying = self._retrying
        while logs:
            log = logs.pop()
            step = steps[len(logs)]
            undo = step.compensate
            if undo is None:
                continue
            if retrying and step.name in retrying:
                self._undo(step, undo, (ctx, log), state)
                continue
            # What _undo does, without its retry machinery: this loop is most
            # of what a failure costs.
            try:
                returned = undo(ctx, log)
            except Exception as exc:  # noqa: BLE001 - reported, never lost
                self._record_undo(step, Err(exc), state)
                continue
            if returned is None and self.on_compensated is None:
                state.compensated.append(step.name)
            else:
                self._record_undo(step, _undo_outcome(returned, step.name), state)

    def _undo(
        self,
        step: Step[Any, Any],
        undo: Callable[..., object],
        arguments: tuple[object, ...],
        state: _Run,
    ) -> None:
        # The undo and its arguments, not a partial: making one per step is
        # most of what a compensation without a retry policy costs.
        retrying = self._retrying.get(step.name) if self._retrying else None
        try:
            if retrying is None:
                outcome = _undo_outcome(undo(*arguments), step.name)
            else:
                outcome = retrying.call(
                    lambda: _undo_outcome(undo(*arguments), step.name)
                )
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            outcome = Err(exc)
        self._record_undo(step, outcome, state)

    def _compensate_now(
        self, failed: Step[Any, Any] | None, ctx: object, state: _Run
    ) -> Coroutine[Any, Any, None] | None:
        """
        Compensate `failed` (if given, and opted in), then the completed steps.

        The undos that return at once run here, with no turn of the event
        loop; from the first one that must be awaited, the rest is returned,
        to await: it runs to the end in a task of its own, which a cancel of
        the saga's task cannot cut short (`_to_the_end`). The undos share one
        copy of the context, as they would in that task.
        """
        context = contextvars.copy_context()
        task = _running_task()
        cancels = 0 if task is None else task.cancelling()
        pending = context.run(self._undo_until_awaited, failed, ctx, state)
        if pending is not None:
            return self._to_the_end(pending, ctx, context, state)
        if task is not None and task.cancelling() > cancels:
            # An undo or a hook cancelled this task (a signal handler can,
            # too): a cancel that came while compensating goes on once the
            # saga has reported, so it is taken now, not at the caller's next
            # await.
            return _take_cancel(state)
        return None

    def _undo_until_awaited(
        self, failed: Step[Any, Any] | None, ctx: object, state: _Run
    ) -> _Pending | None:
        """Undo what can be undone at once; stop at the first undo to await."""
        if failed is not None and failed.compensate_failed is not None:
            pending = self._undo_or_await(
                failed, failed.compensate_failed, (ctx,), state
            )
            if pending is not None:
                return failed, pending
        steps, logs = state.steps, state.logs
        while logs:
            log = logs.pop()
            step = steps[len(logs)]
            if step.compensate is not None:
                pending = self._undo_or_await(step, step.compensate, (ctx, log), state)
                if pending is not None:
                    return step, pending
        return None

    def _undo_or_await(
        self,
        step: Step[Any, Any],
        undo: Callable[..., object],
        arguments: tuple[object, ...],
        state: _Run,
    ) -> Awaitable[object] | None:
        """Undo `step` now, or return what is to be awaited: it is async or retries."""
        retrying = self._retrying.get(step.name) if self._retrying else None
        if retrying is not None:
            return retrying.call_async(_undo_attempt, undo, arguments, step.name)
        returned: object
        try:
            returned = undo(*arguments)
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            outcome: Result[object, object] = Err(exc)
        except BaseException as exc:
            if not _is_cancel(exc):
                raise
            state.keep(exc)  # stuck; the others still run
            outcome = Err(exc)
        else:
            if returned is None and self.on_compensated is None:
                state.compensated.append(step.name)  # as _record_undo would
                return None
            if _to_await(returned):
                return returned
            outcome = _undo_outcome(returned, step.name)
        self._record_undo(step, outcome, state)
        return None

    async def _to_the_end(
        self,
        pending: _Pending,
        ctx: object,
        context: contextvars.Context,
        state: _Run,
    ) -> None:
        """
        Undo the rest in a task of its own, shielded; keep the first cancel.

        A cancel while compensating must not leave steps half undone: it is
        held in `state` until every compensation has run, and the caller then
        propagates it. The undos run in a task of their own, as under
        `asyncio.shield`, so that a cancel of the saga's task reaches only the
        future it waits on here; and a timeout an undo sets for itself cancels
        that task, which interrupts the undo as it should.
        """
        import asyncio  # noqa: PLC0415 - imported by now: an undo awaits

        loop = asyncio.get_running_loop()
        waker = _Waker(loop.create_future())
        task = asyncio.Task(
            self._compensate_rest(pending, ctx, state, waker),
            loop=loop,
            context=context,
            **_EAGER,
        )
        while not task.done():
            try:
                await waker.future
            except asyncio.CancelledError as cancel:
                state.keep(cancel)
                waker.future = loop.create_future()
        try:
            # Anything else it raised (the undos catch all but KeyboardInterrupt
            # and SystemExit) went up through the event loop when it was raised.
            task.exception()
        except asyncio.CancelledError as cancel:  # an undo cancelled its task
            state.keep(cancel)

    async def _compensate_rest(
        self, pending: _Pending, ctx: object, state: _Run, waker: _Waker
    ) -> None:
        """Await the pending undo, then undo the remaining steps, awaiting as needed."""
        next_pending: _Pending | None = pending
        try:
            while next_pending is not None:
                step, awaitable = next_pending
                try:
                    outcome = _undo_outcome(await awaitable, step.name)
                except Exception as exc:  # noqa: BLE001 - reported, never lost
                    outcome = Err(exc)
                except BaseException as exc:
                    if not _is_cancel(exc):
                        raise
                    state.keep(exc)  # stuck; the others still run
                    outcome = Err(exc)
                self._record_undo(step, outcome, state)
                next_pending = self._undo_until_awaited(None, ctx, state)
        finally:
            # The saga is woken from here rather than by a done-callback of the
            # task, which would cost it another turn of the loop.
            if not waker.future.done():  # cancelled, in the turn the task ended
                waker.future.set_result(None)

    def _record_undo(
        self, step: Step[Any, Any], outcome: Result[object, object], state: _Run
    ) -> None:
        if type(outcome) is Ok:
            state.compensated.append(step.name)
            if self.on_compensated is None:
                return
            hook = "on_compensated"
            hook_failure = _call_hook(self.on_compensated, step.name)
        else:
            errors = _compensating(
                step.name,
                _as_errors(outcome.err_value, self.classifier, step.name, undo=True),
            )
            state.stuck.append(step.name)
            state.compensation_errors[step.name] = errors
            hook = "on_stuck"
            hook_failure = _call_hook(self.on_stuck, step.name, errors)
        if hook_failure is not None:  # kept until every compensation has run
            state.hook_failures.append((hook, hook_failure))


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


def _note_others(raised: Exception, others: Sequence[tuple[str, Exception]]) -> None:
    """Mention on `raised` the other hooks that raised: only one can be raised."""
    for hook, other in others:
        if other is not raised:  # a hook may raise the same exception twice
            _add_note(raised, f"the saga hook {hook} raised too: {other!r}")


_UNDONE: Final = Ok(None)  # immutable, so one for every compensation that returns None


def _undo_outcome(outcome: object, step: str) -> Result[object, object]:
    """A compensation's return: Err means it failed; anything else, done."""
    if outcome is None:
        return _UNDONE
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


def _to_await(returned: object) -> TypeGuard[Awaitable[object]]:
    """Whether an undo returned what is to be awaited: an awaitable, not a Result."""
    return (
        returned is not None
        and type(returned) is not Ok
        and type(returned) is not Err
        and inspect.isawaitable(returned)
    )


async def _undo_attempt(
    undo: Callable[..., object], arguments: tuple[object, ...], step: str
) -> Result[object, object]:
    """One attempt at an undo that has a retry policy, awaited if it is async."""
    outcome = undo(*arguments)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return _undo_outcome(outcome, step)


# Where Python has eager tasks (3.12), the task that undoes the steps starts at
# once, in the saga's turn of the loop, and one whose undos never wait ends there.
_EAGER: Final[dict[str, Any]] = (
    {"eager_start": True} if sys.version_info >= (3, 12) else {}
)


@final
class _Waker:
    """The future a saga awaits while the task that undoes its steps runs."""

    __slots__ = ("future",)

    def __init__(self, future: Future[None]) -> None:
        self.future = future


async def _take_cancel(state: _Run) -> None:
    """Take the cancel that this task has pending, and keep it in `state`."""
    import asyncio  # noqa: PLC0415 - imported by now: a task is running

    try:
        await asyncio.sleep(0)  # where a pending cancel is delivered
    except asyncio.CancelledError as cancel:
        state.keep(cancel)
