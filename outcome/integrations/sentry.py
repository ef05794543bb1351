"""
Sentry: bugs reach the tracker with the reference users were shown; the rest does not.

`before_send` is a ``before_send`` callback for ``sentry_sdk.init``. It reads
the exception of each error event and sorts it as the classifier does:

- a failure a retry loop or a job will try again (`outcome.Retrying`, or a
  job of `outcome.integrations.celery` or `outcome.integrations.huey`, which
  mark it before their ``on_retry`` hooks run) is dropped: it is not a
  failure yet;
- a failure the user can fix (a validation error, a declined card) is
  dropped: it is no bug, and the user was told;
- a programmer error is sent, tagged ``outcome.bucket``, ``outcome.kind`` and
  ``outcome.reference``: the reference (``ERR-...``) is the one its problem
  body showed the user, so support can search for it;
- a failure the user must be told about (an upstream that is down, a quota
  spent) is dropped, or, with ``report_visible=True``, sent at level
  ``warning`` with a fingerprint by kind, so that an operator gets one issue
  per kind ("quota") rather than one per stack trace.

An event with no exception, or one whose exception the classifier cannot
judge, is returned unchanged: `before_send` never raises and never drops what
it cannot judge.

`BeforeSend` makes one with another classifier (give it the one the web
integrations answer with, so that the references agree) or with
``report_visible``.

>>> from outcome.integrations.sentry import before_send
>>> def event_of(exc: BaseException) -> dict[str, object]:
...     return before_send({"level": "error"}, {"exc_info": (type(exc), exc, None)})
>>> event_of(ValueError("price is 'abc'"))["tags"]
{'outcome.bucket': 'programmer_error', 'outcome.kind': 'bug',
 'outcome.reference': 'ERR-...'}
>>> print(event_of(TimeoutError("10.0.0.7:5432 took too long")))
None

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Final, TypeVar, cast, final

from outcome._bucket import Bucket
from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier
from outcome._http import Problems
from outcome._retry import _will_retry

__all__ = ["BeforeSend", "before_send"]

# An event as Sentry types it (a TypedDict), or as a plain dict: returned as is.
_Event = TypeVar("_Event", bound=Mapping[str, object])

_WARNING: Final = "warning"


@final
class BeforeSend:
    """
    A ``before_send`` callback that sends bugs, tagged, and drops expected failures.

    Made once, at start-up, and given to ``sentry_sdk.init(before_send=...)``;
    `before_send` is the one made with the defaults.

    Args:
        classifier: Sorts each event's exception; the default one when
            `None`. Give it the classifier your API answers with, so that the
            reference in the event is the one its problem body showed.
        report_visible: Also send the failures a user must be told about
            and that will not be retried (an exhausted quota, an upstream
            still down after the last retry), at level ``warning`` and with
            the fingerprint ``["outcome", "user_visible", kind]``: one issue
            per kind, for an operator to act on.

    >>> from outcome import Classifier
    >>> from outcome.integrations.sentry import BeforeSend
    >>> BeforeSend(classifier=Classifier(), report_visible=True)
    BeforeSend(classifier=<outcome.Classifier object at ...>, report_visible=True)

    Raises:
        TypeError: When `classifier` is not a `outcome.Classifier`, or
            `report_visible` is not a bool.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_classifier", "_problems", "_report_visible")

    def __init__(
        self, *, classifier: Classifier | None = None, report_visible: bool = False
    ) -> None:
        """Check the options once, so that judging an event never fails on them."""
        if classifier is None:
            classifier = DEFAULT_CLASSIFIER
        elif not isinstance(cast("object", classifier), Classifier):  # untyped callers
            msg = (
                "BeforeSend() takes classifier=Classifier(...) or None, "
                f"not {classifier!r}"
            )
            raise TypeError(msg)
        if type(cast("object", report_visible)) is not bool:
            msg = (
                "BeforeSend() takes report_visible=True or report_visible=False, "
                f"not {report_visible!r}"
            )
            raise TypeError(msg)
        self._classifier = classifier
        self._problems = Problems(classifier=classifier)
        self._report_visible = report_visible

    def __repr__(self) -> str:
        """Show the options it was made with."""
        return (
            f"BeforeSend(classifier={self._classifier!r}, "
            f"report_visible={self._report_visible!r})"
        )

    def __call__(self, event: _Event, hint: Mapping[str, object]) -> _Event | None:
        """
        Return the event to send, tagged, or `None` to drop it.

        Args:
            event: The event Sentry is about to send.
            hint: What Sentry knows beside it; ``hint["exc_info"]`` holds the
                exception.

        Returns:
            `event`, tagged (and, for a user-visible failure, at level
            ``warning``), or unchanged when it holds no exception that can
            be judged; `None` to drop it.
        """
        try:
            exc = _exception_of(hint)
            if exc is None:
                return event
            if _will_retry(exc):
                return None
            # Classified here first: a classifier that fails is seen to fail,
            # where from_exception would call the failure a bug.
            self._classifier.classify(exc)
            # As the answer decided: an exception that carries Errors is its
            # most severe error, with the reference its body showed.
            detail = self._problems.detail_of(exc)
        except Exception:  # noqa: BLE001 - what cannot be judged is sent as it is
            return event
        bucket = detail.bucket
        if bucket is Bucket.USER_FIXABLE or (
            bucket is Bucket.USER_VISIBLE and not self._report_visible
        ):
            return None
        try:
            fields = cast("MutableMapping[str, object]", event)
            _tag(
                fields,
                {
                    "outcome.bucket": bucket.value,
                    "outcome.kind": detail.code,
                    "outcome.reference": detail.reference,
                },
            )
            if bucket is Bucket.USER_VISIBLE:
                fields["level"] = _WARNING
                fields["fingerprint"] = ["outcome", bucket.value, detail.code]
        except Exception:  # noqa: BLE001, S110 - an event that cannot be tagged is sent
            pass
        return event


def _exception_of(hint: object) -> BaseException | None:
    """The exception in a hint's ``exc_info``, or `None` when it holds none."""
    if not isinstance(hint, Mapping):
        return None
    exc_info = cast("Mapping[str, object]", hint).get("exc_info")
    if not isinstance(exc_info, tuple):
        return None
    parts = cast("tuple[object, ...]", exc_info)
    exc = parts[1] if len(parts) == 3 else None  # noqa: PLR2004 - type, value, traceback
    return exc if isinstance(exc, BaseException) else None


def _tag(event: MutableMapping[str, object], tags: Mapping[str, str]) -> None:
    """Add `tags` to the event's, whichever form Sentry gave them."""
    given = event.get("tags")
    if isinstance(given, MutableMapping):
        cast("MutableMapping[str, object]", given).update(tags)
    elif isinstance(given, list):
        cast("list[object]", given).extend([key, value] for key, value in tags.items())
    else:
        event["tags"] = dict(tags)


before_send: Final = BeforeSend()
"""
The ``before_send`` made with the defaults.

Use it as ``sentry_sdk.init(dsn=..., before_send=before_send)``.

.. versionadded:: 0.1.0
"""
