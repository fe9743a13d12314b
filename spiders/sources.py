"""The `sources` spider: reads digests, fetches every link they cite that is not archived yet."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.archive.index import FINAL
from crawler.digests import DigestError, parse_digest
from crawler.digests import sources as inputs
from crawler.failures import describe_failure, describe_response, status_for_http
from crawler.items import AttachmentOutcome, DigestRead, FetchOutcome
from crawler.runtime import archive_for
from crawler.urls import InvalidURL, canonicalize, url_id

logger = logging.getLogger(__name__)

_HTTP_ERRORS = list(range(400, 600))


class SourcesSpider(scrapy.Spider):
    """`scrapy crawl sources [-a digests=PATHS,GLOBS,URLS]`."""

    name = "sources"
    sources: list[str]  # resolved digest files and URLs
    max_attempts: int
    scheduled: set[int]  # link ids requested in this run, as 64-bit numbers (small in memory)

    def __init__(self, digests: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.digests_arg = digests

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourcesSpider:
        spider: SourcesSpider = super().from_crawler(crawler, *args, **kwargs)
        spec = spider.digests_arg or crawler.settings.get("DIGESTS")
        # Validated here, before anything is opened: a wrong path fails the run at once.
        spider.sources = inputs.resolve(spec)
        archive_for(crawler)  # take the archive's lock now: a held or unwritable archive fails fast
        spider.max_attempts = crawler.settings.getint("MAX_ATTEMPTS_PER_URL")
        spider.scheduled = set()
        return spider

    async def start(self) -> AsyncIterator[Any]:
        archive = archive_for(self.crawler)
        stats = self.crawler.stats
        logger.info("reading %d digest source(s) into %s", len(self.sources), archive.root)
        for source in self.sources:
            if source.startswith(("http://", "https://")):
                yield scrapy.Request(
                    source,
                    callback=self.parse_digest_response,
                    errback=self.digest_failed,
                    meta={"digest_source": source},
                    priority=10,
                )
                continue
            try:
                info = Path(source).stat()
                file_stat = (info.st_size, info.st_mtime_ns)
                if archive.digest_file_unchanged(source, *file_stat):
                    stats.inc_value("sources/digests/unchanged")
                    continue
                raw = Path(source).read_bytes()
            except OSError as exc:
                self._digest_error(source, f"cannot read: {exc.strerror or exc}")
                continue
            for item in self.read_digest(raw, source, file_stat):
                if isinstance(item, scrapy.Request):
                    await self._room_for_more()
                yield item
        # Links cited earlier that still need work: resumed after a crash, or retried.
        resumed = 0
        for link_id, url in archive.due_links(self.max_attempts):
            request = self.fetch(link_id, url)
            if request is not None:
                resumed += 1
                await self._room_for_more()
                yield request
        if resumed:
            stats.set_value("sources/links/resumed", resumed)

    async def _room_for_more(self) -> None:
        """Wait while downloads are saturated and the scheduler still holds requests.

        Scrapy takes start requests as fast as they come and keeps them in memory; a run over
        100,000 links would hold them all. Waiting here keeps the scheduler's queue short and
        the links on disk, in the index, until their turn.
        """
        engine = self.crawler.engine
        while engine is not None and engine.running and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    # -- digests -------------------------------------------------------------------------
    def parse_digest_response(self, response: Response) -> Iterator[Any]:
        yield from self.read_digest(response.body, response.meta["digest_source"])

    def digest_failed(self, failure: Failure) -> None:
        self._digest_error(failure.request.meta["digest_source"], describe_failure(failure)[1])

    def _digest_error(self, source: str, why: str) -> None:
        logger.error("digest %s: %s", source, why)
        self.crawler.stats.inc_value("sources/digests/failed")
        errors = self.crawler.stats.get_value("sources/digests/errors") or []
        self.crawler.stats.set_value("sources/digests/errors", [*errors, f"{source}: {why}"])

    def read_digest(
        self, raw: bytes, source: str, file_stat: tuple[int, int] | None = None
    ) -> Iterator[Any]:
        """Parse one digest, yield it for storage and a request for each link to fetch."""
        stats = self.crawler.stats
        archive = archive_for(self.crawler)
        if archive.digest_seen(hashlib.sha256(raw).hexdigest()):
            stats.inc_value("sources/digests/unchanged")
            logger.debug("digest %s: unchanged since it was read, skipped", source)
            if file_stat is not None:
                archive.note_digest_file(source, *file_stat)
            return
        try:
            digest = parse_digest(raw, source)
        except DigestError as exc:
            self._digest_error(source, str(exc))
            return
        stats.inc_value("sources/digests/read")
        stats.inc_value("sources/entries", len(digest.entries))
        for entry in digest.entries:
            for link in entry.links:
                stats.inc_value(f"sources/links/cited/{link.role}")
                try:
                    link.canonical_url = canonicalize(link.url)
                except InvalidURL as exc:
                    link.error = f"invalid URL: {exc}"
                    stats.inc_value("sources/links/invalid")
        logger.info(
            "digest %s: %d entries, %d links",
            source,
            len(digest.entries),
            sum(len(e.links) for e in digest.entries),
        )
        yield DigestRead(digest=digest, raw=raw, read_at=time.time(), file_stat=file_stat)
        for entry in digest.entries:
            for link in entry.links:
                if link.canonical_url:
                    request = self.fetch(url_id(link.canonical_url), link.canonical_url)
                    if request is not None:
                        yield request

    # -- cited pages ---------------------------------------------------------------------
    def fetch(self, link_id: str, url: str) -> scrapy.Request | None:
        """A request for a link unless it is archived, scheduled already, or out of attempts."""
        stats = self.crawler.stats
        key = int(link_id[:16], 16)
        if key in self.scheduled:
            stats.inc_value("sources/links/duplicate_in_run")
            return None
        archive = archive_for(self.crawler)
        state = archive.index.link(link_id)
        if state is not None and (
            state["status"] in FINAL
            or state["attempts"] >= self.max_attempts
            or (state["next_attempt"] or 0) > time.time()
        ):
            stats.inc_value(f"sources/links/skipped/{state['status']}")
            return None
        alias = archive.index.alias(url)
        if alias is not None and alias != link_id:
            stats.inc_value("sources/links/skipped/alias")
            return None
        self.scheduled.add(key)
        stats.inc_value("sources/links/scheduled")
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.fetch_failed,
            meta={"link_id": link_id, "canonical_url": url, "handle_httpstatus_list": _HTTP_ERRORS},
        )

    def parse_page(self, response: Response) -> Iterator[FetchOutcome]:
        meta = response.meta
        hops = meta.get("warc_hops") or []
        status, reason = describe_response(response)
        ip = getattr(response, "ip_address", None)
        yield FetchOutcome(
            link_id=meta["link_id"],
            canonical_url=meta["canonical_url"],
            status=status,
            reason=reason,
            http_status=response.status,
            final_url=response.url,
            content_type=_header(response, b"Content-Type"),
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, vs in response.headers.items()
                for v in vs
            ],
            body=response.body,
            fetched_at=time.time(),
            ip=str(ip) if ip else None,
            redirects=list(meta.get("redirect_urls", [])),
            original=hops[-1] if hops else None,
        )

    # -- attachments: images of WeChat articles, arXiv PDFs -------------------------------
    def attachment(self, article_id: str, url: str, referer: str | None) -> scrapy.Request:
        """A request for an attachment of a stored article (scheduled by the store)."""
        return scrapy.Request(
            url,
            callback=self.parse_attachment,
            errback=self.attachment_failed,
            headers={"Referer": referer} if referer else None,
            meta={
                "attachment_of": article_id,
                "attachment_url": url,
                "handle_httpstatus_list": _HTTP_ERRORS,
            },
            dont_filter=True,
            priority=-1,
        )

    def parse_attachment(self, response: Response) -> Iterator[AttachmentOutcome]:
        hops = response.meta.get("warc_hops") or []
        status, reason = status_for_http(response.status)
        yield AttachmentOutcome(
            article_id=response.meta["attachment_of"],
            url=response.meta["attachment_url"],
            status=status or "archived",
            reason=reason,
            http_status=response.status,
            content_type=_header(response, b"Content-Type"),
            size=len(response.body),
            original=hops[-1] if hops else None,
        )

    def attachment_failed(self, failure: Failure) -> Iterator[AttachmentOutcome]:
        status, reason = describe_failure(failure)
        meta = failure.request.meta
        yield AttachmentOutcome(
            article_id=meta["attachment_of"],
            url=meta["attachment_url"],
            status=status,
            reason=reason,
        )

    def fetch_failed(self, failure: Failure) -> Iterator[FetchOutcome]:
        request = failure.request
        status, reason = describe_failure(failure)
        hops = request.meta.get("warc_hops") or []
        logger.info("%s: %s (%s)", request.url, status, reason)
        yield FetchOutcome(
            link_id=request.meta["link_id"],
            canonical_url=request.meta["canonical_url"],
            status=status,
            reason=reason,
            redirects=list(request.meta.get("redirect_urls", [])),
            original=hops[-1] if hops else None,
        )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
