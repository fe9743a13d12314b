"""crawler.archive.check against real saved pages: every detail of the bench's summaries was
read by hand against its page (bench/check_cases/truth.json); none may be found where the page
does not say it, and the summary of another page comes first, matching nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.items import Check
from tests.conftest import REPO, SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "pages").is_dir(), reason="../shared/pages (the real saved pages) is absent"
)


def test_check_on_real_pages_agrees_with_the_hand_read_truth(tmp_path: Path) -> None:
    from bench.check_quality import build
    from crawler.archive import check

    truth = json.loads((REPO / "bench" / "check_cases" / "truth.json").read_text("utf-8"))
    results = check.check(build(tmp_path / "archive"))
    assert (results[0].position, results[0].matches_nothing) == (7, True)
    wrong, missed, seen = [], [], 0
    for result in results:
        for finding in result.findings:
            said = truth[str(result.position)][finding.detail.text]
            seen += 1
            if finding.verdict == Check.FOUND and not said:
                wrong.append((result.position, finding.detail.text))
            if finding.verdict != Check.FOUND and said:
                missed.append((result.position, finding.detail.text))
            if finding.verdict == Check.FOUND:
                where = finding.where[0]
                assert where["excerpt"] and where["start"] < where["end"]
    assert wrong == []
    assert seen >= 60 and len(missed) <= 2, missed
