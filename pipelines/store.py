"""StorePipeline: writes digests and link outcomes into the archive."""

from __future__ import annotations

import logging
import sqlite3
from typing import Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler import stats
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import DigestRead, FetchOutcome, Status

logger = logging.getLogger(__name__)


class StorePipeline:
    """The pipeline that writes (every write atomic and idempotent, `crawler.archive`).

    It writes what earlier stages decided and counts what it wrote; a write that fails (disk
    full, read-only) is counted and logged, leaves what is archived as it was, and fails the
    run (`crawler.extensions.report`), never the crawl.
    """

    def __init__(self, stats: StatsCollector, archive: Archive):
        self.stats = stats
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; writes into the crawl's one open archive."""
        assert crawler.stats is not None
        return cls(crawler.stats, required(crawler, ArchiveExtension).archive)

    def process_item(self, item: object) -> object:
        """Write one item; the item always comes back."""
        try:
            self._store(item)
        except (OSError, sqlite3.Error) as exc:
            stats.note_write_error(self.stats, exc)
            logger.error("archive write failed for %s: %s", _describe(item), exc)
        return item

    def _store(self, item: object) -> None:
        if isinstance(item, DigestRead):
            counts = self.archive.record_digest(item.digest, item.raw, item.read_at)
            if item.file_stat is not None:
                self.archive.note_digest_file(item.digest.source, *item.file_stat)
            self.stats.inc_value(stats.LINKS_NEW, counts["new_links"])
        elif isinstance(item, FetchOutcome):
            self._store_outcome(item)

    def _store_outcome(self, item: FetchOutcome) -> None:
        status = item.status or Status.FAILED
        item.article_id = self.archive.record_outcome(item)
        self.stats.inc_value(stats.outcome(status))
        site = urlsplit(item.canonical_url).hostname or "?"
        self.stats.inc_value(stats.site_outcome(site, status))
        if status != Status.ARCHIVED:
            self.stats.inc_value(stats.reason(status, item.reason))
            logger.info("%s: %s (%s)", item.canonical_url, status, item.reason)


def _describe(item: object) -> str:
    if isinstance(item, DigestRead):
        return f"digest {item.digest.source}"
    return str(getattr(item, "canonical_url", None) or getattr(item, "url", None) or item)
