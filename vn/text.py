"""Cleaning and repairing received text: the cell rules every parser in vn/ shares (invisible
characters, dashes, the length of a value, one parse per distinct string) and the repair of
mojibake and HTML entities (``repair_text``).

Every public parser in vn/ accepts any ``str`` (``None`` gives the "empty" result) and never
raises on data: bad input gives ``None`` and, where the return type has one, a short English
``flag`` saying why.  Only programmer errors raise (an unknown ``order=``).  Cells longer than
200 characters are prose, not values: unreadable / None.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, wraps
from typing import Optional

from vn.fold import squash

__all__ = ["INVISIBLE", "DASHES", "MAX_CELL", "clean_cell", "memo_str", "as_text", "may_need_repair", "repair_text"]

# --------------------------------------------------------------------------- cells
# Characters that spreadsheets and web pages slip into cells: NBSP, narrow NBSP,
# zero-width space/joiners, BOM.  They are spaces (or nothing) for parsing purposes.
INVISIBLE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ",
                           "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
                           "\u2060": ""})
DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-",
                        "\u2011": "-", "\u2212": "-"})


# A cell longer than this is prose, not a date/amount/number; the cap also keeps every
# regex below linear-time on hostile input.
MAX_CELL = 200


def clean_cell(text: str) -> str:
    """NFC, invisible characters removed, whitespace collapsed and stripped."""
    return squash(unicodedata.normalize("NFC", text).translate(INVISIBLE))


def memo_str(func):
    """Parse each distinct string once: a file repeats the same amount, date or tax code in many
    rows, and these parsers are pure with immutable results. Other types are not cached."""
    cached = lru_cache(maxsize=65536)(func)

    @wraps(func)
    def parse(text, *args, **kwargs):
        if type(text) is str:   # exactly str: hashable, and equal means same parse
            return cached(text, *args, **kwargs)
        return func(text, *args, **kwargs)
    return parse


def as_text(text) -> Optional[str]:
    """Accept str; numbers become str; anything else (lists, bytes...) gives None."""
    if isinstance(text, str):
        return text
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return str(text)
    return None


# --------------------------------------------------------------------------- dirty text

# Mojibake of UTF-8 read as Latin-1/Windows-1252 always shows a lead byte (Â…ô) followed by a
# continuation byte's character: a cheap test that keeps ftfy off clean text (Vietnamese included).
_MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                            "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
                            "\u2039\u203a\u20ac\u2122]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


@lru_cache(maxsize=1)
def _ftfy_config():
    import ftfy
    # Repair encodings only: quotes, ligatures, widths and line breaks are the source's own text.
    return ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, fix_latin_ligatures=False,
                                fix_character_width=False, fix_line_breaks=False, normalization="NFC",
                                explain=True)


def may_need_repair(text: str) -> bool:
    """A cheap test (two C-level scans) that lets clean text skip :func:`repair_text` entirely."""
    return ("&" in text and _ENTITY.search(text) is not None) or _MOJIBAKE_HINT.search(text) is not None


@memo_str
def repair_text(text: Optional[str]) -> tuple[Optional[str], tuple[str, ...]]:
    """Undo mojibake (``CafÃ©`` -> ``Café``, with ftfy) and HTML entities (``&lt;b&gt;``, double
    escapes ``&amp;lt;`` too), dropping tags the unescaping revealed. Returns the text and what
    was repaired: ``("mojibake repaired", "HTML entities unescaped", "HTML tags removed")``,
    empty when the text was clean (then the text is returned unchanged)."""
    if not isinstance(text, str) or not text:
        return text, ()
    repaired, done = text, []
    if _MOJIBAKE_HINT.search(repaired):
        import ftfy
        fixed = ftfy.fix_and_explain(repaired, config=_ftfy_config())
        if fixed.text != repaired and any(step[0] in ("encode", "decode", "transcode") for step in fixed.explanation or ()):
            repaired = fixed.text
            done.append("mojibake repaired")
    if "&" in repaired and _ENTITY.search(repaired):
        import html
        had_tags = bool(_TAG.search(repaired))
        unescaped = repaired
        for _ in range(3):   # "&amp;lt;" is escaped twice
            # Only whole, known entities: "NN&PTNT;" and "Tom&notes" are text, not HTML.
            unescaped = _ENTITY.sub(lambda m: html.unescape(m.group()), unescaped)
            if not _ENTITY.search(unescaped) or unescaped == repaired:
                break
        if unescaped != repaired:
            repaired = unescaped
            done.append("HTML entities unescaped")
            if not had_tags and _TAG.search(repaired):
                repaired = squash(_TAG.sub(" ", repaired))
                done.append("HTML tags removed")
    return repaired, tuple(done)
