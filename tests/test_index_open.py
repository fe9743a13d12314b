"""Opening the index from many processes at once (a distributed run's start): the set-up (WAL,
schema, counters) runs once under `<index>.lock`, and a "database is locked" is tried again."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from crawler.archive import Archive, index
from crawler.archive.index import Index


def _open_archive(root: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        Archive(Path(root), shared=True).open().close()
        results.put("ok")
    except Exception as exc:  # reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_many_processes_open_a_fresh_archive_at_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for trial in range(4):
        root = tmp_path / f"archive{trial}"
        barrier, results = ctx.Barrier(6), ctx.Queue()
        procs = [
            ctx.Process(target=_open_archive, args=(str(root), barrier, results)) for _ in range(6)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert [results.get(timeout=5) for _ in procs] == ["ok"] * 6
        db = sqlite3.connect(root / "index.sqlite3")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()


class LockedAtFirst:
    """A connection whose switch to WAL answers "database is locked" `times` times."""

    failures = 0

    def __init__(self, real: sqlite3.Connection, times: int):
        self.real, self.times = real, times

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "PRAGMA journal_mode=WAL" and LockedAtFirst.failures < self.times:
            LockedAtFirst.failures += 1
            raise sqlite3.OperationalError("database is locked")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _locked_connect(monkeypatch: pytest.MonkeyPatch, times: int) -> list[float]:
    connect = sqlite3.connect
    LockedAtFirst.failures = 0
    monkeypatch.setattr(
        index.sqlite3, "connect", lambda *a, **k: LockedAtFirst(connect(*a, **k), times)
    )
    pauses: list[float] = []
    monkeypatch.setattr(index.time, "sleep", pauses.append)
    return pauses


def test_a_locked_index_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = _locked_connect(monkeypatch, times=3)
    opened = Index(tmp_path / "index.sqlite3")
    try:
        assert opened.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert LockedAtFirst.failures == 3 and len(pauses) == 3
        assert pauses[0] < pauses[2]  # growing pauses
    finally:
        opened.close()


def test_an_index_locked_for_good_fails_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses = _locked_connect(monkeypatch, times=1000)
    with pytest.raises(sqlite3.OperationalError, match=r"after 8 tries: other processes keep"):
        Index(tmp_path / "index.sqlite3")
    assert len(pauses) == index.OPEN_TRIES - 1


def test_an_error_that_is_not_a_lock_is_not_tried_again(tmp_path: Path) -> None:
    (tmp_path / "index.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        Index(tmp_path / "index.sqlite3")


def test_the_set_up_waits_for_the_process_setting_the_index_up(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process is setting it up
    opened: list[Index] = []
    opener = threading.Thread(target=lambda: opened.append(Index(path)))
    opener.start()
    opener.join(0.5)
    assert opener.is_alive() and not opened  # waiting
    os.close(fd)
    opener.join(30)
    assert len(opened) == 1
    opened[0].close()


def test_an_articles_links_are_found_through_an_index_not_a_walk_of_every_link(
    tmp_path: Path,
) -> None:
    """Storing each new article asks which links lead to it: a scan of `links` made building an
    archive of 100,000 articles quadratic (caught by bench/bigarchive.py); an older index gets
    the index on opening."""
    path = tmp_path / "index.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE links(id TEXT PRIMARY KEY, canonical_url TEXT NOT NULL, status TEXT NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL, article TEXT);"
    )
    old.close()
    opened = Index(path)
    try:
        plan = [
            row[3]
            for row in opened.db.execute(f"EXPLAIN QUERY PLAN {index.LINKS_OF_ARTICLE}", ("a",))
        ]
        assert any("INDEX links_article" in step for step in plan), plan
    finally:
        opened.close()
