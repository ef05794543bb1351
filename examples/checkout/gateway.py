"""
A card payment gateway for the demo, served over HTTP on 127.0.0.1.

It stands in for a real gateway the way a test-mode account does: it
authorises cards, captures and voids authorisations, and it can be told to
fail the way real gateways do (503, a 429 rate limit with ``Retry-After``, a
429 for an exhausted quota, an answer too slow to wait for), on authorising or
on capturing. A card whose token is `DECLINED_CARD` is always declined, as
with a gateway's test cards.

It runs in a background thread on a port the system picks, and only knows the
standard library's `http.server`. The shop talks to it through the client in
``service.py``, which knows nothing of this module.
"""

from __future__ import annotations

import enum
import json
import sys
import threading
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, cast

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from types import TracebackType
    from typing import Self

DECLINED_CARD: Final = "tok_chargeDeclined"
"""A card token the gateway always declines, with 402 ``card_declined``."""

RETRY_AFTER_SECONDS: Final = 1
"""What the gateway asks a rate-limited client to wait."""


Request: TypeAlias = Literal["authorize", "capture"]
"""The requests a fault or an action can be attached to."""

_REQUESTS: Final[dict[str, Request]] = {
    "/v1/authorizations": "authorize",
    "/v1/captures": "capture",
}


class Fault(enum.Enum):
    """A way for the gateway to fail the next authorisation or capture requests."""

    UNAVAILABLE = "503 Service Unavailable"
    RATE_LIMITED = "429 Too Many Requests, rate limit, Retry-After: 1"
    QUOTA_EXCEEDED = "429 Too Many Requests, insufficient_quota"
    SLOW = "authorises the card, but answers only after a while"


@dataclass(frozen=True)
class Authorization:
    """A hold the gateway put on a card for an order."""

    id: str
    order_id: int
    amount_cents: int
    currency: str
    idempotency_key: str
    status: str  # "authorized", "captured" or "voided"
    capture_id: str | None = None


@dataclass(frozen=True)
class _Answer:
    status: HTTPStatus
    body: dict[str, object]
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


def _error(
    status: HTTPStatus, code: str, message: str, *headers: tuple[str, str]
) -> _Answer:
    return _Answer(status, {"error": {"code": code, "message": message}}, headers)


class FakeGateway:
    """
    The gateway: start it, script its faults, read what it authorised, close it.

    Use it as a context manager, or call `close` when done: closing stops the
    server, cuts short any answer it is holding back, and joins its threads.
    """

    def __init__(self, *, slow_answer_after: float = 0.5) -> None:
        """
        Start serving on 127.0.0.1, on a free port.

        Args:
            slow_answer_after: How long a `Fault.SLOW` answer is held back,
                in seconds.
        """
        self._slow_answer_after = slow_answer_after
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._faults: dict[Request, list[Fault]] = {"authorize": [], "capture": []}
        self._meanwhile: dict[Request, list[Callable[[], object]]] = {
            "authorize": [],
            "capture": [],
        }
        self._authorizations: dict[str, Authorization] = {}
        self._server = _Server(self)
        # Polled often, so that closing does not wait half a second for it.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="fake-gateway"
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Where the gateway listens, such as ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(
        self, fault: Fault, times: int = 1, *, on: Request = "authorize"
    ) -> None:
        """Answer the next `times` requests to authorise (or capture) with `fault`."""
        with self._lock:
            self._faults[on].extend([fault] * times)

    def meanwhile(
        self, action: Callable[[], object], *, on: Request = "authorize"
    ) -> None:
        """
        Run `action` while the next request to authorise (or capture) is handled.

        The client is waiting for the answer meanwhile, so whatever `action`
        does (another process locking a database, a customer cancelling in
        another tab) happens between the shop's request and its response.
        """
        with self._lock:
            self._meanwhile[on].append(action)

    def authorizations(self, order_id: int | None = None) -> list[Authorization]:
        """Return the authorisations made, oldest first, for one order if given."""
        with self._lock:
            made = list(self._authorizations.values())
        return [a for a in made if order_id is None or a.order_id == order_id]

    def close(self) -> None:
        """Stop serving and wait for the server's threads to finish."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        """Return the running gateway."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the gateway."""
        self.close()

    # Called by the request handler, one thread per request --------------------

    def answer(self, path: str, payload: dict[str, object], key: str) -> _Answer:
        """Decide the answer to one request; record what it changes."""
        request = _REQUESTS.get(path)
        if request is not None:
            with self._lock:
                waiting = self._meanwhile[request]
                meanwhile = waiting.pop(0) if waiting else None
            if meanwhile is not None:
                meanwhile()
        with self._lock:
            if path == "/v1/voids":
                return self._void(payload)
            if request is None:
                return _error(
                    HTTPStatus.NOT_FOUND, "not_found", f"no such endpoint: {path}"
                )
            faults = self._faults[request]
            fault = faults.pop(0) if faults else None
            failed = _failure(fault)
            if failed is not None:
                return failed
            answer = (
                self._authorize(payload, key)
                if request == "authorize"
                else self._capture(payload)
            )
        delay = self._slow_answer_after if fault is Fault.SLOW else 0.0
        return replace(answer, delay=delay)

    def hold_back(self, seconds: float) -> None:
        """Wait before answering; closing the gateway cuts the wait short."""
        self._closing.wait(seconds)

    def _authorize(self, payload: dict[str, object], key: str) -> _Answer:
        if payload.get("card_token") == DECLINED_CARD:
            return _error(
                HTTPStatus.PAYMENT_REQUIRED, "card_declined", "Your card was declined."
            )
        # Idempotency: a retried request gets the authorisation the first made.
        held = next(
            (a for a in self._authorizations.values() if a.idempotency_key == key),
            None,
        )
        if held is None:
            held = Authorization(
                id=f"auth_{len(self._authorizations) + 1:04}",
                order_id=cast("int", payload["order_id"]),
                amount_cents=cast("int", payload["amount_cents"]),
                currency=cast("str", payload["currency"]),
                idempotency_key=key,
                status="authorized",
            )
            self._authorizations[held.id] = held
        body: dict[str, object] = {"id": held.id, "status": held.status}
        return _Answer(HTTPStatus.CREATED, body)

    def _capture(self, payload: dict[str, object]) -> _Answer:
        held = self._authorizations.get(str(payload.get("authorization")))
        if held is None or held.status == "voided":
            return _error(
                HTTPStatus.CONFLICT,
                "authorization_not_capturable",
                "There is no authorisation to capture by this id.",
            )
        # Idempotency: capturing a captured authorisation answers the capture.
        if held.capture_id is None:
            captures = sum(
                a.capture_id is not None for a in self._authorizations.values()
            )
            held = replace(held, status="captured", capture_id=f"cap_{captures + 1:04}")
            self._authorizations[held.id] = held
        body: dict[str, object] = {"id": held.capture_id, "status": held.status}
        return _Answer(HTTPStatus.CREATED, body)

    def _void(self, payload: dict[str, object]) -> _Answer:
        # By id, or everything made under an idempotency key: the shop voids by
        # key when it never heard whether an authorisation went through.
        voided: list[object] = []
        for held in list(self._authorizations.values()):
            if held.status == "authorized" and (
                held.id == payload.get("authorization")
                or held.idempotency_key == payload.get("idempotency_key")
            ):
                self._authorizations[held.id] = replace(held, status="voided")
                voided.append(held.id)
        return _Answer(HTTPStatus.OK, {"voided": voided})


def _failure(fault: Fault | None) -> _Answer | None:
    """The error answer a fault gives, if it gives one."""
    if fault is Fault.UNAVAILABLE:
        return _error(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The gateway is down for maintenance.",
        )
    if fault is Fault.RATE_LIMITED:
        return _error(
            HTTPStatus.TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            "Too many requests; slow down.",
            ("Retry-After", str(RETRY_AFTER_SECONDS)),
        )
    if fault is Fault.QUOTA_EXCEEDED:
        return _error(
            HTTPStatus.TOO_MANY_REQUESTS,
            "insufficient_quota",
            "This account has used up its monthly quota of requests.",
        )
    return None


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so none outlives the gateway.
    daemon_threads = False
    block_on_close = True

    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: object,
    ) -> None:
        # A client that gave up waiting has closed its socket: nothing to do.
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        """Answer a POST with JSON."""
        gateway = cast("_Server", self.server).gateway
        length = int(self.headers.get("Content-Length") or 0)
        payload = cast("dict[str, object]", json.loads(self.rfile.read(length)))
        key = self.headers.get("Idempotency-Key") or ""
        answer = gateway.answer(self.path, payload, key)
        if answer.delay:
            gateway.hold_back(answer.delay)
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        """Keep the access log out of the demo's output."""
