"""Hypothesis strategies shared by the test modules."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

from outcome import Err, Ok, Result

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


def results(
    oks: st.SearchStrategy[T], errs: st.SearchStrategy[E]
) -> st.SearchStrategy[Result[T, E]]:
    """Build Ok values from `oks` and Err values from `errs`."""
    return st.one_of(st.builds(Ok, oks), st.builds(Err, errs))


int_results: st.SearchStrategy[Result[int, str]] = results(
    st.integers(), st.text(max_size=5)
)

# Functions int -> int and int -> Result[int, str], as data so failures print well.
int_functions = st.sampled_from(
    [lambda n: n + 1, lambda n: n * 2, lambda n: -n, lambda n: n // 3, abs]
)


def _halve(n: int) -> Result[int, str]:
    return Ok(n // 2) if n % 2 == 0 else Err(f"{n} is odd")


def _positive(n: int) -> Result[int, str]:
    return Ok(n) if n > 0 else Err("not positive")


def _increment(n: int) -> Result[int, str]:
    return Ok(n + 1)


def _fail(n: int) -> Result[int, str]:
    return Err(f"failed on {n}")


int_binders = st.sampled_from([_halve, _positive, _increment, _fail])
