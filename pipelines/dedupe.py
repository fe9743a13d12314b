"""DedupePipeline: one fetch per page, one article per content, short and long links as one."""

from __future__ import annotations

import hashlib
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import stats
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import FetchOutcome, Status
from crawler.urls import InvalidURL, canonicalize


class DedupePipeline:
    """Drops outcomes for links already archived; notes the page's own canonical link.

    Content identity (byte- or text-identical pages from two URLs) is settled by the archive,
    which keys articles by content; this step supplies the body hash and the aliases.
    """

    def __init__(self, crawler: Crawler, archive: Archive):
        self.crawler = crawler
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; asks the crawl's archive what is archived."""
        return cls(crawler, required(crawler, ArchiveExtension).archive)

    def process_item(self, item: object) -> object:
        """Drop a page archived already; hash the body and collect the page's other URLs."""
        if not isinstance(item, FetchOutcome):
            return item
        if self.archive.link_status(item.link_id) == Status.ARCHIVED:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(stats.DROPPED_ALREADY_ARCHIVED)
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
