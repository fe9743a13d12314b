"""AIbase news: news.aibase.com and www.aibase.com (`/zh/news/<id>`, `/news/<id>`), in the two
layouts served: the 2025 Nuxt page (server-rendered body; the article also in `__NUXT_DATA__`,
a devalue array whose objects point at other entries by index; `og:url` relative) and the 2026
Next.js page (server-rendered body; `og:url` without a scheme). The body comes from the page,
else from the Nuxt payload; the canonical URL from `og:url` made absolute.
"""

from __future__ import annotations

import json
import re
from datetime import timezone
from typing import Any, ClassVar
from urllib.parse import urljoin

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class, parse_fragment
from crawler.extractors.text import node_text, squash

_DATETIME = re.compile(
    r"\d{4}\s*(?:年|-|/)\s*\d{1,2}\s*(?:月|-|/)\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_AUTHOR = re.compile(r"(?:作者|来源|发布者)\s*[:：]\s*(?P<name>[^\s|｜·]+)")
_CONTENT_KEYS = ("content", "contentHtml", "body", "detail", "html", "text")
_DATE_KEYS = ("createTime", "publishTime", "addTime", "addtime", "pubDate", "created_at", "ctime")


def devalue(payload: Any, limit: int = 200_000) -> Any:
    """A Nuxt `__NUXT_DATA__` array (devalue: entries point at others by index) made whole."""
    if not isinstance(payload, list) or not payload:
        return None
    memo: dict[int, Any] = {}
    budget = [limit]

    def resolve(index: Any, depth: int = 0) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(payload):
            return None
        if index in memo:
            return memo[index]
        budget[0] -= 1
        if budget[0] < 0 or depth > 60:
            return None
        value = payload[index]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            memo[index] = out
            for key, ref in value.items():
                out[key] = resolve(ref, depth + 1)
            return out
        if isinstance(value, list):
            if value and isinstance(value[0], str) and value[0] in (
                "Reactive", "ShallowReactive", "Ref", "ShallowRef", "EmptyRef", "Date",
            ):  # fmt: skip
                inner = value[1] if len(value) > 1 else None
                result = inner if value[0] == "Date" else resolve(inner, depth + 1)
                memo[index] = result
                return result
            items: list[Any] = []
            memo[index] = items
            items.extend(resolve(ref, depth + 1) for ref in value)
            return items
        memo[index] = value
        return value

    return resolve(0)


def find_article(data: Any) -> dict[str, Any] | None:
    """The object of a page payload that is the article: a title and a long content string."""
    stack, seen = [data], 0
    while stack and seen < 100_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            if isinstance(node.get("title"), str) and any(
                isinstance(node.get(key), str) and len(node[key]) > 100 for key in _CONTENT_KEYS
            ):
                return node
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return None


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

    def payload_article(self, page: Page) -> dict[str, Any]:
        """The article of the Nuxt payload ({} when the page has none)."""
        if "aibase:article" not in page.memo:
            found = None
            if "__NUXT_DATA__" in page.html:
                for raw in page.xpath('//script[@id="__NUXT_DATA__"]/text()'):
                    try:
                        found = find_article(devalue(json.loads(raw)))
                    except ValueError:
                        continue
                    if found:
                        break
            page.memo["aibase:article"] = found or {}
        article: dict[str, Any] = page.memo["aibase:article"]
        return article

    def read(self, page: Page, body: Any) -> str:
        """The page's body, else the Nuxt payload's article."""
        text = super().read(page, body)
        if len(squash(text)) < 100:
            article = self.payload_article(page)
            for key in _CONTENT_KEYS:
                value = article.get(key)
                if isinstance(value, str) and len(value) > 100:
                    fragment = parse_fragment(value)
                    if fragment is not None:
                        return node_text(fragment)
        return text

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the h1; time and author from the line of metadata under it (else from the
        payload); the canonical URL from `og:url` (relative or without a scheme)."""
        nodes = page.xpath(
            f"//*[{has_class('article-meta')} or {has_class('post-meta')} or {has_class('meta')}]"
        )
        nodes = nodes or page.xpath("//h1/following-sibling::*[1]")
        meta_line = " ".join(squash(t) for n in nodes for t in n.itertext())
        date = _DATETIME.search(meta_line)
        author = _AUTHOR.search(meta_line)
        payload = self.payload_article(page) if not (date and author) else {}
        published = parse_date(date.group(0), CHINA_TZ) if date else None
        for key in _DATE_KEYS if not published else ():
            published = published or parse_date(payload.get(key), CHINA_TZ)
        return {
            "title": page.first("//h1") or page.meta("og:title") or payload.get("title"),
            "author": author.group("name")
            if author
            else (page.meta("author") or payload.get("author") or payload.get("source")),
            "published": published,
            "site": self.site,
            "canonical_url": canonical(page.meta("og:url"), page.url),
        }


def canonical(og_url: str | None, base: str) -> str | None:
    """`og:url` made absolute: "/zh/news/1" (2025) and "www.aibase.com/zh/news/1" (2026)."""
    if not og_url:
        return None
    if re.match(r"^(?:[\w-]+\.)+[a-z]{2,}/", og_url):  # a host without a scheme
        og_url = "https://" + og_url
    elif og_url.startswith("//"):
        og_url = "https:" + og_url
    return urljoin(base, og_url)
