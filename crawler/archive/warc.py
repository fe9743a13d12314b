"""WARC 1.1 writer: gzip per record, sha256 digests, size-rotated files safe for many writers.

Records are written at once and made durable in groups: `sync()` fsyncs everything written
since the last one, and the archive calls it before any JSON file points at a record (group
commit), so a page's response and request records, its redirect hops and the many small
records of its requisites share one fsync instead of paying one each.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import logging
import os
import socket
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.items import Pointer

logger = logging.getLogger(__name__)

PREFIX = "SOURCES"
# Hop-by-hop framing that Scrapy has already undone: keeping it would make replay tools
# de-chunk a body that is no longer chunked.
_DROP_HEADERS = {b"transfer-encoding"}


def host_token(host: str) -> str:
    """A host name as it stands in WARC file names (no `-` or `.`, which separate fields)."""
    return host.replace("-", "_").replace(".", "_")


#: zlib level of the gzip members: 6 (zlib's default) compresses a page in three quarters of
#: the time of warcio's 9, for files about 1 % bigger.
GZIP_LEVEL = 6


class _GzipMember:
    """One gzip member around one record (warcio's wrapper, at GZIP_LEVEL)."""

    def __init__(self, out: Any):
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class _WriteAll:
    """A file whose write() writes every byte or raises.

    At a file size limit Linux writes what fits and returns a short count; warcio does not
    check the count, so the record would end cut short with no error. Writing the rest raises
    (EFBIG / ENOSPC), and the writer then cuts the partial record back out.
    """

    def __init__(self, fh: io.FileIO):
        self.fh = fh

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            written = self.fh.write(view)
            if not written:
                raise OSError(errno.ENOSPC, "no space left for a WARC record")
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        self.fh.flush()


class _Sha256Writer(WARCWriter):  # type: ignore[misc]  # warcio ships no type information
    """warcio's writer with sha256 digests, each record its own gzip member at GZIP_LEVEL."""

    def __init__(self, fh: io.FileIO):
        super().__init__(_WriteAll(fh), gzip=False, warc_version="1.1")

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")

    def _write_warc_record(self, out: Any, record: Any) -> None:
        super()._write_warc_record(_GzipMember(out), record)


#: The revisit profile of a record whose payload is the same as an earlier record's (WARC 1.1).
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def payload_digest(body: bytes) -> str:
    """`WARC-Payload-Digest` of a body as warcio writes it: `sha256:` and base32."""
    return "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(ts: float) -> str:
    """A WARC-Date: UTC, ISO 8601 with microseconds and Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def _headers(pairs: Iterable[tuple[bytes | str, bytes | str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in pairs:
        n = name.decode("latin-1") if isinstance(name, bytes) else name
        v = value.decode("latin-1") if isinstance(value, bytes) else value
        if n.lower().encode() not in _DROP_HEADERS:
            out.append((n, v))
    return out


class WarcWriter:
    """Appends records to `<dir>/SOURCES-<timestamp>-<serial>-<host>-<pid>.warc.gz`.

    Each record is its own gzip member, written whole before its pointer is returned (the
    file is unbuffered); `sync()` makes what was written durable, and the archive calls it
    before a JSON file points at a record, so such a record is always complete on disk. A new
    file starts when the current one passes `max_bytes` (the old one is synced and closed);
    the name carries host and pid, so several processes can write into one directory without
    clashing.
    """

    def __init__(self, root: Path, *, max_bytes: int = 1_000_000_000, info: dict[str, Any]):
        self.root = root
        self.directory = root / "warc"
        self.max_bytes = max_bytes
        self.info = info
        self.host = host_token(socket.gethostname()) or "host"
        self.pid = os.getpid()
        self.serial = 0
        self._fh: io.FileIO | None = None
        self._path: Path | None = None
        self._writer: _Sha256Writer | None = None
        self._lock = threading.Lock()
        self._unsynced = False  # records written since the last fsync
        self.syncs = 0  # fsyncs made (what group commit saves is counted against records)
        self.files_written: list[str] = []

    # -- file handling -------------------------------------------------------------------
    def _open_next(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        self.serial += 1
        name = f"{PREFIX}-{stamp}-{self.serial:05d}-{self.host}-{self.pid}.warc.gz"
        self._path = self.directory / name
        # unbuffered: a failed write can be cut back without a buffer flushing behind it
        self._fh = open(self._path, "xb", buffering=0)  # noqa: SIM115 - lives until close()
        self._writer = _Sha256Writer(self._fh)
        self.files_written.append(name)
        info = dict(self.info, software=f"sources/{__version__}", format="WARC File Format 1.1")
        self._write(self._writer.create_warcinfo_record(name, info))

    def close(self) -> None:
        """Sync and close the current file (a later write opens a new one)."""
        if self._fh is not None:
            try:
                self._sync()
            finally:
                self._fh.close()
        self._fh = self._writer = self._path = None

    def sync(self) -> None:
        """Make every record written so far durable (one fsync for all of them)."""
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        if self._fh is not None and self._unsynced:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.syncs += 1
        self._unsynced = False

    def _ensure_open(self) -> _Sha256Writer:
        if self._fh is None or self._fh.tell() >= self.max_bytes:
            self._open_next()
        assert self._writer is not None
        return self._writer

    def _write(self, record: Any) -> Pointer:
        assert self._fh is not None and self._writer is not None and self._path is not None
        offset = self._fh.tell()
        try:
            self._writer.write_record(record)
            self._fh.flush()
            self._unsynced = True
        except OSError:
            # A full disk or a file size limit: take the partial record back out, so the file
            # still ends with a sound record, and start a new file for the next write.
            fh, path = self._fh, self._path
            self._fh = self._writer = self._path = None
            try:
                os.ftruncate(fh.fileno(), offset)
                os.fsync(fh.fileno())  # the sound records before it are pointed at later
                fh.close()
            except OSError:
                logger.error("%s: could not cut a partly written record at %d", path, offset)
            raise
        return Pointer(
            warc=self._path.relative_to(self.root).as_posix(),
            offset=offset,
            length=self._fh.tell() - offset,
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
        )

    # -- records -------------------------------------------------------------------------
    def write_exchange(
        self,
        *,
        url: str,
        method: str,
        request_headers: Iterable[tuple[bytes | str, bytes | str]],
        request_body: bytes,
        status: int,
        protocol: str | None,
        response_headers: Iterable[tuple[bytes | str, bytes | str]],
        body: bytes,
        fetched_at: float,
        ip: str | None = None,
        refers_to: Original | None = None,
    ) -> Pointer:
        """Write a `response` record and its `request` record; return the response's pointer.

        With `refers_to` (an earlier record with the same payload digest) the response is a
        `revisit` record instead, as Heritrix and browsertrix write them: profile
        identical-payload-digest, `WARC-Refers-To` / `-Target-URI` / `-Date`, the HTTP headers
        as served and no body.
        """
        with self._lock:
            writer = self._ensure_open()
            date = http_date(fetched_at)
            warc_headers = {"WARC-Date": date}
            if ip:
                warc_headers["WARC-IP-Address"] = ip
            proto = protocol or "HTTP/1.1"
            resp_http = StatusAndHeaders(
                _status_line(status), _headers(response_headers), protocol=proto
            )
            if refers_to is not None:
                response = writer.create_revisit_record(
                    url,
                    refers_to.payload_digest,
                    refers_to.uri,
                    refers_to.date,
                    http_headers=resp_http,
                    warc_headers_dict=dict(warc_headers),
                )
                response.rec_headers.add_header("WARC-Refers-To", refers_to.record_id)
            else:
                response = writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=resp_http,
                    warc_headers_dict=dict(warc_headers),
                )
            target = url.split("://", 1)[-1]
            path = "/" + target.split("/", 1)[1] if "/" in target else "/"
            req_http = StatusAndHeaders(
                f"{method} {path}", _headers(request_headers), protocol=proto, is_http_request=True
            )
            request = writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(request_body),
                length=len(request_body),
                http_headers=req_http,
                warc_headers_dict=dict(warc_headers),
            )
            request.rec_headers.add_header(
                "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
            )
            pointer = self._write(response)
            self._write(request)
            return pointer

    def write_resource(
        self, *, uri: str, data: bytes, content_type: str, read_at: float
    ) -> Pointer:
        """Write a `resource` record (a digest file exactly as read)."""
        with self._lock:
            writer = self._ensure_open()
            record = writer.create_warc_record(
                uri,
                "resource",
                payload=io.BytesIO(data),
                length=len(data),
                warc_content_type=content_type,
                warc_headers_dict={"WARC-Date": http_date(read_at)},
            )
            return self._write(record)

    def write_metadata(
        self, *, uri: str, concurrent_to: str | None, fields: list[tuple[str, str]], at: float
    ) -> Pointer:
        """Write a `metadata` record (`application/warc-fields`) about the capture of `uri`.

        Heritrix's form: one `name: value` line per field (`outlink: <url> E <how>` for each
        requisite of a page), `WARC-Concurrent-To` the page's response record.
        """
        block = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")
        headers = {"WARC-Date": http_date(at)}
        if concurrent_to:
            headers["WARC-Concurrent-To"] = concurrent_to
        with self._lock:
            writer = self._ensure_open()
            record = writer.create_warc_record(
                uri,
                "metadata",
                payload=io.BytesIO(block),
                length=len(block),
                warc_content_type="application/warc-fields",
                warc_headers_dict=headers,
            )
            return self._write(record)


@dataclass(frozen=True)
class Original:
    """The record a revisit refers to: its id, target URI, WARC-Date and payload digest."""

    record_id: str
    uri: str
    date: str
    payload_digest: str
