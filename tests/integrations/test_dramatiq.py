"""Jobs on a real Dramatiq: a StubBroker worked by an in-process worker, and Redis."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Retries, TimeLimit
from dramatiq.middleware.shutdown import Shutdown
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend, StubBackend

from outcome import Bucket, Err, ErrorDetail, Errors, Ok, RetryPolicy
from outcome.integrations.dramatiq import _IN_FLIGHT_TTL, actor, job_status
from outcome.jobs import JobEvent, JobPolicy, death_handlers
from tests.integrations.scripted import DOWN, OK, QUOTA, SLOW_DOWN, capture, scripted
from tests.integrations.test_celery_redis import REDIS_URL, _redis
from tests.integrations.test_huey import FAST, Recorder

WAIT = 20_000  # milliseconds a test waits for a queue, far beyond what any takes
# A server that asks for longer than Dramatiq delays a message.
SLOW_DOWN_FOR_A_MONTH = (429, {"Retry-After": str(30 * 86400)}, SLOW_DOWN[2])


class Backend(StubBackend):
    """A StubBackend of the test's own: Dramatiq's keeps one dict for all."""

    def __init__(self) -> None:
        super().__init__()
        self.results = {}
        self.ttls: dict[str, int] = {}

    def store_result(
        self, message: dramatiq.Message[object], result: object, ttl: int
    ) -> None:
        """Store, and remember the TTL asked for."""
        self.ttls[message.message_id] = ttl
        super().store_result(message, result, ttl)


@pytest.fixture
def backend() -> Backend:
    """The results backend of the test's broker."""
    return Backend()


@pytest.fixture
def broker(backend: Backend) -> StubBroker:
    """A StubBroker with Dramatiq's default middleware and a results backend."""
    instance = StubBroker()
    instance.add_middleware(Results(backend=backend))
    instance.emit_after("process_boot")
    return instance


@pytest.fixture
def worker(broker: StubBroker) -> Iterator[dramatiq.Worker]:
    """A real worker on the broker, polling often."""
    with working(broker) as instance:
        yield instance


@contextlib.contextmanager
def working(broker: dramatiq.Broker) -> Iterator[dramatiq.Worker]:
    """Run a real worker on `broker`, polling often, and stop it after."""
    instance = dramatiq.Worker(broker, worker_timeout=20, worker_threads=2)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def until(condition: Callable[[], object], what: str) -> None:
    """Wait for `condition`, failing after WAIT."""
    deadline = time.monotonic() + WAIT / 1000
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT / 1000:g} s for {what}")
        time.sleep(0.01)


def settle(broker: StubBroker, worker: dramatiq.Worker, queue: str = "default") -> None:
    """Wait until the queue, its delay queue and the worker are done."""
    broker.join(queue, timeout=WAIT, fail_fast=False)
    worker.join()


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


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records at ERROR or above."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


class TestSuccess:
    """A job that succeeds is queued, runs and succeeds, and says so."""

    def test_states_and_status(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        backend: Backend,
        recorder: Recorder,
    ) -> None:
        """on_status hears queued, running, succeeded; the backend keeps the last."""
        done: list[int] = []

        @actor(broker=broker, policy=recorder.policy())
        def double(n: int) -> None:
            done.append(n * 2)

        message = double.send(21)
        settle(broker, worker)
        assert done == [42]
        assert recorder.states() == ["queued", "running", "succeeded"]
        status = job_status(broker, message.message_id)
        assert status is not None
        assert (status["state"], status["attempt"], status["job_name"]) == (
            "succeeded",
            1,
            "double",
        )
        [ttl] = set(backend.ttls.values())
        assert ttl == Results(backend=backend).result_ttl

    def test_the_actors_result_ttl_keeps_the_final_status(
        self, broker: StubBroker, worker: dramatiq.Worker, backend: Backend
    ) -> None:
        """A status in flight is kept 8 days; the final one for the result_ttl."""
        seen: list[int] = []

        def keep_ttl(event: JobEvent) -> None:
            seen.append(backend.ttls[f"outcome-status:{event.job_id}"])

        @actor(
            broker=broker,
            policy=JobPolicy(on_status=keep_ttl),
            result_ttl=5_000,
            store_results=True,
        )
        def hello() -> str:
            return "hello"

        message = hello.send()
        settle(broker, worker)
        assert message.get_result(backend=backend) == "hello"
        assert seen == [_IN_FLIGHT_TTL, _IN_FLIGHT_TTL, 5_000]

    def test_unknown_job_has_no_status(self, broker: StubBroker) -> None:
        """A job id never seen has no status."""
        assert job_status(broker, "no-such-job") is None

    def test_a_direct_call_is_a_plain_call(
        self, broker: StubBroker, recorder: Recorder
    ) -> None:
        """Called outside a worker the actor is its function: no job, no hooks."""

        @actor(broker=broker, policy=recorder.policy())
        def hello(name: str) -> str:
            return f"hello {name}"

        assert hello("ada") == "hello ada"
        assert recorder.events == []

    def test_an_actor_called_inside_another_is_a_plain_call(
        self, broker: StubBroker, worker: dramatiq.Worker, recorder: Recorder
    ) -> None:
        """One actor calling another's function runs it there, as one job."""
        seen: list[str] = []

        @actor(broker=broker, policy=recorder.policy())
        def inner() -> str:
            return "inner"

        @actor(broker=broker, policy=JobPolicy())
        def outer() -> None:
            seen.append(inner())

        outer.send()
        settle(broker, worker)
        assert seen == ["inner"]
        assert recorder.events == []

    def test_a_delayed_job_is_queued_once(
        self, broker: StubBroker, worker: dramatiq.Worker, recorder: Recorder
    ) -> None:
        """Sent with a delay, moved to its queue when due: queued is told once."""

        @actor(broker=broker, policy=recorder.policy())
        def later() -> None:
            pass

        later.send_with_options(delay=50)
        settle(broker, worker)
        assert recorder.states() == ["queued", "running", "succeeded"]

    def test_other_actors_on_the_broker_are_left_alone(
        self, broker: StubBroker, worker: dramatiq.Worker, backend: Backend
    ) -> None:
        """An actor of Dramatiq's own on the same broker gets no status."""
        done = threading.Event()

        @dramatiq.actor(broker=broker)
        def plain() -> None:
            done.set()

        actor(broker=broker, policy=JobPolicy(), actor_name="ours")(lambda: None)
        message = plain.send()
        settle(broker, worker)
        assert done.is_set()
        assert job_status(broker, message.message_id) is None


class TestRetry:
    """Transient failures go back through the broker, delayed."""

    def test_rate_limit_then_success(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        recorder: Recorder,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A real httpx 429 with Retry-After: 1 is delayed 1 s, then succeeds."""
        with scripted(SLOW_DOWN, OK) as gateway:

            @actor(broker=broker, policy=recorder.policy())
            def capture_payment(order: str) -> None:
                capture(gateway.url, order)

            with caplog.at_level(logging.INFO):
                started = time.monotonic()
                message = capture_payment.send("A-17")
                settle(broker, worker)
                waited = time.monotonic() - started
            assert gateway.seen == 2
        assert waited >= 1.0
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
        assert [e.attempt for e in recorder.calls("on_status")] == [1, 1, 1, 2, 2]
        assert dead == []
        assert errors_logged(caplog) == []
        [delayed] = [r for r in caplog.records if "Retrying message" in r.getMessage()]
        assert delayed.levelno == logging.INFO
        status = job_status(broker, message.message_id)
        assert status is not None
        assert (status["state"], status["attempt"]) == ("succeeded", 2)

    def test_a_returned_transient_err_is_retried(
        self, broker: StubBroker, worker: dramatiq.Worker, recorder: Recorder
    ) -> None:
        """An Err holding a transient failure is retried like a raised one."""
        replies = iter([Err(ConnectionResetError()), Ok("paid")])

        @actor(broker=broker, policy=recorder.policy())
        def charge() -> None:
            reply = next(replies)
            if isinstance(reply, Err):
                return reply  # type: ignore[return-value]
            return None

        charge.send()
        settle(broker, worker)
        assert recorder.states()[-1] == "succeeded"
        assert len(recorder.calls("on_retry")) == 1

    def test_exhausted_once(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        recorder: Recorder,
        dead: list[JobEvent],
    ) -> None:
        """A gateway down through every attempt gives up once; death handler once."""
        with scripted(DOWN) as gateway:

            @actor(broker=broker, policy=recorder.policy())
            def capture_payment(order: str) -> None:
                capture(gateway.url, order)

            message = capture_payment.send("A-17")
            settle(broker, worker)
            assert gateway.seen == FAST.attempts
        [gave_up] = recorder.calls("on_give_up")
        assert (gave_up.reason, gave_up.attempt) == ("exhausted", 3)
        assert [event.job_id for event in dead] == [message.message_id]
        assert [m.message_id for m in broker.dead_letters] == [message.message_id]
        status = job_status(broker, message.message_id)
        assert status is not None
        assert (status["state"], status["reason"], status["kind"]) == (
            "failed",
            "exhausted",
            "server",
        )

    @pytest.mark.parametrize("max_retries", [0, 1, 20])
    def test_the_middlewares_max_retries_does_not_count(
        self, max_retries: int, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """Whatever Retries' max_retries, the policy's 3 attempts are what run."""
        broker = StubBroker(middleware=[Retries(max_retries=max_retries)])
        calls: list[int] = []

        @actor(broker=broker, policy=recorder.policy())
        def flaky() -> None:
            calls.append(1)
            raise ConnectionResetError

        with working(broker) as worker:
            flaky.send()
            settle(broker, worker)
        assert len(calls) == FAST.attempts
        assert [event.reason for event in dead] == ["exhausted"]

    @pytest.mark.parametrize("answer", [True, False])
    def test_the_middlewares_retry_when_does_not_count(
        self, answer: bool, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """A broker-wide retry_when neither adds retries nor cuts them short."""
        broker = StubBroker(middleware=[Retries(retry_when=lambda _r, _e: answer)])
        calls: list[int] = []

        @actor(broker=broker, policy=recorder.policy())
        def flaky() -> None:
            calls.append(1)
            raise ConnectionResetError

        with working(broker) as worker:
            flaky.send()
            settle(broker, worker)
        assert len(calls) == FAST.attempts
        assert [event.reason for event in dead] == ["exhausted"]

    def test_a_wait_past_seven_days_is_capped(
        self, broker: StubBroker, recorder: Recorder
    ) -> None:
        """Retry-After of a month is cut to the 7 days Dramatiq can delay."""
        with scripted(SLOW_DOWN_FOR_A_MONTH) as gateway:

            @actor(broker=broker, policy=recorder.policy())
            def capture_payment(order: str) -> None:
                capture(gateway.url, order)

            with working(broker):
                capture_payment.send("A-17")
                until(lambda: recorder.calls("on_retry"), "the retry")
        [retried] = recorder.calls("on_retry")
        assert (retried.retry_in, retried.capped) == (7 * 86400.0, True)


class TestGiveUp:
    """What waiting will not fix gives up at once, told and quiet."""

    def test_quota_is_expected_and_quiet(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        recorder: Recorder,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A 429 insufficient_quota is not retried and is logged below ERROR."""
        with scripted(QUOTA, OK) as gateway:

            @actor(broker=broker, policy=recorder.policy())
            def capture_payment(order: str) -> None:
                capture(gateway.url, order)

            with caplog.at_level(logging.INFO):
                message = capture_payment.send("A-17")
                settle(broker, worker)
            assert gateway.seen == 1
        [gave_up] = recorder.calls("on_give_up")
        assert gave_up.decision is not None
        assert (gave_up.reason, gave_up.decision.kind) == ("discarded", "quota")
        assert [event.reason for event in dead] == ["discarded"]
        assert errors_logged(caplog) == []
        [expected] = [
            r for r in caplog.records if "expected exception" in r.getMessage()
        ]
        assert expected.levelno == logging.INFO
        assert "JobFailed" in expected.getMessage()
        assert [m.message_id for m in broker.dead_letters] == [message.message_id]
        status = job_status(broker, message.message_id)
        assert status is not None
        assert (status["state"], status["kind"]) == ("failed", "quota")

    def test_a_bug_fails_loudly_and_safely(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        recorder: Recorder,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A programmer error is logged at ERROR once; its text is not in the status."""

        @actor(broker=broker, policy=recorder.policy())
        def price(sku: str) -> None:
            raise LookupError(f"SELECT price FROM prices WHERE sku = {sku!r}")  # noqa: S608 - the hidden text

        with caplog.at_level(logging.INFO):
            message = price.send("tea")
            settle(broker, worker)
        [failed] = errors_logged(caplog)
        assert failed.exc_info is not None
        assert isinstance(failed.exc_info[1], LookupError)
        assert [event.reason for event in dead] == ["discarded"]
        assert len(recorder.calls("on_give_up")) == 1
        assert [m.message_id for m in broker.dead_letters] == [message.message_id]
        status = job_status(broker, message.message_id)
        assert status is not None
        assert "SELECT" not in repr(status)
        assert status["bucket"] == Bucket.PROGRAMMER_ERROR.value
        assert str(status["errors"][0]["reference"]).startswith("ERR-")

    def test_a_retry_of_the_functions_own_is_a_bug_that_says_so(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """dramatiq.Retry raised by the function fails once, at ERROR, saying why."""

        @actor(broker=broker, policy=JobPolicy(retry=FAST))
        def impatient() -> None:
            raise dramatiq.Retry(delay=10)

        with caplog.at_level(logging.INFO):
            message = impatient.send()
            settle(broker, worker)
        [failed] = errors_logged(caplog)
        assert failed.exc_info is not None
        assert "raise the failure itself instead" in str(failed.exc_info[1])
        assert [event.reason for event in dead] == ["discarded"]
        assert [m.message_id for m in broker.dead_letters] == [message.message_id]

    def test_a_returned_err_of_errors_gives_up_with_them(
        self, broker: StubBroker, worker: dramatiq.Worker, backend: Backend
    ) -> None:
        """An Err of user-fixable Errors is discarded; its result says JobFailed."""

        @actor(broker=broker, policy=JobPolicy(retry=FAST), store_results=True)
        def validate() -> object:
            return Err(Errors([ErrorDetail("card", "declined")]))

        message = validate.send()
        settle(broker, worker)
        status = job_status(broker, message.message_id)
        assert status is not None
        assert status["errors"] == [
            {"field": ["card"], "message": "Card was declined", "code": "declined"}
        ]
        with pytest.raises(Exception, match=r"JobFailed: job validate .* gave up"):
            message.get_result(backend=backend)

    def test_the_actors_own_throws_are_kept(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """An actor's throws still quiet its own exceptions, given up as bugs."""

        class Gone(Exception):
            pass

        @actor(broker=broker, policy=JobPolicy(retry=FAST), throws=Gone)
        def lookup() -> None:
            raise Gone

        with caplog.at_level(logging.INFO):
            lookup.send()
            settle(broker, worker)
        assert errors_logged(caplog) == []
        assert len(broker.dead_letters) == 1

    def test_a_time_limit_is_a_timeout(
        self, backend: Backend, recorder: Recorder, dead: list[JobEvent]
    ) -> None:
        """TimeLimitExceeded is a timeout: retried, then given up once, told."""
        broker = StubBroker(
            middleware=[TimeLimit(interval=10), Retries(), Results(backend=backend)]
        )
        broker.emit_after("process_boot")

        @actor(broker=broker, policy=recorder.policy(), time_limit=50)
        def slow() -> None:
            for _ in range(500):
                time.sleep(0.01)

        with working(broker) as worker:
            message = slow.send()
            settle(broker, worker)
        retried = recorder.calls("on_retry")
        assert [event.attempt for event in retried] == list(range(1, FAST.attempts))
        assert {
            (event.decision.kind, type(event.decision.link).__name__)
            for event in retried
            if event.decision is not None
        } == {("timeout", "TimeLimitExceeded")}
        assert [event.reason for event in dead] == ["exhausted"]
        status = job_status(broker, message.message_id)
        assert status is not None
        assert status["state"] == "failed"
        assert len(broker.dead_letters) == 1

    def test_a_hook_that_raises_changes_nothing(
        self,
        broker: StubBroker,
        worker: dramatiq.Worker,
        dead: list[JobEvent],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """on_give_up raising is logged on outcome.jobs; death handlers still run."""

        def broken(_event: JobEvent) -> None:
            raise RuntimeError("the pager is down")

        @actor(broker=broker, policy=JobPolicy(retry=FAST, on_give_up=broken))
        def validate() -> object:
            return Err(Errors([ErrorDetail("card", "declined")]))

        with caplog.at_level(logging.ERROR, logger="outcome.jobs"):
            validate.send()
            settle(broker, worker)
        assert len(dead) == 1
        [logged] = [r for r in caplog.records if r.name == "outcome.jobs"]
        assert "the pager is down" in str(logged.exc_info and logged.exc_info[1])


class TestWhatTheJobNeverSaw:
    """Interruptions and skips are Dramatiq's to handle, as without the policy."""

    def test_a_shutdown_is_requeued(self, recorder: Recorder) -> None:
        """The worker's Shutdown is no failure: Dramatiq requeues the message."""
        broker = StubBroker(middleware=[Retries(min_backoff=1)])
        raised: list[int] = []

        @actor(broker=broker, policy=recorder.policy())
        def interrupted() -> None:
            if not raised:
                raised.append(1)
                raise Shutdown

        with working(broker) as worker:
            interrupted.send()
            settle(broker, worker)
        assert recorder.states() == ["queued", "running", "running", "succeeded"]
        assert [e.attempt for e in recorder.calls("on_status")] == [1, 1, 2, 2]

    def test_a_skipped_message_runs_nothing(
        self, broker: StubBroker, worker: dramatiq.Worker, recorder: Recorder
    ) -> None:
        """A message past its max_age is skipped; only queued was told."""
        assert any(isinstance(m, AgeLimit) for m in broker.middleware)

        @actor(broker=broker, policy=recorder.policy(), max_age=1)
        def stale() -> None:
            pass

        stale.send_with_options(delay=20)
        settle(broker, worker)
        assert recorder.states() == ["queued"]


class TestDeclaration:
    """Mistakes are refused when the actor is declared."""

    def test_policy_must_be_a_job_policy(self, broker: StubBroker) -> None:
        """A RetryPolicy where a JobPolicy belongs is a TypeError naming it."""
        with pytest.raises(
            TypeError, match=r"policy=JobPolicy\(\.\.\.\), not RetryPolicy"
        ):
            actor(broker=broker, policy=RetryPolicy())  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "option", ["max_retries", "min_backoff", "retry_when", "on_retry_exhausted"]
    )
    def test_dramatiqs_own_retrying_is_refused(
        self, broker: StubBroker, option: str
    ) -> None:
        """Dramatiq's retry options would fight the policy: refused, saying why."""
        with pytest.raises(TypeError, match=rf"does not take Dramatiq's {option}"):
            actor(broker=broker, policy=JobPolicy(), **{option: 1})

    def test_a_backoff_past_seven_days_is_refused(self, broker: StubBroker) -> None:
        """A max_delay longer than Dramatiq can delay a message is refused."""
        policy = JobPolicy(retry=RetryPolicy(max_delay=8 * 86400.0))
        with pytest.raises(ValueError, match="7 days"):
            actor(broker=broker, policy=policy)

    def test_a_broker_without_retries_is_refused(self) -> None:
        """With no Retries middleware nothing would retry: refused."""
        with pytest.raises(ValueError, match="no Retries middleware"):
            actor(broker=StubBroker(middleware=[]), policy=JobPolicy())

    def test_a_coroutine_function_is_refused(self, broker: StubBroker) -> None:
        """An async function is refused, naming it."""

        async def capture_later() -> None:
            pass

        with pytest.raises(TypeError, match="coroutine function"):
            actor(broker=broker, policy=JobPolicy())(capture_later)

    def test_the_global_broker_is_the_default(self) -> None:
        """With no broker given, the actor goes to dramatiq.get_broker()."""
        previous = dramatiq.broker.global_broker
        broker = StubBroker()
        dramatiq.set_broker(broker)
        try:

            @actor(policy=JobPolicy())
            def hello() -> None:
                pass

        finally:
            dramatiq.broker.global_broker = previous
        assert hello.broker is broker

    def test_one_middleware_for_many_actors(self, broker: StubBroker) -> None:
        """Declaring several actors adds the integration's middleware once."""
        before = len(broker.middleware)
        for name in ("one", "two"):
            actor(broker=broker, policy=JobPolicy(), actor_name=name)(lambda: None)
        assert len(broker.middleware) == before + 1


class TestNoResults:
    """With no Results middleware, jobs run and no status is kept."""

    def test_jobs_run_and_status_says_why_not(self, recorder: Recorder) -> None:
        """The job runs and is told; job_status says what to add."""
        broker = StubBroker()
        assert not any(isinstance(m, Results) for m in broker.middleware)

        @actor(broker=broker, policy=recorder.policy())
        def hello() -> None:
            pass

        with working(broker) as worker:
            message = hello.send()
            settle(broker, worker)
        assert recorder.states() == ["queued", "running", "succeeded"]
        with pytest.raises(ValueError, match="add_middleware"):
            job_status(broker, message.message_id)


class TestRedisBroker:
    """The same on Dramatiq's Redis broker and results backend."""

    def test_retry_and_status_on_redis(self, recorder: Recorder) -> None:
        """A real 429 is retried through Redis's delay queue; the status is in Redis."""
        client = _redis()
        namespace = f"outcome-dramatiq-{uuid.uuid4().hex[:8]}"
        broker = RedisBroker(url=REDIS_URL, namespace=namespace)
        backend = RedisBackend(
            url=REDIS_URL, namespace=namespace, use_namespace_prefix_keys=True
        )
        broker.add_middleware(Results(backend=backend))
        broker.emit_after("process_boot")

        def final() -> bool:
            status = job_status(broker, message.message_id)
            return status is not None and status["state"] in {"succeeded", "failed"}

        try:
            with scripted(SLOW_DOWN, OK) as gateway:

                @actor(broker=broker, policy=recorder.policy())
                def capture_payment(order: str) -> None:
                    capture(gateway.url, order)

                with working(broker):
                    message = capture_payment.send("A-17")
                    until(final, "the job to end")
                assert gateway.seen == 2
            status = job_status(broker, message.message_id)
            assert status is not None
            assert (status["state"], status["attempt"]) == ("succeeded", 2)
            assert recorder.states() == [
                "queued",
                "running",
                "retrying",
                "running",
                "succeeded",
            ]
        finally:
            broker.flush_all()
            broker.close()
            for key in client.scan_iter(f"{namespace}*"):
                client.delete(key)
            backend.client.close()
            broker.client.close()
            client.close()
