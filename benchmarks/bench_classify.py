"""
Measure the failure classifier against raising and catching an exception.

- ``rules``: classifying with 1,000 registered user type rules against 10, for
  a failure no rule matches and for one that the last rule matches. Target:
  1,000 rules cost at most 1.5x what 10 cost.
- ``chain``: classifying a real 5-deep chain (stripe's APIConnectionError from
  requests, urllib3 and a refused connection on a closed local port) against
  raising and catching one exception. Target: at most 20x.

Timed by the shared harness (``_harness.py``): CPU time, the minimum of 3
repeats per round, contenders interleaved in a rotated order; each figure is a
median over the rounds, each ratio the median of the per-round ratios with its
spread. Run it with ``python benchmarks/bench_classify.py``; ``--quick`` only
proves the script works.
"""

from __future__ import annotations

import socket
import sys
from importlib.metadata import version

import stripe
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run

import outcome
from outcome import Bucket, Classifier


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


def with_rules(count: int) -> Classifier:
    """A classifier with `count` user type rules, none of them for the failures."""
    classifier = Classifier()
    for number in range(count):
        error = type(f"DomainError{number}", (Exception,), {})
        classifier.register(error, bucket=Bucket.USER_FIXABLE, kind="domain")
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

    chain = stripe_chain()
    few, many = with_rules(10), with_rules(1000)
    last_rule = type("LastRule", (Exception,), {})
    few.register(last_rule, bucket=Bucket.USER_FIXABLE)
    many.register(last_rule, bucket=Bucket.USER_FIXABLE)
    miss, hit = TimeoutError("slow"), last_rule()
    default = Classifier()
    classify_chain = f"classify the {chain_depth(chain)}-deep stripe chain"
    contenders = [
        Contender("10 rules, no rule matches", calls(lambda: few.classify(miss))),
        Contender("1,000 rules, no rule matches", calls(lambda: many.classify(miss))),
        Contender("10 rules, a rule matches", calls(lambda: few.classify(hit))),
        Contender("1,000 rules, a rule matches", calls(lambda: many.classify(hit))),
        Contender("raise and catch one exception", calls(raise_and_catch)),
        Contender(classify_chain, calls(lambda: default.classify(chain))),
    ]
    comparisons = [
        Comparison(
            "no rule matches",
            "10 rules, no rule matches",
            (
                Entry("10 rules", "10 rules, no rule matches"),
                Entry("1,000 rules", "1,000 rules, no rule matches", target=1.5),
            ),
        ),
        Comparison(
            "a rule matches",
            "10 rules, a rule matches",
            (
                Entry("10 rules", "10 rules, a rule matches"),
                Entry("1,000 rules", "1,000 rules, a rule matches", target=1.5),
            ),
        ),
        Comparison(
            "chain",
            "raise and catch one exception",
            (
                Entry("raise and catch one exception", "raise and catch one exception"),
                Entry(classify_chain, classify_chain, target=20.0),
            ),
        ),
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={"outcome": outcome.__version__, "stripe": version("stripe")},
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
