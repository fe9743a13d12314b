"""SettlePipeline: what each fetch ends as, before it is written.

The answer's own status (HTTP, network) wins over what the extractor read from the page
(`crawler.outcomes.settle`). A blocked link gets its next attempt (`crawler.throttle.retry_at`:
BLOCKED_BACKOFF doubled per attempt, or the site's longer Retry-After); a page that blocks the
crawler although served with HTTP 200 (a verification wall) backs its whole site off for the
rest of the run (`SiteBackoff`; 429 and 503 are the retry middleware's to back off).
"""

from __future__ import annotations

import time
from typing import Self

from scrapy.crawler import Crawler

from crawler import throttle
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.extensions.backoff import SiteBackoff
from crawler.items import FetchOutcome, Status
from crawler.outcomes import settle


class SettlePipeline:
    """Sets each fetch outcome's final status, reason and next attempt."""

    def __init__(self, archive: Archive, backoff: SiteBackoff, blocked_backoff: float):
        self.archive = archive
        self.backoff = backoff
        self.blocked_backoff = blocked_backoff

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy."""
        return cls(
            required(crawler, ArchiveExtension).archive,
            required(crawler, SiteBackoff),
            crawler.settings.getfloat("BLOCKED_BACKOFF"),
        )

    def process_item(self, item: object) -> object:
        """Settle a fetch outcome; other items pass."""
        if not isinstance(item, FetchOutcome):
            return item
        answered = item.status is not None  # decided from the HTTP answer or a failure
        item.status, item.reason = settle(item)
        if item.status == Status.BLOCKED:
            asked = throttle.retry_after_seconds(
                next((v for k, v in item.headers if k.lower() == "retry-after"), None)
            )
            attempts = self.archive.link_attempts(item.link_id) + 1
            item.next_attempt = throttle.retry_at(
                time.time(), attempts, self.blocked_backoff, asked
            )
            if not answered:
                self.backoff.blocked(item.final_url or item.canonical_url, item.reason or "blocked")
        return item
