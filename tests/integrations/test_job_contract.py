"""
What every job integration promises, written once and run on each real engine.

Huey on SQLite with its consumer, Celery's worker in-process on ``memory://``,
Dramatiq's StubBroker with an in-process worker, and RQ's SimpleWorker with its
scheduler on Redis. Each engine is driven the same way: declare a job of a
plain function under one recording policy, enqueue it, wait until the engine
says it ended, then read what the hooks heard, what was logged and what
``job_status`` says.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import dramatiq
import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.results import Results
from dramatiq.results.backends import StubBackend
from huey import SqliteHuey
from huey.exceptions import TaskException
from rq import Queue, SimpleWorker
from rq.job import JobStatus as RqStatus

from outcome import Bucket, RetryPolicy
from outcome.integrations import celery as outcome_celery
from outcome.integrations import dramatiq as outcome_dramatiq
from outcome.integrations import huey as outcome_huey
from outcome.integrations import rq as outcome_rq
from outcome.jobs import JobEvent, JobStatus, death_handlers
from tests.integrations.scripted import DOWN, OK, QUOTA, SLOW_DOWN, capture, scripted
from tests.integrations.test_celery_redis import REDIS_URL, _redis
from tests.integrations.test_huey import FAST, Recorder

WAIT = 20.0  # seconds a test waits for a job, far beyond what any takes
RECORDER = Recorder()
# No backoff of its own: a server's Retry-After is still waited for in full.
POLICY = RECORDER.policy(
    RetryPolicy(attempts=FAST.attempts, base_delay=0.0, max_delay=0.0)
)


def capture_payment(url: str, order: str) -> str:
    """Capture through the scripted gateway at `url`."""
    return str(capture(url, order)["status"])


def price(sku: str) -> int:
    """A bug, whose text must stay out of every status."""
    raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text


BODIES: dict[str, Callable[..., object]] = {
    body.__name__: body for body in (capture_payment, price)
}

# RQ's worker imports a job's function by name, so its one job lives here.
RQ_CONNECTION = redis.Redis.from_url(REDIS_URL)
RQ_QUEUE = Queue(f"outcome-contract-{uuid.uuid4().hex[:8]}", connection=RQ_CONNECTION)


@outcome_rq.job(queue=RQ_QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def run_in_rq(body: str, *args: object) -> object:
    """Run the function named `body`, as a job of RQ's."""
    return BODIES[body](*args)


# A Celery worker takes seconds to stop, and knows only the tasks declared
# before it started: the tasks are declared here, and one worker serves them.
CELERY_APP = Celery("contract", broker="memory://", backend="cache+memory://")
CELERY_APP.conf.update(
    task_serializer="json",
    result_serializer="json",
    # The memory transport polls its queue each second by default.
    broker_transport_options={"polling_interval": 0.01},
)
CELERY_TASKS = {
    name: outcome_celery.task(CELERY_APP, policy=POLICY, name=f"contract.{name}")(body)
    for name, body in BODIES.items()
}


class Ran:
    """How a job ended, as its engine records it."""

    def __init__(self, job_id: str, *, failed: bool, value: object = None) -> None:
        self.job_id = job_id
        self.failed = failed
        self.value = value


class Engine(Protocol):
    """One engine, driven the same way as the others."""

    def run(self, body: Callable[..., object], *args: object) -> Ran:
        """Declare a job of `body` under POLICY, enqueue it, wait for its end."""
        ...

    def status(self, job_id: str) -> JobStatus | None:
        """The integration's job_status."""
        ...


class HueyEngine:
    """SqliteHuey on a temporary file, worked by its consumer in threads."""

    def __init__(self, tmp_path: Path) -> None:
        self.huey = SqliteHuey("contract", filename=str(tmp_path / "huey.db"))
        self.consumer = self.huey.create_consumer(
            workers=2,
            worker_type="thread",
            periodic=False,
            initial_delay=0.01,
            backoff=1.1,
            max_delay=0.05,
            check_worker_health=False,
        )
        self.consumer.start()

    def run(self, body: Callable[..., object], *args: object) -> Ran:
        """Enqueue through the task and wait for its result."""
        result = outcome_huey.task(self.huey, policy=POLICY)(body)(*args)
        try:
            value = result.get(blocking=True, timeout=WAIT)
        except TaskException:
            return Ran(result.id, failed=True)
        return Ran(result.id, failed=False, value=value)

    def status(self, job_id: str) -> JobStatus | None:
        """Huey's job_status."""
        return outcome_huey.job_status(self.huey, job_id)

    def stop(self) -> None:
        """Stop the consumer."""
        self.consumer.stop(graceful=True)


class CeleryEngine:
    """The Celery app on memory://, worked by the module's worker in this process."""

    def run(self, body: Callable[..., object], *args: object) -> Ran:
        """Publish the task and wait for its result."""
        result = CELERY_TASKS[body.__name__].delay(*args)
        try:
            value = result.get(timeout=WAIT)
        except Exception:  # noqa: BLE001 - the task's failure, as Celery re-raises it
            return Ran(result.id, failed=result.state == "FAILURE")
        return Ran(result.id, failed=False, value=value)

    def status(self, job_id: str) -> JobStatus | None:
        """Celery's job_status."""
        return outcome_celery.job_status(CELERY_APP, job_id)

    def stop(self) -> None:
        """The worker outlives the test."""


@pytest.fixture(autouse=True, scope="module")
def connection() -> Iterator[None]:
    """Close the module's Redis connections after its tests."""
    yield
    RQ_CONNECTION.close()


@pytest.fixture(scope="module")
def celery_worker() -> Iterator[None]:
    """One real Celery worker for the module, in threads."""
    with start_worker(
        CELERY_APP, perform_ping_check=False, pool="threads", concurrency=2
    ):
        yield


class DramatiqEngine:
    """A StubBroker with a results backend, worked by an in-process worker."""

    def __init__(self) -> None:
        self.backend = StubBackend()
        self.backend.results = {}
        self.broker = StubBroker()
        self.broker.add_middleware(Results(backend=self.backend))
        self.broker.emit_after("process_boot")
        self.worker = dramatiq.Worker(self.broker, worker_timeout=20, worker_threads=2)
        self.worker.start()

    def run(self, body: Callable[..., object], *args: object) -> Ran:
        """Send the message and wait for its queue to settle."""
        declared = outcome_dramatiq.actor(
            broker=self.broker, policy=POLICY, store_results=True
        )(body)
        message = declared.send(*args)
        self.broker.join(declared.queue_name, timeout=int(WAIT * 1000), fail_fast=False)
        self.worker.join()
        dead = {m.message_id for m in self.broker.dead_letters}
        if message.message_id in dead:
            return Ran(message.message_id, failed=True)
        value = message.get_result(backend=self.backend)
        return Ran(message.message_id, failed=False, value=value)

    def status(self, job_id: str) -> JobStatus | None:
        """Dramatiq's job_status."""
        return outcome_dramatiq.job_status(self.broker, job_id)

    def stop(self) -> None:
        """Stop the worker."""
        self.worker.stop()


class RqEngine:
    """RQ on Redis: a SimpleWorker with its scheduler, run in bursts."""

    def __init__(self) -> None:
        self.client = _redis()
        self.handlers = {
            n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)
        }

    def run(self, body: Callable[..., object], *args: object) -> Ran:
        """Enqueue the one RQ job with the body's name, and work until it ends."""
        enqueued = run_in_rq.enqueue(body.__name__, *args)
        worker = SimpleWorker([RQ_QUEUE], connection=RQ_CONNECTION)
        deadline = time.monotonic() + WAIT
        ended = {RqStatus.FINISHED, RqStatus.FAILED}
        while (state := enqueued.get_status(refresh=True)) not in ended:
            if time.monotonic() > deadline:
                pytest.fail(f"waited {WAIT:g} s for RQ job {enqueued.id}")
            worker.work(burst=True, with_scheduler=True, logging_level="INFO")
            time.sleep(0.02)
        if state == RqStatus.FAILED:
            return Ran(enqueued.id, failed=True)
        return Ran(enqueued.id, failed=False, value=enqueued.return_value())

    def status(self, job_id: str) -> JobStatus | None:
        """RQ's job_status."""
        return outcome_rq.job_status(RQ_CONNECTION, job_id)

    def stop(self) -> None:
        """Restore the signal handlers the worker set; remove the test's keys."""
        for number, handler in self.handlers.items():
            signal.signal(number, handler)
        for key in self.client.scan_iter("rq:job:*"):
            if self.client.hget(key, "origin") == RQ_QUEUE.name.encode():
                job_id = key.decode().split(":")[2]
                for owned in self.client.scan_iter(f"rq:*{job_id}*"):
                    self.client.delete(owned)
        for key in self.client.scan_iter(f"*{RQ_QUEUE.name}*"):
            self.client.delete(key)
        self.client.close()


@pytest.fixture(params=["huey", "celery", "dramatiq", "rq"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Each engine in turn, started for the test and stopped after."""
    RECORDER.events.clear()
    started: HueyEngine | CeleryEngine | DramatiqEngine | RqEngine
    if request.param == "huey":
        started = HueyEngine(tmp_path)
    elif request.param == "celery":
        request.getfixturevalue("celery_worker")
        started = CeleryEngine()
    elif request.param == "dramatiq":
        started = DramatiqEngine()
    else:
        started = RqEngine()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def dead() -> Iterator[list[JobEvent]]:
    """A death handler for the test, removed afterwards."""
    seen: list[JobEvent] = []
    death_handlers.append(seen.append)
    try:
        yield seen
    finally:
        death_handlers.remove(seen.append)


class Records(logging.Handler):
    """Every record, once, from the root and from loggers that do not propagate."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record, unless it was kept already on its way to the root."""
        if all(kept is not record for kept in self.records):
            self.records.append(record)

    def errors(self) -> list[logging.LogRecord]:
        """The records at ERROR or above."""
        return [r for r in self.records if r.levelno >= logging.ERROR]


@pytest.fixture
def logs() -> Iterator[Records]:
    """What every logger says at INFO and above; Celery's tracer does not propagate."""
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("celery.app.trace")]
    level = loggers[0].level
    loggers[0].setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        loggers[0].setLevel(level)


class TestContract:
    """The same behaviours, on every engine."""

    def test_a_rate_limit_retries_after_retry_after_then_succeeds(
        self, engine: Engine, dead: list[JobEvent], logs: Records
    ) -> None:
        """A 429 with Retry-After: 1 is retried a second on; then it succeeds."""
        with scripted(SLOW_DOWN, OK) as gateway:
            started = time.monotonic()
            ran = engine.run(capture_payment, gateway.url, "A-17")
            waited = time.monotonic() - started
            assert gateway.seen == 2
        assert (ran.failed, ran.value) == (False, "captured")
        assert waited >= 1.0
        [retried] = RECORDER.calls("on_retry")
        assert retried.decision is not None
        assert (retried.decision.kind, retried.attempt) == ("rate_limit", 1)
        assert retried.retry_in is not None
        assert retried.retry_in >= 1.0
        assert RECORDER.states() == [
            "queued",
            "running",
            "retrying",
            "running",
            "succeeded",
        ]
        assert [e.attempt for e in RECORDER.calls("on_status")] == [1, 1, 1, 2, 2]
        assert RECORDER.calls("on_give_up") == []
        assert dead == []
        assert logs.errors() == []
        status = engine.status(ran.job_id)
        assert status is not None
        assert (status["state"], status["attempt"], status["job_id"]) == (
            "succeeded",
            2,
            ran.job_id,
        )

    def test_a_quota_gives_up_at_once_and_quietly(
        self, engine: Engine, dead: list[JobEvent], logs: Records
    ) -> None:
        """A 429 insufficient_quota is tried once, told once, logged below ERROR."""
        with scripted(QUOTA, OK) as gateway:
            ran = engine.run(capture_payment, gateway.url, "A-17")
            assert gateway.seen == 1
        assert ran.failed
        [gave_up] = RECORDER.calls("on_give_up")
        assert gave_up.decision is not None
        assert (gave_up.reason, gave_up.decision.kind) == ("discarded", "quota")
        assert [(e.job_id, e.reason) for e in dead] == [(ran.job_id, "discarded")]
        assert RECORDER.calls("on_retry") == []
        assert logs.errors() == []
        status = engine.status(ran.job_id)
        assert status is not None
        assert (status["state"], status["reason"], status["kind"]) == (
            "failed",
            "discarded",
            "quota",
        )
        assert status["errors"][0]["code"] == "quota"

    def test_a_bug_fails_as_the_engine_fails_tasks(
        self, engine: Engine, dead: list[JobEvent], logs: Records
    ) -> None:
        """A bug fails the job, logged once at ERROR; its text is not in the status."""
        ran = engine.run(price, "tea")
        assert ran.failed
        [logged] = logs.errors()
        assert logged.exc_info is not None or "Traceback" in logged.getMessage()
        assert [(e.job_id, e.reason) for e in dead] == [(ran.job_id, "discarded")]
        assert len(RECORDER.calls("on_give_up")) == 1
        status = engine.status(ran.job_id)
        assert status is not None
        assert "SELECT" not in repr(status)
        assert "secret" not in repr(status)
        assert (status["state"], status["bucket"]) == (
            "failed",
            Bucket.PROGRAMMER_ERROR.value,
        )
        assert str(status["errors"][0]["reference"]).startswith("ERR-")

    def test_exhausted_attempts_give_up_once(
        self, engine: Engine, dead: list[JobEvent], logs: Records
    ) -> None:
        """A gateway down through every attempt: given up once, when they are spent."""
        with scripted(DOWN) as gateway:
            ran = engine.run(capture_payment, gateway.url, "A-17")
            assert gateway.seen == FAST.attempts
        assert ran.failed
        assert len(RECORDER.calls("on_retry")) == FAST.attempts - 1
        [gave_up] = RECORDER.calls("on_give_up")
        assert (gave_up.reason, gave_up.attempt) == ("exhausted", FAST.attempts)
        assert [(e.job_id, e.reason) for e in dead] == [(ran.job_id, "exhausted")]
        assert logs.errors() == []
        status = engine.status(ran.job_id)
        assert status is not None
        assert (
            status["state"],
            status["reason"],
            status["kind"],
            status["attempt"],
        ) == (
            "failed",
            "exhausted",
            "server",
            FAST.attempts,
        )
