"""
An error answered through the Flask integration, against a hand-written errorhandler.

Three cases, each a request to a Flask app's WSGI callable (no server, no test
client) whose view raises: a failure the user can fix (``sold_out``, mapped to
409), an upstream's 429 with Retry-After (503 with Retry-After), and a bug
(500 with a reference). The hand-written app registers an ``errorhandler`` per
case that builds the same status, headers and body with ``Errors`` and
``json.dumps``, knowing the status in advance; for the bug it sends
``got_request_exception`` and calls ``log_exception`` itself, as the
integration has Flask do. Logging is off on both sides. Target: at most 1.5
times the hand-written cost.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_web_flask.py``; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import json
import logging
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING, cast

import httpx
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from flask import Flask, Response, got_request_exception
from werkzeug.test import EnvironBuilder

import outcome
from outcome import PROBLEM_JSON, Bucket, Decision, Errors
from outcome.integrations.flask import install

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from _typeshed.wsgi import StartResponse

TARGET = 1.5
_REQUEST = httpx.Request("POST", "https://pay.example/v1/charges")
_RESPONSE = httpx.Response(429, headers={"Retry-After": "7"}, request=_REQUEST)


class SoldOutError(Exception):
    """The shop's own failure: the user can fix it by ordering less."""

    def __outcome_decision__(self) -> Decision:
        """The user can fix it."""
        return Decision(Bucket.USER_FIXABLE, transient=False, kind="sold_out")


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
    return Response(content, status=status, headers=headers)


def by_hand() -> Flask:
    """An app whose errorhandlers answer each case, written out by hand."""
    app = Flask("by_hand")

    @app.errorhandler(SoldOutError)
    def sold_out(exc: SoldOutError) -> Response:
        errors = Errors()
        errors.add_exception(exc)
        return _problem(errors, 409, {"Content-Type": PROBLEM_JSON})

    @app.errorhandler(httpx.HTTPStatusError)
    def upstream(exc: httpx.HTTPStatusError) -> Response:
        errors = Errors()
        detail = errors.add_exception(exc)
        headers = {"Content-Type": PROBLEM_JSON}
        wait = detail.params.get("retry_after")
        if isinstance(wait, int):
            headers["Retry-After"] = str(wait)
        return _problem(errors, 503, headers)

    @app.errorhandler(LookupError)
    def bug(exc: LookupError) -> Response:
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=exc)
        app.log_exception(
            cast("tuple[type, BaseException, TracebackType]", sys.exc_info())
        )
        errors = Errors()
        errors.add_exception(exc)
        return _problem(errors, 500, {"Content-Type": PROBLEM_JSON})

    return app


def with_outcome() -> Flask:
    """An app answered by the integration."""
    app = Flask("with_outcome")
    install(app, statuses={"sold_out": 409})
    return app


def _views(app: Flask) -> Flask:
    for name, make in FAILURES.items():

        def view(make: Callable[[], Exception] = make) -> str:
            raise make()

        app.add_url_rule(f"/{name.replace(' ', '-')}", name, view)
    return app


def requester(app: Flask, case: str) -> Callable[[], tuple[str, bytes]]:
    """Call `app` as a WSGI server would, for the case's path."""
    environ = EnvironBuilder(path=f"/{case.replace(' ', '-')}").get_environ()
    seen: list[str] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], _exc_info: object = None
    ) -> Callable[[bytes], object]:
        seen.append(status + repr(sorted(headers)))
        return len

    def once() -> tuple[str, bytes]:
        seen.clear()
        body = b"".join(
            app.wsgi_app(
                dict(environ),
                cast("StartResponse", start_response),
            )
        )
        return seen[0], body

    return once


def main() -> int:
    """Print a markdown table of times and the integration / by-hand ratio."""
    settings = parse_settings(__doc__, rounds=21, number=500, quick_number=5)
    logging.disable(logging.CRITICAL)
    plain, installed = _views(by_hand()), _views(with_outcome())
    contenders: list[Contender] = []
    for case in FAILURES:
        hand, ours = requester(plain, case), requester(installed, case)
        # The same answer, but for the bug's reference, which is per process
        # the same too: both hash the same exception.
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
                Entry("errorhandler by hand", f"{case}, by hand"),
                Entry("install", f"{case}, outcome", target=TARGET),
            ),
        )
        for case in FAILURES
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={"outcome": outcome.__version__, "flask": version("flask")},
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
