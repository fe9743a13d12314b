"""Backing a whole site off at once when it says it is overloaded or blocking us."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def back_off(crawler: Crawler, url: str, reason: str, *, at_least: float | None = None) -> None:
    """Double the download delay of `url`'s site (at least BLOCKED_SITE_DELAY seconds).

    Applies to every request still queued for that site in this run; AutoThrottle may lower it
    again only slowly, as responses come back fine.
    """
    try:
        engine = crawler.engine
    except RuntimeError:  # Scrapy >= 2.14 raises before a crawl has started
        return
    if engine is None or engine.downloader is None:
        return
    host = urlsplit(url).hostname or ""
    slot = engine.downloader.slots.get(host)
    if slot is None:
        return
    floor = at_least if at_least is not None else crawler.settings.getfloat("BLOCKED_SITE_DELAY")
    new = min(max(slot.delay * 2, floor), crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60))
    if new > slot.delay:
        logger.warning("backing off %s: delay %.1f s -> %.1f s (%s)", host, slot.delay, new, reason)
        slot.delay = new
        crawler.stats.inc_value(f"sources/backoff/{host}")
