"""QuietLog: the records that tell a link's outcome again go to DEBUG while the crawl runs;
DEBUG keeps them, tracebacks included. Scrapy's consoles are off."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.extensions import required
from crawler.extensions.quietlog import FOLDED, QuietLog
from tests.conftest import close_archive, project_crawler

ROBOTS = "scrapy.downloadermiddlewares.robotstxt"


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = project_crawler(tmp_path)
    yield crawler
    close_archive(crawler)


class Kept(logging.Handler):
    """What a handler at `level` would write."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _log_robots_error(logger: logging.Logger) -> None:
    try:
        raise OSError("DNS lookup failed: no results for hostname lookup: a.invalid.")
    except OSError as exc:
        logger.error(
            "Error downloading %(request)s: %(f_exception)s",
            {"request": "<GET https://a.invalid/x>", "f_exception": exc},
            exc_info=True,
        )


@pytest.mark.parametrize(("level", "kept"), [(logging.INFO, False), (logging.DEBUG, True)])
def test_robots_download_errors_go_to_debug_with_their_traceback(
    crawler: Crawler, level: int, kept: bool
) -> None:
    assert required(crawler, QuietLog).filters
    logger = logging.getLogger(ROBOTS)
    handler = Kept(level)
    logger.addHandler(handler)
    try:
        _log_robots_error(logger)
        logger.error("another error of the robots.txt middleware")
    finally:
        logger.removeHandler(handler)
    messages = [(r.levelname, r.getMessage()) for r in handler.records]
    assert ("ERROR", "another error of the robots.txt middleware") in messages
    folded = [r for r in handler.records if r.getMessage().startswith("Error downloading")]
    assert bool(folded) == kept
    if kept:
        assert folded[0].levelname == "DEBUG" and folded[0].exc_info is not None


@pytest.mark.parametrize(
    ("name", "msg", "args"),
    [
        (
            "crawler.middlewares.retry",
            "retrying %s in %.1f s (%s; retry %d of %d)",
            ("https://a.example/", 2.0, "http_503", 1, 3),
        ),
        (
            "crawler.middlewares.retry",
            "Gave up retrying %(request)s (failed %(retry_times)d times): %(reason)s",
            ({"request": "<GET https://a.example/>", "retry_times": 4, "reason": "503"},),
        ),
        ("crawler.middlewares.netsafety", "%s", ("refused http://127.0.0.1/: loopback address",)),
    ],
)
def test_retry_notes_and_refusals_go_to_debug(
    crawler: Crawler, name: str, msg: str, args: tuple[Any, ...]
) -> None:
    logger = logging.getLogger(name)
    handler = Kept(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.warning(msg, *args)
    finally:
        logger.removeHandler(handler)
    assert handler.records == []


def test_the_filters_come_off_when_the_engine_stops(crawler: Crawler) -> None:
    ext = required(crawler, QuietLog)
    installed = [f for _, f in ext.filters]
    logger = logging.getLogger(ROBOTS)
    assert any(f in logger.filters for f in installed)
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert ext.filters == []
    assert not any(f in logging.getLogger(name).filters for name in FOLDED for f in installed)


def test_scrapys_consoles_are_off_by_default(crawler: Crawler) -> None:
    from scrapy.extensions.remote_control import RemoteControl
    from scrapy.extensions.telnet import TelnetConsole

    assert crawler.get_extension(RemoteControl) is None
    assert crawler.get_extension(TelnetConsole) is None
    assert sys.modules  # the extensions' modules import: they are only switched off
