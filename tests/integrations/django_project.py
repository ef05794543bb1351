"""
A small Django project for the integration's tests: its settings, views and URLs.

Django's settings are configured once per process, and DRF reads them when its
views are imported; so this module configures them, if nothing has, as
tests/test_adapters.py does (``USE_I18N=False``), and the tests put the
project's own settings on top with ``override_settings(**SETTINGS)``, whichever
test module runs first.
"""

from __future__ import annotations

import django.conf

if not django.conf.settings.configured:
    django.conf.settings.configure(USE_I18N=False)

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from outcome import Bucket, Classifier, Err, ErrorDetail, Errors
from outcome.integrations.django import problem_response

if TYPE_CHECKING:
    from rest_framework.request import Request

HANDLER: str = "outcome.integrations.django.exception_handler"
BUG_TEXT = "SELECT secret FROM cards"
"""The text of every programmer error the views raise: it must reach no response."""

SETTINGS: dict[str, Any] = {
    "ROOT_URLCONF": __name__,
    "ALLOWED_HOSTS": ["testserver"],
    "DEBUG": False,
    "MIDDLEWARE": ["outcome.integrations.django.ProblemMiddleware"],
    "REST_FRAMEWORK": {
        "EXCEPTION_HANDLER": HANDLER,
        # No django.contrib.auth: the project installs no apps.
        "UNAUTHENTICATED_USER": None,
    },
}
"""The project's settings, put over whatever the process was configured with."""


def api_client(*, raise_request_exception: bool = True) -> APIClient:
    """DRF's test client, which may only be imported once settings are configured."""
    return APIClient(raise_request_exception=raise_request_exception)


# What the views raise -------------------------------------------------------


class OrderRejected(Exception):
    """A failure of the shop's own that carries the errors it stands for."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("order rejected")
        self.errors = errors


class Unreadable(Exception):
    """A failure whose facts raise when read: its DRF status, its errors."""

    @property
    def errors(self) -> Errors:
        """Raise, as a broken property does."""
        raise RuntimeError(BUG_TEXT)


class BrokenApiError(exceptions.APIException):
    """A DRF exception whose status is no HTTP status."""

    status_code = "400"  # type: ignore[assignment]


class Unavailable(exceptions.APIException):
    """A DRF exception of the project's own, with a 503 and a wait."""

    status_code = 503
    default_code = "maintenance"

    def __init__(self) -> None:
        super().__init__()
        self.wait = 30


class OutOfStock(Exception):
    """A failure of the shop's own that only the shop's classifier knows."""


SHOP_CLASSIFIER = Classifier()
"""The shop's classifier: an OutOfStock is the user's to fix."""
SHOP_CLASSIFIER.register(OutOfStock, bucket=Bucket.USER_FIXABLE, kind="out_of_stock")


def odd_detail() -> exceptions.APIException:
    """
    A DRF exception whose detail was set by hand, in shapes DRF never makes.

    A plain string (no code), a number, a tuple, keys that are no field names
    (``None``, ``-1``, ``""``, ``True``) and a list that holds itself.
    """
    exc = exceptions.APIException()
    exc.status_code = 422
    looping: list[object] = ["has no code"]
    looping.append(looping)
    exc.detail = {
        "name": "has no code",
        "count": 3,
        "pair": ("has no code", {"inner": ["has no code"]}),
        None: ["has no code"],
        -1: ["has no code"],
        "": ["has no code"],
        True: ["has no code"],
        "looping": looping,
    }
    return exc


def upstream_rate_limit() -> httpx.HTTPStatusError:
    """What httpx raises when the payment provider answers 429, Retry-After: 7."""
    request = httpx.Request("POST", "https://pay.example/charges")
    response = httpx.Response(
        429,
        headers={"Retry-After": "7"},
        json={"error": {"message": BUG_TEXT}},
        request=request,
    )
    return httpx.HTTPStatusError(BUG_TEXT, request=request, response=response)


FAILURES: dict[str, Any] = {
    "bug": lambda: LookupError(BUG_TEXT),
    "timeout": lambda: TimeoutError(BUG_TEXT),
    "upstream-429": upstream_rate_limit,
    "carried": lambda: OrderRejected(Errors([ErrorDetail("items[0].sku", "sold_out")])),
    "carried-nothing": lambda: OrderRejected(Errors()),
    "unreadable": lambda: Unreadable(BUG_TEXT),
    "http404": lambda: Http404(BUG_TEXT),
    "django-permission": lambda: DjangoPermissionDenied(BUG_TEXT),
    "bad-request": lambda: BadRequest(BUG_TEXT),
    "django-invalid": lambda: DjangoValidationError(
        {"email": [DjangoValidationError("Enter a valid email.", code="invalid")]}
    ),
    "not-found": lambda: exceptions.NotFound(BUG_TEXT),
    "permission-denied": lambda: exceptions.PermissionDenied(BUG_TEXT),
    "api-error": exceptions.APIException,
    "unavailable": Unavailable,
    "broken-api": BrokenApiError,
    "invalid-empty": lambda: exceptions.ValidationError({}),
    "odd-detail": odd_detail,
    "out-of-stock": lambda: OutOfStock(BUG_TEXT),
}
"""What the views raise, by the name in their URL."""


def failure(name: str) -> BaseException:
    """A new failure of the kind `name` says."""
    return FAILURES[name]()


# DRF views ------------------------------------------------------------------


class Api(APIView):
    """The project's DRF base view: JSON only, no authentication or throttle."""

    renderer_classes: ClassVar[list[type[Any]]] = [JSONRenderer]
    parser_classes: ClassVar[list[type[Any]]] = [JSONParser]
    authentication_classes: ClassVar[list[type[Any]]] = []
    permission_classes: ClassVar[list[type[Any]]] = []
    throttle_classes: ClassVar[list[type[Any]]] = []


class Item(serializers.Serializer):
    """One line of an order."""

    sku = serializers.CharField(max_length=8)
    quantity = serializers.IntegerField(min_value=1)


class Order(serializers.Serializer):
    """An order, as the API takes it."""

    email = serializers.EmailField()
    size = serializers.ChoiceField(choices=["s", "m", "l"])
    items = Item(many=True)
    tags = serializers.ListField(child=serializers.IntegerField(), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A non-field error: an order of one line may not be tagged."""
        if len(attrs["items"]) == 1 and attrs.get("tags"):
            raise serializers.ValidationError(
                "A single line cannot be tagged.", code="single_tagged"
            )
        return attrs


class Orders(Api):
    """``POST /api/orders``: the serializer's errors, DRF's ParseError."""

    def post(self, request: Request) -> Response:
        """Validate the order and take it."""
        order = Order(data=request.data)
        order.is_valid(raise_exception=True)
        return Response({"taken": True}, status=201)


class Raising(Api):
    """``GET /api/raise/<name>``: raises FAILURES[name]."""

    def get(self, request: Request, name: str) -> Response:
        """Raise what the URL names."""
        raise failure(name)


class Returning(Api):
    """``GET /api/return/<name>``: returns Err(FAILURES[name]) as problem details."""

    def get(self, request: Request, name: str) -> HttpResponse:
        """Return what the URL names."""
        return problem_response(Err(failure(name)))


class NoHeaderAuthentication:
    """An authenticator that gives no WWW-Authenticate: DRF answers 403."""

    def authenticate(self, request: Request) -> None:
        """Authenticate no one."""

    def authenticate_header(self, request: Request) -> str:
        """No challenge."""
        return ""


class BearerAuthentication(NoHeaderAuthentication):
    """An authenticator that challenges with a bearer token."""

    def authenticate_header(self, request: Request) -> str:
        """Ask for a bearer token."""
        return 'Bearer realm="api"'


class BadToken(BearerAuthentication):
    """An authenticator that rejects every credential it is given."""

    def authenticate(self, request: Request) -> None:
        """Reject the credential."""
        raise exceptions.AuthenticationFailed(BUG_TEXT)


class Private(Api):
    """``GET /api/private``: for authenticated users only."""

    authentication_classes: ClassVar[list[type[Any]]] = [BearerAuthentication]
    permission_classes: ClassVar[list[type[Any]]] = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        """Never reached."""
        return Response({})  # pragma: no cover - authentication refuses first


class PrivateNoHeader(Private):
    """``GET /api/private-no-header``: no authenticator that challenges."""

    authentication_classes: ClassVar[list[type[Any]]] = [NoHeaderAuthentication]


class PrivateBadToken(Private):
    """``GET /api/private-bad-token``: every credential is rejected."""

    authentication_classes: ClassVar[list[type[Any]]] = [BadToken]


class Slow(BaseThrottle):
    """A throttle that refuses every request, for 2.2 seconds."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Refuse."""
        return False

    def wait(self) -> float:
        """The wait DRF puts on Throttled."""
        return 2.2


class Throttled(Api):
    """``GET /api/throttled``: refused by its throttle."""

    throttle_classes: ClassVar[list[type[Any]]] = [Slow]

    def get(self, request: Request) -> Response:
        """Never reached."""
        return Response({})  # pragma: no cover - the throttle refuses first


# Plain Django views ---------------------------------------------------------


def plain(_request: HttpRequest, name: str) -> HttpResponse:
    """``GET /plain/<name>``: a JSON view raising FAILURES[name]."""
    raise failure(name)


def plain_returning(_request: HttpRequest, name: str) -> HttpResponse:
    """``GET /plain-return/<name>``: returns FAILURES[name] as problem details."""
    return problem_response(failure(name))


def plain_ok(_request: HttpRequest) -> HttpResponse:
    """``GET /plain-ok``: a JSON view that answers."""
    return JsonResponse({"ok": True})


async def plain_async(_request: HttpRequest, name: str) -> HttpResponse:
    """``GET /async/<name>``: an async JSON view raising FAILURES[name]."""
    await asyncio.sleep(0)
    raise failure(name)


urlpatterns = [
    path("api/orders", Orders.as_view()),
    path("api/raise/<str:name>", Raising.as_view()),
    path("api/return/<str:name>", Returning.as_view()),
    path("api/private", Private.as_view()),
    path("api/private-no-header", PrivateNoHeader.as_view()),
    path("api/private-bad-token", PrivateBadToken.as_view()),
    path("api/throttled", Throttled.as_view()),
    path("plain/<str:name>", plain),
    path("plain-return/<str:name>", plain_returning),
    path("plain-ok", plain_ok),
    path("async/<str:name>", plain_async),
]

handler500 = "outcome.integrations.django.problem_server_error"


class DefaultErrorPages:
    """A URLconf with the same views and Django's own error pages."""

    urlpatterns = urlpatterns
