"""Reading an archive from its files alone: what downstream tools do (ARCHIVE.md).

A damaged record (cut short, not JSON, the wrong shape) is skipped, never a crash: each reader
takes `on_damaged(path, why)`, told once per damaged file it met (by default a warning in the
log), and carries on with the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.archive import atomic, layout, records
from crawler.items import Status

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
    root: Path, *, with_text: bool = False, on_damaged: OnDamaged = warn_damaged
) -> Iterator[dict[str, Any]]:
    """One row per (digest entry, cited link), joined with the link's outcome and article.

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

    for path in record_paths(root, layout.DIGESTS):
        digest = read_record(layout.DIGESTS, path, damaged)
        if digest is None:
            continue
        for entry in records.citing_entries(digest):  # entry 0: the digest's own links
            for cited in entry["links"]:
                link_id = _record_id(cited.get("link_id"))
                rec = link(link_id) if link_id else None
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
                yield row


def _record_id(value: Any) -> str | None:
    """A link or article id as records hold it; None when absent or not a record id."""
    return value if layout.is_record_id(value) else None
