"""Shared machinery of the extractors: sniffing, decoding, the base extractor and its helpers.

An extractor turns one fetched page into an `Extracted`. `Extractor` is the generic one: it reads
the body with trafilatura and the metadata from trafilatura plus the page's own tags. A site
extractor subclasses it and overrides only what differs on its site:

- `container`: XPaths of the element that holds the article body (first match wins). The body is
  then read from that element only, unhidden, with the rest of the page cut away.
- `prune`: XPaths removed before reading the body (share widgets, ads, related lists).
- `drop_lines` / `end_lines`: regexes of boilerplate lines to drop / of lines that end the article.
- `metadata(page)`: the fields the site states plainly (title, author, published, ...); they win
  over what trafilatura guessed.
- `page_state(page)`: recognises error, takedown and verification pages before any extraction.

Everything here is pure (no Scrapy, no network) and keeps no mutable state besides caches.
"""

from __future__ import annotations

import codecs
import html as htmllib
import json
import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property, lru_cache
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import extract_metadata
from trafilatura.settings import use_config
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding

from crawler.items import Extracted

#: (status, reason) of a page that is not an article.
State = tuple[str, str]

#: Bytes of HTML we read at most; the rest of a bigger page is cut (and flagged in extra).
MAX_HTML_BYTES = 10_000_000

CHINA_TZ = timezone(timedelta(hours=8))

# --------------------------------------------------------------------------------------------
# Sniffing and decoding


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!", "application/vnd.rar"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
)

_TEXTUAL_TYPES = {
    "application/json",
    "application/ld+json",
    "application/javascript",
    "application/xml",
    "application/xhtml+xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/x-ndjson",
}


def media_type(content_type: str | None) -> str:
    """The bare, lowercased media type of a Content-Type header ("" when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def magic_type(body: bytes) -> str | None:
    """The media type told by the first bytes of a binary format, else None."""
    head = body[:1024]
    if b"%PDF-" in head:  # some servers prepend junk or whitespace to the PDF header
        return "application/pdf"
    for magic, mtype in _MAGIC:
        if head.startswith(magic):
            return mtype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _looks_like_markup(body: bytes) -> bool:
    start = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith(b"<")


def sniff(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    """Kind of the body ("html", "xml", "json", "text", "binary", "unknown") and its media type."""
    mtype = media_type(content_type)
    magic = magic_type(body)
    if magic:
        return "binary", magic if not mtype or "html" in mtype or "text" in mtype else mtype
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head[:512].lower()
    textual = (
        mtype.startswith("text/") or mtype in _TEXTUAL_TYPES or mtype.endswith(("+xml", "+json"))
    )
    if mtype and not textual and not _looks_like_markup(body):
        return "binary", mtype
    if lowered.startswith(b"<?xml") or ("xml" in mtype and "html" not in mtype):
        is_html = b"<html" in body[:4096].lower()
        return ("html" if is_html else "xml"), mtype or "application/xml"
    if "json" in mtype or (not mtype and head[:1] in (b"{", b"[") and _is_json(body)):
        return "json", mtype or "application/json"
    if mtype == "text/plain":
        return "text", mtype
    if "html" in mtype or _looks_like_markup(body):
        return "html", mtype or "text/html"
    if not mtype:
        return ("unknown" if binary_noise(body) else "text"), "text/plain"
    return "text", mtype


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])


def binary_noise(body: bytes) -> bool:
    """True when the bytes carry control characters no text would."""
    sample = body[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(sample) // 100)


def _valid_encoding(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    if not resolved:
        return None
    try:
        codecs.lookup(resolved)
    except LookupError:
        return None
    return resolved


_LATE_META = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_\-]+)", re.I)


def detect_encoding(body: bytes) -> str | None:
    """Encoding of bytes that declare none: strict UTF-8, a late <meta charset>, else a guess."""
    sample = body[:200_000]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(body) > len(sample) and exc.start >= len(sample) - 4:  # a character cut in two
            return "utf-8"
    else:
        return "utf-8"
    match = _LATE_META.search(body[:65536])  # saved pages sometimes declare it after 4 KB
    if match and (declared := _valid_encoding(match.group(1).decode("ascii"))):
        return declared
    best = charset_normalizer.from_bytes(body[:65536]).best()
    return _valid_encoding(best.encoding) if best else None


def _replacements(text: str) -> int:
    return text.count("\ufffd")


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding) of an HTML body, as a browser would decode it.

    Order: BOM, Content-Type charset, <meta> charset (first 4 KB), detection. gb2312 and gbk are
    read as gb18030 and big5 as big5hkscs. When the declared encoding garbles the text but another
    candidate reads it cleanly, the clean one wins (Chinese servers often declare the wrong one).
    """
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=detect_encoding)
    bad = _replacements(text)
    if bad > 10 and bad > len(text) // 1000:
        candidates = [html_body_declared_encoding(body), detect_encoding(body), "gb18030", "utf-8"]
        for candidate in candidates:
            candidate = _valid_encoding(candidate)
            if not candidate or candidate == encoding:
                continue
            alt = body.decode(candidate, errors="replace")
            if _replacements(alt) * 4 < bad:
                return alt, candidate
    return text, encoding


def decode_text(body: bytes, content_type: str | None = None) -> str:
    """Text of a non-HTML textual body (JSON, plain text, XML)."""
    return html_to_unicode(content_type, body, auto_detect_fun=detect_encoding)[1]


# --------------------------------------------------------------------------------------------
# Dates


_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?"
    r"(?:\.\d+)?\s*(?P<tz>Z|[+-]\d\d:?\d\d|UTC|GMT)?)?"
)


def _tz(value: str | None, default: timezone | None) -> timezone | None:
    if not value:
        return default
    if value in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds and offset ("2020-02-12T22:17:54+08:00")."""
    return moment.isoformat(timespec="seconds")


def parse_date(value: Any, tz: timezone | None = CHINA_TZ) -> str | None:
    """ISO 8601 of a date as pages write it, with time and offset when the page gives a time.

    Reads unix timestamps, ISO strings, "2020-02-12 22:17", "2024/1/25 8:02:33", "2020年2月12日",
    RFC 2822 ("Thu, 17 Jun 2021 00:36:58 UTC"). A time without offset is taken in `tz` (Beijing by
    default); with `tz=None` such a time is dropped and only the date is kept. Relative dates
    ("昨天", "3小时前") give None.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{10}(?:\d{3})?", text):
        seconds = int(text[:10])
        if seconds <= 0:
            return None
        return iso(datetime.fromtimestamp(seconds, tz or UTC))
    match = _DATE_RE.search(text)
    if match:
        try:
            day = datetime(int(match["y"]), int(match["m"]), int(match["d"]))
            if match["H"] is None:
                return day.date().isoformat()
            moment = day.replace(
                hour=int(match["H"]), minute=int(match["M"]), second=int(match["S"] or 0)
            )
        except ValueError:
            return None
        zone = _tz(match["tz"], tz)
        if zone is None:
            return day.date().isoformat()
        return iso(moment.replace(tzinfo=zone))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is not None:
        if moment.tzinfo is None:
            return iso(moment.replace(tzinfo=tz)) if tz else moment.date().isoformat()
        return iso(moment)
    for fmt in ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------------------------
# Text helpers


_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff]+")
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "button", "select"]
)


def squash(text: str | None) -> str:
    """Whitespace collapsed to single spaces, stripped."""
    return _SPACES.sub(" ", (text or "").replace("\n", " ")).strip()


def node_text(element: Any) -> str:
    """Visible text of an element, one line per block (paragraph, div, section, li, br)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS:
            if node.tail:
                parts.append(node.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    walk(element)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def cls(name: str) -> str:
    """XPath test that the class attribute holds the token `name`.

    The plain `contains` first lets most elements fail fast: the token test builds two strings
    per element, and it runs on every element of the page.
    """
    return (
        f'(contains(@class, "{name}") and '
        f'contains(concat(" ", normalize-space(@class), " "), " {name} "))'
    )


_JS_START = r"(?:\bvar\s+|\blet\s+|\bconst\s+|\bwindow\.|\bd\.|[{,\s])"


def _js_literal(source: str, start: int) -> tuple[str | None, int]:
    """Read a JS string literal starting at source[start] (a quote); (value, end index)."""
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i + 2 : i + 4]):
                out.append(chr(int(source[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", source[i + 2 : i + 6]):
                out.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append({"n": "\n", "t": "\t", "r": "", "0": ""}.get(nxt, nxt))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        if char == "\n" and quote != "`":
            return None, i
        out.append(char)
        i += 1
    return None, i


@lru_cache(maxsize=256)
def _js_patterns(name: str, declared: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the assignment of `name`, what must come right before it) as compiled regexes."""
    start = r"(?:\bvar\s+|\blet\s+|\bconst\s+|\bwindow\.)" if declared else _JS_START
    return re.compile(re.escape(name) + r"\s*(?:=(?!=)|:)\s*"), re.compile(f"{start}$")


def js_string(source: str, name: str, declared: bool = False) -> str | None:
    """First non-empty value assigned to a JS variable or property `name` in `source`.

    Handles `var x = "a" || "b"`, `x: 'a'`, `window.x = ...`, `htmlDecode("a")`, `JsDecode('a')`
    and `'a'.html(false)`; JS escapes and HTML entities are decoded. With `declared`, only
    `var`/`let`/`const`/`window.` assignments count (not object properties).
    """
    pattern, before = _js_patterns(name, declared)
    for match in pattern.finditer(source):
        # the name is searched as a literal (fast); what precedes it is checked after
        if not before.search(source, max(0, match.start() - 40), match.start()):
            continue
        i = match.end()
        while i < len(source):
            wrapper = re.match(r"(?:[A-Za-z_$][\w$.]*\()\s*", source[i : i + 40])
            if wrapper:
                i += wrapper.end()
            if i >= len(source) or source[i] not in "\"'`":
                break
            value, i = _js_literal(source, i)
            if value is None:
                break
            value = htmllib.unescape(value).strip()
            if value:
                return value
            rest = re.match(r"\s*\)?\s*(?:\.html\([^)]*\))?\s*(\|\|)?\s*", source[i : i + 60])
            if not rest or not rest.group(1):
                break
            i += rest.end()
    return None


def absolute(url: str | None, base: str) -> str | None:
    """`url` made absolute against `base`; None for empty, data: and javascript: URLs."""
    if not url:
        return None
    url = url.strip()
    if not url or url.startswith(("data:", "javascript:", "about:", "#")):
        return None
    try:
        return urljoin(base, url)
    except ValueError:
        return None


def host_of(url: str) -> str:
    """Lowercased host of a URL without port ("" when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_SPACE = re.compile(r"\s")


def cjk_ratio(text: str) -> float:
    """Share of CJK ideographs among the non-space characters of `text`."""
    sample = text[:5000]
    chars = len(sample) - _SPACE.subn("", sample)[1]
    if not chars:
        return 0.0
    return _CJK.subn("", sample)[1] / chars


def guess_language(text: str) -> str | None:
    """ "zh" for mostly Chinese text, "en" for mostly Latin text, else None."""
    if cjk_ratio(text) > 0.08:  # Chinese posts full of code or English terms still count
        return "zh"
    letters = [c for c in text[:5000] if c.isalpha()]
    if letters and sum(1 for c in letters if c.isascii()) / len(letters) > 0.8:
        return "en"
    return None


def _primary_language(value: str | None) -> str | None:
    value = (value or "").strip().replace("_", "-").lower()
    match = re.match(r"[a-z]{2,3}(?=$|-)", value)
    return match.group(0) if match else None


# --------------------------------------------------------------------------------------------
# The page


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def parse_html(text: str) -> Any:
    """lxml tree of an HTML string, or None when there is nothing to parse."""
    text = _XML_DECL.sub("", _CONTROL.sub("", text), count=1)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


@dataclass
class Page:
    """A decoded HTML page, with lazily built views that extractors share."""

    url: str
    html: str
    encoding: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def tree(self) -> Any:
        """The parsed document (None when unparseable)."""
        return parse_html(self.html)

    @cached_property
    def host(self) -> str:
        """Host of the page's URL."""
        return host_of(self.url)

    @cached_property
    def scripts(self) -> str:
        """Text of all inline scripts, joined."""
        if self.tree is None:
            return ""
        return "\n".join(self.tree.xpath("//script/text()"))

    @cached_property
    def visible_text(self) -> str:
        """Text of the body a reader would see (scripts and styles left out)."""
        if self.tree is None:
            return ""
        body = self.tree.find("body")
        return node_text(body if body is not None else self.tree)

    def xpath(self, query: str, node: Any = None) -> list[Any]:
        """Results of an XPath on the page (or on `node`); [] on a broken query or no tree."""
        root = self.tree if node is None else node
        if root is None:
            return []
        try:
            return list(root.xpath(query))
        except etree.XPathError:
            return []

    def first(self, *queries: str, node: Any = None) -> str | None:
        """First non-empty text among the results of the XPaths, squashed."""
        for query in queries:
            for hit in self.xpath(query, node):
                text = squash(hit if isinstance(hit, str) else hit.text_content())
                if text:
                    return text
        return None

    def meta(self, *names: str) -> str | None:
        """Content of the first non-empty <meta> with one of these names or properties."""
        for name in names:
            value = self.metas.get(name)
            if value:
                return htmllib.unescape(value)
        return None

    @cached_property
    def metas(self) -> dict[str, str]:
        """First non-empty content of the <meta>s by name, property and itemprop (one pass)."""
        found: dict[str, str] = {}
        for node in self.xpath("//meta[@content]"):
            content = squash(node.get("content"))
            if content:
                for attr in ("name", "property", "itemprop"):
                    key = node.get(attr)
                    if key:
                        found.setdefault(key, content)
        return found

    def js(self, *names: str, declared: bool = False) -> str | None:
        """First non-empty value of one of these JS variables in the inline scripts."""
        for name in names:
            value = js_string(self.scripts, name, declared)
            if value:
                return value
        return None

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """JSON-LD objects of the page, flattened (@graph expanded)."""
        found: list[dict[str, Any]] = []
        for raw in self.xpath('//script[@type="application/ld+json"]/text()'):
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            stack = data if isinstance(data, list) else [data]
            while stack:
                item = stack.pop(0)
                if isinstance(item, dict):
                    found.append(item)
                    graph = item.get("@graph")
                    if isinstance(graph, list):
                        stack.extend(graph)
                elif isinstance(item, list):
                    stack.extend(item)
        return found


# --------------------------------------------------------------------------------------------
# Boilerplate lines


#: Lines dropped wherever they are (short lines only): follow prompts, editor credits, share bars.
DROP_LINES: tuple[str, ...] = (
    r"扫码关注|扫描二维码关注|长按(?:识别)?二维码|长按.{0,6}关注|点击上方.{0,10}关注|点击蓝字.{0,6}关注",
    r"^[（(【\[]?\s*(?:责任编辑|责编|编辑|校对|审核|监制|实习编辑)\s*[:：|｜]",
    r"^(?:分享到|分享至|微信扫一扫|阅读原文|点赞|在看|收藏|返回搜狐|查看更多)\s*[:：]?$",
    r"^欢迎关注.{0,12}(?:公众号|微信|微博)",
    r"版权所有.{0,20}(?:转载|违者)|未经.{0,10}授权.{0,12}(?:转载|使用)|转载请注明出处|"
    r"^Copyright\s*©|^©\s*\d{4}",
)

#: Headings after which only related links follow: the text is cut there (in its second part).
TAIL_HEADINGS = re.compile(
    r"^[\W_]*(?:相关阅读|推荐阅读|相关文章|相关推荐|延伸阅读|往期推荐|往期回顾|往期精彩|精彩推荐|"
    r"热门文章|热门推荐|猜你喜欢|更多阅读|Related (?:Articles|Posts|Reading))[\W_]*$",
    re.I,
)

#: Lines that end an article ("— 完 —", "-END-"): the text is cut there (in its second part).
END_LINES = re.compile(r"^[\s\-—–_=·•*]*(?:完|END|THE END|全文完)[\s\-—–_=·•*]*$", re.I)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@lru_cache(maxsize=64)
def _drop_re(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return _compile(patterns)


def clean_text(
    text: str,
    drop: tuple[str, ...] = DROP_LINES,
    end: tuple[str, ...] = (),
    max_drop_len: int = 120,
) -> str:
    """Text with one paragraph a line, boilerplate lines dropped and trailing sections cut."""
    lines = [_SPACES.sub(" ", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    drop_re = _drop_re(drop)
    end_re = _drop_re(end)
    total = len(lines)
    kept: list[str] = []
    for index, line in enumerate(lines):
        late = total >= 4 and index >= total * 0.4
        if late and len(line) <= 30 and (TAIL_HEADINGS.match(line) or END_LINES.match(line)):
            break
        if end_re and late and end_re.search(line):
            break
        if drop_re and len(line) <= max_drop_len and drop_re.search(line):
            continue
        kept.append(line)
    return "\n".join(kept)


# --------------------------------------------------------------------------------------------
# Trafilatura


@lru_cache(maxsize=4)
def trafilatura_config(min_extracted: int = 250) -> Any:
    """A trafilatura config with our limits (no signal-based timeout, small outputs allowed)."""
    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_extracted))
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return config


DATE_PARAMS = {"extensive_search": True, "original_date": True}

_HIDDEN_STYLE = re.compile(r"(?:visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d]))\s*;?", re.I)


def unhide(element: Any) -> None:
    """Drop `visibility: hidden` / `opacity: 0` from an element, its ancestors and descendants."""
    nodes = [*element.iterancestors(), *element.iter()]
    for node in nodes:
        style = node.get("style") if isinstance(node.tag, str) else None
        if style and _HIDDEN_STYLE.search(style):
            node.set("style", _HIDDEN_STYLE.sub("", style))


def isolate(tree: Any, container: Any) -> Any:
    """A copy of the document whose body holds only (a copy of) `container`."""
    doc = lxml.html.document_fromstring("<html><head></head><body></body></html>")
    head = tree.find("head")
    if head is not None:
        doc.replace(doc.find("head"), deepcopy(head))
    lang = tree.get("lang")
    if lang:
        doc.set("lang", lang)
    body = doc.find("body")
    article = etree.SubElement(body, "article")
    article.append(deepcopy(container))
    article[-1].tail = None
    unhide(article[-1])
    return doc


def prune_nodes(root: Any, xpaths: tuple[str, ...]) -> None:
    """Remove the nodes matching any of the XPaths (relative to `root`) in place."""
    for query in xpaths:
        try:
            hits = root.xpath(query)
        except etree.XPathError:
            continue
        for node in hits:
            if not isinstance(node, lxml.html.HtmlElement) or node.getparent() is None:
                continue
            node.drop_tree()  # keeps the text that follows the node


# --------------------------------------------------------------------------------------------
# The base extractor


_SOFT_404 = re.compile(
    r"404|页面不存在|页面未找到|页面找不到|文章不存在|内容不存在|内容已删除|已被删除|已下线|"
    r"page not found|not found|no longer available|does not exist",
    re.I,
)
_BLOCKED = re.compile(
    r"访问过于频繁|请求过于频繁|验证码|人机验证|安全验证|完成验证|环境异常|请登录|登录后查看|"
    r"just a moment|attention required|access denied|verify you are human|captcha|"
    r"too many requests|rate limit|sign in to continue|log in to continue",
    re.I,
)


class Extractor:
    """The generic extractor, and the base class of every site extractor (see module doc)."""

    #: Name recorded in `Extracted.extractor`.
    name: ClassVar[str] = "generic"
    #: Hosts this extractor serves; a host matches itself and all its subdomains.
    domains: ClassVar[tuple[str, ...]] = ()
    #: Site name when the page does not give one.
    site: ClassVar[str | None] = None
    #: Language of every page of the site, else detected.
    language: ClassVar[str | None] = None
    #: XPaths of the element holding the article body; the first that matches wins.
    container: ClassVar[tuple[str, ...]] = ()
    #: XPaths of nodes removed before the body is read.
    prune: ClassVar[tuple[str, ...]] = (
        "//*[self::script or self::style or self::noscript]",  # one walk of the tree, not three
        f"//*[{cls('share')} or {cls('social-share')} or {cls('related')} or {cls('comments')}]",
    )
    #: Extra regexes of boilerplate lines dropped from the text (besides DROP_LINES).
    drop_lines: ClassVar[tuple[str, ...]] = ()
    #: Regexes of lines that end the article (searched in its second part).
    end_lines: ClassVar[tuple[str, ...]] = ()
    #: Trafilatura leaning: True favours recall (site containers are already precise).
    favor_recall: ClassVar[bool] = False
    #: Time zone of dates the site writes without offset (None: keep only their date).
    tz: ClassVar[timezone | None] = None
    #: Whether trafilatura's guessed date may stand in for a date the page does not state.
    guess_date: ClassVar[bool] = True
    #: Fields trafilatura's metadata reader may guess when the page does not state them; it
    #: runs (a third of the extraction time) only when one of them is missing.
    guessed_fields: ClassVar[tuple[str, ...]] = ("title", "author", "published", "site")

    # ---- hooks a site overrides

    def page_state(self, page: Page) -> State | None:
        """(status, reason) when the page is an error or block page, checked before extraction."""
        return None

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Fields the page states plainly; they win over trafilatura's guesses.

        Keys: any `Extracted` field name, plus "extra" (merged into `extra`).
        """
        return {}

    def late_state(self, page: Page, result: Extracted) -> State | None:
        """(status, reason) judged from the extraction: soft 404s and block pages are short."""
        if len(result.text) > 300:
            return None
        probe = " ".join(filter(None, [result.title, result.text[:300]]))
        blocked = _BLOCKED.search(probe)
        if blocked:
            return "blocked", f"{self.name}: blocked ({squash(blocked.group(0))})"
        gone = _SOFT_404.search(probe)
        if gone and (not result.text or len(result.text) < 200):
            return "gone", f"{self.name}: soft 404 ({squash(gone.group(0))})"
        return None

    # ---- the machinery

    def select(self, page: Page) -> Any:
        """The body container element, or None."""
        for query in self.container:
            for hit in page.xpath(query):
                if isinstance(hit, etree._Element):
                    return hit
        return None

    def extract(self, page: Page) -> Extracted:
        """Extract one decoded HTML page."""
        if page.tree is None:
            return Extracted(status="failed", reason="unparseable HTML", extractor=self.name)
        state = self.page_state(page)
        if state:
            return self.stateful(page, state)
        body = self.select(page)
        result = self.assemble(page, body, self.read(page, body))
        if not result.text:
            late = self.late_state(page, result)
            if late:
                result.status, result.reason = late
            else:
                result.status, result.reason = "failed", f"{self.name}: no text extracted"
            return result
        late = self.late_state(page, result)
        if late:
            result.status, result.reason = late
        return result

    def stateful(self, page: Page, state: State, **fields: Any) -> Extracted:
        """An `Extracted` for a page that is not an article."""
        status, reason = state
        title = fields.pop("title", None) or page.first("//title")
        return Extracted(status=status, reason=reason, extractor=self.name, title=title, **fields)

    def read(self, page: Page, body: Any) -> str:
        """Body text, from the container when there is one."""
        options: dict[str, Any] = {
            "url": page.url or None,
            "include_comments": False,
            "include_tables": True,
            "favor_recall": self.favor_recall,
            "favor_precision": not self.favor_recall,
            "date_extraction_params": DATE_PARAMS,
            "prune_xpath": list(self.prune) or None,
        }
        if body is None:
            # trafilatura's own pass first; its readability/jusText comparison (a quarter of
            # the extraction time) only where that comparison can change the outcome
            doc = trafilatura.bare_extraction(
                page.tree, with_metadata=False, config=trafilatura_config(), fast=True, **options
            )
            if _may_need_fallback(doc):
                doc = trafilatura.bare_extraction(
                    page.tree, with_metadata=False, config=trafilatura_config(), **options
                )
            return (doc.text if doc is not None else "") or ""
        isolated = isolate(page.tree, body)
        # the container is the body already, and its own text backs trafilatura up below:
        # the readability/jusText comparison (15 % of extraction time) adds nothing here
        doc = trafilatura.bare_extraction(
            isolated, with_metadata=False, config=trafilatura_config(25), fast=True, **options
        )
        text = (doc.text if doc is not None else "") or ""
        # Trafilatura may judge parts of a known container to be boilerplate (WeChat's nested
        # <section>s often are); when it loses real paragraphs of the container, the container's
        # own text (pruned) is the better body.
        prune_nodes(isolated, self.prune)
        article = isolated.find(".//article")
        plain = node_text(article) if article is not None else ""
        if _recall(text, plain) < 0.9:
            text = plain
        return text

    def guessed_metadata(self, page: Page, stated: dict[str, Any]) -> dict[str, Any]:
        """trafilatura's metadata when a field of `guessed_fields` is not stated, else only the
        description and image tags (what trafilatura would have read for those)."""
        known = {name for name, value in stated.items() if value}
        if self.site:
            known.add("site")
        if not self.guess_date:  # trafilatura's date would not be taken anyway
            known.add("published")
        if not known.issuperset(self.guessed_fields):
            return _doc_meta(extract_metadata(deepcopy(page.tree), page.url or None, DATE_PARAMS))
        return {
            "description": page.meta("og:description", "description", "twitter:description"),
            "image": page.meta("og:image", "twitter:image", "twitter:image:src"),
        }

    def assemble(self, page: Page, body: Any, text: str) -> Extracted:
        """Merge the site's metadata, the page's own and trafilatura's into an `Extracted`."""
        site_meta = self.metadata(page, body)
        extra: dict[str, Any] = dict(site_meta.pop("extra", None) or {})
        stated = {k: v for k, v in self.page_metadata(page).items() if v}
        stated.update({k: v for k, v in site_meta.items() if v not in (None, "", [])})
        meta = self.guessed_metadata(page, stated)
        fields: dict[str, Any] = {
            "title": meta.get("title"),
            "author": meta.get("author"),
            "published": meta.get("date") if self.guess_date else None,
            "site": meta.get("sitename") or self.site,
            "description": meta.get("description"),
        }
        fields.update(stated)
        text = clean_text(text, DROP_LINES + self.drop_lines, self.end_lines)
        title = _clean_title(fields.get("title"))
        if title and text.startswith(title):  # the h1 repeated as the first line of the body
            first, _, rest = text.partition("\n")
            if first.strip() == title:
                text = rest
        guessed = guess_language(f"{fields.get('title') or ''}\n{text}")
        declared = page_language(page)
        language = (
            fields.pop("language", None)
            or self.language
            or (guessed if guessed == "zh" or not declared else declared)
        )
        images = fields.pop("images", None)
        if images is None:
            images = self.images(page, body)
        if meta.get("image") and "cover" not in extra:
            extra["cover"] = meta["image"]
        return Extracted(
            status="archived",
            extractor=self.name,
            title=title,
            author=squash(fields.get("author")) or None,
            published=fields.get("published"),
            site=_clean_site(fields.get("site")),
            language=language,
            description=squash(fields.get("description")) or None,
            text=text,
            canonical_url=fields.get("canonical_url"),
            images=images,
            extra=extra,
        )

    def page_metadata(self, page: Page) -> dict[str, Any]:
        """Metadata from standard tags (Open Graph, article:*, JSON-LD), better than guesses."""
        found: dict[str, Any] = {}
        published = page.meta(
            "article:published_time",
            "datePublished",
            "pubdate",
            "publishdate",
            "PubDate",
            "publish_date",
            "og:release_date",
        )
        if not published:
            for item in page.json_ld:
                if item.get("datePublished"):
                    published = str(item["datePublished"])
                    break
        if published:
            found["published"] = parse_date(published, self.tz)
        title = page.meta("og:title")
        if title:
            found["title"] = title
        site = page.meta("og:site_name")
        if site:
            found["site"] = site
        author = page.meta("article:author", "author")
        if author and not author.startswith("http"):
            found["author"] = author
        return found

    def images(self, page: Page, body: Any) -> list[str]:
        """Image URLs of the body in order (lazy-load attributes first), absolute, deduplicated."""
        if body is None:
            return []
        seen: dict[str, None] = {}
        for img in page.xpath(".//img", body):
            src = (
                img.get("data-src")
                or img.get("data-original")
                or img.get("data-lazy-src")
                or img.get("src")
            )
            url = absolute(src, page.url)
            if url:
                seen.setdefault(url, None)
        return list(seen)

    def extract_xml(self, url: str, text: str) -> Extracted:
        """A non-HTML XML body (feed, sitemap): its text content, archived as is."""
        try:
            root = etree.fromstring(_XML_DECL.sub("", _CONTROL.sub("", text), count=1).encode())
            content = "\n".join(s.strip() for s in root.itertext() if s.strip())
        except (etree.XMLSyntaxError, ValueError):
            content = text
        return Extracted(
            status="archived",
            extractor="text",
            text=content,
            extra={"content_type": "application/xml"},
        )


#: Below this many characters, trafilatura's own extraction is checked against readability and
#: jusText (its fallback comparison); above, the comparison would keep it unless its text has
#: no paragraphs or is mostly tables.
FALLBACK_BELOW = 1500


def _may_need_fallback(doc: Any) -> bool:
    """Whether trafilatura's fallback comparison could replace a fast extraction.

    trafilatura prefers readability when its own text is empty, far shorter than readability's,
    or without paragraphs (or more tables than paragraphs), and tries jusText on short texts.
    """
    if doc is None or len(doc.text or "") < FALLBACK_BELOW:
        return True
    body = doc.body
    if body is None:
        return True
    paragraphs = len(body.findall(".//p"))
    return paragraphs == 0 or len(body.findall(".//table")) > paragraphs


def _recall(text: str, reference: str) -> float:
    """Share of the reference's paragraphs (of 20+ characters) found in `text`."""
    flat = re.sub(r"\s+", "", text)
    lines = [re.sub(r"\s+", "", line) for line in reference.splitlines()]
    lines = [line for line in lines if len(line) >= 20]
    if not lines:
        return 1.0 if flat or not reference.strip() else 0.0
    return sum(1 for line in lines if line in flat) / len(lines)


def _doc_meta(doc: Any) -> dict[str, Any]:
    if doc is None:
        return {}
    return {
        key: getattr(doc, key, None)
        for key in ("title", "author", "date", "sitename", "description", "image")
    }


_HTTP_EQUIV = "translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')"


def page_language(page: Page) -> str | None:
    """Language the page declares (<html lang>, Content-Language, og:locale)."""
    declared = (
        (page.tree.get("lang") if page.tree is not None else None)
        or page.first(f"//meta[{_HTTP_EQUIV}='content-language']/@content")
        or page.meta("og:locale")
    )
    return _primary_language(declared)


def _clean_site(site: str | None) -> str | None:
    """A site name; trafilatura's fallbacks ("https://www.caixin.com") reduced to the host."""
    site = squash(site)
    if re.match(r"^(?:https?://)?(?:www\.)?[\w\-]+(?:\.[\w\-]+)+/?$", site):
        site = re.sub(r"^(?:https?://)?(?:www\.)?", "", site).rstrip("/")
    return site or None


def _clean_title(title: str | None) -> str | None:
    title = squash(htmllib.unescape(title or ""))
    return title or None
