"""The Sentry before_send on the real sentry-sdk, with its Celery and Starlette ones."""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pydantic
import pytest
import sentry_sdk
from celery import Celery
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.transport import Transport
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from outcome import (
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    Problems,
    Retrying,
    RetryPolicy,
    http_answer,
)
from outcome._retry import _will_retry
from outcome.integrations.celery import job_status, task
from outcome.integrations.logging import ClassifyingFilter, RetryLogger
from outcome.integrations.sentry import BeforeSend, before_send
from outcome.integrations.starlette import install
from outcome.jobs import JobEvent, JobPolicy, _Job, death_handlers

if TYPE_CHECKING:
    from sentry_sdk.envelope import Envelope
    from starlette.requests import Request
    from starlette.responses import Response

DSN = "https://public@sentry.example/1"
WAIT = 20.0  # seconds a test waits for a job, far beyond what any takes
FAST = RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.05)


class Captured(Transport):
    """A transport that keeps the events Sentry would send, and sends nothing."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        """Keep the envelope's error events."""
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.events.append(event)


Init = Callable[..., Captured]


@pytest.fixture
def sentry() -> Iterator[Init]:
    """Start Sentry with a fresh client that captures; put the SDK back after."""

    def init(**options: Any) -> Captured:
        sentry_sdk.init(
            dsn=DSN,
            transport=Captured,
            default_integrations=False,
            auto_enabling_integrations=False,
            **options,
        )
        transport = sentry_sdk.get_client().transport
        assert isinstance(transport, Captured)
        return transport

    try:
        yield init
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()
        sentry_sdk.get_current_scope().clear()


def hint_of(exc: BaseException) -> dict[str, object]:
    """The hint Sentry gives before_send for an exception."""
    return {"exc_info": (type(exc), exc, exc.__traceback__)}


def judged(
    exc: BaseException, judge: BeforeSend = before_send
) -> dict[str, Any] | None:
    """What `judge` does with a fresh error event for `exc`."""
    return judge({"level": "error", "tags": {"server": "web-1"}}, hint_of(exc))


def validation_error() -> pydantic.ValidationError:
    """A real pydantic ValidationError: a failure the user can fix."""
    try:
        pydantic.TypeAdapter(int).validate_python("three")
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError  # pragma: no cover - "three" is no int


def quota_error() -> httpx.HTTPStatusError:
    """A real httpx 429 whose body says the quota is spent: not transient."""
    request = httpx.Request("POST", "https://api.example/v1/chat")
    response = httpx.Response(
        429,
        json={"error": {"code": "insufficient_quota", "message": "No credit."}},
        request=request,
    )
    return httpx.HTTPStatusError("429", request=request, response=response)


def body_reference(exc: BaseException, problems: Problems | None = None) -> str:
    """The reference the problem body for `exc` shows the user."""
    answer = http_answer(exc) if problems is None else problems.answer(exc)
    [entry] = answer.body["errors"]
    return str(entry["reference"])


class TestSorting:
    """Bugs are sent, tagged; failures that are no bug are dropped."""

    def test_a_bug_is_sent_with_the_reference_the_user_was_shown(self) -> None:
        """A programmer error keeps its level, tagged with the body's reference."""
        bug = LookupError("SELECT secret FROM cards")
        event = judged(bug)
        assert event is not None
        assert event["level"] == "error"
        assert event["tags"] == {
            "server": "web-1",
            "outcome.bucket": "programmer_error",
            "outcome.kind": "bug",
            "outcome.reference": body_reference(bug),
        }
        assert "fingerprint" not in event

    def test_the_reference_is_stable_for_one_exception(self) -> None:
        """The same exception gives the same reference, event after event."""
        bug = KeyError("sku")
        events = [judged(bug) for _ in range(3)]
        references = {event["tags"]["outcome.reference"] for event in events if event}
        assert references == {ErrorDetail.from_exception(bug).reference}

    def test_a_failure_the_user_can_fix_is_dropped(self) -> None:
        """A validation error is the user's to fix, and they were told."""
        assert judged(validation_error()) is None
        assert judged(validation_error(), BeforeSend(report_visible=True)) is None

    @pytest.mark.parametrize(
        "failure", [TimeoutError("gateway"), quota_error()], ids=["timeout", "quota"]
    )
    def test_a_user_visible_failure_is_dropped_by_default(
        self, failure: Exception
    ) -> None:
        """An outage or a spent quota is no bug: not sent unless asked for."""
        assert judged(failure) is None

    @pytest.mark.parametrize(
        ("failure", "kind"),
        [(TimeoutError("gateway"), "timeout"), (quota_error(), "quota")],
        ids=["timeout", "quota"],
    )
    def test_report_visible_sends_a_warning_grouped_by_kind(
        self, failure: Exception, kind: str
    ) -> None:
        """For an operator: level warning, one issue per kind, tagged all the same."""
        event = judged(failure, BeforeSend(report_visible=True))
        assert event is not None
        assert event["level"] == "warning"
        assert event["fingerprint"] == ["outcome", "user_visible", kind]
        assert event["tags"]["outcome.bucket"] == "user_visible"
        assert event["tags"]["outcome.kind"] == kind
        assert event["tags"]["outcome.reference"].startswith("ERR-")

    def test_the_classifier_given_decides(self) -> None:
        """The app's classifier decides, and the reference matches its answers."""

        class OutOfStock(Exception):
            pass

        classifier = Classifier()
        classifier.register(OutOfStock, bucket=Bucket.USER_FIXABLE, kind="sold_out")
        assert judged(OutOfStock(), BeforeSend(classifier=classifier)) is None
        bug = ValueError("price is 'abc'")
        event = judged(bug, BeforeSend(classifier=classifier))
        assert event is not None
        assert event["tags"]["outcome.reference"] == body_reference(
            bug, Problems(classifier=classifier)
        )

    def test_the_same_event_is_returned(self) -> None:
        """The event is tagged in place, as Sentry expects, not copied."""
        event: dict[str, object] = {"level": "error"}
        assert before_send(event, hint_of(KeyError("sku"))) is event


class TestWillBeRetried:
    """A failure that will be tried again is dropped; the last one is judged."""

    def test_a_retry_loop_marks_the_failure_before_on_retry(self) -> None:
        """Seen from on_retry, the failure is dropped; given up on, it is sent."""
        outage = TimeoutError("gateway")  # the same object fails every attempt
        seen: list[dict[str, Any] | None] = []
        judge = BeforeSend(report_visible=True)

        def raise_outage() -> None:
            raise outage

        retrying = Retrying(
            policy=FAST,
            on_retry=lambda details: seen.append(judged(outage, judge)),
            sleep=lambda seconds: None,
        )
        with pytest.raises(TimeoutError):
            retrying.call(raise_outage)
        assert seen == [None, None]
        event = judged(outage, judge)
        assert event is not None
        assert event["level"] == "warning"

    def test_the_exception_an_err_holds_is_marked(self) -> None:
        """A returned Err's exception is marked too, and unmarked at the end."""
        outage = ConnectionResetError("peer")
        marks: list[bool] = []
        retrying = Retrying(
            policy=FAST,
            on_retry=lambda details: marks.append(_will_retry(outage)),
            sleep=lambda seconds: None,
        )
        assert retrying.call(lambda: Err(outage)) == Err(outage)
        assert marks == [True, True]
        assert not _will_retry(outage)

    def test_a_value_that_is_no_exception_is_left_alone(self) -> None:
        """An Err of a plain value is retried with nothing to mark."""
        retrying = Retrying(policy=FAST, sleep=lambda seconds: None)
        failure = Err(ErrorDetail(None, "timeout", bucket=Bucket.USER_VISIBLE))
        assert retrying.call(lambda: failure) is failure

    def test_a_sleep_that_raises_unmarks_the_failure(self) -> None:
        """The retry never happens: the failure is judged as the last one."""
        outage = TimeoutError("gateway")

        def raise_outage() -> None:
            raise outage

        def broken_sleep(_seconds: float) -> None:
            raise RuntimeError("the clock is gone")

        retrying = Retrying(policy=FAST, sleep=broken_sleep)
        with pytest.raises(RuntimeError):
            retrying.call(raise_outage)
        assert not _will_retry(outage)

    def test_a_job_marks_the_failure_before_on_retry_and_unmarks_it_at_the_end(
        self,
    ) -> None:
        """A job's on_retry sees it marked; its on_give_up sees it unmarked."""
        outage = TimeoutError("gateway")
        marks: list[tuple[str, bool]] = []
        policy = JobPolicy(
            retry=FAST,
            on_retry=lambda event: marks.append(("retry", _will_retry(outage))),
            on_give_up=lambda event: marks.append(("give_up", _will_retry(outage))),
        )
        for attempt in range(1, FAST.attempts + 1):
            job = _Job(policy, "capture", "j-1", (), {}, attempt, lambda status: None)
            job.failed(outage, longest_wait=None)
        assert marks == [("retry", True), ("retry", True), ("give_up", False)]

    def test_a_pickled_copy_is_not_marked(self) -> None:
        """The mark holds in this process, for this object: not in a result backend."""
        outage = TimeoutError("gateway")
        copies: list[BaseException] = []
        retrying = Retrying(
            policy=RetryPolicy(attempts=2),
            on_retry=lambda details: copies.append(
                pickle.loads(pickle.dumps(outage))  # noqa: S301 - our own bytes
            ),
            sleep=lambda seconds: None,
        )
        retrying.call(lambda: Err(outage))
        [pickled] = copies
        assert not _will_retry(pickled)
        assert judged(pickled, BeforeSend(report_visible=True)) is not None

    def test_a_frozen_exception_is_marked_all_the_same(self) -> None:
        """An exception class that refuses new attributes is marked anyway."""

        @attrs.frozen(auto_exc=True)
        class Unavailable(Exception):
            service: str

            def __outcome_decision__(self) -> Decision:
                return Decision(Bucket.USER_VISIBLE, True, "unavailable")

        outage = Unavailable("payments")
        marks: list[bool] = []
        Retrying(
            policy=RetryPolicy(attempts=2),
            on_retry=lambda details: marks.append(_will_retry(outage)),
            sleep=lambda seconds: None,
        ).call(lambda: Err(outage))
        assert marks == [True]


class TestBadInput:
    """What cannot be judged is sent unchanged; nothing raises."""

    @pytest.mark.parametrize(
        "hint",
        [
            {},
            {"exc_info": None},
            {"exc_info": "boom"},
            {"exc_info": (ValueError, ValueError())},
            {"exc_info": (None, None, None)},
            {"exc_info": (ValueError, "not an exception", None)},
            None,
            ["exc_info"],
        ],
        ids=[
            "empty",
            "none",
            "text",
            "short",
            "nothing",
            "no-exception",
            "no-hint",
            "list",
        ],
    )
    def test_an_event_without_an_exception_is_unchanged(self, hint: Any) -> None:
        """A message event, or a hint that holds no exception, passes untouched."""
        event = {"level": "error", "message": "disk almost full"}
        assert before_send(event, hint) == {
            "level": "error",
            "message": "disk almost full",
        }

    def test_an_exception_that_cannot_be_classified_is_unchanged(self) -> None:
        """A classifier that raises leaves the event as it is, sent."""

        class Broken(Classifier):
            def classify(self, failure: object) -> Decision:
                raise RuntimeError("the rules are broken")

        event = {"level": "error"}
        assert BeforeSend(classifier=Broken())(event, hint_of(KeyError())) == {
            "level": "error"
        }

    def test_tags_given_as_pairs_are_extended(self) -> None:
        """Tags Sentry keeps as a list of pairs get the outcome pairs added."""
        event = before_send({"tags": [["server", "web-1"]]}, hint_of(KeyError()))
        assert event is not None
        assert [pair[0] for pair in event["tags"]] == [
            "server",
            "outcome.bucket",
            "outcome.kind",
            "outcome.reference",
        ]

    def test_tags_of_another_shape_are_replaced(self) -> None:
        """Tags that are neither a mapping nor a list become the outcome tags."""
        event = before_send({"tags": "web-1"}, hint_of(KeyError()))
        assert event is not None
        assert sorted(event["tags"]) == [
            "outcome.bucket",
            "outcome.kind",
            "outcome.reference",
        ]

    def test_an_event_that_cannot_be_tagged_is_sent(self) -> None:
        """Tags that refuse changes leave the event untagged, but sent."""

        class Frozen(dict[str, str]):
            def update(self, *args: Any, **kwargs: Any) -> None:
                raise TypeError("read-only")

        event = {"level": "error", "tags": Frozen(server="web-1")}
        assert before_send(event, hint_of(KeyError())) is event
        assert event["tags"] == {"server": "web-1"}

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"classifier": "default"}, r"classifier=Classifier\(...\) or None"),
            ({"report_visible": 1}, "report_visible=True or report_visible=False"),
        ],
    )
    def test_bad_options_are_refused(
        self, options: dict[str, Any], message: str
    ) -> None:
        """A wrong option fails at start-up, naming what to pass."""
        with pytest.raises(TypeError, match=message):
            BeforeSend(**options)

    def test_repr_shows_the_options(self) -> None:
        """The repr says how it judges."""
        assert repr(BeforeSend(report_visible=True)).endswith(", report_visible=True)")


class TestThroughTheSdk:
    """Through sentry_sdk itself: what the transport is handed."""

    def test_a_captured_bug_is_sent_once_tagged(self, sentry: Init) -> None:
        """capture_exception of a bug reaches the transport, with the tags."""
        transport = sentry(before_send=before_send)
        bug = LookupError("SELECT secret FROM cards")
        sentry_sdk.capture_exception(bug)
        [event] = transport.events
        assert event["tags"]["outcome.reference"] == body_reference(bug)
        assert event["exception"]["values"][-1]["type"] == "LookupError"

    def test_a_captured_user_fixable_failure_is_not_sent(self, sentry: Init) -> None:
        """capture_exception of a validation error sends nothing."""
        transport = sentry(before_send=before_send)
        sentry_sdk.capture_exception(validation_error())
        sentry_sdk.capture_message("deploy finished")
        assert [event.get("message") for event in transport.events] == [
            "deploy finished"
        ]

    def test_logged_failures_are_sorted_too(self, sentry: Init) -> None:
        """LoggingIntegration's events carry the exception: the same rules apply."""
        transport = sentry(before_send=before_send, integrations=[LoggingIntegration()])
        logger = logging.getLogger("tests.shop")
        for failure in (validation_error(), TimeoutError("gateway"), KeyError("sku")):
            logger.error("checkout failed", exc_info=failure)
        [event] = transport.events
        assert event["tags"]["outcome.kind"] == "bug"
        assert event["logger"] == "tests.shop"

    def test_a_classifying_filter_on_the_logger_keeps_records_below_events(
        self, sentry: Init
    ) -> None:
        """Lowered to INFO on its logger, a fixable failure is no event at all."""
        transport = sentry(integrations=[LoggingIntegration()])
        logger = logging.getLogger("tests.shop.signup")
        classifying = ClassifyingFilter()
        logger.addFilter(classifying)
        try:
            logger.error("signup failed", exc_info=validation_error())
            logger.error("signup failed", exc_info=KeyError("sku"))
        finally:
            logger.removeFilter(classifying)
        [event] = transport.events
        assert event["exception"]["values"][-1]["type"] == "KeyError"

    def test_ignore_errors_is_applied_before_before_send(self, sentry: Init) -> None:
        """A class in ignore_errors never reaches before_send, bug or not."""
        transport = sentry(before_send=before_send, ignore_errors=[LookupError])
        sentry_sdk.capture_exception(KeyError("sku"))  # a LookupError
        sentry_sdk.capture_exception(ValueError("price"))
        [event] = transport.events
        assert event["exception"]["values"][-1]["type"] == "ValueError"


@pytest.fixture
def celery_app() -> Celery:
    """A Celery app on the in-memory broker, on a queue of its own."""
    app = Celery(
        "outcome-sentry-tests", broker="memory://localhost/", backend="cache+memory://"
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        task_default_queue="outcome-sentry-tests",
        broker_transport_options={"polling_interval": 0.01},
    )
    return app


@pytest.fixture
def worker(
    celery_app: Celery, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], None]]:
    """
    Start a real worker in threads, after Sentry is started; stop it after.

    A worker process imports its app, and so starts Sentry, before it loads
    Celery's consumer, which binds ``build_tracer`` when it is imported. In
    this process the consumer was imported first, by the other tests: it is
    given the tracer Sentry's Celery integration wrapped, as a worker has it.
    """
    import celery.app.trace  # noqa: PLC0415 - read once Sentry has wrapped it
    from celery.contrib.testing.worker import start_worker  # noqa: PLC0415

    contexts: list[Any] = []

    def start() -> None:
        monkeypatch.setattr(
            "celery.worker.consumer.consumer.build_tracer",
            celery.app.trace.build_tracer,
        )
        context = start_worker(
            celery_app,
            perform_ping_check=False,
            pool="threads",
            concurrency=2,
            loglevel="INFO",
        )
        context.__enter__()
        contexts.append(context)

    try:
        yield start
    finally:
        for context in contexts:
            context.__exit__(None, None, None)


def retried_twice(celery_app: Celery, name: str) -> Any:
    """A task that times out twice, then succeeds; each retry logged with exc_info."""
    calls: list[int] = []
    lock = threading.Lock()
    policy = JobPolicy(retry=FAST, on_retry=RetryLogger(tracebacks=True).on_retry)

    @task(celery_app, policy=policy, name=name)
    def capture_payment(order: str) -> str:
        with lock:
            calls.append(1)
            if len(calls) < 3:
                raise TimeoutError("the gateway 10.0.0.7 took too long")
        return f"captured {order}"

    return capture_payment


class TestCelery:
    """With sentry-sdk's Celery integration, on a real worker."""

    def integrations(self) -> list[Any]:
        """Celery's, and log records at WARNING and above as events."""
        return [CeleryIntegration(), LoggingIntegration(event_level=logging.WARNING)]

    def test_a_job_that_retries_twice_then_succeeds_sends_nothing(
        self, sentry: Init, celery_app: Celery, worker: Callable[[], None]
    ) -> None:
        """Each retry is logged with its exception, and none of them is sent."""
        transport = sentry(
            before_send=BeforeSend(report_visible=True),
            integrations=self.integrations(),
        )
        capture_payment = retried_twice(celery_app, "tests.sentry.capture")
        worker()
        result = capture_payment.delay("A-17")
        assert result.get(timeout=WAIT) == "captured A-17"
        assert transport.events == []

    def test_without_it_each_retry_is_sent(
        self, sentry: Init, celery_app: Celery, worker: Callable[[], None]
    ) -> None:
        """The same job with no before_send sends both retries: the noise it drops."""
        transport = sentry(integrations=self.integrations())
        capture_payment = retried_twice(celery_app, "tests.sentry.capture_noisy")
        worker()
        assert capture_payment.delay("A-17").get(timeout=WAIT) == "captured A-17"
        assert [event["level"] for event in transport.events] == ["warning"] * 2

    def test_a_bug_is_sent_once_with_the_reference_of_the_job_status(
        self, sentry: Init, celery_app: Celery, worker: Callable[[], None]
    ) -> None:
        """A bug in a task is one event, whose reference the job status shows."""
        transport = sentry(before_send=before_send, integrations=self.integrations())

        @task(celery_app, policy=JobPolicy(retry=FAST), name="tests.sentry.reserve")
        def reserve(sku: str) -> str:
            raise LookupError("SELECT secret FROM stock", sku)

        worker()
        result = reserve.delay("tea")
        with pytest.raises(LookupError):
            result.get(timeout=WAIT)
        [event] = transport.events
        status = job_status(celery_app, result.id)
        assert status is not None
        [error] = status["errors"]
        assert event["tags"]["outcome.reference"] == error["reference"]
        assert event["tags"]["celery_task_id"] == result.id
        assert "SELECT" not in str(status)

    def test_an_expected_give_up_reaches_sentry_only_through_a_death_handler(
        self, sentry: Init, celery_app: Celery, worker: Callable[[], None]
    ) -> None:
        """JobFailed is skipped; a death handler can send the cause, as a warning."""
        transport = sentry(
            before_send=BeforeSend(report_visible=True),
            integrations=self.integrations(),
        )

        def alert_operators(event: JobEvent) -> None:
            if event.decision is not None and event.decision.bucket is (
                Bucket.USER_VISIBLE
            ):
                for detail in event.errors:
                    if detail.cause is not None:
                        sentry_sdk.capture_exception(detail.cause)

        @task(celery_app, policy=JobPolicy(retry=FAST), name="tests.sentry.ask")
        def ask() -> str:
            raise quota_error()

        worker()
        result = ask.delay()
        with pytest.raises(Exception, match="gave up"):
            result.get(timeout=WAIT)
        assert transport.events == []
        death_handlers.append(alert_operators)
        try:
            result = ask.delay()
            with pytest.raises(Exception, match="gave up"):
                result.get(timeout=WAIT)
        finally:
            death_handlers.remove(alert_operators)
        [event] = transport.events
        assert (event["level"], event["fingerprint"]) == (
            "warning",
            ["outcome", "user_visible", "quota"],
        )


async def checkout(_request: Request) -> Response:
    """A handler with a bug."""
    raise LookupError("SELECT secret FROM cards")


async def signup(_request: Request) -> Response:
    """A handler that rejects what it was sent."""
    raise validation_error()


async def pay(_request: Request) -> Response:
    """A handler whose gateway is down."""
    raise TimeoutError("the gateway 10.0.0.7 took too long")


class TestStarlette:
    """With sentry-sdk's Starlette integration, a bug in a handler is one event."""

    def app(self) -> Starlette:
        """An app set up with outcome's Starlette integration."""
        app = Starlette(
            routes=[
                Route("/checkout", checkout),
                Route("/signup", signup),
                Route("/pay", pay),
            ]
        )
        install(app)
        return app

    def test_a_bug_sends_one_event_whose_reference_the_response_shows(
        self, sentry: Init
    ) -> None:
        """500, a problem body with only the reference, and one event with it."""
        transport = sentry(
            before_send=before_send, integrations=[StarletteIntegration()]
        )
        with TestClient(self.app(), raise_server_exceptions=False) as client:
            response = client.get("/checkout")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        assert "SELECT" not in response.text
        assert "secret" not in response.text
        [error] = response.json()["errors"]
        [event] = transport.events
        assert event["tags"]["outcome.reference"] == error["reference"]
        assert event["exception"]["values"][-1]["mechanism"]["type"] == "starlette"

    @pytest.mark.parametrize(
        ("path", "status", "code"),
        [("/signup", 422, "validation"), ("/pay", 503, "timeout")],
        ids=["fixable", "visible"],
    )
    def test_a_failure_that_is_no_bug_sends_nothing(
        self, sentry: Init, path: str, status: int, code: str
    ) -> None:
        """Answered inside the app, it never reaches Sentry, report_visible or not."""
        transport = sentry(
            before_send=BeforeSend(report_visible=True),
            integrations=[StarletteIntegration()],
        )
        with TestClient(self.app(), raise_server_exceptions=False) as client:
            response = client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["code"] == code
        assert "10.0.0.7" not in response.text
        assert transport.events == []


class OrderFailed(Exception):
    """An exception of the app's own that carries the errors it answers with."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("SELECT secret FROM cards")
        self.errors = errors


class TestCarriedErrors:
    """An exception carrying Errors is judged as the HTTP answer judged it."""

    def test_user_fixable_carried_errors_are_not_sent(self) -> None:
        """Carried errors the user can fix are dropped, as their 422 says."""
        exc = OrderFailed(Errors([ErrorDetail("email", "blank")]))
        assert http_answer(exc).status == 422
        assert judged(exc) is None

    def test_a_carried_bug_is_sent_with_the_reference_shown(self) -> None:
        """A carried bug's tag is the reference its 500 body showed."""
        bug = ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR)
        exc = OrderFailed(Errors([ErrorDetail("email", "blank"), bug]))
        shown = http_answer(exc).body["errors"][0].get("reference")
        event = judged(exc)
        assert event is not None
        assert event["tags"]["outcome.reference"] == shown == bug.reference

    def test_the_logging_filter_agrees(self) -> None:
        """The logging filter gives the same bucket and reference as the answer."""
        bug = ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR)
        for errors, bucket in (
            (Errors([ErrorDetail("email", "blank")]), "user_fixable"),
            (Errors([bug]), "programmer_error"),
        ):
            exc = OrderFailed(errors)
            record = logging.LogRecord(
                "shop",
                logging.ERROR,
                __file__,
                1,
                "failed",
                (),
                hint_of(exc)["exc_info"],  # type: ignore[arg-type]
            )
            assert ClassifyingFilter().filter(record)
            assert record.bucket == bucket  # type: ignore[attr-defined]
            assert record.reference == Problems().detail_of(exc).reference  # type: ignore[attr-defined]
