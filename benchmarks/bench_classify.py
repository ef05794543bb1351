"""
Measure the failure classifier against what a user would write by hand.

- ``httpx 429``: classifying a real ``httpx.HTTPStatusError`` for a 429 (a
  real ``httpx.Response`` with a Retry-After header, for a real
  ``httpx.Request``) against the decision written by hand: an isinstance
  check, the status, the Retry-After header parsed as seconds, and a small
  record returned. Target: at most 3x.
- ``ValueError``: classifying a ``ValueError`` against an isinstance check
  that returns the same small record. Target: at most 3x.
- ``chain``: classifying a real 5-deep chain (stripe's APIConnectionError from
  requests, urllib3 and a refused connection on a closed local port) against
  raising and catching one exception. Target: at most 10x.
- ``class rules``: classifying with 10,000 registered user class rules
  against 10, for a failure no rule matches and for one that the last rule
  matches. A class rule is looked up by the failure's classes, so the number
  of rules does not count. Target: 10,000 rules cost at most 1.2x what 10 do.
- ``predicate rules``: classifying with 100 and 1,000 predicate rules against
  10, none of which matches. Predicates are called in order, one after the
  other, so the cost is linear in their number, by design: this case has no
  target, and shows the growth (each predicate adds the same, beside the
  fixed cost of classifying).

Timed by the shared harness (``_harness.py``): CPU time, the minimum of 3
repeats per round, contenders interleaved in a rotated order; each figure is a
median over the rounds, each ratio the median of the per-round ratios with its
spread. Run it with ``python benchmarks/bench_classify.py``; ``--quick`` only
proves the script works.
"""

from __future__ import annotations

import functools
import socket
import sys
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import httpx
import stripe
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run

import outcome
from outcome import Bucket, Classifier, classify

if TYPE_CHECKING:
    from collections.abc import Callable

# Calls per repeat for the contenders that make a thousand calls each.
PREDICATE_NUMBER = 500


@dataclass(slots=True)
class Verdict:
    """What a hand-written classifier returns: whether to retry, what, how soon."""

    transient: bool
    kind: str
    retry_after: float | None


def rate_limited() -> httpx.HTTPStatusError:
    """The error httpx raises for a 429 with a Retry-After header."""
    request = httpx.Request("GET", "https://api.example.com/v1/orders")
    response = httpx.Response(
        429,
        headers={
            "Date": "Thu, 01 Jan 2026 00:00:00 GMT",
            "Content-Type": "application/json",
            "Content-Length": "0",
            "Retry-After": "2",
            "X-Request-Id": "req_benchmark",
        },
        request=request,
    )
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        return exc
    msg = "httpx did not raise for a 429"
    raise RuntimeError(msg)


def by_hand_http(failure: BaseException) -> Verdict:
    """Decide about an httpx failure as a user writes it: the 429 and its wait."""
    if isinstance(failure, httpx.HTTPStatusError):
        response = failure.response
        if response.status_code == 429:  # noqa: PLR2004 - the status being read
            text = response.headers.get("retry-after")
            try:
                wait = None if text is None else float(text)
            except ValueError:
                wait = None
            return Verdict(True, "rate_limit", wait)  # noqa: FBT003 - a field
    return Verdict(False, "bug", None)  # noqa: FBT003


def by_hand_value(failure: BaseException) -> Verdict:
    """Decide about a ValueError as a user writes it."""
    if isinstance(failure, ValueError):
        return Verdict(False, "bug", None)  # noqa: FBT003 - a field
    return Verdict(False, "other", None)  # noqa: FBT003


def stripe_chain() -> BaseException:
    """Make stripe fail for real against a closed port on this machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = stripe.StripeClient(
        "sk_test_benchmark",
        base_addresses={"api": f"http://127.0.0.1:{port}"},
        max_network_retries=0,
    )
    try:
        client.v1.customers.retrieve("cus_benchmark")
    except stripe.APIConnectionError as exc:
        return exc
    msg = "stripe reached a closed port"
    raise RuntimeError(msg)


def chain_depth(failure: BaseException) -> int:
    """Count the links of `failure`'s cause/context chain."""
    depth = 0
    link: BaseException | None = failure
    while link is not None:
        depth += 1
        link = link.__cause__ or link.__context__
    return depth


def with_class_rules(count: int, last: type[Exception]) -> Classifier:
    """A classifier with `count` user class rules, the last of them for `last`."""
    classifier = Classifier()
    for number in range(count - 1):
        error = type(f"DomainError{number}", (Exception,), {})
        classifier.register(error, bucket=Bucket.USER_FIXABLE, kind="domain")
    classifier.register(last, bucket=Bucket.USER_FIXABLE)
    return classifier


def has_code(code: str) -> Callable[[object], bool]:
    """A predicate rule: whether a failure's ``code`` is `code`."""
    return lambda failure: getattr(failure, "code", None) == code


def with_predicates(count: int) -> Classifier:
    """A classifier with `count` predicate rules, none of them for the failures."""
    classifier = Classifier()
    for number in range(count):
        classifier.register(
            has_code(f"domain_{number}"), bucket=Bucket.USER_FIXABLE, kind="domain"
        )
    return classifier


def raise_and_catch() -> None:
    """Raise and catch one exception: the unit of the chain target."""
    try:
        raise ValueError("declined")  # noqa: TRY301 - the cost being measured
    except ValueError:
        pass


def main() -> int:
    """Print the table."""
    settings = parse_settings(__doc__, rounds=31, number=20_000, quick_number=100)
    predicate_number = 5 if settings.quick else PREDICATE_NUMBER

    limited, invalid, chain = rate_limited(), ValueError("quantity"), stripe_chain()
    last_rule = type("LastRule", (Exception,), {})
    few, many = with_class_rules(10, last_rule), with_class_rules(10_000, last_rule)
    miss, hit = TimeoutError("slow"), last_rule()
    predicates = {count: with_predicates(count) for count in (10, 100, 1000)}
    classify_chain = f"classify the {chain_depth(chain)}-deep stripe chain"
    contenders = [
        Contender("classify the httpx 429", calls(lambda: classify(limited))),
        Contender("by hand: the httpx 429", calls(lambda: by_hand_http(limited))),
        Contender("classify a ValueError", calls(lambda: classify(invalid))),
        Contender("by hand: a ValueError", calls(lambda: by_hand_value(invalid))),
        Contender("raise and catch one exception", calls(raise_and_catch)),
        Contender(classify_chain, calls(lambda: classify(chain))),
        Contender("10 class rules, none matches", calls(lambda: few.classify(miss))),
        Contender(
            "10,000 class rules, none matches", calls(lambda: many.classify(miss))
        ),
        Contender("10 class rules, the last matches", calls(lambda: few.classify(hit))),
        Contender(
            "10,000 class rules, the last matches", calls(lambda: many.classify(hit))
        ),
        *(
            Contender(
                f"{count:,} predicates, none matches",
                calls(functools.partial(classifier.classify, miss)),
                number=predicate_number,
            )
            for count, classifier in predicates.items()
        ),
    ]
    comparisons = [
        Comparison(
            "httpx 429",
            "by hand: the httpx 429",
            (
                Entry("by hand", "by hand: the httpx 429"),
                Entry("classify", "classify the httpx 429", target=3.0),
            ),
        ),
        Comparison(
            "ValueError",
            "by hand: a ValueError",
            (
                Entry("by hand", "by hand: a ValueError"),
                Entry("classify", "classify a ValueError", target=3.0),
            ),
        ),
        Comparison(
            "chain",
            "raise and catch one exception",
            (
                Entry("raise and catch one exception", "raise and catch one exception"),
                Entry(classify_chain, classify_chain, target=10.0),
            ),
        ),
        Comparison(
            "class rules, none matches",
            "10 class rules, none matches",
            (
                Entry("10 rules", "10 class rules, none matches"),
                Entry("10,000 rules", "10,000 class rules, none matches", target=1.2),
            ),
        ),
        Comparison(
            "class rules, the last matches",
            "10 class rules, the last matches",
            (
                Entry("10 rules", "10 class rules, the last matches"),
                Entry(
                    "10,000 rules", "10,000 class rules, the last matches", target=1.2
                ),
            ),
        ),
        Comparison(
            "predicate rules, none matches",
            "10 predicates, none matches",
            tuple(
                Entry(f"{count:,} predicates", f"{count:,} predicates, none matches")
                for count in predicates
            ),
        ),
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={
            "outcome": outcome.__version__,
            "httpx": version("httpx"),
            "stripe": version("stripe"),
        },
        notes=[f"chain: {' -> '.join(_chain_names(chain))}"],
    )
    return finish(misses, settings)


def _chain_names(failure: BaseException) -> list[str]:
    """Name the type of each link of `failure`'s cause/context chain."""
    names: list[str] = []
    link: BaseException | None = failure
    while link is not None:
        names.append(f"{type(link).__module__}.{type(link).__qualname__}")
        link = link.__cause__ or link.__context__
    return names


if __name__ == "__main__":
    sys.exit(main())
