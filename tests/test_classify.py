"""Tests for the failure classifier: facts, rules, chains, groups, totality."""

from __future__ import annotations

import abc
import email.message
import email.utils
import enum
import errno
import http
import itertools
import json
import math
import pickle
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
import multidict
import pytest
import requests
import requests.structures
from hypothesis import given, settings
from hypothesis import strategies as st

from outcome import (
    DEFAULT_CLASSIFIER,
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    SelfClassifying,
    classify,
)
from outcome._classify import chain as chain_module
from outcome._classify import classifier as classifier_module
from outcome._classify import decision as decision_module
from outcome._classify import facts as facts_module
from outcome._classify import rules as rules_module

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FIXABLE, VISIBLE, BUG = (
    Bucket.USER_FIXABLE,
    Bucket.USER_VISIBLE,
    Bucket.PROGRAMMER_ERROR,
)


class HTTPError(Exception):
    """An error shaped like a client's, with the attributes the classifier reads."""

    def __init__(self, **attributes: Any) -> None:
        super().__init__("HTTP failure")
        for name, value in attributes.items():
            setattr(self, name, value)


class Response:
    """A response object with a status and headers."""

    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}


def chained(*links: BaseException) -> BaseException:
    """Chain links outermost first through __cause__, as `raise ... from` does."""
    for outer, inner in itertools.pairwise(links):
        outer.__cause__ = inner
    return links[0]


class Runaway(BaseException):
    """A test double was read far past any budget: the walk would never end."""


def count(reads: list[object], item: object, limit: int = 20_000) -> None:
    """Count one read of a test double; stop a runaway walk instead of hanging."""
    reads.append(item)
    if len(reads) > limit:
        raise Runaway(limit)  # a BaseException: no guard of the classifier stops it


class RaisingText(str):
    """Text whose own methods raise, as a hostile str subclass's may."""

    __slots__ = ()

    def lower(self) -> str:  # noqa: D102 - the overrides are the point
        raise RuntimeError("lower")

    def strip(self, chars: str | None = None) -> str:  # noqa: D102
        raise RuntimeError("strip")

    def title(self) -> str:  # noqa: D102
        raise RuntimeError("title")

    def __len__(self) -> int:
        raise RuntimeError("len")


class RaisingBytes(bytes):
    """Bytes whose own methods raise."""

    __slots__ = ()

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:  # noqa: D102
        raise RuntimeError("decode")

    def __len__(self) -> int:
        raise RuntimeError("len")


class RaisingNumber(int):
    """An int whose own comparisons and conversions raise."""

    __slots__ = ()

    def _raise(self, *args: object) -> Any:
        raise RuntimeError("number")

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _raise
    __int__ = __index__ = __float__ = __str__ = __repr__ = _raise
    __hash__ = int.__hash__


class Lying:
    """
    An object whose __class__ raises when outcome asks, as isinstance() does.

    Only outcome's own code is refused, so that pytest and Hypothesis can
    still show it.
    """

    @property
    def __class__(self) -> type:  # type: ignore[override]
        if sys._getframe(1).f_globals.get("__name__", "").startswith("outcome."):
            raise RuntimeError("__class__")
        return Lying


class TestStatus:
    """The HTTP status table."""

    @pytest.mark.parametrize(
        ("status", "bucket", "transient", "kind"),
        [
            (400, FIXABLE, False, "validation"),
            (413, FIXABLE, False, "validation"),
            (422, FIXABLE, False, "validation"),
            (402, FIXABLE, False, "declined"),
            (401, BUG, False, "auth"),
            (403, BUG, False, "auth"),
            (404, BUG, False, "not_found"),
            (405, BUG, False, "bug"),
            (501, BUG, False, "bug"),
            (408, VISIBLE, True, "timeout"),
            (504, VISIBLE, True, "timeout"),
            (409, VISIBLE, True, "conflict"),
            (425, VISIBLE, True, "conflict"),
            (429, VISIBLE, True, "rate_limit"),
            (500, VISIBLE, True, "server"),
            (503, VISIBLE, True, "server"),
            (529, VISIBLE, True, "server"),
            (302, BUG, False, "bug"),
        ],
    )
    def test_table(
        self, status: int, bucket: Bucket, transient: bool, kind: str
    ) -> None:
        """Each status lands in its bucket, transient flag and kind."""
        decision = classify(HTTPError(status_code=status))
        assert (decision.bucket, decision.transient, decision.kind) == (
            bucket,
            transient,
            kind,
        )
        assert decision.status == status
        assert decision.rule == f"status:{status}"

    @pytest.mark.parametrize(
        "attributes",
        [
            {"status_code": 503},
            {"response": Response(503)},
            {"status": 503},
            {"http_status": 503},
            {"code": 503},
            {"response": {"ResponseMetadata": {"HTTPStatusCode": 503}}},
        ],
        ids=[
            "status_code",
            "response.status_code",
            "status",
            "http_status",
            "code",
            "botocore",
        ],
    )
    def test_status_is_read_from_every_usual_place(
        self, attributes: dict[str, Any]
    ) -> None:
        """Each client's place for the status is read: httpx, aiohttp, botocore..."""
        assert classify(HTTPError(**attributes)).status == 503

    @pytest.mark.parametrize("status", [True, "503", 99, 600, 503.0, -1, None])
    def test_only_int_statuses_in_range_count(self, status: object) -> None:
        """A status that is not an int from 100 to 599 is ignored."""
        decision = classify(HTTPError(status_code=status))
        assert decision.status is None
        assert decision.kind == "bug"

    @pytest.mark.parametrize(
        "attributes",
        [
            {"status_code": httpx.codes.SERVICE_UNAVAILABLE},
            {"response": Response(http.HTTPStatus.SERVICE_UNAVAILABLE)},
            {"status": http.HTTPStatus.SERVICE_UNAVAILABLE},
            {"http_status": httpx.codes.SERVICE_UNAVAILABLE},
            {"code": http.HTTPStatus.SERVICE_UNAVAILABLE},
            {
                "response": {
                    "ResponseMetadata": {
                        "HTTPStatusCode": http.HTTPStatus.SERVICE_UNAVAILABLE
                    }
                }
            },
        ],
        ids=[
            "status_code",
            "response.status_code",
            "status",
            "http_status",
            "code",
            "botocore",
        ],
    )
    def test_int_enum_statuses_are_statuses(self, attributes: dict[str, Any]) -> None:
        """httpx.codes and http.HTTPStatus count, and the decision holds a plain int."""
        decision = classify(HTTPError(**attributes))
        assert (decision.kind, decision.status, decision.rule) == (
            "server",
            503,
            "status:503",
        )
        assert type(decision.status) is int

    def test_an_int_whose_own_methods_raise_is_read_as_its_number(self) -> None:
        """An int subclass is read by int's own methods, never by its overrides."""
        decision = classify(HTTPError(status_code=RaisingNumber(429)))
        assert (decision.kind, decision.status) == ("rate_limit", 429)
        assert type(decision.status) is int

    def test_should_retry_header_overrides_the_status(self) -> None:
        """The server's x-should-retry / stripe-should-retry decides transience."""
        no = classify(HTTPError(response=Response(503, {"x-should-retry": "false"})))
        assert (no.transient, no.rule) == (False, "status:503+should-retry")
        yes = classify(
            HTTPError(response=Response(400, {"Stripe-Should-Retry": "true"}))
        )
        assert (yes.transient, yes.bucket) == (True, VISIBLE)
        odd = classify(HTTPError(response=Response(503, {"x-should-retry": "maybe"})))
        assert (odd.transient, odd.rule) == (True, "status:503")


class TestCodes:
    """Error codes that decide more than the status can."""

    def test_quota_is_not_a_rate_limit(self) -> None:
        """A 429 with insufficient_quota is not transient: waiting will not help."""
        quota = classify(HTTPError(status_code=429, code="insufficient_quota"))
        assert (quota.bucket, quota.transient, quota.kind) == (VISIBLE, False, "quota")
        assert (quota.code, quota.rule) == (
            "insufficient_quota",
            "code:insufficient_quota",
        )
        limited = classify(HTTPError(status_code=429, code="rate_limit_exceeded"))
        assert (limited.transient, limited.kind) == (True, "rate_limit")

    @pytest.mark.parametrize(
        "attributes",
        [
            {"code": "insufficient_quota"},
            {"type": "insufficient_quota"},
            {"body": {"code": "insufficient_quota"}},
            {"body": {"type": "insufficient_quota"}},
            {"body": {"error": {"code": "insufficient_quota"}}},
            {"body": {"type": "error", "error": {"type": "billing_error"}}},
            {"response": {"Error": {"Code": "Insufficient_Quota"}}},
            {"error": HTTPError(code="insufficient_quota")},
        ],
    )
    def test_codes_are_read_from_every_usual_place(
        self, attributes: dict[str, Any]
    ) -> None:
        """openai, anthropic, stripe and botocore put the code in different places."""
        assert classify(HTTPError(status_code=429, **attributes)).kind == "quota"

    @pytest.mark.parametrize(
        ("code", "kind", "transient", "bucket"),
        [
            ("card_declined", "declined", False, FIXABLE),
            ("insufficient_funds", "declined", False, FIXABLE),
            ("ThrottlingException", "rate_limit", True, VISIBLE),
            ("SlowDown", "rate_limit", True, VISIBLE),
            ("overloaded_error", "server", True, VISIBLE),
            ("RequestTimeout", "server", True, VISIBLE),
        ],
    )
    def test_known_codes(
        self, code: str, kind: str, transient: bool, bucket: Bucket
    ) -> None:
        """Card declines, AWS throttling and overload codes, without a status."""
        decision = classify(HTTPError(code=code))
        assert (decision.kind, decision.transient, decision.bucket) == (
            kind,
            transient,
            bucket,
        )

    def test_quota_in_a_body_the_client_already_read(self) -> None:
        """httpx and requests keep a read body in response._content; a 429 reads it."""

        class ReadResponse(Response):
            def __init__(self, content: object) -> None:
                super().__init__(429)
                self._content = content

        quota = b'{"error": {"code": "insufficient_quota"}}'
        assert classify(HTTPError(response=ReadResponse(quota))).kind == "quota"
        for content in (b"not json", b"", None, b"x" * 100_000):
            assert (
                classify(HTTPError(response=ReadResponse(content))).kind == "rate_limit"
            )

    @pytest.mark.parametrize(
        "content",
        [b"[" * 60_000, RaisingBytes(b'{"code": "x"}')],
        ids=["nested too deep", "bytes whose methods raise"],
    )
    def test_a_body_that_cannot_be_parsed_leaves_the_rate_limit(
        self, content: bytes
    ) -> None:
        """A body nested too deep to parse counts as missing: the 429 still decides."""

        class ReadResponse(Response):
            def __init__(self) -> None:
                super().__init__(429, {"Retry-After": "3"})
                self._content = content

        decision = classify(HTTPError(response=ReadResponse()))
        assert (decision.kind, decision.transient, decision.retry_after) == (
            "rate_limit",
            True,
            3.0,
        )

    def test_a_body_of_a_bytes_subclass_is_read(self) -> None:
        """A read body held as a bytes subclass is parsed from its bytes."""

        class ReadResponse(Response):
            def __init__(self) -> None:
                super().__init__(429)
                self._content = RaisingBytes(
                    b'{"error": {"code": "insufficient_quota"}}'
                )

        assert classify(HTTPError(response=ReadResponse())).kind == "quota"

    @pytest.mark.parametrize(
        "attributes",
        [
            {"code": RaisingText("insufficient_quota")},
            {"type": RaisingText("insufficient_quota")},
            {"body": {"code": RaisingText("insufficient_quota")}},
            {"body": {"error": {"type": RaisingText("insufficient_quota")}}},
            {"response": {"Error": {"Code": RaisingText("Insufficient_Quota")}}},
            {"error": HTTPError(decline_code=RaisingText("insufficient_quota"))},
        ],
        ids=["code", "type", "body code", "body error type", "botocore", "error"],
    )
    def test_codes_whose_own_methods_raise_are_read_as_text(
        self, attributes: dict[str, Any]
    ) -> None:
        """A str subclass whose lower() or __len__ raises is read as its text."""
        assert classify(HTTPError(status_code=429, **attributes)).kind == "quota"

    def test_a_code_that_cannot_even_say_its_class_is_no_code(self) -> None:
        """A code whose __class__ raises counts as missing; the status decides."""
        decision = classify(HTTPError(status_code=429, code=Lying(), type=Lying()))
        assert (decision.kind, decision.rule) == ("rate_limit", "status:429")

    def test_a_body_whose_keys_cannot_be_compared_loses_only_the_body(self) -> None:
        """A body dict whose key == raises counts as missing; the status decides."""

        class Touchy(str):
            __slots__ = ()

            def __hash__(self) -> int:
                return hash(str(self))

            def __eq__(self, other: object) -> bool:
                raise RuntimeError

        body = {Touchy("code"): "insufficient_quota", Touchy("error"): {}}
        decision = classify(HTTPError(status_code=503, body=body))
        assert (decision.kind, decision.status) == ("server", 503)

    def test_stripe_decline_code_beats_the_402(self) -> None:
        """A card error's decline_code, read from its .error object, is the code."""
        card = HTTPError(
            http_status=402,
            code="card_declined",
            error=HTTPError(decline_code="insufficient_funds"),
        )
        decision = classify(card)
        assert (decision.kind, decision.code, decision.status) == (
            "declined",
            "insufficient_funds",
            402,
        )

    def test_unknown_or_silly_codes_are_ignored(self) -> None:
        """Codes that are not short strings do not count."""
        assert classify(HTTPError(status_code=500, code="x" * 500)).kind == "server"
        assert (
            classify(HTTPError(status_code=500, code=b"insufficient_quota")).kind
            == "server"
        )


def httpx_status_error(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.HTTPStatusError:
    """What plain httpx raises for `status` with a JSON `body`, read as it does."""

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        response = client.post("http://payments.test/v1/charges")
    with pytest.raises(httpx.HTTPStatusError) as raised:
        response.raise_for_status()
    return raised.value


def requests_status_error(status: int, content: bytes) -> requests.HTTPError:
    """What requests raises for `status` once it has read `content`."""
    response = requests.Response()
    response.status_code = status
    response._content = content  # what requests keeps of a body it read
    response.url = "http://payments.test/v1/charges"
    with pytest.raises(requests.HTTPError) as raised:
        response.raise_for_status()
    return raised.value


STRIPE_DECLINE = {
    "error": {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
}
"""Stripe's body for a declined card, with the issuer's reason."""

known_codes = st.sampled_from(
    sorted(
        rules_module._QUOTA_CODES
        | rules_module._RATE_LIMIT_CODES
        | rules_module._SERVER_CODES
        | rules_module._DECLINE_CODES
    )
)
unknown_codes = st.text(min_size=1, max_size=30).filter(
    lambda code: rules_module._by_code(code.lower()) is None
)
error_statuses = st.integers(400, 599)


class TestBodiesOfEveryStatus:
    """The body a plain HTTP client read tells its error code, whatever the status."""

    def test_a_400_whose_body_says_card_declined_is_a_decline(self) -> None:
        """httpx's 400 whose body says card_declined is no validation error."""
        failure = httpx_status_error(400, {"error": {"code": "card_declined"}})

        decision = classify(failure)

        assert (decision.bucket, decision.kind, decision.status) == (
            FIXABLE,
            "declined",
            400,
        )
        assert (decision.code, decision.rule) == ("card_declined", "code:card_declined")

    def test_the_decline_code_of_a_402_is_kept(self) -> None:
        """Stripe's 402 through plain httpx keeps the issuer's decline_code."""
        decision = classify(httpx_status_error(402, STRIPE_DECLINE))

        assert (decision.kind, decision.status, decision.code) == (
            "declined",
            402,
            "insufficient_funds",
        )

    def test_requests_reads_the_body_it_kept(self) -> None:
        """requests' HTTPError of a 400 says card_declined from response._content."""
        content = json.dumps(STRIPE_DECLINE).encode()

        decision = classify(requests_status_error(400, content))

        assert (decision.kind, decision.code) == ("declined", "insufficient_funds")

    def test_a_decline_code_the_tables_do_not_list_is_still_the_code(self) -> None:
        """Of Stripe's many decline codes, an unlisted one is still the code."""
        body = {"error": {"code": "card_declined", "decline_code": "pickup_card"}}

        decision = classify(httpx_status_error(402, body))

        assert (decision.kind, decision.code, decision.rule) == (
            "declined",
            "pickup_card",
            "code:card_declined",
        )

    def test_a_decline_code_only_counts_when_the_tables_say_declined(self) -> None:
        """A decline code beside a quota code does not become the quota's code."""
        body = {"error": {"code": "quota_exceeded", "decline_code": "pickup_card"}}

        decision = classify(httpx_status_error(403, body))

        assert (decision.kind, decision.code) == ("quota", "quota_exceeded")

    @pytest.mark.parametrize(
        ("status", "body", "kind", "transient"),
        [
            (503, {"error": {"code": "quota_exceeded"}}, "quota", False),
            (400, {"__type": "x", "code": "ThrottlingException"}, "rate_limit", True),
            (503, {"error": {"code": "rate_limit_exceeded"}}, "rate_limit", True),
            (
                400,
                {"type": "error", "error": {"type": "overloaded_error"}},
                "server",
                True,
            ),
            (422, {"decline_code": "expired_card"}, "declined", False),
        ],
        ids=[
            "quota behind a 503",
            "throttled 400",
            "rate limit behind a 503",
            "overloaded 400",
            "top-level decline",
        ],
    )
    def test_a_known_code_decides_over_the_status(
        self, status: int, body: object, kind: str, transient: bool
    ) -> None:
        """Quota, rate limit, server and decline codes beat the status's range."""
        decision = classify(httpx_status_error(status, body, {"Retry-After": "4"}))

        assert (decision.kind, decision.transient, decision.status) == (
            kind,
            transient,
            status,
        )
        assert decision.retry_after == (4.0 if transient else None)

    @pytest.mark.parametrize(
        "content",
        [
            b"x" * 70_000,
            b"not json",
            b"[" * 60_000,
            b'{"error": {"code": "card_declined"}, "pad": "' + b"x" * 70_000 + b'"}',
        ],
        ids=["too large", "not json", "too deep", "a known code in a large body"],
    )
    def test_a_body_that_cannot_be_read_leaves_the_status(self, content: bytes) -> None:
        """Bounded as for a 429: too large, not JSON or too deep, the 400 decides."""

        class Read(Response):
            def __init__(self) -> None:
                super().__init__(400)
                self._content = content

        decision = classify(HTTPError(response=Read()))

        assert (decision.kind, decision.rule) == ("validation", "status:400")

    def test_a_content_that_raises_leaves_the_status(self) -> None:
        """A response whose _content raises when read counts as one with no body."""

        class Unreadable(Response):
            @property
            def _content(self) -> bytes:
                raise RuntimeError("the stream was closed")

        decision = classify(HTTPError(response=Unreadable(402)))

        assert (decision.kind, decision.code, decision.rule) == (
            "declined",
            None,
            "status:402",
        )

    def test_the_links_own_body_comes_before_its_responses(self) -> None:
        """An SDK's parsed body is read, not the response's bytes beside it."""

        class Read(Response):
            _content = b'{"error": {"code": "insufficient_quota"}}'

        sdk_error = HTTPError(
            body={"error": {"code": "rate_limit_exceeded"}}, response=Read(400)
        )

        assert classify(sdk_error).kind == "rate_limit"

    @given(error_statuses, known_codes, st.sampled_from(["code", "error", "decline"]))
    def test_a_known_code_decides_whatever_the_status(
        self, status: int, code: str, where: str
    ) -> None:
        """For any 4xx or 5xx, a known code in the body gives that code's kind."""
        shaped: dict[str, object] = {
            "code": {"code": code},
            "error": {"error": {"code": code}},
            "decline": {"error": {"decline_code": code}},
        }[where]

        class Read(Response):
            _content = json.dumps(shaped).encode()

        decision = classify(HTTPError(response=Read(status)))

        verdict = rules_module._by_code(code)
        assert verdict is not None
        assert (decision.bucket, decision.transient, decision.kind) == verdict
        assert (decision.code, decision.status) == (code, status)

    @given(error_statuses, unknown_codes)
    def test_an_unknown_code_changes_nothing(self, status: int, code: str) -> None:
        """A body whose codes no table knows gives the status's own decision."""

        class Read(Response):
            _content = json.dumps({"error": {"code": code, "type": code}}).encode()

        with_body = classify(HTTPError(response=Read(status)))
        without = classify(HTTPError(response=Response(status)))

        assert with_body == without
        assert with_body.code is None


class TestTransport:
    """Timeouts and connection failures, by class name or errno."""

    @pytest.mark.parametrize(
        ("failure", "kind"),
        [
            (TimeoutError(), "timeout"),
            (ConnectionRefusedError(), "connection"),
            (ConnectionResetError(), "connection"),
            (BrokenPipeError(), "connection"),
            (OSError(errno.ECONNREFUSED, "refused"), "connection"),
            (OSError(errno.ETIMEDOUT, "timed out"), "timeout"),
            (OSError(errno.EHOSTUNREACH, "no route"), "connection"),
        ],
    )
    def test_standard_library(self, failure: BaseException, kind: str) -> None:
        """Builtin timeouts, connection errors and their errno values."""
        decision = classify(failure)
        assert (decision.bucket, decision.transient, decision.kind) == (
            VISIBLE,
            True,
            kind,
        )

    def test_the_job_engines_time_limits_are_timeouts(self) -> None:
        """Celery's, Dramatiq's and RQ's own time limits: user-visible, transient."""
        from billiard.exceptions import (  # noqa: PLC0415 - test dependencies
            SoftTimeLimitExceeded,
            TimeLimitExceeded,
        )
        from dramatiq.middleware.time_limit import (  # noqa: PLC0415
            TimeLimitExceeded as DramatiqTimeLimit,
        )
        from rq.timeouts import JobTimeoutException  # noqa: PLC0415

        limits: list[BaseException] = [
            SoftTimeLimitExceeded(),
            TimeLimitExceeded(30.0),
            DramatiqTimeLimit(),
            JobTimeoutException("Task exceeded maximum timeout value (1 seconds)"),
        ]
        for limit in limits:
            decision = classify(limit)
            assert (decision.bucket, decision.transient, decision.kind) == (
                VISIBLE,
                True,
                "timeout",
            ), limit
        assert classify(chained(RuntimeError("job"), limits[0])).kind == "timeout"

    def test_os_error_attribute_of_aiohttp(self) -> None:
        """aiohttp keeps the OSError on .os_error."""
        assert (
            classify(HTTPError(os_error=OSError(errno.ECONNREFUSED, "x"))).kind
            == "connection"
        )

    def test_errno_is_read_however_it_is_defined(self) -> None:
        """OSError's own errno, one set on any exception, or a property."""

        class Refused(OSError):
            @property
            def errno(self) -> int:  # type: ignore[override]
                return errno.ECONNREFUSED

        class Broken(OSError):
            @property
            def errno(self) -> int:  # type: ignore[override]
                raise RuntimeError

        tagged = RuntimeError("socket")
        tagged.errno = errno.ETIMEDOUT  # type: ignore[attr-defined]
        wrapped = chained(RuntimeError("job"), OSError(errno.ECONNRESET, "reset"))
        assert classify(Refused()).kind == "connection"
        assert classify(tagged).kind == "timeout"
        assert classify(wrapped).link is wrapped.__cause__
        assert classify(Broken()).rule == "default"

    def test_an_odd_errno_is_no_errno(self) -> None:
        """An errno that is not an int is ignored, wherever it is."""
        odd = OSError()
        odd.errno = "ECONNRESET"  # type: ignore[assignment]
        assert classify(odd).rule == "default"
        assert classify(chained(RuntimeError("job"), odd)).rule == "default"

    def test_an_int_enum_errno_is_an_errno(self) -> None:
        """An errno held as an IntEnum counts, on an OSError or as an attribute."""

        class Errno(enum.IntEnum):
            ECONNRESET = errno.ECONNRESET
            ETIMEDOUT = errno.ETIMEDOUT

        reset = OSError()
        reset.errno = Errno.ECONNRESET
        assert classify(reset).kind == "connection"
        assert classify(HTTPError(errno=Errno.ETIMEDOUT)).kind == "timeout"
        aiohttp_like = HTTPError(errno=None, os_error=HTTPError(errno=Errno.ECONNRESET))
        assert classify(aiohttp_like).kind == "connection"

    def test_empty_facts_are_no_facts(self) -> None:
        """Attributes set to None or {} say nothing, as on most SDK errors."""

        def empty() -> HTTPError:
            return HTTPError(status_code=None, headers={}, code=None, error=None)

        assert classify(empty()).rule == "default"
        assert classify(chained(empty(), ConnectionResetError())).kind == "connection"

    def test_class_names_along_the_mro(self) -> None:
        """A class named like a client's timeout is one; the client is not imported."""
        timeout = type("TimeoutException", (Exception,), {"__module__": "httpx"})
        read_timeout = type(
            "ReadTimeout", (timeout,), {"__module__": "httpx._exceptions"}
        )
        assert classify(read_timeout()).kind == "timeout"
        sdk = type(
            "APIConnectionError", (Exception,), {"__module__": "openai._exceptions"}
        )
        assert classify(sdk()).kind == "connection"

    def test_class_names_cache_is_bounded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Classes made on the fly are named, but the cache stops at its limit."""
        monkeypatch.setattr(facts_module, "_CLASS_INFO_LIMIT", 0)
        fresh = type("TimeoutException", (Exception,), {"__module__": "httpx"})
        assert classify(fresh()).kind == "timeout"
        assert fresh not in facts_module._CLASS_INFO

    def test_odd_class_names_are_tolerated(self) -> None:
        """A class whose __module__ is not a str is still classified."""
        odd = type("TimeoutException", (Exception,), {"__module__": None})
        assert classify(odd()).kind == "bug"

    def test_urllib3_new_connection_error_is_not_a_timeout(self) -> None:
        """urllib3 derives NewConnectionError from its timeout class; it is not one."""
        timeout = type(
            "ConnectTimeoutError", (TimeoutError,), {"__module__": "urllib3.exceptions"}
        )
        refused = type(
            "NewConnectionError", (timeout,), {"__module__": "urllib3.exceptions"}
        )
        assert classify(refused()).kind == "connection"

    def test_a_timeout_deeper_beats_a_connection_name_outside(self) -> None:
        """stripe wraps requests' ReadTimeout in APIConnectionError: a timeout."""
        sdk = type("APIConnectionError", (Exception,), {"__module__": "stripe._error"})
        assert classify(chained(sdk(), TimeoutError())).kind == "timeout"

    def test_values_without_a_dict_are_read(self) -> None:
        """Objects with __slots__ and no __dict__ are classified by their class."""

        class Slotted:
            __slots__ = ()

        assert classify(Err(Slotted())).kind == "bug"

    def test_url_errors_are_judged_by_their_reason(self) -> None:
        """A URLError with no network failure behind it is a bug, not transient."""
        bad_url = urllib.error.URLError("unknown url type: foo")
        assert classify(bad_url).bucket is BUG
        refused = chained(urllib.error.URLError("refused"), ConnectionRefusedError())
        refused.__cause__ = None
        refused.__context__ = ConnectionRefusedError()
        assert classify(refused).kind == "connection"

    def test_temporary_dns_failure_is_transient(self) -> None:
        """socket.gaierror with EAI_AGAIN is worth retrying."""
        decision = classify(socket.gaierror(socket.EAI_AGAIN, "try again"))
        assert (decision.kind, decision.transient) == ("connection", True)

    def test_other_os_errors_are_bugs(self) -> None:
        """A FileNotFoundError is not a network failure."""
        assert classify(FileNotFoundError(errno.ENOENT, "config.toml")).bucket is BUG


class TestValidation:
    """Validation errors of other libraries, by name."""

    def test_by_name(self) -> None:
        """pydantic, Django and marshmallow ValidationErrors are user-fixable."""
        for module in (
            "pydantic",
            "pydantic_core._pydantic_core",
            "marshmallow.exceptions",
            "django.core.exceptions",
        ):
            error = type("ValidationError", (ValueError,), {"__module__": module})
            decision = classify(error())
            assert (decision.bucket, decision.kind) == (FIXABLE, "validation"), module


class TestChain:
    """The __cause__ / __context__ chain."""

    def test_the_mismatch_is_seen_through(self) -> None:
        """An SDK error with no status is classified by the HTTP error it wraps."""
        sdk_error = type("APIError", (Exception,), {"__module__": "some_sdk"})
        failure = chained(
            sdk_error("boom"), HTTPError(response=Response(429, {"Retry-After": "3"}))
        )
        decision = classify(failure)
        assert (decision.kind, decision.transient, decision.retry_after) == (
            "rate_limit",
            True,
            3.0,
        )
        assert decision.link is failure.__cause__

    def test_context_is_followed_when_there_is_no_cause(self) -> None:
        """An exception raised while handling another keeps it as __context__."""

        def reset() -> None:
            raise ConnectionResetError

        def wrap() -> None:
            try:
                reset()
            except ConnectionResetError:
                raise RuntimeError("wrapper") from None

        with pytest.raises(RuntimeError) as info:
            wrap()
        failure = info.value
        assert failure.__suppress_context__
        assert classify(failure).kind == "connection"

    def test_outermost_rule_of_a_tier_wins(self) -> None:
        """Within a tier, the outer link decides: a 401 around a 503 is auth."""
        failure = chained(HTTPError(status_code=401), HTTPError(status_code=503))
        assert classify(failure).kind == "auth"

    def test_higher_tier_deeper_beats_lower_tier_outer(self) -> None:
        """An error code deep in the chain beats a status on the outside."""
        failure = chained(
            HTTPError(status_code=429), HTTPError(code="insufficient_quota")
        )
        assert classify(failure).kind == "quota"

    def test_cycles_are_walked_once(self) -> None:
        """A cause cycle is read link by link once, however deep the limit."""
        first, second = ValueError("a"), KeyError("b")
        first.__cause__ = second
        second.__cause__ = first
        seen: list[object] = []
        classifier = Classifier(max_depth=100_000)
        classifier.register(lambda link: seen.append(link) and False, bucket=BUG)  # type: ignore[func-returns-value]
        assert classifier.classify(first).bucket is BUG
        assert seen == [first, second]

    @pytest.mark.parametrize("lead", [0, 3, 7, 8, 9, 20])
    @pytest.mark.parametrize("max_depth", [2, 5, 8, 9, 16, 100])
    def test_every_cycle_is_cut_where_it_repeats(
        self, lead: int, max_depth: int
    ) -> None:
        """However long the chain before a cycle, each link is read once."""
        ring = [HTTPError(status_code=503), KeyError("b"), ValueError("c")]
        for link, following in itertools.pairwise([*ring, ring[0]]):
            link.__cause__ = following
        outer: list[BaseException] = [RuntimeError(f"wrapper {n}") for n in range(lead)]
        for link, following in itertools.pairwise([*outer, ring[0]]):
            link.__cause__ = following
        chain = [*outer, *ring]
        seen: list[object] = []
        classifier = Classifier(max_depth=max_depth)
        classifier.register(lambda link: seen.append(link) and False, bucket=BUG)  # type: ignore[func-returns-value]
        decision = classifier.classify(chain[0])
        assert seen == chain[:max_depth]
        reached = max_depth > lead
        assert decision.kind == ("server" if reached else "bug")
        assert decision.status == (503 if reached else None)

    def test_a_cycle_of_facts_keeps_each_once(self) -> None:
        """Links that carry facts are cut with the rest: the first one decides."""
        first = HTTPError(status_code=503, headers={"Retry-After": "4"})
        second = HTTPError(status_code=429, headers={"Retry-After": "9"})
        first.__cause__, second.__cause__ = second, first
        links, found = chain_module._chain(first, 50)
        assert [link for link, _, _ in links] == [first, second]
        assert [facts.link for facts in found] == [first, second]
        assert classify(first).retry_after == 4.0

    def test_deep_chains_are_cut(self) -> None:
        """A 10,000-deep chain is read to max_depth only, quickly."""
        failure: BaseException = TimeoutError()
        for _ in range(10_000):
            wrapper = RuntimeError()
            wrapper.__cause__ = failure
            failure = wrapper
        start = time.perf_counter()
        assert classify(failure).kind == "bug"
        assert time.perf_counter() - start < 1.0
        assert Classifier(max_depth=10_001).classify(failure).kind == "timeout"
        assert Classifier(max_depth=3).classify(failure).kind == "bug"


@pytest.fixture(
    params=["UTC0", "EST5EDT", "JST-9", "NPT-5:45", "<-12>12"],
    ids=["UTC", "New York", "Tokyo", "Kathmandu", "UTC-12"],
)
def time_zone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Run the test with the host's local time in the zone of the parameter."""
    zone: str = request.param
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert (time.timezone == 0) == (zone == "UTC0")  # the zone took effect
        yield zone
    finally:
        monkeypatch.undo()
        time.tzset()


def http_date(seconds: float, form: str) -> str:
    """`seconds` since the epoch as an HTTP-date in `form`, in English always."""
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
    moment = time.gmtime(seconds)
    weekday = (*days, "Sunday")[moment.tm_wday]
    month = "JanFebMarAprMayJunJulAugSepOctNovDec"[3 * moment.tm_mon - 3 :][:3]
    clock = f"{moment.tm_hour:02}:{moment.tm_min:02}:{moment.tm_sec:02}"
    dated = f"{moment.tm_mday:02} {month} {moment.tm_year}"
    return {
        "IMF-fixdate": f"{weekday[:3]}, {dated} {clock} GMT",
        "RFC 850": (
            f"{weekday}, {moment.tm_mday:02}-{month}-{moment.tm_year % 100:02} "
            f"{clock} GMT"
        ),
        "asctime": (
            f"{weekday[:3]} {month} {moment.tm_mday:2} {clock} {moment.tm_year}"
        ),
        "-0000": f"{weekday[:3]}, {dated} {clock} -0000",
        "no zone": f"{weekday[:3]}, {dated} {clock}",
    }[form]


class TestRetryAfter:
    """Retry-After, in all its spellings."""

    @pytest.mark.parametrize(
        ("headers", "seconds"),
        [
            ({"Retry-After": "7"}, 7.0),
            ({"retry-after": " 1.5 "}, 1.5),
            ({"retry-after-ms": "250"}, 0.25),
            ({"x-amz-retry-after": "1500"}, 1.5),
            ({"Retry-After": "-5"}, 0.0),
            ({"Retry-After": "soon"}, None),
            ({"Retry-After": "nan"}, None),
            ({"Retry-After": "1e999"}, None),
            ({"Retry-After": b"4"}, 4.0),
            ({}, None),
        ],
    )
    def test_values(self, headers: dict[str, object], seconds: float | None) -> None:
        """Delay-seconds and milliseconds, clamped to >= 0; nonsense is ignored."""
        assert (
            classify(HTTPError(status_code=429, headers=headers)).retry_after == seconds
        )

    def test_http_date(self) -> None:
        """An HTTP-date is turned into seconds from the classifier's clock."""
        now = 1_800_000_000.0
        date = email.utils.formatdate(now + 30, usegmt=True)
        classifier = Classifier(clock=lambda: now)
        assert (
            classifier.classify(
                HTTPError(status_code=503, headers={"Retry-After": date})
            ).retry_after
            == 30.0
        )
        past = email.utils.formatdate(now - 30, usegmt=True)
        assert (
            classifier.classify(
                HTTPError(status_code=503, headers={"Retry-After": past})
            ).retry_after
            == 0.0
        )

    @pytest.mark.parametrize(
        "form",
        ["IMF-fixdate", "RFC 850", "asctime", "-0000", "no zone"],
    )
    def test_http_dates_are_utc_in_every_time_zone(
        self, form: str, time_zone: str
    ) -> None:
        """RFC 9110 dates are UTC: the host's time zone never shifts the wait."""
        now = 1_800_000_000.0
        date = http_date(now + 30, form)
        failure = HTTPError(status_code=503, headers={"Retry-After": date})
        assert Classifier(clock=lambda: now).classify(failure).retry_after == 30.0

    def test_a_clock_that_raises_loses_only_the_wait(self) -> None:
        """A broken clock means no wait is known; the status still decides."""

        def broken() -> float:
            raise OSError("clock")

        failure = HTTPError(status_code=429, headers={"Retry-After": "3"})
        decision = Classifier(clock=broken).classify(failure)
        assert (decision.kind, decision.transient, decision.retry_after) == (
            "rate_limit",
            True,
            None,
        )

    @pytest.mark.parametrize(
        "headers",
        [
            {RaisingText("Retry-After"): "3"},
            {"Retry-After": RaisingText(" 3 ")},
            {"Retry-After": RaisingBytes(b"3")},
            {RaisingText("retry-after-ms"): RaisingText("3000")},
        ],
        ids=["key", "value", "bytes value", "both"],
    )
    def test_headers_whose_own_methods_raise_are_read_as_text(
        self, headers: dict[str, str]
    ) -> None:
        """A header key or value of a str subclass whose lower() or strip() raises."""
        decision = classify(HTTPError(status_code=429, headers=headers))
        assert (decision.kind, decision.retry_after) == ("rate_limit", 3.0)

    def test_should_retry_whose_own_methods_raise_is_read_as_text(self) -> None:
        """The server's should-retry answer is read from the text it holds."""
        headers = {"x-should-retry": RaisingText("false")}
        decision = classify(HTTPError(status_code=503, headers=headers))
        assert (decision.transient, decision.rule) == (False, "status:503+should-retry")

    def test_longer_than_the_maximum_defers(self) -> None:
        """Above max_retry_after the decision says defer, and is still transient."""
        failure = HTTPError(status_code=429, headers={"Retry-After": "3600"})
        decision = Classifier(max_retry_after=60).classify(failure)
        assert (decision.retry_after, decision.defer, decision.transient) == (
            3600.0,
            True,
            True,
        )
        assert not Classifier(max_retry_after=7200).classify(failure).defer

    def test_not_read_for_failures_that_are_not_transient(self) -> None:
        """A quota error's Retry-After does not invite a retry."""
        failure = HTTPError(
            status_code=429, code="insufficient_quota", headers={"Retry-After": "1"}
        )
        assert classify(failure).retry_after is None

    def test_headers_and_mappings_that_raise_are_skipped(self) -> None:
        """A headers object or body whose get() raises counts as absent."""

        class Exploding(dict[str, str]):
            def get(self, key: str, default: object = None) -> Any:
                raise RuntimeError(key)

        failure = HTTPError(
            status_code=503, headers=Exploding(x="1"), body=Exploding(x="1")
        )
        decision = classify(failure)
        assert (decision.kind, decision.retry_after) == ("server", None)

    def test_headers_without_a_get_are_skipped(self) -> None:
        """Headers that are not a mapping say nothing; the next headers may."""
        failure = HTTPError(
            response=Response(503, ["Retry-After: 9"]),  # type: ignore[arg-type]
            headers={"Retry-After": "4"},
        )
        assert classify(failure).retry_after == 4.0

    def test_plain_dict_headers_in_any_case(self) -> None:
        """A plain dict of headers is read without regard to case."""
        headers = {"RETRY-AFTER": "4", "X-Other": "1"}
        assert classify(HTTPError(status_code=503, headers=headers)).retry_after == 4.0

    def test_botocore_headers(self) -> None:
        """botocore keeps headers in the response metadata."""
        failure = HTTPError(
            response={
                "ResponseMetadata": {
                    "HTTPStatusCode": 503,
                    "HTTPHeaders": {"retry-after": "2"},
                }
            }
        )
        assert classify(failure).retry_after == 2.0

    def test_the_email_package_is_imported_for_a_date_only(self) -> None:
        """Delay-seconds need no email package; the first HTTP-date imports it."""
        script = """
import sys
from outcome import classify
class Limited(Exception): ...
failure = Limited()
failure.status_code, failure.headers = 429, {"Retry-After": "3"}
assert classify(failure).retry_after == 3.0
assert "email" not in sys.modules, "email was imported for delay-seconds"
failure.headers = {"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"}
assert classify(failure).defer
assert "email.utils" in sys.modules
"""
        subprocess.run([sys.executable, "-c", script], check=True)  # noqa: S603 - ours


def read_headers(headers: object) -> dict[str, str | None]:
    """What the classifier reads of one headers object, by lower-case name."""
    facts = facts_module._read_link(HTTPError(), {"headers": headers}.get, getattr)
    return facts.header_table()


def asked_by_get(headers: object) -> dict[str, str | None]:
    """What one get() per name and spelling says, as headers were read before."""
    answers: dict[str, str | None] = {}
    for name in sorted(rules_module._READ_HEADERS):
        for key in (name, name.title()):
            text = facts_module._header_text(headers.get(key))  # type: ignore[attr-defined]
            if text is not None:
                answers[name] = text
                break
    return answers


class Recorder(dict[str, str]):
    """Headers that remember every name asked of their get()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:  # noqa: D102
        self.asked.append(key)
        return super().get(key, default)


def named_like(module: str, qualname: str, **namespace: Any) -> type:
    """A dict subclass posing under a client's header class name."""
    cls = type(qualname.rpartition(".")[2], (dict,), dict(namespace))
    cls.__module__, cls.__qualname__ = module, qualname
    return cls


header_names_any_case = st.sampled_from(
    [*sorted(rules_module._READ_HEADERS), "date", "content-type", "x-request-id"]
).flatmap(
    lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(
            c.upper() if up else c for c, up in zip(name, upper, strict=True)
        )
    )
)
header_bytes = st.binary(max_size=12) | st.sampled_from(
    [b"2", b" 1.5 ", b"true", b"FALSE", "\u00e9t\u00e9".encode(), b"\xff"]
)


class TestHeaderReading:
    """Each client's headers are read once, as their own get() would answer."""

    @given(st.lists(st.tuples(header_names_any_case, header_bytes), max_size=8))
    def test_httpx_headers_read_in_one_pass_answer_as_get(
        self, pairs: list[tuple[str, bytes]]
    ) -> None:
        """Any case, repeats joined, decoded as httpx decodes: as its get() says."""
        headers = httpx.Headers([(name.encode(), value) for name, value in pairs])
        assert read_headers(headers) == asked_by_get(headers)

    @given(st.dictionaries(header_names_any_case, st.text(max_size=12), max_size=8))
    def test_requests_headers_read_in_one_pass_answer_as_get(
        self, entries: dict[str, str]
    ) -> None:
        """requests' case-insensitive dict, read by its lower_items(), as by get()."""
        headers = requests.structures.CaseInsensitiveDict(entries)
        assert read_headers(headers) == asked_by_get(headers)

    def test_repeated_httpx_headers_are_joined(self) -> None:
        """Two should-retry headers say "false, false", which is no answer."""
        headers = httpx.Headers([("x-should-retry", "false"), ("X-Should-Retry", "no")])
        assert headers.get("x-should-retry") == "false, no"
        decision = classify(HTTPError(status_code=503, headers=headers))
        assert (decision.transient, decision.rule) == (True, "status:503")

    def test_httpx_headers_in_any_case_and_encoding(self) -> None:
        """A name in capitals among UTF-8 values is found, as by httpx's get()."""
        headers = httpx.Headers(
            [(b"X-Note", "\u00e9t\u00e9".encode()), (b"RETRY-AFTER", b"4")]
        )
        assert headers.encoding == "utf-8"
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 4.0

    def test_a_subclass_of_httpx_headers_is_read_by_its_get(self) -> None:
        """A subclass may answer otherwise than its pairs say: its get() decides."""

        class Defaulted(httpx.Headers):
            def get(self, key: str, default: Any = None) -> Any:
                return "7" if key == "retry-after" else default

        headers = Defaulted({"Retry-After": "1"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 7.0

    @pytest.mark.parametrize(
        "namespace",
        [
            {"raw": property(lambda self: 1 / 0), "encoding": "ascii"},
            {"raw": [(b"retry-after", b"1")], "encoding": None},
            {"raw": [("retry-after", "1")], "encoding": "ascii"},
            {"raw": [(b"retry-after", b"1")], "encoding": "no-such-codec"},
        ],
        ids=["raw raises", "no encoding", "text pairs", "unknown codec"],
    )
    def test_headers_named_like_httpx_that_are_not_are_read_by_get(
        self, namespace: dict[str, object]
    ) -> None:
        """A class that only has httpx's name is read by its get(), in title case."""
        cls = named_like("httpx._models", "Headers", **namespace)
        headers = cls({"Retry-After": "6"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 6.0

    def test_a_lower_items_that_raises_is_read_by_get(self) -> None:
        """A class posing as requests' whose lower_items() raises: get() answers."""

        def lower_items(_self: object) -> Any:
            raise RuntimeError("lower_items")

        cls = named_like(
            "requests.structures", "CaseInsensitiveDict", lower_items=lower_items
        )
        headers = cls({"Retry-After": "6"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 6.0

    @pytest.mark.parametrize("client", ["httpx", "requests"])
    def test_too_many_headers_to_read_at_once_are_read_by_get(
        self, client: str
    ) -> None:
        """More headers than a pass reads: each name is asked of get() instead."""
        entries = [(f"x-filler-{n}", "1") for n in range(1100)] + [("Retry-After", "3")]
        headers: object = (
            httpx.Headers(entries)
            if client == "httpx"
            else requests.structures.CaseInsensitiveDict(entries)
        )
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 3.0

    def test_a_requests_value_that_is_not_text_leaves_the_name_to_later_headers(
        self,
    ) -> None:
        """Its get() gives nothing for a number, so the next headers may answer."""
        headers = requests.structures.CaseInsensitiveDict({"Retry-After": 5})
        failure = HTTPError(
            response=Response(429, headers),  # type: ignore[arg-type]
            headers={"retry-after": "9"},
        )
        assert classify(failure).retry_after == 9.0

    def test_headers_known_to_ignore_case_are_asked_in_lower_case_only(self) -> None:
        """No title-case second try for urllib3's, aiohttp's or the stdlib's."""
        asked: list[str] = []

        def get(_self: object, key: str, default: Any = None) -> Any:
            asked.append(key)
            return "2" if key == "retry-after" else default

        cls = named_like("urllib3._collections", "HTTPHeaderDict", get=get)
        assert classify(HTTPError(status_code=429, headers=cls())).retry_after == 2.0
        assert asked == [name.lower() for name in asked]
        assert "retry-after" in asked

    def test_other_headers_are_asked_as_given_then_in_title_case(self) -> None:
        """A mapping that keeps case is found under either spelling, not others."""
        title, capitals = {"Retry-After": "6"}, {"RETRY-AFTER": "6"}
        proxy = types.MappingProxyType
        assert (
            classify(HTTPError(status_code=429, headers=proxy(title))).retry_after
            == 6.0
        )
        assert (
            classify(HTTPError(status_code=429, headers=proxy(capitals))).retry_after
            is None
        )

    def test_aiohttp_and_urllib_headers_are_read_by_get(self) -> None:
        """Their get() ignores case and gives the first of repeated headers."""
        pairs = [("Retry-After", "1"), ("retry-after", "2")]
        message = email.message.Message()
        for name, value in pairs:
            message[name] = value
        for headers in (
            multidict.CIMultiDictProxy(multidict.CIMultiDict(pairs)),
            message,
        ):
            decision = classify(HTTPError(status_code=429, headers=headers))
            assert decision.retry_after == 1.0

    def test_headers_whose_class_cannot_be_hashed_are_read_by_get(self) -> None:
        """A metaclass that cannot hash its classes: the headers are still read."""

        class Unhashable(type):
            def __hash__(cls) -> int:
                raise RuntimeError("hash")

        class Odd(dict[str, str], metaclass=Unhashable): ...

        headers = Odd({"Retry-After": "5"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 5.0

    def test_dict_keys_that_are_not_text_are_skipped(self) -> None:
        """A number or bytes as a name in a plain dict is no header of any name."""
        headers = {5: "1", b"Retry-After": "2", "Retry-After": "3"}
        failure = HTTPError(status_code=429, headers=headers)
        assert classify(failure).retry_after == 3.0

    def test_header_classes_past_the_limit_are_not_kept(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Classes made on the fly are still read, but not kept past the limit."""
        monkeypatch.setattr(facts_module, "_CLASS_INFO_LIMIT", 0)
        cls = type("OnTheFly", (dict,), {})
        headers = cls({"Retry-After": "3"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 3.0
        assert cls not in facts_module._HEADER_CLASSES

    def test_once_every_name_is_told_later_headers_are_not_asked(self) -> None:
        """Headers that said everything leave nothing to ask of the next ones."""
        told = dict.fromkeys(rules_module._READ_HEADERS, "1")
        later = Recorder()
        failure = HTTPError(response=Response(429, told), headers=later)
        assert classify(failure).retry_after == 0.001
        assert later.asked == []

    def test_later_headers_tell_the_names_earlier_ones_lack(self) -> None:
        """A dict, another dict, then a mapping: the first to tell each name wins."""
        failure = HTTPError(
            response=Response(503, {"x-should-retry": "true", "Retry-After": "8"}),
            headers={"retry-after": "9", "retry-after-ms": "oops"},
        )
        assert classify(failure).retry_after == 8.0
        failure = HTTPError(
            response=Response(503, {"x-should-retry": "true"}),
            headers=types.MappingProxyType(
                {"Retry-After": "4", "x-should-retry": "no"}
            ),
        )
        decision = classify(failure)
        assert (decision.retry_after, decision.rule) == (4.0, "status:503+should-retry")


class TestReadBodies:
    """A body the client read is parsed only when it may be a JSON object."""

    @pytest.mark.parametrize(
        "content",
        [b"Too Many Requests", b"<html><body>429</body></html>", b"[1, 2]", b'"x"'],
        ids=["text", "HTML", "a list", "a string"],
    )
    def test_a_body_that_is_no_json_object_is_not_parsed(
        self, content: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Text, HTML or a list cannot hold a code: no parse, the status decides."""

        def refuse(text: object) -> object:
            raise AssertionError(text)

        monkeypatch.setattr(facts_module.json, "loads", refuse)
        decision = classify(requests_status_error(429, content))
        assert (decision.kind, decision.transient) == ("rate_limit", True)

    @pytest.mark.parametrize(
        "content",
        [
            b' \n\t{"error": {"code": "insufficient_quota"}}',
            '{"error": {"code": "insufficient_quota"}}'.encode("utf-16"),
            '{"error": {"code": "insufficient_quota"}}'.encode("utf-16-be"),
            b'\xef\xbb\xbf{"error": {"code": "insufficient_quota"}}',
        ],
        ids=["whitespace first", "UTF-16", "UTF-16 without a mark", "UTF-8 mark"],
    )
    def test_a_json_object_is_parsed_however_it_starts(self, content: bytes) -> None:
        """Leading whitespace, a byte order mark or UTF-16: the code is read."""
        assert classify(requests_status_error(429, content)).kind == "quota"

    def test_a_mapping_response_without_get_has_no_botocore_error(self) -> None:
        """A virtual Mapping with no get() is no botocore response: no code."""

        class Answer:
            status_code = 400

        Mapping.register(Answer)
        assert classify(HTTPError(response=Answer())).kind == "validation"

    def test_a_mapping_response_that_is_not_a_dict_tells_its_error(self) -> None:
        """A Mapping response holds botocore's error code as a dict does."""

        class Answer(dict[str, object]):
            status_code = 400

        answer = Answer(Error={"Code": "ThrottlingException"})
        assert classify(HTTPError(response=answer)).kind == "rate_limit"


class TestLoneFailures:
    """A failure alone and silent is decided by its class, remembered once."""

    @staticmethod
    def the_long_way(failure: object) -> Decision:
        """The decision walked and read in full: a rule for no class bypasses memory."""
        classifier = Classifier()
        classifier.register(Runaway, bucket=BUG)
        return classifier.classify(failure)

    @given(
        st.sampled_from(
            [
                Exception,
                ValueError,
                KeyError,
                TimeoutError,
                ConnectionRefusedError,
                OSError,
                httpx.ReadTimeout,
                requests.ConnectionError,
            ]
        ),
        st.sampled_from([None, errno.ETIMEDOUT, errno.ECONNREFUSED, errno.ENOENT]),
        st.sampled_from([None, {}, 503]),
    )
    def test_remembered_decisions_are_those_of_the_long_way(
        self, base: type[Exception], number: int | None, status: object
    ) -> None:
        """Whatever the class, errno and attributes, memory decides as reading does."""
        cls = type("Failure", (base,), {})
        for _ in range(3):  # the first is walked; the others may be remembered
            failure = cls("message")
            if number is not None and isinstance(failure, OSError):
                failure.errno = number
            failure.status_code = status  # type: ignore[attr-defined]
            decision, expected = classify(failure), self.the_long_way(failure)
            assert decision == expected
            assert decision.link is failure

    def test_a_remembered_class_with_a_cause_is_walked(self) -> None:
        """Once ValueError alone is known, one with a timeout behind it is not alone."""
        assert classify(ValueError("alone")).kind == "bug"
        failure = chained(ValueError("wrapped"), TimeoutError("slow"))
        assert classify(failure).kind == "timeout"
        later = ValueError("raised while handling")
        later.__context__ = ConnectionResetError()
        assert classify(later).kind == "connection"

    def test_a_remembered_class_that_now_says_something_is_read(self) -> None:
        """A status or an errno on a later instance is read, not remembered."""
        cls = type("Quiet", (OSError,), {})
        assert classify(cls()).kind == "bug"
        assert classify(cls(errno.ECONNREFUSED, "refused")).kind == "connection"
        loud = cls()
        loud.status_code = 429  # type: ignore[attr-defined]
        assert classify(loud).kind == "rate_limit"

    def test_a_remembered_class_with_a_hostile_key_is_read_the_long_way(self) -> None:
        """A dict key that cannot be compared sends the failure the long way."""

        class Clashing(str):
            __slots__ = ()
            __hash__ = str.__hash__

            def __eq__(self, other: object) -> bool:
                raise RuntimeError("eq")

        cls = type("Plain", (Exception,), {})
        assert classify(cls()).rule == "default"
        failure = cls()
        failure.__dict__[Clashing("status_code")] = 429
        assert classify(failure) == self.the_long_way(failure)

    def test_classes_with_their_own_metaclass_are_not_remembered(self) -> None:
        """An ABC's class may hash in its own code: such failures are walked."""
        cls = abc.ABCMeta("Abstract", (Exception,), {})
        assert classify(cls()).kind == classify(cls()).kind == "bug"
        assert cls not in classifier_module._LONE

    def test_a_class_that_cannot_be_hashed_is_classified(self) -> None:
        """A metaclass whose hash raises: neither looked up nor kept, still decided."""

        class Unhashable(type):
            def __hash__(cls) -> int:
                raise RuntimeError("hash")

        class Slow(TimeoutError, metaclass=Unhashable): ...

        assert classify(Slow()).kind == classify(Slow()).kind == "timeout"

    def test_the_memory_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Classes made on the fly stop being remembered at the limit."""
        monkeypatch.setattr(classifier_module, "_LONE_LIMIT", 0)
        cls = type("OnTheFly", (Exception,), {})
        assert classify(cls()).rule == "default"
        assert cls not in classifier_module._LONE

    def test_user_rules_see_every_failure(self) -> None:
        """A class rule registered after a class was remembered still applies."""
        cls = type("Declined", (Exception,), {})
        classifier = Classifier()
        assert classifier.classify(cls()).rule == "default"
        classifier.register(cls, bucket=FIXABLE, kind="declined")
        assert classifier.classify(cls()).kind == "declined"


class TestLongChains:
    """Links past the eighth are read inline too, each checked against the rest."""

    @staticmethod
    def plain_chain(depth: int) -> list[BaseException]:
        """`depth` ordinary exceptions, each the cause of the one before."""
        links: list[BaseException] = [
            RuntimeError(f"wrapper {n}") for n in range(depth)
        ]
        links[-1] = TimeoutError("innermost")
        chained(*links)
        return links

    def test_sixteen_plain_links_need_no_guarded_walk(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A 16-deep chain of ordinary exceptions is read inline to its end."""

        def refuse(*args: object) -> Any:
            raise AssertionError(args)

        monkeypatch.setattr(chain_module, "_walk_guarded", refuse)
        links = self.plain_chain(16)
        walked, _ = chain_module._chain(links[0], 16)
        assert [link for link, _, _ in walked] == links
        assert classify(links[0]).link is links[-1]

    def test_a_cycle_past_the_eighth_link_is_cut(self) -> None:
        """A link past the eighth that comes back round ends the walk."""
        links = self.plain_chain(12)
        links[-1].__cause__ = links[9]
        walked, _ = chain_module._chain(links[0], 16)
        assert [link for link, _, _ in walked] == links

    @pytest.mark.parametrize("position", [9, 12])
    def test_a_hostile_link_past_the_eighth_is_read_guarded(
        self, position: int
    ) -> None:
        """A link that cannot be read inline is read guarded, once, where it is."""

        class Clashing(str):
            __slots__ = ()
            __hash__ = str.__hash__

            def __eq__(self, other: object) -> bool:
                raise RuntimeError("eq")

        links = self.plain_chain(14)
        links[position].__dict__[Clashing("status_code")] = 503
        walked, _ = chain_module._chain(links[0], 16)
        assert [link for link, _, _ in walked] == links
        assert classify(links[0]).link is links[-1]

    def test_an_odd_link_past_the_eighth_is_read_guarded(self) -> None:
        """A link whose class reads attributes its own way is read guarded."""

        class Odd(Exception):
            def __getattr__(self, name: str) -> object:
                raise AttributeError(name)

        links = self.plain_chain(14)
        odd = Odd("odd")
        odd.status_code = 503  # type: ignore[attr-defined]
        odd.__cause__ = links[11]
        links[10].__cause__ = odd
        chain = [*links[:11], odd, *links[11:]]
        walked, found = chain_module._chain(chain[0], 16)
        assert [link for link, _, _ in walked] == chain[:16]
        assert [facts.link for facts in found] == [odd]
        assert classify(chain[0]).kind == "server"


class TestGroups:
    """Exception groups: every leaf counts."""

    def test_worst_bucket_all_transient_longest_wait(self) -> None:
        """Worst bucket; transient only if every leaf is; the longest Retry-After."""
        group = ExceptionGroup(
            "parallel calls",
            [
                HTTPError(status_code=503, headers={"Retry-After": "5"}),
                ExceptionGroup(
                    "nested", [HTTPError(status_code=429, headers={"Retry-After": "9"})]
                ),
            ],
        )
        decision = classify(group)
        assert (decision.bucket, decision.transient, decision.retry_after) == (
            VISIBLE,
            True,
            9.0,
        )
        assert decision.rule.startswith("group:")
        with_bug = ExceptionGroup("calls", [TimeoutError(), KeyError("x")])
        assert (classify(with_bug).bucket, classify(with_bug).transient) == (BUG, False)

    def test_a_group_with_odd_members_is_read_safely(self) -> None:
        """A group subclass whose exceptions are not a tuple of exceptions is a bug."""

        class OddGroup(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                return "not a tuple"

        odd = OddGroup("odd", [TimeoutError()])
        assert (classify(odd).bucket, classify(odd).rule) == (BUG, "group")

        class JunkGroup(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                return ("text", None, Lying(), TimeoutError())

        junk = JunkGroup("junk", [TimeoutError()])
        assert (classify(junk).kind, classify(junk).rule) == (
            "timeout",
            "group:timeout",
        )

    @pytest.mark.parametrize(
        ("members", "kind"),
        [((), "bug"), ((TimeoutError("t"),), "timeout")],
        ids=["alone", "with a leaf"],
    )
    def test_a_group_that_holds_itself_is_read_once(
        self, members: tuple[BaseException, ...], kind: str
    ) -> None:
        """A group among its own members is walked once, and classify returns."""
        reads: list[object] = []

        class Ouroboros(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                count(reads, self)
                return (self, *members, self)

        group = Ouroboros("loop", [ValueError()])
        assert classify(group).kind == kind
        assert reads == [group]

    def test_a_group_that_makes_new_members_on_every_read_is_bounded(self) -> None:
        """A group that builds a new group at each read runs out of visits."""
        reads: list[object] = []

        class Hydra(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                count(reads, self)
                return (Hydra("head", [ValueError()]),)

        classifier = Classifier(max_leaves=4)
        decision = classifier.classify(Hydra("head", [ValueError()]))
        assert (decision.kind, decision.rule) == ("bug", "group")
        assert len(reads) <= 1 + 4 * classifier.max_leaves

    def test_a_deep_nest_costs_nothing_past_the_budget(self) -> None:
        """Of a 100,000-deep nest, only as many groups as the budget are read."""
        reads: list[object] = []

        class Counted(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                count(reads, self)
                return super().exceptions

        group: Exception = TimeoutError()
        for _ in range(100_000):
            group = Counted("nest", [group])
        classifier = Classifier()
        assert classifier.classify(group).rule == "group"
        assert len(reads) <= 1 + 4 * classifier.max_leaves

    def test_a_wide_group_costs_nothing_past_the_budget(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Of a 1,000,000-member group, only as many members as the budget are read."""
        visited: list[object] = []
        members_of = classifier_module._tuple_iterator

        def counted(members: tuple[object, ...]) -> Iterator[object]:
            for member in members_of(members):
                count(visited, member, limit=2_000_000)
                yield member

        monkeypatch.setattr(classifier_module, "_tuple_iterator", counted)
        same = KeyError("sku")
        classifier = Classifier()
        for group in (
            ExceptionGroup("wide", [same] * 1_000_000),
            ExceptionGroup("wide", [ExceptionGroup("inner", [same])] * 1_000_000),
        ):
            visited.clear()
            assert classifier.classify(group).kind == "bug"
            assert len(visited) <= 1 + 4 * classifier.max_leaves

    def test_a_leaf_that_cannot_be_classified_is_one_bug_among_the_others(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One leaf that defeats every guard does not hide what the others say."""

        class Unforeseen(KeyError):
            """Never classified before: its chain is walked, not remembered."""

        broken = Unforeseen("no guard foresaw this")
        walk = classifier_module._chain

        def chain(failure: object, max_depth: int) -> Any:
            if failure is broken:
                raise RuntimeError("unforeseen")
            return walk(failure, max_depth)

        monkeypatch.setattr(classifier_module, "_chain", chain)
        limited = HTTPError(status_code=429, headers={"Retry-After": "5"})
        decision = classify(ExceptionGroup("calls", [limited, broken]))
        assert (decision.bucket, decision.rule, decision.retry_after) == (
            BUG,
            "group:unclassifiable",
            5.0,
        )

    def test_huge_groups_are_capped(self) -> None:
        """A group of 100,000 leaves is read to max_leaves only."""
        group = ExceptionGroup("many", [TimeoutError() for _ in range(100_000)])
        start = time.perf_counter()
        assert classify(group).kind == "timeout"
        assert time.perf_counter() - start < 2.0


class TestValues:
    """Err values, Errors, ErrorDetail and plain values."""

    def test_err_of_an_exception(self) -> None:
        """An Err is classified by the error it holds."""
        assert classify(Err(TimeoutError())).kind == "timeout"
        assert classify(Err(Err(ConnectionResetError()))).kind == "connection"

    def test_errors_take_their_worst_bucket(self) -> None:
        """An Errors decides by its buckets; transient only if every cause is."""
        errors = Errors([ErrorDetail("email", "blank")])
        assert (
            classify(errors).bucket,
            classify(errors).kind,
            classify(errors).transient,
        ) == (FIXABLE, "validation", False)
        errors.add_exception(TimeoutError(), "payment")
        assert (classify(Err(errors)).bucket, classify(errors).kind) == (
            VISIBLE,
            "unavailable",
        )
        transient_only = Errors([ErrorDetail.from_exception(TimeoutError())])
        assert classify(transient_only).transient
        assert classify(ErrorDetail(None, "bug", bucket=BUG)).kind == "bug"
        assert classify(Errors()).bucket is FIXABLE

    @pytest.mark.parametrize(
        "answer",
        [
            "validation",
            Decision._make(FIXABLE, False, "", None, None, None, False, "x", None),
        ],
        ids=["not a decision", "unsound"],
    )
    def test_a_holder_that_answers_nonsense_is_unclassifiable(
        self, answer: object
    ) -> None:
        """A value's own __outcome_classify__ must answer a sound Decision."""

        class Holder:
            def __outcome_classify__(
                self, classify: Callable[[object], Decision]
            ) -> object:
                return answer

        decision = classify(Holder())
        assert (decision.bucket, decision.rule) == (BUG, "unclassifiable")

    def test_a_cause_that_cannot_be_classified_is_one_bug_among_the_errors(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One cause of an Errors that defeats every guard leaves the others' say."""
        broken = KeyError("no guard foresaw this")
        walk = classifier_module._chain

        def chain(failure: object, max_depth: int) -> Any:
            if failure is broken:
                raise RuntimeError("unforeseen")
            return walk(failure, max_depth)

        errors = Errors([ErrorDetail("email", "blank")])
        errors.add_exception(broken, "sku")
        monkeypatch.setattr(classifier_module, "_chain", chain)
        decision = classify(errors)
        assert (decision.bucket, decision.kind, decision.rule) == (
            BUG,
            "bug",
            "errors",
        )

    def test_plain_values_are_bugs_unless_a_rule_says(self) -> None:
        """An Err of a string is unknown, hence a programmer error."""
        assert classify(Err("declined")).bucket is BUG
        assert classify(None).bucket is BUG


class TestUserRules:
    """register(): the user's own rules come first."""

    def test_type_rule_beats_shipped_rules(self) -> None:
        """A registered class decides, even for what a shipped rule knows."""
        classifier = Classifier()
        classifier.register(TimeoutError, bucket=FIXABLE, kind="slow_user")
        decision = classifier.classify(TimeoutError())
        assert (decision.bucket, decision.kind, decision.rule) == (
            FIXABLE,
            "slow_user",
            "user:TimeoutError",
        )
        assert classify(TimeoutError()).kind == "timeout"  # the default is untouched

    def test_most_specific_class_wins(self) -> None:
        """Along the MRO, the most specific registered class decides."""
        classifier = Classifier()
        classifier.register(OSError, bucket=BUG, kind="os")
        classifier.register(ConnectionError, bucket=VISIBLE, transient=True, kind="net")
        assert classifier.classify(ConnectionResetError()).kind == "net"
        assert classifier.classify(FileNotFoundError()).kind == "os"

    def test_error_values_that_are_not_exceptions(self) -> None:
        """Rules work for Err values of any class."""

        class OutOfStock:
            pass

        classifier = Classifier()
        classifier.register(
            OutOfStock, bucket=FIXABLE, kind="out_of_stock", name="stock"
        )
        decision = classifier.classify(Err(OutOfStock()))
        assert (decision.kind, decision.rule) == ("out_of_stock", "stock")

    def test_abc_virtual_subclasses(self) -> None:
        """An ABC rule matches classes registered with it virtually."""

        class Retryable(abc.ABC):  # noqa: B024 - a marker
            pass

        class Flaky(Exception):
            pass

        Retryable.register(Flaky)
        classifier = Classifier()
        classifier.register(Retryable, bucket=VISIBLE, transient=True, kind="flaky")
        assert classifier.classify(Flaky()).kind == "flaky"

    def test_an_abc_base_is_as_specific_as_its_place_in_the_mro(self) -> None:
        """A rule for an ABC base beats one for a more general class."""

        class PaymentError(Exception, abc.ABC):
            pass

        class CardError(PaymentError):
            pass

        classifier = Classifier()
        classifier.register(Exception, bucket=BUG, kind="any")
        classifier.register(PaymentError, bucket=FIXABLE, kind="payment")
        assert classifier.classify(CardError()).kind == "payment"

    def test_registering_again_replaces_the_rule(self) -> None:
        """The last rule registered for a class is the one used, ABC or not."""

        class Marker(abc.ABC):  # noqa: B024 - a marker
            pass

        class Flaky(Exception):
            pass

        Marker.register(Flaky)
        classifier = Classifier()
        for kind in ("first", "second"):
            classifier.register(KeyError, bucket=FIXABLE, kind=kind)
            classifier.register(Marker, bucket=FIXABLE, kind=kind)
        assert classifier.classify(KeyError()).kind == "second"
        assert classifier.classify(Flaky()).kind == "second"

    def test_abc_rule_that_does_not_match(self) -> None:
        """An ABC rule leaves other failures to the next rules."""

        class Marker(abc.ABC):  # noqa: B024 - a marker
            pass

        classifier = Classifier()
        classifier.register(Marker, bucket=FIXABLE)
        assert classifier.classify(TimeoutError()).kind == "timeout"

    def test_predicates_in_order_and_failing_ones_skipped(self) -> None:
        """Predicates run in order; one that raises counts as no match."""
        classifier = Classifier()
        classifier.register(lambda exc: 1 / 0, bucket=BUG)  # type: ignore[arg-type,return-value]
        classifier.register(
            lambda exc: "quota" in str(exc), bucket=VISIBLE, kind="quota"
        )
        classifier.register(lambda exc: True, bucket=FIXABLE, kind="other")
        assert classifier.classify(RuntimeError("quota reached")).kind == "quota"
        assert classifier.classify(RuntimeError("x")).kind == "other"

    def test_rules_apply_along_the_chain(self) -> None:
        """A rule for the inner error fires when it is wrapped."""
        classifier = Classifier()
        classifier.register(KeyError, bucket=FIXABLE, kind="unknown_sku")
        assert (
            classifier.classify(chained(RuntimeError(), KeyError("sku"))).kind
            == "unknown_sku"
        )

    def test_many_rules_do_not_slow_a_miss(self) -> None:
        """1,000 class rules are a dict, not a list: a miss stays a miss."""
        classifier = Classifier()
        for number in range(1000):
            classifier.register(type(f"E{number}", (Exception,), {}), bucket=FIXABLE)
        assert classifier.classify(TimeoutError()).kind == "timeout"

    @pytest.mark.parametrize(
        ("match", "bucket", "message"),
        [
            (42, FIXABLE, "takes a class or a predicate, not 42"),
            (
                KeyError,
                "user_fixable",
                "needs bucket=Bucket.<member>, not 'user_fixable'",
            ),
        ],
    )
    def test_bad_rules_are_rejected(
        self, match: object, bucket: object, message: str
    ) -> None:
        """register() names a bad match or bucket."""
        with pytest.raises(TypeError, match=message):
            Classifier().register(match, bucket=bucket)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("changes", "error", "message"),
        [
            ({"kind": ""}, ValueError, "needs a kind that is not empty"),
            ({"kind": None}, TypeError, "needs kind to be a str .*, not None"),
            ({"kind": 7}, TypeError, "needs kind to be a str .*, not 7"),
            ({"name": 3}, TypeError, "needs name to be a str or None, not 3"),
        ],
    )
    def test_a_kind_that_cannot_be_a_code_is_refused(
        self, changes: dict[str, object], error: type[Exception], message: str
    ) -> None:
        """The kind becomes an error code: register() refuses one that cannot be."""
        classifier = Classifier()
        for match in (KeyError, lambda failure: True):
            with pytest.raises(error, match=message):
                classifier.register(match, bucket=FIXABLE, **changes)  # type: ignore[call-overload]
        assert classifier._rules is None  # nothing was registered
        detail = ErrorDetail.from_exception(KeyError("sku"), classifier=classifier)
        assert (detail.code, detail.bucket) == ("bug", BUG)

    def test_a_str_enum_kind_is_kept_as_its_text(self) -> None:
        """A StrEnum kind or name is kept as plain text, as error codes need."""

        class Kind(enum.StrEnum):
            UNKNOWN_SKU = "unknown_sku"

        classifier = Classifier()
        classifier.register(
            KeyError, bucket=FIXABLE, kind=Kind.UNKNOWN_SKU, name=Kind.UNKNOWN_SKU
        )
        decision = classifier.classify(KeyError())
        assert (type(decision.kind), type(decision.rule)) == (str, str)
        assert ErrorDetail.from_exception(KeyError(), classifier=classifier).code == (
            "unknown_sku"
        )

    def test_registering_while_classifying_never_breaks_a_decision(self) -> None:
        """Rules registered in one thread never make another's classification fail."""
        classifier = Classifier()
        markers = [abc.ABCMeta(f"Marker{n}", (abc.ABC,), {}) for n in range(400)]
        for marker in markers[:100]:  # ABC rules are iterated for every link
            classifier.register(marker, bucket=FIXABLE, kind="never")
        failures = (TimeoutError(), KeyError("sku"))
        decided: list[str] = []

        def classify_many() -> None:
            for _ in range(500):
                decided.extend(classifier.classify(f).rule for f in failures)

        def register_many() -> None:
            for marker in markers[100:]:
                classifier.register(marker, bucket=FIXABLE, kind="never")
            classifier.register(lambda failure: False, bucket=FIXABLE)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads often: the race shows
        try:
            threads = [threading.Thread(target=classify_many) for _ in range(3)]
            threads.append(threading.Thread(target=register_many))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
        assert len(decided) == 3_000
        assert set(decided) == {"timeout", "default"}
        assert len(classifier._rules[0]) == 400  # type: ignore[index]  # none lost

    def test_odd_classes_still_meet_the_rules(self) -> None:
        """A metaclass that raises for its MRO or its hash, or an ABC that raises."""

        class Nameless(type):
            @property
            def __mro__(cls) -> tuple[type, ...]:  # type: ignore[override]
                raise RuntimeError

        class Unhashable(abc.ABCMeta):
            def __hash__(cls) -> int:
                raise RuntimeError

        class Nosy(abc.ABC):  # noqa: B024 - a marker
            @classmethod
            def __subclasshook__(cls, other: type) -> bool:
                raise RuntimeError

        class Hidden(TimeoutError, metaclass=Nameless): ...

        class Odd(TimeoutError, metaclass=Unhashable): ...

        classifier = Classifier()
        classifier.register(TimeoutError, bucket=FIXABLE, kind="slow")
        classifier.register(Nosy, bucket=BUG, kind="nosy")
        for failure in (Hidden(), Odd()):
            decision = classifier.classify(failure)
            assert (decision.kind, decision.rule) == ("slow", "user:TimeoutError")
        only_abc = Classifier()
        only_abc.register(Nosy, bucket=BUG, kind="nosy")
        assert only_abc.classify(KeyError()).rule == "default"
        unrelated = Classifier()
        unrelated.register(KeyError, bucket=FIXABLE, kind="sku")
        assert unrelated.classify(Odd()).kind == "timeout"

    def test_bad_settings_are_rejected(self) -> None:
        """Classifier() checks its limits."""
        with pytest.raises(ValueError, match="max_depth >= 1"):
            Classifier(max_depth=0)


class TestSelfClassifying:
    """The __outcome_decision__ protocol."""

    def test_an_exception_can_classify_itself(self) -> None:
        """The hook's decision is taken; None defers to the other rules."""

        class Declined(Exception):
            def __outcome_decision__(self) -> Decision:
                return Decision(FIXABLE, False, "declined", rule="self")

        class NoOpinion(TimeoutError):
            def __outcome_decision__(self) -> None:
                return None

        class Broken(TimeoutError):
            def __outcome_decision__(self) -> Decision:
                raise RuntimeError

        assert isinstance(Declined(), SelfClassifying)
        assert classify(Declined()).rule == "self"
        assert classify(NoOpinion()).kind == "timeout"
        assert classify(Broken()).kind == "timeout"

    @pytest.mark.parametrize(
        "fields",
        [
            {"kind": ""},
            {"retry_after": math.inf},
            {"retry_after": math.nan},
            {"retry_after": -1.0},
            {"status": True},
            {"bucket": "user_fixable"},
        ],
        ids=[
            "empty kind",
            "inf wait",
            "NaN wait",
            "negative wait",
            "bool status",
            "str bucket",
        ],
    )
    def test_an_unsound_decision_is_no_opinion(self, fields: dict[str, object]) -> None:
        """A Decision made unchecked or changed since counts as no opinion."""
        sound = {
            "bucket": VISIBLE,
            "transient": True,
            "kind": "not_ready",
            "status": None,
            "code": None,
            "retry_after": None,
            "defer": False,
            "rule": "self",
            "link": None,
        }
        made = Decision._make(**(sound | fields))  # type: ignore[arg-type]
        changed = Decision(VISIBLE, True, "not_ready")
        for name, value in fields.items():
            setattr(changed, f"_{name}", value)

        class NotReady(TimeoutError):
            def __init__(self, decision: Decision) -> None:
                super().__init__("later")
                self.decision = decision

            def __outcome_decision__(self) -> Decision:
                return self.decision

        for decision in (made, changed, object.__new__(Decision)):
            assert classify(NotReady(decision)).kind == "timeout"
            detail = ErrorDetail.from_exception(NotReady(decision))
            assert (detail.code, dict(detail.params)) == ("timeout", {})

    def test_a_keyboard_interrupt_gets_through(self) -> None:
        """classify never raises an Exception, but a KeyboardInterrupt is let out."""

        class Interrupted(Exception):
            @property
            def status_code(self) -> int:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            classify(Interrupted())

    def test_a_user_rule_still_comes_first(self) -> None:
        """Registered rules outrank the object's own opinion."""

        class Declined(Exception):
            def __outcome_decision__(self) -> Decision:
                return Decision(FIXABLE, False, "declined")

        classifier = Classifier()
        classifier.register(Declined, bucket=BUG, kind="ours")
        assert classifier.classify(Declined()).kind == "ours"


class TestFromException:
    """Errors built from caught exceptions."""

    def test_bucket_code_and_safe_message(self) -> None:
        """The decision sets bucket and code; the exception's text is never shown."""
        detail = ErrorDetail.from_exception(
            ConnectionRefusedError("10.1.2.3:5432 refused"), "payment"
        )
        assert (detail.code, detail.bucket) == ("connection", VISIBLE)
        assert "10.1.2.3" not in str(detail)
        assert isinstance(detail.cause, ConnectionRefusedError)

    def test_retry_after_becomes_a_param(self) -> None:
        """Retry-After is kept, in whole seconds, for the message or the client."""
        detail = ErrorDetail.from_exception(
            HTTPError(status_code=429, headers={"Retry-After": "1.2"})
        )
        assert dict(detail.params) == {"retry_after": 2}

    def test_a_bug_is_redacted(self) -> None:
        """A programmer error's details stay out of every user-facing output."""
        errors = Errors()
        errors.add_exception(KeyError("SELECT secret"))
        assert "secret" not in str(errors.to_problem_details())
        assert errors.to_problem_details()["status"] == 500

    def test_custom_classifier(self) -> None:
        """The classifier can be chosen per call."""
        classifier = Classifier()
        classifier.register(KeyError, bucket=FIXABLE, kind="unknown_sku")
        errors = Errors()
        assert (
            errors.add_exception(KeyError("x"), "sku", classifier=classifier).code
            == "unknown_sku"
        )

    @pytest.mark.parametrize(
        "odd",
        [
            Decision._make(VISIBLE, True, "", None, None, None, False, "x", None),
            Decision._make(VISIBLE, True, "x", None, None, math.inf, True, "x", None),
            Decision._make(VISIBLE, True, "x", None, None, math.nan, False, "x", None),
            Decision._make("visible", True, "x", None, None, None, False, "x", None),  # type: ignore[arg-type]
            Decision._make(VISIBLE, True, 42, None, None, None, False, "x", None),  # type: ignore[arg-type]
            object.__new__(Decision),
            "not a decision",
            RuntimeError("classify raised"),
        ],
        ids=[
            "empty kind",
            "inf wait",
            "NaN wait",
            "str bucket",
            "int kind",
            "no fields",
            "not a decision",
            "raises",
        ],
    )
    def test_a_decision_that_cannot_become_an_error_is_a_bug(self, odd: object) -> None:
        """A classifier's odd answer gives a programmer error; the cause is kept."""

        class Odd(Classifier):
            def classify(self, failure: object) -> Decision:
                if isinstance(odd, Exception):
                    raise odd
                return odd  # type: ignore[return-value]

        exc = TimeoutError("10.0.0.7")
        errors = Errors()
        for detail in (
            ErrorDetail.from_exception(exc, "payment", classifier=Odd()),
            errors.add_exception(exc, "payment", classifier=Odd()),
        ):
            assert (detail.path, detail.code, detail.bucket) == (
                ("payment",),
                "bug",
                BUG,
            )
            assert detail.cause is exc
            assert "10.0.0.7" not in str(detail)
        assert len(errors) == 1

    def test_a_negative_wait_is_no_wait(self) -> None:
        """A wait below zero, from a decision made unchecked, becomes 0 seconds."""

        class Early(Exception):
            def __outcome_decision__(self) -> Decision:
                return Decision._make(
                    VISIBLE, True, "rate_limit", 429, None, -5.0, False, "x", None
                )

        class Odd(Classifier):
            def classify(self, failure: object) -> Decision:
                return Early().__outcome_decision__()

        detail = ErrorDetail.from_exception(Early(), classifier=Odd())
        assert (detail.code, dict(detail.params)) == ("rate_limit", {"retry_after": 0})

    def test_a_bad_path_still_raises_its_own_error(self) -> None:
        """A bad path is the caller's to fix: it raises, alone, whatever is decided."""
        for exc in (TimeoutError(), Hostile()):
            with pytest.raises(TypeError, match="path") as raised:
                ErrorDetail.from_exception(exc, 3.5)  # type: ignore[arg-type]
            assert raised.value.__context__ is None

    def test_a_classifier_that_is_not_one_is_refused(self) -> None:
        """from_exception names a classifier argument that is not a Classifier."""
        with pytest.raises(
            TypeError, match="needs classifier to be a Classifier or None, not 'fast'"
        ):
            ErrorDetail.from_exception(TimeoutError(), classifier="fast")  # type: ignore[arg-type]

    def test_a_group_that_holds_itself_can_be_added(self) -> None:
        """Errors.add_exception returns for a group among its own members."""
        reads: list[object] = []

        class Ouroboros(ExceptionGroup[Exception]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                count(reads, self)
                return (self,)

        errors = Errors()
        detail = errors.add_exception(Ouroboros("loop", [ValueError()]), "order")
        assert (detail.code, detail.bucket, len(errors)) == ("bug", BUG, 1)

    def test_non_exception_is_rejected(self) -> None:
        """from_exception names what it got when that is not an exception."""
        with pytest.raises(TypeError, match="takes an exception, not 'boom'"):
            ErrorDetail.from_exception("boom")  # type: ignore[arg-type]


class TestDecision:
    """The Decision record."""

    def test_repr_never_shows_the_failure(self) -> None:
        """The link is shown by type only: its text may hold secrets or input."""
        decision = classify(KeyError("card 4242 4242 4242 4242"))
        assert "4242" not in repr(decision)
        assert "link=<KeyError>" in repr(decision)
        assert repr(Decision(FIXABLE, False, "x")).endswith("link=None)")

    def test_equality_ignores_the_link(self) -> None:
        """Two decisions from different exceptions of one kind are equal."""
        assert classify(TimeoutError("a")) == classify(TimeoutError("b"))

    def test_record_behaviour(self) -> None:
        """Decisions hash by value, pickle, replace fields and refuse unknown ones."""
        decision = classify(TimeoutError())
        assert hash(decision) == hash(classify(TimeoutError()))
        assert decision != "timeout"
        assert pickle.loads(pickle.dumps(decision)) == decision  # noqa: S301
        assert decision.replace(kind="slow").kind == "slow"
        with pytest.raises(TypeError, match="Decision has no field 'colour'"):
            decision.replace(colour="red")
        with pytest.raises(TypeError, match="Decision is final"):
            type("Sub", (Decision,), {})

    def test_pickle_keeps_every_field_but_the_link(self) -> None:
        """A pickled decision comes back field for field; its link stays behind."""
        decision = Decision(
            VISIBLE,
            True,
            "rate_limit",
            status=429,
            code="slow_down",
            retry_after=2.5,
            defer=True,
            rule="status:429",
            link=TimeoutError("secret"),
        )
        copy = pickle.loads(pickle.dumps(decision))  # noqa: S301
        assert repr(copy) == repr(decision).replace("<TimeoutError>", "None")
        assert copy.link is None

    def test_replace_keeps_what_it_does_not_change(self) -> None:
        """replace() changes only the fields named, the link included."""
        link = TimeoutError()
        decision = Decision(VISIBLE, True, "timeout", status=504, link=link)
        changed = decision.replace(transient=False, rule="mine")
        assert (changed.transient, changed.rule) == (False, "mine")
        assert (changed.bucket, changed.kind, changed.status) == (
            VISIBLE,
            "timeout",
            504,
        )
        assert changed.link is link
        assert decision.replace(link=None).link is None

    @pytest.mark.parametrize(
        ("fields", "error", "message"),
        [
            (
                {"bucket": "user_fixable"},
                TypeError,
                "needs a Bucket .*, not 'user_fixable'",
            ),
            (
                {"transient": 1},
                TypeError,
                "needs transient=True or transient=False, not 1",
            ),
            ({"kind": ""}, ValueError, "needs a kind that is not empty"),
            ({"kind": None}, TypeError, "needs kind to be a str .*, not None"),
            (
                {"status": True},
                TypeError,
                "needs status to be an int or None, not True",
            ),
            (
                {"status": "429"},
                TypeError,
                "needs status to be an int or None, not '429'",
            ),
            ({"status": 1}, ValueError, "from 100 to 599, not 1"),
            ({"status": 600}, ValueError, "from 100 to 599, not 600"),
            ({"code": 7}, TypeError, "needs code to be a str .*, not 7"),
            ({"retry_after": math.inf}, ValueError, "finite number .*, not inf"),
            ({"retry_after": math.nan}, ValueError, "finite number .*, not nan"),
            ({"retry_after": -0.5}, ValueError, "finite number .*, not -0.5"),
            ({"retry_after": "2"}, TypeError, "seconds as a float, or None, not '2'"),
            (
                {"retry_after": False},
                TypeError,
                "seconds as a float, or None, not False",
            ),
            ({"defer": None}, TypeError, "needs defer=True or defer=False, not None"),
            ({"rule": None}, TypeError, "needs rule to be a str .*, not None"),
        ],
    )
    def test_fields_are_checked(
        self, fields: dict[str, object], error: type[Exception], message: str
    ) -> None:
        """Decision() and replace() refuse a field no reader could trust, naming it."""
        given = {"bucket": VISIBLE, "transient": True, "kind": "timeout"} | fields
        bucket, transient, kind = (
            given.pop("bucket"),
            given.pop("transient"),
            given.pop("kind"),
        )
        with pytest.raises(error, match=message):
            Decision(bucket, transient, kind, **given)  # type: ignore[arg-type]
        with pytest.raises(error, match=message):
            Decision(VISIBLE, True, "timeout").replace(**fields)  # type: ignore[arg-type]

    def test_enums_and_whole_numbers_are_kept_plain(self) -> None:
        """An IntEnum status, a StrEnum kind, an int wait: kept as int, str, float."""

        class Kind(enum.StrEnum):
            NOT_READY = "not_ready"

        decision = Decision(
            VISIBLE,
            True,
            Kind.NOT_READY,
            status=http.HTTPStatus.TOO_MANY_REQUESTS,
            code=Kind.NOT_READY,
            retry_after=2,
            rule=Kind.NOT_READY,
        )
        assert (decision.kind, decision.status, decision.retry_after) == (
            "not_ready",
            429,
            2.0,
        )
        kept = (
            decision.kind,
            decision.code,
            decision.rule,
            decision.status,
            decision.retry_after,
        )
        assert [type(field) for field in kept] == [str, str, str, int, float]
        assert decision == Decision(
            VISIBLE,
            True,
            "not_ready",
            status=429,
            code="not_ready",
            retry_after=2.0,
            rule="not_ready",
        )
        wait = Decision(VISIBLE, True, "x", retry_after=RaisingNumber(3)).retry_after
        assert (wait, type(wait)) == (3.0, float)

    def test_default_classifier_is_the_module_function(self) -> None:
        """classify() uses DEFAULT_CLASSIFIER."""
        assert classify(TimeoutError()) == DEFAULT_CLASSIFIER.classify(TimeoutError())


# Totality ---------------------------------------------------------------------


class Hostile(Exception):
    """An exception whose every interesting attribute raises."""

    def __getattribute__(self, name: str) -> Any:
        if name in {"__class__", "__dict__"}:
            return object.__getattribute__(self, name)
        raise RuntimeError(name)


def hostile_text(text: str) -> str:
    """`text` as a str subclass whose own methods raise."""
    return RaisingText(text)


class Touchy(str):
    """A dict key equal in hash to the text it holds, whose == raises."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("==")


statuses = st.one_of(
    st.integers(0, 1000),
    st.sampled_from(list(http.HTTPStatus)),
    st.integers(100, 599).map(RaisingNumber),
)
codes = st.sampled_from(
    ["insufficient_quota", "rate_limit_exceeded", "card_declined", "SlowDown", "x"]
)
hostile_values = st.one_of(
    statuses,
    codes.map(hostile_text),
    st.binary(max_size=20).map(RaisingBytes),
    st.builds(Lying),
    st.lists(codes, unique=True, max_size=2).map(
        lambda keys: {Touchy(key): key for key in keys}
    ),
)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.binary(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.text(max_size=12), st.text(max_size=40) | st.integers(), max_size=4
    ),
    hostile_values,
)
header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "1e308",
            "-1",
            "inf",
            "99999999999999999999",
            "Wed, 99 Foo 9999 99:99:99 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 01 Jan 0001 00:00:00 +2359",
            "Fri, 31 Dec 9999 23:59:59 -0000",
        ]
    ),
    st.binary(max_size=20),
    st.text(max_size=20).map(hostile_text),
    st.binary(max_size=20).map(RaisingBytes),
)
header_names = st.sampled_from(
    [
        "Retry-After",
        "retry-after",
        "retry-after-ms",
        "x-amz-retry-after",
        "x-should-retry",
        "stripe-should-retry",
    ]
)
headers = st.dictionaries(
    header_names | header_names.map(hostile_text), header_values, max_size=3
) | st.lists(st.tuples(header_names, header_values), max_size=2).map(
    lambda items: {Touchy(name): value for name, value in dict(items).items()}
)
attribute_names = st.sampled_from(
    [
        "status_code",
        "status",
        "http_status",
        "code",
        "type",
        "body",
        "error",
        "response",
        "headers",
        "errno",
        "os_error",
    ]
)
bodies = st.one_of(
    st.integers(1, 70_000).map(lambda depth: b"[" * depth),
    st.integers(1, 70_000).map(lambda size: b"1" * size),
    st.binary(max_size=100),
    st.builds(
        lambda code, depth: (
            b'{"error": ' * depth + b'{"code": "' + code.encode() + b'"}' + b"}" * depth
        ),
        codes,
        st.integers(0, 3),
    ),
    st.binary(max_size=100).map(RaisingBytes),
)


class ReadResponse:
    """A response whose client already read its body, as httpx and requests keep it."""

    def __init__(self, status_code: object, headers: object, content: object) -> None:
        self.status_code = status_code
        self.headers = headers
        self._content = content


def unsound_decisions() -> st.SearchStrategy[Decision]:
    """Decisions made unchecked, with fields no reader could trust."""
    return st.builds(
        Decision._make,
        st.sampled_from([*Bucket, "user_fixable"]),
        st.booleans() | st.none(),
        st.sampled_from(["timeout", "", None]),
        statuses | st.none(),
        st.none() | codes,
        st.sampled_from([None, 1.0, -1.0, math.inf, math.nan, "2"]),
        st.booleans(),
        st.sampled_from(["self", None]),
        st.none(),
    )


class SaysItself(TimeoutError):
    """A timeout that says itself how to classify it: with anything at all."""

    def __init__(self, decision: object) -> None:
        super().__init__("says itself")
        self.decision = decision

    def __outcome_decision__(self) -> object:
        return self.decision


def hostile_groups(draw: st.DrawFn, failure: BaseException) -> BaseException:
    """Groups of hostile shapes around `failure`: cycles, fresh, deep or wide."""
    shape = draw(st.sampled_from(["repeated", "itself", "fresh", "deep", "wide"]))
    if shape == "repeated":
        return ExceptionGroup(
            "g", [failure, Hostile(), TimeoutError()] * draw(st.integers(1, 50))
        )
    if shape == "itself":

        class Ouroboros(ExceptionGroup[BaseException]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                return (self, failure, self)

        return Ouroboros("loop", [failure])
    if shape == "fresh":

        class Hydra(ExceptionGroup[BaseException]):
            @property
            def exceptions(self) -> Any:  # type: ignore[override]
                return (Hydra("head", [failure]), failure)

        return Hydra("head", [failure])
    group: BaseException = failure
    if shape == "deep":
        for _ in range(draw(st.integers(1, 3_000))):
            group = ExceptionGroup("nest", [group])
        return group
    return ExceptionGroup("wide", [failure] * draw(st.integers(1, 20_000)))


@st.composite
def hostile_failures(draw: st.DrawFn) -> object:
    """Exceptions and values with junk, raising or deep attributes."""
    kind = draw(
        st.sampled_from(
            ["junk", "attributes", "raising", "cycle", "group", "value", "hook"]
        )
    )
    if kind == "junk":
        return draw(junk)
    if kind == "raising":
        return Hostile()
    if kind == "value":
        return Err(draw(junk))
    if kind == "hook":
        return SaysItself(draw(unsound_decisions() | junk))
    failure = HTTPError(
        **draw(st.dictionaries(attribute_names, junk | headers, max_size=5))
    )
    if draw(st.booleans()):
        failure.response = ReadResponse(  # type: ignore[attr-defined]
            draw(statuses), draw(headers), draw(bodies | junk)
        )
    if draw(st.booleans()):
        failure.__cause__ = draw(
            st.sampled_from([Hostile(), SaysItself(None), ConnectionResetError()])
        )
    if kind == "cycle":
        other = HTTPError(status_code=draw(junk))
        failure.__cause__, other.__context__ = other, failure
    if kind == "group":
        return hostile_groups(draw, failure)
    return failure


class OddClassifier(Classifier):
    """A classifier of the user's that answers anything, or raises."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def classify(self, failure: object) -> Decision:
        """Answer what it was made with, or raise it."""
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[return-value]


classifiers = st.one_of(
    st.just(DEFAULT_CLASSIFIER),
    st.builds(
        OddClassifier,
        unsound_decisions() | junk | st.builds(RuntimeError, st.text(max_size=5)),
    ),
)


class TestTotality:
    """classify never raises and always returns a Decision, quickly."""

    def test_an_odd_instance_dict_is_read_guarded(self) -> None:
        """A __dict__ that never ends, raises, or holds a hostile key."""

        class Endless(dict[str, object]):
            def __iter__(self) -> Iterator[str]:
                return (str(n) for n in itertools.count())

            def items(self) -> Any:
                raise RuntimeError

        class Liar(str):
            __slots__ = ()

            def __hash__(self) -> int:
                return hash("status")

            def __eq__(self, other: object) -> bool:
                raise RuntimeError

        endless, lying = TimeoutError("a"), TimeoutError("b")
        endless.__dict__ = Endless()
        lying.__dict__[Liar("status")] = 503
        for failure in (endless, lying, chained(RuntimeError("job"), endless)):
            start = time.perf_counter()
            assert classify(failure).kind == "timeout"
            assert time.perf_counter() - start < 1.0

    def test_a_class_that_cannot_be_hashed(self) -> None:
        """Its facts are read even though the class cannot be looked up."""

        class Unhashable(type):
            def __hash__(cls) -> int:
                raise RuntimeError

        class Failure(Exception, metaclass=Unhashable):
            status_code = 503

        class Slow(TimeoutError, metaclass=Unhashable): ...

        decision = classify(chained(RuntimeError("job"), Failure()))
        assert (decision.kind, decision.status, decision.rule) == (
            "server",
            503,
            "status:503",
        )
        assert classify(chained(RuntimeError("job"), Slow())).kind == "timeout"

    def test_a_class_that_cannot_be_named(self) -> None:
        """A class whose MRO cannot be read still gets its facts read."""

        class Nameless(type):
            @property
            def __mro__(cls) -> tuple[type, ...]:  # type: ignore[override]
                raise RuntimeError

        class Failure(Exception, metaclass=Nameless):
            status_code = 429

        decision = classify(chained(RuntimeError("job"), Failure()))
        assert (decision.kind, decision.status) == ("rate_limit", 429)

    def test_links_read_inline_are_not_read_again(self) -> None:
        """Where the inline walk stops, the guarded walk carries on."""
        reads: list[object] = []

        class Counted:
            @property
            def status_code(self) -> int:
                reads.append(self)
                return 503

        class Odd(Exception):
            code = None  # a class-level fact: read with getattr

        outer = HTTPError(response=Counted())
        assert classify(chained(outer, Odd(), TimeoutError())).kind == "server"
        assert len(reads) == 1

    def test_a_cause_that_changes_is_read_once(self) -> None:
        """A property __cause__ is read once per link; a repeat ends the walk."""
        inner, other = KeyError("b"), TimeoutError("c")
        reads: list[object] = []

        class Shifty(Exception):
            @property
            def __cause__(self) -> BaseException:  # type: ignore[override]
                reads.append(self)
                return inner if len(reads) == 1 else other

        outer = Shifty()
        inner.__cause__ = outer
        assert classify(outer).kind == "bug"
        assert reads == [outer]

    def test_a_property_hides_the_instance_dict(self) -> None:
        """What getattr returns counts, not an entry a data descriptor hides."""

        class Quiet(Exception):
            @property
            def status_code(self) -> int | None:
                return None

        quiet, os_error = Quiet(), OSError()
        quiet.__dict__["status_code"] = 503
        os_error.__dict__["errno"] = errno.ETIMEDOUT
        assert quiet.status_code is None
        assert os_error.errno is None
        assert classify(quiet).rule == "default"
        assert classify(os_error).rule == "default"

    def test_headers_that_cannot_be_compared(self) -> None:
        """Headers whose == raises are still read; the status still decides."""

        class Touchy(dict[str, str]):
            def __eq__(self, other: object) -> bool:
                raise RuntimeError

            def __ne__(self, other: object) -> bool:
                raise RuntimeError

            __hash__ = None  # type: ignore[assignment]

        failure = HTTPError(status_code=429, headers=Touchy({"Retry-After": "3"}))
        decision = classify(failure)
        assert (decision.kind, decision.retry_after) == ("rate_limit", 3.0)

    def test_an_empty_body_is_no_body(self) -> None:
        """body={} counts as missing however the link is read: the response tells."""

        class Read:
            status_code = 429
            headers: dict[str, str] = {}  # noqa: RUF012 - a response's shape
            _content = b'{"error": {"code": "insufficient_quota"}}'

        class Odd(Exception):
            def __getattr__(self, name: str) -> object:  # read with getattr
                raise AttributeError(name)

        plain, odd = HTTPError(body={}, response=Read()), Odd()
        odd.body, odd.response = {}, Read()  # type: ignore[attr-defined]
        assert classify(plain).kind == classify(odd).kind == "quota"

    # Seven kinds of hostile object, each with its own junk and shapes: three
    # times the profile's examples, so that every kind is tried often.
    @settings(max_examples=3 * settings().max_examples)
    @given(hostile_failures())
    def test_never_raises(self, failure: object) -> None:
        """Whatever the object, a sound Decision comes back, quickly."""
        start = time.perf_counter()
        decision = classify(failure)
        assert type(decision) is Decision
        assert time.perf_counter() - start < 1.0
        assert decision_module._is_sound(decision)
        assert decision.status is None or type(decision.status) is int
        # Only a value whose very class cannot be asked defeats every guard.
        value = failure.err_value if type(failure) is Err else failure
        assert decision.rule != "unclassifiable" or type(value) is Lying

    # As many kinds as test_never_raises, and a classifier drawn besides.
    @settings(max_examples=3 * settings().max_examples)
    @given(hostile_failures(), classifiers)
    def test_from_exception_never_raises(
        self, failure: object, classifier: Classifier
    ) -> None:
        """Whatever the exception and the classifier's answer, an error comes back."""
        exc = failure if isinstance(failure, BaseException) else Hostile()
        detail = ErrorDetail.from_exception(exc, "order", classifier=classifier)
        assert detail.cause is exc
        assert (type(detail.code), type(detail.bucket)) == (str, Bucket)
        assert detail.code
        wait = detail.params.get("retry_after")
        assert wait is None or (type(wait) is int and wait >= 0)
        assert type(str(detail)) is str

    def test_an_internal_failure_is_a_programmer_error(self) -> None:
        """If reading the object fails in a way no guard foresaw, it is a bug."""

        class Exploding(Exception):
            @property
            def __cause__(self) -> BaseException:  # type: ignore[override]
                raise SystemError

        classifier = Classifier()
        classifier.register(lambda exc: True, bucket=FIXABLE)
        classifier._rules = 1  # type: ignore[assignment]  # sabotage: not rules
        decision = classifier.classify(Exploding())
        assert (decision.bucket, decision.rule) == (BUG, "unclassifiable")
