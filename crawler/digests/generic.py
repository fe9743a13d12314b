"""Fallback for any other markdown with links.

Entries are the headings of the level where most headings have links of their own (in the
heading or right below it), weighted by how many headings of that level do: the heading link,
a 来源/链接 field or else the first link below is the source, the rest related. Linked list
items and paragraphs under shallower section headings are entries of their own, as are the
items of a heading whose body is a list of `- [title](url)` items. Without such headings,
every linked list item or paragraph is an entry.
"""

from __future__ import annotations

from collections import Counter

from crawler.digests.entries import Draft, Rules, block_drafts, heading_text, walk
from crawler.digests.scan import Doc


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


def parse(doc: Doc, level: int) -> list[Draft]:
    """Entries in digest order."""
    if not level:
        return every_block(doc)
    return [draft for draft in walk(doc, level, Rules()) if draft.links]


def every_block(doc: Doc) -> list[Draft]:
    """Every linked list item, paragraph or heading is an entry, the intro included."""
    drafts: list[Draft] = []
    for sec in doc.sections:
        head = sec.heading
        if head is None:
            drafts += block_drafts(sec.lines, None)
        else:
            section = None if head is doc.title_line else heading_text(head)
            drafts += block_drafts([head, *sec.lines], section)
    return drafts
