"""Digest parsing: raw markdown bytes in, a `Digest` of entries and their cited links out.

The format (hangye, meiri, ribao, else generic) is detected from the content: each format
module reports the heading level of its entries and how many headings carry its signal, and
the strongest signal wins; the generic reader (`generic`) finds the repeating unit of any
other newsletter. Before that, a table of contents is recognised and taken out (`toc`); links
outside every entry (the digest's page, its intro, its video version, its credit line) are the
digest's own (`Digest.links`, role `digest`). `Digest.structure` says which rule found the
entries. Links come out finished: each has its canonical URL and link id (`crawler.urls`), or
the error that makes it unusable, and a note when the page is login-only. Pure module: no
Scrapy.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from crawler.digests import generic, hangye, meiri, ribao, toc
from crawler.digests.entries import Draft, Reading
from crawler.digests.inline import plain_text, url_note
from crawler.digests.scan import DigestError, Doc, decode, scan
from crawler.items import Digest, Link
from crawler.urls import InvalidURL, canonicalize, url_id

__all__ = ["DigestError", "digest_id", "digest_id_candidates", "parse_digest"]

_FORMATS = (("hangye", hangye), ("meiri", meiri), ("ribao", ribao))
_ID_JUNK = re.compile(r"[^\w.-]+")
_DOTS = re.compile(r"\.{2,}")
_TEXT_SUFFIX = re.compile(r"\.(?:md|markdown|txt)$", re.IGNORECASE)
_DATES = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<!\d)(\d{4})[-/._](\d{1,2})[-/._](\d{1,2})(?!\d)"),
)
#: Bytes of UTF-8 a digest id has at most: its file name, with a suffix (`digest_id_candidates`)
#: and `.json`, stays well within the 255 bytes a file name may have.
ID_BYTES = 200
_COMPACT_DATE = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


def parse_digest(data: bytes, source: str) -> Digest:
    """Parse a digest's raw bytes; `source` is the path or URL it came from."""
    doc = scan(decode(data, source))
    tocs = toc.find(doc)
    fmt, how, read = _read(doc)
    drafts = toc.fold(read.drafts, tocs)
    if not any(draft.links for draft in drafts):
        how, read = "blocks", generic.every_block(doc)  # no entries: the intro is all there is
        drafts = toc.fold(read.drafts, tocs)
    drafts = [draft for draft in drafts if draft.links]  # an entry that cites nothing
    outside = read.outside.links
    if not drafts and not outside:
        raise DigestError(f"{source}: not a markdown digest (no http(s) links)")
    entries = [draft.entry(pos) for pos, draft in enumerate(drafts, 1)]
    _finish_links([link for entry in entries for link in entry.links] + outside)
    return Digest(
        id=digest_id(source),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        title=_title(doc),
        date=_date(doc, source),
        entries=entries,
        links=outside,
        structure=_structure(how, drafts, read, tocs),
    )


def _finish_links(links: list[Link]) -> None:
    """Give every link its canonical URL and link id, or the error that makes it unusable."""
    done: dict[str, Link] = {}  # by URL as written: a digest often cites one URL twice
    for link in links:
        known = done.get(link.url)
        if known is not None:
            link.canonical_url, link.link_id = known.canonical_url, known.link_id
            link.error, link.note = known.error, known.note
            continue
        try:
            link.canonical_url = canonicalize(link.url)
        except InvalidURL as exc:
            link.error = f"invalid URL: {exc}"
        else:
            link.link_id = url_id(link.canonical_url)
            link.note = url_note(link.url)
        done[link.url] = link


def _read(doc: Doc) -> tuple[str, str, Reading]:
    """The detected format, how its entries were found (`headings:2`, `numbered`, `blocks`),
    and what the reading found."""
    best = ("generic", 0, 0)
    for name, module in _FORMATS:
        level, signal = module.level(doc)
        if signal > best[2]:
            best = (name, level, signal)
    name, level, _ = best
    if name != "generic":
        return name, f"headings:{level}", dict(_FORMATS)[name].parse(doc, level)
    levels = generic.numbered_levels(doc)
    if levels:
        return name, "numbered:" + ",".join(map(str, levels)), generic.parse(doc, 0, True)
    level = generic.level(doc)
    return name, f"headings:{level}" if level else "blocks", generic.parse(doc, level)


def _structure(how: str, drafts: list[Draft], read: Reading, tocs: list[toc.Toc]) -> str:
    """The `structure` note: a rule word (`headings`, `numbered-headings`, `items`, `blocks`),
    then how it applied, so that a person sees at once when a newsletter is misread."""
    rule, _, arg = how.partition(":")
    heads = sum(1 for d in drafts if d.origin == "heading")
    items = len(drafts) - heads
    lists = [name for name in read.lists if name]
    listed = sum(1 for d in drafts if d.origin != "heading" and d.section in lists)
    marks = {"numbered": "numbered heading", "headings": "heading"}
    kind = marks.get(rule, "")
    level = f" of level {arg} ({'#' * int(arg)})" if rule == "headings" else ""
    if rule == "numbered":
        level = f" (levels {arg.replace(',', ', ')})"
    if rule != "blocks" and len(lists) > heads:
        rule = "items"  # more headings hold lists of entries than are entries
    if rule == "numbered":
        rule = "numbered-headings"
    if rule == "blocks":
        parts = ["no entry headings: one entry per linked paragraph or list item"]
    elif rule == "items":
        parts = [f"entries are {_count(items, 'list item')} or paragraphs under headings"]
        if heads:
            more = _count(heads, f"more entry is a {kind}", f"more entries are {kind}s")
            parts.append(more + level)
    else:
        parts = [f"entries are {_count(heads, kind)}{level}"]
        if items > listed:
            under = [d.section for d in drafts if d.origin != "heading" and d.section not in lists]
            shown = [name for name in dict.fromkeys(under) if name]
            where = f" (under {_names(shown)})" if shown else ""
            more = _count(items - listed, "more entry", "more entries")
            parts.append(f"{more} {_are(items - listed)} list items or paragraphs{where}")
    if lists:
        dated = sum(map(generic.is_date, lists)) * 2 > len(lists)
        holders = _count(len(lists), "date section" if dated else "heading")
        hold = "holds" if len(lists) == 1 else "hold"
        entries = _count(listed, "entry", "entries")
        parts.append(f"{holders} {hold} one entry per item: {_names(lists)} ({entries})")
    for found in tocs[:_TOCS_SHOWN]:
        where = f"under {found.heading}" if found.heading else "in the intro"
        parts.append(
            f"a table of contents {where} ({_count(found.count, 'item')}) is not counted: "
            "its links go to the entries it lists"
        )
    if len(tocs) > _TOCS_SHOWN:
        parts.append(f"{_count(len(tocs) - _TOCS_SHOWN, 'more table', 'more tables')} of contents")
    outside = len(read.outside.links)
    if outside:
        parts.append(f"{_count(outside, 'link')} outside every entry {_are(outside)} the digest's")
    return f"{rule}: " + "; ".join(parts)


_TOCS_SHOWN = 3


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _count(n: int, one: str, many: str = "") -> str:
    """`1 heading`, `3 headings`."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _names(names: list[str]) -> str:
    """The first three of some headings, for a note."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _title(doc: Doc) -> str | None:
    """Front matter `title:`, else the title heading."""
    title = plain_text(doc.meta.get("title", ""))
    if not title and doc.title_line is not None:
        title = plain_text(doc.title_line.content)
    return title or None


def _date(doc: Doc, source: str) -> str | None:
    """From the title heading, else front matter `date:`, else the file name."""
    candidates = (
        doc.title_line.content if doc.title_line else "",
        doc.meta.get("date", ""),
    )
    for text in candidates:
        found = _find_date(text)
        if found:
            return found
    return _find_date(_name(source), compact=True)


def _find_date(text: str, *, compact: bool = False) -> str | None:
    """The first valid date in text as ISO `YYYY-MM-DD` (`20260205` too when compact)."""
    patterns = (*_DATES, _COMPACT_DATE) if compact else _DATES
    for pattern in patterns:
        for m in pattern.finditer(text):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                continue
    return None


def _name(source: str) -> str:
    """The last path segment of a path or URL."""
    if source.lower().startswith(("http://", "https://")):
        with contextlib.suppress(ValueError):
            source = urlsplit(source).path
    return source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def digest_id(source: str) -> str:
    """A stable id, safe as a file name: the file stem, or host + path (+ query) of a URL."""
    name = ""
    if source.lower().startswith(("http://", "https://")):
        try:
            parts = urlsplit(source)
            name = (parts.hostname or "") + _TEXT_SUFFIX.sub("", parts.path)
            name += f"?{parts.query}" if parts.query else ""
        except ValueError:
            name = source.split("://", 1)[1]
    else:
        name = PurePosixPath(source.replace("\\", "/")).stem if source else ""
    name = _ID_JUNK.sub("-", unicodedata.normalize("NFKC", name).lower())
    name = _DOTS.sub(".", name).lstrip(".-")[:80]
    while len(name.encode("utf-8", "surrogatepass")) > ID_BYTES:  # 80 汉字 are 240 bytes
        name = name[:-1]
    name = name.rstrip(".-")
    return name or hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def digest_id_candidates(source: str, first: str | None = None) -> Iterator[str]:
    """The ids a digest from `source` may take, in order: `digest_id(source)` (or `first`),
    then that id with a suffix of 8 hex digits of the source's sha256, then with `-2`, `-3` ...

    The archive takes the first one no other source holds (`Archive.assign_digest_id`): the
    same file name in two folders, or names alike in their first 80 characters, each keep a
    digest of their own.
    """
    base = first or digest_id(source)
    yield base
    tag = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    yield f"{base}-{tag}"
    for n in range(2, 10_000):
        yield f"{base}-{tag}-{n}"
