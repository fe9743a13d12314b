"""crawler.throttle: the one site back-off policy, as pure arithmetic."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from crawler.throttle import (
    RETRY_AFTER_CEILING,
    doubled,
    retry_after_seconds,
    retry_at,
    spaced,
)


def test_retry_after_values() -> None:
    now = 1_760_000_000.0
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(b" 0 ", now) == 0.0
    assert retry_after_seconds(formatdate(now + 90, usegmt=True), now) == 90.0
    assert retry_after_seconds(formatdate(now - 90, usegmt=True), now) == 0.0  # in the past
    for bad in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026"):
        assert retry_after_seconds(bad, now) is None, bad


def test_retry_after_an_absurd_wait_is_taken_as_the_ceiling() -> None:
    assert retry_after_seconds("9" * 30, 0.0) == RETRY_AFTER_CEILING


@pytest.mark.parametrize(
    ("current", "wait", "expected"),
    [(1.0, 5.0, 5.0), (5.0, 5.0, None), (10.0, 5.0, None)],
)
def test_spaced_only_ever_slows_a_site_down(
    current: float, wait: float, expected: float | None
) -> None:
    assert spaced(current, wait) == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [(0.0, 10.0), (1.0, 10.0), (8.0, 16.0), (40.0, 60.0), (60.0, None)],
)
def test_doubled_keeps_a_blocked_site_between_floor_and_ceiling(
    current: float, expected: float | None
) -> None:
    assert doubled(current, floor=10.0, ceiling=60.0) == expected


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [(1, None, 100.0), (2, None, 200.0), (3, None, 400.0), (0, None, 100.0), (1, 500.0, 500.0)],
)
def test_retry_at_doubles_per_attempt_or_waits_for_a_longer_retry_after(
    attempts: int, retry_after: float | None, expected: float
) -> None:
    assert retry_at(1000.0, attempts, 100.0, retry_after) == 1000.0 + expected


@pytest.mark.parametrize(
    ("age_days", "interval_days"),
    [(0, 1), (6.9, 1), (7, 7), (89, 7), (90, 30), (400, 30)],
)
def test_the_recheck_schedule_thins_out_with_age(age_days: float, interval_days: float) -> None:
    from crawler.throttle import DAY, DEFAULT_SCHEDULE, next_check

    cited = 1_000_000.0
    now = cited + age_days * DAY
    assert next_check(cited, now, DEFAULT_SCHEDULE) == now + interval_days * DAY
    assert next_check(now + DAY, now, DEFAULT_SCHEDULE) == now + DAY  # cited "later": age 0


def test_a_schedule_of_one_interval_applies_at_every_age() -> None:
    from crawler.throttle import check_interval

    assert check_interval(0.0, ((None, 60.0),)) == 60.0
    assert check_interval(1e9, ((None, 60.0),)) == 60.0
    assert check_interval(5.0, ((10.0, 1.0), (None, 2.0))) == 1.0
    assert check_interval(10.0, ((10.0, 1.0), (None, 2.0))) == 2.0
