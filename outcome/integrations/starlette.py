"""
Starlette and FastAPI: failures answered as RFC 9457 problem details.

`install` sets an app up once. A failure raised by a route that is not a
programmer error (one the user can fix, or must be told about, such as an
upstream's outage) is answered by a small ASGI middleware with the status,
headers and ``application/problem+json`` body of `outcome.Problems.answer`,
and is not logged as an error: it is not a bug. A programmer error goes on
to Starlette's ``ServerErrorMiddleware``, which answers it with a handler
that `install` registers, a 500 whose body holds only a reference
(``ERR-…``), never the exception's text, and then re-raises it, so the
server (uvicorn's ``uvicorn.error`` logger) and the error tracker see it once.
On FastAPI, a request that fails validation answers 422 with a pointer for
each error (see `install`). A route that returns its failures rather than
raising them returns `problem_response`.

>>> from starlette.applications import Starlette
>>> from starlette.routing import Route
>>> from starlette.testclient import TestClient
>>> from outcome import Errors
>>> from outcome.integrations.starlette import install, problem_response
>>> def order(request):
...     errors = Errors()
...     errors.add("quantity", "greater_than", count=0)
...     return problem_response(errors)
>>> app = Starlette(routes=[Route("/orders", order, methods=["POST"])])
>>> _ = install(app)
>>> response = TestClient(app).post("/orders")
>>> response.status_code, response.headers["content-type"]
(422, 'application/problem+json')
>>> response.json()["errors"]
[{'detail': 'must be greater than 0', 'pointer': '#/quantity', 'code': 'greater_than'}]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, cast

from outcome._bucket import Bucket
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._http import PROBLEM_JSON, HttpAnswer, Problems, _log_returned_bugs
from outcome._result import Err, Ok
from outcome._saga import SagaFailure

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from outcome._classify.classifier import Classifier
    from outcome._errors.collection import ProblemDetails

__all__ = ["install", "problem_response"]

# The first segment of a FastAPI error's loc: the document the rest points into.
_LOCATIONS: Final = frozenset({"body", "query", "path", "header", "cookie"})
_JSON_INVALID: Final = "json_invalid"  # its loc ends with an offset, not a key
_DEFAULT_PROBLEMS: Final = Problems()
# Where the middleware leaves the errors of a bug for the 500 handler, so that
# the failure is classified once: in the request's scope, which dies with it.
_BUG: Final = "outcome.bug"
_LOGGER: Final = logging.getLogger(__name__)
# The Problems of the installed app serving the current request, for
# problem_response called without one.
_SERVING: ContextVar[Problems | None] = ContextVar("outcome_problems", default=None)


def install(
    app: Starlette,
    *,
    statuses: Mapping[str, int] | None = None,
    catalog: Mapping[str, str] | None = None,
    classifier: Classifier | None = None,
    type: str = "about:blank",  # noqa: A002 - the member's name in RFC 9457
) -> Problems:
    """
    Answer the failures of a Starlette or FastAPI app as problem details.

    The options are those of `outcome.Problems`, checked here, so that a bad
    one fails when the app is set up rather than on its first failure. The
    `outcome.Problems` made of them is returned; `problem_response` uses it
    by itself in the app's requests.

    What it adds:

    - A middleware, inside ``ServerErrorMiddleware`` and outside the app's
      exception handlers, that answers each failure raised in a request
      that is not a programmer error. Starlette and FastAPI's own
      ``HTTPException`` is answered by the framework, as before; a failure
      raised once the response has started is not answered again. Add your
      own middleware before calling `install`: middleware added after it
      runs outside it, and what that raises is answered by the 500 handler.
    - A handler for ``Exception`` (the 500 handler, which Starlette calls
      from ``ServerErrorMiddleware`` before re-raising), unless the app has
      one for ``Exception`` or 500: the problem body of the failure, a 500
      with only its reference for a programmer error. With ``debug=True``,
      Starlette answers programmer errors with its traceback page instead,
      text included, as its debug mode is meant to; failures that are not
      programmer errors are still answered with problem details.
    - On FastAPI, unless the app has a ``RequestValidationError`` handler of
      its own: a request that fails validation answers 422 (or the status
      `statuses` gives the first error's code) with one entry per error, as
      `outcome.Errors.from_pydantic` converts it, never showing the rejected
      input. Each entry's ``pointer`` is relative to the document the error
      is in and its ``location`` member names that document, as FastAPI's
      ``loc`` does: ``"body"``, ``"query"``, ``"path"``, ``"header"`` or
      ``"cookie"``; a missing ``card_token`` in the JSON body is
      ``{"pointer": "#/card_token", "location": "body", ...}`` and a bad
      ``?limit=`` is ``{"pointer": "#/limit", "location": "query", ...}``.
      Body that is not JSON at all is at ``"#"`` in the body. The app's
      OpenAPI document describes those 422 bodies as they are answered:
      ``application/problem+json`` of a ``ProblemDetails`` schema, in place
      of FastAPI's ``HTTPValidationError`` (see "Answering API requests").
    - On FastAPI, `outcome.Errors`, `outcome.Ok` and `outcome.Err` become
      known to ``fastapi.encoders.jsonable_encoder``, which FastAPI uses for a
      route without a response model: they encode as pydantic serialises
      them (``Errors.to_list()``, ``{"ok": value}``, ``{"err": error}``); an
      `Err` of an exception or a `SagaFailure` encodes its errors, as
      ``to_list()`` gives them, never the exception's own attributes.
      FastAPI keeps its encoders for the whole process
      (``fastapi.encoders.ENCODERS_BY_TYPE``); one already registered for
      them is kept.

    Args:
        app: The ``Starlette`` or ``FastAPI`` application, before it serves
            its first request.
        statuses: The status to answer with for an error code.
        catalog: Message templates by code.
        classifier: The classifier for raised failures.
        type: The problem ``type`` URI of every answer.

    Returns:
        The `outcome.Problems` the app answers with.

    Raises:
        TypeError: When `app` is not a Starlette application, or an option
            is of the wrong type, as `outcome.Problems` says.
        ValueError: When a status in `statuses` is not from 400 to 599.
        RuntimeError: When the app has already served a request, or `install`
            already ran on it.
    """
    problems = Problems(
        statuses=statuses, catalog=catalog, classifier=classifier, type=type
    )
    from starlette.applications import Starlette  # noqa: PLC0415 - optional
    from starlette.exceptions import HTTPException  # noqa: PLC0415 - optional

    if not isinstance(cast("object", app), Starlette):  # untyped callers
        msg = (
            "install() takes a Starlette or FastAPI application, not "
            f"{app!r}; for a router, install on the app that includes it"
        )
        raise TypeError(msg)
    if app.middleware_stack is not None:
        msg = (
            f"install() must run before {app!r} serves its first request, "
            "where the app is set up"
        )
        raise RuntimeError(msg)
    if any(
        cast("object", middleware.cls) is _ProblemMiddleware
        for middleware in app.user_middleware
    ):
        msg = f"install() already ran on {app!r}; call it once, with every option"
        raise RuntimeError(msg)
    fallback = problems.answer(
        Errors([ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR)])
    )
    handlers = app.exception_handlers
    handled = Exception not in handlers and 500 not in handlers  # noqa: PLR2004 - the key
    if handled:
        app.add_exception_handler(Exception, _bug_handler(problems, fallback))
    app.add_middleware(
        _ProblemMiddleware, problems=problems, passed=HTTPException, handled=handled
    )
    if "fastapi" in sys.modules:  # else the app cannot be a FastAPI app
        from fastapi import FastAPI  # noqa: PLC0415 - optional

        if isinstance(app, FastAPI):
            _install_on_fastapi(app, problems)
    return problems


def problem_response(failure: object, *, problems: Problems | None = None) -> Response:
    """
    A response answering `failure` with problem details, for a route to return.

    `failure` is anything `outcome.Problems.answer` takes (an `outcome.Errors`,
    an `outcome.Err`, an exception...), or FastAPI's ``RequestValidationError``,
    answered as `install` says. Without `problems`, the app's, when `install`
    ran on the app serving the request; else the defaults. A programmer error
    answers 500 with its reference only, and is logged at ERROR on this
    module's logger with the reference and the real error, since no server
    sees an exception that was returned.

    >>> import json
    >>> from outcome import ErrorDetail, Errors, Problems
    >>> sold_out = Errors([ErrorDetail("sku", "sold_out")])
    >>> problems = Problems(
    ...     statuses={"sold_out": 409}, catalog={"sold_out": "is sold out"}
    ... )
    >>> response = problem_response(sold_out, problems=problems)
    >>> response.status_code, response.media_type
    (409, 'application/problem+json')
    >>> json.loads(response.body)
    {'type': 'about:blank', 'title': 'Conflict', 'status': 409,
     'errors': [{'detail': 'is sold out', 'pointer': '#/sku', 'code': 'sold_out'}]}

    Args:
        failure: What to answer.
        problems: How to answer it.

    Returns:
        A Starlette ``Response`` with the answer's status, headers and body.

    Raises:
        TypeError: When `failure` is an `outcome.Ok`, which is no failure, or
            `problems` is not an `outcome.Problems`.
    """
    if problems is None:
        problems = _SERVING.get() or _DEFAULT_PROBLEMS
    elif not isinstance(cast("object", problems), Problems):  # untyped callers
        msg = (
            f"problem_response() takes problems=Problems(...) or None, not {problems!r}"
        )
        raise TypeError(msg)
    answer = _validation_answer(problems, failure)
    if answer is None:
        errors = problems.errors_of(failure)
        _log_returned_bugs(_LOGGER, errors)
        answer = problems.answer(errors)
    return _response(answer)


def _response(answer: HttpAnswer) -> Response:
    from starlette.responses import Response  # noqa: PLC0415 - optional

    return Response(
        answer.content,
        status_code=answer.status,
        headers=answer.headers,
        media_type=PROBLEM_JSON,
    )


class _ProblemMiddleware:
    """Answers what the app raised, unless it is a bug: see `install`."""

    __slots__ = ("_app", "_handled", "_passed", "_problems")

    def __init__(
        self,
        app: ASGIApp,
        *,
        problems: Problems,
        passed: type[Exception],
        handled: bool,
    ) -> None:
        self._app = app
        self._problems = problems
        self._passed = passed
        self._handled = handled  # whether the 500 handler is install's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        token = _SERVING.set(self._problems)
        try:
            await self._app(scope, receive, watched)
        except Exception as exc:
            if started or isinstance(exc, self._passed):
                raise
            answer = _expected_answer(self._problems, exc)
            if type(answer) is Errors:  # a bug: the 500 handler answers it
                if self._handled:
                    scope[_BUG] = (exc, answer)
                # The traceback keeps this frame, so its locals: holding the
                # errors, whose cause is the exception, would make a cycle.
                del answer
                raise
            if answer is None:
                raise
            await _send(send, answer)
        finally:
            _SERVING.reset(token)


async def _send(send: Send, answer: HttpAnswer) -> None:
    content = answer.content
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in answer.headers.items()
    ]
    headers.append((b"content-length", str(len(content)).encode("latin-1")))
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": content})


def _expected_answer(problems: Problems, exc: Exception) -> HttpAnswer | Errors | None:
    """
    The answer to a raised failure, or the errors of a bug, which goes on up.

    `None` when `exc` cannot be answered at all: a bug too.
    """
    try:
        answer = _validation_answer(problems, exc)
        if answer is not None:
            return answer
        errors = problems.errors_of(exc)
        if errors.bucket is Bucket.PROGRAMMER_ERROR:
            return errors
        return problems.answer(errors)
    except Exception:  # noqa: BLE001 - a failure to answer is a bug: the 500 handler's
        return None


def _answer(problems: Problems, failure: object) -> HttpAnswer:
    answer = _validation_answer(problems, failure)
    return answer if answer is not None else problems.answer(failure)


def _bug_handler(
    problems: Problems, fallback: HttpAnswer
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer_bug(request: Request, exc: Exception) -> Response:
        try:
            decided = request.scope.pop(_BUG, None)
            if decided is not None and decided[0] is exc:  # as the middleware saw it
                answer = problems.answer(decided[1])
            else:
                answer = _answer(problems, exc)
        except Exception:  # noqa: BLE001 - the error page never fails
            answer = fallback
        return _response(answer)

    return answer_bug


# FastAPI ---------------------------------------------------------------------


# FastAPI's encoders are the process's, not an app's: the default answers.
_ENCODING_PROBLEMS: Final = Problems()


def _install_on_fastapi(app: FastAPI, problems: Problems) -> None:
    from fastapi.encoders import (  # noqa: PLC0415 - optional
        ENCODERS_BY_TYPE,
        jsonable_encoder,
    )
    from fastapi.exception_handlers import (  # noqa: PLC0415 - optional
        request_validation_exception_handler,
    )
    from fastapi.exceptions import RequestValidationError  # noqa: PLC0415 - optional

    async def answer_invalid(request: Request, exc: Exception) -> Response:  # noqa: ARG001 - Starlette's signature
        answer = _validation_answer(problems, exc)
        if answer is None:  # not errors FastAPI made: a bug
            raise exc
        return _response(answer)

    handlers = app.exception_handlers
    if handlers.get(RequestValidationError) is request_validation_exception_handler:
        app.add_exception_handler(RequestValidationError, answer_invalid)
        _describe_problem_bodies(app)
    ENCODERS_BY_TYPE.setdefault(
        Errors, lambda errors: jsonable_encoder(cast("Errors", errors).to_list())
    )
    ENCODERS_BY_TYPE.setdefault(
        Ok, lambda result: {"ok": jsonable_encoder(cast("Ok[object]", result).ok_value)}
    )

    def encoded_err(result: object) -> dict[str, object]:
        error = cast("Err[object]", result).err_value
        if isinstance(error, BaseException | SagaFailure):
            # Never the exception's own attributes and notes, which FastAPI's
            # encoder would read: its errors, a bug's redacted.
            return {"err": _ENCODING_PROBLEMS.errors_of(error).to_list()}
        return {"err": jsonable_encoder(error)}

    ENCODERS_BY_TYPE.setdefault(Err, encoded_err)


def _describe_problem_bodies(app: FastAPI) -> None:
    """
    Make the app's OpenAPI document describe its 422 bodies as they are answered.

    The app's ``openapi`` (FastAPI's, or one the app set before `install`) is
    wrapped, as FastAPI's docs show an app replacing it: the document it
    builds is changed once, where FastAPI keeps it (``app.openapi_schema``),
    or now if it was built already. Threads that ask for it at once (a sync
    export, a test client per thread) get the described document: FastAPI's
    own ``openapi`` stores the document before it is described, so the
    building is done under a lock, and a document is returned without it only
    once it is the described one. The lock is re-entrant: an ``openapi`` of
    the app's that asks for the document again while it builds it gets the
    one stored so far, as it did without the lock.
    """
    build = app.openapi
    lock = threading.RLock()
    described: list[dict[str, Any] | None] = [None]
    if app.openapi_schema is not None:  # built already, by a request before install
        app.openapi_schema = described[0] = _with_problem_bodies(app.openapi_schema)

    def openapi() -> dict[str, Any]:
        document = app.openapi_schema
        if document is not None and document is described[0]:
            return document
        with lock:
            if app.openapi_schema is None:
                app.openapi_schema = described[0] = _with_problem_bodies(build())
            return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - a method, replaced as FastAPI shows


_SCHEMAS: Final = "#/components/schemas/"
_FASTAPI_BODY: Final = f"{_SCHEMAS}HTTPValidationError"
_FASTAPI_ERROR: Final = f"{_SCHEMAS}ValidationError"


def _with_problem_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """
    `document`, its responses with FastAPI's 422 body described as problem details.

    Each ``422`` whose body is FastAPI's ``HTTPValidationError`` gets an
    ``application/problem+json`` body, ``ProblemDetails`` (or, if the app has a
    schema of that name, ``outcome.ProblemDetails``), whose ``errors`` are
    ``ProblemDetailsError`` objects. FastAPI's ``HTTPValidationError`` and
    ``ValidationError`` schemas are dropped once nothing refers to them.
    """
    components = _dict_at(document, "components", "schemas") or {}
    problem, error = _problem_schemas()
    problem_name, error_name = (
        ("ProblemDetails", "ProblemDetailsError")
        if components.get("ProblemDetails", problem) == problem
        and components.get("ProblemDetailsError", error) == error
        else ("outcome.ProblemDetails", "outcome.ProblemDetailsError")
    )
    body = {PROBLEM_JSON: {"schema": {"$ref": f"{_SCHEMAS}{problem_name}"}}}
    described = False
    for item in _dicts_in(document.get("paths")):
        for operation in _dicts_in(item):  # a path item's "parameters" is none
            invalid = _dict_at(operation, "responses", "422")
            if invalid is not None and _is_fastapi_body(invalid):
                invalid["content"] = copy.deepcopy(body)
                described = True
    if described:
        components = document.setdefault("components", {}).setdefault("schemas", {})
        problem["properties"]["errors"]["items"] = {"$ref": f"{_SCHEMAS}{error_name}"}
        components[problem_name] = problem
        components[error_name] = error
        for name, reference in (
            ("HTTPValidationError", _FASTAPI_BODY),
            ("ValidationError", _FASTAPI_ERROR),
        ):
            schema = components.pop(name, None)
            if schema is not None and f'"{reference}"' in json.dumps(
                document, default=str
            ):
                components[name] = schema  # still referred to: kept
    return document


def _is_fastapi_body(response: dict[str, Any]) -> bool:
    """Whether `response` has FastAPI's validation body, and that alone."""
    content = _dict_at(response, "content")
    return (
        content is not None
        and list(content) == ["application/json"]
        and content["application/json"] == {"schema": {"$ref": _FASTAPI_BODY}}
    )


def _dicts_in(value: object) -> list[dict[str, Any]]:
    """The values of `value` that are dicts, if it is a dict of a JSON document."""
    if not isinstance(value, dict):
        return []
    items = cast("dict[str, object]", value).values()
    return [cast("dict[str, Any]", item) for item in items if isinstance(item, dict)]


def _dict_at(value: dict[str, Any], *keys: str) -> dict[str, Any] | None:
    """The dict at `keys` in `value`, a JSON document's; None if there is none."""
    found: object = value
    for key in keys:
        if not isinstance(found, dict):
            return None
        found = cast("dict[str, object]", found).get(key)
    return cast("dict[str, Any]", found) if isinstance(found, dict) else None


def _problem_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schemas of `ProblemDetails` and of its `ProblemDetailsError` entries."""
    text = {"type": "string"}
    problem: dict[str, Any] = {
        "title": "ProblemDetails",
        "description": (
            "An RFC 9457 problem details object; errors has one entry per error."
        ),
        "type": "object",
        "properties": {
            "type": {**text, "title": "Type"},
            "title": {**text, "title": "Title"},
            "status": {"type": "integer", "title": "Status"},
            "detail": {**text, "title": "Detail"},
            "instance": {**text, "title": "Instance"},
            "errors": {"type": "array", "title": "Errors", "items": {}},
        },
        "required": ["type", "title", "status", "errors"],
    }
    error: dict[str, Any] = {
        "title": "ProblemDetailsError",
        "type": "object",
        "properties": {
            "detail": {**text, "title": "Detail"},
            "pointer": {
                **text,
                "title": "Pointer",
                "description": (
                    "A JSON Pointer into the document the error is in: "
                    "#/card_token, or # for its root"
                ),
            },
            "location": {
                **text,
                "title": "Location",
                "enum": sorted(_LOCATIONS),
                "description": "The document the error is in, as FastAPI names it",
            },
            "code": {**text, "title": "Code"},
            "reference": {**text, "title": "Reference"},
        },
        "required": ["detail", "pointer", "code"],
    }
    return problem, error


class _RequestInputHiddenError(Exception):
    """The errors of a ``RequestValidationError``, without the request's input."""

    def __init__(self, lines: list[dict[str, object]]) -> None:
        super().__init__(f"{len(lines)} validation errors in a request")
        self._lines = lines

    def errors(self) -> list[dict[str, object]]:
        """The errors, as pydantic's ``errors()`` gives them, less the input."""
        return self._lines


def _by_location(
    exc: RequestValidationError,
) -> list[tuple[str | None, Errors]] | None:
    """
    The errors of a ``RequestValidationError`` by the document they are in.

    Each error's ``loc`` loses its first segment when that names the
    document (``"body"``, ``"query"``...), so its path is relative to it; a
    body that is not JSON at all is one error at the body's root. The input
    (``input``, and pydantic's ``url``) is dropped before anything else sees
    the errors, and they are converted by `Errors.from_pydantic`, which hides
    what else of the input pydantic copies. `None` when the errors are not
    the list of dicts FastAPI makes, or there are none.
    """
    try:
        grouped: dict[str | None, list[dict[str, object]]] = {}
        for line in cast("list[Mapping[str, object]]", exc.errors()):
            location_path = tuple(cast("tuple[object, ...]", line["loc"]))
            first = location_path[0] if location_path else None
            location = first if isinstance(first, str) and first in _LOCATIONS else None
            path = location_path[1:] if location is not None else location_path
            if line.get("type") == _JSON_INVALID:
                path = ()
            safe = {
                key: value
                for key, value in line.items()
                if key not in {"input", "url", "loc"}
            }
            safe["loc"] = path
            grouped.setdefault(location, []).append(safe)
        if not grouped:
            return None
        return [
            (location, Errors.from_pydantic(_RequestInputHiddenError(lines)))
            for location, lines in grouped.items()
        ]
    except Exception:  # noqa: BLE001 - not what FastAPI makes: no answer of ours
        return None


def _validation_answer(problems: Problems, failure: object) -> HttpAnswer | None:
    """The answer to FastAPI's ``RequestValidationError``; `None` for anything else."""
    # Read where FastAPI put it, if it did: never imported, and cheaper than
    # an import statement on every failure.
    module = sys.modules.get("fastapi.exceptions")
    if module is None:  # no FastAPI, so no such error
        return None
    kind = cast("type[RequestValidationError]", module.RequestValidationError)
    if not isinstance(failure, kind):
        return None
    groups = _by_location(failure)
    if groups is None:
        return None
    merged = Errors()
    entries: list[dict[str, object]] = []
    for location, errors in groups:
        merged.merge(errors)
        for entry in problems.answer(errors).body["errors"]:
            placed: dict[str, object] = {}
            for key, value in entry.items():
                placed[key] = value
                if key == "pointer" and location is not None:
                    placed["location"] = location
            entries.append(placed)
    answer = problems.answer(merged)
    body = cast("ProblemDetails", {**answer.body, "errors": entries})
    return HttpAnswer(answer.status, answer.headers, body)
