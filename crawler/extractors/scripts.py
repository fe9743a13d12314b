"""The JavaScript literal reader: string values that inline scripts assign to a name.

Pages keep their metadata in script variables (WeChat's `var ct = "..."`, `window.cgiDataNew =
{nick_name: JsDecode('...')}`); `js_string` reads them without running any script.
"""

from __future__ import annotations

import html as htmllib
import re
from functools import lru_cache

_JS_START = r"(?:\bvar\s+|\blet\s+|\bconst\s+|\bwindow\.|\bd\.|[{,\s])"


def _js_literal(source: str, start: int) -> tuple[str | None, int]:
    """Read a JS string literal starting at source[start] (a quote); (value, end index)."""
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i + 2 : i + 4]):
                out.append(chr(int(source[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", source[i + 2 : i + 6]):
                out.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append({"n": "\n", "t": "\t", "r": "", "0": ""}.get(nxt, nxt))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        if char == "\n" and quote != "`":
            return None, i
        out.append(char)
        i += 1
    return None, i


@lru_cache(maxsize=256)
def _js_patterns(name: str, declared: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the assignment of `name`, what must come right before it) as compiled regexes."""
    start = r"(?:\bvar\s+|\blet\s+|\bconst\s+|\bwindow\.)" if declared else _JS_START
    return re.compile(re.escape(name) + r"\s*(?:=(?!=)|:)\s*"), re.compile(f"{start}$")


def js_string(source: str, name: str, declared: bool = False) -> str | None:
    """First non-empty value assigned to a JS variable or property `name` in `source`.

    Handles `var x = "a" || "b"`, `x: 'a'`, `window.x = ...`, `htmlDecode("a")`, `JsDecode('a')`
    and `'a'.html(false)`; JS escapes and HTML entities are decoded. With `declared`, only
    `var`/`let`/`const`/`window.` assignments count (not object properties).
    """
    pattern, before = _js_patterns(name, declared)
    for match in pattern.finditer(source):
        # the name is searched as a literal (fast); what precedes it is checked after
        if not before.search(source, max(0, match.start() - 40), match.start()):
            continue
        i = match.end()
        while i < len(source):
            wrapper = re.match(r"(?:[A-Za-z_$][\w$.]*\()\s*", source[i : i + 40])
            if wrapper:
                i += wrapper.end()
            if i >= len(source) or source[i] not in "\"'`":
                break
            value, i = _js_literal(source, i)
            if value is None:
                break
            value = htmllib.unescape(value).strip()
            if value:
                return value
            rest = re.match(r"\s*\)?\s*(?:\.html\([^)]*\))?\s*(\|\|)?\s*", source[i : i + 60])
            if not rest or not rest.group(1):
                break
            i += rest.end()
    return None
