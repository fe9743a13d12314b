"""RedirectGuardMiddleware and MetaRefreshGuardMiddleware in process: Scrapy's redirects, with
loops and over-long chains ended with a reason, and a cited link's hops never filtered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.misc import build_from_crawler
from twisted.python.failure import Failure

from crawler.items import Status
from crawler.middlewares.redirects import (
    MetaRefreshGuardMiddleware,
    RedirectGuardMiddleware,
    RedirectLoop,
    TooManyRedirects,
)
from crawler.outcomes import describe_failure
from tests.conftest import close_archive, spider_crawler

A = "https://news.example.com/a"
B = "https://news.example.com/b"
Guard = type[RedirectGuardMiddleware] | type[MetaRefreshGuardMiddleware]


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    crawler = spider_crawler(tmp_path, REDIRECT_MAX_TIMES=3)
    yield crawler
    close_archive(crawler)


@pytest.fixture
def redirect(crawler: Crawler) -> RedirectGuardMiddleware:
    return RedirectGuardMiddleware.from_crawler(crawler)


@pytest.fixture
def refresh(crawler: Crawler) -> MetaRefreshGuardMiddleware:
    return MetaRefreshGuardMiddleware.from_crawler(crawler)


def cited(url: str = A, **meta: Any) -> Request:
    """A cited page's request (the spider marks it with its link id)."""
    return Request(url, meta={"link_id": "0" * 32, **meta})


def moved(request: Request, to: str, status: int = 302) -> Response:
    return Response(request.url, status=status, headers={"Location": to}, request=request)


def refreshing(request: Request, to: str) -> HtmlResponse:
    body = f'<html><head><meta http-equiv="refresh" content="0; url={to}"></head></html>'
    return HtmlResponse(request.url, body=body.encode(), request=request)


def follow(mw: RedirectGuardMiddleware, request: Request, to: str) -> Request:
    result = mw.process_response(request, moved(request, to))
    assert isinstance(result, Request)
    return result


def reason_of(request: Request, exc: BaseException) -> tuple[Status, str]:
    failure = Failure(exc)
    failure.request = request  # type: ignore[attr-defined]
    return describe_failure(failure)


# --- switched on and off --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "setting"),
    [
        (RedirectGuardMiddleware, "REDIRECT_ENABLED"),
        (MetaRefreshGuardMiddleware, "METAREFRESH_ENABLED"),
    ],
)
def test_scrapys_own_switch_turns_a_guard_off(tmp_path: Path, cls: Guard, setting: str) -> None:
    crawler = spider_crawler(tmp_path, **{setting: False})
    try:
        with pytest.raises(NotConfigured):
            build_from_crawler(cls, crawler)
    finally:
        close_archive(crawler)


def test_the_guards_replace_scrapys_redirect_middlewares(crawler: Crawler) -> None:
    middlewares = crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.redirect.RedirectMiddleware"] is None
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["crawler.middlewares.redirects.RedirectGuardMiddleware"] == 600
    assert middlewares["crawler.middlewares.redirects.MetaRefreshGuardMiddleware"] == 580


# --- HTTP redirects -------------------------------------------------------------------------


def test_a_redirect_is_followed_as_scrapy_follows_it(redirect: RedirectGuardMiddleware) -> None:
    request = cited()
    hop = follow(redirect, request, B)
    assert hop.url == B
    assert hop.meta["redirect_urls"] == [A]
    assert hop.meta["redirect_times"] == 1
    assert hop.meta["link_id"] == request.meta["link_id"]


def test_a_cited_links_hop_skips_the_duplicate_filter(redirect: RedirectGuardMiddleware) -> None:
    assert follow(redirect, cited(), B).dont_filter


def test_a_hop_of_another_request_keeps_scrapys_filtering(
    redirect: RedirectGuardMiddleware,
) -> None:
    digest = Request(A, meta={"digest_source": A})
    assert not follow(redirect, digest, B).dont_filter


def test_an_answer_that_is_no_redirect_passes(redirect: RedirectGuardMiddleware) -> None:
    request = cited()
    for response in (Response(A, status=200, request=request), moved(request, B, status=404)):
        assert redirect.process_response(request, response) is response


def test_a_page_redirecting_to_itself_ends_as_a_loop(redirect: RedirectGuardMiddleware) -> None:
    request = cited()
    hop = follow(redirect, request, A)  # once may be a cookie check: followed
    with pytest.raises(RedirectLoop) as info:
        redirect.process_response(hop, moved(hop, A))
    assert isinstance(info.value, IgnoreRequest)
    assert reason_of(hop, info.value) == (
        Status.FAILED,
        f"redirect loop: {A} again after 2 redirects",
    )


def test_two_pages_redirecting_to_each_other_end_as_a_loop(tmp_path: Path) -> None:
    crawler = spider_crawler(tmp_path, REDIRECT_MAX_TIMES=10)
    try:
        mw = RedirectGuardMiddleware.from_crawler(crawler)
        request = follow(mw, cited(), B)  # a -> b
        request = follow(mw, request, A)  # b -> a
        request = follow(mw, request, B)  # a -> b: b the second time
        with pytest.raises(RedirectLoop, match=f"redirect loop: {A} again after 4 redirects"):
            mw.process_response(request, moved(request, A))
    finally:
        close_archive(crawler)


def test_a_chain_longer_than_redirect_max_times_is_named(
    redirect: RedirectGuardMiddleware,
) -> None:
    request = cited()
    for n in range(3):
        request = follow(redirect, request, f"https://news.example.com/{n}")
    last = "https://news.example.com/too-far"
    with pytest.raises(TooManyRedirects) as info:
        redirect.process_response(request, moved(request, last))
    assert str(info.value) == (
        f"too many redirects: more than REDIRECT_MAX_TIMES (3), the last to {last}"
    )
    assert isinstance(info.value.__cause__, IgnoreRequest)
    assert reason_of(request, info.value) == (Status.FAILED, str(info.value))


def test_dont_redirect_is_honoured(redirect: RedirectGuardMiddleware) -> None:
    request = cited(dont_redirect=True)
    response = moved(request, A)
    assert redirect.process_response(request, response) is response


# --- meta refresh ---------------------------------------------------------------------------


def test_a_meta_refresh_is_followed(refresh: MetaRefreshGuardMiddleware) -> None:
    request = cited()
    hop = refresh.process_response(request, refreshing(request, B))
    assert isinstance(hop, Request)
    assert hop.url == B and hop.meta["redirect_urls"] == [A] and hop.dont_filter


def test_a_page_refreshing_to_itself_ends_as_a_loop(refresh: MetaRefreshGuardMiddleware) -> None:
    request = cited()
    hop = refresh.process_response(request, refreshing(request, A))
    assert isinstance(hop, Request)
    with pytest.raises(RedirectLoop, match=f"redirect loop: {A} again after 2 redirects"):
        refresh.process_response(hop, refreshing(hop, A))


def test_a_refresh_chain_longer_than_redirect_max_times_is_named(
    refresh: MetaRefreshGuardMiddleware,
) -> None:
    request = cited()
    for n in range(3):
        hop = refresh.process_response(request, refreshing(request, f"{A}/{n}"))
        assert isinstance(hop, Request)
        request = hop
    with pytest.raises(TooManyRedirects, match=r"more than REDIRECT_MAX_TIMES \(3\)"):
        refresh.process_response(request, refreshing(request, f"{A}/far"))


def test_a_page_without_refresh_passes(refresh: MetaRefreshGuardMiddleware) -> None:
    request = cited()
    response = HtmlResponse(A, body=b"<html><body>article</body></html>", request=request)
    assert refresh.process_response(request, response) is response
