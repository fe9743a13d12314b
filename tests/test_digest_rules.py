"""crawler.digests: each rule of the generic reader shown firing, and shown holding back.

One heading or a list of entries; lines about the digest itself; the masthead; a text and the
link line under it; resource lists; markdown escapes in URLs; notes on login-only pages.
"""

from __future__ import annotations

import pytest

from crawler.digests import parse_digest, words
from crawler.digests.inline import extract_links, url_note
from crawler.digests.words import is_meta, is_source_anchor
from crawler.items import Digest, Entry, Role


def read(text: str) -> Digest:
    return parse_digest(text.encode(), "x.md")


def urls(entry: Entry, role: Role | None = None) -> list[str]:
    return [link.url for link in entry.links if role is None or link.role == role]


def shape(digest: Digest) -> list[tuple[str, list[str]]]:
    """(title, URLs) of every entry."""
    return [(e.title, urls(e)) for e in digest.entries]


def own(digest: Digest) -> list[str]:
    return [link.url for link in digest.links]


# --- one entry, or a list of entries ---------------------------------------------------------

_NEWS = "- {t}：这是一条新闻的摘要，说明发生了什么事情。 [消息来源](https://n.example.com/{k})\n"


def test_a_heading_over_news_items_with_their_own_links_holds_one_entry_per_item() -> None:
    body = "".join(_NEWS.format(t=t, k=k) for k, t in enumerate(["甲发布", "乙开源", "丙融资"]))
    more = "".join(_NEWS.format(t=t, k=k) for k, t in enumerate(["丁上线", "戊合作", "己裁员"], 3))
    digest = read(f"# 日报\n\n## 1. 今日要闻\n\n{body}\n## 2. 其他\n\n{more}")
    assert len(digest.entries) == 6
    assert [e.section for e in digest.entries] == ["1. 今日要闻"] * 3 + ["2. 其他"] * 3
    assert digest.entries[0].title.startswith("甲发布：")


def test_a_heading_with_a_summary_and_a_resource_list_is_one_entry() -> None:
    digest = read(
        "# 日报\n\n## 甲公司开源多模态模型\n\n"
        "甲公司今天开源了一个多模态模型，在多项基准上取得领先，社区反响热烈。\n\n"
        "- [GitHub](https://github.com/example/mm)\n- 论文：https://arxiv.org/abs/2603.00001\n\n"
        "## 乙公司发布芯片\n\n乙公司发布新芯片。 https://b.example.com/chip\n"
    )
    first, second = digest.entries
    assert first.title == "甲公司开源多模态模型"
    assert urls(first) == ["https://github.com/example/mm", "https://arxiv.org/abs/2603.00001"]
    assert urls(first, Role.SOURCE) == ["https://github.com/example/mm"]  # the first, named none
    assert second.title == "乙公司发布芯片"


def test_a_long_summary_keeps_news_like_items_in_one_entry() -> None:
    summary = "这篇长文分析了推理成本的构成，" * 6
    items = "".join(_NEWS.format(t=t, k=k) for k, t in enumerate(["延伸一", "延伸二"]))
    digest = read(
        f"# 日报\n\n## 推理成本拆解\n\n{summary}\n\n{items}\n## 另一条\n\n见 https://x.example.com/\n"
    )
    assert digest.entries[0].title == "推理成本拆解"
    assert len(digest.entries[0].links) == 2


def test_a_quote_and_a_paragraph_each_with_a_link_are_one_entry() -> None:
    digest = read(
        "# 日报\n\n## 甲发布语音模型\n\n> 📰 **甲媒体** | 🔗 [原文链接](https://a.example.com/1)\n\n"
        "摘要：延迟降到两百毫秒以内，开发者文档见 [文档](https://docs.example.com/v)。\n\n"
        "## 乙发布芯片\n\n> 📰 **乙媒体** | 🔗 [原文链接](https://b.example.com/2)\n"
    )
    assert shape(digest) == [
        ("甲发布语音模型", ["https://a.example.com/1", "https://docs.example.com/v"]),
        ("乙发布芯片", ["https://b.example.com/2"]),
    ]
    assert urls(digest.entries[0], Role.SOURCE) == ["https://a.example.com/1"]


def test_one_original_link_among_news_like_items_makes_the_heading_one_entry() -> None:
    items = "".join(
        f"- 第{k}点：这一点说明了新产品的一个重要特性，非常详细。 https://f.example.com/{k}\n"
        for k in range(2)
    )
    digest = read(
        f"# 日报\n\n## 新产品发布\n\n{items}- 详情：[阅读原文](https://src.example.com/p)\n\n"
        "## 另一条\n\n见 https://x.example.com/\n"
    )
    first = digest.entries[0]
    assert first.title == "新产品发布"
    assert urls(first, Role.SOURCE) == ["https://src.example.com/p"]
    assert len(urls(first, Role.RELATED)) == 2


def test_half_the_items_without_links_keep_the_heading_one_entry() -> None:
    items = "".join(
        f"- 第{k}项说明，没有链接的一条比较长的文字内容。\n" for k in range(2)
    ) + "".join(_NEWS.format(t=t, k=k) for k, t in enumerate(["甲", "乙"]))
    digest = read(f"# 日报\n\n## 条目\n\n{items}\n## 另一条\n\n见 https://x.example.com/\n")
    assert digest.entries[0].title == "条目"
    assert len(digest.entries[0].links) == 2


@pytest.mark.parametrize(("lists", "single"), [(True, "list"), (False, "heading")])
def test_a_heading_over_a_single_item_follows_its_neighbours(lists: bool, single: str) -> None:
    """One item under a heading is a list of one where most headings hold lists."""
    two = "".join(_NEWS.format(t=t, k=k) for k, t in enumerate(["甲发布", "乙开源"]))
    summary = "这一节讲一件事，正文很长很长，介绍了来龙去脉。\n\n"
    resources = "- [GitHub](https://g.example.com/r)\n- [论文](https://p.example.com/r)\n"
    other = two if lists else summary + resources
    one = _NEWS.format(t="丙融资", k=9)
    digest = read(f"# 日报\n\n## 第一节\n\n{other}\n## 第二节\n\n{one}")
    last = digest.entries[-1]
    assert last.title == (
        "丙融资：这是一条新闻的摘要，说明发生了什么事情" if single == "list" else "第二节"
    )


def test_paragraphs_that_open_with_a_bold_title_are_a_list_of_entries() -> None:
    digest = read(
        "# 日报\n\n## 今日要闻\n\n**甲发布新模型**：性能提升，价格下降。[原文](https://a.example.com/1)\n\n"
        "**乙更新产品**：支持更长的上下文。[原文](https://b.example.com/2)\n\n"
        "## 产业\n\n**丙融资**：估值翻倍。[原文](https://c.example.com/3)\n\n"
        "**丁上市**：首日大涨。[原文](https://d.example.com/4)\n"
    )
    assert [e.title for e in digest.entries] == ["甲发布新模型", "乙更新产品", "丙融资", "丁上市"]
    assert digest.structure.startswith("items: ")


def test_plain_paragraphs_each_with_a_link_stay_one_entry() -> None:
    digest = read(
        "# 日报\n\n## 某公司发布新模型\n\n"
        "公司于周五发布了新模型，详见官方博客 https://a.example.com/1 。\n\n"
        "社区讨论也很热烈：[Hacker News](https://news.example.com/item?id=1)\n\n"
        "## 另一条\n\n见 https://x.example.com/\n"
    )
    assert digest.entries[0].title == "某公司发布新模型"
    assert urls(digest.entries[0], Role.RELATED) == ["https://news.example.com/item?id=1"]


# --- lines about the digest itself -----------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "**视频版**：[哔哩哔哩](https://v.example.com/1) ｜ [YouTube](https://v.example.com/2)",
        "订阅：[RSS](https://v.example.com/1) · [邮件](https://v.example.com/2)",
        "本日报由 [某工具](https://v.example.com/1) 自动生成，另见 [源码](https://v.example.com/2)",
        "*Generated by [DigestBot](https://v.example.com/1) with [a model](https://v.example.com/2)*",
    ],
)
def test_a_line_about_the_digest_between_sections_is_the_digests_own(line: str) -> None:
    digest = read(
        "# 日报\n\n## 模型\n\n### [甲发布](https://a.example.com/1)\n正文。\n\n"
        f"## 关于本期\n\n{line}\n\n## 产业\n\n### [乙融资](https://b.example.com/2)\n正文。\n"
    )
    assert own(digest) == ["https://v.example.com/1", "https://v.example.com/2"]
    assert shape(digest) == [
        ("甲发布", ["https://a.example.com/1"]),
        ("乙融资", ["https://b.example.com/2"]),
    ]


@pytest.mark.parametrize("heading", ["往期回顾", "订阅", "About"])
def test_a_part_about_the_digest_itself_holds_its_own_links(heading: str) -> None:
    digest = read(
        "# 日报\n\n## 模型\n\n### [甲发布](https://a.example.com/1)\n正文。\n\n"
        f"## {heading}\n\n- [第 11 期：某标题](https://d.example.com/11)\n"
        "- [第 10 期：某标题](https://d.example.com/10)\n"
    )
    assert own(digest) == ["https://d.example.com/11", "https://d.example.com/10"]
    assert shape(digest) == [("甲发布", ["https://a.example.com/1"])]


def test_a_closing_credit_line_is_the_digests_even_without_a_thematic_break() -> None:
    digest = read(
        "# 日报\n\n## [甲发布](https://a.example.com/1)\n正文，另见 [解读](https://r.example.com/1)。\n\n"
        "本日报由 [某工具](https://bot.example.com/) 自动整理生成。\n"
    )
    assert own(digest) == ["https://bot.example.com/"]
    assert urls(digest.entries[0]) == ["https://a.example.com/1", "https://r.example.com/1"]


def test_a_news_line_with_a_colon_or_a_by_is_no_line_about_the_digest() -> None:
    digest = read(
        "# 日报\n\n## 更多动态\n\n"
        "- 视频生成：[某公司发布新的视频模型](https://a.example.com/1)\n"
        "- [A model made by a small lab tops the chart](https://b.example.com/2)\n"
        "- 由三家公司联合发布的标准 [草案](https://c.example.com/3)\n"
    )
    assert len(digest.entries) == 3 and not digest.links


def test_a_video_resource_of_an_entry_stays_the_entrys() -> None:
    digest = read(
        "# 情报\n\n### 1. 某模型发布\n**来源**: 某媒体 | **时间**: 2026-03-01\n"
        "**链接**: https://a.example.com/1\n\n#### 🔗 相关资源\n- **视频**: https://v.example.com/demo\n"
    )
    assert urls(digest.entries[0], Role.RELATED) == ["https://v.example.com/demo"]
    assert not digest.links


@pytest.mark.parametrize(
    ("text", "meta"),
    [
        ("视频版：哔哩哔哩 ｜ YouTube", True),
        ("往期回顾: 第 11 期", True),
        ("内容由 AI 辅助生成，可能有误", True),
        ("Powered by Example", True),
        ("视频生成：某公司发布新的视频模型", False),
        ("由三家公司联合发布的标准", False),
        ("订阅" + "很长的文字" * 60 + "：x", False),
    ],
)
def test_is_meta(text: str, meta: bool) -> None:
    assert is_meta(text) is meta


@pytest.mark.parametrize(
    ("text", "anchor"),
    [
        ("阅读原文", True),
        ("🔗 原文链接", True),
        ("Read more", True),
        ("↗", True),
        ("消息来源", True),
        ("GitHub", False),
        ("某公司发布新模型", False),
        ("", False),
    ],
)
def test_is_source_anchor(text: str, anchor: bool) -> None:
    assert is_source_anchor(text) is anchor


def test_every_source_anchor_passes_the_quick_test_before_the_full_one() -> None:
    assert all(words._ANCHOR_HINT.search(word) for word in words.SOURCE_ANCHORS)


# --- the masthead and the intro --------------------------------------------------------------


def test_a_linked_title_heading_is_the_digests_page_in_every_shape() -> None:
    digest = read(
        "# [日报 3 月 2 日](https://d.example.com/3-2)\n\n- [甲](https://a.example.com/1)\n"
    )
    assert own(digest) == ["https://d.example.com/3-2"]
    assert shape(digest) == [("甲", ["https://a.example.com/1"])]
    assert digest.title == "日报 3 月 2 日"


def test_intro_links_under_the_title_are_the_digests_when_entries_follow() -> None:
    digest = read(
        "# 日报\n\n今天的重点是 [甲的新模型](https://a.example.com/1)。\n\n"
        "## 模型\n\n### [乙发布](https://b.example.com/2)\n正文。\n"
    )
    assert own(digest) == ["https://a.example.com/1"]
    assert shape(digest) == [("乙发布", ["https://b.example.com/2"])]


def test_text_before_the_first_heading_is_the_digests_when_entries_follow() -> None:
    digest = read(
        "本期由 [某社区](https://c.example.com/) 整理。\n\n## 模型\n\n"
        "### [甲发布](https://a.example.com/1)\n正文。\n\n### [乙发布](https://b.example.com/2)\n正文。\n"
    )
    assert own(digest) == ["https://c.example.com/"]
    assert len(digest.entries) == 2


def test_three_top_headings_before_the_entries_are_the_masthead_four_are_not() -> None:
    entries = "## [甲](https://a.example.com/1)\n正文。\n"
    three = read("# [3-2](https://d.example.com/1)\n# 日报\n# 第 9 期\n\n" + entries)
    assert (three.title, own(three)) == ("日报", ["https://d.example.com/1"])
    four = read("# 一\n# 二\n# 三\n# 四\n\n" + entries)
    assert four.title is None


def test_top_headings_over_linked_text_are_entries_not_a_masthead() -> None:
    digest = read(
        "# 甲发布新模型\n正文 https://a.example.com/1\n# 乙开源工具\n正文 https://b.example.com/2\n"
        "## 小结\n没有链接。\n"
    )
    assert (digest.title, own(digest)) == (None, [])
    assert [urls(e) for e in digest.entries] == [
        ["https://a.example.com/1"],
        ["https://b.example.com/2"],
    ]


def test_only_the_digests_own_links_is_still_a_digest() -> None:
    digest = read("# [日报](https://d.example.com/1)\n\n今天没有新闻。\n")
    assert (digest.entries, own(digest)) == ([], ["https://d.example.com/1"])


# --- a text and the link line under it; resource lists -------------------------------------


def test_an_item_and_its_html_original_link_on_a_line_of_its_own_are_one_entry() -> None:
    digest = read(
        "# 快报\n\n1. **某公司发布新模型**\n   摘要写在这里。\n\n"
        '<a href="https://a.example.com/1" class="source-link">🔗 阅读原文</a>\n\n'
        "2. **另一家公司开源工具**\n\n"
        '<a href="https://b.example.com/2" class="source-link">🔗 阅读原文</a>\n'
    )
    assert shape(digest) == [
        ("某公司发布新模型", ["https://a.example.com/1"]),
        ("另一家公司开源工具", ["https://b.example.com/2"]),
    ]


def test_a_list_of_bare_urls_stays_one_entry_per_item() -> None:
    digest = read(
        "# 链接\n\n说明文字没有链接。\n\n- https://a.example.com/1\n- https://b.example.com/2\n"
    )
    assert [urls(e) for e in digest.entries] == [
        ["https://a.example.com/1"],  # the first joins the text above it
        ["https://b.example.com/2"],
    ]
    assert digest.entries[0].title == "说明文字没有链接"


def test_a_resource_list_after_an_item_belongs_to_that_item() -> None:
    digest = read(
        "# 日报\n\n## 更多动态\n\n- [甲公司发布新模型](https://a.example.com/1)，摘要\n\n相关链接：\n\n"
        "- [https://a.example.com/1](https://a.example.com/1)\n"
        "- [https://gh.example.com/a](https://gh.example.com/a)\n\n"
        "- [乙公司开源工具](https://b.example.com/2)，摘要\n"
    )
    assert shape(digest) == [
        ("甲公司发布新模型", ["https://a.example.com/1", "https://gh.example.com/a"]),
        ("乙公司开源工具", ["https://b.example.com/2"]),
    ]
    assert urls(digest.entries[0], Role.RELATED) == ["https://gh.example.com/a"]


def test_a_table_of_links_is_one_entry_per_row_only_with_its_rule_row() -> None:
    table = (
        "| 项目 | 链接 |\n| --- | :---: |\n"
        "| 甲 | https://a.example.com/1 |\n| 乙 | https://b.example.com/2 |\n"
    )
    assert len(read(f"# 表\n\n{table}").entries) == 2
    pipes = "| 甲 https://a.example.com/1\n| 乙 https://b.example.com/2\n| 丙\n"
    assert len(read(f"# 表\n\n{pipes}").entries) == 1  # no rule row: a paragraph


# --- URLs as markdown writes them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "url"),
    [
        # an HTML-to-markdown converter escapes the underscores of a bare URL
        (
            "见 https://mp.weixin.qq.com/s?\\_\\_biz=MzA5MTIxNTY4MQ==&mid=1&idx=1&sn=ab。",
            "https://mp.weixin.qq.com/s?__biz=MzA5MTIxNTY4MQ==&mid=1&idx=1&sn=ab",
        ),
        # entities in a link destination are decoded, as CommonMark reads it
        (
            "[文](https://mp.weixin.qq.com/s?__biz=MzA5==&amp;mid=1&amp;idx=1&amp;sn=ab)",
            "https://mp.weixin.qq.com/s?__biz=MzA5==&mid=1&idx=1&sn=ab",
        ),
        ("[文](https://x.example.com/a\\_b\\(1\\))", "https://x.example.com/a_b(1)"),
        ("[文](<https://x.example.com/a b>)", "https://x.example.com/a b"),
        ("见 https://x.example.com/?a=1&amp;b=2 。", "https://x.example.com/?a=1&b=2"),
        # what needs no decoding is left exactly as written
        (
            "[文](https://mp.weixin.qq.com/s?__biz=MzA5==&mid=1&idx=1&sn=ab&chksm=ff#rd)",
            "https://mp.weixin.qq.com/s?__biz=MzA5==&mid=1&idx=1&sn=ab&chksm=ff#rd",
        ),
        ("见 https://x.example.com/%E4%B8%AD?q=%26", "https://x.example.com/%E4%B8%AD?q=%26"),
    ],
)
def test_urls_are_read_as_markdown_shows_them(line: str, url: str) -> None:
    assert [raw.url for raw in extract_links(line)] == [url]


def test_an_escaped_wechat_link_gets_its_full_canonical_form() -> None:
    digest = read(
        "# 日报\n\n- 原文 https://mp.weixin.qq.com/s?\\_\\_biz=MzA5MTIxNTY4MQ==&mid=7&idx=2&sn=cd\n"
    )
    assert digest.entries[0].links[0].canonical_url == (
        "https://mp.weixin.qq.com/s?__biz=MzA5MTIxNTY4MQ==&mid=7&idx=2&sn=cd"
    )


@pytest.mark.parametrize(
    ("url", "note"),
    [
        (
            "https://www.xiaohongshu.com/explore/67c9a1b2000000002903abcd?xsec_token=AB",
            "xiaohongshu",
        ),
        ("http://xhslink.com/a/AbC", "xiaohongshu"),
        ("https://cubox.pro/my/card?id=1", "cubox"),
        ("https://example.feishu.cn/docx/AbC", "feishu"),
        ("https://example.larksuite.com/wiki/AbC", "feishu"),
        ("https://docs.qq.com/doc/AbC", "tencent docs"),
        ("https://pan.baidu.com/s/1AbC", "cloud drive"),
        ("https://mp.weixin.qq.com/s/AbC", None),
        ("https://notfeishu.cn.example.com/x", None),
        ("ftp://cubox.pro/x", None),
    ],
)
def test_url_note(url: str, note: str | None) -> None:
    got = url_note(url)
    assert got is None if note is None else got is not None and got.startswith(note)
