"""
The framework-neutral HTTP answer, against the hand-written code it replaces.

Two cases: errors the user can fix (a form with two blank fields), and a raised
upstream failure (a gateway's 429 with Retry-After). The hand-written answer
builds the same status, headers and bytes with ``to_problem_details`` and
``json.dumps``, knowing the status in advance; `http_answer` finds it from the
errors. Target: at most 1.5 times the hand-written cost.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_web.py``; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import json
import math
import sys

import httpx
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run

import outcome
from outcome import ErrorDetail, Errors, http_answer

TARGET = 1.5
FORM = Errors([ErrorDetail("email", "blank"), ErrorDetail("card_token", "blank")])
_REQUEST = httpx.Request("POST", "https://pay.example/v1/charges")
_RESPONSE = httpx.Response(429, headers={"Retry-After": "7"}, request=_REQUEST)
LIMITED = httpx.HTTPStatusError("429", request=_REQUEST, response=_RESPONSE)


def by_hand_form() -> tuple[int, dict[str, str], bytes]:
    """The answer for FORM, as a handler that knows it is a 422 writes it."""
    body = FORM.to_problem_details(status=422)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return 422, {"Content-Type": "application/problem+json"}, content


def by_hand_limited() -> tuple[int, dict[str, str], bytes]:
    """The answer for LIMITED, classified, with its wait, written out by hand."""
    errors = Errors()
    detail = errors.add_exception(LIMITED)
    body = errors.to_problem_details(status=503)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/problem+json"}
    wait = detail.params.get("retry_after")
    if isinstance(wait, int):
        headers["Retry-After"] = str(math.ceil(wait))
    return 503, headers, content


def with_outcome(failure: object) -> tuple[int, dict[str, str], bytes]:
    """The same answer through http_answer."""
    answer = http_answer(failure)
    return answer.status, answer.headers, answer.content


def main() -> int:
    """Print a markdown table of times and the outcome / hand-written ratio."""
    settings = parse_settings(__doc__, rounds=21, number=2000, quick_number=5)
    assert with_outcome(FORM) == by_hand_form()  # noqa: S101 - the same answer
    assert with_outcome(LIMITED) == by_hand_limited()  # noqa: S101 - the same answer
    contenders = [
        Contender("form, by hand", calls(by_hand_form)),
        Contender("form, http_answer", calls(lambda: with_outcome(FORM))),
        Contender("429, by hand", calls(by_hand_limited)),
        Contender("429, http_answer", calls(lambda: with_outcome(LIMITED))),
    ]
    comparisons = [
        Comparison(
            case,
            f"{case}, by hand",
            (
                Entry("by hand", f"{case}, by hand"),
                Entry("http_answer", f"{case}, http_answer", target=TARGET),
            ),
        )
        for case in ("form", "429")
    ]
    misses = run(
        settings, contenders, comparisons, versions={"outcome": outcome.__version__}
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
