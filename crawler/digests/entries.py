"""From blocks to entry drafts: `Draft`, the `Rules` a format overrides, `walk`, `entry_level`.

The labelled fields (来源, 分类, 链接) live here too: they decide which links are an entry's
sources.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from crawler.digests.inline import RawLink, plain_text
from crawler.digests.scan import Doc, Line, LineKind, Section, blocks
from crawler.items import Entry, Link, Role


def lead_link(line: Line) -> RawLink | None:
    """The line's first link when nothing but emphasis comes before it."""
    if not line.links:
        return None
    first = line.links[0]
    return first if not line.content[: first.start].strip(" *_~\t") else None


def is_quick_list(lines: list[Line], minimum: int) -> bool:
    """True when the linked blocks are at least `minimum` list items that each open with a link."""
    linked = [b for b in blocks(lines) if any(ln.links for ln in b)]
    return len(linked) >= minimum and all(b[0].item and lead_link(b[0]) for b in linked)


_BOLD_LEAD = re.compile(r"^(\*\*|__)(.+?)\1")
_EMPTY_PAIRS = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】|「\s*」|“\s*”|\"\s*\"|'\s*'")
_TRAILING = " ：:，,。.；;、|-—"
_SPACES = re.compile(r"\s+")


def block_title(block: list[Line]) -> str:
    """Title of a list item or paragraph: its leading link's text, bold lead, or its text."""
    first = block[0]
    lead = lead_link(first)
    if lead and lead.text:
        return lead.text
    bold = _BOLD_LEAD.match(first.content)
    if bold:
        text = plain_text(bold.group(2)).strip(_TRAILING)
        if text:
            return text
    text = _EMPTY_PAIRS.sub("", plain_text(first.content, urls=False))  # where bare URLs were
    text = _SPACES.sub(" ", text).strip(_TRAILING)
    return text if len(text) <= 120 else text[:120].rstrip() + "…"


def heading_text(line: Line) -> str | None:
    """Plain text of a heading, None when empty."""
    return plain_text(line.content) or None


# --- entry drafts ---------------------------------------------------------------------------


@dataclass
class Draft:
    """An entry being built; links are unique by URL and `source` wins over `related`."""

    title: str
    section: str | None = None
    labels: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # grown through add() only
    _by_url: dict[str, Link] = field(default_factory=dict, init=False, repr=False, compare=False)

    def add(self, raw: RawLink, role: Role, text: str | None = None) -> None:
        """Add a link, or upgrade the role and text of the same URL already there."""
        text = raw.text if text is None else text
        link = self._by_url.get(raw.url)
        if link is None:
            link = self._by_url[raw.url] = Link(url=raw.url, role=role, text=text)
            self.links.append(link)
            return
        if role == Role.SOURCE:
            link.role = Role.SOURCE
        link.text = link.text or text

    def add_first_source(self, raws: Iterable[RawLink]) -> None:
        """Add links: the first as source, the rest as related."""
        for k, raw in enumerate(raws):
            self.add(raw, Role.SOURCE if k == 0 else Role.RELATED)

    def promote_first(self) -> None:
        """Make the first link the source when the entry names none."""
        if self.links and all(link.role != Role.SOURCE for link in self.links):
            self.links[0].role = Role.SOURCE

    def entry(self, position: int) -> Entry:
        """The finished entry."""
        title = self.title or next((lk.text or lk.url for lk in self.links), "")
        labels = list(dict.fromkeys(label for label in self.labels if label))
        return Entry(position, title, self.section, labels, self.links)


def block_drafts(lines: Iterable[Line], section: str | None) -> list[Draft]:
    """One entry per linked block: its first link is the source, the others related."""
    drafts: list[Draft] = []
    for block in blocks(lines):
        raws = [raw for line in block for raw in line.links]
        if raws:
            draft = Draft(block_title(block), section)
            draft.add_first_source(raws)
            drafts.append(draft)
    return drafts


# --- labelled fields: 来源 / 分类 / 链接 -------------------------------------------------------

_FIELD = re.compile(
    r"^(?:\*\*|__)?[ \t]*(来源|出处|分类|原文链接|原文|链接)[ \t]*(?:\*\*|__)?"
    r"[ \t]*[:：][ \t]*(?:\*\*|__)?"
)
_LABEL_SPLIT = re.compile(r"[、，,;；]")
_ITEM_LABEL = re.compile(r"^(?:\*\*|__)(.+?)(?:\*\*|__)[ \t]*[:：]")
SOURCE_FIELDS = frozenset({"来源", "出处"})
LINK_FIELDS = frozenset({"链接", "原文", "原文链接"})


def labelled_field(line: Line) -> tuple[str, int] | None:
    """`(name, offset of the value in content)` for a `**来源：**`-style field line."""
    if line.kind != LineKind.TEXT:
        return None
    m = _FIELD.match(line.content)
    return (m.group(1), m.end()) if m else None


def field_value(line: Line, offset: int) -> str:
    """The plain value of a field, up to the next `|` or bold field."""
    value = re.split(r"\s\|\s|\|\s*\*\*|\s\*\*", line.content[offset:], maxsplit=1)[0]
    return plain_text(value)


def field_links(line: Line, names: frozenset[str]) -> list[RawLink]:
    """The links after the marker of a field named in `names`, else []."""
    found = labelled_field(line)
    if found is None or found[0] not in names:
        return []
    return [raw for raw in line.links if raw.start >= found[1]]


def has_source_field(sec: Section) -> bool:
    """True when the section has a 来源 or 链接 field that carries a link."""
    return any(field_links(line, SOURCE_FIELDS | LINK_FIELDS) for line in sec.lines)


class Rules:
    """How a format turns heading sections into entries; subclasses override the differences."""

    quick_min = 2  # link-led list items that make an entry-level heading a quick-news section
    promote = True  # an entry with no named source takes its first link as the source

    def is_entry(self, sec: Section) -> bool:
        """Whether an entry-level heading starts one entry (else its items are entries)."""
        assert sec.heading is not None
        return (
            bool(sec.heading.links)
            or has_source_field(sec)
            or not is_quick_list(sec.lines, self.quick_min)
        )

    def title(self, heading: Line) -> str:
        """The entry title from its heading."""
        return plain_text(heading.content)

    def open_entry(self, heading: Line, section: str | None) -> Draft:
        """A new entry from its heading; the heading's first link is a source."""
        draft = Draft(self.title(heading), section)
        draft.add_first_source(heading.links)
        return draft

    def add_line(self, draft: Draft, line: Line) -> None:
        """Add a body line: 分类 sets the section, 来源 and 链接 give sources, the rest related."""
        found = labelled_field(line)
        name, offset = found if found else ("", 0)
        if name == "分类":
            draft.section = field_value(line, offset) or draft.section
        elif name in SOURCE_FIELDS:
            after = [raw for raw in line.links if raw.start >= offset]
            draft.labels += [raw.text for raw in after] or [
                label
                for label in map(plain_text, _LABEL_SPLIT.split(field_value(line, offset)))
                if label
            ]
        fielded = name in SOURCE_FIELDS | LINK_FIELDS
        label: str | None = None  # the item's bold label, read once, for links without text
        for raw in line.links:
            if fielded and raw.start >= offset:
                draft.add(raw, Role.SOURCE)
                continue
            if not raw.text and label is None:
                label = self.item_label(line)
            draft.add(raw, Role.RELATED, raw.text or label)

    @staticmethod
    def item_label(line: Line) -> str:
        """The bold label of a `- **label**: url` list item, else ""."""
        m = _ITEM_LABEL.match(line.content) if line.item else None
        return plain_text(m.group(1)) if m else ""


def walk(doc: Doc, level: int, rules: Rules) -> list[Draft]:
    """Entries of a digest whose entries are headings of `level` (deeper ones belong to them)."""
    drafts: list[Draft] = []
    cur: Draft | None = None
    outer: str | None = None
    for sec in doc.sections:
        head = sec.heading
        if head is None or head is doc.title_line:
            continue  # the digest's intro
        if head.level < level:
            cur, outer = None, heading_text(head)
            drafts += block_drafts([head, *sec.lines] if head.links else sec.lines, outer)
        elif head.level == level and rules.is_entry(sec):
            cur = rules.open_entry(head, outer)
            drafts.append(cur)
            for line in sec.lines:
                rules.add_line(cur, line)
        elif head.level == level:
            cur = None
            drafts += block_drafts(sec.lines, heading_text(head) or outer)
        elif cur is not None:
            for raw in head.links:
                cur.add(raw, Role.RELATED)
            for line in sec.lines:
                rules.add_line(cur, line)
        else:
            drafts += block_drafts([head, *sec.lines], outer)
    if rules.promote:
        for draft in drafts:
            draft.promote_first()
    return drafts


def entry_level(doc: Doc, signal: Callable[[Section], bool]) -> tuple[int, int]:
    """`(level, count)` of the headings that carry a format's signal; count 0 when too few.

    The level is the one most signalled headings share; the count is 0 unless more than half
    of the headings at that level with links under them (quick-news lists aside) carry it.
    """
    outline = doc.outline()
    hits = Counter(sec.heading.level for sec, _ in outline if sec.heading and signal(sec))
    if not hits:
        return 0, 0
    level, count = max(hits.items(), key=lambda kv: (kv[1], -kv[0]))
    linked = sum(
        1
        for sec, n in outline
        if n
        and sec.heading
        and sec.heading.level == level
        and (signal(sec) or not is_quick_list(sec.lines, 1))
    )
    return (level, count) if count * 2 > linked else (level, 0)
