"""How a fetch that did not give a page is described: a status word and a reason.

Statuses (see ARCHIVE.md): ``gone`` (404, 410, 451: permanent), ``blocked`` (401, 403, 429, a
Retry-After too long to wait: tried again after a back-off), ``failed`` (network and server
errors: tried again by later runs), ``skipped`` (over DOWNLOAD_MAXSIZE: never tried again),
``refused`` (robots.txt, private or loopback address). A reason ends with ``(N tries)`` when
the fetch was retried within the run.
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

from crawler.netsafety import RefusedURL

GONE_HTTP = {404, 410, 451}
BLOCKED_HTTP = {401, 403, 429}

#: The message Scrapy's RedirectMiddleware gives when REDIRECT_MAX_TIMES is reached.
_MAX_REDIRECTS = "max redirections reached"


def status_for_http(code: int) -> tuple[str | None, str | None]:
    """Status and reason for an HTTP status code; (None, None) when the page is to be read."""
    if 200 <= code < 300:
        return None, None
    if code in GONE_HTTP:
        return "gone", f"HTTP {code}"
    if code in BLOCKED_HTTP:
        return "blocked", f"HTTP {code}"
    return "failed", f"HTTP {code}"


def describe_response(response: Response) -> tuple[str | None, str | None]:
    """Status and reason for a response; (None, None) when the page is to be read."""
    meta = _meta(response)
    status, reason = meta.get("sources_outcome") or status_for_http(response.status)
    return status, None if reason is None else reason + _tries(meta)


def describe_failure(failure: Failure) -> tuple[str, str]:
    """Status and reason for a request that ended in an exception."""
    meta = _meta(failure)
    status, reason = _describe(failure.value, meta)
    return status, reason + _tries(meta)


def _describe(exc: BaseException, meta: dict[str, Any]) -> tuple[str, str]:
    name = type(exc).__name__
    if getattr(exc, "sources_status", None):
        return exc.sources_status, str(exc)  # type: ignore[attr-defined]
    if isinstance(exc, RefusedURL):
        return "refused", str(exc)
    if isinstance(exc, IgnoreRequest):
        cause = exc.__cause__
        if _Inflated is not None and isinstance(cause, _Inflated):
            return "skipped", (
                f"too large: over DOWNLOAD_MAXSIZE ({cause.max_size} bytes) once decompressed"
            )
        text = str(exc) or name
        if text == _MAX_REDIRECTS:
            return "failed", "too many redirects"
        if "robots.txt" in text.lower():
            return "refused", f"forbidden by robots.txt: {text}"
        if "refused" in text.lower():
            return "refused", text
        return "skipped", text
    if isinstance(exc, DownloadCancelledError):
        if meta.get("sources_too_large"):
            return "skipped", f"too large: {meta['sources_too_large']}"
        return "failed", f"download cancelled: {_short(exc)}"
    if isinstance(exc, DownloadTimeoutError | net.TimeoutError | net.TCPTimedOutError):
        return "failed", f"timeout: {_short(exc)}"
    if isinstance(exc, CannotResolveHostError | net.DNSLookupError):
        return "failed", f"DNS lookup failed: {_short(exc)}"
    if isinstance(exc, DownloadConnectionRefusedError | net.ConnectionRefusedError):
        return "failed", "connection refused"
    if isinstance(exc, ResponseDataLossError):
        return "failed", f"truncated body: {_truncation(meta)}"
    if isinstance(exc, DownloadFailedError | ResponseFailed | net.ConnectionLost):
        return "failed", _connection_end(exc)
    return "failed", f"{name}: {_short(exc)}"


def _meta(source: Response | Failure) -> dict[str, Any]:
    request = getattr(source, "request", None)
    return request.meta if request is not None else {}


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
