"""Full-text search over an archive: an SQLite FTS5 index derived from its files.

`search.sqlite3` beside the records (or, when the archive cannot be written, a file in the
user's cache) is not part of the archive's contract: it is rebuilt from the files alone by
`reindex`, kept up to date by `refresh()` before it answers (what changed is found from the
record folders' and files' modification times, so a refresh after a night's crawl reads what
that night wrote, not the archive), and deleting it loses nothing.

One document per article (its title; author, account and site; text; and the titles and
summaries of every digest entry citing it) and one per digest entry none of whose links is
archived (its title and summary), so that the summary of a page now gone is found too.
Chinese is searched through FTS5's `trigram` tokenizer, which matches any substring of three
characters or more; one- and two-character terms (模型, AI) go to a second index (`short`)
whose tokens are Latin words and, at each CJK character, the two characters starting there
(the last of a run alone): 模型 is one token there, 模 the prefix `模*`. A query is
never handed to FTS5's syntax: each term is quoted, so `AND`, `*`, `NEAR(`, quotes and colons
are searched for as written.

Ranking is bm25 over the columns (WEIGHTS), newest first among equals. A document's rowid is
the day it was last cited (see `_rowid_floor`), so FTS5, which walks rowids in order at no
cost, meets the newest matches first: a query matching more than RANK_AT_MOST documents (a
common word over a large archive) ranks its newest RANK_AT_MOST matches (bm25's statistics of
a term still count all its matches, which is most of what a common term costs). `--since` is a
rowid bound for the same reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import operator
import os
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.archive import layout, records, summaries
from crawler.archive.reader import read_quietly
from crawler.items import Status

NAME = "search.sqlite3"
#: Bumped when what the index holds changes: an index of another version is rebuilt.
VERSION = "2"
#: The longest query answered (characters).
MAX_QUERY = 200
#: Terms of one query at most.
MAX_TERMS = 12
#: Results per page at most.
MAX_LIMIT = 200
#: A file or folder changed less than this long before a scan is looked at again next time
#: (its modification time may not have moved for a change made in the same clock tick).
SETTLE_NS = 2_000_000_000
#: bm25 weights of the columns: title, people (author, account, site), text, entries.
WEIGHTS = (8.0, 4.0, 1.0, 3.0)
#: Characters of text shown around the first match.
SNIPPET = 80
#: Matches ranked at most (the newest): beyond it ranking costs more than it tells.
RANK_AT_MOST = 2000
#: Rowids of one day: a document's rowid is its day's ordinal times this, plus a sequence.
DAY_SLOTS = 1 << 22

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files(
    path TEXT PRIMARY KEY, dir TEXT NOT NULL, stamp TEXT NOT NULL);
CREATE INDEX files_dir ON files(dir);
CREATE TABLE dirs(path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
CREATE TABLE digests(
    id TEXT PRIMARY KEY, title TEXT, date TEXT, day TEXT, source TEXT, read_at TEXT,
    format TEXT, entries INTEGER NOT NULL, links INTEGER NOT NULL);
CREATE INDEX digests_day ON digests(day);
CREATE TABLE entries(
    digest TEXT NOT NULL, position INTEGER NOT NULL, title TEXT, section TEXT, summary TEXT,
    day TEXT, PRIMARY KEY(digest, position));
CREATE TABLE cites(
    digest TEXT NOT NULL, position INTEGER NOT NULL, url TEXT NOT NULL, link_id TEXT,
    role TEXT, PRIMARY KEY(digest, position, url));
CREATE INDEX cites_link ON cites(link_id);
CREATE TABLE links(
    id TEXT PRIMARY KEY, url TEXT, host TEXT, status TEXT, reason TEXT, article TEXT,
    gone_since TEXT, last_checked TEXT);
CREATE INDEX links_article ON links(article);
CREATE TABLE docs(
    rowid INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, kind TEXT NOT NULL, article TEXT,
    digest TEXT, position INTEGER, title TEXT, url TEXT, host TEXT, site TEXT,
    published TEXT, author TEXT, last_cited TEXT, statuses TEXT NOT NULL);
CREATE INDEX docs_article ON docs(article);
CREATE VIRTUAL TABLE fts USING fts5(
    title, people, text, entries, tokenize='trigram');
CREATE VIRTUAL TABLE short USING fts5(
    title, people, text, entries, content='', tokenize='unicode61 remove_diacritics 0');
"""

ARTICLE = "article"
ENTRY = "entry"

#: Runs of CJK letters (ideographs, kana, bopomofo, hangul; not their punctuation or symbols,
#: which the tokenizer drops): what has no spaces between its words.
_CJK_RUN = re.compile(
    r"[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3105-\u312f\u31a0-\u31bf"
    r"\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]+"
)
_CJK_SPLIT = re.compile("(" + _CJK_RUN.pattern + ")")
_PIECES = re.compile(_CJK_RUN.pattern + "|" + _CJK_RUN.pattern.replace("[", "[^", 1))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TERMS = re.compile(r'"([^"]*)"|(\S+)')


class SearchError(ValueError):
    """A query or filter that cannot be answered, told in one sentence."""


def cjk_bigrams(text: str) -> str:
    """Text for the `short` index: at each CJK character the two starting there (the last of a
    run alone), so a token per character; Latin words are left to the tokenizer."""
    parts = _CJK_SPLIT.split(text)  # text, a run, text, a run, ..., text
    for i in range(1, len(parts), 2):  # per run, not per character: an index build's hot loop
        run = parts[i]
        parts[i] = " " + " ".join(map(operator.add, run, run[1:])) + " " + run[-1] + " "
    return "".join(parts)


def _short_phrase(term: str) -> str | None:
    """The `short` MATCH phrase of a term of one or two characters (see `cjk_bigrams`)."""
    pieces = []
    for m in _PIECES.finditer(term):
        if not _CJK_RUN.fullmatch(m.group()):
            pieces.append(m.group())  # words: the tokenizer splits them as it split the text
        elif len(m.group()) > 1 or m.end() < len(term):
            pieces.append(m.group())  # a bigram, or a character closing its run in the text
        else:
            return _quote(" ".join([*pieces, m.group()])) + " *"  # its bigram, or its run's end
    phrase = " ".join(pieces)
    return _quote(phrase) if phrase.strip() else None


def _quote(term: str) -> str:
    """An FTS5 string: the term searched for as written."""
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class Query:
    """A parsed query: its terms (each matched as written, all of them required)."""

    text: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Query:
        """Terms are words or "quoted phrases"; SearchError for an empty or oversized query."""
        if len(text) > MAX_QUERY:
            raise SearchError(
                f"the query is {len(text)} characters long; at most {MAX_QUERY} are searched"
            )
        clean = _CONTROL.sub(" ", text)
        terms: list[str] = []
        for m in _TERMS.finditer(clean):
            term = " ".join((m.group(1) if m.group(1) is not None else m.group(2)).split())
            if term and term not in terms:
                terms.append(term)
        if not terms:
            raise SearchError("the query is empty")
        if len(terms) > MAX_TERMS:
            raise SearchError(f"the query has {len(terms)} terms; at most {MAX_TERMS} are used")
        return cls(text, tuple(terms))

    @staticmethod
    def variants(term: str) -> list[str]:
        """The term as typed, and its NFKC form (full-width letters and digits) if other."""
        folded = unicodedata.normalize("NFKC", term)
        return [term] if folded == term else [term, folded]

    def long_match(self) -> str | None:
        """The trigram MATCH expression of the terms of three characters or more."""
        parts = []
        for term in self.terms:
            if len(term) >= 3:
                forms = [_quote(v) for v in self.variants(term)]
                parts.append(forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")")
        return " AND ".join(parts) or None

    def short_match(self) -> str | None:
        """The `short` MATCH expression of the terms of one or two characters."""
        parts = []
        for term in self.terms:
            if len(term) < 3:
                forms = [f for f in map(_short_phrase, self.variants(term)) if f]
                if forms:
                    parts.append(forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")")
        return " AND ".join(parts) or None


@dataclass
class Hit:
    """One search result: an article (or an entry whose sources are not archived)."""

    kind: str
    score: float
    title: str | None
    url: str | None
    site: str | None
    host: str | None
    author: str | None
    published: str | None
    article: str | None
    statuses: list[str]
    snippet: list[tuple[str, bool]]  # (text, is a match)
    entries: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    def snippet_text(self, mark: tuple[str, str] = ("[", "]")) -> str:
        """The snippet with matches between `mark`."""
        return "".join(f"{mark[0]}{t}{mark[1]}" if m else t for t, m in self.snippet)

    def as_dict(self) -> dict[str, Any]:
        """The hit as JSON (one line of `search --json`)."""
        return {
            "kind": self.kind,
            "score": round(self.score, 4),
            "title": self.title,
            "url": self.url,
            "site": self.site,
            "host": self.host,
            "author": self.author,
            "published": self.published,
            "article": self.article,
            "statuses": self.statuses,
            "snippet": self.snippet_text(),
            "entries": self.entries,
            "links": self.links,
        }


def default_path(root: Path) -> Path:
    """Where an archive's search index lives: in the archive, or (when the archive cannot be
    written) in the user's cache, one file per archive."""
    inside = root / NAME
    if os.access(root, os.W_OK) and (not inside.exists() or os.access(inside, os.W_OK)):
        return inside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sources"
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache / f"search-{tag}.sqlite3"


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _day(value: Any) -> str | None:
    """The YYYY-MM-DD of a date or time stamp, else None."""
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def _rowid_floor(day: str | None) -> int:
    """The first rowid of a document last cited on `day` (YYYY-MM-DD); 0 for no day."""
    try:
        return date.fromisoformat(day).toordinal() * DAY_SLOTS if day else 0
    except ValueError:
        return 0


def check_day(value: str | None, what: str = "--since") -> str | None:
    """A YYYY-MM-DD date as given, or SearchError."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise SearchError(f"{what} takes a date as YYYY-MM-DD, not {value!r}") from None


class SearchIndex:
    """The search index of one archive (see the module doc)."""

    def __init__(self, root: Path, path: Path | None = None):
        self.root = Path(root)
        self.path = path or default_path(self.root)
        self.last_refresh = 0.0

    # -- connections -------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        """A connection to the index, created (or, of another version, made anew) first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if _version(db) != VERSION:
                with _transaction(db):
                    if _version(db) != VERSION:  # another process may have made it meanwhile
                        _create(db)
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = self.connect()
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _writer(self, wait: bool) -> Iterator[bool]:
        """The index's write lock (a file beside it); yields False when another process holds
        it and `wait` is False."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    # -- keeping it up to date ---------------------------------------------------------
    def rebuild(self) -> dict[str, int]:
        """Build the index anew from the files alone (what `reindex` does)."""
        with self._writer(wait=True), self._db() as db, _transaction(db):
            _create(db)
            counts = self._update(db)
        self.last_refresh = time.time()
        return counts

    def refresh(self, *, wait: bool = False, max_age: float = 0.0) -> dict[str, int] | None:
        """Take in what changed in the archive since the last refresh; None when another
        process is refreshing it right now (its answer is then the index as it stands), or
        when the last refresh of this object is younger than `max_age` seconds."""
        if max_age and time.time() - self.last_refresh < max_age:
            return None
        with self._writer(wait=wait) as mine:
            if not mine:
                return None
            with self._db() as db, _transaction(db):
                counts = self._update(db)
        self.last_refresh = time.time()
        return counts

    def _changed(self, db: sqlite3.Connection) -> dict[str, set[str]]:
        """Ids of the digest, link and article records that changed, appeared or went."""
        now = time.time_ns()
        changed: dict[str, set[str]] = {
            layout.DIGESTS: set(),
            layout.LINKS: set(),
            layout.ARTICLES: set(),
        }
        known_dirs = dict(db.execute("SELECT path, mtime_ns FROM dirs"))
        folders: list[tuple[str, Path]] = [(layout.DIGESTS, self.root / layout.DIGESTS)]
        for kind in (layout.LINKS, layout.ARTICLES):
            base = self.root / kind
            with contextlib.suppress(OSError):
                folders += [(kind, p) for p in sorted(base.iterdir()) if p.is_dir()]
        seen_dirs: set[str] = set()
        for kind, folder in folders:
            rel = layout.relative(self.root, folder)
            seen_dirs.add(rel)
            try:
                mtime = folder.stat().st_mtime_ns
            except OSError:
                continue
            if known_dirs.get(rel) == mtime:
                continue
            stamps: dict[str, str] = {}
            try:
                names = [n for n in os.listdir(folder) if n.endswith(".json") and n[0] != "."]
            except OSError:
                continue
            for name in names:
                try:
                    info = os.stat(folder / name)
                except OSError:
                    continue
                settled = now - info.st_mtime_ns > SETTLE_NS
                stamp = f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}" if settled else "new"
                stamps[f"{rel}/{name}"] = stamp
            old = dict(db.execute("SELECT path, stamp FROM files WHERE dir=?", (rel,)))
            for path in set(old) | set(stamps):
                if old.get(path) != stamps.get(path) or stamps.get(path) == "new":
                    changed[kind].add(path.rsplit("/", 1)[1].removesuffix(".json"))
            db.execute("DELETE FROM files WHERE dir=?", (rel,))
            db.executemany(
                "INSERT INTO files(path, dir, stamp) VALUES (?,?,?)",
                [(p, rel, s) for p, s in stamps.items()],
            )
            settled_dir = now - mtime > SETTLE_NS and "new" not in stamps.values()
            db.execute(
                "INSERT OR REPLACE INTO dirs(path, mtime_ns) VALUES (?,?)",
                (rel, mtime if settled_dir else -1),
            )
        for rel in set(known_dirs) - seen_dirs:  # a folder that went (a pruned archive)
            kind = rel.split("/", 1)[0]
            for (path,) in db.execute("SELECT path FROM files WHERE dir=?", (rel,)).fetchall():
                changed.setdefault(kind, set()).add(path.rsplit("/", 1)[1].removesuffix(".json"))
            db.execute("DELETE FROM files WHERE dir=?", (rel,))
            db.execute("DELETE FROM dirs WHERE path=?", (rel,))
        return changed

    def _update(self, db: sqlite3.Connection) -> dict[str, int]:
        """Bring the index in line with the files (inside the caller's transaction)."""
        changed = self._changed(db)
        links: set[str] = set(changed[layout.LINKS])
        articles: set[str] = set(changed[layout.ARTICLES])
        entries: set[tuple[str, int]] = set()
        for digest_id in changed[layout.DIGESTS]:
            links |= self._digest(db, digest_id, entries)
        for link_id in links:
            articles |= self._link(db, link_id, entries)
        for article_id in articles:
            entries |= self._article(db, article_id)
        for digest_id, position in entries:
            self._entry(db, digest_id, position)
        return {
            "digests": len(changed[layout.DIGESTS]),
            "links": len(links),
            "articles": len(articles),
            "entries": len(entries),
        }

    def _digest(
        self, db: sqlite3.Connection, digest_id: str, entries: set[tuple[str, int]]
    ) -> set[str]:
        """Replace a digest's rows; the links it cited or cites now (their docs change)."""
        touched = {
            lid
            for (lid,) in db.execute("SELECT link_id FROM cites WHERE digest=?", (digest_id,))
            if lid
        }
        entries.update(
            db.execute("SELECT digest, position FROM entries WHERE digest=?", (digest_id,))
        )
        for table, column in (("digests", "id"), ("entries", "digest"), ("cites", "digest")):
            db.execute(f"DELETE FROM {table} WHERE {column}=?", (digest_id,))
        try:
            record = read_quietly(layout.digest_path(self.root, digest_id))
        except ValueError:
            record = None
        if record is None:
            return touched
        day = _day(record.get("date")) or _day(record.get("read_at"))
        texts = summaries.summaries(self.root, record)
        cited = records.citing_entries(record)
        db.execute(
            "INSERT INTO digests(id, title, date, day, source, read_at, format, entries, links) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                digest_id,
                record.get("title"),
                record.get("date"),
                day,
                record.get("source"),
                record.get("read_at"),
                record.get("format"),
                sum(1 for e in cited if e.get("position") != records.DIGEST_ENTRY),
                sum(len(e.get("links", [])) for e in cited),
            ),
        )
        for entry in cited:
            position = int(entry.get("position", 0))
            db.execute(
                "INSERT OR REPLACE INTO entries(digest, position, title, section, summary, day) "
                "VALUES (?,?,?,?,?,?)",
                (
                    digest_id,
                    position,
                    entry.get("title"),
                    entry.get("section"),
                    texts.get(position, ""),
                    day,
                ),
            )
            entries.add((digest_id, position))
            for link in entry.get("links", []):
                db.execute(
                    "INSERT OR IGNORE INTO cites(digest, position, url, link_id, role) "
                    "VALUES (?,?,?,?,?)",
                    (digest_id, position, link.get("url"), link.get("link_id"), link.get("role")),
                )
                if link.get("link_id"):
                    touched.add(link["link_id"])
        return touched

    def _link(
        self, db: sqlite3.Connection, link_id: str, entries: set[tuple[str, int]]
    ) -> set[str]:
        """Replace a link's row; the articles it led to or leads to now."""
        touched = set()
        old = db.execute("SELECT article FROM links WHERE id=?", (link_id,)).fetchone()
        if old and old[0]:
            touched.add(old[0])
        db.execute("DELETE FROM links WHERE id=?", (link_id,))
        entries.update(db.execute("SELECT digest, position FROM cites WHERE link_id=?", (link_id,)))
        try:
            record = read_quietly(layout.link_path(self.root, link_id))
        except ValueError:
            record = None
        if record is None:
            return touched
        url = record.get("canonical_url")
        db.execute(
            "INSERT INTO links(id, url, host, status, reason, article, gone_since, last_checked) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                link_id,
                url,
                _host(url),
                record.get("status"),
                record.get("reason"),
                record.get("article"),
                record.get("gone_since"),
                record.get("last_checked"),
            ),
        )
        if record.get("article"):
            touched.add(record["article"])
        return touched

    def _put_doc(
        self,
        db: sqlite3.Connection,
        key: str,
        doc: dict[str, Any] | None,
        texts: tuple[str, str, str, str],
    ) -> None:
        """Replace (or, with doc None, remove) one document and its text in both indexes."""
        row = db.execute("SELECT rowid FROM docs WHERE key=?", (key,)).fetchone()
        if row is not None:
            rowid = row[0]
            old = db.execute(
                "SELECT title, people, text, entries FROM fts WHERE rowid=?", (rowid,)
            ).fetchone()
            if old is not None:
                db.execute(
                    "INSERT INTO short(short, rowid, title, people, text, entries) "
                    "VALUES ('delete',?,?,?,?,?)",
                    (rowid, *(cjk_bigrams(v or "") for v in old)),
                )
                db.execute("DELETE FROM fts WHERE rowid=?", (rowid,))
            db.execute("DELETE FROM docs WHERE rowid=?", (rowid,))
        if doc is None:
            return
        floor = _rowid_floor(doc.get("last_cited"))
        (top,) = db.execute(
            "SELECT max(rowid) FROM docs WHERE rowid >= ? AND rowid < ?",
            (floor, floor + DAY_SLOTS),
        ).fetchone()
        rowid = floor if top is None else top + 1
        cursor = db.execute(
            "INSERT INTO docs(rowid, key, kind, article, digest, position, title, url, host, "
            "site, published, author, last_cited, statuses) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rowid if rowid < floor + DAY_SLOTS else None,  # a day of 4 million: next free
                key,
                doc["kind"],
                doc.get("article"),
                doc.get("digest"),
                doc.get("position"),
                doc.get("title"),
                doc.get("url"),
                doc.get("host"),
                doc.get("site"),
                doc.get("published"),
                doc.get("author"),
                doc.get("last_cited"),
                " " + " ".join(sorted(set(doc["statuses"]))) + " ",
            ),
        )
        rowid = cursor.lastrowid
        db.execute(
            "INSERT INTO fts(rowid, title, people, text, entries) VALUES (?,?,?,?,?)",
            (rowid, *texts),
        )
        db.execute(
            "INSERT INTO short(rowid, title, people, text, entries) VALUES (?,?,?,?,?)",
            (rowid, *(cjk_bigrams(t) for t in texts)),
        )

    def _citing(self, db: sqlite3.Connection, link_ids: list[str]) -> list[tuple[Any, ...]]:
        """(digest, position, title, summary, day) of every entry citing any of the links."""
        if not link_ids:
            return []
        marks = ",".join("?" * len(link_ids))
        return db.execute(
            "SELECT DISTINCT e.digest, e.position, e.title, e.summary, e.day FROM cites c "
            "JOIN entries e ON e.digest = c.digest AND e.position = c.position "
            f"WHERE c.link_id IN ({marks}) "
            "ORDER BY e.digest, e.position",
            link_ids,
        ).fetchall()

    def _article(self, db: sqlite3.Connection, article_id: str) -> set[tuple[str, int]]:
        """Replace an article's document; the entries citing it (their own docs may change)."""
        try:
            record = read_quietly(layout.article_path(self.root, article_id))
        except ValueError:
            record = None
        link_ids = sorted(
            {lid for (lid,) in db.execute("SELECT id FROM links WHERE article=?", (article_id,))}
            | set(record.get("links", []) if record else [])
        )
        citing = self._citing(db, link_ids)
        entries = {(d, p) for d, p, *_ in citing}
        if record is None:
            self._put_doc(db, f"a:{article_id}", None, ("", "", "", ""))
            return entries
        marks = ",".join("?" * len(link_ids))
        statuses = [
            s for (s,) in db.execute(f"SELECT status FROM links WHERE id IN ({marks})", link_ids)
        ]
        extra: dict[str, Any] = record["extra"] if isinstance(record.get("extra"), dict) else {}
        account = extra.get("account") if isinstance(extra.get("account"), str) else None
        people = " ".join(
            p for p in (record.get("author"), account, record.get("site")) if isinstance(p, str)
        )
        cited_text = "\n".join(f"{t or ''}\n{s or ''}" for _, _, t, s, _ in citing)
        days = [day for *_, day in citing if day]
        url = record.get("url")
        doc = {
            "kind": ARTICLE,
            "article": article_id,
            "title": record.get("title"),
            "url": url,
            "host": _host(url),
            "site": record.get("site"),
            "published": record.get("published"),
            "author": record.get("author") or account,
            "last_cited": max(days) if days else _day(record.get("published")),
            "statuses": statuses or [Status.ARCHIVED],
        }
        texts = (str(record.get("title") or ""), people, str(record.get("text") or ""), cited_text)
        self._put_doc(db, f"a:{article_id}", doc, texts)
        return entries

    def _entry(self, db: sqlite3.Connection, digest_id: str, position: int) -> None:
        """An entry's own document: only while none of its links leads to an article."""
        key = f"e:{digest_id}:{position}"
        row = db.execute(
            "SELECT title, summary, day FROM entries WHERE digest=? AND position=?",
            (digest_id, position),
        ).fetchone()
        links = db.execute(
            "SELECT c.url, c.role, l.status, l.article, l.host FROM cites c "
            "LEFT JOIN links l ON l.id = c.link_id WHERE c.digest=? AND c.position=? "
            "ORDER BY c.rowid",
            (digest_id, position),
        ).fetchall()
        if row is None or position == records.DIGEST_ENTRY or any(a for _, _, _, a, _ in links):
            self._put_doc(db, key, None, ("", "", "", ""))
            return
        title, summary, day = row
        source = next((lk for lk in links if lk[1] == "source"), links[0] if links else None)
        doc = {
            "kind": ENTRY,
            "digest": digest_id,
            "position": position,
            "title": title,
            "url": source[0] if source else None,
            "host": source[4] if source else None,
            "last_cited": day,
            "statuses": [lk[2] or Status.INVALID for lk in links] or [Status.INVALID],
        }
        self._put_doc(db, key, doc, (str(title or ""), "", "", f"{title or ''}\n{summary or ''}"))

    # -- answering -------------------------------------------------------------------
    def search(
        self,
        text: str,
        *,
        sites: Iterable[str] = (),
        since: str | None = None,
        statuses: Iterable[str] = (),
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Hit], bool]:
        """Ranked hits of a query, and whether there are more; SearchError for a bad query.

        Of more than RANK_AT_MOST matches (or `offset + limit`, if more) the newest are ranked.
        """
        query = Query.parse(text)
        since = check_day(since)
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        long_match, short_match = query.long_match(), query.short_match()
        both = bool(long_match and short_match)
        table = "fts" if long_match else "short"
        floor = _rowid_floor(since)
        where = [f"{table} MATCH ?"]
        params: list[Any] = [long_match or short_match]
        site_list = [s.strip().lower() for s in sites if s.strip()]
        if site_list:
            ors = []
            for site in site_list:
                ors.append("(d.host = ? OR d.host LIKE ? OR lower(d.site) = ?)")
                params += [site, "%." + site, site]
            where.append("(" + " OR ".join(ors) + ")")
        wanted = [s.strip() for s in statuses if s.strip()]
        if wanted:
            unknown = [s for s in wanted if s not in {str(v) for v in Status}]
            if unknown:
                raise SearchError(f"unknown status {unknown[0]!r}; one of {', '.join(Status)}")
            where.append("(" + " OR ".join("d.statuses LIKE ?" for _ in wanted) + ")")
            params += [f"% {s} %" for s in wanted]
        matches = f"FROM {table} JOIN docs d ON d.rowid = {table}.rowid WHERE " + " AND ".join(
            where
        )
        cap = max(RANK_AT_MOST, offset + limit + 1)
        ranks = ", ".join(map(str, WEIGHTS))
        with self._db() as db:
            try:
                # The newest `cap` matches, walked in rowid order (FTS5's own, at no cost).
                walk = db.execute(
                    f"SELECT {table}.rowid {matches} AND {table}.rowid >= ? "
                    f"ORDER BY {table}.rowid DESC",
                    [*params, floor],
                )
                if both:  # and the short terms' matches beside them, newest first too
                    other = db.execute(
                        "SELECT rowid FROM short WHERE short MATCH ? AND rowid >= ? "
                        "ORDER BY rowid DESC",
                        (short_match, floor),
                    )
                    newest = list(itertools.islice(_in_both(walk, other), cap))
                    other.close()
                else:
                    newest = [r for (r,) in walk.fetchmany(cap)]
                walk.close()
                if not newest:
                    return [], False
                if both:  # `+`: a filter, not one FTS5 look-up per rowid
                    matches += f" AND +{table}.rowid IN (SELECT value FROM json_each(?))"
                    params.append(json.dumps(newest))
                rows = db.execute(
                    "SELECT d.rowid, d.kind, d.article, d.digest, d.position, d.title, d.url, "
                    f"d.host, d.site, d.author, d.published, d.statuses, "
                    f"bm25({table}, {ranks}) AS score {matches} AND {table}.rowid >= ? "
                    f"ORDER BY score, {table}.rowid DESC LIMIT ? OFFSET ?",
                    [*params, newest[-1], limit + 1, offset],
                ).fetchall()
            except sqlite3.OperationalError as exc:  # the query still confused FTS5
                raise SearchError(f"the query cannot be searched: {exc}") from None
            hits = [self._hit(db, row, query) for row in rows[:limit]]
        return hits, len(rows) > limit

    def _hit(self, db: sqlite3.Connection, row: tuple[Any, ...], query: Query) -> Hit:
        (
            rowid,
            kind,
            article,
            digest,
            position,
            title,
            url,
            host,
            site,
            author,
            published,
            statuses,
            score,
        ) = row
        texts = db.execute(
            "SELECT title, text, entries FROM fts WHERE rowid=?", (rowid,)
        ).fetchone() or ("", "", "")
        if kind == ARTICLE:
            link_rows = db.execute(
                "SELECT id, url, status, gone_since FROM links WHERE article=? ORDER BY id",
                (article,),
            ).fetchall()
            citing = self._citing(db, [r[0] for r in link_rows])
            links = [
                {"link_id": i, "url": u, "status": s, "gone_since": g} for i, u, s, g in link_rows
            ]
        else:
            citing = db.execute(
                "SELECT digest, position, title, summary, day FROM entries "
                "WHERE digest=? AND position=?",
                (digest, position),
            ).fetchall()
            links = [
                {"link_id": i, "url": u, "status": s or Status.INVALID, "gone_since": g}
                for u, i, s, g in db.execute(
                    "SELECT c.url, c.link_id, l.status, l.gone_since FROM cites c "
                    "LEFT JOIN links l ON l.id = c.link_id WHERE c.digest=? AND c.position=? "
                    "ORDER BY c.rowid",
                    (digest, position),
                )
            ]
        entries = [
            {"digest": d, "entry": p, "entry_title": t, "digest_date": day}
            for d, p, t, _s, day in citing
        ]
        return Hit(
            kind=kind,
            score=-float(score),
            title=title,
            url=url,
            site=site,
            host=host,
            author=author,
            published=published,
            article=article,
            statuses=statuses.split(),
            snippet=snippet([t or "" for t in (texts[1], texts[2], texts[0])], query.terms),
            entries=entries,
            links=links,
        )

    # -- what the reader lists -------------------------------------------------------
    def digests(self, *, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Digests newest first (by date, then id), and how many there are."""
        with self._db() as db:
            total = db.execute("SELECT count(*) FROM digests").fetchone()[0]
            rows = db.execute(
                "SELECT id, title, date, day, source, format, entries, links FROM digests "
                "ORDER BY day DESC, id LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        keys = ("id", "title", "date", "day", "source", "format", "entries", "links")
        return [dict(zip(keys, r, strict=True)) for r in rows], int(total)

    def status_counts(self, digest_ids: list[str]) -> dict[str, dict[str, int]]:
        """digest -> {status: links} of the links each digest cites."""
        if not digest_ids:
            return {}
        marks = ",".join("?" * len(digest_ids))
        out: dict[str, dict[str, int]] = {d: {} for d in digest_ids}
        with self._db() as db:
            for digest, status, n in db.execute(
                "SELECT c.digest, coalesce(l.status, 'invalid'), count(DISTINCT c.url) "
                "FROM cites c "
                f"LEFT JOIN links l ON l.id = c.link_id WHERE c.digest IN ({marks}) GROUP BY 1, 2",
                digest_ids,
            ):
                out[digest][status] = n
        return out


def snippet(texts: list[str], terms: Iterable[str], width: int = SNIPPET) -> list[tuple[str, bool]]:
    """A piece of the first text holding a term, around its first match, as (text, is a
    match) parts; the start of the first text when no term is found."""
    # The forms the index matched, case aside; the text is not normalised (that took most of a
    # search's own time).
    folded_terms = {f.casefold() for t in terms for f in Query.variants(t)}
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(folded_terms, key=len, reverse=True) if t)
    )
    for text in texts:
        if not text:
            continue
        flat = " ".join(text.split())
        folded = flat.casefold()
        if len(folded) != len(flat):  # a character that folds to several: match on the raw text
            folded = flat
        m = pattern.search(folded)
        if m is None:
            continue
        left = max(0, m.start() - width // 2)
        right = min(len(flat), m.end() + width)
        parts: list[tuple[str, bool]] = [("…", False)] if left else []
        at = left
        for hit in pattern.finditer(folded, left, right):
            if hit.start() > at:
                parts.append((flat[at : hit.start()], False))
            parts.append((flat[hit.start() : hit.end()], True))
            at = hit.end()
        if at < right:
            parts.append((flat[at:right], False))
        if right < len(flat):
            parts.append(("…", False))
        return parts
    first = next((" ".join(t.split()) for t in texts if t), "")
    return [(first[:width] + ("…" if len(first) > width else ""), False)] if first else []


def dumps(hit: Hit) -> str:
    """One JSON line of `search --json`."""
    return json.dumps(hit.as_dict(), ensure_ascii=False)


def _in_both(first: Iterable[tuple[int]], second: Iterable[tuple[int]]) -> Iterator[int]:
    """The rowids both walks hold, of two walks in descending rowid order (a merge)."""
    a, b = iter(first), iter(second)
    x, y = next(a, None), next(b, None)
    while x is not None and y is not None:
        if x[0] == y[0]:
            yield x[0]
            x, y = next(a, None), next(b, None)
        elif x[0] > y[0]:
            x = next(a, None)
        else:
            y = next(b, None)


def _version(db: sqlite3.Connection) -> str | None:
    """The VERSION an index file was made by; None for a new (or foreign) file."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    except sqlite3.OperationalError:  # no meta table
        return None
    return str(row[0]) if row else None


def _create(db: sqlite3.Connection) -> None:
    """Every table dropped and made anew, empty (inside the caller's transaction): dropping
    frees an old index's pages at once, where deleting its rows re-read all their text."""
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%'"
    ).fetchall():
        db.execute(f'DROP TABLE IF EXISTS "{name}"')
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        db.execute(f'DROP TABLE IF EXISTS "{name}"')
    for statement in _SCHEMA.split(";"):  # not executescript: it would COMMIT first
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta(key, value) VALUES ('version', ?)", (VERSION,))


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE); rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
