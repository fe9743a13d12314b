"""Where each kind of record lives in an archive directory (the contract in ARCHIVE.md)."""

from __future__ import annotations

import re
from pathlib import Path

SCHEMA = "sources-archive"
SCHEMA_VERSION = 1

MANIFEST = "archive.json"
DIGESTS = "digests"
LINKS = "links"
ARTICLES = "articles"
WARC = "warc"
RUNS = "runs"
INDEX = "index.sqlite3"
LOCK = "crawl.lock"
#: Damaged records and WARC bytes moved out of the way (by a crawl or `repair`), kept as found.
QUARANTINE = "quarantine"

_HEX_ID = re.compile(r"^[0-9a-f]{16,64}$")
_SAFE_NAME = re.compile(r"^[^/\\\x00]{1,120}$")


def _check_hex(record_id: str) -> str:
    if not _HEX_ID.match(record_id):
        raise ValueError(f"not a record id: {record_id!r}")
    return record_id


def is_record_id(value: object) -> bool:
    """Whether `value` has the form of a link or article id (lowercase hex)."""
    return isinstance(value, str) and bool(_HEX_ID.match(value))


def link_path(root: Path, link_id: str) -> Path:
    """links/<2 hex>/<id>.json: one file per canonical URL."""
    _check_hex(link_id)
    return root / LINKS / link_id[:2] / f"{link_id}.json"


def article_path(root: Path, article_id: str) -> Path:
    """articles/<2 hex>/<id>.json: one file per distinct content."""
    _check_hex(article_id)
    return root / ARTICLES / article_id[:2] / f"{article_id}.json"


def digest_path(root: Path, digest_id: str) -> Path:
    """digests/<id>.json: one file per digest; ids come from crawler.digests.digest_id."""
    if not _SAFE_NAME.match(digest_id) or digest_id.startswith(".") or ".." in digest_id:
        raise ValueError(f"unsafe digest id: {digest_id!r}")
    return root / DIGESTS / f"{digest_id}.json"


def quarantine_path(root: Path, rel: str, stamp: str) -> Path:
    """quarantine/<rel>.<stamp>: where the damaged file `rel` (relative to root) is kept (a
    name too long for that is shortened, `crawler.archive.atomic.short_name`)."""
    from crawler.archive.atomic import short_name

    folder, _, name = rel.rpartition("/")
    return root / QUARANTINE / folder / f"{short_name(name)}.{stamp}"


def relative(root: Path, path: Path) -> str:
    """A path inside the archive as stored in records: POSIX, relative to the root."""
    return path.relative_to(root).as_posix()
