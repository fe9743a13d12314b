"""WarcRecorderMiddleware in process: each exchange of a cited page or an attachment goes into
the crawl's WARC as served, its pointer into the request's meta; a failed write is named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure
from warcio.archiveiterator import ArchiveIterator

from crawler import stats
from crawler.items import FetchOutcome, Pointer, Status
from crawler.middlewares.warcrecorder import HOPS, ArchiveWriteFailed, WarcRecorderMiddleware
from spiders.sources import SourcesSpider
from tests.conftest import archive_of, close_archive, spider_crawler

URL = "https://news.example.com/a.html"
BODY = b"<html><body><p>served as is</p></body></html>"


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = spider_crawler(tmp_path)
    yield crawler
    close_archive(crawler)


@pytest.fixture
def mw(crawler: Crawler) -> WarcRecorderMiddleware:
    return WarcRecorderMiddleware.from_crawler(crawler)


def stats_of(crawler: Crawler) -> dict[str, Any]:
    assert crawler.stats is not None
    return crawler.stats.get_stats()


def served(request: Request, url: str | None = None, status: int = 200, **kw: Any) -> Response:
    return Response(
        url or request.url,
        status=status,
        headers={"Content-Type": "text/html", "Content-Encoding": "identity"},
        body=BODY,
        request=request,
        **kw,
    )


def record_at(crawler: Crawler, pointer: Pointer) -> tuple[str, str, bytes, int]:
    """(type, target URI, payload, HTTP status) of the WARC record a pointer names."""
    path = archive_of(crawler).root / pointer.warc
    with path.open("rb") as fh:
        fh.seek(pointer.offset)
        record = next(iter(ArchiveIterator(fh)))
        payload = record.content_stream().read()
        status = int(record.http_headers.get_statuscode())
        return record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), payload, status


def warc_files(crawler: Crawler) -> list[Path]:
    return sorted((archive_of(crawler).root / "warc").glob("*.warc.gz"))


def test_it_writes_into_the_crawls_one_archive(
    mw: WarcRecorderMiddleware, crawler: Crawler
) -> None:
    assert mw.archive is archive_of(crawler)


@pytest.mark.parametrize(
    "meta", [{"link_id": "0" * 32}, {"attachment_of": "a" * 32}], ids=["page", "attachment"]
)
def test_a_cited_page_or_attachment_is_recorded_and_its_pointer_noted(
    mw: WarcRecorderMiddleware, crawler: Crawler, meta: dict[str, Any]
) -> None:
    request = Request(URL, meta=dict(meta))
    response = served(request)
    assert mw.process_response(request, response) is response
    (pointer,) = request.meta[HOPS]
    assert isinstance(pointer, Pointer) and pointer.length > 0
    assert record_at(crawler, pointer) == ("response", URL, BODY, 200)
    assert stats_of(crawler)[stats.WARC_RECORDS] == 2  # the response and its request
    assert stats_of(crawler)[stats.WARC_BYTES] == pointer.length


@pytest.mark.parametrize(
    "meta",
    [{"digest_source": URL}, {}],
    ids=["digest", "robots-or-other"],
)
def test_other_downloads_are_not_recorded(
    mw: WarcRecorderMiddleware, crawler: Crawler, meta: dict[str, Any]
) -> None:
    request = Request(URL, meta=dict(meta))
    response = served(request)
    assert mw.process_response(request, response) is response
    assert HOPS not in request.meta
    assert stats.WARC_RECORDS not in stats_of(crawler)
    assert warc_files(crawler) == []


def test_a_response_replayed_from_the_http_cache_is_not_recorded_again(
    mw: WarcRecorderMiddleware, crawler: Crawler
) -> None:
    request = Request(URL, meta={"link_id": "0" * 32})
    assert mw.process_response(request, served(request, flags=["cached"])) is not None
    assert HOPS not in request.meta
    assert warc_files(crawler) == []


def test_each_hop_of_a_redirect_is_recorded_and_the_last_is_the_page(
    mw: WarcRecorderMiddleware, crawler: Crawler
) -> None:
    spider = crawler.spider
    assert isinstance(spider, SourcesSpider)
    request = spider.fetch("0" * 32, URL)
    assert request is not None
    moved = Response(URL, status=301, headers={"Location": f"{URL}?p=1"}, request=request)
    mw.process_response(request, moved)
    hop = request.replace(url=f"{URL}?p=1")  # Scrapy's redirect copies meta, hops included
    final = served(hop)
    mw.process_response(hop, final)
    first, last = hop.meta[HOPS]
    assert record_at(crawler, first)[::3] == ("response", 301)
    assert record_at(crawler, last)[:2] == ("response", f"{URL}?p=1")
    (outcome,) = list(spider.parse_page(final))
    assert isinstance(outcome, FetchOutcome)
    assert outcome.original == last


def test_a_failed_write_ends_the_fetch_named_and_counted(
    mw: WarcRecorderMiddleware, crawler: Crawler
) -> None:
    """The WARC folder cannot be made (a file stands in its place): a real OSError."""
    (archive_of(crawler).root / "warc").write_text("not a folder")
    request = Request(URL, meta={"link_id": "0" * 32, "canonical_url": URL})
    with pytest.raises(ArchiveWriteFailed) as info:
        mw.process_response(request, served(request))
    assert isinstance(info.value, IgnoreRequest)
    assert str(info.value).startswith("archive write failed: [Errno 17] File exists")
    assert isinstance(info.value.__cause__, OSError)
    assert HOPS not in request.meta
    found = stats_of(crawler)
    assert found[stats.ARCHIVE_WRITE_ERRORS] == 1
    assert found[stats.ARCHIVE_FIRST_WRITE_ERROR] == str(info.value.__cause__)
    assert stats.WARC_RECORDS not in found
    # the spider records the link failed, to be tried again by a later run
    spider = crawler.spider
    assert isinstance(spider, SourcesSpider)
    failure = Failure(info.value)
    failure.request = request  # type: ignore[attr-defined]
    (outcome,) = list(spider.fetch_failed(failure))
    assert isinstance(outcome, FetchOutcome)
    assert outcome.status == Status.FAILED
    assert outcome.reason == str(info.value)
