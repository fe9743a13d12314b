"""Typed items that flow from the digest parser and the spider through the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Roles a cited link can play in its digest entry.
SOURCE = "source"  # the entry's own source(s): 来源 links, 链接 line, heading link, quick-news item
RELATED = "related"  # related resources: GitHub, papers, project pages


@dataclass
class Link:
    """One link as cited by a digest entry."""

    url: str  # exactly as written in the digest
    role: str  # SOURCE or RELATED
    text: str = ""  # anchor text or label, "" for a bare URL
    canonical_url: str | None = None  # filled by crawler.urls; None when the URL is unusable
    error: str | None = None  # why the URL cannot be crawled (malformed, scheme), else None


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


@dataclass
class Extracted:
    """What an extractor read from a fetched page (see crawler.extractors)."""

    status: str = "archived"  # archived | gone | blocked | failed
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


@dataclass
class DigestRead:
    """A digest as read and parsed, with its bytes (stored as a WARC resource record)."""

    digest: Digest
    raw: bytes
    read_at: float
    file_stat: tuple[int, int] | None = None  # (size, mtime_ns) of a local digest file


@dataclass
class FetchOutcome:
    """How the fetch of one cited link ended, with what was served and what was read from it."""

    link_id: str
    canonical_url: str
    status: str | None = None  # decided here for HTTP and network failures, else by extraction
    reason: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""  # decoded from Content-Encoding; the WARC keeps the bytes as served
    fetched_at: float | None = None
    ip: str | None = None
    redirects: list[str] = field(default_factory=list)
    original: Any = None  # crawler.archive.warc.Pointer of the last hop's response record
    extracted: Extracted | None = None
    body_sha256: str | None = None
    aliases: list[str] = field(default_factory=list)  # other canonical URLs of the same page


@dataclass
class AttachmentOutcome:
    """How the fetch of an article's attachment (an image, an arXiv PDF) ended."""

    article_id: str
    url: str
    status: str  # archived | failed | gone | blocked | skipped | refused
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    size: int = 0
    original: Any = None  # crawler.archive.warc.Pointer of the response record
