"""Fixtures of the end-to-end tests: the reader's crawled archive, built once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e import readersite


@pytest.fixture(scope="session")
def reader_site(make_httpserver: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A crawled archive for the reader (tests.e2e.readersite); read-only for the tests that
    share it (they may add the derived search index, nothing else)."""
    root: Path = tmp_path_factory.mktemp("reader")
    make_httpserver.clear()  # `httpserver` clears at set-up only: an earlier test's handlers
    try:
        return readersite.build(make_httpserver, root)
    finally:
        make_httpserver.clear()
