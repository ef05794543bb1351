"""ErrorDetail: one error, where it is, what went wrong and who must act."""

from __future__ import annotations

import math
import os
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NoReturn, TypeAlias, cast, final

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._classify.decision import Decision
from outcome._errors.messages import (
    _PROGRAMMER_ERROR,
    _USER_FIXABLE,
    _param_text,
    _public_full_message,
)
from outcome._errors.params import (
    _FROZEN_NOTHING,
    _freeze_params,
    _Params,
    _params_given,
    _params_plain,
    _ParamsKey,
    _plain_text,
    _safe_repr,
)
from outcome._errors.paths import (
    Path,
    PathInput,
    _to_path,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


_allocate: Final = object.__new__  # a bound global: cheaper than the lookup
_LOWEST_STATUS: Final = 100
_LOWEST_ERROR_STATUS: Final = 400
_HIGHEST_STATUS: Final = 599

_REFERENCE_KEY_VARIABLE: Final = "OUTCOME_REFERENCE_KEY"
"""The environment variable whose secret keys the references of every process."""


def _reference_key(secret: str | None) -> bytes:
    """
    The key of the references' keyed hash: derived from `secret`, else random.

    Derived, so that a secret of any length (a web framework's ``SECRET_KEY``)
    gives a key of the size BLAKE2b takes, and no reference is made with the
    secret itself. Unset or empty: 32 random bytes, new in each process.
    """
    if not secret:
        return os.urandom(32)
    # Imported here, and where a reference is made: hashlib brings OpenSSL,
    # which costs `import outcome` milliseconds, and most processes make none.
    import hashlib  # noqa: PLC0415

    return hashlib.blake2b(
        secret.encode("utf-8", "surrogateescape"),  # undoing how os.environ decoded it
        digest_size=32,
        person=b"outcome.refkey",
    ).digest()


_REFERENCE_SECRET: Final = os.environ.get(_REFERENCE_KEY_VARIABLE)  # read at import
# The key: random now when no secret is set, so that processes forked from
# this one share it; derived from the secret at the first reference, which
# imports hashlib (`_reference_key_now`).
_REFERENCE_KEY: bytes | None = None if _REFERENCE_SECRET else _reference_key(None)


def _reference_key_now() -> bytes:
    """The references' key, derived from the secret the first time it is needed."""
    global _REFERENCE_KEY  # noqa: PLW0603 - set once: the same secret gives the same key
    key = _REFERENCE_KEY
    if key is None:
        key = _reference_key(_REFERENCE_SECRET)
        _REFERENCE_KEY = key  # pyright: ignore[reportConstantRedefinition] - set once
    return key


# What equality, hashing and the collection's deduplication use.
_Key: TypeAlias = tuple[Path, str, "str | None", _ParamsKey]


def _checked_key(  # noqa: PLR0913, PLR0917 - one argument per part of the key
    path: object,
    code: object,
    message: object,
    params_key: _ParamsKey,
    bucket: object,
    cause: object,
) -> _Key:
    """
    The key of an error from its parts, each checked.

    The one place the fields are checked, for `ErrorDetail` and `Errors.add`
    alike; its first test is the whole fast path, which `Errors.add` inlines.

    Raises:
        TypeError, ValueError: As `ErrorDetail` says.
    """
    if not (
        type(code) is str
        and code
        and (message is None or type(message) is str)
        and type(bucket) is Bucket
        and (cause is None or isinstance(cause, BaseException))
    ):
        _refuse_fields(code, message, bucket, cause)
    return (_to_path(cast("PathInput", path)), code, message, params_key)


def _refuse_fields(
    code: object, message: object, bucket: object, cause: object
) -> NoReturn:
    """Raise the clear error for the first field that is wrong."""
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
    # Every other field is right, so the cause is not.
    msg = f"cause must be an exception or None, not {cause!r}"
    raise TypeError(msg)


def _checked_status(method: str, status: object) -> int:
    """
    `status` as a plain int, when it is an HTTP status: an int from 100 to 599.

    Raises:
        TypeError: When `status` is not an int, or is a bool.
        ValueError: When `status` is outside 100..599.
    """
    if isinstance(status, bool) or not isinstance(status, int):
        msg = (
            f"{method}() takes status as an int from 100 to 599, such as 422 or "
            f"HTTPStatus.CONFLICT, not {status!r} (of type {type(status).__name__})"
        )
        raise TypeError(msg)
    if not _LOWEST_STATUS <= status <= _HIGHEST_STATUS:
        msg = (
            f"{method}() takes an HTTP status from 100 to 599, not {status!r}; "
            "pass None for the status of the most severe error"
        )
        raise ValueError(msg)
    return int(status)


def _checked_hint(status: object) -> int:
    """A status hint: an HTTP error status, from 400 to 599."""
    checked = _checked_status("ErrorDetail", status)
    if checked < _LOWEST_ERROR_STATUS:
        msg = (
            f"ErrorDetail() takes status as an HTTP error status from 400 to 599, "
            f"not {status!r}: an error is no success, redirect or interim answer"
        )
        raise ValueError(msg)
    return checked


@final
class _PendingCause:
    """
    The cause of many errors, made when one of them is first asked for it.

    A converter's copy of a library's exception without its input costs more
    to make than the conversion itself, and is read only by logs and trackers;
    the errors of one conversion share one, made once, from what the converter
    kept (the exception itself, for pydantic-core's). What it keeps is never
    shown: `ErrorDetail.cause` gives what it makes, and reprs and pickles read
    that.
    """

    __slots__ = ("_arguments", "_made", "_make")

    def __init__(
        self, make: Callable[..., BaseException], arguments: tuple[object, ...] = ()
    ) -> None:
        self._make = make
        self._arguments = arguments  # what make is called with
        self._made: dict[None, BaseException] = {}

    def made(self) -> BaseException:
        """The exception, made on the first call; every call gives the same one."""
        made = self._made.get(None)
        if made is None:
            # Two threads may both make one: setdefault keeps the first.
            made = self._made.setdefault(None, self._make(*self._arguments))
        return made


@final
class ErrorDetail:
    """
    One error: where it is, what went wrong, and who must act on it.

    `code` is the machine-readable reason (``"blank"``, ``"too_long"``) and
    `params` the values that fill its message template; `message` overrides the
    template when given. `cause` keeps the exception behind the error for logs.
    `status` is the HTTP status an API answering with this error should use
    (409 for a conflict the user caused, 429 for the app's own rate limit),
    when its code's status would be wrong: see `http_answer`.

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
        TypeError: When the path, code, message, params, bucket, cause or
            status has the wrong type.
        ValueError: When the path does not parse, the code is empty, a
            param is named like a field, or the status is not from 400 to 599.

    .. versionadded:: 0.1.0
    """

    # The key is (path, code, message, params as a frozenset): what equality,
    # hashing and the collection's deduplication use.
    __slots__ = ("_bucket", "_cause", "_key", "_params", "_status")
    _cause: BaseException | _PendingCause | None

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
        status: int | None = None,
    ) -> None:
        pair, params_key = _freeze_params(params) if params else _FROZEN_NOTHING
        # The path is checked before the other fields, as it always was.
        self._key = _checked_key(
            _to_path(path), code, message, params_key, bucket, cause
        )
        self._params = pair
        self._bucket = bucket
        self._cause = cause
        self._status = None if status is None else _checked_hint(status)

    @staticmethod
    def _build(
        key: _Key,
        params: _Params,
        bucket: Bucket,
        cause: BaseException | _PendingCause | None,
        status: int | None = None,
    ) -> ErrorDetail:
        # Fields already checked: the fast path of Errors.add and with_prefix.
        detail: ErrorDetail = _allocate(ErrorDetail)
        detail._key = key
        detail._params = params
        detail._bucket = bucket
        detail._cause = cause
        detail._status = status
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
        return MappingProxyType(_params_given(self._params))

    @property
    def _given_params(self) -> Mapping[str, object]:
        """The params as given, for the package's own reading: no view made."""
        return _params_given(self._params)

    @property
    def _plain_params(self) -> Mapping[str, object]:
        """The params as JSON-safe values, read when the error was made."""
        return _params_plain(self._params)

    @property
    def bucket(self) -> Bucket:
        """
        Who must act on the error.

        >>> ErrorDetail("card", "declined").bucket
        <Bucket.USER_FIXABLE: 'user_fixable'>
        """
        return self._bucket

    @property
    def status(self) -> int | None:
        """
        The HTTP status this error asks an API to answer with; `None` for none.

        A hint: `http_answer` answers with the most severe error's status,
        this one when given, else the status of its code. It takes no part in
        equality, as the bucket does not.

        >>> ErrorDetail("order", "cancelled", status=409).status
        409
        """
        return self._status

    @property
    def cause(self) -> BaseException | None:
        """
        The exception behind the error, kept for logs; not compared.

        >>> ErrorDetail((), "unavailable", cause=TimeoutError("gateway")).cause
        TimeoutError('gateway')
        """
        cause = self._cause
        if type(cause) is _PendingCause:
            cause = self._cause = cause.made()
        return cause

    @property
    def reference(self) -> str:
        """
        The id that ties what a user is shown to what the logs hold.

        A programmer error is shown to users as a generic message with this
        id, and its `repr`, for the logs, shows the real text beside it. The
        id is a keyed hash (BLAKE2b) of the code, message, params and the
        cause's type and text, with a secret key, so it cannot be recovered
        from the hidden text by guessing it: without the key, no guess can be
        checked. The key is read from the ``OUTCOME_REFERENCE_KEY`` environment
        variable when outcome is imported; unset, it is random and new in each
        process. Processes that share the variable give the same error the same
        id; give it the same secret everywhere, and keep it secret.

        The id is fixed the first time it is read, travels with the detail when
        it is pickled (a job's worker and the API that reports its result show
        the same one), and survives `with_prefix` and merging under a prefix:
        the path takes no part in it.

        >>> bug = ErrorDetail(
        ...     (), "bug", "SELECT failed", bucket=Bucket.PROGRAMMER_ERROR
        ... )
        >>> bug.reference
        'ERR-...'
        >>> bug.reference == bug.with_prefix("order").reference
        True
        """
        params = self._params
        if isinstance(params, tuple) and len(params) == 3:  # noqa: PLR2004 - with the reference
            return params[2]
        _path, code, message, _params_key = self._key
        cause = self.cause
        plain = _params_plain(params)
        text = "\0".join(
            [
                repr((code, message)),
                _plain_text(dict(plain)),
                ""
                if cause is None
                else f"{type(cause).__qualname__}: {_param_text(cause)}",
            ]
        )
        import hashlib  # noqa: PLC0415 - see _reference_key

        digest = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"),  # a str may hold lone surrogates
            digest_size=5,
            key=_reference_key_now(),
        )
        reference = "ERR-" + digest.hexdigest()
        # Kept, in the slot the params already use: read again, or pickled, the
        # detail gives this very id, and a copy under a prefix shares it.
        self._params = (_params_given(params), plain, reference)
        return reference

    def with_prefix(self, prefix: PathInput) -> ErrorDetail:
        """
        Return this error with `prefix` put in front of its path.

        >>> ErrorDetail("price", "invalid").with_prefix("items[2]").path
        ('items', 2, 'price')
        """
        prefix_path = _to_path(prefix)
        return self._prefixed(prefix_path) if prefix_path else self

    def _prefixed(self, prefix_path: Path) -> ErrorDetail:
        # The prefix is already a checked path: with_prefix and Errors.merge.
        path, code, message, params_key = self._key
        return ErrorDetail._build(
            (prefix_path + path, code, message, params_key),
            self._params,
            self._bucket,
            self._cause,
            self._status,
        )

    def _moved(self, path: Path) -> ErrorDetail:
        # This error at another checked path; its reference goes along, if fixed.
        _path, code, message, params_key = self._key
        return ErrorDetail._build(
            (path, code, message, params_key),
            self._params,
            self._bucket,
            self._cause,
            self._status,
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

        It never raises an `Exception` for any exception, and never loses
        it: a decision that cannot become an error (from a `Classifier`
        subclass whose ``classify`` raises, or a `Decision` changed after it
        was made to hold an empty kind or a wait of ``inf``) gives a
        programmer error, still with the exception as its cause.

        >>> timeout = TimeoutError("10.0.0.7:5432")
        >>> detail = ErrorDetail.from_exception(timeout, "payment")
        >>> detail.code, detail.bucket
        ('timeout', <Bucket.USER_VISIBLE: 'user_visible'>)
        >>> str(detail)
        'Payment took too long to answer; try again shortly'

        Raises:
            TypeError: When `exc` is not an exception, or `classifier` is not
                a `Classifier`; or, as `ErrorDetail` says, `path` is not a path.
            ValueError: When `path` does not parse.
        """
        if not isinstance(cast("object", exc), BaseException):  # untyped callers
            msg = f"from_exception() takes an exception, not {exc!r}"
            raise TypeError(msg)
        if classifier is None:
            classifier = DEFAULT_CLASSIFIER
        elif not isinstance(cast("object", classifier), Classifier):
            msg = (
                "from_exception() needs classifier to be a Classifier or None, "
                f"not {classifier!r}"
            )
            raise TypeError(msg)
        try:
            decision = classifier.classify(exc)
            wait = decision.retry_after
            params: dict[str, object] = {}
            if wait is not None:
                params["retry_after"] = max(0, math.ceil(wait))
            return cls(
                path, decision.kind, params=params, bucket=decision.bucket, cause=exc
            )
        except Exception:  # noqa: BLE001, S110 - it cannot become an error: below
            pass
        # Out of the handler, so that a bad path raises its own error alone.
        return cls(path, "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=exc)

    def __outcome_classify__(
        self, classify: Callable[[object], Decision], /
    ) -> Decision:
        """Decide for this error: see `Classifier.classify`."""
        return _decide_reported([self], self, classify)

    def __eq__(self, other: object) -> bool:
        if type(other) is not ErrorDetail:
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple[object, ...]:
        # Through a classmethod, so pickles name `outcome.ErrorDetail` only.
        path, code, message, _params_key = self._key
        fields: tuple[object, ...] = (
            path,
            code,
            message,
            dict(_params_given(self._params)),
            self._bucket,
            self.cause,
            self._status,
        )
        # The reference goes along once it may have been shown or logged:
        # always for a bug, whose reference users are shown, else if it was
        # read. Another process has another key and would make another one.
        params = self._params
        if self._bucket is _PROGRAMMER_ERROR or (
            isinstance(params, tuple) and len(params) == 3  # noqa: PLR2004 - with the reference
        ):
            fields = (*fields, self.reference)
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
        status: int | None,
        reference: str | None = None,
    ) -> ErrorDetail:
        detail = cls(
            path,
            code,
            message,
            params=params,
            bucket=bucket,
            cause=cause,
            status=status,
        )
        if reference is not None:
            held = detail._params
            detail._params = (_params_given(held), _params_plain(held), reference)
        return detail

    def __str__(self) -> str:
        # str() may end up in front of a user: the redacted full message.
        # repr() is the one for logs.
        return _public_full_message(self, None)

    def __repr__(self) -> str:
        path, code, message, _params_key = self._key
        parts = [f"path={path!r}", f"code={code!r}"]
        if message is not None:
            parts.append(f"message={message!r}")
        given = _params_given(self._params)
        if given:
            parts.append(f"params={_safe_repr(dict(given))}")
        if self._bucket is not _USER_FIXABLE:
            parts.append(f"bucket=Bucket.{self._bucket.name}")
        if self._cause is not None:
            parts.append(f"cause={_safe_repr(self.cause)}")
        if self._status is not None:
            parts.append(f"status={self._status!r}")
        if self._bucket is _PROGRAMMER_ERROR:
            parts.append(f"reference={self.reference!r}")
        return f"ErrorDetail({', '.join(parts)})"


# The collection below keys its dict by this tuple, whose hash and equality run in C.
_key_of: Final = attrgetter("_key")
_prefixed: Final = ErrorDetail._prefixed  # noqa: SLF001 - merge checks the prefix once
_moved: Final = ErrorDetail._moved  # noqa: SLF001 - subtree's paths are checked already


# The buckets, most severe first. The worst bucket of many errors is found by
# looking for each in turn in a list of theirs: a scan in C comparing
# identities, where a set, a dict of ranks or Bucket's comparisons would run
# the Python of Enum.__hash__ or of Bucket.__lt__ for every error.
_MOST_SEVERE_FIRST: Final = sorted(Bucket, key=attrgetter("severity"), reverse=True)
_bucket_of: Final = attrgetter("_bucket")


def _worst_bucket(details: list[ErrorDetail]) -> Bucket | None:
    """The most severe bucket of `details`, or None when there are none."""
    buckets = list(map(_bucket_of, details))
    for bucket in _MOST_SEVERE_FIRST:
        if bucket in buckets:
            return bucket
    return None


# The kind of a decision about an Errors, from its most severe bucket.
_KIND_OF_BUCKET: Final = {
    Bucket.USER_FIXABLE: "validation",
    Bucket.USER_VISIBLE: "unavailable",
    Bucket.PROGRAMMER_ERROR: "bug",
}


def _decide_reported(
    details: list[ErrorDetail], link: object, classify: Callable[[object], Decision]
) -> Decision:
    """
    The decision for errors already reported: the most severe bucket decides.

    Transient only if every error has a cause and every cause is transient, as
    `classify` judges it; no errors at all is a validation failure.
    """
    if not details:
        return Decision(
            Bucket.USER_FIXABLE,
            transient=False,
            kind="validation",
            rule="errors",
            link=link,
        )
    causes = [classify(d.cause) if d.cause is not None else None for d in details]
    worst = max(details, key=lambda detail: detail.bucket.severity)
    return Decision(
        worst.bucket,
        all(cause is not None and cause.transient for cause in causes),
        _KIND_OF_BUCKET[worst.bucket],
        code=worst.code,
        rule="errors",
        link=link,
    )
