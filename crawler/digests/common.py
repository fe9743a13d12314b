"""Shared helpers for the digest parsers: decoding, line scanning, inline links, entry drafts."""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from crawler.items import Entry, Link, Role


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


# --- inline markdown ------------------------------------------------------------------------

_PROMO_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_A_OPEN = re.compile(r"<a\b[^<>]*>", re.IGNORECASE)
_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>")
_TITLE = re.compile(r"""^(\S+)\s+(?:"[^"]*"|'[^']*'|\([^()]*\))$""")
_EMPHASIS = re.compile(r"\*\*|__|~~")
_STAR = re.compile(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACES = re.compile(r"\s+")
_SCAN_LIMIT = 4096  # longest autolink or HTML tag an inline scan looks at
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class Token:
    """A piece of one line: text, link, auto (bare URL / autolink), image, code or tag."""

    kind: str
    text: str
    url: str
    start: int
    end: int


@dataclass(frozen=True)
class RawLink:
    """A link found in a line, before it gets a role."""

    url: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class _Pairs:
    """Where each code span, `[` and `(` of a line closes: start index -> end index."""

    code: dict[int, int]
    brackets: dict[int, int]
    parens: dict[int, int]


def _pairs(s: str) -> _Pairs:
    """Match code spans, brackets and parentheses of a line in one pass (escapes honoured)."""
    code: dict[int, int] = {}
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(s)]
    by_len: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(runs):
        by_len.setdefault(b - a, []).append(k)
    covered = -1
    for k, (a, b) in enumerate(runs):
        same = by_len[b - a]
        nxt = bisect.bisect_right(same, k)
        if a >= covered and nxt < len(same):
            covered = code[a] = runs[same[nxt]][1]
    brackets: dict[int, int] = {}
    parens: dict[int, int] = {}
    open_brackets: list[int] = []
    open_parens: list[int] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if i in code:
            i = code[i]
            continue
        if c == "[":
            open_brackets.append(i)
        elif c == "]" and open_brackets:
            brackets[open_brackets.pop()] = i
        elif c == "(":
            open_parens.append(i)
        elif c == ")" and open_parens:
            parens[open_parens.pop()] = i
        i += 1
    return _Pairs(code, brackets, parens)


def tokens(s: str, refs: Mapping[str, str] | None = None) -> list[Token]:
    """Split one line of markdown into tokens, left to right."""
    refs = refs or {}
    pairs = _pairs(s)
    out: list[Token] = []
    i = plain_start = 0
    n = len(s)
    while i < n:
        c = s[i]
        tok: Token | None = None
        if c == "\\":
            i += 2
            continue
        if i in pairs.code:
            end = pairs.code[i]
            tok = Token("code", s[i:end].strip("`").strip(), "", i, end)
        elif c == "!" and s.startswith("![", i):
            inner = _bracket(s, i + 1, refs, pairs)
            if inner is not None:
                tok = Token("image", inner.text, inner.url, i, inner.end)
        elif c == "[":
            tok = _bracket(s, i, refs, pairs)
        elif c == "<":
            tok = _angle(s, i)
        elif c in "hH" and _bare_start(s, i):
            tok = _bare(s, i)
        if tok is None:
            i += 1
            continue
        if tok.start > plain_start:
            out.append(Token("text", s[plain_start : tok.start], "", plain_start, tok.start))
        out.append(tok)
        i = plain_start = tok.end
    if n > plain_start:
        out.append(Token("text", s[plain_start:], "", plain_start, n))
    return out


def _bracket(s: str, i: int, refs: Mapping[str, str], pairs: _Pairs) -> Token | None:
    """`[text](target)`, `[text][ref]`, `[ref][]` or a defined `[ref]` starting at i."""
    close = pairs.brackets.get(i)
    if close is None:
        return None
    inner = s[i + 1 : close]
    after = close + 1
    if after in pairs.parens:
        end = pairs.parens[after]
        return Token("link", inner, _target(s[after + 1 : end]), i, end + 1)
    if after in pairs.brackets:
        end = pairs.brackets[after]
        url = refs.get(norm_label(s[after + 1 : end] or inner))
        if url is not None:
            return Token("link", inner, url, i, end + 1)
    url = refs.get(norm_label(inner))
    if url is not None:
        return Token("link", inner, url, i, after)
    return None


def _target(raw: str) -> str:
    """The URL of a link target: `<url>` unwrapped, a trailing "title" dropped, else as written."""
    raw = raw.strip()
    if raw.startswith("<") and ">" in raw:
        return raw[1 : raw.index(">")].strip()
    titled = _TITLE.match(raw)
    return titled.group(1) if titled else raw


def _angle(s: str, i: int) -> Token | None:
    """An autolink `<scheme:...>`, an HTML `<a href>` with its text, or any other tag."""
    m = _AUTOLINK.match(s, i, i + _SCAN_LIMIT)
    if m:
        return Token("auto", "", m.group(1), i, m.end())
    m = _A_OPEN.match(s, i, i + _SCAN_LIMIT)
    if m:
        href = _HREF.search(m.group(0))
        if href:
            url = html.unescape(next(g for g in href.groups() if g is not None)).strip()
            close = _A_CLOSE.search(s, m.end(), m.end() + _SCAN_LIMIT)
            if close:
                return Token("link", s[m.end() : close.start()], url, i, close.end())
            return Token("link", "", url, i, m.end())
    m = _TAG.match(s, i, i + _SCAN_LIMIT)
    if m:
        return Token("tag", "", "", i, m.end())
    return None


def _bare_start(s: str, i: int) -> bool:
    head = s[i : i + 8].lower()
    if not (head.startswith("http://") or head == "https://"):
        return False
    prev = s[i - 1] if i else " "
    return not (prev.isascii() and (prev.isalnum() or prev in "/@."))


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2000 <= o <= 0x206F  # general punctuation: “ ” ‘ ’ … —
        or 0x2E80 <= o <= 0x9FFF  # CJK radicals, symbols and punctuation, kana, ideographs
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFE10 <= o <= 0xFE6F
        or 0xFF00 <= o <= 0xFFEF  # full-width forms: （ ） ， ： ！
    )


def _url_stop(ch: str) -> bool:
    """True for a character that ends a bare URL."""
    if ch.isascii():
        return ch.isspace() or ch in '<>"`|' or not ch.isprintable()
    return _is_cjk(ch) or unicodedata.category(ch)[0] in "PSZC"


def _trim(url: str) -> str:
    """Strip trailing punctuation and unbalanced closing brackets from a bare URL."""
    surplus = {")": url.count(")") - url.count("("), "]": url.count("]") - url.count("[")}
    end = len(url)
    while end:
        c = url[end - 1]
        if c in ".,;:!?'*":
            end -= 1
        elif surplus.get(c, 0) > 0:
            surplus[c] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _bare(s: str, i: int) -> Token | None:
    j = i
    while j < len(s) and not _url_stop(s[j]):
        j += 1
    url = _trim(s[i:j])
    if url.lower() in ("http://", "https://", "http:", "https:"):
        return None
    return Token("auto", "", url, i, i + len(url))


def norm_label(label: str) -> str:
    """Normalise a reference label for lookup."""
    return _SPACES.sub(" ", label).strip().casefold()


#: Schemes that are no citation: mail, scripts, phone numbers, inline data.
_NOT_CITED = ("mailto:", "javascript:", "tel:", "sms:", "data:", "about:")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:")


def is_citable(url: str) -> bool:
    """True for a link a digest cites: http(s) but the newsletter's own promotion, and other
    schemes (file:, ftp:) too, which the crawl records as unusable rather than drop."""
    low = url.lower()
    if not low.startswith(("http://", "https://")):
        return bool(_SCHEME.match(low)) and not low.startswith(_NOT_CITED)
    rest = url.split("://", 1)[1]
    host = re.split(r"[/?#\\]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0]
    return host.lower() not in _PROMO_HOSTS


def plain(
    s: str, refs: Mapping[str, str] | None = None, *, urls: bool = True, _depth: int = 0
) -> str:
    """Markdown/HTML stripped to plain text; link syntax keeps its text, images vanish."""
    if _depth > 3:  # absurdly nested link text: keep it flat
        return _SPACES.sub(" ", s).strip()
    parts: list[str] = []
    for tok in tokens(s, refs):
        if tok.kind == "text":
            parts.append(_ESCAPE.sub(r"\1", _STAR.sub("", _EMPHASIS.sub("", tok.text))))
        elif tok.kind == "link":
            parts.append(plain(tok.text, refs, urls=urls, _depth=_depth + 1))
        elif tok.kind == "auto" and urls:
            parts.append(tok.url)
        elif tok.kind == "code":
            parts.append(tok.text)
    return _SPACES.sub(" ", html.unescape("".join(parts))).strip()


def _link_text(tok: Token, refs: Mapping[str, str]) -> str:
    """Anchor text of a link token; a linked image gives its alt text; "" when it is the URL."""
    text = plain(tok.text, refs)
    if not text:
        images = [t for t in tokens(tok.text, refs) if t.kind == "image"]
        text = plain(images[0].text, refs) if images else ""
    return "" if text == tok.url else text


def extract_links(s: str, refs: Mapping[str, str] | None = None) -> list[RawLink]:
    """Citable http(s) links of one line, in order; images, mailto:, anchors etc. are dropped."""
    refs = refs or {}
    return [
        RawLink(tok.url, _link_text(tok, refs), tok.start, tok.end)
        for tok in tokens(s, refs)
        if tok.kind in ("link", "auto") and is_citable(tok.url)
    ]


# --- lines and sections ---------------------------------------------------------------------

TEXT, BLANK, HEADING, BREAK, SKIP = "text", "blank", "heading", "break", "skip"

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t\u3000]+(.*))?$")
_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?")
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
    kind: str = TEXT
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
    """A scanned digest: classified lines, front matter and the title heading."""

    lines: list[Line]
    meta: dict[str, str]
    title_line: Line | None
    sections: list[Section] = field(init=False)

    def __post_init__(self) -> None:
        self.sections = [Section(None, [])]
        for line in self.lines:
            if line.kind == HEADING:
                self.sections.append(Section(line, []))
            else:
                self.sections[-1].lines.append(line)

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
        return [(s, below[k]) for k, s in enumerate(secs) if k and s.heading is not self.title_line]


def scan(text: str) -> Doc:
    """Classify every line of a markdown digest and find its links."""
    lines = [Line(no, raw) for no, raw in enumerate(text.splitlines(), 1)]
    meta = _front_matter(lines)
    _mark_code(lines)
    refs = _ref_defs(lines)
    _mark_html(lines)
    for line in lines:
        if line.kind == TEXT:
            _classify(line, refs)
    return Doc(lines, meta, _title_line(lines))


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
        line.kind = SKIP
    return meta


def _mark_code(lines: list[Line]) -> None:
    """Skip fenced code blocks; an unclosed fence skips only its own line."""
    closers: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}  # (line index, length)
    for k, line in enumerate(lines):
        bare = line.text.strip()
        if line.kind == TEXT and _FENCE.match(line.text) and not bare.strip(bare[0]):
            closers[bare[0]].append((k, len(bare)))
    k = 0
    while k < len(lines):
        m = _FENCE.match(lines[k].text) if lines[k].kind == TEXT else None
        if not m:
            k += 1
            continue
        fence = m.group(1)
        candidates = closers[fence[0]]
        at = bisect.bisect_right(candidates, (k, len(lines) + 1))
        close = next((j for j, size in candidates[at:] if size >= len(fence)), k)
        for line in lines[k : close + 1]:
            line.kind = SKIP
        k = close + 1


def _ref_defs(lines: list[Line]) -> dict[str, str]:
    """Collect (and skip) reference definitions `[label]: url`."""
    refs: dict[str, str] = {}
    for line in lines:
        m = _REFDEF.match(line.text) if line.kind == TEXT else None
        if m:
            refs.setdefault(norm_label(m.group(1)), m.group(2))
            line.kind = SKIP
    return refs


def _mark_html(lines: list[Line]) -> None:
    """Skip HTML comments and promotional HTML blocks (Telegram cards, QR codes)."""
    k = 0
    while k < len(lines):
        m = _HTML_BLOCK.match(lines[k].text) if lines[k].kind == TEXT else None
        if not m or (m.group(1) and m.group(1).lower() not in _BLOCK_TAGS):
            k += 1
            continue
        comment = not m.group(1)
        end = k
        while end + 1 < len(lines) and lines[end + 1].kind == TEXT:
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
                line.kind = SKIP
        k = end + 1


def _classify(line: Line, refs: Mapping[str, str]) -> None:
    text = line.text
    if not text.strip():
        line.kind = BLANK
        return
    m = _HEADING.match(text)
    if m:
        line.kind = HEADING
        line.level = len(m.group(1))
        content = (m.group(2) or "").strip()
        bare = content.rstrip("#")
        if not bare or bare[-1] in " \t":  # an optional closing `###`
            content = bare.rstrip()
        line.content = content
    elif _BREAK.match(text):
        line.kind = BREAK
        return
    else:
        body = text
        q = _QUOTE.match(body)
        while q:
            line.quote = True
            body = body[q.end() :]
            q = _QUOTE.match(body)
        item = _ITEM.match(body)
        if item:
            line.item = True
            line.indent = len(item.group(1).expandtabs(4))
            body = body[item.end() :]
        else:
            line.indent = len(body.expandtabs(4)) - len(body.expandtabs(4).lstrip())
        line.content = body.strip()
    line.links = extract_links(line.content, refs)


def _title_line(lines: list[Line]) -> Line | None:
    """The digest's title: the first heading, when it alone has the shallowest level."""
    heads = [ln for ln in lines if ln.kind == HEADING]
    if not heads:
        return None
    top = min(h.level for h in heads)
    tops = [h for h in heads if h.level == top]
    return heads[0] if len(tops) == 1 and tops[0] is heads[0] else None


# --- blocks ---------------------------------------------------------------------------------


def blocks(lines: Iterable[Line]) -> list[list[Line]]:
    """Group lines into paragraphs, top-level list items (with nested ones) and quotes."""
    out: list[list[Line]] = []
    cur: list[Line] = []
    kind = ""
    blank = False
    for line in lines:
        if line.kind in (SKIP, BREAK, HEADING) or (line.kind == BLANK and kind != "item"):
            if cur:
                out.append(cur)
            cur, kind, blank = [], "", False
            if line.kind == HEADING:
                out.append([line])
            continue
        if line.kind == BLANK:
            blank = True
            continue
        nested = kind == "item" and line.indent > cur[0].indent and (not blank or line.indent >= 2)
        if line.quote and not nested:
            new = kind != "quote"
            kind_next = "quote"
        elif line.item:
            new = not nested
            kind_next = "item" if new else kind
        else:
            new = not (nested or (kind in ("para", "quote", "item") and not blank))
            kind_next = "para" if new else kind
        if new and cur:
            out.append(cur)
            cur = []
        cur.append(line)
        kind, blank = kind_next, False
    if cur:
        out.append(cur)
    return out


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


def block_title(block: list[Line]) -> str:
    """Title of a list item or paragraph: its leading link's text, bold lead, or its text."""
    first = block[0]
    lead = lead_link(first)
    if lead and lead.text:
        return lead.text
    bold = _BOLD_LEAD.match(first.content)
    if bold:
        text = plain(bold.group(2)).strip(_TRAILING)
        if text:
            return text
    text = _EMPTY_PAIRS.sub("", plain(first.content, urls=False))  # where bare URLs were
    text = _SPACES.sub(" ", text).strip(_TRAILING)
    return text if len(text) <= 120 else text[:120].rstrip() + "…"


def heading_text(line: Line) -> str | None:
    """Plain text of a heading, None when empty."""
    return plain(line.content) or None


# --- entry drafts ---------------------------------------------------------------------------


@dataclass
class Draft:
    """An entry being built; links are unique by URL and `source` wins over `related`."""

    title: str
    section: str | None = None
    labels: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def add(self, raw: RawLink, role: Role, text: str | None = None) -> None:
        """Add a link, or upgrade the role and text of the same URL already there."""
        text = raw.text if text is None else text
        for link in self.links:
            if link.url == raw.url:
                if role == Role.SOURCE:
                    link.role = Role.SOURCE
                link.text = link.text or text
                return
        self.links.append(Link(url=raw.url, role=role, text=text))

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


def field_of(line: Line) -> tuple[str, int] | None:
    """`(name, offset of the value in content)` for a `**来源：**`-style field line."""
    if line.kind != TEXT:
        return None
    m = _FIELD.match(line.content)
    return (m.group(1), m.end()) if m else None


def field_value(line: Line, offset: int) -> str:
    """The plain value of a field, up to the next `|` or bold field."""
    value = re.split(r"\s\|\s|\|\s*\*\*|\s\*\*", line.content[offset:], maxsplit=1)[0]
    return plain(value)


def field_links(line: Line, names: frozenset[str]) -> list[RawLink]:
    """The links after the marker of a field named in `names`, else []."""
    found = field_of(line)
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
        return plain(heading.content)

    def start(self, heading: Line, section: str | None) -> Draft:
        """A new entry from its heading; the heading's first link is a source."""
        draft = Draft(self.title(heading), section)
        draft.add_first_source(heading.links)
        return draft

    def line(self, draft: Draft, line: Line) -> None:
        """Add a body line: 分类 sets the section, 来源 and 链接 give sources, the rest related."""
        found = field_of(line)
        name, offset = found if found else ("", 0)
        if name == "分类":
            draft.section = field_value(line, offset) or draft.section
        elif name in SOURCE_FIELDS:
            after = [raw for raw in line.links if raw.start >= offset]
            draft.labels += [raw.text for raw in after] or [
                label
                for label in map(plain, _LABEL_SPLIT.split(field_value(line, offset)))
                if label
            ]
        for raw in line.links:
            if name in SOURCE_FIELDS | LINK_FIELDS and raw.start >= offset:
                draft.add(raw, Role.SOURCE)
            else:
                draft.add(raw, Role.RELATED, raw.text or self.item_label(line))

    @staticmethod
    def item_label(line: Line) -> str:
        """The bold label of a `- **label**: url` list item, else ""."""
        m = _ITEM_LABEL.match(line.content) if line.item else None
        return plain(m.group(1)) if m else ""


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
            cur = rules.start(head, outer)
            drafts.append(cur)
            for line in sec.lines:
                rules.line(cur, line)
        elif head.level == level:
            cur = None
            drafts += block_drafts(sec.lines, heading_text(head) or outer)
        elif cur is not None:
            for raw in head.links:
                cur.add(raw, Role.RELATED)
            for line in sec.lines:
                rules.line(cur, line)
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


# --- dates ----------------------------------------------------------------------------------

_DATES = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<!\d)(\d{4})[-/._](\d{1,2})[-/._](\d{1,2})(?!\d)"),
)
_COMPACT_DATE = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


def find_date(text: str, *, compact: bool = False) -> str | None:
    """The first valid date in text as ISO `YYYY-MM-DD` (`20260205` too when compact)."""
    patterns = (*_DATES, _COMPACT_DATE) if compact else _DATES
    for pattern in patterns:
        for m in pattern.finditer(text):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                continue
    return None
