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
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

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


def status_for_http(code: int) -> Verdict:
    """Status and reason for an HTTP status code; (None, None) when the page is to be read."""
    if 200 <= code < 300:
        return None, None
    if code in GONE_HTTP:
        return Status.GONE, f"HTTP {code}"
    if code in BLOCKED_HTTP:
        return Status.BLOCKED, f"HTTP {code}"
    return Status.FAILED, f"HTTP {code}"


def describe_response(response: Response) -> Verdict:
    """Status and reason for a response; (None, None) when the page is to be read."""
    meta = response.meta if response.request is not None else {}
    status, reason = meta.get("sources_outcome") or status_for_http(response.status)
    return status, None if reason is None else reason + _tries(meta)


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


def settle(item: FetchOutcome) -> tuple[Status, str | None]:
    """What a fetch ends as: the answer's own status, else what the extractor read from it."""
    ex: Extracted | None = item.extracted
    if ex is None and item.status in (None, Status.ARCHIVED):
        return Status.FAILED, "nothing was extracted"
    status = item.status or (ex.status if ex else Status.FAILED)
    return status, item.reason or (ex.reason if ex else None)


def _describe(exc: BaseException, meta: dict[str, Any]) -> tuple[Status, str]:
    name = type(exc).__name__
    if isinstance(exc, Described):
        return exc.status, str(exc)
    if isinstance(exc, RefusedURL):
        return Status.REFUSED, str(exc)
    if isinstance(exc, IgnoreRequest):
        cause = exc.__cause__
        if _Inflated is not None and isinstance(cause, _Inflated):
            return Status.SKIPPED, (
                f"too large: over DOWNLOAD_MAXSIZE ({cause.max_size} bytes) once decompressed"
            )
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
