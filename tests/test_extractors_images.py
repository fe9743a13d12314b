"""`images` and `styles` for every extractor: the generic path reads the images of the element
that holds the extracted text (lazy attributes and srcset resolved, data: URIs and inline SVG
left in the page, chrome and trackers out), and every page says what stylesheets it links."""

from __future__ import annotations

from crawler.extractors import extract
from crawler.extractors.base import IMAGES_MAX

URL = "https://news.example.com/2026/02/05/story.html"


def paragraphs(n: int = 6) -> str:
    return "".join(
        f"<p>第{i}段：研究团队在多个公开基准上进行了系统的实验，并与现有方法做了细致的对比分析，"
        f"结果显示新方法在第{i}项指标上明显领先，这一发现引起了业内的广泛关注和讨论。</p>"
        for i in range(1, n + 1)
    )


def html(body: str, head: str = "") -> bytes:
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>一篇新闻</title><meta property="og:title" content="一篇新闻">{head}</head><body>
<header><img src="/logo.png" alt="logo"></header>
<nav><a href="/">首页</a><img src="/nav.png"></nav>
{body}
<aside><h3>相关阅读</h3><img src="/ad.png">
<p>广告位招租，欢迎联系我们的商务团队洽谈合作事宜。</p></aside>
<footer><img src="/footer.png"><p>版权所有 © 2026 测试新闻网 京ICP备12345678号</p></footer>
</body></html>""".encode()


def test_generic_images_are_those_of_the_text_element() -> None:
    body = f"""<div class="wrap"><div class="content">
{paragraphs(3)}
<p><img src="data:image/gif;base64,R0lGODlh" data-src="/img/lazy.jpg" alt="lazy"></p>
<figure><img srcset="/img/s.jpg 320w, /img/l.jpg 1280w" alt="srcset">
<figcaption>图注</figcaption></figure>
<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline data"></p>
<svg width="10" height="10"><rect width="10" height="10"/></svg>
<p><img src="/img/pixel.gif" width="1" height="1"></p>
<div class="share"><button><img src="/img/share-icon.png"></button></div>
<p><img src="https://cdn.example.com/plain.png"></p>
{paragraphs(6)[-400:]}
</div></div>"""
    ex = extract(URL, html(body), "text/html; charset=utf-8")
    assert ex.extractor == "generic" and ex.status == "archived"
    assert ex.images == [
        "https://news.example.com/img/lazy.jpg",
        "https://news.example.com/img/l.jpg",
        "https://cdn.example.com/plain.png",
    ]


def test_a_stray_paragraph_does_not_widen_the_element_to_the_page() -> None:
    """Nine paragraphs in the content, one in the footer's neighbour: the content's images."""
    body = f"""<div id="main"><div class="post">{paragraphs(9)}<img src="/img/in.jpg"></div>
<div class="below"><img src="/img/out.jpg">{paragraphs(1)}</div></div>"""
    ex = extract(URL, html(body), "text/html")
    assert ex.images == ["https://news.example.com/img/in.jpg"]


def test_a_page_of_thousands_of_images_keeps_a_bounded_list() -> None:
    many = "".join(f'<img src="/img/{i}.png">' for i in range(3000))
    ex = extract(
        URL, html(f"<article><h1>一篇新闻</h1>{paragraphs()}{many}</article>"), "text/html"
    )
    assert len(ex.images) == IMAGES_MAX
    assert ex.images[0] == "https://news.example.com/img/0.png"


def test_styles_are_the_stylesheets_and_fonts_the_page_links() -> None:
    head = """<link rel="stylesheet" href="/css/site.css">
<link rel="alternate stylesheet" href="/css/contrast.css">
<link rel="preload" as="font" href="/f/a.woff2" crossorigin>
<link rel="preload" as="script" href="/js/app.js">
<link rel="icon" href="/favicon.ico">
<style>@import url("/css/print.css"); @font-face{font-family:B;src:url(/f/b.woff)}
body{background:url(/img/texture.png)}</style>"""
    ex = extract(URL, html(f"<article>{paragraphs()}</article>", head), "text/html")
    assert ex.styles == [
        "https://news.example.com/css/site.css",
        "https://news.example.com/f/a.woff2",
        "https://news.example.com/css/print.css",
        "https://news.example.com/f/b.woff",
    ]


def test_a_site_extractor_keeps_its_container_images() -> None:
    """WeChat's container (#js_content) is its body: lazy data-src images, in order."""
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head>
<body id="activity-detail"><div id="js_article"><h1 id="activity-name">标题文字</h1>
<div id="js_content" style="visibility: hidden;">{paragraphs()}
<p><img data-src="https://mmbiz.qpic.cn/mmbiz_png/A/640?wx_fmt=png" src="data:image/svg+xml,x"></p>
<p><img data-src="https://mmbiz.qpic.cn/mmbiz_jpg/B/640?wx_fmt=jpeg"></p></div></div></body></html>"""
    ex = extract("https://mp.weixin.qq.com/s/abc", page.encode(), "text/html")
    assert ex.extractor == "weixin"
    assert ex.images == [
        "https://mmbiz.qpic.cn/mmbiz_png/A/640?wx_fmt=png",
        "https://mmbiz.qpic.cn/mmbiz_jpg/B/640?wx_fmt=jpeg",
    ]
