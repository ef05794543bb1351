"""
Measure the failure classifier against raising and catching an exception.

- ``rules``: classifying with 1,000 registered user type rules against 10, for
  a failure no rule matches and for one that the last rule matches. Target:
  1,000 rules cost at most 1.5x what 10 cost.
- ``chain``: classifying a real 5-deep chain (stripe's APIConnectionError from
  requests, urllib3 and a refused connection on a closed local port) against
  raising and catching one exception. Target: at most 20x.

Rounds are interleaved and each figure is a median. Run it with
``python benchmarks/bench_classify.py``; ``--quick`` only proves the script works.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import timeit
from typing import TYPE_CHECKING

import stripe

from outcome import Bucket, Classifier

if TYPE_CHECKING:
    from collections.abc import Callable


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
    depth, link = 0, failure
    while link is not None:
        depth += 1
        link = link.__cause__ or link.__context__  # type: ignore[assignment]
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--number", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, number = (3, 100) if args.quick else (args.rounds, args.number)

    chain = stripe_chain()
    few, many = with_rules(10), with_rules(1000)
    last_rule = type("LastRule", (Exception,), {})
    few.register(last_rule, bucket=Bucket.USER_FIXABLE)
    many.register(last_rule, bucket=Bucket.USER_FIXABLE)
    miss, hit = TimeoutError("slow"), last_rule()
    default = Classifier()
    cases: dict[str, Callable[[], object]] = {
        "10 rules, no rule matches": lambda: few.classify(miss),
        "1,000 rules, no rule matches": lambda: many.classify(miss),
        "10 rules, a rule matches": lambda: few.classify(hit),
        "1,000 rules, a rule matches": lambda: many.classify(hit),
        "raise and catch one exception": raise_and_catch,
        f"classify the {chain_depth(chain)}-deep stripe chain": lambda: (
            default.classify(chain)
        ),
    }
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = timeit.timeit(cases[name], number=number)
            samples[name].append(seconds / number)
    median = {name: statistics.median(values) * 1e9 for name, values in samples.items()}

    print(
        f"Python {platform.python_version()}; {rounds} interleaved rounds of "
        f"{number:,} calls; median ns per call.\n"
    )
    print(f"chain: {' -> '.join(_chain_names(chain))}\n")
    print("| case | ns | ratio | target |")
    print("|---|---:|---:|---|")
    rows = [
        (names[0], names[0], None),
        (names[1], names[0], 1.5),
        (names[2], names[2], None),
        (names[3], names[2], 1.5),
        (names[4], names[4], None),
        (names[5], names[4], 20.0),
    ]
    for name, base, target in rows:
        ratio = median[name] / median[base]
        verdict = ""
        if target is not None:
            verdict = f"<= {target:.2f} {'met' if ratio <= target else 'MISSED'}"
        print(f"| {name} | {median[name]:.0f} | {ratio:.2f} | {verdict} |")
    return 0


def _chain_names(failure: BaseException) -> list[str]:
    names = []
    link: BaseException | None = failure
    while link is not None:
        names.append(f"{type(link).__module__}.{type(link).__qualname__}")
        link = link.__cause__ or link.__context__
    return names


if __name__ == "__main__":
    sys.exit(main())
