"""IT之家 ithome.com: body in `#paragraph`, metadata in the `*_baidu` spans."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class

_LABEL = re.compile(r"^\s*(?:来源|作者|责编|责任编辑)\s*[:：]\s*")


def _unlabel(value: str | None) -> str | None:
    value = _LABEL.sub("", value or "").strip()
    return value or None


class IthomeExtractor(Extractor):
    """ithome.com news (www, it, mobile, next... subdomains share the layout)."""

    name: ClassVar[str] = "ithome"
    domains: ClassVar[tuple[str, ...]] = ("ithome.com",)
    site: ClassVar[str | None] = "IT之家"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (
        '//div[@id="paragraph"]',
        f"//div[{has_class('post_content')}]",
        f"//div[{has_class('news-content')}]",
    )
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        f"//*[{has_class('ad-tips')} or {has_class('tougao-user')} or {has_class('related_post')}]",
        f"//*[{has_class('shareto')} or {has_class('post_tags')} or {has_class('tag')}]",
    )
    # Every ithome post ends with its ad disclaimer; editor lines go with the base rules.
    drop_lines: ClassVar[tuple[str, ...]] = (r"^广告声明[:：]",)
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from `.post_title h1`; time, author, source, editor from the `*_baidu` spans."""
        extra: dict[str, Any] = {}
        source = _unlabel(page.first('//*[@id="source_baidu"]//a', '//*[@id="source_baidu"]'))
        if source:
            extra["source"] = source
        editor = _unlabel(page.first('//*[@id="editor_baidu"]//strong', '//*[@id="editor_baidu"]'))
        if editor:
            extra["editor"] = editor
        return {
            "title": page.first(f"//*[{has_class('post_title')}]//h1", "//h1")
            or page.meta("og:title"),
            "author": _unlabel(
                page.first('//*[@id="author_baidu"]//strong', '//*[@id="author_baidu"]')
            ),
            "published": parse_date(page.first('//*[@id="pubtime_baidu"]'), CHINA_TZ),
            "site": self.site,
            "extra": extra,
        }
