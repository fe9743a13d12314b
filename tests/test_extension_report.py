"""RunReport in process: the progress line, the report file and summary, and the run's verdict
in the crawl's stats (`sources/exit_code`, `sources/failures`, `finish_reason`)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.corestats import CoreStats
from scrapy.utils.misc import build_from_crawler
from twisted.python.failure import Failure

from crawler import stats
from crawler.extensions import report as report_module
from crawler.extensions import required
from crawler.extensions.report import FAILED_REASON, ExitCode, RunReport
from crawler.items import FetchOutcome, Status
from tests.conftest import archive_of, close_archive, spider_crawler


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = spider_crawler(tmp_path, MAX_ERROR_RATE=0.5)
    yield crawler
    close_archive(crawler)


@pytest.fixture
def ext(crawler: Crawler) -> RunReport:
    return required(crawler, RunReport)


def spider_of(crawler: Crawler) -> Spider:
    assert crawler.spider is not None
    return crawler.spider


def count(crawler: Crawler, **by_key: int) -> None:
    """Set stats as a run's components would have counted them."""
    assert crawler.stats is not None
    for key, value in by_key.items():
        crawler.stats.inc_value(key, value)


def outcomes(crawler: Crawler, **by_status: int) -> None:
    for status, n in by_status.items():
        count(crawler, **{stats.outcome(Status(status)): n})


def close(crawler: Crawler, ext: RunReport, reason: str = "finished") -> dict[str, Any]:
    """Close the run as Scrapy does; the verdict and report it left."""
    ext.spider_closed(spider_of(crawler), reason)
    assert crawler.stats is not None
    found = crawler.stats.get_stats()
    return {
        "exit_code": found.get(stats.EXIT_CODE),
        "failures": found.get(stats.FAILURES),
        "finish_reason": found.get("finish_reason"),
    }


def report_file(crawler: Crawler, ext: RunReport) -> dict[str, Any]:
    path = archive_of(crawler).root / "runs" / f"{ext.run_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# --- switched on and off --------------------------------------------------------------------


def test_run_report_enabled_false_switches_it_off(tmp_path: Path) -> None:
    crawler = spider_crawler(tmp_path, RUN_REPORT_ENABLED=False)
    try:
        assert crawler.get_extension(RunReport) is None
        with pytest.raises(NotConfigured, match="RUN_REPORT_ENABLED"):
            build_from_crawler(RunReport, crawler)
    finally:
        close_archive(crawler)


def test_it_is_one_of_the_crawls_extensions(crawler: Crawler, ext: RunReport) -> None:
    assert crawler.get_extension(RunReport) is ext
    assert ext.interval == 0  # the tests' settings: no progress timer
    assert ext.run_id.endswith(f"-{os.getpid()}")


# --- progress -------------------------------------------------------------------------------


def test_the_progress_line_counts_links_done_of_those_scheduled(
    crawler: Crawler, ext: RunReport, caplog: Any
) -> None:
    count(crawler, **{stats.LINKS_SCHEDULED: 10})
    outcomes(crawler, archived=3, gone=1, failed=2)
    with caplog.at_level(logging.INFO, logger="crawler.extensions.report"):
        ext.progress()
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress")]
    assert line.startswith("progress: 6/10 links done (")
    assert line.endswith("/s), 3 archived, 2 failed")


class RecordingLoop:
    """Stands in for twisted's LoopingCall (whose constructor installs the default reactor)."""

    made: ClassVar[list[RecordingLoop]] = []

    def __init__(self, f: Any) -> None:
        self.f = f
        self.running = False
        self.started: tuple[float, bool] | None = None
        RecordingLoop.made.append(self)

    def start(self, interval: float, now: bool = True) -> None:
        self.running, self.started = True, (interval, now)

    def stop(self) -> None:
        self.running = False


def test_progress_lines_start_with_the_spider_and_stop_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_module.task, "LoopingCall", RecordingLoop)
    RecordingLoop.made.clear()
    crawler = spider_crawler(tmp_path, PROGRESS_INTERVAL=30.0)
    try:
        ext = required(crawler, RunReport)
        ext.spider_opened(spider_of(crawler))
        (loop,) = RecordingLoop.made
        assert loop.f == ext.progress
        assert loop.started == (30.0, False) and loop.running
        ext.spider_closed(spider_of(crawler), "finished")
        assert not loop.running
    finally:
        close_archive(crawler)


def test_without_a_progress_interval_no_timer_starts(
    crawler: Crawler, ext: RunReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_module.task, "LoopingCall", RecordingLoop)
    RecordingLoop.made.clear()
    ext.spider_opened(spider_of(crawler))
    assert RecordingLoop.made == [] and ext.loop is None


# --- the report -----------------------------------------------------------------------------


def test_the_report_file_is_written_from_the_crawls_stats(crawler: Crawler, ext: RunReport) -> None:
    count(
        crawler,
        **{
            stats.DIGESTS_READ: 2,
            stats.DIGESTS_UNCHANGED: 1,
            stats.ENTRIES: 7,
            stats.cited("source"): 9,
            stats.cited("related"): 2,
            stats.LINKS_INVALID: 1,
            stats.LINKS_NEW: 8,
            stats.LINKS_SCHEDULED: 8,
            stats.not_fetched(Status.ARCHIVED): 2,
            stats.site_outcome("a.example.com", "archived"): 5,
            stats.site_outcome("a.example.com", "gone"): 1,
            stats.reason("gone", "HTTP 404"): 1,
            stats.retry_reason("http_503"): 2,
            stats.WARC_BYTES: 12345,
            "downloader/response_bytes": 20000,
        },
    )
    outcomes(crawler, archived=5, gone=1)
    verdict = close(crawler, ext)
    assert verdict == {"exit_code": 0, "failures": [], "finish_reason": None}
    report = report_file(crawler, ext)
    assert report["run"] == ext.run_id
    assert report["finish_reason"] == "finished"
    assert report["recovered"] is False
    assert report["failed"] == []
    assert report["digests"] == {
        "read": 2,
        "unchanged": 1,
        "failed": 0,
        "errors": [],
        "rules": {},
        "summaries": [],
    }
    assert report["entries"] == 7
    assert report["links"] == {
        "cited_source": 9,
        "cited_related": 2,
        "cited_digest": 0,
        "invalid": 1,
        "new": 8,
        "scheduled": 8,
        "resumed": 0,
        "already_archived": 2,
        "archived": 5,
        "gone": 1,
        "blocked": 0,
        "failed": 0,
        "skipped": 0,
        "refused": 0,
    }
    assert report["sites"] == {"a.example.com": {"archived": 5, "gone": 1}}
    assert report["retries"] == {"reason/http_503": 2}
    assert report["reasons"] == {"gone/http_404": 1}
    assert report["bytes"] == {"warc": 12345, "downloaded": 20000}
    assert report["archive"] == archive_of(crawler).tally()
    assert report["seconds"] >= 0 and report["started"] <= report["finished"]


def test_the_report_says_when_the_archive_was_recovered_from_a_killed_crawl(
    tmp_path: Path,
) -> None:
    close_archive(spider_crawler(tmp_path))
    holder = {"pid": 999999, "host": "gone-host", "started": "2026-02-05T02:30:00+0000"}
    (tmp_path / "archive" / "crawl.lock").write_text(json.dumps(holder))  # a SIGKILL leaves it
    crawler = spider_crawler(tmp_path)
    try:
        ext = required(crawler, RunReport)
        close(crawler, ext)
        assert report_file(crawler, ext)["recovered"] is True
    finally:
        close_archive(crawler)


def test_the_summary_is_logged(crawler: Crawler, ext: RunReport, caplog: Any) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1, stats.ENTRIES: 3, stats.cited("source"): 3})
    outcomes(crawler, archived=2, blocked=1)
    with caplog.at_level(logging.INFO, logger="crawler.extensions.report"):
        close(crawler, ext)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("summary")]
    assert line.startswith(
        "summary: 1 digest(s) read, 0 unchanged, 0 failed; 3 entries; 3 links cited "
        "(3 source, 0 related, 0 digest, 0 invalid); fetched 3: 2 archived, 0 gone, "
        "1 blocked, "
        "0 failed, 0 skipped, 0 refused; "
    )
    assert line.endswith(f"report {archive_of(crawler).root / 'runs' / ext.run_id}.json")


# --- the verdict: each way a run fails ------------------------------------------------------


def test_a_run_that_read_no_digest_fails(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_FAILED: 2})
    verdict = close(crawler, ext)
    assert verdict == {
        "exit_code": ExitCode.DIGESTS_UNREADABLE,
        "failures": ["no digest could be read"],
        "finish_reason": FAILED_REASON,
    }
    assert report_file(crawler, ext)["failed"] == ["no digest could be read"]


def test_a_run_with_unchanged_digests_only_did_its_job(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_FAILED: 1, stats.DIGESTS_UNCHANGED: 1})
    assert close(crawler, ext)["exit_code"] == 0


def test_a_run_over_max_error_rate_fails(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, archived=1, failed=2)
    verdict = close(crawler, ext)
    assert verdict["exit_code"] == ExitCode.FETCHES_FAILED
    assert verdict["failures"] == ["2 of 3 fetches failed (MAX_ERROR_RATE=0.5)"]
    assert verdict["finish_reason"] == FAILED_REASON


def test_a_run_at_max_error_rate_did_its_job(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, archived=1, failed=1, gone=0)
    assert close(crawler, ext)["exit_code"] == 0


def test_gone_and_blocked_links_do_not_fail_a_run(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, gone=5, blocked=5, refused=1, skipped=1)
    assert close(crawler, ext)["exit_code"] == 0


def test_a_run_whose_archive_writes_failed_fails(crawler: Crawler, ext: RunReport) -> None:
    assert crawler.stats is not None
    stats.note_write_error(crawler.stats, OSError(28, "No space left on device"))
    stats.note_write_error(crawler.stats, OSError(28, "No space left on device"))
    count(crawler, **{stats.DIGESTS_READ: 1})
    verdict = close(crawler, ext)
    assert verdict["exit_code"] == ExitCode.ARCHIVE_UNWRITABLE
    assert verdict["failures"] == [
        "archive unwritable: 2 write(s) failed, first: [Errno 28] No space left on device"
    ]


@pytest.mark.parametrize(
    ("reason", "failed"),
    [
        ("finished", False),
        ("shutdown", False),
        ("closespider_timeout", True),
        ("cancelled", True),
    ],
)
def test_a_crawl_that_ended_early_fails(
    crawler: Crawler, ext: RunReport, reason: str, failed: bool
) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    verdict = close(crawler, ext, reason)
    assert verdict["exit_code"] == (ExitCode.ENDED_EARLY if failed else 0)
    assert verdict["failures"] == ([f"crawl ended early: {reason}"] if failed else [])


def test_a_report_that_cannot_be_written_fails_the_run(
    crawler: Crawler, ext: RunReport, caplog: Any
) -> None:
    (archive_of(crawler).root / "runs").write_text("a file where the folder goes")
    count(crawler, **{stats.DIGESTS_READ: 1})
    with caplog.at_level(logging.INFO, logger="crawler.extensions.report"):
        verdict = close(crawler, ext)
    assert verdict["exit_code"] == ExitCode.ARCHIVE_UNWRITABLE
    (failure,) = verdict["failures"]
    assert failure.startswith("run report not written: [Errno 20] Not a directory")
    assert f"run failed: {failure}" in caplog.text
    assert "report not written (" in caplog.text


def test_every_reason_a_run_failed_is_kept(crawler: Crawler, ext: RunReport) -> None:
    assert crawler.stats is not None
    count(crawler, **{stats.DIGESTS_FAILED: 1})
    outcomes(crawler, failed=1)
    stats.note_write_error(crawler.stats, OSError(30, "Read-only file system"))
    verdict = close(crawler, ext, "closespider_errorcount")
    assert verdict["failures"] == [
        "no digest could be read",
        "1 of 1 fetches failed (MAX_ERROR_RATE=0.5)",
        "archive unwritable: 1 write(s) failed, first: [Errno 30] Read-only file system",
        "crawl ended early: closespider_errorcount",
    ]


def test_a_failed_runs_finish_reason_is_failed_after_scrapys_own(
    crawler: Crawler,
) -> None:
    """Through the crawler's signals, as the engine sends them: Scrapy's CoreStats sets
    finish_reason first (it is built first), the run report then marks the run failed."""
    spider = spider_of(crawler)
    corestats = crawler.get_extension(CoreStats)
    assert corestats is not None
    corestats.spider_opened(spider)
    count(crawler, **{stats.DIGESTS_FAILED: 1})
    answers = crawler.signals.send_catch_log(
        signals.spider_closed, spider=spider, reason="finished"
    )
    assert not [a for _, a in answers if isinstance(a, Failure)], answers
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == FAILED_REASON
    assert crawler.stats.get_value(stats.EXIT_CODE) == ExitCode.DIGESTS_UNREADABLE


def test_a_good_runs_finish_reason_stays_scrapys(crawler: Crawler) -> None:
    spider = spider_of(crawler)
    corestats = crawler.get_extension(CoreStats)
    assert corestats is not None
    corestats.spider_opened(spider)
    count(crawler, **{stats.DIGESTS_READ: 1})
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value(stats.EXIT_CODE) == 0


# --- monitoring: coverage and sites against the previous runs --------------------------------


def earlier_run(crawler: Crawler, n: int, **parts: Any) -> None:
    """A previous crawl's report in runs/ (ids sort before this run's)."""
    from crawler.archive import records

    run = f"2000010{n}T000000Z-{n}"
    archive_of(crawler).write_run_report(run, records.run_report(run, 0.0, 1.0, **parts))


def coverage(articles: int, **fields: int) -> dict[str, Any]:
    return {
        "articles": articles,
        "fields": {f: fields.get(f, articles) for f in ("title", "date", "author", "text")},
    }


def archived_articles(crawler: Crawler, n: int, **fields: int) -> None:
    """This run archived `n` articles, `fields[f]` of them with field f (default: all)."""
    count(crawler, **{stats.COVERAGE_ARTICLES: n})
    for name in ("title", "date", "author", "text"):
        count(crawler, **{stats.coverage(name): fields.get(name, n)})


def test_a_field_found_far_less_often_than_in_earlier_runs_fails_the_run(
    crawler: Crawler, ext: RunReport
) -> None:
    for n in (1, 2, 3):
        earlier_run(crawler, n, coverage=coverage(40, author=38))
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, archived=40)
    archived_articles(crawler, 40, title=8)  # titles stopped being found
    verdict = close(crawler, ext)
    assert verdict["exit_code"] == ExitCode.COVERAGE_DROP
    assert verdict["failures"] == [
        "coverage drop: title found in 20% of 40 archived articles, 100% in the previous 3 "
        "run(s) (MONITOR_COVERAGE_DROP=0.3)"
    ]
    report = report_file(crawler, ext)
    assert report["coverage"]["fields"]["title"] == 8 and report["failure_kinds"] == [
        "coverage_drop"
    ]


def test_coverage_within_the_limit_or_on_small_runs_does_not_fail(
    crawler: Crawler, ext: RunReport
) -> None:
    earlier_run(crawler, 1, coverage=coverage(40))
    earlier_run(crawler, 2, coverage=coverage(5, title=0))  # too small to compare with
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, archived=40)
    archived_articles(crawler, 40, title=30)  # 75%: a fall of 25 points, under 30
    assert close(crawler, ext)["exit_code"] == 0


def test_a_small_run_is_not_compared(crawler: Crawler, ext: RunReport) -> None:
    earlier_run(crawler, 1, coverage=coverage(40))
    count(crawler, **{stats.DIGESTS_READ: 1})
    outcomes(crawler, archived=5)
    archived_articles(crawler, 5, title=0)  # under MONITOR_MIN_ARTICLES (20)
    assert close(crawler, ext)["exit_code"] == 0


def test_a_site_whose_archived_share_fell_fails_the_run(crawler: Crawler, ext: RunReport) -> None:
    wechat = "mp.weixin.qq.com"
    for n in (1, 2):
        earlier_run(
            crawler, n, sites={wechat: {"archived": 18, "failed": 2}, "x.example": {"archived": 3}}
        )
    count(crawler, **{stats.DIGESTS_READ: 1})
    count(
        crawler,
        **{stats.site_outcome(wechat, "archived"): 2, stats.site_outcome(wechat, "blocked"): 18},
    )
    outcomes(crawler, archived=2, blocked=18)
    verdict = close(crawler, ext)
    assert verdict["exit_code"] == ExitCode.COVERAGE_DROP
    assert verdict["failures"] == [
        "site drop: mp.weixin.qq.com archived 10% of 20 fetches, 90% in the previous 2 run(s) "
        "(MONITOR_SITE_DROP=0.5)"
    ]


def test_other_commands_reports_and_damaged_ones_are_no_history(
    crawler: Crawler, ext: RunReport
) -> None:
    from crawler.archive import records

    root = archive_of(crawler).root
    forget = records.forget_report("20000101T000000Z-1", 0, 1, ["d"], {}, pruned=False)
    archive_of(crawler).write_run_report("20000101T000000Z-1", forget)
    (root / "runs" / "20000102T000000Z-2.json").write_text("{not json")
    assert archive_of(crawler).previous_runs(5, before=ext.run_id) == []


def test_monitor_history_0_turns_the_comparison_off(tmp_path: Path) -> None:
    crawler = spider_crawler(tmp_path, MONITOR_HISTORY=0)
    try:
        ext = required(crawler, RunReport)
        earlier_run(crawler, 1, coverage=coverage(40))
        count(crawler, **{stats.DIGESTS_READ: 1})
        archived_articles(crawler, 40, title=0)
        assert close(crawler, ext)["exit_code"] == 0
    finally:
        close_archive(crawler)


# --- the network, and telling the operator --------------------------------------------------


def fetched(ext: RunReport, crawler: Crawler, reason: str, n: int, status: str = "failed") -> None:
    """n stored fetches ending so, as the store and then item_scraped see them."""
    for i in range(n):
        outcomes(crawler, **{status: 1})
        ext.item_scraped(
            FetchOutcome(
                link_id=f"{i:032x}",
                canonical_url=f"https://h{i}.invalid/",
                status=Status(status),
                reason=reason,
            )
        )


def test_most_fetches_not_resolving_say_the_network_looks_unreachable_once(
    crawler: Crawler, ext: RunReport, caplog: Any
) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    with caplog.at_level(logging.WARNING, logger="crawler.extensions.report"):
        fetched(ext, crawler, "DNS lookup failed: no results for hostname lookup: h.invalid.", 8)
        fetched(ext, crawler, "connection refused (2 tries)", 2)
        verdict = close(crawler, ext)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert said == [
        "network looks unreachable: 5 of 5 fetches so far could not resolve their host or "
        "connect to it; check this machine's DNS and connection"
    ]
    assert verdict["exit_code"] == ExitCode.NETWORK_UNREACHABLE
    assert verdict["failures"] == [
        "network looks unreachable: 10 of 10 fetches could not resolve their host or connect; "
        "10 of 10 fetches failed (MAX_ERROR_RATE=0.5)"
    ]


def test_failures_of_the_sites_are_not_the_network(crawler: Crawler, ext: RunReport) -> None:
    count(crawler, **{stats.DIGESTS_READ: 1})
    fetched(ext, crawler, "HTTP 500 (4 tries)", 8)
    fetched(ext, crawler, "DNS lookup failed: gone.example.", 2)
    assert close(crawler, ext)["exit_code"] == ExitCode.FETCHES_FAILED


def test_coverage_counts_archived_articles_fields(crawler: Crawler, ext: RunReport) -> None:
    from crawler.items import Extracted

    def article(**fields: Any) -> FetchOutcome:
        return FetchOutcome(
            link_id="a" * 32,
            canonical_url="https://a.example/",
            status=Status.ARCHIVED,
            extracted=Extracted(**fields),
        )

    ext.item_scraped(article(title="t", text="x", extra={"account": "机器之心"}))
    ext.item_scraped(article(title="t", published="2026-02-05", author="a", text="x"))
    ext.item_scraped(article(extractor="binary"))  # a PDF: not an article to count
    close(crawler, ext)
    assert report_file(crawler, ext)["coverage"] == {
        "articles": 2,
        "fields": {"title": 2, "date": 1, "author": 2, "text": 2},
    }


def test_a_failed_run_is_posted_to_the_webhook(tmp_path: Path, httpserver: Any) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    crawler = spider_crawler(tmp_path, NOTIFY_WEBHOOK=httpserver.url_for("/hook"))
    try:
        ext = required(crawler, RunReport)
        count(crawler, **{stats.DIGESTS_FAILED: 1})
        close(crawler, ext)
        ((request, _),) = httpserver.log
        posted = json.loads(request.get_data())
        assert posted["failure_kinds"] == ["digests_unreadable"] and posted["exit_code"] == 4
        assert posted["run"] == ext.run_id
    finally:
        close_archive(crawler)


def test_a_good_run_is_not_told_unless_always(tmp_path: Path) -> None:
    told = tmp_path / "told"
    for when, expected in (("failure", False), ("always", True)):
        crawler = spider_crawler(tmp_path, NOTIFY_COMMAND=f"cat > {told}", NOTIFY_ON=when)
        try:
            ext = required(crawler, RunReport)
            count(crawler, **{stats.DIGESTS_READ: 1})
            assert close(crawler, ext)["exit_code"] == 0
            assert told.exists() == expected
        finally:
            close_archive(crawler)


def test_a_notification_that_fails_is_logged_and_counted(tmp_path: Path, caplog: Any) -> None:
    crawler = spider_crawler(
        tmp_path,
        NOTIFY_COMMAND="echo mailer down >&2; exit 3",
        NOTIFY_WEBHOOK="http://127.0.0.1:9/nothing",
        NOTIFY_TIMEOUT=5,
    )
    try:
        ext = required(crawler, RunReport)
        count(crawler, **{stats.DIGESTS_FAILED: 1})
        with caplog.at_level(logging.ERROR, logger="crawler.extensions.report"):
            close(crawler, ext)
        assert "NOTIFY_COMMAND exited 3: mailer down" in caplog.text
        assert "NOTIFY_WEBHOOK (127.0.0.1) could not be told" in caplog.text
        assert crawler.stats is not None
        assert crawler.stats.get_value(stats.NOTIFY_FAILED) == 1
    finally:
        close_archive(crawler)


# --- re-checks ------------------------------------------------------------------------------


def test_the_report_counts_rechecks_and_they_count_in_the_error_rate(
    crawler: Crawler, ext: RunReport, caplog: Any
) -> None:
    from crawler.items import Observation, Observed

    count(
        crawler,
        **{
            stats.RECHECKS_DUE: 12,
            stats.RECHECKS_SCHEDULED: 10,
            stats.RECHECKS_NOT_MODIFIED: 2,
            stats.recheck(Observed.UNCHANGED): 1,
            stats.recheck(Observed.UNREACHABLE): 9,
            stats.RECHECKS_FAILED: 9,
        },
    )
    for _ in range(9):  # the network is down: the names do not resolve
        ext.item_scraped(
            Observation(
                "x",
                "https://a.example/",
                Observed.UNREACHABLE,
                0.0,
                reason="DNS lookup failed: a.example",
            )
        )
    with caplog.at_level(logging.INFO, logger="crawler.extensions.report"):
        verdict = close(crawler, ext)
    found = report_file(crawler, ext)["rechecks"]
    assert found["due"] == 12 and found["scheduled"] == 10 and found["not_modified"] == 2
    assert found["unchanged"] == 1 and found["unreachable"] == 9 and found["changed"] == 0
    assert verdict["exit_code"] == ExitCode.NETWORK_UNREACHABLE
    assert "9 of 10 fetches failed" in verdict["failures"][0]
    lines = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("re-checks: 10 of 12 due: 1 unchanged (2 not modified)") for m in lines)


def test_a_run_without_rechecks_reports_zeros(crawler: Crawler, ext: RunReport) -> None:
    outcomes(crawler, archived=2)
    assert close(crawler, ext)["exit_code"] == ExitCode.OK
    found = report_file(crawler, ext)["rechecks"]
    assert set(found.values()) == {0}
    assert set(found) >= {"due", "scheduled", "unchanged", "changed", "gone", "unreachable"}


def test_the_report_counts_digest_links_and_entry_rules(crawler: Crawler, ext: RunReport) -> None:
    """Links of the digest itself, the rule each digest was read by, and its summary."""
    summary = {"source": "d.md", "format": "generic", "structure": "items: ...", "entries": 2}
    count(
        crawler,
        **{
            stats.DIGESTS_READ: 2,
            stats.cited("source"): 2,
            stats.cited("digest"): 3,
            stats.digest_rule("items"): 1,
            stats.digest_rule("headings"): 1,
        },
    )
    assert crawler.stats is not None
    crawler.stats.set_value(stats.DIGESTS_SUMMARIES, [summary])
    close(crawler, ext)
    report = report_file(crawler, ext)
    assert report["links"]["cited_digest"] == 3
    assert report["digests"]["rules"] == {"headings": 1, "items": 1}
    assert report["digests"]["summaries"] == [summary]
