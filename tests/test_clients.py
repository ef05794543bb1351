"""
Tests for the classifier against the real failures of HTTP clients and SDKs.

Each client makes a real request to a local server (`tests.local_server`) and
raises its own exception, with its own retries off. The same HTTP failure must
get the same decision whichever layer raised it: the SDK, its HTTP library, or
the socket underneath.

Set ``OUTCOME_DECISION_TABLE`` to a file path to have the decisions written
there as a Markdown table.
"""

from __future__ import annotations

import asyncio
import functools
import os
import pathlib
import socket
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, Final

import aiohttp
import anthropic
import attrs
import botocore.config
import botocore.exceptions
import botocore.session
import httpx
import openai
import pytest
import requests
import stripe
import urllib3

from outcome import Bucket, Decision, classify
from tests.local_server import (
    RETRY_AFTER_DATE_SECONDS,
    RETRY_AFTER_SECONDS,
    SLOW_SECONDS,
    serve,
    status_for,
)

CLIENT_TIMEOUT: Final = 0.3
"""Seconds a client waits for an answer; the ``slow`` scenario takes longer."""

MODEL: Final = "local-test-model"
"""A model no SDK knows, so none warns that it is deprecated."""

TRANSPORT: Final = ("timeout", "connection_refused")
STATUSES: Final = (
    "rate_limit",
    "rate_limit_date",
    "server_500",
    "server_503",
    "bad_request_400",
    "unprocessable_422",
    "unauthorized_401",
    "card_declined_402",
)

EXPECTED: Final[dict[str, tuple[Bucket, bool, str]]] = {
    "rate_limit": (Bucket.USER_VISIBLE, True, "rate_limit"),
    "rate_limit_date": (Bucket.USER_VISIBLE, True, "rate_limit"),
    "quota": (Bucket.USER_VISIBLE, False, "quota"),
    "server_500": (Bucket.USER_VISIBLE, True, "server"),
    "server_503": (Bucket.USER_VISIBLE, True, "server"),
    "overloaded_529": (Bucket.USER_VISIBLE, True, "server"),
    "bad_request_400": (Bucket.USER_FIXABLE, False, "validation"),
    "unprocessable_422": (Bucket.USER_FIXABLE, False, "validation"),
    "unauthorized_401": (Bucket.PROGRAMMER_ERROR, False, "auth"),
    "forbidden_403": (Bucket.PROGRAMMER_ERROR, False, "auth"),
    "card_declined_402": (Bucket.USER_FIXABLE, False, "declined"),
    "timeout": (Bucket.USER_VISIBLE, True, "timeout"),
    "connection_refused": (Bucket.USER_VISIBLE, True, "connection"),
}
"""Bucket, transient and kind for each scenario, whichever client raised."""

KEEPS_THE_BODY: Final = frozenset({"httpx", "requests", "stripe"})
"""
The clients whose exception holds the body it read, and so its error code.

aiohttp's ``ClientResponseError`` and urllib's ``HTTPError`` hold no body: for
them the status alone decides.
"""


# Where each failure is served ------------------------------------------------


@attrs.frozen
class Endpoints:
    """The local server's base URL, and a URL where nothing listens."""

    base: str
    closed: str

    def url(self, flavor: str, scenario: str) -> str:
        """The base URL a client uses so that its requests fail as `scenario`."""
        if scenario == "connection_refused":
            return self.closed
        path = "slow" if scenario == "timeout" else scenario
        return f"{self.base}/{flavor}/{path}"


def closed_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago and has no listener."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@attrs.frozen
class Server:
    """What the tests need of the running server."""

    endpoints: Endpoints
    requests_seen: Callable[[], int]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The local server, with proxies and AWS configuration kept out of the way."""
    with pytest.MonkeyPatch.context() as patch, serve() as running:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "AWS_PROFILE"):
            patch.delenv(name, raising=False)
            patch.delenv(name.lower(), raising=False)
        patch.setenv("NO_PROXY", "127.0.0.1")
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield Server(
            Endpoints(running.url, f"http://127.0.0.1:{closed_port()}"),
            lambda: running.requests_seen,
        )


# Each client raising its own failure -----------------------------------------


def raised(
    expected: type[BaseException] | tuple[type[BaseException], ...],
    call: Callable[[], object],
) -> BaseException:
    """Run `call` and return the exception it raises, which must be `expected`."""
    with pytest.raises(expected) as info:
        call()
    return info.value


def plain_flavor(scenario: str) -> str:
    """The body a bare HTTP client gets: an API's own where the API decides."""
    return {"quota": "openai", "card_declined_402": "stripe"}.get(scenario, "plain")


def httpx_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """A sync httpx client; statuses raise through ``raise_for_status()``."""
    url = endpoints.url(plain_flavor(scenario), scenario)
    with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
        return raised(httpx.HTTPError, lambda: client.get(url).raise_for_status())


def requests_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """``requests.get``; statuses raise through ``raise_for_status()``."""
    url = endpoints.url(plain_flavor(scenario), scenario)
    return raised(
        requests.RequestException,
        lambda: requests.get(url, timeout=CLIENT_TIMEOUT).raise_for_status(),
    )


def urllib3_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """A urllib3 pool with retries off; urllib3 never raises for a status."""
    url = endpoints.url("plain", scenario)
    with urllib3.PoolManager(retries=False, timeout=CLIENT_TIMEOUT) as pool:
        return raised(urllib3.exceptions.HTTPError, lambda: pool.request("GET", url))


def aiohttp_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """An aiohttp session with ``raise_for_status=True``, run by `asyncio.run`."""
    url = endpoints.url(plain_flavor(scenario), scenario)

    async def fetch() -> None:
        timeout = aiohttp.ClientTimeout(sock_read=CLIENT_TIMEOUT)
        async with (
            aiohttp.ClientSession(raise_for_status=True, timeout=timeout) as session,
            session.get(url) as response,
        ):
            await response.read()

    return raised((aiohttp.ClientError, TimeoutError), lambda: asyncio.run(fetch()))


def urllib_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """The standard library's ``urllib.request.urlopen``."""
    url = endpoints.url(plain_flavor(scenario), scenario)

    def fetch() -> None:
        # The URL is the local server's: always http, never file: or custom.
        with urllib.request.urlopen(url, timeout=CLIENT_TIMEOUT):  # noqa: S310
            pass

    failure = raised(OSError, fetch)
    if isinstance(failure, urllib.error.HTTPError):
        failure.close()  # its headers stay readable; only the body goes
    return failure


@functools.cache
def botocore_session() -> botocore.session.Session:
    """One session for every client: loading the service model takes a while."""
    session = botocore.session.get_session()
    session.set_credentials("AKIDLOCALTEST", "local-test-secret")
    return session


def botocore_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """DynamoDB's ListTables, a JSON-protocol call, with one attempt only."""
    config = botocore.config.Config(
        retries={"total_max_attempts": 1},
        connect_timeout=CLIENT_TIMEOUT,
        read_timeout=CLIENT_TIMEOUT,
    )
    client = botocore_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoints.url("aws", scenario),
        config=config,
    )
    try:
        return raised(
            (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError),
            client.list_tables,
        )
    finally:
        client.close()


def openai_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """OpenAI's chat completions, with the SDK's own retries off."""
    with openai.OpenAI(
        base_url=endpoints.url("openai", scenario) + "/v1",
        api_key="sk-local-test",
        max_retries=0,
        timeout=CLIENT_TIMEOUT,
    ) as client:
        return raised(
            openai.APIError,
            lambda: client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hello"}]
            ),
        )


def anthropic_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """Anthropic's messages, with the SDK's own retries off."""
    with anthropic.Anthropic(
        base_url=endpoints.url("anthropic", scenario),
        api_key="sk-ant-local-test",
        max_retries=0,
        timeout=CLIENT_TIMEOUT,
    ) as client:
        return raised(
            anthropic.APIError,
            lambda: client.messages.create(
                model=MODEL,
                max_tokens=16,
                messages=[{"role": "user", "content": "Hello"}],
            ),
        )


def stripe_failure(endpoints: Endpoints, scenario: str) -> BaseException:
    """A Stripe PaymentIntent confirmed at once, with network retries off."""
    http_client = stripe.RequestsClient(timeout=CLIENT_TIMEOUT)
    client = stripe.StripeClient(
        "sk_test_local",
        base_addresses={"api": endpoints.url("stripe", scenario)},
        max_network_retries=0,
        http_client=http_client,
    )
    try:
        return raised(
            stripe.StripeError,
            lambda: client.v1.payment_intents.create(
                params={
                    "amount": 1000,
                    "currency": "eur",
                    "payment_method": "pm_card_visa",
                    "confirm": True,
                }
            ),
        )
    finally:
        http_client.close()


Failure = Callable[[Endpoints, str], BaseException]

CLIENTS: Final[dict[str, tuple[Failure, tuple[str, ...]]]] = {
    "httpx": (httpx_failure, (*STATUSES, "quota", *TRANSPORT)),
    "requests": (requests_failure, (*STATUSES, "quota", *TRANSPORT)),
    "urllib3": (urllib3_failure, TRANSPORT),
    "aiohttp": (aiohttp_failure, (*STATUSES, *TRANSPORT)),
    "urllib": (urllib_failure, (*STATUSES, *TRANSPORT)),
    "botocore": (
        botocore_failure,
        ("rate_limit", "server_500", "bad_request_400", "forbidden_403", *TRANSPORT),
    ),
    "openai": (
        openai_failure,
        (
            "rate_limit",
            "rate_limit_date",
            "quota",
            "server_500",
            "server_503",
            "bad_request_400",
            "unprocessable_422",
            "unauthorized_401",
            *TRANSPORT,
        ),
    ),
    "anthropic": (
        anthropic_failure,
        (
            "rate_limit",
            "rate_limit_date",
            "overloaded_529",
            "server_500",
            "bad_request_400",
            "unauthorized_401",
            *TRANSPORT,
        ),
    ),
    "stripe": (
        stripe_failure,
        (
            "card_declined_402",
            "rate_limit",
            "rate_limit_date",
            "server_500",
            "bad_request_400",
            "unauthorized_401",
            *TRANSPORT,
        ),
    ),
}

FLAVORS: Final = {
    "botocore": "aws",
    "openai": "openai",
    "anthropic": "anthropic",
    "stripe": "stripe",
}


def flavor_of(client: str, scenario: str) -> str:
    """The body shape the server sends `client` in `scenario`."""
    return FLAVORS.get(client) or plain_flavor(scenario)


class ClassifyWarnedError(AssertionError):
    """Classifying a failure emitted a warning."""


KNOWN_GAPS: Final[dict[tuple[str, str], tuple[type[BaseException], str]]] = {}
"""Misclassifications awaiting a fix: (expected failure, why). Delete with the fix."""


def cases() -> list[Any]:
    """Every (client, scenario) pair, known gaps marked as strict xfails."""
    params: list[Any] = []
    for client, (_, scenarios) in CLIENTS.items():
        for scenario in scenarios:
            gap = KNOWN_GAPS.get((client, scenario))
            marks = (
                [pytest.mark.xfail(raises=gap[0], reason=gap[1], strict=True)]
                if gap
                else []
            )
            params.append(
                pytest.param(client, scenario, id=f"{client}-{scenario}", marks=marks)
            )
    return params


# Reading a decision ------------------------------------------------------------


def chain(failure: BaseException) -> list[BaseException]:
    """The failure and its causes, the way the classifier walks them."""
    links: list[BaseException] = []
    link: BaseException | None = failure
    while link is not None and all(link is not seen for seen in links):
        links.append(link)
        link = link.__cause__ or link.__context__
    return links


def qualified_name(value: object) -> str:
    """``module.QualName`` of the class of `value`."""
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def classified(failure: BaseException) -> tuple[Decision, list[str]]:
    """The decision for `failure`, and the warnings classifying it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decision = classify(failure)
    return decision, [f"{w.category.__name__}: {w.message}" for w in caught]


# The decision table ------------------------------------------------------------


@attrs.frozen
class Row:
    """One line of the decision table."""

    client: str
    scenario: str
    failure: str
    bucket: str
    transient: bool
    kind: str
    status: int | None
    code: str | None
    retry_after: float | None
    rule: str
    link: str

    @classmethod
    def of(
        cls, client: str, scenario: str, failure: BaseException, decision: Decision
    ) -> Row:
        """The row for `failure`, raised by `client` in `scenario`."""
        return cls(
            client=client,
            scenario=scenario,
            failure=qualified_name(failure),
            bucket=decision.bucket.name,
            transient=decision.transient,
            kind=decision.kind,
            status=decision.status,
            code=decision.code,
            retry_after=decision.retry_after,
            rule=decision.rule,
            link=qualified_name(decision.link),
        )


HEADERS: Final = (
    "client",
    "scenario",
    "exception",
    "bucket",
    "transient",
    "kind",
    "status",
    "code",
    "retry_after",
    "rule",
    "matched link",
)


def render_decision_table(rows: list[Row]) -> str:
    """
    The rows as a Markdown table, one line each, in the order given.

    Missing values show as ``-``; Retry-After is rounded to a tenth of a second.
    """

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value).replace("|", r"\|")

    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    lines.extend(
        "| " + " | ".join(cell(value) for value in attrs.astuple(row)) + " |"
        for row in rows
    )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def decision_rows() -> Iterator[list[Row]]:
    """Collects a row per classified failure; writes the table if asked to."""
    rows: list[Row] = []
    yield rows
    target = os.environ.get("OUTCOME_DECISION_TABLE")
    if target and rows:
        pathlib.Path(target).write_text(render_decision_table(rows), encoding="utf-8")


# Tests -------------------------------------------------------------------------


class TestClients:
    """Each client's real failure, classified."""

    @pytest.mark.parametrize(("client", "scenario"), cases())
    def test_decision(
        self, server: Server, decision_rows: list[Row], client: str, scenario: str
    ) -> None:
        """The same HTTP failure gets the same decision whichever client raised it."""
        failure_of, _ = CLIENTS[client]
        seen_before = server.requests_seen()

        failure = failure_of(server.endpoints, scenario)
        decision, warned = classified(failure)
        decision_rows.append(Row.of(client, scenario, failure, decision))

        # The client's own retries are off: one request, or none if refused.
        sent = server.requests_seen() - seen_before
        assert sent == (0 if scenario == "connection_refused" else 1)
        verdict = (decision.bucket, decision.transient, decision.kind)
        assert verdict == EXPECTED[scenario]
        assert decision.status == status_for(flavor_of(client, scenario), scenario)
        if scenario == "rate_limit":
            assert decision.retry_after == RETRY_AFTER_SECONDS
        elif scenario == "rate_limit_date":
            # An HTTP-date drops the fraction of a second, and time has passed.
            assert decision.retry_after is not None
            assert (
                RETRY_AFTER_DATE_SECONDS - 5
                <= decision.retry_after
                <= RETRY_AFTER_DATE_SECONDS
            )
        else:
            assert decision.retry_after is None
        assert decision.defer is False
        assert decision.rule != "default"
        if scenario == "quota":
            assert decision.code == "insufficient_quota"
        if scenario == "card_declined_402":
            # Stripe's decline_code, more specific than its card_declined.
            kept = client in KEEPS_THE_BODY
            assert decision.code == ("insufficient_funds" if kept else None)
        assert any(decision.link is link for link in chain(failure))
        if warned:
            raise ClassifyWarnedError(warned)


class TestHierarchyMismatch:
    """The failures that no single `isinstance` check would catch."""

    def test_openai_timeout_comes_from_httpx2(self, server: Server) -> None:
        """openai's own transport raises no httpx error, yet a timeout is a timeout."""
        failure = openai_failure(server.endpoints, "timeout")

        links = chain(failure)

        assert not any(isinstance(link, httpx.HTTPError) for link in links)
        assert qualified_name(links[1]) == "httpx2.ReadTimeout"
        assert classified(failure)[0].kind == "timeout"

    def test_stripe_connection_failure_is_five_links_deep(self, server: Server) -> None:
        """A refused connection under stripe, requests and urllib3 is still one."""
        failure = stripe_failure(server.endpoints, "connection_refused")

        links = chain(failure)

        assert [qualified_name(link) for link in links] == [
            "stripe._error.APIConnectionError",
            "requests.exceptions.ConnectionError",
            "urllib3.exceptions.MaxRetryError",
            "urllib3.exceptions.NewConnectionError",
            "builtins.ConnectionRefusedError",
        ]
        decision = classified(failure)[0]
        assert (decision.transient, decision.kind) == (True, "connection")

    def test_dynamodb_throttles_with_a_400(self, server: Server) -> None:
        """A 400 that says ThrottlingException is a rate limit, not bad input."""
        failure = botocore_failure(server.endpoints, "rate_limit")

        decision = classified(failure)[0]

        assert decision.status == 400
        assert (decision.transient, decision.kind) == (True, "rate_limit")
        assert decision.code == "throttlingexception"

    def test_openai_quota_is_not_a_rate_limit(self, server: Server) -> None:
        """A 429 whose body says insufficient_quota is not worth retrying."""
        failure = openai_failure(server.endpoints, "quota")

        decision = classified(failure)[0]

        assert isinstance(failure, openai.RateLimitError)
        assert (decision.status, decision.transient) == (429, False)
        assert decision.rule == "code:insufficient_quota"


class TestEnumStatuses:
    """Statuses that tests and mock transports write as IntEnum members."""

    @pytest.mark.parametrize(
        ("status", "kind"),
        [
            (httpx.codes.SERVICE_UNAVAILABLE, "server"),
            (httpx.codes.TOO_MANY_REQUESTS, "rate_limit"),
            (HTTPStatus.UNPROCESSABLE_ENTITY, "validation"),
        ],
    )
    def test_httpx_mock_transport(self, status: int, kind: str) -> None:
        """A MockTransport's httpx.codes status is a status, held as a plain int."""

        def answer(_request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, headers={"Retry-After": "2"})

        with httpx.Client(transport=httpx.MockTransport(answer)) as client:
            response = client.get("http://api.test/orders")
        assert type(response.status_code) is not int  # the enum, as written
        with pytest.raises(httpx.HTTPStatusError) as raised:
            response.raise_for_status()

        decision = classified(raised.value)[0]

        assert (decision.kind, decision.status, decision.rule) == (
            kind,
            int(status),
            f"status:{int(status)}",
        )
        assert type(decision.status) is int


class TestDecisionTable:
    """The Markdown rendering of the decisions."""

    def test_renders_a_header_and_a_line_per_row(self) -> None:
        """Each row is one table line, with empty values shown as a dash."""
        row = Row(
            client="openai",
            scenario="rate_limit",
            failure="openai.RateLimitError",
            bucket="USER_VISIBLE",
            transient=True,
            kind="rate_limit",
            status=429,
            code="rate_limit_exceeded",
            retry_after=2.0,
            rule="code:rate|limit",
            link="openai.RateLimitError",
        )

        lines = render_decision_table([row, attrs.evolve(row, code=None)]).splitlines()

        assert lines[0].startswith("| client | scenario | exception | bucket |")
        assert lines[1] == "|" + "|".join(["---"] * 11) + "|"
        assert lines[2] == (
            "| openai | rate_limit | openai.RateLimitError | USER_VISIBLE | yes "
            "| rate_limit | 429 | rate_limit_exceeded | 2.0 | code:rate\\|limit "
            "| openai.RateLimitError |"
        )
        assert "| 429 | - | 2.0 |" in lines[3]
        assert len(lines) == 4


class TestLocalServer:
    """The server the client tests run against."""

    def test_stopping_wakes_a_slow_handler(self) -> None:
        """Stopping does not wait for a handler that is sleeping on a slow answer."""
        with (
            serve() as running,
            socket.create_connection(
                ("127.0.0.1", int(running.url.rsplit(":", 1)[1])), timeout=5
            ) as connection,
        ):
            connection.sendall(b"GET /plain/slow HTTP/1.1\r\nHost: local\r\n\r\n")
            deadline = time.monotonic() + 5
            while running.requests_seen == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.monotonic()
            running.stop()
            stopped_in = time.monotonic() - started

            assert running.requests_seen == 1
            assert stopped_in < SLOW_SECONDS / 2
            assert connection.recv(1) == b""  # closed without an answer
