"""The digest's own links (role `digest`) in the archive and the crawl: recorded in the digest
record, cited by entry 0 in link records and the index, checked by verify, read as `citations`
rows, fetched by the spider like entry links; the spider's per-digest summary."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler

from crawler import stats
from crawler.archive import Archive, records
from crawler.archive.reader import citations
from crawler.archive.verify import verify
from crawler.digests import parse_digest
from crawler.items import Digest, DigestRead, Pointer, Role
from tests.conftest import close_archive, drain, spider_crawler

FIXTURES = Path(__file__).parent / "fixtures" / "digests"
OWN = [  # the digest's own links in digest_links.md, in order
    "https://daily.example.com/issues/2026-03-08",
    "https://www.bilibili.com/video/BV1cd411c7zZ",
    "https://www.xiaoyuzhoufm.com/episode/65f0000000000000000000aa",
    "https://github.com/example-news/digest-bot",
    "https://daily.example.com/rss.xml",
    "https://daily.example.com/subscribe",
]


def digest_of(name: str = "digest_links.md", text: str | None = None) -> tuple[Digest, bytes]:
    raw = text.encode() if text is not None else (FIXTURES / name).read_bytes()
    return parse_digest(raw, f"/digests/{name}"), raw


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    opened = Archive(tmp_path / "archive").open()
    yield opened
    opened.close()


def json_of(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def link_record(archive: Archive, link_id: str | None) -> Any:
    assert link_id is not None
    return archive.link_record(link_id)


# --- the record --------------------------------------------------------------------------------


def test_the_digest_record_holds_its_own_links_its_structure_and_link_notes(
    archive: Archive,
) -> None:
    digest, raw = digest_of()
    archive.record_digest(digest, raw, time.time())
    record = json_of(archive.root / "digests" / f"{digest.id}.json")
    assert record["structure"] == digest.structure
    assert record["structure"].startswith("headings: ")
    assert [(lk["url"], lk["role"]) for lk in record["links"]] == [(u, "digest") for u in OWN]
    assert all(
        lk["link_id"] and lk["canonical_url"] and lk["error"] is None for lk in record["links"]
    )
    notes = [lk["note"] for e in record["entries"] for lk in e["links"] if lk["note"]]
    assert [n.split(":")[0] for n in notes] == [
        "xiaohongshu note",
        "xiaohongshu note",
        "cubox card",
        "feishu document",
    ]
    assert not {k for k in records.REQUIRED["digests"]} - set(record)


def test_cited_links_put_the_digests_own_links_at_entry_0() -> None:
    digest, _ = digest_of()
    record = records.digest(digest, Pointer("warc/x.warc.gz", 0, 1, "urn:uuid:x"), time.time())
    cited = records.cited_links(record)
    assert [url for pos, url, _ in cited if pos == records.DIGEST_ENTRY] == OWN
    assert Counter(pos for pos, _, _ in cited) == Counter(
        {e.position: len(e.links) for e in digest.entries} | {records.DIGEST_ENTRY: len(OWN)}
    )


def test_a_record_from_before_has_no_stand_in_entry() -> None:
    old = {
        "entries": [{"position": 1, "links": [{"url": "https://a.example.com/", "link_id": "a"}]}]
    }
    assert records.citing_entries(old) == old["entries"]
    assert records.cited_links(old) == [(1, "https://a.example.com/", "a")]


# --- the store, the index, verify and the reader ---------------------------------------------


def test_the_digests_own_links_are_cited_by_entry_0(archive: Archive) -> None:
    digest, raw = digest_of()
    counts = archive.record_digest(digest, raw, time.time())
    total = sum(len(e.links) for e in digest.entries) + len(digest.links)
    assert counts["new_links"] == total  # no URL repeats in this fixture
    for link in digest.links:
        assert link_record(archive, link.link_id)["cited_by"] == [
            {"digest": digest.id, "entry": 0, "role": "digest", "url": link.url}
        ]
    assert archive.tally()["rows"] == total


def test_citations_give_a_row_per_own_link_with_entry_0_and_no_entry_title(
    archive: Archive,
) -> None:
    digest, raw = digest_of()
    archive.record_digest(digest, raw, time.time())
    rows = list(citations(archive.root))
    own = [r for r in rows if r["entry"] == 0]
    assert [r["url"] for r in own] == OWN
    assert {(r["role"], r["entry_title"], r["section"], r["status"]) for r in own} == {
        ("digest", None, None, "pending")
    }
    assert Counter(r["role"] for r in rows) == {"source": 4, "related": 3, "digest": 6}
    assert len(rows) == archive.tally()["rows"]


def test_verify_is_clean_and_catches_a_broken_link_back_of_entry_0(archive: Archive) -> None:
    digest, raw = digest_of()
    archive.record_digest(digest, raw, time.time())
    archive.close()
    root = archive.root
    assert list(verify(root)) == []
    lost_id = digest.links[0].link_id
    assert lost_id is not None
    lost = root / "links" / lost_id[:2] / f"{lost_id}.json"
    record = json_of(lost)
    record["cited_by"] = []
    lost.write_text(json.dumps(record), encoding="utf-8")
    other_id = digest.entries[0].links[0].link_id
    assert other_id is not None
    other = root / "links" / other_id[:2] / f"{other_id}.json"
    record = json_of(other)
    record["cited_by"].append({"digest": digest.id, "entry": 0, "role": "digest", "url": "x"})
    other.write_text(json.dumps(record), encoding="utf-8")
    assert set(verify(root)) == {
        f"links/{lost.parent.name}/{lost.name}: cited by {digest.id} entry 0 but cited_by omits it",
        f"links/{other.parent.name}/{other.name}: cited_by names {digest.id} entry 0, "
        "which does not cite it",
    }
    archive.open()  # the fixture closes it


def test_a_changed_digest_no_longer_cites_the_own_link_it_dropped(archive: Archive) -> None:
    text = (FIXTURES / "digest_links.md").read_text(encoding="utf-8")
    digest, raw = digest_of(text=text)
    archive.record_digest(digest, raw, time.time())
    gone = digest.links[-1]
    changed, raw2 = digest_of(
        text=text.replace(" ｜ [邮件](https://daily.example.com/subscribe)", "")
    )
    assert [lk.url for lk in changed.links] == OWN[:-1]
    archive.record_digest(changed, raw2, time.time())
    assert link_record(archive, gone.link_id)["cited_by"] == []
    assert archive.tally()["rows"] == sum(len(e.links) for e in changed.entries) + len(OWN) - 1


def test_reindex_rebuilds_the_citations_of_entry_0(archive: Archive) -> None:
    digest, raw = digest_of()
    archive.record_digest(digest, raw, time.time())
    before = archive.tally()
    (archive.root / "index.sqlite3").unlink()
    archive.close()
    reopened = Archive(archive.root).open()  # a fresh index is rebuilt from the files
    try:
        assert reopened.tally() == before
    finally:
        reopened.close()
    archive.open()


# --- the spider --------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "digests"
    out.mkdir()
    shutil.copy(FIXTURES / "digest_links.md", out / "digest_links.md")
    return out


@pytest.fixture
def crawler(tmp_path: Path, folder: Path) -> Iterator[Crawler]:
    crawler = spider_crawler(tmp_path, folder)
    yield crawler
    close_archive(crawler)


def stat(crawler: Crawler, key: str) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(key)


def test_the_spider_requests_the_digests_own_links_like_entry_links(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    assert crawler.spider is not None
    with caplog.at_level(logging.INFO, logger="spiders.sources"):
        items = drain(crawler.spider.start())
    (read,) = [i for i in items if isinstance(i, DigestRead)]
    requested = [i.url for i in items if isinstance(i, Request)]
    own = [link.canonical_url for link in read.digest.links]
    assert own and set(own) <= set(requested)
    assert len(requested) == 4 + 3 + 6
    assert stat(crawler, stats.cited(Role.DIGEST)) == 6
    assert stat(crawler, stats.cited(Role.SOURCE)) == 4
    assert stat(crawler, stats.cited(Role.RELATED)) == 3
    assert stat(crawler, stats.digest_rule("headings")) == 1
    (summary,) = stat(crawler, stats.DIGESTS_SUMMARIES)
    assert summary == {
        "source": read.digest.source,
        "format": "generic",
        "structure": read.digest.structure,
        "entries": 4,
        "links": {"source": 4, "related": 3, "digest": 6},
    }
    (line,) = [r.getMessage() for r in caplog.records if "entries" in r.getMessage()]
    assert line == (
        f"digest {read.digest.source}: generic, 4 entries, 13 links "
        f"(4 source, 3 related, 6 digest); {read.digest.structure}"
    )


def test_the_summaries_kept_for_the_run_report_stop_at_their_cap(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(FIXTURES / "no_shape.md", folder / "no_shape.md")
    monkeypatch.setattr(stats, "DIGESTS_SUMMARIES_MAX", 1)
    crawler = spider_crawler(tmp_path, folder)
    try:
        assert crawler.spider is not None
        drain(crawler.spider.start())
        assert len(stat(crawler, stats.DIGESTS_SUMMARIES)) == 1
        assert stat(crawler, stats.digest_rule("headings")) == 1
        assert stat(crawler, stats.digest_rule("blocks")) == 1
        assert stat(crawler, stats.DIGESTS_READ) == 2
    finally:
        close_archive(crawler)
