"""The archive package alone: WARC writing and reading back, records, lock, verify, reindex."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.archive import Archive
from crawler.archive.verify import verify
from crawler.archive.warcread import good_prefix, scan
from crawler.items import Digest, Entry, Link, Role
from crawler.urls import url_id
from tests.conftest import REPO, record_fetch

URL = "https://www.example.com/news/1.html"


def _digest(source: str = "/tmp/d1.md", urls: tuple[str, ...] = (URL,)) -> Digest:
    links = [
        Link(url=u, role=Role.SOURCE, text="x", canonical_url=u, link_id=url_id(u)) for u in urls
    ]
    return Digest(
        id="d1",
        source=source,
        sha256="ab" * 32,
        format="generic",
        title="t",
        date="2026-02-05",
        entries=[Entry(position=1, title="e1", links=links)],
    )


def _fill(root: Path) -> Archive:
    archive = Archive(root).open()
    archive.record_digest(_digest(), b"# digest\n", time.time())
    pointer = archive.warc.write_exchange(
        url=URL,
        method="GET",
        request_headers=[(b"User-Agent", b"t")],
        request_body=b"",
        status=200,
        protocol="HTTP/1.1",
        response_headers=[(b"Content-Type", b"text/html"), (b"Transfer-Encoding", b"chunked")],
        body=b"<html>hello</html>",
        fetched_at=time.time(),
        ip="127.0.0.1",
    )
    record_fetch(
        archive,
        URL,
        status="archived",
        http_status=200,
        original=pointer,
        title="T",
        text="hello world",
        body_sha256="cd" * 32,
    )
    return archive


def test_records_link_back_both_ways_and_verify_clean(tmp_path: Path) -> None:
    archive = _fill(tmp_path)
    archive.close()
    assert list(verify(tmp_path)) == []
    link = json.loads(next((tmp_path / "links").glob("*/*.json")).read_text())
    assert link["status"] == "archived" and link["attempts"] == 1
    assert link["cited_by"] == [{"digest": "d1", "entry": 1, "role": "source", "url": URL}]
    article = json.loads(next((tmp_path / "articles").glob("*/*.json")).read_text())
    assert article["links"] == [link["id"]] and article["text_chars"] == 11


def test_warc_records_read_back_with_warcio(tmp_path: Path) -> None:
    _fill(tmp_path).close()
    (warc,) = (tmp_path / "warc").glob("SOURCES-*.warc.gz")
    with warc.open("rb") as fh:
        records = list(ArchiveIterator(fh))
    kinds = [r.rec_type for r in records]
    assert kinds == ["warcinfo", "resource", "response", "request"]
    response = records[2]
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert response.rec_headers.get_header("WARC-Block-Digest").startswith("sha256:")
    assert response.http_headers.get_header("Transfer-Encoding") is None
    assert records[3].rec_headers.get_header(
        "WARC-Concurrent-To"
    ) == response.rec_headers.get_header("WARC-Record-ID")


def test_verify_reports_a_flipped_byte_a_cut_tail_and_a_deleted_article(tmp_path: Path) -> None:
    _fill(tmp_path).close()
    (warc,) = (tmp_path / "warc").glob("*.warc.gz")
    members = list(scan(warc, keep_payload=True))
    response = next(m for m in members if m.headers.get("warc-type") == "response")
    # rewrite the response member with one byte of its body changed, digests kept
    raw = warc.read_bytes()
    record = gzip.decompress(raw[response.offset : response.offset + response.length])
    bad = record.replace(b"hello", b"hellO")
    patched = raw[: response.offset] + gzip.compress(bad) + raw[response.offset + response.length :]
    warc.write_bytes(patched)
    problems = list(verify(tmp_path))
    assert any("WARC-Payload-Digest" in p and f":{response.offset}:" in p for p in problems)

    # a byte flipped inside the compressed stream itself: the gzip check catches it
    raw = bytearray(warc.read_bytes())
    raw[response.offset + response.length // 2] ^= 0xFF
    warc.write_bytes(bytes(raw))
    problems = list(verify(tmp_path))
    assert any(f":{response.offset}:" in p for p in problems), problems

    tmp2 = tmp_path.parent / "cut"
    _fill(tmp2).close()
    (warc2,) = (tmp2 / "warc").glob("*.warc.gz")
    warc2.write_bytes(warc2.read_bytes()[:-30])
    problems = list(verify(tmp2))
    assert any("broken gzip member" in p or "truncated" in p for p in problems), problems
    assert good_prefix(warc2) < warc2.stat().st_size

    tmp3 = tmp_path.parent / "del"
    _fill(tmp3).close()
    next((tmp3 / "articles").glob("*/*.json")).unlink()
    problems = list(verify(tmp3))
    assert any("with no record" in p for p in problems), problems


def test_verify_reports_a_broken_link_back(tmp_path: Path) -> None:
    _fill(tmp_path).close()
    path = next((tmp_path / "links").glob("*/*.json"))
    record = json.loads(path.read_text())
    record["cited_by"] = []
    path.write_text(json.dumps(record))
    assert any("cited_by omits it" in p for p in verify(tmp_path))


def test_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    archive = Archive(tmp_path).open()
    code = (
        "import sys; from crawler.archive import Archive\n"
        "from crawler.archive.lock import ArchiveLocked\n"
        f"try:\n    Archive({str(tmp_path)!r}).open()\n"
        "except ArchiveLocked as e:\n    print(e); sys.exit(3)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    archive.close()
    assert out.returncode == 3
    assert f"pid {os.getpid()}" in out.stdout


def test_lock_of_a_killed_crawl_is_taken_over_and_its_tail_cut(tmp_path: Path) -> None:
    code = (
        "import os, time; from crawler.archive import Archive\n"
        f"a = Archive({str(tmp_path)!r}).open()\n"
        "a.record_digest.__self__\n"
        "a.warc.write_resource(uri='file:///x', data=b'x'*1000, content_type='text/plain',"
        " read_at=time.time())\n"
        "a.warc._fh.write(b'\\x1f\\x8b\\x08 half a record')\n"
        "a.warc._fh.flush()\n"
        "os._exit(9)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert out.returncode == 9, out.stderr
    assert list(verify(tmp_path))  # the half record is reported
    archive = Archive(tmp_path).open()
    assert archive.recovered
    archive.close()
    assert list(verify(tmp_path)) == []


def test_reindex_rebuilds_the_index_from_files(tmp_path: Path) -> None:
    _fill(tmp_path).close()
    (tmp_path / "index.sqlite3").unlink()
    for extra in tmp_path.glob("index.sqlite3-*"):
        extra.unlink()
    archive = Archive(tmp_path).open()
    assert archive.link_status(url_id(URL)) == "archived"
    assert archive.digest_seen("ab" * 32)
    archive.close()


def test_a_digest_id_used_by_another_source_is_refused(tmp_path: Path) -> None:
    archive = _fill(tmp_path)
    with pytest.raises(ValueError, match="already used by"):
        archive.record_digest(_digest(source="/elsewhere/d1.md"), b"other", time.time())
    archive.close()


def test_a_short_write_is_finished_or_raises() -> None:
    """A write cut short (as at a file size limit) goes on with the rest, and raises when
    nothing more fits, so the WARC writer can cut the partial record back out."""
    from crawler.archive.warc import _WriteAll

    class Limited:
        def __init__(self, room: int) -> None:
            self.room, self.data = room, b""

        def write(self, data: memoryview) -> int:
            take = bytes(data[: min(len(data), self.room, 3)])  # at most 3 bytes a call
            self.room -= len(take)
            self.data += take
            return len(take)

        def flush(self) -> None:
            pass

    roomy = Limited(100)
    assert _WriteAll(roomy).write(b"0123456789") == 10  # type: ignore[arg-type]
    assert roomy.data == b"0123456789"
    tight = Limited(5)
    with pytest.raises(OSError, match="no space left"):
        _WriteAll(tight).write(b"0123456789")  # type: ignore[arg-type]
    assert tight.data == b"01234"


def test_citation_rows_name_the_account_apart_from_the_author() -> None:
    from crawler.archive.records import citation_row

    digest = {"id": "d", "source": "d.md", "date": "2026-02-05"}
    entry = {"position": 1, "title": "t", "section": None}
    cited = {"role": "source", "url": "https://mp.weixin.qq.com/s/x", "link_id": "ab" * 16}
    link = {"status": "archived", "attempts": 1, "http_status": 200}
    article = {"title": "T", "author": "林夏", "extra": {"account": "硅基观察"}, "text_chars": 9}
    row = citation_row(digest, entry, cited, link, "links/x.json", article, "articles/y.json")
    assert (row["author"], row["account"]) == ("林夏", "硅基观察")
    plain = citation_row(digest, entry, cited, link, "links/x.json", {"author": "A"}, "a.json")
    assert (plain["author"], plain["account"]) == ("A", None)
    assert citation_row(digest, entry, cited, None, None, None, None)["account"] is None
