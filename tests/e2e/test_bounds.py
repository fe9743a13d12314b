"""Runaway pages: a crawl of hostile pages stays within the documented memory ceiling.

A page of 130,000 links, ten gzip bombs in a row (256 MiB each, over DOWNLOAD_MAXSIZE), three
bombs under it (30 MiB of HTML from a few KB), 10 MB of nested tags; one extraction worker, as
on this 2-core machine. The whole process tree (crawl and worker) is sampled every 0.1 s.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from bench.measure import descendants, memory
from tests.conftest import CRAWL_ENV, REPO, citations, crawl_args
from tests.e2e.faultserver import FaultServer, gzip_bomb, inflating
from tests.e2e.test_faults import assert_every_link_accounted, write_digest

#: The ceiling README.md documents for the crawl's process tree, in MB.
CEILING_MB = 500

HOSTILE = [
    "/links/130000/links",
    *(f"/gzipbomb/bomb{n}" for n in range(10)),
    *(f"/inflate/30/inflate{n}" for n in range(3)),
    "/nested/10240/nested",
    "/article/plain",
]


class TreeSampler(threading.Thread):
    """Peak RSS of a process and its descendants, sampled until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            pids = [self.pid, *descendants(self.pid)]
            self.peak = max(self.peak, sum(memory(pid)[0] for pid in pids))


@pytest.mark.slow
def test_hostile_pages_keep_the_process_tree_under_its_ceiling(tmp_path: Path) -> None:
    gzip_bomb()
    inflating(30)
    with FaultServer() as server:
        digests = write_digest(tmp_path / "digests", [server.url(p) for p in HOSTILE])
        args = crawl_args(
            tmp_path / "archive",
            digests,
            EXTRACT_WORKERS="1",
            CONCURRENT_REQUESTS_PER_DOMAIN="16",
            DOWNLOAD_TIMEOUT="60",
        )
        proc = subprocess.Popen(
            args, cwd=REPO, env=CRAWL_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _, stderr = proc.communicate(timeout=600)
        finally:
            sampler.done.set()
            sampler.join()
        rows = {r["url"].rsplit("/", 1)[-1]: r for r in citations(tmp_path / "archive")}
    assert proc.returncode == 0, stderr.decode()[-3000:]
    assert sampler.peak / 1e6 < CEILING_MB, sampler.peak / 1e6
    assert len(rows) == len(HOSTILE)
    assert_every_link_accounted(list(rows.values()))
    assert {rows[f"bomb{n}"]["status"] for n in range(10)} == {"skipped"}
    assert rows["links"]["status"] == "archived" and rows["plain"]["status"] == "archived"
    assert {rows[f"inflate{n}"]["status"] for n in range(3)} == {"archived"}
    print(f"hostile pages: peak RSS of the tree {sampler.peak / 1e6:.0f} MB")
