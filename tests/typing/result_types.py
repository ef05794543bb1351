"""
Type-level tests of the Result core, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, Never, NoReturn, assert_never, assert_type

from outcome import (
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


async def async_functions(r: Result[int, str]) -> None:
    assert_type(await map_async(r, double), Result[int, str])
    assert_type(await and_then_async(r, check), Result[int, str | KeyError])
    assert_type(await map_async(Ok(1), double), Result[int, Never])
    assert_type(await map_async(Err("x"), double), Result[int, str])
    assert_type(await and_then_async(Ok(1), check), Result[int, KeyError])
    await map_async(r, to_text)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def a_forgotten_await_is_reported_on_the_functions(r: Result[int, str]) -> None:
    map_async(r, double)  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    and_then_async(r, check)  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    # On the bare variants the methods are reported too...
    Ok(1).map_async(double)  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    Err("x").map_async(double)  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    # ...but on a union the two variants return two coroutine types, and neither
    # checker reports the statement: what the docs say, and why the functions exist.
    r.map_async(double)


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


@dataclass(frozen=True)
class Order:
    """What a lambda builds by unpacking a tuple."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Line:
    """What a comprehension in a lambda reads from."""

    sku: str


def sku(text: str) -> Result[str, ErrorDetail]:
    return Ok(text)


def quantity(text: str) -> Result[int, ErrorDetail]:
    return Ok(int(text))


def lambdas_may_iterate_and_unpack_their_argument(
    lines: list[Result[Line, str]], pair: Result[tuple[str, int], str]
) -> None:
    # The ignored side takes Callable[[Any], object], so a lambda's body also
    # checks there: with Never, pyright says "Never is not iterable" and mypy
    # wants an annotation for a comprehension's variable.
    order = accumulate(sku("tea"), quantity("2")).map(lambda t: Order(*t))
    assert_type(order, Ok[Order] | Err[Errors])
    skus = collect(lines).map(lambda xs: [x.sku for x in xs])
    assert_type(skus, Ok[list[str]] | Err[str])
    assert_type(pair.map(lambda t: Order(*t)), Ok[Order] | Err[str])
    assert_type(
        pair.map_err(lambda e: [c.upper() for c in e]),
        Ok[tuple[str, int]] | Err[list[str]],
    )
    assert_type(pair.map_or(0, lambda t: len([*t])), int)
    assert_type(pair.is_ok_and(lambda t: all(t)), bool)
    assert_type(pair.is_err_and(lambda e: any(c for c in e)), bool)
    assert_type(pair.unwrap_or_else(lambda e: (e, len(e))), tuple[str, int])
    _ordered: Result[Order, str] = pair.and_then(lambda t: Ok(Order(*t)))
    _recovered: Result[tuple[str, int], int] = pair.or_else(lambda e: Err(len([*e])))
    pair.inspect(lambda t: [*t]).inspect_err(lambda e: [*e])
    # The lambda is still checked against the side that calls it.
    pair.map(lambda t: t.upper())  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    pair.map_err(lambda e: e + 1)  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


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


def match_by_keyword_is_exhaustive() -> str:
    r = get()
    match r:
        case Ok(ok_value=value):
            assert_type(value, int)
            return str(value)
        case Err(err_value=error):
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


async def async_decorator_makes_a_coroutine_function() -> None:
    # A coroutine, not just an awaitable, so asyncio accepts it everywhere.
    result = await assert_type(
        fetch("u"), Coroutine[Any, Any, Result[bytes, TimeoutError]]
    )
    assert_type(result, Result[bytes, TimeoutError])
    assert_type(asyncio.run(fetch("u")), Result[bytes, TimeoutError])
    task = asyncio.create_task(fetch("u"))
    assert_type(task, asyncio.Task[Result[bytes, TimeoutError]])
    async with asyncio.TaskGroup() as group:
        grouped = group.create_task(fetch("u"))
    assert_type(grouped.result(), Result[bytes, TimeoutError])
    fetch(1)  # type: ignore[arg-type, unused-coroutine]  # pyright: ignore[reportArgumentType, reportUnusedCoroutine]


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


def collections_of_one_variant_need_no_annotation() -> None:
    # The side no item has is Never, as for the callbacks of and_then.
    everything = collect([Ok(1), Ok(2)])
    assert_type(everything, Ok[list[int]] | Err[Never])
    _usable: Result[list[int], str] = everything
    values, errors = partition([Ok(1), Ok(2)])
    assert_type(values, list[int])
    assert_type(errors, list[Never])
    assert_type(collect([Err("x")]), Ok[list[Never]] | Err[str])
    assert_type(partition(Err(n) for n in range(3)), tuple[list[Never], list[int]])
    # mypy joins a list display of Ok[int] and Err[str] to list[object]; pyright
    # infers it. The docs say to annotate such a list for mypy.
    assert_type(collect([Ok(1), Err("x")]), Result[list[int], str])  # type: ignore[arg-type, assert-type]


def unwrap_error(exc: UnwrapError) -> None:
    assert_type(exc.result, Result[object, object])


def predicates_take_the_value_type(r: Result[int, str]) -> None:
    r.is_ok_and(str.isdigit)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
