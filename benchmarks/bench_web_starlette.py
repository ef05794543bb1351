"""
An error answered through the Starlette integration, against hand-written handlers.

Three cases on a Starlette app and on a FastAPI app, each a request made
through the app's ASGI interface (no server, no test client, no socket) to an
async route that raises: a failure the user can fix (``sold_out``, mapped to
409), an upstream's 429 with Retry-After (503 with Retry-After), and a bug
(500 with a reference, re-raised by ``ServerErrorMiddleware`` as Starlette
always does). The hand-written app registers an exception handler per case
that builds the same status, headers and body with ``Errors`` and
``json.dumps``, knowing the status in advance; its bug handler is the 500
handler. Each request is one coroutine, run to its end without an event loop,
since nothing in it waits. Target: at most 1.5 times the hand-written cost.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_web_starlette.py``; ``--quick`` only proves the
script runs.
"""

from __future__ import annotations

import contextlib
import json
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING

import httpx
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import Response

import outcome
from outcome import PROBLEM_JSON, Bucket, Classifier, Errors
from outcome.integrations.starlette import install

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message

TARGET = 1.5
_REQUEST = httpx.Request("POST", "https://pay.example/v1/charges")
_RESPONSE = httpx.Response(429, headers={"Retry-After": "7"}, request=_REQUEST)


class SoldOutError(Exception):
    """The shop's own failure: the user can fix it by ordering less."""


CLASSIFIER = Classifier()
CLASSIFIER.register(SoldOutError, bucket=Bucket.USER_FIXABLE, kind="sold_out")

FAILURES: dict[str, Callable[[], Exception]] = {
    "sold out": SoldOutError,
    "upstream 429": lambda: httpx.HTTPStatusError(
        "429", request=_REQUEST, response=_RESPONSE
    ),
    "bug": lambda: LookupError("SELECT secret FROM cards"),
}


def _problem(errors: Errors, status: int, headers: dict[str, str]) -> Response:
    content = json.dumps(
        errors.to_problem_details(status=status),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return Response(content, status_code=status, headers=headers)


async def _sold_out(_request: Request, exc: Exception) -> Response:
    errors = Errors()
    errors.add_exception(exc, classifier=CLASSIFIER)
    return _problem(errors, 409, {"Content-Type": PROBLEM_JSON})


async def _upstream(_request: Request, exc: Exception) -> Response:
    errors = Errors()
    detail = errors.add_exception(exc, classifier=CLASSIFIER)
    headers = {"Content-Type": PROBLEM_JSON}
    wait = detail.params.get("retry_after")
    if isinstance(wait, int):
        headers["Retry-After"] = str(wait)
    return _problem(errors, 503, headers)


async def _bug(_request: Request, exc: Exception) -> Response:
    errors = Errors()
    errors.add_exception(exc, classifier=CLASSIFIER)
    return _problem(errors, 500, {"Content-Type": PROBLEM_JSON})


def by_hand(app: Starlette) -> Starlette:
    """`app` with a handler per case, written out by hand."""
    app.add_exception_handler(SoldOutError, _sold_out)
    app.add_exception_handler(httpx.HTTPStatusError, _upstream)
    app.add_exception_handler(Exception, _bug)
    return app


def with_outcome(app: Starlette) -> Starlette:
    """`app` answered by the integration."""
    install(app, statuses={"sold_out": 409}, classifier=CLASSIFIER)
    return app


def _raising(make: Callable[[], Exception]) -> Callable[[Request], Awaitable[Response]]:
    async def route(_request: Request) -> Response:
        raise make()

    return route


def _routes(app: Starlette) -> Starlette:
    for name, make in FAILURES.items():
        app.add_route(f"/{name.replace(' ', '-')}", _raising(make))
    return app


def _finish(request: Awaitable[None]) -> None:
    """Run a request that never waits to its end, as an event loop would."""
    steps = request.__await__()
    try:
        next(steps)
    except StopIteration:
        return
    msg = "the request waited on something: it needs an event loop"
    raise RuntimeError(msg)


def requester(app: ASGIApp, case: str) -> Callable[[], tuple[object, ...]]:
    """Call `app` as an ASGI server would, for the case's path."""
    path = f"/{case.replace(' ', '-')}"
    scope_template: dict[str, object] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"shop.example")],
        "client": ("127.0.0.1", 50000),
        "server": ("shop.example", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    def once() -> tuple[object, ...]:
        sent.clear()
        with contextlib.suppress(LookupError):  # the bug, re-raised for the server
            _finish(app(dict(scope_template), receive, send))
        start, body = sent
        return start["status"], sorted(start["headers"]), body["body"]

    return once


def main() -> int:
    """Print a markdown table of times and the integration / by-hand ratio."""
    settings = parse_settings(__doc__, rounds=21, number=500, quick_number=5)
    frameworks: dict[str, Callable[[], Starlette]] = {
        "starlette": Starlette,
        "fastapi": FastAPI,
    }
    contenders: list[Contender] = []
    comparisons: list[Comparison] = []
    for framework, make_app in frameworks.items():
        plain = _routes(by_hand(make_app()))
        installed = _routes(with_outcome(make_app()))
        for case in FAILURES:
            hand, ours = requester(plain, case), requester(installed, case)
            # The same answer, the bug's reference included: both hash the
            # same exception with the process's key.
            assert hand() == ours(), (framework, case)  # noqa: S101 - the same answer
            name = f"{framework}, {case}"
            contenders += [
                Contender(f"{name}, by hand", calls(hand)),
                Contender(f"{name}, outcome", calls(ours)),
            ]
            comparisons.append(
                Comparison(
                    name,
                    f"{name}, by hand",
                    (
                        Entry("exception handlers by hand", f"{name}, by hand"),
                        Entry("install", f"{name}, outcome", target=TARGET),
                    ),
                )
            )
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={
            "outcome": outcome.__version__,
            "starlette": version("starlette"),
            "fastapi": version("fastapi"),
        },
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
