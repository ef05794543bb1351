"""
A checkout whose process is killed after the card is authorised.

The demo runs it as another of the shop's processes::

    python examples/checkout/dying_checkout.py SHOP JOURNAL GATEWAY ORDER CARD NOW

It checks order ORDER out with the card token CARD, at the ISO 8601 time
NOW, against the shop's database SHOP and the gateway at the URL GATEWAY,
recording the durable saga in the SQLite journal JOURNAL. Once the gateway
has authorised the card, and before the payment is enqueued, the process
sends itself SIGKILL: nothing runs after that, no ``finally`` and no
compensation. What it did is left in the shop's database (the order is
processing), at the gateway (the card is authorised) and in the journal,
for `outcome.recover` to end. Each line of its log is printed, flushed, as
it happens.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from service import Card, CheckoutService, PaymentGateway, Shop, SupportDesk

from outcome import SqliteJournal

if TYPE_CHECKING:
    from service import PaymentJob

KILLED_AFTER = "saga: authorize_payment done"
"""The line of the log after which the process dies."""


class UnreachedQueue:
    """The payment queue of a process that dies before it enqueues anything."""

    def enqueue(self, job: PaymentJob, *, delay: float) -> NoReturn:
        """Refuse: the process was meant to be dead by now."""
        msg = f"payment job {job.id} (delay {delay:g} s) reached a dying process"
        raise RuntimeError(msg)

    def cancel(self, job_id: str) -> NoReturn:
        """Refuse, as `enqueue` does."""
        msg = f"cancelling payment job {job_id} reached a dying process"
        raise RuntimeError(msg)

    def status(self, job_id: str) -> NoReturn:
        """Refuse, as `enqueue` does."""
        msg = f"the status of payment job {job_id} was asked of a dying process"
        raise RuntimeError(msg)


def say(line: str) -> None:
    """Print a line of the log at once; die after the card is authorised."""
    print(line, flush=True)
    if line.startswith(KILLED_AFTER):
        os.kill(os.getpid(), signal.SIGKILL)


def main(arguments: list[str]) -> int:
    """Check the order out, and die half-way."""
    shop_path, journal_path, gateway_url, order_id, card_token, now = arguments
    moment = datetime.fromisoformat(now)
    journal = SqliteJournal(journal_path)
    with Shop(shop_path) as shop:
        service = CheckoutService(
            shop,
            PaymentGateway(gateway_url, timeout=1.0, log=say),
            SupportDesk(),
            UnreachedQueue(),
            clock=lambda: moment,
            sleep=lambda _seconds: None,
            log=say,
            journal=journal,
        )
        service.checkout(int(order_id), Card(card_token, ""))
    msg = f"the checkout of order {order_id} got past {KILLED_AFTER!r} alive"
    raise RuntimeError(msg)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
