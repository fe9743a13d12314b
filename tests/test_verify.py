"""`verify` after damage: every damaged WARC record and JSON file named once, and nothing else.

The archive is a real small one (tests/archives.py): every WARC record kind (warcinfo,
resource, response, request, a redirect hop) and every JSON kind.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crawler.archive.verify import verify
from crawler.archive.warcread import Member, complete_end, scan
from tests.archives import Built, build, copy


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("verify") / "archive")


def _warc(root: Path) -> Path:
    (path,) = (root / "warc").glob("*.warc.gz")
    return path


def _positions(member: Member) -> list[int]:
    """Offsets within a member worth damaging: its gzip header, its end, and between."""
    head = list(range(10))  # magic, method, flags, mtime, extra flags, OS
    tail = list(range(member.length - 8, member.length))  # CRC32 and ISIZE
    middle = list(range(10, member.length - 8, max(1, (member.length - 18) // 12)))
    return sorted(set(head + middle + tail))


def test_the_pristine_archive_is_sound(pristine: Built) -> None:
    assert list(verify(pristine.root)) == []
    kinds = {m.headers.get("warc-type") for m in scan(_warc(pristine.root))}
    assert kinds == {"warcinfo", "resource", "response", "request"}


def test_any_single_byte_damage_names_exactly_the_damaged_record(
    pristine: Built, tmp_path: Path
) -> None:
    warc = _warc(pristine.root)
    original = warc.read_bytes()
    members = list(scan(warc))
    work = copy(pristine, tmp_path / "work")
    damaged = _warc(work.root)
    rel = f"warc/{damaged.name}"
    tried = 0
    for member in members:
        for at in _positions(member):
            data = bytearray(original)
            data[member.offset + at] ^= 0xFF
            damaged.write_bytes(bytes(data))
            problems = list(verify(work.root))
            where = f"{member.headers.get('warc-type')} record at {member.offset}, byte {at}"
            # told, by the record's own offset, in the WARC file ...
            assert any(p.startswith(f"{rel}:{member.offset}: ") for p in problems), where
            # ... and nothing about any other record (a JSON file pointing at it names it too)
            for problem in problems:
                assert f"{rel}:{member.offset}" in problem, (where, problems)
            tried += 1
    assert tried > 150


def test_records_after_a_damaged_one_are_read_and_checked(pristine: Built, tmp_path: Path) -> None:
    work = copy(pristine, tmp_path / "work")
    warc = _warc(work.root)
    members = list(scan(warc))
    first = next(m for m in members if m.headers.get("warc-type") == "resource")
    data = bytearray(warc.read_bytes())
    data[first.offset + first.length // 2] ^= 0x55
    warc.write_bytes(bytes(data))
    after = list(scan(warc))
    assert [m.offset for m in after] == [m.offset for m in members]  # resynchronised
    bad = [m for m in after if m.problems]
    assert [m.offset for m in bad] == [first.offset] and bad[0].damaged
    problems = list(verify(work.root))
    assert len([p for p in problems if p.startswith("warc/")]) == 1
    # one line for the damaged range, one for the digest that points at it: no false alarms
    assert len(problems) == 2, problems
    assert "digests/" in problems[1] and "lies in damaged bytes" in problems[1]


def test_a_cut_tail_is_one_problem_and_ends_the_last_whole_member(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    warc = _warc(work.root)
    members = list(scan(warc))
    warc.write_bytes(warc.read_bytes()[:-30])
    problems = [p for p in verify(work.root) if p.startswith("warc/")]
    assert len(problems) == 1 and "broken gzip member" in problems[0]
    assert complete_end(warc) == members[-1].offset


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="cut-short"),
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: "[1, 2, 3]", id="not-an-object"),
        pytest.param(lambda text: text.replace('"entries"', '"entries_"', 1), id="wrong-shape"),
        pytest.param(lambda text: "\udcff".join([text[:10], text[11:]]), id="not-utf8"),
    ],
)
@pytest.mark.parametrize("kind", ["digests", "links", "articles"])
def test_a_damaged_json_record_is_named_once_and_only_it(
    pristine: Built, tmp_path: Path, kind: str, damage: object
) -> None:
    work = copy(pristine, tmp_path / "work")
    path = sorted((work.root / kind).rglob("*.json"))[0]
    text = path.read_text(encoding="utf-8")
    damaged = damage(text)  # type: ignore[operator]
    if damaged == text:  # a link or article has no "entries": damage its shape another way
        damaged = text.replace('"cited_by"', '"cited_"').replace('"text_chars"', '"chars"')
    path.write_bytes(damaged.encode("utf-8", "surrogateescape"))
    rel = path.relative_to(work.root).as_posix()
    problems = list(verify(work.root))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{rel}: ")


def test_verify_tells_a_pointer_with_the_wrong_length(pristine: Built, tmp_path: Path) -> None:
    work = copy(pristine, tmp_path / "work")
    path = next((work.root / "digests").glob("*.json"))
    record = json.loads(path.read_text())
    record["original"]["length"] += 1
    path.write_text(json.dumps(record))
    problems = list(verify(work.root))
    assert len(problems) == 1 and "bytes long, not" in problems[0], problems


def test_a_missing_warc_file_is_told_by_each_record_that_points_into_it(
    pristine: Built, tmp_path: Path
) -> None:
    work = copy(pristine, tmp_path / "work")
    shutil.move(str(_warc(work.root)), str(tmp_path / "elsewhere.warc.gz"))
    problems = list(verify(work.root))
    assert problems and all("missing WARC file" in p for p in problems)
