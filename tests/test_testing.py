"""Tests for outcome.testing and the Hypothesis plugin that registers its strategies."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import outcome.testing
from outcome import (
    DEFAULT_MESSAGES,
    Bucket,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Result,
    format_path,
    parse_path,
)
from outcome._hypothesis import _hypothesis_setup_hook
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

# For the tests of the law checks, whose verdicts and messages a few examples
# show: each call is a whole Hypothesis run (the library's own laws run under
# the profile, in test_laws.py). No database: every call of one check shares
# one database key, so a failure provoked here would be replayed everywhere.
FEW = settings(max_examples=25, database=None)


def _run_python(script: str, **env: str) -> str:
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-W", "error", "-c", textwrap.dedent(script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@dataclass
class Checkout:
    """A record whose fields st.builds() must fill from their annotations."""

    quantity: Result[int, str]
    problems: Errors


def _parse_quantity(text: str) -> Result[int, str]:
    if not text.isdecimal():
        return Err(f"{text!r} is not a number")
    return Ok(int(text))


def _at_most_ten(quantity: int) -> Result[int, str]:
    return Ok(quantity) if quantity <= 10 else Err("at most 10 per order")


class TestResultStrategies:
    """oks(), errs() and results()."""

    @given(oks(st.integers()))
    def test_oks_hold_the_values(self, result: Ok[int]) -> None:
        """oks() generates Ok values holding what its strategy generates."""
        assert type(result) is Ok
        assert type(result.ok_value) is int

    @given(errs(st.text()))
    def test_errs_hold_the_errors(self, result: Err[str]) -> None:
        """errs() generates Err values holding what its strategy generates."""
        assert type(result) is Err
        assert type(result.err_value) is str

    @given(results(st.integers(), st.text()))
    def test_results_are_ok_of_values_or_err_of_errors(
        self, result: Result[int, str]
    ) -> None:
        """results() generates Ok from the values and Err from the errors."""
        match result:
            case Ok(value):
                assert type(value) is int
            case Err(error):
                assert type(error) is str

    def test_results_generate_both_variants(self) -> None:
        """Both variants occur, and examples shrink towards Ok."""
        strategy = results(st.integers(), st.text())
        assert find(strategy, lambda result: True) == Ok(0)
        assert find(strategy, lambda result: result.is_err()) == Err("")

    def test_values_shrink(self) -> None:
        """The values inside shrink as their own strategy's do."""
        assert find(oks(st.integers()), lambda r: r.ok_value > 100) == Ok(101)
        assert find(errs(st.text()), lambda r: len(r.err_value) > 1) == Err("00")


class TestErrorDetails:
    """error_details()."""

    @given(error_details())
    def test_details_are_valid(self, detail: ErrorDetail) -> None:
        """Every detail can be rebuilt from its fields and renders a message."""
        rebuilt = ErrorDetail(
            detail.path,
            detail.code,
            detail.message,
            params=detail.params,
            bucket=detail.bucket,
            cause=detail.cause,
        )
        assert rebuilt == detail
        assert str(detail) == Errors([detail]).full_messages()[0]
        assert detail.reference.startswith("ERR-")

    @given(error_details())
    def test_details_round_trip_through_pickle(self, detail: ErrorDetail) -> None:
        """Every detail pickles to an equal one with the same bucket."""
        restored = pickle.loads(pickle.dumps(detail))  # noqa: S301 - our own pickle
        assert restored == detail
        assert hash(restored) == hash(detail)
        assert restored.bucket is detail.bucket

    @given(error_details())
    def test_paths_round_trip_through_the_dotted_form(
        self, detail: ErrorDetail
    ) -> None:
        """Every path, awkward names included, survives format_path/parse_path."""
        assert parse_path(format_path(detail.path)) == detail.path

    @pytest.mark.parametrize(
        ("description", "condition"),
        [
            ("the base", lambda d: d.path == ()),
            ("an index", lambda d: any(isinstance(s, int) for s in d.path)),
            ("a name with a dot", lambda d: any("." in str(s) for s in d.path)),
            ("a deep path", lambda d: len(d.path) >= 3),
            ("a default code", lambda d: d.code in DEFAULT_MESSAGES),
            ("a custom code", lambda d: d.code not in DEFAULT_MESSAGES),
            ("a message", lambda d: d.message is not None),
            ("params", lambda d: "maximum" in d.params and "count" in d.params),
            ("a cause", lambda d: d.cause is not None),
            *(
                (f"bucket {bucket.name}", lambda d, b=bucket: d.bucket is b)
                for bucket in Bucket
            ),
        ],
    )
    def test_defaults_are_varied(
        self, description: str, condition: Callable[[ErrorDetail], bool]
    ) -> None:
        """The defaults generate every kind of path, code, message and bucket."""
        assert condition(find(error_details(), condition)), description

    def test_each_field_has_its_strategy(self) -> None:
        """Each argument replaces the default strategy of its field."""
        detail = find(
            error_details(
                paths=st.just("items[0].price"),
                codes=st.just("price_changed"),
                messages=st.just("was {was}, is {now}"),
                params=st.just({"was": 4, "now": 5}),
                buckets=st.just(Bucket.USER_VISIBLE),
                causes=st.just(TimeoutError("late")),
            ),
            lambda detail: True,
        )
        assert detail == ErrorDetail(
            "items[0].price",
            "price_changed",
            "was {was}, is {now}",
            params={"was": 4, "now": 5},
        )
        assert detail.bucket is Bucket.USER_VISIBLE
        assert repr(detail.cause) == "TimeoutError('late')"
        assert str(detail) == "Price was 4, is 5"

    def test_minimal_detail_is_the_simplest_error(self) -> None:
        """Details shrink to the base, the first default code, nothing else."""
        assert find(error_details(), lambda detail: True) == ErrorDetail(
            None, "accepted"
        )


class TestErrorsCollections:
    """errors_collections()."""

    @given(errors_collections())
    def test_collections_serialise_to_json(self, errors: Errors) -> None:
        """Every serialiser's output of every collection is strict JSON."""
        for document in (
            errors.to_list(),
            errors.to_dict(),
            errors.to_problem_details(),
            errors.to_jsonapi(),
            errors.to_graphql(),
            errors.messages(),
            errors.full_messages(),
        ):
            json.loads(json.dumps(document, allow_nan=False))

    @given(errors_collections())
    def test_collections_round_trip_through_pickle(self, errors: Errors) -> None:
        """Every collection pickles to an equal one."""
        assert pickle.loads(pickle.dumps(errors)) == errors  # noqa: S301

    @given(errors_collections(min_size=2, max_size=3))
    def test_sizes_are_within_the_bounds(self, errors: Errors) -> None:
        """min_size and max_size bound the length of the collection itself."""
        assert 2 <= len(errors) <= 3

    @given(errors_collections(max_size=None))
    def test_max_size_none_means_no_limit(self, errors: Errors) -> None:
        """max_size=None is accepted and gives collections."""
        assert type(errors) is Errors

    def test_default_may_be_empty(self) -> None:
        """By default collections may be empty, and shrink to that."""
        assert find(errors_collections(), lambda errors: True) == Errors()

    @given(errors_collections())
    def test_default_holds_at_most_eight(self, errors: Errors) -> None:
        """By default collections hold at most eight errors."""
        assert len(errors) <= 8

    def test_details_strategy_is_used(self) -> None:
        """The details argument fills the collections."""
        bugs = error_details(buckets=st.just(Bucket.PROGRAMMER_ERROR))
        errors = find(errors_collections(bugs, min_size=1), lambda errors: True)
        assert errors.bucket is Bucket.PROGRAMMER_ERROR

    def test_separate_collections_share_errors(self) -> None:
        """Two collections often hold equal errors, which merging must drop."""
        pairs = st.tuples(errors_collections(), errors_collections())
        first, second = find(
            pairs,
            lambda pair: (
                len(pair[0].copy().merge(pair[1])) < len(pair[0]) + len(pair[1])
            ),
        )
        assert any(detail in second for detail in first)


class TestPlugin:
    """The Hypothesis entry point: st.from_type() and inference for outcome's types."""

    @given(
        st.from_type(Ok[int]),
        st.from_type(Err[str]),
        st.from_type(Result[int, str]),
        st.from_type(ErrorDetail),
        st.from_type(Errors),
    )
    def test_from_type(
        self,
        ok: Ok[int],
        err: Err[str],
        result: Result[int, str],
        detail: ErrorDetail,
        errors: Errors,
    ) -> None:
        """from_type() gives values of the type asked for, type arguments included."""
        assert type(ok) is Ok
        assert type(ok.ok_value) is int
        assert type(err) is Err
        assert type(err.err_value) is str
        assert type(result) in {Ok, Err}
        assert type(detail) is ErrorDetail
        assert type(errors) is Errors

    def test_result_is_resolved_member_by_member(self) -> None:
        """Result[int, str] resolves to Ok[int] or Err[str], both occurring."""
        strategy = st.from_type(Result[int, str])
        assert type(find(strategy, lambda result: result.is_ok())) is Ok
        assert find(strategy, lambda result: result.is_err()) == Err("")
        assert find(strategy, lambda r: r.is_ok() and r.ok_value > 5) == Ok(6)

    def test_nested_type_arguments(self) -> None:
        """Type arguments resolve recursively: Ok[Result[int, Errors]]."""
        found = find(
            st.from_type(Ok[Result[int, Errors]]),
            lambda r: r.ok_value.is_err() and len(r.ok_value.err_value) > 0,
        )
        assert type(found.ok_value.err_value) is Errors

    @given(st.from_type(Ok), st.from_type(Err), st.from_type(Result))
    def test_unparametrised_types(
        self, ok: Ok[object], err: Err[object], result: Result[object, object]
    ) -> None:
        """A bare Ok, Err or Result holds values of one simple type per example."""
        simple = (type(None), bool, int, float, str, bytes)
        assert type(ok) is Ok
        assert isinstance(ok.ok_value, simple)
        assert type(err) is Err
        assert isinstance(err.err_value, simple)
        assert type(result) in {Ok, Err}

    @given(result=..., errors=...)
    def test_given_infers_from_annotations(
        self, result: Result[int, str], errors: Errors
    ) -> None:
        """@given(name=...) infers Result[int, str] and Errors from annotations."""
        assert type(result) in {Ok, Err}
        assert isinstance(result.unwrap_or(0), int)
        assert type(errors) is Errors

    @given(st.builds(Checkout))
    def test_builds_infers_from_annotations(self, checkout: Checkout) -> None:
        """st.builds() fills fields annotated Result[int, str] and Errors."""
        assert type(checkout.quantity) in {Ok, Err}
        assert isinstance(checkout.quantity.unwrap_or(0), int)
        assert type(checkout.problems) is Errors

    def test_setup_hook_is_idempotent(self) -> None:
        """Calling the hook again re-registers the same strategies harmlessly."""
        _hypothesis_setup_hook()
        _hypothesis_setup_hook()
        assert find(st.from_type(Ok[int]), lambda r: r.ok_value > 1) == Ok(2)
        assert find(st.from_type(Errors), lambda errors: True) == Errors()

    def test_works_without_importing_outcome_testing(self) -> None:
        """In a fresh process, from_type() works with only hypothesis and outcome."""
        output = _run_python(
            """
            import sys
            from hypothesis import given, settings, strategies as st
            from outcome import Err, ErrorDetail, Errors, Ok, Result

            assert "outcome._hypothesis" in sys.modules  # loaded by Hypothesis
            assert "outcome.testing" not in sys.modules
            seen = set()

            @settings(max_examples=50, database=None)
            @given(
                st.from_type(Result[int, str]),
                st.from_type(Ok[int]),
                st.from_type(Err[str]),
                st.from_type(ErrorDetail),
                st.from_type(Errors),
            )
            def check(result, ok, err, detail, errors):
                seen.add(type(result))
                assert type(ok) is Ok and type(ok.ok_value) is int
                assert type(err) is Err and type(err.err_value) is str
                assert type(detail) is ErrorDetail
                assert type(errors) is Errors

            check()
            assert seen == {Ok, Err}, seen
            print("from_type works")
            """
        )
        assert output == "from_type works\n"

    def test_importing_outcome_testing_first_works(self) -> None:
        """Importing outcome.testing before Hypothesis does not trip on the hook."""
        output = _run_python(
            """
            import outcome.testing
            from hypothesis import find, strategies as st
            from outcome import Result
            print(find(st.from_type(Result[int, str]), lambda r: r.is_ok()))
            """
        )
        assert output == "Ok(0)\n"

    def test_outcome_testing_registers_when_plugins_are_off(self) -> None:
        """With HYPOTHESIS_NO_PLUGINS set, importing outcome.testing registers them."""
        output = _run_python(
            """
            import sys
            from hypothesis import find, strategies as st
            assert "outcome._hypothesis" not in sys.modules
            import outcome.testing
            from outcome import Errors
            errors = find(st.from_type(Errors), lambda errors: len(errors) > 0)
            print(type(errors).__name__, len(errors))
            """,
            HYPOTHESIS_NO_PLUGINS="1",
        )
        assert output == "Errors 1\n"


class TestFunctorLaws:
    """check_functor_laws()."""

    def test_passes_for_functions(self) -> None:
        """Pure functions pass, on both variants."""
        check_functor_laws(
            results(st.integers(), st.text()), lambda n: n * 2, str, settings=FEW
        )

    def test_fails_for_a_stateful_function(self) -> None:
        """A function with hidden state breaks composition, shown on Ok(0)."""
        counter = itertools.count()

        def g(n: int) -> int:
            return n + next(counter)

        with pytest.raises(AssertionError) as info:
            check_functor_laws(results(st.integers(), st.text()), abs, g, settings=FEW)
        message = str(info.value)
        assert message.startswith(
            "the map composition law does not hold: "
            "result.map(f).map(g) == result.map(lambda x: g(f(x)))\n"
            "  where result = Ok(0)\n"
        )
        assert re.search(r"  left:  result.map\(f\).map\(g\) = Ok\(\d+\)\n", message)
        assert re.search(
            r"  right: result.map\(lambda x: g\(f\(x\)\)\) = Ok\(\d+\)$", message
        )

    def test_settings_are_applied(self) -> None:
        """The settings given decide how many examples run."""
        calls: list[int] = []

        def record(n: int) -> int:
            calls.append(n)
            return n

        check_functor_laws(
            oks(st.integers()),
            record,
            str,
            settings=settings(max_examples=3, database=None),
        )
        assert 0 < len(calls) <= 3 * 2


class TestMonadLaws:
    """check_monad_laws()."""

    def test_passes_for_a_parser_and_a_check(self) -> None:
        """A parser chained with a check passes, on both variants."""
        check_monad_laws(
            st.text(),
            results(st.text(), st.text()),
            _parse_quantity,
            _at_most_ten,
            settings=FEW,
        )

    def test_fails_left_identity_for_a_stateful_step(self) -> None:
        """A step that depends on a counter breaks left identity, shown on 0."""
        counter = itertools.count()

        def f(n: int) -> Result[int, str]:
            return Ok(n + next(counter))

        with pytest.raises(AssertionError) as info:
            check_monad_laws(
                st.integers(), results(st.integers(), st.text()), f, Ok, settings=FEW
            )
        message = str(info.value)
        assert message.startswith(
            "the and_then left identity law does not hold: "
            "Ok(value).and_then(f) == f(value)\n"
            "  where value = 0\n"
        )
        assert re.search(r"  left:  Ok\(value\).and_then\(f\) = Ok\(\d+\)\n", message)
        assert re.search(r"  right: f\(value\) = Ok\(\d+\)$", message)

    def test_fails_associativity_for_a_stateful_second_step(self) -> None:
        """A second step with hidden state breaks associativity, shown on Ok(0)."""
        counter = itertools.count()

        def g(n: int) -> Result[int, str]:
            return Ok(n + next(counter))

        with pytest.raises(AssertionError) as info:
            check_monad_laws(
                st.integers(), results(st.integers(), st.text()), Ok, g, settings=FEW
            )
        assert str(info.value).startswith(
            "the and_then associativity law does not hold: "
            "result.and_then(f).and_then(g) == "
            "result.and_then(lambda x: f(x).and_then(g))\n"
            "  where result = Ok(0)\n"
        )


class TestMergeLaws:
    """check_merge_laws()."""

    def test_errors_merge_passes(self) -> None:
        """Errors.merge, the default, obeys every law."""
        check_merge_laws(settings=FEW)

    @pytest.mark.parametrize(
        "merge",
        [
            lambda a, b: a.merge(b),
            lambda a, b: Errors([*a, *b]),
            lambda a, b: Errors().merge(a).merge(b),
        ],
    )
    def test_equivalent_merges_pass(self, merge: object) -> None:
        """Merges in place and merges into a new collection both pass."""
        check_merge_laws(merge=merge, settings=FEW)  # type: ignore[arg-type]

    def test_fails_for_a_merge_that_drops_an_error(self) -> None:
        """A merge that drops the first error fails identity, shown shrunk."""

        def lossy(first: Errors, second: Errors) -> Errors:
            return Errors(list(first)[1:]).merge(second)

        every_phase = settings(FEW, phases=tuple(Phase))
        with pytest.raises(AssertionError) as info:
            check_merge_laws(merge=lossy, settings=every_phase)
        assert str(info.value) == (
            "the merge right identity law does not hold: merge(a, Errors()) == a\n"
            "  where a = Errors([ErrorDetail(path=(), code='accepted')])\n"
            "  left:  merge(a, Errors()) = Errors([])\n"
            "  right: a = Errors([ErrorDetail(path=(), code='accepted')])"
        )
        # The explain phase is skipped, even when asked for: it takes minutes here.
        notes = getattr(info.value, "__notes__", [])
        assert not any("Explanation" in note for note in notes)

    def test_the_errors_strategy_is_used(self) -> None:
        """The collections checked come from errors_strategy."""
        seen: list[int] = []

        def counting(first: Errors, second: Errors) -> Errors:
            seen.extend((len(first), len(second)))
            return first.merge(second)

        check_merge_laws(
            errors_collections(min_size=1, max_size=1), merge=counting, settings=FEW
        )
        assert set(seen) <= {0, 1, 2}
        assert 2 in seen  # merge(merge(a, b), c) with distinct a and b


class TestImports:
    """Hypothesis is optional: outcome never imports it, outcome.testing needs it."""

    def test_import_outcome_does_not_import_hypothesis(self) -> None:
        """import outcome leaves Hypothesis and outcome.testing unimported."""
        output = _run_python(
            """
            import sys
            import outcome
            print("hypothesis" in sys.modules, "outcome.testing" in sys.modules)
            """
        )
        assert output == "False False\n"

    def test_outcome_testing_without_hypothesis_says_what_to_install(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without Hypothesis, importing outcome.testing says to install it."""
        monkeypatch.setitem(sys.modules, "hypothesis", None)
        monkeypatch.delitem(sys.modules, "outcome.testing")
        with pytest.raises(
            ImportError, match=r"pip install \"outcome-kit\[hypothesis\]\""
        ) as info:
            importlib.import_module("outcome.testing")
        assert info.value.name == "hypothesis"
        assert isinstance(info.value.__cause__, ImportError)

    def test_the_plugin_module_does_not_import_hypothesis(self) -> None:
        """outcome._hypothesis imports without Hypothesis installed."""
        output = _run_python(
            """
            import sys
            sys.modules["hypothesis"] = None
            import outcome._hypothesis
            print("imported")
            """
        )
        assert output == "imported\n"

    def test_all_is_sorted_and_complete(self) -> None:
        """outcome.testing's __all__ is sorted and lists every public function."""
        public = {
            name
            for name, value in vars(outcome.testing).items()
            if not name.startswith("_")
            and callable(value)
            and getattr(value, "__module__", None) == "outcome.testing"
        }
        assert outcome.testing.__all__ == sorted(outcome.testing.__all__)
        assert set(outcome.testing.__all__) == public
