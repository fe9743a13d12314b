"""Reading WARC files member by member, checking each record as it goes.

`warcio check` passes a file whose tail was cut off; this reader does not: every gzip member
must decompress to its end, hold one WARC record whose Content-Length matches the bytes
present, and whose sha256 block and payload digests match.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 16


@dataclass
class Member:
    """One gzip member of a WARC file and what was found in it."""

    offset: int
    length: int
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    payload: bytes | None = None  # kept only when asked for


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


def scan(path: Path, *, keep_payload: bool = False) -> Iterator[Member]:
    """Yield every gzip member of `path` with its checks; a broken tail is one last Member."""
    with path.open("rb") as fh:
        offset = 0
        pending = b""
        while True:
            if not pending:
                pending = fh.read(_CHUNK)
                if not pending:
                    return
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out: list[bytes] = []
            consumed = 0
            try:
                while True:
                    out.append(inflater.decompress(pending))
                    if inflater.eof:
                        consumed += len(pending) - len(inflater.unused_data)
                        pending = inflater.unused_data
                        break
                    consumed += len(pending)
                    pending = fh.read(_CHUNK)
                    if not pending:
                        raise EOFError("gzip member cut off before its end")
            except (zlib.error, EOFError) as exc:
                fh.seek(0, 2)
                yield Member(offset, fh.tell() - offset, problems=[f"broken gzip member: {exc}"])
                return
            data = b"".join(out)
            headers, block, problems = parse_record(data)
            yield Member(offset, consumed, headers, problems, block if keep_payload else None)
            offset += consumed


def good_prefix(path: Path) -> int:
    """Length of the leading run of sound records: where a crashed writer's file ends well."""
    end = 0
    for member in scan(path):
        if member.problems:
            break
        end = member.offset + member.length
    return end
