"""`Archive.forget` and `python -m crawler.archive forget`: digests taken back out of an archive,
what nothing else cites marked unreferenced (or pruned), recorded in runs/, verify clean."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.archive import Archive
from crawler.archive.verify import verify
from crawler.items import Digest, Entry, Link, Role
from crawler.urls import url_id
from tests.conftest import CRAWL_ENV, REPO, record_fetch

SHARED = "https://a.example/shared.html"  # cited by both digests
ONLY = "https://a.example/only.html"  # cited by the typo's digest alone, archived
FAILED = "https://a.example/failed.html"  # cited by it alone, failed
TWIN = "https://a.example/twin.html"  # cited by it alone; same text as SHARED's page


def _digest(digest_id: str, urls: list[str]) -> Digest:
    links = [Link(url=u, role=Role.SOURCE, canonical_url=u, link_id=url_id(u)) for u in urls]
    return Digest(
        id=digest_id,
        source=f"/digests/{digest_id}.md",
        sha256=digest_id.encode().hex().ljust(64, "0")[:64],
        format="generic",
        entries=[Entry(position=1, title="e", links=links)],
    )


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """Two digests: `kept` and `typo` (the examples crawled by mistake)."""
    opened = Archive(tmp_path / "archive").open()
    opened.record_digest(_digest("kept", [SHARED]), b"# kept\n", time.time())
    opened.record_digest(_digest("typo", [SHARED, ONLY, FAILED, TWIN]), b"# typo\n", time.time())
    record_fetch(opened, SHARED, status="archived", text="shared text", body_sha256="1" * 64)
    record_fetch(opened, ONLY, status="archived", text="only text", body_sha256="2" * 64)
    record_fetch(opened, FAILED, status="failed", reason="HTTP 500")
    record_fetch(opened, TWIN, status="archived", text="shared text", body_sha256="3" * 64)
    yield opened
    opened.close()


def _link(archive: Archive, url: str) -> dict[str, object] | None:
    return archive.link_record(url_id(url))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*.json")
        if "runs" not in p.parts
    }


def test_forget_marks_what_nothing_else_cites_and_verify_is_clean(archive: Archive) -> None:
    counts = archive.forget(["typo"])
    assert counts == {
        "digests": 1,
        "citations": 4,
        "links_still_cited": 1,
        "links_unreferenced": 3,
        "links_pruned": 0,
        "articles_unreferenced": 1,  # ONLY's; SHARED's article is still led to by SHARED
        "articles_pruned": 0,
    }
    assert archive.digest_record("typo") is None and archive.digest_record("kept") is not None
    shared = _link(archive, SHARED)
    assert shared is not None and [c["digest"] for c in shared["cited_by"]] == ["kept"]  # type: ignore[index, union-attr]
    assert "unreferenced" not in shared
    for url in (ONLY, FAILED, TWIN):
        record = _link(archive, url)
        assert record is not None and record["cited_by"] == [] and record["unreferenced"]
    only = archive.article_record(str(_link(archive, ONLY)["article"]))  # type: ignore[index]
    assert only is not None and only["unreferenced"]
    twin_article = archive.article_record(str(_link(archive, TWIN)["article"]))  # type: ignore[index]
    assert twin_article is not None and "unreferenced" not in twin_article
    assert archive.tally()["rows"] == 1  # what `citations` would print: kept's one row
    assert list(verify(archive.root)) == []
    assert not archive.digest_seen(b"typo".hex().ljust(64, "0")[:64])


def test_forget_with_prune_deletes_what_nothing_else_cites(archive: Archive) -> None:
    only_article = str(_link(archive, ONLY)["article"])  # type: ignore[index]
    shared_article = str(_link(archive, SHARED)["article"])  # type: ignore[index]
    counts = archive.forget(["typo"], prune=True)
    assert counts["links_pruned"] == 3 and counts["articles_pruned"] == 1
    for url in (ONLY, FAILED, TWIN):
        assert _link(archive, url) is None and archive.link_status(url_id(url)) is None
    assert archive.article_record(only_article) is None
    article = archive.article_record(shared_article)
    assert article is not None and article["links"] == [url_id(SHARED)]  # TWIN's taken out
    assert list(archive.due_links()) == []  # the failed link is not retried
    assert list(verify(archive.root)) == []


def test_a_dry_run_changes_nothing(archive: Archive) -> None:
    before = _files(archive.root)
    counts = archive.forget(["typo"], prune=True, dry_run=True)
    assert counts["links_pruned"] == 3
    assert _files(archive.root) == before


def test_an_unknown_digest_id_changes_nothing(archive: Archive) -> None:
    before = _files(archive.root)
    with pytest.raises(ValueError, match="holds no digest 'typ0'"):
        archive.forget(["typo", "typ0"])
    assert _files(archive.root) == before


def test_a_link_cited_again_is_no_longer_unreferenced(archive: Archive) -> None:
    archive.forget(["typo"])
    archive.record_digest(_digest("later", [ONLY]), b"# later\n", time.time())
    record = _link(archive, ONLY)
    assert record is not None and "unreferenced" not in record
    article = archive.article_record(str(record["article"]))
    assert article is not None and "unreferenced" not in article
    assert list(verify(archive.root)) == []


def _forget(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.archive", "forget", "--archive", str(root), *args],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_is_refused_while_a_crawl_holds_the_archive(archive: Archive) -> None:
    done = _forget(archive.root, "typo")
    assert done.returncode == 1
    assert "held by another crawl" in done.stderr
    assert archive.digest_record("typo") is not None


def test_the_command_forgets_and_records_it_in_the_run_history(archive: Archive) -> None:
    root = archive.root
    archive.close()
    dry = _forget(root, "typo", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["links_unreferenced"] == 3
    assert not (root / "runs").exists()
    done = _forget(root, "typo", "--prune")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "dry_run": False,
        **json.loads(dry.stdout)
        | {
            "dry_run": False,
            "links_unreferenced": 0,
            "links_pruned": 3,
            "articles_unreferenced": 0,
            "articles_pruned": 1,
        },
    }
    (report,) = [json.loads(p.read_text()) for p in (root / "runs").glob("*.json")]
    assert report["command"] == "forget" and report["digests"] == ["typo"]
    assert report["pruned"] is True and report["counts"]["links_pruned"] == 3
    assert list(verify(root)) == []
    archive.open()  # for the fixture to close
