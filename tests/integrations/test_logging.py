"""The logging filter, structlog processor and retry loggers, on the real libraries."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
import pytest
import structlog
from huey import MemoryHuey
from huey.exceptions import TaskException
from structlog.testing import capture_logs

from outcome import (
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    RetryBudget,
    Retrying,
    RetryPolicy,
    classify,
    http_answer,
)
from outcome.integrations.huey import job_status, task
from outcome.integrations.logging import (
    ClassifyingFilter,
    ClassifyingProcessor,
    RetryLogger,
    on_give_up,
    on_retry,
)
from outcome.jobs import JobEvent, JobPolicy, _Job

FAST = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)


def validation_error() -> pydantic.ValidationError:
    """A real pydantic ValidationError: a failure the user can fix."""
    try:
        pydantic.TypeAdapter(int).validate_python("three")
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError  # pragma: no cover - "three" is no int


def record_of(
    exc: BaseException | None, level: int = logging.ERROR
) -> logging.LogRecord:
    """A record as ``logger.log(level, ..., exc_info=exc)`` makes it."""
    exc_info = None if exc is None else (type(exc), exc, exc.__traceback__)
    return logging.LogRecord(
        "shop", level, __file__, 1, "checkout failed", None, exc_info
    )


class Broken(Classifier):
    """A classifier whose rules fail."""

    def classify(self, failure: object) -> Decision:
        """Fail."""
        raise RuntimeError("the rules are broken")


class TestClassifyingFilter:
    """Records with an exception say who must act, at a level that says it."""

    def test_a_bug_keeps_its_level_and_gets_the_reference_users_see(self) -> None:
        """bucket, kind and the problem body's reference; still ERROR."""
        bug = LookupError("SELECT secret FROM cards")
        record = record_of(bug)
        assert ClassifyingFilter().filter(record) is True
        [entry] = http_answer(bug).body["errors"]
        assert (record.bucket, record.kind, record.reference) == (  # type: ignore[attr-defined]
            "programmer_error",
            "bug",
            entry["reference"],
        )
        assert (record.levelno, record.levelname) == (logging.ERROR, "ERROR")

    def test_a_failure_the_user_can_fix_is_lowered_to_info(self) -> None:
        """A validation error logged at ERROR goes out at INFO."""
        record = record_of(validation_error(), logging.CRITICAL)
        ClassifyingFilter().filter(record)
        assert (record.levelno, record.levelname) == (logging.INFO, "INFO")
        assert (record.bucket, record.kind) == ("user_fixable", "validation")  # type: ignore[attr-defined]

    def test_a_user_visible_failure_keeps_its_level(self) -> None:
        """An outage given up on is for the user to be told, and may be ERROR."""
        record = record_of(TimeoutError("gateway"))
        ClassifyingFilter().filter(record)
        assert record.levelno == logging.ERROR
        assert record.kind == "timeout"  # type: ignore[attr-defined]

    def test_a_failure_that_will_be_retried_is_lowered_to_warning(self) -> None:
        """Logged at ERROR from on_retry, a failure still being retried is a WARNING."""
        seen: list[logging.LogRecord] = []

        def log_retry(details: Any) -> None:
            record = record_of(details.failure)
            ClassifyingFilter().filter(record)
            seen.append(record)

        outage = TimeoutError("gateway")

        def fail() -> None:
            raise outage

        with pytest.raises(TimeoutError):
            Retrying(policy=FAST, on_retry=log_retry, sleep=lambda s: None).call(fail)
        assert [record.levelname for record in seen] == ["WARNING", "WARNING"]
        last = record_of(outage)
        ClassifyingFilter().filter(last)
        assert last.levelname == "ERROR"

    def test_a_level_is_never_raised(self) -> None:
        """A bug logged at DEBUG stays at DEBUG; so does a fixable one."""
        for failure in (KeyError("sku"), validation_error()):
            record = record_of(failure, logging.DEBUG)
            ClassifyingFilter().filter(record)
            assert record.levelno == logging.DEBUG

    @pytest.mark.parametrize(
        "exc_info", [None, (None, None, None)], ids=["none", "nothing"]
    )
    def test_a_record_without_an_exception_is_untouched(self, exc_info: Any) -> None:
        """No exception, nothing to add."""
        record = logging.LogRecord(
            "shop", logging.ERROR, __file__, 1, "disk full", None, exc_info
        )
        before = dict(vars(record))
        assert ClassifyingFilter().filter(record) is True
        assert vars(record) == before

    def test_an_attribute_of_the_callers_is_kept(self) -> None:
        """An ``extra`` named like one of ours wins."""
        logger = logging.getLogger("tests.logging.extra")
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append  # type: ignore[method-assign]
        handler.addFilter(ClassifyingFilter())
        logger.addHandler(handler)
        try:
            logger.error("failed", exc_info=KeyError("sku"), extra={"kind": "payment"})
        finally:
            logger.removeHandler(handler)
        [record] = records
        assert (record.kind, record.bucket) == ("payment", "programmer_error")  # type: ignore[attr-defined]

    def test_on_a_logger_the_lowered_level_counts_for_its_handlers(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Put on a logger, it lowers a record before any handler chooses it."""
        logger = logging.getLogger("tests.logging.shop")
        classifying = ClassifyingFilter()
        logger.addFilter(classifying)
        try:
            with caplog.at_level(logging.WARNING):
                logger.error("signup failed", exc_info=validation_error())
                logger.error("checkout failed", exc_info=KeyError("sku"))
        finally:
            logger.removeFilter(classifying)
        assert [record.getMessage() for record in caplog.records] == ["checkout failed"]

    def test_a_classifier_that_fails_calls_the_failure_a_bug(self) -> None:
        """As in the answer the user got: a bug, with its reference, at its level."""
        failure = validation_error()
        record = record_of(failure)
        assert ClassifyingFilter(classifier=Broken()).filter(record) is True
        assert (record.bucket, record.levelname) == ("programmer_error", "ERROR")  # type: ignore[attr-defined]
        assert record.reference == (  # type: ignore[attr-defined]
            ErrorDetail.from_exception(failure, classifier=Broken()).reference
        )

    def test_a_record_that_cannot_be_read_is_kept(self) -> None:
        """A record whose level is no number is let through as it is."""
        record = record_of(validation_error())
        record.levelno = "high"  # type: ignore[assignment]
        assert ClassifyingFilter().filter(record) is True
        assert record.levelno == "high"

    def test_a_bad_classifier_is_refused(self) -> None:
        """The option is checked once, naming what to pass."""
        with pytest.raises(TypeError, match="ClassifyingFilter"):
            ClassifyingFilter(classifier="default")  # type: ignore[arg-type]


def processors() -> list[Any]:
    """structlog's level, then the processor under test."""
    return [structlog.processors.add_log_level, ClassifyingProcessor()]


class TestClassifyingProcessor:
    """structlog events with an exception say who must act, at their level."""

    def test_a_failure_the_user_can_fix_is_lowered_to_info(self) -> None:
        """log.exception of a validation error is an "info" event, classified."""
        logger = structlog.get_logger()
        with capture_logs(processors=processors()) as logs:
            try:
                raise validation_error()
            except pydantic.ValidationError:
                logger.exception("signup failed")
        [entry] = logs
        assert (entry["level"], entry["bucket"], entry["kind"]) == (
            "info",
            "user_fixable",
            "validation",
        )
        assert entry["reference"].startswith("ERR-")

    def test_a_bug_keeps_its_level(self) -> None:
        """A bug stays an error, with the reference users are shown."""
        bug = LookupError("SELECT secret FROM cards")
        with capture_logs(processors=processors()) as logs:
            structlog.get_logger().error("checkout failed", exc_info=bug)
        [entry] = logs
        [shown] = http_answer(bug).body["errors"]
        assert (entry["level"], entry["reference"]) == ("error", shown["reference"])

    def test_an_exc_info_tuple_and_the_level_number(self) -> None:
        """A tuple is read as structlog reads it; level_number follows the level."""
        failure = validation_error()
        with capture_logs(
            processors=[
                structlog.processors.add_log_level,
                structlog.stdlib.add_log_level_number,
                ClassifyingProcessor(),
            ]
        ) as logs:
            structlog.get_logger().critical(
                "signup failed", exc_info=(type(failure), failure, None)
            )
        [entry] = logs
        assert (entry["level"], entry["level_number"]) == ("info", logging.INFO)

    def test_without_add_log_level_the_method_is_the_level(self) -> None:
        """The method name decides; the lowered level is written all the same."""
        with capture_logs(processors=[ClassifyingProcessor()]) as logs:
            structlog.get_logger().warning("signup failed", exc_info=validation_error())
            structlog.get_logger().msg("signup failed", exc_info=validation_error())
        assert [entry.get("level") for entry in logs] == ["info", None]

    @pytest.mark.parametrize(
        "exc_info",
        [True, False, (ValueError, "no exception", None), "yes"],
        ids=["true", "false", "bad-tuple", "text"],
    )
    def test_no_exception_at_hand_adds_nothing(self, exc_info: object) -> None:
        """Outside a handler, `True` (or anything true) means no exception."""
        with capture_logs(processors=processors()) as logs:
            structlog.get_logger().error("disk full", exc_info=exc_info)
        [entry] = logs
        assert "bucket" not in entry
        assert entry["level"] == "error"

    def test_keys_of_the_callers_are_kept(self) -> None:
        """A key the event already has wins."""
        with capture_logs(processors=processors()) as logs:
            structlog.get_logger().error("x", exc_info=KeyError(), kind="payment")
        assert logs[0]["kind"] == "payment"

    def test_an_event_that_cannot_be_read_is_kept(self) -> None:
        """A level that cannot be read as text leaves the event as it was."""

        class Unreadable:
            def __str__(self) -> str:
                raise RuntimeError("no text")

        level = Unreadable()
        event = {"exc_info": validation_error(), "level": level}
        assert ClassifyingProcessor()(None, "error", event) is event
        assert event["level"] is level

    def test_in_a_real_pipeline_before_the_exception_is_rendered(self) -> None:
        """add_log_level, the processor, format_exc_info, JSONRenderer: one line."""
        logger = structlog.wrap_logger(
            structlog.ReturnLogger(),
            processors=[
                structlog.processors.add_log_level,
                ClassifyingProcessor(),
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
        line = logger.error("signup failed", exc_info=validation_error())
        entry = json.loads(line)
        assert (entry["level"], entry["kind"]) == ("info", "validation")
        assert "ValidationError" in entry["exception"]

    def test_options(self) -> None:
        """The classifier is checked once; the repr shows it."""
        with pytest.raises(TypeError, match="ClassifyingProcessor"):
            ClassifyingProcessor(classifier=object())  # type: ignore[arg-type]
        assert repr(ClassifyingProcessor()).startswith("ClassifyingProcessor(")


def slow_down(wait: str) -> httpx.HTTPStatusError:
    """A real httpx 429 asking to wait `wait` seconds."""
    request = httpx.Request("POST", "https://pay.example/v1/charges")
    response = httpx.Response(429, headers={"Retry-After": wait}, request=request)
    return httpx.HTTPStatusError("429", request=request, response=response)


def on_a_fake_clock(policy: RetryPolicy, on_give_up: Callable[..., object]) -> Retrying:
    """A Retrying whose sleeps move a fake clock: nothing really waits."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return Retrying(
        policy=policy,
        on_give_up=on_give_up,
        sleep=sleep,
        clock=lambda: now[0],
        random=lambda: 1.0,
    )


def time_out() -> None:
    """Fail as a slow database does, its address in the text."""
    raise TimeoutError("10.0.0.7:5432 took too long")


class TestRetryLoop:
    """on_retry and on_give_up, as Retrying's hooks."""

    def records(self, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
        """What outcome.retry logged."""
        return [r for r in caplog.records if r.name == "outcome.retry"]

    def test_each_retry_and_the_give_up(self, caplog: pytest.LogCaptureFixture) -> None:
        """Two retries at WARNING, then the give-up, never with the failure's text."""

        def fail() -> None:
            raise TimeoutError("10.0.0.7:5432 took too long")

        retrying = Retrying(
            policy=FAST,
            on_retry=on_retry,
            on_give_up=on_give_up,
            sleep=lambda s: None,
            random=lambda: 0.5,
        )
        with caplog.at_level(logging.INFO), pytest.raises(TimeoutError):
            retrying.call(fail)
        records = self.records(caplog)
        assert [r.getMessage() for r in records] == [
            "attempt 1 failed with TimeoutError (timeout); retrying in 0 s",
            "attempt 2 failed with TimeoutError (timeout); retrying in 0 s",
            "gave up on TimeoutError (timeout): exhausted",
        ]
        assert [r.levelname for r in records] == ["WARNING"] * 3
        first = records[0]
        assert (first.bucket, first.kind, first.attempt, first.delay) == (  # type: ignore[attr-defined]
            "user_visible",
            "timeout",
            1,
            0.0,
        )
        assert (records[2].reason, records[2].attempt) == ("exhausted", 3)  # type: ignore[attr-defined]
        assert all(r.exc_info is None for r in records)
        assert "10.0.0.7" not in caplog.text

    def test_a_failure_the_user_can_fix_gives_up_at_info(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Discarded at once, and said at INFO."""
        failure = Err(validation_error())
        retrying = Retrying(on_retry=on_retry, on_give_up=on_give_up)
        with caplog.at_level(logging.INFO):
            assert retrying.call(lambda: failure) is failure
        [record] = self.records(caplog)
        assert record.levelname == "INFO"
        assert record.getMessage() == (
            "gave up on Err(ValidationError) (validation): discarded"
        )

    def test_a_wait_too_long_to_sleep_is_deferred(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A Retry-After beyond max_retry_after gives up as deferred."""
        failure = Err(slow_down("3600"))
        with caplog.at_level(logging.INFO):
            Retrying(on_give_up=on_give_up).call(lambda: failure)
        [record] = self.records(caplog)
        assert record.reason == "deferred"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("policy", "reason", "attempt"),
        [
            (RetryPolicy(attempts=5, base_delay=1.0, max_delay=1.0), "exhausted", 5),
            (
                RetryPolicy(attempts=5, base_delay=1.0, max_delay=1.0, deadline=2.5),
                "deadline",
                3,
            ),
            (
                RetryPolicy(
                    attempts=5,
                    base_delay=1.0,
                    max_delay=1.0,
                    budget=RetryBudget(capacity=20, retry_cost=10, timeout_cost=10),
                ),
                "budget",
                3,
            ),
        ],
    )
    def test_the_reason_says_what_stopped_the_loop(
        self,
        policy: RetryPolicy,
        reason: str,
        attempt: int,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Out of attempts, past the deadline or out of budget: each said as such."""
        retrying = on_a_fake_clock(policy, on_give_up)
        with caplog.at_level(logging.INFO), pytest.raises(TimeoutError):
            retrying.call(time_out)
        [record] = self.records(caplog)
        assert record.getMessage() == f"gave up on TimeoutError (timeout): {reason}"
        assert (record.reason, record.attempt) == (reason, attempt)  # type: ignore[attr-defined]

    def test_a_sleep_that_raises_is_said_too(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An async loop whose sleep fails gives up: the reason says the sleep."""

        async def broken_sleep(seconds: float) -> None:
            raise RuntimeError(f"no timer for {seconds} s")

        async def fail() -> None:
            raise ConnectionResetError("peer")

        retrying = Retrying(
            policy=FAST, on_give_up=on_give_up, sleep_async=broken_sleep
        )
        with caplog.at_level(logging.INFO), pytest.raises(RuntimeError):
            asyncio.run(retrying.call_async(fail))
        [record] = self.records(caplog)
        assert (record.reason, record.attempt) == ("sleep_failed", 1)  # type: ignore[attr-defined]

    def test_the_reason_is_the_loops_only_while_its_hook_runs(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A give-up logged by hand afterwards is worded from its decision."""
        budget = RetryBudget(capacity=10, retry_cost=10, timeout_cost=10)
        retrying = Retrying(
            policy=RetryPolicy(attempts=2, budget=budget),
            on_give_up=on_give_up,
            sleep=lambda s: None,
        )
        failure = Err(TimeoutError("slow"))
        with caplog.at_level(logging.INFO):
            retrying.call(lambda: failure)
            retrying.call(lambda: failure)  # the budget is spent: "budget"
            on_give_up(classify(failure), failure)
        records = self.records(caplog)
        assert [r.reason for r in records] == [  # type: ignore[attr-defined]
            "exhausted",
            "budget",
            "exhausted",
        ]
        # The loop says after which attempt it gave up; a call by hand cannot.
        assert [getattr(r, "attempt", None) for r in records] == [2, 1, None]

    def test_a_hook_that_raises_leaves_no_reason_behind(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The loop's reason and attempt are taken back even when its hook raises."""

        def raising(decision: Decision, failure: Exception | Err[object]) -> None:
            on_give_up(decision, failure)
            raise RuntimeError("the metrics client is down")

        policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=1.0, deadline=2.5)
        retrying = on_a_fake_clock(policy, raising)
        with caplog.at_level(logging.INFO):
            with pytest.raises(RuntimeError, match="metrics client"):
                retrying.call(time_out)
            by_hand = TimeoutError("slow")
            on_give_up(classify(by_hand), by_hand)
        records = self.records(caplog)
        said = [(r.reason, getattr(r, "attempt", None)) for r in records]  # type: ignore[attr-defined]
        assert said == [("deadline", 3), ("exhausted", None)]

    def test_tracebacks_attach_the_exception(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With tracebacks, each record carries the failure's exception."""
        log = RetryLogger(logging.getLogger("tests.payments"), tracebacks=True)
        outage = ConnectionResetError("peer")
        values = iter(
            [
                Err(outage),
                Err(outage),
                Err(ErrorDetail(None, "sold_out", bucket=Bucket.USER_VISIBLE)),
            ]
        )
        retrying = Retrying(
            policy=FAST,
            on_retry=log.on_retry,
            on_give_up=log.on_give_up,
            sleep=lambda s: None,
        )
        with caplog.at_level(logging.INFO, logger="tests.payments"):
            retrying.call(lambda: next(values))
        records = [r for r in caplog.records if r.name == "tests.payments"]
        assert [None if r.exc_info is None else r.exc_info[1] for r in records] == [
            outage,
            outage,
            None,
        ]
        assert records[2].getMessage().startswith("gave up on Err(ErrorDetail)")

    def test_a_give_up_with_no_failure_is_still_said(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An untyped caller that gives only the decision gets its line."""
        decision = Decision(Bucket.PROGRAMMER_ERROR, False, "bug")
        with caplog.at_level(logging.INFO):
            on_give_up(decision)  # type: ignore[call-overload]
        [record] = self.records(caplog)
        assert record.getMessage() == "gave up on a failure (bug): discarded"

    def test_options(self) -> None:
        """The logger and the flag are checked once; the repr shows them."""
        with pytest.raises(TypeError, match=r"logging\.Logger"):
            RetryLogger("shop")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="tracebacks=True"):
            RetryLogger(tracebacks="yes")  # type: ignore[arg-type]
        assert repr(RetryLogger()) == "RetryLogger(None, tracebacks=False)"


class TestJobs:
    """on_retry and on_give_up, as a JobPolicy's hooks."""

    def records(self, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
        """What outcome.jobs logged."""
        return [r for r in caplog.records if r.name == "outcome.jobs"]

    def test_retries_then_the_give_up(self, caplog: pytest.LogCaptureFixture) -> None:
        """Each retry, then the give-up, with the job's name, id and reference."""
        policy = JobPolicy(retry=FAST, on_retry=on_retry, on_give_up=on_give_up)
        outage = TimeoutError("10.0.0.7:5432")
        with caplog.at_level(logging.INFO):
            for attempt in range(1, FAST.attempts + 1):
                job = _Job(policy, "capture", "j-1", (), {}, attempt, lambda s: None)
                job.failed(outage, longest_wait=None)
        records = self.records(caplog)
        assert [r.getMessage() for r in records] == [
            "job capture j-1: attempt 1 failed (timeout); retrying in 0 s",
            "job capture j-1: attempt 2 failed (timeout); retrying in 0 s",
            "job capture j-1 gave up at attempt 3 (exhausted: timeout)",
        ]
        last = records[-1]
        assert (last.job_name, last.job_id, last.reason, last.attempt) == (  # type: ignore[attr-defined]
            "capture",
            "j-1",
            "exhausted",
            3,
        )
        assert last.reference == ErrorDetail.from_exception(outage).reference  # type: ignore[attr-defined]
        assert records[0].retry_in == 0.0  # type: ignore[attr-defined]

    def test_a_bug_on_huey_gives_up_with_the_reference_of_its_status(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """On a real Huey, a bug's give-up is said once, with the status's reference."""
        huey = MemoryHuey(immediate=True)

        @task(huey, policy=JobPolicy(on_retry=on_retry, on_give_up=on_give_up))
        def reserve(sku: str) -> str:
            raise LookupError("SELECT secret FROM stock", sku)

        with caplog.at_level(logging.INFO, logger="outcome.jobs"):
            result = reserve("tea")
            with pytest.raises(TaskException):
                result.get()
        [record] = self.records(caplog)
        status = job_status(huey, result.id)
        assert status is not None
        [error] = status["errors"]
        assert record.reference == error["reference"]  # type: ignore[attr-defined]
        assert (record.levelname, record.reason, record.bucket) == (  # type: ignore[attr-defined]
            "WARNING",
            "discarded",
            "programmer_error",
        )
        assert "SELECT" not in record.getMessage()

    def test_a_give_up_on_errors_the_user_can_fix_is_info(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A returned Err of Errors gives up at INFO, with its tracebacks if any."""
        errors = Errors([ErrorDetail("card", "declined")])
        policy = JobPolicy(on_give_up=RetryLogger(tracebacks=True).on_give_up)
        with caplog.at_level(logging.INFO):
            job = _Job(policy, "charge", "j-2", (), {}, 1, lambda s: None)
            job.failed(Err(errors), longest_wait=None)
        [record] = self.records(caplog)
        assert (record.levelname, record.kind, record.exc_info) == (  # type: ignore[attr-defined]
            "INFO",
            "validation",
            None,
        )

    def test_an_event_made_by_hand(self, caplog: pytest.LogCaptureFixture) -> None:
        """An event with no decision and no errors is still logged, plainly."""
        event = JobEvent("capture", "j-3", (), {}, 2, "retrying", retry_in=1.5)
        described = JobEvent(
            "capture",
            "j-4",
            (),
            {},
            1,
            "failed",
            errors=Errors(
                [ErrorDetail("card", "declined"), ErrorDetail("cvc", "blank")]
            ),
            reason="discarded",
        )
        with caplog.at_level(logging.INFO):
            on_retry(event)
            on_give_up(described)
        first, second = self.records(caplog)
        assert first.getMessage() == (
            "job capture j-3: attempt 2 failed (failure); retrying in 1.5 s"
        )
        assert (first.bucket, getattr(first, "reference", None)) == (  # type: ignore[attr-defined]
            "programmer_error",
            None,
        )
        assert (second.levelname, second.kind) == ("INFO", "declined")  # type: ignore[attr-defined]
        assert second.reference == ErrorDetail("card", "declined").reference  # type: ignore[attr-defined]
