"""
Reading the facts of one link of a failure chain, by duck typing.

Statuses, error codes, headers, errno and the names of a link's classes are
read without importing any client. Reading never raises an `Exception`: a
hostile attribute counts as missing, and so does any one fact that cannot be
read, without taking the others with it. What a class says is worked out once
per class.

Values are judged by their real class, never by what their ``__class__``
says, and a subclass of `str` or `int` (a `StrEnum`, an `http.HTTPStatus`) is
read as the plain text or number it holds, without calling any method it
overrides: ``lower()``, ``strip()`` or ``__len__`` may raise, or lie.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping
from typing import Final, TypeAlias, cast

from outcome._classify.rules import (
    _CONNECTION_NAMES,
    _DEPRECATED_ATTRIBUTES,
    _NOT_TIMEOUT_NAMES,
    _TIMEOUT_NAMES,
    _VALIDATION_NAMES,
)

_MAX_TEXT: Final = 200  # longer codes and header values are ignored
_Getter: TypeAlias = Callable[[object, str, object], object]


def _attr(obj: object, name: str, default: object = None) -> object:
    """getattr that never raises an Exception: hostile properties count as missing."""
    try:
        return getattr(obj, name, default)
    except Exception:  # noqa: BLE001 - a property may raise anything
        return default


def _key(obj: object, key: str) -> object:
    """obj[key] for real mappings, never raising."""
    try:  # an ABC's isinstance runs the object's own code too
        if not isinstance(obj, Mapping):
            return None
        return obj.get(key)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    except Exception:  # noqa: BLE001 - a mapping may raise anything
        return None


def _as_text(value: object) -> str | None:
    """
    `value` as a plain str, when its class is str or a subclass of it.

    A subclass is copied to a plain str by str's own method, so that nothing
    it overrides (``lower``, ``strip``, ``__len__``) ever runs.
    """
    if type(value) is str:
        return value
    if issubclass(type(value), str):  # its real class, not its __class__
        return str.__str__(cast("str", value))
    return None


def _as_int(value: object) -> int | None:
    """`value` as a plain int, when it is an int (an IntEnum too) but not a bool."""
    if type(value) is int:
        return value
    if issubclass(type(value), int) and type(value) is not bool:
        return int.__int__(cast("int", value))  # int's own: no override runs
    return None


def _short_text(value: object) -> str | None:
    text = _as_text(value)
    return text if text is not None and 0 < len(text) <= _MAX_TEXT else None


def _names(cls: type) -> frozenset[str]:
    """`module.Qualname` of every class in the MRO, also under the top package."""
    found: set[str] = set()
    for klass in cls.__mro__:
        module = _short_text(getattr(klass, "__module__", None)) or "?"
        qualname = _short_text(getattr(klass, "__qualname__", None)) or "?"
        found.add(f"{module}.{qualname}")
        found.add(f"{module.partition('.')[0]}.{qualname}")
    return frozenset(found)


# The attributes of a link that the rules read. For ordinary classes they are
# read from the instance __dict__, plus the class attributes of those names,
# found once per class: far cheaper than a getattr per name, which dominated
# the cost of classifying a chain.
_LINK_ATTRIBUTES: Final = frozenset(
    {
        "__outcome_decision__",
        "body",
        "code",
        "errno",
        "error",
        "headers",
        "http_status",
        "os_error",
        "response",
        "status",
        "status_code",
        "type",
    }
)


_MAX_BODY: Final = 64 * 1024


def _response_body(response: object) -> object:
    """
    Return the JSON body a client already read, without any I/O.

    httpx and requests keep a read body as bytes in ``response._content``;
    whatever the status, its error code may tell more than the status does (a
    quota behind a 429, a card declined behind a 400). Bodies larger than
    `_MAX_BODY`, not JSON, or nested too deep to parse count as missing.
    """
    content = _attr(response, "_content")
    if type(content) is not bytes:
        if not issubclass(type(content), bytes):
            return None
        content = bytes.__bytes__(cast("bytes", content))  # no override runs
    if not 0 < len(content) <= _MAX_BODY:
        return None
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None


_GENERIC_GETATTRIBUTE: Final = (object.__getattribute__, BaseException.__getattribute__)
_OS_ERRNO: Final = vars(OSError)["errno"]
# Set by BaseException itself; a class that redefines one is read with getattr.
_CHAIN_ATTRIBUTES: Final = ("__cause__", "__context__", "__dict__")
_ABSENT: Final = object()
# Absent, or the __dict__ slot every class with instance dicts gets.
_DEFAULT_DESCRIPTORS: Final = (object, types.GetSetDescriptorType)


class _ClassInfo:
    """What a class says about its instances, worked out once per class."""

    __slots__ = (
        "class_level",
        "connection",
        "errno",
        "fast",
        "plain",
        "timeout",
        "validation",
    )

    def __init__(self, cls: type, *, opaque: bool = False) -> None:
        # Classes that customise attribute access are read with getattr.
        getattribute = cast("object", cls.__getattribute__)
        self.plain = (
            not opaque
            and getattribute in _GENERIC_GETATTRIBUTE
            and not hasattr(cls, "__getattr__")
            and not any(
                type(vars(klass).get(name, _ABSENT)) not in _DEFAULT_DESCRIPTORS
                for klass in cls.__mro__
                if klass not in (BaseException, object)
                for name in _CHAIN_ATTRIBUTES
            )
        )
        names = _names(cls)
        skipped: set[str] = set()
        for owner, aliases in _DEPRECATED_ATTRIBUTES.items():
            if owner in names:
                skipped |= aliases
        self.class_level = tuple(
            sorted(
                name
                for name in _LINK_ATTRIBUTES - skipped
                if any(name in vars(klass) for klass in cls.__mro__)
            )
        )
        # An exception whose only class-level fact is OSError's errno slot,
        # which cannot raise, is read inline by _chain.
        errno_attribute = next(
            (vars(klass)["errno"] for klass in cls.__mro__ if "errno" in vars(klass)),
            None,
        )
        self.errno = self.class_level == ("errno",) and errno_attribute is _OS_ERRNO
        self.fast = (
            self.plain
            and issubclass(cls, BaseException)
            and (self.errno or not self.class_level)
        )
        # urllib3's NewConnectionError subclasses its ConnectTimeoutError for
        # history's sake, but means the connection failed; None: by errno.
        self.timeout: bool | None = (
            False
            if not names.isdisjoint(_NOT_TIMEOUT_NAMES)
            else (True if not names.isdisjoint(_TIMEOUT_NAMES) else None)
        )
        self.connection = not names.isdisjoint(_CONNECTION_NAMES)
        self.validation = not names.isdisjoint(_VALIDATION_NAMES)


_CLASS_INFO: dict[type, _ClassInfo] = {}
_CLASS_INFO_LIMIT = 4096  # classes made on the fly must not grow it forever


def _class_info(cls: type) -> _ClassInfo:
    try:
        info = _CLASS_INFO.get(cls)
    except Exception:  # noqa: BLE001 - a metaclass that cannot hash: no cache
        return _ClassInfo(cls)
    if info is None:
        info = _ClassInfo(cls)
        if len(_CLASS_INFO) < _CLASS_INFO_LIMIT:
            _CLASS_INFO[cls] = info
    return info


def _own_attributes(link: object, info: _ClassInfo) -> dict[str, object] | None:
    """
    The attributes of `link` that the rules read, without the empty ones.

    None when there are none, as for most links of a chain: their attributes
    the rules read are absent, None or an empty dict.
    """
    instance = getattr(link, "__dict__", None)
    found: dict[str, object] | None = None
    if type(instance) is dict:
        for name, value in cast("dict[str, object]", instance).items():
            if (
                value is not None
                and name in _LINK_ATTRIBUTES
                and not (type(value) is dict and not value)
            ):
                if found is None:
                    found = {}
                found[name] = value
    for name in info.class_level:
        # What getattr says wins: a property may hide the instance's entry.
        value = getattr(link, name, None)
        if value is not None:
            if found is None:
                found = {}
            found[name] = value
        elif found is not None:
            found.pop(name, None)
    return found or None


def _get_key(obj: object, key: str) -> object:
    """obj[key] when obj is a mapping; fast for dicts, never raising."""
    if type(obj) is dict:
        try:
            return obj.get(key)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        except Exception:  # noqa: BLE001 - a key whose == raises
            return None
    return None if obj is None else _key(obj, key)


def _first_status(*values: object) -> int | None:
    """The first value that is an HTTP status: an int (an enum too), not a bool."""
    for value in values:
        if type(value) is int:  # the usual case, first and fast
            if 100 <= value <= 599:  # noqa: PLR2004
                return value
        elif value is not None:
            number = _as_int(value)
            if number is not None and 100 <= number <= 599:  # noqa: PLR2004
                return number
    return None


def _is_empty_dict(value: object) -> bool:
    return type(value) is dict and not value


def _body(own: Callable[[str], object], response: object) -> object:
    """The link's JSON body; without one, the body its response already read."""
    body = own("body")
    if _is_empty_dict(body):  # {} says no more than a missing body
        body = None
    if body is None and response is not None and type(response) is not dict:
        body = _response_body(response)
    return body


def _codes(candidates: list[object]) -> list[str]:
    """The candidates that are codes, in lower case: short, non-empty text."""
    codes: list[str] = []
    for candidate in candidates:
        if candidate is None:
            continue
        text = candidate if type(candidate) is str else _as_text(candidate)
        if text is not None and 0 < len(text) <= _MAX_TEXT:
            codes.append(text.lower())
    return codes


def _read_link(link: object, own: Callable[[str], object], get: _Getter) -> _Facts:
    """Read every fact of one link in one pass, with `get` as getattr."""
    response = own("response")
    raw_response = response  # as read: the type checks below narrow `response`
    code = own("code")
    headers: list[object] = []
    boto_metadata = _get_key(response, "ResponseMetadata")
    botocore_error = _get_key(response, "Error")  # botocore: response["Error"]["Code"]
    if response is not None and type(response) is not dict:
        response_status = _first_status(
            get(response, "status_code", None), get(response, "status", None)
        )
        response_headers = get(response, "headers", None)
        if response_headers is not None and not _is_empty_dict(response_headers):
            headers.append(response_headers)
    else:
        response_status = _first_status(_get_key(boto_metadata, "HTTPStatusCode"))
        boto_headers = _get_key(boto_metadata, "HTTPHeaders")
        if boto_headers is not None:
            headers.append(boto_headers)
    status = _first_status(
        own("status_code"),
        response_status,
        own("status"),
        own("http_status"),
        code,
    )
    own_headers = own("headers")
    if own_headers is not None and not _is_empty_dict(own_headers):
        headers.append(own_headers)
    # A decline code (Stripe's) says why a card was declined: more than the
    # code beside it (card_declined), so it is read first.
    declines: list[object] = []
    candidates: list[object] = [code, own("type")]
    body = _body(own, raw_response)
    if body is not None:
        body_error = _get_key(body, "error")
        declines += [
            _get_key(body, "decline_code"),
            _get_key(body_error, "decline_code"),
        ]
        candidates += [
            _get_key(body, "code"),
            _get_key(body, "type"),
            _get_key(body_error, "code"),
            _get_key(body_error, "type"),
        ]
    if botocore_error is not None:
        candidates.append(_get_key(botocore_error, "Code"))
    error = own("error")
    if error is not None:
        declines.append(get(error, "decline_code", None))
        candidates.append(get(error, "code", None))
    decline_codes = _codes(declines) if declines else []
    number = own("errno")
    return _Facts(
        link,
        status,
        decline_codes + _codes(candidates),
        decline_codes[0] if decline_codes else None,
        headers,
        number if type(number) is int else _errno(number, own, get),
        own("__outcome_decision__"),
    )


def _errno(number: object, own: Callable[[str], object], get: _Getter) -> int | None:
    """An errno that is not a plain int: an IntEnum's, else aiohttp's os_error's."""
    found = _as_int(number)
    if found is None:
        os_error = own("os_error")
        if os_error is not None:
            found = _as_int(get(os_error, "errno", None))
    return found


class _Facts:
    """What one link of a failure chain says about itself, when it says anything."""

    __slots__ = ("codes", "decline", "errno", "headers", "hook", "link", "status")

    def __init__(  # noqa: PLR0913, PLR0917 - one argument per fact
        self,
        link: object,
        status: int | None,
        codes: list[str],
        decline: str | None,
        headers: list[object],
        errno: int | None,
        hook: object,
    ) -> None:
        self.link = link
        self.status = status
        self.codes = codes
        self.decline = decline
        self.headers = headers
        self.errno = errno
        self.hook = hook

    @staticmethod
    def read(link: object, info: _ClassInfo) -> _Facts | None:
        """
        Read `link`; None when it carries no fact the rules read.

        Plain getattr first; if any attribute raises, each fact is read guarded.
        """
        try:
            if not info.plain:
                return _read_link(link, lambda name: getattr(link, name, None), getattr)
            own = _own_attributes(link, info)
            if own is None:
                return None
            return _read_link(link, own.get, getattr)
        except Exception:  # noqa: BLE001 - hostile attributes: read each one guarded
            return _read_link(link, lambda name: _attr(link, name), _attr)

    def header(self, name: str) -> str | None:
        """The value of header `name` on this link, looked up without case."""
        for headers in self.headers:
            if type(headers) is dict:  # plain dicts: match the name without case
                for key, item in cast("dict[object, object]", headers).items():
                    text = key if type(key) is str else _as_text(key)
                    if text is not None and text.lower() == name:
                        return _header_text(item)
                continue
            getter = _attr(headers, "get")
            if not callable(getter):
                continue
            for key in (name, name.title()):
                try:
                    found: object = getter(key)
                except Exception:  # noqa: BLE001 - any object may stand here
                    found = None
                text = _header_text(found)
                if text is not None:
                    return text
        return None


def _header_text(value: object) -> str | None:
    """A header's value as plain, stripped text; bytes as latin-1."""
    text = _as_text(value)
    if text is None and issubclass(type(value), bytes):
        text = bytes.decode(cast("bytes", value), "latin-1")  # bytes' own decode
    return None if text is None else text.strip()[:_MAX_TEXT]


# The info of a class that cannot even be looked up: read it all with getattr.
_OPAQUE: Final = _ClassInfo(object, opaque=True)
