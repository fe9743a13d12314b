"""Benchmark of `scrapy crawl sources` against a plain Scrapy + trafilatura spider (run.py)."""
