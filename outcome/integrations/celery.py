"""
Celery: jobs that retry through the broker, give up once, and report their status.

`task` makes a Celery task from a function under a `JobPolicy`. Each failure is
classified in the worker, on the original exception, before Celery pickles
anything: Celery hands ``on_failure``, the ``task_failure`` signal and
``AsyncResult`` a copy with the response stripped, and classified there an
``httpx.HTTPStatusError`` is a bare error, so a quota, an outage or a declined
card would be called a bug.

- A transient failure is retried with ``self.retry(countdown=...)``: a countdown
  kept by the broker and the worker's timer, never a sleep in the worker. The
  countdown is the policy's backoff or the server's wait (Retry-After,
  ``retry-after-ms``), whichever is longer. Attempts count across the job's
  whole life (Celery's ``request.retries``). Celery's record of the retry
  (its ``RETRY`` state, the ``task_retry`` signal) holds the traceback of the
  retry alone, not the cause's, whose text may not be safe to keep.
- A failure that is not transient, or the last one, gives up at once. An
  expected failure is raised as `outcome.jobs.JobFailed`, which the task
  ``throws``: Celery logs it at INFO without a traceback, and Sentry's Celery
  integration skips it. A programmer error fails the task as usual, so the
  tracker sees it once.
- On Redis and SQS a task waiting for its countdown is held unacknowledged, and
  the broker hands it to another worker after the visibility timeout (1 hour by
  default): the task would run twice. A policy whose backoff can reach the
  visibility timeout is refused when the task is declared, and a server's
  longer Retry-After is cut to it (the event says ``capped``).
- The latest status of each job is stored in the result backend, JSON-safe,
  beside the task's own result, when it is published, retries or gives up;
  `job_status` reads it by job id. A success in a worker stores nothing more:
  `job_status` reads it from Celery's own ``SUCCESS`` (and "running" from
  ``STARTED``, with ``task_track_started``). With ``ignore_result`` or run
  eagerly, an attempt stores its own. With no result backend configured,
  nothing is stored.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, cast
from urllib.parse import urlparse

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
    _queued,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from celery import Celery, Task

__all__ = ["job_status", "task"]

_STATUS: Final = "outcome-status-"
# A state of Celery's own would be final: a backend never overwrites SUCCESS.
_STATE: Final = "OUTCOME_STATUS"
# Statuses that Celery's own record of the task cannot overtake.
_FINAL: Final = frozenset({"failed", "succeeded"})
# Celery's states that say what the status would: read there, not stored twice.
_OWN_STATES: Final[Mapping[str, JobState]] = {
    "STARTED": "running",
    "SUCCESS": "succeeded",
}
# Brokers that hand an unacknowledged task to another worker after a timeout.
_VISIBILITY_BROKERS: Final = frozenset({"redis", "rediss", "sentinel", "sqs"})
_DEFAULT_VISIBILITY_TIMEOUT: Final = 3600.0
# Celery's own retry options: the JobPolicy owns retrying.
_OWNED_OPTIONS: Final = frozenset(
    {
        "autoretry_for",
        "dont_autoretry_for",
        "retry_backoff",
        "retry_backoff_max",
        "retry_jitter",
        "retry_kwargs",
        "max_retries",
        "default_retry_delay",
        "bind",
    }
)


# What Celery's before_task_publish hands its receivers, in message protocol 2.
_Headers: TypeAlias = "Mapping[str, Any]"
_Body: TypeAlias = (
    "tuple[tuple[object, ...] | None, Mapping[str, object] | None, object]"
)


class _Request(Protocol):
    id: str
    retries: int
    is_eager: bool


class _Task(Protocol):
    name: str
    request: _Request
    ignore_result: bool | None

    def retry(
        self, *, countdown: float, max_retries: int | None, throw: bool
    ) -> Exception:
        """Schedule the task again; returns (or raises) Celery's Retry."""
        ...


class _Backend(Protocol):
    def store_result(self, task_id: str, result: object, state: str) -> object:
        """Store a task's result."""
        ...

    def get_task_meta(self, task_id: str) -> Mapping[str, object]:
        """Read a task's state and result."""
        ...


class _Conf(Protocol):
    broker_url: str | None
    broker_transport_options: Mapping[str, object]


class _App(Protocol):
    conf: _Conf
    backend: _Backend

    def task(
        self, **options: object
    ) -> Callable[[Callable[..., object]], Task[Any, Any]]:
        """Declare a task."""
        ...


def _visibility_timeout(app: _App) -> float | None:
    """How long the broker waits for an ack before redelivering, if it does."""
    scheme = urlparse(app.conf.broker_url or "amqp://").scheme
    if scheme.partition("+")[0] not in _VISIBILITY_BROKERS:
        return None
    given = app.conf.broker_transport_options.get("visibility_timeout")
    if given is None:
        return _DEFAULT_VISIBILITY_TIMEOUT
    return float(cast("float", given))


def task(
    app: Celery, *, policy: JobPolicy, **task_options: object
) -> Callable[[Callable[..., object]], Task[Any, Any]]:
    """
    Make a Celery task of a function, retried and reported under `policy`.

    The keywords are Celery's own task options (``name``, ``acks_late``,
    ``queue``, ``throws``, ...), except those of Celery's own retrying
    (``autoretry_for``, ``max_retries``, ``retry_backoff``, ...) and
    ``bind``: the policy owns retrying.

    Raises:
        TypeError: When `policy` is not a `outcome.jobs.JobPolicy`, or one of
            Celery's retry options is given.
        ValueError: When the broker redelivers unacknowledged tasks (Redis,
            SQS) and the policy's largest backoff reaches its visibility
            timeout: raise the timeout or lower ``max_delay``.

    .. versionadded:: 0.1.0
    """
    _check_declaration("task", "Celery", policy, task_options, _OWNED_OPTIONS)
    engine = cast("_App", app)
    visibility = _visibility_timeout(engine)
    if visibility is not None and policy.retry.max_delay >= visibility:
        msg = (
            f"the policy's max_delay of {policy.retry.max_delay:g} s reaches the "
            f"broker's visibility timeout of {visibility:g} s, after which it runs "
            "a waiting task again: lower max_delay, or raise "
            "broker_transport_options['visibility_timeout']"
        )
        raise ValueError(msg)
    throws = (*cast("tuple[type[BaseException], ...]", task_options.pop("throws", ())),)

    def decorator(fn: Callable[..., object]) -> Task[Any, Any]:
        # The attempt itself: one frame between Celery and `fn`, as few as
        # Celery's traceback of a retry or a failure must format.
        def run(self: _Task, *args: object, **kwargs: object) -> object:
            request = self.request
            job_id = request.id
            job = _Job(
                policy,
                self.name,
                job_id,
                args,
                kwargs,
                request.retries + 1,
                functools.partial(_publish, engine, job_id),
            )
            # From a worker, Celery's own record of the task says it started
            # (with task_track_started) and succeeded, and job_status reads
            # them there: a success stores nothing more. Run eagerly, nothing
            # was published, so no status is stored yet: this attempt stores
            # its own, as it does when Celery keeps no result (ignore_result).
            store = request.is_eager or _ignores_result(self, request)
            job.running(store=store)
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:
                step = job.failed(exc, longest_wait=visibility)
                if isinstance(step, RetryIn):
                    # Not chained: Celery's record of the retry would keep
                    # the traceback of the cause, and its text.
                    raise _retry(self, step.seconds) from None
                if _is_bug(step.decision):
                    raise
                # Not chained: the result backend would keep the cause's text.
                raise JobFailed.gave_up(job.last_status) from None
            if type(value) is Err:
                step = job.failed(cast("Err[object]", value), longest_wait=visibility)
                if isinstance(step, RetryIn):
                    raise _retry(self, step.seconds)
                raise JobFailed.gave_up(job.last_status)
            job.succeeded(store=store)
            return value

        # Named after fn, but not wrapping it: Celery reads the signature of
        # the function it is given, and this one takes the task first.
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(run, attribute, getattr(fn, attribute, None))
        declared = engine.task(
            bind=True, throws=(*throws, JobFailed), max_retries=None, **task_options
        )(run)
        _say_when_queued(engine, policy, declared.name)
        return declared

    return decorator


def _say_when_queued(app: _App, policy: JobPolicy, name: str) -> None:
    """Tell the policy when a job of task `name` is published, but not a retry."""
    from celery.signals import before_task_publish  # noqa: PLC0415 - optional

    store = functools.partial(_publish, app)

    def queued(headers: _Headers, body: _Body, **_: object) -> None:
        if headers.get("retries"):
            return
        job_id = headers["id"]
        # Task message protocol 2: the body is (args, kwargs, embed).
        args, kwargs = body[0] or (), body[1] or {}
        _queued(policy, name, job_id, args, kwargs, store, job_id)

    # Celery calls the receiver only for tasks of this name.
    before_task_publish.connect(queued, sender=name, weak=False)


def _retry(task: _Task, seconds: float) -> Exception:
    """Celery's Retry of `task` in `seconds`, the task published again, unraised."""
    return task.retry(countdown=seconds, max_retries=None, throw=False)


def _ignores_result(task: _Task, request: _Request) -> bool:
    """
    Celery's own rule: the request's ignore_result if given, else the task's.

    The request's class says False for every call; given, it is in the
    instance's own attributes (``apply_async(ignore_result=...)``).
    """
    given = vars(request).get("ignore_result")
    return bool(task.ignore_result if given is None else given)


def _publish(app: _App, job_id: str, status: JobStatus) -> None:
    """Store a status of the job `job_id` in the result backend, if there is one."""
    backend = app.backend
    if not _disabled(backend):
        backend.store_result(_STATUS + job_id, status, _STATE)


def _disabled(backend: _Backend) -> bool:
    return type(backend).__name__ == "DisabledBackend"


def job_status(app: Celery, job_id: str) -> JobStatus | None:
    """
    Return the latest status of the job `job_id`, or `None` if none was stored.

    "running" and "succeeded" are read from Celery's own ``STARTED`` and
    ``SUCCESS`` of the task when this integration stored no final status, so
    a success costs the worker no write of its own.

    Raises:
        ValueError: When the app has no result backend, so no status is kept.

    .. versionadded:: 0.1.0
    """
    engine = cast("_App", app)
    if _disabled(engine.backend):
        msg = (
            "job_status() reads the result backend, and this Celery app has none: "
            "set result_backend (e.g. 'redis://...') to keep job statuses"
        )
        raise ValueError(msg)
    record = engine.backend.get_task_meta(_STATUS + job_id)
    last = (
        cast("JobStatus", record.get("result"))
        if record.get("status") == _STATE
        else None
    )
    if last is not None and last["state"] in _FINAL:
        return last
    state = _OWN_STATES.get(str(engine.backend.get_task_meta(job_id).get("status")))
    if state is None:
        return last
    if last is None:
        # Run without being published (apply()), so no status was stored.
        return None
    attempt = last["attempt"] + (last["state"] == "retrying")
    return {
        **last,
        "state": state,
        "attempt": attempt,
        "retry_in": None,
        "reason": None,
        "kind": None,
        "bucket": None,
        "errors": [],
    }
