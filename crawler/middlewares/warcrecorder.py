"""WarcRecorderMiddleware: every HTTP exchange, redirect and retry hops included, into WARC."""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import stats
from crawler.archive import Archive
from crawler.extensions import required
from crawler.extensions.archive import ArchiveExtension
from crawler.items import Pointer
from crawler.outcomes import Described

logger = logging.getLogger(__name__)

#: request.meta keys of the requests whose exchanges are recorded.
RECORDED = ("link_id", "attachment_of")
#: request.meta key of the list of each hop's response-record pointer.
HOPS = "warc_hops"
#: request.meta key of what the last hop's record holds: (payload digest, WARC-Date, the
#: record a revisit refers to or None); set for attachments (requisites), which are deduped.
WRITTEN = "warc_written"


class ArchiveWriteFailed(Described):
    """The response could not be written to WARC: the link is recorded failed, retried later."""


class WarcRecorderMiddleware:
    """Writes a request and a response record for each response the downloader returns.

    It sits next to the downloader, so the body is as served (still gzip'ed when the server
    compressed it). The pointer of each hop's response record is appended to
    `request.meta["warc_hops"]`; redirects copy meta, so the last one is the final page.
    robots.txt and digest downloads are not cited pages and are not recorded here.
    """

    def __init__(self, crawler: Crawler, archive: Archive):
        self.crawler = crawler
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy; writes into the crawl's one open archive."""
        return cls(crawler, required(crawler, ArchiveExtension).archive)

    def process_response(self, request: Request, response: Response) -> Response:
        """Record the exchange of a cited page or attachment; note its pointer in meta."""
        if not any(key in request.meta for key in RECORDED) or "cached" in response.flags:
            return response
        assert self.crawler.stats is not None
        try:
            pointer = self._write(request, response)
        except OSError as exc:
            stats.note_write_error(self.crawler.stats, exc)
            logger.error("archive write failed for %s: %s", response.url, exc)
            raise ArchiveWriteFailed(f"archive write failed: {exc}") from exc
        hops: list[Pointer] = request.meta.setdefault(HOPS, [])
        hops.append(pointer)
        self.crawler.stats.inc_value(stats.WARC_RECORDS, 2)
        self.crawler.stats.inc_value(stats.WARC_BYTES, pointer.length)
        return response

    def _write(self, request: Request, response: Response) -> Pointer:
        ip = getattr(response, "ip_address", None)
        dedupe = "attachment_of" in request.meta  # a requisite: a repeated payload is a revisit
        written = self.archive.write_exchange(
            dedupe=dedupe,
            url=response.url,
            method=request.method,
            request_headers=_pairs(request.headers),
            request_body=request.body,
            status=response.status,
            protocol=getattr(response, "protocol", None),
            response_headers=_pairs(response.headers),
            body=response.body,
            fetched_at=time.time(),
            ip=str(ip) if ip else None,
        )
        if dedupe:
            request.meta[WRITTEN] = (written.payload_digest, written.date, written.revisit_of)
        return written.pointer


def last_hop(meta: dict[str, Any]) -> Pointer | None:
    """The response record of the last hop of a request, when one was recorded."""
    hops = meta.get(HOPS) or []
    return hops[-1] if hops else None


def _pairs(headers: Any) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, values in headers.items() for value in values]
