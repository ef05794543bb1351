"""
Compare a Saga with the same steps written by hand with try/except.

Two cases with ten trivial steps, run by `Saga.run`: all of them succeed, or
the last one fails and the nine before it are compensated. Two more with three
async steps, whose actions and undos are coroutine functions, run by
`Saga.run_async`. The hand-written version is what a careful engineer writes
without the library: run each step, push its undo on a list, and on failure
run the undos newest first, each in its own try/except so that one failing
undo does not stop the others, collecting what failed (awaiting each, in the
async cases, with no shield: the saga keeps a cancel from cutting its undos
short, which the hand-written one does not). Its actions return plain values
and the failing one raises; the saga's actions return ``Ok(i)`` and the
failing one returns ``Err(errors)``.

Both are measured in this one process by the shared harness
(``_harness.py``): in each round every contender is timed on every case, in an
order rotated from round to round, so a noisy neighbour slows both alike. A
round's figure is the minimum of 3 repeats, in CPU time. The table gives the
median time per run and the median over rounds of the saga / by-hand ratio,
with its spread. The targets are the largest ratio of saga to hand-written we
accept for the bookkeeping the saga does on top (retry loop, hooks, the
report; in the async cases, a task for the undos that a cancel cannot cut
short). The failing async case also times the saga with plain-function
compensations, which need no such task, for reference, with no target. The
async runs are timed inside one event loop, all the calls of a
repeat in one coroutine, with the garbage collector off as for the others;
each repeat ends with one turn of the loop inside the timing, so that any
work the calls left for the loop (a task one started and did not wait for)
is counted too.

Run it with ``python benchmarks/bench_saga.py``; ``--quick`` runs a few short
rounds only to prove the script works.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _harness import (
    Comparison,
    Contender,
    Entry,
    calls,
    clock,
    finish,
    parse_settings,
    run,
)

import outcome
from outcome import Err, ErrorDetail, Errors, Ok, Result, Saga, Step

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    # A hand-written step: its name, its action and its undo.
    HandStep = tuple[str, Callable[[object], int], Callable[[object, int], object]]
    AsyncHandStep = tuple[
        str,
        Callable[[object], Awaitable[int]],
        Callable[[object, int], Awaitable[object]],
    ]

STEPS = 10
ASYNC_STEPS = 3
# The largest accepted ratios of saga to hand-written.
TARGET_SUCCEED = 4.00
TARGET_FAIL = 2.00
TARGET_ASYNC_FAIL = 3.00
DECLINED = Errors([ErrorDetail("card", "declined")])


class StepFailedError(Exception):
    """What a hand-written step raises when it cannot go on."""


# The saga ------------------------------------------------------------------------


def _saga_action(index: int) -> Callable[[object], Result[int, Errors]]:
    """Make a saga step's action that succeeds with `index`."""

    def action(_ctx: object) -> Result[int, Errors]:
        """Succeed with the step's index."""
        return Ok(index)

    return action


def _saga_fails(_ctx: object) -> Result[int, Errors]:
    """Fail as a saga action does: with an Err."""
    return Err(DECLINED)


def _saga_undo(_ctx: object, _log: int) -> None:
    """Undo nothing, successfully."""
    return


def make_saga(*, fail_last: bool) -> Saga[object]:
    """Ten trivial steps; with `fail_last`, the tenth returns an Err."""
    steps = [
        Step(f"step{index}", _saga_action(index), _saga_undo)
        for index in range(STEPS - 1)
    ]
    last = _saga_fails if fail_last else _saga_action(STEPS - 1)
    steps.append(Step(f"step{STEPS - 1}", last, _saga_undo))
    return Saga(steps)


# By hand -------------------------------------------------------------------------


def _plain_action(index: int) -> Callable[[object], int]:
    """Make a hand-written step's action that returns `index`."""

    def action(_ctx: object) -> int:
        """Return the step's index."""
        return index

    return action


def _plain_fails(_ctx: object) -> int:
    """Fail as a hand-written action does: by raising."""
    raise StepFailedError


def _plain_undo(_ctx: object, _log: int) -> None:
    """Undo nothing, successfully."""
    return


def make_steps(*, fail_last: bool) -> list[HandStep]:
    """The same ten steps, as (name, action, undo) for the hand-written run."""
    steps: list[HandStep] = [
        (f"step{index}", _plain_action(index), _plain_undo)
        for index in range(STEPS - 1)
    ]
    last = _plain_fails if fail_last else _plain_action(STEPS - 1)
    steps.append((f"step{STEPS - 1}", last, _plain_undo))
    return steps


def by_hand(steps: list[HandStep], ctx: object) -> tuple[bool, object, list[object]]:
    """Run the steps; on failure undo the completed ones, newest first."""
    undos: list[tuple[str, Callable[[], object]]] = []
    logs: dict[str, int] = {}
    try:
        for name, action, undo in steps:
            log = action(ctx)
            logs[name] = log
            undos.append((name, functools.partial(undo, ctx, log)))
    except StepFailedError as failure:
        stuck: list[object] = []
        for name, undo_one in reversed(undos):
            try:
                undo_one()
            except Exception as exc:  # noqa: BLE001 - collected, as a saga does
                stuck.append((name, exc))
        return False, failure, stuck
    return True, logs, []


# Async ---------------------------------------------------------------------------


def _async_saga_action(
    index: int,
) -> Callable[[object], Awaitable[Result[int, Errors]]]:
    """Make an async saga step's action that succeeds with `index`."""

    async def action(_ctx: object) -> Result[int, Errors]:
        """Succeed with the step's index."""
        return Ok(index)

    return action


async def _async_saga_fails(_ctx: object) -> Result[int, Errors]:
    """Fail as a saga action does: with an Err."""
    return Err(DECLINED)


async def _async_saga_undo(_ctx: object, _log: int) -> None:
    """Undo nothing, successfully."""
    return


def _plain_saga_undo(_ctx: object, _log: int) -> None:
    """Undo nothing, successfully, with nothing to await: a plain function."""
    return


def make_async_saga(*, fail_last: bool, plain_undos: bool = False) -> Saga[object]:
    """
    Three trivial async steps; with `fail_last`, the third returns an Err.

    With `plain_undos`, the compensations are plain functions: a run_async
    makes no task for them.
    """
    undo = _plain_saga_undo if plain_undos else _async_saga_undo
    steps = [
        Step(f"step{index}", _async_saga_action(index), undo)
        for index in range(ASYNC_STEPS - 1)
    ]
    last = _async_saga_fails if fail_last else _async_saga_action(ASYNC_STEPS - 1)
    steps.append(Step(f"step{ASYNC_STEPS - 1}", last, undo))
    return Saga(steps)


def _async_plain_action(index: int) -> Callable[[object], Awaitable[int]]:
    """Make a hand-written async step's action that returns `index`."""

    async def action(_ctx: object) -> int:
        """Return the step's index."""
        return index

    return action


async def _async_plain_fails(_ctx: object) -> int:
    """Fail as a hand-written action does: by raising."""
    raise StepFailedError


async def _async_plain_undo(_ctx: object, _log: int) -> None:
    """Undo nothing, successfully."""
    return


def make_async_steps(*, fail_last: bool) -> list[AsyncHandStep]:
    """The same three async steps, as (name, action, undo)."""
    steps: list[AsyncHandStep] = [
        (f"step{index}", _async_plain_action(index), _async_plain_undo)
        for index in range(ASYNC_STEPS - 1)
    ]
    last = _async_plain_fails if fail_last else _async_plain_action(ASYNC_STEPS - 1)
    steps.append((f"step{ASYNC_STEPS - 1}", last, _async_plain_undo))
    return steps


async def by_hand_async(
    steps: list[AsyncHandStep], ctx: object
) -> tuple[bool, object, list[object]]:
    """Await the steps; on failure await the completed ones' undos, newest first."""
    undos: list[tuple[str, Callable[[object, int], Awaitable[object]], int]] = []
    logs: dict[str, int] = {}
    try:
        for name, action, undo in steps:
            log = await action(ctx)
            logs[name] = log
            undos.append((name, undo, log))
    except StepFailedError as failure:
        stuck: list[object] = []
        for name, undo_one, log in reversed(undos):
            try:
                await undo_one(ctx, log)
            except Exception as exc:  # noqa: BLE001 - collected, as a saga does
                stuck.append((name, exc))
        return False, failure, stuck
    return True, logs, []


def async_calls(
    loop: asyncio.AbstractEventLoop, function: Callable[[], Awaitable[object]]
) -> Callable[[int], int]:
    """Time awaits of `function` in `loop`, and the loop's next turn; the GC off."""

    async def timed(number: int) -> int:
        """Await `number` calls; return the CPU nanoseconds they took."""
        start = clock()
        for _ in range(number):
            await function()
        await asyncio.sleep(0)  # what the calls left for the loop runs now
        return clock() - start

    def time(number: int) -> int:
        """Run `timed` in the loop, with the garbage collector off as timeit does."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return loop.run_until_complete(timed(number))
        finally:
            if enabled:
                gc.enable()

    return time


# Measuring -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One scenario, run by the saga and by hand."""

    name: str
    fail_last: bool
    target: float
    is_async: bool = False
    # Also time the saga with plain-function compensations, with no target.
    plain_undos: bool = False


CASES = [
    Case("10 steps, all succeed", fail_last=False, target=TARGET_SUCCEED),
    Case("10 steps, last fails, 9 undone", fail_last=True, target=TARGET_FAIL),
    Case(
        "3 async steps, all succeed",
        fail_last=False,
        target=TARGET_SUCCEED,
        is_async=True,
    ),
    Case(
        "3 async steps, last fails, 2 undone",
        fail_last=True,
        target=TARGET_ASYNC_FAIL,
        is_async=True,
        plain_undos=True,
    ),
]
CONTENDERS = ("saga", "by hand")
PLAIN_UNDOS = "saga, plain-function undos"


def _contenders(case: Case) -> tuple[str, ...]:
    """The contenders timed on `case`."""
    return (*CONTENDERS, PLAIN_UNDOS) if case.plain_undos else CONTENDERS


def _runner(case: Case, contender: str) -> Callable[[], object]:
    """Return a call that runs `case` once the way `contender` does."""
    ctx = {"order": "A-17"}
    if contender == "saga":
        saga = make_saga(fail_last=case.fail_last)
        return functools.partial(saga.run, ctx)
    steps = make_steps(fail_last=case.fail_last)
    return functools.partial(by_hand, steps, ctx)


def _async_runner(case: Case, contender: str) -> Callable[[], Awaitable[object]]:
    """Return a call whose await runs the async `case` the way `contender` does."""
    ctx = {"order": "A-17"}
    if contender != "by hand":
        saga = make_async_saga(
            fail_last=case.fail_last, plain_undos=contender == PLAIN_UNDOS
        )
        return functools.partial(saga.run_async, ctx)
    steps = make_async_steps(fail_last=case.fail_last)
    return functools.partial(by_hand_async, steps, ctx)


def _check(case: Case) -> None:
    """Both contenders do what the case says, before anything is timed."""
    if case.is_async:
        count = ASYNC_STEPS
        result = asyncio.run(make_async_saga(fail_last=case.fail_last).run_async({}))
        if case.plain_undos:
            plain = make_async_saga(fail_last=case.fail_last, plain_undos=True)
            if asyncio.run(plain.run_async({})) != result:
                msg = f"{case.name}: plain-function undos do not do the same"
                raise RuntimeError(msg)
        succeeded, _, stuck = asyncio.run(
            by_hand_async(make_async_steps(fail_last=case.fail_last), {})
        )
    else:
        count = STEPS
        result = make_saga(fail_last=case.fail_last).run({})
        succeeded, _, stuck = by_hand(make_steps(fail_last=case.fail_last), {})
    undone = len(result.err_value.compensated) if isinstance(result, Err) else 0
    expected_undone = count - 1 if case.fail_last else 0
    if (
        isinstance(result, Ok) != (not case.fail_last)
        or succeeded != (not case.fail_last)
        or stuck
        or undone != expected_undone
    ):
        msg = f"{case.name}: the contenders do not do what the case says"
        raise RuntimeError(msg)


def _key(case: Case, contender: str) -> str:
    """Name the timer of `contender` on `case`."""
    return f"{case.name}, {contender}"


def main() -> int:
    """Print a markdown table of times and the saga / by-hand ratio."""
    settings = parse_settings(__doc__, rounds=31, number=5_000, quick_number=50)
    for case in CASES:
        _check(case)
    loop = asyncio.new_event_loop()
    contenders = [
        Contender(
            _key(case, contender),
            async_calls(loop, _async_runner(case, contender))
            if case.is_async
            else calls(_runner(case, contender)),
        )
        for case in CASES
        for contender in _contenders(case)
    ]
    comparisons = [
        Comparison(
            case.name,
            _key(case, "by hand"),
            (
                Entry("saga", _key(case, "saga"), target=case.target),
                Entry("by hand", _key(case, "by hand")),
                *(
                    [Entry(PLAIN_UNDOS, _key(case, PLAIN_UNDOS))]
                    if case.plain_undos
                    else []
                ),
            ),
        )
        for case in CASES
    ]
    try:
        misses = run(
            settings,
            contenders,
            comparisons,
            versions={"outcome": outcome.__version__},
        )
    finally:
        loop.close()
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
