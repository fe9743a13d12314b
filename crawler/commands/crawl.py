"""`scrapy crawl`, with an exit code that reports the run (`crawler.extensions.report`).

A crawl that cannot start (a bad setting or spider argument, a digests path that names
nothing, an archive held by another crawl or not writable, an archive of another schema
version) ends with one line naming what is wrong and its own exit code (`ExitCode`), not a
traceback; the line goes to the log file too when there is one (Scrapyd's job log), the
archive gets a run report saying so (when ARCHIVE_DIR is an archive), and NOTIFY_COMMAND /
NOTIFY_WEBHOOK are told. A crawl that ran exits with the verdict the run report put into its
stats (``sources/exit_code``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler import config, stats
from crawler.archive import records
from crawler.archive.lock import ArchiveError, ArchiveLocked
from crawler.archive.store import record_failed_start
from crawler.config import ConfigError
from crawler.digests.sources import InputError
from crawler.extensions.archive import ArchiveExtension
from crawler.extensions.report import ExitCode, notify

logger = logging.getLogger(__name__)

#: Errors that stop a crawl before it starts, told in one line.
STARTUP_ERRORS = (ConfigError, InputError, ArchiveError, OSError)


def startup_exit_code(exc: BaseException) -> ExitCode:
    """The exit code of a crawl that could not start because of `exc`."""
    if isinstance(exc, ConfigError):
        return ExitCode.USAGE
    if isinstance(exc, InputError):
        return ExitCode.NO_DIGESTS
    if isinstance(exc, ArchiveLocked):
        return ExitCode.ARCHIVE_HELD
    if isinstance(exc, ArchiveError | OSError):
        return ExitCode.ARCHIVE_UNWRITABLE
    return ExitCode.ERROR


class Command(ScrapyCrawl):
    """Scrapy's crawl command; a failed run exits non-zero so that cron, systemd and Scrapyd
    notice."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Run the spider; set the exit code from how the start and the run went."""
        if len(args) != 1:
            raise UsageError("give exactly one spider: scrapy crawl sources")
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        errors: list[BaseException] = []
        _watch(self.crawler_process.crawl(crawler, **opts.spargs), errors, crawler)
        self.crawler_process.start()
        if errors:
            self.exitcode = int(startup_exit_code(errors[0]))
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = int(ExitCode.ERROR)
        else:
            code = crawler.stats.get_value(stats.EXIT_CODE, 0) if crawler.stats else 0
            self.exitcode = int(code or 0)


def _watch(started: Any, errors: list[BaseException], crawler: Crawler) -> None:
    """Catch an error that stops the crawl from starting; tell it in one line."""
    began = time.time()

    def failed(exc: BaseException) -> None:
        errors.append(exc)
        try:
            extension = crawler.get_extension(ArchiveExtension)
        except RuntimeError:  # the extensions were not built yet
            extension = None
        if extension is not None:  # opened before something else failed: no stale lock
            extension.close()
        if isinstance(exc, STARTUP_ERRORS):
            print(f"error: {exc}", file=sys.stderr)
            if crawler.settings.get("LOG_FILE"):  # Scrapyd's job log: say it there too
                logger.error("error: %s", exc)
        else:
            logger.error("the crawl could not start", exc_info=exc)
        report_failed_start(crawler, exc, began)

    if isinstance(started, asyncio.Future):

        def done(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                failed(task.exception())  # type: ignore[arg-type]

        started.add_done_callback(done)
    elif isinstance(started, Deferred):

        def errback(failure: Failure) -> None:
            failed(failure.value)  # type: ignore[arg-type]

        started.addErrback(errback)


def report_failed_start(crawler: Crawler, exc: BaseException, began: float) -> Path | None:
    """Write runs/<id>.json for a crawl that could not start, and tell NOTIFY_*; the path."""
    try:
        verdict = crawler.stats.get_value(stats.EXIT_CODE)
    except RuntimeError:  # no stats yet: the crawl stopped before Scrapy made them
        verdict = None
    if verdict is not None:
        return None  # the run report was written: the engine had run
    code = startup_exit_code(exc)
    message = str(exc) if isinstance(exc, STARTUP_ERRORS) else f"{type(exc).__name__}: {exc}"
    report = records.run_report(
        records.run_id(began, os.getpid()),
        began,
        time.time(),
        finish_reason="not started",
        job=os.environ.get("SCRAPY_JOB"),
        failed=[message],
        failure_kinds=[code.kind],
        exit_code=int(code),
    )
    path = None
    root = str(crawler.settings.get("ARCHIVE_DIR") or "").strip()
    if root:
        try:
            path = record_failed_start(Path(root).expanduser(), report["run"], report)
        except (OSError, ValueError) as write_error:
            logger.warning("the run report of the failed start was not written: %s", write_error)
    try:
        told = config.load_notify(crawler.settings)
    except ConfigError:
        return path  # the bad setting is a NOTIFY_* one: there is no one to tell
    notify(told, report, path)
    return path
