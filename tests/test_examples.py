"""Tests for the runnable examples under examples/."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import redis

from outcome import Bucket, Err, Ok
from outcome.jobs import JobEvent, death_handlers

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "examples" / "checkout"
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)  # the time the demo runs at
# The demo must stay well under this; a run past it fails.
DEMO_TIMEOUT = 30.0
# Fixed, so that a bug's reference is the same in every run the tests compare.
REFERENCE_KEY = "tests-of-the-checkout-demo"
REDIS_URL = os.environ.get("OUTCOME_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT = 20.0  # seconds a test waits for a payment job, far beyond what any takes


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
jobs = _load("jobs")


def _run_demo(
    script: Path | str, cwd: Path, *arguments: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTCOME_REFERENCE_KEY": REFERENCE_KEY, **environment}
    if "CHECKOUT_ENGINE" not in environment:
        env.pop("CHECKOUT_ENGINE", None)  # the default engine, as `make demo` runs
    return subprocess.run(  # noqa: S603 - runs this interpreter on a file of ours
        [sys.executable, "-W", "error", str(script), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=DEMO_TIMEOUT,
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


def _job_lines(lines: list[str]) -> list[str]:
    """What a scenario printed of its payment jobs: subscription and worker lines."""
    return [line for line in lines if line.startswith(("subscription: ", "worker: "))]


def _redis() -> redis.Redis:
    """The test Redis, or a skip (a failure under CI=true) saying why."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = (
            f"no Redis answers at {REDIS_URL} ({exc}); start one or set "
            "OUTCOME_TEST_REDIS_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the demo on Celery, not skip it")
        pytest.skip(reason)
    return client


@pytest.fixture(scope="module")  # module-wide, so that it can skip before `demo` runs
def store() -> redis.Redis:
    """The Redis the demo runs Celery on."""
    return _redis()


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    """The checkout demo, run the way `make demo` runs it."""
    return _run_demo("examples/checkout", ROOT)


@pytest.fixture(scope="module")
def sections(demo: subprocess.CompletedProcess[str]) -> dict[int, list[str]]:
    """The demo's output, by scenario number (0: what comes before the first)."""
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
            "completed",
            "pending",
            "completed",
            "pending",
            "pending",
            "pending",
            "processing",
            "pending",
            "cancelled",
            "completed",
            "processing",
            "processing",
            "cancelled",
            "pending",
        ]

    def test_prints_no_port(self, demo: subprocess.CompletedProcess[str]) -> None:
        """The gateway's port changes from run to run, so it is never printed."""
        assert "127.0.0.1" not in demo.stdout

    def test_every_scenario_runs(self, sections: dict[int, list[str]]) -> None:
        """Fifteen scenarios with their orders' states; all but one answer HTTP."""
        assert sorted(sections) == list(range(16))
        for number in range(1, 16):
            lines = sections[number]
            answered = any(line.startswith("HTTP/1.1 ") for line in lines)
            assert answered is (number != 15), number
            assert any(line.startswith(f"order {number}: ") for line in lines), number

    def test_names_its_engine(self, sections: dict[int, list[str]]) -> None:
        """Before the scenarios, the demo says what runs its payment jobs."""
        assert sections[0] == [
            (
                "Payment jobs run on Huey with SQLite, worked by a consumer in this "
                "process."
            ),
            "",
        ]

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
        """The API answers 202 processing; the job then captures the card."""
        lines = sections[2]

        assert "HTTP/1.1 202 Accepted" in lines
        assert _body(lines) == {"order": 2, "status": "processing", "payment_job": 1}
        assert _job_lines(lines) == [
            "subscription: payment job 1: queued",
            "subscription: payment job 1: running, attempt 1",
            "worker: gateway: POST /v1/captures -> 201 cap_0001",
            "subscription: payment job 1: succeeded, attempt 1",
        ]
        assert "order 2: completed" in lines
        assert (
            "payment job 1 on acct_eu: capture auth_0001, 2400 EUR cents, "
            "run after 2025-06-15T12:00:00+00:00: succeeded"
        ) in lines
        assert "gateway: auth_0001 for 2400 EUR cents: captured (cap_0001)" in lines
        assert not any(line.startswith("support:") for line in lines)

    def test_declined_card(self, sections: dict[int, list[str]]) -> None:
        """A declined card is a 402 the customer can act on; nothing is left."""
        lines = sections[3]

        assert "gateway: POST /v1/authorizations -> 402 card_declined" in lines
        assert "retry: waiting" not in " ".join(lines)
        assert "HTTP/1.1 402 Payment Required" in lines
        assert "Content-Type: application/problem+json" in lines
        assert _body(lines)["errors"] == [
            {
                "detail": "Your card was declined. Try another card.",
                "pointer": "#",
                "code": "declined",
            }
        ]
        assert "saga: mark_processing compensated" in lines
        assert "order 3: pending" in lines
        assert "payment jobs: none for this order" in lines

    def test_rate_limit_waits_for_retry_after(
        self, sections: dict[int, list[str]]
    ) -> None:
        """After a 429 asking for 1 s, the step waits 1 s and a jitter, and succeeds."""
        lines = sections[4]
        rate_limited = (
            "gateway: POST /v1/authorizations -> 429 rate_limit_exceeded, "
            "Retry-After: 1"
        )

        assert lines.index(rate_limited) + 1 == lines.index("retry: waiting 1.05 s")
        assert "HTTP/1.1 202 Accepted" in lines
        assert "order 4: completed" in lines

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
        assert "payment jobs: none for this order" in lines
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
        assert _job_lines(lines) == ["subscription: payment job 3: queued"]
        assert "order 10: cancelled" in lines
        assert (
            "payment job 3 on acct_eu: authorise and capture, 1500 EUR "
            "cents, run after 2025-06-15T12:05:00+00:00: cancelled"
        ) in lines

    def test_capture_rate_limited_goes_back_on_the_queue(
        self, sections: dict[int, list[str]]
    ) -> None:
        """A 429 on capture: retried through the queue after Retry-After, then done."""
        lines = sections[11]

        assert "HTTP/1.1 202 Accepted" in lines
        assert _job_lines(lines) == [
            "subscription: payment job 4: queued",
            "subscription: payment job 4: running, attempt 1",
            (
                "worker: gateway: POST /v1/captures -> 429 rate_limit_exceeded, "
                "Retry-After: 1"
            ),
            (
                "subscription: payment job 4: retrying in 2 s, attempt 1 failed "
                "(rate_limit)"
            ),
            "subscription: payment job 4: running, attempt 2",
            "worker: gateway: POST /v1/captures -> 201 cap_0003",
            "subscription: payment job 4: succeeded, attempt 2",
        ]
        assert "order 11: completed" in lines
        assert "gateway: auth_0006 for 3000 EUR cents: captured (cap_0003)" in lines
        assert not any(line.startswith("support:") for line in lines)

    def test_capture_quota_fails_fast_and_the_customer_is_told(
        self, sections: dict[int, list[str]]
    ) -> None:
        """A quota 429 on capture: one attempt, then the shop's message for it."""
        lines = sections[12]

        assert _job_lines(lines) == [
            "subscription: payment job 5: queued",
            "subscription: payment job 5: running, attempt 1",
            "worker: gateway: POST /v1/captures -> 429 insufficient_quota",
            (
                "subscription: payment job 5: failed, attempt 1 (discarded: quota): "
                "Card payments are unavailable right now. Try again later."
            ),
            "worker: support: ticket #2 opened for order 12",
        ]
        assert "order 12: processing" in lines
        assert "gateway: auth_0007 for 2750 EUR cents: authorized" in lines
        assert (
            "payment job 5 on acct_eu: capture auth_0007, 2750 EUR cents, run after "
            "2025-06-15T12:00:00+00:00: failed"
        ) in lines

    def test_capture_down_throughout_tells_support_once(
        self, sections: dict[int, list[str]]
    ) -> None:
        """503 on every attempt: three attempts, one death handler, one ticket."""
        lines = sections[13]
        job_lines = _job_lines(lines)

        assert [line for line in job_lines if "POST /v1/captures" in line] == [
            "worker: gateway: POST /v1/captures -> 503 service_unavailable"
        ] * 3
        assert [line for line in job_lines if line.startswith("subscription:")] == [
            "subscription: payment job 6: queued",
            "subscription: payment job 6: running, attempt 1",
            "subscription: payment job 6: retrying in 1 s, attempt 1 failed (server)",
            "subscription: payment job 6: running, attempt 2",
            "subscription: payment job 6: retrying in 1 s, attempt 2 failed (server)",
            "subscription: payment job 6: running, attempt 3",
            (
                "subscription: payment job 6: failed, attempt 3 (exhausted: server): "
                "Card payments are not working right now. Try again later."
            ),
        ]
        assert job_lines[-1] == "worker: support: ticket #3 opened for order 13"
        assert [line for line in lines if line.startswith("support:")] == [
            (
                "support: ticket #3: order 13 is stuck, its payment job gave up after "
                "attempt 3 (exhausted: server)"
            )
        ]
        assert "order 13: processing" in lines

    def test_captured_but_not_completed_tells_support(
        self, sections: dict[int, list[str]]
    ) -> None:
        """Cancelled meanwhile: the job succeeds, and support hears of the order."""
        lines = sections[14]

        assert _job_lines(lines) == [
            "subscription: payment job 7: queued",
            "subscription: payment job 7: running, attempt 1",
            "worker: gateway: POST /v1/captures -> 201 cap_0004",
            "worker: support: ticket #4 opened for order 14",
            "subscription: payment job 7: succeeded, attempt 1",
        ]
        assert "order 14: cancelled" in lines
        assert "gateway: auth_0009 for 4400 EUR cents: captured (cap_0004)" in lines
        assert (
            "support: ticket #4: order 14 is stuck, the card was captured (cap_0004) "
            "but the order could not be marked completed (it is cancelled)"
        ) in lines

    def test_killed_checkout_is_recovered(self, sections: dict[int, list[str]]) -> None:
        """Killed after authorising: recover() voids the hold, puts the order back."""
        lines = sections[15]
        recovering = lines.index("recover: once the lease of 300 s has run out")
        before, after = lines[:recovering], lines[recovering:]

        assert [line for line in before if line.startswith("that process: ")] == [
            "that process: saga: mark_processing done, log 'pending'",
            "that process: gateway: POST /v1/authorizations -> 201 auth_0010",
            "that process: saga: authorize_payment done, log 'auth_0010'",
            "that process: killed (SIGKILL): no answer, nothing undone",
        ]
        assert "order 15: processing" in before
        assert "gateway: auth_0010 for 3600 EUR cents: authorized" in before
        assert after[1:] == [
            "gateway: POST /v1/voids -> 200 ['auth_0010']",
            "saga: authorize_payment compensated",
            "saga: mark_processing compensated",
            (
                "saga step 'enqueue_payment' failed; compensated: "
                "'authorize_payment', 'mark_processing'; could not compensate: none"
            ),
            "recover: saga 'checkout' compensated (interrupted)",
            "order 15: pending",
            "payment jobs: none for this order",
            "gateway: auth_0010 for 3600 EUR cents: voided",
            "",
        ]


class TestEngineChoice:
    """The same payment job runs on Celery with Redis, chosen by flag or variable."""

    def test_celery_prints_what_huey_prints(
        self, store: redis.Redis, sections: dict[int, list[str]]
    ) -> None:
        """On the real Redis, every scenario prints what it prints on Huey."""
        on_celery = _run_demo(
            "examples/checkout",
            ROOT,
            "--engine",
            "celery",
            CHECKOUT_REDIS_URL=REDIS_URL,
        )

        assert on_celery.returncode == 0, on_celery.stderr
        assert on_celery.stderr == ""
        by_number = _sections(on_celery.stdout)
        assert by_number[0][0] == (
            "Payment jobs run on Celery with Redis, worked by a worker in this process."
        )
        assert {n: lines for n, lines in by_number.items() if n} == {
            n: lines for n, lines in sections.items() if n
        }
        # The run's own queue is gone, the pay-later job it held back included.
        assert list(store.scan_iter("*checkout-payments-*")) == []

    def test_engine_from_the_environment_is_checked(self) -> None:
        """CHECKOUT_ENGINE=rq is refused, naming the value and where it came from."""
        refused = _run_demo("examples/checkout", ROOT, CHECKOUT_ENGINE="rq")

        assert refused.returncode == 2
        assert refused.stdout == ""
        assert (
            "the engine must be huey or celery, not 'rq' (from --engine or "
            "CHECKOUT_ENGINE)"
        ) in refused.stderr

    def test_no_redis_is_a_clear_error(self) -> None:
        """With no Redis at CHECKOUT_REDIS_URL, the demo says so and exits 1."""
        nowhere = "redis://127.0.0.1:1/0"

        refused = _run_demo(
            "examples/checkout",
            ROOT,
            "--engine",
            "celery",
            CHECKOUT_REDIS_URL=nowhere,
        )

        assert refused.returncode == 1
        assert refused.stdout == ""
        assert f"no Redis answers at {nowhere}" in refused.stderr
        assert "Traceback" not in refused.stderr


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


class RecordingQueue:
    """A payment queue that only records what the saga asks of it."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[Any, float]] = []
        self.cancelled: list[str] = []
        self.failure: Exception | None = None

    def enqueue(self, job: Any, *, delay: float) -> None:
        """Record the job, or raise `failure` if set."""
        if self.failure is not None:
            raise self.failure
        self.enqueued.append((job, delay))

    def cancel(self, job_id: str) -> None:
        """Record the cancelled job's id."""
        self.cancelled.append(job_id)

    def status(self, job_id: str) -> None:
        """No job runs, so none has a status."""


@pytest.fixture
def queue() -> RecordingQueue:
    """A payment queue no worker reads."""
    return RecordingQueue()


@pytest.fixture
def support() -> Any:
    """The support desk, with no tickets yet."""
    return service.SupportDesk()


@pytest.fixture
def checkout(
    shop: Any, gateway: Any, support: Any, queue: RecordingQueue, waits: list[float]
) -> Any:
    """The checkout service, waiting for the gateway 0.1 s and never sleeping."""
    return service.CheckoutService(
        shop,
        service.PaymentGateway(gateway.url, timeout=0.1),
        support,
        queue,
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

    def test_happy_path(
        self, checkout: Any, shop: Any, gateway: Any, queue: RecordingQueue
    ) -> None:
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
        (job,) = shop.payment_jobs(order_id)
        assert job == service.PaymentJob(
            1, order_id, job.job_id, "acct_eu", "auth_0001", NOW.isoformat(), "queued"
        )
        assert queue.enqueued == [(job, 0.0)]
        assert [a.status for a in gateway.authorizations(order_id)] == ["authorized"]

    def test_a_failed_enqueue_leaves_no_job_queued(
        self, checkout: Any, shop: Any, gateway: Any, queue: RecordingQueue
    ) -> None:
        """The broker refusing the job: each record of it is cancelled, then undone."""
        order_id = _order(shop)
        queue.failure = ConnectionResetError("the broker went away")

        failure = _failure(checkout.checkout(order_id, CARD))

        assert failure.step == "enqueue_payment"
        assert failure.compensated == ("authorize_payment", "mark_processing")
        # Tried twice (a lost connection is worth a retry), recorded twice.
        assert [job.status for job in shop.payment_jobs(order_id)] == [
            "cancelled",
            "cancelled",
        ]
        assert queue.enqueued == []
        assert shop.order(order_id).status == "pending"
        assert [a.status for a in gateway.authorizations(order_id)] == ["voided"]

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
        """A 429 with Retry-After: 1 is retried after 1 s and a jitter; it passes."""
        order_id = _order(shop)
        gateway.fail_next(gateway_server.Fault.RATE_LIMITED)

        result = checkout.checkout(order_id, CARD)

        assert result.is_ok()
        assert waits == [1.05]
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
                "mark_processing could not be undone",
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

    def test_pay_later(
        self, checkout: Any, shop: Any, gateway: Any, queue: RecordingQueue
    ) -> None:
        """Pay later enqueues first, with a delay and no authorisation."""
        order_id = _order(shop)

        result = checkout.checkout_pay_later(order_id)

        assert result == Ok({"enqueue_payment": 1, "mark_processing": "pending"})
        (job,) = shop.payment_jobs(order_id)
        assert job.run_after == (NOW + timedelta(minutes=5)).isoformat()
        assert job.authorization_id is None
        assert job.status == "queued"
        assert queue.enqueued == [(job, 300.0)]
        assert shop.order(order_id).status == "processing"
        assert gateway.authorizations() == []

    def test_pay_later_cancels_the_job_when_the_update_fails(
        self, checkout: Any, shop: Any, queue: RecordingQueue
    ) -> None:
        """A cancelled order is not marked processing, so its job is cancelled."""
        order_id = _order(shop, status="cancelled")

        failure = _failure(checkout.checkout_pay_later(order_id))

        assert failure.step == "mark_processing"
        assert failure.compensated == ("enqueue_payment",)
        assert failure.original.codes() == ["not_pending"]
        (job,) = shop.payment_jobs(order_id)
        assert job.status == "cancelled"
        assert queue.cancelled == [job.job_id]
        assert shop.order(order_id).status == "cancelled"

    def test_a_started_job_is_not_cancelled(
        self, checkout: Any, shop: Any, queue: RecordingQueue
    ) -> None:
        """Once a worker took the job, undoing the enqueue fails, saying so."""
        order_id = _order(shop)
        checkout.checkout_pay_later(order_id)
        (job,) = shop.payment_jobs(order_id)
        assert shop.start_payment_job(job.id)
        ctx = service.Checkout(shop, checkout.gateway, queue, order_id, NOW)

        undone = service.cancel_payment(ctx, job.id)

        assert isinstance(undone, Err)
        assert undone.err_value.codes() == ["payment_started"]
        assert queue.cancelled == []
        assert shop.payment_job(job.id).status == "started"


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


# The payment job, on a real Huey -------------------------------------------------


@pytest.fixture
def feed() -> Any:
    """Where the payment jobs report."""
    return service.JobFeed()


@pytest.fixture
def worker(database: Path, gateway: Any, support: Any, feed: Any) -> Any:
    """The payment job's worker side, on the shop's database."""
    return service.PaymentWorker(
        database, gateway.url, support, feed, gateway_timeout=1.0, busy_timeout=0.05
    )


@pytest.fixture
def huey_queue(worker: Any, tmp_path: Path) -> Iterator[Any]:
    """The payment queue on Huey with SQLite, its consumer running in a thread."""
    with jobs.running("huey", worker, tmp_path, redis_url=REDIS_URL) as running:
        yield running


@pytest.fixture
def paying(shop: Any, gateway: Any, support: Any, huey_queue: Any) -> Any:
    """The checkout service, whose payment jobs run on `huey_queue`."""
    return service.CheckoutService(
        shop,
        service.PaymentGateway(gateway.url, timeout=0.1),
        support,
        huey_queue,
        clock=lambda: NOW,
        sleep=lambda _seconds: None,
        random=lambda: 0.5,
    )


def _paid(paying: Any) -> tuple[int, Any]:
    """Check an order out, wait for its payment job; its order's id, and the job."""
    order_id = _order(paying.shop)
    result = paying.checkout(order_id, CARD)
    assert isinstance(result, Ok), result
    job = paying.shop.payment_job(result.ok_value["enqueue_payment"])
    paying.payments.wait(job.job_id, WAIT)
    return order_id, job


def _states(feed: Any, job: Any) -> list[str]:
    return [status["state"] for status in feed.statuses(job.id)]


class TestPaymentJob:
    """The capture runs on a real Huey consumer, under the worker's JobPolicy."""

    def test_capture_completes_the_order(
        self, paying: Any, gateway: Any, support: Any, feed: Any
    ) -> None:
        """The job captures the hold and completes the order; subscribers hear it."""
        order_id, job = _paid(paying)

        assert _states(feed, job) == ["queued", "running", "succeeded"]
        status = paying.payment_status(job.id)
        assert (status["state"], status["attempt"]) == ("succeeded", 1)
        assert paying.shop.order(order_id).status == "completed"
        assert paying.shop.payment_job(job.id).status == "started"
        (hold,) = gateway.authorizations(order_id)
        assert (hold.status, hold.capture_id) == ("captured", "cap_0001")
        assert support.tickets == []

    def test_a_rate_limit_is_retried_through_the_queue(
        self, paying: Any, gateway: Any, feed: Any
    ) -> None:
        """A 429 with Retry-After: 1 on capture: back on the queue for 1 s, then ok."""
        gateway.fail_next(gateway_server.Fault.RATE_LIMITED, on="capture")
        started = time.monotonic()

        order_id, job = _paid(paying)

        assert time.monotonic() - started >= 1.0
        assert _states(feed, job) == [
            "queued",
            "running",
            "retrying",
            "running",
            "succeeded",
        ]
        retrying = feed.statuses(job.id)[2]
        assert (retrying["kind"], retrying["attempt"]) == ("rate_limit", 1)
        assert retrying["retry_in"] >= 1.0
        assert paying.payment_status(job.id)["attempt"] == 2
        assert paying.shop.order(order_id).status == "completed"

    def test_a_quota_fails_at_once_and_the_customer_is_told(
        self, paying: Any, gateway: Any, support: Any, feed: Any
    ) -> None:
        """A quota 429 on capture: one attempt; the status carries the quota error."""
        gateway.fail_next(gateway_server.Fault.QUOTA_EXCEEDED, times=2, on="capture")

        order_id, job = _paid(paying)

        assert _states(feed, job) == ["queued", "running", "failed"]
        failed = paying.payment_status(job.id)
        assert (failed["reason"], failed["kind"], failed["bucket"]) == (
            "discarded",
            "quota",
            Bucket.USER_VISIBLE.value,
        )
        assert [error["code"] for error in failed["errors"]] == ["quota"]
        assert service.API_MESSAGES["quota"] == (
            "Card payments are unavailable right now. Try again later."
        )
        assert support.tickets == [
            service.SupportTicket(
                1,
                order_id,
                "its payment job gave up after attempt 1",
                ("discarded: quota",),
            )
        ]
        assert paying.shop.order(order_id).status == "processing"
        assert [a.status for a in gateway.authorizations(order_id)] == ["authorized"]

    def test_a_gateway_down_throughout_runs_the_death_handler_once(
        self, paying: Any, gateway: Any, support: Any, feed: Any
    ) -> None:
        """503 on all three attempts: the job gives up; support gets one ticket."""
        gateway.fail_next(gateway_server.Fault.UNAVAILABLE, times=3, on="capture")

        order_id, job = _paid(paying)

        assert _states(feed, job) == [
            "queued",
            "running",
            "retrying",
            "running",
            "retrying",
            "running",
            "failed",
        ]
        failed = paying.payment_status(job.id)
        assert (failed["reason"], failed["kind"], failed["attempt"]) == (
            "exhausted",
            "server",
            3,
        )
        assert support.tickets == [
            service.SupportTicket(
                1,
                order_id,
                "its payment job gave up after attempt 3",
                ("exhausted: server",),
            )
        ]
        notes = [u for u in feed.updates(job.id) if isinstance(u, str)]
        assert notes.count(f"support: ticket #1 opened for order {order_id}") == 1

    def test_a_cancel_during_the_capture_tells_support_and_succeeds(
        self,
        paying: Any,
        gateway: Any,
        support: Any,
        feed: Any,
        database: Path,
    ) -> None:
        """The order is cancelled while the card is captured: a ticket, no retry."""
        other_tab = sqlite3.connect(
            database, isolation_level=None, check_same_thread=False
        )
        gateway.meanwhile(
            lambda: other_tab.execute("UPDATE orders SET status = 'cancelled'"),
            on="capture",
        )
        try:
            order_id, job = _paid(paying)
        finally:
            other_tab.close()

        assert _states(feed, job) == ["queued", "running", "succeeded"]
        assert support.tickets == [
            service.SupportTicket(
                1,
                order_id,
                "the card was captured (cap_0001) but the order could not be "
                "marked completed",
                ("it is cancelled",),
            )
        ]
        assert paying.shop.order(order_id).status == "cancelled"
        assert [a.status for a in gateway.authorizations(order_id)] == ["captured"]

    def test_a_locked_database_after_the_capture_tells_support(
        self,
        paying: Any,
        gateway: Any,
        support: Any,
        feed: Any,
        database: Path,
    ) -> None:
        """Completing the order fails on a lock: a ticket with the cause, success."""
        maintenance = sqlite3.connect(
            database, isolation_level=None, check_same_thread=False
        )
        # IMMEDIATE: other writers wait, as the worker does; readers go on reading.
        gateway.meanwhile(lambda: maintenance.execute("BEGIN IMMEDIATE"), on="capture")
        try:
            order_id, job = _paid(paying)
        finally:
            maintenance.execute("ROLLBACK")
            maintenance.close()

        assert _states(feed, job) == ["queued", "running", "succeeded"]
        (ticket,) = support.tickets
        assert ticket.causes == ("OperationalError('database is locked')",)
        assert paying.shop.order(order_id).status == "processing"

    def test_the_death_handler_is_there_while_the_queue_runs(
        self, worker: Any, tmp_path: Path
    ) -> None:
        """`running` adds the worker's death handler, and takes it away after."""
        with jobs.running("huey", worker, tmp_path, redis_url=REDIS_URL):
            assert worker.gave_up in death_handlers
        assert worker.gave_up not in death_handlers


class TestPaymentJobBody:
    """The job's function and hooks, called directly as a worker would."""

    def test_pay_later_authorises_the_card_on_file(
        self, checkout: Any, shop: Any, gateway: Any, worker: Any
    ) -> None:
        """A job without an authorisation authorises the card on file, then captures."""
        order_id = _order(shop)
        checkout.checkout_pay_later(order_id)
        (job,) = shop.payment_jobs(order_id)

        assert worker.capture(job.id, order_id) == "cap_0001"

        (hold,) = gateway.authorizations(order_id)
        assert (hold.status, hold.capture_id) == ("captured", "cap_0001")
        assert shop.order(order_id).status == "completed"

    def test_a_cancelled_job_captures_nothing(
        self, checkout: Any, shop: Any, gateway: Any, worker: Any, feed: Any
    ) -> None:
        """A job the shop cancelled is dropped by the worker that gets it."""
        order_id = _order(shop)
        checkout.checkout_pay_later(order_id)
        (job,) = shop.payment_jobs(order_id)
        assert shop.cancel_payment_job(job.id)

        assert worker.capture(job.id, order_id) == "dropped"

        assert gateway.authorizations() == []
        assert feed.updates(job.id) == [
            f"job: payment job {job.id} was cancelled: dropped"
        ]
        assert shop.order(order_id).status == "processing"

    def test_a_job_whose_order_is_not_processing_captures_nothing(
        self, checkout: Any, shop: Any, gateway: Any, worker: Any, feed: Any
    ) -> None:
        """Pay later, died before marking the order: its job finds it pending, drops."""
        order_id = _order(shop)
        checkout.checkout_pay_later(order_id)
        (job,) = shop.payment_jobs(order_id)
        shop.set_status(order_id, "pending", expected="processing")

        assert worker.capture(job.id, order_id) == "dropped"

        assert gateway.authorizations() == []
        assert feed.updates(job.id) == [f"job: order {order_id} is pending: dropped"]
        assert shop.payment_job(job.id).status == "queued"

    def test_the_death_handler_ignores_other_jobs(
        self, worker: Any, support: Any
    ) -> None:
        """Death handlers run for every job; this one acts on payment jobs only."""
        worker.gave_up(
            JobEvent("send_receipt", "j-1", (1, 2), {}, 3, "failed", reason="exhausted")
        )

        assert support.tickets == []

    def test_a_job_of_another_shape_is_refused(self, worker: Any) -> None:
        """A payment job's hooks need its two ids, and say so."""
        event = JobEvent("capture_payment", "j-1", ("1",), {}, 1, "running")

        with pytest.raises(TypeError, match=r"takes two ids, not \('1',\)"):
            worker.report(event)
