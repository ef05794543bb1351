"""Durable sagas: the journal's two stores, the runs they record, and recovery."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from outcome import (
    Bucket,
    DurableSaga,
    Err,
    ErrorDetail,
    Errors,
    Journal,
    JournalEntry,
    JournalError,
    LeaseLost,
    Ok,
    PostgresJournal,
    Recovery,
    Result,
    SagaFailure,
    SagaRecord,
    SqliteJournal,
    Step,
    recover,
)
from outcome._journal import durable
from tests import durable_crash

if TYPE_CHECKING:
    from collections.abc import Iterator

POSTGRES_DSN = os.environ.get(
    "OUTCOME_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
LATER = time.time() + 3600  # after any lease a test's saga took


def _postgres_or_skip() -> None:
    """Skip (fail under CI=true) when no PostgreSQL answers, saying why."""
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(POSTGRES_DSN, connect_timeout=2).close()
    except psycopg.Error as exc:
        reason = (
            f"no PostgreSQL answers at {POSTGRES_DSN} ({type(exc).__name__}); "
            "start one or set OUTCOME_TEST_POSTGRES_DSN"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the PostgreSQL tests, not skip them")
        pytest.skip(reason)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A schema of the test's own in the test database, dropped afterwards."""
    _postgres_or_skip()
    import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

    schema = f"outcome_test_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A journal's address: a SQLite file, or a DSN with #schema."""
    if request.param == "sqlite":
        return str(tmp_path / "sagas.db")
    schema = request.getfixturevalue("postgres_schema")
    return f"{POSTGRES_DSN}#{schema}"


@pytest.fixture
def journal(where: str) -> Iterator[Journal]:
    """The journal at `where`, closed afterwards."""
    opened = durable_crash.open_journal(where)
    yield opened
    opened.close()


def rows(journal: Journal) -> list[tuple[str, str, str, str]]:
    """Every entry of every saga: id, step, phase, event, in order."""
    found = []
    for record in _all(journal):
        found.extend(
            (record.saga_id, entry.step, entry.phase, entry.event)
            for entry in record.entries
        )
    return found


def _all(journal: Journal) -> list[SagaRecord]:
    """Every saga of `journal` with its entries, finished or not."""
    if isinstance(journal, SqliteJournal):
        connection = sqlite3.connect(journal.path)
        sagas = connection.execute(
            "SELECT id, name, version, steps, input, finished FROM outcome_sagas"
        ).fetchall()
        entries = connection.execute(
            "SELECT saga_id, seq, step, phase, event, payload, at, lease_until"
            " FROM outcome_journal ORDER BY saga_id, seq"
        ).fetchall()
        connection.close()
    else:
        import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

        assert isinstance(journal, PostgresJournal)
        with psycopg.connect(journal.dsn) as connection:
            schema = journal.schema
            sagas = connection.execute(
                f'SELECT id, name, version, steps, input, finished FROM "{schema}".'  # noqa: S608 - a test schema
                "outcome_sagas"
            ).fetchall()
            entries = connection.execute(
                "SELECT saga_id, seq, step, phase, event, payload, at, lease_until"  # noqa: S608 - a test schema
                f' FROM "{schema}".outcome_journal ORDER BY saga_id, seq'
            ).fetchall()
    return [
        SagaRecord(
            saga_id,
            name,
            version,
            steps,
            text,
            tuple(JournalEntry(*entry[1:]) for entry in entries if entry[0] == saga_id),
        )
        for saga_id, name, version, steps, text, _ in sagas
    ]


def _finished(journal: Journal) -> list[bool]:
    """Whether each saga of `journal` is closed."""
    return [record.entries[-1].event in {"done", "failed"} for record in _all(journal)]


def identity(data: Any, saga_id: str) -> Any:
    """The context: the input as it was stored."""
    del saga_id
    return data


def one_step(journal: Journal, **options: Any) -> DurableSaga[Any, Any]:
    """A saga of one step that succeeds, logging its input's sku."""
    return DurableSaga(
        "hold",
        [Step("reserve", lambda ctx: Ok(ctx["sku"]), lambda ctx, log: None)],
        journal=journal,
        context=identity,
        **options,
    )


class TestSqliteJournal:
    """The file: its settings, its schema, and the errors a bad one gets."""

    def test_the_file_is_in_wal_mode_with_full_sync(
        self, tmp_path: pathlib.Path
    ) -> None:
        """A commit survives a power loss: WAL with synchronous=FULL (2)."""
        journal = SqliteJournal(tmp_path / "sagas.db")
        connection = journal._connection()
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)

    def test_the_schema_is_created_once_and_versioned(
        self, tmp_path: pathlib.Path
    ) -> None:
        """Opening the file again finds its tables, of version 1."""
        SqliteJournal(tmp_path / "sagas.db").close()
        SqliteJournal(tmp_path / "sagas.db").close()
        connection = sqlite3.connect(tmp_path / "sagas.db")
        assert connection.execute("SELECT version FROM outcome_schema").fetchall() == [
            (1,)
        ]

    def test_another_schema_version_is_refused(self, tmp_path: pathlib.Path) -> None:
        """Tables of another version: an error naming the file and what to do."""
        SqliteJournal(tmp_path / "sagas.db").close()
        connection = sqlite3.connect(tmp_path / "sagas.db")
        connection.execute("UPDATE outcome_schema SET version = 7")
        connection.commit()
        connection.close()
        with pytest.raises(JournalError, match=r"sagas\.db.*schema version 7.*another"):
            SqliteJournal(tmp_path / "sagas.db")

    def test_an_empty_version_table_is_refused(self, tmp_path: pathlib.Path) -> None:
        """A version table with no row is another schema too."""
        connection = sqlite3.connect(tmp_path / "sagas.db")
        connection.execute("CREATE TABLE outcome_schema (version INTEGER)")
        connection.commit()
        connection.close()
        with pytest.raises(JournalError, match="schema version 'none'"):
            SqliteJournal(tmp_path / "sagas.db")

    def test_tables_of_someone_else_are_not_overwritten(
        self, tmp_path: pathlib.Path
    ) -> None:
        """A table of the same name but no version: an error, and nothing created."""
        connection = sqlite3.connect(tmp_path / "sagas.db")
        connection.execute("CREATE TABLE outcome_sagas (anything TEXT)")
        connection.commit()
        with pytest.raises(JournalError, match=r"already exists.*check the path"):
            SqliteJournal(tmp_path / "sagas.db")
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == [("outcome_sagas",)]
        connection.close()

    def test_a_corrupt_file_is_refused(self, tmp_path: pathlib.Path) -> None:
        """A file that is no database: named, with what to do."""
        path = tmp_path / "sagas.db"
        path.write_bytes(b"this is not a database" * 100)
        with pytest.raises(JournalError, match=r"sagas\.db.*not a SQLite.*move it"):
            SqliteJournal(path)

    def test_a_locked_file_is_refused_after_the_timeout(
        self, tmp_path: pathlib.Path
    ) -> None:
        """Another process holding the file: named, with the timeout."""
        path = tmp_path / "sagas.db"
        SqliteJournal(path).close()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(JournalError, match=r"locked.*0\.05s.*longer timeout"):
                SqliteJournal(path, timeout=0.05)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def test_a_saga_never_starts_on_a_locked_journal(
        self, tmp_path: pathlib.Path
    ) -> None:
        """The first write fails before any step runs, and nothing is recorded."""
        path = tmp_path / "sagas.db"
        journal = SqliteJournal(path, timeout=0.05)
        ran: list[str] = []
        saga = DurableSaga(
            "hold",
            [Step("reserve", lambda ctx: ran.append("reserve") or Ok(1))],
            journal=journal,
            context=identity,
        )
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(JournalError, match="locked"):
                saga.run({})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert ran == []
        assert rows(journal) == []

    def test_a_path_that_cannot_be_opened_is_named(
        self, tmp_path: pathlib.Path
    ) -> None:
        """A folder that does not exist: the path, and what to check."""
        with pytest.raises(JournalError, match=r"missing.*check the path"):
            SqliteJournal(tmp_path / "missing" / "sagas.db")

    @pytest.mark.parametrize(
        ("timeout", "error"),
        [(0, ValueError), (-1.0, ValueError), ("5", TypeError), (True, TypeError)],
    )
    def test_a_bad_timeout_is_refused(
        self, tmp_path: pathlib.Path, timeout: object, error: type[Exception]
    ) -> None:
        """The timeout is a positive number of seconds, and the error says so."""
        with pytest.raises(error, match=f"timeout must .*{timeout!r}"):
            SqliteJournal(tmp_path / "sagas.db", timeout=timeout)  # type: ignore[arg-type]

    def test_close_then_use_opens_again(self, tmp_path: pathlib.Path) -> None:
        """A closed journal reconnects when it is used again."""
        journal = SqliteJournal(tmp_path / "sagas.db")
        journal.close()
        journal.close()  # twice is fine
        assert one_step(journal).run({"sku": "tea"}) == Ok({"reserve": "tea"})
        assert repr(journal) == f"SqliteJournal({str(tmp_path / 'sagas.db')!r})"

    def test_a_write_error_is_named(self, tmp_path: pathlib.Path) -> None:
        """A write the file refuses (read-only) is a JournalError naming it."""
        path = tmp_path / "sagas.db"
        journal = SqliteJournal(path)
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")
        (found,) = journal.expired(LATER)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        journal._local.connection = connection
        with pytest.raises(JournalError, match=r"sagas\.db.*cannot be used"):
            one_step(journal).run({"sku": "tea"})
        with pytest.raises(JournalError, match=r"sagas\.db.*cannot be used"):
            journal.claim(found.saga_id, LATER, 1.0)
        connection.close()
        with pytest.raises(JournalError, match=r"sagas\.db.*cannot be used"):
            journal.expired(LATER)  # on a closed connection
        with pytest.raises(JournalError, match=r"sagas\.db.*cannot be used"):
            journal.open_transaction()
        with pytest.raises(JournalError, match=r"sagas\.db.*cannot be used"):
            journal.rollback()


class TestPostgresJournal:
    """The PostgreSQL store: its schema, and the errors a bad one gets."""

    def test_the_tables_live_in_the_given_schema(self, postgres_schema: str) -> None:
        """The tables are created in the schema, of version 1."""
        import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

        PostgresJournal(POSTGRES_DSN, schema=postgres_schema).close()
        PostgresJournal(POSTGRES_DSN, schema=postgres_schema).close()
        with psycopg.connect(POSTGRES_DSN) as connection:
            found = connection.execute(
                f'SELECT version FROM "{postgres_schema}".outcome_schema'  # noqa: S608 - a test schema
            ).fetchall()
        assert found == [(1,)]

    def test_another_schema_version_is_refused(self, postgres_schema: str) -> None:
        """Tables of another version: named (no password), with what to do."""
        import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

        PostgresJournal(POSTGRES_DSN, schema=postgres_schema).close()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(
                f'UPDATE "{postgres_schema}".outcome_schema SET version = 9'  # noqa: S608 - a test schema
            )
        with pytest.raises(JournalError, match=f"schema {postgres_schema}.*version 9"):
            PostgresJournal(POSTGRES_DSN, schema=postgres_schema)

    def test_an_unreachable_server_is_named_without_its_password(self) -> None:
        """A server that does not answer: where, never the password."""
        pytest.importorskip("psycopg")
        dsn = "postgresql://app:s3cret@127.0.0.1:9/shop?connect_timeout=1"
        with pytest.raises(JournalError) as raised:
            PostgresJournal(dsn)
        assert "127.0.0.1:9/shop" in str(raised.value)
        assert "s3cret" not in str(raised.value)

    def test_a_dsn_that_does_not_parse_is_named_plainly(self) -> None:
        """A string libpq cannot read: said so, without echoing it."""
        pytest.importorskip("psycopg")
        with pytest.raises(JournalError, match="does not parse"):
            PostgresJournal("host=x password=s3cret =broken")

    @pytest.mark.parametrize(
        ("dsn", "schema", "error"),
        [
            ("", "public", TypeError),
            (None, "public", TypeError),
            ("x", "a b", ValueError),
        ],
    )
    def test_bad_arguments_are_refused(
        self, dsn: object, schema: object, error: type[Exception]
    ) -> None:
        """The DSN is a string, the schema a plain identifier."""
        with pytest.raises(error, match="PostgresJournal"):
            PostgresJournal(dsn, schema=schema)  # type: ignore[arg-type]

    def test_a_claim_that_races_its_runner_gives_way(
        self, postgres_schema: str
    ) -> None:
        """A claim while its runner writes passes the saga over, without waiting."""
        import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

        journal = PostgresJournal(POSTGRES_DSN, schema=postgres_schema)
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")
        (found,) = journal.expired(LATER)
        with psycopg.connect(POSTGRES_DSN) as runner:
            runner.execute(
                f'INSERT INTO "{postgres_schema}".outcome_journal VALUES'  # noqa: S608 - a test schema
                " (%s, 2, 'a', 'action', 'ok', '1', 0, 0)",
                (found.saga_id,),
            )
            started = time.monotonic()
            assert journal.claim(found.saga_id, LATER, 1.0) is None
            assert time.monotonic() - started < 1.0
            runner.commit()
        # Once the runner's write is in, its lease (0 here) is what counts.
        claimed = journal.claim(found.saga_id, LATER, 1.0)
        assert claimed is not None
        assert [entry.event for entry in claimed.entries] == ["intent", "ok", "claim"]
        journal.close()

    def test_a_lost_connection_is_opened_again(self, postgres_schema: str) -> None:
        """A closed connection (a server restart) is replaced on next use."""
        journal = PostgresJournal(POSTGRES_DSN, schema=postgres_schema)
        journal._connection().close()
        assert one_step(journal).run({"sku": "tea"}) == Ok({"reserve": "tea"})
        assert repr(journal).startswith("PostgresJournal('postgresql://127.0.0.1:5432")
        journal.close()
        journal.close()


class TestStores:
    """What both stores do alike."""

    def test_a_saga_id_is_stored_once(self, journal: Journal) -> None:
        """A second saga of the same id is refused, naming the journal."""
        entry = JournalEntry(1, "a", "action", "intent", "{}", 0.0, 1.0)
        record = SagaRecord("s-1", "hold", 1, '["a"]', "{}", (entry,))
        journal.begin(record)
        with pytest.raises(JournalError, match="already holds a saga 's-1'"):
            journal.begin(record)

    def test_many_entries_in_one_write_are_all_stored_in_order(
        self, journal: Journal
    ) -> None:
        """A write of more entries than one statement takes keeps every one."""
        first = JournalEntry(1, "a", "action", "intent", "{}", 0.0, 1.0)
        journal.begin(SagaRecord("s-2", "hold", 1, '["a"]', "{}", (first,)))
        more = [
            JournalEntry(seq, f"step-{seq}", "action", "ok", f"[{seq}]", 0.5, 2.0)
            for seq in range(2, 253)
        ]
        journal.append("s-2", more)
        (record,) = _all(journal)
        assert record.entries == (first, *more)


class TestDurableRun:
    """A run records each step's intent before it runs and its outcome after."""

    def test_a_run_that_succeeds(self, journal: Journal) -> None:
        """Intents and outcomes in order, then done; the saga is closed."""
        saga = DurableSaga(
            "checkout",
            [Step("a", lambda ctx: Ok([1, 2])), Step("b", lambda ctx: Ok(None))],
            journal=journal,
            context=identity,
        )
        assert saga.run({"order": "A-17"}) == Ok({"a": [1, 2], "b": None})
        (saga_id,) = {row[0] for row in rows(journal)}
        assert [row[1:] for row in rows(journal)] == [
            ("a", "action", "intent"),
            ("a", "action", "ok"),
            ("b", "action", "intent"),
            ("b", "action", "ok"),
            ("", "saga", "done"),
        ]
        assert _finished(journal) == [True]
        assert journal.expired(LATER) == []
        (record,) = _all(journal)
        assert (record.name, record.version, json.loads(record.input)) == (
            "checkout",
            1,
            {"order": "A-17"},
        )
        assert saga_id == record.saga_id

    @settings(max_examples=60, deadline=None)
    @given(
        log=st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.tuples(inner, inner)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        )
    )
    @example(log=2.5)
    @example(log=(1, "x"))
    def test_a_log_reads_back_as_json_has_it(self, log: Any) -> None:
        """The journal stores JSON; the compensation gets what json.loads gives."""
        journal = SqliteJournal(pathlib.Path(tempfile.mkdtemp()) / "sagas.db")
        undone: list[object] = []
        saga = DurableSaga(
            "logs",
            [
                Step("a", lambda ctx: Ok(log), lambda ctx, got: undone.append(got)),
                Step("b", lambda ctx: Err(ErrorDetail(None, "declined"))),
            ],
            journal=journal,
            context=identity,
        )
        saga.run({})
        expected = json.loads(json.dumps(log))
        assert undone == [expected]
        assert type(undone[0]) is type(expected)
        (record,) = _all(journal)
        ok = next(entry for entry in record.entries if entry.event == "ok")
        assert json.loads(ok.payload) == expected
        journal.close()

    def test_a_run_that_fails_records_each_compensation(self, journal: Journal) -> None:
        """Err, then each undo's intent and outcome, newest first, then failed."""
        undone: list[object] = []
        saga = DurableSaga(
            "checkout",
            [
                Step(
                    "a", lambda ctx: Ok((1, "x")), lambda ctx, log: undone.append(log)
                ),
                Step(
                    "b",
                    lambda ctx: Err(ErrorDetail("card", "declined")),
                    compensate_failed=lambda ctx: Err(ErrorDetail(None, "stuck")),
                ),
            ],
            journal=journal,
            context=identity,
        )
        result = saga.run({})
        assert type(result) is Err
        assert result.err_value.stuck == ("b",)
        assert undone == [[1, "x"]]  # the log as the journal holds it
        assert [row[1:] for row in rows(journal)] == [
            ("a", "action", "intent"),
            ("a", "action", "ok"),
            ("b", "action", "intent"),
            ("b", "action", "err"),
            ("b", "compensate_failed", "intent"),
            ("b", "compensate_failed", "err"),
            ("a", "compensate", "intent"),
            ("a", "compensate", "ok"),
            ("", "saga", "failed"),
        ]

    def test_the_input_must_be_json(self, journal: Journal) -> None:
        """Input that cannot be stored is refused before anything is written."""
        ran: list[str] = []
        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: ran.append("a") or Ok(1))],
            journal=journal,
            context=identity,
        )
        for bad in ({1: "int key"}, {"at": object()}, float("nan"), {"x": {2}}):
            with pytest.raises(TypeError, match=r"its input .* JSON values only"):
                saga.run(bad)
        assert ran == []
        assert rows(journal) == []

    def test_the_context_is_made_from_the_stored_input_and_the_id(
        self, journal: Journal
    ) -> None:
        """The context factory gets the input back from JSON, and the saga's id."""
        seen: list[tuple[object, str]] = []

        def context(data: object, saga_id: str) -> object:
            seen.append((data, saga_id))
            return data

        DurableSaga(
            "hold", [Step("a", lambda ctx: Ok(1))], journal=journal, context=context
        ).run({"items": ("tea", 2)})
        ((data, saga_id),) = seen
        assert data == {"items": ["tea", 2]}
        assert {row[0] for row in rows(journal)} == {saga_id}

    def test_a_log_that_cannot_be_stored_is_a_programmer_error(
        self, journal: Journal
    ) -> None:
        """The step is failed, the others compensated, and a TypeError raised."""
        undone: list[str] = []
        saga = DurableSaga(
            "hold",
            [
                Step("a", lambda ctx: Ok("a"), lambda ctx, log: undone.append(log)),
                Step("b", lambda ctx: Ok(object())),
            ],
            journal=journal,
            context=identity,
        )
        with pytest.raises(TypeError, match=r"step 'b': its log .* JSON") as raised:
            saga.run({})
        assert undone == ["a"]
        assert isinstance(raised.value.saga_failure, SagaFailure)  # type: ignore[attr-defined]
        assert rows(journal)[-1][1:] == ("", "saga", "failed")
        assert _finished(journal) == [True]

    def test_an_action_that_raises_is_recorded_as_failed(
        self, journal: Journal
    ) -> None:
        """A bug: recorded as an err with its code only, and re-raised."""

        def broken(_ctx: object) -> Result[int, Errors]:
            msg = "secret detail"
            raise KeyError(msg)

        saga = DurableSaga(
            "hold", [Step("a", broken)], journal=journal, context=identity
        )
        with pytest.raises(KeyError):
            saga.run({})
        (record,) = _all(journal)
        err = record.entries[1]
        assert (err.event, json.loads(err.payload)) == (
            "err",
            {
                "errors": [
                    {
                        "path": [],
                        "code": "bug",
                        "bucket": "programmer_error",
                        "message": None,
                    }
                ]
            },
        )
        assert "secret" not in err.payload

    def test_an_err_of_no_error_is_recorded_as_step_failed(
        self, journal: Journal
    ) -> None:
        """Err("nope") is a step_failed error, in the report and the journal."""
        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: Err("nope"))],
            journal=journal,
            context=identity,  # type: ignore[arg-type, return-value]
        )
        result = saga.run({})
        assert type(result) is Err
        assert result.err_value.original.codes() == ["step_failed"]
        (record,) = _all(journal)
        assert (
            json.loads(record.entries[1].payload)["errors"][0]["code"] == "step_failed"
        )

    def test_a_step_that_returns_no_result(self, journal: Journal) -> None:
        """Not a Result: recorded as failed, raised as the saga raises it."""
        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: 3)],  # type: ignore[arg-type, return-value]
            journal=journal,
            context=identity,
        )
        with pytest.raises(TypeError, match="must return Ok"):
            saga.run({})
        assert [row[3] for row in rows(journal)] == ["intent", "err", "failed"]

    def test_a_compensation_that_raises_is_recorded(self, journal: Journal) -> None:
        """A compensation's exception is its err; the saga reports it stuck."""

        def undo(_ctx: object, _log: object) -> None:
            raise ConnectionError

        saga = DurableSaga(
            "hold",
            [
                Step("a", lambda ctx: Ok(1), undo),
                Step("b", lambda ctx: Err(ErrorDetail(None, "declined"))),
            ],
            journal=journal,
            context=identity,
        )
        result = saga.run({})
        assert type(result) is Err
        assert result.err_value.stuck == ("a",)
        assert [row[1:] for row in rows(journal)][-3:] == [
            ("a", "compensate", "intent"),
            ("a", "compensate", "err"),
            ("", "saga", "failed"),
        ]

    def test_with_on_step_each_outcome_is_written_before_the_hook(
        self, journal: Journal
    ) -> None:
        """The hook is the programmer's code: the step's outcome is durable first."""
        seen: list[list[tuple[str, str, str, str]]] = []
        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: Ok(1), lambda ctx, log: None)],
            journal=journal,
            context=identity,
            on_step=lambda name, log: seen.append(rows(journal)),
            on_compensated=lambda name: None,
        )
        saga.run({})
        assert [row[1:] for row in seen[0]] == [
            ("a", "action", "intent"),
            ("a", "action", "ok"),
        ]

    def test_async_run(self, journal: Journal) -> None:
        """run_async records as run does, awaiting async actions."""

        async def reserve(_ctx: object) -> Result[str, Errors]:
            await asyncio.sleep(0)
            return Ok("hold-1")

        async def decline(_ctx: object) -> Result[str, Errors]:
            await asyncio.sleep(0)
            return Err(Errors([ErrorDetail("card", "declined")]))

        released: list[str] = []

        async def release(_ctx: object, hold: str) -> None:
            await asyncio.sleep(0)
            released.append(hold)

        ok = DurableSaga(
            "ok", [Step("a", reserve, release)], journal=journal, context=identity
        )
        assert asyncio.run(ok.run_async({})) == Ok({"a": "hold-1"})
        failing = DurableSaga(
            "failing",
            [Step("a", reserve, release), Step("b", decline)],
            journal=journal,
            context=identity,
        )
        assert type(asyncio.run(failing.run_async({}))) is Err
        assert released == ["hold-1"]
        assert _finished(journal) == [True, True]

    def test_async_actions_that_raise(self, journal: Journal) -> None:
        """An async action's exception is recorded, and a bug re-raised."""

        async def broken(_ctx: object) -> Result[str, Errors]:
            await asyncio.sleep(0)
            raise ZeroDivisionError

        saga = DurableSaga("a", [Step("a", broken)], journal=journal, context=identity)
        with pytest.raises(ZeroDivisionError):
            asyncio.run(saga.run_async({}))
        assert [row[3] for row in rows(journal)] == ["intent", "err", "failed"]

    def test_a_cancelled_async_run_is_compensated_and_closed(
        self, journal: Journal
    ) -> None:
        """A cancel: the step is in doubt, compensated, and the saga ends failed."""
        undone: list[str] = []

        async def slow(_ctx: object) -> Result[str, Errors]:
            await asyncio.sleep(10)
            return Ok("late")  # pragma: no cover - cancelled first

        async def main() -> None:
            saga = DurableSaga(
                "slow",
                [
                    Step("a", lambda ctx: Ok("a"), lambda ctx, log: undone.append(log)),
                    Step("b", slow, compensate_failed=lambda ctx: undone.append("b?")),
                ],
                journal=journal,
                context=identity,
            )
            task = asyncio.ensure_future(saga.run_async({}))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert undone == ["b?", "a"]
        assert [row[1:] for row in rows(journal)] == [
            ("a", "action", "intent"),
            ("a", "action", "ok"),
            ("b", "action", "intent"),
            ("b", "compensate_failed", "intent"),
            ("b", "compensate_failed", "ok"),
            ("a", "compensate", "intent"),
            ("a", "compensate", "ok"),
            ("", "saga", "failed"),
        ]

    def test_an_interrupt_leaves_the_saga_in_flight(self, journal: Journal) -> None:
        """KeyboardInterrupt: nothing compensated here; the journal shows it open."""

        def interrupted(_ctx: object) -> Result[int, Errors]:
            raise KeyboardInterrupt

        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: Ok(1)), Step("b", interrupted)],
            journal=journal,
            context=identity,
        )
        with pytest.raises(KeyboardInterrupt):
            saga.run({})
        assert rows(journal)[-1][1:] == ("b", "action", "intent")
        assert [found.name for found in journal.expired(LATER)] == ["hold"]
        assert journal.expired(time.time() - 1) == []  # its lease still runs

    @pytest.mark.parametrize(
        ("options", "error", "match"),
        [
            ({"name": ""}, ValueError, "non-empty str name"),
            ({"journal": "sagas.db"}, TypeError, "must be a Journal"),
            ({"context": None}, TypeError, "context must be callable"),
            ({"version": 0}, ValueError, "version must be a positive int"),
            ({"version": True}, ValueError, "version must be a positive int"),
            ({"lease": 0}, ValueError, "lease must be positive"),
            ({"lease": "60"}, TypeError, "lease must be a number"),
            ({"resumable": ("nope",)}, ValueError, r"\['nope'\].*\['a'\]"),
        ],
    )
    def test_a_bad_definition_is_refused(
        self,
        tmp_path: pathlib.Path,
        options: dict[str, object],
        error: type[Exception],
        match: str,
    ) -> None:
        """Each bad argument is named, with what it must be."""
        given: dict[str, Any] = {
            "name": "hold",
            "journal": SqliteJournal(tmp_path / "sagas.db"),
            "context": identity,
            **options,
        }
        with pytest.raises(error, match=match):
            DurableSaga(given.pop("name"), [Step("a", lambda ctx: Ok(1))], **given)

    def test_a_single_resumable_name_may_be_a_str(self, tmp_path: pathlib.Path) -> None:
        """resumable="a" is the step a, not the letters of its name."""
        saga = DurableSaga(
            "hold",
            [Step("a", lambda ctx: Ok(1))],
            journal=SqliteJournal(tmp_path / "sagas.db"),
            context=identity,
            resumable="a",
        )
        assert saga.resumable == frozenset({"a"})
        assert repr(saga).startswith("DurableSaga('hold', version=1, SqliteJournal(")


def _insert(journal: Journal, value: str) -> None:
    """Write a row of the application's through the journal's connection."""
    if isinstance(journal, SqliteJournal):
        journal.connection.execute("CREATE TABLE IF NOT EXISTS app (v TEXT)")
        journal.connection.execute("INSERT INTO app VALUES (?)", (value,))
    else:
        journal.connection.execute("CREATE TABLE IF NOT EXISTS app (v TEXT)")
        journal.connection.execute("INSERT INTO app VALUES (%s)", (value,))


def _app_rows(journal: Journal) -> list[str]:
    """The application's rows, as another connection sees them (committed)."""
    if isinstance(journal, SqliteJournal):
        connection = sqlite3.connect(journal.path)
        try:
            return [row[0] for row in connection.execute("SELECT v FROM app")]
        except sqlite3.OperationalError:  # no such table: nothing committed
            return []
        finally:
            connection.close()
    import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

    assert isinstance(journal, PostgresJournal)
    with psycopg.connect(journal.dsn, autocommit=True) as connection:
        try:
            return [row[0] for row in connection.execute("SELECT v FROM app")]
        except psycopg.errors.UndefinedTable:
            return []


@pytest.fixture
def app_table(journal: Journal) -> Iterator[None]:
    """The application's table, dropped afterwards (PostgreSQL's is shared)."""
    yield
    journal.rollback()
    journal.connection.execute("DROP TABLE IF EXISTS app")


@pytest.mark.usefixtures("app_table")
class TestTransactional:
    """A transactional saga's steps commit their writes with their outcome."""

    def _saga(self, journal: Journal, *steps: Step[Any, Any]) -> DurableSaga[Any, Any]:
        return DurableSaga(
            "orders", list(steps), journal=journal, context=identity, transactional=True
        )

    def test_what_a_step_writes_commits_with_its_outcome(
        self, journal: Journal
    ) -> None:
        """Written in the step, visible to others only once its outcome is in."""
        seen: list[list[str]] = []

        def write(_ctx: object) -> Result[str, Errors]:
            _insert(journal, "order-1")
            return Ok("order-1")

        def look(_ctx: object) -> Result[None, Errors]:
            seen.append(_app_rows(journal))
            return Ok(None)

        saga = self._saga(journal, Step("write", write), Step("look", look))
        assert type(saga.run({})) is Ok
        assert seen == [["order-1"]]  # committed with write's ok, before look ran
        assert _app_rows(journal) == ["order-1"]
        assert saga.transactional

    def test_a_failed_step_keeps_none_of_its_writes(self, journal: Journal) -> None:
        """An Err, a raise, an interrupt: what the step wrote is rolled back."""

        def declined(_ctx: object) -> Result[str, ErrorDetail]:
            _insert(journal, "declined")
            return Err(ErrorDetail("card", "declined"))

        def broken(_ctx: object) -> Result[str, Errors]:
            _insert(journal, "broken")
            raise ZeroDivisionError

        def interrupted(_ctx: object) -> Result[str, Errors]:
            _insert(journal, "interrupted")
            raise KeyboardInterrupt

        def bad_log(_ctx: object) -> Result[object, Errors]:
            _insert(journal, "bad log")
            return Ok(object())

        assert type(self._saga(journal, Step("a", declined)).run({})) is Err
        for step, raised in (
            (broken, ZeroDivisionError),
            (interrupted, KeyboardInterrupt),
            (bad_log, TypeError),
        ):
            with pytest.raises(raised):
                self._saga(journal, Step("a", step)).run({})
        self._saga(journal, Step("a", lambda ctx: Ok(1))).run({})  # commits nothing
        assert _app_rows(journal) == []

    def test_compensations_write_in_the_transaction_too(self, journal: Journal) -> None:
        """An undo's writes commit with its outcome; a failed undo keeps none."""

        def undo(_ctx: object, log: object) -> None:
            _insert(journal, f"undo {log}")

        def failed_undo(_ctx: object, _log: object) -> Result[None, ErrorDetail]:
            _insert(journal, "half undone")
            return Err(ErrorDetail(None, "stuck"))

        saga = self._saga(
            journal,
            Step("a", lambda ctx: Ok("a"), undo),
            Step("b", lambda ctx: Ok("b"), failed_undo),
            Step("c", lambda ctx: Err(ErrorDetail(None, "declined"))),
        )
        result = saga.run({})
        assert type(result) is Err
        assert result.err_value.stuck == ("b",)
        assert _app_rows(journal) == ["undo a"]

    def test_opening_twice_is_one_transaction(self, journal: Journal) -> None:
        """open_transaction inside one is a no-op; rollback outside one too."""
        journal.rollback()
        journal.open_transaction()
        _insert(journal, "kept")
        journal.open_transaction()
        one_step(journal).run({"sku": "tea"})  # its first write commits it all
        assert _app_rows(journal) == ["kept"]

    def test_a_claim_while_a_step_writes_loses_its_writes(
        self, journal: Journal
    ) -> None:
        """PostgreSQL: LeaseLost at the outcome, the step's writes rolled back.

        SQLite: the step holds the file's write lock, so a claim cannot come
        while it runs; the claimer gives up after its timeout.
        """
        other = (
            SqliteJournal(journal.path, timeout=0.05)
            if isinstance(journal, SqliteJournal)
            else durable_crash.open_journal(_address(journal))
        )

        def claimed(_ctx: object) -> Result[int, Errors]:
            _insert(journal, "lost")
            (found,) = journal.expired(LATER)
            if isinstance(journal, SqliteJournal):
                with pytest.raises(JournalError, match="locked"):
                    other.claim(found.saga_id, LATER, 60.0)
            else:
                assert other.claim(found.saga_id, LATER, 60.0) is not None
            other.close()
            return Ok(1)

        saga = self._saga(journal, Step("a", claimed), Step("b", lambda ctx: Ok(2)))
        if isinstance(journal, SqliteJournal):
            assert type(saga.run({})) is Ok
            assert _app_rows(journal) == ["lost"]
            return
        with pytest.raises(LeaseLost):
            saga.run({})
        assert _app_rows(journal) == []

    def test_run_async_is_refused(self, journal: Journal) -> None:
        """Sagas interleaved on one loop would share the connection: refused."""
        saga = self._saga(journal, Step("a", lambda ctx: Ok(1)))
        with pytest.raises(TypeError, match=r"transactional.*run\(\)"):
            asyncio.run(saga.run_async({}))
        assert rows(journal) == []


def _address(journal: Journal) -> str:
    """What durable_crash.open_journal takes to open `journal` again."""
    if isinstance(journal, SqliteJournal):
        return journal.path
    assert isinstance(journal, PostgresJournal)
    return f"{journal.dsn}#{journal.schema}"


def _crash_mid_run(
    journal: Journal, steps: list[Step[Any, Any]], *, at: str, **options: Any
) -> DurableSaga[Any, Any]:
    """Run a saga whose step `at` is interrupted (as a killed process would be)."""

    def interrupt(_ctx: object) -> Result[object, Errors]:
        raise KeyboardInterrupt

    crashing = [
        Step(
            step.name,
            interrupt,
            step.compensate,
            compensate_failed=step.compensate_failed,
        )
        if step.name == at
        else step
        for step in steps
    ]
    saga = DurableSaga(
        "checkout", crashing, journal=journal, context=identity, **options
    )
    with pytest.raises(KeyboardInterrupt):
        saga.run({"order": "A-17"})
    return DurableSaga("checkout", steps, journal=journal, context=identity, **options)


class TestRecover:
    """recover() ends every saga left in flight, once, and leaves the others."""

    def test_it_compensates_and_cancels_the_step_in_doubt(
        self, journal: Journal
    ) -> None:
        """Completed steps compensated, the step in doubt gets compensate_failed."""
        log: list[str] = []
        steps: list[Step[Any, Any]] = [
            Step(
                "a", lambda ctx: Ok("a"), lambda ctx, held: log.append(f"undo {held}")
            ),
            Step(
                "b",
                lambda ctx: Ok("b"),
                lambda ctx, held: log.append(f"undo {held}"),
                compensate_failed=lambda ctx: log.append("cancel b"),
            ),
        ]
        saga = _crash_mid_run(journal, steps, at="b")
        (report,) = recover([saga], now=LATER)
        assert log == ["cancel b", "undo a"]
        assert type(report.result) is Err
        failure = report.result.err_value
        assert (failure.step, failure.compensated) == ("b", ("b", "a"))
        assert failure.original.codes() == ["interrupted"]
        assert [detail.bucket for detail in failure.original] == [Bucket.USER_VISIBLE]
        assert _finished(journal) == [True]
        assert recover([saga], now=LATER) == []  # once

    def test_it_never_runs_a_completed_action_again(self, journal: Journal) -> None:
        """Resuming replays the logs recorded: done actions are not called."""
        calls: list[str] = []

        def step(name: str) -> Step[Any, Any]:
            return Step(name, lambda ctx: calls.append(name) or Ok(name.upper()))

        saga = _crash_mid_run(
            journal, [step("a"), step("b"), step("c")], at="b", resumable=("b",)
        )
        calls.clear()
        (report,) = recover([saga], now=LATER)
        assert calls == ["b", "c"]
        assert report.result == Ok({"a": "A", "b": "B", "c": "C"})
        assert rows(journal)[-1][1:] == ("", "saga", "done")

    def test_replayed_steps_do_not_call_on_step_again(self, journal: Journal) -> None:
        """A hook already called for a step before the crash is not called again."""
        called: list[str] = []
        steps = [Step("a", lambda ctx: Ok(1)), Step("b", lambda ctx: Ok(2))]
        _crash_mid_run(journal, steps, at="b", on_step=lambda n, _: called.append(n))
        saga = DurableSaga(
            "checkout",
            steps,
            journal=journal,
            context=identity,
            resumable=("b",),
            on_step=lambda name, log: called.append(name),
        )
        recover([saga], now=LATER)
        assert called == ["a", "b"]

    def test_a_crash_while_compensating_goes_on_where_it_stopped(
        self, journal: Journal
    ) -> None:
        """An undo done is not redone; one in doubt runs again; a stuck one stays."""
        log: list[str] = []

        def undo_b(_ctx: object, _log: object) -> None:
            log.append("undo b")
            raise KeyboardInterrupt  # the process dies while undoing b

        def fail(_ctx: object) -> Result[object, Errors]:
            return Err(Errors([ErrorDetail(None, "declined")]))

        def stuck(_ctx: object, _log: object) -> Result[None, ErrorDetail]:
            log.append("undo c")
            return Err(ErrorDetail(None, "refund_failed"))

        first = DurableSaga(
            "checkout",
            [
                Step("a", lambda ctx: Ok("a"), lambda ctx, held: log.append("undo a")),
                Step("b", lambda ctx: Ok("b"), undo_b),
                Step("c", lambda ctx: Ok("c"), stuck),
                Step(
                    "d", fail, compensate_failed=lambda ctx: Err(ErrorDetail(None, "x"))
                ),
            ],
            journal=journal,
            context=identity,
        )
        with pytest.raises(KeyboardInterrupt):
            first.run({})
        assert log == ["undo c", "undo b"]
        saga = DurableSaga(
            "checkout",
            [
                Step("a", lambda ctx: Ok("a"), lambda ctx, held: log.append("undo a")),
                Step("b", lambda ctx: Ok("b"), lambda ctx, held: log.append("undo b")),
                Step("c", lambda ctx: Ok("c"), stuck),
                Step(
                    "d", fail, compensate_failed=lambda ctx: Err(ErrorDetail(None, "x"))
                ),
            ],
            journal=journal,
            context=identity,
        )
        (report,) = recover([saga], now=LATER)
        assert log == ["undo c", "undo b", "undo b", "undo a"]
        assert type(report.result) is Err
        failure = report.result.err_value
        assert failure.original.codes() == ["declined"]
        assert failure.stuck == ("d", "c")
        assert failure.compensation_errors["c"].codes() == ["refund_failed"]
        assert failure.compensation_errors["d"].codes() == ["x"]
        assert failure.compensated == ("b", "a")

    def test_a_saga_whose_steps_all_completed_is_closed_as_done(
        self, journal: Journal
    ) -> None:
        """Interrupted after its last step (in a hook): recovery ends it, done."""
        calls: list[str] = []

        def hook(name: str, _log: object) -> None:
            if name == "b":
                raise KeyboardInterrupt

        steps = [
            Step("a", lambda ctx: calls.append("a") or Ok(1)),
            Step("b", lambda ctx: calls.append("b") or Ok(2)),
        ]
        first = DurableSaga(
            "checkout", steps, journal=journal, context=identity, on_step=hook
        )
        with pytest.raises(KeyboardInterrupt):
            first.run({})
        saga = DurableSaga("checkout", steps, journal=journal, context=identity)
        (report,) = recover([saga], now=LATER)
        assert report.result == Ok({"a": 1, "b": 2})
        assert calls == ["a", "b"]

    def test_a_saga_claimed_meanwhile_is_passed_over(self, journal: Journal) -> None:
        """When another recoverer claims first, this one reports nothing of it."""
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")

        class Late(durable_crash.KillingJournal):
            def claim(self, saga_id: str, now: float, lease: float) -> None:
                assert self.journal.claim(saga_id, now, lease) is not None

        late = Late(journal, 0)
        saga = DurableSaga(
            "checkout", [Step("a", lambda ctx: Ok(1))], journal=late, context=identity
        )
        assert recover([saga], now=LATER) == []

    def test_unreadable_step_names_are_a_changed_definition(
        self, journal: Journal
    ) -> None:
        """A saga row whose steps do not decode is refused, not guessed at."""
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")
        (found,) = journal.expired(LATER)
        _execute(journal, "UPDATE {t}.outcome_sagas SET steps = '{{bad'")
        saga = DurableSaga(
            "checkout",
            [Step("a", lambda ctx: Ok(1))],
            journal=journal,
            context=identity,
        )
        (report,) = recover([saga], now=LATER)
        assert report.saga_id == found.saga_id
        assert "with steps None" in (report.problem or "")

    def test_a_changed_definition_is_refused_and_left_alone(
        self, journal: Journal
    ) -> None:
        """Another version, or other steps: reported, not claimed, not touched."""
        steps = [Step("a", lambda ctx: Ok(1)), Step("b", lambda ctx: Ok(2))]
        _crash_mid_run(journal, steps, at="b")
        before = rows(journal)
        bumped = DurableSaga(
            "checkout", steps, journal=journal, context=identity, version=2
        )
        renamed = DurableSaga("checkout", steps[:1], journal=journal, context=identity)
        for changed in (bumped, renamed):
            (report,) = recover([changed], now=LATER)
            assert report.result is None
            assert report.problem is not None
            assert "version 1 with steps ['a', 'b']" in report.problem
        assert rows(journal) == before

    def test_an_unknown_saga_is_reported_and_left_alone(self, journal: Journal) -> None:
        """A saga with no definition given is named in the report."""
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")
        other = one_step(journal)
        (report,) = recover([other], now=LATER)
        assert report == Recovery(
            report.saga_id,
            "checkout",
            problem="no definition named 'checkout' was given to recover",
        )

    def test_an_unreadable_saga_is_reported_and_the_others_recovered(
        self, journal: Journal, where: str
    ) -> None:
        """A row that cannot be decoded is left for a person; recovery goes on."""
        steps = [Step("a", lambda ctx: Ok(1)), Step("b", lambda ctx: Ok(2))]
        _crash_mid_run(journal, steps, at="b")
        saga = _crash_mid_run(journal, steps, at="b")
        broken = min(record.saga_id for record in _all(journal))
        _corrupt(journal, broken)
        reports = recover([saga], now=LATER)
        by_id = {report.saga_id: report for report in reports}
        assert by_id[broken].result is None
        assert "cannot be read" in (by_id[broken].problem or "")
        (other,) = set(by_id) - {broken}
        assert type(by_id[other].result) is Err
        assert where  # both stores

    def test_a_step_that_raises_while_recovering_is_reported(
        self, journal: Journal
    ) -> None:
        """A bug in a resumed step: reported with its type, the saga closed."""
        steps = [Step("a", lambda ctx: Ok(1)), Step("b", lambda ctx: Ok(2))]
        _crash_mid_run(journal, steps, at="b")

        def broken(_ctx: object) -> Result[int, Errors]:
            raise ZeroDivisionError

        saga = DurableSaga(
            "checkout",
            [steps[0], Step("b", broken)],
            journal=journal,
            context=identity,
            resumable=("b",),
        )
        (report,) = recover([saga], now=LATER)
        assert report.result is None
        assert report.problem == "recovering it raised ZeroDivisionError: "
        assert _finished(journal) == [True]

    def test_two_recoverers_never_both_act(self, journal: Journal) -> None:
        """A saga claimed by one recoverer is not claimed by another."""
        _crash_mid_run(journal, [Step("a", lambda ctx: Ok(1))], at="a")
        (found,) = journal.expired(LATER)
        assert journal.claim(found.saga_id, LATER, 60.0) is not None
        assert journal.claim(found.saga_id, LATER, 60.0) is None  # its lease runs
        assert journal.expired(LATER) == []
        assert journal.claim("no-such-saga", LATER, 60.0) is None

    def test_recoverers_at_once_end_each_saga_once(
        self, journal: Journal, where: str
    ) -> None:
        """Four recoverers on four threads: every saga compensated exactly once."""
        import threading  # noqa: PLC0415 - this test only

        undone: list[str] = []
        lock = threading.Lock()

        def undo(ctx: dict[str, str], _log: object) -> None:
            with lock:
                undone.append(ctx["order"])

        def interrupt(_ctx: object) -> Result[int, Errors]:
            raise KeyboardInterrupt

        steps = [Step("a", lambda ctx: Ok(1), undo), Step("b", lambda ctx: Ok(2))]
        crashing = DurableSaga(
            "checkout",
            [steps[0], Step("b", interrupt)],
            journal=journal,
            context=identity,
            lease=0.01,
        )
        for order in range(6):
            with pytest.raises(KeyboardInterrupt):
                crashing.run({"order": str(order)})
        time.sleep(0.05)  # their leases run out
        reports: list[Recovery] = []

        def recoverer() -> None:
            own = durable_crash.open_journal(where)  # as another process would
            saga = DurableSaga("checkout", steps, journal=own, context=identity)
            found = recover([saga])  # now, and each claim holds for 300 s
            with lock:
                reports.extend(found)
            own.close()

        threads = [threading.Thread(target=recoverer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(undone) == [str(order) for order in range(6)]
        assert len(reports) == 6
        assert _finished(journal) == [True] * 6

    def test_a_saga_that_ended_cannot_be_claimed(self, journal: Journal) -> None:
        """Ended, even before a recovery marked it closed: no claim takes it."""
        one_step(journal).run({"sku": "tea"})
        (record,) = _all(journal)
        assert journal.claim(record.saga_id, LATER, 60.0) is None
        assert journal.expired(LATER) == []

    def test_a_runner_whose_saga_was_claimed_stops(self, journal: Journal) -> None:
        """The runner's next write finds a claim: LeaseLost, and nothing undone."""
        undone: list[str] = []

        def slow(_ctx: object) -> Result[int, Errors]:
            (found,) = journal.expired(LATER)
            assert journal.claim(found.saga_id, LATER, 60.0) is not None
            return Ok(2)

        saga = DurableSaga(
            "checkout",
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, held: undone.append("a")),
                Step("b", slow),
                Step("c", lambda ctx: Ok(3)),
            ],
            journal=journal,
            context=identity,
        )
        with pytest.raises(LeaseLost, match="claimed by a recoverer"):
            saga.run({})
        assert undone == []

    def test_a_compensation_after_the_lease_was_lost_does_not_run(
        self, journal: Journal
    ) -> None:
        """Once the lease is lost, no step or compensation of the run acts."""
        undone: list[str] = []

        def claimed_then_fail(_ctx: object) -> Result[int, Errors]:
            (found,) = journal.expired(LATER)
            journal.claim(found.saga_id, LATER, 60.0)
            raise ZeroDivisionError

        saga = DurableSaga(
            "checkout",
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, held: undone.append("a")),
                Step("b", claimed_then_fail),
            ],
            journal=journal,
            context=identity,
            on_step=lambda name, log: None,
        )
        with pytest.raises((LeaseLost, ZeroDivisionError)):
            saga.run({})
        assert undone == []

    def test_recover_checks_its_arguments(self, journal: Journal) -> None:
        """Definitions only, and one per name and journal."""
        with pytest.raises(TypeError, match="DurableSaga definitions"):
            recover(["checkout"])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="two durable sagas are named 'hold'"):
            recover([one_step(journal), one_step(journal)])
        saga = one_step(journal)
        assert recover([saga, saga]) == []


def _execute(journal: Journal, statement: str) -> None:
    """Run `statement` on the journal's tables, {t} standing for their schema."""
    if isinstance(journal, SqliteJournal):
        connection = sqlite3.connect(journal.path)
        connection.execute(statement.format(t="main"))
        connection.commit()
        connection.close()
        return
    import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

    assert isinstance(journal, PostgresJournal)
    with psycopg.connect(journal.dsn, autocommit=True) as connection:
        connection.execute(statement.format(t=f'"{journal.schema}"'))


def _corrupt(journal: Journal, saga_id: str) -> None:
    """Make one saga's ok entry undecodable."""
    if isinstance(journal, SqliteJournal):
        connection = sqlite3.connect(journal.path)
        connection.execute(
            "UPDATE outcome_journal SET payload = '{broken' WHERE saga_id = ?"
            " AND event = 'ok'",
            (saga_id,),
        )
        connection.commit()
        connection.close()
        return
    import psycopg  # noqa: PLC0415 - only where PostgreSQL answers

    assert isinstance(journal, PostgresJournal)
    with psycopg.connect(journal.dsn, autocommit=True) as connection:
        connection.execute(
            f'UPDATE "{journal.schema}".outcome_journal SET payload = %s'  # noqa: S608 - a test schema
            " WHERE saga_id = %s AND event = 'ok'",
            ("{broken", saga_id),
        )


class TestCrash:
    """A process killed after each journal write in turn, then recover()."""

    @pytest.mark.parametrize("mode", ["ok", "fail", "resume"])
    def test_every_crash_point_recovers_to_a_legal_outcome(
        self, where: str, tmp_path: pathlib.Path, mode: str
    ) -> None:
        """No step in doubt, each undo at most once per intent, a legal end."""
        writes = int(_child(where, tmp_path / "count.log", 0, mode).stdout)
        assert writes == (7 if mode == "fail" else 4)
        for kill_after in range(1, writes + 1):
            effects = tmp_path / f"effects-{kill_after}.log"
            effects.touch()
            journal = durable_crash.open_journal(where)
            before = {record.saga_id for record in _all(journal)}
            child = _child(where, effects, kill_after, mode)
            assert child.returncode == -9, child.stderr
            saga = durable_crash.checkout(
                journal, effects, fail=mode == "fail", resumable=mode == "resume"
            )
            recover([saga], now=LATER)
            (record,) = [r for r in _all(journal) if r.saga_id not in before]
            _check(record, effects, fail=mode == "fail")
            journal.close()


def _child(
    where: str, effects: pathlib.Path, kill_after: int, mode: str
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "tests.durable_crash",
        where,
        str(effects),
        str(kill_after),
        "ok" if mode == "resume" else mode,
    ]
    return subprocess.run(  # noqa: S603 - our own script
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=pathlib.Path(__file__).parent.parent,
        timeout=60,
    )


def _check(record: SagaRecord, effects: pathlib.Path, *, fail: bool) -> None:
    """The invariants a recovered checkout must hold."""
    lines = [line.split() for line in effects.read_text().splitlines()]
    # No step in doubt: each step's last event of each phase is an outcome.
    last: dict[tuple[str, str], str] = {}
    intents: dict[tuple[str, str], int] = {}
    for entry in record.entries:
        key = entry.step, entry.phase
        last[key] = entry.event
        if entry.event == "intent":
            intents[key] = intents.get(key, 0) + 1
    assert "intent" not in last.values(), record.entries
    assert record.entries[-1].event in {"done", "failed"}
    _never_again_once_ok(record)
    # Each effect, an undo too, at most once per intent the journal records.
    phase = {"do": "action", "undo": "compensate", "cancel": "compensate_failed"}
    applied: dict[str, bool] = {}
    for verb, step, saga_id in lines:
        assert saga_id == record.saga_id
        made = sum(1 for line in lines if line[:2] == [verb, step])
        assert made <= intents.get((step, phase[verb]), 0), (verb, step, record)
        applied[step] = verb == "do"
    # A legal end: every step applied (done), or none left applied (failed).
    if record.entries[-1].event == "done":
        assert not fail
        assert applied == dict.fromkeys(durable_crash.STEPS, True)
    else:
        assert not any(applied.values()), (lines, record.entries)


# The model: any steps, any outcomes, a crash anywhere, then recover() --------

_OUTCOMES = st.sampled_from(["ok", "err", "raise"])
_UNDOS = st.sampled_from(["ok", "err", None])


class _Crash(KeyboardInterrupt):
    """The process dies here: nothing after it runs, no handler acts."""


class _Counter:
    """Counts journal writes and side effects; the N-th is the last one."""

    def __init__(self, crash_after: int) -> None:
        self.crash_after = crash_after
        self.events = 0

    def tick(self) -> None:
        self.events += 1
        if self.events == self.crash_after:
            self.crash_after = 0  # the process that comes back does not die
            raise _Crash


class _DyingJournal(durable_crash.KillingJournal):
    """Dies, as the counter says, right after a write."""

    def __init__(self, journal: Journal, counter: _Counter) -> None:
        super().__init__(journal, 0)
        self.counter = counter

    def _wrote(self) -> None:
        self.counter.tick()


def _model_steps(
    specs: list[tuple[str, str | None, str | None]],
    effects: list[tuple[str, str]],
    counter: _Counter,
) -> list[Step[Any, Any]]:
    """Steps that do as their specs say, recording each effect."""

    def effect(verb: str, name: str) -> None:
        effects.append((verb, name))
        counter.tick()  # may die right after the effect: the step is in doubt

    def action(name: str, outcome: str) -> Any:
        def run(_ctx: object) -> Result[str, ErrorDetail]:
            if outcome == "raise":
                raise ValueError(name)
            if outcome == "err":
                return Err(ErrorDetail(None, "declined"))
            effect("do", name)
            return Ok(name)

        return run

    def undo(name: str, outcome: str | None, verb: str) -> Any:
        if outcome is None:
            return None

        def run(*_arguments: object) -> Result[None, ErrorDetail] | None:
            if outcome == "err":
                return Err(ErrorDetail(None, "stuck"))
            effect(verb, name)
            return None

        return run

    return [
        Step(
            f"s{index}",
            action(f"s{index}", outcome),
            undo(f"s{index}", compensate, "undo"),
            compensate_failed=undo(f"s{index}", compensate_failed, "cancel"),
        )
        for index, (outcome, compensate, compensate_failed) in enumerate(specs)
    ]


class TestModel:
    """Whatever the steps do and wherever the process dies, recovery is legal."""

    @given(
        specs=st.lists(st.tuples(_OUTCOMES, _UNDOS, _UNDOS), min_size=1, max_size=4),
        resumable=st.sets(st.integers(0, 3)),
        crash_after=st.integers(0, 12),
    )
    @settings(deadline=None)
    def test_any_crash_then_recover(
        self,
        specs: list[tuple[str, str | None, str | None]],
        resumable: set[int],
        crash_after: int,
    ) -> None:
        """No step in doubt, no effect without its intent, a legal end."""
        folder = pathlib.Path(tempfile.mkdtemp())
        effects: list[tuple[str, str]] = []
        counter = _Counter(crash_after)
        journal = _DyingJournal(SqliteJournal(folder / "sagas.db"), counter)
        steps = _model_steps(specs, effects, counter)
        names = {f"s{index}" for index in resumable if index < len(specs)}
        saga = DurableSaga(
            "model", steps, journal=journal, context=identity, resumable=names
        )
        try:
            saga.run({})
        except _Crash:
            event("crashed")
        except ValueError:
            event("a step raised")
        recover([saga], now=LATER)
        (record,) = _all(journal.journal)
        _check_model(record, effects)
        journal.close()


def _check_model(record: SagaRecord, effects: list[tuple[str, str]]) -> None:
    """The invariants: nothing in doubt, each effect behind an intent, legal end."""
    last: dict[tuple[str, str], str] = {}
    intents: dict[tuple[str, str], int] = {}
    for entry in record.entries:
        key = entry.step, entry.phase
        last[key] = entry.event
        intents[key] = intents.get(key, 0) + (entry.event == "intent")
    assert "intent" not in last.values(), record.entries
    assert record.entries[-1].event in {"done", "failed"}
    _never_again_once_ok(record)
    phase = {"do": "action", "undo": "compensate", "cancel": "compensate_failed"}
    applied: dict[str, bool] = {}
    for verb, step in effects:
        made = effects.count((verb, step))
        assert made <= intents.get((step, phase[verb]), 0), (verb, step, record)
        applied[step] = verb == "do"
    still = {step for step, on in applied.items() if on}
    steps = json.loads(record.steps)
    if record.entries[-1].event == "done":
        assert still == set(steps)
        return
    stuck = {
        step
        for (step, where), event in last.items()
        if where in {"compensate", "compensate_failed"} and event == "err"
    }
    # What is still applied is what a compensation failed (or had none) for.
    undoable = {
        step
        for step in steps
        if (step, "compensate") in intents or (step, "compensate_failed") in intents
    }
    assert still <= stuck | (set(steps) - undoable), (still, stuck, record.entries)


def _never_again_once_ok(record: SagaRecord) -> None:
    """An action or compensation the journal shows done never runs again."""
    done: set[tuple[str, str]] = set()
    for entry in record.entries:
        key = entry.step, entry.phase
        if entry.event == "intent":
            assert key not in done, (key, record.entries)
        elif entry.event == "ok":
            done.add(key)


class TestIds:
    """A saga's id: time-ordered, and unique within a process and across forks."""

    def test_ids_are_unique_across_refills(self) -> None:
        """More ids than one read of random bytes gives: none repeats."""
        ids = [durable._new_id() for _ in range(2_000)]
        assert len(set(ids)) == len(ids)
        assert all(len(saga_id) == 32 for saga_id in ids)

    def test_a_forked_child_does_not_reuse_the_parents_bytes(self) -> None:
        """What the parent buffered is forgotten in the child."""
        durable._new_id()  # the buffer holds bytes now
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its coverage is not kept
            os.write(writer, durable._new_id()[16:].encode())
            os._exit(0)
        os.waitpid(pid, 0)
        child = os.read(reader, 64).decode()
        os.close(reader)
        os.close(writer)
        assert child != durable._new_id()[16:]

    def test_forget_empties_the_buffer(self) -> None:
        """The at-fork hook itself: the next id reads new bytes."""
        randomness = durable._Randomness()
        randomness.take()
        assert len(randomness.buffered) == 511
        randomness.forget()
        assert randomness.buffered == []
