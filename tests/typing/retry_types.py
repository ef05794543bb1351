"""
Type-level tests of retrying, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any, assert_type

from outcome import (
    Bucket,
    Classifier,
    Decision,
    Err,
    Ok,
    Result,
    RetryBudget,
    RetryDetails,
    Retrying,
    RetryPolicy,
    retry,
)


def fetch(url: str, *, timeout: float = 1.0) -> bytes:
    return url.encode() * int(timeout)


def charge(amount: int) -> Result[str, ValueError]:
    return Ok(str(amount))


async def refund(order: str) -> Result[int, KeyError]:
    return Ok(len(order))


async def ping() -> float:
    return 0.5


def log_retry(details: RetryDetails) -> None:
    assert_type(details.attempt, int)
    assert_type(details.delay, float)
    assert_type(details.decision, Decision)
    assert_type(details.failure, Exception | Err[object])
    assert_type(details.elapsed, float)


def log_give_up(decision: Decision, failure: Exception | Err[object]) -> None: ...


def give_up_on_exceptions(decision: Decision, failure: Exception) -> None: ...


def log_anything(decision: object, failure: object) -> str:
    return f"{decision}{failure}"


def returns() -> None:
    retrying = Retrying()
    assert_type(retrying.call(lambda: 1), int)
    assert_type(retrying.call(fetch, "u", timeout=2), bytes)
    assert_type(retrying.call(functools.partial(fetch, "u")), bytes)
    assert_type(retrying.call(charge, 3), Ok[str] | Err[ValueError])


def configuration() -> None:
    Retrying(on_retry=log_retry, on_give_up=log_give_up)
    Retrying(on_retry=print, on_give_up=log_anything)
    retrying = Retrying(
        policy=RetryPolicy(attempts=5, deadline=10),
        classifier=None,
        sleep=lambda seconds: None,
        sleep_async=ping_after,
        clock=lambda: 0.0,
        random=lambda: 0.5,
    )
    assert_type(retrying.policy, RetryPolicy)
    assert_type(retrying.classifier, Classifier | None)


async def ping_after(seconds: float) -> None: ...


def policy() -> None:
    p = RetryPolicy()
    assert_type(p.attempts, int)
    assert_type(p.base_delay, float)
    assert_type(p.max_delay, float)
    assert_type(p.deadline, float | None)
    assert_type(p.max_retry_after, float)
    decision = Decision(Bucket.USER_VISIBLE, True, "rate_limit", retry_after=2.0)
    assert_type(p.delay(1, decision, random=lambda: 0.5), float)


def budget() -> None:
    shared = RetryBudget(capacity=100, retry_cost=5, timeout_cost=10)
    assert_type(shared.capacity, int)
    assert_type(shared.tokens, int)
    assert_type(shared.retry_cost, int)
    assert_type(shared.timeout_cost, int)
    assert_type(shared.rate_limit_cost, int)
    assert_type(shared.success_refund, int)
    decision = Decision(Bucket.USER_VISIBLE, True, "timeout")
    assert_type(shared.cost_of(decision), int)
    assert_type(shared.take(shared.cost_of(decision)), bool)
    assert_type(shared.refund(1), None)
    p = RetryPolicy(attempts=4, budget=shared)
    assert_type(p.budget, RetryBudget | None)
    assert_type(Retrying(policy=p).call(fetch, "u"), bytes)


def wrong_budgets() -> None:
    RetryBudget(capacity=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    RetryBudget(500, 14)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    RetryBudget().take(1.0)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    RetryBudget().tokens = 3  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    RetryPolicy(budget=500)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def decorators() -> None:
    retried = retry(fetch)
    assert_type(retried("u"), bytes)
    assert_type(retried("u", timeout=3.0), bytes)

    @retry(using=Retrying(on_retry=log_retry))
    def reserve(sku: str, quantity: int = 1) -> Result[str, KeyError]:
        return Ok(sku * quantity)

    assert_type(reserve("tea"), Ok[str] | Err[KeyError])

    @retry(policy=RetryPolicy(attempts=2))
    def release(hold: str) -> None: ...

    assert_type(release("h-1"), None)

    refunding: Callable[[str], Coroutine[Any, Any, Result[int, KeyError]]]
    refunding = retry(refund)  # an async function stays one
    refunding("A-17").close()


async def awaited() -> None:
    retrying = Retrying()
    assert_type(await retrying.call_async(ping), float)
    assert_type(await retrying.call_async(refund, "A"), Ok[int] | Err[KeyError])

    @retry(policy=RetryPolicy(attempts=2))
    async def pay(order: str, amount: int) -> str:
        return order * amount

    assert_type(await pay("A", 2), str)

    @retry
    async def cancel(order: str) -> bool:
        return bool(order)

    assert_type(await cancel("A"), bool)


def wrong_types() -> None:
    retrying = Retrying()
    retrying.call(42)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    retrying.call(fetch)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    retrying.call(fetch, 3)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    retrying.call(charge, amount="3")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    Retrying(on_retry=log_give_up)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(on_give_up=log_retry)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(on_give_up=give_up_on_exceptions)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(classifier=log_retry)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(policy=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(sleep_async=print)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying(random=lambda: "0.5")  # type: ignore[arg-type,return-value]  # pyright: ignore[reportArgumentType]
    Retrying(RetryPolicy(), None, None, None, print, ping_after, print)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Retrying().policy = RetryPolicy()  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    RetryPolicy(attempts=2.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    RetryPolicy().attempts = 4  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

    retried = retry(fetch)
    retried(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retried("u", 3.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    retried("u", timeout="long")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(RetryPolicy())  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    retry(using=RetryPolicy())  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    retry(policy=Retrying())  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


class AsyncCharge:
    """A callable object whose __call__ is a coroutine function."""

    async def __call__(self, order: str) -> Result[str, KeyError]:
        """Charge the order."""
        return Ok(order)


def pending_receipt() -> asyncio.Future[str]:
    return asyncio.get_running_loop().create_future()


def parse(body: str) -> Any:
    return json.loads(body)


def async_through_the_sync_form() -> None:
    # Retrying an async def with call() would fail at run time: both checkers
    # report it, as a call of a deprecated overload. So they do for anything
    # else that returns an awaitable: call() refuses those at run time too.
    Retrying().call(ping)  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    Retrying().call(refund, "A-17")  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    Retrying().call(lambda: ping())  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    Retrying().call(functools.partial(refund, "A-17"))  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    Retrying().call(AsyncCharge(), "A-17")  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    Retrying().call(pending_receipt)  # type: ignore[deprecated]  # pyright: ignore[reportDeprecated]
    # The decorator tells them apart at run time: each stays what it was.
    charging: Callable[[str], Coroutine[Any, Any, Result[str, KeyError]]]
    charging = retry(AsyncCharge())
    charging("A-17").close()


def any_through_the_sync_form() -> None:
    # pyright takes a function typed as returning Any for one that may return
    # an awaitable, reports the call, and types its value object (mypy: Any,
    # and no report). Either way the code after the call is still checked.
    Retrying().call(parse, "{}")  # pyright: ignore[reportDeprecated]
    Retrying().call(json.loads, "{}")  # pyright: ignore[reportDeprecated]
    assert_type(Retrying().call(fetch, "u"), bytes)


async def wrong_async() -> None:
    retrying = Retrying()
    await retrying.call_async(fetch, "u")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await retrying.call_async(lambda: 1)  # type: ignore[arg-type,return-value]  # pyright: ignore[reportArgumentType]
    await retrying.call_async(refund, 3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await retry(refund)(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
