"""Reading one stored original back from its WARC pointer: a digest's bytes, a page as served.

Pointers come from records (`original`, `attachments[url].original`); a pointer whose file is
not a WARC file of this archive (`warc/<name>.warc.gz`), or whose record is damaged, is refused
with `OriginalError`: a reader never opens a file outside the archive because a record says so.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.archive import layout
from crawler.archive.warcread import parse_record

#: Bytes of one record's gzip member read at most, and of its inflated record (the crawl's
#: DOWNLOAD_MAXSIZE is 64 MiB; a record beyond this is not shown).
MAX_MEMBER = 80 * 1024 * 1024
MAX_RECORD = 160 * 1024 * 1024

_WARC_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}\.warc(?:\.gz)?$")


class OriginalError(ValueError):
    """A pointer that cannot be followed: outside the archive, missing, or damaged."""


@dataclass
class Original:
    """A WARC record read back: its WARC headers (lower-case names) and block."""

    headers: dict[str, str]
    block: bytes


@dataclass
class HttpResponse:
    """The HTTP response of a `response` record: status, headers, body decoded for reading."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        lower = name.lower()
        return next((v for n, v in self.headers if n.lower() == lower), None)


def warc_path(root: Path, pointer: dict[str, Any]) -> Path:
    """The WARC file a pointer names, only when it is a WARC file directly under warc/."""
    name = pointer.get("warc") if isinstance(pointer, dict) else None
    if not isinstance(name, str):
        raise OriginalError("not a WARC pointer")
    folder, _, base = name.partition("/")
    if folder != layout.WARC or not _WARC_NAME.match(base):
        raise OriginalError(f"not a WARC file of this archive: {name!r}")
    path = root / layout.WARC / base
    if path.resolve().parent != (root / layout.WARC).resolve():
        raise OriginalError(f"not a WARC file of this archive: {name!r}")
    return path


def read(root: Path, pointer: dict[str, Any]) -> Original:
    """The record at `pointer`, checked (digests, length) as `verify` checks it."""
    path = warc_path(root, pointer)
    offset, length = pointer.get("offset"), pointer.get("length")
    if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length <= 0:
        raise OriginalError("a WARC pointer without a usable offset and length")
    if length > MAX_MEMBER:
        raise OriginalError(f"record of {length} bytes is larger than {MAX_MEMBER}")
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            member = fh.read(length)
    except OSError as exc:
        raise OriginalError(f"{name_of(pointer)}: {exc.strerror or exc}") from exc
    if len(member) < length:
        raise OriginalError(f"{name_of(pointer)}: the file ends before the record")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(member, MAX_RECORD)
    except zlib.error as exc:
        raise OriginalError(f"{name_of(pointer)}@{offset}: not a gzip member ({exc})") from exc
    if inflater.unconsumed_tail:
        raise OriginalError(f"{name_of(pointer)}@{offset}: record larger than {MAX_RECORD}")
    if not inflater.eof:
        raise OriginalError(f"{name_of(pointer)}@{offset}: the gzip member is cut off")
    headers, block, problems = parse_record(data)
    if problems:
        raise OriginalError(f"{name_of(pointer)}@{offset}: {'; '.join(problems)}")
    return Original(headers, block)


def name_of(pointer: dict[str, Any]) -> str:
    """The pointer's file, for messages."""
    return str(pointer.get("warc", "?"))


def http_response(original: Original) -> HttpResponse:
    """The HTTP response in a `response` record, its body decoded from Content-Encoding."""
    head, _, body = original.block.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2) if lines else []
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        raise OriginalError("not an HTTP response record") from None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    response = HttpResponse(status, headers, body)
    encoding = (response.header("Content-Encoding") or "").lower()
    response.body = decode_body(body, encoding)
    return response


def decode_body(body: bytes, encoding: str) -> bytes:
    """A body as served, decoded from gzip, deflate or br (bounded); unknown codings as is."""
    for coding in reversed([c.strip() for c in encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if coding != "deflate" else zlib.MAX_WBITS
            try:
                body = _inflate(body, wbits)
            except zlib.error:
                if coding != "deflate":
                    raise OriginalError("a gzip body that does not inflate") from None
                body = _inflate(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
        elif coding == "br":
            try:
                import brotli  # type: ignore[import-untyped,import-not-found,unused-ignore]
            except ImportError:  # pragma: no cover - Scrapy's brotli support is installed
                raise OriginalError("a brotli body, and no brotli module") from None
            try:
                decoder = brotli.Decompressor()
                out = decoder.process(body, output_buffer_limit=MAX_RECORD)
                if not decoder.is_finished() and not decoder.can_accept_more_data():
                    raise OriginalError(f"body larger than {MAX_RECORD} once decoded")
            except brotli.error:
                raise OriginalError("a brotli body that does not decode") from None
            body = out
        elif coding != "identity":
            raise OriginalError(f"unknown Content-Encoding {coding!r}")
    return body


def _inflate(data: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, MAX_RECORD)
    if inflater.unconsumed_tail:
        raise OriginalError(f"body larger than {MAX_RECORD} once decoded")
    return out


def digest_bytes(root: Path, digest: dict[str, Any]) -> bytes:
    """The bytes of a digest exactly as read (its `resource` record)."""
    pointer = digest.get("original")
    if not isinstance(pointer, dict):
        raise OriginalError(f"digest {digest.get('id')!r} has no stored original")
    return read(root, pointer).block
