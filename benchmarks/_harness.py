"""
The timing loop, statistics, table and command line every benchmark shares.

On a shared machine a wall-clock median of single runs lets a neighbour's burst
flip a verdict, so every figure here is taken the same way:

- Time is the CPU time of this process (``time.process_time_ns``): a
  neighbour can delay the process but cannot add to it.
- In each round every contender is timed ``--repeats`` times (3 by default) and
  keeps its minimum, the repeat least disturbed by interrupts and cold caches.
- Contenders are interleaved within each round, in an order rotated from one
  round to the next, so a slow stretch of the machine falls on all of them.
- A ratio is taken within each round, contender over baseline, and the table
  gives the median of those per-round ratios with their interquartile range and
  min..max, so a reader can see whether a verdict is inside the noise.

A script declares its contenders (what to time) and its comparisons (what to
print against what), then calls `parse_settings`, `run` and `finish`.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import timeit
from dataclasses import dataclass
from time import process_time_ns
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

clock = process_time_ns
"""The clock every benchmark reads: CPU time of this process, in nanoseconds."""

CLOCK_NAME = "time.process_time_ns"
DEFAULT_ROUNDS = 15
DEFAULT_REPEATS = 3
QUICK_ROUNDS = 3
QUICK_REPEATS = 2
WHOLE_NANOSECONDS = 100  # from here on a tenth of a nanosecond is noise


@dataclass(frozen=True)
class Settings:
    """How many rounds, repeats and calls a run makes."""

    rounds: int
    repeats: int
    number: int  # calls per repeat, unless a contender fixes its own
    quick: bool


@dataclass(frozen=True)
class Contender:
    """One thing timed in every round.

    Attributes:
        name: Unique within the script; comparisons refer to it.
        time: Makes ``number`` calls and returns the CPU nanoseconds they took.
        operations: How many operations one call does, to report per operation.
        number: Calls per repeat when this contender needs its own count
            (one long call, say); ``None`` takes the run's ``--number``.
        overhead: The name of a contender whose time per operation in the same
            round is subtracted from this one's, such as an empty loop.
    """

    name: str
    time: Callable[[int], int]
    operations: int = 1
    number: int | None = None
    overhead: str | None = None


@dataclass(frozen=True)
class Entry:
    """One line of a comparison: a contender, its label and its target ratio."""

    label: str
    contender: str
    target: float | None = None  # the largest accepted ratio to the baseline


@dataclass(frozen=True)
class Comparison:
    """A case: contenders shown together, with ratios to one of them."""

    case: str
    baseline: str  # the name of the contender the ratios are to
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Spread:
    """The median, quartiles and extremes of per-round values."""

    median: float
    low_quartile: float
    high_quartile: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """Summarise `values`, which must not be empty."""
        ordered = sorted(values)
        if len(ordered) > 1:
            low, _, high = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            low = high = ordered[0]
        return cls(statistics.median(ordered), low, high, ordered[0], ordered[-1])


# Timers --------------------------------------------------------------------------


def calls(function: Callable[[], object]) -> Callable[[int], int]:
    """Time calls of `function`; as in `timeit`, the garbage collector is off."""
    timer = timeit.Timer(function, timer=clock)
    return lambda number: int(timer.timeit(number))


def statement(source: str, namespace: dict[str, Any]) -> Callable[[int], int]:
    """Time executions of the statement `source` with `namespace` as globals."""
    timer = timeit.Timer(source, globals=namespace, timer=clock)
    return lambda number: int(timer.timeit(number))


def self_timed(function: Callable[[], int]) -> Callable[[int], int]:
    """Time a function that reads `clock` around its own measured part.

    For work that needs untimed set-up on every call. `function` returns the
    nanoseconds of its measured part; the garbage collector stays on.
    """
    return lambda number: sum(function() for _ in range(number))


# Measuring -----------------------------------------------------------------------


def parse_settings(
    doc: str | None,
    *,
    number: int,
    quick_number: int,
    rounds: int = DEFAULT_ROUNDS,
) -> Settings:
    """Read the command line; the first paragraph of `doc` describes the script.

    Args:
        doc: The script's module docstring.
        number: The default calls per repeat.
        quick_number: The calls per repeat with ``--quick``.
        rounds: The default number of rounds.

    Returns:
        The settings of this run.
    """
    description = (doc or "").strip().split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--rounds", type=_positive, default=rounds, help=f"default {rounds}"
    )
    parser.add_argument(
        "--repeats",
        type=_positive,
        default=DEFAULT_REPEATS,
        help=f"repeats per round, of which the minimum counts; "
        f"default {DEFAULT_REPEATS}",
    )
    parser.add_argument(
        "--number",
        type=_positive,
        default=number,
        help=f"calls per repeat; default {number:,}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few short rounds, only to prove the script runs",
    )
    args = parser.parse_args()
    if args.quick:
        return Settings(QUICK_ROUNDS, QUICK_REPEATS, quick_number, quick=True)
    return Settings(args.rounds, args.repeats, args.number, quick=False)


def _positive(text: str) -> int:
    """Parse a command-line count of 1 or more."""
    value = int(text)
    if value < 1:
        msg = f"must be 1 or more, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def measure(
    contenders: Sequence[Contender], settings: Settings
) -> dict[str, list[float]]:
    """Return each contender's nanoseconds per operation in each round.

    Each round times every contender in turn, starting one further along the
    list than the round before; each figure is the minimum of the repeats, with
    the contender's overhead from the same round subtracted.
    """
    names = {contender.name for contender in contenders}
    for contender in contenders:
        if contender.overhead is not None and contender.overhead not in names:
            msg = (
                f"{contender.name!r} subtracts the overhead {contender.overhead!r}, "
                "which is not a contender; add it to the contenders"
            )
            raise ValueError(msg)
    gross: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    order = list(contenders)
    for round_index in range(settings.rounds):
        shift = round_index % len(order)
        for contender in order[shift:] + order[:shift]:
            number = contender.number or settings.number
            best = min(contender.time(number) for _ in range(settings.repeats))
            gross[contender.name].append(best / (number * contender.operations))
    return {
        contender.name: (
            gross[contender.name]
            if contender.overhead is None
            else [
                total - overhead
                for total, overhead in zip(
                    gross[contender.name], gross[contender.overhead], strict=True
                )
            ]
        )
        for contender in contenders
    }


# Reporting -----------------------------------------------------------------------


def markdown_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[str] = (),
) -> str:
    """Render a markdown table; the columns titled in `right` align right."""
    rule = ["---:" if title in right else "---" for title in header]
    lines = [header, rule, *rows]
    return "\n".join(f"| {' | '.join(cells)} |" for cells in lines)


def run(
    settings: Settings,
    contenders: Sequence[Contender],
    comparisons: Sequence[Comparison],
    *,
    versions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> list[str]:
    """Measure the contenders and print the header, `notes` and the table.

    Args:
        settings: From `parse_settings`.
        contenders: Everything to time, in the order of the first round.
        comparisons: The cases to print, each against its baseline.
        versions: Library name to version, for the header.
        notes: Lines printed between the header and the table.

    Returns:
        The labels of the entries whose target the median ratio missed.
    """
    for comparison in comparisons:
        if comparison.baseline not in {e.contender for e in comparison.entries}:
            msg = (
                f"{comparison.case!r}: the baseline {comparison.baseline!r} is not "
                "one of its entries; add an Entry for it so the table shows it"
            )
            raise ValueError(msg)
    samples = measure(contenders, settings)
    print(_header(settings, contenders, versions or {}))
    for note in notes:
        print(f"\n{note}")
    rows: list[list[str]] = []
    misses: list[str] = []
    close = False
    for comparison in comparisons:
        for index, entry in enumerate(comparison.entries):
            line = _line(entry, comparison.baseline, samples)
            rows.append([comparison.case if index == 0 else "", *line.cells])
            if line.missed:
                misses.append(f"{comparison.case}: {entry.label}")
            close = close or line.close
    header = ["case", "contender", "ns", "ratio", "IQR", "min..max", "target"]
    print()
    print(markdown_table(header, rows, right={"ns", "ratio", "IQR", "min..max"}))
    if close:
        print(
            "\n(close): the target lies within the interquartile range of the "
            "per-round ratios, so another run may give the other verdict."
        )
    return misses


@dataclass(frozen=True)
class _Line:
    """The cells of one entry after the case, and what its verdict was."""

    cells: list[str]
    missed: bool = False
    close: bool = False


def _line(entry: Entry, baseline: str, samples: Mapping[str, list[float]]) -> _Line:
    """Summarise `entry`'s rounds against the `baseline` contender's."""
    ns = _nanoseconds(statistics.median(samples[entry.contender]))
    if entry.contender == baseline:
        return _Line([entry.label, ns, "baseline", "", "", ""])
    if min(samples[baseline]) <= 0:
        return _Line([entry.label, ns, "n/a", "", "", "baseline <= 0 ns"])
    ratio = Spread.of(
        [
            subject / base
            for subject, base in zip(
                samples[entry.contender], samples[baseline], strict=True
            )
        ]
    )
    cells = [
        entry.label,
        ns,
        f"{ratio.median:.2f}",
        f"{ratio.low_quartile:.2f}..{ratio.high_quartile:.2f}",
        f"{ratio.minimum:.2f}..{ratio.maximum:.2f}",
    ]
    if entry.target is None:
        return _Line([*cells, ""])
    met = ratio.median <= entry.target
    close = ratio.low_quartile <= entry.target <= ratio.high_quartile
    verdict = f"<= {entry.target:.2f} {'met' if met else 'MISSED'}"
    return _Line(
        [*cells, verdict + (" (close)" if close else "")], missed=not met, close=close
    )


def _nanoseconds(value: float) -> str:
    """Format a time in nanoseconds, with a decimal only where it means something."""
    return f"{value:,.0f}" if abs(value) >= WHOLE_NANOSECONDS else f"{value:.1f}"


def _header(
    settings: Settings, contenders: Sequence[Contender], versions: Mapping[str, str]
) -> str:
    """Say what ran and how it was timed, then what the columns mean."""
    libraries = "".join(f", {name} {version}" for name, version in versions.items())
    own: dict[int, list[str]] = {}
    for contender in contenders:
        if contender.number not in {None, settings.number}:
            own.setdefault(contender.number or 0, []).append(contender.name)
    exceptions = "".join(
        f" ({number:,} for {', '.join(names)})" for number, names in own.items()
    )
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()})"
        f"{libraries}; {settings.rounds} rounds, contenders interleaved in an "
        f"order rotated each round; per round the minimum of {settings.repeats} "
        f"repeats of {settings.number:,} calls{exceptions}; CPU time "
        f"({CLOCK_NAME}).\n\nns: the median over the rounds of the time per "
        "operation. ratio: the median over the rounds of the ratio to the "
        "baseline in the same round; IQR and min..max: the spread of those "
        "per-round ratios."
    )


def finish(misses: Sequence[str], settings: Settings) -> int:
    """List the missed targets of a full run; return the exit status."""
    if misses and not settings.quick:
        print(f"\nTargets missed in this run: {', '.join(misses)}")
    return 0
