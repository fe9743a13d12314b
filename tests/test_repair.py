"""Damaged JSON records read around, named and counted; `repair` quarantines and rebuilds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.archive import Archive, layout
from crawler.archive.reader import citations
from crawler.archive.verify import verify
from crawler.archive.warcread import scan
from crawler.urls import url_id
from tests.archives import GONE, PENDING, SITE, URLS, Built, build, copy
from tests.conftest import CRAWL_ENV, REPO


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("repair") / "archive", gzipped=True)


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.archive", *args],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        check=False,
    )


def _rows(root: Path) -> dict[str, dict[str, object]]:
    return {str(r["url"]): r for r in citations(root, on_damaged=lambda _p, _w: None)}


def _files(root: Path) -> dict[str, bytes]:
    return {layout.relative(root, p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_citations_carry_on_around_damaged_records_and_name_them(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    link = layout.link_path(work.root, url_id(URLS[0]))
    article = work.root / str(_rows(work.root)[URLS[1]]["article"])
    link.write_text(link.read_text()[:30])
    article.write_text("null")
    told: list[tuple[Path, str]] = []
    rows = {r["url"]: r for r in citations(work.root, on_damaged=lambda p, w: told.append((p, w)))}
    assert len(rows) == len(URLS)  # every row still comes out
    assert rows[URLS[0]]["status"] == "missing"
    assert layout.relative(work.root, link) in str(rows[URLS[0]]["reason"])
    assert rows[URLS[1]]["status"] == "archived" and rows[URLS[1]]["title"] is None
    assert "is damaged" in str(rows[URLS[1]]["reason"])
    assert rows[GONE]["status"] == "gone" and rows[PENDING]["status"] == "pending"
    assert sorted(p for p, _ in told) == sorted([link, article])  # each named once

    out = _command("citations", str(work.root))
    assert out.returncode == 1  # the output is incomplete
    assert len(out.stdout.splitlines()) == len(URLS)
    assert str(link) in out.stderr and "citations incomplete" in out.stderr
    assert _command("citations", str(pristine.root)).returncode == 0


def test_a_damaged_digest_gives_no_rows_and_the_others_come_out(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    digest = next((work.root / "digests").glob("*.json"))
    (work.root / "digests" / "other.json").write_bytes(digest.read_bytes())
    other = json.loads(digest.read_text())
    other["id"] = "other"
    (work.root / "digests" / "other.json").write_text(json.dumps(other))
    digest.write_text(digest.read_text()[:-100])
    rows = list(citations(work.root, on_damaged=lambda _p, _w: None))
    assert {r["digest"] for r in rows} == {"other"} and len(rows) == len(URLS)


def test_reindex_skips_damaged_records_names_them_and_exits_1(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    link = layout.link_path(work.root, url_id(GONE))
    link.write_text("{")
    out = _command("reindex", str(work.root))
    assert out.returncode == 1, out.stderr
    counts = json.loads(out.stdout)
    assert counts["damaged"] == 1 and counts["links"] == len(URLS) - 1
    assert layout.relative(work.root, link) in out.stderr


def test_a_damaged_manifest_is_quarantined_and_written_again(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    (work.root / layout.MANIFEST).write_text('{"schema": "sources-ar')
    archive = Archive(work.root).open()
    archive.close()
    assert json.loads((work.root / layout.MANIFEST).read_text())["schema_version"] == 1
    assert list((work.root / layout.QUARANTINE).glob("archive.json.*"))
    assert archive.damaged[0].startswith("archive.json")


def test_repair_dry_run_changes_nothing_and_apply_leaves_a_sound_archive(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    before = _rows(work.root)
    (warc,) = (work.root / "warc").glob("*.warc.gz")
    responses = [m for m in scan(warc) if m.headers.get("warc-type") == "response"]
    gone = next(m for m in responses if m.headers["warc-target-uri"] == GONE)
    data = bytearray(warc.read_bytes())
    data[gone.offset + gone.length // 2] ^= 0xFF  # the 404 page's original
    warc.write_bytes(bytes(data))
    digest = next((work.root / "digests").glob("*.json"))
    digest.write_text(digest.read_text()[:100])
    link = layout.link_path(work.root, url_id(URLS[0]))
    link.write_text("")
    article = work.root / str(before[URLS[1]]["article"])
    article.write_text('{"id": 1}')
    layout.link_path(work.root, url_id(PENDING)).unlink()  # cited, with no record
    damaged = _files(work.root)

    dry = _command("repair", str(work.root))
    assert dry.returncode == 1
    for name in (layout.relative(work.root, p) for p in (digest, link, article)):
        assert name in dry.stdout
    assert "--apply" in dry.stdout
    assert _files(work.root) == damaged  # a dry run changes nothing

    done = _command("repair", "--apply", str(work.root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(verify(work.root)) == []
    after = _rows(work.root)
    for url in (URLS[0], URLS[1]):  # rebuilt from their originals, read again
        assert after[url]["status"] == "archived"
        for key in ("title", "article", "canonical_url", "text_chars"):
            assert after[url][key] == before[url][key], (url, key)
    # the 404's original is lost: failed, for the next crawl to fetch again
    assert after[GONE]["status"] == "failed" and "original lost" in str(after[GONE]["reason"])
    assert after[PENDING]["status"] == "pending"  # no stored fetch: rebuilt as pending
    quarantined = {
        layout.relative(work.root / layout.QUARANTINE, p)
        for p in (work.root / layout.QUARANTINE).rglob("*")
        if p.is_file()
    }
    assert any(q.startswith(f"warc/{warc.name}.{gone.offset}-") for q in quarantined)
    assert any(q.startswith(layout.relative(work.root, link)) for q in quarantined)
    assert _command("repair", str(work.root)).stdout.strip() == "nothing to repair"


def test_repair_rebuilds_a_digest_from_its_warc_copy_when_the_file_is_gone(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    digest = next((work.root / "digests").glob("*.json"))
    expected = json.loads(digest.read_text())
    digest.write_text("{")
    (work.root / layout.INDEX).unlink()  # nothing but the WARC copy to go by
    done = _command("repair", "--apply", str(work.root))
    assert done.returncode == 0, done.stdout + done.stderr
    rebuilt = json.loads(digest.read_text())
    for key in ("id", "sha256", "format", "title", "date", "entries"):
        assert rebuilt[key] == expected[key], key
    assert list(verify(work.root)) == []


def test_a_repaired_archive_is_crawled_on(pristine: Built, tmp_path: Path) -> None:
    """What repair sets back to failed is due again for the next crawl."""
    work = copy(pristine, tmp_path / "work")
    (warc,) = (work.root / "warc").glob("*.warc.gz")
    page = next(
        m
        for m in scan(warc)
        if m.headers.get("warc-type") == "response"
        and m.headers["warc-target-uri"] == f"{SITE}/a.html"
    )
    data = bytearray(warc.read_bytes())
    data[page.offset + 20] ^= 0x01
    warc.write_bytes(bytes(data))
    done = _command("repair", "--apply", str(work.root))
    # the article keeps its text, but its original is gone: said, and the exit code says so
    assert done.returncode == 1
    (lost,) = [line for line in done.stdout.splitlines() if "could not rebuild" in line]
    assert lost.startswith("articles/")
    assert list(verify(work.root)) == []
    archive = Archive(work.root).open()
    try:
        due = {url for _, url in archive.due_links()}
    finally:
        archive.close()
    assert due == {URLS[0], PENDING}


def test_a_folder_where_a_record_should_be_is_a_damaged_record(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    folder = work.root / "links" / "ff" / ("f" * 32 + ".json")
    folder.mkdir(parents=True)
    problems = list(verify(work.root))
    assert len(problems) == 1 and problems[0].startswith("links/ff/"), problems
    told: list[str] = []
    assert len(list(citations(work.root, on_damaged=lambda p, w: told.append(w)))) == len(URLS)
