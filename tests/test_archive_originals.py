"""crawler.archive.originals: a WARC pointer leads to a record of this archive or nowhere."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from crawler.archive import Archive
from crawler.archive.originals import OriginalError, decode_body, http_response, read, warc_path


@pytest.fixture
def pointer(tmp_path: Path) -> dict[str, object]:
    archive = Archive(tmp_path / "archive").open()
    try:
        return archive.warc.write_exchange(
            url="https://example.com/a",
            method="GET",
            request_headers=[("User-Agent", "t")],
            request_body=b"",
            status=200,
            protocol="HTTP/1.1",
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            body=gzip.compress(b"<html><body>hello</body></html>"),
            fetched_at=0.0,
        ).as_dict()
    finally:
        archive.close()


def test_a_pointer_reads_its_record_and_its_body_decoded(tmp_path: Path, pointer: dict) -> None:
    response = http_response(read(tmp_path / "archive", pointer))
    assert response.status == 200
    assert response.body == b"<html><body>hello</body></html>"


@pytest.mark.parametrize(
    "name",
    [
        "../archive.json",
        "warc/../../etc/passwd",
        "/etc/passwd",
        "warc/sub/x.warc.gz",
        "warc/.hidden.warc.gz",
        "digests/x.warc.gz",
        "warc/x.json",
    ],
)
def test_a_pointer_outside_the_warc_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(OriginalError):
        warc_path(tmp_path, {"warc": name, "offset": 0, "length": 10})


def test_a_symlink_out_of_the_warc_folder_is_refused(tmp_path: Path, pointer: dict) -> None:
    root = tmp_path / "archive"
    outside = tmp_path / "secret.warc.gz"
    outside.write_bytes(b"x")
    (root / "warc" / "link.warc.gz").symlink_to(outside)
    with pytest.raises(OriginalError):
        read(root, {**pointer, "warc": "warc/link.warc.gz"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"offset": 3}, "not a gzip member"),
        ({"length": 5}, "not a gzip member|truncated|cut"),
        ({"offset": -1}, "usable offset"),
        ({"length": 10**12}, "larger than"),
        ({"offset": 10**9}, "ends before the record"),
        ({"warc": "warc/missing.warc.gz"}, "No such file"),
    ],
)
def test_a_damaged_pointer_is_refused_in_words(
    tmp_path: Path, pointer: dict, change: dict, message: str
) -> None:
    with pytest.raises(OriginalError, match=message):
        read(tmp_path / "archive", {**pointer, **change})


def test_a_decompression_bomb_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.archive import originals

    monkeypatch.setattr(originals, "MAX_RECORD", 1 << 20)
    bomb = zlib.compress(b"\0" * (8 << 20))
    with pytest.raises(OriginalError, match="larger than"):
        decode_body(bomb, "deflate")
    with pytest.raises(OriginalError, match="unknown Content-Encoding"):
        decode_body(b"x", "zstd-nonsense")
