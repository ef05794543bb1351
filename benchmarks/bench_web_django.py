"""
An error answered through the DRF exception handler, against a hand-written one.

Four cases, each a GET to Django's WSGI handler (no server, no test client)
whose DRF ``APIView`` raises: a serializer's ``ValidationError`` (400, an
error per field with DRF's codes), a failure the user can fix (``sold_out``,
mapped to 409 by ``OUTCOME_PROBLEMS``), an upstream's 429 with Retry-After
(503 with Retry-After) and a bug (left to Django, answered 500 with a
reference by ``handler500``). The hand-written views use an exception handler
and a ``handler500`` that build the same status, headers and body with
``Errors`` and ``json.dumps``, knowing each case's status in advance, and mark
the transaction for rollback as DRF's own handler does. Logging is off on both
sides. Target: at most 1.5 times the hand-written cost.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_web_django.py``; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import django.conf

if not django.conf.settings.configured:
    django.conf.settings.configure(
        DEBUG=False,
        USE_I18N=False,
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        REST_FRAMEWORK={"UNAUTHENTICATED_USER": None},
        OUTCOME_PROBLEMS={"statuses": {"sold_out": 409}},
    )

import io
import json
import logging
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView, set_rollback

import outcome
from outcome import PROBLEM_JSON, Bucket, Decision, ErrorDetail, Errors
from outcome.integrations.django import exception_handler, problem_server_error

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rest_framework.request import Request
    from rest_framework.response import Response

TARGET = 1.5
_REQUEST = httpx.Request("POST", "https://pay.example/v1/charges")
_RESPONSE = httpx.Response(429, headers={"Retry-After": "7"}, request=_REQUEST)
# The messages of the codes the serializer gives, as the integration has them.
CATALOG = {"max_length": "is too long", "invalid_choice": "is not one of the choices"}


class SoldOutError(Exception):
    """The shop's own failure: the user can fix it by ordering less."""

    def __outcome_decision__(self) -> Decision:
        """The user can fix it."""
        return Decision(Bucket.USER_FIXABLE, transient=False, kind="sold_out")


class Order(serializers.Serializer):  # type: ignore[misc]  # DRF ships no types
    """An order with two bad fields."""

    sku = serializers.CharField(max_length=8)
    size = serializers.ChoiceField(choices=["s", "m", "l"])


def invalid_order() -> ValidationError:
    """The ValidationError DRF's serializer raises for a bad order."""
    order = Order(data={"sku": "SELECT-secret-cards", "size": "SELECT"})
    try:
        order.is_valid(raise_exception=True)
    except ValidationError as exc:
        return exc
    raise AssertionError  # pragma: no cover - the order is invalid


FAILURES: dict[str, Callable[[], Exception]] = {
    "validation error": invalid_order,
    "sold out": SoldOutError,
    "upstream 429": lambda: httpx.HTTPStatusError(
        "429", request=_REQUEST, response=_RESPONSE
    ),
    "bug": lambda: LookupError("SELECT secret FROM cards"),
}


def failure(case: str) -> Exception:
    """A new failure of the case."""
    return FAILURES[case]()


# By hand ------------------------------------------------------------------------


def _problem(
    errors: Errors,
    status: int,
    headers: dict[str, str],
    catalog: Mapping[str, str] | None = None,
) -> HttpResponse:
    content = json.dumps(
        errors.to_problem_details(status=status, catalog=catalog),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return HttpResponse(content, status=status, headers=headers)


def hand_handler(exc: Exception, context: object) -> HttpResponse | None:
    """A DRF exception handler written for these cases."""
    del context
    headers = {"Content-Type": PROBLEM_JSON}
    errors = Errors()
    if isinstance(exc, ValidationError):
        codes: dict[str, list[str]] = exc.get_codes()
        for field, field_codes in codes.items():
            for code in field_codes:
                errors.append(ErrorDetail(field, code))
        set_rollback()
        return _problem(errors, 400, headers, CATALOG)
    if isinstance(exc, SoldOutError):
        errors.add_exception(exc)
        set_rollback()
        return _problem(errors, 409, headers)
    if isinstance(exc, httpx.HTTPStatusError):
        detail = errors.add_exception(exc)
        wait = detail.params.get("retry_after")
        if isinstance(wait, int):
            headers["Retry-After"] = str(wait)
        set_rollback()
        return _problem(errors, 503, headers)
    return None


def hand_server_error(request: HttpRequest) -> HttpResponse:
    """A handler500 answering the exception being handled with its reference."""
    del request
    errors = Errors()
    exc = sys.exc_info()[1]
    if exc is not None:
        errors.add_exception(exc)
    return _problem(errors, 500, {"Content-Type": PROBLEM_JSON})


# The views ----------------------------------------------------------------------


class Raising(APIView):  # type: ignore[misc]  # DRF ships no types
    """``GET /<side>/<case>``: raises the case's failure."""

    renderer_classes: ClassVar[list[type[Any]]] = [JSONRenderer]
    authentication_classes: ClassVar[list[type[Any]]] = []
    permission_classes: ClassVar[list[type[Any]]] = []
    throttle_classes: ClassVar[list[type[Any]]] = []
    handler: ClassVar[Callable[..., HttpResponse | None]]

    def get_exception_handler(self) -> Callable[..., HttpResponse | None]:
        """This side's handler."""
        return type(self).handler

    def get(self, _request: Request, case: str) -> Response:
        """Raise the case's failure."""
        raise failure(case.replace("-", " "))


class ByHand(Raising):
    """The views answered by the hand-written handler."""

    handler = staticmethod(hand_handler)


class WithOutcome(Raising):
    """The views answered by the integration."""

    handler = staticmethod(exception_handler)


urlpatterns = [
    path("hand/<str:case>", ByHand.as_view()),
    path("outcome/<str:case>", WithOutcome.as_view()),
]


def handler500(request: HttpRequest) -> HttpResponse:
    """This side's handler500."""
    if request.path.startswith("/outcome/"):
        return problem_server_error(request)
    return hand_server_error(request)


# Timing -------------------------------------------------------------------------


def requester(handler: WSGIHandler, side: str, case: str) -> Callable[[], object]:
    """Call Django's WSGI handler as a server would, for the case's path."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/{side}/{case.replace(' ', '-')}",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    seen: list[str] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], _exc_info: object = None
    ) -> Callable[[bytes], object]:
        seen.append(status + repr(sorted(headers)))
        return len

    def once() -> tuple[str, bytes]:
        seen.clear()
        response = handler({**environ, "wsgi.input": io.BytesIO()}, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
        return seen[0], body

    return once


def main() -> int:
    """Print a markdown table of times and the integration / by-hand ratio."""
    settings = parse_settings(__doc__, rounds=21, number=300, quick_number=5)
    logging.disable(logging.CRITICAL)
    handler = WSGIHandler()
    contenders: list[Contender] = []
    for case in FAILURES:
        hand, ours = (
            requester(handler, "hand", case),
            requester(handler, "outcome", case),
        )
        # The same answer, the bug's reference included: both hash the same
        # exception with this process's key.
        assert hand() == ours(), case  # noqa: S101 - the same answer
        contenders += [
            Contender(f"{case}, by hand", calls(hand)),
            Contender(f"{case}, outcome", calls(ours)),
        ]
    comparisons = [
        Comparison(
            case,
            f"{case}, by hand",
            (
                Entry("exception handler by hand", f"{case}, by hand"),
                Entry("exception_handler", f"{case}, outcome", target=TARGET),
            ),
        )
        for case in FAILURES
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={
            "outcome": outcome.__version__,
            "django": version("django"),
            "djangorestframework": version("djangorestframework"),
        },
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
