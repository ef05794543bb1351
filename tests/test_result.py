"""Tests for the Result core: Ok, Err and the functions around them."""

from __future__ import annotations

import asyncio
import copy
import inspect
import pickle
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import outcome
from outcome import (
    Bucket,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    OkErr,
    Result,
    UnwrapError,
    accumulate,
    and_then_async,
    as_async_result,
    as_result,
    collect,
    do,
    do_async,
    is_err,
    is_ok,
    map_async,
    partition,
)
from tests.strategies import (
    INT_BINDERS,
    hashable_values,
    int_functions,
    int_results,
    ok_or_err,
    values,
)


class TestValueSemantics:
    """Equality, hashing, repr, pickling and copying."""

    @given(values)
    def test_equal_to_same_variant_with_equal_value(self, value: object) -> None:
        """Ok(x) == Ok(x) and Err(x) == Err(x), even for x unequal to itself."""
        assert Ok(value) == Ok(value)
        assert Err(value) == Err(value)
        assert not Ok(value) != Ok(value)  # noqa: SIM202 - __ne__ is under test

    @given(values)
    def test_ok_never_equals_err(self, value: object) -> None:
        """An Ok and an Err are never equal, whatever they hold."""
        assert Ok(value) != Err(value)
        assert Err(value) != Ok(value)

    @given(values)
    def test_not_equal_to_the_bare_value(self, value: object) -> None:
        """A Result is not equal to the value it wraps."""
        assert Ok(value) != value
        assert Err(value) != value

    def test_nan_is_equal_to_itself_when_wrapped(self) -> None:
        """The same NaN object wrapped twice compares equal, as in a tuple."""
        nan = float("nan")
        assert Ok(nan) == Ok(nan)
        assert Err(nan) == Err(nan)

    @given(hashable_values, hashable_values)
    def test_equal_results_hash_equal(self, first: object, second: object) -> None:
        """Equal results have equal hashes, so they work as set members and keys."""
        for left, right in [(Ok(first), Ok(second)), (Err(first), Err(second))]:
            if left == right:
                assert hash(left) == hash(right)
        assert len({Ok(first), Ok(first), Err(first)}) == 2

    def test_unhashable_value_makes_result_unhashable(self) -> None:
        """Hashing an Ok of a list fails as hashing the list does."""
        with pytest.raises(TypeError, match="unhashable"):
            hash(Ok([1]))

    @given(ok_or_err(hashable_values, hashable_values))
    def test_repr_evaluates_back(self, result: Result[object, object]) -> None:
        """eval(repr(r)) == r for values whose own repr evaluates back."""
        namespace = {"Ok": Ok, "Err": Err, "frozenset": frozenset, "inf": float("inf")}
        assert eval(repr(result), namespace) == result  # noqa: S307

    @given(ok_or_err(values, values))
    def test_pickle_round_trips(self, result: Result[object, object]) -> None:
        """Every protocol restores an equal Result of the same variant."""
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            restored = pickle.loads(pickle.dumps(result, protocol))  # noqa: S301
            assert restored == result
            assert type(restored) is type(result)

    def test_pickle_names_the_public_module(self) -> None:
        """Pickles refer to outcome.Ok, so they survive a move of the private module."""
        assert b"outcome\x94\x8c\x02Ok" in pickle.dumps(Ok(1))

    @given(ok_or_err(values, values))
    def test_copies_are_equal(self, result: Result[object, object]) -> None:
        """copy and deepcopy give equal results."""
        assert copy.copy(result) == result
        assert copy.deepcopy(result) == result

    def test_deepcopy_copies_the_value(self) -> None:
        """deepcopy does not share a mutable value with the original."""
        original = Ok([1])
        duplicate = copy.deepcopy(original)
        assert duplicate.ok_value is not original.ok_value


HIDDEN_TEXT = "SELECT price FROM prices WHERE sku = 'tea': no such table"


def _programmer_error() -> ErrorDetail:
    return ErrorDetail(
        None, "pricing_failed", HIDDEN_TEXT, bucket=Bucket.PROGRAMMER_ERROR
    )


class TestStr:
    """str() is what may reach a user; repr() stays exact, for logs."""

    @given(st.text() | values)
    def test_str_shows_the_str_of_the_value(self, value: object) -> None:
        """str(Ok(x)) is "Ok(" + str(x) + ")", and likewise for Err."""
        assert str(Ok(value)) == f"Ok({value!s})"
        assert str(Err(value)) == f"Err({value!s})"

    def test_str_of_a_result_hides_a_programmer_error(self) -> None:
        """str() of a Result of Errors or ErrorDetail hides a programmer error."""
        detail = _programmer_error()
        errors = Errors([detail, ErrorDetail("name", "blank")])
        for result in (Ok(errors), Err(errors), Ok(detail), Err(detail)):
            for shown in (str(result), f"{result}", "%s" % result):  # noqa: UP031
                assert HIDDEN_TEXT not in shown
                assert detail.reference in shown
            assert HIDDEN_TEXT in repr(result)

    def test_repr_is_unchanged(self) -> None:
        """repr() still shows the value's repr, so it evaluates back."""
        assert repr(Err("card declined")) == "Err('card declined')"
        assert str(Err("card declined")) == "Err(card declined)"


class TestImmutability:
    """No attribute of an Ok or Err can be assigned or deleted."""

    @pytest.mark.parametrize(
        "attribute", ["ok_value", "err_value", "value", "anything", "__dict__"]
    )
    @pytest.mark.parametrize("result", [Ok(1), Err(1)])
    def test_assignment_raises(self, result: Result[int, int], attribute: str) -> None:
        """Setting a public, deprecated or new attribute raises AttributeError."""
        before = repr(result)
        with pytest.raises(AttributeError):
            setattr(result, attribute, 2)
        assert repr(result) == before

    @pytest.mark.parametrize("attribute", ["ok_value", "err_value", "value"])
    @pytest.mark.parametrize("result", [Ok(1), Err(1)])
    def test_deletion_raises(self, result: Result[int, int], attribute: str) -> None:
        """Deleting an attribute raises AttributeError."""
        with pytest.raises(AttributeError):
            delattr(result, attribute)

    @pytest.mark.parametrize("cls", [Ok, Err])
    def test_no_instance_dict(self, cls: type[Ok[int] | Err[int]]) -> None:
        """Instances carry one slot and no __dict__ or __weakref__."""
        assert not hasattr(cls(1), "__dict__")
        assert cls.__slots__ == ("_value",)

    @pytest.mark.parametrize("cls", [Ok, Err])
    def test_cannot_be_subclassed(self, cls: type[object]) -> None:
        """Ok and Err are final at run time too, so a type test is exact."""
        with pytest.raises(TypeError, match=rf"{cls.__name__} is final"):
            type("Sub", (cls,), {})


class TestValueProperties:
    """ok_value and err_value read the slot, and introspection sees them typed."""

    @pytest.mark.parametrize(
        ("result", "attribute", "annotation"),
        [(Ok("paid"), "ok_value", "T_co"), (Err("declined"), "err_value", "E_co")],
    )
    def test_getter_as_written(
        self, result: Result[str, str], attribute: str, annotation: str
    ) -> None:
        """The getter that help() and the docs find returns the value, typed."""
        prop = vars(type(result))[attribute]
        assert isinstance(prop, property)
        assert prop.fget is not None
        assert prop.fget(result) == getattr(result, attribute) == result._value
        assert inspect.signature(prop.fget).return_annotation == annotation
        assert (prop.__doc__ or "").strip().startswith(("The success", "The error"))

    @pytest.mark.parametrize("result", [Ok([1]), Err([1])])
    def test_reads_the_slot_itself(self, result: Result[list[int], list[int]]) -> None:
        """The attribute is the very object the slot holds, not a copy."""
        value = result._value
        assert (
            result.ok_value if isinstance(result, Ok) else result.err_value
        ) is value
        match result:
            case Ok(matched) | Err(matched):
                assert matched is value


class TestNotABool:
    """A Result is not a boolean: `if service.commit():` must not pass silently."""

    @pytest.mark.parametrize("result", [Ok(True), Ok(0), Err(False), Err(None)])
    def test_bool_raises_naming_the_alternatives(
        self, result: Result[object, object]
    ) -> None:
        """bool() raises TypeError that names match and is_ok()."""
        with pytest.raises(TypeError, match=r"`match`.*is_ok\(result\)") as info:
            bool(result)
        assert repr(result) in str(info.value)

    def test_if_statement_raises(self) -> None:
        """An unchecked `if commit():` fails loudly instead of taking the branch."""

        def commit() -> Result[int, str]:
            return Err("declined")

        def checkout() -> str:
            if commit():
                return "paid"  # pragma: no cover - the point is that it is not reached
            return "not paid"  # pragma: no cover

        with pytest.raises(TypeError, match="not a bool"):
            checkout()


class TestLaws:
    """Laws outcome.testing has no check for; test_laws.py checks the others."""

    @given(int_results, int_functions)
    def test_map_is_and_then_of_ok(
        self, result: Result[int, str], function: Callable[[int], int]
    ) -> None:
        """map(f) == and_then(lambda x: Ok(f(x)))."""
        assert result.map(function) == result.and_then(lambda n: Ok(function(n)))

    @given(int_results)
    def test_map_err_identity(self, result: Result[int, str]) -> None:
        """map_err(identity) changes nothing."""
        assert result.map_err(lambda error: error) == result

    @given(int_results)
    def test_or_else_right_identity(self, result: Result[int, str]) -> None:
        """r.or_else(Err) == r, the mirror of and_then's right identity."""
        assert result.or_else(Err) == result


def _record(calls: list[object]) -> Callable[[object], object]:
    def record(value: object) -> object:
        calls.append(value)
        return value

    return record


class TestOk:
    """What each method does on an Ok."""

    def test_queries(self) -> None:
        """The predicates and accessors report a success."""
        result = Ok(5)
        assert result.is_ok() is True
        assert result.is_err() is False
        assert result.is_ok_and(lambda n: n > 4) is True
        assert result.is_ok_and(lambda n: n > 5) is False
        assert result.is_err_and(lambda _: True) is False
        assert result.ok() == 5
        assert result.err() is None
        assert result.ok_value == 5

    def test_unwrapping_returns_the_value(self) -> None:
        """Every way to get the value out returns it and ignores the fallback."""
        result = Ok(5)
        assert result.unwrap() == 5
        assert result.expect("never shown") == 5
        assert result.unwrap_or(0) == 5
        assert result.unwrap_or_else(pytest.fail) == 5
        assert result.unwrap_or_raise(ValueError) == 5

    def test_transformations(self) -> None:
        """map and friends apply to the value; the error-side ones do nothing."""
        result = Ok(5)
        assert result.map(str) == Ok("5")
        assert result.map_or(0, lambda n: n + 1) == 6
        assert result.map_or_else(pytest.fail, lambda n: n + 1) == 6
        assert result.map_err(pytest.fail) is result
        assert result.and_then(lambda n: Err(n * 2)) == Err(10)
        assert result.or_else(pytest.fail) is result

    def test_inspect_calls_only_on_the_value(self) -> None:
        """inspect sees the value; inspect_err is not called."""
        calls: list[object] = []
        result = Ok(5)
        assert result.inspect(_record(calls)) is result
        assert result.inspect_err(_record(calls)) is result
        assert calls == [5]

    def test_unwrap_err_raises(self) -> None:
        """unwrap_err on an Ok raises UnwrapError holding the Ok."""
        result = Ok(5)
        with pytest.raises(
            UnwrapError, match=r"unwrap_err\(\).*`Ok` value: Ok\(5\)"
        ) as info:
            result.unwrap_err()
        assert info.value.result is result
        assert info.value.__cause__ is None

    def test_expect_err_raises_with_message_first(self) -> None:
        """expect_err puts the caller's message first."""
        with pytest.raises(UnwrapError, match=r"^wanted a failure: Ok\(5\)$"):
            Ok(5).expect_err("wanted a failure")

    def test_value_is_deprecated(self) -> None:
        """.value still works, with a DeprecationWarning pointing to ok_value."""
        with pytest.warns(DeprecationWarning, match="ok_value"):
            assert Ok(5).value == 5

    def test_iterating_yields_the_value(self) -> None:
        """Iterating an Ok yields its value once (what `do` relies on)."""
        assert list(Ok(5)) == [5]


class TestErr:
    """What each method does on an Err."""

    def test_queries(self) -> None:
        """The predicates and accessors report a failure."""
        result = Err("bad")
        assert result.is_ok() is False
        assert result.is_err() is True
        assert result.is_ok_and(lambda _: True) is False
        assert result.is_err_and(lambda error: error == "bad") is True
        assert result.is_err_and(lambda error: error == "good") is False
        assert result.ok() is None
        assert result.err() == "bad"
        assert result.err_value == "bad"

    def test_fallbacks(self) -> None:
        """The fallbacks apply; the error is what unwrap_err and expect_err return."""
        result = Err("bad")
        assert result.unwrap_or(0) == 0
        assert result.unwrap_or_else(len) == 3
        assert result.unwrap_err() == "bad"
        assert result.expect_err("never shown") == "bad"

    def test_transformations(self) -> None:
        """The value-side methods do nothing; the error-side ones apply."""
        result: Err[str] = Err("bad")
        assert result.map(pytest.fail) is result
        assert result.map_or(0, pytest.fail) == 0
        assert result.map_or_else(lambda: -1, pytest.fail) == -1
        assert result.map_err(str.upper) == Err("BAD")
        assert result.and_then(pytest.fail) is result
        assert result.or_else(lambda error: Ok(len(error))) == Ok(3)

    def test_inspect_calls_only_on_the_error(self) -> None:
        """inspect_err sees the error; inspect is not called."""
        calls: list[object] = []
        result = Err("bad")
        assert result.inspect(_record(calls)) is result
        assert result.inspect_err(_record(calls)) is result
        assert calls == ["bad"]

    def test_unwrap_shows_the_error_str(self) -> None:
        """unwrap raises UnwrapError with the error's str and the Err on .result."""
        result = Err("no stock")
        with pytest.raises(
            UnwrapError,
            match=r"^Called `Result.unwrap\(\)` on an `Err` value: no stock$",
        ) as info:
            result.unwrap()
        assert info.value.result is result
        assert info.value.__cause__ is None

    def test_unwrap_chains_an_exception_error(self) -> None:
        """When the error is an exception, it is the UnwrapError's __cause__."""
        error = KeyError("sku-1")
        with pytest.raises(UnwrapError, match=r"value: 'sku-1'$") as info:
            Err(error).unwrap()
        assert info.value.__cause__ is error

    def test_expect_puts_message_first_and_chains(self) -> None:
        """expect's message comes first, then the error's str; exceptions chain."""
        error = TimeoutError("gateway")
        with pytest.raises(UnwrapError, match=r"^charging the card: gateway$") as info:
            Err(error).expect("charging the card")
        assert info.value.__cause__ is error
        assert info.value.result == Err(error)

    def test_unwrap_or_raise_raises_the_given_type(self) -> None:
        """unwrap_or_raise builds the exception from the error."""
        with pytest.raises(LookupError, match=r"^no stock$"):
            Err("no stock").unwrap_or_raise(LookupError)

    def test_value_is_deprecated(self) -> None:
        """.value still works, with a DeprecationWarning pointing to err_value."""
        with pytest.warns(DeprecationWarning, match="err_value"):
            assert Err("bad").value == "bad"

    def test_iterating_short_circuits_only_when_advanced(self) -> None:
        """iter(Err) is lazy: the short circuit happens on next(), inside `do`."""
        iterator = iter(Err("bad"))
        with pytest.raises(Exception, match="bad"):
            next(iterator)


class TestUnwrapError:
    """The exception raised by the unwrap family."""

    @pytest.mark.parametrize(
        ("variant", "method", "arguments"),
        [
            (Err, "unwrap", ()),
            (Err, "expect", ("pricing the basket",)),
            (Ok, "unwrap_err", ()),
            (Ok, "expect_err", ("pricing the basket",)),
        ],
    )
    def test_message_hides_a_programmer_error(
        self,
        variant: Callable[[Errors], Result[Errors, Errors]],
        method: str,
        arguments: tuple[str, ...],
    ) -> None:
        """The message shows a programmer error's reference, not its text."""
        detail = _programmer_error()
        result = variant(Errors([detail]))
        with pytest.raises(UnwrapError) as info:
            getattr(result, method)(*arguments)
        for shown in (str(info.value), repr(info.value)):
            assert HIDDEN_TEXT not in shown
            assert detail.reference in shown
        assert info.value.result is result
        assert HIDDEN_TEXT in repr(info.value.result)

    def test_pickle_keeps_result_and_message(self) -> None:
        """An UnwrapError survives pickling, e.g. across a process pool."""
        error = UnwrapError(Err("bad"), "boom")
        restored = pickle.loads(pickle.dumps(error))  # noqa: S301
        assert restored.result == Err("bad")
        assert str(restored) == "boom"


class TestAsync:
    """The *_async methods."""

    def test_map_async(self) -> None:
        """map_async awaits op on Ok and skips it on Err."""

        async def double(n: int) -> int:
            return n * 2

        async def main() -> tuple[Result[int, str], Result[int, str]]:
            bad: Result[int, str] = Err("bad")
            return await Ok(2).map_async(double), await bad.map_async(double)

        assert asyncio.run(main()) == (Ok(4), Err("bad"))

    def test_and_then_async(self) -> None:
        """and_then_async awaits op on Ok and skips it on Err."""

        async def check(n: int) -> Result[int, str]:
            return Ok(n) if n > 0 else Err("not positive")

        async def main() -> list[Result[int, str]]:
            bad: Result[int, str] = Err("bad")
            return [
                await Ok(1).and_then_async(check),
                await Ok(0).and_then_async(check),
                await bad.and_then_async(check),
            ]

        assert asyncio.run(main()) == [Ok(1), Err("not positive"), Err("bad")]


class TestAsyncFunctions:
    """map_async and and_then_async, the functions a forgotten await is reported on."""

    @given(int_results, int_functions)
    def test_map_async_agrees_with_the_method(
        self, result: Result[int, str], function: Callable[[int], int]
    ) -> None:
        """map_async(r, f) gives what r.map_async(f) gives."""

        async def op(n: int) -> int:
            return function(n)

        async def main() -> tuple[Result[int, str], Result[int, str]]:
            return await map_async(result, op), await result.map_async(op)

        from_function, from_method = asyncio.run(main())
        assert from_function == from_method

    @given(int_results, st.sampled_from(INT_BINDERS))
    def test_and_then_async_agrees_with_the_method(
        self, result: Result[int, str], binder: Callable[[int], Result[int, str]]
    ) -> None:
        """and_then_async(r, f) gives what r.and_then_async(f) gives."""

        async def op(n: int) -> Result[int, str]:
            return binder(n)

        async def main() -> tuple[Result[int, str], Result[int, str]]:
            return await and_then_async(result, op), await result.and_then_async(op)

        from_function, from_method = asyncio.run(main())
        assert from_function == from_method

    @pytest.mark.parametrize("function", [map_async, and_then_async])
    def test_an_err_is_returned_as_it_is(
        self, function: Callable[..., Awaitable[object]]
    ) -> None:
        """An Err comes back as the same object, and op is never called."""
        error: Result[int, str] = Err("bad")
        assert asyncio.run(function(error, pytest.fail)) is error

    @pytest.mark.parametrize("function", [map_async, and_then_async])
    def test_a_non_result_is_named(
        self, function: Callable[..., Awaitable[object]]
    ) -> None:
        """A plain value in place of the Result is a TypeError naming it."""
        name = getattr(function, "__name__", "")
        with pytest.raises(
            TypeError,
            match=rf"^{name}\(\) expects an Ok or Err as its first argument, but got "
            r"3 \(of type int\); wrap a plain value in Ok\(\.\.\.\)$",
        ):
            asyncio.run(function(3, pytest.fail))


class TestNarrowing:
    """is_ok, is_err and OkErr at run time."""

    @given(int_results)
    def test_is_ok_and_is_err_agree_with_the_methods(
        self, result: Result[int, str]
    ) -> None:
        """The module functions agree with the methods and with isinstance."""
        assert is_ok(result) is result.is_ok() is isinstance(result, Ok)
        assert is_err(result) is result.is_err() is isinstance(result, Err)
        assert isinstance(result, OkErr)

    @given(values)
    def test_match_binds_the_inner_value(self, value: object) -> None:
        """match Ok(v) / Err(e) binds the wrapped value."""
        for result in (Ok(value), Err(value)):
            match result:
                case Ok(inner):
                    assert result.is_ok()
                case Err(inner):
                    assert result.is_err()
            assert inner is value

    @given(values)
    def test_match_by_keyword_binds_the_same_value(self, value: object) -> None:
        """Ok(ok_value=v) and Err(err_value=e) bind what the positional form binds."""
        for result in (Ok(value), Err(value)):
            match result:
                case Ok(ok_value=inner):
                    assert result.is_ok()
                case Err(err_value=inner):
                    assert result.is_err()
            assert inner is value
        assert Ok.__match_args__ == Err.__match_args__ == ("_value",)


class TestAsResult:
    """as_result and as_async_result."""

    def test_return_becomes_ok_and_listed_exception_becomes_err(self) -> None:
        """Returned values become Ok, listed exceptions become Err."""

        @as_result(ValueError, KeyError)
        def lookup(key: str) -> int:
            return {"one": 1}[key] if key != "bad" else int(key)

        assert lookup("one") == Ok(1)
        assert isinstance(lookup("two").err(), KeyError)
        assert isinstance(lookup("bad").err(), ValueError)

    def test_other_exceptions_propagate(self) -> None:
        """Exceptions that were not listed are not turned into Err."""

        @as_result(ValueError)
        def explode() -> int:
            raise RuntimeError

        with pytest.raises(RuntimeError):
            explode()

    def test_wraps_keeps_name_and_docstring(self) -> None:
        """The wrapper looks like the wrapped function."""

        @as_result(ValueError)
        def parse(text: str) -> int:
            """Parse a number."""
            return int(text)

        assert parse.__name__ == "parse"
        assert parse.__doc__ == "Parse a number."

    def test_async(self) -> None:
        """as_async_result does the same for coroutine functions."""

        @as_async_result(ValueError)
        async def parse(text: str) -> int:
            return int(text)

        assert asyncio.run(parse("3")) == Ok(3)
        assert isinstance(asyncio.run(parse("x")).err(), ValueError)

    def test_async_gives_a_coroutine_function(self) -> None:
        """What as_async_result returns is a coroutine function, as it is typed."""

        @as_async_result(ValueError)
        async def parse(text: str) -> int:
            return int(text)

        async def main() -> list[Result[int, ValueError]]:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(parse("1")), asyncio.create_task(parse("2"))]
            return [task.result() for task in tasks]

        assert inspect.iscoroutinefunction(parse)
        assert asyncio.run(main()) == [Ok(1), Ok(2)]

    @pytest.mark.parametrize("decorator", [as_result, as_async_result])
    def test_no_exception_types_is_rejected_at_decoration(
        self, decorator: Callable[..., object]
    ) -> None:
        """Calling the factory with nothing to catch is a TypeError right away."""
        with pytest.raises(TypeError, match=r"e\.g\. @as_\w+\(ValueError\)"):
            decorator()

    @pytest.mark.parametrize("decorator", [as_result, as_async_result])
    @pytest.mark.parametrize("arguments", [(), ("not an exception type",)])
    def test_messages_keep_the_wording_of_result(
        self, decorator: Callable[..., object], arguments: tuple[object, ...]
    ) -> None:
        """Both rejections say result 0.17's words, which its users' tests match."""
        with pytest.raises(TypeError, match="requires one or more exception types"):
            decorator(*arguments)

    @pytest.mark.parametrize("decorator", [as_result, as_async_result])
    @pytest.mark.parametrize(
        ("argument", "shown"),
        [
            ("ValueError", "'ValueError'"),
            (ValueError("x"), "ValueError('x')"),
            (int, "<class 'int'>"),
        ],
    )
    def test_non_exception_type_is_named(
        self, decorator: Callable[..., object], argument: object, shown: str
    ) -> None:
        """A bad argument is named, with its position, at decoration time."""
        with pytest.raises(TypeError, match="argument 2 is") as info:
            decorator(KeyError, argument)
        assert shown in str(info.value)

    def test_a_class_gets_no_parentheses_hint(self) -> None:
        """as_result(int) names int but does not suggest missing parentheses."""
        with pytest.raises(TypeError, match="<class 'int'>") as info:
            as_result(int)  # type: ignore[type-var]
        assert "did you write" not in str(info.value)

    def test_bare_decorator_gets_a_hint(self) -> None:
        """@as_result without parentheses points at the missing exception types."""

        def parse(text: str) -> int:
            return int(text)  # pragma: no cover - never called

        with pytest.raises(TypeError, match=r"did you write @as_result instead"):
            as_result(parse)  # type: ignore[arg-type]


def _price(sku: str) -> Result[int, str]:
    return Ok(4) if sku == "tea" else Err(f"unknown {sku}")


class TestDo:
    """do and do_async."""

    def test_all_ok(self) -> None:
        """With every step Ok, the final expression is returned."""
        result: Result[int, str] = do(
            Ok(a + b) for a in _price("tea") for b in _price("tea")
        )
        assert result == Ok(8)

    def test_first_err_wins_and_later_steps_do_not_run(self) -> None:
        """The first Err is returned; later steps are never evaluated."""
        calls: list[str] = []

        def price(sku: str) -> Result[int, str]:
            calls.append(sku)
            return _price(sku)

        result: Result[int, str] = do(
            Ok(a + b + c)
            for a in price("cake")
            for b in price("tea")
            for c in price("pie")
        )
        assert result == Err("unknown cake")
        assert calls == ["cake"]

    def test_async_generator_gets_a_clear_error(self) -> None:
        """Passing an async generator to do() says to use do_async()."""

        async def stock() -> Result[int, str]:
            return Ok(1)  # pragma: no cover - the generator is never advanced

        async def main() -> None:
            gen: Any = (Ok(a + b) for a in await stock() for b in await stock())
            with pytest.raises(TypeError, match=r"do_async") as raised:
                do(gen)
            await gen.aclose()
            # result's own sentence, which its users' tests match whole.
            assert (
                "Got async_generator but expected generator.See the section on do "
                "notation in the README."
            ) in str(raised.value)

        asyncio.run(main())

    def test_an_async_generator_is_known_by_its_type(self) -> None:
        """A TypeError that only reads like an async generator's is not rewritten."""

        def lookalike() -> Generator[Result[int, str], None, None]:
            raise TypeError("'async_generator' object is not an iterator")
            yield Ok(1)  # pragma: no cover - makes this a generator

        with pytest.raises(TypeError) as raised:
            do(lookalike())
        assert "do_async" not in str(raised.value)

    def test_other_type_errors_propagate(self) -> None:
        """A TypeError from the user's own expression is not rewritten."""
        with pytest.raises(TypeError, match="unsupported operand"):
            do(Ok(a + "x") for a in Ok(1))  # type: ignore[operator]

    def test_do_async_with_async_and_sync_generators(self) -> None:
        """do_async accepts both kinds of generator."""

        async def stock(sku: str) -> Result[int, str]:
            return _price(sku)

        async def main() -> list[Result[int, str]]:
            async_gen: AsyncGenerator[Result[int, str], None] = (
                Ok(a + b) for a in await stock("tea") for b in await stock("tea")
            )
            failing: AsyncGenerator[Result[int, str], None] = (
                Ok(a + b) for a in await stock("tea") for b in await stock("cake")
            )
            return [
                await do_async(async_gen),
                await do_async(failing),
                await do_async(Ok(a) for a in _price("tea")),
            ]

        assert asyncio.run(main()) == [Ok(8), Err("unknown cake"), Ok(4)]


class TestCollectAndPartition:
    """collect and partition."""

    @given(st.lists(int_results))
    def test_collect_is_ok_of_all_values_or_first_err(
        self, items: list[Result[int, str]]
    ) -> None:
        """collect returns every value, or exactly the first Err."""
        errors = [item for item in items if item.is_err()]
        expected = errors[0] if errors else Ok([item.unwrap() for item in items])
        assert collect(items) == expected

    def test_collect_stops_at_the_first_err(self) -> None:
        """collect does not consume the iterable past the first Err."""
        consumed: list[int] = []

        def produce() -> Iterator[Result[int, str]]:
            for n in range(5):
                consumed.append(n)
                yield Ok(n) if n != 1 else Err("stop")

        assert collect(produce()) == Err("stop")
        assert consumed == [0, 1]

    @given(st.lists(int_results))
    def test_partition_keeps_order_and_loses_nothing(
        self, items: list[Result[int, str]]
    ) -> None:
        """partition splits values and errors, each in their original order."""
        oks, errs = partition(items)
        assert oks == [item.ok_value for item in items if isinstance(item, Ok)]
        assert errs == [item.err_value for item in items if isinstance(item, Err)]
        assert len(oks) + len(errs) == len(items)

    @pytest.mark.parametrize("function", [collect, partition])
    def test_non_result_item_is_named(self, function: Callable[..., object]) -> None:
        """An item that is neither Ok nor Err is named with its position."""
        with pytest.raises(TypeError, match=r"item 1 is 3 \(of type int\)"):
            function([Ok(1), 3])

    @pytest.mark.parametrize(
        ("function", "items"),
        [
            (collect, [Ok(1), Ok(2), Ok(3), "four"]),
            (partition, [Ok(1), Err("a"), Ok(2), "four"]),
            (partition, [Err("a"), Err("b"), Err("c"), "four"]),
        ],
    )
    def test_non_result_position_counts_every_item_before(
        self, function: Callable[..., object], items: list[object]
    ) -> None:
        """The position named is the item's own, whatever the items before it were."""
        with pytest.raises(TypeError, match=r"item 3 is 'four' \(of type str\)"):
            function(iter(items))


def _positive(name: str, value: int) -> Result[int, ErrorDetail]:
    return (
        Ok(value)
        if value > 0
        else Err(ErrorDetail(name, "greater_than", params={"count": 0}))
    )


class TestAccumulate:
    """accumulate: every check runs and every error is reported."""

    def test_all_ok_gives_the_values_in_order(self) -> None:
        """With every result Ok, the values come back as a tuple, in order."""
        assert accumulate(Ok(1), Ok("a"), Ok(None)) == Ok((1, "a", None))
        assert accumulate() == Ok(())

    def test_every_error_is_merged_in_order(self) -> None:
        """Errors and single details from every Err are merged, in order."""
        nested = Errors([ErrorDetail("zip", "blank"), ErrorDetail("city", "blank")])
        result = accumulate(
            _positive("quantity", 0), Ok(3), Err(nested), _positive("price", -1)
        )
        assert result == Err(
            Errors(
                [
                    ErrorDetail("quantity", "greater_than", params={"count": 0}),
                    ErrorDetail("zip", "blank"),
                    ErrorDetail("city", "blank"),
                    ErrorDetail("price", "greater_than", params={"count": 0}),
                ]
            )
        )

    def test_prefixes_put_each_result_under_its_path(self) -> None:
        """Each result's errors go under its own prefix; None means none."""
        address = Errors([ErrorDetail("zip", "blank")])
        result = accumulate(
            Err(address),
            Err(ErrorDetail(None, "blank")),
            Err(ErrorDetail("x", "blank")),
            prefixes=["shipping", "name", None],
        )
        assert result.map_err(Errors.paths) == Err(
            [("shipping", "zip"), ("name",), ("x",)]
        )

    def test_duplicates_are_dropped(self) -> None:
        """The same error from two results is reported once."""
        same = ErrorDetail("a", "blank")
        assert accumulate(Err(same), Err(same)) == Err(Errors([same]))

    def test_an_empty_errors_still_fails(self) -> None:
        """An Err is a failure even when its collection is empty."""
        assert accumulate(Ok(1), Err(Errors())) == Err(Errors())

    @given(st.lists(st.integers(min_value=-3, max_value=3), max_size=8))
    def test_agrees_with_collect_and_partition(self, numbers: list[int]) -> None:
        """Ok exactly when collect is Ok; the errors are partition's, merged."""
        results = [_positive(f"n{i}", n) for i, n in enumerate(numbers)]
        combined = accumulate(*results)
        match collect(results):
            case Ok(values):
                assert combined == Ok(tuple(values))
            case Err(_):
                assert combined == Err(Errors(partition(results)[1]))

    def test_wrong_number_of_prefixes(self) -> None:
        """prefixes must give one path per result."""
        with pytest.raises(ValueError, match="got 2 results but 1 prefixes"):
            accumulate(Ok(1), Ok(2), prefixes=["a"])

    def test_err_of_something_else_is_named(self) -> None:
        """An Err that holds neither Errors nor ErrorDetail is named, with a fix."""
        with pytest.raises(TypeError, match=r"argument 1 is Err\('bad'\).*map_err"):
            accumulate(Ok(1), Err("bad"))  # type: ignore[arg-type]

    def test_non_result_is_named(self) -> None:
        """A plain value among the results is named."""
        with pytest.raises(TypeError, match=r"item 0 is 5 \(of type int\)"):
            accumulate(5)  # type: ignore[call-overload]


class TestPublicFace:
    """What `import outcome` offers."""

    def test_all_is_sorted_and_complete(self) -> None:
        """__all__ is sorted and lists every public name the package defines."""
        public = {
            name
            for name, value in vars(outcome).items()
            if not name.startswith("_") and not inspect.ismodule(value)
        }
        assert outcome.__all__ == sorted(outcome.__all__)
        assert set(outcome.__all__) == public

    @pytest.mark.parametrize(
        "name",
        [
            name
            for name in outcome.__all__
            if isinstance(getattr(outcome, name), type)
            or inspect.isfunction(getattr(outcome, name))
        ],
    )
    def test_public_objects_report_the_public_module(self, name: str) -> None:
        """Reprs, tracebacks and docs show outcome.X, not a private module."""
        assert getattr(outcome, name).__module__ == "outcome"

    def test_version_comes_from_the_distribution(self) -> None:
        """__version__ is the installed distribution's version."""
        from importlib.metadata import version  # noqa: PLC0415

        assert outcome.__version__ == version("outcome-kit")

    def test_module_has_no_getattr(self) -> None:
        """No module __getattr__: it would stop CPython specialising `outcome.Ok`."""
        assert "__getattr__" not in vars(outcome)
