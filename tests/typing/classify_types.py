"""
Type-level tests of the classifier, checked by mypy --strict and pyright strict.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from typing import assert_type

from outcome import (
    DEFAULT_CLASSIFIER,
    Bucket,
    Classifier,
    Decision,
    ErrorDetail,
    Errors,
    Ok,
    SelfClassifying,
    classify,
)


def decisions(exc: Exception) -> None:
    decision = classify(exc)
    assert_type(decision, Decision)
    assert_type(decision.bucket, Bucket)
    assert_type(decision.transient, bool)
    assert_type(decision.kind, str)
    assert_type(decision.status, int | None)
    assert_type(decision.code, str | None)
    assert_type(decision.retry_after, float | None)
    assert_type(decision.defer, bool)
    assert_type(decision.rule, str)
    assert_type(decision.link, object)
    assert_type(decision.replace(transient=False), Decision)
    assert_type(decision.replace(retry_after=None, link=exc, rule="mine"), Decision)
    decision.replace(trasient=False)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    decision.replace(transient="no")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    decision.replace(bucket="user_fixable")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    decision.transient = False  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


def anything_can_be_classified() -> None:
    assert_type(classify(Ok(1)), Decision)
    assert_type(classify(Errors()), Decision)
    assert_type(classify("a string"), Decision)
    assert_type(DEFAULT_CLASSIFIER.classify(None), Decision)


def classifiers() -> None:
    classifier = Classifier(max_retry_after=120.0, max_depth=8, clock=lambda: 0.0)
    classifier.register(KeyError, bucket=Bucket.USER_FIXABLE, kind="unknown_sku")
    classifier.register(
        lambda failure: "quota" in str(failure), bucket=Bucket.USER_VISIBLE
    )
    classifier.register(KeyError, bucket="user_fixable")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    classifier.register(KeyError, Bucket.USER_FIXABLE)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    Classifier(max_depth="8")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert_type(
        ErrorDetail.from_exception(KeyError(), "sku", classifier=classifier),
        ErrorDetail,
    )
    assert_type(
        Errors().add_exception(TimeoutError(), classifier=classifier), ErrorDetail
    )
    ErrorDetail.from_exception("boom")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    ErrorDetail.from_exception(KeyError(), classifier="fast")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    classifier.register(KeyError, bucket=Bucket.USER_FIXABLE, kind=None)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    classifier.register(KeyError, bucket=Bucket.USER_FIXABLE, name=3)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]


def decisions_are_checked() -> None:
    Decision(Bucket.USER_VISIBLE, True, "rate_limit", status=429, retry_after=2.0)
    Decision(Bucket.USER_VISIBLE, True, "rate_limit", status="429")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Decision(Bucket.USER_VISIBLE, True, None)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Decision("user_visible", True, "timeout")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Decision(Bucket.USER_VISIBLE, True, "timeout", retry_after="2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


class Declined(Exception):
    """Classifies itself."""

    def __outcome_decision__(self) -> Decision | None:
        return Decision(Bucket.USER_FIXABLE, transient=False, kind="declined")


def protocol() -> None:
    hook: SelfClassifying = Declined()
    assert_type(hook.__outcome_decision__(), Decision | None)
    _wrong: SelfClassifying = KeyError()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
