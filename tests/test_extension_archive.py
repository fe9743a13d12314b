"""ArchiveExtension in process: ARCHIVE_DIR opened once when the crawler is built, shared by
every component, closed when the engine stops; an archive that cannot be written fails the
crawler's construction, before anything is fetched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scrapy import signals
from twisted.python.failure import Failure

from crawler.archive import layout
from crawler.archive.lock import ArchiveError, ArchiveLocked
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.extensions.report import RunReport
from crawler.middlewares.warcrecorder import WarcRecorderMiddleware
from pipelines.dedupe import DedupePipeline
from pipelines.settle import SettlePipeline
from pipelines.store import StorePipeline
from spiders.sources import SourcesSpider
from tests.conftest import archive_of, close_archive, project_crawler, spider_crawler


def test_the_archive_is_opened_once_and_shared_by_every_component(tmp_path: Path) -> None:
    crawler = spider_crawler(tmp_path)
    try:
        archive = archive_of(crawler)
        assert archive.root == tmp_path / "archive"
        assert (archive.root / layout.MANIFEST).is_file()
        spider = crawler.spider
        assert isinstance(spider, SourcesSpider)
        assert spider.archive is archive
        assert WarcRecorderMiddleware.from_crawler(crawler).archive is archive
        assert StorePipeline.from_crawler(crawler).archive is archive
        assert SettlePipeline.from_crawler(crawler).archive is archive
        assert DedupePipeline.from_crawler(crawler).archive is archive
        assert required(crawler, RunReport).archive is archive
    finally:
        close_archive(crawler)


def test_the_archive_is_held_until_the_engine_stops(tmp_path: Path) -> None:
    # Scrapy's MemoryUsage stops at engine_stopped only what it started at engine_started
    crawler = project_crawler(tmp_path, MEMUSAGE_ENABLED=False)
    with pytest.raises(ArchiveLocked):
        project_crawler(tmp_path)  # held: a second crawl on it is refused
    answers = crawler.signals.send_catch_log(signals.engine_stopped)
    assert not [a for _, a in answers if isinstance(a, Failure)], answers
    again = project_crawler(tmp_path)  # released: the next crawl opens it
    close_archive(again)
    # closing is done once, however often it is asked for
    required(crawler, ArchiveExtension).close()
    answers = crawler.signals.send_catch_log(signals.engine_stopped)
    assert not [a for _, a in answers if isinstance(a, Failure)], answers


def test_an_archive_a_killed_crawl_left_is_recovered_when_opened(tmp_path: Path) -> None:
    close_archive(project_crawler(tmp_path))
    assert not (tmp_path / "archive" / "crawl.lock").read_text()  # a clean stop clears it
    holder = {"pid": 999999, "host": "gone-host", "started": "2026-02-05T02:30:00+0000"}
    (tmp_path / "archive" / "crawl.lock").write_text(json.dumps(holder))
    crawler = project_crawler(tmp_path)
    try:
        assert archive_of(crawler).recovered
    finally:
        close_archive(crawler)
    again = project_crawler(tmp_path)
    try:
        assert not archive_of(again).recovered
    finally:
        close_archive(again)


def test_a_held_archive_fails_the_crawler_naming_the_holder(tmp_path: Path) -> None:
    first = project_crawler(tmp_path)
    try:
        with pytest.raises(ArchiveError) as info:
            project_crawler(tmp_path)
        message = str(info.value)
        assert f"archive {tmp_path / 'archive'} is held by another crawl" in message
        assert f"pid {os.getpid()}" in message
        assert "wait for it to finish" in message
    finally:
        close_archive(first)


def test_an_archive_of_another_schema_version_fails_the_crawler(tmp_path: Path) -> None:
    close_archive(project_crawler(tmp_path))
    manifest = tmp_path / "archive" / layout.MANIFEST
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "schema_version": 999}))
    with pytest.raises(ArchiveError, match="schema_version 999, this crawler writes"):
        project_crawler(tmp_path)
    # and it did not keep the lock: the archive is not held by a crawl that never started
    manifest.write_text(json.dumps(record))
    close_archive(project_crawler(tmp_path))


def test_an_archive_that_cannot_be_made_fails_the_crawler(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(ArchiveError, match="cannot be written"):
        project_crawler(tmp_path, ARCHIVE_DIR=str(tmp_path / "file" / "archive"))


def test_the_archive_records_how_the_crawl_is_configured(tmp_path: Path) -> None:
    crawler = project_crawler(tmp_path, ROBOTSTXT_OBEY=False, USER_AGENT="tester/1")
    try:
        assert archive_of(crawler).info == {
            "robots": "ignore",
            "user-agent": "tester/1",
            "archive-dir": str((tmp_path / "archive").resolve()),
        }
    finally:
        close_archive(crawler)
