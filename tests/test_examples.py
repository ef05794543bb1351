"""Tests for the runnable examples under examples/."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from outcome import Bucket, Err, Ok

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "examples" / "checkout"
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)  # the time the demo runs at


def _load(name: str) -> ModuleType:
    # Loaded under a name of its own, so nothing called `service` lands in
    # sys.modules. Dataclasses look their module up there, hence the entry.
    spec = importlib.util.spec_from_file_location(
        f"checkout_{name}", CHECKOUT / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


service = _load("service")
gateway_server = _load("gateway")


def _run_demo(
    script: Path | str, cwd: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - runs this interpreter on a file of ours
        [sys.executable, "-W", "error", str(script), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _sections(output: str) -> dict[int, list[str]]:
    """Split the demo's output by numbered heading into stripped lines."""
    sections: dict[int, list[str]] = {}
    number = 0
    for line in output.splitlines():
        heading = re.match(r"(\d+)\. ", line)
        if heading:
            number = int(heading[1])
        sections.setdefault(number, []).append(line.strip())
    return sections


def _body(lines: list[str]) -> dict[str, Any]:
    """The JSON body the API answered, from a scenario's lines."""
    text = "\n".join(lines[lines.index("{") :])
    parsed: dict[str, Any] = json.JSONDecoder().raw_decode(text)[0]
    return parsed


@pytest.fixture(scope="class")
def demo() -> subprocess.CompletedProcess[str]:
    """The checkout demo, run the way `make demo` runs it."""
    return _run_demo("examples/checkout", ROOT)


@pytest.fixture(scope="class")
def sections(demo: subprocess.CompletedProcess[str]) -> dict[int, list[str]]:
    """The demo's output, by scenario number."""
    return _sections(demo.stdout)


class TestCheckoutDemo:
    """`python examples/checkout` prints each scenario's answer and final state."""

    def test_runs_cleanly(self, demo: subprocess.CompletedProcess[str]) -> None:
        """The demo exits 0 without writing to stderr, even with warnings as errors."""
        assert demo.returncode == 0, demo.stderr
        assert demo.stderr == ""

    def test_runs_from_any_directory(
        self, demo: subprocess.CompletedProcess[str], tmp_path: Path
    ) -> None:
        """Started elsewhere, it prints the same, and --database keeps the file."""
        elsewhere = _run_demo(CHECKOUT, tmp_path, "--database", "shop.sqlite3")

        assert elsewhere.returncode == 0, elsewhere.stderr
        assert elsewhere.stdout == demo.stdout
        with contextlib.closing(sqlite3.connect(tmp_path / "shop.sqlite3")) as kept:
            statuses = kept.execute("SELECT status FROM orders ORDER BY id").fetchall()
        assert [status for (status,) in statuses] == [
            "pending",
            "processing",
            "pending",
            "processing",
            "pending",
            "pending",
            "pending",
            "processing",
            "pending",
            "cancelled",
        ]

    def test_prints_no_port(self, demo: subprocess.CompletedProcess[str]) -> None:
        """The gateway's port changes from run to run, so it is never printed."""
        assert "127.0.0.1" not in demo.stdout

    def test_every_scenario_runs(self, sections: dict[int, list[str]]) -> None:
        """Ten scenarios, each with an HTTP status line and its order's state."""
        assert sorted(sections) == list(range(1, 11))
        for number in range(1, 11):
            lines = sections[number]
            assert any(line.startswith("HTTP/1.1 ") for line in lines), number
            assert any(line.startswith(f"order {number}: ") for line in lines), number

    def test_form_mistakes_are_reported_together(
        self, sections: dict[int, list[str]]
    ) -> None:
        """Three mistakes in the form make one 422; the saga never starts."""
        lines = sections[1]
        body = _body(lines)

        assert "HTTP/1.1 422 Unprocessable Entity" in lines
        assert [(e["pointer"], e["code"]) for e in body["errors"]] == [
            ("#/card_token", "blank"),
            ("#/card_expiry", "invalid_expiry"),
            ("#/terms_accepted", "accepted"),
        ]
        assert not any(line.startswith(("saga:", "gateway: POST")) for line in lines)
        assert "order 1: pending" in lines

    def test_happy_path(self, sections: dict[int, list[str]]) -> None:
        """The order is processing and its payment queued with the authorisation."""
        lines = sections[2]

        assert "HTTP/1.1 202 Accepted" in lines
        assert _body(lines) == {"order": 2, "status": "processing", "payment_job": 1}
        assert "order 2: processing" in lines
        assert (
            "payment queue: job 1 on capture-eu: capture auth_0001, 2400 EUR cents, "
            "run after 2025-06-15T12:00:00+00:00: queued"
        ) in lines
        assert "gateway: auth_0001 for 2400 EUR cents: authorized" in lines

    def test_declined_card(self, sections: dict[int, list[str]]) -> None:
        """A declined card is a 422 the customer can act on; nothing is left."""
        lines = sections[3]

        assert "gateway: POST /v1/authorizations -> 402 card_declined" in lines
        assert "retry: waiting" not in " ".join(lines)
        assert "HTTP/1.1 422 Unprocessable Entity" in lines
        assert _body(lines)["errors"] == [
            {
                "detail": "Your card was declined. Try another card.",
                "pointer": "#",
                "code": "declined",
            }
        ]
        assert "saga: mark_processing compensated" in lines
        assert "order 3: pending" in lines
        assert "payment queue: nothing for this order" in lines

    def test_rate_limit_waits_for_retry_after(
        self, sections: dict[int, list[str]]
    ) -> None:
        """After a 429 asking for 1 s, the step waits 1 s and succeeds."""
        lines = sections[4]
        rate_limited = (
            "gateway: POST /v1/authorizations -> 429 rate_limit_exceeded, "
            "Retry-After: 1"
        )

        assert lines.index(rate_limited) + 1 == lines.index("retry: waiting 1 s")
        assert "HTTP/1.1 202 Accepted" in lines
        assert "order 4: processing" in lines

    def test_gateway_down(self, sections: dict[int, list[str]]) -> None:
        """Three 503s, with backoff between them, then a 503 and a pending order."""
        lines = sections[5]
        answers = [line for line in lines if "POST /v1/authorizations" in line]

        assert (
            answers
            == ["gateway: POST /v1/authorizations -> 503 service_unavailable"] * 3
        )
        assert [line for line in lines if line.startswith("retry:")] == [
            "retry: waiting 0.25 s",
            "retry: waiting 0.5 s",
        ]
        assert "HTTP/1.1 503 Service Unavailable" in lines
        assert _body(lines)["errors"][0]["code"] == "server"
        assert "order 5: pending" in lines

    def test_quota_is_not_retried(self, sections: dict[int, list[str]]) -> None:
        """An exhausted quota is asked for once and reported as unavailable."""
        lines = sections[6]
        answers = [line for line in lines if "POST /v1/authorizations" in line]

        assert answers == ["gateway: POST /v1/authorizations -> 429 insufficient_quota"]
        assert _body(lines)["errors"][0]["code"] == "quota"
        assert "HTTP/1.1 503 Service Unavailable" in lines
        assert "order 6: pending" in lines

    def test_timeout_voids_what_may_have_been_authorised(
        self, sections: dict[int, list[str]]
    ) -> None:
        """The gateway authorised although the shop timed out: the hold is voided."""
        lines = sections[7]

        assert (
            lines.count("gateway: POST /v1/authorizations -> no answer within 0.25 s")
            == 3
        )
        assert "gateway: POST /v1/voids -> 200 ['auth_0003']" in lines
        assert _body(lines)["errors"][0]["code"] == "timeout"
        assert "order 7: pending" in lines
        assert "gateway: auth_0003 for 4100 EUR cents: voided" in lines

    def test_double_failure_tells_support(self, sections: dict[int, list[str]]) -> None:
        """Enqueue and put-back both fail: both are reported, support gets a ticket."""
        lines = sections[8]

        assert "HTTP/1.1 503 Service Unavailable" in lines
        assert [e["code"] for e in _body(lines)["errors"]] == ["busy", "order_stuck"]
        assert (
            "saga step 'enqueue_payment' failed; compensated: 'authorize_payment'; "
            "could not compensate: 'mark_processing'"
        ) in lines
        assert "order 8: processing" in lines
        assert "payment queue: nothing for this order" in lines
        assert "gateway: auth_0004 for 5600 EUR cents: voided" in lines
        assert (
            "support: ticket #1: order 8 is stuck, mark_processing could not be "
            "undone (OperationalError('database is locked'))"
        ) in lines

    def test_bug_is_redacted_with_a_reference(
        self, sections: dict[int, list[str]]
    ) -> None:
        """A KeyError is a 500 with a reference; the log has the detail and notes."""
        lines = sections[9]
        body = _body(lines)
        (error,) = body["errors"]
        log = next(line for line in lines if line.startswith("log: ErrorDetail("))

        assert "HTTP/1.1 500 Internal Server Error" in lines
        assert error["code"] == "internal_error"
        assert re.fullmatch(r"ERR-[0-9a-f]{10}", error["reference"])
        assert "GBP" not in json.dumps(body)
        assert "cause=KeyError('GBP')" in log
        assert f"reference='{error['reference']}'" in log
        assert (
            "log: note: saga step 'enqueue_payment' failed; compensated: "
            "'authorize_payment', 'mark_processing'; could not compensate: none"
        ) in lines
        assert "order 9: pending" in lines
        assert "gateway: auth_0005 for 2000 GBP cents: voided" in lines

    def test_pay_later_cancels_the_delayed_job(
        self, sections: dict[int, list[str]]
    ) -> None:
        """The job enqueued with a delay is cancelled when the order is not pending."""
        lines = sections[10]

        assert lines.index("saga: enqueue_payment done, log 3") < lines.index(
            "saga: enqueue_payment compensated"
        )
        assert "HTTP/1.1 409 Conflict" in lines
        assert _body(lines)["errors"][0]["detail"] == (
            "This order is cancelled, so it cannot be checked out."
        )
        assert "order 10: cancelled" in lines
        assert (
            "payment queue: job 3 on capture-eu: authorise and capture, 1500 EUR "
            "cents, run after 2025-06-15T12:05:00+00:00: cancelled"
        ) in lines


# The service, called directly ---------------------------------------------------

CARD = service.Card("tok_visa", "09/27")


@pytest.fixture
def gateway() -> Iterator[Any]:
    """A running fake gateway that answers slowly, when told to, after 0.3 s."""
    with gateway_server.FakeGateway(slow_answer_after=0.3) as running:
        yield running


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Where the shop's SQLite file goes."""
    return tmp_path / "shop.sqlite3"


@pytest.fixture
def shop(database: Path) -> Iterator[Any]:
    """The shop's database, giving up on a lock after 50 ms."""
    with service.Shop(database, busy_timeout=0.05) as opened:
        yield opened


@pytest.fixture
def waits() -> list[float]:
    """The seconds each retry would have slept."""
    return []


@pytest.fixture
def checkout(shop: Any, gateway: Any, waits: list[float]) -> Any:
    """The checkout service, waiting for the gateway 0.1 s and never sleeping."""
    return service.CheckoutService(
        shop,
        service.PaymentGateway(gateway.url, timeout=0.1),
        service.SupportDesk(),
        clock=lambda: NOW,
        sleep=waits.append,
        random=lambda: 0.5,
    )


def _order(shop: Any, currency: str = "EUR", status: str = "pending") -> int:
    order_id: int = shop.add_order("Ada", 2400, currency, status)
    return order_id


def _failure(result: Any) -> Any:
    assert isinstance(result, Err), result
    return result.err_value


class TestCheckoutSaga:
    """`CheckoutService` returns each scenario's outcome as a value."""

    def test_happy_path(self, checkout: Any, shop: Any, gateway: Any) -> None:
        """Every step's log comes back; the order is processing, the job queued."""
        order_id = _order(shop)

        result = checkout.checkout(order_id, CARD)

        assert result == Ok(
            {
                "mark_processing": "pending",
                "authorize_payment": "auth_0001",
                "enqueue_payment": 1,
            }
        )
        assert shop.order(order_id).status == "processing"
        assert shop.payment_jobs(order_id) == [
            service.PaymentJob(
                1,
                order_id,
                "capture-eu",
                2400,
                "EUR",
                "auth_0001",
                NOW.isoformat(),
                "queued",
            )
        ]
        assert [a.status for a in gateway.authorizations(order_id)] == ["authorized"]

    def test_declined_card(
        self, checkout: Any, shop: Any, gateway: Any, waits: list[float]
    ) -> None:
        """A decline is not retried; the order goes back to pending."""
        order_id = _order(shop)

        failure = _failure(
            checkout.checkout(order_id, service.Card(gateway_server.DECLINED_CARD, ""))
        )

        assert failure.step == "authorize_payment"
        assert failure.compensated == ("authorize_payment", "mark_processing")
        assert failure.stuck == ()
        assert failure.original.codes() == ["declined"]
        assert failure.original.bucket is Bucket.USER_FIXABLE
        assert failure.cause.status_code == HTTPStatus.PAYMENT_REQUIRED
        assert waits == []
        assert shop.order(order_id).status == "pending"
        assert shop.payment_jobs(order_id) == []
        assert gateway.authorizations(order_id) == []

    def test_rate_limit_is_waited_out(
        self, checkout: Any, shop: Any, gateway: Any, waits: list[float]
    ) -> None:
        """A 429 with Retry-After: 1 is retried after 1 s, and the checkout passes."""
        order_id = _order(shop)
        gateway.fail_next(gateway_server.Fault.RATE_LIMITED)

        result = checkout.checkout(order_id, CARD)

        assert result.is_ok()
        assert waits == [1.0]
        assert shop.order(order_id).status == "processing"

    def test_gateway_down(
        self, checkout: Any, shop: Any, gateway: Any, waits: list[float]
    ) -> None:
        """503 on every try: three tries with backoff, then undone."""
        order_id = _order(shop)
        gateway.fail_next(gateway_server.Fault.UNAVAILABLE, times=3)

        failure = _failure(checkout.checkout(order_id, CARD))

        assert failure.original.codes() == ["server"]
        assert failure.original.bucket is Bucket.USER_VISIBLE
        assert waits == [0.25, 0.5]
        assert failure.compensated == ("authorize_payment", "mark_processing")
        assert shop.order(order_id).status == "pending"

    def test_quota_is_not_retried(
        self, checkout: Any, shop: Any, gateway: Any, waits: list[float]
    ) -> None:
        """A 429 for an exhausted quota is user-visible and not worth a retry."""
        order_id = _order(shop)
        gateway.fail_next(gateway_server.Fault.QUOTA_EXCEEDED, times=3)

        failure = _failure(checkout.checkout(order_id, CARD))

        assert failure.original.codes() == ["quota"]
        assert failure.original.bucket is Bucket.USER_VISIBLE
        assert waits == []
        assert shop.order(order_id).status == "pending"

    def test_timeout_voids_by_idempotency_key(
        self, checkout: Any, shop: Any, gateway: Any, waits: list[float]
    ) -> None:
        """Unanswered tries made one hold (same key); compensate_failed voids it."""
        order_id = _order(shop)
        gateway.fail_next(gateway_server.Fault.SLOW, times=3)

        failure = _failure(checkout.checkout(order_id, CARD))

        assert failure.original.codes() == ["timeout"]
        assert isinstance(failure.cause, TimeoutError)
        assert waits == [0.25, 0.5]
        assert failure.compensated == ("authorize_payment", "mark_processing")
        assert [a.status for a in gateway.authorizations(order_id)] == ["voided"]
        assert shop.order(order_id).status == "pending"

    def test_double_failure(
        self, checkout: Any, shop: Any, gateway: Any, database: Path
    ) -> None:
        """The database locks after authorising: the order is stuck, support told."""
        order_id = _order(shop)
        locker = sqlite3.connect(
            database, isolation_level=None, check_same_thread=False
        )
        gateway.meanwhile(lambda: locker.execute("BEGIN EXCLUSIVE"))
        try:
            failure = _failure(checkout.checkout(order_id, CARD))
        finally:
            locker.execute("ROLLBACK")
            locker.close()

        assert failure.step == "enqueue_payment"
        assert failure.compensated == ("authorize_payment",)
        assert failure.stuck == ("mark_processing",)
        assert failure.original.codes() == ["busy"]
        assert failure.compensation_errors["mark_processing"].codes() == ["order_stuck"]
        assert failure.errors.codes() == ["busy", "order_stuck"]
        assert checkout.support.tickets == [
            service.SupportTicket(
                1,
                order_id,
                "mark_processing",
                ("OperationalError('database is locked')",),
            )
        ]
        assert shop.order(order_id).status == "processing"
        assert shop.payment_jobs(order_id) == []
        assert [a.status for a in gateway.authorizations(order_id)] == ["voided"]

    def test_bug_compensates_then_raises(
        self, checkout: Any, shop: Any, gateway: Any
    ) -> None:
        """A KeyError undoes both completed steps, then propagates with a note."""
        order_id = _order(shop, currency="GBP")

        with pytest.raises(KeyError, match="GBP") as raised:
            checkout.checkout(order_id, CARD)

        assert raised.value.__notes__ == [
            (
                "saga step 'enqueue_payment' failed; compensated: "
                "'authorize_payment', 'mark_processing'; could not compensate: none"
            )
        ]
        assert shop.order(order_id).status == "pending"
        assert [a.status for a in gateway.authorizations(order_id)] == ["voided"]

    def test_pay_later(self, checkout: Any, shop: Any, gateway: Any) -> None:
        """Pay later enqueues first, with a delay and no authorisation."""
        order_id = _order(shop)

        result = checkout.checkout_pay_later(order_id)

        assert result == Ok({"enqueue_payment": 1, "mark_processing": "pending"})
        (job,) = shop.payment_jobs(order_id)
        assert job.run_after == (NOW + timedelta(minutes=5)).isoformat()
        assert job.authorization_id is None
        assert job.status == "queued"
        assert shop.order(order_id).status == "processing"
        assert gateway.authorizations() == []

    def test_pay_later_cancels_the_job_when_the_update_fails(
        self, checkout: Any, shop: Any
    ) -> None:
        """A cancelled order is not marked processing, so its job is cancelled."""
        order_id = _order(shop, status="cancelled")

        failure = _failure(checkout.checkout_pay_later(order_id))

        assert failure.step == "mark_processing"
        assert failure.compensated == ("enqueue_payment",)
        assert failure.original.codes() == ["not_pending"]
        assert [job.status for job in shop.payment_jobs(order_id)] == ["cancelled"]
        assert shop.order(order_id).status == "cancelled"


class TestCheckoutApi:
    """`respond` turns the saga's outcome into problem details."""

    def test_form_errors_accumulate(self) -> None:
        """Every mistake in the form is reported, each under its field."""
        form = service.CheckoutForm("card", "05/25", terms_accepted=False)

        result = service.parse_form(form, NOW.date())

        assert isinstance(result, Err)
        assert [(e.path, e.code) for e in result.err_value] == [
            (("card_token",), "invalid"),
            (("card_expiry",), "expired"),
            (("terms_accepted",), "accepted"),
        ]

    def test_form_is_read(self) -> None:
        """A good form gives the card, its expiry written MM/YY."""
        form = service.CheckoutForm(" tok_visa ", "06/25", terms_accepted=True)

        assert service.parse_form(form, NOW.date()) == Ok(
            service.Card("tok_visa", "06/25")
        )

    def test_unknown_order_is_404(self, checkout: Any) -> None:
        """An order id that does not exist is answered 404, before any step."""
        response = service.respond(
            checkout,
            404,
            service.CheckoutForm("tok_visa", "09/27", terms_accepted=True),
        )

        assert response.status == HTTPStatus.NOT_FOUND
        assert response.body["errors"][0]["code"] == "not_found"

    def test_bug_is_redacted(self, checkout: Any, shop: Any) -> None:
        """A bug answers 500 with a reference; its text goes to the log only."""
        logged: list[str] = []
        checkout.log = logged.append
        order_id = _order(shop, currency="GBP")
        form = service.CheckoutForm("tok_visa", "09/27", terms_accepted=True)

        response = service.respond(checkout, order_id, form)

        (error,) = response.body["errors"]
        assert response.status == HTTPStatus.INTERNAL_SERVER_ERROR
        assert error["code"] == "internal_error"
        assert "GBP" not in json.dumps(response.body)
        assert any(
            "KeyError('GBP')" in line and error["reference"] in line for line in logged
        )
