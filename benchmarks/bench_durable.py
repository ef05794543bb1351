"""
Compare a durable saga on SQLite with the same three steps and no journal.

Each step commits one SQLite row (WAL mode, with ``synchronous=FULL``, as the
journal's file has). The baseline runs those three steps by hand, each row in
its own transaction. Two durable sagas run the same steps, journaled in a
`SqliteJournal` on the same disk: the intent of each step before it runs and
its outcome after, merged so that the journal commits four small transactions
for three steps (the first intent with the saga's row, each outcome with the
next intent, the last with the end).

- "own transactions": each step commits its row in its own database, as in
  the baseline, and the journal's four transactions come on top.
- "transactional": ``DurableSaga(transactional=True)``, each step writing its
  row through the journal's connection, so that the row commits with the
  step's outcome: four transactions in all.

Measured in this one process by the shared harness (``_harness.py``), by CPU
time: the minimum of 3 repeats per round, contenders interleaved over 15
rounds, the median of the per-round ratios with their spread. A commit's
fsync costs the process system time, so the number of commits (and of pages
each writes) is most of the figure. The target: at most 2x the three bare
transactions.

Run it with ``python benchmarks/bench_durable.py``; ``--quick`` runs a few
short rounds only to prove the script works.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import sys
import tempfile
import time
from typing import TYPE_CHECKING

from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run

import outcome
from outcome import DurableSaga, Errors, Ok, Result, SqliteJournal, Step

if TYPE_CHECKING:
    from collections.abc import Callable

TARGET = 2.0
RUNS = 20  # sagas per call, so that a call is long enough to time well


def _connect(path: pathlib.Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS rows (step TEXT, value INTEGER)")
    return connection


NAMES = ("authorise", "mark_processing", "enqueue_payment")


def _commit_row(connection: sqlite3.Connection, step: str) -> int:
    """A step's work: one row, committed in its own transaction."""
    connection.execute("BEGIN")
    connection.execute("INSERT INTO rows VALUES (?, 1)", (step,))
    connection.execute("COMMIT")
    return 1


def _own_transaction(
    app: sqlite3.Connection, step: str
) -> Callable[[object], Result[int, Errors]]:
    def run_step(_ctx: object) -> Result[int, Errors]:
        return Ok(_commit_row(app, step))

    return run_step


def _in_the_journal(
    shared: sqlite3.Connection, step: str
) -> Callable[[object], Result[int, Errors]]:
    def run_step(_ctx: object) -> Result[int, Errors]:
        shared.execute("INSERT INTO rows VALUES (?, 1)", (step,))
        return Ok(1)

    return run_step


_SAGA_ROW = "INSERT INTO outcome_sagas VALUES (?, ?, 1, ?, ?, 0)"
_ENTRY = "INSERT INTO outcome_journal VALUES (?, ?, ?, 'action', ?, ?, ?, ?)"


def _journal_by_hand(shared: sqlite3.Connection) -> Callable[[object], None]:
    """
    The transactional saga's four commits written by hand: its floor.

    The same rows in the same tables as the journal writes them: the saga's
    row with the first intent, then each step's row with its outcome and the
    next intent, the last with the end.
    """
    steps = json.dumps(NAMES)

    def run_saga(given: object) -> None:
        saga_id = f"{time.time_ns():016x}{os.urandom(8).hex()}"
        now = time.time()
        shared.execute("BEGIN")
        shared.execute(_SAGA_ROW, (saga_id, "by_hand", steps, json.dumps(given)))
        shared.execute(_ENTRY, (saga_id, 1, NAMES[0], "intent", "{}", now, now + 300))
        shared.execute("COMMIT")
        seq = 1
        for index, name in enumerate(NAMES):
            shared.execute("BEGIN IMMEDIATE")
            shared.execute("INSERT INTO rows VALUES (?, 1)", (name,))
            seq += 1
            shared.execute(_ENTRY, (saga_id, seq, name, "ok", "1", now, now + 300))
            seq += 1
            following = NAMES[index + 1] if index + 1 < len(NAMES) else None
            shared.execute(
                _ENTRY,
                (
                    saga_id,
                    seq,
                    following or "",
                    "intent" if following else "done",
                    "{}",
                    now,
                    now + 300,
                ),
            )
            shared.execute("COMMIT")

    return run_saga


def _repeat(function: Callable[[object], object], runs: int) -> Callable[[], None]:
    def repeated() -> None:
        for _ in range(runs):
            function({"order": "A-17"})

    return repeated


def main() -> int:
    """Time the contenders and print the table."""
    settings = parse_settings(__doc__, number=5, quick_number=1, rounds=25)
    folder = pathlib.Path(tempfile.mkdtemp())
    app = _connect(folder / "app.db")
    journal = SqliteJournal(folder / "sagas.db")
    shared = journal.connection
    shared.execute("CREATE TABLE IF NOT EXISTS rows (step TEXT, value INTEGER)")
    separate = DurableSaga(
        "checkout",
        [Step(name, _own_transaction(app, name)) for name in NAMES],
        journal=journal,
        context=lambda data, _saga_id: data,
    )
    transactional = DurableSaga(
        "checkout_transactional",
        [Step(name, _in_the_journal(shared, name)) for name in NAMES],
        journal=journal,
        context=lambda data, _saga_id: data,
        transactional=True,
    )

    def by_hand() -> None:
        for _ in range(RUNS):
            for name in NAMES:
                _commit_row(app, name)

    contenders = [
        Contender("three transactions", calls(by_hand), operations=RUNS),
        Contender(
            "four commits by hand",
            calls(_repeat(_journal_by_hand(shared), RUNS)),
            operations=RUNS,
        ),
        Contender("durable saga", calls(_repeat(separate.run, RUNS)), operations=RUNS),
        Contender(
            "transactional",
            calls(_repeat(transactional.run, RUNS)),
            operations=RUNS,
        ),
    ]
    comparisons = [
        Comparison(
            "three steps that each commit a row",
            "three transactions",
            (
                Entry("three transactions", "three transactions"),
                Entry("durable, own transactions", "durable saga", target=TARGET),
                Entry("durable, transactional", "transactional", target=TARGET),
                Entry("its four commits, by hand", "four commits by hand"),
            ),
        )
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={"outcome": outcome.__version__, "sqlite": sqlite3.sqlite_version},
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
