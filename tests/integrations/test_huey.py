"""Jobs on a real Huey: SqliteHuey on a temporary file, worked by its consumer."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from huey import MemoryHuey, SqliteHuey
from huey.exceptions import TaskException
from huey.signals import SIGNAL_ENQUEUED

from outcome import Bucket, Classifier, Err, ErrorDetail, Errors, Ok, RetryPolicy
from outcome.integrations.huey import job_status, task
from outcome.jobs import JobEvent, JobPolicy, death_handlers
from tests.integrations.scripted import DOWN, OK, QUOTA, SLOW_DOWN, capture, scripted

WAIT = 20.0  # seconds a test waits for a job, far beyond what any takes
FAST = RetryPolicy(attempts=3, base_delay=0.1, max_delay=0.2)


class Recorder:
    """Every hook of a policy, recording the events it is given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, JobEvent]] = []

    def policy(self, retry: RetryPolicy = FAST, **options: Any) -> JobPolicy:
        """A policy whose every hook records."""
        return JobPolicy(
            retry=retry,
            on_retry=self.hook("on_retry"),
            on_give_up=self.hook("on_give_up"),
            on_status=self.hook("on_status"),
            **options,
        )

    def hook(self, name: str) -> Callable[[JobEvent], None]:
        """A hook recording under `name`."""
        return lambda event: self.events.append((name, event))

    def states(self) -> list[str]:
        """The states on_status was told, in order."""
        return [event.state for name, event in self.events if name == "on_status"]

    def calls(self, name: str) -> list[JobEvent]:
        """The events hook `name` received."""
        return [event for hook, event in self.events if hook == name]


@pytest.fixture
def huey(tmp_path: Path) -> Iterator[SqliteHuey]:
    """A SqliteHuey on a temporary file, with its consumer running in threads."""
    instance = SqliteHuey("jobs", filename=str(tmp_path / "huey.db"))
    consumer = instance.create_consumer(
        workers=2,
        worker_type="thread",
        periodic=False,
        initial_delay=0.01,
        backoff=1.1,
        max_delay=0.05,
        check_worker_health=False,
    )
    handlers = {
        number: signal.getsignal(number)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    consumer.start()
    try:
        yield instance
    finally:
        consumer.stop(graceful=True)
        for number, handler in handlers.items():
            signal.signal(number, handler)


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

    def test_states_and_status(self, huey: SqliteHuey, recorder: Recorder) -> None:
        """on_status hears queued, running, succeeded; the store keeps the last."""

        @task(huey, policy=recorder.policy())
        def double(n: int) -> int:
            return n * 2

        result = double(21)
        assert result.get(blocking=True, timeout=WAIT) == 42
        assert recorder.states() == ["queued", "running", "succeeded"]
        status = job_status(huey, result.id)
        assert status is not None
        assert (status["state"], status["attempt"], status["job_id"]) == (
            "succeeded",
            1,
            result.id,
        )

    def test_a_job_run_without_being_queued_is_attempt_one(
        self, tmp_path: Path, recorder: Recorder
    ) -> None:
        """A task executed directly, never enqueued, counts as its first attempt."""
        instance = SqliteHuey(filename=str(tmp_path / "direct.db"))

        @task(instance, policy=recorder.policy())
        def hello() -> str:
            return "hello"

        assert instance.execute(hello.s()) == "hello"
        assert [event.attempt for event in recorder.calls("on_status")] == [1, 1]
        assert recorder.states() == ["running", "succeeded"]

    def test_unknown_job_has_no_status(self, huey: SqliteHuey) -> None:
        """A job id never seen has no status."""
        assert job_status(huey, "no-such-job") is None


class TestQueued:
    """Each new job is told queued once, by one receiver per Huey."""

    def test_each_task_hears_its_own_jobs(self, recorder: Recorder) -> None:
        """Of two tasks on one Huey, each job is queued once, under its own policy."""
        instance = MemoryHuey("queued")
        other = Recorder()

        @task(instance, policy=recorder.policy())
        def first() -> int:
            return 1

        @task(instance, policy=other.policy())
        def second() -> int:
            return 2

        @instance.task()
        def plain() -> int:
            return 3

        result = first()
        plain()
        assert recorder.states() == ["queued"]
        assert other.states() == []
        second()
        assert [event.job_name for event in other.calls("on_status")] == ["second"]
        status = job_status(instance, result.id)
        assert status is not None
        assert (status["state"], status["job_name"]) == ("queued", "first")

    def test_one_receiver_however_many_tasks(self) -> None:
        """Enqueueing costs one receiver, not one per task declared."""
        instance = MemoryHuey("receivers")
        # Huey's signal, read for what enqueueing calls: it has no public count.
        receivers = instance._signal.receivers
        before = len(receivers.get(SIGNAL_ENQUEUED, []))
        for number in range(5):
            task(instance, policy=JobPolicy(), name=f"job-{number}")(lambda: None)
        assert len(receivers[SIGNAL_ENQUEUED]) == before + 1

    def test_a_task_of_the_same_name_on_another_huey_is_apart(self) -> None:
        """Two Hueys with a task of one name each keep their own statuses."""
        here, there = MemoryHuey("here"), MemoryHuey("there")
        heard_here, heard_there = Recorder(), Recorder()
        task(here, policy=heard_here.policy(), name="same")(lambda: 1)
        declared = task(there, policy=heard_there.policy(), name="same")(lambda: 2)
        result = declared()
        assert heard_here.states() == []
        assert heard_there.states() == ["queued"]
        assert job_status(here, result.id) is None


class TestRetry:
    """Transient failures go back through the queue, with the server's wait."""

    def test_rate_limit_then_success(
        self, huey: SqliteHuey, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """A real httpx 429 with Retry-After: 1 is retried after 1 s, then succeeds."""
        with scripted(SLOW_DOWN, OK) as gateway:

            @task(huey, policy=recorder.policy())
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            result = capture_payment("A-17")
            assert result.get(blocking=True, timeout=WAIT) == "captured"
            assert gateway.seen == 2
        [retried] = recorder.calls("on_retry")
        assert retried.decision is not None
        assert (retried.decision.kind, retried.attempt) == ("rate_limit", 1)
        assert retried.retry_in is not None
        assert retried.retry_in >= 1.0
        assert recorder.states() == [
            "queued",
            "running",
            "retrying",
            "running",
            "succeeded",
        ]
        assert [event.attempt for event in recorder.calls("on_status")] == [
            1,
            1,
            1,
            2,
            2,
        ]
        assert recorder.calls("on_give_up") == []
        assert dead == []

    def test_a_returned_transient_err_is_retried(
        self, huey: SqliteHuey, recorder: Recorder
    ) -> None:
        """An Err holding a transient failure is retried like a raised one."""
        replies = iter([Err(ConnectionResetError()), Ok("paid")])

        @task(huey, policy=recorder.policy())
        def charge() -> object:
            return next(replies)

        assert charge().get(blocking=True, timeout=WAIT) == Ok("paid")
        assert recorder.states()[-1] == "succeeded"
        assert len(recorder.calls("on_retry")) == 1

    def test_exhausted_once(
        self, huey: SqliteHuey, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """A gateway down through every attempt gives up once; death handler once."""
        with scripted(DOWN) as gateway:

            @task(huey, policy=recorder.policy())
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            result = capture_payment("A-17")
            with pytest.raises(TaskException):
                result.get(blocking=True, timeout=WAIT)
            assert gateway.seen == FAST.attempts
        [gave_up] = recorder.calls("on_give_up")
        assert (gave_up.reason, gave_up.attempt, gave_up.state) == (
            "exhausted",
            3,
            "failed",
        )
        assert [event.job_id for event in dead] == [result.id]
        status = job_status(huey, result.id)
        assert status is not None
        assert (status["state"], status["reason"], status["kind"]) == (
            "failed",
            "exhausted",
            "server",
        )


class TestWithoutOnStatus:
    """With no on_status nor budget, the statuses are stored all the same."""

    def test_a_retried_job_succeeds_and_says_so(self, huey: SqliteHuey) -> None:
        """A transient failure is retried and heard; the success is stored."""
        retried: list[JobEvent] = []
        replies = iter([ConnectionResetError("reset"), None])

        @task(huey, policy=JobPolicy(retry=FAST, on_retry=retried.append))
        def charge() -> str:
            failure = next(replies)
            if failure is not None:
                raise failure
            return "paid"

        result = charge()
        assert result.get(blocking=True, timeout=WAIT) == "paid"
        assert [(event.state, event.attempt) for event in retried] == [("retrying", 1)]
        status = job_status(huey, result.id)
        assert status is not None
        assert (status["state"], status["attempt"]) == ("succeeded", 2)

    def test_a_bug_gives_up_and_says_so(
        self, huey: SqliteHuey, dead: list[JobEvent]
    ) -> None:
        """A programmer error gives up at once; its status hides its text."""

        @task(huey, policy=JobPolicy(retry=FAST))
        def price(sku: str) -> int:
            raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text

        result = price("tea")
        with pytest.raises(TaskException):
            result.get(blocking=True, timeout=WAIT)
        assert [event.reason for event in dead] == ["discarded"]
        status = job_status(huey, result.id)
        assert status is not None
        assert (status["state"], status["bucket"]) == (
            "failed",
            Bucket.PROGRAMMER_ERROR.value,
        )
        assert "SELECT" not in repr(status)

    def test_a_running_job_reads_running(self, huey: SqliteHuey) -> None:
        """While it runs, the job's status says running, then succeeded."""
        started, release = threading.Event(), threading.Event()

        @task(huey, policy=JobPolicy(retry=FAST))
        def hold() -> str:
            started.set()
            release.wait(WAIT)
            return "done"

        result = hold()
        assert started.wait(WAIT)
        try:
            status = job_status(huey, result.id)
            assert status is not None
            assert (status["state"], status["attempt"]) == ("running", 1)
        finally:
            release.set()
        assert result.get(blocking=True, timeout=WAIT) == "done"
        status = job_status(huey, result.id)
        assert status is not None
        assert status["state"] == "succeeded"


class TestGiveUp:
    """What waiting will not fix gives up at once, told and quiet."""

    def test_quota_is_discarded_at_once(
        self,
        huey: SqliteHuey,
        recorder: Recorder,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A 429 insufficient_quota is not retried, and nothing is logged at ERROR."""
        with scripted(QUOTA, OK) as gateway:

            @task(huey, policy=recorder.policy())
            def capture_payment(order: str) -> str:
                return str(capture(gateway.url, order)["status"])

            with caplog.at_level(logging.INFO):
                result = capture_payment("A-17")
                with pytest.raises(TaskException):
                    result.get(blocking=True, timeout=WAIT)
            assert gateway.seen == 1
        [gave_up] = recorder.calls("on_give_up")
        assert gave_up.decision is not None
        assert (gave_up.reason, gave_up.decision.kind) == ("discarded", "quota")
        assert [event.reason for event in dead] == ["discarded"]
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        status = job_status(huey, result.id)
        assert status is not None
        assert status["errors"][0]["code"] == "quota"

    def test_a_bug_fails_loudly_and_safely(
        self,
        huey: SqliteHuey,
        recorder: Recorder,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A programmer error is logged at ERROR once; its text is not in the status."""

        @task(huey, policy=recorder.policy())
        def price(sku: str) -> int:
            raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text

        with caplog.at_level(logging.INFO):
            result = price("tea")
            with pytest.raises(TaskException):
                result.get(blocking=True, timeout=WAIT)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert errors[0].exc_info is not None
        assert [event.reason for event in dead] == ["discarded"]
        status = job_status(huey, result.id)
        assert status is not None
        assert "SELECT" not in repr(status)
        assert status["bucket"] == Bucket.PROGRAMMER_ERROR.value
        assert str(status["errors"][0]["reference"]).startswith("ERR-")

    def test_a_returned_err_of_errors_gives_up_with_them(
        self, huey: SqliteHuey, recorder: Recorder
    ) -> None:
        """An Err of user-fixable Errors is discarded, and the status shows them."""

        @task(huey, policy=recorder.policy())
        def validate() -> object:
            return Err(Errors([ErrorDetail("card", "declined")]))

        result = validate()
        with pytest.raises(TaskException):
            result.get(blocking=True, timeout=WAIT)
        status = job_status(huey, result.id)
        assert status is not None
        assert status["errors"] == [
            {"field": ["card"], "message": "Card was declined", "code": "declined"}
        ]
        assert status["reason"] == "discarded"


class TestHooksThatRaise:
    """A hook or death handler that raises is logged and changes nothing."""

    def test_a_raising_hook_is_logged_and_the_rest_run(
        self,
        huey: SqliteHuey,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """on_give_up raising: logged with its traceback; death handlers still run."""

        def broken(_event: JobEvent) -> None:
            raise RuntimeError("the pager is down")

        @task(huey, policy=JobPolicy(retry=FAST, on_give_up=broken))
        def validate() -> object:
            return Err(Errors([ErrorDetail("card", "declined")]))

        with caplog.at_level(logging.ERROR, logger="outcome.jobs"):
            result = validate()
            with pytest.raises(TaskException):
                result.get(blocking=True, timeout=WAIT)
        assert len(dead) == 1
        [logged] = [r for r in caplog.records if r.name == "outcome.jobs"]
        assert logged.exc_info is not None
        assert "the pager is down" in str(logged.exc_info[1])
        status = job_status(huey, result.id)
        assert status is not None
        assert status["state"] == "failed"


class TestBadInput:
    """Mistakes are refused when the task is declared."""

    def test_policy_must_be_a_job_policy(self, tmp_path: Path) -> None:
        """A RetryPolicy where a JobPolicy belongs is a TypeError naming it."""
        instance = SqliteHuey(filename=str(tmp_path / "h.db"))
        with pytest.raises(
            TypeError, match=r"policy=JobPolicy\(\.\.\.\), not RetryPolicy"
        ):
            task(instance, policy=RetryPolicy())  # type: ignore[arg-type]

    @pytest.mark.parametrize("option", ["retries", "retry_delay", "context"])
    def test_hueys_own_retrying_is_refused(self, tmp_path: Path, option: str) -> None:
        """Huey's retry options would fight the policy: refused, saying why."""
        instance = SqliteHuey(filename=str(tmp_path / "h.db"))
        with pytest.raises(TypeError, match=rf"does not take Huey's {option}"):
            task(instance, policy=JobPolicy(), **{option: 1})

    def test_classifier_of_the_policy_decides(self, tmp_path: Path) -> None:
        """The policy's own classifier is the one that decides."""
        classifier = Classifier()
        classifier.register(KeyError, bucket=Bucket.USER_VISIBLE, transient=True)
        instance = SqliteHuey(filename=str(tmp_path / "h.db"), immediate=True)
        recorder = Recorder()
        replies = iter([KeyError("cache"), None])

        @task(instance, policy=recorder.policy(classifier=classifier))
        def warm() -> str:
            failure = next(replies)
            if failure is not None:
                raise failure
            return "warm"

        warm()
        assert len(recorder.calls("on_retry")) == 1
