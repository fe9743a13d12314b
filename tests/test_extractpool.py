"""The extraction worker pool: real child processes, real pages, dying and hanging children."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from crawler.extractors import extract
from crawler.extractpool import ExtractionPool

PAGES = Path(__file__).parent / "fixtures" / "pages"


def fixture_pages() -> list[tuple[str, bytes]]:
    pages = []
    for path in sorted(PAGES.glob("*/*.html")):
        pages.append((f"https://{path.parent.name}/{path.stem}", path.read_bytes()))
    return pages


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: look at its state
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_pool_reads_pages_as_the_crawl_thread_would() -> None:
    pages = fixture_pages()
    assert len(pages) >= 10

    async def run() -> list[object]:
        pool = ExtractionPool(2, timeout=60)
        try:
            return list(
                await asyncio.gather(*(pool.extract(url, body, "text/html") for url, body in pages))
            )
        finally:
            await pool.close()

    results = asyncio.run(run())
    assert results == [extract(url, body, "text/html") for url, body in pages]


def test_a_killed_worker_is_replaced_and_close_stops_the_children() -> None:
    url, body = fixture_pages()[0]

    async def run() -> tuple[list[int], list[int], object]:
        pool = ExtractionPool(1, timeout=60)
        await pool.extract(url, body, "text/html")
        first = pool.pids()
        os.kill(first[0], 9)
        await asyncio.sleep(0.2)
        result = await pool.extract(url, body, "text/html")
        second = pool.pids()
        await pool.close()
        return first, second, result

    first, second, result = asyncio.run(run())
    assert result.status == "archived"
    assert len(first) == len(second) == 1 and first != second
    assert not alive(second[0])


def test_a_worker_that_dies_on_a_page_twice_fails_that_page_only() -> None:
    dies = (sys.executable, "-c", "import sys; sys.stdin.buffer.read(4); sys.exit(3)")

    async def run() -> object:
        pool = ExtractionPool(1, timeout=10, command=dies)
        try:
            return await pool.extract("https://example.com/a", b"<html>x</html>", "text/html")
        finally:
            await pool.close()

    result = asyncio.run(run())
    assert result.status == "failed"
    assert result.reason == "extraction worker died"


def test_a_hanging_page_times_out_and_the_pool_goes_on() -> None:
    hangs = (sys.executable, "-c", "import time; time.sleep(60)")
    url, body = fixture_pages()[0]

    async def run() -> tuple[object, list[int]]:
        pool = ExtractionPool(1, timeout=0.5, command=hangs)
        try:
            result = await pool.extract(url, body, "text/html")
            return result, pool.pids()
        finally:
            await pool.close()

    result, pids = asyncio.run(run())
    assert result.status == "failed"
    assert result.reason == "extraction took longer than 0.5 s"
    assert pids == []  # the hung child was killed


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        ExtractionPool(0)
