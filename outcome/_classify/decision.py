"""Decision: what the classifier says about one failure, and SelfClassifying."""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Final,
    NoReturn,
    Protocol,
    TypedDict,
    final,
    runtime_checkable,
)

from typing_extensions import Unpack

if TYPE_CHECKING:
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

    def replace(self, **changes: Unpack[_DecisionChanges]) -> Decision:
        """
        Return a copy with some fields changed.

        >>> decision = Decision(Bucket.USER_VISIBLE, True, "timeout")
        >>> decision.replace(transient=False).transient
        False

        Raises:
            TypeError: When a name is not a field of Decision.
        """
        unknown = changes.keys() - _DecisionChanges.__annotations__.keys()
        if unknown:
            fields = ", ".join(_DecisionChanges.__annotations__)
            msg = f"Decision has no field {min(unknown)!r}; fields: {fields}"
            raise TypeError(msg)
        return Decision._make(
            changes.get("bucket", self._bucket),
            changes.get("transient", self._transient),
            changes.get("kind", self._kind),
            changes.get("status", self._status),
            changes.get("code", self._code),
            changes.get("retry_after", self._retry_after),
            changes.get("defer", self._defer),
            changes.get("rule", self._rule),
            changes.get("link", self._link),
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
