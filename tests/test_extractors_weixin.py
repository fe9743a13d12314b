"""WeChat: the long link, a fixture for every page state, and the layouts without #js_content."""

from __future__ import annotations

from pathlib import Path

from crawler.extractors import extract
from crawler.extractors.page import Page
from crawler.extractors.weixin import (
    ACCOUNT_PAGE,
    WeixinExtractor,
    credited_author,
    long_link,
    readable_emoji,
    references,
)
from crawler.items import Status

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pages"


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


def test_account_history_page_is_its_own_state_titled_by_the_account() -> None:
    html = (
        "<html><head><title>历史消息</title></head><body><div class='profile_nickname'>某号</div>"
        "<div id='history'></div></body></html>"
    )
    page = Page(url="https://mp.weixin.qq.com/mp/profile_ext?action=home", html=html)
    assert WeixinExtractor().page_state(page) == ACCOUNT_PAGE
    result = extract(page.url, html.encode(), "text/html; charset=utf-8")
    assert (result.status, result.reason) == ACCOUNT_PAGE
    assert (result.title, result.extra["account"]) == ("某号", "某号")


def test_post_of_pictures_only_is_archived_with_its_pictures() -> None:
    html = (
        "<html><head><meta property='og:title' content='图片帖'></head><body><script>"
        "window.cgiDataNew = {picture_page_info_list: [{cdn_url: 'https://mmbiz.qpic.cn/a.jpg'},"
        "{cdn_url: JsDecode('https://mmbiz.qpic.cn/b.jpg?x=1\\x26amp;y=2')}]};</script></body></html>"
    )
    result = extract("https://mp.weixin.qq.com/s/pictures", html.encode(), "text/html")
    assert (result.status, result.reason, result.text) == (Status.ARCHIVED, None, "")
    assert result.extra["layout"] == "images-only"
    assert result.images == ["https://mmbiz.qpic.cn/a.jpg", "https://mmbiz.qpic.cn/b.jpg?x=1&y=2"]


def test_video_post_keeps_its_description_as_text() -> None:
    html = (
        "<html><head><meta property='og:title' content='视频'>"
        "<meta property='og:description' content='一段视频的介绍'></head><body>"
        "<script>window.cgiDataNew = {video_page_info: {}};</script></body></html>"
    )
    result = extract("https://mp.weixin.qq.com/s/video", html.encode(), "text/html")
    assert (result.status, result.text, result.extra["layout"]) == (
        Status.ARCHIVED,
        "一段视频的介绍",
        "description-only",
    )


def test_post_with_nothing_to_read_fails_with_no_text() -> None:
    html = "<html><head><title>空</title></head><body><div id='js_content'></div></body></html>"
    result = extract("https://mp.weixin.qq.com/s/empty", html.encode(), "text/html")
    assert (result.status, result.reason) == (Status.FAILED, "weixin: no text extracted")


def test_every_weixin_page_type_has_a_fixture() -> None:
    names = {p.stem for p in (FIXTURES / "mp.weixin.qq.com").glob("*.json")}
    wanted = {"article", "article-share", "image-share", "image-share-plain", "text-share-untitled"}
    assert wanted | {"text-post", "footnotes"} <= names, wanted - names


def test_emoji_codes_are_made_readable_or_dropped() -> None:
    assert readable_emoji("涨了[哇]，喝杯[咖啡]") == "涨了🤩，喝杯☕"
    assert readable_emoji("不理你[抠鼻]") == "不理你"
    assert readable_emoji("见 [1] 与 [PDF] 和 [未知表情]") == "见 [1] 与 [PDF] 和 [未知表情]"


def test_references_from_footnote_lines() -> None:
    text = "正文[1]提到[2]。\n参考资料\n[1] 论文一: https://arxiv.org/abs/1\n[2]\n项目主页：https://example.org/p。"
    assert references(text) == [
        {"n": "1", "label": "论文一", "url": "https://arxiv.org/abs/1"},
        {"n": "2", "label": "项目主页", "url": "https://example.org/p"},
    ]
    assert references("没有脚注的正文 [1] 只是编号") == []


def test_a_share_credits_its_author_in_a_line_of_its_own() -> None:
    assert credited_author("正文。\n【作者丨邱晓芬】\n栏目介绍") == "邱晓芬"
    assert credited_author("正文。\n文｜张三") == "张三"
    assert credited_author("这篇文章的作者丨是谁并不重要，重要的是内容本身，值得一读再读。") is None


def test_text_share_title_that_is_its_text_is_no_title() -> None:
    spec_html = (FIXTURES / "mp.weixin.qq.com" / "text-share-untitled.html").read_bytes()
    result = extract("https://mp.weixin.qq.com/s/VGV4dFNoYXJlMDE", spec_html, "text/html")
    assert result.title is None
    assert result.text.startswith("大家好，这是新的账号")
