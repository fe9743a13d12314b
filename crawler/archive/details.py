"""The checkable details of a summary, and where a source text says each of them (pure text).

A detail is a number with its unit, a percentage, an amount of money, a date, a version
number, or a name in Latin script (a model, a product, an organisation). `details(text)` finds
them; `Source(text).find(detail)` says where a source text states the same thing, read as a
reader would: full-width and half-width characters alike, 1.2万 = 12,000 = 12K, 30亿 = 3
billion = 3B, 5亿美元 = $500 million, 2月5日 = 2026-02-05 = Feb 5, "GPT-5" = "GPT 5" = "GPT5".

The rule throughout is that a detail is found only where the source says it: a number needs
the same value and, when the summary gives one, the same kind of unit next to it (a currency
for an amount, % for a percentage); a name must stand on its own (GPT-4 is not found in
GPT-4o, nor in GPT-4.5); a date needs every part the summary gives. A detail that a source
says in other words (a number written in Chinese numerals, a translated name) is `not found`:
the check errs towards asking a person to look, never towards vouching for a summary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

#: Full-width ASCII (！ to ～) and the ideographic space, mapped to half-width: the same length,
#: so that places found in a normalised text are places in the original.
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xFFE5: 0xA5}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
#: Both at once, each character mapped to its final form.
_FOLD = {c: _LOWER.get(t, t) for c, t in _WIDTH.items()} | _LOWER


def normalise(text: str) -> str:
    """Half-width, ASCII lower-case; the same length as `text` (places carry over)."""
    return text.translate(_FOLD)


# -- numbers ---------------------------------------------------------------------------------

_MULTIPLIERS = {
    "万亿": 1e12,
    "千亿": 1e11,
    "百亿": 1e10,
    "十亿": 1e9,
    "亿": 1e8,
    "千万": 1e7,
    "百万": 1e6,
    "十万": 1e5,
    "万": 1e4,
    "千": 1e3,
    "k": 1e3,
    "m": 1e6,
    "b": 1e9,
    "t": 1e12,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "bn": 1e9,
}
#: Currency words and signs, by currency.
_CURRENCIES = {
    "usd": ("美元", "美金", "usd", "us$", "$", "dollars", "dollar"),
    "cny": ("人民币", "元", "rmb", "cny", "¥", "￥", "yuan"),
    "eur": ("欧元", "eur", "€", "euros", "euro"),
    "gbp": ("英镑", "gbp", "£", "pounds"),
    "jpy": ("日元", "jpy", "yen"),
    "hkd": ("港元", "港币", "hkd", "hk$"),
    "krw": ("韩元", "krw", "won"),
}
_CURRENCY_OF = {word: cur for cur, words in _CURRENCIES.items() for word in words}
_PREFIX_SIGNS = ("us$", "hk$", "$", "¥", "￥", "€", "£", "usd", "rmb", "cny", "eur")
_SIGN_ENDS = frozenset(s[-1] for s in _PREFIX_SIGNS)
#: Units a number is counted in, with the words that mean the same.
_UNIT_WORDS = (
    "个百分点",
    "个月",
    "小时",
    "分钟",
    "毫秒",
    "公里",
    "千米",
    "千瓦",
    "兆瓦",
    "参数",
    "亿次",
    "人",
    "名",
    "位",
    "个",
    "家",
    "款",
    "项",
    "篇",
    "本",
    "台",
    "张",
    "次",
    "倍",
    "层",
    "维",
    "步",
    "帧",
    "卡",
    "块",
    "颗",
    "条",
    "份",
    "年",
    "月",
    "天",
    "日",
    "周",
    "秒",
    "行",
    "字",
    "页",
    "种",
    "例",
    "座",
    "辆",
    "部",
    "套",
    "枚",
    "轮",
    "届",
    "代",
    "分",
    "票",
    "股",
    "笔",
    "户",
    "所",
    "只",
    "首",
    "度",
    "米",
    "吨",
    "克",
    "瓦",
)
_LATIN_UNITS = (
    "tflops",
    "pflops",
    "tokens",
    "token",
    "tops",
    "ghz",
    "mhz",
    "mah",
    "fps",
    "fid",
    "gb",
    "tb",
    "mb",
    "kb",
    "hz",
    "ms",
    "nm",
    "mm",
    "cm",
    "km",
    "kg",
    "kw",
    "px",
    "w",
    "x",
    "×",
)
_SAME_UNIT = {"名": "人", "位": "人", "x": "倍", "×": "倍", "token": "tokens", "日": "天"}

_NUMBER = re.compile(
    r"(?<![a-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(\s?[多余]?(?:万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千"
    r"|(?:thousand|million|billion|trillion|bn)(?![a-z])|[kmbt](?![a-z])))?"
)
_PERCENT = re.compile(r"\s?(?:%|percent\b)")
_RANGE = re.compile(r"\s?(?:-|~|–|—|至|到|to)\s?")
_UNIT = re.compile(
    r"\s?(?:("
    + "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")|("
    + "|".join(re.escape(u) for u in sorted(_LATIN_UNITS, key=len, reverse=True))
    + r")(?![a-z]))"
)
_CURRENCY_AFTER = re.compile(
    r"\s?(" + "|".join(re.escape(w) for w in sorted(_CURRENCY_OF, key=len, reverse=True)) + r")"
)


@dataclass(frozen=True)
class Number:
    """A number as written in a text: its value (multiplier applied), what it counts, where."""

    value: float
    start: int
    end: int
    unit: str | None = None  # 人, 参数, gb, 倍 ... (same-meaning words folded)
    currency: str | None = None  # usd, cny, ...
    percent: bool = False
    factor: float = 1.0  # its multiplier: 1e4 for 万, 1e9 for B ...
    decimals: bool = False  # written with a fractional part


def _read_number(text: str, match: re.Match[str]) -> Number:
    """The number at `match` in a normalised text, with its multiplier, unit and currency."""
    whole, fraction, multiplier = match.group(1), match.group(2), match.group(3)
    factor = _MULTIPLIERS[multiplier.strip().lstrip("多余")] if multiplier else 1.0
    value = float(whole.replace(",", "") + (fraction or "")) * factor
    start, end = match.start(), match.end()
    before = text[max(0, start - 4) : start]
    kept = before.rstrip()
    sign = None
    if kept and kept[-1] in _SIGN_ENDS:
        sign = next((s for s in _PREFIX_SIGNS if kept.endswith(s)), None)
    currency = _CURRENCY_OF[sign] if sign else None
    if sign:
        start = start - (len(before) - len(kept)) - len(sign)
    percent = False
    unit = None
    found = _PERCENT.match(text, end)
    if found:
        percent, end = True, found.end()
    else:
        cur = _CURRENCY_AFTER.match(text, end)
        if cur and not (cur.group(1) == "元" and text.startswith("元素", cur.start(1))):
            currency, end = _CURRENCY_OF[cur.group(1)], cur.end()
        else:
            named = _UNIT.match(text, end)
            if named:
                unit = named.group(1) or named.group(2)
                unit = _SAME_UNIT.get(unit, unit)
                end = named.end()
    return Number(
        value,
        start,
        end,
        unit=unit,
        currency=currency,
        percent=percent,
        factor=factor,
        decimals=bool(fraction),
    )


def numbers(text: str) -> list[Number]:
    """Every number of a normalised text, in order; the first end of a range takes the second
    end's multiplier, unit and currency when it has none (1750-1850亿美元, 3至5万人)."""
    found = [_read_number(text, m) for m in _NUMBER.finditer(text)]
    for k in range(len(found) - 1):
        low, high = found[k], found[k + 1]
        if _RANGE.fullmatch(text, low.end, high.start):
            found[k] = _range(low, high)[0]
    return found


def same_value(a: float, b: float) -> bool:
    """Equal values, as written numbers go (1.2万 and 12000; 0.91 and 0.910)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# -- dates -----------------------------------------------------------------------------------

_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = (  # (pattern, which groups are year, month, day)
    (re.compile(r"(?<!\d)(\d{4})\s?年\s?(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]"), "ymd"),
    (re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})\s?年\s?(\d{1,2})\s?月"), "ym"),
    (re.compile(r"(?<![\d.])(\d{4})[-/](\d{1,2})(?![\d/-])"), "ym"),
    (re.compile(r"(?<!\d)(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]"), "md"),
    (re.compile(r"(?<![a-z])" + _MONTH + r"\s(\d{1,2})(?:st|nd|rd|th)?,?\s(\d{4})(?!\d)"), "mdy"),
    (re.compile(r"(?<!\d)(\d{1,2})\s" + _MONTH + r",?\s(\d{4})(?!\d)"), "dmy"),
    (re.compile(r"(?<![a-z])" + _MONTH + r"\s(\d{1,2})(?:st|nd|rd|th)?(?![\d:])"), "md"),
    (re.compile(r"(?<![a-z])" + _MONTH + r",?\s(\d{4})(?!\d)"), "my"),
    (re.compile(r"(?<![\d.])(\d{4})\s?年(?!代)"), "y"),
)


@dataclass(frozen=True)
class When:
    """A date as written: the parts it gives (year, month, day; None where not given)."""

    year: int | None
    month: int | None
    day: int | None
    start: int
    end: int


def _when(parts: str, groups: tuple[str, ...], start: int, end: int) -> When | None:
    values: dict[str, int] = {}
    for part, raw in zip(parts, groups, strict=True):
        values[part] = _MONTHS[raw.rstrip(".")] if not raw.isdigit() else int(raw)
    y, m, d = values.get("y"), values.get("m"), values.get("d")
    if (y is not None and not 1900 <= y <= 2100) or (m is not None and not 1 <= m <= 12):
        return None
    if d is not None and not 1 <= d <= 31:
        return None
    return When(y, m, d, start, end)


def dates(text: str) -> list[When]:
    """Every date of a normalised text (the most specific reading of each place), in order."""
    taken: list[tuple[int, int]] = []
    found: list[When] = []
    for pattern, parts in _DATES:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            when = _when(parts, m.groups(), m.start(), m.end())
            if when is not None:
                taken.append((m.start(), m.end()))
                found.append(when)
    return sorted(found, key=lambda w: w.start)


def same_date(want: When, have: When) -> bool:
    """`have` gives every part `want` gives, with the same value."""
    pairs = ((want.year, have.year), (want.month, have.month), (want.day, have.day))
    return all(w is None or w == h for w, h in pairs)


# -- names and versions ----------------------------------------------------------------------

_NAME = re.compile(
    r"(?<![a-z0-9])[a-z][a-z0-9]*(?:[.'&+][a-z0-9]+)*\+{0,2}"
    r"(?:(?:[ \-_/·]|(?<=[a-z])(?=\d))(?:[a-z][a-z0-9]*(?:[.'&+][a-z0-9]+)*\+{0,2}"
    r"|\d+(?:\.\d+)*[a-z]?(?![\d.]*\d)(?!\s?[x×*]\s?\d)))*",
)
_VERSION = re.compile(r"(?<![a-z0-9])v(\d+(?:\.\d+)*)(?![\d.]*\d)|(\d+(?:\.\d+)+)\s?版")
#: Latin words that name no model, product or organisation: the trade's common words.
_GENERIC_WORDS = """
ai api apis app apps sota ceo cto cfo coo cpo llm llms agi gpu gpus cpu npu tpu ppt pdf it pc
ui ux os sdk ide vr ar xr mr tob toc agent agents token tokens trick demo prompt prompts
benchmark rag moe dau mau arr gmv ipo kpi roi saas paas iaas vs pk ok pro max plus mini web
skill skills aigc ip id q1 q2 q3 q4 h1 h2 b c vc pe native copilot chatbot bot bots ml nlp cv
asr tts ocr json http https url www com cn html css js sql cli gui ios android windows mac
linux store bug bugs faq vip new open source beta alpha preview free gen z
"""
GENERIC = frozenset(_GENERIC_WORDS.split())
_SEPARATORS = re.compile(r"[ \-_/·]+")
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)*")


def _name_ok(name: str) -> bool:
    tokens = _TOKEN.findall(name)
    letters = "".join(t for t in tokens if t.isalpha())
    if len(letters) < 2 or name in GENERIC or _SEPARATORS.sub(" ", name) in GENERIC:
        return False
    if name in _LATIN_UNITS:  # 512 TOPS, 1.54 FID: the unit of a number
        return False
    return not all(t in GENERIC or t.isdigit() or len(t) == 1 for t in tokens)


def name_pattern(name: str) -> re.Pattern[str]:
    """A normalised name as a pattern: its words and numbers with or without a separator
    between them, standing on its own (not followed by a letter, a digit or `.5`)."""
    tokens = _TOKEN.findall(name)
    body = r"[ \-_/·.']?".join(re.escape(t) for t in tokens)
    return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9]|\.\d|\+)")


# -- details ---------------------------------------------------------------------------------

NUMBER = "number"
PERCENT = "percent"
AMOUNT = "amount"
DATE = "date"
VERSION = "version"
NAME = "name"
RANGE = "range"


@dataclass(frozen=True)
class Detail:
    """One checkable detail of a summary: its kind, as written, where (in the text given)."""

    kind: str
    text: str
    start: int
    end: int
    numbers: tuple[Number, ...] = ()
    when: When | None = None
    key: str = ""  # names and versions: the normalised form looked for

    def as_dict(self) -> dict[str, Any]:
        """The detail as JSON: kind, text, start, end."""
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}


def _checkable(n: Number) -> bool:
    """A number worth checking: with a unit, a multiplier, a currency, a % or decimals."""
    return n.percent or n.currency is not None or n.factor != 1 or n.decimals or n.unit is not None


def details(text: str) -> list[Detail]:
    """The checkable details of `text` (a summary or a title), in order, not overlapping."""
    norm = normalise(text)
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in taken)

    found: list[Detail] = []
    for when in dates(norm):
        taken.append((when.start, when.end))
        found.append(Detail(DATE, text[when.start : when.end], when.start, when.end, when=when))
    for m in _VERSION.finditer(norm):
        if free(m.start(), m.end()):
            taken.append((m.start(), m.end()))
            version = m.group(1) or m.group(2)
            found.append(
                Detail(VERSION, text[m.start() : m.end()], m.start(), m.end(), key=version)
            )
    for m in _NAME.finditer(norm):
        name = m.group(0).rstrip(" -_/·.'")
        end = m.start() + len(name)
        if not _name_ok(name) or not free(m.start(), end):
            continue
        taken.append((m.start(), end))
        found.append(Detail(NAME, text[m.start() : end], m.start(), end, key=name))
    dims = re.finditer(r"(?<![\d.])(\d+)\s?[x×*]\s?(\d+)(?![\d.])", norm)
    for m in dims:
        if free(m.start(), m.end()):
            taken.append((m.start(), m.end()))
            key = f"{m.group(1)}x{m.group(2)}"
            found.append(Detail(NUMBER, text[m.start() : m.end()], m.start(), m.end(), key=key))
    nums = numbers(norm)
    k = 0
    while k < len(nums):
        n = nums[k]
        if not free(n.start, n.end):
            k += 1
            continue
        joined = _RANGE.fullmatch(norm, n.end, nums[k + 1].start) if k + 1 < len(nums) else None
        if joined and _checkable(nums[k + 1]) and free(nums[k + 1].start, nums[k + 1].end):
            low, high = n, nums[k + 1]
            taken.append((n.start, high.end))
            found.append(
                Detail(RANGE, text[n.start : high.end], n.start, high.end, numbers=(low, high))
            )
            k += 2
            continue
        if _checkable(n):
            kind = PERCENT if n.percent else AMOUNT if n.currency else NUMBER
            taken.append((n.start, n.end))
            found.append(Detail(kind, text[n.start : n.end], n.start, n.end, numbers=(n,)))
        k += 1
    return sorted(found, key=lambda d: d.start)


def _range(low: Number, high: Number) -> tuple[Number, Number]:
    """A range's two ends, the first taking the second's multiplier and unit (1750-1850亿美元)."""
    factor = high.factor if low.factor == 1 else low.factor
    return (
        Number(
            low.value * factor / low.factor,
            low.start,
            low.end,
            unit=low.unit or high.unit,
            currency=low.currency or high.currency,
            percent=low.percent or high.percent,
            factor=factor,
            decimals=low.decimals,
        ),
        high,
    )


# -- looking details up in a source text -----------------------------------------------------


@dataclass
class Source:
    """A source text, normalised once, its numbers and dates read once."""

    text: str
    norm: str = field(init=False)
    _numbers: list[Number] | None = field(default=None, init=False, repr=False)
    _dates: list[When] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.norm = normalise(self.text)

    @property
    def numbers(self) -> list[Number]:
        """Every number of the text."""
        if self._numbers is None:
            self._numbers = numbers(self.norm)
        return self._numbers

    @property
    def dates(self) -> list[When]:
        """Every date of the text."""
        if self._dates is None:
            self._dates = dates(self.norm)
        return self._dates

    def find(self, detail: Detail) -> tuple[int, int] | None:
        """Where the text says `detail` (start, end), or None."""
        if detail.kind == DATE and detail.when is not None:
            return self._date(detail.when)
        if detail.kind == NAME:
            m = name_pattern(detail.key).search(self.norm)
            return (m.start(), m.end()) if m else None
        if detail.kind == VERSION:
            return self._version(detail.key)
        if detail.key:  # a dimension: 256x256
            a, _, b = detail.key.partition("x")
            m = re.search(rf"(?<![\d.]){a}\s?[x×*]\s?{b}(?![\d.])", self.norm)
            return (m.start(), m.end()) if m else None
        places = [self._number(n) for n in detail.numbers]
        if not places or any(p is None for p in places):
            return None
        starts = [p[0] for p in places if p is not None]
        ends = [p[1] for p in places if p is not None]
        return min(starts), max(ends)

    def _date(self, want: When) -> tuple[int, int] | None:
        for have in self.dates:
            if same_date(want, have):
                return have.start, have.end
        if want.month is None and want.day is None and want.year is not None:
            # a year alone is also said by a bare 2026 (in 2026, 2026 Q4)
            m = re.search(rf"(?<![\d.,]){want.year}(?![\d]|\.\d)", self.norm)
            if m:
                return m.start(), m.end()
        return None

    def _version(self, version: str) -> tuple[int, int] | None:
        m = re.search(rf"(?<![\d.]){re.escape(version)}(?![\d]|\.\d)", self.norm)
        return (m.start(), m.end()) if m else None

    def _number(self, want: Number) -> tuple[int, int] | None:
        for have in self.numbers:
            if not same_value(want.value, have.value) or want.percent != have.percent:
                continue
            if want.currency != have.currency:
                continue
            if want.unit is not None and want.unit != have.unit and not self._near(want, have):
                continue
            return have.start, have.end
        return None

    def _near(self, want: Number, have: Number, reach: int = 12) -> bool:
        """The unit the summary gives is written close to the number in the source."""
        assert want.unit is not None
        around = self.norm[max(0, have.start - reach) : have.end + reach]
        words = [w for w, same in _SAME_UNIT.items() if same == want.unit] + [want.unit]
        return any(w in around for w in words if len(w) > 1 or not w.isascii())
