"""The JSON shape of every archive record: written by the store, checked by verify, read by the
reader. ARCHIVE.md documents these fields; a field is spelled here and nowhere else.

Records are plain dicts (what `atomic.dumps` writes). Builders take the crawl's typed items
(`crawler.items`); `REQUIRED` lists, per kind, the fields every record must have and their JSON
types; `citation_row` is one row of `python -m crawler.archive citations`.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from crawler.archive.layout import SCHEMA, SCHEMA_VERSION
from crawler.items import (
    AttachmentOutcome,
    Digest,
    Extracted,
    FetchOutcome,
    Pointer,
    Status,
)

Record = dict[str, Any]

#: Extracted fields an article record keeps.
ARTICLE_FIELDS = (
    "title",
    "author",
    "published",
    "site",
    "language",
    "description",
    "text",
    "extractor",
    "images",
    "extra",
)

#: Fields a link copies from another link that names the same page (a WeChat short and long
#: link), without a fetch of its own.
SAME_PAGE_FIELDS = ("status", "http_status", "article", "original", "fetch", "last_attempt")

_NONE = type(None)

#: field -> allowed JSON types, per record kind: what `verify` checks.
REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    "digests": {
        "schema_version": (int,),
        "id": (str,),
        "source": (str,),
        "sha256": (str,),
        "format": (str,),
        "entries": (list,),
        "original": (dict,),
    },
    "links": {
        "schema_version": (int,),
        "id": (str,),
        "canonical_url": (str,),
        "status": (str,),
        "attempts": (int,),
        "cited_by": (list,),
        "article": (str, _NONE),
        "original": (dict, _NONE),
    },
    "articles": {
        "schema_version": (int,),
        "id": (str,),
        "links": (list,),
        "text": (str,),
        "text_chars": (int,),
        "original": (dict, _NONE),
    },
}

#: Status words a link record may hold (`invalid` and `missing` are a citation's only).
LINK_STATUSES = frozenset(Status) - {Status.INVALID, Status.MISSING}


def now_iso(ts: float | None = None) -> str:
    """UTC time stamp in ISO 8601 with offset, seconds precision."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.isoformat(timespec="seconds")


def _pointer(pointer: Pointer | None) -> Record | None:
    return pointer.as_dict() if pointer is not None else None


def manifest(software: str) -> Record:
    """archive.json: what the directory is, and which version of the contract it follows."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": now_iso(),
        "software": software,
    }


# -- digests ---------------------------------------------------------------------------------


def digest(digest: Digest, original: Pointer, read_at: float) -> Record:
    """digests/<id>.json: the digest, its entries and the links each cites."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": digest.id,
        "source": digest.source,
        "sha256": digest.sha256,
        "format": digest.format,
        "title": digest.title,
        "date": digest.date,
        "read_at": now_iso(read_at),
        "original": original.as_dict(),
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
                        "link_id": lk.link_id,
                        "error": lk.error,
                    }
                    for lk in e.links
                ],
            }
            for e in digest.entries
        ],
    }


def cited_links(record: Record) -> list[tuple[int, str, str | None]]:
    """(entry position, URL as cited, link id or None) of every link a digest record cites."""
    return [
        (entry["position"], link["url"], link.get("link_id"))
        for entry in record.get("entries", [])
        for link in entry.get("links", [])
    ]


def cited_role(digest: Record, position: int, url: str) -> str | None:
    """The role a digest record gives the link `url` in entry `position` (None: not cited)."""
    for entry in digest.get("entries", []):
        if entry.get("position") == position:
            for link in entry.get("links", []):
                if link.get("url") == url:
                    return str(link.get("role"))
    return None


def citation(digest_id: str, entry: int, role: str, url: str) -> Record:
    """One `cited_by` entry of a link record."""
    return {"digest": digest_id, "entry": entry, "role": role, "url": url}


def citation_key(cited: Record) -> tuple[Any, Any, Any]:
    """The order of `cited_by`: digest, entry, URL."""
    return cited["digest"], cited["entry"], cited["url"]


# -- links -----------------------------------------------------------------------------------


def new_link(link_id: str, canonical_url: str) -> Record:
    """links/<ab>/<id>.json of a link cited and not fetched yet."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": link_id,
        "canonical_url": canonical_url,
        "status": Status.PENDING,
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


def same_page(other: Record | None, other_id: str) -> Record:
    """The fields a new link takes from an archived link naming the same page, else {}."""
    if not other or other.get("status") != Status.ARCHIVED:
        return {}
    return {k: other.get(k) for k in SAME_PAGE_FIELDS} | {"same_as": other_id}


def fetch(item: FetchOutcome) -> Record | None:
    """The `fetch` of a link record: what was served (None when no response came)."""
    if item.http_status is None:
        return None
    record: Record = {
        "url": item.canonical_url,
        "final_url": item.final_url,
        "http_status": item.http_status,
        "content_type": item.content_type,
        "headers": [list(pair) for pair in item.headers],
        "fetched_at": now_iso(item.fetched_at),
        "ip": item.ip,
        "redirects": item.redirects,
        "aliases": item.aliases,
        "body_bytes": len(item.body),
        "body_sha256": item.body_sha256,
    }
    ex = item.extracted
    if ex is not None:
        record["extractor"] = ex.extractor
        record["page_state"] = {
            "status": ex.status,
            "reason": ex.reason,
            "extra": ex.extra if ex.status != Status.ARCHIVED else {},
        }
    return record


def outcome(
    record: Record, item: FetchOutcome, status: Status, article_id: str | None
) -> Record:
    """A link record updated with how one fetch of it ended."""
    record.update(
        status=status,
        reason=item.reason,
        http_status=item.http_status,
        attempts=int(record.get("attempts", 0)) + 1,
        last_attempt=now_iso(),
        next_attempt=item.next_attempt,
        fetch=fetch(item),
        original=_pointer(item.original) or record.get("original"),
        article=article_id,
    )
    record.pop("same_as", None)
    return record


def aliases(record: Record) -> list[str]:
    """Other canonical URLs a link record says its page has."""
    return list((record.get("fetch") or {}).get("aliases", []))


# -- articles --------------------------------------------------------------------------------


def article_text(ex: Extracted) -> str:
    """The text an article is identified by."""
    return ex.text or ""


def article(article_id: str, link_id: str, item: FetchOutcome) -> Record:
    """articles/<ab>/<id>.json: what was read from a page, first stored by `link_id`."""
    ex = item.extracted
    assert ex is not None
    text = article_text(ex)
    record: Record = {k: v for k, v in asdict(ex).items() if k in ARTICLE_FIELDS}
    record.update(
        url=item.canonical_url,
        final_url=item.final_url,
        content_type=item.content_type,
        fetched_at=now_iso(item.fetched_at),
        schema_version=SCHEMA_VERSION,
        id=article_id,
        body_sha256=item.body_sha256 or "",
        text_chars=len(text),
        original=_pointer(item.original),
        links=[link_id],
    )
    return record


PENDING_ATTACHMENT: Record = {"status": Status.PENDING}


def attachment(item: AttachmentOutcome) -> Record:
    """One entry of an article's `attachments`: how fetching an image or a PDF ended."""
    return {
        "status": item.status,
        "reason": item.reason,
        "http_status": item.http_status,
        "content_type": item.content_type,
        "bytes": item.size,
        "original": _pointer(item.original),
    }


# -- reading ---------------------------------------------------------------------------------


def citation_row(
    digest: Record,
    entry: Record,
    cited: Record,
    link: Record | None,
    link_path: str | None,
    article: Record | None,
    article_path: str | None,
    *,
    with_text: bool = False,
) -> Record:
    """One row of `citations`: a digest entry, a link it cites, its outcome and its article."""
    row: Record = {
        "digest": digest["id"],
        "digest_source": digest.get("source"),
        "digest_date": digest.get("date"),
        "entry": entry["position"],
        "entry_title": entry.get("title"),
        "section": entry.get("section"),
        "role": cited["role"],
        "url": cited["url"],
        "canonical_url": cited.get("canonical_url"),
        "status": Status.INVALID,
        "reason": cited.get("error"),
        "http_status": None,
        "attempts": 0,
        "title": None,
        "author": None,
        "published": None,
        "site": None,
        "language": None,
        "text_chars": None,
        "link": None,
        "article": None,
        "original": None,
    }
    if cited.get("link_id") and link is None:
        row.update(status=Status.MISSING, reason="link record missing")
    if link is not None:
        row.update(
            status=link["status"],
            reason=link.get("reason"),
            http_status=link.get("http_status"),
            attempts=link.get("attempts", 0),
            link=link_path,
            original=link.get("original"),
        )
        if article is not None:
            row.update(
                title=article.get("title"),
                author=article.get("author"),
                published=article.get("published"),
                site=article.get("site"),
                language=article.get("language"),
                text_chars=article.get("text_chars"),
                article=article_path,
            )
            if with_text:
                row["text"] = article.get("text", "")
    return row


# -- checking --------------------------------------------------------------------------------

#: Fields of a WARC pointer and their JSON types.
POINTER_FIELDS: dict[str, tuple[type, ...]] = {
    "warc": (str,),
    "offset": (int,),
    "length": (int,),
    "record_id": (str,),
}
#: Fields of the parts of records that readers index into, and their JSON types.
_PARTS: dict[str, dict[str, tuple[type, ...]]] = {
    "entry": {"position": (int,), "links": (list,)},
    "cited": {"url": (str,), "role": (str,), "link_id": (str, _NONE)},
    "cited_by": {"digest": (str,), "entry": (int,), "url": (str,)},
}


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    """Whether a JSON value has one of `types` (a bool is no int here)."""
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _fields(what: str, rec: Any, spec: dict[str, tuple[type, ...]]) -> list[str]:
    """Problems of the fields `spec` names in `rec` (the record itself when `what` is "")."""
    if not isinstance(rec, dict):
        return [f"{what or 'record'} is not a JSON object"]
    where = f"{what}: " if what else ""
    out = []
    for key, types in spec.items():
        if key not in rec:
            out.append(f"{where}missing field {key!r}")
        elif not _typed(rec[key], types):
            out.append(f"{where}field {key!r} has the wrong type")
    return out


def problems(kind: str, rec: Any) -> list[str]:
    """What makes `rec` no sound record of `kind` (digests, links, articles); [] when sound.

    The fields of `REQUIRED`, the parts readers index into (entries and their links,
    `cited_by`, an article's `links`), pointers, a link's status and an article's text_chars.
    """
    out = _fields("", rec, REQUIRED[kind])
    if out:
        return out
    if rec["original"] is not None:
        out += _fields("original", rec["original"], POINTER_FIELDS)
    if kind == "digests":
        for n, entry in enumerate(rec["entries"]):
            found = _fields(f"entries[{n}]", entry, _PARTS["entry"])
            out += found
            if not found:
                for m, cited in enumerate(entry["links"]):
                    out += _fields(f"entries[{n}].links[{m}]", cited, _PARTS["cited"])
    elif kind == "links":
        if rec["status"] not in LINK_STATUSES:
            out.append(f"unknown status {rec['status']!r}")
        for n, cited in enumerate(rec["cited_by"]):
            out += _fields(f"cited_by[{n}]", cited, _PARTS["cited_by"])
    elif kind == "articles":
        if not all(isinstance(link, str) for link in rec["links"]):
            out.append("links holds something that is no link id")
        if rec["text_chars"] != len(rec["text"]):
            out.append("text_chars does not match the text")
    return out


def pointers(rec: Record) -> list[Record]:
    """Every WARC pointer a record holds: its `original`, and its attachments' (articles)."""
    found = [rec.get("original")]
    attachments = rec.get("attachments")
    if isinstance(attachments, dict):
        found += [a.get("original") for a in attachments.values() if isinstance(a, dict)]
    return [p for p in found if isinstance(p, dict) and not _fields("", p, POINTER_FIELDS)]
