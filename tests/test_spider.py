"""The `sources` spider in process: `start()` over a tmp digests folder and archive, and the
callbacks on offline responses and failures, on a project crawler that never crawls."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
from scrapy.http import HtmlResponse, TextResponse
from scrapy.spidermiddlewares.httperror import HttpErrorMiddleware
from twisted.python.failure import Failure

from crawler import stats
from crawler.archive.store import ALIAS
from crawler.config import ArgumentError, SettingError
from crawler.digests.sources import InputError
from crawler.items import DigestRead, FetchOutcome, Pointer, Role, Status
from crawler.netsafety import RefusedURL
from crawler.urls import canonicalize, url_id
from pipelines.store import StorePipeline
from spiders.sources import HTTP_ERRORS, SourcesSpider
from tests.conftest import (
    StandInEngine,
    archive_of,
    close_archive,
    drain,
    quick_digest,
    record_fetch,
    spider_crawler,
)

A = "https://news.example.com/a.html"
B = "https://news.example.com/b.html"
C = "https://news.example.com/c.html"
HTML = b"<html><head><title>t</title></head><body><p>text</p></body></html>"


def lid(url: str) -> str:
    """The link id the spider gives a cited URL."""
    return url_id(canonicalize(url))


def stat(crawler: Crawler, key: str) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(key)


def requests_of(items: list[Any]) -> list[Request]:
    return [i for i in items if isinstance(i, Request)]


def digests_of(items: list[Any]) -> list[DigestRead]:
    return [i for i in items if isinstance(i, DigestRead)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A digests folder with one digest citing A and B."""
    quick_digest(tmp_path / "digests" / "one.md", [("甲", A), ("乙", B)])
    return tmp_path / "digests"


@pytest.fixture
def crawler(tmp_path: Path, folder: Path) -> Iterator[Crawler]:
    """A project crawler whose spider reads `folder`; its archive is closed after the test."""
    crawler = spider_crawler(tmp_path, folder)
    yield crawler
    close_archive(crawler)


def spider_of(crawler: Crawler) -> SourcesSpider:
    assert isinstance(crawler.spider, SourcesSpider)
    return crawler.spider


def store(crawler: Crawler, items: list[Any]) -> None:
    """What the store pipeline does with the digests a run read."""
    pipeline = StorePipeline.from_crawler(crawler)
    for item in digests_of(items):
        pipeline.process_item(item)


def archive_all(crawler: Crawler, *urls: str) -> None:
    """Record each URL's fetch as archived: nothing of them is due any more."""
    for url in urls:
        record_fetch(archive_of(crawler), url, status=Status.ARCHIVED, text=f"{url} 正文" * 20)


def rerun(tmp_path: Path, folder: Path) -> Crawler:
    """A second run over the same archive (the first one's crawler must be closed)."""
    return spider_crawler(tmp_path, folder)  # type: ignore[no-any-return]


# --- arguments ------------------------------------------------------------------------------


def test_the_digests_argument_is_resolved_when_the_spider_is_built(
    crawler: Crawler, folder: Path
) -> None:
    assert spider_of(crawler).sources == [str(folder / "one.md")]


def test_without_the_argument_the_digests_setting_is_read(tmp_path: Path, folder: Path) -> None:
    crawler = spider_crawler(tmp_path, DIGESTS=str(folder / "one.md"))
    try:
        assert spider_of(crawler).sources == [str(folder / "one.md")]
    finally:
        close_archive(crawler)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere.md", "digests path .*nowhere.md does not exist"),
        ("*.nothing", r"digests glob .*\*\.nothing matches no file"),
        ("empty", "digests folder .*empty holds no .md, .markdown or .txt files"),
        (" , ", r"no digests given \(set -a digests="),
    ],
    ids=["missing-path", "empty-glob", "empty-folder", "blank"],
)
def test_a_digests_argument_that_names_nothing_fails_in_from_crawler(
    crawler: Crawler, tmp_path: Path, spec: str, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    value = spec if not spec.strip(" ,") else str(tmp_path / spec)
    with pytest.raises(InputError, match=message):
        SourcesSpider.from_crawler(crawler, digests=value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"digest": "x.md"},
            r"^unknown spider argument -a digest=\.\.\. \(did you mean -a digests=\?\); "
            r"the sources spider takes: -a digests=\.\.\., -a recheck=due\|off$",
        ),
        ({"dgsts": "x.md", "zzz": "1"}, r"^unknown spider argument -a dgsts=\.\.\., -a zzz="),
        ({"digests": "  "}, r"^spider argument digests='': expected files, folders, globs"),
        (
            {"recheck": "all"},
            r"^spider argument recheck='all': expected due \(re-checks only\) or off",
        ),
        (
            {"recheck": "due", "digests": "x.md"},
            r"^spider argument recheck=due runs re-checks only and reads no digests",
        ),
    ],
    ids=["typo", "several", "empty", "recheck-value", "recheck-due-with-digests"],
)
def test_an_argument_the_spider_does_not_take_fails_at_once(
    crawler: Crawler, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError, match=message):
        SourcesSpider.from_crawler(crawler, **kwargs)


def test_scrapyds_job_argument_is_taken(crawler: Crawler, folder: Path) -> None:
    spider = SourcesSpider.from_crawler(crawler, digests=str(folder), _job="abc123")
    assert spider.sources == [str(folder / "one.md")]


def test_a_bad_setting_fails_the_spider_before_anything_is_opened(
    tmp_path: Path, folder: Path
) -> None:
    """The spider is built first of all (before the extensions open the archive): a bad -s
    ends there, in one line, and no archive, lock or report is made."""
    from scrapy.crawler import Crawler as ScrapyCrawler

    from tests.conftest import project_settings

    archive = tmp_path / "fresh"
    bare = ScrapyCrawler(
        SourcesSpider, project_settings(ARCHIVE_DIR=str(archive), MAX_ERROR_RATE="abc")
    )
    with pytest.raises(SettingError, match=r"^setting MAX_ERROR_RATE='abc': expected a number"):
        bare._create_spider(digests=str(folder))
    assert not archive.exists()


# --- start(): digests -----------------------------------------------------------------------


def test_start_reads_a_digest_and_requests_each_cited_link(crawler: Crawler, folder: Path) -> None:
    spider = spider_of(crawler)
    items = drain(spider.start())
    (read,) = digests_of(items)
    source = folder / "one.md"
    info = source.stat()
    assert read.digest.source == str(source)
    assert read.raw == source.read_bytes()
    assert read.file_stat == (info.st_size, info.st_mtime_ns)
    assert abs(read.read_at - time.time()) < 60
    assert isinstance(items[0], DigestRead)  # the digest is stored before its links are fetched
    requests = requests_of(items)
    assert [r.url for r in requests] == [A, B]
    for request in requests:
        assert request.meta["link_id"] == lid(request.url)
        assert request.meta["canonical_url"] == request.url
        assert request.meta["handle_httpstatus_list"] == HTTP_ERRORS
        assert request.callback == spider.parse_page
        assert request.errback == spider.fetch_failed
    links = [link for entry in read.digest.entries for link in entry.links]
    assert [(link.canonical_url, link.link_id) for link in links] == [(A, lid(A)), (B, lid(B))]
    assert stat(crawler, stats.DIGESTS_READ) == 1
    assert stat(crawler, stats.ENTRIES) == len(read.digest.entries)
    assert stat(crawler, stats.cited(Role.SOURCE)) == 2
    assert stat(crawler, stats.LINKS_SCHEDULED) == 2
    assert stat(crawler, stats.LINKS_RESUMED) is None


def test_a_link_cited_twice_in_a_run_is_requested_once_and_counted(
    tmp_path: Path, folder: Path
) -> None:
    quick_digest(folder / "two.md", [("甲again", f"{A}?utm_source=digest#top"), ("丙", C)])
    crawler = spider_crawler(tmp_path, folder)
    try:
        items = drain(spider_of(crawler).start())
        assert len(digests_of(items)) == 2
        assert [r.url for r in requests_of(items)] == [A, B, C]
        assert stat(crawler, stats.LINKS_DUPLICATE_IN_RUN) == 1
        assert stat(crawler, stats.LINKS_SCHEDULED) == 3
        assert stat(crawler, stats.cited(Role.SOURCE)) == 4
    finally:
        close_archive(crawler)


def test_an_invalid_link_is_counted_and_not_requested(tmp_path: Path, folder: Path) -> None:
    quick_digest(folder / "one.md", [("甲", A), ("端口写错", "http://127.0.0.1:99999/x")])
    crawler = spider_crawler(tmp_path, folder)
    try:
        items = drain(spider_of(crawler).start())
        assert [r.url for r in requests_of(items)] == [A]
        (read,) = digests_of(items)
        bad = read.digest.entries[-1].links[-1]
        assert bad.link_id is None and bad.error and bad.error.startswith("invalid URL: ")
        assert stat(crawler, stats.LINKS_INVALID) == 1
    finally:
        close_archive(crawler)


def test_an_unchanged_digest_file_is_skipped_without_being_read(
    tmp_path: Path, folder: Path
) -> None:
    crawler = spider_crawler(tmp_path, folder)
    store(crawler, drain(spider_of(crawler).start()))
    archive_all(crawler, A, B)
    close_archive(crawler)
    # other bytes of the same size under the same mtime: only a read would notice
    source = folder / "one.md"
    info = source.stat()
    quick_digest(source, [("甲", A), ("丙", C)])
    os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert source.stat().st_size == info.st_size
    again = rerun(tmp_path, folder)
    try:
        assert drain(spider_of(again).start()) == []
        assert stat(again, stats.DIGESTS_UNCHANGED) == 1
        assert stat(again, stats.DIGESTS_READ) is None
    finally:
        close_archive(again)


def test_a_touched_digest_with_the_same_bytes_is_skipped_and_its_stat_noted(
    tmp_path: Path, folder: Path
) -> None:
    crawler = spider_crawler(tmp_path, folder)
    store(crawler, drain(spider_of(crawler).start()))
    archive_all(crawler, A, B)
    close_archive(crawler)
    source = folder / "one.md"
    info = source.stat()
    later = info.st_mtime_ns + 5_000_000_000
    os.utime(source, ns=(later, later))
    again = rerun(tmp_path, folder)
    try:
        assert drain(spider_of(again).start()) == []
        assert stat(again, stats.DIGESTS_UNCHANGED) == 1
        # the bytes were compared once; from now on the file's size and mtime say it
        assert archive_of(again).digest_file_unchanged(str(source), info.st_size, later)
    finally:
        close_archive(again)


def test_a_changed_digest_is_read_again(tmp_path: Path, folder: Path) -> None:
    crawler = spider_crawler(tmp_path, folder)
    store(crawler, drain(spider_of(crawler).start()))
    close_archive(crawler)
    quick_digest(folder / "one.md", [("甲", A), ("乙", B), ("丙", C)])
    again = rerun(tmp_path, folder)
    try:
        items = drain(spider_of(again).start())
        assert len(digests_of(items)) == 1
        assert [r.url for r in requests_of(items)] == [A, B, C]  # A and B are still pending
        assert stat(again, stats.DIGESTS_READ) == 1
    finally:
        close_archive(again)


def test_an_unreadable_digest_file_is_recorded_and_the_rest_is_read(
    tmp_path: Path, folder: Path
) -> None:
    quick_digest(folder / "two.md", [("丙", C)])
    crawler = spider_crawler(tmp_path, folder)
    try:
        (folder / "one.md").unlink()  # gone between resolving the argument and reading it
        items = drain(spider_of(crawler).start())
        assert [r.url for r in requests_of(items)] == [C]
        assert stat(crawler, stats.DIGESTS_FAILED) == 1
        (error,) = stat(crawler, stats.DIGESTS_ERRORS)
        assert error.startswith(f"{folder / 'one.md'}: cannot read: No such file or directory")
        assert stat(crawler, stats.DIGESTS_READ) == 1
    finally:
        close_archive(crawler)


def test_a_file_that_is_not_a_digest_is_recorded_with_the_parsers_reason(
    tmp_path: Path, folder: Path
) -> None:
    (folder / "binary.md").write_bytes(b"\x00\x01\x02\x03 binary")
    (folder / "plain.md").write_text("# 无链接\n\n只有文字。\n", encoding="utf-8")
    crawler = spider_crawler(tmp_path, folder)
    try:
        items = drain(spider_of(crawler).start())
        assert len(digests_of(items)) == 1
        assert stat(crawler, stats.DIGESTS_FAILED) == 2
        errors = stat(crawler, stats.DIGESTS_ERRORS)
        assert errors == [
            f"{folder / 'binary.md'}: {folder / 'binary.md'}: not a markdown digest (binary data)",
            f"{folder / 'plain.md'}: {folder / 'plain.md'}: not a markdown digest "
            "(no http(s) links)",
        ]
    finally:
        close_archive(crawler)


def test_a_digest_url_is_requested_for_parse_digest_response(tmp_path: Path) -> None:
    url = "https://digests.example.com/2026-02-05.md"
    crawler = spider_crawler(tmp_path, url)
    try:
        spider = spider_of(crawler)
        (request,) = drain(spider.start())
        assert request.url == url
        assert request.callback == spider.parse_digest_response
        assert request.errback == spider.digest_failed
        assert request.meta == {"digest_source": url}
        assert request.priority == 10  # digests before the pages they cite
        assert stat(crawler, stats.LINKS_SCHEDULED) is None
    finally:
        close_archive(crawler)


# --- start(): links due from earlier runs ---------------------------------------------------


def test_links_cited_earlier_and_still_due_are_resumed(tmp_path: Path, folder: Path) -> None:
    crawler = spider_crawler(tmp_path, folder)
    store(crawler, drain(spider_of(crawler).start()))  # A and B cited, never fetched (a crash)
    record_fetch(archive_of(crawler), B, status=Status.FAILED, reason="HTTP 500")
    close_archive(crawler)
    again = rerun(tmp_path, folder)
    try:
        items = drain(spider_of(again).start())
        assert digests_of(items) == []  # the digest is unchanged
        requests = requests_of(items)
        assert sorted(r.url for r in requests) == [A, B]
        assert {r.meta["link_id"] for r in requests} == {lid(A), lid(B)}
        assert stat(again, stats.LINKS_RESUMED) == 2
        assert stat(again, stats.LINKS_SCHEDULED) == 2
    finally:
        close_archive(again)


def test_a_link_the_archive_says_is_not_due_is_not_requested(tmp_path: Path, folder: Path) -> None:
    quick_digest(folder / "one.md", [("甲", A), ("乙", B), ("丙", C), ("丁", f"{C}?page=all")])
    crawler = spider_crawler(tmp_path, folder, MAX_ATTEMPTS_PER_URL=2)
    archive = archive_of(crawler)
    record_fetch(archive, A, status=Status.ARCHIVED, text="正文" * 50, title="甲")
    record_fetch(
        archive, B, status=Status.BLOCKED, reason="HTTP 429", next_attempt=time.time() + 3600
    )
    for _ in range(2):  # attempts used up
        record_fetch(archive, C, status=Status.FAILED, reason="HTTP 500")
    try:
        items = drain(spider_of(crawler).start())
        assert [r.url for r in requests_of(items)] == [f"{C}?page=all"]
        assert stat(crawler, stats.not_fetched(Status.ARCHIVED)) == 1
        assert stat(crawler, stats.not_fetched(Status.BLOCKED)) == 1
        assert stat(crawler, stats.not_fetched(Status.FAILED)) == 1
        assert stat(crawler, stats.LINKS_SCHEDULED) == 1
    finally:
        close_archive(crawler)


def test_a_link_naming_a_page_another_link_names_is_not_requested(
    tmp_path: Path, folder: Path
) -> None:
    crawler = spider_crawler(tmp_path, folder)
    archive = archive_of(crawler)
    record_fetch(archive, C, status=Status.ARCHIVED, text="正文" * 50, title="丙")
    with archive.index.transaction():  # C was found to be the page B redirects to
        archive.index.put_alias(B, lid(C))
    try:
        items = drain(spider_of(crawler).start())
        assert [r.url for r in requests_of(items)] == [A]
        assert stat(crawler, stats.not_fetched(ALIAS)) == 1
    finally:
        close_archive(crawler)


def test_start_waits_for_room_in_the_scheduler_before_each_request(
    tmp_path: Path, folder: Path
) -> None:
    """Backpressure: while downloads are saturated, the next link stays in the index."""
    engine = StandInEngine(running=True, backout=True)
    crawler = spider_crawler(tmp_path, folder, engine=engine)

    async def scenario() -> tuple[Any, Any, bool, Request]:
        start = spider_of(crawler).start()
        first = await anext(start)
        waiting = asyncio.ensure_future(anext(start))
        await asyncio.sleep(0.05)
        held = not waiting.done()
        engine.backout = False
        crawler.signals.send_catch_log(signals.scheduler_empty)
        request = await asyncio.wait_for(waiting, 5)
        rest = [item async for item in start]
        return first, rest, held, request

    try:
        first, rest, held, request = asyncio.run(scenario())
        assert isinstance(first, DigestRead)
        assert held, "the request was yielded while the downloads were saturated"
        assert request.url == A
        assert [r.url for r in rest] == [B]
    finally:
        close_archive(crawler)


# --- the digest callbacks -------------------------------------------------------------------


def test_parse_digest_response_reads_a_fetched_digest(crawler: Crawler, folder: Path) -> None:
    url = "https://digests.example.com/one.md"
    raw = (folder / "one.md").read_bytes()
    request = Request(url, meta={"digest_source": url})
    response = TextResponse(url, body=raw, encoding="utf-8", request=request)
    items = list(spider_of(crawler).parse_digest_response(response))
    (read,) = digests_of(items)
    assert read.digest.source == url
    assert read.raw == raw
    assert read.file_stat is None
    assert [r.url for r in requests_of(items)] == [A, B]
    assert stat(crawler, stats.DIGESTS_READ) == 1


def test_parse_digest_response_skips_a_digest_already_recorded(
    crawler: Crawler, folder: Path
) -> None:
    store(crawler, drain(spider_of(crawler).start()))
    url = "https://digests.example.com/one.md"
    request = Request(url, meta={"digest_source": url})
    response = TextResponse(url, body=(folder / "one.md").read_bytes(), request=request)
    assert list(spider_of(crawler).parse_digest_response(response)) == []
    assert stat(crawler, stats.DIGESTS_UNCHANGED) == 1


def test_digest_failed_records_why_a_digest_url_could_not_be_fetched(crawler: Crawler) -> None:
    url = "https://digests.example.com/one.md"
    failure = Failure(CannotResolveHostError("digests.example.com"))
    failure.request = Request(url, meta={"digest_source": url})  # type: ignore[attr-defined]
    assert spider_of(crawler).digest_failed(failure) is None
    assert stat(crawler, stats.DIGESTS_FAILED) == 1
    assert stat(crawler, stats.DIGESTS_ERRORS) == [f"{url}: DNS lookup failed: digests.example.com"]


# --- parse_page -----------------------------------------------------------------------------


def page_request(crawler: Crawler, url: str = A, **meta: Any) -> Request:
    """The request the spider makes for a cited link, with what middlewares add to its meta."""
    request = spider_of(crawler).fetch(lid(url), url)
    assert request is not None
    request.meta.update(meta)
    return request


def served(request: Request, status: int = 200, url: str | None = None, **kw: Any) -> HtmlResponse:
    headers = {"Content-Type": "text/html; charset=utf-8", **kw.pop("headers", {})}
    return HtmlResponse(
        url or request.url, status=status, body=HTML, headers=headers, request=request, **kw
    )


def parse(crawler: Crawler, response: HtmlResponse) -> FetchOutcome:
    (outcome,) = list(spider_of(crawler).parse_page(response))
    assert isinstance(outcome, FetchOutcome)
    return outcome


def test_parse_page_hands_a_served_page_on_to_be_read(crawler: Crawler) -> None:
    request = page_request(crawler)
    response = served(
        request,
        headers={"Set-Cookie": ["a=1", "b=2"]},
        ip_address=ipaddress.ip_address("93.184.216.34"),
    )
    outcome = parse(crawler, response)
    assert (outcome.link_id, outcome.canonical_url) == (lid(A), A)
    assert (outcome.status, outcome.reason) == (None, None)  # the extractor decides
    assert outcome.http_status == 200
    assert outcome.final_url == A
    assert outcome.content_type == "text/html; charset=utf-8"
    assert ("Content-Type", "text/html; charset=utf-8") in outcome.headers
    assert [v for k, v in outcome.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert outcome.body == HTML
    assert outcome.ip == "93.184.216.34"
    assert outcome.redirects == [] and outcome.original is None
    assert outcome.fetched_at is not None and abs(outcome.fetched_at - time.time()) < 60


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (404, Status.GONE, "HTTP 404"),
        (410, Status.GONE, "HTTP 410"),
        (403, Status.BLOCKED, "HTTP 403"),
        (500, Status.FAILED, "HTTP 500"),
    ],
)
def test_parse_page_decides_an_http_error_from_its_status(
    crawler: Crawler, code: int, status: Status, reason: str
) -> None:
    request = page_request(crawler)
    response = served(request, status=code)
    # the error reaches the callback, not an HttpError: the spider asks for every 4xx and 5xx
    assert HttpErrorMiddleware.from_crawler(crawler).process_spider_input(response) is None
    outcome = parse(crawler, response)
    assert (outcome.status, outcome.reason, outcome.http_status) == (status, reason, code)


def test_parse_page_counts_the_tries_of_a_retried_page(crawler: Crawler) -> None:
    outcome = parse(crawler, served(page_request(crawler, retry_times=2), status=500))
    assert (outcome.status, outcome.reason) == (Status.FAILED, "HTTP 500 (3 tries)")


def test_parse_page_takes_the_outcome_a_middleware_decided(crawler: Crawler) -> None:
    decided = (Status.BLOCKED, "HTTP 429: Retry-After 3600 s is over RETRY_AFTER_MAX (120 s)")
    request = page_request(crawler, sources_outcome=decided, retry_times=1)
    outcome = parse(crawler, served(request, status=429, headers={"Retry-After": "3600"}))
    assert outcome.status == Status.BLOCKED
    assert outcome.reason == f"{decided[1]} (2 tries)"
    assert ("Retry-After", "3600") in outcome.headers  # the settle stage reads it


def test_parse_page_records_the_redirects_and_the_final_url(crawler: Crawler) -> None:
    hops = ["http://news.example.com/a.html", "https://news.example.com/go?to=a"]
    request = page_request(crawler, redirect_urls=hops, redirect_times=2)
    final = "https://news.example.com/2026/a.html"
    outcome = parse(crawler, served(request.replace(url=final), url=final))
    assert outcome.redirects == hops
    assert outcome.final_url == final
    assert outcome.canonical_url == A  # the cited link, not where it led


def test_parse_page_takes_the_last_hops_warc_pointer(crawler: Crawler) -> None:
    first = Pointer("warc/one.warc.gz", 0, 100, "<urn:uuid:1>")
    last = Pointer("warc/one.warc.gz", 100, 200, "<urn:uuid:2>")
    outcome = parse(crawler, served(page_request(crawler, warc_hops=[first, last])))
    assert outcome.original == last


# --- fetch_failed ---------------------------------------------------------------------------


def failed(request: Request, exc: BaseException) -> Failure:
    """A failure as Scrapy hands it to an errback: the exception, with its request."""
    failure = Failure(exc)
    failure.request = request  # type: ignore[attr-defined]
    return failure


def fail(crawler: Crawler, failure: Failure) -> FetchOutcome:
    (outcome,) = list(spider_of(crawler).fetch_failed(failure))
    assert isinstance(outcome, FetchOutcome)
    return outcome


@pytest.mark.parametrize(
    ("exc", "meta", "status", "reason"),
    [
        (
            CannotResolveHostError("news.example.com"),
            {},
            Status.FAILED,
            "DNS lookup failed: news.example.com",
        ),
        (
            DownloadTimeoutError(f"Getting {A} took longer than 30.0 seconds."),
            {"retry_times": 3},
            Status.FAILED,
            f"timeout: Getting {A} took longer than 30.0 seconds. (4 tries)",
        ),
        (
            RefusedURL(f"refused {A}: private address 10.0.0.1"),
            {},
            Status.REFUSED,
            f"refused {A}: private address 10.0.0.1",
        ),
    ],
    ids=["dns", "timeout", "refused"],
)
def test_fetch_failed_records_why_a_page_did_not_answer(
    crawler: Crawler, exc: BaseException, meta: dict[str, Any], status: Status, reason: str
) -> None:
    outcome = fail(crawler, failed(page_request(crawler, **meta), exc))
    assert (outcome.link_id, outcome.canonical_url) == (lid(A), A)
    assert (outcome.status, outcome.reason) == (status, reason)
    assert outcome.http_status is None and outcome.body == b"" and outcome.final_url is None


def test_fetch_failed_keeps_the_redirects_and_pointer_of_the_hops_before(
    crawler: Crawler,
) -> None:
    pointer = Pointer("warc/one.warc.gz", 0, 100, "<urn:uuid:1>")
    request = page_request(crawler, redirect_urls=[A], warc_hops=[pointer])
    hop = request.replace(url="http://10.0.0.1/a.html")
    outcome = fail(crawler, failed(hop, RefusedURL("refused http://10.0.0.1/a.html")))
    assert outcome.status == Status.REFUSED
    assert outcome.redirects == [A]
    assert outcome.original == pointer


def test_fetch_asks_for_a_link_only_once_per_run(crawler: Crawler) -> None:
    spider = spider_of(crawler)
    assert spider.fetch(lid(A), A) is not None
    assert spider.fetch(lid(A), A) is None
    assert stat(crawler, stats.LINKS_DUPLICATE_IN_RUN) == 1
    assert stat(crawler, stats.LINKS_SCHEDULED) == 1


# --- re-checks ------------------------------------------------------------------------------


def due_again(crawler: Crawler, *urls: str, when: float = 1.0) -> None:
    """Archive each URL and make its re-check due (oldest first, in the order given)."""
    archive_all(crawler, *urls)
    for n, url in enumerate(urls):
        archive_of(crawler).schedule_recheck(lid(url), when + n)


def test_due_rechecks_come_after_the_new_links_behind_them(tmp_path: Path, folder: Path) -> None:
    quick_digest(folder / "one.md", [("甲", A)])
    crawler = spider_crawler(tmp_path, folder)
    try:
        due_again(crawler, B, C)
        items = drain(spider_of(crawler).start())
        requests = requests_of(items)
        assert [r.url for r in requests] == [A, B, C]
        new, *rechecks = requests
        assert "recheck" not in new.meta and new.priority == 0
        assert all(r.meta["recheck"] and r.priority < new.priority for r in rechecks)
        assert all(304 in r.meta["handle_httpstatus_list"] for r in rechecks)
        assert stat(crawler, stats.RECHECKS_DUE) == 2
        assert stat(crawler, stats.RECHECKS_SCHEDULED) == 2
        assert stat(crawler, stats.LINKS_SCHEDULED) == 1  # re-checks are not new links
    finally:
        close_archive(crawler)


def test_a_recheck_sends_the_stored_answers_validators(tmp_path: Path, folder: Path) -> None:
    crawler = spider_crawler(tmp_path, folder, RECHECK_PER_RUN=5)
    try:
        spider = spider_of(crawler)
        etag = {"etag": 'W/"abc"', "last_modified": "Wed, 04 Mar 2026 08:00:00 GMT"}
        request = spider.recheck_request(lid(A), A, etag)
        assert request is not None
        assert request.headers.get("If-None-Match") == b'W/"abc"'
        assert request.headers.get("If-Modified-Since") == b"Wed, 04 Mar 2026 08:00:00 GMT"
        assert request.meta["recheck_conditional"] is True
        plain = spider.recheck_request(lid(B), B, {})
        assert plain is not None and plain.meta["recheck_conditional"] is False
        assert b"If-None-Match" not in plain.headers
        assert spider.recheck_request(lid(A), A, etag) is None  # once per run
        assert stat(crawler, stats.RECHECKS_CONDITIONAL) == 1
        # a 304 answer comes back as a re-check sent with validators, not to be read
        response = TextResponse(A, status=304, body=b"", request=request)
        outcome = parse(crawler, response)  # type: ignore[arg-type]
        assert outcome.recheck and outcome.conditional and outcome.http_status == 304
        assert outcome.body == b""
        assert outcome.status is not None  # so the extract stage leaves it alone
        result = HttpErrorMiddleware.from_crawler(crawler).process_spider_input(response)
        assert result is None  # the 304 reaches the callback
        failure = fail(crawler, failed(request, DownloadTimeoutError("took too long")))
        assert failure.recheck and failure.status == Status.FAILED
    finally:
        close_archive(crawler)


def test_recheck_per_run_and_the_site_share_bound_a_nightly_run(
    tmp_path: Path, folder: Path
) -> None:
    others = [f"https://other.example/{n}.html" for n in range(3)]
    crawler = spider_crawler(tmp_path, folder, RECHECK_PER_RUN=4, RECHECK_SITE_SHARE=0.5)
    try:
        archive_all(crawler, A, B)  # the digest's links: nothing new
        d = "https://news.example.com/d.html"
        due_again(crawler, C, *others, d)  # most overdue first: C, the others, then d
        requests = requests_of(drain(spider_of(crawler).start()))
        # 4 in all, at most 2 a site: the third of other.example waits for a later run
        assert [r.url for r in requests] == [C, others[0], others[1], d]
        assert stat(crawler, stats.RECHECKS_OVER_SITE_SHARE) == 1
        assert stat(crawler, stats.RECHECKS_DUE) == 5
    finally:
        close_archive(crawler)


def test_recheck_due_reads_no_digest_and_recheck_off_makes_none(
    tmp_path: Path, folder: Path
) -> None:
    crawler = spider_crawler(tmp_path, folder)
    try:
        due_again(crawler, C)
    finally:
        close_archive(crawler)
    only = spider_crawler(tmp_path, None, RECHECK_BUDGET=10, RECHECK_PER_RUN=0)
    only.spider = only._create_spider(recheck="due")
    try:
        spider = spider_of(only)
        assert spider.sources == [] and spider.recheck_limit == 10  # RECHECK_BUDGET
        items = drain(spider.start())
        assert digests_of(items) == []
        assert [r.url for r in requests_of(items)] == [C]
    finally:
        close_archive(only)
    off = spider_crawler(tmp_path, folder)
    try:
        spider = SourcesSpider.from_crawler(off, digests=str(folder), recheck="off")
        assert spider.recheck_limit == 0
        off.spider = spider
        items = drain(spider.start())
        assert [r.url for r in requests_of(items)] == [A, B]  # the digest's links, no re-check
    finally:
        close_archive(off)


# --- answers Scrapy would drop: every status, redirects not followed, long URLs --------------


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (100, Status.FAILED, "HTTP 100: an interim answer came as the final one"),
        (304, Status.FAILED, "HTTP 304: a redirect status that is not followed"),
        (600, Status.FAILED, "HTTP 600: not an HTTP status code (100-599)"),
        (999, Status.FAILED, "HTTP 999: not an HTTP status code (100-599)"),
    ],
)
def test_a_status_outside_400_599_reaches_the_callback_and_says_what_it_is(
    crawler: Crawler, code: int, status: Status, reason: str
) -> None:
    request = page_request(crawler)
    response = served(request, status=code)
    assert HttpErrorMiddleware.from_crawler(crawler).process_spider_input(response) is None
    outcome = parse(crawler, response)
    assert (outcome.status, outcome.reason, outcome.http_status) == (status, reason, code)


def test_the_redirects_scrapy_follows_are_left_to_it() -> None:
    assert not {301, 302, 303, 307, 308} & set(HTTP_ERRORS)
    assert {100, 300, 304, 404, 500, 600, 999} <= set(HTTP_ERRORS)


@pytest.mark.parametrize(
    ("location", "status", "reason"),
    [
        (
            "file:///etc/passwd",
            Status.REFUSED,
            "HTTP 302: refused redirect to unsupported scheme 'file' (file:///etc/passwd)",
        ),
        (
            "gopher://127.0.0.1:70/1",
            Status.REFUSED,
            "HTTP 302: refused redirect to unsupported scheme 'gopher' (gopher://127.0.0.1:70/1)",
        ),
        (None, Status.FAILED, "HTTP 302: a redirect without a Location"),
    ],
)
def test_a_redirect_scrapy_did_not_follow_is_recorded_as_the_answer_it_is(
    crawler: Crawler, location: str | None, status: Status, reason: str
) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError

    request = page_request(crawler, warc_hops=[Pointer("warc/x.warc.gz", 0, 10, "<urn:x>")])
    headers = {"Location": location} if location else {}
    response = served(request, status=302, headers=headers)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request  # type: ignore[attr-defined]
    (outcome,) = list(spider_of(crawler).fetch_failed(failure))
    assert (outcome.status, outcome.reason, outcome.http_status) == (status, reason, 302)
    assert outcome.original == Pointer("warc/x.warc.gz", 0, 10, "<urn:x>")  # the evidence


def test_a_digest_url_answering_404_is_reported_as_such(crawler: Crawler) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError

    url = "https://digests.example.com/gone.md"
    request = Request(url, meta={"digest_source": url})
    response = HtmlResponse(url, status=404, body=b"no", request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request  # type: ignore[attr-defined]
    spider_of(crawler).digest_failed(failure)
    assert stat(crawler, stats.DIGESTS_ERRORS) == [f"{url}: HTTP 404"]


def test_a_link_longer_than_urllength_limit_is_invalid_not_dropped(
    tmp_path: Path, folder: Path
) -> None:
    long = f"{A}?q={'x' * 2500}"
    quick_digest(folder / "long.md", [("长", long)])
    crawler = spider_crawler(tmp_path, folder, URLLENGTH_LIMIT=2083)
    try:
        items = drain(spider_of(crawler).start())
    finally:
        close_archive(crawler)
    assert long not in [r.url for r in requests_of(items)]
    cited = [lk for d in digests_of(items) for e in d.digest.entries for lk in e.links]
    (link,) = [lk for lk in cited if lk.url == long]
    assert link.link_id is None and "longer than URLLENGTH_LIMIT (2083)" in str(link.error)
    assert stat(crawler, stats.LINKS_INVALID) == 1


def test_urllength_limit_is_the_projects_url_limit() -> None:
    from crawler import settings
    from crawler.urls import MAX_URL_LENGTH

    assert settings.URLLENGTH_LIMIT == MAX_URL_LENGTH  # Scrapy drops nothing we accept


def test_a_due_link_over_a_lowered_limit_is_recorded_skipped(tmp_path: Path, folder: Path) -> None:
    long = f"{A}?q={'y' * 3000}"
    quick_digest(folder / "long.md", [("长", long)])
    first = spider_crawler(tmp_path, folder)
    try:
        store(first, drain(spider_of(first).start()))
    finally:
        close_archive(first)
    again = spider_crawler(tmp_path, folder, URLLENGTH_LIMIT=2083)
    try:
        items = drain(spider_of(again).start())
    finally:
        close_archive(again)
    (outcome,) = [i for i in items if isinstance(i, FetchOutcome)]
    assert outcome.canonical_url == canonicalize(long) and outcome.status == Status.SKIPPED
    assert "URLLENGTH_LIMIT" in str(outcome.reason)
