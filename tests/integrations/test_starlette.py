"""Starlette and FastAPI answering failures as problem details, for real."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Protocol, cast

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, Cookie, FastAPI, Header, Query
from fastapi import HTTPException as FastAPIHTTPException
from fastapi.encoders import ENCODERS_BY_TYPE, jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient

from outcome import (
    PROBLEM_JSON,
    Bucket,
    Classifier,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Problems,
    Result,
    SagaFailure,
)
from outcome.integrations import starlette as integration
from outcome.integrations.starlette import install, problem_response

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send
    from starlette.websockets import WebSocket

BUG = "SELECT secret FROM cards"
CARD = "4111111111111111"  # rejected input that must never be echoed
WAIT = 10.0  # seconds the uvicorn test waits for its server, far beyond need


class SoldOut(Exception):
    """A failure the user can act on: registered as USER_FIXABLE below."""


class Unreadable(Exception):
    """A failure none of whose facts can be read: every attribute raises."""

    def __getattribute__(self, name: str) -> object:
        if name.startswith("__") and name not in {"__str__", "__repr__"}:
            return super().__getattribute__(name)  # what Python itself needs
        raise RuntimeError(BUG)

    def __str__(self) -> str:
        raise RuntimeError(BUG)

    def __repr__(self) -> str:
        raise RuntimeError(BUG)


def classifier() -> Classifier:
    """The default rules, and SoldOut as a user-fixable ``sold_out``."""
    rules = Classifier()
    rules.register(SoldOut, bucket=Bucket.USER_FIXABLE, kind="sold_out")
    return rules


OPTIONS: dict[str, Any] = {
    "statuses": {"sold_out": 409},
    "catalog": {"sold_out": "is sold out"},
}


def rate_limited() -> httpx.HTTPStatusError:
    """What httpx raises for an upstream's 429 with ``Retry-After: 7``."""
    request = httpx.Request("POST", "https://payments.example/charges")
    response = httpx.Response(429, headers={"Retry-After": "7"}, request=request)
    return httpx.HTTPStatusError(
        "429 Too Many Requests", request=request, response=response
    )


class Counted:
    """
    The app as a server runs it, counting what reaches the server.

    ``ServerErrorMiddleware`` re-raises every exception it answered, so that
    the server logs it: what gets through here is what uvicorn would log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.raised: list[BaseException] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; count what it raises, and raise it on."""
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.raised.append(exc)
            raise


def client(app: ASGIApp) -> tuple[TestClient, Counted]:
    """A TestClient that returns the 500 answers, and the count of what escaped."""
    counted = Counted(app)
    return TestClient(counted, raise_server_exceptions=False), counted


class Answered(Protocol):
    """What is read of a response: httpx's, or that of Starlette's TestClient."""

    @property
    def status_code(self) -> int:
        """The status."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers."""
        ...

    @property
    def content(self) -> bytes:
        """The body."""
        ...

    @property
    def text(self) -> str:
        """The body, decoded."""
        ...

    def json(self) -> Any:
        """The body, parsed."""
        ...


def assert_problem(response: Answered, status: int) -> dict[str, Any]:
    """The response is a problem of `status`, showing no text of the bug."""
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert int(response.headers["content-length"]) == len(response.content)
    shown = response.text + json.dumps(dict(response.headers))
    assert "SELECT" not in shown
    assert "secret" not in shown
    assert CARD not in shown
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def assert_reference_only(body: dict[str, Any]) -> str:
    """The body of a programmer error: one generic error with its reference."""
    [error] = body["errors"]
    assert error["code"] == "internal_error"
    assert error["reference"].startswith("ERR-")
    assert error["reference"] in error["detail"]
    return str(error["reference"])


# The apps ------------------------------------------------------------------------


async def raise_sold_out(_request: Request) -> Response:
    """Raise a user-fixable failure, whose text is not for users either."""
    raise SoldOut(BUG)


async def raise_rate_limited(_request: Request) -> Response:
    """Raise what httpx raises for an upstream's rate limit."""
    raise rate_limited()


async def raise_bug(_request: Request) -> Response:
    """Raise a programmer error."""
    raise LookupError(BUG)


async def raise_unreadable(_request: Request) -> Response:
    """Raise a failure none of whose facts can be read."""
    raise Unreadable


async def raise_http_exception(_request: Request) -> Response:
    """Raise Starlette's own HTTPException."""
    raise HTTPException(404, headers={"X-Reason": "gone"})


async def stream_then_fail(_request: Request) -> Response:
    """Start a response, then fail in the middle of it."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise SoldOut

    return StreamingResponse(chunks())


async def return_sold_out(_request: Request) -> Response:
    """Return a user-fixable failure."""
    return problem_response(Errors([ErrorDetail("sku", "sold_out")]))


def return_sold_out_in_a_thread(_request: Request) -> Response:
    """Return a user-fixable failure, from Starlette's thread pool."""
    return problem_response(Errors([ErrorDetail("sku", "sold_out")]))


async def echo(websocket: WebSocket) -> None:
    """Send back what was sent."""
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


ROUTES = [
    Route("/sold-out", raise_sold_out),
    Route("/busy", raise_rate_limited),
    Route("/bug", raise_bug),
    Route("/unreadable", raise_unreadable),
    Route("/http", raise_http_exception),
    Route("/stream", stream_then_fail),
    Route("/returned", return_sold_out),
    Route("/returned-in-a-thread", return_sold_out_in_a_thread),
    WebSocketRoute("/ws", echo),
]


def starlette_app(*, debug: bool = False) -> Starlette:
    """A Starlette app of ROUTES, installed with OPTIONS."""
    app = Starlette(routes=ROUTES, debug=debug)
    install(app, classifier=classifier(), **OPTIONS)
    return app


class Payment(BaseModel):
    """A payment request's body."""

    model_config = ConfigDict(extra="forbid")
    card_token: str
    amount: int = Field(gt=0)


def fastapi_app() -> FastAPI:
    """A FastAPI app that validates a payment, raises and returns failures."""
    app = FastAPI()

    @app.post("/payments/{order_id}")
    def pay(
        order_id: int,
        payment: Payment,
        limit: Annotated[int, Query()] = 10,
        x_shop: Annotated[int | None, Header()] = None,
        session: Annotated[int | None, Cookie()] = None,  # noqa: ARG001 - validated only
    ) -> dict[str, object]:
        return {"order": order_id, "of": payment, "limit": limit, "shop": x_shop}

    @app.get("/bug")
    def bug() -> None:
        raise LookupError(BUG)

    @app.get("/busy")
    def busy() -> None:
        raise rate_limited()

    @app.get("/malformed/{case}")
    def malformed(case: str) -> None:
        lines: list[object] = [] if case == "empty" else ["not a dict"]
        raise RequestValidationError(lines)

    @app.get("/elsewhere")
    def elsewhere() -> None:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("state", "cart"), "msg": "Field required"}]
        )

    @app.get("/result/{case}")
    def result(case: str) -> Result[int, Errors]:
        if case == "ok":
            return Ok(3)
        return Err(Errors([ErrorDetail("sku", "sold_out")]))

    @app.get("/untyped")
    def untyped():  # type: ignore[no-untyped-def]  # noqa: ANN202 - no response model
        return {"errors": Errors([ErrorDetail("sku", "blank")]), "result": Ok(1)}

    install(app, classifier=classifier(), **OPTIONS)
    return app


# Install -------------------------------------------------------------------------


class TestInstall:
    """install checks its options at once and adds what it says, where it says."""

    @pytest.mark.parametrize(
        ("options", "error", "words"),
        [
            ({"statuses": [("sold_out", 409)]}, TypeError, "statuses must map"),
            ({"statuses": {"sold_out": 700}}, ValueError, "from 400 to 599"),
            ({"statuses": {"sold_out": "409"}}, TypeError, "'409'"),
            ({"catalog": {"sold_out": 1}}, TypeError, "catalog must map"),
            ({"classifier": "strict"}, TypeError, "'strict'"),
            ({"type": 7}, TypeError, "URI string"),
        ],
    )
    def test_bad_options_raise_at_install(
        self, options: dict[str, Any], error: type[Exception], words: str
    ) -> None:
        """A bad option fails install, naming the value, and leaves the app alone."""
        app = Starlette()
        with pytest.raises(error, match=words):
            install(app, **options)
        assert app.user_middleware == []
        assert app.exception_handlers == {}

    def test_not_an_app(self) -> None:
        """Something that is not a Starlette app is refused by name."""
        with pytest.raises(TypeError, match=r"APIRouter.*for a router, install on"):
            install(APIRouter())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_twice(self) -> None:
        """A second install on one app is refused: options are given once."""
        app = Starlette()
        install(app)
        with pytest.raises(RuntimeError, match="already ran"):
            install(app, statuses={"sold_out": 409})

    def test_after_the_app_started(self) -> None:
        """install after the first request is refused, before changing anything."""
        app = Starlette()
        TestClient(app).get("/")
        with pytest.raises(RuntimeError, match=r"before .* serves its first request"):
            install(app)
        assert app.exception_handlers == {}

    def test_returns_the_problems(self) -> None:
        """The Problems made of the options is returned, to answer with elsewhere."""
        problems = install(Starlette(), statuses={"sold_out": 409})
        assert isinstance(problems, Problems)
        assert problems.status_of(ErrorDetail("sku", "sold_out")) == 409

    def test_the_middleware_sits_between_the_two_of_starlette(self) -> None:
        """The middleware runs inside ServerErrorMiddleware, outside the handlers."""
        for app in (starlette_app(), fastapi_app()):
            layer: object = app.build_middleware_stack()
            names: list[str] = []
            while layer is not None and not isinstance(layer, ExceptionMiddleware):
                names.append(type(layer).__name__)
                layer = getattr(layer, "app", None) or getattr(layer, "_app", None)
            assert names[0] == ServerErrorMiddleware.__name__
            assert names[-1] == "_ProblemMiddleware"
            assert isinstance(layer, ExceptionMiddleware)

    def test_a_500_handler_of_the_app_is_kept(self) -> None:
        """An app's own handler for 500 stays the one that answers bugs."""

        async def own(_request: Request, _exc: Exception) -> Response:
            return JSONResponse({"own": True}, status_code=500)

        app = Starlette(routes=ROUTES, exception_handlers={500: own})
        install(app)
        test_client, counted = client(app)
        response = test_client.get("/bug")
        assert (response.status_code, response.json()) == (500, {"own": True})
        assert [type(exc) for exc in counted.raised] == [LookupError]

    def test_a_plain_starlette_app_needs_no_fastapi(self) -> None:
        """Installing on Starlette and answering a failure never imports FastAPI."""
        script = (
            "import sys\n"
            "from starlette.applications import Starlette\n"
            "from starlette.routing import Route\n"
            "from starlette.testclient import TestClient\n"
            "from outcome.integrations.starlette import install\n"
            "def fail(request):\n"
            "    raise TimeoutError\n"
            "app = Starlette(routes=[Route('/', fail)])\n"
            "install(app)\n"
            "response = TestClient(app).get('/')\n"
            "assert response.status_code == 503, response\n"
            "assert 'fastapi' not in sys.modules, 'fastapi was imported'\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)  # noqa: S603 - our own script

    def test_install_without_fastapi_imported(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With FastAPI not imported, a Starlette app is installed without it."""
        monkeypatch.delitem(sys.modules, "fastapi")
        monkeypatch.delitem(sys.modules, "fastapi.exceptions")
        app = Starlette(routes=ROUTES)
        install(app, classifier=classifier(), **OPTIONS)
        test_client, counted = client(app)
        body = assert_problem(test_client.get("/sold-out"), 409)
        assert body["errors"][0]["code"] == "sold_out"
        assert counted.raised == []


class TestImports:
    """Neither outcome nor the integration module imports what it need not."""

    def test_outcome_imports_no_framework_and_no_pydantic(self) -> None:
        """import outcome imports neither pydantic nor Starlette nor FastAPI."""
        script = (
            "import sys, outcome\n"
            "loaded = {name.split('.')[0] for name in sys.modules}\n"
            "found = loaded & {'pydantic', 'pydantic_core', 'starlette', 'fastapi'}\n"
            "assert not found, found\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)  # noqa: S603 - our own script

    def test_the_integration_module_imports_no_framework(self) -> None:
        """Importing outcome.integrations.starlette imports no framework yet."""
        script = (
            "import sys, outcome.integrations.starlette\n"
            "loaded = {name.split('.')[0] for name in sys.modules}\n"
            "found = loaded & {'pydantic', 'starlette', 'fastapi'}\n"
            "assert not found, found\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)  # noqa: S603 - our own script


# Raised failures -----------------------------------------------------------------


class TestRaisedFailures:
    """What a route raises is answered by what it is, and bugs are logged once."""

    @pytest.fixture(params=["starlette", "fastapi"])
    def app(self, request: pytest.FixtureRequest) -> Starlette:
        """Each framework, installed with OPTIONS."""
        return starlette_app() if request.param == "starlette" else fastapi_app()

    def test_user_fixable_with_the_status_map(self) -> None:
        """A user-fixable failure answers the status and message install mapped."""
        test_client, counted = client(starlette_app())
        response = test_client.get("/sold-out")
        body = assert_problem(response, 409)
        assert "retry-after" not in response.headers
        assert body == {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "errors": [{"detail": "Is sold out", "pointer": "#", "code": "sold_out"}],
        }
        assert counted.raised == []

    def test_an_upstream_rate_limit_answers_503_with_its_wait(
        self, app: Starlette
    ) -> None:
        """An upstream 429 with Retry-After: 7 answers 503 with Retry-After: 7."""
        test_client, counted = client(app)
        response = test_client.get("/busy")
        body = assert_problem(response, 503)
        assert response.headers["retry-after"] == "7"
        assert [error["code"] for error in body["errors"]] == ["rate_limit"]
        assert counted.raised == []

    def test_a_bug_answers_its_reference_only_and_is_logged_once(
        self, app: Starlette
    ) -> None:
        """A programmer error: 500, the reference only; the server sees it once."""
        test_client, counted = client(app)
        response = test_client.get("/bug")
        body = assert_problem(response, 500)
        assert "retry-after" not in response.headers
        reference = assert_reference_only(body)
        assert [type(exc) for exc in counted.raised] == [LookupError]
        assert str(counted.raised[0]) == BUG
        assert reference == Problems().answer(counted.raised[0]).body["errors"][0].get(
            "reference"
        )

    def test_a_failure_whose_facts_cannot_be_read(self) -> None:
        """An exception whose every attribute raises gets a 500 with a reference."""
        test_client, counted = client(starlette_app())
        body = assert_problem(test_client.get("/unreadable"), 500)
        assert_reference_only(body)
        assert [type(exc) for exc in counted.raised] == [Unreadable]

    def test_answering_that_fails_still_answers_500(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Should answering itself fail, the bug page is the reference-only 500."""
        app = starlette_app()

        def broken(_self: Problems, _failure: object) -> Errors:
            raise RuntimeError(BUG)

        monkeypatch.setattr(Problems, "errors_of", broken)
        test_client, counted = client(app)
        body = assert_problem(test_client.get("/sold-out"), 500)
        assert_reference_only(body)
        assert [type(exc) for exc in counted.raised] == [SoldOut]

    def test_http_exception_is_the_framework_s(self) -> None:
        """Starlette's HTTPException is answered as Starlette answers it."""
        test_client, counted = client(starlette_app())
        response = test_client.get("/http")
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["x-reason"] == "gone"
        assert response.text == "Not Found"
        assert counted.raised == []

    def test_fastapi_s_http_exception_is_fastapi_s(self) -> None:
        """FastAPI's HTTPException keeps FastAPI's JSON body, status and headers."""
        app = FastAPI()

        @app.get("/gone")
        def gone() -> None:
            raise FastAPIHTTPException(
                410, "gone for good", headers={"X-Reason": "old"}
            )

        install(app)
        test_client, counted = client(app)
        response = test_client.get("/gone")
        assert response.status_code == 410
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-reason"] == "old"
        assert response.json() == {"detail": "gone for good"}
        assert counted.raised == []

    def test_a_failure_after_the_response_started_is_not_answered(self) -> None:
        """Once the response has started, the failure goes on to the server."""
        test_client, counted = client(starlette_app())
        response = test_client.get("/stream")
        assert response.status_code == 200
        assert response.content == b"partial"
        assert response.headers.get("content-type") != PROBLEM_JSON
        assert [type(exc) for exc in counted.raised] == [SoldOut]

    def test_debug_shows_starlette_s_traceback_for_bugs(self) -> None:
        """With debug=True, a bug gets Starlette's traceback page; others do not."""
        test_client, counted = client(starlette_app(debug=True))
        response = test_client.get("/bug")
        assert response.status_code == 500
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert BUG in response.text  # debug mode's page shows the text, as it should
        assert [type(exc) for exc in counted.raised] == [LookupError]
        assert_problem(test_client.get("/sold-out"), 409)
        assert len(counted.raised) == 1

    def test_middleware_added_after_install_is_outside(self) -> None:
        """What a middleware added after install raises, the 500 handler answers."""

        class Refusing:
            def __init__(self, app: ASGIApp) -> None:
                self.app = app

            async def __call__(
                self, scope: Scope, receive: Receive, send: Send
            ) -> None:
                if scope["type"] == "http":
                    raise SoldOut
                await self.app(scope, receive, send)

        app = starlette_app()
        app.add_middleware(Refusing)
        test_client, counted = client(app)
        body = assert_problem(test_client.get("/bug"), 409)
        assert body["errors"][0]["code"] == "sold_out"
        assert [type(exc) for exc in counted.raised] == [SoldOut]

    def test_websockets_pass_through(self) -> None:
        """A WebSocket connection is not touched by the middleware."""
        test_client, counted = client(starlette_app())
        with test_client.websocket_connect("/ws") as websocket:
            websocket.send_text("hello")
            assert websocket.receive_text() == "hello"
        assert counted.raised == []


# Returned failures ---------------------------------------------------------------


class TestProblemResponse:
    """A route that returns its failures gets the same answer as one that raises."""

    def test_the_installed_options_answer_in_the_app(self) -> None:
        """Without problems=, a route of an installed app answers with its options."""
        test_client, counted = client(starlette_app())
        for path in ("/returned", "/returned-in-a-thread"):
            body = assert_problem(test_client.get(path), 409)
            assert body["errors"] == [
                {"detail": "is sold out", "pointer": "#/sku", "code": "sold_out"}
            ]
        assert counted.raised == []

    def test_outside_an_app_the_defaults(self) -> None:
        """Outside an installed app's request, the default Problems answers."""
        response = problem_response(Errors([ErrorDetail("sku", "sold_out")]))
        assert isinstance(response, Response)
        assert response.status_code == 422
        assert response.media_type == PROBLEM_JSON
        assert response.headers["content-type"] == PROBLEM_JSON
        assert json.loads(bytes(response.body))["errors"][0]["pointer"] == "#/sku"

    def test_the_given_problems_answer(self) -> None:
        """problems= answers with its own options, Retry-After included."""
        problems = Problems(statuses={"busy": 429})
        errors = Errors([ErrorDetail(None, "busy", params={"retry_after": 30})])
        response = problem_response(errors, problems=problems)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "30"

    def test_a_returned_bug_is_logged_once(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A returned programmer error answers its reference and is logged once."""
        cause = LookupError(BUG)
        bug = ErrorDetail(None, "bug", BUG, bucket=Bucket.PROGRAMMER_ERROR, cause=cause)
        with caplog.at_level(logging.ERROR, "outcome.integrations.starlette"):
            response = problem_response(Errors([bug, ErrorDetail("sku", "blank")]))
        assert response.status_code == 500
        assert BUG not in bytes(response.body).decode()
        body = json.loads(bytes(response.body))
        assert assert_reference_only(body) == bug.reference
        [record] = caplog.records
        assert record.levelno == logging.ERROR
        assert bug.reference in record.getMessage()
        assert record.exc_info is not None
        assert record.exc_info[1] is cause

    def test_not_a_problems(self) -> None:
        """problems= that is not a Problems is refused by name."""
        with pytest.raises(
            TypeError, match=r"problems=Problems\(...\) or None, not 409"
        ):
            problem_response(Errors(), problems=409)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_an_ok_is_no_failure(self) -> None:
        """An Ok is refused: it is answered with its value, not a problem."""
        with pytest.raises(TypeError, match="not Ok"):
            problem_response(Ok(1))

    def test_without_fastapi_imported(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With FastAPI not imported, nothing is taken for its validation error."""
        monkeypatch.delitem(sys.modules, "fastapi.exceptions")
        response = problem_response(Err(Errors([ErrorDetail("sku", "blank")])))
        assert response.status_code == 422


# FastAPI's request validation ----------------------------------------------------


class TestRequestValidation:
    """A request FastAPI rejects answers 422 with pointers into its documents."""

    def test_each_document_has_its_pointer_and_location(self) -> None:
        """Body, query, path, header and cookie errors point into their document."""
        test_client, counted = client(fastapi_app())
        test_client.cookies.set("session", "not-a-number")
        response = test_client.post(
            "/payments/A-17?limit=many",
            json={"amount": 0, "card_number": CARD},
            headers={"X-Shop": "north"},
        )
        body = assert_problem(response, 422)
        assert body["title"] == "Unprocessable Entity"
        assert [
            (error["location"], error["pointer"], error["code"])
            for error in body["errors"]
        ] == [
            ("path", "#/order_id", "int_parsing"),
            ("query", "#/limit", "int_parsing"),
            ("header", "#/x-shop", "int_parsing"),
            ("cookie", "#/session", "int_parsing"),
            ("body", "#/card_token", "missing"),
            ("body", "#/amount", "greater_than"),
            ("body", "#", "extra_forbidden"),
        ]
        assert list(body["errors"][0]) == ["detail", "pointer", "location", "code"]
        assert all(error["detail"] for error in body["errors"])
        assert "card_number" not in response.text
        assert "A-17" not in response.text
        assert "many" not in response.text
        assert "north" not in response.text
        assert counted.raised == []

    def test_a_body_that_is_not_json(self) -> None:
        """A body that does not parse is one error at the body's root."""
        test_client, counted = client(fastapi_app())
        response = test_client.post(
            "/payments/17",
            content=b'{"card_token": "' + CARD.encode(),
            headers={"Content-Type": "application/json"},
        )
        body = assert_problem(response, 422)
        [error] = body["errors"]
        assert (error["pointer"], error["location"], error["code"]) == (
            "#",
            "body",
            "json_invalid",
        )
        assert counted.raised == []

    def test_a_missing_body(self) -> None:
        """No body at all is one missing error at the body's root."""
        test_client, _ = client(fastapi_app())
        body = assert_problem(test_client.post("/payments/17"), 422)
        assert [(e["location"], e["pointer"], e["code"]) for e in body["errors"]] == [
            ("body", "#", "missing")
        ]

    def test_the_status_map_applies(self) -> None:
        """A status install mapped for a validation code answers with it."""
        app = FastAPI()

        @app.get("/items")
        def items(limit: int) -> list[int]:
            return [limit]

        install(app, statuses={"int_parsing": 400})
        test_client, _ = client(app)
        body = assert_problem(test_client.get("/items?limit=x"), 400)
        assert body["title"] == "Bad Request"

    def test_an_unknown_location_has_no_location_member(self) -> None:
        """Errors made by hand with another loc keep their whole path."""
        test_client, counted = client(fastapi_app())
        body = assert_problem(test_client.get("/elsewhere"), 422)
        [error] = body["errors"]
        assert (error["pointer"], error["code"]) == ("#/state/cart", "missing")
        assert "location" not in error
        assert counted.raised == []

    @pytest.mark.parametrize("case", ["empty", "not-dicts"])
    def test_errors_fastapi_did_not_make_are_a_bug(self, case: str) -> None:
        """A RequestValidationError with no errors, or not dicts, is a 500 once."""
        test_client, counted = client(fastapi_app())
        body = assert_problem(test_client.get(f"/malformed/{case}"), 500)
        assert_reference_only(body)
        assert [type(exc) for exc in counted.raised] == [RequestValidationError]

    def test_raised_by_a_middleware_inside(self) -> None:
        """A middleware added before install that rejects a request is answered too."""

        class RequireShop:
            def __init__(self, app: ASGIApp) -> None:
                self.app = app

            async def __call__(
                self, scope: Scope, receive: Receive, send: Send
            ) -> None:
                if scope["type"] == "http":
                    missing = {"type": "missing", "loc": ("header", "x-shop")}
                    raise RequestValidationError([{**missing, "msg": "Field required"}])
                await self.app(scope, receive, send)

        app = FastAPI()
        app.add_middleware(RequireShop)
        install(app)
        test_client, counted = client(app)
        body = assert_problem(test_client.get("/"), 422)
        assert [(e["location"], e["pointer"]) for e in body["errors"]] == [
            ("header", "#/x-shop")
        ]
        assert counted.raised == []

    def test_the_app_s_own_handler_is_kept(self) -> None:
        """A RequestValidationError handler of the app's own stays in place."""

        async def own(_request: Request, _exc: Exception) -> Response:
            return JSONResponse({"own": True}, status_code=400)

        app = FastAPI(exception_handlers={RequestValidationError: own})

        @app.get("/items")
        def items(limit: int) -> list[int]:
            return [limit]

        install(app)
        response = TestClient(app).get("/items?limit=x")
        assert (response.status_code, response.json()) == (400, {"own": True})

    def test_a_returned_validation_error(self) -> None:
        """problem_response answers a RequestValidationError as the handler does."""
        exc = RequestValidationError(
            [
                {"type": "missing", "loc": ("query", "limit"), "msg": "Field required"},
                {"type": "missing", "loc": (), "msg": "Field required"},
            ],
            body={"card": CARD},
        )
        response = problem_response(exc)
        body = json.loads(bytes(response.body))
        assert body["status"] == 422
        assert [
            (error["pointer"], error.get("location"), error["code"])
            for error in body["errors"]
        ] == [("#/limit", "query", "missing"), ("#", None, "missing")]
        assert CARD not in bytes(response.body).decode()

    def test_the_input_is_not_kept(self) -> None:
        """The errors' causes hold none of the input FastAPI's error holds."""
        exc = RequestValidationError(
            [
                {
                    "type": "string_too_short",
                    "loc": ("body", "card_token"),
                    "msg": "String should have at least 20 characters",
                    "input": CARD,
                    "ctx": {"min_length": 20},
                    "url": "https://errors.pydantic.dev/2/v/string_too_short",
                }
            ],
            body={"card_token": CARD},
        )
        groups = integration._by_location(exc)
        assert groups is not None
        [(location, errors)] = groups
        assert location == "body"
        [detail] = errors
        assert (detail.path, detail.code) == (("card_token",), "string_too_short")
        assert 20 in dict(detail.params).values()
        assert CARD not in repr(detail)
        assert detail.cause is not None
        assert CARD not in repr(detail.cause)
        assert CARD not in repr(cast("RequestValidationError", detail.cause).errors())
        assert detail.cause.__traceback__ is None
        assert detail.cause.__context__ is None


# pydantic and FastAPI models -----------------------------------------------------


class Rejected(BaseModel):
    """A response model holding errors and a result."""

    errors: Errors
    result: Result[int, Errors]


class TestModels:
    """Errors and Result are fields of pydantic models and FastAPI responses."""

    def test_errors_serialise_as_to_list(self) -> None:
        """An Errors field is its to_list, in JSON and Python mode alike."""
        errors = Errors(
            [ErrorDetail("items[0].price", "greater_than", params={"count": 0})]
        )
        model = Rejected(errors=errors, result=Err(errors))
        assert model.model_dump() == {
            "errors": errors.to_list(),
            "result": {"err": errors.to_list()},
        }
        assert json.loads(model.model_dump_json())["errors"] == errors.to_list()

    def test_a_bug_serialises_as_its_reference(self) -> None:
        """A programmer error in a field shows its reference, never its text."""
        bug = ErrorDetail(None, "bug", BUG, bucket=Bucket.PROGRAMMER_ERROR)
        dumped = Rejected(errors=Errors([bug]), result=Ok(1)).model_dump_json()
        assert "SELECT" not in dumped
        assert bug.reference in dumped

    def test_errors_round_trip(self) -> None:
        """What was serialised validates back: equal errors, the same reference."""
        bug = ErrorDetail(None, "bug", BUG, bucket=Bucket.PROGRAMMER_ERROR)
        errors = Errors(
            [
                ErrorDetail("items[0].price", "greater_than", params={"count": 0}),
                ErrorDetail("name", "taken", "is {{already}} taken"),
                bug,
            ]
        )
        model = Rejected(errors=errors, result=Err(errors))
        again = Rejected.model_validate_json(model.model_dump_json())
        assert again.model_dump_json() == model.model_dump_json()
        first, custom, restored = again.errors
        assert first == next(iter(errors))
        assert custom.message == "is {{already}} taken"
        assert restored.bucket is Bucket.PROGRAMMER_ERROR
        assert restored.reference == bug.reference
        assert Rejected.model_validate(model.model_dump()).errors == again.errors

    def test_an_errors_instance_is_kept(self) -> None:
        """An Errors given in Python is the very collection the model holds."""
        errors = Errors([ErrorDetail("sku", "blank")])
        assert Rejected(errors=errors, result=Ok(1)).errors is errors

    def test_entries_are_read_with_defaults(self) -> None:
        """An entry needs only a code: the base, no params, the code's message."""
        errors = TypeAdapter(Errors).validate_json('[{"code": "blank"}]')
        assert errors == Errors([ErrorDetail(None, "blank")])

    @pytest.mark.parametrize(
        ("entries", "loc", "words"),
        [
            ([{"path": ["a"]}], (0, "code"), "Field required"),
            ([{"code": "x", "path": [-1]}], (0, "path", 0), "greater than or equal"),
            ([{"code": "x", "reference": "oops"}], (0, "reference"), "pattern"),
            ([{"code": "x", "params": {"path": 1}}], (0,), "shadows"),
            ([{"code": "x", "params": {"a-b": 1}}], (0,), "not a valid identifier"),
            ({"code": "x"}, (), "valid list"),
        ],
    )
    def test_bad_entries_are_validation_errors(
        self, entries: object, loc: tuple[object, ...], words: str
    ) -> None:
        """A bad entry fails validation at its place, saying what is wrong."""
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(Errors).validate_python(entries)
        error = caught.value.errors()[0]
        assert error["loc"][: len(loc)] == loc
        assert words in error["msg"]

    def test_a_result_is_tagged_by_its_side(self) -> None:
        """Ok is {"ok": value} and Err is {"err": error}, each validated as typed."""
        adapter = TypeAdapter(Result[int, str])
        assert adapter.dump_python(Ok(3)) == {"ok": 3}
        assert adapter.dump_json(Err("sold out")) == b'{"err":"sold out"}'
        assert adapter.validate_json('{"ok": "3"}') == Ok(3)
        assert adapter.validate_python(Ok("3")) == Ok(3)
        assert adapter.validate_python(Err("late")) == Err("late")
        assert adapter.validate_python({"err": "late"}) == Err("late")

    @pytest.mark.parametrize(
        "value", [{"ok": 1, "err": "x"}, {"ok": "x"}, {}, 3, Ok("x"), Err(3)]
    )
    def test_a_result_refuses_what_is_neither(self, value: object) -> None:
        """Both keys, a wrongly typed value, or no key at all is refused."""
        with pytest.raises(ValidationError):
            TypeAdapter(Result[int, str]).validate_python(value)

    def test_unparametrised(self) -> None:
        """A bare Ok or Err holds any value."""
        bare_ok = cast("type[Ok[object]]", Ok)  # no type arguments at run time
        bare_err = cast("type[Err[object]]", Err)
        assert TypeAdapter(bare_ok).validate_python({"ok": [1]}) == Ok([1])
        assert TypeAdapter(bare_err).dump_python(Err({"a": 1})) == {"err": {"a": 1}}

    def test_the_wrong_side_is_not_serialised_as_this_one(self) -> None:
        """A value that is not an Ok is refused by Ok's serialiser, with a warning."""
        with pytest.warns(UserWarning, match="expected an Ok, not a int"):
            TypeAdapter(Ok[int]).dump_python(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        with pytest.warns(UserWarning, match="expected an Err, not a str"):
            TypeAdapter(Err[int]).dump_python("x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_json_schema(self) -> None:
        """The models have JSON Schemas, in both of pydantic's modes."""
        modes: tuple[Literal["validation", "serialization"], ...] = (
            "validation",
            "serialization",
        )
        for mode in modes:
            schema = Rejected.model_json_schema(mode=mode)
            result = schema["properties"]["result"]["anyOf"]
            assert [sorted(side["properties"]) for side in result] == [["ok"], ["err"]]
            entry = schema["properties"]["errors"]["items"]
            assert (entry["title"], entry["required"]) == ("ErrorListEntry", ["code"])

    def test_a_fastapi_response_model(self) -> None:
        """A Result response model answers {"ok"} or {"err"}, and is documented."""
        app = fastapi_app()
        test_client = TestClient(app)
        assert test_client.get("/result/ok").json() == {"ok": 3}
        assert test_client.get("/result/err").json() == {
            "err": Errors([ErrorDetail("sku", "sold_out")]).to_list()
        }
        assert "/result/{case}" in app.openapi()["paths"]

    def test_jsonable_encoder(self) -> None:
        """After install on FastAPI, jsonable_encoder encodes them as pydantic does."""
        fastapi_app()
        errors = Errors([ErrorDetail("sku", "blank")])
        assert jsonable_encoder(
            {"errors": errors, "result": Ok(1), "no": Err("x")}
        ) == {
            "errors": errors.to_list(),
            "result": {"ok": 1},
            "no": {"err": "x"},
        }
        assert TestClient(fastapi_app()).get("/untyped").json() == {
            "errors": errors.to_list(),
            "result": {"ok": 1},
        }

    def test_an_err_of_an_exception_encodes_no_text_of_it(self) -> None:
        """Err(exception) encodes its errors, a bug's redacted; never its attributes."""
        fastapi_app()
        bug = LookupError("SELECT secret FROM cards")
        bug.add_note("query: SELECT secret FROM cards")
        bug.statement = "SELECT secret FROM cards"  # type: ignore[attr-defined]
        encoded = jsonable_encoder({"result": Err(bug)})
        assert "SELECT" not in repr(encoded)
        assert encoded["result"]["err"][0]["code"] == "internal_error"
        failure = SagaFailure("charge", Errors([ErrorDetail("card", "declined")]))
        assert jsonable_encoder(Err(failure)) == {"err": failure.errors.to_list()}

    def test_an_encoder_of_the_app_s_own_is_kept(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An encoder registered for Errors before install is left in place."""
        monkeypatch.setitem(ENCODERS_BY_TYPE, Errors, lambda errors: "own")
        fastapi_app()
        assert jsonable_encoder(Errors()) == "own"


# uvicorn, end to end -------------------------------------------------------------


class Records(logging.Handler):
    """Keeps every record it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep `record`."""
        self.records.append(record)


@pytest.fixture
def served() -> Iterator[tuple[str, Records]]:
    """A FastAPI app served by uvicorn on 127.0.0.1, and uvicorn's error records."""
    records = Records()
    logger = logging.getLogger("uvicorn.error")
    # Whatever logging set-up ran before (a dictConfig disabling the loggers
    # it does not name, a level raised) must not hide uvicorn's records.
    was = (logger.disabled, logger.level)
    logger.disabled = False
    logger.setLevel(logging.INFO)
    logger.addHandler(records)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(
        fastapi_app(), log_config=None, lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]})
    thread.start()
    try:
        deadline = time.monotonic() + WAIT
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}", records
    finally:
        server.should_exit = True
        thread.join(WAIT)
        listening.close()
        logger.removeHandler(records)
        logger.disabled = was[0]
        logger.setLevel(was[1])


class TestUvicorn:
    """One request through a real server, over a real socket."""

    def test_a_bug_is_answered_and_logged_once(
        self, served: tuple[str, Records]
    ) -> None:
        """uvicorn sends the reference-only 500 and logs the bug once, in full."""
        url, records = served
        response = httpx.get(f"{url}/bug", timeout=WAIT)
        body = assert_problem(response, 500)
        assert_reference_only(body)

        def errors() -> list[logging.LogRecord]:
            return [r for r in records.records if r.levelno >= logging.ERROR]

        # The server logs after it has sent the response, in its own thread.
        deadline = time.monotonic() + WAIT
        while not errors() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # a second record would have landed by now
        [record] = errors()
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], LookupError)
        assert str(record.exc_info[1]) == BUG


def openapi_of(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return document


def schema_errors(
    value: object, schema: dict[str, Any], schemas: dict[str, Any]
) -> list[str]:
    """What of `value` the JSON Schema `schema` refuses: the little the bodies use."""
    if "$ref" in schema:
        return schema_errors(value, schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    kinds = {"object": dict, "array": list, "string": str, "integer": int}
    if not isinstance(value, kinds[schema["type"]]):
        return [f"{value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{value!r} is not one of {schema['enum']}"]
    found: list[str] = []
    if isinstance(value, dict):
        members = cast("dict[str, object]", value)
        found += [
            f"{name} is missing" for name in schema["required"] if name not in members
        ]
        for name, member in members.items():
            if name not in schema["properties"]:
                found.append(f"{name} is not described")
            else:
                found += schema_errors(member, schema["properties"][name], schemas)
    if isinstance(value, list):
        for item in cast("list[object]", value):
            found += schema_errors(item, schema["items"], schemas)
    return found


class ProblemDetails(BaseModel):
    """An app's own model that happens to be named as outcome's schema."""

    reason: str


# A 422 an app describes itself: kept as it is.
OWN_422: Final = {
    "description": "Refused",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


def validating_app() -> FastAPI:
    """A FastAPI app, not installed yet, with a route that validates its input."""
    app = FastAPI()

    @app.post("/payments")
    def pay(payment: Payment, notify: bool = False) -> dict[str, object]:  # noqa: FBT002 - a query flag
        return {"of": payment, "notify": notify}

    return app


class TestFastAPIOpenAPI:
    """The OpenAPI document describes the 422 bodies as install answers them."""

    def test_the_422_body_is_problem_details(self) -> None:
        """Each 422 is problem+json, and what a bad request gets fits its schema."""
        app = fastapi_app()  # installed
        document = openapi_of(app)
        schemas = document["components"]["schemas"]
        invalid = document["paths"]["/payments/{order_id}"]["post"]["responses"]["422"]
        assert invalid == {
            "description": "Validation Error",
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/ProblemDetails"}
                }
            },
        }
        assert "HTTPValidationError" not in schemas
        assert "ValidationError" not in schemas
        assert "HTTPValidationError" not in json.dumps(document)
        response = TestClient(app).post(
            "/payments/x?limit=y", json={"amount": 0}, headers={"x-shop": "z"}
        )
        body = assert_problem(response, 422)
        assert {e["location"] for e in body["errors"]} == {
            "path",
            "query",
            "header",
            "body",
        }
        assert (
            schema_errors(body, invalid["content"][PROBLEM_JSON]["schema"], schemas)
            == []
        )

    def test_the_schema_refuses_what_is_not_a_problem(self) -> None:
        """The check above can fail: FastAPI's own body does not fit."""
        schemas = openapi_of(fastapi_app())["components"]["schemas"]
        fastapi_body = {
            "detail": [{"loc": ["body", "amount"], "msg": "x", "type": "y"}]
        }
        problem = {"$ref": "#/components/schemas/ProblemDetails"}
        assert schema_errors(fastapi_body, problem, schemas) == [
            "type is missing",
            "title is missing",
            "status is missing",
            "errors is missing",
            f"{fastapi_body['detail']!r} is not of type string",
        ]

    def test_routes_without_a_422_add_no_schema(self) -> None:
        """An app whose routes validate nothing gets no problem schemas."""
        app = FastAPI()

        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        install(app)
        document = openapi_of(app)
        assert "components" not in document
        assert list(document["paths"]["/health"]["get"]["responses"]) == ["200"]

    @pytest.mark.parametrize(
        "document",
        [
            {"openapi": "3.1.0"},
            {"openapi": "3.1.0", "paths": []},
            {"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": []}}}},
            {"openapi": "3.1.0", "paths": {"/a": {"get": {"summary": "none"}}}},
        ],
    )
    def test_a_document_without_fastapi_s_422_is_left_as_it_is(
        self, document: dict[str, Any]
    ) -> None:
        """No paths, or operations without responses: nothing to describe."""
        before = json.dumps(document)
        assert integration._with_problem_bodies(document) is document
        assert json.dumps(document) == before

    def test_the_app_s_own_openapi_is_kept_and_described(self) -> None:
        """An openapi the app set before install builds the document, described."""
        app = validating_app()
        built = app.openapi

        def own() -> dict[str, Any]:
            document = built()
            document["info"]["x-shop"] = "tea"
            return document

        app.openapi = own  # type: ignore[method-assign]
        install(app)
        document = openapi_of(app)
        assert document["info"]["x-shop"] == "tea"
        assert "ProblemDetails" in document["components"]["schemas"]
        assert openapi_of(app) == document  # built once, kept by FastAPI

    def test_a_thread_asking_while_it_is_built_gets_it_described(self) -> None:
        """FastAPI stores the document before install describes it: nobody sees that."""
        app = validating_app()
        built = app.openapi
        stored, go = threading.Event(), threading.Event()

        def slow() -> dict[str, Any]:
            document = built()  # FastAPI's: app.openapi_schema is set by now
            stored.set()
            go.wait(timeout=5)
            return document

        app.openapi = slow  # type: ignore[method-assign]
        install(app)
        seen: dict[str, str] = {}

        def ask(name: str) -> None:
            # As it is when returned: the document is described in place.
            seen[name] = json.dumps(app.openapi())

        first = threading.Thread(target=ask, args=("first",))
        first.start()
        assert stored.wait(timeout=5)
        second = threading.Thread(target=ask, args=("second",))
        second.start()
        second.join(timeout=0.2)
        assert second.is_alive()  # it waits for the first, rather than take it raw
        go.set()
        first.join(timeout=5)
        second.join(timeout=5)
        assert seen["second"] == seen["first"]
        assert "HTTPValidationError" not in seen["second"]
        assert '"ProblemDetails"' in seen["second"]

    def test_an_openapi_that_asks_again_while_it_builds_gets_an_answer(self) -> None:
        """The app's openapi asking for the document meanwhile gets the one stored."""
        app = validating_app()
        built = app.openapi
        inner: list[dict[str, Any]] = []

        def asking() -> dict[str, Any]:
            document = built()  # FastAPI's: app.openapi_schema is set by now
            inner.append(app.openapi())  # as a helper of the app's might
            return document

        app.openapi = asking  # type: ignore[method-assign]
        install(app)
        thread = threading.Thread(target=app.openapi, daemon=True)
        thread.start()
        thread.join(timeout=5)
        assert not thread.is_alive()  # no wait on a lock it holds itself
        assert [document["openapi"] for document in inner] == ["3.1.0"]
        assert "ProblemDetails" in openapi_of(app)["components"]["schemas"]

    def test_a_document_built_before_install_is_described(self) -> None:
        """An app whose document was built before install: described at install."""
        app = validating_app()
        assert "HTTPValidationError" in json.dumps(app.openapi())  # as an export does
        install(app)
        document = openapi_of(app)
        assert "HTTPValidationError" not in json.dumps(document)
        assert "ProblemDetails" in document["components"]["schemas"]

    def test_a_schema_of_the_app_named_problem_details_is_kept(self) -> None:
        """The app's own ProblemDetails model keeps its name; ours takes another."""
        app = FastAPI()

        @app.post("/report")
        def report(problem: ProblemDetails) -> dict[str, str]:
            return {"reason": problem.reason}

        install(app)
        document = openapi_of(app)
        schemas = document["components"]["schemas"]
        assert schemas["ProblemDetails"]["required"] == ["reason"]
        invalid = document["paths"]["/report"]["post"]["responses"]["422"]
        assert invalid["content"][PROBLEM_JSON]["schema"] == {
            "$ref": "#/components/schemas/outcome.ProblemDetails"
        }
        errors = schemas["outcome.ProblemDetails"]["properties"]["errors"]
        assert errors["items"] == {
            "$ref": "#/components/schemas/outcome.ProblemDetailsError"
        }

    def test_the_app_s_own_validation_handler_keeps_fastapi_s_document(self) -> None:
        """With the app's own RequestValidationError handler, the 422 is FastAPI's."""

        async def own(_request: Request, _exc: Exception) -> Response:
            return JSONResponse({"own": True}, status_code=422)

        app = FastAPI(exception_handlers={RequestValidationError: own})

        @app.get("/items")
        def items(limit: int) -> list[int]:
            return [limit]

        install(app)
        document = openapi_of(app)
        assert "HTTPValidationError" in document["components"]["schemas"]
        assert "ProblemDetails" not in json.dumps(document)

    def test_a_schema_still_referred_to_is_kept(self) -> None:
        """FastAPI's ValidationError stays while referred to; an app's own 422 too."""
        app = validating_app()
        built = app.openapi

        def own() -> dict[str, Any]:
            document = built()
            document["paths"]["/errors"] = {
                "get": {
                    "responses": {
                        "200": {
                            "description": "Its own list of errors",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "$ref": "#/components/schemas/ValidationError"
                                    }
                                }
                            },
                        }
                    }
                },
                "parameters": [],  # a path item's own: no operation
            }
            document["paths"]["/legacy"] = {"post": {"responses": {"422": OWN_422}}}
            return document

        app.openapi = own  # type: ignore[method-assign]
        install(app)
        document = openapi_of(app)
        schemas = document["components"]["schemas"]
        assert "ValidationError" in schemas
        assert "HTTPValidationError" not in schemas
        assert document["paths"]["/legacy"]["post"]["responses"]["422"] == OWN_422
        assert document["paths"]["/payments"]["post"]["responses"]["422"][
            "content"
        ] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
