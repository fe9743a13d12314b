"""Reading WARC files member by member, checking each record as it goes.

`warcio check` passes a file whose tail was cut off; this reader does not: every gzip member
must decompress to its end, hold one WARC record whose Content-Length matches the bytes
present, and whose sha256 block and payload digests match.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 16


@dataclass
class Member:
    """One gzip member of a WARC file and what was found in it."""

    offset: int
    length: int
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    payload: bytes | None = None  # kept only when asked for
    damaged: bool = False  # bytes that are no whole gzip member (see `scan`)


def _digest_ok(value: str | None, data: bytes) -> str | None:
    if not value:
        return "missing digest"
    algo, _, expected = value.partition(":")
    if algo.lower() not in ("sha256", "sha1"):
        return f"unsupported digest {algo}"
    raw = hashlib.new(algo.lower(), data).digest()
    forms = {base64.b32encode(raw).decode(), raw.hex(), base64.b16encode(raw).decode()}
    return None if expected.strip() in forms else f"{value} does not match the content"


def parse_record(data: bytes) -> tuple[dict[str, str], bytes, list[str]]:
    """Split a decompressed record into WARC headers and block; list what is wrong with it."""
    problems: list[str] = []
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/"):
        return {}, b"", ["not a WARC record"]
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("utf-8", "replace").partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        return headers, b"", ["no valid Content-Length"]
    block = rest[:length]
    if len(block) < length:
        problems.append(f"truncated: Content-Length {length}, {len(block)} bytes present")
    elif rest[length:] != b"\r\n\r\n":
        problems.append("record does not end with CRLF CRLF after its block")
    if not problems:
        bad = _digest_ok(headers.get("warc-block-digest"), block)
        if bad:
            problems.append(f"WARC-Block-Digest: {bad}")
        if "warc-payload-digest" in headers and headers.get("warc-type") in (
            "response",
            "resource",
            "request",
        ):
            payload = block
            if headers.get("content-type", "").startswith("application/http"):
                payload = block.partition(b"\r\n\r\n")[2]
            bad = _digest_ok(headers["warc-payload-digest"], payload)
            if bad:
                problems.append(f"WARC-Payload-Digest: {bad}")
    return headers, block, problems


#: The first bytes of every gzip member: magic and the deflate method.
GZIP_MAGIC = b"\x1f\x8b\x08"
#: XFL bytes zlib writes (0: default levels, 2: level 9, 4: level 1) and its OS byte on Unix.
_XFL = frozenset({0, 2, 4})
_OS_UNIX = 3


def _header_problem(head: bytes) -> str | None:
    """What is wrong with a member's gzip header as this archive's writers write it.

    zlib writes no flags and no modification time; gzip readers ignore MTIME, XFL and OS, so
    a byte changed there leaves the record readable, but it is damage all the same.
    """
    if len(head) < 10:
        return None
    if head[3] != 0 or head[4:8] != b"\0\0\0\0" or head[8] not in _XFL or head[9] != _OS_UNIX:
        return f"gzip header altered ({head[:10].hex()})"
    return None


class _Source:
    """A WARC file read forward in chunks, with a seek back for resynchronising."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.size = fh.seek(0, 2)
        self.pos = 0  # file offset of `pending`
        self.pending = b""

    def at(self, offset: int) -> None:
        """Continue reading at `offset`."""
        if self.pos <= offset <= self.pos + len(self.pending):
            self.pending = self.pending[offset - self.pos :]
        else:
            self.pending = b""
        self.pos = offset

    def chunk(self) -> bytes:
        """The bytes at the current position (at least one, unless at the end of the file)."""
        if not self.pending:
            self.fh.seek(self.pos)
            self.pending = self.fh.read(_CHUNK)
        return self.pending

    def peek(self, n: int) -> bytes:
        """The next `n` bytes (fewer at the end of the file), without moving on."""
        if len(self.pending) < n:
            self.fh.seek(self.pos)
            self.pending = self.fh.read(max(n, _CHUNK))
        return self.pending[:n]

    def member(self) -> tuple[int, bytes]:
        """Decompress the gzip member at the current position: (its length, its content).

        Raises zlib.error for a damaged member and EOFError for one cut off by the file's end;
        either way the position is left where the member starts.
        """
        start, start_pending = self.pos, self.pending
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out: list[bytes] = []
        try:
            while True:
                data = self.chunk()
                if not data:
                    raise EOFError("gzip member cut off before its end")
                out.append(inflater.decompress(data))
                if inflater.eof:
                    used = len(data) - len(inflater.unused_data)
                    self.pos, self.pending = self.pos + used, inflater.unused_data
                    return self.pos - start, b"".join(out)
                self.pos, self.pending = self.pos + len(data), b""
        except BaseException:
            self.pos, self.pending = start, start_pending
            raise

    def next_member(self, after: int) -> int:
        """Offset of the first sound member (a whole gzip member holding a WARC record) after
        offset `after`, else the file's size."""
        where = after + 1
        tail = b""
        while where < self.size:
            self.fh.seek(where)
            block = tail + self.fh.read(_CHUNK)
            base = where - len(tail)
            found = block.find(GZIP_MAGIC)
            while found >= 0:
                candidate = base + found
                self.at(candidate)
                with contextlib.suppress(zlib.error, EOFError):
                    _, data = self.member()
                    if data.startswith(b"WARC/"):
                        self.at(candidate)
                        return candidate
                found = block.find(GZIP_MAGIC, found + 1)
            where = base + len(block)
            tail = block[-(len(GZIP_MAGIC) - 1) :]
        return self.size


def scan(path: Path, *, keep_payload: bool = False) -> Iterator[Member]:
    """Yield every gzip member of `path` with its checks.

    Bytes that are no sound member (a damaged member, or a tail cut off) come as one Member
    each run of them, marked `damaged`; reading resumes at the next sound member, so damage
    in one record hides no record after it.
    """
    with path.open("rb") as fh:
        source = _Source(fh)
        offset = 0
        while offset < source.size:
            source.at(offset)
            head = source.peek(10)
            try:
                length, data = source.member()
            except (zlib.error, EOFError) as exc:
                end = source.next_member(offset)
                yield Member(
                    offset,
                    end - offset,
                    problems=[
                        f"damaged bytes {offset}-{end} ({end - offset} bytes): broken "
                        f"gzip member: {exc}"
                    ],
                    damaged=True,
                )
                offset = end
                continue
            headers, block, problems = parse_record(data)
            bad_head = _header_problem(head)
            if bad_head:
                problems.append(bad_head)
            yield Member(offset, length, headers, problems, block if keep_payload else None)
            offset += length


def good_prefix(path: Path) -> int:
    """Length of the leading run of sound records: where a crashed writer's file ends well."""
    end = 0
    for member in scan(path):
        if member.problems:
            break
        end = member.offset + member.length
    return end


def complete_end(path: Path) -> int:
    """End of the last whole gzip member of `path`: what follows it is an unfinished tail."""
    end = 0
    for member in scan(path):
        if not member.damaged:
            end = member.offset + member.length
    return end
