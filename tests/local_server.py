"""
An HTTP server on 127.0.0.1 that answers each failure of the classifier's story.

The first two segments of the path choose the answer: ``/{flavor}/{scenario}``,
followed by whatever path the client appends (``/v1/chat/completions``). The
flavor shapes the error body the way one API does (``openai``, ``anthropic``,
``stripe``, ``aws`` for DynamoDB's JSON protocol, or ``plain``); the scenario
picks the failure (`SCENARIOS`). So a client's base URL is
``f"{server.url}/openai/rate_limit"`` and every request it makes fails the same
way.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.server
import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

SLOW_SECONDS: Final = 1.0
"""How long the ``slow`` scenario waits before it answers."""

RETRY_AFTER_SECONDS: Final = 2
"""The delay-seconds the ``rate_limit`` scenario sends in Retry-After."""

RETRY_AFTER_DATE_SECONDS: Final = 30
"""How far ahead the HTTP-date of the ``rate_limit_date`` scenario lies."""

_AWS_TYPE: Final = "com.amazonaws.dynamodb.v20120810#"

_RATE_LIMITED: Final[dict[str, tuple[int, object]]] = {
    "openai": (
        429,
        {
            "error": {
                "message": "Rate limit reached for requests per min.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
    ),
    "anthropic": (
        429,
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "Number of requests has exceeded your rate limit.",
            },
        },
    ),
    "stripe": (
        429,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "message": "Too many requests hit the API too quickly.",
            }
        },
    ),
    # DynamoDB throttles with 400, not 429: only the error code tells.
    "aws": (
        400,
        {
            "__type": _AWS_TYPE + "ThrottlingException",
            "message": "Rate of requests exceeds the allowed throughput.",
        },
    ),
    "plain": (429, {"error": "Too many requests"}),
}

_ERRORS: Final[dict[str, dict[str, tuple[int, object]]]] = {
    "rate_limit": _RATE_LIMITED,
    "rate_limit_date": _RATE_LIMITED,
    "quota": {
        "openai": (
            429,
            {
                "error": {
                    "message": "You exceeded your current quota.",
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            },
        ),
    },
    "server_500": {
        "openai": (
            500,
            {
                "error": {
                    "message": "The server had an error while processing.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        "anthropic": (
            500,
            {
                "type": "error",
                "error": {"type": "api_error", "message": "Internal server error"},
            },
        ),
        "stripe": (
            500,
            {"error": {"type": "api_error", "message": "An error occurred."}},
        ),
        "aws": (
            500,
            {
                "__type": _AWS_TYPE + "InternalServerError",
                "message": "Internal server error",
            },
        ),
        "plain": (500, {"error": "Internal Server Error"}),
    },
    "server_503": {
        "openai": (
            503,
            {
                "error": {
                    "message": "The engine is currently overloaded.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        "plain": (503, {"error": "Service Unavailable"}),
    },
    "overloaded_529": {
        "anthropic": (
            529,
            {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
            },
        ),
    },
    "bad_request_400": {
        "openai": (
            400,
            {
                "error": {
                    "message": "Invalid 'messages': empty array.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "empty_array",
                }
            },
        ),
        "anthropic": (
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "max_tokens: Field required",
                },
            },
        ),
        "stripe": (
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_missing",
                    "param": "amount",
                    "message": "Missing required param: amount.",
                }
            },
        ),
        "aws": (
            400,
            {
                "__type": "com.amazon.coral.validate#ValidationException",
                "message": "1 validation error detected: Limit must be >= 1",
            },
        ),
        "plain": (400, {"error": "Bad Request"}),
    },
    "unprocessable_422": {
        "openai": (
            422,
            {
                "error": {
                    "message": "Unprocessable request.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        "plain": (422, {"error": "Unprocessable Content"}),
    },
    "unauthorized_401": {
        "openai": (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
        "anthropic": (
            401,
            {
                "type": "error",
                "error": {
                    "type": "authentication_error",
                    "message": "invalid x-api-key",
                },
            },
        ),
        "stripe": (
            401,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "Invalid API Key provided: sk_test_x",
                }
            },
        ),
        "plain": (401, {"error": "Unauthorized"}),
    },
    "forbidden_403": {
        "aws": (
            403,
            {
                "__type": _AWS_TYPE + "AccessDeniedException",
                "message": "User is not authorized to perform: dynamodb:ListTables",
            },
        ),
    },
    "card_declined_402": {
        "stripe": (
            402,
            {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                }
            },
        ),
    },
}

SCENARIOS: Final = frozenset({*_ERRORS, "slow"})
"""Every scenario the server answers; ``slow`` waits `SLOW_SECONDS`, then says 200."""


def status_for(flavor: str, scenario: str) -> int | None:
    """
    The status the server answers ``/{flavor}/{scenario}`` with, if it fails so.

    >>> status_for("aws", "rate_limit"), status_for("openai", "slow")
    (400, None)
    """
    answer = _ERRORS.get(scenario, {}).get(flavor)
    return None if answer is None else answer[0]


_CONTENT_TYPES: Final = {"aws": "application/x-amz-json-1.0"}


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers by the ``/{flavor}/{scenario}`` prefix of the path."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer()

    def do_POST(self) -> None:
        """Answer a POST, after reading the request body it ignores."""
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output clean: requests are not logged."""

    def _answer(self) -> None:
        with self.server.lock:
            self.server.requests_seen += 1
        _, flavor, scenario, *_ = [*self.path.split("?")[0].split("/"), "", "", ""]
        if scenario == "slow":
            # Woken early when the server stops, so shutdown never waits.
            if self.server.stopping.wait(SLOW_SECONDS):
                self.close_connection = True
                return
            self._send(200, {}, flavor, {})
            return
        answers = _ERRORS.get(scenario, {})
        if flavor not in answers:
            self._send(404, {"error": f"no {flavor}/{scenario}"}, flavor, {})
            return
        status, body = answers[flavor]
        headers: dict[str, str] = {}
        if scenario == "rate_limit":
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        elif scenario == "rate_limit_date":
            moment = time.time() + RETRY_AFTER_DATE_SECONDS
            headers["Retry-After"] = email.utils.formatdate(moment, usegmt=True)
        self._send(status, body, flavor, headers)

    def _send(
        self, status: int, body: object, flavor: str, headers: dict[str, str]
    ) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header(
                "Content-Type", _CONTENT_TYPES.get(flavor, "application/json")
            )
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", "req-local")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up first (its timeout fired): nobody to answer.
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    """A threading server whose handlers can be woken when it stops."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests_seen = 0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Report a failing handler, unless the client merely hung up first."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class LocalServer:
    """
    The running server: its base `url` and the means to stop it.

    >>> with serve() as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def requests_seen(self) -> int:
        """How many requests the server has answered or is answering."""
        with self._server.lock:
            return self._server.requests_seen

    def stop(self) -> None:
        """Wake the slow handlers, stop serving and close the socket."""
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serve() -> Iterator[LocalServer]:
    """Serve on 127.0.0.1, on a port the OS picks, in a background thread."""
    server = _Server()
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="local-http-server",
        daemon=True,
    )
    thread.start()
    running = LocalServer(server, thread)
    try:
        yield running
    finally:
        running.stop()
