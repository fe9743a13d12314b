"""DistributedAddon: `-s REDIS_URL=redis://host:6379/0` shares one frontier among crawlers.

With REDIS_URL set, scrapy-redis's scheduler and dupefilter replace Scrapy's, so several
`scrapy crawl sources` processes, on one machine or several, take requests from one queue
and fetch each URL once in all. They write into one archive (on a shared filesystem): each
process its own WARC files, records under per-directory file locks. Without REDIS_URL nothing
changes and nothing needs Redis.

The run's keys (`sources:<DISTRIBUTED_RUN>:requests`, `...:dupefilter`) persist while its
processes come and go, so `DistributedRun` keeps them in order: they expire REDIS_KEYS_TTL
seconds after a process last touched them, and the fingerprints of links that ended
`failed` or `blocked` (not final) are taken out of the dupefilter when a process stops, so a
later run of the same name (a second run on the same day) fetches them again.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from twisted.internet import task

from crawler.items import FINAL, FetchOutcome

logger = logging.getLogger(__name__)

#: Longest pause between two refreshes of the keys' expiry while a process runs.
REFRESH_EVERY = 300.0


class DistributedAddon:
    """Turns on the shared Redis scheduler when REDIS_URL is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("REDIS_URL"):
            # One process: the spider skips links the index holds or that it scheduled in this
            # run, so Scrapy's dupefilter would only keep a fingerprint per URL in memory.
            settings.set("DUPEFILTER_CLASS", "scrapy.dupefilters.BaseDupeFilter", priority="addon")
            return
        # All processes of one run must agree on the run name; the UTC date fits nightly runs.
        run = settings.get("DISTRIBUTED_RUN") or time.strftime("%Y-%m-%d", time.gmtime())
        prefix = f"sources:{run}"
        for name, value in {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            # the first process to finish must not wipe the queue the others still work on
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        }.items():
            settings.set(name, value, priority="addon")
        settings.setdefault_in_component_priority_dict("EXTENSIONS", DistributedRun, 130)


class DistributedRun:
    """Expiry of the run's Redis keys, and failed links out of its dupefilter at the end."""

    def __init__(self, server: Any, queue_key: str, dupefilter_key: str, ttl: int):
        from scrapy_redis.dupefilter import RFPDupeFilter

        self.server = server
        self.keys = (queue_key, dupefilter_key)
        self.dupefilter_key = dupefilter_key
        self.ttl = ttl
        self.fingerprint = RFPDupeFilter(server, dupefilter_key).request_fingerprint
        self.requested: dict[str, list[str]] = {}  # link id -> fingerprints of its requests
        self.retry: list[str] = []  # fingerprints of links that may be fetched again
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Built by Scrapy when the add-on put it in EXTENSIONS; NotConfigured without Redis."""
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is not set")
        from scrapy_redis.connection import get_redis_from_settings

        ext = cls(
            get_redis_from_settings(settings),
            settings.get("SCHEDULER_QUEUE_KEY"),
            settings.get("SCHEDULER_DUPEFILTER_KEY"),
            settings.getint("REDIS_KEYS_TTL"),
        )
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.item_done, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_done, signal=signals.item_error)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        """Refresh the keys' expiry while the crawl runs."""
        if self.ttl > 0:
            self.loop = task.LoopingCall(self.expire)
            self.loop.start(min(REFRESH_EVERY, self.ttl / 2), now=True)

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Note the fingerprint of each request made for a link (its redirect hops too)."""
        link_id = request.meta.get("link_id")
        if link_id:
            self.requested.setdefault(link_id, []).append(self.fingerprint(request))

    def item_done(self, item: Any, **kwargs: Any) -> None:
        """A link's outcome is stored: a link not final may be fetched again later."""
        if not isinstance(item, FetchOutcome):
            return
        fingerprints = self.requested.pop(item.link_id, [])
        if item.status not in FINAL:
            self.retry.extend(fingerprints)

    def expire(self) -> None:
        """The run's keys expire REDIS_KEYS_TTL seconds from now."""
        try:
            for key in self.keys:
                self.server.expire(key, self.ttl)
        except Exception as exc:  # redis' errors: the crawl goes on without the refresh
            logger.warning("distributed: the expiry of the run's Redis keys not set: %s", exc)

    def spider_closed(self, spider: Spider) -> None:
        """Take the links that may be fetched again out of the dupefilter; set the expiry."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.retry:
            try:
                self.server.srem(self.dupefilter_key, *self.retry)
            except Exception as exc:  # redis' errors: a later run of this name skips them
                logger.warning(
                    "distributed: %d failed link(s) left in the dupefilter: %s",
                    len(self.retry),
                    exc,
                )
            else:
                logger.info(
                    "distributed: %d request(s) of links not archived yet may be made again "
                    "by a later run of the same name",
                    len(self.retry),
                )
        if self.ttl > 0:
            self.expire()
