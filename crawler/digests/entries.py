"""From blocks to entry drafts: `Draft`, the `Rules` a format overrides, `walk`, `entry_level`.

The labelled fields (来源, 分类, 链接) live here too: they decide which links are an entry's
sources. `walk` also keeps what lies outside every entry (the digest's intro, a line about its
video version, its credit line) in a `Reading`'s `outside`: those links are the digest's own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from crawler.digests import words
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
_BOLD_TITLE = re.compile(r"^(\*\*|__)[^*_\n]{2,80}?\1")
_PARA_NUMBER = re.compile(r"^\d{1,3}[ \t]*[、.．)）](?!\d)")  # a paragraph's `1、` (not a list)
_EMPTY_PAIRS = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】|「\s*」|“\s*”|\"\s*\"|'\s*'")
_TRAILING = " ：:，,。.；;、|-—"
_SPACES = re.compile(r"\s+")


#: `[译名][original title]`: two bracket pairs that are no link, a title and its original.
_BRACKET_PAIR = re.compile(r"^\[([^\[\]]+)\]\s*\[([^\[\]]+)\]$")


def block_title(block: list[Line]) -> str:
    """Title of a list item or paragraph: its leading link's text, bold lead, or its text
    (without a paragraph number `1、`, or the `[消息来源](url)` or `[↗](url)` that points at
    its source)."""
    first = block[0]
    number = _PARA_NUMBER.match(first.content) if first.kind == LineKind.TEXT else None
    if number:
        first = _without_number(first, number.end())
    lead = lead_link(first)
    if lead and lead.text and not words.is_source_anchor(lead.text):
        return lead.text
    bold = _BOLD_LEAD.match(first.content)
    if bold:
        text = plain_text(bold.group(2)).strip(_TRAILING)
        pair = _BRACKET_PAIR.match(text)
        if pair:
            return f"{pair.group(1).strip()}（{pair.group(2).strip()}）"
        if text:
            return text
    content = first.content
    for raw in reversed(first.links):
        if raw.text and words.is_source_anchor(raw.text):
            content = content[: raw.start] + content[raw.end :]
    text = _EMPTY_PAIRS.sub("", plain_text(content, urls=False))  # where bare URLs were
    text = clean_title(_SPACES.sub(" ", text).strip(_TRAILING))
    return text if len(text) <= 120 else text[:120].rstrip() + "…"


def _without_number(line: Line, cut: int) -> Line:
    """A copy of a paragraph's first line without its `1、` number (link places moved along)."""
    links = [
        RawLink(r.url, r.text, r.start - cut, r.end - cut) for r in line.links if r.start >= cut
    ]
    return Line(line.no, line.text, line.kind, line.level, line.content[cut:], links=links)


def heading_text(line: Line) -> str | None:
    """Plain text of a heading, None when empty."""
    return plain_text(line.content) or None


#: Trailing marks a title carries to point at its entry: `#12`, an arrow, a link symbol.
_MARKS = re.compile(r"(?:\s*(?:#\d{1,4}|[↗→➡🔗👉⇗]))+\s*$")


def clean_title(title: str) -> str:
    """A title without the trailing `#12` or arrow that points at its entry."""
    return _MARKS.sub("", title) if title and title[-1] in "0123456789↗→➡🔗👉⇗" else title


def title_key(title: str) -> str:
    """A title reduced for matching one title against another (a table of contents' items)."""
    return words.key(clean_title(title))


# --- entry drafts ---------------------------------------------------------------------------


@dataclass
class Draft:
    """An entry being built; links are unique by URL and `source` wins over `related`."""

    title: str
    section: str | None = None
    labels: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # grown through add() only
    line: int = 0  # where it starts in the digest
    origin: str = "block"  # what it was read from: "heading" or "block" (a list item, a paragraph)
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


class Unit:
    """A block of a section's body as entries are read from it: a paragraph, list item, quote
    or table row, with the link-only block after it when its text had no link (`1. text` then
    an indented bare URL, or `<a href>🔗 阅读原文</a>` on a line of its own)."""

    def __init__(self, lines: list[Line], raws: list[RawLink]) -> None:
        self.lines, self.raws = lines, raws
        self._text: str | None = None
        size = sum(len(line.content) for line in lines)
        #: about the digest itself (视频版：..., a credit line)
        self.meta = (
            bool(raws)
            and size <= _META_SCAN
            and any(words.may_be_meta(line.content) for line in lines)
            and words.is_meta(self.text)
        )
        #: a label that opens a list of related resources (相关链接：)
        self.label = not raws and size <= _LABEL_SCAN and words.is_resource_label(self.text)

    @property
    def text(self) -> str:
        """Its plain text, URLs left out (read once, when asked)."""
        if self._text is None:
            self._text = plain_text(" ".join(line.content for line in self.lines), urls=False)
        return self._text

    @property
    def item(self) -> bool:
        """Whether it is a list item or a table row."""
        return self.lines[0].item or self.lines[0].content.startswith("|")

    def take(self, block: list[Line], raws: list[RawLink]) -> None:
        """Take in the link-only block under this unit's text."""
        self.lines, self.raws, self._text = self.lines + block, raws, None


_META_SCAN = 600  # characters of markdown beyond which a block is no line about the digest
_LABEL_SCAN = 60


def titled(unit: Unit) -> bool:
    """True for a unit that opens with a title of its own: a bold title (`**甲发布**：...`),
    a titled link (`[标题](url)：...`), either after a paragraph number (`1、[标题](url)`)."""
    first = unit.lines[0]
    if first.quote or first.kind != LineKind.TEXT:
        return False
    number = _PARA_NUMBER.match(first.content)
    start = number.end() if number else 0
    if _BOLD_TITLE.match(first.content[start:].lstrip()):
        return True
    lead = next((raw for raw in first.links if raw.start >= start), None)
    return (
        lead is not None
        and bool(lead.text)
        and not first.content[start : lead.start].strip(" *_~\t")
    )


def link_only(block: list[Line], raws: list[RawLink]) -> bool:
    """True for a block that is its links and nothing else: a bare URL, `原文链接：url`,
    `[阅读原文](url)`, `[url](url)`; no title of its own."""
    if not raws or any(r.text and not words.is_source_anchor(r.text) for r in raws):
        return False
    for line in block:
        rest, at = [], 0
        for raw in line.links:
            rest.append(line.content[at : raw.start])
            at = raw.end
        rest.append(line.content[at:])
        k = words.key(plain_text("".join(rest), urls=False))
        if k and k not in words.SOURCE_ANCHORS and k not in _FIELD_KEYS:
            return False
    return True


_TABLE_RULE = re.compile(r"^\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?$")


def _table_rows(found: list[list[Line]]) -> list[list[Line]]:
    """Blocks with each row of a markdown table (`| title | url |`) a block of its own."""
    out: list[list[Line]] = []
    for block in found:
        if (
            len(block) > 2
            and not block[0].item
            and all(ln.content.startswith("|") for ln in block)
            and _TABLE_RULE.match(block[1].content)
        ):
            out += [[row] for row in block if not _TABLE_RULE.match(row.content)]
        else:
            out.append(block)
    return out


def units(lines: Iterable[Line]) -> list[Unit]:
    """The blocks of a section's body (a table's rows apart), each text joined with the
    link-only block under it."""
    out: list[Unit] = []
    for block in _table_rows(blocks(lines)):
        raws = [raw for line in block for raw in line.links]
        last = out[-1] if out else None
        if (
            raws
            and last is not None
            and not last.raws
            and not last.label
            and link_only(block, raws)
        ):
            last.take(block, raws)
            continue
        out.append(Unit(block, raws))
    return out


# --- reading a digest: entries and what lies outside them -----------------------------------


@dataclass
class Reading:
    """What a walk over a digest found: entry drafts, and the links outside every entry."""

    drafts: list[Draft] = field(default_factory=list)
    outside: Draft = field(default_factory=lambda: Draft(""))  # the digest's own links
    lists: list[str] = field(default_factory=list)  # headings whose items are entries

    def keep_outside(self, lines: Iterable[Line | None]) -> None:
        """Every link of these lines is the digest's own (its title, its intro)."""
        for line in lines:
            for raw in line.links if line is not None else []:
                self.outside.add(raw, Role.DIGEST)

    def read_blocks(self, rules: Rules, lines: list[Line], section: str | None) -> None:
        """Entries of body text outside entry headings: one per linked unit; the links of a
        resource list (after `相关链接：`) go to the entry before it; meta lines are the
        digest's own."""
        last: Draft | None = None
        resources = False
        found = rules.units(lines)
        bodies = rules.titled_paragraphs(found)  # untitled paragraphs are their entry's body
        for unit in found:
            if unit.meta:
                self.keep_outside(unit.lines)
                continue
            if unit.label:
                resources = last is not None
                continue
            if not unit.raws:
                resources = False
                continue
            if last is not None and (
                (resources and link_only(unit.lines, unit.raws))
                or (bodies and not unit.item and not titled(unit))
            ):
                for raw in unit.raws:
                    last.add(raw, Role.RELATED)
                continue
            resources = False
            last = rules.block_draft(unit, section)
            self.drafts.append(last)

    def read_body(
        self, rules: Rules, draft: Draft, lines: list[Line], tail: int, *, last: bool = False
    ) -> None:
        """An entry's body lines. The digest's closing lines about itself (a credit line, a
        subscription note) are the digest's, not the entry's: those past `tail` (after the
        digest's last thematic break) and, in the last section, those that end the digest."""
        body = lines
        if last:
            found = rules.units(lines)
            end = len(found)
            while end and found[end - 1].meta:
                end -= 1
            if end < len(found):
                self.keep_outside(ln for unit in found[end:] for ln in unit.lines)
                body = [ln for ln in lines if ln.no < found[end].lines[0].no]
        for line in body:
            if line.no < tail:
                rules.add_line(draft, line)
        rest = [line for line in body if line.no >= tail]
        for unit in units(rest) if rest else []:
            if unit.meta:
                self.keep_outside(unit.lines)
            else:
                for line in unit.lines:
                    rules.add_line(draft, line)


# --- labelled fields: 来源 / 分类 / 链接 -------------------------------------------------------

_FIELD = re.compile(
    r"^(?:\*\*|__)?[ \t]*(来源|出处|分类|原文链接|原文|链接)[ \t]*(?:\*\*|__)?"
    r"[ \t]*[:：][ \t]*(?:\*\*|__)?"
)
_LABEL_SPLIT = re.compile(r"[、，,;；]")
_ITEM_LABEL = re.compile(r"^(?:\*\*|__)(.+?)(?:\*\*|__)[ \t]*[:：]")
SOURCE_FIELDS = frozenset({"来源", "出处"})
LINK_FIELDS = frozenset({"链接", "原文", "原文链接"})
_FIELD_KEYS = frozenset(words.key(name) for name in (*SOURCE_FIELDS, *LINK_FIELDS))


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

    def __init__(self) -> None:
        self._units: dict[int, tuple[list[Line], list[Unit]]] = {}

    def titled_paragraphs(self, found: list[Unit]) -> bool:
        """Whether these units are entries of titled paragraphs (`1、[标题](url)` then a
        description): then an untitled paragraph is the body of the entry above it. Off here:
        the formats' sections hold list items."""
        return False

    def units(self, lines: list[Line]) -> list[Unit]:
        """`units(lines)`, read once per list of lines (a section's body is asked often)."""
        known = self._units.get(id(lines))
        if known is None or known[0] is not lines:
            known = self._units[id(lines)] = (lines, units(lines))
        return known[1]

    def rank(self, head: Line, level: int, entry_head: Line | None) -> int:
        """Where a heading stands to the entries: -1 above them (a section), 0 an entry (or a
        list of entries), 1 inside the entry `entry_head` opened."""
        return (head.level > level) - (head.level < level)

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
        return clean_title(plain_text(heading.content))

    def open_entry(self, heading: Line, section: str | None) -> Draft:
        """A new entry from its heading; the heading's first link is a source."""
        draft = Draft(self.title(heading), section, line=heading.no, origin="heading")
        draft.add_first_source(heading.links)
        return draft

    def block_draft(self, unit: Unit, section: str | None) -> Draft:
        """An entry of one unit of body text: its first link is the source, the others related."""
        draft = Draft(block_title(unit.lines), section, line=unit.lines[0].no)
        draft.add_first_source(unit.raws)
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
            if (fielded and raw.start >= offset) or self.is_source(raw):
                draft.add(raw, Role.SOURCE)
                continue
            if not raw.text and label is None:
                label = self.item_label(line)
            draft.add(raw, Role.RELATED, raw.text or label)

    def is_source(self, raw: RawLink) -> bool:
        """Whether a body link outside the labelled fields is a source by what it says."""
        return False

    @staticmethod
    def item_label(line: Line) -> str:
        """The bold label of a `- **label**: url` list item, else ""."""
        m = _ITEM_LABEL.match(line.content) if line.item else None
        return plain_text(m.group(1)) if m else ""


_META_HEADING_SCAN = 24  # characters of a heading beyond which it is no 往期回顾 heading


def tail_start(doc: Doc) -> int:
    """The line number after the digest's last thematic break when no heading follows it (its
    closing lines: a credit, a subscription note), else past the last line."""
    for line in reversed(doc.lines):
        if line.kind == LineKind.HEADING:
            break
        if line.kind == LineKind.BREAK:
            return line.no + 1
    return len(doc.lines) + 1


def walk(doc: Doc, level: int, rules: Rules) -> Reading:
    """Entries of a digest whose entries are headings of `level` (deeper ones belong to them).

    The intro (under the masthead, or before the first heading) is the digest's own, and so are
    lines about the digest outside every entry.
    """
    read = Reading()
    cur: Draft | None = None
    cur_head: Line | None = None
    outer: str | None = None
    masthead = {id(h) for h in doc.masthead}
    tail = tail_start(doc)
    final = doc.sections[-1]
    for sec in doc.sections:
        head = sec.heading
        if head is None or id(head) in masthead:
            read.keep_outside([head, *sec.lines])  # the digest's intro
            continue
        if len(head.content) <= _META_HEADING_SCAN and words.is_meta_heading(
            plain_text(head.content)
        ):
            cur, cur_head, outer = None, None, None
            read.keep_outside([head, *sec.lines])  # 往期回顾, 订阅: about the digest itself
            continue
        rank = rules.rank(head, level, cur_head)
        if rank < 0:
            cur, cur_head, outer = None, None, heading_text(head)
            read.read_blocks(rules, [head, *sec.lines] if head.links else sec.lines, outer)
        elif rank == 0 and rules.is_entry(sec):
            cur, cur_head = rules.open_entry(head, outer), head
            read.drafts.append(cur)
            read.read_body(rules, cur, sec.lines, tail, last=sec is final)
        elif rank == 0:
            cur, cur_head = None, None
            read.lists.append(heading_text(head) or "")
            read.read_blocks(rules, sec.lines, heading_text(head) or outer)
        elif cur is not None:
            for raw in head.links:
                cur.add(raw, Role.RELATED)
            read.read_body(rules, cur, sec.lines, tail, last=sec is final)
        else:
            read.read_blocks(rules, [head, *sec.lines], outer)
    if rules.promote:
        for draft in read.drafts:
            draft.promote_first()
    return read


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
