"""DedupePipeline: one fetch per page, one article per content, short and long links as one."""

from __future__ import annotations

import hashlib
import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FetchOutcome
from crawler.runtime import archive_for
from crawler.urls import InvalidURL, canonicalize

logger = logging.getLogger(__name__)


class DedupePipeline:
    """Drops outcomes for links already archived; notes the page's own canonical link.

    Content identity (byte- or text-identical pages from two URLs) is settled by the store,
    which keys articles by content; this step supplies the body hash and the aliases.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if not isinstance(item, FetchOutcome):
            return item
        state = archive_for(self.crawler).index.link(item.link_id)
        if state is not None and state["status"] == "archived":
            self.crawler.stats.inc_value("sources/dropped/already_archived")
            raise DropItem(f"{item.canonical_url} is archived already")
        item.body_sha256 = hashlib.sha256(item.body).hexdigest() if item.body else None
        declared = item.extracted.canonical_url if item.extracted else None
        for url in (declared, item.final_url):
            if not url:
                continue
            try:
                alias = canonicalize(url)
            except InvalidURL:
                continue
            if alias != item.canonical_url and alias not in item.aliases:
                item.aliases.append(alias)
        return item
