"""Failures answered by a real Flask app, through its test client."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from flask import Blueprint, Flask, Response, abort, got_request_exception

from outcome import (
    PROBLEM_JSON,
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Problems,
)
from outcome.integrations.flask import install, problem_response

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

QUERY = "SELECT secret FROM cards"


class OutOfStock(Exception):
    """The shop's own failure: the user can fix it by ordering less."""

    def __outcome_decision__(self) -> Decision:
        return Decision(Bucket.USER_FIXABLE, False, "sold_out")


class Rejected(Exception):
    """The app's own failure, carrying the errors it found."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(QUERY)
        self.errors = errors


class Unreadable(Exception):
    """A failure each of whose facts raises when read."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__") and name != "__outcome_decision__":
            return super().__getattribute__(name)
        raise RuntimeError(QUERY)


class Broken(Classifier):
    """A classifier that cannot classify anything."""

    def classify(self, failure: object) -> Decision:
        """Fail."""
        raise RuntimeError(QUERY)


def rate_limited(retry_after: str = "7") -> httpx.HTTPStatusError:
    """What httpx raises for an upstream's 429 with a Retry-After."""
    request = httpx.Request("POST", "https://payments.example/v1/charges")
    response = httpx.Response(
        429, headers={"Retry-After": retry_after}, request=request
    )
    return httpx.HTTPStatusError(
        "Client error '429 Too Many Requests'", request=request, response=response
    )


class Reports:
    """What Flask's error reporting saw: log records and signalled exceptions."""

    def __init__(self, caplog: pytest.LogCaptureFixture, app: Flask) -> None:
        self._caplog = caplog
        self._app = app
        self.signalled: list[BaseException] = []

    def receive(self, sender: Flask, exception: BaseException, **extra: Any) -> None:
        """The receiver of got_request_exception."""
        self.signalled.append(exception)

    @property
    def logged(self) -> list[logging.LogRecord]:
        """The ERROR records of the app's logger."""
        return [
            record
            for record in self._caplog.records
            if record.name == self._app.logger.name and record.levelno >= logging.ERROR
        ]

    def logged_exceptions(self) -> list[BaseException | None]:
        """The exception of each ERROR record of the app's logger."""
        return [
            record.exc_info[1] if record.exc_info else None for record in self.logged
        ]


@pytest.fixture
def app() -> Flask:
    """A Flask app as it runs in production: not testing, not debug."""
    return Flask("shop")


@pytest.fixture
def reports(caplog: pytest.LogCaptureFixture, app: Flask) -> Iterator[Reports]:
    """Flask's reports of the app's errors, from its logger and its signal."""
    seen = Reports(caplog, app)
    got_request_exception.connect(seen.receive, app)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(seen.receive, app)


def raising(app: Flask, failure: BaseException, path: str = "/orders") -> None:
    """Add a view at `path` that raises `failure`."""

    def view() -> str:
        raise failure

    app.add_url_rule(path, path, view, methods=["GET", "POST"])


def body_of(response: TestResponse) -> dict[str, Any]:
    """The JSON body of a problem response, checking its media type."""
    assert response.headers["Content-Type"] == PROBLEM_JSON
    body: object = response.get_json(force=True)
    assert isinstance(body, dict)
    return cast("dict[str, Any]", body)


def assert_no_secret(response: TestResponse) -> None:
    """Nothing of the programmer error's text is in the response."""
    shown = response.get_data(as_text=True) + str(response.headers)
    assert "SELECT" not in shown
    assert "secret" not in shown


class TestInstall:
    """install checks Problems' options at once, and keeps them."""

    def test_returns_and_keeps_the_problems(self, app: Flask) -> None:
        """The Problems made is returned and kept in app.extensions."""
        problems = install(app, statuses={"sold_out": 409})
        assert type(problems) is Problems
        assert app.extensions["outcome"] is problems

    def test_a_status_that_is_no_int_is_refused(self, app: Flask) -> None:
        """A status given as a string is refused at install, naming it."""
        with pytest.raises(TypeError, match=r"statuses\['sold_out'\].*'409'"):
            install(app, statuses={"sold_out": "409"})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
        assert "outcome" not in app.extensions

    def test_a_status_out_of_range_is_refused(self, app: Flask) -> None:
        """A status outside 100..599 is refused at install, naming it."""
        with pytest.raises(
            ValueError, match=r"statuses\['sold_out'\].*from 400 to 599.*4090"
        ):
            install(app, statuses={"sold_out": 4090})

    def test_a_catalog_that_is_no_mapping_is_refused(self, app: Flask) -> None:
        """A catalog that maps nothing is refused at install, naming it."""
        with pytest.raises(TypeError, match=r"catalog must map.*\['is required'\]"):
            install(app, catalog=["is required"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_no_handler_is_registered_for_bad_options(self, app: Flask) -> None:
        """Refused options leave the app as it was."""
        with pytest.raises(TypeError):
            install(app, classifier="strict")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        assert app.error_handler_spec == {}


class TestExpectedFailures:
    """A failure the user can fix or must be told about is answered, not logged."""

    def test_the_status_map_gives_the_status(
        self, app: Flask, reports: Reports
    ) -> None:
        """A code in the status map answers with its status and code."""
        install(app, statuses={"sold_out": 409})
        raising(app, OutOfStock(QUERY))
        response = app.test_client().post("/orders")
        assert response.status_code == 409
        body = body_of(response)
        assert body["status"] == 409
        assert body["title"] == "Conflict"
        assert body["errors"] == [
            {"detail": "Sold out", "pointer": "#", "code": "sold_out"}
        ]
        assert "Retry-After" not in response.headers
        assert_no_secret(response)
        assert reports.logged == []
        assert reports.signalled == []

    def test_without_a_map_the_bucket_gives_the_status(
        self, app: Flask, reports: Reports
    ) -> None:
        """A code the map does not know answers with its bucket's status."""
        install(app)
        raising(app, OutOfStock())
        response = app.test_client().post("/orders")
        assert response.status_code == 422
        assert body_of(response)["errors"][0]["code"] == "sold_out"
        assert reports.logged == []
        assert reports.signalled == []

    def test_an_upstream_rate_limit_answers_503_with_its_wait(
        self, app: Flask, reports: Reports
    ) -> None:
        """An upstream's 429 with Retry-After: 7 answers 503 with Retry-After: 7."""
        install(app)
        raising(app, rate_limited("7"))
        response = app.test_client().post("/orders")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"
        body = body_of(response)
        assert body["errors"][0]["code"] == "rate_limit"
        assert "payments.example" not in response.get_data(as_text=True)
        assert reports.logged == []
        assert reports.signalled == []

    def test_a_custom_problem_type_is_used(self, app: Flask, reports: Reports) -> None:
        """The type given at install is every answer's type."""
        install(app, type="https://shop.example/problems/order")
        raising(app, TimeoutError("10.0.0.7:5432"))
        response = app.test_client().get("/orders")
        assert response.status_code == 503
        body = body_of(response)
        assert body["type"] == "https://shop.example/problems/order"
        assert "10.0.0.7" not in response.get_data(as_text=True)
        assert reports.logged == []

    def test_the_catalog_gives_the_message(self, app: Flask, reports: Reports) -> None:
        """A template in the catalog is the error's detail."""
        install(app, catalog={"sold_out": "is gone, sorry"})
        raising(app, OutOfStock())
        response = app.test_client().get("/orders")
        assert response.status_code == 422
        assert body_of(response)["errors"][0]["detail"] == "Is gone, sorry"
        assert reports.logged == []

    def test_the_errors_an_exception_carries_are_answered(
        self, app: Flask, reports: Reports
    ) -> None:
        """An exception carrying Errors answers with each of them."""
        install(app)
        errors = Errors([ErrorDetail("email", "blank"), ErrorDetail("age", "blank")])
        raising(app, Rejected(errors))
        response = app.test_client().post("/orders")
        assert response.status_code == 422
        body = body_of(response)
        assert [entry["pointer"] for entry in body["errors"]] == ["#/email", "#/age"]
        assert_no_secret(response)
        assert reports.logged == []
        assert reports.signalled == []

    def test_after_request_functions_run(self, app: Flask, reports: Reports) -> None:
        """The answer goes through the app's after_request functions."""
        install(app)
        raising(app, OutOfStock())

        @app.after_request
        def tag(response: Response) -> Response:
            response.headers["X-Request-Id"] = "r-1"
            return response

        response = app.test_client().get("/orders")
        assert response.status_code == 422
        assert response.headers["X-Request-Id"] == "r-1"
        assert body_of(response)["errors"][0]["code"] == "sold_out"
        assert reports.logged == []


class TestProgrammerErrors:
    """A bug answers 500 with a reference, and Flask logs and signals it once."""

    def test_a_bug_answers_500_with_its_reference_only(
        self, app: Flask, reports: Reports
    ) -> None:
        """The body has the reference and none of the bug's text; Flask saw it once."""
        install(app)
        bug = LookupError(QUERY)
        raising(app, bug)
        response = app.test_client().get("/orders")
        assert response.status_code == 500
        body = body_of(response)
        assert body["title"] == "Internal Server Error"
        [entry] = body["errors"]
        assert entry["code"] == "internal_error"
        assert entry["reference"] == ErrorDetail.from_exception(bug).reference
        assert entry["reference"] in entry["detail"]
        assert "Retry-After" not in response.headers
        assert_no_secret(response)
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]
        assert reports.logged[0].getMessage() == "Exception on /orders [GET]"

    def test_a_bug_among_carried_errors_is_answered_alone(
        self, app: Flask, reports: Reports
    ) -> None:
        """Carried errors with a bug among them answer 500 with the bug alone."""
        install(app)
        errors = Errors([ErrorDetail("email", "blank")])
        bug = errors.add_exception(LookupError(QUERY))
        failure = Rejected(errors)
        raising(app, failure)
        response = app.test_client().post("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["reference"] == bug.reference
        assert_no_secret(response)
        assert reports.signalled == [failure]
        assert reports.logged_exceptions() == [failure]

    def test_a_bug_in_a_blueprint_is_answered_too(
        self, app: Flask, reports: Reports
    ) -> None:
        """A view of a blueprint gets the app's answer."""
        install(app)
        bug = LookupError(QUERY)
        admin = Blueprint("admin", __name__)

        @admin.get("/refunds")
        def refunds() -> str:
            raise bug

        app.register_blueprint(admin, url_prefix="/admin")
        response = app.test_client().get("/admin/refunds")
        assert response.status_code == 500
        assert body_of(response)["errors"][0]["code"] == "internal_error"
        assert_no_secret(response)
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]

    def test_a_failure_whose_facts_cannot_be_read(
        self, app: Flask, reports: Reports
    ) -> None:
        """A failure whose every attribute raises still gets a 500 and a reference."""
        install(app)
        failure = Unreadable("unreadable")
        raising(app, failure)
        response = app.test_client().get("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["reference"].startswith("ERR-")
        assert_no_secret(response)
        assert reports.signalled == [failure]
        assert reports.logged_exceptions() == [failure]

    def test_a_classifier_that_raises_makes_a_bug(
        self, app: Flask, reports: Reports
    ) -> None:
        """A failure the classifier fails on is answered as a bug, with a reference."""
        install(app, classifier=Broken())
        failure = OutOfStock()
        raising(app, failure)
        response = app.test_client().get("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["code"] == "internal_error"
        assert entry["reference"].startswith("ERR-")
        assert_no_secret(response)
        assert reports.signalled == [failure]
        assert reports.logged_exceptions() == [failure]

    def test_an_after_request_failure_answers_500(
        self, app: Flask, reports: Reports
    ) -> None:
        """A failure raised after the view is a bug, as Flask logs it."""
        install(app)
        failure = OutOfStock(QUERY)
        raised: list[OutOfStock] = []

        @app.get("/orders")
        def orders() -> str:
            return "ok"

        @app.after_request
        def fail_once(response: Response) -> Response:
            if not raised:
                raised.append(failure)
                raise failure
            return response

        response = app.test_client().get("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["code"] == "internal_error"
        assert entry["reference"].startswith("ERR-")
        assert_no_secret(response)
        assert reports.signalled == [failure]
        assert reports.logged_exceptions() == [failure]

    def test_in_testing_a_bug_propagates_as_flask_does(
        self, app: Flask, reports: Reports
    ) -> None:
        """With TESTING, the bug reaches the test client, signalled once, not logged."""
        install(app)
        app.testing = True
        bug = LookupError(QUERY)
        raising(app, bug)
        with pytest.raises(LookupError) as raised:
            app.test_client().get("/orders")
        assert raised.value is bug
        assert reports.signalled == [bug]
        assert reports.logged == []

    def test_in_debug_a_bug_propagates_as_flask_does(
        self, app: Flask, reports: Reports
    ) -> None:
        """In debug mode, the bug reaches the debugger, signalled once."""
        install(app)
        app.debug = True
        bug = LookupError(QUERY)
        raising(app, bug)
        with pytest.raises(LookupError):
            app.test_client().get("/orders")
        assert reports.signalled == [bug]
        assert reports.logged == []

    def test_propagate_exceptions_off_answers_in_testing(
        self, app: Flask, reports: Reports
    ) -> None:
        """PROPAGATE_EXCEPTIONS=False in testing answers 500 and logs, as Flask does."""
        install(app)
        app.testing = True
        app.config["PROPAGATE_EXCEPTIONS"] = False
        bug = LookupError(QUERY)
        raising(app, bug)
        response = app.test_client().get("/orders")
        assert response.status_code == 500
        assert body_of(response)["errors"][0]["code"] == "internal_error"
        assert_no_secret(response)
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]

    def test_propagate_exceptions_on_propagates_in_production(
        self, app: Flask, reports: Reports
    ) -> None:
        """PROPAGATE_EXCEPTIONS=True propagates the bug, signalled once."""
        install(app)
        app.config["PROPAGATE_EXCEPTIONS"] = True
        bug = LookupError(QUERY)
        raising(app, bug)
        with pytest.raises(LookupError):
            app.test_client().get("/orders")
        assert reports.signalled == [bug]
        assert reports.logged == []

    def test_a_handler_for_500_is_flasks_choice(
        self, app: Flask, reports: Reports
    ) -> None:
        """The app's own handler for 500 wins over install's, as Flask decides."""
        install(app)
        app.register_error_handler(500, lambda error: ("our page", 500))
        bug = LookupError(QUERY)
        raising(app, bug)
        response = app.test_client().get("/orders")
        assert response.status_code == 500
        assert response.get_data(as_text=True) == "our page"
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]


def plain_and_installed() -> tuple[Flask, Flask]:
    """Two apps with the same views, the second with install."""
    apps = (Flask("plain"), Flask("installed"))
    install(apps[1])
    for each in apps:

        @each.get("/missing")
        def missing() -> str:
            abort(404)

        @each.get("/broken")
        def broken() -> str:
            abort(500)

        @each.get("/gone")
        def gone() -> str:
            abort(410, description="The order was archived.")

        @each.get("/folder/")
        def folder() -> str:
            return "folder"

    return apps


class TestHttpExceptions:
    """Werkzeug's HTTP exceptions behave as Flask makes them behave."""

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/missing", 404),
            ("/nowhere", 404),
            ("/broken", 500),
            ("/gone", 410),
            ("/folder", 308),
        ],
    )
    def test_answered_as_without_install(
        self, path: str, status: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        """abort(), unknown routes and redirects answer as a plain Flask app's do."""
        plain, installed = plain_and_installed()
        expected = plain.test_client().get(path)
        response = installed.test_client().get(path)
        assert response.status_code == expected.status_code == status
        assert response.headers["Content-Type"] == expected.headers["Content-Type"]
        assert response.headers.get("Location") == expected.headers.get("Location")
        assert response.get_data() == expected.get_data()
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    def test_the_apps_own_handler_for_a_code_wins(
        self, app: Flask, reports: Reports
    ) -> None:
        """A handler for 404 answers a 404, not install's."""
        install(app)

        @app.errorhandler(404)
        def not_found(_error: Exception) -> tuple[dict[str, str], int]:
            return {"error": "no such order"}, 404

        response = app.test_client().get("/orders/unknown")
        assert response.status_code == 404
        assert response.get_json() == {"error": "no such order"}
        assert reports.logged == []
        assert reports.signalled == []

    def test_a_trapped_http_exception_is_unhandled(
        self, app: Flask, reports: Reports
    ) -> None:
        """With TRAP_HTTP_EXCEPTIONS, an abort(404) is unhandled, as in Flask."""
        install(app)
        app.config["TRAP_HTTP_EXCEPTIONS"] = True

        @app.get("/orders")
        def orders() -> str:
            abort(404)

        response = app.test_client().get("/orders")
        assert response.status_code == 500
        assert body_of(response)["errors"][0]["code"] == "internal_error"
        [signalled] = reports.signalled
        assert type(signalled).__name__ == "NotFound"
        assert reports.logged_exceptions() == [signalled]

    def test_a_trapped_http_exception_propagates_in_testing(
        self, app: Flask, reports: Reports
    ) -> None:
        """Trapped in testing, an abort(404) reaches the test client."""
        install(app)
        app.testing = True
        app.config["TRAP_HTTP_EXCEPTIONS"] = True

        @app.get("/orders")
        def orders() -> str:
            abort(404)

        with pytest.raises(Exception, match="404 Not Found"):
            app.test_client().get("/orders")
        assert len(reports.signalled) == 1
        assert reports.logged == []


class TestProblemResponse:
    """problem_response answers a failure a view returns."""

    def test_errors_returned_by_a_view(self, app: Flask, reports: Reports) -> None:
        """Returned Errors answer with the installed status map, unlogged."""
        install(app, statuses={"taken": 409})

        @app.post("/signup")
        def signup() -> Response:
            return problem_response(Errors([ErrorDetail("email", "taken")]))

        response = app.test_client().post("/signup")
        assert response.status_code == 409
        assert body_of(response)["errors"] == [
            {"detail": "has already been taken", "pointer": "#/email", "code": "taken"}
        ]
        assert reports.logged == []
        assert reports.signalled == []

    def test_without_install_the_default_answers(
        self, app: Flask, reports: Reports
    ) -> None:
        """An app with no install answers with the default Problems."""

        @app.post("/signup")
        def signup() -> Response:
            return problem_response(Err(Errors([ErrorDetail("email", "taken")])))

        response = app.test_client().post("/signup")
        assert response.status_code == 422
        assert body_of(response)["errors"][0]["code"] == "taken"
        assert reports.logged == []

    def test_problems_given_win(self, app: Flask, reports: Reports) -> None:
        """Problems passed in answer, over the installed ones."""
        install(app, statuses={"taken": 409})
        problems = Problems(statuses={"taken": 400})

        @app.post("/signup")
        def signup() -> Response:
            return problem_response(ErrorDetail("email", "taken"), problems=problems)

        response = app.test_client().post("/signup")
        assert response.status_code == 400
        assert body_of(response)["status"] == 400
        assert reports.logged == []

    def test_a_wait_becomes_retry_after(self, app: Flask, reports: Reports) -> None:
        """A returned upstream 429 answers 503 with its Retry-After."""

        @app.post("/charge")
        def charge() -> Response:
            return problem_response(rate_limited("7"))

        response = app.test_client().post("/charge")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"
        assert body_of(response)["errors"][0]["code"] == "rate_limit"
        assert reports.logged == []
        assert reports.signalled == []

    def test_a_returned_bug_is_reported_once(
        self, app: Flask, reports: Reports
    ) -> None:
        """A returned bug answers 500 with its reference; Flask logs and signals it."""
        install(app)
        bug = LookupError(QUERY)

        @app.get("/orders")
        def orders() -> Response:
            try:
                raise bug
            except LookupError as exc:
                return problem_response(Errors([ErrorDetail.from_exception(exc)]))

        response = app.test_client().get("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["reference"] == ErrorDetail.from_exception(bug).reference
        assert_no_secret(response)
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]
        assert reports.logged[0].exc_info is not None
        assert reports.logged[0].exc_info[2] is bug.__traceback__

    def test_a_bug_with_no_cause_is_logged_with_its_reference(
        self, app: Flask, reports: Reports
    ) -> None:
        """A returned bug with no cause is logged at ERROR with its reference."""
        detail = ErrorDetail(None, "bug", QUERY, bucket=Bucket.PROGRAMMER_ERROR)

        @app.get("/orders")
        def orders() -> Response:
            return problem_response(Errors([detail]))

        response = app.test_client().get("/orders")
        assert response.status_code == 500
        assert body_of(response)["errors"][0]["reference"] == detail.reference
        assert_no_secret(response)
        assert reports.signalled == []
        [record] = reports.logged
        assert detail.reference in record.getMessage()
        assert "/orders [GET]" in record.getMessage()

    def test_only_the_bugs_of_mixed_errors_are_shown_and_reported(
        self, app: Flask, reports: Reports
    ) -> None:
        """Errors with a bug among them answer the bug alone, and report it alone."""
        bug = LookupError(QUERY)
        errors = Errors([ErrorDetail("email", "blank")])
        errors.add_exception(bug)

        @app.get("/orders")
        def orders() -> Response:
            return problem_response(errors)

        response = app.test_client().get("/orders")
        assert response.status_code == 500
        [entry] = body_of(response)["errors"]
        assert entry["code"] == "internal_error"
        assert_no_secret(response)
        assert reports.signalled == [bug]
        assert reports.logged_exceptions() == [bug]

    def test_outside_a_request_nothing_is_reported(
        self, app: Flask, reports: Reports
    ) -> None:
        """In an app context alone, the answer is made and nothing logged."""
        with app.app_context():
            response = problem_response(LookupError(QUERY))
        assert response.status_code == 500
        assert response.headers["Content-Type"] == PROBLEM_JSON
        assert "SELECT" not in response.get_data(as_text=True)
        assert reports.logged == []
        assert reports.signalled == []

    def test_outside_any_app_a_flask_response_is_made(self) -> None:
        """With no app at all, a plain flask.Response is made."""
        response = problem_response(TimeoutError("10.0.0.7:5432"))
        assert type(response) is Response
        assert response.status_code == 503
        assert response.headers["Content-Type"] == PROBLEM_JSON
        assert "10.0.0.7" not in response.get_data(as_text=True)

    def test_the_apps_response_class_is_used(self, app: Flask) -> None:
        """In an app, its response_class makes the response."""

        class ShopResponse(Response):
            """The app's own response class."""

        app.response_class = ShopResponse
        install(app)
        raising(app, OutOfStock())
        with app.test_request_context("/orders"):
            assert type(problem_response(OutOfStock())) is ShopResponse
        assert app.test_client().get("/orders").status_code == 422

    def test_problems_that_are_not_problems_are_refused(self) -> None:
        """A problems that is no Problems is refused, naming it."""
        with pytest.raises(
            TypeError, match=r"problems=Problems\(\.\.\.\) or None, not \{\}"
        ):
            problem_response(Errors(), problems={})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_an_ok_is_refused(self) -> None:
        """An Ok is no failure."""
        with pytest.raises(TypeError, match="not Ok"):
            problem_response(Ok(1))


class TestImport:
    """The integration imports Flask only when it is used."""

    def test_importing_it_imports_no_flask(self) -> None:
        """Importing the integration imports neither Flask nor Werkzeug."""
        code = (
            "import sys, outcome.integrations.flask; "
            "assert 'flask' not in sys.modules and 'werkzeug' not in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
