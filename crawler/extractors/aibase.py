"""AIbase news (news.aibase.com / www.aibase.com, Nuxt pages): body, date and author."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class
from crawler.extractors.text import squash

_DATETIME = re.compile(
    r"\d{4}\s*(?:年|-|/)\s*\d{1,2}\s*(?:月|-|/)\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_AUTHOR = re.compile(r"(?:作者|来源|发布者)\s*[:：]\s*(?P<name>[^\s|｜·]+)")


class AibaseExtractor(Extractor):
    """AIbase AI news articles (/zh/news/ID, /news/ID)."""

    name: ClassVar[str] = "aibase"
    domains: ClassVar[tuple[str, ...]] = ("aibase.com",)
    site: ClassVar[str | None] = "AIbase"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (
        f"//div[{has_class('post-content')}]",
        f"//div[{has_class('article-content')}]",
        "//article",
        "//main",
    )
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        "//nav",
        "//h1",
        f"//*[{has_class('article-meta')} or {has_class('tags')} or {has_class('share')}"
        f" or {has_class('related')}]",
    )
    # AIbase repeats its image credit under every generated picture.
    drop_lines: ClassVar[tuple[str, ...]] = (r"^图源备注[:：]",)
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the h1; time and author from the line of metadata under it."""
        nodes = page.xpath(
            f"//*[{has_class('article-meta')} or {has_class('post-meta')} or {has_class('meta')}]"
        )
        nodes = nodes or page.xpath("//h1/following-sibling::*[1]")
        meta_line = " ".join(squash(t) for n in nodes for t in n.itertext())
        date = _DATETIME.search(meta_line)
        author = _AUTHOR.search(meta_line)
        return {
            "title": page.first("//h1") or page.meta("og:title"),
            "author": author.group("name") if author else page.meta("author"),
            "published": parse_date(date.group(0), CHINA_TZ) if date else None,
            "site": self.site,
        }
