"""
A query whose resolver raises, masked by the Strawberry integration, against MaskErrors.

Two cases, each ``schema.execute_sync`` of a one-field query whose resolver
raises: a bug, and an upstream's 429 with Retry-After. The baseline is
Strawberry's own ``MaskErrors``, which masks every error with one message;
`mask_errors` classifies the exception, masks a bug behind its reference and
tells an expected failure with its catalog message and code. Strawberry's
``MaskErrors`` with `should_mask_error` as its predicate is shown too. Logging
(Strawberry logs each error) is off. Target: at most 1.5 times the cost with
``MaskErrors``.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_web_strawberry.py``; ``--quick`` only proves the
script runs.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING

import httpx
import strawberry
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from strawberry.extensions import MaskErrors

import outcome
from outcome.integrations.strawberry import mask_errors, should_mask_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from strawberry.extensions import SchemaExtension

TARGET = 1.5
_REQUEST = httpx.Request("POST", "https://pay.example/v1/charges")
_RESPONSE = httpx.Response(429, headers={"Retry-After": "7"}, request=_REQUEST)


@strawberry.type
class Query:
    """One field per case, each raising."""

    @strawberry.field
    def bug(self) -> int | None:
        """Raise a programmer error."""
        raise LookupError("SELECT secret FROM cards")

    @strawberry.field
    def upstream(self) -> int | None:
        """Raise an upstream's 429."""
        raise httpx.HTTPStatusError("429", request=_REQUEST, response=_RESPONSE)


CASES = {"bug": "{ bug }", "upstream 429": "{ upstream }"}
EXTENSIONS: dict[str, type[SchemaExtension] | Callable[[], SchemaExtension]] = {
    "MaskErrors": MaskErrors,
    "mask_errors": mask_errors(),
    "MaskErrors(should_mask_error)": lambda: MaskErrors(
        should_mask_error=should_mask_error
    ),
}


def executor(
    extension: type[SchemaExtension] | Callable[[], SchemaExtension], query: str
) -> Callable[[], object]:
    """Execute `query` on a schema with `extension`."""
    schema = strawberry.Schema(query=Query, extensions=[extension])

    def once() -> object:
        result = schema.execute_sync(query)
        if not result.errors:
            msg = f"{query} raised nothing"
            raise AssertionError(msg)
        return result

    return once


def main() -> int:
    """Print a markdown table of times and the integration / MaskErrors ratio."""
    settings = parse_settings(__doc__, rounds=21, number=500, quick_number=5)
    logging.disable(logging.CRITICAL)
    contenders = [
        Contender(f"{case}, {name}", calls(executor(extension, query)))
        for case, query in CASES.items()
        for name, extension in EXTENSIONS.items()
    ]
    comparisons = [
        Comparison(
            case,
            f"{case}, MaskErrors",
            (
                Entry("MaskErrors", f"{case}, MaskErrors"),
                Entry("mask_errors()", f"{case}, mask_errors", target=TARGET),
                Entry(
                    "MaskErrors(should_mask_error)",
                    f"{case}, MaskErrors(should_mask_error)",
                ),
            ),
        )
        for case in CASES
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={
            "outcome": outcome.__version__,
            "strawberry-graphql": version("strawberry-graphql"),
        },
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
