"""Re-checks in the archive: what each observed, the state it shows, versions, the due rule,
the budget, an older index, reindex, forget and verify (ARCHIVE.md, *Re-checks*)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.archive import Archive, layout, records, rot
from crawler.archive.index import Index
from crawler.archive.verify import verify
from crawler.items import (
    Digest,
    Entry,
    Extracted,
    FetchOutcome,
    Link,
    Observed,
    Role,
    Status,
)
from crawler.urls import url_id

HOUR = 3600.0
DAY = 86400.0
URL = "https://news.example.com/a/1.html"
T0 = 1_780_000_000.0  # the first capture


def digest(urls: list[str], digest_id: str = "d1") -> Digest:
    links = [Link(u, Role.SOURCE, "x", u, url_id(u)) for u in urls]
    return Digest(digest_id, f"/tmp/{digest_id}.md", digest_id * 8, "generic", "t", None, [
        Entry(1, "e", links=links)
    ])  # fmt: skip


def served(
    archive: Archive,
    url: str,
    *,
    status: int = 200,
    text: str | None = "第一版的正文。" * 20,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    extracted_status: Status = Status.ARCHIVED,
    reason: str | None = None,
    final_url: str | None = None,
    redirects: list[str] | None = None,
    recheck: bool = False,
    conditional: bool = False,
    answer: Status | None = None,
) -> FetchOutcome:
    """A fetch of `url` as the pipelines hand it on: its exchange is in WARC."""
    body = body if body is not None else (b"" if status == 304 else (text or "").encode())
    headers = headers or [("Content-Type", "text/html; charset=utf-8")]
    pointer = archive.warc.write_exchange(
        url=final_url or url,
        method="GET",
        request_headers=[("User-Agent", "t")],
        request_body=b"",
        status=status,
        protocol="HTTP/1.1",
        response_headers=headers,
        body=body,
        fetched_at=time.time(),
    )
    extracted = None
    if answer is None and status != 304 and 200 <= status < 300:
        extracted = Extracted(status=extracted_status, reason=reason, text=text or "", title="T")
    return FetchOutcome(
        link_id=url_id(url),
        canonical_url=url,
        status=answer,
        reason=reason if answer is not None else None,
        http_status=status,
        final_url=final_url or url,
        content_type="text/html",
        headers=headers,
        body=body,
        fetched_at=time.time(),
        redirects=redirects or [],
        original=pointer,
        extracted=extracted,
        body_sha256=hashlib.sha256(body).hexdigest() if body else None,
        recheck=recheck,
        conditional=conditional,
    )


def archived(archive: Archive, url: str, **kw: Any) -> str | None:
    """Record a first fetch of `url` that ended archived; its article id."""
    item = served(archive, url, **kw)
    item.status = Status.ARCHIVED
    return archive.record_outcome(item)


def observe(archive: Archive, item: FetchOutcome, now: float) -> Any:
    """Settle a re-check as the re-check stage does and record it."""
    from crawler.outcomes import settle

    status, reason = settle(item)
    return archive.record_observation(item, status, reason, now=now)


@pytest.fixture
def archive(tmp_path: Path) -> Any:
    archive = Archive(tmp_path / "a", confirm_after=6 * HOUR).open()
    archive.record_digest(digest([URL]), b"# d\n", time.time())
    archived(archive, URL, headers=[("Content-Type", "text/html"), ("ETag", '"v1"')])
    yield archive
    archive.close()


def link(archive: Archive, url: str = URL) -> dict[str, Any]:
    record = archive.link_record(url_id(url))
    assert record is not None
    return record


def test_an_archived_link_is_due_on_its_schedule(archive: Archive) -> None:
    record = link(archive)
    cited = records.parse_time(record["first_seen"])
    assert cited is not None
    assert record["next_check"] == pytest.approx(cited + DAY, abs=5)  # daily in week one
    assert archive.rechecks_due(now=time.time()) == 0
    later = time.time() + DAY + 10
    assert archive.rechecks_due(now=later) == 1
    due = list(archive.due_rechecks(10, now=later))
    assert due == [(url_id(URL), URL, {"etag": '"v1"'})]


def test_a_304_to_a_conditional_request_is_unchanged_and_keeps_no_body(archive: Archive) -> None:
    item = served(archive, URL, status=304, recheck=True, conditional=True, answer=Status.FAILED)
    obs = observe(archive, item, T0 + DAY)
    assert obs.outcome == Observed.UNCHANGED and obs.version == 1 and obs.alive is True
    record = link(archive)
    (entry,) = record["observations"]
    assert entry["http_status"] == 304 and entry["body_sha256"] is None
    assert entry["original"] == item.original.as_dict()  # type: ignore[union-attr]
    assert "validators" not in entry  # the validators sent stay those of the first capture
    assert records.validators(record) == {"etag": '"v1"'}


def test_a_304_to_a_request_without_validators_is_no_evidence_of_presence(
    archive: Archive,
) -> None:
    item = served(archive, URL, status=304, recheck=True, answer=Status.FAILED)
    obs = observe(archive, item, T0 + DAY)
    assert obs.outcome == Observed.UNREACHABLE
    assert obs.reason == "HTTP 304 to a request without validators"


def test_the_same_text_in_other_bytes_is_unchanged(archive: Archive) -> None:
    first = link(archive)
    item = served(archive, URL, text="第一版的正文。" * 20, body=b"<html>other bytes</html>")
    obs = observe(archive, item, T0 + DAY)
    assert obs.outcome == Observed.UNCHANGED and obs.version == 1
    assert len(link(archive)["versions"]) == 1
    assert link(archive)["article"] == first["article"]


def test_an_edited_page_is_a_new_version_beside_the_first(archive: Archive) -> None:
    first = link(archive)
    first_article = (layout.article_path(archive.root, first["article"])).read_bytes()
    item = served(archive, URL, text="第二版：编辑过的正文。" * 20, headers=[("ETag", '"v2"')])
    obs = observe(archive, item, T0 + DAY)
    assert obs.outcome == Observed.CHANGED and obs.version == 2
    record = link(archive)
    assert record["article"] == first["article"] and record["original"] == first["original"]
    assert record["versions"][0]["article"] == first["article"]
    new = record["versions"][1]
    assert new["original"] == item.original.as_dict()  # type: ignore[union-attr]
    version = archive.article_record(new["article"])
    assert version is not None
    assert version["links"] == [] and version["version_of"] == [record["id"]]
    assert version["text"].startswith("第二版")
    assert layout.article_path(archive.root, first["article"]).read_bytes() == first_article
    assert records.validators(record) == {"etag": '"v2"'}  # the newest page's, next time
    # the page edited back: a third version naming the first article again
    back = observe(archive, served(archive, URL, text="第一版的正文。" * 20), T0 + 2 * DAY)
    assert back.outcome == Observed.CHANGED and back.version == 3
    assert link(archive)["versions"][2]["article"] == first["article"]
    archive.close()
    assert list(verify(archive.root)) == []
    archive.open()


def test_a_404_is_gone_only_when_a_second_look_hours_later_sees_it_again(
    archive: Archive,
) -> None:
    def gone(now: float) -> Any:
        item = served(archive, URL, status=404, recheck=True, answer=Status.GONE, reason="HTTP 404")
        return observe(archive, item, now)

    first = gone(T0 + DAY)
    assert first.outcome == Observed.GONE and first.alive is None
    record = link(archive)
    assert record["observations"][-1]["confirmed"] is False
    assert record["next_check"] == T0 + DAY + 6 * HOUR  # the confirming look comes soon
    assert gone(T0 + DAY + HOUR).alive is None  # an hour later: not yet
    confirmed = gone(T0 + DAY + 7 * HOUR)
    assert confirmed.alive is False
    record = link(archive)
    assert record["gone_since"] == records.now_iso(T0 + DAY)  # the first look of the absence
    assert record["last_present"] == record["fetch"]["fetched_at"]
    assert record["observations"][-1]["confirmed"] is True
    assert record["status"] == Status.ARCHIVED  # the first capture stays what was archived


def test_the_sites_own_deleted_page_is_gone_at_once(archive: Archive) -> None:
    item = served(
        archive,
        URL,
        text="",
        body="该内容已被发布者删除".encode(),
        extracted_status=Status.GONE,
        reason="weixin: deleted by publisher (该内容已被发布者删除)",
    )
    obs = observe(archive, item, T0 + DAY)
    assert obs.outcome == Observed.GONE and obs.alive is False
    entry = link(archive)["observations"][-1]
    assert entry["explicit"] is True and entry["confirmed"] is True
    assert entry["original"] == item.original.as_dict()  # type: ignore[union-attr]
    assert entry["body_sha256"] == item.body_sha256  # the deleted page, kept as evidence


def test_a_soft_404_or_a_redirect_home_needs_confirming(archive: Archive) -> None:
    soft = served(
        archive, URL, text="", extracted_status=Status.GONE, reason="generic: soft 404 (页面不存在)"
    )
    assert observe(archive, soft, T0 + DAY).alive is None
    home = served(
        archive,
        URL,
        text="首页的内容。" * 30,
        final_url="https://news.example.com/",
        redirects=[URL],
    )
    obs = observe(archive, home, T0 + DAY + 7 * HOUR)
    assert obs.outcome == Observed.GONE and obs.alive is False
    assert obs.reason == "redirected to the site's home page (https://news.example.com/)"
    assert len(link(archive)["versions"]) == 1  # the home page is no version of the article


def test_no_answer_says_nothing_and_the_page_that_comes_back_is_alive(archive: Archive) -> None:
    for hours in (24, 48):
        item = served(archive, URL, status=500, answer=Status.FAILED, reason="HTTP 500")
        assert observe(archive, item, T0 + hours * HOUR).outcome == Observed.UNREACHABLE
        assert link(archive)["alive"] is True
    blocked = served(archive, URL, text="", extracted_status=Status.BLOCKED, reason="walled")
    assert observe(archive, blocked, T0 + 60 * HOUR).outcome == Observed.UNREACHABLE
    gone = served(archive, URL, status=410, answer=Status.GONE, reason="HTTP 410")
    observe(archive, gone, T0 + 72 * HOUR)
    observe(archive, gone, T0 + 80 * HOUR)
    assert link(archive)["alive"] is False
    back = observe(archive, served(archive, URL), T0 + 100 * HOUR)
    assert back.outcome == Observed.UNCHANGED and back.alive is True
    record = link(archive)
    assert record["gone_since"] is None
    assert record["last_present"] == records.now_iso(T0 + 100 * HOUR)
    assert [o["outcome"] for o in record["observations"]] == [
        "unreachable",
        "unreachable",
        "unreachable",
        "gone",
        "gone",
        "unchanged",
    ]


@pytest.mark.parametrize(
    ("outcomes", "alive", "gone_since"),
    [
        ([], True, None),
        ([("unreachable", False)], True, None),
        ([("gone", False)], None, None),
        ([("gone", False), ("gone", True)], False, 0),
        ([("gone", True), ("unreachable", False)], False, 0),
        ([("gone", True), ("gone", True), ("unchanged", False)], True, None),
        ([("unchanged", False), ("gone", False), ("unreachable", False), ("gone", True)], False, 1),
    ],
)
def test_the_state_derives_from_the_observations(
    outcomes: list[tuple[str, bool]], alive: bool | None, gone_since: int | None
) -> None:
    record: dict[str, Any] = {
        "status": "archived",
        "fetch": {"fetched_at": records.now_iso(T0)},
        "observations": [
            {"checked_at": records.now_iso(T0 + (n + 1) * DAY), "outcome": o, "confirmed": c}
            for n, (o, c) in enumerate(outcomes)
        ],
    }
    state = records.link_state(record)
    assert state["alive"] is alive
    expected = None if gone_since is None else records.now_iso(T0 + (gone_since + 1) * DAY)
    assert state["gone_since"] == expected
    assert state["last_checked"] == records.now_iso(T0 + len(outcomes) * DAY)


def test_links_never_archived_have_the_state_their_fetch_showed() -> None:
    gone = {"status": "gone", "fetch": {"fetched_at": "2026-03-01T00:00:00+00:00"}}
    assert records.link_state(gone)["alive"] is False
    assert records.link_state(gone)["gone_since"] == "2026-03-01T00:00:00+00:00"
    assert records.link_state({"status": "failed", "last_attempt": "x"})["alive"] is None
    assert records.link_state({"status": "pending"})["last_checked"] is None


def many(tmp_path: Path, urls: list[str], **kw: Any) -> Archive:
    archive = Archive(tmp_path / "m", **kw).open()
    archive.record_digest(digest(urls), b"# d\n", time.time())
    for url in urls:
        archived(archive, url, text=f"{url} 的正文。" * 20)
    return archive


def test_the_budget_takes_the_most_overdue_first_within_each_sites_share(
    tmp_path: Path,
) -> None:
    urls = [f"https://a.example/{n}" for n in range(6)] + ["https://b.example/1"]
    archive = many(tmp_path, urls)
    try:
        for n, url in enumerate(urls):
            archive.schedule_recheck(url_id(url), T0 + n)
        assert archive.rechecks_due(now=T0 + 100) == 7
        over: list[tuple[str, str]] = []
        due = [u for _, u, _ in archive.due_rechecks(4, 0.5, T0 + 100, lambda *a: over.append(a))]
        assert due == [urls[0], urls[1], urls[6]]  # a.example's share: 2 of 4
        assert over == [(url_id(u), "over_site_share") for u in urls[2:6]]
        assert [u for _, u, _ in archive.due_rechecks(2, 1.0, T0 + 100)] == urls[:2]
        assert [u for _, u, _ in archive.due_rechecks(10, 1.0, T0 + 2.5)] == urls[:3]
        assert list(archive.due_rechecks(0, 1.0, T0 + 100)) == []
    finally:
        archive.close()


def test_when_more_are_due_than_the_budget_the_latest_for_their_interval_go_first(
    tmp_path: Path,
) -> None:
    young, old = "https://a.example/young", "https://a.example/old"
    archive = many(tmp_path, [young, old])
    try:
        now = time.time()
        # checked daily and a day late; checked monthly and a week late
        archive.index.put_check(url_id(young), now - DAY, DAY)
        archive.index.put_check(url_id(old), now - 7 * DAY, 30 * DAY)
        assert [u for _, u, _ in archive.due_rechecks(1, now=now)] == [young]
        assert [u for _, u, _ in archive.due_rechecks(2, now=now)] == [young, old]
    finally:
        archive.close()


def test_due_rechecks_are_read_in_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.archive import index

    monkeypatch.setattr(index, "CHECKS_PAGE", 2)
    urls = [f"https://a.example/{n}" for n in range(5)]
    archive = many(tmp_path, urls)
    try:
        for n, url in enumerate(urls):
            archive.schedule_recheck(url_id(url), T0 + n)
        got = [u for _, u, _ in archive.due_rechecks(10, now=T0 + 100)]
        assert got == urls  # each once, the most overdue first, across pages
    finally:
        archive.close()


def test_a_link_nothing_cites_any_more_is_put_off(tmp_path: Path) -> None:
    urls = ["https://a.example/1", "https://a.example/2"]
    archive = many(tmp_path, urls)
    try:
        archive.record_digest(digest([urls[1]], "d2"), b"# d2\n", time.time())
        archive.forget(["d1"])
        assert records.UNREFERENCED in link(archive, urls[0])
        now = time.time() + 2 * DAY
        passed: list[tuple[str, str]] = []
        due = archive.due_rechecks(10, now=now, passed_over=lambda *a: passed.append(a))
        assert [u for _, u, _ in due] == [urls[1]]
        assert passed == [(url_id(urls[0]), "not_cited")]
        assert archive.index.next_check(url_id(urls[0])) == pytest.approx(now + 7 * DAY)
    finally:
        archive.close()


def test_an_index_made_before_rechecks_gets_its_check_times_on_opening(tmp_path: Path) -> None:
    archive = many(tmp_path, ["https://a.example/1", "https://a.example/2"])
    archive.close()
    db = sqlite3.connect(archive.root / layout.INDEX)
    db.execute("DROP TABLE checks")
    db.execute("DELETE FROM meta WHERE key = 'checks'")
    db.commit()
    db.close()
    index = Index(archive.root / layout.INDEX)
    try:
        assert index.count_due_checks(time.time()) == 2  # never re-checked: due now
    finally:
        index.close()


def test_reindex_takes_the_check_times_from_the_records(archive: Archive) -> None:
    observe(archive, served(archive, URL, status=404, answer=Status.GONE), T0 + DAY)
    expected = link(archive)["next_check"]
    archive.index.put_check(url_id(URL), 1.0)
    archive.reindex()
    assert archive.index.next_check(url_id(URL)) == expected
    from crawler.archive.reindex import next_check

    record = link(archive)
    when, every = next_check(record, T0)
    assert when == expected and every == 6 * HOUR  # the confirming look, 6 h after the 404
    del record["next_check"]  # a record written before re-checks: due from now, as old links
    assert next_check(record, T0) == (T0, 30 * DAY)


def test_forget_takes_the_later_versions_with_the_link(tmp_path: Path) -> None:
    archive = many(tmp_path, [URL])
    try:
        observe(archive, served(archive, URL, text="第二版。" * 30), T0 + DAY)
        version = link(archive)["versions"][1]["article"]
        counts = archive.forget(["d1"], prune=True)
        assert counts["articles_pruned"] == 2
        assert archive.article_record(version) is None
    finally:
        archive.close()
    assert list(verify(tmp_path / "m")) == []


def test_verify_checks_the_observations_and_versions(archive: Archive) -> None:
    observe(archive, served(archive, URL, text="第二版。" * 30), T0 + DAY)
    archive.close()
    assert list(verify(archive.root)) == []
    path = layout.link_path(archive.root, url_id(URL))
    good = json.loads(path.read_text())

    def problems(change: Any) -> list[str]:
        record = json.loads(json.dumps(good))
        change(record)
        path.write_text(json.dumps(record))
        return list(verify(archive.root))

    def wrong_outcome(r: Any) -> None:
        r["observations"][0]["outcome"] = "vanished"

    def bad_pointer(r: Any) -> None:
        r["observations"][0]["original"]["record_id"] = "<urn:uuid:nope>"

    def lost_version(r: Any) -> None:
        r["versions"].pop()
        r["observations"][0]["version"] = None

    def wrong_state(r: Any) -> None:
        r["alive"] = False

    def out_of_order(r: Any) -> None:
        r["observations"].insert(0, {**r["observations"][0], "checked_at": "2099-01-01T00:00:00Z"})

    assert any("unknown outcome 'vanished'" in p for p in problems(wrong_outcome))
    assert any("observations[0]: original" in p for p in problems(bad_pointer))
    assert any("does not list it" in p for p in problems(lost_version))
    assert any("alive False is not what the observations show" in p for p in problems(wrong_state))
    assert any("not in time order" in p for p in problems(out_of_order))
    path.write_text(json.dumps(good))
    assert list(verify(archive.root)) == []
    archive.open()


def test_the_rot_table_counts_per_site(tmp_path: Path) -> None:
    urls = ["https://a.example/1", "https://a.example/2", "https://b.example/1"]
    archive = many(tmp_path, urls)
    try:
        cited = records.parse_time(link(archive, urls[0])["first_seen"])
        assert cited is not None
        deleted = served(
            archive, urls[0], text="", extracted_status=Status.GONE, reason="weixin: deleted"
        )
        observe(archive, deleted, cited + 3 * DAY)
        edited = served(archive, urls[1], text="改过。" * 40)
        observe(archive, edited, cited + DAY)
        failed = served(archive, urls[2], status=503, answer=Status.FAILED, reason="HTTP 503")
        observe(archive, failed, cited + DAY)
    finally:
        archive.close()
    rows = {r.site: r for r in rot.table(tmp_path / "m")}
    a, b, total = rows["a.example"], rows["b.example"], rows["all"]
    assert (a.cited, a.checked, a.still_there, a.changed, a.gone) == (2, 2, 1, 1, 1)
    assert a.median_days_to_absence == 3.0
    assert (b.checked, b.still_there, b.unreachable, b.median_days_to_absence) == (1, 1, 1, None)
    assert (total.cited, total.gone, total.unreachable) == (3, 1, 1)
    import io

    out = io.StringIO()
    rot.write_table(list(rows.values()), out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["site", "cited", "checked"]
    assert lines[-1].split() == ["all", "3", "3", "2", "1", "1", "1", "3.0"]


def test_a_link_naming_the_same_page_shows_that_pages_state(archive: Archive) -> None:
    from crawler.archive.reader import citations

    long_url = "https://news.example.com/a/1.html?from=share"
    with archive.index.transaction():  # URL's page was found to have this URL too
        archive.index.put_alias(long_url, url_id(URL))
    archive.record_digest(digest([long_url], "d2"), b"# d2\n", time.time())
    assert link(archive, long_url)["same_as"] == url_id(URL)
    deleted = served(archive, URL, text="", extracted_status=Status.GONE, reason="deleted")
    observe(archive, deleted, T0 + DAY)
    rows = {r["url"]: r for r in citations(archive.root)}
    assert rows[URL]["alive"] is False and rows[long_url]["alive"] is False
    assert rows[long_url]["gone_since"] == rows[URL]["gone_since"] == records.now_iso(T0 + DAY)


def test_the_due_rechecks_are_found_through_their_index_not_over_the_links(
    tmp_path: Path,
) -> None:
    """The plan reads `checks` by `checks_due` first: a plain JOIN made SQLite walk every
    archived link, which costs what is archived (caught by bench/recheck.py)."""
    from crawler.archive import index

    archive = many(tmp_path, [f"https://a.example/{n}" for n in range(50)])
    try:
        now = time.time()
        for sql, args in (
            (index.COUNT_DUE_CHECKS, (now,)),
            (index.DUE_CHECKS, (now, now, now, 1e9, now, 1e9, "", 10)),
        ):
            plan = [row[3] for row in archive.index.db.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            assert "INDEX checks_due" in plan[0], plan
            assert not any("links_status" in step for step in plan), plan
    finally:
        archive.close()
