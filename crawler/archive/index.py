"""The SQLite index: a derived, rebuildable view of the archive's files for fast look-ups.

The JSON files are the truth. The index answers "is this URL archived?", "which links still
need work?" and "was this digest read?" without reading the files, so a nightly run costs
what is new, not what is archived. Deleting it loses nothing: `reindex` rebuilds it.
"""

from __future__ import annotations

import fcntl
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.archive import tally
from crawler.items import FINAL

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS digests(
    id TEXT PRIMARY KEY, source TEXT, sha256 TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS digests_sha256 ON digests(sha256);
CREATE TABLE IF NOT EXISTS links(
    id TEXT PRIMARY KEY, canonical_url TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL, article TEXT);
CREATE INDEX IF NOT EXISTS links_status ON links(status);
CREATE INDEX IF NOT EXISTS links_article ON links(article);
CREATE TABLE IF NOT EXISTS digest_stats(
    source TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aliases(url TEXT PRIMARY KEY, link_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(id TEXT PRIMARY KEY, body_sha256 TEXT);
CREATE INDEX IF NOT EXISTS articles_body ON articles(body_sha256);
CREATE TABLE IF NOT EXISTS citations(
    digest TEXT NOT NULL, entry INTEGER NOT NULL, url TEXT NOT NULL, link_id TEXT,
    PRIMARY KEY(digest, entry, url));
CREATE INDEX IF NOT EXISTS citations_link ON citations(link_id);
CREATE TABLE IF NOT EXISTS requisites(
    url TEXT PRIMARY KEY, status TEXT NOT NULL, fetched_at REAL NOT NULL, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payloads(
    digest TEXT PRIMARY KEY, uri TEXT NOT NULL, date TEXT NOT NULL, record_id TEXT NOT NULL,
    pointer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending_requisites(
    article TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY(article, url));
"""

#: When each archived link is to be checked again (`next_check` of its record) and the interval
#: its schedule gave (`every`, seconds). The one rule of what is due for a re-check is
#: `next_check <= now`; the most overdue for its interval come first (`_LATENESS`). A separate
#: table, so that writing a link's row (INSERT OR REPLACE) never loses it; an older index gets
#: it on opening.
_CHECKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks(
    link_id TEXT PRIMARY KEY, next_check REAL NOT NULL, every REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS checks_due ON checks(next_check);
"""
#: The links that lead to an article (through `links_article`: it is asked for every article).
LINKS_OF_ARTICLE = "SELECT id FROM links WHERE article=? ORDER BY id"
#: `meta` key set once the index has its re-check times.
CHECKS_KEY = "checks"
#: How late a due re-check is, in intervals of its own schedule (parameter: now). When more are
#: due than a run may make, a link checked daily that is a day late goes before one checked
#: monthly that is a week late: under a short budget every link's interval stretches alike.
_LATENESS = "((? - c.next_check) / max(c.every, 1.0))"
#: The interval given to links that an older index (or a record of an older crawler) holds
#: without a re-check time: they are due from then on, as old links (monthly).
OLD_LINK_EVERY = 30 * 86400.0
#: Due re-checks read at a time.
CHECKS_PAGE = 2000
#: The due re-checks after (lateness, id), a page of them, and how many are due. CROSS JOIN
#: makes SQLite read `checks` first, through `checks_due`: with a plain JOIN its planner walks
#: every archived link (`links_status`) instead, a cost that grows with the archive.
DUE_CHECKS = (
    f"SELECT c.link_id, l.canonical_url, {_LATENESS} AS late FROM checks c "
    "CROSS JOIN links l ON l.id = c.link_id "
    "WHERE c.next_check <= ? AND l.status = 'archived' "
    f"AND ({_LATENESS} < ? OR ({_LATENESS} = ? AND c.link_id > ?)) "
    "ORDER BY late DESC, c.link_id LIMIT ?"
)
COUNT_DUE_CHECKS = (
    "SELECT count(*) FROM checks c CROSS JOIN links l ON l.id = c.link_id "
    "WHERE c.next_check <= ? AND l.status = 'archived'"
)

#: The one rule of what is due: not in a final state (FINAL), attempts left, no next attempt
#: ahead. `{status}` is the status test; parameters: its values, max attempts, now.
_DUE = "({status} AND attempts < ? AND (next_attempt IS NULL OR next_attempt <= ?))"
_FINAL = tuple(sorted(FINAL))

#: Rows of due links read at a time.
DUE_PAGE = 500


#: Tries to open and set up an index that other processes hold locked (about 8 s in all).
OPEN_TRIES = 8


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" / "busy"."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def _setup_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `<index>.lock` while an index is set up (processes wait)."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Index:
    """Thin typed wrapper over the index database."""

    def __init__(self, path: Path):
        self.path = path
        self._in_transaction = False  # in `transaction()`
        self._count_at_commit = False  # clear() left the counters to the commit
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        """Connect, and set the index up (WAL, schema, counters) once, whoever comes first.

        Processes of a distributed run open one index, often a fresh one, at the same moment;
        switching a database to WAL takes a lock that SQLite does not wait for, so the set-up
        runs under a file lock beside the index (`<index>.lock`, held for the set-up only), and
        a "locked" answer is tried again with a growing pause before it is given up.
        """
        with _setup_lock(self.path):
            for attempt in range(OPEN_TRIES):
                # processes of a distributed run share it
                db = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=60
                )
                try:
                    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=NORMAL")
                    db.execute("PRAGMA recursive_triggers=ON")  # REPLACE fires DELETE too
                    db.executescript(_SCHEMA)
                    self.db = db
                    self._install_tally()
                    self._install_checks()
                    return db
                except sqlite3.OperationalError as exc:
                    db.close()
                    if not _busy(exc) or attempt == OPEN_TRIES - 1:
                        raise sqlite3.OperationalError(
                            f"{exc} (still, after {attempt + 1} tries: other processes keep "
                            "the index locked)"
                            if _busy(exc)
                            else str(exc)
                        ) from exc
                    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    def _install_tally(self) -> None:
        """Bring the counters of an index made by an older crawler up to date (once)."""
        if tally.installed(self.db):
            return
        with self.transaction():
            if not tally.installed(self.db):  # another process of a distributed run did it
                tally.install(self.db)

    def _install_checks(self) -> None:
        """Give an index made by an older crawler its re-check times (once): every archived
        link is due (it was never re-checked); `reindex` takes them from the records."""
        self.db.executescript(_CHECKS_SCHEMA)
        if self._meta(CHECKS_KEY) is not None:
            return
        with self.transaction():
            if self._meta(CHECKS_KEY) is None:  # another process of a distributed run did it
                self.db.execute(
                    "INSERT OR IGNORE INTO checks(link_id, next_check, every) "
                    "SELECT id, ?, ? FROM links WHERE status = 'archived' AND article IS NOT NULL",
                    (time.time(), OLD_LINK_EVERY),
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (CHECKS_KEY,)
                )

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

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
                tally.recount(self.db)
                tally.create_triggers(self.db)
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

    def digest_source(self, digest_id: str) -> str | None:
        """The source a digest id was recorded for, or None."""
        row = self.db.execute("SELECT source FROM digests WHERE id=?", (digest_id,)).fetchone()
        return row[0] if row else None

    def citing(self, link_id: str) -> list[tuple[str, int, str]]:
        """(digest, entry, URL as cited) of every citation of a link."""
        rows = self.db.execute(
            "SELECT digest, entry, url FROM citations WHERE link_id=? ORDER BY digest, entry, url",
            (link_id,),
        )
        return [(str(d), int(e), str(u)) for d, e, u in rows]

    def cited_by_digest(self, digest_id: str) -> list[tuple[int, str, str | None]]:
        """(entry, URL as cited, link id) of every citation of a digest."""
        rows = self.db.execute(
            "SELECT entry, url, link_id FROM citations WHERE digest=? ORDER BY entry, url",
            (digest_id,),
        )
        return [(int(e), str(u), lid) for e, u, lid in rows]

    def links_of_article(self, article_id: str) -> list[str]:
        """Ids of the links whose fetch ended in this article."""
        rows = self.db.execute(LINKS_OF_ARTICLE, (article_id,))
        return [str(link_id) for (link_id,) in rows]

    # -- links ---------------------------------------------------------------------------
    def link(self, link_id: str) -> dict[str, Any] | None:
        """A link's row: id, canonical_url, status, attempts, next_attempt, article."""
        row = self.db.execute(
            "SELECT id, canonical_url, status, attempts, next_attempt, article FROM links "
            "WHERE id=?",
            (link_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "canonical_url", "status", "attempts", "next_attempt", "article")
        return dict(zip(keys, row, strict=True))

    def link_due(self, link_id: str, now: float, max_attempts: int) -> tuple[str, bool] | None:
        """(status, whether it is due now) of a link, by the one rule `_DUE`; None if unknown."""
        status = f"status NOT IN ({','.join('?' * len(_FINAL))})"
        row = self.db.execute(
            f"SELECT status, {_DUE.format(status=status)} FROM links WHERE id=?",
            (*_FINAL, max_attempts, now, link_id),
        ).fetchone()
        return None if row is None else (row[0], bool(row[1]))

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
        # the statuses not in FINAL that links have, so that the look-up uses `links_status`
        status = f"status IN ({','.join('?' * len(due))})"
        query = (
            f"SELECT rowid, id, canonical_url FROM links WHERE {_DUE.format(status=status)} "
            "AND rowid > ? ORDER BY rowid LIMIT ?"
        )
        # Pages of rows, not one open cursor: the crawl takes them slowly while it writes
        # through the same connection.
        last = 0
        while rows := self.db.execute(query, (*due, max_attempts, now, last, DUE_PAGE)).fetchall():
            for _, link_id, url in rows:
                yield link_id, url
            last = rows[-1][0]

    # -- re-checks ---------------------------------------------------------------------
    def put_check(self, link_id: str, next_check: float | None, every: float = 86400.0) -> None:
        """When a link is checked again (None: never), `every` seconds after the last time."""
        if next_check is None:
            self.db.execute("DELETE FROM checks WHERE link_id=?", (link_id,))
            return
        self.db.execute(
            "INSERT OR REPLACE INTO checks(link_id, next_check, every) VALUES (?,?,?)",
            (link_id, next_check, every),
        )

    def next_check(self, link_id: str) -> float | None:
        row = self.db.execute(
            "SELECT next_check FROM checks WHERE link_id=?", (link_id,)
        ).fetchone()
        return None if row is None else float(row[0])

    def due_checks(self, now: float) -> Iterator[tuple[str, str]]:
        """Archived links whose next re-check is due, the most overdue for its interval first
        (`_LATENESS`): (id, canonical_url).

        The due rows are found through `checks_due` and read in pages: the cost is the due
        links', not the archive's. A row written meanwhile (a link just checked) moves past
        `now` and is not read again.
        """
        last: tuple[float, str] = (float("inf"), "")
        while rows := self.db.execute(
            DUE_CHECKS, (now, now, now, last[0], now, last[0], last[1], CHECKS_PAGE)
        ).fetchall():
            for link_id, url, _ in rows:
                yield link_id, url
            last = (float(rows[-1][2]), rows[-1][0])

    def count_due_checks(self, now: float) -> int:
        """How many links are due for a re-check now (counted through `checks_due`)."""
        return int(self.db.execute(COUNT_DUE_CHECKS, (now,)).fetchone()[0])

    def citation_tally(self) -> dict[str, Any]:
        """What `citations` would print, counted (`crawler.archive.tally.read`)."""
        return tally.read(self.db)

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

    # -- taking records out (`Archive.forget`) ------------------------------------------
    def drop_digest(self, digest_id: str, source: str | None) -> None:
        """Forget a digest: its row, its citations, its file's size and mtime."""
        self.db.execute("DELETE FROM citations WHERE digest=?", (digest_id,))
        self.db.execute("DELETE FROM digests WHERE id=?", (digest_id,))
        if source:
            self.db.execute("DELETE FROM digest_stats WHERE source=?", (source,))

    def drop_link(self, link_id: str) -> None:
        """Forget a link: its row and the aliases that lead to it."""
        self.db.execute("DELETE FROM aliases WHERE link_id=?", (link_id,))
        self.db.execute("DELETE FROM links WHERE id=?", (link_id,))
        self.db.execute("DELETE FROM checks WHERE link_id=?", (link_id,))

    def drop_article(self, article_id: str) -> None:
        self.db.execute("DELETE FROM articles WHERE id=?", (article_id,))

    # -- requisites: one capture per URL and per payload across pages --------------------
    def requisite(self, url: str) -> tuple[str, float, str] | None:
        """(status, fetched_at, attachment entry as JSON) of a requisite URL stored before."""
        row = self.db.execute(
            "SELECT status, fetched_at, entry FROM requisites WHERE url=?", (url,)
        ).fetchone()
        return None if row is None else (row[0], float(row[1]), row[2])

    def put_requisite(self, url: str, status: str, fetched_at: float, entry: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO requisites(url, status, fetched_at, entry) VALUES (?,?,?,?)",
            (url, status, fetched_at, entry),
        )

    def payload(self, digest: str) -> tuple[str, str, str, str] | None:
        """(target URI, WARC-Date, record id, pointer JSON) of the first record of a payload."""
        row = self.db.execute(
            "SELECT uri, date, record_id, pointer FROM payloads WHERE digest=?", (digest,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    def put_payload(self, digest: str, uri: str, date: str, record_id: str, pointer: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO payloads(digest, uri, date, record_id, pointer) "
            "VALUES (?,?,?,?,?)",
            (digest, uri, date, record_id, pointer),
        )

    def put_pending_requisites(self, article: str, urls: list[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO pending_requisites(article, url) VALUES (?,?)",
            [(article, url) for url in urls],
        )

    def drop_pending_requisites(self, article: str, urls: list[str]) -> None:
        self.db.executemany(
            "DELETE FROM pending_requisites WHERE article=? AND url=?",
            [(article, url) for url in urls],
        )

    def pending_requisites(self) -> Iterator[tuple[str, list[str]]]:
        """(article id, its requisite URLs still pending), article by article."""
        last = ""
        while True:
            row = self.db.execute(
                "SELECT article FROM pending_requisites WHERE article > ? ORDER BY article LIMIT 1",
                (last,),
            ).fetchone()
            if row is None:
                return
            last = row[0]
            urls = [
                url
                for (url,) in self.db.execute(
                    "SELECT url FROM pending_requisites WHERE article=? ORDER BY rowid", (last,)
                )
            ]
            yield last, urls

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
        tally.drop_triggers(self.db)
        tables = (
            "digests",
            "links",
            "aliases",
            "articles",
            "citations",
            "link_tally",
            "tally",
            "requisites",
            "payloads",
            "pending_requisites",
        )
        for table in tables:
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("DELETE FROM checks")  # re-check times: rebuilt from the link records
        if self._in_transaction:
            self._count_at_commit = True
        else:  # a transaction begun by hand: no commit of ours to count at
            tally.create_triggers(self.db)
