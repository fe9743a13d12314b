"""Decoding: Chinese pages in simplified and traditional encodings, declared, wrong or missing."""

from __future__ import annotations

import pytest

from crawler.extractors import extract
from crawler.items import Status

ZH = [
    "本市首批人工智能应用示范场景名单日前公布，共有二十个项目入选，覆盖医疗、交通、制造等领域。",
    "市科技局有关负责人表示，将对入选项目给予资金和算力支持，并组织企业开展供需对接活动。",
    "专家认为，示范场景的建设有助于推动新技术在实体经济中的落地应用，形成可复制的经验。",
]
TW = [
    "本市首批人工智慧應用示範場景名單日前公佈，共有二十個項目入選，涵蓋醫療、交通、製造等領域。",
    "市科技局有關負責人表示，將對入選項目給予資金和算力支援，並組織企業開展供需對接活動。",
    "專家認為，示範場景的建設有助於推動新技術在實體經濟中的落地應用，形成可複製的經驗。",
]


def page(title: str, paragraphs: list[str], head: str = "", nav: str = "首页 新闻") -> str:
    """A small news page."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head>{head}<title>{title}</title></head><body><div class='nav'>{nav}</div>"
        f"<h1>{title}</h1><div class='article'>{body}</div></body></html>"
    )


@pytest.mark.parametrize(
    ("encoding", "content_type", "head"),
    [
        ("gbk", "text/html; charset=gbk", ""),  # header only
        ("gbk", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'),
        ("gbk", None, ""),  # undeclared
        ("gb18030", "text/html; charset=gb2312", ""),  # gb2312 read as gb18030
        ("utf-8", "text/html; charset=utf-8", ""),
        ("utf-8", None, ""),
    ],
)
def test_simplified_chinese_encodings(encoding: str, content_type: str | None, head: str) -> None:
    paragraphs = [*ZH, "镕铄㐀𠀀这一段含有超出 GB2312 的字符。"] if encoding == "gb18030" else ZH
    body = page("示范场景名单公布", paragraphs, head).encode(encoding)
    result = extract("https://news.example.cn/a.html", body, content_type)
    assert result.status == Status.ARCHIVED
    assert result.title == "示范场景名单公布"
    for paragraph in paragraphs[:3]:
        assert paragraph in result.text
    if encoding == "gb18030":
        assert "镕铄㐀𠀀" in result.text


@pytest.mark.parametrize("head", ['<meta charset="big5">', ""])
def test_big5_declared_or_detected(head: str) -> None:
    body = page("示範場景名單公佈", TW, head, nav="首頁 新聞").encode("big5")
    result = extract("https://news.example.tw/a.html", body, "text/html")
    assert result.status == Status.ARCHIVED
    assert result.title == "示範場景名單公佈"
    assert TW[0] in result.text


def test_wrong_charset_header_is_overruled_by_the_bytes() -> None:
    body = page("示范场景名单公布", ZH).encode("gbk")
    result = extract("https://news.example.cn/a.html", body, "text/html; charset=utf-8")
    assert result.title == "示范场景名单公布"
    assert ZH[1] in result.text


def test_invalid_utf8_bytes_are_replaced_not_fatal() -> None:
    body = page("示范场景名单公布", ZH).encode("utf-8")
    broken = body.replace("专家认为".encode(), b"\xff\xfe\xc3")
    result = extract("https://news.example.cn/a.html", broken, "text/html; charset=utf-8")
    assert result.status == Status.ARCHIVED
    assert ZH[0] in result.text
    assert result.extra["encoding"] == "utf-8"
