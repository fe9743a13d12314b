"""WeChat official-account articles (mp.weixin.qq.com), their error pages and image-text posts."""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from crawler.extractors.base import Extractor, State
from crawler.extractors.boilerplate import strip_boilerplate
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, absolute, has_class
from crawler.extractors.text import node_text, squash
from crawler.items import Extracted, Status

#: Error pages, by the words they show: (regex, status, reason).
STATES: tuple[tuple[str, Status, str], ...] = (
    (r"该公众号已迁移", Status.GONE, "account migrated"),
    (r"该内容已被发布者删除|内容已被发布者删除", Status.GONE, "deleted by publisher"),
    (r"此内容因违规无法查看|此内容因违规已删除", Status.GONE, "removed for violation"),
    (r"被投诉且经审核涉嫌侵权", Status.GONE, "taken down after infringement complaint"),
    (r"涉嫌过度营销", Status.GONE, "taken down after complaints"),
    (r"此内容发送失败无法查看", Status.GONE, "never delivered"),
    (r"此[帐账]号已被屏蔽|此[帐账]号已被封禁|该公众号已被封禁", Status.GONE, "account blocked"),
    (r"此[帐账]号已自主注销|此[帐账]号已注销", Status.GONE, "account closed"),
    (r"链接已过期", Status.GONE, "link expired"),
    (r"参数错误", Status.GONE, "invalid link"),
    (r"访问过于频繁", Status.BLOCKED, "rate limited"),
    (r"环境异常|完成验证后即可继续访问|请完成验证", Status.BLOCKED, "verification required"),
    (r"请在微信客户端打开链接", Status.BLOCKED, "WeChat client required"),
    (r"系统出错", Status.FAILED, "system error"),
)

#: An account's history page (its list of posts): not an article.
ACCOUNT_PAGE: State = (Status.FAILED, "weixin: not an article (account history page)")

#: Elements WeChat shows its error and verification messages in.
MESSAGE_BOXES = (
    f"//*[{has_class('weui-msg')} or {has_class('global_error_msg')} or {has_class('msg_box')}"
    f" or {has_class('weui-msg__title')} or {has_class('weui-msg__desc')}]"
)

#: Page data of posts that have no #js_content (image-text, text-only, video posts).
PAGE_DATA = re.compile(r"__QMTPL_SSR_DATA__|cgiDataNew|picture_page_info_list|text_page_info")

#: Keys of the JS page data that hold the text of image-text ("图片/小绿书") and text posts.
SSR_TEXT_KEYS = ("content_noencode", "TextContentNoEncode", "desc")

#: Follow prompts and footers WeChat authors append to their posts (short lines only).
WEIXIN_DROP = (
    r"^[▲△↑☝👆↓▼👇\s]*点击.{0,10}(?:关注|名片|星标|蓝字)",
    r"点(?:个|一下)?[「“\"']?在看|分享.{0,3}点赞.{0,3}在看|设为星标|星标.{0,4}(?:公众号|我们)",
    r"^(?:预览时标签不可点|微信扫一扫.*|继续滑动看下一个|轻触阅读原文|向上滑动看下一个)$",
)


def long_link(link: str | None) -> str | None:
    """`https://mp.weixin.qq.com/s?__biz=..&mid=..&idx=..&sn=..` of an article link, else None."""
    if not link:
        return None
    try:
        parts = urlsplit(link.replace("&amp;", "&"))
    except ValueError:
        return None
    query = parse_qs(parts.query)
    values = {key: (query.get(key) or [""])[0] for key in ("__biz", "mid", "idx", "sn")}
    if not all(values.values()):
        return None
    return "https://mp.weixin.qq.com/s?" + urlencode(values, safe="=")


class WeixinExtractor(Extractor):
    """mp.weixin.qq.com: body in #js_content, metadata in page variables, error pages by words."""

    name: ClassVar[str] = "weixin"
    domains: ClassVar[tuple[str, ...]] = ("mp.weixin.qq.com",)
    site: ClassVar[str | None] = None  # the account's name, read from each page
    language: ClassVar[str | None] = "zh"
    container: ClassVar[tuple[str, ...]] = ('//*[@id="js_content"]',)
    prune: ClassVar[tuple[str, ...]] = (
        "//script",
        "//style",
        "//mp-common-profile",
        "//mpprofile",
        f"//*[{has_class('js_product_container')} or {has_class('mp_profile_iframe_wrp')}]",
        f"//*[{has_class('qr_code_pc')} or {has_class('reward_area')}]",
    )
    drop_lines: ClassVar[tuple[str, ...]] = WEIXIN_DROP
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def page_state(self, page: Page) -> State | None:
        """Error, takedown, verification and account pages (only when there is no article body)."""
        body = self.select(page)
        if body is not None and (len(squash(node_text(body))) >= 20 or body.xpath(".//img")):
            return None
        profile = page.xpath(f"//*[{has_class('profile_nickname')}]") and page.xpath(
            '//*[@id="history"]'
        )
        if body is None and (
            profile or page.js("msgList", declared=True) or "/mp/profile_ext" in page.url
        ):
            return ACCOUNT_PAGE
        text = "\n".join(node_text(box) for box in page.xpath(MESSAGE_BOXES))
        if not text and len(page.visible_text) < 1000 and not PAGE_DATA.search(page.scripts):
            text = page.visible_text  # a message page in a layout we do not know yet
        for pattern, status, reason in STATES:
            match = re.search(pattern, text)
            if match:
                return status, f"weixin: {reason} ({self.own_words(text, match)})"
        return None

    @staticmethod
    def own_words(text: str, match: re.Match[str]) -> str:
        """The page's line that holds the matched words (short lines as they are)."""
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        line = text[start : end if end != -1 else None].strip()
        return line if len(line) <= 40 else match.group(0)

    def stateful(self, page: Page, state: State, **fields: Any) -> Extracted:
        """Error pages keep the account or migration target they still name."""
        extra: dict[str, Any] = {}
        target = page.js("transfer_target_link")
        if target:
            extra["transfer_target_link"] = target
        title = None
        if state == ACCOUNT_PAGE:  # its title is the account's name
            title = page.first(f"//*[{has_class('profile_nickname')}]") or page.js("nickname")
            if title:
                extra["account"] = title
        return super().stateful(page, state, title=title, extra=extra, **fields)

    def late_state(self, page: Page, result: Extracted) -> State | None:
        """Error pages are all recognised by `page_state`: a short post is still a post."""
        return None

    def no_text(self, page: Page, result: Extracted) -> Extracted:
        """Posts without #js_content text: read from the page's JS data, else their pictures or
        their description; failed only when none of them holds anything."""
        text = self.ssr_text(page)
        if text:
            result.text = text
            result.extra["layout"] = "page-data"
        elif result.images:  # a post of pictures only is still an article
            result.extra["layout"] = "images-only"
        elif result.description and PAGE_DATA.search(page.scripts):  # e.g. video posts
            result.text = result.description
            result.extra["layout"] = "description-only"
        else:
            return super().no_text(page, result)
        result.status, result.reason = Status.ARCHIVED, None
        return result

    def ssr_text(self, page: Page) -> str:
        """Text of image-text and text-only posts, kept in `__QMTPL_SSR_DATA__`/`cgiDataNew`."""
        for key in SSR_TEXT_KEYS:
            value = page.js(key)
            if value:
                return strip_boilerplate(re.sub(r"<[^>]+>", "", value), self.drop_lines)
        return ""

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title, account, author, publish time, cover and long link from tags and page data."""
        account = (
            page.first('//*[@id="js_name"]')
            or page.js("nickname", declared=True)
            or page.first('//*[@id="post-user"]')
            or page.js("nick_name", "nickname")
        )
        author = (
            page.meta("author")
            or page.first('//*[@id="js_author_name"]')
            or page.js("author", declared=True)
            or account
        )
        extra: dict[str, Any] = {}
        if account:
            extra["account"] = account
        byline = page.first(
            '//*[@id="meta_content"]/em[contains(@class, "rich_media_meta_text")][not(@id)]'
        )
        if byline and byline != account:
            extra["byline"] = byline  # the 2018 layout's free-text author line
        cover = page.meta("og:image") or page.js("msg_cdn_url", "cdn_url_1_1", "cover")
        if cover:
            extra["cover"] = cover
        for key in ("biz", "mid", "idx", "sn", "user_name", "item_show_type"):
            value = page.js(key, declared=True)
            if value:
                extra[key] = value
        canonical = (
            long_link(page.js("msg_link", declared=True))
            or long_link(page.meta("og:url"))
            or self.var_link(extra)
        )
        images = self.images(page, body) if body is not None else self.ssr_images(page)
        return {
            "title": page.meta("og:title", "twitter:title")
            or page.first('//*[@id="activity-name"]')
            or page.js("msg_title", "title"),
            "author": author,
            "site": account,
            "published": self.published(page),
            "description": page.meta("og:description", "description") or page.js("msg_desc"),
            "canonical_url": canonical,
            "images": images,
            "extra": extra,
        }

    @staticmethod
    def var_link(extra: dict[str, Any]) -> str | None:
        """Long link from the page's `biz`/`mid`/`idx`/`sn` variables (None without sn)."""
        query = {
            "__biz": extra.get("biz"),
            "mid": extra.get("mid"),
            "idx": extra.get("idx"),
            "sn": extra.get("sn"),
        }
        if not all(query.values()):
            return None
        return "https://mp.weixin.qq.com/s?" + urlencode(query, safe="=")

    def published(self, page: Page) -> str | None:
        """Publish time: `ct` (unix), `createTime`, `create_time`, `publish_time`, `#post-date`.

        The visible `#publish_time` is not used: saved pages show it as relative ("昨天").
        """
        for value in (
            page.js("ct"),
            page.js("create_time", "createTime", "publish_time", "ori_create_time"),
            page.first('//*[@id="post-date"]'),
        ):
            published = parse_date(value, CHINA_TZ) if value else None
            if published:
                return published
        return None

    def ssr_images(self, page: Page) -> list[str]:
        """Pictures of image-text posts, listed as `cdn_url` in the page data."""
        seen: dict[str, None] = {}
        for match in re.finditer(
            r"\bcdn_url\s*:\s*(?:JsDecode\()?['\"]([^'\"]+)['\"]", page.scripts
        ):
            url = absolute(match.group(1).replace("\\x26amp;", "&").replace("&amp;", "&"), page.url)
            if url:
                seen.setdefault(url, None)
        return list(seen)
