"""The Result core: `Ok`, `Err`, and the functions that build and combine them."""

from __future__ import annotations

import functools
import inspect
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from operator import attrgetter
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    Never,
    NoReturn,
    Self,
    TypeAlias,
    cast,
    final,
)

from typing_extensions import ParamSpec, TypeIs, TypeVar, deprecated

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

T_co = TypeVar("T_co", covariant=True)
E_co = TypeVar("E_co", covariant=True)
T = TypeVar("T")
E = TypeVar("E")
# A callback that only ever returns Ok (or only Err) leaves the other side unsolved,
# as does `collect([Ok(1), Ok(2)])`; defaulting it to Never keeps the type fully
# known under pyright and mypy alike.
U = TypeVar("U", default=Never)
F = TypeVar("F", default=Never)
G = TypeVar("G", default=Never)
# The callback a variant ignores is typed `Callable[[Any], object]`. On a Result
# union, each checker checks a lambda against both variants' signatures; `Any`
# accepts every one-argument callable, as `Never` would, but also lets the lambda's
# body type-check on the ignored side: with `Never`, `lambda t: Order(*t)` is
# "Never is not iterable" to pyright and `[x for x in xs]` needs an annotation
# under mypy. The Any never reaches a result type, since the method returns Self.
R = TypeVar("R")
P = ParamSpec("P")
TBE = TypeVar("TBE", bound=BaseException)


class _SlotProperty(property):
    """
    A read-only property of the ``_value`` slot, read by C code.

    `getter` is what it returns, written in Python for the type checkers, the
    docs and `help()`, which find it as ``fget``; reading the attribute runs
    ``operator.attrgetter("_value")``, which returns the same, with no frame.
    """

    # Where Ok and Err are published (outcome/__init__.py moves them, and their
    # methods, there): doctest collects a property's example only from there.
    __module__ = "outcome"

    def __init__(self, getter: Callable[[Any], object]) -> None:
        super().__init__(attrgetter("_value"))
        self.__doc__ = getter.__doc__  # the class's own would shadow it
        self._getter = getter

    # typeshed has property.fget writable, which it is not.
    @property
    def fget(self) -> Callable[[Any], object]:  # type: ignore[override]  # pyright: ignore[reportIncompatibleVariableOverride]
        """The getter as written; reading the attribute calls the C one."""
        return self._getter


def _slot_property(getter: Callable[[Any], object]) -> _SlotProperty:
    """Make `getter`, which returns ``self._value``, a `_SlotProperty`."""
    return _SlotProperty(getter)


def _not_a_bool(result: object) -> TypeError:
    return TypeError(
        f"{result!r} is a Result, not a bool: check which it is with `match` "
        "(case Ok(value): ... case Err(error): ...) or with is_ok(result) / "
        "is_err(result), which type checkers narrow on"
    )


def _no_subclass(name: str) -> TypeError:
    return TypeError(
        f"{name} is final and cannot be subclassed; wrap it in a class of your own "
        "or return it from a function instead"
    )


@final
class Ok(Generic[T_co]):
    """
    The success case of a `Result`, holding the value the call produced.

    `Ok` is immutable: its attributes are read-only and it has no ``__dict__``.
    It compares and hashes by value, pickles, and its ``repr`` evaluates back.
    Its ``str`` shows the ``str`` of the value, since that is the text that may
    reach a user: an `Errors` or `ErrorDetail` inside shows its public messages,
    never a programmer error's text, which its ``repr`` (for logs) shows.

    >>> result = Ok(3)
    >>> result.is_ok(), result.ok_value
    (True, 3)
    >>> match result:
    ...     case Ok(value):
    ...         print(f"got {value}")
    ...     case Err(error):
    ...         print(f"failed: {error}")
    got 3

    .. versionadded:: 0.1.0
    """

    if TYPE_CHECKING:
        __match_args__ = ("ok_value",)
    else:
        # `case Ok(x)` reads the slot itself, as fast as a slots class's match;
        # type checkers see ok_value, the same value.
        __match_args__ = ("_value",)
    __slots__ = ("_value",)

    def __init__(self, value: T_co) -> None:
        self._value = value

    def __init_subclass__(cls) -> NoReturn:
        raise _no_subclass("Ok")

    def __repr__(self) -> str:
        return f"Ok({self._value!r})"

    def __str__(self) -> str:
        # What may reach a user: the value's own str(), which redacts for Errors
        # and ErrorDetail. Without this, str() would fall back to the exact repr.
        return f"Ok({self._value!s})"

    def __eq__(self, other: object) -> bool:
        # The identity test makes `Ok(x) == Ok(x)` hold for every x, NaN included,
        # as it does for the items of a tuple.
        if type(other) is not Ok:
            return False
        theirs = cast("Ok[object]", other)
        return self._value is theirs._value or self._value == theirs._value

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((True, self._value))

    def __bool__(self) -> NoReturn:
        raise _not_a_bool(self)

    def __reduce__(self) -> tuple[type[Ok[T_co]], tuple[T_co]]:
        return (Ok, (self._value,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: object, handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        """
        Let pydantic, and so FastAPI, validate and serialise an `Ok` field.

        An ``Ok[T]`` is the object ``{"ok": value}``, the value validated and
        serialised as a ``T``, and an ``Err[E]`` is ``{"err": error}``: a
        ``Result[T, E]`` field holds one or the other, told apart by its one
        key, as Rust's serde writes an enum. It validates from an `Ok` (its
        value validated again) or from that object, with no other key, and
        serialises to it in JSON and Python mode alike. pydantic is imported
        here, when a model first uses `Ok`, never by ``import outcome``.

        >>> from pydantic import TypeAdapter
        >>> adapter = TypeAdapter(Result[int, str])
        >>> adapter.dump_json(Ok(3)), adapter.dump_json(Err("sold out"))
        (b'{"ok":3}', b'{"err":"sold out"}')
        >>> adapter.validate_json('{"ok": "3"}')
        Ok(3)

        .. versionadded:: 0.1.0
        """
        return _tagged_schema(Ok, "ok", source, handler)

    def __iter__(self) -> Iterator[T_co]:
        yield self._value

    if TYPE_CHECKING:

        @property
        def ok_value(self) -> T_co:
            """The success value."""
            return self._value

    else:
        # `match` reads ok_value by its name in __match_args__: a getter in C
        # spares every match, and every read, a call of this function.

        @_slot_property
        def ok_value(self) -> T_co:
            """
            The success value.

            >>> Ok("done").ok_value
            'done'
            """
            return self._value

    @property
    @deprecated("Use `.ok_value` or `.err_value` instead of `.value`")
    def value(self) -> T_co:
        """
        The success value (deprecated, kept for code written against ``result``).

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     Ok(1).value
        1
        """
        return self._value

    def is_ok(self) -> Literal[True]:
        """
        Return `True`: this is an `Ok`.

        >>> Ok(1).is_ok()
        True
        """
        return True

    def is_err(self) -> Literal[False]:
        """
        Return `False`: this is not an `Err`.

        >>> Ok(1).is_err()
        False
        """
        return False

    def is_ok_and(self, predicate: Callable[[T_co], bool]) -> bool:
        """
        Return whether the value satisfies `predicate`.

        >>> Ok(2).is_ok_and(lambda n: n > 1)
        True
        """
        return predicate(self._value)

    def is_err_and(self, predicate: Callable[[Any], object]) -> Literal[False]:  # noqa: ARG002
        """
        Return `False` without calling `predicate`: this is not an `Err`.

        >>> Ok(2).is_err_and(lambda error: True)
        False
        """
        return False

    def ok(self) -> T_co:
        """
        Return the success value.

        >>> Ok(1).ok()
        1
        """
        return self._value

    def err(self) -> None:
        """
        Return `None`: there is no error.

        >>> Ok(1).err() is None
        True
        """

    def expect(self, message: str) -> T_co:  # noqa: ARG002
        """
        Return the success value; `message` is used only by `Err.expect`.

        >>> Ok(1).expect("a cart total")
        1
        """
        return self._value

    def expect_err(self, message: str) -> NoReturn:
        """
        Raise `UnwrapError` with `message`: there is no error to return.

        The message ends with ``str()`` of this `Ok` (see `Err.unwrap`).

        >>> Ok(1).expect_err("should have failed")
        Traceback (most recent call last):
        ...
        outcome.UnwrapError: should have failed: Ok(1)
        """
        raise UnwrapError(self, f"{message}: {self}")

    def unwrap(self) -> T_co:
        """
        Return the success value.

        >>> Ok(1).unwrap()
        1
        """
        return self._value

    def unwrap_err(self) -> NoReturn:
        """
        Raise `UnwrapError`: there is no error to return.

        >>> Ok(1).unwrap_err()
        Traceback (most recent call last):
        ...
        outcome.UnwrapError: Called `Result.unwrap_err()` on an `Ok` value: Ok(1)
        """
        raise UnwrapError(
            self, f"Called `Result.unwrap_err()` on an `Ok` value: {self}"
        )

    def unwrap_or(self, default: object) -> T_co:  # noqa: ARG002
        """
        Return the success value and ignore `default`.

        >>> Ok(1).unwrap_or(0)
        1
        """
        return self._value

    def unwrap_or_else(self, op: Callable[[Any], object]) -> T_co:  # noqa: ARG002
        """
        Return the success value without calling `op`.

        >>> Ok(1).unwrap_or_else(len)
        1
        """
        return self._value

    def unwrap_or_raise(self, e: type[BaseException]) -> T_co:  # noqa: ARG002
        """
        Return the success value; the exception type `e` is raised only by `Err`.

        >>> Ok(1).unwrap_or_raise(ValueError)
        1
        """
        return self._value

    def map(self, op: Callable[[T_co], U]) -> Ok[U]:
        """
        Apply `op` to the value and wrap what it returns in `Ok`.

        >>> Ok(2).map(lambda n: n * 10)
        Ok(20)
        """
        return Ok(op(self._value))

    async def map_async(self, op: Callable[[T_co], Awaitable[U]]) -> Ok[U]:
        """
        Await `op` on the value and wrap what it returns in `Ok`.

        The call must be awaited. On a `Result` that has not been narrowed, a
        missing ``await`` is not reliably reported by mypy or pyright, because
        the two variants return different coroutine types; the function
        ``await map_async(result, op)`` does the same and is reported.

        >>> import asyncio
        >>> async def double(n: int) -> int:
        ...     return n * 2
        >>> asyncio.run(Ok(2).map_async(double))
        Ok(4)
        """
        return Ok(await op(self._value))

    def map_or(self, default: object, op: Callable[[T_co], U]) -> U:  # noqa: ARG002
        """
        Return `op` applied to the value; `default` is used only by `Err`.

        >>> Ok(2).map_or(0, lambda n: n + 1)
        3
        """
        return op(self._value)

    def map_or_else(
        self,
        default_op: Callable[[], object],  # noqa: ARG002
        op: Callable[[T_co], U],
    ) -> U:
        """
        Return `op` applied to the value; `default_op` is called only by `Err`.

        >>> Ok(2).map_or_else(lambda: 0, lambda n: n + 1)
        3
        """
        return op(self._value)

    def map_err(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Ok` unchanged: there is no error to map.

        >>> Ok(1).map_err(str.upper)
        Ok(1)
        """
        return self

    def and_then(self, op: Callable[[T_co], Ok[U] | Err[F]]) -> Ok[U] | Err[F]:
        """
        Return the `Result` of `op` applied to the value (chain a fallible step).

        >>> def halve(n: int) -> Result[int, str]:
        ...     return Ok(n // 2) if n % 2 == 0 else Err(f"{n} is odd")
        >>> Ok(8).and_then(halve).and_then(halve)
        Ok(2)
        >>> Ok(6).and_then(halve).and_then(halve)
        Err('3 is odd')
        """
        return op(self._value)

    async def and_then_async(
        self, op: Callable[[T_co], Awaitable[Ok[U] | Err[F]]]
    ) -> Ok[U] | Err[F]:
        """
        Await the `Result` of `op` applied to the value.

        The call must be awaited. On a `Result` that has not been narrowed, a
        missing ``await`` is not reliably reported by mypy or pyright; the
        function ``await and_then_async(result, op)`` does the same and is.

        >>> import asyncio
        >>> async def check(n: int) -> Result[int, str]:
        ...     return Ok(n) if n > 0 else Err("not positive")
        >>> asyncio.run(Ok(5).and_then_async(check))
        Ok(5)
        """
        return await op(self._value)

    def or_else(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Ok` unchanged without calling `op`.

        >>> Ok(1).or_else(lambda error: Ok(0))
        Ok(1)
        """
        return self

    def inspect(self, op: Callable[[T_co], object]) -> Self:
        """
        Call `op` with the value (for logging, say) and return this `Ok`.

        >>> Ok(1).inspect(print)
        1
        Ok(1)
        """
        op(self._value)
        return self

    def inspect_err(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Ok` without calling `op`.

        >>> Ok(1).inspect_err(print)
        Ok(1)
        """
        return self


class _DoShortCircuit(Exception):  # noqa: N818 - control flow, never seen by users
    """Carries the first `Err` out of a `do` generator expression."""

    def __init__(self, err: Err[object]) -> None:
        super().__init__(err)
        self.err = err


@final
class Err(Generic[E_co]):
    """
    The failure case of a `Result`, holding the error the call returned.

    `Err` is immutable: its attributes are read-only and it has no ``__dict__``.
    It compares and hashes by value, pickles, and its ``repr`` evaluates back.
    Its ``str`` shows the ``str`` of the error, since that is the text that may
    reach a user: an `Errors` or `ErrorDetail` error shows its public messages,
    never a programmer error's text, which its ``repr`` (for logs) shows.

    >>> result = Err("card declined")
    >>> result.is_err(), result.err_value
    (True, 'card declined')
    >>> print(repr(result), str(result))
    Err('card declined') Err(card declined)
    >>> result.unwrap_or(0)
    0

    .. versionadded:: 0.1.0
    """

    if TYPE_CHECKING:
        __match_args__ = ("err_value",)
    else:
        __match_args__ = ("_value",)  # as Ok's: the slot, read directly
    __slots__ = ("_value",)

    def __init__(self, value: E_co) -> None:
        self._value = value

    def __init_subclass__(cls) -> NoReturn:
        raise _no_subclass("Err")

    def __repr__(self) -> str:
        return f"Err({self._value!r})"

    def __str__(self) -> str:
        # What may reach a user: the value's own str(), which redacts for Errors
        # and ErrorDetail. Without this, str() would fall back to the exact repr.
        return f"Err({self._value!s})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not Err:
            return False
        theirs = cast("Err[object]", other)
        return self._value is theirs._value or self._value == theirs._value

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((False, self._value))

    def __bool__(self) -> NoReturn:
        raise _not_a_bool(self)

    def __reduce__(self) -> tuple[type[Err[E_co]], tuple[E_co]]:
        return (Err, (self._value,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: object, handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        """
        Let pydantic, and so FastAPI, validate and serialise an `Err` field.

        ``Err[E]`` is the object ``{"err": error}``, as `Ok` says.

        >>> from pydantic import TypeAdapter
        >>> TypeAdapter(Err[str]).validate_python({"err": "sold out"})
        Err('sold out')

        .. versionadded:: 0.1.0
        """
        return _tagged_schema(Err, "err", source, handler)

    def __iter__(self) -> Iterator[NoReturn]:
        # A generator, so the short circuit happens when `do` advances it.
        yield self._short_circuit()

    def _short_circuit(self) -> NoReturn:
        raise _DoShortCircuit(self)

    if TYPE_CHECKING:

        @property
        def err_value(self) -> E_co:
            """The error."""
            return self._value

    else:

        @_slot_property  # as Ok.ok_value
        def err_value(self) -> E_co:
            """
            The error.

            >>> Err("timeout").err_value
            'timeout'
            """
            return self._value

    @property
    @deprecated("Use `.ok_value` or `.err_value` instead of `.value`")
    def value(self) -> E_co:
        """
        The error (deprecated, kept for code written against ``result``).

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     Err("x").value
        'x'
        """
        return self._value

    def is_ok(self) -> Literal[False]:
        """
        Return `False`: this is not an `Ok`.

        >>> Err("x").is_ok()
        False
        """
        return False

    def is_err(self) -> Literal[True]:
        """
        Return `True`: this is an `Err`.

        >>> Err("x").is_err()
        True
        """
        return True

    def is_ok_and(self, predicate: Callable[[Any], object]) -> Literal[False]:  # noqa: ARG002
        """
        Return `False` without calling `predicate`: this is not an `Ok`.

        >>> Err("x").is_ok_and(lambda value: True)
        False
        """
        return False

    def is_err_and(self, predicate: Callable[[E_co], bool]) -> bool:
        """
        Return whether the error satisfies `predicate`.

        >>> Err("timeout").is_err_and(lambda error: error == "timeout")
        True
        """
        return predicate(self._value)

    def ok(self) -> None:
        """
        Return `None`: there is no success value.

        >>> Err("x").ok() is None
        True
        """

    def err(self) -> E_co:
        """
        Return the error.

        >>> Err("x").err()
        'x'
        """
        return self._value

    def _unwrap_error(self, message: str) -> NoReturn:
        exc = UnwrapError(self, message)
        if isinstance(self._value, BaseException):
            raise exc from self._value
        raise exc

    def expect(self, message: str) -> NoReturn:
        """
        Raise `UnwrapError` whose message starts with `message`.

        The error's ``str`` follows, as in `unwrap`; when the error is an
        exception it is also the `UnwrapError`'s ``__cause__``.

        >>> Err("no stock").expect("reserving items")
        Traceback (most recent call last):
        ...
        outcome.UnwrapError: reserving items: no stock
        """
        self._unwrap_error(f"{message}: {self._value!s}")

    def expect_err(self, message: str) -> E_co:  # noqa: ARG002
        """
        Return the error; `message` is used only by `Ok.expect_err`.

        >>> Err("x").expect_err("should have failed")
        'x'
        """
        return self._value

    def unwrap(self) -> NoReturn:
        """
        Raise `UnwrapError` showing the error's ``str``.

        An exception's message can reach a user, so it shows ``str()``, which
        for an `Errors` or `ErrorDetail` hides a programmer error's text; the
        error itself stays on the `UnwrapError`'s ``result``. When the error is
        an exception it becomes the ``__cause__``.

        >>> Err("no stock").unwrap()
        Traceback (most recent call last):
        ...
        outcome.UnwrapError: Called `Result.unwrap()` on an `Err` value: no stock
        """
        self._unwrap_error(
            f"Called `Result.unwrap()` on an `Err` value: {self._value!s}"
        )

    def unwrap_err(self) -> E_co:
        """
        Return the error.

        >>> Err("x").unwrap_err()
        'x'
        """
        return self._value

    def unwrap_or(self, default: U) -> U:
        """
        Return `default`.

        >>> Err("x").unwrap_or(0)
        0
        """
        return default

    def unwrap_or_else(self, op: Callable[[E_co], U]) -> U:
        """
        Return `op` applied to the error.

        >>> Err("abc").unwrap_or_else(len)
        3
        """
        return op(self._value)

    def unwrap_or_raise(self, e: type[BaseException]) -> NoReturn:
        """
        Raise ``e(error)``: an exception of type `e` built from the error.

        >>> Err("no stock").unwrap_or_raise(LookupError)
        Traceback (most recent call last):
        ...
        LookupError: no stock
        """
        raise e(self._value)

    def map(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Err` unchanged without calling `op`.

        >>> Err("x").map(lambda n: n * 10)
        Err('x')
        """
        return self

    async def map_async(self, op: Callable[[Any], Awaitable[object]]) -> Self:  # noqa: ARG002
        """
        Return this `Err` unchanged without calling `op` (see `Ok.map_async`).

        >>> import asyncio
        >>> async def double(n: int) -> int:
        ...     return n * 2
        >>> asyncio.run(Err("x").map_async(double))
        Err('x')
        """
        return self

    def map_or(self, default: U, op: Callable[[Any], object]) -> U:  # noqa: ARG002
        """
        Return `default` without calling `op`.

        >>> Err("x").map_or(0, lambda n: n + 1)
        0
        """
        return default

    def map_or_else(
        self,
        default_op: Callable[[], U],
        op: Callable[[Any], object],  # noqa: ARG002
    ) -> U:
        """
        Return what `default_op` returns, without calling `op`.

        >>> Err("x").map_or_else(lambda: 0, lambda n: n + 1)
        0
        """
        return default_op()

    def map_err(self, op: Callable[[E_co], F]) -> Err[F]:
        """
        Apply `op` to the error and wrap what it returns in `Err`.

        >>> Err("timeout").map_err(str.upper)
        Err('TIMEOUT')
        """
        return Err(op(self._value))

    def and_then(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Err` unchanged without calling `op`.

        >>> Err("x").and_then(lambda n: Ok(n + 1))
        Err('x')
        """
        return self

    async def and_then_async(self, op: Callable[[Any], Awaitable[object]]) -> Self:  # noqa: ARG002
        """
        Return this `Err` unchanged without calling `op` (see `Ok.and_then_async`).

        >>> import asyncio
        >>> async def check(n: int) -> Result[int, str]:
        ...     return Ok(n)
        >>> asyncio.run(Err("x").and_then_async(check))
        Err('x')
        """
        return self

    def or_else(self, op: Callable[[E_co], Ok[U] | Err[F]]) -> Ok[U] | Err[F]:
        """
        Return the `Result` of `op` applied to the error (recover from a failure).

        >>> Err("cache miss").or_else(lambda error: Ok("from database"))
        Ok('from database')
        """
        return op(self._value)

    def inspect(self, op: Callable[[Any], object]) -> Self:  # noqa: ARG002
        """
        Return this `Err` without calling `op`.

        >>> Err("x").inspect(print)
        Err('x')
        """
        return self

    def inspect_err(self, op: Callable[[E_co], object]) -> Self:
        """
        Call `op` with the error (for logging, say) and return this `Err`.

        >>> Err("x").inspect_err(print)
        x
        Err('x')
        """
        op(self._value)
        return self


def _tagged_schema(
    kind: type[Ok[object] | Err[object]],
    tag: str,
    source: object,
    handler: GetCoreSchemaHandler,
) -> CoreSchema:
    """The pydantic schema of `kind`: ``{tag: value}``, validated as typed."""
    from pydantic_core import (  # noqa: PLC0415 - optional
        PydanticSerializationUnexpectedValue,
        core_schema,
    )

    arguments = cast("tuple[object, ...]", getattr(source, "__args__", ()))
    held = (
        handler.generate_schema(arguments[0]) if arguments else core_schema.any_schema()
    )
    tagged = core_schema.typed_dict_schema(
        {tag: core_schema.typed_dict_field(held)}, extra_behavior="forbid"
    )

    def validated(value: object, validate: Callable[[object], object]) -> object:
        if type(value) is kind:
            value = {tag: value._value}  # noqa: SLF001 - this module's own class
        return kind(cast("dict[str, object]", validate(value))[tag])

    def serialised(value: object) -> dict[str, object]:
        if type(value) is not kind:  # the other side of a Result
            msg = f"expected an {kind.__name__}, not a {type(value).__name__}"
            raise PydanticSerializationUnexpectedValue(msg)
        return {tag: value._value}  # noqa: SLF001 - this module's own class

    return core_schema.no_info_wrap_validator_function(
        validated,
        tagged,
        serialization=core_schema.plain_serializer_function_ser_schema(
            serialised, info_arg=False, return_schema=tagged
        ),
    )


Result: TypeAlias = Ok[T_co] | Err[E_co]
"""
What a call returned: ``Ok[T]`` on success or ``Err[E]`` on failure.

.. versionadded:: 0.1.0
"""

OkErr: Final[tuple[type[Ok[object]], type[Err[object]]]] = (Ok, Err)
"""
The tuple ``(Ok, Err)``, for ``isinstance(value, OkErr)``.

.. versionadded:: 0.1.0
"""


class UnwrapError(Exception):
    """
    Raised by `unwrap`, `expect` and their ``_err`` twins on the wrong variant.

    The `Result` that was unwrapped is kept on `result`. When an `Err` holding
    an exception is unwrapped, that exception is the ``__cause__``. The message
    shows ``str()`` of the value, never its ``repr``, so that an `Errors` holding
    a programmer error shows only its public text; `result` keeps it all.

    >>> try:
    ...     Err(KeyError("sku-1")).unwrap()
    ... except UnwrapError as exc:
    ...     print(repr(exc.result), repr(exc.__cause__))
    Err(KeyError('sku-1')) KeyError('sku-1')

    .. versionadded:: 0.1.0
    """

    def __init__(self, result: Result[object, object], message: str) -> None:
        super().__init__(message)
        self._result = result

    def __reduce__(
        self,
    ) -> tuple[type[UnwrapError], tuple[Result[object, object], str]]:
        return (UnwrapError, (self._result, str(self)))

    @property
    def result(self) -> Result[object, object]:
        """
        The `Ok` or `Err` that was unwrapped.

        >>> UnwrapError(Err(1), "boom").result
        Err(1)
        """
        return self._result


def is_ok(result: Result[T, E]) -> TypeIs[Ok[T]]:
    """
    Return whether `result` is an `Ok`, narrowing its type in both branches.

    >>> r: Result[int, str] = Ok(1)
    >>> if is_ok(r):
    ...     print(r.ok_value + 1)
    2

    .. versionadded:: 0.1.0
    """
    return type(result) is Ok


def is_err(result: Result[T, E]) -> TypeIs[Err[E]]:
    """
    Return whether `result` is an `Err`, narrowing its type in both branches.

    >>> r: Result[int, str] = Err("x")
    >>> if is_err(r):
    ...     print(r.err_value.upper())
    X

    .. versionadded:: 0.1.0
    """
    return type(result) is Err


def _check_exception_types(decorator: str, exceptions: tuple[object, ...]) -> None:
    # Both messages keep result's "requires one or more exception types", which
    # its users' tests match.
    if not exceptions:
        msg = (
            f"{decorator}() requires one or more exception types to catch, "
            f"e.g. @{decorator}(ValueError); it was called with none"
        )
        raise TypeError(msg)
    for position, candidate in enumerate(exceptions, start=1):
        if not (inspect.isclass(candidate) and issubclass(candidate, BaseException)):
            hint = (
                f"; did you write @{decorator} instead of @{decorator}(SomeError)?"
                if inspect.isroutine(candidate)
                else ""
            )
            msg = (
                f"{decorator}() requires one or more exception types, but argument "
                f"{position} is {candidate!r} (of type {type(candidate).__name__})"
                f"{hint}"
            )
            raise TypeError(msg)


def as_result(
    *exceptions: type[TBE],
) -> Callable[[Callable[P, R]], Callable[P, Result[R, TBE]]]:
    """
    Make a decorator that turns a raising function into one returning a `Result`.

    A return value becomes ``Ok(value)``; an exception of one of `exceptions`
    becomes ``Err(exception)``; any other exception propagates.

    >>> @as_result(ValueError)
    ... def parse_quantity(text: str) -> int:
    ...     return int(text)
    >>> parse_quantity("3")
    Ok(3)
    >>> parse_quantity("three")
    Err(ValueError("invalid literal for int() with base 10: 'three'"))

    Raises:
        TypeError: At decoration time, when `exceptions` is empty or holds
            something that is not an exception class.

    .. versionadded:: 0.1.0
    """
    _check_exception_types("as_result", exceptions)

    def decorator(f: Callable[P, R]) -> Callable[P, Result[R, TBE]]:
        @functools.wraps(f)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Result[R, TBE]:
            try:
                return Ok(f(*args, **kwargs))
            except exceptions as exc:
                return Err(exc)

        return wrapper

    return decorator


def as_async_result(
    *exceptions: type[TBE],
) -> Callable[
    [Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, Result[R, TBE]]]
]:
    """
    Make a decorator that turns a raising async function into one returning a `Result`.

    The decorated function is a coroutine function, typed as one, so what it
    returns can be given to `asyncio.run`, `asyncio.create_task` or a
    `asyncio.TaskGroup`, as well as awaited.

    >>> import asyncio
    >>> @as_async_result(LookupError)
    ... async def find_price(sku: str) -> int:
    ...     return {"tea": 4}[sku]
    >>> asyncio.run(find_price("tea")), asyncio.run(find_price("cake"))
    (Ok(4), Err(KeyError('cake')))

    Raises:
        TypeError: At decoration time, when `exceptions` is empty or holds
            something that is not an exception class.

    .. versionadded:: 0.1.0
    """
    _check_exception_types("as_async_result", exceptions)

    def decorator(
        f: Callable[P, Awaitable[R]],
    ) -> Callable[P, Coroutine[Any, Any, Result[R, TBE]]]:
        @functools.wraps(f)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Result[R, TBE]:
            try:
                return Ok(await f(*args, **kwargs))
            except exceptions as exc:
                return Err(exc)

        return wrapper

    return decorator


def do(gen: Generator[Result[T, E], None, None]) -> Result[T, E]:
    """
    Evaluate a generator expression over Results, stopping at the first `Err`.

    Each ``for x in result`` binds the value of an `Ok`; the first `Err` is
    returned as it is. This is a flat sequence of `and_then` calls.

    >>> def price(sku: str) -> Result[int, str]:
    ...     return Ok(4) if sku == "tea" else Err(f"unknown sku {sku!r}")
    >>> do(Ok(a + b) for a in price("tea") for b in price("tea"))
    Ok(8)
    >>> do(Ok(a + b) for a in price("tea") for b in price("cake"))
    Err("unknown sku 'cake'")

    Raises:
        TypeError: When given an async generator (an ``await`` inside the
            expression makes one); use `do_async` for those.

    .. versionadded:: 0.1.0
    """
    try:
        return next(gen)
    except _DoShortCircuit as short_circuit:
        return cast("Err[E]", short_circuit.err)  # it came out of a Result[T, E]
    except TypeError as exc:
        if inspect.isasyncgen(cast("object", gen)):  # callers may be untyped
            # result's whole sentence, typo included, is what its tests match.
            msg = (
                "do() got an async generator (an `await` inside the generator "
                "expression makes one); use `await do_async(...)` instead "
                '(result 0.17 said: "Got async_generator but expected '
                'generator.See the section on do notation in the README.")'
            )
            raise TypeError(msg) from exc
        raise


async def do_async(
    gen: Generator[Result[T, E], None, None] | AsyncGenerator[Result[T, E], None],
) -> Result[T, E]:
    """
    Evaluate a sync or async generator expression over Results (see `do`).

    >>> import asyncio
    >>> async def stock(sku: str) -> Result[int, str]:
    ...     return Ok(3)
    >>> async def main() -> Result[int, str]:
    ...     return await do_async(
    ...         Ok(a + b) for a in await stock("tea") for b in await stock("cake")
    ...     )
    >>> asyncio.run(main())
    Ok(6)

    .. versionadded:: 0.1.0
    """
    try:
        if isinstance(gen, AsyncGenerator):
            return await gen.__anext__()
        return next(gen)
    except _DoShortCircuit as short_circuit:
        return cast("Err[E]", short_circuit.err)  # it came out of a Result[T, E]


def _not_a_result_argument(function: str, value: object) -> TypeError:
    return TypeError(
        f"{function}() expects an Ok or Err as its first argument, but got "
        f"{value!r} (of type {type(value).__name__}); wrap a plain value in Ok(...)"
    )


async def map_async(
    result: Result[T, F], op: Callable[[T], Awaitable[U]]
) -> Result[U, F]:
    """
    Await `op` on the value of an `Ok` and wrap it in `Ok`; return an `Err` as is.

    The same as ``await result.map_async(op)``, but a function, so both type
    checkers report a missing ``await`` on any `Result`: the method, called on
    a `Result` that has not been narrowed, returns one of two coroutine types,
    which neither reliably reports.

    >>> import asyncio
    >>> async def double_count(n: int) -> int:
    ...     return n * 2
    >>> def parse_count(text: str) -> Result[int, str]:
    ...     return Ok(int(text)) if text.isdecimal() else Err(f"{text!r}?")
    >>> asyncio.run(map_async(parse_count("2"), double_count))
    Ok(4)
    >>> asyncio.run(map_async(parse_count("two"), double_count))
    Err("'two'?")

    Raises:
        TypeError: When `result` is neither `Ok` nor `Err`.

    .. versionadded:: 0.1.0
    """
    if type(result) is Ok:
        return Ok(await op(result.ok_value))
    if type(result) is Err:
        return result
    raise _not_a_result_argument("map_async", result)


async def and_then_async(
    result: Result[T, F], op: Callable[[T], Awaitable[Result[U, G]]]
) -> Result[U, F | G]:
    """
    Await the `Result` of `op` on the value of an `Ok`; return an `Err` as is.

    The same as ``await result.and_then_async(op)``, but a function, so both
    type checkers report a missing ``await`` on any `Result` (see `map_async`).

    >>> import asyncio
    >>> async def reserve_stock(quantity: int) -> Result[str, str]:
    ...     return Ok(f"reserved {quantity}") if quantity < 5 else Err("sold out")
    >>> def parse_count(text: str) -> Result[int, str]:
    ...     return Ok(int(text)) if text.isdecimal() else Err(f"{text!r}?")
    >>> asyncio.run(and_then_async(parse_count("2"), reserve_stock))
    Ok('reserved 2')
    >>> asyncio.run(and_then_async(parse_count("9"), reserve_stock))
    Err('sold out')
    >>> asyncio.run(and_then_async(parse_count("two"), reserve_stock))
    Err("'two'?")

    Raises:
        TypeError: When `result` is neither `Ok` nor `Err`.

    .. versionadded:: 0.1.0
    """
    if type(result) is Ok:
        return await op(result.ok_value)
    if type(result) is Err:
        return result
    raise _not_a_result_argument("and_then_async", result)


def _not_a_result(function: str, index: int, item: object) -> TypeError:
    return TypeError(
        f"{function}() expects an iterable of Ok/Err values, but item {index} is "
        f"{item!r} (of type {type(item).__name__}); wrap plain values in Ok(...)"
    )


def collect(results: Iterable[Result[U, F]]) -> Result[list[U], F]:
    """
    Turn Results into ``Ok`` of all values, or the first `Err`.

    Like Rust's ``collect::<Result<Vec<_>, _>>()``, it stops consuming
    `results` at the first `Err`. To keep every error, use `partition`.

    >>> collect([Ok(1), Ok(2)])
    Ok([1, 2])
    >>> collect([Ok(1), Err("bad"), Err("worse")])
    Err('bad')

    A side that no item has is typed `Never`: ``collect([Ok(1), Ok(2)])`` is an
    ``Ok[list[int]] | Err[Never]``, which is a ``Result[list[int], E]`` for any
    ``E``, so it needs no annotation.

    Raises:
        TypeError: When an item is neither `Ok` nor `Err`.

    .. versionadded:: 0.1.0
    """
    values: list[U] = []
    append = values.append  # the loop is the whole cost: no lookup in it
    for result in results:
        if type(result) is Ok:
            append(result._value)  # noqa: SLF001 - this module's own class
        elif type(result) is Err:
            return result
        else:  # every item before it was an Ok, so its index is len(values)
            raise _not_a_result("collect", len(values), result)
    return Ok(values)


def partition(results: Iterable[Result[U, F]]) -> tuple[list[U], list[F]]:
    """
    Split Results into the list of values and the list of errors, in order.

    >>> partition([Ok(1), Err("a"), Ok(2), Err("b")])
    ([1, 2], ['a', 'b'])

    As with `collect`, a side that no item has is typed `Never`:
    ``partition([Ok(1), Ok(2)])`` is a ``tuple[list[int], list[Never]]``.

    Raises:
        TypeError: When an item is neither `Ok` nor `Err`.

    .. versionadded:: 0.1.0
    """
    values: list[U] = []
    errors: list[F] = []
    add_value, add_error = values.append, errors.append
    for result in results:
        if type(result) is Ok:
            add_value(result._value)  # noqa: SLF001 - this module's own class
        elif type(result) is Err:
            add_error(result._value)  # noqa: SLF001 - this module's own class
        else:
            raise _not_a_result("partition", len(values) + len(errors), result)
    return values, errors
