"""crawler.requisites: what stylesheets load, srcset, image headers and active SVG, the page
budget; and the archive's side: revisit records, group commit, URL and payload dedupe, pending
requisites rebuilt by reindex, verify's checks of requisites and revisits."""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from crawler import requisites
from crawler.archive import Archive
from crawler.archive.verify import verify
from crawler.archive.warcread import parse_record
from crawler.items import AttachmentOutcome, Dedupe, Requisite, Status
from tests.conftest import record_fetch
from tests.e2e.loopsite import pixel_bomb, png

BASE = "https://news.example.com/css/site.css"


# --- stylesheets ----------------------------------------------------------------------------


def test_css_references_imports_fonts_and_images_in_order() -> None:
    css = (
        '@charset "utf-8";\n@import url("reset.css");\n@import \'print.css\' print;\n'
        "/* url(commented.png) @import 'no.css'; */\n"
        "@font-face { font-family: A; src: url(/f/a.woff2) format('woff2'), url(\"a.ttf\"); }\n"
        ".hero { background: url( ../img/hero.jpg ) no-repeat; }\n"
        ".dot { background: url(data:image/png;base64,AAAA); }\n"
        ".icon { mask: url(#frag); }\n"
    )
    imports, loads = requisites.css_references(css, BASE)
    assert imports == [
        "https://news.example.com/css/reset.css",
        "https://news.example.com/css/print.css",
    ]
    assert loads == [
        ("https://news.example.com/f/a.woff2", Requisite.FONT),
        ("https://news.example.com/css/a.ttf", Requisite.FONT),
        ("https://news.example.com/img/hero.jpg", Requisite.STYLE_IMAGE),
    ]


def test_css_is_read_only_up_to_its_limit() -> None:
    css = "a{}" * (requisites.CSS_READ_LIMIT // 3) + "b{background:url(late.png)}"
    assert requisites.css_references(css, BASE) == ([], [])


@pytest.mark.parametrize(
    ("srcset", "best"),
    [
        ("a.jpg 320w, b.jpg 1280w, c.jpg 640w", "b.jpg"),
        ("a.jpg 1x, b.jpg 2x", "b.jpg"),
        ("https://cdn/w_300,h_200/a.jpg 1x, https://cdn/w_600,h_400/a.jpg 2x", "https://cdn/w_600,h_400/a.jpg"),
        ("only.jpg", "only.jpg"),
        ("data:image/gif;base64,R0lG 1x, real.jpg 2x", "real.jpg"),
        ("", None),
    ],
)  # fmt: skip
def test_srcset_best_is_the_largest_candidate(srcset: str, best: str | None) -> None:
    assert requisites.srcset_best(srcset) == best


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://x/a.woff2?v=1", Requisite.FONT),
        ("https://x/a.css", Requisite.STYLESHEET),
        ("https://x/a.png", Requisite.IMAGE),
        ("https://x/fonts?family=A", Requisite.STYLESHEET),
    ],
)
def test_kind_of_a_url(url: str, kind: Requisite) -> None:
    default = Requisite.STYLESHEET if "fonts" in url else Requisite.IMAGE
    assert requisites.kind_of(url, default) == kind


# --- what a served file is ------------------------------------------------------------------


def test_image_sizes_are_read_from_headers() -> None:
    assert requisites.image_size(png(40, 30)) == ("PNG", 40, 30)
    assert requisites.image_size(b"GIF89a\x10\x00\x20\x00" + b"\x00" * 10) == ("GIF", 16, 32)
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x01\x00\x02\x00" + b"\x00" * 20
    assert requisites.image_size(jpeg) == ("JPEG", 512, 256)
    assert requisites.image_size(b"not an image") is None


def test_a_pixel_bomb_is_refused_and_a_plain_image_is_not() -> None:
    refused, reason = requisites.inspect(pixel_bomb(), 100_000_000) or (False, "")
    assert refused and "decompression bomb: PNG of 100000×100000 pixels" in reason
    assert requisites.inspect(png(40, 30), 100_000_000) is None


@pytest.mark.parametrize(
    ("svg", "found"),
    [
        (b"<svg><script>alert(1)</script></svg>", "<script>"),
        (b'<svg onload="x()"><rect/></svg>', "onload handler"),
        (b'<svg><a href="javascript:x()">a</a></svg>', "javascript: URL"),
        (b"<svg><foreignObject><p>html</p></foreignObject></svg>", "<foreignObject>"),
        (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaa">]><svg>&a;</svg>', "<!ENTITY>"),
    ],
)
def test_active_svg_content_is_named(svg: bytes, found: str) -> None:
    verdict = requisites.inspect(svg, 10)
    assert verdict is not None and not verdict[0] and found in verdict[1]


def test_a_plain_svg_is_not_active() -> None:
    assert requisites.inspect(b'<svg width="1"><rect fill="red"/></svg>', 10) is None


def test_the_budget_never_grants_more_than_its_limit() -> None:
    budget = requisites.Budget(100)
    grants = [budget.reserve(40) for _ in range(4)]
    assert grants == [40, 40, 20, 0]
    budget.settle(40, 5)  # took 5 of its 40
    assert budget.reserve(40) == 35
    budget.settle(40, 999)  # a download is never counted beyond its grant
    assert budget.used == 45


# --- the archive's side -------------------------------------------------------------------


def exchange(url: str, body: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "url": url,
        "method": "GET",
        "request_headers": [(b"Referer", b"https://news.example.com/a.html")],
        "request_body": b"",
        "status": 200,
        "protocol": "HTTP/1.1",
        "response_headers": [(b"Content-Type", b"image/png")],
        "body": body,
        "fetched_at": time.time(),
        **extra,
    }


def headers_at(root: Path, pointer: Any) -> dict[str, str]:
    with (root / pointer.warc).open("rb") as fh:
        fh.seek(pointer.offset)
        headers, _block, problems = parse_record(
            zlib.decompress(fh.read(pointer.length), 16 + zlib.MAX_WBITS)
        )
    assert not problems
    return headers


def test_a_repeated_requisite_payload_becomes_a_revisit(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    try:
        body = png(8, 8)
        first = archive.write_exchange(dedupe=True, **exchange("https://a.example/1.png", body))
        again = archive.write_exchange(dedupe=True, **exchange("https://b.example/2.png", body))
        page = archive.write_exchange(dedupe=False, **exchange("https://c.example/3.png", body))
        archive.warc.sync()
        assert first.revisit_of is None and page.revisit_of is None
        assert again.revisit_of == first.pointer
        one, two = headers_at(tmp_path, first.pointer), headers_at(tmp_path, again.pointer)
        assert one["warc-type"] == "response" and two["warc-type"] == "revisit"
        assert two["warc-refers-to"] == one["warc-record-id"]
        assert two["warc-refers-to-target-uri"] == "https://a.example/1.png"
        assert two["warc-refers-to-date"] == one["warc-date"]
        assert two["warc-payload-digest"] == one["warc-payload-digest"] == first.payload_digest
        assert headers_at(tmp_path, page.pointer)["warc-type"] == "response"  # pages: no dedupe
        assert int(two["content-length"]) < int(one["content-length"])  # no body
    finally:
        archive.close()


def test_an_error_answer_is_never_a_revisit(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    try:
        for _ in range(2):
            written = archive.write_exchange(
                dedupe=True, **exchange("https://a.example/x.png", b"not found", status=404)
            )
            assert written.revisit_of is None and written.payload_digest is None
    finally:
        archive.close()


def test_records_are_synced_in_groups_before_json_points_at_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: many records, one fsync, made before the JSON file that points at them."""
    archive = Archive(tmp_path).open()
    calls: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    from crawler.archive import atomic

    real_write = atomic.write_json
    monkeypatch.setattr(
        atomic, "write_json", lambda *a, **k: (calls.append("json"), real_write(*a, **k))[1]
    )
    try:
        pointers = [
            archive.write_exchange(**exchange(f"https://a.example/{i}.html", b"x" * i)).pointer
            for i in range(1, 6)
        ]
        assert "fsync" not in calls  # ten records written, none synced yet
        record_fetch(
            archive,
            "https://a.example/5.html",
            status="archived",
            http_status=200,
            original=pointers[-1],
            text="t",
        )
        assert calls[0] == "fsync" and calls[1] == "json"  # synced first, once for all
        assert archive.warc.syncs == 1
    finally:
        archive.close()


def test_requisites_are_planned_recorded_shared_and_rebuilt(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    try:
        body = png(8, 8)
        written = archive.write_exchange(dedupe=True, **exchange("https://i.example/a.png", body))
        page = archive.write_exchange(**exchange("https://news.example.com/a.html", b"<p>"))
        article = record_fetch(
            archive,
            "https://news.example.com/a.html",
            status="archived",
            http_status=200,
            original=page.pointer,
            text="一篇文章",
        )
        assert article is not None
        planned = [("https://i.example/a.png", Requisite.IMAGE, None)]
        assert archive.plan_requisites(article, planned) == planned
        assert archive.plan_requisites(article, planned) == []  # known to the article
        pending = list(archive.pending_requisites())
        assert pending == [(article, "https://news.example.com/a.html", planned)]
        outcome = AttachmentOutcome(
            article,
            "https://i.example/a.png",
            Status.ARCHIVED,
            http_status=200,
            content_type="image/png",
            size=len(body),
            original=written.pointer,
            fetched_at=time.time(),
            fetched_at_iso=written.date,
            payload_digest=written.payload_digest,
        )
        archive.record_requisites(article, [outcome], {"count": 3, "reason": "over X"})
        assert list(archive.pending_requisites()) == []
        shared = archive.requisite("https://i.example/a.png", max_age=3600)
        assert shared is not None and shared["dedupe"] == Dedupe.URL
        assert shared["original"] == written.pointer.as_dict()
        assert archive.requisite("https://i.example/a.png", max_age=-1) is None  # too old
        record = archive.article_record(article)
        assert record is not None and record["attachments_omitted"]["count"] == 3
        # the index is derived: a rebuild finds the same URL and payload
        archive.reindex()
        assert archive.requisite("https://i.example/a.png", max_age=3600) == shared
        again = archive.write_exchange(dedupe=True, **exchange("https://j.example/b.png", body))
        assert again.revisit_of == written.pointer
    finally:
        archive.close()
    assert list(verify(tmp_path)) == []


def test_verify_tells_a_revisit_that_refers_to_another_record(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    try:
        body = png(8, 8)
        first = archive.write_exchange(dedupe=True, **exchange("https://i.example/a.png", body))
        repeat = archive.write_exchange(dedupe=True, **exchange("https://i.example/b.png", body))
        other = archive.write_exchange(**exchange("https://i.example/c.png", b"other bytes"))
        page = archive.write_exchange(**exchange("https://news.example.com/a.html", b"<p>"))
        article = record_fetch(
            archive,
            "https://news.example.com/a.html",
            status="archived",
            http_status=200,
            original=page.pointer,
            text="文章",
        )
        assert article is not None
        outcome = AttachmentOutcome(
            article,
            "https://i.example/b.png",
            Status.ARCHIVED,
            original=repeat.pointer,
            payload_digest=repeat.payload_digest,
            revisit_of=other.pointer,  # wrong: the revisit refers to `first`
            dedupe=Dedupe.PAYLOAD,
        )
        archive.record_requisites(article, [outcome])
        assert first.pointer != other.pointer
    finally:
        archive.close()
    problems = list(verify(tmp_path))
    assert any("revisit refers to" in p for p in problems), problems
    assert any("different payload digests" in p for p in problems), problems


def test_verify_tells_an_attachment_pointing_at_a_missing_record(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    try:
        page = archive.write_exchange(**exchange("https://news.example.com/a.html", b"<p>"))
        article = record_fetch(
            archive,
            "https://news.example.com/a.html",
            status="archived",
            http_status=200,
            original=page.pointer,
            text="文章",
        )
        assert article is not None
        missing = type(page.pointer)(page.pointer.warc, page.pointer.offset + 1, 10, "<urn:x>")
        outcome = AttachmentOutcome(
            article, "https://i.example/a.png", Status.ARCHIVED, original=missing
        )
        archive.record_requisites(article, [outcome])
    finally:
        archive.close()
    problems = list(verify(tmp_path))
    assert any("attachment https://i.example/a.png: original" in p for p in problems), problems


def test_a_digest_resource_names_its_charset(tmp_path: Path) -> None:
    from crawler.archive.store import markdown_type

    assert markdown_type("# 日报\n".encode()) == "text/markdown; charset=utf-8"
    assert markdown_type("# 日报\n".encode("gb18030")) == "text/markdown; charset=gb18030"
    assert json.dumps(markdown_type(b"# x"))  # a plain string


def test_a_mirrors_requisites_are_fetched_from_the_mirror(tmp_path: Path) -> None:
    """EXTRACT_AS reads a mirror's page as another site's; the page's relative image URLs come
    back on that site's host and must be fetched from the mirror, never from the real site."""
    from crawler.items import Extracted, FetchOutcome
    from pipelines.requisites import RequisitesPipeline
    from tests.conftest import close_archive, project_crawler

    crawler = project_crawler(tmp_path, EXTRACT_AS={"127.0.0.1:8001": "mp.weixin.qq.com"})
    try:
        pipeline = RequisitesPipeline.from_crawler(crawler)
        page = "http://127.0.0.1:8001/s/abc"
        item = FetchOutcome(
            link_id="a" * 32,
            canonical_url=page,
            final_url=page,
            extracted=Extracted(
                text="t", images=["http://mp.weixin.qq.com/img/1.jpg", "https://mmbiz.qpic.cn/x"]
            ),
        )
        assert pipeline.wanted(item) == [
            "http://127.0.0.1:8001/img/1.jpg",
            "https://mmbiz.qpic.cn/x",
        ]
    finally:
        close_archive(crawler)
