"""量子位 qbitai.com (WordPress): body in `.article`, byline in `.article_info`."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import CHINA_TZ, Extractor, Page, cls, parse_date

_BYLINE = re.compile(r"^\s*(?P<author>[^\s|｜]{1,20}(?:\s[^\s|｜]{1,20})?)\s+发自\s+\S+")


class QbitaiExtractor(Extractor):
    """qbitai.com articles."""

    name: ClassVar[str] = "qbitai"
    domains: ClassVar[tuple[str, ...]] = ("qbitai.com",)
    site: ClassVar[str | None] = "量子位"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (f"//div[{cls('article')}]", "//article")
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        "//h1",
        f"//*[{cls('article_info')} or {cls('zhaiyao')} or {cls('tags')} or {cls('share')}]",
        f"//*[{cls('person_box')} or {cls('copyright')} or {cls('relevant')} or {cls('related')}]",
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
        info = f"//*[{cls('article_info')}]"
        day = page.first(f"{info}//*[{cls('date')}]", f"//*[{cls('article')}]//*[{cls('date')}]")
        time = page.first(f"{info}//*[{cls('time')}]")
        author = page.first(f"{info}//*[{cls('author')}]", f"//*[{cls('author')}]//a")
        if not author and body is not None:
            for line in (p.text_content() for p in page.xpath(".//p", body)[:4]):
                match = _BYLINE.match(line)
                if match:
                    author = match.group("author")
                    break
        published = parse_date(f"{day} {time}" if day and time else day, CHINA_TZ)
        return {
            "title": page.first(f"//*[{cls('article')}]//h1", "//h1") or page.meta("og:title"),
            "author": author or page.meta("author"),
            "published": published or parse_date(page.meta("article:published_time"), CHINA_TZ),
            "description": page.first(f"//*[{cls('zhaiyao')}]") or page.meta("description"),
            "site": self.site,
        }
