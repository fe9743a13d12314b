"""The SQLite index: a derived, rebuildable view of the archive's files for fast look-ups.

The JSON files are the truth. The index answers "is this URL archived?", "which links still
need work?" and "was this digest read?" without reading the files, so a nightly run costs
what is new, not what is archived. Deleting it loses nothing: `reindex` rebuilds it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS digests(
    id TEXT PRIMARY KEY, source TEXT, sha256 TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS digests_sha256 ON digests(sha256);
CREATE TABLE IF NOT EXISTS links(
    id TEXT PRIMARY KEY, canonical_url TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL, article TEXT);
CREATE INDEX IF NOT EXISTS links_status ON links(status);
CREATE TABLE IF NOT EXISTS digest_stats(
    source TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aliases(url TEXT PRIMARY KEY, link_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(id TEXT PRIMARY KEY, body_sha256 TEXT);
CREATE INDEX IF NOT EXISTS articles_body ON articles(body_sha256);
CREATE TABLE IF NOT EXISTS citations(
    digest TEXT NOT NULL, entry INTEGER NOT NULL, url TEXT NOT NULL, link_id TEXT,
    PRIMARY KEY(digest, entry, url));
CREATE INDEX IF NOT EXISTS citations_link ON citations(link_id);
"""

#: Statuses after which a link is never fetched again.
FINAL = ("archived", "gone", "refused", "invalid", "skipped")


class Index:
    """Thin typed wrapper over the index database."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                  timeout=60)  # processes of a distributed run share it
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`with index.transaction():` groups writes into one commit (not re-entrant)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- digests -------------------------------------------------------------------------
    def digest_by_sha256(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT id FROM digests WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def put_digest(self, digest_id: str, source: str, sha256: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO digests(id, source, sha256) VALUES (?,?,?)",
            (digest_id, source, sha256),
        )

    def put_citations(self, digest_id: str, rows: list[tuple[int, str, str | None]]) -> None:
        self.db.execute("DELETE FROM citations WHERE digest=?", (digest_id,))
        self.db.executemany(
            "INSERT OR IGNORE INTO citations(digest, entry, url, link_id) VALUES (?,?,?,?)",
            [(digest_id, entry, url, link_id) for entry, url, link_id in rows],
        )

    # -- links ---------------------------------------------------------------------------
    def link(self, link_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, canonical_url, status, attempts, next_attempt, article FROM links "
            "WHERE id=?",
            (link_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "canonical_url", "status", "attempts", "next_attempt", "article")
        return dict(zip(keys, row, strict=True))

    def put_link(
        self,
        link_id: str,
        canonical_url: str,
        status: str,
        attempts: int,
        next_attempt: float | None,
        article: str | None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO links(id, canonical_url, status, attempts, next_attempt, "
            "article) VALUES (?,?,?,?,?,?)",
            (link_id, canonical_url, status, attempts, next_attempt, article),
        )

    def due_links(self, now: float, max_attempts: int) -> Iterator[tuple[str, str]]:
        """Links not in a final state whose next attempt is due: (id, canonical_url)."""
        marks = ",".join("?" * len(FINAL))
        yield from self.db.execute(
            f"SELECT id, canonical_url FROM links WHERE status NOT IN ({marks}) "
            "AND attempts < ? AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY rowid",
            (*FINAL, max_attempts, now),
        )

    def status_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM links GROUP BY status"))

    def citation_tally(self) -> dict[str, Any]:
        """What `citations` would print, counted: rows, distinct links, links by status."""
        rows = self.db.execute("SELECT count(*) FROM citations").fetchone()[0]
        invalid = self.db.execute(
            "SELECT count(*) FROM citations WHERE link_id IS NULL").fetchone()[0]
        by_status = dict(self.db.execute(
            "SELECT l.status, count(DISTINCT l.id) FROM citations c JOIN links l "
            "ON c.link_id = l.id GROUP BY l.status"))
        return {"rows": rows, "invalid_rows": invalid, "links": sum(by_status.values()),
                "links_by_status": by_status}

    # -- digest files already read: (size, mtime) lets a run skip them without reading --
    def digest_stat_unchanged(self, source: str, size: int, mtime_ns: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM digest_stats WHERE source=? AND size=? AND mtime_ns=?",
            (source, size, mtime_ns)).fetchone()
        return row is not None

    def put_digest_stat(self, source: str, size: int, mtime_ns: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO digest_stats(source, size, mtime_ns) VALUES (?,?,?)",
            (source, size, mtime_ns))

    # -- aliases and articles ------------------------------------------------------------
    def alias(self, url: str) -> str | None:
        row = self.db.execute("SELECT link_id FROM aliases WHERE url=?", (url,)).fetchone()
        return row[0] if row else None

    def put_alias(self, url: str, link_id: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO aliases(url, link_id) VALUES (?,?)", (url, link_id))

    def article_by_body(self, body_sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM articles WHERE body_sha256=?", (body_sha256,)
        ).fetchone()
        return row[0] if row else None

    def put_article(self, article_id: str, body_sha256: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO articles(id, body_sha256) VALUES (?,?)", (article_id, body_sha256)
        )

    def clear(self) -> None:
        for table in ("digests", "links", "aliases", "articles", "citations"):
            self.db.execute(f"DELETE FROM {table}")
