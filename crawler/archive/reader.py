"""Reading an archive from its files alone: what downstream tools do (ARCHIVE.md)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.archive import atomic, layout


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
                row: dict[str, Any] = {
                    "digest": digest["id"],
                    "digest_source": digest.get("source"),
                    "digest_date": digest.get("date"),
                    "entry": entry["position"],
                    "entry_title": entry.get("title"),
                    "section": entry.get("section"),
                    "role": cited["role"],
                    "url": cited["url"],
                    "canonical_url": cited.get("canonical_url"),
                    "status": "invalid",
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
                link_id = cited.get("link_id")
                rec = link(link_id) if link_id else None
                if link_id and rec is None:
                    row.update(status="missing", reason="link record missing")
                if rec is not None:
                    row.update(
                        status=rec["status"],
                        reason=rec.get("reason"),
                        http_status=rec.get("http_status"),
                        attempts=rec.get("attempts", 0),
                        link=layout.relative(root, layout.link_path(root, link_id)),
                        original=rec.get("original"),
                    )
                    art = article(rec["article"]) if rec.get("article") else None
                    if art is not None:
                        row.update(
                            title=art.get("title"),
                            author=art.get("author"),
                            published=art.get("published"),
                            site=art.get("site"),
                            language=art.get("language"),
                            text_chars=art.get("text_chars"),
                            article=layout.relative(
                                root, layout.article_path(root, rec["article"])
                            ),
                        )
                        if with_text:
                            row["text"] = art.get("text", "")
                yield row
