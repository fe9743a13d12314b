"""BackoffRetryMiddleware in process, as Scrapy tests its RetryMiddleware: built from a project
crawler, called with real requests, responses and exceptions, no crawl and no network.

`process_response` and `process_exception` await a sleep; each call runs in its own asyncio
loop (`asyncio.run`), where Scrapy's `sleep` is `asyncio.sleep`. Backoffs are zero or a few
hundredths of a second, so that nothing waits long; a wait that should not happen is bounded
by `asyncio.wait_for`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler
from twisted.internet import error as net
from twisted.web._newclient import ResponseNeverReceived

from crawler import stats
from crawler.items import FetchOutcome, Status
from crawler.middlewares.retry import BackoffRetryMiddleware
from crawler.netsafety import RefusedURL
from spiders.sources import SourcesSpider
from tests.conftest import StandInEngine, close_archive, spider_crawler

URL = "https://news.example.com/a.html"
SLOT = "news.example.com"


@pytest.fixture
def engine() -> StandInEngine:
    """An engine whose downloader has the site's slot, at a delay of 0.01 s."""
    return StandInEngine(slots={SLOT: Slot(concurrency=2, delay=0.01, jitter=0)})


def make(tmp_path: Path, engine: StandInEngine, **settings: Any) -> Crawler:
    """A crawler with no backoff unless the test sets one."""
    defaults = {"RETRY_BACKOFF_BASE": 0, "RETRY_BACKOFF_MAX": 0}
    return spider_crawler(tmp_path, engine=engine, **{**defaults, **settings})  # type: ignore[no-any-return]


@pytest.fixture
def crawler(tmp_path: Path, engine: StandInEngine) -> Iterator[Crawler]:
    crawler = make(tmp_path, engine)
    yield crawler
    close_archive(crawler)


@pytest.fixture
def mw(crawler: Crawler) -> BackoffRetryMiddleware:
    return BackoffRetryMiddleware.from_crawler(crawler)


def stats_of(crawler: Crawler) -> dict[str, Any]:
    assert crawler.stats is not None
    return crawler.stats.get_stats()


def retry_stats(crawler: Crawler) -> dict[str, Any]:
    """Scrapy's retry/* and our sources/retry/* stats."""
    return {
        k: v for k, v in stats_of(crawler).items() if k.startswith(("retry/", f"{stats.RETRY}/"))
    }


def page(url: str = URL, **meta: Any) -> Request:
    """A cited page's request, as the spider makes it, on the site's download slot."""
    return Request(url, meta={"link_id": "0" * 32, "download_slot": SLOT, **meta})


def answer(request: Request, status: int, **headers: str) -> Response:
    return Response(request.url, status=status, headers=headers, request=request)


def on_response(mw: BackoffRetryMiddleware, request: Request, response: Response) -> Any:
    return asyncio.run(asyncio.wait_for(mw.process_response(request, response), 5))


def on_exception(mw: BackoffRetryMiddleware, request: Request, exc: Exception) -> Any:
    return asyncio.run(asyncio.wait_for(mw.process_exception(request, exc), 5))


# --- switched on and off --------------------------------------------------------------------


def test_retry_enabled_false_switches_it_off(tmp_path: Path, engine: StandInEngine) -> None:
    crawler = make(tmp_path, engine, RETRY_ENABLED=False)
    try:
        with pytest.raises(NotConfigured, match="RETRY_ENABLED"):
            build_from_crawler(BackoffRetryMiddleware, crawler)
    finally:
        close_archive(crawler)


def test_it_replaces_scrapys_retry_middleware(crawler: Crawler) -> None:
    middlewares = crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert middlewares["crawler.middlewares.retry.BackoffRetryMiddleware"] == 550


# --- HTTP answers ---------------------------------------------------------------------------


def test_a_server_error_is_retried_with_scrapys_retry_stats(
    mw: BackoffRetryMiddleware, crawler: Crawler
) -> None:
    request = page()
    retry = on_response(mw, request, answer(request, 503))
    assert isinstance(retry, Request) and retry is not request
    assert retry.url == URL
    assert retry.meta["retry_times"] == 1
    assert retry.meta["link_id"] == request.meta["link_id"]
    assert retry.dont_filter
    assert retry.priority == request.priority + crawler.settings.getint("RETRY_PRIORITY_ADJUST")
    assert retry_stats(crawler) == {
        "retry/count": 1,
        "retry/reason_count/http_503": 1,
        f"{stats.RETRY}/count": 1,
        f"{stats.RETRY}/reason/http_503": 1,
        stats.RETRY_WAITED: 0,
    }


@pytest.mark.parametrize("code", [500, 502, 504, 522, 524, 408])
def test_each_retry_http_code_is_retried(mw: BackoffRetryMiddleware, code: int) -> None:
    request = page()
    assert isinstance(on_response(mw, request, answer(request, code)), Request)


@pytest.mark.parametrize("code", [200, 301, 404, 410, 451, 403, 401, 501])
def test_other_answers_are_not_retried(
    mw: BackoffRetryMiddleware, crawler: Crawler, code: int
) -> None:
    request = page()
    response = answer(request, code)
    assert on_response(mw, request, response) is response
    assert retry_stats(crawler) == {}
    assert "sources_outcome" not in request.meta


def test_retries_stop_at_retry_times_and_are_counted_as_given_up(
    mw: BackoffRetryMiddleware, crawler: Crawler
) -> None:
    request = page()
    for expected in (1, 2, 3):
        request = on_response(mw, request, answer(request, 500))
        assert request.meta["retry_times"] == expected
    response = answer(request, 500)
    assert on_response(mw, request, response) is response
    found = retry_stats(crawler)
    assert found["retry/count"] == 3
    assert found["retry/max_reached"] == 1
    assert found[stats.gave_up("http_500")] == 1
    assert found[f"{stats.RETRY}/count"] == 3


def test_a_requests_own_max_retry_times_wins(mw: BackoffRetryMiddleware, crawler: Crawler) -> None:
    request = page(max_retry_times=0)
    response = answer(request, 500)
    assert on_response(mw, request, response) is response
    assert retry_stats(crawler)["retry/max_reached"] == 1


@pytest.mark.parametrize(
    "meta", [{"dont_retry": True}, {"dont_obey_robotstxt": True}], ids=["dont_retry", "robots"]
)
def test_requests_that_must_not_be_retried_are_not(
    mw: BackoffRetryMiddleware, crawler: Crawler, meta: dict[str, Any]
) -> None:
    url = "https://news.example.com/robots.txt" if "dont_obey_robotstxt" in meta else URL
    request = Request(url, meta=meta)
    response = answer(request, 503)
    assert on_response(mw, request, response) is response
    assert asyncio.run(mw.process_exception(request, DownloadTimeoutError("slow"))) is None
    assert retry_stats(crawler) == {}


def test_a_page_on_the_robots_slot_is_still_retried(mw: BackoffRetryMiddleware) -> None:
    """Only robots.txt itself is read once: dont_obey_robotstxt alone does not stop retries."""
    request = page(dont_obey_robotstxt=True)
    assert isinstance(on_response(mw, request, answer(request, 503)), Request)


def test_the_backoff_doubles_per_try_up_to_its_maximum(
    tmp_path: Path, engine: StandInEngine
) -> None:
    crawler = make(tmp_path, engine, RETRY_BACKOFF_BASE=0.01, RETRY_BACKOFF_MAX=0.03)
    try:
        mw = BackoffRetryMiddleware.from_crawler(crawler)
        request = page()
        waited = []
        for _ in range(3):
            before = stats_of(crawler).get(stats.RETRY_WAITED, 0)
            started = time.monotonic()
            request = on_response(mw, request, answer(request, 500))
            elapsed = time.monotonic() - started
            waited.append(round(stats_of(crawler)[stats.RETRY_WAITED] - before, 3))
            assert elapsed >= waited[-1] * 0.9  # the wait is slept, not only counted
        assert waited == [0.01, 0.02, 0.03]
    finally:
        close_archive(crawler)


def test_a_retry_forgets_an_outcome_decided_for_the_try_before(
    mw: BackoffRetryMiddleware,
) -> None:
    request = page(sources_outcome=(Status.BLOCKED, "HTTP 429: Retry-After 999 s"))
    retry = on_response(mw, request, answer(request, 503))
    assert isinstance(retry, Request) and "sources_outcome" not in retry.meta


# --- throttling: Retry-After and the site back-off -------------------------------------------


def test_retry_after_is_honoured_instead_of_the_backoff(
    tmp_path: Path, engine: StandInEngine
) -> None:
    """With a 30 s backoff, only Retry-After: 0 lets the retry come at once."""
    crawler = make(tmp_path, engine, RETRY_BACKOFF_BASE=30, RETRY_BACKOFF_MAX=30)
    try:
        mw = BackoffRetryMiddleware.from_crawler(crawler)
        request = page()
        retry = on_response(mw, request, answer(request, 429, **{"Retry-After": "0"}))
        assert isinstance(retry, Request)
        assert stats_of(crawler)[stats.RETRY_WAITED] == 0
        assert stats_of(crawler)["retry/reason_count/http_429"] == 1
    finally:
        close_archive(crawler)


@pytest.mark.parametrize(
    "value", ["3600", "Wed, 21 Oct 2099 07:28:00 GMT"], ids=["seconds", "http-date"]
)
def test_a_retry_after_too_long_ends_the_fetch_blocked(
    mw: BackoffRetryMiddleware, crawler: Crawler, engine: StandInEngine, value: str
) -> None:
    request = page()
    response = answer(request, 429, **{"Retry-After": value})
    assert on_response(mw, request, response) is response
    status, reason = request.meta["sources_outcome"]
    assert status == Status.BLOCKED
    assert reason.startswith("HTTP 429: Retry-After ")
    assert reason.endswith(" s is over RETRY_AFTER_MAX (120 s)")
    assert retry_stats(crawler) == {stats.gave_up("retry_after_too_long"): 1}
    assert engine.slots[SLOT].delay == 0.01  # not waited for: the site is not slowed down
    # the spider ends the fetch with that outcome
    spider = crawler.spider
    assert isinstance(spider, SourcesSpider)
    request.meta["canonical_url"] = URL
    (outcome,) = list(spider.parse_page(response))
    assert isinstance(outcome, FetchOutcome)
    assert (outcome.status, outcome.reason) == (status, reason)


def test_a_throttling_answer_backs_the_site_off_until_it_answers_again(
    tmp_path: Path, engine: StandInEngine
) -> None:
    crawler = make(tmp_path, engine, RETRY_BACKOFF_BASE=0.05, RETRY_BACKOFF_MAX=0.05)
    try:
        mw = BackoffRetryMiddleware.from_crawler(crawler)
        slot = engine.slots[SLOT]
        request = page()
        retry = on_response(mw, request, answer(request, 503))
        assert isinstance(retry, Request)
        assert slot.delay == 0.05  # one request every 0.05 s while the site throttles
        assert stats_of(crawler)[stats.RETRY_SITE_BACKOFF] == 1
        ok = answer(retry, 200)
        assert on_response(mw, retry, ok) is ok
        assert slot.delay == 0.01  # back to what it was
    finally:
        close_archive(crawler)


def test_a_server_error_that_is_not_throttling_leaves_the_site_alone(
    tmp_path: Path, engine: StandInEngine
) -> None:
    crawler = make(tmp_path, engine, RETRY_BACKOFF_BASE=0.05, RETRY_BACKOFF_MAX=0.05)
    try:
        mw = BackoffRetryMiddleware.from_crawler(crawler)
        request = page()
        assert isinstance(on_response(mw, request, answer(request, 500)), Request)
        assert engine.slots[SLOT].delay == 0.01
        assert stats.RETRY_SITE_BACKOFF not in stats_of(crawler)
    finally:
        close_archive(crawler)


# --- exceptions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (DownloadTimeoutError("took longer than 30.0 seconds"), "timeout"),
        (net.TimeoutError(), "timeout"),
        (DownloadConnectionRefusedError("refused"), "connection_refused"),
        (ResponseDataLossError("lost"), "truncated_body"),
        (DownloadFailedError("failed"), "connection_lost"),
        (ResponseNeverReceived([]), "connection_lost"),
        (net.ConnectionLost(), "connection_lost"),
        (net.ConnectionDone(), "connection_lost"),
        (net.ConnectError(), "ConnectError"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_network_failures_are_retried(
    mw: BackoffRetryMiddleware, crawler: Crawler, exc: Exception, reason: str
) -> None:
    request = page()
    retry = on_exception(mw, request, exc)
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert retry_stats(crawler) == {
        "retry/count": 1,
        f"retry/reason_count/{reason}": 1,
        f"{stats.RETRY}/count": 1,
        f"{stats.RETRY}/reason/{reason}": 1,
        stats.RETRY_WAITED: 0,
    }


@pytest.mark.parametrize(
    "exc",
    [
        CannotResolveHostError("news.example.com"),
        net.DNSLookupError("news.example.com"),
        RefusedURL(f"refused {URL}: private address 10.0.0.1"),
        IgnoreRequest("Forbidden by robots.txt"),
        DownloadCancelledError("cancelled"),
        ValueError("a bug elsewhere"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_other_failures_are_not_retried(
    mw: BackoffRetryMiddleware, crawler: Crawler, exc: Exception
) -> None:
    assert on_exception(mw, page(), exc) is None
    assert retry_stats(crawler) == {}


def test_network_retries_stop_at_retry_times(mw: BackoffRetryMiddleware, crawler: Crawler) -> None:
    request = page(retry_times=3)
    assert on_exception(mw, request, DownloadTimeoutError("slow")) is None
    assert retry_stats(crawler) == {"retry/max_reached": 1, stats.gave_up("timeout"): 1}


def test_a_network_retry_waits_its_backoff(tmp_path: Path, engine: StandInEngine) -> None:
    crawler = make(tmp_path, engine, RETRY_BACKOFF_BASE=0.2, RETRY_BACKOFF_MAX=1)
    try:
        mw = BackoffRetryMiddleware.from_crawler(crawler)
        started = time.monotonic()
        assert isinstance(on_exception(mw, page(), DownloadTimeoutError("slow")), Request)
        assert time.monotonic() - started >= 0.18
        assert stats_of(crawler)[stats.RETRY_WAITED] == 0.2
        assert engine.slots[SLOT].delay == 0.01  # a timeout does not back the site off
    finally:
        close_archive(crawler)


def test_a_304_to_a_recheck_is_an_answer_not_a_failure_to_retry(
    crawler: Crawler, mw: BackoffRetryMiddleware
) -> None:
    request = Request(URL, meta={"recheck": True, "download_slot": SLOT})
    response = Response(URL, status=304, request=request)
    assert asyncio.run(mw.process_response(request, response)) is response
    assert retry_stats(crawler) == {}
