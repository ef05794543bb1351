"""
The journal for many machines: tables in a PostgreSQL database, through psycopg 3.

Its tables can live in the application's own database, in a schema of its
choice. A recoverer claims a saga with ``SELECT ... FOR UPDATE SKIP LOCKED``,
so that recoverers on several machines pass over one another's sagas instead
of waiting for them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Final, LiteralString, cast, final

from outcome._journal.store import (
    _CLAIM,
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
    from collections.abc import Callable, Sequence

    import psycopg

_TABLES: Final[tuple[LiteralString, ...]] = (
    "CREATE TABLE IF NOT EXISTS {schema}.outcome_schema (version INTEGER NOT NULL)",
    (
        "CREATE TABLE IF NOT EXISTS {schema}.outcome_sagas ("
        " id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,"
        " steps TEXT NOT NULL, input TEXT NOT NULL,"
        " finished BOOLEAN NOT NULL DEFAULT FALSE)"
    ),
    (
        "CREATE INDEX IF NOT EXISTS outcome_sagas_open ON {schema}.outcome_sagas (id)"
        " WHERE NOT finished"
    ),
    (
        "CREATE TABLE IF NOT EXISTS {schema}.outcome_journal ("
        " saga_id TEXT NOT NULL REFERENCES {schema}.outcome_sagas (id),"
        " seq INTEGER NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL,"
        " event TEXT NOT NULL, payload TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,"
        " lease_until DOUBLE PRECISION NOT NULL, PRIMARY KEY (saga_id, seq))"
    ),
)
_QUERIES: Final[dict[str, LiteralString]] = {
    "entry": "INSERT INTO {schema}.outcome_journal VALUES"
    " (%s, %s, %s, %s, %s, %s, %s, %s)",
    "saga": "INSERT INTO {schema}.outcome_sagas VALUES (%s, %s, %s, %s, %s, FALSE)",
    "finish": "UPDATE {schema}.outcome_sagas SET finished = TRUE WHERE id = %s",
    "expired": "SELECT id, name, version, steps, input FROM {schema}.outcome_sagas s"
    " WHERE NOT finished AND (SELECT lease_until FROM {schema}.outcome_journal j"
    " WHERE j.saga_id = s.id ORDER BY seq DESC LIMIT 1) < %s ORDER BY id",
    "lock": "SELECT id, name, version, steps, input FROM {schema}.outcome_sagas"
    " WHERE id = %s AND NOT finished FOR UPDATE SKIP LOCKED",
    "entries": "SELECT seq, step, phase, event, payload, at, lease_until"
    " FROM {schema}.outcome_journal WHERE saga_id = %s ORDER BY seq",
    "version": "SELECT version FROM {schema}.outcome_schema",
    "set_version": "INSERT INTO {schema}.outcome_schema VALUES (%s)",
    "create_schema": "CREATE SCHEMA IF NOT EXISTS {schema}",
}
_LOCK: Final = 0x6F7574636F6D65  # "outcome": one schema creator at a time


@final
class PostgresJournal(Journal):
    """
    A journal in a PostgreSQL database, for sagas run and recovered on many machines.

    Needs psycopg 3 (``pip install 'outcome-kit[postgres]'``). The tables
    (``outcome_schema``, ``outcome_sagas``, ``outcome_journal``) are created on
    first use, in `schema`, which may be the application's own database.

    Args:
        dsn: A libpq connection string or URI, such as
            ``"postgresql://app@db.internal/shop"``.
        schema: The schema the tables live in; it is created if missing.

    Raises:
        JournalError: When the database cannot be reached, or its tables are
            of another schema version; the message names the database (never
            its password) and what to do.
        ValueError: When `schema` is not a plain identifier.

    .. versionadded:: 0.2.0
    """

    def __init__(self, dsn: str, *, schema: str = "public") -> None:
        if not isinstance(cast("object", dsn), str) or not dsn:
            msg = f"PostgresJournal takes a connection string, not {dsn!r}"
            raise TypeError(msg)
        if not (isinstance(cast("object", schema), str) and schema.isidentifier()):
            msg = (
                f"PostgresJournal schema must be a plain identifier (letters, digits "
                f"and _), not {schema!r}"
            )
            raise ValueError(msg)
        self.dsn: Final = dsn
        self.schema: Final = schema
        self._local = threading.local()
        from psycopg import sql  # noqa: PLC0415 - an optional dependency

        self._sql: dict[str, sql.Composed] = {
            name: sql.SQL(query).format(schema=sql.Identifier(schema))
            for name, query in _QUERIES.items()
        }
        self._connection()  # fails now, before any saga starts, if it must

    @property
    def where(self) -> str:
        """The database, as messages name it: host, port and name, no password."""
        import psycopg  # noqa: PLC0415 - an optional dependency
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415 - likewise

        try:
            parts = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return "a PostgreSQL database (its connection string does not parse)"
        host = parts.get("host", "localhost")
        port = parts.get("port", 5432)
        name = parts.get("dbname", "")
        return f"postgresql://{host}:{port}/{name} (schema {self.schema})"

    def __repr__(self) -> str:
        return f"PostgresJournal({self.where!r})"

    # Connections --------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(
            self._local, "connection", None
        )
        if connection is None or connection.closed:
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> psycopg.Connection[Any]:
        import psycopg  # noqa: PLC0415 - an optional dependency

        try:
            connection = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.Error as exc:
            msg = (
                f"journal {self.where} cannot be reached ({type(exc).__name__}): "
                "check that PostgreSQL runs there and the connection string"
            )
            raise JournalError(msg) from None
        try:
            self._check_schema(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_schema(self, connection: psycopg.Connection[Any]) -> None:
        from psycopg import sql  # noqa: PLC0415 - an optional dependency

        schema = sql.Identifier(self.schema)
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            connection.execute(self._sql["create_schema"])
            for statement in _TABLES:
                connection.execute(sql.SQL(statement).format(schema=schema))
            row = connection.execute(self._sql["version"]).fetchone()
            if row is None:
                connection.execute(self._sql["set_version"], (_SCHEMA_VERSION,))
                return
        if row[0] != _SCHEMA_VERSION:
            msg = (
                f"journal {self.where} has tables of schema version {row[0]!r}, and "
                f"this outcome reads version {_SCHEMA_VERSION}: run the outcome that "
                "wrote them to recover their sagas, or give another schema"
            )
            raise JournalError(msg)

    def close(self) -> None:
        """Close this thread's connection; it is opened again when needed."""
        connection: psycopg.Connection[Any] | None = getattr(
            self._local, "connection", None
        )
        if connection is not None:
            self._local.connection = None
            connection.close()

    # Writing ------------------------------------------------------------------

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """
        This thread's connection to the database, for steps that write to it.

        With ``DurableSaga(transactional=True)``, what a step writes through
        it is committed with the step's outcome, or rolled back if it fails.
        The connection is in autocommit mode outside those transactions.
        """
        return self._connection()

    def open_transaction(self) -> None:
        """Begin a transaction on this thread's connection, for the next write."""
        connection = self._connection()
        if not _in_transaction(connection):
            connection.execute("BEGIN")

    def rollback(self) -> None:
        """Discard what was written since `open_transaction`, if anything."""
        connection = self._connection()
        if _in_transaction(connection):
            connection.execute("ROLLBACK")

    def _atomically(
        self, connection: psycopg.Connection[Any], write: Callable[[], None]
    ) -> None:
        """Run `write` in one transaction: a new one, or the one a step wrote in."""
        if not _in_transaction(connection):
            with connection.transaction():
                write()
            return
        try:
            write()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def begin(self, record: SagaRecord) -> None:
        """Store a new saga with its first entries, in one transaction."""
        import psycopg  # noqa: PLC0415 - an optional dependency

        connection = self._connection()
        saga = (record.saga_id, record.name, record.version, record.steps, record.input)

        def write() -> None:
            connection.execute(self._sql["saga"], saga)
            self._insert(connection, record.saga_id, record.entries)

        try:
            self._atomically(connection, write)
        except psycopg.errors.UniqueViolation:
            msg = f"journal {self.where} already holds a saga {record.saga_id!r}"
            raise JournalError(msg) from None

    def append(
        self, saga_id: str, entries: Sequence[JournalEntry], *, finished: bool = False
    ) -> None:
        """Store entries of a saga in one transaction; `finished` closes it."""
        import psycopg  # noqa: PLC0415 - an optional dependency

        connection = self._connection()

        def write() -> None:
            self._insert(connection, saga_id, entries)
            if finished:
                connection.execute(self._sql["finish"], (saga_id,))

        try:
            self._atomically(connection, write)
        except psycopg.errors.UniqueViolation:
            msg = (
                f"saga {saga_id!r} was claimed by a recoverer while it ran (a step "
                "took longer than the lease?): this process must leave it"
            )
            raise LeaseLost(msg) from None

    def _insert(
        self,
        connection: psycopg.Connection[Any],
        saga_id: str,
        entries: Sequence[JournalEntry],
    ) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                self._sql["entry"], [(saga_id, *_entry_row(entry)) for entry in entries]
            )

    # Recovering ---------------------------------------------------------------

    def expired(self, now: float) -> list[SagaRecord]:
        """The sagas in flight whose lease ended before `now`, without entries."""
        rows = self._connection().execute(self._sql["expired"], (now,)).fetchall()
        return [_record_of(row) for row in rows]

    def claim(self, saga_id: str, now: float, lease: float) -> SagaRecord | None:
        """Take over a saga whose lease has expired; `None` if another process has."""
        connection = self._connection()
        with connection.transaction():
            # A runner's write holds a key-share lock on the saga's row (the
            # journal's foreign key), so SKIP LOCKED passes over a saga being
            # written as over one another recoverer holds; and a runner that
            # writes after the claim waits for it, then finds its number taken.
            row = connection.execute(self._sql["lock"], (saga_id,)).fetchone()
            if row is None:
                return None
            entries = [
                JournalEntry(*found)
                for found in connection.execute(self._sql["entries"], (saga_id,))
            ]
            if entries and entries[-1].lease_until >= now:
                return None
            seq = entries[-1].seq + 1 if entries else 1
            claim = JournalEntry(seq, "", _SAGA, _CLAIM, "{}", now, now + lease)
            connection.execute(self._sql["entry"], (saga_id, *_entry_row(claim)))
        return _record_of(row, (*entries, claim))


def _in_transaction(connection: psycopg.Connection[Any]) -> bool:
    """Whether a transaction is open on `connection` (it is in autocommit mode)."""
    from psycopg.pq import TransactionStatus  # noqa: PLC0415 - an optional dependency

    return connection.info.transaction_status is not TransactionStatus.IDLE
