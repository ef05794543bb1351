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
import sys
import types
from collections.abc import Callable, Mapping
from typing import Final, TypeAlias, cast

from outcome._classify.rules import (
    _CASELESS_HEADERS,
    _CONNECTION_NAMES,
    _DEPRECATED_ATTRIBUTES,
    _LOWER_ITEMS_HEADERS,
    _NOT_TIMEOUT_NAMES,
    _RAW_HEADERS,
    _READ_HEADERS,
    _TIME_LIMIT_NAMES,
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
        # Without a get() there is nothing to call, whatever isinstance says:
        # asking an ABC costs more than the rest of reading a response.
        getter = getattr(obj, "get", None)
        if getter is None or not isinstance(obj, Mapping):
            return None
        return getter(key)
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
# First bytes that no JSON object starts with: printable ASCII but "{".
_STARTS_NO_OBJECT: Final = frozenset(range(ord("!"), ord("~") + 1)) - {ord("{")}


def _response_body(content: object) -> object:
    """
    Return the JSON body a client already read, without any I/O.

    httpx and requests keep a read body as bytes in ``response._content``,
    which is `content`; whatever the status, its error code may tell more
    than the status does (a quota behind a 429, a card declined behind a
    400). Bodies larger than `_MAX_BODY`, not JSON, nested too deep to
    parse, or that start as no JSON object does, count as missing.
    """
    if type(content) is not bytes:
        if not issubclass(type(content), bytes):
            return None
        content = bytes.__bytes__(cast("bytes", content))  # no override runs
    if not 0 < len(content) <= _MAX_BODY:
        return None
    # Only a JSON object holds codes, and one starts with "{" or whitespace:
    # text, HTML or a list is not parsed at all. A first byte outside
    # printable ASCII may be a byte order mark or UTF-16, left to json.
    if content[0] in _STARTS_NO_OBJECT:
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
        "time_limit",
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
        # A job engine's time limit (Celery's soft one, RQ's): see _retry.
        self.time_limit = not names.isdisjoint(_TIME_LIMIT_NAMES)


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


def _said(instance: dict[str, object]) -> dict[str, object] | None:
    """
    The entries of an instance dict that the rules read, without the empty ones.

    None when there are none, as for most links of a chain: their attributes
    the rules read are absent, None or an empty dict.
    """
    found: dict[str, object] | None = None
    for name, value in instance.items():
        if (
            value is not None
            and name in _LINK_ATTRIBUTES
            and not (type(value) is dict and not value)
        ):
            if found is None:
                found = {}
            found[name] = value
    return found


def _with_class_level(
    link: object, info: _ClassInfo, found: dict[str, object] | None
) -> dict[str, object] | None:
    """`found`, with the attributes the rules read that the class defines."""
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
    headers: list[object] = []
    response_status = botocore_error = content = None
    if response is not None:
        response_status, botocore_error, content = _read_response(
            response, headers, get
        )
    code = own("code")
    own_status = own("status_code")
    status: int | None
    if own_status is None and response_status is not None:  # the first: it wins
        status = response_status
    elif type(own_status) is int and 100 <= own_status <= 599:  # noqa: PLR2004
        status = own_status
    else:
        status = _first_status(
            own_status, response_status, own("status"), own("http_status"), code
        )
    own_headers = own("headers")
    if own_headers is not None and not _is_empty_dict(own_headers):
        headers.append(own_headers)
    body = own("body")
    if body is None or _is_empty_dict(body):  # {} says no more than no body
        body = None if content is None else _response_body(content)
    kind = own("type")
    error = own("error")
    codes: list[str] = []
    decline = None
    if not (
        code is None
        and kind is None
        and body is None
        and botocore_error is None
        and error is None
    ):
        codes, decline = _read_codes([code, kind], body, botocore_error, error, get)
    own_errno = own("errno")
    number: int | None
    if type(own_errno) is int:
        number = own_errno
    elif own_errno is None and own("os_error") is None:
        number = None
    else:
        number = _errno(own_errno, own, get)
    return _Facts(
        link,
        status,
        codes,
        decline,
        headers,
        number,
        own("__outcome_decision__"),
    )


def _read_response_link(link: object, response: object) -> _Facts:
    """
    `_read_link` for a link whose only fact the rules read is its response.

    What the link itself would say is missing, so its response tells all.
    """
    headers: list[object] = []
    status, botocore_error, content = _read_response(response, headers, getattr)
    # No body, or an empty one, as a response without content keeps.
    empty = content is None or (type(content) is bytes and not content)
    body = None if empty else _response_body(content)
    codes: list[str] = []
    decline = None
    if not (body is None and botocore_error is None):
        codes, decline = _read_codes([None, None], body, botocore_error, None, getattr)
    return _Facts(link, status, codes, decline, headers, None, None)


def _read_response(
    response: object, headers: list[object], get: _Getter
) -> tuple[int | None, object, object]:
    """
    The status, botocore error and read body of a link's response.

    Its headers go to `headers`. botocore's response is a dict, with its
    status and headers in ``ResponseMetadata`` and its error in ``Error``;
    the clients' are objects, and httpx and requests keep the body they
    read in ``_content``.
    """
    if type(response) is dict:
        response = cast("dict[str, object]", response)
        boto_metadata = _get_key(response, "ResponseMetadata")
        boto_headers = _get_key(boto_metadata, "HTTPHeaders")
        if boto_headers is not None:
            headers.append(boto_headers)
        boto_status = _first_status(_get_key(boto_metadata, "HTTPStatusCode"))
        return boto_status, _get_key(response, "Error"), None
    status_code = get(response, "status_code", None)
    if type(status_code) is int and 100 <= status_code <= 599:  # noqa: PLR2004
        status: int | None = status_code
    else:
        status = _first_status(status_code, get(response, "status", None))
    response_headers = get(response, "headers", None)
    if response_headers is not None and not _is_empty_dict(response_headers):
        headers.append(response_headers)
    # A mapping that is not a dict may hold botocore's error too.
    return status, _key(response, "Error"), get(response, "_content", None)


def _read_codes(
    candidates: list[object],
    body: object,
    botocore_error: object,
    error: object,
    get: _Getter,
) -> tuple[list[str], str | None]:
    """
    The codes of a link, decline codes first, and its decline code, if any.

    A decline code (Stripe's) says why a card was declined: more than the
    code beside it (card_declined), so it is read first.
    """
    declines: list[object] = []
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
    if error is not None:
        declines.append(get(error, "decline_code", None))
        candidates.append(get(error, "code", None))
    decline_codes = _codes(declines) if declines else []
    decline = decline_codes[0] if decline_codes else None
    return decline_codes + _codes(candidates), decline


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

    __slots__ = (
        "codes",
        "decline",
        "errno",
        "headers",
        "hook",
        "link",
        "status",
        "table",
    )

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
        # The headers the rules read, read the first time one is asked.
        self.table: _HeaderTable | None = None

    @staticmethod
    def read(link: object, info: _ClassInfo) -> _Facts | None:
        """
        Read `link`; None when it carries no fact the rules read.

        Plain getattr first; if any attribute raises, each fact is read guarded.
        """
        try:
            if not info.plain:
                return _read_link(link, lambda name: getattr(link, name, None), getattr)
            instance = getattr(link, "__dict__", None)
            own = (
                _said(cast("dict[str, object]", instance))
                if type(instance) is dict
                else None
            )
        except Exception:  # noqa: BLE001 - hostile attributes: read each one guarded
            return _read_link(link, lambda name: _attr(link, name), _attr)
        return _Facts.read_own(link, info, own)

    @staticmethod
    def read_own(
        link: object, info: _ClassInfo, own: dict[str, object] | None
    ) -> _Facts | None:
        """Read a link of a plain class, given what its instance dict says (`_said`)."""
        try:
            if info.class_level:
                own = _with_class_level(link, info, own)
            if own is None:
                return None
            if len(own) == 1:
                response = own.get("response")
                if response is not None:  # as httpx's and requests' errors say
                    return _read_response_link(link, response)
            return _read_link(link, own.get, getattr)
        except Exception:  # noqa: BLE001 - hostile attributes: read each one guarded
            return _read_link(link, lambda name: _attr(link, name), _attr)

    def header_table(self) -> _HeaderTable:
        """
        The value of every header the rules read, by its lower-case name.

        The headers objects are read the first time, in order, the first
        that tells deciding each name: each in one pass where its class
        allows (a dict, httpx's, requests'), so that a header costs a dict
        lookup, and the others by their get(). A name is missing when no
        object has it, and maps to None when a dict has it first with a
        value that is not text, as a dict's first key of a name decides.
        """
        table = self.table
        if table is not None:
            return table
        table = {}
        for headers in self.headers:
            if len(table) == len(_READ_HEADERS):
                break
            reader = _header_reader(headers)
            if isinstance(reader, dict):
                if not table:
                    table = reader
                    continue
                for name, text in reader.items():
                    table.setdefault(name, text)
            elif reader is not None:
                _ask_headers(table, *reader)
        self.table = table
        return table


_HeaderTable: TypeAlias = dict[str, "str | None"]
# A headers object as it is read: the headers the rules read, by name (one
# that maps to None decides too: no later object is asked), or its get() and
# whether that ignores case, or None when it has no get().
_HeaderReader: TypeAlias = "_HeaderTable | tuple[Callable[[str], object], bool] | None"
# How the headers of a class are read: in one pass by a function (None
# when it cannot), else by get(); and whether its get() ignores case.
_ClassHeaders: TypeAlias = tuple["Callable[[object], _HeaderTable | None] | None", bool]
_HEADER_CLASSES: dict[type, _ClassHeaders] = {}
_MAX_HEADERS: Final = 1024  # more are read by get(), one name at a time
_RAW_NAMES: Final = {name.encode("ascii"): name for name in _READ_HEADERS}
# Bound once, for the loop over every header of an httpx response.
_raw_name: Final = _RAW_NAMES.get
_lower: Final = bytes.lower
_decode: Final = bytes.decode
_HEADER_NAMES: Final = tuple(sorted(_READ_HEADERS))  # asked by get() in this order
_SPELLINGS: Final = {name: (name, name.title()) for name in _READ_HEADERS}


def _header_reader(headers: object) -> _HeaderReader:
    """
    How `headers` is read: into a dict in one pass, else by its get().

    A plain dict is read without case, the first key of each name deciding.
    The header classes of the clients (`rules`) that can be read in one
    pass are read so, as their get() would answer; any other class, even a
    subclass of one of them, is read by its get(), each name also in title
    case unless its class is known to ignore case.
    """
    if type(headers) is dict:
        return _dict_table(cast("dict[object, object]", headers))
    try:
        table_of, caseless = _header_class(type(headers))
    except Exception:  # noqa: BLE001 - a class that cannot be named or hashed
        table_of, caseless = None, False
    if table_of is not None:
        try:
            table = table_of(headers)
        except Exception:  # noqa: BLE001 - not as its class promised: read by get()
            table = None
        if table is not None:
            return table
        caseless = False
    getter = _attr(headers, "get")
    if not callable(getter):
        return None
    return getter, caseless


def _header_class(cls: type) -> _ClassHeaders:
    """How the headers of `cls` are read, by the class's own name only."""
    how = _HEADER_CLASSES.get(cls)
    if how is None:
        module = _short_text(getattr(cls, "__module__", None)) or "?"
        qualname = _short_text(getattr(cls, "__qualname__", None)) or "?"
        name = f"{module.partition('.')[0]}.{qualname}"
        how = (
            (_list_reader(cls, module, qualname) or _raw_table, True)
            if name in _RAW_HEADERS
            else (_lower_items, True)
            if name in _LOWER_ITEMS_HEADERS
            else (None, name in _CASELESS_HEADERS)
        )
        if len(_HEADER_CLASSES) < _CLASS_INFO_LIMIT:
            _HEADER_CLASSES[cls] = how
    return how


def _dict_table(headers: dict[object, object]) -> dict[str, str | None]:
    """The headers the rules read, from a plain dict: the first key of each name."""
    table: dict[str, str | None] = {}
    for key, item in headers.items():
        text = key if type(key) is str else _as_text(key)
        if text is not None:
            name = text.lower()
            if name in _READ_HEADERS and name not in table:
                table[name] = _header_text(item)
    return table


def _trimmed(joined: dict[str, str]) -> _HeaderTable:
    """Each header's joined text, stripped and cut as `_header_text` has it."""
    table: _HeaderTable = {}
    for name, text in joined.items():
        table[name] = text.strip()[:_MAX_TEXT]
    return table


def _raw_table(headers: object) -> _HeaderTable | None:
    """
    The headers the rules read, from httpx's byte pairs, as its get() answers.

    Repeated headers are joined with ``", "`` and decoded as the headers
    object decodes them. None when there are too many to read at once.
    """
    # By getattr: `headers` is any object, whose class is known by name only.
    pairs = getattr(headers, "raw")  # noqa: B009
    encoding = getattr(headers, "encoding")  # noqa: B009
    if type(encoding) is not str:
        return None
    joined: dict[str, str] = {}
    for index, (key, value) in enumerate(pairs):
        if index == _MAX_HEADERS:
            return None
        name = _raw_name(_lower(key))  # bytes' own lower(): no override runs
        if name is not None:
            text = _decode(value, encoding)
            before = joined.get(name)
            joined[name] = text if before is None else f"{before}, {text}"
    return _trimmed(joined)


def _list_reader(
    cls: type, module: str, qualname: str
) -> Callable[[object], _HeaderTable | None] | None:
    """
    A reader of httpx's own `Headers` by its ``_list``, or None for any other class.

    httpx's ``raw`` property builds a new list of pairs from ``_list`` on every
    read, which costs a third of reading them: when `cls` is the class its
    package exports, with httpx's own ``raw`` and ``encoding`` properties and
    attribute access, the pairs are read from ``_list`` as ``raw`` would give
    them. The properties are checked again on every read, and headers whose
    ``_list`` or ``_encoding`` is not as httpx keeps them are read by
    `_raw_table`.
    """
    properties = _own_properties(cls, module, qualname)
    if properties is None or not _lists_as_raw_reads(cls):
        return None
    raw, encoding = properties

    def read(headers: object) -> _HeaderTable | None:
        # Neither property was replaced since; `_encoding` is what `encoding`
        # answers once it is known.
        if (
            getattr(cls, "raw", None) is raw
            and getattr(cls, "encoding", None) is encoding
        ):
            instance: object = headers.__dict__
            if type(instance) is dict:
                pairs = cast("dict[str, object]", instance).get("_list")
                text_encoding = cast("dict[str, object]", instance).get("_encoding")
                if type(pairs) is list and type(text_encoding) is str:
                    return _pairs_table(
                        cast("list[tuple[bytes, bytes, bytes]]", pairs), text_encoding
                    )
        return _raw_table(headers)

    return read


def _own_properties(
    cls: type, module: str, qualname: str
) -> tuple[object, object] | None:
    """
    httpx's own ``raw`` and ``encoding`` of `cls`, when it is the class httpx exports.

    The package is looked up among those already imported, never imported.
    None for a class that is not the one its package exports, or whose
    properties or attribute access are not httpx's own.
    """
    top = module.partition(".")[0]
    try:
        namespace = getattr(sys.modules.get(top), "__dict__", None)
        if (
            type(namespace) is not dict
            or cast("dict[str, object]", namespace).get(qualname) is not cls
        ):
            return None
        raw, encoding = vars(cls).get("raw"), vars(cls).get("encoding")
        if (
            cast("object", cls.__getattribute__) is object.__getattribute__
            and _defined_by(raw, top, f"{qualname}.raw")
            and _defined_by(encoding, top, f"{qualname}.encoding")
        ):
            return raw, encoding
    except Exception:  # noqa: BLE001 - a package or class that cannot be read
        return None
    return None


def _lists_as_raw_reads(cls: type) -> bool:
    """
    Whether `cls` keeps ``_list`` as ``(raw name, lower name, value)``, as read here.

    Tried once per class, on headers made for it: an httpx that kept its pairs
    in another order, or another shape, or its names otherwise lower-cased,
    would be read wrong by ``_list``, so its headers are read by ``raw``.
    """
    try:
        probe: object = cls([(b"X-Outcome-Probe", b"yes")])
        pairs: object = cast("dict[str, object]", vars(probe)).get("_list")
        if type(pairs) is not list:
            return False
        triples = cast("list[tuple[bytes, bytes, bytes]]", pairs)
        read = [(name, value) for name, _, value in triples]
        return (
            read == getattr(probe, "raw", None) == [(b"X-Outcome-Probe", b"yes")]
            and triples[0][1] == b"x-outcome-probe"
        )
    except Exception:  # noqa: BLE001 - a class that cannot be tried: read by raw
        return False


def _pairs_table(
    pairs: list[tuple[bytes, bytes, bytes]], encoding: str
) -> _HeaderTable | None:
    """
    `_raw_table`, for httpx's ``_list``: ``(raw name, lower name, value)``.

    The lower name is the one httpx's get() matches, and the raw name
    lower-cased, as `_lists_as_raw_reads` saw: no name is lower-cased here.
    """
    if len(pairs) > _MAX_HEADERS:
        return None
    joined: dict[str, str] = {}
    for _, key, value in pairs:
        name = _raw_name(key)
        if name is not None:
            text = _decode(value, encoding)
            before = joined.get(name)
            joined[name] = text if before is None else f"{before}, {text}"
    return _trimmed(joined)


def _defined_by(attribute: object, package: str, qualname: str) -> bool:
    """Whether `attribute` is a property whose getter `package` names `qualname`."""
    if type(attribute) is not property:
        return False
    getter = attribute.fget
    module = getattr(getter, "__module__", None)
    return (
        type(module) is str
        and module.partition(".")[0] == package
        and getattr(getter, "__qualname__", None) == qualname
    )


def _lower_items(headers: object) -> dict[str, str | None] | None:
    """
    The headers the rules read, from requests' lower-cased items.

    None when there are too many to read at once.
    """
    table: dict[str, str | None] = {}
    items = getattr(headers, "lower_items")  # noqa: B009 - any object, known by name
    for index, (key, value) in enumerate(items()):
        if index == _MAX_HEADERS:
            return None
        name = key if type(key) is str else _as_text(key)
        if name in _READ_HEADERS and name not in table:
            text = _header_text(value)
            if text is not None:  # else get() gives nothing; later headers may
                table[name] = text
    return table


def _ask_headers(
    table: _HeaderTable,
    getter: Callable[[str], object],
    caseless: bool,  # noqa: FBT001 - the second half of a reader
) -> None:
    """Add to `table` the headers it lacks that a headers object's get() tells."""
    for name in _HEADER_NAMES:
        if name not in table:
            text = _get_header(getter, (name,) if caseless else _SPELLINGS[name])
            if text is not None:
                table[name] = text


def _get_header(getter: Callable[[str], object], keys: tuple[str, ...]) -> str | None:
    """A header by a headers object's get(), under each of `keys` in turn."""
    for key in keys:
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
