"""Distributed mode: two crawler processes share one Redis frontier and one archive."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
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
    sentences,
    verify,
)

PAGES = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on a free loopback port, for this test only."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _page(request: Request) -> Response:
    time.sleep(0.02)
    n = request.path.rsplit("/", 1)[-1].split(".")[0]
    return Response(
        article_html(f"分布式第{n}篇", sentences(f"分布式{n}", 3)),
        content_type="text/html; charset=utf-8",
    )


@pytest.mark.slow
def test_two_processes_fetch_each_url_once_into_one_sound_archive(
    robots_ok: Any, redis_url: str, tmp_path: Path
) -> None:
    server = robots_ok
    for n in range(PAGES):
        server.expect_request(f"/p/{n}.html").respond_with_handler(_page)
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    digests.mkdir()
    for d in range(3):
        links = ((f"第{n}篇", f"{base}/p/{n}.html") for n in range(d, PAGES, 3))
        quick_digest(digests / f"d{d}.md", links, heading=f"日报 {d}")
    archive = tmp_path / "archive"
    run = f"test-{uuid.uuid4().hex[:8]}"
    args = crawl_args(
        archive, digests, REDIS_URL=redis_url, DISTRIBUTED_RUN=run, CONCURRENT_REQUESTS_PER_DOMAIN=4
    )
    procs = [
        subprocess.Popen(
            args,
            cwd=REPO,
            env=CRAWL_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[1] for p in procs]
    for proc, err in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]

    fetched = Counter(req.path for req, _ in server.log if req.path.startswith("/p/"))
    assert len(fetched) == PAGES
    assert set(fetched.values()) == {1}, [p for p, c in fetched.items() if c > 1][:5]
    # both processes took part
    reports = [json.loads(p.read_text()) for p in (archive / "runs").glob("*.json")]
    per_process = [r["links"]["archived"] for r in reports]
    assert sum(per_process) == PAGES and min(per_process) > 0, per_process

    rows = citations(archive)
    assert len(rows) == PAGES and {r["status"] for r in rows} == {"archived"}
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert len({p.name.rsplit("-", 1)[-1] for p in (archive / "warc").glob("*.warc.gz")}) == 2


def test_a_second_run_of_the_same_name_retries_what_failed_and_the_keys_expire(
    robots_ok: Any, redis_url: str, tmp_path: Path
) -> None:
    """Two runs on one day share the run name (the UTC date): the second fetches the links
    the first could not, not the ones it archived; the run's keys carry REDIS_KEYS_TTL."""
    import redis

    server = robots_ok
    broken = {"on": True}

    def flaky(request: Request) -> Response:
        if broken["on"]:
            return Response("down", status=500)
        return _page(request)

    for n in range(5):
        server.expect_request(f"/p/{n}.html").respond_with_handler(_page)
    server.expect_request("/p/5.html").respond_with_handler(flaky)
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    quick_digest(digests / "d.md", ((f"第{n}篇", f"{base}/p/{n}.html") for n in range(6)))
    archive = tmp_path / "archive"
    run = f"test-{uuid.uuid4().hex[:8]}"
    settings = {
        "REDIS_URL": redis_url,
        "DISTRIBUTED_RUN": run,
        "REDIS_KEYS_TTL": "600",
        "RETRY_TIMES": "0",
    }

    first = subprocess.run(
        crawl_args(archive, digests, **settings),
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    client = redis.Redis.from_url(redis_url)
    ttl = client.ttl(f"sources:{run}:dupefilter")
    assert 0 < ttl <= 600
    assert {r["status"] for r in citations(archive)} == {"archived", "failed"}

    broken["on"] = False
    second = subprocess.run(
        crawl_args(archive, digests, **settings),
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    fetched = Counter(req.path for req, _ in server.log if req.path.startswith("/p/"))
    assert fetched == {**{f"/p/{n}.html": 1 for n in range(5)}, "/p/5.html": 2}
    assert {r["status"] for r in citations(archive)} == {"archived"}
    assert verify(archive).returncode == 0
