"""
The Hypothesis plugin: registers strategies for outcome's types.

Hypothesis calls `_hypothesis_setup_hook` through the ``hypothesis`` entry point
when it is imported, so ``st.from_type(Result[int, str])`` works in any project
that has outcome installed. This module is loaded by Hypothesis, never by
``import outcome``, and it imports nothing from Hypothesis at module level.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, cast

from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._result import E_co, Err, Ok, T_co

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


def _hypothesis_setup_hook() -> None:  # an entry point
    """
    Register the strategies; Hypothesis calls this through its entry point.

    Registering again replaces the same entries, so calling it twice is
    harmless. Each entry is a function Hypothesis calls when it first needs the
    strategy: nothing is built while Hypothesis is still being imported, and
    `outcome.testing` (which imports Hypothesis) is only imported then.
    """
    from hypothesis import strategies as st  # noqa: PLC0415 - an optional dependency

    st.register_type_strategy(Ok, _oks_for)
    st.register_type_strategy(Err, _errs_for)
    st.register_type_strategy(ErrorDetail, _error_details_for)
    st.register_type_strategy(Errors, _errors_collections_for)


def _argument_of(thing: object, unparametrised: object) -> SearchStrategy[object]:
    """A strategy for the one type argument of `thing`, e.g. ``int`` of ``Ok[int]``."""
    from hypothesis import strategies as st  # noqa: PLC0415 - an optional dependency

    # A bare `Ok` is `Ok[T]` for an unconstrained T, which Hypothesis fills with
    # values of one simple type per test case (None, bool, int, float, str or
    # bytes), as it does for `list[T]`.
    (argument,) = typing.get_args(thing) or (unparametrised,)
    return st.from_type(cast("type[object]", argument))


def _oks_for(thing: type[Ok[object]]) -> SearchStrategy[Ok[object]]:
    from outcome.testing import oks  # noqa: PLC0415 - imports Hypothesis

    return oks(_argument_of(thing, T_co))


def _errs_for(thing: type[Err[object]]) -> SearchStrategy[Err[object]]:
    from outcome.testing import errs  # noqa: PLC0415 - imports Hypothesis

    return errs(_argument_of(thing, E_co))


def _error_details_for(_thing: type[ErrorDetail]) -> SearchStrategy[ErrorDetail]:
    from outcome.testing import error_details  # noqa: PLC0415 - imports Hypothesis

    return error_details()


def _errors_collections_for(_thing: type[Errors]) -> SearchStrategy[Errors]:
    from outcome.testing import errors_collections  # noqa: PLC0415 - imports Hypothesis

    return errors_collections()
