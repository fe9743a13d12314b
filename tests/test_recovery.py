"""Crash recovery: only the dead writer's unfinished tail goes, and a recovery killed half-way
is finished by the next open. Dead crawls are real processes that `os._exit` mid-write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.archive import Archive, layout
from crawler.archive.lock import RECOVERY, ArchiveLock
from crawler.archive.recovery import cut_tail
from crawler.archive.verify import verify
from crawler.archive.warcread import scan
from crawler.items import FetchOutcome, Status
from crawler.urls import url_id
from tests.archives import PENDING, build
from tests.conftest import CRAWL_ENV, REPO

#: A crawl that writes a few records, starts one more and is killed in the middle of it.
DIES_MID_RECORD = """
import os, sys, time
from crawler.archive import Archive
from tests.archives import fetch, URLS
a = Archive(sys.argv[1]).open()
for url in URLS[:2]:
    fetch(a, url)
a.warc._fh.write(b"\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x00\\x03 half a record")
a.warc._fh.flush()
os._exit(9)
"""

#: A crawl that opens the archive and is killed while it recovers the previous one.
DIES_IN_RECOVERY = """
import os, sys
from crawler.archive import Archive, recovery
def killed(*args, **kwargs):
    os._exit(9)
recovery.recover = killed
Archive(sys.argv[1]).open()
"""


def _run(code: str, root: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 9, out.stderr


def _dead_files(root: Path) -> list[Path]:
    return sorted((root / layout.WARC).glob("*.warc.gz"))


def test_only_the_unfinished_tail_is_cut_and_sound_records_after_damage_stay(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    build(root)  # a first, finished crawl
    _run(DIES_MID_RECORD, root)
    dead = _dead_files(root)[-1]
    members = list(scan(dead))
    sound = [m for m in members if not m.problems]
    assert members[-1].damaged and len(sound) >= 4
    # a flipped byte early in the dead writer's file: not its tail, never cut
    early = sound[1]
    data = bytearray(dead.read_bytes())
    data[early.offset + early.length // 2] ^= 0xFF
    dead.write_bytes(bytes(data))
    size = dead.stat().st_size

    archive = Archive(root).open()
    assert archive.recovered
    archive.close()
    after = list(scan(dead))
    assert dead.stat().st_size == members[-1].offset < size  # only the half record went
    assert [m.offset for m in after] == [m.offset for m in members[:-1]]
    problems = list(verify(root))
    # the flipped record is named (by its offset); no other record is
    assert problems and all(f":{early.offset}" in p for p in problems), problems
    assert not (root / RECOVERY).exists()


def test_a_crawl_killed_during_recovery_leaves_the_dead_writer_to_the_next(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    _run(DIES_MID_RECORD, root)
    first = json.loads((root / layout.LOCK).read_text())
    _run(DIES_IN_RECOVERY, root)
    # the second holder replaced the first in crawl.lock, but the first is remembered
    pending = json.loads((root / RECOVERY).read_text())["holders"]
    assert first in pending
    assert list(verify(root))  # the half record is still there
    archive = Archive(root).open()
    assert archive.recovered
    archive.close()
    assert list(verify(root)) == []
    assert not (root / RECOVERY).exists()
    again = Archive(root).open()
    assert not again.recovered
    again.close()


def test_recovery_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    _run(DIES_MID_RECORD, root)
    dead = _dead_files(root)[-1]
    assert cut_tail(root, dead) > 0
    size = dead.stat().st_size
    assert cut_tail(root, dead) == 0 and dead.stat().st_size == size


def test_no_cut_below_the_end_of_a_record_a_json_file_points_at(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build(root)
    warc = _dead_files(root)[-1]
    members = list(scan(warc))
    last = members[-1]
    # the last record damaged in place (bit rot, not a crash): it is pointed at, so it stays
    data = bytearray(warc.read_bytes())
    data[last.offset + last.length // 2] ^= 0xFF
    warc.write_bytes(bytes(data))
    assert cut_tail(root, warc, pointed_end=last.offset + last.length) == 0
    assert cut_tail(root, warc) == last.length  # unpointed, it would be an unfinished tail


def test_the_dead_are_remembered_before_the_lock_names_the_new_holder(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    dead = {"pid": 999999, "host": "gone-host", "started": "2026-02-05T02:30:00+0000"}
    (root / layout.LOCK).write_text(json.dumps(dead))
    lock = ArchiveLock(root / layout.LOCK)
    lock.acquire()
    assert lock.stale == [dead]
    assert json.loads((root / RECOVERY).read_text()) == {"holders": [dead]}
    assert json.loads((root / layout.LOCK).read_text())["pid"] != dead["pid"]
    lock.recovered(lock.stale)
    assert not (root / RECOVERY).exists()
    lock.release()


def test_a_damaged_index_row_does_not_stop_recovery_and_damaged_records_are_named(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    build(root)
    path = next((root / "links").glob("*/*.json"))
    path.write_text('{"cut": ')
    (root / layout.LOCK).write_text(json.dumps({"pid": 999999, "host": "x", "started": "t"}))
    archive = Archive(root).open()
    try:
        assert archive.recovered
        assert any(line.startswith(layout.relative(root, path)) for line in archive.damaged)
    finally:
        archive.close()


def test_a_damaged_link_record_is_quarantined_and_rebuilt_when_it_is_written(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    built = build(root)
    path = layout.link_path(root, url_id(PENDING))
    before = json.loads(path.read_text())
    cut = path.read_text()[:40]
    path.write_text(cut)
    archive = Archive(root).open()
    try:
        archive.record_outcome(
            FetchOutcome(url_id(PENDING), PENDING, Status.FAILED, "HTTP 500", 500)
        )
        assert len(archive.damaged) == 1 and archive.damaged[0].startswith("links/")
    finally:
        archive.close()
    after = json.loads(path.read_text())
    # the outcome is recorded, and the citations the damaged file held are rebuilt
    assert (after["status"], after["attempts"]) == ("failed", 1)
    assert after["cited_by"] == before["cited_by"] and after["cited_by"]
    (kept,) = (root / layout.QUARANTINE).rglob("*.json.*")
    assert kept.read_text() == cut  # kept as found
    assert list(verify(root)) == [], built


def test_an_unreadable_lock_record_has_every_warc_tail_looked_at(tmp_path: Path) -> None:
    """A single crawl's record that cannot be read names no writer: every file is checked
    (no other process writes an archive a single crawl holds)."""
    root = tmp_path / "archive"
    _run(DIES_MID_RECORD, root)
    (root / layout.LOCK).write_bytes(b"\x00garbage")
    assert list(verify(root))
    archive = Archive(root).open()
    assert archive.recovered
    archive.close()
    assert list(verify(root)) == []


def test_a_damaged_manifest_over_records_of_another_version_is_refused(tmp_path: Path) -> None:
    import pytest

    from crawler.archive.lock import ArchiveError

    root = tmp_path / "archive"
    build(root)
    path = next((root / "links").glob("*/*.json"))
    record = json.loads(path.read_text())
    record["schema_version"] = 2
    path.write_text(json.dumps(record))
    (root / layout.MANIFEST).write_text("{")
    with pytest.raises(ArchiveError, match="schema_version"):
        Archive(root).open()
    assert (root / layout.MANIFEST).read_text() == "{"  # left as it was
