"""开源中国 oschina.net news: body in `.article-detail`, metadata in `.article-box__meta`."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class
from crawler.extractors.text import squash

_SOURCE = re.compile(r"^\s*来源\s*[:：]\s*")
_DATETIME = re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")


class OschinaExtractor(Extractor):
    """oschina.net news (www.oschina.net/news/ID/slug)."""

    name: ClassVar[str] = "oschina"
    domains: ClassVar[tuple[str, ...]] = ("oschina.net",)
    site: ClassVar[str | None] = "开源中国"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (
        f"//div[{has_class('article-detail')}]",
        f"//div[{has_class('detail-box')}]",
    )
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        f"//*[{has_class('ad-wrap')} or {has_class('tags-box')} or {has_class('copyright-box')}]",
        f"//*[{has_class('action-box')} or {has_class('recommend-box')}"
        f" or {has_class('share-box')}]",
        f"//*[{has_class('article-box__meta')} or {has_class('article-box__title')}]",
    )
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from `h1.article-box__title`; source, author and time from the meta items."""
        items = [
            squash(item.text_content())
            for item in page.xpath(f"//*[{has_class('article-box__meta')}]//*[{has_class('item')}]")
        ]
        published = source = None
        for item in items:
            if not published and (match := _DATETIME.search(item)):
                published = parse_date(match.group(0), CHINA_TZ)
            if not source and _SOURCE.match(item):
                source = _SOURCE.sub("", item) or None
        author = page.first(
            f"//*[{has_class('article-box__meta')}]//a[contains(@href, '/u/')]",
            f"//*[{has_class('article-box__meta')}]//*[{has_class('author')}]",
        )
        return {
            "title": page.first(f"//*[{has_class('article-box__title')}]", "//h1")
            or page.meta("og:title"),
            "author": author,
            "published": published,
            "site": self.site,
            "extra": {"source": source} if source else {},
        }
