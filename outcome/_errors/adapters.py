"""
Convert the validation errors of pydantic, Django and marshmallow into details.

Each library is read by duck typing, from the attributes its ``ValidationError``
has; none of them is imported here, so none is needed to use the rest of the
package. Every converted error is `Bucket.USER_FIXABLE`.

The rejected input is never kept: not in a message, not in the params, and
not in the `cause`, which is a copy of the library's exception without the
input (each library's repr or attributes show it). Where a library's message
shows the value, the copy's message shows `_HIDDEN` in its place. An input
key that the schema does not know (pydantic's ``extra_forbidden``,
marshmallow's ``Unknown field.``) is input too: by default its error is put at
the object that holds it, not under the key, unless `echo_unknown_fields`.

Param names are made safe for `ErrorDetail`: a name that is not an identifier
has each offending character replaced by ``_``, and a name that would shadow a
field of `ErrorDetail` (``path``, ``code``, ``message``, ``params``,
``bucket``, ``cause``), or that still does not start like an identifier, is
prefixed with ``param_``. The prefix is repeated until the name is free, and
names that were already valid keep their spelling, so nothing is overwritten.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from outcome._bucket import Bucket
from outcome._errors.detail import (
    ErrorDetail,
    _allocate,
    _Key,
    _key_of,
    _PendingCause,
)
from outcome._errors.messages import (
    _DEFAULT_MESSAGE_PARAM,
    _USER_FIXABLE,
    DEFAULT_MESSAGES,
)
from outcome._errors.params import (
    _CHECKED_NAMES,
    _FROZEN_NOTHING,
    _NEGATIVE_SMALL_INT,
    _NO_PARAMS_KEY,
    _NO_PARAMS_PAIR,
    _SMALL_INT,
    _freeze_fresh_params,
    _Params,
    _ParamsKey,
)
from outcome._errors.params import _RESERVED_PARAMS as _RESERVED_NAMES
from outcome._errors.paths import _BASE, Path, _to_path

if TYPE_CHECKING:
    from types import TracebackType

_PREFIX: Final = "param_"
_EMPTY_NAME: Final = "''"
_NOTHING: Final = object()
_HIDDEN: Final = "\u2026"
"""What a library's message shows where it showed the rejected value: '…'."""
_DJANGO_BASE_FIELDS: Final = (None, "__all__")
_DJANGO_INPUT_PARAM: Final = "value"
_MARSHMALLOW_SCHEMA: Final = "_schema"
_MARSHMALLOW_UNKNOWN: Final = "Unknown field."  # marshmallow's default message
_REDUCED_LENGTH: Final = 2  # (rebuild, arguments)
_PICKLING_ARGUMENTS: Final = 4  # (title, lines, input_type, hide_input)
# The ctx of these pydantic errors holds (part of) the input; their message too.
_PYDANTIC_INPUT_CONTEXT: Final[Mapping[str, str]] = {
    "union_tag_invalid": "tag",  # v2
    "uuid_parsing": "error",  # "invalid character: found `s` at 0"
    "bytes_invalid_encoding": "encoding_error",  # "Invalid symbol 36, offset 0."
    "value_error.discriminated_union.invalid_discriminator": "discriminator_value",
    "value_error.const": "given",  # v1
}
# pydantic's ctx names, by error type, where the built-in templates use others.
_PYDANTIC_PARAM_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "greater_than": {"gt": "count"},
    "greater_than_equal": {"ge": "count"},
    "less_than": {"lt": "count"},
    "less_than_equal": {"le": "count"},
    "multiple_of": {"multiple_of": "count"},
    "string_too_short": {"min_length": "minimum"},
    "string_too_long": {"max_length": "maximum"},
    "too_short": {"min_length": "minimum"},
    "too_long": {"max_length": "maximum"},
    "bytes_too_short": {"min_length": "minimum"},
    "bytes_too_long": {"max_length": "maximum"},
    "url_too_long": {"max_length": "maximum"},
    "decimal_max_digits": {"max_digits": "maximum"},
    "decimal_max_places": {"decimal_places": "maximum"},
    "decimal_whole_digits": {"whole_digits": "maximum"},
}
# pydantic's too_short and too_long count the items of a list, a set or a
# dict, where Rails' codes of those names count characters: their default
# templates say so, and a catalog can still give others.
_PYDANTIC_TEMPLATES: Final[Mapping[str, str]] = {
    "too_short": "has too few items (minimum: {minimum})",
    "too_long": "has too many items (maximum: {maximum})",
}
# An unknown key's error under the key itself (echo_unknown_fields).
_PYDANTIC_ECHOED_TEMPLATE: Final = "is not allowed"
# What pydantic puts before the words of a validator's exception.
_PYDANTIC_PREFIXES: Final[Mapping[str, str]] = {
    "value_error": "Value error, ",
    "assertion_error": "Assertion failed, ",
}
# The codes of an input key the model does not know: v2, v1.
_PYDANTIC_UNKNOWN_FIELD: Final = frozenset({"extra_forbidden", "value_error.extra"})
# The codes whose line _safe_pydantic_line changes beyond dropping the input.
_PYDANTIC_SAFE_LINE_CODES: Final = (
    _PYDANTIC_UNKNOWN_FIELD | _PYDANTIC_INPUT_CONTEXT.keys()
)
# The codes _pydantic_default gives no default template, unless echoed (an
# unknown field's code, which is not among them).
_PYDANTIC_TEMPLATE_CODES: Final = (
    DEFAULT_MESSAGES.keys() - _PYDANTIC_TEMPLATES.keys() - _PYDANTIC_UNKNOWN_FIELD
)
_NO_RENAMES: Final[Mapping[str, str]] = {}
# The codes _from_pydantic's one pass converts by its common way: a built-in
# template, and no input in the line but its own.
_PYDANTIC_PLAIN_CODES: Final = _PYDANTIC_TEMPLATE_CODES - _PYDANTIC_SAFE_LINE_CODES
# The prefixes of the validators' types that _pydantic_default strips, where
# it does: those without a built-in template.
_PYDANTIC_VALIDATOR_PREFIXES: Final[Mapping[str, str]] = {
    code: prefix
    for code, prefix in _PYDANTIC_PREFIXES.items()
    if code not in DEFAULT_MESSAGES and code not in _PYDANTIC_TEMPLATES
}
_PYDANTIC_VALIDATOR_ERROR: Final = "error"  # the ctx name of their exception
# The paths of pydantic's locs, by loc: see _pydantic_path.
_PYDANTIC_PATHS: Final[dict[object, Path]] = {}
_PYDANTIC_PATHS_LIMIT: Final = 4096


def _plain_text(value: object) -> str:
    """`value` as a plain ``str``, not a subclass, which `ErrorDetail` refuses."""
    return str.__str__(value if isinstance(value, str) else str(value))


def _segment(value: object) -> str | int:
    """
    One segment of a path: a non-negative ``int`` index or a non-empty name.

    Anything else is turned into its text, so that no library's key can make
    the conversion fail; an empty name becomes ``"''"``, since a path cannot
    hold an empty name.
    """
    if type(value) is int and value >= 0:
        return value
    return _plain_text(value) or _EMPTY_NAME


def _safe_name(name: object) -> str:
    text = "".join(
        character if ("_" + character).isidentifier() else "_"
        for character in _plain_text(name)
    )
    if not text.isidentifier() or text in _RESERVED_NAMES:
        text = _PREFIX + text
    return text


def _params(raw: object, *, drop: str | None = None) -> dict[str, object]:
    """
    The params of one error, under names `ErrorDetail` accepts.

    A mapping keeps its values; a tuple (as ``%`` formatting takes) or any
    other single value is named by position: ``param_0``, ``param_1``...
    The param named `drop`, if any, is left out.
    """
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        items = list(cast("Mapping[object, object]", raw).items())
    else:
        values = cast("tuple[object, ...]", raw) if isinstance(raw, tuple) else (raw,)
        items = [(f"{_PREFIX}{index}", value) for index, value in enumerate(values)]
    kept = {
        name
        for name, _ in items
        if type(name) is str and name.isidentifier() and name not in _RESERVED_NAMES
    }
    params: dict[str, object] = {}
    for name, value in items:
        if drop is not None and name == drop:
            continue
        if type(name) is str and name in kept:
            params[name] = value
            continue
        safe = _safe_name(name)
        while safe in kept or safe in params:
            safe = _PREFIX + safe
        params[safe] = value
    return params


def _detail(
    path: Path,
    code: str,
    message: str | None,
    params: Mapping[str, object],
    exc: BaseException | None,
) -> ErrorDetail:
    # The libraries' messages are finished text, not templates: escape their
    # braces so that rendering gives them back as they were.
    literal = None if message is None else message.replace("{", "{{").replace("}", "}}")
    return ErrorDetail(
        path, code, literal, params=params, bucket=Bucket.USER_FIXABLE, cause=exc
    )


def _not_an_error(exc: object, library: str, expected: str) -> TypeError:
    # Only the type is named: the repr of a validation error, of its messages
    # or of whatever else was passed can hold the input being validated.
    kind = type(exc)
    return TypeError(
        f"Errors.from_{library.lower()}() takes a {library} ValidationError, "
        f"{expected}; it got an object of type {kind.__module__}.{kind.__qualname__} "
        "(its repr is not shown: it can hold the input)"
    )


# pydantic --------------------------------------------------------------------


class _PydanticError(Protocol):
    """What is read of a pydantic v2 ``ValidationError`` that outcome rebuilt."""

    def errors(self) -> list[Mapping[str, object]]: ...


def _looks_like_pydantic_error(line: object) -> bool:
    if not isinstance(line, Mapping):
        return False
    fields = cast("Mapping[str, object]", line)
    code = fields.get("type")
    return (
        type(code) is str and bool(code) and isinstance(fields.get("loc"), tuple | list)
    )


def _pydantic_lines(exc: object) -> list[Mapping[str, object]] | None:
    """The entries of ``exc.errors()``, or `None` when `exc` is not pydantic's."""
    errors_method: object = getattr(exc, "errors", None)
    if not isinstance(exc, BaseException) or not callable(errors_method):
        return None
    lines: object = errors_method()
    if not isinstance(lines, list | tuple):
        return None
    entries = list(cast("Iterable[object]", lines))
    if not all(map(_looks_like_pydantic_error, entries)):
        return None
    return cast("list[Mapping[str, object]]", entries)


def _pickling_recipe(
    exc: BaseException,
) -> tuple[Callable[..., BaseException], tuple[object, ...]] | None:
    """
    How pickling rebuilds a pydantic v2 ``ValidationError``, or `None`.

    That is the class's ``from_exception_data`` and its arguments, ``(title,
    [line, ...], input_type, hide_input)``; `None` when `exc` is not rebuilt so.
    """
    reduced: object = exc.__reduce__()
    parts = cast("tuple[object, ...]", reduced) if isinstance(reduced, tuple) else ()
    rebuild = parts[0] if parts else None
    arguments = parts[1] if len(parts) == _REDUCED_LENGTH else None
    if (
        not callable(rebuild)
        or rebuild != getattr(type(exc), "from_exception_data", None)
        or not isinstance(arguments, tuple)
        or not _looks_like_pickling_arguments(cast("tuple[object, ...]", arguments))
    ):
        return None
    return (
        cast("Callable[..., BaseException]", rebuild),
        cast("tuple[object, ...]", arguments),
    )


def _looks_like_pickling_arguments(arguments: tuple[object, ...]) -> bool:
    lines = arguments[1] if len(arguments) == _PICKLING_ARGUMENTS else None
    return isinstance(lines, list) and all(
        isinstance(line, dict) for line in cast("list[object]", lines)
    )


def _safe_pydantic_line(
    line: Mapping[str, object], *, echo_unknown_fields: bool
) -> dict[str, object]:
    """
    One pydantic error without its input.

    The ``input`` is dropped; a ctx value that is the input (a union's tag) is
    replaced by `_HIDDEN`, in a new ctx; an unknown key's ``loc`` ends, in a
    new tuple, at the object that holds the key, unless `echo_unknown_fields`.
    """
    safe = {**line, "input": None}
    code = line.get("type")
    if type(code) is not str:  # a PydanticCustomError, which holds its own ctx
        return safe
    hidden = _PYDANTIC_INPUT_CONTEXT.get(code)
    context = line.get("ctx")
    if hidden is not None and isinstance(context, Mapping) and hidden in context:
        safe["ctx"] = {**cast("Mapping[str, object]", context), hidden: _HIDDEN}
    if not echo_unknown_fields and code in _PYDANTIC_UNKNOWN_FIELD:
        safe["loc"] = tuple(cast("Iterable[object]", line["loc"]))[:-1]
    return safe


def _without_input(
    exc: BaseException, lines: list[Mapping[str, object]], *, echo_unknown_fields: bool
) -> tuple[list[Mapping[str, object]], BaseException | None]:
    """
    The errors of `exc` to convert, and the cause to keep: neither holds input.

    pydantic v2's errors are rebuilt the way pickling rebuilds them, from
    lines made safe by `_safe_pydantic_line`, with ``hide_input`` set; the
    copy, which keeps the traceback and the chained exceptions of `exc`, is the
    cause, and its errors, whose messages pydantic renders again from the safe
    ctx, are the ones converted. pydantic v1's errors, which are not rebuilt so,
    are made safe one by one, a message that showed a hidden ctx value is left
    out (the code's template renders instead), and `exc` is the cause only when
    nothing of it had to be hidden: its repr shows every ctx and ``loc``.
    """
    recipe = _pickling_recipe(exc)
    if recipe is None:
        converted: list[Mapping[str, object]] = []
        hid_something = False
        for line in lines:
            safe = _safe_pydantic_line(line, echo_unknown_fields=echo_unknown_fields)
            if safe.get("ctx") is not line.get("ctx"):
                safe["msg"] = None  # it showed the value now hidden
                hid_something = True
            hid_something = hid_something or safe["loc"] is not line["loc"]
            converted.append(safe)
        return converted, None if hid_something else exc
    copy = _rebuilt_without_input(exc, recipe, echo_unknown_fields=echo_unknown_fields)
    return cast("_PydanticError", copy).errors(), copy


def _rebuilt_without_input(
    exc: BaseException,
    recipe: tuple[Callable[..., BaseException], tuple[object, ...]],
    *,
    echo_unknown_fields: bool,
) -> BaseException:
    """`exc` rebuilt by its pickling `recipe` from safe lines, ``hide_input`` set."""
    rebuild, (title, pickled, input_type, _) = recipe
    copy = rebuild(
        title,
        [
            _safe_pydantic_line(line, echo_unknown_fields=echo_unknown_fields)
            for line in cast("list[dict[str, object]]", pickled)
        ],
        input_type,
        True,  # noqa: FBT003 - hide_input, by position as pickling passes it
    )
    copy.__cause__ = exc.__cause__
    copy.__context__ = exc.__context__
    return copy.with_traceback(exc.__traceback__)


def _pydantic_params(code: str, context: object) -> dict[str, object]:
    """
    The params of one pydantic error: its ctx, less what holds input.

    Left out: the ctx value that is the input (`_PYDANTIC_INPUT_CONTEXT`) and
    any exception, such as the ``error`` of a ``value_error`` or an
    ``assertion_error``: its repr is Python's, not a message, and its text is
    in the error's message already. The ctx names of pydantic's known types
    are given the names of the built-in templates (`_PYDANTIC_PARAM_NAMES`:
    ``gt`` is ``count``), unless the ctx holds that name already.
    """
    if type(context) is not dict and not isinstance(context, Mapping):
        return _params(context)
    hidden = _PYDANTIC_INPUT_CONTEXT.get(code)
    given = cast("Mapping[object, object]", context)
    renames = _PYDANTIC_PARAM_NAMES.get(code, {})
    kept: dict[object, object] = {}
    checked = True  # every name kept was checked before: _params keeps it
    for name, value in given.items():
        if name == hidden or isinstance(value, BaseException):
            continue
        renamed = renames.get(name, name) if type(name) is str else name
        name_kept = name if renamed in given else renamed
        kept[name_kept] = value
        checked = checked and name_kept in _CHECKED_NAMES and type(name_kept) is str
    return cast("dict[str, object]", kept) if checked else _params(kept)


def _pydantic_default(code: str, message: object, *, echoed: bool) -> str | None:
    """
    The default template of one pydantic error, or None when it needs none.

    A type with a built-in template needs none, but for the few whose built-in
    one would be wrong (`_PYDANTIC_TEMPLATES`, and an unknown key kept under
    its own name). Else pydantic's own text, as a fallback that a catalog still
    beats: the words of a validator's exception without pydantic's ``Value
    error, `` before them, and braces escaped, since it is finished text.
    """
    if echoed and code in _PYDANTIC_UNKNOWN_FIELD:
        return _PYDANTIC_ECHOED_TEMPLATE
    template = _PYDANTIC_TEMPLATES.get(code)
    if template is not None:
        return template
    if code in DEFAULT_MESSAGES or message is None:
        return None
    text = _plain_text(message)
    prefix = _PYDANTIC_PREFIXES.get(code)
    if prefix is not None and text.startswith(prefix) and len(text) > len(prefix):
        text = text[len(prefix) :]
    return text.replace("{", "{{").replace("}", "}}")


def _with_default(params: dict[str, object], default: str | None) -> dict[str, object]:
    """
    `params` with `default` as the default template, when there is one.

    A ctx entry of that name (a ``PydanticCustomError``'s) is renamed as
    any other name that would stand for something else, so that it is never
    taken for a template.
    """
    held = params.pop(_DEFAULT_MESSAGE_PARAM, _NOTHING)
    if held is not _NOTHING:
        name = _PREFIX + _DEFAULT_MESSAGE_PARAM
        while name in params:
            name = _PREFIX + name
        params[name] = held
    if default is not None:
        params[_DEFAULT_MESSAGE_PARAM] = default
    return params


def _from_pydantic(  # noqa: C901, PLR0912, PLR0915 - one pass, inlined for speed
    exc: BaseException, *, echo_unknown_fields: bool = False
) -> dict[_Key, ErrorDetail]:
    """
    Convert a pydantic ``ValidationError``; see `Errors.from_pydantic`.

    The details come by key, the first of equal ones kept, as `Errors`
    holds them.

    Each entry of ``exc.errors()`` becomes one error: its ``loc`` is the path
    (``()``, as a ``model_validator`` gives, is the base), its ``type`` the
    code and its ``ctx`` the params, under the built-in templates' names
    (`_pydantic_params`). No message is set, so that a catalog can translate
    it: the types with a built-in template render it; for the others,
    pydantic's ``msg`` is the error's default template (`_pydantic_default`),
    which a catalog beats. The ``input`` (and the ``url``) is dropped, always:
    the rejected value may be personal data, so it is never stored. Nor is
    what pydantic copies of it elsewhere: a union's tag (``union_tag_invalid``)
    or the character a UUID stumbled on is left out of the params and shown as
    `_HIDDEN` in pydantic's message, and an ``extra_forbidden`` error is put at
    the object that holds the unknown key, unless `echo_unknown_fields`. A ctx
    value that is an exception (the ``error`` of a ``value_error``) is not a
    param; its text is in the message already.

    The segments pydantic puts in ``loc`` for unions and validators, such as
    ``'list[int]'`` or ``'function-after[check(), int]'``, are kept as they
    are. A segment that is neither a name nor a non-negative index is turned
    into its text, and an empty name (an empty dict key) becomes ``"''"``.
    Params are renamed as the module says (``ctx={"path": ...}`` becomes the
    param ``param_path``).

    pydantic-core's own ``ValidationError`` converts in one pass: its errors
    are read once, without their inputs and urls (``errors(include_url=False,
    include_input=False)``), and not checked again: pydantic made them, so
    each ``loc`` is a tuple of str and int and each ``type`` a str. The
    errors are converted as the general way converts what the copy
    `_without_input` makes gives: the same ``type``, ``loc``, ``msg`` and
    ``ctx``, but where `_safe_pydantic_line` hides a ctx value, which no
    param keeps; a ``msg`` that would then differ is never read, as its code
    has a built-in template. That copy is the errors' `_PendingCause`, made
    by `_pydantic_copy` when a log or a tracker first asks for it; until
    then the errors hold `exc`, as its traceback holds the frames that had
    the input, and show nothing of it. The general way
    (`_from_pydantic_general`) converts it instead when a line is not so (an
    empty ``type``, or a hidden ctx value of a code without a built-in
    template, or an unknown key), when two errors are equal, and for a
    pydantic-core whose ``errors()`` cannot leave the inputs out.

    Raises:
        TypeError: When `exc` is not an exception whose ``errors()`` returns a
            list of dicts with a ``type`` and a ``loc``.
    """
    if type(exc) is not _pydantic_core_error_class():
        return _from_pydantic_general(exc, echo_unknown_fields=echo_unknown_fields)
    core: Any = exc  # pydantic-core's ValidationError, which is not imported
    try:
        lines: list[dict[str, Any]] = core.errors(
            include_url=False, include_input=False
        )
    except TypeError:  # a pydantic-core older than include_input
        return _from_pydantic_general(exc, echo_unknown_fields=echo_unknown_fields)
    # The chain and the traceback as they are now, should `exc` be raised on.
    cause = _PendingCause(
        _pydantic_copy,
        (
            exc,
            exc.__cause__,
            exc.__context__,
            exc.__traceback__,
            echo_unknown_fields,
        ),
    )
    details: dict[_Key, ErrorDetail] = {}
    held: _Params
    params_key: _ParamsKey
    for line in lines:
        code = line["type"]
        context: dict[object, object] | None = line.get("ctx")
        if type(code) is str and code in _PYDANTIC_PLAIN_CODES:
            # A known type, whose line _safe_pydantic_line leaves as it is.
            loc = line["loc"]
            if context is None:
                held = _NO_PARAMS_PAIR
                params_key = _NO_PARAMS_KEY
            elif type(context) is dict and len(context) == 1:
                # The common ctx, inline: one plain value under a name checked
                # before, once renamed, as _pydantic_line_params would give it.
                [name] = context
                value = context[name]
                renames = _PYDANTIC_PARAM_NAMES.get(code)
                if renames is not None and type(name) is str:
                    name = renames.get(name, name)
                if (
                    type(name) is str
                    and name in _CHECKED_NAMES
                    and name != _DEFAULT_MESSAGE_PARAM
                    and (
                        (
                            type(value) is int
                            and _NEGATIVE_SMALL_INT <= value <= _SMALL_INT
                        )
                        or type(value) is str
                        or type(value) is bool
                        or (type(value) is float and value - value == 0.0)
                    )
                ):
                    held = {name: value}
                    params_key = (name, value)
                else:
                    held, params_key = _pydantic_line_params(
                        code, None, context, echoed=False
                    )
            else:
                held, params_key = _pydantic_line_params(
                    code, None, context, echoed=False
                )
        elif type(code) is not str or not code or code in _PYDANTIC_SAFE_LINE_CODES:
            special = _special_pydantic_line(
                line, echo_unknown_fields=echo_unknown_fields
            )
            if special is None:
                return _from_pydantic_general(
                    exc, echo_unknown_fields=echo_unknown_fields
                )
            code, loc, held, params_key = special
        else:
            # A type without a built-in template: pydantic's msg is its default.
            loc = line["loc"]
            message = line["msg"]
            prefix = _PYDANTIC_VALIDATOR_PREFIXES.get(code)
            if (
                prefix is not None
                and type(message) is str
                and type(context) is dict
                and len(context) == 1
                and isinstance(context.get(_PYDANTIC_VALIDATOR_ERROR), BaseException)
                and _DEFAULT_MESSAGE_PARAM in _CHECKED_NAMES
            ):
                # A validator's exception, inline: its ctx, the exception, is
                # no param, and its words, less pydantic's prefix, the default.
                if message.startswith(prefix) and len(message) > len(prefix):
                    message = message[len(prefix) :]
                if "{" in message or "}" in message:
                    message = message.replace("{", "{{").replace("}", "}}")
                held = {_DEFAULT_MESSAGE_PARAM: message}
                params_key = (_DEFAULT_MESSAGE_PARAM, message)
            else:
                held, params_key = _pydantic_line_params(
                    code, message, context, echoed=echo_unknown_fields
                )
        try:
            path = _PYDANTIC_PATHS[loc]
        except KeyError:
            path = _pydantic_path(loc)
        key = (path, code, None, params_key)
        # ErrorDetail._build, inline: every field is checked above.
        detail = _allocate(ErrorDetail)
        detail._key = key  # noqa: SLF001
        detail._params = held  # noqa: SLF001
        detail._bucket = _USER_FIXABLE  # noqa: SLF001
        detail._cause = cause  # noqa: SLF001
        detail._status = None  # noqa: SLF001
        details[key] = detail
    if len(details) == len(lines):
        return details
    # Equal errors: the general way keeps the first of each.
    return _from_pydantic_general(exc, echo_unknown_fields=echo_unknown_fields)


def _from_pydantic_general(
    exc: BaseException, *, echo_unknown_fields: bool
) -> dict[_Key, ErrorDetail]:
    """`_from_pydantic` by ``exc.errors()``, for what its one pass leaves."""
    lines = _pydantic_lines(exc)
    if lines is None:
        raise _not_an_error(
            exc,
            "pydantic",
            "an exception whose errors() returns a list of dicts with 'type' and 'loc'",
        )
    converted, cause = _without_input(
        exc, lines, echo_unknown_fields=echo_unknown_fields
    )
    errors: list[ErrorDetail] = []
    for line in converted:
        location = cast("Iterable[object]", line["loc"])
        code = cast("str", line["type"])
        default = _pydantic_default(code, line.get("msg"), echoed=echo_unknown_fields)
        params = _with_default(_pydantic_params(code, line.get("ctx")), default)
        errors.append(
            ErrorDetail(
                tuple(map(_segment, location)),
                code,
                params=params,
                bucket=Bucket.USER_FIXABLE,
                cause=cause,
            )
        )
    held: dict[_Key, ErrorDetail] = {}
    for detail in errors:
        held.setdefault(_key_of(detail), detail)
    return held


def _pydantic_core_error_class() -> type[BaseException] | None:
    """pydantic-core's own ``ValidationError``, if pydantic-core was imported."""
    core = sys.modules.get("pydantic_core")
    found: type[BaseException] | None = getattr(core, "ValidationError", None)
    return found


def _pydantic_copy(
    exc: BaseException,
    exc_cause: BaseException | None,
    exc_context: BaseException | None,
    traceback: TracebackType | None,
    echo_unknown_fields: bool,  # noqa: FBT001 - the pending cause's arguments
) -> BaseException:
    """
    The copy of pydantic-core's `exc` that `_without_input` makes.

    With the chained exceptions and the traceback `exc` had when converted;
    pydantic-core's own class pickles by ``from_exception_data``.
    """
    recipe: Any = exc.__reduce__()
    copy = _rebuilt_without_input(exc, recipe, echo_unknown_fields=echo_unknown_fields)
    copy.__cause__ = exc_cause
    copy.__context__ = exc_context
    return copy.with_traceback(traceback)


def _special_pydantic_line(
    line: dict[str, object], *, echo_unknown_fields: bool
) -> tuple[str, object, _Params, _ParamsKey] | None:
    """
    The code, loc and params of a line `_safe_pydantic_line` changes, or None.

    None when the line is one `_from_pydantic` leaves to the general way: an
    empty type, a hidden ctx value whose msg would show it, or an unknown
    key. ``errors()`` names a validator's `PydanticCustomError` by its type
    alone, so only the general way, which reads pydantic's own lines, can
    tell pydantic's unknown key (whose loc ends at the key) from a custom
    error named ``extra_forbidden`` (whose loc is a field).
    """
    code = line["type"]
    context = line.get("ctx")
    if type(code) is not str or not code or code in _PYDANTIC_UNKNOWN_FIELD:
        return None
    safe = _safe_pydantic_line(line, echo_unknown_fields=echo_unknown_fields)
    if safe.get("ctx") is not context and code not in DEFAULT_MESSAGES:
        return None  # its msg would show what is now hidden
    held, params_key = _pydantic_line_params(
        code, line["msg"], context, echoed=echo_unknown_fields
    )
    return code, line["loc"], held, params_key


def _pydantic_line_params(
    code: str, message: object, context: object, *, echoed: bool
) -> tuple[_Params, _ParamsKey]:
    """The params of one pydantic error, as `_from_pydantic` makes them, frozen."""
    params = _pydantic_params(code, context) if context else {}
    params = _with_default(params, _pydantic_default(code, message, echoed=echoed))
    return _freeze_fresh_params(params) if params else _FROZEN_NOTHING


def _pydantic_path(loc: object) -> Path:
    """
    The path of a pydantic ``loc``: its segments as `_segment` makes them.

    Remembered by ``loc``, whose segments are str and int only, so that no
    equal but other segment (a bool, a float) can find the path of another.
    """
    path = _to_path(tuple(map(_segment, cast("tuple[object, ...]", loc))))
    if len(_PYDANTIC_PATHS) >= _PYDANTIC_PATHS_LIMIT:
        _PYDANTIC_PATHS.clear()  # bounded: locs with many distinct indices
    _PYDANTIC_PATHS[loc] = path
    return path


# Django ----------------------------------------------------------------------


def _render_django_message(message: object, params: object) -> str:
    """
    Render `message` as Django does: ``message % params`` when there are params.

    The ``%`` is applied to the message itself, not to its text: the lazy
    message of ``ngettext_lazy`` picks its plural form from the params there.
    """
    if params:
        try:
            # Typed as a str for its %; at run time the message's own % runs.
            return _plain_text(cast("str", message) % params)
        except (KeyError, TypeError, ValueError):
            # A template that does not fit its params: keep it unrendered
            # rather than fail while reporting the errors it describes.
            pass
    return _plain_text(message)


def _shown_params(params: object) -> object:
    """The params of one Django error with its ``value`` shown as `_HIDDEN`."""
    if not isinstance(params, Mapping):
        return params
    given = cast("Mapping[str, object]", params)
    if _DJANGO_INPUT_PARAM not in given:
        return given
    return {**given, _DJANGO_INPUT_PARAM: _HIDDEN}


def _django_detail(
    item: object, path: Path, cause: BaseException | None
) -> ErrorDetail:
    message: object = getattr(item, "message", item)  # a plain str has no .message
    code: object = getattr(item, "code", None)
    raw_params: object = getattr(item, "params", None)
    return _detail(
        path,
        _plain_text(code) if code else "invalid",
        _render_django_message(message, _shown_params(raw_params)),
        _params(raw_params, drop=_DJANGO_INPUT_PARAM),
        cause,
    )


def _django_item_without_value(item: object) -> object:
    """One error of a Django ``ValidationError``, made again without its value."""
    if not hasattr(item, "message"):
        return item  # a plain message, as an error_dict filled by hand may hold
    make = cast("Callable[..., object]", type(item))
    return make(
        getattr(item, "message", None),
        getattr(item, "code", None),
        _shown_params(getattr(item, "params", None)),
    )


def _django_without_value(
    exc: BaseException, fields: list[tuple[object, object]]
) -> BaseException | None:
    """
    A copy of a Django ``ValidationError`` that holds no value, or `None`.

    Django keeps the rejected value in each error's ``value`` param, which its
    str and repr render, and raises most errors while handling the failed
    conversion (``int()``'s ``ValueError``), whose text shows the value too. So
    the copy is made again from the messages, codes and params, each
    ``value`` shown as `_HIDDEN`, the way Django's ``ValidationError`` takes
    them; it keeps the traceback and the ``__cause__`` of `exc`, but not the
    exception `exc` was raised while handling. `None` when `exc`'s class is
    not made the way Django's is.
    """
    make = cast("Callable[..., BaseException]", type(exc))
    items = cast("list[tuple[object, Iterable[object]]]", fields)
    try:
        if isinstance(getattr(exc, "error_dict", None), Mapping):
            copy = make(
                {
                    field: [_django_item_without_value(item) for item in errors]
                    for field, errors in items
                }
            )
        elif hasattr(exc, "message"):  # one message: its error_list is [exc]
            copy = cast("BaseException", _django_item_without_value(exc))
        else:
            copy = make(
                [
                    _django_item_without_value(item)
                    for _, errors in items
                    for item in errors
                ]
            )
    except Exception:  # noqa: BLE001 - any failure of a class not made as Django's is
        return None
    copy.__cause__ = exc.__cause__
    return copy.with_traceback(exc.__traceback__)


def _django_fields(exc: object) -> list[tuple[object, object]] | None:
    """
    The errors of `exc` by field (`None` for ``error_list``), or `None`.

    `None` is returned when `exc` is not a Django ``ValidationError``.
    """
    if not isinstance(exc, BaseException):
        return None
    error_dict: object = getattr(exc, "error_dict", None)
    if isinstance(error_dict, Mapping):
        return list(cast("Mapping[object, object]", error_dict).items())
    error_list: object = getattr(exc, "error_list", None)
    if isinstance(error_list, list):
        return [(None, cast("object", error_list))]
    return None


def _from_django(exc: BaseException) -> list[ErrorDetail]:
    """
    Convert a Django ``ValidationError``; see `Errors.from_django`.

    With an ``error_dict``, each field's errors get the field as their path,
    and the non-field errors (``"__all__"``, Django's ``NON_FIELD_ERRORS``, or
    `None`) go to the base; otherwise every error of ``error_list`` is at the
    base. The code is the error's ``code``, or ``"invalid"`` when it has none.
    The message is rendered as Django renders it, ``message % params``, so
    lazy translations are resolved with the active language; a template that
    does not fit its params is kept unrendered.

    The params are kept, renamed as the module says, except ``value``: Django's
    fields and validators put the rejected value there, and it is never stored.
    A message that shows it (``“%(value)s” value must be an integer.``) shows
    `_HIDDEN` in its place. A tuple of params is named by position
    (``param_0``, ``param_1``...). The cause is a copy of `exc` without the
    value (see `_django_without_value`), or `None` when none can be made.

    Raises:
        TypeError: When `exc` is not an exception with a dict ``error_dict``
            or a list ``error_list``.
    """
    fields = _django_fields(exc)
    if fields is None:
        raise _not_an_error(
            exc, "Django", "an exception with an error_dict or an error_list"
        )
    cause = _django_without_value(exc, fields)
    errors: list[ErrorDetail] = []
    for field, items in fields:
        path = _BASE if field in _DJANGO_BASE_FIELDS else (_segment(field),)
        errors.extend(
            _django_detail(item, path, cause)
            for item in cast("Iterable[object]", items)
        )
    return errors


# marshmallow -----------------------------------------------------------------


def _walk_marshmallow(
    node: object, path: Path, cause: BaseException | None, errors: list[ErrorDetail]
) -> None:
    if isinstance(node, Mapping):
        for key, child in cast("Mapping[object, object]", node).items():
            child_path = path if key == _MARSHMALLOW_SCHEMA else (*path, _segment(key))
            _walk_marshmallow(child, child_path, cause, errors)
    elif isinstance(node, list | tuple):
        for child in cast("Iterable[object]", node):
            _walk_marshmallow(child, path, cause, errors)
    else:
        errors.append(_detail(path, "invalid", _plain_text(node), {}, cause))


def _is_unknown_field(messages: object) -> bool:
    """Whether `messages` are those marshmallow gives a key the schema lacks."""
    if not isinstance(messages, list):
        return False
    given = cast("list[object]", messages)
    return bool(given) and all(message == _MARSHMALLOW_UNKNOWN for message in given)


def _without_unknown_keys(node: object) -> object:
    """
    `node` with each unknown key's messages under its object's ``_schema``.

    So an unknown key's error is at the object that holds the key, where
    the walk puts ``_schema`` errors, and the key, which whoever sent the
    input chose, is not kept. The ``_schema`` entry stays where it was, or
    takes the place of the first unknown key.
    """
    if isinstance(node, list | tuple):
        return [
            _without_unknown_keys(child) for child in cast("Iterable[object]", node)
        ]
    if not isinstance(node, Mapping):
        return node
    folded: dict[object, object] = {}
    unknown = False
    for key, child in cast("Mapping[object, object]", node).items():
        if key != _MARSHMALLOW_SCHEMA and _is_unknown_field(child):
            unknown = True
            folded.setdefault(_MARSHMALLOW_SCHEMA, [])
        else:
            folded[key] = _without_unknown_keys(child)
    if unknown:
        schema = folded[_MARSHMALLOW_SCHEMA]
        held = (
            list(cast("Iterable[object]", schema))
            if isinstance(schema, list)
            else [schema]
        )
        folded[_MARSHMALLOW_SCHEMA] = [*held, _MARSHMALLOW_UNKNOWN]
    return folded


def _marshmallow_parts(exc: object) -> tuple[object, object] | None:
    """The messages and field name of `exc`, or `None` when it is not marshmallow's."""
    messages: object = getattr(exc, "messages", None)
    if (
        not isinstance(exc, BaseException)
        or not hasattr(exc, "field_name")
        or not isinstance(messages, Mapping | list | tuple | str)
    ):
        return None
    return cast("object", messages), getattr(exc, "field_name", _MARSHMALLOW_SCHEMA)


def _keyed_by_field(messages: object, field_name: object) -> object:
    """
    `messages` keyed by field.

    A dict of messages under the ``_schema`` field is keyed already; anything
    else is put under its field, as marshmallow's ``normalized_messages()`` does.
    """
    if field_name == _MARSHMALLOW_SCHEMA and isinstance(messages, Mapping):
        return cast("object", messages)
    return {field_name: messages}


def _marshmallow_without_input(
    exc: BaseException, messages: object, field_name: object
) -> BaseException | None:
    """
    A copy of a marshmallow ``ValidationError`` without the input, or `None`.

    marshmallow keeps the whole input as ``data`` and what it had loaded as
    ``valid_data``; the copy holds only `messages`, the field name and the
    extra keyword arguments, with the traceback and the chained exceptions.
    `None` when `exc`'s class is not made the way marshmallow's is.
    """
    make = cast("Callable[..., BaseException]", type(exc))
    extra: object = getattr(exc, "kwargs", None)
    try:
        copy = make(
            messages,
            field_name,
            **(cast("dict[str, object]", extra) if isinstance(extra, dict) else {}),
        )
    except Exception:  # noqa: BLE001 - any failure of a class not made as marshmallow's is
        return None
    copy.__cause__ = exc.__cause__
    copy.__context__ = exc.__context__
    return copy.with_traceback(exc.__traceback__)


def _from_marshmallow(
    exc: BaseException, *, echo_unknown_fields: bool = False
) -> list[ErrorDetail]:
    """
    Convert a marshmallow ``ValidationError``; see `Errors.from_marshmallow`.

    ``exc.messages`` is walked: dict keys become path segments (``int`` keys,
    from ``fields.List`` and ``many=True``, become indices, as do the ``int``
    keys of a ``fields.Dict``), ``_schema`` keys add nothing, so
    ``@validates_schema`` errors go to the base, and each message in a list is
    one error at that path. A list or a str of messages, as a
    ``ValidationError`` raised by hand holds, is under its ``field_name``
    (the base for ``_schema``, the default). marshmallow has no codes, so each
    error's code is ``"invalid"`` and its message is kept.

    A key the schema does not know, whose messages are marshmallow's
    ``"Unknown field."``, is not a path: its error is at the object that holds
    it, unless `echo_unknown_fields`. (A schema whose ``error_messages`` give
    ``unknown`` other words has its unknown keys kept as paths.) The cause is
    a copy of `exc` without the input; see `_marshmallow_without_input`.

    Raises:
        TypeError: When `exc` is not an exception with a ``field_name`` and
            ``messages`` that are a dict, a list or a str.
    """
    parts = _marshmallow_parts(exc)
    if parts is None:
        raise _not_an_error(
            exc,
            "marshmallow",
            "an exception with a field_name and messages that are a dict, "
            "a list or a str",
        )
    messages, field_name = parts
    if not echo_unknown_fields:
        messages = _without_unknown_keys(messages)
    cause = _marshmallow_without_input(exc, messages, field_name)
    errors: list[ErrorDetail] = []
    _walk_marshmallow(_keyed_by_field(messages, field_name), _BASE, cause, errors)
    return errors
