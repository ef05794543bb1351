"""
Type-level tests of sagas, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, assert_type

from outcome import (
    Bucket,
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
        Callable[
            [Order],
            Ok[int]
            | Err[Errors | ErrorDetail]
            | Awaitable[Ok[int] | Err[Errors | ErrorDetail]],
        ],
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


# The first example of docs/sagas.md, as it is written there: a list of steps
# whose logs differ (str, int) makes a Saga[int] with no annotation.

db = sqlite3.connect(":memory:", isolation_level=None)


def status(order_id: int) -> str:
    row: tuple[str] = db.execute(
        "SELECT status FROM orders WHERE id = ?", (order_id,)
    ).fetchone()
    return row[0]


class PaymentQueue:
    """Stands in for the broker the payment worker reads from."""

    def __init__(self) -> None:
        self.jobs: dict[int, str] = {}
        self.sent = 0
        self.reachable = True

    def put(self, order_id: int, delay_minutes: int = 0) -> int:
        """Enqueue a charge of the order."""
        if not self.reachable:
            raise ConnectionRefusedError("payments-broker:5672 refused the connection")
        self.sent += 1
        self.jobs[self.sent] = f"charge order {order_id} in {delay_minutes} min"
        return self.sent

    def cancel(self, job_id: int) -> None:
        """Take a job off the queue."""
        del self.jobs[job_id]


queue = PaymentQueue()


def guide_mark_processing(order_id: int) -> Result[str, Errors]:
    previous = status(order_id)
    if previous != "pending":
        errors = Errors()
        errors.add(code="not_pending", bucket=Bucket.USER_VISIBLE, status=previous)
        return Err(errors)
    db.execute("UPDATE orders SET status = 'processing' WHERE id = ?", (order_id,))
    return Ok(previous)


def put_back(order_id: int, previous: str) -> None:
    db.execute("UPDATE orders SET status = ? WHERE id = ?", (previous, order_id))


def enqueue_payment(order_id: int) -> Result[int, Errors]:
    return Ok(queue.put(order_id))


def cancel_payment(_order_id: int, job_id: int) -> None:
    queue.cancel(job_id)


def the_guides_first_saga() -> None:
    checkout = Saga(
        [
            Step("mark_processing", guide_mark_processing, put_back),
            Step("enqueue_payment", enqueue_payment, cancel_payment),
        ]
    )
    assert_type(checkout, Saga[int])
    assert_type(checkout.run(1), Ok[dict[str, object]] | Err[SagaFailure])


# A step's context is contravariant: a step written for a base context joins
# a saga over a derived one.


class Purchase:
    """A base context."""

    order_id: int = 0


class PaidPurchase(Purchase):
    """A context derived from it."""

    payment_id: str = ""


def audit(_ctx: Purchase) -> Result[None, Errors]:
    return Ok(None)


def capture(ctx: PaidPurchase) -> Result[str, Errors]:
    return Ok(ctx.payment_id)


def contexts() -> None:
    for_any_purchase: Step[PaidPurchase, None] = Step("audit", audit)
    assert_type(for_any_purchase.name, str)
    # mypy joins a list's items as if the context were invariant (pyright
    # does not): name the saga's context, or write the steps as a tuple.
    saga = Saga[PaidPurchase]([Step("audit", audit), Step("capture", capture)])
    assert_type(saga, Saga[PaidPurchase])
    steps = (Step("audit", audit), Step("capture", capture))
    assert_type(Saga(steps), Saga[PaidPurchase])
    saga.run(PaidPurchase())
    saga.run(Purchase())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    only_paid: Step[Purchase, str] = Step("capture", capture)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    assert_type(only_paid.name, str)


# An action may fail with one ErrorDetail, as Err(ErrorDetail(...)).


def expired(_ctx: Purchase) -> Result[str, ErrorDetail]:
    return Err(ErrorDetail("card", "expired"))


def error_details() -> None:
    assert_type(Step("charge", expired), Step[Purchase, str])
    assert_type(Saga([Step("charge", expired)]), Saga[Purchase])


# The logs are dict[str, object]: each step's log has a type of its own, so
# the step reads its own back.


def logs() -> None:
    mark = Step("mark_processing", guide_mark_processing, put_back)
    pay = Step("enqueue_payment", enqueue_payment, cancel_payment)
    match Saga([mark, pay]).run(1):
        case Ok(logs):
            assert_type(logs, dict[str, object])
            assert_type(mark.read_log(logs), str)
            assert_type(pay.read_log(logs), int)
        case Err(failure):
            assert_type(failure.hook, str | None)
    mark.read_log(["mark_processing"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
