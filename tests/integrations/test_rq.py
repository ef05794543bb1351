"""Jobs on a real RQ: a SimpleWorker with its scheduler, in bursts, on Redis."""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.job import Job, JobStatus

from outcome import Bucket, Err, ErrorDetail, Errors, Ok, Retrying, RetryPolicy
from outcome.integrations.rq import JobFunction, job, job_status
from outcome.jobs import JobEvent, JobPolicy, death_handlers
from tests.integrations.scripted import DOWN, OK, QUOTA, SLOW_DOWN, capture, scripted
from tests.integrations.test_celery_redis import REDIS_URL, _redis
from tests.integrations.test_huey import FAST, Recorder

WAIT = 20.0  # seconds a test waits for a job, far beyond what any takes
ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED})
CONNECTION = redis.Redis.from_url(REDIS_URL)
QUEUE = Queue(f"outcome-rq-tests-{uuid.uuid4().hex[:8]}", connection=CONNECTION)
# RQ's worker imports a job's function by name: the jobs live here, at the top
# level, and share one recording policy that each test starts afresh.
RECORDER = Recorder()
# No backoff of its own, so retries run at once; a server's wait still holds.
POLICY = RECORDER.policy(
    RetryPolicy(attempts=FAST.attempts, base_delay=0.0, max_delay=0.0)
)
REPLIES: list[object] = []


@job(queue=QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def capture_payment(url: str, order: str) -> str:
    """Capture through the scripted gateway at `url`."""
    return str(capture(url, order)["status"])


@job(queue=QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def price(sku: str) -> int:
    """A bug, whose text must stay out of every status."""
    raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text


@job(queue=QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def validate() -> object:
    """A user-fixable failure, returned."""
    return Err(Errors([ErrorDetail("card", "declined")]))


@job(queue=QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def charge() -> object:
    """Return the next of REPLIES."""
    reply = REPLIES.pop(0)
    return reply.ok_value if isinstance(reply, Ok) else reply


@job(queue=QUEUE, policy=POLICY, failure_ttl=300, result_ttl=300)
def own_status() -> str:
    """Say what job_status reads while this job runs."""
    current = get_current_job()
    assert current is not None
    status = job_status(CONNECTION, current.id)
    assert status is not None
    return f"{status['state']} {status['attempt']}"


SLOW_ATTEMPTS: list[int] = []


@job(queue=QUEUE, policy=POLICY, timeout=1, failure_ttl=300, result_ttl=300)
def slow_once() -> str:
    """Run past RQ's time limit on the first attempt, then end at once."""
    SLOW_ATTEMPTS.append(len(SLOW_ATTEMPTS) + 1)
    if len(SLOW_ATTEMPTS) == 1:
        time.sleep(10)  # RQ's JobTimeoutException cuts this at 1 s
    return "done"


INNER_CALLS: list[int] = []  # the attempt of the job each inner call ran in
# A retry loop inside a job, which would try a timeout again at once.
INNER = Retrying(policy=RetryPolicy(attempts=3), sleep=lambda _seconds: None)


@job(queue=QUEUE, policy=POLICY, timeout=1, failure_ttl=300, result_ttl=300)
def slow_in_a_loop() -> str:
    """Run past RQ's time limit inside a retry loop on the first attempt."""
    SLOW_ATTEMPTS.append(len(SLOW_ATTEMPTS) + 1)
    attempt = len(SLOW_ATTEMPTS)

    def call() -> str:
        INNER_CALLS.append(attempt)
        if attempt == 1:
            time.sleep(3)  # cut at 1 s; a call tried again would run on
        return "done"

    return INNER.call(call)


@job(queue=QUEUE.name, connection=CONNECTION, policy=JobPolicy())
def double(n: int) -> int:
    """Double, on a queue given by name."""
    return n * 2


def relay(n: int) -> int:
    """A plain function, enqueued as it is, that calls a job's function."""
    return double(n)


class Payments(Queue):
    """A queue class of the app's own."""


@job(queue=QUEUE.name, connection=CONNECTION, queue_class=Payments, policy=JobPolicy())
def triple(n: int) -> int:
    """Triple, on a queue of the app's own class."""
    return n * 3


def work(enqueued: Job) -> None:
    """Run a SimpleWorker with the scheduler, in bursts, until `enqueued` ends."""
    worker = SimpleWorker([QUEUE], connection=CONNECTION)
    deadline = time.monotonic() + WAIT
    while enqueued.get_status(refresh=True) not in ENDED:
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT:g} s for job {enqueued.id}")
        worker.work(burst=True, with_scheduler=True, logging_level="INFO")
        time.sleep(0.02)


@pytest.fixture(autouse=True, scope="module")
def connection() -> Iterator[None]:
    """Close the module's Redis connections after its tests."""
    yield
    CONNECTION.close()


@pytest.fixture(autouse=True)
def fresh() -> None:
    """Each test starts with no recorded events and no replies."""
    RECORDER.events.clear()
    REPLIES.clear()


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    """The Redis RQ uses; the test's jobs and queue removed, and signals restored."""
    client = _redis()
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield client
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        for key in client.scan_iter("rq:job:*"):
            if client.hget(key, "origin") == QUEUE.name.encode():
                job_id = key.decode().split(":")[2]
                for owned in client.scan_iter(f"rq:*{job_id}*"):
                    client.delete(owned)
        for key in client.scan_iter(f"*{QUEUE.name}*"):
            client.delete(key)
        client.close()


@pytest.fixture
def dead() -> Iterator[list[JobEvent]]:
    """A death handler for the test, removed afterwards."""
    seen: list[JobEvent] = []
    death_handlers.append(seen.append)
    try:
        yield seen
    finally:
        death_handlers.remove(seen.append)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records at ERROR or above."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("store")
class TestSuccess:
    """A job that succeeds is queued, runs and succeeds, and says so."""

    def test_states_and_status(self) -> None:
        """on_status hears queued, running, succeeded; job_status reads succeeded."""
        with scripted(OK) as gateway:
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            queued = job_status(CONNECTION, enqueued.id)
            work(enqueued)
        assert enqueued.return_value() == "captured"
        assert RECORDER.states() == ["queued", "running", "succeeded"]
        assert queued is not None
        assert (queued["state"], queued["job_id"]) == ("queued", enqueued.id)
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["attempt"], status["job_name"]) == (
            "succeeded",
            1,
            "tests.integrations.test_rq.capture_payment",
        )

    def test_a_success_costs_no_write_of_its_own(self) -> None:
        """The status kept with the job stays "queued"; RQ's own states say the rest."""
        with scripted(OK) as gateway:
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            work(enqueued)
        enqueued.refresh()
        assert enqueued.meta["outcome_status"]["state"] == "queued"

    def test_running_is_read_from_rqs_started(self) -> None:
        """While the job runs, job_status says running, attempt 1."""
        enqueued = own_status.enqueue()
        work(enqueued)
        assert enqueued.return_value() == "running 1"

    def test_enqueued_by_name_the_job_stores_its_own(self) -> None:
        """queue.enqueue(fn) runs the job too, and its first attempt says running."""
        enqueued = QUEUE.enqueue(own_status)
        assert enqueued.func_name == "__call__"
        work(enqueued)
        assert enqueued.return_value() == "running 1"
        assert RECORDER.states() == ["running", "succeeded"]
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert status["state"] == "succeeded"

    def test_queues_by_name_and_class(self) -> None:
        """A queue given by name, or with the app's own class, works the same."""
        doubled, tripled = double.enqueue(21), triple.enqueue(2)
        work(doubled)
        work(tripled)
        assert (doubled.return_value(), tripled.return_value()) == (42, 6)

    def test_a_direct_call_is_a_plain_call(self) -> None:
        """Called outside a worker the job is its function: no job, no hooks."""
        assert double(4) == 8
        with pytest.raises(LookupError):
            price("tea")
        assert RECORDER.events == []

    def test_a_job_calling_another_calls_it_plainly(self) -> None:
        """Inside one job, another job's function is a plain call."""
        enqueued = QUEUE.enqueue(relay, 1)
        work(enqueued)
        assert enqueued.return_value() == 2
        assert job_status(CONNECTION, enqueued.id) is None

    def test_unknown_job_has_no_status(self) -> None:
        """A job id never seen has no status."""
        assert job_status(CONNECTION, "no-such-job") is None

    def test_a_job_of_rqs_own_has_no_status(self) -> None:
        """A job enqueued without this integration has none."""
        enqueued = QUEUE.enqueue(len, "abc")
        work(enqueued)
        assert job_status(CONNECTION, enqueued.id) is None

    def test_a_job_waiting_reads_as_its_stored_status(self) -> None:
        """A job RQ holds as queued or scheduled reads as stored."""
        enqueued = capture_payment.enqueue("http://127.0.0.1:9", "A-17")
        for rq_status in (JobStatus.QUEUED, JobStatus.SCHEDULED):
            enqueued.set_status(rq_status)
            status = job_status(CONNECTION, enqueued.id)
            assert status is not None
            assert status["state"] == "queued"

    def test_a_job_rq_stopped_reads_as_failed(self) -> None:
        """A job that RQ ended without the policy (stopped) reads as failed."""
        enqueued = capture_payment.enqueue("http://127.0.0.1:9", "A-17")
        enqueued.set_status(JobStatus.STOPPED)
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["reason"], status["attempt"]) == (
            "failed",
            None,
            1,
        )


@pytest.mark.usefixtures("store")
class TestRetry:
    """Transient failures are retried through RQ's scheduler."""

    def test_rate_limit_then_success(
        self, dead: list[JobEvent], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A real httpx 429 with Retry-After: 1 is scheduled 1 s on, then succeeds."""
        with scripted(SLOW_DOWN, OK) as gateway, caplog.at_level(logging.INFO):
            started = time.monotonic()
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            work(enqueued)
            waited = time.monotonic() - started
            assert gateway.seen == 2
        assert waited >= 1.0
        assert enqueued.return_value() == "captured"
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
        assert dead == []
        assert errors_logged(caplog) == []
        [scheduled] = [r for r in caplog.records if "for retry" in r.getMessage()]
        assert scheduled.levelno == logging.INFO
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["attempt"]) == ("succeeded", 2)

    def test_rqs_time_limit_is_a_timeout(self, dead: list[JobEvent]) -> None:
        """A job cut by its timeout is retried, as a timeout, and can then end."""
        SLOW_ATTEMPTS.clear()
        enqueued = slow_once.enqueue()
        work(enqueued)
        assert enqueued.return_value() == "done"
        assert SLOW_ATTEMPTS == [1, 2]
        [retried] = RECORDER.calls("on_retry")
        assert retried.decision is not None
        assert (retried.decision.kind, retried.decision.transient) == ("timeout", True)
        assert type(retried.decision.link).__name__ == "JobTimeoutException"
        assert dead == []

    def test_a_retry_loop_in_the_job_lets_the_limit_through(
        self, dead: list[JobEvent]
    ) -> None:
        """The limit ends the attempt at once: the job is retried, not the call."""
        SLOW_ATTEMPTS.clear()
        INNER_CALLS.clear()
        enqueued = slow_in_a_loop.enqueue()
        work(enqueued)
        assert enqueued.return_value() == "done"
        assert (SLOW_ATTEMPTS, INNER_CALLS) == ([1, 2], [1, 2])
        [retried] = RECORDER.calls("on_retry")
        assert retried.decision is not None
        assert type(retried.decision.link).__name__ == "JobTimeoutException"
        assert dead == []

    def test_a_retrying_job_says_so(self) -> None:
        """Between attempts, job_status says retrying, with the wait."""
        with scripted(SLOW_DOWN) as gateway:
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            SimpleWorker([QUEUE], connection=CONNECTION).work(burst=True)
        assert enqueued.get_status(refresh=True) == JobStatus.SCHEDULED
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["attempt"]) == ("retrying", 1)
        assert status["retry_in"] is not None
        assert status["retry_in"] >= 1.0
        assert status["kind"] == "rate_limit"

    def test_a_returned_transient_err_is_retried(self) -> None:
        """An Err holding a transient failure is retried like a raised one."""
        REPLIES.extend([Err(ConnectionResetError()), Ok("paid")])
        enqueued = charge.enqueue()
        work(enqueued)
        assert enqueued.return_value() == "paid"
        assert len(RECORDER.calls("on_retry")) == 1

    def test_exhausted_once(self, dead: list[JobEvent]) -> None:
        """A gateway down through every attempt gives up once; death handler once."""
        with scripted(DOWN) as gateway:
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            work(enqueued)
            assert gateway.seen == FAST.attempts
        [gave_up] = RECORDER.calls("on_give_up")
        assert (gave_up.reason, gave_up.attempt) == ("exhausted", 3)
        assert [event.job_id for event in dead] == [enqueued.id]
        assert enqueued.id in QUEUE.failed_job_registry
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["reason"], status["kind"]) == (
            "failed",
            "exhausted",
            "server",
        )

    def test_an_enqueued_retry_is_spent_when_the_policy_gives_up(
        self, dead: list[JobEvent]
    ) -> None:
        """queue.enqueue(..., retry=Retry(3)) by hand: a bug still fails once."""
        enqueued = QUEUE.enqueue(price, "tea", retry=Retry(max=3))
        work(enqueued)
        assert [event.reason for event in dead] == ["discarded"]
        assert enqueued.get_status(refresh=True) == JobStatus.FAILED
        assert len(RECORDER.calls("on_give_up")) == 1


@pytest.mark.usefixtures("store")
class TestGiveUp:
    """What waiting will not fix gives up at once, told and quiet."""

    def test_quota_is_expected_and_quiet(
        self, dead: list[JobEvent], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A 429 insufficient_quota is not retried; RQ's log of it is a WARNING."""
        with scripted(QUOTA, OK) as gateway, caplog.at_level(logging.INFO):
            enqueued = capture_payment.enqueue(gateway.url, "A-17")
            work(enqueued)
            assert gateway.seen == 1
        [gave_up] = RECORDER.calls("on_give_up")
        assert gave_up.decision is not None
        assert (gave_up.reason, gave_up.decision.kind) == ("discarded", "quota")
        assert [event.reason for event in dead] == ["discarded"]
        assert errors_logged(caplog) == []
        [logged] = [r for r in caplog.records if "exception raised" in r.getMessage()]
        assert logged.levelno == logging.WARNING
        assert logged.getMessage().endswith("gave up (discarded: quota)")
        assert "Traceback" not in logged.getMessage()
        assert enqueued.id in QUEUE.failed_job_registry
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert (status["state"], status["kind"]) == ("failed", "quota")

    def test_a_bug_fails_loudly_and_safely(
        self, dead: list[JobEvent], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A programmer error is logged at ERROR once; its text is not in the status."""
        with caplog.at_level(logging.INFO):
            enqueued = price.enqueue("tea")
            work(enqueued)
        [failed] = errors_logged(caplog)
        assert "LookupError: SELECT price" in failed.getMessage()
        assert [event.reason for event in dead] == ["discarded"]
        assert enqueued.id in QUEUE.failed_job_registry
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert "SELECT" not in repr(status)
        assert status["bucket"] == Bucket.PROGRAMMER_ERROR.value
        assert str(status["errors"][0]["reference"]).startswith("ERR-")

    def test_a_returned_err_of_errors_gives_up_with_them(self) -> None:
        """An Err of user-fixable Errors is discarded, and the status shows them."""
        enqueued = validate.enqueue()
        work(enqueued)
        status = job_status(CONNECTION, enqueued.id)
        assert status is not None
        assert status["errors"] == [
            {"field": ["card"], "message": "Card was declined", "code": "declined"}
        ]
        assert status["reason"] == "discarded"
        result = enqueued.latest_result()
        assert result is not None
        assert "JobFailed: job tests.integrations.test_rq.validate" in str(
            result.exc_string
        )


class TestQuietLog:
    """The filter lowers only the record of a JobFailed, and keeps every record."""

    @pytest.mark.parametrize(
        "args",
        [
            ("w", "j", "f", "Traceback ...\nLookupError: SELECT"),
            ("w", "j", "f", 42),
            (),
        ],
    )
    def test_other_errors_stay_errors(
        self, args: tuple[object, ...], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A bug's record, one with no text, one with no arguments: still ERROR."""
        logger = logging.getLogger("rq.worker")
        with caplog.at_level(logging.INFO, logger="rq.worker"):
            if args:
                logger.error("Worker %s: job %s: raised (%s)\n%s", *args)
            else:
                logger.error("Worker quitting")
        [record] = caplog.records
        assert record.levelno == logging.ERROR

    def test_a_warning_is_left_alone(self, caplog: pytest.LogCaptureFixture) -> None:
        """Below ERROR the filter changes nothing."""
        logger = logging.getLogger("rq.worker")
        with caplog.at_level(logging.INFO, logger="rq.worker"):
            logger.warning("%s", "x\noutcome.jobs.JobFailed: job gave up")
        [record] = caplog.records
        assert record.getMessage() == "x\noutcome.jobs.JobFailed: job gave up"

    def test_the_filter_is_put_on_once(self) -> None:
        """Declaring many jobs puts one filter on RQ's worker logger."""
        filters = logging.getLogger("rq.worker").filters
        assert len([f for f in filters if type(f).__name__ == "_ExpectedFailures"]) == 1


class TestDeclaration:
    """Mistakes are refused when the job is declared."""

    def test_policy_must_be_a_job_policy(self) -> None:
        """A RetryPolicy where a JobPolicy belongs is a TypeError naming it."""
        with pytest.raises(
            TypeError, match=r"policy=JobPolicy\(\.\.\.\), not RetryPolicy"
        ):
            job(queue=QUEUE, policy=RetryPolicy())  # type: ignore[arg-type]

    def test_rqs_own_retry_is_refused(self) -> None:
        """RQ's retry would fight the policy: refused, saying why."""
        with pytest.raises(TypeError, match="does not take RQ's retry"):
            job(queue=QUEUE, policy=JobPolicy(), retry=Retry(max=3))

    def test_an_unknown_option_is_refused(self) -> None:
        """An option RQ's job decorator does not take is named, with those it does."""
        with pytest.raises(TypeError, match=r"does not take retries: .*failure_ttl"):
            job(queue=QUEUE, policy=JobPolicy(), retries=3)

    @pytest.mark.parametrize("queue", [None, 3])
    def test_a_queue_is_needed(self, queue: object) -> None:
        """Without a queue, or with something else, the error says what to give."""
        options = {} if queue is None else {"queue": queue}
        with pytest.raises(TypeError, match=r"needs queue=Queue\(\.\.\.\)"):
            job(policy=JobPolicy(), **options)

    def test_a_queue_name_needs_a_connection(self) -> None:
        """A queue's name alone is not enough: the connection is asked for."""
        with pytest.raises(TypeError, match=r"connection=Redis\(\.\.\.\)"):
            job(queue="payments", policy=JobPolicy())

    def test_a_coroutine_function_is_refused(self) -> None:
        """An async function is refused, naming it."""

        async def capture_later() -> None:
            pass

        with pytest.raises(TypeError, match="coroutine function"):
            job(queue=QUEUE, policy=JobPolicy())(capture_later)

    def test_a_function_inside_another_is_refused(self) -> None:
        """RQ's worker could not import it: refused, saying why."""

        def local() -> None:
            pass

        with pytest.raises(TypeError, match="imports a job's function by its name"):
            job(queue=QUEUE, policy=JobPolicy())(local)

    def test_it_says_what_it_is(self) -> None:
        """The declared job shows its name, and keeps its function's own."""
        assert isinstance(double, JobFunction)
        assert repr(double) == "<JobFunction tests.integrations.test_rq.double>"
        assert double.__name__ == "double"
        assert double.__doc__ == "Double, on a queue given by name."
