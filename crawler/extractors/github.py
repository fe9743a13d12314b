"""GitHub: repository pages (the README as text; owner, description, stars, primary language,
latest commit in `extra`), release pages (the notes; tag, date, who published it) and wiki
pages. Numbers GitHub renders in the page's markup first, else in its embedded React data."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from crawler.extractors.base import Extractor
from crawler.extractors.dates import parse_date
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


_RELEASE = re.compile(r"^/[^/]+/[^/]+/releases/tag/(?P<tag>[^/?#]+)")
_WIKI = re.compile(r"^/[^/]+/[^/]+/wiki(?:/|$)")
_COUNT = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[kKmM]?)$")


def count(value: str | None) -> int | None:
    """A GitHub count as a number: "12,345" -> 12345, "1.2k" -> 1200 (None when unreadable)."""
    match = _COUNT.match((value or "").replace(",", "").strip())
    if not match:
        return None
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match["unit"].lower()]
    return int(float(match["n"]) * scale)


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
        """Title "owner/repo", author the owner, description without GitHub's boilerplate;
        releases and wiki pages titled as GitHub heads them."""
        path = urlsplit(page.url).path
        repo = repo_of(page.url)
        if repo and (release := _RELEASE.match(path)):
            return self.release(page, repo, release["tag"])
        if repo and _WIKI.match(path):
            return self.wiki(page, repo)
        repo = repo if len(path.strip("/").split("/")) == 2 else None
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
            owner = repo.split("/")[0]
            extra = {"repo": repo, "owner": owner, "kind": "repo", **self.numbers(page)}
            fields.update(title=repo, author=owner, extra=extra)
        return fields

    def numbers(self, page: Page) -> dict[str, Any]:
        """Stars, primary language and latest commit of a repository page (those it shows)."""
        found: dict[str, Any] = {}
        stars = count(
            page.first('//*[@id="repo-stars-counter-star"]/@title')
            or page.first('//*[@id="repo-stars-counter-star"]')
        )
        if stars is None and (match := re.search(r'"stargazerCount":(\d+)', page.scripts)):
            stars = int(match.group(1))
        if stars is not None:
            found["stars"] = stars
        language = page.first(
            '(//*[@itemprop="programmingLanguage"])[1]',
            "(//h2[normalize-space()='Languages']/following-sibling::ul[1]"
            "//span[contains(@class, 'text-bold')])[1]",
        )
        if not language and (
            match := re.search(r'"primaryLanguage":\{[^}]*?"name":"([^"]+)"', page.scripts)
        ):
            language = match.group(1)
        if language:
            found["language"] = language
        latest = page.first(
            "(//*[contains(@data-testid, 'latest-commit')]//relative-time/@datetime)[1]"
        )
        if not latest and (match := re.search(r'"committedDate":"([^"]+)"', page.scripts)):
            latest = match.group(1)
        if latest and (date := parse_date(latest, None)):
            found["latest_commit"] = date
        return found

    def release(self, page: Page, repo: str, tag: str) -> dict[str, Any]:
        """A release page: its name, date, publisher and tag."""
        title = page.first(f"//h1[{has_class('d-inline')}]", "//h1") or page.meta("og:title")
        title = re.sub(rf"\s*·\s*{re.escape(repo)}\s*$", "", title or "").removeprefix("Release ")
        author = page.first(
            f"//a[{has_class('author')}]",
            "(//*[contains(@class, 'Box-body')]//a[@data-hovercard-type='user'])[1]",
        )
        return {
            "title": title or tag,
            "author": author or repo.split("/")[0],
            "published": parse_date(page.first("(//relative-time/@datetime)[1]"), None),
            "site": self.site,
            "extra": {"repo": repo, "owner": repo.split("/")[0], "kind": "release", "tag": tag},
        }

    def wiki(self, page: Page, repo: str) -> dict[str, Any]:
        """A wiki page: its heading, last edit date, the repository as author."""
        title = page.first(f"//h1[{has_class('gh-header-title')}]") or page.meta("og:title") or ""
        title = re.sub(rf"\s*·\s*{re.escape(repo)}\s+Wiki\s*$", "", title)
        return {
            "title": title or None,
            "author": repo.split("/")[0],
            "published": parse_date(
                page.first(f"(//*[{has_class('gh-header-meta')}]//relative-time/@datetime)[1]"),
                None,
            ),
            "site": self.site,
            "extra": {"repo": repo, "owner": repo.split("/")[0], "kind": "wiki"},
        }
