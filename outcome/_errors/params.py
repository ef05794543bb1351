"""
Params: the values that fill an error's message, checked and read once.

One bounded walk, when an error is made, turns each value into two things: a
hashable key, equal when the values are equal, for deduplication; and a
JSON-safe copy (str keys, finite floats, lists, sorted sets, and the ``repr``
of anything else), which every serialiser and the reference read. What nests
too deep (a value that holds itself does), holds too many values, or is an int
too large to render is shown as a short text instead, so no serialiser fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Final, TypeAlias, cast

_RESERVED_PARAMS: Final = frozenset(
    {"path", "code", "message", "params", "bucket", "cause"}
)
# An error's params as given and their plain copy, in one slot of an
# ErrorDetail: a fifth slot costs every add(). Both are dicts that no one else
# holds, never changed once made; `ErrorDetail.params` hands out a read-only
# view. When the plain copy is the params themselves, as it is for params of
# plain values (`_is_plain_value`), the slot holds the dict alone; else a
# tuple of the two. Once its reference is fixed (read, or restored from a
# pickle), a detail holds a tuple of the two and the reference.
_Params: TypeAlias = (
    dict[str, object]
    | tuple[Mapping[str, object], Mapping[str, object]]
    | tuple[Mapping[str, object], Mapping[str, object], str]
)
# The key of the params, for equality and hashing: their (name, key of the
# value) pairs, as a frozenset; for a single param, its one pair, which is as
# good a key and is made without a set.
_ParamsKey: TypeAlias = frozenset[tuple[str, object]] | tuple[str, object]
_NO_PARAMS: Final[Mapping[str, object]] = {}
_NO_PARAMS_KEY: Final[_ParamsKey] = frozenset()
_NO_PARAMS_PAIR: Final[_Params] = {}  # its own plain copy, as any empty dict
_FROZEN_NOTHING: Final[tuple[_Params, _ParamsKey]] = (_NO_PARAMS_PAIR, _NO_PARAMS_KEY)
# Names `_freeze_params` found to be identifiers that shadow no field, so that
# the fast paths need not check them again. Bounded, as names are few.
_CHECKED_NAMES: Final[set[str]] = set()
_CHECKED_NAMES_LIMIT: Final = 1024

# How deep containers may nest in a param, and how many values all of an
# error's params may hold: enough for any message, and a bound for cycles.
_MAX_NESTING: Final = 20
_MAX_VALUES: Final = 10_000
# Python renders no int of more than 4,300 digits; stay well below.
_MAX_INT_BITS: Final = 12_000
# An int renders when it has at most _MAX_INT_BITS bits: when it lies strictly
# between these two, which two comparisons tell without making a new int.
_INT_LIMIT: Final = 1 << _MAX_INT_BITS
_NEGATIVE_INT_LIMIT: Final = -_INT_LIMIT
# The ints CPython compares without a call (one digit): those the fast paths
# take without comparing them to the limits above.
_SMALL_INT: Final = (1 << 30) - 1
_NEGATIVE_SMALL_INT: Final = -_SMALL_INT
_SCALARS: Final = (str, bool, type(None))
_CONTAINERS: Final = (Mapping, list, tuple, set, frozenset)


def _plain_text(plain: object) -> str:
    """The canonical JSON text of a plain value: sorted keys, the same everywhere."""
    return json.dumps(plain, sort_keys=True, ensure_ascii=False)


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a param's repr may raise anything
        return f"<{type(value).__name__} object>"


def _elided(value: object, why: str) -> tuple[object, object]:
    """What stands for a value too deep or too large to show: a short text."""
    text = f"<{type(value).__name__} {why}>"
    return ("elided", text), text


def _walk(  # noqa: PLR0911 - one return for each kind of value
    value: object, depth: int, budget: list[int]
) -> tuple[object, object]:
    """
    The (key, plain) pair of one value: see the module's docstring.

    `budget` holds how many more values may be read, shared by the whole walk.
    Past the budget, past `_MAX_NESTING` (a value that holds itself gets there)
    or for an int too large to render, a short text stands in the plain copy.
    """
    budget[0] -= 1
    kind = type(value)
    if kind in _SCALARS:
        return value, value
    if kind is int:
        bits = cast("int", value).bit_length()
        if bits > _MAX_INT_BITS:
            return value, f"<int of {bits:,} bits>"
        return value, value
    if kind is float:
        number = cast("float", value)
        return value, value if math.isfinite(number) else repr(number)
    if isinstance(value, _CONTAINERS):
        container = cast("object", value)  # its items are read as objects
        if depth >= _MAX_NESTING:
            return _elided(container, f"nested more than {_MAX_NESTING} deep")
        if budget[0] < 0:
            return _elided(container, f"past {_MAX_VALUES:,} values")
        return _walk_container(container, depth + 1, budget)
    plain = _safe_repr(value)
    try:
        hash(value)
    except Exception:  # noqa: BLE001 - unhashable, or a __hash__ that raises
        return ("unhashable", type(value).__qualname__, plain), plain
    return value, plain


def _walk_container(
    value: object, depth: int, budget: list[int]
) -> tuple[object, object]:
    key: object
    plain: object
    if isinstance(value, Mapping):
        pairs = [
            (_walk(name, depth, budget), _walk(item, depth, budget))
            for name, item in cast("Mapping[object, object]", value).items()
        ]
        key = ("mapping", frozenset((k[0], v[0]) for k, v in pairs))
        plain = {
            k[1] if type(k[1]) is str else _plain_text(k[1]): v[1] for k, v in pairs
        }
        return key, plain
    walked = [_walk(item, depth, budget) for item in cast("Iterable[object]", value)]
    if isinstance(value, set | frozenset):
        key = ("set", frozenset(k for k, _ in walked))
        plain = sorted((p for _, p in walked), key=_plain_text)
    else:
        key = ("sequence", tuple(k for k, _ in walked))
        plain = [p for _, p in walked]
    if isinstance(value, tuple | frozenset):
        try:
            hash(cast("object", value))
        except TypeError:
            pass
        else:
            key = cast("object", value)  # as it is equal in Python, like a dict key
    return key, plain


def _copy_plain(plain: object) -> object:
    """A fresh copy of a plain value, so a caller can change what it is handed."""
    if type(plain) is dict:
        return {k: _copy_plain(v) for k, v in cast("dict[str, object]", plain).items()}
    if type(plain) is list:
        return [_copy_plain(item) for item in cast("list[object]", plain)]
    return plain


def _params_given(params: _Params) -> Mapping[str, object]:
    """The params as given, from what an `ErrorDetail` holds (see `_Params`)."""
    return params[0] if isinstance(params, tuple) else params


def _params_plain(params: _Params) -> Mapping[str, object]:
    """The plain copy of the params, from what an `ErrorDetail` holds."""
    return params[1] if isinstance(params, tuple) else params


def _is_plain_value(value: object) -> bool:
    """
    Whether `value` is its own key and its own plain copy, as `_walk` makes them.

    So it is for a str, a bool, None, an int small enough to render and a
    finite float; `type()` rather than `isinstance()`, as a subclass may
    render otherwise. `Errors.add` inlines this test for its single param.
    """
    return (
        (
            type(value) is int
            and (
                _NEGATIVE_SMALL_INT <= value <= _SMALL_INT
                or _NEGATIVE_INT_LIMIT < value < _INT_LIMIT
            )
        )
        or type(value) is str
        or value is None
        or type(value) is bool
        # Finite: inf - inf and nan - nan are nan.
        or (type(value) is float and value - value == 0.0)
    )


def _freeze_fresh_params(params: dict[str, object]) -> tuple[_Params, _ParamsKey]:
    """
    `_freeze_params` of a dict made for this call, as ``**params`` makes one.

    No one else holds the dict, so it is kept, not copied. When every name was
    checked before and every value is plain (`_is_plain_value`), each value is
    its own key and its own plain copy, so the dict serves as both. Any other
    dict is frozen by `_freeze_params`, which gives what this gives for the
    dicts it takes.
    """
    for name, value in params.items():
        if not (
            name in _CHECKED_NAMES and type(name) is str and _is_plain_value(value)
        ):
            return _freeze_params(params)
    if len(params) == 1:
        [pair] = params.items()
        return params, pair
    return params, frozenset(params.items())


def _freeze_params(params: object) -> tuple[_Params, _ParamsKey]:
    """
    Check `params`; return them read-only with their plain copy, and their key.

    Raises:
        TypeError: When `params` is not a mapping or a name is not an identifier.
        ValueError: When a name shadows a field of `ErrorDetail`.
    """
    if not isinstance(params, Mapping):
        msg = f"params must be a mapping of names to values, not {params!r}"
        raise TypeError(msg)
    checked = dict(cast("Mapping[object, object]", params))
    budget = [_MAX_VALUES]
    keys: list[tuple[str, object]] = []
    plain: dict[str, object] = {}
    for name, value in checked.items():
        if type(name) is not str or not name.isidentifier():
            msg = (
                f"the param name {name!r} is not a valid identifier; params fill "
                "{placeholders} in message templates, so name them like variables"
            )
            raise TypeError(msg)
        if name in _RESERVED_PARAMS:
            msg = (
                f"the param {name!r} shadows the ErrorDetail field of that name; "
                f"rename it (reserved: {', '.join(sorted(_RESERVED_PARAMS))})"
            )
            if name == "path":  # most often errors.add(path=...): it is positional
                msg += "; Errors.add() takes the path first: add('email', 'blank')"
            raise ValueError(msg)
        if len(_CHECKED_NAMES) >= _CHECKED_NAMES_LIMIT:
            _CHECKED_NAMES.clear()
        _CHECKED_NAMES.add(name)
        key, plain[name] = _walk(value, 0, budget)
        keys.append((name, key))
    frozen = cast("dict[str, object]", checked)
    params_key = keys[0] if len(keys) == 1 else frozenset(keys)
    # _walk gives a value itself as its plain copy only when it is plain.
    if all(plain[name] is value for name, value in frozen.items()):
        return frozen, params_key
    return (frozen, plain), params_key
