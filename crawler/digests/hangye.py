"""The "AI行业速递" format: `## ` entries with `> **分类：** X` and `> **来源：** [label](url)`.

Every `## ` heading is an entry; its 来源 links are its sources (their texts its labels), its
分类 its section, any other link in it related. A heading whose body is a list of
`- [title](url)` items and no 来源 line (`## 其他相关资讯`) holds one quick entry per item.
"""

from __future__ import annotations

from crawler.digests.entries import SOURCE_FIELDS, Reading, Rules, entry_level, field_links, walk
from crawler.digests.scan import Doc, Section


def _signal(sec: Section) -> bool:
    """A `**来源：**` line carrying at least one link."""
    return any(field_links(line, SOURCE_FIELDS) for line in sec.lines)


class _Hangye(Rules):
    """Sources are exactly the 来源 links; a 来源 line makes a heading an entry."""

    quick_min = 1  # `## 其他相关资讯` may list a single item
    promote = False  # sources are exactly the 来源 links

    def is_entry(self, sec: Section) -> bool:
        return _signal(sec) or super().is_entry(sec)


def level(doc: Doc) -> tuple[int, int]:
    """Entry heading level and signal strength (0: not this format)."""
    return entry_level(doc, _signal)


def parse(doc: Doc, level: int) -> Reading:
    """Entries in digest order."""
    return walk(doc, level, _Hangye())
