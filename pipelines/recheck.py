"""RecheckPipeline: what each re-check of an archived link observed, recorded as an observation.

A re-check (`FetchOutcome.recheck`, requested by the spider after the run's new links) comes
here read and cleaned (a 304, a 404 or a failure is not read: its status is known from the
answer). Its fetch is settled as a first fetch is (`crawler.outcomes.settle`; a page that
blocks the crawler backs its site off, as in the settle stage), and the archive records what it
observed (`Archive.record_observation`: unchanged, changed, gone or unreachable, with the served
bytes' pointer as evidence), never replacing what it holds. The re-check leaves the pipeline
here as an `Observation` item: the stages after this one are for first fetches (a link that is
archived already is no new link for them).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler import stats
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.extensions.backoff import SiteBackoff
from crawler.items import FetchOutcome, Observation, Observed, Status
from crawler.outcomes import settle

logger = logging.getLogger(__name__)


class RecheckPipeline:
    """Judges and records each re-check; other items pass."""

    def __init__(self, stats: StatsCollector, archive: Archive, backoff: SiteBackoff):
        self.stats = stats
        self.archive = archive
        self.backoff = backoff

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; records into the crawl's one open archive."""
        assert crawler.stats is not None
        return cls(
            crawler.stats,
            required(crawler, ArchiveExtension).archive,
            required(crawler, SiteBackoff),
        )

    def process_item(self, item: object) -> object:
        """Record a re-check as an observation (the item it becomes goes on); others pass."""
        if not isinstance(item, FetchOutcome) or not item.recheck:
            return item
        if item.body and item.http_status != 304:
            item.body_sha256 = hashlib.sha256(item.body).hexdigest()
        answered = item.status is not None  # decided from the HTTP answer or a failure
        status, reason = settle(item)
        if status == Status.BLOCKED and not answered:  # a wall served with 200
            self.backoff.blocked(item.final_url or item.canonical_url, reason or "blocked")
        try:
            # observed when the answer came (a failure: now)
            observation = self.archive.record_observation(item, status, reason, item.fetched_at)
        except (OSError, sqlite3.Error) as exc:
            stats.note_write_error(self.stats, exc)
            logger.error("archive write failed for %s: %s", item.canonical_url, exc)
            raise DropItem(f"re-check of {item.canonical_url} not recorded: {exc}") from exc
        if observation is None:
            raise DropItem(f"{item.canonical_url} is no archived link: its re-check is not kept")
        self._count(observation, status)
        return observation

    def _count(self, observation: Observation, status: Status) -> None:
        """Count an observation in stats and tell it in the log, one line."""
        self.stats.inc_value(stats.recheck(observation.outcome))
        if observation.http_status == 304:
            self.stats.inc_value(stats.RECHECKS_NOT_MODIFIED)
        if observation.outcome == Observed.UNREACHABLE and status == Status.FAILED:
            self.stats.inc_value(stats.RECHECKS_FAILED)  # counts in the run's error rate
        said = f" ({observation.reason})" if observation.reason else ""
        state = {True: "there", False: "gone", None: "not known"}[observation.alive]
        # unchanged pages, most re-checks, are told at DEBUG; the summary counts them
        level = logging.INFO if observation.outcome != Observed.UNCHANGED else logging.DEBUG
        logger.log(
            level,
            "%s: re-check %s%s; the page is %s",
            observation.canonical_url,
            observation.outcome,
            said,
            state,
        )
