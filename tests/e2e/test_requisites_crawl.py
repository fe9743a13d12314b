"""Requisites through real crawls: images, stylesheets and fonts stored beside their articles,
once across pages (by URL, and by payload as `revisit` records), with the page as Referer,
resumed after a kill, bounded against hostile servers; the article is archived whatever its
requisites do."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.archive.warcread import parse_record
from tests.conftest import citations, quick_digest, run_crawl, verify
from tests.e2e.loopsite import (
    LoopSite,
    endless,
    gzip_bomb,
    huge,
    page,
    pixel_bomb,
    png,
)

CSS = (
    '@import url("extra.css");\n'
    '@font-face { font-family: T; src: url(/f/t.woff2) format("woff2"); }\n'
    "h1 { color: rgb(1, 2, 3); font-family: T; }\n"
    "body { background: url(/img/bg.png); }\n"
)


def articles(archive: Path) -> dict[str, dict[str, Any]]:
    """Article records by the last path segment of their URL."""
    found = {}
    for path in (archive / "articles").glob("*/*.json"):
        record = json.loads(path.read_text())
        found[record["url"].rsplit("/", 1)[-1]] = record
    return found


def record_headers(archive: Path, ptr: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """WARC headers and block of the record a pointer names."""
    with (archive / ptr["warc"]).open("rb") as fh:
        fh.seek(ptr["offset"])
        data = zlib.decompress(fh.read(ptr["length"]), 16 + zlib.MAX_WBITS)
    headers, block, problems = parse_record(data)
    assert not problems
    return headers, block


def served_site(site: LoopSite) -> None:
    """Two articles sharing a stylesheet (with an @import, a font, a background) and one image
    under two URLs."""
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    fig = png(40, 30)
    site.add("/img/fig.png", fig, "image/png")
    site.add("/img/copy.png", fig, "image/png")
    site.add("/s/main.css", CSS, "text/css")
    site.add("/s/extra.css", "p { margin: 1px; }", "text/css")
    site.add("/f/t.woff2", b"wOF2 a font for the test", "font/woff2")
    site.add("/img/bg.png", png(2, 2, (0, 0, 255)), "image/png")
    link = '<link rel="stylesheet" href="/s/main.css">'
    lazy = '<p><img id="fig" src="data:image/gif;base64,R0lGOD" data-src="/img/fig.png"></p>'
    site.add("/a.html", page("第一篇文章", lazy, link), "text/html; charset=utf-8")
    srcset = '<p><img id="fig" srcset="/img/tiny.png 10w, /img/copy.png 400w"></p>'
    site.add("/b.html", page("第二篇文章", srcset, link), "text/html; charset=utf-8")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LoopSite]]:
    """One crawl of the two articles; the archive and the site's log."""
    tmp = tmp_path_factory.mktemp("requisites")
    with LoopSite() as site:
        served_site(site)
        digests = quick_digest(
            tmp / "digests" / "d.md", [("A", site.url("/a.html")), ("B", site.url("/b.html"))]
        ).parent
        result = run_crawl(tmp / "archive", digests)
        assert result.returncode == 0, result.stderr[-3000:]
        yield tmp / "archive", site


def test_every_requisite_is_stored_beside_its_article(crawled: tuple[Path, LoopSite]) -> None:
    archive, site = crawled
    found = articles(archive)
    a, b = found["a.html"]["attachments"], found["b.html"]["attachments"]
    kinds = {url.rsplit("/", 1)[-1]: entry["kind"] for url, entry in (a | b).items()}
    # the lazy image's data-src, the srcset's largest candidate, the stylesheet, its @import,
    # its font and its background
    assert kinds == {
        "fig.png": "image",
        "copy.png": "image",
        "main.css": "stylesheet",
        "extra.css": "stylesheet",
        "t.woff2": "font",
        "bg.png": "style-image",
    }
    # what the stylesheet loads is listed by the article that fetched it
    fetched_by = a if "dedupe" not in a[site.url("/s/main.css")] else b
    assert {e.get("via") for e in fetched_by.values()} == {None, site.url("/s/main.css")}
    assert {e["status"] for e in (a | b).values()} == {"archived"}
    assert not site.count("/img/tiny.png")
    assert found["b.html"]["images"] == [site.url("/img/copy.png")]
    # the navigation's logo is not the article's
    assert not site.count("/nav-logo.png")
    assert verify(archive).returncode == 0, verify(archive).stdout


def test_a_shared_stylesheet_is_fetched_once_and_referenced(
    crawled: tuple[Path, LoopSite],
) -> None:
    archive, site = crawled
    assert site.count("/s/main.css") == 1
    assert site.count("/f/t.woff2") == 1
    entries = [r["attachments"][site.url("/s/main.css")] for r in articles(archive).values()]
    assert sorted(e.get("dedupe", "") for e in entries) == ["", "url"]
    assert entries[0]["original"] == entries[1]["original"]  # one record, two articles


def test_the_same_bytes_under_another_url_become_a_revisit(
    crawled: tuple[Path, LoopSite],
) -> None:
    archive, site = crawled
    found = articles(archive)
    images = [
        found["a.html"]["attachments"][site.url("/img/fig.png")],
        found["b.html"]["attachments"][site.url("/img/copy.png")],
    ]
    revisits = [e for e in images if e.get("dedupe") == "payload"]
    originals = [e for e in images if "dedupe" not in e]
    assert len(revisits) == 1 and len(originals) == 1
    revisit, original = revisits[0], originals[0]
    assert revisit["revisit_of"] == original["original"]
    headers, block = record_headers(archive, revisit["original"])
    first, _ = record_headers(archive, original["original"])
    assert headers["warc-type"] == "revisit"
    assert headers["warc-profile"].endswith("/revisit/identical-payload-digest")
    assert headers["warc-refers-to"] == first["warc-record-id"]
    assert headers["warc-refers-to-target-uri"] == first["warc-target-uri"]
    assert headers["warc-refers-to-date"] == first["warc-date"]
    assert headers["warc-payload-digest"] == first["warc-payload-digest"]
    assert block.startswith(b"HTTP/1.") and block.endswith(b"\r\n\r\n")  # headers, no body
    assert site.count("/img/fig.png") == 1 and site.count("/img/copy.png") == 1


def test_requisites_are_fetched_with_the_page_as_referer(crawled: tuple[Path, LoopSite]) -> None:
    _, site = crawled
    referers = {hit.path: hit.headers.get("Referer") for hit in site.hits}
    assert referers["/img/fig.png"] == site.url("/a.html")
    assert referers["/s/main.css"] in (site.url("/a.html"), site.url("/b.html"))
    assert referers["/f/t.woff2"] == site.url("/s/main.css")  # a font names its stylesheet
    assert "image/" in next(h for h in site.hits if h.path == "/img/fig.png").headers["Accept"]


def test_a_metadata_record_lists_the_pages_requisites(crawled: tuple[Path, LoopSite]) -> None:
    archive, site = crawled
    record = articles(archive)["a.html"]
    page_headers, _ = record_headers(archive, record["original"])
    outlinks = []
    for path in (archive / "warc").glob("*.warc.gz"):
        from crawler.archive.warcread import scan

        for member in scan(path, keep_payload=True):
            if (
                member.headers.get("warc-type") == "metadata"
                and member.headers.get("warc-concurrent-to") == page_headers["warc-record-id"]
            ):
                outlinks += (member.payload or b"").decode().splitlines()
    assert f"outlink: {site.url('/img/fig.png')} E image" in outlinks


@pytest.mark.slow
def test_a_referer_protected_image_host_serves_the_article_image(
    tmp_path: Path,
) -> None:
    """As WeChat's mmbiz.qpic.cn: no image without a Referer naming the article."""
    with LoopSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        site.add("/mmbiz_png/x/640", png(8, 8), "image/png")
        site.referer_required["/mmbiz_png/x/640"] = site.url("/s/article")
        body = f'<p><img data-src="{site.url("/mmbiz_png/x/640")}?wx_fmt=png"></p>'
        site.add("/s/article", page("图片文章", body), "text/html; charset=utf-8")
        digests = quick_digest(tmp_path / "d" / "d.md", [("A", site.url("/s/article"))]).parent
        assert run_crawl(tmp_path / "archive", digests).returncode == 0
        from urllib.error import HTTPError
        from urllib.request import urlopen

        with pytest.raises(HTTPError):  # the guard is real: a hotlink is refused
            urlopen(site.url("/mmbiz_png/x/640"), timeout=5)
    entry = next(iter(articles(tmp_path / "archive")["article"]["attachments"].values()))
    assert entry["status"] == "archived" and entry["http_status"] == 200


@pytest.mark.slow
def test_requisites_left_pending_are_fetched_by_the_next_run(tmp_path: Path) -> None:
    """A crawl killed before its requisites were fetched leaves them pending; the next run,
    with nothing new to crawl, fetches them."""
    from crawler.archive import Archive
    from crawler.items import Requisite

    archive = tmp_path / "archive"
    with LoopSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        site.add("/img/late.png", png(4, 4), "image/png")
        site.add("/a.html", page("文章", '<p><img src="/img/late.png"></p>'), "text/html")
        digests = quick_digest(tmp_path / "d" / "d.md", [("A", site.url("/a.html"))]).parent
        off = {"ARTICLE_IMAGES_DOMAINS": "", "REQUISITES_STYLES": "False"}
        assert run_crawl(archive, digests, **off).returncode == 0
        assert not site.count("/img/")
        # what a kill between planning and fetching leaves: the requisite pending
        article_id = next(iter(articles(archive).values()))["id"]
        opened = Archive(archive).open()
        opened.plan_requisites(article_id, [(site.url("/img/late.png"), Requisite.IMAGE, None)])
        opened.close()
        assert articles(archive)["a.html"]["attachments"][site.url("/img/late.png")] == {
            "status": "pending",
            "kind": "image",
        }
        again = run_crawl(archive, digests)
        assert again.returncode == 0, again.stderr[-2000:]
        assert site.count("/a.html") == 1  # the page is not fetched again
        assert site.count("/img/late.png") == 1
    entry = articles(archive)["a.html"]["attachments"][site.url("/img/late.png")]
    assert entry["status"] == "archived"
    assert "sources/attachments/resumed" in again.stderr
    assert verify(archive).returncode == 0


@pytest.mark.slow
def test_with_requisites_off_nothing_but_the_page_is_fetched(tmp_path: Path) -> None:
    with LoopSite() as site:
        served_site(site)
        digests = quick_digest(tmp_path / "d" / "d.md", [("A", site.url("/a.html"))]).parent
        off = {"ARTICLE_IMAGES_DOMAINS": "", "REQUISITES_STYLES": "False"}
        assert run_crawl(tmp_path / "archive", digests, **off).returncode == 0
        assert {hit.path for hit in site.hits} == {"/robots.txt", "/a.html"}
    assert "attachments" not in articles(tmp_path / "archive")["a.html"]


# --- hostile servers ---------------------------------------------------------------------------

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    b"<script>fetch('/steal')</script><rect width='10' height='10'/></svg>"
)

#: case -> (requisite markup of its article, the URL path(s) served, what it must end as)
HOSTILE: dict[str, tuple[str, str, str]] = {
    "thousands-of-images": ("", "skipped", "over ARTICLE_IMAGES_MAX"),
    "image-that-never-ends": (
        '<p><img src="/bad/endless.png"></p>',
        "skipped",
        "too large: over REQUISITE_MAXSIZE (1048576 bytes), stopped after",
    ),
    "2gb-stylesheet": (
        '<link rel="stylesheet" href="/bad/huge.css">',
        "skipped",
        "too large: Content-Length 2147483648 bytes is over REQUISITE_MAXSIZE (1048576 bytes)",
    ),
    "private-address": (
        '<p><img src="http://10.20.30.40/private.png"></p>',
        "refused",
        "private address",
    ),
    "gzip-bomb-png": (
        '<p><img src="/bad/bomb.png"></p>',
        "skipped",
        "too large: over REQUISITE_MAXSIZE (1048576 bytes) once decompressed",
    ),
    "pixel-bomb-png": (
        '<p><img src="/bad/pixels.png"></p>',
        "skipped",
        "decompression bomb: PNG of 100000×100000 pixels",
    ),
    "svg-with-scripts": (
        '<p><img src="/bad/script.svg"></p>',
        "archived",
        "SVG with active content (<script>, onload handler)",
    ),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LoopSite, str]]:
    """One crawl of an article per hostile case."""
    tmp = tmp_path_factory.mktemp("hostile")
    with LoopSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        site.routes["/bad/endless.png"] = endless("image/png")
        site.routes["/bad/huge.css"] = huge("text/css")
        site.routes["/bad/bomb.png"] = (
            200,
            {"Content-Type": "image/png", "Content-Encoding": "gzip"},
            gzip_bomb(64 * 1024 * 1024),
        )
        site.add("/bad/pixels.png", pixel_bomb(), "image/png")
        site.add("/bad/script.svg", SVG, "image/svg+xml")
        many = "".join(f'<img src="/many/{i}.png">' for i in range(3000))
        links = []
        for case, (markup, _, _) in HOSTILE.items():
            body = many if case == "thousands-of-images" else markup
            head = markup if markup.startswith("<link") else ""
            body = "" if head else body
            site.add(f"/{case}", page(f"文章{case}", body, head), "text/html; charset=utf-8")
            links.append((case, site.url(f"/{case}")))
        digests = quick_digest(tmp / "d" / "d.md", links).parent
        log = run_crawl(
            tmp / "archive",
            digests,
            timeout=170,
            REQUISITE_MAXSIZE=str(1024 * 1024),
            DOWNLOAD_TIMEOUT="20",
        )
        yield tmp / "archive", site, log.stderr
        assert log.returncode == 0, log.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_requisite_is_bounded_and_recorded_and_the_article_archived(
    hostile: tuple[Path, LoopSite, str], case: str
) -> None:
    archive, site, _log = hostile
    _, status, reason = HOSTILE[case]
    rows = {row["url"].rsplit("/", 1)[-1]: row for row in citations(archive)}
    assert rows[case]["status"] == "archived"  # whatever its requisites did
    record = articles(archive)[case]
    if case == "thousands-of-images":
        assert len(record["images"]) == 1000  # the article's image list is bounded too
        fetched = [e for e in record["attachments"].values() if e["kind"] == "image"]
        assert len(fetched) == 60
        assert site.count("/many/") == 60
        omitted = record["attachments_omitted"]
        assert omitted["count"] == 940 and reason in omitted["reason"]
        return
    (entry,) = record["attachments"].values()
    assert entry["status"] == status, entry
    assert reason in (entry["reason"] or ""), entry
    if case == "private-address":
        assert entry["original"] is None  # no connection was made
    if case in ("pixel-bomb-png", "svg-with-scripts"):
        assert entry["original"] is not None  # kept as served, as evidence


@pytest.mark.slow
def test_the_hostile_crawl_leaves_a_sound_archive(hostile: tuple[Path, LoopSite, str]) -> None:
    archive, _site, _log = hostile
    result = verify(archive)
    assert result.returncode == 0, result.stdout
