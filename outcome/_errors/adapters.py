"""
Convert the validation errors of pydantic, Django and marshmallow into details.

Each library is read by duck typing, from the attributes its ``ValidationError``
has; none of them is imported here, so none is needed to use the rest of the
package. Every converted error is `Bucket.USER_FIXABLE` and keeps, as its
`cause`, the exception it came from: for pydantic, a copy of it that holds no
input, since pydantic's repr shows each rejected value.

Param names are made safe for `ErrorDetail`: a name that is not an identifier
has each offending character replaced by ``_``, and a name that would shadow a
field of `ErrorDetail` (``path``, ``code``, ``message``, ``params``,
``bucket``, ``cause``), or that still does not start like an identifier, is
prefixed with ``param_``. The prefix is repeated until the name is free, and
names that were already valid keep their spelling, so nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final, cast

from outcome._bucket import Bucket
from outcome._errors.detail import ErrorDetail
from outcome._errors.params import _RESERVED_PARAMS as _RESERVED_NAMES
from outcome._errors.paths import _BASE, Path

_PREFIX: Final = "param_"
_EMPTY_NAME: Final = "''"
_DJANGO_BASE_FIELDS: Final = (None, "__all__")
_DJANGO_INPUT_PARAM: Final = "value"
_MARSHMALLOW_SCHEMA: Final = "_schema"
_REDUCED_LENGTH: Final = 2  # (rebuild, arguments)
_PICKLING_ARGUMENTS: Final = 4  # (title, lines, input_type, hide_input)


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
    exc: BaseException,
) -> ErrorDetail:
    # The libraries' messages are finished text, not templates: escape their
    # braces so that rendering gives them back as they were.
    literal = None if message is None else message.replace("{", "{{").replace("}", "}}")
    return ErrorDetail(
        path, code, literal, params=params, bucket=Bucket.USER_FIXABLE, cause=exc
    )


def _not_an_error(exc: object, library: str, expected: str) -> TypeError:
    return TypeError(
        f"Errors.from_{library.lower()}() takes a {library} ValidationError, "
        f"{expected}; it got {exc!r} (of type {type(exc).__name__})"
    )


# pydantic --------------------------------------------------------------------


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


def _without_input(exc: BaseException) -> BaseException:
    """
    A copy of a pydantic v2 ``ValidationError`` that holds no input, else `exc`.

    pydantic's repr shows every rejected value, so the exception kept as the
    cause is rebuilt the way pickling rebuilds it, with each input dropped and
    ``hide_input`` set. The copy keeps the traceback and the chained exceptions
    of the original. An exception that is not rebuilt so (pydantic v1's, whose
    repr shows no input) is kept as it is.
    """
    recipe = _pickling_recipe(exc)
    if recipe is None:
        return exc
    rebuild, (title, lines, input_type, _) = recipe
    copy = rebuild(
        title,
        [{**line, "input": None} for line in cast("list[dict[str, object]]", lines)],
        input_type,
        True,  # noqa: FBT003 - hide_input, by position as pickling passes it
    )
    copy.__cause__ = exc.__cause__
    copy.__context__ = exc.__context__
    return copy.with_traceback(exc.__traceback__)


def _from_pydantic(exc: BaseException) -> list[ErrorDetail]:
    """
    Convert a pydantic v2 ``ValidationError``; see `Errors.from_pydantic`.

    Each entry of ``exc.errors()`` becomes one error: its ``loc`` is the path
    (``()``, as a ``model_validator`` gives, is the base), its ``type`` the
    code, its ``ctx`` the params and its ``msg`` the message. The ``input``
    (and the ``url``) is dropped, always: the rejected value may be personal
    data, so it is never stored.

    The segments pydantic puts in ``loc`` for unions and validators, such as
    ``'list[int]'`` or ``'function-after[check(), int]'``, are kept as they
    are. A segment that is neither a name nor a non-negative index is turned
    into its text, and an empty name (an empty dict key) becomes ``"''"``.
    Params are renamed as the module says (``ctx={"path": ...}`` becomes the
    param ``param_path``); their values, which may be exceptions, are kept.

    Raises:
        TypeError: When `exc` is not an exception whose ``errors()`` returns a
            list of dicts with a ``type`` and a ``loc``.
    """
    lines = _pydantic_lines(exc)
    if lines is None:
        raise _not_an_error(
            exc,
            "pydantic",
            "an exception whose errors() returns a list of dicts with 'type' and 'loc'",
        )
    cause = _without_input(exc)
    errors: list[ErrorDetail] = []
    for line in lines:
        location = cast("Iterable[object]", line["loc"])
        message = line.get("msg")
        errors.append(
            _detail(
                tuple(map(_segment, location)),
                cast("str", line["type"]),
                _plain_text(message) if message is not None else None,
                _params(line.get("ctx")),
                cause,
            )
        )
    return errors


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


def _django_detail(item: object, path: Path, exc: BaseException) -> ErrorDetail:
    message: object = getattr(item, "message", item)  # a plain str has no .message
    code: object = getattr(item, "code", None)
    raw_params: object = getattr(item, "params", None)
    return _detail(
        path,
        _plain_text(code) if code else "invalid",
        _render_django_message(message, raw_params),
        _params(raw_params, drop=_DJANGO_INPUT_PARAM),
        exc,
    )


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
    validators put the rejected value there, and it is never stored. A tuple of
    params is named by position (``param_0``, ``param_1``...).

    Raises:
        TypeError: When `exc` is not an exception with a dict ``error_dict``
            or a list ``error_list``.
    """
    fields = _django_fields(exc)
    if fields is None:
        raise _not_an_error(
            exc, "Django", "an exception with an error_dict or an error_list"
        )
    errors: list[ErrorDetail] = []
    for field, items in fields:
        path = _BASE if field in _DJANGO_BASE_FIELDS else (_segment(field),)
        errors.extend(
            _django_detail(item, path, exc) for item in cast("Iterable[object]", items)
        )
    return errors


# marshmallow -----------------------------------------------------------------


def _walk_marshmallow(
    node: object, path: Path, exc: BaseException, errors: list[ErrorDetail]
) -> None:
    if isinstance(node, Mapping):
        for key, child in cast("Mapping[object, object]", node).items():
            child_path = path if key == _MARSHMALLOW_SCHEMA else (*path, _segment(key))
            _walk_marshmallow(child, child_path, exc, errors)
    elif isinstance(node, list | tuple):
        for child in cast("Iterable[object]", node):
            _walk_marshmallow(child, path, exc, errors)
    else:
        errors.append(_detail(path, "invalid", _plain_text(node), {}, exc))


def _marshmallow_messages(exc: object) -> Mapping[object, object] | None:
    """
    The messages of `exc` keyed by field, or `None` when it is not marshmallow's.

    A dict of messages under the ``_schema`` field is keyed already; anything
    else is put under its field, as marshmallow's ``normalized_messages()`` does.
    """
    messages: object = getattr(exc, "messages", None)
    if (
        not isinstance(exc, BaseException)
        or not hasattr(exc, "field_name")
        or not isinstance(messages, Mapping | list | tuple | str)
    ):
        return None
    field_name: object = getattr(exc, "field_name", _MARSHMALLOW_SCHEMA)
    if field_name == _MARSHMALLOW_SCHEMA and isinstance(messages, Mapping):
        return cast("Mapping[object, object]", messages)
    return {field_name: cast("object", messages)}


def _from_marshmallow(exc: BaseException) -> list[ErrorDetail]:
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

    Raises:
        TypeError: When `exc` is not an exception with a ``field_name`` and
            ``messages`` that are a dict, a list or a str.
    """
    messages = _marshmallow_messages(exc)
    if messages is None:
        raise _not_an_error(
            exc,
            "marshmallow",
            "an exception with a field_name and messages that are a dict, "
            "a list or a str",
        )
    errors: list[ErrorDetail] = []
    _walk_marshmallow(messages, _BASE, exc, errors)
    return errors
