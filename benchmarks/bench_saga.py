"""
Compare a Saga with the same steps written by hand with try/except.

Two cases, each with ten trivial steps: all of them succeed, or the last one
fails and the nine before it are compensated. The hand-written version is what
a careful engineer writes without the library: run each step, push its undo
on a list, and on failure run the undos newest first, each in its own
try/except so that one failing undo does not stop the others, collecting what
failed. Its actions return plain values and the failing one raises; the
saga's actions return ``Ok(i)`` and the failing one returns ``Err(errors)``.

Both are measured in this one process, in interleaved rounds (each round
times every contender on every case, in a rotating order), so a noisy
neighbour slows both alike. Each figure is the median over rounds of the time
per run. The target is the largest ratio of saga to hand-written we accept
for the bookkeeping the saga does on top (retry loop, hooks, the report).

Run it with ``python benchmarks/bench_saga.py``; ``--quick`` runs a few short
rounds only to prove the script works.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import sys
import timeit
from dataclasses import dataclass
from typing import TYPE_CHECKING

import outcome
from outcome import Err, ErrorDetail, Errors, Ok, Result, Saga, Step

if TYPE_CHECKING:
    from collections.abc import Callable

    # A hand-written step: its name, its action and its undo.
    HandStep = tuple[str, Callable[[object], int], Callable[[object, int], object]]

STEPS = 10
TARGET = 4.00  # the largest accepted ratio of saga to hand-written
DECLINED = Errors([ErrorDetail("card", "declined")])


class StepFailedError(Exception):
    """What a hand-written step raises when it cannot go on."""


# The saga ------------------------------------------------------------------------


def _saga_action(index: int) -> Callable[[object], Result[int, Errors]]:
    def action(_ctx: object) -> Result[int, Errors]:
        return Ok(index)

    return action


def _saga_fails(_ctx: object) -> Result[int, Errors]:
    return Err(DECLINED)


def _saga_undo(_ctx: object, _log: int) -> None:
    return None


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
    def action(_ctx: object) -> int:
        return index

    return action


def _plain_fails(_ctx: object) -> int:
    raise StepFailedError


def _plain_undo(_ctx: object, _log: int) -> None:
    return None


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


# Measuring -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One scenario, run by the saga and by hand."""

    name: str
    fail_last: bool


CASES = [
    Case("10 steps, all succeed", fail_last=False),
    Case("10 steps, last fails, 9 undone", fail_last=True),
]
CONTENDERS = ("saga", "by hand")


def _runner(case: Case, contender: str) -> Callable[[], object]:
    ctx = {"order": "A-17"}
    if contender == "saga":
        saga = make_saga(fail_last=case.fail_last)
        return functools.partial(saga.run, ctx)
    steps = make_steps(fail_last=case.fail_last)
    return functools.partial(by_hand, steps, ctx)


def _check(case: Case) -> None:
    """Both contenders do what the case says, before anything is timed."""
    result = make_saga(fail_last=case.fail_last).run({})
    succeeded, _, stuck = by_hand(make_steps(fail_last=case.fail_last), {})
    undone = len(result.err_value.compensated) if isinstance(result, Err) else 0
    expected_undone = STEPS - 1 if case.fail_last else 0
    if (
        isinstance(result, Ok) != (not case.fail_last)
        or succeeded != (not case.fail_last)
        or stuck
        or undone != expected_undone
    ):
        msg = f"{case.name}: the contenders do not do what the case says"
        raise RuntimeError(msg)


def measure(rounds: int, number: int) -> dict[tuple[str, str], float]:
    """Return the median seconds per run for each (case, contender)."""
    samples: dict[tuple[str, str], list[float]] = {}
    timers = [
        (case.name, contender, timeit.Timer(_runner(case, contender)))
        for case in CASES
        for contender in CONTENDERS
    ]
    for round_index in range(rounds):
        # Rotate the order so no contender always runs first (or last).
        shift = round_index % len(timers)
        for case_name, contender, timer in timers[shift:] + timers[:shift]:
            seconds = timer.timeit(number) / number
            samples.setdefault((case_name, contender), []).append(seconds)
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> int:
    """Print a markdown table of medians and the saga / by-hand ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--number", type=int, default=2_000)
    parser.add_argument(
        "--quick", action="store_true", help="a few short rounds, to smoke-test"
    )
    args = parser.parse_args()
    rounds, number = (3, 50) if args.quick else (args.rounds, args.number)

    for case in CASES:
        _check(case)
    medians = measure(rounds, number)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"outcome {outcome.__version__}; {rounds} interleaved rounds of "
        f"{number:,} runs; median ns per run.\n"
    )
    print("| case | saga ns | by hand ns | saga / by hand | target |")
    print("|---|---:|---:|---:|---|")
    misses: list[str] = []
    for case in CASES:
        saga_ns = medians[(case.name, "saga")] * 1e9
        hand_ns = medians[(case.name, "by hand")] * 1e9
        ratio = saga_ns / hand_ns
        met = ratio <= TARGET
        if not met:
            misses.append(case.name)
        print(
            f"| {case.name} | {saga_ns:,.0f} | {hand_ns:,.0f} | {ratio:.2f} | "
            f"<= {TARGET:.2f} {'met' if met else 'MISSED'} |"
        )
    if misses and not args.quick:
        print(f"\nTargets missed in this run: {', '.join(misses)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
