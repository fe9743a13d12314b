"""Extractors: fixtures per site and page state, encodings, odd inputs, the real saved pages."""

from __future__ import annotations

import json
import pickle
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from crawler.extractors import REGISTRY, extract, extractor_for
from crawler.extractors.dates import parse_date
from crawler.extractors.scripts import js_string
from crawler.extractors.weixin import long_link
from crawler.items import Extracted
from crawler.urls import arxiv_id

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pages"
SHARED_PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "pages"

FIXTURE_FILES = sorted(FIXTURES.glob("*/*.json"))
#: Boilerplate that no archived fixture's text may contain, besides each fixture's own list.
BOILERPLATE = ("扫码关注", "责任编辑", "相关阅读", "推荐阅读")


def load(path: Path) -> tuple[dict[str, Any], Extracted]:
    """A fixture's json and what `extract` makes of its page."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    body = path.with_suffix(".html").read_bytes()
    return spec, extract(spec["url"], body, spec.get("content_type"))


def flat(text: str | None) -> str:
    """Text without any whitespace (pages break sentences over lines)."""
    return "".join((text or "").split())


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(path: Path) -> None:
    spec, result = load(path)
    expected = spec["expected"]
    assert result.status == expected["status"], result.reason
    if result.status == "archived":
        for key in ("title", "published", "author"):
            assert key in expected, f"{path.name}: archived fixtures state {key}"
    for key, value in expected.items():
        if key == "extra":
            for name, item in value.items():
                assert result.extra.get(name) == item, name
        else:
            assert getattr(result, key) == value, key
    for sentence in (spec.get("opening"), spec.get("closing")):
        if sentence:
            assert sentence in result.text
    if result.status == "archived":
        for snippet in (*BOILERPLATE, *spec.get("absent", ())):
            assert snippet not in result.text, snippet
        if spec.get("body"):  # paragraphs stay apart, one a line
            assert result.text.count("\n") >= spec["body"].count("\n")


def test_every_registered_domain_has_a_fixture() -> None:
    covered = {extractor_for(json.loads(p.read_text())["url"]).name for p in FIXTURE_FILES}
    missing = {e.name for e in REGISTRY.values()} - covered
    assert not missing, f"extractors without fixture: {missing}"
    for domain in REGISTRY:
        hosts = [json.loads(p.read_text())["url"].split("/")[2] for p in FIXTURE_FILES]
        assert any(h == domain or h.endswith("." + domain) for h in hosts), domain


def test_every_weixin_page_state_has_a_fixture() -> None:
    names = {p.stem for p in (FIXTURES / "mp.weixin.qq.com").glob("*.json")}
    wanted = {
        "deleted",
        "violation",
        "complaint",
        "expired",
        "rate-limit",
        "verification",
        "migrated",
        "image-text",
    }
    assert wanted <= names, wanted - names


def test_registry_matches_host_and_parent_domains() -> None:
    assert extractor_for("https://www.qbitai.com/2026/02/1.html").name == "qbitai"
    assert extractor_for("https://qbitai.com/2026/02/1.html").name == "qbitai"
    assert extractor_for("https://it.ithome.com/0/1/2.htm").name == "ithome"
    assert extractor_for("https://www.ithome.com.tw/news/1").name == "generic"
    assert extractor_for("https://notqbitai.com/").name == "generic"
    assert extractor_for("https://mp.weixin.qq.com/s/abc").name == "weixin"
    assert extractor_for("https://WWW.OSCHINA.NET:443/news/1").name == "oschina"
    assert extractor_for("not a url").name == "generic"


# ---------------------------------------------------------------------------------------------
# Encodings

ZH = [
    "本市首批人工智能应用示范场景名单日前公布，共有二十个项目入选，覆盖医疗、交通、制造等领域。",
    "市科技局有关负责人表示，将对入选项目给予资金和算力支持，并组织企业开展供需对接活动。",
    "专家认为，示范场景的建设有助于推动新技术在实体经济中的落地应用，形成可复制的经验。",
]
TW = [
    "本市首批人工智慧應用示範場景名單日前公佈，共有二十個項目入選，涵蓋醫療、交通、製造等領域。",
    "市科技局有關負責人表示，將對入選項目給予資金和算力支援，並組織企業開展供需對接活動。",
    "專家認為，示範場景的建設有助於推動新技術在實體經濟中的落地應用，形成可複製的經驗。",
]


def page(title: str, paragraphs: list[str], head: str = "", nav: str = "首页 新闻") -> str:
    """A small news page."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head>{head}<title>{title}</title></head><body><div class='nav'>{nav}</div>"
        f"<h1>{title}</h1><div class='article'>{body}</div></body></html>"
    )


@pytest.mark.parametrize(
    ("encoding", "content_type", "head"),
    [
        ("gbk", "text/html; charset=gbk", ""),  # header only
        ("gbk", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'),
        ("gbk", None, ""),  # undeclared
        ("gb18030", "text/html; charset=gb2312", ""),  # gb2312 read as gb18030
        ("utf-8", "text/html; charset=utf-8", ""),
        ("utf-8", None, ""),
    ],
)
def test_simplified_chinese_encodings(encoding: str, content_type: str | None, head: str) -> None:
    paragraphs = [*ZH, "镕铄㐀𠀀这一段含有超出 GB2312 的字符。"] if encoding == "gb18030" else ZH
    body = page("示范场景名单公布", paragraphs, head).encode(encoding)
    result = extract("https://news.example.cn/a.html", body, content_type)
    assert result.status == "archived"
    assert result.title == "示范场景名单公布"
    for paragraph in paragraphs[:3]:
        assert paragraph in result.text
    if encoding == "gb18030":
        assert "镕铄㐀𠀀" in result.text


@pytest.mark.parametrize("head", ['<meta charset="big5">', ""])
def test_big5_declared_or_detected(head: str) -> None:
    body = page("示範場景名單公佈", TW, head, nav="首頁 新聞").encode("big5")
    result = extract("https://news.example.tw/a.html", body, "text/html")
    assert result.status == "archived"
    assert result.title == "示範場景名單公佈"
    assert TW[0] in result.text


def test_wrong_charset_header_is_overruled_by_the_bytes() -> None:
    body = page("示范场景名单公布", ZH).encode("gbk")
    result = extract("https://news.example.cn/a.html", body, "text/html; charset=utf-8")
    assert result.title == "示范场景名单公布"
    assert ZH[1] in result.text


def test_invalid_utf8_bytes_are_replaced_not_fatal() -> None:
    body = page("示范场景名单公布", ZH).encode("utf-8")
    broken = body.replace("专家认为".encode(), b"\xff\xfe\xc3")
    result = extract("https://news.example.cn/a.html", broken, "text/html; charset=utf-8")
    assert result.status == "archived"
    assert ZH[0] in result.text
    assert result.extra["encoding"] == "utf-8"


# ---------------------------------------------------------------------------------------------
# Odd inputs: never raise


def test_empty_body_fails() -> None:
    for body in (b"", b"   \n", None):
        result = extract("https://example.com/", body, "text/html")  # type: ignore[arg-type]
        assert result.status == "failed"
        assert result.reason == "empty body"


def test_pdf_behind_html_url_is_a_binary() -> None:
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    result = extract("https://example.com/paper.html", body, "text/html; charset=utf-8")
    assert (result.status, result.extractor, result.text) == ("archived", "binary", "")
    assert result.extra["content_type"] == "application/pdf"
    arxiv = extract("https://arxiv.org/pdf/2602.01234v2", body, "application/pdf")
    assert arxiv.extra == {"content_type": "application/pdf", "arxiv_id": "2602.01234"}


def test_images_and_binaries_are_archived_untouched() -> None:
    png = extract("https://example.com/a.png", b"\x89PNG\r\n\x1a\n" + bytes(100), None)
    assert (png.extractor, png.extra["content_type"]) == ("binary", "image/png")
    zipped = extract("https://example.com/a", b"PK\x03\x04" + bytes(50), "application/zip")
    assert zipped.extractor == "binary"
    octets = extract("https://example.com/a", b"\x01\x02\x03abc", "application/octet-stream")
    assert octets.extra["content_type"] == "application/octet-stream"


def test_json_and_plain_text_are_kept_as_is() -> None:
    data = '{"title": "模型", "n": 1}'
    result = extract("https://api.example.com/x", data.encode(), "application/json")
    assert (result.status, result.extractor, result.text) == ("archived", "text", data)
    plain = extract("https://example.com/a.txt", "第一行\n第二行".encode(), "text/plain")
    assert plain.text == "第一行\n第二行"


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><p>unclosed <b>bold <i>italic <div><p>",
        b"<<<>>><html<<body>>" + b"</div>" * 50,
        b"<?xml version='1.0' encoding='utf-8'?><html><body><p>" + "\u4e2d\u6587".encode() * 200,
        b"<html>" + b"<div>" * 3000 + b"deep" + b"</div>" * 3000 + b"</html>",
        b"<html><body>\x00\x01\x02<p>nul bytes\x00 inside</p></body></html>",
        b"<html><head><meta charset='no-such-charset'></head><body><p>x</p></body></html>",
        b"<html><head><script>var msg_title = '\\x",
        "<p>text</p>".encode("utf-16"),
    ],
)
def test_broken_markup_never_raises(body: bytes) -> None:
    for url in ("https://example.com/a", "https://mp.weixin.qq.com/s/x", "https://arxiv.org/abs/1"):
        result = extract(url, body, "text/html")
        assert isinstance(result, Extracted)
        assert result.status in ("archived", "gone", "blocked", "failed")


def test_garbage_bytes_never_raise() -> None:
    rng = random.Random(7)
    for size in (1, 17, 4096, 100_000):
        body = bytes(rng.randrange(256) for _ in range(size))
        for content_type in (None, "text/html", "text/html; charset=gbk", "application/json"):
            result = extract("https://example.com/x", body, content_type)
            assert isinstance(result, Extracted)
    garbled = extract("https://example.com/x", bytes(range(128, 256)) * 200, "text/html")
    assert garbled.status in ("failed", "archived")


def test_huge_page_is_extracted() -> None:
    paragraphs = "".join(
        f"<p>第 {i} 段：这是很长的页面中的一段正文，用来检查大页面不会出错，编号 {i * 7919}。</p>"
        for i in range(20_000)
    )
    body = f"<html><body><article>{paragraphs}</article></body></html>".encode()
    result = extract("https://example.com/huge", body, "text/html; charset=utf-8")
    assert result.status == "archived"
    assert len(result.text) > 100_000


def test_extract_is_picklable_and_runs_in_a_process_pool() -> None:
    assert pickle.loads(pickle.dumps(extract)) is extract
    spec = json.loads((FIXTURES / "www.ithome.com" / "article.json").read_text())
    body = (FIXTURES / "www.ithome.com" / "article.html").read_bytes()
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(extract, spec["url"], body, spec["content_type"]).result(timeout=60)
    assert result.title == spec["expected"]["title"]
    assert pickle.loads(pickle.dumps(result)) == result


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2106.09608", "2106.09608"),
        ("https://arxiv.org/abs/2106.09608v2", "2106.09608"),
        ("http://arxiv.org/pdf/2106.09608v2.pdf", "2106.09608"),
        ("https://arxiv.org/pdf/2106.09608", "2106.09608"),
        ("https://export.arxiv.org/abs/1501.00001", "1501.00001"),
        ("https://arxiv.org/html/2401.12345v1", "2401.12345"),
        ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/pdf/hep-th/9901001v3.pdf", "hep-th/9901001"),
        ("https://arxiv.org/abs/math.GT/0309136", "math.GT/0309136"),
        ("arxiv.org/abs/0704.0001", "0704.0001"),
        ("http://export.arxiv.org/api/query?id_list=2602.01234v2", "2602.01234"),
        ("http://export.arxiv.org/api/query?id_list=2602.01234,2602.01235", None),
        ("https://arxiv.org/list/cs.CL/recent", None),
        ("https://example.com/abs/2106.09608", None),
        ("", None),
    ],
)
def test_arxiv_id(url: str, expected: str | None) -> None:
    assert arxiv_id(url) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1581517074", "2020-02-12T22:17:54+08:00"),
        ("2020-02-12 22:17", "2020-02-12T22:17:00+08:00"),
        ("2024/1/25 8:02:33", "2024-01-25T08:02:33+08:00"),
        ("2020-02-12", "2020-02-12"),
        ("2020年2月12日", "2020-02-12"),
        ("2026年2月5日 14:03", "2026-02-05T14:03:00+08:00"),
        ("2025-10-16T17:59:37Z", "2025-10-16T17:59:37+00:00"),
        ("2025-10-17T00:00:00-04:00", "2025-10-17T00:00:00-04:00"),
        ("Thu, 17 Jun 2021 15:45:54 UTC", "2021-06-17T15:45:54+00:00"),
        ("17 Jun 2021", "2021-06-17"),
        ("昨天", None),
        ("3小时前", None),
        ("", None),
        ("2020-13-45", None),
    ],
)
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_js_string_reads_wechat_page_variables() -> None:
    source = """
    var biz = ""||"MjM5NzE1NTMyNg==";
    var title = 'A &amp; B'.html(false);
    var nickname = htmlDecode("机器之心");
    var msg_desc = "第一行\\x0a第二行";
    window.cgiDataNew = { nick_name: JsDecode('账号\\x26名'), create_time: '1700000000' * 1 };
    var author_id = "x";
    """
    assert js_string(source, "biz") == "MjM5NzE1NTMyNg=="
    assert js_string(source, "title") == "A & B"
    assert js_string(source, "nickname") == "机器之心"
    assert js_string(source, "msg_desc") == "第一行\n第二行"
    assert js_string(source, "nick_name") == "账号&名"
    assert js_string(source, "create_time") == "1700000000"
    assert js_string(source, "author") is None
    assert js_string(source, "nick_name", declared=True) is None


def test_long_link_keeps_the_four_identifying_params() -> None:
    link = (
        "http://mp.weixin.qq.com/s?__biz=MzI2MzEwNTY3OQ==&amp;mid=2648978231&amp;idx=1&amp;"
        "sn=dd091611fcf1aa0c2aef9655f13e7731&amp;chksm=f2506ed7#rd"
    )
    assert long_link(link) == (
        "https://mp.weixin.qq.com/s?__biz=MzI2MzEwNTY3OQ==&mid=2648978231"
        "&idx=1&sn=dd091611fcf1aa0c2aef9655f13e7731"
    )
    assert long_link("http://mp.weixin.qq.com/s?__biz=MzI=&mid=1&idx=1&sn=") is None
    assert long_link("") is None


# ---------------------------------------------------------------------------------------------
# Real saved pages (../shared/pages), against their hand-read ground truth

DEFAULT_URLS = {
    "wechat": "https://mp.weixin.qq.com/s/saved-page",
    "arxiv": "https://arxiv.org/abs/saved-page",
    "other": "https://news.example.com/saved-page.html",
}


def truth_rows() -> list[dict[str, Any]]:
    """Rows of TRUTH.jsonl, or [] when the shared pages are absent."""
    truth = SHARED_PAGES / "TRUTH.jsonl"
    if not truth.is_file():
        return []
    return [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines() if line]


REAL = truth_rows()


@pytest.mark.skipif(not REAL, reason=f"real saved pages not found at {SHARED_PAGES}")
@pytest.mark.parametrize("row", REAL, ids=lambda r: r["file"])
def test_real_page(row: dict[str, Any]) -> None:
    url = row["url"] or DEFAULT_URLS[row["file"].split("/")[0]]
    result = extract(url, (SHARED_PAGES / row["file"]).read_bytes(), None)
    kind = row["kind"]
    if kind == "expired":
        assert result.status == "gone"
        assert "链接已过期" in (result.reason or "")
    elif kind == "listing":
        assert result.status == "failed"
        assert "not an article" in (result.reason or "")
        assert result.title == row["title"]
    else:  # article, paywall_truncated, api_atom
        assert result.status == "archived", result.reason
        assert result.title == row["title"]
        assert (result.published or "")[:10] == row["published"]
        if row["body_first_sentence"]:
            assert flat(row["body_first_sentence"]) in flat(result.text)
            assert flat(row["body_last_sentence"]) in flat(result.text)


@pytest.mark.parametrize(
    ("html", "status", "words"),
    [
        ("<title>页面不存在</title><h1>404</h1><p>抱歉，您访问的页面不存在。</p>", "gone", "404"),
        ("<title>Just a moment...</title><p>Checking your browser.</p>", "blocked", "Just a"),
        ("<title>知乎</title><p>登录后查看更多内容</p>", "blocked", "登录后查看"),
        ("<title>x</title><div class='nav'><a href='/'>首页</a></div>", "failed", "no text"),
    ],
)
def test_generic_page_states(html: str, status: str, words: str) -> None:
    body = (
        f"<html><head>{html.split('</title>')[0]}</title></head><body>{html.split('</title>')[1]}"
    )
    result = extract("https://example.com/page", f"{body}</body></html>".encode(), "text/html")
    assert result.status == status
    assert words in (result.reason or "")
