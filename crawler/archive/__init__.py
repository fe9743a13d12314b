"""The archive: layout, atomic writes, WARC originals, index, reader (see ARCHIVE.md)."""

from crawler.archive.store import Archive

__all__ = ["Archive"]
