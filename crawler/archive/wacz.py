"""`wacz`: the archive (or the records of some digests) as one WACZ 1.1 package, the format
browsertrix-crawler writes and ReplayWeb.page and pywb read.

    archive/<warc files>            the WARC files whole, or one file of the selected records
    indexes/index.cdx               a CDXJ index of them (cdxj-indexer, as py-wacz builds it)
    pages/pages.jsonl               one page per archived article: id, url, ts, title, text
                                    (the text-bearing page list, `hasText`, as browsertrix
                                    writes it with `--text to-pages`)
    datapackage.json                every file with its sha256 and size (Frictionless data
                                    package, profile `data-package`, `wacz_version` 1.1.1)
    datapackage-digest.json         the sha256 of datapackage.json

py-wacz (`wacz create`) matches a page list against the records it indexes and drops the text
of the pages it is given, so the package is put together here with cdxj-indexer, its index
library, and checked by `wacz validate` in the tests.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.archive import layout
from crawler.archive.reader import iter_records

WACZ_VERSION = "1.1.1"
#: Bytes copied at a time.
_CHUNK = 1 << 20


class WaczError(Exception):
    """What the selection or the package cannot be."""


@dataclass
class Selection:
    """What goes into the package: record ids, and URLs of redirect hops to keep."""

    everything: bool = True
    records: set[str] = field(default_factory=set)
    hops: set[str] = field(default_factory=set)
    articles: set[str] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)


def parse_since(value: str) -> datetime:
    """A `--since` value: a date (midnight UTC) or an ISO 8601 time (UTC if no offset)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise WaczError(f"--since {value!r}: not a date (YYYY-MM-DD) or ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _after(stamp: Any, since: datetime) -> bool:
    if not isinstance(stamp, str) or not stamp:
        return False
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= since


def _pointers(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every WARC pointer a record holds: its original, its requisites' and their revisits'."""
    if record.get("original"):
        yield record["original"]
    for entry in (record.get("attachments") or {}).values():
        if isinstance(entry, dict):
            for key in ("original", "revisit_of"):
                if entry.get(key):
                    yield entry[key]


def select(root: Path, digests: list[str], since: datetime | None) -> Selection:
    """The records of the named digests and of the digests read (links fetched) since a time:
    each digest's own record, the pages its links led to, their redirect hops and requisites."""
    if not digests and since is None:
        return Selection()
    chosen = Selection(everything=False)
    records: dict[str, dict[str, dict[str, Any]]] = {
        kind: {} for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES)
    }
    for kind, _path, rec in iter_records(root):
        records[kind][str(rec.get("id"))] = rec
    unknown = [d for d in digests if d not in records[layout.DIGESTS]]
    if unknown:
        raise WaczError(f"no digest {', '.join(map(repr, unknown))} in {root}")
    links: set[str] = set()
    for digest_id, rec in records[layout.DIGESTS].items():
        if digest_id in digests or (since is not None and _after(rec.get("read_at"), since)):
            chosen.digests.add(digest_id)
            chosen.records.update(p["record_id"] for p in _pointers(rec))
            links.update(
                lk["link_id"]
                for entry in rec.get("entries", [])
                for lk in entry.get("links", [])
                if lk.get("link_id")
            )
    if since is not None:
        links.update(
            link_id
            for link_id, rec in records[layout.LINKS].items()
            if _after(rec.get("last_attempt"), since)
        )
    for link_id in links:
        link = records[layout.LINKS].get(link_id)
        if link is None:
            continue
        chosen.records.update(p["record_id"] for p in _pointers(link))
        chosen.hops.update((link.get("fetch") or {}).get("redirects") or [])
        if link.get("article"):
            chosen.articles.add(link["article"])
    for article_id in chosen.articles:
        article = records[layout.ARTICLES].get(article_id)
        if article is not None:
            chosen.records.update(p["record_id"] for p in _pointers(article))
    if not chosen.records:
        raise WaczError("nothing selected: no digest read or link fetched in that range")
    return chosen


def _copy_selected(root: Path, chosen: Selection, out: Path) -> int:
    """Write the selected records (and the request and metadata records beside them, and the
    redirect hops) into one WARC file, byte for byte; the number of records."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    count = 0
    kept = set(chosen.records)
    with out.open("wb") as dest:
        writer = WARCWriter(dest, gzip=True, warc_version="1.1")
        info = {"software": f"sources/{__version__}", "format": "WARC File Format 1.1"}
        writer.write_record(writer.create_warcinfo_record(out.name, info))
        for path in sorted((root / layout.WARC).glob("*.warc.gz")):
            spans: list[tuple[int, int]] = []
            with path.open("rb") as fh:
                records = ArchiveIterator(fh)
                for record in records:
                    headers = record.rec_headers
                    record_id = headers.get_header("WARC-Record-ID")
                    beside = headers.get_header("WARC-Concurrent-To")
                    hop = (
                        record.rec_type == "response"
                        and headers.get_header("WARC-Target-URI") in chosen.hops
                    )
                    if record_id in kept or beside in kept or hop:
                        kept.add(record_id)
                        record.content_stream().read()
                        spans.append((records.get_record_offset(), records.get_record_length()))
            with path.open("rb") as fh:
                for offset, length in spans:
                    fh.seek(offset)
                    dest.write(fh.read(length))
                    count += 1
    return count


def _index(warcs: list[Path]) -> bytes:
    """A sorted CDXJ index of the WARC files, file names as they stand in `archive/`."""
    from cdxj_indexer.main import CDXJIndexer

    buffer = io.StringIO()
    CDXJIndexer(buffer, [str(p) for p in warcs], sort=True, post_append=True).process_all()
    return buffer.getvalue().encode("utf-8")


def _record_date(root: Path, ptr: dict[str, Any]) -> str | None:
    """The WARC-Date of the record a pointer names (the page's capture time)."""
    from warcio.archiveiterator import ArchiveIterator

    try:
        with (root / ptr["warc"]).open("rb") as fh:
            fh.seek(int(ptr["offset"]))
            record = next(iter(ArchiveIterator(fh)))
            value = record.rec_headers.get_header("WARC-Date")
    except (OSError, KeyError, ValueError, StopIteration):
        return None
    return str(value) if value else None


def pages(root: Path, chosen: Selection) -> list[dict[str, Any]]:
    """One page per archived article (of the selection): its URL as captured, the capture's
    time, title and text."""
    found = []
    for kind, _path, rec in iter_records(root):
        if kind != layout.ARTICLES or not rec.get("original"):
            continue
        if not chosen.everything and rec["id"] not in chosen.articles:
            continue
        found.append(
            {
                "id": rec["id"],
                "url": rec.get("final_url") or rec.get("url"),
                "ts": _record_date(root, rec["original"]) or rec.get("fetched_at"),
                "title": rec.get("title") or rec.get("url"),
                "text": rec.get("text") or "",
            }
        )
    return found


def _sha256(path: Path | None = None, data: bytes | None = None) -> str:
    digest = hashlib.sha256()
    if data is not None:
        digest.update(data)
    else:
        assert path is not None
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def write_wacz(
    root: Path, out: Path, *, digests: list[str] | None = None, since: datetime | None = None
) -> dict[str, Any]:
    """Write `out` (a WACZ 1.1 file, replaced atomically); return what it holds, counted."""
    chosen = select(root, digests or [], since)
    with tempfile.TemporaryDirectory(prefix=".wacz-", dir=out.parent) as scratch:
        work = Path(scratch)
        if chosen.everything:
            warcs = sorted((root / layout.WARC).glob("*.warc.gz"))
            records = None
        else:
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            selected = work / f"sources-{stamp}-selected.warc.gz"
            records = _copy_selected(root, chosen, selected)
            warcs = [selected]
        if not warcs:
            raise WaczError(f"{root} holds no WARC file")
        index = _index(warcs)
        page_list = pages(root, chosen)
        header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
        page_lines = "".join(
            json.dumps(line, ensure_ascii=False) + "\n" for line in [header, *page_list]
        ).encode("utf-8")
        resources = []
        partial = work / "package.wacz"
        with zipfile.ZipFile(partial, "w", allowZip64=True) as package:
            for path in warcs:
                name = f"archive/{path.name}"
                # stored, not deflated: a replay tool reads records at their offsets in place
                package.write(path, name, compress_type=zipfile.ZIP_STORED)
                resources.append(_resource(name, _sha256(path), path.stat().st_size))
            for name, data in (("indexes/index.cdx", index), ("pages/pages.jsonl", page_lines)):
                package.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
                resources.append(_resource(name, _sha256(data=data), len(data)))
            datapackage = {
                "profile": "data-package",
                "wacz_version": WACZ_VERSION,
                "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "software": f"sources/{__version__}",
                "title": f"sources archive {root.resolve().name}",
                "resources": resources,
            }
            if page_list:
                datapackage["mainPageURL"] = page_list[0]["url"]
                datapackage["mainPageDate"] = page_list[0]["ts"]
            package_bytes = json.dumps(datapackage, indent=2).encode("utf-8")
            package.writestr("datapackage.json", package_bytes, zipfile.ZIP_DEFLATED)
            digest = {"path": "datapackage.json", "hash": _sha256(data=package_bytes)}
            package.writestr(
                "datapackage-digest.json", json.dumps(digest, indent=2), zipfile.ZIP_DEFLATED
            )
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, out)  # the scratch folder is beside `out`: a rename
    return {
        "wacz": str(out),
        "warc_files": len(warcs),
        "records": records,
        "pages": len(page_list),
        "digests": sorted(chosen.digests) if not chosen.everything else None,
    }


def _resource(path: str, sha256: str, size: int) -> dict[str, Any]:
    return {"name": os.path.basename(path).lower(), "path": path, "hash": sha256, "bytes": size}
