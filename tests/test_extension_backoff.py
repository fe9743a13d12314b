"""SiteBackoff in process: the site back-off policy applied to the download slots of a crawler
whose engine stands in for a running one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler

from crawler import stats
from crawler.extensions import required
from crawler.extensions.backoff import SiteBackoff
from tests.conftest import StandInEngine, close_archive, project_crawler

HOST = "mp.weixin.qq.com"


@pytest.fixture
def engine() -> StandInEngine:
    return StandInEngine(slots={HOST: Slot(concurrency=1, delay=2.0, jitter=0)})


@pytest.fixture
def crawler(tmp_path: Path, engine: StandInEngine) -> Iterator[Crawler]:
    crawler = project_crawler(tmp_path, BLOCKED_SITE_DELAY=10.0, AUTOTHROTTLE_MAX_DELAY=60.0)
    crawler.engine = engine
    yield crawler
    close_archive(crawler)


@pytest.fixture
def backoff(crawler: Crawler) -> SiteBackoff:
    return required(crawler, SiteBackoff)


def delay(engine: StandInEngine) -> float:
    return float(engine.slots[HOST].delay)


def stat(crawler: Crawler, key: str) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(key)


def test_it_is_one_of_the_crawls_extensions(crawler: Crawler, backoff: SiteBackoff) -> None:
    assert crawler.get_extension(SiteBackoff) is backoff
    assert (backoff.block_delay, backoff.max_delay) == (10.0, 60.0)


def test_a_throttling_site_is_spaced_as_far_as_it_asks(
    backoff: SiteBackoff, engine: StandInEngine, crawler: Crawler
) -> None:
    backoff.throttled(HOST, 30.0)
    assert delay(engine) == 30.0
    assert stat(crawler, stats.RETRY_SITE_BACKOFF) == 1
    backoff.throttled(HOST, 5.0)  # a shorter wait does not speed the site up
    assert delay(engine) == 30.0
    assert stat(crawler, stats.RETRY_SITE_BACKOFF) == 1


def test_a_site_that_answers_again_gets_its_delay_back(
    backoff: SiteBackoff, engine: StandInEngine
) -> None:
    backoff.throttled(HOST, 30.0)
    backoff.throttled(HOST, 45.0)
    backoff.answered(HOST)
    assert delay(engine) == 2.0  # the delay before the first throttling answer
    backoff.answered(HOST)  # nothing left to undo
    assert delay(engine) == 2.0


def test_a_delay_changed_since_is_left_as_it_is(
    backoff: SiteBackoff, engine: StandInEngine
) -> None:
    backoff.throttled(HOST, 30.0)
    engine.slots[HOST].delay = 7.0  # AutoThrottle (or a block) moved it meanwhile
    backoff.answered(HOST)
    assert delay(engine) == 7.0


def test_a_blocking_page_doubles_the_sites_delay_within_its_bounds(
    backoff: SiteBackoff, engine: StandInEngine, crawler: Crawler, caplog: Any
) -> None:
    url = f"https://{HOST}/s/abc"
    with caplog.at_level(logging.WARNING, logger="crawler.extensions.backoff"):
        backoff.blocked(url, "verification page")
    assert delay(engine) == 10.0  # at least BLOCKED_SITE_DELAY
    assert f"backing off {HOST}: delay 2.0 s -> 10.0 s (verification page)" in caplog.text
    for expected in (20.0, 40.0, 60.0, 60.0):
        backoff.blocked(url, "verification page")
        assert delay(engine) == expected  # doubled, at most AUTOTHROTTLE_MAX_DELAY
    assert stat(crawler, stats.backoff(HOST)) == 4  # the last one changed nothing


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.throttled("other.example.com", 30.0),
        lambda b: b.throttled(None, 30.0),
        lambda b: b.answered("other.example.com"),
        lambda b: b.answered(None),
        lambda b: b.blocked("https://other.example.com/x", "blocked"),
    ],
    ids=["throttled-no-slot", "throttled-no-key", "answered", "answered-no-key", "blocked"],
)
def test_a_site_without_a_download_slot_is_left_alone(
    backoff: SiteBackoff, engine: StandInEngine, crawler: Crawler, call: Any
) -> None:
    call(backoff)
    assert delay(engine) == 2.0
    assert crawler.stats is not None
    assert crawler.stats.get_stats() == {}


def test_before_the_crawl_starts_nothing_is_backed_off(tmp_path: Path) -> None:
    """No engine yet (Scrapy raises when it is asked for): the calls do nothing."""
    crawler = project_crawler(tmp_path)
    try:
        backoff = required(crawler, SiteBackoff)
        backoff.throttled(HOST, 30.0)
        backoff.blocked(f"https://{HOST}/s/abc", "verification page")
        backoff.answered(HOST)
        assert crawler.stats is not None
        assert crawler.stats.get_stats() == {}
    finally:
        close_archive(crawler)
