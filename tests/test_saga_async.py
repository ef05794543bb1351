"""Tests for run_async: awaiting, mixing sync and async steps, cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import warnings
from typing import Any

import pytest

from outcome import Bucket, Err, Errors, Ok, Retrying, RetryPolicy, Saga, Step
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

AUDIT = contextvars.ContextVar("AUDIT", default="unset")


class TestRunAsync:
    """run_async awaits what is async, calls what is not, and compensates the same."""

    def test_mixed_success(self) -> None:
        """Sync and async actions mix; the logs come back by name."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", Ok(1), is_async=True),
                journal.step("b", Ok(2)),
                journal.step("c", Ok(3), is_async=True),
            ]
        )
        assert run_async(saga) == Ok({"a": 1, "b": 2, "c": 3})
        assert journal.called("action") == ["a", "b", "c"]
        assert journal.called("on_step") == ["a", "b", "c"]

    def test_mixed_compensation(self) -> None:
        """Sync and async compensations run in reverse, awaited in turn."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", Ok(1), is_async=True),
                journal.step("b", Ok(2)),
                journal.step("notify", Ok(0), is_async=True, undo=NO_UNDO),
                journal.step("c", Ok(3), is_async=True, undo=[Err(still_held())]),
                journal.step("d", Err(declined()), is_async=True),
            ]
        )
        failure = failure_of(run_async(saga))
        assert journal.called("undo") == ["c", "b", "a"]
        assert failure.compensated == ("b", "a")
        assert failure.stuck == ("c",)

    def test_async_compensate_failed(self) -> None:
        """An async compensate_failed is awaited with ctx."""
        seen: list[object] = []

        async def cancel_job(ctx: object) -> None:
            await asyncio.sleep(0)
            seen.append(ctx)

        async def enqueue(_ctx: object) -> Err[Errors]:
            raise GatewayDown("queue")

        saga = Saga(
            [Step("enqueue", enqueue, compensate_failed=cancel_job)],
            classifier=CLASSIFIER,
        )
        failure = failure_of(run_async(saga))
        assert seen == [CTX]
        assert failure.compensated == ("enqueue",)

    def test_same_story_as_run(self) -> None:
        """run_async makes the same calls and hook calls as run."""
        stories = []
        for runner in (lambda saga: saga.run(CTX), run_async):
            journal = Journal()
            saga = journal.saga(
                [
                    journal.step("a", Ok(1)),
                    journal.step("b", Ok(2), undo=[KeyError("b")]),
                    journal.step("c", Declined(), undo_failed=[None]),
                ]
            )
            failure = failure_of(runner(saga))
            stories.append((journal.events, failure))
        assert stories[0] == stories[1]

    def test_programmer_error_reraised(self) -> None:
        """An async action's bug compensates, then re-raises the same exception."""
        journal = Journal()
        bug = KeyError("sku")
        saga = journal.saga(
            [journal.step("a", is_async=True), journal.step("b", bug, is_async=True)]
        )
        with pytest.raises(KeyError) as raised:
            run_async(saga)
        assert raised.value is bug
        assert journal.called("undo") == ["a"]
        assert bug.__notes__ == [
            "saga step 'b' failed; compensated: 'a'; could not compensate: none"
        ]

    def test_non_result_is_type_error(self) -> None:
        """An async action returning a non-Result is a TypeError naming it."""
        journal = Journal()
        saga = journal.saga([journal.step("a"), journal.step("b", 42, is_async=True)])
        with pytest.raises(TypeError, match=r"step 'b': its action must return .* 42"):
            run_async(saga)
        assert journal.called("undo") == ["a"]

    def test_non_result_with_retry_policy(self) -> None:
        """An async step that retries and returns a non-Result fails once, a bug."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", is_async=True),
                journal.step(
                    "b", 42, is_async=True, retry_policy=RetryPolicy(attempts=3)
                ),
            ]
        )
        with pytest.raises(TypeError, match=r"step 'b': its action must return .* 42"):
            run_async(saga)
        assert journal.called("action") == ["a", "b"]
        assert journal.called("undo") == ["a"]

    def test_awaitable_returning_awaitable(self) -> None:
        """An action whose awaited value is awaitable again is refused, not awaited."""

        async def inner() -> Ok[int]:
            return Ok(1)

        async def action(_ctx: object) -> object:
            return inner()

        saga = Saga([Step("a", action)])  # type: ignore[arg-type]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(TypeError, match=r"step 'a': its action is async"):
                run_async(saga)
            gc.collect()
        assert caught == []

    def test_retries_with_async_sleep(self) -> None:
        """run_async waits with sleep_async; the sync sleep is never used."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step(
                    "a",
                    Flaky(),
                    Flaky(),
                    Ok(1),
                    is_async=True,
                    retry_policy=RetryPolicy(attempts=3, base_delay=1.0),
                ),
                journal.step(
                    "b",
                    Err(declined()),
                    undo_failed=[Flaky(), None],
                    retry_policy=RetryPolicy(attempts=2, base_delay=4.0),
                ),
            ]
        )
        failure = failure_of(run_async(saga))
        assert journal.async_sleeps == [0.5, 1.0, 2.0]
        assert journal.sleeps == []
        assert failure.compensated == ("b", "a")

    def test_default_async_sleep(self) -> None:
        """By default run_async waits with asyncio.sleep."""
        saga = Saga(
            [
                Step(
                    "a",
                    Journal().action("a", Flaky(), Ok(1)),
                    retry_policy=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0),
                )
            ],
            classifier=CLASSIFIER,
        )
        assert run_async(saga) == Ok({"a": 1})

    def test_keyboard_interrupt_propagates(self) -> None:
        """A KeyboardInterrupt from a sync action propagates, nothing undone."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a", is_async=True), journal.step("b", KeyboardInterrupt())]
        )
        with pytest.raises(KeyboardInterrupt):
            run_async(saga)
        assert journal.called("undo") == []
        assert journal.failures == []

    def test_compensation_classified_on_its_own_async(self) -> None:
        """run_async classifies a compensation's failure on its own too."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a", undo=[KeyError("order_id")], is_async=True),
                journal.step("b", Declined("card"), is_async=True),
            ]
        )
        [detail] = failure_of(run_async(saga)).compensation_errors["a"]
        assert (detail.code, detail.bucket) == ("bug", Bucket.PROGRAMMER_ERROR)


class TestCancellation:
    """Cancelling run_async compensates under shield, then propagates."""

    @staticmethod
    async def _cancel_while_waiting(
        saga: Saga[Any], waiting: asyncio.Event
    ) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(saga.run_async(CTX))
        await waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task

    def test_cancel_while_step_awaits(self) -> None:
        """The running step's compensate_failed runs, then the completed undos."""
        journal = Journal()

        async def main() -> None:
            waiting = asyncio.Event()

            async def wait_forever(_ctx: object) -> Ok[int]:
                journal.events.append(("action", "wait"))
                waiting.set()
                await asyncio.Event().wait()
                return Ok(0)  # pragma: no cover - never set

            saga = journal.saga(
                [
                    journal.step("a", Ok(1), is_async=True),
                    journal.step("b", Ok(2)),
                    Step(
                        "wait",
                        wait_forever,
                        journal.undo("wait"),
                        compensate_failed=journal.undo_failed("wait"),
                    ),
                    journal.step("d"),
                ]
            )
            task = await self._cancel_while_waiting(saga, waiting)
            assert task.cancelled()

        asyncio.run(main())
        assert journal.events == [
            ("action", "a"),
            ("on_step", "a", 1),
            ("action", "b"),
            ("on_step", "b", 2),
            ("action", "wait"),
            ("undo_failed", "wait"),
            ("on_compensated", "wait"),
            ("undo", "b", 2),
            ("on_compensated", "b"),
            ("undo", "a", 1),
            ("on_compensated", "a"),
        ]
        # A cancel is not a failure of the saga: no on_failure.
        assert journal.failures == []

    def test_cancel_in_flight_runs_compensate_failed(self) -> None:
        """A timeout in an enqueue that may have happened calls compensate_failed."""
        queue: list[str] = []

        async def enqueue(_ctx: object) -> Ok[str]:
            queue.append("charge A-17")  # the broker took it...
            await asyncio.Event().wait()  # ...but its answer never comes
            return Ok("job-1")  # pragma: no cover - never set

        async def cancel_any_job(_ctx: object) -> None:
            await asyncio.sleep(0)  # awaits, shielded from the cancel
            queue.clear()

        saga = Saga([Step("enqueue", enqueue, compensate_failed=cancel_any_job)])

        async def main() -> None:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await saga.run_async(CTX)

        asyncio.run(main())
        assert queue == []

    def test_cancel_in_flight_keeps_its_message(self) -> None:
        """The cancel that propagates is the one that came, message and all."""
        raised: list[BaseException] = []

        async def main() -> None:
            waiting = asyncio.Event()

            async def wait_forever(_ctx: object) -> Ok[int]:
                waiting.set()
                await asyncio.Event().wait()
                return Ok(0)  # pragma: no cover - never set

            async def undo_fails_cancelled(_ctx: object) -> None:
                raise asyncio.CancelledError("not this one")

            saga = Saga(
                [Step("wait", wait_forever, compensate_failed=undo_fails_cancelled)]
            )
            task = asyncio.ensure_future(saga.run_async(CTX))
            await waiting.wait()
            task.cancel("shutting down")
            try:
                await task
            except asyncio.CancelledError as cancel:
                raised.append(cancel)

        asyncio.run(main())
        [cancel] = raised
        assert cancel.args == ("shutting down",)

    def test_hook_raising_while_cancelled_is_chained(self) -> None:
        """A hook that raised while a cancel compensated is the cancel's cause."""
        raised: list[Exception] = []

        def on_compensated(name: str) -> None:
            raised.append(ConnectionError(f"metrics down for {name}"))
            raise raised[-1]

        async def hang(_ctx: object) -> Ok[int]:
            await asyncio.Event().wait()
            return Ok(0)  # pragma: no cover - never set

        journal = Journal()
        saga = Saga(
            [journal.step("a"), journal.step("b"), Step("hang", hang)],
            on_compensated=on_compensated,
        )

        async def main() -> BaseException:
            task = asyncio.ensure_future(saga.run_async(CTX))
            await asyncio.sleep(0.01)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError as cancel:
                return cancel
            raise AssertionError  # pragma: no cover - it is cancelled

        cancel = asyncio.run(main())
        first, _ = raised
        assert cancel.__cause__ is first
        assert journal.called("undo") == ["b", "a"]
        assert first.__notes__ == [
            (
                "raised by the saga hook on_compensated while compensating for a "
                "cancel of step 'hang'"
            ),
            (
                "the saga hook on_compensated raised too: "
                "ConnectionError('metrics down for a')"
            ),
        ]

    def test_compensation_awaits_under_shield(self) -> None:
        """Async compensations that await run to the end after the cancel."""
        journal = Journal()

        async def main() -> None:
            waiting = asyncio.Event()

            async def wait_forever(_ctx: object) -> Ok[int]:
                waiting.set()
                await asyncio.Event().wait()
                return Ok(0)  # pragma: no cover - never set

            async def slow_release(_ctx: object, log: object) -> None:
                for _ in range(5):
                    await asyncio.sleep(0)
                journal.events.append(("released", log))

            saga = journal.saga(
                [
                    Step("a", journal.action("a", Ok("hold")), slow_release),
                    journal.step("b", is_async=True, undo=[Err(still_held())]),
                    Step("wait", wait_forever),
                ]
            )
            await self._cancel_while_waiting(saga, waiting)

        asyncio.run(main())
        assert journal.events[-4:] == [
            ("undo", "b", "b"),
            ("on_stuck", "b"),
            ("released", "hold"),
            ("on_compensated", "a"),
        ]

    def test_cancel_during_retry_sleep(self) -> None:
        """A cancel while a step waits to retry compensates the completed steps."""
        journal = Journal()

        async def main() -> None:
            waiting = asyncio.Event()

            async def sleep_forever(_seconds: float) -> None:
                waiting.set()
                await asyncio.Event().wait()

            saga = Saga(
                [
                    journal.step("a"),
                    journal.step(
                        "b", Flaky(), Ok(2), retry_policy=RetryPolicy(attempts=2)
                    ),
                ],
                classifier=CLASSIFIER,
                retrying=Retrying(sleep_async=sleep_forever),
            )
            await self._cancel_while_waiting(saga, waiting)

        asyncio.run(main())
        assert journal.called("action") == ["a", "b"]
        assert journal.called("undo") == ["a"]

    def test_timeout_compensates(self) -> None:
        """asyncio.timeout around run_async undoes the steps, then times out."""
        journal = Journal()

        async def hang(_ctx: object) -> Ok[int]:
            await asyncio.Event().wait()
            return Ok(0)  # pragma: no cover - never set

        async def main() -> None:
            saga = journal.saga([journal.step("a", is_async=True), Step("hang", hang)])
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await saga.run_async(CTX)

        asyncio.run(main())
        assert journal.called("undo") == ["a"]

    def test_cancelled_error_from_action(self) -> None:
        """A CancelledError raised by an action is treated as a cancellation."""
        journal = Journal()
        saga = journal.saga(
            [journal.step("a"), journal.step("b", asyncio.CancelledError())]
        )
        with pytest.raises(asyncio.CancelledError):
            run_async(saga)
        assert journal.called("undo") == ["a"]

    def test_compensation_cancels_its_own_task(self) -> None:
        """An undo that cancels the task it runs in ends the run cancelled."""
        journal = Journal()

        async def cancel_own_task(_ctx: object, log: object) -> None:
            journal.events.append(("undo", "a", log))
            task = asyncio.current_task()
            assert task is not None
            task.cancel()

        saga = journal.saga(
            [
                Step("a", journal.action("a", Ok(1)), cancel_own_task),
                journal.step("b", Err(declined())),
            ]
        )
        with pytest.raises(asyncio.CancelledError):
            run_async(saga)
        assert journal.called("on_compensated") == ["a"]
        [failure] = journal.failures
        assert failure.compensated == ("a",)

    def test_compensation_cancelled_from_within(self) -> None:
        """An undo that is itself cancelled is stuck; the older ones still run."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[asyncio.CancelledError()], is_async=True),
                journal.step("c", Err(declined())),
            ]
        )
        with pytest.raises(asyncio.CancelledError):
            run_async(saga)
        assert journal.called("undo") == ["b", "a"]
        [failure] = journal.failures
        assert (failure.compensated, failure.stuck) == (("a",), ("b",))

    def test_cancelled_twice(self) -> None:
        """A second cancel during compensation does not cut it short."""
        journal = Journal()

        async def main() -> None:
            waiting, compensating = asyncio.Event(), asyncio.Event()

            async def wait_forever(_ctx: object) -> Ok[int]:
                waiting.set()
                await asyncio.Event().wait()
                return Ok(0)  # pragma: no cover - never set

            async def slow_refund(_ctx: object, log: object) -> None:
                compensating.set()
                for _ in range(5):
                    await asyncio.sleep(0)
                journal.events.append(("refunded", log))

            saga = journal.saga(
                [
                    journal.step("reserve", Ok("hold")),
                    Step("pay", journal.action("pay", Ok("pay-1")), slow_refund),
                    Step("wait", wait_forever),
                ]
            )
            task = asyncio.ensure_future(saga.run_async(CTX))
            await waiting.wait()
            task.cancel()
            await compensating.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert ("refunded", "pay-1") in journal.events
        assert journal.called("undo") == ["reserve"]

    def test_cancel_while_compensating(self) -> None:
        """A cancel during compensation lets every compensation finish first."""
        journal = Journal()

        async def main() -> None:
            compensating = asyncio.Event()

            async def slow_refund(_ctx: object, log: object) -> None:
                compensating.set()
                for _ in range(5):
                    await asyncio.sleep(0)
                journal.events.append(("refunded", log))

            saga = journal.saga(
                [
                    journal.step("reserve", Ok("hold")),
                    Step("pay", journal.action("pay", Ok("pay-1")), slow_refund),
                    journal.step("ship", Err(declined())),
                ]
            )
            await self._cancel_while_waiting(saga, compensating)

        asyncio.run(main())
        assert ("refunded", "pay-1") in journal.events
        assert journal.called("undo") == ["reserve"]

    def test_a_compensation_that_is_cancelled_propagates_the_cancel(self) -> None:
        """A compensation raising CancelledError ends the run with CancelledError."""

        async def undo(_ctx: object, _log: object) -> None:
            raise asyncio.CancelledError

        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), undo),
                Step("b", lambda _ctx: Err(declined())),
            ]
        )
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(saga.run_async(CTX))

    def test_compensation_cancel_reraised_as_it_was(self) -> None:
        """The CancelledError a compensation raised is the one raised, message kept."""
        journal = Journal()
        own = asyncio.CancelledError("the pool is closing")

        async def undo(_ctx: object, _log: object) -> None:
            raise own

        saga = journal.saga(
            [
                journal.step("a"),
                Step("b", journal.action("b", Ok(2)), undo),
                journal.step("c", Err(declined())),
            ]
        )

        async def main() -> None:
            with pytest.raises(asyncio.CancelledError) as raised:
                await saga.run_async(CTX)
            assert raised.value is own

        asyncio.run(main())
        assert own.args == ("the pool is closing",)
        assert journal.called("undo") == ["a"]  # the older one still ran
        failure = own.saga_failure  # type: ignore[attr-defined]
        assert (failure.compensated, failure.stuck) == (("a",), ("b",))

    def test_cancel_while_compensating_a_bug_propagates(self) -> None:
        """A cancel during a bug's compensation propagates, the bug as its cause."""
        journal = Journal()
        bug = KeyError("sku")

        async def main() -> None:
            compensating = asyncio.Event()

            async def slow_refund(_ctx: object, log: object) -> None:
                compensating.set()
                for _ in range(5):
                    await asyncio.sleep(0)
                journal.events.append(("refunded", log))

            saga = journal.saga(
                [
                    journal.step("reserve", Ok("hold")),
                    Step("pay", journal.action("pay", Ok("pay-1")), slow_refund),
                    journal.step("ship", bug),
                ]
            )
            task = asyncio.ensure_future(saga.run_async(CTX))
            await compensating.wait()
            task.cancel("shutting down")
            with pytest.raises(asyncio.CancelledError) as raised:
                await task
            cancel = raised.value
            assert cancel.args == ("shutting down",)
            assert cancel.__cause__ is bug
            assert cancel.saga_failure.cause is bug  # type: ignore[attr-defined]
            assert cancel.__notes__ == [
                (
                    "cancelled while compensating: saga step 'ship' failed; "
                    "compensated: 'pay', 'reserve'; could not compensate: none"
                )
            ]

        asyncio.run(main())
        assert ("refunded", "pay-1") in journal.events
        assert journal.called("undo") == ["reserve"]
        assert bug.__notes__ == [
            (
                "saga step 'ship' failed; compensated: 'pay', 'reserve'; "
                "could not compensate: none"
            )
        ]

    def test_cancel_while_compensating_a_hook_failure_chains_it(self) -> None:
        """A cancel that came while a raising hook's saga compensated chains it."""
        broken = ConnectionError("audit log down")

        def on_step(_name: str, _log: object) -> None:
            raise broken

        async def main() -> None:
            compensating = asyncio.Event()

            async def slow_undo(_ctx: object, _log: object) -> None:
                compensating.set()
                for _ in range(5):
                    await asyncio.sleep(0)

            saga = Saga([Step("a", lambda _ctx: Ok(1), slow_undo)], on_step=on_step)
            task = asyncio.ensure_future(saga.run_async(CTX))
            await compensating.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as raised:
                await task
            assert raised.value.__cause__ is broken
            assert broken.saga_failure.hook == "on_step"  # type: ignore[attr-defined]

        asyncio.run(main())


class TestCompensatingWithoutATask:
    """Undos that return at once run in the saga's own turn of the event loop."""

    def test_sync_undos_take_no_task(self) -> None:
        """With only synchronous undos, run_async starts no task to compensate."""
        tasks: list[int] = []

        def undo(_ctx: object, _log: object) -> None:
            tasks.append(len(asyncio.all_tasks()))

        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), undo),
                Step("b", lambda _ctx: Ok(2), undo),
                Step("c", lambda _ctx: Err(declined())),
            ]
        )

        async def main() -> Ok[object] | Err[object]:
            return await saga.run_async(CTX)

        assert failure_of(asyncio.run(main())).compensated == ("b", "a")
        assert tasks == [1, 1]  # the main task alone

    def test_no_event_loop_needed(self) -> None:
        """A saga whose steps and undos never wait runs with no event loop at all."""
        undone: list[object] = []
        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), lambda _ctx, log: undone.append(log)),
                Step("b", lambda _ctx: Err(declined())),
            ]
        )
        coroutine = saga.run_async(CTX)
        with pytest.raises(StopIteration) as stopped:
            coroutine.send(None)
        assert failure_of(stopped.value.value).compensated == ("a",)
        assert undone == [1]

    def test_no_asyncio_imported(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without asyncio imported, a run that never waits does not need it."""
        undone: list[object] = []
        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), lambda _ctx, log: undone.append(log)),
                Step("b", lambda _ctx: Err(declined())),
            ]
        )
        coroutine = saga.run_async(CTX)
        monkeypatch.delitem(sys.modules, "asyncio")
        with pytest.raises(StopIteration) as stopped:
            coroutine.send(None)
        monkeypatch.undo()
        assert failure_of(stopped.value.value).compensated == ("a",)
        assert undone == [1]

    def test_undos_share_a_context_of_their_own(self) -> None:
        """What the undos set in a ContextVar, sync or async, stays theirs."""
        seen: list[str] = []

        def sync_undo(_ctx: object, _log: object) -> None:
            seen.append(AUDIT.get())
            AUDIT.set("set by an undo")

        async def async_undo(_ctx: object, _log: object) -> None:
            seen.append(AUDIT.get())
            await asyncio.sleep(0)

        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), async_undo),
                Step("b", lambda _ctx: Ok(2), sync_undo),
                Step("c", lambda _ctx: Err(declined())),
            ]
        )

        async def main() -> str:
            AUDIT.set("the caller's")
            failure_of(await saga.run_async(CTX))
            return AUDIT.get()

        assert asyncio.run(main()) == "the caller's"
        assert seen == ["the caller's", "set by an undo"]

    @pytest.mark.parametrize("is_async", [False, True])
    def test_undo_cancelling_its_task(self, *, is_async: bool) -> None:
        """An undo that cancels its task, its own if async: the run ends cancelled."""
        journal = Journal()

        def cancel_task(_ctx: object, _log: object) -> None:
            task = asyncio.current_task()
            assert task is not None
            task.cancel("from an undo")

        async def cancel_own_task(ctx: object, log: object) -> None:
            cancel_task(ctx, log)

        saga = journal.saga(
            [
                Step("a", journal.action("a", Ok(1)), journal.undo("a")),
                Step(
                    "b",
                    journal.action("b", Ok(2)),
                    cancel_own_task if is_async else cancel_task,
                ),
                journal.step("c", Err(declined())),
            ]
        )

        async def main() -> None:
            with pytest.raises(asyncio.CancelledError) as raised:
                await saga.run_async(CTX)
            assert raised.value.args == ("from an undo",)
            failure = raised.value.saga_failure  # type: ignore[attr-defined]
            assert failure.compensated == ("b", "a")

        asyncio.run(main())
        assert journal.called("undo") == ["a"]

    def test_sync_undo_raising_cancelled(self) -> None:
        """A sync undo raising CancelledError is stuck; the others run; it goes on."""
        journal = Journal()
        own = asyncio.CancelledError("the pool is closing")
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[own]),
                journal.step("c", Err(declined())),
            ]
        )
        with pytest.raises(asyncio.CancelledError) as raised:
            run_async(saga)
        assert raised.value is own
        assert journal.called("undo") == ["b", "a"]
        [failure] = journal.failures
        assert (failure.compensated, failure.stuck) == (("a",), ("b",))

    @pytest.mark.parametrize("is_async", [False, True])
    def test_keyboard_interrupt_from_undo(self, *, is_async: bool) -> None:
        """A KeyboardInterrupt from an undo propagates; the older undos do not run."""
        journal = Journal()
        saga = journal.saga(
            [
                journal.step("a"),
                journal.step("b", undo=[KeyboardInterrupt()], is_async=is_async),
                journal.step("c", Err(declined())),
            ]
        )
        with pytest.raises(KeyboardInterrupt):
            run_async(saga)
        assert journal.called("undo") == ["b"]


class TestCompensationTask:
    """An undo that is awaited runs, with the undos after it, in a task of its own."""

    def test_own_timeout_interrupts_it(self) -> None:
        """A timeout an async undo sets for itself interrupts it: it is stuck."""
        journal = Journal()

        async def slow_refund(_ctx: object, _log: object) -> None:
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()

        saga = journal.saga(
            [
                journal.step("reserve"),
                Step("pay", journal.action("pay", Ok("pay-1")), slow_refund),
                journal.step("ship", Err(declined())),
            ]
        )
        failure = failure_of(run_async(saga))
        assert (failure.compensated, failure.stuck) == (("reserve",), ("pay",))
        [detail] = failure.compensation_errors["pay"]
        assert detail.code == "timeout"

    def test_runs_in_a_task_of_its_own(self) -> None:
        """An async undo's current task is not the task that runs the saga."""
        tasks: list[object] = []

        async def undo(_ctx: object, _log: object) -> None:
            tasks.append(asyncio.current_task())

        saga = Saga(
            [
                Step("a", lambda _ctx: Ok(1), undo),
                Step("b", lambda _ctx: Err(declined())),
            ]
        )

        async def main() -> object:
            failure_of(await saga.run_async(CTX))
            return asyncio.current_task()

        caller = asyncio.run(main())
        [task] = tasks
        assert task is not None
        assert task is not caller

    def test_cancel_in_the_turn_it_ends(self) -> None:
        """A cancel in the very turn the undos end is raised once they are done."""
        journal = Journal()
        done: list[str] = []

        async def main() -> None:
            loop = asyncio.get_running_loop()
            reply: asyncio.Future[None] = loop.create_future()
            waiting = asyncio.Event()

            async def refund(_ctx: object, _log: object) -> None:
                waiting.set()
                await reply
                done.append("refunded")

            saga = journal.saga(
                [
                    Step("pay", journal.action("pay", Ok("pay-1")), refund),
                    journal.step("ship", Err(declined())),
                ]
            )
            task = asyncio.ensure_future(saga.run_async(CTX))
            await waiting.wait()
            reply.set_result(None)  # the refund ends in the next turn...
            task.cancel("now")  # ...in which the saga is told of the cancel
            with pytest.raises(asyncio.CancelledError) as raised:
                await task
            assert raised.value.args == ("now",)

        asyncio.run(main())
        assert done == ["refunded"]
        assert journal.called("on_compensated") == ["pay"]
