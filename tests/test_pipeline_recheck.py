"""RecheckPipeline alone, on a real (not crawling) project crawler and a tmp_path archive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import stats
from crawler.items import Extracted, FetchOutcome, Observation, Observed, Status
from crawler.urls import url_id
from pipelines.dedupe import DedupePipeline
from pipelines.extract import ExtractPipeline
from pipelines.recheck import RecheckPipeline
from tests.conftest import (
    StandInEngine,
    archive_of,
    article_html,
    close_archive,
    project_crawler,
    record_fetch,
    sentences,
)

URL = "https://www.example.com/news/1.html"
TEXT = "原来的正文。" * 40


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    """A crawler whose archive holds URL archived; closed after the test."""
    crawler = project_crawler(tmp_path)
    record_fetch(archive_of(crawler), URL, status=Status.ARCHIVED, text=TEXT, body_sha256="0" * 64)
    yield crawler
    close_archive(crawler)


def recheck(**kw: Any) -> FetchOutcome:
    """A re-check of URL as the spider hands it on."""
    return FetchOutcome(link_id=url_id(URL), canonical_url=URL, recheck=True, **kw)


def stat(crawler: Crawler, key: str) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(key)


def test_a_304_is_not_read_and_becomes_an_unchanged_observation(crawler: Crawler) -> None:
    item = recheck(status=Status.FAILED, reason="HTTP 304", http_status=304, conditional=True)
    extract = ExtractPipeline.from_crawler(crawler)
    assert asyncio.run(extract.process_item(item)) is item
    assert item.extracted is None  # not read: the answer said all
    out = RecheckPipeline.from_crawler(crawler).process_item(item)
    assert isinstance(out, Observation)
    assert out.outcome == Observed.UNCHANGED and out.http_status == 304 and out.alive is True
    assert stat(crawler, stats.recheck(Observed.UNCHANGED)) == 1
    assert stat(crawler, stats.RECHECKS_NOT_MODIFIED) == 1
    assert stat(crawler, stats.RECHECKS_FAILED) is None
    # the observation passes the first-fetch stages untouched (no drop as "archived already")
    assert DedupePipeline.from_crawler(crawler).process_item(out) is out


def test_a_changed_page_is_stored_as_a_new_version(crawler: Crawler) -> None:
    html = article_html("改过的标题", sentences("改过", 4)).encode()
    item = recheck(
        http_status=200,
        final_url=URL,
        body=html,
        extracted=Extracted(text="改过的正文。" * 40, title="改过的标题"),
    )
    out = RecheckPipeline.from_crawler(crawler).process_item(item)
    assert isinstance(out, Observation)
    assert out.outcome == Observed.CHANGED and out.version == 2
    assert item.body_sha256 is not None and out.body_sha256 == item.body_sha256
    record = archive_of(crawler).link_record(url_id(URL))
    assert len(record["versions"]) == 2


def test_a_first_fetch_passes_untouched(crawler: Crawler) -> None:
    item = FetchOutcome(link_id=url_id(URL), canonical_url=URL, http_status=200)
    assert RecheckPipeline.from_crawler(crawler).process_item(item) is item


def test_a_failure_is_unreachable_and_counts_in_the_error_rate(crawler: Crawler) -> None:
    item = recheck(status=Status.FAILED, reason="connection refused")
    out = RecheckPipeline.from_crawler(crawler).process_item(item)
    assert isinstance(out, Observation) and out.outcome == Observed.UNREACHABLE
    assert out.reason == "connection refused" and out.alive is True
    assert stat(crawler, stats.RECHECKS_FAILED) == 1


def test_a_wall_served_with_200_backs_the_site_off(tmp_path: Path) -> None:
    slot = SimpleNamespace(delay=1.0)
    crawler = project_crawler(tmp_path, BLOCKED_SITE_DELAY=10.0)
    crawler.engine = StandInEngine(slots={"www.example.com": slot})
    try:
        record_fetch(archive_of(crawler), URL, status=Status.ARCHIVED, text=TEXT)
        item = recheck(
            http_status=200,
            body=b"<html>verify</html>",
            extracted=Extracted(status=Status.BLOCKED, reason="generic: blocked (captcha)"),
        )
        out = RecheckPipeline.from_crawler(crawler).process_item(item)
        assert isinstance(out, Observation) and out.outcome == Observed.UNREACHABLE
        assert slot.delay == 10.0
        assert stat(crawler, stats.backoff("www.example.com")) == 1
    finally:
        close_archive(crawler)


def test_a_recheck_of_a_link_not_archived_is_dropped(crawler: Crawler) -> None:
    other = "https://www.example.com/never.html"
    item = FetchOutcome(link_id=url_id(other), canonical_url=other, recheck=True, status=None)
    with pytest.raises(DropItem, match="no archived link"):
        RecheckPipeline.from_crawler(crawler).process_item(item)


def test_a_failed_write_is_counted_and_leaves_the_record_as_it_was(
    crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = archive_of(crawler)
    before = archive.link_record(url_id(URL))

    def full(*_a: Any, **_k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("crawler.archive.atomic.write_json", full)
    item = recheck(status=Status.GONE, reason="HTTP 404", http_status=404)
    with pytest.raises(DropItem, match="not recorded"):
        RecheckPipeline.from_crawler(crawler).process_item(item)
    assert stat(crawler, stats.ARCHIVE_WRITE_ERRORS) == 1
    monkeypatch.undo()
    assert archive.link_record(url_id(URL)) == before
    assert archive.rechecks_due(now=time.time() + 2 * 86400) == 1  # still due: tried again


def test_an_observation_goes_out_in_a_feed_as_recorded(crawler: Crawler) -> None:
    import io
    import json

    from scrapy.exporters import JsonLinesItemExporter

    item = recheck(status=Status.GONE, reason="HTTP 410", http_status=410)
    out = RecheckPipeline.from_crawler(crawler).process_item(item)
    buffer = io.BytesIO()
    JsonLinesItemExporter(buffer).export_item(out)
    line = json.loads(buffer.getvalue())
    assert line["outcome"] == "gone" and line["reason"] == "HTTP 410"
    assert line["link_id"] == url_id(URL) and line["alive"] is None
    assert isinstance(line["checked_at"], float) and isinstance(line["next_check"], float)
