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
from urllib.parse import urlsplit

from crawler.archive.layout import SCHEMA, SCHEMA_VERSION
from crawler.items import (
    OUTCOMES,
    AttachmentOutcome,
    Dedupe,
    Digest,
    Extracted,
    FetchOutcome,
    Link,
    Observed,
    Pointer,
    Requisite,
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

#: Set (to the time) on a link or article record when `forget` took away the last digest that
#: cited it; gone again once a digest cites it again.
UNREFERENCED = "unreferenced"

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

#: The entry position that stands for the digest itself: its own links (`links`, role
#: `digest`) are cited by "entry 0" in `cited_by`, the index and `citations`.
DIGEST_ENTRY = 0


def _link(lk: Link) -> Record:
    return {
        "url": lk.url,
        "role": lk.role,
        "text": lk.text,
        "canonical_url": lk.canonical_url,
        "link_id": lk.link_id,
        "error": lk.error,
        "note": lk.note,
    }


def digest(digest: Digest, original: Pointer, read_at: float) -> Record:
    """digests/<id>.json: the digest, its entries and the links each cites, its own links."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": digest.id,
        "source": digest.source,
        "sha256": digest.sha256,
        "format": digest.format,
        "structure": digest.structure,
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
                "links": [_link(lk) for lk in e.links],
            }
            for e in digest.entries
        ],
        "links": [_link(lk) for lk in digest.links],
    }


def citing_entries(record: Record) -> list[Record]:
    """The entries of a digest record, and for its own links (`links`) the stand-in entry
    `DIGEST_ENTRY` (no title, no section): every place a digest cites a link from."""
    entries: list[Record] = list(record.get("entries", []))
    if record.get("links"):
        stand_in: Record = {"position": DIGEST_ENTRY, "title": None, "section": None, "labels": []}
        entries.append(stand_in | {"links": record["links"]})
    return entries


def cited_links(record: Record) -> list[tuple[int, str, str | None]]:
    """(entry position, URL as cited, link id or None) of every link a digest record cites;
    the digest's own links at position `DIGEST_ENTRY`."""
    return [
        (entry["position"], link["url"], link.get("link_id"))
        for entry in citing_entries(record)
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


def outcome(record: Record, item: FetchOutcome, status: Status, article_id: str | None) -> Record:
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


# -- re-checks: observations, versions, and the state they show -----------------------------

#: Link record fields of re-checks (ARCHIVE.md, *Re-checks*); optional: a link archived by an
#: older crawler, or never re-checked, has none of them.
OBSERVATIONS = "observations"
VERSIONS = "versions"
NEXT_CHECK = "next_check"
#: The link's state, derived from its first capture and its observations (`link_state`).
STATE_FIELDS = ("alive", "last_checked", "last_present", "gone_since")
#: Article field: the links whose later version (a `changed` re-check) the article is.
VERSION_OF = "version_of"

#: field -> allowed JSON types of one observation and of one version: what `verify` checks.
OBSERVATION_REQUIRED: dict[str, tuple[type, ...]] = {
    "checked_at": (str,),
    "outcome": (str,),
    "http_status": (int, _NONE),
    "reason": (str, _NONE),
    "original": (dict, _NONE),
    "body_sha256": (str, _NONE),
    "version": (int, _NONE),
}
VERSION_REQUIRED: dict[str, tuple[type, ...]] = {
    "article": (str,),
    "original": (dict, _NONE),
    "fetched_at": (str, _NONE),
    "body_sha256": (str, _NONE),
}
#: Outcomes that saw the page there.
PRESENT = frozenset({Observed.UNCHANGED, Observed.CHANGED})

#: The validators of a stored answer a re-check sends back: field -> response header.
VALIDATORS = {"etag": "ETag", "last_modified": "Last-Modified"}

#: How the generic extractor words a "not found" page served with 200 (its `late_state`): a
#: guess from the page's words, so it is confirmed like a 404 before a link counts as gone.
SOFT_404 = "soft 404"


def parse_time(value: Any) -> float | None:
    """Unix time of an ISO 8601 stamp as records hold them (a date alone is midnight UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def header(headers: Any, name: str) -> str | None:
    """The first value of header `name` (any case) in `[name, value]` pairs, or None."""
    wanted = name.lower()
    for pair in headers or []:
        if len(pair) == 2 and str(pair[0]).lower() == wanted:
            return str(pair[1])
    return None


def response_validators(headers: Any) -> Record:
    """The validators (`VALIDATORS`) an answer's headers give; {} when none."""
    found = {key: header(headers, name) for key, name in VALIDATORS.items()}
    return {key: value.strip() for key, value in found.items() if value and value.strip()}


def first_version(record: Record) -> Record | None:
    """The capture the digest cited, as a version; None for a link never archived."""
    if not record.get("article"):
        return None
    fetch = record.get("fetch") or {}
    return {
        "article": record["article"],
        "original": record.get("original"),
        "fetched_at": fetch.get("fetched_at"),
        "body_sha256": fetch.get("body_sha256"),
        "final_url": fetch.get("final_url"),
    }


def versions(record: Record) -> list[Record]:
    """Every version of a link's page, oldest (the one the digest cited) first."""
    if isinstance(record.get(VERSIONS), list):
        return list(record[VERSIONS])
    first = first_version(record)
    return [first] if first else []


def version(article_id: str, item: FetchOutcome) -> Record:
    """One entry of `versions`: a later capture whose text differs from the one before."""
    return {
        "article": article_id,
        "original": _pointer(item.original),
        "fetched_at": now_iso(item.fetched_at),
        "body_sha256": item.body_sha256,
        "final_url": item.final_url,
    }


def validators(record: Record) -> Record:
    """What a re-check of the link sends back: the validators of the newest answer that showed
    the page (a re-check that saw it, else the first capture). Never those of a deleted page:
    a 304 to them would say "still the deleted page", not "still there"."""
    for obs in reversed(record.get(OBSERVATIONS) or []):
        if isinstance(obs, dict) and isinstance(obs.get("validators"), dict):
            return dict(obs["validators"])
    return response_validators((record.get("fetch") or {}).get("headers"))


def judge(
    record: Record, item: FetchOutcome, status: Status, reason: str | None, content_id: str
) -> tuple[Observed, str | None, bool]:
    """What a settled re-check of an archived link observed: (outcome, reason, explicit).

    `explicit` is True for an absence the site states itself (its deleted or violation page,
    served with 2xx and recognised by its extractor), which needs no confirming; a 404/410, a
    soft 404 or a redirect to the site's home page may be a hiccup and is confirmed by a
    second look (`confirms`). `content_id` is the article id the answer's text would have.
    """
    code = item.http_status
    if code == 304:
        if item.conditional:
            return Observed.UNCHANGED, None, False
        return Observed.UNREACHABLE, "HTTP 304 to a request without validators", False
    if status == Status.GONE:
        served = code is not None and 200 <= code < 300
        return Observed.GONE, reason, served and SOFT_404 not in (reason or "")
    if status != Status.ARCHIVED:
        return Observed.UNREACHABLE, reason, False
    known = versions(record)
    latest = known[-1] if known else {}
    if _home_page(item.final_url) and item.redirects and not _home_page(latest.get("final_url")):
        return Observed.GONE, f"redirected to the site's home page ({item.final_url})", False
    seen = {latest.get("body_sha256")} | {
        o.get("body_sha256") for o in (record.get(OBSERVATIONS) or [])[-1:] if _present(o)
    }
    if (item.body_sha256 and item.body_sha256 in seen) or content_id == latest.get("article"):
        return Observed.UNCHANGED, None, False
    return Observed.CHANGED, None, False


def _home_page(url: Any) -> bool:
    if not isinstance(url, str) or not url:
        return False
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _present(obs: Any) -> bool:
    return isinstance(obs, dict) and obs.get("outcome") in PRESENT


def confirms(record: Record, now: float, confirm_after: float, explicit: bool) -> bool:
    """Whether a `gone` observed `now` establishes the absence: the site said so itself, or an
    earlier look since the page was last seen there found it gone `confirm_after` s before."""
    if explicit:
        return True
    for obs in reversed(record.get(OBSERVATIONS) or []):
        if _present(obs):
            return False
        if obs.get("outcome") == Observed.GONE:
            seen = parse_time(obs.get("checked_at"))
            if seen is not None and now - seen >= confirm_after:
                return True
    return False


def awaits_confirmation(record: Record) -> bool:
    """Whether the newest conclusive look saw the page gone without establishing it."""
    for obs in reversed(record.get(OBSERVATIONS) or []):
        if obs.get("outcome") == Observed.GONE:
            return not obs.get("confirmed")
        if _present(obs):
            return False
    return False


def observation(
    item: FetchOutcome,
    outcome: Observed,
    reason: str | None,
    checked_at: float,
    *,
    version_number: int | None,
    explicit: bool = False,
    confirmed: bool = False,
) -> Record:
    """One entry of a link's `observations`: what a re-check saw, with the served bytes'
    pointer (the evidence) and digest."""
    obs: Record = {
        "checked_at": now_iso(checked_at),
        "outcome": outcome,
        "http_status": item.http_status,
        "reason": reason,
        "original": _pointer(item.original),
        "body_sha256": None if item.http_status == 304 else item.body_sha256,
        "version": version_number,
    }
    if item.final_url and item.final_url != item.canonical_url:
        obs["final_url"] = item.final_url
    if outcome == Observed.GONE:
        obs["explicit"] = explicit
        obs["confirmed"] = confirmed
    if outcome in PRESENT and item.http_status is not None and 200 <= item.http_status < 300:
        obs["validators"] = response_validators(item.headers)
    return obs


def observed(
    record: Record, obs: Record, new_version: Record | None, next_check: float | None
) -> Record:
    """A link record with one more observation (and version): appended, nothing replaced."""
    record[VERSIONS] = versions(record)  # the capture the digest cited stays the first
    if new_version is not None:
        record[VERSIONS].append(new_version)
    record[OBSERVATIONS] = [*(record.get(OBSERVATIONS) or []), obs]
    record[NEXT_CHECK] = next_check
    record.update(link_state(record))
    return record


def link_state(record: Record) -> Record:
    """`alive` (True, False, or None: not known), `last_checked`, `last_present` and
    `gone_since` of a link, from its first fetch and its observations.

    Present when a look saw the page; gone from the first look of an absence that a later look
    (or the site's own word) established; a look that got no answer changes nothing.
    """
    status = record.get("status")
    fetched = (record.get("fetch") or {}).get("fetched_at") or record.get("last_attempt")
    state: Record = {
        "alive": None,
        "last_checked": record.get("last_attempt"),
        "last_present": None,
        "gone_since": None,
    }
    if status == Status.ARCHIVED:
        state.update(alive=True, last_checked=fetched, last_present=fetched)
    elif status == Status.GONE:
        state.update(alive=False, last_checked=fetched, gone_since=fetched)
    absent_since = None
    for obs in record.get(OBSERVATIONS) or []:
        if not isinstance(obs, dict):
            continue
        when = obs.get("checked_at")
        state["last_checked"] = when
        if _present(obs):
            state.update(alive=True, last_present=when, gone_since=None)
            absent_since = None
        elif obs.get("outcome") == Observed.GONE:
            absent_since = absent_since or when
            if obs.get("confirmed"):
                state.update(alive=False, gone_since=absent_since)
            elif state["alive"] is not False:
                state["alive"] = None
    return state


def version_article(article_id: str, link_id: str, item: FetchOutcome) -> Record:
    """articles/<ab>/<id>.json of a later version of a link's page (`version_of` the link)."""
    record = article(article_id, link_id, item)
    record["links"] = []
    record[VERSION_OF] = [link_id]
    return record


def recheck_problems(record: Record) -> list[str]:
    """What is wrong with a link record's re-check fields ([] when sound or absent)."""
    out: list[str] = []
    for name, spec in ((OBSERVATIONS, OBSERVATION_REQUIRED), (VERSIONS, VERSION_REQUIRED)):
        entries = record.get(name)
        if entries is None:
            continue
        if not isinstance(entries, list):
            out.append(f"field {name!r} has the wrong type")
            continue
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                out.append(f"{name}[{n}] is not a JSON object")
                continue
            for key, types in spec.items():
                if key not in entry:
                    out.append(f"{name}[{n}]: missing field {key!r}")
                elif not isinstance(entry[key], types) or isinstance(entry[key], bool):
                    out.append(f"{name}[{n}]: field {key!r} has the wrong type")
            if name == OBSERVATIONS and entry.get("outcome") not in set(Observed):
                out.append(f"{name}[{n}]: unknown outcome {entry.get('outcome')!r}")
    if out:
        return out
    observations = record.get(OBSERVATIONS) or []
    times = [parse_time(o["checked_at"]) or 0.0 for o in observations]
    if times != sorted(times):
        out.append("observations are not in time order")
    if VERSIONS in record:
        first = first_version(record)
        listed = record[VERSIONS][:1]
        if (
            first is None
            or not listed
            or listed[0].get("article") != first["article"]
            or listed[0].get("original") != first["original"]
        ):
            out.append("versions[0] is not the capture the link's article and original name")
        for n, obs in enumerate(observations):
            number = obs.get("version")
            if number is not None and not 1 <= number <= len(record[VERSIONS]):
                out.append(f"observations[{n}]: version {number} is not listed")
    if OBSERVATIONS in record:
        state = link_state(record)
        for key in STATE_FIELDS:
            if record.get(key) != state[key]:
                out.append(f"{key} {record.get(key)!r} is not what the observations show")
    return out


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

#: Article field saying how many requisites a page had beyond its limits, and why they were
#: not fetched: `{"count", "reason"}`.
OMITTED = "attachments_omitted"


def pending_attachment(kind: str, via: str | None = None) -> Record:
    """An entry of an article's `attachments` not fetched yet (a later run fetches it)."""
    record: Record = {"status": Status.PENDING, "kind": kind}
    if via:
        record["via"] = via
    return record


def attachment(item: AttachmentOutcome) -> Record:
    """One entry of an article's `attachments`: how fetching an image, a stylesheet, a font
    or a PDF ended. `original` is its response record, or its `revisit` record when the same
    bytes were stored before (`revisit_of` is then the record holding them); `dedupe: "url"`
    when the URL was stored before and is referenced without a fetch."""
    record: Record = {
        "status": item.status,
        "reason": item.reason,
        "http_status": item.http_status,
        "content_type": item.content_type,
        "bytes": item.size,
        "original": _pointer(item.original),
        "kind": item.kind,
        "fetched_at": item.fetched_at_iso,
        "payload_digest": item.payload_digest,
    }
    if item.final_url and item.final_url != item.url:
        record["final_url"] = item.final_url
    if item.revisit_of is not None:
        record["revisit_of"] = item.revisit_of.as_dict()
    if item.dedupe:
        record["dedupe"] = item.dedupe
    if item.via:
        record["via"] = item.via
    return record


def attachment_outcome(article_id: str, url: str, entry: Record) -> AttachmentOutcome:
    """The outcome an attachment entry stored before says (a URL referenced again)."""

    def pointer(value: Any) -> Pointer | None:
        return Pointer(**value) if isinstance(value, dict) else None

    return AttachmentOutcome(
        article_id=article_id,
        url=url,
        status=Status(entry.get("status") or Status.FAILED),
        reason=entry.get("reason"),
        http_status=entry.get("http_status"),
        content_type=entry.get("content_type"),
        size=int(entry.get("bytes") or 0),
        original=pointer(entry.get("original")),
        kind=Requisite(entry.get("kind") or Requisite.IMAGE),
        final_url=entry.get("final_url"),
        fetched_at_iso=entry.get("fetched_at"),
        payload_digest=entry.get("payload_digest"),
        revisit_of=pointer(entry.get("revisit_of")),
        dedupe=Dedupe(entry["dedupe"]) if entry.get("dedupe") else None,
        via=entry.get("via"),
    )


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
    same_page: Record | None = None,
) -> Record:
    """One row of `citations`: a digest entry, a link it cites, its outcome and its article.

    `same_page` is the link record a `same_as` link took its outcome from: it is re-checked for
    both, so its state is this row's too.
    """
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
        "account": None,
        "published": None,
        "site": None,
        "language": None,
        "text_chars": None,
        "link": None,
        "article": None,
        "original": None,
        "alive": None,
        "last_checked": None,
        "last_present": None,
        "gone_since": None,
        "versions": 0,
    }
    if link is not None:  # re-checks: the link's state and how many versions it has had
        checked = same_page if same_page is not None else link
        row.update(link_state(checked), versions=len(versions(checked)))
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
                account=(article.get("extra") or {}).get("account"),
                published=article.get("published"),
                site=article.get("site"),
                language=article.get("language"),
                text_chars=article.get("text_chars"),
                article=article_path,
            )
            if with_text:
                row["text"] = article.get("text", "")
    return row


# -- runs ------------------------------------------------------------------------------------

#: What a run was: a crawl, or an archive command that changed the archive (`forget`).
CRAWL = "crawl"
FORGET = "forget"


def run_id(started: float, pid: int) -> str:
    """`<UTC start>-<pid>`: a run's id and its report's file name (the pid keeps the reports of
    a distributed run's processes apart)."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(started))}-{pid}"


def run_report(run: str, started: float, finished: float, **parts: Any) -> Record:
    """runs/<id>.json of a crawl: the parts given, every other part empty (a crawl that failed
    before it started has counts of zero, its `failed` and `exit_code`)."""
    record: Record = {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "command": CRAWL,
        "started": now_iso(started),
        "finished": now_iso(finished),
        "seconds": round(finished - started, 3),
        "finish_reason": None,
        "job": None,
        "recovered": False,
        "damaged": [],
        "digests": {
            "read": 0,
            "unchanged": 0,
            "failed": 0,
            "errors": [],
            "rules": {},
            "summaries": [],
        },
        "entries": 0,
        "links": {
            "cited_source": 0,
            "cited_related": 0,
            "cited_digest": 0,
            "invalid": 0,
            "new": 0,
            "scheduled": 0,
            "resumed": 0,
            "already_archived": 0,
            **{str(status): 0 for status in OUTCOMES},
        },
        "sites": {},
        "retries": {},
        "reasons": {},
        "bytes": {"warc": 0, "downloaded": 0},
        "coverage": {"articles": 0, "fields": {f: 0 for f in COVERAGE_FIELDS}},
        "rechecks": dict.fromkeys(RECHECK_COUNTS, 0),
        "archive": None,
        "failed": [],
        "failure_kinds": [],
        "exit_code": 0,
    }
    unknown = set(parts) - set(record)
    if unknown:
        raise KeyError(f"not a part of a run report: {sorted(unknown)}")
    record.update(parts)
    return record


#: What a run report counts of re-checks (`rechecks`): due when the run began, requested,
#: sent with validators, answered 304, left for later by the site share, put off as nothing
#: cites them any more, failed (network and server errors), and each outcome.
RECHECK_COUNTS = (
    "due",
    "scheduled",
    "conditional",
    "not_modified",
    "over_site_share",
    "not_cited",
    "failed",
    *(str(o) for o in Observed),
)

#: The article fields whose coverage a run report counts (`coverage.fields`).
COVERAGE_FIELDS = ("title", "date", "author", "text")


def coverage_fields(ex: Extracted) -> list[str]:
    """The COVERAGE_FIELDS an extracted article has (author: its author or its account)."""
    found = {
        "title": bool(ex.title),
        "date": bool(ex.published),
        "author": bool(ex.author or ex.extra.get("account")),
        "text": bool(ex.text.strip()),
    }
    return [f for f in COVERAGE_FIELDS if found[f]]


def forget_report(
    run: str,
    started: float,
    finished: float,
    digests: list[str],
    counts: dict[str, int],
    *,
    pruned: bool,
) -> Record:
    """runs/<id>.json of `forget`: which digests were taken out and what it did to the rest."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "command": FORGET,
        "started": now_iso(started),
        "finished": now_iso(finished),
        "seconds": round(finished - started, 3),
        "digests": digests,
        "pruned": pruned,
        "counts": counts,
    }


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
        if not isinstance(rec.get("links", []), list):
            return ["field 'links' has the wrong type"]
        for n, entry in enumerate(citing_entries(rec)):
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
