"""A disk that fills up mid-run: a clear error, a failed exit, nothing archived lost."""

from __future__ import annotations

import hashlib
import random
import resource
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import (
    CRAWL_ENV,
    REPO,
    article_html,
    citations,
    crawl_args,
    quick_digest,
    run_crawl,
    sentences,
    verify,
)


def _digest(folder: Path, name: str, base: str, pages: range) -> None:
    quick_digest(folder / name, ((f"第{n}篇", f"{base}/p/{n}.html") for n in pages))


def _files(archive: Path) -> dict[str, str]:
    return {
        str(p.relative_to(archive)): hashlib.sha256(p.read_bytes()).hexdigest()
        for sub in ("digests", "links", "articles", "warc")
        for p in (archive / sub).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def test_disk_full_fails_the_run_clearly_and_loses_nothing(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    noise = random.Random(7)
    for n in range(8):
        text = sentences(f"主题{n}", 4)
        if n >= 3:  # large, hard to compress: these records do not fit on the small disk
            text += [
                "".join(chr(noise.randint(0x4E00, 0x9FA5)) for _ in range(3000)) for _ in range(10)
            ]
        body = article_html(f"第{n}篇", text)
        server.expect_request(f"/p/{n}.html").respond_with_data(
            body, content_type="text/html; charset=utf-8"
        )
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    digests.mkdir()
    _digest(digests, "a.md", base, range(3))
    archive = tmp_path / "archive"
    assert run_crawl(archive, digests).returncode == 0
    before = _files(archive)

    _digest(digests, "b.md", base, range(3, 8))
    limit = 256 * 1024  # no file may grow past 256 KB: the new pages' records do not fit

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = subprocess.run(
        crawl_args(archive, digests),
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
        check=False,
    )
    assert full.returncode == 6, full.stderr[-3000:]  # ExitCode.ARCHIVE_UNWRITABLE
    assert "archive write failed" in full.stderr
    assert "archive unwritable" in full.stderr

    after = _files(archive)
    assert {k: after.get(k) for k in before} == before  # nothing archived was altered
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]

    # with room again, the next run finishes the job
    again = run_crawl(archive, digests)
    assert again.returncode == 0, again.stderr[-3000:]
    rows = citations(archive)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"archived"}
