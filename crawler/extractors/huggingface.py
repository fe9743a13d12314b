"""Hugging Face model, dataset and space pages: the card (rendered markdown) as text.

Pages: `huggingface.co/<owner>/<name>` (models), `/datasets/<owner>/<name>`, `/spaces/<owner>/
<name>`. The card is rendered in `.model-card-content` (datasets too); the header's numbers are
in the `data-props` JSON of its hydration element (`data-target="ModelHeader"`, ...). A space
shows its app, not its card: its short description stands in for the text.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from crawler.extractors.base import Extractor
from crawler.extractors.dates import parse_date
from crawler.extractors.page import Page, has_class
from crawler.items import Extracted, Status

_REPO = re.compile(r"^/(?:(?P<kind>datasets|spaces)/)?(?P<owner>[\w.\-]+)/(?P<name>[\w.\-]+)/?")
_NOT_REPOS = {"docs", "blog", "papers", "learn", "tasks", "settings", "organizations", "login"}
_KINDS = {None: "model", "datasets": "dataset", "spaces": "space"}


def hf_repo(url: str) -> tuple[str, str] | None:
    """(kind, "owner/name") of a Hugging Face repository URL, else None."""
    match = _REPO.match(urlsplit(url).path)
    if not match or match["owner"] in _NOT_REPOS:
        return None
    return _KINDS[match["kind"]], f"{match['owner']}/{match['name']}"


class HuggingfaceExtractor(Extractor):
    """huggingface.co repository cards."""

    name: ClassVar[str] = "huggingface"
    domains: ClassVar[tuple[str, ...]] = ("huggingface.co",)
    site: ClassVar[str | None] = "Hugging Face"
    container: ClassVar[tuple[str, ...]] = (
        f"//div[{has_class('model-card-content')}]",
        f"//div[{has_class('dataset-card-content')}]",
        f"//*[@id='readme']//div[{has_class('prose')}]",
    )
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        f"//*[{has_class('header-link')} or {has_class('anchor')}]",
    )
    favor_recall: ClassVar[bool] = True
    guess_date: ClassVar[bool] = False  # a repository has no publication date

    def header(self, page: Page) -> dict[str, Any]:
        """The repository object of the page header's hydration props ({} when absent)."""
        for raw in page.xpath(
            "//*[@data-target='ModelHeader' or @data-target='DatasetHeader'"
            " or @data-target='SpaceHeader']/@data-props"
        ):
            try:
                props = json.loads(raw)
            except ValueError:
                continue
            for key in ("model", "dataset", "space", "repo"):
                if isinstance(props.get(key), dict):
                    return dict(props[key])
        return {}

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title "owner/name", author the owner, numbers and license from the header."""
        repo = hf_repo(page.url)
        if repo is None:
            return {"site": self.site}
        kind, name = repo
        header = self.header(page)
        card_data = header.get("cardData")
        card: dict[str, Any] = card_data if isinstance(card_data, dict) else {}
        tags = [t for t in header.get("tags") or [] if isinstance(t, str)]
        license_ = card.get("license") or next(
            (t.split(":", 1)[1] for t in tags if t.startswith("license:")), None
        )
        extra = {
            "repo": name,
            "kind": kind,
            "owner": name.split("/")[0],
            "likes": header.get("likes"),
            "downloads": header.get("downloads"),
            "license": license_,
            "tags": [t for t in tags if ":" not in t][:30] or None,
        }
        return {
            "title": name,
            "author": header.get("author") or name.split("/")[0],
            "published": parse_date(header.get("createdAt"), None),
            "site": self.site,
            "description": page.meta("og:description", "description"),
            "extra": {key: value for key, value in extra.items() if value not in (None, [])},
        }

    def read(self, page: Page, body: Any) -> str:
        """The card; nothing for a page without one (a space shows its app, not its card)."""
        return super().read(page, body) if body is not None or not hf_repo(page.url) else ""

    def no_text(self, page: Page, result: Extracted) -> Extracted:
        """A space (or a card-less repository): its description is its text."""
        if result.description and hf_repo(page.url):
            result.text = result.description
            result.extra["layout"] = "description-only"
            result.status, result.reason = Status.ARCHIVED, None
            return result
        return super().no_text(page, result)
