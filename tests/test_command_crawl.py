"""`crawler.commands.crawl` in process: a crawl that cannot start is told in one line and exits
1; a crawl that ran exits with the verdict its run report put into the stats.

`Command.run` starts the reactor through its crawler process, which cannot happen in the test
process more than once; here the process stands in (its `crawl` gives a finished Deferred or
Future, its `start` returns at once) around a real project crawler. The subprocess runs are in
tests/e2e/test_crawl.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from twisted.internet import defer

from crawler import stats
from crawler.archive.lock import ArchiveError
from crawler.commands import crawl
from crawler.commands.crawl import STARTUP_ERRORS, Command
from crawler.digests.sources import InputError
from spiders.sources import SourcesSpider
from tests.conftest import close_archive, project_crawler


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = project_crawler(tmp_path, SourcesSpider)
    yield crawler
    close_archive(crawler)


def finished_future(exc: BaseException | None = None) -> asyncio.Future[Any]:
    """A crawl start as AsyncCrawlerProcess.crawl returns it: failed with `exc`, or done."""
    future: asyncio.Future[Any] = asyncio.new_event_loop().create_future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
    return future


def run_callbacks(future: asyncio.Future[Any]) -> None:
    """Let the loop of `future` run the done callbacks added to it."""
    loop = future.get_loop()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()


def lock_is_free(tmp_path: Path) -> bool:
    """Another crawl may open the archive (the lock was released)."""
    try:
        close_archive(project_crawler(tmp_path))
    except ArchiveError:
        return False
    return True


# --- _watch: errors that stop a crawl from starting -----------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        InputError("digests path /nowhere does not exist"),
        ArchiveError("archive /a is held by another crawl (pid 1 on h); wait for it to finish"),
        PermissionError(13, "Permission denied"),
    ],
    ids=["input", "archive", "os"],
)
def test_a_startup_error_is_told_in_one_line(
    crawler: Crawler, tmp_path: Path, capsys: Any, exc: BaseException
) -> None:
    assert isinstance(exc, STARTUP_ERRORS)
    errors: list[BaseException] = []
    future = finished_future(exc)
    crawl._watch(future, errors, crawler)
    run_callbacks(future)
    assert errors == [exc]
    assert capsys.readouterr().err == f"error: {exc}\n"
    # the archive the extension had opened is closed again: no stale lock
    assert lock_is_free(tmp_path)


def test_a_startup_error_from_a_deferred_is_told_in_one_line(
    crawler: Crawler, tmp_path: Path, capsys: Any
) -> None:
    exc = InputError("digests glob /x/*.md matches no file")
    errors: list[BaseException] = []
    crawl._watch(defer.fail(exc), errors, crawler)
    assert errors == [exc]
    assert capsys.readouterr().err == f"error: {exc}\n"
    assert lock_is_free(tmp_path)


def test_an_unexpected_startup_error_is_logged_with_its_traceback(
    crawler: Crawler, capsys: Any, caplog: Any
) -> None:
    exc = RuntimeError("a bug in a component")
    errors: list[BaseException] = []
    with caplog.at_level(logging.ERROR, logger="crawler.commands.crawl"):
        crawl._watch(defer.fail(exc), errors, crawler)
    assert errors == [exc]
    assert capsys.readouterr().err == ""
    (record,) = caplog.records
    assert record.getMessage() == "the crawl could not start"
    assert record.exc_info is not None and record.exc_info[1] is exc


def test_a_startup_error_before_the_extensions_exist_is_still_told(
    tmp_path: Path, capsys: Any
) -> None:
    """The archive was never opened: there is nothing to close."""
    bare = Crawler(SourcesSpider, {"ARCHIVE_DIR": str(tmp_path / "archive")})
    errors: list[BaseException] = []
    exc = InputError("no digests given")
    crawl._watch(defer.fail(exc), errors, bare)
    assert errors == [exc]
    assert capsys.readouterr().err == "error: no digests given\n"


def test_a_crawl_that_started_is_not_an_error(crawler: Crawler, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    crawl._watch(defer.succeed(None), errors, crawler)
    future = finished_future()
    crawl._watch(future, errors, crawler)
    run_callbacks(future)
    assert errors == []
    assert not lock_is_free(tmp_path)  # the crawl's archive stays open for the crawl


def test_a_cancelled_start_is_not_taken_for_an_error(crawler: Crawler, capsys: Any) -> None:
    """Asking a cancelled future for its exception would raise: the watch does not."""
    future: asyncio.Future[Any] = asyncio.new_event_loop().create_future()
    future.cancel()
    errors: list[BaseException] = []
    crawl._watch(future, errors, crawler)
    run_callbacks(future)
    assert errors == []
    assert capsys.readouterr().err == ""


# --- run: the exit code ---------------------------------------------------------------------


class StandInProcess:
    """Scrapy's crawler process, as far as the command uses it, around a real crawler."""

    def __init__(self, crawler: Crawler, started: Any = None, bootstrap_failed: bool = False):
        self.crawler = crawler
        self.started = started if started is not None else defer.succeed(None)
        self.bootstrap_failed = bootstrap_failed
        self.crawled: list[tuple[Crawler, dict[str, Any]]] = []
        self.ran = False

    def create_crawler(self, spidercls: Any) -> Crawler:
        assert spidercls == "sources"
        return self.crawler

    def crawl(self, crawler: Crawler, **kwargs: Any) -> Any:
        self.crawled.append((crawler, kwargs))
        return self.started

    def start(self) -> None:
        self.ran = True


def command(process: StandInProcess) -> Command:
    cmd = Command()
    cmd.crawler_process = process  # type: ignore[assignment]
    return cmd


def options(**spargs: str) -> argparse.Namespace:
    return argparse.Namespace(spargs=spargs)


@pytest.mark.parametrize("code", [0, 1])
def test_a_crawl_that_ran_exits_with_its_verdict(crawler: Crawler, code: int) -> None:
    assert crawler.stats is not None
    crawler.stats.set_value(stats.EXIT_CODE, code)  # what the run report decided
    process = StandInProcess(crawler)
    cmd = command(process)
    cmd.run(["sources"], options(digests="a.md"))
    assert process.ran
    assert process.crawled == [(crawler, {"digests": "a.md"})]
    assert cmd.exitcode == code


def test_a_crawl_without_a_verdict_exits_0(crawler: Crawler) -> None:
    """RUN_REPORT_ENABLED=False: nothing decides, the crawl exits 0 whatever happened."""
    cmd = command(StandInProcess(crawler))
    cmd.run(["sources"], options())
    assert cmd.exitcode == 0


def test_a_crawl_that_could_not_start_exits_1(crawler: Crawler, capsys: Any) -> None:
    assert crawler.stats is not None
    crawler.stats.set_value(stats.EXIT_CODE, 0)
    started = defer.fail(InputError("digests path /nowhere does not exist"))
    cmd = command(StandInProcess(crawler, started=started))
    cmd.run(["sources"], options())
    assert cmd.exitcode == 1
    assert capsys.readouterr().err == "error: digests path /nowhere does not exist\n"


def test_a_crawl_whose_bootstrap_failed_exits_1(crawler: Crawler) -> None:
    cmd = command(StandInProcess(crawler, bootstrap_failed=True))
    cmd.run(["sources"], options())
    assert cmd.exitcode == 1


@pytest.mark.parametrize("args", [[], ["sources", "other"]])
def test_exactly_one_spider_is_asked_for(crawler: Crawler, args: list[str]) -> None:
    process = StandInProcess(crawler)
    with pytest.raises(UsageError, match="give exactly one spider"):
        command(process).run(args, options())
    assert not process.ran
