"""
Type-level tests of the Sentry, logging and OpenTelemetry integrations.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_type

import sentry_sdk
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from outcome import Classifier, Errors, Problems, Retrying, RetryPolicy, retry
from outcome.integrations.logging import (
    ClassifyingFilter,
    ClassifyingProcessor,
    RetryLogger,
    on_give_up,
    on_retry,
)
from outcome.integrations.otel import mark_span
from outcome.integrations.sentry import BeforeSend, before_send
from outcome.jobs import JobPolicy

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint


def trackers() -> None:
    sentry_sdk.init(dsn="https://public@sentry.example/1", before_send=before_send)
    sentry_sdk.init(
        before_send=BeforeSend(classifier=Classifier(), report_visible=True)
    )
    BeforeSend(report_visible=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    BeforeSend(Classifier())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def events(event: Event, hint: Hint) -> None:
    assert_type(before_send(event, hint), "Event | None")
    assert_type(before_send({"level": "error"}, {}), dict[str, str] | None)


def logs() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ClassifyingFilter())
    handler.addFilter(ClassifyingFilter(classifier=Classifier()))
    assert_type(ClassifyingFilter().filter(logging.makeLogRecord({})), bool)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            ClassifyingProcessor(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    )


def hooks() -> None:
    Retrying(on_retry=on_retry, on_give_up=on_give_up)
    JobPolicy(on_retry=on_retry, on_give_up=on_give_up)
    log = RetryLogger(logging.getLogger("shop"), tracebacks=True)
    Retrying(policy=RetryPolicy(), on_retry=log.on_retry, on_give_up=log.on_give_up)
    JobPolicy(on_retry=log.on_retry, on_give_up=log.on_give_up)
    retry(using=Retrying(on_retry=log.on_retry))
    RetryLogger("shop")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    on_give_up(Errors())  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


def spans() -> None:
    tracer = TracerProvider().get_tracer("shop")
    with tracer.start_as_current_span("checkout") as span:
        assert_type(mark_span(span, TimeoutError()), None)
        mark_span(span, Errors(), kind=SpanKind.SERVER, problems=Problems())
        mark_span(span, Errors(), kind="server")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
