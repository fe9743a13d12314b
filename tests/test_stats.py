"""crawler.stats: each `sources/*` key spelled once, and the helpers that read and count them."""

from __future__ import annotations

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler import stats


@pytest.mark.parametrize(
    ("why", "key"),
    [
        ("HTTP 404", "http_404"),
        ("timeout: Getting x took longer than 2.0 seconds. (3 tries)", "timeout"),
        ("too large: over DOWNLOAD_MAXSIZE (5 bytes)", "too_large"),
        ("redirect loop: https://a/ again after 2 redirects", "redirect_loop"),
        ("connection refused (3 tries)", "connection_refused"),
        ("", "unknown"),
        (None, "unknown"),
        (": nothing before the colon", "unknown"),
        ("x" * 60, "x" * 40),
    ],
)
def test_reason_key(why: str | None, key: str) -> None:
    assert stats.reason_key(why) == key


def test_value_keys_are_spelled_under_the_prefix() -> None:
    assert stats.reason("failed", "HTTP 500 (3 tries)") == "sources/failed/http_500"
    assert stats.outcome("archived") == "sources/links/archived"
    assert stats.site_outcome("www.ithome.com", "gone") == "sources/sites/www.ithome.com/gone"
    assert stats.gave_up("timeout") == "sources/retry/gave_up/timeout"
    assert stats.not_fetched(stats.ALIAS) == "sources/links/skipped/alias"


def test_sites_reads_the_outcomes_per_site_back() -> None:
    found = {
        stats.site_outcome("b.example.com", "archived"): 2,
        stats.site_outcome("a.example.com", "gone"): 1,
        stats.site_outcome("a.example.com", "archived"): 3,
        stats.outcome("archived"): 5,
    }
    assert stats.sites(found) == {
        "a.example.com": {"gone": 1, "archived": 3},
        "b.example.com": {"archived": 2},
    }


def test_note_write_error_counts_each_and_keeps_the_first_message() -> None:
    collector = MemoryStatsCollector(get_crawler())
    stats.note_write_error(collector, OSError(28, "No space left on device"))
    stats.note_write_error(collector, OSError(30, "Read-only file system"))
    assert collector.get_value(stats.ARCHIVE_WRITE_ERRORS) == 2
    assert collector.get_value(stats.ARCHIVE_FIRST_WRITE_ERROR) == (
        "[Errno 28] No space left on device"
    )
