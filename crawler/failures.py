"""How a fetch that did not give a page is described: a status word and a reason."""

from __future__ import annotations

from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scrapy.exceptions import IgnoreRequest

GONE_HTTP = {404, 410, 451}
BLOCKED_HTTP = {401, 403, 429}


def status_for_http(code: int) -> tuple[str | None, str | None]:
    """Status and reason for an HTTP status code; (None, None) when the page is to be read."""
    if 200 <= code < 300:
        return None, None
    if code in GONE_HTTP:
        return "gone", f"HTTP {code}"
    if code in BLOCKED_HTTP:
        return "blocked", f"HTTP {code}"
    return "failed", f"HTTP {code}"


def describe_failure(failure: Failure) -> tuple[str, str]:
    """Status and reason for a request that ended in an exception."""
    exc = failure.value
    name = type(exc).__name__
    if getattr(exc, "sources_status", None):
        return exc.sources_status, str(exc)
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or name
        if "robots.txt" in text.lower() or name == "IgnoreRequest" and "robots" in text:
            return "refused", f"forbidden by robots.txt: {text}"
        if "refused" in text.lower():
            return "refused", text
        return "skipped", text
    if isinstance(exc, net.TimeoutError | net.TCPTimedOutError):
        return "failed", f"timeout: {exc}"
    if isinstance(exc, net.DNSLookupError):
        return "failed", f"DNS lookup failed: {exc}"
    if isinstance(exc, net.ConnectionRefusedError):
        return "failed", "connection refused"
    if isinstance(exc, net.ConnectionLost | net.ConnectionDone | ResponseFailed):
        return "failed", f"connection lost: {_short(exc)}"
    if isinstance(exc, ResponseNeverReceived):
        return "failed", f"no response: {_short(exc)}"
    text = str(exc)
    if "exceeds" in text.lower() and ("maxsize" in text.lower() or "size" in text.lower()):
        return "skipped", f"too large: {text}"
    return "failed", f"{name}: {_short(exc)}"


def _short(exc: BaseException) -> str:
    reasons = getattr(exc, "reasons", None)
    if reasons:
        return "; ".join(str(getattr(r, "value", r)) for r in reasons)[:300]
    return str(exc)[:300] or type(exc).__name__
