"""Tests for RetryBudget: the bucket, and how retrying, jobs and sagas spend it."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from typing import Any

import attrs
import pytest
from huey import MemoryHuey
from hypothesis import given
from hypothesis import strategies as st

from outcome import (
    Bucket,
    Decision,
    Err,
    Ok,
    RetryBudget,
    Retrying,
    RetryPolicy,
    Saga,
    SagaFailure,
    Step,
    retry,
)
from outcome.integrations.huey import job_status, task
from outcome.jobs import GiveUp, JobEvent, JobFailed, JobPolicy, RetryIn, _Job
from outcome.jobs import plan_failure as plan

TIMEOUT = Decision(Bucket.USER_VISIBLE, True, "timeout", rule="test")
RATE_LIMIT = TIMEOUT.replace(kind="rate_limit")
CONNECTION = TIMEOUT.replace(kind="connection")


class Failing(Exception):
    """A failure that decides as the decision it carries."""

    def __init__(self, decision: Decision = CONNECTION) -> None:
        super().__init__("the gateway is down")
        self.decision = decision

    def __outcome_decision__(self) -> Decision:
        return self.decision


class Outage:
    """A dependency that is down: every call fails, and is counted."""

    def __init__(self, decision: Decision = CONNECTION) -> None:
        self.decision = decision
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """Fail, counting the call."""
        with self._lock:
            self.calls += 1
        raise Failing(self.decision)

    async def call_async(self) -> str:
        """The async twin: fail, counting the call."""
        return self()


def no_sleep(_seconds: float) -> None:
    """Sleep for no time."""


async def no_wait(_seconds: float) -> None:
    """Yield to the other tasks, and wait for no time."""
    await asyncio.sleep(0)


def retrying(budget: RetryBudget, attempts: int = 10, **options: Any) -> Retrying:
    """A Retrying under `budget`, with no real sleeps."""
    return Retrying(
        policy=RetryPolicy(attempts=attempts, budget=budget),
        sleep=no_sleep,
        sleep_async=no_wait,
        random=lambda: 0.5,
        **options,
    )


class TestConstruction:
    """A budget is made full, with botocore's numbers unless told otherwise."""

    def test_botocore_defaults(self) -> None:
        """500 tokens; a retry costs 14, a rate limit 5; a success gives back 1."""
        budget = RetryBudget()
        assert (
            budget.capacity,
            budget.tokens,
            budget.retry_cost,
            budget.timeout_cost,
            budget.rate_limit_cost,
            budget.success_refund,
        ) == (500, 500, 14, 14, 5, 1)

    def test_every_number_can_be_given(self) -> None:
        """The AWS SDKs' earlier numbers, a timeout costing more, can be given."""
        budget = RetryBudget(
            50, retry_cost=5, timeout_cost=10, rate_limit_cost=2, success_refund=3
        )
        assert (budget.capacity, budget.tokens) == (50, 50)
        assert (budget.cost_of(CONNECTION), budget.cost_of(TIMEOUT)) == (5, 10)
        assert (budget.cost_of(RATE_LIMIT), budget.success_refund) == (2, 3)

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            ({"capacity": 0}, ValueError, r"capacity must be at least 1, got 0"),
            ({"capacity": -5}, ValueError, r"capacity must be at least 1, got -5"),
            ({"capacity": 1.5}, TypeError, r"capacity must be an int .*, got 1\.5"),
            ({"capacity": True}, TypeError, r"capacity must be an int .*, got True"),
            ({"capacity": "500"}, TypeError, r"capacity must be an int .*, got '500'"),
            ({"retry_cost": -1}, ValueError, r"retry_cost must be at least 0, got -1"),
            ({"timeout_cost": -2}, ValueError, r"timeout_cost must be at least 0"),
            ({"rate_limit_cost": -3}, ValueError, r"rate_limit_cost must be at least"),
            ({"success_refund": -1}, ValueError, r"success_refund must be at least 0"),
            ({"retry_cost": 5.0}, TypeError, r"retry_cost must be an int .*, got 5\.0"),
            ({"success_refund": None}, TypeError, r"success_refund must be an int"),
            (
                {
                    "capacity": 10,
                    "retry_cost": 1,
                    "rate_limit_cost": 1,
                    "timeout_cost": 11,
                },
                ValueError,
                (
                    r"timeout_cost must be at most the capacity \(10\), got 11: "
                    r"such a retry could never be made"
                ),
            ),
        ],
    )
    def test_bad_numbers_are_refused(
        self, options: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        """A bad capacity, cost or refund is refused with its name and value."""
        with pytest.raises(error, match=message):
            RetryBudget(**options)

    def test_repr(self) -> None:
        """The repr gives the configuration and the tokens left."""
        budget = RetryBudget(30)
        budget.take(14)
        assert repr(budget) == (
            "RetryBudget(capacity=30, retry_cost=14, timeout_cost=14, "
            "rate_limit_cost=5, success_refund=1) with 16 tokens left"
        )

    def test_read_only(self) -> None:
        """The numbers cannot be changed after the budget is made."""
        budget = RetryBudget()
        with pytest.raises(AttributeError):
            budget.capacity = 1  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


class TestTakeAndRefund:
    """Taking never overdraws; refunding never overfills."""

    def test_take_until_empty(self) -> None:
        """A take the bucket cannot pay for fails and leaves it as it was."""
        budget = RetryBudget(30)
        assert [budget.take(14) for _ in range(3)] == [True, True, False]
        assert budget.tokens == 2
        assert budget.take(2)
        assert budget.tokens == 0
        assert budget.take(0)

    def test_refund_is_capped(self) -> None:
        """A refund fills the bucket up to its capacity, no further."""
        budget = RetryBudget(30)
        budget.take(20)
        budget.refund(5)
        assert budget.tokens == 15
        budget.refund(1000)
        assert budget.tokens == 30
        budget.refund(1)
        assert budget.tokens == 30

    @pytest.mark.parametrize("method", ["take", "refund"])
    @pytest.mark.parametrize(
        ("tokens", "error", "message"),
        [
            (-1, ValueError, r"a number of tokens >= 0, not -1"),
            (1.0, TypeError, r"an int number of tokens, not 1\.0"),
            (True, TypeError, r"an int number of tokens, not True"),
            ("5", TypeError, r"an int number of tokens, not '5'"),
        ],
    )
    def test_bad_tokens_are_refused(
        self, method: str, tokens: object, error: type[Exception], message: str
    ) -> None:
        """take() and refund() refuse what is not a count of tokens, naming it."""
        budget = RetryBudget(30)
        budget.take(10)
        with pytest.raises(error, match=rf"RetryBudget\.{method}\(\) takes {message}"):
            getattr(budget, method)(tokens)
        assert budget.tokens == 20

    def test_cost_of(self) -> None:
        """A rate limit costs its own, a timeout its own, anything else a retry."""
        budget = RetryBudget(retry_cost=7, timeout_cost=9, rate_limit_cost=3)
        assert [budget.cost_of(d) for d in (RATE_LIMIT, TIMEOUT, CONNECTION)] == [
            3,
            9,
            7,
        ]


operations = st.lists(
    st.tuples(st.sampled_from(["take", "refund"]), st.integers(0, 60)), max_size=60
)


class TestProperties:
    """The bucket's invariants, whatever the sequence of takes and refunds."""

    @given(st.integers(1, 200), operations)
    def test_tokens_stay_within_bounds(
        self, capacity: int, steps: list[tuple[str, int]]
    ) -> None:
        """The tokens are never below 0 nor above the capacity."""
        budget = RetryBudget(capacity, retry_cost=0, timeout_cost=0, rate_limit_cost=0)
        for method, tokens in steps:
            getattr(budget, method)(tokens)
            assert 0 <= budget.tokens <= capacity

    @given(st.integers(1, 200), operations, st.integers(0, 200))
    def test_take_then_refund_restores(
        self, capacity: int, steps: list[tuple[str, int]], tokens: int
    ) -> None:
        """A take that succeeds, refunded, leaves the bucket as it was."""
        budget = RetryBudget(capacity, retry_cost=0, timeout_cost=0, rate_limit_cost=0)
        for method, amount in steps:
            getattr(budget, method)(amount)
        before = budget.tokens
        if budget.take(tokens):
            assert budget.tokens == before - tokens
            budget.refund(tokens)
        assert budget.tokens == before

    @given(st.integers(1, 200), operations)
    def test_take_succeeds_exactly_when_it_can_be_paid(
        self, capacity: int, steps: list[tuple[str, int]]
    ) -> None:
        """take() succeeds when the tokens are there, and only then."""
        budget = RetryBudget(capacity, retry_cost=0, timeout_cost=0, rate_limit_cost=0)
        model = capacity
        for method, tokens in steps:
            if method == "take":
                assert budget.take(tokens) is (tokens <= model)
                model -= tokens if tokens <= model else 0
            else:
                budget.refund(tokens)
                model = min(capacity, model + tokens)
            assert budget.tokens == model


class TestSharing:
    """A budget is one bucket: policies refer to it, copies share it."""

    def test_policies_with_the_same_budget_are_equal(self) -> None:
        """Two policies equal each other when they refer to the same budget."""
        budget = RetryBudget()
        assert RetryPolicy(budget=budget) == RetryPolicy(budget=budget)
        assert RetryPolicy(budget=budget) != RetryPolicy(budget=RetryBudget())
        assert RetryPolicy(budget=budget) != RetryPolicy()

    def test_hash_does_not_follow_the_tokens(self) -> None:
        """A policy's hash stays the same as its budget's tokens change."""
        budget = RetryBudget()
        policy = RetryPolicy(budget=budget)
        before = hash(policy)
        budget.take(100)
        assert hash(policy) == before
        assert {policy: "gateway"}[RetryPolicy(budget=budget)] == "gateway"

    def test_evolve_and_copies_keep_the_budget(self) -> None:
        """attrs.evolve, copy and deepcopy of a policy share its budget."""
        budget = RetryBudget()
        policy = RetryPolicy(budget=budget)
        assert attrs.evolve(policy, attempts=5).budget is budget
        assert copy.copy(policy).budget is budget
        assert copy.deepcopy(policy).budget is budget
        assert copy.copy(budget) is budget

    def test_pickles_as_a_new_bucket(self) -> None:
        """A pickled budget comes back as its own bucket, with the same numbers."""
        budget = RetryBudget(40, retry_cost=6, timeout_cost=8, rate_limit_cost=2)
        budget.take(10)
        copied = pickle.loads(pickle.dumps(RetryPolicy(budget=budget))).budget  # noqa: S301 - our own bytes
        assert copied is not budget
        assert repr(copied) == repr(budget)
        assert copied.take(30)
        assert not copied.take(1)
        assert budget.tokens == 30

    def test_policy_refuses_what_is_not_a_budget(self) -> None:
        """RetryPolicy(budget=...) takes a RetryBudget or None, naming the value."""
        with pytest.raises(
            TypeError, match=r"budget must be a RetryBudget or None, got 500"
        ):
            RetryPolicy(budget=500)  # type: ignore[arg-type]


class TestRetrying:
    """Retrying takes a budget's tokens for each retry and gives up without."""

    @pytest.mark.parametrize("form", ["call", "call_async"])
    def test_an_empty_budget_gives_up(self, form: str) -> None:
        """With no tokens left, the first failure gives up, told once, with a note."""
        budget = RetryBudget(14)
        assert budget.take(14)
        outage, given_up = Outage(), []
        configured = retrying(
            budget, on_give_up=lambda decision, failure: given_up.append(failure)
        )

        def call() -> object:
            if form == "call":
                return configured.call(outage)
            return asyncio.run(configured.call_async(outage.call_async))

        with pytest.raises(Failing) as raised:
            call()
        assert outage.calls == 1
        assert given_up == [raised.value]
        assert raised.value.__notes__ == [
            (
                "retrying gave up after attempt 1: the retry budget is empty (0 of 14 "
                "tokens left; retrying kind 'connection' costs 14)"
            ),
        ]

    def test_an_err_gives_up_with_a_note_on_its_exception(self) -> None:
        """A returned Err stops too; the note goes on the exception it holds."""
        budget = RetryBudget(14, rate_limit_cost=14)
        budget.take(1)
        failure = Failing(RATE_LIMIT)
        result = retrying(budget).call(lambda: Err(failure))
        assert result == Err(failure)
        assert failure.__notes__ == [
            (
                "retrying gave up after attempt 1: the retry budget is empty (13 of 14 "
                "tokens left; retrying kind 'rate_limit' costs 14)"
            ),
        ]

    def test_an_err_of_a_value_gives_up_without_a_note(self) -> None:
        """An Err holding no exception gives up all the same."""
        budget = RetryBudget(14)
        budget.take(14)
        calls: list[int] = []

        def busy() -> Err[str]:
            calls.append(1)
            return Err("busy")

        transient = Retrying(
            policy=RetryPolicy(attempts=5, budget=budget),
            classifier=_always(TIMEOUT),
            sleep=no_sleep,
        )
        assert transient.call(busy) == Err("busy")
        assert calls == [1]

    def test_each_retry_takes_its_cost(self) -> None:
        """A retry takes its kind's cost; the refused one takes nothing."""
        budget = RetryBudget(23, retry_cost=1, timeout_cost=10, rate_limit_cost=4)
        script = iter([Failing(TIMEOUT), Failing(RATE_LIMIT), Failing(TIMEOUT)])
        seen: list[int] = []

        def call() -> str:
            raise next(script)

        with pytest.raises(Failing):
            retrying(budget, on_retry=lambda _: seen.append(budget.tokens)).call(call)
        assert seen == [13, 9]
        assert budget.tokens == 9

    def test_a_first_success_refunds(self) -> None:
        """A success that needed no retry gives back success_refund."""
        budget = RetryBudget(30, success_refund=2)
        budget.take(10)
        assert retrying(budget).call(lambda: "done") == "done"
        assert budget.tokens == 22

    def test_a_success_leaves_a_full_budget_full(self) -> None:
        """A success with the bucket full changes nothing."""
        budget = RetryBudget(30)
        assert retrying(budget).call(lambda: "done") == "done"
        _Job(
            JobPolicy(retry=RetryPolicy(budget=budget)),
            "capture",
            "j-1",
            (),
            {},
            2,
            lambda status: None,
        ).succeeded()
        assert budget.tokens == 30

    @pytest.mark.parametrize("form", ["call", "call_async"])
    def test_a_successful_retry_gives_its_cost_back(self, form: str) -> None:
        """A success after retries gives back what its last retry took."""
        budget = RetryBudget(30, timeout_cost=10, rate_limit_cost=4)
        budget.take(10)
        script: list[object] = [Failing(TIMEOUT), Failing(RATE_LIMIT), Ok("done")]

        async def call_async() -> object:
            return call()

        def call() -> object:
            outcome = script.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        configured = retrying(budget)
        if form == "call":
            assert configured.call(call) == Ok("done")
        else:
            assert asyncio.run(configured.call_async(call_async)) == Ok("done")
        assert budget.tokens == 30 - 10 - 10 - 4 + 4

    def test_no_tokens_for_a_retry_that_would_not_be_made(self) -> None:
        """Attempts spent, a deadline, or a permanent failure take nothing."""
        budget = RetryBudget(30)
        with pytest.raises(Failing):
            retrying(budget, attempts=1).call(Outage())
        with pytest.raises(Failing):
            Retrying(
                policy=RetryPolicy(attempts=5, deadline=0.1, budget=budget),
                random=lambda: 1.0,
                sleep=no_sleep,
            ).call(Outage())
        with pytest.raises(KeyError):
            retrying(budget).call(dict[str, int]().__getitem__, "sku")
        assert budget.tokens == 30

    @pytest.mark.parametrize("error", [RuntimeError("timer"), KeyboardInterrupt()])
    def test_a_sleep_that_raises_gives_the_tokens_back(
        self, error: BaseException
    ) -> None:
        """When the sleep raises, the retry is not made, nor paid for."""
        budget = RetryBudget(30)

        def broken_sleep(_seconds: float) -> None:
            raise error

        configured = attrs.evolve(retrying(budget), sleep=broken_sleep)
        with pytest.raises(type(error)):
            configured.call(Outage())
        assert budget.tokens == 30

    def test_the_decorator_takes_a_budget(self) -> None:
        """@retry(policy=RetryPolicy(budget=...)) spends the budget too."""
        budget = RetryBudget(28)
        outage = Outage()
        fetch = retry(using=retrying(budget), policy=RetryPolicy(10, budget=budget))(
            outage
        )
        with pytest.raises(Failing):
            fetch()
        assert (outage.calls, budget.tokens) == (3, 0)


def _always(decision: Decision) -> Any:
    """A classifier that returns `decision` for every failure."""
    from outcome import Classifier  # noqa: PLC0415 - only these tests need it

    class Always(Classifier):
        def classify(self, failure: object) -> Decision:
            return decision

    return Always()


class TestOutage:
    """An outage costs the budget's retries, not attempts times callers."""

    CAPACITY = 70  # five retries of 14 tokens
    RETRIES = 5

    def test_eight_threads(self) -> None:
        """8 threads of 10 attempts each make 8 first tries and 5 retries in all."""
        budget, outage = RetryBudget(self.CAPACITY), Outage()
        configured = retrying(budget, attempts=10)
        barrier = threading.Barrier(8)
        failures: list[BaseException] = []

        def caller() -> None:
            barrier.wait()
            try:
                configured.call(outage)
            except Failing as exc:
                failures.append(exc)

        threads = [threading.Thread(target=caller) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(failures) == 8
        assert outage.calls == 8 + self.RETRIES
        assert budget.tokens == 0

    def test_a_hundred_tasks(self) -> None:
        """100 asyncio tasks of 10 attempts make 100 first tries and 5 retries."""
        budget, outage = RetryBudget(self.CAPACITY), Outage()
        configured = retrying(budget, attempts=10)

        async def callers() -> list[BaseException | str]:
            return await asyncio.gather(
                *(configured.call_async(outage.call_async) for _ in range(100)),
                return_exceptions=True,
            )

        results = asyncio.run(callers())
        assert all(isinstance(result, Failing) for result in results)
        assert outage.calls == 100 + self.RETRIES
        assert budget.tokens == 0

    def test_without_a_budget_every_caller_retries(self) -> None:
        """The same outage with no budget: attempts times callers."""
        outage = Outage()
        configured = Retrying(policy=RetryPolicy(attempts=10), sleep=no_sleep)
        for _ in range(8):
            with pytest.raises(Failing):
                configured.call(outage)
        assert outage.calls == 80


class TestRetryAfterJitter:
    """The server's wait gets a small positive jitter, never a shorter wait."""

    @given(
        st.floats(min_value=0, max_value=1e6),
        st.floats(min_value=0, max_value=1, exclude_max=True),
    )
    def test_never_shorter_and_bounded(self, retry_after: float, draw: float) -> None:
        """The delay is Retry-After plus at most 10% of it or 1 s, whichever is less."""
        policy = RetryPolicy(base_delay=0.0, max_delay=0.0)
        delay = policy.delay(1, TIMEOUT.replace(retry_after=retry_after), lambda: draw)
        assert retry_after <= delay <= retry_after + min(0.1 * retry_after, 1.0)

    def test_the_draw_scales_the_jitter(self) -> None:
        """The injected draw picks the jitter: 0 adds nothing, 0.5 half the most."""
        policy = RetryPolicy(base_delay=0.0, max_delay=0.0)
        short, long = (
            TIMEOUT.replace(retry_after=4.0),
            TIMEOUT.replace(retry_after=30.0),
        )
        assert policy.delay(1, short, lambda: 0.0) == 4.0
        assert policy.delay(1, short, lambda: 0.5) == pytest.approx(4.2)
        assert policy.delay(1, long, lambda: 0.5) == 30.5
        assert policy.delay(1, long, lambda: 0.999) == pytest.approx(30.999)

    def test_retrying_sleeps_the_jittered_wait(self) -> None:
        """Retrying sleeps the server's wait plus its jitter."""
        sleeps: list[float] = []
        script = iter([Failing(RATE_LIMIT.replace(retry_after=2.0))])

        def call() -> str:
            for failure in script:
                raise failure
            return "done"

        configured = Retrying(sleep=sleeps.append, random=lambda: 0.5)
        assert configured.call(call) == "done"
        assert sleeps == [pytest.approx(2.1)]

    def test_jobs_wait_the_jittered_wait(self) -> None:
        """plan_failure adds the jitter to the server's wait."""
        step = plan(
            JobPolicy(),
            Failing(RATE_LIMIT.replace(retry_after=20.0)),
            1,
            random=lambda: 0.5,
        )
        assert step == RetryIn(20.5, RATE_LIMIT.replace(retry_after=20.0))

    def test_a_cap_still_cuts(self) -> None:
        """A longest wait below the jittered wait is the countdown, capped."""
        decision = RATE_LIMIT.replace(retry_after=3600.0)
        step = plan(
            JobPolicy(), Failing(decision), 1, longest_wait=3600.0, random=lambda: 0.9
        )
        assert step == RetryIn(3600.0, decision, capped=True)


class TestJobs:
    """A job's retry takes the budget's tokens; an empty budget gives up."""

    def test_plan_failure_gives_up_for_the_budget(self) -> None:
        """The retry the budget cannot pay for gives up, with the reason "budget"."""
        budget = RetryBudget(20)
        policy = JobPolicy(retry=RetryPolicy(attempts=5, budget=budget))
        assert isinstance(plan(policy, Failing(), 1), RetryIn)
        assert budget.tokens == 6
        assert plan(policy, Failing(), 2) == GiveUp("budget", CONNECTION)
        assert budget.tokens == 6

    def test_no_tokens_for_a_job_that_gives_up_anyway(self) -> None:
        """A discarded or exhausted job takes nothing."""
        budget = RetryBudget(20)
        policy = JobPolicy(retry=RetryPolicy(attempts=2, budget=budget))
        assert plan(policy, KeyError("sku"), 1).decision.transient is False
        assert plan(policy, Failing(), 2) == GiveUp("exhausted", CONNECTION)
        assert budget.tokens == 20

    @pytest.mark.parametrize(("attempt", "tokens"), [(1, 7), (2, 20)])
    def test_a_success_refunds(self, attempt: int, tokens: int) -> None:
        """A first attempt's success gives back 1; a later one's the retry cost."""
        budget = RetryBudget(20)
        budget.take(14)
        policy = JobPolicy(retry=RetryPolicy(budget=budget))
        _Job(policy, "capture", "j-1", (), {}, attempt, lambda status: None).succeeded()
        assert budget.tokens == tokens

    def test_the_event_and_status_say_budget(self) -> None:
        """The give-up's event, status and JobFailed say "budget"."""
        budget = RetryBudget(14)
        budget.take(14)
        events: list[JobEvent] = []
        policy = JobPolicy(
            retry=RetryPolicy(attempts=5, budget=budget), on_give_up=events.append
        )
        job = _Job(policy, "capture", "j-1", (), {}, 1, lambda status: None)
        assert job.failed(Failing(), longest_wait=None) == GiveUp("budget", CONNECTION)
        [event] = events
        assert (event.state, event.reason) == ("failed", "budget")
        assert job.last_status["reason"] == "budget"
        assert str(JobFailed.gave_up(job.last_status)) == (
            "job capture j-1 gave up (budget: connection)"
        )

    def test_huey_gives_up_for_the_budget(self) -> None:
        """A real Huey job gives up with reason "budget" when the budget is empty."""
        huey = MemoryHuey(immediate=True)
        budget = RetryBudget(14)
        budget.take(14)
        outage, given_up = Outage(), list[JobEvent]()
        policy = JobPolicy(
            retry=RetryPolicy(attempts=5, budget=budget), on_give_up=given_up.append
        )

        @task(huey, policy=policy)
        def capture() -> str:
            return outage()

        result = capture()
        assert outage.calls == 1
        assert [event.reason for event in given_up] == ["budget"]
        status = job_status(huey, result.id)
        assert status is not None
        assert (status["state"], status["reason"], status["kind"]) == (
            "failed",
            "budget",
            "connection",
        )


class TestSaga:
    """A step's retry policy spends its budget as any retry does."""

    @pytest.mark.parametrize(("spent", "calls"), [(True, 1), (False, 5)])
    def test_a_step_gives_up_when_its_budget_is_empty(
        self, *, spent: bool, calls: int
    ) -> None:
        """An empty budget stops a step's retries; a full one lets them run."""
        budget = RetryBudget(140)
        if spent:
            budget.take(140)
        outage = Outage()

        def charge(_ctx: dict[str, object]) -> Ok[str]:
            return Ok(outage())

        step = Step(
            "charge", charge, retry_policy=RetryPolicy(attempts=5, budget=budget)
        )
        result = Saga([step], retrying=Retrying(sleep=no_sleep)).run({})
        assert isinstance(result, Err)
        assert isinstance(result.err_value, SagaFailure)
        assert outage.calls == calls
