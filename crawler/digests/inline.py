"""Inline markdown within one line: tokens, the links they carry, plain text, what is citable."""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

_PROMO_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_A_OPEN = re.compile(r"<a\b[^<>]*>", re.IGNORECASE)
_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_COMMENT_END = re.compile(r"-->")
_TITLE = re.compile(r"""^(\S+)\s+(?:"[^"]*"|'[^']*'|\([^()]*\))$""")
_EMPHASIS = re.compile(r"\*\*|__|~~")
_STAR = re.compile(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACES = re.compile(r"\s+")
_SCAN_LIMIT = 4096  # longest autolink or HTML tag an inline scan looks at
_BACKTICKS = re.compile(r"`+")
#: What the pairing pass stops at: an escape (with the character it escapes), backticks, brackets.
_PAIR_MARK = re.compile(r"\\[\s\S]?|`+|[\[\]()]")
#: ASCII that continues a bare URL: printable, but not space or `<>"`|` (see _url_stop).
_URL_ASCII = re.compile(r"[!#-;=?-_a-{}~]*")
#: Where a token may start; every other character is plain text.
_TOKEN_START = re.compile(r"[\\`!\[<hH]")


class TokenKind(StrEnum):
    """What a piece of one line is."""

    TEXT = "text"
    LINK = "link"  # [text](url), [text][ref], [ref], <a href>
    URL = "url"  # a bare URL or an autolink <scheme:...>
    IMAGE = "image"
    CODE = "code"
    TAG = "tag"  # any other HTML tag or comment


@dataclass(frozen=True)
class Token:
    """A piece of one line, with its place in it."""

    kind: TokenKind
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


def _pair_up(s: str) -> _Pairs:
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
    mark = _PAIR_MARK.search(s)
    while mark:
        i, c = mark.start(), mark.group()
        after = mark.end()  # past an escape and its character, or a run of backticks
        if i in code:
            after = code[i]
        elif c == "[":
            open_brackets.append(i)
        elif c == "]" and open_brackets:
            brackets[open_brackets.pop()] = i
        elif c == "(":
            open_parens.append(i)
        elif c == ")" and open_parens:
            parens[open_parens.pop()] = i
        mark = _PAIR_MARK.search(s, after)
    return _Pairs(code, brackets, parens)


def tokens(s: str, refs: Mapping[str, str] | None = None) -> list[Token]:
    """Split one line of markdown into tokens, left to right."""
    refs = refs or {}
    pairs = _pair_up(s)
    closers = _Closers(_NextMatch(s, _A_CLOSE), _NextMatch(s, _COMMENT_END))
    out: list[Token] = []
    plain_start = 0
    n = len(s)
    start = _TOKEN_START.search(s)
    while start:
        i, c = start.start(), start.group()
        tok: Token | None = None
        if c == "\\":
            start = _TOKEN_START.search(s, i + 2)
            continue
        if i in pairs.code:
            end = pairs.code[i]
            tok = Token(TokenKind.CODE, s[i:end].strip("`").strip(), "", i, end)
        elif c == "!" and s.startswith("![", i):
            inner = _bracket_link(s, i + 1, refs, pairs)
            if inner is not None:
                tok = Token(TokenKind.IMAGE, inner.text, inner.url, i, inner.end)
        elif c == "[":
            tok = _bracket_link(s, i, refs, pairs)
        elif c == "<":
            tok = _angle_token(s, i, closers)
        elif c in "hH" and _bare_url_at(s, i):
            tok = _bare_url(s, i)
        if tok is None:
            start = _TOKEN_START.search(s, i + 1)
            continue
        if tok.start > plain_start:
            out.append(
                Token(TokenKind.TEXT, s[plain_start : tok.start], "", plain_start, tok.start)
            )
        out.append(tok)
        plain_start = tok.end
        start = _TOKEN_START.search(s, tok.end)
    if n > plain_start:
        out.append(Token(TokenKind.TEXT, s[plain_start:], "", plain_start, n))
    return out


def _bracket_link(s: str, i: int, refs: Mapping[str, str], pairs: _Pairs) -> Token | None:
    """`[text](target)`, `[text][ref]`, `[ref][]` or a defined `[ref]` starting at i."""
    close = pairs.brackets.get(i)
    if close is None:
        return None
    after = close + 1
    if after in pairs.parens:
        end = pairs.parens[after]
        return Token(TokenKind.LINK, s[i + 1 : close], _link_target(s[after + 1 : end]), i, end + 1)
    if not refs:
        return None
    if after in pairs.brackets:
        end = pairs.brackets[after]
        url = (
            _defined_url(s, after + 1, end, refs)
            if end > after + 1
            else _defined_url(s, i + 1, close, refs)
        )
        if url is not None:
            return Token(TokenKind.LINK, s[i + 1 : close], url, i, end + 1)
    url = _defined_url(s, i + 1, close, refs)
    if url is not None:
        return Token(TokenKind.LINK, s[i + 1 : close], url, i, after)
    return None


def _defined_url(s: str, start: int, end: int, refs: Mapping[str, str]) -> str | None:
    """The URL defined for the label `s[start:end]`, else None.

    No defined label holds a `]`, so a label that does (nested brackets) is not looked up:
    looking up every level of `[[[...]]]` would cost the square of the line's length.
    """
    if s.rfind("]", start, end) != -1:
        return None
    return refs.get(normalize_label(s[start:end]))


def _link_target(raw: str) -> str:
    """The URL of a link target: `<url>` unwrapped, a trailing "title" dropped, and, as
    CommonMark reads a destination, backslash escapes and entities (`&amp;`) decoded."""
    raw = raw.strip()
    if raw.startswith("<") and ">" in raw:
        raw = raw[1 : raw.index(">")].strip()
    else:
        titled = _TITLE.match(raw)
        raw = titled.group(1) if titled else raw
    if "\\" in raw:
        raw = _ESCAPE.sub(r"\1", raw)
    return html.unescape(raw) if "&" in raw else raw


class _NextMatch:
    """The first match of a pattern at or after a position, remembered for the next question.

    A line of ten thousand unclosed `<a>` tags or `<!--` asks once per tag; the positions only
    grow, so each stretch of the line is searched once (not once per tag, up to _SCAN_LIMIT).
    """

    def __init__(self, s: str, pattern: re.Pattern[str]) -> None:
        self.s, self.pattern = s, pattern
        self.searched_from = -1  # where the remembered search started
        self.found: re.Match[str] | None = None  # what it found (None: nothing from there on)

    def at_or_after(self, pos: int) -> re.Match[str] | None:
        """The first match starting at `pos` or later."""
        remembered = 0 <= self.searched_from <= pos
        if remembered and (self.found is None or self.found.start() >= pos):
            return self.found
        self.searched_from, self.found = pos, self.pattern.search(self.s, pos)
        return self.found


@dataclass
class _Closers:
    """Finders for the closing `</a>` and `-->` of one line's tags."""

    anchor: _NextMatch
    comment: _NextMatch


def _angle_token(s: str, i: int, closers: _Closers) -> Token | None:
    """An autolink `<scheme:...>`, an HTML `<a href>` with its text, or any other tag.

    A closing `</a>` or `-->` counts only within _SCAN_LIMIT characters of its opening tag.
    """
    m = _AUTOLINK.match(s, i, i + _SCAN_LIMIT)
    if m:
        return Token(TokenKind.URL, "", m.group(1), i, m.end())
    m = _A_OPEN.match(s, i, i + _SCAN_LIMIT)
    if m:
        href = _HREF.search(m.group(0))
        if href:
            url = html.unescape(next(g for g in href.groups() if g is not None)).strip()
            close = closers.anchor.at_or_after(m.end())
            if close and close.end() <= m.end() + _SCAN_LIMIT:
                return Token(TokenKind.LINK, s[m.end() : close.start()], url, i, close.end())
            return Token(TokenKind.LINK, "", url, i, m.end())
    if s.startswith("<!--", i):  # a comment; tokens() reads one line, so no newline within
        close = closers.comment.at_or_after(i + 4)
        if close and close.end() <= i + _SCAN_LIMIT:
            return Token(TokenKind.TAG, "", "", i, close.end())
        return None
    m = _TAG.match(s, i, i + _SCAN_LIMIT)
    if m:
        return Token(TokenKind.TAG, "", "", i, m.end())
    return None


def _bare_url_at(s: str, i: int) -> bool:
    """True when an http(s) URL starts at i and does not continue a word, path or address."""
    head = s[i : i + 8].lower()
    if not (head.startswith("http://") or head == "https://"):
        return False
    prev = s[i - 1] if i else " "
    return not (prev.isascii() and (prev.isalnum() or prev in "/@."))


def _is_cjk(ch: str) -> bool:
    """True for CJK text and punctuation (and general punctuation), which ends a bare URL."""
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


def _trim_bare_url(url: str) -> str:
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


def _bare_url(s: str, i: int) -> Token | None:
    """The bare URL starting at i, trimmed; None when only the scheme is there."""
    j, n = i, len(s)
    while True:
        run = _URL_ASCII.match(s, j)
        j = run.end() if run else j
        if j < n and not s[j].isascii() and not _url_stop(s[j]):
            j += 1
            continue
        break
    written = _trim_bare_url(s[i:j])
    if written.lower() in ("http://", "https://", "http:", "https:"):
        return None
    return Token(TokenKind.URL, "", _bare_unescaped(written), i, i + len(written))


def _bare_unescaped(url: str) -> str:
    """A bare URL as the reader sees it: markdown's backslash escapes (`\\_\\_biz`, written by
    HTML-to-markdown converters) and `&amp;` decoded; a URL never holds either as such."""
    if "\\" in url:
        url = _ESCAPE.sub(r"\1", url)
    return url.replace("&amp;", "&") if "&amp;" in url else url


def normalize_label(label: str) -> str:
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


#: Pages a digest cites that a crawler cannot read as a reader would, by host: recorded and
#: fetched like any link, with a note saying what they are.
_NOTED_HOSTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("xiaohongshu.com", "xhslink.com"),
        "xiaohongshu note: its xsec_token belongs to the sharer and expires; "
        "the page may ask for a login",
    ),
    (("cubox.pro", "cubox.cc"), "cubox card: private to its owner's account (login-only)"),
    (
        ("feishu.cn", "larksuite.com", "larkoffice.com"),
        "feishu document: readable only by those it is shared with (login-only)",
    ),
    (("docs.qq.com",), "tencent docs: readable only by those it is shared with (login-only)"),
    (("pan.baidu.com", "alipan.com", "aliyundrive.com"), "cloud drive share: login-only"),
)


_NOTED_NAMES = tuple(host for hosts, _ in _NOTED_HOSTS for host in hosts)


def url_note(url: str) -> str | None:
    """What a cited page is when a crawler reading it needs telling (private or login-only)."""
    low = url.lower()
    if not low.startswith(("http://", "https://")) or not any(n in low for n in _NOTED_NAMES):
        return None
    rest = url.split("://", 1)[1]
    host = re.split(r"[/?#\\]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0].lower()
    for hosts, note in _NOTED_HOSTS:
        if any(host == h or host.endswith("." + h) for h in hosts):
            return note
    return None


def plain_text(
    s: str, refs: Mapping[str, str] | None = None, *, urls: bool = True, _depth: int = 0
) -> str:
    """Markdown/HTML stripped to plain text; link syntax keeps its text, images vanish."""
    if _depth > 3:  # absurdly nested link text: keep it flat
        return _SPACES.sub(" ", s).strip()
    parts: list[str] = []
    for tok in tokens(s, refs):
        if tok.kind == TokenKind.TEXT:
            parts.append(_ESCAPE.sub(r"\1", _STAR.sub("", _EMPHASIS.sub("", tok.text))))
        elif tok.kind == TokenKind.LINK:
            parts.append(plain_text(tok.text, refs, urls=urls, _depth=_depth + 1))
        elif tok.kind == TokenKind.URL and urls:
            parts.append(tok.url)
        elif tok.kind == TokenKind.CODE:
            parts.append(tok.text)
    return _SPACES.sub(" ", html.unescape("".join(parts))).strip()


def _link_text(tok: Token, refs: Mapping[str, str]) -> str:
    """Anchor text of a link token; a linked image gives its alt text; "" when it is the URL."""
    text = plain_text(tok.text, refs)
    if not text:
        images = [t for t in tokens(tok.text, refs) if t.kind == TokenKind.IMAGE]
        text = plain_text(images[0].text, refs) if images else ""
    return "" if text == tok.url else text


def extract_links(s: str, refs: Mapping[str, str] | None = None) -> list[RawLink]:
    """Citable http(s) links of one line, in order; images, mailto:, anchors etc. are dropped."""
    refs = refs or {}
    return [
        RawLink(tok.url, _link_text(tok, refs), tok.start, tok.end)
        for tok in tokens(s, refs)
        if tok.kind in (TokenKind.LINK, TokenKind.URL) and is_citable(tok.url)
    ]
