"""accumulate: applicative validation, every error of every result merged."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeVar, overload

from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._result import Err, Ok, Result, _not_a_result

if TYPE_CHECKING:
    from collections.abc import Sequence

    from outcome._errors.paths import PathInput

T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")

_Failures: TypeAlias = Errors | ErrorDetail
"""What `accumulate` collects from each `Err`: an `Errors` or one `ErrorDetail`."""


@overload
def accumulate(
    r1: Result[T1, _Failures], /, *, prefixes: Sequence[PathInput] | None = None
) -> Result[tuple[T1], Errors]: ...
@overload
def accumulate(
    r1: Result[T1, _Failures],
    r2: Result[T2, _Failures],
    /,
    *,
    prefixes: Sequence[PathInput] | None = None,
) -> Result[tuple[T1, T2], Errors]: ...
@overload
def accumulate(
    r1: Result[T1, _Failures],
    r2: Result[T2, _Failures],
    r3: Result[T3, _Failures],
    /,
    *,
    prefixes: Sequence[PathInput] | None = None,
) -> Result[tuple[T1, T2, T3], Errors]: ...
@overload
def accumulate(
    r1: Result[T1, _Failures],
    r2: Result[T2, _Failures],
    r3: Result[T3, _Failures],
    r4: Result[T4, _Failures],
    /,
    *,
    prefixes: Sequence[PathInput] | None = None,
) -> Result[tuple[T1, T2, T3, T4], Errors]: ...
@overload
def accumulate(
    r1: Result[T1, _Failures],
    r2: Result[T2, _Failures],
    r3: Result[T3, _Failures],
    r4: Result[T4, _Failures],
    r5: Result[T5, _Failures],
    /,
    *,
    prefixes: Sequence[PathInput] | None = None,
) -> Result[tuple[T1, T2, T3, T4, T5], Errors]: ...
@overload
def accumulate(
    r1: Result[T1, _Failures],
    r2: Result[T2, _Failures],
    r3: Result[T3, _Failures],
    r4: Result[T4, _Failures],
    r5: Result[T5, _Failures],
    r6: Result[T6, _Failures],
    /,
    *,
    prefixes: Sequence[PathInput] | None = None,
) -> Result[tuple[T1, T2, T3, T4, T5, T6], Errors]: ...
@overload
def accumulate(
    *results: Result[object, _Failures], prefixes: Sequence[PathInput] | None = None
) -> Result[tuple[object, ...], Errors]: ...
def accumulate(
    *results: Result[object, _Failures], prefixes: Sequence[PathInput] | None = None
) -> Result[tuple[object, ...], Errors]:
    """
    Combine validations: ``Ok`` of every value, or ``Err`` of every error merged.

    Unlike `collect`, which stops at the first `Err`, every result counts: each
    `Err` holds an `Errors` or a single `ErrorDetail`, and all of them are
    merged, in order, into one `Errors` (duplicates dropped). With `prefixes`,
    one per result, each result's errors are put under its own path.

    >>> def name(text: str) -> Result[str, ErrorDetail]:
    ...     return Ok(text) if text else Err(ErrorDetail(None, "blank"))
    >>> def age(text: str) -> Result[int, ErrorDetail]:
    ...     if not text.isdecimal():
    ...         return Err(ErrorDetail(None, "not_a_number"))
    ...     return Ok(int(text))
    >>> accumulate(name("Ada"), age("36"))
    Ok(('Ada', 36))
    >>> form = accumulate(name(""), age("old"), prefixes=["name", "age"])
    >>> form.map_err(Errors.full_messages)
    Err(["Name can't be blank", 'Age is not a number'])

    Raises:
        TypeError: When an argument is not a Result, or an `Err` holds
            something other than `Errors` or `ErrorDetail`.
        ValueError: When `prefixes` does not give one path per result.

    .. versionadded:: 0.1.0
    """
    if prefixes is not None and len(prefixes) != len(results):
        msg = (
            f"accumulate() got {len(results)} results but {len(prefixes)} prefixes; "
            "give one prefix per result (None for no prefix)"
        )
        raise ValueError(msg)
    values: list[object] = []
    merged = Errors()
    failed = False
    for index, result in enumerate(results):
        if type(result) is Ok:
            values.append(result.ok_value)
            continue
        if type(result) is not Err:
            raise _not_a_result("accumulate", index, result)
        failed = True
        error: object = result.err_value
        prefix = None if prefixes is None else prefixes[index]
        if type(error) is Errors:
            merged.merge(error, prefix=prefix)
        elif type(error) is ErrorDetail:
            merged.append(error.with_prefix(prefix))
        else:
            msg = (
                f"accumulate() merges Err values holding Errors or ErrorDetail, but "
                f"argument {index} is Err({error!r}); convert it first, e.g. with "
                ".map_err(lambda e: ErrorDetail(None, 'invalid', str(e)))"
            )
            raise TypeError(msg)
    return Err(merged) if failed else Ok(tuple(values))
