"""The "AI 每日情报" format: `### N. [org] title` entries with `**来源**:` and `**链接**: url`.

The bare `**链接**:` URL (and any link on a 来源 line or in the heading) is the source; every
other link in the entry, mostly its `#### 🔗 相关资源` list, is related. An entry without a
链接 line keeps only related links.
"""

from __future__ import annotations

import re

from crawler.digests.entries import LINK_FIELDS, Reading, Rules, entry_level, field_links, walk
from crawler.digests.inline import plain_text
from crawler.digests.scan import Doc, Line, Section

_NUMBER = re.compile(r"^\d{1,3}[ \t]*[.、．)）][ \t]*")


def _signal(sec: Section) -> bool:
    """A `**链接**:` line carrying at least one link."""
    return any(field_links(line, LINK_FIELDS) for line in sec.lines)


class _Meiri(Rules):
    """Sources are exactly the 链接 links; titles lose their `N.` number."""

    promote = False  # sources are exactly the 链接 links

    def title(self, heading: Line) -> str:
        return plain_text(_NUMBER.sub("", heading.content))


def level(doc: Doc) -> tuple[int, int]:
    """Entry heading level and signal strength (0: not this format)."""
    return entry_level(doc, _signal)


def parse(doc: Doc, level: int) -> Reading:
    """Entries in digest order."""
    return walk(doc, level, _Meiri())
