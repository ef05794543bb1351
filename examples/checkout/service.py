"""
A shop's checkout, end to end: orders in SQLite, a card gateway, a saga, a job.

Checkout marks the order processing, has the payment gateway authorise the
card, then enqueues the payment job that captures it. Those are three systems,
so no one database transaction can cover them: each step is a `Step` of a
`Saga`, which undoes the completed ones, newest first, when a later one fails.
If the payment cannot be enqueued, the authorisation is voided and the order
goes back to pending; if putting it back fails too, that joins the report and
support is told about a stuck order.

Given a journal (a `SqliteJournal`), the checkout is a `DurableSaga`: each
step is recorded before and after it runs, so that a process that dies
half-way leaves a record, and `recover` (run by any process of the shop)
undoes what the dead one did.

The payment job runs on a task queue (Huey or Celery: see ``jobs.py``) under a
`JobPolicy`: it captures the card, retried through the queue while the gateway
is busy or down, then marks the order completed. Each change of its state goes
to the API's subscribers (`JobFeed`); a job that gives up is reported to
support by a death handler, as Sidekiq's are.

The module is in layers, each using the ones above it: the checkout form, the
shop's database, the gateway's client, the saga's steps, support, the payment
job, the service that runs the saga, and the API answer.
"""

from __future__ import annotations

import json
import random as _random
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypedDict, cast

from outcome import (
    Bucket,
    Classifier,
    DurableSaga,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Problems,
    Result,
    Retrying,
    RetryPolicy,
    Saga,
    SagaFailure,
    Step,
    accumulate,
    as_result,
)
from outcome.jobs import JobPolicy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import date
    from os import PathLike
    from types import TracebackType
    from typing import Self

    from outcome import Journal
    from outcome.jobs import JobEvent, JobStatus


def _ignore(_message: str) -> None:
    """The default log: say nothing."""


# The form, as the browser sent it --------------------------------------------


@dataclass(frozen=True)
class CheckoutForm:
    """The checkout form: a card token from the payment page, its expiry, consent."""

    card_token: str = ""
    card_expiry: str = ""
    terms_accepted: bool = False


@dataclass(frozen=True)
class Card:
    """The card a checkout form named, once read."""

    token: str
    expiry: str


_EXPIRY: Final = re.compile(r"(?P<month>[0-9]{2})/(?P<year>[0-9]{2})")


def parse_token(text: str) -> Result[str, ErrorDetail]:
    """Read a card token, which the payment page makes: ``tok_`` and more."""
    token = text.strip()
    if not token:
        return Err(ErrorDetail(None, "blank"))
    if not token.startswith("tok_"):
        return Err(ErrorDetail(None, "invalid"))
    return Ok(token)


@as_result(ValueError)
def _read_expiry(text: str) -> tuple[int, int]:
    found = _EXPIRY.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"expected MM/YY, not {text!r}")
    month, year = int(found["month"]), 2000 + int(found["year"])
    if not 1 <= month <= 12:  # noqa: PLR2004 - the months of a year
        raise ValueError(f"there is no month {month}")
    return year, month


def parse_expiry(text: str, today: date) -> Result[str, ErrorDetail]:
    """Read a card expiry written MM/YY; the card must not have expired."""
    match _read_expiry(text):
        case Err():
            return Err(ErrorDetail(None, "invalid_expiry"))
        case Ok((year, month)) if (year, month) < (today.year, today.month):
            return Err(ErrorDetail(None, "expired"))
        case Ok((year, month)):
            return Ok(f"{month:02}/{year % 100:02}")


def parse_form(form: CheckoutForm, today: date) -> Result[Card, Errors]:
    """Read the form, with every problem reported at once, each under its field."""
    consent: Result[None, ErrorDetail] = (
        Ok(None) if form.terms_accepted else Err(ErrorDetail(None, "accepted"))
    )
    return accumulate(
        parse_token(form.card_token),
        parse_expiry(form.card_expiry, today),
        consent,
        prefixes=["card_token", "card_expiry", "terms_accepted"],
    ).map(lambda fields: Card(token=fields[0], expiry=fields[1]))


# The shop's database -----------------------------------------------------------

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'processing', 'completed', 'cancelled'))
);
CREATE TABLE IF NOT EXISTS payment_jobs (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    job_id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    authorization_id TEXT,
    run_after TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'started', 'cancelled'))
);
"""


@dataclass(frozen=True)
class Order:
    """A row of the orders table."""

    id: int
    customer: str
    amount_cents: int
    currency: str
    status: str


@dataclass(frozen=True)
class PaymentJob:
    """
    A row of the payment jobs table: the shop's record of a job it enqueued.

    The API names the job by `id`; the task queue knows it by `job_id`. The
    worker captures the authorisation on the merchant `account` when the
    job's time comes; a job without one (pay later) authorises the
    customer's card on file first. `status` is the shop's side of the job:
    ``queued``, ``started`` once a worker took it (it can no longer be
    cancelled), or ``cancelled`` (a worker that gets it drops it). How the
    job is going is its `JobStatus`, which the queue keeps.
    """

    id: int
    order_id: int
    job_id: str
    account: str
    authorization_id: str | None
    run_after: str
    status: str


class Shop:
    """
    The shop's SQLite database: orders and the payment jobs enqueued for them.

    Each statement commits on its own, as the saga's steps need: a step's
    write is done (and visible to the payment worker) once the step returns.
    """

    def __init__(self, path: str | PathLike[str], *, busy_timeout: float = 5.0) -> None:
        """
        Open (and if need be create) the database at `path`.

        Args:
            path: The database file.
            busy_timeout: How long a statement waits for another connection's
                lock before SQLite gives up with "database is locked".
        """
        self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        """Return the open database."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection."""
        self.close()

    def add_order(
        self, customer: str, amount_cents: int, currency: str, status: str = "pending"
    ) -> int:
        """Add an order and return its id."""
        cursor = self._db.execute(
            "INSERT INTO orders (customer, amount_cents, currency, status)"
            " VALUES (?, ?, ?, ?)",
            (customer, amount_cents, currency, status),
        )
        return _row_id(cursor)

    def order(self, order_id: int) -> Order | None:
        """Return the order with this id, if there is one."""
        row = self._db.execute(
            "SELECT id, customer, amount_cents, currency, status FROM orders"
            " WHERE id = ?",
            (order_id,),
        ).fetchone()
        return None if row is None else Order(*row)

    def set_status(self, order_id: int, status: str, *, expected: str) -> bool:
        """Change an order's status if it is still `expected`; say whether it did."""
        cursor = self._db.execute(
            "UPDATE orders SET status = ? WHERE id = ? AND status = ?",
            (status, order_id, expected),
        )
        return cursor.rowcount == 1

    def add_payment_job(
        self,
        order: Order,
        *,
        account: str,
        authorization_id: str | None,
        run_after: datetime,
    ) -> PaymentJob:
        """Record a payment job, under a new id for the task queue, and return it."""
        job_id = str(uuid.uuid4())
        cursor = self._db.execute(
            "INSERT INTO payment_jobs (order_id, job_id, account, authorization_id,"
            " run_after, status) VALUES (?, ?, ?, ?, ?, 'queued')",
            (order.id, job_id, account, authorization_id, run_after.isoformat()),
        )
        return PaymentJob(
            _row_id(cursor),
            order.id,
            job_id,
            account,
            authorization_id,
            run_after.isoformat(),
            "queued",
        )

    def cancel_payment_job(self, payment_job_id: int) -> bool:
        """Cancel a payment job no worker took yet; say whether it was still queued."""
        cursor = self._db.execute(
            "UPDATE payment_jobs SET status = 'cancelled'"
            " WHERE id = ? AND status = 'queued'",
            (payment_job_id,),
        )
        return cursor.rowcount == 1

    def start_payment_job(self, payment_job_id: int) -> bool:
        """Take a payment job for a worker; say whether it may run (not cancelled)."""
        cursor = self._db.execute(
            "UPDATE payment_jobs SET status = 'started'"
            " WHERE id = ? AND status != 'cancelled'",
            (payment_job_id,),
        )
        return cursor.rowcount == 1

    def payment_job(self, payment_job_id: int) -> PaymentJob | None:
        """Return the payment job with this id, if there is one."""
        row = self._db.execute(
            f"{_PAYMENT_JOBS} WHERE id = ?",
            (payment_job_id,),
        ).fetchone()
        return None if row is None else PaymentJob(*row)

    def payment_jobs(self, order_id: int) -> list[PaymentJob]:
        """Return the payment jobs of an order, oldest first."""
        rows = self._db.execute(
            f"{_PAYMENT_JOBS} WHERE order_id = ? ORDER BY id",
            (order_id,),
        ).fetchall()
        return [PaymentJob(*row) for row in rows]


_PAYMENT_JOBS: Final = (
    "SELECT id, order_id, job_id, account, authorization_id, run_after, status"
    " FROM payment_jobs"
)


def _row_id(cursor: sqlite3.Cursor) -> int:
    row_id = cursor.lastrowid
    if row_id is None:  # sqlite3 sets it after every INSERT
        msg = "the INSERT did not report the id of its row"
        raise RuntimeError(msg)
    return row_id


# The payment gateway's client ---------------------------------------------------


class GatewayError(Exception):
    """
    The payment gateway answered with an error status.

    Its attributes are named as on an SDK's errors, which is where outcome's
    classifier reads them: the HTTP status in `status_code`, the JSON `body`
    with the gateway's error code, and the `headers` with any Retry-After.
    """

    def __init__(
        self, status_code: int, body: Mapping[str, object], headers: Mapping[str, str]
    ) -> None:
        """Record the gateway's answer."""
        super().__init__(f"the payment gateway answered {status_code}: {body}")
        self.status_code = status_code
        self.body = body
        self.headers = headers


class PaymentGateway:
    """
    The client for the gateway's HTTP API, on `urllib.request`.

    Its failures are left as exceptions: `GatewayError` for an error status,
    `TimeoutError` when no answer comes in time. The saga classifies them.
    """

    def __init__(
        self, url: str, *, timeout: float = 10.0, log: Callable[[str], object] = _ignore
    ) -> None:
        """
        Talk to the gateway at `url`.

        Args:
            url: The gateway's base URL, ``http://`` or ``https://``.
            timeout: Seconds to wait for each answer.
            log: Told about each request and its answer.
        """
        if not url.startswith(("http://", "https://")):
            msg = f"the gateway's URL must start with http:// or https://, not {url!r}"
            raise ValueError(msg)
        self.url = url
        self.timeout = timeout
        self._log = log
        # No proxies: the gateway is reached directly, whatever the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def authorize(self, order: Order, card_token: str) -> str:
        """Hold the order's amount on the card; return the authorisation's id."""
        answer = self._post(
            "/v1/authorizations",
            {
                "order_id": order.id,
                "amount_cents": order.amount_cents,
                "currency": order.currency,
                "card_token": card_token,
            },
            idempotency_key=idempotency_key(order.id),
        )
        return str(answer["id"])

    def capture(self, authorization_id: str, order: Order, account: str) -> str:
        """Take the held amount on the merchant `account`; return the capture's id."""
        answer = self._post(
            "/v1/captures",
            {
                "authorization": authorization_id,
                "amount_cents": order.amount_cents,
                "account": account,
            },
            idempotency_key=f"capture-{authorization_id}",
        )
        return str(answer["id"])

    def void(self, authorization_id: str) -> None:
        """Release an authorisation."""
        self._post("/v1/voids", {"authorization": authorization_id})

    def void_all(self, key: str) -> None:
        """Release whatever was authorised under an idempotency key, if anything."""
        self._post("/v1/voids", {"idempotency_key": key})

    def _post(
        self, path: str, payload: Mapping[str, object], *, idempotency_key: str = ""
    ) -> dict[str, object]:
        """POST `payload` as JSON; return the JSON answer, or raise."""
        headers = {"Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url + path, json.dumps(payload).encode(), headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = _json_object(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                error = GatewayError(
                    exc.code, _json_object(exc.read()), dict(exc.headers.items())
                )
            self._log(f"gateway: POST {path} -> {_summary(error)}")
            raise error from exc
        except TimeoutError:
            self._log(f"gateway: POST {path} -> no answer within {self.timeout:g} s")
            raise
        shown = answer.get("id", answer.get("voided"))
        self._log(f"gateway: POST {path} -> {response.status} {shown}")
        return answer


def _json_object(data: bytes) -> dict[str, object]:
    value: object = json.loads(data)
    if not isinstance(value, dict):
        msg = f"the gateway answered {value!r}, not a JSON object"
        raise TypeError(msg)
    return cast("dict[str, object]", value)


def _summary(error: GatewayError) -> str:
    details = error.body.get("error")
    code = (
        cast("dict[str, object]", details).get("code")
        if isinstance(details, dict)
        else None
    )
    retry_after = error.headers.get("Retry-After")
    wait = "" if retry_after is None else f", Retry-After: {retry_after}"
    return f"{error.status_code} {code}{wait}"


def idempotency_key(order_id: int) -> str:
    """The key that makes a retried authorisation for an order the same one."""
    return f"order-{order_id}"


def card_on_file(customer: str) -> str:
    """The token of the card a customer keeps on file, for paying later."""
    # The shop would look it up; the demo's customers all keep the test card.
    return f"tok_visa_{customer.lower()}"


# The task queue the payment jobs go on ------------------------------------------


class PaymentQueue(Protocol):
    """
    The task queue that runs the payment jobs: Huey or Celery (see ``jobs.py``).

    A job is enqueued under the id the shop chose (`PaymentJob.job_id`), so
    the shop has recorded it before any worker can take it.
    """

    def enqueue(self, job: PaymentJob, *, delay: float) -> None:
        """Put the job on the queue, to run in `delay` seconds."""
        ...

    def cancel(self, job_id: str) -> None:
        """Tell the queue not to run the job."""
        ...

    def status(self, job_id: str) -> JobStatus | None:
        """The job's latest status, as the queue keeps it."""
        ...


# The checkout saga's steps ------------------------------------------------------


@dataclass
class Checkout:
    """
    What the steps of one checkout share: the request and what they did so far.

    Each step's own log (its `Ok` value) is for its own compensation; data a
    later step needs goes here, as `authorization_id` does.
    """

    shop: Shop
    gateway: PaymentGateway
    payments: PaymentQueue
    order_id: int
    run_after: datetime
    delay: float = 0.0
    card_token: str | None = None
    authorization_id: str | None = None

    def order(self) -> Order:
        """The order being checked out; it exists, or the API answered 404."""
        order = self.shop.order(self.order_id)
        if order is None:
            msg = f"order {self.order_id} vanished during its checkout"
            raise LookupError(msg)
        return order


MERCHANT_ACCOUNTS: Final = {"EUR": "acct_eu", "USD": "acct_us"}
"""The gateway account the shop captures each currency's payments on."""


def mark_processing(ctx: Checkout) -> Result[str, Errors]:
    """Mark a pending order processing; the log is the status to put back."""
    if ctx.shop.set_status(ctx.order_id, "processing", expected="pending"):
        return Ok("pending")
    status = ctx.order().status
    # 409: the order is in a state that another request put it in.
    not_pending = ErrorDetail(
        None,
        "not_pending",
        params={"status": status},
        bucket=Bucket.USER_VISIBLE,
        status=HTTPStatus.CONFLICT,
    )
    return Err(Errors([not_pending]))


def put_back(ctx: Checkout, previous_status: str) -> Result[None, Errors]:
    """Undo `mark_processing`: give the order back the status it had."""
    # Raising would be reported too, but as what the database said (the shop
    # is busy), which the customer already hears from the step that failed.
    # This says what it means for their order.
    try:
        restored = ctx.shop.set_status(
            ctx.order_id, previous_status, expected="processing"
        )
    except sqlite3.Error as exc:
        return Err(_stuck(ctx, cause=exc))
    return Ok(None) if restored else Err(_stuck(ctx))


def _stuck(ctx: Checkout, cause: BaseException | None = None) -> Errors:
    stuck = ErrorDetail(
        None,
        "order_stuck",
        params={"order": ctx.order_id},
        bucket=Bucket.USER_VISIBLE,
        cause=cause,
    )
    return Errors([stuck])


def authorize_payment(ctx: Checkout) -> Result[str, Errors]:
    """Have the gateway hold the amount on the card; the log is the authorisation."""
    if ctx.card_token is None:
        msg = "authorize_payment needs the card token in the checkout's context"
        raise ValueError(msg)
    ctx.authorization_id = ctx.gateway.authorize(ctx.order(), ctx.card_token)
    return Ok(ctx.authorization_id)


def void_authorization(ctx: Checkout, authorization_id: str) -> None:
    """Undo `authorize_payment`: release the hold on the card."""
    ctx.gateway.void(authorization_id)


def void_unconfirmed(ctx: Checkout) -> None:
    """Undo an authorisation that may have gone through although it failed."""
    # A timeout says nothing about whether the gateway authorised the card,
    # so whatever it made under this order's idempotency key is released.
    ctx.gateway.void_all(idempotency_key(ctx.order_id))


def enqueue_payment(ctx: Checkout) -> Result[int, Errors]:
    """Record the payment job, then put it on the queue; the log is its id."""
    order = ctx.order()
    job = ctx.shop.add_payment_job(
        order,
        account=MERCHANT_ACCOUNTS[order.currency],
        authorization_id=ctx.authorization_id,
        run_after=ctx.run_after,
    )
    try:
        ctx.payments.enqueue(job, delay=ctx.delay)
    except BaseException:
        # No worker may ever see it, so the shop's record must not say queued;
        # a worker that does see it drops it. A retry records a new job.
        ctx.shop.cancel_payment_job(job.id)
        raise
    return Ok(job.id)


def cancel_payment(ctx: Checkout, payment_job_id: int) -> Result[None, Errors]:
    """Undo `enqueue_payment`: cancel the job, unless a worker has taken it."""
    job = ctx.shop.payment_job(payment_job_id)
    if job is not None and ctx.shop.cancel_payment_job(payment_job_id):
        ctx.payments.cancel(job.job_id)
        return Ok(None)
    started = ErrorDetail(
        None,
        "payment_started",
        params={"job": payment_job_id},
        bucket=Bucket.USER_VISIBLE,
    )
    return Err(Errors([started]))


DATABASE_RETRY: Final = RetryPolicy(attempts=2, base_delay=0.1, max_delay=1.0)
"""For the shop's database: one more try when another connection holds a lock."""

GATEWAY_RETRY: Final = RetryPolicy(attempts=3, base_delay=0.5, max_delay=5.0)
"""For the gateway: three tries in all, with backoff, honouring Retry-After."""

MARK_PROCESSING: Final = Step(
    "mark_processing", mark_processing, put_back, retry_policy=DATABASE_RETRY
)
AUTHORIZE_PAYMENT: Final = Step(
    "authorize_payment",
    authorize_payment,
    void_authorization,
    compensate_failed=void_unconfirmed,
    retry_policy=GATEWAY_RETRY,
)
ENQUEUE_PAYMENT: Final = Step(
    "enqueue_payment", enqueue_payment, cancel_payment, retry_policy=DATABASE_RETRY
)

CHECKOUT_STEPS: Final = (MARK_PROCESSING, AUTHORIZE_PAYMENT, ENQUEUE_PAYMENT)
"""Checkout: mark the order processing, authorise the card, enqueue the payment."""

CHECKOUT_SAGA: Final = "checkout"
"""The durable checkout's name in the journal, by which `recover` finds it."""


class CheckoutInput(TypedDict):
    """What the journal keeps of a checkout: enough to rebuild its `Checkout`."""

    order_id: int
    card_token: str
    run_after: str  # ISO 8601


PAY_LATER_STEPS: Final = (ENQUEUE_PAYMENT, MARK_PROCESSING)
"""
Pay later: enqueue the payment with a delay first, then mark the order processing.

If the update fails, the job is cancelled. If the process dies between the
two, nothing is left half-done: when the job's time comes, the worker finds
the order still pending and drops the job. The delay is what makes that safe.
"""

PAY_LATER_DELAY: Final = timedelta(minutes=5)

CAPTURE_RETRY: Final = RetryPolicy(attempts=3, base_delay=0.5, max_delay=1.0)
"""
For the payment job: three attempts in its whole life, through the queue.

The server's Retry-After is honoured when it is longer than the backoff. The
waits are short so that the demo takes a moment; a shop would give the
gateway minutes (``base_delay=30.0, max_delay=600.0``).
"""


def _database_locked(failure: object) -> bool:
    return isinstance(failure, sqlite3.OperationalError) and "is locked" in str(failure)


SHOP_CLASSIFIER: Final = Classifier()
"""outcome's shipped rules, plus one: a locked SQLite database is worth a retry."""
SHOP_CLASSIFIER.register(
    _database_locked, bucket=Bucket.USER_VISIBLE, transient=True, kind="busy"
)


# Support ------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportTicket:
    """A request for a person to sort out an order a program could not."""

    number: int
    order_id: int
    problem: str
    causes: tuple[str, ...] = ()


class SupportDesk:
    """Where the shop tells its support team about stuck orders."""

    def __init__(self) -> None:
        """Start with no tickets."""
        self.tickets: list[SupportTicket] = []
        # Payment workers open tickets from their own threads.
        self._lock = threading.Lock()

    def stuck_order(self, order_id: int, step: str, errors: Errors) -> SupportTicket:
        """Open a ticket: `step` of the order's checkout could not be undone."""
        causes = tuple(repr(detail.cause) for detail in errors if detail.cause)
        return self._open(order_id, f"{step} could not be undone", causes)

    def not_completed(
        self, order_id: int, capture_id: str, cause: str
    ) -> SupportTicket:
        """Open a ticket: the card was captured, but the order is not completed."""
        problem = (
            f"the card was captured ({capture_id}) but the order could not be "
            "marked completed"
        )
        return self._open(order_id, problem, (cause,))

    def payment_gave_up(self, order_id: int, event: JobEvent) -> SupportTicket:
        """Open a ticket: the order's payment job failed for good."""
        kind = "failure" if event.decision is None else event.decision.kind
        return self._open(
            order_id,
            f"its payment job gave up after attempt {event.attempt}",
            (f"{event.reason}: {kind}",),
        )

    def _open(
        self, order_id: int, problem: str, causes: tuple[str, ...]
    ) -> SupportTicket:
        with self._lock:
            ticket = SupportTicket(len(self.tickets) + 1, order_id, problem, causes)
            self.tickets.append(ticket)
        return ticket


# The payment job ------------------------------------------------------------------

CAPTURE_JOB: Final = "capture_payment"
"""The payment job's name on the task queue."""

Update: TypeAlias = "JobStatus | str"
"""What a payment job reports: a new status, or a line of the worker's log."""


class JobFeed:
    """
    What each payment job reported, in order, by the job's id in the API.

    Its statuses are what the API relays to subscribers (a GraphQL
    subscription would yield them as they come); the worker's log lines are
    kept beside them so that a reader sees what led to each.
    """

    def __init__(self) -> None:
        """Start with nothing reported."""
        self._lock = threading.Lock()
        self._updates: dict[int, list[Update]] = {}

    def publish(self, payment_job_id: int, update: Update) -> None:
        """Add what the job reported."""
        with self._lock:
            self._updates.setdefault(payment_job_id, []).append(update)

    def updates(self, payment_job_id: int) -> list[Update]:
        """Everything the job reported so far, oldest first."""
        with self._lock:
            return list(self._updates.get(payment_job_id, ()))

    def statuses(self, payment_job_id: int) -> list[JobStatus]:
        """The statuses the job reported so far, oldest first."""
        return [u for u in self.updates(payment_job_id) if not isinstance(u, str)]


class PaymentWorker:
    """
    The payment job, as the task queue's worker runs it, and its hooks.

    `capture` is the job: it captures the card on the gateway, then marks the
    order completed. A gateway that is busy or down fails it, and the queue
    retries it under `policy`. Once the card is captured the job has done
    what only it can do: if the order then cannot be marked completed (the
    customer cancelled it meanwhile), support is told and the job succeeds,
    since running it again would not help. `report` relays each status to
    the API's subscribers; `gave_up` is the death handler (append it to
    `outcome.jobs.death_handlers`), which tells support about a job that
    failed for good.
    """

    def __init__(  # noqa: PLR0913 - the collaborators, then the timeouts
        self,
        database: str | PathLike[str],
        gateway_url: str,
        support: SupportDesk,
        feed: JobFeed,
        *,
        gateway_timeout: float = 10.0,
        busy_timeout: float = 5.0,
    ) -> None:
        """
        Set the worker up.

        Args:
            database: The shop's database file; each job opens it anew, in
                the worker's own thread or process.
            gateway_url: The payment gateway.
            support: Told about orders the job could not finish.
            feed: Where the job's statuses and log lines go.
            gateway_timeout: Seconds to wait for each answer of the gateway.
            busy_timeout: Seconds to wait for a lock on the shop's database.
        """
        self.database = database
        self.gateway_url = gateway_url
        self.support = support
        self.feed = feed
        self.gateway_timeout = gateway_timeout
        self.busy_timeout = busy_timeout
        self.job_name = CAPTURE_JOB
        self.policy = JobPolicy(
            retry=CAPTURE_RETRY, classifier=SHOP_CLASSIFIER, on_status=self.report
        )

    def capture(self, payment_job_id: int, order_id: int) -> str:
        """Capture the order's payment and complete the order; return the capture."""

        def log(line: str) -> None:
            self.feed.publish(payment_job_id, line)

        gateway = PaymentGateway(
            self.gateway_url, timeout=self.gateway_timeout, log=log
        )
        with Shop(self.database, busy_timeout=self.busy_timeout) as shop:
            job, order = shop.payment_job(payment_job_id), shop.order(order_id)
            if job is None or order is None:
                msg = (
                    f"payment job {payment_job_id} of order {order_id} is not recorded"
                )
                raise LookupError(msg)
            # Pay later: the process may have died before it marked the order
            # processing, or the shop cancelled the job. Nothing to capture.
            if order.status != "processing":
                log(f"job: order {order.id} is {order.status}: dropped")
                return "dropped"
            if not shop.start_payment_job(job.id):
                log(f"job: payment job {job.id} was cancelled: dropped")
                return "dropped"
            authorization_id = job.authorization_id or gateway.authorize(
                order, card_on_file(order.customer)
            )
            capture_id = gateway.capture(authorization_id, order, job.account)
            self._complete(shop, order.id, capture_id, log)
        return capture_id

    def _complete(
        self, shop: Shop, order_id: int, capture_id: str, log: Callable[[str], None]
    ) -> None:
        """Mark the order completed; if it cannot be, support must sort it out."""
        try:
            completed = shop.set_status(order_id, "completed", expected="processing")
        except sqlite3.Error as exc:
            cause = repr(exc)
        else:
            if completed:
                return
            order = shop.order(order_id)
            cause = f"it is {'missing' if order is None else order.status}"
        ticket = self.support.not_completed(order_id, capture_id, cause)
        log(f"support: ticket #{ticket.number} opened for order {order_id}")

    def report(self, event: JobEvent) -> None:
        """The job's ``on_status``: relay the new status to the API's subscribers."""
        payment_job_id, _order_id = _capture_arguments(event)
        self.feed.publish(payment_job_id, event.to_status())

    def gave_up(self, event: JobEvent) -> None:
        """The death handler: tell support about a payment job that failed for good."""
        if event.job_name != self.job_name:
            return
        payment_job_id, order_id = _capture_arguments(event)
        ticket = self.support.payment_gave_up(order_id, event)
        self.feed.publish(
            payment_job_id,
            f"support: ticket #{ticket.number} opened for order {order_id}",
        )


def _capture_arguments(event: JobEvent) -> tuple[int, int]:
    """The payment job's id in the API and its order's, from a job's event."""
    match event.args:
        case (int(payment_job_id), int(order_id)):
            return payment_job_id, order_id
        case _:
            msg = f"a {CAPTURE_JOB} job takes two ids, not {event.args!r}"
            raise TypeError(msg)


# The service --------------------------------------------------------------------


class _SagaOptions(TypedDict):
    """The options `Saga` and `DurableSaga` both take, as the service sets them."""

    classifier: Classifier
    on_step: Callable[[str, object], object]
    on_compensated: Callable[[str], object]
    on_stuck: Callable[[str, Errors], object]
    on_failure: Callable[[SagaFailure], object]
    retrying: Retrying


class CheckoutService:
    """Runs a checkout's saga against the shop's database and the gateway."""

    def __init__(  # noqa: PLR0913 - the collaborators, then what tests inject
        self,
        shop: Shop,
        gateway: PaymentGateway,
        support: SupportDesk,
        payments: PaymentQueue,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], object] = time.sleep,
        random: Callable[[], float] = _random.random,
        log: Callable[[str], object] = _ignore,
        journal: Journal | None = None,
    ) -> None:
        """
        Set the service up.

        Args:
            shop: The orders and the payment jobs enqueued for them.
            gateway: The card payment gateway.
            support: Told about orders that are stuck half-way.
            payments: The task queue the payment jobs go on.
            clock: The current time, timezone-aware.
            sleep: How retries wait.
            random: Jitter for the retries' backoff, in [0, 1).
            log: Told what each step did, for the logs.
            journal: Where the checkout saga records its steps, so that
                `recover` can end a checkout whose process died
                (`checkout_saga`); without one, such a checkout is left
                half-done.
        """
        self.shop = shop
        self.gateway = gateway
        self.support = support
        self.payments = payments
        self.clock = clock
        self.log = log
        self._sleep = sleep
        self._random = random
        # The order being checked out, for the hooks, which are not given the
        # context: a service runs one saga at a time (its Shop's connection
        # belongs to one thread).
        self._order_id: int | None = None
        self.checkout_saga: DurableSaga[CheckoutInput, Checkout] | None = (
            None
            if journal is None
            else DurableSaga(
                CHECKOUT_SAGA,
                CHECKOUT_STEPS,
                journal=journal,
                context=self._checkout_context,
                **self._saga_options(),
            )
        )
        """The durable checkout, to give `recover`; `None` without a journal."""

    def checkout(
        self, order_id: int, card: Card
    ) -> Result[dict[str, object], SagaFailure]:
        """
        Mark the order processing, authorise the card, enqueue the payment.

        Returns:
            ``Ok`` of each step's log by name, or ``Err(SagaFailure)`` after
            undoing the steps that completed.

        Raises:
            Exception: A bug, after the completed steps were undone.
        """
        if self.checkout_saga is not None:
            given = CheckoutInput(
                order_id=order_id,
                card_token=card.token,
                run_after=self.clock().isoformat(),
            )
            return self.checkout_saga.run(given)
        ctx = Checkout(
            self.shop,
            self.gateway,
            self.payments,
            order_id,
            self.clock(),
            card_token=card.token,
        )
        return self._run(CHECKOUT_STEPS, ctx)

    def _checkout_context(self, given: CheckoutInput, _saga_id: str) -> Checkout:
        """The durable checkout's context, from its input: here, or in `recover`."""
        self._order_id = given["order_id"]
        return Checkout(
            self.shop,
            self.gateway,
            self.payments,
            given["order_id"],
            datetime.fromisoformat(given["run_after"]),
            card_token=given["card_token"],
        )

    def checkout_pay_later(
        self, order_id: int
    ) -> Result[dict[str, object], SagaFailure]:
        """
        Enqueue the payment with a delay, then mark the order processing.

        The payment worker charges the customer's card on file when the job's
        time comes. Returns and raises as `checkout` does.
        """
        ctx = Checkout(
            self.shop,
            self.gateway,
            self.payments,
            order_id,
            self.clock() + PAY_LATER_DELAY,
            delay=PAY_LATER_DELAY.total_seconds(),
        )
        return self._run(PAY_LATER_STEPS, ctx)

    def payment_status(self, payment_job_id: int) -> JobStatus | None:
        """
        Return the latest status of a payment job, by its id in the API.

        What ``GET /payment-jobs/{id}`` answers, and what a subscription to it
        starts from; `None` for a job the shop never enqueued.
        """
        job = self.shop.payment_job(payment_job_id)
        return None if job is None else self.payments.status(job.job_id)

    def _run(
        self, steps: Sequence[Step[Checkout, Any]], ctx: Checkout
    ) -> Result[dict[str, object], SagaFailure]:
        self._order_id = ctx.order_id
        return Saga(steps, **self._saga_options()).run(ctx)

    def _saga_options(self) -> _SagaOptions:
        """The options of every saga the service runs: the shop's rules, its log."""
        return {
            "classifier": SHOP_CLASSIFIER,
            "on_step": lambda step, log: self.log(f"saga: {step} done, log {log!r}"),
            "on_compensated": lambda step: self.log(f"saga: {step} compensated"),
            "on_stuck": self._tell_support,
            "on_failure": lambda failure: self.log(failure.describe()),
            "retrying": Retrying(sleep=self._wait, random=self._random),
        }

    def _tell_support(self, step: str, errors: Errors) -> None:
        """The sagas' ``on_stuck``: open a ticket for the order being checked out."""
        order_id = self._order_id
        if order_id is None:  # the hooks run only once a context was made
            msg = f"step {step!r} is stuck, but no checkout is running"
            raise RuntimeError(msg)
        ticket = self.support.stuck_order(order_id, step, errors)
        self.log(f"support: ticket #{ticket.number} opened for order {order_id}")

    def _wait(self, seconds: float) -> None:
        self.log(f"retry: waiting {seconds:g} s")
        self._sleep(seconds)


# The API's answer ------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """What the API sends back: a status, its headers and a JSON body."""

    status: HTTPStatus
    body: Mapping[str, object]
    headers: Mapping[str, str] = field(
        default_factory=lambda: {"Content-Type": "application/json"}
    )


API_MESSAGES: Final = {
    "card_token.invalid": "is not a card token from our payment page",
    "invalid_expiry": "must be a month written MM/YY, such as 09/27",
    "declined": "Your card was declined. Try another card.",
    "rate_limit": "Card payments are busy. Try again in a minute.",
    "server": "Card payments are not working right now. Try again later.",
    "quota": "Card payments are unavailable right now. Try again later.",
    "timeout": "The card payment took too long. Try again in a moment.",
    "busy": "The shop is busy. Try again in a moment.",
    "not_found": "There is no such order.",
    "not_pending": "This order is {status}, so it cannot be checked out.",
    "order_stuck": (
        "Your order is stuck half-way. Our support team has been told and will "
        "sort it out."
    ),
}
"""The shop's messages, by code, for what the saga's errors mean to a customer."""

PROBLEMS: Final = Problems(catalog=API_MESSAGES)
"""How the API answers failures: outcome's statuses, in the shop's words."""


def respond(service: CheckoutService, order_id: int, form: CheckoutForm) -> Response:
    """Answer ``POST /orders/{order_id}/checkout`` with the given form."""
    match parse_form(form, service.clock().date()):
        case Err(errors):
            return problem(errors)
        case Ok(card):
            return _run(service, order_id, lambda: service.checkout(order_id, card))


def respond_pay_later(service: CheckoutService, order_id: int) -> Response:
    """Answer ``POST /orders/{order_id}/pay-later``."""
    return _run(service, order_id, lambda: service.checkout_pay_later(order_id))


def problem(errors: Errors) -> Response:
    """Answer with RFC 9457 problem details; bugs are shown only as a reference."""
    answer = PROBLEMS.answer(errors)
    return Response(HTTPStatus(answer.status), answer.body, answer.headers)


def _run(
    service: CheckoutService,
    order_id: int,
    checkout: Callable[[], Result[dict[str, object], SagaFailure]],
) -> Response:
    if service.shop.order(order_id) is None:
        return problem(Errors([ErrorDetail(None, "not_found")]))
    try:
        result = checkout()
    except Exception as exc:  # noqa: BLE001 - the edge of the API: every request gets an answer
        errors = Errors()
        detail = errors.add_exception(exc, classifier=SHOP_CLASSIFIER)
        service.log(f"log: {detail!r}")
        for note in getattr(exc, "__notes__", ()):
            service.log(f"log: note: {note}")
        return problem(errors)
    match result:
        case Ok(logs):
            body: dict[str, object] = {
                "order": order_id,
                "status": "processing",
                "payment_job": logs["enqueue_payment"],
            }
            return Response(HTTPStatus.ACCEPTED, body)
        case Err(failure):
            return problem(failure.errors)
