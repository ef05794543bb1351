"""
Retrying what the classifier calls transient: backoff with full jitter, budgets, hooks.

`Retrying` bundles the configuration once (policy, classifier, hooks, and the
injectable sleep, clock and random source); its `Retrying.call` and
`Retrying.call_async` call a function with its own arguments. `retry` is the
decorator, bare or configured, for sync and async functions alike.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import threading
import time
from typing import TYPE_CHECKING, Final, NoReturn, cast, final, overload

import attrs
from typing_extensions import ParamSpec, TypeIs, TypeVar, deprecated

from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._classify.facts import _class_info
from outcome._result import Err, Ok

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

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


# The defaults of botocore's "standard" retry mode (botocore/retries/quota.py:
# RetryQuota.INITIAL_CAPACITY; botocore/retries/standard.py: RetryQuotaChecker's
# _RETRY_COST, _THROTTLING_RETRY_COST and _NO_RETRY_INCREMENT, botocore 1.44).
_CAPACITY: Final = 500
_RETRY_COST: Final = 14
_RATE_LIMIT_COST: Final = 5
_SUCCESS_REFUND: Final = 1


def _check_tokens(name: str, value: object, *, least: int) -> int:
    if type(value) is not int:
        msg = f"RetryBudget {name} must be an int number of tokens, got {value!r}"
        raise TypeError(msg)
    if value < least:
        msg = f"RetryBudget {name} must be at least {least}, got {value!r}"
        raise ValueError(msg)
    return value


@final
class RetryBudget:
    """
    A token bucket shared by every retry of one dependency: retries, not storms.

    Each retry takes tokens from the bucket, and a success gives some back;
    when the bucket cannot pay for a retry, the retry is not made, and
    retrying gives up at once. In an outage, the callers of a dependency make
    at most ``capacity / retry_cost`` retries between them, however many
    calls, jobs, threads and tasks fail, rather than ``attempts`` times each.
    This is the retry quota of the AWS SDKs' "standard" retry mode, and, in
    spirit, gRPC's retry throttling.

    Make one budget per dependency (the payment gateway, the reports API),
    and give it to every `RetryPolicy` that calls it: ``RetryPolicy(budget=
    gateway_budget)``. The policy stays an immutable value that refers to
    the one shared, mutable bucket.

    The defaults are botocore's (``botocore/retries/quota.py`` and
    ``botocore/retries/standard.py``, standard retry mode): a capacity of 500
    tokens; a retry costs 14, a retry of a rate limit (throttling) 5; a
    success refunds 1 when no retry was needed, and a successful retry gives
    back what that retry took. ``timeout_cost`` is the cost of retrying a
    timeout, the same as any retry in botocore; the AWS SDKs' earlier
    standard mode, still aws-sdk-go-v2's, makes a retry cost 5 and a timeout
    10 (``RetryBudget(retry_cost=5, timeout_cost=10)``).

    Thread-safe and asyncio-safe: a lock guards the counter for the
    arithmetic only, never across a sleep or an await. A budget is one
    process's: a pickled copy is a new bucket, as full as the original was;
    `copy.copy` and `copy.deepcopy` return the budget itself, so a copied
    policy still draws on the bucket it shared.

    Args:
        capacity: The tokens the bucket holds when full, and starts with.
        retry_cost: The tokens one retry takes.
        timeout_cost: The tokens the retry of a timeout (``kind`` ``"timeout"``)
            takes.
        rate_limit_cost: The tokens the retry of a rate limit (``kind``
            ``"rate_limit"``) takes.
        success_refund: The tokens a success gives back when it needed no
            retry.

    >>> from outcome import RetryBudget
    >>> budget = RetryBudget(capacity=30)
    >>> budget.take(14), budget.take(14), budget.take(14)
    (True, True, False)
    >>> budget.tokens
    2
    >>> budget.refund(100)
    >>> budget.tokens
    30
    >>> RetryBudget(capacity=0)
    Traceback (most recent call last):
    ...
    ValueError: RetryBudget capacity must be at least 1, got 0

    Raises:
        TypeError: When a number of tokens is not an int.
        ValueError: When `capacity` is below 1, a cost or refund is
            negative, or a cost is more than the capacity (such a retry could
            never be made).

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "_capacity",
        "_lock",
        "_rate_limit_cost",
        "_retry_cost",
        "_success_refund",
        "_timeout_cost",
        "_tokens",
    )

    def __init__(
        self,
        capacity: int = _CAPACITY,
        *,
        retry_cost: int = _RETRY_COST,
        timeout_cost: int = _RETRY_COST,
        rate_limit_cost: int = _RATE_LIMIT_COST,
        success_refund: int = _SUCCESS_REFUND,
    ) -> None:
        """Make a full bucket; see the class for the arguments."""
        self._capacity = _check_tokens("capacity", capacity, least=1)
        costs = {
            "retry_cost": retry_cost,
            "timeout_cost": timeout_cost,
            "rate_limit_cost": rate_limit_cost,
        }
        for name, cost in costs.items():
            if _check_tokens(name, cost, least=0) > capacity:
                msg = (
                    f"RetryBudget {name} must be at most the capacity ({capacity!r}), "
                    f"got {cost!r}: such a retry could never be made; lower it "
                    "or raise the capacity"
                )
                raise ValueError(msg)
        self._retry_cost = retry_cost
        self._timeout_cost = timeout_cost
        self._rate_limit_cost = rate_limit_cost
        self._success_refund = _check_tokens("success_refund", success_refund, least=0)
        self._tokens = capacity
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """The tokens the bucket holds when full."""
        return self._capacity

    @property
    def retry_cost(self) -> int:
        """The tokens one retry takes."""
        return self._retry_cost

    @property
    def timeout_cost(self) -> int:
        """The tokens the retry of a timeout takes."""
        return self._timeout_cost

    @property
    def rate_limit_cost(self) -> int:
        """The tokens the retry of a rate limit takes."""
        return self._rate_limit_cost

    @property
    def success_refund(self) -> int:
        """The tokens a success that needed no retry gives back."""
        return self._success_refund

    @property
    def tokens(self) -> int:
        """The tokens left now: from 0 to `capacity`."""
        return self._tokens

    def cost_of(self, decision: Decision) -> int:
        """
        The tokens a retry of the failure `decision` describes takes.

        >>> from outcome import Bucket, Decision, RetryBudget
        >>> budget = RetryBudget()
        >>> timeout = Decision(Bucket.USER_VISIBLE, True, "timeout")
        >>> budget.cost_of(timeout), budget.cost_of(timeout.replace(kind="rate_limit"))
        (14, 5)
        """
        kind = decision.kind
        if kind == "rate_limit":
            return self._rate_limit_cost
        if kind == "timeout":
            return self._timeout_cost
        return self._retry_cost

    def take(self, tokens: int) -> bool:
        """
        Take `tokens` for a retry if the bucket holds them; say whether it did.

        Returns:
            `True` when the tokens were taken and the retry may go ahead;
            `False` when the bucket holds fewer, and it is left as it was.

        Raises:
            TypeError: When `tokens` is not an int.
            ValueError: When `tokens` is negative.
        """
        if type(tokens) is not int or tokens < 0:
            _refuse_tokens("take", tokens)
        lock = self._lock  # acquire and release: cheaper than a with block
        lock.acquire()
        try:
            if tokens > self._tokens:
                return False
            self._tokens -= tokens
            return True
        finally:
            lock.release()

    def refund(self, tokens: int) -> None:
        """
        Give `tokens` back, never filling the bucket past its capacity.

        Raises:
            TypeError: When `tokens` is not an int.
            ValueError: When `tokens` is negative.
        """
        if type(tokens) is not int or tokens < 0:
            _refuse_tokens("refund", tokens)
        # Most calls succeed with the bucket full: as botocore does, skip the
        # lock then. A take racing with this read only makes the refund lost.
        if self._tokens == self._capacity:
            return
        with self._lock:
            self._tokens = min(self._capacity, self._tokens + tokens)

    def _succeeded(self, retried: int | None) -> None:
        """
        A call succeeded: refund what its last retry took, or `success_refund`.

        `retried` is what the last retry took, `None` when none was made.
        Every success takes this path, so it checks nothing.
        """
        if self._tokens == self._capacity:  # as in refund()
            return
        with self._lock:
            self._tokens = min(
                self._capacity,
                self._tokens + (self._success_refund if retried is None else retried),
            )

    def __repr__(self) -> str:
        """The configuration and the tokens left."""
        return (
            f"RetryBudget(capacity={self._capacity!r}, "
            f"retry_cost={self._retry_cost!r}, "
            f"timeout_cost={self._timeout_cost!r}, "
            f"rate_limit_cost={self._rate_limit_cost!r}, "
            f"success_refund={self._success_refund!r}) "
            f"with {self._tokens!r} tokens left"
        )

    def __copy__(self) -> RetryBudget:
        """The budget itself: a copy would split the bucket it is shared to be."""
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RetryBudget:
        """The budget itself, as `__copy__`."""
        return self

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle as a new bucket with the same configuration and tokens."""
        return (
            _unpickle_budget,
            (
                self._capacity,
                self._retry_cost,
                self._timeout_cost,
                self._rate_limit_cost,
                self._success_refund,
                self._tokens,
            ),
        )


def _refuse_tokens(method: str, tokens: object) -> NoReturn:
    if type(tokens) is not int:
        msg = f"RetryBudget.{method}() takes an int number of tokens, not {tokens!r}"
        raise TypeError(msg)
    msg = f"RetryBudget.{method}() takes a number of tokens >= 0, not {tokens!r}"
    raise ValueError(msg)


def _unpickle_budget(  # noqa: PLR0913, PLR0917 - one argument per number
    capacity: int,
    retry_cost: int,
    timeout_cost: int,
    rate_limit_cost: int,
    success_refund: int,
    tokens: int,
) -> RetryBudget:
    budget = RetryBudget(
        capacity,
        retry_cost=retry_cost,
        timeout_cost=timeout_cost,
        rate_limit_cost=rate_limit_cost,
        success_refund=success_refund,
    )
    budget._tokens = min(capacity, max(0, tokens))  # noqa: SLF001 - its own state
    return budget


def _check_budget(
    _policy: object, _attribute: attrs.Attribute[RetryBudget | None], value: object
) -> None:
    if value is not None and type(value) is not RetryBudget:
        msg = (
            f"RetryPolicy budget must be a RetryBudget or None, got {value!r}; e.g. "
            "RetryPolicy(budget=RetryBudget())"
        )
        raise TypeError(msg)


@attrs.frozen
class RetryPolicy:
    """
    How often and how long to retry: attempts, backoff with full jitter, budgets.

    A policy is a pure value: it draws no random numbers and reads no clock of
    its own. `delay` is given its random source, and a `Retrying` is given
    its sleep, clock and random source, so tests never really wait.

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
        budget: The `RetryBudget` every retry under this policy takes its
            tokens from, shared with the other policies that call the same
            dependency; `None`: no budget, only `attempts` and `deadline`.
            A policy with a budget equals another only when both refer to
            the same budget, and its hash never changes as the tokens do.

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
        TypeError: When `attempts` is not an int, a number of seconds is not
            an int or a float, or `budget` is not a `RetryBudget`.

    .. versionadded:: 0.1.0
    """

    attempts: int = attrs.field(default=3, validator=_check_attempts)
    base_delay: float = attrs.field(default=0.5, validator=_check_seconds)
    max_delay: float = attrs.field(default=30.0, validator=_check_seconds)
    deadline: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_check_seconds)
    )
    max_retry_after: float = attrs.field(default=60.0, validator=_check_seconds)
    budget: RetryBudget | None = attrs.field(default=None, validator=_check_budget)

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
        for a wait (``decision.retry_after``), the delay is at least that,
        plus a jitter of up to 10% of it or 1 second, whichever is less, from
        the same draw: many clients told the same Retry-After do not all
        retry in the same instant, and none retries before the server said.

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
        7.35
        >>> policy.delay(1, rate_limited, random=lambda: 0.0)
        7.0
        """
        if retry_number < 1:
            msg = f"retry_number counts retries from 1, got {retry_number!r}"
            raise ValueError(msg)
        try:
            backoff = math.ldexp(self.base_delay, retry_number - 1)
        except OverflowError:
            backoff = math.inf
        draw = random()
        jittered = draw * min(self.max_delay, backoff)
        retry_after = decision.retry_after
        if retry_after is None:
            return jittered
        return max(jittered, retry_after + draw * min(0.1 * retry_after, 1.0))


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
        elapsed: Seconds since the first attempt started, by the injected
            clock. It never goes down: an interval in which the clock went
            backwards (a wall clock stepped back) counts as the sleep it
            held, so the deadline still bounds the total time.

    >>> from outcome import Err, RetryDetails, Retrying, RetryPolicy
    >>> def log_retry(details: RetryDetails) -> None:
    ...     print(
    ...         f"attempt {details.attempt} failed ({details.decision.kind}), "
    ...         f"retrying in {details.delay}s"
    ...     )
    >>> retrying = Retrying(
    ...     policy=RetryPolicy(attempts=2, base_delay=1.0),
    ...     on_retry=log_retry,
    ...     sleep=lambda seconds: None,
    ...     random=lambda: 0.5,
    ... )
    >>> retrying.call(lambda: Err(ConnectionResetError()))
    attempt 1 failed (connection), retrying in 0.5s
    Err(ConnectionResetError())

    .. versionadded:: 0.1.0
    """

    attempt: int
    delay: float
    decision: Decision
    failure: Exception | Err[object]
    elapsed: float


def _require_callable(owner: str, field: str, value: object, *, optional: bool) -> None:
    if not callable(value) and not (optional and value is None):
        msg = f"{owner} {field} must be callable, not {value!r}"
        raise TypeError(msg)


def _check_retrying(retrying: Retrying) -> None:
    policy: object = retrying.policy
    if type(policy) is not RetryPolicy:
        msg = f"Retrying policy must be a RetryPolicy, not {policy!r}"
        raise TypeError(msg)
    classifier = cast("object", retrying.classifier)  # callers may be untyped
    if classifier is not None and not isinstance(classifier, Classifier):
        msg = f"Retrying classifier must be a Classifier or None, not {classifier!r}"
        raise TypeError(msg)
    for field in ("on_retry", "on_give_up"):
        _require_callable("Retrying", field, getattr(retrying, field), optional=True)
    for field in ("sleep", "sleep_async", "clock", "random"):
        _require_callable("Retrying", field, getattr(retrying, field), optional=False)


@final
class _AsyncioSleep:
    """
    The default `Retrying.sleep_async`: ``asyncio.sleep``, looked up when called.

    So that ``import outcome`` does not import asyncio, which costs more than
    the rest of the package; a program that awaits has imported it already.

    >>> import asyncio
    >>> asyncio.run(Retrying().sleep_async(0)) is None
    True
    """

    __slots__ = ()

    def __call__(self, seconds: float) -> Awaitable[None]:
        import asyncio  # noqa: PLC0415 - lazily: see the class docstring

        return asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "<asyncio.sleep, imported when first called>"


_ASYNCIO_SLEEP: Final = _AsyncioSleep()


@final
class _RandomRandom:
    """
    The default `Retrying.random`: ``random.random``, looked up when called.

    So that ``import outcome`` does not import the random module, which brings
    hashlib and OpenSSL with it; a jitter is drawn only when a call is retried.
    It draws from the random module's shared generator, so ``random.seed``
    seeds it, as it seeds ``random.random``.

    >>> import random
    >>> _ = random.seed(7)
    >>> drawn = Retrying().random()
    >>> _ = random.seed(7)
    >>> drawn == random.random()
    True
    """

    __slots__ = ()

    def __call__(self) -> float:
        import random  # noqa: PLC0415 - lazily: see the class docstring

        return random.random()  # noqa: S311 - a jitter, not a secret

    def __repr__(self) -> str:
        return "<random.random, imported when first called>"


_RANDOM: Final = _RandomRandom()


@attrs.frozen
class Retrying:
    """
    How to retry, configured once: the policy, the classifier, hooks and injectables.

    Call a function under it with `call` (or `call_async` for a coroutine
    function), passing the function's own arguments after it; decorate with
    ``@retry(using=...)``. A `Retrying` is an immutable value, so one can be
    shared by many calls, threads and tasks; ``attrs.evolve`` makes a variant.

    A failure is an `Exception` raised by the function or an `Err` it
    returned; it is classified, and retried when the decision is transient
    and the policy's budget allows. Before each sleep, ``on_retry(details)``
    is called. When retrying gives up for good (not transient, attempts
    exhausted, deadline reached, the policy's `RetryBudget` empty, or a
    Retry-After too long to sleep for: see `RetryPolicy.max_retry_after`),
    ``on_give_up(decision, failure)`` is called exactly once, then the last
    exception is re-raised (the same object, traceback kept) or the last
    `Err` returned; when the budget stopped it, a note on the exception says
    so. Anything else the function returns, `Ok` or not, is returned as is.
    A `BaseException` that is not an `Exception` (`KeyboardInterrupt`,
    `SystemExit`, and `asyncio.CancelledError`) propagates untouched and is
    never retried. An exception raised by a hook propagates.

    When the sleep between two attempts raises, nothing is lost: what it
    raised propagates, chained to the failure it was waiting to retry (its
    ``__context__``, or the exception an `Err` holds) and with a note saying
    so. If it raised an `Exception`, retrying has given up for good, and
    ``on_give_up`` is called once first; a `KeyboardInterrupt`, `SystemExit`
    or `asyncio.CancelledError` interrupts the work rather than failing it,
    so it propagates without ``on_give_up``.

    Budgets multiply across layers: when the function calls a client that
    retries on its own, turn its retries off (``max_retries=0``) so that this
    loop alone owns the budget.

    Attributes:
        policy: Attempts, backoff and budgets.
        classifier: Decides what is transient; `DEFAULT_CLASSIFIER` if `None`.
        on_retry: Called before each sleep with a `RetryDetails`.
        on_give_up: Called once with the last decision and failure when
            retrying stops for good; check ``decision.defer`` to reschedule.
        sleep: Waits the given number of seconds, for `call`.
        sleep_async: Awaited with the number of seconds, for `call_async`;
            by default, ``asyncio.sleep``, which it imports when first called.
        clock: Monotonic seconds, for `RetryPolicy.deadline`.
        random: Returns a float in ``[0, 1)``, for the jitter; by default,
            ``random.random``, which it imports when first called (so
            ``random.seed`` seeds it).

    >>> from outcome import Retrying, RetryPolicy
    >>> attempts = []
    >>> def fetch_rates(currency: str) -> dict[str, float]:
    ...     attempts.append(len(attempts) + 1)
    ...     if len(attempts) < 3:
    ...         raise TimeoutError("the rates service took too long")
    ...     return {currency: 1.08}
    >>> retrying = Retrying(policy=RetryPolicy(attempts=3), sleep=lambda s: None)
    >>> retrying.call(fetch_rates, "EUR")
    {'EUR': 1.08}
    >>> attempts
    [1, 2, 3]

    A failure that waiting will not fix is raised at once:

    >>> retrying.call(int, "three")
    Traceback (most recent call last):
    ...
    ValueError: invalid literal for int() with base 10: 'three'

    Raises:
        TypeError: When `policy` is not a `RetryPolicy`, `classifier` not a
            `Classifier`, or a hook or injectable is not callable.

    .. versionadded:: 0.1.0
    """

    policy: RetryPolicy = _DEFAULT_POLICY
    classifier: Classifier | None = None
    on_retry: Callable[[RetryDetails], object] | None = None
    on_give_up: Callable[[Decision, Exception | Err[object]], object] | None = None
    sleep: Callable[[float], object] = time.sleep
    sleep_async: Callable[[float], Awaitable[object]] = _ASYNCIO_SLEEP
    clock: Callable[[], float] = time.monotonic
    random: Callable[[], float] = _RANDOM

    def __attrs_post_init__(self) -> None:
        _check_retrying(self)

    # A function returning an awaitable would fail when it is awaited, out
    # of the loop: call() refuses it. pyright picks this overload for a
    # function typed as returning Any too (json.loads), so it returns object:
    # NoReturn would make the code after such a call unreachable, unchecked,
    # and Any would make mypy pick it as well (it returns Any when the
    # overloads an Any matches disagree).
    @overload
    @deprecated("call() cannot await a coroutine function: use call_async()")
    def call(
        self,
        fn: Callable[P, Awaitable[object]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> object: ...
    @overload
    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R: ...
    # The implementation keeps the signature help() and the docs show; pyright
    # finds it inconsistent with the first overload, whose calls it refuses.
    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:  # pyright: ignore[reportInconsistentOverload]
        """
        Call ``fn(*args, **kwargs)`` until it succeeds or retrying gives up.

        Returns:
            What `fn` returned: its first success, or the last `Err`.

        Raises:
            TypeError: When `fn` is not callable, or returns a coroutine or
                another awaitable (use `call_async`; type checkers flag such
                a call as deprecated).
        """
        _require_function("call", fn)
        loop = _Attempts(self, self.clock())
        while True:
            loop.attempt += 1
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                delay = loop.failed(exc)
                if delay is None:
                    raise
                failure: Exception | Err[object] = exc
            else:
                if not _is_err(result):
                    _refuse_awaitable(result)
                    if loop.budget is not None:
                        loop.budget._succeeded(loop.taken)  # noqa: SLF001 - a friend
                    return result
                delay = loop.failed(result)
                if delay is None:
                    return result
                failure = result
            try:
                self.sleep(delay)
            except BaseException as error:
                loop.sleep_raised(error, failure)
                raise

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """
        Await ``fn(*args, **kwargs)`` until it succeeds or retrying gives up.

        The asyncio twin of `call`: `sleep_async` is awaited between attempts,
        and cancellation propagates untouched. The hooks are plain functions.

        >>> import asyncio
        >>> from outcome import Err, Ok, Result, Retrying
        >>> replies = iter([Err(ConnectionResetError()), Ok("paid")])
        >>> async def charge(order: str) -> Result[str, Exception]:
        ...     return next(replies)
        >>> async def no_wait(seconds: float) -> None: ...
        >>> asyncio.run(Retrying(sleep_async=no_wait).call_async(charge, "A-17"))
        Ok('paid')

        Returns:
            What `fn` returned once awaited: its first success, or the last `Err`.

        Raises:
            TypeError: When `fn` is not callable (a coroutine, say, rather
                than a function returning one).
        """
        _require_function("call_async", fn)
        loop = _Attempts(self, self.clock())
        while True:
            loop.attempt += 1
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                delay = loop.failed(exc)
                if delay is None:
                    raise
                failure: Exception | Err[object] = exc
            else:
                if not _is_err(result):
                    if loop.budget is not None:
                        loop.budget._succeeded(loop.taken)  # noqa: SLF001 - a friend
                    return result
                delay = loop.failed(result)
                if delay is None:
                    return result
                failure = result
            try:
                await self.sleep_async(delay)
            except BaseException as error:
                loop.sleep_raised(error, failure)
                raise


_DEFAULT_RETRYING: Final = Retrying()


# What an exception keeps of `_mark_retried`: a key in its own __dict__, read
# through BaseException's descriptor, so that a class's own __setattr__ (a
# frozen one) or __dict__ property never runs. Exceptions take no weak
# references, and a table by id would keep them alive or mistake a new one
# for an old one at the same address.
_RETRIED: Final = "_outcome_retried"
_exception_dict: Final = cast(
    "Callable[[BaseException], dict[str, object]]",
    vars(BaseException)["__dict__"].__get__,
)


@final
class _RetriedMark:
    """Says an exception will be tried again; true in this process only."""

    __slots__ = ()

    def __reduce__(self) -> tuple[object, ...]:
        # A pickled copy, in a result backend or another process, is unmarked:
        # what will be retried is this attempt's exception, not its copy.
        return (object, ())


_MARK: Final = _RetriedMark()


def _mark_retried(failure: object, *, retried: bool) -> None:
    """
    Mark the exception of `failure` as one that will be retried, or unmark it.

    A retry loop or a job marks a failure when it plans to try again, before
    its ``on_retry`` hooks run, and unmarks it when it gives up, in case the
    same exception object failed an earlier attempt too. Error trackers and
    log filters read the mark with `_will_retry`.
    """
    exc = cast("Err[object]", failure).err_value if type(failure) is Err else failure
    if not isinstance(exc, BaseException):
        return
    if retried:
        _exception_dict(exc)[_RETRIED] = _MARK
    else:
        _exception_dict(exc).pop(_RETRIED, None)


def _will_retry(exc: BaseException) -> bool:
    """Whether a retry loop or a job of this process will try `exc`'s work again."""
    return _exception_dict(exc).get(_RETRIED) is _MARK


_REFUSED: Final = -1  # `_Attempts.taken` when the budget refused the retry
# Why the retry loop gives up, while its on_give_up runs ("discarded",
# "deferred", "exhausted", "deadline", "budget" or "sleep_failed"), and after
# which attempt. The hook is told only the decision and the failure;
# `RetryLogger` reads this for the rest.
_GIVING_UP: Final[contextvars.ContextVar[tuple[str, int] | None]] = (
    contextvars.ContextVar("outcome_giving_up", default=None)
)


def _give_up(
    attempts: _Attempts,
    why: str,
    decision: Decision,
    failure: Exception | Err[object],
) -> None:
    """Call the loop's on_give_up, if it has one, saying `why` meanwhile."""
    on_give_up = attempts.retrying.on_give_up
    if on_give_up is None:
        return
    token = _GIVING_UP.set((why, attempts.attempt))
    try:
        on_give_up(decision, failure)
    finally:
        _GIVING_UP.reset(token)


class _Attempts:
    """The bookkeeping of one retry loop, shared by `call` and `call_async`."""

    __slots__ = (
        "attempt",
        "budget",
        "classifier",
        "decision",
        "delay",
        "elapsed",
        "read",
        "retrying",
        "taken",
        "why",
    )

    def __init__(self, retrying: Retrying, start: float) -> None:
        self.retrying = retrying
        self.budget = retrying.policy.budget
        # The tokens the coming retry took: as botocore does, a success gives
        # back what its last retry took, or success_refund when none was made.
        self.taken: int | None = None
        self.classifier = retrying.classifier or DEFAULT_CLASSIFIER
        self.read = start  # the clock's last reading
        self.elapsed = 0.0
        self.attempt = 0
        self.delay = 0.0  # the sleep since that reading
        self.decision: Decision | None = None
        self.why = "exhausted"  # why _plan gave up, when it does

    def failed(self, failure: Exception | Err[object]) -> float | None:
        """Return the delay before the next attempt, or `None` to give up."""
        retrying = self.retrying
        now = retrying.clock()
        passed = now - self.read
        if not passed >= 0:  # the clock went backwards (or is NaN): not by less
            passed = self.delay  # than the sleep, else the deadline would stop
        self.read = now  # bounding anything
        self.elapsed = elapsed = self.elapsed + passed
        decision = self.classifier.classify(failure)
        if decision.kind == _TIMEOUT and _is_time_limit(decision):
            return None  # let through untouched, as an interruption is
        decision, delay = self._plan(decision, elapsed)
        _mark_retried(failure, retried=delay is not None)
        if delay is None:
            if self.taken == _REFUSED:
                self._note_refused(decision, failure)
            _give_up(self, self.why, decision, failure)
            return None
        if retrying.on_retry is not None:
            retrying.on_retry(
                RetryDetails(self.attempt, delay, decision, failure, elapsed)
            )
        self.decision, self.delay = decision, delay
        return delay

    def _note_refused(
        self, decision: Decision, failure: Exception | Err[object]
    ) -> None:
        """Say on the failure's exception that the budget stopped the retrying."""
        linked = failure.err_value if _is_err(failure) else failure
        if not isinstance(linked, BaseException):
            return
        budget = cast("RetryBudget", self.budget)
        _add_note(
            linked,
            f"retrying gave up after attempt {self.attempt}: the retry budget is "
            f"empty ({budget.tokens} of {budget.capacity} tokens left; retrying "
            f"kind {decision.kind!r} costs {budget.cost_of(decision)})",
        )

    def sleep_raised(
        self, error: BaseException, failure: Exception | Err[object]
    ) -> None:
        """
        The sleep before the next attempt raised `error`: lose nothing.

        The failure (or the exception its `Err` holds) ends `error`'s chain of
        contexts, as if the sleep had raised while it was handled. An
        `Exception` ends the retrying for good, so ``on_give_up`` is told.
        """
        _mark_retried(failure, retried=False)  # the retry will not happen
        if self.taken is not None:  # nor does it cost its tokens
            cast("RetryBudget", self.budget).refund(self.taken)
        linked = failure.err_value if _is_err(failure) else failure
        if isinstance(linked, BaseException):
            _chain(error, linked)
        interrupted = not isinstance(error, Exception)
        _add_note(
            error,
            f"raised by the sleep of {self.delay!r} s before retrying attempt "
            f"{self.attempt}, which failed with {_name_failure(failure)}; "
            + (
                "the retrying was interrupted (on_give_up was not called)"
                if interrupted
                else "retrying gave up (on_give_up was called)"
            ),
        )
        if not interrupted and self.decision is not None:
            _give_up(self, "sleep_failed", self.decision, failure)

    def _plan(
        self, decision: Decision, elapsed: float
    ) -> tuple[Decision, float | None]:
        policy = self.retrying.policy
        if not decision.transient:
            self.why = "discarded"
            return decision, None
        retry_after = decision.retry_after
        if (
            not decision.defer
            and retry_after is not None
            and retry_after > policy.max_retry_after
        ):
            decision = decision.replace(defer=True)
        if decision.defer:
            self.why = "deferred"
            return decision, None
        if self.attempt >= policy.attempts:
            self.why = "exhausted"
            return decision, None
        delay = policy.delay(self.attempt, decision, self.retrying.random)
        if policy.deadline is not None and elapsed + delay > policy.deadline:
            self.why = "deadline"
            return decision, None
        budget = self.budget
        if budget is not None:
            cost = budget.cost_of(decision)
            if not budget.take(cost):
                self.taken = _REFUSED
                self.why = "budget"
                return decision, None
            self.taken = cost
        return decision, delay


def _require_function(method: str, fn: object) -> None:
    if callable(fn):
        return
    if inspect.iscoroutine(fn):
        fn.close()  # it will never run: spare the "never awaited" warning
    msg = (
        f"Retrying.{method}() takes the function to call, not its result, got "
        f"{fn!r}: pass the function and its arguments, as in "
        f"retrying.{method}(fetch, url)"
    )
    raise TypeError(msg)


_TIMEOUT: Final = "timeout"


def _is_time_limit(decision: Decision) -> bool:
    """
    Whether a timeout was decided by a job engine's time limit.

    Celery's soft time limit and RQ's job timeout are raised once, inside the
    job, when its time is up. A loop that caught one and tried again would
    run on past the limit, so a retry loop lets it through at once (and a
    failure raised while handling it, which the limit decides), with no hook
    called, as a ``KeyboardInterrupt`` or Dramatiq's time limit (a
    ``BaseException``) goes through it. The job's own policy decides: they
    are timeouts. The link's class was read by the classifier: a dict lookup.
    """
    return _class_info(type(decision.link)).time_limit


def _is_err(value: object) -> TypeIs[Err[object]]:
    return type(value) is Err


def _chain(error: BaseException, cause: BaseException) -> None:
    """Put `cause` at the end of `error`'s contexts, unless it is there already."""
    seen = {id(cause)}
    link = error
    while id(link) not in seen:
        seen.add(id(link))
        if link.__context__ is None:
            # As Python itself sets it: a frozen exception class refuses setattr.
            object.__setattr__(link, "__context__", cause)
            return
        link = link.__context__


def _add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, even on an exception class that refuses setattr."""
    vars(exc).setdefault("__notes__", [])  # add_note would set it with setattr
    with contextlib.suppress(TypeError):  # a __notes__ that is not a list
        exc.add_note(note)


def _name_failure(failure: Exception | Err[object]) -> str:
    """The failure's type, for a note: never its text, which may be a bug's."""
    if _is_err(failure):
        return f"Err({type(failure.err_value).__name__})"
    return type(failure).__name__


def _refuse_awaitable(result: object) -> None:
    if type(result) is Ok:  # the common case, and no awaitable: no more checks
        return
    if inspect.iscoroutine(result):
        result.close()
    elif not inspect.isawaitable(result):
        return
    msg = (
        f"Retrying.call() cannot await the {type(result).__name__} its function "
        "returned: use `await retrying.call_async(fn)`, or make the function an "
        "`async def` and decorate it with @retry"
    )
    raise TypeError(msg)


def _is_coroutine_function(fn: object) -> bool:
    """Whether calling `fn` makes a coroutine: an async def, or an object's one."""
    if inspect.iscoroutinefunction(fn):
        return True
    # An instance whose __call__ is an async def; a class is called to make one.
    return not isinstance(fn, type) and inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the method, not callable()
    )


@overload
def retry(fn: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def retry(
    *, policy: RetryPolicy | None = None, using: Retrying | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def retry(
    fn: Callable[P, R] | None = None,
    /,
    *,
    policy: RetryPolicy | None = None,
    using: Retrying | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """
    Decorate a function so that each call is retried under a `Retrying`.

    Use it bare (``@retry``, the default policy), with a policy
    (``@retry(policy=RetryPolicy(attempts=5))``), or with a whole
    configuration (``@retry(using=Retrying(...))``; a `policy` given too
    replaces its policy). A coroutine function (or an object whose
    ``__call__`` is one) gets an async wrapper that awaits between attempts,
    a plain function a sync one; both keep the signature, for callers and
    type checkers alike.

    >>> from outcome import Err, Result, Retrying, RetryPolicy, retry
    >>> @retry(using=Retrying(policy=RetryPolicy(attempts=2), sleep=lambda s: None))
    ... def reserve(sku: str, quantity: int) -> Result[str, Exception]:
    ...     print(f"reserving {quantity} x {sku}")
    ...     return Err(TimeoutError("the warehouse took too long"))
    >>> reserve("tea", 2)
    reserving 2 x tea
    reserving 2 x tea
    Err(TimeoutError('the warehouse took too long'))

    >>> import asyncio
    >>> async def no_wait(seconds: float) -> None: ...
    >>> @retry(using=Retrying(sleep_async=no_wait))
    ... async def refund(order: str) -> Result[str, Exception]:
    ...     print(f"refunding {order}")
    ...     return Err(ValueError("no such order"))
    >>> asyncio.run(refund("A-17"))
    refunding A-17
    Err(ValueError('no such order'))

    Raises:
        TypeError: When what is decorated is not callable, or `policy` or
            `using` has the wrong type.

    .. versionadded:: 0.1.0
    """
    retrying = _DEFAULT_RETRYING if using is None else using
    if type(cast("object", retrying)) is not Retrying:  # callers may be untyped
        msg = f"retry(using=...) takes a Retrying, not {using!r}"
        raise TypeError(msg)
    if policy is not None:
        if type(cast("object", policy)) is not RetryPolicy:  # callers may be untyped
            msg = f"retry(policy=...) takes a RetryPolicy, not {policy!r}"
            raise TypeError(msg)
        retrying = attrs.evolve(retrying, policy=policy)

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        if not callable(cast("object", fn)):  # callers may be untyped
            msg = f"@retry decorates a function, not {fn!r}"
            raise TypeError(msg)
        if _is_coroutine_function(fn):
            coroutine_function = cast("Callable[P, Awaitable[object]]", fn)

            @functools.wraps(fn)
            async def wrapper_async(*args: P.args, **kwargs: P.kwargs) -> object:
                return await retrying.call_async(coroutine_function, *args, **kwargs)

            return cast("Callable[P, R]", wrapper_async)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return retrying.call(fn, *args, **kwargs)

        return wrapper

    return decorator if fn is None else decorator(fn)
