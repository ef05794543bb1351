"""The laws of Result and Errors.merge, checked with outcome.testing's law checks."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from hypothesis import strategies as st

from outcome.testing import check_functor_laws, check_merge_laws, check_monad_laws
from tests.strategies import INT_BINDERS, INT_FUNCTIONS, int_results, pooled_errors

if TYPE_CHECKING:
    from outcome import Result


def _name(function: Callable[..., object]) -> str:
    return function.__name__.lstrip("_")


class TestResult:
    """map is a functor and and_then a monad, on Ok and Err alike."""

    @pytest.mark.parametrize(
        ("f", "g"), list(itertools.product(INT_FUNCTIONS, repeat=2)), ids=_name
    )
    def test_map(self, f: Callable[[int], int], g: Callable[[int], int]) -> None:
        """map keeps identity and composition, whichever functions it maps with."""
        check_functor_laws(int_results, f, g)

    @pytest.mark.parametrize(
        ("f", "g"), list(itertools.product(INT_BINDERS, repeat=2)), ids=_name
    )
    def test_and_then(
        self,
        f: Callable[[int], Result[int, str]],
        g: Callable[[int], Result[int, str]],
    ) -> None:
        """and_then keeps both identities and associativity, with Ok and Err steps."""
        check_monad_laws(st.integers(), int_results, f, g)


class TestErrors:
    """Errors.merge is a merge."""

    def test_merge(self) -> None:
        """Errors.merge keeps the merge laws on outcome.testing's collections."""
        check_merge_laws()

    def test_merge_of_collections_built_with_duplicates(self) -> None:
        """It keeps them on collections built from lists that repeat errors too."""
        check_merge_laws(pooled_errors())
