"""
Type-level tests of the Result core, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from typing import Literal, NoReturn, assert_never, assert_type

from outcome import (
    Err,
    Ok,
    OkErr,
    Result,
    UnwrapError,
    as_async_result,
    as_result,
    collect,
    do,
    do_async,
    is_err,
    is_ok,
    partition,
)


def get() -> Result[int, str]:
    return Ok(1)


def to_text(n: int) -> str:
    return str(n)


def halve(n: int) -> Result[float, ValueError]:
    return Ok(n / 2)


def halve_text(text: str) -> Result[float, ValueError]:
    return Ok(len(text) / 2)


async def double(n: int) -> int:
    return n * 2


async def check(n: int) -> Result[int, KeyError]:
    return Ok(n)


def constructors() -> None:
    assert_type(Ok(1), Ok[int])
    assert_type(Err("x"), Err[str])
    assert_type(get(), Result[int, str])
    assert_type(OkErr, tuple[type[Ok[object]], type[Err[object]]])


def widen(narrow: Result[bool, KeyError]) -> Result[int, LookupError]:
    # Covariant: a Result of subtypes is a Result of their supertypes.
    return narrow


def invariance_would_be_wrong(wide: Result[int, LookupError]) -> None:
    _narrow: Result[bool, KeyError] = wide  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def ok_methods() -> None:
    r = Ok(1)
    assert_type(r.ok_value, int)
    assert_type(r.is_ok(), Literal[True])
    assert_type(r.is_err(), Literal[False])
    assert_type(r.is_ok_and(lambda n: n > 0), bool)
    assert_type(r.is_err_and(lambda e: e == "x"), Literal[False])
    assert_type(r.ok(), int)
    assert_type(r.err(), None)
    assert_type(r.expect("m"), int)
    assert_type(r.unwrap(), int)
    assert_type(r.unwrap_or("default"), int)
    assert_type(r.unwrap_or_else(len), int)
    assert_type(r.unwrap_or_raise(ValueError), int)
    assert_type(r.map(to_text), Ok[str])
    assert_type(r.map_or(0.5, to_text), str)
    assert_type(r.map_or_else(lambda: 0.5, to_text), str)
    assert_type(r.map_err(to_text), Ok[int])
    assert_type(r.and_then(halve), Ok[float] | Err[ValueError])
    assert_type(r.or_else(to_text), Ok[int])
    assert_type(r.inspect(print), Ok[int])
    assert_type(r.inspect_err(print), Ok[int])


def ok_methods_that_never_return() -> None:
    assert_type(Ok(1).unwrap_err(), NoReturn)


def ok_expect_err_never_returns() -> None:
    assert_type(Ok(1).expect_err("m"), NoReturn)


def err_methods() -> None:
    r = Err("bad")
    assert_type(r.err_value, str)
    assert_type(r.is_ok(), Literal[False])
    assert_type(r.is_err(), Literal[True])
    assert_type(r.is_ok_and(lambda v: v > 0), Literal[False])
    assert_type(r.is_err_and(lambda e: e == "bad"), bool)
    assert_type(r.ok(), None)
    assert_type(r.err(), str)
    assert_type(r.expect_err("m"), str)
    assert_type(r.unwrap_err(), str)
    assert_type(r.unwrap_or(0), int)
    assert_type(r.unwrap_or_else(len), int)
    assert_type(r.map(to_text), Err[str])
    assert_type(r.map_or(0, to_text), int)
    assert_type(r.map_or_else(lambda: 0, to_text), int)
    assert_type(r.map_err(len), Err[int])
    assert_type(r.and_then(halve), Err[str])
    assert_type(r.or_else(halve_text), Ok[float] | Err[ValueError])
    assert_type(r.inspect(print), Err[str])
    assert_type(r.inspect_err(print), Err[str])


def err_methods_that_never_return() -> None:
    assert_type(Err("x").unwrap(), NoReturn)


def err_expect_never_returns() -> None:
    assert_type(Err("x").expect("m"), NoReturn)


def err_unwrap_or_raise_never_returns() -> None:
    assert_type(Err("x").unwrap_or_raise(ValueError), NoReturn)


async def async_methods(r: Result[int, str]) -> None:
    assert_type(await Ok(1).map_async(double), Ok[int])
    assert_type(await Ok(1).and_then_async(check), Ok[int] | Err[KeyError])
    assert_type(await Err("x").map_async(double), Err[str])
    assert_type(await Err("x").and_then_async(check), Err[str])
    assert_type(await r.map_async(double), Ok[int] | Err[str])
    assert_type(await r.and_then_async(check), Ok[int] | Err[KeyError] | Err[str])
    await r.map_async(to_text)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def lambdas_get_the_value_type(r: Result[int, str]) -> None:
    # Under pyright strict, a lambda needs a known parameter type on both variants.
    assert_type(r.map(lambda n: n + 1), Ok[int] | Err[str])
    assert_type(r.map_err(lambda e: e.upper()), Ok[int] | Err[str])
    # pyright keeps `Err[Never] | Err[str]` unsimplified, so check by assignment.
    _doubled: Result[int, str] = r.and_then(lambda n: Ok(n * 2))
    _measured: Result[int, int] = r.or_else(lambda e: Err(len(e)))
    assert_type(r.is_ok_and(lambda n: n > 0), bool)
    assert_type(r.is_err_and(lambda e: e == ""), bool)
    r.inspect(lambda n: n + 1).inspect_err(lambda e: e.upper())
    assert_type(r.unwrap_or_else(lambda e: len(e)), int)
    assert_type(r.map_or_else(lambda: "none", lambda n: str(n)), str)


def callbacks_must_be_callable(r: Result[int, str]) -> None:
    r.map(42)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    r.map_err("upper")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    r.unwrap_or_raise("ValueError")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def union_methods() -> None:
    r = get()
    assert_type(r.map(to_text), Ok[str] | Err[str])
    assert_type(r.map_err(len), Ok[int] | Err[int])
    assert_type(r.and_then(halve), Ok[float] | Err[ValueError] | Err[str])
    assert_type(r.unwrap_or(0), int)
    assert_type(r.unwrap_or_else(len), int)
    assert_type(r.map_or("none", to_text), str)
    assert_type(r.ok(), int | None)
    assert_type(r.err(), str | None)
    assert_type(r.unwrap(), int)
    assert_type(r.unwrap_err(), str)
    assert_type(r.expect("m"), int)


def chains_keep_their_types() -> None:
    r = get().map(to_text).map(len).and_then(halve).map_err(str)
    assert_type(r, Ok[float] | Err[str])


def narrowing_with_isinstance() -> None:
    r = get()
    if isinstance(r, Ok):
        assert_type(r, Ok[int])
        assert_type(r.ok_value, int)
    else:
        assert_type(r, Err[str])
        assert_type(r.err_value, str)


def narrowing_with_is_ok() -> None:
    r = get()
    if is_ok(r):
        assert_type(r, Ok[int])
    else:
        assert_type(r, Err[str])


def narrowing_with_is_err() -> None:
    r = get()
    if is_err(r):
        assert_type(r, Err[str])
    else:
        assert_type(r, Ok[int])


def the_is_ok_method_does_not_narrow() -> None:
    # Neither mypy nor pyright narrows on a method call, whatever it returns, so
    # `r.is_ok()` in an `if` leaves the union as it is. Narrow with is_ok(r),
    # isinstance or match; the docs say so.
    r = get()
    assert_type(r.is_ok(), bool)
    if r.is_ok():
        assert_type(r, Ok[int] | Err[str])
        r.ok_value  # type: ignore[union-attr]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    if r.is_err():
        assert_type(r, Ok[int] | Err[str])


def narrowing_with_is_ok_then_reading_the_value() -> int:
    r = get()
    if is_ok(r):
        return r.ok_value
    return len(r.err_value)


def match_is_exhaustive() -> str:
    r = get()
    match r:
        case Ok(value):
            assert_type(value, int)
            return str(value)
        case Err(error):
            assert_type(error, str)
            return error
        case _:
            assert_never(r)


def match_on_ok_alone_is_not_exhaustive() -> str:
    r = get()
    match r:
        case Ok(value):
            return str(value)
        case _:
            assert_never(r)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def negative_cases() -> None:
    r = get()
    # The value of an un-narrowed Result is not known to exist.
    r.ok_value  # type: ignore[union-attr]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    r.err_value  # type: ignore[union-attr]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    # A function of the wrong type cannot be mapped or chained.
    r.map(len)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    r.and_then(to_text)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    r.map_err(to_text)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Results are immutable.
    Ok(1).ok_value = 2  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    # An Err is not an Ok.
    _wrong: Ok[int] = Err(1)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # as_result wants exception types.
    as_result(int)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]


def a_result_is_not_a_condition(r: Result[int, str]) -> None:
    # `__bool__` returns NoReturn, so `if service.commit():` is caught statically:
    # pyright rejects the condition and mypy finds the branch unreachable.
    if r:  # pyright: ignore[reportGeneralTypeIssues]
        get()  # type: ignore[unreachable]


def deprecated_value() -> None:
    # Kept for code written against `result`; both checkers see the deprecation.
    assert_type(Ok(1).value, int)  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    assert_type(Err("x").value, str)  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]


@as_result(ValueError)
def parse(text: str, base: int = 10) -> int:
    return int(text, base)


@as_result(ValueError, KeyError)
def lookup(key: str) -> int:
    return {"one": 1}[key]


@as_async_result(TimeoutError)
async def fetch(url: str) -> bytes:
    return url.encode()


def decorators() -> None:
    assert_type(parse("1"), Ok[int] | Err[ValueError])
    assert_type(parse("1", base=2), Result[int, ValueError])
    parse(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    parse("1", radix=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # With several exception types, pyright infers their union and mypy their
    # common base class; both are a Result[int, Exception].
    _either: Result[int, Exception] = lookup("one")
    assert_type(fetch("u"), Awaitable[Result[bytes, TimeoutError]])


def do_notation() -> Result[int, str]:
    # As with `result`, the checkers need the target type to infer the error type.
    r: Result[int, str] = do(Ok(a + b) for a in get() for b in get())
    return r


def do_notation_checks_the_target_type() -> None:
    _r: Result[str, str] = do(Ok(a + b) for a in get() for b in get())  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType, reportUnknownVariableType]


async def async_do_notation(gen: AsyncGenerator[Result[int, str], None]) -> None:
    assert_type(await do_async(gen), Result[int, str])


def collections(items: list[Result[int, str]]) -> None:
    assert_type(collect(items), Result[list[int], str])
    assert_type(partition(items), tuple[list[int], list[str]])


def unwrap_error(exc: UnwrapError) -> None:
    assert_type(exc.result, Result[object, object])


def predicates_take_the_value_type(r: Result[int, str]) -> None:
    r.is_ok_and(str.isdigit)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
