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

Timed by the shared harness (``_harness.py``): CPU time, the minimum of 3
repeats per round, contenders interleaved in a rotated order; each figure is a
median over the rounds, each ratio the median of the per-round ratios with its
spread. Each timer reads the clock around the measured part only, so building
the collections a merge needs is not counted; the garbage collector stays on.
A repeat of an ``add`` case is ``--number`` calls of 1,000 adds, and figures
are per add; a repeat of a merge is one merge. Run it with
``python benchmarks/bench_errors.py``; ``--quick`` only proves the script works.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from _harness import (
    Comparison,
    Contender,
    Entry,
    clock,
    finish,
    parse_settings,
    run,
    self_timed,
)

import outcome
from outcome import Errors

if TYPE_CHECKING:
    from collections.abc import Callable

CODES = [f"code_{n}" for n in range(1000)]


def dict_and_append() -> int:
    """Time appending 1,000 dicts of an ErrorDetail's fields to a list; ns."""
    start = clock()
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
    return clock() - start


def two_key_dict_and_append() -> int:
    """Time appending 1,000 dicts of path and code alone to a list; ns."""
    start = clock()
    errors: list[dict[str, object]] = []
    for code in CODES:
        errors.append({"path": "items[3].price", "code": code})  # noqa: PERF401
    return clock() - start


def add_new() -> int:
    """Time adding 1,000 distinct errors to a fresh collection; ns."""
    start = clock()
    errors = Errors()
    for code in CODES:
        errors.add("items[3].price", code)
    return clock() - start


def add_held() -> int:
    """Time adding 1,000 errors that are all already held; ns."""
    errors = Errors()
    for code in CODES:
        errors.add("items[3].price", code)
    start = clock()
    for code in CODES:
        errors.add("items[3].price", code)
    return clock() - start


def _collection(size: int, offset: int) -> Errors:
    """Hold `size` distinct errors, at item indexes from `offset` on."""
    errors = Errors()
    for n in range(size):
        errors.add(("items", n + offset, "price"), "invalid")
    return errors


def merge_timer(size: int) -> Callable[[], int]:
    """Time merging `size` errors into `size`, half of them duplicates."""
    incoming = _collection(size, size // 2)

    def merge() -> int:
        """Merge into a fresh collection; return the ns the merge took."""
        target = _collection(size, 0)
        start = clock()
        target.merge(incoming)
        elapsed = clock() - start
        assert len(target) == size + size // 2  # noqa: S101 - the dedup happened
        return elapsed

    return merge


def dict_merge_timer(size: int) -> Callable[[], int]:
    """Time dict.setdefault of `size` tuple keys into `size`, half duplicates."""

    def keys(offset: int) -> list[tuple[object, ...]]:
        """Make `size` keys shaped like an ErrorDetail's, from `offset` on."""
        return [
            (("items", n + offset, "price"), "invalid", None, frozenset())
            for n in range(size)
        ]

    incoming = [(key, key) for key in keys(size // 2)]

    def merge() -> int:
        """Set the keys into a fresh dict; return the ns that took."""
        target = {key: key for key in keys(0)}
        start = clock()
        for key, value in incoming:
            target.setdefault(key, value)
        elapsed = clock() - start
        assert len(target) == size + size // 2  # noqa: S101 - the dedup happened
        return elapsed

    return merge


def main() -> int:
    """Print the table."""
    settings = parse_settings(__doc__, rounds=31, number=20, quick_number=2)
    big, small = (20_000, 2_000) if settings.quick else (100_000, 10_000)

    merges = f"merge {small:,} into {small:,}", f"merge {big:,} into {big:,}"
    references = (
        f"reference: dict.setdefault {small:,} into {small:,}",
        f"reference: dict.setdefault {big:,} into {big:,}",
    )
    contenders = [
        Contender("dict + append", self_timed(dict_and_append), len(CODES)),
        Contender(
            "two-key dict + append", self_timed(two_key_dict_and_append), len(CODES)
        ),
        Contender("add, new error", self_timed(add_new), len(CODES)),
        Contender("add, already held", self_timed(add_held), len(CODES)),
        Contender(merges[0], self_timed(merge_timer(small)), number=1),
        Contender(merges[1], self_timed(merge_timer(big)), number=1),
        Contender(references[0], self_timed(dict_merge_timer(small)), number=1),
        Contender(references[1], self_timed(dict_merge_timer(big)), number=1),
    ]
    adds = (
        Entry("add, new error", "add, new error", target=3.0),
        Entry("add, already held", "add, already held", target=3.0),
    )
    two_key = Entry("two-key dict + append", "two-key dict + append")
    comparisons = [
        Comparison(
            "add",
            "dict + append",
            (Entry("dict of the fields + append", "dict + append"), two_key, *adds),
        ),
        Comparison(
            "add, to the two-key dict",
            "two-key dict + append",
            (two_key, *(Entry(e.label, e.contender) for e in adds)),
        ),
        Comparison(
            "merge, half duplicates",
            merges[0],
            (Entry(merges[0], merges[0]), Entry(merges[1], merges[1], target=12.0)),
        ),
        Comparison(
            "reference: merge into a dict",
            references[0],
            tuple(Entry(name.removeprefix("reference: "), name) for name in references),
        ),
    ]
    misses = run(
        settings, contenders, comparisons, versions={"outcome": outcome.__version__}
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
