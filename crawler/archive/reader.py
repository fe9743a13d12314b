"""Reading an archive from its files alone: what downstream tools do (ARCHIVE.md).

A damaged record (cut short, not JSON, the wrong shape) is skipped, never a crash: each reader
takes `on_damaged(path, why)`, told once per damaged file it met (by default a warning in the
log), and carries on with the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.archive import atomic, layout, records
from crawler.items import Status
from crawler.urls import url_id

logger = logging.getLogger(__name__)

#: Told about each damaged record file a reader meets: its path and what is wrong with it.
OnDamaged = Callable[[Path, str], None]


def warn_damaged(path: Path, why: str) -> None:
    """The default `OnDamaged`: a warning in the log."""
    logger.warning("%s: damaged record, skipped: %s", path, why)


def read_record(
    kind: str, path: Path, on_damaged: OnDamaged = warn_damaged
) -> dict[str, Any] | None:
    """The sound record of `kind` at `path`; None when there is none or it is damaged."""
    try:
        record = atomic.read_json(path)
    except atomic.DamagedRecord as exc:
        on_damaged(path, exc.why)
        return None
    if record is None:
        return None
    problems = records.problems(kind, record)
    if problems:
        on_damaged(path, "; ".join(problems))
        return None
    return record


def read_quietly(path: Path) -> dict[str, Any] | None:
    """A record of any kind as JSON, None when it is not there or cannot be read (being
    replaced, damaged: `verify` names it); for readers that show what they can."""
    try:
        return atomic.read_json(path)
    except (OSError, ValueError):
        return None


def record_paths(root: Path, kind: str) -> list[Path]:
    """The record files of one kind, sorted (a writer's dot files left out)."""
    base = root / kind
    if not base.is_dir():
        return []
    pattern = "*.json" if kind == layout.DIGESTS else "*/*.json"
    return [p for p in sorted(base.glob(pattern)) if not p.name.startswith(".")]


def iter_records(
    root: Path, on_damaged: OnDamaged = warn_damaged
) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """Every sound digest, link and article record: (kind, path, record), in a stable order."""
    for kind in (layout.DIGESTS, layout.LINKS, layout.ARTICLES):
        for path in record_paths(root, kind):
            record = read_record(kind, path, on_damaged)
            if record is not None:
                yield kind, path, record


def citations(
    root: Path,
    *,
    with_text: bool = False,
    on_damaged: OnDamaged = warn_damaged,
    filters: Filters | None = None,
) -> Iterator[dict[str, Any]]:
    """One row per (digest entry, cited link), joined with the link's outcome and article;
    with `filters`, the rows that pass them, in the same order.

    A citation whose link record is damaged comes out `missing`, its reason naming the file;
    a damaged article leaves the row's article fields empty and says so in its reason; a
    damaged digest gives no rows. `on_damaged` is told each damaged file once.
    """
    told: dict[Path, str] = {}

    def damaged(path: Path, why: str) -> None:
        if path not in told:
            told[path] = why
            on_damaged(path, why)

    @lru_cache(maxsize=4096)
    def link(link_id: str) -> dict[str, Any] | None:
        return read_record(layout.LINKS, layout.link_path(root, link_id), damaged)

    @lru_cache(maxsize=1024)
    def article(article_id: str) -> dict[str, Any] | None:
        return read_record(layout.ARTICLES, layout.article_path(root, article_id), damaged)

    def why_damaged(path: Path) -> str | None:
        why = told.get(path)
        return None if why is None else f"{layout.relative(root, path)} is damaged: {why}"

    keep = filters or Filters()
    if keep.digests:
        paths = [layout.digest_path(root, d) for d in dict.fromkeys(keep.digests)]
    else:
        paths = record_paths(root, layout.DIGESTS)
    for path in paths:
        digest = read_record(layout.DIGESTS, path, damaged)
        if digest is None or not keep.keeps_digest(digest):
            continue
        digest_new = keep.is_new(digest.get("read_at"))
        for entry in records.citing_entries(digest):  # entry 0: the digest's own links
            for cited in entry["links"]:
                link_id = _record_id(cited.get("link_id"))
                rec = link(link_id) if link_id else None
                if not keep.keeps_link(link_id, rec, digest_new):
                    continue
                same = link(rec["same_as"]) if rec is not None and rec.get("same_as") else None
                art_id = _record_id(rec.get("article")) if rec is not None else None
                art = article(art_id) if art_id else None
                link_rel = (
                    layout.relative(root, layout.link_path(root, link_id))
                    if rec is not None and link_id
                    else None
                )
                art_rel = (
                    layout.relative(root, layout.article_path(root, art_id))
                    if art is not None and art_id
                    else None
                )
                row = records.citation_row(
                    digest,
                    entry,
                    cited,
                    rec,
                    link_rel,
                    art,
                    art_rel,
                    with_text=with_text,
                    same_page=same,
                )
                if link_id and rec is None:
                    broken = why_damaged(layout.link_path(root, link_id))
                    if broken:
                        row.update(status=Status.MISSING, reason=broken)
                elif art_id and art is None:
                    broken = why_damaged(layout.article_path(root, art_id))
                    if broken:
                        row["reason"] = broken
                if keep.keeps_row(row, cited):
                    yield row


def _record_id(value: Any) -> str | None:
    """A link or article id as records hold it; None when absent or not a record id."""
    return value if layout.is_record_id(value) else None


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

    def keeps_digest(self, digest: dict[str, Any]) -> bool:
        """The digest's day (its date, else the day it was read) within since/until."""
        day = str(digest.get("date") or digest.get("read_at") or "")[:10] or None
        if self.since and (day is None or day < self.since):
            return False
        return not (self.until and (day is None or day > self.until))

    def is_new(self, stamp: Any) -> bool:
        """Whether a record's time stamp is at or after `new_since` (always, without one)."""
        moment = _moment(stamp)
        return self.new_since is None or (moment is not None and moment >= self.new_since)

    def keeps_link(self, link_id: str | None, rec: dict[str, Any] | None, digest_new: bool) -> bool:
        """The cited link is the URL asked for (by id, canonical URL or alias) and new enough."""
        if self.url and link_id != url_id(self.url):
            aliases = records.aliases(rec) if rec else []
            if self.url not in aliases and (rec or {}).get("canonical_url") != self.url:
                return False
        if digest_new:
            return True
        return any(self.is_new((rec or {}).get(k)) for k in ("last_attempt", "last_checked"))

    def keeps_row(self, row: dict[str, Any], cited: dict[str, Any]) -> bool:
        """The row's status and site are among those asked for."""
        if self.statuses and row["status"] not in self.statuses:
            return False
        sites = [s.strip().lower() for s in self.sites if s.strip()]
        if not sites:
            return True
        host = urlsplit(str(row.get("canonical_url") or cited.get("url"))).hostname
        return _host_matches(host, sites) or str(row.get("site") or "").lower() in sites


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
