"""Tests for outcome.jobs: the policy, the event, and the decision with no engine."""

from __future__ import annotations

import logging
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcome import (
    Bucket,
    Classifier,
    Decision,
    Err,
    ErrorDetail,
    Errors,
    RetryPolicy,
    classify,
    http_answer,
)
from outcome.jobs import (
    GiveUp,
    JobEvent,
    JobFailed,
    JobPolicy,
    RetryIn,
    _Job,
    _queued,
    plan_failure,
)

RATE_LIMITED = Decision(Bucket.USER_VISIBLE, True, "rate_limit", retry_after=90.0)


class RateLimited(Exception):
    """Says itself that the server asked for 90 s."""

    def __outcome_decision__(self) -> Decision:
        return RATE_LIMITED


class TestJobPolicy:
    """JobPolicy refuses what it cannot use, naming it."""

    def test_defaults(self) -> None:
        """The default policy retries as RetryPolicy() does, with no hooks."""
        policy = JobPolicy()
        assert policy.retry == RetryPolicy()
        assert (policy.on_retry, policy.on_give_up, policy.on_status) == (
            None,
            None,
            None,
        )

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("retry", 3, r"retry must be a RetryPolicy, not 3"),
            ("classifier", "default", r"classifier must be a Classifier or None"),
            ("on_retry", "print", r"on_retry must be callable or None, not 'print'"),
            ("on_give_up", 1, r"on_give_up must be callable"),
            ("on_status", 0.5, r"on_status must be callable"),
        ],
    )
    def test_bad_fields(self, field: str, value: object, message: str) -> None:
        """A field of the wrong type is a TypeError naming the field and value."""
        with pytest.raises(TypeError, match=message):
            JobPolicy(**{field: value})  # type: ignore[arg-type]


class TestPlanFailure:
    """The decision, testable with no engine."""

    def test_transient_is_retried_with_backoff(self) -> None:
        """A timeout on attempt 1 of 3 is retried after the jittered backoff."""
        policy = JobPolicy(retry=RetryPolicy(attempts=3, base_delay=2.0))
        step = plan_failure(policy, TimeoutError(), 1, random=lambda: 0.5)
        assert step == RetryIn(1.0, step.decision)
        assert step.decision.kind == "timeout"

    def test_the_servers_longer_wait_wins(self) -> None:
        """Retry-After beyond the backoff is the countdown, its jitter added."""
        step = plan_failure(JobPolicy(), RateLimited(), 1, random=lambda: 0.0)
        assert isinstance(step, RetryIn)
        assert (step.seconds, step.capped) == (90.0, False)
        jittered = plan_failure(JobPolicy(), RateLimited(), 1, random=lambda: 0.5)
        assert isinstance(jittered, RetryIn)
        assert (jittered.seconds, jittered.capped) == (90.5, False)

    def test_a_wait_past_the_engines_limit_is_capped(self) -> None:
        """longest_wait cuts the countdown and says so."""
        step = plan_failure(JobPolicy(), RateLimited(), 1, longest_wait=60)
        assert step == RetryIn(60.0, RATE_LIMITED, capped=True)

    def test_not_transient_is_discarded(self) -> None:
        """A bug is given up on at once, whatever the attempts left."""
        step = plan_failure(JobPolicy(retry=RetryPolicy(attempts=9)), KeyError(), 1)
        assert isinstance(step, GiveUp)
        assert (step.reason, step.decision.bucket) == (
            "discarded",
            Bucket.PROGRAMMER_ERROR,
        )

    def test_last_attempt_is_exhausted(self) -> None:
        """A transient failure of the last attempt gives up as exhausted."""
        policy = JobPolicy(retry=RetryPolicy(attempts=2))
        assert plan_failure(policy, TimeoutError(), 2) == GiveUp(
            "exhausted", plan_failure(policy, TimeoutError(), 2).decision
        )

    def test_an_err_is_classified_by_its_error(self) -> None:
        """An Err of a transient exception is retried."""
        assert isinstance(
            plan_failure(JobPolicy(), Err(ConnectionResetError()), 1), RetryIn
        )

    def test_the_policys_classifier_decides(self) -> None:
        """A user rule of the policy's classifier is the one used."""
        classifier = Classifier()
        classifier.register(KeyError, bucket=Bucket.USER_VISIBLE, transient=True)
        step = plan_failure(JobPolicy(classifier=classifier), KeyError(), 1)
        assert isinstance(step, RetryIn)

    @pytest.mark.parametrize(
        ("arguments", "error", "message"),
        [
            ((RetryPolicy(), TimeoutError(), 1), TypeError, "takes a JobPolicy"),
            ((JobPolicy(), TimeoutError(), 0), ValueError, "counts from 1, got 0"),
            ((JobPolicy(), TimeoutError(), True), ValueError, "got True"),
        ],
    )
    def test_bad_arguments(
        self, arguments: tuple[object, ...], error: type[Exception], message: str
    ) -> None:
        """A wrong policy or attempt is refused, naming it."""
        with pytest.raises(error, match=message):
            plan_failure(*arguments)  # type: ignore[arg-type]

    @pytest.mark.parametrize("wait", [0, -1, float("nan"), "60", True])
    def test_bad_longest_wait(self, wait: object) -> None:
        """longest_wait must be a number of seconds above 0."""
        with pytest.raises(ValueError, match="longest_wait must be"):
            plan_failure(JobPolicy(), TimeoutError(), 1, longest_wait=wait)  # type: ignore[arg-type]

    @given(
        st.integers(1, 10),
        st.integers(1, 12),
        st.floats(0, 1, exclude_max=True),
        st.none() | st.floats(0.001, 1000),
    )
    def test_plan_laws(
        self, attempts: int, attempt: int, draw: float, longest: float | None
    ) -> None:
        """Retries only while attempts remain, never waiting past longest_wait."""
        policy = JobPolicy(retry=RetryPolicy(attempts=attempts, max_delay=30.0))
        step = plan_failure(policy, TimeoutError(), attempt, longest_wait=longest)
        if attempt >= attempts:
            assert step == GiveUp("exhausted", step.decision)
        else:
            assert isinstance(step, RetryIn)
            assert 0 <= step.seconds <= 30.0
            if longest is not None:
                assert step.seconds <= longest


def _job(policy: JobPolicy, published: list[object]) -> _Job:
    return _Job(policy, "capture", "j-1", ("A-17",), {"amount": 5}, 1, published.append)


class TestJob:
    """An attempt, as the integrations drive it: events, statuses and errors."""

    def test_an_err_of_one_detail_reports_it(self) -> None:
        """An Err of an ErrorDetail becomes the event's errors."""
        published: list[object] = []
        events: list[JobEvent] = []
        job = _job(JobPolicy(on_give_up=events.append), published)
        job.failed(Err(ErrorDetail("card", "declined")), longest_wait=None)
        assert events[0].errors.codes() == ["declined"]

    def test_an_err_of_anything_else_reports_its_kind(self) -> None:
        """An Err of a plain value is reported by the decision's kind and bucket."""
        events: list[JobEvent] = []
        job = _job(JobPolicy(on_give_up=events.append), [])
        job.failed(Err("out of stock"), longest_wait=None)
        [detail] = events[0].errors
        assert (detail.code, detail.bucket) == ("bug", Bucket.PROGRAMMER_ERROR)
        assert "out of stock" not in str(events[0].to_status())

    def test_an_empty_errors_is_still_reported(self) -> None:
        """Err(Errors()) is reported by the decision, not as no error at all."""
        events: list[JobEvent] = []
        job = _job(JobPolicy(on_give_up=events.append), [])
        job.failed(Err(Errors()), longest_wait=None)
        assert len(events[0].errors) == 1

    def test_a_failing_status_store_is_logged(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The status store raising is logged; the hooks still hear the event."""
        events: list[JobEvent] = []

        def broken(_status: object) -> None:
            raise OSError("disk full")

        job = _Job(JobPolicy(on_status=events.append), "c", "j-2", (), {}, 1, broken)
        with caplog.at_level(logging.ERROR, logger="outcome.jobs"):
            job.running()
        assert [event.state for event in events] == ["running"]
        assert "could not store the status of job j-2" in caplog.text

    def test_a_failing_store_of_a_failure_is_logged(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The store raising on a give-up is logged; the give-up hooks still run."""
        events: list[JobEvent] = []

        def broken(_status: object) -> None:
            raise OSError("disk full")

        job = _Job(JobPolicy(on_give_up=events.append), "c", "j-3", (), {}, 1, broken)
        with caplog.at_level(logging.ERROR, logger="outcome.jobs"):
            step = job.failed(KeyError("sku"), longest_wait=None)
        assert isinstance(step, GiveUp)
        assert [event.state for event in events] == ["failed"]
        assert job.last_status["state"] == "failed"
        assert "could not store the status of job j-3" in caplog.text

    def test_a_failing_store_of_a_new_job_is_logged(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The store raising as a job is queued is logged, and raises nothing."""

        def broken(_key: str, _status: object) -> None:
            raise OSError("disk full")

        with caplog.at_level(logging.ERROR, logger="outcome.jobs"):
            _queued(JobPolicy(), "capture", "j-5", (), {}, broken, "status:j-5")
        assert "could not store the status of job j-5" in caplog.text

    def test_the_last_status_follows_every_state(self) -> None:
        """last_status says queued, then each state told, stored or not."""
        published: list[object] = []
        job = _job(JobPolicy(), published)
        assert (job.last_status["state"], job.last_status["attempt"]) == ("queued", 1)
        job.running(store=False)
        assert job.last_status == {
            "job_id": "j-1",
            "job_name": "capture",
            "state": "running",
            "attempt": 1,
            "retry_in": None,
            "reason": None,
            "kind": None,
            "bucket": None,
            "errors": [],
        }
        assert published == []
        job.succeeded()
        assert published == [job.last_status]
        assert job.last_status["state"] == "succeeded"

    def test_a_queued_job_is_stored_with_or_without_a_hook(self) -> None:
        """_queued stores the same status, and on_status hears it when it is set."""
        events: list[JobEvent] = []
        quiet: dict[str, object] = {}
        heard: dict[str, object] = {}
        _queued(JobPolicy(), "capture", "j-4", ["A-17"], {}, quiet.__setitem__, "k-4")
        _queued(
            JobPolicy(on_status=events.append),
            "capture",
            "j-4",
            ["A-17"],
            {},
            heard.__setitem__,
            "k-4",
        )
        assert quiet == heard
        assert quiet == {
            "k-4": JobEvent("capture", "j-4", (), {}, 1, "queued").to_status()
        }
        [event] = events
        assert (event.state, event.args, event.attempt) == ("queued", ("A-17",), 1)

    def test_the_status_holds_no_arguments(self) -> None:
        """What subscribers are told never holds the job's arguments."""
        published: list[object] = []
        _job(JobPolicy(), published).running()
        assert "A-17" not in repr(published)


class TestJobFailed:
    """The exception an integration raises for an expected give-up."""

    def test_message_and_pickle(self) -> None:
        """Its message is user-safe, and it pickles with its status."""
        event = JobEvent(
            "capture",
            "j-1",
            (),
            {},
            3,
            "failed",
            decision=RATE_LIMITED,
            reason="exhausted",
        )
        failed = JobFailed.gave_up(event.to_status())
        assert str(failed) == "job capture j-1 gave up (exhausted: rate_limit)"
        copy = pickle.loads(pickle.dumps(failed))  # noqa: S301
        assert (str(copy), copy.status) == (str(failed), failed.status)

    def test_it_classifies_as_the_failure_it_gave_up_on(self) -> None:
        """A JobFailed reaching an API answers as its job's failure, not a bug."""
        event = JobEvent(
            "capture",
            "j-1",
            (),
            {},
            3,
            "failed",
            decision=RATE_LIMITED,
            reason="exhausted",
        )
        failed = JobFailed.gave_up(event.to_status())
        decision = classify(failed)
        assert (decision.bucket, decision.kind, decision.transient) == (
            RATE_LIMITED.bucket,
            "rate_limit",
            False,
        )
        assert http_answer(failed).status == 503

    def test_a_status_that_says_nothing_is_user_visible(self) -> None:
        """With no bucket or kind in its status, it is a user-visible job_failed."""
        status = JobEvent("capture", "j-1", (), {}, 1, "failed").to_status()
        decision = classify(JobFailed.gave_up(status))
        assert (decision.bucket, decision.kind) == (Bucket.USER_VISIBLE, "job_failed")

    def test_message_without_a_decision(self) -> None:
        """With no reason or decision, the message still reads."""
        status = JobEvent("capture", "j-1", (), {}, 1, "failed").to_status()
        assert (
            str(JobFailed.gave_up(status))
            == "job capture j-1 gave up (failed: failure)"
        )
