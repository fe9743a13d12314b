"""The index's counters (citation_tally, due_links) against the full queries they replace."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.archive import Archive
from crawler.archive.index import _SCHEMA, Index
from crawler.archive.tally import VERSION as INDEX_VERSION
from crawler.items import FINAL, Digest, Entry, Link, Role
from crawler.urls import url_id
from tests.conftest import record_fetch

STATUSES = ("pending", "archived", "gone", "blocked", "failed", "skipped", "refused")


def reference_tally(db: sqlite3.Connection) -> dict[str, Any]:
    """What citation_tally computed before the counters: a full count and JOIN."""
    rows = db.execute("SELECT count(*) FROM citations").fetchone()[0]
    invalid = db.execute("SELECT count(*) FROM citations WHERE link_id IS NULL").fetchone()[0]
    by_status = dict(
        db.execute(
            "SELECT l.status, count(DISTINCT l.id) FROM citations c JOIN links l "
            "ON c.link_id = l.id GROUP BY l.status"
        )
    )
    return {
        "rows": rows,
        "invalid_rows": invalid,
        "links": sum(by_status.values()),
        "links_by_status": by_status,
    }


def reference_due(db: sqlite3.Connection, now: float, max_attempts: int) -> list[tuple[str, str]]:
    """What due_links returned before: every link not in FINAL, scanned."""
    marks = ",".join("?" * len(FINAL))
    return list(
        db.execute(
            f"SELECT id, canonical_url FROM links WHERE status NOT IN ({marks}) "
            "AND attempts < ? AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY rowid",
            (*FINAL, max_attempts, now),
        )
    )


def check(index: Index) -> None:
    assert index.citation_tally() == reference_tally(index.db)
    now = time.time()
    for max_attempts in (1, 3, 100):
        assert list(index.due_links(now, max_attempts)) == reference_due(
            index.db, now, max_attempts
        )
    counted = dict(index.db.execute("SELECT key, n FROM tally WHERE kind = 'links' AND n > 0"))
    assert counted == dict(index.db.execute("SELECT status, count(*) FROM links GROUP BY status"))


def test_counters_follow_every_kind_of_write(tmp_path: Path) -> None:
    index = Index(tmp_path / "index.sqlite3")
    check(index)
    index.put_link("a", "https://a/", "pending", 0, None, None)
    index.put_citations("d1", [(1, "https://a/", "a"), (2, "https://a/?x", "a")])  # cited twice
    check(index)
    assert index.citation_tally()["links_by_status"] == {"pending": 1}
    # cited before its link row exists (record_digest writes citations last, but a reindex
    # reads digests before links), and invalid rows with no link id
    index.put_citations("d2", [(1, "https://b/", "b"), (2, "not a url", None), (3, "x:", None)])
    check(index)
    index.put_link("b", "https://b/", "pending", 0, None, None)
    check(index)
    # status changes, by INSERT OR REPLACE (put_link) and by UPDATE
    index.put_link("a", "https://a/", "archived", 1, None, "art")
    check(index)
    index.db.execute("UPDATE links SET status = 'failed', attempts = 1 WHERE id = 'b'")
    check(index)
    index.db.execute("UPDATE links SET id = 'c' WHERE id = 'b'")
    check(index)
    # a changed digest: its citations replaced, one link no longer cited by it
    index.put_citations("d1", [(1, "https://a/", "a"), (1, "https://c/", "c")])
    check(index)
    index.put_citations("d2", [])  # all of a digest's citations removed
    check(index)
    index.db.execute("UPDATE citations SET link_id = NULL WHERE link_id = 'c'")
    check(index)
    index.db.execute("UPDATE citations SET link_id = 'a' WHERE link_id IS NULL")
    check(index)
    index.db.execute("DELETE FROM links WHERE id = 'a'")  # cited, not in links: not counted
    check(index)
    assert index.citation_tally()["rows"] == 2 and index.citation_tally()["links"] == 0
    # a status no code writes today still counts as due, as `status NOT IN FINAL` did
    index.put_link("e", "https://e/", "retry-later", 0, None, None)
    check(index)
    assert ("e", "https://e/") in list(index.due_links(time.time(), 3))
    index.close()


def test_counters_survive_a_random_mix_and_other_connections(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    index = Index(path)
    other = Index(path)  # another process of a distributed run, on the same file
    # an older crawler: plain connection, recursive triggers off, REPLACE without DELETE
    old = sqlite3.connect(path, isolation_level=None, timeout=60)
    rng = random.Random(7)
    ids = [f"l{i}" for i in range(30)]
    for step in range(400):
        op = rng.random()
        link = rng.choice(ids)
        if op < 0.3:
            writer = rng.choice((index, other))
            writer.put_link(
                link,
                f"https://x/{link}",
                rng.choice(STATUSES),
                rng.randint(0, 4),
                rng.choice((None, 0.0, time.time() + 3600)),
                None,
            )
        elif op < 0.4:
            old.execute(
                "INSERT OR REPLACE INTO links(id, canonical_url, status, attempts) "
                "VALUES (?,?,?,0)",
                (link, f"https://x/{link}", rng.choice(STATUSES)),
            )
        elif op < 0.8:
            digest = f"d{rng.randint(0, 8)}"
            rows = [
                (rng.randint(1, 5), f"https://x/{rng.randint(0, 40)}", rng.choice([*ids, None]))
                for _ in range(rng.randint(0, 6))
            ]
            writer = rng.choice((index, other))
            with writer.transaction():
                writer.put_citations(digest, rows)
        elif op < 0.9:
            index.db.execute("DELETE FROM links WHERE id = ?", (link,))
        else:
            old.execute("DELETE FROM citations WHERE link_id = ?", (link,))
        if step % 20 == 0:
            check(index)
            check(other)
    check(index)
    assert index.citation_tally()["rows"] > 0 and index.citation_tally()["links"] > 0
    old.close()
    other.close()
    index.close()


def test_an_index_made_without_counters_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(_SCHEMA)  # what the previous crawler created: no counters, version 0
    db.executemany(
        "INSERT INTO links(id, canonical_url, status) VALUES (?,?,?)",
        [(f"l{i}", f"https://x/{i}", STATUSES[i % len(STATUSES)]) for i in range(50)],
    )
    db.executemany(
        "INSERT INTO citations(digest, entry, url, link_id) VALUES (?,?,?,?)",
        [(f"d{i % 4}", i, f"https://x/{i}", f"l{i % 60}" if i % 9 else None) for i in range(120)],
    )
    expected = reference_tally(db)
    db.close()
    assert expected["invalid_rows"] > 0 and expected["links"] > 0

    index = Index(path)
    assert index.db.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION
    assert index.citation_tally() == expected
    check(index)
    index.put_link("l3", "https://x/3", "archived", 1, None, None)
    index.put_citations("d0", [])
    check(index)
    index.close()
    # opening it again does not count again (and finds it right)
    index = Index(path)
    check(index)
    # counters dropped by hand are made again on opening
    index.db.execute("DROP TABLE tally")
    index.close()
    index = Index(path)
    check(index)
    index.close()


def _digest(digest_id: str, urls: list[str | None], sha: str) -> Digest:
    links = [
        Link(
            url=u or "javascript:void(0)",
            role=Role.SOURCE,
            text="x",
            canonical_url=u,
            link_id=url_id(u) if u else None,
        )
        for u in urls
    ]
    entries = [Entry(position=i, title=f"e{i}", links=[lk]) for i, lk in enumerate(links, 1)]
    return Digest(
        id=digest_id,
        source=f"/tmp/{digest_id}.md",
        sha256=sha,
        format="generic",
        title="t",
        date="2026-02-05",
        entries=entries,
    )


def test_counters_through_the_archive_and_reindex(tmp_path: Path) -> None:
    urls = [f"https://www.example.com/news/{i}.html" for i in range(6)]
    archive = Archive(tmp_path).open()
    index = archive.index
    archive.record_digest(
        _digest("d1", [urls[0], urls[1], urls[1], None], "a1" * 32), b"1", time.time()
    )
    archive.record_digest(_digest("d2", [urls[1], urls[2], urls[3]], "a2" * 32), b"2", time.time())
    check(index)
    record_fetch(archive, urls[1], status="gone", reason="HTTP 404", http_status=404)
    record_fetch(
        archive, urls[2], status="failed", reason="timeout", next_attempt=time.time() + 3600
    )
    check(index)
    # d1 changed: urls[0] no longer cited by anyone, urls[4] new
    archive.record_digest(_digest("d1", [urls[1], urls[4], None], "b1" * 32), b"1b", time.time())
    check(index)
    before = index.citation_tally()
    assert before["links_by_status"] == {"gone": 1, "failed": 1, "pending": 2}
    assert before["invalid_rows"] == 1
    assert archive.reindex()["digests"] == 2
    check(index)
    assert index.citation_tally() == before
    # the triggers are back after the rebuild: later writes are counted
    record_fetch(archive, urls[4], status="archived")
    check(index)
    assert index.citation_tally()["links_by_status"]["archived"] == 1
    archive.close()

    # counters gone wrong somehow (a hand edit): a reindex counts them again from scratch
    archive = Archive(tmp_path).open()
    before = archive.index.citation_tally()
    archive.index.db.execute("UPDATE tally SET n = n + 5")
    assert archive.index.citation_tally() != before
    archive.reindex()
    assert archive.index.citation_tally() == before
    check(archive.index)
    archive.close()

    # the index deleted: rebuilt on opening, counters included
    for extra in tmp_path.glob("index.sqlite3*"):
        extra.unlink()
    archive = Archive(tmp_path).open()
    check(archive.index)
    assert archive.index.citation_tally() == before
    archive.close()


def test_clear_keeps_the_counters_working(tmp_path: Path) -> None:
    index = Index(tmp_path / "index.sqlite3")
    index.put_link("a", "https://a/", "pending", 0, None, None)
    index.put_citations("d1", [(1, "https://a/", "a"), (2, "?", None)])
    index.clear()  # on its own: counters zero, triggers kept
    assert index.citation_tally() == {
        "rows": 0,
        "invalid_rows": 0,
        "links": 0,
        "links_by_status": {},
    }
    check(index)
    index.put_link("a", "https://a/", "blocked", 1, None, None)
    index.put_citations("d1", [(1, "https://a/", "a")])
    check(index)
    assert index.citation_tally()["links_by_status"] == {"blocked": 1}

    # a rebuild: cleared and filled in one transaction, counted once at the commit
    with index.transaction():
        index.clear()
        index.put_citations("d1", [(1, "https://a/", "a"), (2, "https://b/", "b"), (3, "", None)])
        index.put_link("a", "https://a/", "archived", 1, None, None)
        index.put_link("b", "https://b/", "pending", 0, None, None)
    check(index)
    assert index.citation_tally()["links_by_status"] == {"archived": 1, "pending": 1}
    index.put_link("b", "https://b/", "gone", 1, None, None)  # the triggers are back
    check(index)

    # a rebuild that fails is rolled back whole: data, counters and triggers
    before = index.citation_tally()
    with pytest.raises(RuntimeError), index.transaction():
        index.clear()
        index.put_citations("d9", [(1, "https://c/", "c")])
        raise RuntimeError("disk full")
    assert index.citation_tally() == before
    index.put_citations("d2", [(1, "https://c/", "c")])
    index.put_link("c", "https://c/", "pending", 0, None, None)
    check(index)

    # a transaction begun by hand: the triggers come back at once
    index.db.execute("BEGIN")
    index.clear()
    index.put_link("a", "https://a/", "pending", 0, None, None)
    index.put_citations("d1", [(1, "https://a/", "a")])
    index.db.execute("COMMIT")
    check(index)
    assert index.citation_tally()["links"] == 1
    index.close()


def test_due_links_come_in_pages_and_survive_writes_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """due_links reads DUE_PAGE rows at a time (the crawl takes them slowly while it writes):
    every due link comes once, in order, also when links change status meanwhile."""
    monkeypatch.setattr("crawler.archive.index.DUE_PAGE", 7)
    index = Index(tmp_path / "index.sqlite3")
    for n in range(40):
        index.put_link(
            f"id{n:02d}", f"https://a/{n}", "failed" if n % 3 else "pending", 1, None, None
        )
    expected = reference_due(index.db, time.time(), 5)
    got = []
    for link_id, url in index.due_links(time.time(), 5):
        got.append((link_id, url))
        # the crawl archives what it fetched while later pages are still to be read
        index.put_link(link_id, url, "archived", 2, None, "art")
    assert got == expected and len(got) == 40
    assert list(index.due_links(time.time(), 5)) == []
