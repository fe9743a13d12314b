"""What a digest says about each of its entries (its summary), read back from the digest itself.

A digest record keeps each entry's title and links, not the words around them; those are in the
digest's bytes, stored as a WARC `resource` record (`original`). `summaries` finds each entry's
part of the markdown again and returns its text without the title, the link lines and the
labelled fields (来源, 分类, 链接, 时间: short values after a bold label). An entry record that
carries a `summary` of its own is taken as it is.

Finding the parts: each entry's anchor is the last line, before the next entry's anchor, that
holds one of its URLs as written (taking the last one skips a table of contents that repeats
the links above the entries); its part starts at the line that carries its title (a heading, a
list item, a bold lead) at or shortly above the anchor, and ends where the next entry starts,
at a heading of its own level or higher, a thematic break (`---`), or an HTML block. This is a
reader's view of the markdown, not the parser's: a summary is text to show and to check, and
an entry it cannot place gets an empty summary rather than another entry's words.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from pathlib import Path
from typing import Any

from crawler.archive import originals

#: Lines above an anchor searched for the entry's title line.
TITLE_REACH = 12
#: A bold or `word:` label followed by no more than this many characters is a field (来源,
#: 时间, 分类, 标签), not a summary.
FIELD_VALUE_MAX = 30

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_BREAK = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_HTML = re.compile(r"^\s*</?[A-Za-z][^>]*>")
_PREFIX = re.compile(r"^\s*(?:>\s*)*(?:(?:[-*+•·]|\d{1,3}[.)、．])\s+)?")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_BARE_URL = re.compile(r"https?://[^\s)）\]】>\"'，。、]+")
_EMPHASIS = re.compile(r"\*\*|__|~~|`|(?<![\w*])\*(?!\s)|(?<!\s)\*(?![\w*])")
_TAG = re.compile(r"<[^>]+>")
_LABEL = re.compile(
    r"(?:\*\*|__)\s*([^*_\n]{1,14}?)\s*(?:[:：]\s*)?(?:\*\*|__)\s*[:：]?"  # **来源**: / **来源：**
    r"|(?:^|(?<=[|｜]))\s*([\w\u4e00-\u9fff]{1,6})\s*[:：]"  # 来源: at the start or after |
)
_LEAD_LABEL = re.compile(
    r"^[^\w*_]{0,3}\s*(?:\*\*|__)\s*[^*_\n]{1,14}?\s*(?:[:：]\s*)?(?:\*\*|__)\s*[:：]?\s*"
)
_TAGS = re.compile(r"\[[^\]]*\]")
#: Sub-headings of an entry that list resources, not what the source says.
_RESOURCES = re.compile(
    r"相关资源|相关链接|参考资料|参考链接|延伸阅读|\b(?:resources|links|references)\b", re.I
)
_NON_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"[ \t\u3000]+")


def key(text: str) -> str:
    """Text reduced for comparing a title with a line: NFKC, case-folded, word characters."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def decode(data: bytes) -> str:
    """Digest bytes as text: UTF-8 (with or without BOM), else GB18030, else UTF-8 replaced."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def plain(text: str) -> str:
    """Markdown inline syntax taken out: links become their text (URLs dropped), no emphasis."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: "" if _BARE_URL.fullmatch(m.group(1).strip()) else m.group(1), text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub("", text)
    text = _BARE_URL.sub("", text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _is_field(content: str) -> bool:
    """A line of labelled fields (`**来源**: 机器之心 | **时间**: ...`): every label a field's
    (`FIELD_LABELS`) with a short value, or every value nothing but links and tags.

    A field's links are its value's labels (来源: [机器之心](url) 、 [量子位](url)), and so are
    bracketed tags (标签: [多模态] [图像生成]).
    """
    bare = _BARE_URL.sub("", _LINK.sub("", content))
    labels = list(_LABEL.finditer(bare))
    if not labels or re.search(r"\w", bare[: labels[0].start()]):
        return False
    ends = [m.start() for m in labels[1:]] + [len(bare)]
    values = [
        plain(_TAGS.sub("", bare[m.end() : end])).strip(" |｜、,，;；/")
        for m, end in zip(labels, ends, strict=True)
    ]
    if not any(values):
        return True
    names = [key(m.group(1) or m.group(2) or "") for m in labels]
    return all(n in FIELD_LABELS for n in names) and all(len(v) <= FIELD_VALUE_MAX for v in values)


#: Labels of a digest's fields about an entry (not what its source says).
_FIELD_WORDS = """来源 分类 时间 日期 标签 价值 链接 原文 原文链接 作者 出处
发布时间 发布日期 评分 类别 栏目 关键词 推荐指数 阅读时间
tags tag source sources link links date category author via"""
FIELD_LABELS = frozenset(key(w) for w in _FIELD_WORDS.split())


def _body_line(line: str) -> str:
    """The summary text a line of an entry's part holds ("" for fields and link lines)."""
    if _HTML.match(line) or _REF_DEF.match(line):
        return ""
    heading = _HEADING.match(line)
    content = heading.group(2) if heading else _PREFIX.sub("", line, count=1)
    if _is_field(content):
        return ""
    if not re.search(r"\w", _BARE_URL.sub("", _LINK.sub("", content))):
        return ""  # links alone ([原文](url), - [GitHub](url))
    content = _LEAD_LABEL.sub("", content, count=1)  # **核心洞察：** long text
    text = plain(content)
    return text if len(key(text)) > 1 else ""


def _first_line(line: str, title: str, urls: set[str]) -> str:
    """What the entry's first line says beyond its title (a quick item's `，summary`)."""
    heading = _HEADING.match(line)
    if heading:
        return ""
    content = _PREFIX.sub("", line, count=1)
    lead = _LINK.match(content.lstrip("*_ "))
    if lead and (lead.group(2) in urls or key(lead.group(1)) == key(title)):
        content = content.lstrip("*_ ")[lead.end() :]
    else:
        bold = _LEAD_LABEL.match(content)
        if bold and key(title) and key(title) in key(bold.group(0)):
            content = content[bold.end() :]
        elif key(title) and key(plain(content)).startswith(key(title)):
            return ""
    text = plain(content).strip(" ，,:：;；-—|")
    return text if len(key(text)) > 1 else ""


def _has_title(line: str, title_key: str) -> bool:
    line_key = key(plain(line))
    if not title_key or not line_key:
        return False
    short = title_key[: max(8, len(title_key) - 2)]  # a title cut with … still matches
    return short in line_key or (len(line_key) >= 6 and line_key in title_key)


class _Lines:
    """The digest's lines with where each starts, and every URL's occurrences by line."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.starts: list[int] = []
        pos = 0
        for line in text.splitlines(keepends=True):
            self.starts.append(pos)
            pos += len(line)
        self.text = text
        self.skip = self._skipped()

    def _skipped(self) -> set[int]:
        """Lines of front matter, fenced code and reference definitions: never anchors."""
        skip: set[int] = set()
        lines = self.lines
        if lines and lines[0].strip() == "---":
            for i in range(1, len(lines)):
                if lines[i].strip() in ("---", "..."):
                    skip.update(range(i + 1))
                    break
        fence = None
        for i, line in enumerate(lines):
            opened = _FENCE.match(line)
            if fence is not None:
                skip.add(i)
                if opened and opened.group(1) == fence:
                    fence = None
            elif opened:
                fence = opened.group(1)
                skip.add(i)
            elif _REF_DEF.match(line):
                skip.add(i)
        return skip

    def occurrences(self, url: str) -> list[int]:
        """Line numbers where `url` is written (sorted)."""
        found: list[int] = []
        if not url:
            return found
        at = self.text.find(url)
        while at != -1:
            line = bisect.bisect_right(self.starts, at) - 1
            if line not in self.skip and (not found or found[-1] != line):
                found.append(line)
            at = self.text.find(url, at + len(url))
        return found


def _anchors(doc: _Lines, entries: list[dict[str, Any]]) -> list[int | None]:
    """Each entry's anchor line (see the module doc).

    From the last entry backwards, an entry's last line is the last line before the next
    entry's that holds one of its URLs; then, forwards, its anchor is the first line after the
    previous entry's last line that holds one of them (its source line, above its related links).
    """
    occurrences = [
        [doc.occurrences(str(link.get("url") or "")) for link in entry.get("links", [])]
        for entry in entries
    ]
    last: list[int | None] = [None] * len(entries)
    bound = len(doc.lines)
    for k in range(len(entries) - 1, -1, -1):
        best = -1
        for lines in occurrences[k]:
            at = bisect.bisect_left(lines, bound) - 1
            if at >= 0:
                best = max(best, lines[at])
        if best < 0:  # no URL written as such (reference links): the title line
            title_key = key(str(entries[k].get("title") or ""))
            for i in range(bound - 1, -1, -1):
                if i not in doc.skip and _has_title(doc.lines[i], title_key):
                    best = i
                    break
        if best >= 0:
            last[k] = best
            bound = best
    # a later entry's URL written above an entry's last line marks an overview (a table of
    # contents) there: the entry's anchor lies below it
    floors: list[int] = [-1] * len(entries)
    later: list[int] = []
    for k in range(len(entries) - 1, -1, -1):
        end = last[k]
        if end is not None:
            at = bisect.bisect_left(later, end) - 1
            floors[k] = later[at] if at >= 0 else -1
        for lines in occurrences[k]:
            for line in lines:
                bisect.insort(later, line)
    anchors: list[int | None] = []
    previous = -1
    for k, end in enumerate(last):
        if end is None:
            anchors.append(None)
            continue
        first = end
        floor = max(previous, floors[k])
        for lines in occurrences[k]:
            at = bisect.bisect_right(lines, floor)
            if at < len(lines) and lines[at] <= end:
                first = min(first, lines[at])
        anchors.append(first)
        previous = end
    return anchors


def _level(line: str) -> int | None:
    heading = _HEADING.match(line)
    return len(heading.group(1)) if heading else None


def parts(text: str, entries: list[dict[str, Any]]) -> list[tuple[int, int] | None]:
    """Each entry's part of the digest as (first line, end line), None where it is not found."""
    doc = _Lines(text)
    anchors = _anchors(doc, entries)
    starts: list[int | None] = []
    previous = -1
    for entry, anchor in zip(entries, anchors, strict=True):
        if anchor is None:
            starts.append(None)
            continue
        title_key = key(str(entry.get("title") or ""))
        start = anchor
        line_with_title = None  # a line that repeats the title, if no heading carries it
        for i in range(anchor, max(previous, anchor - TITLE_REACH), -1):
            if i in doc.skip:
                break
            heading = _level(doc.lines[i]) is not None
            if _has_title(doc.lines[i], title_key):
                if heading:
                    line_with_title = i
                    break
                line_with_title = i if line_with_title is None else line_with_title
            elif i < anchor and (heading or _BREAK.match(doc.lines[i])):
                break  # a heading that is not its title: the entry starts below it
        starts.append(line_with_title if line_with_title is not None else start)
        previous = anchor
    found: list[tuple[int, int] | None] = []
    for k, first in enumerate(starts):
        if first is None:
            found.append(None)
            continue
        start = first
        following = [s for s in starts[k + 1 :] if s is not None and s > start]
        stop = following[0] if following else len(doc.lines)
        own = _level(doc.lines[start])
        end = start + 1
        while end < stop:
            line = doc.lines[end]
            level = _level(line)
            if level is not None and (own is None or level <= own):
                break
            if _BREAK.match(line) or (_HTML.match(line) and end not in doc.skip):
                break
            end += 1
        found.append((start, end))
    return found


def entry_summaries(text: str, entries: list[dict[str, Any]]) -> dict[int, str]:
    """position -> summary of every entry (`""` where none was found)."""
    doc_lines = text.splitlines()
    skip = _Lines(text).skip
    out: dict[int, str] = {}
    for entry, part in zip(entries, parts(text, entries), strict=True):
        position = int(entry.get("position", 0))
        if isinstance(entry.get("summary"), str):
            out[position] = entry["summary"]
            continue
        if part is None:
            out[position] = ""
            continue
        start, end = part
        urls = {str(link.get("url")) for link in entry.get("links", [])}
        title = str(entry.get("title") or "")
        lines = [_first_line(doc_lines[start], title, urls)]
        resources: int | None = None  # the level of a 相关资源 sub-heading being skipped
        for i in range(start + 1, end):
            level = _level(doc_lines[i])
            if resources is not None and (level is None or level > resources):
                continue
            resources = level if level and _RESOURCES.search(doc_lines[i]) else None
            if resources is None and i not in skip:
                lines.append(_body_line(doc_lines[i]))
        out[position] = "\n".join(line for line in lines if line)
    return out


def summaries(root: Path, digest: dict[str, Any]) -> dict[int, str]:
    """position -> summary of each entry of a digest record (read from its stored bytes).

    A digest whose original cannot be read gets the summaries its entries carry, else none.
    """
    entries = [e for e in digest.get("entries", []) if isinstance(e, dict)]
    if all(isinstance(e.get("summary"), str) for e in entries):
        return {int(e.get("position", 0)): e["summary"] for e in entries}
    try:
        text = decode(originals.digest_bytes(root, digest))
    except originals.OriginalError:
        return {int(e.get("position", 0)): str(e.get("summary") or "") for e in entries}
    return entry_summaries(text, entries)
