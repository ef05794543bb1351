"""The HTTP answer: status, headers and problem body for every kind of failure."""

from __future__ import annotations

import json
import math
import pickle
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    SagaFailure,
    http_answer,
)
from tests.strategies import HIDDEN_TEXT, SecretFailure, collections_with_bugs
from tests.test_classify import attribute_names, junk


def upstream(status: int, body: object = None, **headers: str) -> httpx.HTTPStatusError:
    """The error httpx raises for an upstream answer of `status`."""
    request = httpx.Request("POST", "https://pay.example/v1/charges")
    response = httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.HTTPStatusError("upstream failed", request=request, response=response)


class TestStatus:
    """The status comes from the most severe error: map, hint, kind, bucket."""

    def test_a_user_fixable_error_is_422(self) -> None:
        """An error the user can fix, of no known kind, answers 422."""
        answer = http_answer(Errors([ErrorDetail("email", "blank")]))
        assert answer.status == 422
        assert answer.body["status"] == 422
        assert answer.body["title"] == "Unprocessable Entity"

    @pytest.mark.parametrize(
        ("failure", "status"),
        [
            (upstream(402, {"error": {"code": "card_declined"}}), 402),
            (upstream(409), 409),
            (upstream(429, {"error": {"code": "insufficient_quota"}}), 503),
            (upstream(503), 503),
            (upstream(504), 503),
            (ConnectionRefusedError("10.0.0.7:5432 refused"), 503),
            (TimeoutError("the gateway took too long"), 503),
            (upstream(404), 500),
            (upstream(401), 500),
            (KeyError("order_id"), 500),
        ],
    )
    def test_raised_failures_answer_by_kind(
        self, failure: BaseException, status: int
    ) -> None:
        """Upstream failures the caller did not cause are 503; bugs are 500."""
        assert http_answer(failure).status == status

    def test_the_status_hint_beats_the_kind(self) -> None:
        """An error's own status hint is the answer's status."""
        detail = ErrorDetail(None, "cancelled", bucket=Bucket.USER_VISIBLE, status=409)
        assert http_answer(detail).status == 409

    def test_the_map_beats_the_hint(self) -> None:
        """A code in the map decides over the error's hint and kind."""
        problems = Problems(statuses={"cancelled": 410, "declined": 400})
        hinted = ErrorDetail(None, "cancelled", status=409)
        assert problems.answer(hinted).status == 410
        assert problems.answer(ErrorDetail("card", "declined")).status == 400

    def test_the_map_never_hides_a_bug(self) -> None:
        """A programmer error answers 500 whatever the map says of its code."""
        problems = Problems(statuses={"bug": 422})
        assert problems.answer(LookupError(HIDDEN_TEXT)).status == 500

    def test_an_enum_hint_is_kept_as_an_int(self) -> None:
        """HTTPStatus.CONFLICT as a hint is stored and answered as the int 409."""
        detail = ErrorDetail(None, "cancelled", status=HTTPStatus.CONFLICT)
        assert type(detail.status) is int
        answer = http_answer(detail)
        assert (type(answer.status), answer.status) == (int, 409)

    def test_the_most_severe_error_decides(self) -> None:
        """A user-visible error among fixable ones makes the answer 503."""
        errors = Errors([ErrorDetail("email", "blank")])
        errors.add_exception(ConnectionRefusedError("refused"), "payment")
        answer = http_answer(errors)
        assert answer.status == 503
        assert [entry["code"] for entry in answer.body["errors"]] == [
            "blank",
            "connection",
        ]

    def test_the_first_of_the_most_severe_decides(self) -> None:
        """Among errors of one bucket, the first one's status is the answer's."""
        first = ErrorDetail(None, "cancelled", bucket=Bucket.USER_VISIBLE, status=409)
        second = ErrorDetail(None, "gone", bucket=Bucket.USER_VISIBLE, status=410)
        assert http_answer(Errors([first, second])).status == 409
        assert http_answer(Errors([second, first])).status == 410

    def test_status_of_one_error(self) -> None:
        """status_of says what one error asks for."""
        problems = Problems()
        assert problems.status_of(ErrorDetail("card", "declined")) == 402
        assert (
            problems.status_of(ErrorDetail("x", "odd", bucket=Bucket.USER_VISIBLE))
            == 503
        )


class TestRetryAfter:
    """A wait the failure knows becomes the Retry-After header of a 429 or 503."""

    def test_an_upstream_rate_limit_passes_its_wait_on(self) -> None:
        """A 429 with Retry-After: 7 from upstream answers 503, Retry-After: 7."""
        answer = http_answer(upstream(429, None, **{"Retry-After": "7"}))
        assert answer.status == 503
        assert answer.headers == {"Content-Type": PROBLEM_JSON, "Retry-After": "7"}

    def test_the_longest_wait_is_the_header(self) -> None:
        """Of several waits, the longest is the one to honour."""
        errors = Errors()
        errors.add_exception(upstream(429, None, **{"Retry-After": "3"}), "payment")
        errors.add_exception(upstream(429, None, **{"Retry-After": "12"}), "shipping")
        errors.add_exception(upstream(429, None, **{"Retry-After": "5"}), "tax")
        assert http_answer(errors).headers["Retry-After"] == "12"

    def test_the_apps_own_rate_limit_is_429(self) -> None:
        """The app's own limit, by its status hint, answers 429 with its wait."""
        detail = ErrorDetail(
            None,
            "rate_limit",
            params={"retry_after": 30},
            bucket=Bucket.USER_VISIBLE,
            status=429,
        )
        answer = http_answer(detail)
        assert (answer.status, answer.headers["Retry-After"]) == (429, "30")

    def test_a_fractional_wait_is_rounded_up(self) -> None:
        """A retry_after of 5.5 seconds is sent as 6: never sooner than asked."""
        detail = ErrorDetail(
            None, "busy", params={"retry_after": 5.5}, bucket=Bucket.USER_VISIBLE
        )
        assert http_answer(detail).headers["Retry-After"] == "6"

    @pytest.mark.parametrize("wait", [True, -1, -0.5, math.inf, math.nan, "7", None])
    def test_a_wait_that_is_not_a_wait_is_not_sent(self, wait: object) -> None:
        """Only a finite, non-negative number of seconds becomes a header."""
        detail = ErrorDetail(
            None, "busy", params={"retry_after": wait}, bucket=Bucket.USER_VISIBLE
        )
        assert "Retry-After" not in http_answer(detail).headers

    def test_no_header_on_a_status_that_is_not_about_waiting(self) -> None:
        """A wait on an answer that is not 429 or 503 is left out."""
        detail = ErrorDetail(None, "cancelled", params={"retry_after": 5}, status=409)
        assert http_answer(detail).headers == {"Content-Type": PROBLEM_JSON}

    def test_a_bug_sends_no_wait(self) -> None:
        """A 500 never says when to try again, whatever else the errors said."""
        errors = Errors()
        errors.add_exception(upstream(429, None, **{"Retry-After": "7"}), "payment")
        errors.add_exception(KeyError("order_id"))
        answer = http_answer(errors)
        assert (answer.status, answer.headers) == (500, {"Content-Type": PROBLEM_JSON})


class TestFailures:
    """Every kind of failure has an answer."""

    def test_an_err_is_what_it_holds(self) -> None:
        """Err(errors) answers as the errors do."""
        errors = Errors([ErrorDetail("email", "blank")])
        assert http_answer(Err(errors)).body == http_answer(errors).body

    def test_a_saga_failure_is_its_errors(self) -> None:
        """A SagaFailure (inside an Err, or not) answers with its errors."""
        failure = SagaFailure("charge", Errors([ErrorDetail("card", "declined")]))
        for given_failure in (failure, Err(failure)):
            answer = http_answer(given_failure)
            assert answer.status == 402
            assert answer.body["errors"][0]["pointer"] == "#/card"

    def test_an_exception_carrying_errors_is_answered_with_them(self) -> None:
        """A raised exception of the app's own with .errors answers those errors."""

        class OrderInvalid(Exception):
            def __init__(self, errors: Errors) -> None:
                super().__init__(HIDDEN_TEXT)
                self.errors = errors

        answer = http_answer(OrderInvalid(Errors([ErrorDetail("sku", "sold_out")])))
        assert answer.status == 422
        assert answer.body["errors"][0]["pointer"] == "#/sku"

    def test_an_exception_carrying_no_error_is_a_bug_kept_for_the_logs(self) -> None:
        """Carried empty Errors answer 500; the exception is the bug's cause."""

        class Silent(Exception):
            errors = Errors()

        exc = Silent(HIDDEN_TEXT)
        [bug] = Problems().errors_of(exc)
        assert (bug.bucket, bug.cause) == (Bucket.PROGRAMMER_ERROR, exc)
        answer = http_answer(exc)
        assert answer.status == 500
        assert HIDDEN_TEXT not in answer.content.decode()

    def test_a_value_that_classifies_itself_is_answered_as_it_says(self) -> None:
        """A value of the user's own with __outcome_classify__ is classified."""

        class Busy:
            def __outcome_classify__(self, classify: Any, /) -> Decision:
                return Decision(
                    Bucket.USER_VISIBLE, transient=True, kind="busy", retry_after=2.5
                )

        answer = http_answer(Err(Busy()))
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "3"
        assert answer.body["errors"][0]["code"] == "busy"

    @pytest.mark.parametrize("value", ["card declined", 42, None, object()])
    def test_any_other_value_is_a_bug(self, value: object) -> None:
        """An Err of a value nothing says anything about answers 500."""
        answer = http_answer(Err(value))
        assert answer.status == 500
        assert answer.body["errors"][0]["code"] == "internal_error"

    def test_a_value_whose_decision_cannot_become_an_error_is_a_bug(self) -> None:
        """A classifier that raises still gives a 500 with a reference."""

        class Broken(Classifier):
            def classify(self, failure: object) -> Decision:
                raise RuntimeError(HIDDEN_TEXT)

        answer = Problems(classifier=Broken()).answer(Err("declined"))
        assert answer.status == 500
        assert HIDDEN_TEXT not in answer.content.decode()

    def test_an_empty_errors_is_a_bug(self) -> None:
        """Answering a failure with no error in it is a programmer error."""
        answer = http_answer(Errors())
        assert answer.status == 500
        assert answer.body["errors"][0]["reference"].startswith("ERR-")

    def test_an_errors_property_that_raises_is_not_read(self) -> None:
        """An object whose errors attribute raises answers as a bug."""

        class Odd:
            @property
            def errors(self) -> Errors:
                raise RuntimeError(HIDDEN_TEXT)

        answer = http_answer(Odd())
        assert answer.status == 500
        assert HIDDEN_TEXT not in answer.content.decode()

    def test_an_ok_is_refused(self) -> None:
        """Ok is no failure: a TypeError that names it and says what to do."""
        with pytest.raises(
            TypeError, match=r"not Ok\(1\): answer an Ok with its value"
        ):
            http_answer(Ok(1))


class HostileFailure(Exception):
    """An exception whose attributes, other than its class, raise when read."""

    def __init__(self, attributes: dict[str, object]) -> None:
        super().__init__(HIDDEN_TEXT)
        for name, value in attributes.items():
            object.__setattr__(self, name, value)

    def __getattribute__(self, name: str) -> Any:
        if name in {"__class__", "__dict__", "__cause__", "__context__"}:
            return object.__getattribute__(self, name)
        if name.startswith("__") and name not in {"__notes__", "__str__"}:
            return object.__getattribute__(self, name)
        raise RuntimeError(HIDDEN_TEXT)


class TestNeverFailsNorLeaks:
    """The error page never fails, and never shows a programmer error's text."""

    @given(st.dictionaries(attribute_names, junk, max_size=4))
    def test_a_failure_whose_facts_cannot_be_read_gets_a_500(
        self, attributes: dict[str, object]
    ) -> None:
        """Hostile facts give an answer, and a bug among them a reference only."""
        answer = http_answer(HostileFailure(attributes))
        assert 400 <= answer.status <= 599
        content = answer.content.decode()
        assert HIDDEN_TEXT not in content
        if answer.status == 500:
            assert answer.body["errors"][0]["reference"].startswith("ERR-")

    @given(collections_with_bugs())
    def test_no_text_of_a_bug_is_shown(self, errors: Errors) -> None:
        """With a bug among the errors: 500, the bugs' references, nothing else."""
        answer = http_answer(errors)
        bugs = [d for d in errors if d.bucket is Bucket.PROGRAMMER_ERROR]
        if not bugs:
            assert answer.status != 500
            return
        assert answer.status == 500
        assert HIDDEN_TEXT not in answer.content.decode()
        assert [entry.get("reference") for entry in answer.body["errors"]] == [
            bug.reference for bug in bugs
        ]

    def test_a_secret_in_a_raised_bug_stays_hidden(self) -> None:
        """A bug's message, notes and cause never reach the body."""
        answer = http_answer(SecretFailure())
        assert answer.status == 500
        assert HIDDEN_TEXT not in answer.content.decode()
        assert HIDDEN_TEXT not in repr(answer)


def classify_nothing(failure: object) -> None:
    """A function where a Classifier belongs."""


class TestProblems:
    """Options are checked once, where the app is set up."""

    def test_the_catalog_words_the_messages(self) -> None:
        """Messages come from the catalog, as full_messages would give them."""
        problems = Problems(catalog={"blank": "is needed"})
        answer = problems.answer(Errors([ErrorDetail("email", "blank")]))
        assert answer.body["errors"][0]["detail"] == "is needed"

    def test_type_and_instance_are_the_problems_own(self) -> None:
        """type is the answers' problem type; instance is the request's."""
        problems = Problems(type="https://shop.example/problems/checkout")
        answer = problems.answer(ErrorDetail("email", "blank"), instance="/orders/7")
        assert answer.body["type"] == "https://shop.example/problems/checkout"
        assert answer.body["instance"] == "/orders/7"

    def test_content_is_compact_utf8_json(self) -> None:
        """content is the body as UTF-8 JSON, with no padding and no escapes."""
        problems = Problems(catalog={"blank": "ne peut pas être vide"})
        answer = problems.answer(ErrorDetail("email", "blank"))
        assert json.loads(answer.content) == answer.body
        assert "être".encode() in answer.content
        assert b", " not in answer.content

    def test_a_lone_surrogate_is_sent_escaped(self) -> None:
        """Text UTF-8 cannot hold is escaped in the JSON, not an error."""
        problems = Problems(catalog={"invalid": "is \ud800 wrong"})
        answer = problems.answer(ErrorDetail("name", "invalid"))
        assert b"\\ud800" in answer.content
        assert json.loads(answer.content) == answer.body

    def test_repr_shows_the_options(self) -> None:
        """The repr shows the map and type, not the catalog's text."""
        problems = Problems(statuses={"sold_out": 409}, catalog={"x": "y"})
        assert repr(problems) == (
            "Problems(statuses={'sold_out': 409}, catalog=..., type='about:blank')"
        )

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            ({"statuses": [("sold_out", 409)]}, TypeError, "statuses must map"),
            ({"statuses": {"": 409}}, TypeError, "keyed by error codes"),
            ({"statuses": {3: 409}}, TypeError, r"not 3"),
            ({"statuses": {"sold_out": "409"}}, TypeError, r"\['sold_out'\].*'409'"),
            ({"statuses": {"sold_out": True}}, TypeError, r"not True \(of type bool\)"),
            ({"statuses": {"sold_out": 600}}, ValueError, r"from 400 to 599, not 600"),
            ({"statuses": {"sold_out": 200}}, ValueError, r"from 400 to 599, not 200"),
            ({"statuses": {"sold_out": 302}}, ValueError, r"from 400 to 599, not 302"),
            ({"catalog": ["blank"]}, TypeError, "catalog must map"),
            ({"catalog": {"blank": 3}}, TypeError, r"maps 'blank' to 3"),
            ({"classifier": classify_nothing}, TypeError, "classifier=Classifier"),
            ({"type": 3}, TypeError, "type as a URI string, not 3"),
        ],
    )
    def test_bad_options_are_refused(
        self, options: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        """Each bad option is an error naming the value and what is wanted."""
        with pytest.raises(error, match=message):
            Problems(**options)

    def test_the_status_map_is_a_copy(self) -> None:
        """Changing the map after set-up changes nothing."""
        statuses = {"sold_out": 409}
        problems = Problems(statuses=statuses)
        statuses["sold_out"] = 418
        assert problems.answer(ErrorDetail("sku", "sold_out")).status == 409


class TestStatusHint:
    """ErrorDetail's status hint: checked, kept, and not part of equality."""

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            ("409", TypeError),
            (True, TypeError),
            (99, ValueError),
            (204, ValueError),
            (302, ValueError),
            (600, ValueError),
        ],
    )
    def test_a_bad_hint_is_refused(
        self, status: object, error: type[Exception]
    ) -> None:
        """A hint that is not an HTTP status is an error naming it."""
        with pytest.raises(error, match=repr(status)):
            ErrorDetail(None, "cancelled", status=status)  # type: ignore[arg-type]

    def test_the_hint_travels_with_the_error(self) -> None:
        """Prefixed, merged, pickled: the hint stays; repr shows it."""
        detail = ErrorDetail("state", "cancelled", status=409)
        assert detail.with_prefix("order").status == 409
        merged = Errors()
        merged.merge(Errors([detail]), prefix="orders[0]")
        assert next(iter(merged)).status == 409
        assert next(iter(merged.subtree("orders[0]"))).status == 409
        assert pickle.loads(pickle.dumps(detail)).status == 409  # noqa: S301 - our own
        assert "status=409" in repr(detail)

    def test_the_hint_is_not_part_of_equality(self) -> None:
        """Two errors that differ only in their hint are the same error."""
        assert ErrorDetail(None, "x", status=409) == ErrorDetail(None, "x")
        assert ErrorDetail(None, "x").status is None
