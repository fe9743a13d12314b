"""linux.do, a Discourse forum: a topic read from its JSON (`/t/<id>.json`, see
`crawler.urls.fetch_url`), or from the page Discourse serves crawlers.

The JSON: `title`/`fancy_title`, `created_at`, `tags`, `posts_count`, and `post_stream.posts`
(the first ones), each with `post_number`, `username`, `name`, `created_at` and the rendered
`cooked` HTML. The topic's text is its first post; the replies are counted in `extra`.
"""

from __future__ import annotations

import html as htmllib
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import parse_date
from crawler.extractors.page import Page, absolute, parse_fragment
from crawler.extractors.text import node_text, squash
from crawler.items import Extracted, Status


class DiscourseExtractor(Extractor):
    """linux.do topics (Discourse)."""

    name: ClassVar[str] = "discourse"
    domains: ClassVar[tuple[str, ...]] = ("linux.do",)
    site: ClassVar[str | None] = "LINUX DO"
    # the crawler view of a topic page: the first post's text
    container: ClassVar[tuple[str, ...]] = (
        '(//*[@itemprop="text"])[1]',
        '(//*[contains(@class, "cooked")])[1]',
    )
    favor_recall: ClassVar[bool] = True

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """The crawler view: title, the first post's author and time."""
        return {
            "title": page.first('//*[@id="topic-title"]//a', "//h1") or page.meta("og:title"),
            "author": page.first('(//*[@itemprop="author"]//*[@itemprop="name"])[1]')
            or page.first('(//*[contains(@class, "creator")]//*[@itemprop="name"])[1]'),
            "published": parse_date(
                page.first('(//*[@itemprop="datePublished"]/@content)[1]', "(//time/@datetime)[1]"),
                None,
            ),
        }

    def extract_json(self, url: str, text: str, media_type: str | None) -> Extracted:
        """A topic's JSON: the first post as the text, with the topic's metadata."""
        data = self.json_data(text)
        stream = data.get("post_stream") if isinstance(data, dict) else None
        posts = stream.get("posts") if isinstance(stream, dict) else None
        if not isinstance(data, dict) or not isinstance(posts, list):
            if isinstance(data, dict) and data.get("errors"):
                reason = f"discourse: {squash(str(data['errors'][0]))[:100]}"
                return Extracted(status=Status.GONE, extractor=self.name, reason=reason)
            return super().extract_json(url, text, media_type)
        first = next((p for p in posts if isinstance(p, dict) and p.get("post_number") == 1), None)
        first = first or next((p for p in posts if isinstance(p, dict)), {})
        fragment = parse_fragment(str(first.get("cooked") or ""))
        body = node_text(fragment) if fragment is not None else ""
        images = []
        for img in (
            fragment.xpath(".//img[not(contains(@class, 'emoji'))]") if fragment is not None else []
        ):
            src = absolute(img.get("src"), url)
            if src:
                images.append(src)
        topic = data.get("id")
        slug = data.get("slug")
        extra: dict[str, Any] = {
            "topic_id": topic,
            "posts_count": data.get("posts_count"),
            "tags": [t if isinstance(t, str) else t.get("name") for t in data.get("tags") or []],
            "username": first.get("username"),
        }
        if not body.strip():
            return Extracted(
                status=Status.FAILED, extractor=self.name, reason="discourse: no post text"
            )
        return Extracted(
            status=Status.ARCHIVED,
            extractor=self.name,
            title=squash(htmllib.unescape(str(data.get("fancy_title") or data.get("title") or "")))
            or None,
            author=squash(str(first.get("name") or "")) or first.get("username"),
            published=parse_date(first.get("created_at") or data.get("created_at"), None),
            site=self.site,
            text=body,
            canonical_url=f"https://linux.do/t/{slug}/{topic}" if slug and topic else None,
            images=images,
            extra={key: value for key, value in extra.items() if value not in (None, [], "")},
        )
