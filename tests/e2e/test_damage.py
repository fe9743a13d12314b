"""Damaged records and colliding digest names, crawled through: nothing lost, all reported.

Two folders hold digests of the same file names. A first crawl records both; then a link and
an article record are cut short. The next crawl (a changed digest citing the damaged link
again) carries on around them: it exits 0, names the damaged files in its log and run report,
and rebuilds the link it writes. `citations` says its output is incomplete while the article
is damaged; `repair --apply` rebuilds it from its original, and the archive verifies clean.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import CRAWL_ENV, REPO, citations, quick_digest, run_crawl, verify
from tests.e2e.faultserver import FaultServer
from tests.e2e.test_faults import assert_every_link_accounted


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.archive", *args],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        check=False,
    )


def test_damaged_records_and_twin_digest_names_lose_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    digests = tmp_path / "digests"
    with FaultServer() as server:
        a = [server.url(f"/article/a{n}") for n in range(3)]
        b = [server.url(f"/article/b{n}") for n in range(3)]
        quick_digest(digests / "morning" / "daily.md", [(f"甲{n}", u) for n, u in enumerate(a)])
        quick_digest(digests / "evening" / "daily.md", [(f"乙{n}", u) for n, u in enumerate(b)])
        first = run_crawl(archive, digests)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "Traceback" not in first.stderr
        rows = {r["url"]: r for r in citations(archive)}
        assert len(rows) == 6 and {r["status"] for r in rows.values()} == {"archived"}
        ids = {r["digest"] for r in rows.values()}
        assert len(ids) == 2 and "daily" in ids  # one digest each, neither dropped
        assert len(list((archive / "digests").glob("*.json"))) == 2

        link = archive / rows[a[0]]["link"]
        article = archive / rows[b[1]]["article"]
        link.write_text(link.read_text()[:60])
        article.write_text(article.read_text()[:-80])

        # the morning digest changes: it cites the damaged link again, and one more
        quick_digest(
            digests / "morning" / "daily.md",
            [(f"甲{n}", u) for n, u in enumerate([*a, server.url("/article/a3")])],
        )
        second = run_crawl(archive, digests)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "Traceback" not in second.stderr
        assert link.name in second.stderr  # named in the log
        report = json.loads(sorted((archive / "runs").glob("*.json"))[-1].read_text())
        assert any(
            line.startswith(f"links/{link.parent.name}/{link.name}") for line in report["damaged"]
        )
        assert "'sources/archive/damaged_records': 1" in second.stderr

    # the link was rebuilt where it was written: archived, cited by the digest
    after = json.loads(link.read_text())
    assert after["status"] == "archived" and after["cited_by"]
    assert list((archive / "quarantine").rglob(f"{link.name}.*"))

    out = _command("citations", str(archive))
    assert out.returncode == 1 and article.name in out.stderr  # incomplete, and says why
    assert len(out.stdout.splitlines()) == 7

    fixed = _command("repair", "--apply", str(archive))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]
    rows = {r["url"]: r for r in citations(archive)}  # exits 0 now
    assert len(rows) == 7
    assert_every_link_accounted(list(rows.values()))
    assert {r["status"] for r in rows.values()} == {"archived"}
    assert rows[b[1]]["title"] and rows[b[1]]["text_chars"] > 100
