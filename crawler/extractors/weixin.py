"""WeChat official-account pages (mp.weixin.qq.com): articles, shares, posts, error pages.

Page types, told by the page data `window.cgiDataNew` (`item_show_type`, `copyright_info`):

- article (0): the body in `#js_content` (hidden until scripts run, read anyway); when that is
  empty, the article HTML in `cgiDataNew.content_noencode`.
- article share (文章分享, `copyright_info.guide_words`): the page shows the sharer's comment
  and a card; the shared article is in `content_noencode`. The text is the shared article; the
  comment, the original account, title and link go to `extra.share`.
- image share (8, 图片分享, body class `page_share_img`): text only in `content_noencode`
  (`JsDecode('...')` or plain `'...'`), pictures in `picture_page_info_list`.
- text share (10, 文本分享, `page_share_text`): text in `text_page_info.content_noencode`;
  a post without a title of its own repeats its whole text as its title: no title then.

Share texts carry emoji codes (`[哇]`): made Unicode where one exists, else dropped. Long
articles turn outbound links into footnotes (`[1]` in the text, a 参考资料/References block at
the end): the block stays in the text and its links go to `extra.references`.
"""

from __future__ import annotations

import html as htmllib
import re
from copy import deepcopy
from datetime import timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from crawler.extractors.base import Extractor, State
from crawler.extractors.boilerplate import strip_boilerplate
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, absolute, has_class, parse_fragment
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

#: Keys of the older page data (`__QMTPL_SSR_DATA__`, page variables) holding a post's text.
SSR_TEXT_KEYS = ("content_noencode", "TextContentNoEncode", "desc")

#: `item_show_type` of the page types without an article body.
IMAGE_SHARE, TEXT_SHARE = "8", "10"

#: WeChat's emoji codes as its share texts write them ("[哇]"), with a Unicode equivalent where
#: one exists ("" drops the code: the app draws it as a picture of its own).
EMOJI: dict[str, str] = {
    "微笑": "🙂", "撇嘴": "😒", "色": "😍", "发呆": "😳", "得意": "😎", "流泪": "😢",
    "害羞": "😊", "闭嘴": "🤐", "睡": "😴", "大哭": "😭", "尴尬": "😅", "发怒": "😡",
    "调皮": "😜", "呲牙": "😁", "惊讶": "😲", "难过": "🙁", "囧": "😓", "抓狂": "😫",
    "吐": "🤮", "偷笑": "🤭", "愉快": "😄", "白眼": "🙄", "傲慢": "😤", "困": "😪",
    "惊恐": "😱", "憨笑": "😆", "悠闲": "😌", "咒骂": "🤬", "疑问": "❓", "嘘": "🤫",
    "晕": "😵", "衰": "😩", "骷髅": "💀", "敲打": "🔨", "再见": "👋", "擦汗": "😓",
    "抠鼻": "", "鼓掌": "👏", "坏笑": "😏", "左哼哼": "", "右哼哼": "", "哈欠": "🥱",
    "鄙视": "", "委屈": "🥺", "快哭了": "🥺", "阴险": "😈", "亲亲": "😘", "可怜": "🥺",
    "笑脸": "😀", "生病": "😷", "脸红": "😳", "破涕为笑": "😂", "恐惧": "😨", "失望": "😞",
    "无语": "😑", "嘿哈": "", "捂脸": "🤦", "奸笑": "😏", "机智": "🤓", "皱眉": "😟",
    "耶": "✌️", "吃瓜": "🍉", "加油": "💪", "汗": "😓", "天啊": "😮", "Emm": "🤔",
    "社会社会": "", "旺柴": "🐶", "好的": "👌", "打脸": "", "哇": "🤩", "翻白眼": "🙄",
    "666": "👍", "让我看看": "👀", "叹气": "😮‍💨", "苦涩": "😣", "裂开": "💔", "嘴唇": "💋",
    "爱心": "❤️", "心碎": "💔", "拥抱": "🤗", "强": "👍", "弱": "👎", "握手": "🤝",
    "胜利": "✌️", "抱拳": "🙏", "勾引": "", "拳头": "👊", "OK": "👌", "合十": "🙏",
    "啤酒": "🍺", "咖啡": "☕", "蛋糕": "🎂", "玫瑰": "🌹", "凋谢": "🥀", "菜刀": "🔪",
    "炸弹": "💣", "便便": "💩", "月亮": "🌙", "太阳": "☀️", "庆祝": "🎉", "礼物": "🎁",
    "红包": "🧧", "發": "", "福": "🧧", "烟花": "🎆", "爆竹": "🧨", "猪头": "🐷",
    "跳跳": "", "发抖": "", "转圈": "", "憨憨": "", "头秃": "", "吐舌": "😛",
    "呆": "", "好色": "😍", "流汗": "😓", "emm": "🤔", "Yeah!": "🙌", "Facepalm": "🤦",
    "Smirk": "😏", "Smart": "🤓", "Concerned": "😟", "Hey": "", "Wow": "🤩",
}  # fmt: skip
_EMOJI_CODE = re.compile(
    r"\[(" + "|".join(map(re.escape, sorted(EMOJI, key=len, reverse=True))) + r")\]"
)

#: A footnote of the references block long articles end with: "[3] label: https://...".
_FOOTNOTE = re.compile(r"^\[(?P<n>\d{1,3})\]\s*(?P<label>.*?)[\s:：]*(?P<url>https?://\S+)\s*$")
#: Credit lines of share texts that name the author ("【作者丨邱晓芬】", "文｜张三").
_CREDIT = re.compile(
    r"^[【\[(（]?\s*(?:作者|撰文|文|作者\s*/\s*编辑)\s*[丨|｜:：/]\s*(?P<name>[^\s】\])）丨|｜,，]{2,20})"
    r"\s*[】\])）]?$"
)


def readable_emoji(text: str) -> str:
    """WeChat's emoji codes in a text made Unicode emoji (dropped where there is none)."""
    return _EMOJI_CODE.sub(lambda match: EMOJI[match.group(1)], text) if "[" in text else text


def references(text: str, body: Any = None) -> list[dict[str, str]]:
    """The footnoted links of an article's references block, in order: the editor's footnote
    items (`.footnote-item`: a `.footnote-num` and "label: url") where the body has them, else
    the text's "[n] label: url" lines (the number on a line of its own before them, too)."""
    found: list[dict[str, str]] = []
    items = body.xpath(f".//*[{has_class('footnote-item')}]") if body is not None else []
    for item in items:
        number = item.xpath(f".//*[{has_class('footnote-num')}]")
        n = re.sub(r"\D", "", number[0].text_content()) if number else ""
        if number:
            number[0].drop_tree()
        line = f"[{n or len(found) + 1}] {squash(item.text_content())}"
        if match := _FOOTNOTE.match(line):
            found.append(_reference(match))
    if found:
        return found
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if re.fullmatch(r"\[\d{1,3}\]", line) and index + 1 < len(lines):
            line = f"{line} {lines[index + 1]}"  # "[2]" over "label: url"
        match = _FOOTNOTE.match(line) if line.startswith("[") else None
        if match:
            found.append(_reference(match))
    return found


def _reference(match: re.Match[str]) -> dict[str, str]:
    url = match["url"].rstrip("。.,，;；)）】」>")
    return {"n": match["n"], "label": squash(match["label"]).rstrip(":：").strip(), "url": url}


def credited_author(text: str) -> str | None:
    """The author a share text credits in a short line of its own, else None."""
    for line in text.splitlines():
        line = line.strip()
        if len(line) <= 30 and (match := _CREDIT.match(line)):
            return match["name"]
    return None


#: Follow prompts and footers WeChat authors append to their posts (short lines only).
WEIXIN_DROP = (
    r"^[▲△↑☝👆↓▼👇\s]*点击.{0,10}(?:关注|名片|星标|蓝字)",
    r"点(?:个|一下)?[「“\"']?在看|分享.{0,3}点赞.{0,3}在看|设为星标|星标.{0,4}(?:公众号|我们)",
    r"^(?:预览时标签不可点|微信扫一扫.*|继续滑动看下一个|轻触阅读原文|向上滑动看下一个)$",
    r"^\W{0,6}(?:关注我们|关注我)\W{0,6}$",
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
    outlet_authors: ClassVar[bool] = True  # an account is the author of its own posts

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

    # ---- the page data and the page type

    @staticmethod
    def cgi(page: Page) -> dict[str, Any]:
        """`window.cgiDataNew`, the page data of the current layouts ({} when absent)."""
        data = page.js_data("cgiDataNew") if "cgiDataNew" in page.html else None
        return data if isinstance(data, dict) else {}

    def layout(self, page: Page) -> str:
        """The page type: "article", "article-share", "image-share" or "text-share"."""
        if "weixin:layout" not in page.memo:
            page.memo["weixin:layout"] = self._layout(page)
        layout: str = page.memo["weixin:layout"]
        return layout

    def _layout(self, page: Page) -> str:
        cgi = self.cgi(page)
        show = str(cgi.get("item_show_type") or page.js("item_show_type", declared=True) or "")
        if show == IMAGE_SHARE:
            return "image-share"
        if show == TEXT_SHARE:
            return "text-share"
        copyright_info = cgi.get("copyright_info")
        if (isinstance(copyright_info, dict) and copyright_info.get("guide_words")) or (
            "js_share_notice" in page.html and page.xpath('//*[@id="js_share_notice"]')
        ):
            return "article-share"
        return "article"

    def share_text(self, page: Page, layout: str) -> str:
        """Text of an image or text share, from the page data (emoji codes made readable)."""
        cgi = self.cgi(page)
        info = cgi.get("text_page_info")
        candidates: list[Any] = []
        if layout == "text-share" and isinstance(info, dict):
            candidates += [info.get("content_noencode"), info.get("content")]
        candidates += [cgi.get("content_noencode"), page.js("TextContentNoEncode", declared=True)]
        if layout == "image-share":
            candidates.append(htmllib.unescape(str(cgi.get("desc") or "")))
        for value in candidates:
            if isinstance(value, str) and value.strip():
                return readable_emoji(re.sub(r"<[^>]+>", "", value))
        return ""

    def data_fragment(self, page: Page) -> Any:
        """The article HTML of `cgiDataNew.content_noencode`, parsed once (None when none)."""
        if "weixin:fragment" not in page.memo:
            markup = self.cgi(page).get("content_noencode")
            fragment = None
            if isinstance(markup, str) and "<" in markup:
                fragment = parse_fragment(markup)
                for node in fragment.xpath("//script | //style") if fragment is not None else []:
                    node.drop_tree()
            page.memo["weixin:fragment"] = fragment
        return page.memo["weixin:fragment"]

    def data_article(self, page: Page) -> str:
        """Text of the article HTML in `cgiDataNew.content_noencode` ("" when there is none)."""
        fragment = self.data_fragment(page)
        return node_text(fragment) if fragment is not None else ""

    def read(self, page: Page, body: Any) -> str:
        """Shares from their page data; articles from #js_content, else from the page data."""
        layout = self.layout(page)
        if layout in ("image-share", "text-share"):
            return self.share_text(page, layout)
        text = super().read(page, body) if body is not None else ""
        if layout == "article-share" or len(squash(text)) < 20:
            text = self.data_article(page) or text
        if not text and body is None and PAGE_DATA.search(page.scripts):
            return ""  # a post of the older page data: read by `no_text`
        return text or (super().read(page, None) if body is None else text)

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
        """Text of image-text and text-only posts in the older `__QMTPL_SSR_DATA__` data."""
        for key in SSR_TEXT_KEYS:
            value = page.js(key)
            if value:
                text = readable_emoji(re.sub(r"<[^>]+>", "", value))
                return strip_boilerplate(text, self.drop_lines)
        return ""

    def assemble(self, page: Page, body: Any, text: str) -> Extracted:
        """As the base, then what depends on the page type: share fields, footnoted links."""
        result = super().assemble(page, body, text)
        layout = self.layout(page)
        if layout != "article":
            result.extra["layout"] = layout
        if layout == "text-share" and result.title and _repeats(result.title, result.text):
            result.title = None  # a post without a title of its own: its title is its text
        if layout in ("image-share", "text-share") and result.author == result.extra.get("account"):
            result.author = credited_author(result.text) or result.author
        if layout == "article-share":
            share = self.share(page)
            if share:
                result.extra["share"] = share
                result.author = share.get("account") or result.author
        body_element = body if layout == "article" else self.data_fragment(page)
        if body_element is not None and "footnote" in page.html:
            body_element = deepcopy(body_element)  # footnote numbers are taken out as read
        found = references(result.text, body_element if "footnote" in page.html else None)
        if found:
            result.extra["references"] = found
        return result

    def share(self, page: Page) -> dict[str, Any]:
        """What an article share says of itself: the sharer's comment, the original's account,
        title and link."""
        cgi = self.cgi(page)
        info = cgi.get("copyright_info")
        info = info if isinstance(info, dict) else {}
        comment = info.get("guide_words") or page.first('//*[@id="js_share_notice"]')
        if not comment:
            notice = re.search(
                r"js_share_notice'\)\.innerHTML\s*=\s*", page.scripts
            )  # written by a script
            comment = page.js("innerHTML") if notice else None
        account = info.get("platform") or page.first('//*[@id="js_share_author"]')
        link = info.get("reprint_url") or page.first('//*[@id="js_share_source"]/@data-url')
        title = cgi.get("source_title") or page.first('//*[@id="original_panel_title"]')
        share = {
            "comment": readable_emoji(str(comment)).strip() if comment else None,
            "account": account or None,
            "title": title or None,
            "url": long_link(htmllib.unescape(link)) or htmllib.unescape(link) if link else None,
        }
        return {key: value for key, value in share.items() if value}

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title, account, author, publish time, cover and long link from tags and page data."""
        cgi = self.cgi(page)
        account = (
            page.first('//*[@id="js_name"]')
            or squash(str(cgi.get("nick_name") or ""))
            or page.js("nickname", declared=True)
            or page.first('//*[@id="post-user"]')
            or page.js("nick_name", "nickname")
        )
        author = (
            page.meta("author")
            or page.first('//*[@id="js_author_name"]')
            or page.js("author", declared=True)
            or squash(str(cgi.get("author") or ""))
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
        layout = self.layout(page)
        shared = layout in ("image-share", "text-share")
        return {
            "title": (squash(str(cgi.get("title") or "")) if shared else None)
            or page.meta("og:title", "twitter:title")
            or page.first('//*[@id="activity-name"]')
            or page.js("msg_title", "title"),
            "author": author,
            "site": account,
            "published": self.published(page),
            "description": page.meta("og:description", "description")
            or page.js("msg_desc")
            or squash(htmllib.unescape(str(cgi.get("desc") or ""))),
            "canonical_url": canonical,
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

    def images(self, page: Page, body: Any) -> list[str]:
        """Article images from #js_content, else from the page data's article; a share's
        pictures from the page data (its card's images are not the post's)."""
        layout = self.layout(page)
        found = super().images(page, body) if layout == "article" else []
        if layout == "article-share" or (not found and layout == "article"):
            found = super().images(page, self.data_fragment(page))
        if not found and layout != "article-share":
            found = self.ssr_images(page)
        return found

    def ssr_images(self, page: Page) -> list[str]:
        """Pictures of image posts: `picture_page_info_list` (each picture's own `cdn_url`, not
        its watermark's or cover's), else every `cdn_url` of the page data."""
        cgi = self.cgi(page)
        pictures = cgi.get("picture_page_info_list") or page.js_data("picture_page_info_list")
        urls: list[Any] = []
        if isinstance(pictures, list):
            urls = [item.get("cdn_url") for item in pictures if isinstance(item, dict)]
        if not isinstance(pictures, list):  # a page without the list: its data's cdn_urls
            urls = re.findall(r"\bcdn_url\s*:\s*(?:JsDecode\()?['\"]([^'\"]+)['\"]", page.scripts)
        seen: dict[str, None] = {}
        for value in urls:
            if not isinstance(value, str):
                continue
            url = absolute(htmllib.unescape(value.replace("\\x26", "&")), page.url)
            if url:
                seen.setdefault(url, None)
        return list(seen)


def _repeats(title: str, text: str) -> bool:
    """Whether a title is the text itself (or its first paragraphs run together)."""
    flat_title, flat_text = "".join(title.split()), "".join(text.split())
    flat_title = flat_title.replace("\\n", "")
    return flat_title == flat_text or (len(flat_title) > 60 and flat_text.startswith(flat_title))
