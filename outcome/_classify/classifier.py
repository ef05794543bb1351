"""
The classifier: who must act on a failure, and whether waiting helps.

It reads the facts of the whole cause chain (`facts`, `chain`) and applies, in
order: the user's rules, a failure's own decision, error codes, statuses,
transport failures by class name or errno, validation errors by class name.
What no rule recognises is a programmer error.
"""

from __future__ import annotations

import abc
import time
from typing import TYPE_CHECKING, Final, cast, overload

import attrs

from outcome._bucket import Bucket
from outcome._classify.chain import _chain, _Link
from outcome._classify.decision import Decision, _make_decision
from outcome._classify.facts import _attr, _Facts
from outcome._classify.retry_after import _retry_after
from outcome._classify.rules import (
    _BUG,
    _CONNECTION_ERRNOS,
    _FIXABLE,
    _SHOULD_RETRY_HEADERS,
    _TIMEOUT_ERRNOS,
    _VISIBLE,
    _by_code,
    _by_status,
)
from outcome._result import Err

if TYPE_CHECKING:
    from collections.abc import Callable


def _should_retry(facts: _Facts) -> bool | None:
    """What the server said in its should-retry header, if it said."""
    for header in _SHOULD_RETRY_HEADERS:
        text = facts.header(header)
        if text is not None and text.lower() in {"true", "false"}:
            return text.lower() == "true"
    return None


@attrs.frozen
class _UserRule:
    bucket: Bucket
    transient: bool
    kind: str
    name: str


class Classifier:
    """
    Sorts failures into who must act and whether waiting helps.

    `classify` is pure, total (it returns a `Decision` for any object and never
    raises) and bounded in time: it follows at most `max_depth` links of a
    cause chain and at most `max_leaves` exceptions of a group.

    Rules registered with `register` take precedence over the shipped ones.
    Then, looked for along the whole chain, outermost first: an error code
    that tells (quota exhausted, card declined, throttled), the HTTP status
    (with the server's own ``x-should-retry``), timeouts and connection
    failures by class name or errno, validation errors by class name. What no
    rule recognises is a programmer error and not transient: bugs reach the
    exception tracker instead of being retried.

    Args:
        max_retry_after: The longest Retry-After, in seconds, that a decision
            may ask to wait in place; beyond it the decision says `defer`.
        max_depth: How many links of a cause chain are read.
        max_leaves: How many exceptions of an exception group are read.
        clock: Seconds since the epoch, for Retry-After dates.

    >>> classifier = Classifier()
    >>> classifier.classify(TimeoutError("gateway")).kind
    'timeout'
    >>> classifier.classify(KeyError("sku")).bucket
    <Bucket.PROGRAMMER_ERROR: 'programmer_error'>

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        max_retry_after: float = 60.0,
        max_depth: int = 16,
        max_leaves: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (max_retry_after >= 0 and max_depth >= 1 and max_leaves >= 1):
            msg = (
                "Classifier needs max_retry_after >= 0, max_depth >= 1 and "
                f"max_leaves >= 1, got {max_retry_after!r}, {max_depth!r}, "
                f"{max_leaves!r}"
            )
            raise ValueError(msg)
        self.max_retry_after = max_retry_after
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.clock = clock
        self._type_rules: dict[type, _UserRule] = {}
        self._abc_rules: dict[type, _UserRule] = {}
        self._predicate_rules: list[tuple[Callable[[object], bool], _UserRule]] = []

    @overload
    def register(
        self,
        match: type,
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None: ...

    @overload
    def register(
        self,
        match: Callable[[object], bool],
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None: ...

    def register(
        self,
        match: type | Callable[[object], bool],
        /,
        *,
        bucket: Bucket,
        transient: bool = False,
        kind: str = "custom",
        name: str | None = None,
    ) -> None:
        """
        Add a rule that takes precedence over the shipped ones.

        `match` is a class (an exception class or any error value's class; ABC
        virtual subclasses count) or a predicate called with each link of the
        chain. A class rule costs the same however many are registered; the
        most specific class along the failure's MRO wins. Predicates run in
        the order they were registered, after the class rules.

        >>> classifier = Classifier()
        >>> class PaymentDeclined(Exception): ...
        >>> fixable = Bucket.USER_FIXABLE
        >>> classifier.register(PaymentDeclined, bucket=fixable, kind="declined")
        >>> classifier.classify(PaymentDeclined()).rule
        'user:PaymentDeclined'

        Raises:
            TypeError: When `match` is neither a class nor callable, or
                `bucket` is not a `Bucket`.
        """
        bucket_given: object = bucket
        if type(bucket_given) is not Bucket:
            msg = f"register() needs bucket=Bucket.<member>, not {bucket!r}"
            raise TypeError(msg)
        label = name or f"user:{getattr(match, '__qualname__', repr(match))}"
        rule = _UserRule(bucket, bool(transient), kind, label)
        given: object = match  # checked at run time: callers may be untyped
        if isinstance(given, type):
            # Real subclasses are found along the MRO, the most specific first;
            # an ABC is also kept aside for its virtual subclasses.
            self._type_rules[given] = rule
            if isinstance(given, abc.ABCMeta):
                self._abc_rules[given] = rule
        elif callable(given):
            self._predicate_rules.append((given, rule))
        else:
            msg = (
                f"register() takes a class or a predicate, not {match!r}; e.g. "
                "register(MyError, bucket=Bucket.USER_FIXABLE)"
            )
            raise TypeError(msg)

    def classify(self, failure: object) -> Decision:
        """
        Decide who must act on `failure` and whether it is worth retrying.

        `failure` may be an exception (its cause chain is read), an exception
        group (each leaf is classified: the group takes the most severe bucket,
        is transient only if every leaf is, and waits the longest Retry-After),
        an `Err` (its error is classified), an `Errors` or `ErrorDetail` (their
        buckets decide), or any other value (user rules, else a programmer
        error).

        >>> classify(ConnectionResetError()).transient
        True
        """
        try:
            return self._classify(failure)
        except Exception:  # noqa: BLE001 - total: a hostile object is a bug report
            return _unclassifiable(failure)

    # The parts ----------------------------------------------------------------

    def _classify(self, failure: object) -> Decision:
        if isinstance(failure, BaseException):
            if isinstance(failure, BaseExceptionGroup):
                return self._group(cast("BaseExceptionGroup[BaseException]", failure))
        elif type(failure) is Err:
            return self._classify(cast("Err[object]", failure).err_value)
        else:
            reported = _attr(type(failure), "__outcome_classify__")
            if reported is not None:
                return self._reported(failure, reported)
        links, found = _chain(failure, self.max_depth)
        decision = None
        if self._type_rules or self._abc_rules or self._predicate_rules:
            decision = self._user(links, found)
        if decision is None and found:
            decision = (
                self._self_classifying(found)
                or self._code(found)
                or self._status(found)
            )
        if decision is None:
            decision = self._transport(links, found) or self._validation(links, found)
        if decision is None:
            status = found[0].status if found and found[0].link is failure else None
            return Decision(
                _BUG, transient=False, kind="bug", status=status, link=failure
            )
        return decision

    def _decide(
        self,
        found: list[_Facts],
        link: object,
        verdict: tuple[Bucket, bool, str],
        rule: str,
        code: str | None = None,
    ) -> Decision:
        bucket, transient, kind = verdict
        status = retry_after = None
        for facts in found:
            if facts.status is not None:
                status = facts.status
                break
        if transient and found:
            retry_after = _retry_after(found, self.clock())
        return _make_decision(
            bucket,
            transient,
            kind,
            status,
            code,
            retry_after,
            retry_after is not None and retry_after > self.max_retry_after,
            rule,
            link,
        )

    def _user(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        for link, _, _ in links:
            rule = self._user_rule(link)
            if rule is not None:
                return self._decide(
                    found, link, (rule.bucket, rule.transient, rule.kind), rule.name
                )
        return None

    def _user_rule(self, link: object) -> _UserRule | None:
        if self._type_rules:
            for klass in type(link).__mro__:
                rule = self._type_rules.get(klass)
                if rule is not None:
                    return rule
        for klass, rule in self._abc_rules.items():  # only virtual subclasses get here
            if isinstance(link, klass):
                return rule
        for predicate, rule in self._predicate_rules:
            try:
                matched = predicate(link)
            except Exception:  # noqa: BLE001 - a user's predicate failing is no match
                matched = False
            if matched is True:
                return rule
        return None

    def _self_classifying(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            method = facts.hook
            if not callable(method):
                continue
            try:
                decision = method()
            except Exception:  # noqa: BLE001, S112 - a broken hook is no opinion
                continue
            if type(decision) is Decision:
                return decision
        return None

    def _code(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            for code in facts.codes:
                verdict = _by_code(code)
                if verdict is not None:
                    return self._decide(
                        found, facts.link, verdict, f"code:{code}", code
                    )
        return None

    def _status(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            if facts.status is None:
                continue
            bucket, transient, kind = _by_status(facts.status)
            rule = f"status:{facts.status}"
            directive = _should_retry(facts)
            if directive is not None:
                transient = directive
                rule += "+should-retry"
                if transient:
                    bucket = _VISIBLE
            return self._decide(found, facts.link, (bucket, transient, kind), rule)
        return None

    def _transport(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        # A timeout anywhere in the chain decides before a connection failure:
        # stripe wraps requests' ReadTimeout in its own APIConnectionError.
        for link, info, number in links:
            timeout = info.timeout
            if timeout or (timeout is None and number in _TIMEOUT_ERRNOS):
                return self._decide(found, link, (_VISIBLE, True, "timeout"), "timeout")
        for link, info, number in links:
            if info.connection or number in _CONNECTION_ERRNOS:
                return self._decide(
                    found, link, (_VISIBLE, True, "connection"), "connection"
                )
        return None

    def _validation(self, links: list[_Link], found: list[_Facts]) -> Decision | None:
        for link, info, _ in links:
            if info.validation:
                return self._decide(
                    found, link, (_FIXABLE, False, "validation"), "validation"
                )
        return None

    def _group(self, group: BaseExceptionGroup[BaseException]) -> Decision:
        decisions = [self._classify(leaf) for leaf in self._leaves(group)]
        if not decisions:
            return Decision(_BUG, transient=False, kind="bug", rule="group", link=group)
        worst = max(decisions, key=lambda decision: decision.bucket.severity)
        waits = [d.retry_after for d in decisions if d.retry_after is not None]
        retry_after = max(waits) if waits else None
        return worst.replace(
            transient=all(decision.transient for decision in decisions),
            retry_after=retry_after,
            defer=retry_after is not None and retry_after > self.max_retry_after,
            rule=f"group:{worst.rule}",
        )

    def _leaves(self, group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
        leaves: list[BaseException] = []
        pending: list[BaseException] = [group]
        while pending and len(leaves) < self.max_leaves:
            current = pending.pop()
            if isinstance(current, BaseExceptionGroup):
                # Read defensively: a subclass may make `exceptions` anything.
                nested = _attr(cast("object", current), "exceptions")
                if isinstance(nested, tuple):
                    members = cast("tuple[object, ...]", nested)
                    pending.extend(
                        member
                        for member in reversed(members)
                        if isinstance(member, BaseException)
                    )
            else:
                leaves.append(current)
        return leaves

    def _reported(self, failure: object, hook: object) -> Decision:
        """
        The decision of a value that holds failures, such as `Errors`.

        Its class defines ``__outcome_classify__(self, classify)``, which
        decides for the failures it holds and classifies their causes with
        `classify`, this classifier. It is read from the class only.
        """
        decision = cast(
            "Callable[[object, Callable[[object], Decision]], object]", hook
        )(failure, self._classify)
        return decision if type(decision) is Decision else _unclassifiable(failure)


def _unclassifiable(failure: object) -> Decision:
    return Decision(
        _BUG, transient=False, kind="bug", rule="unclassifiable", link=failure
    )


DEFAULT_CLASSIFIER: Final = Classifier()
"""
The classifier used when none is given; rules registered on it apply everywhere.

.. versionadded:: 0.1.0
"""


def classify(failure: object) -> Decision:
    """
    Classify `failure` with `DEFAULT_CLASSIFIER`; see `Classifier.classify`.

    >>> decision = classify(TimeoutError("the gateway took too long"))
    >>> decision.bucket, decision.transient, decision.kind
    (<Bucket.USER_VISIBLE: 'user_visible'>, True, 'timeout')

    .. versionadded:: 0.1.0
    """
    return DEFAULT_CLASSIFIER.classify(failure)
