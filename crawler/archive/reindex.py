"""Rebuilding the index from the archive's files alone (the files are the truth)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crawler.archive import layout, records
from crawler.archive.index import OLD_LINK_EVERY, Index
from crawler.archive.reader import OnDamaged, iter_records, warn_damaged
from crawler.items import FINAL, Dedupe, Status


def rebuild(
    root: Path,
    index: Index,
    *,
    on_damaged: OnDamaged = warn_damaged,
    pointers: dict[str, int] | None = None,
) -> dict[str, int]:
    """Empty `index` and fill it from every sound digest, link and article record.

    Damaged records are skipped and told to `on_damaged`; their count is `damaged` in the
    counts returned. `pointers`, when given, gets for each WARC file (as records name it) the
    end of the furthest record any JSON file points at: what crash recovery must not cut.
    """
    counts = {layout.DIGESTS: 0, layout.LINKS: 0, layout.ARTICLES: 0, "damaged": 0}
    started = time.time()

    def damaged(path: Path, why: str) -> None:
        counts["damaged"] += 1
        on_damaged(path, why)

    with index.transaction():
        index.clear()
        for kind, _path, rec in iter_records(root, damaged):
            counts[kind] += 1
            if pointers is not None:
                for ptr in records.pointers(rec):
                    end = ptr["offset"] + ptr["length"]
                    pointers[ptr["warc"]] = max(pointers.get(ptr["warc"], 0), end)
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
                requisites(index, rec)
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


def requisites(index: Index, article: dict[str, Any]) -> None:
    """The requisite rows of one article record: URLs stored, payloads first stored, and
    requisites still pending."""
    pending = []
    for url, entry in (article.get("attachments") or {}).items():
        if not isinstance(entry, dict):
            continue
        status = entry.get("status")
        if status == Status.PENDING:
            pending.append(url)
            continue
        if status not in FINAL or entry.get("dedupe") == Dedupe.URL:
            continue
        fetched = records.parse_time(entry.get("fetched_at")) or 0.0
        index.put_requisite(url, status, fetched, json.dumps(entry))
        original, digest = entry.get("original"), entry.get("payload_digest")
        if original and digest and not entry.get("revisit_of") and status == Status.ARCHIVED:
            uri = entry.get("final_url") or url
            index.put_payload(
                digest,
                uri,
                entry.get("fetched_at") or "",
                original["record_id"],
                json.dumps(original),
            )
    if pending:
        index.put_pending_requisites(article["id"], pending)
