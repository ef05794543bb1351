"""Bucket: who must act on a failure, the one fact every other module shares."""

from __future__ import annotations

import enum
import functools


@functools.total_ordering
class Bucket(enum.Enum):
    """
    Who must act on a failure.

    Members are ordered by severity, least first, so ``max`` of several buckets
    is the one that decides how a collection of errors is reported.

    >>> Bucket.USER_FIXABLE < Bucket.PROGRAMMER_ERROR
    True
    >>> max([Bucket.USER_VISIBLE, Bucket.USER_FIXABLE])
    <Bucket.USER_VISIBLE: 'user_visible'>

    .. versionadded:: 0.1.0
    """

    USER_FIXABLE = "user_fixable"
    """The user can correct the input: an invalid expiry, a declined card."""

    USER_VISIBLE = "user_visible"
    """The user must be told, with nothing to fix: a gateway is down, try later."""

    PROGRAMMER_ERROR = "programmer_error"
    """A bug or a misconfiguration: it belongs in the exception tracker."""

    @property
    def severity(self) -> int:
        """
        Rank of this bucket by severity, from 0 (user-fixable) to 2 (programmer error).

        >>> Bucket.PROGRAMMER_ERROR.severity
        2
        """
        return _SEVERITY[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Bucket):
            return NotImplemented
        return _SEVERITY[self] < _SEVERITY[other]


_SEVERITY = {
    Bucket.USER_FIXABLE: 0,
    Bucket.USER_VISIBLE: 1,
    Bucket.PROGRAMMER_ERROR: 2,
}
