"""
Check out one order per scenario and print what the API answers, and what is left.

Run it with ``python examples/checkout``. Python puts this directory first on
``sys.path`` when it runs it, which is how ``import service`` finds the module
beside this file.

The shop's database is a SQLite file in a temporary directory (or where
``--database PATH`` says, to look at it afterwards), and the payment gateway a
server on 127.0.0.1 (see ``gateway.py``), told before each scenario how to
fail. Retries are logged rather than slept through, so that the run takes a
moment; the timeouts are real, but short.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import tempfile
import textwrap
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from gateway import DECLINED_CARD, FakeGateway, Fault
from service import (
    CheckoutForm,
    CheckoutService,
    PaymentGateway,
    Shop,
    SupportDesk,
    respond,
    respond_pay_later,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from service import Response

NOW: Final = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
GATEWAY_TIMEOUT: Final = 0.25  # seconds the shop waits for the gateway
SLOW_ANSWER: Final = 0.75  # seconds a slow gateway takes to answer
BUSY_TIMEOUT: Final = 0.1  # seconds a statement waits for a lock on the database

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
    database_locked_meanwhile: bool = False
    pay_later: bool = False


SCENARIOS: Final = (
    Scenario(
        "A form with three mistakes: nothing is written, every mistake is reported",
        "Ada",
        2400,
        form=CheckoutForm(" ", "13/27", terms_accepted=False),
    ),
    Scenario("Happy path: the card is authorised, the payment queued", "Grace", 2400),
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
        "A bug: no capture queue is set up for GBP; undone, then a 500 with a "
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


def indented(text: str) -> None:
    """Print `text` under the scenario's heading."""
    print(textwrap.indent(text, "   "))


def show_state(
    shop: Shop, gateway: FakeGateway, support: SupportDesk, order_id: int
) -> None:
    """Print what is left of the order: its row, its jobs, its holds, its tickets."""
    order = shop.order(order_id)
    indented(f"order {order_id}: {'missing' if order is None else order.status}")
    jobs = shop.payment_jobs(order_id)
    if not jobs:
        indented("payment queue: nothing for this order")
    for job in jobs:
        work = (
            "authorise and capture"
            if job.authorization_id is None
            else f"capture {job.authorization_id}"
        )
        indented(
            f"payment queue: job {job.id} on {job.queue}: {work}, "
            f"{job.amount_cents} {job.currency} cents, run after {job.run_after}: "
            f"{job.status}"
        )
    holds = gateway.authorizations(order_id)
    if not holds:
        indented("gateway: no authorisation for this order")
    for hold in holds:
        indented(
            f"gateway: {hold.id} for {hold.amount_cents} {hold.currency} cents: "
            f"{hold.status}"
        )
    for ticket in support.tickets:
        if ticket.order_id == order_id:
            indented(
                f"support: ticket #{ticket.number}: order {order_id} is stuck, "
                f"{ticket.step} could not be undone ({', '.join(ticket.causes)})"
            )


def run(
    number: int,
    scenario: Scenario,
    service: CheckoutService,
    gateway: FakeGateway,
    database: Path,
) -> None:
    """Check out the scenario's order and print what happened."""
    print(f"{number}. {scenario.title}")
    shop = service.shop
    order_id = shop.add_order(
        scenario.customer, scenario.amount_cents, scenario.currency, scenario.status
    )
    for fault, times in scenario.faults:
        gateway.fail_next(fault, times)
    if scenario.database_locked_meanwhile:
        with contextlib.closing(Maintenance(database)) as maintenance:
            gateway.meanwhile(maintenance.lock)
            response = send(scenario, service, order_id)
    else:
        response = send(scenario, service, order_id)
    indented(f"HTTP/1.1 {response.status.value} {response.status.phrase}")
    indented(json.dumps(response.body, indent=2))
    show_state(shop, gateway, service.support, order_id)
    print()


def send(scenario: Scenario, service: CheckoutService, order_id: int) -> Response:
    """Make the scenario's request to the API, as its log shows it."""
    if scenario.pay_later:
        indented(f"POST /orders/{order_id}/pay-later")
        return respond_pay_later(service, order_id)
    indented(f"POST /orders/{order_id}/checkout {json.dumps(asdict(scenario.form))}")
    return respond(service, order_id, scenario.form)


def run_all(database: Path) -> None:
    """Run every scenario against one shop and one gateway."""
    with (
        FakeGateway(slow_answer_after=SLOW_ANSWER) as gateway,
        Shop(database, busy_timeout=BUSY_TIMEOUT) as shop,
    ):
        service = CheckoutService(
            shop,
            PaymentGateway(gateway.url, timeout=GATEWAY_TIMEOUT, log=indented),
            SupportDesk(),
            clock=lambda: NOW,
            sleep=lambda _seconds: None,  # logged by the service, not slept
            random=lambda: 0.5,  # the middle of the jitter, for a stable output
            log=indented,
        )
        for number, scenario in enumerate(SCENARIOS, start=1):
            run(number, scenario, service, gateway, database)


def main(arguments: Sequence[str] | None = None) -> None:
    """Run the demo, with its database in a temporary directory unless told."""
    parser = argparse.ArgumentParser(prog="python examples/checkout")
    parser.add_argument(
        "--database",
        type=Path,
        help="where to create the shop's SQLite file, to look at it afterwards",
    )
    database: Path | None = parser.parse_args(arguments).database
    if database is not None:
        if database.exists():
            parser.error(f"{database} exists; give the path of a new file")
        run_all(database)
        return
    with tempfile.TemporaryDirectory() as directory:
        run_all(Path(directory) / "shop.sqlite3")


if __name__ == "__main__":
    main()
