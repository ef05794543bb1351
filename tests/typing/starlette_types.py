"""
Type-level tests of the Starlette and FastAPI integration, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from typing import assert_type

from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter
from starlette.applications import Starlette
from starlette.responses import Response

from outcome import Classifier, Err, ErrorDetail, Errors, Ok, Problems, Result
from outcome.integrations.starlette import install, problem_response


def installing() -> None:
    assert_type(install(Starlette()), Problems)
    assert_type(install(FastAPI(), statuses={"sold_out": 409}), Problems)
    install(
        FastAPI(),
        statuses={"sold_out": 409},
        catalog={"sold_out": "is sold out"},
        classifier=Classifier(),
        type="https://shop.example/problems",
    )
    install(object())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    install(Starlette(), {"sold_out": 409})  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    install(Starlette(), statuses={"sold_out": "409"})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
    install(Starlette(), classifier="strict")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def responding(errors: Errors, problems: Problems) -> None:
    assert_type(problem_response(errors), Response)
    assert_type(problem_response(Err(errors), problems=problems), Response)
    assert_type(problem_response(TimeoutError()), Response)
    problem_response(errors, problems={"sold_out": 409})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


class Rejected(BaseModel):
    """A response model with errors and a result."""

    errors: Errors
    result: Result[int, Errors]


def models() -> None:
    rejected = Rejected(errors=Errors([ErrorDetail("sku", "blank")]), result=Ok(1))
    assert_type(rejected.errors, Errors)
    assert_type(rejected.result, Ok[int] | Err[Errors])
    assert_type(TypeAdapter(Errors).validate_json("[]"), Errors)
    assert_type(TypeAdapter(Ok[int]).validate_python({"ok": 1}), Ok[int])
