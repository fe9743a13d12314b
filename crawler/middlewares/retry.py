"""Retries that fit the failure, and redirects that end with a reason.

`BackoffRetryMiddleware` takes the place of Scrapy's RetryMiddleware (550):

* 429 and 503 honour ``Retry-After`` (delta-seconds or HTTP-date) up to ``RETRY_AFTER_MAX``
  seconds. A longer one is not waited for: the response ends the fetch as ``blocked`` and the
  link's next attempt comes after it (see `pipelines.store`, which also backs the site off for
  the rest of the run). A wait also backs the whole site off at once: its download slot's
  delay is raised to the wait until the site answers with something else.
* Other ``RETRY_HTTP_CODES`` (5xx, 408) and ``RETRY_EXCEPTIONS`` (timeouts, refused or reset
  connections, truncated bodies) are retried after ``RETRY_BACKOFF_BASE * 2**n`` seconds,
  at most ``RETRY_BACKOFF_MAX``, at most ``RETRY_TIMES`` times.
* Nothing else is retried in the run: 404 and 410 (gone), DNS failures, refusals, bodies over
  ``DOWNLOAD_MAXSIZE``, robots.txt. A link whose fetch failed is tried again by the next run.

A wait is an ``await``-ed sleep: the reactor keeps running; the waiting request holds one of
the ``CONCURRENT_REQUESTS`` meanwhile (never a site's connection). The middleware also counts
each download's bytes (``headers_received``, ``bytes_received``), so that a download Scrapy
cancelled for ``DOWNLOAD_MAXSIZE`` is told apart precisely: it sets ``sources_too_large`` in the
request's meta, which `crawler.failures.describe_failure` reads.

`RedirectGuardMiddleware` and `MetaRefreshGuardMiddleware` are Scrapy's redirect middlewares
ending a redirect loop (a URL about to be requested a third time) or a chain longer than
``REDIRECT_MAX_TIMES`` with `RedirectLoop` or `TooManyRedirects` instead of a bare
IgnoreRequest. The hops of a cited link's request skip the duplicate filter, so a hop back to a
URL seen before is fetched (or ends as a loop) instead of vanishing without an outcome.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object

logger = logging.getLogger(__name__)

#: Codes that ask the client to slow down: Retry-After is honoured and the site backed off.
THROTTLE_HTTP = frozenset({429, 503})

STATS = "sources/retry"


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RedirectLoop(IgnoreRequest):
    """A redirect chain came back to a URL it had already requested twice."""

    sources_status = "failed"


class TooManyRedirects(IgnoreRequest):
    """A redirect chain longer than REDIRECT_MAX_TIMES."""

    sources_status = "failed"


class BackoffRetryMiddleware:
    """Retries with Retry-After or exponential backoff, bounded; backs off throttling sites."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.enabled = settings.getbool("RETRY_ENABLED")
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
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        #: slot key -> (its delay before the site was backed off, the delay set then)
        self.slot_delays: dict[str, tuple[float, float]] = {}
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # -- byte accounting -----------------------------------------------------------------
    def headers_received(self, headers: Any, body_length: Any, request: Request) -> None:
        """Note the Content-Length a response announces."""
        if isinstance(body_length, int):
            request.meta["sources_expected_bytes"] = body_length

    def bytes_received(self, data: bytes, request: Request) -> None:
        """Count the body bytes of a download as they come."""
        request.meta["sources_bytes"] = request.meta.get("sources_bytes", 0) + len(data)

    def process_request(self, request: Request) -> None:
        """Start each download (a retry or a redirect hop too) with fresh byte counts."""
        for key in ("sources_bytes", "sources_expected_bytes", "sources_too_large"):
            request.meta.pop(key, None)

    # -- responses and exceptions --------------------------------------------------------
    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """Retry a retryable status after Retry-After or a backoff; give up on long waits."""
        status = response.status
        slot = request.meta.get("download_slot")
        if status not in THROTTLE_HTTP:
            self._site_recovered(slot)
        if status not in self.http_codes or not self._may_retry(request):
            return response
        tries = request.meta.get("retry_times", 0)
        asked = None
        if status in THROTTLE_HTTP:
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.retry_after_max:
            # not waited for here; the `blocked` outcome backs the site off (crawler.backoff)
            self.stats.inc_value(f"{STATS}/gave_up/retry_after_too_long")
            request.meta["sources_outcome"] = (
                "blocked",
                f"HTTP {status}: Retry-After {asked:.0f} s is over RETRY_AFTER_MAX "
                f"({self.retry_after_max:.0f} s)",
            )
            return response
        wait = asked if asked is not None else self._backoff(tries)
        if status in THROTTLE_HTTP:
            self._back_off_site(slot, wait)
        retry = self._retry(request, f"http_{status}", wait)
        if retry is None:
            return response
        await sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Retry network failures after a backoff; note why a download was cancelled."""
        if isinstance(exception, DownloadCancelledError):
            self._note_too_large(request)
            return None
        if not isinstance(exception, self.exceptions) or not self._may_retry(request):
            return None
        wait = self._backoff(request.meta.get("retry_times", 0))
        retry = self._retry(request, _exception_key(exception), wait)
        if retry is None:
            return None
        await sleep(wait)
        return retry

    # -- helpers -------------------------------------------------------------------------
    def _may_retry(self, request: Request) -> bool:
        if not self.enabled or request.meta.get("dont_retry", False):
            return False
        # robots.txt is read once: Scrapy treats an unreadable one as allowing everything
        return not (
            request.meta.get("dont_obey_robotstxt")
            and urlparse_cached(request).path == "/robots.txt"
        )

    def _backoff(self, tries: int) -> float:
        return float(min(self.backoff_max, self.backoff_base * 2**tries))

    def _retry(self, request: Request, reason: str, wait: float) -> Request | None:
        """The retry request, or None (counted as given up) when retries are used up."""
        tries = request.meta.get("retry_times", 0) + 1
        limit = request.meta.get("max_retry_times", self.max_retry_times)
        if tries > limit:
            self.stats.inc_value(f"{STATS}/gave_up/{reason}")
            logger.info("gave up on %s after %d tries: %s", request.url, tries, reason)
            return None
        retry = request.copy()
        retry.meta["retry_times"] = tries
        retry.meta.pop("sources_outcome", None)
        retry.dont_filter = True
        retry.priority = request.priority + self.priority_adjust
        self.stats.inc_value(f"{STATS}/count")
        self.stats.inc_value(f"{STATS}/reason/{reason}")
        self.stats.inc_value(f"{STATS}/waited_seconds", round(wait, 3))
        logger.info(
            "retrying %s in %.1f s (%s; retry %d of %d)", request.url, wait, reason, tries, limit
        )
        return retry

    def _back_off_site(self, key: str | None, wait: float) -> None:
        """Space the site's requests `wait` seconds apart until it stops throttling."""
        slot = self._slot(key)
        if slot is None or key is None or wait <= slot.delay:
            return
        before = self.slot_delays.get(key, (slot.delay, 0.0))[0]
        self.slot_delays[key] = (before, wait)
        slot.delay = wait
        self.stats.inc_value(f"{STATS}/site_backoff")
        logger.info("backing off %s: one request every %.1f s", key, wait)

    def _site_recovered(self, key: str | None) -> None:
        if key is None or key not in self.slot_delays:
            return
        before, mine = self.slot_delays.pop(key)
        slot = self._slot(key)
        # unless something else (AutoThrottle, crawler.backoff) has changed it since
        if slot is not None and slot.delay == mine:
            slot.delay = before
            logger.info("%s answers again: delay back to %.1f s", key, before)

    def _slot(self, key: str | None) -> Any:
        engine = self.crawler.engine
        if key is None or engine is None:
            return None
        return engine.downloader.slots.get(key)

    def _note_too_large(self, request: Request) -> None:
        limit = request.meta.get("download_maxsize", self.maxsize)
        expected = request.meta.get("sources_expected_bytes", -1)
        received = request.meta.get("sources_bytes", 0)
        if limit and expected > limit:
            why = f"Content-Length {expected} bytes is over DOWNLOAD_MAXSIZE ({limit} bytes)"
        elif limit and received > limit:
            why = f"over DOWNLOAD_MAXSIZE ({limit} bytes), stopped after {received} bytes"
        else:
            return
        request.meta["sources_too_large"] = why
        self.stats.inc_value(f"{STATS}/too_large")


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


class _RedirectGuard:
    """Ends redirect loops and over-long chains with RedirectLoop and TooManyRedirects."""

    max_redirect_times: int

    def process_response(self, request: Request, response: Response) -> Request | Response:
        try:
            result = super().process_response(request, response)  # type: ignore[misc]
        except IgnoreRequest as exc:
            if type(exc) is IgnoreRequest and str(exc) == "max redirections reached":
                raise TooManyRedirects(
                    f"too many redirects: more than REDIRECT_MAX_TIMES "
                    f"({self.max_redirect_times}), the last to "
                    f"{response.headers.get(b'Location', b'').decode('latin-1')[:200]}"
                ) from exc
            raise
        if isinstance(result, Request) and result is not request:
            seen = [*request.meta.get("redirect_urls", []), request.url]
            if seen.count(result.url) >= 2:
                raise RedirectLoop(f"redirect loop: {result.url} again after {len(seen)} redirects")
            if "link_id" in request.meta:
                result.dont_filter = True  # a hop must end with an outcome, not be filtered
        return result


class RedirectGuardMiddleware(_RedirectGuard, RedirectMiddleware):
    """Scrapy's RedirectMiddleware with redirect loops and too many redirects named."""


class MetaRefreshGuardMiddleware(_RedirectGuard, MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware with redirect loops and too many redirects named."""
