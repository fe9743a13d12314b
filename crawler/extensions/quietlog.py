"""QuietLog: at INFO, one line per link outcome; DEBUG keeps every detail.

Each link's outcome is logged once, by the store (`<url>: failed (DNS lookup failed: ...)`).
Three other loggers tell the same story again, and one of them with a traceback: Scrapy's
robots.txt middleware logs an ERROR with a traceback for every host whose robots.txt could
not be downloaded (on a machine without network: one per host, then the host's pages fail the
same way and say so), our retry middleware logs each retry and the give-up, and the network
safety middleware warns of each refusal. This extension moves those records to DEBUG while the
crawl runs (a logging filter that lowers their level), so they are still there with
`LOG_LEVEL=DEBUG`. Remove it from EXTENSIONS to have them back at their own levels.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler

#: logger -> the message formats (a record's `msg`) whose records go to DEBUG.
FOLDED: dict[str, tuple[str, ...]] = {
    # Scrapy's RobotsTxtMiddleware: "Error downloading <robots.txt's first page>: ..."
    "scrapy.downloadermiddlewares.robotstxt": ("Error downloading %(request)s: %(f_exception)s",),
    # crawler.middlewares.retry: Scrapy's get_retry_request gives up, our retry note
    "crawler.middlewares.retry": (
        "Gave up retrying %(request)s (failed %(retry_times)d times): %(reason)s",
        "retrying %s in %.1f s (%s; retry %d of %d)",
    ),
    # crawler.middlewares.netsafety: "refused <url>: <why>"; the outcome line names it
    "crawler.middlewares.netsafety": ("%s",),
}


class FoldToDebug(logging.Filter):
    """Lowers records whose message format is one of `formats` to DEBUG (dropped at INFO)."""

    def __init__(self, formats: tuple[str, ...]):
        super().__init__()
        self.formats = frozenset(formats)

    def filter(self, record: logging.LogRecord) -> bool:
        """Lower the record if it is folded (its traceback stays, for LOG_LEVEL=DEBUG)."""
        if isinstance(record.msg, str) and record.msg in self.formats:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


class QuietLog:
    """Installs the `FoldToDebug` filters for the crawl; takes them off when it stops."""

    def __init__(self) -> None:
        self.filters = [
            (logging.getLogger(name), FoldToDebug(formats)) for name, formats in FOLDED.items()
        ]
        for logger, folded in self.filters:
            logger.addFilter(folded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy with the other extensions."""
        ext = cls()
        crawler.signals.connect(ext.remove, signal=signals.engine_stopped)
        return ext

    def remove(self) -> None:
        """Take the filters off again."""
        for logger, folded in self.filters:
            logger.removeFilter(folded)
        self.filters = []
