"""
Logging: records that say who must act on a failure, at a level that says it too.

- `ClassifyingFilter`, a standard library `logging.Filter`, gives every record
  that carries an exception (``exc_info``) the attributes ``bucket``, ``kind``
  and ``reference``, and lowers the level of failures that are no bug: one the
  user can fix (a validation error, a declined card) to INFO, one a retry loop
  or a job will try again to WARNING. A programmer error, or a failure a user
  must be told about, keeps the level it was logged at.
- `ClassifyingProcessor` does the same for structlog: it adds the keys
  ``bucket``, ``kind`` and ``reference`` to an event dict with ``exc_info``,
  and lowers its ``level``.
- `RetryLogger`, and the ready `on_retry` and `on_give_up` built on it, log
  what a retry loop (`outcome.Retrying`) or a job (`outcome.jobs.JobPolicy`)
  does after each failure: a retry at WARNING, giving up at WARNING, or at
  INFO when the user can fix the failure.

Only levels at or above the new one are lowered; nothing is ever raised, nor
a record dropped. The reference is the one `outcome.Problems.detail_of`
gives the exception, so the ``ERR-...`` a user was shown in a problem body
finds the record.

>>> import logging
>>> from outcome.integrations.logging import ClassifyingFilter
>>> record = logging.LogRecord(
...     "shop", logging.ERROR, __file__, 1, "checkout failed", None,
...     (ValueError, ValueError("price is 'abc'"), None),
... )
>>> ClassifyingFilter().filter(record)
True
>>> record.bucket, record.kind, record.reference, record.levelname
('programmer_error', 'bug', 'ERR-...', 'ERROR')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Final, TypeVar, cast, final, overload

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._http import Problems
from outcome._retry import _GIVING_UP, RetryDetails, _will_retry
from outcome.jobs import JobEvent

if TYPE_CHECKING:
    from outcome._classify.decision import Decision
    from outcome._errors.collection import Errors
    from outcome._errors.detail import ErrorDetail
    from outcome._result import Err

__all__ = [
    "ClassifyingFilter",
    "ClassifyingProcessor",
    "RetryLogger",
    "on_give_up",
    "on_retry",
]

# An event dict as structlog types it (MutableMapping[str, Any]): returned as is.
_EventDict = TypeVar("_EventDict", bound=MutableMapping[str, object])

_RETRY_LOGGER: Final = logging.getLogger("outcome.retry")
_JOBS_LOGGER: Final = logging.getLogger("outcome.jobs")
# structlog's level names, by severity; "exception" is logged as "error".
_SEVERITY: Final = {
    "notset": logging.NOTSET,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "fatal": logging.CRITICAL,
    "critical": logging.CRITICAL,
}


@final
class _Facts:
    """What a record is given about its exception, and the level it deserves."""

    __slots__ = ("bucket", "kind", "level", "reference")

    def __init__(self, exc: BaseException, problems: Problems) -> None:
        # As the HTTP answer decided, so that the reference is the user's.
        detail = problems.detail_of(exc)
        self.bucket = detail.bucket.value
        self.kind = detail.code
        self.reference = detail.reference
        # The highest level the failure deserves, or None to keep the record's.
        self.level: int | None = None
        if detail.bucket is Bucket.USER_FIXABLE:
            self.level = logging.INFO
        elif _will_retry(exc):
            self.level = logging.WARNING

    def fields(self) -> dict[str, str]:
        return {"bucket": self.bucket, "kind": self.kind, "reference": self.reference}


def _checked_classifier(owner: str, classifier: Classifier | None) -> Classifier:
    if classifier is None:
        return DEFAULT_CLASSIFIER
    if not isinstance(cast("object", classifier), Classifier):  # untyped callers
        msg = f"{owner}() takes classifier=Classifier(...) or None, not {classifier!r}"
        raise TypeError(msg)
    return classifier


class ClassifyingFilter(logging.Filter):
    """
    A logging filter that classifies the exception of each record that has one.

    It gives the record ``bucket`` (``"user_fixable"``, ``"user_visible"`` or
    ``"programmer_error"``), ``kind`` (``"validation"``, ``"timeout"``,
    ``"bug"``, ...) and ``reference`` (``"ERR-..."``), unless the record
    already has an attribute of that name (an ``extra`` of the caller's).
    It lowers a failure the user can fix to INFO, and one that a retry loop
    or a job will try again to WARNING, when it was logged above. It never
    drops a record: `filter` always returns `True`.

    Where it goes decides what it sees. On a handler
    (``handler.addFilter(ClassifyingFilter())``) it sees every record the
    handler formats, from any logger, but only after the handler has chosen
    it by level. On a logger (``logging.getLogger("shop").addFilter(...)``)
    it sees only that logger's own records, not those its children
    propagate, and before any handler does, so a lowered level counts for
    every handler and for Sentry's ``LoggingIntegration``, which reads
    records there too.

    Args:
        classifier: Sorts each record's exception; the default one when
            `None`.

    Raises:
        TypeError: When `classifier` is not a `outcome.Classifier`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, classifier: Classifier | None = None) -> None:
        """Check the classifier once, so that filtering never fails on it."""
        super().__init__()
        self._classifier = _checked_classifier("ClassifyingFilter", classifier)
        self._problems = Problems(classifier=self._classifier)

    def filter(self, record: logging.LogRecord) -> bool:
        """
        Add ``bucket``, ``kind`` and ``reference`` to `record`, and lower its level.

        Returns:
            `True`: the record is always kept.
        """
        exc_info = record.exc_info
        exc = None if not exc_info else exc_info[1]
        if exc is None:
            return True
        try:
            facts = _Facts(exc, self._problems)
            attributes = vars(record)
            for name, value in facts.fields().items():
                attributes.setdefault(name, value)
            if facts.level is not None and record.levelno > facts.level:
                record.levelno = facts.level
                record.levelname = logging.getLevelName(facts.level)
        except Exception:  # noqa: BLE001, S110 - logging must go on, the record as it was
            pass
        return True


@final
class ClassifyingProcessor:
    """
    A structlog processor that classifies the exception of each event that has one.

    It adds ``bucket``, ``kind`` and ``reference`` to an event dict with
    ``exc_info`` (an exception, an ``exc_info`` tuple, or `True` for the
    exception being handled, as structlog reads it), unless it has those
    keys already. It lowers a failure the user can fix to ``"info"``, and
    one a retry loop or a job will try again to ``"warning"``: it rewrites
    ``level`` (and ``level_number``, if there), so put it after
    ``structlog.processors.add_log_level`` and before the processor that
    renders the exception (``format_exc_info``, ``dict_tracebacks``,
    ``ExceptionRenderer``), which removes ``exc_info``. It never drops an
    event.

    Through structlog's standard library integration, the record still
    goes out at the level of the method called: put a `ClassifyingFilter` on
    that logger too.

    Args:
        classifier: Sorts each event's exception; the default one when
            `None`.

    Raises:
        TypeError: When `classifier` is not a `outcome.Classifier`.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_classifier", "_problems")

    def __init__(self, *, classifier: Classifier | None = None) -> None:
        """Check the classifier once, so that processing never fails on it."""
        self._classifier = _checked_classifier("ClassifyingProcessor", classifier)
        self._problems = Problems(classifier=self._classifier)

    def __repr__(self) -> str:
        """Show the classifier it sorts with."""
        return f"ClassifyingProcessor(classifier={self._classifier!r})"

    def __call__(
        self, _logger: object, method_name: str, event_dict: _EventDict
    ) -> _EventDict:
        """
        Add ``bucket``, ``kind`` and ``reference`` to `event_dict`, and lower its level.

        Args:
            _logger: The wrapped logger (unused).
            method_name: The name of the method called: the level, unless
                ``level`` says another.
            event_dict: The event.

        Returns:
            `event_dict`, with the keys added.
        """
        try:
            exc = _structlog_exception(event_dict.get("exc_info"))
            if exc is None:
                return event_dict
            facts = _Facts(exc, self._problems)
            for name, value in facts.fields().items():
                event_dict.setdefault(name, value)
            level = str(event_dict.get("level", method_name)).lower()
            severity = _SEVERITY.get(level)
            if (
                facts.level is not None
                and severity is not None
                and severity > facts.level
            ):
                event_dict["level"] = logging.getLevelName(facts.level).lower()
                if "level_number" in event_dict:
                    event_dict["level_number"] = facts.level
        except Exception:  # noqa: BLE001, S110 - logging must go on, the event as it was
            pass
        return event_dict


def _structlog_exception(exc_info: object) -> BaseException | None:
    """The exception `exc_info` stands for, read as structlog reads it."""
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        parts = cast("tuple[object, ...]", exc_info)
        if (
            len(parts) == 3  # noqa: PLR2004 - type, value, traceback
            and isinstance(parts[0], type)
            and issubclass(parts[0], BaseException)
            and isinstance(parts[1], BaseException)
            and (parts[2] is None or isinstance(parts[2], TracebackType))
        ):
            return parts[1]
    # Anything else true means "the exception being handled", to structlog.
    return sys.exc_info()[1] if exc_info else None


def _exception(failure: Exception | Err[object]) -> BaseException | None:
    """The exception of a failure: itself, or the one its `Err` holds."""
    if isinstance(failure, BaseException):
        return failure
    value = failure.err_value
    return value if isinstance(value, BaseException) else None


def _failure_name(failure: Exception | Err[object]) -> str:
    """The failure's type, for a message: never its text, which may be a bug's."""
    if isinstance(failure, BaseException):
        return type(failure).__qualname__
    return f"Err({type(failure.err_value).__qualname__})"


def _worst(errors: Errors) -> ErrorDetail | None:
    """The most severe error, the first of the highest bucket, as answers pick it."""
    worst: ErrorDetail | None = None
    for detail in errors:
        if worst is None or detail.bucket > worst.bucket:
            worst = detail
    return worst


def _give_up_reason(decision: Decision) -> tuple[str, int | None]:
    """
    Why a retry loop gave up, and after which attempt: as it says.

    Called outside a loop's hook, the reason is guessed from the decision,
    and the attempt is not known.
    """
    said = _GIVING_UP.get()
    if said is not None:
        return said
    if not decision.transient:
        return "discarded", None
    return ("deferred" if decision.defer else "exhausted"), None


@final
class RetryLogger:
    """
    Log each retry and each give-up, of a retry loop or of a job.

    Its `on_retry` and `on_give_up` fit both the hooks of `outcome.Retrying`
    (and so `outcome.retry`) and those of `outcome.jobs.JobPolicy`. A retry
    is logged at WARNING; giving up at WARNING, or at INFO when the user can
    fix the failure. Each record carries ``bucket``, ``kind``, ``attempt``
    and, by hook, ``delay`` or ``retry_in``, ``reason``, and for a job
    ``job_name``, ``job_id`` and the ``reference`` its status shows. Its
    message names the failure's type and kind, never its text. The reason
    is what stopped the retrying: ``discarded``, ``exhausted``, ``budget``,
    and for a retry loop also ``deferred``, ``deadline`` or ``sleep_failed``.
    A give-up it is handed outside a retry loop's hook is worded from its
    decision alone, with no ``attempt``.

    A programmer error that gives up is not logged at ERROR here: the
    exception is raised on, by the retry loop to its caller and by the job
    to its engine, which logs it with its traceback, once.

    Args:
        logger: Where the records go; when `None`, ``outcome.retry`` for a
            retry loop and ``outcome.jobs`` for a job.
        tracebacks: Attach the failure's exception to each record
            (``exc_info``), for its traceback. Sentry's ``LoggingIntegration``
            then sees the exception, and `outcome.integrations.sentry`'s
            ``before_send`` drops those that will be retried.

    >>> from outcome import Retrying, RetryPolicy
    >>> from outcome.integrations.logging import RetryLogger
    >>> log = RetryLogger(logging.getLogger("shop.payments"))
    >>> retrying = Retrying(
    ...     policy=RetryPolicy(attempts=3),
    ...     on_retry=log.on_retry,
    ...     on_give_up=log.on_give_up,
    ... )

    Raises:
        TypeError: When `logger` is not a `logging.Logger`, or `tracebacks`
            is not a bool.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_logger", "_tracebacks")

    def __init__(
        self, logger: logging.Logger | None = None, *, tracebacks: bool = False
    ) -> None:
        """Check the options once, so that logging never fails on them."""
        if logger is not None and not isinstance(
            cast("object", logger), logging.Logger
        ):
            msg = (
                "RetryLogger() takes a logging.Logger, such as "
                f"logging.getLogger('shop'), or None, not {logger!r}"
            )
            raise TypeError(msg)
        if type(cast("object", tracebacks)) is not bool:
            msg = (
                "RetryLogger() takes tracebacks=True or tracebacks=False, "
                f"not {tracebacks!r}"
            )
            raise TypeError(msg)
        self._logger = logger
        self._tracebacks = tracebacks

    def __repr__(self) -> str:
        """Show the logger and whether records carry tracebacks."""
        return f"RetryLogger({self._logger!r}, tracebacks={self._tracebacks!r})"

    def on_retry(self, details: RetryDetails | JobEvent, /) -> None:
        """
        Log a failure that will be retried, at WARNING.

        Args:
            details: What `outcome.Retrying` tells its ``on_retry``, or the
                `outcome.jobs.JobEvent` a job's ``on_retry`` gets.
        """
        if isinstance(details, JobEvent):
            self._job(details, "retry")
            return
        decision = details.decision
        self._log(
            self._logger or _RETRY_LOGGER,
            logging.WARNING,
            "attempt %d failed with %s (%s); retrying in %.3g s",
            (
                details.attempt,
                _failure_name(details.failure),
                decision.kind,
                details.delay,
            ),
            {
                "bucket": decision.bucket.value,
                "kind": decision.kind,
                "attempt": details.attempt,
                "delay": details.delay,
            },
            _exception(details.failure),
        )

    @overload
    def on_give_up(self, event: JobEvent, /) -> None: ...
    @overload
    def on_give_up(
        self, decision: Decision, failure: Exception | Err[object], /
    ) -> None: ...
    def on_give_up(
        self,
        what: JobEvent | Decision,
        failure: Exception | Err[object] | None = None,
        /,
    ) -> None:
        """
        Log that retrying stopped for good: at INFO when the user can fix it.

        Args:
            what: The `outcome.jobs.JobEvent` a job's ``on_give_up`` gets,
                or the decision `outcome.Retrying` gives its ``on_give_up``.
            failure: With a decision: the last failure.
        """
        if isinstance(what, JobEvent):
            self._job(what, "give_up")
            return
        reason, attempt = _give_up_reason(what)
        name = "a failure" if failure is None else _failure_name(failure)
        fields: dict[str, object] = {
            "bucket": what.bucket.value,
            "kind": what.kind,
            "reason": reason,
        }
        if attempt is not None:
            fields["attempt"] = attempt
        self._log(
            self._logger or _RETRY_LOGGER,
            _give_up_level(what.bucket),
            "gave up on %s (%s): %s",
            (name, what.kind, reason),
            fields,
            None if failure is None else _exception(failure),
        )

    def _job(self, event: JobEvent, hook: str) -> None:
        """Log a job's retry or give-up."""
        decision = event.decision
        worst = _worst(event.errors)
        bucket = (
            decision.bucket
            if decision is not None
            else (Bucket.PROGRAMMER_ERROR if worst is None else worst.bucket)
        )
        kind = (
            decision.kind
            if decision is not None
            else ("failure" if worst is None else worst.code)
        )
        fields: dict[str, object] = {
            "bucket": bucket.value,
            "kind": kind,
            "attempt": event.attempt,
            "job_name": event.job_name,
            "job_id": event.job_id,
        }
        if worst is not None:
            fields["reference"] = worst.reference
        exc = None if worst is None else worst.cause
        logger = self._logger or _JOBS_LOGGER
        if hook == "retry":
            fields["retry_in"] = event.retry_in
            self._log(
                logger,
                logging.WARNING,
                "job %s %s: attempt %d failed (%s); retrying in %.3g s",
                (event.job_name, event.job_id, event.attempt, kind, event.retry_in),
                fields,
                exc,
            )
            return
        fields["reason"] = event.reason
        self._log(
            logger,
            _give_up_level(bucket),
            "job %s %s gave up at attempt %d (%s: %s)",
            (event.job_name, event.job_id, event.attempt, event.reason, kind),
            fields,
            exc,
        )

    def _log(  # noqa: PLR0913, PLR0917 - one argument per part of the record
        self,
        logger: logging.Logger,
        level: int,
        message: str,
        args: tuple[object, ...],
        fields: dict[str, object],
        exc: BaseException | None,
    ) -> None:
        logger.log(
            level,
            message,
            *args,
            extra=fields,
            exc_info=exc if self._tracebacks else None,
        )


def _give_up_level(bucket: Bucket) -> int:
    return logging.INFO if bucket is Bucket.USER_FIXABLE else logging.WARNING


_DEFAULT_LOGGER: Final = RetryLogger()


def on_retry(details: RetryDetails | JobEvent, /) -> None:
    """
    Log a failure that will be retried, as `RetryLogger` does with its defaults.

    Use it as ``Retrying(on_retry=on_retry)`` or ``JobPolicy(on_retry=on_retry)``.

    .. versionadded:: 0.1.0
    """
    _DEFAULT_LOGGER.on_retry(details)


@overload
def on_give_up(event: JobEvent, /) -> None: ...
@overload
def on_give_up(decision: Decision, failure: Exception | Err[object], /) -> None: ...
def on_give_up(
    what: JobEvent | Decision, failure: Exception | Err[object] | None = None, /
) -> None:
    """
    Log that retrying stopped for good, as `RetryLogger` does with its defaults.

    Use it as ``Retrying(on_give_up=on_give_up)`` or
    ``JobPolicy(on_give_up=on_give_up)``.

    .. versionadded:: 0.1.0
    """
    if isinstance(what, JobEvent):
        _DEFAULT_LOGGER.on_give_up(what)
    else:
        # None only from an untyped caller, which the method takes as well.
        _DEFAULT_LOGGER.on_give_up(what, cast("Exception | Err[object]", failure))
