"""Tests for crawler.urls: canonical URLs and their ids."""

from __future__ import annotations

import re

import pytest

from crawler.urls import (
    MAX_URL_LENGTH,
    TRACKING_PARAMS,
    InvalidURL,
    canonicalize,
    fetch_url,
    url_id,
)

WX = "https://mp.weixin.qq.com"
BIZ = "__biz=MzA3MzI4MjgzMw==&mid=2650912345&idx=1&sn=0123456789abcdef0123456789abcdef"

CANONICAL = [
    # generic: case, default ports, fragment, empty path, whitespace
    ("http://example.com", "http://example.com/"),
    ("  https://Example.COM/Path  \n", "https://example.com/Path"),
    ("HTTP://WWW.EXAMPLE.COM:80/a#frag", "http://www.example.com/a"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com:443/", "http://example.com:443/"),
    ("http://example.com:/x", "http://example.com/x"),
    ("https://example.com./a", "https://example.com/a"),
    ("https://exam\tple.com/a\nb", "https://example.com/ab"),
    ("https://example.com?", "https://example.com/"),
    ("https://example.com/?#", "https://example.com/"),
    ("https://user@example.com/", "https://example.com/"),
    # scheme kept: no http -> https in general
    ("http://www.ithome.com/0/812/345.htm", "http://www.ithome.com/0/812/345.htm"),
    ("https://www.qbitai.com/2026/01/123456.html", "https://www.qbitai.com/2026/01/123456.html"),
    ("http://news.aibase.com/zh/news/24567", "http://news.aibase.com/zh/news/24567"),
    # paths: dot segments, percent-encoding, non-ASCII
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a/b/..", "https://example.com/a/"),
    ("https://example.com/../x", "https://example.com/x"),
    ("https://example.com/%7euser/%41b", "https://example.com/~user/Ab"),
    ("https://example.com/a%2fb%3a", "https://example.com/a%2Fb%3A"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/%zz", "https://example.com/%25zz"),
    ("https://example.com/文章/中文", "https://example.com/%E6%96%87%E7%AB%A0/%E4%B8%AD%E6%96%87"),
    ("https://example.com/%e6%96%87", "https://example.com/%E6%96%87"),
    ("https://example.com/%D6%D0", "https://example.com/%D6%D0"),  # GBK escape kept
    ('https://example.com/"<>`{}|^', "https://example.com/%22%3C%3E%60%7B%7D%7C%5E"),
    ("https://example.com/a:b@c;d=e,f", "https://example.com/a:b@c;d=e,f"),
    # hosts: IDNA, IPv6
    ("https://例子.测试/", "https://xn--fsqu00a.xn--0zwm56d/"),
    ("https://例子。测试/", "https://xn--fsqu00a.xn--0zwm56d/"),
    ("https://XN--FSQU00A.xn--0zwm56d/", "https://xn--fsqu00a.xn--0zwm56d/"),
    ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
    ("http://[2001:DB8:0:0::1]:8080/", "http://[2001:db8::1]:8080/"),
    ("http://[::1]/", "http://[::1]/"),
    ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x"),
    ("http://my_host.example.com/", "http://my_host.example.com/"),
    # query: tracking removed, stable sort by name, encoding normalised
    ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),
    ("https://example.com/?b=2&a=2&a=1", "https://example.com/?a=2&a=1&b=2"),
    ("https://example.com/?utm_source=x&utm_Medium=y&id=7", "https://example.com/?id=7"),
    ("https://example.com/?UTM_CAMPAIGN=z&id=7", "https://example.com/?id=7"),
    ("https://example.com/?fbclid=1&gclid=2&spm=a.b&id=7", "https://example.com/?id=7"),
    ("https://example.com/?from=timeline&isappinstalled=0", "https://example.com/"),
    ("https://example.com/?si=abc&igshid=x&mc_cid=1&mc_eid=2", "https://example.com/"),
    ("https://example.com/?_hsenc=1&_hsmi=2&ref_src=twsrc", "https://example.com/"),
    ("https://example.com/?share_token=t&scene=1&clicktime=2&enterid=3", "https://example.com/"),
    ("https://example.com/?%75tm_source=x&q=1", "https://example.com/?q=1"),
    ("https://example.com/?a=1&&b=2&", "https://example.com/?a=1&b=2"),
    (
        "https://example.com/?q=a+b&r=%e4%b8%ad&s=x%2By",
        "https://example.com/?q=a+b&r=%E4%B8%AD&s=x%2By",
    ),
    ("https://example.com/?q=中文 x", "https://example.com/?q=%E4%B8%AD%E6%96%87%20x"),
    ("https://example.com/?flag&a=", "https://example.com/?a=&flag"),
    ("https://example.com/?next=/a/b?c", "https://example.com/?next=/a/b?c"),
    ("https://example.com/?ref=main", "https://example.com/?ref=main"),
    # WeChat long links: exactly __biz, mid, idx, sn, in that order; https
    (f"{WX}/s?{BIZ}&chksm=84e1abcd&scene=21#rd", f"{WX}/s?{BIZ}"),
    (
        "http://mp.weixin.qq.com/s?sn=0123456789abcdef0123456789abcdef&idx=1&mid=2650912345"
        "&__biz=MzA3MzI4MjgzMw%3D%3D&chksm=1&scene=126&sessionid=9&key=k&ascene=1&uin=u"
        "&devicetype=Windows&version=1&lang=zh_CN&exportkey=e&pass_ticket=p&wx_header=0"
        "#wechat_redirect",
        f"{WX}/s?{BIZ}",
    ),
    (f"https://MP.WEIXIN.QQ.COM:443/s?{BIZ}", f"{WX}/s?{BIZ}"),
    (f"{WX}/s/?{BIZ}&scene=1", f"{WX}/s?{BIZ}"),
    (f"{WX}/mp/appmsg/show?{BIZ}&scene=4#wechat_redirect", f"{WX}/mp/appmsg/show?{BIZ}"),
    # WeChat short links: path only
    (f"{WX}/s/AbC-dEf_123xyz", f"{WX}/s/AbC-dEf_123xyz"),
    ("http://mp.weixin.qq.com/s/AbC-dEf_123xyz?from=timeline&scene=2#rd", f"{WX}/s/AbC-dEf_123xyz"),
    (f"{WX}/s/AbC-dEf_123xyz?poc_token=HK&sessionid=1", f"{WX}/s/AbC-dEf_123xyz"),
    # WeChat temporary links without the four keys only lose tracking params
    (f"{WX}/s?src=11&timestamp=1&signature=x&from=a", f"{WX}/s?signature=x&src=11&timestamp=1"),
    # arXiv: the paper, unversioned, on https://arxiv.org/abs/
    ("https://arxiv.org/abs/2601.22401", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/pdf/2601.22401", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/pdf/2601.22401v2", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/pdf/2601.22401.pdf", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/pdf/2601.22401v3.pdf", "https://arxiv.org/abs/2601.22401"),
    ("http://arxiv.org/abs/2601.22401v1", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/abs/2601.22401v1/", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/html/2601.22401v1", "https://arxiv.org/abs/2601.22401"),
    ("https://www.arxiv.org/abs/2601.22401?context=cs", "https://arxiv.org/abs/2601.22401"),
    ("http://export.arxiv.org/abs/2601.22401#x", "https://arxiv.org/abs/2601.22401"),
    ("https://arxiv.org/abs/1501.0001v4", "https://arxiv.org/abs/1501.0001"),
    ("https://arxiv.org/abs/hep-th/9901001v2", "https://arxiv.org/abs/hep-th/9901001"),
    ("https://arxiv.org/pdf/hep-th/9901001", "https://arxiv.org/abs/hep-th/9901001"),
    ("https://arxiv.org/abs/math.GT/0309136", "https://arxiv.org/abs/math.GT/0309136"),
    ("http://arxiv.org/list/cs.AI/recent", "https://arxiv.org/list/cs.AI/recent"),
    # GitHub: owner/repo lower-cased, .git and root trailing slash dropped, deeper case kept
    ("https://github.com/OpenAI/Whisper", "https://github.com/openai/whisper"),
    ("https://github.com/OpenAI/Whisper/", "https://github.com/openai/whisper"),
    ("https://github.com/openai/whisper.git", "https://github.com/openai/whisper"),
    ("https://www.github.com/OpenAI/Whisper.git/", "https://github.com/openai/whisper"),
    ("http://github.com/openai/whisper", "https://github.com/openai/whisper"),
    ("https://github.com/OpenAI", "https://github.com/openai"),
    ("https://github.com/OpenAI/", "https://github.com/openai"),
    ("https://github.com/", "https://github.com/"),
    ("https://github.com", "https://github.com/"),
    ("https://github.com/OpenAI//", "https://github.com/openai"),
    (
        "https://github.com/openai/whisper.git/tree/main",
        "https://github.com/openai/whisper/tree/main",
    ),
    (
        "https://github.com/OpenAI/whisper/blob/Main/README.md#usage",
        "https://github.com/openai/whisper/blob/Main/README.md",
    ),
    ("https://github.com/a/b/tree/Dev/", "https://github.com/a/b/tree/Dev/"),
    ("https://github.com/a/b?utm_source=x&tab=readme", "https://github.com/a/b?tab=readme"),
]

INVALID = [
    ("file:///etc/passwd", "unsupported scheme 'file'"),
    ("javascript:alert(1)", "unsupported scheme 'javascript'"),
    ("mailto:a@b.c", "unsupported scheme 'mailto'"),
    ("ftp://example.com/x", "unsupported scheme 'ftp'"),
    ("data:text/html,<b>x</b>", "unsupported scheme 'data'"),
    ("//example.com/x", "missing scheme"),
    ("example.com/x", "missing scheme"),
    ("", "empty URL"),
    ("   ", "empty URL"),
    ("http://", "missing host"),
    ("http:///x", "missing host"),
    ("https://:80/", "missing host"),
    ("https://exa mple.com/", "invalid host"),
    ("https://a..b/", "invalid host"),
    ("https://a%2eb/", "invalid host"),
    ("https://<script>/", "invalid host"),
    ("http://[::1", "malformed URL"),
    ("http://[::g]/", "malformed URL"),
    ("http://[::1]x/", "invalid IPv6 host"),
    ("http://example.com:99999/", "invalid port '99999'"),
    ("http://example.com:0/", "invalid port '0'"),
    ("http://example.com:8o/", "invalid port '8o'"),
    ("https://user:secret@example.com/", "credentials"),
    ("https://:secret@example.com/", "credentials"),
    ("http://example.com\\@evil.com/", "backslash"),
    ("https://example.com/" + "a" * MAX_URL_LENGTH, "longer than 4096"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@pytest.mark.parametrize("url", [u for u, _ in CANONICAL])
def test_idempotent(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once


@pytest.mark.parametrize(("url", "message"), INVALID)
def test_invalid(url: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=re.escape(message)):
        canonicalize(url)


def test_invalid_url_is_value_error() -> None:
    assert issubclass(InvalidURL, ValueError)


def test_length_limit_is_inclusive() -> None:
    url = "https://example.com/"
    url += "a" * (MAX_URL_LENGTH - len(url))
    assert canonicalize(url) == url


def test_tracking_params_are_lower_case() -> None:
    assert all(p == p.lower() for p in TRACKING_PARAMS)
    assert {"spm", "from", "chksm", "scene", "fbclid", "gclid"} <= TRACKING_PARAMS


def test_url_id() -> None:
    canonical = canonicalize("https://arxiv.org/pdf/2601.22401v2")
    assert url_id(canonical) == url_id("https://arxiv.org/abs/2601.22401")
    assert len(url_id(canonical)) == 32
    assert int(url_id(canonical), 16) >= 0
    assert url_id(canonical) != url_id("https://arxiv.org/abs/2601.22402")
    # sha256("https://example.com/")
    assert url_id("https://example.com/") == "0f115db062b7c0dd030b16878c99dea5"


def test_spellings_share_an_id() -> None:
    spellings = [
        f"{WX}/s?{BIZ}&chksm=1&scene=21#rd",
        f"http://mp.weixin.qq.com/s?{BIZ.replace('==', '%3D%3D')}&from=timeline",
        f"{WX}/s?scene=2&{BIZ}",
    ]
    assert len({url_id(canonicalize(u)) for u in spellings}) == 1


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        (
            "https://x.com/OpenAI/status/1890123456789012345",
            "https://publish.twitter.com/oembed?url=https%3A%2F%2Ftwitter.com%2FOpenAI%2Fstatus"
            "%2F1890123456789012345&omit_script=1&dnt=1",
        ),
        (
            "https://twitter.com/a_b/status/123456789/photo/1",
            "https://publish.twitter.com/oembed?url=https%3A%2F%2Ftwitter.com%2Fa_b%2Fstatus"
            "%2F123456789&omit_script=1&dnt=1",
        ),
        ("https://x.com/home", "https://x.com/home"),
        ("https://x.com/OpenAI", "https://x.com/OpenAI"),
        ("https://linux.do/t/topic/123456", "https://linux.do/t/123456.json"),
        ("https://linux.do/t/some-slug/98765/3", "https://linux.do/t/98765.json"),
        ("https://linux.do/t/98765", "https://linux.do/t/98765.json"),
        ("https://linux.do/latest", "https://linux.do/latest"),
        ("https://example.com/t/topic/1", "https://example.com/t/topic/1"),
        ("not a url", "not a url"),
    ],
)
def test_fetch_url_reads_script_sites_through_their_api(url: str, fetched: str) -> None:
    assert fetch_url(url) == fetched


def test_a_url_that_escaping_makes_too_long_is_invalid() -> None:
    url = "https://example.com/" + "汉" * 500  # 520 characters, 4,520 once escaped
    assert len(url) < MAX_URL_LENGTH
    with pytest.raises(InvalidURL, match="longer than 4096 characters once escaped"):
        canonicalize(url)
