"""parse_date: dates as pages write them, read into ISO 8601."""

from __future__ import annotations

import pytest

from crawler.extractors.dates import parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1581517074", "2020-02-12T22:17:54+08:00"),
        ("2020-02-12 22:17", "2020-02-12T22:17:00+08:00"),
        ("2024/1/25 8:02:33", "2024-01-25T08:02:33+08:00"),
        ("2020-02-12", "2020-02-12"),
        ("2020年2月12日", "2020-02-12"),
        ("2026年2月5日 14:03", "2026-02-05T14:03:00+08:00"),
        ("2025-10-16T17:59:37Z", "2025-10-16T17:59:37+00:00"),
        ("2025-10-17T00:00:00-04:00", "2025-10-17T00:00:00-04:00"),
        ("Thu, 17 Jun 2021 15:45:54 UTC", "2021-06-17T15:45:54+00:00"),
        ("17 Jun 2021", "2021-06-17"),
        ("昨天", None),
        ("3小时前", None),
        ("", None),
        ("2020-13-45", None),
    ],
)
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected
