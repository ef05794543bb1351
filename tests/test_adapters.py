"""Tests for converting the errors of pydantic, Django and marshmallow into Errors."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import pickle
import threading
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

import django.conf
import django.core.exceptions as django_exceptions
import marshmallow
import pydantic
import pydantic.v1
import pytest
from django import forms
from django.core import validators
from django.core.validators import MaxLengthValidator
from django.db import models
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import InitErrorDetails, PydanticCustomError

from outcome import Bucket, Errors, format_path
from outcome._errors import adapters as adapters_module

SECRET = "hunter2-Sekr1t-Input"  # noqa: S105 - a rejected input, not a password


@pytest.fixture(scope="module", autouse=True)
def _django_settings() -> None:
    """Django's translated messages need settings; the bare minimum will do."""
    # Imported as django.conf, not bound here: doctest collection would touch it.
    if not django.conf.settings.configured:
        django.conf.settings.configure(USE_I18N=False)


def caught(function: Callable[[], object]) -> BaseException:
    """Run `function` and return the exception it raises."""
    with pytest.raises(Exception) as info:  # noqa: PT011 - any library's error
        function()
    return info.value


# pydantic ------------------------------------------------------------------


class Item(pydantic.BaseModel):
    """An order line, with constraints that give ctx params."""

    price: int = pydantic.Field(gt=0)
    name: str = pydantic.Field(min_length=3)


class Order(pydantic.BaseModel):
    """An order with nested, listed items."""

    items: list[Item]
    tags: dict[str, int] = {}


class Refund(pydantic.BaseModel):
    """A model whose model_validator fails: an error at the base."""

    amount: int

    @pydantic.model_validator(mode="after")
    def _check(self) -> Refund:
        msg = "refunds are closed"
        raise ValueError(msg)


def _identity(value: int) -> int:
    return value


class Choice(pydantic.BaseModel):
    """A union whose members leave tags in ``loc``."""

    value: Annotated[int, pydantic.AfterValidator(_identity)] | list[int]


class Checked(pydantic.BaseModel):
    """A field whose validators raise a ValueError and an AssertionError."""

    count: int

    @pydantic.field_validator("count")
    @classmethod
    def _check(cls, count: int) -> int:
        if count == 5:
            msg = f"{count} is not allowed"
            raise ValueError(msg)
        assert count != 6, f"{count} is not allowed"
        return count


class Cat(pydantic.BaseModel):
    """One member of a tagged union."""

    kind: Literal["cat"]
    lives: int = 9


class Dog(pydantic.BaseModel):
    """The other member."""

    kind: Literal["dog"]


class Adoption(pydantic.BaseModel):
    """A tagged union, whose tag pydantic's message shows."""

    pet: Annotated[Cat | Dog, pydantic.Field(discriminator="kind")]


class StrictCat(Cat):
    """A member that refuses keys it does not know."""

    model_config = pydantic.ConfigDict(extra="forbid")


class StrictAdoption(pydantic.BaseModel):
    """A tagged union refusing unknown keys, at the top and in a member."""

    model_config = pydantic.ConfigDict(extra="forbid")

    pet: Annotated[StrictCat | Dog, pydantic.Field(discriminator="kind")]


class LegacyCat(pydantic.v1.BaseModel):
    """A pydantic v1 member of a tagged union."""

    kind: Literal["cat"]


class LegacyDog(pydantic.v1.BaseModel):
    """The other one."""

    kind: Literal["dog"]


def assert_nothing_shows(errors: Errors, text: str) -> None:
    """`text` is in no output, param, message or cause of `errors`, nor pickles."""
    shown = [
        repr(errors),
        json.dumps(errors.to_list(), ensure_ascii=False),
        json.dumps(errors.to_dict(), ensure_ascii=False),
        json.dumps(errors.to_problem_details(), ensure_ascii=False),
        json.dumps(errors.to_jsonapi(), ensure_ascii=False),
        json.dumps(errors.to_graphql(), ensure_ascii=False),
        repr(errors.messages()),
        repr(errors.full_messages()),
        repr(pickle.dumps(errors)),
    ]
    for detail in errors:
        shown += [repr(dict(detail.params)), str(detail.message)]
        cause = detail.cause
        if cause is not None:
            shown += [repr(cause), str(cause), repr(cause.args), repr(vars(cause))]
            shown.append(repr(pickle.loads(pickle.dumps(cause)).args))  # noqa: S301 - our own bytes
            errors_method = getattr(cause, "errors", None)
            if callable(errors_method):
                shown.append(repr(errors_method()))
    for output in shown:
        assert text not in output
        assert repr(text)[1:-1] not in output


def pydantic_error(model: type[pydantic.BaseModel], data: object) -> BaseException:
    """The ValidationError raised when `data` is validated by `model`."""
    return caught(lambda: model.model_validate(data))


def custom_pydantic_error(
    ctx: dict[str, Any], loc: tuple[str | int, ...] = ("field",)
) -> BaseException:
    """A ValidationError of a custom type with `ctx`, rejecting SECRET at `loc`."""
    error = PydanticCustomError("custom_code", "custom message", ctx)
    return pydantic.ValidationError.from_exception_data(
        "Custom", [InitErrorDetails(type=error, loc=loc, input=SECRET, ctx=ctx)]
    )


class TestFromPydantic:
    """Errors.from_pydantic."""

    def test_nested_models_and_list_indices(self) -> None:
        """Ensures loc becomes the path, with list indices as ints."""
        exc = pydantic_error(Order, {"items": [{"price": 5, "name": "pen"}, {}]})

        errors = Errors.from_pydantic(exc)

        assert errors.paths() == [("items", 1, "price"), ("items", 1, "name")]
        assert errors.codes() == ["missing"]
        assert errors.messages() == {
            "items[1].price": ["is required"],
            "items[1].name": ["is required"],
        }

    def test_codes_and_ctx_params(self) -> None:
        """Ensures type becomes the code and ctx the params, named as the templates'."""
        exc = pydantic_error(Order, {"items": [{"price": 0, "name": "ab"}]})

        errors = Errors.from_pydantic(exc)

        price, name = errors
        assert (price.path, price.code, dict(price.params)) == (
            ("items", 0, "price"),
            "greater_than",
            {"count": 0},
        )
        assert (name.code, dict(name.params)) == ("string_too_short", {"minimum": 3})
        assert (price.message, name.message) == (None, None)
        assert errors.full_messages() == [
            "Price must be greater than 0",
            "Name is too short (minimum length: 3)",
        ]

    def test_model_validator_error_at_base(self) -> None:
        """Ensures a model_validator error (loc ()) lands at the base."""
        errors = Errors.from_pydantic(pydantic_error(Refund, {"amount": 1}))

        [detail] = errors.base
        assert (detail.code, detail.message) == ("value_error", None)
        assert errors.full_messages() == ["Refunds are closed"]

    @pytest.mark.parametrize("value", [5, 6])
    def test_a_validators_exception_is_not_a_param(self, value: int) -> None:
        """Ensures value_error and assertion_error keep no exception in params."""
        exc = pydantic_error(Checked, {"count": value})

        [detail] = Errors.from_pydantic(exc)

        assert detail.code in {"value_error", "assertion_error"}
        # The validator's words, without pydantic's "Value error, ", as the
        # default message (pytest adds its own words to an assert's).
        assert list(detail.params) == ["default_message"]
        assert Errors([detail]).to_list()[0]["params"] == {}
        assert "Error(" not in json.dumps(Errors([detail]).to_list())
        assert str(detail).startswith(f"Count {value} is not allowed")

    def test_a_union_tag_is_kept_nowhere(self) -> None:
        """Ensures a union's tag, which is input, is in no message, param or cause."""
        exc = pydantic_error(Adoption, {"pet": {"kind": SECRET}})
        assert SECRET in str(exc)  # pydantic itself shows it

        [detail] = Errors.from_pydantic(exc)

        assert (detail.code, detail.message) == ("union_tag_invalid", None)
        assert str(detail) == (
            "Pet has an unknown 'kind': it must be one of 'cat', 'dog'"
        )
        assert cast("pydantic.ValidationError", detail.cause).errors()[0]["msg"] == (
            "Input tag '…' found using 'kind' does not match any of the expected "
            "tags: 'cat', 'dog'"
        )
        assert dict(detail.params) == {
            "discriminator": "'kind'",
            "expected_tags": "'cat', 'dog'",
        }
        assert_nothing_shows(Errors([detail]), SECRET)

    def test_an_unknown_key_is_folded_into_its_object(self) -> None:
        """Ensures an extra_forbidden key is not a path, nor kept in the cause."""
        data = {SECRET: 1, "pet": {"kind": "cat", "lives": 9, "<b>x</b>": 2}}
        exc = pydantic_error(StrictAdoption, data)

        errors = Errors.from_pydantic(exc)

        assert [(d.path, d.code) for d in errors] == [
            (("pet", "cat"), "extra_forbidden"),
            ((), "extra_forbidden"),
        ]
        assert errors.full_messages() == [
            "Cat has a field that is not allowed",
            "A field that is not allowed was sent",
        ]
        assert_nothing_shows(errors, SECRET)
        assert_nothing_shows(errors, "<b>x</b>")

    def test_unknown_keys_echoed_when_asked(self) -> None:
        """Ensures echo_unknown_fields=True keeps the key as the path, as pydantic."""
        exc = pydantic_error(StrictAdoption, {"pet": {"kind": "cat"}, "colour": 1})

        errors = Errors.from_pydantic(exc, echo_unknown_fields=True)

        assert errors.paths() == [("colour",)]
        assert errors.full_messages() == ["Colour is not allowed"]

    def test_pydantic_v1_keeps_no_input_either(self) -> None:
        """Ensures a v1 tag, const or unknown key is hidden, the v1 cause dropped."""

        class Tagged(pydantic.v1.BaseModel):
            pet: LegacyCat | LegacyDog = pydantic.v1.Field(discriminator="kind")

            class Config:
                extra = "forbid"

        tag = caught(lambda: Tagged.parse_obj({"pet": {"kind": SECRET}}))
        extra = caught(lambda: Tagged.parse_obj({"pet": {"kind": "cat"}, SECRET: 1}))

        [detail] = Errors.from_pydantic(tag)
        assert detail.params == {
            "discriminator_key": "kind",
            "allowed_values": "'cat', 'dog'",
        }
        assert detail.message is None  # pydantic's message showed the tag
        assert detail.cause is None  # its repr shows the ctx
        assert_nothing_shows(Errors([detail]), SECRET)
        folded = Errors.from_pydantic(extra)
        assert [(d.path, d.cause) for d in folded] == [((), None)]
        assert_nothing_shows(folded, SECRET)
        [echoed] = Errors.from_pydantic(extra, echo_unknown_fields=True)
        assert (echoed.path, echoed.cause) == ((SECRET,), extra)

    def test_input_never_kept(self) -> None:
        """Ensures the rejected input appears nowhere in the converted errors."""
        exc = pydantic_error(Item, {"price": SECRET, "name": SECRET[:2]})
        assert SECRET in repr(exc)  # pydantic itself shows it

        errors = Errors.from_pydantic(exc)

        assert len(errors) == 2
        shown = [
            repr(errors),
            repr(errors.to_list()),
            repr(errors.to_dict()),
            json.dumps(errors.to_problem_details(), sort_keys=True),
            repr(errors.to_jsonapi()),
            repr(errors.to_graphql()),
            repr(errors.full_messages()),
        ]
        for detail in errors:
            shown += [repr(dict(detail.params)), repr(detail.cause), str(detail.cause)]
            cause = cast("pydantic.ValidationError", detail.cause)
            shown.append(repr(cause.errors()))
            shown.append(repr(pickle.loads(pickle.dumps(cause)).errors()))  # noqa: S301 - our own bytes
        for text in shown:
            assert SECRET not in text
            assert SECRET[:2] + "'" not in text

    def test_cause_is_the_error_without_its_input(self) -> None:
        """Ensures the cause is a ValidationError like the original, minus the input."""
        exc = pydantic_error(Item, {"price": 0, "name": "pen"})

        [detail] = Errors.from_pydantic(exc)

        cause = detail.cause
        assert isinstance(cause, pydantic.ValidationError)
        assert cause is not exc
        assert cause.title == "Item"
        assert cause.__traceback__ is exc.__traceback__
        assert [(e["loc"], e["type"], e["input"]) for e in cause.errors()] == [
            (("price",), "greater_than", None)
        ]
        assert detail.bucket is Bucket.USER_FIXABLE

    def test_cause_keeps_the_chained_exceptions(self) -> None:
        """Ensures the cause keeps the original's __cause__ and __context__."""
        exc = pydantic_error(Item, {"price": 0, "name": "pen"})
        exc.__cause__ = KeyError("cause")
        exc.__context__ = KeyError("context")

        [detail] = Errors.from_pydantic(exc)

        assert detail.cause is not None
        assert detail.cause.__cause__ is exc.__cause__
        assert detail.cause.__context__ is exc.__context__

    def test_custom_error_type(self) -> None:
        """Ensures a PydanticCustomError converts, and its cause is rebuilt too."""
        exc = custom_pydantic_error({"limit": 3})

        [detail] = Errors.from_pydantic(exc)

        assert (detail.path, detail.code, detail.message) == (
            ("field",),
            "custom_code",
            None,
        )
        assert dict(detail.params) == {"limit": 3, "default_message": "custom message"}
        assert str(detail) == "Field custom message"
        assert SECRET not in repr(detail.cause)

    def test_union_and_validator_segments_kept(self) -> None:
        """Ensures the tags pydantic puts in loc for union members are kept as is."""
        errors = Errors.from_pydantic(pydantic_error(Choice, {"value": "x"}))

        assert errors.paths() == [
            ("value", "function-after[_identity(), int]"),
            ("value", "list[int]"),
        ]

    def test_empty_dict_key(self) -> None:
        """Ensures an empty dict key, which no path can hold, becomes "''"."""
        exc = pydantic_error(Order, {"items": [], "tags": {"": "x"}})

        assert Errors.from_pydantic(exc).paths() == [("tags", "''")]

    def test_negative_index_becomes_a_name(self) -> None:
        """Ensures a loc segment that is not a valid index becomes its text."""
        exc = custom_pydantic_error({}, loc=("items", -1, "price"))

        [detail] = Errors.from_pydantic(exc)

        assert detail.path == ("items", "-1", "price")
        assert detail.params == {"default_message": "custom message"}

    def test_params_named_like_fields_renamed(self) -> None:
        """Ensures ctx names that ErrorDetail refuses are renamed, losing nothing."""
        ctx = {"path": 1, "param_path": 2, "a-b": 3, "1st": 4, "message": 5, "": 6}

        [detail] = Errors.from_pydantic(custom_pydantic_error(ctx))

        assert dict(detail.params) == {
            "param_param_path": 1,
            "param_path": 2,
            "a_b": 3,
            "param_1st": 4,
            "param_message": 5,
            "param_": 6,
            "default_message": "custom message",
        }

    def test_pydantic_v1_error(self) -> None:
        """Ensures a pydantic v1 error, whose repr shows no input, is the cause."""

        class Legacy(pydantic.v1.BaseModel):
            count: pydantic.v1.conint(gt=3)  # type: ignore[valid-type]  # a v1 constrained type

        exc = caught(lambda: Legacy(count=SECRET))
        other = caught(lambda: Legacy(count=1))

        assert Errors.from_pydantic(exc).codes() == ["type_error.integer"]
        [detail] = Errors.from_pydantic(other)
        assert (detail.path, detail.code) == (("count",), "value_error.number.not_gt")
        assert dict(detail.params) == {
            "limit_value": 3,
            "default_message": "ensure this value is greater than 3",
        }
        assert detail.cause is other
        assert SECRET not in repr(Errors.from_pydantic(exc))

    @pytest.mark.parametrize(
        "wrong",
        [
            ValueError("x"),
            "not an exception",
            django_exceptions.ValidationError("x"),
            marshmallow.ValidationError("x"),
        ],
    )
    def test_not_a_pydantic_error(self, wrong: object) -> None:
        """Ensures anything without pydantic's errors() is refused with a TypeError."""
        with pytest.raises(TypeError, match=r"from_pydantic\(\) takes a pydantic"):
            Errors.from_pydantic(cast("BaseException", wrong))

    @pytest.mark.parametrize(
        "entries",
        ["not a list", ["not a dict"], [{"type": "missing"}], [{"loc": ()}]],
    )
    def test_errors_method_of_the_wrong_shape(self, entries: object) -> None:
        """Ensures an errors() that does not return pydantic's entries is refused."""

        class Impostor(Exception):
            def errors(self) -> object:
                return entries

        with pytest.raises(TypeError, match=r"of type \S*\.Impostor "):
            Errors.from_pydantic(Impostor())


class Colour(enum.Enum):
    """An enum field's values."""

    RED = "red"
    BLUE = "blue"


class Everything(pydantic.BaseModel):
    """A model with a field for each of pydantic's common error types."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=2, max_length=5, pattern=r"^[a-z]+$")
    count: int = pydantic.Field(ge=1, le=10, multiple_of=2)
    price: float = pydantic.Field(gt=0, lt=100)
    amount: decimal.Decimal = pydantic.Field(max_digits=4, decimal_places=2)
    tags: list[int] = pydantic.Field(min_length=1, max_length=3)
    code: bytes = pydantic.Field(min_length=1, max_length=4)
    colour: Colour
    size: Literal["s", "m"]
    day: dt.date
    at: dt.datetime
    opens: dt.time
    wait: dt.timedelta
    id: uuid.UUID
    site: pydantic.HttpUrl
    flag: bool
    item: Item
    pet: Annotated[Cat | Dog, pydantic.Field(discriminator="kind")]


# What each field of Everything is given, and the message it gets: every
# common type, rendered from a built-in template in the templates' names.
EVERYTHING_REJECTED: dict[str, tuple[object, str, str]] = {
    "name": ("a", "string_too_short", "Name is too short (minimum length: 2)"),
    "count": (12, "less_than_equal", "Count must be less than or equal to 10"),
    "price": (0, "greater_than", "Price must be greater than 0.0"),
    "amount": ("12345", "decimal_max_digits", "Amount must have at most 4 digits"),
    "tags": ([], "too_short", "Tags has too few items (minimum: 1)"),
    "code": (b"abcdef", "bytes_too_long", "Code is too long (maximum length: 4)"),
    "colour": ("green", "enum", "Colour must be 'red' or 'blue'"),
    "size": ("xl", "literal_error", "Size must be 's' or 'm'"),
    "day": ("someday", "date_from_datetime_parsing", "Day must be a valid date"),
    "at": ("noon", "datetime_from_date_parsing", "At must be a valid date and time"),
    "opens": ("late", "time_parsing", "Opens must be a valid time"),
    "wait": ("long", "time_delta_parsing", "Wait must be a valid duration"),
    "id": (SECRET, "uuid_parsing", "Id must be a valid UUID"),
    "site": ("nowhere", "url_parsing", "Site must be a valid URL"),
    "flag": ("perhaps", "bool_parsing", "Flag must be true or false"),
    "item": ({"price": "x", "name": "abc"}, "int_parsing", "Price must be an integer"),
    "pet": ({"lives": 3}, "union_tag_not_found", "Pet must have a 'kind'"),
}

FRENCH: dict[str, str] = {
    "missing": "est obligatoire",
    "greater_than": "doit être supérieur à {count}",
    "string_too_short": "doit avoir au moins {minimum} caractères",
    "too_short": "doit avoir au moins {minimum} éléments",
    "custom_code": "ne convient pas ({limit})",
}
"""A catalog of pydantic's types, in French."""

pydantic_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.just(SECRET),
    st.lists(st.integers() | st.just(SECRET), max_size=4),
    st.dictionaries(
        st.sampled_from(["price", "name", "kind", SECRET]),
        st.integers() | st.just(SECRET),
        max_size=3,
    ),
)


class Basket:
    """A class pydantic knows only by isinstance: it has no template."""


class TestPydanticTranslated:
    """pydantic's errors render from templates a catalog can translate."""

    def test_a_catalog_translates_pydantic_errors(self) -> None:
        """pydantic's English is no override: the catalog's templates win."""
        exc = pydantic_error(Order, {"items": [{"price": 0, "name": "ab"}, {}]})

        errors = Errors.from_pydantic(exc)

        assert errors.messages(FRENCH) == {
            "items[0].price": ["doit être supérieur à 0"],
            "items[0].name": ["doit avoir au moins 3 caractères"],
            "items[1].price": ["est obligatoire"],
            "items[1].name": ["est obligatoire"],
        }

    def test_every_common_type_renders_a_built_in_template(self) -> None:
        """Each field of Everything gets its type's code and built-in message."""
        data = {field: value for field, (value, _, _) in EVERYTHING_REJECTED.items()}

        errors = Errors.from_pydantic(pydantic_error(Everything, data))

        found = {detail.path[0]: detail for detail in errors}
        assert set(found) == set(EVERYTHING_REJECTED)
        for field, (_, code, message) in EVERYTHING_REJECTED.items():
            assert (found[field].code, str(found[field])) == (code, message)
            # pydantic's own words are kept only where no template fits.
            own_template = "default_message" in found[field].params
            assert own_template == (code == "too_short")
        assert_nothing_shows(errors, SECRET)

    @pytest.mark.parametrize(
        ("constraint", "value", "code"),
        [
            ({"gt": 3}, 3, "greater_than"),
            ({"ge": 3}, 2, "greater_than_equal"),
            ({"lt": 3}, 3, "less_than"),
            ({"le": 3}, 4, "less_than_equal"),
            ({"multiple_of": 3}, 4, "multiple_of"),
        ],
    )
    def test_bounds_are_the_count(
        self, constraint: dict[str, int], value: int, code: str
    ) -> None:
        """gt, ge, lt, le and multiple_of are the templates' count."""
        adapter = pydantic.TypeAdapter(Annotated[int, pydantic.Field(**constraint)])  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
        exc = caught(lambda: adapter.validate_python(value))

        [detail] = Errors.from_pydantic(exc)

        assert (detail.code, dict(detail.params)) == (code, {"count": 3})

    @pytest.mark.parametrize(
        ("annotation", "value", "params"),
        [
            (Annotated[str, pydantic.Field(min_length=3)], "ab", {"minimum": 3}),
            (Annotated[str, pydantic.Field(max_length=1)], "ab", {"maximum": 1}),
            (
                Annotated[list[int], pydantic.Field(min_length=3)],
                [1],
                {"minimum": 3, "field_type": "List", "actual_length": 1},
            ),
            (
                Annotated[list[int], pydantic.Field(max_length=1)],
                [1, 2],
                {"maximum": 1, "field_type": "List", "actual_length": 2},
            ),
        ],
    )
    def test_lengths_are_the_minimum_and_maximum(
        self, annotation: object, value: object, params: dict[str, object]
    ) -> None:
        """min_length and max_length are the templates' minimum and maximum."""
        exc = caught(lambda: pydantic.TypeAdapter(annotation).validate_python(value))

        [detail] = Errors.from_pydantic(exc)

        shown = {k: v for k, v in detail.params.items() if k != "default_message"}
        assert shown == params

    def test_a_list_too_short_counts_items_not_characters(self) -> None:
        """pydantic's too_short is about items: Rails' characters would be wrong."""
        exc = caught(
            lambda: pydantic.TypeAdapter(
                Annotated[list[int], pydantic.Field(min_length=2)]
            ).validate_python([1])
        )

        errors = Errors.from_pydantic(exc)

        assert errors.messages() == {"": ["has too few items (minimum: 2)"]}
        assert errors.messages({"too_short": "trop court"}) == {"": ["trop court"]}

    def test_pydantic_text_is_the_fallback(self) -> None:
        """A type with no built-in template shows pydantic's words, or the catalog's."""
        config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        exc = caught(
            lambda: pydantic.TypeAdapter(Basket, config=config).validate_python(1)
        )
        custom = Errors.from_pydantic(custom_pydantic_error({"limit": 3}))

        [detail] = Errors.from_pydantic(exc)

        assert (detail.code, detail.message) == ("is_instance_of", None)
        assert str(detail) == "Input should be an instance of Basket"
        assert Errors([detail]).full_messages({"is_instance_of": "is no basket"}) == [
            "Is no basket"
        ]
        assert custom.full_messages() == ["Field custom message"]
        assert custom.full_messages(FRENCH) == ["Field ne convient pas (3)"]
        assert custom.to_list()[0]["params"] == {"limit": 3}

    def test_pydantic_text_keeps_its_braces(self) -> None:
        """pydantic's words are finished text: braces in them read back as written."""
        error = PydanticCustomError("braced", "use {name} for {limit}", {"limit": 3})
        exc = pydantic.ValidationError.from_exception_data(
            "Custom", [InitErrorDetails(type=error, loc=("field",), input=SECRET)]
        )

        errors = Errors.from_pydantic(exc)

        assert errors.messages() == {"field": ["use {name} for 3"]}
        assert errors.messages({"braced": "{limit} at most"}) == {
            "field": ["3 at most"]
        }

    def test_a_ctx_named_like_the_default_is_renamed(self) -> None:
        """A custom ctx's default_message is a param, never taken for a template."""
        ctx = {"default_message": "{limit}", "param_default_message": 1, "limit": 3}

        [detail] = Errors.from_pydantic(custom_pydantic_error(ctx))

        assert dict(detail.params) == {
            "param_default_message": 1,
            "limit": 3,
            "param_param_default_message": "{limit}",
            "default_message": "custom message",
        }
        assert str(detail) == "Field custom message"

    def test_a_ctx_that_holds_the_templates_name_keeps_its_own(self) -> None:
        """A ctx that has both gt and count keeps both, renaming neither."""
        ctx = {"gt": 3, "count": 9}
        line = InitErrorDetails(type="greater_than", loc=("n",), input=1, ctx=ctx)
        exc = pydantic.ValidationError.from_exception_data("Known", [line])

        [detail] = Errors.from_pydantic(exc)

        assert dict(detail.params) == {"gt": 3, "count": 9}

    def test_a_uuids_character_is_not_kept(self) -> None:
        """uuid_parsing's ctx shows a character of the input: it is kept nowhere."""
        exc = pydantic_error(Everything, {"id": "Zebra"})
        assert "`Z`" in str(exc)  # pydantic itself shows it

        errors = Errors.from_pydantic(exc).subtree("id")

        [detail] = errors
        assert (detail.code, dict(detail.params)) == ("uuid_parsing", {})
        assert_nothing_shows(errors, "`Z`")

    def test_an_invalid_encoding_keeps_no_character(self) -> None:
        """bytes_invalid_encoding's ctx shows a character of the input: kept nowhere."""
        config = pydantic.ConfigDict(val_json_bytes="hex")
        adapter = pydantic.TypeAdapter(bytes, config=config)
        exc = caught(lambda: adapter.validate_json('"zz"'))
        assert "'z'" in str(exc)  # pydantic itself shows it

        errors = Errors.from_pydantic(exc)

        [detail] = errors
        assert (detail.code, dict(detail.params)) == (
            "bytes_invalid_encoding",
            {"encoding": "hex"},
        )
        assert str(detail) == "Must be valid hex"
        assert_nothing_shows(errors, "'z'")

    def test_base64_that_does_not_decode(self) -> None:
        """Base64Bytes' own base64_decode error has a template too."""
        adapter = pydantic.TypeAdapter(pydantic.Base64Bytes)
        exc = caught(lambda: adapter.validate_python(b"ab=c"))

        [detail] = Errors.from_pydantic(exc)

        assert (detail.code, str(detail)) == ("base64_decode", "Must be valid base64")

    @given(st.dictionaries(st.sampled_from(sorted(EVERYTHING_REJECTED)), pydantic_junk))
    def test_a_catalog_beats_every_converted_error(
        self, data: dict[str, object]
    ) -> None:
        """Whatever is rejected, a catalog template for each code is what shows."""
        try:
            Everything.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = Errors.from_pydantic(exc)
        else:  # pragma: no cover - junk that happens to be valid
            return

        catalog = {code: f"<{code}>" for code in errors.codes()}
        for detail in errors:
            assert detail.message is None
            assert Errors([detail]).messages(catalog) == {
                format_path(detail.path): [f"<{detail.code}>"]
            }
        for message in errors.full_messages():
            assert "{" not in message
        assert_nothing_shows(errors, SECRET)


class Keyed(pydantic.BaseModel):
    """Dicts keyed by ints and strs, whose keys pydantic puts in loc."""

    by_number: dict[int, int] = {}
    by_name: dict[str, int] = {}


FAST_PATH_MODELS: tuple[type[pydantic.BaseModel], ...] = (
    Everything,
    Order,
    Item,
    Adoption,
    StrictAdoption,
    Checked,
    Choice,
    Refund,
    Keyed,
)


def _conversion_of(errors: Errors) -> list[tuple[object, ...]]:
    """Everything converted errors hold and show, their causes' content too."""
    facts: list[tuple[object, ...]] = []
    for detail in errors:
        cause = detail.cause
        assert isinstance(cause, pydantic.ValidationError)
        facts.append(
            (
                detail._key,
                hash(detail),
                [(name, type(value), value) for name, value in detail.params.items()],
                json.dumps(dict(detail._plain_params), sort_keys=True, default=repr),
                detail.bucket,
                detail.status,
                detail.reference,
                repr(detail),
                type(cause),
                cause.title,
                repr(cause.errors()),
                repr(pickle.loads(pickle.dumps(cause)).errors()),  # noqa: S301 - our own bytes
                str(cause),
                cause.__cause__,
                cause.__context__,
                cause.__traceback__,
            )
        )
    facts.append(
        (errors.to_list(), errors.full_messages(), errors.to_problem_details())
    )
    return facts


class TestFromPydanticCore:
    """pydantic-core's own ValidationError converts by its fast path as ever."""

    @staticmethod
    def _check(
        exc: BaseException, monkeypatch: pytest.MonkeyPatch, *, echo: bool = False
    ) -> None:
        """Convert `exc` both ways and compare."""
        fast = Errors.from_pydantic(exc, echo_unknown_fields=echo)
        with monkeypatch.context() as patched:
            patched.setattr(adapters_module, "_pydantic_core_error_class", lambda: None)
            general = Errors.from_pydantic(exc, echo_unknown_fields=echo)
        assert _conversion_of(fast) == _conversion_of(general)

    @given(
        st.sampled_from(FAST_PATH_MODELS),
        st.dictionaries(
            st.sampled_from(
                [
                    *Everything.model_fields,
                    "items",
                    "tags",
                    "value",
                    "amount",
                    "by_number",
                    "by_name",
                    SECRET,
                ]
            ),
            pydantic_junk
            | st.dictionaries(
                st.integers(-3, 3) | st.sampled_from(["", "a"]),
                pydantic_junk,
                max_size=2,
            ),
            max_size=6,
        ),
        st.booleans(),
        st.booleans(),
    )
    def test_any_rejected_data(
        self,
        model: type[pydantic.BaseModel],
        data: dict[str, object],
        as_json: bool,
        echo: bool,
    ) -> None:
        """Whatever a model rejects, in Python or JSON, converts as ever."""
        try:
            if as_json:
                model.model_validate_json(json.dumps(data, default=repr))
            else:
                model.model_validate(data)
        except pydantic.ValidationError as exc:
            with pytest.MonkeyPatch.context() as monkeypatch:
                self._check(exc, monkeypatch, echo=echo)

    @pytest.mark.parametrize(
        ("model", "data"),
        [
            (
                Everything,
                {field: value for field, (value, _, _) in EVERYTHING_REJECTED.items()},
            ),
            (Adoption, {"pet": {"kind": SECRET}}),
            (StrictAdoption, {"pet": {"kind": "cat", SECRET: 1}, "other": SECRET}),
            (Keyed, {"by_number": {"-1": "x", "2": SECRET}, "by_name": {"": SECRET}}),
            (Checked, {"count": 5}),
            (Refund, {"amount": 1}),
        ],
    )
    @pytest.mark.parametrize("echo", [False, True])
    def test_every_kind_of_line(
        self,
        model: type[pydantic.BaseModel],
        data: dict[str, object],
        echo: bool,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Lines of every kind, hidden ctx and unknown keys too, convert as ever."""
        exc = pydantic_error(model, data)
        self._check(exc, monkeypatch, echo=echo)
        self._check(
            caught(lambda: model.model_validate_json(json.dumps(data, default=repr))),
            monkeypatch,
            echo=echo,
        )
        if not echo:  # echoed, an unknown key is shown: that is what it asks
            assert_nothing_shows(Errors.from_pydantic(exc), SECRET)

    def test_a_ctx_renamed_to_the_default_template_is_renamed_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A ctx value renamed as the default template is no template, fast or not."""
        monkeypatch.setitem(
            adapters_module._PYDANTIC_PARAM_NAMES,
            "greater_than",
            {"gt": "default_message"},
        )
        Errors().add("a", "x", default_message="checked")  # the name, checked before
        exc = pydantic_error(Item, {"price": 0, "name": "pen"})
        self._check(exc, monkeypatch)
        [detail] = Errors.from_pydantic(exc)
        assert dict(detail.params) == {"param_default_message": 0}

    @pytest.mark.parametrize(
        "ctx",
        [
            {"limit": 3},
            {"path": 1, "default_message": "x", "gt": 2},
            {"error": ValueError("bad")},
            {"given": "shown"},
            {},
        ],
    )
    @pytest.mark.parametrize(
        "code",
        [
            "custom_code",
            "missing",
            "value_error.const",
            "greater_than",
            "extra_forbidden",
            "value_error.extra",
            "union_tag_invalid",
        ],
    )
    def test_custom_errors(
        self, code: str, ctx: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A PydanticCustomError, named like a known type or not, converts alike."""
        error = PydanticCustomError(code, "custom {limit}", ctx)
        exc = pydantic.ValidationError.from_exception_data(
            "Custom",
            [
                InitErrorDetails(
                    type=error, loc=("field", -1, ""), input=SECRET, ctx=ctx
                ),
                InitErrorDetails(type="missing", loc=("other",), input=SECRET),
            ],
        )
        self._check(exc, monkeypatch)
        assert_nothing_shows(Errors.from_pydantic(exc), SECRET)

    def test_an_empty_custom_type_is_refused_as_before(self) -> None:
        """A custom error of an empty type is refused, as the general way refuses it."""
        exc = pydantic.ValidationError.from_exception_data(
            "Custom",
            [
                InitErrorDetails(
                    type=PydanticCustomError("", "no type"), loc=(), input=SECRET
                )
            ],
        )
        with pytest.raises(
            TypeError, match="takes a pydantic ValidationError"
        ) as refused:
            Errors.from_pydantic(exc)
        assert SECRET in repr(exc)
        assert SECRET not in str(refused.value)
        assert "pydantic_core._pydantic_core.ValidationError" in str(refused.value)

    def test_a_hidden_ctx_without_a_template_goes_the_general_way(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A hidden ctx value of a code with no template takes the general way."""
        monkeypatch.setitem(
            adapters_module._PYDANTIC_INPUT_CONTEXT, "is_instance_of", "class"
        )
        monkeypatch.setattr(
            adapters_module,
            "_PYDANTIC_SAFE_LINE_CODES",
            adapters_module._PYDANTIC_SAFE_LINE_CODES | {"is_instance_of"},
        )
        config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        basket = caught(
            lambda: pydantic.TypeAdapter(Basket, config=config).validate_python(1)
        )
        self._check(basket, monkeypatch)
        [detail] = Errors.from_pydantic(basket)
        assert str(detail) == "Input should be an instance of \u2026"

    def test_the_cause_is_made_once_and_shared(self) -> None:
        """The errors of one conversion share one cause, made when first read."""
        exc = pydantic_error(Order, {"items": [{"price": 0, "name": "x"}]})
        errors = Errors.from_pydantic(exc)
        first, second = errors
        moved = Errors().merge(errors, prefix="order")
        assert first.cause is second.cause
        assert [detail.cause for detail in moved] == [first.cause, first.cause]
        assert pickle.loads(pickle.dumps(first)).cause.errors() == first.cause.errors()  # noqa: S301 - our own bytes

    def test_threads_reading_the_cause_get_the_same_one(self) -> None:
        """Threads asking at once for the cause of one conversion all get one copy."""
        errors = Errors.from_pydantic(pydantic_error(Item, {"price": 0, "name": "x"}))
        details = list(errors)
        barrier = threading.Barrier(8)
        seen: list[object] = []

        def read() -> None:
            barrier.wait()
            seen.append(details[0].cause)
            seen.append(details[1].cause)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({id(cause) for cause in seen}) == 1

    def test_the_loc_cache_is_bounded(self) -> None:
        """Many distinct locs do not grow the cache of their paths without limit."""
        model = pydantic.TypeAdapter(list[int])
        limit = adapters_module._PYDANTIC_PATHS_LIMIT
        for start in range(0, limit + 20, 100):
            rejected = [1] * start + ["x"] * 100
            Errors.from_pydantic(
                caught(lambda rejected=rejected: model.validate_python(rejected))
            )
        assert len(adapters_module._PYDANTIC_PATHS) <= limit


# Django --------------------------------------------------------------------


class Signup(forms.Form):
    """A form with a field error and a non-field error."""

    name = forms.CharField(max_length=3)

    def clean(self) -> dict[str, Any]:
        """Fail as a whole."""
        raise forms.ValidationError("Sign-ups are closed.", code="closed")


class Upload:
    """An uploaded file, whose name and repr show SECRET."""

    name = f"{SECRET}.exe"

    def __repr__(self) -> str:
        return SECRET


# Django's own fields and validators, each rejecting SECRET (or a value holding
# it): most of their messages show the value, through %(value)s.
DJANGO_REJECTIONS: dict[str, Callable[[], object]] = {
    "IntegerField": lambda: models.IntegerField().clean(SECRET, None),
    "DecimalField": lambda: models.DecimalField(max_digits=5, decimal_places=2).clean(
        SECRET, None
    ),
    "FloatField": lambda: models.FloatField().clean(SECRET, None),
    "BooleanField": lambda: models.BooleanField().clean(SECRET, None),
    "DateField": lambda: models.DateField().clean(SECRET, None),
    "DateTimeField": lambda: models.DateTimeField().clean(SECRET, None),
    "TimeField": lambda: models.TimeField().clean(SECRET, None),
    "DurationField": lambda: models.DurationField().clean(SECRET, None),
    "UUIDField": lambda: models.UUIDField().clean(SECRET, None),
    "choices": lambda: models.CharField(max_length=99, choices=[("a", "A")]).clean(
        SECRET, None
    ),
    "GenericIPAddressField": lambda: models.GenericIPAddressField().clean(SECRET, None),
    "forms.JSONField": lambda: forms.JSONField().clean("{" + SECRET),
    "forms.ChoiceField": lambda: forms.ChoiceField(choices=[("a", "A")]).clean(SECRET),
    "forms.MultipleChoiceField": lambda: forms.MultipleChoiceField(
        choices=[("a", "A")]
    ).clean([SECRET]),
    "forms.IntegerField": lambda: forms.IntegerField().clean(SECRET),
    "EmailValidator": lambda: validators.EmailValidator()(SECRET),
    "URLValidator": lambda: validators.URLValidator()(SECRET),
    "RegexValidator": lambda: validators.RegexValidator(r"^\d+$")(SECRET),
    "MaxLengthValidator": lambda: MaxLengthValidator(3)(SECRET),
    "validate_slug": lambda: validators.validate_slug(SECRET + "!"),
    "FileExtensionValidator": lambda: validators.FileExtensionValidator(["txt"])(
        Upload()
    ),
    "ProhibitNullCharactersValidator": lambda: (
        validators.ProhibitNullCharactersValidator()(SECRET + "\x00")
    ),
}


class TestFromDjango:
    """Errors.from_django."""

    @pytest.mark.parametrize("rejection", list(DJANGO_REJECTIONS))
    def test_no_field_or_validator_keeps_the_rejected_value(
        self, rejection: str
    ) -> None:
        """Ensures Django's rejected value reaches no message, param or cause."""
        exc = caught(DJANGO_REJECTIONS[rejection])

        errors = Errors.from_django(exc)

        assert errors
        assert_nothing_shows(errors, SECRET)
        for detail in errors:
            cause = cast("django_exceptions.ValidationError", detail.cause)
            assert type(cause) is type(exc)
            assert [e.code for e in cause.error_list] == [
                e.code
                for e in cast("django_exceptions.ValidationError", exc).error_list
            ]
            assert cause.__traceback__ is exc.__traceback__
            assert cause.__context__ is None  # int()'s ValueError shows the value

    def test_a_message_that_showed_the_value_shows_an_ellipsis(self) -> None:
        """Ensures Django's message keeps its words, the value shown as '…'."""
        messages = {
            name: Errors.from_django(caught(DJANGO_REJECTIONS[name])).full_messages()
            for name in ("IntegerField", "choices", "forms.ChoiceField")
        }

        assert messages == {
            "IntegerField": ["“…” value must be an integer."],
            "choices": ["Value '…' is not a valid choice."],
            "forms.ChoiceField": [
                "Select a valid choice. … is not one of the available choices."
            ],
        }

    def test_a_class_not_made_as_djangos_keeps_no_cause(self) -> None:
        """Ensures an error whose class cannot be made again is kept as no cause."""

        class Impostor(Exception):
            def __init__(self, fields: dict[str, list[object]], extra: int) -> None:
                super().__init__(fields, extra)
                self.error_dict = fields

        item = django_exceptions.ValidationError(
            "“%(value)s” is bad", "bad", {"value": SECRET}
        )
        errors = Errors.from_django(Impostor({"name": [item]}, 1))

        assert [(d.path, d.message, d.cause) for d in errors] == [
            (("name",), "“…” is bad", None)
        ]

    def test_field_errors_with_code_and_params(self) -> None:
        """Ensures a field error keeps its field, code and params, message rendered."""
        exc = django_exceptions.ValidationError(
            {
                "name": django_exceptions.ValidationError(
                    "too long: %(max)s", code="max_length", params={"max": 5}
                )
            }
        )

        [detail] = Errors.from_django(exc)

        assert (detail.path, detail.code, detail.message) == (
            ("name",),
            "max_length",
            "too long: 5",
        )
        assert dict(detail.params) == {"max": 5}
        assert detail.bucket is Bucket.USER_FIXABLE
        assert isinstance(detail.cause, django_exceptions.ValidationError)
        assert detail.cause.message_dict == exc.message_dict

    def test_non_field_errors_at_base(self) -> None:
        """Ensures NON_FIELD_ERRORS ("__all__") and a None field land at the base."""
        exc = django_exceptions.ValidationError(
            {
                django_exceptions.NON_FIELD_ERRORS: ["Passwords differ."],
                "email": "Enter a valid email.",
            }
        )
        exc.error_dict[None] = [django_exceptions.ValidationError("Try again.")]
        exc.error_dict["name"] = ["A plain message."]  # filled by hand

        errors = Errors.from_django(exc)

        assert [(d.path, d.message) for d in errors] == [
            ((), "Passwords differ."),
            (("email",), "Enter a valid email."),
            ((), "Try again."),
            (("name",), "A plain message."),
        ]
        assert errors.codes() == ["invalid"]
        cause = cast("django_exceptions.ValidationError", next(iter(errors)).cause)
        assert cause.message_dict["name"] == ["A plain message."]

    def test_plain_list(self) -> None:
        """Ensures a list ValidationError gives one base error per message."""
        exc = django_exceptions.ValidationError(
            ["First.", django_exceptions.ValidationError("Second.", code="second")]
        )

        errors = Errors.from_django(exc)

        assert [(d.path, d.code, d.message) for d in errors] == [
            ((), "invalid", "First."),
            ((), "second", "Second."),
        ]

    def test_single_message(self) -> None:
        """Ensures a single-message ValidationError is one base error."""
        exc = django_exceptions.ValidationError("Enter a number.", code="not_a_number")

        [detail] = Errors.from_django(exc)

        assert (detail.path, detail.code, detail.message) == (
            (),
            "not_a_number",
            "Enter a number.",
        )

    def test_validator_message_rendered_and_value_dropped(self) -> None:
        """Ensures a validator's lazy message renders and its value param is dropped."""
        exc = caught(lambda: MaxLengthValidator(3)(SECRET))

        [detail] = Errors.from_django(exc)

        assert detail.code == "max_length"
        assert detail.message == (
            f"Ensure this value has at most 3 characters (it has {len(SECRET)})."
        )
        assert dict(detail.params) == {"limit_value": 3, "show_value": len(SECRET)}
        assert SECRET not in repr(Errors.from_django(exc).to_list())

    def test_form_errors(self) -> None:
        """Ensures the errors of a bound form convert, through as_data()."""
        form = Signup({"name": SECRET})
        assert not form.is_valid()

        errors = Errors.from_django(
            django_exceptions.ValidationError(form.errors.as_data())
        )

        assert [(d.path, d.code) for d in errors] == [
            (("name",), "max_length"),
            ((), "closed"),
        ]
        assert_nothing_shows(errors, SECRET)

    def test_positional_params(self) -> None:
        """Ensures a tuple of params renders and is named by position."""
        exc = django_exceptions.ValidationError("%s or %s", params=("red", "blue"))

        [detail] = Errors.from_django(exc)

        assert detail.message == "red or blue"
        assert dict(detail.params) == {"param_0": "red", "param_1": "blue"}

    def test_single_param_value(self) -> None:
        """Ensures a params value that is neither a mapping nor a tuple is kept."""
        exc = django_exceptions.ValidationError("one of %s", params=["a", "b"])

        [detail] = Errors.from_django(exc)

        assert detail.message == "one of ['a', 'b']"
        assert dict(detail.params) == {"param_0": ["a", "b"]}

    @pytest.mark.parametrize(
        ("template", "params"),
        [("%(missing)s", {"other": 1}), ("%s and %s", ("one",)), ("%y", {"y": 1})],
    )
    def test_template_that_does_not_fit(self, template: str, params: object) -> None:
        """Ensures a template its params do not fit is kept, not raised on."""
        exc = django_exceptions.ValidationError(template, params=params)

        [detail] = Errors.from_django(exc)

        assert detail.message == template

    def test_params_named_like_fields_renamed(self) -> None:
        """Ensures param names ErrorDetail refuses are renamed, losing nothing."""
        params = {"code": "c", "param_code": 2, "a.b": 3, 4: 4, "value": SECRET}
        exc = django_exceptions.ValidationError("bad", code="bad", params=params)

        [detail] = Errors.from_django(exc)

        assert dict(detail.params) == {
            "param_param_code": "c",
            "param_code": 2,
            "a_b": 3,
            "param_4": 4,
        }

    def test_field_names_that_are_not_names(self) -> None:
        """Ensures odd error_dict keys still give valid paths."""
        exc = django_exceptions.ValidationError({"": "a", 2: "b", 1.5: "c", -1: "d"})

        assert Errors.from_django(exc).paths() == [("''",), (2,), ("1.5",), ("-1",)]

    @pytest.mark.parametrize(
        "wrong",
        [
            ValueError("x"),
            "not an exception",
            marshmallow.ValidationError("x"),
        ],
    )
    def test_not_a_django_error(self, wrong: object) -> None:
        """Ensures anything without error_dict or error_list is refused."""
        with pytest.raises(TypeError, match=r"from_django\(\) takes a Django"):
            Errors.from_django(cast("BaseException", wrong))

    def test_pydantic_error_refused(self) -> None:
        """Ensures a pydantic error is not mistaken for a Django one."""
        exc = pydantic_error(Item, {})

        with pytest.raises(TypeError, match=r"of type pydantic_core\S*ValidationError"):
            Errors.from_django(exc)

    @pytest.mark.parametrize(
        "method", ["from_pydantic", "from_django", "from_marshmallow"]
    )
    def test_a_refused_error_does_not_show_its_input(self, method: str) -> None:
        """The TypeError for a wrong library's error names its type, not its text."""
        others = {
            "from_pydantic": django_exceptions.ValidationError(SECRET),
            "from_django": pydantic_error(Item, {"name": SECRET, "price": SECRET}),
            "from_marshmallow": pydantic_error(Item, {"name": SECRET, "price": SECRET}),
        }
        wrong = others[method]
        assert SECRET in repr(wrong)

        with pytest.raises(TypeError, match="of type") as refused:
            getattr(Errors, method)(wrong)

        assert SECRET not in str(refused.value)
        assert type(wrong).__qualname__ in str(refused.value)

    @given(
        st.dictionaries(st.text(max_size=8), st.integers(), max_size=6),
        st.text(max_size=8),
    )
    def test_any_params_and_field_convert(
        self, params: dict[str, int], field: str
    ) -> None:
        """Ensures any params and field name convert, keeping every value but value."""
        exc = django_exceptions.ValidationError(
            {field: django_exceptions.ValidationError("x", params=params)}
        )

        [detail] = Errors.from_django(exc)

        kept = {name: value for name, value in params.items() if name != "value"}
        assert sorted(map(str, detail.params.values())) == sorted(
            map(str, kept.values())
        )
        json.dumps(Errors([detail]).to_problem_details(), sort_keys=True)


# marshmallow ---------------------------------------------------------------


class ItemSchema(marshmallow.Schema):
    """An order line."""

    price = marshmallow.fields.Integer(
        required=True, validate=marshmallow.validate.Range(min=1)
    )
    name = marshmallow.fields.String(validate=marshmallow.validate.Length(min=3))

    @marshmallow.validates_schema
    def _check(self, data: dict[str, Any], **_: object) -> None:
        if data.get("name") == "void":
            msg = "this item is void"
            raise marshmallow.ValidationError(msg)


class OrderSchema(marshmallow.Schema):
    """An order with listed, nested items and a dict of tags."""

    items = marshmallow.fields.List(marshmallow.fields.Nested(ItemSchema))
    tags = marshmallow.fields.Dict(
        keys=marshmallow.fields.String(), values=marshmallow.fields.Integer()
    )

    @marshmallow.validates_schema
    def _check(self, data: dict[str, Any], **_: object) -> None:
        if not data.get("items"):
            msg = "an order needs items"
            raise marshmallow.ValidationError(msg)


def marshmallow_error(schema: marshmallow.Schema, data: object) -> BaseException:
    """The ValidationError raised when `schema` loads `data`."""
    return caught(lambda: schema.load(cast("Any", data)))


class TestFromMarshmallow:
    """Errors.from_marshmallow."""

    def test_the_cause_keeps_no_input(self) -> None:
        """Ensures the cause is a copy without marshmallow's data and valid_data."""
        exc = marshmallow_error(
            OrderSchema(), {"items": [{"price": 1, "name": SECRET}, {"price": SECRET}]}
        )
        assert SECRET in repr(vars(exc))  # marshmallow keeps the whole input

        errors = Errors.from_marshmallow(exc)

        assert_nothing_shows(errors, SECRET)
        cause = cast("marshmallow.ValidationError", next(iter(errors)).cause)
        assert (cause.data, cause.valid_data) == (None, None)
        assert cause.__traceback__ is exc.__traceback__

    def test_an_unknown_key_is_folded_into_its_object(self) -> None:
        """Ensures 'Unknown field.' keys are not paths, nor kept in the cause."""
        data = {"items": [{"price": 1, SECRET: 1}], "<b>x</b>": 1, "tags": {}}
        exc = marshmallow_error(OrderSchema(), data)

        errors = Errors.from_marshmallow(exc)

        assert [(d.path, d.message) for d in errors] == [
            (("items", 0), "Unknown field."),
            ((), "Unknown field."),
        ]
        assert_nothing_shows(errors, SECRET)
        assert_nothing_shows(errors, "<b>x</b>")

    def test_unknown_keys_join_the_objects_own_errors(self) -> None:
        """Ensures an object's _schema errors stay first, unknown keys after."""
        exc = marshmallow.ValidationError(
            {"b": ["Unknown field."], "_schema": ["Bad."], "a": ["Unknown field."]}
        )

        errors = Errors.from_marshmallow(exc)

        assert [(d.path, d.message) for d in errors] == [
            ((), "Bad."),
            ((), "Unknown field."),
        ]
        cause = cast("marshmallow.ValidationError", next(iter(errors)).cause)
        assert cause.messages == {"_schema": ["Bad.", "Unknown field."]}
        schema_as_text = marshmallow.ValidationError(
            {"x": ["Unknown field."], "_schema": "Bad."}
        )
        assert Errors.from_marshmallow(schema_as_text).full_messages() == [
            "Bad.",
            "Unknown field.",
        ]

    def test_unknown_keys_echoed_when_asked(self) -> None:
        """Ensures echo_unknown_fields=True keeps the key as the path."""
        exc = marshmallow_error(OrderSchema(), {"items": [{"price": 1}], "colour": 1})

        errors = Errors.from_marshmallow(exc, echo_unknown_fields=True)

        assert errors.full_messages() == ["Colour Unknown field."]

    def test_a_class_not_made_as_marshmallows_keeps_no_cause(self) -> None:
        """Ensures an error whose class cannot be made again is kept as no cause."""

        class Impostor(Exception):
            field_name = "_schema"

            def __init__(self) -> None:
                super().__init__()
                self.messages = {"name": ["Too short."]}
                self.data = {"name": SECRET}

        [detail] = Errors.from_marshmallow(Impostor())

        assert (detail.path, detail.message, detail.cause) == (
            ("name",),
            "Too short.",
            None,
        )

    def test_nested_schemas_with_list_indices(self) -> None:
        """Ensures nested messages become paths, with int keys as indices."""
        exc = marshmallow_error(
            OrderSchema(), {"items": [{"price": 0, "name": "ab"}, {"price": "x"}]}
        )

        errors = Errors.from_marshmallow(exc)

        assert [(d.path, d.code, d.message) for d in errors] == [
            (("items", 0, "price"), "invalid", "Must be greater than or equal to 1."),
            (("items", 0, "name"), "invalid", "Shorter than minimum length 3."),
            (("items", 1, "price"), "invalid", "Not a valid integer."),
        ]
        assert all(d.bucket is Bucket.USER_FIXABLE for d in errors)
        cause = cast("marshmallow.ValidationError", next(iter(errors)).cause)
        assert cause.messages == cast("marshmallow.ValidationError", exc).messages

    def test_schema_errors_at_base(self) -> None:
        """Ensures @validates_schema errors (_schema) land at the base."""
        exc = marshmallow_error(OrderSchema(), {"items": []})

        [detail] = Errors.from_marshmallow(exc)

        assert (detail.path, detail.message) == ((), "an order needs items")

    def test_nested_schema_errors_at_their_object(self) -> None:
        """Ensures a nested schema's _schema errors land at that nested object."""
        exc = marshmallow_error(
            OrderSchema(), {"items": [{"price": 1, "name": "void"}]}
        )

        [detail] = Errors.from_marshmallow(exc)

        assert (detail.path, detail.message) == (("items", 0), "this item is void")

    def test_many_gives_top_level_indices(self) -> None:
        """Ensures the errors of Schema(many=True) start with the item's index."""
        exc = marshmallow_error(ItemSchema(many=True), [{"price": 1}, {}])

        errors = Errors.from_marshmallow(exc)

        assert errors.messages() == {"[1].price": ["Missing data for required field."]}

    def test_json_with_sorted_keys(self) -> None:
        """Ensures mixed int and str keys, which break json.dumps, are no problem."""
        exc = marshmallow_error(
            OrderSchema(), {"items": [{"price": 1}], "tags": {1: "x", "a": "y"}}
        )
        messages = cast("marshmallow.ValidationError", exc).messages
        with pytest.raises(TypeError):
            json.dumps(messages, sort_keys=True)

        errors = Errors.from_marshmallow(exc)

        assert errors.paths() == [
            ("tags", 1, "key"),
            ("tags", 1, "value"),
            ("tags", "a", "value"),
        ]
        json.dumps(errors.to_problem_details(), sort_keys=True)
        json.dumps(errors.to_dict(), sort_keys=True)

    def test_raised_by_hand(self) -> None:
        """Ensures hand-raised errors land under their field_name, or the base."""
        cases = {
            "message": marshmallow.ValidationError("Bad."),
            "field": marshmallow.ValidationError("Bad.", field_name="email"),
            "list": marshmallow.ValidationError(["Bad.", "Worse."]),
            "dict": marshmallow.ValidationError({"a": ["Bad."]}, field_name="card"),
        }

        paths = {
            name: [(d.path, d.message) for d in Errors.from_marshmallow(exc)]
            for name, exc in cases.items()
        }

        assert paths == {
            "message": [((), "Bad.")],
            "field": [(("email",), "Bad.")],
            "list": [((), "Bad."), ((), "Worse.")],
            "dict": [(("card", "a"), "Bad.")],
        }

    def test_messages_as_str(self) -> None:
        """Ensures messages that are a bare str are one base error."""
        exc = marshmallow.ValidationError("ignored")
        exc.messages = "Bad."  # type: ignore[assignment]  # what is being handled

        assert [(d.path, d.message) for d in Errors.from_marshmallow(exc)] == [
            ((), "Bad.")
        ]

    def test_message_that_is_not_a_str(self) -> None:
        """Ensures a message of another type is kept as its text."""
        exc = marshmallow.ValidationError({"count": [5, ("nested", "tuple")]})

        errors = Errors.from_marshmallow(exc)

        assert [(d.path, d.message) for d in errors] == [
            (("count",), "5"),
            (("count",), "nested"),
            (("count",), "tuple"),
        ]

    @pytest.mark.parametrize(
        "wrong",
        [ValueError("x"), "not an exception", django_exceptions.ValidationError("x")],
    )
    def test_not_a_marshmallow_error(self, wrong: object) -> None:
        """Ensures anything without field_name and messages is refused."""
        with pytest.raises(
            TypeError, match=r"from_marshmallow\(\) takes a marshmallow"
        ):
            Errors.from_marshmallow(cast("BaseException", wrong))

    def test_messages_of_the_wrong_type(self) -> None:
        """Ensures messages that are not a dict, list or str are refused."""
        exc = marshmallow.ValidationError("x")
        exc.messages = None  # type: ignore[assignment]  # what is being refused

        with pytest.raises(TypeError, match=r"messages that are a dict"):
            Errors.from_marshmallow(exc)


# All three -----------------------------------------------------------------


def _pydantic_case() -> tuple[Callable[[BaseException], Errors], BaseException]:
    exc = pydantic_error(Order, {"items": [{"price": 0, "name": "pen"}]})
    return Errors.from_pydantic, exc


def _django_case() -> tuple[Callable[[BaseException], Errors], BaseException]:
    exc = django_exceptions.ValidationError(
        {"items": ["Too many."], "__all__": ["Cart changed."]}
    )
    return Errors.from_django, exc


def _marshmallow_case() -> tuple[Callable[[BaseException], Errors], BaseException]:
    exc = marshmallow_error(OrderSchema(), {"items": [{"price": 0, "name": "pen"}]})
    return Errors.from_marshmallow, exc


CASES = {
    "pydantic": _pydantic_case,
    "django": _django_case,
    "marshmallow": _marshmallow_case,
}


@pytest.fixture(params=list(CASES))
def case(
    request: pytest.FixtureRequest,
) -> tuple[Callable[[BaseException], Errors], BaseException]:
    """A conversion and a library error for it, for each library."""
    return CASES[cast("str", request.param)]()


class TestAllAdapters:
    """What the three conversions share."""

    def test_user_fixable_with_a_cause(
        self, case: tuple[Callable[[BaseException], Errors], BaseException]
    ) -> None:
        """Ensures every converted error is user-fixable and keeps a cause."""
        convert, exc = case

        errors = convert(exc)

        assert errors
        assert errors.bucket is Bucket.USER_FIXABLE
        assert all(detail.cause is not None for detail in errors)

    def test_serialises_to_json(
        self, case: tuple[Callable[[BaseException], Errors], BaseException]
    ) -> None:
        """Ensures every serialiser's output is JSON with sorted keys."""
        convert, exc = case
        errors = convert(exc)

        for output in (
            errors.to_problem_details(),
            errors.to_list(),
            errors.to_dict(),
            errors.to_jsonapi(),
            errors.to_graphql(),
        ):
            text = json.dumps(output, sort_keys=True, allow_nan=False)
            assert json.loads(text) == output

    def test_converting_twice_gives_equal_errors(
        self, case: tuple[Callable[[BaseException], Errors], BaseException]
    ) -> None:
        """Ensures one library error always converts to equal collections."""
        convert, exc = case

        assert convert(exc) == convert(exc)

    def test_merge_together(self) -> None:
        """Ensures the conversions merge into one collection, under prefixes."""
        merged = Errors()
        for library, make_case in CASES.items():
            convert, exc = make_case()
            merged.merge(convert(exc), prefix=library)

        assert merged.paths() == [
            ("pydantic", "items", 0, "price"),
            ("django", "items"),
            ("django",),
            ("marshmallow", "items", 0, "price"),
        ]
        assert merged.subtree("marshmallow").codes() == ["invalid"]
        json.dumps(merged.to_problem_details(), sort_keys=True)

    def test_braces_in_library_messages_are_kept_as_written(self) -> None:
        """A message with {name} in it reads back verbatim, even with such a param."""
        inner = django_exceptions.ValidationError(
            "use {name} here", code="bad", params={"name": "x"}
        )
        exc = django_exceptions.ValidationError({"name": inner})
        assert Errors.from_django(exc).messages() == {"name": ["use {name} here"]}
