"""StorePipeline: writes digests, link outcomes and articles into the archive."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import DigestRead, FetchOutcome
from crawler.runtime import archive_for
from crawler.archive.store import now_iso

logger = logging.getLogger(__name__)

_ARTICLE_FIELDS = ("title", "author", "published", "site", "language", "description", "text",
                   "extractor", "images", "extra")


class StorePipeline:
    """The only pipeline that writes: every write is atomic and idempotent (crawler.archive)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.backoff = crawler.settings.getfloat("BLOCKED_BACKOFF")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        archive = archive_for(self.crawler)
        if isinstance(item, DigestRead):
            counts = archive.record_digest(item.digest, item.raw, item.read_at)
            self.stats.inc_value("sources/links/new", counts["new_links"])
        elif isinstance(item, FetchOutcome):
            self._store_outcome(item)
        return item

    def _store_outcome(self, item: FetchOutcome) -> None:
        archive = archive_for(self.crawler)
        ex = item.extracted
        status = item.status or (ex.status if ex else "failed")
        reason = item.reason or (ex.reason if ex else None)
        if status == "archived" and ex is None:
            status, reason = "failed", "nothing was extracted"
        next_attempt = None
        if status == "blocked":
            state = archive.index.link(item.link_id)
            attempts = (state["attempts"] if state else 0) + 1
            next_attempt = time.time() + self.backoff * 2 ** (attempts - 1)
        article: dict[str, Any] | None = None
        if status == "archived" and ex is not None:
            article = {k: v for k, v in asdict(ex).items() if k in _ARTICLE_FIELDS}
            article.update(url=item.canonical_url, final_url=item.final_url,
                           content_type=item.content_type,
                           fetched_at=now_iso(item.fetched_at))
        fetch = None
        if item.http_status is not None:
            fetch = {
                "url": item.canonical_url,
                "final_url": item.final_url,
                "http_status": item.http_status,
                "content_type": item.content_type,
                "headers": [list(pair) for pair in item.headers],
                "fetched_at": now_iso(item.fetched_at),
                "ip": item.ip,
                "redirects": item.redirects,
                "aliases": item.aliases,
                "body_bytes": len(item.body),
                "body_sha256": item.body_sha256,
            }
            if ex is not None:
                fetch["extractor"] = ex.extractor
                fetch["page_state"] = {"status": ex.status, "reason": ex.reason,
                                       "extra": ex.extra if ex.status != "archived" else {}}
        archive.record_outcome(
            item.link_id,
            item.canonical_url,
            status=status,
            reason=reason,
            http_status=item.http_status,
            fetch=fetch,
            original=item.original,
            article=article,
            body_sha256=item.body_sha256,
            next_attempt=next_attempt,
            aliases=tuple(item.aliases),
        )
        self.stats.inc_value(f"sources/links/{status}")
        if status != "archived":
            self.stats.inc_value(f"sources/{status}/{_reason_key(reason)}")
            logger.info("%s: %s (%s)", item.canonical_url, status, reason)


def _reason_key(reason: str | None) -> str:
    """A short stats key for a reason: its words before the first colon or parenthesis."""
    if not reason:
        return "unknown"
    key = reason.split(":")[0].split("(")[0].strip().lower().replace(" ", "_")
    return key[:40] or "unknown"
