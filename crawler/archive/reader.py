"""Reading an archive from its files alone: what downstream tools do (ARCHIVE.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.archive import atomic, layout, records


def iter_records(root: Path) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """Every digest, link and article record: (kind, path, record), in a stable order."""
    for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES):
        base = root / kind
        if not base.is_dir():
            continue
        pattern = "*.json" if kind == layout.DIGESTS else "*/*.json"
        for path in sorted(base.glob(pattern)):
            record = atomic.read_json(path)
            if record is not None:
                yield kind, path, record


def citations(root: Path, *, with_text: bool = False) -> Iterator[dict[str, Any]]:
    """One row per (digest entry, cited link), joined with the link's outcome and article."""

    @lru_cache(maxsize=4096)
    def link(link_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.link_path(root, link_id))

    @lru_cache(maxsize=1024)
    def article(article_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.article_path(root, article_id))

    for path in sorted((root / layout.DIGESTS).glob("*.json")):
        digest = atomic.read_json(path)
        if digest is None:
            continue
        for entry in records.citing_entries(digest):  # entry 0: the digest's own links
            for cited in entry.get("links", []):
                link_id = cited.get("link_id")
                rec = link(link_id) if link_id else None
                art_id: str | None = rec.get("article") if rec is not None else None
                art = article(art_id) if art_id else None
                link_rel = layout.relative(root, layout.link_path(root, link_id)) if rec else None
                art_rel = (
                    layout.relative(root, layout.article_path(root, art_id))
                    if art is not None and art_id
                    else None
                )
                yield records.citation_row(
                    digest, entry, cited, rec, link_rel, art, art_rel, with_text=with_text
                )


# -- filters (`citations --digest/--url/--status/--site/--since/--until/--new-since`) ----------


@dataclass
class Filters:
    """Which citation rows to keep; every filter given must hold (an empty one keeps all)."""

    digests: list[str] = field(default_factory=list)  # digest ids
    url: str | None = None  # a canonical URL (its link id and the link's aliases match too)
    statuses: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)  # hosts (subdomains match) or site names
    since: str | None = None  # YYYY-MM-DD: the digest's date (else the day it was read)
    until: str | None = None  # YYYY-MM-DD, inclusive
    new_since: datetime | None = None  # rows whose digest was read, or whose link's outcome
    # was recorded (or checked again), at or after this moment


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 time stamp of a record as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_finished(root: Path, run_id: str) -> datetime:
    """When run `run_id` (a runs/ report) finished; ValueError naming the latest runs if the
    archive has no such run."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"not a run id: {run_id!r} (the names in {layout.RUNS}/, without .json)")
    report = atomic.read_json(root / layout.RUNS / f"{run_id}.json")
    moment = _moment(report.get("finished")) if report else None
    if moment is None:
        names = sorted(
            (p.stem for p in (root / layout.RUNS).glob("*.json") if not p.name.startswith(".")),
            reverse=True,
        )[:3]
        latest = f"; the latest are {', '.join(names)}" if names else "; it has none"
        raise ValueError(f"archive {root} has no finished run {run_id!r}{latest}")
    return moment


_RUN_ID = re.compile(r"^[\w.-]{1,80}$")


def _host_matches(host: str | None, sites: list[str]) -> bool:
    return bool(host) and any(host == s or str(host).endswith("." + s) for s in sites)


def select_citations(
    root: Path, filters: Filters, *, with_text: bool = False
) -> Iterator[dict[str, Any]]:
    """The rows of `citations` that pass `filters`, in the same order."""
    from urllib.parse import urlsplit

    from crawler.urls import url_id

    sites = [s.strip().lower() for s in filters.sites if s.strip()]
    want_id = url_id(filters.url) if filters.url else None

    @lru_cache(maxsize=4096)
    def link(link_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.link_path(root, link_id))

    @lru_cache(maxsize=1024)
    def article(article_id: str) -> dict[str, Any] | None:
        return atomic.read_json(layout.article_path(root, article_id))

    if filters.digests:
        paths = [layout.digest_path(root, d) for d in dict.fromkeys(filters.digests)]
    else:
        paths = sorted((root / layout.DIGESTS).glob("*.json"))
    for path in paths:
        digest = atomic.read_json(path)
        if digest is None:
            continue
        day = str(digest.get("date") or digest.get("read_at") or "")[:10] or None
        if filters.since and (day is None or day < filters.since):
            continue
        if filters.until and (day is None or day > filters.until):
            continue
        read_at = _moment(digest.get("read_at"))
        digest_new = filters.new_since is None or (
            read_at is not None and read_at >= filters.new_since
        )
        for entry in records.citing_entries(digest):
            for cited in entry.get("links", []):
                link_id = cited.get("link_id")
                rec = link(link_id) if link_id else None
                if want_id is not None and link_id != want_id:
                    aliases = records.aliases(rec) if rec else []
                    if (
                        filters.url not in aliases
                        and (rec or {}).get("canonical_url") != filters.url
                    ):
                        continue
                if not digest_new:
                    stamps = [_moment((rec or {}).get(k)) for k in ("last_attempt", "last_checked")]
                    assert filters.new_since is not None
                    if not any(s is not None and s >= filters.new_since for s in stamps):
                        continue
                art_id: str | None = rec.get("article") if rec is not None else None
                art = article(art_id) if art_id else None
                link_rel = layout.relative(root, layout.link_path(root, link_id)) if rec else None
                art_rel = (
                    layout.relative(root, layout.article_path(root, art_id))
                    if art is not None and art_id
                    else None
                )
                row = records.citation_row(
                    digest, entry, cited, rec, link_rel, art, art_rel, with_text=with_text
                )
                if filters.statuses and row["status"] not in filters.statuses:
                    continue
                if sites:
                    host = urlsplit(str(row.get("canonical_url") or cited.get("url"))).hostname
                    site = str(row.get("site") or "").lower()
                    if not _host_matches(host, sites) and site not in sites:
                        continue
                yield row
