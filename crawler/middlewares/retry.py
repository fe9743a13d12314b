"""BackoffRetryMiddleware: retries that fit the failure, in place of Scrapy's RetryMiddleware.

* 429 and 503 honour ``Retry-After`` (delta-seconds or HTTP-date) up to ``RETRY_AFTER_MAX``
  seconds. A longer one is not waited for: the response ends the fetch as ``blocked`` and the
  link's next attempt comes after it (the settle stage). A wait also backs the whole site off
  at once (`crawler.extensions.backoff.SiteBackoff`) until the site answers with something else.
* Other ``RETRY_HTTP_CODES`` (5xx, 408) and ``RETRY_EXCEPTIONS`` (timeouts, refused or reset
  connections, truncated bodies) are retried after ``RETRY_BACKOFF_BASE * 2**n`` seconds, at
  most ``RETRY_BACKOFF_MAX``, at most ``RETRY_TIMES`` times.
* Nothing else is retried in the run: 404 and 410 (gone), DNS failures, refusals, bodies over
  ``DOWNLOAD_MAXSIZE``, robots.txt. A link whose fetch failed is tried again by the next run.

Retry requests are made by Scrapy's `get_retry_request`, so the usual ``retry/count``,
``retry/reason_count/*`` and ``retry/max_reached`` stats are kept, besides ours under
``sources/retry/``. A wait is an ``await``-ed sleep: the reactor keeps running; the waiting
request holds one of the ``CONCURRENT_REQUESTS`` meanwhile (never a site's connection).
Switched off (`NotConfigured`) by ``RETRY_ENABLED = False``.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object

from crawler import stats, throttle
from crawler.extensions import required
from crawler.extensions.backoff import SiteBackoff
from crawler.items import Status

logger = logging.getLogger(__name__)

#: Codes that ask the client to slow down: Retry-After is honoured and the site backed off.
THROTTLE_HTTP = frozenset({429, 503})


class BackoffRetryMiddleware:
    """Retries with Retry-After or exponential backoff, bounded; backs off throttling sites."""

    def __init__(self, crawler: Crawler, backoff: SiteBackoff):
        settings = crawler.settings
        self.crawler = crawler
        self.backoff = backoff
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.http_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions: tuple[type[BaseException], ...] = tuple(
            load_object(x) if isinstance(x, str) else x
            for x in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.priority_adjust = settings.getint("RETRY_PRIORITY_ADJUST")
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; `NotConfigured` when RETRY_ENABLED is off."""
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        return cls(crawler, required(crawler, SiteBackoff))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """Retry a retryable status after Retry-After or a backoff; give up on long waits."""
        status = response.status
        slot = request.meta.get("download_slot")
        if status not in THROTTLE_HTTP:
            self.backoff.answered(slot)
        if status not in self.http_codes or not self._may_retry(request):
            return response
        asked = None
        if status in THROTTLE_HTTP:
            asked = throttle.retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.retry_after_max:
            # not waited for here; the `blocked` outcome schedules the link's next attempt
            self._stat(stats.gave_up("retry_after_too_long"))
            request.meta["sources_outcome"] = (
                Status.BLOCKED,
                f"HTTP {status}: Retry-After {asked:.0f} s is over RETRY_AFTER_MAX "
                f"({self.retry_after_max:.0f} s)",
            )
            return response
        wait = asked if asked is not None else self._wait(request)
        if status in THROTTLE_HTTP:
            self.backoff.throttled(slot, wait)
        retry = self._retry(request, f"http_{status}", wait)
        if retry is None:
            return response
        await sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Retry network failures after a backoff."""
        if not isinstance(exception, self.exceptions) or not self._may_retry(request):
            return None
        wait = self._wait(request)
        retry = self._retry(request, _exception_key(exception), wait)
        if retry is None:
            return None
        await sleep(wait)
        return retry

    def _may_retry(self, request: Request) -> bool:
        if request.meta.get("dont_retry", False):
            return False
        # robots.txt is read once: Scrapy treats an unreadable one as allowing everything
        return not (
            request.meta.get("dont_obey_robotstxt")
            and urlparse_cached(request).path == "/robots.txt"
        )

    def _wait(self, request: Request) -> float:
        tries = int(request.meta.get("retry_times", 0))
        return float(min(self.backoff_max, self.backoff_base * 2**tries))

    def _retry(self, request: Request, reason: str, wait: float) -> Request | None:
        """The retry request, or None (counted as given up) when retries are used up."""
        spider = self.crawler.spider
        assert spider is not None
        retry = get_retry_request(
            request,
            spider=spider,
            reason=reason,
            priority_adjust=self.priority_adjust,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            logger=logger,
            give_up_log_level="INFO",
        )
        if retry is None:
            self._stat(stats.gave_up(reason))
            return None
        retry.meta.pop("sources_outcome", None)
        tries, limit = (
            retry.meta["retry_times"],
            retry.meta.get("max_retry_times", self.max_retry_times),
        )
        self._stat(stats.retry_reason(reason))
        self._stat(stats.RETRY_WAITED, round(wait, 3))
        self._stat(f"{stats.RETRY}/count")
        logger.info(
            "retrying %s in %.1f s (%s; retry %d of %d)", request.url, wait, reason, tries, limit
        )
        return retry

    def _stat(self, key: str, value: float = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, value)  # type: ignore[arg-type]


def _exception_key(exc: BaseException) -> str:
    name = type(exc).__name__
    return {
        "DownloadTimeoutError": "timeout",
        "TimeoutError": "timeout",
        "TCPTimedOutError": "timeout",
        "DownloadConnectionRefusedError": "connection_refused",
        "ConnectionRefusedError": "connection_refused",
        "ResponseDataLossError": "truncated_body",
        "DownloadFailedError": "connection_lost",
        "ResponseNeverReceived": "connection_lost",
        "ConnectionLost": "connection_lost",
        "ConnectionDone": "connection_lost",
    }.get(name, name)
