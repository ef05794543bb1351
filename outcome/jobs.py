"""
Background jobs, engine-neutral: what a job does when it fails, and who is told.

A `JobPolicy` says how often a job is tried across its whole life and who hears
about it: `on_retry` for each failure that will be retried, `on_give_up` once
when the job has failed for good, `on_status` at every change of state. The
functions in `death_handlers` run for every job that gives up, after its own
`on_give_up`, as Sidekiq's death handlers do. Every hook receives a `JobEvent`.

`plan_failure` is the decision itself, with no engine: given a policy, a
failure and the attempt number, retry in so many seconds, or give up because
the failure is not transient (``"discarded"``), the attempts are spent
(``"exhausted"``), or the policy's `outcome.RetryBudget` cannot pay for the
retry (``"budget"``). The engine integrations (`outcome.integrations.huey`,
`outcome.integrations.celery`) call it in the worker, on the original
exception, before the engine serialises anything: a hook never sees the
stripped copy that Celery hands its own ``on_failure``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import logging
import random as _random
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, TypedDict, cast, final

import attrs

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._classify.decision import Decision
from outcome._errors.collection import Errors, GraphQLUserError
from outcome._errors.detail import ErrorDetail
from outcome._result import Err
from outcome._retry import RetryPolicy, _mark_retried

__all__ = [
    "GiveUp",
    "GiveUpReason",
    "JobEvent",
    "JobFailed",
    "JobPolicy",
    "JobState",
    "JobStatus",
    "RetryIn",
    "death_handlers",
    "plan_failure",
]

JobState: TypeAlias = Literal["queued", "running", "retrying", "succeeded", "failed"]
"""Where a job is: the ``state`` of a `JobEvent`."""

GiveUpReason: TypeAlias = Literal["discarded", "exhausted", "budget"]
"""Why a job gave up: not worth retrying, out of attempts, or its retry budget empty."""

Hook: TypeAlias = Callable[["JobEvent"], object]

_LOG: Final = logging.getLogger("outcome.jobs")

death_handlers: list[Hook] = []
"""
Functions run for every job that gives up, after the job's own ``on_give_up``.

Append to it at start-up, as with Sidekiq's ``death_handlers``. A handler that
raises is logged with its traceback and stops neither the others nor the job.

.. versionadded:: 0.1.0
"""


def _check_hook(
    _policy: object, attribute: attrs.Attribute[Hook | None], value: Hook | None
) -> None:
    if value is not None and not callable(cast("object", value)):
        msg = f"JobPolicy {attribute.name} must be callable or None, not {value!r}"
        raise TypeError(msg)


def _check_retry(
    _policy: object, _attribute: attrs.Attribute[RetryPolicy], value: RetryPolicy
) -> None:
    if type(cast("object", value)) is not RetryPolicy:
        msg = (
            f"JobPolicy retry must be a RetryPolicy, not {value!r}; e.g. "
            "JobPolicy(retry=RetryPolicy(attempts=5))"
        )
        raise TypeError(msg)


def _check_classifier(
    _policy: object,
    _attribute: attrs.Attribute[Classifier | None],
    value: Classifier | None,
) -> None:
    if value is not None and not isinstance(cast("object", value), Classifier):
        msg = f"JobPolicy classifier must be a Classifier or None, not {value!r}"
        raise TypeError(msg)


@final
@attrs.frozen
class JobPolicy:
    """
    How a job is retried across its whole life, and who hears how it is going.

    Attributes:
        retry: Attempts (the first one included, counted across the job's whole
            life, not per process), backoff with full jitter and the largest
            backoff. The server's own wait (Retry-After) is honoured when it is
            longer than the backoff. In a job a wait is a countdown in the
            queue, never a sleep in the worker, so `RetryPolicy.max_retry_after`
            does not apply; the engine's own limit does (see
            `outcome.integrations.celery`). With a `outcome.RetryBudget` on
            it, each retry takes its tokens from the budget, each success
            gives some back, and a job whose retry the budget cannot pay for
            gives up with the reason ``"budget"``.
        classifier: Decides what is transient; `DEFAULT_CLASSIFIER` if `None`.
        on_retry: Called with each failure that will be retried.
        on_give_up: Called once when the job has failed for good.
        on_status: Called at every change of state: queued, running, retrying,
            succeeded, failed.

    >>> from outcome import RetryPolicy
    >>> from outcome.jobs import JobPolicy
    >>> policy = JobPolicy(retry=RetryPolicy(attempts=5, max_delay=600.0))
    >>> policy.retry.attempts
    5

    Raises:
        TypeError: When `retry` is not a `RetryPolicy`, `classifier` not a
            `Classifier`, or a hook is not callable.

    .. versionadded:: 0.1.0
    """

    retry: RetryPolicy = attrs.field(factory=RetryPolicy, validator=_check_retry)
    classifier: Classifier | None = attrs.field(
        default=None, validator=_check_classifier
    )
    on_retry: Hook | None = attrs.field(default=None, validator=_check_hook)
    on_give_up: Hook | None = attrs.field(default=None, validator=_check_hook)
    on_status: Hook | None = attrs.field(default=None, validator=_check_hook)


class JobStatus(TypedDict):
    """
    The JSON-safe summary of a `JobEvent`, as stored for API subscribers.

    It holds nothing a user must not see: no arguments, and the errors as
    `Errors.to_graphql` renders them, programmer errors redacted to their
    reference.
    """

    job_id: str
    job_name: str
    state: JobState
    attempt: int
    retry_in: float | None
    reason: GiveUpReason | None
    kind: str | None
    bucket: str | None
    errors: list[GraphQLUserError]


def _read_only(kwargs: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(kwargs))


@final
@attrs.frozen
class JobEvent:
    """
    What every job hook receives: which job, which attempt, and what happened.

    Attributes:
        job_name: The task's name, as the engine knows it.
        job_id: The job's id, the same on every attempt.
        args: The job's positional arguments.
        kwargs: The job's keyword arguments (read-only).
        attempt: Which attempt this is, counted from 1 across the job's life.
        state: ``"queued"``, ``"running"``, ``"retrying"``, ``"succeeded"`` or
            ``"failed"``.
        decision: What the classifier said about the failure, or `None`.
        errors: The failure as user-safe `Errors`: serialise it for a user;
            programmer errors show only their reference.
        retry_in: Seconds until the next attempt, when retrying.
        reason: ``"discarded"`` (not transient), ``"exhausted"`` (out of
            attempts) or ``"budget"`` (its retry budget empty) when the job
            gave up, else `None`.
        capped: The server asked to wait longer than the engine can keep a
            job waiting, and `retry_in` is that limit instead.

    >>> from outcome.jobs import JobEvent
    >>> event = JobEvent("capture", "j-1", ("A-17",), {}, 1, "running")
    >>> event.to_status()["state"]
    'running'

    .. versionadded:: 0.1.0
    """

    job_name: str
    job_id: str
    args: tuple[object, ...]
    kwargs: Mapping[str, object] = attrs.field(converter=_read_only)
    attempt: int
    state: JobState
    decision: Decision | None = None
    errors: Errors = attrs.field(factory=Errors, eq=False)
    retry_in: float | None = None
    reason: GiveUpReason | None = None
    capped: bool = False

    def to_status(self) -> JobStatus:
        """
        Return the JSON-safe summary stored for API subscribers.

        >>> from outcome import Errors
        >>> from outcome.jobs import JobEvent
        >>> errors = Errors()
        >>> _ = errors.add("card", "declined")
        >>> event = JobEvent(
        ...     "capture", "j-1", (), {}, 2, "failed", errors=errors, reason="discarded"
        ... )
        >>> event.to_status()
        {'job_id': 'j-1', 'job_name': 'capture', 'state': 'failed', 'attempt': 2,
         'retry_in': None, 'reason': 'discarded', 'kind': None, 'bucket': None,
         'errors': [{'field': ['card'], 'message': 'Card was declined',
                     'code': 'declined'}]}
        """
        decision = self.decision
        return {
            "job_id": self.job_id,
            "job_name": self.job_name,
            "state": self.state,
            "attempt": self.attempt,
            "retry_in": self.retry_in,
            "reason": self.reason,
            "kind": None if decision is None else decision.kind,
            "bucket": None if decision is None else decision.bucket.value,
            "errors": self.errors.to_graphql(),
        }


@final
@attrs.frozen
class RetryIn:
    """
    `plan_failure`'s answer: try again in `seconds`.

    Attributes:
        seconds: The countdown: the policy's backoff, or the server's wait when
            that is longer, capped at the engine's limit.
        decision: What the classifier said about the failure.
        capped: The server's wait was longer than the limit given.

    .. versionadded:: 0.1.0
    """

    seconds: float
    decision: Decision
    capped: bool = False


@final
@attrs.frozen
class GiveUp:
    """
    `plan_failure`'s answer: stop trying.

    Attributes:
        reason: ``"discarded"``: waiting will not help; ``"exhausted"``: it
            might, but the attempts are spent; ``"budget"``: it might, but
            the policy's `outcome.RetryBudget` cannot pay for the retry.
        decision: What the classifier said about the failure.

    .. versionadded:: 0.1.0
    """

    reason: GiveUpReason
    decision: Decision


def plan_failure(
    policy: JobPolicy,
    failure: BaseException | Err[object],
    attempt: int,
    *,
    longest_wait: float | None = None,
    random: Callable[[], float] = _random.random,
) -> RetryIn | GiveUp:
    """
    Decide what a job does after `failure` ended attempt number `attempt`.

    A failure that is not transient gives up at once (``"discarded"``); a
    transient one is retried while attempts remain, in the policy's backoff or
    the server's wait (Retry-After, with a small jitter added: see
    `outcome.RetryPolicy.delay`), whichever is longer; after the last
    attempt it gives up (``"exhausted"``). With `longest_wait`, a longer wait
    is cut to it and the answer says ``capped``. When the retry policy has a
    `outcome.RetryBudget`, a retry takes its tokens from it, and when the
    budget cannot pay, the job gives up (``"budget"``): the tokens are taken
    here, so call it once per failure.

    >>> from outcome import RetryPolicy
    >>> from outcome.jobs import JobPolicy, plan_failure
    >>> policy = JobPolicy(retry=RetryPolicy(attempts=3, base_delay=2.0))
    >>> plan_failure(policy, TimeoutError("gateway"), 1, random=lambda: 1.0)
    RetryIn(seconds=2.0, decision=..., capped=False)
    >>> plan_failure(policy, TimeoutError("gateway"), 3).reason
    'exhausted'
    >>> plan_failure(policy, KeyError("sku"), 1).reason
    'discarded'
    >>> from outcome import RetryBudget
    >>> budget = RetryBudget(capacity=14)
    >>> policy = JobPolicy(retry=RetryPolicy(attempts=3, budget=budget))
    >>> plan_failure(policy, TimeoutError("gateway"), 1).seconds < 1.0
    True
    >>> plan_failure(policy, TimeoutError("gateway"), 1).reason
    'budget'

    Raises:
        TypeError: When `policy` is not a `JobPolicy`.
        ValueError: When `attempt` is less than 1 or `longest_wait` is not a
            number of seconds above 0.

    .. versionadded:: 0.1.0
    """
    if type(cast("object", policy)) is not JobPolicy:  # callers may be untyped
        msg = f"plan_failure() takes a JobPolicy, not {policy!r}"
        raise TypeError(msg)
    if type(attempt) is not int or attempt < 1:
        msg = f"attempt counts from 1, got {attempt!r}"
        raise ValueError(msg)
    if longest_wait is not None and not (
        type(longest_wait) in (int, float) and longest_wait > 0
    ):
        msg = f"longest_wait must be a number of seconds above 0, not {longest_wait!r}"
        raise ValueError(msg)
    decision = (policy.classifier or DEFAULT_CLASSIFIER).classify(failure)
    if not decision.transient:
        return GiveUp("discarded", decision)
    if attempt >= policy.retry.attempts:
        return GiveUp("exhausted", decision)
    seconds = policy.retry.delay(attempt, decision, random)
    budget = policy.retry.budget
    if budget is not None and not budget.take(budget.cost_of(decision)):
        return GiveUp("budget", decision)
    if longest_wait is not None and seconds > longest_wait:
        return RetryIn(float(longest_wait), decision, capped=True)
    return RetryIn(seconds, decision)


def _errors_of(failure: object, decision: Decision, classifier: Classifier) -> Errors:
    """The failure as user-safe Errors: an Err's own, or one made from it."""
    value = cast("Err[object]", failure).err_value if type(failure) is Err else failure
    if type(value) is Errors and value:
        return value
    if type(value) is ErrorDetail:
        return Errors([value])
    errors = Errors()
    if isinstance(value, BaseException):
        errors.add_exception(value, classifier=classifier)
    else:
        errors.add(None, decision.kind or "bug", bucket=decision.bucket)
    return errors


def _call_hook(hook: Hook | None, event: JobEvent) -> None:
    """Call a hook; what it raises is logged, never allowed to change the job."""
    if hook is None:
        return
    try:
        hook(event)
    except Exception:  # noqa: BLE001 - a hook's failure is reported, never the job's
        _LOG.exception(
            "a job hook %r raised for job %s (%s)", hook, event.job_id, event.job_name
        )


def _plain_status(job_id: str, name: str, state: JobState, attempt: int) -> JobStatus:
    """The status of a state with no failure, made without an event."""
    return {
        "job_id": job_id,
        "job_name": name,
        "state": state,
        "attempt": attempt,
        "retry_in": None,
        "reason": None,
        "kind": None,
        "bucket": None,
        "errors": [],
    }


def _store_status(
    publish: Callable[[JobStatus], object], status: JobStatus, job_id: str
) -> None:
    """Store `status`; the store failing is logged, never allowed to fail the job."""
    try:
        publish(status)
    except Exception:  # noqa: BLE001 - the status store failing must not fail the job
        _LOG.exception("could not store the status of job %s", job_id)


_Store: TypeAlias = Callable[[str, JobStatus], object]
"""Where an engine keeps statuses: called with a key and the status."""


def _store_plainly(  # noqa: PLR0913, PLR0917 - the key and what identifies the state
    store: _Store, key: str, job_id: str, name: str, state: JobState, attempt: int
) -> None:
    """
    Store under `key` the status of a state with no failure, with no attempt.

    For an engine integration whose policy has no ``on_status`` to hear the
    state (and, on a success, no budget to refund): the status is all there
    is to do, and the failing store is logged as `_store_status` does.
    """
    try:
        store(key, _plain_status(job_id, name, state, attempt))
    except Exception:  # noqa: BLE001 - the status store failing must not fail the job
        _LOG.exception("could not store the status of job %s", job_id)


def _quiet(policy: JobPolicy) -> bool:
    """No hook hears a state with no failure, and no budget takes a refund."""
    return policy.on_status is None and policy.retry.budget is None


def _queued(  # noqa: PLR0913, PLR0917 - what identifies the job, and where it goes
    policy: JobPolicy,
    name: str,
    job_id: str,
    args: Iterable[object],
    kwargs: Mapping[str, object],
    store: _Store,
    key: str,
) -> None:
    """Store that a new job is queued; make its attempt only if on_status hears."""
    if policy.on_status is None:
        _store_plainly(store, key, job_id, name, "queued", 1)
    else:
        publish = functools.partial(store, key)
        _Job(policy, name, job_id, tuple(args), dict(kwargs), 1, publish).queued()


class _Job:
    """
    One attempt of one job, as the engine integrations drive it.

    `publish` stores the latest status where the engine keeps results. The
    events of states with no failure are built only when ``on_status`` is
    set, and their statuses only when stored or read: a success costs its
    writes and little more.
    """

    __slots__ = (
        "_last",
        "args",
        "attempt",
        "job_id",
        "kwargs",
        "name",
        "policy",
        "publish",
    )

    def __init__(  # noqa: PLR0913, PLR0917 - what identifies the attempt
        self,
        policy: JobPolicy,
        name: str,
        job_id: str,
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        attempt: int,
        publish: Callable[[JobStatus], object],
    ) -> None:
        self.policy = policy
        self.name = name
        self.job_id = job_id
        self.args = args
        self.kwargs = kwargs
        self.attempt = attempt
        self.publish = publish
        # A state alone stands for its plain status, made when it is read.
        self._last: JobStatus | JobState = "queued"

    @property
    def last_status(self) -> JobStatus:
        """The latest status of the attempt, stored or not."""
        last = self._last
        if isinstance(last, str):
            return _plain_status(self.job_id, self.name, last, self.attempt)
        return last

    def event(  # noqa: PLR0913 - one argument per field of the event
        self,
        state: JobState,
        *,
        decision: Decision | None = None,
        errors: Errors | None = None,
        retry_in: float | None = None,
        reason: GiveUpReason | None = None,
        capped: bool = False,
    ) -> JobEvent:
        """A JobEvent of this attempt."""
        return JobEvent(
            self.name,
            self.job_id,
            self.args,
            self.kwargs,
            self.attempt,
            state,
            decision,
            Errors() if errors is None else errors,
            retry_in,
            reason,
            capped,
        )

    def changed(self, event: JobEvent) -> None:
        """Store the new status, then tell on_status."""
        status = event.to_status()
        self._last = status
        _store_status(self.publish, status, self.job_id)
        _call_hook(self.policy.on_status, event)

    def _plainly(self, state: JobState, *, store: bool) -> None:
        """
        Tell a state with no failure; build its event only if a hook wants it.

        With `store` false the status is not stored: the engine's own record
        of the task says it, and `job_status` reads it from there.
        """
        if store:
            status = _plain_status(self.job_id, self.name, state, self.attempt)
            self._last = status
            _store_status(self.publish, status, self.job_id)
        else:
            self._last = state
        on_status = self.policy.on_status
        if on_status is not None:
            _call_hook(on_status, self.event(state))

    def queued(self) -> None:
        """The job was put on the queue."""
        self._plainly("queued", store=True)

    def running(self, *, store: bool = True) -> None:
        """The attempt started."""
        self._plainly("running", store=store)

    def succeeded(self, *, store: bool = True) -> None:
        """
        The attempt succeeded: give tokens back to the retry budget, if any.

        A first attempt gives back the budget's ``success_refund``; a later one
        its ``retry_cost``, what an ordinary retry took, since the retry that
        led to it may have been planned in another worker.
        """
        budget = self.policy.retry.budget
        if budget is not None:
            retried = None if self.attempt == 1 else budget.retry_cost
            budget._succeeded(retried)  # noqa: SLF001 - a friend
        self._plainly("succeeded", store=store)

    def failed(
        self, failure: BaseException | Err[object], *, longest_wait: float | None
    ) -> RetryIn | GiveUp:
        """Plan what follows the failure, and tell every hook that must hear."""
        step = plan_failure(
            self.policy, failure, self.attempt, longest_wait=longest_wait
        )
        classifier = self.policy.classifier or DEFAULT_CLASSIFIER
        errors = _errors_of(failure, step.decision, classifier)
        # Before the hooks, so that what they log or report is known as retried.
        _mark_retried(failure, retried=isinstance(step, RetryIn))
        if isinstance(step, RetryIn):
            event = self.event(
                "retrying",
                decision=step.decision,
                errors=errors,
                retry_in=step.seconds,
                capped=step.capped,
            )
            _call_hook(self.policy.on_retry, event)
            self.changed(event)
            return step
        event = self.event(
            "failed", decision=step.decision, errors=errors, reason=step.reason
        )
        self.changed(event)
        _call_hook(self.policy.on_give_up, event)
        for handler in death_handlers:
            _call_hook(handler, event)
        return step


class JobFailed(Exception):  # noqa: N818 - what happened to the job, not an error of ours
    """
    A job gave up on an expected failure: a user must be told, nothing to fix.

    The engine integrations raise it in place of the original exception when a
    job gives up on a failure that is not a programmer error, so that the
    engine logs it below ERROR and error trackers skip it. Its message and
    `status` are user-safe; the original exception is its ``__cause__``, in
    the worker only.

    .. versionadded:: 0.1.0
    """

    def __init__(self, message: str, status: JobStatus) -> None:
        """Make the exception; both arguments are JSON-safe, as Celery stores them."""
        super().__init__(message, status)
        self.status = status

    @classmethod
    def gave_up(cls, status: JobStatus) -> JobFailed:
        """
        Make the exception from the job's last status, with a user-safe message.

        >>> from outcome.jobs import JobEvent, JobFailed
        >>> status = JobEvent("capture", "j-1", (), {}, 3, "failed").to_status()
        >>> str(JobFailed.gave_up(status))
        'job capture j-1 gave up (failed: failure)'
        """
        reason = status["reason"] or "failed"
        kind = status["kind"] or "failure"
        return cls(
            f"job {status['job_name']} {status['job_id']} gave up ({reason}: {kind})",
            status,
        )

    def __str__(self) -> str:
        """The message alone, not the status beside it."""
        return str(self.args[0])

    def __outcome_decision__(self) -> Decision:
        """
        Decide as the job did: its status's bucket and kind, not transient.

        So a `JobFailed` that reaches an API (``AsyncResult.get()`` raises it,
        as does an eager run) answers as the failure it gave up on, and an
        error tracker's filter does not take it for a bug.

        >>> from outcome import classify
        >>> from outcome.jobs import JobEvent
        >>> status = JobEvent("capture", "j-1", (), {}, 3, "failed").to_status()
        >>> status["bucket"], status["kind"] = "user_visible", "quota"
        >>> decision = classify(JobFailed.gave_up(status))
        >>> decision.bucket.name, decision.kind, decision.transient
        ('USER_VISIBLE', 'quota', False)
        """
        bucket, kind = self.status.get("bucket"), self.status.get("kind")
        try:
            decided = Bucket(bucket)
        except (TypeError, ValueError):
            decided = Bucket.USER_VISIBLE
        if not isinstance(kind, str) or not kind:
            kind = "job_failed"
        return Decision(decided, transient=False, kind=kind)


def _is_bug(decision: Decision) -> bool:
    return decision.bucket is Bucket.PROGRAMMER_ERROR


def _check_declaration(
    declare: str,
    engine: str,
    policy: object,
    options: Iterable[str],
    owned: frozenset[str],
) -> None:
    """
    Refuse, where a job is declared, what an engine integration cannot take.

    `policy` must be a `JobPolicy` (callers may be untyped), and none of the
    engine's own retry options in `owned` may be among `options`: the policy
    owns retrying.
    """
    if type(policy) is not JobPolicy:
        msg = f"{declare}() takes policy=JobPolicy(...), not {policy!r}"
        raise TypeError(msg)
    taken = sorted(owned.intersection(options))
    if taken:
        msg = (
            f"{declare}() does not take {engine}'s {', '.join(taken)}: the "
            "JobPolicy owns retrying (JobPolicy(retry=RetryPolicy(attempts=...)))"
        )
        raise TypeError(msg)
