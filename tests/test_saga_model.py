"""Property tests for sagas: generated sagas checked against a model of them."""

from __future__ import annotations

import attrs
from hypothesis import event, given, settings
from hypothesis import strategies as st

from outcome import Bucket, Err, Ok
from tests.saga_doubles import Plan, Recorder, failure_of

# Sagas of 0 to 12 steps come in far more shapes than the other properties'
# inputs: run's check takes four times the profile's examples (2,000 under
# "ci"). run_async's start an event loop per example and keep the profile's.
# No deadline: an example's time depends on the machine more than on the code.
EXAMPLES = 4 * settings().max_examples

ACTION_ENDS = ("ok", "err", "empty", "user", "bug")
TRANSIENT_FORMS = ("raise", "timeout", "err")
UNDO_ENDS = ("none", "ok", "err", "empty", "user", "bug")


plans = st.builds(
    Plan,
    end=st.sampled_from(ACTION_ENDS),
    transient=st.sampled_from((0, 0, 0, 1, 2, 3)),
    transient_form=st.sampled_from(TRANSIENT_FORMS),
    attempts=st.none() | st.integers(1, 4),
    undo=st.sampled_from(UNDO_ENDS) | st.none(),
    undo_transient=st.integers(0, 2),
    undo_failed=st.none() | st.sampled_from(UNDO_ENDS),
    async_action=st.booleans(),
    async_undo=st.booleans(),
)


@st.composite
def saga_plans(draw: st.DrawFn) -> list[Plan]:
    """
    Plans for 0 to 12 steps; the steps before a chosen one succeed.

    Without that, most sagas would fail at their first or second step: the
    chosen step and those after it do anything (often fail), and in about
    one saga out of `count + 1` no step is chosen.
    """
    count = draw(st.integers(0, 12))
    first_free = draw(st.integers(0, count))
    saga = draw(st.lists(plans, min_size=count, max_size=count))
    return [
        attrs.evolve(
            plan, end="ok", transient=min(plan.transient, (plan.attempts or 1) - 1)
        )
        if index < first_free
        else plan
        for index, plan in enumerate(saga)
    ]


def _delay(retry_number: int) -> float:
    """The delay before a retry with base 1, cap 4 and a random draw of 0.5."""
    return 0.5 * min(4.0, 2.0 ** (retry_number - 1))


@attrs.define
class Expected:
    """What a saga of plans must do: its trace, its waits, how it ends."""

    trace: list[tuple[object, ...]]
    sleeps: list[float]
    failing: int | None = None
    end: str = "ok"
    compensated: list[int] = attrs.Factory(list)
    stuck: list[int] = attrs.Factory(list)


def _calls(transient: int, attempts: int) -> tuple[int, bool]:
    """How many calls a callable failing transiently `transient` times gets."""
    calls = min(transient + 1, attempts)
    return calls, transient < attempts


def expect(saga: list[Plan]) -> Expected:
    """Work out, from the plans alone, what the saga must do."""
    expected = Expected([], [])
    completed: list[int] = []
    for index, plan in enumerate(saga):
        attempts = plan.attempts or 1
        calls, reached = _calls(plan.transient, attempts)
        expected.trace += [("action", index, n) for n in range(1, calls + 1)]
        expected.sleeps += [_delay(n) for n in range(1, calls)]
        end = plan.end if reached else "transient"
        if end == "ok":
            expected.trace.append(("on_step", index))
            completed.append(index)
            continue
        expected.failing, expected.end = index, end
        undos: list[tuple[str, int, str, int]] = []
        if plan.undo_failed is not None:
            undos.append(("undo_failed", index, plan.undo_failed, 0))
        for done in reversed(completed):
            undo = saga[done].undo
            if undo is not None:
                undos.append(("undo", done, undo, saga[done].undo_transient))
        for kind, step, outcome, transient in undos:
            step_attempts = saga[step].attempts or 1
            calls, reached = _calls(transient, step_attempts)
            expected.trace += [(kind, step, n) for n in range(1, calls + 1)]
            expected.sleeps += [_delay(n) for n in range(1, calls)]
            if reached and outcome in {"none", "ok"}:
                expected.compensated.append(step)
                expected.trace.append(("on_compensated", step))
            else:
                expected.stuck.append(step)
                expected.trace.append(("on_stuck", step))
        expected.trace.append(("on_failure", index))
        return expected
    return expected


def check_trace(recorder: Recorder) -> None:
    """Check the invariants that can be read off the trace alone."""
    plans_, trace = recorder.plans, recorder.trace
    completed = [event[1] for event in trace if event[0] == "on_step"]
    failed = [event[1] for event in trace if event[0] == "on_failure"]
    acted = sorted({event[1] for event in trace if event[0] == "action"})
    undone = [event[1] for event in trace if event[0] == "undo" and event[2] == 1]
    undone_failed = [event[1] for event in trace if event[0] == "undo_failed"]
    if not failed:
        # Every step ran once, in order, and nothing was undone.
        assert acted == completed == list(range(len(plans_)))
        assert undone == undone_failed == []
    else:
        [failing] = failed
        # Steps ran in order; none after the failing one.
        assert acted == list(range(failing + 1))
        assert completed == list(range(failing))
        # Only completed steps are undone, newest first, at most once each.
        assert undone == [i for i in reversed(completed) if plans_[i].undo]
        # The failing step is compensated only when it opted in, and first.
        assert undone_failed in ([], [failing])
        assert not undone_failed or plans_[failing].undo_failed
        after = [event for event in trace if event[0] != "action"][failing:]
        kinds = [event[0] for event in after if event[0].startswith("undo")]
        assert kinds == sorted(kinds, key=lambda kind: kind != "undo_failed")
        assert after[-1] == ("on_failure", failing)
    assert recorder.wrong_ctx == 0
    assert recorder.wrong_log == 0


def check_run(recorder: Recorder) -> None:
    """Run the plans' saga; check it against the invariants and the model."""
    expected = expect(recorder.plans)
    event(f"ends: {expected.end}")
    undos = len(expected.compensated) + len(expected.stuck)
    event(f"compensations: {undos if undos < 4 else '4 or more'}")
    result, raised = recorder.run()
    check_trace(recorder)
    assert recorder.trace == expected.trace
    assert recorder.sleeps == expected.sleeps
    assert recorder.wrong_sleeps == []

    name = recorder.name
    if expected.failing is None:
        assert raised is None
        assert result == Ok({name(i): f"log-{i}" for i in range(len(recorder.plans))})
        assert recorder.failures == []
        return
    [failure] = recorder.failures
    assert failure.step == name(expected.failing)
    assert failure.compensated == tuple(map(name, expected.compensated))
    assert failure.stuck == tuple(map(name, expected.stuck))
    assert list(failure.compensation_errors) == list(failure.stuck)
    for index in expected.stuck:
        assert failure.compensation_errors[name(index)] is recorder.stuck_errors[index]
    # Whatever failed, the report says something about it.
    assert failure.original
    assert all(failure.compensation_errors.values())
    last = recorder.last[("action", expected.failing)]
    if expected.end == "bug":  # a programmer error: the same object, with a note
        assert raised is last
        assert raised.__notes__ == [failure.describe()]
        assert failure.cause is last
        return
    assert raised is None
    assert failure_of(result) is failure
    if isinstance(last, Err) and last.err_value:
        assert failure.original is last.err_value
        assert failure.cause is None
    elif isinstance(last, Err):  # Err(Errors()): a step_failed error instead
        assert failure.original.codes() == ["step_failed"]
        assert failure.cause is None
    else:
        assert failure.cause is last
        assert failure.original.bucket in {Bucket.USER_FIXABLE, Bucket.USER_VISIBLE}
    codes = failure.errors.codes()
    assert codes[: len(failure.original)] == failure.original.codes()


class TestProperties:
    """The saga invariants, for generated sagas of 0 to 12 steps."""

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(saga_plans())
    def test_property_run(self, saga: list[Plan]) -> None:
        """run undoes in reverse, once each, keeps the originals, as modelled."""
        check_run(Recorder(saga, mixed=False, is_async=False))

    @settings(deadline=None)
    @given(saga_plans())
    def test_property_run_async(self, saga: list[Plan]) -> None:
        """run_async, with sync and async callables mixed, does what run does."""
        check_run(Recorder(saga, mixed=True, is_async=True))

    @settings(deadline=None)
    @given(saga_plans())
    def test_property_run_async_sync_callables(self, saga: list[Plan]) -> None:
        """run_async with only sync callables does what run does."""
        check_run(Recorder(saga, mixed=False, is_async=True))
