"""ArchiveExtension: opens ARCHIVE_DIR once per crawl and closes it when the engine stops.

Built with the other extensions, before the engine and the pipelines: a held, unwritable or
foreign archive fails the crawl before anything is fetched. Every other component finds the
open `Archive` with ``required(crawler, ArchiveExtension).archive``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler

from crawler import config
from crawler.archive import Archive


class ArchiveExtension:
    """Holds the crawl's one open archive."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self._open = True

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Open (and if needed recover) the archive; it closes at `engine_stopped`."""
        settings = crawler.settings
        checked = config.load(settings)
        info = {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "user-agent": settings.get("USER_AGENT"),
            "archive-dir": str(Path(settings.get("ARCHIVE_DIR")).resolve()),
        }
        archive = Archive(
            settings.get("ARCHIVE_DIR"),
            warc_max_bytes=settings.getint("WARC_MAX_BYTES"),
            max_attempts=settings.getint("MAX_ATTEMPTS_PER_URL"),
            info=info,
            shared=bool(settings.get("REDIS_URL")),
            recheck_schedule=checked.recheck_schedule,
            confirm_after=checked.recheck_confirm_after,
        ).open()
        extension = cls(archive)
        crawler.signals.connect(extension.close, signal=signals.engine_stopped)
        return extension

    def close(self) -> None:
        """Flush and close the archive and release its lock (once)."""
        if self._open:
            self._open = False
            self.archive.close()
