"""
Type-level tests of outcome.testing, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

from typing import assert_type

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from outcome import Bucket, Err, ErrorDetail, Errors, Ok, Result
from outcome.testing import (
    check_functor_laws,
    check_merge_laws,
    check_monad_laws,
    error_details,
    errors_collections,
    errs,
    oks,
    results,
)


def parse_quantity(text: str) -> Result[int, str]:
    return Ok(int(text)) if text.isdecimal() else Err("not a number")


def at_most_ten(quantity: int) -> Result[int, str]:
    return Ok(quantity) if quantity <= 10 else Err("too many")


def combine(first: Errors, second: Errors) -> Errors:
    return first.merge(second)


def result_strategies() -> None:
    assert_type(oks(st.integers()), SearchStrategy[Ok[int]])
    assert_type(errs(st.text()), SearchStrategy[Err[str]])
    assert_type(results(st.integers(), st.text()), SearchStrategy[Result[int, str]])
    assert_type(results(st.integers(), st.text()), SearchStrategy[Ok[int] | Err[str]])
    assert_type(
        results(st.booleans(), st.from_type(Errors)),
        SearchStrategy[Result[bool, Errors]],
    )


def a_result_strategy_is_a_strategy_of_a_wider_result() -> None:
    # SearchStrategy and Result are both covariant.
    _wide: SearchStrategy[Result[object, Exception]] = results(
        st.integers(), st.builds(ValueError)
    )


def error_strategies() -> None:
    assert_type(error_details(), SearchStrategy[ErrorDetail])
    assert_type(
        error_details(
            paths=st.tuples(st.just("items"), st.integers(min_value=0)),
            codes=st.sampled_from(["blank", "taken"]),
            messages=st.none(),
            params=st.fixed_dictionaries({"maximum": st.integers()}),
            buckets=st.just(Bucket.USER_VISIBLE),
            causes=st.builds(TimeoutError),
        ),
        SearchStrategy[ErrorDetail],
    )
    assert_type(
        error_details(paths=st.just("items[0].price")), SearchStrategy[ErrorDetail]
    )
    assert_type(errors_collections(), SearchStrategy[Errors])
    assert_type(
        errors_collections(error_details(), min_size=1, max_size=None),
        SearchStrategy[Errors],
    )


def law_checks() -> None:
    few = settings(max_examples=10)
    ints = results(st.integers(), st.text())
    assert_type(check_functor_laws(ints, lambda n: n + 1, str), None)
    assert_type(check_functor_laws(ints, str, len, settings=few), None)
    assert_type(
        check_monad_laws(
            st.text(), results(st.text(), st.text()), parse_quantity, at_most_ten
        ),
        None,
    )
    assert_type(check_merge_laws(), None)
    assert_type(check_merge_laws(errors_collections(), merge=combine), None)
    assert_type(check_merge_laws(merge=Errors.merge, settings=few), None)


def negative_cases() -> None:
    ints = results(st.integers(), st.text())
    # Not a strategy.
    oks(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A wrong type for a field.
    error_details(codes=st.integers())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    error_details(buckets=st.just("user_fixable"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    errors_collections(st.text())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Field strategies are keyword-only.
    error_details(st.just(()))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # f must take what the results hold, g what f returns.
    check_functor_laws(ints, str.upper, str)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    check_monad_laws(st.integers(), ints, parse_quantity, at_most_ten)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # The steps of the monad laws must return Results.
    check_monad_laws(st.integers(), ints, lambda n: n, at_most_ten)  # type: ignore[arg-type, return-value]  # pyright: ignore[reportArgumentType]
    # merge combines two collections into one.
    check_merge_laws(merge=lambda a, b: None)  # type: ignore[arg-type, return-value]  # pyright: ignore[reportArgumentType]
