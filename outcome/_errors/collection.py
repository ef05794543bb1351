"""Errors: an ordered error collection with merge semantics, and its serialisers."""

from __future__ import annotations

from functools import partial
from typing import (
    TYPE_CHECKING,
    ClassVar,
    Final,
    Never,
    NotRequired,
    TypedDict,
    cast,
    final,
    overload,
)

from outcome._bucket import Bucket
from outcome._errors.adapters import _from_django, _from_marshmallow, _from_pydantic
from outcome._errors.detail import (
    ErrorDetail,
    _allocate,
    _checked_key,
    _checked_status,
    _decide_reported,
    _Key,
    _key_of,
    _moved,
    _prefixed,
    _worst_bucket,
)
from outcome._errors.messages import (
    _PROGRAMMER_ERROR,
    _REDACTED_CODE,
    _USER_FIXABLE,
    _fragment_of,
    _public_code,
    _public_fragment,
    _public_full_message,
    _public_params,
    _redacted,
)
from outcome._errors.params import (
    _CHECKED_NAMES,
    _FROZEN_NOTHING,
    _freeze_fresh_params,
    _Params,
    _ParamsKey,
)
from outcome._errors.paths import (
    Path,
    PathInput,
    _cached_path,
    _escaped_segment,
    _pointer,
    _to_path,
    _valid_tuple,
    format_path,
    format_pointer,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Self

    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

    from outcome._classify.classifier import Classifier
    from outcome._classify.decision import Decision

_NONE_GIVEN: Final[tuple[ErrorDetail, ...]] = ()
# A new ErrorDetail with no field set, as _allocate(ErrorDetail) makes it: the
# partial passes the class from C, which costs add() less than a call that names it.
_new_detail: Final = partial(_allocate, ErrorDetail)
_STATUS_BY_BUCKET: Final = {
    None: 422,  # Unprocessable Content
    Bucket.USER_FIXABLE: 422,
    Bucket.USER_VISIBLE: 503,  # Service Unavailable
    Bucket.PROGRAMMER_ERROR: 500,  # Internal Server Error
}
# Each status's phrase, from http.HTTPStatus, read at the first title: the
# http package costs `import outcome` half a millisecond, for its enum. The
# title of a status it does not know (529, 599...) is the name of its class,
# as RFC 9110 section 15 gives it.
_PHRASES: Final[dict[int, str]] = {}
_CLASS_TITLES: Final = {
    1: "Informational",
    2: "Successful",
    3: "Redirection",
    4: "Client Error",
    5: "Server Error",
}


class ErrorEntry(TypedDict):
    """
    One error as `Errors.to_dict` gives it, under its dotted path.

    ``reference`` is there for a programmer error only, whose ``code`` is
    ``"internal_error"``, ``message`` the generic one and ``params`` empty.

    .. versionadded:: 0.1.0
    """

    code: str
    message: str
    params: dict[str, object]
    reference: NotRequired[str]


class ErrorListEntry(ErrorEntry):
    """
    One error as `Errors.to_list` gives it: an `ErrorEntry` with its path.

    ``path`` is the path as a list, ``pointer`` its JSON Pointer.

    .. versionadded:: 0.1.0
    """

    path: list[str | int]
    pointer: str


class ProblemDetailsError(TypedDict):
    """
    One member of the ``errors`` of `ProblemDetails`.

    .. versionadded:: 0.1.0
    """

    detail: str
    pointer: str
    code: str
    reference: NotRequired[str]


class ProblemDetails(TypedDict):
    """
    An RFC 9457 problem details object, as `Errors.to_problem_details` gives it.

    .. versionadded:: 0.1.0
    """

    type: str
    title: str
    status: int
    detail: NotRequired[str]
    instance: NotRequired[str]
    errors: list[ProblemDetailsError]


class JsonApiError(TypedDict):
    """
    One JSON:API error object of a `JsonApiDocument`.

    ``source`` (``{"pointer": ...}``) is there for a field's error, ``meta``
    (``{"reference": ...}``) for a programmer error.

    .. versionadded:: 0.1.0
    """

    status: str
    code: str
    detail: str
    source: NotRequired[dict[str, str]]
    meta: NotRequired[dict[str, str]]


class JsonApiDocument(TypedDict):
    """
    A JSON:API errors document, as `Errors.to_jsonapi` gives it.

    .. versionadded:: 0.1.0
    """

    errors: list[JsonApiError]


class GraphQLUserError(TypedDict):
    """
    One GraphQL user error, as `Errors.to_graphql` gives it.

    ``field`` is `None` for an error at the base.

    .. versionadded:: 0.1.0
    """

    field: list[str] | None
    message: str
    code: str
    reference: NotRequired[str]


def _title(status: int) -> str:
    """The phrase of `status`, or the name of its class when it has none."""
    if not _PHRASES:
        from http import HTTPStatus  # noqa: PLC0415 - see _PHRASES

        _PHRASES.update({known.value: known.phrase for known in HTTPStatus})
    return _PHRASES.get(status) or _CLASS_TITLES[status // 100]


class _Any:
    """The default of `Errors.where`'s path: match errors at any path."""

    def __repr__(self) -> str:
        return "<any path>"


_ANY_PATH: Final = _Any()


@final
class Errors:
    """
    An ordered collection of `ErrorDetail`: a service object's scratch pad.

    Add errors as they are found, merge in the errors of the objects called,
    then report them all at once. Insertion order is kept and an exact
    duplicate (same path, code, params and message) is stored once: adding or
    merging it again returns the one already there. An empty collection is
    falsy. Collections are equal when they hold equal errors in the same order;
    being mutable, they are not hashable.

    >>> errors = Errors()
    >>> errors.add("card.expiry_month", "out_of_range", minimum=1, maximum=12)
    ErrorDetail(path=('card', 'expiry_month'), code='out_of_range',
                params={'minimum': 1, 'maximum': 12})
    >>> errors.add(None, "cart_changed", "Your cart changed; check it and try again.")
    ErrorDetail(path=(), code='cart_changed',
                message='Your cart changed; check it and try again.')
    >>> errors.full_messages()
    ['Expiry month must be between 1 and 12',
     'Your cart changed; check it and try again.']

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_details",)
    # Mutable, so unhashable: defining __eq__ already sets __hash__ to None at
    # run time; this tells the type checkers.
    __hash__: ClassVar[None]  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __init__(self, details: Iterable[ErrorDetail] = _NONE_GIVEN) -> None:
        self._details: dict[_Key, ErrorDetail] = {}
        if details is not _NONE_GIVEN:  # an empty collection needs no merge
            self.extend(details)

    def _held(self) -> list[ErrorDetail]:
        # A copy made in one C call, which no other thread runs into the middle
        # of: what reads it is not upset by an add() in another thread.
        return list(self._details.values())

    # Adding ------------------------------------------------------------------

    # The path is positional-only, so `path=` and `params=` would be taken for
    # params, which add() refuses at run time as fields' names. Typed `Never`,
    # they are refused by the type checkers too. A signature cannot name two
    # parameters `path`, so the positional one is `where` in the first overload.
    @overload
    def add(
        self,
        where: PathInput,
        /,
        code: str,
        message: str | None = None,
        *,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        path: Never = ...,
        params: Never = ...,
        **more_params: object,
    ) -> ErrorDetail: ...

    @overload
    def add(
        self,
        /,
        *,
        code: str,
        message: str | None = None,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        path: Never = ...,
        params: Never = ...,
        **more_params: object,
    ) -> ErrorDetail: ...

    def add(
        self,
        path: PathInput = None,
        /,
        code: str | None = None,
        message: str | None = None,
        *,
        bucket: Bucket = Bucket.USER_FIXABLE,
        cause: BaseException | None = None,
        **params: object,
    ) -> ErrorDetail:
        """
        Add an error and return it (or the equal one already held).

        `path` is a dotted string (``"items[0].price"``), a tuple, or omitted
        or `None` for the base. Keyword arguments other than `bucket` and
        `cause` become the params that fill the message template.

        >>> errors = Errors()
        >>> errors.add("items[3].price", "invalid").path
        ('items', 3, 'price')
        >>> errors.add(code="cart_empty").path
        ()

        Raises:
            TypeError: When the path, code, message, bucket or cause has the
                wrong type, or `code` is missing.
            ValueError: When the path does not parse, the code is empty, or a
                param is named like a field. The collection is unchanged.
        """
        # The fast path, inline, as every call counts: a single param of a
        # name checked before and a plain value (see _is_plain_value), a path
        # checked before (a text parsed before, or this very tuple), and
        # fields of the right types. Anything else takes the checked way,
        # which raises for what is wrong, in the order _slow_key says.
        if not params:
            held_params, params_key = _FROZEN_NOTHING
        else:
            # The last (name, value) pair, made in C, then put back where it
            # was: the dict is the call's own. A dict left empty held a
            # single param, and its pair is the key of a single param.
            pair = params.popitem()
            name, value = pair
            if params:
                params[name] = value
                held_params, params_key = _slow_params(code, params)
            else:
                params[name] = value
                if (
                    name in _CHECKED_NAMES
                    and type(name) is str
                    and (
                        # Two comparisons of one-digit ints, which CPython
                        # makes without a call; a chained one costs more. The
                        # bounds, -_SMALL_INT and _SMALL_INT, are written out so
                        # that the compiler folds them into constants.
                        (
                            type(value) is int
                            and value >= -((1 << 30) - 1)
                            and value <= (1 << 30) - 1
                        )
                        or type(value) is str
                        or value is None
                        or type(value) is bool
                        or (type(value) is float and value - value == 0.0)
                    )
                ):
                    held_params, params_key = params, pair
                else:
                    held_params, params_key = _slow_params(code, params)
        try:
            # One lookup for both forms (see _PARSED_PATHS): a text parsed
            # before gives its path, a tuple checked before gives itself.
            checked = _cached_path(path)
        except Exception:  # noqa: BLE001 - unhashable, or an __eq__ raised: _slow_key says why
            checked = None
        if checked is not path and type(path) is not str:
            # Not known good (an equal tuple, a str subclass): a tuple made
            # for this call, as a loop over items makes it, is checked here.
            checked = _valid_tuple(path) if type(path) is tuple else None
        if (
            checked is not None
            and type(code) is str
            and code
            and (message is None or type(message) is str)
            and (bucket is _USER_FIXABLE or type(bucket) is Bucket)
            # Not always so for an untyped caller.
            and (cause is None or isinstance(cause, BaseException))  # pyright: ignore[reportUnnecessaryIsInstance]
        ):
            key = (checked, code, message, params_key)
        else:
            key = _slow_key(path, code, message, params_key, bucket, cause)
        detail = _new_detail()
        detail._key = key  # noqa: SLF001 - made here, as ErrorDetail._build does
        detail._params = held_params  # noqa: SLF001
        detail._bucket = bucket  # noqa: SLF001
        detail._cause = cause  # noqa: SLF001
        detail._status = None  # noqa: SLF001
        # One lookup: the new detail is dropped if an equal one is held.
        return self._details.setdefault(key, detail)

    def add_exception(
        self,
        exc: BaseException,
        path: PathInput = None,
        *,
        classifier: Classifier | None = None,
    ) -> ErrorDetail:
        """
        Add an error made from a caught exception (see `ErrorDetail.from_exception`).

        >>> errors = Errors()
        >>> try:
        ...     raise ConnectionRefusedError("db:5432 refused")
        ... except OSError as exc:
        ...     _ = errors.add_exception(exc, "payment")
        >>> errors.full_messages()
        ['Payment could not be reached; try again shortly']

        Raises:
            TypeError: When `exc` is not an exception or `path` is not a path;
                nothing is added.
        """
        return self.append(ErrorDetail.from_exception(exc, path, classifier=classifier))

    def __outcome_classify__(
        self, classify: Callable[[object], Decision], /
    ) -> Decision:
        """Decide for the errors held: see `Classifier.classify`."""
        return _decide_reported(self._held(), self, classify)

    def append(self, detail: ErrorDetail) -> ErrorDetail:
        """
        Add an existing `ErrorDetail`; return it, or the equal one already held.

        >>> errors = Errors()
        >>> first = errors.append(ErrorDetail("email", "taken"))
        >>> errors.append(ErrorDetail("email", "taken")) is first
        True
        >>> len(errors)
        1

        Raises:
            TypeError: When `detail` is not an `ErrorDetail`.
        """
        if type(detail) is not ErrorDetail:
            raise _not_a_detail("append", detail)
        return self._details.setdefault(_key_of(detail), detail)

    def extend(self, details: Iterable[ErrorDetail]) -> None:
        """
        Add every `ErrorDetail` of `details`, in order, skipping exact duplicates.

        >>> errors = Errors()
        >>> errors.extend([ErrorDetail("a", "blank"), ErrorDetail("a", "blank")])
        >>> len(errors)
        1

        Raises:
            TypeError: When an item is not an `ErrorDetail`; nothing is added.
        """
        self.merge(details)

    def merge(
        self, other: Errors | Iterable[ErrorDetail], *, prefix: PathInput = None
    ) -> Self:
        """
        Append the errors of `other`, in order, dropping exact duplicates.

        With `prefix`, each merged error's path is put under it, for the errors
        of a nested object. Merging a collection into itself changes nothing.
        Returns this collection, so merges chain.

        >>> order = Errors()
        >>> order.add("quantity", "greater_than", count=0)
        ErrorDetail(path=('quantity',), code='greater_than', params={'count': 0})
        >>> checkout = Errors().merge(order, prefix="items[0]")
        >>> _ = checkout.merge(order, prefix="items[0]")  # again: nothing new
        >>> [format_path(detail.path) for detail in checkout]
        ['items[0].quantity']

        Raises:
            TypeError: When `prefix` is not a path or an item of `other` is not
                an `ErrorDetail`; nothing is merged.
            ValueError: When `prefix` does not parse; nothing is merged.
        """
        prefix_path = _to_path(prefix)
        # A snapshot first: `other` may be this very collection.
        incoming = (
            list(other._details.values())  # noqa: SLF001 - another Errors
            if type(other) is Errors
            else list(other)
        )
        for index, detail in enumerate(incoming):
            if type(detail) is not ErrorDetail:
                raise _not_a_detail("merge", detail, index)
        details = self._details
        if prefix_path:
            incoming = [_prefixed(detail, prefix_path) for detail in incoming]
        for detail in incoming:
            details.setdefault(_key_of(detail), detail)
        return self

    # Converting from other libraries -----------------------------------------

    @classmethod
    def from_pydantic(
        cls, exc: BaseException, *, echo_unknown_fields: bool = False
    ) -> Errors:
        """
        Convert a pydantic ``ValidationError`` into `Errors`.

        Each error's ``loc`` becomes the path, its ``type`` the code and its
        ``ctx`` the params, under the names the built-in templates use (``gt``,
        ``ge``, ``lt``, ``le`` as ``count``; ``min_length`` as ``minimum``,
        ``max_length`` as ``maximum``). No message is set, so that a catalog
        translates pydantic's errors like any other: the common types have a
        template in `DEFAULT_MESSAGES`, and for the others pydantic's ``msg``
        is the error's ``default_message``, which a catalog's template for the
        code beats. The rejected ``input`` is never kept: not in the params,
        not in the message (a union's tag, which pydantic's message shows, is
        shown as ``…``), and not in the cause, which is a copy of `exc` without
        the inputs (made when it is first read, for pydantic-core's own
        ``ValidationError``: only logs and trackers read it). A ctx value that
        is an exception, as a ``value_error``'s ``error`` is, is not a param:
        its words are the default message.
        pydantic is read by duck typing, never imported.

        A key the model does not know (``extra="forbid"``: ``extra_forbidden``)
        is input too, chosen by whoever sent it, so its error is at the object
        that holds the key, not under the key, unless `echo_unknown_fields` is
        true.

        >>> from pydantic import BaseModel, Field, ValidationError
        >>> class Item(BaseModel):
        ...     price: int = Field(gt=0)
        >>> class Order(BaseModel):
        ...     items: list[Item]
        >>> try:
        ...     Order.model_validate({"items": [{"price": 0}]})
        ... except ValidationError as exc:
        ...     errors = Errors.from_pydantic(exc)
        >>> [(detail.path, detail.code, dict(detail.params)) for detail in errors]
        [(('items', 0, 'price'), 'greater_than', {'count': 0})]
        >>> errors.messages()
        {'items[0].price': ['must be greater than 0']}
        >>> errors.messages({"greater_than": "doit être supérieur à {count}"})
        {'items[0].price': ['doit être supérieur à 0']}
        >>> from pydantic import ConfigDict
        >>> class Strict(BaseModel):
        ...     model_config = ConfigDict(extra="forbid")
        >>> try:
        ...     Strict.model_validate({"<script>": 1})
        ... except ValidationError as exc:
        ...     unknown = exc
        >>> Errors.from_pydantic(unknown).full_messages()
        ['A field that is not allowed was sent']
        >>> Errors.from_pydantic(unknown, echo_unknown_fields=True).paths()
        [('<script>',)]

        Args:
            exc: The ``ValidationError``.
            echo_unknown_fields: Put the error of an unknown key under the key,
                naming it, as pydantic does.

        Raises:
            TypeError: When `exc` does not look like a pydantic ValidationError.

        .. versionchanged:: 0.1.0
           ``echo_unknown_fields``; an unknown key is no longer a path by default.
           pydantic's ``msg`` is a default message a catalog beats, no longer
           the message; ctx params take the built-in templates' names.
        """
        errors = cls()
        errors._details = _from_pydantic(exc, echo_unknown_fields=echo_unknown_fields)
        return errors

    @classmethod
    def from_django(cls, exc: BaseException) -> Errors:
        """
        Convert a Django ``ValidationError`` into `Errors`.

        Field errors keep their field as the path; non-field errors
        (``"__all__"``) go to the base. Codes and params are kept, except the
        ``value`` param of Django's fields and validators, which holds the
        rejected input. Messages are rendered with their params, as Django
        does, with ``…`` where they showed the value. The cause is a copy of
        `exc` without the value. (Django forms ignore keys they do not know,
        so there are no unknown fields to report.)

        >>> from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
        >>> too_long = ValidationError("over %(max)s", "too_long", {"max": 5})
        >>> closed = ValidationError("Sign-ups are closed.", code="closed")
        >>> exc = ValidationError({"name": too_long, NON_FIELD_ERRORS: closed})
        >>> errors = Errors.from_django(exc)
        >>> [(detail.path, detail.code, dict(detail.params)) for detail in errors]
        [(('name',), 'too_long', {'max': 5}), ((), 'closed', {})]
        >>> errors.messages()
        {'name': ['over 5'], '': ['Sign-ups are closed.']}

        >>> card = "4111 1111 1111 1111"  # as Django's IntegerField rejects it:
        >>> rejected = ValidationError(
        ...     "“%(value)s” value must be an integer.", "invalid", {"value": card}
        ... )
        >>> Errors.from_django(rejected).full_messages()
        ['“…” value must be an integer.']

        A form's errors convert too: ``ValidationError(form.errors.as_data())``.

        Raises:
            TypeError: When `exc` does not look like a Django ValidationError.
        """
        return cls(_from_django(exc))

    @classmethod
    def from_marshmallow(
        cls, exc: BaseException, *, echo_unknown_fields: bool = False
    ) -> Errors:
        """
        Convert a marshmallow ``ValidationError`` into `Errors`.

        Nested dicts become paths (int keys become indices) and ``_schema``
        errors go to the base; marshmallow has no codes, so each is
        ``"invalid"`` with its message kept. The cause is a copy of `exc`
        without the input marshmallow keeps (``data`` and ``valid_data``).

        A key the schema does not know (``Unknown field.``) is input chosen by
        whoever sent it, so its error is at the object that holds the key, not
        under the key, unless `echo_unknown_fields` is true. Only marshmallow's
        own wording is recognised: a schema that words ``unknown`` otherwise
        keeps its unknown keys as paths.

        >>> from marshmallow import Schema, ValidationError, fields
        >>> class ItemSchema(Schema):
        ...     price = fields.Integer(required=True)
        >>> class OrderSchema(Schema):
        ...     items = fields.List(fields.Nested(ItemSchema))
        >>> try:
        ...     OrderSchema().load({"items": [{"price": 1}, {}]})
        ... except ValidationError as exc:
        ...     errors = Errors.from_marshmallow(exc)
        >>> [(detail.path, detail.code, detail.message) for detail in errors]
        [(('items', 1, 'price'), 'invalid', 'Missing data for required field.')]
        >>> try:
        ...     ItemSchema().load({"price": 1, "<script>": 1})
        ... except ValidationError as exc:
        ...     unknown = exc
        >>> Errors.from_marshmallow(unknown).full_messages()
        ['Unknown field.']
        >>> Errors.from_marshmallow(unknown, echo_unknown_fields=True).paths()
        [('<script>',)]

        Args:
            exc: The ``ValidationError``.
            echo_unknown_fields: Put the error of an unknown key under the key,
                naming it, as marshmallow does.

        Raises:
            TypeError: When `exc` does not look like a marshmallow ValidationError.

        .. versionchanged:: 0.1.0
           ``echo_unknown_fields``; an unknown key is no longer a path by default.
        """
        return cls(_from_marshmallow(exc, echo_unknown_fields=echo_unknown_fields))

    # Querying ----------------------------------------------------------------

    def where(
        self,
        path: PathInput | _Any = _ANY_PATH,
        code: str | None = None,
        **params: object,
    ) -> list[ErrorDetail]:
        """
        Return the errors at `path` (any path when omitted) with `code` and `params`.

        Only what is given is matched; `params` match when each named param is
        present and equal.

        >>> errors = Errors()
        >>> _ = errors.add("name", "too_long", maximum=40)
        >>> _ = errors.add("name", "taken")
        >>> [detail.code for detail in errors.where("name", maximum=40)]
        ['too_long']

        Raises:
            TypeError, ValueError: When `path` is not a valid path.
        """
        wanted = None if isinstance(path, _Any) else _to_path(path)
        return [
            detail
            for detail in self._held()
            if (wanted is None or detail.path == wanted)
            and (code is None or detail.code == code)
            and all(
                name in detail._given_params  # noqa: SLF001 - no view needed
                and detail._given_params[name] == value  # noqa: SLF001
                for name, value in params.items()
            )
        ]

    def has(self, path: PathInput, code: str | None = None) -> bool:
        """
        Return whether an error is held at `path` (with `code`, when given).

        >>> errors = Errors([ErrorDetail("email", "blank")])
        >>> errors.has("email"), errors.has("email", "taken"), errors.has(None)
        (True, False, False)
        """
        wanted = _to_path(path)
        return any(
            detail.path == wanted and (code is None or detail.code == code)
            for detail in self._held()
        )

    def subtree(self, prefix: PathInput) -> Errors:
        """
        Return the errors under `prefix`, with `prefix` removed from their paths.

        >>> errors = Errors([ErrorDetail("items[0].price", "invalid")])
        >>> [detail.path for detail in errors.subtree("items[0]")]
        [('price',)]
        """
        prefix_path = _to_path(prefix)
        size = len(prefix_path)
        found = Errors()
        for detail in self._held():
            if detail.path[:size] == prefix_path:
                found.append(_moved(detail, detail.path[size:]))
        return found

    @property
    def base(self) -> list[ErrorDetail]:
        """
        The errors about the whole object rather than one field.

        >>> errors = Errors([ErrorDetail(None, "changed"), ErrorDetail("a", "blank")])
        >>> errors.base
        [ErrorDetail(path=(), code='changed')]
        """
        return [detail for detail in self._held() if not detail.path]

    @property
    def bucket(self) -> Bucket | None:
        """
        The most severe bucket among the errors, or `None` when there are none.

        >>> Errors([ErrorDetail("a", "blank", bucket=Bucket.USER_VISIBLE)]).bucket
        <Bucket.USER_VISIBLE: 'user_visible'>
        """
        return _worst_bucket(self._held())

    def codes(self) -> list[str]:
        """
        Return each code held, once, in the order first added.

        >>> Errors([ErrorDetail("a", "blank"), ErrorDetail("b", "blank")]).codes()
        ['blank']
        """
        return list(dict.fromkeys(detail.code for detail in self._held()))

    def paths(self) -> list[Path]:
        """
        Return each path that has errors, once, in the order first added.

        >>> Errors([ErrorDetail("a", "blank"), ErrorDetail("a", "taken")]).paths()
        [('a',)]
        """
        return list(dict.fromkeys(detail.path for detail in self._held()))

    def delete(self, path: PathInput, code: str | None = None) -> list[ErrorDetail]:
        """
        Remove and return the errors at `path` (with `code`, when given).

        >>> errors = Errors([ErrorDetail("a", "blank"), ErrorDetail("a", "taken")])
        >>> [detail.code for detail in errors.delete("a", "blank")], len(errors)
        (['blank'], 1)

        Raises:
            TypeError, ValueError: When `path` is not a valid path; nothing is
                removed.
        """
        removed = self.where(path, code)
        for detail in removed:
            self._details.pop(
                _key_of(detail), None
            )  # gone already, if another thread won
        return removed

    def copy(self) -> Errors:
        """
        Return a new collection holding the same errors.

        >>> errors = Errors([ErrorDetail("a", "blank")])
        >>> duplicate = errors.copy()
        >>> _ = duplicate.add("b", "blank")
        >>> len(errors), len(duplicate)
        (1, 2)
        """
        duplicate = Errors()
        duplicate._details = self._details.copy()  # already checked and keyed
        return duplicate

    def clear(self) -> None:
        """
        Remove every error.

        >>> errors = Errors([ErrorDetail("a", "blank")])
        >>> errors.clear()
        >>> bool(errors)
        False
        """
        self._details.clear()

    def __len__(self) -> int:
        return len(self._details)

    def __iter__(self) -> Iterator[ErrorDetail]:
        return iter(self._held())

    def __contains__(self, detail: object) -> bool:
        return type(detail) is ErrorDetail and _key_of(detail) in self._details

    def __bool__(self) -> bool:
        return bool(self._details)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Errors:
            return NotImplemented
        return list(self._details) == list(other._details)  # the keys, in order

    def __str__(self) -> str:
        # As for ErrorDetail: what a user may see; repr() is for logs.
        return "; ".join(self.full_messages())

    def __repr__(self) -> str:
        return f"Errors({self._held()!r})"

    def __reduce__(self) -> tuple[type[Errors], tuple[list[ErrorDetail]]]:
        return (Errors, (self._held(),))

    # Messages, for people ----------------------------------------------------

    def messages(
        self, catalog: Mapping[str, str] | None = None
    ) -> dict[str, list[str]]:
        """
        Return the messages by dotted path (``""`` for the base), for a form.

        Messages are rendered now, from `catalog` (code -> template) falling
        back to `DEFAULT_MESSAGES`. A programmer error's message is never shown:
        a generic one with its reference takes its place.

        >>> errors = Errors()
        >>> _ = errors.add("name", "too_long", maximum=40)
        >>> errors.messages()
        {'name': ['is too long (maximum is 40 characters)']}
        >>> errors.messages({"too_long": "has more than {maximum} letters"})
        {'name': ['has more than 40 letters']}
        """
        grouped: dict[str, list[str]] = {}
        for detail in self._held():
            grouped.setdefault(format_path(detail.path), []).append(
                _public_fragment(detail, catalog)
            )
        return grouped

    def full_messages(self, catalog: Mapping[str, str] | None = None) -> list[str]:
        """
        Return one sentence per error: the field's name, then its message.

        >>> errors = Errors()
        >>> _ = errors.add("email", "blank")
        >>> bug = Bucket.PROGRAMMER_ERROR
        >>> _ = errors.add(None, "bug", "KeyError: 'sku'", bucket=bug)
        >>> errors.full_messages()  # doctest: +ELLIPSIS
        ["Email can't be blank",
         'Something went wrong on our side. ... reference ERR-....']
        """
        return [_public_full_message(detail, catalog) for detail in self._held()]

    # Serialisers, for APIs ---------------------------------------------------

    def to_list(self, catalog: Mapping[str, str] | None = None) -> list[ErrorListEntry]:
        """
        Return one JSON-ready dict per error, in order.

        Each has the ``path`` as a list, its ``pointer``, the ``code``, the
        rendered ``message`` and the ``params``; a programmer error shows the
        generic message, no params, and a ``reference``.

        >>> Errors([ErrorDetail("items[0].price", "invalid")]).to_list()
        [{'path': ['items', 0, 'price'], 'pointer': '/items/0/price',
          'code': 'invalid', 'message': 'is invalid', 'params': {}}]
        """
        entries: list[ErrorListEntry] = []
        for detail in self._held():
            entry: ErrorListEntry = {
                "path": list(detail.path),
                "pointer": format_pointer(detail.path),
                "code": _public_code(detail),
                "message": _public_fragment(detail, catalog),
                "params": _public_params(detail),
            }
            if detail.bucket is _PROGRAMMER_ERROR:
                entry["reference"] = detail.reference
            entries.append(entry)
        return entries

    def to_dict(
        self, catalog: Mapping[str, str] | None = None
    ) -> dict[str, list[ErrorEntry]]:
        """
        Return the errors grouped by dotted path (``""`` for the base).

        >>> Errors([ErrorDetail("email", "blank")]).to_dict()
        {'email': [{'code': 'blank', 'message': "can't be blank", 'params': {}}]}
        """
        grouped: dict[str, list[ErrorEntry]] = {}
        for detail in self._held():
            entry: ErrorEntry = {
                "code": _public_code(detail),
                "message": _public_fragment(detail, catalog),
                "params": _public_params(detail),
            }
            if detail.bucket is _PROGRAMMER_ERROR:
                entry["reference"] = detail.reference
            grouped.setdefault(format_path(detail.path), []).append(entry)
        return grouped

    def to_problem_details(  # noqa: PLR0913 - the members of RFC 9457
        self,
        *,
        status: int | None = None,
        title: str | None = None,
        type: str = "about:blank",  # noqa: A002 - the member's name in RFC 9457
        detail: str | None = None,
        instance: str | None = None,
        catalog: Mapping[str, str] | None = None,
    ) -> ProblemDetails:
        """
        Return an RFC 9457 problem details object with an ``errors`` extension.

        Each entry of ``errors`` has the ``detail`` message, a JSON Pointer
        into the request document (``"#/items/0/price"``; ``"#"`` for the base)
        and the ``code``, as in the RFC's own example. `status` defaults to the
        most severe bucket's: 422 for errors the user can fix (and for no
        errors at all), 503 for ones the user can only be told about, 500 when
        a programmer error is present. Any status from 100 to 599 may be given,
        529 included. `title` defaults to the status phrase, as the RFC asks
        when `type` is ``about:blank``, or for a status `http.HTTPStatus` does
        not know, to the name of its class (``"Server Error"``).

        >>> errors = Errors([ErrorDetail("age", "greater_than", params={"count": 0})])
        >>> errors.to_problem_details()
        {'type': 'about:blank', 'title': 'Unprocessable Entity', 'status': 422,
         'errors': [{'detail': 'must be greater than 0', 'pointer': '#/age',
                     'code': 'greater_than'}]}
        >>> errors.to_problem_details(status=529)["title"]
        'Server Error'

        Raises:
            TypeError: When `status` is not an int (a bool or a str is not).
            ValueError: When `status` is not from 100 to 599.
        """
        held = self._held()
        code = (
            _checked_status("to_problem_details", status)
            if status is not None
            else _status_of(held)
        )
        entries: list[ProblemDetailsError] = []
        append = entries.append
        for error in held:
            # The fields read once, from the slots, for a loop run per error.
            path, error_code, message, _params_key = error._key  # noqa: SLF001
            if error._bucket is _PROGRAMMER_ERROR:  # noqa: SLF001
                append(
                    {
                        "detail": _redacted(error),
                        "pointer": _pointer(path, "#"),
                        "code": _REDACTED_CODE,
                        "reference": error.reference,
                    }
                )
                continue
            params = error._params  # noqa: SLF001
            append(
                {
                    "detail": _fragment_of(path, error_code, message, params, catalog)
                    if path
                    else _public_full_message(error, catalog),
                    # _pointer, inline
                    "pointer": f"#/{'/'.join(map(_escaped_segment, path))}"
                    if path
                    else "#",
                    "code": error_code,
                }
            )
        # Built in the RFC's order, detail and instance before the extension.
        problem: dict[str, object] = {
            "type": type,
            "title": title if title is not None else _title(code),
            "status": code,
        }
        if detail is not None:
            problem["detail"] = detail
        if instance is not None:
            problem["instance"] = instance
        problem["errors"] = entries
        return cast("ProblemDetails", problem)

    def to_jsonapi(
        self,
        *,
        status: int | None = None,
        pointer_root: str = "/data/attributes",
        catalog: Mapping[str, str] | None = None,
    ) -> JsonApiDocument:
        """
        Return a JSON:API document of error objects.

        Each has ``status`` (a string, as JSON:API wants; by default from the
        most severe bucket, as in `to_problem_details`, and any status from 100
        to 599 when given), ``code``, ``detail`` and, for a field,
        ``source.pointer`` under `pointer_root`.

        >>> Errors([ErrorDetail("title", "blank")]).to_jsonapi()
        {'errors': [{'status': '422', 'code': 'blank', 'detail': "Title can't be blank",
                     'source': {'pointer': '/data/attributes/title'}}]}

        Raises:
            TypeError: When `status` is not an int (a bool or a str is not).
            ValueError: When `status` is not from 100 to 599.
        """
        held = self._held()
        status_text = str(
            _checked_status("to_jsonapi", status)
            if status is not None
            else _status_of(held)
        )
        objects: list[JsonApiError] = []
        for error in held:
            entry: JsonApiError = {
                "status": status_text,
                "code": _public_code(error),
                "detail": _public_full_message(error, catalog),
            }
            if error.path:
                entry["source"] = {"pointer": _pointer(error.path, pointer_root)}
            if error.bucket is _PROGRAMMER_ERROR:
                entry["meta"] = {"reference": error.reference}
            objects.append(entry)
        return {"errors": objects}

    def to_graphql(
        self, catalog: Mapping[str, str] | None = None
    ) -> list[GraphQLUserError]:
        """
        Return GraphQL user errors: ``{field, message, code}`` per error.

        ``field`` is the path as a list of strings (`None` for the base), as in
        the user-error payloads of GraphQL mutations.

        >>> errors = Errors()
        >>> _ = errors.add("items[0].quantity", "greater_than", count=0)
        >>> errors.to_graphql()
        [{'field': ['items', '0', 'quantity'],
          'message': 'Quantity must be greater than 0', 'code': 'greater_than'}]
        """
        entries: list[GraphQLUserError] = []
        for error in self._held():
            entry: GraphQLUserError = {
                "field": [str(segment) for segment in error.path] or None,
                "message": _public_full_message(error, catalog),
                "code": _public_code(error),
            }
            if error.bucket is _PROGRAMMER_ERROR:
                entry["reference"] = error.reference
            entries.append(entry)
        return entries

    # Models, for pydantic and FastAPI ----------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: object, handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        """
        Let pydantic, and so FastAPI, validate and serialise an `Errors` field.

        It serialises as `to_list` gives it, in JSON and in Python mode alike:
        one entry per error with its ``path``, ``pointer``, ``code``, rendered
        ``message`` and ``params``; a programmer error shows only the generic
        message and its ``reference``. It validates from an `Errors`, which is
        taken as it is, or from such a list. Each entry needs a ``code``;
        ``path`` defaults to the base and ``pointer`` is not read. A
        ``message`` that is the default one for the code and params is left
        out, so errors with default messages come back equal to those sent;
        any other message is kept as the error's own. An entry with a
        ``reference`` (``ERR-`` and hex digits) comes back as a programmer
        error with that reference, every other entry as an error the user can
        fix: the list does not say which errors the user can only be told
        about. pydantic is imported here, when a model first uses `Errors`,
        never by ``import outcome``.

        >>> from pydantic import BaseModel
        >>> class Rejected(BaseModel):
        ...     errors: Errors
        >>> rejected = Rejected(errors=Errors([ErrorDetail("email", "taken")]))
        >>> rejected.model_dump()
        {'errors': [{'path': ['email'], 'pointer': '/email', 'code': 'taken',
                     'message': 'has already been taken', 'params': {}}]}
        >>> Rejected.model_validate_json(rejected.model_dump_json()) == rejected
        True

        .. versionadded:: 0.1.0
        """
        from pydantic_core import core_schema  # noqa: PLC0415 - optional

        def detail(entry: dict[str, object]) -> ErrorDetail:
            path = tuple(cast("list[str | int]", entry.get("path", [])))
            code = cast("str", entry["code"])
            reference = cast("str | None", entry.get("reference"))
            if reference is not None:
                return ErrorDetail._restore(  # noqa: SLF001 - keeps the reference
                    path, code, None, {}, Bucket.PROGRAMMER_ERROR, None, None, reference
                )
            params = cast("dict[str, object]", entry.get("params", {}))
            try:
                restored = ErrorDetail(path, code, params=params)
            except TypeError as exc:  # a param name: pydantic reports ValueErrors
                raise ValueError(str(exc)) from exc
            message = cast("str | None", entry.get("message"))
            if message is None or message == _public_fragment(restored, None):
                return restored
            literal = message.replace("{", "{{").replace("}", "}}")
            return ErrorDetail(path, code, literal, params=params)

        def collected(value: object, validate: Callable[[object], object]) -> Errors:
            if type(value) is Errors:
                return value
            return cls(cast("list[ErrorDetail]", validate(value)))

        field = core_schema.typed_dict_field
        entry = core_schema.typed_dict_schema(
            {
                "path": field(
                    core_schema.list_schema(
                        core_schema.union_schema(
                            [
                                core_schema.int_schema(strict=True, ge=0),
                                core_schema.str_schema(min_length=1),
                            ]
                        )
                    ),
                    required=False,
                ),
                "pointer": field(core_schema.str_schema(), required=False),
                "code": field(core_schema.str_schema(min_length=1)),
                "message": field(core_schema.str_schema(), required=False),
                "params": field(
                    core_schema.dict_schema(
                        core_schema.str_schema(), core_schema.any_schema()
                    ),
                    required=False,
                ),
                "reference": field(
                    core_schema.str_schema(pattern=r"^ERR-[0-9a-f]+$"),
                    required=False,
                ),
            },
            cls=ErrorListEntry,
        )
        return core_schema.no_info_wrap_validator_function(
            collected,
            core_schema.list_schema(
                core_schema.no_info_after_validator_function(detail, entry)
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls.to_list,
                info_arg=False,
                return_schema=core_schema.list_schema(entry),
            ),
        )


def _status_of(held: list[ErrorDetail]) -> int:
    """The status for errors: that of the most severe bucket among them."""
    worst = _worst_bucket(held)
    return _STATUS_BY_BUCKET[worst]


def _not_a_detail(method: str, item: object, index: int | None = None) -> TypeError:
    where = "" if index is None else f" item {index} of what was given is"
    return TypeError(
        f"Errors.{method}() takes ErrorDetail values, but{where or ' it got'} "
        f"{item!r} (of type {type(item).__name__}); use errors.add(path, code) "
        "to add an error from its parts"
    )


def _missing_code() -> TypeError:
    return TypeError(
        "add() needs a code: errors.add('email', 'blank') for a field, "
        "errors.add(code='blank') for the base"
    )


def _slow_params(code: object, params: dict[str, object]) -> tuple[_Params, _ParamsKey]:
    """The params of `Errors.add` the checked way; a missing code is told first."""
    if code is None:
        raise _missing_code()
    return _freeze_fresh_params(params)


def _slow_key(  # noqa: PLR0913, PLR0917 - one argument per part of the key
    path: object,
    code: object,
    message: object,
    params_key: _ParamsKey,
    bucket: object,
    cause: object,
) -> _Key:
    """The key of `Errors.add` the checked way; a missing code is told first."""
    if code is None:
        raise _missing_code()
    return _checked_key(path, code, message, params_key, bucket, cause)
