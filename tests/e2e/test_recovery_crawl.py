"""A crawl killed mid-write whose WARC file is also damaged early on: the next crawl cuts only
the dead writer's unfinished tail; every sound record after the damage stays; verify names the
damaged record alone; repair and one more crawl leave every link archived and the archive sound.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.archive.warcread import scan
from tests.conftest import CRAWL_ENV, REPO, citations, crawl_args, run_crawl, verify
from tests.e2e.faultserver import FaultServer
from tests.e2e.test_faults import write_digest

PAGES = 60


@pytest.mark.slow
def test_a_killed_crawl_with_early_damage_keeps_every_sound_record(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with FaultServer() as server:
        digests = write_digest(
            tmp_path / "digests", [server.url(f"/slow/0.15/p{n}") for n in range(PAGES)]
        )
        proc = subprocess.Popen(
            crawl_args(archive, digests, CONCURRENT_REQUESTS_PER_DOMAIN="4"),
            cwd=REPO,
            env=CRAWL_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(200):  # until a good part of the crawl is in its WARC file
            time.sleep(0.05)
            files = list((archive / "warc").glob("*.warc.gz"))
            if files and files[0].stat().st_size > 40_000:
                break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        (dead,) = (archive / "warc").glob("*.warc.gz")
        members = [m for m in scan(dead) if not m.damaged]
        # damage a response record early in the file, as a bad sector would
        early = next(m for m in members[3:] if m.headers.get("warc-type") == "response")
        data = bytearray(dead.read_bytes())
        data[early.offset + early.length // 2] ^= 0xFF
        dead.write_bytes(bytes(data))

        second = run_crawl(archive, digests, timeout=180)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "recovering" in second.stderr
        kept = [m.offset for m in scan(dead) if not m.damaged]
        assert set(kept) == {m.offset for m in members} - {early.offset}  # none lost
        problems = verify(archive).stdout.splitlines()[:-1]
        assert problems and all(f":{early.offset}" in p for p in problems), problems

        fixed = subprocess.run(
            [sys.executable, "-m", "crawler.archive", "repair", "--apply", str(archive)],
            cwd=REPO,
            env=CRAWL_ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "quarantine" in fixed.stdout, fixed.stdout + fixed.stderr
        third = run_crawl(archive, digests, timeout=180)
        assert third.returncode == 0, third.stderr[-3000:]
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]
    rows = citations(archive)
    assert len(rows) == PAGES and {r["status"] for r in rows} == {"archived"}
