"""
A durable checkout that kills its own process after the N-th journal write.

Run as ``python -m tests.durable_crash JOURNAL EFFECTS N MODE`` by
tests/test_journal.py: JOURNAL is a SQLite path or a ``postgresql://`` DSN
(with ``#schema`` at the end), EFFECTS a file each side effect is appended
to, N the write after which the process gets SIGKILL (0: never), and MODE
``ok`` (every step succeeds) or ``fail`` (the last step fails). It prints the
number of writes made when it was not killed.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sys
from typing import TYPE_CHECKING, Any

from outcome import (
    DurableSaga,
    Err,
    ErrorDetail,
    Errors,
    Journal,
    JournalEntry,
    Ok,
    PostgresJournal,
    Result,
    SagaRecord,
    SqliteJournal,
    Step,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

STEPS = ("authorise", "mark_processing", "enqueue_payment")


class KillingJournal(Journal):
    """A journal that dies, as a process does, right after its N-th write."""

    def __init__(self, journal: Journal, kill_after: int) -> None:
        self.journal = journal
        self.kill_after = kill_after
        self.writes = 0

    @property
    def where(self) -> str:
        """The journal it writes to."""
        return self.journal.where

    def _wrote(self) -> None:
        self.writes += 1
        if self.writes == self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    @property
    def connection(self) -> object:
        """As the journal's."""
        return self.journal.connection

    def open_transaction(self) -> None:
        """As the journal's."""
        self.journal.open_transaction()

    def rollback(self) -> None:
        """As the journal's."""
        self.journal.rollback()

    def begin(self, record: SagaRecord) -> None:
        """Write, then maybe die."""
        self.journal.begin(record)
        self._wrote()

    def append(
        self, saga_id: str, entries: Sequence[JournalEntry], *, finished: bool = False
    ) -> None:
        """Write, then maybe die."""
        self.journal.append(saga_id, entries, finished=finished)
        self._wrote()

    def expired(self, now: float) -> list[SagaRecord]:
        """As the journal's."""
        return self.journal.expired(now)

    def claim(self, saga_id: str, now: float, lease: float) -> SagaRecord | None:
        """As the journal's."""
        return self.journal.claim(saga_id, now, lease)

    def close(self) -> None:
        """As the journal's."""
        self.journal.close()


def open_journal(where: str) -> Journal:
    """The journal `where` names: a SQLite file, or a DSN with #schema."""
    if where.startswith("postgresql://"):
        dsn, _, schema = where.partition("#")
        return PostgresJournal(dsn, schema=schema or "public")
    return SqliteJournal(where)


def effect(effects: pathlib.Path, line: str) -> None:
    """Record a side effect durably, as a payment provider would."""
    with effects.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def checkout(
    journal: Journal, effects: pathlib.Path, *, fail: bool, resumable: bool = False
) -> DurableSaga[dict[str, Any], dict[str, Any]]:
    """The checkout saga: each step has an effect, and undoes it idempotently."""

    def act(name: str) -> Any:
        def action(ctx: dict[str, Any]) -> Result[str, Errors]:
            if fail and name == STEPS[-1]:
                return Err(Errors([ErrorDetail(None, "unavailable")]))
            effect(effects, f"do {name} {ctx['saga_id']}")
            return Ok(name)

        return action

    def undo(name: str) -> Any:
        def compensate(ctx: dict[str, Any], log: str) -> None:
            assert log == name, log
            effect(effects, f"undo {name} {ctx['saga_id']}")

        return compensate

    def cancel(name: str) -> Any:
        def compensate_failed(ctx: dict[str, Any]) -> None:
            effect(effects, f"cancel {name} {ctx['saga_id']}")

        return compensate_failed

    return DurableSaga(
        "checkout",
        [
            Step(name, act(name), undo(name), compensate_failed=cancel(name))
            for name in STEPS
        ],
        journal=journal,
        context=lambda data, saga_id: {**data, "saga_id": saga_id},
        resumable=STEPS if resumable else (),
        lease=1.0,
    )


def main(arguments: list[str]) -> int:
    """Run one checkout, dying after the N-th write; print the writes made."""
    where, effects, kill_after, mode = arguments
    journal = KillingJournal(open_journal(where), int(kill_after))
    saga = checkout(journal, pathlib.Path(effects), fail=mode == "fail")
    saga.run({"order": "A-17"})
    print(journal.writes)  # noqa: T201 - read by the test
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
