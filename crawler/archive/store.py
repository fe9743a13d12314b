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
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler import __version__, throttle
from crawler.archive import atomic, layout, records, recovery, reindex
from crawler.archive.index import Index
from crawler.archive.lock import ArchiveError, ArchiveLock
from crawler.archive.records import Record
from crawler.archive.warc import Original, WarcWriter, http_date, payload_digest
from crawler.digests import digest_id_candidates
from crawler.items import (
    FINAL,
    AttachmentOutcome,
    Dedupe,
    Digest,
    FetchOutcome,
    Observation,
    Observed,
    Pointer,
    Requisite,
    Status,
)

logger = logging.getLogger(__name__)

#: A requisite to fetch: (URL, kind, the stylesheet that loads it or None).
Planned = tuple[str, Requisite, str | None]

#: What `link_due` answers for a link that another link names the same page as.
ALIAS = "alias"

#: Why `due_rechecks` passed over a due link: its site's share of the run is taken (it stays
#: due), or nothing cites it any more (`forget`: put off a week).
OVER_SITE_SHARE, NOT_CITED = "over_site_share", "not_cited"
#: Seconds a due re-check of a link that nothing cites any more is put off (a week).
_PUT_OFF = 7 * 86400.0


@dataclass(frozen=True)
class Written:
    """What `Archive.write_exchange` wrote: the response (or revisit) record, the payload's
    digest, its WARC-Date, and for a revisit the record that holds the payload."""

    pointer: Pointer
    payload_digest: str | None = None
    date: str | None = None
    revisit_of: Pointer | None = None


def sha256_hex(data: bytes | str) -> str:
    """Hex sha256 of bytes, or of a string's UTF-8."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def content_id(text: str, body_sha256: str) -> str:
    """The id of an article with this text (of its body, when it has no text)."""
    return sha256_hex(text)[:32] if text.strip() else body_sha256[:32]


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
        recheck_schedule: throttle.Schedule = throttle.DEFAULT_SCHEDULE,
        confirm_after: float = 6 * 3600.0,
    ):
        self.root = Path(root)
        self.recheck_schedule = recheck_schedule  # RECHECK_SCHEDULE
        self.confirm_after = confirm_after  # RECHECK_CONFIRM_AFTER
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
                hint = (
                    "other crawls kept it locked; try again"
                    if "locked" in str(exc)
                    else "disk full? delete it to rebuild it from the files"
                )
                raise ArchiveError(
                    f"archive {self.root}: cannot open {index_path}: {exc} ({hint})"
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

        The digest's own links (`Digest.links`) are cited by entry `records.DIGEST_ENTRY` (0),
        as the index's citations key on an integer entry. Link records are written before the
        digest record, so a crash in between leaves the digest unrecorded and the next run
        simply records it again. Returns counts.
        """
        pointer = self.warc.write_resource(
            uri=_digest_uri(digest.source),
            data=raw,
            content_type=markdown_type(raw),
            read_at=read_at,
        )
        self.warc.sync()  # group commit: durable before a JSON file points at it
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
        citing = [(e.position, e.links) for e in digest.entries]
        citing.append((records.DIGEST_ENTRY, digest.links))  # cited by the digest itself
        for position, links in citing:
            for link in links:
                if link.link_id is None or link.canonical_url is None:
                    continue
                canonical[link.link_id] = link.canonical_url
                cites.setdefault(link.link_id, []).append(
                    records.citation(digest.id, position, link.role, link.url)
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
            cited_again = bool(record["cited_by"]) and records.UNREFERENCED in record
            if cited_again:  # taken out by `forget` once, cited again now
                del record[records.UNREFERENCED]
            atomic.write_json(path, record)
        if cited_again and record["article"]:
            self._referenced_again(record["article"])
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
        self.warc.sync()  # group commit: its records durable before JSON points at them
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
            if article_id is not None:  # archived: re-checked on RECHECK_SCHEDULE from now on
                when, every = self._next_check(record, time.time())
                record[records.NEXT_CHECK] = when
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
            if article_id is not None:
                self.index.put_check(item.link_id, when, every)
        return article_id

    def _store_article(self, item: FetchOutcome) -> str:
        """Write (or add the link to) the article this page's content is; return its id."""
        assert item.extracted is not None
        body_sha256 = item.body_sha256 or ""
        text = records.article_text(item.extracted)
        article_id = self.index.article_by_body(body_sha256) if body_sha256 else None
        if article_id is None:
            article_id = content_id(text, body_sha256)
        # the index first: when it cannot be written (a full disk), no article file is left
        # listing a link whose record was never written (a row for a file not yet written is
        # harmless: the file is made when the body comes again)
        self.index.put_article(article_id, body_sha256)
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
        return article_id

    def _referenced_again(self, article_id: str) -> None:
        """An article that `forget` marked unreferenced is cited again through a link."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is not None and records.UNREFERENCED in record:
                del record[records.UNREFERENCED]
                atomic.write_json(path, record)

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
        self.warc.sync()
        path = layout.article_path(self.root, item.article_id)
        with self._exclusive(path):
            record = self._read(layout.ARTICLES, path)
            if record is None:
                return
            record.setdefault("attachments", {})[item.url] = records.attachment(item)
            atomic.write_json(path, record)

    # -- re-checks: is an archived page still there? -------------------------------------
    def _next_check(self, record: Record, now: float) -> tuple[float, float]:
        """(when, interval): when a link checked `now` is checked next, on RECHECK_SCHEDULE by
        its age, or after RECHECK_CONFIRM_AFTER while an absence it showed waits to be
        confirmed."""
        if records.awaits_confirmation(record):
            every = self.confirm_after
        else:
            cited = records.parse_time(record.get("first_seen"))
            age = 0.0 if cited is None else max(0.0, now - cited)
            every = throttle.check_interval(age, self.recheck_schedule)
        return now + every, every

    def rechecks_due(self, now: float | None = None) -> int:
        """How many archived links are due for a re-check now."""
        return self.index.count_due_checks(time.time() if now is None else now)

    def due_rechecks(
        self,
        limit: int,
        site_share: float = 1.0,
        now: float | None = None,
        passed_over: Callable[[str, str], None] | None = None,
    ) -> Iterator[tuple[str, str, Record]]:
        """(link id, canonical URL, validators) of archived links due for a re-check now, most
        overdue first: at most `limit`, of which at most `site_share` (at least one) per site.

        Links over their site's share stay due for a later run; a link nothing cites any more
        (`forget`) is put off, not checked; each is told to `passed_over` (link id, and
        `OVER_SITE_SHARE` or `NOT_CITED`). The cost is the due links' (`Index.due_checks`),
        not the archive's.
        """
        now = time.time() if now is None else now
        per_site = max(1, int(limit * site_share))
        taken: Counter[str] = Counter()
        count = 0
        for link_id, url in self.index.due_checks(now):
            if count >= limit:
                return
            host = (urlsplit(url).hostname or "").lower()
            if taken[host] >= per_site:
                if passed_over is not None:
                    passed_over(link_id, OVER_SITE_SHARE)
                continue
            record = self.link_record(link_id)
            if record is None or not record.get("article") or records.UNREFERENCED in record:
                self.index.put_check(link_id, None if record is None else now + _PUT_OFF, _PUT_OFF)
                if passed_over is not None:
                    passed_over(link_id, NOT_CITED)
                continue
            taken[host] += 1
            count += 1
            yield link_id, url, records.validators(record)

    def schedule_recheck(self, link_id: str, when: float) -> None:
        """Move an archived link's next re-check to `when` (Unix time)."""
        path = layout.link_path(self.root, link_id)
        with self._exclusive(path):
            record = self._read(layout.LINKS, path)
            if record is None or not record.get("article"):
                raise ValueError(f"archive {self.root} holds no archived link {link_id}")
            record[records.NEXT_CHECK] = when
            atomic.write_json(path, record)
            every = self._next_check(record, when)[1]
        with self.index.transaction():
            self.index.put_check(link_id, when, every)

    def record_observation(
        self,
        item: FetchOutcome,
        status: Status,
        reason: str | None,
        now: float | None = None,
    ) -> Observation | None:
        """Record what a settled re-check of an archived link observed; None when the link is
        no archived link (any more).

        The observation is appended to the link's record and nothing there is replaced: a
        `changed` page is stored as a new article version beside the first, which stays the one
        the digest cited. `status` and `reason` are the settled fetch's
        (`crawler.outcomes.settle`); what they mean for the page is `records.judge`'s. The
        version's article file is written before the link record that names it.
        """
        now = time.time() if now is None else now
        path = layout.link_path(self.root, item.link_id)
        with self._exclusive(path):
            record = self._read(layout.LINKS, path)
            if record is None or record.get("status") != Status.ARCHIVED:
                return None
            if not record.get("article"):
                return None
            ident = ""
            if status == Status.ARCHIVED and item.extracted is not None:
                ident = self._content_of(item)
            outcome, why, explicit = records.judge(record, item, status, reason, ident)
            known = len(records.versions(record))
            new_version = None
            number = known if outcome == Observed.UNCHANGED else None
            if outcome == Observed.CHANGED:
                new_version = records.version(self._store_version(item, ident), item)
                number = known + 1
            confirmed = outcome == Observed.GONE and records.confirms(
                record, now, self.confirm_after, explicit
            )
            obs = records.observation(
                item,
                outcome,
                why,
                now,
                version_number=number,
                explicit=explicit,
                confirmed=confirmed,
            )
            records.observed(record, obs, new_version, None)
            when, every = self._next_check(record, now)
            record[records.NEXT_CHECK] = when
            atomic.write_json(path, record)
        with self.index.transaction():
            self.index.put_check(item.link_id, when, every)
        return Observation(
            link_id=item.link_id,
            canonical_url=item.canonical_url,
            outcome=outcome,
            checked_at=now,
            http_status=item.http_status,
            reason=why,
            original=item.original,
            body_sha256=obs["body_sha256"],
            version=number,
            alive=record["alive"],
            next_check=record[records.NEXT_CHECK],
        )

    def _content_of(self, item: FetchOutcome) -> str:
        """The article id a served page's content has (the article rule of `_store_article`)."""
        assert item.extracted is not None
        body_sha256 = item.body_sha256 or ""
        known = self.index.article_by_body(body_sha256) if body_sha256 else None
        return known or content_id(records.article_text(item.extracted), body_sha256)

    def _store_version(self, item: FetchOutcome, article_id: str) -> str:
        """Write (or name the link in) the article a later version of its page is."""
        self.index.put_article(article_id, item.body_sha256 or "")  # first, as _store_article
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = self._read(layout.ARTICLES, path, quarantine=True)
            if record is None:
                record = records.version_article(article_id, item.link_id, item)
                atomic.write_json(path, record)
            elif item.link_id not in record["links"] + record.get(records.VERSION_OF, []):
                of = [*record.get(records.VERSION_OF, []), item.link_id]
                record[records.VERSION_OF] = sorted(of)
                atomic.write_json(path, record)
        return article_id

    # -- requisites: the images, stylesheets and fonts of archived articles ---------------
    def write_exchange(self, *, dedupe: bool = False, **exchange: Any) -> Written:
        """Write an HTTP exchange into WARC (`WarcWriter.write_exchange`'s arguments).

        With `dedupe` (a requisite), a 2xx body whose payload digest an earlier requisite
        record holds becomes a `revisit` record referring to it; a new payload is remembered
        for the repeats to come. The index may name a record before it is synced: a crash
        rebuilds the index from the JSON files, which point only at synced records.
        """
        body: bytes = exchange["body"]
        date = http_date(exchange["fetched_at"])
        if not dedupe or not 200 <= exchange["status"] < 300 or not body:
            return Written(self.warc.write_exchange(**exchange), date=date)
        digest = payload_digest(body)
        known = self.index.payload(digest)
        if known is not None:
            uri, refers_date, record_id, pointer_json = known
            original = Original(record_id, uri, refers_date, digest)
            pointer = self.warc.write_exchange(**exchange, refers_to=original)
            return Written(pointer, digest, date, Pointer(**json.loads(pointer_json)))
        pointer = self.warc.write_exchange(**exchange)
        self.index.put_payload(
            digest, exchange["url"], date, pointer.record_id, json.dumps(pointer.as_dict())
        )
        return Written(pointer, digest, date)

    def requisite(self, url: str, max_age: float, now: float | None = None) -> Record | None:
        """The attachment entry of a requisite URL stored before (within `max_age` seconds),
        as a page that needs it again references it; None when it is to be fetched."""
        row = self.index.requisite(url)
        if row is None:
            return None
        _status, fetched_at, entry = row
        if (time.time() if now is None else now) - fetched_at > max_age:
            return None
        record: Record = json.loads(entry)
        record["dedupe"] = Dedupe.URL
        return record

    def plan_requisites(self, article_id: str, wanted: list[Planned]) -> list[Planned]:
        """Mark requisites (url, kind, via) pending in the article record and the index (a
        killed crawl's next run fetches them); return the ones the article did not have."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return []
            known = record.setdefault("attachments", {})
            new: list[Planned] = []
            for url, kind, via in wanted:
                if url in known or any(url == n[0] for n in new):
                    continue
                new.append((url, kind, via))
                known[url] = records.pending_attachment(kind, via)
            if new:
                atomic.write_json(path, record)
        if new:
            self.index.put_pending_requisites(article_id, [url for url, _, _ in new])
        return new

    def record_requisites(
        self,
        article_id: str,
        outcomes: list[AttachmentOutcome],
        omitted: Record | None = None,
    ) -> None:
        """Record how an article's requisites ended, in one write of its record.

        A `metadata` record lists them in the WARC beside the page (`outlink: <url> E <kind>`,
        WARC-Concurrent-To the page's response record), as Heritrix writes them.
        """
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return
            if outcomes:
                page = record.get("original") or {}
                self.warc.write_metadata(
                    uri=record.get("final_url") or record.get("url") or "",
                    concurrent_to=page.get("record_id"),
                    fields=[("outlink", f"{o.url} E {o.kind}") for o in outcomes],
                    at=time.time(),
                )
            self.warc.sync()  # group commit: every requisite's record, before JSON names it
            attachments = record.setdefault("attachments", {})
            for item in outcomes:
                attachments[item.url] = records.attachment(item)
            if omitted:
                record[records.OMITTED] = omitted
            atomic.write_json(path, record)
        for item in outcomes:
            entry = attachments[item.url]
            if item.status in FINAL and item.dedupe != Dedupe.URL:
                self.index.put_requisite(
                    item.url, item.status, item.fetched_at or time.time(), json.dumps(entry)
                )
        self.index.drop_pending_requisites(article_id, [o.url for o in outcomes])

    def pending_requisites(
        self,
    ) -> Iterator[tuple[str, str | None, list[tuple[str, Requisite, str | None]]]]:
        """(article id, page URL, [(url, kind, via)]) of requisites a killed crawl left pending."""
        for article_id, urls in self.index.pending_requisites():
            record = self.article_record(article_id)
            if record is None:
                self.index.drop_pending_requisites(article_id, urls)
                continue
            attachments = record.get("attachments") or {}
            todo = []
            for url in urls:
                entry = attachments.get(url) or {}
                if entry.get("status") != Status.PENDING:
                    continue
                todo.append(
                    (url, Requisite(entry.get("kind") or Requisite.IMAGE), entry.get("via"))
                )
            done = [u for u in urls if u not in {t[0] for t in todo}]
            if done:
                self.index.drop_pending_requisites(article_id, done)
            if todo:
                yield article_id, record.get("final_url") or record.get("url"), todo

    def write_run_report(self, run_id: str, report: Record) -> Path:
        """Write runs/<run_id>.json."""
        path = self.root / layout.RUNS / f"{run_id}.json"
        atomic.write_json(path, report)
        return path

    def previous_runs(self, limit: int, *, before: str | None = None) -> list[Record]:
        """The newest `limit` crawl reports in runs/ (newest first), those of runs that
        started before run `before` when given; reports of other commands are skipped."""
        return previous_runs(self.root, limit, before=before)

    # -- maintenance ---------------------------------------------------------------------
    def reindex(self) -> dict[str, int]:
        """Rebuild the index from the files alone (damaged records noted and skipped)."""
        return reindex.rebuild(self.root, self.index, on_damaged=self._damaged)

    def forget(
        self, digest_ids: list[str], *, prune: bool = False, dry_run: bool = False
    ) -> dict[str, int]:
        """Take digests out: their records and their citations in the link records.

        A link that nothing else cites then is marked `unreferenced` (with the time), and so
        is an article that only such links lead to; with `prune` their records are deleted
        instead (their WARC records stay: WARC files are only ever appended to). Links are
        written before the digest records go, so a `forget` cut short is finished by running
        it again. Raises ValueError naming a digest id the archive does not hold. Returns
        counts; `dry_run` counts and changes nothing.
        """
        digests = {}
        for digest_id in dict.fromkeys(digest_ids):
            record = self.digest_record(digest_id)
            if record is None:
                raise ValueError(f"archive {self.root} holds no digest {digest_id!r}")
            digests[digest_id] = record
        gone = set(digests)
        cited = sorted(
            {lid for rec in digests.values() for _, _, lid in records.cited_links(rec) if lid}
        )
        counts = dict.fromkeys(
            (
                "digests",
                "citations",
                "links_still_cited",
                "links_unreferenced",
                "links_pruned",
                "articles_unreferenced",
                "articles_pruned",
            ),
            0,
        )
        counts["digests"] = len(digests)
        loose: set[str] = set()  # links nothing else cites
        for link_id in cited:
            link = self.link_record(link_id)
            if link is None:
                continue
            left = [c for c in link["cited_by"] if c.get("digest") not in gone]
            counts["citations"] += len(link["cited_by"]) - len(left)
            if left:
                counts["links_still_cited"] += 1
            else:
                loose.add(link_id)
        counts["links_pruned" if prune else "links_unreferenced"] = len(loose)
        articles: dict[str, bool] = {}  # article id -> nothing but loose links lead to it
        for link_id in loose:
            article_id = (self.link_record(link_id) or {}).get("article")
            if article_id and article_id not in articles:
                articles[article_id] = (self._led_to(article_id) | {link_id}) <= loose
        for link_id in loose:  # the later versions of their pages (re-checks) go with them
            for entry in records.versions(self.link_record(link_id) or {})[1:]:
                version_id = entry.get("article")
                if version_id and version_id not in articles:
                    articles[version_id] = self._led_to(version_id) <= loose
        orphaned = {a for a, only_loose in articles.items() if only_loose}
        counts["articles_pruned" if prune else "articles_unreferenced"] = len(orphaned)
        if dry_run:
            return counts
        stamp = records.now_iso()
        for link_id in cited:
            self._uncite(link_id, gone, prune=prune and link_id in loose, stamp=stamp)
        for article_id in articles:
            self._unlink_article(article_id, loose, orphaned, prune=prune, stamp=stamp)
        for digest_id, record in digests.items():
            layout.digest_path(self.root, digest_id).unlink(missing_ok=True)
            with self.index.transaction():
                self.index.drop_digest(digest_id, record.get("source"))
        return counts

    def _led_to(self, article_id: str) -> set[str]:
        """Every link that leads to an article: as its capture, or to a later version."""
        record = self.article_record(article_id) or {}
        found = set(record.get("links", [])) | set(record.get(records.VERSION_OF, []))
        return found | set(self.index.links_of_article(article_id))

    def _uncite(self, link_id: str, gone: set[str], *, prune: bool, stamp: str) -> None:
        """Take the citations of digests `gone` out of a link record (or the record out)."""
        path = layout.link_path(self.root, link_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return
            if prune:
                path.unlink(missing_ok=True)
            else:
                record["cited_by"] = [c for c in record["cited_by"] if c.get("digest") not in gone]
                if not record["cited_by"]:
                    record[records.UNREFERENCED] = stamp
                atomic.write_json(path, record)
        with self.index.transaction():
            if prune:
                self.index.drop_link(link_id)

    def _unlink_article(
        self, article_id: str, loose: set[str], orphaned: set[str], *, prune: bool, stamp: str
    ) -> None:
        """Mark or delete an article only loose links lead to; drop pruned links from it."""
        path = layout.article_path(self.root, article_id)
        with self._exclusive(path):
            record = atomic.read_json(path)
            if record is None:
                return
            if prune and article_id in orphaned:
                path.unlink(missing_ok=True)
            elif prune:
                record["links"] = [lid for lid in record["links"] if lid not in loose]
                if records.VERSION_OF in record:
                    of = [lid for lid in record[records.VERSION_OF] if lid not in loose]
                    record[records.VERSION_OF] = of
                atomic.write_json(path, record)
            elif article_id in orphaned:
                record[records.UNREFERENCED] = stamp
                atomic.write_json(path, record)
        if prune and article_id in orphaned:
            with self.index.transaction():
                self.index.drop_article(article_id)


def previous_runs(root: Path, limit: int, *, before: str | None = None) -> list[Record]:
    """The newest `limit` crawl reports in `root`/runs/, newest first (see Archive)."""
    folder = root / layout.RUNS
    if limit <= 0 or not folder.is_dir():
        return []
    names = sorted(
        (p.name for p in folder.glob("*.json") if not p.name.startswith(".")), reverse=True
    )
    found: list[Record] = []
    for name in names:
        if before is not None and name.removesuffix(".json") >= before:
            continue
        try:
            report = atomic.read_json(folder / name)
        except (OSError, ValueError):  # a damaged report is no history
            continue
        if isinstance(report, dict) and report.get("command", records.CRAWL) == records.CRAWL:
            found.append(report)
            if len(found) == limit:
                break
    return found


def record_failed_start(root: Path, run_id: str, report: Record) -> Path | None:
    """Write runs/<run_id>.json for a crawl that failed before it started, when `root` is an
    archive already (a typo in ARCHIVE_DIR makes no archive); None when there is none. The
    file name is the run's own, so an archive held by another crawl can take it too."""
    if not (root / layout.MANIFEST).is_file():
        return None
    path = root / layout.RUNS / f"{run_id}.json"
    atomic.write_json(path, report)
    return path


def markdown_type(raw: bytes) -> str:
    """The Content-Type of a digest's resource record, with the charset its bytes are in
    (UTF-8, else GB18030, as `crawler.digests` reads them)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "text/markdown; charset=gb18030"
    return "text/markdown; charset=utf-8"


def _digest_uri(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return source
    return Path(source).resolve().as_uri()


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
