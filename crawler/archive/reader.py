"""Reading an archive from its files alone: what downstream tools do (ARCHIVE.md)."""

from __future__ import annotations

from collections.abc import Iterator
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
        for entry in digest.get("entries", []):
            for cited in entry.get("links", []):
                link_id = cited.get("link_id")
                rec = link(link_id) if link_id else None
                same = link(rec["same_as"]) if rec is not None and rec.get("same_as") else None
                art_id: str | None = rec.get("article") if rec is not None else None
                art = article(art_id) if art_id else None
                link_rel = layout.relative(root, layout.link_path(root, link_id)) if rec else None
                art_rel = (
                    layout.relative(root, layout.article_path(root, art_id))
                    if art is not None and art_id
                    else None
                )
                yield records.citation_row(
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
