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

#: Bumped when the counters below change; an older index is brought up to date on opening.
INDEX_VERSION = 1

# Counters kept by SQLite itself, so that `citation_tally` and `due_links` cost what is
# asked, not what is archived, whichever process or code path writes `citations` or `links`
# (crawl, reindex, a distributed run's other processes, an older crawler on the same file).
#
# `link_tally` has a row per link id that is in `links` or cited: `cites` is the number of
# `citations` rows naming it, `status` the status it is counted under in tally 'links' and
# `cited` the one it is counted under in tally 'cited' (NULL when not counted). `tally` holds
# ('citations', 'rows' | 'invalid_rows'), ('links', status): links by status, and ('cited',
# status): links that are in `links` and cited at least once, by status: what the full JOIN
# of `citations` and `links` would count.
_TALLY_TABLES = (
    "CREATE TABLE IF NOT EXISTS link_tally(link_id TEXT PRIMARY KEY, "
    "cites INTEGER NOT NULL DEFAULT 0, status TEXT, cited TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS tally(kind TEXT NOT NULL, key TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID",
)


def _ensure(table: str, columns: str, values: str, where: str, key: str) -> str:
    """INSERT of a counter row unless there is one. No `INSERT OR IGNORE` or upsert in the
    triggers: the statement firing a trigger imposes its conflict policy on the trigger's
    (INSERT OR REPLACE INTO links would turn them into REPLACE and zero the counter)."""
    return f"""
    INSERT INTO {table}({columns}) SELECT {values} WHERE {where}
        AND NOT EXISTS (SELECT 1 FROM {table} WHERE {key});"""


def _bump(kind: str, key: str, delta: int, when: str | None = None) -> str:
    match = f"kind = '{kind}' AND key = {key}"
    cond = f" AND {when}" if when else ""
    ensure = _ensure("tally", "kind, key, n", f"'{kind}', {key}, 0", when or "1", match)
    return f"""{ensure}
    UPDATE tally SET n = n + ({delta}) WHERE {match}{cond};"""


def _uncount(x: str, kind: str, column: str) -> str:
    """Take link `x` (an SQL expression) out of tally `kind`, under its `column` of link_tally."""
    return f"""
    UPDATE tally SET n = n - 1 WHERE kind = '{kind}'
        AND key = (SELECT {column} FROM link_tally WHERE link_id = {x});"""


def _count(x: str, kind: str, column: str) -> str:
    """Count link `x` in tally `kind` under its `column` of link_tally (when not NULL)."""
    return f"""
    INSERT INTO tally(kind, key, n) SELECT '{kind}', t.{column}, 0 FROM link_tally t
        WHERE t.link_id = {x} AND t.{column} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM tally WHERE kind = '{kind}' AND key = t.{column});
    UPDATE tally SET n = n + 1 WHERE kind = '{kind}'
        AND key = (SELECT {column} FROM link_tally WHERE link_id = {x});"""


def _link_changed(x: str) -> str:
    """Re-count link `x` after its `links` row was inserted, deleted or changed.

    Takes back what the link was counted as and counts it anew, so it is right however the
    row changed: UPDATE, DELETE, or INSERT OR REPLACE with or without recursive triggers
    (the DELETE trigger of the replaced row).
    """
    where = f"WHERE link_id = {x}"
    return "".join(
        (
            _ensure("link_tally", "link_id", x, f"{x} IS NOT NULL", f"link_id = {x}"),
            _uncount(x, "links", "status"),
            _uncount(x, "cited", "cited"),
            f"""
    UPDATE link_tally SET status = (SELECT status FROM links WHERE id = {x}) {where};
    UPDATE link_tally SET cited = CASE WHEN cites > 0 THEN status END {where};""",
            _count(x, "links", "status"),
            _count(x, "cited", "cited"),
            f"""
    DELETE FROM link_tally {where} AND cites = 0 AND status IS NULL;""",
        )
    )


def _cites_changed(row: str, sign: int) -> str:
    """Count a `citations` row (`NEW` or `OLD`) in (sign 1) or out (sign -1)."""
    x = f"{row}.link_id"
    where = f"WHERE link_id = {x}"
    return "".join(
        (
            _bump("citations", "'rows'", sign),
            _bump("citations", "'invalid_rows'", sign, f"{x} IS NULL"),
            _ensure("link_tally", "link_id", x, f"{x} IS NOT NULL", f"link_id = {x}"),
            _uncount(x, "cited", "cited"),
            f"""
    UPDATE link_tally SET cites = cites + ({sign}),
        cited = CASE WHEN cites + ({sign}) > 0 THEN status END {where};""",
            _count(x, "cited", "cited"),
            f"""
    DELETE FROM link_tally {where} AND cites = 0 AND status IS NULL;""",
        )
    )


_TRIGGERS = {
    "tally_citations_insert": f"AFTER INSERT ON citations BEGIN {_cites_changed('NEW', 1)} END",
    "tally_citations_delete": f"AFTER DELETE ON citations BEGIN {_cites_changed('OLD', -1)} END",
    "tally_citations_update": "AFTER UPDATE OF link_id ON citations "
    "WHEN OLD.link_id IS NOT NEW.link_id "
    f"BEGIN {_cites_changed('OLD', -1)} {_cites_changed('NEW', 1)} END",
    "tally_links_insert": f"AFTER INSERT ON links BEGIN {_link_changed('NEW.id')} END",
    "tally_links_delete": f"AFTER DELETE ON links BEGIN {_link_changed('OLD.id')} END",
    "tally_links_update": "AFTER UPDATE OF id, status ON links "
    f"BEGIN {_link_changed('OLD.id')} {_link_changed('NEW.id')} END",
}


#: Rows of due links read at a time.
DUE_PAGE = 500


class Index:
    """Thin typed wrapper over the index database."""

    def __init__(self, path: Path):
        self.path = path
        self._in_transaction = False  # in `transaction()`
        self._count_at_commit = False  # clear() left the counters to the commit
        # processes of a distributed run share it
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA recursive_triggers=ON")  # INSERT OR REPLACE fires DELETE too
        self.db.executescript(_SCHEMA)
        self._install_tally()

    def _tally_installed(self) -> bool:
        if self.db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            return False
        names = {n for (n,) in self.db.execute("SELECT name FROM sqlite_master")}
        return {"link_tally", "tally", *_TRIGGERS} <= names

    def _install_tally(self) -> None:
        """Create the counters of an index made by an older crawler, from one full count.

        Costs one pass over `citations` and `links`, once; every later write keeps them.
        """
        if self._tally_installed():
            return
        with self.transaction():
            if self._tally_installed():  # another process of a distributed run did it
                return
            for name in _TRIGGERS:
                self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
            for table in _TALLY_TABLES:
                self.db.execute(table)
            self.recount()
            self._create_triggers()
            self.db.execute(f"PRAGMA user_version={INDEX_VERSION}")

    def _create_triggers(self) -> None:
        for name, body in _TRIGGERS.items():
            self.db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")

    def recount(self) -> None:
        """Set the counters from a full count of `citations` and `links` (in a transaction)."""
        db = self.db
        db.execute("DELETE FROM link_tally")
        db.execute("DELETE FROM tally")
        db.execute(
            "INSERT INTO link_tally(link_id, cites) SELECT link_id, count(*) FROM citations "
            "WHERE link_id IS NOT NULL GROUP BY link_id"
        )
        db.execute(
            "INSERT INTO link_tally(link_id, status) SELECT id, status FROM links "
            "WHERE id IS NOT NULL ON CONFLICT(link_id) DO UPDATE SET status = excluded.status"
        )
        db.execute("UPDATE link_tally SET cited = status WHERE cites > 0")
        db.execute("DELETE FROM link_tally WHERE cites = 0 AND status IS NULL")
        for kind, column in (("links", "status"), ("cited", "cited")):
            db.execute(
                f"INSERT INTO tally(kind, key, n) SELECT '{kind}', {column}, count(*) "
                f"FROM link_tally WHERE {column} IS NOT NULL GROUP BY {column}"
            )
        db.execute(
            "INSERT INTO tally(kind, key, n) VALUES ('citations', 'rows', "
            "(SELECT count(*) FROM citations)), ('citations', 'invalid_rows', "
            "(SELECT count(*) FROM citations WHERE link_id IS NULL))"
        )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`with index.transaction():` groups writes into one commit (not re-entrant)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
            if self._count_at_commit:  # after clear(): the rebuilt index counted once
                self.recount()
                self._create_triggers()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self._in_transaction = self._count_at_commit = False
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
        """Links not in a final state whose next attempt is due: (id, canonical_url).

        The statuses not in FINAL that links have (pending, blocked, failed) are read from
        the counters, so the look-up goes through `links_status`, not over every link.
        """
        due = [
            s
            for (s,) in self.db.execute("SELECT key FROM tally WHERE kind = 'links' AND n > 0")
            if s not in FINAL
        ]
        if not due:
            return
        marks = ",".join("?" * len(due))
        query = (
            f"SELECT rowid, id, canonical_url FROM links WHERE status IN ({marks}) "
            "AND attempts < ? AND (next_attempt IS NULL OR next_attempt <= ?) AND rowid > ? "
            "ORDER BY rowid LIMIT ?"
        )
        # Pages of rows, not one open cursor: the crawl takes them slowly while it writes
        # through the same connection.
        last = 0
        while rows := self.db.execute(query, (*due, max_attempts, now, last, DUE_PAGE)).fetchall():
            for _, link_id, url in rows:
                yield link_id, url
            last = rows[-1][0]

    def status_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM links GROUP BY status"))

    def citation_tally(self) -> dict[str, Any]:
        """What `citations` would print, counted: rows, distinct links, links by status.

        Read from the counters the triggers keep: the same numbers as counting `citations`
        joined with `links`, in time independent of the archive's size.
        """
        counts: dict[str, dict[str, int]] = {"citations": {}, "cited": {}}
        for kind, key, n in self.db.execute(
            "SELECT kind, key, n FROM tally WHERE kind IN ('citations', 'cited') AND n > 0 "
            "ORDER BY kind, key"
        ):
            counts[kind][key] = n
        by_status = counts["cited"]
        return {
            "rows": counts["citations"].get("rows", 0),
            "invalid_rows": counts["citations"].get("invalid_rows", 0),
            "links": sum(by_status.values()),
            "links_by_status": by_status,
        }

    # -- digest files already read: (size, mtime) lets a run skip them without reading --
    def digest_stat_unchanged(self, source: str, size: int, mtime_ns: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM digest_stats WHERE source=? AND size=? AND mtime_ns=?",
            (source, size, mtime_ns),
        ).fetchone()
        return row is not None

    def put_digest_stat(self, source: str, size: int, mtime_ns: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO digest_stats(source, size, mtime_ns) VALUES (?,?,?)",
            (source, size, mtime_ns),
        )

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
            "INSERT OR IGNORE INTO articles(id, body_sha256) VALUES (?,?)",
            (article_id, body_sha256),
        )

    def clear(self) -> None:
        """Empty the index, counters included, for a rebuild.

        Inside `transaction()` (as `reindex` does) the counters' triggers stay off until the
        commit, which sets the counters from one full count: a rebuild writes every row, and
        counting once costs far less than a trigger per row. Other processes cannot write in
        between: the transaction holds the write lock, and a rollback restores the triggers.
        """
        if not self.db.in_transaction:
            with self.transaction():
                self.clear()
            return
        for name in _TRIGGERS:
            self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
        tables = ("digests", "links", "aliases", "articles", "citations", "link_tally", "tally")
        for table in tables:
            self.db.execute(f"DELETE FROM {table}")
        if self._in_transaction:
            self._count_at_commit = True
        else:  # a transaction begun by hand: no commit of ours to count at
            self._create_triggers()
