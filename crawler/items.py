"""The vocabulary of `sources`: typed items, the WARC pointer, and the one list of status words.

Every status word and role is spelled here and imported everywhere else (`Status.ARCHIVED`,
`Role.SOURCE`). They are `StrEnum`s, so they compare equal to, format as and serialise to JSON
as their plain strings: the archive's files hold `"archived"`, never an enum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """What became of a cited link (and of a fetch, an extraction or an attachment)."""

    PENDING = "pending"  # cited, not fetched yet
    ARCHIVED = "archived"  # stored with its article
    GONE = "gone"  # 404/410/451, deleted, removed for violation, expired: permanent
    BLOCKED = "blocked"  # verification page, rate limit, 401/403/429: tried again after a back-off
    FAILED = "failed"  # network or server error: tried again by later runs, up to a limit
    SKIPPED = "skipped"  # larger than DOWNLOAD_MAXSIZE and the like: never tried again
    REFUSED = "refused"  # robots.txt, or a private/loopback address
    INVALID = "invalid"  # a URL that cannot be used at all (malformed, unsupported scheme)
    MISSING = "missing"  # a citation whose link record is missing from the archive (reader only)


#: Statuses after which a link is never fetched again.
FINAL: frozenset[Status] = frozenset(
    {Status.ARCHIVED, Status.GONE, Status.SKIPPED, Status.REFUSED, Status.INVALID}
)
#: Statuses a fetch can end in, in report order.
OUTCOMES: tuple[Status, ...] = (
    Status.ARCHIVED,
    Status.GONE,
    Status.BLOCKED,
    Status.FAILED,
    Status.SKIPPED,
    Status.REFUSED,
)


class Role(StrEnum):
    """The part a cited link plays in its digest entry."""

    SOURCE = "source"  # the entry's own source(s): 来源 links, 链接 line, heading link, quick item
    RELATED = "related"  # related resources: GitHub, papers, project pages
    DIGEST = "digest"  # the digest's own (its page, video versions, credit line): outside any entry


class Check(StrEnum):
    """What `python -m crawler.archive check` found of one detail of a digest entry's summary."""

    FOUND = "found"  # the source text says it (with where)
    NOT_FOUND = "not found"  # the entry's archived sources have text, and none says it
    NO_SOURCE_TEXT = "no source text"  # none of the entry's sources is archived with text


class Observed(StrEnum):
    """What one re-check of an archived link saw (ARCHIVE.md, *Re-checks*)."""

    UNCHANGED = "unchanged"  # 304 to a conditional request, the same body or the same text
    CHANGED = "changed"  # another text: a new capture and a new article version
    GONE = "gone"  # 404/410/451, or the site's own page saying it was deleted or removed
    UNREACHABLE = "unreachable"  # no answer, 5xx, blocked, refused: says nothing of deletion


@dataclass(frozen=True)
class Pointer:
    """Where one WARC record lies: file (relative to the archive), byte offset, length, id."""

    warc: str
    offset: int
    length: int
    record_id: str

    def as_dict(self) -> dict[str, Any]:
        """The pointer as stored in JSON records."""
        return asdict(self)


#: Field metadata of the items' bytes: Scrapy's feed exports (`-O items.jsonl`, FEEDS,
#: Scrapyd's items_dir) call a field's `serializer`; the bytes stay in the WARC and a feed gets
#: their length (ARCHIVE.md, *Items*).
BYTES_IN_WARC: dict[str, Any] = {"serializer": len}


@dataclass
class Link:
    """One link as cited by a digest entry."""

    url: str  # exactly as written in the digest
    role: Role
    text: str = ""  # anchor text or label, "" for a bare URL
    canonical_url: str | None = None  # filled by crawler.urls; None when the URL is unusable
    link_id: str | None = None  # crawler.urls.url_id of canonical_url; None when unusable
    error: str | None = None  # why the URL cannot be crawled (malformed, scheme), else None
    note: str | None = None  # what the page is when that needs saying (login-only, private card)


@dataclass
class Entry:
    """One entry (news item) of a digest."""

    position: int  # 1-based, in digest order
    title: str
    section: str | None = None  # section heading or 分类 category
    labels: list[str] = field(default_factory=list)  # source labels, e.g. 机器之心, 量子位
    links: list[Link] = field(default_factory=list)


@dataclass
class Digest:
    """A parsed digest file."""

    id: str  # stable id, safe as a file name
    source: str  # path or URL it was read from
    sha256: str  # of the raw bytes
    format: str  # hangye | meiri | ribao | generic
    title: str | None = None
    date: str | None = None  # ISO 8601 date
    entries: list[Entry] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # the digest's own links (Role.DIGEST)
    structure: str = ""  # the rule that found the entries: a rule word, then how it applied


@dataclass
class Extracted:
    """What an extractor read from a fetched page (see crawler.extractors)."""

    status: Status = Status.ARCHIVED  # ARCHIVED, GONE, BLOCKED or FAILED
    reason: str | None = None  # why, when status is not archived
    extractor: str = "generic"
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO 8601
    site: str | None = None
    language: str | None = None
    description: str | None = None
    text: str = ""
    canonical_url: str | None = None  # the page's own canonical link (WeChat long link)
    images: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # site specific fields
    styles: list[str] = field(default_factory=list)  # stylesheet and font URLs the page links


@dataclass
class DigestRead:
    """A digest as read and parsed, with its bytes (stored as a WARC resource record)."""

    digest: Digest
    raw: bytes = field(metadata=BYTES_IN_WARC)  # a feed export writes its length
    read_at: float
    file_stat: tuple[int, int] | None = None  # (size, mtime_ns) of a local digest file


@dataclass
class Observation:
    """What one re-check of an archived link observed, as the archive recorded it."""

    link_id: str
    canonical_url: str
    outcome: Observed
    checked_at: float  # Unix time
    http_status: int | None = None
    reason: str | None = None  # why, for gone and unreachable
    original: Pointer | None = None  # the response record of what was served (the evidence)
    body_sha256: str | None = None  # of the decoded body served (None for a 304)
    version: int | None = None  # the link's version it saw (1: the capture the digest cited)
    alive: bool | None = None  # the link's state after it (None: not known)
    next_check: float | None = None  # Unix time of the link's next re-check


@dataclass
class FetchOutcome:
    """How the fetch of one cited link ended, with what was served and what was read from it."""

    link_id: str
    canonical_url: str
    status: Status | None = None  # decided for HTTP and network failures, else by extraction
    reason: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    # decoded from Content-Encoding; the WARC keeps the bytes as served (a feed, their length)
    body: bytes = field(default=b"", metadata=BYTES_IN_WARC)
    fetched_at: float | None = None
    ip: str | None = None
    redirects: list[str] = field(default_factory=list)
    recheck: bool = False  # a re-check of an archived link (recorded as an Observation)
    conditional: bool = False  # ... sent with If-None-Match / If-Modified-Since
    original: Pointer | None = None  # the last hop's response record
    extracted: Extracted | None = None
    body_sha256: str | None = None
    aliases: list[str] = field(default_factory=list)  # other canonical URLs of the same page
    next_attempt: float | None = None  # Unix time a later run may try again (blocked links)
    article_id: str | None = None  # the article it was stored as (set by the store)


class Requisite(StrEnum):
    """What an article's attachment is to its page."""

    IMAGE = "image"  # an image of the article's body
    STYLESHEET = "stylesheet"  # a stylesheet the page links (or one it @imports)
    FONT = "font"  # a font a stylesheet loads
    STYLE_IMAGE = "style-image"  # an image a stylesheet loads (a background)
    DOCUMENT = "document"  # the article's document form (an arXiv paper's PDF)


class Dedupe(StrEnum):
    """How a requisite stored once is shared by the pages that need it."""

    URL = "url"  # its URL was stored before: referenced, not fetched again
    PAYLOAD = "payload"  # fetched; the same bytes were stored before: a `revisit` record


@dataclass
class AttachmentOutcome:
    """How the fetch of an article's attachment (an image, a stylesheet, a PDF) ended."""

    article_id: str
    url: str
    status: Status
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    size: int = 0
    original: Pointer | None = None  # the response (or revisit) record
    kind: Requisite = Requisite.IMAGE
    final_url: str | None = None  # after redirects, when it differs
    fetched_at: float | None = None  # Unix time of the capture
    fetched_at_iso: str | None = None  # its record's WARC-Date (the Refers-To-Date of repeats)
    payload_digest: str | None = None  # WARC-Payload-Digest of what was served
    revisit_of: Pointer | None = None  # the record holding the same payload (a revisit)
    dedupe: Dedupe | None = None
    via: str | None = None  # the stylesheet that loads it (fonts, @imports, backgrounds)
