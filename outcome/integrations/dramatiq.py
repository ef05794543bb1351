"""
Dramatiq: actors that retry through the broker, give up once, and report their status.

`actor` makes a Dramatiq actor of a function under a `JobPolicy`. Each failure
is classified in the worker, on the original exception.

- A transient failure is retried with ``dramatiq.Retry(delay=...)``: the broker
  holds the message in its delay queue for the policy's backoff or the
  server's wait (Retry-After), whichever is longer, never a sleep in the
  worker; the Retries middleware logs it at INFO. Attempts are counted across
  the job's whole life in the message's own ``retries`` option, which the
  Retries middleware carries with the message through every retry. A wait is
  cut to 7 days, the longest Dramatiq delays a message (the event says
  ``capped``). The function raises its failure, never ``dramatiq.Retry``: a
  Retry of its own fails the job as a `TypeError` that says so.
- The actor's ``retry_when`` is the integration's own: it retries what the
  policy retries and nothing else. A ``retry_when`` overrides ``max_retries``
  in Dramatiq, so neither the middleware's ``max_retries`` (20 by default)
  nor its ``retry_when`` can add retries beyond the policy's or cut them
  short. Dramatiq's own retry options are refused when the actor is declared.
- A failure that is not transient, or the last one, gives up at once. An
  expected failure is raised as `outcome.jobs.JobFailed`, which the actor
  ``throws``: Dramatiq logs it at INFO and fails the message without a retry.
  A programmer error fails the message with itself, logged at ERROR with its
  traceback, once (the Retries middleware adds a WARNING without one).
- ``on_give_up`` and the death handlers run in the attempt that gives up, so
  once per job. Dramatiq's ``on_failure`` callback runs after every failed
  attempt and cannot tell the last; ``on_retry_exhausted`` is never sent for a
  discard.
- What the function never saw, such as the ``Shutdown`` that a stopping worker
  raises in it, is left to Dramatiq, which requeues the message. The time
  limit's ``TimeLimitExceeded`` is a failure of the job, classified as a
  timeout: retried, then given up as exhausted.

The latest status of each job is stored in the backend of the broker's
`Results` middleware, JSON-safe, whether or not the actor stores its results;
`job_status` reads it by message id. A status in flight is kept 8 days, the
longest a job can wait plus a day; a final one as long as the actor's results
(``result_ttl``, 10 minutes by default). With no `Results` middleware, nothing
is stored.

>>> import dramatiq
>>> from dramatiq.brokers.stub import StubBroker
>>> from dramatiq.results import Results
>>> from dramatiq.results.backends import StubBackend
>>> from outcome import RetryPolicy
>>> from outcome.jobs import JobPolicy
>>> from outcome.integrations.dramatiq import actor, job_status
>>> broker = StubBroker()
>>> broker.add_middleware(Results(backend=StubBackend()))
>>> captured: list[str] = []
>>> @actor(broker=broker, policy=JobPolicy(retry=RetryPolicy(attempts=3)))
... def capture(order: str) -> None:
...     captured.append(order)
>>> message = capture.send("A-17")
>>> worker = dramatiq.Worker(broker, worker_timeout=50)
>>> worker.start()
>>> broker.join(capture.queue_name)
>>> worker.stop()
>>> captured
['A-17']
>>> job_status(broker, message.message_id)["state"]
'succeeded'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
from typing import TYPE_CHECKING, Any, Final, ParamSpec, Protocol, TypeVar, cast

from outcome._result import Err
from outcome.jobs import (
    JobFailed,
    JobPolicy,
    JobStatus,
    RetryIn,
    _check_declaration,
    _is_bug,
    _Job,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, MutableMapping

    from dramatiq import Actor, Broker
    from dramatiq.middleware import Middleware

__all__ = ["actor", "job_status"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Dramatiq's own retry options: the JobPolicy owns retrying.
_OWNED_OPTIONS: Final = frozenset(
    {"max_retries", "min_backoff", "max_backoff", "retry_when", "on_retry_exhausted"}
)
# The longest Dramatiq delays a message (its DEFAULT_MAX_BACKOFF), in seconds.
_LONGEST_WAIT: Final = 7 * 86400.0
# A status in flight outlives the longest wait; milliseconds, as Dramatiq counts.
_IN_FLIGHT_TTL: Final = 8 * 86_400_000
_FINAL: Final = frozenset({"failed", "succeeded"})
# Set on a message when its job is first enqueued: a retry or a delayed message
# moved to its queue is enqueued again, and is not queued anew.
_QUEUED: Final = "outcome_queued"
# Status keys are built as result keys are, from a message of their own kind.
_STATUS_QUEUE: Final = "outcome"
_STATUS_ACTOR: Final = "job_status"
_STATUS_PREFIX: Final = "outcome-status:"


class _Message(Protocol):
    """What the integration reads of a message (or the worker's proxy of one)."""

    @property
    def actor_name(self) -> str:
        """The actor's name."""
        ...

    @property
    def message_id(self) -> str:
        """The job's id, the same on every attempt."""
        ...

    @property
    def args(self) -> tuple[Any, ...]:
        """The positional arguments."""
        ...

    @property
    def kwargs(self) -> Mapping[str, Any]:
        """The keyword arguments."""
        ...

    @property
    def options(self) -> MutableMapping[str, Any]:
        """The options, ``retries`` among them."""
        ...


class _Backend(Protocol):
    def store_result(self, message: object, result: object, ttl: int) -> None:
        """Store a result for a message."""
        ...

    def get_result(self, message: object) -> object:
        """Read a message's result; raises ResultMissing."""
        ...


class _Results(Protocol):
    backend: _Backend
    result_ttl: int


# The message the worker thread is processing, set by the middleware below.
_CURRENT: Final[contextvars.ContextVar[_Message | None]] = contextvars.ContextVar(
    "outcome_dramatiq_message", default=None
)


class _Engine:
    """What the integration needs of Dramatiq, imported once, when first needed."""

    def __init__(self) -> None:
        import dramatiq  # noqa: PLC0415 - optional
        from dramatiq.middleware import Middleware, Retries  # noqa: PLC0415
        from dramatiq.middleware.time_limit import TimeLimitExceeded  # noqa: PLC0415
        from dramatiq.results import ResultMissing, Results  # noqa: PLC0415

        self.dramatiq = dramatiq
        self.message: Callable[..., object] = dramatiq.Message
        self.retries: type[object] = Retries
        self.results: type[object] = Results
        self.missing: type[Exception] = ResultMissing
        self.time_limit: type[BaseException] = TimeLimitExceeded

        class PolicyRetry(dramatiq.Retry):
            """A retry the policy decided on: the only kind ``retry_when`` allows."""

            # As logs and tracebacks name it, rather than by this function.
            __qualname__ = "_PolicyRetry"

        self.retry = PolicyRetry
        self.middleware = _middleware_class(Middleware)


@functools.cache
def _engine() -> _Engine:
    return _Engine()


def _middleware_class(base: type[Middleware]) -> type[_Statuses]:
    """The middleware that tells "queued" and lets an actor find its message."""

    class Statuses(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            self.policies: dict[str, tuple[JobPolicy, int | None]] = {}

        def before_enqueue(
            self, broker: Broker, message: _Message, delay: int | None
        ) -> None:
            """Tell "queued" when a job is first enqueued, before the broker has it."""
            del delay
            declared = self.policies.get(message.actor_name)
            if declared is None or message.options.get(_QUEUED):
                return
            message.options[_QUEUED] = True
            _job(broker, declared[0], message, 1, declared[1]).queued()

        def before_process_message(self, broker: Broker, message: _Message) -> None:
            """Remember the message, for its actor to read."""
            del broker
            _CURRENT.set(message)

        def after_process_message(
            self,
            broker: Broker,
            message: _Message,
            *,
            result: object = None,
            exception: BaseException | None = None,
        ) -> None:
            """Forget the message."""
            del broker, message, result, exception
            _CURRENT.set(None)

        def after_skip_message(self, broker: Broker, message: _Message) -> None:
            """Forget the message."""
            del broker, message
            _CURRENT.set(None)

    return cast("type[_Statuses]", Statuses)


class _Statuses(Protocol):
    policies: dict[str, tuple[JobPolicy, int | None]]


def actor(
    *, policy: JobPolicy, **actor_options: object
) -> Callable[[Callable[_P, _R]], Actor[_P, _R]]:
    """
    Make a Dramatiq actor of a function, retried and reported under `policy`.

    The keywords are ``dramatiq.actor``'s own (``broker``, ``actor_name``,
    ``queue_name``, ``priority``, ``throws``, ``time_limit``, ...), except
    those of Dramatiq's retrying: ``max_retries``, ``min_backoff``,
    ``max_backoff``, ``retry_when`` and ``on_retry_exhausted``. With no
    ``broker``, the actor is declared on ``dramatiq.get_broker()``.

    Raises:
        TypeError: When `policy` is not a `outcome.jobs.JobPolicy`, one of
            Dramatiq's retry options is given, or the function is a coroutine
            function.
        ValueError: When the broker has no ``Retries`` middleware, which
            retries, or the policy's largest backoff is longer than the 7
            days Dramatiq can delay a message.

    .. versionadded:: 0.1.0
    """
    _check_declaration("actor", "Dramatiq", policy, actor_options, _OWNED_OPTIONS)
    if policy.retry.max_delay > _LONGEST_WAIT:
        msg = (
            f"the policy's max_delay of {policy.retry.max_delay:g} s is longer than "
            f"the {_LONGEST_WAIT:g} s (7 days) Dramatiq can delay a message: "
            "lower max_delay"
        )
        raise ValueError(msg)
    engine = _engine()
    options = dict(actor_options)
    broker = cast("Broker | None", options.pop("broker", None))
    if broker is None:
        broker = engine.dramatiq.get_broker()
    if not any(isinstance(m, engine.retries) for m in broker.middleware):
        msg = (
            f"the broker {broker!r} has no Retries middleware, so nothing would "
            "retry: keep Dramatiq's default middleware, or add "
            "dramatiq.middleware.Retries()"
        )
        raise ValueError(msg)
    throws = cast(
        "type[BaseException] | tuple[type[BaseException], ...]",
        options.pop("throws", ()),
    )
    throws = throws if isinstance(throws, tuple) else (throws,)
    statuses = _statuses(broker, engine)
    result_ttl = cast("int | None", options.get("result_ttl"))

    def decorator(fn: Callable[_P, _R]) -> Actor[_P, _R]:
        if inspect.iscoroutinefunction(fn):
            msg = (
                f"actor() takes a plain function, not the coroutine function {fn!r}: "
                "the policy drives synchronous attempts"
            )
            raise TypeError(msg)
        name = cast("str", options.get("actor_name") or fn.__name__)

        run = _attempts(fn, name, broker, engine, policy, result_ttl)
        declare = engine.dramatiq.actor(
            broker=broker,
            throws=(*throws, JobFailed),
            retry_when=_retry_when,
            **cast("dict[str, Any]", options),
        )
        declared: Actor[_P, _R] = declare(run)
        statuses.policies[declared.actor_name] = (policy, result_ttl)
        return declared

    return decorator


def _attempts(  # noqa: PLR0913, PLR0917 - what an attempt needs
    fn: Callable[_P, _R],
    name: str,
    broker: Broker,
    engine: _Engine,
    policy: JobPolicy,
    result_ttl: int | None,
) -> Callable[_P, _R]:
    """The function the actor runs: an attempt of the job, in the worker."""

    # One attempt, in one frame: the worker formats the traceback of
    # every retry, and each frame of it costs a parse of its line.
    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        message = _CURRENT.get()
        if message is None or message.actor_name != name:
            return fn(*args, **kwargs)  # called directly: a call, not a job
        job = _job(broker, policy, message, _attempt(message), result_ttl)
        job.running()
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            if not isinstance(exc, (Exception, engine.time_limit)):
                raise  # not the job's failure: see _retry_when
            if isinstance(exc, engine.dramatiq.Retry):
                raise _own_retry(job, fn, exc) from exc
            step = job.failed(exc, longest_wait=_LONGEST_WAIT)
            if isinstance(step, RetryIn):
                raise _retry(engine, step.seconds) from None
            if _is_bug(step.decision):
                raise
            # Not chained: the result backend would keep the cause's text.
            raise JobFailed.gave_up(job.last_status) from None
        if type(value) is Err:
            step = job.failed(cast("Err[object]", value), longest_wait=_LONGEST_WAIT)
            if isinstance(step, RetryIn):
                raise _retry(engine, step.seconds)
            raise JobFailed.gave_up(job.last_status)
        job.succeeded()
        return value

    return run


def _statuses(broker: Broker, engine: _Engine) -> _Statuses:
    """The broker's middleware of this integration, added the first time."""
    for middleware in broker.middleware:
        if isinstance(middleware, engine.middleware):
            return cast("_Statuses", middleware)
    added = engine.middleware()
    broker.add_middleware(cast("Middleware", added))
    return added


def _retry_when(retries: int, exception: BaseException) -> bool:
    """
    Retry what the policy retries, and what the function never saw.

    Every exception the function raised was planned in the attempt: a retry
    is raised as the engine's PolicyRetry, anything else gave up. What is left
    (the worker's Shutdown, a KeyboardInterrupt) is no failure of the job, and
    Dramatiq requeues it as it would without the integration.
    """
    del retries
    engine = _engine()
    if isinstance(exception, engine.retry):
        return True
    return not isinstance(exception, (Exception, engine.time_limit))


def _attempt(message: _Message) -> int:
    """The attempt's number: the Retries middleware counts each failure it handles."""
    return int(message.options.get("retries") or 0) + 1


def _own_retry(job: _Job, fn: Callable[..., object], retry: BaseException) -> TypeError:
    """
    The bug of a function that raised dramatiq.Retry itself, given up on.

    Dramatiq logs no Retry: raised as it is, the mistake would fail the job
    with nothing at ERROR.
    """
    msg = (
        f"{fn.__qualname__} raised dramatiq.Retry ({retry}) under a JobPolicy, "
        "which decides what is retried: raise the failure itself instead"
    )
    bug = TypeError(msg)
    job.failed(bug, longest_wait=_LONGEST_WAIT)
    return bug


def _retry(engine: _Engine, seconds: float) -> BaseException:
    """The Retry that has the message delayed `seconds`, in whole milliseconds."""
    return engine.retry(
        f"retrying in {seconds:.3f} s, as the job policy decided",
        delay=math.ceil(seconds * 1000),
    )


def _job(
    broker: Broker,
    policy: JobPolicy,
    message: _Message,
    attempt: int,
    result_ttl: int | None,
) -> _Job:
    job_id = message.message_id
    results = _results(broker)
    return _Job(
        policy,
        message.actor_name,
        job_id,
        tuple(message.args),
        dict(message.kwargs),
        attempt,
        _unkept if results is None else _keeper(results, job_id, result_ttl),
    )


def _unkept(status: JobStatus) -> None:
    """With no Results middleware, a status is told but not kept."""
    del status


def _keeper(
    results: _Results, job_id: str, result_ttl: int | None
) -> Callable[[JobStatus], None]:
    """Store the statuses of job `job_id` through the results backend."""
    key = _status_message(job_id)
    final_ttl = results.result_ttl if result_ttl is None else result_ttl

    def publish(status: JobStatus) -> None:
        ttl = final_ttl if status["state"] in _FINAL else _IN_FLIGHT_TTL
        results.backend.store_result(key, status, ttl)

    return publish


def _results(broker: Broker) -> _Results | None:
    """The broker's Results middleware, if it has one."""
    results = _engine().results
    for middleware in broker.middleware:
        if isinstance(middleware, results):
            return cast("_Results", middleware)
    return None


def _status_message(job_id: str) -> object:
    """
    A message of its own for the status of job `job_id`.

    The backend keys results by queue, actor and message id; no message of a
    job has this id, which a status key cannot share with a result's.
    """
    return _engine().message(
        queue_name=_STATUS_QUEUE,
        actor_name=_STATUS_ACTOR,
        args=(),
        kwargs={},
        options={},
        message_id=_STATUS_PREFIX + job_id,
        message_timestamp=0,
    )


def job_status(broker: Broker, job_id: str) -> JobStatus | None:
    """
    Return the latest status of the job `job_id`, or `None` if none is kept.

    `job_id` is the message id (``actor.send(...).message_id``).

    Raises:
        ValueError: When the broker has no `Results` middleware, so no status
            is kept.

    .. versionadded:: 0.1.0
    """
    results = _results(broker)
    if results is None:
        msg = (
            "job_status() reads the Results middleware's backend, and this broker "
            "has none: broker.add_middleware(Results(backend=...)) to keep job "
            "statuses"
        )
        raise ValueError(msg)
    try:
        status = results.backend.get_result(_status_message(job_id))
    except _engine().missing:
        return None
    return cast("JobStatus", status)
