"""
Huey: jobs that retry through the queue, give up once, and report their status.

`task` makes a Huey task from a function under a `JobPolicy`. Each failure is
classified in the worker, on the original exception. A transient one is retried
with ``RetryTask(delay=...)``: a countdown kept by Huey's scheduler, never a
sleep in the worker, logged at INFO. One that is not, or the last one, gives up:
``CancelExecution(retry=False)``, logged at WARNING, or, for a programmer error,
the exception itself, logged at ERROR with its traceback so the tracker sees it
once. Attempts are counted across the job's whole life in the message's own
``retries``, which Huey keeps with the message through every retry: there it
is the number of the attempt that last failed, not the retries left. Give the
task no ``retries`` of its own, when it is declared or enqueued.

The latest status of each job is stored in Huey's storage, beside its results,
as a JSON-safe `outcome.jobs.JobStatus`; `job_status` reads it by job id.

>>> from huey import MemoryHuey
>>> from outcome import RetryPolicy
>>> from outcome.jobs import JobPolicy
>>> from outcome.integrations.huey import job_status, task
>>> huey = MemoryHuey(immediate=True)
>>> @task(huey, policy=JobPolicy(retry=RetryPolicy(attempts=3)))
... def capture(order: str) -> str:
...     return f"captured {order}"
>>> result = capture("A-17")
>>> result()
'captured A-17'
>>> job_status(huey, result.id)["state"]
'succeeded'

.. versionadded:: 0.1.0
"""

# Huey ships no types: the module reaches it through the protocols below.
# pyright: reportMissingTypeStubs=false

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final, Protocol, cast
from weakref import WeakKeyDictionary

from outcome._result import Err
from outcome.jobs import (
    JobPolicy,
    JobStatus,
    RetryIn,
    _check_declaration,
    _is_bug,
    _Job,
    _queued,
    _quiet,
    _store_plainly,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from huey import Huey
    from huey.api import TaskWrapper

__all__ = ["job_status", "task"]

# Huey's own retry options, and the context the integration asks for itself.
_OWNED_OPTIONS: Final = frozenset(
    {"retries", "retry_delay", "retry_backoff", "context"}
)

_STATUS: Final = "outcome-status:"


class _Task(Protocol):
    """What the integration reads of a Huey task (Huey ships no types)."""

    id: str
    name: str
    args: tuple[object, ...]
    kwargs: dict[str, object]
    retries: int


class _Huey(Protocol):
    """What the integration calls on a Huey instance."""

    def task(self, **options: object) -> Callable[[Callable[..., object]], TaskWrapper]:
        """Declare a task."""
        ...

    def signal(
        self, *signals: str
    ) -> Callable[[Callable[[str, _Task], None]], Callable[[str, _Task], None]]:
        """Connect a signal handler."""
        ...

    def put(self, key: str, data: object) -> object:
        """Store a value."""
        ...

    def get(self, key: str, peek: bool = False) -> object:  # noqa: FBT001, FBT002 - Huey's
        """Read a value."""
        ...

    def delete(self, key: str) -> object:
        """Remove a value."""
        ...


# The policy of each task declared here, by Huey instance and task name.
_POLICIES: Final[WeakKeyDictionary[_Huey, dict[str, JobPolicy]]] = WeakKeyDictionary()


def task(
    huey: Huey, *, policy: JobPolicy, **task_options: object
) -> Callable[[Callable[..., object]], TaskWrapper]:
    """
    Make a Huey task of a function, retried and reported under `policy`.

    The keywords are Huey's own task options (``priority``, ``expires``,
    ``name``, ...), except ``retries``, ``retry_delay``, ``retry_backoff`` and
    ``context``: the policy owns retrying.

    Raises:
        TypeError: When `policy` is not a `outcome.jobs.JobPolicy`, or a
            retry option of Huey's is given.

    .. versionadded:: 0.1.0
    """
    _check_declaration("task", "Huey", policy, task_options, _OWNED_OPTIONS)
    engine = cast("_Huey", huey)
    put = engine.put
    quiet = _quiet(policy)

    def decorator(fn: Callable[..., object]) -> TaskWrapper:
        def attempt_of(
            task: _Task, args: tuple[object, ...], kwargs: dict[str, object]
        ) -> _Job:
            publish = functools.partial(put, _STATUS + task.id)
            attempt = task.retries + 1
            return _Job(policy, task.name, task.id, args, kwargs, attempt, publish)

        # The attempt itself: one frame between Huey and `fn`, as few as the
        # traceback of a failure logged at ERROR must format.
        @functools.wraps(fn)
        def run(*args: object, task: _Task, **kwargs: object) -> object:
            # The message carries the number of the attempt that last failed
            # in Huey's own `retries` (see _retry_in): no read of the storage.
            attempt = task.retries + 1
            # With no on_status to hear a state and no budget to refund, a
            # success is its two writes: the attempt is made only on failure.
            job = None if quiet else attempt_of(task, args, kwargs)
            if job is None:
                job_id, name = task.id, task.name
                _store_plainly(put, _STATUS + job_id, job_id, name, "running", attempt)
            else:
                job.running()
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:
                job = job or attempt_of(task, args, kwargs)
                raised = _after_failure(job, task, attempt, exc)
                if raised is exc:
                    raise
                # Not chained: Huey's error result would carry the cause's text.
                raise raised from None
            if type(value) is Err:
                job = job or attempt_of(task, args, kwargs)
                raise _after_failure(job, task, attempt, cast("Err[object]", value))
            if job is None:
                job_id, name = task.id, task.name
                _store_plainly(
                    put, _STATUS + job_id, job_id, name, "succeeded", attempt
                )
            else:
                job.succeeded()
            return value

        wrapper = engine.task(context=True, **task_options)(run)
        _policies(engine)[cast("type[object]", wrapper.task_class).__name__] = policy
        return wrapper

    return decorator


def _policies(engine: _Huey) -> dict[str, JobPolicy]:
    """
    The policy of each task declared on `engine` here, by the task's name.

    One signal receiver per Huey instance tells each new job that it is
    queued, so that enqueueing costs one lookup, however many tasks there are.
    """
    policies = _POLICIES.get(engine)
    if policies is None:
        from huey.signals import SIGNAL_ENQUEUED  # noqa: PLC0415 - optional

        policies = _POLICIES[engine] = {}
        engine.signal(SIGNAL_ENQUEUED)(_announcer(engine, policies))
    return policies


def _announcer(
    engine: _Huey, policies: dict[str, JobPolicy]
) -> Callable[[str, _Task], None]:
    """The receiver of Huey's enqueued signal: a new job of ours is queued."""
    put = engine.put

    def queued(_signal: str, enqueued: _Task) -> None:
        policy = policies.get(enqueued.name)
        # The scheduler enqueues a retry when its time comes: not queued anew.
        if policy is not None and not enqueued.retries:
            job_id = enqueued.id
            _queued(
                policy,
                enqueued.name,
                job_id,
                enqueued.args,
                enqueued.kwargs,
                put,
                _STATUS + job_id,
            )

    return queued


def _after_failure(
    job: _Job, task: _Task, attempt: int, failure: BaseException | Err[object]
) -> BaseException:
    """
    What the attempt raises after `failure`, once every hook has heard it.

    Huey's RetryTask for a retry; for a give-up, the failure itself if it is a
    raised bug (Huey logs it at ERROR, with its traceback), else Huey's
    CancelExecution, which it logs at WARNING.
    """
    step = job.failed(failure, longest_wait=None)
    if isinstance(step, RetryIn):
        return _retry_in(task, attempt, step.seconds)
    # Given up: Huey retries an exception while `retries` is above 0.
    task.retries = 0
    if isinstance(failure, BaseException) and _is_bug(step.decision):
        return failure
    return cast("BaseException", _huey_exceptions().CancelExecution(retry=False))


def _retry_in(task: _Task, attempt: int, seconds: float) -> BaseException:
    """
    Huey's RetryTask for `task`, whose requeued message says `attempt` failed.

    On RetryTask Huey adds one to ``retries`` and takes one off as it requeues
    the message: set to `attempt`, it reaches the next attempt as `attempt`.
    """
    task.retries = attempt
    return cast("BaseException", _huey_exceptions().RetryTask(delay=seconds))


def _huey_exceptions() -> ModuleType:
    """Huey's exceptions, imported only when a failure needs them."""
    import huey.exceptions  # noqa: PLC0415 - optional

    return cast("ModuleType", huey.exceptions)


def job_status(huey: Huey, job_id: str) -> JobStatus | None:
    """
    Return the latest status of the job `job_id`, or `None` if none was stored.

    .. versionadded:: 0.1.0
    """
    engine = cast("_Huey", huey)
    return cast("JobStatus | None", engine.get(_STATUS + job_id, peek=True))
