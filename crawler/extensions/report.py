"""RunReport: progress lines during a crawl, a report file and a summary at its end, monitoring,
and the run's verdict.

The verdict goes into the crawl's stats: ``sources/failures`` (why the run failed as a whole,
empty when it did not), ``sources/failure_kinds`` (one word per failure), ``sources/exit_code``
(what `crawler.commands.crawl` exits with: `ExitCode`, one per kind of failure) and, for a
failed run, ``finish_reason`` = ``failed`` (monitoring tools that read Scrapy's stats take any
finish reason but ``finished`` as a failure). Monitoring compares the run with the previous
ones in runs/: the share of archived articles with a title, a date, an author and a text, and
each site's archived share. A failed run is told to NOTIFY_COMMAND and NOTIFY_WEBHOOK with its
report. Switched off (`NotConfigured`) by ``RUN_REPORT_ENABLED = False``; the crawl then exits
0 whatever happened. Built before the archive is opened, it checks every setting first
(`crawler.config`).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from enum import IntEnum
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from crawler import config as project_config
from crawler import stats as keys
from crawler.archive import Archive, records
from crawler.archive.records import Record
from crawler.config import Config, Notify
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import OUTCOMES, FetchOutcome, Observation, Observed, Role, Status

logger = logging.getLogger(__name__)

#: The finish reason a failed run is closed with (in Scrapy's `finish_reason` stat).
FAILED_REASON = "failed"


class ExitCode(IntEnum):
    """What `scrapy crawl sources` exits with; the README's *Exit codes* table."""

    OK = 0  # the run did its job
    ERROR = 1  # an unexpected error (a bug): its traceback is in the log
    USAGE = 2  # a bad setting or spider argument (Scrapy's own usage errors exit 2 too)
    NO_DIGESTS = 3  # the digests argument (or DIGESTS) names nothing
    DIGESTS_UNREADABLE = 4  # digests were found but none could be read
    ARCHIVE_HELD = 5  # another crawl holds the archive
    ARCHIVE_UNWRITABLE = 6  # the archive cannot be opened or written (disk full, permissions)
    FETCHES_FAILED = 7  # more than MAX_ERROR_RATE of the fetches failed
    NETWORK_UNREACHABLE = 8  # ... and most could not resolve or connect: the network is down
    COVERAGE_DROP = 9  # articles' fields or a site's archived share fell against earlier runs
    ENDED_EARLY = 10  # the crawl ended before it was done (stopped, closespider limits)

    @property
    def kind(self) -> str:
        """The failure's word in `failure_kinds` (`archive_held`, ...)."""
        return self.name.lower()


#: Which code a run with several failures exits with: the first of these it has.
SEVERITY = (
    ExitCode.ARCHIVE_UNWRITABLE,
    ExitCode.DIGESTS_UNREADABLE,
    ExitCode.NETWORK_UNREACHABLE,
    ExitCode.FETCHES_FAILED,
    ExitCode.ENDED_EARLY,
    ExitCode.COVERAGE_DROP,
)

#: Reasons of fetches that never reached their server: the name did not resolve, or no
#: connection could be made (`crawler.outcomes` words them so).
UNREACHABLE = (
    "DNS lookup failed",
    "connection refused",
    "ConnectError",
    "NoRouteError",
    "timeout: TCP connection timed out",
)

Failure = tuple[ExitCode, str]


def exit_code(failures: Iterable[Failure]) -> ExitCode:
    """The code a run with these failures exits with (`SEVERITY`; OK when there are none)."""
    codes = {code for code, _ in failures}
    if not codes:
        return ExitCode.OK
    return next((c for c in SEVERITY if c in codes), min(codes))


def unreachable(reason: str | None) -> bool:
    """Whether a fetch with this reason never reached its server."""
    return bool(reason) and str(reason).startswith(UNREACHABLE)


class RunReport:
    """Logs progress every PROGRESS_INTERVAL seconds and writes `runs/<id>.json` at the end."""

    def __init__(self, crawler: Crawler, stats: StatsCollector, config: Config):
        self.crawler = crawler
        self.stats = stats
        self.config = config
        self.interval = config.progress_interval
        self.max_error_rate = config.max_error_rate
        self.started = time.time()
        self.run_id = records.run_id(self.started, os.getpid())
        self.loop: task.LoopingCall | None = None
        self.said_unreachable = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy, before the archive opens; every setting is checked first.

        `NotConfigured` when RUN_REPORT_ENABLED is off."""
        config = project_config.load(crawler.settings)
        if not config.run_report_enabled:
            raise NotConfigured("RUN_REPORT_ENABLED is off")
        assert crawler.stats is not None
        ext = cls(crawler, crawler.stats, config)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
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

    def _fetched(self) -> int:
        """Fetches done so far: first fetches and re-checks."""
        first = sum(self._count(keys.outcome(s)) for s in OUTCOMES)
        return first + sum(self._count(keys.recheck(o)) for o in Observed)

    def progress(self) -> None:
        """One line: links done of those scheduled, rate, archived and failed so far."""
        done = self._fetched()
        total = self._count(keys.LINKS_SCHEDULED) + self._count(keys.RECHECKS_SCHEDULED)
        rate = done / max(time.time() - self.started, 1e-6)
        logger.info(
            "progress: %d/%d links done (%.1f/s), %d archived, %d failed",
            done,
            total,
            rate,
            self._count(keys.outcome(Status.ARCHIVED)),
            self._count(keys.outcome(Status.FAILED)),
        )

    # -- what each stored fetch tells ----------------------------------------------------
    def item_scraped(self, item: Any) -> None:
        """Count a stored fetch: unreachable, or an archived article's fields."""
        if isinstance(item, Observation):  # a re-check
            if item.outcome == Observed.UNREACHABLE and unreachable(item.reason):
                self.stats.inc_value(keys.LINKS_UNREACHABLE)
                self.check_network(final=False)
            return
        if not isinstance(item, FetchOutcome):
            return
        if item.status == Status.FAILED and unreachable(item.reason):
            self.stats.inc_value(keys.LINKS_UNREACHABLE)
            self.check_network(final=False)
        ex = item.extracted
        if item.status == Status.ARCHIVED and ex is not None and ex.extractor != "binary":
            self.stats.inc_value(keys.COVERAGE_ARTICLES)
            for name in records.coverage_fields(ex):
                self.stats.inc_value(keys.coverage(name))

    def network_unreachable(self) -> bool:
        """More than UNREACHABLE_SHARE of at least UNREACHABLE_MIN_FETCHES fetches did not
        reach their server."""
        fetched = self._fetched()
        return (
            fetched >= self.config.unreachable_min_fetches
            and self._count(keys.LINKS_UNREACHABLE) / fetched > self.config.unreachable_share
        )

    def check_network(self, *, final: bool) -> None:
        """Say once, as soon as it shows, that the network looks unreachable."""
        if self.said_unreachable or not self.network_unreachable():
            return
        self.said_unreachable = True
        logger.warning(
            "network looks unreachable: %d of %d fetches%s could not resolve their host or "
            "connect to it; check this machine's DNS and connection",
            self._count(keys.LINKS_UNREACHABLE),
            self._fetched(),
            "" if final else " so far",
        )

    # -- the report ----------------------------------------------------------------------
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
        return records.run_report(
            self.run_id,
            self.started,
            time.time(),
            finish_reason=reason,
            job=os.environ.get("SCRAPY_JOB"),  # Scrapyd's job id
            recovered=self.archive.recovered,
            damaged=self._damaged(),
            digests={
                "read": self._count(keys.DIGESTS_READ),
                "unchanged": self._count(keys.DIGESTS_UNCHANGED),
                "failed": self._count(keys.DIGESTS_FAILED),
                "errors": stats.get(keys.DIGESTS_ERRORS, []),
                "rules": keys.digest_rules(stats),
                "summaries": stats.get(keys.DIGESTS_SUMMARIES, []),
            },
            entries=self._count(keys.ENTRIES),
            links={
                "cited_source": self._count(keys.cited(Role.SOURCE)),
                "cited_related": self._count(keys.cited(Role.RELATED)),
                "cited_digest": self._count(keys.cited(Role.DIGEST)),
                "invalid": self._count(keys.LINKS_INVALID),
                "new": self._count(keys.LINKS_NEW),
                "scheduled": self._count(keys.LINKS_SCHEDULED),
                "resumed": self._count(keys.LINKS_RESUMED),
                "already_archived": self._count(keys.not_fetched(Status.ARCHIVED)),
                **links,
            },
            sites=keys.sites(stats),
            retries={
                k.removeprefix(f"{keys.RETRY}/"): v
                for k, v in stats.items()
                if k.startswith(f"{keys.RETRY}/")
            },
            reasons=by_reason,
            bytes={
                "warc": self._count(keys.WARC_BYTES),
                "downloaded": self._count("downloader/response_bytes"),
            },
            coverage={
                "articles": self._count(keys.COVERAGE_ARTICLES),
                "fields": {f: self._count(keys.coverage(f)) for f in records.COVERAGE_FIELDS},
            },
            rechecks={name: self._count(keys.recheck(name)) for name in records.RECHECK_COUNTS},
        )

    def _damaged(self) -> list[str]:
        """The damaged records the archive met ("<file>: why"), counted in the stats."""
        damaged = list(self.archive.damaged)
        if damaged:
            self.stats.set_value(keys.ARCHIVE_DAMAGED, len(damaged))
        return damaged

    def failures(self, report: dict[str, Any], reason: str) -> list[str]:
        """Why the run failed as a whole; [] when it did its job."""
        return [message for _, message in self.verdict(report, reason)]

    def verdict(self, report: dict[str, Any], reason: str) -> list[Failure]:
        """Each way the run failed as a whole, with its exit code; [] when it did its job."""
        failures: list[Failure] = []
        digests = report["digests"]
        if digests["failed"] and not digests["read"] and not digests["unchanged"]:
            failures.append((ExitCode.DIGESTS_UNREADABLE, "no digest could be read"))
        links, checks = report["links"], report["rechecks"]
        # re-checks count as fetches: a re-check run whose network is down fails too
        fetched = sum(links[s] for s in OUTCOMES) + sum(checks[o] for o in Observed)
        failed = links[Status.FAILED] + checks["failed"]
        if fetched and failed / fetched > self.max_error_rate:
            rate = f"{failed} of {fetched} fetches failed (MAX_ERROR_RATE={self.max_error_rate})"
            if self.network_unreachable():
                failures.append(
                    (
                        ExitCode.NETWORK_UNREACHABLE,
                        f"network looks unreachable: {self._count(keys.LINKS_UNREACHABLE)} "
                        f"of {fetched} fetches could not resolve their host or connect; {rate}",
                    )
                )
            else:
                failures.append((ExitCode.FETCHES_FAILED, rate))
        write_errors = self._count(keys.ARCHIVE_WRITE_ERRORS)
        if write_errors:
            failures.append(
                (
                    ExitCode.ARCHIVE_UNWRITABLE,
                    f"archive unwritable: {write_errors} write(s) failed, first: "
                    f"{self.stats.get_value(keys.ARCHIVE_FIRST_WRITE_ERROR)}",
                )
            )
        if reason not in ("finished", "shutdown"):
            failures.append((ExitCode.ENDED_EARLY, f"crawl ended early: {reason}"))
        failures += self.monitor(report)
        return failures

    # -- monitoring ----------------------------------------------------------------------
    def monitor(self, report: Record) -> list[Failure]:
        """Coverage and site drops against the previous MONITOR_HISTORY crawl runs."""
        cfg = self.config
        if cfg.monitor_history <= 0:
            return []
        try:
            previous = self.archive.previous_runs(cfg.monitor_history, before=self.run_id)
        except OSError as exc:
            logger.warning("monitoring: the previous run reports cannot be read: %s", exc)
            return []
        if not previous:
            return []
        return self._coverage_drops(report, previous) + self._site_drops(report, previous)

    def _coverage_drops(self, report: Record, previous: list[Record]) -> list[Failure]:
        cfg = self.config
        articles = report["coverage"]["articles"]
        if articles < cfg.monitor_min_articles:
            return []
        earlier = [
            p["coverage"]
            for p in previous
            if isinstance(p.get("coverage"), dict)
            and p["coverage"].get("articles", 0) >= cfg.monitor_min_articles
        ]
        drops: list[Failure] = []
        for name in records.COVERAGE_FIELDS:
            shares = [c["fields"].get(name, 0) / c["articles"] for c in earlier]
            if not shares:
                continue
            now = report["coverage"]["fields"][name] / articles
            before = statistics.median(shares)
            if before - now > cfg.monitor_coverage_drop:
                drops.append(
                    (
                        ExitCode.COVERAGE_DROP,
                        f"coverage drop: {name} found in {now:.0%} of {articles} archived "
                        f"articles, {before:.0%} in the previous {len(shares)} run(s) "
                        f"(MONITOR_COVERAGE_DROP={cfg.monitor_coverage_drop})",
                    )
                )
        return drops

    def _site_drops(self, report: Record, previous: list[Record]) -> list[Failure]:
        cfg = self.config
        drops: list[Failure] = []
        for host, outcomes in sorted(report["sites"].items()):
            fetched = sum(outcomes.values())
            if fetched < cfg.monitor_min_site_fetches:
                continue
            shares = []
            for p in previous:
                theirs = (p.get("sites") or {}).get(host) or {}
                total = sum(theirs.values())
                if total >= cfg.monitor_min_site_fetches:
                    shares.append(theirs.get(Status.ARCHIVED, 0) / total)
            if not shares:
                continue
            now = outcomes.get(Status.ARCHIVED, 0) / fetched
            before = statistics.median(shares)
            if before - now > cfg.monitor_site_drop:
                drops.append(
                    (
                        ExitCode.COVERAGE_DROP,
                        f"site drop: {host} archived {now:.0%} of {fetched} fetches, "
                        f"{before:.0%} in the previous {len(shares)} run(s) "
                        f"(MONITOR_SITE_DROP={cfg.monitor_site_drop})",
                    )
                )
        return drops

    # -- the end ---------------------------------------------------------------------------
    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Write the report, log the summary, put the verdict into the stats, notify."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.check_network(final=True)
        report = self.report(reason)
        verdict = self.verdict(report, reason)
        report["archive"] = self.archive.tally()
        path: Path | None = None
        where = ""
        try:
            path = self.archive.write_run_report(self.run_id, self._with(report, verdict))
            where = str(path)
        except OSError as exc:
            verdict.append((ExitCode.ARCHIVE_UNWRITABLE, f"run report not written: {exc}"))
            where = f"not written ({exc})"
        report = self._with(report, verdict)
        failures = report["failed"]
        self.stats.set_value(keys.FAILURES, failures)
        self.stats.set_value(keys.FAILURE_KINDS, report["failure_kinds"])
        self.stats.set_value(keys.EXIT_CODE, report["exit_code"])
        if failures:
            self.stats.set_value("finish_reason", FAILED_REASON)
        lk = report["links"]
        fetched = sum(lk[s] for s in OUTCOMES)
        logger.info(
            "summary: %d digest(s) read, %d unchanged, %d failed; %d entries; %d links cited "
            "(%d source, %d related, %d digest, %d invalid); fetched %d: %d archived, %d gone, "
            "%d blocked, %d failed, %d skipped, %d refused; %.1f s; report %s",
            report["digests"]["read"],
            report["digests"]["unchanged"],
            report["digests"]["failed"],
            report["entries"],
            lk["cited_source"] + lk["cited_related"] + lk["cited_digest"],
            lk["cited_source"],
            lk["cited_related"],
            lk["cited_digest"],
            lk["invalid"],
            fetched,
            lk[Status.ARCHIVED],
            lk[Status.GONE],
            lk[Status.BLOCKED],
            lk[Status.FAILED],
            lk[Status.SKIPPED],
            lk[Status.REFUSED],
            report["seconds"],
            where,
        )
        checks = report["rechecks"]
        if checks["scheduled"]:
            logger.info(
                "re-checks: %d of %d due: %d unchanged (%d not modified), %d changed, %d gone, "
                "%d unreachable",
                checks["scheduled"],
                checks["due"],
                checks[Observed.UNCHANGED],
                checks["not_modified"],
                checks[Observed.CHANGED],
                checks[Observed.GONE],
                checks[Observed.UNREACHABLE],
            )
        for failure in failures:
            logger.error("run failed: %s", failure)
        if not notify(self.config.notify, report, path):
            self.stats.inc_value(keys.NOTIFY_FAILED)

    @staticmethod
    def _with(report: Record, verdict: list[Failure]) -> Record:
        """The report with its verdict: `failed`, `failure_kinds`, `exit_code`."""
        return {
            **report,
            "failed": [message for _, message in verdict],
            "failure_kinds": [code.kind for code, _ in verdict],
            "exit_code": int(exit_code(verdict)),
        }


# -- telling the operator --------------------------------------------------------------------


def notify(config: Notify, report: Record, path: Path | None) -> bool:
    """Hand a run's report to NOTIFY_COMMAND and NOTIFY_WEBHOOK when NOTIFY_ON says so;
    False when one of them could not be told (logged)."""
    if not (config.command or config.webhook):
        return True
    if config.on == "failure" and not report.get("failed"):
        return True
    data = json.dumps(report, ensure_ascii=False, indent=1).encode()
    told = True
    if config.command:
        told &= _run_command(config, data, report, path)
    if config.webhook:
        told &= _post(config, data)
    return told


def _run_command(config: Notify, data: bytes, report: Record, path: Path | None) -> bool:
    env = {
        **os.environ,
        "SOURCES_RUN_REPORT": str(path or ""),
        "SOURCES_EXIT_CODE": str(report.get("exit_code", "")),
        "SOURCES_FAILURES": "; ".join(report.get("failed", [])),
    }
    try:
        done = subprocess.run(
            config.command,
            shell=True,
            input=data,
            env=env,
            capture_output=True,
            timeout=config.timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.error("NOTIFY_COMMAND could not tell the operator: %s", exc)
        return False
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        logger.error(
            "NOTIFY_COMMAND exited %d: %s", done.returncode, err[-1] if err else "(no output)"
        )
        return False
    logger.info("notified: NOTIFY_COMMAND told the operator")
    return True


def _post(config: Notify, data: bytes) -> bool:
    request = urllib.request.Request(
        config.webhook,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    host = urlsplit(config.webhook).hostname
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as answer:
            status = int(answer.status)
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        logger.error("NOTIFY_WEBHOOK (%s) could not be told: %s", host, exc)
        return False
    logger.info("notified: NOTIFY_WEBHOOK (%s) answered HTTP %d", host, status)
    return True
