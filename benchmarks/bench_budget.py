"""
What a retry budget costs: a token taken against one ``Ok(x)``, and a call.

A `RetryBudget` is consulted on every retry and refunded on every success, so
its cost is set against the cheapest thing outcome makes, one ``Ok(1)``:
taking a token must cost at most twice that. Then a successful
``Retrying.call`` with a budget (a refund on every success) is set against
the same call without one: the budget must add at most half again.

Every figure is taken by the shared harness (``_harness.py``): interleaved
rounds, CPU time, the minimum of the repeats, the empty loop subtracted. The
bucket a token is taken from is large enough never to run dry, so each round
times the lock and the arithmetic, not a refusal; a take and refund pair
keeps its bucket below full as it refunds, so the refund takes the lock too.
The call's bucket is full, as it is while a dependency is healthy.

Run it with ``python benchmarks/bench_budget.py``; ``--quick`` runs a few
short rounds only to prove the script works.
"""

from __future__ import annotations

import sys

from _harness import (
    Comparison,
    Contender,
    Entry,
    finish,
    parse_settings,
    run,
    statement,
)

import outcome
from outcome import Ok, RetryBudget, Retrying, RetryPolicy

EMPTY_LOOP = "empty loop"
TAKE_TARGET = 2.0  # a token taken costs at most two Ok(x)
CALL_TARGET = 1.5  # a successful call with a budget costs at most 1.5 without


def _ok() -> Ok[int]:
    """Succeed at once: what the call cases retry."""
    return Ok(1)


def contenders() -> list[Contender]:
    """Ok(1), a token taken, a take and refund, and a call with and without."""
    never_dry = RetryBudget(sys.maxsize, retry_cost=1, timeout_cost=1)
    with_budget = Retrying(policy=RetryPolicy(budget=RetryBudget()))
    without_budget = Retrying()
    return [
        Contender(EMPTY_LOOP, statement("pass", {})),
        Contender("Ok(1)", statement("Ok(1)", {"Ok": Ok}), overhead=EMPTY_LOOP),
        Contender(
            "budget.take(1)",
            statement("budget.take(1)", {"budget": never_dry}),
            overhead=EMPTY_LOOP,
        ),
        Contender(
            "take(1) and refund(1)",
            statement(
                "budget.take(1)\nbudget.refund(1)", {"budget": RetryBudget(1000)}
            ),
            overhead=EMPTY_LOOP,
        ),
        Contender(
            "Retrying.call, no budget",
            statement("retrying.call(ok)", {"retrying": without_budget, "ok": _ok}),
            overhead=EMPTY_LOOP,
        ),
        Contender(
            "Retrying.call, with a budget",
            statement("retrying.call(ok)", {"retrying": with_budget, "ok": _ok}),
            overhead=EMPTY_LOOP,
        ),
    ]


def comparisons() -> list[Comparison]:
    """A token against Ok(1); a call with a budget against one without."""
    return [
        Comparison(
            "take a token",
            "Ok(1)",
            (
                Entry("Ok(1)", "Ok(1)"),
                Entry("budget.take(1)", "budget.take(1)", target=TAKE_TARGET),
                Entry("take(1) and refund(1)", "take(1) and refund(1)"),
            ),
        ),
        Comparison(
            "a successful call",
            "Retrying.call, no budget",
            (
                Entry("no budget", "Retrying.call, no budget"),
                Entry(
                    "with a budget",
                    "Retrying.call, with a budget",
                    target=CALL_TARGET,
                ),
            ),
        ),
    ]


def main() -> int:
    """Print a markdown table of times and ratios."""
    settings = parse_settings(__doc__, rounds=31, number=20_000, quick_number=200)
    misses = run(
        settings, contenders(), comparisons(), versions={"outcome": outcome.__version__}
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
