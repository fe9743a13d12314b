"""SizesMiddleware: counts each download's bytes, so that a body cut for its size is named.

Scrapy cancels a download whose Content-Length or body passes ``DOWNLOAD_MAXSIZE`` with a bare
`DownloadCancelledError`; this middleware counts what was announced (``headers_received``) and
what came (``bytes_received``) per download and, when Scrapy cancels one for its size, notes
why in ``request.meta["sources_too_large"]``, which `crawler.outcomes` turns into ``skipped``
"too large: ...". The counts also let a truncated body say how much of it came.
"""

from __future__ import annotations

from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError

from crawler import stats

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
        """Name a download that Scrapy cancelled for DOWNLOAD_MAXSIZE."""
        if not isinstance(exception, DownloadCancelledError):
            return
        limit = request.meta.get("download_maxsize", self.maxsize)
        expected = request.meta.get(EXPECTED, -1)
        received = request.meta.get(RECEIVED, 0)
        if limit and expected > limit:
            why = f"Content-Length {expected} bytes is over DOWNLOAD_MAXSIZE ({limit} bytes)"
        elif limit and received > limit:
            why = f"over DOWNLOAD_MAXSIZE ({limit} bytes), stopped after {received} bytes"
        else:
            return
        request.meta[TOO_LARGE] = why
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.RETRY_TOO_LARGE)
