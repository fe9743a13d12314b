"""Archive: the one place that writes the archive's records and answers questions about them.

Callers ask the archive (`link_due`, `digest_seen`, ...) and hand it what happened
(`record_digest`, `record_outcome`, `record_attachment`); nobody else reads its index or shapes
its JSON (`crawler.archive.records`). See ARCHIVE.md for the layout.

A damaged record met on the way (cut short, not JSON, the wrong shape) is never a crash: it is
logged, listed in `damaged`, and where it is about to be rewritten it is first moved to
`quarantine/` and rebuilt from what the index and the other records know.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.archive import atomic, layout, records, recovery, reindex
from crawler.archive.index import Index
from crawler.archive.lock import ArchiveError, ArchiveLock
from crawler.archive.records import Record
from crawler.archive.warc import WarcWriter
from crawler.digests import digest_id_candidates
from crawler.items import AttachmentOutcome, Digest, FetchOutcome, Status

logger = logging.getLogger(__name__)

#: What `link_due` answers for a link that another link names the same page as.
ALIAS = "alias"


def sha256_hex(data: bytes | str) -> str:
    """Hex sha256 of bytes, or of a string's UTF-8."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class Archive:
    """An archive directory opened for writing by one crawl (see ARCHIVE.md for the layout)."""

    def __init__(
        self,
        root: Path | str,
        *,
        warc_max_bytes: int = 1_000_000_000,
        max_attempts: int = 5,
        info: dict[str, Any] | None = None,
        shared: bool = False,
    ):
        self.root = Path(root)
        self.shared = shared  # one of several processes of a distributed run
        self.warc_max_bytes = warc_max_bytes
        self.max_attempts = max_attempts
        self.info = info or {}
        self.lock = ArchiveLock(self.root / layout.LOCK)
        self.recovered = False  # open() found a crawl that did not stop cleanly, and recovered
        self.damaged: list[str] = []  # "<file>: why" of each damaged record met, in order
        self.index: Index
        self.warc: WarcWriter

    # -- life cycle ----------------------------------------------------------------------
    def open(self) -> Archive:
        """Create or open the archive, take the lock, recover from a crashed run if needed."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.lock.acquire(shared=self.shared)
        except OSError as exc:
            raise ArchiveError(f"archive {self.root} cannot be written: {exc}") from exc
        try:
            self._check_manifest()
            index_path = self.root / layout.INDEX
            fresh_index = not index_path.exists()
            try:
                self.index = Index(index_path)
            except sqlite3.Error as exc:
                raise ArchiveError(
                    f"archive {self.root}: cannot open {index_path}: {exc} "
                    "(disk full? delete it to rebuild it from the files)"
                ) from exc
            if self.lock.stale:
                logger.warning(
                    "archive %s: previous crawl %s did not stop cleanly; recovering",
                    self.root,
                    self.lock.stale,
                )
                recovery.recover(
                    self.root,
                    self.index,
                    self.lock.stale,
                    on_damaged=self._damaged,
                    alone=not self.shared,
                )
                self.lock.recovered(self.lock.stale)
                self.recovered = True
            elif fresh_index:
                self.reindex()
            self.warc = WarcWriter(self.root, max_bytes=self.warc_max_bytes, info=self.info)
        except BaseException:
            self.lock.release()
            raise
        return self

    def _check_manifest(self) -> None:
        """Write the manifest of a new archive; refuse an archive of another schema version.

        A damaged manifest is quarantined and written again when the records say which
        version the archive is (or there are none yet).
        """
        path = self.root / layout.MANIFEST
        try:
            manifest = atomic.read_json(path)
        except atomic.DamagedRecord as exc:
            versions = self._record_versions()
            if versions - {layout.SCHEMA_VERSION}:
                raise ArchiveError(
                    f"{path} is damaged ({exc.why}) and the records are of schema_version "
                    f"{sorted(versions)}: restore it before writing"
                ) from exc
            self._quarantine(path, exc.why)
            manifest = None
        if manifest is None:
            atomic.write_json(path, records.manifest(f"sources/{__version__}"))
        elif manifest.get("schema_version") != layout.SCHEMA_VERSION:
            raise ArchiveError(
                f"{path}: schema_version {manifest.get('schema_version')!r}, this crawler "
                f"writes {layout.SCHEMA_VERSION}"
            )

    def _record_versions(self, sample: int = 20) -> set[Any]:
        """The schema_version of a few sound records of each kind."""
        from crawler.archive.reader import read_record, record_paths

        found = set()
        for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES):
            for path in record_paths(self.root, kind)[:sample]:
                record = read_record(kind, path, lambda _p, _w: None)
                if record is not None:
                    found.add(record.get("schema_version"))
        return found

    # -- damaged records -----------------------------------------------------------------
    def _damaged(self, path: Path, why: str) -> None:
        """Note a damaged record: a warning in the log, a line in `damaged`."""
        rel = layout.relative(self.root, path) if path.is_relative_to(self.root) else str(path)
        logger.warning("archive %s: damaged record %s: %s", self.root, rel, why)
        self.damaged.append(f"{rel}: {why}")

    def _quarantine(self, path: Path, why: str) -> None:
        """Note a damaged record and move it to quarantine/ (kept as found)."""
        self._damaged(path, why)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{os.getpid()}"
        target = layout.quarantine_path(self.root, layout.relative(self.root, path), stamp)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, target)
            atomic.fsync_dir(path.parent)
            logger.warning("archive %s: %s moved to %s", self.root, path, target)

    def _read(self, kind: str, path: Path, *, quarantine: bool = False) -> Record | None:
        """The sound record at `path`, or None; a damaged one is noted (and, with
        `quarantine`, moved out of the way of the write that follows)."""
        try:
            record = atomic.read_json(path)
        except atomic.DamagedRecord as exc:
            why = exc.why
        else:
            if record is None:
                return None
            problems = records.problems(kind, record)
            if not problems:
                return record
            why = "; ".join(problems)
        if quarantine:
            self._quarantine(path, why)
        else:
            self._damaged(path, why)
        return None

    def _rebuilt_link(self, link_id: str, canonical_url: str | None) -> Record | None:
        """A link record in place of a damaged one: its state from the index, its citations
        from the digests that cite it."""
        row = self.index.link(link_id)
        url = canonical_url or (row["canonical_url"] if row else None)
        if url is None:
            return None
        record = records.new_link(link_id, url)
        if row is not None:
            record.update(
                status=row["status"],
                attempts=row["attempts"],
                next_attempt=row["next_attempt"],
                article=row["article"],
            )
            article = (
                self._read(layout.ARTICLES, layout.article_path(self.root, row["article"]))
                if row["article"]
                else None
            )
            if article is not None and article.get("url") == url:  # its own fetch's original
                record["original"] = article.get("original")
        cited_by = []
        for digest_id, entry, cited_url in self.index.citing(link_id):
            digest = self._read(layout.DIGESTS, layout.digest_path(self.root, digest_id))
            role = records.cited_role(digest, entry, cited_url) if digest else None
            if role is not None:
                cited_by.append(records.citation(digest_id, entry, role, cited_url))
        record["cited_by"] = sorted(cited_by, key=records.citation_key)
        return record

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

    # -- questions -----------------------------------------------------------------------
    def link_record(self, link_id: str) -> Record | None:
        """The link's record, or None (also when it is damaged: noted in `damaged`)."""
        return self._read(layout.LINKS, layout.link_path(self.root, link_id))

    def article_record(self, article_id: str) -> Record | None:
        """The article's record, or None (also when it is damaged: noted in `damaged`)."""
        return self._read(layout.ARTICLES, layout.article_path(self.root, article_id))

    def digest_record(self, digest_id: str) -> Record | None:
        """The digest's record, or None (also when it is damaged: noted in `damaged`)."""
        return self._read(layout.DIGESTS, layout.digest_path(self.root, digest_id))

    def assign_digest_id(self, digest: Digest) -> str:
        """The id a digest from `digest.source` is recorded under; sets `digest.id`.

        The id `digest.id` (`crawler.digests.digest_id`) unless another source holds it (the
        same file name in two folders, long names alike in their first 80 characters): then
        the next of `crawler.digests.digest_id_candidates`, which carry a short suffix derived
        from the source. A source keeps the id it was first recorded under, for ever.
        """
        for candidate in digest_id_candidates(_source_key(digest.source), digest.id):
            owner = self._digest_owner(candidate)
            if owner is None or _same_source(owner, digest.source):
                digest.id = candidate
                return candidate
        raise ValueError(f"{digest.source}: no free digest id")  # pragma: no cover

    def _digest_owner(self, digest_id: str) -> str | None:
        """The source a digest id is recorded for ("?" when unknown), None when it is free."""
        path = layout.digest_path(self.root, digest_id)
        try:
            record = atomic.read_json(path)
        except atomic.DamagedRecord:
            record = None
        if record is not None and isinstance(record.get("source"), str):
            return str(record["source"])
        source = self.index.digest_source(digest_id)
        if source is not None:
            return source
        return "?" if path.exists() else None

    def digest_seen(self, sha256: str) -> bool:
        """True when a digest with exactly these bytes was already recorded."""
        return self.index.digest_by_sha256(sha256) is not None

    def digest_file_unchanged(self, source: str, size: int, mtime_ns: int) -> bool:
        """True when this digest file was recorded with exactly this size and mtime."""
        return self.index.digest_stat_unchanged(source, size, mtime_ns)

    def link_due(self, link_id: str, url: str, now: float | None = None) -> str | None:
        """None when the link is to be fetched now; else why not: its status, or `ALIAS`.

        Due: not yet known, or not in a final state with attempts left (MAX_ATTEMPTS_PER_URL)
        and no next attempt ahead; and no other link is known to name the same page.
        """
        state = self.index.link_due(link_id, time.time() if now is None else now, self.max_attempts)
        if state is not None and not state[1]:
            return state[0]
        alias = self.index.alias(url)
        if alias is not None and alias != link_id:
            return ALIAS
        return None

    def due_links(self, now: float | None = None) -> Iterator[tuple[str, str]]:
        """(link id, canonical URL) of every link that still needs a fetch now."""
        return self.index.due_links(time.time() if now is None else now, self.max_attempts)

    def link_status(self, link_id: str) -> Status | None:
        """The link's status in the index, or None when it is not known."""
        row = self.index.link(link_id)
        return Status(row["status"]) if row is not None else None

    def link_attempts(self, link_id: str) -> int:
        """Fetches of the link recorded so far."""
        row = self.index.link(link_id)
        return int(row["attempts"]) if row is not None else 0

    def tally(self) -> dict[str, Any]:
        """What `citations` would print, counted: rows, distinct links, links by status."""
        return self.index.citation_tally()

    # -- writing -------------------------------------------------------------------------
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
            uri=_digest_uri(digest.source),
            data=raw,
            content_type="text/markdown",
            read_at=read_at,
        )
        path = layout.digest_path(self.root, digest.id)
        previous = self._read(layout.DIGESTS, path, quarantine=True)
        if previous is None and path.exists():
            raise ValueError(f"{path}: could not be moved out of the way")
        if previous is not None and not _same_source(previous["source"], digest.source):
            raise ValueError(
                f"{digest.source}: digest id {digest.id!r} is already used by "
                f"{previous.get('source')}; rename one of them"
            )
        cites: dict[str, list[Record]] = {}
        canonical: dict[str, str] = {}
        for entry in digest.entries:
            for link in entry.links:
                if link.link_id is None or link.canonical_url is None:
                    continue
                canonical[link.link_id] = link.canonical_url
                cites.setdefault(link.link_id, []).append(
                    records.citation(digest.id, entry.position, link.role, link.url)
                )
        before = (
            records.cited_links(previous)
            if previous is not None
            else self.index.cited_by_digest(digest.id)
        )
        stale = {lid for _, _, lid in before if lid} - set(cites)
        counts = {"new_links": 0}
        for link_id, citations in cites.items():
            counts["new_links"] += self._cite(link_id, canonical[link_id], digest.id, citations)
        for link_id in stale:
            self._cite(link_id, None, digest.id, [])
        record = records.digest(digest, pointer, read_at)
        atomic.write_json(layout.digest_path(self.root, digest.id), record)
        with self.index.transaction():
            self.index.put_citations(digest.id, records.cited_links(record))
            self.index.put_digest(digest.id, digest.source, digest.sha256)
        return counts

    def _cite(
        self,
        link_id: str,
        canonical_url: str | None,
        digest_id: str,
        citations: list[Record],
    ) -> int:
        """Replace `digest_id`'s citations in a link record; create it as pending. 1 if new."""
        path = layout.link_path(self.root, link_id)
        with self._exclusive(path):
            record = self._read(layout.LINKS, path, quarantine=True)
            created = record is None and self.index.link(link_id) is None
            if record is None and self.index.link(link_id) is not None:
                record = self._rebuilt_link(link_id, canonical_url)
            if record is None:
                if canonical_url is None:
                    return 0
                record = records.new_link(link_id, canonical_url)
                alias = self.index.alias(canonical_url)
                if alias and alias != link_id:
                    record.update(records.same_page(self.link_record(alias), alias))
            kept = [c for c in record["cited_by"] if c["digest"] != digest_id]
            record["cited_by"] = sorted(kept + citations, key=records.citation_key)
            atomic.write_json(path, record)
        self.index.put_link(
            link_id,
            record["canonical_url"],
            record["status"],
            record["attempts"],
            record.get("next_attempt"),
            record["article"],
        )
        return int(created)

    def record_outcome(self, item: FetchOutcome) -> str | None:
        """Record how a settled fetch of a link ended; store its article when there is one.

        `item.status` is the settled status. Returns the article id. The article file is
        written before the link record that points at it, so every pointer in a committed
        record leads to a committed file.
        """
        status = item.status or Status.FAILED
        article_id = None
        if status == Status.ARCHIVED and item.extracted is not None:
            article_id = self._store_article(item)
        path = layout.link_path(self.root, item.link_id)
        with self._exclusive(path):
            record = self._read(layout.LINKS, path, quarantine=True)
            if record is None and self.index.link(item.link_id) is not None:
                record = self._rebuilt_link(item.link_id, item.canonical_url)
            if record is None:
                record = records.new_link(item.link_id, item.canonical_url)
            records.outcome(record, item, status, article_id)
            atomic.write_json(path, record)
        with self.index.transaction():
            self.index.put_link(
                item.link_id,
                item.canonical_url,
                status,
                record["attempts"],
                item.next_attempt,
                article_id,
            )
            for url in item.aliases:
                self.index.put_alias(url, item.link_id)
        return article_id

    def _store_article(self, item: FetchOutcome) -> str:
        """Write (or add the link to) the article this page's content is; return its id."""
        assert item.extracted is not None
        body_sha256 = item.body_sha256 or ""
        text = records.article_text(item.extracted)
        article_id = self.index.article_by_body(body_sha256) if body_sha256 else None
        if article_id is None:
            article_id = sha256_hex(text)[:32] if text.strip() else body_sha256[:32]
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = self._read(layout.ARTICLES, path, quarantine=True)
            if record is None:
                record = records.article(article_id, item.link_id, item)
                others = set(self.index.links_of_article(article_id)) - {item.link_id}
                record["links"] = sorted([*record["links"], *others])
            elif item.link_id not in record["links"]:
                record["links"] = sorted([*record["links"], item.link_id])
            atomic.write_json(path, record)
        self.index.put_article(article_id, body_sha256)
        return article_id

    def plan_attachments(self, article_id: str, urls: list[str]) -> list[str]:
        """Mark attachments as pending in the article record; return the ones not seen yet."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = self._read(layout.ARTICLES, path)
            if record is None:
                return []
            known = record.setdefault("attachments", {})
            new = [u for u in dict.fromkeys(urls) if u not in known]
            for url in new:
                known[url] = dict(records.PENDING_ATTACHMENT)
            if new:
                atomic.write_json(path, record)
        return new

    def record_attachment(self, item: AttachmentOutcome) -> None:
        """Map an attachment URL to its stored original (or to why it is not stored)."""
        path = layout.article_path(self.root, item.article_id)
        with self._exclusive(path):
            record = self._read(layout.ARTICLES, path)
            if record is None:
                return
            record.setdefault("attachments", {})[item.url] = records.attachment(item)
            atomic.write_json(path, record)

    def write_run_report(self, run_id: str, report: Record) -> Path:
        """Write runs/<run_id>.json."""
        path = self.root / layout.RUNS / f"{run_id}.json"
        atomic.write_json(path, report)
        return path

    # -- maintenance ---------------------------------------------------------------------
    def reindex(self) -> dict[str, int]:
        """Rebuild the index from the files alone (damaged records noted and skipped)."""
        return reindex.rebuild(self.root, self.index, on_damaged=self._damaged)


def _source_key(source: str) -> str:
    """A digest source as one spelling: a local path resolved, a URL as it is."""
    if source.startswith(("http://", "https://")):
        return source
    try:
        return str(Path(source).resolve())
    except (OSError, ValueError):
        return source


def _same_source(a: str, b: str) -> bool:
    """Whether two digest sources name the same digest (one file spelt two ways too)."""
    return a == b or _source_key(a) == _source_key(b)


def _digest_uri(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return source
    return Path(source).resolve().as_uri()
