"""
Type-level tests of outcome.integrations.django, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

# pyright: reportMissingTypeStubs=false

from __future__ import annotations

from typing import assert_type

from django.http import HttpRequest, HttpResponse

from outcome import Err, ErrorDetail, Errors, Problems
from outcome.integrations.django import (
    ProblemMiddleware,
    exception_handler,
    problem_response,
    problem_server_error,
)

assert_type(exception_handler(TimeoutError(), {}), HttpResponse | None)
exception_handler("timeout", {})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def signup(_request: HttpRequest) -> HttpResponse:
    return problem_response(Err(Errors([ErrorDetail("email", "blank")])))


assert_type(problem_response(TimeoutError()), HttpResponse)
assert_type(
    problem_response(ErrorDetail("email", "taken"), problems=Problems()), HttpResponse
)
problem_response(Errors(), problems={})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

assert_type(problem_server_error(HttpRequest()), HttpResponse)
middleware = ProblemMiddleware(signup)
assert_type(
    middleware.process_exception(HttpRequest(), KeyError()), HttpResponse | None
)
