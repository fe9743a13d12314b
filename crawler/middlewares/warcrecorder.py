"""WarcRecorderMiddleware: every HTTP exchange, redirect and retry hops included, into WARC."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.report import note_write_error
from crawler.runtime import archive_for

logger = logging.getLogger(__name__)


class ArchiveWriteFailed(IgnoreRequest):
    """The response could not be written to WARC: the link is recorded failed, retried later."""

    sources_status = "failed"


class WarcRecorderMiddleware:
    """Writes a request and a response record for each response the downloader returns.

    It sits next to the downloader, so the body is as served (still gzip'ed when the server
    compressed it). The pointer of each hop's response record is appended to
    `request.meta["warc_hops"]`; redirects copy meta, so the last one is the final page.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if "link_id" not in request.meta and "attachment_of" not in request.meta:
            return response  # robots.txt and digest downloads are not cited pages
        if "cached" in response.flags:
            return response
        archive = archive_for(self.crawler)
        ip = getattr(response, "ip_address", None)
        try:
            pointer = self._write(archive, request, response, ip)
        except OSError as exc:
            note_write_error(self.crawler.stats, exc)
            logger.error("archive write failed for %s: %s", response.url, exc)
            raise ArchiveWriteFailed(f"archive write failed: {exc}") from exc
        hops: list[Any] = request.meta.setdefault("warc_hops", [])
        hops.append(pointer)
        self.crawler.stats.inc_value("sources/warc/records", 2)
        self.crawler.stats.inc_value("sources/warc/bytes", pointer.length)
        return response

    @staticmethod
    def _write(archive: Any, request: Request, response: Response, ip: Any) -> Any:
        return archive.warc.write_exchange(
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


def _pairs(headers: Any) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, values in headers.items() for value in values]
