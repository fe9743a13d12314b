"""Scrapy extensions of `sources`: the open archive, the site back-off, the run report, and the
distributed-mode add-on. Other components find an extension with `required`."""

from __future__ import annotations

from typing import TypeVar

from scrapy.crawler import Crawler

_T = TypeVar("_T")


def required(crawler: Crawler, cls: type[_T]) -> _T:
    """The crawl's instance of extension `cls`; a clear error when EXTENSIONS lacks it."""
    found = crawler.get_extension(cls)
    if found is None:
        raise RuntimeError(
            f"{cls.__module__}.{cls.__name__} is not enabled: add it to the EXTENSIONS setting "
            "(crawler/settings.py lists it)"
        )
    return found
