"""mark_span on the real OpenTelemetry SDK, exported to memory."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pydantic
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import (
    INVALID_SPAN,
    SpanKind,
    StatusCode,
    Tracer,
)

from outcome import (
    Bucket,
    Classifier,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Problems,
    http_answer,
)
from outcome.integrations.otel import mark_span


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    """Where the test's spans end up."""
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Iterator[Tracer]:
    """A tracer of a provider of the test's own, never the global one."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider.get_tracer("tests")
    finally:
        provider.shutdown()


def marked(
    tracer: Tracer,
    exporter: InMemorySpanExporter,
    failure: object,
    started_as: SpanKind = SpanKind.SERVER,
    **options: object,
) -> ReadableSpan:
    """The exported span after `failure` was marked on it."""
    with tracer.start_as_current_span(
        "POST /checkout",
        kind=started_as,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        mark_span(span, failure, **options)  # type: ignore[arg-type]
    [exported] = exporter.get_finished_spans()
    return exported


def validation_error() -> pydantic.ValidationError:
    """A real pydantic ValidationError: a failure the user can fix."""
    try:
        pydantic.TypeAdapter(int).validate_python("three")
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError  # pragma: no cover - "three" is no int


class TestServerSpans:
    """On a server span, ERROR only when the answer is a 5xx."""

    def test_a_bug_is_an_error_with_its_exception_and_reference(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """error.type bug, the bucket, the body's reference, the exception, ERROR."""
        bug = LookupError("SELECT secret FROM cards")
        span = marked(tracer, exporter, bug)
        [shown] = http_answer(bug).body["errors"]
        assert dict(span.attributes or {}) == {
            "error.type": "bug",
            "outcome.bucket": "programmer_error",
            "outcome.reference": shown["reference"],
        }
        assert (span.status.status_code, span.status.description) == (
            StatusCode.ERROR,
            "bug",
        )
        [event] = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.type"] == "LookupError"

    def test_a_failure_the_user_can_fix_leaves_the_status_unset(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """A 422 is the client's: the semantic conventions leave the status unset."""
        span = marked(tracer, exporter, validation_error())
        assert span.status.status_code is StatusCode.UNSET
        assert (span.attributes or {})["error.type"] == "validation"
        assert (span.attributes or {})["outcome.bucket"] == "user_fixable"
        assert [event.name for event in span.events] == ["exception"]

    def test_an_upstream_that_failed_is_an_error(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """A timeout upstream is answered 503: the server's side, so ERROR."""
        span = marked(tracer, exporter, TimeoutError("gateway"))
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})["error.type"] == "timeout"

    def test_the_apps_own_statuses_decide(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """A 429 by its status hint is no ERROR; a code the app maps to 503 is."""
        limited = Errors(
            [ErrorDetail(None, "rate_limit", bucket=Bucket.USER_VISIBLE, status=429)]
        )
        span = marked(tracer, exporter, limited)
        assert span.status.status_code is StatusCode.UNSET
        assert span.events == ()
        exporter.clear()
        mapped = marked(
            tracer,
            exporter,
            Errors([ErrorDetail("sku", "sold_out")]),
            problems=Problems(statuses={"sold_out": 503}),
        )
        assert mapped.status.status_code is StatusCode.ERROR

    def test_the_most_severe_error_speaks(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """Of a field error and a bug, the bug is the answer and the mark."""
        errors = Errors(
            [
                ErrorDetail("email", "blank"),
                ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR),
            ]
        )
        span = marked(tracer, exporter, Err(errors))
        assert (span.attributes or {})["error.type"] == "bug"
        assert span.status.status_code is StatusCode.ERROR


class TestOtherKinds:
    """A client span is an error whatever failed; the others are as a server's."""

    def test_a_client_span_is_an_error_even_for_a_4xx(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """The semantic conventions: a 4xx SHOULD be Error on a client span."""
        request = httpx.Request("POST", "https://pay.example/v1/charges")
        response = httpx.Response(422, request=request)
        rejected = httpx.HTTPStatusError("422", request=request, response=response)
        span = marked(tracer, exporter, rejected, SpanKind.CLIENT)
        assert (span.attributes or {})["outcome.bucket"] == "user_fixable"
        assert span.status.status_code is StatusCode.ERROR

    def test_the_kind_given_wins_over_the_spans(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """kind=CLIENT on a span started as internal marks it as a client's."""
        span = marked(
            tracer,
            exporter,
            validation_error(),
            SpanKind.INTERNAL,
            kind=SpanKind.CLIENT,
        )
        assert span.status.status_code is StatusCode.ERROR

    def test_a_consumer_span_is_judged_as_a_servers(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """A job's span: the user's failure is no ERROR, a bug is."""
        fixable = marked(tracer, exporter, validation_error(), SpanKind.CONSUMER)
        assert fixable.status.status_code is StatusCode.UNSET
        exporter.clear()
        bug = marked(tracer, exporter, KeyError("sku"), SpanKind.CONSUMER)
        assert bug.status.status_code is StatusCode.ERROR

    def test_a_span_that_does_not_know_its_kind_is_internal(self) -> None:
        """The API's non-recording span has no kind: internal, and no error raised."""
        mark_span(INVALID_SPAN, KeyError("sku"))
        assert not INVALID_SPAN.is_recording()


class TestOptions:
    """The classifier of the Problems given decides; bad input is refused."""

    def test_the_problems_classifier_is_used(
        self, tracer: Tracer, exporter: InMemorySpanExporter
    ) -> None:
        """A rule of the app's makes its exception the user's to fix."""

        class OutOfStock(Exception):
            pass

        classifier = Classifier()
        classifier.register(OutOfStock, bucket=Bucket.USER_FIXABLE, kind="sold_out")
        span = marked(
            tracer, exporter, OutOfStock(), problems=Problems(classifier=classifier)
        )
        assert (span.attributes or {})["error.type"] == "sold_out"
        assert span.status.status_code is StatusCode.UNSET

    def test_bad_input_is_refused(self, tracer: Tracer) -> None:
        """An Ok is no failure; problems must be a Problems."""
        with tracer.start_as_current_span("x") as span:
            with pytest.raises(TypeError, match="not Ok"):
                mark_span(span, Ok(1))
            with pytest.raises(TypeError, match=r"problems=Problems\(...\)"):
                mark_span(span, KeyError(), problems={"sold_out": 409})  # type: ignore[arg-type]
