"""The archive directory: the one place that writes and reads its records (ARCHIVE.md)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.archive import atomic, layout
from crawler.archive.index import Index
from crawler.archive.lock import ArchiveError, ArchiveLock
from crawler.archive.warc import WarcWriter
from crawler.items import Digest, Pointer

logger = logging.getLogger(__name__)


def now_iso(ts: float | None = None) -> str:
    """UTC time stamp in ISO 8601 with offset, seconds precision."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.isoformat(timespec="seconds")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class Archive:
    """An archive directory opened for writing by one crawl (see ARCHIVE.md for the layout)."""

    def __init__(self, root: Path | str, *, warc_max_bytes: int = 1_000_000_000,
                 info: dict[str, Any] | None = None, shared: bool = False):
        self.root = Path(root)
        self.shared = shared  # one of several processes of a distributed run
        self.warc_max_bytes = warc_max_bytes
        self.info = info or {}
        self.lock = ArchiveLock(self.root / layout.LOCK)
        self.index: Index
        self.warc: WarcWriter
        self.recovered = False

    # -- life cycle ----------------------------------------------------------------------
    def open(self) -> Archive:
        """Create or open the archive, take the lock, recover from a crashed run if needed."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.lock.acquire(shared=self.shared)
        except OSError as exc:
            raise ArchiveError(f"archive {self.root} cannot be written: {exc}") from exc
        try:
            manifest = atomic.read_json(self.root / layout.MANIFEST)
            if manifest is None:
                atomic.write_json(self.root / layout.MANIFEST, {
                    "schema": layout.SCHEMA,
                    "schema_version": layout.SCHEMA_VERSION,
                    "created": now_iso(),
                    "software": f"sources/{__version__}",
                })
            elif manifest.get("schema_version") != layout.SCHEMA_VERSION:
                raise ArchiveError(
                    f"{self.root / layout.MANIFEST}: schema_version "
                    f"{manifest.get('schema_version')!r}, this crawler writes "
                    f"{layout.SCHEMA_VERSION}"
                )
            index_path = self.root / layout.INDEX
            fresh_index = not index_path.exists()
            try:
                self.index = Index(index_path)
            except sqlite3.Error as exc:
                raise ArchiveError(f"archive {self.root}: cannot open {index_path}: {exc} "
                                   "(disk full? delete it to rebuild it from the files)") from exc
            if self.lock.stale:
                from crawler.archive.recovery import recover

                logger.warning("archive %s: previous crawl %s did not stop cleanly; recovering",
                               self.root, self.lock.stale)
                recover(self, self.lock.stale)
                self.recovered = True
            elif fresh_index:
                self.reindex()
            self.warc = WarcWriter(self.root, max_bytes=self.warc_max_bytes, info=self.info)
        except BaseException:
            self.lock.release()
            raise
        return self

    def close(self) -> None:
        """Flush and close the WARC and index, release the lock."""
        self.warc.close()
        self.index.close()
        self.lock.release()

    @contextlib.contextmanager
    def _exclusive(self, path: Path) -> Iterator[None]:
        """Serialise read-modify-write of one record among the processes of a distributed run.

        A single crawl is the only writer (the archive lock), so it skips the file lock.
        """
        if not self.shared:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- reading state -------------------------------------------------------------------
    def link_record(self, link_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.link_path(self.root, link_id))

    def article_record(self, article_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.article_path(self.root, article_id))

    def digest_record(self, digest_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.digest_path(self.root, digest_id))

    def digest_seen(self, sha256: str) -> bool:
        """True when a digest with exactly these bytes was already recorded."""
        return self.index.digest_by_sha256(sha256) is not None

    def due_links(self, max_attempts: int) -> Iterator[tuple[str, str]]:
        """(link id, canonical URL) of every link that still needs a fetch now."""
        return self.index.due_links(time.time(), max_attempts)

    # -- writing -------------------------------------------------------------------------
    def digest_file_unchanged(self, source: str, size: int, mtime_ns: int) -> bool:
        """True when this digest file was recorded with exactly this size and mtime."""
        return self.index.digest_stat_unchanged(source, size, mtime_ns)

    def note_digest_file(self, source: str, size: int, mtime_ns: int) -> None:
        """Remember a recorded digest file's size and mtime (an index hint, not a record)."""
        with self.index.transaction():
            self.index.put_digest_stat(source, size, mtime_ns)

    def record_digest(self, digest: Digest, raw: bytes, read_at: float) -> dict[str, int]:
        """Store a digest: its bytes as a WARC resource, its record, and its link-backs.

        Link records are written before the digest record, so a crash in between leaves the
        digest unrecorded and the next run simply records it again. Returns counts.
        """
        pointer = self.warc.write_resource(
            uri=_digest_uri(digest.source), data=raw, content_type="text/markdown",
            read_at=read_at,
        )
        previous = self.digest_record(digest.id)
        if previous is not None and previous.get("source") != digest.source:
            raise ValueError(
                f"{digest.source}: digest id {digest.id!r} is already used by "
                f"{previous.get('source')}; rename one of them"
            )
        cites: dict[str, list[dict[str, Any]]] = {}
        canonical: dict[str, str] = {}
        rows: list[tuple[int, str, str | None]] = []
        for entry in digest.entries:
            for link in entry.links:
                link_id = _link_id(link.canonical_url)
                rows.append((entry.position, link.url, link_id))
                if link_id is None:
                    continue
                assert link.canonical_url is not None
                canonical[link_id] = link.canonical_url
                cites.setdefault(link_id, []).append(
                    {"digest": digest.id, "entry": entry.position, "role": link.role,
                     "url": link.url}
                )
        stale = set()
        if previous is not None:
            stale = {
                lk["link_id"]
                for e in previous.get("entries", [])
                for lk in e.get("links", [])
                if lk.get("link_id")
            } - set(cites)
        counts = {"new_links": 0}
        for link_id, citations in cites.items():
            counts["new_links"] += self._add_citations(
                link_id, canonical[link_id], digest.id, citations
            )
        for link_id in stale:
            self._add_citations(link_id, None, digest.id, [])
        record = {
            "schema_version": layout.SCHEMA_VERSION,
            "id": digest.id,
            "source": digest.source,
            "sha256": digest.sha256,
            "format": digest.format,
            "title": digest.title,
            "date": digest.date,
            "read_at": now_iso(read_at),
            "original": pointer.as_dict(),
            "entries": [
                {
                    "position": e.position,
                    "title": e.title,
                    "section": e.section,
                    "labels": e.labels,
                    "links": [
                        {
                            "url": lk.url,
                            "role": lk.role,
                            "text": lk.text,
                            "canonical_url": lk.canonical_url,
                            "link_id": _link_id(lk.canonical_url),
                            "error": lk.error,
                        }
                        for lk in e.links
                    ],
                }
                for e in digest.entries
            ],
        }
        atomic.write_json(layout.digest_path(self.root, digest.id), record)
        with self.index.transaction():
            self.index.put_citations(digest.id, rows)
            self.index.put_digest(digest.id, digest.source, digest.sha256)
        return counts

    def _add_citations(
        self, link_id: str, canonical_url: str | None, digest_id: str,
        citations: list[dict[str, Any]],
    ) -> int:
        """Replace `digest_id`'s citations in a link record; create it as pending. 1 if new."""
        path = layout.link_path(self.root, link_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            created = record is None
            if record is None:
                if canonical_url is None:
                    return 0
                record = _new_link(link_id, canonical_url)
                alias = self.index.alias(canonical_url)
                if alias and alias != link_id:
                    record.update(self._copy_outcome(alias))
            kept = [c for c in record["cited_by"] if c["digest"] != digest_id]
            record["cited_by"] = sorted(kept + citations,
                                        key=lambda c: (c["digest"], c["entry"], c["url"]))
            atomic.write_json(path, record)
        self.index.put_link(link_id, record["canonical_url"], record["status"],
                            record["attempts"], record.get("next_attempt"), record["article"])
        return int(created)

    def _copy_outcome(self, other_id: str) -> dict[str, Any]:
        """The archived outcome of another link naming the same page (WeChat short/long)."""
        other = self.link_record(other_id)
        if not other or other.get("status") != "archived":
            return {}
        keys = ("status", "http_status", "article", "original", "fetch", "last_attempt")
        return {k: other.get(k) for k in keys} | {"same_as": other_id}

    def record_outcome(
        self,
        link_id: str,
        canonical_url: str,
        *,
        status: str,
        reason: str | None,
        http_status: int | None = None,
        fetch: dict[str, Any] | None = None,
        original: Pointer | None = None,
        article: dict[str, Any] | None = None,
        body_sha256: str | None = None,
        next_attempt: float | None = None,
        aliases: tuple[str, ...] = (),
    ) -> str | None:
        """Record how a fetch of a link ended; store its article when there is one.

        Returns the article id. The article file is written before the link record that
        points at it, so every pointer in a committed record leads to a committed file.
        """
        article_id = None
        if article is not None:
            article_id = self._store_article(link_id, article, body_sha256 or "", original)
        path = layout.link_path(self.root, link_id)
        with self._exclusive(path):
            record = atomic.read_json(path) or _new_link(link_id, canonical_url)
            attempts = int(record.get("attempts", 0)) + 1
            record.update(
                status=status,
                reason=reason,
                http_status=http_status,
                attempts=attempts,
                last_attempt=now_iso(),
                next_attempt=next_attempt,
                fetch=fetch,
                original=original.as_dict() if original else record.get("original"),
                article=article_id,
            )
            record.pop("same_as", None)
            atomic.write_json(path, record)
        with self.index.transaction():
            self.index.put_link(link_id, canonical_url, status, attempts, next_attempt,
                                article_id)
            for url in aliases:
                self.index.put_alias(url, link_id)
        return article_id

    def _store_article(
        self, link_id: str, article: dict[str, Any], body_sha256: str, original: Pointer | None
    ) -> str:
        text = article.get("text") or ""
        article_id = self.index.article_by_body(body_sha256) if body_sha256 else None
        if article_id is None:
            article_id = sha256_hex(text)[:32] if text.strip() else body_sha256[:32]
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                record = dict(article)
                record.update(
                    schema_version=layout.SCHEMA_VERSION,
                    id=article_id,
                    body_sha256=body_sha256,
                    text_chars=len(text),
                    original=original.as_dict() if original else None,
                    links=[link_id],
                )
            elif link_id not in record["links"]:
                record["links"] = sorted([*record["links"], link_id])
            atomic.write_json(path, record)
        self.index.put_article(article_id, body_sha256)
        return article_id

    def plan_attachments(self, article_id: str, urls: list[str]) -> list[str]:
        """Mark attachments as pending in the article record; return the ones not seen yet."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return []
            known = record.setdefault("attachments", {})
            new = [u for u in dict.fromkeys(urls) if u not in known]
            for url in new:
                known[url] = {"status": "pending"}
            if new:
                atomic.write_json(path, record)
        return new

    def record_attachment(self, article_id: str, url: str, outcome: dict[str, Any]) -> None:
        """Map an attachment URL to its stored original (or to why it is not stored)."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return
            record.setdefault("attachments", {})[url] = outcome
            atomic.write_json(path, record)

    def write_run_report(self, run_id: str, report: dict[str, Any]) -> Path:
        path = self.root / layout.RUNS / f"{run_id}.json"
        atomic.write_json(path, report)
        return path

    # -- maintenance ---------------------------------------------------------------------
    def reindex(self) -> dict[str, int]:
        """Rebuild the index from the files alone."""
        from crawler.archive.reader import iter_records

        counts = {"digests": 0, "links": 0, "articles": 0}
        db = self.index
        with db.transaction():
            db.clear()
            for kind, _path, rec in iter_records(self.root):
                counts[kind] += 1
                if kind == "digests":
                    db.put_digest(rec["id"], rec["source"], rec["sha256"])
                    db.put_citations(rec["id"], [
                        (e["position"], lk["url"], lk.get("link_id"))
                        for e in rec["entries"] for lk in e["links"]
                    ])
                elif kind == "links":
                    db.put_link(rec["id"], rec["canonical_url"], rec["status"],
                                rec.get("attempts", 0), rec.get("next_attempt"),
                                rec.get("article"))
                    fetch = rec.get("fetch") or {}
                    for url in fetch.get("aliases", []):
                        db.put_alias(url, rec["id"])
                else:
                    db.put_article(rec["id"], rec.get("body_sha256") or "")
        return counts


def _link_id(canonical_url: str | None) -> str | None:
    from crawler.urls import url_id

    return url_id(canonical_url) if canonical_url else None


def _new_link(link_id: str, canonical_url: str) -> dict[str, Any]:
    return {
        "schema_version": layout.SCHEMA_VERSION,
        "id": link_id,
        "canonical_url": canonical_url,
        "status": "pending",
        "reason": None,
        "http_status": None,
        "attempts": 0,
        "first_seen": now_iso(),
        "last_attempt": None,
        "next_attempt": None,
        "fetch": None,
        "original": None,
        "article": None,
        "cited_by": [],
    }


def _digest_uri(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return source
    return Path(source).resolve().as_uri()

