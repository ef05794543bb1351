"""
The embedded journal: one SQLite file, no server.

WAL mode with ``synchronous=FULL``: with NORMAL, a commit might roll back after
a power loss, and a journal that forgets an intent is no journal. A busy
timeout lets several processes share the file; each thread has its own
connection.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Final, cast, final

from outcome._journal.store import (
    _CLAIM,
    _FINISHED,
    _SAGA,
    _SCHEMA_VERSION,
    Journal,
    JournalEntry,
    JournalError,
    LeaseLost,
    SagaRecord,
    _entry_row,
    _record_of,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from outcome._journal.store import _EntryRow, _SagaRow

_SCHEMA: Final = (
    "CREATE TABLE outcome_schema (version INTEGER NOT NULL)",
    (
        "CREATE TABLE outcome_sagas ("
        " id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,"
        " steps TEXT NOT NULL, input TEXT NOT NULL,"
        " finished INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE outcome_journal ("
        " saga_id TEXT NOT NULL REFERENCES outcome_sagas (id),"
        " seq INTEGER NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL,"
        " event TEXT NOT NULL, payload TEXT NOT NULL, at REAL NOT NULL,"
        " lease_until REAL NOT NULL, PRIMARY KEY (saga_id, seq)) WITHOUT ROWID"
    ),
)
_INSERT_ENTRY: Final = "INSERT INTO outcome_journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
# A write's entries go in one statement, of at most 100 rows: 800 parameters,
# under the 999 the oldest SQLite allows.
_ROWS_PER_INSERT: Final = 100
_INSERTS: Final[dict[int, str]] = {}  # the statement for each count, made once


def _insert_entries(count: int) -> str:
    """The INSERT of `count` entries at once."""
    statement = _INSERTS.get(count)
    if statement is None:
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * count)
        # Only placeholders are joined in: the values are parameters.
        statement = f"INSERT INTO outcome_journal VALUES {rows}"  # noqa: S608
        _INSERTS[count] = statement
    return statement


def _insert(
    connection: sqlite3.Connection, saga_id: str, rows: Sequence[_EntryRow]
) -> None:
    """Insert the entries `rows` of `saga_id`: one statement per 100."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        values: list[object] = []
        for row in chunk:
            values += (saga_id, *row)
        connection.execute(_insert_entries(len(chunk)), values)


# Sagas whose last entry says they ended are marked closed when recovery looks.
_CLOSE_ENDED: Final = (
    "UPDATE outcome_sagas AS s SET finished = 1 WHERE finished = 0"
    " AND (SELECT event FROM outcome_journal j WHERE j.saga_id = s.id"
    " ORDER BY seq DESC LIMIT 1) IN ('done', 'failed')"
)
_EXPIRED: Final = (
    "SELECT id, name, version, steps, input FROM outcome_sagas s WHERE finished = 0"
    " AND (SELECT lease_until FROM outcome_journal j WHERE j.saga_id = s.id"
    " ORDER BY seq DESC LIMIT 1) < ? ORDER BY id"
)
_ENTRIES: Final = (
    "SELECT seq, step, phase, event, payload, at, lease_until FROM outcome_journal"
    " WHERE saga_id = ? ORDER BY seq"
)


@final
class SqliteJournal(Journal):
    """
    A journal in one SQLite file: the embedded default, for one machine.

    The file and its tables are created on first use. Several processes on
    one machine may share it; for several machines use `PostgresJournal`.

    Args:
        path: The file; it is created if missing.
        timeout: How long, in seconds, to wait for another process's write
            before failing.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> journal = SqliteJournal(pathlib.Path(folder) / "sagas.db")
    >>> journal.expired(now=0.0)
    []

    Raises:
        JournalError: When the file is locked for longer than `timeout`, is
            not a SQLite database (or is corrupt), or holds tables of another
            schema version; the message names the file and what to do.
        ValueError: When `timeout` is not a positive number of seconds.

    .. versionadded:: 0.2.0
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        if isinstance(timeout, bool) or not isinstance(
            cast("object", timeout), int | float
        ):
            msg = f"SqliteJournal timeout must be a number of seconds, not {timeout!r}"
            raise TypeError(msg)
        if not timeout > 0:
            msg = f"SqliteJournal timeout must be positive, not {timeout!r}"
            raise ValueError(msg)
        self.path: Final = os.fspath(path)
        self.timeout: Final = float(timeout)
        self._local = threading.local()
        self._connection()  # fails now, before any saga starts, if it must

    @property
    def where(self) -> str:
        """The file, as messages name it."""
        return repr(self.path)

    def __repr__(self) -> str:
        return f"SqliteJournal({self.path!r})"

    # Connections --------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        import sqlite3  # noqa: PLC0415 - only a journal needs it; import outcome stays light

        try:
            connection = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            self._check_schema(connection)
        except sqlite3.Error as exc:
            connection.close()
            raise self._error(exc) from exc
        except JournalError:
            connection.close()
            raise
        return connection

    def _check_schema(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # two processes may create it at once
        try:
            version = self._version(connection)
            if version is None:
                for statement in _SCHEMA:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO outcome_schema VALUES (?)", (_SCHEMA_VERSION,)
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        if version not in (None, _SCHEMA_VERSION):
            msg = (
                f"journal {self.path!r} has tables of schema version {version!r}, "
                f"and this outcome reads version {_SCHEMA_VERSION}: run the outcome "
                "that wrote it to recover its sagas, or give another file"
            )
            raise JournalError(msg)

    def _version(self, connection: sqlite3.Connection) -> object:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master"
            " WHERE type = 'table' AND name = 'outcome_schema'"
        ).fetchone()
        if found is None:
            return None
        row = connection.execute("SELECT version FROM outcome_schema").fetchone()
        return "none" if row is None else row[0]

    def _error(self, exc: Exception) -> JournalError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            what = (
                f"is locked by another connection for longer than {self.timeout}s: "
                "find the process holding it, or give a longer timeout"
            )
        elif "not a database" in text or "malformed" in text:
            what = (
                "is not a SQLite database, or is corrupt: move it aside (keep it "
                "for whoever must read it) and give a new file"
            )
        else:
            what = f"cannot be used ({text}): check the path and its permissions"
        return JournalError(f"journal {self.path!r} {what}")

    def close(self) -> None:
        """Close this thread's connection; it is opened again when needed."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            self._local.connection = None
            connection.close()

    # Writing ------------------------------------------------------------------

    @property
    def connection(self) -> sqlite3.Connection:
        """
        This thread's connection to the file, for steps that write to it.

        With ``DurableSaga(transactional=True)``, what a step writes through
        it is committed with the step's outcome, or rolled back if it fails.
        """
        return self._connection()

    def open_transaction(self) -> None:
        """Begin a transaction on this thread's connection, for the next write."""
        connection = self._connection()
        try:
            if not connection.in_transaction:
                # IMMEDIATE: the write lock now, so that a step that reads and
                # then writes never finds its snapshot stale. Other writers of
                # the file wait (up to the timeout) while the step runs.
                connection.execute("BEGIN IMMEDIATE")
        except connection.Error as exc:  # sqlite3.Error, with no import to run
            raise self._error(exc) from exc

    def rollback(self) -> None:
        """Discard what was written since `open_transaction`, if anything."""
        import sqlite3  # noqa: PLC0415 - already imported by _open: a dict lookup

        connection = self._connection()
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def begin(self, record: SagaRecord) -> None:
        """Store a new saga with its first entries, in one transaction."""
        self._begin_rows(
            (record.saga_id, record.name, record.version, record.steps, record.input),
            [_entry_row(entry) for entry in record.entries],
        )

    def _begin_rows(self, saga: _SagaRow, rows: list[_EntryRow]) -> None:
        self._write(saga[0], rows, saga=saga)

    def append(
        self, saga_id: str, entries: Sequence[JournalEntry], *, finished: bool = False
    ) -> None:
        """
        Store entries of a saga in one transaction; `finished` closes it.

        The saga's own row is marked closed later, by `expired`: its last
        entry already says it ended, and one page fewer is written (and
        synced) at the end of every saga.
        """
        del finished  # the last entry says so
        self._write(saga_id, [_entry_row(entry) for entry in entries])

    def _write(
        self,
        saga_id: str,
        rows: Sequence[_EntryRow],
        *,
        saga: _SagaRow | None = None,
    ) -> None:
        connection = self._connection()
        try:
            if not connection.in_transaction:  # else the one a step wrote in
                connection.execute("BEGIN")
            try:
                if saga is not None:
                    connection.execute(
                        "INSERT INTO outcome_sagas VALUES (?, ?, ?, ?, ?, 0)", saga
                    )
                _insert(connection, saga_id, rows)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        # The connection's own sqlite3 exception classes: no import to run.
        except connection.IntegrityError:
            if saga is not None:
                msg = f"journal {self.path!r} already holds a saga {saga_id!r}"
                raise JournalError(msg) from None
            msg = (
                f"saga {saga_id!r} was claimed by a recoverer while it ran (a step "
                "took longer than the lease?): this process must leave it"
            )
            raise LeaseLost(msg) from None
        except connection.Error as exc:
            raise self._error(exc) from exc

    def _append_rows(
        self, saga_id: str, rows: list[_EntryRow], *, finished: bool = False
    ) -> None:
        del finished  # as in append: the last entry says so
        self._write(saga_id, rows)

    # Recovering ---------------------------------------------------------------

    def expired(self, now: float) -> list[SagaRecord]:
        """The sagas in flight whose lease ended before `now`, without entries."""
        import sqlite3  # noqa: PLC0415 - already imported by _open: a dict lookup

        connection = self._connection()
        try:
            connection.execute(_CLOSE_ENDED)
            rows = connection.execute(_EXPIRED, (now,)).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return [_record_of(row) for row in rows]

    def claim(self, saga_id: str, now: float, lease: float) -> SagaRecord | None:
        """Take over a saga whose lease has expired; `None` if another process has."""
        import sqlite3  # noqa: PLC0415 - already imported by _open: a dict lookup

        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one claimer at a time
            try:
                claimed = self._claim(connection, saga_id, now, lease)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return claimed

    def _claim(
        self, connection: sqlite3.Connection, saga_id: str, now: float, lease: float
    ) -> SagaRecord | None:
        row = connection.execute(
            "SELECT id, name, version, steps, input FROM outcome_sagas"
            " WHERE id = ? AND finished = 0",
            (saga_id,),
        ).fetchone()
        if row is None:
            return None
        entries = [
            JournalEntry(*found) for found in connection.execute(_ENTRIES, (saga_id,))
        ]
        if entries and entries[-1].event in _FINISHED:
            return None  # it ended, and is not marked closed yet
        if entries and entries[-1].lease_until >= now:
            return None
        seq = entries[-1].seq + 1 if entries else 1
        claim = JournalEntry(seq, "", _SAGA, _CLAIM, "{}", now, now + lease)
        connection.execute(_INSERT_ENTRY, (saga_id, *_entry_row(claim)))
        return _record_of(row, (*entries, claim))
