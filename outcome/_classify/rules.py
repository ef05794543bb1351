"""
What the classifier knows about each client: the shipped rules, as tables.

Each client the classifier reads gets one `_Client` record: the error codes
its bodies carry, the class names of its timeouts, connection failures and
validation errors, and its retry headers. The engine (`classifier`) only ever
reads the unions below, so adding a client is adding a record.
"""

from __future__ import annotations

# socket's constants come from the C module it wraps: socket.py itself costs
# `import outcome` a millisecond (its enums, and selectors).
import _socket
import errno
from typing import TYPE_CHECKING, Final

import attrs

from outcome._bucket import Bucket

if TYPE_CHECKING:
    from collections.abc import Mapping


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


@attrs.frozen
class _Client:
    """
    What one client library says about its failures, by duck typing.

    Codes are lower case, as the classifier compares them; class names are
    ``module.Qualname`` under the client's top-level package.
    """

    name: str
    quota_codes: frozenset[str] = frozenset()
    rate_limit_codes: frozenset[str] = frozenset()
    server_codes: frozenset[str] = frozenset()
    decline_codes: frozenset[str] = frozenset()
    timeout_names: frozenset[str] = frozenset()
    connection_names: frozenset[str] = frozenset()
    validation_names: frozenset[str] = frozenset()
    # urllib3's NewConnectionError subclasses its ConnectTimeoutError for
    # history's sake, but means the connection failed (refused, unreachable).
    not_timeout_names: frozenset[str] = frozenset()
    # Headers in which the server says whether to retry: "true" or "false".
    should_retry_headers: tuple[str, ...] = ()
    # Its header classes, by how they are read: those whose get() ignores
    # case, so that no other spelling is tried; those read in one pass, by
    # their `raw` byte pairs and `encoding` as httpx's are, or by their
    # `lower_items()` as requests' are.
    caseless_headers: frozenset[str] = frozenset()
    raw_headers: frozenset[str] = frozenset()
    lower_items_headers: frozenset[str] = frozenset()
    # Class attributes that warn when read, each only repeating another one.
    deprecated_attributes: Mapping[str, frozenset[str]] = attrs.field(
        factory=dict[str, frozenset[str]]
    )


_STDLIB: Final = _Client(
    "the standard library",
    timeout_names=_codes("builtins.TimeoutError"),
    connection_names=_codes(
        "builtins.ConnectionError", "http.RemoteDisconnected", "http.IncompleteRead"
    ),
    caseless_headers=_codes("http.HTTPMessage", "email.Message"),
)
_HTTPX: Final = _Client(
    "httpx",
    timeout_names=_codes("httpx.TimeoutException", "httpx2.TimeoutException"),
    connection_names=_codes(
        "httpx.NetworkError",
        "httpx.RemoteProtocolError",
        "httpx2.NetworkError",
        "httpx2.RemoteProtocolError",
    ),
    raw_headers=_codes("httpx.Headers", "httpx2.Headers"),
)
_REQUESTS: Final = _Client(
    "requests",
    timeout_names=_codes("requests.Timeout"),
    connection_names=_codes("requests.ConnectionError"),
    lower_items_headers=_codes("requests.CaseInsensitiveDict"),
)
_URLLIB3: Final = _Client(
    "urllib3",
    timeout_names=_codes("urllib3.TimeoutError"),
    connection_names=_codes("urllib3.NewConnectionError", "urllib3.ProtocolError"),
    not_timeout_names=_codes("urllib3.NewConnectionError"),
    caseless_headers=_codes("urllib3.HTTPHeaderDict"),
)
_AIOHTTP: Final = _Client(
    "aiohttp",
    timeout_names=_codes("aiohttp.ServerTimeoutError"),
    connection_names=_codes("aiohttp.ClientConnectionError"),
    deprecated_attributes={"aiohttp.ClientResponseError": _codes("code")},
    caseless_headers=_codes("multidict.CIMultiDictProxy", "multidict.CIMultiDict"),
)
_BOTOCORE: Final = _Client(
    "botocore",
    rate_limit_codes=_codes(
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
    ),
    server_codes=_codes(
        "requesttimeout",
        "requesttimeoutexception",
        "priorrequestnotcomplete",
        "internalerror",
        "internalfailure",
        "serviceunavailable",
    ),
    timeout_names=_codes("botocore.ReadTimeoutError", "botocore.ConnectTimeoutError"),
    connection_names=_codes(
        "botocore.EndpointConnectionError", "botocore.ConnectionClosedError"
    ),
)
_OPENAI: Final = _Client(
    "openai",
    quota_codes=_codes(
        "insufficient_quota", "billing_hard_limit_reached", "billing_not_active"
    ),
    rate_limit_codes=_codes("rate_limit_exceeded"),
    timeout_names=_codes("openai.APITimeoutError"),
    connection_names=_codes("openai.APIConnectionError"),
    should_retry_headers=("x-should-retry",),
)
_ANTHROPIC: Final = _Client(
    "anthropic",
    quota_codes=_codes("billing_error", "credit_balance_too_low"),
    rate_limit_codes=_codes("rate_limit_error"),
    server_codes=_codes("overloaded_error", "api_error"),
    timeout_names=_codes("anthropic.APITimeoutError"),
    connection_names=_codes("anthropic.APIConnectionError"),
    should_retry_headers=("x-should-retry",),
)
_STRIPE: Final = _Client(
    "stripe",
    rate_limit_codes=_codes("rate_limit"),
    server_codes=_codes("processing_error"),
    decline_codes=_codes(
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
    ),
    connection_names=_codes("stripe.APIConnectionError"),
    validation_names=_codes("stripe.CardError"),
    should_retry_headers=("stripe-should-retry",),
)
# The job engines' own time limits, raised in a job that ran too long: a job
# waiting on a slow service, as a client's timeout is. Celery's come from
# billiard, its pool.
_JOB_ENGINES: Final = _Client(
    "Celery, Dramatiq and RQ",
    timeout_names=_codes(
        "billiard.SoftTimeLimitExceeded",
        "billiard.TimeLimitExceeded",
        "dramatiq.TimeLimitExceeded",
        "rq.JobTimeoutException",
    ),
)
# Codes that many APIs use, whatever their client.
_COMMON: Final = _Client(
    "common HTTP APIs",
    quota_codes=_codes("quota_exceeded"),
    rate_limit_codes=_codes("too_many_requests"),
)
_VALIDATION_LIBRARIES: Final = _Client(
    "pydantic, Django and marshmallow",
    validation_names=_codes(
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
        "django.core.exceptions.ValidationError",
        "marshmallow.ValidationError",
    ),
)

_CLIENTS: Final = (
    _STDLIB,
    _HTTPX,
    _REQUESTS,
    _URLLIB3,
    _AIOHTTP,
    _BOTOCORE,
    _OPENAI,
    _ANTHROPIC,
    _STRIPE,
    _JOB_ENGINES,
    _COMMON,
    _VALIDATION_LIBRARIES,
)

_QUOTA_CODES: Final = frozenset[str]().union(*(c.quota_codes for c in _CLIENTS))
_RATE_LIMIT_CODES: Final = frozenset[str]().union(
    *(c.rate_limit_codes for c in _CLIENTS)
)
_SERVER_CODES: Final = frozenset[str]().union(*(c.server_codes for c in _CLIENTS))
_DECLINE_CODES: Final = frozenset[str]().union(*(c.decline_codes for c in _CLIENTS))
_TIMEOUT_NAMES: Final = frozenset[str]().union(*(c.timeout_names for c in _CLIENTS))
_CONNECTION_NAMES: Final = frozenset[str]().union(
    *(c.connection_names for c in _CLIENTS)
)
_VALIDATION_NAMES: Final = frozenset[str]().union(
    *(c.validation_names for c in _CLIENTS)
)
_NOT_TIMEOUT_NAMES: Final = frozenset[str]().union(
    *(c.not_timeout_names for c in _CLIENTS)
)
# The job's own time is up: a retry loop inside the job lets these through.
_TIME_LIMIT_NAMES: Final = _JOB_ENGINES.timeout_names
_SHOULD_RETRY_HEADERS: Final = tuple(
    dict.fromkeys(header for c in _CLIENTS for header in c.should_retry_headers)
)
# Retry-After in milliseconds, read before Retry-After itself: openai's and
# anthropic's, then AWS's.
_MILLISECOND_WAIT_HEADERS: Final = ("retry-after-ms", "x-amz-retry-after")
# Every header the classifier reads, in lower case.
_READ_HEADERS: Final = frozenset(
    {*_SHOULD_RETRY_HEADERS, *_MILLISECOND_WAIT_HEADERS, "retry-after"}
)
_CASELESS_HEADERS: Final = frozenset[str]().union(
    *(c.caseless_headers for c in _CLIENTS)
)
_RAW_HEADERS: Final = frozenset[str]().union(*(c.raw_headers for c in _CLIENTS))
_LOWER_ITEMS_HEADERS: Final = frozenset[str]().union(
    *(c.lower_items_headers for c in _CLIENTS)
)
_DEPRECATED_ATTRIBUTES: Final = {
    owner: names for c in _CLIENTS for owner, names in c.deprecated_attributes.items()
}

_TIMEOUT_ERRNOS: Final = frozenset({errno.ETIMEDOUT})
_CONNECTION_ERRNOS: Final = frozenset(
    {
        _socket.EAI_AGAIN,  # a temporary failure to resolve a name
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

# A verdict: who must act, whether waiting helps, and the kind.
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
    """The verdict for an HTTP status: the known ones, else by its range."""
    known = _BY_STATUS.get(status)
    if known is not None:
        return known
    if status >= 500:  # noqa: PLR2004 - the server error range
        return _VISIBLE, True, "server"
    if status >= 400:  # noqa: PLR2004 - the client error range
        return _FIXABLE, False, "validation"
    return _BUG, False, "bug"


def _by_code(code: str) -> tuple[Bucket, bool, str] | None:
    """The verdict for an error code, when a client's table knows it."""
    if code in _QUOTA_CODES:
        return _VISIBLE, False, "quota"
    if code in _RATE_LIMIT_CODES:
        return _VISIBLE, True, "rate_limit"
    if code in _SERVER_CODES:
        return _VISIBLE, True, "server"
    if code in _DECLINE_CODES:
        return _FIXABLE, False, "declined"
    return None
