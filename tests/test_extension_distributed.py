"""DistributedAddon: without REDIS_URL nothing needs Redis; with it, scrapy-redis's scheduler
and dupefilter share one frontier under the run's keys."""

from __future__ import annotations

import time
from typing import Any

from scrapy import Request
from scrapy.settings import Settings

from crawler.extensions.distributed import DistributedAddon, DistributedRun
from crawler.items import FetchOutcome, Status


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


def test_redis_url_adds_the_extension_that_keeps_the_runs_keys() -> None:
    settings = applied(REDIS_URL="redis://127.0.0.1:6379/0")
    extensions = settings.getwithbase("EXTENSIONS")
    assert extensions[DistributedRun] == 130
    assert DistributedRun not in applied().getwithbase("EXTENSIONS")


class StandInRedis:
    """The calls DistributedRun makes, recorded (redis-py's names)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail

    def expire(self, key: str, ttl: int) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.calls.append(("expire", key, ttl))

    def srem(self, key: str, *members: str) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.calls.append(("srem", key, *members))


def run_of(server: StandInRedis, ttl: int = 600) -> DistributedRun:
    return DistributedRun(server, "sources:x:requests", "sources:x:dupefilter", ttl)


def _request(url: str, link_id: str | None) -> Request:
    return Request(url, meta={"link_id": link_id} if link_id else {})


def test_links_not_archived_leave_the_dupefilter_when_the_process_stops() -> None:
    server = StandInRedis()
    run = run_of(server)
    failed, archived = "a" * 32, "b" * 32
    hop1, hop2 = _request("https://a.example/x", failed), _request("https://a.example/y", failed)
    for request in (hop1, hop2, _request("https://b.example/", archived)):
        run.request_scheduled(request, spider=None)  # type: ignore[arg-type]
    run.request_scheduled(_request("https://c.example/robots.txt", None), spider=None)  # type: ignore[arg-type]
    run.item_done(
        FetchOutcome(link_id=failed, canonical_url="https://a.example/x", status=Status.FAILED)
    )
    run.item_done(
        FetchOutcome(link_id=archived, canonical_url="https://b.example/", status=Status.ARCHIVED)
    )
    assert run.requested == {}
    run.spider_closed(spider=None)  # type: ignore[arg-type]
    assert server.calls[0] == (
        "srem",
        "sources:x:dupefilter",
        run.fingerprint(hop1),
        run.fingerprint(hop2),
    )
    assert server.calls[1:] == [
        ("expire", "sources:x:requests", 600),
        ("expire", "sources:x:dupefilter", 600),
    ]


def test_the_fingerprint_is_scrapy_redis_own() -> None:
    from scrapy_redis.dupefilter import RFPDupeFilter

    run = run_of(StandInRedis())
    request = _request("https://a.example/x?b=1&a=2", "a" * 32)
    assert run.fingerprint(request) == RFPDupeFilter(None, "k").request_fingerprint(request)


def test_without_a_ttl_the_keys_are_left_to_live(caplog: Any) -> None:
    server = StandInRedis()
    run_of(server, ttl=0).spider_closed(spider=None)  # type: ignore[arg-type]
    assert server.calls == []


def test_redis_errors_at_the_end_are_logged_not_raised(caplog: Any) -> None:
    run = run_of(StandInRedis(fail=True))
    run.retry = ["f" * 40]
    run.spider_closed(spider=None)  # type: ignore[arg-type]
    assert "1 failed link(s) left in the dupefilter: redis is down" in caplog.text
    assert "expiry of the run's Redis keys not set: redis is down" in caplog.text
