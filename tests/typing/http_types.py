"""
Type-level tests of the HTTP answer, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Literal, assert_type

from outcome import (
    PROBLEM_JSON,
    Err,
    ErrorDetail,
    Errors,
    HttpAnswer,
    ProblemDetails,
    ProblemDetailsError,
    Problems,
    http_answer,
)

problems = Problems(statuses={"sold_out": 409}, catalog={"blank": "is needed"})
answer = problems.answer(Errors([ErrorDetail("sku", "sold_out")]), instance="/orders/7")
assert_type(answer, HttpAnswer)
assert_type(answer.status, int)
assert_type(answer.headers, dict[str, str])
assert_type(answer.body, ProblemDetails)
assert_type(answer.body["status"], int)
assert_type(answer.body["errors"], list[ProblemDetailsError])
assert_type(answer.content, bytes)
assert_type(PROBLEM_JSON, Literal["application/problem+json"])
assert_type(problems.errors_of(Err("declined")), Errors)
assert_type(problems.status_of(ErrorDetail("sku", "sold_out")), int)

# Any failure: an exception, an Err, an Errors, a value of the user's own.
assert_type(http_answer(TimeoutError()), HttpAnswer)
assert_type(http_answer(Err(Errors())), HttpAnswer)

# A status hint takes an int or an HTTPStatus, and reads back as an int.
hinted = ErrorDetail(None, "cancelled", status=HTTPStatus.CONFLICT)
assert_type(hinted.status, int | None)
ErrorDetail(None, "cancelled", status="409")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
Problems(statuses={"sold_out": "409"})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
problems.answer(TimeoutError(), "/orders/7")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
