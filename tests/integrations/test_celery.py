"""Jobs on a real Celery worker: in-process on memory://, retried by its timer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_retry

from outcome import Bucket, Err, ErrorDetail, Errors, Ok, RetryPolicy
from outcome.integrations.celery import _STATUS, job_status, task
from outcome.jobs import JobEvent, JobFailed, JobPolicy, death_handlers
from tests.integrations.scripted import DOWN, OK, QUOTA, SLOW_DOWN, capture, scripted
from tests.integrations.test_huey import FAST, Recorder

WAIT = 20.0  # seconds a test waits for a job, far beyond what any takes


@pytest.fixture(scope="module")
def app() -> Celery:
    """A Celery app on the in-memory broker; `worker` runs a real worker for it."""
    instance = Celery("outcome-tests", broker="memory://", backend="cache+memory://")
    instance.conf.update(task_serializer="json", result_serializer="json")
    return instance


@pytest.fixture
def worker(app: Celery) -> Iterator[None]:
    """Start the worker after the test declared its tasks, and stop it after."""
    holder: dict[str, Any] = {}

    def start() -> None:
        context = start_worker(
            app,
            perform_ping_check=False,
            pool="threads",
            concurrency=2,
            loglevel="INFO",
        )
        holder["context"] = context
        context.__enter__()

    yield start  # type: ignore[misc]
    if "context" in holder:
        holder["context"].__exit__(None, None, None)


class Records(logging.Handler):
    """Keeps every record of Celery's task tracer, which does not propagate."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def at_or_above(self, level: int) -> list[logging.LogRecord]:
        """The records at `level` or more severe."""
        return [record for record in self.records if record.levelno >= level]


@pytest.fixture
def traced() -> Iterator[Records]:
    """What Celery logs about each task, at every level."""
    handler, logger = Records(), logging.getLogger("celery.app.trace")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def recorder() -> Recorder:
    """A fresh set of recording hooks."""
    return Recorder()


@pytest.fixture
def dead() -> Iterator[list[JobEvent]]:
    """A death handler for the test, removed afterwards."""
    seen: list[JobEvent] = []
    death_handlers.append(seen.append)
    try:
        yield seen
    finally:
        death_handlers.remove(seen.append)


class TestSuccess:
    """A job that succeeds is queued, runs and succeeds, and says so."""

    def test_states_and_status(
        self, app: Celery, worker: Any, recorder: Recorder
    ) -> None:
        """on_status hears queued, running, succeeded; the backend keeps the last."""

        @task(app, policy=recorder.policy(), name="tests.double")
        def double(n: int) -> int:
            return n * 2

        worker()
        result = double.delay(21)
        assert result.get(timeout=WAIT) == 42
        assert recorder.states() == ["queued", "running", "succeeded"]
        status = job_status(app, result.id)
        assert status is not None
        assert (status["state"], status["attempt"], status["job_name"]) == (
            "succeeded",
            1,
            "tests.double",
        )

    def test_a_success_is_read_from_celerys_own_record(
        self, app: Celery, worker: Any, recorder: Recorder
    ) -> None:
        """From a worker, a success stores no status: Celery's SUCCESS says it."""

        @task(app, policy=recorder.policy(), name="tests.triple")
        def triple(n: int) -> int:
            return n * 3

        worker()
        result = triple.delay(2)
        assert result.get(timeout=WAIT) == 6
        stored = app.backend.get_task_meta(_STATUS + result.id)["result"]
        assert stored["state"] == "queued"
        status = job_status(app, result.id)
        assert status is not None
        assert (status["state"], status["attempt"]) == ("succeeded", 1)

    def test_running_is_read_from_celerys_started_state(
        self, app: Celery, worker: Any
    ) -> None:
        """With task_track_started, a job that is running reads as running."""
        started, release = threading.Event(), threading.Event()

        @task(app, policy=JobPolicy(), name="tests.hold", track_started=True)
        def hold() -> str:
            started.set()
            release.wait(WAIT)
            return "done"

        worker()
        result = hold.delay()
        assert started.wait(WAIT)
        try:
            status = job_status(app, result.id)
            assert status is not None
            assert (status["state"], status["job_name"]) == ("running", "tests.hold")
        finally:
            release.set()
        assert result.get(timeout=WAIT) == "done"
        status = job_status(app, result.id)
        assert status is not None
        assert status["state"] == "succeeded"

    @pytest.mark.parametrize("where", ["task", "call"])
    def test_with_ignore_result_the_success_is_stored(
        self, app: Celery, worker: Any, where: str
    ) -> None:
        """Celery keeps no result under ignore_result, so the status says it."""
        done = threading.Event()

        @task(
            app,
            policy=JobPolicy(),
            name=f"tests.quiet_{where}",
            ignore_result=where == "task",
        )
        def quiet() -> None:
            done.set()

        worker()
        result = (
            quiet.apply_async(ignore_result=True) if where == "call" else quiet.delay()
        )
        assert done.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while (status := job_status(app, result.id)) is None or status[
            "state"
        ] != "succeeded":
            assert time.monotonic() < deadline, f"still {status}"
            time.sleep(0.01)
        assert status["attempt"] == 1

    def test_an_eager_job_stores_its_own_statuses(self) -> None:
        """Run eagerly nothing is published, so the attempt stores what it says."""
        eager = Celery("eager", broker="memory://", backend="cache+memory://")
        eager.conf.update(task_always_eager=True, task_store_eager_result=True)

        @task(eager, policy=JobPolicy(), name="tests.eager")
        def hello() -> str:
            return "hello"

        result = hello.delay()
        assert result.get() == "hello"
        status = job_status(eager, result.id)
        assert status is not None
        assert (status["state"], status["job_name"]) == ("succeeded", "tests.eager")

    def test_unknown_job_has_no_status(self, app: Celery) -> None:
        """A job id never seen has no status."""
        assert job_status(app, "no-such-job") is None

    def test_a_success_with_no_status_of_ours_has_none(self, app: Celery) -> None:
        """A task that Celery ran but this integration never saw has no status."""
        app.backend.store_result("sent-by-name", 1, "SUCCESS")
        assert job_status(app, "sent-by-name") is None


class TestRetry:
    """Transient failures go back through the broker with a countdown."""

    def test_rate_limit_then_success(
        self, app: Celery, worker: Any, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """A real httpx 429 with Retry-After: 1 is retried by countdown, then works."""
        with scripted(SLOW_DOWN, OK) as gateway:

            @task(app, policy=recorder.policy(), name="tests.capture_ok")
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            worker()
            result = capture_payment.delay("A-17")
            assert result.get(timeout=WAIT) == "captured"
            assert gateway.seen == 2
        [retried] = recorder.calls("on_retry")
        assert retried.decision is not None
        assert retried.decision.kind == "rate_limit"
        assert retried.retry_in is not None
        assert retried.retry_in >= 1.0
        assert recorder.states() == [
            "queued",
            "running",
            "retrying",
            "running",
            "succeeded",
        ]
        assert [e.attempt for e in recorder.calls("on_status")] == [1, 1, 1, 2, 2]
        assert dead == []

    def test_a_returned_transient_err_is_retried(
        self, app: Celery, worker: Any, recorder: Recorder
    ) -> None:
        """An Err holding a transient failure is retried like a raised one."""
        replies = iter([Err(ConnectionResetError()), Ok("paid")])

        @task(app, policy=recorder.policy(), name="tests.charge")
        def charge() -> object:
            reply = next(replies)
            return reply.ok_value if isinstance(reply, Ok) else reply

        worker()
        assert charge.delay().get(timeout=WAIT) == "paid"
        assert len(recorder.calls("on_retry")) == 1

    def test_exhausted_once(
        self, app: Celery, worker: Any, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """A gateway down through every attempt gives up once; death handler once."""
        with scripted(DOWN) as gateway:

            @task(app, policy=recorder.policy(), name="tests.capture_down")
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            worker()
            result = capture_payment.delay("A-17")
            with pytest.raises(JobFailed, match="exhausted: server"):
                result.get(timeout=WAIT)
            assert gateway.seen == FAST.attempts
        [gave_up] = recorder.calls("on_give_up")
        assert (gave_up.reason, gave_up.attempt) == ("exhausted", 3)
        assert [event.job_id for event in dead] == [result.id]
        status = job_status(app, result.id)
        assert status is not None
        assert (status["state"], status["reason"]) == ("failed", "exhausted")

    def test_the_record_of_a_retry_keeps_no_text_of_its_cause(self) -> None:
        """Celery's traceback of a retry is the retry's alone, not its cause's text."""
        eager = Celery("retry-record", broker="memory://", backend="cache+memory://")
        eager.conf.update(task_always_eager=True)
        replies = iter([ConnectionResetError("token=secret-123"), None])
        tracebacks: list[str] = []

        def record(einfo: Any, **_: object) -> None:
            tracebacks.append(einfo.traceback)

        @task(eager, policy=JobPolicy(retry=FAST), name="tests.flaky_token")
        def flaky() -> str:
            failure = next(replies)
            if failure is not None:
                raise failure
            return "done"

        task_retry.connect(record, sender=flaky, weak=False)
        try:
            assert flaky.delay().get() == "done"
        finally:
            task_retry.disconnect(record, sender=flaky)
        [retried] = tracebacks
        assert "Retry in" in retried
        assert "secret-123" not in retried
        assert "ConnectionResetError" not in retried


class TestQueued:
    """Each job published is told queued once, by its own task."""

    def test_only_the_published_task_hears(self) -> None:
        """Publishing one task tells its policy, not another task's."""
        app = Celery("queued", broker="memory://", backend="cache+memory://")
        mine, other = Recorder(), Recorder()

        @task(app, policy=mine.policy(), name="tests.published")
        def published(order: str) -> str:
            return order

        @task(app, policy=other.policy(), name="tests.not_published")
        def not_published() -> None:
            """Never published."""

        result = published.delay("A-17")
        [queued] = mine.calls("on_status")
        assert (queued.state, queued.args, queued.job_id) == (
            "queued",
            ("A-17",),
            result.id,
        )
        assert other.calls("on_status") == []
        status = job_status(app, result.id)
        assert status is not None
        assert (status["state"], status["job_name"]) == ("queued", "tests.published")


class TestGiveUp:
    """What waiting will not fix gives up at once, told and quiet."""

    def test_quota_is_expected_and_quiet(
        self,
        app: Celery,
        worker: Any,
        recorder: Recorder,
        dead: list[JobEvent],
        traced: Records,
    ) -> None:
        """A 429 insufficient_quota is not retried and is logged below ERROR."""
        with scripted(QUOTA, OK) as gateway:

            @task(app, policy=recorder.policy(), name="tests.capture_quota")
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            worker()
            result = capture_payment.delay("A-17")
            with pytest.raises(JobFailed, match="discarded: quota"):
                result.get(timeout=WAIT)
            assert gateway.seen == 1
        assert [event.reason for event in dead] == ["discarded"]
        assert traced.at_or_above(logging.ERROR) == []
        [expected] = [r for r in traced.records if "raised expected" in r.getMessage()]
        assert expected.levelno == logging.INFO

    def test_a_bug_fails_the_task_as_usual(
        self,
        app: Celery,
        worker: Any,
        recorder: Recorder,
        dead: list[JobEvent],
        traced: Records,
    ) -> None:
        """A programmer error fails with itself, at ERROR; the status hides its text."""

        @task(app, policy=recorder.policy(), name="tests.price")
        def price(sku: str) -> int:
            raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text

        worker()
        result = price.delay("tea")
        with pytest.raises(LookupError):
            result.get(timeout=WAIT)
        [failed] = traced.at_or_above(logging.ERROR)
        assert failed.exc_info is not None
        assert [event.reason for event in dead] == ["discarded"]
        status = job_status(app, result.id)
        assert status is not None
        assert "SELECT" not in repr(status)
        assert status["bucket"] == Bucket.PROGRAMMER_ERROR.value

    def test_a_returned_err_of_errors_is_reported(
        self, app: Celery, worker: Any, recorder: Recorder
    ) -> None:
        """An Err of user-fixable Errors gives up, and the status shows them."""

        @task(app, policy=recorder.policy(), name="tests.validate")
        def validate() -> object:
            return Err(Errors([ErrorDetail("card", "declined")]))

        worker()
        result = validate.delay()
        with pytest.raises(JobFailed):
            result.get(timeout=WAIT)
        status = job_status(app, result.id)
        assert status is not None
        assert status["errors"][0]["code"] == "declined"


class TestNoResultBackend:
    """With no result backend, jobs run and no status is kept."""

    def test_eager_job_runs_and_status_says_why_not(self) -> None:
        """An eager app with no backend runs the job; job_status says what to set."""
        bare = Celery("bare", broker="memory://")
        bare.conf.task_always_eager = True
        recorder = Recorder()

        @task(bare, policy=recorder.policy(), name="tests.bare")
        def hello() -> str:
            return "hello"

        assert hello.delay().get() == "hello"
        assert recorder.states() == ["running", "succeeded"]
        with pytest.raises(ValueError, match="set result_backend"):
            job_status(bare, "any")


class TestDeclaration:
    """Mistakes are refused when the task is declared."""

    def test_policy_must_be_a_job_policy(self, app: Celery) -> None:
        """A RetryPolicy where a JobPolicy belongs is a TypeError naming it."""
        with pytest.raises(
            TypeError, match=r"policy=JobPolicy\(\.\.\.\), not RetryPolicy"
        ):
            task(app, policy=RetryPolicy())  # type: ignore[arg-type]

    @pytest.mark.parametrize("option", ["autoretry_for", "max_retries", "bind"])
    def test_celerys_own_retrying_is_refused(self, app: Celery, option: str) -> None:
        """Celery's retry options would fight the policy: refused, saying why."""
        with pytest.raises(TypeError, match=rf"does not take Celery's {option}"):
            task(app, policy=JobPolicy(), **{option: 1})

    def test_a_backoff_past_the_visibility_timeout_is_refused(self) -> None:
        """On Redis, a max_delay that reaches the visibility timeout is refused."""
        redis_app = Celery("r", broker="redis://127.0.0.1:6379/0")
        redis_app.conf.broker_transport_options = {"visibility_timeout": 600}
        policy = JobPolicy(retry=RetryPolicy(max_delay=600.0))
        with pytest.raises(ValueError, match="reaches the broker's visibility timeout"):
            task(redis_app, policy=policy)
        task(redis_app, policy=JobPolicy(retry=RetryPolicy(max_delay=599.0)))

    def test_the_default_visibility_timeout_is_an_hour(self) -> None:
        """Without a setting, Redis's one hour applies; RabbitMQ has none."""
        policy = JobPolicy(retry=RetryPolicy(base_delay=1.0, max_delay=3600.0))
        with pytest.raises(ValueError, match="3600 s"):
            task(Celery("r", broker="redis://127.0.0.1:6379/0"), policy=policy)
        task(Celery("a", broker="amqp://guest@127.0.0.1//"), policy=policy)
