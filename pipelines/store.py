"""StorePipeline: writes digests and link outcomes into the archive."""

from __future__ import annotations

import logging
import sqlite3
from typing import Self
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector
from twisted.python.failure import Failure

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

    No exception leaves a link pending: any other error while storing an outcome, and any
    error an earlier stage raised on it (Scrapy's `item_error`), records the link `failed`
    with the exception named, counted in `sources/archive/store_errors`.
    """

    def __init__(self, stats: StatsCollector, archive: Archive):
        self.stats = stats
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; writes into the crawl's one open archive."""
        assert crawler.stats is not None
        pipeline = cls(crawler.stats, required(crawler, ArchiveExtension).archive)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def process_item(self, item: object) -> object:
        """Write one item; the item always comes back."""
        try:
            self._store(item)
        except (OSError, sqlite3.Error) as exc:
            stats.note_write_error(self.stats, exc)
            logger.error("archive write failed for %s: %s", _describe(item), exc)
        except Exception as exc:  # whatever it is, the link must not stay pending
            logger.exception("storing %s failed", _describe(item))
            self._store_error(item, exc)
        return item

    def item_error(self, item: object, failure: Failure, **_: object) -> None:
        """An earlier stage raised on an item (Scrapy's `item_error`): record why."""
        exc = failure.value
        if isinstance(exc, BaseException) and not isinstance(exc, DropItem):
            self._store_error(item, exc)

    def _store_error(self, item: object, exc: BaseException) -> None:
        """Record a fetch outcome whose storing raised as `failed`, the exception named."""
        self.stats.inc_value(stats.STORE_ERRORS)
        if isinstance(item, DigestRead):
            self.stats.inc_value(stats.DIGESTS_FAILED)
            errors = self.stats.get_value(stats.DIGESTS_ERRORS) or []
            why = f"{item.digest.source}: not stored: {type(exc).__name__}: {exc}"[:500]
            self.stats.set_value(stats.DIGESTS_ERRORS, [*errors, why])
            return
        if not isinstance(item, FetchOutcome):
            return
        failed = FetchOutcome(
            link_id=item.link_id,
            canonical_url=item.canonical_url,
            status=Status.FAILED,
            reason=f"store error: {type(exc).__name__}: {exc}"[:300],
            http_status=item.http_status,
            final_url=item.final_url,
            fetched_at=item.fetched_at,
            redirects=item.redirects,
            original=item.original,
        )
        try:
            self._store_outcome(failed)
        except Exception:
            logger.exception("recording %s as failed failed too", item.canonical_url)

    def _store(self, item: object) -> None:
        if isinstance(item, DigestRead):
            self.archive.assign_digest_id(item.digest)
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
