"""The parsed page's bounds: however many tags a page has, at most MAX_TAGS are parsed."""

from __future__ import annotations

from crawler.extractors import extract
from crawler.extractors.decode import MAX_HTML_BYTES, MAX_TEXT_BYTES, decode_text
from crawler.extractors.page import MAX_TAGS, bounded, parse_html


def test_a_page_within_the_tag_bound_is_parsed_whole() -> None:
    html = "<html><body>" + "<p>段落</p>" * 100 + "</body></html>"
    assert bounded(html) == html
    assert len(parse_html(html).findall(".//p")) == 100


def test_a_page_of_130000_links_is_parsed_up_to_the_bound() -> None:
    links = "".join(f'<a href="/l/{i}">链接{i}</a> ' for i in range(130_000))
    html = f"<html><body><article><h1>链接页</h1><p>{links}</p></article></body></html>"
    tree = parse_html(html)
    elements = sum(1 for _ in tree.iter())
    assert elements <= MAX_TAGS // 2 + 10  # a start and an end tag each
    assert tree.findall(".//a")[0].get("href") == "/l/0"  # the page's beginning is kept


def test_megabytes_of_nested_tags_are_bounded() -> None:
    html = "<html><body>" + "<div>" * 2_000_000 + "x</body></html>"
    assert len(bounded(html)) < 6 * MAX_TAGS
    result = extract("https://example.com/nested", html.encode(), "text/html")
    assert result.status == "failed"  # no text, and no crash, no minutes


def test_the_cut_counts_tags_not_less_than_signs() -> None:
    text = "<p>" + "1 < 2 " * (MAX_TAGS * 2) + "</p>"
    assert bounded(text) == text  # "<" in text is no tag


def test_text_bodies_are_decoded_up_to_their_bound() -> None:
    assert MAX_TEXT_BYTES <= MAX_HTML_BYTES
    body = b"a" * (MAX_TEXT_BYTES + 1000)
    assert len(decode_text(body, "text/plain; charset=utf-8")) == MAX_TEXT_BYTES


def test_the_crawl_cuts_bodies_where_the_extractors_stop_reading() -> None:
    from crawler import settings

    assert settings.EXTRACT_MAX_BYTES >= MAX_HTML_BYTES
