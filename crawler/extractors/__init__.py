"""Extractors: what a fetched page says (article text, metadata) and what state it is in.

    from crawler.extractors import extract
    extracted = extract(url, body, content_type)

`extract` never raises: broken, empty, binary or undecodable input gives an `Extracted` with a
status and a reason. It is a picklable top-level function (it runs in a process pool). Site
extractors are chosen by host (`REGISTRY`, parent domains included); `GenericExtractor` serves
every other site. See `crawler.extractors.base` for how a site extractor is written.
"""

from __future__ import annotations

from crawler.extractors.aibase import AibaseExtractor
from crawler.extractors.arxiv import ArxivExtractor
from crawler.extractors.base import Extractor
from crawler.extractors.cnblogs import CnblogsExtractor
from crawler.extractors.decode import (
    MAX_HTML_BYTES,
    binary_as_html,
    decode_html,
    decode_text,
    garbled,
    sniff,
)
from crawler.extractors.discourse import DiscourseExtractor
from crawler.extractors.generic import GenericExtractor
from crawler.extractors.github import GithubExtractor
from crawler.extractors.huggingface import HuggingfaceExtractor
from crawler.extractors.ithome import IthomeExtractor
from crawler.extractors.jiqizhixin import JiqizhixinExtractor
from crawler.extractors.kr36 import Kr36Extractor
from crawler.extractors.labs import AnthropicExtractor, OpenaiExtractor
from crawler.extractors.oschina import OschinaExtractor
from crawler.extractors.page import Page, host_of
from crawler.extractors.qbitai import QbitaiExtractor
from crawler.extractors.weixin import WeixinExtractor
from crawler.extractors.x import XExtractor
from crawler.items import Extracted, Status

__all__ = ["GENERIC", "REGISTRY", "Extractor", "extract", "extractor_for"]

GENERIC = GenericExtractor()

#: Site extractors by domain; a domain also serves its subdomains.
REGISTRY: dict[str, Extractor] = {
    domain: extractor
    for extractor in (
        WeixinExtractor(),
        QbitaiExtractor(),
        IthomeExtractor(),
        AibaseExtractor(),
        OschinaExtractor(),
        ArxivExtractor(),
        GithubExtractor(),
        CnblogsExtractor(),
        XExtractor(),
        DiscourseExtractor(),
        HuggingfaceExtractor(),
        Kr36Extractor(),
        JiqizhixinExtractor(),
        OpenaiExtractor(),
        AnthropicExtractor(),
    )
    for domain in extractor.domains
}


def extractor_for(url: str) -> Extractor:
    """The extractor of a URL's host or of its nearest registered parent domain."""
    labels = host_of(url).split(".")
    for start in range(len(labels) - 1):
        extractor = REGISTRY.get(".".join(labels[start:]))
        if extractor is not None:
            return extractor
    return GENERIC


def extract(url: str, body: bytes, content_type: str | None = None) -> Extracted:
    """What the page at `url` says, from its body as served; never raises."""
    try:
        return _extract(url or "", body, content_type)
    except Exception as exc:  # the contract is to never raise, whatever the input
        return Extracted(
            status=Status.FAILED, reason=f"extractor error: {type(exc).__name__}: {exc}"[:300]
        )


def _extract(url: str, body: bytes, content_type: str | None) -> Extracted:
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = bytes(body or b"")
    if not body.strip():
        return Extracted(status=Status.FAILED, reason="empty body", extractor="none")
    kind, media_type = sniff(body, content_type)
    extractor = extractor_for(url)
    if kind == "binary":
        return extractor.binary(url, media_type)
    if kind == "unknown":
        return Extracted(
            status=Status.FAILED, reason="undecodable: unknown binary content", extractor="none"
        )
    if kind == "json":
        return extractor.extract_json(url, decode_text(body, content_type), media_type)
    if kind == "text":
        text = decode_text(body, content_type)
        return Extracted(
            status=Status.ARCHIVED, extractor="text", text=text, extra={"content_type": media_type}
        )
    if kind == "xml":
        return extractor.extract_xml(url, decode_text(body, content_type))
    if binary_as_html(body):
        return Extracted(
            status=Status.FAILED,
            reason="undecodable: binary content served as HTML",
            extractor="none",
        )
    truncated = len(body) > MAX_HTML_BYTES
    html, encoding = decode_html(body[:MAX_HTML_BYTES], content_type)
    if garbled(html):
        return Extracted(
            status=Status.FAILED, reason=f"undecodable: garbled as {encoding}", extractor="none"
        )
    result = extractor.extract(Page(url=url, html=html, encoding=encoding))
    result.extra.setdefault("encoding", encoding)
    if truncated:
        result.extra["truncated_at"] = MAX_HTML_BYTES
    return result
