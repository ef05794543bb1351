"""
RQ: jobs that retry through the scheduler, give up once, and report their status.

`job` makes an RQ job of a function under a `JobPolicy`, as RQ's own ``job``
decorator does: enqueue it with ``capture.enqueue(...)``; called directly it
is a plain call. Each failure is classified in the worker, on the original
exception.

- A transient failure is retried by returning ``rq.Retry(max=...,
  interval=...)``, RQ's own way for a job to retry itself: RQ's scheduler
  holds the job for the policy's backoff or the server's wait (Retry-After),
  whichever is longer, never a sleep in the worker, and logs it at INFO. RQ's
  scheduler keeps whole seconds, cut down, so that a retry "in 1 s" can run
  0.1 s later: the integration asks for a second more than the wait, rounded
  up, so a server's Retry-After is never cut short. Workers must run the
  scheduler (``rq worker --with-scheduler``), or a job waiting for its retry
  waits for good. Attempts are counted across the job's whole life in RQ's
  own ``number_of_retries``, which grows by one at each returned retry.
- A failure that is not transient, or the last one, gives up at once. A
  programmer error fails the job with itself: RQ logs it at ERROR with its
  traceback, once, and keeps it in the ``FailedJobRegistry``. An expected
  failure is raised as `outcome.jobs.JobFailed`, whose text is user-safe. RQ
  logs every exception a job raises at ERROR, with no list of expected ones
  such as Celery's ``throws``: the integration puts a filter on the
  ``rq.worker`` logger that lowers the record of a `JobFailed` to WARNING,
  cut to its message.
- ``on_give_up`` and the death handlers run in the attempt that gives up, so
  once per job. RQ's ``on_failure`` callback runs on every failed attempt of a
  job enqueued with ``retry=Retry(...)``; here a retry is returned, not raised,
  so ``on_failure`` runs only when the job gives up. RQ's own ``retry`` option
  is refused when the job is declared, and one given at enqueue time is
  spent when the policy gives up.

The latest status of each job is stored beside it, in its ``meta``, JSON-safe;
`job_status` reads it by job id. ``capture.enqueue`` stores "queued" with the
job itself, in the same write; "running" and "succeeded" cost no write of
their own: `job_status` reads them from RQ's own ``started`` and ``finished``.
The status lives as long as RQ keeps the job: ``result_ttl`` after a success
(500 s by default) and ``failure_ttl`` after a failure, one year by default;
give the job a shorter ``failure_ttl``.

>>> from redis import Redis
>>> from outcome import RetryPolicy
>>> from outcome.jobs import JobPolicy
>>> from outcome.integrations.rq import job
>>> @job(
...     queue="payments",
...     connection=Redis(),
...     policy=JobPolicy(retry=RetryPolicy(attempts=3)),
...     failure_ttl=7 * 86400,
... )
... def capture(order: str) -> str:
...     return f"captured {order}"
>>> capture("A-17")  # a plain call; capture.enqueue("A-17") makes it a job
'captured A-17'
>>> capture.name
'outcome.integrations.rq.capture'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import uuid
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    final,
)

from outcome._result import Err
from outcome.jobs import (
    JobFailed,
    JobPolicy,
    JobState,
    JobStatus,
    RetryIn,
    _check_declaration,
    _is_bug,
    _Job,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.serializers import Serializer

__all__ = ["JobFunction", "job", "job_status"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# The key of the status in the job's meta.
_STATUS: Final = "outcome_status"
_FINAL: Final = frozenset({"failed", "succeeded"})
# RQ's own states that say what the status would: read there, not stored twice.
_OWN_STATES: Final[Mapping[str, JobState]] = {
    "started": "running",
    "finished": "succeeded",
    "failed": "failed",
    "stopped": "failed",
    "canceled": "failed",
}
# The options of RQ's own job decorator this one takes: all but `retry`.
_OPTIONS: Final = frozenset(
    {
        "queue",
        "connection",
        "queue_class",
        "timeout",
        "result_ttl",
        "ttl",
        "failure_ttl",
        "depends_on",
        "at_front",
        "meta",
        "description",
        "on_failure",
        "on_success",
        "on_stopped",
        "webhooks",
    }
)
# Passed on to Queue.enqueue_call as they are.
_ENQUEUE_OPTIONS: Final = _OPTIONS - {"queue", "connection", "queue_class", "meta"}
_WORKER_LOG: Final = "rq.worker"
_JOB_FAILED_LINE: Final = f"{JobFailed.__module__}.{JobFailed.__qualname__}: "


class _Queue(Protocol):
    """What the integration calls on an RQ queue."""

    def enqueue_call(
        self,
        func: str,
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        job_id: str,
        meta: Mapping[str, object],
        **options: Any,  # noqa: ANN401 - RQ's own options, passed on
    ) -> Job:
        """Create a job and enqueue it."""
        ...


class _Fetches(Protocol):
    def fetch(
        self, job_id: str, /, connection: Redis, serializer: Serializer | None = None
    ) -> Job:
        """Read a job from Redis; raises NoSuchJobError."""
        ...


class _SavesMeta(Protocol):
    def save_meta(self) -> None:
        """Write the job's meta to Redis."""
        ...


def job(
    *, policy: JobPolicy, **job_options: object
) -> Callable[[Callable[_P, _R]], JobFunction[_P, _R]]:
    """
    Make an RQ job of a function, retried and reported under `policy`.

    The keywords are those of RQ's own ``rq.job`` decorator: ``queue`` (a
    `rq.Queue`, or a queue's name with ``connection``), ``timeout``,
    ``result_ttl``, ``failure_ttl``, ``meta``, ``on_success``, ... except
    ``retry``: the policy owns retrying. The function must be defined at a
    module's top level, where RQ's worker imports it by name.

    Raises:
        TypeError: When `policy` is not a `outcome.jobs.JobPolicy`, an option
            is not one of RQ's (``retry`` among them), ``queue`` is missing, a
            queue's name comes without ``connection``, or the function is a
            coroutine function or is not at a module's top level.

    .. versionadded:: 0.1.0
    """
    _check_declaration("job", "RQ", policy, job_options, frozenset({"retry"}))
    unknown = sorted(job_options.keys() - _OPTIONS)
    if unknown:
        msg = (
            f"job() does not take {', '.join(unknown)}: it takes RQ's job options "
            f"({', '.join(sorted(_OPTIONS))})"
        )
        raise TypeError(msg)
    queue = _queue_of(job_options)
    meta = cast("Mapping[str, object] | None", job_options.get("meta")) or {}
    options = {
        name: value for name, value in job_options.items() if name in _ENQUEUE_OPTIONS
    }
    _quiet_expected_failures()

    def decorator(fn: Callable[_P, _R]) -> JobFunction[_P, _R]:
        return JobFunction(fn, policy, queue, meta, options)

    return decorator


def _queue_of(job_options: Mapping[str, object]) -> _Queue:
    """The queue the options name, made once."""
    from rq import Queue  # noqa: PLC0415 - optional

    queue = job_options.get("queue")
    if isinstance(queue, Queue):
        return cast("_Queue", queue)
    if not isinstance(queue, str):
        msg = f"job() needs queue=Queue(...) or queue='name', not {queue!r}"
        raise TypeError(msg)
    connection = job_options.get("connection")
    if connection is None:
        msg = (
            f"job() needs connection=Redis(...) with the queue name {queue!r}, "
            "or queue=Queue(...)"
        )
        raise TypeError(msg)
    queue_class = cast("type[Queue]", job_options.get("queue_class") or Queue)
    return cast("_Queue", queue_class(queue, connection=cast("Redis", connection)))


@final
class JobFunction(Generic[_P, _R]):
    """
    A function declared as an RQ job by `job`: enqueue it, or call it here.

    RQ's worker imports it by `name` and calls it; that call is an attempt of
    the job. Any other call is a plain call of the function.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        fn: Callable[_P, _R],
        policy: JobPolicy,
        queue: _Queue,
        meta: Mapping[str, object],
        options: Mapping[str, object],
    ) -> None:
        """Declare `fn`; `job` makes it, checking what it is given."""
        if inspect.iscoroutinefunction(fn):
            msg = (
                f"job() takes a plain function, not the coroutine function {fn!r}: "
                "the policy drives synchronous attempts"
            )
            raise TypeError(msg)
        qualname = getattr(fn, "__qualname__", "<unknown>")
        if "<" in qualname:
            msg = (
                f"job() takes a function at a module's top level, not {qualname}: "
                "RQ's worker imports a job's function by its name"
            )
            raise TypeError(msg)
        functools.update_wrapper(self, fn)
        self.name: str = f"{fn.__module__}.{qualname}"
        """The name RQ enqueues and imports: module and qualified name."""
        self._qualname = qualname
        self._fn = fn
        self._policy = policy
        self._queue = queue
        self._meta = meta
        self._options = options

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run the function: an attempt when RQ's worker runs it, else a call."""
        current = _engine().get_current_job()
        if current is None or (
            current.func_name != self.name and current.instance is not self
        ):
            return self._fn(*args, **kwargs)
        return cast("_R", self._attempt(current, *args, **kwargs))

    def enqueue(self, *args: _P.args, **kwargs: _P.kwargs) -> Job:
        """
        Enqueue a job of the function with these arguments, and tell "queued".

        The "queued" status is stored with the job, in the same write.

        Returns:
            RQ's job.
        """
        job_id = str(uuid.uuid4())
        announced = _Job(
            self._policy, self.name, job_id, args, dict(kwargs), 1, _stored_with_job
        )
        enqueued = self._queue.enqueue_call(
            self.name,
            args=args,
            kwargs=kwargs,
            job_id=job_id,
            meta={**self._meta, _STATUS: announced.last_status},
            **cast("dict[str, Any]", self._options),
        )
        announced.queued()
        return enqueued

    def _attempt(self, current: Job, *args: _P.args, **kwargs: _P.kwargs) -> object:
        """One attempt: run the function, then retry, give up or succeed."""
        policy = self._policy
        # RQ adds one to number_of_retries at each Retry a job returns.
        attempt = (current.number_of_retries or 0) + 1

        def publish(status: JobStatus) -> None:
            current.meta[_STATUS] = status
            cast("_SavesMeta", current).save_meta()

        job = _Job(
            policy, self.name, current.id, tuple(args), dict(kwargs), attempt, publish
        )
        # Enqueued by enqueue(), the job carries its status, and RQ's own
        # "started" says it runs; enqueued by name, this attempt stores its own.
        job.running(store=_STATUS not in current.meta)
        try:
            value = self._fn(*args, **kwargs)
        except Exception as exc:
            step = job.failed(exc, longest_wait=None)
            if isinstance(step, RetryIn):
                return _retry(policy, step.seconds)
            _spend_retries(current)
            if _is_bug(step.decision):
                raise
            # Not chained: RQ would keep the cause's text with the failed job.
            raise JobFailed.gave_up(job.last_status) from None
        if type(value) is Err:
            step = job.failed(cast("Err[object]", value), longest_wait=None)
            if isinstance(step, RetryIn):
                return _retry(policy, step.seconds)
            _spend_retries(current)
            raise JobFailed.gave_up(job.last_status)
        job.succeeded(store=False)
        return value

    def __reduce__(self) -> str:
        """Pickle by reference: ``queue.enqueue(capture, ...)`` finds it by name."""
        return self._qualname

    def __repr__(self) -> str:
        """Say what it is and its name."""
        return f"<JobFunction {self.name}>"


def _stored_with_job(status: JobStatus) -> None:
    """The "queued" status goes into the job's meta as it is enqueued."""
    del status


class _Engine:
    """What the integration needs of RQ, imported once, when first needed."""

    def __init__(self) -> None:
        from rq import Retry, get_current_job  # noqa: PLC0415 - optional
        from rq.exceptions import NoSuchJobError  # noqa: PLC0415
        from rq.job import Job  # noqa: PLC0415

        self.get_current_job = get_current_job
        self.retry = Retry
        self.fetch = cast("_Fetches", Job).fetch
        self.no_such_job: type[Exception] = NoSuchJobError


@functools.cache
def _engine() -> _Engine:
    return _Engine()


def _retry(policy: JobPolicy, seconds: float) -> object:
    """
    The Retry that RQ schedules no sooner than `seconds` from now.

    RQ's scheduler keeps times in whole seconds, cut down, and runs what is
    due up to the current whole second: a retry "in 1 s" asked for at 0.9
    past a second runs 0.1 s later. One second more than the wait, rounded
    up, is never too soon. No wait at all is enqueued at once.

    RQ fails a job that returns a Retry once its retries reach ``max``; the
    policy has counted already, so ``max`` is the most it allows.
    """
    interval = math.ceil(seconds) + 1 if seconds > 0 else 0
    return _engine().retry(max=policy.retry.attempts - 1, interval=interval)


def _spend_retries(current: Job) -> None:
    """A job enqueued with retry=Retry(...) would be retried on raising: not now."""
    if current.retries_left:
        current.retries_left = 0


class _ExpectedFailures(logging.Filter):
    """Lowers RQ's ERROR record of a job that gave up with JobFailed to WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record; lower and shorten that of an expected failure."""
        args = record.args
        if record.levelno >= logging.ERROR and isinstance(args, tuple) and args:
            trace = args[-1]
            last = trace.rstrip().rpartition("\n")[2] if isinstance(trace, str) else ""
            if last.startswith(_JOB_FAILED_LINE):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
                record.args = (*args[:-1], last)
        return True


def _quiet_expected_failures() -> None:
    """Put the filter on RQ's worker logger, once."""
    logger = logging.getLogger(_WORKER_LOG)
    if not any(isinstance(f, _ExpectedFailures) for f in logger.filters):
        logger.addFilter(_ExpectedFailures())


def job_status(
    connection: Redis, job_id: str, *, serializer: Serializer | None = None
) -> JobStatus | None:
    """
    Return the latest status of the job `job_id`, or `None` if none is kept.

    "running" and "succeeded" are read from RQ's own ``started`` and
    ``finished`` when the status kept with the job is not final; a job that
    RQ stopped, cancelled or failed without the policy (its worker killed)
    reads as "failed", with no reason. A job RQ no longer keeps has none.

    Args:
        connection: The Redis RQ keeps its jobs in.
        job_id: The job's id (``capture.enqueue(...).id``).
        serializer: The jobs' serializer, if not RQ's default.

    Returns:
        The status, or `None`.

    .. versionadded:: 0.1.0
    """
    engine = _engine()
    try:
        found = engine.fetch(job_id, connection=connection, serializer=serializer)
    except engine.no_such_job:
        return None
    last = cast("JobStatus | None", found.meta.get(_STATUS))
    if last is None or last["state"] in _FINAL:
        return last
    state = _OWN_STATES.get(str(found.get_status(refresh=False).value))
    if state is None:
        return last
    return {
        **last,
        "state": state,
        "attempt": last["attempt"] + (last["state"] == "retrying"),
        "retry_in": None,
        "reason": None,
        "kind": None,
        "bucket": None,
        "errors": [],
    }
