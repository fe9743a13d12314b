"""36氪 36kr.com articles (/p/<id>): the article in `window.initialState`, else the page."""

from __future__ import annotations

from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class, parse_fragment
from crawler.extractors.text import node_text, squash


class Kr36Extractor(Extractor):
    """36kr.com: `window.initialState.articleDetail.articleDetailData.data` (widgetTitle,
    widgetContent, author, publishTime in ms), the DOM's `.articleDetailContent` behind it."""

    name: ClassVar[str] = "36kr"
    domains: ClassVar[tuple[str, ...]] = ("36kr.com",)
    site: ClassVar[str | None] = "36氪"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (
        f"//div[{has_class('articleDetailContent')}]",
        f"//div[{has_class('common-width')} and {has_class('content')}]",
    )
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ
    # its own credit and follow lines
    drop_lines: ClassVar[tuple[str, ...]] = (
        r"^本文来自微信公众号",
        r"^36氪经授权发布",
        r"^原创出品",
    )

    @staticmethod
    def article(page: Page) -> dict[str, Any]:
        """The article object of the page data ({} when absent)."""
        state = page.js_data("initialState") if "initialState" in page.html else None
        try:
            data = state["articleDetail"]["articleDetailData"]["data"]  # type: ignore[index]
        except (KeyError, TypeError):
            return {}
        return data if isinstance(data, dict) else {}

    def read(self, page: Page, body: Any) -> str:
        """The page data's article HTML when the DOM has no body."""
        text = super().read(page, body) if body is not None else ""
        if len(squash(text)) < 50:
            fragment = parse_fragment(str(self.article(page).get("widgetContent") or ""))
            if fragment is not None:
                text = node_text(fragment)
        return text or (super().read(page, None) if body is None else text)

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title, author, time and summary from the page data, then from the page."""
        data = self.article(page)
        return {
            "title": squash(str(data.get("widgetTitle") or ""))
            or page.first(f"//h1[{has_class('article-title')}]", "//h1"),
            "author": squash(str(data.get("author") or ""))
            or page.first(f"//a[{has_class('title-icon-item')}]"),
            "published": parse_date(data.get("publishTime"), CHINA_TZ)
            or parse_date(page.first(f"//*[{has_class('item-time')}]"), CHINA_TZ),
            "description": squash(str(data.get("summary") or "")) or None,
            "site": self.site,
        }
