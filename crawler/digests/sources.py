"""Resolving `-a digests=...`: files, folders, globs and http(s) URLs, comma-separated."""

from __future__ import annotations

import glob
import os
from pathlib import Path

DIGEST_SUFFIXES = (".md", ".markdown", ".txt")


class InputError(ValueError):
    """A digests argument names nothing that can be read."""


def resolve(spec: str) -> list[str]:
    """Expand a comma-separated digests spec into sources, in a stable order, without repeats.

    A folder contributes its `*.md`, `*.markdown` and `*.txt` files (recursively); a glob its
    matches; a URL itself. A part that names nothing raises InputError naming that part.
    """
    sources: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part.startswith(("http://", "https://")):
            sources.append(part)
            continue
        path = Path(part).expanduser()
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in DIGEST_SUFFIXES
                and not any(s.startswith(".") for s in p.relative_to(path).parts)
            )
            if not found:
                raise InputError(f"digests folder {part} holds no .md, .markdown or .txt files")
            sources.extend(found)
        elif path.is_file():
            sources.append(str(path))
        elif glob.has_magic(part):
            found = sorted(
                p for p in glob.glob(os.path.expanduser(part), recursive=True) if Path(p).is_file()
            )
            if not found:
                raise InputError(f"digests glob {part} matches no file")
            sources.extend(found)
        else:
            raise InputError(f"digests path {part} does not exist")
    if not sources:
        raise InputError("no digests given (set -a digests=PATH[,PATH...] or DIGESTS)")
    return list(dict.fromkeys(sources))
