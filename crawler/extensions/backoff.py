"""SiteBackoff: applies the site back-off policy (`crawler.throttle`) to the download slots.

One per crawl; the retry middleware tells it about throttling answers (429/503 that are waited
for) and the settle stage about pages that block the crawler. Other components find it with
``crawler.get_extension(SiteBackoff)``.
"""

from __future__ import annotations

import logging
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from crawler import stats, throttle

logger = logging.getLogger(__name__)


class SiteBackoff:
    """Slows a site down for the rest of the run when it asks for it or blocks the crawler."""

    def __init__(self, crawler: Crawler, block_delay: float, max_delay: float):
        self.crawler = crawler
        self.block_delay = block_delay
        self.max_delay = max_delay
        #: slot key -> (its delay before the site throttled, the delay set then)
        self._spaced: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy's extension manager."""
        settings = crawler.settings
        return cls(
            crawler,
            settings.getfloat("BLOCKED_SITE_DELAY"),
            settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0),
        )

    def throttled(self, key: str | None, wait: float) -> None:
        """A throttling answer is waited for: space the site's requests `wait` s apart."""
        slot = self._slot(key)
        if slot is None or key is None:
            return
        new = throttle.spaced(slot.delay, wait)
        if new is None:
            return
        before = self._spaced.get(key, (slot.delay, 0.0))[0]
        self._spaced[key] = (before, new)
        slot.delay = new
        self.crawler.stats.inc_value(stats.RETRY_SITE_BACKOFF)
        logger.info("backing off %s: one request every %.1f s", key, new)

    def answered(self, key: str | None) -> None:
        """The site answered without throttling: undo `throttled` (unless changed since)."""
        if key is None or key not in self._spaced:
            return
        before, mine = self._spaced.pop(key)
        slot = self._slot(key)
        if slot is not None and slot.delay == mine:
            slot.delay = before
            logger.info("%s answers again: delay back to %.1f s", key, before)

    def blocked(self, url: str, reason: str) -> None:
        """A page says the crawler is blocked: double the site's delay for the rest of the run."""
        host = urlsplit(url).hostname or ""
        slot = self._slot(host)
        if slot is None:
            return
        new = throttle.doubled(slot.delay, self.block_delay, self.max_delay)
        if new is None:
            return
        logger.warning("backing off %s: delay %.1f s -> %.1f s (%s)", host, slot.delay, new, reason)
        slot.delay = new
        self.crawler.stats.inc_value(stats.backoff(host))

    def _slot(self, key: str | None) -> Any:
        """The download slot of `key`, or None (no crawl running, or no such slot yet)."""
        if key is None:
            return None
        try:
            engine = self.crawler.engine
        except RuntimeError:  # Scrapy >= 2.14 raises before a crawl has started
            return None
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return None
        return downloader.slots.get(key)
