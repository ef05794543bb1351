"""Decision: what the classifier says about one failure, and SelfClassifying."""

from __future__ import annotations

import sys
from typing import (
    Final,
    NoReturn,
    Protocol,
    TypeAlias,
    TypedDict,
    cast,
    final,
    runtime_checkable,
)

from typing_extensions import Unpack

from outcome._bucket import Bucket


class _DecisionChanges(TypedDict, total=False):
    """The fields `Decision.replace` can change, each with its type."""

    bucket: Bucket
    transient: bool
    kind: str
    status: int | None
    code: str | None
    retry_after: float | None
    defer: bool
    rule: str
    link: object


def _link_repr(link: object) -> str:
    # Only the type: a failure's repr may hold the rejected input or secrets.
    return "None" if link is None else f"<{type(link).__qualname__}>"


_LONGEST: Final = sys.float_info.max  # a wait up to it is finite; NaN is not <= it
# The fields of a Decision as it keeps them, in order: what `_checked` returns.
_Fields: TypeAlias = tuple[
    Bucket, bool, str, "int | None", "str | None", "float | None", bool, str
]


def _sound(  # noqa: PLR0913, PLR0917 - one argument per field
    bucket: object,
    transient: object,
    kind: object,
    status: object,
    code: object,
    retry_after: object,
    defer: object,
    rule: object,
) -> bool:
    """Whether the fields are already as a Decision keeps them: the fast check."""
    return (
        type(bucket) is Bucket
        and type(transient) is bool
        and type(kind) is str
        and kind != ""
        and (status is None or (type(status) is int and 100 <= status <= 599))  # noqa: PLR2004
        and (code is None or type(code) is str)
        and (
            retry_after is None
            or (type(retry_after) is float and 0.0 <= retry_after <= _LONGEST)
        )
        and type(defer) is bool
        and type(rule) is str
    )


def _is_sound(decision: Decision) -> bool:
    """Whether a decision made without checks (`Decision._make`) is a valid one."""
    try:
        return _sound(
            decision._bucket,  # noqa: SLF001 - the fields, as they are kept
            decision._transient,  # noqa: SLF001
            decision._kind,  # noqa: SLF001
            decision._status,  # noqa: SLF001
            decision._code,  # noqa: SLF001
            decision._retry_after,  # noqa: SLF001
            decision._defer,  # noqa: SLF001
            decision._rule,  # noqa: SLF001
        )
    except AttributeError:  # made with object.__new__ and never filled in
        return False


def _text(name: str, value: object, example: str) -> str:
    """A str field as a plain str; a str subclass (a StrEnum) by its text."""
    if not issubclass(type(value), str):  # by its real class: no __class__ asked
        msg = f"Decision needs {name} to be a str such as {example}, not {value!r}"
        raise TypeError(msg)
    return str.__str__(cast("str", value))  # the text, whatever a subclass says


def _flag(name: str, value: object) -> bool:
    if type(value) is not bool:
        msg = f"Decision needs {name}=True or {name}=False, not {value!r}"
        raise TypeError(msg)
    return value


def _checked(  # noqa: PLR0913, PLR0917 - one argument per field
    bucket: object,
    transient: object,
    kind: object,
    status: object,
    code: object,
    retry_after: object,
    defer: object,
    rule: object,
) -> _Fields:
    """
    The fields as a Decision keeps them, or the clear error for the first bad one.

    A status that is an `int` subclass (an `http.HTTPStatus`) becomes a plain
    int, a wait that is an int a float, and a str subclass its plain text.

    Raises:
        TypeError, ValueError: As `Decision` says.
    """
    if type(bucket) is not Bucket:
        msg = f"Decision needs a Bucket such as Bucket.USER_VISIBLE, not {bucket!r}"
        raise TypeError(msg)
    checked_kind = _text("kind", kind, "'timeout'")
    if not checked_kind:
        msg = "Decision needs a kind that is not empty, such as 'timeout' or 'bug'"
        raise ValueError(msg)
    checked_status: int | None = None
    if status is not None:
        if not issubclass(type(status), int) or type(status) is bool:
            msg = f"Decision needs status to be an int or None, not {status!r}"
            raise TypeError(msg)
        checked_status = int.__int__(cast("int", status))  # plain, whatever it says
        if not 100 <= checked_status <= 599:  # noqa: PLR2004
            msg = f"Decision needs an HTTP status from 100 to 599, not {status!r}"
            raise ValueError(msg)
    checked_wait: float | None = None
    if retry_after is not None:
        if not issubclass(type(retry_after), (int, float)) or type(retry_after) is bool:
            msg = (
                "Decision needs retry_after to be seconds as a float, or None, "
                f"not {retry_after!r}"
            )
            raise TypeError(msg)
        checked_wait = (
            float.__float__(cast("float", retry_after))
            if issubclass(type(retry_after), float)
            else int.__float__(cast("int", retry_after))
        )
        if not 0.0 <= checked_wait <= _LONGEST:
            msg = (
                "Decision needs retry_after to be a finite number of seconds "
                f">= 0, or None, not {retry_after!r}"
            )
            raise ValueError(msg)
    return (
        bucket,
        _flag("transient", transient),
        checked_kind,
        checked_status,
        None if code is None else _text("code", code, "'insufficient_quota'"),
        checked_wait,
        _flag("defer", defer),
        _text("rule", rule, "'status:429'"),
    )


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

    Every field is checked, so that whatever reads a decision (retrying,
    `ErrorDetail.from_exception`, a job engine) can trust it. A status that is
    an `int` enum (``http.HTTPStatus.TOO_MANY_REQUESTS``) is kept as a plain
    int, a whole-number wait as a float, and a `str` enum as its text.

    >>> Decision(Bucket.USER_VISIBLE, True, "rate_limit", status=429, retry_after=2.0)
    Decision(bucket=Bucket.USER_VISIBLE, transient=True, kind='rate_limit',
             status=429, code=None, retry_after=2.0, defer=False, rule='default',
             link=None)
    >>> Decision(Bucket.USER_VISIBLE, True, "rate_limit", retry_after=float("inf"))
    Traceback (most recent call last):
    ValueError: Decision needs retry_after to be a finite number of seconds >= 0, ...

    Raises:
        TypeError: When `bucket` is not a `Bucket`, `transient` or `defer` not
            a bool, `kind`, `code` or `rule` not a str, `status` not an int
            (a bool is not a status) or `retry_after` not a number.
        ValueError: When `kind` is empty, `status` is not from 100 to 599, or
            `retry_after` is negative, infinite or NaN.

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
        if not _sound(bucket, transient, kind, status, code, retry_after, defer, rule):
            bucket, transient, kind, status, code, retry_after, defer, rule = _checked(
                bucket, transient, kind, status, code, retry_after, defer, rule
            )
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

    def replace(self, **changes: Unpack[_DecisionChanges]) -> Decision:
        """
        Return a copy with some fields changed.

        >>> decision = Decision(Bucket.USER_VISIBLE, True, "timeout")
        >>> decision.replace(transient=False).transient
        False

        Raises:
            TypeError: When a name is not a field of Decision, or a value has
                the wrong type, as `Decision` says.
            ValueError: When a value is out of range, as `Decision` says.
        """
        unknown = changes.keys() - _DecisionChanges.__annotations__.keys()
        if unknown:
            fields = ", ".join(_DecisionChanges.__annotations__)
            msg = f"Decision has no field {min(unknown)!r}; fields: {fields}"
            raise TypeError(msg)
        return Decision(
            changes.get("bucket", self._bucket),
            changes.get("transient", self._transient),
            changes.get("kind", self._kind),
            status=changes.get("status", self._status),
            code=changes.get("code", self._code),
            retry_after=changes.get("retry_after", self._retry_after),
            defer=changes.get("defer", self._defer),
            rule=changes.get("rule", self._rule),
            link=changes.get("link", self._link),
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
        # By position and unchecked: the classifier's keywords and checks
        # would cost more than the rest of the record. Its callers pass fields
        # that are already sound; `_is_sound` tells whether a decision is.
        decision: Decision = object.__new__(Decision)
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
        # The link is neither compared nor pickled: it may hold a socket.
        return (Decision._make, (*self._fields().values(), None))

    def __repr__(self) -> str:
        fields = self._fields()
        fields["bucket"] = _Raw(f"Bucket.{self._bucket.name}")
        shown = ", ".join(f"{name}={value!r}" for name, value in fields.items())
        return f"Decision({shown}, link={_link_repr(self._link)})"


_make_decision: Final = Decision._make  # the classifier's fast path


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

    >>> from outcome import classify
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
