"""
The payment jobs on a real task queue: Huey with SQLite, or Celery with Redis.

The job is the same on both: `PaymentWorker.capture` under the worker's
`JobPolicy`, declared with outcome's integration for the engine
(`outcome.integrations.huey.task`, `outcome.integrations.celery.task`), which
retries it through the queue, reports each status and runs the death
handlers. This module only starts and stops the engine.

- Huey on a SQLite file is the embedded default: one file, no server. Its
  consumer runs in this process, in threads.
- Celery on Redis is the distributed engine. Its worker runs in this process
  too, in threads, so that the demo needs one command; in production it is
  ``celery worker``, on as many machines as needed. Each run uses a queue of
  its own, deleted at the end, so that a run never meets another's jobs.

Either way the engine's own log goes to a file (``worker.log``), not to the
demo's output: the statuses the jobs report are what the demo shows.
"""

# Huey ships no types: this module reaches it through the protocols below.
# pyright: reportMissingTypeStubs=false

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import uuid
import warnings
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias, cast

from huey import SqliteHuey
from huey.exceptions import HueyException, TaskException

from outcome.integrations import huey as huey_jobs
from outcome.jobs import death_handlers

if TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from pathlib import Path
    from types import FrameType

    from celery import Task
    from celery.worker.worker import WorkController
    from huey import Huey
    from service import PaymentJob, PaymentWorker

    from outcome.jobs import JobStatus

Engine: TypeAlias = Literal["huey", "celery"]
ENGINES: Final[tuple[Engine, ...]] = ("huey", "celery")

WORKER_LOG: Final = "worker.log"
"""The file, in the run's directory, that the engine logs to."""

_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_SignalHandler: TypeAlias = (
    "Callable[[int, FrameType | None], Any] | int | signal.Handlers | None"
)


class BrokerUnavailable(Exception):  # noqa: N818 - what happened, not a bug
    """The engine's broker does not answer, so no job can be enqueued."""


class RunningQueue(Protocol):
    """A payment queue with its worker running: `service.PaymentQueue`, and `wait`."""

    def enqueue(self, job: PaymentJob, *, delay: float) -> None:
        """Put the job on the queue, to run in `delay` seconds."""
        ...

    def cancel(self, job_id: str) -> None:
        """Tell the queue not to run the job."""
        ...

    def status(self, job_id: str) -> JobStatus | None:
        """The job's latest status."""
        ...

    def wait(self, job_id: str, timeout: float) -> None:
        """Wait until the job succeeded or failed for good."""
        ...


# Huey ---------------------------------------------------------------------------


class _HueyTask(Protocol):
    """What the queue calls on the Huey task (Huey ships no types)."""

    def s(self, *args: object, **options: object) -> object:
        """A task instance to enqueue, with options such as ``id``."""
        ...

    def schedule(
        self,
        args: tuple[object, ...],
        *,
        delay: float,
        id: str,  # noqa: A002 - Huey's name
    ) -> object:
        """Enqueue the task to run in `delay` seconds."""
        ...


class _Consumer(Protocol):
    """What the queue calls on Huey's consumer."""

    def start(self) -> None:
        """Start the worker and scheduler threads."""
        ...

    def stop(self, *, graceful: bool) -> None:
        """Stop them; with `graceful`, once the running task is done."""
        ...


class _Huey(Protocol):
    """What the queue calls on the Huey instance."""

    def enqueue(self, task: object) -> object:
        """Put a task instance on the queue."""
        ...

    def revoke_by_id(self, id: str) -> object:  # noqa: A002 - Huey's name
        """Revoke a task by its id."""
        ...

    def result(
        self,
        id: str,  # noqa: A002 - Huey's name
        *,
        blocking: bool,
        timeout: float,
        max_delay: float,
    ) -> object:
        """Wait for a task's result, polling at most `max_delay` seconds apart."""
        ...

    def create_consumer(self, **options: object) -> _Consumer:
        """Make a consumer for the queue."""
        ...


class HueyQueue:
    """The payment queue on Huey, on a SQLite file, worked by a thread here."""

    def __init__(self, path: Path, worker: PaymentWorker, *, log: Path) -> None:
        """Declare the payment job on a `SqliteHuey` at `path`; start nothing yet."""
        huey: Huey = SqliteHuey("payments", filename=str(path))
        self._engine = huey
        self._huey = cast("_Huey", huey)
        self._capture = cast(
            "_HueyTask",
            huey_jobs.task(huey, policy=worker.policy, name=worker.job_name)(
                worker.capture
            ),
        )
        self._log = logging.FileHandler(log, delay=True)
        self._logger_was = (logging.NOTSET, True)
        self._consumer: _Consumer | None = None
        self._signals: dict[int, _SignalHandler] = {}

    def start(self) -> None:
        """Start the consumer: one worker thread, polling every few milliseconds."""
        logger = logging.getLogger("huey")
        self._logger_was = (logger.level, logger.propagate)
        logger.addHandler(self._log)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        # The consumer sets handlers of its own, to stop on Ctrl-C.
        self._signals = {number: signal.getsignal(number) for number in _SIGNALS}
        self._consumer = self._huey.create_consumer(
            workers=1,
            worker_type="thread",
            periodic=False,
            initial_delay=0.01,
            backoff=1.1,
            max_delay=0.05,
            check_worker_health=False,
        )
        self._consumer.start()

    def close(self) -> None:
        """Stop the consumer once its worker is done, and put things back."""
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        for number, handler in self._signals.items():
            signal.signal(number, handler)
        logger = logging.getLogger("huey")
        logger.removeHandler(self._log)
        level, logger.propagate = self._logger_was
        logger.setLevel(level)
        self._log.close()

    def enqueue(self, job: PaymentJob, *, delay: float) -> None:
        """Put the job on the queue, under the shop's id for it."""
        arguments = (job.id, job.order_id)
        if delay:
            self._capture.schedule(arguments, delay=delay, id=job.job_id)
        else:
            self._huey.enqueue(self._capture.s(*arguments, id=job.job_id))

    def cancel(self, job_id: str) -> None:
        """Revoke the job: the consumer skips it."""
        self._huey.revoke_by_id(job_id)

    def status(self, job_id: str) -> JobStatus | None:
        """The job's latest status, from Huey's storage."""
        return huey_jobs.job_status(self._engine, job_id)

    def wait(self, job_id: str, timeout: float) -> None:
        """Wait for the job's result, a failure included."""
        try:
            self._huey.result(job_id, blocking=True, timeout=timeout, max_delay=0.05)
        except TaskException:
            return  # failed for good: its status says how
        except HueyException as exc:
            msg = f"payment job {job_id} did not finish within {timeout:g} s"
            raise TimeoutError(msg) from exc


# Celery -------------------------------------------------------------------------


class Closable(Protocol):
    """A client that holds connections until it is closed."""

    def close(self) -> None:
        """Close every connection."""


class CeleryQueue:
    """The payment queue on Celery, on Redis, worked by a worker in this process."""

    def __init__(self, redis_url: str, worker: PaymentWorker, *, log: Path) -> None:
        """Declare the payment job on a Celery app on `redis_url`; start nothing yet."""
        from celery import Celery  # noqa: PLC0415 - only this engine needs Celery

        from outcome.integrations import celery as celery_jobs  # noqa: PLC0415

        self._queue = f"checkout-payments-{uuid.uuid4().hex[:12]}"
        self._redis_url = redis_url
        self._app = Celery("checkout", broker=redis_url, backend=redis_url)
        self._app.conf.update(
            task_default_queue=self._queue,
            broker_connection_retry_on_startup=True,
            result_expires=600,
        )
        self._status = celery_jobs.job_status
        self._capture: Task[Any, Any] = celery_jobs.task(
            self._app, policy=worker.policy, name=worker.job_name
        )(worker.capture)
        self._log = log
        self._worker: contextlib.AbstractContextManager[WorkController] | None = None

    def start(self) -> None:
        """
        Start a worker in a thread, once Redis answers.

        Raises:
            BrokerUnavailable: When no Redis answers at the URL.
        """
        from celery.contrib.testing.worker import start_worker  # noqa: PLC0415
        from kombu.exceptions import OperationalError  # noqa: PLC0415

        with self._app.connection_for_write() as connection:
            try:
                connection.ensure_connection(max_retries=1)
            except OperationalError as exc:
                msg = (
                    f"no Redis answers at {self._redis_url} ({exc}): start one, or "
                    "set CHECKOUT_REDIS_URL"
                )
                raise BrokerUnavailable(msg) from None
        self._worker = start_worker(
            self._app,
            pool="threads",
            concurrency=1,
            perform_ping_check=False,
            loglevel="INFO",
            logfile=str(self._log),
        )
        self._worker.__enter__()

    def close(self) -> None:
        """Stop the worker, then delete the run's queue."""
        if self._worker is None:
            return  # Redis never answered: nothing was started or published
        self._worker.__exit__(None, None, None)
        self._worker = None
        # A job waiting for its time (pay later) goes back to the queue when
        # the worker stops; the queue is the run's own, so it goes.
        with self._app.connection_for_write() as connection:
            # Declared first: a channel deletes only the bindings it knows.
            queue = self._app.amqp.queues[self._queue].bind(connection.default_channel)
            queue.declare()
            queue.delete()
        # Every connection to Redis is closed here, not left to the garbage
        # collector: the result backend's client, then the broker's pools.
        client = cast("Closable | None", getattr(self._app.backend, "client", None))
        if client is not None:
            client.close()
        self._app.close()
        # Celery's in-process worker leaves the sockets of its consumer to the
        # garbage collector, which would report them whenever it next ran:
        # collected here, at a known time, they are not reported at random.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()

    def enqueue(self, job: PaymentJob, *, delay: float) -> None:
        """Publish the job, under the shop's id for it."""
        arguments = (job.id, job.order_id)
        if delay:
            self._capture.apply_async(arguments, task_id=job.job_id, countdown=delay)
        else:
            self._capture.apply_async(arguments, task_id=job.job_id)

    def cancel(self, job_id: str) -> None:
        """Revoke the job: the worker skips it."""
        self._app.control.revoke(job_id)

    def status(self, job_id: str) -> JobStatus | None:
        """The job's latest status, from the result backend."""
        return self._status(self._app, job_id)

    def wait(self, job_id: str, timeout: float) -> None:
        """Wait for the job's result, a failure included."""
        from celery.exceptions import TimeoutError as CeleryTimeout  # noqa: PLC0415

        try:
            self._app.AsyncResult(job_id).get(timeout=timeout, propagate=False)
        except CeleryTimeout as exc:
            msg = f"payment job {job_id} did not finish within {timeout:g} s"
            raise TimeoutError(msg) from exc


# Either -------------------------------------------------------------------------


@contextlib.contextmanager
def running(
    engine: Engine, worker: PaymentWorker, directory: Path, *, redis_url: str
) -> Generator[RunningQueue]:
    """
    Run the payment queue on `engine`, with the worker's death handler, then stop.

    Huey's SQLite file and the engine's log go in `directory`; Celery uses
    the Redis at `redis_url`, as broker and result backend.
    """
    queue = (
        HueyQueue(directory / "jobs.sqlite3", worker, log=directory / WORKER_LOG)
        if engine == "huey"
        else CeleryQueue(redis_url, worker, log=directory / WORKER_LOG)
    )
    death_handlers.append(worker.gave_up)
    try:
        queue.start()
        yield queue
    finally:
        queue.close()
        death_handlers.remove(worker.gave_up)
