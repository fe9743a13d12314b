"""`check`: each digest entry's summary against the extracted text of the sources it cites.

For every entry, the details of its title and summary (`crawler.archive.details`) are looked
up in the archived text (title, description and text) of every link the entry cites: `found`
(with where: which source, the place and a few words around it), `not found` (the sources
have text and none says it), or `no source text` (none of its links is archived with text).
Entries whose summary matches nothing in their sources come first: they are the summaries of
the wrong page (a script, a "please wait" page) or of nothing the source says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.archive import atomic, layout, records, summaries
from crawler.archive.details import Detail, Source, details
from crawler.archive.reader import read_quietly
from crawler.items import Check, Status

#: Characters of source text shown on each side of a found detail.
EXCERPT = 40


@dataclass
class SourceText:
    """One archived source of an entry: its link, article and the text looked in."""

    url: str
    link_id: str | None
    status: str
    article: str | None
    title: str | None
    source: Source | None  # None when there is no text

    def as_dict(self) -> dict[str, Any]:
        """The source as JSON (without its text)."""
        return {
            "url": self.url,
            "link_id": self.link_id,
            "status": self.status,
            "article": self.article,
            "title": self.title,
            "has_text": self.source is not None,
        }


@dataclass
class Finding:
    """One detail of an entry and what the check found of it."""

    part: str  # "title" or "summary": where in the entry the detail is
    detail: Detail
    verdict: Check
    where: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON."""
        return {
            "part": self.part,
            **self.detail.as_dict(),
            "verdict": str(self.verdict),
            "where": self.where,
        }


@dataclass
class EntryCheck:
    """An entry's summary checked against its sources."""

    digest: str
    digest_date: str | None
    position: int
    title: str
    summary: str
    sources: list[SourceText]
    findings: list[Finding]

    @property
    def found(self) -> int:
        """Details found in a source."""
        return sum(1 for f in self.findings if f.verdict == Check.FOUND)

    @property
    def checked(self) -> int:
        """Details looked up in some source text (found or not found)."""
        return sum(1 for f in self.findings if f.verdict != Check.NO_SOURCE_TEXT)

    @property
    def share(self) -> float | None:
        """Share of the checked details that were found (None when none could be checked)."""
        return self.found / self.checked if self.checked else None

    @property
    def matches_nothing(self) -> bool:
        """The sources have text, the summary has details, and not one is found."""
        return self.checked > 0 and self.found == 0

    def order(self) -> tuple[int, float, str, int]:
        """Report order: matches nothing first, then the lowest share, then no source text,
        then entries without checkable details; digest order within each."""
        share = self.share
        if self.matches_nothing:
            group = 0
        elif share is not None:
            group = 1
        elif self.findings:
            group = 2
        else:
            group = 3
        return group, share if share is not None else 0.0, self.digest, self.position

    def as_dict(self) -> dict[str, Any]:
        """The entry's check as JSON (one line of `check --json`)."""
        return {
            "digest": self.digest,
            "digest_date": self.digest_date,
            "entry": self.position,
            "entry_title": self.title,
            "summary": self.summary,
            "details": len(self.findings),
            "checked": self.checked,
            "found": self.found,
            "share": None if self.share is None else round(self.share, 4),
            "matches_nothing": self.matches_nothing,
            "sources": [s.as_dict() for s in self.sources],
            "findings": [f.as_dict() for f in self.findings],
        }


def _excerpt(text: str, start: int, end: int) -> str:
    """A few words around a place in a text, on one line."""
    left = max(0, start - EXCERPT)
    right = min(len(text), end + EXCERPT)
    piece = " ".join(text[left:right].split())
    return ("…" if left else "") + piece + ("…" if right < len(text) else "")


def source_text(article: dict[str, Any]) -> str:
    """The text a summary is checked against: title, author, account, description, text (one
    per line): a summary naming a paper's authors or an article's account is checked too."""
    extra = article.get("extra") if isinstance(article.get("extra"), dict) else {}
    parts = (
        article.get("title"),
        article.get("author"),
        (extra or {}).get("account"),
        article.get("description"),
        article.get("text"),
    )
    return "\n".join(p for p in parts if isinstance(p, str) and p.strip())


def check_entry(
    digest_id: str,
    digest_date: str | None,
    entry: dict[str, Any],
    summary: str,
    sources: list[SourceText],
) -> EntryCheck:
    """Look every detail of an entry's title and summary up in its sources' texts."""
    title = str(entry.get("title") or "")
    texts = [s for s in sources if s.source is not None]
    findings = []
    for where_in, text in (("title", title), ("summary", summary)):
        for detail in details(text):
            if not texts:
                findings.append(Finding(where_in, detail, Check.NO_SOURCE_TEXT))
                continue
            places = []
            for src in texts:
                assert src.source is not None
                place = src.source.find(detail)
                if place is not None:
                    start, end = place
                    places.append(
                        {
                            "url": src.url,
                            "article": src.article,
                            "start": start,
                            "end": end,
                            "excerpt": _excerpt(src.source.text, start, end),
                        }
                    )
            verdict = Check.FOUND if places else Check.NOT_FOUND
            findings.append(Finding(where_in, detail, verdict, places))
    return EntryCheck(
        digest_id,
        digest_date,
        int(entry.get("position", 0)),
        title,
        summary,
        sources,
        findings,
    )


class Checker:
    """Checks digests of one archive, reading each link and article record once."""

    def __init__(self, root: Path):
        self.root = root
        self._link = lru_cache(maxsize=8192)(self._read_link)
        self._source = lru_cache(maxsize=2048)(self._read_source)

    def _read_link(self, link_id: str) -> dict[str, Any] | None:
        return read_quietly(layout.link_path(self.root, link_id))

    def _read_source(self, article_id: str) -> tuple[str | None, Source | None]:
        article = read_quietly(layout.article_path(self.root, article_id))
        if article is None:
            return None, None
        text = source_text(article)
        return article.get("title"), (Source(text) if text.strip() else None)

    def sources(self, entry: dict[str, Any]) -> list[SourceText]:
        """Every link an entry cites, with the text of its article where there is one."""
        out = []
        for cited in entry.get("links", []):
            link_id = cited.get("link_id")
            link = self._link(link_id) if link_id else None
            article_id = link.get("article") if link else None
            title, source = self._source(article_id) if article_id else (None, None)
            status = link.get("status") if link else Status.MISSING if link_id else Status.INVALID
            out.append(
                SourceText(str(cited.get("url")), link_id, str(status), article_id, title, source)
            )
        return out

    def digest(self, record: dict[str, Any]) -> list[EntryCheck]:
        """Every entry of a digest record, checked (in digest order)."""
        texts = summaries.summaries(self.root, record)
        out = []
        for entry in record.get("entries", []):
            if not isinstance(entry, dict) or entry.get("position") == records.DIGEST_ENTRY:
                continue
            summary = texts.get(int(entry.get("position", 0)), "")
            out.append(
                check_entry(
                    str(record.get("id")),
                    record.get("date"),
                    entry,
                    summary,
                    self.sources(entry),
                )
            )
        return out


def digests(root: Path, ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    """The digest records to check: those named (ValueError for one the archive lacks), else
    all of them in id order."""
    if ids:
        for digest_id in ids:
            record = atomic.read_json(layout.digest_path(root, digest_id))
            if record is None:
                raise ValueError(f"archive {root} holds no digest {digest_id!r}")
            yield record
        return
    for path in sorted((root / layout.DIGESTS).glob("*.json")):
        if path.name.startswith("."):
            continue
        record = read_quietly(path)
        if record is not None:
            yield record


def check(root: Path, ids: Iterable[str] | None = None) -> list[EntryCheck]:
    """Every entry of the digests named (else of all), in report order."""
    checker = Checker(root)
    found = [result for record in digests(root, ids) for result in checker.digest(record)]
    return sorted(found, key=EntryCheck.order)


def totals(results: list[EntryCheck]) -> dict[str, Any]:
    """The figures of a check: entries, details by verdict, entries matching nothing."""
    verdicts = {str(v): 0 for v in Check}
    for result in results:
        for finding in result.findings:
            verdicts[str(finding.verdict)] += 1
    checked = verdicts[Check.FOUND] + verdicts[Check.NOT_FOUND]
    return {
        "entries": len(results),
        "entries_checked": sum(1 for r in results if r.checked),
        "entries_matching_nothing": sum(1 for r in results if r.matches_nothing),
        "entries_without_source_text": sum(1 for r in results if r.findings and not r.checked),
        "details": sum(verdicts.values()),
        **verdicts,
        "share_found": round(verdicts[Check.FOUND] / checked, 4) if checked else None,
    }
