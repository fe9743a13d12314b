"""The crawl's one open Archive, shared by the spider, middlewares, pipelines and extensions."""

from __future__ import annotations

from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.archive import Archive

_ATTR = "_sources_archive"


def archive_for(crawler: Crawler) -> Archive:
    """Open the archive named by ARCHIVE_DIR on first use; it closes when the engine stops."""
    archive: Archive | None = getattr(crawler, _ATTR, None)
    if archive is None:
        settings = crawler.settings
        info = {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "user-agent": settings.get("USER_AGENT"),
            "archive-dir": str(Path(settings.get("ARCHIVE_DIR")).resolve()),
        }
        archive = Archive(
            settings.get("ARCHIVE_DIR"),
            warc_max_bytes=settings.getint("WARC_MAX_BYTES"),
            info=info,
            shared=bool(settings.get("REDIS_URL")),
        ).open()
        setattr(crawler, _ATTR, archive)
        crawler.signals.connect(lambda: _close(crawler), signal=signals.engine_stopped, weak=False)
    return archive


def _close(crawler: Crawler) -> None:
    archive: Archive | None = getattr(crawler, _ATTR, None)
    if archive is not None:
        archive.close()
        setattr(crawler, _ATTR, None)
