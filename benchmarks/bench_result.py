"""
Compare the Result core with its peers: ``result`` 0.17 and ``returns``.

Every library is measured in this one process by the shared harness
(``_harness.py``): in each round every library is timed on every case, in an
order rotated from round to round, so a noisy neighbour slows all of them
alike. A round's figure is the minimum of 3 repeats, in CPU time, less the
empty loop timed in the same round. The table gives the median time per
operation and the median over rounds of the ratio to ``result``, with its
spread; then ``match`` and ``collect`` against what a hand-written class with
``__slots__`` costs (``__match_args__`` naming its slot, and a plain loop);
then the bytes one ``Ok(1)`` holds, traced with ``tracemalloc``.

Run it with ``make bench`` or ``python benchmarks/bench_result.py``; ``--quick``
runs a few short rounds only to prove the script works.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import result as rustedpy
from _harness import (
    Comparison,
    Contender,
    Entry,
    finish,
    markdown_table,
    parse_settings,
    run,
    statement,
)
from returns.pipeline import is_successful
from returns.result import Failure, Success

import outcome

if TYPE_CHECKING:
    from collections.abc import Callable


EMPTY_LOOP = "empty loop"
COLLECTED = 1_000  # the Results one collect() call goes through


def inc(n: int) -> int:
    """Add one: the function every chain maps with."""
    return n + 1


def _bind_outcome(n: int) -> outcome.Ok[int]:
    """Add one inside an outcome Ok: the function every and_then chain binds."""
    return outcome.Ok(n + 1)


def _bind_result(n: int) -> rustedpy.Ok[int]:
    """Add one inside a result Ok."""
    return rustedpy.Ok(n + 1)


def _bind_returns(n: int) -> Success[int]:
    """Add one inside a returns Success."""
    return Success(n + 1)


class SlotsOk:
    """A hand-written success class: a slot, and match reads the slot itself."""

    __slots__ = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: object) -> None:
        """Hold `value`."""
        self.value = value


class SlotsErr:
    """The hand-written failure class."""

    __slots__ = ("error",)
    __match_args__ = ("error",)

    def __init__(self, error: object) -> None:
        """Hold `error`."""
        self.error = error


def collect_by_hand(results: list[SlotsOk | SlotsErr]) -> SlotsOk | SlotsErr:
    """What collect() does, as a plain loop over the hand-written classes."""
    values: list[object] = []
    for result in results:
        if isinstance(result, SlotsErr):
            return result
        values.append(result.value)
    return SlotsOk(values)


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
            "bind_ok": _bind_outcome,
        },
    ),
    Library(
        "result",
        rustedpy.Ok,
        rustedpy.Err,
        {
            "Ok": rustedpy.Ok,
            "Err": rustedpy.Err,
            "bind_ok": _bind_result,
        },
    ),
    Library(
        "returns",
        Success,
        Failure,
        {
            "Ok": Success,
            "Err": Failure,
            "bind_ok": _bind_returns,
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
    """The same statement for every library."""
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


def _key(case: Case, library: Library) -> str:
    """Name the contender that times `library` on `case`."""
    return f"{case.name}, {library.name}"


SLOTS = "slots class"
SLOTS_NAMESPACE: dict[str, object] = {"Ok": SlotsOk, "Err": SlotsErr}
# Against the hand-written class: the cases where outcome must cost what it does.
BY_HAND_CASES = [
    Case("match on Ok", {"*": MATCH}, target=1.05),
    Case("match on Err", {"*": MATCH}, on_err=True),
]


def contenders() -> list[Contender]:
    """Every library on every case, each with the empty loop subtracted."""
    timed = [Contender(EMPTY_LOOP, statement("pass", {}))]
    for case in CASES:
        for library in LIBRARIES:
            source = case.statements.get(library.name, case.statements["*"])
            namespace = {
                **library.namespace,
                "inc": inc,
                "r": library.err(1) if case.on_err else library.ok(1),
            }
            timed.append(
                Contender(
                    _key(case, library),
                    statement(source, namespace),
                    overhead=EMPTY_LOOP,
                )
            )
    for case in BY_HAND_CASES:
        namespace = {
            **SLOTS_NAMESPACE,
            "r": SlotsErr(1) if case.on_err else SlotsOk(1),
        }
        timed.append(
            Contender(
                f"{case.name}, {SLOTS}",
                statement(case.statements["*"], namespace),
                overhead=EMPTY_LOOP,
            )
        )
    oks = [outcome.Ok(index) for index in range(COLLECTED)]
    slots = [SlotsOk(index) for index in range(COLLECTED)]
    collect_number = 200  # calls per repeat: each goes through 1,000 Results
    timed += [
        Contender(
            "collect, outcome",
            statement("collect(oks)", {"collect": outcome.collect, "oks": oks}),
            number=collect_number,
        ),
        Contender(
            f"collect, {SLOTS}",
            statement("collect(oks)", {"collect": collect_by_hand, "oks": slots}),
            number=collect_number,
        ),
    ]
    return timed


def comparisons() -> list[Comparison]:
    """One comparison per case, with ratios to `result`; then against by hand."""
    baseline = next(library for library in LIBRARIES if library.name == "result")
    against_result = [
        Comparison(
            case.name,
            _key(case, baseline),
            tuple(
                Entry(
                    library.name,
                    _key(case, library),
                    case.target if library.name == "outcome" else None,
                )
                for library in LIBRARIES
            ),
        )
        for case in CASES
    ]
    outcome_library = LIBRARIES[0]
    against_slots = [
        Comparison(
            f"{case.name}, vs {SLOTS}",
            f"{case.name}, {SLOTS}",
            (
                Entry("outcome", _key(case, outcome_library), case.target),
                Entry(SLOTS, f"{case.name}, {SLOTS}"),
            ),
        )
        for case in BY_HAND_CASES
    ]
    collect = Comparison(
        f"collect of {COLLECTED:,}, vs a plain loop",
        f"collect, {SLOTS}",
        (
            Entry("outcome", "collect, outcome", target=1.5),
            Entry(f"plain loop, {SLOTS}", f"collect, {SLOTS}"),
        ),
    )
    return [*against_result, *against_slots, collect]


def _traced_bytes(make: Callable[[int], object], count: int) -> int:
    """Return the bytes that `count` results of `make(1)` hold, kept alive."""
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
    """Return the bytes one `Ok(1)` of `library` holds."""
    # The loop itself allocates a little (its counter); measure and remove that.
    loop_only = _traced_bytes(lambda _: None, count)
    return (_traced_bytes(library.ok, count) - loop_only) / count


def main() -> int:
    """Print a markdown table of times and ratios to `result`, then memory."""
    settings = parse_settings(__doc__, rounds=31, number=20_000, quick_number=200)
    misses = run(
        settings,
        contenders(),
        comparisons(),
        versions={
            "outcome": outcome.__version__,
            "result": version("result"),
            "returns": version("returns"),
        },
    )

    names = [library.name for library in LIBRARIES]
    memory = {library.name: _bytes_per_ok(library) for library in LIBRARIES}
    met = memory["outcome"] <= 40  # noqa: PLR2004 - the target, in bytes
    if not met:
        misses.append("bytes per Ok(1)")
    row = [
        "bytes per Ok(1)",
        *(f"{memory[name]:.0f} B" for name in names),
        f"{memory['outcome'] / memory['result']:.2f}",
        f"{memory['returns'] / memory['result']:.2f}",
        f"<= 40 B {'met' if met else 'MISSED'}",
    ]
    ratios = ["outcome / result", "returns / result"]
    print()
    print(
        markdown_table(
            ["case", *names, *ratios, "target"], [row], right={*names, *ratios}
        )
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
