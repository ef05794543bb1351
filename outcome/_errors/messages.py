"""Messages: templates by code, rendered when read, and redaction of bugs."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias

from outcome._bucket import Bucket
from outcome._errors.params import _copy_plain, _Params, _safe_repr

if TYPE_CHECKING:
    from collections.abc import Mapping

    from outcome._errors.paths import Path

# Bucket's members as plain globals: an Enum member read from its class goes
# through EnumType.__getattr__, over ten times slower on Python 3.11.
_PROGRAMMER_ERROR: Final = Bucket.PROGRAMMER_ERROR
_USER_FIXABLE: Final = Bucket.USER_FIXABLE

_PLACEHOLDER: Final = re.compile(r"\{\{|\}\}|\{(\w+)\}")


class _Detail(Protocol):
    """What rendering reads of an error: `ErrorDetail` has it all."""

    @property
    def path(self) -> Path: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str | None: ...
    @property
    def params(self) -> Mapping[str, object]: ...
    @property
    def bucket(self) -> Bucket: ...
    @property
    def reference(self) -> str: ...
    @property
    def _plain_params(self) -> Mapping[str, object]: ...
    @property
    def _given_params(self) -> Mapping[str, object]: ...
    @property
    def _params(self) -> _Params: ...


# The built-in templates as a dict, which the rendering reads: a view reads
# its dict through a call more.
_DEFAULT_TEMPLATES: Final[dict[str, str]] = {
    "accepted": "must be accepted",
    "blank": "can't be blank",
    "confirmation": "doesn't match",
    "empty": "can't be empty",
    "equal_to": "must be equal to {count}",
    "even": "must be even",
    "exclusion": "is reserved",
    "expired": "has expired",
    "greater_than": "must be greater than {count}",
    "greater_than_or_equal_to": "must be greater than or equal to {count}",
    "inclusion": "is not included in the list",
    "invalid": "is invalid",
    "less_than": "must be less than {count}",
    "less_than_or_equal_to": "must be less than or equal to {count}",
    "not_a_number": "is not a number",
    "not_an_integer": "must be an integer",
    "odd": "must be odd",
    "other_than": "must be other than {count}",
    "out_of_range": "must be between {minimum} and {maximum}",
    "present": "must be blank",
    "required": "is required",
    "taken": "has already been taken",
    "too_long": "is too long (maximum is {maximum} characters)",
    "too_short": "is too short (minimum is {minimum} characters)",
    "wrong_length": "is the wrong length (should be {length} characters)",
    # The kinds of Decision, for errors made from caught exceptions.
    "auth": "could not be checked because of a configuration problem",
    "conflict": "was changed by someone else at the same time; try again",
    "connection": "could not be reached; try again shortly",
    "declined": "was declined",
    "not_found": "could not be found",
    "quota": "is unavailable: the usage limit has been reached",
    "rate_limit": "is busy; try again in a moment",
    "server": "is not working right now; try again later",
    "timeout": "took too long to answer; try again shortly",
    "unavailable": "is unavailable right now",
    "validation": "is invalid",
    # pydantic's error types, with its ctx under the names above.
    "missing": "is required",
    "extra_forbidden": "has a field that is not allowed",
    "frozen_field": "cannot be changed",
    "frozen_instance": "cannot be changed",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "dict_type": "must be an object",
    "mapping_type": "must be an object",
    "greater_than_equal": "must be greater than or equal to {count}",
    "less_than_equal": "must be less than or equal to {count}",
    "multiple_of": "must be a multiple of {count}",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "string_unicode": "must be a string",
    "string_too_short": "is too short (minimum length: {minimum})",
    "string_too_long": "is too long (maximum length: {maximum})",
    "string_pattern_mismatch": "is not in the expected format",
    "string_not_ascii": "must contain only ASCII characters",
    "bytes_type": "must be a string",
    "bytes_too_short": "is too short (minimum length: {minimum})",
    "bytes_too_long": "is too long (maximum length: {maximum})",
    "bytes_invalid_encoding": "must be valid {encoding}",
    "base64_decode": "must be valid base64",
    "enum": "must be {expected}",
    "literal_error": "must be {expected}",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "int_parsing_size": "is too large",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "decimal_max_digits": "must have at most {maximum} digits",
    "decimal_max_places": "must have at most {maximum} decimal places",
    "decimal_whole_digits": (
        "must have at most {maximum} digits before the decimal point"
    ),
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "frozen_set_type": "must be a list",
    "iterable_type": "must be a list",
    "date_type": "must be a valid date",
    "date_parsing": "must be a valid date",
    "date_from_datetime_parsing": "must be a valid date",
    "date_from_datetime_inexact": "must be a date without a time",
    "date_past": "must be in the past",
    "date_future": "must be in the future",
    "datetime_type": "must be a valid date and time",
    "datetime_parsing": "must be a valid date and time",
    "datetime_from_date_parsing": "must be a valid date and time",
    "datetime_object_invalid": "must be a valid date and time",
    "datetime_past": "must be in the past",
    "datetime_future": "must be in the future",
    "time_type": "must be a valid time",
    "time_parsing": "must be a valid time",
    "time_delta_type": "must be a valid duration",
    "time_delta_parsing": "must be a valid duration",
    "timezone_naive": "must not include a time zone",
    "timezone_aware": "must include a time zone",
    "url_type": "must be a valid URL",
    "url_parsing": "must be a valid URL",
    "url_syntax_violation": "must be a valid URL",
    "url_too_long": "is too long (maximum length: {maximum})",
    "url_scheme": "must be a URL starting with {expected_schemes}",
    "uuid_type": "must be a valid UUID",
    "uuid_parsing": "must be a valid UUID",
    "uuid_version": "must be a version {expected_version} UUID",
    "json_invalid": "is not valid JSON",
    "union_tag_invalid": (
        "has an unknown {discriminator}: it must be one of {expected_tags}"
    ),
    "union_tag_not_found": "must have a {discriminator}",
    "none_required": "must be empty",
}
DEFAULT_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(_DEFAULT_TEMPLATES)
"""
The built-in English templates, by code, in the style of Rails: a fragment that
follows the field's name (``"Email can't be blank"``). ``{name}`` placeholders
are filled from the error's params. Besides Rails' codes and the kinds of
`Decision`, pydantic's common error types have one, which
`Errors.from_pydantic` fills from pydantic's ctx.

.. versionadded:: 0.1.0
"""

_BASE_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "auth": "This could not be done because of a configuration problem",
        "conflict": "Someone else changed this at the same time; try again",
        "connection": "A service we rely on could not be reached; try again shortly",
        "declined": "The payment was declined",
        "not_found": "What was asked for could not be found",
        "quota": "A service we rely on has reached its usage limit",
        "rate_limit": "A service we rely on is busy; try again in a moment",
        "server": "A service we rely on is not working right now; try again later",
        "timeout": "A service we rely on took too long to answer; try again shortly",
        "unavailable": "A service we rely on is unavailable right now",
        "validation": "Some of what was sent is invalid; check it and try again",
        # pydantic's, for a model's own errors.
        "extra_forbidden": "A field that is not allowed was sent",
        "model_type": "What was sent must be an object",
        "model_attributes_type": "What was sent must be an object",
        "dataclass_type": "What was sent must be an object",
        "dict_type": "What was sent must be an object",
        "json_invalid": "What was sent is not valid JSON",
    }
)
"""
The built-in sentences of errors about no field, by code: a fragment needs a
field to follow, and ``"Could not be reached"`` has none. Looked up, under
``"base.<code>"``, in a catalog first.
"""

_DEFAULT_MESSAGE_PARAM: Final = "default_message"
"""
The param that holds an error's own default template: used when the catalog has
no template for the error, before the built-in ones; `Errors.from_pydantic`
keeps pydantic's text there, so that a catalog can still translate it.
"""

_REDACTED_MESSAGE: Final = (
    "Something went wrong on our side. If it keeps happening, contact support "
    "and quote reference {reference}."
)
"""What end users are shown instead of the message of a programmer error."""

_REDACTED_CODE: Final = "internal_error"
"""The code end users are shown for a programmer error."""


# A template cut where its placeholders are: for each placeholder, the text
# before it, its name and itself as written; then the text after the last.
# Doubled braces are already single in the texts.
_CompiledTemplate: TypeAlias = tuple[tuple[tuple[str, str, str], ...], str]
_COMPILED_TEMPLATES: Final[dict[str, _CompiledTemplate]] = {}
# Templates are few (a catalog's, the built-in ones); messages given by hand
# and long texts are cut each time instead of held.
_COMPILED_TEMPLATES_LIMIT: Final = 1024
_COMPILED_TEMPLATE_LENGTH: Final = 500
# The built-in template of a field's error, by code, as a `str.format` string,
# made when the code is first rendered: for the codes that have one, no
# sentence of _BASE_MESSAGES, and placeholders that name identifiers.
_FIELD_FORMATS: Final[dict[str, str]] = {}


def _compile_template(template: str) -> _CompiledTemplate:
    """Cut `template` as `_PLACEHOLDER` reads it, left to right; keep it if short."""
    fields: list[tuple[str, str, str]] = []
    literal: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        literal.append(template[position : match.start()])
        position = match.end()
        name = match[1]
        if name is None:  # "{{" or "}}", as in str.format
            literal.append(match[0][0])
        else:
            fields.append(("".join(literal), name, match[0]))
            literal = []
    literal.append(template[position:])
    compiled = (tuple(fields), "".join(literal))
    if len(template) <= _COMPILED_TEMPLATE_LENGTH:
        if len(_COMPILED_TEMPLATES) >= _COMPILED_TEMPLATES_LIMIT:
            _COMPILED_TEMPLATES.clear()
        _COMPILED_TEMPLATES[template] = compiled
    return compiled


def _fill_template(template: str, params: Mapping[str, object]) -> str:
    """
    `template` with each ``{name}`` of a param replaced by its text.

    A ``{name}`` that no param has stays as it is, and ``{{`` and ``}}`` are
    single braces, as in `str.format`.
    """
    compiled = _COMPILED_TEMPLATES.get(template)
    if compiled is None:
        compiled = _compile_template(template)
    return _fill_compiled(compiled, params)


def _fill_compiled(compiled: _CompiledTemplate, params: Mapping[str, object]) -> str:
    """A template cut by `_compile_template`, filled as `_fill_template` says."""
    fields, tail = compiled
    if not fields:
        return tail
    if len(fields) == 1:  # most templates have one placeholder, if any
        [(before, name, written)] = fields
        if name not in params:
            return before + written + tail
        value = params[name]
        if type(value) is str:
            return before + value + tail
        try:  # _param_text, inline
            text = str(value)
        except Exception:  # noqa: BLE001 - a param's __str__ may raise anything
            text = _safe_repr(value)
        return before + text + tail
    parts: list[str] = []
    for before, name, written in fields:
        parts.append(before)
        parts.append(_param_text(params[name]) if name in params else written)
    parts.append(tail)
    return "".join(parts)


def _param_text(value: object) -> str:
    """`value` as its message shows it: str, or repr if str fails (as a huge int's)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a param's __str__ may raise anything
        return _safe_repr(value)


def _humanize(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _attribute(path: Path) -> str:
    """The field an error is about, for full messages: its last name, humanised."""
    names = [segment for segment in path if isinstance(segment, str)]
    return _humanize(names[-1]) if names else ""


def _template_of(
    code: str,
    params: Mapping[str, object],
    catalog: Mapping[str, str] | None,
    scope: str,
) -> str | None:
    """
    The template of one error, by the lookup order, or None.

    `scope` is the error's field key (``"card.name"``), ``"base"`` for the
    full sentence of an error about no field, or ``""`` for the fragment of
    one. The error's own default template (`_DEFAULT_MESSAGE_PARAM`) comes
    after the catalog and before the built-in templates.
    """
    if catalog is not None:
        template = catalog.get(f"{scope}.{code}") if scope else None
        if template is None:
            template = catalog.get(code)
        if template is not None:
            return template
    default = params.get(_DEFAULT_MESSAGE_PARAM)
    if type(default) is str:
        return default
    if scope == "base":
        template = _BASE_MESSAGES.get(code)
        if template is not None:
            return template
    return _DEFAULT_TEMPLATES.get(code)


def _field_format(code: str) -> str | None:
    """`code`'s built-in template for `str.format`, or None: see `_FIELD_FORMATS`."""
    template = _DEFAULT_TEMPLATES.get(code)
    if template is None or code in _BASE_MESSAGES:
        return None
    fields, tail = _compile_template(template)
    if not all(name.isidentifier() for _, name, _ in fields):
        return None
    text = "".join(
        before.replace("{", "{{").replace("}", "}}") + "{" + name + "}"
        for before, name, _ in fields
    )
    text += tail.replace("{", "{{").replace("}", "}}")
    _FIELD_FORMATS[code] = text
    return text


def _fragment_of(
    path: Path,
    code: str,
    message: str | None,
    params: _Params,
    catalog: Mapping[str, str] | None,
) -> str:
    """
    The message of one error, as it follows the field name; unredacted.

    `params` are the params as an `ErrorDetail` holds them (see `_Params`).
    """
    if type(params) is dict and message is None and catalog is None:
        # Params that are their own plain copy, so that each one's format()
        # is its str(), with no catalog, which reads the field key: unless it
        # has a default template of its own, the error has its code's built-in
        # template, which str.format fills in C.
        template = _FIELD_FORMATS.get(code)
        if template is None:
            template = _field_format(code)
        if template is not None and _DEFAULT_MESSAGE_PARAM not in params:
            try:
                return template.format_map(params)
            except KeyError:  # a placeholder no param fills: as written, below
                pass
    given = params[0] if isinstance(params, tuple) else params
    if message is not None:
        return _fill_template(message, given)
    field_key = ".".join(s for s in path if isinstance(s, str))
    template = _template_of(code, given, catalog, field_key)
    if template is not None:
        return _fill_template(template, given)
    words = code.replace("_", " ").replace("-", " ")
    return f"is invalid ({words})" if path else words


def _redacted(detail: _Detail) -> str:
    """What a user is shown of a programmer error: the generic message."""
    return _REDACTED_MESSAGE.format(reference=detail.reference)


def _public_fragment(detail: _Detail, catalog: Mapping[str, str] | None) -> str:
    if detail.bucket is _PROGRAMMER_ERROR:
        return _redacted(detail)
    params = detail._params  # noqa: SLF001 - the package's own record
    return _fragment_of(detail.path, detail.code, detail.message, params, catalog)


def _base_sentence_of(
    code: str,
    message: str | None,
    params: Mapping[str, object],
    catalog: Mapping[str, str] | None,
) -> str:
    """
    The full message of an error about no field: a sentence of its own.

    Its own message as given; else ``"base.<code>"``, then ``"<code>"``, in
    the catalog; its default template; the built-in sentence for the code;
    the built-in fragment; the code's words. Capitalised.
    """
    if message is not None:
        sentence = _fill_template(message, params)
    else:
        template = _template_of(code, params, catalog, "base")
        sentence = (
            _fill_template(template, params)
            if template is not None
            else code.replace("_", " ").replace("-", " ")
        )
    return sentence[:1].upper() + sentence[1:]


def _public_full_message(detail: _Detail, catalog: Mapping[str, str] | None) -> str:
    if detail.bucket is _PROGRAMMER_ERROR:
        return _redacted(detail)
    path = detail.path
    attribute = _attribute(path)
    if not attribute:
        given = detail._given_params  # noqa: SLF001 - the package's own record
        return _base_sentence_of(detail.code, detail.message, given, catalog)
    params = detail._params  # noqa: SLF001 - the package's own record
    fragment = _fragment_of(path, detail.code, detail.message, params, catalog)
    return f"{attribute} {fragment}".rstrip()


def _public_code(detail: _Detail) -> str:
    return _REDACTED_CODE if detail.bucket is _PROGRAMMER_ERROR else detail.code


def _public_params(detail: _Detail) -> dict[str, object]:
    if detail.bucket is _PROGRAMMER_ERROR:
        return {}
    plain = detail._plain_params  # noqa: SLF001 - the package's own record
    # The default template is a message, shown as the message, not a param.
    return {
        name: _copy_plain(value)
        for name, value in plain.items()
        if name != _DEFAULT_MESSAGE_PARAM
    }
