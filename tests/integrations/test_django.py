"""Django and DRF answering failures as problem details, through their test clients."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import got_request_exception
from django.test import AsyncClient, Client, RequestFactory, override_settings

from outcome import PROBLEM_JSON, ErrorDetail, Errors, Ok, Problems
from outcome.integrations.django import (
    exception_handler,
    problem_response,
    problem_server_error,
)
from tests.integrations.django_project import (
    BUG_TEXT,
    SETTINGS,
    SHOP_CLASSIFIER,
    DefaultErrorPages,
    api_client,
    failure,
)

if TYPE_CHECKING:
    from rest_framework.test import APIClient

# A JSON view's programmer error must show none of these words.
HIDDEN = ("SELECT", "secret", "cards")


@pytest.fixture(autouse=True)
def project() -> Iterator[None]:
    """The project's settings, over whatever the process was configured with."""
    with override_settings(**SETTINGS):
        yield


class Seen:
    """What Django's own error handling saw: django.request's records, signals."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.signals: list[object] = []

    def receive(self, **signal: object) -> None:
        """Receive got_request_exception."""
        self.signals.append(signal["request"])

    def tracebacks(self) -> list[logging.LogRecord]:
        """The records django.request logged with an exception."""
        return [
            record
            for record in self.caplog.records
            if record.name == "django.request" and record.exc_info
        ]

    def bug_once(self, kind: type[BaseException]) -> BaseException:
        """Check Django logged one `kind` at ERROR and sent one signal; return it."""
        [record] = self.tracebacks()
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
        exc = record.exc_info[1]
        assert type(exc) is kind
        assert len(self.signals) == 1
        return exc

    def no_bug(self) -> None:
        """Check Django logged no traceback and sent no signal."""
        assert self.tracebacks() == []
        assert self.signals == []


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture) -> Iterator[Seen]:
    """Django's error logging and got_request_exception, recorded."""
    caplog.set_level(logging.INFO, logger="django.request")
    recorder = Seen(caplog)
    got_request_exception.connect(recorder.receive)
    yield recorder
    got_request_exception.disconnect(recorder.receive)


@pytest.fixture
def api() -> APIClient:
    """DRF's test client, answering 500s rather than raising."""
    return api_client(raise_request_exception=False)


@pytest.fixture
def client() -> Client:
    """Django's test client, answering 500s rather than raising."""
    return Client(raise_request_exception=False)


def problem(
    response: Any, status: int, *, retry_after: str | None = None
) -> dict[str, Any]:
    """Check a problem details response, and return its body."""
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM_JSON
    assert response.get("Retry-After") == retry_after
    text = response.content.decode() + repr(dict(response.headers))
    for word in HIDDEN:
        assert word not in text
    body: dict[str, Any] = json.loads(response.content)
    assert body["type"] == "about:blank"
    assert body["status"] == status
    return body


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The pointer and code of each error of a problem body."""
    return [(error["pointer"], error["code"]) for error in body["errors"]]


def reference_of(body: dict[str, Any]) -> str:
    """The reference of the one programmer error a 500 body holds."""
    [error] = body["errors"]
    assert error["code"] == "internal_error"
    assert set(error) == {"detail", "pointer", "code", "reference"}
    reference: str = error["reference"]
    assert reference.startswith("ERR-")
    assert reference in error["detail"]
    return reference


def noted(exc: BaseException) -> list[str]:
    """The notes outcome put on an exception."""
    return [
        note
        for note in getattr(exc, "__notes__", [])
        if note.startswith("outcome reference")
    ]


# DRF ------------------------------------------------------------------------


class TestDrfValidation:
    """A serializer's ValidationError: one error per message, at its path."""

    ORDER: dict[str, Any] = {  # noqa: RUF012 - read only
        "email": "SELECT-secret",
        "size": "SELECT-secret",
        "items": [{"sku": "SELECT-secret-cards", "quantity": 0}, {}],
        "tags": ["SELECT-secret"],
    }

    def test_nested_errors_keep_paths_and_drf_codes(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures fields, nested items and list members get DRF's codes, no input."""
        response = api.post("/api/orders", self.ORDER, format="json")
        body = problem(response, 400)
        assert body["title"] == "Bad Request"
        assert errors(body) == [
            ("#/email", "invalid"),
            ("#/size", "invalid_choice"),
            ("#/items/0/sku", "max_length"),
            ("#/items/0/quantity", "min_value"),
            ("#/items/1/sku", "required"),
            ("#/items/1/quantity", "required"),
            ("#/tags/0", "invalid"),
        ]
        assert body["errors"][1]["detail"] == "is not one of the choices"
        seen.no_bug()

    def test_non_field_errors_are_the_base(self, api: APIClient, seen: Seen) -> None:
        """Ensures DRF's non_field_errors answer at the base, "#", with their code."""
        order = {
            "email": "a@shop.example",
            "size": "s",
            "items": [{"sku": "A-1", "quantity": 1}],
            "tags": [1],
        }
        body = problem(api.post("/api/orders", order, format="json"), 400)
        assert errors(body) == [("#", "single_tagged")]
        seen.no_bug()

    def test_an_empty_validation_error_still_says_invalid(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures ValidationError({}) answers 400 with a base "invalid" error."""
        body = problem(api.get("/api/raise/invalid-empty"), 400)
        assert errors(body) == [("#", "invalid")]
        seen.no_bug()

    def test_a_detail_of_odd_shapes_is_read_whole(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures codeless strings, numbers, tuples, odd keys and cycles answer."""
        body = problem(api.get("/api/raise/odd-detail"), 422)
        assert errors(body) == [
            ("#/name", "invalid"),
            ("#/count", "invalid"),
            ("#/pair", "invalid"),
            ("#/pair/1/inner", "invalid"),
            ("#", "invalid"),
            ("#/looping", "invalid"),
        ]
        seen.no_bug()

    def test_malformed_json_is_a_parse_error(self, api: APIClient, seen: Seen) -> None:
        """Ensures DRF's ParseError answers 400 parse_error, without the body's text."""
        response = api.post(
            "/api/orders", data=b'{"SELECT": secret', content_type="application/json"
        )
        body = problem(response, 400)
        assert errors(body) == [("#", "parse_error")]
        seen.no_bug()

    def test_a_status_map_overrides_drfs_status(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures OUTCOME_PROBLEMS' statuses answer a code with the status mapped."""
        with override_settings(OUTCOME_PROBLEMS={"statuses": {"required": 422}}):
            response = api.post("/api/orders", {}, format="json")
        body = problem(response, 422)
        assert {code for _, code in errors(body)} == {"required"}
        seen.no_bug()

    def test_the_catalog_gives_the_messages(self, api: APIClient, seen: Seen) -> None:
        """Ensures OUTCOME_PROBLEMS' catalog comes before every other message."""
        catalog = {"invalid_choice": "must be s, m or l", "required": "is missing"}
        with override_settings(OUTCOME_PROBLEMS={"catalog": catalog}):
            body = problem(api.post("/api/orders", self.ORDER, format="json"), 400)
        details = {error["pointer"]: error["detail"] for error in body["errors"]}
        assert details["#/size"] == "must be s, m or l"
        assert details["#/items/1/sku"] == "is missing"
        seen.no_bug()


class TestDrfExceptions:
    """DRF's other exceptions keep their status, codes and headers."""

    @pytest.mark.parametrize(
        ("name", "status", "code"),
        [
            ("not-found", 404, "not_found"),
            ("permission-denied", 403, "permission_denied"),
            ("http404", 404, "not_found"),
            ("django-permission", 403, "permission_denied"),
            ("bad-request", 400, "bad_request"),
            ("api-error", 500, "error"),
        ],
    )
    def test_status_by_exception(
        self, api: APIClient, seen: Seen, name: str, status: int, code: str
    ) -> None:
        """Ensures DRF's and Django's exceptions answer their status and code."""
        body = problem(api.get(f"/api/raise/{name}"), status)
        assert errors(body) == [("#", code)]
        seen.no_bug()

    def test_not_authenticated_challenges(self, api: APIClient, seen: Seen) -> None:
        """Ensures a 401 keeps DRF's WWW-Authenticate from the authenticator."""
        response = api.get("/api/private")
        body = problem(response, 401)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert errors(body) == [("#", "not_authenticated")]
        seen.no_bug()

    def test_no_challenge_answers_403(self, api: APIClient, seen: Seen) -> None:
        """Ensures DRF's 403 stands when no authenticator gives WWW-Authenticate."""
        response = api.get("/api/private-no-header")
        body = problem(response, 403)
        assert "WWW-Authenticate" not in response
        assert errors(body) == [("#", "not_authenticated")]
        seen.no_bug()

    def test_authentication_failed_challenges(self, api: APIClient, seen: Seen) -> None:
        """Ensures AuthenticationFailed answers 401, challenges, hides its text."""
        response = api.get("/api/private-bad-token")
        body = problem(response, 401)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert errors(body) == [("#", "authentication_failed")]
        seen.no_bug()

    def test_method_not_allowed(self, api: APIClient, seen: Seen) -> None:
        """Ensures a 405 keeps DRF's Allow header."""
        response = api.delete("/api/orders")
        body = problem(response, 405)
        assert response["Allow"] == "POST, OPTIONS"
        assert errors(body) == [("#", "method_not_allowed")]
        seen.no_bug()

    def test_throttled_waits_whole_seconds(self, api: APIClient, seen: Seen) -> None:
        """Ensures Throttled answers 429 with its wait, 2.2 s, as Retry-After: 3."""
        body = problem(api.get("/api/throttled"), 429, retry_after="3")
        assert errors(body) == [("#", "throttled")]
        seen.no_bug()

    def test_an_exception_of_the_projects_keeps_status_and_wait(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures an APIException with a 503 and a wait answers both."""
        body = problem(api.get("/api/raise/unavailable"), 503, retry_after="30")
        assert errors(body) == [("#", "maintenance")]
        seen.no_bug()

    def test_a_status_that_cannot_be_read_is_a_bug(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures an APIException whose status is "400" gets a 500 with a reference."""
        body = problem(api.get("/api/raise/broken-api"), 500)
        exc = seen.bug_once(failure("broken-api").__class__)
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]


class TestDrfClassified:
    """Other failures in DRF views are answered as the classifier decides."""

    def test_an_upstream_rate_limit_answers_503_with_its_wait(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures httpx's 429 with Retry-After: 7 answers 503, Retry-After: 7."""
        body = problem(api.get("/api/raise/upstream-429"), 503, retry_after="7")
        assert errors(body) == [("#", "rate_limit")]
        seen.no_bug()

    def test_a_timeout_answers_503(self, api: APIClient, seen: Seen) -> None:
        """Ensures a timeout answers 503 without a Retry-After, which is unknown."""
        body = problem(api.get("/api/raise/timeout"), 503)
        assert errors(body) == [("#", "timeout")]
        seen.no_bug()

    def test_carried_errors_are_answered(self, api: APIClient, seen: Seen) -> None:
        """Ensures an exception's Errors are answered, and a status map applies."""
        body = problem(api.get("/api/raise/carried"), 422)
        assert errors(body) == [("#/items/0/sku", "sold_out")]
        with override_settings(OUTCOME_PROBLEMS={"statuses": {"sold_out": 409}}):
            problem(api.get("/api/raise/carried"), 409)
        seen.no_bug()

    def test_djangos_validation_error_answers_its_fields(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures Django's ValidationError in a DRF view answers 422 by field."""
        body = problem(api.get("/api/raise/django-invalid"), 422)
        assert errors(body) == [("#/email", "invalid")]
        seen.no_bug()

    def test_the_classifier_setting_is_used(self, api: APIClient, seen: Seen) -> None:
        """Ensures OUTCOME_PROBLEMS' classifier, by path or itself, decides."""
        path = "tests.integrations.django_project.SHOP_CLASSIFIER"
        for classifier in (path, SHOP_CLASSIFIER):
            with override_settings(OUTCOME_PROBLEMS={"classifier": classifier}):
                body = problem(api.get("/api/raise/out-of-stock"), 422)
            assert errors(body) == [("#", "out_of_stock")]
        seen.no_bug()

    def test_the_type_setting_is_every_answers_type(self, api: APIClient) -> None:
        """Ensures OUTCOME_PROBLEMS' type is the problem type of the answers."""
        kind = "https://shop.example/problems"
        with override_settings(OUTCOME_PROBLEMS={"type": kind}):
            response = api.get("/api/raise/timeout")
        assert json.loads(response.content)["type"] == kind


class TestDrfProgrammerErrors:
    """A programmer error in a DRF view is left to Django: 500, logged once."""

    def test_a_bug_answers_500_with_its_reference_only(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures the 500 shows a reference, and the logged traceback notes it."""
        body = problem(api.get("/api/raise/bug"), 500)
        assert body["title"] == "Internal Server Error"
        exc = seen.bug_once(LookupError)
        assert str(exc) == BUG_TEXT
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]
        assert reference_of(body) in seen.caplog.text  # in the logged traceback

    @pytest.mark.parametrize("name", ["unreadable", "carried-nothing", "out-of-stock"])
    def test_unreadable_or_unknown_failures_are_bugs(
        self, api: APIClient, seen: Seen, name: str
    ) -> None:
        """Ensures failing facts, no errors or an unknown class answer 500, once."""
        body = problem(api.get(f"/api/raise/{name}"), 500)
        exc = seen.bug_once(type(failure(name)))
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]

    def test_without_problem_pages_django_answers_its_own_500(
        self, api: APIClient, seen: Seen
    ) -> None:
        """Ensures Django's 500 page, with no handler500 of ours, shows no bug text."""
        with override_settings(ROOT_URLCONF=DefaultErrorPages, MIDDLEWARE=[]):
            response = api.get("/api/raise/bug")
        assert response.status_code == 500
        assert b"<h1>Server Error (500)</h1>" in response.content
        for word in HIDDEN:
            assert word.encode() not in response.content
        exc = seen.bug_once(LookupError)
        [note] = noted(exc)
        assert note.startswith("outcome reference: ERR-")

    def test_the_handler_returns_none_for_a_bug(self) -> None:
        """Ensures exception_handler leaves a bug to DRF and Django, noted once."""
        exc = LookupError(BUG_TEXT)
        assert exception_handler(exc, {}) is None
        assert exception_handler(exc, {}) is None
        assert len(noted(exc)) == 1


# Plain Django ---------------------------------------------------------------


class TestProblemMiddleware:
    """ProblemMiddleware answers what plain Django views raise."""

    @pytest.mark.parametrize(
        ("name", "answer"),
        [
            ("timeout", (503, [("#", "timeout")], None)),
            ("upstream-429", (503, [("#", "rate_limit")], "7")),
            ("carried", (422, [("#/items/0/sku", "sold_out")], None)),
            ("http404", (404, [("#", "not_found")], None)),
            ("django-permission", (403, [("#", "permission_denied")], None)),
            ("bad-request", (400, [("#", "bad_request")], None)),
            ("django-invalid", (422, [("#/email", "invalid")], None)),
            ("not-found", (404, [("#", "not_found")], None)),
        ],
    )
    def test_failures_are_answered(
        self,
        client: Client,
        seen: Seen,
        name: str,
        answer: tuple[int, list[tuple[str, str]], str | None],
    ) -> None:
        """Ensures each failure a view raises answers its status, headers, errors."""
        status, expected, retry_after = answer
        response = client.get(f"/plain/{name}")
        body = problem(response, status, retry_after=retry_after)
        assert errors(body) == expected
        seen.no_bug()

    def test_a_bug_is_left_to_django(self, client: Client, seen: Seen) -> None:
        """Ensures a bug answers handler500's reference, logged once by Django."""
        body = problem(client.get("/plain/bug"), 500)
        exc = seen.bug_once(LookupError)
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]

    def test_an_answer_passes_through(self, client: Client, seen: Seen) -> None:
        """Ensures a view that answers is answered as it says."""
        response = client.get("/plain-ok")
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        seen.no_bug()

    def test_the_middleware_takes_its_problems_from_the_setting(
        self, client: Client
    ) -> None:
        """Ensures the status map answers through the middleware too."""
        with override_settings(OUTCOME_PROBLEMS={"statuses": {"sold_out": 409}}):
            problem(client.get("/plain/carried"), 409)

    def test_async_views_are_answered(self, seen: Seen) -> None:
        """Ensures an async view's failure is answered, and its bug left to Django."""
        client = AsyncClient(raise_request_exception=False)
        timeout = asyncio.run(client.get("/async/timeout"))
        assert errors(problem(timeout, 503)) == [("#", "timeout")]
        seen.no_bug()
        bug = asyncio.run(client.get("/async/bug"))
        body = problem(bug, 500)
        exc = seen.bug_once(LookupError)
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]


class TestProblemResponse:
    """problem_response: a failure a view returns, answered as one it raises."""

    @pytest.mark.parametrize(
        ("name", "answer"),
        [
            ("carried", (422, [("#/items/0/sku", "sold_out")])),
            ("not-found", (404, [("#", "not_found")])),
            ("django-invalid", (422, [("#/email", "invalid")])),
        ],
    )
    def test_a_returned_failure_is_answered(
        self,
        api: APIClient,
        client: Client,
        seen: Seen,
        name: str,
        answer: tuple[int, list[tuple[str, str]]],
    ) -> None:
        """Ensures an Err from a DRF view, or a failure from a plain one, answers."""
        status, expected = answer
        for response in (
            api.get(f"/api/return/{name}"),
            client.get(f"/plain-return/{name}"),
        ):
            assert errors(problem(response, status)) == expected
        seen.no_bug()

    def test_a_returned_bug_is_logged_once_with_its_reference(
        self, client: Client, seen: Seen
    ) -> None:
        """Ensures a returned bug answers its reference, logged once with the cause."""
        body = problem(client.get("/plain-return/bug"), 500)
        [record] = [
            record
            for record in seen.caplog.records
            if record.name == "outcome.integrations.django"
        ]
        assert record.levelno == logging.ERROR
        assert reference_of(body) in record.getMessage()
        assert record.exc_info is not None
        assert type(record.exc_info[1]) is LookupError
        assert seen.tracebacks() == []  # Django logged the 500, with no traceback
        assert seen.signals == []

    def test_the_problems_given_are_used(self) -> None:
        """Ensures problems= answers instead of the setting's."""
        sold_out = Errors([ErrorDetail("sku", "sold_out")])
        response = problem_response(
            sold_out, problems=Problems(statuses={"sold_out": 409})
        )
        assert errors(problem(response, 409)) == [("#/sku", "sold_out")]

    def test_what_is_no_failure_is_refused(self) -> None:
        """Ensures an Ok, or problems that are no Problems, raise a clear TypeError."""
        with pytest.raises(TypeError, match="is for a failure"):
            problem_response(Ok(1))
        with pytest.raises(TypeError, match=r"takes problems=Problems\(...\) or None"):
            problem_response(Errors(), problems={})  # type: ignore[arg-type]


class TestProblemServerError:
    """problem_server_error, Django's handler500: never fails, never shows text."""

    def test_with_no_exception_it_answers_a_reference(self) -> None:
        """Ensures a call outside exception handling still answers a 500."""
        response = problem_server_error(RequestFactory().get("/"))
        reference_of(problem(response, 500))

    def test_a_bad_setting_still_gets_a_reference(
        self, client: Client, seen: Seen
    ) -> None:
        """Ensures a bad OUTCOME_PROBLEMS does not break the 500 page."""
        with override_settings(MIDDLEWARE=[], OUTCOME_PROBLEMS="nonsense"):
            body = problem(client.get("/plain/bug"), 500)
        exc = seen.bug_once(LookupError)
        assert noted(exc) == [f"outcome reference: {reference_of(body)}"]

    def test_a_failure_no_middleware_answered_is_answered(
        self, client: Client, seen: Seen
    ) -> None:
        """Ensures a timeout reaching handler500 answers 503, as Django logged it."""
        with override_settings(MIDDLEWARE=[]):
            body = problem(client.get("/plain/upstream-429"), 503, retry_after="7")
        assert errors(body) == [("#", "rate_limit")]
        exc = seen.bug_once(type(failure("upstream-429")))
        assert noted(exc) == []


# The setting ----------------------------------------------------------------


BAD_SETTINGS: dict[str, tuple[object, str]] = {
    "not a dict": ("nonsense", "must be a dict of the options of outcome.Problems"),
    "unknown option": ({"status": {}}, "has no option 'status'"),
    "a status as text": (
        {"statuses": {"sold_out": "409"}},
        "statuses['sold_out'] must be an HTTP status",
    ),
    "a status out of range": (
        {"statuses": {"sold_out": 700}},
        "statuses['sold_out'] must be an HTTP error status from 400 to 599",
    ),
    "a catalog of numbers": ({"catalog": {"sold_out": 1}}, "catalog must map"),
    "a type that is no URI": ({"type": 3}, "takes type as a URI string"),
    "a classifier that is none": ({"classifier": 3}, "classifier=Classifier"),
    "a classifier nowhere": (
        {"classifier": "tests.integrations.nowhere.CLASSIFIER"},
        "['classifier'] is 'tests.integrations.nowhere.CLASSIFIER', which cannot",
    ),
    "a classifier not in its module": (
        {"classifier": "tests.integrations.django_project.NOTHING"},
        "which cannot be imported",
    ),
    "a classifier path with no module": (
        {"classifier": "CLASSIFIER"},
        "which cannot be imported",
    ),
}


class TestSetting:
    """OUTCOME_PROBLEMS: read once, checked with errors naming it."""

    @pytest.mark.parametrize("case", list(BAD_SETTINGS))
    def test_a_bad_setting_is_named_by_the_handler(self, case: str) -> None:
        """Ensures DRF's handler refuses a bad OUTCOME_PROBLEMS, naming it."""
        value, words = BAD_SETTINGS[case]
        api = api_client()  # raising what the handler raised
        with (
            override_settings(OUTCOME_PROBLEMS=value),
            pytest.raises(ImproperlyConfigured) as raised,
        ):
            api.get("/api/raise/timeout")
        message = str(raised.value)
        assert message.startswith("settings.OUTCOME_PROBLEMS")
        assert words in message

    def test_a_bad_setting_stops_the_middleware_loading(self) -> None:
        """Ensures Django refuses to load ProblemMiddleware under a bad setting."""
        with (
            override_settings(OUTCOME_PROBLEMS={"statuses": []}),
            pytest.raises(ImproperlyConfigured, match=r"^settings\.OUTCOME_PROBLEMS"),
        ):
            Client().get("/plain-ok")

    def test_a_changed_setting_is_read_again(self, api: APIClient) -> None:
        """Ensures override_settings of OUTCOME_PROBLEMS is seen, and undone."""
        problem(api.get("/api/raise/carried"), 422)
        with override_settings(OUTCOME_PROBLEMS={"statuses": {"sold_out": 409}}):
            problem(api.get("/api/raise/carried"), 409)
        problem(api.get("/api/raise/carried"), 422)
