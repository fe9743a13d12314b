"""Everything that calls trafilatura: the body text of a page or of a known container, and the
metadata trafilatura guesses.

Trafilatura's readability/jusText comparison and its metadata reader are the costly parts of an
extraction; each runs only where it can change the outcome (see `read_page`, `read_container`
and `Extractor.guessed_metadata`).
"""

from __future__ import annotations

import re
from copy import deepcopy
from functools import lru_cache
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import extract_metadata
from trafilatura.settings import use_config

from crawler.extractors.text import node_text

#: htmldate's options: look at the whole page, prefer the original over the updated date.
DATE_PARAMS = {"extensive_search": True, "original_date": True}

#: Below this many characters, trafilatura's own extraction is checked against readability and
#: jusText (its fallback comparison); above, the comparison would keep it unless its text has
#: no paragraphs or is mostly tables.
FALLBACK_BELOW = 1500

#: Share of a container's own paragraphs trafilatura must keep, else the container's text wins.
MIN_RECALL = 0.9

#: A precision-leaning pass that keeps less than this share of what a balanced pass keeps has
#: thrown the body away (a class name on trafilatura's precision-only discard list, such as
#: `...-article-wrap`): the balanced pass's text is taken instead.
MIN_PRECISION_SHARE = 0.15

_HIDDEN_STYLE = re.compile(r"(?:visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d]))\s*;?", re.I)


@lru_cache(maxsize=4)
def trafilatura_config(min_extracted: int = 250) -> Any:
    """A trafilatura config with our limits (no signal-based timeout, small outputs allowed)."""
    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_extracted))
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return config


def options(url: str, favor_recall: bool, prune: tuple[str, ...]) -> dict[str, Any]:
    """Keyword arguments of `trafilatura.bare_extraction` for one page."""
    return {
        "url": url or None,
        "include_comments": False,
        "include_tables": True,
        "favor_recall": favor_recall,
        "favor_precision": not favor_recall,
        "date_extraction_params": DATE_PARAMS,
        "prune_xpath": list(prune) or None,
    }


def _text(doc: Any) -> str:
    """Text of a trafilatura document ("" for none)."""
    return (doc.text if doc is not None else "") or ""


def strip_comments(tree: Any) -> None:
    """Comments and processing instructions out of the tree, their tails kept in place.

    Left in, they split text nodes: trafilatura keeps only the first piece of a paragraph that
    React rendered as `When <!-- -->President<!-- --> ...` ("When").
    """
    etree.strip_tags(tree, etree.Comment, etree.ProcessingInstruction)


def read_page(tree: Any, url: str, favor_recall: bool, prune: tuple[str, ...]) -> str:
    """Body text of a whole page, as trafilatura finds it."""
    strip_comments(tree)
    kwargs = options(url, favor_recall, prune)
    # trafilatura's own pass first; its readability/jusText comparison (a quarter of the
    # extraction time) only where that comparison can change the outcome
    doc = trafilatura.bare_extraction(
        tree, with_metadata=False, config=trafilatura_config(), fast=True, **kwargs
    )
    if _may_need_fallback(doc):
        doc = trafilatura.bare_extraction(
            tree, with_metadata=False, config=trafilatura_config(), **kwargs
        )
    text = _text(doc)
    if not favor_recall and len(text) < MIN_PRECISION_SHARE * FALLBACK_BELOW * 4:
        # a short precise text may be a body thrown away: a balanced pass tells
        balanced = _text(
            trafilatura.bare_extraction(
                tree,
                with_metadata=False,
                config=trafilatura_config(),
                fast=True,
                **{**kwargs, "favor_precision": False},
            )
        )
        if len(text) < MIN_PRECISION_SHARE * len(balanced) and len(balanced) >= FALLBACK_BELOW:
            text = balanced
    return text


def read_container(
    tree: Any, container: Any, url: str, favor_recall: bool, prune: tuple[str, ...]
) -> str:
    """Body text of a page whose article is `container`: trafilatura's, or the container's own."""
    strip_comments(container)
    isolated = isolate(tree, container)
    # the container is the body already, and its own text backs trafilatura up below:
    # the readability/jusText comparison (15 % of extraction time) adds nothing here
    doc = trafilatura.bare_extraction(
        isolated,
        with_metadata=False,
        config=trafilatura_config(25),
        fast=True,
        **options(url, favor_recall, prune),
    )
    text = _text(doc)
    # Trafilatura may judge parts of a known container to be boilerplate (WeChat's nested
    # <section>s often are); when it loses real paragraphs of the container, the container's
    # own text (pruned) is the better body.
    prune_nodes(isolated, prune)
    article = isolated.find(".//article")
    plain = node_text(article) if article is not None else ""
    if recall(text, plain) < MIN_RECALL:
        text = plain
    return text


def guess_metadata(tree: Any, url: str) -> dict[str, Any]:
    """Title, author, date, sitename, description and image as trafilatura's metadata reader
    guesses them, read from a copy of the tree (a third of the extraction time)."""
    doc = extract_metadata(deepcopy(tree), url or None, DATE_PARAMS)
    if doc is None:
        return {}
    return {
        key: getattr(doc, key, None)
        for key in ("title", "author", "date", "sitename", "description", "image")
    }


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


def recall(text: str, reference: str) -> float:
    """Share of the reference's paragraphs (of 20+ characters) found in `text`."""
    flat = re.sub(r"\s+", "", text)
    lines = [re.sub(r"\s+", "", line) for line in reference.splitlines()]
    lines = [line for line in lines if len(line) >= 20]
    if not lines:
        return 1.0 if flat or not reference.strip() else 0.0
    return sum(1 for line in lines if line in flat) / len(lines)


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
    empty_head, body = doc  # the two children of the skeleton
    head = tree.find("head")
    if head is not None:
        doc.replace(empty_head, deepcopy(head))
    lang = tree.get("lang")
    if lang:
        doc.set("lang", lang)
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


#: Block elements whose text stands for a paragraph of the body when finding its element.
_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "blockquote", "pre", "td", "figcaption", "dd")
#: Share of the body's paragraphs the element holding the body must contain.
BODY_SHARE = 0.8


def text_element(tree: Any, text: str) -> Any:
    """The element of the page that holds the extracted `text`: the deepest one containing
    BODY_SHARE of the page's paragraphs whose words are in the text (None when none are).

    What the generic path's images are read from: trafilatura keeps the text, not where it
    found it, and a stray paragraph (a caption in the footer) must not widen the element to
    the whole page.
    """
    flat = re.sub(r"\s+", "", text)
    if tree is None or len(flat) < 20:
        return None
    hits: list[Any] = []
    for node in tree.iter(*_BLOCKS):
        own = re.sub(r"\s+", "", node.text_content())
        if len(own) >= 15 and own[:200] in flat:
            hits.append(node)
    if not hits:
        return None
    counts: dict[Any, int] = {}
    depth: dict[Any, int] = {}
    for node in hits:
        chain = [node, *node.iterancestors()]
        for level, ancestor in enumerate(reversed(chain)):
            counts[ancestor] = counts.get(ancestor, 0) + 1
            depth[ancestor] = level
    need = BODY_SHARE * len(hits)
    held = [node for node, count in counts.items() if count >= need]
    return max(held, key=lambda node: depth[node]) if held else None
