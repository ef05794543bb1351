"""
The classifier: who must act on a failure, and whether waiting helps.

It reads the facts of the whole cause chain (`facts`, `chain`) and applies, in
order: the user's rules, a failure's own decision, error codes, statuses,
transport failures by class name or errno, validation errors by class name.
What no rule recognises is a programmer error.

Classifying never raises an `Exception`, whatever the object: a fact that
cannot be read counts as missing and the other facts still decide, and only
what no guard foresaw makes a failure "unclassifiable" (a programmer error).
A `BaseException` that is not an `Exception`, such as a `KeyboardInterrupt`
raised by a property, is let through, as it should be. It is bounded in time
whatever the shape: chains, groups, bodies and headers are read to a limit.
Rules are registered copy-on-write, so that classifying in other threads
meanwhile sees the rules before or after, never a half-made table.
"""

from __future__ import annotations

import abc
import threading
import time
from typing import TYPE_CHECKING, Final, TypeAlias, cast, overload

import attrs

from outcome._bucket import Bucket
from outcome._classify.chain import _chain, _errno, _Link
from outcome._classify.decision import Decision, _is_sound, _make_decision
from outcome._classify.facts import _LINK_ATTRIBUTES, _as_text, _attr, _Facts, _said
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
    from collections.abc import Callable, Iterator


def _should_retry(facts: _Facts) -> bool | None:
    """What the server said in its should-retry header, if it said."""
    headers = facts.header_table()
    for header in _SHOULD_RETRY_HEADERS:
        text = headers.get(header)
        if text is not None and text.lower() in {"true", "false"}:
            return text.lower() == "true"
    return None


@attrs.frozen
class _UserRule:
    bucket: Bucket
    transient: bool
    kind: str
    name: str


# A classifier's user rules, never changed once made: `register` makes anew,
# so a classification, which reads them once, sees them before or after a
# registration in another thread, never half-made. By class; the ABCs among
# those classes again, for their virtual subclasses; predicates, in order.
# A plain tuple, which unpacks faster than a NamedTuple.
_Rules: TypeAlias = tuple[
    "dict[type, _UserRule]",
    "dict[type, _UserRule]",
    "tuple[tuple[Callable[[object], bool], _UserRule], ...]",
]
_NO_RULES: Final[_Rules] = ({}, {}, ())
# Registrations, in any classifier, one at a time: none is lost to another.
_REGISTERING: Final = threading.Lock()
# The real MRO of a class, whatever its metaclass says __mro__ is.
_real_mro: Final = cast(
    "Callable[[type], tuple[type, ...]]", vars(type)["__mro__"].__get__
)
# How many members of exception groups are visited per leaf read, at most:
# room for a few levels of nesting around each leaf.
_VISITS_PER_LEAF: Final = 4
_END: Final = object()
# The name of the rule for each status, made once (the statuses read are valid).
_STATUS_RULES: Final = {status: f"status:{status}" for status in range(100, 600)}
_reads_nothing: Final = _LINK_ATTRIBUTES.isdisjoint
# tuple's own iterator: a tuple subclass's __iter__ or __getitem__ never runs.
_tuple_iterator: Final = cast(
    "Callable[[tuple[object, ...]], Iterator[object]]", vars(tuple)["__iter__"]
)


class Classifier:
    """
    Sorts failures into who must act and whether waiting helps.

    `classify` is pure, total (it returns a `Decision` for any object and never
    raises an `Exception`) and bounded in time: it follows at most `max_depth`
    links of a cause chain, reads at most `max_leaves` leaves of an exception
    group, and visits at most four times as many of its members, nested
    groups included, each once.

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
        max_leaves: How many leaves of an exception group are read; at most
            four times as many of its members are visited.
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
        self._rules: _Rules | None = None  # None until a rule is registered

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
        the order they were registered, after the class rules. It is safe to
        register while other threads classify: each classification sees the
        rules as they were before or after.

        >>> classifier = Classifier()
        >>> class PaymentDeclined(Exception): ...
        >>> fixable = Bucket.USER_FIXABLE
        >>> classifier.register(PaymentDeclined, bucket=fixable, kind="declined")
        >>> classifier.classify(PaymentDeclined()).rule
        'user:PaymentDeclined'

        Raises:
            TypeError: When `match` is neither a class nor callable, `bucket`
                is not a `Bucket`, `kind` is not a str, or `name` is neither
                a str nor None.
            ValueError: When `kind` is empty: it becomes the code of the
                errors made from the decision.
        """
        bucket_given: object = bucket
        if type(bucket_given) is not Bucket:
            msg = f"register() needs bucket=Bucket.<member>, not {bucket!r}"
            raise TypeError(msg)
        checked_kind = _as_text(kind)
        if checked_kind is None:
            msg = f"register() needs kind to be a str such as 'declined', not {kind!r}"
            raise TypeError(msg)
        if not checked_kind:
            msg = (
                "register() needs a kind that is not empty, such as 'declined': "
                "it becomes the code of the errors made from the failure"
            )
            raise ValueError(msg)
        label = None if name is None else _as_text(name)
        if name is not None and label is None:
            msg = f"register() needs name to be a str or None, not {name!r}"
            raise TypeError(msg)
        label = label or f"user:{getattr(match, '__qualname__', repr(match))}"
        rule = _UserRule(bucket, bool(transient), checked_kind, label)
        given: object = match  # checked at run time: callers may be untyped
        if not isinstance(given, type) and not callable(given):
            msg = (
                f"register() takes a class or a predicate, not {match!r}; e.g. "
                "register(MyError, bucket=Bucket.USER_FIXABLE)"
            )
            raise TypeError(msg)
        with _REGISTERING:  # copy on write: classifications never see it change
            types, abcs, predicates = self._rules or _NO_RULES
            if isinstance(given, type):
                # Real subclasses are found along the MRO, the most specific
                # first; an ABC is also kept aside for its virtual subclasses.
                types = {**types, given: rule}
                if isinstance(given, abc.ABCMeta):
                    abcs = {**abcs, cast("type", given): rule}
            else:
                predicates = (*predicates, (given, rule))
            self._rules = (types, abcs, predicates)

    def classify(self, failure: object) -> Decision:
        """
        Decide who must act on `failure` and whether it is worth retrying.

        `failure` may be an exception (its cause chain is read), an exception
        group (each leaf is classified: the group takes the most severe bucket,
        is transient only if every leaf is, and waits the longest Retry-After),
        an `Err` (its error is classified), an `Errors` or `ErrorDetail` (their
        buckets decide), or any other value (user rules, else a programmer
        error).

        It never raises an `Exception`, whatever the object: an attribute,
        header, body or code that cannot be read counts as missing and the
        rest still decides; only a failure that defeats every guard is
        "unclassifiable", a programmer error. A `BaseException` that is not
        an `Exception` (a `KeyboardInterrupt` or `SystemExit` raised by a
        property) gets through, as it should.

        >>> classify(ConnectionResetError()).transient
        True
        """
        try:
            if self._rules is None:  # else a rule may be for its class
                cls = type(failure)
                # A plain class hashes by identity: no metaclass code runs.
                verdict = _LONE.get(cls) if type(cls) is type else None
                if verdict is not None and isinstance(failure, BaseException):
                    decision = _lone(failure, verdict)
                    if decision is not None:
                        return decision
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
        rules = self._rules  # read once: a registration swaps in new rules
        if rules is not None:
            decision = self._user(links, found, rules)
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
            decision = _bug("default", failure, status)
        if rules is None and not found and len(links) == 1:
            _remember_lone(links[0], decision)
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
        if not found:  # no link says more: no status and no wait
            return _make_decision(
                bucket,
                transient,
                kind,
                None,
                code,
                None,
                False,  # noqa: FBT003 - the defer field, by position
                rule,
                link,
            )
        status = retry_after = None
        for facts in found:
            if facts.status is not None:
                status = facts.status
                break
        if transient:
            try:
                retry_after = _retry_after(found, self.clock())
            except Exception:  # noqa: BLE001 - a broken clock: no wait is known
                retry_after = None
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

    def _user(
        self, links: list[_Link], found: list[_Facts], rules: _Rules
    ) -> Decision | None:
        types, abcs, predicates = rules
        for link, _, _ in links:
            rule = None
            if types:  # inline: the one user rule lookup most classifications make
                try:
                    for klass in type(link).__mro__:
                        rule = types.get(klass)
                        if rule is not None:
                            break
                except Exception:  # noqa: BLE001 - a class with an odd metaclass
                    rule = _guarded_type_rule(type(link), types)
            if rule is None and (abcs or predicates):
                rule = _other_rule(link, abcs, predicates)
            if rule is not None:
                return self._decide(
                    found, link, (rule.bucket, rule.transient, rule.kind), rule.name
                )
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
            # One made unchecked (Decision._make) or changed since may be
            # unsound: an empty kind, a wait of inf. That is no opinion either.
            if type(decision) is Decision and _is_sound(decision):
                return decision
        return None

    def _code(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            for code in facts.codes:
                verdict = _by_code(code)
                if verdict is not None:
                    # A card declined for a reason the tables do not list
                    # (Stripe has dozens) still says the reason.
                    shown = facts.decline if verdict[2] == "declined" else None
                    return self._decide(
                        found, facts.link, verdict, f"code:{code}", shown or code
                    )
        return None

    def _status(self, found: list[_Facts]) -> Decision | None:
        for facts in found:
            status = facts.status
            if status is None:
                continue
            bucket, transient, kind = _by_status(status)
            rule = _STATUS_RULES[status]
            directive = _should_retry(facts) if facts.headers else None
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
        connection = None
        for entry in links:
            link, info, number = entry
            timeout = info.timeout
            if timeout or (
                timeout is None and number is not None and number in _TIMEOUT_ERRNOS
            ):
                return self._decide(found, link, (_VISIBLE, True, "timeout"), "timeout")
            if connection is None and (
                info.connection or (number is not None and number in _CONNECTION_ERRNOS)
            ):
                connection = entry
        if connection is not None:
            return self._decide(
                found, connection[0], (_VISIBLE, True, "connection"), "connection"
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
        # Each leaf on its own: one that cannot be classified is a bug among
        # the others, and does not make the whole group unclassifiable.
        decisions = [self.classify(leaf) for leaf in self._leaves(group)]
        if not decisions:
            return _bug("group", group)
        worst = max(decisions, key=lambda decision: decision.bucket.severity)
        waits = [d.retry_after for d in decisions if d.retry_after is not None]
        retry_after = max(waits) if waits else None
        return _make_decision(
            worst.bucket,
            all(decision.transient for decision in decisions),
            worst.kind,
            worst.status,
            worst.code,
            retry_after,
            retry_after is not None and retry_after > self.max_retry_after,
            f"group:{worst.rule}",
            worst.link,
        )

    def _leaves(self, group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
        """
        The leaves of `group`, depth first and each once, within a budget.

        Every member of every group reached costs a visit, whether a leaf, a
        nested group or not an exception at all; the walk ends after
        `max_leaves` leaves or four times as many visits, so neither a wide
        group nor a deep one costs anything past them. A group reached again
        (one that holds itself) is not read again, and one that makes new
        members on every read runs out of visits.
        """
        leaves: list[BaseException] = []
        visits = self.max_leaves * _VISITS_PER_LEAF
        # Kept, not only their ids, so that no id is reused while walking.
        seen: dict[int, object] = {id(group): group}
        pending = [_members(group)]
        while pending:
            member = next(pending[-1], _END)
            if member is _END:
                pending.pop()
                continue
            visits -= 1
            if visits < 0:
                break
            if id(member) in seen:
                continue
            seen[id(member)] = member
            kind = type(member)  # its real class: never what __class__ says
            if issubclass(kind, BaseExceptionGroup):
                pending.append(_members(member))
            elif issubclass(kind, BaseException):
                leaves.append(cast("BaseException", member))
                if len(leaves) == self.max_leaves:
                    break
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
        )(failure, self.classify)
        if type(decision) is Decision and _is_sound(decision):
            return decision
        return _unclassifiable(failure)


def _other_rule(
    link: object,
    abcs: dict[type, _UserRule],
    predicates: tuple[tuple[Callable[[object], bool], _UserRule], ...],
) -> _UserRule | None:
    """The user rule for a link that no class rule matched: ABCs, then predicates."""
    for klass, rule in abcs.items():  # only virtual subclasses get here
        try:
            matched = isinstance(link, klass)
        except Exception:  # noqa: BLE001 - an ABC's own check failing is no match
            matched = False
        if matched:
            return rule
    for predicate, rule in predicates:
        try:
            matched = predicate(link)
        except Exception:  # noqa: BLE001 - a user's predicate failing is no match
            matched = False
        if matched is True:
            return rule
    return None


# The decisions for a lone exception that says nothing, by its class: one
# with no cause or context, whose attributes the rules read are absent, None
# or {}, and whose errno, if its class has the slot, is None. Such a failure
# is decided by its class alone, so the first decision made for one is kept,
# with whether its class has the errno slot. Only classes read inline get in.
_LONE: Final[dict[type, tuple[Bucket, bool, str, str, bool]]] = {}
_LONE_LIMIT: Final = 4096  # classes made on the fly must not grow it forever


def _lone(
    failure: BaseException, verdict: tuple[Bucket, bool, str, str, bool]
) -> Decision | None:
    """
    The decision for `failure`, of a class in `_LONE`, if it is a lone failure.

    Its class was read inline (`_remember_lone`), so its cause, context and
    dict are BaseException's own and reading them runs no code of its own.
    """
    if failure.__cause__ is not None or failure.__context__ is not None:
        return None
    instance = failure.__dict__
    try:
        if type(instance) is not dict or not (
            _reads_nothing(instance) or _said(instance) is None
        ):
            return None
    except Exception:  # noqa: BLE001 - a key that cannot hash: the long way
        return None
    bucket, transient, kind, rule, has_errno = verdict
    if has_errno and _errno(failure) is not None:
        return None
    return _make_decision(
        bucket,
        transient,
        kind,
        None,
        None,
        None,
        False,  # noqa: FBT003 - the defer field, by position
        rule,
        failure,
    )


def _remember_lone(link: _Link, decision: Decision) -> None:
    """Keep the decision for a failure that was its chain's only link, said nothing."""
    failure, info, number = link
    cls = type(failure)
    # Only a plain class is looked up (its hash runs no code of its own).
    if info.fast and number is None and type(cls) is type and len(_LONE) < _LONE_LIMIT:
        _LONE[cls] = (
            decision.bucket,
            decision.transient,
            decision.kind,
            decision.rule,
            info.errno,
        )


def _guarded_type_rule(cls: type, types: dict[type, _UserRule]) -> _UserRule | None:
    """
    The class rule for a class whose metaclass raises for its MRO or its hash.

    Its real MRO is read, not what the metaclass says, and a class along it
    that cannot be hashed has no rule.
    """
    for klass in _real_mro(cls):
        try:
            rule = types.get(klass)
        except Exception:  # noqa: BLE001, S112 - a class that cannot be hashed
            continue
        if rule is not None:
            return rule
    return None


def _members(group: object) -> Iterator[object]:
    """
    An iterator over a group's members, read defensively.

    A subclass may make `exceptions` anything: what is not a tuple has no
    members, and a tuple subclass is iterated by tuple's own iterator, so no
    method it overrides runs and nothing is copied, however wide it is.
    """
    nested = _attr(group, "exceptions")
    if issubclass(type(nested), tuple):
        return _tuple_iterator(cast("tuple[object, ...]", nested))
    return iter(())


def _bug(rule: str, link: object, status: int | None = None) -> Decision:
    """A programmer error, not transient: what no rule recognises."""
    return _make_decision(
        _BUG,
        False,  # noqa: FBT003 - the transient field, by position
        "bug",
        status,
        None,
        None,
        False,  # noqa: FBT003 - the defer field, by position
        rule,
        link,
    )


def _unclassifiable(failure: object) -> Decision:
    return _bug("unclassifiable", failure)


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
