"""
Django and Django REST framework: failures answered as RFC 9457 problem details.

For a DRF project, one setting::

    REST_FRAMEWORK = {
        "EXCEPTION_HANDLER": "outcome.integrations.django.exception_handler",
    }

For plain Django JSON views, a middleware and, in the root URLconf, the 500 view::

    MIDDLEWARE = [..., "outcome.integrations.django.ProblemMiddleware"]
    handler500 = "outcome.integrations.django.problem_server_error"

Every failure a view raises gets the `outcome.HttpAnswer` of `outcome.Problems`:
its status, its headers (``Content-Type: application/problem+json``, and
``Retry-After`` when the failure said how long to wait) and its problem body.

- DRF's exceptions keep their status and their codes: a ``ValidationError``
  answers 400 with one error per message, at its field's path (``#/items/0/sku``)
  and with DRF's code (``required``, ``max_length``, ``invalid_choice``);
  ``NotAuthenticated`` keeps DRF's ``WWW-Authenticate`` (or its 403 when no
  authenticator gives one) and ``Throttled`` its wait, as ``Retry-After``
  rounded up to whole seconds. Django's ``Http404``, ``PermissionDenied`` and
  ``BadRequest`` answer 404, 403 and 400, and its ``ValidationError`` 422, as
  `outcome.Errors.from_django` converts it.
- An exception that carries `outcome.Errors` in an ``errors`` attribute is
  answered with those errors; any other is answered as the classifier decides
  (a timeout or an upstream's 429 answer 503, with the upstream's wait).
- A programmer error is not answered: the handler and the middleware leave it
  to Django, which sends ``got_request_exception``, answers 500 and logs it once
  on the ``django.request`` logger, with its traceback. The reference a user is
  shown for it (``ERR-...``) is added to the exception as a note, so that the
  logged traceback shows it. Django's own 500 page has no reference; install
  `problem_server_error` as ``handler500`` to answer the 500 as problem details
  with the reference only, never the exception's text.

For a view that returns its failure (an ``Err`` of its service, say)
rather than raising it, `problem_response` gives the same answer.

No message of DRF's is shown: some hold the rejected input (``'"SECRET" is not
a valid choice.'``). Each error's message is its code's template: yours (the
``catalog`` below), then outcome's, then English ones for DRF's own codes.

How failures are answered is set by ``OUTCOME_PROBLEMS``, a dict of the
keywords of `outcome.Problems`, read and checked when first needed (when
Django loads the middleware, or at the first failure)::

    OUTCOME_PROBLEMS = {
        "statuses": {"sold_out": 409},         # a status by error code
        "catalog": {"sold_out": "is sold out"},  # message templates by code
        "classifier": "shop.errors.CLASSIFIER",  # a Classifier, or its path
        "type": "https://shop.example/problems",
    }

A bad value raises ``ImproperlyConfigured`` naming the setting.
``override_settings(OUTCOME_PROBLEMS=...)`` is taken into account.

Outside a Django project, as here, settings must be configured first:

>>> from django.conf import settings
>>> if not settings.configured:
...     settings.configure(USE_I18N=False)
>>> from rest_framework.exceptions import Throttled
>>> response = exception_handler(Throttled(wait=2.5), {})
>>> response.status_code, response["Retry-After"], response["Content-Type"]
(429, '3', 'application/problem+json')
>>> exception_handler(LookupError("SELECT secret FROM cards"), {}) is None
True

.. versionadded:: 0.1.0
"""

# Django ships no types: the module reads what it needs through the protocols
# below, and creates its responses through Django's own class.
# pyright: reportMissingTypeStubs=false

from __future__ import annotations

import importlib
import logging
import math
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Protocol, cast

from outcome._bucket import Bucket
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._http import Problems, _log_returned_bugs
from outcome._result import Err
from outcome._retry import _add_note

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from django.http import HttpRequest, HttpResponse, HttpResponseBase

    from outcome._classify.classifier import Classifier
    from outcome._errors.paths import Path
    from outcome._http import HttpAnswer

__all__ = [
    "ProblemMiddleware",
    "exception_handler",
    "problem_response",
    "problem_server_error",
]

_LOGGER: Final = logging.getLogger(__name__)

_SETTING: Final = "OUTCOME_PROBLEMS"
_OPTIONS: Final = ("catalog", "classifier", "statuses", "type")

# English templates for the codes DRF and Django give that outcome's own catalog
# has no template for (so the two never disagree); a user's catalog comes first.
_MESSAGES: Final[Mapping[str, str]] = {
    # Fields and validators.
    "null": "can't be null",
    "max_length": "is too long",
    "min_length": "is too short",
    "max_value": "is too large",
    "min_value": "is too small",
    "max_digits": "has too many digits",
    "max_decimal_places": "has too many decimal places",
    "max_whole_digits": "has too many digits before the decimal point",
    "max_string_length": "is too large",
    "invalid_choice": "is not one of the choices",
    "not_a_list": "must be a list",
    "not_a_dict": "must be an object",
    "incorrect_type": "has the wrong type",
    "does_not_exist": "refers to something that does not exist",
    "unique": "must be unique",
    "invalid_image": "must be an image",
    # The request as a whole.
    "bad_request": "the request is not valid",
    "parse_error": "the request body could not be parsed",
    "authentication_failed": "the credentials were not accepted",
    "not_authenticated": "authentication is required",
    "permission_denied": "you do not have permission to do this",
    "method_not_allowed": "this method is not allowed here",
    "not_acceptable": "no answer can be given in the requested format",
    "unsupported_media_type": "the request body's media type is not supported",
    "throttled": "too many requests; try again later",
    "error": "something went wrong; try again later",
}

_TOO_MANY_REQUESTS: Final = 429
_SERVER_ERROR: Final = 500
# A key of DRF's nested errors for the base, not a field: DRF's default.
_NON_FIELD_ERRORS: Final = "non_field_errors"


class _Signal(Protocol):
    """What the module calls on a Django signal."""

    def connect(self, receiver: Callable[..., None], *, dispatch_uid: str) -> None:
        """Connect a receiver, once per `dispatch_uid`."""
        ...


class _ApiException(Protocol):
    """What the module reads of a DRF ``APIException``."""

    status_code: int
    detail: object


def _bug(cause: BaseException | None = None) -> Errors:
    return Errors(
        [ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=cause)]
    )


# The setting ----------------------------------------------------------------

_READ: Final[dict[str, Problems]] = {}
"""The `Problems` read from the setting, once; emptied when the setting changes."""

_FALLBACK: Final = Problems(catalog=_MESSAGES)
"""What `problem_server_error` answers with when the setting cannot be read."""


def _problems() -> Problems:
    """
    The `Problems` that ``settings.OUTCOME_PROBLEMS`` asks for, read once.

    Raises:
        ImproperlyConfigured: When the setting is not a dict of
            `outcome.Problems` keywords with good values.
    """
    problems = _READ.get(_SETTING)
    if problems is None:
        _watch_setting()
        problems = _READ[_SETTING] = _read_setting()
    return problems


def _watch_setting() -> None:
    from django.core.signals import setting_changed  # noqa: PLC0415 - optional

    signal = cast("_Signal", setting_changed)
    signal.connect(_forget_setting, dispatch_uid=__name__)


def _forget_setting(**changed: object) -> None:
    """Receive ``setting_changed``: read ``OUTCOME_PROBLEMS`` again when needed."""
    if changed.get("setting") == _SETTING:
        _READ.clear()


def _read_setting() -> Problems:
    from django.conf import settings  # noqa: PLC0415 - optional
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415

    options: object = getattr(settings, _SETTING, None)
    if options is None:
        return _FALLBACK
    if not isinstance(options, Mapping):
        msg = (
            f"settings.{_SETTING} must be a dict of the options of "
            f"outcome.Problems ({', '.join(_OPTIONS)}), such as "
            f"{{'statuses': {{'sold_out': 409}}}}, not {options!r}"
        )
        raise ImproperlyConfigured(msg)
    given = cast("Mapping[object, object]", options)
    for name in given:
        if name not in _OPTIONS:
            msg = (
                f"settings.{_SETTING} has no option {name!r}; its options are "
                f"{', '.join(_OPTIONS)}"
            )
            raise ImproperlyConfigured(msg)
    classifier = given.get("classifier")
    if isinstance(classifier, str):
        classifier = _imported_classifier(classifier)
    catalog = given.get("catalog")
    try:
        # Checked as given, so that an error names the user's own values.
        Problems(
            statuses=cast("Mapping[str, int] | None", given.get("statuses")),
            catalog=cast("Mapping[str, str] | None", catalog),
            classifier=cast("Classifier | None", classifier),
            type=cast("str", given.get("type", "about:blank")),
        )
    except (TypeError, ValueError) as exc:
        msg = f"settings.{_SETTING}: {exc}"
        raise ImproperlyConfigured(msg) from exc
    return Problems(
        statuses=cast("Mapping[str, int] | None", given.get("statuses")),
        catalog={**_MESSAGES, **cast("Mapping[str, str]", catalog or {})},
        classifier=cast("Classifier | None", classifier),
        type=cast("str", given.get("type", "about:blank")),
    )


def _imported_classifier(path: str) -> object:
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415

    module, _, name = path.rpartition(".")
    try:
        return cast("object", getattr(importlib.import_module(module), name))
    except (ImportError, AttributeError, ValueError) as exc:  # "" is a ValueError
        msg = (
            f"settings.{_SETTING}['classifier'] is {path!r}, which cannot be "
            f"imported ({exc}); give the dotted path of a Classifier, or the "
            "Classifier itself"
        )
        raise ImproperlyConfigured(msg) from exc


# What a failure is ------------------------------------------------------------


def _errors_of(exc: BaseException, problems: Problems) -> Errors:
    """
    The errors `exc` stands for: DRF's and Django's by their meaning, else classified.

    Total: a failure whose facts cannot be read is a programmer error.
    """
    try:
        drf = sys.modules.get("rest_framework.exceptions")
        if drf is not None and isinstance(exc, drf.APIException):
            return _api_errors(cast("_ApiException", exc))
        errors = _django_errors(exc)
        if errors is not None:
            return errors
        return problems.errors_of(exc)
    except Exception:  # noqa: BLE001 - an unreadable failure is a bug, answered 500
        return _bug(exc)


def _django_errors(exc: BaseException) -> Errors | None:
    """The errors of Django's own exceptions; `None` for any other."""
    from django.core import exceptions  # noqa: PLC0415 - optional
    from django.http import Http404  # noqa: PLC0415

    if isinstance(exc, Http404):
        return Errors([ErrorDetail(None, "not_found", status=404)])
    if isinstance(exc, exceptions.PermissionDenied):
        return Errors([ErrorDetail(None, "permission_denied", status=403)])
    if isinstance(exc, exceptions.BadRequest):
        return Errors([ErrorDetail(None, "bad_request", status=400)])
    if isinstance(exc, exceptions.ValidationError):
        return Errors.from_django(exc) or Errors([ErrorDetail(None, "invalid")])
    return None


def _api_errors(exc: _ApiException) -> Errors:
    """
    The errors of a DRF ``APIException``: one per message, at its path, by code.

    Each has the exception's status as its status hint; a ``wait`` (as
    ``Throttled`` has) becomes the ``retry_after`` param, in whole seconds.
    """
    status = exc.status_code
    bucket = (
        Bucket.USER_VISIBLE
        if status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR
        else Bucket.USER_FIXABLE
    )
    params: dict[str, object] = {}
    wait: object = getattr(exc, "wait", None)
    if (
        isinstance(wait, int | float)
        and not isinstance(wait, bool)
        and math.isfinite(wait)
        and wait >= 0
    ):
        params["retry_after"] = math.ceil(wait)
    errors = Errors(
        ErrorDetail(path, code, params=params, bucket=bucket, status=status)
        for path, code in _messages(exc.detail)
    )
    if not errors:  # ValidationError({}): still a failure of the request
        default: object = getattr(exc, "default_code", None)
        code = default if isinstance(default, str) and default else "invalid"
        errors.append(
            ErrorDetail(None, code, params=params, bucket=bucket, status=status)
        )
    return errors


def _messages(detail: object) -> list[tuple[Path, str]]:
    """
    The path and code of each message in DRF's nested ``detail``, in order.

    A dict maps fields (or list indices) to what they hold; a list holds
    messages of its own path, or items by index. Each container is read once,
    so a cycle or a shared branch costs no more than its size.
    """
    found: list[tuple[Path, str]] = []
    seen: set[int] = set()
    pending: list[tuple[Path, object]] = [((), detail)]
    while pending:
        path, node = pending.pop()
        identity = id(node)  # read before the type is narrowed to containers
        if isinstance(node, str) or not isinstance(node, Mapping | list | tuple):
            code: object = getattr(node, "code", None)
            found.append((path, code if isinstance(code, str) and code else "invalid"))
            continue
        if identity in seen:
            continue
        seen.add(identity)
        children: list[tuple[Path, object]] = []
        if isinstance(node, Mapping):
            for key, child in cast("Mapping[object, object]", node).items():
                children.append((path + _segment(key), child))
        else:
            for index, child in enumerate(cast("list[object]", node)):
                own = isinstance(child, str)  # a message of this path itself
                children.append((path if own else (*path, index), child))
        pending.extend(reversed(children))
    return found


def _segment(key: object) -> Path:
    """A key of DRF's nested errors as a path segment; none for the base."""
    if isinstance(key, str):
        return (key,) if key and key != _NON_FIELD_ERRORS else ()
    if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
        return (key,)
    return ()


def _is_bug(errors: Errors) -> bool:
    return any(detail.bucket is Bucket.PROGRAMMER_ERROR for detail in errors)


def _note_references(exc: BaseException, errors: Errors) -> None:
    """Add the reference users are shown to `exc`, for the traceback Django logs."""
    references = [
        detail.reference
        for detail in errors
        if detail.bucket is Bucket.PROGRAMMER_ERROR
    ]
    note = f"outcome reference: {', '.join(references)}"
    if note not in getattr(exc, "__notes__", ()):
        _add_note(exc, note)


def _answer_or_none(exc: BaseException, problems: Problems) -> HttpAnswer | None:
    """The answer for `exc`; `None` for a programmer error, noted with its reference."""
    errors = _errors_of(exc, problems)
    if _is_bug(errors):
        _note_references(exc, errors)
        return None
    answer = problems.answer(errors)
    header: object = getattr(exc, "auth_header", None)
    if header and isinstance(header, str):
        answer.headers["WWW-Authenticate"] = header
    return answer


def _response(answer: HttpAnswer) -> HttpResponse:
    from django.http import HttpResponse  # noqa: PLC0415 - optional

    return HttpResponse(answer.content, status=answer.status, headers=answer.headers)


# The hooks ------------------------------------------------------------------


def exception_handler(
    exc: Exception, context: Mapping[str, object]
) -> HttpResponse | None:
    """
    Answer what a DRF view raised as problem details; `None` for a programmer error.

    Set it as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``. Like DRF's own
    handler, it marks the database transaction of an ``ATOMIC_REQUESTS``
    request for rollback when it answers. `None` makes DRF raise `exc`
    again, for Django to answer 500 and log once.

    >>> import json
    >>> from rest_framework.exceptions import ValidationError
    >>> invalid = ValidationError({"quantity": ["At most 3."]}, code="max_value")
    >>> response = exception_handler(invalid, {})
    >>> response.status_code, response["Content-Type"]
    (400, 'application/problem+json')
    >>> json.loads(response.content)["errors"]
    [{'detail': 'is too large', 'pointer': '#/quantity', 'code': 'max_value'}]

    Args:
        exc: What the view raised.
        context: DRF's context (the view, its arguments and the request);
            not read.

    Returns:
        The ``application/problem+json`` response, or `None`.

    Raises:
        ImproperlyConfigured: When ``settings.OUTCOME_PROBLEMS`` is not
            good, the first time it is read.

    .. versionadded:: 0.1.0
    """
    del context
    answer = _answer_or_none(exc, _problems())
    if answer is None:
        return None
    from rest_framework.views import set_rollback  # noqa: PLC0415 - optional

    set_rollback()
    return _response(answer)


class ProblemMiddleware:
    """
    Answer what a Django view raised as problem details, but programmer errors.

    Add ``"outcome.integrations.django.ProblemMiddleware"`` to
    ``MIDDLEWARE``. Its ``process_exception`` answers each failure a view
    raises as problem details, and leaves a programmer error to Django,
    which answers 500 and logs it once. It works for sync and async views
    alike. It answers the failures of every view, Django's ``Http404``
    included, so it is for a project whose views answer JSON.
    ``OUTCOME_PROBLEMS`` is checked when Django loads it.

    Args:
        get_response: The rest of the middleware chain, as Django gives it.

    Raises:
        ImproperlyConfigured: When ``settings.OUTCOME_PROBLEMS`` is not good.

    .. versionadded:: 0.1.0
    """

    sync_capable: Final = True
    async_capable: Final = True

    def __init__(
        self,
        get_response: Callable[
            [HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]
        ],
    ) -> None:
        """Take the rest of the chain, and check the setting once."""
        from asgiref.sync import (  # noqa: PLC0415 - Django's own dependency
            iscoroutinefunction,
            markcoroutinefunction,
        )

        self.get_response = get_response
        _problems()
        # Django's own test, which also knows asgiref's marker on Python 3.11;
        # pyright reads the stdlib function it stands for there as deprecated.
        if iscoroutinefunction(get_response):  # pyright: ignore[reportDeprecated]
            markcoroutinefunction(self)  # so Django awaits what __call__ returns

    def __call__(
        self, request: HttpRequest
    ) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        """Pass the request on."""
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        """
        Answer `exception` as problem details; `None` for a programmer error.

        Args:
            request: The request the view was answering; not read.
            exception: What the view raised.

        Returns:
            The ``application/problem+json`` response, or `None`, for
            Django to handle it.
        """
        del request
        answer = _answer_or_none(exception, _problems())
        return None if answer is None else _response(answer)


def problem_response(
    failure: object, *, problems: Problems | None = None
) -> HttpResponse:
    """
    Answer `failure` as problem details, for a view that returns it.

    `failure` is what a view would raise (a DRF or Django exception, any
    exception), or what `outcome.Problems.errors_of` reads: `outcome.Errors`,
    an `outcome.ErrorDetail`, an `outcome.Err` holding either or an
    exception, a `outcome.SagaFailure`. It is answered as the handler and the
    middleware answer, with `problems`, or, when `None`, the `Problems` of
    ``OUTCOME_PROBLEMS``. A programmer error answers 500 with its reference
    only, and is logged at ERROR on this module's logger with the reference,
    the real error and its cause's traceback, since no exception reaches
    Django: return a bug, or log it yourself, not both.

    >>> import json
    >>> from outcome import Err, ErrorDetail, Errors
    >>> response = problem_response(Err(Errors([ErrorDetail("email", "blank")])))
    >>> response.status_code, json.loads(response.content)["errors"]
    (422, [{'detail': "can't be blank", 'pointer': '#/email', 'code': 'blank'}])

    Args:
        failure: What to answer.
        problems: How to answer it.

    Returns:
        The ``application/problem+json`` response.

    Raises:
        TypeError: When `failure` is an `outcome.Ok`, which is no failure, or
            `problems` is not a `outcome.Problems`.
        ImproperlyConfigured: When `problems` is `None` and
            ``settings.OUTCOME_PROBLEMS`` is not good.

    .. versionadded:: 0.1.0
    """
    if problems is None:
        problems = _problems()
    elif type(cast("object", problems)) is not Problems:  # untyped callers
        msg = (
            f"problem_response() takes problems=Problems(...) or None, not {problems!r}"
        )
        raise TypeError(msg)
    if type(failure) is Err:
        failure = cast("Err[object]", failure).err_value
    if isinstance(failure, BaseException):
        errors = _errors_of(failure, problems)
    else:
        errors = problems.errors_of(failure)
    _log_returned_bugs(_LOGGER, errors)
    return _response(problems.answer(errors))


def problem_server_error(request: HttpRequest) -> HttpResponse:
    """
    Django's ``handler500``: the failure being handled, as problem details.

    Set ``handler500 = "outcome.integrations.django.problem_server_error"`` in
    the root URLconf. Django calls it, with ``DEBUG`` off, for what no
    handler answered: a programmer error answers 500 with its reference
    only, never its text, and the same reference is noted on the exception
    for the traceback Django logs next. It never fails: a bad
    ``OUTCOME_PROBLEMS`` or a failure whose facts cannot be read still
    gets a 500 with a reference.

    Args:
        request: The request that failed; not read.

    Returns:
        The ``application/problem+json`` response.

    .. versionadded:: 0.1.0
    """
    del request
    try:
        problems = _problems()
    except Exception:  # noqa: BLE001 - the error page answers whatever the settings
        problems = _FALLBACK
    exc = sys.exc_info()[1]
    errors = _bug() if exc is None else _errors_of(exc, problems)
    if exc is not None and _is_bug(errors):
        _note_references(exc, errors)
    return _response(problems.answer(errors))
