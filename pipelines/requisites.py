"""RequisitesPipeline: stores what an archived article's page needs to be seen as its reader saw
it, beside the article.

For every archived article: the images of its body (`Extracted.images`, every extractor; the
sites in ARTICLE_IMAGES_DOMAINS, every site by default), with REQUISITES_STYLES the
stylesheets its page links and what they load (`@import` one level deep, fonts and images of
`url()`), and with ARTICLE_DOCUMENTS its document form (an arXiv paper's PDF,
`crawler.urls.documents`).

As Scrapy's own media pipelines do, each requisite is downloaded through the engine's
downloader (`engine.download_async`: the same politeness, network safety, size limits and WARC
recording as pages), with the article's page as Referer (image hosts that refuse hotlinks,
WeChat's mmbiz.qpic.cn, serve a request that names the article). Unlike them, the article goes
on at once and its requisites are fetched meanwhile; the crawl does not end before they are.

Bounded per page: ARTICLE_IMAGES_MAX images, REQUISITES_MAX requisites in all (the rest is
counted in the article's `attachments_omitted`), REQUISITES_MAX_BYTES bytes (reserved before
each download, so the page's downloads never add up to more), REQUISITE_MAXSIZE bytes each
(`download_maxsize` in the request's meta), REQUISITES_CONCURRENCY at a time.

Stored once across pages: a URL stored before (within REQUISITES_REFETCH_AFTER) is referenced
without a fetch (`dedupe: "url"`), a URL being fetched for another page is waited for, and a
payload stored before under another URL becomes a `revisit` record (`dedupe: "payload"`,
written by the WARC recorder through `Archive.write_exchange`).

The article's `attachments` map says, per URL, `pending` until fetched (a killed crawl's next
run fetches what is pending), then `archived` with its WARC pointer, or why not. A requisite
that fails never fails its article.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response

from crawler import requisites, stats, urls
from crawler.archive import Archive
from crawler.archive.records import attachment_outcome
from crawler.archive.store import Planned
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import FINAL, AttachmentOutcome, Dedupe, FetchOutcome, Requisite, Status
from crawler.middlewares.warcrecorder import WRITTEN, last_hop
from crawler.outcomes import MAXSIZE_SETTING, describe_exception, status_for_http

logger = logging.getLogger(__name__)

#: Statuses whose responses come back to us rather than as HttpError (we record them).
HTTP_ERRORS = list(range(400, 600))

#: What a browser accepts for each kind of requisite.
ACCEPT = {
    Requisite.IMAGE: "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    Requisite.STYLE_IMAGE: "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    Requisite.STYLESHEET: "text/css,*/*;q=0.1",
    Requisite.FONT: "*/*",
    Requisite.DOCUMENT: "application/pdf,*/*;q=0.8",
}
#: Kinds whose served bytes are checked for decompression bombs and active SVG content.
INSPECTED = (Requisite.IMAGE, Requisite.STYLE_IMAGE)
#: Articles whose pending requisites a new run fetches at once.
RESUME_ARTICLES = 4


@dataclass
class Limits:
    """The per-page bounds, from the settings."""

    images: int
    total: int
    page_bytes: int
    each_bytes: int
    concurrency: int
    max_pixels: int
    refetch_after: float


@dataclass
class _Page:
    """One article's requisites being fetched: its budget, count and outcomes."""

    article_id: str
    referer: str | None
    budget: requisites.Budget
    room: asyncio.Condition
    slots: asyncio.Semaphore
    planned: int
    outcomes: dict[str, AttachmentOutcome] = field(default_factory=dict)
    omitted: int = 0
    omitted_why: set[str] = field(default_factory=set)


class RequisitesPipeline:
    """Fetches and records each archived article's images, stylesheets, fonts and documents."""

    def __init__(
        self,
        crawler: Crawler,
        archive: Archive,
        image_domains: list[str],
        styles: bool,
        documents: bool,
        limits: Limits,
    ):
        self.crawler = crawler
        self.archive = archive
        self.image_domains = [d.lower() for d in image_domains]
        self.styles = styles
        self.documents = documents
        self.limits = limits
        # EXTRACT_AS: a mirror's pages are read as another site's, so their relative URLs
        # come back on that site's host; they are fetched from the mirror
        self.mirrors = {
            site: netloc for netloc, site in crawler.settings.getdict("EXTRACT_AS").items()
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, asyncio.Future[AttachmentOutcome]] = {}
        self._failed: dict[str, AttachmentOutcome] = {}  # failed in this run: not tried again

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; `NotConfigured` when no images, styles or documents are wanted."""
        settings = crawler.settings
        domains = [d for d in settings.getlist("ARTICLE_IMAGES_DOMAINS") if d]
        styles = settings.getbool("REQUISITES_STYLES")
        documents = settings.getbool("ARTICLE_DOCUMENTS")
        if not domains and not styles and not documents:
            raise NotConfigured(
                "ARTICLE_IMAGES_DOMAINS is empty, REQUISITES_STYLES and ARTICLE_DOCUMENTS off"
            )
        limits = Limits(
            images=settings.getint("ARTICLE_IMAGES_MAX"),
            total=settings.getint("REQUISITES_MAX"),
            page_bytes=settings.getint("REQUISITES_MAX_BYTES"),
            each_bytes=settings.getint("REQUISITE_MAXSIZE"),
            concurrency=max(1, settings.getint("REQUISITES_CONCURRENCY")),
            max_pixels=settings.getint("REQUISITES_MAX_PIXELS"),
            refetch_after=settings.getfloat("REQUISITES_REFETCH_AFTER"),
        )
        pipeline = cls(
            crawler,
            required(crawler, ArchiveExtension).archive,
            domains,
            styles,
            documents,
            limits,
        )
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        return pipeline

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    # -- what a page needs ---------------------------------------------------------------
    def wanted(self, item: FetchOutcome) -> list[str]:
        """The requisite URLs of an archived article, in order (`plan` without kinds)."""
        return [url for url, _, _ in self.plan(item)[0]]

    def plan(self, item: FetchOutcome) -> tuple[list[Planned], list[str]]:
        """(requisites to fetch, why the others were left out): stylesheets, then the images of
        the body, then the document form; each kind within its limit."""
        found: list[Planned] = []
        left_out: list[str] = []
        ex = item.extracted
        total = self.limits.total
        page = item.final_url or item.canonical_url
        if ex is not None and self.styles:
            styles = [self._mirrored(u, page) for u in ex.styles]
            sheets = [u for u in dict.fromkeys(styles) if _fetchable(u)]
            kinds = [(u, requisites.kind_of(u, Requisite.STYLESHEET), None) for u in sheets]
            found += kinds[:total]
            left_out += [f"over REQUISITES_MAX ({total} a page)"] * len(kinds[total:])
        if ex is not None and self._wants_images(item.canonical_url):
            mirrored = [self._mirrored(u, page) for u in ex.images]
            images = [u for u in dict.fromkeys(mirrored) if _fetchable(u)]
            room = max(0, min(self.limits.images, total - len(found)))
            found += [(u, Requisite.IMAGE, None) for u in images[:room]]
            why = (
                f"over ARTICLE_IMAGES_MAX ({self.limits.images} images a page)"
                if room == self.limits.images
                else f"over REQUISITES_MAX ({total} a page)"
            )
            left_out += [why] * len(images[room:])
        if self.documents:
            found += [(u, Requisite.DOCUMENT, None) for u in urls.documents(item.canonical_url)]
        return found, left_out

    def _mirrored(self, url: str, page: str) -> str:
        """A URL on the site a mirror's page was read as (EXTRACT_AS), put back on the mirror."""
        if not self.mirrors:
            return url
        parts = urlsplit(url)
        mirror = self.mirrors.get(parts.netloc)
        if mirror is None or urlsplit(page).netloc != mirror:
            return url
        return urlunsplit(parts._replace(netloc=mirror, scheme=urlsplit(page).scheme))

    def _wants_images(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(d == "*" or host == d or host.endswith("." + d) for d in self.image_domains)

    # -- the pipeline --------------------------------------------------------------------
    def process_item(self, item: object) -> object:
        """Plan an archived article's requisites and start fetching the new ones."""
        if not isinstance(item, FetchOutcome) or item.article_id is None:
            return item
        planned, left_out = self.plan(item)
        if not planned and not left_out:
            return item
        if self._engine() is None:
            return item
        new = self.archive.plan_requisites(item.article_id, planned)
        if left_out:
            self._inc(stats.ATTACHMENTS_OMITTED, len(left_out))
        if new or left_out:
            page = self._page(item.article_id, item.final_url or item.canonical_url, len(new))
            page.omitted, page.omitted_why = len(left_out), set(left_out)
            self._start(self._capture(page, new))
        return item

    def _engine(self) -> Any:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # Scrapy >= 2.14 raises before a crawl has started
            return None
        if engine is None or engine.spider is None:
            return None
        return engine

    def _page(self, article_id: str, referer: str | None, planned: int) -> _Page:
        return _Page(
            article_id,
            referer,
            requisites.Budget(self.limits.page_bytes),
            asyncio.Condition(),
            asyncio.Semaphore(self.limits.concurrency),
            planned,
        )

    def _start(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _capture(self, page: _Page, planned: list[Planned]) -> None:
        """Fetch a page's requisites (and what its stylesheets load), then record them all."""
        try:
            await asyncio.gather(*(self._one(page, *p) for p in planned))
        except Exception:  # never the article's failure: what came is still recorded
            logger.exception("requisites of article %s", page.article_id)
        omitted = None
        if page.omitted:
            omitted = {"count": page.omitted, "reason": "; ".join(sorted(page.omitted_why))}
        try:
            self.archive.record_requisites(page.article_id, list(page.outcomes.values()), omitted)
        except OSError as exc:
            assert self.crawler.stats is not None
            stats.note_write_error(self.crawler.stats, exc)
            logger.error("archive write failed for article %s: %s", page.article_id, exc)
            return
        for outcome in page.outcomes.values():
            self._inc(stats.attachment(outcome.status))
            if outcome.dedupe:
                self._inc(stats.attachment_dedupe(outcome.dedupe))

    async def _one(self, page: _Page, url: str, kind: Requisite, via: str | None) -> None:
        """One requisite of a page; a stylesheet's own requisites after it."""
        self._inc(stats.ATTACHMENTS_SCHEDULED)
        self._inc(stats.attachment_kind(kind))
        outcome, response = await self._get(page, url, kind, via)
        page.outcomes[url] = outcome
        sheet = kind == Requisite.STYLESHEET and outcome.status == Status.ARCHIVED
        if sheet and response is not None:
            await self._stylesheet(page, url, via, response)

    async def _stylesheet(self, page: _Page, url: str, via: str | None, response: Response) -> None:
        """What a stylesheet loads: @imports (from a sheet the page links: one level deep),
        fonts and images of its url()s; planned like the page's own, within REQUISITES_MAX."""
        css = response.body.decode(_charset(response), "replace")
        imports, loads = requisites.css_references(css, response.url)
        children: list[Planned] = [] if via else [(u, Requisite.STYLESHEET, url) for u in imports]
        children += [(u, kind, url) for u, kind in loads]
        children = [c for c in children if _fetchable(c[0]) and c[0] not in page.outcomes]
        room = max(0, self.limits.total - page.planned)
        if len(children) > room:
            page.omitted += len(children) - room
            page.omitted_why.add(f"over REQUISITES_MAX ({self.limits.total} a page)")
            self._inc(stats.ATTACHMENTS_OMITTED, len(children) - room)
            children = children[:room]
        new = self.archive.plan_requisites(page.article_id, children) if children else []
        page.planned += len(new)
        await asyncio.gather(*(self._one(page, *c) for c in new))

    async def _get(
        self, page: _Page, url: str, kind: Requisite, via: str | None
    ) -> tuple[AttachmentOutcome, Response | None]:
        """A requisite's outcome: stored before (by URL), being fetched for another page, or
        fetched now."""
        failed = self._failed.get(url)
        if failed is not None:
            return replace(failed, article_id=page.article_id, kind=kind, via=via), None
        known = self.archive.requisite(url, self.limits.refetch_after)
        if known is not None:
            outcome = attachment_outcome(page.article_id, url, known)
            return replace(outcome, kind=kind, via=via), None
        other = self._inflight.get(url)
        if other is not None:
            outcome = await asyncio.shield(other)
            shared = Dedupe.URL if outcome.status == Status.ARCHIVED else outcome.dedupe
            shared_outcome = replace(
                outcome, article_id=page.article_id, kind=kind, via=via, dedupe=shared
            )
            return shared_outcome, None
        future: asyncio.Future[AttachmentOutcome] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        response = None
        try:
            outcome, response = await self._fetch(page, url, kind, via)
        except Exception as exc:  # a bug of ours, not the requisite's: recorded, never raised
            logger.exception("requisite %s", url)
            outcome = AttachmentOutcome(page.article_id, url, Status.FAILED, f"error: {exc}")
        finally:
            del self._inflight[url]
        future.set_result(outcome)
        if outcome.status not in FINAL:
            self._failed[url] = outcome
        return outcome, response

    async def _fetch(
        self, page: _Page, url: str, kind: Requisite, via: str | None
    ) -> tuple[AttachmentOutcome, Response | None]:
        """Download one requisite within the page's budget and say how it ended."""
        async with page.slots:
            limit = await self._reserve(page, kind)
            if limit == 0:
                reason = (
                    f"over REQUISITES_MAX_BYTES: the page's requisites took {page.budget.used} "
                    f"of {page.budget.limit} bytes"
                )
                skipped = AttachmentOutcome(
                    page.article_id, url, Status.SKIPPED, reason, kind=kind, via=via
                )
                return skipped, None
            spent = 0
            try:
                outcome, response = await self._download(page, url, kind, via, limit)
                spent = outcome.size
            finally:
                if limit > 0:
                    async with page.room:
                        page.budget.settle(limit, spent)
                        page.room.notify_all()
            return outcome, response

    async def _reserve(self, page: _Page, kind: Requisite) -> int:
        """Bytes this download may take: REQUISITE_MAXSIZE, or what the page has left once the
        downloads in flight have settled (documents: DOWNLOAD_MAXSIZE, outside the budget)."""
        if kind == Requisite.DOCUMENT:
            return -1
        wanted = self.limits.each_bytes
        async with page.room:
            while True:
                budget = page.budget
                free = budget.limit - budget.used - budget.reserved
                if free >= wanted or budget.reserved == 0:
                    return budget.reserve(wanted)
                await page.room.wait()

    async def _download(
        self, page: _Page, url: str, kind: Requisite, via: str | None, limit: int
    ) -> tuple[AttachmentOutcome, Response | None]:
        """Fetch one requisite through the engine's downloader; the outcome and the response."""
        meta: dict[str, Any] = {
            "attachment_of": page.article_id,
            "attachment_url": url,
            "requisite": str(kind),
            "handle_httpstatus_list": HTTP_ERRORS,
        }
        if limit > 0:
            meta["download_maxsize"] = limit
            whole = limit >= self.limits.each_bytes  # else the bytes the page's budget had left
            meta[MAXSIZE_SETTING] = "REQUISITE_MAXSIZE" if whole else "REQUISITES_MAX_BYTES"
        headers = {"Accept": ACCEPT[kind]}
        if page.referer:
            headers["Referer"] = via or page.referer  # a stylesheet's fonts name the sheet
        request = Request(url, headers=headers, meta=meta, dont_filter=True, priority=-1)
        engine = self._engine()
        if engine is None:
            stopped = AttachmentOutcome(
                page.article_id, url, Status.FAILED, "crawl stopped", kind=kind, via=via
            )
            return stopped, None
        try:
            response = await engine.download_async(request)
        except Exception as exc:
            meta = request.meta  # what the middlewares noted (Request copies the dict given)
            status, reason = describe_exception(exc, meta)  # names the limit's setting
            outcome = AttachmentOutcome(
                page.article_id, url, status, reason, original=last_hop(meta), kind=kind, via=via
            )
            return outcome, None
        answer, why = status_for_http(response.status)
        status = answer or Status.ARCHIVED
        body = response.body
        if status == Status.ARCHIVED and kind in INSPECTED:
            verdict = requisites.inspect(body, self.limits.max_pixels)
            if verdict is not None:
                refuse, why = verdict
                status = Status.SKIPPED if refuse else status
        digest, date, revisit_of = response.meta.get(WRITTEN) or (None, None, None)
        content_type = response.headers.get(b"Content-Type")
        outcome = AttachmentOutcome(
            article_id=page.article_id,
            url=url,
            status=status,
            reason=why,
            http_status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            size=len(body),
            original=last_hop(response.meta),
            kind=kind,
            final_url=response.url,
            fetched_at=time.time(),
            fetched_at_iso=date,
            payload_digest=digest,
            revisit_of=revisit_of,
            dedupe=Dedupe.PAYLOAD if revisit_of is not None else None,
            via=via,
        )
        return outcome, response

    # -- signals -------------------------------------------------------------------------
    def spider_opened(self) -> None:
        """Fetch the requisites a killed crawl left pending (those of the articles this run
        stores are planned and fetched as they come)."""
        left = list(self.archive.pending_requisites())
        if left:
            logger.info("fetching the requisites of %d article(s) left pending", len(left))
            self._start(self._resume(left))

    async def _resume(self, left: list[tuple[str, str | None, list[Planned]]]) -> None:
        slots = asyncio.Semaphore(RESUME_ARTICLES)

        async def one(article_id: str, referer: str | None, todo: list[Planned]) -> None:
            async with slots:
                self._inc(stats.ATTACHMENTS_RESUMED, len(todo))
                await self._capture(self._page(article_id, referer, len(todo)), todo)

        pending = []
        for article_id, referer, todo in left:
            pending.append(asyncio.ensure_future(one(article_id, referer, todo)))
            if len(pending) >= 4 * RESUME_ARTICLES:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)

    def spider_idle(self) -> None:
        """Keep the crawl open while requisites are still being fetched."""
        if self._tasks:
            raise DontCloseSpider

    async def close_spider(self) -> None:
        """Wait for the requisites still being recorded."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _fetchable(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _charset(response: Response) -> str:
    """The charset a stylesheet is served in (its Content-Type, else a leading @charset)."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";")[0].strip(" \"'")
        try:
            "".encode(charset)
        except LookupError:
            return "utf-8"
        return charset
    head = response.body[:100]
    if head.startswith(b'@charset "'):
        charset = head[10:].split(b'"', 1)[0].decode("ascii", "replace")
        try:
            "".encode(charset)
        except LookupError:
            return "utf-8"
        return charset
    return "utf-8"
