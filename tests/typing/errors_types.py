"""
Type-level tests of ErrorDetail, Errors, paths and accumulate.

Checked by mypy --strict and pyright strict, never run; see result_types.py
for how negative cases are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import assert_type

from outcome import (
    DEFAULT_MESSAGES,
    Bucket,
    Err,
    ErrorDetail,
    ErrorEntry,
    ErrorListEntry,
    Errors,
    GraphQLUserError,
    JsonApiDocument,
    Ok,
    Path,
    ProblemDetails,
    Result,
    accumulate,
    format_path,
    format_pointer,
    parse_path,
    parse_pointer,
)


def paths() -> None:
    assert_type(parse_path("items[0].price"), Path)
    assert_type(parse_pointer("/items/0"), Path)
    assert_type(format_path(("items", 0)), str)
    assert_type(format_pointer(("items", 0)), str)
    parse_path(("items",))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    format_path("items")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def details() -> None:
    detail = ErrorDetail("items[0].price", "invalid", params={"maximum": 3})
    assert_type(detail.path, Path)
    assert_type(detail.code, str)
    assert_type(detail.message, str | None)
    assert_type(detail.params, Mapping[str, object])
    assert_type(detail.bucket, Bucket)
    assert_type(detail.cause, BaseException | None)
    assert_type(detail.reference, str)
    assert_type(detail.with_prefix("order"), ErrorDetail)
    ErrorDetail(["items"], "invalid")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    ErrorDetail("a", "invalid", bucket="user_fixable")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    detail.code = "blank"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


def collection() -> None:
    errors = Errors()
    assert_type(errors.add("email", "blank"), ErrorDetail)
    assert_type(errors.add(None, "cart_changed", "Your cart changed."), ErrorDetail)
    assert_type(errors.add(code="cart_empty"), ErrorDetail)
    assert_type(errors.add(("items", 0), "too_long", maximum=5), ErrorDetail)
    assert_type(
        errors.add(
            "card",
            "declined",
            "was declined",
            bucket=Bucket.USER_VISIBLE,
            cause=None,
            retry_after=3,
        ),
        ErrorDetail,
    )
    assert_type(errors.add(code="bug", bucket=Bucket.PROGRAMMER_ERROR), ErrorDetail)
    errors.add("email")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    errors.add("email", 3)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    # The path is positional-only: as a keyword it would be taken for a param.
    errors.add(path="email", code="blank")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    errors.add("email", "blank", path="x")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    errors.add("email", "blank", params={"n": 1})  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    errors.add(code="blank", params={"n": 1})  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    assert_type(errors.append(ErrorDetail("a", "b")), ErrorDetail)
    assert_type(errors.merge(Errors(), prefix="order"), Errors)
    assert_type(errors.merge([ErrorDetail("a", "b")]), Errors)
    errors.merge(["a"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    assert_type(errors.where("email", "blank"), list[ErrorDetail])
    assert_type(errors.where(code="blank", maximum=5), list[ErrorDetail])
    assert_type(errors.has("email"), bool)
    assert_type(errors.subtree("items"), Errors)
    assert_type(errors.base, list[ErrorDetail])
    assert_type(errors.bucket, Bucket | None)
    assert_type(errors.codes(), list[str])
    assert_type(errors.paths(), list[Path])
    assert_type(errors.delete("email"), list[ErrorDetail])
    assert_type(errors.copy(), Errors)
    assert_type(len(errors), int)
    assert_type(list(errors), list[ErrorDetail])
    assert_type(errors.messages(), dict[str, list[str]])
    assert_type(errors.messages(DEFAULT_MESSAGES), dict[str, list[str]])
    assert_type(errors.full_messages({"blank": "est vide"}), list[str])
    errors.to_problem_details(422)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    errors.to_problem_details(status="422")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Only pyright checks hashability; mypy accepts this line.
    _in_a_set = {errors}  # pyright: ignore[reportUnhashable]


def serialisers(errors: Errors) -> None:
    listed = errors.to_list()[0]
    assert_type(listed["path"], list[str | int])
    assert_type(listed["pointer"], str)
    assert_type(listed["params"], dict[str, object])
    assert_type(listed.get("reference"), str | None)
    grouped = errors.to_dict()["email"][0]
    assert_type(grouped["code"], str)
    assert_type(grouped["message"], str)
    problem = errors.to_problem_details(status=HTTPStatus.CONFLICT)
    assert_type(problem["status"], int)
    assert_type(problem["title"], str)
    assert_type(problem["type"], str)
    assert_type(problem.get("detail"), str | None)
    assert_type(problem["errors"][0]["pointer"], str)
    assert_type(problem["errors"][0].get("reference"), str | None)
    _ = problem["status"] + 1
    problem["status"] = "422"  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    _ = problem["unknown"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues, reportUnknownVariableType]
    _ = problem["detail"]  # pyright: ignore[reportTypedDictNotRequiredAccess]  # not always there; mypy allows it
    document = errors.to_jsonapi(status=503)
    assert_type(document["errors"][0]["status"], str)
    assert_type(document["errors"][0].get("source", {}).get("pointer"), str | None)
    user_error = errors.to_graphql()[0]
    assert_type(user_error["field"], list[str] | None)
    assert_type(user_error["message"], str)
    # A TypedDict is a Mapping[str, object], not a dict[str, object].
    body: Mapping[str, object] = errors.to_problem_details()
    plain: dict[str, object] = errors.to_problem_details()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    assert_type(dict(body), dict[str, object])
    assert_type(plain, dict[str, object])


def serialiser_types_by_name(errors: Errors) -> None:
    assert_type(errors.to_list(), list[ErrorListEntry])
    assert_type(errors.to_dict(), dict[str, list[ErrorEntry]])
    assert_type(errors.to_problem_details(), ProblemDetails)
    assert_type(errors.to_jsonapi(), JsonApiDocument)
    assert_type(errors.to_graphql(), list[GraphQLUserError])


def converters(exc: Exception) -> None:
    assert_type(Errors.from_pydantic(exc), Errors)
    assert_type(Errors.from_pydantic(exc, echo_unknown_fields=True), Errors)
    assert_type(Errors.from_django(exc), Errors)
    assert_type(Errors.from_marshmallow(exc), Errors)
    assert_type(Errors.from_marshmallow(exc, echo_unknown_fields=True), Errors)
    Errors.from_pydantic(exc, True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def name(text: str) -> Result[str, ErrorDetail]:
    return Ok(text) if text else Err(ErrorDetail(None, "blank"))


def age(text: str) -> Result[int, Errors]:
    return Ok(int(text))


def accumulating() -> None:
    assert_type(accumulate(name("a")), Result[tuple[str], Errors])
    assert_type(accumulate(name("a"), age("1")), Result[tuple[str, int], Errors])
    assert_type(
        accumulate(name("a"), age("1"), name("b"), age("2"), name("c"), age("3")),
        Result[tuple[str, int, str, int, str, int], Errors],
    )
    seven = accumulate(
        name("a"), age("1"), name("b"), age("2"), name("c"), age("3"), name("d")
    )
    assert_type(seven, Result[tuple[object, ...], Errors])
    assert_type(
        accumulate(name("a"), age("1"), prefixes=["name", None]),
        Result[tuple[str, int], Errors],
    )
    match accumulate(name("a"), age("1")):
        case Ok((text, years)):
            assert_type(text, str)
            assert_type(years, int)
        case Err(errors):
            assert_type(errors, Errors)


def accumulate_wants_errors(r: Result[int, str]) -> None:
    accumulate(r)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
