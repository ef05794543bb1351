"""
Type-level tests of durable sagas, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

from typing import Any, assert_type

from outcome import (
    DurableSaga,
    Errors,
    Journal,
    JournalError,
    LeaseLost,
    Ok,
    PostgresJournal,
    Recovery,
    Result,
    SagaFailure,
    SqliteJournal,
    Step,
    recover,
)


def order_context(data: dict[str, str], saga_id: str) -> dict[str, str]:
    return {**data, "saga_id": saga_id}


def reserve(ctx: dict[str, str]) -> Result[str, Errors]:
    return Ok(ctx["order"])


def durable_sagas(journal: SqliteJournal) -> None:
    saga = DurableSaga(
        "checkout", [Step("reserve", reserve)], journal=journal, context=order_context
    )
    assert_type(saga, DurableSaga[dict[str, str], dict[str, str]])
    assert_type(saga.run({"order": "A-17"}), Result[dict[str, object], SagaFailure])
    assert_type(saga.transactional, bool)
    assert_type(saga.resumable, frozenset[str])
    # The input is the context factory's: another type is refused.
    saga.run(["A-17"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A journal is required, and must be a Journal.
    path = "sagas.db"
    DurableSaga("x", [], journal=path, context=order_context)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def recovering(saga: DurableSaga[Any, Any]) -> None:
    reports = recover([saga])
    assert_type(reports, list[Recovery])
    report = reports[0]
    assert_type(report.result, Result[dict[str, object], SagaFailure] | None)
    assert_type(report.problem, str | None)


def journals(journal: Journal) -> None:
    assert_type(journal.where, str)
    assert_type(SqliteJournal("sagas.db").path, str)
    assert_type(PostgresJournal("postgresql://db/shop").schema, str)
    lost: JournalError = LeaseLost("claimed")  # a LeaseLost is a JournalError
    assert isinstance(lost, JournalError)
    wrong: LeaseLost = JournalError("locked")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del wrong
