"""
Type-level tests of outcome.integrations.flask, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from typing import assert_type

from flask import Flask, Response

from outcome import Classifier, ErrorDetail, Errors, Problems
from outcome.integrations.flask import install, problem_response

app = Flask("shop")
assert_type(install(app), Problems)
assert_type(
    install(
        app,
        statuses={"sold_out": 409},
        catalog={"sold_out": "is gone"},
        classifier=Classifier(),
        type="https://shop.example/problems",
    ),
    Problems,
)
install(app, statuses={"sold_out": "409"})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
install(app, {"sold_out": 409})  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


@app.post("/signup")
def signup() -> Response:
    return problem_response(Errors([ErrorDetail("email", "blank")]))


assert_type(problem_response(TimeoutError()), Response)
assert_type(
    problem_response(ErrorDetail("email", "taken"), problems=Problems()), Response
)
problem_response(Errors(), problems={})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
