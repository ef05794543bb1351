"""
Retry-After: how long the server asked to wait, from the headers of a chain.

``retry-after-ms`` and ``x-amz-retry-after`` (milliseconds), then
``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110) in any of its
three forms, which are all in UTC whatever the host's time zone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from outcome._classify.rules import _MILLISECOND_WAIT_HEADERS

if TYPE_CHECKING:
    from outcome._classify.facts import _Facts


def _date(text: str) -> float | None:
    """
    An HTTP-date as seconds since the epoch, or None when it is not one.

    RFC 9110 dates are in UTC: IMF-fixdate and RFC 850 say so with ``GMT``,
    but asctime says nothing, and a ``-0000`` zone or none at all (which
    servers also send) gives `parsedate_to_datetime` a naive datetime, which
    ``timestamp()`` would read in the host's local time. Naive means UTC here.
    """
    # Imported here: the email package costs `import outcome` several
    # milliseconds, and datetime one, and only a server that sends a date
    # needs them.
    from datetime import UTC  # noqa: PLC0415
    from email.utils import parsedate_to_datetime  # noqa: PLC0415

    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _retry_after(found: list[_Facts], now: float) -> float | None:
    """
    Return the seconds to wait, from the first link with a header that says.

    ``retry-after-ms``, then ``x-amz-retry-after`` (both milliseconds), then
    ``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110). Never negative.
    """
    for facts in found:
        if not facts.headers:
            continue
        headers = facts.header_table()
        for header in _MILLISECOND_WAIT_HEADERS:
            text = headers.get(header)
            value = None if text is None else _seconds(text)
            if value is not None:
                return max(0.0, value / 1000.0)
        text = headers.get("retry-after")
        if text is None:
            continue
        value = _seconds(text)
        if value is None:
            moment = _date(text)
            if moment is None:
                continue
            value = moment - now
        return max(0.0, value)
    return None
