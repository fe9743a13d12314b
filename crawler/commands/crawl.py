"""`scrapy crawl`, with an exit code that reports the run (`crawler.extensions.report`).

A crawl that cannot start (a digests path that names nothing, an archive held by another
crawl or not writable, an archive of another schema version) ends with one line naming what is
wrong and exit code 1, not a traceback. A crawl that ran exits with the verdict the run report
put into its stats (``sources/exit_code``): 0 when the run did its job, else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler import stats
from crawler.archive.lock import ArchiveError
from crawler.digests.sources import InputError
from crawler.extensions.archive import ArchiveExtension

logger = logging.getLogger(__name__)

#: Errors that stop a crawl before it starts, told in one line.
STARTUP_ERRORS = (InputError, ArchiveError, OSError)


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
        if errors or self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        else:
            code = crawler.stats.get_value(stats.EXIT_CODE, 0) if crawler.stats else 0
            self.exitcode = int(code or 0)


def _watch(started: Any, errors: list[BaseException], crawler: Crawler) -> None:
    """Catch an error that stops the crawl from starting; tell it in one line."""

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
        else:
            logger.error("the crawl could not start", exc_info=exc)

    if isinstance(started, asyncio.Future):

        def done(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                failed(task.exception())  # type: ignore[arg-type]

        started.add_done_callback(done)
    elif isinstance(started, Deferred):

        def errback(failure: Failure) -> None:
            failed(failure.value)  # type: ignore[arg-type]

        started.addErrback(errback)
