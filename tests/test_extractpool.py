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


#: A worker that answers each page after sleeping the seconds its URL names (…/sleep/<s>).
SLEEPER = (
    sys.executable,
    "-c",
    "import pickle, struct, sys, time\n"
    "from crawler.items import Extracted\n"
    "out = sys.stdout.buffer\n"
    "while head := sys.stdin.buffer.read(4):\n"
    "    url, body, ctype = pickle.loads(sys.stdin.buffer.read(struct.unpack('>I', head)[0]))\n"
    "    time.sleep(float(url.rsplit('/', 1)[1]))\n"
    "    reply = pickle.dumps((Extracted(title=url), 10.0))\n"
    "    out.write(struct.pack('>I', len(reply)) + reply); out.flush()\n",
)


def test_the_timeout_counts_from_when_the_worker_starts_a_page() -> None:
    """Three pages of 1.2 s each in one worker's pipe: the last is answered 3.6 s after it
    was sent, yet none took longer than the 2 s timeout to read; a 3 s page does."""

    async def run() -> list[object]:
        pool = ExtractionPool(1, timeout=2, command=SLEEPER)
        try:
            pages = [pool.extract(f"https://example.com/sleep/{s}", b"x", None) for s in "111"]
            queued = await asyncio.gather(*pages)
            slow = await pool.extract("https://example.com/sleep/3", b"x", None)
            return [*queued, slow]
        finally:
            await pool.close()

    *queued, slow = asyncio.run(run())
    assert [r.title for r in queued] == [f"https://example.com/sleep/{s}" for s in "111"]
    assert slow.status == "failed" and slow.reason == "extraction took longer than 2 s"


def test_a_page_that_needs_more_memory_than_the_ceiling_fails_with_that_reason() -> None:
    from crawler.items import Extracted

    body = b"<html><body><p>" + "一段不长的文字。".encode() * 200 + b"</p></body></html>"
    # 9 MB of text in a few tags: within every bound, but tens of MB once decoded and parsed
    big = b"<html><body><p>" + "很长的段落，".encode() * 500_000 + b"</p></body></html>"

    async def run() -> tuple[Extracted, Extracted, int]:
        pool = ExtractionPool(1, timeout=120, memory_mb=110, recycle_mb=1000)
        try:
            failed = await pool.extract("https://example.com/big", big, "text/html")
            after = await pool.extract("https://example.com/small", body, "text/html")
            return failed, after, pool.recycled
        finally:
            await pool.close()

    failed, after, recycled = asyncio.run(run())
    assert failed.status == "failed"
    assert "needs more than EXTRACT_WORKER_MEMORY (110 MB)" in str(failed.reason), failed
    assert recycled == 1  # the worker that ran out was replaced before the next page
    assert after.status == "archived"


def test_a_worker_is_replaced_after_max_pages_or_over_its_memory() -> None:
    url, body = fixture_pages()[0]

    async def run(**limits: int) -> tuple[set[int], int]:
        pool = ExtractionPool(1, timeout=60, **limits)
        pids = set()
        try:
            for _ in range(3):
                await pool.extract(url, body, "text/html")
                pids.update(pool.pids())
            return pids, pool.recycled
        finally:
            await pool.close()

    assert asyncio.run(run(max_pages=1))[1] == 2
    pids, recycled = asyncio.run(run(recycle_mb=1))  # every worker holds more than 1 MB
    assert recycled == 2 and len(pids) == 3
    pids, recycled = asyncio.run(run(max_pages=100, recycle_mb=1000))
    assert recycled == 0 and len(pids) == 1


def test_a_worker_dies_with_its_parent_even_mid_page(tmp_path: Path) -> None:
    """The crawl SIGKILLed while its worker reads a long page: the worker goes too."""
    import signal
    import subprocess
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys\n"
        "from crawler.extractpool import ExtractionPool\n"
        "async def main():\n"
        "    pool = ExtractionPool(1)\n"
        "    page = b'<html><body>' + b'<p>' + b'a ' * 10 + b'</p>' + b'</body></html>'\n"
        "    await pool.extract('https://example.com/x', page, 'text/html')\n"
        "    print(pool.pids()[0], flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        if not alive(child):
            break
        time.sleep(0.05)
    assert not alive(child)


def test_pages_larger_than_the_byte_budget_still_go_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However large, a page goes when nothing else is held: no page waits for ever."""
    import crawler.extractpool as pool_module

    monkeypatch.setattr(pool_module, "QUEUED_BYTES", 1_000_000)

    async def run() -> list[object]:
        pool = ExtractionPool(1, timeout=30, command=SLEEPER)
        try:
            big = b"x" * 1_500_000
            urls = [f"https://example.com/{n}/sleep/0.1" for n in range(4)]
            return list(await asyncio.gather(*(pool.extract(u, big, None) for u in urls)))
        finally:
            await pool.close()

    assert [r.status for r in asyncio.run(run())] == ["archived"] * 4


def test_the_byte_budget_holds_back_a_page_that_does_not_fit() -> None:
    import crawler.extractpool as pool_module

    async def run() -> tuple[bool, bool]:
        pool = ExtractionPool(1, timeout=30, command=SLEEPER)
        pool._free()
        budget = pool_module.QUEUED_BYTES
        async with pool._room(budget - 10):
            second = asyncio.ensure_future(pool._room(100).__aenter__())
            await asyncio.sleep(0.1)
            held_back = not second.done()
        await asyncio.wait_for(second, 5)
        return held_back, second.done()

    assert asyncio.run(run()) == (True, True)
