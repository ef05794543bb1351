"""Failures of a real Strawberry schema, executed sync and async."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

import outcome.integrations.strawberry as integration
from outcome import Bucket, Classifier, Decision, ErrorDetail, Errors
from outcome.integrations.strawberry import (
    UserError,
    mask_errors,
    should_mask_error,
    user_errors,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from strawberry.types import ExecutionResult

QUERY = "SELECT secret FROM cards"
LOGGER = "strawberry.execution"


class OutOfStock(Exception):
    """The shop's own failure: the user can fix it by ordering less."""

    def __outcome_decision__(self) -> Decision:
        """The user can fix it."""
        return Decision(Bucket.USER_FIXABLE, False, "sold_out")


class Declined(Exception):
    """A failure the default classifier calls a bug, unless told otherwise."""


class Rejected(Exception):
    """The app's own failure, carrying the errors it found."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(QUERY)
        self.errors = errors


class Unreadable(Exception):
    """A failure each of whose facts raises when read."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__") and name != "__outcome_decision__":
            return super().__getattribute__(name)
        if name in GRAPHQL_READS:
            raise AttributeError(name)
        raise RuntimeError(QUERY)


# What graphql-core reads of a resolver's exception, surviving AttributeError only.
GRAPHQL_READS = frozenset({"message", "source", "positions", "nodes", "extensions"})


class Broken(Classifier):
    """A classifier that cannot classify anything."""

    def classify(self, failure: object) -> Decision:
        """Fail."""
        raise RuntimeError(QUERY)


def rate_limited() -> httpx.HTTPStatusError:
    """What httpx raises for an upstream's 429 with Retry-After: 7."""
    request = httpx.Request("POST", "https://payments.example/v1/charges")
    response = httpx.Response(429, headers={"Retry-After": "7"}, request=request)
    return httpx.HTTPStatusError(
        "Client error '429 Too Many Requests' for url "
        "'https://payments.example/v1/charges'",
        request=request,
        response=response,
    )


# What each field of the schema raises, by name; set per test.
RAISED: dict[str, BaseException] = {}


def _raise(name: str) -> int | None:
    raise RAISED[name]


@strawberry.type
class Query:
    """Fields that raise what RAISED holds for them."""

    @strawberry.field
    def balance(self) -> int | None:
        """Raise RAISED["balance"]."""
        return _raise("balance")

    @strawberry.field
    def charge(self) -> int | None:
        """Raise RAISED["charge"]."""
        return _raise("charge")

    @strawberry.field
    async def stock(self) -> int | None:
        """Raise RAISED["stock"], asynchronously."""
        return _raise("stock")

    @strawberry.field
    def count(self) -> int | None:
        """Return a value that is no Int: graphql-core's own GraphQLError."""
        return QUERY  # type: ignore[return-value]  # pyright: ignore[reportReturnType]


@strawberry.type
class PlaceOrderPayload:
    """A mutation's payload: the order, or what the user must fix."""

    order_id: str | None
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    """The mutations."""

    @strawberry.mutation
    def place_order(self, sku: str, quantity: int) -> PlaceOrderPayload:
        """Place an order, or say what to fix, as data."""
        errors = Errors()
        if not sku:
            errors.add("sku", "blank")
        if quantity <= 0:
            errors.add("items[0].quantity", "greater_than", count=0)
        if sku == "gone":
            errors.add(None, "sold_out")
        if errors:
            return PlaceOrderPayload(order_id=None, user_errors=user_errors(errors))
        return PlaceOrderPayload(order_id="A-17", user_errors=[])


class Exploding(SchemaExtension):
    """An extension whose hook raises what RAISED holds for "extension"."""

    def on_execute(self) -> Iterator[None]:
        """Raise before the operation runs, when there is something to raise."""
        failure = RAISED.get("extension")
        if failure is not None:
            raise failure
        yield


def schema_with(
    *extensions: type[SchemaExtension] | Callable[[], SchemaExtension],
) -> strawberry.Schema:
    """A schema of Query and Mutation with these extensions."""
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)


@pytest.fixture(autouse=True)
def nothing_raised() -> Any:
    """Each test says what the fields raise."""
    RAISED.clear()
    yield
    RAISED.clear()


def shown(result: ExecutionResult) -> str:
    """All the response shows: its data and its errors, as JSON."""
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors})


def assert_no_secret(result: ExecutionResult) -> None:
    """Nothing of the programmer error's text is in the response."""
    text = shown(result)
    assert "SELECT" not in text
    assert "secret" not in text


def logged(caplog: pytest.LogCaptureFixture) -> list[BaseException | None]:
    """The exception of each ERROR record Strawberry's execution logger made."""
    return [
        record.exc_info[1] if record.exc_info else None
        for record in caplog.records
        if record.name == LOGGER and record.levelno >= logging.ERROR
    ]


def safe_message(failure: Exception, classifier: Classifier | None = None) -> str:
    """The message outcome gives a failure, made from its code alone."""
    detail = ErrorDetail.from_exception(failure, classifier=classifier)
    return Errors([detail]).to_graphql()[0]["message"]


def only_error(result: ExecutionResult) -> dict[str, Any]:
    """The one error of the result, formatted."""
    assert result.errors is not None
    [error] = result.errors
    return dict(error.formatted)


class TestMaskErrors:
    """mask_errors masks bugs behind a reference and tells the rest safely."""

    def test_a_bug_is_masked_behind_its_reference(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A resolver's bug shows a generic message and the reference the log has."""
        bug = LookupError(QUERY)
        RAISED["balance"] = bug
        result = schema_with(mask_errors()).execute_sync("{ balance }")
        assert result.data == {"balance": None}
        error = only_error(result)
        assert error["path"] == ["balance"]
        reference = ErrorDetail.from_exception(bug).reference
        assert error["extensions"] == {"code": "internal_error", "reference": reference}
        assert reference in error["message"]
        assert error["message"].startswith("Something went wrong on our side.")
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_a_bug_in_an_async_resolver_is_masked(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Executed asynchronously, a bug is masked and logged once too."""
        bug = LookupError(QUERY)
        RAISED["stock"] = bug
        result = asyncio.run(schema_with(mask_errors()).execute("{ stock }"))
        error = only_error(result)
        assert error["extensions"] == {
            "code": "internal_error",
            "reference": ErrorDetail.from_exception(bug).reference,
        }
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_the_message_of_a_masked_error_can_be_given(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """error_message replaces the generic message; the reference stays."""
        bug = LookupError(QUERY)
        RAISED["balance"] = bug
        extension = mask_errors(error_message="Unexpected error.")
        result = schema_with(extension).execute_sync("{ balance }")
        error = only_error(result)
        assert error["message"] == "Unexpected error."
        assert error["extensions"]["reference"] == (
            ErrorDetail.from_exception(bug).reference
        )
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_an_upstream_rate_limit_is_told_with_its_wait(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An upstream's 429 says it is busy and how long to wait, and not its URL."""
        failure = rate_limited()
        RAISED["charge"] = failure
        result = schema_with(mask_errors()).execute_sync("{ charge }")
        error = only_error(result)
        assert error["message"] == safe_message(failure)
        assert error["extensions"] == {"code": "rate_limit", "retry_after": 7}
        assert "payments.example" not in shown(result)
        assert "429" not in error["message"]
        assert logged(caplog) == [failure]

    def test_a_failure_the_user_can_fix_takes_the_catalogs_message(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A user-fixable failure shows the catalog's message, not its own text."""
        failure = OutOfStock(QUERY)
        RAISED["balance"] = failure
        extension = mask_errors(catalog={"sold_out": "is sold out"})
        result = schema_with(extension).execute_sync("{ balance }")
        error = only_error(result)
        assert error["message"] == "Is sold out"
        assert error["extensions"] == {"code": "sold_out"}
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_bugs_and_expected_failures_side_by_side(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """In one response, the bug is masked and the expected failure is told."""
        bug, failure = LookupError(QUERY), rate_limited()
        RAISED.update(balance=bug, charge=failure)
        result = schema_with(mask_errors()).execute_sync("{ balance charge }")
        assert result.errors is not None
        codes = {
            tuple(error.path or ()): (error.extensions or {})["code"]
            for error in result.errors
        }
        assert codes == {("balance",): "internal_error", ("charge",): "rate_limit"}
        assert_no_secret(result)
        assert logged(caplog) == [bug, failure]

    @pytest.mark.parametrize("order", ["mask first", "mask last"])
    def test_a_bug_escaping_the_operation_is_masked(
        self, order: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A bug an extension's hook raises is masked, where MaskErrors shows it."""
        bug = LookupError(QUERY)
        RAISED["extension"] = bug
        extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
            mask_errors(),
            Exploding,
        ]
        if order == "mask last":
            extensions.reverse()
        result = schema_with(*extensions).execute_sync("{ balance }")
        error = only_error(result)
        assert error["extensions"] == {
            "code": "internal_error",
            "reference": ErrorDetail.from_exception(bug).reference,
        }
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_a_bug_escaping_an_async_operation_is_masked(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Executed asynchronously, a bug an extension raises is masked too."""
        bug = LookupError(QUERY)
        RAISED["extension"] = bug
        schema = schema_with(mask_errors(), Exploding)
        result = asyncio.run(schema.execute("{ balance }"))
        error = only_error(result)
        assert error["extensions"]["reference"] == (
            ErrorDetail.from_exception(bug).reference
        )
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_the_errors_an_exception_carries_are_told(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An exception carrying Errors is told by them, each in extensions."""
        errors = Errors([ErrorDetail("email", "blank")])
        errors.add("items[0].quantity", "greater_than", count=0)
        failure = Rejected(errors)
        RAISED["balance"] = failure
        result = schema_with(mask_errors()).execute_sync("{ balance }")
        error = only_error(result)
        entries = errors.to_graphql()
        assert error["message"] == entries[0]["message"]
        assert error["extensions"] == {"code": "blank", "errors": entries}
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_bug_among_the_carried_errors_masks_them_all(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Carried errors with a bug among them are masked behind its reference."""
        errors = Errors([ErrorDetail("email", "blank")])
        bug = errors.add_exception(LookupError(QUERY))
        failure = Rejected(errors)
        RAISED["balance"] = failure
        result = schema_with(mask_errors()).execute_sync("{ balance }")
        error = only_error(result)
        assert error["extensions"] == {
            "code": "internal_error",
            "reference": bug.reference,
        }
        assert bug.reference in error["message"]
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_classifier_rule_is_followed(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failure the given classifier knows is told, not masked."""
        classifier = Classifier()
        classifier.register(Declined, bucket=Bucket.USER_FIXABLE, kind="declined")
        failure = Declined(QUERY)
        RAISED["balance"] = failure
        extension = mask_errors(classifier=classifier)
        result = schema_with(extension).execute_sync("{ balance }")
        error = only_error(result)
        assert error["message"] == safe_message(failure, classifier)
        assert error["extensions"] == {"code": "declined"}
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_classifier_that_raises_masks(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """When the classifier fails, the error is masked behind a reference."""
        failure = OutOfStock(QUERY)
        RAISED["balance"] = failure
        result = schema_with(mask_errors(classifier=Broken())).execute_sync(
            "{ balance }"
        )
        error = only_error(result)
        assert error["extensions"]["code"] == "internal_error"
        assert error["extensions"]["reference"].startswith("ERR-")
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_failure_whose_facts_cannot_be_read_is_masked(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failure whose every attribute raises is masked, with a reference."""
        failure = Unreadable("unreadable")
        RAISED["balance"] = failure
        result = schema_with(mask_errors()).execute_sync("{ balance }")
        error = only_error(result)
        assert error["extensions"]["code"] == "internal_error"
        assert error["extensions"]["reference"].startswith("ERR-")
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_raised_graphql_error_is_classified(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A GraphQLError a resolver raises is masked, as graphql-core's own are."""
        failure = GraphQLError(QUERY)
        RAISED["balance"] = failure
        result = schema_with(mask_errors()).execute_sync("{ balance }")
        error = only_error(result)
        assert error["extensions"]["code"] == "internal_error"
        assert_no_secret(result)
        assert logged(caplog) == [failure]

    def test_a_value_that_does_not_fit_the_schema_is_masked(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """graphql-core's error quoting a wrongly typed value is masked."""
        result = schema_with(mask_errors()).execute_sync("{ count }")
        error = only_error(result)
        assert error["extensions"]["code"] == "internal_error"
        assert_no_secret(result)
        [exception] = logged(caplog)
        assert isinstance(exception, GraphQLError)

    def test_errors_about_the_query_are_left_alone(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A query that does not validate keeps graphql-core's message."""
        result = schema_with(mask_errors()).execute_sync("{ balanse }")
        error = only_error(result)
        assert error["message"].startswith("Cannot query field 'balanse' on type")
        assert "extensions" not in error
        assert logged(caplog) == [None]

    def test_each_request_gets_a_fresh_extension(self) -> None:
        """The factory makes a new MaskErrors each time, as Strawberry asks."""
        factory = mask_errors()
        first, second = factory(), factory()
        assert isinstance(first, MaskErrors)
        assert first is not second

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"catalog": ["is sold out"]}, r"catalog must map.*\['is sold out'\]"),
            ({"catalog": {"sold_out": 3}}, r"maps 'sold_out' to 3"),
            ({"classifier": "strict"}, r"classifier=Classifier\(\.\.\.\).*'strict'"),
            ({"error_message": 3}, r"error_message as a str or None, not 3"),
        ],
    )
    def test_bad_options_are_refused(self, options: dict[str, Any], match: str) -> None:
        """Each bad option is refused when the extension is made, naming it."""
        with pytest.raises(TypeError, match=match):
            mask_errors(**options)


class TestShouldMaskError:
    """should_mask_error, with Strawberry's own MaskErrors, masks bugs alone."""

    def test_a_bug_is_masked(self, caplog: pytest.LogCaptureFixture) -> None:
        """A resolver's bug shows MaskErrors' message, and was logged once."""
        bug = LookupError(QUERY)
        RAISED["balance"] = bug
        schema = schema_with(lambda: MaskErrors(should_mask_error=should_mask_error))
        result = schema.execute_sync("{ balance }")
        assert only_error(result)["message"] == "Unexpected error."
        assert_no_secret(result)
        assert logged(caplog) == [bug]

    def test_an_expected_failure_keeps_its_own_text(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Not masked, an expected failure shows its exception's text."""
        failure = TimeoutError("the ledger took too long")
        RAISED["charge"] = failure
        schema = schema_with(lambda: MaskErrors(should_mask_error=should_mask_error))
        result = schema.execute_sync("{ charge }")
        assert only_error(result)["message"] == "the ledger took too long"
        assert logged(caplog) == [failure]

    def test_an_error_about_the_query_is_not_masked(self) -> None:
        """An error with no exception behind it is not masked."""
        assert should_mask_error(GraphQLError("Syntax Error")) is False

    def test_carried_errors_decide(self) -> None:
        """The Errors an exception carries decide, as an HTTP answer has it."""
        fixable = Rejected(Errors([ErrorDetail("email", "blank")]))
        bug = Errors([ErrorDetail("email", "blank")])
        bug.add_exception(LookupError(QUERY))
        assert should_mask_error(GraphQLError(QUERY, original_error=fixable)) is False
        assert should_mask_error(GraphQLError(QUERY, original_error=Rejected(bug)))

    def test_a_bug_behind_an_error_is_masked(self) -> None:
        """An error with a programmer error behind it is masked."""
        error = GraphQLError(QUERY, original_error=LookupError(QUERY))
        assert should_mask_error(error) is True


class TestUserErrors:
    """user_errors turns Errors into a payload's userErrors."""

    MUTATION = (
        "mutation($sku: String!, $quantity: Int!) {"
        " placeOrder(sku: $sku, quantity: $quantity) {"
        " orderId userErrors { field message code } } }"
    )

    def test_errors_become_user_errors_in_the_payload(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Each error is a UserError with its field, full message and code."""
        result = schema_with(mask_errors()).execute_sync(
            self.MUTATION, variable_values={"sku": "", "quantity": 0}
        )
        assert result.errors is None
        assert result.data == {
            "placeOrder": {
                "orderId": None,
                "userErrors": [
                    {
                        "field": ["sku"],
                        "message": "Sku can't be blank",
                        "code": "blank",
                    },
                    {
                        "field": ["items", "0", "quantity"],
                        "message": "Quantity must be greater than 0",
                        "code": "greater_than",
                    },
                ],
            }
        }
        assert logged(caplog) == []

    def test_an_error_at_the_base_has_no_field(self) -> None:
        """An error about the input as a whole has a null field."""
        result = schema_with(mask_errors()).execute_sync(
            self.MUTATION, variable_values={"sku": "gone", "quantity": 1}
        )
        assert result.data == {
            "placeOrder": {
                "orderId": None,
                "userErrors": [
                    {"field": None, "message": "Sold out", "code": "sold_out"}
                ],
            }
        }

    def test_success_has_no_user_errors(self) -> None:
        """A mutation that succeeds has an empty userErrors."""
        result = schema_with(mask_errors()).execute_sync(
            self.MUTATION, variable_values={"sku": "A", "quantity": 1}
        )
        assert result.data == {"placeOrder": {"orderId": "A-17", "userErrors": []}}

    def test_the_catalog_gives_the_message(self) -> None:
        """A template in the catalog is the error's message."""
        errors = Errors([ErrorDetail("quantity", "greater_than", params={"count": 0})])
        [error] = user_errors(errors, catalog={"greater_than": "must be over {count}"})
        assert (error.field, error.message, error.code) == (
            ["quantity"],
            "Quantity must be over 0",
            "greater_than",
        )

    def test_a_bug_among_them_is_redacted(self) -> None:
        """A programmer error shows its generic message, reference and code only."""
        errors = Errors()
        detail = errors.add_exception(LookupError(QUERY))
        [error] = user_errors(errors)
        assert error.code == "internal_error"
        assert error.field is None
        assert detail.reference in error.message
        assert "SELECT" not in error.message

    def test_user_error_is_a_strawberry_type(self) -> None:
        """UserError is in the schema's SDL, with its descriptions."""
        sdl = str(schema_with(mask_errors()))
        assert "type UserError {" in sdl
        assert "field: [String!]\n" in sdl
        assert "message: String!\n" in sdl
        assert "code: String!\n" in sdl
        assert "An error in the input that the user can fix" in sdl

    def test_user_error_is_one_class(self) -> None:
        """Every import of UserError gives the same class, named for its module."""
        assert integration.UserError is UserError
        assert type(user_errors(Errors([ErrorDetail("a", "blank")]))[0]) is UserError
        assert UserError.__qualname__ == "UserError"
        assert UserError.__module__ == "outcome.integrations.strawberry"
        made = UserError(field=None, message="Out of stock", code="sold_out")
        assert made.message == "Out of stock"

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        """Asking the module for a name it lacks raises AttributeError, naming it."""
        name = "UserErrors"
        with pytest.raises(AttributeError, match="has no attribute 'UserErrors'"):
            getattr(integration, name)

    def test_errors_that_are_not_errors_are_refused(self) -> None:
        """A list of details is refused, naming it and saying what to pass."""
        with pytest.raises(TypeError, match=r"takes an Errors, not \[\]: collect"):
            user_errors([])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def test_a_bad_catalog_is_refused(self) -> None:
        """A catalog that is no mapping is refused, naming it."""
        with pytest.raises(TypeError, match=r"catalog must map.*'blank'"):
            user_errors(Errors(), catalog="blank")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


class TestImport:
    """The integration imports Strawberry only when it is used."""

    def test_importing_it_imports_no_strawberry(self) -> None:
        """Importing the module imports neither Strawberry nor graphql-core."""
        code = (
            "import sys, outcome.integrations.strawberry as m; "
            "assert 'strawberry' not in sys.modules and 'graphql' not in sys.modules; "
            "m.UserError; assert 'strawberry' in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
