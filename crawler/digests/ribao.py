"""The "AI 日报" format: front matter, `## ` sections of `### [title](url)` entries, `## 更多动态`.

The heading link is the entry's source and the links in its body are related. Sections whose
body is a `- [title](url)，summary` list (`## 更多动态`) hold one quick entry per item, even when
several items cite the same URL. The closing Telegram card is dropped while scanning.
"""

from __future__ import annotations

from crawler.digests.entries import Reading, Rules, entry_level, lead_link, walk
from crawler.digests.scan import Doc, Section


def _signal(sec: Section) -> bool:
    """A heading that opens with a link."""
    return sec.heading is not None and lead_link(sec.heading) is not None


def level(doc: Doc) -> tuple[int, int]:
    """Entry heading level and signal strength (0: not this format)."""
    return entry_level(doc, _signal)


def parse(doc: Doc, level: int) -> Reading:
    """Entries in digest order."""
    return walk(doc, level, Rules())
