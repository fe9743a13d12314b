"""Reading a digest's lines: decoding, front matter, fences, reference definitions, HTML blocks.

`scan()` turns decoded text into a `Doc`: every line classified (heading, text, blank, break or
skipped), its inline links found, and the lines grouped into sections under their headings.
`blocks()` groups lines into paragraphs, list items and quotes.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crawler.digests.inline import RawLink, extract_links, normalize_label, plain_text


class DigestError(ValueError):
    """The data cannot be read as a markdown digest; the message names the source and why."""


# --- decoding -------------------------------------------------------------------------------

_HTML_PAGE = re.compile(r"(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def decode(data: bytes, source: str) -> str:
    """Decode a digest's raw bytes (UTF-8, with or without BOM, else GB18030) or raise."""

    def fail(why: str) -> DigestError:
        return DigestError(f"{source}: not a markdown digest ({why})")

    if not data.strip():
        raise fail("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("UTF-16 text; expected UTF-8 or GB18030")
    if b"\x00" in data:
        raise fail("binary data")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise fail("undecodable: neither UTF-8 nor GB18030") from None
    if not text.strip():
        raise fail("empty file")
    if _mostly_binary(text):
        raise fail("binary data")
    if _HTML_PAGE.match(text.lstrip()):
        raise fail("an HTML page, not markdown")
    return text


def _mostly_binary(text: str) -> bool:
    """True when more than a tenth of the first 64k characters are control or unassigned."""
    sample = text[:65536]
    bad = sum(
        1
        for ch in sample
        if ch == "\ufffd"
        or (unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and ch not in "\t\n\r\f\v")
    )
    return bad * 10 > len(sample)


# --- lines and sections ---------------------------------------------------------------------


class LineKind(StrEnum):
    """What a line is to the digest."""

    TEXT = "text"  # a paragraph, list item or quote line (its kind is refined by classifying)
    BLANK = "blank"
    HEADING = "heading"
    BREAK = "break"  # a thematic break: ---, ***, ___
    SKIP = "skip"  # front matter, fenced code, reference definitions, comments, promotion


_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t\u3000]+(.*))?$")
_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTES = re.compile(r"(?:[ \t]{0,3}>[ \t]?)+")  # every `>` marker of a line at once
_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_REFDEF = re.compile(
    r"""^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*<?([A-Za-z][\w+.-]*:[^\s<>]+|[/#.][^\s<>]*)>?"""
    r"""(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^()]*\)))?[ \t]*$"""
)
_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$")
_HTML_BLOCK = re.compile(r"^ {0,3}<(?:!--|/?([A-Za-z][A-Za-z0-9]*)(?=[\s/>]|$))")
_BLOCK_TAGS = frozenset(
    re.split(
        r"\s+",
        "address article aside blockquote center details dialog div dl figcaption figure footer "
        "form h1 h2 h3 h4 h5 h6 header hr iframe li main nav ol p picture pre script section "
        "style summary table tbody td tfoot th thead tr ul video",
    )
)
_PROMO_MARKERS = ("t.me/", "telegram", "二维码", "扫码", "subscribe", "订阅")


@dataclass(eq=False)
class Line:
    """One source line, classified; `content` is the text after #, > and list markers."""

    no: int
    text: str
    kind: LineKind = LineKind.TEXT
    level: int = 0  # heading level
    content: str = ""
    item: bool = False  # starts a list item
    quote: bool = False
    indent: int = 0  # indentation of the list marker or the text
    links: list[RawLink] = field(default_factory=list)  # positions are within `content`


@dataclass(eq=False)
class Section:
    """A heading (None for the text before the first one) and the lines up to the next."""

    heading: Line | None
    lines: list[Line]


@dataclass(eq=False)
class Doc:
    """A scanned digest: classified lines, front matter, the title heading and the masthead.

    The masthead is the digest's own title headings (one, or up to three shallowest headings
    that all come first): the text under them is the digest's intro, not an entry.
    """

    lines: list[Line]
    meta: dict[str, str]
    title_line: Line | None
    masthead: list[Line] = field(default_factory=list)
    sections: list[Section] = field(init=False)

    def __post_init__(self) -> None:
        """Cut the lines into sections at their headings."""
        self.sections = [Section(None, [])]
        for line in self.lines:
            if line.kind == LineKind.HEADING:
                self.sections.append(Section(line, []))
            else:
                self.sections[-1].lines.append(line)

    def hide(self, lines: Iterable[Line]) -> None:
        """Take lines out of the reading (a table of contents): skipped, their links gone."""
        for line in lines:
            line.kind, line.links = LineKind.SKIP, []
        self.masthead = [h for h in self.masthead if h.kind == LineKind.HEADING]
        if self.title_line is not None and self.title_line.kind != LineKind.HEADING:
            self.title_line = None
        self.__post_init__()

    def outline(self) -> list[tuple[Section, int]]:
        """Every section under a heading other than the title, with the links under it."""
        secs = self.sections
        levels = [s.heading.level if s.heading else 0 for s in secs]
        own = [sum(len(ln.links) for ln in (s.heading, *s.lines) if ln) for s in secs]
        below = own[:]
        stack: list[int] = []  # open headings, shallow to deep
        for k in range(1, len(secs)):
            while stack and levels[stack[-1]] >= levels[k]:
                stack.pop()
            for open_k in stack:
                below[open_k] += own[k]
            stack.append(k)
        mast = {id(h) for h in self.masthead}
        return [(s, below[k]) for k, s in enumerate(secs) if k and id(s.heading) not in mast]


def scan(text: str) -> Doc:
    """Classify every line of a markdown digest and find its links."""
    lines = [Line(no, raw) for no, raw in enumerate(text.splitlines(), 1)]
    meta = _front_matter(lines)
    _mark_code(lines)
    refs = _ref_defs(lines)
    _mark_html(lines)
    for line in lines:
        if line.kind == LineKind.TEXT:
            _classify(line, refs)
    heads = [ln for ln in lines if ln.kind == LineKind.HEADING]
    masthead = _masthead(lines, heads)
    return Doc(lines, meta, _title_line(masthead), masthead)


def _front_matter(lines: list[Line]) -> dict[str, str]:
    """Parse (and skip) YAML front matter: top-level `key: value` pairs only."""
    if not lines or lines[0].text.strip() != "---":
        return {}
    close = next((k for k in range(1, len(lines)) if lines[k].text.strip() in ("---", "...")), 0)
    body = [ln.text for ln in lines[1:close] if ln.text.strip()]
    if not close or not body or not _YAML_KEY.match(body[0]):
        return {}
    meta: dict[str, str] = {}
    for raw in body:
        m = _YAML_KEY.match(raw)
        if m:
            value = m.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            meta.setdefault(m.group(1).lower(), value)
    for line in lines[: close + 1]:
        line.kind = LineKind.SKIP
    return meta


def _mark_code(lines: list[Line]) -> None:
    """Skip fenced code blocks; an unclosed fence skips only its own line."""
    closers: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}  # (line index, length)
    for k, line in enumerate(lines):
        bare = line.text.strip()
        if line.kind == LineKind.TEXT and _FENCE.match(line.text) and not bare.strip(bare[0]):
            closers[bare[0]].append((k, len(bare)))
    # longest[c][a]: the longest closer from candidate a on, so that a fence with no closer
    # is known at once instead of by a scan of every later candidate (square time)
    longest: dict[str, list[int]] = {}
    for char, candidates in closers.items():
        longest[char] = [0] * (len(candidates) + 1)
        for a in range(len(candidates) - 1, -1, -1):
            longest[char][a] = max(candidates[a][1], longest[char][a + 1])
    k = 0
    while k < len(lines):
        m = _FENCE.match(lines[k].text) if lines[k].kind == LineKind.TEXT else None
        if not m:
            k += 1
            continue
        fence = m.group(1)
        candidates = closers[fence[0]]
        at = bisect.bisect_right(candidates, (k, len(lines) + 1))
        close = k
        if longest[fence[0]][at] >= len(fence):
            while candidates[at][1] < len(fence):  # the candidates passed lie inside the block
                at += 1
            close = candidates[at][0]
        for line in lines[k : close + 1]:
            line.kind = LineKind.SKIP
        k = close + 1


def _ref_defs(lines: list[Line]) -> dict[str, str]:
    """Collect (and skip) reference definitions `[label]: url`."""
    refs: dict[str, str] = {}
    for line in lines:
        m = _REFDEF.match(line.text) if line.kind == LineKind.TEXT else None
        if m:
            refs.setdefault(normalize_label(m.group(1)), m.group(2))
            line.kind = LineKind.SKIP
    return refs


def _mark_html(lines: list[Line]) -> None:
    """Skip HTML comments and promotional HTML blocks (Telegram cards, QR codes)."""
    k = 0
    while k < len(lines):
        m = _HTML_BLOCK.match(lines[k].text) if lines[k].kind == LineKind.TEXT else None
        if not m or (m.group(1) and m.group(1).lower() not in _BLOCK_TAGS):
            k += 1
            continue
        comment = not m.group(1)
        end = k
        while end + 1 < len(lines) and lines[end + 1].kind == LineKind.TEXT:
            if comment and "-->" in lines[end].text:
                break
            if not comment and not lines[end + 1].text.strip():
                break
            end += 1
        block = lines[k : end + 1]
        if comment or any(
            mark in "\n".join(ln.text for ln in block).lower() for mark in _PROMO_MARKERS
        ):
            for line in block:
                line.kind = LineKind.SKIP
        k = end + 1


def _classify(line: Line, refs: Mapping[str, str]) -> None:
    """Set a text line's kind, heading level, list and quote marks, content and links."""
    text = line.text
    if not text.strip():
        line.kind = LineKind.BLANK
        return
    m = _HEADING.match(text)
    if m:
        line.kind = LineKind.HEADING
        line.level = len(m.group(1))
        content = (m.group(2) or "").strip()
        bare = content.rstrip("#")
        if not bare or bare[-1] in " \t":  # an optional closing `###`
            content = bare.rstrip()
        line.content = content
    elif _BREAK.match(text):
        line.kind = LineKind.BREAK
        return
    else:
        body = text
        quotes = _QUOTES.match(body)
        if quotes:
            line.quote = True
            body = body[quotes.end() :]
        item = _ITEM.match(body)
        if item:
            line.item = True
            line.indent = len(item.group(1).expandtabs(4))
            body = body[item.end() :]
        else:
            line.indent = len(body.expandtabs(4)) - len(body.expandtabs(4).lstrip())
        line.content = body.strip()
    line.links = extract_links(line.content, refs)


_DATE_ONLY = re.compile(r"^[\d\s年月日号./_:：-]*$")
_MASTHEAD_MAX = 3
_MASTHEAD_LINES = 3  # lines under a masthead heading before the next one


def _masthead(lines: list[Line], heads: list[Line]) -> list[Line]:
    """The digest's own headings: the first heading when it alone has the shallowest level, or
    the shallowest headings (up to three) when they all come first, a deeper one follows, and
    all but the last stand over a few lines that cite nothing (`# [2026-03-02](issue page)`,
    a cover image, then `# AI 早报 2026-03-02`)."""
    if not heads:
        return []
    top = min(h.level for h in heads)
    tops = [h for h in heads if h.level == top]
    if len(tops) == 1 and tops[0] is heads[0]:
        return [heads[0]]
    lead = heads[: len(tops)]
    if len(tops) > _MASTHEAD_MAX or len(heads) == len(tops) or lead != tops:
        return []
    for head, after in itertools.pairwise(lead):
        between = lines[head.no : after.no - 1]  # line numbers count from 1
        written = [ln for ln in between if ln.kind == LineKind.TEXT]
        if len(written) > _MASTHEAD_LINES or any(ln.links for ln in written):
            return []  # entries written as top headings, not a masthead
    return lead


def _title_line(masthead: list[Line]) -> Line | None:
    """The masthead heading that names the digest: the first that is more than a date."""
    named = [h for h in masthead if not _DATE_ONLY.match(plain_text(h.content))]
    return next(iter(named or masthead), None)


def blocks(lines: Iterable[Line]) -> list[list[Line]]:
    """Group lines into paragraphs, top-level list items (with nested ones) and quotes."""
    out: list[list[Line]] = []
    cur: list[Line] = []
    block_kind = ""  # of the open block: item, quote or para
    blank = False
    for line in lines:
        if line.kind in (LineKind.SKIP, LineKind.BREAK, LineKind.HEADING) or (
            line.kind == LineKind.BLANK and block_kind != "item"
        ):
            if cur:
                out.append(cur)
            cur, block_kind, blank = [], "", False
            if line.kind == LineKind.HEADING:
                out.append([line])
            continue
        if line.kind == LineKind.BLANK:
            blank = True
            continue
        nested = (
            block_kind == "item" and line.indent > cur[0].indent and (not blank or line.indent >= 2)
        )
        if line.quote and not nested:
            new = block_kind != "quote"
            next_kind = "quote"
        elif line.item:
            new = not nested
            next_kind = "item" if new else block_kind
        else:
            new = not (nested or (block_kind in ("para", "quote", "item") and not blank))
            next_kind = "para" if new else block_kind
        if new and cur:
            out.append(cur)
            cur = []
        cur.append(line)
        block_kind, blank = next_kind, False
    if cur:
        out.append(cur)
    return out
