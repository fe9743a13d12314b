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


def test_the_limit_is_named_by_the_setting_behind_it(mw: SizesMiddleware, crawler: Crawler) -> None:
    from crawler.outcomes import MAXSIZE_SETTING

    request = Request(URL, meta={"download_maxsize": 50, MAXSIZE_SETTING: "REQUISITE_MAXSIZE"})
    headers_came(crawler, request, 80)
    mw.process_exception(request, DownloadCancelledError("cancelled"))
    assert request.meta[TOO_LARGE] == "Content-Length 80 bytes is over REQUISITE_MAXSIZE (50 bytes)"


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


# --- DecompressionGate: compressed bodies wait their turn before they are inflated ----------


def _gate(crawler: Crawler, held: int) -> Any:
    from types import SimpleNamespace

    from crawler.middlewares.sizes import DecompressionGate
    from tests.conftest import StandInEngine

    engine = StandInEngine()
    engine.scraper = SimpleNamespace(slot=SimpleNamespace(active_size=held))  # type: ignore[attr-defined]
    crawler.engine = engine
    return DecompressionGate.from_crawler(crawler)


def _response(request: Request, encoded: bool = True) -> Any:
    from scrapy.http import Response

    headers = {"Content-Encoding": "gzip"} if encoded else {}
    return Response(URL, body=b"x", headers=headers, request=request)


def test_the_gate_lets_a_compressed_body_through_while_little_is_held(crawler: Crawler) -> None:
    import asyncio

    gate = _gate(crawler, held=1000)
    request = Request(URL)
    response = _response(request)
    assert asyncio.run(gate.process_response(request, response)) is response
    assert crawler.stats.get_value(stats.DECOMPRESS_WAITS) is None


def test_the_gate_holds_a_compressed_body_while_much_is_held(crawler: Crawler) -> None:
    import asyncio

    gate = _gate(crawler, held=64 * 1024 * 1024)
    slot = crawler.engine.scraper.slot
    request = Request(URL)

    async def run() -> tuple[bool, Any]:
        waiting = asyncio.ensure_future(gate.process_response(request, _response(request)))
        await asyncio.sleep(0.3)
        held_back = not waiting.done()
        slot.active_size = 0  # the big response has been processed
        return held_back, await asyncio.wait_for(waiting, 5)

    held_back, response = asyncio.run(run())
    assert held_back and response.request is request
    assert crawler.stats.get_value(stats.DECOMPRESS_WAITS) == 1


def test_the_gate_lets_one_inflate_at_a_time(crawler: Crawler) -> None:
    import asyncio

    from scrapy import signals as scrapy_signals

    gate = _gate(crawler, held=0)
    first, second = Request(URL), Request(URL + "?2")

    async def run() -> tuple[bool, bool]:
        await gate.process_response(first, _response(first))
        waiting = asyncio.ensure_future(gate.process_response(second, _response(second)))
        await asyncio.sleep(0.1)
        held_back = not waiting.done()  # the first is still being inflated
        crawler.signals.send_catch_log(
            scrapy_signals.response_received, response=_response(first), request=first
        )
        await asyncio.wait_for(waiting, 5)
        return held_back, waiting.done()

    assert asyncio.run(run()) == (True, True)


def test_an_uncompressed_body_never_waits(crawler: Crawler) -> None:
    import asyncio

    gate = _gate(crawler, held=10**12)
    request = Request(URL)
    response = _response(request, encoded=False)
    assert asyncio.run(gate.process_response(request, response)) is response


def test_the_gate_is_off_at_zero(tmp_path: Path) -> None:
    from scrapy.exceptions import NotConfigured

    from crawler.middlewares.sizes import DecompressionGate

    crawler = project_crawler(tmp_path, DECOMPRESS_WAIT_BYTES=0)
    try:
        with pytest.raises(NotConfigured):
            DecompressionGate.from_crawler(crawler)
    finally:
        close_archive(crawler)


def test_a_body_refused_while_inflated_does_not_hold_the_next_one(crawler: Crawler) -> None:
    """A bomb refused by the decompression never reaches the scraper: once its request has
    left the downloader, the next compressed response goes on at once."""
    import asyncio
    from types import SimpleNamespace

    from crawler.middlewares.sizes import DecompressionGate

    bomb, next_one = Request(URL), Request(URL + "?next")
    downloader = SimpleNamespace(active={bomb, next_one})
    crawler.engine = SimpleNamespace(  # type: ignore[assignment]
        scraper=SimpleNamespace(slot=SimpleNamespace(active_size=0)), downloader=downloader
    )
    gate = DecompressionGate.from_crawler(crawler)

    async def run() -> bool:
        await gate.process_response(bomb, _response(bomb))
        downloader.active.discard(bomb)  # refused: IgnoreRequest, no response_received
        waiting = asyncio.ensure_future(gate.process_response(next_one, _response(next_one)))
        await asyncio.sleep(0.05)
        return waiting.done()

    assert asyncio.run(run())
