"""`repair`: quarantine what is damaged, rebuild what the WARC files still hold, say the rest.

    plan = survey(root)          # read-only: what is damaged and what can be done about it
    apply(archive, plan)         # under the archive's lock (`python -m crawler.archive repair
                                 # --apply`), then the index is rebuilt

Damaged WARC bytes (a broken gzip member, a record whose digests or length do not match) are
copied to `quarantine/warc/<file>.<start>-<end>`; the sound records of that file are written to
a new WARC file, every pointer into the old one is moved to the new one, and the old file goes
to `quarantine/warc/` whole. A record that pointed into the damaged bytes has lost its original:
a link is set back to `failed` so that the next crawl fetches it again, an article or an
attachment keeps its text with `original` null, a digest's copy is written again from its file
when that still has the same bytes. Damaged JSON records (cut short, not JSON, the wrong shape)
are moved to `quarantine/<path>.<stamp>` and rebuilt: a digest from its WARC resource record,
a link or an article from its original (the stored response, read again by
`crawler.extractors.extract`), a link without any original as `pending`. Nothing is deleted.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.archive import atomic, layout, records
from crawler.archive.reader import read_record, record_paths
from crawler.archive.warc import PREFIX, host_token
from crawler.archive.warcread import Member, scan
from crawler.items import Extracted, FetchOutcome, Pointer, Status

if TYPE_CHECKING:
    from crawler.archive.store import Archive

#: Bytes a stored body is inflated to at most when it is read again (as DOWNLOAD_MAXSIZE).
MAX_BODY = 64 * 1024 * 1024
#: Redirect hops followed from a link's first response to its page.
MAX_HOPS = 10


@dataclass
class Span:
    """Bytes of a WARC file that are no sound record."""

    start: int
    end: int
    why: str


@dataclass
class WarcFile:
    """What a WARC file holds: its sound members by offset, and its damaged spans."""

    rel: str
    size: int
    sound: dict[int, Member] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)

    def damaged_at(self, offset: int) -> Span | None:
        """The damaged span holding `offset`, if any."""
        return next((s for s in self.spans if s.start <= offset < s.end), None)


@dataclass
class Plan:
    """What `repair` found, and what it will do (`lines`)."""

    warcs: dict[str, WarcFile] = field(default_factory=dict)
    damaged_json: dict[str, str] = field(default_factory=dict)  # rel -> why
    missing_links: dict[str, str | None] = field(default_factory=dict)  # id -> canonical URL
    lost: dict[str, list[str]] = field(default_factory=dict)  # rel of a record -> pointer keys
    lines: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to repair."""
        return not (
            any(w.spans for w in self.warcs.values()) or self.damaged_json or self.missing_links
        )


def survey(root: Path) -> Plan:
    """Read the whole archive and plan the repair; changes nothing."""
    plan = Plan()
    for path in sorted((root / layout.WARC).glob("*.warc.gz")):
        rel = layout.relative(root, path)
        found = WarcFile(rel, path.stat().st_size)
        for member in scan(path):
            if member.problems:
                why = "; ".join(member.problems)
                found.spans.append(Span(member.offset, member.offset + member.length, why))
            else:
                found.sound[member.offset] = member
        plan.warcs[rel] = found
        for span in found.spans:
            plan.lines.append(
                f"{rel}:{span.start}: quarantine {span.end - span.start} damaged bytes "
                f"({span.why}); the file's {len(found.sound)} sound records go to a new file"
            )
    cited: dict[str, str | None] = {}
    present: set[str] = set()
    for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES):
        for path in record_paths(root, kind):
            rel = layout.relative(root, path)
            problems = _Told()
            record = read_record(kind, path, problems)
            if record is None:
                plan.damaged_json[rel] = "; ".join(problems.whys) or "unreadable"
                plan.lines.append(f"{rel}: quarantine ({plan.damaged_json[rel]}) and rebuild")
                present.add(path.stem)
                continue
            present.add(path.stem)
            if kind == layout.DIGESTS:
                for entry in record["entries"]:
                    for link in entry["links"]:
                        if layout.is_record_id(link.get("link_id")):
                            cited.setdefault(link["link_id"], link.get("canonical_url"))
            for key, ptr in _pointers(record):
                warc = plan.warcs.get(ptr["warc"])
                if warc is not None and warc.damaged_at(ptr["offset"]) is not None:
                    plan.lost.setdefault(rel, []).append(key)
                    plan.lines.append(
                        f"{rel}: its {key} lies in damaged bytes of {ptr['warc']}: "
                        + _lost_note(kind, key)
                    )
    for link_id, url in cited.items():
        if link_id not in present:
            plan.missing_links[link_id] = url
            plan.lines.append(
                f"{layout.relative(root, layout.link_path(root, link_id))}: missing; rebuild"
            )
    return plan


class _Told:
    """An `OnDamaged` that keeps what it was told."""

    def __init__(self) -> None:
        self.whys: list[str] = []

    def __call__(self, path: Path, why: str) -> None:
        self.whys.append(why)


def _lost_note(kind: str, key: str) -> str:
    if kind == layout.LINKS:
        return "the link goes back to failed, for the next crawl to fetch again"
    if kind == layout.DIGESTS:
        return "written again from the digest file if it still has the same bytes"
    return f"{key} set to null (the text is kept)"


def _pointers(record: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, pointer) of every WARC pointer in a record: `original`, `attachments[url]`."""
    if isinstance(record.get("original"), dict):
        yield "original", record["original"]
    for url, att in (record.get("attachments") or {}).items():
        if isinstance(att, dict) and isinstance(att.get("original"), dict):
            yield f"attachment {url}", att["original"]


# -- applying -----------------------------------------------------------------------------


def apply(archive: Archive, plan: Plan) -> list[str]:
    """Carry the plan out on an open archive; return one line per thing done or not done."""
    root = archive.root
    done: list[str] = []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved: dict[str, tuple[str, dict[int, int]]] = {}  # old rel -> (new rel, offset map)
    for warc in plan.warcs.values():
        if warc.spans:
            moved[warc.rel] = _rewrite_warc(root, warc, stamp, done)
    damaged = set(plan.damaged_json)
    for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES):
        for path in record_paths(root, kind):
            rel = layout.relative(root, path)
            if rel in damaged:
                continue
            record = read_record(kind, path, lambda _p, _w: None)
            if record is None:
                continue
            if _repoint(archive, kind, record, moved, plan.warcs, done, rel):
                atomic.write_json(path, record)
    for old, (new, _) in moved.items():
        _quarantine_file(root, root / old, f"{old}.{stamp}")
        done.append(f"{old}: moved to {layout.QUARANTINE}/{old}.{stamp} (its sound records: {new})")
    wanted = sorted(plan.damaged_json, key=_kind_order)
    rebuild = Rebuilder(archive, done)
    for rel in wanted:
        target = layout.quarantine_path(root, rel, stamp)
        _quarantine_file(root, root / rel, layout.relative(root / layout.QUARANTINE, target))
        done.append(f"{rel}: moved to {layout.relative(root, target)}")
        rebuild.record(rel)
    for link_id, url in {**plan.missing_links, **_missing_links(root)}.items():
        rebuild.link(link_id, url)
    counts = archive.reindex()
    done.append(f"index rebuilt: {counts}")
    return done


def _missing_links(root: Path) -> dict[str, str | None]:
    """Links the (sound, or rebuilt) digests cite that have no record: id -> canonical URL."""
    missing: dict[str, str | None] = {}
    for path in record_paths(root, layout.DIGESTS):
        digest = read_record(layout.DIGESTS, path, lambda _p, _w: None)
        for entry in digest["entries"] if digest else []:
            for link in entry["links"]:
                link_id = link.get("link_id")
                if layout.is_record_id(link_id) and not layout.link_path(root, link_id).exists():
                    missing.setdefault(link_id, link.get("canonical_url"))
    return missing


def _kind_order(rel: str) -> tuple[int, str]:
    """Digests first (links are rebuilt from them), then links, then articles."""
    order = {layout.DIGESTS: 0, layout.LINKS: 1, layout.ARTICLES: 2}
    return order.get(rel.split("/", 1)[0], 3), rel


def _quarantine_file(root: Path, path: Path, rel: str) -> None:
    """Move a file to quarantine/<rel> (kept as found)."""
    target = root / layout.QUARANTINE / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        os.replace(path, target)
        atomic.fsync_dir(path.parent)


def _rewrite_warc(
    root: Path, warc: WarcFile, stamp: str, done: list[str]
) -> tuple[str, dict[int, int]]:
    """Copy the damaged spans to quarantine and the sound members to a new WARC file."""
    source = root / warc.rel
    name = Path(warc.rel).name
    with source.open("rb") as fh:
        for span in warc.spans:
            fh.seek(span.start)
            bad = fh.read(span.end - span.start)
            target = root / layout.QUARANTINE / layout.WARC / f"{name}.{span.start}-{span.end}"
            atomic.write_bytes(target, bad)
            done.append(
                f"{warc.rel}:{span.start}: {span.end - span.start} damaged bytes copied to "
                f"{layout.relative(root, target)}"
            )
        host = host_token(socket.gethostname()) or "host"
        when = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]  # as WarcWriter names files
        new_name = f"{PREFIX}-{when}-{_serial(name)}-{host}-{os.getpid()}.warc.gz"
        new = root / layout.WARC / new_name
        offsets: dict[int, int] = {}
        data = bytearray()
        for offset, member in sorted(warc.sound.items()):
            fh.seek(offset)
            offsets[offset] = len(data)
            data += fh.read(member.length)
    atomic.write_bytes(new, bytes(data))
    new_rel = layout.relative(root, new)
    done.append(f"{warc.rel}: {len(offsets)} sound records written to {new_rel}")
    return new_rel, offsets


def _serial(name: str) -> str:
    """A serial for the file that replaces `name`: 9 and its own serial's last digits."""
    parts = name.split("-")
    serial = parts[2] if len(parts) > 2 and parts[2].isdigit() else "00000"
    return "9" + serial[-4:]


def _repoint(
    archive: Archive,
    kind: str,
    record: dict[str, Any],
    moved: dict[str, tuple[str, dict[int, int]]],
    warcs: dict[str, WarcFile],
    done: list[str],
    rel: str,
) -> bool:
    """Move a record's pointers to the rewritten files; handle lost originals. True if changed."""
    changed = False
    for key, ptr in list(_pointers(record)):
        warc = warcs.get(ptr["warc"])
        if ptr["warc"] in moved:
            new_rel, offsets = moved[ptr["warc"]]
            if ptr["offset"] in offsets:
                ptr.update(warc=new_rel, offset=offsets[ptr["offset"]])
                changed = True
                continue
        span = warc.damaged_at(ptr["offset"]) if warc else None
        if span is None:
            continue
        changed |= _lost(archive, kind, record, key, done, rel)
    return changed


def _lost(
    archive: Archive, kind: str, record: dict[str, Any], key: str, done: list[str], rel: str
) -> bool:
    """A record whose `key` pointer led into damaged bytes: what becomes of it."""
    if kind == layout.DIGESTS:
        pointer = _digest_again(archive, record)
        if pointer is None:
            done.append(
                f"{rel}: could not rebuild its original: the digest file {record['source']} is "
                "gone or has other bytes now"
            )
            return False
        record["original"] = pointer.as_dict()
        done.append(f"{rel}: original written again from {record['source']}")
        return True
    if key == "original":
        record["original"] = None
        if kind == layout.LINKS:
            record.update(
                status=Status.FAILED,
                reason="original lost: its WARC record was damaged (quarantined by repair)",
                next_attempt=None,
            )
            done.append(f"{rel}: original lost; set to failed, for the next crawl to fetch again")
        else:
            done.append(f"{rel}: could not rebuild its original; set to null, the text is kept")
        return True
    url = key.removeprefix("attachment ")
    attachment = record["attachments"][url]
    attachment.update(
        original=None, status=Status.FAILED, reason="original lost: damaged WARC record"
    )
    done.append(f"{rel}: could not rebuild attachment {url}; set to failed")
    return True


def _digest_again(archive: Archive, record: dict[str, Any]) -> Pointer | None:
    """A new resource record of a digest whose file still has the recorded bytes."""
    source = str(record["source"])
    if source.startswith(("http://", "https://")):
        return None
    try:
        raw = Path(source).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != record["sha256"]:
        return None
    return archive.warc.write_resource(
        uri=Path(source).resolve().as_uri(),
        data=raw,
        content_type="text/markdown",
        read_at=time.time(),
    )


# -- rebuilding records from the WARC files ---------------------------------------------------


@dataclass
class Stored:
    """One stored exchange: the response record's pointer, headers and HTTP message."""

    pointer: Pointer
    uri: str
    date: float
    ip: str | None
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # as served (still compressed when the server compressed it)


class Rebuilder:
    """Rebuilds damaged or missing records from the WARC files and the other records."""

    def __init__(self, archive: Archive, done: list[str]):
        self.archive = archive
        self.root = archive.root
        self.done = done
        self._responses: dict[str, list[tuple[Path, Member]]] | None = None
        self._resources: list[tuple[Path, Member]] | None = None

    # -- what the WARC files hold
    def _index_warcs(self) -> None:
        self._responses, self._resources = {}, []
        for path in sorted((self.root / layout.WARC).glob("*.warc.gz")):
            for member in scan(path):
                if member.problems:
                    continue
                kind = member.headers.get("warc-type")
                if kind == "response":
                    uri = member.headers.get("warc-target-uri", "")
                    self._responses.setdefault(uri, []).append((path, member))
                elif kind == "resource":
                    self._resources.append((path, member))

    def _read(self, path: Path, member: Member) -> Stored | None:
        """The exchange stored in one response record."""
        with path.open("rb") as fh:
            fh.seek(member.offset)
            raw = fh.read(member.length)
        try:
            data = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        except zlib.error:
            return None
        block = data.partition(b"\r\n\r\n")[2]
        block = block[: int(member.headers.get("content-length", len(block)))]
        head, _, body = block.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            return None
        headers = [
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])
        ]
        pointer = Pointer(
            warc=layout.relative(self.root, path),
            offset=member.offset,
            length=member.length,
            record_id=member.headers.get("warc-record-id", ""),
        )
        return Stored(
            pointer,
            member.headers.get("warc-target-uri", ""),
            _warc_date(member.headers.get("warc-date")),
            member.headers.get("warc-ip-address"),
            status,
            headers,
            body,
        )

    def _page_of(self, url: str) -> tuple[Stored, list[str]] | None:
        """The last stored fetch of `url`, redirects followed: its final response and the
        URLs before it."""
        if self._responses is None:
            self._index_warcs()
        assert self._responses is not None
        seen: list[str] = []
        current = url
        for _ in range(MAX_HOPS + 1):
            candidates = [
                s for s in (self._read(p, m) for p, m in self._responses.get(current, [])) if s
            ]
            if not candidates:
                return None
            last = max(candidates, key=lambda s: s.date)
            location = _header(last.headers, "location")
            if 300 <= last.status < 400 and location:
                from urllib.parse import urljoin

                seen.append(current)
                current = urljoin(current, location)
                continue
            return last, seen
        return None

    # -- records
    def record(self, rel: str) -> None:
        """Rebuild the damaged record at `rel` (already moved to quarantine)."""
        kind, _, name = rel.partition("/")
        record_id = Path(name).stem
        if kind == layout.DIGESTS:
            self.digest(record_id)
        elif kind == layout.LINKS and layout.is_record_id(record_id):
            self.link(record_id, None)
        elif kind == layout.ARTICLES and layout.is_record_id(record_id):
            self.article(record_id)

    def digest(self, digest_id: str) -> None:
        """A digest record from the last resource record of a source that has this id."""
        from crawler.digests import DigestError, digest_id_candidates, parse_digest
        from crawler.digests import digest_id as id_of

        if self._resources is None:
            self._index_warcs()
        assert self._resources is not None
        rel = f"{layout.DIGESTS}/{digest_id}.json"
        known = self.archive.index.digest_source(digest_id)
        best: tuple[float, Path, Member, str] | None = None
        for path, member in self._resources:
            source = _source_of(member.headers.get("warc-target-uri", ""))
            if known is not None and source not in (known, _resolved(known)):
                continue
            ids = digest_id_candidates(_resolved(source), id_of(known or source))
            if known is None and digest_id not in _first(ids, 3):
                continue
            date = _warc_date(member.headers.get("warc-date"))
            if best is None or date > best[0]:
                best = (date, path, member, known or source)
        if best is None:
            self.done.append(f"{rel}: could not rebuild: no stored copy of the digest found")
            return
        date, path, member, source = best
        with path.open("rb") as fh:
            fh.seek(member.offset)
            data = zlib.decompress(fh.read(member.length), 16 + zlib.MAX_WBITS)
        block = data.partition(b"\r\n\r\n")[2][: int(member.headers.get("content-length", 0))]
        try:
            digest = parse_digest(block, source)
        except DigestError as exc:
            self.done.append(f"{rel}: could not rebuild: {exc}")
            return
        digest.id = digest_id
        pointer = Pointer(
            layout.relative(self.root, path),
            member.offset,
            member.length,
            member.headers.get("warc-record-id", ""),
        )
        atomic.write_json(self.root / rel, records.digest(digest, pointer, date))
        self.done.append(f"{rel}: rebuilt from its stored copy ({pointer.warc}:{pointer.offset})")

    def _cited_by(self, link_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        """(canonical URL, cited_by) of a link, from the digest records."""
        url = None
        cited = []
        for path in record_paths(self.root, layout.DIGESTS):
            digest = read_record(layout.DIGESTS, path, lambda _p, _w: None)
            if digest is None:
                continue
            for entry in digest["entries"]:
                for link in entry["links"]:
                    if link.get("link_id") == link_id:
                        url = url or link.get("canonical_url")
                        cited.append(
                            records.citation(
                                digest["id"], entry["position"], link["role"], link["url"]
                            )
                        )
        return url, sorted(cited, key=records.citation_key)

    def _articles_listing(self, link_id: str) -> list[dict[str, Any]]:
        found = []
        for path in record_paths(self.root, layout.ARTICLES):
            article = read_record(layout.ARTICLES, path, lambda _p, _w: None)
            if article is not None and link_id in article["links"]:
                found.append(article)
        return found

    def link(self, link_id: str, canonical_url: str | None) -> None:
        """A link record from its citations and its last stored fetch (else `pending`)."""
        rel = layout.relative(self.root, layout.link_path(self.root, link_id))
        url, cited_by = self._cited_by(link_id)
        url = url or canonical_url
        listing = self._articles_listing(link_id)
        if url is None and listing:
            url = listing[0].get("url")
        if url is None:
            self.done.append(f"{rel}: could not rebuild: no digest or article names its URL")
            return
        record = records.new_link(link_id, url)
        record["cited_by"] = cited_by
        outcome = self._outcome(link_id, url)
        if outcome is None:
            atomic.write_json(self.root / rel, record)
            self.done.append(
                f"{rel}: rebuilt as pending (no stored fetch found; its history is lost)"
            )
            return
        article_id = None
        if outcome.status == Status.ARCHIVED:
            article_id = self._article_for(outcome, listing)
        records.outcome(record, outcome, outcome.status or Status.FAILED, article_id)
        atomic.write_json(self.root / rel, record)
        self.done.append(
            f"{rel}: rebuilt from {outcome.original.warc if outcome.original else '?'} "
            f"({record['status']}); attempts before are not known"
        )

    def _outcome(self, link_id: str, url: str) -> FetchOutcome | None:
        """What the last stored fetch of `url` ends as, read again."""
        from crawler.outcomes import settle, status_for_http

        found = self._page_of(url)
        if found is None:
            return None
        stored, redirects = found
        item = _fetch_outcome(link_id, url, stored, redirects)
        status, reason = status_for_http(stored.status, _header(stored.headers, "location"))
        item.status, item.reason = status, reason
        if status is None:
            item.extracted = self._extract(stored, item)
            item.status, item.reason = settle(item)
        return item

    def _extract(self, stored: Stored, item: FetchOutcome) -> Extracted:
        from crawler.extractors import extract

        return extract(stored.uri, item.body, item.content_type)

    def _article_for(self, item: FetchOutcome, listing: list[dict[str, Any]]) -> str:
        """The article a rebuilt archived link leads to: one that lists it, else a new one."""
        if listing:
            return str(listing[0]["id"])
        assert item.extracted is not None
        text = records.article_text(item.extracted)
        body = item.body_sha256 or ""
        article_id = hashlib.sha256(text.encode()).hexdigest()[:32] if text.strip() else body[:32]
        path = layout.article_path(self.root, article_id)
        existing = read_record(layout.ARTICLES, path, lambda _p, _w: None)
        if existing is None:
            atomic.write_json(path, records.article(article_id, item.link_id, item))
            self.done.append(f"{layout.relative(self.root, path)}: written for {item.link_id}")
        elif item.link_id not in existing["links"]:
            existing["links"] = sorted([*existing["links"], item.link_id])
            atomic.write_json(path, existing)
        return article_id

    def article(self, article_id: str) -> None:
        """An article record from the original of a link that leads to it."""
        rel = layout.relative(self.root, layout.article_path(self.root, article_id))
        links = []
        for path in record_paths(self.root, layout.LINKS):
            link = read_record(layout.LINKS, path, lambda _p, _w: None)
            if link is not None and link["article"] == article_id:
                links.append(link)
        for link in links:
            ptr = link.get("original")
            stored = self._stored_at(ptr) if ptr else None
            if stored is None:
                continue
            item = _fetch_outcome(link["id"], link["canonical_url"], stored, [])
            item.final_url = (link.get("fetch") or {}).get("final_url") or stored.uri
            item.extracted = self._extract(stored, item)
            record = records.article(article_id, link["id"], item)
            record["links"] = sorted(lk["id"] for lk in links)
            atomic.write_json(self.root / rel, record)
            self.done.append(f"{rel}: rebuilt from {stored.pointer.warc}:{stored.pointer.offset}")
            return
        self.done.append(f"{rel}: could not rebuild: no link that leads to it has an original")

    def _stored_at(self, ptr: dict[str, Any]) -> Stored | None:
        path = self.root / str(ptr.get("warc", ""))
        if not path.is_file():
            return None
        member = next((m for m in scan(path) if m.offset == ptr.get("offset")), None)
        if member is None or member.problems or member.headers.get("warc-type") != "response":
            return None
        return self._read(path, member)


def _fetch_outcome(link_id: str, url: str, stored: Stored, redirects: list[str]) -> FetchOutcome:
    """A FetchOutcome of a stored exchange, its body decoded as the crawl decoded it."""
    body = _decoded(stored.body, _header(stored.headers, "content-encoding"))
    return FetchOutcome(
        link_id=link_id,
        canonical_url=url,
        http_status=stored.status,
        final_url=stored.uri,
        content_type=_header(stored.headers, "content-type"),
        headers=stored.headers,
        body=body,
        fetched_at=stored.date,
        ip=stored.ip,
        redirects=redirects,
        original=stored.pointer,
        body_sha256=hashlib.sha256(body).hexdigest() if body else None,
    )


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """A body as served, its Content-Encoding (gzip, deflate, br) undone, at most MAX_BODY."""
    for coding in reversed([c.strip().lower() for c in (encoding or "").split(",") if c]):
        try:
            if coding in ("gzip", "x-gzip", "deflate"):
                wbits = 16 + zlib.MAX_WBITS if "gzip" in coding else zlib.MAX_WBITS
                inflater = zlib.decompressobj(wbits)
                body = inflater.decompress(body, MAX_BODY)
            elif coding == "br":
                import brotli  # type: ignore[import-untyped]  # Scrapy's dependency for br

                body = brotli.decompress(body)[:MAX_BODY]
        except Exception:  # a body that does not decode stays as it was served
            return body
    return body


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _warc_date(value: str | None) -> float:
    """A WARC-Date as a Unix time (0 when absent or unreadable)."""
    if not value:
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _source_of(uri: str) -> str:
    """The digest source a resource record's URI names (a file URI made a path)."""
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(uri).path)
    return uri


def _resolved(source: str) -> str:
    """A local digest source as an absolute path (a URL as it is)."""
    if source.startswith(("http://", "https://")):
        return source
    try:
        return str(Path(source).resolve())
    except (OSError, ValueError):
        return source


def _first(items: Iterator[str], n: int) -> list[str]:
    return [item for _, item in zip(range(n), items, strict=False)]
