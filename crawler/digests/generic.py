"""The generic reader: the entry structure of a newsletter no format module knows.

It looks for the unit that repeats, in this order:

* numbered headings (`### 1.`, `#### 2.`), when they stand at two levels or beside unnumbered
  category headings of their level: each is an entry, unnumbered headings are its sections;
* else the heading level where most headings have links of their own (in the heading or right
  below it), weighted by how many headings of that level do. Each such heading is one entry,
  unless its body is a list of news items that each carry their own link (a day section
  `## 2025.02.06` of numbered items, a topic of `- text [消息来源](url)` items, a quick list of
  `- [title](url)`, titled paragraphs `1、[title](url)` each with a description): then each item
  is an entry and the heading their section; where most headings hold lists, a heading over a
  single item holds a list of one. A summary paragraph before the links keeps a heading one
  entry (its `- [GitHub](url)` items are related). Linked items and paragraphs under shallower
  headings are entries of their own;
* without such headings, every linked list item, paragraph or table row is an entry (`blocks`).

An entry's source is its heading link, a 来源/链接 field, a link whose text says it is the
original (阅读原文, 原文链接, 消息来源, Source, 🔗), else its first link; the rest is related.
"""

from __future__ import annotations

import re
from collections import Counter

from crawler.digests import words
from crawler.digests.entries import (
    LINK_FIELDS,
    SOURCE_FIELDS,
    Draft,
    Reading,
    Rules,
    Unit,
    field_links,
    heading_text,
    lead_link,
    link_only,
    titled,
    walk,
)
from crawler.digests.inline import RawLink
from crawler.digests.scan import Doc, Line, Section
from crawler.items import Role

#: A numbered heading: `1. `, `2、`, `3)`, `第 4 条`, `【5】`, `**6.**` (not `3.5 万`).
_NUMBERED = re.compile(
    r"^(?:\*\*|__)?[ \t]*(?:第[ \t]*\d{1,3}[ \t]*[条则篇个]|\d{1,3}[ \t]*[.、．:：)）](?!\d)"
    r"|[【\[(（]\d{1,3}[】\]）)])"
)
_NUMBERED_MIN = 3
_NUMBER = re.compile(
    r"^(?:第\s*\d{1,3}\s*[条则篇个]|\d{1,3}\s*[.、．:：)）]|[【\[(（]\d{1,3}[】\]）)])\s*"
)
#: A date section heading: `2025.02.06`, `2月6日`, `02-06 周四`.
_DATE = re.compile(
    r"^\D{0,8}(?:\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?|\d{1,2}月\d{1,2}日|\d{1,2}[-./]\d{1,2})\D{0,8}$"
)
_WORD_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+")
_NEWS_UNITS = 5  # words (a Chinese character counts one) a news item's text has at least
_SUMMARY_UNITS = 60  # words of an unlinked paragraph that make a heading one entry with a summary
_LEAD_LABEL = re.compile(r"^[\W_]*([^\W_][^:：]{0,12}?)[\W_]*[:：]")
_RESOURCE = words.RESOURCE_WORDS | words.RESOURCE_LABELS | words.SOURCE_ANCHORS
_SAMPLE = 50  # units a list is judged on: the kind of its items shows in its first ones


def level(doc: Doc) -> int:
    """The entry heading level, 0 when no heading has links of its own."""
    total: Counter[int] = Counter()
    linked: Counter[int] = Counter()
    for sec, _ in doc.outline():
        assert sec.heading is not None
        total[sec.heading.level] += 1
        if sec.heading.links or any(line.links for line in sec.lines):
            linked[sec.heading.level] += 1
    if not linked:
        return 0
    return max(linked, key=lambda lv: (linked[lv] * linked[lv] / total[lv], -lv))


def is_numbered(head: Line) -> bool:
    """True for a heading that opens with an entry number."""
    return bool(_NUMBERED.match(head.content))


def numbered_levels(doc: Doc) -> list[int]:
    """The levels of the numbered headings when they are the entries, else [].

    They are when at least three headings are numbered and they stand at two levels or more,
    or beside unnumbered headings of their level that hold no links (category headings).
    """
    outline = doc.outline()
    nums = Counter(
        sec.heading.level for sec, _ in outline if sec.heading and is_numbered(sec.heading)
    )
    if sum(nums.values()) < _NUMBERED_MIN:
        return []
    if len(nums) == 1:
        (lv,) = nums
        others = [
            sec
            for sec, _ in outline
            if sec.heading and sec.heading.level == lv and not is_numbered(sec.heading)
        ]
        if not others or any(_own_links(sec) for sec in others):
            return []
    return sorted(nums)


def _own_links(sec: Section) -> bool:
    return bool((sec.heading and sec.heading.links) or any(line.links for line in sec.lines))


def _word_units(text: str) -> int:
    return len(_WORD_UNIT.findall(text))


def is_news(unit: Unit) -> bool:
    """True for a linked unit that reads as a news item, not a resource (`- [GitHub](url)`,
    `- 论文：url`, `[url](url)`)."""
    if not unit.raws or unit.meta or link_only(unit.lines, unit.raws):
        return False
    lead = _LEAD_LABEL.match(unit.text)
    if lead and words.key(lead.group(1)) in _RESOURCE:
        return False
    if titled(unit) and words.key(unit.raws[0].text) not in _RESOURCE:
        return True  # `1、[tiny-serve](url)`, `- [OpenAI o3](url)`: a title, however short
    return _word_units(unit.text) >= _NEWS_UNITS and words.key(unit.text) not in _RESOURCE


def _resources(found: list[Unit]) -> bool:
    """True when most linked units open with a resource's name (`[GitHub](url)`, `[论文](url)`),
    judged on the first `_SAMPLE` of them."""
    linked = [u for u in found if u.raws and not u.meta][:_SAMPLE]
    named = sum(words.key(u.raws[0].text) in _RESOURCE for u in linked)
    return named * 2 > len(linked)


def _summarised(found: list[Unit]) -> bool:
    """True when an unlinked paragraph long enough to be a summary comes before any link."""
    for unit in found:
        if unit.raws:
            return False
        if not unit.item and _word_units(unit.text) >= _SUMMARY_UNITS:
            return True
    return False


def is_list_of_news(found: list[Unit], *, single: bool = False) -> bool:
    """True when a heading's body is a list of news items each with its own link: two or more
    linked units (one list item will do when `single`), two thirds of them news items, list
    items or (half of them at least) titled paragraphs (`1、[title](url)`), two thirds of its
    list items linked, and no long unlinked paragraph before them (a summary says the heading
    is one entry)."""
    linked = [u for u in found if u.raws and not u.meta]
    if len(linked) < 2 and not (
        single and len(linked) == 1 and (linked[0].item or titled(linked[0]))
    ):
        return False
    if sum(map(is_news, linked)) * 3 < len(linked) * 2:
        return False
    heads = sum(map(titled, linked))
    if sum(u.item for u in linked) * 3 < len(linked) * 2 and not (
        heads >= min(2, len(linked)) and heads * 2 >= len(linked)
    ):
        return False  # a quote and a paragraph, each with a link, are no list
    anchored = sum(any(words.is_source_anchor(r.text) for r in u.raws) for u in linked)
    if len(linked) > 1 and anchored == 1:
        return False  # one 原文链接 among several links: the heading's own source
    items = [u for u in found if u.item]
    if items and sum(1 for u in items if u.raws) * 3 < len(items) * 2:
        return False
    return not _summarised(found)


class GenericRules(Rules):
    """Entries of a newsletter of no known format; in numbered mode, numbered headings."""

    def __init__(self, numbered: bool = False, lists: bool = False) -> None:
        super().__init__()
        self._entries: dict[int, tuple[Section, bool, bool]] = {}  # asked twice: vote, walk
        self.numbered = numbered
        self.lists = lists  # most entry-level headings hold lists: one item is a list too

    def title(self, heading: Line) -> str:
        """The heading's text; in numbered mode without its number."""
        title = super().title(heading)
        return _NUMBER.sub("", title) if self.numbered else title

    def rank(self, head: Line, level: int, entry_head: Line | None) -> int:
        if not self.numbered:
            return super().rank(head, level, entry_head)
        if is_numbered(head):
            return 0
        return 1 if entry_head is not None and head.level > entry_head.level else -1

    def is_entry(self, sec: Section) -> bool:
        known = self._entries.get(id(sec))
        if known is None or known[0] is not sec or known[1] != self.lists:
            known = self._entries[id(sec)] = (sec, self.lists, self._is_entry(sec))
        return known[2]

    def _is_entry(self, sec: Section) -> bool:
        assert sec.heading is not None
        if sec.heading.links or any(
            field_links(line, SOURCE_FIELDS | LINK_FIELDS) for line in sec.lines
        ):
            return True
        found = self.units(sec.lines)
        linked = [u for u in found if u.raws and not u.meta]
        if len(linked) >= self.quick_min and all(  # `- [title](url)` items: entries, unless
            u.lines[0].item and lead_link(u.lines[0]) for u in linked
        ):
            return _resources(found) or _summarised(found)  # GitHub/论文 under a summary
        return not is_list_of_news(found, single=self.lists)

    def is_source(self, raw: RawLink) -> bool:
        return words.is_source_anchor(raw.text)

    def titled_paragraphs(self, found: list[Unit]) -> bool:
        linked = [u for u in found if u.raws and not u.meta and not u.item]
        heads = sum(map(titled, linked))
        return heads >= 2 and heads * 2 >= len(linked)

    def block_draft(self, unit: Unit, section: str | None) -> Draft:
        """An entry of one unit: its 来源/链接 field links or original-links are its sources,
        else its first link; the others related."""
        draft = super().block_draft(unit, section)
        named: set[str] = set()
        for line in unit.lines:
            named.update(raw.url for raw in field_links(line, SOURCE_FIELDS | LINK_FIELDS))
            named.update(raw.url for raw in line.links if self.is_source(raw))
        last = unit.lines[-1]
        if not named and len(unit.lines) > 1 and link_only([last], last.links):
            named.update(raw.url for raw in last.links)  # `1. text` then its URL: the source
        if named:
            for link in draft.links:
                link.role = Role.SOURCE if link.url in named else Role.RELATED
        return draft


def parse(doc: Doc, level: int, numbered: bool = False) -> Reading:
    """Entries in digest order (numbered: the numbered headings are the entries)."""
    if not level and not numbered:
        return every_block(doc)
    rules = GenericRules(numbered)
    rules.lists = _mostly_lists(doc, rules, level)
    return walk(doc, level, rules)


def _mostly_lists(doc: Doc, rules: GenericRules, level: int) -> bool:
    """True when most entry headings over two or more linked units hold lists of news items
    (then a heading over a single item holds a list of one)."""
    votes = []
    for sec, _ in doc.outline():
        head = sec.heading
        if head is None or head.links or rules.rank(head, level, None) != 0:
            continue
        if sum(1 for u in rules.units(sec.lines) if u.raws and not u.meta) >= 2:
            votes.append(not rules.is_entry(sec))  # rules.lists is still False here
    return sum(votes) * 2 > len(votes)


def every_block(doc: Doc) -> Reading:
    """Every linked list item, paragraph or heading is an entry, the intro included; the
    links of the title heading and of lines about the digest itself are the digest's own."""
    read = Reading()
    rules = GenericRules()
    masthead = {id(h) for h in doc.masthead}
    for sec in doc.sections:
        head = sec.heading
        if head is None:
            read.read_blocks(rules, sec.lines, None)
        elif id(head) in masthead:
            read.keep_outside([head])
            read.read_blocks(rules, sec.lines, None)
        else:
            read.read_blocks(rules, [head, *sec.lines], heading_text(head))
    return read


def is_date(text: str) -> bool:
    """True for a heading that is a date (a day section of a monthly file)."""
    return bool(_DATE.match(text))
