"""Article pages as Chinese news portals and WeChat serve them: chrome, scripts, styles, footers."""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass, field

from bench import text

#: The site's one stylesheet, linked by every news page (stored once with requisites on).
STYLESHEET = "/static/site.css"
MIN_BYTES = 20_000
MAX_BYTES = 150_000
#: Share of the padding that is markup (the rest is inline script).
MARKUP_SHARE = 0.6


@dataclass
class Article:
    """What a page says, whatever chrome it is served in."""

    title: str
    paragraphs: list[str]
    date: str  # YYYY-MM-DD
    time: str  # HH:MM
    author: str
    account: str  # site name or WeChat account
    images: list[str] = field(default_factory=list)


def new_article(rng: random.Random, day: int) -> Article:
    """A fresh article published on day `day` of 2026 (1-based, wrapping within the year)."""
    month, mday = divmod((day - 1) % 336, 28)
    return Article(
        title=text.title(rng),
        paragraphs=text.paragraphs(rng, rng.randint(1200, 6000)),
        date=f"2026-{month + 1:02d}-{mday + 1:02d}",
        time=f"{rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}",
        author=text.person(rng),
        account=rng.choice(text.ACCOUNTS),
        images=[f"/img/{rng.getrandbits(48):012x}.jpg" for _ in range(rng.randint(0, 4))],
    )


def stylesheet(rng: random.Random) -> str:
    """The site's stylesheet (about 20 KB of rules)."""
    return text.css_blob(rng, 300)


def target_size(rng: random.Random) -> int:
    """A page size between MIN_BYTES and MAX_BYTES, skewed towards the middle."""
    return int(MIN_BYTES + (MAX_BYTES - MIN_BYTES) * (rng.random() + rng.random()) / 2)


def _pad(page: str, rng: random.Random, size: int) -> str:
    """Fill up to `size` bytes before </body>: widgets (menus, feeds) and inline scripts."""
    missing = size - len(page.encode())
    if missing <= 200:
        return page
    widgets: list[str] = []
    filled = 0
    while filled < missing * MARKUP_SHARE:
        widget = _widget(rng)
        widgets.append(widget)
        filled += len(widget.encode())
    blob = text.script_blob(rng, missing - filled - 100)  # ASCII: length is bytes
    return page.replace("</body>", "\n".join(widgets) + f"<script>{blob}</script>\n</body>", 1)


def _widget(rng: random.Random) -> str:
    """A block of page chrome: a mega-menu, a news feed or a hidden template."""
    css = f"w-{rng.getrandbits(24):06x}"
    items = "".join(
        f'<li class="{css}-item" data-id="{rng.getrandbits(32)}"><div class="thumb">'
        f'<a href="/news/{rng.randint(10**6, 10**7)}.html">'
        f'<img src="/img/{rng.getrandbits(40):x}.jpg" alt=""></a></div><div class="txt">'
        f'<a href="/news/{rng.randint(10**6, 10**7)}.html">'
        f'<span class="t">{_esc(text.title(rng))}</span></a><div class="meta"><span>'
        f"{rng.choice(text.ACCOUNTS)}</span><span>{rng.randint(1, 59)}分钟前</span>"
        f'<i class="icon-comment"></i><em>{rng.randint(0, 999)}</em></div></div></li>'
        for _ in range(rng.randint(4, 12))
    )
    hidden = ' style="display:none"' if rng.random() < 0.3 else ""
    return (
        f'<div class="widget {css}"{hidden}><div class="hd"><h3>{rng.choice(text.CHANNELS)}'
        f'</h3><a class="more" href="/more">更多</a></div><ul class="bd">{items}</ul></div>'
    )


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _nav(rng: random.Random, links: int) -> str:
    items = "".join(
        f'<li><a href="/channel/{i}/{rng.getrandbits(16):x}.html">'
        f"{rng.choice(text.CHANNELS)}</a></li>"
        for i in range(links)
    )
    return f'<nav class="site-nav"><ul>{items}</ul></nav>'


def _link_list(rng: random.Random, heading: str, count: int, css: str) -> str:
    items = "".join(
        f'<li><a href="/news/{rng.randint(10**6, 10**7)}.html">{_esc(text.title(rng))}</a>'
        f'<span class="date">{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}</span></li>'
        for _ in range(count)
    )
    return f'<div class="{css}"><h3>{heading}</h3><ul>{items}</ul></div>'


def _comments(rng: random.Random, count: int) -> str:
    items = "".join(
        f'<li class="comment"><span class="user">{text.person(rng)}</span>'
        f"<p>{rng.choice(text.COMMENTS)}</p>"
        f'<span class="likes">{rng.randint(0, 999)} 赞</span></li>'
        for _ in range(count)
    )
    return f'<div class="comments" id="comments"><h3>网友评论（{count}）</h3><ul>{items}</ul></div>'


def news_page(article: Article, rng: random.Random, size: int) -> str:
    """A news portal page: header, navigation, article, related, comments, sidebar, footer."""
    site = f"{article.account}网"
    body = "\n".join(f"<p>{_esc(p)}</p>" for p in article.paragraphs)
    for img in article.images:
        body += f'\n<p class="img"><img src="{img}" alt="配图"></p>'
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "datePublished": f"{article.date}T{article.time}:00+08:00",
            "author": {"@type": "Person", "name": article.author},
            "publisher": {"@type": "Organization", "name": site},
        },
        ensure_ascii=False,
    )
    state = json.dumps(
        {"hot": [text.title(rng) for _ in range(rng.randint(5, 30))], "uid": rng.getrandbits(40)},
        ensure_ascii=False,
    )
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(article.title)}_{site}</title>
<meta name="keywords" content="人工智能,大模型,{_esc(text.THINGS[0])}">
<meta name="description" content="{_esc(article.paragraphs[0][:120])}">
<meta property="og:title" content="{_esc(article.title)}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{article.date}T{article.time}:00+08:00">
<meta name="author" content="{_esc(article.author)}">
<link rel="stylesheet" href="{STYLESHEET}">
<style>{text.css_blob(rng, rng.randint(40, 200))}</style>
<script>window.__INITIAL_STATE__={state};</script>
<script type="application/ld+json">{ld}</script>
</head><body>
<div class="topbar"><a href="/login">登录</a> | <a href="/register">注册</a> |
<a href="/app">下载客户端</a></div>
<header><a class="logo" href="/">{site}</a>{_nav(rng, rng.randint(20, 60))}</header>
<div class="breadcrumb"><a href="/">首页</a> &gt; <a href="/ai">人工智能</a> &gt; 正文</div>
<div class="main"><div class="article" id="article">
<h1 class="title">{_esc(article.title)}</h1>
<div class="info"><span class="time">{article.date} {article.time}</span>
<span class="author">作者：{_esc(article.author)}</span>
<span class="source">来源：{site}</span></div>
<div class="article-content">
{body}
</div>
<div class="tags"><a href="/tag/ai">人工智能</a><a href="/tag/llm">大模型</a></div>
<div class="share">分享到：<a href="#">微博</a><a href="#">微信</a><a href="#">QQ空间</a></div>
{_link_list(rng, "相关阅读", rng.randint(5, 20), "related")}
{_comments(rng, rng.randint(0, 25))}
</div>
<aside class="sidebar">{_link_list(rng, "热门排行", rng.randint(8, 20), "hot")}
<div class="ad" id="ad-{rng.getrandbits(24):x}">广告</div>
{_link_list(rng, "编辑推荐", rng.randint(5, 15), "pick")}</aside></div>
<footer><p>关于我们 | 联系方式 | 广告服务 | 隐私政策 | 网站地图</p>
<p>Copyright © 2026 {site} 版权所有 京ICP备{rng.randint(10**7, 10**8)}号-1</p></footer>
</body></html>
"""
    return _pad(page, rng, size)


def _styled(rng: random.Random, para: str) -> str:
    """A WeChat editor paragraph: nested sections and spans with inline styles."""
    color = f"#{rng.getrandbits(24):06x}"
    return (
        f'<section style="margin: 0px 8px; line-height: 1.75em;"><p style="text-align: justify;'
        f' letter-spacing: 0.5px;"><span style="font-size: 15px; color: {color};">'
        f"{_esc(para)}</span></p></section>"
    )


def weixin_page(article: Article, rng: random.Random, size: int) -> str:
    """A WeChat-like article page: rich_media markup, js_content, inline-styled paragraphs."""
    body = "\n".join(_styled(rng, p) for p in article.paragraphs)
    for img in article.images:
        body += (
            f'\n<p style="text-align: center;"><img class="rich_pages wxw-img" '
            f'data-src="{img}" data-ratio="0.5625" data-w="1080"></p>'
        )
    ct = 1767225600 + rng.randint(0, 300) * 86400
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0,maximum-scale=1.0">
<title>{_esc(article.title)}</title>
<meta property="og:title" content="{_esc(article.title)}">
<meta property="og:description" content="{_esc(article.paragraphs[0][:80])}">
<meta property="og:site_name" content="微信公众平台">
<meta property="og:type" content="article">
<style>{text.css_blob(rng, rng.randint(100, 400))}</style>
<script>var msg_title = '{_esc(article.title)}'.html(false);var nickname = "{article.account}";
var ct = "{ct}";var publish_time = "{article.date}" || "";
var user_name = "gh_{rng.getrandbits(40):x}";
var msg_link = "https://mp.weixin.qq.com/s/{rng.getrandbits(96):x}";</script>
</head><body id="activity-detail" class="zh_CN wx_wap_page">
<div id="js_article" class="rich_media"><div class="rich_media_inner">
<div id="page-content" class="rich_media_area_primary"><div class="rich_media_area_primary_inner">
<h1 class="rich_media_title" id="activity-name">{_esc(article.title)}</h1>
<div id="meta_content" class="rich_media_meta_list">
<span class="rich_media_meta rich_media_meta_text">{_esc(article.author)}</span>
<span class="rich_media_meta rich_media_meta_nickname" id="profileBt">
<a href="javascript:void(0);" id="js_name">{article.account}</a></span>
<em id="publish_time" class="rich_media_meta rich_media_meta_text">
{article.date} {article.time}</em>
</div>
<div class="rich_media_content js_underline_content" id="js_content">
{body}
</div>
<div class="rich_media_tool" id="js_toobar3"><a id="js_report_article3" href="javascript:;">投诉</a>
<span>阅读 {rng.randint(100, 100000)}</span><span>在看 {rng.randint(0, 999)}</span></div>
</div></div>
<div id="js_pc_qr_code" class="qr_code_pc"><p>微信扫一扫<br>关注该公众号</p></div>
</div></div>
</body></html>
"""
    return _pad(page, rng, size)


def render(article: Article, kind: str, rng: random.Random, size: int) -> str:
    """The page of `article` in the chrome of `kind` (news or weixin)."""
    return weixin_page(article, rng, size) if kind == "weixin" else news_page(article, rng, size)
