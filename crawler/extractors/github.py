"""GitHub repository pages: the README as text, the repository description as description."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from crawler.extractors.base import Extractor
from crawler.extractors.page import Page, has_class

_SUFFIXES = (
    re.compile(
        r"\s*Contribute to [\w.\-]+/[\w.\-]+ development by creating an account on GitHub\.?$"
    ),
    re.compile(r"\s+-\s+[\w.\-]+/[\w.\-]+$"),
)
_NOT_REPOS = {
    "orgs",
    "topics",
    "search",
    "marketplace",
    "settings",
    "login",
    "features",
    "about",
    "sponsors",
    "collections",
    "trending",
    "explore",
    "notifications",
    "pricing",
}


def repo_of(url: str) -> str | None:
    """The "owner/repo" of a github.com URL, else None."""
    try:
        parts = [p for p in urlsplit(url).path.split("/") if p]
    except ValueError:
        return None
    if len(parts) < 2 or parts[0] in _NOT_REPOS:
        return None
    return f"{parts[0]}/{parts[1].removesuffix('.git')}"


class GithubExtractor(Extractor):
    """github.com: repository READMEs; other pages (issues, blobs) get the generic treatment."""

    name: ClassVar[str] = "github"
    domains: ClassVar[tuple[str, ...]] = ("github.com",)
    site: ClassVar[str | None] = "GitHub"
    container: ClassVar[tuple[str, ...]] = (
        f"//article[{has_class('markdown-body')}]",
        f"//*[@id='readme']//*[{has_class('markdown-body')}]",
        f"//*[{has_class('markdown-body')}]",
    )
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        f"//*[{has_class('anchor')} or {has_class('octicon')}]",
    )
    favor_recall: ClassVar[bool] = True
    guess_date: ClassVar[bool] = False  # a repository has no publication date

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title "owner/repo", author the owner, description without GitHub's boilerplate."""
        repo = (
            repo_of(page.url) if len(urlsplit(page.url).path.strip("/").split("/")) == 2 else None
        )
        description = None
        if repo:  # og:title is "GitHub - owner/repo: description"
            title = page.meta("og:title") or page.first("//title") or ""
            head, _, tail = title.partition(f"{repo}: ")
            description = tail.strip() if head.strip() in ("GitHub -", "") and tail else None
        if not description:
            description = page.meta("description", "og:description")
            for suffix in _SUFFIXES:
                description = suffix.sub("", description or "").strip()
        fields: dict[str, Any] = {"description": description or None, "site": self.site}
        if repo:
            fields.update(title=repo, author=repo.split("/")[0], extra={"repo": repo})
        return fields
