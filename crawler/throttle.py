"""The one site back-off policy: what a site's "slow down" means, in seconds.

Pure arithmetic, no Scrapy: `crawler.extensions.backoff.SiteBackoff` applies it to the crawl's
download slots, the settle stage to a blocked link's next attempt.

* A ``Retry-After`` header (delta-seconds or HTTP-date) asks for a wait: `retry_after_seconds`.
* A throttling answer (429/503) that is waited for spaces the site's requests that far apart
  until the site answers with something else: `spaced`.
* A page that says the crawler is blocked (a verification wall, "访问过于频繁") doubles the
  site's delay for the rest of the run, at least `floor`, at most `ceiling`: `doubled`.
* A blocked link is tried again by a later run after `backoff * 2**(attempts - 1)` seconds, or
  after the site's own Retry-After when that is longer: `retry_at`.
* An archived link is checked again on a schedule that thins out with the link's age (time
  since it was first cited): `next_check` (RECHECK_SCHEDULE).
"""

from __future__ import annotations

import time
from datetime import UTC
from email.utils import parsedate_to_datetime

#: The longest wait a Retry-After is taken at (a year): a larger value means "not soon".
RETRY_AFTER_CEILING = 365 * 86400.0


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (delta-seconds or HTTP-date), or None.

    Malformed values give None; absurdly large ones are taken as `RETRY_AFTER_CEILING`.
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), RETRY_AFTER_CEILING)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return min(max(0.0, stamp - (time.time() if now is None else now)), RETRY_AFTER_CEILING)


def spaced(current: float, wait: float) -> float | None:
    """The delay a throttling site gets while a request waits `wait` s; None to leave it."""
    return wait if wait > current else None


def doubled(current: float, floor: float, ceiling: float) -> float | None:
    """The delay of a site that blocked the crawler: twice as long, in [floor, ceiling]."""
    new = min(max(current * 2, floor), ceiling)
    return new if new > current else None


def retry_at(now: float, attempts: int, backoff: float, retry_after: float | None) -> float:
    """When a blocked link may be tried again: the back-off doubled per attempt, or longer."""
    at = now + backoff * float(2 ** max(0, attempts - 1))
    return max(at, now + retry_after) if retry_after is not None else at


#: A re-check schedule: (age limit in seconds or None for "any age", interval in seconds), in
#: order of growing age; the last limit is None (RECHECK_SCHEDULE, parsed by crawler.config).
Schedule = tuple[tuple[float | None, float], ...]

DAY = 86400.0
#: Daily in a link's first week, weekly to three months, monthly after.
DEFAULT_SCHEDULE: Schedule = ((7 * DAY, DAY), (90 * DAY, 7 * DAY), (None, 30 * DAY))


def check_interval(age: float, schedule: Schedule) -> float:
    """Seconds between re-checks of a link `age` seconds after it was first cited."""
    for limit, every in schedule:
        if limit is None or age < limit:
            return every
    return schedule[-1][1] if schedule else DAY


def next_check(cited_at: float, now: float, schedule: Schedule) -> float:
    """When a link first cited at `cited_at` and checked `now` is checked next."""
    return now + check_interval(max(0.0, now - cited_at), schedule)
