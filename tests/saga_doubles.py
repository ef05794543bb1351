"""
Test doubles for the saga tests.

The failures a test classifier knows, the `Journal` that builds recording steps
and sagas, the `Recorder` that plays generated step plans, and the small
helpers every saga test module reads results with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from outcome import (
    Bucket,
    Classifier,
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


class Declined(Exception):
    """A failure the user can fix: registered USER_FIXABLE."""


class GatewayDown(Exception):
    """A failure the user must be told about: registered USER_VISIBLE."""


class Flaky(Exception):
    """A failure worth retrying: registered transient."""


def make_classifier() -> Classifier:
    """A classifier that knows the test failures above."""
    classifier = Classifier()
    classifier.register(Declined, bucket=Bucket.USER_FIXABLE, kind="declined")
    classifier.register(GatewayDown, bucket=Bucket.USER_VISIBLE, kind="unavailable")
    classifier.register(
        Flaky, bucket=Bucket.USER_VISIBLE, transient=True, kind="timeout"
    )
    return classifier


CLASSIFIER = make_classifier()
CTX = {"order": "A-17"}


def declined() -> Errors:
    """What a step that cannot go on returns: a new collection each time."""
    return Errors([ErrorDetail("card", "declined")])


def still_held() -> Errors:
    """What a compensation that could not undo returns: a new collection each time."""
    return Errors([ErrorDetail(None, "still_held", bucket=Bucket.USER_VISIBLE)])


NO_UNDO: Any = object()  # a step without compensation


class Journal:
    """Builds recording steps and a saga, and keeps everything that happened."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []
        self.sleeps: list[float] = []
        self.async_sleeps: list[float] = []
        self.stuck_reports: list[tuple[str, Errors]] = []
        self.failures: list[SagaFailure] = []
        self.contexts: list[object] = []
        self.raised: list[BaseException] = []
        self.returned: list[object] = []

    # The callables -----------------------------------------------------------

    def _play(self, outcome: object) -> object:
        if isinstance(outcome, BaseException):
            self.raised.append(outcome)
            raise outcome
        if callable(outcome):
            return self._play(outcome())
        self.returned.append(outcome)
        return outcome

    def action(self, name: str, *outcomes: object) -> Callable[[object], object]:
        """An action that plays `outcomes`, one per call (the last one repeats)."""
        plays = list(outcomes)

        def act(ctx: object) -> object:
            self.events.append(("action", name))
            self.contexts.append(ctx)
            return self._play(plays.pop(0) if len(plays) > 1 else plays[0])

        return act

    def async_action(
        self, name: str, *outcomes: object
    ) -> Callable[[object], Awaitable[object]]:
        """The async twin of `action`: it awaits once before playing."""
        act = self.action(name, *outcomes)

        async def act_async(ctx: object) -> object:
            await asyncio.sleep(0)
            return act(ctx)

        return act_async

    def undo(self, name: str, *outcomes: object) -> Callable[[object, object], object]:
        """A compensation that records its log and plays `outcomes` (None: done)."""
        plays = list(outcomes) or [None]

        def compensate(ctx: object, log: object) -> object:
            self.events.append(("undo", name, log))
            self.contexts.append(ctx)
            return self._play(plays.pop(0) if len(plays) > 1 else plays[0])

        return compensate

    def async_undo(
        self, name: str, *outcomes: object
    ) -> Callable[[object, object], Awaitable[object]]:
        """The async twin of `undo`."""
        compensate = self.undo(name, *outcomes)

        async def compensate_async(ctx: object, log: object) -> object:
            await asyncio.sleep(0)
            return compensate(ctx, log)

        return compensate_async

    def undo_failed(self, name: str, *outcomes: object) -> Callable[[object], object]:
        """A compensate_failed that records its call and plays `outcomes`."""
        plays = list(outcomes) or [None]

        def compensate_failed(ctx: object) -> object:
            self.events.append(("undo_failed", name))
            self.contexts.append(ctx)
            return self._play(plays.pop(0) if len(plays) > 1 else plays[0])

        return compensate_failed

    def step(
        self,
        name: str,
        *outcomes: object,
        undo: Sequence[object] = (None,),
        undo_failed: Sequence[object] | None = None,
        retry_policy: RetryPolicy | None = None,
        is_async: bool = False,
    ) -> Step[Any, Any]:
        """A recording step; its action plays `outcomes` (by default Ok(name))."""
        plays = outcomes or (Ok(name),)
        action = (self.async_action if is_async else self.action)(name, *plays)
        compensate = None
        if undo is not NO_UNDO:
            compensate = (self.async_undo if is_async else self.undo)(name, *undo)
        failed = None
        if undo_failed is not None:
            failed = self.undo_failed(name, *undo_failed)
        return Step(
            name,
            action,
            compensate,
            compensate_failed=failed,
            retry_policy=retry_policy,
        )

    # The saga and its hooks ------------------------------------------------------

    def saga(self, steps: Sequence[Step[Any, Any]], **options: Any) -> Saga[Any]:
        """A saga with every hook recording and nothing really waiting."""
        options.setdefault("classifier", CLASSIFIER)
        return Saga(
            steps,
            on_step=self.on_step,
            on_compensated=self.on_compensated,
            on_stuck=self.on_stuck,
            on_failure=self.on_failure,
            retrying=Retrying(
                sleep=self.sleeps.append,
                sleep_async=self.async_sleep,
                clock=lambda: 0.0,
                random=lambda: 0.5,
            ),
            **options,
        )

    def on_step(self, name: str, log: object) -> None:
        """Record the step that completed."""
        self.events.append(("on_step", name, log))

    def on_compensated(self, name: str) -> None:
        """Record the step that was undone."""
        self.events.append(("on_compensated", name))

    def on_stuck(self, name: str, errors: Errors) -> None:
        """Record the step that could not be undone."""
        self.events.append(("on_stuck", name))
        self.stuck_reports.append((name, errors))

    def on_failure(self, failure: SagaFailure) -> None:
        """Record the failure."""
        self.events.append(("on_failure", failure.step))
        self.failures.append(failure)

    async def async_sleep(self, seconds: float) -> None:
        """Record the wait; never wait."""
        self.async_sleeps.append(seconds)

    # Reading the record --------------------------------------------------------

    def called(self, kind: str) -> list[object]:
        """The names of the events of one kind, in order."""
        return [event[1] for event in self.events if event[0] == kind]


def failure_of(result: object) -> SagaFailure:
    """The SagaFailure of an Err, or fail the test."""
    assert isinstance(result, Err), result
    failure = result.err_value
    assert isinstance(failure, SagaFailure)
    return failure


def run_async(saga: Saga[Any], ctx: object = CTX) -> object:
    """Run a saga with run_async in a new event loop."""
    return asyncio.run(saga.run_async(ctx))


# Generated sagas -------------------------------------------------------------


@attrs.frozen
class Plan:
    """What one generated step does, as data, so failures print well."""

    end: str  # the action's outcome once its transient failures are over
    transient: int  # transient failures before that outcome
    transient_form: str  # raised Flaky, raised TimeoutError, or Err(transient)
    attempts: int | None  # the step's RetryPolicy attempts; None: no policy
    undo: str | None  # the compensation's outcome; None: the step has none
    undo_transient: int  # transient failures of the compensation first
    undo_failed: str | None  # compensate_failed's outcome; None: not opted in
    async_action: bool
    async_undo: bool


class Recorder:
    """Builds a saga from plans and records every call it makes."""

    def __init__(self, saga: list[Plan], *, mixed: bool, is_async: bool) -> None:
        self.plans = saga
        self.mixed = mixed  # honour the plans' async flags
        self.is_async = is_async  # run with run_async: waits go to async_sleep
        self.ctx = object()
        self.trace: list[tuple[object, ...]] = []
        self.sleeps: list[float] = []
        self.wrong_sleeps: list[float] = []
        self.wrong_ctx = 0
        self.wrong_log = 0
        self.last: dict[tuple[str, int], object] = {}  # the last failure made
        self.failures: list[SagaFailure] = []
        self.stuck_errors: dict[int, Errors] = {}

    @staticmethod
    def name(index: int) -> str:
        """The name of step `index`."""
        return f"step{index}"

    @staticmethod
    def index(name: str) -> int:
        """The index of the step called `name`."""
        return int(name.removeprefix("step"))

    def _transient(self, form: str, key: tuple[str, int]) -> object:
        failure: object
        if form == "raise":
            failure = Flaky()
        elif form == "timeout":
            failure = TimeoutError("took too long")
        else:
            failure = Err(Errors([ErrorDetail(None, "busy", cause=Flaky())]))
        self.last[key] = failure
        return failure

    def _end(self, end: str, key: tuple[str, int]) -> object:
        failure: object
        if end == "ok":
            return Ok(f"log-{key[1]}") if key[0] == "action" else Ok("undone")
        if end == "none":
            return None
        if end == "err":
            failure = Err(declined() if key[0] == "action" else still_held())
        elif end == "empty":  # an Err of no errors at all
            failure = Err(Errors())
        elif end == "user":
            failure = Declined()
        else:
            failure = KeyError("a bug")
        self.last[key] = failure
        return failure

    def play(self, kind: str, index: int, ctx: object, log: object = None) -> object:
        """Record a call, then return or raise what the plan says."""
        attempt = 1 + sum(1 for e in self.trace if e[0] == kind and e[1] == index)
        self.trace.append((kind, index, attempt))
        self.wrong_ctx += ctx is not self.ctx
        plan = self.plans[index]
        if kind == "action":
            transient, form, end = plan.transient, plan.transient_form, plan.end
        elif kind == "undo":
            self.wrong_log += log != f"log-{index}"
            transient, form, end = plan.undo_transient, "raise", str(plan.undo)
        else:
            transient, form, end = 0, "raise", str(plan.undo_failed)
        key = (kind, index)
        outcome = (
            self._transient(form, key) if attempt <= transient else self._end(end, key)
        )
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def step(self, index: int) -> Step[Any, Any]:
        """The step that plays plan `index`."""
        plan = self.plans[index]
        play = self.play

        def action(ctx: object) -> Any:
            return play("action", index, ctx)

        async def action_async(ctx: object) -> Any:
            await asyncio.sleep(0)
            return play("action", index, ctx)

        def undo(ctx: object, log: object) -> object:
            return play("undo", index, ctx, log)

        async def undo_async(ctx: object, log: object) -> object:
            await asyncio.sleep(0)
            return play("undo", index, ctx, log)

        def undo_failed(ctx: object) -> object:
            return play("undo_failed", index, ctx)

        async def undo_failed_async(ctx: object) -> object:
            return play("undo_failed", index, ctx)

        async_undo = self.mixed and plan.async_undo
        return Step(
            self.name(index),
            action_async if self.mixed and plan.async_action else action,
            None if plan.undo is None else undo_async if async_undo else undo,
            compensate_failed=(
                None
                if plan.undo_failed is None
                else undo_failed_async
                if async_undo
                else undo_failed
            ),
            retry_policy=(
                None
                if plan.attempts is None
                else RetryPolicy(attempts=plan.attempts, base_delay=1.0, max_delay=4.0)
            ),
        )

    def saga(self) -> Saga[object]:
        """The saga of all the plans, with recording hooks and waits."""
        right, wrong = self.sleeps, self.wrong_sleeps
        if not self.is_async:
            right, wrong = wrong, right

        async def async_sleep(seconds: float) -> None:
            right.append(seconds)

        return Saga(
            [self.step(index) for index in range(len(self.plans))],
            classifier=CLASSIFIER,
            on_step=self.on_step,
            on_compensated=self.on_compensated,
            on_stuck=self.on_stuck,
            on_failure=self.on_failure,
            retrying=Retrying(
                sleep=wrong.append,
                sleep_async=async_sleep,
                clock=lambda: 0.0,
                random=lambda: 0.5,
            ),
        )

    def on_step(self, name: str, log: object) -> None:
        """Record a completed step; its log must be its action's."""
        index = self.index(name)
        self.wrong_log += log != f"log-{index}"
        self.trace.append(("on_step", index))

    def on_compensated(self, name: str) -> None:
        """Record an undone step."""
        self.trace.append(("on_compensated", self.index(name)))

    def on_stuck(self, name: str, errors: Errors) -> None:
        """Record a stuck step and what it reported."""
        self.stuck_errors[self.index(name)] = errors
        self.trace.append(("on_stuck", self.index(name)))

    def on_failure(self, failure: SagaFailure) -> None:
        """Record the failure."""
        self.failures.append(failure)
        self.trace.append(("on_failure", self.index(failure.step)))

    def run(self) -> tuple[object, BaseException | None]:
        """Run the saga; return its result, or the exception it raised."""
        saga = self.saga()
        try:
            if self.is_async:
                return run_async(saga, self.ctx), None
            return saga.run(self.ctx), None
        except KeyError as exc:
            return None, exc
