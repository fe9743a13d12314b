"""RunReport: progress lines during a crawl, a report file and a summary at its end, and the
run's verdict.

The verdict goes into the crawl's stats: ``sources/failures`` (why the run failed as a whole,
empty when it did not), ``sources/exit_code`` (what `crawler.commands.crawl` exits with) and,
for a failed run, ``finish_reason`` = ``failed`` (monitoring tools that read Scrapy's stats
take any finish reason but ``finished`` as a failure). Switched off (`NotConfigured`) by
``RUN_REPORT_ENABLED = False``; the crawl then exits 0 whatever happened.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from crawler import stats as keys
from crawler.archive import Archive
from crawler.archive.records import now_iso
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import OUTCOMES, Role, Status

logger = logging.getLogger(__name__)

#: The finish reason a failed run is closed with (in Scrapy's `finish_reason` stat).
FAILED_REASON = "failed"


class RunReport:
    """Logs progress every PROGRESS_INTERVAL seconds and writes `runs/<id>.json` at the end."""

    def __init__(self, crawler: Crawler, stats: StatsCollector):
        self.crawler = crawler
        self.stats = stats
        self.interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        self.max_error_rate = crawler.settings.getfloat("MAX_ERROR_RATE")
        self.started = time.time()
        # the pid keeps the reports of a distributed run's processes apart
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(self.started))}-{os.getpid()}"
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; `NotConfigured` when RUN_REPORT_ENABLED is off."""
        if not crawler.settings.getbool("RUN_REPORT_ENABLED", True):
            raise NotConfigured("RUN_REPORT_ENABLED is off")
        assert crawler.stats is not None
        ext = cls(crawler, crawler.stats)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def archive(self) -> Archive:
        """The crawl's open archive (extensions are all built before it is asked for)."""
        return required(self.crawler, ArchiveExtension).archive

    def spider_opened(self, spider: Spider) -> None:
        """Start the progress lines."""
        if self.interval > 0:
            self.loop = task.LoopingCall(self.progress)
            self.loop.start(self.interval, now=False)

    def _count(self, key: str) -> int:
        return int(self.stats.get_value(key, 0) or 0)

    def progress(self) -> None:
        """One line: links done of those scheduled, rate, archived and failed so far."""
        done = sum(self._count(keys.outcome(s)) for s in OUTCOMES)
        total = self._count(keys.LINKS_SCHEDULED)
        rate = done / max(time.time() - self.started, 1e-6)
        logger.info(
            "progress: %d/%d links done (%.1f/s), %d archived, %d failed",
            done,
            total,
            rate,
            self._count(keys.outcome(Status.ARCHIVED)),
            self._count(keys.outcome(Status.FAILED)),
        )

    def report(self, reason: str) -> dict[str, Any]:
        """The run report (runs/<id>.json) from the crawl's stats."""
        stats = self.stats.get_stats()
        links = {str(s): self._count(keys.outcome(s)) for s in OUTCOMES}
        not_archived = tuple(f"{keys.PREFIX}/{s}/" for s in OUTCOMES if s != Status.ARCHIVED)
        by_reason = {
            k.removeprefix(f"{keys.PREFIX}/"): v
            for k, v in stats.items()
            if k.startswith(not_archived)
        }
        return {
            "run": self.run_id,
            "started": now_iso(self.started),
            "finished": now_iso(),
            "seconds": round(time.time() - self.started, 3),
            "finish_reason": reason,
            "recovered": self.archive.recovered,
            "damaged": self._damaged(),
            "digests": {
                "read": self._count(keys.DIGESTS_READ),
                "unchanged": self._count(keys.DIGESTS_UNCHANGED),
                "failed": self._count(keys.DIGESTS_FAILED),
                "errors": stats.get(keys.DIGESTS_ERRORS, []),
            },
            "entries": self._count(keys.ENTRIES),
            "links": {
                "cited_source": self._count(keys.cited(Role.SOURCE)),
                "cited_related": self._count(keys.cited(Role.RELATED)),
                "invalid": self._count(keys.LINKS_INVALID),
                "new": self._count(keys.LINKS_NEW),
                "scheduled": self._count(keys.LINKS_SCHEDULED),
                "resumed": self._count(keys.LINKS_RESUMED),
                "already_archived": self._count(keys.not_fetched(Status.ARCHIVED)),
                **links,
            },
            "sites": keys.sites(stats),
            "retries": {
                k.removeprefix(f"{keys.RETRY}/"): v
                for k, v in stats.items()
                if k.startswith(f"{keys.RETRY}/")
            },
            "reasons": by_reason,
            "bytes": {
                "warc": self._count(keys.WARC_BYTES),
                "downloaded": self._count("downloader/response_bytes"),
            },
        }

    def _damaged(self) -> list[str]:
        """The damaged records the archive met ("<file>: why"), counted in the stats."""
        damaged = list(self.archive.damaged)
        if damaged:
            self.stats.set_value(keys.ARCHIVE_DAMAGED, len(damaged))
        return damaged

    def failures(self, report: dict[str, Any], reason: str) -> list[str]:
        """Why the run failed as a whole; [] when it did its job."""
        failures = []
        digests = report["digests"]
        if digests["failed"] and not digests["read"] and not digests["unchanged"]:
            failures.append("no digest could be read")
        links = report["links"]
        fetched = sum(links[s] for s in OUTCOMES)
        if fetched and links[Status.FAILED] / fetched > self.max_error_rate:
            failures.append(
                f"{links[Status.FAILED]} of {fetched} fetches failed "
                f"(MAX_ERROR_RATE={self.max_error_rate})"
            )
        write_errors = self._count(keys.ARCHIVE_WRITE_ERRORS)
        if write_errors:
            failures.append(
                f"archive unwritable: {write_errors} write(s) failed, first: "
                f"{self.stats.get_value(keys.ARCHIVE_FIRST_WRITE_ERROR)}"
            )
        if reason not in ("finished", "shutdown"):
            failures.append(f"crawl ended early: {reason}")
        return failures

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Write the report, log the summary, put the verdict into the stats."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        report = self.report(reason)
        failures = report["failed"] = self.failures(report, reason)
        report["archive"] = self.archive.tally()
        try:
            path: Any = self.archive.write_run_report(self.run_id, report)
        except OSError as exc:
            path = f"not written ({exc})"
            failures.append(f"run report not written: {exc}")
        self.stats.set_value(keys.FAILURES, failures)
        self.stats.set_value(keys.EXIT_CODE, 1 if failures else 0)
        if failures:
            self.stats.set_value("finish_reason", FAILED_REASON)
        lk = report["links"]
        fetched = sum(lk[s] for s in OUTCOMES)
        logger.info(
            "summary: %d digest(s) read, %d unchanged, %d failed; %d entries; %d links cited "
            "(%d source, %d related, %d invalid); fetched %d: %d archived, %d gone, "
            "%d blocked, %d failed, %d skipped, %d refused; %.1f s; report %s",
            report["digests"]["read"],
            report["digests"]["unchanged"],
            report["digests"]["failed"],
            report["entries"],
            lk["cited_source"] + lk["cited_related"],
            lk["cited_source"],
            lk["cited_related"],
            lk["invalid"],
            fetched,
            lk[Status.ARCHIVED],
            lk[Status.GONE],
            lk[Status.BLOCKED],
            lk[Status.FAILED],
            lk[Status.SKIPPED],
            lk[Status.REFUSED],
            report["seconds"],
            path,
        )
        for failure in failures:
            logger.error("run failed: %s", failure)
