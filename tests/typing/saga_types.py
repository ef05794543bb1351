"""
Type-level tests of sagas, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, assert_type

from outcome import (
    Err,
    ErrorDetail,
    Errors,
    Ok,
    Result,
    Retrying,
    RetryPolicy,
    Saga,
    SagaFailure,
    Step,
)

Order = dict[str, int]


def mark_processing(ctx: Order) -> Result[str, Errors]:
    return Ok(f"pending:{len(ctx)}")


def back_to(ctx: Order, previous: str) -> None:
    ctx[previous] = 0


def enqueue(ctx: Order) -> Result[int, Errors]:
    return Ok(len(ctx))


def cancel_job(ctx: Order, job: int) -> Result[None, Errors]:
    return Ok(None) if job in ctx.values() else Err(Errors())


def cancel_if_enqueued(ctx: Order) -> None:
    ctx.clear()


async def charge(ctx: Order) -> Result[str, Errors]:
    return Ok(str(len(ctx)))


async def refund(ctx: Order, charge_id: str) -> None:
    ctx.pop(charge_id, None)


def declined(_ctx: Order) -> Err[Errors]:
    return Err(Errors([ErrorDetail("card", "declined")]))


def count(ctx: Order) -> int:
    return len(ctx)


def release_count(ctx: Order, log: int) -> None: ...


def releases_anything(ctx: object, log: object) -> None: ...


def on_step(name: str, log: object) -> None: ...


def on_compensated(name: str) -> None: ...


def on_stuck(name: str, errors: Errors) -> None: ...


def on_failure(failure: SagaFailure) -> None: ...


def on_step_int(name: str, log: int) -> None: ...


def on_stuck_str(name: str, errors: str) -> None: ...


def steps() -> None:
    assert_type(Step("mark_processing", mark_processing, back_to), Step[Order, str])
    assert_type(Step("mark_processing", mark_processing), Step[Order, str])
    assert_type(
        Step(
            "enqueue",
            enqueue,
            cancel_job,
            compensate_failed=cancel_if_enqueued,
            retry_policy=RetryPolicy(attempts=3),
        ),
        Step[Order, int],
    )
    assert_type(Step("charge", charge, refund), Step[Order, str])
    assert_type(Step("charge", charge, back_to), Step[Order, str])
    # An action that can only fail fits a step with any log.
    never_completes: Step[Order, str] = Step("declined", declined)
    assert_type(never_completes.name, str)
    # A compensation that accepts more than the log is fine.
    assert_type(Step("enqueue", enqueue, releases_anything), Step[Order, int])

    step = Step("enqueue", enqueue, cancel_job, compensate_failed=cancel_if_enqueued)
    assert_type(step.name, str)
    assert_type(
        step.action,
        Callable[[Order], Ok[int] | Err[Errors] | Awaitable[Ok[int] | Err[Errors]]],
    )
    assert_type(step.compensate, Callable[[Order, int], object] | None)
    assert_type(step.compensate_failed, Callable[[Order], object] | None)
    assert_type(step.retry_policy, RetryPolicy | None)


def sagas() -> None:
    saga = Saga(
        [
            Step("mark_processing", mark_processing, back_to),
            Step("charge", charge, refund),
        ]
    )
    assert_type(saga, Saga[Order])
    assert_type(saga.steps, tuple[Step[Order, Any], ...])
    assert_type(saga.run({"A-17": 1}), Ok[dict[str, object]] | Err[SagaFailure])

    # Steps whose logs differ: a tuple, or the saga's context given.
    mixed = Saga((Step("mark_processing", mark_processing), Step("enqueue", enqueue)))
    assert_type(mixed, Saga[Order])
    given = Saga[Order]([Step("mark_processing", mark_processing), Step("e", enqueue)])
    assert_type(given, Saga[Order])

    match saga.run({}):
        case Ok(logs):
            assert_type(logs, dict[str, object])
        case Err(failure):
            assert_type(failure, SagaFailure)

    Saga(
        [Step("enqueue", enqueue)],
        on_step=on_step,
        on_compensated=on_compensated,
        on_stuck=on_stuck,
        on_failure=on_failure,
        retrying=Retrying(sleep=lambda seconds: None, clock=lambda: 0.0),
    )
    Saga([Step("enqueue", enqueue)], on_step=print, on_failure=print)


async def awaited() -> None:
    saga = Saga((Step("charge", charge, refund), Step("enqueue", enqueue)))
    assert_type(await saga.run_async({}), Ok[dict[str, object]] | Err[SagaFailure])

    async def no_wait(seconds: float) -> None: ...

    Saga([Step("charge", charge)], retrying=Retrying(sleep_async=no_wait))


def failures() -> None:
    failure = SagaFailure("charge", Errors([ErrorDetail("card", "declined")]))
    assert_type(failure.step, str)
    assert_type(failure.original, Errors)
    assert_type(failure.compensated, tuple[str, ...])
    assert_type(failure.stuck, tuple[str, ...])
    assert_type(failure.compensation_errors, Mapping[str, Errors])
    assert_type(failure.cause, BaseException | None)
    assert_type(failure.errors, Errors)
    assert_type(failure.describe(), str)
    SagaFailure(
        "enqueue",
        Errors(),
        ("mark_processing",),
        (),
        {"mark_processing": Errors()},
        TimeoutError(),
    )


def wrong_steps() -> None:
    Step("x", mark_processing, cancel_job)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    Step("x", enqueue, release_count, compensate_failed=back_to)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Step("x", count)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Step("x", lambda ctx: 42)  # type: ignore[arg-type,return-value]  # pyright: ignore[reportArgumentType]
    Step(1, enqueue)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Step("x", enqueue, retry_policy=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Step("x", enqueue, cancel_job, cancel_if_enqueued)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Step("x", enqueue).name = "y"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


def wrong_sagas() -> None:
    saga = Saga([Step("enqueue", enqueue)])
    saga.run("A-17")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([enqueue])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga(Step("enqueue", enqueue))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([Step("enqueue", enqueue)], on_step=on_step_int)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([Step("enqueue", enqueue)], on_stuck=on_stuck_str)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([Step("enqueue", enqueue)], on_failure=on_stuck)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([Step("enqueue", enqueue)], retrying=RetryPolicy())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Saga([Step("enqueue", enqueue)], sleep=time.sleep)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Saga([Step("enqueue", enqueue)], RetryPolicy())  # type: ignore[call-arg,arg-type]  # pyright: ignore[reportCallIssue]
    failure = SagaFailure("charge", Errors())
    failure.step = "other"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    SagaFailure("charge", ["declined"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def one_context_per_saga(other: Callable[[str], Result[int, Errors]]) -> None:
    Saga([Step("enqueue", enqueue), Step("other", other)])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
