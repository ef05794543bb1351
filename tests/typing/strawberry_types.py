"""
Type-level tests of outcome.integrations.strawberry, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_type

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from outcome import Classifier, Errors
from outcome.integrations.strawberry import (
    UserError,
    mask_errors,
    should_mask_error,
    user_errors,
)


@strawberry.type
class PlaceOrderPayload:
    """A mutation's payload, with the user's errors as data."""

    order_id: str | None
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    """The mutations."""

    @strawberry.mutation
    def place_order(self, quantity: int) -> PlaceOrderPayload:
        """Place an order, or say what to fix."""
        errors = Errors()
        if quantity <= 0:
            errors.add("quantity", "greater_than", count=0)
            return PlaceOrderPayload(order_id=None, user_errors=user_errors(errors))
        return PlaceOrderPayload(order_id="A-17", user_errors=[])


errors = Errors()
assert_type(user_errors(errors), list[UserError])
assert_type(user_errors(errors, catalog={"blank": "is needed"}), list[UserError])
error = UserError(
    field=["items", "0", "quantity"], message="Too few", code="greater_than"
)
assert_type(error.field, list[str] | None)
assert_type(error.message, str)
assert_type(error.code, str)
UserError(field=None, message="Too few")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
user_errors([])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

assert_type(should_mask_error(GraphQLError("x")), bool)
predicate: Callable[[GraphQLError], bool] = should_mask_error
MaskErrors(should_mask_error=should_mask_error)

assert_type(mask_errors(), Callable[[], MaskErrors])
extension = mask_errors(
    catalog={"sold_out": "is gone"}, classifier=Classifier(), error_message="Oops."
)
schema = strawberry.Schema(query=Mutation, mutation=Mutation, extensions=[extension])
mask_errors(error_message=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
