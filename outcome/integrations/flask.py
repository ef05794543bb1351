"""
Flask: failures answered as RFC 9457 problems; bugs still logged and signalled.

`install` registers one error handler, for `Exception`, on a Flask app. A
failure the user can fix or must be told about (a validation error, a declined
card, an upstream that is down) is answered at once with the status, headers
and ``application/problem+json`` body of `outcome.Problems.answer`, and is not
logged: it is no bug. A programmer error is raised again from the handler, so
Flask treats it as it treats any unhandled exception: it sends
``got_request_exception`` (which Sentry's Flask integration listens to) and
calls ``app.log_exception``, once each, or, with ``PROPAGATE_EXCEPTIONS`` (on
by default in testing and debug mode), lets it propagate to the test client or
the debugger. Where Flask would then answer its 500 page, the handler answers
500 with a body that holds only a generic message and a reference
(``ERR-...``), never the exception's text.

A plain handler for `Exception` would have swallowed the signal and the log
line: that is what cuts Sentry off from a Flask app's bugs.

Werkzeug's `HTTPException` (``abort(404)``, a redirect, a bad request) is
left to Flask, unchanged: its own response, or the app's handler for that
code or class, which Flask prefers to one for `Exception`. So is an exception
Flask traps (``TRAP_HTTP_EXCEPTIONS``, ``TRAP_BAD_REQUEST_ERRORS``).

For a view that returns its failure rather than raising it,
`problem_response` gives the same answer as a Flask `Response`.

>>> from flask import Flask
>>> from outcome.integrations.flask import install
>>> app = Flask("shop")
>>> problems = install(app, statuses={"sold_out": 409})
>>> @app.get("/orders/<sku>")
... def order(sku: str) -> str:
...     raise TimeoutError("10.0.0.7:5432")
>>> response = app.test_client().get("/orders/A-17")
>>> response.status_code, response.content_type
(503, 'application/problem+json')
>>> response.json["errors"][0]["code"]
'timeout'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

from outcome._bucket import Bucket
from outcome._errors.collection import Errors
from outcome._errors.detail import ErrorDetail
from outcome._http import Problems

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

    from outcome._classify.classifier import Classifier
    from outcome._http import HttpAnswer

__all__ = ["install", "problem_response"]

_EXTENSION: Final = "outcome"
"""The key of the installed `Problems` in ``app.extensions``."""

_DEFAULT: Final = Problems()


def install(
    app: Flask,
    *,
    statuses: Mapping[str, int] | None = None,
    catalog: Mapping[str, str] | None = None,
    classifier: Classifier | None = None,
    type: str = "about:blank",  # noqa: A002 - the member's name in RFC 9457
) -> Problems:
    """
    Answer the failures of `app`'s views as problem details.

    Registers a handler for `Exception` (one registered later, or for a
    narrower class or a status code, takes precedence, as Flask decides) and
    keeps the `Problems` in ``app.extensions["outcome"]``, where
    `problem_response` finds it.

    Args:
        app: The Flask app.
        statuses: The status to answer with for an error code, as
            `outcome.Problems` takes it (``{"sold_out": 409}``).
        catalog: Message templates by code.
        classifier: The classifier for raised failures; the default one
            when `None`.
        type: The problem ``type`` URI of every answer.

    Returns:
        The `Problems` the app answers with.

    Raises:
        TypeError: When an option is not what `outcome.Problems` takes (a
            status map of codes to ints, a catalog of strings to strings, a
            `Classifier`, a ``type`` string).
        ValueError: When a status is not from 400 to 599.

    .. versionadded:: 0.1.0
    """
    from werkzeug.exceptions import (  # noqa: PLC0415 - optional
        HTTPException,
        InternalServerError,
    )

    problems = Problems(
        statuses=statuses, catalog=catalog, classifier=classifier, type=type
    )

    def answer_failure(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, HTTPException):
            # Flask's own 500 for an unhandled exception, which it has already
            # signalled and logged: the problem body takes its page's place.
            if isinstance(exc, InternalServerError):
                unhandled = exc.original_exception
                if unhandled is not None:
                    return _response(app, problems.answer(_as_bug(problems, unhandled)))
            if app.trap_http_exception(exc):
                raise exc  # what Flask does when it finds no handler
            return exc
        errors = problems.errors_of(exc)
        if errors.bucket is Bucket.PROGRAMMER_ERROR:
            # Unhandled, as far as Flask can tell: it signals, logs or
            # propagates it, then calls this handler with its 500 (above).
            raise exc
        return _response(app, problems.answer(errors))

    app.register_error_handler(Exception, answer_failure)
    app.extensions[_EXTENSION] = problems
    return problems


def problem_response(failure: object, *, problems: Problems | None = None) -> Response:
    """
    Answer `failure` as a Flask `Response`, for a view that returns it.

    The failure is what `outcome.Problems.errors_of` reads: `outcome.Errors`,
    an `outcome.Err`, an exception, ... . The answer is that of `problems`;
    when `None`, of the `Problems` `install` gave the current app, else the
    default one. A programmer error in it answers 500 with its reference
    only, and is reported as Flask reports an unhandled exception:
    ``got_request_exception`` is sent and ``app.log_exception`` called for
    its cause, or, when it has none, it is logged at ERROR with its
    reference. So return a bug, or log it yourself, not both.

    >>> from flask import Flask
    >>> from outcome import ErrorDetail, Errors
    >>> from outcome.integrations.flask import problem_response
    >>> with Flask("shop").test_request_context("/signup"):
    ...     response = problem_response(Errors([ErrorDetail("email", "blank")]))
    >>> response.status_code, response.json["errors"][0]["detail"]
    (422, "can't be blank")

    Raises:
        TypeError: When `failure` is an `outcome.Ok`, or `problems` is not a
            `outcome.Problems`.

    .. versionadded:: 0.1.0
    """
    from flask import (  # noqa: PLC0415 - optional
        Response,
        has_app_context,
        has_request_context,
    )
    from flask.globals import app_ctx  # noqa: PLC0415 - optional

    app = app_ctx.app if has_app_context() else None
    if problems is None:
        installed: object = None if app is None else app.extensions.get(_EXTENSION)
        problems = installed if type(installed) is Problems else _DEFAULT
    elif type(cast("object", problems)) is not Problems:  # untyped callers
        msg = (
            f"problem_response() takes problems=Problems(...) or None, not {problems!r}"
        )
        raise TypeError(msg)
    errors = problems.errors_of(failure)
    answer = problems.answer(errors)
    if app is None:
        return Response(answer.content, status=answer.status, headers=answer.headers)
    if errors.bucket is Bucket.PROGRAMMER_ERROR and has_request_context():
        _report(app, errors)
    return _response(app, answer)


def _as_bug(problems: Problems, unhandled: BaseException) -> Errors:
    """
    The errors of an exception Flask found no handler for: programmer errors.

    Flask has logged it as a bug and answers 500 whatever it is (one raised
    by an ``after_request`` function, say), so the body must say 500 too.
    """
    errors = problems.errors_of(unhandled)
    if errors.bucket is Bucket.PROGRAMMER_ERROR:
        return errors
    return Errors(
        [ErrorDetail(None, "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=unhandled)]
    )


def _report(app: Flask, errors: Errors) -> None:
    """Signal and log each programmer error a view returned, as Flask would."""
    from flask import got_request_exception, request  # noqa: PLC0415 - optional

    for detail in errors:
        if detail.bucket is not Bucket.PROGRAMMER_ERROR:
            continue
        cause = detail.cause
        if cause is not None:
            got_request_exception.send(
                app, _async_wrapper=app.ensure_sync, exception=cause
            )
            # A failure made and returned, never raised, has no traceback:
            # logging prints its type and text alone.
            app.log_exception(
                cast(
                    "tuple[type, BaseException, TracebackType]",
                    (type(cause), cause, cause.__traceback__),
                )
            )
        else:
            app.logger.error(
                "Error answered on %s [%s]: %r", request.path, request.method, detail
            )


def _response(app: Flask, answer: HttpAnswer) -> Response:
    return app.response_class(
        answer.content, status=answer.status, headers=answer.headers
    )
