"""crawler.outcomes: status and reason of an answer, of a failed request, and of a fetch."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.utils._download_handlers import wrap_twisted_exceptions
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.items import Extracted, FetchOutcome, Status
from crawler.netsafety import RefusedURL
from crawler.outcomes import (
    Described,
    describe_exception,
    describe_failure,
    describe_response,
    settle,
    status_for_http,
)

URL = "https://www.example.com/news/1.html"


def test_failures_without_our_middlewares_keep_precise_reasons() -> None:
    request = Request("http://example.com/a", meta={"retry_times": 2})
    failure = Failure(IgnoreRequest("max redirections reached"))
    failure.request = request  # type: ignore[attr-defined]
    assert describe_failure(failure) == ("failed", "too many redirects (3 tries)")
    cancelled = Failure(DownloadCancelledError("cancelled"))
    cancelled.request = Request("http://example.com/b")  # type: ignore[attr-defined]
    assert describe_failure(cancelled) == ("failed", "download cancelled: cancelled")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (200, (None, None)),
        (204, (None, None)),
        (404, (Status.GONE, "HTTP 404")),
        (410, (Status.GONE, "HTTP 410")),
        (451, (Status.GONE, "HTTP 451")),
        (401, (Status.BLOCKED, "HTTP 401")),
        (403, (Status.BLOCKED, "HTTP 403")),
        (429, (Status.BLOCKED, "HTTP 429")),
        (500, (Status.FAILED, "HTTP 500")),
        (503, (Status.FAILED, "HTTP 503")),
        (302, (Status.FAILED, "HTTP 302")),
    ],
)
def test_status_for_http(code: int, expected: tuple[Status | None, str | None]) -> None:
    assert status_for_http(code) == expected


def test_describe_response_counts_the_tries_and_prefers_a_decided_outcome() -> None:
    request = Request(URL, meta={"retry_times": 1})
    assert describe_response(Response(URL, status=500, request=request)) == (
        Status.FAILED,
        "HTTP 500 (2 tries)",
    )
    request.meta["sources_outcome"] = (Status.BLOCKED, "HTTP 429: Retry-After 9999 s")
    assert describe_response(Response(URL, status=429, request=request)) == (
        Status.BLOCKED,
        "HTTP 429: Retry-After 9999 s (2 tries)",
    )
    # a page to read has no reason, however often it was tried
    assert describe_response(Response(URL, status=200, request=request.replace(meta={}))) == (
        None,
        None,
    )


def test_describe_response_of_a_response_without_request() -> None:
    assert describe_response(Response(URL, status=404)) == (Status.GONE, "HTTP 404")


class _Refused(Described):
    status = Status.REFUSED


@pytest.mark.parametrize(
    ("exc", "meta", "expected"),
    [
        (CannotResolveHostError("x.test"), {}, (Status.FAILED, "DNS lookup failed: x.test")),
        (
            DownloadTimeoutError("Getting http://a/ took longer than 2.0 seconds."),
            {"retry_times": 2},
            (Status.FAILED, "timeout: Getting http://a/ took longer than 2.0 seconds. (3 tries)"),
        ),
        (
            net.TimeoutError(),
            {},
            (Status.FAILED, "timeout: User timeout caused connection failure."),
        ),
        (DownloadConnectionRefusedError("x"), {}, (Status.FAILED, "connection refused")),
        (net.ConnectionRefusedError(), {}, (Status.FAILED, "connection refused")),
        (
            ResponseDataLossError("lost"),
            {"sources_expected_bytes": 10, "sources_bytes": 4},
            (Status.FAILED, "truncated body: 4 of 10 bytes came before the connection closed"),
        ),
        (
            ResponseDataLossError("lost"),
            {},
            (Status.FAILED, "truncated body: the connection closed before the whole body came"),
        ),
        (
            ResponseNeverReceived([Failure(net.ConnectionLost())]),
            {},
            (
                Status.FAILED,
                "no response: the connection was reset or broken before any response",
            ),
        ),
        (
            ResponseFailed([Failure(net.ConnectionDone())]),
            {},
            (
                Status.FAILED,
                "connection lost: the connection was closed by the server during the response",
            ),
        ),
        (DownloadFailedError("x"), {}, (Status.FAILED, "connection lost: x")),
        (
            RefusedURL("refused http://127.0.0.1/: loopback address 127.0.0.1"),
            {"retry_times": 0},
            (Status.REFUSED, "refused http://127.0.0.1/: loopback address 127.0.0.1"),
        ),
        (
            IgnoreRequest("Forbidden by robots.txt"),
            {},
            (Status.REFUSED, "forbidden by robots.txt: Forbidden by robots.txt"),
        ),
        (IgnoreRequest("ignored"), {}, (Status.SKIPPED, "ignored")),
        (_Refused("said no"), {}, (Status.REFUSED, "said no")),
        (
            DownloadCancelledError("c"),
            {"sources_too_large": "over DOWNLOAD_MAXSIZE (5 bytes), stopped after 9 bytes"},
            (Status.SKIPPED, "too large: over DOWNLOAD_MAXSIZE (5 bytes), stopped after 9 bytes"),
        ),
        (ValueError("boom"), {}, (Status.FAILED, "ValueError: boom")),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_describe_exception(
    exc: BaseException, meta: dict[str, Any], expected: tuple[Status, str]
) -> None:
    assert describe_exception(exc, meta) == expected


def _scrapys_dns_error(host: str) -> BaseException:
    """A DNS failure as Scrapy 2.19's HTTP download handler raises it."""
    try:
        with wrap_twisted_exceptions():
            raise net.DNSLookupError(host)
    except CannotResolveHostError as exc:
        return exc
    raise AssertionError("not wrapped")  # pragma: no cover


@pytest.mark.parametrize(
    "exc",
    [_scrapys_dns_error("no-such-host.test"), net.DNSLookupError("no-such-host.test")],
    ids=["as-scrapy-raises-it", "twisted"],
)
def test_a_dns_failure_names_the_host_once(exc: BaseException) -> None:
    status, reason = describe_exception(exc, {})
    assert status == Status.FAILED
    assert reason.startswith("DNS lookup failed: ") and "no-such-host.test" in reason
    assert reason.count("DNS lookup failed") == 1, reason


def _outcome(**fields: Any) -> FetchOutcome:
    return FetchOutcome(link_id="0" * 32, canonical_url=URL, **fields)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_outcome(), (Status.FAILED, "nothing was extracted")),
        (_outcome(status=Status.GONE, reason="HTTP 404"), (Status.GONE, "HTTP 404")),
        (
            _outcome(extracted=Extracted(status=Status.ARCHIVED, text="x")),
            (Status.ARCHIVED, None),
        ),
        (
            _outcome(extracted=Extracted(status=Status.BLOCKED, reason="verification page")),
            (Status.BLOCKED, "verification page"),
        ),
        (
            _outcome(
                status=Status.BLOCKED,
                reason="HTTP 429",
                extracted=Extracted(status=Status.ARCHIVED, text="x"),
            ),
            (Status.BLOCKED, "HTTP 429"),
        ),
    ],
    ids=["nothing-read", "answer-decided", "read-archived", "read-blocked", "answer-wins"],
)
def test_settle_prefers_the_answer_over_what_was_read(
    item: FetchOutcome, expected: tuple[Status, str | None]
) -> None:
    assert settle(item) == expected


@pytest.mark.parametrize(
    ("code", "location", "expected"),
    [
        (101, None, (Status.FAILED, "HTTP 101: an interim answer came as the final one")),
        (600, None, (Status.FAILED, "HTTP 600: not an HTTP status code (100-599)")),
        (999, None, (Status.FAILED, "HTTP 999: not an HTTP status code (100-599)")),
        (0, None, (Status.FAILED, "HTTP 0: not an HTTP status code (100-599)")),
        (302, "", (Status.FAILED, "HTTP 302: a redirect without a Location")),
        (
            301,
            "ftp://example.com/x",
            (
                Status.REFUSED,
                "HTTP 301: refused redirect to unsupported scheme 'ftp' (ftp://example.com/x)",
            ),
        ),
        (
            307,
            "https://example.com/next",
            (
                Status.FAILED,
                "HTTP 307: a redirect that was not followed (https://example.com/next)",
            ),
        ),
        (
            300,
            "https://example.com/x",
            (Status.FAILED, "HTTP 300: a redirect status that is not followed"),
        ),
    ],
)
def test_status_for_http_tells_unusual_answers_for_what_they_are(
    code: int, location: str | None, expected: tuple[Status, str]
) -> None:
    assert status_for_http(code, location) == expected


@pytest.mark.parametrize(
    ("location", "status", "reason"),
    [
        (b"file:///etc/passwd", Status.REFUSED, "unsupported scheme 'file'"),
        (b"javascript:alert(1)", Status.REFUSED, "unsupported scheme 'javascript'"),
        (b"data:text/html,<p>x</p>", Status.REFUSED, "unsupported scheme 'data'"),
        (b"  ", Status.FAILED, "without a Location"),
        (b"http://[::1", Status.FAILED, "not followed"),  # not even a URL
    ],
)
def test_describe_response_reads_the_location_of_an_unfollowed_redirect(
    location: bytes, status: Status, reason: str
) -> None:
    response = Response(URL, status=302, headers={"Location": location}, request=Request(URL))
    got = describe_response(response)
    assert got[0] == status and reason in str(got[1]), got


def test_release_drops_the_frames_a_failure_holds() -> None:
    from crawler.outcomes import release

    def inflate() -> None:
        buffer = bytearray(1024)  # stands for a bomb's inflated bytes
        raise ValueError(len(buffer))

    try:
        try:
            inflate()
        except ValueError as exc:
            raise IgnoreRequest("too large") from exc
    except IgnoreRequest:
        failure = Failure()
    assert failure.value.__cause__.__traceback__ is not None
    release(failure)
    assert failure.value.__traceback__ is None
    assert failure.value.__cause__.__traceback__ is None
    assert failure.tb is None
