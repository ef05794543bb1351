"""
Walking a failure's cause chain: the failure, then its cause or else its context.

Cycle-safe and capped in length. Ordinary exceptions are read inline, which is
most of the cost of classifying; the first link that is not ordinary hands the
rest of the walk to a slower one that guards every read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias, cast

from outcome._classify.facts import (
    _CLASS_INFO,
    _LINK_ATTRIBUTES,
    _OPAQUE,
    _as_int,
    _class_info,
    _ClassInfo,
    _Facts,
    _said,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Bound once: CPython 3.11 compiles `name.method()` without its fast method
# call when `name` was imported (it could be a module), and these run for
# every link of every chain classified (about 20% of a chain's cost).
_cached_info: Final = _CLASS_INFO.get
_reads_nothing: Final = _LINK_ATTRIBUTES.isdisjoint
_read_facts: Final = _Facts.read
_read_own: Final = _Facts.read_own
# OSError's errno slot, read without a lookup on the instance's class.
_os_errno: Final = cast(
    "Callable[[BaseException], object]", vars(OSError)["errno"].__get__
)

# A link of the chain, its class's info and its errno.
_Link: TypeAlias = tuple[object, _ClassInfo, "int | None"]
# How long a chain may be and still be walked without checking for cycles.
_UNCHECKED_DEPTH: Final = 8


def _chain(failure: object, max_depth: int) -> tuple[list[_Link], list[_Facts]]:
    """
    The failure, then its cause (or else its context): cycle-safe, capped.

    Returns every link with its class's info and errno, and apart the facts
    of the links that carry more, which most rules need alone.

    Walking the chain is most of the cost of classifying, so `_walk_plain`
    reads the links it can inline: up to `_UNCHECKED_DEPTH` links without
    checking for cycles, then on, checking each link against those already
    read. `_walk_guarded` carries on from the first link it cannot read, and
    guards every read. No link is read twice.
    """
    links: list[_Link] = []
    found: list[_Facts] = []
    if not isinstance(failure, BaseException):
        return _walk_guarded(failure, max_depth, links, found, set())
    link = _walk_plain(failure, min(max_depth, _UNCHECKED_DEPTH), links, found)
    if link is None:
        return links, found
    seen = {id(entry[0]) for entry in links}
    if len(seen) < len(links):  # a cycle, walked round more than once
        return _once_each(links, found)
    if len(links) < max_depth:
        link = _walk_plain(link, max_depth, links, found, seen)
        if link is None:
            return links, found
    return _walk_guarded(link, max_depth, links, found, seen)


def _walk_plain(
    link: BaseException | None,
    limit: int,
    links: list[_Link],
    found: list[_Facts],
    seen: set[int] | None = None,
) -> BaseException | None:
    """
    Read ordinary exceptions inline; return the link where it stopped, if any.

    It stops at the end of the chain, after `limit` links, at a link that is
    not an ordinary exception, or, given the ids of the links `seen` so far,
    at a link read already (which ends the chain: None). A link's
    ``__dict__`` is first checked, in C, for any attribute the rules read;
    only if one holds something other than None or ``{}`` is the link read
    in full. OSError's errno slot is read directly.
    """
    remaining = limit - len(links)
    try:
        while link is not None:
            info = _cached_info(type(link)) or _class_info(type(link))
            if not remaining or not info.fast:
                return link
            instance = link.__dict__
            if type(instance) is not dict:
                return link
            if seen is not None and not _first_time(link, seen):
                return None
            number: int | None = None
            own = None if _reads_nothing(instance) else _said(instance)
            if own is not None:
                facts = _read_own(link, info, own)
                if facts is not None:
                    found.append(facts)
                    number = facts.errno
            elif info.errno:
                number = _errno(link)
            links.append((link, info, number))
            remaining -= 1
            following = link.__cause__
            link = link.__context__ if following is None else following
    except Exception:  # noqa: BLE001 - a hostile key or class: read it guarded
        if seen is not None:
            seen.discard(id(link))
        return link
    return None


def _first_time(link: object, seen: set[int]) -> bool:
    """Whether `link` is met for the first time; it is seen from now on."""
    if id(link) in seen:
        return False
    seen.add(id(link))  # taken back by the walk if it cannot read the link
    return True


def _walk_guarded(
    link: object,
    max_depth: int,
    links: list[_Link],
    found: list[_Facts],
    seen: set[int],
) -> tuple[list[_Link], list[_Facts]]:
    """Walk on from `link`, each link once and every read guarded."""
    while link is not None and len(links) < max_depth and id(link) not in seen:
        seen.add(id(link))
        try:
            info = _class_info(type(link))
        except Exception:  # noqa: BLE001 - a class that cannot even be named
            info = _OPAQUE
        facts = _read_facts(link, info)
        if facts is not None:
            found.append(facts)
        links.append((link, info, None if facts is None else facts.errno))
        link = _following(link)
    return links, found


def _once_each(
    links: list[_Link], found: list[_Facts]
) -> tuple[list[_Link], list[_Facts]]:
    """
    Keep each link of a cyclic chain once, in order.

    The links read inline are ordinary exceptions, whose cause cannot change
    between reads: once one repeats, every later one does, so the links in
    the order they first appear are the chain up to where it comes round.
    """
    kept: dict[int, _Link] = {}
    for entry in links:
        kept.setdefault(id(entry[0]), entry)
    kept_facts: dict[int, _Facts] = {}
    for facts in found:
        kept_facts.setdefault(id(facts.link), facts)
    return list(kept.values()), list(kept_facts.values())


def _errno(link: BaseException) -> int | None:
    """OSError's errno, which may have been set to anything (an IntEnum too)."""
    number = _os_errno(link)
    if type(number) is int or number is None:
        return number
    return _as_int(number)


def _following(link: object) -> BaseException | None:
    """
    The cause of `link`, or else its context, read with guarded getattr.

    Judged by its real class: a property may return an object whose
    ``__class__`` lies, or raises when isinstance() asks it.
    """
    try:
        following = getattr(link, "__cause__", None)
        if not issubclass(type(following), BaseException):
            following = getattr(link, "__context__", None)
    except Exception:  # noqa: BLE001 - a hostile link ends the chain
        return None
    if issubclass(type(following), BaseException):
        return cast("BaseException", following)
    return None
