"""SizesMiddleware: counts each download's bytes, so that a body cut for its size is named.

Scrapy cancels a download whose Content-Length or body passes ``DOWNLOAD_MAXSIZE`` with a bare
`DownloadCancelledError`; this middleware counts what was announced (``headers_received``) and
what came (``bytes_received``) per download and, when Scrapy cancels one for its size, notes
why in ``request.meta["sources_too_large"]``, which `crawler.outcomes` turns into ``skipped``
"too large: ...". The counts also let a truncated body say how much of it came.
"""

from __future__ import annotations

import time
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import sleep

from crawler import stats
from crawler.outcomes import maxsize_setting

#: request.meta keys this middleware keeps per download.
EXPECTED = "sources_expected_bytes"
RECEIVED = "sources_bytes"
TOO_LARGE = "sources_too_large"


class SizesMiddleware:
    """Byte accounting per download; names a download Scrapy cancelled for its size."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; listens to the download byte signals."""
        middleware = cls(crawler)
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def headers_received(self, headers: Any, body_length: Any, request: Request) -> None:
        """Note the Content-Length a response announces."""
        if isinstance(body_length, int):
            request.meta[EXPECTED] = body_length

    def bytes_received(self, data: bytes, request: Request) -> None:
        """Count the body bytes of a download as they come."""
        request.meta[RECEIVED] = request.meta.get(RECEIVED, 0) + len(data)

    def process_request(self, request: Request) -> None:
        """Start each download (a retry or a redirect hop too) with fresh byte counts."""
        for key in (RECEIVED, EXPECTED, TOO_LARGE):
            request.meta.pop(key, None)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Name a download that Scrapy cancelled for its size, by the setting behind the limit."""
        if not isinstance(exception, DownloadCancelledError):
            return
        limit = request.meta.get("download_maxsize", self.maxsize)
        expected = request.meta.get(EXPECTED, -1)
        received = request.meta.get(RECEIVED, 0)
        name = maxsize_setting(request.meta)
        if limit and expected > limit:
            why = f"Content-Length {expected} bytes is over {name} ({limit} bytes)"
        elif limit and received > limit:
            why = f"over {name} ({limit} bytes), stopped after {received} bytes"
        else:
            return
        request.meta[TOO_LARGE] = why
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.RETRY_TOO_LARGE)


class DecompressionGate:
    """Holds a compressed response back, before it is decompressed, while the responses being
    processed hold more than DECOMPRESS_WAIT_BYTES, or another one is being inflated.

    A compressed body grows when Scrapy's HttpCompressionMiddleware (590) inflates it, up to
    DOWNLOAD_MAXSIZE: ten small gzip bombs downloaded at once would otherwise be held inflated
    together while the slow extraction reads them one by one. Waiting here (595, before the
    inflation) keeps them small until their turn; the waiting request holds its download slot,
    so the crawl takes no new requests meanwhile. Responses go through one at a time (each is
    inflated in milliseconds) and at once while little is held. DECOMPRESS_WAIT_BYTES = 0 turns
    the gate off (`NotConfigured`).
    """

    #: Seconds between looks at the responses being processed while they hold too much, and
    #: while another response is being inflated.
    POLL = 0.1
    POLL_PASSING = 0.005
    #: Seconds a response let through counts as being inflated, at most (one that is dropped
    #: while inflated never reaches the scraper).
    PASSAGE = 2.0

    def __init__(self, crawler: Crawler, limit: int):
        self.crawler = crawler
        self.limit = limit
        self._passing: dict[int, tuple[Request, float]] = {}  # let through, being inflated

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; `NotConfigured` when DECOMPRESS_WAIT_BYTES is 0."""
        limit = crawler.settings.getint("DECOMPRESS_WAIT_BYTES")
        if limit <= 0:
            raise NotConfigured("DECOMPRESS_WAIT_BYTES is 0")
        gate = cls(crawler, limit)
        crawler.signals.connect(gate.response_received, signal=signals.response_received)
        return gate

    def response_received(self, response: Response, request: Request) -> None:
        """A response let through has been inflated and handed on."""
        self._passing.pop(id(request), None)

    def _held(self) -> int:
        """Bytes of the responses the scraper is processing (0 when unknown)."""
        slot = getattr(getattr(self.crawler.engine, "scraper", None), "slot", None)
        return int(getattr(slot, "active_size", 0) or 0)

    def _busy(self, now: float) -> bool:
        """Whether another response is being inflated, or too much is held."""
        active = getattr(getattr(self.crawler.engine, "downloader", None), "active", None)
        for key, (request, since) in list(self._passing.items()):
            # a response refused while inflated (a bomb) leaves the downloader unseen here
            gone = active is not None and request not in active
            if gone or now - since > self.PASSAGE:
                del self._passing[key]
        return bool(self._passing) or self._held() > self.limit

    async def process_response(self, request: Request, response: Response) -> Response:
        """Wait while another response is inflated or those in processing hold too much."""
        if not response.headers.get(b"Content-Encoding") or request.method == "HEAD":
            return response
        waited = False
        while self.crawler.engine is not None and self._busy(time.monotonic()):
            if not waited:
                waited = True
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value(stats.DECOMPRESS_WAITS)
            await sleep(self.POLL_PASSING if self._passing else self.POLL)
        self._passing[id(request)] = (request, time.monotonic())
        return response
