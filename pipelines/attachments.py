"""AttachmentsPipeline: stores what belongs to an archived article beside it.

The images of articles from the sites in ARTICLE_IMAGES_DOMAINS (WeChat's by default: its image
host refuses hotlinks, so a link to them is no archive), at most ARTICLE_IMAGES_MAX an article,
and with ARTICLE_DOCUMENTS the document form of an article where its site has one (an arXiv
paper's PDF, `crawler.urls.documents`). As Scrapy's own media pipelines do, each attachment is
downloaded through the engine's downloader (`engine.download_async`: the same politeness,
network safety, size limits and WARC recording as pages), not through the spider; unlike them,
the article goes on at once and its attachments are fetched meanwhile (the crawl does not end
before they are). The article's `attachments` map says, per URL, `pending` until fetched, then
`archived` with its WARC pointer, or why not. A failed attachment never fails its article.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured

from crawler import stats, urls
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import AttachmentOutcome, FetchOutcome, Status
from crawler.middlewares.warcrecorder import last_hop
from crawler.outcomes import describe_exception, status_for_http

logger = logging.getLogger(__name__)

#: Statuses whose responses come back to us rather than as HttpError (we record them).
HTTP_ERRORS = list(range(400, 600))


class AttachmentsPipeline:
    """Fetches and records each archived article's images and documents."""

    def __init__(
        self,
        crawler: Crawler,
        archive: Archive,
        image_domains: list[str],
        images_max: int,
        documents: bool,
    ):
        self.crawler = crawler
        self.archive = archive
        self.image_domains = [d.lower() for d in image_domains]
        self.images_max = images_max
        self.documents = documents
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; `NotConfigured` when neither images nor documents are wanted."""
        settings = crawler.settings
        domains = [d for d in settings.getlist("ARTICLE_IMAGES_DOMAINS") if d]
        documents = settings.getbool("ARTICLE_DOCUMENTS")
        if not domains and not documents:
            raise NotConfigured("ARTICLE_IMAGES_DOMAINS is empty and ARTICLE_DOCUMENTS off")
        pipeline = cls(
            crawler,
            required(crawler, ArchiveExtension).archive,
            domains,
            settings.getint("ARTICLE_IMAGES_MAX"),
            documents,
        )
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        return pipeline

    def wanted(self, item: FetchOutcome) -> list[str]:
        """The attachment URLs of an archived article, in order."""
        found: list[str] = []
        ex = item.extracted
        if ex is not None and self._wants_images(item.canonical_url):
            images = [u for u in ex.images if u.startswith(("http://", "https://"))]
            found += images[: self.images_max]
        if self.documents:
            found += urls.documents(item.canonical_url)
        return found

    def _wants_images(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(d == "*" or host == d or host.endswith("." + d) for d in self.image_domains)

    def process_item(self, item: object) -> object:
        """Plan an archived article's attachments and start fetching the new ones."""
        if not isinstance(item, FetchOutcome) or item.article_id is None:
            return item
        wanted = self.wanted(item)
        if not wanted:
            return item
        try:
            engine = self.crawler.engine
        except RuntimeError:  # Scrapy >= 2.14 raises before a crawl has started
            return item
        if engine is None or engine.spider is None:
            return item
        for url in self.archive.plan_attachments(item.article_id, wanted):
            request = Request(
                url,
                headers={"Referer": item.final_url} if item.final_url else None,
                meta={
                    "attachment_of": item.article_id,
                    "attachment_url": url,
                    "handle_httpstatus_list": HTTP_ERRORS,
                },
                dont_filter=True,
            )
            task = asyncio.ensure_future(self._fetch(request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(stats.ATTACHMENTS_SCHEDULED)
        return item

    async def _fetch(self, request: Request) -> None:
        """Download one attachment and record how it ended."""
        meta = request.meta
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            status, reason = describe_exception(exc, meta)
            outcome = AttachmentOutcome(
                meta["attachment_of"],
                meta["attachment_url"],
                status,
                reason,
                original=last_hop(meta),
            )
        else:
            answer, why = status_for_http(response.status)
            content_type = response.headers.get(b"Content-Type")
            outcome = AttachmentOutcome(
                article_id=meta["attachment_of"],
                url=meta["attachment_url"],
                status=answer or Status.ARCHIVED,
                reason=why,
                http_status=response.status,
                content_type=content_type.decode("latin-1") if content_type else None,
                size=len(response.body),
                original=last_hop(response.meta),
            )
        self._record(outcome)

    def _record(self, outcome: AttachmentOutcome) -> None:
        assert self.crawler.stats is not None
        try:
            self.archive.record_attachment(outcome)
        except OSError as exc:
            stats.note_write_error(self.crawler.stats, exc)
            logger.error("archive write failed for %s: %s", outcome.url, exc)
            return
        self.crawler.stats.inc_value(stats.attachment(outcome.status))

    def spider_idle(self) -> None:
        """Keep the crawl open while attachments are still being fetched."""
        if self._tasks:
            raise DontCloseSpider

    async def close_spider(self) -> None:
        """Wait for the attachments still being recorded."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
