"""Scrapy's redirect middlewares, ending redirect loops and over-long chains with a reason.

`RedirectGuardMiddleware` and `MetaRefreshGuardMiddleware` replace Scrapy's RedirectMiddleware
and MetaRefreshMiddleware: a URL about to be requested a third time ends the fetch with
`RedirectLoop`, a chain longer than ``REDIRECT_MAX_TIMES`` with `TooManyRedirects`, both
``failed`` with a reason, instead of a bare IgnoreRequest. The hops of a cited link's request
skip the duplicate filter, so a hop back to a URL seen before is fetched (or ends as a loop)
instead of vanishing without an outcome. Scrapy's own switches (``REDIRECT_ENABLED``,
``METAREFRESH_ENABLED``) turn them off.
"""

from __future__ import annotations

from collections.abc import Callable

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.outcomes import Described


class RedirectLoop(Described):
    """A redirect chain came back to a URL it had already requested twice."""


class TooManyRedirects(Described):
    """A redirect chain longer than REDIRECT_MAX_TIMES."""


def guarded(
    middleware: RedirectMiddleware | MetaRefreshMiddleware,
    scrapys: Callable[[Request, Response], Request | Response],
    request: Request,
    response: Response,
) -> Request | Response:
    """Scrapy's answer to a redirect (`scrapys`), with loops and long chains named."""
    max_times = middleware.max_redirect_times
    try:
        result = scrapys(request, response)
    except IgnoreRequest as exc:
        if type(exc) is IgnoreRequest and str(exc) == "max redirections reached":
            location = response.headers.get(b"Location") or b""
            raise TooManyRedirects(
                f"too many redirects: more than REDIRECT_MAX_TIMES ({max_times}), the last to "
                f"{location.decode('latin-1')[:200]}"
            ) from exc
        raise
    if isinstance(result, Request) and result is not request:
        seen = [*request.meta.get("redirect_urls", []), request.url]
        if seen.count(result.url) >= 2:
            raise RedirectLoop(f"redirect loop: {result.url} again after {len(seen)} redirects")
        if "link_id" in request.meta:
            result.dont_filter = True  # a hop must end with an outcome, not be filtered
    return result


class RedirectGuardMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware with redirect loops and too many redirects named."""

    # Scrapy 2.19 deprecates the `spider` argument its signature still declares
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """As Scrapy's, ending loops and long chains with a reason."""
        return guarded(self, super().process_response, request, response)


class MetaRefreshGuardMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware with redirect loops and too many redirects named."""

    # Scrapy 2.19 deprecates the `spider` argument its signature still declares
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """As Scrapy's, ending loops and long chains with a reason."""
        return guarded(self, super().process_response, request, response)
