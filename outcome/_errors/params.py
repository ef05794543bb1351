"""Params: the values that fill an error's message, frozen, keyed and made JSON-safe."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, cast

_RESERVED_PARAMS: Final = frozenset(
    {"path", "code", "message", "params", "bucket", "cause"}
)
_NO_PARAMS: Final[Mapping[str, object]] = MappingProxyType({})
_NO_PARAMS_KEY: Final[frozenset[tuple[str, object]]] = frozenset()


def _hashable(value: object) -> object:
    """Return a hashable stand-in for `value`, equal when the values are equal."""
    try:
        hash(value)
    except TypeError:
        pass
    else:
        return value
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return (
            "mapping",
            frozenset((_hashable(k), _hashable(v)) for k, v in mapping.items()),
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        items = cast("Iterable[object]", value)
        kind = "set" if isinstance(value, (set, frozenset)) else "sequence"
        frozen = [_hashable(item) for item in items]
        return (kind, frozenset(frozen) if kind == "set" else tuple(frozen))
    return ("unhashable", type(value).__qualname__, repr(value))


def _canonical(value: object) -> str:
    """Text that is the same in every process for equal values, sets included."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        items = sorted(f"{_canonical(k)}: {_canonical(v)}" for k, v in mapping.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        sequence = cast("Iterable[object]", value)
        return "[" + ", ".join(_canonical(item) for item in sequence) + "]"
    if isinstance(value, (set, frozenset)):
        members = cast("Iterable[object]", value)
        return "{" + ", ".join(sorted(_canonical(item) for item in members)) + "}"
    return repr(value)


def _freeze_params(
    params: object,
) -> tuple[Mapping[str, object], frozenset[tuple[str, object]]]:
    if not isinstance(params, Mapping):
        msg = f"params must be a mapping of names to values, not {params!r}"
        raise TypeError(msg)
    checked = dict(cast("Mapping[object, object]", params))
    for name in checked:
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
            raise ValueError(msg)
    frozen = cast("dict[str, object]", checked)
    key = frozenset((name, _hashable(value)) for name, value in frozen.items())
    return MappingProxyType(frozen), key


def _json_safe(value: object, depth: int = 0) -> object:
    """A JSON-serialisable copy of `value`: str keys, finite floats, else repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth < 20:  # noqa: PLR2004 - deep enough for params, bounded for cycles
        if isinstance(value, Mapping):
            mapping = cast("Mapping[object, object]", value)
            return {str(k): _json_safe(v, depth + 1) for k, v in mapping.items()}
        if isinstance(value, (list, tuple)):
            items = cast("Iterable[object]", value)
            return [_json_safe(item, depth + 1) for item in items]
        if isinstance(value, (set, frozenset)):
            members = cast("Iterable[object]", value)
            return sorted(
                (_json_safe(item, depth + 1) for item in members), key=_canonical
            )
    return repr(value)
