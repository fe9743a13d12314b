"""`sources`: archive the articles that AI-news digests cite."""

__version__ = "0.1.0"
