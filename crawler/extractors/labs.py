"""AI labs' news pages: openai.com (/index/<slug>/) and anthropic.com (/news/<slug>).

Both are Next.js pages rendered on the server: the post is the page's `<article>` (else
`<main>`), the date a `<time>` or a dated line under the title; the feed of other posts under
it ("Keep reading", "Related content") is not the post. Both answer bots with challenges at
times: those end blocked (`Extractor.wall`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import parse_date
from crawler.extractors.page import Page

_FEEDS = (
    r"^(?:Keep reading|Related (?:content|articles|news|posts)|More from (?:OpenAI|Anthropic)|"
    r"Read more|View all|Explore more|Get the developer newsletter|Footnotes)$",
)


class _LabNews(Extractor):
    """What both labs' news pages share."""

    container: ClassVar[tuple[str, ...]] = ("//article", "//main")
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        "//nav",
        "//footer",
        "//aside",
        "//form",
        "//*[@aria-label='Breadcrumb' or @role='navigation']",
    )
    end_lines: ClassVar[tuple[str, ...]] = _FEEDS
    language: ClassVar[str | None] = "en"
    favor_recall: ClassVar[bool] = False  # <article>/<main> carry share bars and feeds

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the h1, date from the first <time> (or the meta/JSON-LD date)."""
        when = page.first("(//article//time/@datetime)[1]", "(//main//time/@datetime)[1]")
        if not when:
            when = page.first("(//article//time)[1]", "(//main//time)[1]")
        return {
            "title": page.first("//h1") or page.meta("og:title"),
            "published": parse_date(when, None) if when else None,
            "site": self.site,
        }


class OpenaiExtractor(_LabNews):
    """openai.com news and research posts."""

    name: ClassVar[str] = "openai"
    domains: ClassVar[tuple[str, ...]] = ("openai.com",)
    site: ClassVar[str | None] = "OpenAI"


class AnthropicExtractor(_LabNews):
    """anthropic.com news and engineering posts."""

    name: ClassVar[str] = "anthropic"
    domains: ClassVar[tuple[str, ...]] = ("anthropic.com",)
    site: ClassVar[str | None] = "Anthropic"
