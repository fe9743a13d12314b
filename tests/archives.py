"""A small real archive built in process, as a crawl builds it, for the damage and repair tests.

A digest file cites four links: two article pages (one reached through a redirect), a page
that answers 404, and one never fetched. Each exchange is written to WARC as the recorder
writes it (response + request records, the redirect hop too), each page read by the real
extractor, each outcome stored by `Archive.record_outcome`: every record kind (warcinfo,
resource, response, request) and every JSON kind (digest, link, article) is there.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from crawler.archive import Archive
from crawler.digests import parse_digest
from crawler.extractors import extract
from crawler.items import FetchOutcome, Pointer, Status
from crawler.outcomes import settle
from crawler.urls import url_id
from tests.conftest import article_html, sentences

SITE = "https://news.example.com"
PAGES = {
    f"{SITE}/a.html": article_html("第一篇测试文章", sentences("第一篇")),
    f"{SITE}/c.html": article_html("第三篇测试文章", sentences("第三篇")),
}
REDIRECT = f"{SITE}/b.html"  # 302 to c.html
GONE = f"{SITE}/gone.html"
PENDING = f"{SITE}/later.html"
URLS = [f"{SITE}/a.html", REDIRECT, GONE, PENDING]


@dataclass
class Built:
    """The archive and where its records are."""

    root: Path
    digest_file: Path
    digest_id: str


def write_digest(folder: Path, urls: list[str] = URLS, name: str = "daily.md") -> Path:
    """A quick-list digest citing `urls`."""
    folder.mkdir(parents=True, exist_ok=True)
    items = "\n".join(f"- [第{i}条]({url})，摘要" for i, url in enumerate(urls, 1))
    path = folder / name
    path.write_text(f"# 日报 2026-02-05\n\n## 更多动态\n\n{items}\n", encoding="utf-8")
    return path


def _exchange(archive: Archive, url: str, status: int, body: bytes, headers: list) -> Pointer:
    return archive.warc.write_exchange(
        url=url,
        method="GET",
        request_headers=[(b"User-Agent", b"sources-test")],
        request_body=b"",
        status=status,
        protocol="HTTP/1.1",
        response_headers=headers,
        body=body,
        fetched_at=time.time(),
        ip="127.0.0.1",
    )


def fetch(archive: Archive, url: str, *, gzipped: bool = False) -> None:
    """Fetch `url` from the made-up site into the archive, as the crawl would."""
    redirects: list[str] = []
    final = url
    if url == REDIRECT:
        _exchange(archive, url, 302, b"", [(b"Location", b"/c.html")])
        redirects, final = [url], f"{SITE}/c.html"
    if final == GONE:
        pointer = _exchange(
            archive, final, 404, b"<html>no</html>", [(b"Content-Type", b"text/html")]
        )
        item = FetchOutcome(
            url_id(url), url, Status.GONE, "HTTP 404", 404, final, "text/html", original=pointer
        )
        archive.record_outcome(item)
        return
    body = PAGES[final].encode()
    served, headers = body, [(b"Content-Type", b"text/html; charset=utf-8")]
    if gzipped:
        served = gzip.compress(body)
        headers.append((b"Content-Encoding", b"gzip"))
    pointer = _exchange(archive, final, 200, served, headers)
    item = FetchOutcome(
        link_id=url_id(url),
        canonical_url=url,
        http_status=200,
        final_url=final,
        content_type="text/html; charset=utf-8",
        headers=[(k.decode(), v.decode()) for k, v in headers],
        body=body,
        fetched_at=time.time(),
        redirects=redirects,
        original=pointer,
        body_sha256=hashlib.sha256(body).hexdigest(),
    )
    item.extracted = extract(final, body, item.content_type)
    item.status, item.reason = settle(item)
    archive.record_outcome(item)


def build(root: Path, *, gzipped: bool = False) -> Built:
    """Build the archive at `root` (its digest file beside it, in `root.parent / 'digests'`)."""
    digest_file = write_digest(root.parent / "digests")
    archive = Archive(root).open()
    try:
        raw = digest_file.read_bytes()
        digest = parse_digest(raw, str(digest_file))
        archive.assign_digest_id(digest)
        archive.record_digest(digest, raw, time.time())
        for url in URLS[:3]:
            fetch(archive, url, gzipped=gzipped)
    finally:
        archive.close()
    return Built(root, digest_file, digest.id)


def copy(built: Built, to: Path) -> Built:
    """A copy of a built archive (its digest file stays where it is)."""
    shutil.copytree(built.root, to)
    return Built(to, built.digest_file, built.digest_id)
