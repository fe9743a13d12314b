"""Downloader middlewares of `sources`, in DOWNLOADER_MIDDLEWARES order: retries (550), byte
counts (555), redirect guards (580, 600), the WARC recorder (950) and network safety (960)."""
