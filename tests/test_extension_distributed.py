"""DistributedAddon: without REDIS_URL nothing needs Redis; with it, scrapy-redis's scheduler
and dupefilter share one frontier under the run's keys."""

from __future__ import annotations

import time

from scrapy.settings import Settings

from crawler.extensions.distributed import DistributedAddon


def applied(**values: str) -> Settings:
    settings = Settings(values)
    DistributedAddon().update_settings(settings)
    return settings


def test_a_single_crawl_uses_scrapys_scheduler_without_a_dupefilter() -> None:
    settings = applied()
    assert settings["DUPEFILTER_CLASS"] == "scrapy.dupefilters.BaseDupeFilter"
    assert settings["SCHEDULER"] == Settings()["SCHEDULER"]
    assert "SCHEDULER_QUEUE_KEY" not in settings


def test_redis_url_shares_the_frontier_under_the_runs_name() -> None:
    settings = applied(REDIS_URL="redis://127.0.0.1:6379/0", DISTRIBUTED_RUN="nightly-7")
    assert settings["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert settings["SCHEDULER_QUEUE_KEY"] == "sources:nightly-7:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] == "sources:nightly-7:dupefilter"


def test_the_run_name_defaults_to_the_utc_date() -> None:
    before = time.strftime("%Y-%m-%d", time.gmtime())
    settings = applied(REDIS_URL="redis://127.0.0.1:6379/0")
    after = time.strftime("%Y-%m-%d", time.gmtime())  # midnight may pass in between
    assert settings["SCHEDULER_QUEUE_KEY"] in {f"sources:{d}:requests" for d in (before, after)}


def test_settings_given_on_the_command_line_win() -> None:
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    settings.set("SCHEDULER_PERSIST", False, priority="cmdline")
    DistributedAddon().update_settings(settings)
    assert not settings.getbool("SCHEDULER_PERSIST")
