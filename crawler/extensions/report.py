"""RunReport: progress lines during a crawl, a report file and a summary at its end,
and the exit code that tells cron whether the run failed."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from crawler.archive.store import now_iso

logger = logging.getLogger(__name__)

#: Exit code of the last run in this process, read by `crawler.commands.crawl`.
EXIT_CODE = 0

_OUTCOMES = ("archived", "gone", "blocked", "failed", "skipped", "refused")


def note_write_error(stats: StatsCollector, exc: BaseException) -> None:
    """Count a failed archive write; the first one's message goes into the run's failure."""
    stats.inc_value("sources/archive/write_errors")
    if not stats.get_value("sources/archive/first_write_error"):
        stats.set_value("sources/archive/first_write_error", str(exc))


def _sites(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Outcomes per site, from the `sources/sites/<host>/<status>` stats."""
    sites: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith("sources/sites/"):
            host, _, status = key.removeprefix("sources/sites/").rpartition("/")
            sites.setdefault(host, {})[status] = int(value)
    return dict(sorted(sites.items()))


class RunReport:
    """Logs progress every PROGRESS_INTERVAL seconds and writes `runs/<id>.json` at the end."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        self.max_error_rate = crawler.settings.getfloat("MAX_ERROR_RATE")
        self.started = time.time()
        # the pid keeps the reports of a distributed run's processes apart
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(self.started))}-{os.getpid()}"
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        if self.interval > 0:
            self.loop = task.LoopingCall(self.progress)
            self.loop.start(self.interval, now=False)

    def _count(self, key: str) -> int:
        return int(self.crawler.stats.get_value(key, 0) or 0)

    def progress(self) -> None:
        done = sum(self._count(f"sources/links/{s}") for s in _OUTCOMES)
        total = self._count("sources/links/scheduled")
        rate = done / max(time.time() - self.started, 1e-6)
        logger.info(
            "progress: %d/%d links done (%.1f/s), %d archived, %d failed",
            done,
            total,
            rate,
            self._count("sources/links/archived"),
            self._count("sources/links/failed"),
        )

    def report(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats()
        links = {s: self._count(f"sources/links/{s}") for s in _OUTCOMES}
        by_reason = {
            k.removeprefix("sources/"): v
            for k, v in stats.items()
            if k.startswith(tuple(f"sources/{s}/" for s in _OUTCOMES[1:]))
        }
        return {
            "run": self.run_id,
            "started": now_iso(self.started),
            "finished": now_iso(),
            "seconds": round(time.time() - self.started, 3),
            "finish_reason": reason,
            "digests": {
                "read": self._count("sources/digests/read"),
                "unchanged": self._count("sources/digests/unchanged"),
                "failed": self._count("sources/digests/failed"),
                "errors": stats.get("sources/digests/errors", []),
            },
            "entries": self._count("sources/entries"),
            "links": {
                "cited_source": self._count("sources/links/cited/source"),
                "cited_related": self._count("sources/links/cited/related"),
                "invalid": self._count("sources/links/invalid"),
                "new": self._count("sources/links/new"),
                "scheduled": self._count("sources/links/scheduled"),
                "resumed": self._count("sources/links/resumed"),
                "already_archived": self._count("sources/links/skipped/archived"),
                **links,
            },
            "sites": _sites(stats),
            "retries": {
                k.removeprefix("sources/retry/"): v
                for k, v in stats.items()
                if k.startswith("sources/retry/")
            },
            "reasons": by_reason,
            "bytes": {
                "warc": self._count("sources/warc/bytes"),
                "downloaded": self._count("downloader/response_bytes"),
            },
        }

    def spider_closed(self, spider: Spider, reason: str) -> None:
        from crawler.runtime import archive_for

        global EXIT_CODE
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        report = self.report(reason)
        failures = []
        digests = report["digests"]
        if digests["failed"] and not digests["read"] and not digests["unchanged"]:
            failures.append("no digest could be read")
        fetched = sum(report["links"][s] for s in _OUTCOMES)
        if fetched and report["links"]["failed"] / fetched > self.max_error_rate:
            failures.append(
                f"{report['links']['failed']} of {fetched} fetches failed "
                f"(MAX_ERROR_RATE={self.max_error_rate})"
            )
        write_errors = self._count("sources/archive/write_errors")
        if write_errors:
            failures.append(
                f"archive unwritable: {write_errors} write(s) failed, first: "
                f"{self.crawler.stats.get_value('sources/archive/first_write_error')}"
            )
        if reason not in ("finished", "shutdown"):
            failures.append(f"crawl ended early: {reason}")
        report["failed"] = failures
        EXIT_CODE = 1 if failures else 0
        archive = archive_for(self.crawler)
        report["archive"] = archive.index.citation_tally()
        try:
            path: Any = archive.write_run_report(self.run_id, report)
        except OSError as exc:
            path = f"not written ({exc})"
            EXIT_CODE = 1
        lk = report["links"]
        logger.info(
            "summary: %d digest(s) read, %d unchanged, %d failed; %d entries; %d links cited "
            "(%d source, %d related, %d invalid); fetched %d: %d archived, %d gone, "
            "%d blocked, %d failed, %d skipped, %d refused; %.1f s; report %s",
            digests["read"],
            digests["unchanged"],
            digests["failed"],
            report["entries"],
            lk["cited_source"] + lk["cited_related"],
            lk["cited_source"],
            lk["cited_related"],
            lk["invalid"],
            fetched,
            lk["archived"],
            lk["gone"],
            lk["blocked"],
            lk["failed"],
            lk["skipped"],
            lk["refused"],
            report["seconds"],
            path,
        )
        for failure in failures:
            logger.error("run failed: %s", failure)
