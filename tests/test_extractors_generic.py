"""The generic path at its root: markup trafilatura misreads, bodies it throws away, stories it
runs into, teaser feeds, metadata hygiene, and pages that are walls rather than articles."""

from __future__ import annotations

import json

import pytest

from crawler.extractors import extract
from crawler.extractors.base import plausible_author
from crawler.extractors.dates import parse_date
from crawler.items import Status

URL = "https://news.example.com/2026/03/story.html"


def page(body: str, head: str = "<title>Story</title>") -> bytes:
    """A whole HTML page around a body."""
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


def paragraphs(n: int, words: str = "the council voted on the harbour budget") -> str:
    """n distinct paragraphs of prose."""
    return "".join(
        f"<p>Paragraph {i}: after a long evening session, {words} and the schools plan, "
        f"with {i * 7} members speaking before the final count was read out.</p>"
        for i in range(n)
    )


# ---------------------------------------------------------------------------------------------
# Markup


def test_react_comment_splits_do_not_cut_paragraphs_short() -> None:
    # React renders `When {title}{name}` as `When <!-- -->President<!-- --> Smith`: left in the
    # tree, the comments make trafilatura keep only "When" of every such paragraph
    story = "".join(
        f"<p>When <!-- -->President<!-- --> Smith reached town number {i} on Monday, a crowd of "
        f"<!-- -->{i * 1000}<!-- --> people had waited for hours in the rain to greet him.</p>"
        for i in range(20)
    )
    body = f"<div class='story'><h1>Visit</h1>{paragraphs(15)}{story}</div>"
    result = extract(URL, page(body), "text/html")
    assert result.status == Status.ARCHIVED
    assert "When President Smith reached town number 7 on Monday" in result.text
    assert "a crowd of 7000 people had waited" in result.text
    assert "When\n" not in result.text


def test_processing_instructions_are_not_text() -> None:
    body = (
        f"<div class='story'><?php echo 1; ?><h1>Visit</h1>{paragraphs(20)}<?xml-stylesheet?></div>"
    )
    result = extract(URL, page(body), "text/html")
    assert "Paragraph 19:" in result.text
    assert "php" not in result.text and "xml-stylesheet" not in result.text


def test_a_precision_pass_that_throws_the_body_away_falls_back_to_a_balanced_one() -> None:
    # trafilatura's precision-only rules drop a wrapper styled with a border; readability
    # dislikes its "footer" class too: precision keeps the copyright line alone
    body = (
        "<nav><a href='/'>Home</a></nav>"
        "<div class='article-wrap footer-note' style='border:0'>"
        f"{paragraphs(30)}</div>"
        "<div class='legal'><p>Copyright 2026 City Daily. All rights reserved. No part of this "
        "site may be reproduced without permission of the publisher.</p></div>"
    )
    result = extract(URL, page(body), "text/html")
    assert result.status == Status.ARCHIVED
    assert "Paragraph 0:" in result.text and "Paragraph 29:" in result.text


def test_the_article_s_own_element_wins_when_the_text_runs_into_the_next_story() -> None:
    # an endless-scroll page: the next story is rendered below the cited one
    own = paragraphs(6, "the council voted on the harbour budget")
    other = "".join(
        f"<p>Other story {i}: the football club signed a new goalkeeper from the south, "
        f"paying {i} million for a player who spent four seasons on the bench.</p>"
        for i in range(12)
    )
    body = (
        f"<main><article><h1>Harbour budget passes</h1>{own}</article>"
        f"<article><h2>Club signs goalkeeper</h2>{other}</article></main>"
    )
    result = extract(URL, page(body, "<title>Harbour budget passes</title>"), "text/html")
    assert "Paragraph 5:" in result.text
    assert "goalkeeper" not in result.text


# ---------------------------------------------------------------------------------------------
# Teasers


@pytest.mark.parametrize(
    "heading", ["You may also like", "Você pode gostar", "Baca juga", "相关阅读", "Read next"]
)
def test_a_feed_of_teasers_after_a_short_article_ends_it(heading: str) -> None:
    teasers = "".join(
        f"<li><a href='/s/{i}'>Headline of another story number {i}</a> <span>3 Mar</span></li>"
        for i in range(14)
    )
    body = (
        f"<article><h1>Short news</h1>{paragraphs(3)}<h3>{heading}</h3><ul>{teasers}</ul></article>"
    )
    result = extract(URL, page(body, "<title>Short news</title>"), "text/html")
    assert "Paragraph 2:" in result.text
    assert "another story" not in result.text
    assert heading not in result.text


def test_an_inline_teaser_line_is_dropped_and_the_article_goes_on() -> None:
    body = (
        f"<article><h1>Harbour budget</h1>{paragraphs(3)}"
        "<p>Baca juga: Pelabuhan baru dibuka minggu depan</p>"
        f"{paragraphs(3, 'the mayor thanked the harbour staff')}</article>"
    )
    result = extract(URL, page(body, "<title>Harbour budget</title>"), "text/html")
    assert "Pelabuhan" not in result.text
    assert "the mayor thanked the harbour staff" in result.text


# ---------------------------------------------------------------------------------------------
# Metadata hygiene


@pytest.mark.parametrize(
    ("author", "site", "ok"),
    [
        ("林夏", None, True),
        ("Jane Doe", "City Daily", True),
        ("石佳/中国青年报", None, True),
        ("1234567", None, False),
        ("12/03", None, False),
        ("新浪财经", None, False),
        ("人民日报", None, False),
        ("City Daily", "City Daily", False),
        ("Reuters Staff", None, False),
        ("https://example.com/author/jane", None, False),
        ("", None, False),
    ],
)
def test_plausible_author(author: str, site: str | None, ok: bool) -> None:
    assert plausible_author(author, site) is ok


def test_digits_and_outlet_names_are_no_author() -> None:
    for value in ("20260301", "新浪财经"):
        head = f"<title>Story</title><meta name='author' content='{value}'>"
        result = extract(URL, page(f"<article><h1>Story</h1>{paragraphs(8)}</article>", head))
        assert result.author is None, value


def test_the_date_of_article_published_time_and_json_ld_beats_page_heuristics() -> None:
    ld = json.dumps({"@type": "NewsArticle", "datePublished": "2026-03-02T08:00:00+08:00"})
    heuristic = "<span id='publish_time'>2025-12-31 10:00</span>"
    body = f"{heuristic}<article><h1>Story</h1>{paragraphs(8)}</article>"
    from_ld = extract(URL, page(body, f"<script type='application/ld+json'>{ld}</script>"))
    assert from_ld.published == "2026-03-02T08:00:00+08:00"
    meta = "<meta property='article:published_time' content='2026-03-01T09:30:00+00:00'>"
    from_meta = extract(URL, page(body, meta + f"<script type='application/ld+json'>{ld}</script>"))
    assert from_meta.published == "2026-03-01T09:30:00+00:00"


def test_json_ld_names_the_author_when_no_meta_does() -> None:
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": "City Daily"},
                {
                    "@type": "NewsArticle",
                    "author": [
                        {"@type": "Person", "name": "Jane Doe"},
                        {"@type": "Organization", "name": "City Daily"},
                    ],
                },
            ],
        }
    )
    head = f"<title>Story</title><script type='application/ld+json'>{ld}</script>"
    result = extract(URL, page(f"<article><h1>Story</h1>{paragraphs(8)}</article>", head))
    assert result.author == "Jane Doe"


@pytest.mark.parametrize(
    "value", ["昨天 10:20", "3小时前", "刚刚", "今天 08:00", "2 hours ago", "yesterday", "前天"]
)
def test_relative_dates_are_refused(value: str) -> None:
    assert parse_date(value) is None


def test_a_page_that_only_gives_a_relative_date_has_none() -> None:
    body = f"<span id='publish_time'>3小时前</span><article><h1>Story</h1>{paragraphs(8)}</article>"
    result = extract(URL, page(body))
    assert result.published is None


# ---------------------------------------------------------------------------------------------
# Walls


@pytest.mark.parametrize(
    ("body", "head", "words"),
    [
        (
            "<div id='cf-wrapper'><p>Checking if the site connection is secure</p></div>"
            "<script>window._cf_chl_opt={cvId: '3'};</script>",
            "<title>Just a moment...</title>",
            "Cloudflare challenge",
        ),
        (
            "<script src='https://ct.captcha-delivery.com/c.js'></script>",
            "<title>news.example.com</title>",
            "DataDome",
        ),
        (
            "<noscript>You need to enable JavaScript to run this app.</noscript>"
            "<div id='root'></div>"
            "<script src='/static/js/main.js'></script>",
            "<title>News</title>",
            "script-only page",
        ),
        (
            "<div id='__next'></div><script>" + "var x = 1;" * 200 + "</script>",
            "<title>News</title>",
            "script-only page",
        ),
        (
            "<div class='login'><p>Sign in to continue reading</p></div>",
            "<title>x</title>",
            "login",
        ),
        ("<div class='mask'><p>登录后查看全文</p></div>", "<title>文章</title>", "login"),
    ],
)
def test_walls_and_script_shells_are_blocked_not_archived(body: str, head: str, words: str) -> None:
    result = extract(URL, page(body, head), "text/html")
    assert result.status == Status.BLOCKED  # never archived: not an article
    assert words in (result.reason or "")


@pytest.mark.parametrize(
    ("head", "body", "what"),
    [
        (
            "<title>x</title>",
            "<script src='/cdn-cgi/challenge-platform/h/b'></script>",
            "Cloudflare",
        ),
        ("<title>Attention Required! | Cloudflare</title>", "<p>x</p>", "Cloudflare"),
        ("<title>  DataDome</title>", "<p>x</p>", "DataDome"),
        ("<title>x</title>", "<div id='px-captcha'></div>", "PerimeterX"),
        ("<title>Access to this page has been denied</title>", "<p>x</p>", "PerimeterX"),
        ("<title>x</title>", "<script>window.gokuProps = {};</script>", "AWS WAF"),
        (
            "<title>Access Denied</title>",
            "<p>You don't have permission.</p><p>Reference&#32;&#35;18.1a2b3c</p>",
            "Akamai",
        ),
        ("<title>x</title>", "<img src='https://errors.edgesuite.net/x.png'>", "Akamai"),
        ("<title>滑动验证页面</title>", "<div id='nc_1_wrapper'></div>", "captcha page"),
        (
            "<title>x</title>",
            "<script src='https://turing.captcha.qcloud.com/TCaptcha.js'>",
            "captcha",
        ),
    ],
)
def test_each_bot_wall_is_told_by_its_marker_or_its_title(head: str, body: str, what: str) -> None:
    result = extract(URL, page(body, head), "text/html")
    assert result.status == Status.BLOCKED
    assert f"bot wall ({what}" in (result.reason or "")


def test_a_title_that_only_names_a_wall_later_is_no_wall() -> None:
    """Titles are matched where they start ("<title>Just a moment..." is Cloudflare's)."""
    head = "<title>Why sites say Just a moment... before you read</title>"
    body = f"<article><h1>Walls</h1>{paragraphs(6, 'Access Denied')}</article>"
    assert extract(URL, page(body, head), "text/html").status == Status.ARCHIVED


def test_an_article_that_mentions_javascript_is_not_a_shell() -> None:
    prose = paragraphs(6, "you need to enable JavaScript")
    body = f"<article><h1>Enable JavaScript?</h1>{prose}</article>"
    result = extract(URL, page(body, "<title>Enable JavaScript?</title>"))
    assert result.status == Status.ARCHIVED
