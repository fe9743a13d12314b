"""Lines that are not the article: follow prompts, credits, share bars, and where the article ends.

`strip_boilerplate` applies the rules to an extracted text. A site adds its own through
`Extractor.drop_lines` and `Extractor.end_lines`; the rules here hold for every site.
"""

from __future__ import annotations

import re
from functools import lru_cache

from crawler.extractors.text import SPACES

#: Lines dropped wherever they are (short lines only): follow prompts, editor credits, share bars.
DROP_LINES: tuple[str, ...] = (
    r"扫码关注|扫描二维码关注|长按(?:识别)?二维码|长按.{0,6}关注|点击上方.{0,10}关注|点击蓝字.{0,6}关注",
    r"^[（(【\[]?\s*(?:责任编辑|责编|编辑|校对|审核|监制|实习编辑)\s*[:：|｜]",
    r"^(?:分享到|分享至|微信扫一扫|阅读原文|点赞|在看|收藏|返回搜狐|查看更多)\s*[:：]?$",
    r"^欢迎关注.{0,12}(?:公众号|微信|微博)",
    r"版权所有.{0,20}(?:转载|违者)|未经.{0,10}授权.{0,12}(?:转载|使用)|转载请注明出处|"
    r"^Copyright\s*©|^©\s*\d{4}",
    # a teaser of another story set inside the text: "Baca juga: ...", "Leia também: ..."
    r"^(?:Baca [Jj]uga|Lihat [Jj]uga|Simak [Jj]uga|Leia [Tt]ambém|Veja [Tt]ambém|Lea [Tt]ambién|"
    r"Lire aussi|À lire aussi|Leggi anche|Lesen Sie auch|Read [Mm]ore|Read [Aa]lso|See [Aa]lso|"
    r"Also [Rr]ead|Related|相关阅读|延伸阅读|推荐阅读|相关文章|阅读更多)\s*[:：|｜»>-]\s*\S",
)

#: Headings after which only related links follow: the text is cut there (in its second part,
#: or anywhere after the first paragraph when only teasers follow them).
TAIL_HEADINGS = re.compile(
    r"^[\W_]*(?:相关阅读|推荐阅读|相关文章|相关推荐|相关新闻|延伸阅读|往期推荐|往期回顾|往期精彩|"
    r"精彩推荐|热门文章|热门推荐|猜你喜欢|更多阅读|你可能还喜欢|您可能感兴趣|"
    r"Related(?: (?:Articles?|Posts?|Reading|Stories|News|Content|Coverage))?|"
    r"(?:More|Top|Latest) (?:Stories|News|Articles|from [\w .]{1,30})|Recommended(?: for you)?|"
    r"Read (?:Next|More)|Most (?:Read|Popular)|Trending(?: Now)?|"
    r"You (?:May|Might) (?:Also )?(?:Like|Enjoy|Be Interested In)|Don't Miss|"
    r"Você (?:[Pp]ode|[Tt]ambém [Pp]ode) [Gg]ostar|Veja [Tt]ambém|Leia [Tt]ambém|Mais [Ll]idas|"
    r"Baca [Jj]uga|Berita [Tt]erkait|Artikel [Tt]erkait|Lihat [Jj]uga|Terpopuler|"
    r"Te puede interesar|También te puede interesar|Lo más leído|Noticias relacionadas|"
    r"À lire aussi|Lire aussi|Sur le même sujet|Les plus lus|"
    r"Das könnte Sie auch interessieren|Mehr zum Thema|Meistgelesen|"
    r"Leggi anche|Potrebbe interessarti|Читайте также|Похожие новости|"
    r"関連記事|あわせて読みたい|関連ニュース|관련\s?기사|많이 본 뉴스)[\W_]*$",
    re.I,
)

#: Lines of a teaser feed: short, without the full stop a sentence of the body ends with.
_TEASER = re.compile(r"^.{1,100}$")
_SENTENCE_END = re.compile(r"[。！？!?]$|[^.]\.$")

#: Lines that end an article ("— 完 —", "-END-"): the text is cut there (in its second part).
END_LINES = re.compile(r"^[\s\-—–_=·•*]*(?:完|END|THE END|全文完)[\s\-—–_=·•*]*$", re.I)


@lru_cache(maxsize=64)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled regex matching any of the patterns (None for none), compiled once."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def strip_boilerplate(
    text: str,
    drop: tuple[str, ...] = DROP_LINES,
    end: tuple[str, ...] = (),
    max_drop_len: int = 120,
) -> str:
    """Text with one paragraph a line, boilerplate lines dropped and trailing sections cut.

    A line is dropped when it matches `drop` and is at most `max_drop_len` long. The text ends
    before a short related-links heading or end mark (TAIL_HEADINGS, END_LINES) or a line
    matching `end`, found in its second part: from 40 % of its lines on, in texts of 4+ lines;
    a heading or end mark earlier than that ends it too when only teasers follow (a short
    article above a feed of "You may also like" headlines).
    """
    lines = [SPACES.sub(" ", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    drop_re = _alternation(drop)
    end_re = _alternation(end)
    total = len(lines)
    kept: list[str] = []
    for index, line in enumerate(lines):
        late = total >= 4 and index >= total * 0.4
        tail = len(line) <= 40 and (TAIL_HEADINGS.match(line) or END_LINES.match(line))
        if tail and (late or (kept and teasers(lines[index + 1 :]))):
            break
        if end_re and late and end_re.search(line):
            break
        if drop_re and len(line) <= max_drop_len and drop_re.search(line):
            continue
        kept.append(line)
    return "\n".join(kept)


def teasers(lines: list[str]) -> bool:
    """Whether lines are a feed of teasers (headlines, dates, bylines), not more of the body."""
    if not lines:
        return True
    short = sum(1 for line in lines if _TEASER.match(line) and not _SENTENCE_END.search(line))
    return short >= 0.7 * len(lines)
