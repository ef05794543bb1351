"""
Measure the Errors collection against the plain Python it replaces.

- ``add``: ``errors.add("items[3].price", code)`` against building the
  equivalent dict and appending it to a list: a dict of the fields an
  ErrorDetail holds (path, code, message, params, bucket, cause). A two-key
  dict of path and code alone is shown too. Both a new error and one already
  held (the deduplicating path) are timed. Target: at most 3x the equivalent
  dict-and-append.
- ``add, one param``: ``errors.add("items[3].price", code, maximum=40)``
  against the same dict with ``{"maximum": 40}`` as its params. Target: at
  most 3x.
- ``add, tuple path``: ``errors.add(("items", 3, "price"), code)`` against the
  same error added with its dotted path. Target: at most 1x, as a tuple is the
  form the path is kept in. A tuple made afresh for each add, as a loop over
  items makes it, is shown too, without a target.
- ``from_pydantic``: converting a real pydantic ``ValidationError`` of eight
  errors (missing fields, lengths, bounds, a type, a validator's
  ``ValueError``, in nested list items too) against pydantic's own
  ``exc.errors()``. Target: at most 2x.
- ``to_problem_details``: rendering 1,000 errors (four codes, with and
  without params, at paths three deep) against a hand render: a loop that
  builds the same entries, each message by ``str.format_map`` of its
  template, each pointer by joining the path. Target: at most 1.5x.
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
are per add; a repeat of ``to_problem_details`` is ``--number`` renders of the
1,000 errors, and figures are per error; a repeat of ``from_pydantic`` is 100
times ``--number`` conversions; a repeat of a merge is one merge. Run it with
``python benchmarks/bench_errors.py``; ``--quick`` only proves the script
works.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import TYPE_CHECKING

import pydantic
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
from outcome import DEFAULT_MESSAGES, ErrorDetail, Errors

if TYPE_CHECKING:
    from collections.abc import Callable

CODES = [f"code_{n}" for n in range(1000)]
INDICES = range(1000)


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


def dict_with_param_and_append() -> int:
    """Time appending 1,000 such dicts, each with one param, to a list; ns."""
    start = clock()
    errors: list[dict[str, object]] = []
    for code in CODES:
        errors.append(  # noqa: PERF401 - the loop of appends is what is measured
            {
                "path": "items[3].price",
                "code": code,
                "message": None,
                "params": {"maximum": 40},
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


def add_with_param() -> int:
    """Time adding 1,000 distinct errors with one param each; ns."""
    start = clock()
    errors = Errors()
    for code in CODES:
        errors.add("items[3].price", code, maximum=40)
    return clock() - start


def add_tuple_path() -> int:
    """Time adding 1,000 distinct errors at a tuple path written in the code; ns."""
    start = clock()
    errors = Errors()
    for code in CODES:
        errors.add(("items", 3, "price"), code)
    return clock() - start


def add_tuple_made_per_add() -> int:
    """Time adding 1,000 distinct errors at tuple paths made for each add; ns."""
    start = clock()
    errors = Errors()
    for index in INDICES:
        errors.add(("items", index, "price"), "invalid")
    return clock() - start


def add_str_made_per_add() -> int:
    """Time adding 1,000 distinct errors at dotted paths made for each add; ns."""
    start = clock()
    errors = Errors()
    for index in INDICES:
        errors.add(f"items[{index}].price", "invalid")
    return clock() - start


# from_pydantic ---------------------------------------------------------------


class Item(pydantic.BaseModel):
    """One line of an order."""

    sku: str = pydantic.Field(min_length=3)
    quantity: int = pydantic.Field(gt=0)


class Order(pydantic.BaseModel):
    """An order as a checkout form sends it."""

    email: str
    name: str = pydantic.Field(max_length=20)
    age: int = pydantic.Field(ge=18)
    coupon: str
    items: list[Item]

    @pydantic.field_validator("coupon")
    @classmethod
    def known_coupon(cls, coupon: str) -> str:
        """Accept only the coupons on offer."""
        if coupon != "WELCOME":
            msg = "this coupon has expired"
            raise ValueError(msg)
        return coupon


def rejected_order() -> pydantic.ValidationError:
    """The ValidationError of an order with eight mistakes."""
    try:
        Order.model_validate(
            {
                "name": "x" * 30,
                "age": 12,
                "coupon": "SPRING",
                "items": [{"sku": "a", "quantity": 0}, {"sku": 5}],
            }
        )
    except pydantic.ValidationError as exc:
        return exc
    msg = "the order was expected to be rejected"
    raise AssertionError(msg)


REJECTED = rejected_order()
CONVERSIONS = 100


def pydantic_errors() -> int:
    """Time pydantic's own errors() of the rejected order; ns."""
    errors = REJECTED.errors
    start = clock()
    for _ in range(CONVERSIONS):
        errors()
    return clock() - start


def from_pydantic() -> int:
    """Time converting the rejected order's ValidationError; ns."""
    convert = Errors.from_pydantic
    start = clock()
    for _ in range(CONVERSIONS):
        convert(REJECTED)
    return clock() - start


# to_problem_details ------------------------------------------------------------


def raw_errors() -> list[tuple[tuple[str | int, ...], str, dict[str, object]]]:
    """(path, code, params) of 1,000 errors, as the hand render holds them."""
    fields: list[tuple[str, str, dict[str, object]]] = [
        ("sku", "blank", {}),
        ("quantity", "greater_than", {"count": 0}),
        ("name", "too_long", {"maximum": 40}),
        ("price", "not_a_number", {}),
    ]
    return [
        (("items", index, field), code, params)
        for index in range(250)
        for field, code, params in fields
    ]


RAW_ERRORS = raw_errors()
COLLECTION = Errors(
    ErrorDetail(path, code, params=params) for path, code, params in RAW_ERRORS
)
TEMPLATES = {code: DEFAULT_MESSAGES[code] for _, code, _ in RAW_ERRORS}


def hand_render() -> int:
    """Time building the problem details of the 1,000 errors by hand; ns."""
    start = clock()
    entries = [
        {
            "detail": TEMPLATES[code].format_map(params),
            "pointer": "#/" + "/".join(map(str, path)),
            "code": code,
        }
        for path, code, params in RAW_ERRORS
    ]
    problem = {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "errors": entries,
    }
    elapsed = clock() - start
    assert problem == COLLECTION.to_problem_details()  # noqa: S101 - the same output
    return elapsed


def to_problem_details() -> int:
    """Time Errors.to_problem_details of the 1,000 errors; ns."""
    start = clock()
    COLLECTION.to_problem_details()
    return clock() - start


# merge -------------------------------------------------------------------------


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
    adds = len(CODES)
    contenders = [
        Contender("dict + append", self_timed(dict_and_append), adds),
        Contender(
            "dict with params + append", self_timed(dict_with_param_and_append), adds
        ),
        Contender("two-key dict + append", self_timed(two_key_dict_and_append), adds),
        Contender("add, new error", self_timed(add_new), adds),
        Contender("add, already held", self_timed(add_held), adds),
        Contender("add, one param", self_timed(add_with_param), adds),
        Contender("add, tuple path", self_timed(add_tuple_path), adds),
        Contender("add, tuple made per add", self_timed(add_tuple_made_per_add), adds),
        Contender("add, str made per add", self_timed(add_str_made_per_add), adds),
        Contender("pydantic errors()", self_timed(pydantic_errors), CONVERSIONS),
        Contender("from_pydantic", self_timed(from_pydantic), CONVERSIONS),
        Contender("hand render", self_timed(hand_render), len(RAW_ERRORS)),
        Contender(
            "to_problem_details", self_timed(to_problem_details), len(RAW_ERRORS)
        ),
        Contender(merges[0], self_timed(merge_timer(small)), number=1),
        Contender(merges[1], self_timed(merge_timer(big)), number=1),
        Contender(references[0], self_timed(dict_merge_timer(small)), number=1),
        Contender(references[1], self_timed(dict_merge_timer(big)), number=1),
    ]
    new_and_held = (
        Entry("add, new error", "add, new error", target=3.0),
        Entry("add, already held", "add, already held", target=3.0),
    )
    two_key = Entry("two-key dict + append", "two-key dict + append")
    comparisons = [
        Comparison(
            "add",
            "dict + append",
            (
                Entry("dict of the fields + append", "dict + append"),
                two_key,
                *new_and_held,
            ),
        ),
        Comparison(
            "add, to the two-key dict",
            "two-key dict + append",
            (two_key, *(Entry(e.label, e.contender) for e in new_and_held)),
        ),
        Comparison(
            "add, one param",
            "dict with params + append",
            (
                Entry("dict with a params dict + append", "dict with params + append"),
                Entry("add, one param", "add, one param", target=3.0),
            ),
        ),
        Comparison(
            "add, tuple path",
            "add, new error",
            (
                Entry("add, str path", "add, new error"),
                Entry("add, tuple path", "add, tuple path", target=1.0),
                Entry("add, tuple made per add", "add, tuple made per add"),
                Entry("add, str made per add", "add, str made per add"),
            ),
        ),
        Comparison(
            "from_pydantic, 8 errors",
            "pydantic errors()",
            (
                Entry("pydantic's exc.errors()", "pydantic errors()"),
                Entry("Errors.from_pydantic(exc)", "from_pydantic", target=2.0),
            ),
        ),
        Comparison(
            "to_problem_details, 1,000 errors",
            "hand render",
            (
                Entry("hand render", "hand render"),
                Entry("to_problem_details()", "to_problem_details", target=1.5),
            ),
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
        settings,
        contenders,
        comparisons,
        versions={"outcome": outcome.__version__, "pydantic": version("pydantic")},
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
