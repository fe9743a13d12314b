"""Tables of contents: an overview that repeats the digest's entries is not more entries.

A newsletter often opens with an overview (`## 概览`, 目录, Contents), a list that repeats each
entry's title, often with an arrow link to its source (`- title [↗](url) #n`), sometimes under
category subheadings. `find` recognises it before the entries are read and takes its lines out
of the reading; `fold` gives its links back to the entries it lists (a URL an entry cites
already is not counted twice), or makes an entry of an item that no entry repeats, so nothing
it cites is lost.

A list counts as a table of contents when at least two of its linked items repeat something
later in the digest: every URL they cite, or the title of a later heading; and either the
heading says so (概览, 目录), or the items' links are arrows of symbols (↗, 🔗), or at least
half of them repeat a later heading's title. An editor's-picks list that re-cites entries under
other titles is not one: its items stay entries of their own.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from crawler.digests.entries import Draft, block_title, heading_text, title_key
from crawler.digests.inline import RawLink
from crawler.digests.scan import Doc, Line, LineKind, blocks
from crawler.digests.words import is_arrow, is_toc_heading
from crawler.items import Role

_MIN_ITEMS = 2
_SHARE = 0.6  # of the linked items that must repeat something later


@dataclass
class TocItem:
    """One linked item of a table of contents."""

    line: int  # its line number
    title: str
    key: str
    links: list[RawLink]


@dataclass
class Toc:
    """A table of contents found and taken out of the reading."""

    heading: str | None  # the heading it stands under; None in the digest's intro
    items: list[TocItem] = field(default_factory=list)  # its linked items
    count: int = 0  # every item it lists, linked or not


def find(doc: Doc) -> list[Toc]:
    """Find the tables of contents of a digest and take their lines out of the reading."""
    last_url: dict[str, int] = {}  # URL -> the last line citing it
    heads: list[tuple[int, Line]] = []  # (index in doc.lines, heading)
    for k, line in enumerate(doc.lines):
        for raw in line.links:
            last_url[raw.url] = line.no
        if line.kind == LineKind.HEADING:
            heads.append((k, line))
    if len(last_url) < _MIN_ITEMS:
        return []
    masthead = {id(h) for h in doc.masthead}
    finder = _Finder(last_url, [h for _, h in heads if id(h) not in masthead])
    found: list[Toc] = []
    hidden: list[Line] = []
    ends = _subtree_ends(doc.lines, heads)
    skip_to = -1
    for n, (k, head) in enumerate(heads):
        if k < skip_to:
            continue
        own_end = heads[n + 1][0] if n + 1 < len(heads) else len(doc.lines)
        mast = id(head) in masthead
        if not mast and ends[n] > own_end:  # a heading with subheadings: its whole subtree
            toc = finder.judge(doc.lines[k + 1 : ends[n]], head)
            if toc is not None:
                hidden += toc_lines(doc.lines[k + 1 : ends[n]])
                found.append(toc)
                skip_to = ends[n]
                continue
        toc = finder.judge(doc.lines[k + 1 : own_end], None if mast else head)
        if toc is not None:
            hidden += toc_lines(doc.lines[k + 1 : own_end])
            found.append(toc)
    if hidden:
        doc.hide(hidden)  # once: the sections are cut again after it
    return found


def toc_lines(lines: list[Line]) -> list[Line]:
    """The lines a table of contents takes out: its list items and subheadings (the heading it
    stands under stays, with any other text it holds)."""
    out = [ln for ln in lines if ln.kind == LineKind.HEADING]
    for block in blocks(lines):
        if block[0].item:
            out += block
    return out


class _Finder:
    """Judges regions of one digest: is this list a table of contents?"""

    def __init__(self, last_url: dict[str, int], heads: list[Line]) -> None:
        self.last_url, self.heads = last_url, heads
        self.head_lines = [h.no for h in heads]
        self._last_title: dict[str, int] | None = None

    @property
    def last_title(self) -> dict[str, int]:
        """Heading title key -> the last heading with that title (read once, when asked)."""
        if self._last_title is None:
            self._last_title = {}
            for head in self.heads:
                tk = title_key(heading_text(head) or "")
                if tk:
                    self._last_title[tk] = head.no
        return self._last_title

    def judge(self, lines: list[Line], head: Line | None) -> Toc | None:
        """The table of contents these lines (under `head`) hold, or None."""
        if not lines or sum(len(ln.links) for ln in lines) < _MIN_ITEMS:
            return None
        end = lines[-1].no
        later_heads = len(self.head_lines) - bisect.bisect_right(self.head_lines, end)
        if later_heads < _MIN_ITEMS and not _repeated(lines, self.last_url, end):
            return None  # nothing it could be the contents of
        if not any(ln.item for ln in lines):
            return None
        items = [b for b in blocks(lines) if b[0].item and b[0].kind == LineKind.TEXT]
        linked = [(b, [raw for ln in b for raw in ln.links]) for b in items]
        linked = [(b, raws) for b, raws in linked if raws]
        if len(linked) < _MIN_ITEMS:
            return None
        heading = heading_text(head) if head is not None else None
        said = heading is not None and is_toc_heading(heading)
        arrows = sum(all(is_arrow(raw.text) for raw in raws) for _, raws in linked)
        if not said and arrows * 2 < len(linked) and later_heads * 2 < len(linked):
            return None  # no sign of a table of contents: titles are not even worth reading
        toc = Toc(heading, count=len(items))
        repeat = titled = 0
        for block, raws in linked:
            title = block_title(block)
            tk = title_key(title)
            by_title = bool(tk) and self.last_title.get(tk, 0) > end
            by_url = all(self.last_url.get(raw.url, 0) > end for raw in raws)
            repeat += by_url or by_title
            titled += by_title
            toc.items.append(TocItem(block[0].no, title, tk, raws))
        if repeat >= len(linked) * _SHARE and (
            said or arrows * 2 >= len(linked) or titled * 2 >= len(linked)
        ):
            return toc
        return None


def _repeated(lines: list[Line], last_url: dict[str, int], end: int) -> bool:
    """True when at least two links of these lines are cited again after them."""
    found = 0
    for line in lines:
        for raw in line.links:
            found += last_url.get(raw.url, 0) > end
            if found >= _MIN_ITEMS:
                return True
    return False


def _subtree_ends(lines: list[Line], heads: list[tuple[int, Line]]) -> list[int]:
    """For each heading, the index of the line after its subtree (the next heading as shallow)."""
    ends = [len(lines)] * len(heads)
    stack: list[int] = []
    for n, (k, head) in enumerate(heads):
        while stack and heads[stack[-1]][1].level >= head.level:
            ends[stack.pop()] = k
        stack.append(n)
    return ends


def fold(drafts: list[Draft], tocs: list[Toc]) -> list[Draft]:
    """Give each table-of-contents link to the entry its item lists; an item no entry repeats
    becomes an entry of its own, where the table stood."""
    if not tocs:
        return drafts
    by_url: dict[str, Draft] = {}
    by_title: dict[str, Draft] = {}
    for draft in drafts:
        for link in draft.links:
            by_url.setdefault(link.url, draft)
        by_title.setdefault(title_key(draft.title), draft)
    extra: list[Draft] = []
    for toc in tocs:
        for item in toc.items:
            target = next((by_url[r.url] for r in item.links if r.url in by_url), None)
            if target is None and item.key:
                target = by_title.get(item.key)
            if target is None:
                draft = Draft(item.title, toc.heading, line=item.line)
                draft.add_first_source(item.links)
                extra.append(draft)
                continue
            for raw in item.links:
                target.add(raw, Role.RELATED)  # a URL the entry cites keeps its role
            target.promote_first()
    if not extra:
        return drafts
    return sorted([*drafts, *extra], key=lambda d: d.line)
