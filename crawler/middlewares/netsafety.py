"""NetworkSafetyMiddleware: no request reaches the crawling host's own network.

The policy (which hosts and addresses are refused, ``ALLOWED_PRIVATE_NETWORKS``) and the
resolver that enforces it where connections are made live in `crawler.netsafety`; this
middleware, right before the download (960), refuses by the URL's spelling before any lookup
and names the resolver's refusals.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from crawler import stats
from crawler.netsafety import (
    Allowlist,
    Refusal,
    RefusedURL,
    hint,
    host_refusal,
    log_allowlist,
    resolver_refusal,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class NetworkSafetyMiddleware:
    """Downloader middleware refusing URLs that could reach the crawling host's network."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.allowlist = Allowlist.from_settings(crawler.settings)
        log_allowlist(self.allowlist)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Raise RefusedURL for a non-http(s) scheme or a refused host spelling."""
        refusal = self.url_refusal(request)
        if refusal is not None:
            raise self._refused(request, refusal)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Turn a resolution that SafeResolver refused into RefusedURL (not retried)."""
        if not isinstance(exception, CannotResolveHostError | DNSLookupError):
            return
        refusal = resolver_refusal(urlparse_cached(request).hostname or "")
        if refusal is not None:
            raise self._refused(request, refusal, log=False) from exception

    def url_refusal(self, request: Request) -> Refusal | None:
        """Check a request's URL by its spelling, without DNS."""
        parts = urlparse_cached(request)
        if parts.scheme not in ("http", "https"):
            return "scheme", f"unsupported scheme {parts.scheme!r}"
        return host_refusal(parts.hostname or "", self.allowlist)

    def _refused(self, request: Request, refusal: Refusal, log: bool = True) -> RefusedURL:
        kind, reason = refusal
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.refused(kind))
        message = f"refused {request.url}: {reason}{hint(kind)}"
        if log:
            logger.warning("%s", message)
        return RefusedURL(message)
