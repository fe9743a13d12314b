"""StorePipeline: writes digests, link outcomes and articles into the archive."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from crawler.archive.store import now_iso
from crawler.backoff import back_off
from crawler.items import AttachmentOutcome, DigestRead, FetchOutcome
from crawler.report import note_write_error
from crawler.retry import retry_after_seconds
from crawler.runtime import archive_for
from crawler.urls import arxiv_id

logger = logging.getLogger(__name__)

_ARTICLE_FIELDS = (
    "title",
    "author",
    "published",
    "site",
    "language",
    "description",
    "text",
    "extractor",
    "images",
    "extra",
)


class StorePipeline:
    """The only pipeline that writes: every write is atomic and idempotent (crawler.archive)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.backoff = crawler.settings.getfloat("BLOCKED_BACKOFF")
        self.image_domains = crawler.settings.getlist("ARTICLE_IMAGES_DOMAINS")
        self.images_max = crawler.settings.getint("ARTICLE_IMAGES_MAX")
        self.arxiv_pdf = crawler.settings.getbool("ARXIV_PDF")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        try:
            self._store(item)
        except (OSError, sqlite3.Error) as exc:
            # Disk full, read-only, quota: what is archived stays as it was (atomic writes);
            # this item is not stored, and the run is reported failed.
            note_write_error(self.stats, exc)
            logger.error("archive write failed for %s: %s", _describe(item), exc)
        return item

    def _store(self, item: object) -> None:
        archive = archive_for(self.crawler)
        if isinstance(item, DigestRead):
            counts = archive.record_digest(item.digest, item.raw, item.read_at)
            if item.file_stat is not None:
                archive.note_digest_file(item.digest.source, *item.file_stat)
            self.stats.inc_value("sources/links/new", counts["new_links"])
        elif isinstance(item, FetchOutcome):
            self._store_outcome(item)
        elif isinstance(item, AttachmentOutcome):
            outcome: dict[str, Any] = {
                "status": item.status,
                "reason": item.reason,
                "http_status": item.http_status,
                "content_type": item.content_type,
                "bytes": item.size,
                "original": item.original.as_dict() if item.original else None,
            }
            archive.record_attachment(item.article_id, item.url, outcome)
            self.stats.inc_value(f"sources/attachments/{item.status}")

    def _store_outcome(self, item: FetchOutcome) -> None:
        archive = archive_for(self.crawler)
        ex = item.extracted
        status = item.status or (ex.status if ex else "failed")
        reason = item.reason or (ex.reason if ex else None)
        if ex is None and item.status in (None, "archived"):
            status, reason = "failed", "nothing was extracted"
        next_attempt = None
        if status == "blocked":
            state = archive.index.link(item.link_id)
            attempts = (state["attempts"] if state else 0) + 1
            next_attempt = time.time() + self.backoff * 2 ** (attempts - 1)
            asked = retry_after_seconds(
                next((v for k, v in item.headers if k.lower() == "retry-after"), None)
            )
            if asked is not None:  # the site asked for longer than our back-off
                next_attempt = max(next_attempt, time.time() + asked)
        article: dict[str, Any] | None = None
        if status == "archived" and ex is not None:
            article = {k: v for k, v in asdict(ex).items() if k in _ARTICLE_FIELDS}
            article.update(
                url=item.canonical_url,
                final_url=item.final_url,
                content_type=item.content_type,
                fetched_at=now_iso(item.fetched_at),
            )
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
                fetch["page_state"] = {
                    "status": ex.status,
                    "reason": ex.reason,
                    "extra": ex.extra if ex.status != "archived" else {},
                }
        article_id = archive.record_outcome(
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
        site = urlsplit(item.canonical_url).hostname or "?"
        self.stats.inc_value(f"sources/sites/{site}/{status}")
        if article_id is not None and ex is not None:
            self._schedule_attachments(article_id, item, ex.images, ex.extra)
        if status == "blocked" and item.status is None:
            # a page that says "verification" or "too frequent" with HTTP 200; HTTP 429 and
            # 503 are backed off already by the retry middleware
            back_off(self.crawler, item.final_url or item.canonical_url, reason or "blocked")
        if status != "archived":
            self.stats.inc_value(f"sources/{status}/{_reason_key(reason)}")
            logger.info("%s: %s (%s)", item.canonical_url, status, reason)

    def _wants_images(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(d == "*" or host == d or host.endswith("." + d) for d in self.image_domains)

    def _schedule_attachments(
        self, article_id: str, item: FetchOutcome, images: list[str], extra: dict[str, Any]
    ) -> None:
        """Queue the article's images (sites in ARTICLE_IMAGES_DOMAINS) and arXiv PDF."""
        urls: list[str] = []
        if self._wants_images(item.canonical_url):
            urls += [u for u in images if u.startswith(("http://", "https://"))][: self.images_max]
        if self.arxiv_pdf:
            paper = extra.get("arxiv_id") or arxiv_id(item.canonical_url)
            if paper:
                urls.append(f"https://arxiv.org/pdf/{paper}")
        if not urls:
            return
        try:
            engine, spider = self.crawler.engine, self.crawler.spider
        except RuntimeError:  # Scrapy >= 2.14 raises before a crawl has started
            return
        if engine is None or not hasattr(spider, "attachment"):
            return
        for url in archive_for(self.crawler).plan_attachments(article_id, urls):
            engine.crawl(spider.attachment(article_id, url, item.final_url))
            self.stats.inc_value("sources/attachments/scheduled")


def _describe(item: object) -> str:
    if isinstance(item, DigestRead):
        return f"digest {item.digest.source}"
    return str(getattr(item, "canonical_url", None) or getattr(item, "url", None) or item)


def _reason_key(reason: str | None) -> str:
    """A short stats key for a reason: its words before the first colon or parenthesis."""
    if not reason:
        return "unknown"
    key = reason.split(":")[0].split("(")[0].strip().lower().replace(" ", "_")
    return key[:40] or "unknown"
