"""The decoded page and the views of it that extractors share (tree, metas, scripts, JSON-LD).

`Page` builds each view once, on first use: a page whose extractor never asks for its JSON-LD
never parses it. Extractors read the page through these views and the XPath helpers here.
"""

from __future__ import annotations

import html as htmllib
import itertools
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.extractors.scripts import js_data, js_string
from crawler.extractors.text import node_text, primary_language, squash

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_HTTP_EQUIV = "translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')"
_TAG_START = re.compile(r"<[A-Za-z!?/]")

#: Tags (start, end, comments) of a page that are parsed at most; the markup after them is left
#: out. Real articles have a few thousand (the biggest saved page here: under 4,000); a page of
#: 130,000 links or of megabytes of tags would otherwise cost the extraction worker gigabytes
#: and minutes (trafilatura is quadratic in the children of one paragraph).
MAX_TAGS = 20_000


def parseable(text: str) -> str:
    """Markup lxml accepts as a str: control characters and a leading XML declaration removed."""
    return _XML_DECL.sub("", _CONTROL.sub("", text), count=1)


def bounded(text: str, max_tags: int = MAX_TAGS) -> str:
    """`text` cut before its tag number `max_tags` + 1 (as it is when it has fewer)."""
    if text.count("<") <= max_tags:
        return text
    cut = next(itertools.islice(_TAG_START.finditer(text), max_tags, None), None)
    return text if cut is None else text[: cut.start()]


def parse_html(text: str) -> Any:
    """lxml tree of an HTML string (at most `MAX_TAGS` tags of it), or None when there is
    nothing to parse."""
    text = parseable(bounded(text))
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def parse_fragment(markup: str) -> Any:
    """lxml element (a `<div>`) holding an HTML fragment, or None when there is nothing."""
    markup = parseable(markup)
    if not markup.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def has_class(name: str) -> str:
    """XPath test that the class attribute holds the token `name`.

    The plain `contains` first lets most elements fail fast: the token test builds two strings
    per element, and it runs on every element of the page.
    """
    return (
        f'(contains(@class, "{name}") and '
        f'contains(concat(" ", normalize-space(@class), " "), " {name} "))'
    )


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


@dataclass
class Page:
    """A decoded HTML page, with lazily built views that extractors share."""

    url: str
    html: str
    encoding: str | None = None

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

    @cached_property
    def declared_language(self) -> str | None:
        """Language the page declares (<html lang>, Content-Language, og:locale)."""
        declared = (
            (self.tree.get("lang") if self.tree is not None else None)
            or self.first(f"//meta[{_HTTP_EQUIV}='content-language']/@content")
            or self.meta("og:locale")
        )
        return primary_language(declared)

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

    def js_data(self, name: str) -> Any:
        """The object or array literal a script assigns to `name` (None when none), read once."""
        key = f"js_data:{name}"
        if key not in self.memo:
            self.memo[key] = js_data(self.scripts, name)
        return self.memo[key]

    @cached_property
    def memo(self) -> dict[str, Any]:
        """Per-page cache of what extractors read once and use twice (keys name their reader)."""
        return {}

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
