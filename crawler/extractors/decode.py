"""Bytes to text: what kind of body a response carries, and how a browser would decode it.

`sniff` tells HTML from XML, JSON, plain text and binaries by the Content-Type and the first
bytes; `decode_html` and `decode_text` turn a body into text. Nothing here parses markup.
"""

from __future__ import annotations

import codecs
import json
import re

import charset_normalizer
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding

#: Bytes of HTML we read at most; the rest of a bigger page is cut (and flagged in extra).
MAX_HTML_BYTES = 10_000_000
#: Bytes of a text, JSON or XML body we decode at most (the rest is left out).
MAX_TEXT_BYTES = MAX_HTML_BYTES

#: Share of U+FFFD in a decoded page above which it is called undecodable.
UNDECODABLE_RATIO = 0.2

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

_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


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


def binary_as_html(body: bytes) -> bool:
    """True when a body sniffed as HTML is binary noise (UTF-16/32 with a BOM excepted)."""
    return binary_noise(body) and not body.startswith(_UNICODE_BOMS)


def garbled(text: str) -> bool:
    """True when a decoded page is mostly U+FFFD: no encoding reads it."""
    return text.count("\ufffd") > UNDECODABLE_RATIO * max(1, len(text.strip()))


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
    """Text of a non-HTML textual body (JSON, plain text, XML), of its first MAX_TEXT_BYTES."""
    return html_to_unicode(content_type, body[:MAX_TEXT_BYTES], auto_detect_fun=detect_encoding)[1]
