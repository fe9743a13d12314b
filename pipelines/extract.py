"""ExtractPipeline: reads each fetched page with the site's extractor, off the crawl thread."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from scrapy.crawler import Crawler

from crawler import stats
from crawler.extractpool import ExtractionPool, default_size
from crawler.items import FetchOutcome

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Runs `crawler.extractors.extract` for every page that was served (2xx).

    Extraction is CPU-bound and Scrapy runs callbacks and pipelines on one thread, so pages
    are read by EXTRACT_WORKERS child processes (`crawler.extractpool`) while the crawl keeps
    downloading; by default one per core beyond the first, which the crawl process keeps busy.
    EXTRACT_WORKERS=0 reads them on the crawl thread (tests, debugging).
    """

    def __init__(self, crawler: Crawler, workers: int, timeout: float):
        self.crawler = crawler
        self.workers = workers
        self.timeout = timeout
        self.extract_as = crawler.settings.getdict("EXTRACT_AS")
        # one byte more than the extractors read, so that they can tell the page was cut
        self.max_bytes = crawler.settings.getint("EXTRACT_MAX_BYTES") + 1
        self.pool: ExtractionPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        workers = settings.get("EXTRACT_WORKERS")
        if workers in (None, "", "auto"):
            count = default_size()
        else:
            try:
                count = int(workers)
            except ValueError:
                raise ValueError(
                    f"EXTRACT_WORKERS must be a number of processes or 'auto', not {workers!r}"
                ) from None
        return cls(crawler, max(0, count), settings.getfloat("EXTRACT_TIMEOUT"))

    def open_spider(self) -> None:
        if self.workers > 0:
            settings = self.crawler.settings
            self.pool = ExtractionPool(
                self.workers,
                self.timeout,
                memory_mb=settings.getint("EXTRACT_WORKER_MEMORY"),
                recycle_mb=settings.getint("EXTRACT_WORKER_RECYCLE_MB"),
                max_pages=settings.getint("EXTRACT_WORKER_MAX_PAGES"),
            )
            logger.info("extraction: %d worker process(es)", self.workers)

    async def close_spider(self) -> None:
        if self.pool is not None:
            if self.pool.recycled:
                self.crawler.stats.set_value(stats.EXTRACT_RECYCLED, self.pool.recycled)
            await self.pool.close()

    def _as_site(self, url: str) -> str:
        """The URL the extractor sees: its host replaced when EXTRACT_AS names one."""
        parts = urlsplit(url)
        site = self.extract_as.get(parts.netloc)
        return urlunsplit(parts._replace(netloc=site)) if site else url

    async def process_item(self, item: object) -> object:
        if not isinstance(item, FetchOutcome) or item.status is not None:
            return item
        url = self._as_site(item.final_url or item.canonical_url)
        body = item.body[: self.max_bytes] if self.max_bytes > 1 else item.body
        if self.pool is not None:
            item.extracted = await self.pool.extract(url, body, item.content_type)
        else:
            from crawler.extractors import extract  # only here: workers load it otherwise

            item.extracted = extract(url, body, item.content_type)
        self.crawler.stats.inc_value(f"sources/extracted/{item.extracted.extractor}")
        return item
