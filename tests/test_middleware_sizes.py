"""SizesMiddleware in process: byte counts from Scrapy's download signals, and a download that
Scrapy cancelled for DOWNLOAD_MAXSIZE named as too large."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError
from scrapy.http import Headers
from twisted.python.failure import Failure

from crawler import stats
from crawler.items import Status
from crawler.middlewares.sizes import EXPECTED, RECEIVED, TOO_LARGE, SizesMiddleware
from crawler.outcomes import describe_failure
from tests.conftest import close_archive, project_crawler

URL = "https://news.example.com/big.bin"
LIMIT = 1000


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = project_crawler(tmp_path, DOWNLOAD_MAXSIZE=LIMIT)
    yield crawler
    close_archive(crawler)


@pytest.fixture
def mw(crawler: Crawler) -> SizesMiddleware:
    return SizesMiddleware.from_crawler(crawler)


def headers_came(crawler: Crawler, request: Request, length: int) -> None:
    """Scrapy's `headers_received`, as a download handler sends it."""
    crawler.signals.send_catch_log(
        signals.headers_received,
        headers=Headers({"Content-Length": str(length)}),
        body_length=length,
        request=request,
        spider=None,
    )


def bytes_came(crawler: Crawler, request: Request, data: bytes) -> None:
    """Scrapy's `bytes_received`, as a download handler sends it."""
    crawler.signals.send_catch_log(signals.bytes_received, data=data, request=request, spider=None)


def too_large(crawler: Crawler) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(stats.RETRY_TOO_LARGE)


def test_it_counts_what_a_download_announces_and_what_comes(
    mw: SizesMiddleware, crawler: Crawler
) -> None:
    request = Request(URL)
    headers_came(crawler, request, 6000)
    for _ in range(3):
        bytes_came(crawler, request, b"x" * 100)
    assert request.meta[EXPECTED] == 6000
    assert request.meta[RECEIVED] == 300


def test_an_unknown_length_is_never_over_the_limit(mw: SizesMiddleware, crawler: Crawler) -> None:
    """Scrapy's HTTP handler announces an unknown Content-Length as -1."""
    request = Request(URL)
    crawler.signals.send_catch_log(
        signals.headers_received, headers=Headers(), body_length=-1, request=request, spider=None
    )
    bytes_came(crawler, request, b"x" * 10)
    mw.process_exception(request, DownloadCancelledError("cancelled"))
    assert TOO_LARGE not in request.meta


def test_each_download_starts_with_fresh_counts(mw: SizesMiddleware) -> None:
    """A retry or a redirect hop copies meta: its counts must not add to the last try's."""
    request = Request(URL, meta={EXPECTED: 5, RECEIVED: 5, TOO_LARGE: "x", "link_id": "1"})
    assert mw.process_request(request) is None
    assert request.meta == {"link_id": "1"}


def test_a_content_length_over_the_limit_is_named(mw: SizesMiddleware, crawler: Crawler) -> None:
    request = Request(URL)
    headers_came(crawler, request, 2_147_483_648)
    assert mw.process_exception(request, DownloadCancelledError("cancelled")) is None
    why = "Content-Length 2147483648 bytes is over DOWNLOAD_MAXSIZE (1000 bytes)"
    assert request.meta[TOO_LARGE] == why
    assert too_large(crawler) == 1
    failure = Failure(DownloadCancelledError("cancelled"))
    failure.request = request  # type: ignore[attr-defined]
    assert describe_failure(failure) == (Status.SKIPPED, f"too large: {why}")


def test_a_body_that_grows_over_the_limit_is_named(mw: SizesMiddleware, crawler: Crawler) -> None:
    request = Request(URL)
    for _ in range(11):
        bytes_came(crawler, request, b"x" * 100)
    mw.process_exception(request, DownloadCancelledError("cancelled"))
    assert request.meta[TOO_LARGE] == (
        "over DOWNLOAD_MAXSIZE (1000 bytes), stopped after 1100 bytes"
    )
    assert too_large(crawler) == 1


def test_a_requests_own_download_maxsize_is_the_limit(
    mw: SizesMiddleware, crawler: Crawler
) -> None:
    request = Request(URL, meta={"download_maxsize": 50})
    bytes_came(crawler, request, b"x" * 60)
    mw.process_exception(request, DownloadCancelledError("cancelled"))
    assert request.meta[TOO_LARGE] == "over DOWNLOAD_MAXSIZE (50 bytes), stopped after 60 bytes"


def test_a_cancellation_under_the_limit_is_not_named(mw: SizesMiddleware, crawler: Crawler) -> None:
    request = Request(URL)
    headers_came(crawler, request, 500)
    bytes_came(crawler, request, b"x" * 500)
    mw.process_exception(request, DownloadCancelledError("cancelled"))
    assert TOO_LARGE not in request.meta
    assert too_large(crawler) is None
    failure = Failure(DownloadCancelledError("cancelled"))
    failure.request = request  # type: ignore[attr-defined]
    assert describe_failure(failure) == (Status.FAILED, "download cancelled: cancelled")


def test_other_failures_are_left_alone(mw: SizesMiddleware, crawler: Crawler) -> None:
    request = Request(URL)
    bytes_came(crawler, request, b"x" * 5000)
    assert mw.process_exception(request, DownloadTimeoutError("slow")) is None
    assert TOO_LARGE not in request.meta


def test_without_a_limit_nothing_is_too_large(tmp_path: Path) -> None:
    crawler = project_crawler(tmp_path, DOWNLOAD_MAXSIZE=0)
    try:
        mw = SizesMiddleware.from_crawler(crawler)
        request = Request(URL)
        headers_came(crawler, request, 10**12)
        mw.process_exception(request, DownloadCancelledError("cancelled"))
        assert TOO_LARGE not in request.meta
    finally:
        close_archive(crawler)
