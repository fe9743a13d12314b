"""Other tools read what we write: a standard indexer (cdxj-indexer, as pywb uses) finds our
records where our pointers say they are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import article_html, citations, quick_digest, run_crawl, sentences


def test_cdxj_indexer_finds_every_archived_page_at_our_pointer(
    robots_ok: Any, tmp_path: Path
) -> None:
    server = robots_ok
    for n in range(3):
        server.expect_request(f"/news/{n}.html").respond_with_data(
            article_html(f"新闻{n}", sentences(f"新闻{n}")),
            content_type="text/html; charset=utf-8",
        )
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    digests.mkdir()
    quick_digest(digests / "d.md", ((f"新闻{n}", f"{base}/news/{n}.html") for n in range(3)))
    archive = tmp_path / "archive"
    assert run_crawl(archive, digests).returncode == 0

    warcs = sorted(str(p) for p in (archive / "warc").glob("*.warc.gz"))
    out = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", "--dir-root", str(archive), *warcs],
        capture_output=True,
        text=True,
        check=True,
    )
    index: dict[tuple[str, int], dict[str, Any]] = {}
    for line in out.stdout.splitlines():
        _surt, _ts, blob = line.split(" ", 2)
        entry = json.loads(blob)
        index[(entry["url"], int(entry["offset"]))] = entry

    rows = citations(archive)
    assert len(rows) == 3
    for row in rows:
        ptr = row["original"]
        entry = index[(row["canonical_url"], ptr["offset"])]
        assert entry["filename"] == ptr["warc"]
        assert int(entry["length"]) == ptr["length"]
        assert entry["status"] == "200" and entry["mime"] == "text/html"
    # the digest itself is indexed as a resource record
    assert any(url.startswith("file://") for url, _ in index)
