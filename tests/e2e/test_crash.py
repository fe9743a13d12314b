"""Crash safety: a crawl SIGKILLed at several points, restarted, ends complete and sound."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

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

PAGES = 120


def _page(request: Request) -> Response:
    time.sleep(0.1)  # a crawl long enough to be killed in the middle
    n = request.path.rsplit("/", 1)[-1].split(".")[0]
    return Response(
        article_html(f"第{n}篇文章", sentences(f"主题{n}", 4)),
        content_type="text/html; charset=utf-8",
    )


def _start(archive: Path, digests: Path) -> subprocess.Popen[bytes]:
    args = crawl_args(archive, digests, CONCURRENT_REQUESTS_PER_DOMAIN=8, EXTRACT_WORKERS=1)
    return subprocess.Popen(
        args,
        cwd=REPO,
        env=CRAWL_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.slow
def test_sigkill_at_several_points_then_restart_ends_complete_and_sound(
    robots_ok: Any, tmp_path: Path
) -> None:
    server = robots_ok
    for n in range(PAGES):
        server.expect_request(f"/p/{n}.html").respond_with_handler(_page)
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    digests.mkdir()
    per = PAGES // 3
    for d in range(3):
        links = ((f"第{n}篇", f"{base}/p/{n}.html") for n in range(d * per, (d + 1) * per))
        quick_digest(digests / f"d{d}.md", links, heading=f"日报 {d}")
    archive = tmp_path / "archive"

    kills = 0
    for delay in (1.5, 2.5, 3.5, 4.5):
        proc = _start(archive, digests)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 2, "the crawl finished before it could be killed: make it slower"

    final = run_crawl(archive, digests, timeout=300)
    assert final.returncode == 0, final.stderr[-3000:]
    assert "did not stop cleanly" in final.stderr or "recover" in final.stderr.lower()

    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]
    rows = citations(archive)
    assert len(rows) == PAGES
    assert {r["status"] for r in rows} == {"archived"}
    links = list((archive / "links").glob("*/*.json"))
    articles = list((archive / "articles").glob("*/*.json"))
    assert len(links) == PAGES and len(articles) == PAGES
    assert len({r["canonical_url"] for r in rows}) == PAGES
