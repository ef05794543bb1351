"""Hypothesis strategies shared by the test modules."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

from outcome import Bucket, Err, ErrorDetail, Errors, Ok, Result
from outcome.testing import error_details, errors_collections

T = TypeVar("T")
E = TypeVar("E")

# Values whose repr evaluates back to an equal value and that hash.
hashable_values: st.SearchStrategy[object] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.binary(max_size=10),
    lambda children: (
        st.tuples(children, children)
        | st.frozensets(children, max_size=3)
        | st.builds(Ok, children)
        | st.builds(Err, children)
    ),
    max_leaves=8,
)

# Values that need not hash: lists and dicts too.
values: st.SearchStrategy[object] = st.recursive(
    hashable_values,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def ok_or_err(
    ok_values: st.SearchStrategy[T], err_values: st.SearchStrategy[E]
) -> st.SearchStrategy[Result[T, E]]:
    """Build Ok values from `ok_values` and Err values from `err_values`."""
    return st.one_of(st.builds(Ok, ok_values), st.builds(Err, err_values))


int_results: st.SearchStrategy[Result[int, str]] = ok_or_err(
    st.integers(), st.text(max_size=5)
)

# Functions int -> int and int -> Result[int, str], named so that failing
# examples and parametrized test ids say which one was used.


def _plus_one(n: int) -> int:
    return n + 1


def _double(n: int) -> int:
    return n * 2


def _negate(n: int) -> int:
    return -n


def _third(n: int) -> int:
    return n // 3


INT_FUNCTIONS = (_plus_one, _double, _negate, _third, abs)
int_functions = st.sampled_from(INT_FUNCTIONS)


def _halve(n: int) -> Result[int, str]:
    return Ok(n // 2) if n % 2 == 0 else Err(f"{n} is odd")


def _positive(n: int) -> Result[int, str]:
    return Ok(n) if n > 0 else Err("not positive")


def _increment(n: int) -> Result[int, str]:
    return Ok(n + 1)


def _fail(n: int) -> Result[int, str]:
    return Err(f"failed on {n}")


INT_BINDERS = (_halve, _positive, _increment, _fail)


# Errors ---------------------------------------------------------------------

# Field names that the dotted form can write: no '.', '[' or ']'.
simple_names = st.text(
    st.characters(blacklist_characters=".[]", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
)
# Any field name, for tuple paths and JSON Pointers; not all digits, which a
# pointer reads back as an index.
any_names = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8
).filter(lambda name: not (name.isdecimal() and name.isascii()))
indices = st.integers(min_value=0, max_value=10_000)
simple_paths = st.lists(simple_names | indices, max_size=4).map(tuple)
any_paths = st.lists(any_names | indices, max_size=4).map(tuple)
codes = st.sampled_from(
    ["blank", "invalid", "too_long", "taken", "out_of_range", "x-custom"]
)
param_names = st.sampled_from(["maximum", "minimum", "count", "value", "sku"])
param_values = st.one_of(
    st.integers(), st.text(max_size=6), st.none(), st.lists(st.integers(), max_size=2)
)


def pooled_details(
    paths: st.SearchStrategy[tuple[str | int, ...]] = simple_paths,
    buckets: st.SearchStrategy[Bucket] | None = None,
) -> st.SearchStrategy[ErrorDetail]:
    """Build ErrorDetail values from a small pool, so duplicates do occur."""
    return st.builds(
        ErrorDetail,
        paths,
        codes,
        st.none() | st.sampled_from(["check this", "use {value} instead"]),
        params=st.dictionaries(param_names, param_values, max_size=2),
        bucket=buckets or st.sampled_from(Bucket),
    )


def pooled_errors(
    details: st.SearchStrategy[ErrorDetail] | None = None,
) -> st.SearchStrategy[Errors]:
    """Build Errors collections, duplicates included in what is added."""
    return st.lists(details or pooled_details(), max_size=6).map(Errors)


# Text that no generated error holds by chance, for what a bug must never show.
HIDDEN_TEXT = "s3cr3t-\u2603-7f3a"


class SecretFailure(Exception):
    """A cause whose text, and whose note, hold HIDDEN_TEXT."""

    def __init__(self) -> None:
        super().__init__(f"no account row for the token {HIDDEN_TEXT!r}")
        self.add_note(HIDDEN_TEXT)


def secret_bugs() -> st.SearchStrategy[ErrorDetail]:
    """Programmer errors whose code, message, params and cause all hold HIDDEN_TEXT."""
    return error_details(
        codes=st.sampled_from([HIDDEN_TEXT, f"sql_{HIDDEN_TEXT}"]),
        messages=st.sampled_from(
            [HIDDEN_TEXT, f"KeyError: {HIDDEN_TEXT} {{query}}", None]
        ),
        params=st.fixed_dictionaries(
            {"query": st.just(HIDDEN_TEXT)},
            optional={"rows": st.just([HIDDEN_TEXT, 1]), "count": st.integers()},
        ),
        buckets=st.just(Bucket.PROGRAMMER_ERROR),
        causes=st.builds(SecretFailure) | st.builds(RuntimeError, st.just(HIDDEN_TEXT)),
    )


def collections_with_bugs() -> st.SearchStrategy[Errors]:
    """Errors collections of every kind of error, with bugs that hold HIDDEN_TEXT."""
    return errors_collections(st.one_of(error_details(), secret_bugs()), min_size=1)


# The edges of the fast paths of Errors.add and the converters: names checked
# before or not, values that are their own plain copy or that only look so, and
# path segments equal to a valid one but not valid themselves.


class Name(str):
    """A str subclass: never a param name or a path segment, even when equal."""

    __slots__ = ()


class Count(int):
    """An int subclass, which renders as itself but is not a plain int."""

    __slots__ = ()


fast_path_names = st.sampled_from(
    [
        "maximum",
        "minimum",
        "count",
        "default_message",
        "a",
        "_x",
        "名前",
        "path",
        "1st",
        "a b",
    ]
) | st.text(max_size=4)
# Values at the edges of "its own plain copy": ints of one digit and beyond,
# ints too large to render, floats that are not finite, subclasses.
FAST_PATH_EDGE_VALUES: tuple[object, ...] = (
    2**30 - 1,
    2**30,
    -(2**30) + 1,
    -(2**30),
    2**12_000 - 1,
    2**12_000,
    -(2**12_000),
    float("inf"),
    float("-inf"),
    float("nan"),
    -0.0,
    True,
    None,
    "",
    Name("a"),
    Count(1),
)
fast_path_values: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(FAST_PATH_EDGE_VALUES),
    st.integers(),
    st.floats(),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.frozensets(st.integers(), max_size=2),
)
fast_path_params = st.dictionaries(fast_path_names, fast_path_values, max_size=3)
# Tuples of segments, valid or not, and some equal to valid paths.
fast_path_segments: st.SearchStrategy[object] = st.one_of(
    simple_names,
    indices,
    st.sampled_from([True, False, 1.0, 0.0, -1, 2**63, "", [1]]),
    st.builds(Name, simple_names),
    st.builds(Count, indices),
)
fast_path_tuples = st.lists(fast_path_segments, max_size=3).map(tuple)

# Templates of any shape: text, doubled and lone braces, placeholders of names
# a param may have or not, and of names no param can have.
template_pieces = st.sampled_from(
    [
        "{count}",
        "{maximum}",
        "{missing}",
        "{{",
        "}}",
        "{",
        "}",
        "{0}",
        "{a b}",
        "x",
        " ",
    ]
) | st.text(st.characters(blacklist_categories=("Cs",)), max_size=3)
templates = st.lists(template_pieces, max_size=6).map("".join)
