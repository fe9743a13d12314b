"""Dates as pages write them, read into ISO 8601, and the time zone Chinese sites mean."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

#: Beijing time: what Chinese sites mean by a time written without an offset.
CHINA_TZ = timezone(timedelta(hours=8))

_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?"
    r"(?:\.\d+)?\s*(?P<tz>Z|[+-]\d\d:?\d\d|UTC|GMT)?)?"
)


def _tz(value: str | None, default: timezone | None) -> timezone | None:
    if not value:
        return default
    if value in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds and offset ("2020-02-12T22:17:54+08:00")."""
    return moment.isoformat(timespec="seconds")


def parse_date(value: Any, tz: timezone | None = CHINA_TZ) -> str | None:
    """ISO 8601 of a date as pages write it, with time and offset when the page gives a time.

    Reads unix timestamps, ISO strings, "2020-02-12 22:17", "2024/1/25 8:02:33", "2020年2月12日",
    RFC 2822 ("Thu, 17 Jun 2021 00:36:58 UTC"). A time without offset is taken in `tz` (Beijing by
    default); with `tz=None` such a time is dropped and only the date is kept. Relative dates
    ("昨天", "3小时前") give None.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{10}(?:\d{3})?", text):
        seconds = int(text[:10])
        if seconds <= 0:
            return None
        return iso(datetime.fromtimestamp(seconds, tz or UTC))
    match = _DATE_RE.search(text)
    if match:
        try:
            day = datetime(int(match["y"]), int(match["m"]), int(match["d"]))
            if match["H"] is None:
                return day.date().isoformat()
            moment = day.replace(
                hour=int(match["H"]), minute=int(match["M"]), second=int(match["S"] or 0)
            )
        except ValueError:
            return None
        zone = _tz(match["tz"], tz)
        if zone is None:
            return day.date().isoformat()
        return iso(moment.replace(tzinfo=zone))
    rfc2822: datetime | None
    try:
        rfc2822 = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        rfc2822 = None
    if rfc2822 is not None:
        if rfc2822.tzinfo is None:
            return iso(rfc2822.replace(tzinfo=tz)) if tz else rfc2822.date().isoformat()
        return iso(rfc2822)
    for fmt in ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None
