"""Tests for sagas: Step, Saga and SagaFailure, and what run does."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import gc
import json
import pickle
import warnings
from collections.abc import Generator
from contextlib import nullcontext

import attrs
import pytest

from outcome import (
    DEFAULT_CLASSIFIER,
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Retrying,
    RetryPolicy,
    Saga,
    SagaFailure,
    Step,
)
from tests.saga_doubles import (
    CLASSIFIER,
    CTX,
    NO_UNDO,
    Declined,
    Flaky,
    GatewayDown,
    Journal,
    declined,
    failure_of,
    run_async,
    still_held,
)


def bug_of(exception: Exception) -> Ok[int]:
    """An action that raises `exception`."""
    raise exception


def said(errors: Errors) -> list[tuple[object, ...]]:
    """What errors say, params aside: path, code, bucket and cause of each."""
    return [
        (detail.path, detail.code, detail.bucket, detail.cause) for detail in errors
    ]


# Construction ---------------------------------------------------------------


class TestStep:
    """A Step checks what it is given, and is a frozen value."""

    def test_fields(self) -> None:
        """The fields are kept as given; the optional ones default to None."""

        def action(_ctx: object) -> Ok[int]:
            return Ok(1)

        step = Step("reserve", action)
        assert (step.name, step.action) == ("reserve", action)
        assert step.compensate is None
        assert step.compensate_failed is None
        assert step.retry_policy is None

    def test_frozen(self) -> None:
        """A step cannot be changed once made."""
        step = Step("reserve", lambda ctx: Ok(1))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            step.name = "other"  # type: ignore[misc]

    @pytest.mark.parametrize("name", ["", 3, None, b"reserve"])
    def test_name_must_be_non_empty_str(self, name: object) -> None:
        """An empty or non-str name is a TypeError showing it."""
        with pytest.raises(TypeError, match=r"non-empty str name, not") as raised:
            Step(name, lambda ctx: Ok(1))  # type: ignore[arg-type]
        assert repr(name) in str(raised.value)

    def test_str_subclass_name_refused(self) -> None:
        """A str subclass is refused too: names are plain keys."""

        class Name(str):
            __slots__ = ()

        with pytest.raises(TypeError, match=r"non-empty str name"):
            Step(Name("reserve"), lambda ctx: Ok(1))

    def test_action_must_be_callable(self) -> None:
        """A non-callable action is a TypeError naming the step and the value."""
        with pytest.raises(
            TypeError,
            match=r"step 'reserve': action must be callable, not 42 \(of type int\)",
        ):
            Step("reserve", 42)  # type: ignore[arg-type]

    def test_action_result_instead_of_function(self) -> None:
        """Passing the action's result, not the action, names that value."""
        with pytest.raises(TypeError, match=r"action must be callable, not Ok\(1\)"):
            Step("reserve", Ok(1))  # type: ignore[arg-type]

    def test_compensate_must_be_callable(self) -> None:
        """A non-callable compensation is a TypeError naming step and value."""
        with pytest.raises(
            TypeError,
            match=r"step 'reserve': compensate must be callable, not 'undo'",
        ):
            Step("reserve", lambda ctx: Ok(1), "undo")  # type: ignore[arg-type]

    def test_compensate_failed_must_be_callable(self) -> None:
        """A non-callable compensate_failed is a TypeError naming step and value."""
        with pytest.raises(
            TypeError,
            match=r"step 'enqueue': compensate_failed must be callable, not 0",
        ):
            Step("enqueue", lambda ctx: Ok(1), compensate_failed=0)  # type: ignore[arg-type]

    @pytest.mark.parametrize("policy", [3, {"attempts": 3}, RetryPolicy])
    def test_retry_policy_must_be_a_policy(self, policy: object) -> None:
        """retry_policy must be a RetryPolicy value; anything else names the step."""
        with pytest.raises(
            TypeError, match=r"step 'charge': retry_policy must be a RetryPolicy, not"
        ):
            Step("charge", lambda ctx: Ok(1), retry_policy=policy)  # type: ignore[arg-type]

    def test_keyword_only_options(self) -> None:
        """compensate_failed and retry_policy are keyword-only."""
        with pytest.raises(TypeError):
            Step("a", lambda ctx: Ok(1), None, None)  # type: ignore[misc]

    def test_equality(self) -> None:
        """Steps with the same fields are equal."""

        def action(_ctx: object) -> Ok[int]:
            return Ok(1)

        assert Step("a", action) == Step("a", action)
        assert Step("a", action) != Step("b", action)

    def test_read_log_from_a_run(self) -> None:
        """A step reads its own log back from the logs of a run."""
        reserve = Step("reserve", lambda ctx: Ok("hold-1"))
        charge = Step("charge", lambda ctx: Ok(42))
        logs = Saga([reserve, charge]).run(CTX).unwrap()
        assert (reserve.read_log(logs), charge.read_log(logs)) == ("hold-1", 42)

    def test_read_log_of_another_saga(self) -> None:
        """Reading logs without the step's is a KeyError naming the step."""
        with pytest.raises(KeyError, match=r"no log for step 'reserve' among \['a'\]"):
            Step("reserve", lambda ctx: Ok(1)).read_log({"a": 1})


class TestSagaConstruction:
    """A Saga checks its steps when it is made."""

    def test_keeps_steps_in_order(self) -> None:
        """The steps are kept as a tuple, in the order given."""
        journal = Journal()
        steps = [journal.step("a"), journal.step("b")]
        assert Saga(steps).steps == tuple(steps)

    def test_default_classifier(self) -> None:
        """Without a classifier, DEFAULT_CLASSIFIER decides."""
        assert Saga([]).classifier is DEFAULT_CLASSIFIER
        classifier = Classifier()
        assert Saga([], classifier=classifier).classifier is classifier

    def test_duplicate_names(self) -> None:
        """Two steps with one name are a ValueError naming it."""
        journal = Journal()
        with pytest.raises(
            ValueError, match=r"two steps are named 'charge'; step names must be"
        ):
            Saga([journal.step("charge"), journal.step("ship"), journal.step("charge")])

    @pytest.mark.parametrize(
        ("item", "shown"),
        [
            (lambda ctx: Ok(1), "<function"),
            (None, "None"),
            (("a", print), "('a', <built-in function print>)"),
        ],
    )
    def test_not_a_step(self, item: object, shown: str) -> None:
        """An item that is not a Step is a TypeError giving its index and value."""
        journal = Journal()
        with pytest.raises(TypeError) as raised:
            Saga([journal.step("a"), item])  # type: ignore[list-item]
        message = str(raised.value)
        assert "item 1 is " + shown in message
        assert "write Step(name, action, compensate)" in message

    def test_empty_saga(self) -> None:
        """A saga without steps succeeds with no logs."""
        journal = Journal()
        assert journal.saga([]).run(CTX) == Ok({})
        assert run_async(journal.saga([])) == Ok({})
        assert journal.events == []

    def test_steps_from_a_generator(self) -> None:
        """Steps given by a generator are all kept."""
        journal = Journal()
        saga = Saga(journal.step(name) for name in ("a", "b"))  # type: ignore[arg-type]
        assert [step.name for step in saga.steps] == ["a", "b"]
        assert saga.run(CTX) == Ok({"a": "a", "b": "b"})


# Running ----------------------------------------------------------------------


class TestSuccess:
    """When every step succeeds, nothing is undone and every log is returned."""

    def test_logs_by_name_in_order(self) -> None:
        """Ok(logs) holds each step's log under its name, in step order."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", Ok("hold-1")),
                journal.step("charge", Ok({"charge": 7})),
                journal.step("ship", Ok(None)),
            ]
        )
        result = saga.run(CTX)
        assert result == Ok(
            {"reserve": "hold-1", "charge": {"charge": 7}, "ship": None}
        )
        assert list(result.unwrap()) == ["reserve", "charge", "ship"]

    def test_no_compensation(self) -> None:
        """No compensation and no failure hook run when all steps succeed."""
        journal = Journal()
        saga = journal.saga([journal.step("a", undo_failed=[None]), journal.step("b")])
        saga.run(CTX)
        assert journal.called("undo") == []
        assert journal.called("undo_failed") == []
        assert journal.called("on_compensated") == []
        assert journal.failures == []

    def test_each_action_once_with_ctx(self) -> None:
        """Each action runs once, in order, with the very ctx given."""
        journal = Journal()
        ctx = {"order": "B-2"}
        journal.saga([journal.step("a"), journal.step("b")]).run(ctx)
        assert journal.called("action") == ["a", "b"]
        assert all(seen is ctx for seen in journal.contexts)

    def test_on_step_after_each(self) -> None:
        """on_step is called with the name and log right after each step."""
        journal = Journal()
        journal.saga([journal.step("a", Ok(1)), journal.step("b", Ok(2))]).run(CTX)
        assert journal.events == [
            ("action", "a"),
            ("on_step", "a", 1),
            ("action", "b"),
            ("on_step", "b", 2),
        ]

    def test_runs_again(self) -> None:
        """A saga keeps no state between runs."""
        journal = Journal()
        saga = journal.saga([journal.step("a", Err(declined()), Ok(1))])
        assert failure_of(saga.run(CTX)).step == "a"
        assert saga.run(CTX) == Ok({"a": 1})

    def test_steps_without_compensation(self) -> None:
        """Steps need no compensation to succeed."""
        journal = Journal()
        saga = journal.saga([journal.step("a", undo=NO_UNDO)])
        assert saga.run(CTX) == Ok({"a": "a"})


class TestCompensation:
    """On failure, the completed steps are undone, newest first, once each."""

    def test_reverse_order_with_own_log(self) -> None:
        """Completed steps are compensated in reverse, each with its own log."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", Ok("hold-1")),
                journal.step("charge", Ok("charge-1")),
                journal.step("invoice", Ok("inv-1")),
                journal.step("ship", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        undone = [event for event in journal.events if event[0] == "undo"]
        assert undone == [
            ("undo", "invoice", "inv-1"),
            ("undo", "charge", "charge-1"),
            ("undo", "reserve", "hold-1"),
        ]
        assert failure.compensated == ("invoice", "charge", "reserve")
        assert failure.stuck == ()

    def test_compensation_gets_ctx(self) -> None:
        """Compensations are called with the ctx the saga ran with."""
        journal = Journal()
        ctx = {"order": "C-3"}
        journal.saga([journal.step("a"), journal.step("b", Err(declined()))]).run(ctx)
        assert journal.contexts == [ctx, ctx, ctx]
        assert all(seen is ctx for seen in journal.contexts)

    def test_later_steps_never_touched(self) -> None:
        """Steps after the failing one run neither action nor compensation."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", Err(declined())),
                journal.step("c", undo_failed=[None]),
                journal.step("d"),
            ]
        )
        saga.run(CTX)
        assert journal.called("action") == ["a", "b"]
        assert journal.called("undo") == ["a"]
        assert "c" not in journal.called("undo_failed")

    def test_failing_step_not_compensated(self) -> None:
        """The step that failed is not compensated: it did not complete."""
        journal = Journal()
        saga = journal.saga([journal.step("a"), journal.step("b", Err(declined()))])
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["a"]
        assert failure.compensated == ("a",)

    def test_first_step_fails(self) -> None:
        """When the first step fails there is nothing to undo."""
        journal = Journal()
        saga = journal.saga([journal.step("a", Err(declined())), journal.step("b")])
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == []
        assert (failure.step, failure.compensated, failure.stuck) == ("a", (), ())

    def test_compensate_failed_called_with_ctx(self) -> None:
        """A step that opted in is compensated with ctx only, before the others."""
        journal = Journal()
        ctx = {"order": "D-4"}
        saga = journal.saga(
            [
                journal.step("mark_processing", Ok("pending")),
                journal.step("enqueue", Err(declined()), undo_failed=[None]),
            ]
        )
        failure = failure_of(saga.run(ctx))
        assert journal.events[2:] == [
            ("action", "enqueue"),
            ("undo_failed", "enqueue"),
            ("on_compensated", "enqueue"),
            ("undo", "mark_processing", "pending"),
            ("on_compensated", "mark_processing"),
            ("on_failure", "enqueue"),
        ]
        assert journal.contexts[-2] is ctx
        assert failure.compensated == ("enqueue", "mark_processing")
        assert journal.called("undo") == ["mark_processing"]  # not its compensate

    def test_compensate_failed_not_used_on_success(self) -> None:
        """compensate_failed is not called for a step that completed."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a", undo_failed=[None]), journal.step("b", Err(declined()))]
        )
        saga.run(CTX)
        assert journal.called("undo_failed") == []
        assert journal.called("undo") == ["a"]

    @pytest.mark.parametrize("outcome", [Err(still_held()), GatewayDown("queue")])
    def test_compensate_failed_can_fail(self, outcome: object) -> None:
        """A compensate_failed that fails makes its step stuck."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", Err(declined()), undo_failed=[outcome]),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.stuck == ("b",)
        assert failure.compensated == ("a",)

    def test_step_without_compensation_skipped(self) -> None:
        """A completed step without compensation is neither undone nor stuck."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("notify", undo=NO_UNDO),
                journal.step("c", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["a"]
        assert failure.compensated == ("a",)
        assert failure.stuck == ()

    @pytest.mark.parametrize("value", [None, Ok(None), Ok("refund-9"), "refund-9", 0])
    def test_anything_but_err_is_undone(self, value: object) -> None:
        """A compensation returning None, an Ok or another value counts as done."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a", undo=[value]), journal.step("b", Err(declined()))]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.compensated == ("a",)
        assert failure.stuck == ()

    def test_compensated_at_most_once(self) -> None:
        """Each completed step's compensation is called exactly once."""
        journal = Journal()
        names = [f"s{index}" for index in range(6)]
        saga = journal.saga(
            [journal.step(name) for name in names]
            + [journal.step("last", Err(declined()))]
        )
        saga.run(CTX)
        assert journal.called("undo") == names[::-1]


class TestStuck:
    """A compensation that fails does not stop the others and is reported."""

    def test_err_does_not_stop_the_others(self) -> None:
        """A compensation returning Err is stuck; the older steps are still undone."""
        journal = Journal()
        errors = still_held()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(errors)]),
                journal.step("c"),
                journal.step("d", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["c", "b", "a"]
        assert failure.compensated == ("c", "a")
        assert failure.stuck == ("b",)
        assert said(failure.compensation_errors["b"]) == said(errors)
        [(name, reported)] = journal.stuck_reports
        assert name == "b"
        assert reported is failure.compensation_errors["b"]

    @pytest.mark.parametrize(
        ("exception", "code", "bucket"),
        [
            (GatewayDown("queue"), "unavailable", Bucket.USER_VISIBLE),
            (Declined("card"), "declined", Bucket.USER_FIXABLE),
            (KeyError("order_id"), "bug", Bucket.PROGRAMMER_ERROR),
        ],
    )
    def test_raise_does_not_stop_the_others(
        self, exception: Exception, code: str, bucket: Bucket
    ) -> None:
        """A compensation that raises is stuck, classified; the others go on."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[exception]),
                journal.step("c", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["b", "a"]
        assert failure.stuck == ("b",)
        assert failure.compensated == ("a",)
        [detail] = failure.compensation_errors["b"]
        assert (detail.code, detail.bucket) == (code, bucket)
        assert detail.cause is exception

    def test_compensation_classified_on_its_own(self) -> None:
        """A compensation's bug is a bug, whatever the failing step raised."""
        journal = Journal()
        bug = KeyError("order_id")
        saga = journal.saga(
            [
                journal.step("a", undo=[bug]),
                journal.step("b", Declined("card")),
            ]
        )
        failure = failure_of(saga.run(CTX))
        [detail] = failure.compensation_errors["a"]
        assert (detail.code, detail.bucket) == ("bug", Bucket.PROGRAMMER_ERROR)
        assert bug.__context__ is None  # not chained to the step's exception
        assert failure.errors.to_problem_details()["status"] == 500

    def test_every_failure_collected(self) -> None:
        """Several stuck steps are all reported, in the order they were tried."""
        journal = Journal()
        first, second = still_held(), Errors([ErrorDetail(None, "refund_failed")])
        saga = journal.saga(
            [
                journal.step("a", undo=[Err(first)]),
                journal.step("b"),
                journal.step("c", undo=[Err(second)]),
                journal.step("d", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.stuck == ("c", "a")
        assert failure.compensated == ("b",)
        assert list(failure.compensation_errors) == ["c", "a"]
        assert said(failure.compensation_errors["c"]) == said(second)
        assert said(failure.compensation_errors["a"]) == said(first)
        assert [name for name, _ in journal.stuck_reports] == ["c", "a"]

    def test_hooks_in_order(self) -> None:
        """on_compensated and on_stuck fire as each compensation ends."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", Err(declined())),
            ]
        )
        saga.run(CTX)
        assert journal.events[5:] == [
            ("undo", "b", "b"),
            ("on_stuck", "b"),
            ("undo", "a", "a"),
            ("on_compensated", "a"),
            ("on_failure", "c"),
        ]

    def test_err_of_exception(self) -> None:
        """A compensation returning Err(exception) is classified like a raise."""
        journal = Journal()
        exception = GatewayDown("queue")
        saga = journal.saga(
            [
                journal.step("a", undo=[Err(exception)]),
                journal.step("b", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        [detail] = failure.compensation_errors["a"]
        assert (detail.code, detail.cause) == ("unavailable", exception)

    def test_compensation_errors_read_only(self) -> None:
        """compensation_errors cannot be changed."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", undo=[Err(still_held())]),
                journal.step("b", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        with pytest.raises(TypeError):
            failure.compensation_errors["x"] = Errors()  # type: ignore[index]

    def test_raising_on_stuck_does_not_stop_compensation(self) -> None:
        """When on_stuck raises, older steps are still undone, then it propagates."""
        undone: list[object] = []

        def page_support(_name: str, _errors: Errors) -> None:
            raise ConnectionError("pager down")

        def release(_ctx: object, log: object) -> None:
            undone.append(log)

        def refund(_ctx: object, log: object) -> None:
            raise GatewayDown(log)

        saga = Saga(
            [
                Step("reserve", lambda ctx: Ok("hold-1"), release),
                Step("pay", lambda ctx: Ok("pay-1"), refund),
                Step("ship", lambda ctx: Err(declined())),
            ],
            classifier=CLASSIFIER,
            on_stuck=page_support,
        )
        with pytest.raises(ConnectionError) as raised:
            saga.run(CTX)
        assert undone == ["hold-1"]
        assert "saga step 'ship' failed" in "\n".join(raised.value.__notes__)

    def test_raising_hooks_first_one_propagates(self) -> None:
        """When hooks raise several times, every step is undone, the first raises."""
        journal = Journal()
        raised: list[Exception] = []

        def page_support(name: str, errors: Errors) -> None:
            journal.on_stuck(name, errors)
            raised.append(ConnectionError(name))
            raise raised[-1]

        saga = Saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", undo=[Err(still_held())]),
                journal.step("d", Err(declined())),
            ],
            classifier=CLASSIFIER,
            on_stuck=page_support,
        )
        with pytest.raises(ConnectionError) as info:
            saga.run(CTX)
        assert info.value is raised[0]
        assert journal.called("undo") == ["c", "b", "a"]
        assert journal.called("on_stuck") == ["c", "b"]

    def test_raising_hook_and_programmer_error(self) -> None:
        """With a bug in the step and in a hook, the step's bug is raised, noted."""
        journal = Journal()
        bug = KeyError("sku")

        def page_support(_name: str, _errors: Errors) -> None:
            raise ConnectionError("pager down")

        saga = Saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", bug),
            ],
            classifier=CLASSIFIER,
            on_stuck=page_support,
        )
        with pytest.raises(KeyError) as info:
            saga.run(CTX)
        assert info.value is bug
        assert journal.called("undo") == ["b", "a"]
        assert bug.__notes__[0] == (
            "saga step 'c' failed; compensated: 'a'; could not compensate: 'b'"
        )
        assert "pager down" in bug.__notes__[1]


class TestOriginalErrors:
    """The failing step's errors are kept exactly, and never hidden."""

    def test_original_is_the_steps_errors(self) -> None:
        """failure.original is the very Errors the step returned."""
        journal = Journal()
        errors = declined()
        saga = journal.saga([journal.step("a"), journal.step("charge", Err(errors))])
        failure = failure_of(saga.run(CTX))
        assert failure.step == "charge"
        assert failure.original is errors
        assert failure.cause is None

    def test_original_kept_when_compensation_fails(self) -> None:
        """A failing compensation does not replace the original errors."""
        journal = Journal()
        errors = declined()
        saga = journal.saga(
            [
                journal.step("a", undo=[KeyError("boom")]),
                journal.step("charge", Err(errors)),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.original is errors
        assert failure.original == declined()

    def test_errors_merges_original_first(self) -> None:
        """failure.errors holds the original errors, then each stuck step's."""
        journal = Journal()
        original = declined()
        first = still_held()
        second = Errors([ErrorDetail(None, "refund_failed")])
        saga = journal.saga(
            [
                journal.step("a", undo=[Err(second)]),
                journal.step("b", undo=[Err(first)]),
                journal.step("c", Err(original)),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.errors.codes() == ["declined", "still_held", "refund_failed"]
        assert failure.original == declined()  # merging copied it

    def test_same_error_twice_not_merged_away(self) -> None:
        """An undo that fails with the step's very error is still in errors."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", undo=[Err(declined())]),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        [_, undo] = failure.errors
        assert undo.code == "declined"
        assert undo.params["compensating"] == "reserve"

    def test_reference_shown_is_the_one_reported(self) -> None:
        """A stuck step's bug shows users the reference on_stuck was given."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", undo=[KeyError("hold 7")]),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        [(_, reported)] = journal.stuck_reports
        references = [detail.reference for detail in reported]
        problem = failure.errors.to_problem_details()
        shown = [entry.get("reference") for entry in problem["errors"]]  # type: ignore[attr-defined]
        assert shown == [None, *references]
        kept = failure.compensation_errors["reserve"]
        assert [detail.reference for detail in kept] == references

    def test_errors_is_a_copy(self) -> None:
        """Changing failure.errors leaves the original alone."""
        failure = SagaFailure("a", declined())
        failure.errors.add(None, "extra")
        assert failure.original.codes() == ["declined"]

    def test_programmer_error_compensation_redacted(self) -> None:
        """A bug in a compensation reaches problem details without its text."""
        journal = Journal()
        leaked = "SELECT card_number FROM cards WHERE owner='alice' -- /srv/app/db.py"
        saga = journal.saga(
            [
                journal.step("reserve", undo=[KeyError(leaked)]),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        problem = failure.errors.to_problem_details()
        text = json.dumps(problem)
        for fragment in ("SELECT", "card_number", "alice", "/srv", "KeyError"):
            assert fragment not in text
        first, second = problem["errors"]  # type: ignore[misc]
        assert first == {
            "detail": "was declined",
            "pointer": "#/card",
            "code": "declined",
        }
        assert second["code"] == "internal_error"
        assert second["reference"].startswith("ERR-")
        assert problem["status"] == 500
        # The text is kept for the logs, in the cause.
        [detail] = failure.compensation_errors["reserve"]
        assert detail.cause is not None
        assert leaked in str(detail.cause)

    def test_err_of_error_detail(self) -> None:
        """An Err holding one ErrorDetail becomes an Errors of it."""
        journal = Journal()
        detail = ErrorDetail("card", "expired")
        saga = journal.saga([journal.step("charge", Err(detail))])
        assert list(failure_of(saga.run(CTX)).original) == [detail]

    def test_err_of_exception(self) -> None:
        """An Err holding an exception is classified, the exception kept as cause."""
        journal = Journal()
        exception = GatewayDown("psp")
        saga = journal.saga([journal.step("charge", Err(exception))])
        failure = failure_of(saga.run(CTX))
        [detail] = failure.original
        assert (detail.code, detail.bucket, detail.cause) == (
            "unavailable",
            Bucket.USER_VISIBLE,
            exception,
        )
        assert failure.cause is None  # nothing was raised

    def test_err_of_other_value(self) -> None:
        """An Err holding another value is a generic step_failed error."""
        journal = Journal()
        saga = journal.saga([journal.step("charge", Err("card declined"))])
        [detail] = failure_of(saga.run(CTX)).original
        assert (detail.code, dict(detail.params)) == ("step_failed", {"step": "charge"})
        assert detail.bucket is Bucket.PROGRAMMER_ERROR  # unknown: a bug

    @pytest.mark.parametrize("runner", ["run", "run_async"])
    def test_empty_errors_from_an_action_are_reported(self, runner: str) -> None:
        """An action's Err(Errors()) becomes a step_failed error naming the step."""
        journal = Journal()
        saga = journal.saga([journal.step("a"), journal.step("charge", Err(Errors()))])
        result = saga.run(CTX) if runner == "run" else run_async(saga)
        failure = failure_of(result)
        [detail] = failure.original
        assert (detail.code, dict(detail.params)) == ("step_failed", {"step": "charge"})
        assert detail.bucket is CLASSIFIER.classify(Errors()).bucket
        assert failure.compensated == ("a",)
        problem = failure.errors.to_problem_details()
        assert [error["code"] for error in problem["errors"]] == ["step_failed"]  # type: ignore[index, union-attr]

    def test_empty_errors_bucket_is_the_classifiers(self) -> None:
        """The bucket of the error an empty Errors becomes is the classifier's."""

        class Strict(Classifier):
            def classify(self, failure: object) -> Decision:
                if type(failure) is Errors and not failure:
                    return Decision(Bucket.PROGRAMMER_ERROR, False, "bug")
                return super().classify(failure)

        saga = Saga([Step("charge", lambda ctx: Err(Errors()))], classifier=Strict())
        [detail] = failure_of(saga.run(CTX)).original
        assert detail.bucket is Bucket.PROGRAMMER_ERROR

    @pytest.mark.parametrize("runner", ["run", "run_async"])
    def test_empty_errors_from_a_compensation_are_reported(self, runner: str) -> None:
        """A compensation's Err(Errors()) leaves a stuck step the report names."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", undo=[Err(Errors())]),
                journal.step("charge", Err(declined())),
            ]
        )
        result = saga.run(CTX) if runner == "run" else run_async(saga)
        failure = failure_of(result)
        assert failure.stuck == ("reserve",)
        [detail] = failure.compensation_errors["reserve"]
        assert (detail.code, dict(detail.params)) == (
            "compensation_failed",
            {"compensating": "reserve"},
        )
        assert failure.errors.codes() == ["declined", "compensation_failed"]
        [(name, reported)] = journal.stuck_reports
        assert (name, reported.codes()) == ("reserve", ["compensation_failed"])

    def test_describe(self) -> None:
        """describe() says what failed, what was undone and what was not."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c"),
                journal.step("d", Err(declined())),
            ]
        )
        assert failure_of(saga.run(CTX)).describe() == (
            "saga step 'd' failed; compensated: 'c', 'a'; could not compensate: 'b'"
        )


class TestExceptions:
    """Exceptions are classified: retried, returned as Err, or re-raised."""

    @pytest.mark.parametrize(
        ("exception", "code", "bucket"),
        [
            (Declined("card"), "declined", Bucket.USER_FIXABLE),
            (GatewayDown("psp"), "unavailable", Bucket.USER_VISIBLE),
        ],
    )
    def test_user_failure_becomes_err(
        self, exception: Exception, code: str, bucket: Bucket
    ) -> None:
        """A user-fixable or user-visible exception becomes Err with its cause."""
        journal = Journal()
        saga = journal.saga([journal.step("a"), journal.step("charge", exception)])
        failure = failure_of(saga.run(CTX))
        assert failure.cause is exception
        assert failure.step == "charge"
        [detail] = failure.original
        assert (detail.code, detail.bucket, detail.cause) == (code, bucket, exception)
        assert failure.compensated == ("a",)
        assert not hasattr(exception, "__notes__")

    def test_programmer_error_reraised_after_compensating(self) -> None:
        """A KeyError compensates, then the same exception is raised with a note."""
        journal = Journal()
        bug = KeyError("sku")
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", bug),
                journal.step("d"),
            ]
        )
        with pytest.raises(KeyError) as raised:
            saga.run(CTX)
        assert raised.value is bug
        assert journal.called("undo") == ["b", "a"]
        assert journal.called("action") == ["a", "b", "c"]
        assert bug.__notes__ == [
            "saga step 'c' failed; compensated: 'a'; could not compensate: 'b'"
        ]

    def test_programmer_error_carries_the_saga_failure(self) -> None:
        """A re-raised bug carries the SagaFailure: stuck steps stay reachable."""
        journal = Journal()
        bug = KeyError("sku")
        saga = journal.saga(
            [journal.step("a", undo=[Err(still_held())]), journal.step("b", bug)]
        )
        with pytest.raises(KeyError):
            saga.run(CTX)
        failure = bug.saga_failure  # type: ignore[attr-defined]
        assert isinstance(failure, SagaFailure)
        assert (failure.step, failure.stuck, failure.cause) == ("b", ("a",), bug)
        assert journal.failures == [failure]

    def test_programmer_error_reported_once(self) -> None:
        """on_failure sees the programmer error's failure, once, before the raise."""
        journal = Journal()
        bug = KeyError("sku")
        saga = journal.saga([journal.step("a"), journal.step("b", bug)])
        with pytest.raises(KeyError):
            saga.run(CTX)
        [failure] = journal.failures
        assert failure.cause is bug
        assert failure.compensated == ("a",)
        [detail] = failure.original
        assert (detail.code, detail.bucket) == ("bug", Bucket.PROGRAMMER_ERROR)
        assert journal.events[-1] == ("on_failure", "b")

    def test_programmer_error_with_compensate_failed(self) -> None:
        """A step that opted in is compensated after a bug too; the note says so."""
        journal = Journal()
        saga = journal.saga([journal.step("a", KeyError("x"), undo_failed=[None])])
        with pytest.raises(KeyError) as raised:
            saga.run(CTX)
        assert raised.value.__notes__ == [
            "saga step 'a' failed; compensated: 'a'; could not compensate: none"
        ]

    def test_programmer_error_traceback_kept(self) -> None:
        """The re-raised exception still points at the line that raised it."""

        def action(_ctx: object) -> Ok[int]:
            return Ok({}["missing"])

        with pytest.raises(KeyError) as raised:
            Saga([Step("lookup", action)]).run(CTX)
        frames = [entry.name for entry in raised.traceback]
        assert frames[-1] == "action"

    @pytest.mark.parametrize("value", [42, None, "done", (1, 2)])
    def test_non_result_is_type_error(self, value: object) -> None:
        """An action returning a non-Result is a TypeError naming step and value."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a"), journal.step("b"), journal.step("c", value)]
        )
        with pytest.raises(TypeError) as raised:
            saga.run(CTX)
        message = str(raised.value)
        assert "step 'c': its action must return Ok(log) or Err(errors)" in message
        assert f"returned {value!r} (of type {type(value).__name__})" in message
        assert "wrap the value in Ok(...)" in message
        assert journal.called("undo") == ["b", "a"]
        assert raised.value.__notes__ == [
            "saga step 'c' failed; compensated: 'b', 'a'; could not compensate: none"
        ]

    def test_non_result_with_retry_policy(self) -> None:
        """A step that retries and returns a non-Result is the same TypeError, once."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", 42, retry_policy=RetryPolicy(attempts=3)),
            ]
        )
        with pytest.raises(TypeError, match=r"step 'b': its action must return .* 42"):
            saga.run(CTX)
        assert journal.called("action") == ["a", "b"]  # a bug: not retried
        assert journal.called("undo") == ["a"]

    def test_foreign_result_is_type_error(self) -> None:
        """An Ok of another library (a different class) is not a Result here."""

        @attrs.frozen
        class Ok:
            value: int

        saga = Saga([Step("a", lambda ctx: Ok(1))])  # type: ignore[arg-type,return-value]
        with pytest.raises(TypeError, match=r"returned .*Ok\(value=1\)"):
            saga.run(CTX)

    def test_async_action_under_run(self) -> None:
        """An async action given to run is a TypeError naming run_async, no warning."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a"), Step("pay", journal.async_action("pay", Ok(1)))]
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(TypeError) as raised:
                saga.run(CTX)
            gc.collect()
        assert str(raised.value) == (
            "step 'pay': its action is async; run the saga with "
            "`await saga.run_async(ctx)`"
        )
        assert caught == []
        assert journal.called("action") == ["a"]  # the coroutine never ran
        assert journal.called("undo") == ["a"]

    def test_other_awaitable_under_run(self) -> None:
        """An action returning another kind of awaitable is refused by run too."""

        class Later:
            def __await__(self) -> Generator[None, None, Ok[int]]:
                yield
                return Ok(1)

        saga = Saga([Step("later", lambda _ctx: Later())])  # type: ignore[arg-type,return-value]
        with pytest.raises(TypeError, match=r"step 'later': its action is async"):
            saga.run(CTX)
        assert run_async(saga) == Ok({"later": 1})

    def test_async_compensation_under_run(self) -> None:
        """An async compensation under run is stuck, not reported done; no warning."""
        journal = Journal()
        saga = journal.saga(
            [
                Step("a", journal.action("a", Ok(1)), journal.async_undo("a")),
                journal.step("b", Err(declined())),
            ]
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            failure = failure_of(saga.run(CTX))
            gc.collect()
        assert [str(warning.message) for warning in caught] == []
        assert failure.compensated == ()
        assert failure.stuck == ("a",)
        [detail] = failure.compensation_errors["a"]
        assert "run_async" in str(detail.cause)

    def test_other_awaitable_compensation_under_run(self) -> None:
        """A compensation returning another kind of awaitable is stuck under run."""

        class Later:
            def __await__(self) -> Generator[None, None, None]:
                yield

        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), lambda _ctx, _log: Later()),
                Step("b", lambda _ctx: Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.stuck == ("a",)
        [detail] = failure.compensation_errors["a"]
        assert "step 'a': its compensation is async" in str(detail.cause)

    @pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
    def test_interrupt_propagates_uncompensated(
        self, interrupt: type[BaseException]
    ) -> None:
        """KeyboardInterrupt and SystemExit from an action propagate, nothing undone."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a"), journal.step("b", interrupt(), undo_failed=[None])]
        )
        with pytest.raises(interrupt):
            saga.run(CTX)
        assert journal.called("undo") == []
        assert journal.called("undo_failed") == []
        assert journal.failures == []

    def test_interrupt_in_compensation_propagates(self) -> None:
        """A KeyboardInterrupt in a compensation propagates; older steps stay done."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[KeyboardInterrupt()]),
                journal.step("c", Err(declined())),
            ]
        )
        with pytest.raises(KeyboardInterrupt):
            saga.run(CTX)
        assert journal.called("undo") == ["b"]
        assert journal.failures == []


class TestRetry:
    """Transient failures retry the step under its policy, without really waiting."""

    def test_transient_retried_then_succeeds(self) -> None:
        """A registered transient exception is retried; the delays are recorded."""
        journal = Journal()
        policy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=10.0)
        saga = journal.saga(
            [
                journal.step(
                    "charge", Flaky(), Flaky(), Flaky(), Ok("paid"), retry_policy=policy
                )
            ]
        )
        assert saga.run(CTX) == Ok({"charge": "paid"})
        assert journal.called("action") == ["charge"] * 4
        assert journal.sleeps == [0.5, 1.0, 2.0]

    def test_real_timeout_retried(self) -> None:
        """A real TimeoutError is transient for the default classifier."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "charge",
                    TimeoutError("psp"),
                    Ok("paid"),
                    retry_policy=RetryPolicy(attempts=2, base_delay=2.0),
                )
            ],
            classifier=DEFAULT_CLASSIFIER,
        )
        assert saga.run(CTX) == Ok({"charge": "paid"})
        assert journal.sleeps == [1.0]

    def test_transient_err_retried(self) -> None:
        """An Err whose errors all have transient causes is retried too."""
        journal = Journal()
        busy = Errors([ErrorDetail(None, "busy", cause=Flaky())])
        saga = journal.saga(
            [journal.step("charge", Err(busy), Ok("paid"), retry_policy=RetryPolicy())]
        )
        assert saga.run(CTX) == Ok({"charge": "paid"})
        assert len(journal.sleeps) == 1

    def test_gives_up_then_compensates(self) -> None:
        """When attempts run out, the last failure is reported and steps undone."""
        journal = Journal()
        last = Flaky("third")
        saga = journal.saga(
            [
                journal.step("reserve"),
                journal.step(
                    "charge",
                    Flaky("first"),
                    Flaky("second"),
                    last,
                    undo_failed=[None],
                    retry_policy=RetryPolicy(attempts=3, base_delay=1.0),
                ),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.cause is last
        assert failure.original.codes() == ["timeout"]
        assert journal.called("action") == ["reserve", "charge", "charge", "charge"]
        assert journal.called("undo_failed") == ["charge"]  # once, after giving up
        assert failure.compensated == ("charge", "reserve")
        assert journal.sleeps == [0.5, 1.0]

    def test_no_policy_no_retry(self) -> None:
        """Without a policy, a transient failure is not retried."""
        journal = Journal()
        saga = journal.saga([journal.step("charge", Flaky(), Ok("paid"))])
        assert failure_of(saga.run(CTX)).step == "charge"
        assert journal.called("action") == ["charge"]
        assert journal.sleeps == []

    @pytest.mark.parametrize(
        "failure", [Declined("card"), KeyError("sku"), Err(declined())]
    )
    def test_permanent_not_retried(self, failure: object) -> None:
        """A failure that is not transient is not retried, whatever the policy."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "charge", failure, Ok(1), retry_policy=RetryPolicy(attempts=5)
                )
            ]
        )
        with (
            pytest.raises(KeyError) if isinstance(failure, KeyError) else nullcontext()
        ):
            saga.run(CTX)
        assert journal.called("action") == ["charge"]
        assert journal.sleeps == []

    def test_deadline(self) -> None:
        """The policy's deadline stops retrying, by the injected clock."""
        journal = Journal()
        now = [0.0]

        def clock() -> float:
            now[0] += 10.0
            return now[0]

        saga = Saga(
            [
                journal.step(
                    "charge",
                    Flaky(),
                    Ok(1),
                    retry_policy=RetryPolicy(attempts=5, deadline=5.0),
                )
            ],
            classifier=CLASSIFIER,
            retrying=Retrying(sleep=journal.sleeps.append, clock=clock),
        )
        assert failure_of(saga.run(CTX)).step == "charge"
        assert journal.sleeps == []

    def test_compensation_retried(self) -> None:
        """A transient failure of a compensation is retried under its step's policy."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "reserve",
                    undo=[Flaky(), Err(Flaky()), None],
                    retry_policy=RetryPolicy(attempts=3, base_delay=1.0),
                ),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["reserve"] * 3
        assert failure.compensated == ("reserve",)
        assert journal.sleeps == [0.5, 1.0]

    def test_compensation_gives_up(self) -> None:
        """A compensation that keeps failing transiently ends stuck."""
        journal = Journal()
        last = Flaky("last")
        saga = journal.saga(
            [
                journal.step(
                    "reserve",
                    undo=[Flaky(), last],
                    retry_policy=RetryPolicy(attempts=2),
                ),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        assert failure.stuck == ("reserve",)
        [detail] = failure.compensation_errors["reserve"]
        assert detail.cause is last

    def test_compensation_bug_after_timeout_not_retried(self) -> None:
        """A compensation's bug is not retried because the step timed out."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "reserve",
                    undo=[KeyError("hold")],
                    retry_policy=RetryPolicy(attempts=3),
                ),
                journal.step(
                    "charge", TimeoutError("psp"), undo_failed=[KeyError("charge")]
                ),
            ],
            classifier=DEFAULT_CLASSIFIER,
        )
        failure = failure_of(saga.run(CTX))
        assert journal.called("undo") == ["reserve"]
        assert journal.sleeps == []
        assert failure.stuck == ("charge", "reserve")
        for name in failure.stuck:
            [detail] = failure.compensation_errors[name]
            assert (detail.code, detail.bucket) == ("bug", Bucket.PROGRAMMER_ERROR)

    def test_compensate_failed_retried(self) -> None:
        """compensate_failed is retried under the step's policy too."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "enqueue",
                    Err(declined()),
                    undo_failed=[Flaky(), None],
                    retry_policy=RetryPolicy(attempts=2),
                )
            ]
        )
        assert failure_of(saga.run(CTX)).compensated == ("enqueue",)
        assert journal.called("undo_failed") == ["enqueue", "enqueue"]

    def test_default_sleep_not_used(self) -> None:
        """The injected sleep is the one used: nothing really waits."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "a",
                    Flaky(),
                    Ok(1),
                    retry_policy=RetryPolicy(
                        attempts=2, base_delay=1000.0, max_delay=1000.0
                    ),
                )
            ]
        )
        assert saga.run(CTX) == Ok({"a": 1})
        assert journal.sleeps == [500.0]
        assert journal.async_sleeps == []

    def test_retrying_hooks_see_each_step_retry(self) -> None:
        """The saga's Retrying gives its on_retry to every step that retries."""
        journal, retried = Journal(), list[tuple[int, float]]()
        saga = Saga(
            [journal.step("charge", Flaky(), Ok(1), retry_policy=RetryPolicy())],
            classifier=CLASSIFIER,
            retrying=Retrying(
                on_retry=lambda details: retried.append(
                    (details.attempt, details.delay)
                ),
                sleep=journal.sleeps.append,
                random=lambda: 1.0,
            ),
        )
        assert saga.run(CTX) == Ok({"charge": 1})
        assert retried == [(1, 0.5)]

    def test_the_classifier_of_retrying_is_the_sagas(self) -> None:
        """Without classifier=, the Retrying's classifier decides for the saga."""
        saga = Saga(
            [Step("a", lambda ctx: Ok(1))], retrying=Retrying(classifier=CLASSIFIER)
        )
        assert saga.classifier is CLASSIFIER
        assert Saga([Step("a", lambda ctx: Ok(1))]).classifier is DEFAULT_CLASSIFIER

    def test_two_classifiers_are_refused(self) -> None:
        """A classifier given to Saga and another to its Retrying is a ValueError."""
        with pytest.raises(ValueError, match="give the classifier once"):
            Saga(
                [Step("a", lambda ctx: Ok(1))],
                classifier=CLASSIFIER,
                retrying=Retrying(classifier=Classifier()),
            )
        same = Saga(
            [Step("a", lambda ctx: Ok(1))],
            classifier=CLASSIFIER,
            retrying=Retrying(classifier=CLASSIFIER),
        )
        assert same.classifier is CLASSIFIER

    def test_retrying_must_be_a_retrying(self) -> None:
        """Anything else given as retrying= is a TypeError naming it."""
        with pytest.raises(TypeError, match=r"Saga retrying must be a Retrying, not 3"):
            Saga([Step("a", lambda ctx: Ok(1))], retrying=3)  # type: ignore[arg-type]


class TestHooks:
    """The hooks fire with the right arguments, in order."""

    def test_whole_story(self) -> None:
        """Every hook of a failing saga, in the order things happened."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", Ok(1)),
                journal.step("b", Ok(2), undo=[GatewayDown("db")]),
                journal.step("c", Ok(3), undo=NO_UNDO),
                journal.step("d", Err(declined()), undo_failed=[None]),
                journal.step("e"),
            ]
        )
        result = saga.run(CTX)
        assert journal.events == [
            ("action", "a"),
            ("on_step", "a", 1),
            ("action", "b"),
            ("on_step", "b", 2),
            ("action", "c"),
            ("on_step", "c", 3),
            ("action", "d"),
            ("undo_failed", "d"),
            ("on_compensated", "d"),
            ("undo", "b", 2),
            ("on_stuck", "b"),
            ("undo", "a", 1),
            ("on_compensated", "a"),
            ("on_failure", "d"),
        ]
        [failure] = journal.failures
        assert failure is failure_of(result)
        [(name, errors)] = journal.stuck_reports
        assert name == "b"
        assert errors is failure.compensation_errors["b"]

    def test_on_failure_once(self) -> None:
        """on_failure is called once, however many compensations fail."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", undo=[KeyError("a")]),
                journal.step("b", undo=[KeyError("b")]),
                journal.step("c", Declined()),
            ]
        )
        saga.run(CTX)
        assert len(journal.failures) == 1

    def test_hooks_optional(self) -> None:
        """A saga without hooks runs and fails the same way."""
        saga = Saga(
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, log: Err(still_held())),
                Step("b", lambda ctx: Ok(2), lambda ctx, log: None),
                Step("c", lambda ctx: Err(declined())),
            ],
            classifier=CLASSIFIER,
        )
        failure = failure_of(saga.run(CTX))
        assert (failure.compensated, failure.stuck) == (("b",), ("a",))


class TestHooksThatRaise:
    """A hook is the programmer's code: one that raises never stops compensation."""

    def test_on_step_raising_is_reported_as_the_hooks_failure(self) -> None:
        """A raising on_step is the hook's failure; its step completed and is undone."""
        undone: list[str] = []

        def on_step(name: str, _log: object) -> None:
            if name == "b":
                message = "the audit log is down"
                raise KeyError(message)

        saga = Saga(
            [
                Step(
                    name,
                    lambda _ctx: Ok(1),
                    lambda _ctx, _log, n=name: undone.append(n),
                )
                for name in ("a", "b", "c")
            ],
            on_step=on_step,
        )
        with pytest.raises(KeyError, match="audit log") as info:
            saga.run(CTX)
        assert undone == ["b", "a"]
        assert info.value.__notes__ == [
            (
                "saga hook on_step raised after step 'b' completed; "
                "compensated: 'b', 'a'; could not compensate: none"
            )
        ]
        failure = info.value.saga_failure  # type: ignore[attr-defined]
        assert isinstance(failure, SagaFailure)
        assert (failure.step, failure.hook, failure.cause) == (
            "b",
            "on_step",
            info.value,
        )
        assert failure.compensated == ("b", "a")

    def test_on_step_raising_skips_compensate_failed(self) -> None:
        """A step whose on_step raised is compensated, not compensate_failed."""
        journal = Journal()

        def on_step(_name: str, _log: object) -> None:
            raise GatewayDown

        saga = Saga(
            [journal.step("a", undo_failed=[None])],
            classifier=CLASSIFIER,
            on_step=on_step,
        )
        with pytest.raises(GatewayDown):
            saga.run(CTX)
        assert journal.called("undo") == ["a"]
        assert journal.called("undo_failed") == []

    @pytest.mark.parametrize("error", [KeyError, ConnectionError])
    @pytest.mark.parametrize("runner", ["run", "run_async"])
    def test_on_step_raising_anything_is_raised(
        self, error: type[Exception], runner: str
    ) -> None:
        """Whatever a hook raises is raised, not made the step's Err, by either run."""
        undone: list[str] = []

        def on_step(_name: str, _log: object) -> None:
            message = "the audit log is down"
            raise error(message)

        saga = Saga(
            [Step("a", lambda _ctx: Ok(1), lambda _ctx, _log: undone.append("a"))],
            on_step=on_step,
        )

        def run() -> object:
            if runner == "run":
                return saga.run(CTX)
            return asyncio.run(saga.run_async(CTX))

        with pytest.raises(error, match="audit log") as info:
            run()
        assert type(info.value) is error
        assert undone == ["a"]
        assert info.value.__notes__ == [
            (
                "saga hook on_step raised after step 'a' completed; "
                "compensated: 'a'; could not compensate: none"
            )
        ]

    @pytest.mark.parametrize("runner", ["run", "run_async"])
    @pytest.mark.parametrize("hook", ["on_compensated", "on_stuck", "on_failure"])
    def test_a_raising_hook_carries_the_saga_failure(
        self, hook: str, runner: str
    ) -> None:
        """What a hook raised carries the SagaFailure, and a note naming the hook."""
        broken = ConnectionError("pager down")
        seen: list[SagaFailure] = []

        def raising(*arguments: object) -> None:
            seen.extend(a for a in arguments if isinstance(a, SagaFailure))
            raise broken

        journal = Journal()
        saga = Saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", Err(declined())),
            ],
            classifier=CLASSIFIER,
            **{hook: raising},
        )
        with pytest.raises(ConnectionError) as info:
            saga.run(CTX) if runner == "run" else run_async(saga)
        assert info.value is broken
        failure = broken.saga_failure  # type: ignore[attr-defined]
        assert isinstance(failure, SagaFailure)
        assert (failure.step, failure.compensated, failure.stuck) == (
            "c",
            ("a",),
            ("b",),
        )
        assert failure.original.codes() == ["declined"]
        assert failure.hook is None  # the step failed; the hook raised too
        assert broken.__notes__ == [
            (
                f"raised by the saga hook {hook}; saga step 'c' failed; "
                "compensated: 'a'; could not compensate: 'b'"
            )
        ]
        assert seen in ([], [failure])

    def test_every_raising_hook_is_noted(self) -> None:
        """Only one hook's exception can be raised; the others are in its notes."""
        journal = Journal()

        def on_stuck(name: str, _errors: Errors) -> None:
            raise ConnectionError(f"pager down for {name}")

        def on_compensated(name: str) -> None:
            raise KeyError(f"metrics for {name}")

        saga = Saga(
            [
                journal.step("a"),
                journal.step("b", undo=[Err(still_held())]),
                journal.step("c", Err(declined())),
            ],
            classifier=CLASSIFIER,
            on_stuck=on_stuck,
            on_compensated=on_compensated,
        )
        with pytest.raises(ConnectionError, match="pager down for b") as info:
            saga.run(CTX)
        assert info.value.__notes__[1:] == [
            "the saga hook on_compensated raised too: KeyError('metrics for a')"
        ]

    def test_the_same_exception_from_two_hooks_noted_once(self) -> None:
        """A hook that raises one exception twice gets no 'raised too' note."""
        broken = ConnectionError("metrics down")

        def on_compensated(_name: str) -> None:
            raise broken

        saga = Saga(
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, log: None),
                Step("b", lambda ctx: Ok(2), lambda ctx, log: None),
                Step("c", lambda ctx: Err(declined())),
            ],
            on_compensated=on_compensated,
        )
        with pytest.raises(ConnectionError):
            saga.run(CTX)
        assert len(broken.__notes__) == 1

    def test_a_frozen_exception_carries_the_saga_failure(self) -> None:
        """An exception class that refuses setattr still gets the SagaFailure."""

        @dataclasses.dataclass(frozen=True)
        class PagerDown(Exception):
            pager: str

        def on_stuck(_name: str, _errors: Errors) -> None:
            raise PagerDown("ops")

        saga = Saga(
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, log: Err(still_held())),
                Step("b", lambda ctx: Err(declined())),
            ],
            on_stuck=on_stuck,
        )
        with pytest.raises(PagerDown) as info:
            saga.run(CTX)
        assert info.value.saga_failure.stuck == ("a",)  # type: ignore[attr-defined]


class TestSagaFailure:
    """SagaFailure is a frozen report."""

    def test_defaults(self) -> None:
        """Only the step and the original errors are required."""
        failure = SagaFailure("charge", declined())
        assert failure.compensated == ()
        assert failure.stuck == ()
        assert dict(failure.compensation_errors) == {}
        assert failure.cause is None
        assert failure.describe() == (
            "saga step 'charge' failed; compensated: none; could not compensate: none"
        )

    def test_equality_ignores_cause(self) -> None:
        """Two failures that say the same are equal whatever their cause."""
        one = SagaFailure("a", declined(), ("b",), cause=KeyError("x"))
        two = SagaFailure("a", declined(), ("b",), cause=Declined())
        assert one == two
        assert one != SagaFailure("a", declined(), ("c",))

    def test_repr_hides_cause(self) -> None:
        """The repr leaves the cause out: it is for logs, not reports."""
        failure = SagaFailure("a", Errors(), cause=KeyError("secret"))
        assert "secret" not in repr(failure)

    def test_frozen(self) -> None:
        """A failure cannot be changed."""
        failure = SagaFailure("a", Errors())
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            failure.step = "b"  # type: ignore[misc]

    def test_compensation_errors_copied(self) -> None:
        """The mapping given is copied: changing it later changes nothing."""
        given = {"a": still_held()}
        failure = SagaFailure("b", declined(), stuck=("a",), compensation_errors=given)
        given["c"] = Errors()
        assert list(failure.compensation_errors) == ["a"]

    @staticmethod
    def _full_failure() -> SagaFailure:
        return SagaFailure(
            "charge",
            declined(),
            ("reserve",),
            ("hold",),
            {"hold": still_held()},
            GatewayDown("psp", 503),
            hook="on_step",
        )

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_failure_pickles_with_its_cause(self, protocol: int) -> None:
        """A SagaFailure survives pickling, read-only mapping and cause included."""
        failure = self._full_failure()
        copied = pickle.loads(pickle.dumps(failure, protocol))  # noqa: S301 - our own
        assert copied == failure
        assert copied.hook == "on_step"
        assert type(copied.cause) is GatewayDown
        assert copied.cause.args == ("psp", 503)
        with pytest.raises(TypeError):
            copied.compensation_errors["x"] = Errors()

    def test_failure_deep_copies_read_only(self) -> None:
        """deepcopy makes an equal, independent, still read-only SagaFailure."""
        failure = self._full_failure()
        copied = copy.deepcopy(failure)
        assert copied == failure
        assert copied.original is not failure.original
        assert (
            copied.compensation_errors["hold"]
            is not failure.compensation_errors["hold"]
        )
        assert type(copied.cause) is GatewayDown
        assert copied.cause is not failure.cause
        with pytest.raises(TypeError):
            copied.compensation_errors["x"] = Errors()  # type: ignore[index]
        assert copy.copy(failure) == failure

    def test_result_of_a_run_crosses_a_process_boundary(self) -> None:
        """The Err of a real run pickles: a job result, a cache, another process."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", undo=[KeyError("hold table")]),
                journal.step("charge", Declined("card")),
            ]
        )
        result = saga.run(CTX)
        copied = pickle.loads(pickle.dumps(result))  # noqa: S301 - our own
        assert copied == result
        failure, original = failure_of(copied), failure_of(result)
        assert type(failure.cause) is Declined
        assert failure.cause.args == ("card",)
        [detail] = failure.compensation_errors["reserve"]
        assert (
            detail.reference
            == original.compensation_errors["reserve"].base[0].reference
        )
        assert repr(detail.cause) == "KeyError('hold table')"

    def test_a_raised_failure_pickles_with_it(self) -> None:
        """A bug carrying its SagaFailure (which holds it) pickles, cycle and all."""
        bug = KeyError("sku")
        saga = Saga(
            [
                Step("a", lambda ctx: Ok(1), lambda ctx, log: None),
                Step("b", lambda ctx: bug_of(bug)),
            ]
        )
        with pytest.raises(KeyError):
            saga.run(CTX)
        copied = pickle.loads(pickle.dumps(bug))  # noqa: S301 - our own
        assert copied.saga_failure == bug.saga_failure  # type: ignore[attr-defined]
        assert copied.saga_failure.cause is copied
        assert copy.deepcopy(bug).saga_failure.compensated == ("a",)

    def test_str_is_fit_for_a_user(self) -> None:
        """str() shows describe() and the redacted messages; repr() keeps the text."""
        hidden = "SELECT card_number FROM cards -- /srv/app/db.py"
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("reserve", undo=[KeyError(hidden)]),
                journal.step("charge", Err(declined())),
            ]
        )
        failure = failure_of(saga.run(CTX))
        shown = str(failure)
        assert hidden not in shown
        assert "KeyError" not in shown
        [detail] = failure.compensation_errors["reserve"]
        assert shown == (
            "saga step 'charge' failed; compensated: none; could not compensate: "
            "'reserve': Card was declined; Something went wrong on our side. If it "
            "keeps happening, contact support and quote reference "
            f"{detail.reference}."
        )
        assert hidden in repr(failure)

    def test_str_without_errors(self) -> None:
        """A hand-made failure without errors shows describe() alone."""
        assert str(SagaFailure("a", Errors())) == SagaFailure("a", Errors()).describe()


class TestCheckout:
    """The scenario the saga exists for, end to end."""

    def test_enqueue_fails_and_order_goes_back(self) -> None:
        """The order returns to pending when the payment cannot be enqueued."""
        orders = {"A-17": "pending"}
        told: list[str] = []

        def mark_processing(ctx: dict[str, str]) -> Ok[str]:
            previous = orders[ctx["order"]]
            orders[ctx["order"]] = "processing"
            return Ok(previous)

        def back_to(ctx: dict[str, str], previous: str) -> None:
            orders[ctx["order"]] = previous

        def enqueue_payment(_ctx: dict[str, str]) -> Err[Errors]:
            raise GatewayDown("queue")

        saga = Saga(
            [
                Step("mark_processing", mark_processing, back_to),
                Step("enqueue_payment", enqueue_payment),
            ],
            classifier=CLASSIFIER,
            on_stuck=lambda name, errors: told.append(name),
        )
        failure = failure_of(saga.run({"order": "A-17"}))
        assert orders == {"A-17": "pending"}
        assert failure.original.codes() == ["unavailable"]
        assert told == []

    def test_going_back_fails_too(self) -> None:
        """When going back fails too, its errors join the report and support is told."""
        told: list[tuple[str, list[str]]] = []

        def back_to_pending(_ctx: object, _previous: str) -> Err[Errors]:
            return Err(Errors([ErrorDetail(None, "stuck_processing")]))

        saga = Saga(
            [
                Step("mark_processing", lambda ctx: Ok("pending"), back_to_pending),
                Step(
                    "enqueue_payment",
                    lambda ctx: Err(
                        Errors(
                            [
                                ErrorDetail(
                                    None, "unavailable", bucket=Bucket.USER_VISIBLE
                                )
                            ]
                        )
                    ),
                ),
            ],
            classifier=CLASSIFIER,
            on_stuck=lambda name, errors: told.append((name, errors.codes())),
        )
        failure = failure_of(saga.run(CTX))
        assert failure.errors.codes() == ["unavailable", "stuck_processing"]
        assert told == [("mark_processing", ["stuck_processing"])]
        assert failure.stuck == ("mark_processing",)
