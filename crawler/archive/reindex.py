"""Rebuilding the index from the archive's files alone (the files are the truth)."""

from __future__ import annotations

from pathlib import Path

from crawler.archive import layout, records
from crawler.archive.index import Index
from crawler.archive.reader import iter_records


def rebuild(root: Path, index: Index) -> dict[str, int]:
    """Empty `index` and fill it from every digest, link and article record; return counts."""
    counts = {layout.DIGESTS: 0, layout.LINKS: 0, layout.ARTICLES: 0}
    with index.transaction():
        index.clear()
        for kind, _path, rec in iter_records(root):
            counts[kind] += 1
            if kind == layout.DIGESTS:
                index.put_digest(rec["id"], rec["source"], rec["sha256"])
                index.put_citations(rec["id"], records.cited_links(rec))
            elif kind == layout.LINKS:
                index.put_link(
                    rec["id"],
                    rec["canonical_url"],
                    rec["status"],
                    rec.get("attempts", 0),
                    rec.get("next_attempt"),
                    rec.get("article"),
                )
                for url in records.aliases(rec):
                    index.put_alias(url, rec["id"])
            else:
                index.put_article(rec["id"], rec.get("body_sha256") or "")
    return counts
