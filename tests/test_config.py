"""crawler.config: every project setting parsed once; a bad value is one line naming the
setting, the value and what is expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from crawler import config
from crawler import settings as project
from crawler.config import SettingError
from tests.conftest import project_settings


def settings(**overrides: Any) -> Settings:
    return Settings(project_settings(**overrides))


def test_the_projects_own_settings_load() -> None:
    loaded = config.load(settings())
    assert loaded.max_error_rate == project.MAX_ERROR_RATE
    assert loaded.extract_workers == 0  # the tests' settings
    assert loaded.archive_dir == project.ARCHIVE_DIR
    assert loaded.remote_control_enabled is False and loaded.telnetconsole_enabled is False
    assert loaded.scrapy["ROBOTSTXT_OBEY"] is True
    assert loaded.notify == config.Notify()


def test_every_project_setting_is_checked() -> None:
    """A setting in crawler/settings.py's project part that config does not know is a gap."""
    text = Path(project.__file__).read_text(encoding="utf-8")
    project_part = text.split("# --- politeness")[0]
    names = {
        line.split("=")[0].split(":")[0].strip()
        for line in project_part.splitlines()
        if line[:1].isupper() and "=" in line
    }
    names -= {"BOT_NAME", "SPIDER_MODULES", "NEWSPIDER_MODULE", "COMMANDS_MODULE", "ADDONS"}
    assert names - set(config.PROJECT) == set()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAX_ERROR_RATE", "abc", "a number from 0 to 1"),
        ("MAX_ERROR_RATE", "1.5", "a number from 0 to 1"),
        ("MAX_ERROR_RATE", "nan", "a number from 0 to 1"),
        ("MAX_ATTEMPTS_PER_URL", "0", "a whole number, 1 or more"),
        ("MAX_ATTEMPTS_PER_URL", "2.5", "a whole number, 1 or more"),
        ("WARC_MAX_BYTES", "1GB", "a number of bytes above 0"),
        ("PROGRESS_INTERVAL", "-1", "a number of seconds, 0 or more"),
        ("EXTRACT_TIMEOUT", "0", "a number of seconds above 0"),
        ("EXTRACT_WORKERS", "many", "'auto' or a number of processes from 0 to 256"),
        ("ARTICLE_DOCUMENTS", "yes", "True or False"),
        ("ROBOTSTXT_OBEY", "no", "True or False"),
        ("ARCHIVE_DIR", " ", "a non-empty string"),
        ("ALLOWED_PRIVATE_NETWORKS", "10.0.0.0/33", "CIDR networks, IP addresses or host names"),
        ("EXTRACT_AS", "{not json", "a JSON object of host names"),
        ("EXTRACT_AS", '{"a.example": 3}', "a JSON object of host names"),
        ("ARTICLE_IMAGES_DOMAINS", "mp.weixin.qq.com,a b", "host names"),
        ("CONTACT_URL", "ftp://x", "a URL"),
        ("REDIS_URL", "localhost:6379", "a URL: redis://... or rediss://... or unix://..."),
        ("DISTRIBUTED_RUN", "a/b", "up to 64 letters, digits"),
        ("NOTIFY_ON", "sometimes", "one of failure, always"),
        ("NOTIFY_WEBHOOK", "hooks.example/x", "a URL: http://... or https://..."),
        ("REDIS_KEYS_TTL", "forever", "a whole number, 0 or more"),
        ("LOG_LEVEL", "LOUD", "one of CRITICAL, ERROR"),
        ("DOWNLOAD_TIMEOUT", "0", "a number of seconds above 0"),
        ("CONCURRENT_REQUESTS", "0", "a whole number, 1 or more"),
    ],
)
def test_a_bad_value_is_one_line_naming_setting_value_and_what_is_expected(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingError) as raised:
        config.load(settings(**{name: value}))
    message = str(raised.value)
    assert message.startswith(f"setting {name}={value!r}: expected ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("MAX_ERROR_RATE", "0.25", 0.25),
        ("MAX_ATTEMPTS_PER_URL", "7", 7),
        ("ARTICLE_DOCUMENTS", "true", True),
        ("ARTICLE_DOCUMENTS", "0", False),
        ("EXTRACT_WORKERS", "auto", "auto"),
        ("EXTRACT_WORKERS", "", "auto"),
        ("EXTRACT_WORKERS", "2", 2),
        ("ARTICLE_IMAGES_DOMAINS", "a.example, *", ("a.example", "*")),
        ("ALLOWED_PRIVATE_NETWORKS", "127.0.0.1/8,intranet", ("127.0.0.1/8", "intranet")),
        (
            "EXTRACT_AS",
            '{"127.0.0.1:8080": "mp.weixin.qq.com"}',
            {"127.0.0.1:8080": "mp.weixin.qq.com"},
        ),
        ("REDIS_URL", "redis://h:6379/0", "redis://h:6379/0"),
        ("DISTRIBUTED_RUN", "2026-11-23", "2026-11-23"),
    ],
)
def test_good_values_are_parsed(name: str, value: str, parsed: Any) -> None:
    attr = config.PROJECT[name][0]
    assert getattr(config.load(settings(**{name: value})), attr) == parsed


def test_the_remote_controls_token_file_may_not_be_in_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    inside = settings(
        ARCHIVE_DIR=str(archive),
        REMOTE_CONTROL_ENABLED="True",
        REMOTE_CONTROL_JOBS_DIR=str(archive / ".local" / "state" / "scrapy" / "job_files"),
    )
    with pytest.raises(
        SettingError, match=r"^setting REMOTE_CONTROL_JOBS_DIR=.*outside ARCHIVE_DIR"
    ):
        config.load(inside)
    outside = settings(
        ARCHIVE_DIR=str(archive),
        REMOTE_CONTROL_ENABLED="True",
        REMOTE_CONTROL_JOBS_DIR=str(tmp_path / "jobs"),
    )
    assert config.load(outside).remote_control_enabled is True


def test_notify_settings_load_alone_when_another_setting_is_bad() -> None:
    bad = settings(MAX_ERROR_RATE="abc", NOTIFY_COMMAND="mail ops", NOTIFY_ON="always")
    with pytest.raises(SettingError):
        config.load(bad)
    assert config.load_notify(bad) == config.Notify(command="mail ops", on="always")
    with pytest.raises(SettingError, match=r"^setting NOTIFY_TIMEOUT="):
        config.load_notify(settings(NOTIFY_TIMEOUT="soon"))


@pytest.mark.parametrize(("value", "parsed"), [("debug", "DEBUG"), (20, "INFO"), ("INFO", "INFO")])
def test_log_levels_are_taken_as_scrapy_takes_them(value: Any, parsed: str) -> None:
    assert config.load(settings(LOG_LEVEL=value)).scrapy["LOG_LEVEL"] == parsed


def test_a_log_level_number_that_is_no_level_is_refused() -> None:
    with pytest.raises(SettingError, match=r"^setting LOG_LEVEL=25: expected one of CRITICAL"):
        config.load(settings(LOG_LEVEL=25))


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (
            "1d until 7d, 7d until 90d, 30d",
            ((7 * 86400.0, 86400.0), (90 * 86400.0, 604800.0), (None, 30 * 86400.0)),
        ),
        ("0s", ((None, 0.0),)),
        ("12h until 2w, 1.5d", ((14 * 86400.0, 43200.0), (None, 1.5 * 86400.0))),
        (["1h until 1d", "1d"], ((86400.0, 3600.0), (None, 86400.0))),
    ],
)
def test_the_recheck_schedule_is_read_by_age(value: Any, parsed: Any) -> None:
    assert config.load(settings(RECHECK_SCHEDULE=value)).recheck_schedule == parsed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECHECK_SCHEDULE", "1d until 7d"),  # no interval for the ages after
        ("RECHECK_SCHEDULE", "1d, 7d"),  # an open interval before the last
        ("RECHECK_SCHEDULE", "1d until 90d, 7d until 7d, 30d"),  # ages not growing
        ("RECHECK_SCHEDULE", "daily"),
        ("RECHECK_SCHEDULE", ""),
        ("RECHECK_SITE_SHARE", "0"),
        ("RECHECK_PER_RUN", "-1"),
        ("RECHECK_BUDGET", "lots"),
        ("RECHECK_CONFIRM_AFTER", "-5"),
    ],
)
def test_a_bad_recheck_setting_is_one_line(name: str, value: str) -> None:
    with pytest.raises(SettingError) as raised:
        config.load(settings(**{name: value}))
    assert str(raised.value).startswith(f"setting {name}={value!r}: expected ")
    assert "\n" not in str(raised.value)
