"""机器之心 jiqizhixin.com articles (/articles/<date>-<n>)."""

from __future__ import annotations

from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class


class JiqizhixinExtractor(Extractor):
    """jiqizhixin.com: body in `.article__content`, byline and time in `.article__info`."""

    name: ClassVar[str] = "jiqizhixin"
    domains: ClassVar[tuple[str, ...]] = ("jiqizhixin.com",)
    site: ClassVar[str | None] = "机器之心"
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = (
        f"//div[{has_class('article__content')}]",
        f"//div[{has_class('js-article-content')}]",
    )
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ
    drop_lines: ClassVar[tuple[str, ...]] = (r"^(?:机器之心(?:报道|编辑部|原创)|编辑\s*[:：])",)

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the heading; author and time from the info line."""
        info = f"//*[{has_class('article__info')} or {has_class('article__meta')}]"
        return {
            "title": page.first(f"//h1[{has_class('article__title')}]", "//h1"),
            "author": page.first(f"{info}//*[{has_class('article__author')}]")
            or page.first(f"//*[{has_class('article__author')}]"),
            "published": parse_date(
                page.first(f"{info}//time/@datetime", f"{info}//time", "//time/@datetime"),
                CHINA_TZ,
            ),
            "site": self.site,
        }
