"""The JavaScript literal reader: string values that inline scripts assign to a name.

Pages keep their metadata in script variables (WeChat's `var ct = "..."`, `window.cgiDataNew =
{nick_name: JsDecode('...')}`); `js_string` reads one string of them and `js_data` a whole
object or array literal, both without running any script.
"""

from __future__ import annotations

import html as htmllib
import re
from functools import lru_cache
from typing import Any

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


# ---- object literals: `window.cgiDataNew = {...}` read into dicts and lists

_STRING = {
    "'": re.compile(r"'([^'\\\n]*(?:\\.[^'\\\n]*)*)'", re.S),
    '"': re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"', re.S),
    "`": re.compile(r"`([^`\\]*(?:\\.[^`\\]*)*)`", re.S),
}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|\n|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.S)
_KEY = re.compile(r"([A-Za-z_$][\w$]*)|(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WRAPPER = re.compile(r"[A-Za-z_$][\w$.]*\(")
_WORDS = {"true": True, "false": False, "null": None, "undefined": None}
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_NAME_OR = re.compile(r"[A-Za-z_$][\w$.]*\s*\|\|\s*")

#: Characters of an object literal read at most (a guard against a runaway scan).
MAX_OBJECT_CHARS = 20_000_000


def _unescape(body: str) -> str:
    """A JS string literal's body with its escapes decoded."""
    if "\\" not in body:
        return body

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        if code[0] == "u" and len(code) > 1:
            value = int(code[1:].strip("{}"), 16)
            return chr(value) if value <= 0x10FFFF else ""
        if code == "\n":  # a line continuation
            return ""
        return _SIMPLE_ESCAPES.get(code, code)

    text = _ESCAPE.sub(one, body)
    # lone surrogates of \\uD83D\\uDE00 pairs, joined as a JS engine would
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class _Reader:
    """A forgiving reader of one JS object or array literal (data, not code)."""

    def __init__(self, source: str, start: int) -> None:
        self.source = source
        self.i = start
        self.end = min(len(source), start + MAX_OBJECT_CHARS)

    def space(self) -> None:
        match = _SPACE.match(self.source, self.i)
        if match:
            self.i = match.end()

    def peek(self) -> str:
        self.space()
        return self.source[self.i] if self.i < self.end else ""

    def value(self) -> Any:
        """One value; an expression it cannot read is skipped and gives None."""
        char = self.peek()
        if char == "{":
            return self.rest(self.obj())
        if char == "[":
            return self.rest(self.array())
        if char in _STRING:
            return self.rest(self.string())
        wrapper = _WRAPPER.match(self.source, self.i)
        if wrapper and wrapper.group(0) in ("JsDecode(", "htmlDecode(", "decodeURIComponent("):
            self.i = wrapper.end()
            inner = self.value()
            if self.peek() == ")":
                self.i += 1
            return self.rest(inner)
        number = _NUMBER.match(self.source, self.i)
        if number:
            self.i = number.end()
            text = number.group(0)
            return self.rest(float(text) if any(c in text for c in ".eE") else int(text))
        fallback = _NAME_OR.match(self.source, self.i)
        if fallback:  # `window.a_value_which_never_exists || 'text'`: the name is unknown here
            self.i = fallback.end()
            return self.value()
        word = _WORD.match(self.source, self.i)
        if (
            word
            and word.group(0) in _WORDS
            and self.source[word.end() : word.end() + 1]
            not in (
                ".",
                "(",
            )
        ):
            self.i = word.end()
            return self.rest(_WORDS[word.group(0)])
        self.skip()
        return None

    def string(self) -> str:
        match = _STRING[self.source[self.i]].match(self.source, self.i)
        if not match:
            raise ValueError("unterminated string")
        self.i = match.end()
        return _unescape(match.group(1))

    def rest(self, value: Any) -> Any:
        """What follows a value up to the next `,`/`}`/`]`: `* 1`, `|| 'b'`, `.html(false)`."""
        char = self.peek()
        if char in (",", "}", "]", ")", ";", ""):
            return value
        if self.source.startswith("||", self.i) and not value:
            self.i += 2
            return self.value()
        self.skip()
        return value

    def skip(self) -> None:
        """Skip an expression up to the `,`, `}`, `]` or `)` that ends it at its own depth."""
        depth = 0
        source = self.source
        while self.i < self.end:
            char = source[self.i]
            if char in _STRING:
                self.string()
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    return
                depth -= 1
            elif char in ",;" and depth == 0:
                return
            self.i += 1
        raise ValueError("unterminated expression")

    def obj(self) -> dict[str, Any]:
        self.i += 1  # {
        found: dict[str, Any] = {}
        while True:
            char = self.peek()
            if char == "}":
                self.i += 1
                return found
            if char == ",":
                self.i += 1
                continue
            if char in _STRING:
                key = self.string()
            else:
                match = _KEY.match(self.source, self.i)
                if not match:
                    raise ValueError(f"unexpected {char!r} in an object")
                key, self.i = match.group(0), match.end()
            if self.peek() != ":":  # shorthand `{a, b}` or a method: not data
                self.skip()
                continue
            self.i += 1
            found[key] = self.value()

    def array(self) -> list[Any]:
        self.i += 1  # [
        found: list[Any] = []
        while True:
            char = self.peek()
            if char == "]":
                self.i += 1
                return found
            if char == ",":
                self.i += 1
                continue
            if not char:
                raise ValueError("unterminated array")
            found.append(self.value())


def js_literal(source: str, start: int) -> Any:
    """The object or array literal that starts at source[start] (`{` or `[`), as Python data.

    String values are decoded (JS escapes; `JsDecode()`/`htmlDecode()` wrappers taken off, HTML
    entities left as they are); `'8' * 1` reads as "8"; `a || b` as the first non-empty one;
    expressions that are code rather than data (calls, names) read as None. Raises ValueError on
    a literal that does not end.
    """
    reader = _Reader(source, start)
    if reader.peek() == "[":
        return reader.array()
    if reader.peek() != "{":
        raise ValueError("not an object or array literal")
    return reader.obj()


def js_data(source: str, name: str) -> dict[str, Any] | list[Any] | None:
    """The object or array literal first assigned to `name` (`window.cgiDataNew = {...}`)."""
    pattern, before = _js_patterns(name, False)
    for match in pattern.finditer(source):
        if not before.search(source, max(0, match.start() - 40), match.start()):
            continue
        start = match.end()
        if source[start : start + 1] not in ("{", "["):
            continue
        try:
            value = js_literal(source, start)
        except (ValueError, IndexError, RecursionError):
            continue
        if isinstance(value, (dict, list)):
            return value
    return None
