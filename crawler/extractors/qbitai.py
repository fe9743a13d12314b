"""量子位 qbitai.com (WordPress): body in `.article`, byline in `.article_info`."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class

_BYLINE = re.compile(r"^\s*(?P<author>[^\s|｜]{1,20}(?:\s[^\s|｜]{1,20})?)\s+发自\s+\S+")


class QbitaiExtractor(Extractor):
    """qbitai.com articles."""

    name: ClassVar[str] = "qbitai"
    domains: ClassVar[tuple[str, ...]] = ("qbitai.com",)
    site: ClassVar[str | None] = "量子位"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (f"//div[{has_class('article')}]", "//article")
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        "//h1",
        f"//*[{has_class('article_info')} or {has_class('zhaiyao')} or {has_class('tags')}"
        f" or {has_class('share')}]",
        f"//*[{has_class('person_box')} or {has_class('copyright')} or {has_class('relevant')}"
        f" or {has_class('related')}]",
    )
    # The header lines every post opens with: "明敏 发自 凹非寺" and "量子位 | 公众号 QbitAI".
    drop_lines: ClassVar[tuple[str, ...]] = (
        r"^\S{1,20}(?:\s\S{1,20})?\s+发自\s+\S+$",
        r"^量子位\s*[|｜]\s*公众号\s*QbitAI$",
    )
    end_lines: ClassVar[tuple[str, ...]] = (r"^[—\-\s]*完[—\-\s]*$",)
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the h1, author from `.author` or the "发自" byline, date + time spans."""
        info = f"//*[{has_class('article_info')}]"
        day = page.first(
            f"{info}//*[{has_class('date')}]",
            f"//*[{has_class('article')}]//*[{has_class('date')}]",
        )
        time = page.first(f"{info}//*[{has_class('time')}]")
        author = page.first(f"{info}//*[{has_class('author')}]", f"//*[{has_class('author')}]//a")
        if not author and body is not None:
            for line in (p.text_content() for p in page.xpath(".//p", body)[:4]):
                match = _BYLINE.match(line)
                if match:
                    author = match.group("author")
                    break
        published = parse_date(f"{day} {time}" if day and time else day, CHINA_TZ)
        return {
            "title": page.first(f"//*[{has_class('article')}]//h1", "//h1")
            or page.meta("og:title"),
            "author": author or page.meta("author"),
            "published": published or parse_date(page.meta("article:published_time"), CHINA_TZ),
            "description": page.first(f"//*[{has_class('zhaiyao')}]") or page.meta("description"),
            "site": self.site,
        }
