"""pydantic-core's one-pass conversion gives what the general way gives."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import InitErrorDetails

from outcome import Errors
from outcome._errors import adapters as adapters_module
from outcome._errors.detail import _PendingCause
from tests.test_adapters import (
    SECRET,
    Item,
    _conversion_of,
    assert_nothing_shows,
    caught,
)


def _converted_recording(
    exc: BaseException, *, core: type[BaseException] | None = None
) -> tuple[Errors, list[BaseException]]:
    """`exc` converted, and what the one pass handed over to the general way."""
    handed_over: list[BaseException] = []
    general_way = adapters_module._from_pydantic_general

    def recorded(given: BaseException, **options: bool) -> object:
        handed_over.append(given)
        return general_way(given, **options)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(adapters_module, "_from_pydantic_general", recorded)
        if core is not None:
            patched.setattr(adapters_module, "_pydantic_core_error_class", lambda: core)
        return Errors.from_pydantic(exc), handed_over


def _both_ways(exc: BaseException) -> tuple[Errors, Errors, bool]:
    """`exc` converted by the one pass, by the general way, and if the pass did all."""
    fast, handed_over = _converted_recording(exc)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(adapters_module, "_pydantic_core_error_class", lambda: None)
        general = Errors.from_pydantic(exc)
    return fast, general, not handed_over


def _assert_alike(exc: BaseException, *, in_one_pass: bool) -> None:
    """`exc` converts alike both ways, and keeps no input."""
    fast, general, one_pass = _both_ways(exc)
    assert one_pass is in_one_pass
    assert _conversion_of(fast) == _conversion_of(general)
    assert_nothing_shows(fast, SECRET)


def _validator_error(kind: type[Exception], words: str) -> BaseException:
    """The ValidationError of a validator that raises `kind` with `words`."""

    class Checked(pydantic.BaseModel):
        value: str

        @pydantic.field_validator("value")
        @classmethod
        def _check(cls, _value: str) -> str:
            raise kind(words)

    return caught(lambda: Checked.model_validate({"value": SECRET}))


# Words as a validator writes them, with what the inline way cares about:
# pydantic's prefix, braces, nothing at all.
validator_words = st.text(max_size=12) | st.sampled_from(
    ["", " ", "{", "}", "{count}", "{{x}}", "Value error, ", "Value error, {a}"]
)


@given(st.sampled_from([ValueError, AssertionError]), validator_words)
def test_a_validators_words_convert_alike(kind: type[Exception], words: str) -> None:
    """A validator's exception gives the same default message both ways."""
    _assert_alike(_validator_error(kind, words), in_one_pass=True)


@pytest.mark.parametrize("kind", ["value_error", "assertion_error"])
@pytest.mark.parametrize(
    "error", ["not an exception", 3, None, ValueError("{x}"), {"error": 1}]
)
def test_a_validators_other_ctx_converts_alike(kind: str, error: object) -> None:
    """A validator's error whose ctx is no exception: its params the general way."""
    exc = pydantic.ValidationError.from_exception_data(
        "Model",
        [
            InitErrorDetails(
                type=kind, loc=("field",), input=SECRET, ctx={"error": error}
            )
        ],
    )
    _assert_alike(exc, in_one_pass=True)


def test_equal_errors_keep_the_first() -> None:
    """Two equal errors are one, the first, both ways."""
    lines = [
        InitErrorDetails(type="greater_than", loc=("a",), input=SECRET, ctx={"gt": 0}),
        InitErrorDetails(type="missing", loc=("b",), input=SECRET),
        InitErrorDetails(
            type="greater_than", loc=("a",), input=SECRET, ctx={"gt": 0.0}
        ),
    ]
    exc = pydantic.ValidationError.from_exception_data("Model", lines)
    _assert_alike(exc, in_one_pass=False)
    fast, _, _ = _both_ways(exc)
    assert [(detail.path, dict(detail.params)) for detail in fast] == [
        (("a",), {"count": 0}),
        (("b",), {}),
    ]
    first = next(iter(fast))
    assert type(first.params["count"]) is int


def test_a_pending_cause_is_made_with_its_arguments() -> None:
    """A _PendingCause calls its maker with the arguments it was given, once."""
    calls: list[tuple[object, ...]] = []

    def make(*arguments: object) -> BaseException:
        calls.append(arguments)
        return ValueError(*arguments)

    pending = _PendingCause(make, ("a", 1))
    assert pending.made() is pending.made()
    assert calls == [("a", 1)]
    assert _PendingCause(lambda: KeyError("k")).made().args == ("k",)


class _OlderCore(Exception):
    """pydantic-core's ValidationError as it was before ``errors(include_input=)``."""

    def __init__(self, real: pydantic.ValidationError) -> None:
        super().__init__("an older pydantic-core")
        self.real = real

    def errors(self) -> list[dict[str, object]]:
        """The real errors, by a method that takes no options."""
        return [dict(line) for line in self.real.errors()]


def test_a_pydantic_core_without_include_input_converts_the_general_way() -> None:
    """When errors() cannot leave the inputs out, the general way converts."""
    lines = [
        InitErrorDetails(type="greater_than", loc=("a",), input=SECRET, ctx={"gt": 0}),
        InitErrorDetails(type="missing", loc=("b", 1), input=SECRET),
    ]
    older = _OlderCore(pydantic.ValidationError.from_exception_data("Model", lines))
    errors, handed_over = _converted_recording(older, core=_OlderCore)
    assert handed_over == [older]
    assert [(d.path, d.code, dict(d.params)) for d in errors] == [
        (("a",), "greater_than", {"count": 0}),
        (("b", 1), "missing", {}),
    ]
    assert SECRET not in repr(errors.to_list())


def test_the_cause_is_made_when_read_with_the_chain_it_had() -> None:
    """The copy is made at the first read, with the chain and traceback of then."""
    exc = caught(lambda: Item.model_validate({"price": SECRET, "name": "tea"}))
    first_cause = KeyError("first")
    exc.__cause__ = first_cause
    traceback = exc.__traceback__
    detail = next(iter(Errors.from_pydantic(exc)))
    assert type(detail._cause) is _PendingCause  # not made yet
    exc.__cause__ = KeyError("later")  # as raising it on from another would
    exc.__context__ = KeyError("later")
    exc.__traceback__ = None
    cause = detail.cause
    assert isinstance(cause, pydantic.ValidationError)
    assert cause is not exc
    assert (cause.__cause__, cause.__context__) == (first_cause, None)
    assert cause.__traceback__ is traceback
    assert [(e["loc"], e["type"], e["input"]) for e in cause.errors()] == [
        (("price",), "int_parsing", None)
    ]
    assert detail.cause is cause  # made once
