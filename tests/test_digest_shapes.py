"""crawler.digests on newsletters of shapes no format module knows: the repeating unit, tables
of contents, an entry's own source against its related resources, and the digest's own links.

Fixtures are written here in the shapes of real newsletters (tests/fixtures/digests/MANIFEST.md
names each shape's origin); every count below is counted by hand from the fixture.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawler.digests import parse_digest
from crawler.digests.scan import decode, scan
from crawler.items import Digest, Entry, Link, Role
from crawler.urls import InvalidURL, canonicalize, url_id

FIXTURES = Path(__file__).parent / "fixtures" / "digests"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "digests"


def parse(name: str) -> Digest:
    return parse_digest((FIXTURES / name).read_bytes(), f"digests/{name}")


def read(text: str) -> Digest:
    return parse_digest(text.encode(), "x.md")


def roles(digest: Digest) -> tuple[int, int, int]:
    """(source, related, digest) links: the entries' and the digest's own."""
    count = Counter(link.role for entry in digest.entries for link in entry.links)
    assert set(count) <= {Role.SOURCE, Role.RELATED}
    assert {link.role for link in digest.links} <= {Role.DIGEST}
    return count[Role.SOURCE], count[Role.RELATED], len(digest.links)


def urls(entry: Entry, role: Role | None = None) -> list[str]:
    return [link.url for link in entry.links if role is None or link.role == role]


def finished(link: Link) -> bool:
    """The link is as parse_digest must give it: canonical URL and id, or the error."""
    try:
        canonical = canonicalize(link.url)
    except InvalidURL as exc:
        return link.error == f"invalid URL: {exc}" and link.link_id is None
    return link.canonical_url == canonical and link.link_id == url_id(canonical)


# (file, format, rule, entries, source, related, digest), counted by hand (see MANIFEST.md)
SHAPES = [
    # 4 `## [t](u)` entries (#4 cites nothing); 相关链接: 2 + 0 + 1 + 2 beyond each entry's own
    # URL; the issue page, 2 video versions, the generator's credit; 概览 (5 items) not counted
    ("toc_overview.md", "ribao", "headings", 4, 4, 5, 4),
    # 2 picks + 4 entries, each with its 阅读原文; arXiv, GitHub, 某媒体 related
    ("h4_categories.md", "generic", "headings", 6, 6, 3, 0),
    # `### 1.`, `### 2.`, `#### 3.` to `#### 5.`; the model-weights item of #3 is related
    ("numbered_levels.md", "generic", "numbered-headings", 5, 5, 1, 0),
    # 3 entries by their 原文链接; the API docs related; #3 cites its source twice; the credit
    ("quote_meta.md", "generic", "headings", 3, 3, 1, 1),
    # 3 `####` entries by 阅读原文; the replay video of #2 related
    ("topic_h4.md", "generic", "headings", 3, 3, 1, 0),
    # 3 + 2 + 2 items (one item of 02.05 cites nothing); the paper in an item's text related
    ("monthly_days.md", "generic", "items", 7, 7, 1, 0),
    # 2 + 1 items by their `<a>🔗 阅读原文</a>`; the paper in the third's text related
    ("translated_items.md", "generic", "items", 3, 3, 1, 0),
    # 4 entries by 阅读原文; xhslink, cubox, feishu related; page, 2 versions, credit, 2 subscribe
    ("digest_links.md", "generic", "headings", 4, 4, 3, 6),
    # 2 + 3 + 1 `[消息来源]` items under topic headings
    ("topic_items.md", "generic", "items", 6, 6, 0, 0),
    # prose (1 + 1), 2 list items (1, 1 + 1), 2 table rows, the closing paragraph
    ("no_shape.md", "generic", "blocks", 6, 6, 2, 0),
    # 封面图 (its via link) + 2 + 2 + 1 numbered paragraphs; a description's link related;
    # the 2 past issues under 往年回顾 are the digest's own
    ("weekly_paragraphs.md", "generic", "items", 6, 6, 1, 2),
]


@pytest.mark.parametrize(
    ("name", "fmt", "rule", "entries", "source", "related", "own"), SHAPES, ids=lambda v: str(v)
)
def test_shape_entries_and_links_by_role(
    name: str, fmt: str, rule: str, entries: int, source: int, related: int, own: int
) -> None:
    digest = parse(name)
    assert digest.format == fmt
    assert digest.structure.startswith(f"{rule}: "), digest.structure
    assert len(digest.entries) == entries
    assert roles(digest) == (source, related, own)
    assert [e.position for e in digest.entries] == list(range(1, entries + 1))
    for entry in digest.entries:
        assert entry.title
        assert len({link.url for link in entry.links}) == len(entry.links)
        assert sum(link.role == Role.SOURCE for link in entry.links) >= 1
    assert all(finished(link) for e in digest.entries for link in e.links)
    assert all(finished(link) for link in digest.links)


def _cited(data: bytes, source: str) -> set[str]:
    """Every URL the scanner finds in a digest's lines (code, comments, promotion aside)."""
    return {raw.url for line in scan(decode(data, source)).lines for raw in line.links}


def _every_fixture() -> list[Path]:
    names = {"binary.md", "empty.md", "whitespace.md", "no_links.md", "MANIFEST.md"}
    found = [p for p in sorted(FIXTURES.glob("*.md")) if p.name not in names]
    return found + (sorted(SHARED.glob("*.md")) if SHARED.is_dir() else [])


@pytest.mark.parametrize("path", _every_fixture(), ids=lambda p: p.name)
def test_nothing_cited_is_dropped(path: Path) -> None:
    """Every link of a digest is an entry's or the digest's own; a TOC's only repeats them."""
    data = path.read_bytes()
    digest = parse_digest(data, str(path))
    kept = {link.url for e in digest.entries for link in e.links} | {
        link.url for link in digest.links
    }
    assert _cited(data, str(path)) == kept


# --- a table of contents ---------------------------------------------------------------------


def test_a_table_of_contents_is_folded_into_the_entries_it_lists() -> None:
    digest = parse("toc_overview.md")
    first, second, third, fifth = digest.entries
    assert [e.title for e in digest.entries] == [
        "示例实验室发布 40B 开源推理模型",  # `#1` dropped
        "某云厂商下调大模型 API 价格",
        "开源智能体框架发布 1.0 版本",
        "机器人公司完成新一轮融资",
    ]
    assert urls(first, Role.SOURCE) == ["https://example-lab.ai/blog/reasoner-40b"]
    assert urls(first, Role.RELATED) == [
        "https://huggingface.co/example-lab/reasoner-40b",
        "https://arxiv.org/abs/2603.01111",
    ]
    assert [(lk.url, lk.text) for lk in second.links] == [  # the heading's, and its repeat
        ("https://x.com/example_cloud/status/1896000000000000001", "某云厂商下调大模型 API 价格")
    ]
    assert urls(third, Role.RELATED) == ["https://mp.weixin.qq.com/s/AgentKit1000000000000000"]
    assert len(urls(fifth, Role.RELATED)) == 2
    assert "a table of contents under 概览 (5 items) is not counted" in digest.structure


def test_the_digests_own_page_versions_and_credit_are_its_own_links() -> None:
    digest = parse("toc_overview.md")
    assert [(link.url, link.text) for link in digest.links] == [
        ("https://github.com/example-news/ai-daily/issues/13", "2026-03-02"),
        ("https://www.bilibili.com/video/BV1xx411c7mD", "哔哩哔哩"),
        ("https://www.youtube.com/watch?v=AbCdEf12345", "YouTube"),
        ("https://github.com/example-news/digest-bot", "早报生成器"),
    ]
    # two top headings: the one that is more than a date names the digest
    assert (digest.title, digest.date) == ("AI 早报 2026-03-02", "2026-03-02")
    entry_urls = {u for e in digest.entries for u in urls(e)}
    assert not entry_urls & {link.url for link in digest.links}


_TOC = (
    "# 日报 2026-03-10\n\n## 概览\n"
    "- 甲公司发布新模型 [↗](https://a.example.com/1) `#1`\n"
    "- 乙公司开源工具 [↗](https://b.example.com/2) `#2`\n"
    "{third}\n"
    "## [甲公司发布新模型](https://a.example.com/1) `#1`\n正文。\n\n"
    "## [乙公司开源工具](https://b.example.com/2) `#2`\n正文。\n"
)


def test_a_toc_item_that_no_entry_repeats_becomes_an_entry_where_the_toc_stood() -> None:
    digest = read(_TOC.format(third="- 丙公司完成融资 [↗](https://c.example.com/3) `#3`"))
    assert [(e.title, e.section, urls(e)) for e in digest.entries] == [
        ("丙公司完成融资", "概览", ["https://c.example.com/3"]),
        ("甲公司发布新模型", None, ["https://a.example.com/1"]),
        ("乙公司开源工具", None, ["https://b.example.com/2"]),
    ]
    assert roles(digest) == (3, 0, 0)


def test_a_toc_link_its_entry_does_not_cite_is_given_to_that_entry_as_related() -> None:
    digest = read(_TOC.format(third="- 乙公司开源工具 [↗](https://b.example.com/2-mirror) `#2`"))
    second = digest.entries[1]
    assert urls(second, Role.SOURCE) == ["https://b.example.com/2"]
    assert urls(second, Role.RELATED) == ["https://b.example.com/2-mirror"]
    assert roles(digest) == (2, 1, 0)


def test_an_overview_without_links_is_just_text() -> None:
    text = _TOC.format(third="").replace(" [↗](https://a.example.com/1)", "")
    digest = read(text.replace(" [↗](https://b.example.com/2)", ""))
    assert roles(digest) == (2, 0, 0)
    assert "table of contents" not in digest.structure


def test_editors_picks_under_other_titles_are_entries_not_a_table_of_contents() -> None:
    digest = read(
        "# 周刊\n\n## 编辑精选\n"
        "- [本周最值得读：甲的新模型](https://a.example.com/1)\n"
        "- [别错过：乙的开源工具](https://b.example.com/2)\n\n"
        "## 模型\n\n### [甲公司发布新模型](https://a.example.com/1)\n正文。\n\n"
        "### [乙公司开源工具](https://b.example.com/2)\n正文。\n"
    )
    assert [e.title for e in digest.entries] == [
        "本周最值得读：甲的新模型",
        "别错过：乙的开源工具",
        "甲公司发布新模型",
        "乙公司开源工具",
    ]
    first, second, third, fourth = digest.entries
    assert first.links[0].link_id == third.links[0].link_id  # the same link, twice cited
    assert second.links[0].link_id == fourth.links[0].link_id
    assert "table of contents" not in digest.structure


def test_a_quick_list_citing_earlier_entries_again_is_not_a_table_of_contents() -> None:
    digest = read(
        "# 日报\n\n## 模型\n\n### [甲公司发布新模型](https://a.example.com/1)\n正文。\n\n"
        "### [乙公司开源工具](https://b.example.com/2)\n正文。\n\n"
        "## 更多动态\n\n- [甲公司发布新模型](https://a.example.com/1)，回顾\n"
        "- [乙公司开源工具](https://b.example.com/2)，回顾\n"
    )
    assert len(digest.entries) == 4
    assert roles(digest) == (4, 0, 0)


# --- editor's picks, categories and numbered entries -----------------------------------------


def test_h4_entries_under_categories_and_picks_that_recite_them() -> None:
    digest = parse("h4_categories.md")
    assert [e.section for e in digest.entries] == ["编辑精选"] * 2 + ["大模型"] * 2 + [
        "论文",
        "智能体",
    ]
    picks, rest = digest.entries[:2], digest.entries[2:]
    assert picks[0].links[0].link_id == rest[0].links[1].link_id  # same URL, another title
    assert picks[1].links[0].link_id == rest[3].links[1].link_id
    assert urls(rest[0]) == [
        "https://arxiv.org/abs/2603.02222",
        "https://www.example-news.cn/p/1001",
    ]
    assert urls(rest[0], Role.SOURCE) == ["https://www.example-news.cn/p/1001"]  # 阅读原文
    assert digest.title == "一周 AI 观察 · 第 9 期"
    assert not digest.links  # the intro line cites nothing


def test_numbered_headings_at_two_levels_are_the_entries() -> None:
    digest = parse("numbered_levels.md")
    assert [(e.title, e.section) for e in digest.entries] == [
        ("某实验室开源 40B 推理模型", "本周精选"),
        ("视频生成模型开放 API", "本周精选"),
        ("小参数多模态模型发布", "模型发布"),
        ("40B 推理模型的技术细节", "模型发布"),
        ("代码助手支持离线模式", "开发工具"),
    ]
    assert urls(digest.entries[2], Role.RELATED) == ["https://huggingface.co/example/tiny-vlm"]
    assert digest.entries[0].links[0].link_id == digest.entries[3].links[0].link_id
    assert digest.structure.startswith("numbered-headings: entries are 5 numbered headings")


def test_numbered_headings_at_one_level_among_linked_ones_are_plain_headings() -> None:
    text = "# 日报\n\n" + "".join(
        f"### {t}\n正文 https://n.example.com/{k}\n\n"
        for k, t in enumerate(["1. 甲", "2. 乙", "3. 丙", "丁"])
    )
    digest = read(text)
    assert digest.structure.startswith("headings: entries are 4 headings of level 3")
    assert [e.title for e in digest.entries] == ["1. 甲", "2. 乙", "3. 丙", "丁"]


# --- an entry's own source against its related resources ------------------------------------


def test_the_original_link_of_a_quote_meta_line_is_the_source() -> None:
    digest = parse("quote_meta.md")
    first, _, third = digest.entries
    assert len(first.links) == 2
    assert (first.links[0].url, first.links[0].role, first.links[0].text) == (
        "https://www.example-tech.com/2026/03/05/voice",
        Role.SOURCE,
        "原文链接",
    )
    assert urls(first, Role.RELATED) == ["https://platform.example.com/docs/voice"]
    assert urls(third) == ["https://finance.example.cn/a/20260305/chips"]  # cited twice, once
    assert [e.section for e in digest.entries] == ["🔥 重点关注"] * 2 + ["📌 其他值得一读"]
    assert [link.url for link in digest.links] == ["https://github.com/example-news/ranker"]


def test_topic_entries_read_the_original_link_of_their_list() -> None:
    digest = parse("topic_h4.md")
    assert [e.title for e in digest.entries] == [
        "[大模型] 某公司发布千亿参数开源模型",
        "[芯片] 国产推理芯片量产",
        "[应用] 办公软件接入智能体",
    ]
    assert urls(digest.entries[1], Role.SOURCE) == ["https://chip.example.com/news/8812"]
    assert urls(digest.entries[1], Role.RELATED) == ["https://www.bilibili.com/video/BV1ab411c7xY"]
    wechat = digest.entries[2].links[0]
    assert wechat.canonical_url == (
        "https://mp.weixin.qq.com/s?__biz=MzI0NTY3ODkwMQ==&mid=2247480001&idx=1"
        "&sn=0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    )


def test_day_sections_of_a_monthly_file_hold_one_entry_per_item() -> None:
    digest = parse("monthly_days.md")
    assert [e.section for e in digest.entries] == ["2025.02.06"] * 3 + ["2025.02.05"] * 2 + [
        "2025.02.04"
    ] * 2
    assert digest.entries[0].title.startswith("某实验室发布推理模型，")
    # the URL line under the text is the source, the paper in the text related
    assert urls(digest.entries[4], Role.SOURCE) == ["https://www.example-tech.com/news/feb05-b"]
    assert urls(digest.entries[4], Role.RELATED) == ["https://arxiv.org/abs/2502.01234"]
    # a URL written unindented after a blank line still belongs to the item above it
    assert digest.entries[5].title.startswith("视频生成模型开放公测")
    assert urls(digest.entries[5]) == ["https://www.example-video.ai/news/open-beta"]
    assert "3 date sections hold one entry per item" in digest.structure


def test_translated_items_with_an_html_original_link() -> None:
    digest = parse("translated_items.md")
    assert [e.title for e in digest.entries] == [
        "谷歌发布新一代多模态模型（Google unveils its next multimodal model）",
        "欧盟就通用模型规则征求意见（EU consults on general-purpose model rules）",
        "新方法让小模型学会工具调用（A new method teaches small models to call tools）",
    ]
    assert [e.section for e in digest.entries] == ["今日要闻", "今日要闻", "研究前沿"]
    assert urls(digest.entries[1]) == [  # &amp; in the href is an &
        "https://digital-strategy.example.eu/en/news/gpai-consultation?utm_source=brief&lang=en"
    ]
    assert urls(digest.entries[2], Role.SOURCE) == ["https://research.example.org/blog/tool-calls"]
    assert urls(digest.entries[2], Role.RELATED) == ["https://arxiv.org/abs/2603.04444"]


def test_topic_lists_of_items_each_with_its_news_source() -> None:
    digest = parse("topic_items.md")
    assert [e.section for e in digest.entries] == ["1. 游戏开发中的 AI 工具"] * 2 + [
        "1. 代码智能体评测与工具"
    ] * 3 + ["2. 产业合作"]
    assert digest.entries[0].title == (  # the `[消息来源](url)` is no part of the title
        "引擎 AI 工具链更新：新版本支持更复杂的行为树训练，独立开发者也能做出自适应的敌人"
    )
    assert all(e.links[0].text == "消息来源" for e in digest.entries)
    assert (digest.title, digest.date) == ("03月09日 AI 快讯", "2026-03-09")


def test_a_digest_in_no_shape_gives_one_entry_per_paragraph_item_or_row() -> None:
    digest = parse("no_shape.md")
    assert digest.structure == (
        "blocks: no entry headings: one entry per linked paragraph or list item"
    )
    assert [urls(e) for e in digest.entries] == [
        ["https://openai.example.com/blog/new", "https://anthropic.example.com/news/update"],
        ["https://tools.example.com/a"],
        ["https://tools.example.com/b", "https://docs.example.com/b"],
        ["https://github.com/example/vec"],  # a table row is an entry of its own
        ["https://github.com/example/bench"],
        ["https://blog.example.org/long-read"],
    ]


# --- hard links ------------------------------------------------------------------------------

WECHAT_SHARE = (
    "https://mp.weixin.qq.com/s?chksm=ec1b2c3d4e5f6a7b8c9d&mid=2650990001"
    "&__biz=MzA3MzI4MjgzMw==&idx=1&sn=9f8e7d6c5b4a39281706f5e4d3c2b1a0&mpshare=1&scene=1"
    "&srcid=0308AbCdEfGhIjKl&sharer_shareinfo=5a4b3c2d1e0f5a4b3c2d1e0f"
    "&sharer_shareinfo_first=5a4b3c2d1e0f5a4b3c2d1e0f#rd"
)
WECHAT_IMAGE = (
    "https://mp.weixin.qq.com/s?t=pages/image_detail&scene=1&__biz=MzkxNTIzNDU2Nw=="
    "&mid=2247490002&idx=1&sn=1a2b3c4d5e6f708192a3b4c5d6e7f801#rd"
)


def test_long_wechat_share_links_reach_canonicalize_as_written() -> None:
    first, second, *_ = parse("digest_links.md").entries
    assert first.links[0].url == WECHAT_SHARE
    assert first.links[0].canonical_url == (
        "https://mp.weixin.qq.com/s?__biz=MzA3MzI4MjgzMw==&mid=2650990001&idx=1"
        "&sn=9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    )
    assert second.links[0].url == WECHAT_IMAGE
    assert second.links[0].canonical_url == canonicalize(WECHAT_IMAGE)
    assert first.links[0].note is None


def test_login_only_and_tokened_links_are_kept_with_a_note() -> None:
    digest = parse("digest_links.md")
    third, fourth = digest.entries[2:]
    xhs, short = third.links
    assert xhs.url.startswith("https://www.xiaohongshu.com/discovery/item/67c9a1b2000000002903abcd")
    token = xhs.url.split("xsec_token=")[1].split("&")[0]
    assert len(token) == 303  # "AB" + 300 characters + "=": kept whole
    assert xhs.canonical_url is not None and token in xhs.canonical_url
    assert short.url == "http://xhslink.com/a/AbCdEfGh12345"
    assert {xhs.note, short.note} == {
        "xiaohongshu note: its xsec_token belongs to the sharer and expires; "
        "the page may ask for a login"
    }
    notes = {link.url: link.note for link in fourth.links}
    assert notes == {
        "https://www.example-blog.cn/posts/knowledge-cards": None,
        "https://cubox.pro/my/card?id=ff8080818a1b2c3d4e5f": (
            "cubox card: private to its owner's account (login-only)"
        ),
        "https://example-team.feishu.cn/wiki/WikcnAbCdEfGhIjKlMnOpQr": (
            "feishu document: readable only by those it is shared with (login-only)"
        ),
    }
    assert all(link.link_id for link in fourth.links)  # recorded and fetched, never dropped


def test_the_digests_own_links_under_its_title_and_after_its_last_entry() -> None:
    digest = parse("digest_links.md")
    assert [(link.url, link.text) for link in digest.links] == [
        ("https://daily.example.com/issues/2026-03-08", "AI 日报 2026-03-08"),
        ("https://www.bilibili.com/video/BV1cd411c7zZ", "哔哩哔哩"),
        ("https://www.xiaoyuzhoufm.com/episode/65f0000000000000000000aa", "小宇宙"),
        ("https://github.com/example-news/digest-bot", "DigestBot"),
        ("https://daily.example.com/rss.xml", "RSS"),
        ("https://daily.example.com/subscribe", "邮件"),
    ]
    assert digest.structure.endswith("6 links outside every entry are the digest's")


def test_numbered_paragraphs_with_descriptions_under_parts_of_a_weekly() -> None:
    digest = parse("weekly_paragraphs.md")
    assert [(e.title, e.section) for e in digest.entries] == [
        ("封面图", None),
        ("某公司发布手机端大模型芯片", "科技动态"),
        ("开源社区推出离线翻译应用", "科技动态"),
        ("如何给小模型做微调", "文章"),
        ("端侧推理的内存优化", "文章"),
        ("tiny-serve", "工具"),  # a part of one item, where the other parts hold lists
    ]
    # a link in the description under an item belongs to that item
    assert urls(digest.entries[2], Role.RELATED) == [
        "https://blog.example.dev/offline-translate-notes"
    ]
    assert [link.url for link in digest.links] == [  # 往年回顾: about the digest itself
        "https://weekly.example.com/220",
        "https://weekly.example.com/120",
    ]


def test_many_tables_of_contents_are_named_three_at_most() -> None:
    """A hostile digest of a thousand overviews parses whole, with a note of bounded size."""
    n = 1000
    overviews = "".join(
        f"## 目录 {k}\n- 条目 {k} [↗](https://t.example.com/{k})\n"
        f"- 条目 {k + 1} [↗](https://t.example.com/{k + 1})\n\n"
        for k in range(n)
    )
    body = "".join(f"## [条目 {k}](https://t.example.com/{k})\n正文\n\n" for k in range(n + 1))
    digest = read("# 日报\n\n" + overviews + body)
    assert len(digest.entries) == n + 1
    assert roles(digest) == (n + 1, 0, 0)
    assert digest.structure.count("a table of contents under") == 3
    assert digest.structure.endswith(f"{n - 3} more tables of contents")
