"""
Compare a durable saga on SQLite with the same three steps and no journal.

Each step commits one SQLite row in its own transaction (WAL mode, with
``synchronous=FULL``, as the journal's file has). The baseline runs those three
steps by hand. The durable saga runs the same steps, journaled in a
`SqliteJournal` on the same disk: the intent of each step before it runs and
its outcome after, merged so that the journal costs about one small
transaction per step (four for three steps: the first intent with the saga's
row, each outcome with the next intent, the last with the end).

Measured in this one process by the shared harness (``_harness.py``), by CPU
time: the minimum of 3 repeats per round, contenders interleaved over 15
rounds, the median of the per-round ratios with their spread. The target: at
most 2x the three bare transactions.

Run it with ``python benchmarks/bench_durable.py``; ``--quick`` runs a few
short rounds only to prove the script works.
"""

from __future__ import annotations

import pathlib
import sqlite3
import sys
import tempfile

from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run

import outcome
from outcome import DurableSaga, Ok, Result, SqliteJournal, Step

TARGET = 2.0
RUNS = 20  # sagas per call, so that a call is long enough to time well


def _connect(path: pathlib.Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS rows (step TEXT, value INTEGER)")
    return connection


def main() -> int:
    """Time both contenders and print the table."""
    settings = parse_settings(__doc__, number=5, quick_number=1)
    folder = pathlib.Path(tempfile.mkdtemp())
    app = _connect(folder / "app.db")

    def commit_row(step: str) -> int:
        app.execute("BEGIN")
        app.execute("INSERT INTO rows VALUES (?, 1)", (step,))
        app.execute("COMMIT")
        return 1

    def action(step: str) -> object:
        def run_step(_ctx: object) -> Result[int, str]:
            return Ok(commit_row(step))

        return run_step

    names = ("authorise", "mark_processing", "enqueue_payment")
    saga = DurableSaga(
        "checkout",
        [Step(name, action(name)) for name in names],  # type: ignore[arg-type]
        journal=SqliteJournal(folder / "sagas.db"),
        context=lambda data, _saga_id: data,
    )

    def by_hand() -> None:
        for _ in range(RUNS):
            for name in names:
                commit_row(name)

    def durable() -> None:
        for _ in range(RUNS):
            saga.run({"order": "A-17"})

    contenders = [
        Contender("three transactions", calls(by_hand), operations=RUNS),
        Contender("durable saga", calls(durable), operations=RUNS),
    ]
    comparisons = [
        Comparison(
            "three steps that each commit a row",
            "three transactions",
            (
                Entry("three transactions", "three transactions"),
                Entry("durable saga on SQLite", "durable saga", target=TARGET),
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
