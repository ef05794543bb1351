"""ErrorDetail and Errors: an ordered error collection with merge semantics."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from operator import attrgetter
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    ClassVar,
    Final,
    NoReturn,
    TypeAlias,
    cast,
    final,
    overload,
)

from outcome import _classify
from outcome._classify import Bucket

if TYPE_CHECKING:
    from typing import Self

    from outcome._classify import Classifier

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

BASE: Final[Path] = ()
"""The path of errors about the whole object, not one field."""

_NAME = r'[^.\[\]"]+'
_QUOTED = r'\["(?:[^"\\]|\\.)*"\]'  # a JSON string in brackets: ["a.b"]
_DOTTED: Final = re.compile(
    rf"(?:{_NAME}|\[\d+\]|{_QUOTED})(?:\.{_NAME}|\[\d+\]|{_QUOTED})*"
)
_SEGMENT: Final = re.compile(rf'({_NAME})|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_SIMPLE_NAME: Final = re.compile(_NAME)
_PLACEHOLDER: Final = re.compile(r"\{\{|\}\}|\{(\w+)\}")
_PARSED_PATHS: dict[str, Path] = {}
_PARSED_PATHS_LIMIT: Final = 4096


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
        return BASE
    if _DOTTED.fullmatch(text) is None:
        msg = (
            f"cannot parse the path {text!r}: write field names separated by '.' "
            "and list indices in brackets, e.g. 'items[0].price'; for names that "
            "contain '.', '[' or ']' pass a tuple such as ('a.b', 0)"
        )
        raise ValueError(msg)
    parsed = tuple(
        name or (int(index) if index else json.loads(quoted))
        for name, index, quoted in _SEGMENT.findall(text)
    )
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
        return BASE
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
        is_index = text.isdecimal() and text.isascii() and str(int(text)) == text
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


def _check_segment(path: tuple[object, ...], segment: object) -> None:
    if type(segment) is int:
        if segment < 0:
            raise _negative_index(path, segment)
    elif type(segment) is not str:
        raise _bad_path(
            path,
            f"its segment {segment!r} is a {type(segment).__name__}, not a str or int",
        )
    elif not segment:
        raise _bad_path(path, "a field name is empty")


def to_path(path: PathInput) -> Path:
    """
    Turn any accepted path input into a `Path` tuple, checking it.

    >>> to_path("items[0].price"), to_path(None), to_path("email"), to_path(3)
    (('items', 0, 'price'), (), ('email',), (3,))

    Raises:
        TypeError: When `path` is not a str, int, tuple or None, or a tuple
            holds something other than str and int, or an empty name.
        ValueError: When a string does not parse (see `parse_path`) or an
            index is negative.

    .. versionadded:: 0.1.0
    """
    if path is None:
        return BASE
    if type(path) is str:
        return parse_path(path)
    if type(path) is tuple:
        for segment in path:
            _check_segment(path, segment)
        return path
    if type(path) is int:
        if path < 0:
            raise _negative_index(path, path)
        return (path,)
    raise _bad_path(path, "it is not a str, int, tuple or None")


_NONE_GIVEN: Final[tuple[ErrorDetail, ...]] = ()
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


def _check_fields(code: object, message: object, bucket: object, cause: object) -> None:
    if type(code) is not str:
        msg = f"an error code must be a str such as 'blank' or 'too_long', not {code!r}"
        raise TypeError(msg)
    if not code:
        msg = "an error code must not be empty; use one such as 'blank' or 'invalid'"
        raise ValueError(msg)
    if message is not None and type(message) is not str:
        msg = f"message must be a str or None, not {message!r}"
        raise TypeError(msg)
    if type(bucket) is not Bucket:
        msg = f"bucket must be a Bucket such as Bucket.USER_FIXABLE, not {bucket!r}"
        raise TypeError(msg)
    if cause is not None and not isinstance(cause, BaseException):
        msg = f"cause must be an exception or None, not {cause!r}"
        raise TypeError(msg)


@final
class ErrorDetail:
    """
    One error: where it is, what went wrong, and who must act on it.

    `code` is the machine-readable reason (``"blank"``, ``"too_long"``) and
    `params` the values that fill its message template; `message` overrides the
    template when given. `cause` keeps the exception behind the error for logs.

    Two details are equal, and hash equal, when their path, code, params and
    message are: neither the bucket nor the cause takes part, and neither does
    the value that was rejected, which is never stored.

    >>> detail = ErrorDetail("items[0].quantity", "too_long", params={"maximum": 3})
    >>> detail.path, detail.code, dict(detail.params)
    (('items', 0, 'quantity'), 'too_long', {'maximum': 3})
    >>> same = ErrorDetail(("items", 0, "quantity"), "too_long", params={"maximum": 3})
    >>> detail == same
    True

    Raises:
        TypeError: When the path, code, message, params, bucket or cause has
            the wrong type.
        ValueError: When the path does not parse, the code is empty, or a
            param is named like a field.

    .. versionadded:: 0.1.0
    """

    # The key is (path, code, message, params as a frozenset): what equality,
    # hashing and the collection's deduplication use.
    __slots__ = ("_bucket", "_cause", "_key", "_params")

    def __init_subclass__(cls) -> NoReturn:
        msg = "ErrorDetail is final and cannot be subclassed; put extra data in params"
        raise TypeError(msg)

    def __init__(  # noqa: PLR0913 - one argument per field
        self,
        path: PathInput,
        code: str,
        message: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
    ) -> None:
        checked_path = to_path(path)
        _check_fields(code, message, bucket, cause)
        if params:
            frozen, params_key = _freeze_params(params)
        else:
            frozen, params_key = _NO_PARAMS, _NO_PARAMS_KEY
        self._key = (checked_path, code, message, params_key)
        self._params = frozen
        self._bucket = bucket
        self._cause = cause

    @staticmethod
    def _build(
        key: tuple[Path, str, str | None, frozenset[tuple[str, object]]],
        params: Mapping[str, object],
        bucket: Bucket,
        cause: BaseException | None,
    ) -> ErrorDetail:
        # Fields already checked: the fast path of Errors.add and with_prefix.
        detail = _new_object(ErrorDetail)
        detail._key = key  # noqa: SLF001 - filling a new ErrorDetail, in its class
        detail._params = params  # noqa: SLF001
        detail._bucket = bucket  # noqa: SLF001
        detail._cause = cause  # noqa: SLF001
        return detail

    @property
    def path(self) -> Path:
        """
        Where the error is; ``()`` for the base.

        >>> ErrorDetail("items[0].price", "invalid").path
        ('items', 0, 'price')
        """
        return self._key[0]

    @property
    def code(self) -> str:
        """
        The machine-readable reason, e.g. ``"blank"``.

        >>> ErrorDetail("email", "blank").code
        'blank'
        """
        return self._key[1]

    @property
    def message(self) -> str | None:
        """
        The message that overrides the code's template, if one was given.

        >>> ErrorDetail("email", "blank", "enter an email address").message
        'enter an email address'
        """
        return self._key[2]

    @property
    def params(self) -> Mapping[str, object]:
        """
        The values that fill the message template (read-only).

        >>> dict(ErrorDetail("name", "too_long", params={"maximum": 40}).params)
        {'maximum': 40}
        """
        return self._params

    @property
    def bucket(self) -> Bucket:
        """
        Who must act on the error.

        >>> ErrorDetail("card", "declined").bucket
        <Bucket.USER_FIXABLE: 'user_fixable'>
        """
        return self._bucket

    @property
    def cause(self) -> BaseException | None:
        """
        The exception behind the error, kept for logs; not compared.

        >>> ErrorDetail((), "unavailable", cause=TimeoutError("gateway")).cause
        TimeoutError('gateway')
        """
        return self._cause

    @property
    def reference(self) -> str:
        """
        A stable id that ties what a user is shown to what the logs hold.

        It is derived from the path, code, message, params and the cause's type
        and text, so the same error gets the same id in every process (as long
        as their text holds no memory address).

        >>> ErrorDetail((), "bug", "SELECT failed").reference
        'ERR-...'
        """
        path, code, message, _params_key = self._key
        cause = self._cause
        text = "|".join(
            [
                repr((path, code, message)),
                _canonical(self._params),
                "" if cause is None else f"{type(cause).__qualname__}: {cause}",
            ]
        )
        return "ERR-" + hashlib.blake2b(text.encode(), digest_size=5).hexdigest()

    def with_prefix(self, prefix: PathInput) -> ErrorDetail:
        """
        Return this error with `prefix` put in front of its path.

        >>> ErrorDetail("price", "invalid").with_prefix("items[2]").path
        ('items', 2, 'price')
        """
        prefix_path = to_path(prefix)
        return self._prefixed(prefix_path) if prefix_path else self

    def _prefixed(self, prefix_path: Path) -> ErrorDetail:
        # The prefix is already a checked path: with_prefix and Errors.merge.
        path, code, message, params_key = self._key
        return ErrorDetail._build(
            (prefix_path + path, code, message, params_key),
            self._params,
            self._bucket,
            self._cause,
        )

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        path: PathInput = None,
        *,
        classifier: Classifier | None = None,
    ) -> ErrorDetail:
        """
        Make an error from a caught exception, classified for who must act.

        The classifier's decision gives the bucket and the code (its kind:
        ``"timeout"``, ``"rate_limit"``, ``"declined"``, ...); the message
        comes from that code's template, never from the exception's text, so
        nothing the exception says reaches a user. A Retry-After becomes the
        ``retry_after`` param (whole seconds). The exception is kept as the
        cause, for logs.

        >>> timeout = TimeoutError("10.0.0.7:5432")
        >>> detail = ErrorDetail.from_exception(timeout, "payment")
        >>> detail.code, detail.bucket
        ('timeout', <Bucket.USER_VISIBLE: 'user_visible'>)
        >>> str(detail)
        'Payment took too long to answer; try again shortly'

        Raises:
            TypeError: When `exc` is not an exception.
        """
        if not isinstance(cast("object", exc), BaseException):  # untyped callers
            msg = f"from_exception() takes an exception, not {exc!r}"
            raise TypeError(msg)
        decision = (classifier or _classify.DEFAULT_CLASSIFIER).classify(exc)
        params: dict[str, object] = {}
        if decision.retry_after is not None:
            params["retry_after"] = math.ceil(decision.retry_after)
        return cls(
            path, decision.kind, params=params, bucket=decision.bucket, cause=exc
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not ErrorDetail:
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple[object, ...]:
        # Through a classmethod, so pickles name `outcome.ErrorDetail` only.
        path, code, message, _params_key = self._key
        fields = (path, code, message, dict(self._params), self._bucket, self._cause)
        return (ErrorDetail._restore, fields)

    @classmethod
    def _restore(  # noqa: PLR0913, PLR0917 - one argument per field
        cls,
        path: Path,
        code: str,
        message: str | None,
        params: dict[str, object],
        bucket: Bucket,
        cause: BaseException | None,
    ) -> ErrorDetail:
        return cls(path, code, message, params=params, bucket=bucket, cause=cause)

    def __str__(self) -> str:
        # str() may end up in front of a user: the redacted full message.
        # repr() is the one for logs.
        return _public_full_message(self, None)

    def __repr__(self) -> str:
        path, code, message, _params_key = self._key
        parts = [f"path={path!r}", f"code={code!r}"]
        if message is not None:
            parts.append(f"message={message!r}")
        if self._params:
            parts.append(f"params={dict(self._params)!r}")
        if self._bucket is not Bucket.USER_FIXABLE:
            parts.append(f"bucket=Bucket.{self._bucket.name}")
        if self._cause is not None:
            parts.append(f"cause={self._cause!r}")
        if self._bucket is Bucket.PROGRAMMER_ERROR:
            parts.append(f"reference={self.reference!r}")
        return f"ErrorDetail({', '.join(parts)})"


# The collection below keys its dict by this tuple, whose hash and equality run in C.
_key_of: Final = attrgetter("_key")
_build_detail: Final = ErrorDetail._build  # noqa: SLF001 # pyright: ignore[reportPrivateUsage]  # the checked fast path of Errors.add
_prefixed: Final = ErrorDetail._prefixed  # noqa: SLF001 # pyright: ignore[reportPrivateUsage]  # merge checks the prefix once
_new_object: Final = object.__new__


# Messages ------------------------------------------------------------------

DEFAULT_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "accepted": "must be accepted",
        "blank": "can't be blank",
        "confirmation": "doesn't match",
        "empty": "can't be empty",
        "equal_to": "must be equal to {count}",
        "even": "must be even",
        "exclusion": "is reserved",
        "expired": "has expired",
        "greater_than": "must be greater than {count}",
        "greater_than_or_equal_to": "must be greater than or equal to {count}",
        "inclusion": "is not included in the list",
        "invalid": "is invalid",
        "less_than": "must be less than {count}",
        "less_than_or_equal_to": "must be less than or equal to {count}",
        "not_a_number": "is not a number",
        "not_an_integer": "must be an integer",
        "odd": "must be odd",
        "other_than": "must be other than {count}",
        "out_of_range": "must be between {minimum} and {maximum}",
        "present": "must be blank",
        "required": "is required",
        "taken": "has already been taken",
        "too_long": "is too long (maximum is {maximum} characters)",
        "too_short": "is too short (minimum is {minimum} characters)",
        "wrong_length": "is the wrong length (should be {length} characters)",
        # The kinds of Decision, for errors made from caught exceptions.
        "auth": "could not be checked because of a configuration problem",
        "conflict": "was changed by someone else at the same time; try again",
        "connection": "could not be reached; try again shortly",
        "declined": "was declined",
        "not_found": "could not be found",
        "quota": "is unavailable: the usage limit has been reached",
        "rate_limit": "is busy; try again in a moment",
        "server": "is not working right now; try again later",
        "timeout": "took too long to answer; try again shortly",
        "unavailable": "is unavailable right now",
        "validation": "is invalid",
    }
)
"""
The built-in English templates, by code, in the style of Rails: a fragment that
follows the field's name (``"Email can't be blank"``). ``{name}`` placeholders
are filled from the error's params.

.. versionadded:: 0.1.0
"""

REDACTED_MESSAGE: Final = (
    "Something went wrong on our side. If it keeps happening, contact support "
    "and quote reference {reference}."
)
"""What end users are shown instead of the message of a programmer error."""

REDACTED_CODE: Final = "internal_error"
"""The code end users are shown for a programmer error."""


def _fill_template(template: str, params: Mapping[str, object]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match[1]
        if name is None:  # "{{" or "}}", as in str.format
            return match[0][0]
        return str(params[name]) if name in params else match[0]

    return _PLACEHOLDER.sub(substitute, template)


def _humanize(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _attribute(path: Path) -> str:
    """The field an error is about, for full messages: its last name, humanised."""
    names = [segment for segment in path if isinstance(segment, str)]
    return _humanize(names[-1]) if names else ""


def _fragment(detail: ErrorDetail, catalog: Mapping[str, str] | None) -> str:
    """The message of one error, as it follows the field name; unredacted."""
    if detail.message is not None:
        return _fill_template(detail.message, detail.params)
    field_key = ".".join(s for s in detail.path if isinstance(s, str))
    for source in (catalog, DEFAULT_MESSAGES):
        if source is None:
            continue
        template = source.get(f"{field_key}.{detail.code}") if field_key else None
        if template is None:
            template = source.get(detail.code)
        if template is not None:
            return _fill_template(template, detail.params)
    words = detail.code.replace("_", " ").replace("-", " ")
    return f"is invalid ({words})" if detail.path else words


def _public_fragment(detail: ErrorDetail, catalog: Mapping[str, str] | None) -> str:
    if detail.bucket is Bucket.PROGRAMMER_ERROR:
        return REDACTED_MESSAGE.format(reference=detail.reference)
    return _fragment(detail, catalog)


def _public_full_message(detail: ErrorDetail, catalog: Mapping[str, str] | None) -> str:
    fragment = _public_fragment(detail, catalog)
    attribute = _attribute(detail.path)
    if detail.bucket is Bucket.PROGRAMMER_ERROR or not attribute:
        return fragment[:1].upper() + fragment[1:]
    return f"{attribute} {fragment}".rstrip()


def _public_code(detail: ErrorDetail) -> str:
    return REDACTED_CODE if detail.bucket is Bucket.PROGRAMMER_ERROR else detail.code


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


def _public_params(detail: ErrorDetail) -> dict[str, object]:
    if detail.bucket is Bucket.PROGRAMMER_ERROR:
        return {}
    return {name: _json_safe(value) for name, value in detail.params.items()}


_STATUS_BY_BUCKET: Final = {
    None: HTTPStatus.UNPROCESSABLE_ENTITY,
    Bucket.USER_FIXABLE: HTTPStatus.UNPROCESSABLE_ENTITY,
    Bucket.USER_VISIBLE: HTTPStatus.SERVICE_UNAVAILABLE,
    Bucket.PROGRAMMER_ERROR: HTTPStatus.INTERNAL_SERVER_ERROR,
}


def _with_reference(detail: ErrorDetail, entry: dict[str, object]) -> dict[str, object]:
    if detail.bucket is Bucket.PROGRAMMER_ERROR:
        entry["reference"] = detail.reference
    return entry


# The collection --------------------------------------------------------------


class _Any:
    """The default of `Errors.where`'s path: match errors at any path."""

    def __repr__(self) -> str:
        return "<any path>"


_ANY_PATH: Final = _Any()


@final
class Errors:
    """
    An ordered collection of `ErrorDetail`: a service object's scratch pad.

    Add errors as they are found, merge in the errors of the objects called,
    then report them all at once. Insertion order is kept and an exact
    duplicate (same path, code, params and message) is stored once: adding or
    merging it again returns the one already there. An empty collection is
    falsy. Collections are equal when they hold equal errors in the same order;
    being mutable, they are not hashable.

    >>> errors = Errors()
    >>> errors.add("card.expiry_month", "out_of_range", minimum=1, maximum=12)
    ErrorDetail(path=('card', 'expiry_month'), code='out_of_range',
                params={'minimum': 1, 'maximum': 12})
    >>> errors.add(None, "cart_changed", "Your cart changed; check it and try again.")
    ErrorDetail(path=(), code='cart_changed',
                message='Your cart changed; check it and try again.')
    >>> errors.full_messages()
    ['Expiry month must be between 1 and 12',
     'Your cart changed; check it and try again.']

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_details",)
    # Mutable, so unhashable: defining __eq__ already sets __hash__ to None at
    # run time; this tells the type checkers.
    __hash__: ClassVar[None]  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __init__(self, details: Iterable[ErrorDetail] = _NONE_GIVEN) -> None:
        self._details: dict[tuple[object, ...], ErrorDetail] = {}
        if details is not _NONE_GIVEN:  # an empty collection needs no merge
            self.extend(details)

    # Adding ------------------------------------------------------------------

    @overload
    def add(
        self,
        path: PathInput,
        /,
        code: str,
        message: str | None = None,
        *,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        **params: object,
    ) -> ErrorDetail: ...

    @overload
    def add(
        self,
        /,
        *,
        code: str,
        message: str | None = None,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        **params: object,
    ) -> ErrorDetail: ...

    def add(
        self,
        path: PathInput = None,
        /,
        code: str | None = None,
        message: str | None = None,
        *,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        **params: object,
    ) -> ErrorDetail:
        """
        Add an error and return it (or the equal one already held).

        `path` is a dotted string (``"items[0].price"``), a tuple, or omitted
        or `None` for the base. Keyword arguments other than `bucket` and
        `cause` become the params that fill the message template.

        >>> errors = Errors()
        >>> errors.add("items[3].price", "invalid").path
        ('items', 3, 'price')
        >>> errors.add(code="cart_empty").path
        ()

        Raises:
            TypeError: When the path, code, message, bucket or cause has the
                wrong type, or `code` is missing.
            ValueError: When the path does not parse, the code is empty, or a
                param is named like a field. The collection is unchanged.
        """
        given_bucket: object = bucket  # typed object: these are checked at run time
        given_cause: object = cause
        if (
            type(code) is not str
            or not code
            or (message is not None and type(message) is not str)
            or type(given_bucket) is not Bucket
            or (given_cause is not None and not isinstance(given_cause, BaseException))  # pyright: ignore[reportUnnecessaryIsInstance]  # callers may be untyped
        ):
            if code is None:
                msg = (
                    "add() needs a code: errors.add('email', 'blank') for a field, "
                    "errors.add(code='blank') for the base"
                )
                raise TypeError(msg)
            _check_fields(code, message, bucket, cause)
        checked_path = (
            _PARSED_PATHS.get(path) if type(path) is str else None
        ) or to_path(path)
        if params:
            frozen, params_key = _freeze_params(params)
        else:
            frozen, params_key = _NO_PARAMS, _NO_PARAMS_KEY
        key = (checked_path, code, message, params_key)
        details = self._details
        held = details.get(key)
        if held is None:
            held = details[key] = _build_detail(key, frozen, bucket, cause)
        return held

    def add_exception(
        self,
        exc: BaseException,
        path: PathInput = None,
        *,
        classifier: Classifier | None = None,
    ) -> ErrorDetail:
        """
        Add an error made from a caught exception (see `ErrorDetail.from_exception`).

        >>> errors = Errors()
        >>> try:
        ...     raise ConnectionRefusedError("db:5432 refused")
        ... except OSError as exc:
        ...     _ = errors.add_exception(exc, "payment")
        >>> errors.full_messages()
        ['Payment could not be reached; try again shortly']

        Raises:
            TypeError: When `exc` is not an exception or `path` is not a path;
                nothing is added.
        """
        return self.append(ErrorDetail.from_exception(exc, path, classifier=classifier))

    def append(self, detail: ErrorDetail) -> ErrorDetail:
        """
        Add an existing `ErrorDetail`; return it, or the equal one already held.

        >>> errors = Errors()
        >>> first = errors.append(ErrorDetail("email", "taken"))
        >>> errors.append(ErrorDetail("email", "taken")) is first
        True
        >>> len(errors)
        1

        Raises:
            TypeError: When `detail` is not an `ErrorDetail`.
        """
        if type(detail) is not ErrorDetail:
            raise _not_a_detail("append", detail)
        return self._details.setdefault(_key_of(detail), detail)

    def extend(self, details: Iterable[ErrorDetail]) -> None:
        """
        Add every `ErrorDetail` of `details`, in order, skipping exact duplicates.

        >>> errors = Errors()
        >>> errors.extend([ErrorDetail("a", "blank"), ErrorDetail("a", "blank")])
        >>> len(errors)
        1

        Raises:
            TypeError: When an item is not an `ErrorDetail`; nothing is added.
        """
        self.merge(details)

    def merge(
        self, other: Errors | Iterable[ErrorDetail], *, prefix: PathInput = None
    ) -> Self:
        """
        Append the errors of `other`, in order, dropping exact duplicates.

        With `prefix`, each merged error's path is put under it, for the errors
        of a nested object. Merging a collection into itself changes nothing.
        Returns this collection, so merges chain.

        >>> order = Errors()
        >>> order.add("quantity", "greater_than", count=0)
        ErrorDetail(path=('quantity',), code='greater_than', params={'count': 0})
        >>> checkout = Errors().merge(order, prefix="items[0]")
        >>> _ = checkout.merge(order, prefix="items[0]")  # again: nothing new
        >>> [format_path(detail.path) for detail in checkout]
        ['items[0].quantity']

        Raises:
            TypeError: When `prefix` is not a path or an item of `other` is not
                an `ErrorDetail`; nothing is merged.
            ValueError: When `prefix` does not parse; nothing is merged.
        """
        prefix_path = to_path(prefix)
        # A snapshot first: `other` may be this very collection.
        incoming = (
            list(other._details.values())  # noqa: SLF001 - another Errors
            if type(other) is Errors
            else list(other)
        )
        for index, detail in enumerate(incoming):
            if type(detail) is not ErrorDetail:
                raise _not_a_detail("merge", detail, index)
        details = self._details
        if prefix_path:
            incoming = [_prefixed(detail, prefix_path) for detail in incoming]
        for detail in incoming:
            details.setdefault(_key_of(detail), detail)
        return self

    # Converting from other libraries -----------------------------------------

    @classmethod
    def from_pydantic(cls, exc: BaseException) -> Errors:
        """
        Convert a pydantic ``ValidationError`` into `Errors`.

        Each error's ``loc`` becomes the path, its ``type`` the code and its
        ``ctx`` the params; its ``msg`` is kept as the message. The rejected
        ``input`` is never kept: not in the params, and not in the cause, which
        is a copy of `exc` without the inputs. pydantic is read by duck typing,
        never imported.

        >>> from pydantic import BaseModel, Field, ValidationError
        >>> class Item(BaseModel):
        ...     price: int = Field(gt=0)
        >>> class Order(BaseModel):
        ...     items: list[Item]
        >>> try:
        ...     Order.model_validate({"items": [{"price": 0}]})
        ... except ValidationError as exc:
        ...     errors = Errors.from_pydantic(exc)
        >>> [(detail.path, detail.code, dict(detail.params)) for detail in errors]
        [(('items', 0, 'price'), 'greater_than', {'gt': 0})]
        >>> errors.messages()
        {'items[0].price': ['Input should be greater than 0']}

        Raises:
            TypeError: When `exc` does not look like a pydantic ValidationError.
        """
        from outcome._adapters import from_pydantic  # noqa: PLC0415 - optional

        return from_pydantic(exc)

    @classmethod
    def from_django(cls, exc: BaseException) -> Errors:
        """
        Convert a Django ``ValidationError`` into `Errors`.

        Field errors keep their field as the path; non-field errors
        (``"__all__"``) go to the base. Codes and params are kept, except the
        ``value`` param of Django's validators, which holds the rejected input.
        Messages are rendered with their params, as Django does.

        >>> from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
        >>> too_long = ValidationError("over %(max)s", "too_long", {"max": 5})
        >>> closed = ValidationError("Sign-ups are closed.", code="closed")
        >>> exc = ValidationError({"name": too_long, NON_FIELD_ERRORS: closed})
        >>> errors = Errors.from_django(exc)
        >>> [(detail.path, detail.code, dict(detail.params)) for detail in errors]
        [(('name',), 'too_long', {'max': 5}), ((), 'closed', {})]
        >>> errors.messages()
        {'name': ['over 5'], '': ['Sign-ups are closed.']}

        A form's errors convert too: ``ValidationError(form.errors.as_data())``.

        Raises:
            TypeError: When `exc` does not look like a Django ValidationError.
        """
        from outcome._adapters import from_django  # noqa: PLC0415 - optional

        return from_django(exc)

    @classmethod
    def from_marshmallow(cls, exc: BaseException) -> Errors:
        """
        Convert a marshmallow ``ValidationError`` into `Errors`.

        Nested dicts become paths (int keys become indices) and ``_schema``
        errors go to the base; marshmallow has no codes, so each is
        ``"invalid"`` with its message kept.

        >>> from marshmallow import Schema, ValidationError, fields
        >>> class ItemSchema(Schema):
        ...     price = fields.Integer(required=True)
        >>> class OrderSchema(Schema):
        ...     items = fields.List(fields.Nested(ItemSchema))
        >>> try:
        ...     OrderSchema().load({"items": [{"price": 1}, {}]})
        ... except ValidationError as exc:
        ...     errors = Errors.from_marshmallow(exc)
        >>> [(detail.path, detail.code, detail.message) for detail in errors]
        [(('items', 1, 'price'), 'invalid', 'Missing data for required field.')]

        Raises:
            TypeError: When `exc` does not look like a marshmallow ValidationError.
        """
        from outcome._adapters import from_marshmallow  # noqa: PLC0415 - optional

        return from_marshmallow(exc)

    # Querying ----------------------------------------------------------------

    def where(
        self,
        path: PathInput | _Any = _ANY_PATH,
        code: str | None = None,
        **params: object,
    ) -> list[ErrorDetail]:
        """
        Return the errors at `path` (any path when omitted) with `code` and `params`.

        Only what is given is matched; `params` match when each named param is
        present and equal.

        >>> errors = Errors()
        >>> _ = errors.add("name", "too_long", maximum=40)
        >>> _ = errors.add("name", "taken")
        >>> [detail.code for detail in errors.where("name", maximum=40)]
        ['too_long']

        Raises:
            TypeError, ValueError: When `path` is not a valid path.
        """
        wanted = None if isinstance(path, _Any) else to_path(path)
        return [
            detail
            for detail in self._details.values()
            if (wanted is None or detail.path == wanted)
            and (code is None or detail.code == code)
            and all(
                name in detail.params and detail.params[name] == value
                for name, value in params.items()
            )
        ]

    def has(self, path: PathInput, code: str | None = None) -> bool:
        """
        Return whether an error is held at `path` (with `code`, when given).

        >>> errors = Errors([ErrorDetail("email", "blank")])
        >>> errors.has("email"), errors.has("email", "taken"), errors.has(None)
        (True, False, False)
        """
        wanted = to_path(path)
        return any(
            detail.path == wanted and (code is None or detail.code == code)
            for detail in self._details.values()
        )

    def subtree(self, prefix: PathInput) -> Errors:
        """
        Return the errors under `prefix`, with `prefix` removed from their paths.

        >>> errors = Errors([ErrorDetail("items[0].price", "invalid")])
        >>> [detail.path for detail in errors.subtree("items[0]")]
        [('price',)]
        """
        prefix_path = to_path(prefix)
        size = len(prefix_path)
        found = Errors()
        for detail in self._details.values():
            if detail.path[:size] == prefix_path:
                found.append(
                    ErrorDetail(
                        detail.path[size:],
                        detail.code,
                        detail.message,
                        params=detail.params,
                        bucket=detail.bucket,
                        cause=detail.cause,
                    )
                )
        return found

    @property
    def base(self) -> list[ErrorDetail]:
        """
        The errors about the whole object rather than one field.

        >>> errors = Errors([ErrorDetail(None, "changed"), ErrorDetail("a", "blank")])
        >>> errors.base
        [ErrorDetail(path=(), code='changed')]
        """
        return [detail for detail in self._details.values() if not detail.path]

    @property
    def bucket(self) -> Bucket | None:
        """
        The most severe bucket among the errors, or `None` when there are none.

        >>> Errors([ErrorDetail("a", "blank", bucket=Bucket.USER_VISIBLE)]).bucket
        <Bucket.USER_VISIBLE: 'user_visible'>
        """
        return max((detail.bucket for detail in self._details.values()), default=None)

    def codes(self) -> list[str]:
        """
        Return each code held, once, in the order first added.

        >>> Errors([ErrorDetail("a", "blank"), ErrorDetail("b", "blank")]).codes()
        ['blank']
        """
        return list(dict.fromkeys(detail.code for detail in self._details.values()))

    def paths(self) -> list[Path]:
        """
        Return each path that has errors, once, in the order first added.

        >>> Errors([ErrorDetail("a", "blank"), ErrorDetail("a", "taken")]).paths()
        [('a',)]
        """
        return list(dict.fromkeys(detail.path for detail in self._details.values()))

    def delete(self, path: PathInput, code: str | None = None) -> list[ErrorDetail]:
        """
        Remove and return the errors at `path` (with `code`, when given).

        >>> errors = Errors([ErrorDetail("a", "blank"), ErrorDetail("a", "taken")])
        >>> [detail.code for detail in errors.delete("a", "blank")], len(errors)
        (['blank'], 1)

        Raises:
            TypeError, ValueError: When `path` is not a valid path; nothing is
                removed.
        """
        removed = self.where(path, code)
        for detail in removed:
            del self._details[_key_of(detail)]
        return removed

    def copy(self) -> Errors:
        """
        Return a new collection holding the same errors.

        >>> errors = Errors([ErrorDetail("a", "blank")])
        >>> duplicate = errors.copy()
        >>> _ = duplicate.add("b", "blank")
        >>> len(errors), len(duplicate)
        (1, 2)
        """
        duplicate = Errors()
        duplicate._details = self._details.copy()  # already checked and keyed
        return duplicate

    def clear(self) -> None:
        """
        Remove every error.

        >>> errors = Errors([ErrorDetail("a", "blank")])
        >>> errors.clear()
        >>> bool(errors)
        False
        """
        self._details.clear()

    def __len__(self) -> int:
        return len(self._details)

    def __iter__(self) -> Iterator[ErrorDetail]:
        return iter(list(self._details.values()))

    def __contains__(self, detail: object) -> bool:
        return type(detail) is ErrorDetail and _key_of(detail) in self._details

    def __bool__(self) -> bool:
        return bool(self._details)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Errors:
            return NotImplemented
        return list(self._details) == list(other._details)  # the keys, in order

    def __str__(self) -> str:
        # As for ErrorDetail: what a user may see; repr() is for logs.
        return "; ".join(self.full_messages())

    def __repr__(self) -> str:
        return f"Errors({list(self._details.values())!r})"

    def __reduce__(self) -> tuple[type[Errors], tuple[list[ErrorDetail]]]:
        return (Errors, (list(self._details.values()),))

    # Messages, for people ----------------------------------------------------

    def messages(
        self, catalog: Mapping[str, str] | None = None
    ) -> dict[str, list[str]]:
        """
        Return the messages by dotted path (``""`` for the base), for a form.

        Messages are rendered now, from `catalog` (code -> template) falling
        back to `DEFAULT_MESSAGES`. A programmer error's message is never shown:
        a generic one with its reference takes its place.

        >>> errors = Errors()
        >>> _ = errors.add("name", "too_long", maximum=40)
        >>> errors.messages()
        {'name': ['is too long (maximum is 40 characters)']}
        >>> errors.messages({"too_long": "has more than {maximum} letters"})
        {'name': ['has more than 40 letters']}
        """
        grouped: dict[str, list[str]] = {}
        for detail in self._details.values():
            grouped.setdefault(format_path(detail.path), []).append(
                _public_fragment(detail, catalog)
            )
        return grouped

    def full_messages(self, catalog: Mapping[str, str] | None = None) -> list[str]:
        """
        Return one sentence per error: the field's name, then its message.

        >>> errors = Errors()
        >>> _ = errors.add("email", "blank")
        >>> bug = Bucket.PROGRAMMER_ERROR
        >>> _ = errors.add(None, "bug", "KeyError: 'sku'", bucket=bug)
        >>> errors.full_messages()  # doctest: +ELLIPSIS
        ["Email can't be blank",
         'Something went wrong on our side. ... reference ERR-....']
        """
        return [
            _public_full_message(detail, catalog) for detail in self._details.values()
        ]

    # Serialisers, for APIs ---------------------------------------------------

    def to_list(
        self, catalog: Mapping[str, str] | None = None
    ) -> list[dict[str, object]]:
        """
        Return one JSON-ready dict per error, in order.

        Each has the ``path`` as a list, its ``pointer``, the ``code``, the
        rendered ``message`` and the ``params``; a programmer error shows the
        generic message, no params, and a ``reference``.

        >>> Errors([ErrorDetail("items[0].price", "invalid")]).to_list()
        [{'path': ['items', 0, 'price'], 'pointer': '/items/0/price',
          'code': 'invalid', 'message': 'is invalid', 'params': {}}]
        """
        return [
            _with_reference(
                detail,
                {
                    "path": list(detail.path),
                    "pointer": format_pointer(detail.path),
                    "code": _public_code(detail),
                    "message": _public_fragment(detail, catalog),
                    "params": _public_params(detail),
                },
            )
            for detail in self._details.values()
        ]

    def to_dict(
        self, catalog: Mapping[str, str] | None = None
    ) -> dict[str, list[dict[str, object]]]:
        """
        Return the errors grouped by dotted path (``""`` for the base).

        >>> Errors([ErrorDetail("email", "blank")]).to_dict()
        {'email': [{'code': 'blank', 'message': "can't be blank", 'params': {}}]}
        """
        grouped: dict[str, list[dict[str, object]]] = {}
        for detail in self._details.values():
            grouped.setdefault(format_path(detail.path), []).append(
                _with_reference(
                    detail,
                    {
                        "code": _public_code(detail),
                        "message": _public_fragment(detail, catalog),
                        "params": _public_params(detail),
                    },
                )
            )
        return grouped

    def to_problem_details(  # noqa: PLR0913 - the members of RFC 9457
        self,
        *,
        status: int | None = None,
        title: str | None = None,
        type: str = "about:blank",  # noqa: A002 - the member's name in RFC 9457
        detail: str | None = None,
        instance: str | None = None,
        catalog: Mapping[str, str] | None = None,
    ) -> dict[str, object]:
        """
        Return an RFC 9457 problem details object with an ``errors`` extension.

        Each entry of ``errors`` has the ``detail`` message, a JSON Pointer
        into the request document (``"#/items/0/price"``; ``"#"`` for the base)
        and the ``code``, as in the RFC's own example. `status` defaults to the
        most severe bucket's: 422 for errors the user can fix, 503 for ones the
        user can only be told about, 500 when a programmer error is present.
        `title` defaults to the status phrase, as the RFC asks when `type` is
        ``about:blank``.

        >>> errors = Errors([ErrorDetail("age", "greater_than", params={"count": 0})])
        >>> errors.to_problem_details()
        {'type': 'about:blank', 'title': 'Unprocessable Entity', 'status': 422,
         'errors': [{'detail': 'must be greater than 0', 'pointer': '#/age',
                     'code': 'greater_than'}]}
        """
        http_status = HTTPStatus(status if status is not None else self._status())
        problem: dict[str, object] = {
            "type": type,
            "title": title if title is not None else http_status.phrase,
            "status": http_status.value,
        }
        if detail is not None:
            problem["detail"] = detail
        if instance is not None:
            problem["instance"] = instance
        problem["errors"] = [
            _with_reference(
                error,
                {
                    "detail": _public_fragment(error, catalog)
                    if error.path
                    else _public_full_message(error, catalog),
                    "pointer": "#" + format_pointer(error.path),
                    "code": _public_code(error),
                },
            )
            for error in self._details.values()
        ]
        return problem

    def _status(self) -> HTTPStatus:
        return _STATUS_BY_BUCKET[self.bucket]

    def to_jsonapi(
        self,
        *,
        status: int | None = None,
        pointer_root: str = "/data/attributes",
        catalog: Mapping[str, str] | None = None,
    ) -> dict[str, list[dict[str, object]]]:
        """
        Return a JSON:API document of error objects.

        Each has ``status`` (a string, as JSON:API wants; by default from the
        most severe bucket, as in `to_problem_details`), ``code``, ``detail``
        and, for a field, ``source.pointer`` under `pointer_root`.

        >>> Errors([ErrorDetail("title", "blank")]).to_jsonapi()
        {'errors': [{'status': '422', 'code': 'blank', 'detail': "Title can't be blank",
                     'source': {'pointer': '/data/attributes/title'}}]}
        """
        objects: list[dict[str, object]] = []
        status_text = str(status if status is not None else self._status().value)
        for error in self._details.values():
            entry: dict[str, object] = {
                "status": status_text,
                "code": _public_code(error),
                "detail": _public_full_message(error, catalog),
            }
            if error.path:
                entry["source"] = {"pointer": pointer_root + format_pointer(error.path)}
            if error.bucket is Bucket.PROGRAMMER_ERROR:
                entry["meta"] = {"reference": error.reference}
            objects.append(entry)
        return {"errors": objects}

    def to_graphql(
        self, catalog: Mapping[str, str] | None = None
    ) -> list[dict[str, object]]:
        """
        Return GraphQL user errors: ``{field, message, code}`` per error.

        ``field`` is the path as a list of strings (`None` for the base), as in
        the user-error payloads of GraphQL mutations.

        >>> errors = Errors()
        >>> _ = errors.add("items[0].quantity", "greater_than", count=0)
        >>> errors.to_graphql()
        [{'field': ['items', '0', 'quantity'],
          'message': 'Quantity must be greater than 0', 'code': 'greater_than'}]
        """
        return [
            _with_reference(
                error,
                {
                    "field": [str(segment) for segment in error.path] or None,
                    "message": _public_full_message(error, catalog),
                    "code": _public_code(error),
                },
            )
            for error in self._details.values()
        ]


def _not_a_detail(method: str, item: object, index: int | None = None) -> TypeError:
    where = "" if index is None else f" item {index} of what was given is"
    return TypeError(
        f"Errors.{method}() takes ErrorDetail values, but{where or ' it got'} "
        f"{item!r} (of type {type(item).__name__}); use errors.add(path, code) "
        "to add an error from its parts"
    )
