"""The `sources` spider: reads digests, fetches every link they cite that is not archived yet,
then re-checks archived links whose next check is due.

Routing only: digests go to the parser (`crawler.digests`), the archive says which links are
due (`Archive.link_due`) and which are due for a re-check (`Archive.due_rechecks`), answers
become `FetchOutcome` items (`crawler.outcomes`), and the item pipelines read, settle and
store them (re-checks: the re-check stage records what they observed).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import config, stats
from crawler.archive import Archive
from crawler.config import ArgumentError
from crawler.digests import DigestError, parse_digest
from crawler.digests import sources as inputs
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import Digest, DigestRead, FetchOutcome, Link, Role, Status
from crawler.middlewares.warcrecorder import last_hop
from crawler.outcomes import (
    REDIRECT_HTTP,
    describe_failure,
    describe_response,
    release,
)
from crawler.urls import MAX_URL_LENGTH, fetch_url

logger = logging.getLogger(__name__)

#: Statuses whose responses come back to the callback rather than as HttpError: every code
#: but 2xx and the redirects RedirectMiddleware follows (a redirect it could not follow comes
#: back as HttpError, and `fetch_failed` tells why).
HTTP_ERRORS = [c for c in range(100, 1000) if not 200 <= c < 300 and c not in REDIRECT_HTTP]

#: `-a recheck=`: re-checks only (`due`), or none (`off`); without it a crawl re-checks up to
#: RECHECK_PER_RUN due links after its new ones.
RECHECK_DUE, RECHECK_OFF = "due", "off"
#: request.meta keys of a re-check, and of one sent with validators.
RECHECK, CONDITIONAL = "recheck", "recheck_conditional"
#: Re-checks wait behind every new link (and its retries) in the scheduler.
RECHECK_PRIORITY = -10


class SourcesSpider(scrapy.Spider):
    """`scrapy crawl sources [-a digests=PATHS,GLOBS,URLS] [-a recheck=due|off]`."""

    name = "sources"
    sources: list[str]  # resolved digest files and URLs
    scheduled: set[int]  # link ids requested in this run, as 64-bit numbers (small in memory)
    max_url_length: int  # URLLENGTH_LIMIT

    #: The spider arguments (`-a NAME=VALUE`) it takes; `_job` is the one Scrapyd adds.
    ARGUMENTS = ("digests", "recheck", "_job")

    def __init__(self, digests: str | None = None, recheck: str | None = None, **kwargs: Any):
        unknown = sorted(set(kwargs) - set(self.ARGUMENTS))
        if unknown:
            raise ArgumentError(_unknown_arguments(unknown, self.ARGUMENTS))
        if digests is not None and not digests.strip():
            raise ArgumentError(
                "spider argument digests='': expected files, folders, globs or URLs"
            )
        mode = None if recheck is None else recheck.strip().lower()
        if mode not in (None, RECHECK_DUE, RECHECK_OFF):
            raise ArgumentError(
                f"spider argument recheck={recheck!r}: expected due (re-checks only) or off "
                "(no re-checks)"
            )
        if mode == RECHECK_DUE and digests is not None:
            raise ArgumentError(
                "spider argument recheck=due runs re-checks only and reads no digests: leave "
                "out -a digests=... (or run the digests first, without recheck)"
            )
        super().__init__(**kwargs)
        self.digests_arg = digests
        self.recheck = mode
        self.recheck_limit = 0  # re-checks this run may make (set from the settings)
        self.recheck_site_share = 1.0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Built by Scrapy, first of all: every setting and argument is checked before
        anything is opened, and a digests argument that names nothing fails the crawl."""
        if args:
            raise ArgumentError(f"positional spider arguments {args!r}: use -a NAME=VALUE")
        checked = config.load(crawler.settings)
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.recheck == RECHECK_DUE:
            spider.sources = []
            spider.recheck_limit = checked.recheck_budget
        else:
            spider.sources = inputs.resolve(spider.digests_arg or crawler.settings.get("DIGESTS"))
            spider.recheck_limit = 0 if spider.recheck == RECHECK_OFF else checked.recheck_per_run
        spider.recheck_site_share = checked.recheck_site_share
        spider.scheduled = set()
        # the one URL length limit: longer links are invalid, never left to Scrapy to drop
        spider.max_url_length = crawler.settings.getint("URLLENGTH_LIMIT") or MAX_URL_LENGTH
        return spider

    @property
    def archive(self) -> Archive:
        """The crawl's open archive."""
        return required(self.crawler, ArchiveExtension).archive

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    async def start(self) -> AsyncIterator[Any]:
        """New links first (`_new_links`), then due re-checks within the run's budget."""
        if self.recheck != RECHECK_DUE:
            async for item in self._new_links():
                yield item
        async for request in self._rechecks():
            yield request

    async def _new_links(self) -> AsyncIterator[Any]:
        """Digests first (files read here, URLs fetched), then links due from earlier runs."""
        archive = self.archive
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
                    self._inc(stats.DIGESTS_UNCHANGED)
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
        for link_id, url in archive.due_links():
            if len(url) > self.max_url_length:  # the limit was lowered since it was cited
                yield self._too_long(link_id, url)
                continue
            request = self.fetch(link_id, url)
            if request is not None:
                resumed += 1
                await self._room_for_more()
                yield request
        if resumed:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(stats.LINKS_RESUMED, resumed)

    async def _rechecks(self) -> AsyncIterator[scrapy.Request]:
        """Archived links due for a re-check, most overdue first: at most `recheck_limit`
        (RECHECK_PER_RUN, or RECHECK_BUDGET with -a recheck=due), at most RECHECK_SITE_SHARE of
        them per site; they enter the scheduler after every new link, behind them."""
        if self.recheck_limit <= 0:
            return
        archive = self.archive
        assert self.crawler.stats is not None
        due = archive.rechecks_due()
        self.crawler.stats.set_value(stats.RECHECKS_DUE, due)
        if not due:
            return

        def passed_over(link_id: str, why: str) -> None:
            self._inc(stats.recheck(why))  # over_site_share, not_cited

        requested = 0
        for link_id, url, validators in archive.due_rechecks(
            self.recheck_limit, self.recheck_site_share, passed_over=passed_over
        ):
            request = self.recheck_request(link_id, url, validators)
            if request is not None:
                requested += 1
                await self._room_for_more()
                yield request
        over = self.crawler.stats.get_value(stats.RECHECKS_OVER_SITE_SHARE) or 0
        logger.info(
            "re-checks: %d of %d due link(s) requested (RECHECK_%s %d%s)",
            requested,
            due,
            "BUDGET" if self.recheck == RECHECK_DUE else "PER_RUN",
            self.recheck_limit,
            f"; {over} left for later runs by RECHECK_SITE_SHARE" if over else "",
        )

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
        """A digest fetched by URL."""
        yield from self.read_digest(response.body, response.meta["digest_source"])

    def digest_failed(self, failure: Failure) -> None:
        """A digest URL that could not be fetched (or answered with an error status)."""
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, HttpError):
            response = failure.value.response
            why = describe_response(response)[1] or f"HTTP {response.status}"
        else:
            why = describe_failure(failure)[1]
        release(failure)
        self._digest_error(request.meta["digest_source"], why)

    def _digest_error(self, source: str, why: str) -> None:
        logger.error("digest %s: %s", source, why)
        assert self.crawler.stats is not None
        self._inc(stats.DIGESTS_FAILED)
        errors = self.crawler.stats.get_value(stats.DIGESTS_ERRORS) or []
        self.crawler.stats.set_value(stats.DIGESTS_ERRORS, [*errors, f"{source}: {why}"])

    def read_digest(
        self, raw: bytes, source: str, file_stat: tuple[int, int] | None = None
    ) -> Iterator[Any]:
        """Parse one digest, yield it for storage and a request for each link to fetch."""
        archive = self.archive
        if archive.digest_seen(hashlib.sha256(raw).hexdigest()):
            self._inc(stats.DIGESTS_UNCHANGED)
            logger.debug("digest %s: unchanged since it was read, skipped", source)
            if file_stat is not None:
                archive.note_digest_file(source, *file_stat)
            return
        try:
            digest = parse_digest(raw, source)
        except DigestError as exc:
            self._digest_error(source, str(exc))
            return
        self._inc(stats.DIGESTS_READ)
        self._inc(stats.ENTRIES, len(digest.entries))
        links = [link for entry in digest.entries for link in entry.links] + digest.links
        for link in links:
            if link.canonical_url and len(link.canonical_url) > self.max_url_length:
                link.error = (
                    f"invalid URL: longer than URLLENGTH_LIMIT ({self.max_url_length}) "
                    f"characters ({len(link.canonical_url)})"
                )
                link.canonical_url = link.link_id = None
            self._inc(stats.cited(link.role))
            if link.error:
                self._inc(stats.LINKS_INVALID)
        self._summarize(digest, links)
        yield DigestRead(digest=digest, raw=raw, read_at=time.time(), file_stat=file_stat)
        for link in links:
            if link.link_id and link.canonical_url:
                request = self.fetch(link.link_id, link.canonical_url)
                if request is not None:
                    yield request

    def _summarize(self, digest: Digest, links: list[Link]) -> None:
        """Log and keep (for the run report) what was read: entries, links by role, the rule."""
        by_role = {str(role): sum(1 for lk in links if lk.role == role) for role in Role}
        logger.info(
            "digest %s: %s, %d entries, %d links (%s); %s",
            digest.source,
            digest.format,
            len(digest.entries),
            len(links),
            ", ".join(f"{n} {role}" for role, n in by_role.items()),
            digest.structure,
        )
        assert self.crawler.stats is not None
        self._inc(stats.digest_rule(digest.structure.partition(":")[0] or "unknown"))
        summary = {
            "source": digest.source,
            "format": digest.format,
            "structure": digest.structure,
            "entries": len(digest.entries),
            "links": by_role,
        }
        known = self.crawler.stats.get_value(stats.DIGESTS_SUMMARIES) or []
        if len(known) < stats.DIGESTS_SUMMARIES_MAX:
            known.append(summary)
            self.crawler.stats.set_value(stats.DIGESTS_SUMMARIES, known)

    # -- cited pages ---------------------------------------------------------------------
    def fetch(self, link_id: str, url: str) -> scrapy.Request | None:
        """A request for a link unless it is scheduled already or the archive says not now."""
        key = int(link_id[:16], 16)
        if key in self.scheduled:
            self._inc(stats.LINKS_DUPLICATE_IN_RUN)
            return None
        why = self.archive.link_due(link_id, url)
        if why is not None:
            self._inc(stats.not_fetched(why))
            return None
        self.scheduled.add(key)
        self._inc(stats.LINKS_SCHEDULED)
        return scrapy.Request(
            fetch_url(url),  # a site's API where its page needs scripts (crawler.urls)
            callback=self.parse_page,
            errback=self.fetch_failed,
            meta={"link_id": link_id, "canonical_url": url, "handle_httpstatus_list": HTTP_ERRORS},
        )

    def recheck_request(
        self, link_id: str, url: str, validators: dict[str, Any]
    ) -> scrapy.Request | None:
        """A re-check of an archived link, conditional when its stored answer gave validators
        (a 304 costs no body); None when the link is requested in this run already."""
        key = int(link_id[:16], 16)
        if key in self.scheduled:
            self._inc(stats.LINKS_DUPLICATE_IN_RUN)
            return None
        self.scheduled.add(key)
        headers = {}
        if validators.get("etag"):
            headers["If-None-Match"] = str(validators["etag"])
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = str(validators["last_modified"])
        self._inc(stats.RECHECKS_SCHEDULED)
        if headers:
            self._inc(stats.RECHECKS_CONDITIONAL)
        return scrapy.Request(
            fetch_url(url),
            callback=self.parse_page,
            errback=self.fetch_failed,
            headers=headers,
            priority=RECHECK_PRIORITY,
            meta={
                "link_id": link_id,
                "canonical_url": url,
                RECHECK: True,
                CONDITIONAL: bool(headers),
                "handle_httpstatus_list": HTTP_ERRORS,  # 304 among them,
            },
        )

    def _too_long(self, link_id: str, url: str) -> FetchOutcome:
        """The outcome of a link longer than URLLENGTH_LIMIT: never fetched."""
        self._inc(stats.LINKS_TOO_LONG)
        return FetchOutcome(
            link_id=link_id,
            canonical_url=url,
            status=Status.SKIPPED,
            reason=f"URL longer than URLLENGTH_LIMIT ({self.max_url_length}) characters",
        )

    def parse_page(self, response: Response) -> Iterator[FetchOutcome]:
        """A cited page answered: what was served, for the pipelines to read and store."""
        meta = response.meta
        status, reason = describe_response(response)
        ip = getattr(response, "ip_address", None)
        content_type = response.headers.get(b"Content-Type")
        yield FetchOutcome(
            link_id=meta["link_id"],
            canonical_url=meta["canonical_url"],
            status=status,
            reason=reason,
            http_status=response.status,
            final_url=response.url,
            content_type=content_type.decode("latin-1") if content_type else None,
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, vs in response.headers.items()
                for v in vs
            ],
            body=response.body,
            fetched_at=time.time(),
            ip=str(ip) if ip else None,
            redirects=list(meta.get("redirect_urls", [])),
            recheck=bool(meta.get(RECHECK)),
            conditional=bool(meta.get(CONDITIONAL)),
            original=last_hop(meta),
        )

    def fetch_failed(self, failure: Failure) -> Iterator[FetchOutcome]:
        """A cited page did not answer (or was refused): why, for the pipelines to store.

        A response Scrapy turned into HttpError (a redirect that could not be followed) is
        stored as the answer it is, with its status and the reason it was not followed.
        """
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, HttpError):
            response = failure.value.response
            release(failure)
            yield from self.parse_page(response)
            return
        status, reason = describe_failure(failure)
        release(failure)
        yield FetchOutcome(
            link_id=request.meta["link_id"],
            canonical_url=request.meta["canonical_url"],
            status=status,
            reason=reason,
            redirects=list(request.meta.get("redirect_urls", [])),
            recheck=bool(request.meta.get(RECHECK)),
            conditional=bool(request.meta.get(CONDITIONAL)),
            original=last_hop(request.meta),
        )


def _unknown_arguments(unknown: list[str], known: tuple[str, ...]) -> str:
    """One line: the arguments not taken, a likely meant one, the ones that are."""
    import difflib

    names = ", ".join(f"-a {name}=..." for name in unknown)
    close = difflib.get_close_matches(unknown[0], known, n=1)
    hint = f" (did you mean -a {close[0]}=?)" if close else ""
    return (
        f"unknown spider argument {names}{hint}; the sources spider takes: -a digests=..., "
        "-a recheck=due|off"
    )
