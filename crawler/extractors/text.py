"""Text helpers: whitespace, the visible text of an element, and which language a text is in."""

from __future__ import annotations

import re
from typing import Any

#: Runs of the spaces pages use (no-break, ideographic, zero-width, BOM), newlines excepted.
SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff]+")

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
    return SPACES.sub(" ", (text or "").replace("\n", " ")).strip()


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
    lines = (SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


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


def primary_language(value: str | None) -> str | None:
    """The primary subtag of a language tag ("zh-CN", "en_US" -> "zh", "en"), else None."""
    value = (value or "").strip().replace("_", "-").lower()
    match = re.match(r"[a-z]{2,3}(?=$|-)", value)
    return match.group(0) if match else None
