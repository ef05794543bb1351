"""
What a durable saga's journal stores, and the interface its stores provide.

A journal holds, for each saga, one row that says what it is (its name,
version, step names and JSON input) and the entries written as it runs: the
intent of each step and each compensation before it runs, and its outcome
after. Entries are numbered per saga; that number is also the lock. A writer
that finds its next number taken knows that a recoverer has claimed the saga,
and stops (`LeaseLost`).
"""

from __future__ import annotations

import abc
import json
import json.encoder
import math
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast, final

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence

_SCHEMA_VERSION: Final = 1
"""The version of the tables this outcome writes and reads."""

# Phases: what an entry is about.
_ACTION: Final = "action"
_COMPENSATE: Final = "compensate"
_COMPENSATE_FAILED: Final = "compensate_failed"
_SAGA: Final = "saga"  # the saga as a whole: a claim, its end

# Events: what happened.
_INTENT: Final = "intent"
_OK: Final = "ok"
_ERR: Final = "err"
_CLAIM: Final = "claim"
_DONE: Final = "done"
_FAILED: Final = "failed"

_FINISHED: Final = (_DONE, _FAILED)


class JournalError(Exception):
    """
    The journal cannot be used: it is locked, corrupt, or of another version.

    The message names the journal (its file or database) and what to do. A
    saga whose journal raises this at the start never runs a step.

    >>> str(JournalError("journal 'sagas.db' is locked"))
    "journal 'sagas.db' is locked"

    .. versionadded:: 0.2.0
    """


class LeaseLost(JournalError):  # noqa: N818 - it is an error; the name says which
    """
    A recoverer claimed this saga while it ran: its process must stop it.

    Raised by a durable saga when the journal shows that another process took
    the saga over (its lease had expired: a step ran longer than the lease).
    Nothing is compensated by the process that gets it: the saga is the
    recoverer's now.

    >>> issubclass(LeaseLost, JournalError)
    True

    .. versionadded:: 0.2.0
    """


@final
@attrs.frozen
class JournalEntry:
    """
    One row of a saga's journal.

    Attributes:
        seq: Its number within the saga, from 1.
        step: The step it is about; empty for the saga as a whole.
        phase: ``"action"``, ``"compensate"``, ``"compensate_failed"`` or
            ``"saga"``.
        event: ``"intent"``, ``"ok"``, ``"err"``, ``"claim"``, ``"done"`` or
            ``"failed"``.
        payload: JSON text: the log of an ``ok`` action, the error codes of
            an ``err``.
        at: When it was written, in seconds since the epoch.
        lease_until: Until when the writer holds the saga; a recoverer may
            claim it after that.

    >>> JournalEntry(1, "reserve", "action", "intent", "{}", 0.0, 60.0).event
    'intent'

    .. versionadded:: 0.2.0
    """

    seq: int
    step: str
    phase: str
    event: str
    payload: str
    at: float
    lease_until: float


@final
@attrs.frozen
class SagaRecord:
    """
    A saga as its journal row has it, and its entries so far.

    Attributes:
        saga_id: Its id, unique in the journal.
        name: The name of its definition (`DurableSaga.name`).
        version: The version of its definition when it started.
        steps: The names of its steps when it started, in order, as JSON text.
        input: Its input, as JSON text.
        entries: Its entries, in order.

    .. versionadded:: 0.2.0
    """

    saga_id: str
    name: str
    version: int
    steps: str
    input: str
    entries: tuple[JournalEntry, ...] = ()


# What a durable saga writes as it runs, kept as the tuples a store writes:
# the saga's (id, name, version, steps, input), and each entry's fields in
# JournalEntry's order.
_SagaRow: TypeAlias = tuple[str, str, int, str, str]
_EntryRow: TypeAlias = tuple[int, str, str, str, str, float, float]


class Journal(abc.ABC):
    """
    Where durable sagas record what they do, for `recover` to read after a crash.

    `SqliteJournal` and `PostgresJournal` are the two stores; the methods here
    are what `DurableSaga` and `recover` call, not an API for applications.

    .. versionadded:: 0.2.0
    """

    @property
    @abc.abstractmethod
    def where(self) -> str:
        """The journal's file or database, as error messages name it."""

    @property
    @abc.abstractmethod
    def connection(self) -> Any:  # noqa: ANN401 - each store's own connection type
        """This thread's connection, for steps that write to the journal's database."""

    @abc.abstractmethod
    def open_transaction(self) -> None:
        """Begin a transaction on this thread's connection, for the next write."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard what was written since `open_transaction`, if anything."""

    @abc.abstractmethod
    def begin(self, record: SagaRecord) -> None:
        """Store a new saga and its first entries, in one transaction."""

    def _begin_rows(self, saga: _SagaRow, rows: list[_EntryRow]) -> None:
        """`begin`, given the saga's row and its entries' rows as tuples."""
        self.begin(SagaRecord(*saga, tuple(JournalEntry(*row) for row in rows)))

    def _append_rows(
        self, saga_id: str, rows: list[_EntryRow], *, finished: bool = False
    ) -> None:
        """`append`, given the entries' rows as tuples."""
        self.append(saga_id, [JournalEntry(*row) for row in rows], finished=finished)

    @abc.abstractmethod
    def append(
        self, saga_id: str, entries: Sequence[JournalEntry], *, finished: bool = False
    ) -> None:
        """
        Store `entries` of a saga in one transaction; `finished` closes it.

        When `open_transaction` began one, the entries are written in it and
        it is committed, with whatever a step wrote in it meanwhile.

        Raises:
            LeaseLost: When another writer stored an entry of the same number:
                a recoverer has claimed the saga.
        """

    @abc.abstractmethod
    def expired(self, now: float) -> list[SagaRecord]:
        """The sagas in flight whose lease ended before `now`, without entries."""

    @abc.abstractmethod
    def claim(self, saga_id: str, now: float, lease: float) -> SagaRecord | None:
        """
        Take over a saga whose lease has expired; `None` if another process has.

        Reads the saga and its entries and appends a ``claim`` entry, in one
        transaction, so that two recoverers never both act on one saga.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Close this thread's connection; the journal opens another if used again."""


def _encode(value: object, what: str) -> str:
    """
    `value` as compact JSON text, or a TypeError saying what it is and why not.

    Only JSON values are stored, so that what a saga reads back after a crash
    is what it wrote: no float that is not finite, no key that is not a str.
    A tuple is stored, and read back, as a list.
    """
    kind = type(value)
    if kind is str:
        return _encode_str(cast("str", value))
    if kind is int:  # its repr is its JSON, as a finite float's is
        return repr(value)
    if kind is float and math.isfinite(cast("float", value)):
        return repr(value)
    if not _json_shaped(value):
        msg = (
            f"{what} {value!r} cannot be stored in the journal; use JSON values "
            "only: str, int, finite float, bool, None, and lists and dicts of "
            "them with str keys"
        )
        raise TypeError(msg)
    return _ENCODER.encode(value)


# Made once: json.dumps with options builds an encoder per call.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"))
_encode_str: Final = json.encoder.encode_basestring_ascii  # what _ENCODER does


def _json_shaped(value: object) -> bool:
    """Whether `value` reads back from JSON as itself (a tuple as a list)."""
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        mapping = cast("dict[object, object]", value)
        return all(
            type(key) is str and _json_shaped(item) for key, item in mapping.items()
        )
    if isinstance(value, list | tuple):
        items = cast("list[object] | tuple[object, ...]", value)
        return all(_json_shaped(item) for item in items)
    return False


def _entry_row(entry: JournalEntry) -> tuple[Any, ...]:
    """An entry's fields, in the order of the table's columns after the saga id."""
    return (
        entry.seq,
        entry.step,
        entry.phase,
        entry.event,
        entry.payload,
        entry.at,
        entry.lease_until,
    )


def _record_of(row: Sequence[Any], entries: Sequence[JournalEntry] = ()) -> SagaRecord:
    """A saga's row (id, name, version, steps, input) and entries, as a record."""
    saga_id, name, version, steps, text = row
    return SagaRecord(saga_id, name, version, steps, text, tuple(entries))
