"""An HTTP server on 127.0.0.1 that plays a script of answers, one per request."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

# An answer: the status, the headers and the JSON body.
Answer = tuple[int, dict[str, str], object]

OK: Answer = (200, {}, {"id": "cap_1", "status": "captured"})
SLOW_DOWN: Answer = (
    429,
    {"Retry-After": "1"},
    {"error": {"code": "rate_limit_exceeded", "message": "Slow down."}},
)
QUOTA: Answer = (
    429,
    {},
    {"error": {"code": "insufficient_quota", "message": "You exceeded your quota."}},
)
DOWN: Answer = (503, {}, {"error": {"message": "The gateway is down."}})


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        """Answer with the next answer of the script; the last one repeats."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            index = min(self.server.seen, len(self.server.script) - 1)
            self.server.seen += 1
            status, headers, body = self.server.script[index]
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output clean."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: list[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.script = script
        self.seen = 0


class Scripted:
    """A running scripted server: its `url` and how many requests it answered."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def seen(self) -> int:
        """How many requests were answered."""
        with self._server.lock:
            return self._server.seen

    def play(self, *script: Answer) -> None:
        """Answer the next requests with `script`, from its start."""
        with self._server.lock:
            self._server.script = list(script)
            self._server.seen = 0


@contextlib.contextmanager
def scripted(*script: Answer) -> Iterator[Scripted]:
    """Serve `script` on a port the OS picks, in a background thread."""
    server = _Server(list(script) or [OK])
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        yield Scripted(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def capture(url: str, order: str) -> dict[str, Any]:
    """Capture a payment through the gateway at `url` with httpx; raise on failure."""
    import httpx  # noqa: PLC0415 - the client under test

    response = httpx.post(f"{url}/captures", json={"order": order}, timeout=2.0)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
