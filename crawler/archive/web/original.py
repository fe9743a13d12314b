"""A stored original made fit to show: the page as served, from its WARC record, with its
images (and stylesheets) taken from the article's `attachments` instead of the live web.

The page is shown with scripts removed and under a sandboxing Content-Security-Policy (no
script runs, nothing is fetched from elsewhere), so an archived page cannot act in the reader's
name. Content a page hides until its scripts run (WeChat's `visibility: hidden` body) is shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

from crawler.archive import originals
from crawler.items import Status

#: The policy of a shown original: no scripts, no plugins, nothing from another origin.
ORIGINAL_CSP = (
    "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox; "
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; media-src 'none'; frame-src 'none'; form-action 'none'; "
    "base-uri 'none'"
)
_HIDDEN = re.compile(r"(?:visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d]))\s*;?", re.I)
_IMAGE_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "src")
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.I)


def attachment_pointer(attachment: Any) -> dict[str, Any] | None:
    """The pointer to an attachment's bytes: the record holding them (a revisit's original)."""
    if not isinstance(attachment, dict) or attachment.get("status") != Status.ARCHIVED:
        return None
    for key in ("revisit_of", "original"):
        pointer = attachment.get(key)
        if isinstance(pointer, dict):
            return pointer
    return None


def resource(root: Path, article: dict[str, Any], url: str) -> tuple[bytes, str] | None:
    """(body, content type) of one attachment of an article, from its WARC record."""
    pointer = attachment_pointer((article.get("attachments") or {}).get(url))
    if pointer is None:
        return None
    record = originals.read(root, pointer)
    if record.headers.get("warc-type") == "revisit":
        return None  # a revisit without `revisit_of`: its bytes are not at hand
    response = originals.http_response(record)
    kind = (response.header("Content-Type") or "application/octet-stream").split(";")[0].strip()
    return response.body, kind


def _resource_url(article_id: str, url: str) -> str:
    return f"/original/{article_id}/res?url={quote(url, safe='')}"


def page(root: Path, article: dict[str, Any], banner: str) -> tuple[bytes, str]:
    """(body, content type) of an article's stored original, made fit to show."""
    pointer = article.get("original")
    if not isinstance(pointer, dict):
        raise originals.OriginalError("this article has no stored original")
    response = originals.http_response(originals.read(root, pointer))
    kind = (response.header("Content-Type") or "").lower()
    body = response.body
    if "html" not in kind and not body.lstrip()[:200].lower().startswith((b"<!doc", b"<html")):
        return body, kind.split(";")[0].strip() or "application/octet-stream"
    base = str(article.get("final_url") or article.get("url") or "")
    return rewrite(body, kind, base, str(article.get("id")), article, banner), "text/html"


def rewrite(
    body: bytes, content_type: str, base: str, article_id: str, article: dict[str, Any], banner: str
) -> bytes:
    """The page with scripts out, images and stylesheets served from the archive, links
    absolute, hidden bodies shown, and a banner saying what it is."""
    import lxml.html
    from lxml import etree

    stored = {
        url for url, att in (article.get("attachments") or {}).items() if attachment_pointer(att)
    }
    charset = _CHARSET.search(content_type)
    tree: Any
    try:
        if charset:
            text = body.decode(charset.group(1), "replace")
            tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=_parser("utf-8"))
        else:
            tree = lxml.html.document_fromstring(body, parser=_parser(None))
    except (etree.ParserError, ValueError, LookupError):
        raise originals.OriginalError("the stored page cannot be read as HTML") from None
    for element in list(tree.iter("script", "noscript", "iframe", "object", "embed", "base")):
        element.drop_tree()
    for meta in list(tree.iter("meta")):
        if meta.get("charset") or (meta.get("http-equiv") or "").lower() in (
            "content-type",
            "refresh",
            "content-security-policy",
        ):
            meta.drop_tree()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in [n for n in element.attrib if n.lower().startswith("on")]:
            del element.attrib[name]
        style = element.get("style")
        if style and _HIDDEN.search(style):
            element.set("style", _HIDDEN.sub("", style))
    for img in tree.iter("img", "source"):
        local = None
        for name in _IMAGE_ATTRS:
            value = img.get(name)
            if value and not value.startswith("data:"):
                absolute = urljoin(base, value.strip())
                if absolute in stored:
                    local = _resource_url(article_id, absolute)
                    break
        if local:
            img.set("src", local)
        for name in ("srcset", "data-srcset"):
            if name in img.attrib:
                del img.attrib[name]
    for link in tree.iter("link"):
        href = link.get("href")
        absolute = urljoin(base, str(href).strip()) if href else None
        if absolute in stored:
            link.set("href", _resource_url(article_id, str(absolute)))
        elif "stylesheet" in (link.get("rel") or "").lower() or href:
            link.drop_tree()
    for a in tree.iter("a"):
        href = a.get("href")
        if isinstance(href, str) and not href.startswith(("#", "javascript:")):
            a.set("href", urljoin(base, href.strip()))
            a.set("target", "_blank")
            a.set("rel", "noopener noreferrer")
        elif isinstance(href, str) and href.startswith("javascript:"):
            del a.attrib["href"]
    head = tree.find("head")
    if head is None:
        head = etree.SubElement(tree, "head")
        tree.insert(0, head)
    head.insert(0, etree.fromstring('<meta charset="utf-8"/>'))
    body_el = tree.find("body")
    if body_el is not None:
        note = lxml.html.fragment_fromstring(banner)
        body_el.insert(0, note)
    return bytes(
        lxml.html.tostring(tree, encoding="utf-8", method="html", doctype="<!DOCTYPE html>")
    )


def _parser(encoding: str | None) -> Any:
    import lxml.html

    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True, encoding=encoding)
