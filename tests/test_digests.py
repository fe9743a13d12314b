"""crawler.digests: the three digest formats, the generic fallback, bad input and digest ids."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from pathlib import Path

import pytest

from crawler.digests import DigestError, digest_id, parse_digest
from crawler.items import Digest, Entry, Link, Role
from crawler.urls import InvalidURL, canonicalize, url_id

FIXTURES = Path(__file__).parent / "fixtures" / "digests"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "digests"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "digests"


def parse(name: str, source: str | None = None) -> Digest:
    return parse_digest((FIXTURES / name).read_bytes(), source or f"digests/{name}")


def roles(entries: list[Entry]) -> tuple[int, int]:
    """(source links, related links) over the given entries."""
    count = Counter(link.role for entry in entries for link in entry.links)
    assert set(count) <= {Role.SOURCE, Role.RELATED}
    return count[Role.SOURCE], count[Role.RELATED]


def cited(url: str, role: Role, text: str = "") -> Link:
    """The finished link parse_digest gives for `url` as written (crawler.urls decides)."""
    try:
        canonical = canonicalize(url)
    except InvalidURL as exc:
        return Link(url, role, text, error=f"invalid URL: {exc}")
    return Link(url, role, text, canonical, url_id(canonical))


def urls(entry: Entry, role: str | None = None) -> list[str]:
    return [link.url for link in entry.links if role is None or link.role == role]


# Counted by hand from each fixture: (file, format, entries, source links, related links).
FIXTURE_COUNTS = [
    # 3 `## ` entries (2+1+1 来源 links; the 2nd 来源 of entry 3 and its body link repeat the
    # same URL) + 3 quick items; related: GitHub + arXiv in entry 1; intro link not counted
    ("hangye.md", "hangye", 6, 7, 2),
    # entry 1: 链接 + 3 resources (the 原始报道 item repeats the 链接 URL, inline code is not a
    # link); entry 2: two URLs on the 链接 line + two bare URLs in one item; entry 3: no 链接
    # line, a parenthesised URL and an autolink in its body
    ("meiri.md", "meiri", 3, 3, 7),
    # 3 `### [t](u)` entries (entry 1: HF + arXiv + <a href> related, the image is not;
    # entry 3 repeats its own URL and cites entry 2's) + 4 `## 更多动态` items, two citing
    # the same placeholder URL; front matter and Telegram card links dropped
    ("ribao.md", "ribao", 7, 7, 4),
    # 头条: 3 `### ` entries (1+1, 1+1, 2+1 with a 来源 line); 开源项目: 2 items (1, 1+1);
    # 论文速递: 2 paragraphs (1, 1+1); intro quote, code block and mailto links dropped
    ("generic_mixed.md", "generic", 7, 8, 5),
    # no headings: items 1 (1) and 2 (1+1), item 3 has no link, the closing paragraph (1+1)
    ("generic_blocks.md", "generic", 3, 3, 2),
    # 8 list items, each its own entry; item 5 has 3 URLs, items 6 and 8 two each
    ("bare_urls.md", "generic", 8, 8, 4),
    # <p> block, an inline <a> (the <img> and the #top anchor are not links), the <table>
    # block; the subscribe box and the HTML comment are dropped
    ("html_fragment.md", "generic", 3, 3, 0),
    # entry 1 cites one URL 3 times (related, related, then 来源: source wins, one link);
    # entry 2 cites its 来源 and again entry 1's URL
    ("duplicates.md", "hangye", 2, 2, 1),
    # one entry: linked image's target, malformed `exa mple`, `http:///x`, upper-case scheme;
    # images, mailto, javascript, tel, #anchor, relative and t.me links are dropped
    ("bad_links.md", "generic", 1, 1, 3),
    # two items with reference-style links, resolved through the definitions
    ("reference_links.md", "generic", 2, 2, 1),
    # GBK bytes: one hangye entry + one quick item
    ("gbk.md", "hangye", 2, 2, 0),
]


@pytest.mark.parametrize(("name", "fmt", "entries", "sources", "related"), FIXTURE_COUNTS)
def test_fixture_entry_and_link_counts(
    name: str, fmt: str, entries: int, sources: int, related: int
) -> None:
    digest = parse(name)
    assert digest.format == fmt
    assert len(digest.entries) == entries
    assert roles(digest.entries) == (sources, related)
    assert [e.position for e in digest.entries] == list(range(1, entries + 1))
    for entry in digest.entries:
        assert entry.title
        assert all(link == cited(link.url, link.role, link.text) for link in entry.links)
        assert len({link.url for link in entry.links}) == len(entry.links)


def test_hangye_fields() -> None:
    digest = parse("hangye.md")
    assert digest.id == "hangye"
    assert digest.title == "🤖 AI行业速递 - 2026年03月02日"
    assert digest.date == "2026-03-02"
    assert digest.sha256 == hashlib.sha256((FIXTURES / "hangye.md").read_bytes()).hexdigest()
    first, second, third, *quick = digest.entries
    assert first.title == "示例智能发布开源多模态模型：8B参数实现端侧实时理解"
    assert first.section == "技术前沿解读"
    assert first.labels == ["机器之心", "量子位"]
    assert first.links[0] == cited(
        "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv", Role.SOURCE, "机器之心"
    )
    assert urls(first, Role.RELATED) == [
        "https://github.com/example-org/omni-8b",
        "https://arxiv.org/abs/2603.01234",
    ]
    assert second.section == "市场动态"
    assert third.section is None  # no 分类 line
    assert third.labels == ["深思圈"]
    assert third.links == [
        cited("https://mp.weixin.qq.com/s/Retention0000000000000", Role.SOURCE, "深思圈")
    ]
    assert [e.section for e in quick] == ["其他相关资讯"] * 3
    assert quick[0].title == "某芯片公司发布第二代推理加速卡"
    assert quick[0].labels == []
    assert "https://example.com/archive" not in {u for e in digest.entries for u in urls(e)}


def test_meiri_fields() -> None:
    digest = parse("meiri.md")
    assert (digest.title, digest.date) == ("AI 每日情报 | 2026-03-03", "2026-03-03")
    first, second, third = digest.entries
    assert first.title == "[示例实验室] OmniBench：评测大模型长程规划能力的新基准"
    assert second.title == "[某大学] 多模态检索增强：用图文混合索引降低幻觉"  # double spaces
    assert {e.section for e in digest.entries} == {"📊 今日情报"}
    assert [e.labels for e in digest.entries] == [["机器之心"], ["新智元"], ["量子位"]]
    assert urls(first, Role.SOURCE) == ["https://mp.weixin.qq.com/s/OmniBench00000000000000"]
    assert first.links[1:] == [
        cited("https://arxiv.org/abs/2603.04567", Role.RELATED, "论文"),  # trailing ， stripped
        cited("https://github.com/example-lab/omnibench", Role.RELATED, "GitHub"),  # [url](url)
        cited("https://omnibench.example.org/", Role.RELATED, "omnibench.example.org"),
    ]
    assert urls(second, Role.SOURCE) == [
        "https://mp.weixin.qq.com/s/RetrievalAug111111111111",
        "https://www.qbitai.com/2026/03/401234.html",
    ]
    assert urls(second, Role.RELATED) == [
        "https://news.aibase.com/zh/news/26001",
        "https://www.oschina.net/news/411002",
    ]
    assert urls(third, Role.SOURCE) == []  # no 链接 line
    assert urls(third, Role.RELATED) == [
        "https://example.com/blog/post-(draft)",
        "https://example.org/autolink",
    ]


def test_ribao_fields() -> None:
    digest = parse("ribao.md")
    assert (digest.title, digest.date) == ("示例日报：推理芯片与开源模型", "2026-03-04")
    entries = digest.entries
    assert [e.section for e in entries] == ["模型与研究"] * 2 + ["产业动态"] + ["更多动态"] * 4
    assert entries[0].title == "某实验室开源 30B 推理模型"
    assert urls(entries[0], Role.SOURCE) == ["https://www.qbitai.com/2026/03/402001.html"]
    assert urls(entries[0], Role.RELATED) == [
        "https://huggingface.co/example/reasoner-30b",
        "https://arxiv.org/abs/2603.05678",
        "https://github.com/example/reasoner-tools",
    ]
    assert urls(entries[2]) == [
        "https://news.aibase.com/zh/news/26010",
        "https://www.ithome.com/0/922/333.htm",  # also entry 2's source: one link in each
    ]
    assert entries[3].title == "A 公司发布新模型"
    assert urls(entries[4]) == urls(entries[5]) == ["https://ai.example.app/"]
    every = {u for e in entries for u in urls(e)}
    assert not any("t.me" in u or "example-cdn" in u or "summary" in u for u in every)


def test_generic_mixed_shapes() -> None:
    digest = parse("generic_mixed.md")
    assert digest.title == "周末 AI 读报 第 12 期"
    assert digest.date is None
    titles = [e.title for e in digest.entries]
    assert titles == [
        "OpenAI 发布新一代推理模型",
        "Anthropic 更新 Claude 的工具调用",
        "谷歌发布 Gemini 新版本",
        "example/agent-kit",
        "example/vec-db",
        "LongCtx-2",
        "TinyVLM",
    ]
    sections = [e.section for e in digest.entries]
    assert sections == ["头条"] * 3 + ["开源项目"] * 2 + ["论文速递"] * 2
    openai, anthropic, gemini = digest.entries[:3]
    assert urls(openai, Role.SOURCE) == ["https://openai.com/index/new-reasoner/"]  # first below
    assert urls(anthropic, Role.SOURCE) == ["https://www.anthropic.com/news/tool-use-update"]
    assert gemini.labels == ["机器之心", "量子位"]
    assert len(urls(gemini, Role.SOURCE)) == 2
    assert urls(digest.entries[-1]) == [
        "https://arxiv.org/abs/2603.08888",
        "https://github.com/example/tinyvlm",  # stops at the full-width ）
    ]
    every = {u for e in digest.entries for u in urls(e)}
    assert "https://community.example.com" not in every  # intro
    assert not any("should-not-count" in u for u in every)  # fenced code


def test_generic_without_headings() -> None:
    first, second, third = parse("generic_blocks.md").entries
    assert first.title == "某公司发布新模型"
    assert first.section is None
    assert second.title == "开源框架 v2.0 发布"
    assert urls(second) == [
        "https://www.oschina.net/news/414001",
        "https://github.com/example/framework",
    ]
    assert urls(third, Role.SOURCE) == ["https://mp.weixin.qq.com/s/LongRead000000000000000"]


def test_bare_urls_lose_trailing_punctuation() -> None:
    got = [urls(e) for e in parse("bare_urls.md").entries]
    assert got == [
        ["https://www.ithome.com/0/924/001.htm"],
        ["https://www.oschina.net/news/415001"],
        ["https://github.com/example/repo"],
        ["https://en.wikipedia.org/wiki/Transformer_(machine_learning)"],
        [
            "https://arxiv.org/abs/2603.11111",
            "https://arxiv.org/abs/2603.22222",
            "https://news.aibase.com/zh/news/27001",
        ],
        [
            "https://www.qbitai.com/2026/03/403001.html",
            "https://www.qbitai.com/2026/03/403002.html",
        ],
        ["https://example.com/a%20b?q=1&r=(2)"],
        ["https://example.com/quoted", "https://example.com/single"],
    ]
    assert all(link.text == "" for e in parse("bare_urls.md").entries for link in e.links)


def test_html_fragments_keep_anchors_and_drop_promotion() -> None:
    entries = parse("html_fragment.md").entries
    assert [e.links for e in entries] == [
        [cited("https://www.ithome.com/0/925/001.htm", Role.SOURCE, "IT之家")],
        [cited("https://www.oschina.net/news/416001", Role.SOURCE, "开源中国")],
        [cited("https://arxiv.org/abs/2603.33333", Role.SOURCE, "论文")],
    ]


def test_duplicate_url_is_one_link_and_source_wins() -> None:
    first, second = parse("duplicates.md").entries
    qbit = "https://www.qbitai.com/2026/03/404001.html"
    assert first.links == [cited(qbit, Role.SOURCE, "相关报道")]
    assert second.links == [
        cited("https://www.ithome.com/0/926/001.htm", Role.SOURCE, "IT之家"),
        cited(qbit, Role.RELATED, ""),
    ]


def test_dropped_and_malformed_links() -> None:
    (entry,) = parse("bad_links.md").entries
    assert entry.links == [
        cited("https://www.oschina.net/news/417001", Role.SOURCE, "logo"),  # linked image: alt text
        cited("https://exa mple.com/x", Role.RELATED, "坏链接"),  # kept as written
        cited("http:///x", Role.RELATED, "三斜杠"),
        cited("HTTPS://WWW.ITHOME.COM/0/927/001.htm", Role.RELATED, "大写"),
    ]


def test_links_come_out_finished_with_canonical_url_and_id() -> None:
    """parse_digest canonicalizes every link and names it; an unusable URL carries why."""
    (entry,) = parse("bad_links.md").entries
    finished = [(lk.canonical_url, lk.link_id, lk.error) for lk in entry.links]
    assert finished == [
        (
            "https://www.oschina.net/news/417001",
            "f6ca5378d144a5e5926e251fe97cfe7d",
            None,
        ),
        (None, None, "invalid URL: invalid host 'exa mple.com'"),
        (None, None, "invalid URL: missing host"),
        (
            "https://www.ithome.com/0/927/001.htm",  # scheme and host lower-cased
            "d403728760cd72e96733b9556c009f54",
            None,
        ),
    ]
    assert entry.links[0].link_id == hashlib.sha256(finished[0][0].encode()).hexdigest()[:32]


def test_one_url_cited_twice_is_finished_alike_in_both_entries() -> None:
    first, second = parse("duplicates.md").entries
    assert first.links[0].link_id == second.links[1].link_id == "30b51b96df401a4e61fcb3cf5051534f"
    assert first.links[0] is not second.links[1]


def test_tracking_parameters_do_not_split_a_link_id() -> None:
    text = (
        "# 日报\n\n- [甲](https://example.com/a?utm_source=x&b=2)\n"
        "- [乙](https://EXAMPLE.com:443/a?b=2#top)\n"
    )
    first, second = parse_digest(text.encode(), "x.md").entries
    assert first.links[0].canonical_url == second.links[0].canonical_url
    assert first.links[0].link_id == second.links[0].link_id
    assert (first.links[0].url, second.links[0].url) == (  # as written, for the citation
        "https://example.com/a?utm_source=x&b=2",
        "https://EXAMPLE.com:443/a?b=2#top",
    )


def test_reference_links() -> None:
    first, second = parse("reference_links.md").entries
    assert urls(first) == [
        "https://www.ithome.com/0/928/001.htm",
        "https://arxiv.org/abs/2603.44444",
    ]
    assert second.links == [
        cited("https://github.com/example/ref-repo", Role.SOURCE, "GitHub 仓库")
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # brackets around a reference: the outer ones are text, the inner `[r]` the link
        ("- 见 [[r]] 一文", [("https://ref.example.com/r", "r")]),
        ("- [[[r]]](https://x.example.com/)", [("https://x.example.com/", "[r]")]),
        ("- [标题][r] 与 [R ][]", [("https://ref.example.com/r", "标题")]),  # one URL, one link
        ("- [[r]][r]", [("https://ref.example.com/r", "r")]),  # its text [r] is a reference too
        ("- [r\\]]", []),  # an escaped `]` is no label either
    ],
)
def test_reference_links_inside_brackets(line: str, expected: list[tuple[str, str]]) -> None:
    text = f"# 日报\n\n[r]: https://ref.example.com/r\n\n{line}\n- [占位](https://p.example.com/)\n"
    found = [
        (lk.url, lk.text) for e in parse_digest(text.encode(), "x.md").entries for lk in e.links
    ]
    assert found == [*expected, ("https://p.example.com/", "占位")]


def test_a_fence_closes_only_at_a_fence_as_long() -> None:
    text = (
        "# 日报\n\n"
        "```` py\n- [代码里](https://code.example.com/1)\n```\n"  # too short: not closed here
        "- [仍是代码](https://code.example.com/2)\n`````\n"  # a longer fence closes it
        "- [正文](https://ok.example.com/1)\n"
        "```` x\n"  # nothing below closes it: it skips only its own line
        "- [正文二](https://ok.example.com/2)\n"
        "~~~\n- [波浪线里](https://code.example.com/3)\n```\n~~~~\n"  # closed by ~~~~ only
        "- [正文三](https://ok.example.com/3)\n"
    )
    found = [lk.url for e in parse_digest(text.encode(), "x.md").entries for lk in e.links]
    assert found == [f"https://ok.example.com/{k}" for k in (1, 2, 3)]


def test_gbk_file_is_decoded() -> None:
    digest = parse("gbk.md")
    assert digest.date == "2026-03-06"
    assert digest.entries[0].title == "国产大模型发布长文本版本，上下文扩展到一百万字"
    assert digest.entries[0].labels == ["机器之心"]


def test_utf8_bom_is_ignored() -> None:
    data = (FIXTURES / "hangye.md").read_bytes()
    with_bom = parse_digest(b"\xef\xbb\xbf" + data, "digests/hangye.md")
    assert with_bom.entries == parse("hangye.md").entries
    assert with_bom.title == "🤖 AI行业速递 - 2026年03月02日"


def test_format_comes_from_content_not_file_name() -> None:
    digest = parse("hangye.md", source="digests/meiri-qingbao-2026-01-01.md")
    assert digest.format == "hangye"
    assert digest.date == "2026-03-02"  # the title line wins over the file name


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("digests/2026-03-05-morning.md", "2026-03-05"),
        ("digests/ai-zaobao-20260305.md", "2026-03-05"),
        ("https://example.com/daily/2026/03/05.md", None),
        ("https://example.com/daily/2026-03-05.md?x=1", "2026-03-05"),
        ("digests/2026-13-45.md", None),
        ("digests/zaobao.md", None),
    ],
)
def test_date_from_file_name(source: str, expected: str | None) -> None:
    assert parse("generic_blocks.md", source=source).date == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("empty.md", "empty file"),
        ("whitespace.md", "empty file"),
        ("binary.md", "binary data"),
        ("no_links.md", "no http(s) links"),
    ],
)
def test_unreadable_fixtures_raise(name: str, why: str) -> None:
    with pytest.raises(DigestError) as raised:
        parse(name)
    assert str(raised.value) == f"digests/{name}: not a markdown digest ({why})"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xef\xbb\xbf \n", "empty file"),
        (b"\x80\x80 https://example.com/x", "undecodable"),
        ("# 标题\n- https://example.com/x".encode("utf-16"), "UTF-16"),
        (bytes(range(1, 32)) * 4 + b" https://example.com/x", "binary data"),
        (b"<!DOCTYPE html><html><a href='https://example.com/x'>x</a></html>", "HTML page"),
        (b"# Only images\n![x](https://example.com/x.png)\n[t](https://t.me/x)", "no http(s)"),
    ],
)
def test_bad_bytes_raise_naming_the_source(data: bytes, why: str) -> None:
    with pytest.raises(DigestError, match=r"^https://example\.com/d\.md: not a markdown digest"):
        parse_digest(data, "https://example.com/d.md")
    with pytest.raises(DigestError, match=why.replace("(", r"\(").replace(")", r"\)")):
        parse_digest(data, "x.md")


def test_digest_error_is_a_value_error() -> None:
    assert issubclass(DigestError, ValueError)


_HANGYE_ENTRY = "## {t}\n> **来源：** [源](https://a.example/{t})\n"
_MEIRI_ENTRY = "### 1. {t}\n**来源**: 源 | **时间**: 2026-03-01\n**链接**: https://b.example/{t}\n"
_RIBAO_ENTRY = "### [{t}](https://c.example/{t})\n正文\n"
_PLAIN_ENTRY = "### {t}\n正文 https://d.example/{t}\n"


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (_HANGYE_ENTRY.format(t="x"), "hangye"),
        (_MEIRI_ENTRY.format(t="x"), "meiri"),
        (_RIBAO_ENTRY.format(t="x"), "ribao"),
        (_PLAIN_ENTRY.format(t="x"), "generic"),
        # a format needs more than half of the linked entry headings
        (_RIBAO_ENTRY.format(t="x") + _PLAIN_ENTRY.format(t="y"), "generic"),
        (_RIBAO_ENTRY.format(t="x") * 2 + _PLAIN_ENTRY.format(t="y"), "ribao"),
        ("## 栏目\n" + _MEIRI_ENTRY.format(t="x") + _PLAIN_ENTRY.format(t="y"), "generic"),
        # quick-news headings do not dilute the hangye signal
        (_HANGYE_ENTRY.format(t="x") + "## 其他相关资讯\n- [快讯](https://q.example/)\n", "hangye"),
        # the strongest signal wins
        (_MEIRI_ENTRY.format(t="x") * 2 + _RIBAO_ENTRY.format(t="y"), "meiri"),
    ],
)
def test_format_detection(body: str, fmt: str) -> None:
    assert parse_digest(f"# 标题\n\n{body}".encode(), "x.md").format == fmt


def test_front_matter_is_metadata_not_links() -> None:
    text = (
        '---\ntitle: "测试日报"\ndate: 2026-03-08T08:00:00+08:00\n'
        'coverImage: "https://cdn.example.com/cover.png"\nsummary: "见 https://s.example.com/"\n'
        "---\n- [新闻](https://e.example.com/1)\n"
    )
    digest = parse_digest(text.encode(), "x.md")
    assert (digest.title, digest.date) == ("测试日报", "2026-03-08")
    assert [urls(e) for e in digest.entries] == [["https://e.example.com/1"]]


def test_link_fields_without_spaces() -> None:
    text = "# 情报\n### 1. 标题\n**来源**:量子位\n**链接**:https://www.qbitai.com/2026/03/1.html\n"
    (entry,) = parse_digest(text.encode(), "x.md").entries
    assert entry.labels == ["量子位"]
    assert entry.links == [cited("https://www.qbitai.com/2026/03/1.html", Role.SOURCE, "")]


def test_intro_links_count_when_there_are_no_entries() -> None:
    digest = parse_digest("# 今日推荐\n\n一篇文章 https://example.com/a\n".encode(), "x.md")
    assert [urls(e) for e in digest.entries] == [["https://example.com/a"]]


# --- the real samples -------------------------------------------------------------------------

# Counted by hand from /work/shared/digests (grep of `## `, `### `, `- [`, 链接 lines, URLs):
REAL_COUNTS = {
    # 10 `## ` entries, 来源 links 6+2+2+1+1+1+1+1+1+1 = 17; 10 quick items
    "hangye-sudi-2026-02-05.md": ("hangye", 20, 27, 0),
    # 10 `## ` entries, 来源 links 2+2+2+2+1+1+1+1+1+1 = 14; 13 quick items
    "hangye-sudi-2026-01-22.md": ("hangye", 23, 27, 0),
    # 14 `### N.` entries, 14 链接 lines; 相关资源 2+2+1+2+2+0+3+1+1+3+1+2+0+0 = 20
    "meiri-qingbao-2026-02-03.md": ("meiri", 14, 14, 20),
    # 16 `### N.` entries, 16 链接 lines; 相关资源 3+2+0+3+2+2+3+0+3+2+2+1+2+0+1+2 = 28
    "meiri-qingbao-2026-02-04.md": ("meiri", 16, 16, 28),
    # 24 `### [t](u)` entries (5+4+4+3+3+3+2 in 7 sections) + 60 `## 更多动态` items
    "ribao-2026-02-06.md": ("ribao", 84, 84, 0),
}


@pytest.mark.parametrize("name", sorted(REAL_COUNTS))
def test_real_samples(name: str) -> None:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"real digest samples not available at {SHARED}")
    fmt, entries, sources, related = REAL_COUNTS[name]
    digest = parse_digest(path.read_bytes(), str(path))
    assert digest.format == fmt
    assert len(digest.entries) == entries
    assert roles(digest.entries) == (sources, related)
    assert digest.date == name.removesuffix(".md")[-10:]


def test_real_ribao_details() -> None:
    path = SHARED / "ribao-2026-02-06.md"
    if not path.is_file():
        pytest.skip(f"real digest samples not available at {SHARED}")
    digest = parse_digest(path.read_bytes(), str(path))
    assert digest.title == "AI架构突破与软件股震荡"
    assert digest.entries[0].section == "AI架构与记忆技术突破"
    assert digest.entries[-1].section == "更多动态"
    placeholder = [e for e in digest.entries if urls(e) == ["https://ai.hubtoday.app/"]]
    assert len(placeholder) == 13
    assert not any("t.me" in u for e in digest.entries for u in urls(e))


# --- shipped examples -------------------------------------------------------------------------


def test_examples_parse_in_their_format() -> None:
    files = sorted(EXAMPLES.glob("*.md"))
    assert {p.name.split("-")[0] for p in files} == {"hangye", "meiri", "ribao"}
    for path in files:
        digest = parse_digest(path.read_bytes(), str(path))
        assert digest.format == path.name.split("-")[0], path.name
        assert digest.entries, path.name
        assert digest.date == "2026-03-10"
        assert all(e.links for e in digest.entries), path.name


# --- digest ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("digests/hangye-sudi-2026-02-05.md", "hangye-sudi-2026-02-05"),
        ("/abs/path/Meiri_QingBao.MD", "meiri_qingbao"),
        ("C:\\digests\\ribao-2026-02-06.md", "ribao-2026-02-06"),
        ("digests/AI 日报 2026-02-06.md", "ai-日报-2026-02-06"),
        ("日报/第１２期.md", "第12期"),  # NFKC folds full-width digits
        ("digests/a..b.md", "a.b"),
        ("digests/-.-x.md", "x"),
        (".hidden.md", "hidden"),
        ("x\x00y.md", "x-y"),
        ("https://example.com/digests/2026-02-05.md", "example.com-digests-2026-02-05"),
        ("https://Example.COM", "example.com"),
        ("https://example.com/daily?date=2026-02-05", "example.com-daily-date-2026-02-05"),
        ("https://ex.com/a/../../b.md", "ex.com-a-.-.-b"),
        ("../../etc/passwd", "passwd"),
        ("a" * 200 + ".md", "a" * 80),
    ],
)
def test_digest_id(source: str, expected: str) -> None:
    assert digest_id(source) == expected


@pytest.mark.parametrize(
    "source", ["a/b/..", "..", "", "../", "/", "\\..\\..", "....", "---.md", "http://[::1"]
)
def test_digest_id_is_never_empty_or_traversing(source: str) -> None:
    got = digest_id(source)
    assert got
    assert got == digest_id(source)
    assert not {"/", "\\", "\x00"} & set(got)
    assert ".." not in got
    assert not got.startswith((".", "-"))
    assert len(got) <= 80


def test_digest_id_falls_back_to_a_hash() -> None:
    assert digest_id("a/b/..") == hashlib.sha256(b"a/b/..").hexdigest()[:16]


# --- robustness -------------------------------------------------------------------------------

_PIECES = [
    "# ", "## ", "### ", "#### ", "- ", "* ", "1. ", "> ", "**", "`", "```\n", "---\n", "\n",
    "\n\n", "[", "]", "(", ")", "![", "<", ">", "<a href='https://a.example/x'>", "</a>",
    "<div class='telegram'>", "https://b.example/p", "http://", "（", "）", "，", "。",
    "**来源**: ", "> **来源：** ", "**链接**: ", "**分类：** ", "[^1]: ", "[r]: https://c.example",
    "文字", "text ", "\\", "\t", "\x00", "\ufeff", "|",
]  # fmt: skip


def test_never_crashes_on_noise() -> None:
    rng = random.Random(20260205)
    for _ in range(400):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))
        try:
            digest = parse_digest(text.encode("utf-8"), "noise.md")
        except DigestError:
            continue
        assert all(e.links for e in digest.entries if digest.format == "generic")


def test_pathological_lines_do_not_hide_the_digest_links() -> None:
    """Unclosed brackets, tags and backticks by the ten thousand: the real link still counts.

    How fast such lines parse is measured by bench/digestparse.py, not asserted here.
    """
    lines = [
        "[" * 20000,
        "](" * 10000,
        "<" * 20000,
        "`" * 20000,
        "https://x.example/" + "(" * 20000,
    ]
    data = ("# t\n" + "\n".join(lines) + "\n- [ok](https://example.com/ok)\n").encode()
    digest = parse_digest(data, "slow.md")
    assert "https://example.com/ok" in {u for e in digest.entries for u in urls(e)}


def test_links_of_other_schemes_are_kept_so_the_crawl_can_record_them() -> None:
    """file: and ftp: links are citations (recorded as unusable later), mail and scripts not."""
    text = (
        "# 日报\n\n## 更多动态\n\n"
        "- [本地文件](file:///etc/passwd)，摘要\n"
        "- [旧服务器](ftp://files.example.com/paper.pdf)，摘要\n"
        "- [写信](mailto:editor@example.com) 与 [脚本](javascript:alert(1))\n"
        "- [正常](https://example.com/a)，摘要\n"
    )
    digest = parse_digest(text.encode(), "schemes.md")
    urls = [link.url for entry in digest.entries for link in entry.links]
    assert urls == [
        "file:///etc/passwd",
        "ftp://files.example.com/paper.pdf",
        "https://example.com/a",
    ]
    errors = [link.error for entry in digest.entries for link in entry.links]
    assert errors == [
        "invalid URL: unsupported scheme 'file'",
        "invalid URL: unsupported scheme 'ftp'",
        None,
    ]


# --- big digests ------------------------------------------------------------------------------
# Shapes that took the square of their size before (issue 13, "runaway pages"); bench/digestparse.py
# times them. Here they must parse whole: every link found, nothing merged or dropped.

BIG = 10_000


def test_one_paragraph_of_many_urls_is_one_entry_with_every_link() -> None:
    text = "# 日报\n\n" + "\n".join(f"见 https://p{k}.example.com/{k}" for k in range(BIG))
    (entry,) = parse_digest(text.encode(), "big.md").entries
    assert len(entry.links) == BIG
    assert roles([entry]) == (1, BIG - 1)
    assert entry.links[-1].url == f"https://p{BIG - 1}.example.com/{BIG - 1}"


def test_one_line_of_many_links_repeating_urls_keeps_each_url_once() -> None:
    links = " ".join(f"[a{k}](https://x.example.com/{k % (BIG // 2)})" for k in range(BIG))
    (entry,) = parse_digest(f"# 日报\n\n{links}\n".encode(), "big.md").entries
    assert [link.url for link in entry.links] == [
        f"https://x.example.com/{k}" for k in range(BIG // 2)
    ]
    assert [link.text for link in entry.links[:2]] == ["a0", "a1"]  # the first text stays


def test_a_list_of_many_items_is_one_entry_per_item() -> None:
    items = "\n".join(f"- [新闻 {k}](https://q.example.com/{k})，摘要" for k in range(BIG))
    digest = parse_digest(f"# 日报\n\n## 更多动态\n\n{items}\n".encode(), "big.md")
    assert len(digest.entries) == BIG
    assert digest.entries[-1].title == f"新闻 {BIG - 1}"
    assert roles(digest.entries) == (BIG, 0)


def test_a_labelled_item_of_many_bare_urls_gives_each_its_label() -> None:
    urls_ = " ".join(f"https://i.example.com/{k}" for k in range(BIG))
    text = f"# 日报\n\n## 条目\n> **来源：** [源](https://s.example.com/)\n\n- **资源**: {urls_}\n"
    (entry,) = parse_digest(text.encode(), "big.md").entries
    assert roles([entry]) == (1, BIG)
    assert {link.text for link in entry.links[1:]} == {"资源"}


@pytest.mark.parametrize(
    ("refs", "depth"),
    [("", BIG - 1), ("[x]: https://ref.example.com/\n", BIG - 2)],  # `[x]` is a link to x's text
)
def test_deeply_nested_brackets_are_one_link(refs: str, depth: int) -> None:
    text = f"# 日报\n\n{refs}" + "[" * BIG + "x" + "]" * BIG + "(https://n.example.com/)\n"
    (entry,) = parse_digest(text.encode(), "big.md").entries
    inner = "[" * depth + "x" + "]" * depth  # brackets that are no link stay text
    assert [(link.url, link.text) for link in entry.links] == [("https://n.example.com/", inner)]


def test_many_unclosed_tags_and_fences_leave_the_links_after_them() -> None:
    anchors = "".join(f"<a href=https://a.example.com/{k}>" for k in range(BIG))
    text = (
        "# 日报\n\n"
        + "```` x\n" * (BIG // 2)  # fences that nothing below closes: each skips its own line
        + "```\n" * (BIG // 2)
        + f"- {anchors}\n"
        + "- 注 "
        + "<!--" * BIG
        + " https://c.example.com/\n"
        + "> " * BIG
        + "[引用](https://g.example.com/)\n"
    )
    entries = parse_digest(text.encode(), "big.md").entries
    assert [len(e.links) for e in entries] == [BIG, 1, 1]
    assert entries[1].links[0].url == "https://c.example.com/"
    assert entries[2].links[0].url == "https://g.example.com/"
