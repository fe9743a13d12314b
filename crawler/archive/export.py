"""`articles`: one record per article with its metadata, the digest entries citing it and its
text, as JSON lines or as markdown documents (for retrieval pipelines).

The markdown keeps the article's headings and lists: the extracted text is plain paragraphs,
so each paragraph is looked up in the stored original (its WARC record) and written as the
heading or list item it is there. An original that cannot be read leaves plain paragraphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crawler.archive import layout, originals, records, summaries
from crawler.archive.reader import read_quietly

#: Originals larger than this are not read for their structure (plain paragraphs instead).
MARKDOWN_MAX_BYTES = 16 * 1024 * 1024
_SPACE = re.compile(r"\s+")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)、])\s+")


def _key(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def citations_by_link(
    root: Path, digest_ids: Iterable[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """link id -> the digest entries citing it (digest, date, entry, title, section, role,
    URL as cited, summary), read once from every digest."""
    from crawler.archive.check import digests

    out: dict[str, list[dict[str, Any]]] = {}
    for digest in digests(root, list(digest_ids) if digest_ids else None):
        texts = summaries.summaries(root, digest)
        for entry in records.citing_entries(digest):
            position = int(entry.get("position", 0))
            for cited in entry.get("links", []):
                link_id = cited.get("link_id")
                if not link_id:
                    continue
                out.setdefault(link_id, []).append(
                    {
                        "digest": digest.get("id"),
                        "digest_date": digest.get("date"),
                        "entry": position,
                        "entry_title": entry.get("title"),
                        "section": entry.get("section"),
                        "role": cited.get("role"),
                        "url": cited.get("url"),
                        "summary": texts.get(position, "") or None,
                    }
                )
    return out


def _article_ids(
    root: Path, cited: dict[str, list[dict[str, Any]]], only_cited: bool
) -> Iterator[str]:
    if only_cited:
        seen: set[str] = set()
        for link_id in sorted(cited):
            link = read_quietly(layout.link_path(root, link_id))
            article_id = link.get("article") if link else None
            if article_id and article_id not in seen:
                seen.add(article_id)
                yield article_id
        return
    for path in sorted((root / layout.ARTICLES).glob("*/*.json")):
        if not path.name.startswith("."):
            yield path.stem


def articles(
    root: Path, *, digest_ids: Iterable[str] | None = None, with_text: bool = True
) -> Iterator[dict[str, Any]]:
    """One export record per article (those the digests named cite, else all), in id order."""
    digest_ids = list(digest_ids or [])
    cited = citations_by_link(root, digest_ids)
    for article_id in sorted(_article_ids(root, cited, bool(digest_ids))):
        article = read_quietly(layout.article_path(root, article_id))
        if article is None:
            continue
        links = []
        citing: list[dict[str, Any]] = []
        for link_id in article.get("links", []):
            link = read_quietly(layout.link_path(root, link_id)) or {}
            links.append(
                {
                    "link_id": link_id,
                    "url": link.get("canonical_url"),
                    "status": link.get("status"),
                    "gone_since": link.get("gone_since"),
                }
            )
            citing += cited.get(link_id, [])
        extra = article.get("extra") if isinstance(article.get("extra"), dict) else {}
        record = {
            "id": article_id,
            "url": article.get("url"),
            "final_url": article.get("final_url"),
            "title": article.get("title"),
            "author": article.get("author"),
            "account": (extra or {}).get("account"),
            "published": article.get("published"),
            "site": article.get("site"),
            "language": article.get("language"),
            "description": article.get("description"),
            "extractor": article.get("extractor"),
            "content_type": article.get("content_type"),
            "fetched_at": article.get("fetched_at"),
            "text_chars": article.get("text_chars"),
            "original": article.get("original"),
            "article": layout.relative(root, layout.article_path(root, article_id)),
            "links": links,
            "cited_by": sorted(citing, key=lambda c: (str(c["digest"]), c["entry"])),
        }
        if with_text:
            record["text"] = article.get("text", "")
        yield record


# -- markdown --------------------------------------------------------------------------------


def structure(root: Path, pointer: dict[str, Any] | None) -> dict[str, str]:
    """Paragraph text -> its markdown prefix (`## `, `- `) as the stored original marks it."""
    if not isinstance(pointer, dict) or int(pointer.get("length") or 0) > MARKDOWN_MAX_BYTES:
        return {}
    try:
        response = originals.http_response(originals.read(root, pointer))
    except originals.OriginalError:
        return {}
    kind = (response.header("Content-Type") or "").lower()
    if "html" not in kind and not response.body.lstrip()[:100].lower().startswith(
        (b"<!doc", b"<html")
    ):
        return {}
    import lxml.html
    from lxml import etree

    tree: Any
    try:
        charset = re.search(r"charset=([\w-]+)", kind)
        if charset:
            body = response.body.decode(charset.group(1), "replace")
            tree = lxml.html.document_fromstring(body.encode("utf-8"), parser=_parser())
        else:
            tree = lxml.html.document_fromstring(response.body, parser=_parser())
    except (etree.ParserError, ValueError, LookupError):
        return {}
    marks: dict[str, str] = {}
    for element in tree.iter("h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote"):
        text = _key(element.text_content())
        if not text or text in marks:
            continue
        tag = str(element.tag)
        if tag.startswith("h"):
            marks[text] = "#" * max(2, int(tag[1])) + " "  # the title is the one `# `
        elif tag == "li":
            marks[text] = "- "
        else:
            marks[text] = "> "
    return marks


def _parser() -> Any:
    import lxml.html

    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8")


def _yaml_value(value: Any) -> str:
    """A front-matter value: JSON, which YAML reads as it is."""
    return json.dumps(value, ensure_ascii=False)


def markdown(record: dict[str, Any], marks: dict[str, str]) -> str:
    """One article as a markdown document: front matter (metadata, citing entries), its
    title as `# `, then its text with headings and lists where the original has them."""
    front = ["---"]
    for name in (
        "id",
        "url",
        "final_url",
        "title",
        "author",
        "account",
        "published",
        "site",
        "language",
        "extractor",
        "fetched_at",
    ):
        if record.get(name) is not None:
            front.append(f"{name}: {_yaml_value(record[name])}")
    if record.get("cited_by"):
        front.append("cited_by:")
        for cite in record["cited_by"]:
            shown = {
                k: cite.get(k) for k in ("digest", "digest_date", "entry", "entry_title", "role")
            }
            front.append(f"  - {_yaml_value(shown)}")
    front.append("---")
    body = [f"# {record['title']}"] if record.get("title") else []
    for line in str(record.get("text") or "").split("\n"):
        text = line.strip()
        if not text:
            continue
        prefix = marks.get(_key(text), "")
        if prefix == "- ":
            text = _BULLET.sub("", text)
        if prefix.startswith("#") and record.get("title") and _key(text) == _key(record["title"]):
            continue  # the title again
        body.append(prefix + _escape(text) if prefix else _escape(text))
    return "\n".join(front) + "\n\n" + "\n\n".join(body) + "\n"


def _escape(text: str) -> str:
    """A paragraph that would read as markdown syntax at the start of a line, escaped."""
    if re.match(r"^(?:#{1,6}\s|>|[-*+]\s|\d+[.)]\s|---|```|===)", text):
        return "\\" + text
    return text
