"""
Retrying what the classifier calls transient: backoff with full jitter, budgets, hooks.

The function to retry takes no arguments: `retry` and `aretry` have keyword
parameters of their own (``policy``, ``sleep``, ``clock``, ...) that would
collide with the function's, so its arguments are bound by the caller, with a
``lambda`` or `functools.partial`. To retry every call of a function, decorate
it with `retrying` or `aretrying`, which keep its signature.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import random as _random
import time
from typing import TYPE_CHECKING, Any, Final

import attrs
from typing_extensions import ParamSpec, TypeIs, TypeVar

from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._result import Err

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from outcome._classify.decision import Decision

P = ParamSpec("P")
R = TypeVar("R")


def _check_attempts(
    _policy: object, _attribute: attrs.Attribute[int], value: object
) -> None:
    if type(value) is bool or not isinstance(value, int):
        msg = f"RetryPolicy attempts must be an int, got {value!r}"
        raise TypeError(msg)
    if value < 1:
        msg = (
            f"RetryPolicy attempts must be at least 1, got {value!r}: it counts the "
            "first try too, so attempts=1 means no retries"
        )
        raise ValueError(msg)


def _check_seconds(
    _policy: object, attribute: attrs.Attribute[float], value: object
) -> None:
    if type(value) is bool or not isinstance(value, int | float):
        msg = f"RetryPolicy {attribute.name} must be a number of seconds, got {value!r}"
        raise TypeError(msg)
    if not (math.isfinite(value) and value >= 0):
        msg = (
            f"RetryPolicy {attribute.name} must be a finite number of seconds >= 0, "
            f"got {value!r}"
        )
        raise ValueError(msg)


@attrs.frozen
class RetryPolicy:
    """
    How often and how long to retry: attempts, backoff with full jitter, budgets.

    A policy is a pure value: it draws no random numbers and reads no clock of
    its own. `delay` is given its random source, and `retry` / `aretry` are
    given their sleep, clock and random source, so tests never really wait.

    Attributes:
        attempts: Total tries, the first one included (``1`` means no retries).
        base_delay: Seconds of backoff before the first retry; each further
            retry doubles it, up to `max_delay`.
        max_delay: The cap on the backoff, in seconds (Retry-After may ask for
            more, up to `max_retry_after`).
        deadline: Total budget in seconds, measured from the start of the first
            attempt. A retry whose sleep would end past it is not made. `None`:
            no time budget, only `attempts`.
        max_retry_after: The longest Retry-After, in seconds, worth sleeping
            for. *Defer rather than sleep*: when the server asks for a longer
            wait (or the classifier already marked the decision ``defer``),
            retrying gives up at once and hands ``on_give_up`` a decision with
            ``defer=True`` and the server's ``retry_after``, so the caller can
            reschedule the work (re-enqueue the job) instead of holding a
            worker asleep. The classifier has its own ``max_retry_after``
            (60 s by default) above which it sets ``defer``: to sleep through
            longer waits, raise both.

    >>> from outcome import RetryPolicy
    >>> policy = RetryPolicy(attempts=5, deadline=20.0)
    >>> policy.attempts, policy.base_delay, policy.max_delay, policy.deadline
    (5, 0.5, 30.0, 20.0)
    >>> RetryPolicy(attempts=0)
    Traceback (most recent call last):
    ...
    ValueError: RetryPolicy attempts must be at least 1, got 0: ...

    Raises:
        ValueError: When a number of seconds is negative, NaN or infinite,
            `attempts` is less than 1, or `max_delay` is less than `base_delay`.
        TypeError: When `attempts` is not an int or a number of seconds is not
            an int or a float.

    .. versionadded:: 0.1.0
    """

    attempts: int = attrs.field(default=3, validator=_check_attempts)
    base_delay: float = attrs.field(default=0.5, validator=_check_seconds)
    max_delay: float = attrs.field(default=30.0, validator=_check_seconds)
    deadline: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_check_seconds)
    )
    max_retry_after: float = attrs.field(default=60.0, validator=_check_seconds)

    def __attrs_post_init__(self) -> None:
        if self.max_delay < self.base_delay:
            msg = (
                f"RetryPolicy max_delay must be >= base_delay, got max_delay="
                f"{self.max_delay!r} and base_delay={self.base_delay!r}: raise "
                "max_delay or lower base_delay"
            )
            raise ValueError(msg)

    def delay(
        self, retry_number: int, decision: Decision, random: Callable[[], float]
    ) -> float:
        """
        Seconds to wait before retry number `retry_number` (1 for the first retry).

        Full jitter: a uniform draw between 0 and the exponential backoff
        ``min(max_delay, base_delay * 2 ** (retry_number - 1))``, so that many
        clients failing together do not retry together. When the server asked
        for a wait (``decision.retry_after``), the delay is at least that.

        Args:
            retry_number: Which retry this is, from 1.
            decision: What the classifier said about the failure.
            random: Returns a float in ``[0, 1)``, like `random.random`.

        Returns:
            The delay in seconds.

        Raises:
            ValueError: When `retry_number` is less than 1.

        >>> from outcome import Bucket, Decision, RetryPolicy
        >>> policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
        >>> timeout = Decision(Bucket.USER_VISIBLE, True, "timeout")
        >>> [policy.delay(n, timeout, random=lambda: 0.5) for n in range(1, 7)]
        [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
        >>> rate_limited = Decision(
        ...     Bucket.USER_VISIBLE, True, "rate_limit", retry_after=7.0
        ... )
        >>> policy.delay(1, rate_limited, random=lambda: 0.5)
        7.0
        """
        if retry_number < 1:
            msg = f"retry_number counts retries from 1, got {retry_number!r}"
            raise ValueError(msg)
        try:
            backoff = math.ldexp(self.base_delay, retry_number - 1)
        except OverflowError:
            backoff = math.inf
        jittered = random() * min(self.max_delay, backoff)
        if decision.retry_after is None:
            return jittered
        return max(jittered, decision.retry_after)


_DEFAULT_POLICY: Final = RetryPolicy()


@attrs.frozen
class RetryDetails:
    """
    What ``on_retry`` is told before each sleep.

    Attributes:
        attempt: The number of the attempt that failed, from 1.
        delay: Seconds about to be slept before the next attempt.
        decision: What the classifier said about the failure.
        failure: The exception raised, or the `Err` returned.
        elapsed: Seconds since the first attempt started, by the injected clock.

    >>> from outcome import Err, RetryDetails, RetryPolicy, retry
    >>> def log_retry(details: RetryDetails) -> None:
    ...     print(
    ...         f"attempt {details.attempt} failed ({details.decision.kind}), "
    ...         f"retrying in {details.delay}s"
    ...     )
    >>> retry(
    ...     lambda: Err(ConnectionResetError()),
    ...     policy=RetryPolicy(attempts=2, base_delay=1.0),
    ...     on_retry=log_retry,
    ...     sleep=lambda seconds: None,
    ...     random=lambda: 0.5,
    ... )
    attempt 1 failed (connection), retrying in 0.5s
    Err(ConnectionResetError())

    .. versionadded:: 0.1.0
    """

    attempt: int
    delay: float
    decision: Decision
    failure: Exception | Err[object]
    elapsed: float


@attrs.define
class _Attempts:
    """The bookkeeping of one retry loop, shared by `retry` and `aretry`."""

    policy: RetryPolicy
    classifier: Classifier
    on_retry: Callable[[RetryDetails], object] | None
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None
    clock: Callable[[], float]
    random: Callable[[], float]
    start: float
    attempt: int = 0

    def failed(self, failure: Exception | Err[object]) -> float | None:
        """Return the delay before the next attempt, or `None` to give up."""
        elapsed = self.clock() - self.start
        decision, delay = self._plan(self.classifier.classify(failure), elapsed)
        if delay is None:
            if self.on_give_up is not None:
                self.on_give_up(decision, failure)
            return None
        if self.on_retry is not None:
            self.on_retry(RetryDetails(self.attempt, delay, decision, failure, elapsed))
        return delay

    def _plan(
        self, decision: Decision, elapsed: float
    ) -> tuple[Decision, float | None]:
        policy = self.policy
        if not decision.transient:
            return decision, None
        retry_after = decision.retry_after
        if (
            not decision.defer
            and retry_after is not None
            and retry_after > policy.max_retry_after
        ):
            decision = decision.replace(defer=True)
        if decision.defer or self.attempt >= policy.attempts:
            return decision, None
        delay = policy.delay(self.attempt, decision, self.random)
        if policy.deadline is not None and elapsed + delay > policy.deadline:
            return decision, None
        return decision, delay


def _check_callable(function: str, fn: object) -> None:
    if callable(fn):
        return
    if inspect.iscoroutine(fn):
        fn.close()  # it will never run: spare the "never awaited" warning
    msg = (
        f"{function}() takes the function to call, not its result, got {fn!r}: "
        f"bind its arguments with a lambda, as in {function}(lambda: fetch(url))"
    )
    raise TypeError(msg)


def _is_err(value: object) -> TypeIs[Err[object]]:
    return type(value) is Err


def _refuse_coroutine(result: object) -> None:
    if inspect.iscoroutine(result):
        result.close()
        msg = (
            "retry() cannot await the coroutine its function returned: use "
            "`await aretry(fn)` or the aretrying() decorator for async functions"
        )
        raise TypeError(msg)


def retry(  # noqa: PLR0913 - each hook and injectable is its own keyword
    fn: Callable[[], R],
    /,
    *,
    policy: RetryPolicy = _DEFAULT_POLICY,
    classifier: Classifier | None = None,
    on_retry: Callable[[RetryDetails], object] | None = None,
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] = _random.random,
) -> R:
    """
    Call `fn` until it succeeds, retrying only what the classifier calls transient.

    `fn` takes no arguments: bind them with ``lambda: charge(order, amount)``
    or `functools.partial`, so that they can never collide with the keywords
    of `retry` itself. To retry every call of a function, use `retrying`.

    A failure is an `Exception` raised by `fn` or an `Err` it returned; it is
    classified, and retried when the decision is transient and the policy's
    budget allows. Before each sleep, ``on_retry(details)`` is called. When
    retrying gives up for good (not transient, attempts exhausted, deadline
    reached, or a Retry-After too long to sleep for: see
    `RetryPolicy.max_retry_after`), ``on_give_up(decision, failure)`` is
    called exactly once, then the last exception is re-raised (the same
    object, traceback kept) or the last `Err` returned. Anything else `fn`
    returns, `Ok` or not, is returned as is. A `BaseException` that is not an
    `Exception` (`KeyboardInterrupt`, `SystemExit`) propagates untouched and
    is never retried. An exception raised by a hook propagates.

    Budgets multiply across layers: when `fn` calls a client that retries on
    its own, turn its retries off (``max_retries=0``) so that this loop alone
    owns the budget.

    Args:
        fn: The function to call, with no arguments.
        policy: Attempts, backoff and budgets.
        classifier: Decides what is transient; `DEFAULT_CLASSIFIER` if `None`.
        on_retry: Called before each sleep with a `RetryDetails`.
        on_give_up: Called once with the last decision and failure when
            retrying stops for good; check ``decision.defer`` to reschedule.
        sleep: Waits the given number of seconds.
        clock: Monotonic seconds, for `RetryPolicy.deadline`.
        random: Returns a float in ``[0, 1)``, for the jitter.

    Returns:
        What `fn` returned: its first success, or the last `Err`.

    Raises:
        TypeError: When `fn` is not callable, or returns a coroutine (use
            `aretry`).

    >>> from outcome import retry
    >>> attempts = []
    >>> def fetch_rates() -> dict[str, float]:
    ...     attempts.append(len(attempts) + 1)
    ...     if len(attempts) < 3:
    ...         raise TimeoutError("the rates service took too long")
    ...     return {"EUR": 1.08}
    >>> retry(fetch_rates, sleep=lambda seconds: None)
    {'EUR': 1.08}
    >>> attempts
    [1, 2, 3]

    A failure that waiting will not fix is raised at once:

    >>> retry(lambda: int("three"))
    Traceback (most recent call last):
    ...
    ValueError: invalid literal for int() with base 10: 'three'

    .. versionadded:: 0.1.0
    """
    _check_callable("retry", fn)
    loop = _Attempts(
        policy,
        DEFAULT_CLASSIFIER if classifier is None else classifier,
        on_retry,
        on_give_up,
        clock,
        random,
        clock(),
    )
    while True:
        loop.attempt += 1
        try:
            result = fn()
        except Exception as exc:
            delay = loop.failed(exc)
            if delay is None:
                raise
        else:
            if not _is_err(result):
                _refuse_coroutine(result)
                return result
            delay = loop.failed(result)
            if delay is None:
                return result
        sleep(delay)


async def aretry(  # noqa: PLR0913 - each hook and injectable is its own keyword
    fn: Callable[[], Awaitable[R]],
    /,
    *,
    policy: RetryPolicy = _DEFAULT_POLICY,
    classifier: Classifier | None = None,
    on_retry: Callable[[RetryDetails], object] | None = None,
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] = _random.random,
) -> R:
    """
    Await `fn()` until it succeeds, retrying only what the classifier calls transient.

    The asyncio twin of `retry`, with the same arguments except that `fn`
    returns an awaitable (call it with no arguments: ``lambda: fetch(url)``)
    and `sleep` is awaited. Cancellation (`asyncio.CancelledError`) propagates
    untouched and is never retried. The hooks are plain functions.

    Args:
        fn: The function to call, with no arguments; it returns an awaitable.
        policy: Attempts, backoff and budgets.
        classifier: Decides what is transient; `DEFAULT_CLASSIFIER` if `None`.
        on_retry: Called before each sleep with a `RetryDetails`.
        on_give_up: Called once with the last decision and failure when
            retrying stops for good; check ``decision.defer`` to reschedule.
        sleep: Awaited with the number of seconds to wait.
        clock: Monotonic seconds, for `RetryPolicy.deadline`.
        random: Returns a float in ``[0, 1)``, for the jitter.

    Returns:
        What `fn` returned once awaited: its first success, or the last `Err`.

    Raises:
        TypeError: When `fn` is not callable (a coroutine, say, rather than
            a function returning one).

    >>> import asyncio
    >>> from outcome import Err, Ok, Result, aretry
    >>> replies = iter([Err(ConnectionResetError()), Ok("paid")])
    >>> async def charge() -> Result[str, Exception]:
    ...     return next(replies)
    >>> async def no_wait(seconds: float) -> None: ...
    >>> asyncio.run(aretry(charge, sleep=no_wait))
    Ok('paid')

    .. versionadded:: 0.1.0
    """
    _check_callable("aretry", fn)
    loop = _Attempts(
        policy,
        DEFAULT_CLASSIFIER if classifier is None else classifier,
        on_retry,
        on_give_up,
        clock,
        random,
        clock(),
    )
    while True:
        loop.attempt += 1
        try:
            result = await fn()
        except Exception as exc:
            delay = loop.failed(exc)
            if delay is None:
                raise
        else:
            if not _is_err(result):
                return result
            delay = loop.failed(result)
            if delay is None:
                return result
        await sleep(delay)


def retrying(  # noqa: PLR0913 - each hook and injectable is its own keyword
    *,
    policy: RetryPolicy = _DEFAULT_POLICY,
    classifier: Classifier | None = None,
    on_retry: Callable[[RetryDetails], object] | None = None,
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] = _random.random,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """
    Make a decorator that runs each call of a function under `retry`.

    The decorated function keeps its signature, for callers and for type
    checkers alike; the arguments are those of `retry`.

    >>> from outcome import Err, Result, RetryPolicy, retrying
    >>> @retrying(policy=RetryPolicy(attempts=2), sleep=lambda seconds: None)
    ... def reserve(sku: str, quantity: int) -> Result[str, Exception]:
    ...     print(f"reserving {quantity} x {sku}")
    ...     return Err(TimeoutError("the warehouse took too long"))
    >>> reserve("tea", 2)
    reserving 2 x tea
    reserving 2 x tea
    Err(TimeoutError('the warehouse took too long'))

    Raises:
        TypeError: At decoration time, when the function is a coroutine
            function (use `aretrying`).

    .. versionadded:: 0.1.0
    """

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(fn):
            msg = f"{fn.__qualname__} is async: decorate it with aretrying() instead"
            raise TypeError(msg)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return retry(
                lambda: fn(*args, **kwargs),
                policy=policy,
                classifier=classifier,
                on_retry=on_retry,
                on_give_up=on_give_up,
                sleep=sleep,
                clock=clock,
                random=random,
            )

        return wrapper

    return decorator


def aretrying(  # noqa: PLR0913 - each hook and injectable is its own keyword
    *,
    policy: RetryPolicy = _DEFAULT_POLICY,
    classifier: Classifier | None = None,
    on_retry: Callable[[RetryDetails], object] | None = None,
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] = _random.random,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """
    Make a decorator that runs each call of an async function under `aretry`.

    The decorated function keeps its parameters and stays a coroutine
    function; the arguments are those of `aretry`.

    >>> import asyncio
    >>> from outcome import Err, Result, RetryPolicy, aretrying
    >>> async def no_wait(seconds: float) -> None: ...
    >>> @aretrying(policy=RetryPolicy(attempts=2), sleep=no_wait)
    ... async def refund(order: str) -> Result[str, Exception]:
    ...     print(f"refunding {order}")
    ...     return Err(ConnectionResetError())
    >>> asyncio.run(refund("A-17"))
    refunding A-17
    refunding A-17
    Err(ConnectionResetError())

    .. versionadded:: 0.1.0
    """

    def decorator(
        fn: Callable[P, Awaitable[R]],
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return await aretry(
                lambda: fn(*args, **kwargs),
                policy=policy,
                classifier=classifier,
                on_retry=on_retry,
                on_give_up=on_give_up,
                sleep=sleep,
                clock=clock,
                random=random,
            )

        return wrapper

    return decorator
