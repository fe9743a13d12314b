"""DistributedAddon: `-s REDIS_URL=redis://host:6379/0` shares one frontier among crawlers.

With REDIS_URL set, scrapy-redis's scheduler and dupefilter replace Scrapy's, so several
`scrapy crawl sources` processes, on one machine or several, take requests from one queue
and fetch each URL once in all. They write into one archive (on a shared filesystem): each
process its own WARC files, records under per-directory file locks. Without REDIS_URL nothing
changes and nothing needs Redis.
"""

from __future__ import annotations

import time

from scrapy.settings import BaseSettings


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
