"""Status and reason of a response, of a request that failed, and of a fetch as a whole.

`describe_response` and `describe_failure` say what an answer (or its absence) means before
any page is read: ``gone`` (404, 410, 451: permanent), ``blocked`` (401, 403, 429, a Retry-After
too long to wait: tried again after a back-off), ``failed`` (network and server errors: tried
again by later runs), ``skipped`` (over DOWNLOAD_MAXSIZE: never tried again), ``refused``
(robots.txt, private or loopback address). A reason ends with ``(N tries)`` when the fetch was
retried within the run. `settle` decides what a whole fetch ends as, once its page was read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

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
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

try:  # Scrapy >= 2.13 limits decompression to DOWNLOAD_MAXSIZE with this exception
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded as _Inflated
except ImportError:  # pragma: no cover
    _Inflated = None  # type: ignore[assignment,misc]

from crawler.items import Extracted, FetchOutcome, Status
from crawler.netsafety import RefusedURL

GONE_HTTP = {404, 410, 451}
BLOCKED_HTTP = {401, 403, 429}

#: How a failed name lookup's reason starts (Twisted's own DNSLookupError message starts so).
_DNS = "DNS lookup failed: "

#: The message Scrapy's RedirectMiddleware gives when REDIRECT_MAX_TIMES is reached.
_MAX_REDIRECTS = "max redirections reached"


#: (status, reason) of an answer; a None status means the page is to be read.
Verdict = tuple[Status | None, str | None]


class Described(IgnoreRequest):
    """A request dropped by one of our middlewares with its status and reason already known."""

    status: Status = Status.FAILED


#: Redirect codes Scrapy's RedirectMiddleware follows when they carry a usable Location.
REDIRECT_HTTP = frozenset({301, 302, 303, 307, 308})
#: Schemes a redirect may lead to.
_FETCHABLE = ("http", "https")


def status_for_http(code: int, location: str | None = None) -> Verdict:
    """Status and reason for an HTTP status code; (None, None) when the page is to be read.

    Codes outside 400-599 that no middleware consumed are told for what they are: an interim
    1xx answer given as the final one, a redirect that was not followed, a code no HTTP status
    has. They end `failed` (a later run tries again). `location` is a 3xx answer's Location
    made absolute ("" when it has none; None: not known): a redirect without one, or to a
    scheme that is not fetched (file:, gopher: ..., then `refused`), says so.
    """
    if 200 <= code < 300:
        return None, None
    if code in GONE_HTTP:
        return Status.GONE, f"HTTP {code}"
    if code in BLOCKED_HTTP:
        return Status.BLOCKED, f"HTTP {code}"
    if 400 <= code < 600:
        return Status.FAILED, f"HTTP {code}"
    if 100 <= code < 200:
        return Status.FAILED, f"HTTP {code}: an interim answer came as the final one"
    if 300 <= code < 400:
        return (
            _redirect(code, location)
            if location is not None
            else (
                Status.FAILED,
                f"HTTP {code}",
            )
        )
    return Status.FAILED, f"HTTP {code}: not an HTTP status code (100-599)"


def _redirect(code: int, location: str) -> Verdict:
    """Why a 3xx answer was not followed."""
    if code not in REDIRECT_HTTP:
        return Status.FAILED, f"HTTP {code}: a redirect status that is not followed"
    if not location.strip():
        return Status.FAILED, f"HTTP {code}: a redirect without a Location"
    scheme = urlsplit_scheme(location)
    if scheme and scheme not in _FETCHABLE:
        return Status.REFUSED, (
            f"HTTP {code}: refused redirect to unsupported scheme {scheme!r} ({location[:200]})"
        )
    return Status.FAILED, f"HTTP {code}: a redirect that was not followed ({location[:200]})"


def urlsplit_scheme(url: str) -> str:
    """The lowercased scheme of a URL, "" when it has none (a relative reference)."""
    head, sep, _ = url.strip().partition(":")
    if not sep or not head or not head[0].isalpha():
        return ""
    if not all(c.isalnum() or c in "+-." for c in head):
        return ""
    return head.lower()


def describe_response(response: Response) -> Verdict:
    """Status and reason for a response; (None, None) when the page is to be read."""
    meta = response.meta if response.request is not None else {}
    status, reason = meta.get("sources_outcome") or status_for_http(
        response.status, _location(response)
    )
    return status, None if reason is None else reason + _tries(meta)


def _location(response: Response) -> str | None:
    """Where a response's Location header points, made absolute (None when it has none)."""
    location = response.headers.get(b"Location")
    if location is None:
        return "" if 300 <= response.status < 400 else None
    text = location.decode("latin-1")
    try:
        return urljoin(response.url, text) if text.strip() else text
    except ValueError:
        return text


def describe_failure(failure: Failure) -> tuple[Status, str]:
    """Status and reason for a request that ended in an exception (a Scrapy errback)."""
    request = getattr(failure, "request", None)
    exc = failure.value
    assert isinstance(exc, BaseException)
    return describe_exception(exc, request.meta if request is not None else {})


def describe_exception(exc: BaseException, meta: dict[str, Any]) -> tuple[Status, str]:
    """Status and reason for a download that raised `exc`; `meta` is its request's meta."""
    status, reason = _describe(exc, meta)
    return status, reason + _tries(meta)


def release(failure: Failure) -> None:
    """Drop the frames a failure's exceptions hold (a decompression bomb's 64 MB buffer among
    them), so that they are freed now rather than by a later garbage collection."""
    seen: set[int] = set()
    exc: BaseException | None = failure.value if isinstance(failure.value, BaseException) else None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
    failure.cleanFailure()  # type: ignore[no-untyped-call]
    failure.tb = None


def settle(item: FetchOutcome) -> tuple[Status, str | None]:
    """What a fetch ends as: the answer's own status, else what the extractor read from it."""
    ex: Extracted | None = item.extracted
    if ex is None and item.status in (None, Status.ARCHIVED):
        return Status.FAILED, "nothing was extracted"
    status = item.status or (ex.status if ex else Status.FAILED)
    return status, item.reason or (ex.reason if ex else None)


#: Request meta naming the setting behind its `download_maxsize` (a requisite's
#: REQUISITE_MAXSIZE or its page's REQUISITES_MAX_BYTES); DOWNLOAD_MAXSIZE when absent.
MAXSIZE_SETTING = "maxsize_setting"


def maxsize_setting(meta: dict[str, Any]) -> str:
    """The setting that limits a request's body size, for its reason."""
    return str(meta.get(MAXSIZE_SETTING) or "DOWNLOAD_MAXSIZE")


def _describe(exc: BaseException, meta: dict[str, Any]) -> tuple[Status, str]:
    name = type(exc).__name__
    if isinstance(exc, Described):
        return exc.status, str(exc)
    if isinstance(exc, RefusedURL):
        return Status.REFUSED, str(exc)
    if isinstance(exc, IgnoreRequest):
        cause = exc.__cause__
        if _Inflated is not None and isinstance(cause, _Inflated):
            limit = f"{maxsize_setting(meta)} ({cause.max_size} bytes)"
            return Status.SKIPPED, f"too large: over {limit} once decompressed"
        text = str(exc) or name
        if text == _MAX_REDIRECTS:
            return Status.FAILED, "too many redirects"
        if "robots.txt" in text.lower():
            return Status.REFUSED, f"forbidden by robots.txt: {text}"
        if "refused" in text.lower():
            return Status.REFUSED, text
        return Status.SKIPPED, text
    if isinstance(exc, DownloadCancelledError):
        if meta.get("sources_too_large"):
            return Status.SKIPPED, f"too large: {meta['sources_too_large']}"
        return Status.FAILED, f"download cancelled: {_short(exc)}"
    if isinstance(exc, DownloadTimeoutError | net.TimeoutError | net.TCPTimedOutError):
        return Status.FAILED, f"timeout: {_short(exc)}"
    if isinstance(exc, CannotResolveHostError | net.DNSLookupError):
        # Twisted's message already starts so ("DNS lookup failed: <host>."): said once
        return Status.FAILED, f"{_DNS}{_short(exc).removeprefix(_DNS)}"
    if isinstance(exc, DownloadConnectionRefusedError | net.ConnectionRefusedError):
        return Status.FAILED, "connection refused"
    if isinstance(exc, ResponseDataLossError):
        return Status.FAILED, f"truncated body: {_truncation(meta)}"
    if isinstance(exc, DownloadFailedError | ResponseFailed | net.ConnectionLost):
        return Status.FAILED, _connection_end(exc)
    return Status.FAILED, f"{name}: {_short(exc)}"


def _tries(meta: dict[str, Any]) -> str:
    tries = int(meta.get("retry_times", 0)) + 1
    return f" ({tries} tries)" if tries > 1 else ""


def _truncation(meta: dict[str, Any]) -> str:
    expected, received = meta.get("sources_expected_bytes"), meta.get("sources_bytes")
    if expected is not None and received is not None:
        return f"{received} of {expected} bytes came before the connection closed"
    return "the connection closed before the whole body came"


def _connection_end(exc: BaseException) -> str:
    """How a connection ended too early: before any response, or during it; reset or closed."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    inner = chain + [getattr(r, "value", r) for e in chain for r in getattr(e, "reasons", ()) or ()]
    malformed = next((e for e in inner if isinstance(e, ParseError)), None)
    if malformed is not None:  # a status line or header no HTTP parser takes
        why, data = [*malformed.args, "", b""][:2]
        shown = data.decode("latin-1") if isinstance(data, bytes) else str(data)
        return f"malformed response: {why} ({shown[:200]!r})"
    if any(isinstance(e, net.ConnectionDone) for e in inner):
        how = "closed by the server"
    elif any(isinstance(e, net.ConnectionLost) for e in inner):
        how = "reset or broken"
    else:
        return f"connection lost: {_short(exc)}"
    if any(isinstance(e, ResponseNeverReceived) for e in chain):
        return f"no response: the connection was {how} before any response"
    return f"connection lost: the connection was {how} during the response"


def _short(exc: BaseException) -> str:
    reasons = getattr(exc, "reasons", None)
    if reasons:
        return "; ".join(str(getattr(r, "value", r)) for r in reasons)[:300]
    return str(exc)[:300] or type(exc).__name__
