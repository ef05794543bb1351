"""
Compare the Result core with its peers: ``result`` 0.17 and ``returns``.

Every library is measured in this one process, in interleaved rounds (each
round times every library on every case, in a rotating order), so a noisy
neighbour slows all of them alike. Each figure is the median over rounds of the
time per operation with the cost of the empty loop subtracted. Ratios are to
``result``, which is as fast as a plain ``__slots__`` class.

Run it with ``make bench`` or ``python benchmarks/bench_result.py``; ``--quick``
runs a few short rounds only to prove the script works.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import timeit
import tracemalloc
from dataclasses import dataclass
from typing import TYPE_CHECKING

import result as rustedpy
from returns.pipeline import is_successful
from returns.result import Failure, Success

import outcome

if TYPE_CHECKING:
    from collections.abc import Callable


def inc(n: int) -> int:
    """Add one: the function every chain maps with."""
    return n + 1


@dataclass(frozen=True)
class Library:
    """One contender: its constructors and the names its statements use."""

    name: str
    ok: Callable[[int], object]
    err: Callable[[int], object]
    namespace: dict[str, object]


LIBRARIES = [
    Library(
        "outcome",
        outcome.Ok,
        outcome.Err,
        {
            "Ok": outcome.Ok,
            "Err": outcome.Err,
            "bind_ok": lambda n: outcome.Ok(n + 1),
        },
    ),
    Library(
        "result",
        rustedpy.Ok,
        rustedpy.Err,
        {
            "Ok": rustedpy.Ok,
            "Err": rustedpy.Err,
            "bind_ok": lambda n: rustedpy.Ok(n + 1),
        },
    ),
    Library(
        "returns",
        Success,
        Failure,
        {
            "Ok": Success,
            "Err": Failure,
            "bind_ok": lambda n: Success(n + 1),
            "is_successful": is_successful,
        },
    ),
]

MAP5 = "r.map(inc).map(inc).map(inc).map(inc).map(inc)"
MATCH = """
match r:
    case Ok(v):
        x = v
    case Err(e):
        x = e
"""


@dataclass(frozen=True)
class Case:
    """A statement timed for every library; `r` is bound to an Ok or an Err."""

    name: str
    statements: dict[str, str]  # library name -> statement ("*" for all)
    on_err: bool = False
    target: float | None = None  # the largest allowed ratio to `result`


def _same(statement: str) -> dict[str, str]:
    return {"*": statement}


CASES = [
    Case("construct Ok", _same("Ok(1)"), target=1.10),
    Case("construct Err", _same("Err(1)"), target=1.10),
    Case("isinstance", _same("isinstance(r, Ok)")),
    Case(
        "is_ok",
        {"*": "r.is_ok()", "returns": "is_successful(r)"},
    ),
    Case("map x5 on Ok", _same(MAP5), target=1.10),
    Case("map x5 on Err", _same(MAP5), on_err=True, target=1.10),
    Case(
        "and_then x5 on Ok",
        {
            "*": "r.and_then(bind_ok).and_then(bind_ok).and_then(bind_ok)"
            ".and_then(bind_ok).and_then(bind_ok)",
            "returns": "r.bind(bind_ok).bind(bind_ok).bind(bind_ok)"
            ".bind(bind_ok).bind(bind_ok)",
        },
        target=1.10,
    ),
    Case(
        "and_then x5 on Err",
        {
            "*": "r.and_then(bind_ok).and_then(bind_ok).and_then(bind_ok)"
            ".and_then(bind_ok).and_then(bind_ok)",
            "returns": "r.bind(bind_ok).bind(bind_ok).bind(bind_ok)"
            ".bind(bind_ok).bind(bind_ok)",
        },
        on_err=True,
        target=1.10,
    ),
    Case("match on Ok", _same(MATCH), target=1.10),
    Case("match on Err", _same(MATCH), on_err=True, target=1.10),
]


def _timer(library: Library, case: Case, number: int) -> Callable[[], float]:
    statement = case.statements.get(library.name, case.statements["*"])
    namespace = {
        **library.namespace,
        "inc": inc,
        "r": library.err(1) if case.on_err else library.ok(1),
    }
    timer = timeit.Timer(statement, globals=namespace)
    return lambda: timer.timeit(number) / number


def _traced_bytes(make: Callable[[int], object], count: int) -> int:
    keep: list[object] = [None] * count  # allocated before tracing starts
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for index in range(count):
        keep[index] = make(1)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return after - before


def _bytes_per_ok(library: Library, count: int = 100_000) -> float:
    # The loop itself allocates a little (its counter); measure and remove that.
    loop_only = _traced_bytes(lambda _: None, count)
    return (_traced_bytes(library.ok, count) - loop_only) / count


def measure(rounds: int, number: int) -> dict[tuple[str, str], float]:
    """Return the median net seconds per operation for each (case, library)."""
    samples: dict[tuple[str, str], list[float]] = {}
    empty = timeit.Timer("pass")
    timers = [
        (case.name, library.name, _timer(library, case, number))
        for case in CASES
        for library in LIBRARIES
    ]
    for round_index in range(rounds):
        # Rotate the order so no library always runs first (or last) in a round.
        shift = round_index % len(timers)
        for case_name, library_name, timer in timers[shift:] + timers[:shift]:
            overhead = empty.timeit(number) / number
            samples.setdefault((case_name, library_name), []).append(timer() - overhead)
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> int:
    """Print a markdown table of medians and ratios to `result`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument(
        "--quick", action="store_true", help="a few short rounds, to smoke-test"
    )
    args = parser.parse_args()
    rounds, number = (3, 200) if args.quick else (args.rounds, args.number)

    medians = measure(rounds, number)
    names = [library.name for library in LIBRARIES]
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"outcome {outcome.__version__}, result {rustedpy.__version__}; "
        f"{rounds} interleaved rounds of {number:,} operations; "
        "median ns per operation, empty loop subtracted.\n"
    )
    header = " | ".join(f"{name} ns" for name in names)
    print(f"| case | {header} | outcome / result | returns / result | target |")
    print("|---|" + "---:|" * (len(names) + 3))
    misses = []
    for case in CASES:
        ns = {name: medians[(case.name, name)] * 1e9 for name in names}
        ours, theirs = ns["outcome"] / ns["result"], ns["returns"] / ns["result"]
        verdict = ""
        if case.target is not None:
            met = ours <= case.target
            verdict = f"<= {case.target:.2f} {'met' if met else 'MISSED'}"
            if not met:
                misses.append(case.name)
        cells = " | ".join(f"{ns[name]:.1f}" for name in names)
        print(f"| {case.name} | {cells} | {ours:.2f} | {theirs:.2f} | {verdict} |")

    memory = {library.name: _bytes_per_ok(library) for library in LIBRARIES}
    cells = " | ".join(f"{memory[name]:.0f} B" for name in names)
    ours = memory["outcome"] / memory["result"]
    theirs = memory["returns"] / memory["result"]
    met = memory["outcome"] <= 40  # noqa: PLR2004 - the target, in bytes
    if not met:
        misses.append("bytes per Ok(1)")
    print(
        f"| bytes per Ok(1) | {cells} | {ours:.2f} | {theirs:.2f} | "
        f"<= 40 B {'met' if met else 'MISSED'} |"
    )
    if misses and not args.quick:
        print(f"\nTargets missed in this run: {', '.join(misses)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
