"""
Hypothesis strategies and law checks for testing code that returns Results.

Strategies generate `Ok`, `Err` and `Result` values around strategies of your
own, and valid, varied `ErrorDetail` and `Errors` values. The law checks run
Hypothesis on your functions and report the smallest counterexample when a law
of `map`, `and_then` or `Errors.merge` does not hold.

This module needs Hypothesis; ``import outcome`` never imports it. Installing
outcome also registers these strategies with Hypothesis, so
``st.from_type(Result[int, str])`` works without importing this module.

>>> from hypothesis import find, strategies as st
>>> from outcome.testing import results
>>> find(results(st.integers(), st.text()), lambda result: result.is_err())
Err('')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError as _missing:  # private, so not part of the module's interface
    raise ImportError(
        "outcome.testing needs Hypothesis, which is not installed; install it "
        'with `python -m pip install "outcome-kit[hypothesis]"`',
        name="hypothesis",
    ) from _missing

from outcome._bucket import Bucket
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._errors.messages import DEFAULT_MESSAGES
from outcome._hypothesis import _hypothesis_setup_hook
from outcome._result import Err, Ok, Result

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from outcome._errors.paths import PathInput

__all__ = [
    "check_functor_laws",
    "check_merge_laws",
    "check_monad_laws",
    "error_details",
    "errors_collections",
    "errs",
    "oks",
    "results",
]

T = TypeVar("T")
E = TypeVar("E")
U = TypeVar("U")


# Results ---------------------------------------------------------------------


def oks(values: st.SearchStrategy[T]) -> st.SearchStrategy[Ok[T]]:
    """
    Generate `Ok` values holding what `values` generates.

    >>> from hypothesis import given, settings, strategies as st
    >>> from outcome.testing import oks
    >>> @settings(max_examples=20)
    ... @given(oks(st.integers()))
    ... def test_map_keeps_an_ok(result):
    ...     assert result.map(lambda n: n * 2).is_ok()
    >>> test_map_keeps_an_ok()

    .. versionadded:: 0.1.0
    """
    return values.map(Ok)


def errs(errors: st.SearchStrategy[E]) -> st.SearchStrategy[Err[E]]:
    """
    Generate `Err` values holding what `errors` generates.

    >>> from hypothesis import find, strategies as st
    >>> from outcome.testing import errs
    >>> find(errs(st.text()), lambda result: len(result.err_value) > 2)
    Err('000')

    .. versionadded:: 0.1.0
    """
    return errors.map(Err)


def results(
    values: st.SearchStrategy[T], errors: st.SearchStrategy[E]
) -> st.SearchStrategy[Result[T, E]]:
    """
    Generate `Ok` values from `values` and `Err` values from `errors`.

    Both variants are generated; examples shrink towards `Ok`.

    >>> from hypothesis import given, settings, strategies as st
    >>> from outcome.testing import results
    >>> @settings(max_examples=20)
    ... @given(results(st.integers(), st.text()))
    ... def test_unwrap_or_gives_an_int(result):
    ...     assert isinstance(result.unwrap_or(0), int)
    >>> test_unwrap_or_gives_an_int()

    .. versionadded:: 0.1.0
    """
    return st.one_of(oks(values), errs(errors))


# Errors ----------------------------------------------------------------------

# A small pool of names, codes and params, so that generated details often
# repeat: merging collections must then drop the duplicates.
_FIELD_NAMES = ("email", "name", "items", "price", "quantity", "card", "expiry_month")
# Awkward names: the dotted form must quote some, JSON Pointers escape others.
_AWKWARD_NAMES = ("net.eur", "a[0]", 'say "hi"', "unit/price", "m~n", "naïve café")
_CUSTOM_CODES = ("price_changed", "declined", "sold-out", "bug")
_PARAMS = {
    "count": st.integers(),
    "maximum": st.integers(min_value=0),
    "minimum": st.integers(min_value=0),
    "length": st.integers(min_value=0),
    "sku": st.text(max_size=8),
    "value": st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.lists(st.integers(), max_size=3),
}
_MESSAGES = (
    "must be a valid email address",
    "use {value} instead",
    "Prices in your cart have changed; check them and pay again.",
)
# Text that survives JSON encoding as UTF-8: no lone surrogates.
_TEXT = st.characters(codec="utf-8")


def _default_paths() -> st.SearchStrategy[PathInput]:
    names = st.sampled_from(_FIELD_NAMES + _AWKWARD_NAMES) | st.text(
        _TEXT, min_size=1, max_size=8
    )
    # Small indices repeat often; any other is still a valid list index.
    indices = st.integers(min_value=0, max_value=3) | st.integers(0, 2**63 - 1)
    return st.lists(names | indices, max_size=4).map(tuple)


def _default_params() -> st.SearchStrategy[Mapping[str, object]]:
    return st.fixed_dictionaries({}, optional=_PARAMS)


def error_details(  # noqa: PLR0913 - one strategy per field
    *,
    paths: st.SearchStrategy[PathInput] | None = None,
    codes: st.SearchStrategy[str] | None = None,
    messages: st.SearchStrategy[str | None] | None = None,
    params: st.SearchStrategy[Mapping[str, object]] | None = None,
    buckets: st.SearchStrategy[Bucket] | None = None,
    causes: st.SearchStrategy[BaseException | None] | None = None,
) -> st.SearchStrategy[ErrorDetail]:
    """
    Generate valid `ErrorDetail` values, each field from its own strategy.

    Every field has a default that generates valid, varied values, drawn
    from a small pool so that equal details turn up often:

    - `paths`: the base, and tuples of up to four field names and list
      indices. Names include ones the dotted form must quote (``"net.eur"``,
      ``'say "hi"'``), ones JSON Pointers must escape (``"unit/price"``), and
      arbitrary text.
    - `codes`: every code of `DEFAULT_MESSAGES`, a few custom ones
      (``"price_changed"``, ``"sold-out"``), and arbitrary text.
    - `messages`: `None` (the message comes from the code) or an override,
      some with a ``{value}`` placeholder.
    - `params`: any of ``count``, ``maximum``, ``minimum``, ``length``,
      ``sku`` and ``value``, which fill the default templates. Values are
      numbers, text, `None`, booleans and lists of integers, never NaN, so
      that every detail equals its own copy.
    - `buckets`: every `Bucket`.
    - `causes`: `None`, a `ValueError` or a `TimeoutError`.

    >>> from hypothesis import find, strategies as st
    >>> from outcome.testing import error_details
    >>> find(error_details(paths=st.just("items[0].price")), lambda detail: True)
    ErrorDetail(path=('items', 0, 'price'), code='accepted')
    >>> bugs = error_details(buckets=st.just(Bucket.PROGRAMMER_ERROR))
    >>> find(bugs, lambda detail: True).bucket
    <Bucket.PROGRAMMER_ERROR: 'programmer_error'>

    Args:
        paths: Paths, as anything `ErrorDetail` accepts: tuples, dotted
            strings, `None`.
        codes: Error codes; they must not be empty.
        messages: Message overrides, or `None` for the code's template.
        params: Params; names must be identifiers and not a field's name.
        buckets: Who must act on each error.
        causes: The exceptions behind the errors, or `None`.

    Returns:
        A strategy of `ErrorDetail`.

    .. versionadded:: 0.1.0
    """
    if paths is None:
        paths = _default_paths()
    if codes is None:
        codes = st.sampled_from(sorted(DEFAULT_MESSAGES) + list(_CUSTOM_CODES)) | (
            st.text(_TEXT, min_size=1, max_size=12)
        )
    if messages is None:
        messages = st.none() | st.sampled_from(_MESSAGES)
    if params is None:
        params = _default_params()
    if buckets is None:
        buckets = st.sampled_from(Bucket)
    if causes is None:
        causes = st.one_of(
            st.none(),
            st.builds(ValueError, st.text(_TEXT, max_size=10)),
            st.builds(TimeoutError, st.just("the gateway did not answer")),
        )
    return st.builds(
        ErrorDetail,
        paths,
        codes,
        messages,
        params=params,
        bucket=buckets,
        cause=causes,
    )


def errors_collections(
    details: st.SearchStrategy[ErrorDetail] | None = None,
    *,
    min_size: int = 0,
    max_size: int | None = 8,
) -> st.SearchStrategy[Errors]:
    """
    Generate `Errors` collections of `min_size` to `max_size` errors.

    The errors come from `details`, by default `error_details`. Its small pool
    makes separate collections often hold equal errors, which is what merging
    must deduplicate; within one collection they are distinct, so that its
    length is always within the bounds.

    >>> from hypothesis import given, settings
    >>> from outcome.testing import errors_collections
    >>> @settings(max_examples=20)
    ... @given(errors_collections(min_size=1))
    ... def test_failed_validation_has_a_status(errors):
    ...     assert errors.to_problem_details()["status"] in {422, 500, 503}
    >>> test_failed_validation_has_a_status()

    Args:
        details: The errors to fill the collections with.
        min_size: The fewest errors a collection holds.
        max_size: The most errors a collection holds; `None` for no limit.

    Returns:
        A strategy of `Errors`.

    .. versionadded:: 0.1.0
    """
    if details is None:
        details = error_details()
    return st.lists(details, min_size=min_size, max_size=max_size, unique=True).map(
        Errors
    )


# Law checks ------------------------------------------------------------------


def _require(
    law: str,
    left: tuple[str, object],
    right: tuple[str, object],
    **inputs: object,
) -> None:
    """Raise an AssertionError naming `law` and showing the example if it fails."""
    (left_text, left_value), (right_text, right_value) = left, right
    if left_value == right_value:
        return
    lines = [f"the {law} law does not hold: {left_text} == {right_text}"]
    lines.extend(f"  where {name} = {value!r}" for name, value in inputs.items())
    lines.append(f"  left:  {left_text} = {left_value!r}")
    lines.append(f"  right: {right_text} = {right_value!r}")
    raise AssertionError("\n".join(lines))


def _run(test: Callable[[], None], settings: hypothesis.settings | None) -> None:
    # No explain phase: the message already says which law failed on what, and
    # explaining a failure over collections of errors takes a minute or more.
    parent = hypothesis.settings() if settings is None else settings
    phases = [phase for phase in parent.phases if phase is not hypothesis.Phase.explain]
    hypothesis.settings(parent, phases=phases)(test)()


def check_functor_laws(
    results_strategy: st.SearchStrategy[Result[T, object]],
    f: Callable[[T], U],
    g: Callable[[U], object],
    *,
    settings: hypothesis.settings | None = None,
) -> None:
    """
    Check that `map` with `f` and `g` obeys the functor laws, using Hypothesis.

    For every result that `results_strategy` generates:

    - identity: ``result.map(lambda x: x) == result``
    - composition: ``result.map(f).map(g) == result.map(lambda x: g(f(x)))``

    Composition holds when `f` and `g` are functions of their argument alone:
    no hidden state, no mutation of the value they are given. Call this from a
    plain test function, not from one decorated with ``@given``.

    >>> from hypothesis import settings, strategies as st
    >>> from outcome.testing import check_functor_laws, results
    >>> prices = results(st.integers(min_value=0), st.text())
    >>> def add_vat(cents: int) -> int:
    ...     return cents * 120 // 100
    >>> check_functor_laws(prices, add_vat, str, settings=settings(max_examples=20))

    Args:
        results_strategy: The Results to map, e.g. ``results(st.integers(),
            st.text())``.
        f: The first function to map with.
        g: The second function, applied to what `f` returns.
        settings: Hypothesis settings for the run, e.g.
            ``settings(max_examples=500)``; by default, the current profile's.
            The explain phase is always skipped: the message already shows
            the law and the values.

    Raises:
        AssertionError: When a law does not hold. The message names the law and
            shows the smallest counterexample Hypothesis found, with both sides
            of the equation.

    .. versionadded:: 0.1.0
    """

    @hypothesis.given(results_strategy)
    def functor_laws(result: Result[T, object]) -> None:
        _require(
            "map identity",
            ("result.map(lambda x: x)", result.map(_identity)),
            ("result", result),
            result=result,
        )
        _require(
            "map composition",
            ("result.map(f).map(g)", result.map(f).map(g)),
            ("result.map(lambda x: g(f(x)))", result.map(lambda x: g(f(x)))),
            result=result,
        )

    _run(functor_laws, settings)


def _identity(value: T) -> T:
    return value


def check_monad_laws(
    values_strategy: st.SearchStrategy[T],
    results_strategy: st.SearchStrategy[Result[T, object]],
    f: Callable[[T], Result[U, object]],
    g: Callable[[U], Result[object, object]],
    *,
    settings: hypothesis.settings | None = None,
) -> None:
    """
    Check that `and_then` with `f` and `g` obeys the monad laws, using Hypothesis.

    For every value that `values_strategy` generates and every result that
    `results_strategy` generates:

    - left identity: ``Ok(value).and_then(f) == f(value)``
    - right identity: ``result.and_then(Ok) == result``
    - associativity: ``result.and_then(f).and_then(g) ==
      result.and_then(lambda x: f(x).and_then(g))``

    These hold when `f` and `g` are functions of their argument alone; a step
    that depends on hidden state (a counter, a clock, a cache it fills) breaks
    them. Call this from a plain test function, not from one decorated with
    ``@given``.

    >>> from hypothesis import settings, strategies as st
    >>> from outcome.testing import check_monad_laws, results
    >>> def parse_quantity(text: str) -> Result[int, str]:
    ...     if not text.isdecimal():
    ...         return Err(f"{text!r} is not a number")
    ...     return Ok(int(text))
    >>> def at_most_ten(quantity: int) -> Result[int, str]:
    ...     return Ok(quantity) if quantity <= 10 else Err("at most 10 per order")
    >>> check_monad_laws(
    ...     st.text(),
    ...     results(st.text(), st.text()),
    ...     parse_quantity,
    ...     at_most_ten,
    ...     settings=settings(max_examples=20),
    ... )

    Args:
        values_strategy: Values to pass to `f`.
        results_strategy: The Results to chain from.
        f: The first step: takes a value, returns a `Result`.
        g: The second step: takes what `f` returns in its `Ok`.
        settings: Hypothesis settings for the run; by default, the current
            profile's. The explain phase is always skipped.

    Raises:
        AssertionError: When a law does not hold. The message names the law and
            shows the smallest counterexample Hypothesis found, with both sides
            of the equation.

    .. versionadded:: 0.1.0
    """

    @hypothesis.given(value=values_strategy, result=results_strategy)
    def monad_laws(value: T, result: Result[T, object]) -> None:
        _require(
            "and_then left identity",
            ("Ok(value).and_then(f)", Ok(value).and_then(f)),
            ("f(value)", f(value)),
            value=value,
        )
        _require(
            "and_then right identity",
            ("result.and_then(Ok)", result.and_then(Ok)),
            ("result", result),
            result=result,
        )
        _require(
            "and_then associativity",
            ("result.and_then(f).and_then(g)", result.and_then(f).and_then(g)),
            (
                "result.and_then(lambda x: f(x).and_then(g))",
                result.and_then(lambda x: f(x).and_then(g)),
            ),
            result=result,
        )

    _run(monad_laws, settings)


def check_merge_laws(
    errors_strategy: st.SearchStrategy[Errors] | None = None,
    *,
    merge: Callable[[Errors, Errors], Errors] = Errors.merge,
    settings: hypothesis.settings | None = None,
) -> None:
    """
    Check that `merge` obeys the laws of `Errors.merge`, using Hypothesis.

    For all collections ``a``, ``b`` and ``c`` that `errors_strategy`
    generates, with ``merge(a, b)`` called on copies of its arguments:

    - left and right identity: ``merge(Errors(), a) == a`` and
      ``merge(a, Errors()) == a``
    - merging a collection with itself (the same object as both arguments)
      changes nothing: ``merge(a, a) == a``
    - idempotence: ``merge(merge(a, b), b) == merge(a, b)``
    - associativity: ``merge(merge(a, b), c) == merge(a, merge(b, c))``

    `merge` defaults to `Errors.merge` itself; pass your own function that
    combines two collections (merging in place and returning the first is
    fine) to check that it behaves as a merge. Call this from a plain test
    function, not from one decorated with ``@given``.

    >>> from hypothesis import settings
    >>> from outcome.testing import check_merge_laws
    >>> check_merge_laws(settings=settings(max_examples=20))
    >>> def combine(first: Errors, second: Errors) -> Errors:
    ...     return Errors([*first, *second])
    >>> check_merge_laws(merge=combine, settings=settings(max_examples=20))

    Args:
        errors_strategy: The collections to merge; by default
            `errors_collections`.
        merge: The function under test.
        settings: Hypothesis settings for the run; by default, the current
            profile's. The explain phase is always skipped.

    Raises:
        AssertionError: When a law does not hold. The message names the law and
            shows the smallest counterexample Hypothesis found, with both sides
            of the equation.

    .. versionadded:: 0.1.0
    """
    strategy = errors_collections() if errors_strategy is None else errors_strategy

    def merged(first: Errors, second: Errors) -> Errors:
        # Copies, so that a merge in place cannot change the inputs of the
        # laws checked after it.
        return merge(first.copy(), second.copy())

    @hypothesis.given(a=strategy, b=strategy, c=strategy)
    def merge_laws(a: Errors, b: Errors, c: Errors) -> None:
        _require(
            "merge left identity",
            ("merge(Errors(), a)", merged(Errors(), a)),
            ("a", a),
            a=a,
        )
        _require(
            "merge right identity",
            ("merge(a, Errors())", merged(a, Errors())),
            ("a", a),
            a=a,
        )
        itself = a.copy()
        _require(
            "merge with itself",
            ("merge(a, a)", merge(itself, itself)),
            ("a", a),
            a=a,
        )
        _require(
            "merge idempotence",
            ("merge(merge(a, b), b)", merged(merged(a, b), b)),
            ("merge(a, b)", merged(a, b)),
            a=a,
            b=b,
        )
        _require(
            "merge associativity",
            ("merge(merge(a, b), c)", merged(merged(a, b), c)),
            ("merge(a, merge(b, c))", merged(a, merged(b, c))),
            a=a,
            b=b,
            c=c,
        )

    _run(merge_laws, settings)


# Importing this module registers the strategies with Hypothesis even when its
# plugins are disabled (HYPOTHESIS_NO_PLUGINS).
_hypothesis_setup_hook()
