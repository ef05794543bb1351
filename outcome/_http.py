"""
The HTTP answer: a failure or `Errors` as a status, headers and a problem body.

One framework-neutral function, `http_answer`, and its configured form,
`Problems`, that every web integration and the checkout example answer through.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, cast, final

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._errors.collection import Errors
from outcome._errors.detail import _HIGHEST_STATUS, _LOWEST_ERROR_STATUS, ErrorDetail
from outcome._result import Err, Ok

if TYPE_CHECKING:
    import logging

    from outcome._errors.collection import ProblemDetails

PROBLEM_JSON: Final = "application/problem+json"
"""The media type of an RFC 9457 problem details body."""

# The status of an error by its code, when it gives no status of its own:
# the kinds of Decision. An upstream's rate limit, quota, timeout, outage or
# refusal answers 503: the caller did nothing wrong and can only wait. The
# app's own rate limit answers 429 through a status hint.
_STATUS_OF_KIND: Final[Mapping[str, int]] = {
    "validation": 422,
    "declined": 402,
    "not_found": 404,
    "conflict": 409,
    "rate_limit": 503,
    "quota": 503,
    "timeout": 503,
    "connection": 503,
    "server": 503,
    "unavailable": 503,
}
_STATUS_OF_BUCKET: Final[Mapping[Bucket, int]] = {
    Bucket.USER_FIXABLE: 422,
    Bucket.USER_VISIBLE: 503,
    Bucket.PROGRAMMER_ERROR: 500,
}
# RFC 9110 section 10.2.3: Retry-After means something with these.
_WAITING_STATUSES: Final = frozenset({429, 503})
_INTERNAL_ERROR: Final = 500
_ENCODE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII: Final = json.JSONEncoder(separators=(",", ":")).encode


@final
class HttpAnswer:
    """
    What an API answers for a failure: a status, headers and a problem body.

    `headers` has ``Content-Type: application/problem+json`` and, when the
    failure said how long to wait and the status is 429 or 503,
    ``Retry-After`` in whole seconds. `body` is the RFC 9457 problem details
    object; `content` is it encoded, as UTF-8 JSON.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("body", "headers", "status")

    status: int
    headers: dict[str, str]
    body: ProblemDetails

    def __init__(
        self, status: int, headers: dict[str, str], body: ProblemDetails
    ) -> None:
        """Make the answer; `http_answer` and `Problems.answer` do."""
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content(self) -> bytes:
        r"""
        The body as compact UTF-8 JSON, ready to send.

        A text that UTF-8 cannot hold (a lone surrogate, from a catalog or a
        param) is sent escaped, as ``\ud800``, rather than failing the answer.
        """
        try:
            return _ENCODE(self.body).encode()
        except UnicodeEncodeError:
            return _ENCODE_ASCII(self.body).encode()

    def __repr__(self) -> str:
        return (
            f"HttpAnswer(status={self.status!r}, headers={self.headers!r}, "
            f"body={self.body!r})"
        )


@final
class Problems:
    """
    How an API answers failures: the status of each code, the catalog, the classifier.

    Made once, where the app is set up, and checked there;
    `Problems.answer` then turns each failure into an `HttpAnswer`. The web
    integrations take the same keywords in their ``install``.

    Args:
        statuses: The status to answer with for an error code, over the
            error's own status hint and its kind's status
            (``{"order_cancelled": 409}``).
        catalog: Message templates by code, as `Errors.full_messages` takes.
        classifier: The classifier for raised failures; the default one
            when `None`.
        type: The problem ``type`` URI of every answer.

    >>> from outcome import ErrorDetail, Errors
    >>> problems = Problems(statuses={"sold_out": 409})
    >>> answer = problems.answer(Errors([ErrorDetail("sku", "sold_out")]))
    >>> answer.status, answer.headers["Content-Type"]
    (409, 'application/problem+json')

    Raises:
        TypeError: When `statuses` or `catalog` is not a mapping of strings
            (to ints, for `statuses`), or `classifier` is not a `Classifier`.
        ValueError: When a status in `statuses` is not from 400 to 599.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_catalog", "_classifier", "_statuses", "_type")

    def __init__(
        self,
        *,
        statuses: Mapping[str, int] | None = None,
        catalog: Mapping[str, str] | None = None,
        classifier: Classifier | None = None,
        type: str = "about:blank",  # noqa: A002 - the member's name in RFC 9457
    ) -> None:
        """Check the options once, so that answering never fails on them."""
        self._statuses = _checked_statuses(statuses)
        self._catalog = _checked_catalog(catalog)
        if classifier is None:
            classifier = DEFAULT_CLASSIFIER
        elif not isinstance(cast("object", classifier), Classifier):  # untyped callers
            msg = (
                "Problems() takes classifier=Classifier(...) or None, "
                f"not {classifier!r}"
            )
            raise TypeError(msg)
        self._classifier = classifier
        if not isinstance(cast("object", type), str):  # untyped callers
            msg = f"Problems() takes type as a URI string, not {type!r}"
            raise TypeError(msg)
        self._type = type

    def __repr__(self) -> str:
        return (
            f"Problems(statuses={dict(self._statuses)!r}, "
            f"catalog={'...' if self._catalog else None}, type={self._type!r})"
        )

    def errors_of(self, failure: object) -> Errors:
        """
        The errors a failure stands for, as `answer` reads them.

        An `Errors` is itself; an `ErrorDetail` is one error; an `Err` is what
        it holds; an object with an ``errors`` attribute holding `Errors` (a
        `SagaFailure`, or an exception of your own that carries them) is
        those; any other exception is one error made by
        `ErrorDetail.from_exception`. Any other value is one base error as
        the classifier decides for it: a value of your own that says what it
        is (``__outcome_classify__``) is answered as it says, anything else is
        a programmer error. So is an empty `Errors`: an API that answers with
        no error has a bug.

        Raises:
            TypeError: When `failure` is an `Ok`, which is no failure.
        """
        if type(failure) is Err:
            failure = cast("Err[object]", failure).err_value
        elif type(failure) is Ok:
            msg = (
                f"an HTTP answer is for a failure, not {failure!r}: answer an Ok "
                "with its value"
            )
            raise TypeError(msg)
        if type(failure) is Errors:
            errors = failure
        elif type(failure) is ErrorDetail:
            errors = Errors([failure])
        elif (carried := _carried_errors(failure)) is not None:
            errors = carried
        elif isinstance(failure, BaseException):
            errors = Errors(
                [ErrorDetail.from_exception(failure, classifier=self._classifier)]
            )
        else:
            errors = Errors([self._decided(failure)])
        if not errors:
            # The exception that said nothing is kept for the logs.
            cause = failure if isinstance(failure, BaseException) else None
            errors = Errors(
                [ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=cause)]
            )
        return errors

    def _decided(self, value: object) -> ErrorDetail:
        """A base error for a value that is not an exception, as it is classified."""
        try:
            decision = self._classifier.classify(value)
            wait = decision.retry_after
            params = {} if wait is None else {"retry_after": max(0, math.ceil(wait))}
            return ErrorDetail(
                None, decision.kind, params=params, bucket=decision.bucket
            )
        except Exception:  # noqa: BLE001 - it cannot become an error: a bug
            return ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR)

    def detail_of(self, failure: object) -> ErrorDetail:
        """
        The error that decides the answer: the first of the most severe.

        Its bucket, code and reference are what logs and trackers should say
        of `failure`, so that they match what the user was answered.

        >>> problems = Problems()
        >>> problems.detail_of(TimeoutError("the gateway took too long")).code
        'timeout'

        Raises:
            TypeError: When `failure` is an `Ok`.
        """
        return _worst(list(self.errors_of(failure)))

    def status_of(self, detail: ErrorDetail) -> int:
        """
        The status one error asks for: 500 for a programmer error; else by code.

        A code in `statuses` comes first, then the error's own status hint,
        then its kind's status (validation 422, declined 402, not_found 404,
        conflict 409; an upstream's rate_limit, quota, timeout, connection,
        server or unavailable 503), then its bucket's (422 for errors the user
        can fix, 503 for ones the user can only be told about).
        """
        bucket = detail.bucket
        if bucket is Bucket.PROGRAMMER_ERROR:
            return _INTERNAL_ERROR
        code = detail.code
        status = self._statuses.get(code)
        if status is not None:
            return status
        status = detail.status
        if status is not None:
            return status
        status = _STATUS_OF_KIND.get(code)
        return status if status is not None else _STATUS_OF_BUCKET[bucket]

    def answer(self, failure: object, *, instance: str | None = None) -> HttpAnswer:
        """
        Answer `failure` (see `errors_of`) with the status of its most severe error.

        The most severe error is the first of the highest bucket. A
        programmer error answers 500, and its body holds the programmer
        errors alone, each as a generic message with its reference. A wait
        the failure gave (its ``retry_after`` param) becomes ``Retry-After``
        on a 429 or 503, the longest when several gave one.

        Raises:
            TypeError: When `failure` is an `Ok`.
        """
        errors = self.errors_of(failure)
        details = list(errors)
        worst = _worst(details)
        status = self.status_of(worst)
        headers = {"Content-Type": PROBLEM_JSON}
        if worst.bucket is Bucket.PROGRAMMER_ERROR:
            errors = Errors(
                [
                    detail
                    for detail in details
                    if detail.bucket is Bucket.PROGRAMMER_ERROR
                ]
            )
        elif status in _WAITING_STATUSES:
            wait = _longest_wait(details)
            if wait is not None:
                headers["Retry-After"] = str(wait)
        body = errors.to_problem_details(
            status=status, type=self._type, instance=instance, catalog=self._catalog
        )
        return HttpAnswer(status, headers, body)


def _checked_statuses(statuses: object) -> Mapping[str, int]:
    if statuses is None:
        return {}
    if not isinstance(statuses, Mapping):
        msg = (
            "statuses must map error codes to HTTP statuses, such as "
            f"{{'sold_out': 409}}, not {statuses!r}"
        )
        raise TypeError(msg)
    checked: dict[str, int] = {}
    for code, status in cast("Mapping[object, object]", statuses).items():
        if not isinstance(code, str) or not code:
            msg = f"statuses must be keyed by error codes (non-empty str), not {code!r}"
            raise TypeError(msg)
        if isinstance(status, bool) or not isinstance(status, int):
            msg = (
                f"statuses[{code!r}] must be an HTTP status, an int from 400 to "
                f"599 such as 409, not {status!r} (of type {type(status).__name__})"
            )
            raise TypeError(msg)
        if not _LOWEST_ERROR_STATUS <= status <= _HIGHEST_STATUS:
            msg = (
                f"statuses[{code!r}] must be an HTTP error status from 400 to "
                f"599, not {status!r}: a failure is no success, redirect or "
                "interim answer"
            )
            raise ValueError(msg)
        checked[code] = int(status)
    return checked


def _checked_catalog(catalog: object) -> Mapping[str, str] | None:
    if catalog is None:
        return None
    if not isinstance(catalog, Mapping):
        msg = (
            "catalog must map error codes to message templates, such as "
            f"{{'blank': 'is required'}}, not {catalog!r}"
        )
        raise TypeError(msg)
    for code, template in cast("Mapping[object, object]", catalog).items():
        if not isinstance(code, str) or not isinstance(template, str):
            msg = (
                "catalog must map strings to strings, but it maps "
                f"{code!r} to {template!r}"
            )
            raise TypeError(msg)
    return dict(cast("Mapping[str, str]", catalog))


def _carried_errors(failure: object) -> Errors | None:
    """The `Errors` in the ``errors`` attribute of `failure`, if it has one."""
    try:
        carried = getattr(failure, "errors", None)
    except Exception:  # noqa: BLE001 - a property may raise anything
        return None
    return carried if type(carried) is Errors else None


def _log_returned_bugs(logger: logging.Logger, errors: Errors) -> None:
    """
    Log each programmer error among `errors`, answered as returned, not raised.

    No server or tracker sees a failure a handler returns, so the web
    integrations log it here, with its reference and its cause.
    """
    for detail in errors:
        if detail.bucket is Bucket.PROGRAMMER_ERROR:
            logger.error(
                "Answered a programmer error with 500, reference %s: %r",
                detail.reference,
                detail,
                exc_info=detail.cause,
            )


def _worst(details: list[ErrorDetail]) -> ErrorDetail:
    worst = details[0]
    for detail in details:
        if detail.bucket > worst.bucket:
            worst = detail
    return worst


def _longest_wait(details: list[ErrorDetail]) -> int | None:
    """The longest wait the errors gave, in whole seconds rounded up."""
    longest: int | None = None
    for detail in details:
        wait = detail.params.get("retry_after")
        if isinstance(wait, bool) or not isinstance(wait, int | float):
            continue
        if not 0 <= wait < math.inf:  # also false for NaN
            continue
        seconds = math.ceil(wait)
        if longest is None or seconds > longest:
            longest = seconds
    return longest


_DEFAULT: Final = Problems()


def http_answer(failure: object, *, instance: str | None = None) -> HttpAnswer:
    """
    Answer a failure with the default `Problems`: status, headers, problem body.

    >>> from outcome import ErrorDetail, Errors
    >>> answer = http_answer(Errors([ErrorDetail("email", "blank")]))
    >>> answer.status
    422
    >>> answer.body["errors"]
    [{'detail': "can't be blank", 'pointer': '#/email', 'code': 'blank'}]
    >>> http_answer(ConnectionRefusedError("10.0.0.7:5432 refused")).status
    503

    .. versionadded:: 0.1.0
    """
    return _DEFAULT.answer(failure, instance=instance)
