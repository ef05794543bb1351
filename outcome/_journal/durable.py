"""
Sagas that survive the death of their process, and the recovery that ends them.

A `DurableSaga` runs an ordinary `Saga` whose steps are wrapped: each action
and each compensation writes its intent to the journal before it runs, and
its outcome after. `recover` reads what a dead process left in flight and
ends it: it replays the journal's outcomes (no step whose action is recorded
as done runs again), then compensates, or carries on when the step that was
interrupted is declared safe to run again.

The journal's writes are merged: an outcome waits for the next intent, or
for the end, and goes in the same transaction. What must be durable before a
side effect (an intent) always is.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast, final

import attrs

from outcome._bucket import Bucket
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._journal.store import (
    _ACTION,
    _COMPENSATE,
    _COMPENSATE_FAILED,
    _DONE,
    _ERR,
    _FAILED,
    _INTENT,
    _OK,
    _SAGA,
    Journal,
    JournalError,
    LeaseLost,
    SagaRecord,
    _encode,
)
from outcome._result import Err, Ok, Result
from outcome._saga import Saga, SagaFailure, Step, _value_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence

    from outcome._classify.classifier import Classifier
    from outcome._journal.store import _EntryRow, _SagaRow
    from outcome._retry import Retrying

I = TypeVar("I")  # noqa: E741 - the input, as in the docs
C = TypeVar("C")

_NOTHING: Final = "{}"


class _Randomness:
    """Random bytes from the OS, read 4 KiB at a time: one syscall per 512 ids."""

    __slots__ = ("buffered",)

    def __init__(self) -> None:
        self.buffered: list[str] = []

    def take(self) -> str:
        """16 random hex digits, never given out twice (nor in a forked child)."""
        try:
            return self.buffered.pop()  # atomic: two threads never get one
        except IndexError:
            block = os.urandom(4096).hex()
            fresh = [block[i : i + 16] for i in range(0, 8192, 16)]
            taken = fresh.pop()
            self.buffered = fresh  # a thread refilling meanwhile: its own bytes
            return taken

    def forget(self) -> None:
        """In a forked child: the parent's bytes are the parent's."""
        self.buffered = []


_RANDOM: Final = _Randomness()
os.register_at_fork(after_in_child=_RANDOM.forget)


def _new_id() -> str:
    # Time first, so that new sagas go at the end of the journal's indexes
    # (one page written per insert, no page split in the middle), then
    # enough randomness that two machines never make the same id.
    return f"{time.time_ns():016x}{_RANDOM.take()}"


# Recording ------------------------------------------------------------------


class _Recorder:
    """The journal entries of one run: numbered, merged, written in order."""

    __slots__ = (
        "journal",
        "lease",
        "lost",
        "pending",
        "record",
        "saga_id",
        "seq",
        "transactional",
    )

    def __init__(  # noqa: PLR0913 - the journal, the saga, and how to write
        self,
        journal: Journal,
        saga_id: str,
        lease: float,
        *,
        seq: int = 0,
        record: _SagaRow | None = None,
        transactional: bool = False,
    ) -> None:
        self.journal = journal
        self.transactional = transactional  # steps write in the journal's transaction
        self.saga_id = saga_id
        self.lease = lease
        self.seq = seq
        self.pending: list[_EntryRow] = []
        self.record = record  # the saga's row, until the first write stores it
        self.lost = False

    def note(self, step: str, phase: str, event: str, payload: str = _NOTHING) -> None:
        """Add an entry, to be written with the next intent or the end."""
        self.seq = seq = self.seq + 1
        now = time.time()
        self.pending.append((seq, step, phase, event, payload, now, now + self.lease))

    def intent(self, step: str, phase: str) -> None:
        """Write that `step` is about to act, with what waits, before it acts."""
        if self.lost:
            raise self._lost()
        self.note(step, phase, _INTENT)
        self.flush()

    def flush(self, *, finished: bool = False) -> None:
        rows, self.pending = self.pending, []
        try:
            if self.record is not None:
                self.journal._begin_rows(self.record, rows)  # noqa: SLF001
                self.record = None
            else:
                self.journal._append_rows(self.saga_id, rows, finished=finished)  # noqa: SLF001
        except LeaseLost:
            self.lost = True
            raise

    def _lost(self) -> LeaseLost:
        return LeaseLost(
            f"saga {self.saga_id!r} was claimed by a recoverer while it ran: "
            "this process must leave it"
        )


def _errors_payload(failure: object) -> str:
    """What the journal keeps of a failure: each error's path, code and bucket."""
    if isinstance(failure, BaseException):
        errors = Errors()
        errors.add_exception(failure)
    elif type(failure) is Errors:
        errors = failure
    elif type(failure) is ErrorDetail:
        errors = Errors([failure])
    else:  # an Err of no error, which the saga reports as step_failed too
        errors = Errors([ErrorDetail(None, "step_failed", bucket=Bucket.USER_VISIBLE)])
    kept = [
        {
            "path": list(detail.path),
            "code": detail.code,
            "bucket": detail.bucket.value,
            # A programmer error's message is for its programmer, never stored.
            "message": None
            if detail.bucket is Bucket.PROGRAMMER_ERROR
            else detail.message,
        }
        for detail in errors
    ]
    return json.dumps({"errors": kept}, separators=(",", ":"))


def _errors_of(payload: str) -> Errors:
    """The Errors an ``err`` entry kept (without params or causes)."""
    errors = Errors()
    for kept in json.loads(payload).get("errors", ()):
        errors.append(
            ErrorDetail(
                tuple(kept["path"]),
                kept["code"],
                kept["message"],
                bucket=Bucket(kept["bucket"]),
            )
        )
    return errors


# The run in progress: the saga's wrapped steps are built once per definition,
# and each call finds its run here (a task an async run makes copies it).
_CURRENT: ContextVar[_Recorder] = ContextVar("outcome_durable_run")


class _Recorded:
    """A step's action or compensation that writes its intent and outcome."""

    __slots__ = ("call", "immediate", "log_is", "phase", "step")

    def __init__(
        self,
        step: str,
        phase: str,
        call: Callable[..., object],
        *,
        immediate: bool,
    ) -> None:
        self.step = step
        self.phase = phase
        self.call = call
        self.immediate = immediate  # write the outcome now: a hook comes next
        self.log_is = f"step {step!r}: its log"  # what a log that is no JSON is

    def __call__(self, *arguments: object) -> object:
        recorder = _CURRENT.get()
        recorder.intent(self.step, self.phase)
        if recorder.transactional:  # what the step writes commits with its outcome
            recorder.journal.open_transaction()
        try:
            outcome = self.call(*arguments)
        except BaseException as exc:
            self._failed(recorder, exc)
            raise
        kind = type(outcome)
        if kind is not Ok and kind is not Err and inspect.isawaitable(outcome):
            return self._awaited(recorder, outcome)
        return self._done(recorder, outcome)

    async def _awaited(
        self, recorder: _Recorder, awaitable: Awaitable[object]
    ) -> object:
        try:
            outcome = await awaitable
        except BaseException as exc:
            self._failed(recorder, exc)
            raise
        return self._done(recorder, outcome)

    def _failed(self, recorder: _Recorder, exc: BaseException) -> None:
        if recorder.transactional:  # none of what it wrote is kept
            recorder.journal.rollback()
        if isinstance(exc, Exception) and not isinstance(exc, LeaseLost):
            self._write(recorder, _ERR, _errors_payload(exc))
        # KeyboardInterrupt, SystemExit, a cancel: the step is in doubt, and
        # the journal says so by having no outcome for it.

    def _done(self, recorder: _Recorder, outcome: object) -> object:
        kind = type(outcome)  # compared, so that `outcome` keeps its type
        if self.phase != _ACTION:
            if kind is Err:
                if recorder.transactional:
                    recorder.journal.rollback()
                failure: object = cast("Err[object]", outcome).err_value
                self._write(recorder, _ERR, _errors_payload(failure))
            else:
                self._write(recorder, _OK, _NOTHING)
            return outcome
        if kind is Ok:
            log = _value_of(outcome)
            try:
                text = _encode(log, self.log_is)
            except TypeError as exc:
                self._failed(recorder, exc)
                raise
            self._write(recorder, _OK, text)
            # What a compensation gets is what the journal holds: the same
            # in this process as after a recovery. A str, int, finite float,
            # bool or None reads back as itself.
            if type(log) in _READ_BACK_AS_ITSELF:
                return outcome
            return Ok(json.loads(text))
        if recorder.transactional:  # a failed step keeps none of its writes
            recorder.journal.rollback()
        if kind is Err:
            failure = cast("Err[object]", outcome).err_value
            self._write(recorder, _ERR, _errors_payload(failure))
        else:  # not a Result: the saga raises a TypeError for it
            self._write(recorder, _ERR, _errors_payload(TypeError("not a Result")))
        return outcome

    def _write(self, recorder: _Recorder, event: str, payload: str) -> None:
        recorder.note(self.step, self.phase, event, payload)
        if self.immediate:
            recorder.flush()


_READ_BACK_AS_ITSELF: Final = frozenset({str, int, float, bool, type(None)})


# The saga ----------------------------------------------------------------------


@final
class DurableSaga(Generic[I, C]):
    """
    A saga that records each step in a journal, so `recover` can end it after a crash.

    It runs like `Saga`, with two differences. Its input is a JSON value,
    stored in the journal, and `context` rebuilds the steps' context from it
    (here and after a restart): a context is not stored. And each step's
    log is a JSON value too, which its compensation gets back as the journal
    holds it (a tuple as a list).

    Before each action and each compensation runs, its intent is in the
    journal; after, its outcome. A process that dies leaves the saga in
    flight, and `recover` ends it once its lease has expired.

    Args:
        name: The saga's name in the journal; `recover` finds its definition
            by it.
        steps: The steps, as for `Saga`.
        journal: Where it records: a `SqliteJournal` or a `PostgresJournal`.
        context: Called with the input and the saga's id to make the context
            the steps get. Derive idempotency keys from the id: it is the same
            after a recovery.
        version: Change it when the steps change meaning: `recover` refuses to
            end a saga that started under another version.
        resumable: The names of the steps whose action may run again after a
            crash (it is idempotent): `recover` carries the saga on from such
            a step instead of compensating.
        lease: Seconds a run holds its saga without writing to the journal;
            longer than the longest step. After that a recoverer may claim it.
        transactional: Run each action and compensation in a transaction on
            the journal's `Journal.connection`, committed with its outcome (or
            rolled back when it fails), so that a step that writes the
            journal's database through that connection commits its work and
            its journal row at once. Only with `run`.
        **options: The `Saga` options: ``classifier``, ``on_step``,
            ``on_compensated``, ``on_stuck``, ``on_failure``, ``retrying``.

    >>> import tempfile, pathlib
    >>> from outcome import SqliteJournal
    >>> journal = SqliteJournal(pathlib.Path(tempfile.mkdtemp()) / "sagas.db")
    >>> saga = DurableSaga(
    ...     "hold",
    ...     [Step("reserve", lambda ctx: Ok(["hold", ctx["sku"]]))],
    ...     journal=journal,
    ...     context=lambda data, saga_id: data,
    ... )
    >>> saga.run({"sku": "tea"})
    Ok({'reserve': ['hold', 'tea']})

    Raises:
        TypeError: As `Saga` does, or when `journal` is not a `Journal`,
            `context` is not callable or `lease` is not a number.
        ValueError: As `Saga` does, when `name` is empty, `version` is not a
            positive int, `lease` is not positive, or `resumable` names a step
            the saga does not have.

    .. versionadded:: 0.2.0
    """

    def __init__(  # noqa: PLR0913 - the definition, then the Saga's options
        self,
        name: str,
        steps: Sequence[Step[C, Any]],
        *,
        journal: Journal,
        context: Callable[[I, str], C],
        version: int = 1,
        resumable: Collection[str] = (),
        lease: float = 300.0,
        transactional: bool = False,
        classifier: Classifier | None = None,
        on_step: Callable[[str, object], object] | None = None,
        on_compensated: Callable[[str], object] | None = None,
        on_stuck: Callable[[str, Errors], object] | None = None,
        on_failure: Callable[[SagaFailure], object] | None = None,
        retrying: Retrying | None = None,
    ) -> None:
        if not isinstance(cast("object", name), str) or not name:
            msg = f"a durable saga needs a non-empty str name, not {name!r}"
            raise ValueError(msg)
        if not isinstance(cast("object", journal), Journal):
            msg = (
                f"DurableSaga journal must be a Journal (SqliteJournal or "
                f"PostgresJournal), not {journal!r}"
            )
            raise TypeError(msg)
        if not callable(cast("object", context)):
            msg = (
                f"DurableSaga context must be callable with the input and the "
                f"saga id, not {context!r}"
            )
            raise TypeError(msg)
        if type(version) is not int or version < 1:
            msg = f"DurableSaga version must be a positive int, not {version!r}"
            raise ValueError(msg)
        if isinstance(lease, bool) or not isinstance(
            cast("object", lease), int | float
        ):
            msg = f"DurableSaga lease must be a number of seconds, not {lease!r}"
            raise TypeError(msg)
        if not lease > 0:
            msg = f"DurableSaga lease must be positive, not {lease!r}"
            raise ValueError(msg)
        self._options: dict[str, Any] = {
            "classifier": classifier,
            "on_step": on_step,
            "on_compensated": on_compensated,
            "on_stuck": on_stuck,
            "on_failure": on_failure,
            "retrying": retrying,
        }
        self._saga: Saga[C] = Saga(steps, **self._options)  # checks steps, options
        self.name: Final = name
        self.version: Final = version
        self.steps: tuple[Step[C, Any], ...] = self._saga.steps
        names = [step.name for step in self.steps]
        if isinstance(resumable, str):
            resumable = (resumable,)
        unknown = sorted(set(resumable) - set(names))
        if unknown:
            msg = (
                f"DurableSaga resumable names steps it does not have: {unknown!r}; "
                f"its steps are {names!r}"
            )
            raise ValueError(msg)
        self.resumable: frozenset[str] = frozenset(resumable)
        self.journal: Final = journal
        self.lease: Final = float(lease)
        self.transactional: Final = bool(transactional)
        self.context = context
        self._steps_text = json.dumps(names)
        self._input_is = f"durable saga {name!r}: its input"  # as a refusal says
        self._fresh: Saga[C] = self._recorded({})  # what a new run runs

    def __repr__(self) -> str:
        return f"DurableSaga({self.name!r}, version={self.version}, {self.journal!r})"

    # Running -------------------------------------------------------------------

    def _start(self, given: I) -> tuple[C, _Recorder]:
        text = _encode(given, self._input_is)
        saga_id = _new_id()
        ctx = self.context(json.loads(text), saga_id)
        record = (saga_id, self.name, self.version, self._steps_text, text)
        return ctx, _Recorder(
            self.journal,
            saga_id,
            self.lease,
            record=record,
            transactional=self.transactional,
        )

    def run(self, given: I) -> Result[dict[str, object], SagaFailure]:
        """
        Store `given`, then run the steps on the context made from it.

        Returns:
            As `Saga.run`.

        Raises:
            TypeError: Before any step runs, when `given` is not a JSON value.
            JournalError: When the journal cannot be written at the start
                (then no step has run), or later (then the saga is in flight,
                for `recover`).
            LeaseLost: When a recoverer claimed the saga meanwhile.
            Exception: As `Saga.run` does.
        """
        ctx, recorder = self._start(given)
        return self._finish(recorder, lambda saga: saga.run(ctx), self._fresh)

    async def run_async(self, given: I) -> Result[dict[str, object], SagaFailure]:
        """
        Store `given`, then run the steps as `Saga.run_async` does.

        The journal's writes are not awaited: each is one small transaction,
        made on the event loop's thread.

        Raises:
            TypeError: Before any step runs, when `given` is not a JSON value,
                or the saga is `transactional`.
            JournalError: As `run` does.
            Exception: As `Saga.run_async` does.
        """
        if self.transactional:
            msg = (
                f"durable saga {self.name!r} is transactional: its steps write in "
                "the journal's connection, which sagas interleaved on one event "
                "loop would share; run it with run(), in a thread if need be"
            )
            raise TypeError(msg)
        ctx, recorder = self._start(given)
        token = _CURRENT.set(recorder)
        try:
            result = await self._fresh.run_async(ctx)
        except BaseException as exc:
            self._raised(recorder, exc)
            raise
        finally:
            _CURRENT.reset(token)
        return self._concluded(recorder, result)

    def _finish(
        self,
        recorder: _Recorder,
        run: Callable[[Saga[C]], Result[dict[str, object], SagaFailure]],
        saga: Saga[C],
    ) -> Result[dict[str, object], SagaFailure]:
        token = _CURRENT.set(recorder)
        try:
            result = run(saga)
        except BaseException as exc:
            self._raised(recorder, exc)
            raise
        finally:
            _CURRENT.reset(token)
        return self._concluded(recorder, result)

    def _raised(self, recorder: _Recorder, exc: BaseException) -> None:
        if isinstance(exc, JournalError) or recorder.lost:
            return  # the journal failed, or the saga is a recoverer's now
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            return  # nothing was compensated: it is left in flight, for recover
        # The saga compensated, then raised (a bug, a hook's, a cancel): ended.
        recorder.note("", _SAGA, _FAILED, _errors_payload(exc))
        recorder.flush(finished=True)

    def _concluded(
        self, recorder: _Recorder, result: Result[dict[str, object], SagaFailure]
    ) -> Result[dict[str, object], SagaFailure]:
        if type(result) is Ok:
            recorder.note("", _SAGA, _DONE)
        else:
            failure = result.err_value
            recorder.note("", _SAGA, _FAILED, _errors_payload(failure.errors))
        recorder.flush(finished=True)
        return result

    def _recorded(self, replay: dict[str, _Replay]) -> Saga[C]:
        """The saga this run runs: each step wrapped to write, or replayed."""
        on_step = self._options["on_step"]
        immediate = on_step is not None
        options = dict(self._options)
        replayed = set(replay)
        if on_step is not None and replayed:
            # A replayed step completed before: its hook has been called.
            def on_new_step(name: str, log: object) -> object:
                return None if name in replayed else on_step(name, log)

            options["on_step"] = on_new_step
        after_undo = (
            self._options["on_compensated"] is not None
            or self._options["on_stuck"] is not None
        )
        steps: list[Step[C, Any]] = []
        for step in self.steps:
            done = replay.get(step.name)
            steps.append(
                _replayed(step, done, after=after_undo)
                if done is not None
                else _wrapped(step, immediate=immediate, after=after_undo)
            )
        return Saga(steps, **options)

    # Recovering ----------------------------------------------------------------

    def _recover(self, record: SagaRecord) -> Result[dict[str, object], SagaFailure]:
        """End a claimed saga from its journal: replay, then resume or compensate."""
        replay, stop = _read(record)
        given = json.loads(record.input)
        ctx = self.context(given, record.saga_id)
        recorder = _Recorder(
            self.journal,
            record.saga_id,
            self.lease,
            seq=record.entries[-1].seq,
            transactional=self.transactional,
        )
        if stop is not None and replay[stop].failed is None:
            if stop in self.resumable:
                del replay[stop]  # it runs again, and the steps after it
            else:  # it fails, as a timeout does, and gets its compensate_failed
                replay[stop].failed = errors = _interrupted(stop)
                recorder.note(stop, _ACTION, _ERR, _errors_payload(errors))
        return self._finish(
            recorder, lambda saga: saga.run(ctx), self._recorded(replay)
        )


@attrs.define
class _Replay:
    """What the journal says of one step: its outcome and its compensations'."""

    log: object = None
    done: bool = False  # the action's ok is its last event
    failed: Errors | None = None  # the action's err is its last event
    compensate: str | None = None  # the last compensate event
    compensate_errors: Errors | None = None
    compensate_failed: str | None = None  # the last compensate_failed event
    compensate_failed_errors: Errors | None = None


def _interrupted(step: str) -> Errors:
    errors = Errors()
    errors.add(None, "interrupted", bucket=Bucket.USER_VISIBLE, step=step)
    return errors


def _read(record: SagaRecord) -> tuple[dict[str, _Replay], str | None]:
    """
    What the journal says of each step up to where the saga stopped, and that step.

    The saga stopped at the first step whose action failed, or has no
    outcome: it was in doubt (an intent alone) or had not started. Steps
    after it never started, and are not in the replay; without such a step
    the saga completed every one.
    """
    found: dict[str, _Replay] = {}
    for entry in record.entries:
        if entry.phase == _SAGA:
            continue
        step = found.setdefault(entry.step, _Replay())
        if entry.phase == _ACTION:  # the last attempt's events are the ones that count
            step.done = entry.event == _OK
            step.log = json.loads(entry.payload) if step.done else None
            step.failed = _errors_of(entry.payload) if entry.event == _ERR else None
        elif entry.phase == _COMPENSATE:
            step.compensate = entry.event
            if entry.event == _ERR:
                step.compensate_errors = _errors_of(entry.payload)
        else:
            step.compensate_failed = entry.event
            if entry.event == _ERR:
                step.compensate_failed_errors = _errors_of(entry.payload)
    replay: dict[str, _Replay] = {}
    for name in json.loads(record.steps):
        step = replay[name] = found.get(name, _Replay())
        if not step.done:
            return replay, name
    return replay, None


def _wrapped(step: Step[C, Any], *, immediate: bool, after: bool) -> Step[C, Any]:
    name = step.name
    return Step(
        name,
        cast("Any", _Recorded(name, _ACTION, step.action, immediate=immediate)),
        None
        if step.compensate is None
        else _Recorded(name, _COMPENSATE, step.compensate, immediate=after),
        compensate_failed=None
        if step.compensate_failed is None
        else _Recorded(
            name, _COMPENSATE_FAILED, step.compensate_failed, immediate=after
        ),
        retry_policy=step.retry_policy,
    )


def _replayed(
    step: Step[C, Any],
    done: _Replay,
    *,
    after: bool,
) -> Step[C, Any]:
    """A step whose action the journal records: its outcome, without running it."""
    outcome: Result[object, Errors] = (
        Ok(done.log) if done.failed is None else Err(done.failed)
    )
    name = step.name
    return Step(
        name,
        lambda _ctx: outcome,
        _undo(step, _COMPENSATE, done.compensate, done.compensate_errors, after),
        compensate_failed=_undo(
            step,
            _COMPENSATE_FAILED,
            done.compensate_failed,
            done.compensate_failed_errors,
            after,
        ),
    )


def _undo(
    step: Step[Any, Any],
    phase: str,
    event: str | None,
    errors: Errors | None,
    after: bool,  # noqa: FBT001 - private
) -> Callable[..., object] | None:
    """A compensation as the journal has it: done, stuck, or still to run."""
    call = step.compensate if phase == _COMPENSATE else step.compensate_failed
    if call is None or event == _OK:
        return None  # nothing to undo, or undone already
    if event == _ERR:
        stuck: Err[Errors] = Err(errors or Errors())
        return lambda *_arguments: stuck  # it failed for good: still stuck
    # Never run, or in doubt (an intent alone): run it, again if need be.
    return _Recorded(step.name, phase, call, immediate=after)


# Recovery -----------------------------------------------------------------------


@final
@attrs.frozen
class Recovery:
    """
    What `recover` did with one saga it found in flight.

    Attributes:
        saga_id: The saga's id in the journal.
        name: Its name.
        result: How it ended: ``Ok(logs)`` when it was carried on to the end,
            ``Err(SagaFailure)`` when it was compensated; `None` when it was
            left alone.
        problem: Why it was left alone (its definition changed or is unknown,
            or its rows cannot be read), or what its steps raised; for the
            person who must look.

    .. versionadded:: 0.2.0
    """

    saga_id: str
    name: str
    result: Result[dict[str, object], SagaFailure] | None = None
    problem: str | None = None


def recover(
    sagas: Iterable[DurableSaga[Any, Any]], *, now: float | None = None
) -> list[Recovery]:
    """
    End every saga of `sagas`' journals left in flight by a process that stopped.

    For each saga whose lease has expired, it claims the saga (so that
    recoverers running at once never both act on one), replays what the
    journal records, and then either carries the saga on, when the step that
    was interrupted is `DurableSaga.resumable`, or compensates: that step
    gets its `Step.compensate_failed`, as a timeout does, and the completed
    steps their compensation. No action recorded as done runs again. A
    compensation that was interrupted runs again: compensations must be
    idempotent.

    A saga whose definition is not among `sagas`, or whose name and version
    or steps have changed since it started, is left alone, and so is one
    whose rows cannot be read; the report says why, and the others are
    still recovered.

    Run it at start-up, or periodically (a Celery beat or Huey periodic task).

    Args:
        sagas: The definitions, found by name.
        now: The time to compare leases with, in seconds since the epoch; the
            current time if omitted. Tests give a later one to find sagas
            whose leases have not run out yet; the claims hold from it, and
            the recovery's own writes from the current time.

    Returns:
        One `Recovery` per saga found in flight, in the journal's order.

    >>> import tempfile, pathlib
    >>> from outcome import SqliteJournal
    >>> journal = SqliteJournal(pathlib.Path(tempfile.mkdtemp()) / "sagas.db")
    >>> saga = DurableSaga(
    ...     "hold", [Step("reserve", lambda ctx: Ok(1))], journal=journal,
    ...     context=lambda data, saga_id: data,
    ... )
    >>> recover([saga])
    []

    Raises:
        ValueError: When two of `sagas` share a name and journal.
        JournalError: When a journal cannot be read at all.

    .. versionadded:: 0.2.0
    """
    by_journal: dict[int, tuple[Journal, dict[str, DurableSaga[Any, Any]]]] = {}
    for saga in sagas:
        if type(cast("object", saga)) is not DurableSaga:
            msg = f"recover takes DurableSaga definitions, not {saga!r}"
            raise TypeError(msg)
        _, named = by_journal.setdefault(id(saga.journal), (saga.journal, {}))
        if saga.name in named and named[saga.name] is not saga:
            msg = f"two durable sagas are named {saga.name!r} in {saga.journal!r}"
            raise ValueError(msg)
        named[saga.name] = saga
    reports: list[Recovery] = []
    for journal, named in by_journal.values():
        moment = time.time() if now is None else now
        for found in journal.expired(moment):
            report = _recover_one(journal, named, found, moment)
            if report is not None:
                reports.append(report)
    return reports


def _recover_one(
    journal: Journal,
    named: dict[str, DurableSaga[Any, Any]],
    found: SagaRecord,
    now: float,
) -> Recovery | None:
    saga = named.get(found.name)
    if saga is None:
        return Recovery(
            found.saga_id,
            found.name,
            problem=f"no definition named {found.name!r} was given to recover",
        )
    problem = _changed(saga, found)
    if problem is not None:
        return Recovery(found.saga_id, found.name, problem=problem)
    claimed = journal.claim(found.saga_id, now, saga.lease)
    if claimed is None:
        return None  # another recoverer has it, or its runner came back
    try:
        _read(claimed)
        json.loads(claimed.input)
    except (ValueError, KeyError, TypeError) as exc:
        return Recovery(
            found.saga_id,
            found.name,
            problem=(
                f"its journal rows in {journal.where} cannot be read "
                f"({type(exc).__name__}: {exc}); left for a person to look at"
            ),
        )
    try:
        result = saga._recover(claimed)  # noqa: SLF001 - the module's own
    except Exception as exc:  # noqa: BLE001 - reported; the others still recover
        return Recovery(
            found.saga_id,
            found.name,
            problem=f"recovering it raised {type(exc).__name__}: {exc}",
        )
    return Recovery(found.saga_id, found.name, result)


def _changed(saga: DurableSaga[Any, Any], found: SagaRecord) -> str | None:
    """Why `saga` may not end `found`: it started under another definition."""
    names = [step.name for step in saga.steps]
    try:
        started = json.loads(found.steps)
    except ValueError:
        started = None
    if found.version != saga.version or started != names:
        return (
            f"it started as {found.name!r} version {found.version} with steps "
            f"{started!r}, and the definition given is version {saga.version} "
            f"with steps {names!r}: run the code it started with to recover it, "
            "or end it by hand"
        )
    return None
