"""
Strawberry: bugs masked behind a reference, expected failures told safely.

GraphQL has two places for a failure. A mutation's payload carries the errors
its user can act on, as data (``userErrors { field message code }``, the
convention of Shopify's API and of "errors as data"): `user_errors` turns
`outcome.Errors` into those, as `UserError` objects a payload type can hold.
The response's top-level ``errors`` is for what went wrong unexpectedly:
`mask_errors` is a schema extension, Strawberry's own ``MaskErrors``, that
shows no exception's text there.

A resolver's exception is read as every web integration reads a failure,
`outcome.Problems.errors_of`: the `outcome.Errors` it carries (an ``errors``
attribute), else the exception classified. The most severe of its errors
decides:

- A programmer error is masked: its message is a generic one with its
  reference, and its ``extensions`` are
  ``{"code": "internal_error", "reference": "ERR-..."}``. The reference is
  that of `outcome.ErrorDetail.from_exception` for the exception, as the logs
  show it.
- A failure the user can fix or must be told about (a declined card, an
  upstream that is down) keeps its place in ``errors``, with the message the
  catalog gives for its code, never the exception's own text (an upstream's
  error often holds URLs, hosts and ids), and ``extensions`` with its
  ``code``, ``retry_after`` (whole seconds) when the failure said how long
  to wait, and, when the exception carried several errors, ``errors``: each
  as `user_errors` gives it (``field``, ``message``, ``code``).
- An error with no exception behind it is graphql-core's own, about the query
  (a syntax error, an unknown field, a bad variable), and is left as it is. A
  `GraphQLError` a resolver raises has an exception behind it, itself: it is
  classified like any exception, so it is masked unless a classifier rule
  says what it is. graphql-core raises them too, and fills their message with
  the value a resolver returned that did not fit the schema. One raised with
  its ``path`` already set reaches the schema as it was made, with nothing
  behind it, and is left as it is: its message is the resolver's own choice.

Strawberry logs every error before the extension masks it, through
``Schema.process_errors``, so a bug is logged once, with its traceback. An
exception that escapes the operation itself (one another extension's hook
raises) is masked too, where Strawberry's ``MaskErrors`` answers with its
text.

`should_mask_error` is the predicate alone, for Strawberry's ``MaskErrors``
(``MaskErrors(should_mask_error=should_mask_error)``): it masks programmer
errors only, and leaves every other error, text and all, as it is.

>>> import strawberry
>>> from outcome.integrations.strawberry import mask_errors
>>> @strawberry.type
... class Query:
...     @strawberry.field
...     def balance(self) -> int:
...         raise LookupError("SELECT balance FROM accounts")
>>> schema = strawberry.Schema(query=Query, extensions=[mask_errors()])
>>> result = schema.execute_sync("{ balance }")
>>> result.errors[0].extensions
{'code': 'internal_error', 'reference': 'ERR-...'}

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final, cast

from outcome._bucket import Bucket
from outcome._classify.classifier import Classifier
from outcome._errors.collection import Errors
from outcome._http import Problems, _checked_catalog, _longest_wait

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import strawberry
    from graphql import GraphQLError
    from strawberry.extensions import MaskErrors

__all__ = ["UserError", "mask_errors", "should_mask_error", "user_errors"]

_USER_ERROR: Final = "An error in the input that the user can fix."
_FIELD: Final = (
    "The path to the input field the error is about; null for the input as a whole."
)
_MESSAGE: Final = "The error's message, for the user."
_CODE: Final = "The error's code, for the client's own logic."


if TYPE_CHECKING:

    @strawberry.type(description=_USER_ERROR)
    class UserError:
        """
        One error a mutation's payload carries: its field, message and code.

        A Strawberry type, made when it is first imported, so that outcome
        imports no Strawberry until then. Put it in a payload type
        (``user_errors: list[UserError]``); `user_errors` makes its values.

        .. versionadded:: 0.1.0
        """

        field: list[str] | None
        message: str
        code: str

else:

    def __getattr__(name: str) -> object:
        """Make `UserError` when it is first asked for, importing Strawberry."""
        if name == "UserError":
            return _user_error_type()
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)


@functools.cache
def _user_error_type() -> type[UserError]:
    import strawberry  # noqa: PLC0415 - optional

    @strawberry.type(name="UserError", description=_USER_ERROR)
    class Made:
        """
        One error a mutation's payload carries: its field, message and code.

        Put it in a payload type (``user_errors: list[UserError]``);
        `user_errors` makes its values.

        .. versionadded:: 0.1.0
        """

        field: list[str] | None = strawberry.field(description=_FIELD)
        message: str = strawberry.field(description=_MESSAGE)
        code: str = strawberry.field(description=_CODE)

    Made.__name__ = Made.__qualname__ = "UserError"
    return cast("type[UserError]", Made)


def user_errors(
    errors: Errors, *, catalog: Mapping[str, str] | None = None
) -> list[UserError]:
    """
    The errors as a mutation payload's ``userErrors``, one `UserError` each.

    ``field`` is the error's path as strings (`None` for the input as a
    whole), ``message`` the full message (``"Quantity must be greater than
    0"``) from `catalog` or the built-in templates, ``code`` the error's code.
    A programmer error shows its generic message with its reference and the
    code ``internal_error``; raise bugs rather than return them, so that
    Strawberry logs them.

    >>> from outcome import Errors
    >>> from outcome.integrations.strawberry import user_errors
    >>> errors = Errors()
    >>> _ = errors.add("items[0].quantity", "greater_than", count=0)
    >>> [error] = user_errors(errors)
    >>> error.field, error.message, error.code
    (['items', '0', 'quantity'], 'Quantity must be greater than 0', 'greater_than')

    Raises:
        TypeError: When `errors` is not an `outcome.Errors`, or `catalog` is
            not a mapping of strings to strings.

    .. versionadded:: 0.1.0
    """
    if type(cast("object", errors)) is not Errors:  # untyped callers
        msg = (
            f"user_errors() takes an Errors, not {errors!r}: collect the "
            "failures with Errors().add(...) or Errors.add_exception(...)"
        )
        raise TypeError(msg)
    checked = _checked_catalog(catalog)
    make = _user_error_type()
    return [
        make(field=entry["field"], message=entry["message"], code=entry["code"])
        for entry in errors.to_graphql(checked)
    ]


def should_mask_error(error: GraphQLError) -> bool:
    """
    Whether Strawberry's ``MaskErrors`` should mask `error`: a programmer error's.

    The exception behind the error (``error.original_error``) is read as
    `outcome.Problems.errors_of` reads it, with the default classifier: the
    `outcome.Errors` it carries, else the exception classified. An error with
    none is graphql-core's own, about the query, and is not masked. An error
    that is not masked shows its own message, the exception's text:
    `mask_errors` shows the catalog's message instead.

    >>> from graphql import GraphQLError
    >>> from outcome.integrations.strawberry import should_mask_error
    >>> should_mask_error(GraphQLError("x", original_error=KeyError("sku")))
    True
    >>> should_mask_error(GraphQLError("x", original_error=TimeoutError()))
    False
    >>> should_mask_error(GraphQLError("Syntax Error: Unexpected Name 'qeury'."))
    False

    .. versionadded:: 0.1.0
    """
    original = error.original_error
    if original is None:
        return False
    return _DEFAULT.errors_of(original).bucket is Bucket.PROGRAMMER_ERROR


_DEFAULT: Final = Problems()


def mask_errors(
    *,
    catalog: Mapping[str, str] | None = None,
    classifier: Classifier | None = None,
    error_message: str | None = None,
) -> Callable[[], MaskErrors]:
    """
    A ``MaskErrors`` extension that masks bugs behind a reference.

    Give it to the schema (``strawberry.Schema(query=Query,
    extensions=[mask_errors()])``): it makes a fresh extension for each
    request, as Strawberry asks of extensions. See the module's description
    for what each error becomes.

    Args:
        catalog: Message templates by code, for the failures that are not
            masked.
        classifier: The classifier for the exceptions behind errors; the
            default one when `None`.
        error_message: The message of a masked error; when `None`, a generic
            one that quotes its reference. The reference is in its
            ``extensions`` either way.

    Returns:
        A factory of ``MaskErrors`` extensions.

    Raises:
        TypeError: When `catalog` is not a mapping of strings to strings,
            `classifier` not a `Classifier`, or `error_message` not a string.

    .. versionadded:: 0.1.0
    """
    checked = _checked_catalog(catalog)
    if classifier is not None and not isinstance(
        cast("object", classifier), Classifier
    ):  # untyped callers
        msg = (
            "mask_errors() takes classifier=Classifier(...) or None, "
            f"not {classifier!r}"
        )
        raise TypeError(msg)
    if error_message is not None and not isinstance(cast("object", error_message), str):
        msg = (
            f"mask_errors() takes error_message as a str or None, not {error_message!r}"
        )
        raise TypeError(msg)
    problems = Problems(classifier=classifier)
    return functools.partial(_extension_type(), problems, checked, error_message)


def _has_original(error: GraphQLError) -> bool:
    return error.original_error is not None


def _told(
    errors: Errors, catalog: Mapping[str, str] | None, custom_message: str | None
) -> tuple[str, dict[str, object]]:
    """
    The message and extensions of a GraphQL error for `errors`.

    The most severe error (the first of the highest bucket, as an HTTP answer
    has it) speaks for them all; when there are several, ``errors`` holds
    each, as `Errors.to_graphql` gives them.
    """
    details = list(errors)
    worst = 0
    for index, detail in enumerate(details):
        if detail.bucket > details[worst].bucket:
            worst = index
    if details[worst].bucket is Bucket.PROGRAMMER_ERROR:
        [entry] = Errors([details[worst]]).to_graphql()
        reference = details[worst].reference
        return custom_message or entry["message"], {
            "code": entry["code"],
            "reference": reference,
        }
    entries = errors.to_graphql(catalog)
    extensions: dict[str, object] = {"code": entries[worst]["code"]}
    wait = _longest_wait(details)
    if wait is not None:
        extensions["retry_after"] = wait
    if len(entries) > 1:
        extensions["errors"] = entries
    return entries[worst]["message"], extensions


@functools.cache
def _extension_type() -> Callable[
    [Problems, Mapping[str, str] | None, str | None], MaskErrors
]:
    from graphql import GraphQLError  # noqa: PLC0415 - optional
    from strawberry.extensions import MaskErrors  # noqa: PLC0415 - optional

    class MaskProgrammerErrors(MaskErrors):
        """Strawberry's ``MaskErrors``, masking by bucket; see `mask_errors`."""

        def __init__(
            self,
            problems: Problems,
            catalog: Mapping[str, str] | None,
            error_message: str | None,
        ) -> None:
            # Every error with an exception behind it is rewritten, masked or
            # not, so that no exception's text reaches the response.
            super().__init__(
                should_mask_error=_has_original, error_message=error_message or ""
            )
            self._problems = problems
            self._catalog = catalog
            self._custom_message = error_message
            self._operation_ended = False

        def on_operation(self) -> Iterator[None]:
            self._operation_ended = False
            yield from super().on_operation()
            self._operation_ended = True

        def get_results(self) -> dict[str, Any]:
            # An exception that escapes the operation (an extension's hook
            # raising, say) skips the end of on_operation, where MaskErrors
            # masks: Strawberry then answers with the exception's text. Its
            # errors are still the context's, in the very list it answers
            # with, when it asks the extensions for their results.
            if not self._operation_ended:
                errors = self.execution_context.pre_execution_errors or []
                errors[:] = [
                    self.anonymise_error(error)
                    if self.should_mask_error(error)
                    else error
                    for error in errors
                ]
            return {}

        def anonymise_error(self, error: GraphQLError) -> GraphQLError:
            message, extensions = _told(
                self._problems.errors_of(error.original_error),
                self._catalog,
                self._custom_message,
            )
            return GraphQLError(
                message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=None,
                extensions=extensions,
            )

    MaskProgrammerErrors.__qualname__ = "MaskProgrammerErrors"
    return MaskProgrammerErrors
