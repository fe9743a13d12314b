"""Project commands (COMMANDS_MODULE): `crawl` with an exit code that reports the run."""
