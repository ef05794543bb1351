"""Tests for retrying: RetryPolicy, backoff, budgets, hooks, Retrying and retry."""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcome import (
    DEFAULT_CLASSIFIER,
    Bucket,
    Classifier,
    Decision,
    Err,
    Ok,
    RetryDetails,
    Retrying,
    RetryPolicy,
    retry,
)


def transient(**fields: Any) -> Decision:
    """A decision to retry, with the given fields."""
    return Decision(Bucket.USER_VISIBLE, True, "timeout", rule="test", **fields)


def permanent(**fields: Any) -> Decision:
    """A decision not to retry, with the given fields."""
    return Decision(Bucket.PROGRAMMER_ERROR, False, "bug", rule="test", **fields)


TRANSIENT = transient()
PERMANENT = permanent()


class Flaky(Exception):
    """A failure that carries the decision the fake classifier returns for it."""

    def __init__(self, decision: Decision = TRANSIENT, label: str = "flaky") -> None:
        super().__init__(label)
        self.decision = decision


class FakeClassifier(Classifier):
    """Returns the decision a `Flaky` (raised or in an Err) carries; records calls."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []

    def classify(self, failure: object) -> Decision:
        """Read the decision off the failure."""
        self.seen.append(failure)
        if isinstance(failure, Err):
            failure = failure.err_value
        assert isinstance(failure, Flaky)
        return failure.decision


class Timeline:
    """A fake clock and sleep: sleeping moves the clock, nothing really waits."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.events: list[tuple[str, object]] = []

    def clock(self) -> float:
        """Read the fake clock."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move the clock."""
        self.sleeps.append(seconds)
        self.events.append(("sleep", seconds))
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        """The async twin of `sleep`."""
        self.sleep(seconds)


class Script:
    """A zero-argument function that plays a list of outcomes, one per call."""

    def __init__(
        self,
        outcomes: list[object],
        timeline: Timeline | None = None,
        cost: float = 0.0,
    ) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.timeline = timeline
        self.cost = cost

    def __call__(self) -> object:
        """Return or raise the next outcome; each call takes `cost` seconds."""
        outcome = self.outcomes[self.calls]
        self.calls += 1
        if self.timeline is not None:
            self.timeline.now += self.cost
            self.timeline.events.append(("call", self.calls))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def run(self) -> object:
        """The async twin of calling the script."""
        return self()


class SteppedBack(Script):
    """A script whose first call steps the clock back to 0, as NTP may."""

    def __call__(self) -> object:
        """Step the clock back on the first call, then play the script."""
        if self.calls == 0 and self.timeline is not None:
            self.timeline.now = 0.0
        return super().__call__()


class BrokenSleep(Timeline):
    """A timeline whose sleep records the wait, then raises `error`."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def sleep(self, seconds: float) -> None:
        """Record the sleep, then raise."""
        super().sleep(seconds)
        raise self.error


class GiveUps:
    """Records every on_give_up call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Decision, object]] = []

    def __call__(self, decision: Decision, failure: object) -> None:
        """Record the call."""
        self.calls.append((decision, failure))


def run_sync(
    script: Script,
    timeline: Timeline,
    *,
    policy: RetryPolicy | None = None,
    rand: Callable[[], float] = lambda: 1.0,
    **hooks: Any,
) -> object:
    """Run `script` under Retrying.call: a fake classifier (or hooks'), clock, sleep."""
    options: dict[str, Any] = {
        "clock": timeline.clock,
        "classifier": FakeClassifier(),
        **hooks,
    }
    return Retrying(
        policy=policy or RetryPolicy(),
        sleep=timeline.sleep,
        random=rand,
        **options,
    ).call(script)


def run_async(
    script: Script,
    timeline: Timeline,
    *,
    policy: RetryPolicy | None = None,
    rand: Callable[[], float] = lambda: 1.0,
    **hooks: Any,
) -> object:
    """Run `script` under Retrying.call_async with the fake classifier and clock."""
    options: dict[str, Any] = {
        "clock": timeline.clock,
        "classifier": FakeClassifier(),
        **hooks,
    }
    retrying = Retrying(
        policy=policy or RetryPolicy(),
        sleep_async=timeline.async_sleep,
        random=rand,
        **options,
    )
    return asyncio.run(retrying.call_async(script.run))


# Both loops are held to the same behaviour: most tests run once for each.
both = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])
Runner = Callable[..., object]


# Strategies -------------------------------------------------------------------

seconds = st.floats(min_value=0, max_value=100)
unit_floats = st.floats(min_value=0, max_value=1, exclude_max=True)


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    """Any valid policy, with or without a deadline."""
    base_delay = draw(seconds)
    return RetryPolicy(
        attempts=draw(st.integers(min_value=1, max_value=8)),
        base_delay=base_delay,
        max_delay=draw(st.floats(min_value=base_delay, max_value=200)),
        deadline=draw(st.none() | seconds),
        max_retry_after=draw(seconds),
    )


decisions = st.builds(
    Decision,
    bucket=st.sampled_from(Bucket),
    transient=st.booleans(),
    kind=st.sampled_from(["timeout", "rate_limit", "bug"]),
    retry_after=st.none() | st.floats(min_value=0, max_value=200),
    defer=st.booleans(),
)

outcomes = st.lists(
    st.one_of(
        st.builds(Flaky, decisions),
        st.builds(Err, st.builds(Flaky, decisions)),
        st.builds(Ok, st.integers()),
    ),
    min_size=1,
    max_size=10,
)


class TestRetryPolicy:
    """The policy's fields, defaults and validation."""

    def test_defaults(self) -> None:
        """Three attempts, 0.5 s base, 30 s cap, no deadline, 60 s Retry-After."""
        assert RetryPolicy() == RetryPolicy(3, 0.5, 30.0, None, 60.0)

    def test_frozen(self) -> None:
        """A policy cannot be changed once made."""
        policy = RetryPolicy()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            policy.attempts = 5  # type: ignore[misc]

    @pytest.mark.parametrize(
        "field", ["base_delay", "max_delay", "deadline", "max_retry_after"]
    )
    @pytest.mark.parametrize("value", [-1.0, -0.001, math.nan, math.inf, -math.inf])
    def test_bad_seconds_name_the_field_and_value(
        self, field: str, value: float
    ) -> None:
        """A negative, NaN or infinite duration is refused, naming field and value."""
        with pytest.raises(ValueError, match=rf"RetryPolicy {field} .* got {value!r}"):
            RetryPolicy(**{field: value})

    @pytest.mark.parametrize("field", ["base_delay", "max_delay", "max_retry_after"])
    @pytest.mark.parametrize("value", ["1", True, None, [1.0]])
    def test_non_numbers_are_a_type_error(self, field: str, value: object) -> None:
        """A duration that is not an int or a float is a TypeError naming the field."""
        with pytest.raises(TypeError, match=f"RetryPolicy {field} must be a number"):
            RetryPolicy(**{field: value})

    @pytest.mark.parametrize("attempts", [0, -1, -100])
    def test_attempts_below_one(self, attempts: int) -> None:
        """Fewer than one attempt is refused, and the message explains the count."""
        with pytest.raises(
            ValueError, match=rf"attempts must be at least 1, got {attempts}: .*first"
        ):
            RetryPolicy(attempts=attempts)

    @pytest.mark.parametrize("attempts", [2.0, True, "3", None])
    def test_attempts_not_an_int(self, attempts: object) -> None:
        """Attempts must be an int: not a float, a bool or a string."""
        with pytest.raises(TypeError, match="RetryPolicy attempts must be an int"):
            RetryPolicy(attempts=attempts)  # type: ignore[arg-type]

    def test_cap_below_base(self) -> None:
        """max_delay below base_delay is refused, naming both."""
        with pytest.raises(
            ValueError, match=r"max_delay must be >= base_delay, got max_delay=1.0 "
        ):
            RetryPolicy(base_delay=2.0, max_delay=1.0)

    def test_edges_are_valid(self) -> None:
        """Zero durations, one attempt and an int number of seconds are fine."""
        policy = RetryPolicy(
            attempts=1, base_delay=0, max_delay=0, deadline=0, max_retry_after=0
        )
        assert policy.max_delay == 0
        assert RetryPolicy(base_delay=2, max_delay=2).base_delay == 2

    def test_evolve_validates(self) -> None:
        """A policy derived with attrs.evolve is validated too."""
        with pytest.raises(ValueError, match="attempts"):
            attrs.evolve(RetryPolicy(), attempts=0)


class TestDelay:
    """Full jitter with a cap, and Retry-After as a floor."""

    def test_full_backoff_doubles_up_to_the_cap(self) -> None:
        """With random() == 1.0 the delays are the backoff itself, capped."""
        policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
        delays = [policy.delay(n, TRANSIENT, lambda: 1.0) for n in range(1, 10)]
        assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]

    def test_zero_draw_means_no_wait(self) -> None:
        """With random() == 0.0 every delay is zero."""
        policy = RetryPolicy()
        assert [policy.delay(n, TRANSIENT, lambda: 0.0) for n in range(1, 6)] == [
            0.0
        ] * 5

    def test_jitter_scales_the_backoff(self) -> None:
        """The draw multiplies the capped backoff."""
        policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
        assert policy.delay(3, TRANSIENT, lambda: 0.25) == 1.0
        assert policy.delay(8, TRANSIENT, lambda: 0.25) == 2.5

    def test_retry_after_is_a_floor(self) -> None:
        """A Retry-After longer than the jittered backoff is the delay, jittered."""
        decision = transient(retry_after=7.0)
        policy = RetryPolicy(base_delay=1.0, max_delay=2.0)
        assert policy.delay(1, decision, lambda: 0.0) == 7.0
        assert policy.delay(1, decision, lambda: 0.5) == pytest.approx(7.35)

    def test_retry_after_shorter_than_backoff(self) -> None:
        """A Retry-After shorter than the jittered backoff leaves the backoff."""
        decision = transient(retry_after=0.1)
        assert RetryPolicy(base_delay=4.0).delay(1, decision, lambda: 0.5) == 2.0

    @pytest.mark.parametrize("retry_number", [0, -1])
    def test_retry_number_counts_from_one(self, retry_number: int) -> None:
        """A retry number below 1 is refused."""
        with pytest.raises(ValueError, match=f"from 1, got {retry_number}"):
            RetryPolicy().delay(retry_number, TRANSIENT, lambda: 0.5)

    @pytest.mark.parametrize("retry_number", [1025, 5000, 10**30])
    def test_huge_retry_numbers_stay_at_the_cap(self, retry_number: int) -> None:
        """Backoff past float range is the cap, without an OverflowError."""
        assert RetryPolicy().delay(retry_number, TRANSIENT, lambda: 1.0) == 30.0
        no_backoff = RetryPolicy(base_delay=0, max_delay=0)
        assert no_backoff.delay(retry_number, TRANSIENT, lambda: 1.0) == 0.0

    def test_reads_random_once_per_delay(self) -> None:
        """Each delay draws exactly one number."""
        draws: list[float] = []

        def rand() -> float:
            draws.append(0.5)
            return 0.5

        RetryPolicy().delay(2, TRANSIENT, rand)
        assert draws == [0.5]

    @given(
        policies(),
        st.integers(min_value=1, max_value=2000),
        decisions,
        unit_floats,
    )
    def test_delay_within_bounds(
        self, policy: RetryPolicy, retry_number: int, decision: Decision, draw: float
    ) -> None:
        """Every delay is in [0, max_delay], unless Retry-After demands more."""
        delay = policy.delay(retry_number, decision, lambda: draw)
        if decision.retry_after is None:
            assert 0 <= delay <= policy.max_delay
        else:
            retry_after = decision.retry_after
            assert retry_after <= delay
            assert delay <= max(
                policy.max_delay, retry_after + min(0.1 * retry_after, 1.0)
            )

    @given(policies(), st.integers(min_value=1, max_value=60), unit_floats)
    def test_delay_is_full_jitter(
        self, policy: RetryPolicy, retry_number: int, draw: float
    ) -> None:
        """Without Retry-After, the delay is draw * min(cap, base * 2**(n-1))."""
        expected = draw * min(
            policy.max_delay, policy.base_delay * 2 ** (retry_number - 1)
        )
        assert policy.delay(retry_number, TRANSIENT, lambda: draw) == expected


class TestSuccess:
    """What the function returns, when it is not an Err, is returned as is."""

    @both
    @pytest.mark.parametrize("value", [Ok(1), 42, None, "done", Ok(Err("x"))])
    def test_returned_as_is(self, run: Runner, value: object) -> None:
        """Ok, plain values and None come back untouched, after one call."""
        script, timeline = Script([value]), Timeline()
        assert run(script, timeline) is value
        assert script.calls == 1
        assert timeline.sleeps == []

    def test_success_is_not_classified(self) -> None:
        """A success never reaches the classifier."""
        classifier = FakeClassifier()
        Retrying(classifier=classifier).call(lambda: Ok(1))
        assert classifier.seen == []


class TestTransient:
    """Transient failures, raised or returned, are retried."""

    @both
    def test_raised_exception_is_retried(self, run: Runner) -> None:
        """A transient exception is retried until the call succeeds."""
        script, timeline = Script([Flaky(), Flaky(), "ok"]), Timeline()
        assert run(script, timeline) == "ok"
        assert script.calls == 3
        assert timeline.sleeps == [0.5, 1.0]

    @both
    def test_returned_err_is_retried(self, run: Runner) -> None:
        """A transient Err is retried until the call succeeds."""
        script, timeline = Script([Err(Flaky()), Ok(7)]), Timeline()
        assert run(script, timeline) == Ok(7)
        assert script.calls == 2
        assert timeline.sleeps == [0.5]

    def test_classifier_sees_the_exception_and_the_err(self) -> None:
        """The classifier gets the raised exception, and the Err itself."""
        raised, returned = Flaky(), Err(Flaky())
        classifier = FakeClassifier()
        Retrying(classifier=classifier, sleep=lambda _: None).call(
            Script([raised, returned, "ok"])
        )
        assert classifier.seen == [raised, returned]
        assert classifier.seen[0] is raised
        assert classifier.seen[1] is returned

    @both
    def test_mixed_failures(self, run: Runner) -> None:
        """Raised and returned failures share one budget."""
        script = Script([Flaky(), Err(Flaky()), Flaky(), "never"])
        with pytest.raises(Flaky):
            run(script, Timeline())
        assert script.calls == 3


class TestNotTransient:
    """What waiting will not fix is given up on at once."""

    @both
    def test_exception_raised_at_once(self, run: Runner) -> None:
        """A non-transient exception is raised after one call, without sleeping."""
        failure = Flaky(PERMANENT)
        script, timeline, give_ups = Script([failure, "never"]), Timeline(), GiveUps()
        with pytest.raises(Flaky) as raised:
            run(script, timeline, on_give_up=give_ups)
        assert raised.value is failure
        assert script.calls == 1
        assert timeline.sleeps == []
        assert give_ups.calls == [(PERMANENT, failure)]

    @both
    def test_err_returned_at_once(self, run: Runner) -> None:
        """A non-transient Err is returned after one call, without sleeping."""
        failure = Err(Flaky(PERMANENT))
        script, timeline, give_ups = Script([failure, "never"]), Timeline(), GiveUps()
        assert run(script, timeline, on_give_up=give_ups) is failure
        assert script.calls == 1
        assert timeline.sleeps == []
        assert give_ups.calls == [(PERMANENT, failure)]

    @both
    def test_non_transient_after_transient(self, run: Runner) -> None:
        """A permanent failure stops retrying even with attempts left."""
        script = Script([Flaky(), Flaky(PERMANENT), "never"])
        with pytest.raises(Flaky, match="flaky"):
            run(script, Timeline(), policy=RetryPolicy(attempts=10))
        assert script.calls == 2


class TestAttempts:
    """The attempts budget counts the first try."""

    @both
    @pytest.mark.parametrize("attempts", [1, 2, 3, 7])
    def test_gives_up_after_attempts(self, run: Runner, attempts: int) -> None:
        """Exactly `attempts` calls, then the last exception, one on_give_up."""
        failures = [Flaky(label=f"failure {n}") for n in range(attempts + 1)]
        script, timeline, give_ups = Script(failures), Timeline(), GiveUps()
        with pytest.raises(Flaky) as raised:
            run(
                script,
                timeline,
                policy=RetryPolicy(attempts=attempts),
                on_give_up=give_ups,
            )
        assert script.calls == attempts
        assert raised.value is failures[attempts - 1]
        assert len(timeline.sleeps) == attempts - 1
        assert give_ups.calls == [(TRANSIENT, failures[attempts - 1])]

    @both
    def test_last_err_returned(self, run: Runner) -> None:
        """When attempts run out on an Err, the last Err is returned."""
        errs = [Err(Flaky(label=str(n))) for n in range(3)]
        give_ups = GiveUps()
        result = run(Script(errs), Timeline(), on_give_up=give_ups)
        assert result is errs[2]
        assert give_ups.calls == [(TRANSIENT, errs[2])]

    @both
    def test_without_hooks(self, run: Runner) -> None:
        """Retrying and giving up work with no hooks at all."""
        script, timeline = Script([Flaky(), Flaky(), Flaky()]), Timeline()
        with pytest.raises(Flaky):
            run(script, timeline)
        assert script.calls == 3

    def test_budget_is_per_call(self) -> None:
        """Each call starts with the full budget."""
        script = Script([Flaky(), "first", Flaky(), Flaky(), "second"])
        policy = RetryPolicy(attempts=3)
        assert run_sync(script, Timeline(), policy=policy) == "first"
        assert run_sync(script, Timeline(), policy=policy) == "second"


class TestOnRetry:
    """on_retry is told what failed and how long the wait will be, before it."""

    @both
    def test_details_before_each_sleep(self, run: Runner) -> None:
        """One RetryDetails per retry, in order, each just before its sleep."""
        first, second = Flaky(), Err(Flaky())
        timeline = Timeline(start=100.0)
        script = Script([first, second, "ok"], timeline, cost=2.0)

        def on_retry(details: RetryDetails) -> None:
            timeline.events.append(("retry", details))

        run(script, timeline, on_retry=on_retry, rand=lambda: 0.5)
        assert timeline.events == [
            ("call", 1),
            ("retry", RetryDetails(1, 0.25, TRANSIENT, first, 2.0)),
            ("sleep", 0.25),
            ("call", 2),
            ("retry", RetryDetails(2, 0.5, TRANSIENT, second, 4.25)),
            ("sleep", 0.5),
            ("call", 3),
        ]
        retried = [event[1] for event in timeline.events if event[0] == "retry"]
        assert isinstance(retried[0], RetryDetails)
        assert retried[0].failure is first

    @both
    def test_not_called_when_giving_up(self, run: Runner) -> None:
        """Giving up never calls on_retry, only on_give_up."""
        retries: list[RetryDetails] = []
        give_ups = GiveUps()
        with pytest.raises(Flaky):
            run(
                Script([Flaky(PERMANENT)]),
                Timeline(),
                on_retry=retries.append,
                on_give_up=give_ups,
            )
        assert retries == []
        assert len(give_ups.calls) == 1

    @both
    def test_hook_exception_propagates(self, run: Runner) -> None:
        """An exception from on_retry stops the loop and propagates."""
        script = Script([Flaky(), "ok"])

        def on_retry(details: RetryDetails) -> None:
            raise RuntimeError(details.attempt)

        with pytest.raises(RuntimeError, match="1"):
            run(script, Timeline(), on_retry=on_retry)
        assert script.calls == 1

    def test_details_are_frozen(self) -> None:
        """RetryDetails cannot be changed by a hook."""
        details = RetryDetails(1, 0.5, TRANSIENT, Flaky(), 0.0)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            details.delay = 0  # type: ignore[misc]


class TestBackoff:
    """The loop sleeps full-jitter delays with the cap."""

    @both
    def test_exact_delays_at_full_draw(self, run: Runner) -> None:
        """random() == 1.0: delays are base * 2**(n-1), capped at max_delay."""
        timeline = Timeline()
        policy = RetryPolicy(attempts=7, base_delay=1.0, max_delay=5.0)
        with pytest.raises(Flaky):
            run(Script([Flaky()] * 7), timeline, policy=policy, rand=lambda: 1.0)
        assert timeline.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]

    @both
    def test_zero_draw(self, run: Runner) -> None:
        """random() == 0.0: every delay is zero."""
        timeline = Timeline()
        with pytest.raises(Flaky):
            run(
                Script([Flaky()] * 4),
                timeline,
                policy=RetryPolicy(attempts=4),
                rand=lambda: 0.0,
            )
        assert timeline.sleeps == [0.0, 0.0, 0.0]

    @both
    def test_draws_feed_the_delays(self, run: Runner) -> None:
        """Each retry draws its own number."""
        draws = iter([0.5, 0.25, 0.75])
        timeline = Timeline()
        policy = RetryPolicy(attempts=4, base_delay=4.0, max_delay=100.0)
        with pytest.raises(Flaky):
            run(
                Script([Flaky()] * 4), timeline, policy=policy, rand=lambda: next(draws)
            )
        assert timeline.sleeps == [2.0, 2.0, 12.0]


class TestRetryAfter:
    """The server's Retry-After is honoured, or deferred when too long."""

    @both
    def test_honoured(self, run: Runner) -> None:
        """The delay is the Retry-After the decision carries, and its jitter."""
        decision = transient(retry_after=12.0)
        timeline = Timeline()
        assert run(Script([Flaky(decision), "ok"]), timeline) == "ok"
        assert timeline.sleeps == [13.0]  # a draw of 1.0: the most jitter, 1 s
        timeline = Timeline()
        assert run(Script([Flaky(decision), "ok"]), timeline, rand=lambda: 0.0) == "ok"
        assert timeline.sleeps == [12.0]

    @both
    def test_backoff_wins_when_longer(self, run: Runner) -> None:
        """A short Retry-After does not shorten the backoff."""
        decision = transient(retry_after=0.1)
        timeline = Timeline()
        policy = RetryPolicy(base_delay=3.0)
        run(Script([Flaky(decision), "ok"]), timeline, policy=policy)
        assert timeline.sleeps == [3.0]

    @both
    def test_equal_to_the_maximum_is_slept(self, run: Runner) -> None:
        """A Retry-After exactly max_retry_after is still slept for."""
        decision = transient(retry_after=60.0)
        timeline = Timeline()
        assert run(Script([Flaky(decision), "ok"]), timeline, rand=lambda: 0.0) == "ok"
        assert timeline.sleeps == [60.0]

    @both
    def test_above_the_maximum_defers(self, run: Runner) -> None:
        """A longer Retry-After gives up at once, handing on a deferring decision."""
        link = ValueError("the link")
        decision = transient(retry_after=60.5, status=429, code="slow_down", link=link)
        failure = Flaky(decision)
        script, timeline, give_ups = Script([failure, "never"]), Timeline(), GiveUps()
        retries: list[RetryDetails] = []
        with pytest.raises(Flaky):
            run(script, timeline, on_give_up=give_ups, on_retry=retries.append)
        assert script.calls == 1
        assert timeline.sleeps == []
        assert retries == []
        [(handed, handed_failure)] = give_ups.calls
        assert handed_failure is failure
        assert handed == transient(
            retry_after=60.5, status=429, code="slow_down", defer=True
        )
        assert handed.link is link

    @both
    def test_policy_maximum_applies(self, run: Runner) -> None:
        """The policy's max_retry_after is the limit, not a fixed one."""
        decision = transient(retry_after=5.0)
        give_ups = GiveUps()
        result = run(
            Script([Err(Flaky(decision))]),
            Timeline(),
            policy=RetryPolicy(max_retry_after=4.0),
            on_give_up=give_ups,
        )
        assert isinstance(result, Err)
        assert give_ups.calls[0][0].defer

    @both
    def test_defer_from_the_classifier(self, run: Runner) -> None:
        """A decision already marked defer gives up at once, handed on unchanged."""
        decision = transient(retry_after=3.0, defer=True)
        script, timeline, give_ups = (
            Script([Flaky(decision), "never"]),
            Timeline(),
            GiveUps(),
        )
        with pytest.raises(Flaky):
            run(script, timeline, on_give_up=give_ups)
        assert script.calls == 1
        assert timeline.sleeps == []
        assert give_ups.calls[0][0] is decision

    @both
    def test_defer_on_the_first_of_many_attempts(self, run: Runner) -> None:
        """Deferring does not wait for the attempts to run out."""
        decision = transient(defer=True)
        script = Script([Flaky(decision), "never"])
        with pytest.raises(Flaky):
            run(script, Timeline(), policy=RetryPolicy(attempts=50))
        assert script.calls == 1

    @both
    def test_not_transient_is_never_marked_defer(self, run: Runner) -> None:
        """A permanent failure is handed on as it is, whatever its Retry-After."""
        decision = permanent(retry_after=600.0)
        give_ups = GiveUps()
        with pytest.raises(Flaky):
            run(Script([Flaky(decision)]), Timeline(), on_give_up=give_ups)
        assert give_ups.calls[0][0] is decision
        assert not give_ups.calls[0][0].defer

    @both
    def test_too_long_on_the_last_attempt_still_defers(self, run: Runner) -> None:
        """The handed-on decision says defer even when attempts also ran out."""
        decision = transient(retry_after=120.0)
        give_ups = GiveUps()
        with pytest.raises(Flaky):
            run(
                Script([Flaky(decision)]),
                Timeline(),
                policy=RetryPolicy(attempts=1),
                on_give_up=give_ups,
            )
        assert give_ups.calls[0][0].defer


class TestDeadline:
    """The time budget, measured from the first attempt by the injected clock."""

    @both
    def test_stops_when_the_sleep_would_pass_it(self, run: Runner) -> None:
        """A retry whose sleep would end past the deadline is not made."""
        timeline = Timeline(start=1000.0)
        script = Script([Flaky()] * 10, timeline, cost=1.0)
        give_ups = GiveUps()
        policy = RetryPolicy(attempts=10, base_delay=1.0, deadline=5.0)
        with pytest.raises(Flaky):
            run(script, timeline, policy=policy, on_give_up=give_ups)
        # fails at 1 (sleep 1 -> 2), fails at 3 (sleep 2 -> 5, on the deadline),
        # fails at 6: sleeping 4 more would end at 10, past 5.
        assert timeline.sleeps == [1.0, 2.0]
        assert script.calls == 3
        assert len(give_ups.calls) == 1

    @both
    def test_a_long_retry_after_hits_the_deadline(self, run: Runner) -> None:
        """Retry-After counts against the deadline like any sleep."""
        decision = transient(retry_after=30.0)
        timeline = Timeline()
        script = Script([Flaky(decision), "never"], timeline)
        with pytest.raises(Flaky):
            run(script, timeline, policy=RetryPolicy(deadline=29.0))
        assert timeline.sleeps == []

    @both
    def test_zero_deadline_means_one_attempt(self, run: Runner) -> None:
        """With deadline=0 only the first attempt runs (unless delays are 0)."""
        script = Script([Flaky(), "never"])
        with pytest.raises(Flaky):
            run(script, Timeline(), policy=RetryPolicy(deadline=0))
        assert script.calls == 1

    @both
    def test_no_deadline(self, run: Runner) -> None:
        """Without a deadline, only attempts limit retrying."""
        timeline = Timeline()
        script = Script([Flaky()] * 5 + ["ok"], timeline, cost=1000.0)
        assert run(script, timeline, policy=RetryPolicy(attempts=6)) == "ok"

    @both
    def test_elapsed_in_details(self, run: Runner) -> None:
        """RetryDetails.elapsed is the time since the first attempt started."""
        timeline = Timeline(start=50.0)
        script = Script([Flaky(), Flaky(), "ok"], timeline, cost=3.0)
        retries: list[RetryDetails] = []
        run(script, timeline, on_retry=retries.append)
        assert [details.elapsed for details in retries] == [3.0, 6.5]

    @both
    def test_backwards_clock_still_bounds_total_time(self, run: Runner) -> None:
        """A clock stepped back during an attempt does not turn the deadline off."""
        timeline = Timeline(start=1000.0)
        script = SteppedBack([Flaky()] * 20, timeline, cost=1.0)
        retries: list[RetryDetails] = []
        policy = RetryPolicy(attempts=20, base_delay=1.0, max_delay=1.0, deadline=5.0)
        with pytest.raises(Flaky):
            run(script, timeline, policy=policy, on_retry=retries.append)
        # The stepped-back attempt counts as nothing; the ones after it, as
        # they took: 0 (sleep 1), 2 (sleep 1), 4 (sleep 1), then 6 + 1 > 5.
        assert [details.elapsed for details in retries] == [0.0, 2.0, 4.0]
        assert script.calls == 4
        assert sum(timeline.sleeps) <= policy.deadline

    @both
    def test_clock_going_back_counts_the_sleep(self, run: Runner) -> None:
        """An interval in which the clock went back counts as the sleep it held."""
        readings = iter([10.0, 11.0, 0.0, 1.0, 2.0])
        retries: list[RetryDetails] = []
        timeline = Timeline()
        with pytest.raises(Flaky):
            run(
                Script([Flaky()] * 5),
                timeline,
                policy=RetryPolicy(attempts=4, base_delay=1.0),
                on_retry=retries.append,
                clock=lambda: next(readings),
            )
        # 10 -> 11: 1 s; 11 -> 0 held a sleep of 1 s; then 1 s each.
        assert timeline.sleeps == [1.0, 2.0, 4.0]
        assert [details.elapsed for details in retries] == [1.0, 2.0, 3.0]


class TestReraise:
    """The exception given up on is re-raised as it was."""

    def test_same_object_and_traceback(self) -> None:
        """The very exception is re-raised, with the frame that raised it."""
        failure = Flaky(PERMANENT)

        def charge() -> object:
            raise failure

        with pytest.raises(Flaky) as raised:
            Retrying(classifier=FakeClassifier()).call(charge)
        assert raised.value is failure
        assert "charge" in [entry.name for entry in raised.traceback]
        assert failure.__context__ is None

    def test_same_object_and_traceback_async(self) -> None:
        """call_async re-raises the very exception, with the frame that raised it."""
        failure = Flaky(PERMANENT)

        async def charge() -> object:
            raise failure

        with pytest.raises(Flaky) as raised:
            asyncio.run(Retrying(classifier=FakeClassifier()).call_async(charge))
        assert raised.value is failure
        assert "charge" in [entry.name for entry in raised.traceback]
        assert failure.__context__ is None

    @both
    def test_last_of_several_is_raised(self, run: Runner) -> None:
        """After retries, the exception of the last attempt is the one raised."""
        failures = [Flaky(label="first"), Flaky(label="second")]
        with pytest.raises(Flaky, match="second") as raised:
            run(Script(failures), Timeline(), policy=RetryPolicy(attempts=2))
        assert raised.value is failures[1]

    @both
    def test_give_up_hook_exception_propagates(self, run: Runner) -> None:
        """An exception from on_give_up propagates, chained to the failure."""
        failure = Flaky(PERMANENT)

        def on_give_up(decision: Decision, _failure: object) -> None:
            raise RuntimeError(decision.kind)

        with pytest.raises(RuntimeError, match="bug") as raised:
            run(Script([failure]), Timeline(), on_give_up=on_give_up)
        assert raised.value.__context__ is failure


class TestNotCaught:
    """Only Exception is a failure: the rest propagates untouched."""

    @pytest.mark.parametrize("exception", [KeyboardInterrupt(), SystemExit(1)])
    def test_base_exceptions_propagate(self, exception: BaseException) -> None:
        """KeyboardInterrupt and SystemExit are neither classified nor retried."""
        classifier = FakeClassifier()
        script, give_ups = Script([exception, "never"]), GiveUps()
        with pytest.raises(type(exception)) as raised:
            Retrying(classifier=classifier, on_give_up=give_ups).call(script)
        assert raised.value is exception
        assert script.calls == 1
        assert classifier.seen == []
        assert give_ups.calls == []

    def test_cancelled_error_propagates(self) -> None:
        """CancelledError raised by the function is neither classified nor retried."""
        classifier = FakeClassifier()
        script, give_ups = Script([asyncio.CancelledError(), "never"]), GiveUps()

        async def main() -> object:
            retrying = Retrying(classifier=classifier, on_give_up=give_ups)
            return await retrying.call_async(script.run)

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(main())
        assert script.calls == 1
        assert classifier.seen == []
        assert give_ups.calls == []

    def test_cancelled_while_sleeping(self) -> None:
        """Cancelling the task during the backoff sleep ends the retrying."""
        failure = Flaky()
        script, give_ups = Script([failure, "never"]), GiveUps()

        async def main() -> None:
            sleeping = asyncio.Event()

            async def sleep_forever(_: float) -> None:
                sleeping.set()
                await asyncio.Event().wait()

            retrying = Retrying(
                classifier=FakeClassifier(),
                sleep_async=sleep_forever,
                on_give_up=give_ups,
            )
            task = asyncio.ensure_future(retrying.call_async(script.run))
            await sleeping.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as raised:
                await task
            assert raised.value.__context__ is failure  # the failure is kept

        asyncio.run(main())
        assert script.calls == 1
        assert give_ups.calls == []

    def test_interrupted_sleep_keeps_the_failure(self) -> None:
        """A KeyboardInterrupt in the sleep propagates chained, without on_give_up."""
        failure, interrupt, give_ups = Flaky(), KeyboardInterrupt(), GiveUps()
        with pytest.raises(KeyboardInterrupt) as raised:
            run_sync(Script([failure]), BrokenSleep(interrupt), on_give_up=give_ups)
        assert raised.value is interrupt
        assert interrupt.__context__ is failure
        assert give_ups.calls == []
        assert interrupt.__notes__ == [
            (
                "raised by the sleep of 0.5 s before retrying attempt 1, which "
                "failed with Flaky; the retrying was interrupted (on_give_up was "
                "not called)"
            )
        ]

    def test_exception_group_is_a_failure(self) -> None:
        """An ExceptionGroup is an Exception: it is classified like any other."""
        group = ExceptionGroup("several", [ValueError()])
        seen: list[object] = []

        class Recording(Classifier):
            def classify(self, failure: object) -> Decision:
                seen.append(failure)
                return PERMANENT

        with pytest.raises(ExceptionGroup):
            Retrying(classifier=Recording()).call(Script([group]))
        assert seen == [group]


def _job_time_limits() -> list[Exception]:
    """Celery's soft time limit (from billiard, its pool) and RQ's job timeout."""
    from billiard.exceptions import SoftTimeLimitExceeded  # noqa: PLC0415 - test dependencies
    from rq.timeouts import JobTimeoutException  # noqa: PLC0415

    return [
        SoftTimeLimitExceeded(),
        JobTimeoutException("Task exceeded maximum timeout value (1 seconds)"),
    ]


def _wrapped(cause: Exception) -> Exception:
    """A failure raised from `cause`, as ``raise ... from cause`` makes it."""
    wrapped = RuntimeError("the payment call was cut short")
    wrapped.__cause__ = cause
    return wrapped


class TestJobTimeLimits:
    """A job engine's time limit goes through a retry loop, as an interruption does."""

    @both
    @pytest.mark.parametrize("index", [0, 1], ids=["celery", "rq"])
    def test_raised_at_once_with_no_hook(self, run: Runner, index: int) -> None:
        """The job's time is up: no attempt follows, no hook is called."""
        limit = _job_time_limits()[index]
        timeline, give_ups, retries = Timeline(), GiveUps(), []
        script = Script([limit, "never"])
        with pytest.raises(type(limit)) as raised:
            run(
                script,
                timeline,
                classifier=DEFAULT_CLASSIFIER,
                on_give_up=give_ups,
                on_retry=retries.append,
            )
        assert raised.value is limit
        assert (script.calls, timeline.sleeps) == (1, [])
        assert (give_ups.calls, retries) == ([], [])

    @both
    def test_a_failure_it_caused_is_raised_at_once(self, run: Runner) -> None:
        """A failure raised while handling the limit stops the loop too."""
        failure = _wrapped(_job_time_limits()[0])
        script = Script([failure, "never"])
        with pytest.raises(RuntimeError) as raised:
            run(script, Timeline(), classifier=DEFAULT_CLASSIFIER)
        assert raised.value is failure
        assert script.calls == 1

    @both
    def test_an_err_of_one_is_returned_at_once(self, run: Runner) -> None:
        """An Err holding the limit is returned, with no attempt more."""
        returned = Err(_job_time_limits()[1])
        script = Script([returned, "never"])
        assert run(script, Timeline(), classifier=DEFAULT_CLASSIFIER) is returned
        assert script.calls == 1

    @both
    def test_other_timeouts_are_still_retried(self, run: Runner) -> None:
        """A client's timeout, plain or wrapped, is retried as before."""
        timeouts = [TimeoutError("read timed out"), _wrapped(TimeoutError())]
        script = Script([*timeouts, "ok"])
        assert run(script, Timeline(), classifier=DEFAULT_CLASSIFIER) == "ok"
        assert script.calls == 3

    def test_a_timeout_another_link_decides_is_retried(self) -> None:
        """The limit must be what decided: a client's timeout over one is retried."""
        over_a_limit = TimeoutError("read timed out")
        over_a_limit.__cause__ = _job_time_limits()[0]
        script = Script([over_a_limit, "ok"])
        assert run_sync(script, Timeline(), classifier=DEFAULT_CLASSIFIER) == "ok"
        assert script.calls == 2


class TestSleepRaises:
    """A sleep that raises ends the retrying, and loses nothing."""

    @both
    def test_sleep_that_raises_keeps_the_failure(self, run: Runner) -> None:
        """The sleep's exception propagates chained to the failure it interrupted."""
        failure, broken, give_ups = Flaky(), RuntimeError("no timer"), GiveUps()
        with pytest.raises(RuntimeError) as raised:
            run(Script([failure, "never"]), BrokenSleep(broken), on_give_up=give_ups)
        assert raised.value is broken
        assert broken.__context__ is failure
        assert broken.__notes__ == [
            (
                "raised by the sleep of 0.5 s before retrying attempt 1, which "
                "failed with Flaky; retrying gave up (on_give_up was called)"
            )
        ]

    @both
    def test_sleep_that_raises_gives_up_once(self, run: Runner) -> None:
        """on_give_up is called exactly once, with the failure's decision."""
        failure, give_ups = Flaky(), GiveUps()
        script = Script([failure, "never"])
        with pytest.raises(RuntimeError):
            run(script, BrokenSleep(RuntimeError()), on_give_up=give_ups)
        assert give_ups.calls == [(TRANSIENT, failure)]
        assert script.calls == 1

    @both
    def test_sleep_that_raises_keeps_an_err(self, run: Runner) -> None:
        """An Err's exception ends the chain; on_give_up gets the Err itself."""
        held = Flaky()
        given_up, give_ups = Err(held), GiveUps()
        broken = RuntimeError("no timer")
        with pytest.raises(RuntimeError) as raised:
            run(Script([given_up]), BrokenSleep(broken), on_give_up=give_ups)
        assert raised.value.__context__ is held
        assert give_ups.calls == [(TRANSIENT, given_up)]
        assert "which failed with Err(Flaky)" in broken.__notes__[0]

    def test_sleep_that_raises_keeps_an_err_of_no_exception(self) -> None:
        """An Err holding no exception is named in the note and given up on."""

        class AlwaysTransient(Classifier):
            def classify(self, failure: object) -> Decision:
                return TRANSIENT

        busy, give_ups = Err("busy"), GiveUps()
        broken = RuntimeError("no timer")
        with pytest.raises(RuntimeError):
            Retrying(
                classifier=AlwaysTransient(),
                on_give_up=give_ups,
                sleep=BrokenSleep(broken).sleep,
            ).call(lambda: busy)
        assert broken.__context__ is None
        assert "which failed with Err(str)" in broken.__notes__[0]
        assert give_ups.calls == [(TRANSIENT, busy)]

    def test_sleep_raising_in_a_handler_keeps_both(self) -> None:
        """The failure goes at the end of a chain the sleep already has."""
        failure, inner = Flaky(), OSError("clock gone")

        def sleep(_seconds: float) -> None:
            try:
                raise inner
            except OSError:
                raise RuntimeError("no timer") from None

        with pytest.raises(RuntimeError) as raised:
            Retrying(classifier=FakeClassifier(), sleep=sleep).call(
                Script([failure, "never"])
            )
        assert raised.value.__context__ is inner
        assert inner.__context__ is failure

    def test_failure_already_in_the_chain_is_not_added(self) -> None:
        """A sleep whose exception already chains to the failure keeps its chain."""
        failure = Flaky()
        loop: list[BaseException] = []

        def sleep(_seconds: float) -> None:
            error = RuntimeError("again")
            error.__context__ = failure
            loop.append(error)
            raise error

        with pytest.raises(RuntimeError):
            Retrying(classifier=FakeClassifier(), sleep=sleep).call(
                Script([failure, "never"])
            )
        assert loop[0].__context__ is failure
        assert failure.__context__ is None

    def test_cyclic_chain_left_alone(self) -> None:
        """A chain of contexts that loops is not walked for ever."""
        failure = Flaky()
        first, second = RuntimeError("a"), RuntimeError("b")
        first.__context__, second.__context__ = second, first

        def sleep(_seconds: float) -> None:
            raise first

        with pytest.raises(RuntimeError):
            Retrying(classifier=FakeClassifier(), sleep=sleep).call(
                Script([failure, "never"])
            )
        assert (first.__context__, second.__context__) == (second, first)

    def test_sleep_that_raises_without_on_give_up(self) -> None:
        """Without on_give_up, the sleep's exception still propagates, chained."""
        failure, broken = Flaky(), RuntimeError("no timer")
        with pytest.raises(RuntimeError) as raised:
            run_sync(Script([failure]), BrokenSleep(broken))
        assert raised.value.__context__ is failure


class TestDefaults:
    """The defaults: the shipped classifier and the real clock, sleep and random."""

    def test_default_classifier(self) -> None:
        """Without a classifier, DEFAULT_CLASSIFIER decides: a timeout is retried."""
        timeline = Timeline()
        script = Script([TimeoutError("gateway"), "ok"])
        assert Retrying(sleep=timeline.sleep).call(script) == "ok"
        assert len(timeline.sleeps) == 1

    def test_default_classifier_does_not_retry_bugs(self) -> None:
        """Without a classifier, a KeyError (a bug) is raised at once."""
        script = Script([KeyError("sku"), "never"])
        with pytest.raises(KeyError):
            Retrying().call(script)
        assert script.calls == 1

    def test_default_classifier_async(self) -> None:
        """call_async uses DEFAULT_CLASSIFIER when none is given."""
        timeline = Timeline()
        script = Script([Err(ConnectionResetError()), Ok(1)])
        retrying = Retrying(sleep_async=timeline.async_sleep)
        result = asyncio.run(retrying.call_async(script.run))
        assert result == Ok(1)
        assert DEFAULT_CLASSIFIER.classify(ConnectionResetError()).transient

    def test_injectable_defaults(self) -> None:
        """Retrying sleeps with time.sleep and reads time.monotonic by default."""
        retrying = Retrying()
        assert retrying.sleep is time.sleep
        assert retrying.clock is time.monotonic
        assert retrying.policy == RetryPolicy()
        assert retrying.classifier is None

    def test_default_sleep_async(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The default sleep_async awaits asyncio.sleep, looked up when it is called."""
        slept: list[float] = []

        async def recorded_sleep(seconds: float) -> None:
            slept.append(seconds)

        sleep_async = Retrying().sleep_async
        monkeypatch.setattr(asyncio, "sleep", recorded_sleep)

        async def main() -> None:
            await sleep_async(1.5)

        asyncio.run(main())
        assert slept == [1.5]
        assert repr(sleep_async) == "<asyncio.sleep, imported when first called>"

    def test_default_random(self) -> None:
        """The default random draws from the random module's generator, seeded by it."""
        draw = Retrying().random
        state = random.getstate()
        try:
            random.seed(1234)
            drawn = [draw(), draw()]
            random.seed(1234)
            assert drawn == [random.random(), random.random()]  # noqa: S311
        finally:
            random.setstate(state)
        assert repr(draw) == "<random.random, imported when first called>"

    def test_function_is_positional_only(self) -> None:
        """fn is positional-only, so the function's own arguments follow it."""
        for method in (Retrying.call, Retrying.call_async):
            parameters = list(inspect.signature(method).parameters.values())
            assert parameters[1].kind is inspect.Parameter.POSITIONAL_ONLY

    def test_arguments_reach_the_function(self) -> None:
        """call and call_async pass the function its own positional and keywords."""

        def charge(order: str, *, policy: str, sleep: int) -> str:
            return f"{order}:{policy}:{sleep}"

        async def charge_async(order: str, *, policy: str, sleep: int) -> str:
            return charge(order, policy=policy, sleep=sleep)

        retrying = Retrying()
        assert retrying.call(charge, "A", policy="p", sleep=2) == "A:p:2"
        assert asyncio.run(
            retrying.call_async(charge_async, "B", policy="q", sleep=3)
        ) == ("B:q:3")


class TestMisuse:
    """Mistakes are reported at once, saying what to write instead."""

    def test_not_callable(self) -> None:
        """Passing a value instead of a function is a TypeError naming it."""
        with pytest.raises(TypeError, match=r"not its result, got 42: .*call\(fetch"):
            Retrying().call(42)  # type: ignore[call-overload]

    def test_not_callable_async(self) -> None:
        """call_async given a value instead of a function raises when awaited."""
        with pytest.raises(TypeError, match=r"not its result, got 42"):
            asyncio.run(Retrying().call_async(42))  # type: ignore[arg-type]

    def test_coroutine_to_call_async(self) -> None:
        """Passing a coroutine to call_async is a TypeError; the coroutine is closed."""
        coroutine = Script(["x"]).run()
        with pytest.raises(TypeError, match=r"call_async\(\) takes the function"):
            asyncio.run(Retrying().call_async(coroutine))  # type: ignore[arg-type]
        assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED

    def test_coroutine_to_call(self) -> None:
        """Passing a coroutine to call is a TypeError, and the coroutine is closed."""
        coroutine = Script(["x"]).run()
        with pytest.raises(TypeError, match=r"call\(\) takes the function"):
            Retrying().call(coroutine)  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED

    def test_async_function_to_call(self) -> None:
        """call() of a function returning a coroutine says to use call_async."""
        coroutines: list[Coroutine[Any, Any, object]] = []

        def start() -> Coroutine[Any, Any, object]:
            coroutines.append(Script(["x"]).run())
            return coroutines[-1]

        with pytest.raises(TypeError, match="call_async"):
            Retrying().call(start)  # type: ignore[deprecated]
        assert inspect.getcoroutinestate(coroutines[0]) == inspect.CORO_CLOSED

    def test_awaitable_to_call(self) -> None:
        """call() of a function returning a Future (not a coroutine) is refused."""

        async def main() -> None:
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            with pytest.raises(
                TypeError, match=r"cannot await the Future .*call_async"
            ):
                Retrying().call(lambda: future)  # type: ignore[deprecated]

        asyncio.run(main())

    def test_retrying_call_returns_plain_values(self) -> None:
        """A value that is neither Ok nor awaitable comes back from call() as is."""
        marker = object()
        assert Retrying().call(lambda: marker) is marker

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("policy", 3),
            ("classifier", "default"),
            ("on_retry", 1),
            ("on_give_up", "log"),
            ("sleep", 0.5),
            ("sleep_async", None),
            ("clock", 0),
            ("random", 0.5),
        ],
    )
    def test_bad_configuration(self, field: str, value: object) -> None:
        """A Retrying with a field of the wrong type names the field and the value."""
        with pytest.raises(TypeError, match=rf"Retrying {field} must be .*{value!r}"):
            Retrying(**{field: value})

    def test_bad_decorator_arguments(self) -> None:
        """@retry refuses what is not a Retrying, a RetryPolicy or a function."""
        with pytest.raises(TypeError, match=r"retry\(using=...\) takes a Retrying"):
            retry(using=RetryPolicy())  # type: ignore[call-overload]
        with pytest.raises(
            TypeError, match=r"retry\(policy=...\) takes a RetryPolicy, not 3"
        ):
            retry(policy=3)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match=r"@retry decorates a function, not 3"):
            retry()(3)  # type: ignore[arg-type]


class TestDecorator:
    """@retry keeps the signature and retries each call, sync or async."""

    def test_bare_decorator(self) -> None:
        """@retry with no arguments retries under the default policy."""
        calls: list[int] = []

        @retry
        def fetch() -> int:
            calls.append(1)
            if len(calls) < 2:
                raise ConnectionResetError
            return len(calls)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(time, "sleep", lambda _: None)
            assert fetch() == 2

    def test_bare_decorator_on_async(self) -> None:
        """Bare @retry on a coroutine function gives a coroutine function."""

        @retry
        async def fetch(order: str) -> str:
            return order

        assert inspect.iscoroutinefunction(fetch)
        assert asyncio.run(fetch("A-17")) == "A-17"

    def test_policy_replaces_the_one_of_using(self) -> None:
        """@retry(policy=...) wins over the policy of using=."""
        timeline = Timeline()
        script = Script([Flaky(), Flaky(), "ok"])
        using = Retrying(
            policy=RetryPolicy(attempts=5),
            classifier=FakeClassifier(),
            sleep=timeline.sleep,
        )
        wrapped = retry(policy=RetryPolicy(attempts=2), using=using)(script)
        with pytest.raises(Flaky):
            wrapped()
        assert script.calls == 2

    def test_retries_each_call(self) -> None:
        """Every call runs under its own retry loop, with the arguments given."""
        timeline = Timeline()
        seen: list[tuple[str, int]] = []
        failures = iter([Flaky(), None, Flaky(), None])
        retrying = Retrying(
            classifier=FakeClassifier(), sleep=timeline.sleep, random=lambda: 1.0
        )

        @retry(using=retrying)
        def reserve(sku: str, quantity: int = 1) -> str:
            seen.append((sku, quantity))
            failure = next(failures)
            if failure is not None:
                raise failure
            return f"{quantity} x {sku}"

        assert reserve("tea", quantity=2) == "2 x tea"
        assert reserve("cake") == "1 x cake"
        assert seen == [("tea", 2), ("tea", 2), ("cake", 1), ("cake", 1)]
        assert timeline.sleeps == [0.5, 0.5]

    def test_own_keywords_do_not_collide(self) -> None:
        """A function with parameters named like Retrying's fields receives them."""

        @retry(using=Retrying(sleep=lambda _: None))
        def job(policy: str, sleep: float, random: int) -> tuple[str, float, int]:
            return policy, sleep, random

        assert job(policy="p", sleep=2.0, random=4) == ("p", 2.0, 4)

    def test_metadata_kept(self) -> None:
        """Name, docstring and signature are those of the decorated function."""

        def reserve(sku: str, quantity: int = 1) -> str:
            """Reserve stock."""
            return sku * quantity  # pragma: no cover - never called

        wrapped = retry()(reserve)
        assert wrapped.__name__ == "reserve"
        assert wrapped.__doc__ == "Reserve stock."
        assert wrapped.__wrapped__ is reserve  # type: ignore[attr-defined]
        assert inspect.signature(wrapped) == inspect.signature(reserve)

    def test_async_retries_each_call(self) -> None:
        """An async function is retried by call_async, each call with its arguments."""
        timeline = Timeline()
        replies = iter([Err(Flaky()), Ok(1), Ok(2)])
        seen: list[tuple[str, int]] = []
        retrying = Retrying(
            classifier=FakeClassifier(),
            sleep_async=timeline.async_sleep,
            random=lambda: 1.0,
        )

        @retry(using=retrying)
        async def charge(order: str, *, amount: int) -> object:
            seen.append((order, amount))
            return next(replies)

        async def main() -> list[object]:
            return [await charge("A", amount=3), await charge("B", amount=4)]

        assert asyncio.run(main()) == [Ok(1), Ok(2)]
        assert seen == [("A", 3), ("A", 3), ("B", 4)]
        assert timeline.sleeps == [0.5]

    def test_async_callable_object_is_retried_async(self) -> None:
        """An object whose __call__ is async def gets the async wrapper."""
        timeline = Timeline()
        replies = iter([Err(Flaky()), Ok("paid")])

        class Charge:
            async def __call__(self, order: str) -> object:
                return next(replies)

        charge = retry(
            using=Retrying(
                classifier=FakeClassifier(),
                sleep_async=timeline.async_sleep,
                random=lambda: 1.0,
            )
        )(Charge())
        assert inspect.iscoroutinefunction(charge)
        assert asyncio.run(charge("A-17")) == Ok("paid")
        assert timeline.sleeps == [0.5]

    def test_a_class_is_decorated_sync(self) -> None:
        """A class is called to make an instance: the sync wrapper calls it."""

        class Receipt:
            async def __call__(self) -> None: ...  # pragma: no cover - not called

        made = retry(Receipt)()
        assert type(made) is Receipt

    def test_async_metadata_kept(self) -> None:
        """@retry keeps name and signature and the result is a coroutine function."""

        async def refund(order: str) -> int:
            """Refund an order."""
            return len(order)

        wrapped = retry()(refund)
        assert wrapped.__name__ == "refund"
        assert wrapped.__doc__ == "Refund an order."
        assert inspect.signature(wrapped) == inspect.signature(refund)
        assert inspect.iscoroutinefunction(wrapped)
        assert asyncio.run(wrapped("A-17")) == 4


class TestProperties:
    """Invariants of the loop, for any policy, draws and sequence of outcomes."""

    @given(policies(), outcomes, st.lists(unit_floats, min_size=1), st.floats(0, 10))
    def test_loop_invariants(
        self,
        policy: RetryPolicy,
        script_outcomes: list[object],
        draws: list[float],
        cost: float,
    ) -> None:
        """Calls <= attempts, delays bounded, on_give_up once iff it failed."""
        timeline = Timeline()
        script = Script(script_outcomes + [Ok("end")] * policy.attempts, timeline, cost)
        give_ups, retries = GiveUps(), list[RetryDetails]()
        index = iter(range(10**6))
        try:
            result: object = run_sync(
                script,
                timeline,
                policy=policy,
                rand=lambda: draws[next(index) % len(draws)],
                on_give_up=give_ups,
                on_retry=retries.append,
            )
        except Flaky as exc:
            result = exc
        assert 1 <= script.calls <= policy.attempts
        assert len(timeline.sleeps) == script.calls - 1 == len(retries)
        for details in retries:
            retry_after = details.decision.retry_after
            assert details.decision.transient
            assert not details.decision.defer
            assert details.delay >= 0
            if retry_after is None:
                assert details.delay <= policy.max_delay
            else:
                assert (
                    retry_after <= details.delay <= max(policy.max_delay, retry_after)
                )
                assert retry_after <= policy.max_retry_after
            if policy.deadline is not None:
                assert details.elapsed + details.delay <= policy.deadline
        failed = isinstance(result, Flaky | Err)
        assert len(give_ups.calls) == (1 if failed else 0)
        if failed:
            assert give_ups.calls[0][1] is result

    @given(policies(), outcomes, unit_floats)
    def test_async_matches_sync(
        self, policy: RetryPolicy, script_outcomes: list[object], draw: float
    ) -> None:
        """call_async makes the same calls, sleeps and result as call."""
        runs = []
        for run in (run_sync, run_async):
            timeline = Timeline()
            script = Script(
                script_outcomes + [Ok("end")] * policy.attempts, timeline, 1.0
            )
            give_ups = GiveUps()
            try:
                result: object = run(
                    script,
                    timeline,
                    policy=policy,
                    rand=lambda: draw,
                    on_give_up=give_ups,
                )
            except Flaky as exc:
                result = exc
            runs.append((script.calls, timeline.sleeps, result, give_ups.calls))
        assert runs[0] == runs[1]
