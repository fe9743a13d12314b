"""What the reader's pages show, read from the archive's files: no Flask here, only data.

Each function takes the archive root and returns plain dicts for a template. Records are read
as they are on disk at that moment (a crawl may be writing: a record is the old one or the new
one, never half of one; a record that went between listing and reading is left out).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from crawler.archive import layout, records
from crawler.archive.check import Checker, EntryCheck
from crawler.archive.reader import read_quietly
from crawler.items import Check, Status

#: Badge words and their meaning, for the page's legend.
BADGES = {
    Status.ARCHIVED: "archived: the page and its text are stored",
    Status.GONE: "gone: the site said the page is not there (404/410, deleted, violation)",
    Status.BLOCKED: "blocked: a verification page or a rate limit; tried again later",
    Status.FAILED: "failed: a network or server error; tried again later",
    Status.PENDING: "pending: cited, not fetched yet",
    Status.SKIPPED: "skipped: too large, never fetched",
    Status.REFUSED: "refused: robots.txt or a private address",
    Status.INVALID: "invalid: the URL cannot be used",
    Status.MISSING: "missing: the link record is missing from the archive",
}
_PARAGRAPH = re.compile(r"\n+")


@dataclass
class Badge:
    """A link's status as the reader shows it: the word, a date, the reason."""

    status: str
    since: str | None
    reason: str | None

    @property
    def label(self) -> str:
        """`archived`, `gone since 2026-03-02`, `failed`."""
        if self.status == Status.GONE and self.since:
            return f"gone since {self.since[:10]}"
        return self.status


def badge(link: dict[str, Any] | None, cited: dict[str, Any] | None = None) -> Badge:
    """The badge of a link record (None: invalid URL or missing record)."""
    if link is None:
        if cited is not None and not cited.get("link_id"):
            return Badge(Status.INVALID, None, cited.get("error"))
        return Badge(Status.MISSING, None, "link record missing")
    status = str(link.get("status"))
    since = link.get("gone_since")
    if link.get("alive") is False and since:  # seen gone by a re-check (observations)
        status = Status.GONE
    if status == Status.GONE and not since:
        since = (link.get("fetch") or {}).get("fetched_at") or link.get("last_attempt")
    return Badge(status, since if isinstance(since, str) else None, link.get("reason"))


def marked(text: str, spans: list[tuple[int, int, str, str]]) -> Markup:
    """`text` escaped, with each (start, end, css class, title) span in a <mark>; spans that
    overlap an earlier one are left out. Newlines become paragraph breaks."""
    out: list[str] = []
    at = 0
    for start, end, css, title in sorted(spans):
        if start < at or end <= start or end > len(text):
            continue
        out.append(html.escape(text[at:start]))
        out.append(
            f'<mark class="{html.escape(css)}" title="{html.escape(title)}">'
            f"{html.escape(text[start:end])}</mark>"
        )
        at = end
    out.append(html.escape(text[at:]))
    joined = "".join(out).strip()
    return Markup("<p>" + _PARAGRAPH.sub("</p><p>", joined) + "</p>") if joined else Markup("")


_CSS = {Check.FOUND: "found", Check.NOT_FOUND: "notfound", Check.NO_SOURCE_TEXT: "nosource"}


def _entry_marks(result: EntryCheck, part: str) -> list[tuple[int, int, str, str]]:
    spans = []
    for finding in result.findings:
        if finding.part != part:
            continue
        d = finding.detail
        title = str(finding.verdict)
        if finding.where:
            title += ": " + " | ".join(str(w["excerpt"]) for w in finding.where[:2])
        spans.append((d.start, d.end, _CSS[finding.verdict], title))
    return spans


def _source_marks(result: EntryCheck, url: str) -> list[tuple[int, int, str, str]]:
    spans = []
    for finding in result.findings:
        for where in finding.where:
            if where["url"] == url:
                spans.append((where["start"], where["end"], "found", finding.detail.text))
    return spans


def digest_list(index: Any, page: int, per_page: int = 100) -> dict[str, Any]:
    """Digests by date (newest first) with their links' statuses, from the search index."""
    rows, total = index.digests(limit=per_page, offset=(page - 1) * per_page)
    counts = index.status_counts([r["id"] for r in rows])
    days: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["statuses"] = counts.get(row["id"], {})
        days.setdefault(row["day"] or "undated", []).append(row)
    return {
        "days": list(days.items()),
        "total": total,
        "page": page,
        "pages": max(1, -(-total // per_page)),
    }


def digest_page(root: Path, digest_id: str) -> dict[str, Any] | None:
    """A digest's entries: each with its summary checked and its sources beside it."""
    record = read_quietly(layout.digest_path(root, digest_id))
    if record is None:
        return None
    checker = Checker(root)
    results = {r.position: r for r in checker.digest(record)}
    entries: list[dict[str, Any]] = []
    for entry in records.citing_entries(record):
        position = int(entry.get("position", 0))
        result = results.get(position)
        sources = []
        for k, cited in enumerate(entry.get("links", [])):
            link_id = cited.get("link_id")
            link = read_quietly(layout.link_path(root, link_id)) if link_id else None
            article_id = link.get("article") if link else None
            article = read_quietly(layout.article_path(root, article_id)) if article_id else None
            src = result.sources[k] if result is not None and k < len(result.sources) else None
            text = src.source.text if src is not None and src.source is not None else ""
            sources.append(
                {
                    "cited": cited,
                    "link_id": link_id,
                    "link": link,
                    "badge": badge(link, cited),
                    "article_id": article_id if article else None,
                    "article": article,
                    "account": ((article or {}).get("extra") or {}).get("account"),
                    "text": marked(text, _source_marks(result, str(cited.get("url"))))
                    if result is not None and text
                    else None,
                    "chars": len(text),
                }
            )
        entries.append(
            {
                "position": position,
                "entry": entry,
                "check": result,
                "title": marked(str(entry.get("title") or ""), _entry_marks(result, "title"))
                if result
                else None,
                "summary": marked(result.summary, _entry_marks(result, "summary"))
                if result
                else None,
                "sources": sources,
            }
        )
    ordered = sorted(entries, key=lambda e: (e["position"] == records.DIGEST_ENTRY, e["position"]))
    checked: list[EntryCheck] = list(results.values())
    nothing = [
        e for e in ordered if results.get(e["position"]) and results[e["position"]].matches_nothing
    ]
    return {
        "digest": record,
        "entries": ordered,
        "matching_nothing": nothing,
        "found": sum(c.found for c in checked),
        "checked": sum(c.checked for c in checked),
    }


def citing(root: Path, link_ids: list[str]) -> list[dict[str, Any]]:
    """Every digest entry citing any of the links: digest, date, entry, title, role."""
    rows = []
    for link_id in link_ids:
        link = read_quietly(layout.link_path(root, link_id))
        for cite in (link or {}).get("cited_by", []):
            digest = (
                read_quietly(layout.digest_path(root, cite["digest"]))
                if cite.get("digest")
                else None
            )
            entry = next(
                (
                    e
                    for e in records.citing_entries(digest or {})
                    if e.get("position") == cite.get("entry")
                ),
                None,
            )
            rows.append(
                {
                    **cite,
                    "link_id": link_id,
                    "digest_date": (digest or {}).get("date"),
                    "digest_title": (digest or {}).get("title"),
                    "entry_title": (entry or {}).get("title"),
                }
            )
    return sorted(rows, key=lambda r: (str(r.get("digest_date") or ""), r["digest"], r["entry"]))


def article_page(root: Path, article_id: str) -> dict[str, Any] | None:
    """An article: its metadata, text, every entry that cited it, its links' badges."""
    article = read_quietly(layout.article_path(root, article_id))
    if article is None:
        return None
    links = []
    for link_id in article.get("links", []):
        link = read_quietly(layout.link_path(root, link_id))
        links.append({"id": link_id, "link": link, "badge": badge(link)})
    text = str(article.get("text") or "")
    return {
        "article": article,
        "account": (article.get("extra") or {}).get("account"),
        "links": links,
        "citing": citing(root, list(article.get("links", []))),
        "text": marked(text, []),
        "images": [
            url
            for url, att in (article.get("attachments") or {}).items()
            if isinstance(att, dict) and att.get("status") == Status.ARCHIVED
        ],
    }


def link_page(root: Path, link_id: str) -> dict[str, Any] | None:
    """A link: its status and reason, what was served, every entry that cited it."""
    link = read_quietly(layout.link_path(root, link_id))
    if link is None:
        return None
    article_id = link.get("article")
    return {
        "link": link,
        "badge": badge(link),
        "article_id": article_id
        if article_id and read_quietly(layout.article_path(root, article_id))
        else None,
        "citing": citing(root, [link_id]),
        "observations": [o for o in link.get("observations") or [] if isinstance(o, dict)],
    }


def runs_page(root: Path, limit: int = 60) -> dict[str, Any]:
    """Run reports night by night (newest first), with each run's outcomes per site."""
    folder = root / layout.RUNS
    names = sorted(
        (p.name for p in folder.glob("*.json") if not p.name.startswith(".")), reverse=True
    )[:limit]
    runs = []
    sites: dict[str, dict[str, dict[str, int]]] = {}
    nights: list[str] = []
    for name in names:
        report = read_quietly(folder / name)
        if not isinstance(report, dict):
            continue
        night = str(report.get("started") or "")[:10] or "?"
        runs.append({"name": name.removesuffix(".json"), "report": report, "night": night})
        if report.get("command", records.CRAWL) != records.CRAWL:
            continue
        if night not in nights:
            nights.append(night)
        for host, counts in (report.get("sites") or {}).items():
            cell = sites.setdefault(host, {}).setdefault(night, {})
            for status, n in (counts or {}).items():
                if isinstance(n, int):
                    cell[status] = cell.get(status, 0) + n
    busiest = sorted(sites, key=lambda h: -sum(sum(c.values()) for c in sites[h].values()))
    return {
        "runs": runs,
        "nights": nights[:14],
        "sites": [(h, sites[h]) for h in busiest[:40]],
        "outcomes": [
            str(s)
            for s in (
                Status.ARCHIVED,
                Status.GONE,
                Status.BLOCKED,
                Status.FAILED,
                Status.SKIPPED,
                Status.REFUSED,
            )
        ],
    }
