"""arXiv: abstract pages (arxiv.org/abs/ID) and API Atom responses (export.arxiv.org/api/query)."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from lxml import etree

from crawler.extractors.base import Extractor, State
from crawler.extractors.dates import parse_date
from crawler.extractors.page import Page, has_class
from crawler.extractors.text import squash
from crawler.items import Extracted, Status
from crawler.urls import ARXIV_ID as _ID
from crawler.urls import arxiv_id

_VERSION = re.compile(
    r"\[v(?P<n>\d+)\]\s*(?P<date>[A-Z][a-z]{2},\s*\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}\s+"
    r"\d{1,2}:\d{2}:\d{2}\s*(?:UTC|GMT)?)"
)
_SUBMITTED = re.compile(r"Submitted on (\d{1,2} [A-Z][a-z]{2} \d{4})")
_CATEGORY = re.compile(r"\(([\w\-]+(?:\.[\w\-]+)?)\)\s*$")

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
}


def _undescribed(text: str | None, descriptor: str) -> str | None:
    """Text without arXiv's leading descriptor label ("Title:", "Abstract:")."""
    text = squash(text).removeprefix(descriptor).strip()
    return text or None


def _first_last(name: str) -> str:
    """ "Riedl, Mark O." -> "Mark O. Riedl" (citation_author order)."""
    last, _, first = name.partition(",")
    return f"{first.strip()} {last.strip()}".strip() if first else name.strip()


class ArxivExtractor(Extractor):
    """arxiv.org abstract pages, API responses, and PDFs (archived as binaries with their id)."""

    name: ClassVar[str] = "arxiv"
    domains: ClassVar[tuple[str, ...]] = ("arxiv.org",)
    site: ClassVar[str | None] = "arXiv"
    language: ClassVar[str | None] = "en"

    def page_state(self, page: Page) -> State | None:
        """arXiv's own "identifier not recognized" page."""
        text = page.visible_text[:3000]
        match = re.search(r"Article identifier '[^']*' not recognized|Paper not found", text)
        if match:
            return Status.GONE, f"arxiv: no such paper ({match.group(0)})"
        return None

    def binary(self, url: str, media_type: str | None) -> Extracted:
        """A paper's PDF (or any binary of arxiv.org), noted with the paper's arXiv id."""
        result = super().binary(url, media_type)
        paper = arxiv_id(url)
        if paper:
            result.extra["arxiv_id"] = paper
        return result

    def extract(self, page: Page) -> Extracted:
        """An abstract page: title, authors, abstract, versions, categories."""
        if page.tree is None:
            return Extracted(status=Status.FAILED, reason="unparseable HTML", extractor=self.name)
        state = self.page_state(page)
        if state:
            return self.stateful(page, state)
        paper = (
            page.meta("citation_arxiv_id")
            or arxiv_id(page.url)
            or arxiv_id(page.meta("og:url") or "")
        )
        title = _undescribed(page.first(f"//h1[{has_class('title')}]"), "Title:") or page.meta(
            "citation_title", "og:title"
        )
        authors = [squash(a.text_content()) for a in page.xpath(f"//div[{has_class('authors')}]/a")]
        if not authors:
            authors = [
                _first_last(a) for a in page.xpath('//meta[@name="citation_author"]/@content')
            ]
        abstract = _undescribed(
            page.first(f"//blockquote[{has_class('abstract')}]"), "Abstract:"
        ) or (squash(page.meta("citation_abstract", "og:description")))
        history = squash(page.first(f"//div[{has_class('submission-history')}]") or "")
        versions = [
            {"version": f"v{m['n']}", "date": parse_date(m["date"])}
            for m in _VERSION.finditer(history)
        ]
        published = versions[0]["date"] if versions else None
        if not published:
            submitted = _SUBMITTED.search(page.first(f"//div[{has_class('dateline')}]") or "")
            published = parse_date(submitted.group(1)) if submitted else None
        published = published or parse_date(page.meta("citation_date", "citation_online_date"))
        primary = page.first(f"//span[{has_class('primary-subject')}]")
        category = _CATEGORY.search(primary or "")
        extra: dict[str, Any] = {"authors": authors, "versions": versions}
        if paper:
            extra["arxiv_id"] = paper
        if category:
            extra["primary_category"] = category.group(1)
        if not abstract:
            return Extracted(
                status=Status.FAILED,
                reason="arxiv: no abstract found",
                extractor=self.name,
                title=title,
                extra=extra,
            )
        return Extracted(
            status=Status.ARCHIVED,
            extractor=self.name,
            title=title,
            author=", ".join(authors) or None,
            published=published,
            site=self.site,
            language=self.language,
            description=abstract,
            text=abstract,
            canonical_url=f"https://arxiv.org/abs/{paper}" if paper else None,
            extra=extra,
        )

    def extract_xml(self, url: str, text: str) -> Extracted:
        """An API Atom response: one entry is read as the paper, several as a listing."""
        try:
            root = etree.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text).encode("utf-8"))
        except (etree.XMLSyntaxError, ValueError):
            return super().extract_xml(url, text)
        if root.tag != f"{{{NS['atom']}}}feed":
            return super().extract_xml(url, text)
        entries = [self.entry(e) for e in root.findall("atom:entry", NS)]
        errors = [e for e in entries if "/api/errors" in (e.get("id_url") or "")]
        if errors:
            return Extracted(
                status=Status.FAILED,
                extractor=self.name,
                reason=f"arxiv: API error ({errors[0].get('summary') or ''})"[:200],
            )
        if not entries:
            return Extracted(
                status=Status.GONE, extractor=self.name, reason="arxiv: API returned no entry"
            )
        if len(entries) == 1:
            entry = entries[0]
            extra = {
                k: entry[k]
                for k in ("arxiv_id", "authors", "versions", "primary_category")
                if entry.get(k)
            }
            return Extracted(
                status=Status.ARCHIVED,
                extractor=self.name,
                title=entry["title"],
                author=", ".join(entry["authors"]) or None,
                published=entry["published"],
                site=self.site,
                language=self.language,
                description=entry["summary"],
                text=entry["summary"],
                canonical_url=f"https://arxiv.org/abs/{entry['arxiv_id']}"
                if entry.get("arxiv_id")
                else None,
                extra=extra,
            )
        feed_title = squash("".join(root.findtext("atom:title", "", NS)))
        lines = [f"{e['title']}\n{e['summary']}" for e in entries]
        return Extracted(
            status=Status.ARCHIVED,
            extractor=self.name,
            title=feed_title or None,
            published=parse_date(root.findtext("atom:updated", "", NS)),
            site=self.site,
            language=self.language,
            text="\n".join(lines),
            extra={
                "entries": [
                    {k: e.get(k) for k in ("arxiv_id", "title", "published", "authors")}
                    for e in entries
                ]
            },
        )

    @staticmethod
    def entry(element: Any) -> dict[str, Any]:
        """Fields of one Atom entry."""
        id_url = squash(element.findtext("atom:id", "", NS))
        match = _ID.search(urlsplit(id_url).path) if id_url else None
        primary = element.find("arxiv:primary_category", NS)
        published = parse_date(element.findtext("atom:published", "", NS))
        versions: list[dict[str, str | None]] = (
            [{"version": "v1", "date": published}] if published else []
        )
        current = match.group("version") if match else None
        if current and current != "v1":  # <updated> dates the version the entry shows
            versions.append(
                {"version": current, "date": parse_date(element.findtext("atom:updated", "", NS))}
            )
        return {
            "id_url": id_url,
            "arxiv_id": match.group("id") if match else None,
            "title": squash(element.findtext("atom:title", "", NS)),
            "summary": squash(element.findtext("atom:summary", "", NS)),
            "authors": [
                squash(a.findtext("atom:name", "", a.nsmap | NS))
                for a in element.findall("atom:author", NS)
            ],
            "published": published,
            "versions": versions,
            "primary_category": primary.get("term") if primary is not None else None,
        }
