"""Every project setting parsed and checked once, before anything is opened.

`load(settings)` reads each setting that `sources` defines or relies on (crawler/settings.py
documents them) and returns a typed `Config`; a value that cannot be used raises `SettingError`
with one line naming the setting, the value and what is expected
(``setting MAX_ERROR_RATE='abc': expected a number from 0 to 1``). The spider calls it first
thing, so a bad `-s` fails a crawl before the archive is opened. Components read their
settings from Scrapy as before (the values are known to parse) or from the `Config`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from crawler.netsafety import Allowlist
from crawler.throttle import Schedule


class ConfigError(ValueError):
    """A setting or a spider argument that cannot be used; the message is one line."""


class SettingError(ConfigError):
    """A setting whose value cannot be used."""


class ArgumentError(ConfigError):
    """A spider argument (`-a NAME=VALUE`) that the spider does not take, or a bad value."""


#: When a failed run's notification is sent: on a failure only, or after every run.
NOTIFY_WHEN = ("failure", "always")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")


@dataclass(frozen=True)
class Config:
    """The project's settings, parsed (see crawler/settings.py for what each one means)."""

    digests: str
    archive_dir: str
    warc_max_bytes: int
    max_attempts_per_url: int
    blocked_backoff: float
    blocked_site_delay: float
    article_images_domains: tuple[str, ...]
    article_images_max: int
    article_documents: bool
    requisites_styles: bool
    requisites_max: int
    requisites_max_bytes: int
    requisite_maxsize: int
    requisites_concurrency: int
    requisites_max_pixels: int
    requisites_refetch_after: float
    extract_as: Mapping[str, str]
    extract_workers: int | str
    extract_timeout: float
    extract_worker_memory: int
    extract_worker_recycle_mb: int
    extract_worker_max_pages: int
    extract_max_bytes: int
    decompress_wait_bytes: int
    allowed_private_networks: tuple[str, ...]
    contact_url: str
    progress_interval: float
    max_error_rate: float
    unreachable_share: float
    unreachable_min_fetches: int
    monitor_history: int
    monitor_min_articles: int
    monitor_coverage_drop: float
    monitor_min_site_fetches: int
    monitor_site_drop: float
    notify_command: str
    notify_webhook: str
    notify_on: str
    notify_timeout: float
    redis_url: str
    distributed_run: str
    redis_keys_ttl: int
    recheck_per_run: int
    recheck_budget: int
    recheck_site_share: float
    recheck_schedule: Schedule
    recheck_confirm_after: float
    run_report_enabled: bool
    remote_control_enabled: bool
    telnetconsole_enabled: bool
    scrapy: Mapping[str, Any] = field(default_factory=dict)  # Scrapy's own settings we set

    @property
    def notify(self) -> Notify:
        """The NOTIFY_* settings."""
        return Notify(self.notify_command, self.notify_webhook, self.notify_on, self.notify_timeout)


@dataclass(frozen=True)
class Notify:
    """Whom a run's end is told to (NOTIFY_* settings): a command, a webhook, or neither."""

    command: str = ""
    webhook: str = ""
    on: str = "failure"
    timeout: float = 30.0


def _fail(name: str, value: Any, expected: str) -> SettingError:
    return SettingError(f"setting {name}={value!r}: expected {expected}")


def _number(kind: type, low: float | None, high: float | None, what: str) -> Parser:
    """A parser of an int or a float within [low, high]."""

    def parse(name: str, value: Any) -> Any:
        if isinstance(value, bool):
            raise _fail(name, value, what)
        try:
            number = float(value) if kind is float else _integer(value)
        except (TypeError, ValueError):
            raise _fail(name, value, what) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise _fail(name, value, what)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _fail(name, value, what)
        return number

    return parse


def _integer(value: Any) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def _bool(name: str, value: Any) -> bool:
    """What Scrapy's `getbool` accepts: True/False, 1/0, "True"/"true", "False"/"false"."""
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    if value in ("True", "true"):
        return True
    if value in ("False", "false"):
        return False
    raise _fail(name, value, "True or False")


def _text(nonempty: bool) -> Parser:
    def parse(name: str, value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise _fail(name, value, "a non-empty string" if nonempty else "a string")
        return value.strip()

    return parse


def _strings(name: str, value: Any) -> tuple[str, ...]:
    """A list of strings, or one comma-separated string (as Scrapy's `getlist` reads it)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _fail(name, value, "a list of strings or a comma-separated string")
    return tuple(v.strip() for v in value if v.strip())


def _hosts(name: str, value: Any) -> tuple[str, ...]:
    hosts = _strings(name, value)
    for host in hosts:
        if host != "*" and not _HOST.match(host):
            raise _fail(name, value, "host names (or '*' for every site)")
    return hosts


def _networks(name: str, value: Any) -> tuple[str, ...]:
    entries = _strings(name, value)
    try:
        Allowlist.parse(entries)
    except ValueError:
        raise _fail(name, value, "CIDR networks, IP addresses or host names") from None
    return entries


def _host_map(name: str, value: Any) -> dict[str, str]:
    """{"host[:port]": "site"}, as a dict or its JSON (what Scrapy's `getdict` reads)."""
    import json

    expected = 'a JSON object of host names, {"mirror.example:8080": "mp.weixin.qq.com"}'
    if value in (None, ""):
        return {}
    raw = value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _fail(name, value, expected) from None
    if isinstance(value, BaseSettings):
        value = value.copy_to_dict()
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _HOST.match(k) and _HOST.match(v)
        for k, v in value.items()
    ):
        raise _fail(name, raw, expected)
    return dict(value)


def _workers(name: str, value: Any) -> int | str:
    if value in (None, "", "auto"):
        return "auto"
    parsed: int = _number(int, 0, 256, "'auto' or a number of processes from 0 to 256")(name, value)
    return parsed


def _url(schemes: tuple[str, ...], empty: bool) -> Parser:
    what = " or ".join(f"{s}://..." for s in schemes) + (" (or empty)" if empty else "")

    def parse(name: str, value: Any) -> str:
        text = str(_text(False)(name, value))
        if not text and empty:
            return ""
        try:
            parts = urlsplit(text)
        except ValueError:
            raise _fail(name, value, f"a URL: {what}") from None
        if parts.scheme not in schemes or not (parts.netloc or parts.path):
            raise _fail(name, value, f"a URL: {what}")
        return text

    return parse


def _run_name(name: str, value: Any) -> str:
    text = str(_text(False)(name, value))
    if text and not _RUN_NAME.match(text):
        raise _fail(name, value, "up to 64 letters, digits, '.', '_' or '-' (or empty)")
    return text


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(name: str, value: Any) -> str:
        if options == LOG_LEVELS and isinstance(value, int) and not isinstance(value, bool):
            return logging.getLevelName(value) if value in _LEVEL_NUMBERS else _bad(name, value)
        text = str(value).strip()
        if text.upper() in options and options == LOG_LEVELS:
            return text.upper()
        if text not in options:
            raise _fail(name, value, "one of " + ", ".join(options))
        return text

    return parse


#: A duration: a number and a unit (s, m, h, d, w); a bare number is seconds.
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_SCHEDULE_EXPECTED = (
    "re-check intervals by age, such as '1d until 7d, 7d until 90d, 30d' (each 'EVERY until "
    "AGE' with growing ages, the last 'EVERY' alone; units s, m, h, d, w)"
)


def _duration(text: str) -> float:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(text)
    return float(match.group(1)) * _UNIT[match.group(2)]


def _schedule(name: str, value: Any) -> Schedule:
    """RECHECK_SCHEDULE: "EVERY until AGE, ..., EVERY" (or a list of those parts)."""
    if isinstance(value, list | tuple) and not all(isinstance(p, str) for p in value):
        raise _fail(name, value, _SCHEDULE_EXPECTED)
    parts = _strings(name, value)
    rules: list[tuple[float | None, float]] = []
    try:
        for n, part in enumerate(parts):
            every, _, until = (x.strip() for x in str(part).lower().partition(" until "))
            last = n == len(parts) - 1
            if last == bool(until):
                raise ValueError(part)
            limit = _duration(until) if until else None
            if limit is not None and rules and limit <= (rules[-1][0] or 0):
                raise ValueError(part)
            rules.append((limit, _duration(every)))
    except ValueError:
        raise _fail(name, value, _SCHEDULE_EXPECTED) from None
    if not rules:
        raise _fail(name, value, _SCHEDULE_EXPECTED)
    return tuple(rules)


Parser = Callable[[str, Any], Any]
_LEVEL_NUMBERS = (10, 20, 30, 40, 50)


def _bad(name: str, value: Any) -> str:
    raise _fail(name, value, "one of " + ", ".join(LOG_LEVELS))


_SHARE = _number(float, 0, 1, "a number from 0 to 1")
_SECONDS = _number(float, 0, None, "a number of seconds, 0 or more")
_POSITIVE_SECONDS = _number(float, 1e-3, None, "a number of seconds above 0")
_COUNT = _number(int, 0, None, "a whole number, 0 or more")
_AT_LEAST_ONE = _number(int, 1, None, "a whole number, 1 or more")
_MB = "a number of megabytes, 0 or more (0: no limit)"

#: The project's settings: name -> (Config field, parser).
PROJECT: dict[str, tuple[str, Parser]] = {
    "DIGESTS": ("digests", _text(True)),
    "ARCHIVE_DIR": ("archive_dir", _text(True)),
    "WARC_MAX_BYTES": ("warc_max_bytes", _number(int, 1, None, "a number of bytes above 0")),
    "MAX_ATTEMPTS_PER_URL": ("max_attempts_per_url", _AT_LEAST_ONE),
    "BLOCKED_BACKOFF": ("blocked_backoff", _SECONDS),
    "BLOCKED_SITE_DELAY": ("blocked_site_delay", _SECONDS),
    "ARTICLE_IMAGES_DOMAINS": ("article_images_domains", _hosts),
    "ARTICLE_IMAGES_MAX": ("article_images_max", _COUNT),
    "ARTICLE_DOCUMENTS": ("article_documents", _bool),
    "REQUISITES_STYLES": ("requisites_styles", _bool),
    "REQUISITES_MAX": ("requisites_max", _COUNT),
    "REQUISITES_MAX_BYTES": ("requisites_max_bytes", _COUNT),
    "REQUISITE_MAXSIZE": ("requisite_maxsize", _AT_LEAST_ONE),
    "REQUISITES_CONCURRENCY": ("requisites_concurrency", _AT_LEAST_ONE),
    "REQUISITES_MAX_PIXELS": ("requisites_max_pixels", _AT_LEAST_ONE),
    "REQUISITES_REFETCH_AFTER": ("requisites_refetch_after", _SECONDS),
    "EXTRACT_AS": ("extract_as", _host_map),
    "EXTRACT_WORKERS": ("extract_workers", _workers),
    "EXTRACT_TIMEOUT": ("extract_timeout", _POSITIVE_SECONDS),
    "EXTRACT_WORKER_MEMORY": ("extract_worker_memory", _number(int, 0, None, _MB)),
    "EXTRACT_WORKER_RECYCLE_MB": ("extract_worker_recycle_mb", _number(int, 0, None, _MB)),
    "EXTRACT_WORKER_MAX_PAGES": ("extract_worker_max_pages", _COUNT),
    "EXTRACT_MAX_BYTES": ("extract_max_bytes", _number(int, 1, None, "a number of bytes above 0")),
    "DECOMPRESS_WAIT_BYTES": ("decompress_wait_bytes", _COUNT),
    "ALLOWED_PRIVATE_NETWORKS": ("allowed_private_networks", _networks),
    "CONTACT_URL": ("contact_url", _url(("http", "https", "mailto"), empty=False)),
    "PROGRESS_INTERVAL": ("progress_interval", _SECONDS),
    "MAX_ERROR_RATE": ("max_error_rate", _SHARE),
    "UNREACHABLE_SHARE": ("unreachable_share", _SHARE),
    "UNREACHABLE_MIN_FETCHES": ("unreachable_min_fetches", _AT_LEAST_ONE),
    "MONITOR_HISTORY": ("monitor_history", _COUNT),
    "MONITOR_MIN_ARTICLES": ("monitor_min_articles", _AT_LEAST_ONE),
    "MONITOR_COVERAGE_DROP": ("monitor_coverage_drop", _SHARE),
    "MONITOR_MIN_SITE_FETCHES": ("monitor_min_site_fetches", _AT_LEAST_ONE),
    "MONITOR_SITE_DROP": ("monitor_site_drop", _SHARE),
    "NOTIFY_COMMAND": ("notify_command", _text(False)),
    "NOTIFY_WEBHOOK": ("notify_webhook", _url(("http", "https"), empty=True)),
    "NOTIFY_ON": ("notify_on", _choice(NOTIFY_WHEN)),
    "NOTIFY_TIMEOUT": ("notify_timeout", _POSITIVE_SECONDS),
    "REDIS_URL": ("redis_url", _url(("redis", "rediss", "unix"), empty=True)),
    "DISTRIBUTED_RUN": ("distributed_run", _run_name),
    "REDIS_KEYS_TTL": ("redis_keys_ttl", _COUNT),
    "RECHECK_PER_RUN": ("recheck_per_run", _COUNT),
    "RECHECK_BUDGET": ("recheck_budget", _COUNT),
    "RECHECK_SITE_SHARE": (
        "recheck_site_share",
        _number(float, 1e-6, 1, "a share above 0, at most 1"),
    ),
    "RECHECK_SCHEDULE": ("recheck_schedule", _schedule),
    "RECHECK_CONFIRM_AFTER": ("recheck_confirm_after", _SECONDS),
    "RUN_REPORT_ENABLED": ("run_report_enabled", _bool),
    "REMOTE_CONTROL_ENABLED": ("remote_control_enabled", _bool),
    "TELNETCONSOLE_ENABLED": ("telnetconsole_enabled", _bool),
}

#: Scrapy's own settings that crawler/settings.py sets and a typo in `-s` would break late.
SCRAPY: dict[str, Parser] = {
    "LOG_LEVEL": _choice(LOG_LEVELS),
    "ROBOTSTXT_OBEY": _bool,
    "AUTOTHROTTLE_ENABLED": _bool,
    "RETRY_ENABLED": _bool,
    "DOWNLOAD_FAIL_ON_DATALOSS": _bool,
    "CONCURRENT_REQUESTS": _AT_LEAST_ONE,
    "CONCURRENT_REQUESTS_PER_DOMAIN": _AT_LEAST_ONE,
    "SCRAPER_SLOT_MAX_ACTIVE_SIZE": _AT_LEAST_ONE,
    "DOWNLOAD_DELAY": _SECONDS,
    "DOWNLOAD_DELAY_JITTER": _SHARE,
    "AUTOTHROTTLE_START_DELAY": _SECONDS,
    "AUTOTHROTTLE_MAX_DELAY": _SECONDS,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _number(float, 1e-3, None, "a number above 0"),
    "DOWNLOAD_TIMEOUT": _POSITIVE_SECONDS,
    "DOWNLOAD_MAXSIZE": _COUNT,
    "DOWNLOAD_WARNSIZE": _COUNT,
    "REDIRECT_MAX_TIMES": _COUNT,
    "URLLENGTH_LIMIT": _AT_LEAST_ONE,
    "RETRY_TIMES": _COUNT,
    "RETRY_BACKOFF_BASE": _SECONDS,
    "RETRY_BACKOFF_MAX": _SECONDS,
    "RETRY_AFTER_MAX": _SECONDS,
}


def load(settings: BaseSettings) -> Config:
    """Parse and check every project setting; SettingError naming the first bad one."""
    values = {attr: parse(name, settings.get(name)) for name, (attr, parse) in PROJECT.items()}
    scrapy = {name: parse(name, settings.get(name)) for name, parse in SCRAPY.items()}
    config = Config(**values, scrapy=scrapy)
    _check_remote_control(settings, config)
    return config


def load_notify(settings: BaseSettings) -> Notify:
    """The NOTIFY_* settings alone, so that a crawl stopped by another bad setting is still
    told; SettingError when one of them is bad."""
    values = {
        attr.removeprefix("notify_"): parse(name, settings.get(name))
        for name, (attr, parse) in PROJECT.items()
        if name.startswith("NOTIFY_") and settings.get(name) is not None
    }
    return Notify(**values)


def _check_remote_control(settings: BaseSettings, config: Config) -> None:
    """Scrapy's remote control writes a token file: never inside the archive."""
    if not config.remote_control_enabled:
        return
    from scrapy.utils._remote_control import job_files_dir

    jobs = job_files_dir(settings).expanduser().resolve()
    archive = Path(config.archive_dir).expanduser().resolve()
    if jobs == archive or archive in jobs.parents:
        raise _fail(
            "REMOTE_CONTROL_JOBS_DIR",
            str(jobs),
            f"a folder outside ARCHIVE_DIR ({archive}): the job file holds the access token",
        )
