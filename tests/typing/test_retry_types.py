"""
Type-level tests of retrying, checked by mypy --strict and pyright strict.

Never run. A negative case is a line that must be an error: it carries
``# type: ignore[code]`` for mypy (with warn_unused_ignores) and
``# pyright: ignore[rule]`` for pyright (with reportUnnecessaryTypeIgnoreComment),
so the ignore itself is the assertion.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine
from typing import Any, assert_type

from outcome import (
    Bucket,
    Decision,
    Err,
    Ok,
    Result,
    RetryDetails,
    RetryPolicy,
    aretry,
    aretrying,
    retry,
    retrying,
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
    assert_type(retry(lambda: 1), int)
    assert_type(retry(lambda: fetch("u", timeout=2)), bytes)
    assert_type(retry(functools.partial(fetch, "u")), bytes)
    assert_type(retry(lambda: charge(3)), Ok[str] | Err[ValueError])


def hooks() -> None:
    retry(lambda: 1, on_retry=log_retry, on_give_up=log_give_up)
    retry(lambda: 1, on_retry=print, on_give_up=log_anything)
    retry(
        lambda: 1,
        policy=RetryPolicy(attempts=5, deadline=10),
        classifier=None,
        sleep=lambda seconds: None,
        clock=lambda: 0.0,
        random=lambda: 0.5,
    )


def policy() -> None:
    p = RetryPolicy()
    assert_type(p.attempts, int)
    assert_type(p.base_delay, float)
    assert_type(p.max_delay, float)
    assert_type(p.deadline, float | None)
    assert_type(p.max_retry_after, float)
    decision = Decision(Bucket.USER_VISIBLE, True, "rate_limit", retry_after=2.0)
    assert_type(p.delay(1, decision, random=lambda: 0.5), float)


def decorators() -> None:
    retried = retrying(on_retry=log_retry)(fetch)
    assert_type(retried("u"), bytes)
    assert_type(retried("u", timeout=3.0), bytes)

    @retrying()
    def reserve(sku: str, quantity: int = 1) -> Result[str, KeyError]:
        return Ok(sku * quantity)

    assert_type(reserve("tea"), Ok[str] | Err[KeyError])

    refunding = aretrying()(refund)
    pending = assert_type(
        refunding("A-17"), Coroutine[Any, Any, Ok[int] | Err[KeyError]]
    )
    pending.close()


async def awaited() -> None:
    assert_type(await aretry(ping), float)
    assert_type(await aretry(lambda: refund("A")), Ok[int] | Err[KeyError])
    assert_type(await aretry(ping, on_retry=log_retry, on_give_up=log_give_up), float)

    @aretrying(policy=RetryPolicy(attempts=2))
    async def pay(order: str, amount: int) -> str:
        return order * amount

    assert_type(await pay("A", 2), str)


def wrong_types() -> None:
    retry(42)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(fetch)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, on_retry=log_give_up)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, on_give_up=log_retry)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, on_give_up=give_up_on_exceptions)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, classifier=log_retry)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, policy=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, sleep=ping)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, random=lambda: "0.5")  # type: ignore[arg-type,return-value]  # pyright: ignore[reportArgumentType]
    retry(lambda: 1, RetryPolicy())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    RetryPolicy(attempts=2.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    RetryPolicy().attempts = 4  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

    retried = retrying()(fetch)
    retried(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retried("u", 3.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    retried("u", timeout="long")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    retrying(RetryPolicy())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def wrong_async() -> None:
    await aretry(fetch)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await aretry(lambda: 1)  # type: ignore[arg-type,return-value]  # pyright: ignore[reportArgumentType]
    await aretry(ping, sleep=print)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await aretrying()(refund)(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
