"""NormalizePipeline: Unicode NFC, no zero-width or control characters, tidy whitespace,
dates as ISO 8601."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from scrapy.crawler import Crawler

from crawler.items import FetchOutcome

# zero-width and bidi marks, BOM, soft hyphen; C0/C1 controls except \n and \t
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """NFC, invisible characters dropped, runs of spaces folded, at most one blank line."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text)  # after: a removed mark may split a pair
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_field(value: str | None) -> str | None:
    """A one-line metadata value, cleaned; None when nothing is left."""
    if value is None:
        return None
    value = " ".join(line for line in clean_text(value).split("\n") if line)
    return value or None


def iso_date(value: str | None) -> str | None:
    """ISO 8601: a date stays a date; a date-time keeps its offset (UTC when it has none)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


class NormalizePipeline:
    """Cleans every text field an extractor produced."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if not isinstance(item, FetchOutcome) or item.extracted is None:
            return item
        ex = item.extracted
        ex.text = clean_text(ex.text or "")
        for name in ("title", "author", "site", "language", "description"):
            setattr(ex, name, clean_field(getattr(ex, name)))
        published = iso_date(ex.published)
        if ex.published and published is None:
            self.stats.inc_value("sources/normalize/unparsed_date")
        ex.published = published
        return item
