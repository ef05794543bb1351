"""
Measure the Errors collection against the plain Python it replaces.

- ``add``: ``errors.add("items[3].price", code)`` against building the
  equivalent dict and appending it to a list: a dict of the fields an
  ErrorDetail holds (path, code, message, params, bucket, cause). A two-key
  dict of path and code alone is shown too. Both a new error and one already
  held (the deduplicating path) are timed. Target: at most 3x the equivalent
  dict-and-append.
- ``merge``: merging 100,000 errors into 100,000 against 10,000 into 10,000,
  half of them duplicates to drop. Target: at most 12x, i.e. linear. As a
  reference, the same keys are merged into a plain ``dict`` with ``setdefault``:
  its ratio is what this machine's caches make of a 10x larger hash table.

Rounds are interleaved and each figure is a median. Run it with
``python benchmarks/bench_errors.py``; ``--quick`` only proves the script works.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from typing import TYPE_CHECKING

from outcome import Errors

if TYPE_CHECKING:
    from collections.abc import Callable

CODES = [f"code_{n}" for n in range(1000)]


def dict_and_append() -> float:
    """Time appending 1,000 dicts of an ErrorDetail's fields to a list; seconds."""
    start = time.perf_counter()
    errors: list[dict[str, object]] = []
    for code in CODES:
        errors.append(  # noqa: PERF401 - the loop of appends is what is measured
            {
                "path": "items[3].price",
                "code": code,
                "message": None,
                "params": {},
                "bucket": "user_fixable",
                "cause": None,
            }
        )
    return time.perf_counter() - start


def two_key_dict_and_append() -> float:
    """Time appending 1,000 dicts of path and code alone to a list; seconds."""
    start = time.perf_counter()
    errors: list[dict[str, object]] = []
    for code in CODES:
        errors.append({"path": "items[3].price", "code": code})  # noqa: PERF401
    return time.perf_counter() - start


def add_new() -> float:
    """Time adding 1,000 distinct errors to a fresh collection; seconds."""
    start = time.perf_counter()
    errors = Errors()
    for code in CODES:
        errors.add("items[3].price", code)
    return time.perf_counter() - start


def add_held() -> float:
    """Time adding 1,000 errors that are all already held; seconds."""
    errors = Errors()
    for code in CODES:
        errors.add("items[3].price", code)
    start = time.perf_counter()
    for code in CODES:
        errors.add("items[3].price", code)
    return time.perf_counter() - start


def _collection(size: int, offset: int) -> Errors:
    errors = Errors()
    for n in range(size):
        errors.add(("items", n + offset, "price"), "invalid")
    return errors


def merge_timer(size: int) -> Callable[[], float]:
    """Time merging `size` errors into `size`, half of them duplicates."""
    incoming = _collection(size, size // 2)

    def run() -> float:
        target = _collection(size, 0)
        start = time.perf_counter()
        target.merge(incoming)
        elapsed = time.perf_counter() - start
        assert len(target) == size + size // 2  # noqa: S101 - the dedup happened
        return elapsed

    return run


def dict_merge_timer(size: int) -> Callable[[], float]:
    """Time dict.setdefault of `size` tuple keys into `size`, half duplicates."""

    def keys(offset: int) -> list[tuple[object, ...]]:
        return [
            (("items", n + offset, "price"), "invalid", None, frozenset())
            for n in range(size)
        ]

    incoming = [(key, key) for key in keys(size // 2)]

    def run() -> float:
        target = {key: key for key in keys(0)}
        start = time.perf_counter()
        for key, value in incoming:
            target.setdefault(key, value)
        elapsed = time.perf_counter() - start
        assert len(target) == size + size // 2  # noqa: S101 - the dedup happened
        return elapsed

    return run


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    big, small = (20_000, 2_000) if args.quick else (100_000, 10_000)

    timers: dict[str, Callable[[], float]] = {
        "dict + append": dict_and_append,
        "two-key dict + append": two_key_dict_and_append,
        "add, new error": add_new,
        "add, already held": add_held,
        f"merge {small:,} into {small:,}": merge_timer(small),
        f"merge {big:,} into {big:,}": merge_timer(big),
        f"reference: dict.setdefault {small:,} into {small:,}": dict_merge_timer(small),
        f"reference: dict.setdefault {big:,} into {big:,}": dict_merge_timer(big),
    }
    samples: dict[str, list[float]] = {name: [] for name in timers}
    names = list(timers)
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timers[name]())
    median = {name: statistics.median(values) for name, values in samples.items()}

    print(
        f"Python {platform.python_version()}; {rounds} interleaved rounds; medians.\n"
    )
    print("| case | median | ratio | target |")
    print("|---|---:|---:|---|")
    baseline = median["dict + append"]
    two_key = median["two-key dict + append"]
    print(f"| dict of the fields + append | {baseline / 1000 * 1e9:.0f} ns | 1.00 | |")
    print(
        f"| two-key dict + append | {two_key / 1000 * 1e9:.0f} ns | "
        f"{two_key / baseline:.2f} | |"
    )
    for name in ("add, new error", "add, already held"):
        ratio = median[name] / baseline
        verdict = "met" if ratio <= 3 else "MISSED"  # noqa: PLR2004 - the target
        print(
            f"| {name} | {median[name] / 1000 * 1e9:.0f} ns | {ratio:.2f} "
            f"({median[name] / two_key:.2f} to two-key) | <= 3.00 {verdict} |"
        )
    for small_name, big_name, target in [
        (names[4], names[5], True),
        (names[6], names[7], False),
    ]:
        ratio = median[big_name] / median[small_name]
        verdict = ""
        if target:
            met = ratio <= 12  # noqa: PLR2004 - the target
            verdict = f"<= 12.00 {'met' if met else 'MISSED'}"
        print(f"| {small_name} | {median[small_name] * 1e3:.1f} ms | 1.00 | |")
        print(
            f"| {big_name} | {median[big_name] * 1e3:.1f} ms | {ratio:.2f} | "
            f"{verdict} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
