"""The default extractor: trafilatura, helped by the page's own title, date and author tags."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page
from crawler.extractors.text import cjk_ratio

#: Elements that hold the publication time on many Chinese news and blog sites, each with a
#: string the page's HTML must contain for the XPath to match (most pages have none of them,
#: and each XPath is a walk of the whole tree).
DATE_XPATHS: tuple[tuple[str, str], ...] = (
    ("datePublished", '//*[@itemprop="datePublished"]/@content'),
    ("datePublished", '//*[@itemprop="datePublished"]/@datetime'),
    ("pubtime_baidu", '//*[@id="pubtime_baidu"]'),
    ("post-date", '//*[@id="post-date"]'),
    ("publish_time", '//*[@id="publish_time"]'),
    ("datetime", "//article//time/@datetime"),
)

AUTHOR_XPATHS: tuple[tuple[str, str], ...] = (
    ("author_baidu", '//*[@id="author_baidu"]'),
    ("author", '//*[@itemprop="author"]//*[@itemprop="name"]'),
    ("author", '//a[@rel="author"]'),
)

#: Short byline elements where "作者：X" is written out: those holding a text with "作者" (the
#: label cannot match elsewhere, and the walk over text nodes is far cheaper than testing every
#: element's class).
BYLINE_XPATH = (
    "//body//text()[contains(., '作者')]/ancestor::*[contains(@class, 'info') or "
    "contains(@class, 'meta') or contains(@class, 'source') or contains(@class, 'byline') or "
    "contains(@class, 'author') or contains(@class, 'about')]"
)
#: Class words of the box under a headline that holds its byline and time.
_BYLINE_BOX = " or ".join(
    f"contains(@class, '{word}')" for word in ("about", "info", "meta", "byline", "author")
)
_AUTHOR_LABEL = re.compile(r"作者\s*[:：]\s*(?P<name>[^\s|｜,，;；:：]{2,20})")

_AUTHOR_PREFIX = re.compile(r"^\s*(?:(?:作者|撰文|文|记者|编译)\s*[:：|｜/]|By\s)\s*", re.I)


def clean_author(value: str | None) -> str | None:
    """A byline without its "作者：" / "文｜" / "By" prefix."""
    if not value:
        return None
    value = _AUTHOR_PREFIX.sub("", value).strip(" |｜/")
    return value or None


class GenericExtractor(Extractor):
    """Any site: trafilatura, then the page's h1, date elements and author tags where it erred."""

    name: ClassVar[str] = "generic"

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the h1 when <title> only adds a site suffix; dated elements; bylines."""
        page_title = page.first("//title")
        chinese = (
            page.declared_language == "zh"
            or page.host.endswith(".cn")
            or cjk_ratio(page_title or "") > 0.3
        )
        found: dict[str, Any] = {}
        title = page.meta("og:title") or page_title
        for h1 in page.xpath("//h1")[:3]:
            heading = " ".join(h1.text_content().split())
            if title and len(heading) >= 4 and title != heading and title.startswith(heading):
                found["title"] = heading
                break
        stated = self.page_metadata(page).get("published")  # the page's own tags win
        for needle, query in () if stated else DATE_XPATHS:
            value = page.first(query) if needle in page.html else None
            published = parse_date(value, CHINA_TZ if chinese else None) if value else None
            if published:
                found["published"] = published
                break
        author_xpaths = [query for needle, query in AUTHOR_XPATHS if needle in page.html]
        author = (
            clean_author(page.first(*author_xpaths))
            or self.labelled_author(page)
            or self.byline_under_headline(page)
        )
        if author:
            found["author"] = author
        return found

    @staticmethod
    def byline_under_headline(page: Page) -> str | None:
        """A bare byline ("石佳/中国青年报") first in the about/meta box right under the h1."""
        for box in page.xpath(f"//h1/following-sibling::*[1][{_BYLINE_BOX}]")[:2]:
            first = page.first("./*[1]", node=box)
            if first and len(first) <= 30 and not re.search(r"\d|[:：]", first):
                return first
        return None

    @staticmethod
    def labelled_author(page: Page) -> str | None:
        """The name after "作者：" in a short byline element (news sites' "出处：X 作者：Y")."""
        if "作者" not in page.html:
            return None
        labelled = page.xpath("//body//*[contains(text(), '作者')]")[:20]
        nodes = page.xpath(BYLINE_XPATH)[:40] + labelled
        for node in nodes:
            text = " ".join(node.text_content().split())
            if len(text) <= 120 and (match := _AUTHOR_LABEL.search(text)):
                return match.group("name")
        return None

    def assemble(self, page: Page, body: Any, text: str) -> Any:
        """As the base, with bylines trimmed of their prefixes."""
        result = super().assemble(page, body, text)
        result.author = clean_author(result.author)
        return result
