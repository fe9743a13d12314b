"""Extractors: `extract()` on fixtures per site and page state, odd inputs, the real saved pages.

The units have their own modules: test_extractors_decode, _dates, _scripts, _weixin.
"""

from __future__ import annotations

import ast
import json
import pickle
import random
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import crawler.extractors
from crawler.extractors import REGISTRY, extract, extractor_for
from crawler.items import Extracted, Status
from crawler.urls import arxiv_id

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pages"
SHARED_PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "pages"

FIXTURE_FILES = sorted(FIXTURES.glob("*/*.json"))
#: Boilerplate that no archived fixture's text may contain, besides each fixture's own list.
BOILERPLATE = ("扫码关注", "责任编辑", "相关阅读", "推荐阅读")


def load(path: Path) -> tuple[dict[str, Any], Extracted]:
    """A fixture's json and what `extract` makes of its page."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    body = body_file(path, spec).read_bytes()
    return spec, extract(spec["url"], body, spec.get("content_type"))


def body_file(path: Path, spec: dict[str, Any]) -> Path:
    """A fixture's body: `<slug>.html`, or `<slug>.response` for an API's answer as served."""
    return path.with_suffix(".response" if spec.get("response") else ".html")


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
    if result.status == Status.ARCHIVED:
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
    if result.status == Status.ARCHIVED:
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
# Odd inputs: never raise


def test_empty_body_fails() -> None:
    for body in (b"", b"   \n", None):
        result = extract("https://example.com/", body, "text/html")  # type: ignore[arg-type]
        assert result.status == Status.FAILED
        assert result.reason == "empty body"


def test_pdf_behind_html_url_is_a_binary() -> None:
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    result = extract("https://example.com/paper.html", body, "text/html; charset=utf-8")
    assert (result.status, result.extractor, result.text) == (Status.ARCHIVED, "binary", "")
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
    assert (result.status, result.extractor, result.text) == (Status.ARCHIVED, "text", data)
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
        assert result.status in (Status.ARCHIVED, Status.GONE, Status.BLOCKED, Status.FAILED)


def test_garbage_bytes_never_raise() -> None:
    rng = random.Random(7)
    for size in (1, 17, 4096, 100_000):
        body = bytes(rng.randrange(256) for _ in range(size))
        for content_type in (None, "text/html", "text/html; charset=gbk", "application/json"):
            result = extract("https://example.com/x", body, content_type)
            assert isinstance(result, Extracted)
    garbled = extract("https://example.com/x", bytes(range(128, 256)) * 200, "text/html")
    assert garbled.status in (Status.FAILED, Status.ARCHIVED)


def test_huge_page_is_extracted() -> None:
    paragraphs = "".join(
        f"<p>第 {i} 段：这是很长的页面中的一段正文，用来检查大页面不会出错，编号 {i * 7919}。</p>"
        for i in range(20_000)
    )
    body = f"<html><body><article>{paragraphs}</article></body></html>".encode()
    result = extract("https://example.com/huge", body, "text/html; charset=utf-8")
    assert result.status == Status.ARCHIVED
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
# crawler.urls.arxiv_id, which the arXiv extractor reads ids with


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


def names(truth: str) -> set[str]:
    """The names a truth's author field lists ("未闻Code (author: kingname)": both)."""
    found = {" ".join(truth.split())}
    for part in re.split(r"[/／()（）,，]|author:|articles by|shared from", truth):
        part = " ".join(part.split())
        if part:
            found.add(part)
            if re.search(r"[\u4e00-\u9fff]", part):
                found.update(part.split())
    return found


def test_no_real_page_is_marked_as_an_expected_failure() -> None:
    """Every real page is read right: none is marked xfail (issue 14 took the last marks off)."""
    source = Path(__file__).read_text(encoding="utf-8")
    assert "xfail(" not in source.replace('"xfail("', "")


@pytest.mark.skipif(not REAL, reason=f"real saved pages not found at {SHARED_PAGES}")
@pytest.mark.parametrize("row", REAL, ids=[row["file"] for row in REAL])
def test_real_page(row: dict[str, Any]) -> None:
    url = row["url"] or DEFAULT_URLS[row["file"].split("/")[0]]
    result = extract(url, (SHARED_PAGES / row["file"]).read_bytes(), None)
    kind = row["kind"]
    if kind == "expired":
        assert result.status == Status.GONE
        assert "链接已过期" in (result.reason or "")
    elif kind == "gone":  # deleted or taken down: the reason quotes what the page says
        assert result.status == Status.GONE
        assert flat(row["body_first_sentence"]) in flat(result.reason)
    elif kind == "listing":
        assert result.status == Status.FAILED
        assert "not an article" in (result.reason or "")
        assert result.title == row["title"]
    else:  # article, paywall_truncated, api_atom
        assert result.status == Status.ARCHIVED, result.reason
        assert result.title == row["title"]
        assert (result.published or "")[:10] == row["published"]
        if row["body_first_sentence"]:
            assert flat(row["body_first_sentence"]) in flat(result.text)
            assert flat(row["body_last_sentence"]) in flat(result.text)
            # the estimate counts what a reader sees; ours may keep a credit line more
            estimate = row["body_chars_estimate"]
            assert 0.85 * estimate <= len(" ".join(result.text.split())) <= 1.25 * estimate
        if row["author_or_account"]:
            recorded = {result.author, result.extra.get("account")} - {None}
            assert recorded & names(row["author_or_account"]), recorded


@pytest.mark.parametrize(
    ("html", "status", "words"),
    [
        (
            "<title>页面不存在</title><h1>404</h1><p>抱歉，您访问的页面不存在。</p>",
            Status.GONE,
            "404",
        ),
        ("<title>Just a moment...</title><p>Checking your browser.</p>", Status.BLOCKED, "Just a"),
        ("<title>知乎</title><p>登录后查看更多内容</p>", Status.BLOCKED, "登录后查看"),
        ("<title>x</title><div class='nav'><a href='/'>首页</a></div>", Status.FAILED, "no text"),
    ],
)
def test_generic_page_states(html: str, status: Status, words: str) -> None:
    body = (
        f"<html><head>{html.split('</title>')[0]}</title></head><body>{html.split('</title>')[1]}"
    )
    result = extract("https://example.com/page", f"{body}</body></html>".encode(), "text/html")
    assert result.status == status
    assert words in (result.reason or "")


# ---------------------------------------------------------------------------------------------
# The package's own rules

PACKAGE = Path(crawler.extractors.__file__).resolve().parent
MODULES = sorted(PACKAGE.glob("*.py"))


def imports(path: Path) -> set[str]:
    """Absolute names a module imports (`from a.b import c` gives "a.b" and "a.b.c")."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def room_graph() -> dict[str, set[str]]:
    """Which module of crawler.extractors imports which ("__init__" for the package itself)."""
    rooms = {path.stem for path in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        found = set()
        for name in imports(path):
            if name == "crawler.extractors":
                found.add("__init__")
            elif name.startswith("crawler.extractors."):
                room = name.split(".")[2]
                found.add(room if room in rooms else "__init__")
        graph[path.stem] = found - {path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as the list of its nodes, or None when it has none."""
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt, [*trail, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_extractors_package_has_no_import_cycle() -> None:
    graph = room_graph()
    assert {"base", "body", "decode", "page", "weixin"} <= set(graph)  # the walk saw the rooms
    assert "page" in graph["base"]
    assert find_cycle(graph) is None
    assert not [room for room, found in graph.items() if room != "__init__" and "__init__" in found]


def test_extractors_import_nothing_from_scrapy() -> None:
    for path in MODULES:
        scrapy = [n for n in imports(path) if n.split(".")[0] in ("scrapy", "twisted")]
        assert not scrapy, f"{path.name} imports {scrapy}"


def test_no_status_word_is_spelled_in_the_extractors() -> None:
    words = {str(status) for status in Status}
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        spelled = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in words
        ]
        assert not spelled, f"{path.name} spells {spelled}: use crawler.items.Status"


def test_every_extractor_has_a_name_of_its_own() -> None:
    extractors = {*REGISTRY.values(), crawler.extractors.GENERIC}
    names = [extractor.name for extractor in extractors]
    assert len(names) == len(set(names)), names
    assert crawler.extractors.GENERIC.name == "generic"
    assert not hasattr(crawler.extractors.Extractor, "name")  # the base is no extractor itself
