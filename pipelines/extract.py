"""ExtractPipeline: reads each fetched page with the site's extractor, off the crawl thread."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import urlsplit, urlunsplit

from scrapy.crawler import Crawler

from crawler.extractors import extract
from crawler.items import Extracted, FetchOutcome

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Runs `crawler.extractors.extract` for every page that was served (2xx).

    Extraction is CPU-bound and Scrapy runs callbacks and pipelines on one thread, so pages
    are read in a pool of EXTRACT_WORKERS processes while the crawl keeps downloading.
    """

    def __init__(self, crawler: Crawler, workers: int):
        self.crawler = crawler
        self.workers = workers
        self.extract_as = crawler.settings.getdict("EXTRACT_AS")
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, crawler.settings.getint("EXTRACT_WORKERS"))

    def open_spider(self) -> None:
        if self.workers > 0:
            context = multiprocessing.get_context("forkserver")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _as_site(self, url: str) -> str:
        """The URL the extractor sees: its host replaced when EXTRACT_AS names one."""
        parts = urlsplit(url)
        site = self.extract_as.get(parts.netloc)
        return urlunsplit(parts._replace(netloc=site)) if site else url

    async def process_item(self, item: object) -> object:
        if not isinstance(item, FetchOutcome) or item.status is not None:
            return item
        url = self._as_site(item.final_url or item.canonical_url)
        try:
            if self.pool is None:
                item.extracted = extract(url, item.body, item.content_type)
            else:
                loop = asyncio.get_running_loop()
                item.extracted = await loop.run_in_executor(
                    self.pool, extract, url, item.body, item.content_type
                )
        except BrokenProcessPool:
            logger.error("extraction worker died on %s; reading it on the crawl thread", url)
            item.extracted = extract(url, item.body, item.content_type)
        except Exception as exc:  # extract() never raises; a pool or pickling fault might
            logger.exception("extraction of %s failed", url)
            item.extracted = Extracted(status="failed", reason=f"extractor error: {exc}")
        self.crawler.stats.inc_value(f"sources/extracted/{item.extracted.extractor}")
        return item
