"""crawler.digests.sources.resolve: files, folders, globs and URLs in one comma-separated spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.digests.sources import InputError, resolve

#: The tree every table test runs in (relative to tmp_path); "" is an empty file.
TREE = (
    "one.md",
    "two.md",
    "notes.html",
    "days/2026-02-05.md",
    "days/2026-02-06.markdown",
    "days/2026-02-07.txt",
    "days/UPPER.MD",
    "days/image.png",
    "days/.draft.md",
    "days/.hidden/secret.md",
    "days/deeper/nested/2026-02-08.md",
    "only-hidden/.x.md",
    "only-html/page.html",
    "globbed/2026-01-a.md",
    "globbed/2026-01-b.html",
    "globbed/2026-02-c.md",
    "globbed/sub/2026-01-d.md",
)

DAYS = [
    "days/2026-02-05.md",
    "days/2026-02-06.markdown",
    "days/2026-02-07.txt",
    "days/UPPER.MD",
    "days/deeper/nested/2026-02-08.md",
]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TREE under tmp_path, which is also the working directory (specs use relative paths)."""
    for name in TREE:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# digest\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("one.md", ["one.md"], id="file"),
        pytest.param("notes.html", ["notes.html"], id="file-named-explicitly-any-suffix"),
        pytest.param("days", DAYS, id="folder-recursive-suffixes-no-hidden"),
        pytest.param("days/", DAYS, id="folder-trailing-slash"),
        pytest.param("days/deeper", ["days/deeper/nested/2026-02-08.md"], id="subfolder"),
        pytest.param(
            "globbed/2026-01-*",
            ["globbed/2026-01-a.md", "globbed/2026-01-b.html"],
            id="glob-all-matching-files",
        ),
        pytest.param(
            "globbed/**/2026-01-*.md",
            ["globbed/2026-01-a.md", "globbed/sub/2026-01-d.md"],
            id="glob-recursive",
        ),
        pytest.param(
            "globbed/*",
            [
                "globbed/2026-01-a.md",
                "globbed/2026-01-b.html",
                "globbed/2026-02-c.md",
            ],
            id="glob-skips-folders",
        ),
        pytest.param(
            "https://example.com/daily.md", ["https://example.com/daily.md"], id="https-url"
        ),
        pytest.param("http://example.com/a.md?x=1", ["http://example.com/a.md?x=1"], id="http-url"),
        pytest.param(
            "one.md,https://example.com/d.md,two.md",
            ["one.md", "https://example.com/d.md", "two.md"],
            id="mix-keeps-order",
        ),
        pytest.param(
            "  one.md ,\ttwo.md\n, https://example.com/d.md  ",
            ["one.md", "two.md", "https://example.com/d.md"],
            id="whitespace-around-parts",
        ),
        pytest.param("one.md,,two.md,", ["one.md", "two.md"], id="empty-parts-ignored"),
        pytest.param(
            "two.md,one.md,two.md,./one.md", ["two.md", "one.md"], id="duplicates-first-kept"
        ),
        pytest.param(
            "days/2026-02-07.txt,days,globbed/2026-02-*",
            [
                "days/2026-02-07.txt",
                *[d for d in DAYS if d != "days/2026-02-07.txt"],
                "globbed/2026-02-c.md",
            ],
            id="file-then-its-folder-once",
        ),
        pytest.param(
            "https://example.com/d.md,https://example.com/d.md",
            ["https://example.com/d.md"],
            id="duplicate-url",
        ),
    ],
)
def test_resolve_expands_spec_in_order_without_repeats(
    tree: Path, spec: str, expected: list[str]
) -> None:
    """Each spec resolves to exactly these sources, in this order."""
    assert resolve(spec) == expected


def test_resolve_keeps_absolute_paths_absolute(tree: Path) -> None:
    """An absolute folder yields absolute file paths."""
    assert resolve(str(tree / "days")) == [str(tree / d) for d in DAYS]


def test_resolve_expands_home_in_paths(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`~` in a file or folder part is the user's home."""
    monkeypatch.setenv("HOME", str(tree))
    assert resolve("~/one.md,~/days/deeper") == [
        str(tree / "one.md"),
        str(tree / "days/deeper/nested/2026-02-08.md"),
    ]


def test_resolve_expands_home_in_globs(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`~` in a glob part is the user's home, as in a file or folder part."""
    monkeypatch.setenv("HOME", str(tree))
    assert resolve("~/globbed/2026-02-*.md") == [str(tree / "globbed/2026-02-c.md")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("missing.md", "digests path missing.md does not exist", id="missing-path"),
        pytest.param(
            "one.md, nowhere/x.md ,two.md",
            "digests path nowhere/x.md does not exist",
            id="missing-path-among-good-ones-named-stripped",
        ),
        pytest.param(
            "empty",
            "digests folder empty holds no .md, .markdown or .txt files",
            id="empty-folder",
        ),
        pytest.param(
            "only-hidden",
            "digests folder only-hidden holds no .md, .markdown or .txt files",
            id="folder-with-hidden-files-only",
        ),
        pytest.param(
            "only-html",
            "digests folder only-html holds no .md, .markdown or .txt files",
            id="folder-without-digest-suffixes",
        ),
        pytest.param(
            "one.md,globbed/2030-*.md",
            "digests glob globbed/2030-*.md matches no file",
            id="glob-no-match",
        ),
        pytest.param("glob*ed", "digests glob glob*ed matches no file", id="glob-folders-only"),
        pytest.param("", "no digests given", id="empty-spec"),
        pytest.param(" , ,\t", "no digests given", id="blank-parts-only"),
    ],
)
def test_resolve_raises_input_error_naming_the_part(tree: Path, spec: str, message: str) -> None:
    """A part that names nothing raises InputError whose message names that part."""
    with pytest.raises(InputError) as raised:
        resolve(spec)
    assert message in str(raised.value)


def test_input_error_is_a_value_error() -> None:
    """InputError is a ValueError, so callers that catch ValueError still catch it."""
    assert issubclass(InputError, ValueError)
