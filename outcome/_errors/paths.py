"""Paths: where an error is, as tuples, dotted strings and RFC 6901 JSON Pointers."""

from __future__ import annotations

import json
import re
from typing import Final, NoReturn, TypeAlias, cast

Path: TypeAlias = tuple[str | int, ...]
"""
Where an error is: names of fields and indices of list items, outermost first.

``()`` is the base: an error about the whole object rather than one field.
"""

PathInput: TypeAlias = str | int | tuple[str | int, ...] | None
"""
What the API accepts as a path: a `Path`, a dotted string such as
``"items[0].price"``, a single field name or index, or `None` for the base.
"""

_BASE: Final[Path] = ()  # the path of errors about the whole object

_NAME = r'[^.\[\]"]+'
_QUOTED = r'\["(?:[^"\\]|\\.)*"\]'  # a JSON string in brackets: ["a.b"]
_DOTTED: Final = re.compile(
    rf"(?:{_NAME}|\[\d+\]|{_QUOTED})(?:\.{_NAME}|\[\d+\]|{_QUOTED})*"
)
_SEGMENT: Final = re.compile(rf'({_NAME})|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_SIMPLE_NAME: Final = re.compile(_NAME)
# The paths known to be good: a text parsed before gives its path, a tuple
# checked before gives itself, the very same object. An equal tuple is not
# enough, as (1,) equals (True,) and (1.0,), which are not paths; nor is an
# equal str subclass. So a hit counts when it is the tuple looked up, or when
# what was looked up is a str.
_PARSED_PATHS: dict[object, Path] = {}
# The path of a text parsed before, or None: the hot callers' fast path.
_cached_path: Final = _PARSED_PATHS.get
_PARSED_PATHS_LIMIT: Final = 4096
_CACHED_PATH_LENGTH: Final = 256
_CACHED_TUPLE_LENGTH: Final = 32
# No list has more items than this; a larger index is a mistake (and one of
# over 4,300 digits cannot even be rendered).
_MAX_INDEX_BITS: Final = 63
_INDEX_LIMIT: Final = 1 << _MAX_INDEX_BITS
_MAX_INDEX_DIGITS: Final = 19


def parse_path(text: str) -> Path:
    """
    Parse a dotted path such as ``"items[0].price"`` into a `Path` tuple.

    Names are separated by dots and list indices are written in brackets; a
    name holding ``.``, ``[``, ``]`` or ``"`` is written as a JSON string in
    brackets (``["a.b"]``), as `format_path` writes it. The empty string is the
    base.

    >>> parse_path("items[0].price")
    ('items', 0, 'price')
    >>> parse_path('totals["net.eur"]')
    ('totals', 'net.eur')
    >>> parse_path("")
    ()

    Raises:
        ValueError: When `text` is not of that form, e.g. ``"items[x"``.

    .. versionadded:: 0.1.0
    """
    _require_str("parse_path", text)
    parsed = _PARSED_PATHS.get(text)
    if parsed is not None:
        return parsed
    if text == "":
        return _BASE
    if _DOTTED.fullmatch(text) is None:
        msg = (
            f"cannot parse the path {text!r}: write field names separated by '.' "
            "and list indices in brackets, e.g. 'items[0].price'; for names that "
            "contain '.', '[' or ']' pass a tuple such as ('a.b', 0)"
        )
        raise ValueError(msg)
    segments: list[str | int] = []
    for name, index, quoted in _SEGMENT.findall(text):
        if index and len(index) > _MAX_INDEX_DIGITS:
            msg = (
                f"a path index of {len(index)} digits is not a list index: "
                f"indices are below 2**{_MAX_INDEX_BITS}; quote a name such as "
                '["123"] for anything else'
            )
            raise ValueError(msg)
        if index and int(index).bit_length() > _MAX_INDEX_BITS:
            raise _too_large_index(int(index))
        segments.append(name or (int(index) if index else json.loads(quoted)))
    parsed = tuple(segments)
    if len(text) <= _CACHED_PATH_LENGTH:  # long paths would hold memory for long
        if len(_PARSED_PATHS) >= _PARSED_PATHS_LIMIT:
            _PARSED_PATHS.clear()  # bounded: paths with many distinct indices
        _PARSED_PATHS[text] = parsed
    return parsed


def _require_str(function: str, text: object) -> None:
    if type(text) is not str:
        msg = f"{function}() takes a str, not {text!r} (of type {type(text).__name__})"
        raise TypeError(msg)


def format_path(path: Path) -> str:
    """
    Render a path in the dotted form that `parse_path` reads.

    >>> format_path(("items", 0, "price"))
    'items[0].price'
    >>> format_path(("totals", "net.eur"))
    'totals["net.eur"]'
    >>> format_path(())
    ''

    .. versionadded:: 0.1.0
    """
    parts: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _SIMPLE_NAME.fullmatch(segment) is None:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
        else:
            parts.append(f".{segment}" if parts else segment)
    return "".join(parts)


def format_pointer(path: Path) -> str:
    """
    Render a path as an RFC 6901 JSON Pointer, escaping ``~`` and ``/``.

    >>> format_pointer(("items", 0, "unit/price"))
    '/items/0/unit~1price'
    >>> format_pointer(())
    ''

    .. versionadded:: 0.1.0
    """
    return "".join(
        "/" + str(segment).replace("~", "~0").replace("/", "~1") for segment in path
    )


class _EscapedSegments(dict[str | int, str]):
    """Each segment's text in a JSON Pointer, escaped, made when first asked."""

    __slots__ = ()

    def __missing__(self, segment: str | int) -> str:
        if len(self) >= _ESCAPED_SEGMENTS_LIMIT:
            self.clear()  # bounded: paths with many distinct indices
        text = self[segment] = str(segment).replace("~", "~0").replace("/", "~1")
        return text


# Keyed by checked segments only: a bool or a float would find the text of
# the int it equals. Names and indices recur, so most are found in C.
_ESCAPED_SEGMENTS: Final = _EscapedSegments()
_ESCAPED_SEGMENTS_LIMIT: Final = 4096
_escaped_segment: Final = _ESCAPED_SEGMENTS.__getitem__


def _pointer(path: Path, root: str) -> str:
    """
    `root` followed by the JSON Pointer of `path`, a checked path.

    As `format_pointer`, which takes any tuple, gives it.
    """
    if not path:
        return root
    return f"{root}/{'/'.join(map(_escaped_segment, path))}"


def parse_pointer(pointer: str) -> Path:
    """
    Parse an RFC 6901 JSON Pointer into a `Path`; all-digit segments are indices.

    >>> parse_pointer("/items/0/unit~1price")
    ('items', 0, 'unit/price')

    Raises:
        TypeError: When `pointer` is not a str.
        ValueError: When `pointer` is not empty and does not start with ``/``,
            holds a ``~`` that is not ``~0`` or ``~1``, or has an empty segment.

    .. versionadded:: 0.1.0
    """
    _require_str("parse_pointer", pointer)
    if pointer == "":
        return _BASE
    if not pointer.startswith("/") or re.search(r"~(?![01])", pointer):
        msg = (
            f"{pointer!r} is not a JSON Pointer: it must be empty or start with "
            "'/', and '~' must be escaped as '~0' ('/' as '~1')"
        )
        raise ValueError(msg)
    segments: list[str | int] = []
    for raw in pointer[1:].split("/"):
        if not raw:
            msg = f"{pointer!r} has an empty segment; field names cannot be empty"
            raise ValueError(msg)
        text = raw.replace("~1", "/").replace("~0", "~")
        is_index = (
            text.isdecimal()
            and text.isascii()
            and len(text) <= _MAX_INDEX_DIGITS
            and str(int(text)) == text
        )
        segments.append(int(text) if is_index else text)
    return tuple(segments)


def _bad_path(path: object, reason: str) -> TypeError:
    return TypeError(
        f"{path!r} (of type {type(path).__name__}) is not a valid path: {reason}; "
        "pass a dotted string such as 'items[0].price', a tuple such as "
        "('items', 0, 'price'), or None for the base"
    )


def _negative_index(path: object, index: int) -> ValueError:
    return ValueError(
        f"{path!r} is not a valid path: the index {index} is negative; list "
        "indices in paths count from 0"
    )


def _too_large_index(index: int) -> ValueError:
    return ValueError(
        f"a path index of {index.bit_length()} bits is not a list index: indices "
        f"are below 2**{_MAX_INDEX_BITS}; use a str name for anything else"
    )


def _refuse_segment(path: tuple[object, ...], segment: object) -> NoReturn:
    """Raise the clear error for a segment that is neither a name nor an index."""
    if type(segment) is int:
        if segment.bit_length() > _MAX_INDEX_BITS:
            raise _too_large_index(segment)
        raise _negative_index(path, segment)
    if type(segment) is not str:
        raise _bad_path(
            path,
            f"its segment {segment!r} is a {type(segment).__name__}, not a str or int",
        )
    raise _bad_path(path, "a field name is empty")


def _to_path(path: PathInput) -> Path:
    """
    Turn any accepted path input into a `Path` tuple, checking it.

    >>> _to_path("items[0].price"), _to_path(None), _to_path("email"), _to_path(3)
    (('items', 0, 'price'), (), ('email',), (3,))

    Raises:
        TypeError: When `path` is not a str, int, tuple or None, or a tuple
            holds something other than str and int, or an empty name.
        ValueError: When a string does not parse (see `parse_path`) or an
            index is negative.
    """
    if type(path) is str:
        parsed = _PARSED_PATHS.get(path)
        return parsed if parsed is not None else parse_path(path)
    if path is None:
        return _BASE
    if type(path) is tuple:
        return _checked_path_tuple(path)
    if type(path) is int:
        if path.bit_length() > _MAX_INDEX_BITS:
            raise _too_large_index(path)
        if path < 0:
            raise _negative_index(path, path)
        return (path,)
    raise _bad_path(path, "it is not a str, int, tuple or None")


def _checked_path_tuple(path: Path) -> Path:
    """
    `path` when each segment is a name or an index; remembered if short.

    Raises:
        TypeError, ValueError: As `_to_path` says.
    """
    try:
        if _cached_path(path) is path:
            return path
    except Exception:  # noqa: BLE001, S110 - unhashable, or a segment's __eq__ raised: checked below
        pass
    if _valid_tuple(path) is not None:
        return path
    wrong = next(
        segment
        for segment in path
        if not (type(segment) is str and segment)
        and not (type(segment) is int and 0 <= segment < _INDEX_LIMIT)
    )
    _refuse_segment(path, wrong)


def _valid_tuple(path: tuple[object, ...]) -> Path | None:
    """
    `path` when each segment is a name or an index, remembered if short; or None.

    For a tuple not known by identity yet; `_checked_path_tuple` says what is
    wrong with one that is not a path.
    """
    for segment in path:
        if type(segment) is str:
            if not segment:
                return None
        elif type(segment) is not int or not 0 <= segment < _INDEX_LIMIT:
            return None
    checked = cast("Path", path)
    if len(checked) <= _CACHED_TUPLE_LENGTH:
        if len(_PARSED_PATHS) >= _PARSED_PATHS_LIMIT:
            _PARSED_PATHS.clear()  # bounded: paths with many distinct indices
        # This very tuple, in place of an equal one checked before: the one
        # written in the code is the one that comes again.
        _PARSED_PATHS[checked] = checked
    return checked
