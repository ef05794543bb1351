"""Durable sagas: the journal they write, its two stores, and recovery."""

from outcome._journal.durable import DurableSaga, Recovery, recover
from outcome._journal.postgres import PostgresJournal
from outcome._journal.sqlite import SqliteJournal
from outcome._journal.store import (
    Journal,
    JournalEntry,
    JournalError,
    LeaseLost,
    SagaRecord,
)

__all__ = [
    "DurableSaga",
    "Journal",
    "JournalEntry",
    "JournalError",
    "LeaseLost",
    "PostgresJournal",
    "Recovery",
    "SagaRecord",
    "SqliteJournal",
    "recover",
]
