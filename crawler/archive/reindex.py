"""Rebuilding the index from the archive's files alone (the files are the truth)."""

from __future__ import annotations

import time
from pathlib import Path

from crawler.archive import layout, records
from crawler.archive.index import OLD_LINK_EVERY, Index
from crawler.archive.reader import iter_records
from crawler.items import Status


def rebuild(root: Path, index: Index) -> dict[str, int]:
    """Empty `index` and fill it from every digest, link and article record; return counts."""
    counts = {layout.DIGESTS: 0, layout.LINKS: 0, layout.ARTICLES: 0}
    started = time.time()
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
                if rec.get("status") == Status.ARCHIVED and rec.get("article"):
                    index.put_check(rec["id"], *next_check(rec, started))
            else:
                index.put_article(rec["id"], rec.get("body_sha256") or "")
    return counts


def next_check(link: records.Record, now: float) -> tuple[float, float]:
    """(when, interval) of an archived link's next re-check: its record's `next_check`, the
    interval since its last look; a link archived before re-checks existed is due from `now`
    on, as an old link (`Index.OLD_LINK_EVERY`)."""
    when = link.get(records.NEXT_CHECK)
    if not isinstance(when, int | float) or isinstance(when, bool):
        return now, OLD_LINK_EVERY
    last = records.parse_time(link.get("last_checked") or link.get("last_attempt"))
    return float(when), max(1.0, float(when) - last) if last is not None else OLD_LINK_EVERY
