"""
Who must act on a failure, and whether waiting helps: the failure classifier.

Facts are read from the failure by duck typing (status codes, error codes,
headers, errno, the qualified names of its classes), never by importing a
client library, and along its whole ``__cause__``/``__context__`` chain, so a
rule for a rate limit fires whether the SDK or its HTTP layer raised.
"""

from __future__ import annotations

import abc
import enum
import errno
import functools
import json
import math
import socket
import time
import types
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import (
    Final,
    NoReturn,
    Protocol,
    TypeAlias,
    cast,
    final,
    overload,
    runtime_checkable,
)

import attrs


@functools.total_ordering
class Bucket(enum.Enum):
    """
    Who must act on a failure.

    Members are ordered by severity, least first, so ``max`` of several buckets
    is the one that decides how a collection of errors is reported.

    >>> Bucket.USER_FIXABLE < Bucket.PROGRAMMER_ERROR
    True
    >>> max([Bucket.USER_VISIBLE, Bucket.USER_FIXABLE])
    <Bucket.USER_VISIBLE: 'user_visible'>

    .. versionadded:: 0.1.0
    """

    USER_FIXABLE = "user_fixable"
    """The user can correct the input: an invalid expiry, a declined card."""

    USER_VISIBLE = "user_visible"
    """The user must be told, with nothing to fix: a gateway is down, try later."""

    PROGRAMMER_ERROR = "programmer_error"
    """A bug or a misconfiguration: it belongs in the exception tracker."""

    @property
    def severity(self) -> int:
        """
        Rank of this bucket by severity, from 0 (user-fixable) to 2 (programmer error).

        >>> Bucket.PROGRAMMER_ERROR.severity
        2
        """
        return _SEVERITY[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Bucket):
            return NotImplemented
        return _SEVERITY[self] < _SEVERITY[other]


_SEVERITY = {
    Bucket.USER_FIXABLE: 0,
    Bucket.USER_VISIBLE: 1,
    Bucket.PROGRAMMER_ERROR: 2,
}


def _link_repr(link: object) -> str:
    # Only the type: a failure's repr may hold the rejected input or secrets.
    return "None" if link is None else f"<{type(link).__qualname__}>"


@final
class Decision:
    """
    What to do about one failure: whose problem it is and whether waiting helps.

    An immutable record, equal (and hashing equal) by every field but `link`.
    It is a plain ``__slots__`` class rather than an attrs one because every
    classification builds one, and attrs' frozen ``__init__`` costs several
    times more.

    Args:
        bucket: Who must act: the user who can fix it, the user who must be
            told, or the programmer.
        transient: Whether trying again later may succeed.
        kind: What happened, as a short word: ``"rate_limit"``, ``"quota"``,
            ``"timeout"``, ``"connection"``, ``"server"``, ``"conflict"``,
            ``"declined"``, ``"validation"``, ``"auth"``, ``"not_found"``,
            ``"bug"``, or a user rule's own.
        status: The HTTP status found on the failure, if any.
        code: The error code that decided, if one did (``"insufficient_quota"``).
        retry_after: Seconds the server asked to wait (Retry-After), at least 0.
        defer: `retry_after` is longer than the classifier will wait for in
            place: reschedule the work instead of sleeping.
        rule: Which rule fired, for logs and metrics.
        link: The exception (or value) of the chain that matched; not compared
            and shown by its type only, since its text may hold secrets.

    >>> Decision(Bucket.USER_VISIBLE, True, "rate_limit", status=429, retry_after=2.0)
    Decision(bucket=Bucket.USER_VISIBLE, transient=True, kind='rate_limit',
             status=429, code=None, retry_after=2.0, defer=False, rule='default',
             link=None)

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "_bucket",
        "_code",
        "_defer",
        "_kind",
        "_link",
        "_retry_after",
        "_rule",
        "_status",
        "_transient",
    )
    __match_args__ = ("bucket", "transient", "kind")

    def __init__(  # noqa: PLR0913 - one argument per field
        self,
        bucket: Bucket,
        transient: bool,  # noqa: FBT001 - a field, not a flag
        kind: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        defer: bool = False,
        rule: str = "default",
        link: object = None,
    ) -> None:
        self._bucket = bucket
        self._transient = transient
        self._kind = kind
        self._status = status
        self._code = code
        self._retry_after = retry_after
        self._defer = defer
        self._rule = rule
        self._link = link

    def __init_subclass__(cls) -> NoReturn:
        msg = "Decision is final and cannot be subclassed"
        raise TypeError(msg)

    @property
    def bucket(self) -> Bucket:
        """Who must act on the failure."""
        return self._bucket

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed."""
        return self._transient

    @property
    def kind(self) -> str:
        """What happened, as a short word such as ``"timeout"``."""
        return self._kind

    @property
    def status(self) -> int | None:
        """The HTTP status found on the failure, if any."""
        return self._status

    @property
    def code(self) -> str | None:
        """The error code that decided, if one did."""
        return self._code

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait, if it said."""
        return self._retry_after

    @property
    def defer(self) -> bool:
        """Whether to reschedule rather than sleep, because Retry-After is too long."""
        return self._defer

    @property
    def rule(self) -> str:
        """Which rule fired."""
        return self._rule

    @property
    def link(self) -> object:
        """The exception or value of the chain that matched."""
        return self._link

    def replace(self, **changes: object) -> Decision:
        """
        Return a copy with some fields changed.

        >>> decision = Decision(Bucket.USER_VISIBLE, True, "timeout")
        >>> decision.replace(transient=False).transient
        False

        Raises:
            TypeError: When a name is not a field of Decision.
        """
        fields = self._fields() | {"link": self._link}
        unknown = set(changes) - set(fields)
        if unknown:
            msg = f"Decision has no field {min(unknown)!r}; fields: {', '.join(fields)}"
            raise TypeError(msg)
        merged = fields | changes
        return Decision(
            cast("Bucket", merged["bucket"]),
            transient=cast("bool", merged["transient"]),
            kind=cast("str", merged["kind"]),
            status=cast("int | None", merged["status"]),
            code=cast("str | None", merged["code"]),
            retry_after=cast("float | None", merged["retry_after"]),
            defer=cast("bool", merged["defer"]),
            rule=cast("str", merged["rule"]),
            link=merged["link"],
        )

    @staticmethod
    def _make(  # noqa: PLR0913, PLR0917 - one argument per field
        bucket: Bucket,
        transient: bool,  # noqa: FBT001 - a field, not a flag
        kind: str,
        status: int | None,
        code: str | None,
        retry_after: float | None,
        defer: bool,  # noqa: FBT001 - a field, not a flag
        rule: str,
        link: object,
    ) -> Decision:
        # By position and unchecked: the classifier's keywords would cost more
        # than the rest of the record.
        decision: Decision = _new_object(Decision)
        decision._bucket = bucket
        decision._transient = transient
        decision._kind = kind
        decision._status = status
        decision._code = code
        decision._retry_after = retry_after
        decision._defer = defer
        decision._rule = rule
        decision._link = link
        return decision

    def _fields(self) -> dict[str, object]:
        return {
            "bucket": self._bucket,
            "transient": self._transient,
            "kind": self._kind,
            "status": self._status,
            "code": self._code,
            "retry_after": self._retry_after,
            "defer": self._defer,
            "rule": self._rule,
        }

    def __eq__(self, other: object) -> bool:
        if type(other) is not Decision:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(tuple(self._fields().values()))

    def __reduce__(self) -> tuple[object, ...]:
        return (Decision._restore, (self._fields(),))

    @classmethod
    def _restore(cls, fields: dict[str, object]) -> Decision:
        return cls(cast("Bucket", fields["bucket"]), transient=True, kind="").replace(
            **fields
        )

    def __repr__(self) -> str:
        fields = self._fields()
        fields["bucket"] = _Raw(f"Bucket.{self._bucket.name}")
        shown = ", ".join(f"{name}={value!r}" for name, value in fields.items())
        return f"Decision({shown}, link={_link_repr(self._link)})"


_make_decision: Final = Decision._make  # pyright: ignore[reportPrivateUsage]  # the classifier's fast path
_new_object: Final = object.__new__


class _Raw(str):
    """Text that reprs as itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


@runtime_checkable
class SelfClassifying(Protocol):
    """
    An exception or error value that says itself how it should be classified.

    Define ``__outcome_decision__`` returning a `Decision`, or `None` to let
    the other rules decide. It is consulted before the shipped rules.

    >>> class OutOfStock(Exception):
    ...     def __outcome_decision__(self) -> Decision:
    ...         return Decision(Bucket.USER_FIXABLE, False, "out_of_stock")
    >>> classify(OutOfStock()).kind
    'out_of_stock'

    .. versionadded:: 0.1.0
    """

    def __outcome_decision__(self) -> Decision | None:
        """Return the decision for this failure, or `None` for no opinion."""
        ...  # pragma: no cover - a protocol


# Facts ------------------------------------------------------------------------

_MAX_TEXT: Final = 200  # longer codes and header values are ignored
_Getter: TypeAlias = Callable[[object, str, object], object]


def _attr(obj: object, name: str, default: object = None) -> object:
    """getattr that never raises: hostile properties count as missing."""
    try:
        return getattr(obj, name, default)
    except Exception:  # noqa: BLE001 - a property may raise anything
        return default


def _key(obj: object, key: str) -> object:
    """obj[key] for real mappings, never raising."""
    if not isinstance(obj, Mapping):
        return None
    try:
        return obj.get(key)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    except Exception:  # noqa: BLE001 - a mapping may raise anything
        return None


def _text(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_TEXT:
        return str(value)
    return None


def _names(cls: type) -> frozenset[str]:
    """`module.Qualname` of every class in the MRO, also under the top package."""
    found: set[str] = set()
    for klass in cls.__mro__:
        module = _text(getattr(klass, "__module__", None)) or "?"
        qualname = _text(getattr(klass, "__qualname__", None)) or "?"
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


# Class attributes that warn when read, each only repeating another one.
_DEPRECATED_ALIASES: Final = {"aiohttp.ClientResponseError": frozenset({"code"})}
_MAX_BODY: Final = 64 * 1024


def _response_body(response: object) -> object:
    """
    Return the JSON body a client already read, without any I/O.

    httpx and requests keep a read body as bytes in ``response._content``. Read
    only for a 429, where the body tells a rate limit from an exhausted quota.
    """
    content = _attr(response, "_content")
    if not isinstance(content, bytes) or not 0 < len(content) <= _MAX_BODY:
        return None
    try:
        return json.loads(content)
    except ValueError:
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

    def __init__(self, cls: type) -> None:
        # Classes that customise attribute access are read with getattr.
        getattribute = cast("object", cls.__getattribute__)
        self.plain = (
            getattribute in _GENERIC_GETATTRIBUTE
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
        for owner, aliases in _DEPRECATED_ALIASES.items():
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
        return obj.get(key)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return None if obj is None else _key(obj, key)


def _first_status(*values: object) -> int | None:
    for value in values:
        if type(value) is int and 100 <= value <= 599:  # noqa: PLR2004
            return value
    return None


def _is_empty_dict(value: object) -> bool:
    return type(value) is dict and not value


def _body(own: Callable[[str], object], status: int | None, response: object) -> object:
    """The link's JSON body; for a 429 without one, the body its response read."""
    body = own("body")
    if _is_empty_dict(body):  # {} says no more than a missing body
        body = None
    if body is None and status == 429 and response is not None:  # noqa: PLR2004
        body = _response_body(response)
    return body


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
    candidates = [code, own("type")]
    body = _body(own, status, raw_response)
    if body is not None:
        body_error = _get_key(body, "error")
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
        candidates += [get(error, "code", None), get(error, "decline_code", None)]
    codes = [
        text.lower()
        for text in candidates
        if isinstance(text, str) and 0 < len(text) <= _MAX_TEXT
    ]
    number = own("errno")
    if type(number) is not int:
        os_error = own("os_error")
        number = get(os_error, "errno", None) if os_error is not None else None
    return _Facts(
        link,
        status,
        codes,
        headers,
        number if type(number) is int else None,
        own("__outcome_decision__"),
    )


class _Facts:
    """What one link of a failure chain says about itself, when it says anything."""

    __slots__ = ("codes", "errno", "headers", "hook", "link", "status")

    def __init__(  # noqa: PLR0913, PLR0917 - one argument per fact
        self,
        link: object,
        status: int | None,
        codes: list[str],
        headers: list[object],
        errno: int | None,
        hook: object,
    ) -> None:
        self.link = link
        self.status = status
        self.codes = codes
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
                    if isinstance(key, str) and key.lower() == name:
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
    if isinstance(value, (str, bytes)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        return text.strip()[:_MAX_TEXT]
    return None


# A link of the chain, its class's info and its errno.
_Link: TypeAlias = tuple[object, _ClassInfo, "int | None"]
# How long a chain may be and still be walked without checking for cycles.
_UNCHECKED_DEPTH: Final = 8


def _chain(failure: object, max_depth: int) -> tuple[list[_Link], list[_Facts]]:
    """
    The failure, then its cause (or else its context): cycle-safe, capped.

    Returns every link with its class's info and errno, and apart the facts
    of the links that carry more, which most rules need alone.

    Walking the chain is most of the cost of classifying, so `_walk_plain`
    reads the links it can inline, without checking for cycles, up to
    `_UNCHECKED_DEPTH` links; `_walk_guarded` carries on from the first link
    it cannot read, and from there on checks every link. No link is read twice.
    """
    links: list[_Link] = []
    found: list[_Facts] = []
    link: object = failure
    if isinstance(failure, BaseException):
        link = _walk_plain(failure, min(max_depth, _UNCHECKED_DEPTH), links, found)
        if link is None:
            return links, found
    seen = {id(entry[0]) for entry in links}
    if len(seen) < len(links):  # a cycle, walked round more than once
        return _once_each(links, found)
    return _walk_guarded(link, max_depth, links, found, seen)


def _walk_plain(
    link: BaseException | None, limit: int, links: list[_Link], found: list[_Facts]
) -> BaseException | None:
    """
    Read ordinary exceptions inline; return the link where it stopped, if any.

    It stops at the end of the chain, after `limit` links, or at a link that is
    not an ordinary exception. A link's ``__dict__`` is first checked, in C,
    for any attribute the rules read; only if one holds something other than
    None or ``{}`` is the link read by `_Facts.read`. OSError's errno slot is
    read directly.
    """
    try:
        while link is not None:
            cls = type(link)
            info = _CLASS_INFO.get(cls) or _class_info(cls)
            if len(links) == limit or not info.fast:
                return link
            instance = link.__dict__
            if type(instance) is not dict:
                return link
            number = None
            if not _LINK_ATTRIBUTES.isdisjoint(instance) and _says_something(instance):
                facts = _Facts.read(link, info)
                if facts is not None:
                    found.append(facts)
                    number = facts.errno
            elif info.errno:
                number = _errno(link)
            links.append((link, info, number))
            following = link.__cause__
            link = link.__context__ if following is None else following
    except Exception:  # noqa: BLE001 - a hostile key or class: read it guarded
        return link
    return None


def _walk_guarded(
    link: object,
    max_depth: int,
    links: list[_Link],
    found: list[_Facts],
    seen: set[int],
) -> tuple[list[_Link], list[_Facts]]:
    """Walk on from `link`, each link once and every read guarded."""
    while link is not None and len(links) < max_depth and id(link) not in seen:
        seen.add(id(link))
        try:
            info = _class_info(type(link))
        except Exception:  # noqa: BLE001 - a class that cannot even be named
            info = _OPAQUE
        facts = _Facts.read(link, info)
        if facts is not None:
            found.append(facts)
        links.append((link, info, None if facts is None else facts.errno))
        link = _following(link)
    return links, found


def _once_each(
    links: list[_Link], found: list[_Facts]
) -> tuple[list[_Link], list[_Facts]]:
    """
    Keep each link of a cyclic chain once, in order.

    The links read inline are ordinary exceptions, whose cause cannot change
    between reads: once one repeats, every later one does, so the links in
    the order they first appear are the chain up to where it comes round.
    """
    kept: dict[int, _Link] = {}
    for entry in links:
        kept.setdefault(id(entry[0]), entry)
    kept_facts: dict[int, _Facts] = {}
    for facts in found:
        kept_facts.setdefault(id(facts.link), facts)
    return list(kept.values()), list(kept_facts.values())


def _says_something(instance: dict[str, object]) -> bool:
    """Whether an instance dict holds an attribute the rules read, not None or {}."""
    for name, value in instance.items():
        if (
            value is not None
            and name in _LINK_ATTRIBUTES
            and not (type(value) is dict and not value)
        ):
            return True
    return False


def _errno(link: BaseException) -> int | None:
    """OSError's errno, which may have been set to anything."""
    number = cast("OSError", link).errno
    return number if type(number) is int else None


def _following(link: object) -> BaseException | None:
    """The cause of `link`, or else its context, read with guarded getattr."""
    try:
        following = getattr(link, "__cause__", None)
        if not isinstance(following, BaseException):
            following = getattr(link, "__context__", None)
    except Exception:  # noqa: BLE001 - a hostile link ends the chain
        return None
    return following if isinstance(following, BaseException) else None


# Retry-After -------------------------------------------------------------------


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _retry_after(found: list[_Facts], now: float) -> float | None:
    """
    Return the seconds to wait, from the first link with a header that says.

    ``retry-after-ms``, then ``x-amz-retry-after`` (both milliseconds), then
    ``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110). Never negative.
    """
    for facts in found:
        if not facts.headers:
            continue
        for header, scale in (
            ("retry-after-ms", 1000.0),
            ("x-amz-retry-after", 1000.0),
        ):
            text = facts.header(header)
            value = None if text is None else _seconds(text)
            if value is not None:
                return max(0.0, value / scale)
        text = facts.header("retry-after")
        if text is None:
            continue
        value = _seconds(text)
        if value is None:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
            value = moment.timestamp() - now
        return max(0.0, value)
    return None


# The shipped rules ---------------------------------------------------------------

_QUOTA_CODES: Final = frozenset(
    {
        "insufficient_quota",
        "billing_hard_limit_reached",
        "billing_not_active",
        "quota_exceeded",
        "billing_error",
        "credit_balance_too_low",
    }
)
_RATE_LIMIT_CODES: Final = frozenset(
    {
        "rate_limit_exceeded",
        "rate_limit_error",
        "rate_limit",
        "too_many_requests",
        # botocore's throttling codes
        "throttling",
        "throttlingexception",
        "throttledexception",
        "requestthrottledexception",
        "toomanyrequestsexception",
        "provisionedthroughputexceededexception",
        "transactioninprogressexception",
        "requestlimitexceeded",
        "bandwidthlimitexceeded",
        "limitexceededexception",
        "requestthrottled",
        "slowdown",
        "ec2throttledexception",
    }
)
_TRANSIENT_SERVER_CODES: Final = frozenset(
    {
        "overloaded_error",
        "api_error",
        "processing_error",
        # botocore's transient codes
        "requesttimeout",
        "requesttimeoutexception",
        "priorrequestnotcomplete",
        "internalerror",
        "internalfailure",
        "serviceunavailable",
    }
)
_DECLINE_CODES: Final = frozenset(
    {
        "card_declined",
        "expired_card",
        "incorrect_cvc",
        "incorrect_number",
        "incorrect_zip",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "invalid_number",
        "insufficient_funds",
        "lost_card",
        "stolen_card",
        "do_not_honor",
        "generic_decline",
        "authentication_required",
    }
)
_TIMEOUT_NAMES: Final = frozenset(
    {
        "builtins.TimeoutError",
        "httpx.TimeoutException",
        "httpx2.TimeoutException",
        "requests.Timeout",
        "urllib3.TimeoutError",
        "aiohttp.ServerTimeoutError",
        "botocore.ReadTimeoutError",
        "botocore.ConnectTimeoutError",
        "openai.APITimeoutError",
        "anthropic.APITimeoutError",
    }
)
_CONNECTION_NAMES: Final = frozenset(
    {
        "builtins.ConnectionError",
        "httpx.NetworkError",
        "httpx.RemoteProtocolError",
        "httpx2.NetworkError",
        "httpx2.RemoteProtocolError",
        "requests.ConnectionError",
        "urllib3.NewConnectionError",
        "urllib3.ProtocolError",
        "aiohttp.ClientConnectionError",
        "botocore.EndpointConnectionError",
        "botocore.ConnectionClosedError",
        "openai.APIConnectionError",
        "anthropic.APIConnectionError",
        "stripe.APIConnectionError",
        "http.RemoteDisconnected",
        "http.IncompleteRead",
    }
)
_VALIDATION_NAMES: Final = frozenset(
    {
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
        "django.core.exceptions.ValidationError",
        "marshmallow.ValidationError",
        "stripe.CardError",
    }
)
# urllib3's NewConnectionError subclasses its ConnectTimeoutError for history's
# sake, but means the connection failed (refused, unreachable, DNS).
_NOT_TIMEOUT_NAMES: Final = frozenset({"urllib3.NewConnectionError"})
_TIMEOUT_ERRNOS: Final = frozenset({errno.ETIMEDOUT})
_CONNECTION_ERRNOS: Final = frozenset(
    {
        socket.EAI_AGAIN,  # a temporary failure to resolve a name
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
    }
)

# The info of a class that cannot even be looked up: read it all with getattr.
_OPAQUE: Final = _ClassInfo(object)
_OPAQUE.plain = False

_FIXABLE, _VISIBLE, _BUG = (
    Bucket.USER_FIXABLE,
    Bucket.USER_VISIBLE,
    Bucket.PROGRAMMER_ERROR,
)


_BY_STATUS: Final[Mapping[int, tuple[Bucket, bool, str]]] = {
    401: (_BUG, False, "auth"),
    403: (_BUG, False, "auth"),
    404: (_BUG, False, "not_found"),
    405: (_BUG, False, "bug"),
    501: (_BUG, False, "bug"),
    402: (_FIXABLE, False, "declined"),
    429: (_VISIBLE, True, "rate_limit"),
    408: (_VISIBLE, True, "timeout"),
    504: (_VISIBLE, True, "timeout"),
    409: (_VISIBLE, True, "conflict"),
    425: (_VISIBLE, True, "conflict"),
}


def _by_status(status: int) -> tuple[Bucket, bool, str]:
    known = _BY_STATUS.get(status)
    if known is not None:
        return known
    if status >= 500:  # noqa: PLR2004 - the server error range
        return _VISIBLE, True, "server"
    if status >= 400:  # noqa: PLR2004 - the client error range
        return _FIXABLE, False, "validation"
    return _BUG, False, "bug"


def _by_code(code: str) -> tuple[Bucket, bool, str] | None:
    if code in _QUOTA_CODES:
        return _VISIBLE, False, "quota"
    if code in _RATE_LIMIT_CODES:
        return _VISIBLE, True, "rate_limit"
    if code in _TRANSIENT_SERVER_CODES:
        return _VISIBLE, True, "server"
    if code in _DECLINE_CODES:
        return _FIXABLE, False, "declined"
    return None


def _should_retry(facts: _Facts) -> bool | None:
    for header in ("x-should-retry", "stripe-should-retry"):
        text = facts.header(header)
        if text is not None and text.lower() in {"true", "false"}:
            return text.lower() == "true"
    return None


# The classifier ------------------------------------------------------------------


@attrs.frozen
class _UserRule:
    bucket: Bucket
    transient: bool
    kind: str
    name: str


class Classifier:
    """
    Sorts failures into who must act and whether waiting helps.

    `classify` is pure, total (it returns a `Decision` for any object and never
    raises) and bounded in time: it follows at most `max_depth` links of a
    cause chain and at most `max_leaves` exceptions of a group.

    Rules registered with `register` take precedence over the shipped ones.
    Then, looked for along the whole chain, outermost first: an error code
    that tells (quota exhausted, card declined, throttled), the HTTP status
    (with the server's own ``x-should-retry``), timeouts and connection
    failures by class name or errno, validation errors by class name. What no
    rule recognises is a programmer error and not transient: bugs reach the
    exception tracker instead of being retried.

    Args:
        max_retry_after: The longest Retry-After, in seconds, that a decision
            may ask to wait in place; beyond it the decision says `defer`.
        max_depth: How many links of a cause chain are read.
        max_leaves: How many exceptions of an exception group are read.
        clock: Seconds since the epoch, for Retry-After dates.

    >>> classifier = Classifier()
    >>> classifier.classify(TimeoutError("gateway")).kind
    'timeout'
    >>> classifier.classify(KeyError("sku")).bucket
    <Bucket.PROGRAMMER_ERROR: 'programmer_error'>

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        max_retry_after: float = 60.0,
        max_depth: int = 16,
        max_leaves: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (max_retry_after >= 0 and max_depth >= 1 and max_leaves >= 1):
            msg = (
                "Classifier needs max_retry_after >= 0, max_depth >= 1 and "
                f"max_leaves >= 1, got {max_retry_after!r}, {max_depth!r}, "
                f"{max_leaves!r}"
            )
            raise ValueError(msg)
        self.max_retry_after = max_retry_after
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.clock = clock
        self._type_rules: dict[type, _UserRule] = {}
        self._abc_rules: dict[type, _UserRule] = {}
        self._predicate_rules: list[tuple[Callable[[object], bool], _UserRule]] = []

    @overload
    def register(
        self,
        match: type,
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None: ...

    @overload
    def register(
        self,
        match: Callable[[object], bool],
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None: ...

    def register(
        self,
        match: type | Callable[[object], bool],
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None:
        """
        Add a rule that takes precedence over the shipped ones.

        `match` is a class (an exception class or any error value's class; ABC
        virtual subclasses count) or a predicate called with each link of the
        chain. A class rule costs the same however many are registered; the
        most specific class along the failure's MRO wins. Predicates run in
        the order they were registered, after the class rules.

        >>> classifier = Classifier()
        >>> class PaymentDeclined(Exception): ...
        >>> fixable = Bucket.USER_FIXABLE
        >>> classifier.register(PaymentDeclined, bucket=fixable, kind="declined")
        >>> classifier.classify(PaymentDeclined()).rule
        'user:PaymentDeclined'

        Raises:
            TypeError: When `match` is neither a class nor callable, or
                `bucket` is not a `Bucket`.
        """
        bucket_given: object = bucket
        if type(bucket_given) is not Bucket:
            msg = f"register() needs bucket=Bucket.<member>, not {bucket!r}"
            raise TypeError(msg)
        label = name or f"user:{getattr(match, '__qualname__', repr(match))}"
        rule = _UserRule(bucket, bool(transient), kind, label)
        given: object = match  # checked at run time: callers may be untyped
        if isinstance(given, type):
            # Real subclasses are found along the MRO, the most specific first;
            # an ABC is also kept aside for its virtual subclasses.
            self._type_rules[given] = rule
            if isinstance(given, abc.ABCMeta):
                self._abc_rules[given] = rule
        elif callable(given):
            self._predicate_rules.append((given, rule))
        else:
            msg = (
                f"register() takes a class or a predicate, not {match!r}; e.g. "
                "register(MyError, bucket=Bucket.USER_FIXABLE)"
            )
            raise TypeError(msg)

    def classify(self, failure: object) -> Decision:
        """
        Decide who must act on `failure` and whether it is worth retrying.

        `failure` may be an exception (its cause chain is read), an exception
        group (each leaf is classified: the group takes the most severe bucket,
        is transient only if every leaf is, and waits the longest Retry-After),
        an `Err` (its error is classified), an `Errors` or `ErrorDetail` (their
        buckets decide), or any other value (user rules, else a programmer
        error).

        >>> classify(ConnectionResetError()).transient
        True
        """
        try:
            return self._classify(failure)
        except Exception:  # noqa: BLE001 - total: a hostile object is a bug report
            return Decision(
                _BUG, transient=False, kind="bug", rule="unclassifiable", link=failure
            )

    # The parts ----------------------------------------------------------------

    def _classify(self, failure: object) -> Decision:
        if isinstance(failure, BaseException):
            if isinstance(failure, BaseExceptionGroup):
                return self._group(cast("BaseExceptionGroup[BaseException]", failure))
        elif type(failure) is Err:
            return self._classify(cast("Err[object]", failure).err_value)
        elif isinstance(failure, (Errors, ErrorDetail)):
            return self._errors(failure)
        links, found = _chain(failure, self.max_depth)
        decision = None
        if self._type_rules or self._abc_rules or self._predicate_rules:
            decision = self._user(links, found)
        if decision is None and found:
            decision = (
                self._self_classifying(found)
                or self._code(found)
                or self._status(found)
            )
        if decision is None:
            decision = self._transport(links, found) or self._validation(links, found)
        if decision is None:
            status = found[0].status if found and found[0].link is failure else None
            return Decision(
                _BUG, transient=False, kind="bug", status=status, link=failure
            )
        return decision

    def _decide(
        self,
        found: list[_Facts],
        link: object,
        verdict: tuple[Bucket, bool, str],
        rule: str,
        code: str | None = None,
    ) -> Decision:
        bucket, transient, kind = verdict
        status = retry_after = None
        for facts in found:
            if facts.status is not None:
                status = facts.status
                break
        if transient and found:
            retry_after = _retry_after(found, self.clock())
        return _make_decision(
            bucket,
            transient,
            kind,
            status,
            code,
            retry_after,
            retry_after is not None and retry_after > self.max_retry_after,
            rule,
            link,
        )

    def _user(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        for link, _, _ in links:
            rule = self._user_rule(link)
            if rule is not None:
                return self._decide(
                    found, link, (rule.bucket, rule.transient, rule.kind), rule.name
                )
        return None

    def _user_rule(self, link: object) -> _UserRule | None:
        if self._type_rules:
            for klass in type(link).__mro__:
                rule = self._type_rules.get(klass)
                if rule is not None:
                    return rule
        for klass, rule in self._abc_rules.items():  # only virtual subclasses get here
            if isinstance(link, klass):
                return rule
        for predicate, rule in self._predicate_rules:
            try:
                matched = predicate(link)
            except Exception:  # noqa: BLE001 - a user's predicate failing is no match
                matched = False
            if matched is True:
                return rule
        return None

    def _self_classifying(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            method = facts.hook
            if not callable(method):
                continue
            try:
                decision = method()
            except Exception:  # noqa: BLE001, S112 - a broken hook is no opinion
                continue
            if type(decision) is Decision:
                return decision
        return None

    def _code(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            for code in facts.codes:
                verdict = _by_code(code)
                if verdict is not None:
                    return self._decide(
                        found, facts.link, verdict, f"code:{code}", code
                    )
        return None

    def _status(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            if facts.status is None:
                continue
            bucket, transient, kind = _by_status(facts.status)
            rule = f"status:{facts.status}"
            directive = _should_retry(facts)
            if directive is not None:
                transient = directive
                rule += "+should-retry"
                if transient:
                    bucket = _VISIBLE
            return self._decide(found, facts.link, (bucket, transient, kind), rule)
        return None

    def _transport(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        # A timeout anywhere in the chain decides before a connection failure:
        # stripe wraps requests' ReadTimeout in its own APIConnectionError.
        for link, info, number in links:
            timeout = info.timeout
            if timeout or (timeout is None and number in _TIMEOUT_ERRNOS):
                return self._decide(found, link, (_VISIBLE, True, "timeout"), "timeout")
        for link, info, number in links:
            if info.connection or number in _CONNECTION_ERRNOS:
                return self._decide(
                    found, link, (_VISIBLE, True, "connection"), "connection"
                )
        return None

    def _validation(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        for link, info, _ in links:
            if info.validation:
                return self._decide(
                    found, link, (_FIXABLE, False, "validation"), "validation"
                )
        return None

    def _group(self, group: BaseExceptionGroup[BaseException]) -> Decision:
        decisions = [self._classify(leaf) for leaf in self._leaves(group)]
        if not decisions:
            return Decision(_BUG, transient=False, kind="bug", rule="group", link=group)
        worst = max(decisions, key=lambda decision: decision.bucket.severity)
        waits = [d.retry_after for d in decisions if d.retry_after is not None]
        retry_after = max(waits) if waits else None
        return worst.replace(
            transient=all(decision.transient for decision in decisions),
            retry_after=retry_after,
            defer=retry_after is not None and retry_after > self.max_retry_after,
            rule=f"group:{worst.rule}",
        )

    def _leaves(self, group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
        leaves: list[BaseException] = []
        pending: list[BaseException] = [group]
        while pending and len(leaves) < self.max_leaves:
            current = pending.pop()
            if isinstance(current, BaseExceptionGroup):
                # Read defensively: a subclass may make `exceptions` anything.
                nested = _attr(cast("object", current), "exceptions")
                if isinstance(nested, tuple):
                    members = cast("tuple[object, ...]", nested)
                    pending.extend(
                        member
                        for member in reversed(members)
                        if isinstance(member, BaseException)
                    )
            else:
                leaves.append(current)
        return leaves

    def _errors(self, failure: Errors | ErrorDetail) -> Decision:
        details = list(failure) if isinstance(failure, Errors) else [failure]
        if not details:
            return Decision(
                _FIXABLE,
                transient=False,
                kind="validation",
                rule="errors",
                link=failure,
            )
        causes = [
            self._classify(d.cause) if d.cause is not None else None for d in details
        ]
        worst = max(details, key=lambda detail: detail.bucket.severity)
        return Decision(
            worst.bucket,
            all(cause is not None and cause.transient for cause in causes),
            _KIND_OF_BUCKET[worst.bucket],
            code=worst.code,
            rule="errors",
            link=failure,
        )


# The kind of a decision about an Errors, from its most severe bucket.
_KIND_OF_BUCKET: Final = {_FIXABLE: "validation", _VISIBLE: "unavailable", _BUG: "bug"}


DEFAULT_CLASSIFIER: Final = Classifier()
"""
The classifier used when none is given; rules registered on it apply everywhere.

.. versionadded:: 0.1.0
"""


def classify(failure: object) -> Decision:
    """
    Classify `failure` with `DEFAULT_CLASSIFIER`; see `Classifier.classify`.

    >>> decision = classify(TimeoutError("the gateway took too long"))
    >>> decision.bucket, decision.transient, decision.kind
    (<Bucket.USER_VISIBLE: 'user_visible'>, True, 'timeout')

    .. versionadded:: 0.1.0
    """
    return DEFAULT_CLASSIFIER.classify(failure)


# Imported last: these modules import Bucket from this one, and the package
# imports this module first, so Bucket exists by the time they ask for it.
from outcome._errors import ErrorDetail, Errors  # noqa: E402
from outcome._result import Err  # noqa: E402
