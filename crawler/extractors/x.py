"""x.com (Twitter) posts, read through the public oEmbed endpoint (`crawler.urls.fetch_url`).

A plain fetch of x.com gets a script shell (blocked: "script-only page"); the oEmbed answer
(`publish.twitter.com/oembed?url=...`) holds the post as a `<blockquote class="twitter-tweet">`:
the text in its `<p lang>`, then "&mdash; Name (@handle)" and a link dated "March 1, 2026".
The syndication endpoint's JSON (`cdn.syndication.twimg.com/tweet-result`: `text`, `user`,
`created_at`) is read too, should a digest cite it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import parse_date
from crawler.extractors.page import parse_fragment
from crawler.extractors.text import node_text, squash
from crawler.items import Extracted, Status

_BYLINE = re.compile(r"[—–-]\s*(?P<name>.*?)\s*\(@(?P<handle>\w{1,30})\)")
_STATUS = re.compile(r"/(?P<handle>\w{1,30})/status(?:es)?/(?P<id>\d+)")


class XExtractor(Extractor):
    """x.com / twitter.com posts through oEmbed or syndication JSON; pages are script shells."""

    name: ClassVar[str] = "x"
    domains: ClassVar[tuple[str, ...]] = ("x.com", "twitter.com", "cdn.syndication.twimg.com")
    site: ClassVar[str | None] = "X"

    def extract_json(self, url: str, text: str, media_type: str | None) -> Extracted:
        """An oEmbed or syndication answer: the post's text, author, handle and date."""
        data = self.json_data(text)
        if not isinstance(data, dict):
            return super().extract_json(url, text, media_type)
        if data.get("__typename") == "TweetTombstone" or data.get("errors"):
            return Extracted(status=Status.GONE, extractor=self.name, reason="x: post unavailable")
        if "html" in data:
            return self.oembed(data)
        if "text" in data and isinstance(data.get("user"), dict):
            return self.syndication(data)
        return super().extract_json(url, text, media_type)

    def oembed(self, data: dict[str, Any]) -> Extracted:
        """The post in an oEmbed answer."""
        quote = parse_fragment(str(data.get("html") or ""))
        paragraph = quote.find(".//p") if quote is not None else None
        body = node_text(paragraph) if paragraph is not None else ""
        byline = _BYLINE.search(squash(quote.text_content())) if quote is not None else None
        links = quote.xpath(".//a[contains(@href, '/status/')]") if quote is not None else []
        published = parse_date(squash(links[-1].text_content()), None) if links else None
        status = _STATUS.search(str(data.get("url") or ""))
        handle = byline["handle"] if byline else (status["handle"] if status else None)
        author = squash(str(data.get("author_name") or "")) or (byline["name"] if byline else None)
        language = paragraph.get("lang") if paragraph is not None else None
        return self.post(body, author, handle, published, language, data.get("url"), status)

    def syndication(self, data: dict[str, Any]) -> Extracted:
        """The post in a syndication answer."""
        user = data["user"]
        handle = user.get("screen_name")
        body = str(data.get("text") or "")
        for link in (data.get("entities") or {}).get("urls") or []:
            if isinstance(link, dict) and link.get("url") and link.get("expanded_url"):
                body = body.replace(link["url"], link["expanded_url"])
        post_id = str(data.get("id_str") or "")
        url = f"https://x.com/{handle}/status/{post_id}" if handle and post_id else None
        result = self.post(
            body,
            user.get("name"),
            handle,
            parse_date(data.get("created_at")),
            data.get("lang"),
            url,
            _STATUS.search(url or ""),
        )
        result.images = [
            m["media_url_https"]
            for m in data.get("mediaDetails") or []
            if isinstance(m, dict) and m.get("media_url_https")
        ]
        return result

    def post(
        self,
        body: str,
        author: str | None,
        handle: str | None,
        published: str | None,
        language: str | None,
        url: Any,
        status: re.Match[str] | None,
    ) -> Extracted:
        """The `Extracted` of one post."""
        if not body.strip():
            return Extracted(status=Status.FAILED, extractor=self.name, reason="x: no post text")
        snippet = squash(body)
        snippet = snippet if len(snippet) <= 80 else snippet[:79] + "…"
        extra: dict[str, Any] = {"handle": handle}
        if status:
            extra["post_id"] = status["id"]
        canonical = f"https://x.com/{status['handle']}/status/{status['id']}" if status else None
        return Extracted(
            status=Status.ARCHIVED,
            extractor=self.name,
            title=f'{author or handle} on X: "{snippet}"',
            author=author or handle,
            published=published,
            site=self.site,
            language=language if language and language != "und" else None,
            text=body.strip(),
            canonical_url=canonical or (url if isinstance(url, str) else None),
            extra={key: value for key, value in extra.items() if value},
        )
