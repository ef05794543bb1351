"""
OpenTelemetry: a span marked by who must act on its failure.

`mark_span` records a failure on a span: the attribute ``error.type`` (the
semantic conventions' own) is set to the failure's kind (``"validation"``,
``"timeout"``, ``"bug"``, ...), ``outcome.bucket`` to its bucket and
``outcome.reference`` to its reference; its exception, if it has one, is
recorded as an event. The span's status is set to ERROR only when the fault is
the server's side: a programmer error, or a service the app relies on that
failed. That is the stable HTTP semantic conventions' rule: "For HTTP status
codes in the 4xx range span status MUST be left unset in case of
SpanKind.SERVER and SHOULD be set to Error in case of SpanKind.CLIENT." So on
a server span (and an internal, producer or consumer one) the status is ERROR
exactly when the API answers the failure with a 5xx, as `outcome.Problems`
answers it; on a client span, whatever the failure.

A span that a ``with tracer.start_as_current_span(...)`` block leaves by an
exception gets ERROR and the exception recorded anyway, unless the span was
started with ``record_exception=False, set_status_on_exception=False``: start
it so, and mark the span where the failure is caught.

>>> from opentelemetry.sdk.trace import TracerProvider
>>> from opentelemetry.trace import SpanKind
>>> from outcome import ErrorDetail, Errors
>>> from outcome.integrations.otel import mark_span
>>> tracer = TracerProvider().get_tracer("shop")
>>> with tracer.start_as_current_span("POST /signup", kind=SpanKind.SERVER) as span:
...     mark_span(span, Errors([ErrorDetail("email", "blank")]))
>>> span.attributes["error.type"], span.status.status_code.name
('blank', 'UNSET')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

from outcome._http import Problems

if TYPE_CHECKING:
    from opentelemetry.trace import Span, SpanKind

    from outcome._errors.collection import Errors
    from outcome._errors.detail import ErrorDetail

__all__ = ["mark_span"]

_DEFAULT: Final = Problems()
_SERVER_ERROR: Final = 500


def mark_span(
    span: Span,
    failure: object,
    *,
    kind: SpanKind | None = None,
    problems: Problems | None = None,
) -> None:
    """
    Mark `span` with `failure`: its kind, bucket and reference, and ERROR if it is ours.

    The failure is what `outcome.Problems.errors_of` reads (an exception, an
    `outcome.Errors`, an `outcome.Err`, a `outcome.SagaFailure`, ...); its
    most severe error speaks for it, as in an API's answer.

    Args:
        span: The span to mark.
        failure: What went wrong.
        kind: The span's kind; when `None`, the span's own (an SDK span
            knows it), else ``SpanKind.INTERNAL``.
        problems: How the API answers failures: its classifier sorts the
            exception and its statuses say which answers are a 5xx. The
            default `outcome.Problems` when `None`.

    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.trace import SpanKind
    >>> tracer = TracerProvider().get_tracer("shop")
    >>> with tracer.start_as_current_span(
    ...     "charge", kind=SpanKind.SERVER, set_status_on_exception=False
    ... ) as span:
    ...     try:
    ...         raise LookupError("SELECT secret FROM cards")
    ...     except LookupError as exc:
    ...         mark_span(span, exc)
    >>> span.attributes["error.type"], span.attributes["outcome.bucket"]
    ('bug', 'programmer_error')
    >>> span.status.status_code.name, span.events[0].name
    ('ERROR', 'exception')

    Raises:
        TypeError: When `failure` is an `outcome.Ok`, which is no failure, or
            `problems` is not a `outcome.Problems`.

    .. versionadded:: 0.1.0
    """
    from opentelemetry.trace import SpanKind, Status, StatusCode  # noqa: PLC0415 - optional

    if problems is None:
        problems = _DEFAULT
    elif type(cast("object", problems)) is not Problems:  # untyped callers
        msg = f"mark_span() takes problems=Problems(...) or None, not {problems!r}"
        raise TypeError(msg)
    worst = _worst(problems.errors_of(failure))
    span.set_attribute("error.type", worst.code)
    span.set_attribute("outcome.bucket", worst.bucket.value)
    span.set_attribute("outcome.reference", worst.reference)
    if worst.cause is not None:
        span.record_exception(worst.cause)
    if kind is None:
        own: object = getattr(span, "kind", None)
        kind = own if isinstance(own, SpanKind) else SpanKind.INTERNAL
    if kind is SpanKind.CLIENT or problems.status_of(worst) >= _SERVER_ERROR:
        span.set_status(Status(StatusCode.ERROR, worst.code))


def _worst(errors: Errors) -> ErrorDetail:
    """The most severe error, the first of the highest bucket, as answers pick it."""
    details = list(errors)
    worst = details[0]
    for detail in details:
        if detail.bucket > worst.bucket:
            worst = detail
    return worst
