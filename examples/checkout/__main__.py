"""
Check out one order per scenario and print what the API answers, and what is left.

Run it with ``python examples/checkout``. Python puts this directory first on
``sys.path`` when it runs it, which is how ``import service`` finds the module
beside this file.

The shop's database is a SQLite file in a temporary directory (or where
``--database PATH`` says, to look at it afterwards), and the payment gateway a
server on 127.0.0.1 (see ``gateway.py``), told before each scenario how to
fail. The checkout's own retries are logged rather than slept through, so
that the run takes a moment; the timeouts are real, but short.

The checkout saga is durable: it records its steps in a SQLite journal in the
temporary directory. The last scenario checks out in a process of its own
(``dying_checkout.py``), which is killed half-way; this one then runs
`outcome.recover`, which undoes what the dead process did.

The payment job runs for real, on Huey with a SQLite file in the temporary
directory, worked by a consumer this script starts. With ``--engine celery``
(or ``CHECKOUT_ENGINE=celery``) the same job runs on Celery instead, with the
Redis at ``CHECKOUT_REDIS_URL`` (``redis://127.0.0.1:6379/0`` by default) as
broker and result backend, and a worker this script starts. Its retries go
through the queue and take real seconds. Each status the job reports is
printed as an API subscriber receives it, once the job is done, so that the
output reads in order whatever the threads do.

The reference a bug is reported under is keyed by a secret made anew in each
process; set ``OUTCOME_REFERENCE_KEY`` to get the same references on every
run (a shop sets it so that its web and worker processes agree).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from gateway import DECLINED_CARD, FakeGateway, Fault
from jobs import ENGINES, BrokerUnavailable, Engine, RunningQueue, running
from service import (
    API_MESSAGES,
    CheckoutForm,
    CheckoutService,
    JobFeed,
    PaymentGateway,
    PaymentWorker,
    Shop,
    SupportDesk,
    respond,
    respond_pay_later,
)

from outcome import Ok, SqliteJournal, recover

if TYPE_CHECKING:
    from collections.abc import Sequence

    from service import Response

    from outcome import Recovery
    from outcome.jobs import JobStatus

NOW: Final = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
GATEWAY_TIMEOUT: Final = 0.25  # seconds the shop waits for the gateway
SLOW_ANSWER: Final = 0.75  # seconds a slow gateway takes to answer
BUSY_TIMEOUT: Final = 0.1  # seconds a statement waits for a lock on the database
JOB_TIMEOUT: Final = 20.0  # seconds to wait for a payment job, far more than any takes
PROCESS_TIMEOUT: Final = 20.0  # seconds to wait for the dying checkout's process
DYING_CHECKOUT: Final = Path(__file__).with_name("dying_checkout.py")
REDIS_URL: Final = "redis://127.0.0.1:6379/0"  # unless CHECKOUT_REDIS_URL says

CARD: Final = CheckoutForm("tok_visa", "09/27", terms_accepted=True)


@dataclass(frozen=True)
class Scenario:
    """One checkout: the order, the form, and how the world misbehaves."""

    title: str
    customer: str
    amount_cents: int
    currency: str = "EUR"
    status: str = "pending"
    form: CheckoutForm = CARD
    faults: tuple[tuple[Fault, int], ...] = ()
    capture_faults: tuple[tuple[Fault, int], ...] = ()
    database_locked_meanwhile: bool = False
    cancelled_during_capture: bool = False
    pay_later: bool = False
    killed_before_enqueueing: bool = False


SCENARIOS: Final = (
    Scenario(
        "A form with three mistakes: nothing is written, every mistake is reported",
        "Ada",
        2400,
        form=CheckoutForm(" ", "13/27", terms_accepted=False),
    ),
    Scenario(
        "Happy path: the card is authorised, then the payment job captures it",
        "Grace",
        2400,
    ),
    Scenario(
        "The card is declined: the order goes back to pending",
        "Edsger",
        1800,
        form=CheckoutForm(DECLINED_CARD, "09/27", terms_accepted=True),
    ),
    Scenario(
        "The gateway rate-limits once: the step waits as Retry-After asks, then passes",
        "Barbara",
        3200,
        faults=((Fault.RATE_LIMITED, 1),),
    ),
    Scenario(
        "The gateway is down (503) for every try: retried, then undone",
        "Donald",
        1250,
        faults=((Fault.UNAVAILABLE, 3),),
    ),
    Scenario(
        "The gateway's quota is used up (429 insufficient_quota): not retried",
        "Frances",
        990,
        faults=((Fault.QUOTA_EXCEEDED, 1),),
    ),
    Scenario(
        "The gateway answers too late, three times: a hold it may have made is voided",
        "John",
        4100,
        faults=((Fault.SLOW, 3),),
    ),
    Scenario(
        "The database locks up while the card is authorised: enqueueing fails, and "
        "so does putting the order back; support is told",
        "Margaret",
        5600,
        database_locked_meanwhile=True,
    ),
    Scenario(
        "A bug: no merchant account is set up for GBP; undone, then a 500 with a "
        "reference",
        "Alan",
        2000,
        currency="GBP",
    ),
    Scenario(
        "Pay later, enqueued with a delay first: the order was cancelled in another "
        "tab, so the update fails and the job is cancelled",
        "Katherine",
        1500,
        status="cancelled",
        pay_later=True,
    ),
    Scenario(
        "The gateway rate-limits the capture: the job goes back on the queue for "
        "as long as Retry-After asks, then captures",
        "Niklaus",
        3000,
        capture_faults=((Fault.RATE_LIMITED, 1),),
    ),
    Scenario(
        "The gateway's quota runs out before the capture (429 insufficient_quota): "
        "the job fails at once, and the customer is told",
        "Radia",
        2750,
        capture_faults=((Fault.QUOTA_EXCEEDED, 1),),
    ),
    Scenario(
        "The gateway is down (503) for every attempt to capture: the job gives up, "
        "and its death handler tells support",
        "Leslie",
        1900,
        capture_faults=((Fault.UNAVAILABLE, 3),),
    ),
    Scenario(
        "The customer cancels in another tab while the card is captured: the order "
        "cannot be completed, so support is told; the job succeeded",
        "Tony",
        4400,
        cancelled_during_capture=True,
    ),
    Scenario(
        "The checkout's process is killed after the card is authorised, before the "
        "payment is enqueued: recover() voids the hold and puts the order back",
        "Ken",
        3600,
        killed_before_enqueueing=True,
    ),
)


class Maintenance:
    """Another process's long write transaction on the shop's database."""

    def __init__(self, path: Path) -> None:
        """Connect to the database; take no lock yet."""
        # The lock is taken from the gateway's thread, while the shop waits.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock(self) -> None:
        """Take the database's write lock and keep it."""
        self._db.execute("BEGIN EXCLUSIVE")

    def close(self) -> None:
        """Give the lock up, if it was taken, and disconnect."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._db.close()


class AnotherTab:
    """The customer, in another browser tab, cancelling the order."""

    def __init__(self, path: Path) -> None:
        """Connect to the shop's database, as the other request's process does."""
        # It cancels from the gateway's thread, while the payment job waits.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def cancel(self, order_id: int) -> None:
        """Cancel the order, whatever it is doing."""
        self._db.execute(
            "UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,)
        )

    def close(self) -> None:
        """Disconnect."""
        self._db.close()


def indented(text: str) -> None:
    """Print `text` under the scenario's heading."""
    print(textwrap.indent(text, "   "))


def describe(payment_job_id: int, status: JobStatus) -> str:
    """A status of a payment job, as a subscriber's page would put it."""
    state, attempt = status["state"], status["attempt"]
    said = f"subscription: payment job {payment_job_id}: {state}"
    if state in {"running", "succeeded"}:
        return f"{said}, attempt {attempt}"
    if state == "retrying":
        # To the second, as a page would show it: the jitter of the backoff
        # makes the exact figure differ from run to run.
        seconds = max(1, math.ceil(status["retry_in"] or 0.0))
        return f"{said} in {seconds} s, attempt {attempt} failed ({status['kind']})"
    if state == "failed":
        codes = [str(error.get("code")) for error in status["errors"]]
        told = " ".join(API_MESSAGES.get(code, code) for code in codes)
        return (
            f"{said}, attempt {attempt} ({status['reason']}: {status['kind']}): {told}"
        )
    return said


def follow(
    service: CheckoutService, queue: RunningQueue, feed: JobFeed, order_id: int
) -> None:
    """Wait for the order's payment jobs to finish; print what they reported."""
    for job in service.shop.payment_jobs(order_id):
        if job.status != "cancelled":
            queue.wait(job.job_id, JOB_TIMEOUT)
        for update in feed.updates(job.id):
            if isinstance(update, str):
                indented(f"worker: {update}")
            else:
                indented(describe(job.id, update))


def show_state(service: CheckoutService, gateway: FakeGateway, order_id: int) -> None:
    """Print what is left of the order: its row, its jobs, its holds, its tickets."""
    shop = service.shop
    order = shop.order(order_id)
    indented(f"order {order_id}: {'missing' if order is None else order.status}")
    jobs = shop.payment_jobs(order_id)
    if not jobs:
        indented("payment jobs: none for this order")
    for job in jobs:
        work = (
            "authorise and capture"
            if job.authorization_id is None
            else f"capture {job.authorization_id}"
        )
        status = service.payment_status(job.id)
        state = (
            job.status
            if job.status == "cancelled" or status is None
            else status["state"]
        )
        amount = (
            "" if order is None else f"{order.amount_cents} {order.currency} cents, "
        )
        indented(
            f"payment job {job.id} on {job.account}: {work}, {amount}"
            f"run after {job.run_after}: {state}"
        )
    holds = gateway.authorizations(order_id)
    if not holds:
        indented("gateway: no authorisation for this order")
    for hold in holds:
        captured = "" if hold.capture_id is None else f" ({hold.capture_id})"
        indented(
            f"gateway: {hold.id} for {hold.amount_cents} {hold.currency} cents: "
            f"{hold.status}{captured}"
        )
    for ticket in service.support.tickets:
        if ticket.order_id == order_id:
            causes = f" ({', '.join(ticket.causes)})" if ticket.causes else ""
            indented(
                f"support: ticket #{ticket.number}: order {order_id} is stuck, "
                f"{ticket.problem}{causes}"
            )


@dataclass(frozen=True)
class Demo:
    """What every scenario runs against."""

    service: CheckoutService
    gateway: FakeGateway
    queue: RunningQueue
    feed: JobFeed
    database: Path
    journal: Path


def run(number: int, scenario: Scenario, demo: Demo) -> None:
    """Check out the scenario's order and print what happened."""
    print(f"{number}. {scenario.title}")
    service, gateway = demo.service, demo.gateway
    order_id = service.shop.add_order(
        scenario.customer, scenario.amount_cents, scenario.currency, scenario.status
    )
    if scenario.killed_before_enqueueing:
        die_then_recover(scenario, demo, order_id)
        print()
        return
    for fault, times in scenario.faults:
        gateway.fail_next(fault, times)
    for fault, times in scenario.capture_faults:
        gateway.fail_next(fault, times, on="capture")
    with contextlib.ExitStack() as meanwhile:
        if scenario.cancelled_during_capture:
            tab = meanwhile.enter_context(contextlib.closing(AnotherTab(demo.database)))
            gateway.meanwhile(functools.partial(tab.cancel, order_id), on="capture")
        if scenario.database_locked_meanwhile:
            with contextlib.closing(Maintenance(demo.database)) as maintenance:
                gateway.meanwhile(maintenance.lock)
                response = send(scenario, service, order_id)
        else:
            response = send(scenario, service, order_id)
        indented(f"HTTP/1.1 {response.status.value} {response.status.phrase}")
        for name, value in response.headers.items():
            indented(f"{name}: {value}")
        indented(json.dumps(response.body, indent=2))
        follow(service, demo.queue, demo.feed, order_id)
    show_state(service, gateway, order_id)
    print()


def send(scenario: Scenario, service: CheckoutService, order_id: int) -> Response:
    """Make the scenario's request to the API, as its log shows it."""
    if scenario.pay_later:
        indented(f"POST /orders/{order_id}/pay-later")
        return respond_pay_later(service, order_id)
    indented(f"POST /orders/{order_id}/checkout {json.dumps(asdict(scenario.form))}")
    return respond(service, order_id, scenario.form)


def ended(recovery: Recovery) -> str:
    """How `recover` ended a saga it found in flight."""
    result = recovery.result
    if result is None:
        return f"left alone: {recovery.problem}"
    if isinstance(result, Ok):
        return "carried on to the end"
    return f"compensated ({', '.join(result.err_value.errors.codes())})"


def die_then_recover(scenario: Scenario, demo: Demo, order_id: int) -> None:
    """Check out in another process, which is killed; then recover its saga."""
    indented(
        f"POST /orders/{order_id}/checkout {json.dumps(asdict(scenario.form))} "
        "(to another process)"
    )
    child = subprocess.run(  # noqa: S603 - this interpreter, on a file of the demo
        [
            sys.executable,
            *(f"-W{option}" for option in sys.warnoptions),
            str(DYING_CHECKOUT),
            str(demo.database),
            str(demo.journal),
            demo.gateway.url,
            str(order_id),
            scenario.form.card_token,
            NOW.isoformat(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=PROCESS_TIMEOUT,
    )
    if child.returncode != -signal.SIGKILL:
        msg = (
            f"the dying checkout exited {child.returncode} instead of being killed:"
            f"\n{child.stdout}{child.stderr}"
        )
        raise RuntimeError(msg)
    for line in child.stdout.splitlines():
        indented(f"that process: {line}")
    indented("that process: killed (SIGKILL): no answer, nothing undone")
    show_state(demo.service, demo.gateway, order_id)
    saga = demo.service.checkout_saga
    if saga is None:
        msg = "the demo's checkout service has no journal"
        raise RuntimeError(msg)
    # As a recoverer that runs once the dead process's lease has run out.
    indented(f"recover: once the lease of {saga.lease:g} s has run out")
    for recovery in recover([saga], now=time.time() + saga.lease):
        indented(f"recover: saga {recovery.name!r} {ended(recovery)}")
    show_state(demo.service, demo.gateway, order_id)


ENGINE_NAMES: Final[dict[Engine, str]] = {
    "huey": "Huey with SQLite, worked by a consumer in this process",
    "celery": "Celery with Redis, worked by a worker in this process",
}


def run_all(database: Path, directory: Path, engine: Engine, redis_url: str) -> None:
    """Run every scenario against one shop, one gateway and one payment queue."""
    feed, support = JobFeed(), SupportDesk()
    journal_path = directory / "sagas.sqlite3"
    with (
        FakeGateway(slow_answer_after=SLOW_ANSWER) as gateway,
        Shop(database, busy_timeout=BUSY_TIMEOUT) as shop,
        contextlib.closing(SqliteJournal(journal_path)) as journal,
    ):
        worker = PaymentWorker(
            database,
            gateway.url,
            support,
            feed,
            gateway_timeout=GATEWAY_TIMEOUT,
            busy_timeout=BUSY_TIMEOUT,
        )
        with running(engine, worker, directory, redis_url=redis_url) as queue:
            print(f"Payment jobs run on {ENGINE_NAMES[engine]}.")
            print()
            service = CheckoutService(
                shop,
                PaymentGateway(gateway.url, timeout=GATEWAY_TIMEOUT, log=indented),
                support,
                queue,
                clock=lambda: NOW,
                sleep=lambda _seconds: None,  # logged by the service, not slept
                random=lambda: 0.5,  # the middle of the jitter, for a stable output
                log=indented,
                journal=journal,
            )
            demo = Demo(service, gateway, queue, feed, database, journal_path)
            for number, scenario in enumerate(SCENARIOS, start=1):
                run(number, scenario, demo)


def main(arguments: Sequence[str] | None = None) -> None:
    """Run the demo, with its files in a temporary directory unless told."""
    parser = argparse.ArgumentParser(prog="python examples/checkout")
    parser.add_argument(
        "--database",
        type=Path,
        help="where to create the shop's SQLite file, to look at it afterwards",
    )
    parser.add_argument(
        "--engine",
        default=os.environ.get("CHECKOUT_ENGINE", "huey"),
        help=(
            "what runs the payment jobs: huey (SQLite, no server; the default) or "
            "celery (Redis at $CHECKOUT_REDIS_URL, default "
            f"{REDIS_URL}); default $CHECKOUT_ENGINE"
        ),
    )
    options = parser.parse_args(arguments)
    database: Path | None = options.database
    if options.engine not in ENGINES:
        parser.error(
            f"the engine must be huey or celery, not {options.engine!r} (from "
            "--engine or CHECKOUT_ENGINE)"
        )
    engine: Engine = options.engine
    if engine == "celery" and not all(
        importlib.util.find_spec(name) for name in ("celery", "redis")
    ):
        parser.error(
            "the celery engine needs Celery with Redis: "
            "pip install 'celery[redis]>=5.4'"
        )
    if database is not None and database.exists():
        parser.error(f"{database} exists; give the path of a new file")
    redis_url = os.environ.get("CHECKOUT_REDIS_URL", REDIS_URL)
    with tempfile.TemporaryDirectory() as directory:
        try:
            run_all(
                database or Path(directory) / "shop.sqlite3",
                Path(directory),
                engine,
                redis_url,
            )
        except BrokerUnavailable as exc:
            parser.exit(1, f"{parser.prog}: {exc}\n")


if __name__ == "__main__":
    main()
