"""Small pure parsers for values scraped from Vietnamese and international sources.

Every public function accepts any ``str`` (``None`` gives the "empty" result) and never
raises on data: bad input gives ``None`` and, where the return type has one, a short
English ``flag`` saying why.  Only programmer errors raise (an unknown ``order=``).

Formats come from the curated press tables in ``/work/shared/data/curated/vn-news``
(see its README) and from foreign feeds (FDA, CPSC, RappelConso).

Decisions worth knowing (also in the docstrings):

* Dates keep the calendar day *as printed*; time zones are never applied, because a
  notice's date is the issuer's local date.
* Six digits: ``mmyyyy`` when that is a valid month (``012012`` -> 2012-01, clean),
  otherwise ``ddmmyy`` (``030324`` -> 2024-03-03, flagged "ambiguous six-digit date"
  because ``yymmdd`` would read it differently).  Both can never be valid at once.
* Two-digit years pivot at 70 (``24`` -> 2024, ``85`` -> 1985) and are flagged.
* Ranges and lists of dates are recognised but not parsed: flag "date range" /
  "multiple dates", iso None.
* Numbers: with both ``.`` and ``,`` the last one is the decimal separator; a *single*
  separator in :func:`parse_float` is always the decimal point (``6,318`` -> 6.318), see
  its docstring.  Money has its own rule (unit words decide).
* ``Việt Nam-18188-14`` is read as ``VN-18188-14`` (an editor's expansion of "VN").
* Cells longer than 200 characters are prose, not values: unreadable / None.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache, wraps
from typing import NamedTuple, Optional

# fold: lower case, đ -> d, diacritics dropped (the search's folding), so the regexes below match
# 'tháng', 'août'...; squash: whitespace runs as one space.
from db.fold import fold, squash

try:  # python-stdnum is a project dependency, but keep a local fallback
    from stdnum.vn import mst as _stdnum_mst
except ImportError:  # pragma: no cover - exercised only without stdnum.vn
    _stdnum_mst = None
try:
    from stdnum import ean as _stdnum_ean
except ImportError:  # pragma: no cover
    _stdnum_ean = None

__all__ = [
    "ParsedDate",
    "ParsedMoney",
    "parse_date",
    "parse_money_vnd",
    "money_hedge",
    "parse_tax_code",
    "parse_drug_registration",
    "parse_declaration_no",
    "gtin_check",
    "extract_gtins",
    "parse_float",
]


class ParsedDate(NamedTuple):
    """``iso`` 'YYYY-MM-DD' / 'YYYY-MM' / 'YYYY' or None; ``precision`` 'day' /
    'month' / 'year' or None; ``flag`` None when clean, else a short reason."""

    iso: Optional[str]
    precision: Optional[str]
    flag: Optional[str]


class ParsedMoney(NamedTuple):
    """``vnd`` whole đồng or None; ``note`` hedge such as "lower bound" (the value
    itself is fine); ``flag`` None when clean, else a short reason."""

    vnd: Optional[int]
    note: Optional[str]
    flag: Optional[str]


EMPTY_DATE = ParsedDate(None, None, None)
EMPTY_MONEY = ParsedMoney(None, None, None)

# --------------------------------------------------------------------------- helpers

# Characters that spreadsheets and web pages slip into cells: NBSP, narrow NBSP,
# zero-width space/joiners, BOM.  They are spaces (or nothing) for parsing purposes.
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ",
                            "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
                            "\u2060": ""})
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-",
                         "\u2011": "-", "\u2212": "-"})


# A cell longer than this is prose, not a date/amount/number; the cap also keeps every
# regex below linear-time on hostile input.
_MAX_LEN = 200


def _clean(text: str) -> str:
    """NFC, invisible characters removed, whitespace collapsed and stripped."""
    return squash(unicodedata.normalize("NFC", text).translate(_INVISIBLE))




def _memo_str(func):
    """Parse each distinct string once: a file repeats the same amount, date or tax code in many
    rows, and these parsers are pure with immutable results. Other types are not cached."""
    cached = lru_cache(maxsize=65536)(func)

    @wraps(func)
    def parse(text, *args, **kwargs):
        if type(text) is str:   # exactly str: hashable, and equal means same parse
            return cached(text, *args, **kwargs)
        return func(text, *args, **kwargs)
    return parse


def _coerce(text) -> Optional[str]:
    """Accept str; numbers become str; anything else (lists, bytes...) gives None."""
    if isinstance(text, str):
        return text
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return str(text)
    return None


# --------------------------------------------------------------------------- dates

_MIN_YEAR, _MAX_YEAR = 1900, 2100
_TWO_DIGIT_PIVOT = 70  # 00-69 -> 20xx, 70-99 -> 19xx

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10,
    "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # French (accents already folded away: février -> fevrier, août -> aout)
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
_WEEKDAYS = {  # value: date.weekday()
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
    "wed": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6,
}
_VN_WEEKDAYS = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3,
                "sau": 4, "6": 4, "bay": 5, "7": 5}

# A trailing clock time (and zone) is dropped: only the printed calendar date matters.
_TRAILING_TIME = re.compile(
    r"(?:[\st,]+|\s*-\s*)(?:luc\s*)?\d{1,2}[:h]\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"\s*(?:am|pm)?\s*(?:z|utc|gmt|[a-z]{3,4}|[+-]\d{2}:?\d{2}|\(?gmt\s*[+-]\s*\d{1,2}(?::?\d{2})?\)?)?$", re.A)
_DAY_PLACEHOLDER = r"\?{1,2}|x{1,2}"
_NUM3 = re.compile(
    r"^(?P<a>\d{1,2}|" + _DAY_PLACEHOLDER + r")\s*(?P<s1>[./-])\s*(?P<b>\d{1,2})"
    r"\s*(?P<s2>[./-])\s*(?P<y>\d{4}|\d{2})$", re.A)
_YMD = re.compile(r"^(?P<y>\d{4})\s*(?P<s1>[./-])\s*(?P<m>\d{1,2})\s*(?P<s2>[./-])\s*(?P<d>\d{1,2})$", re.A)
_MY = re.compile(r"^(?P<m>\d{1,2})\s*[./-]\s*(?P<y>\d{4})$", re.A)
_YM = re.compile(r"^(?P<y>\d{4})\s*[./-]\s*(?P<m>\d{1,2})$", re.A)
_NO_YEAR = re.compile(r"^\d{1,2}\s*[./-]\s*\d{1,2}$", re.A)
_DIGITS = re.compile(r"^[0-9]+$")

_VN_WD = r"(?:(?:thu\s+(?P<vwd>hai|ba|tu|nam|sau|bay|[2-7])|(?P<cn>chu\s+nhat|cn))\s*,?\s*)?"
_VN_DMY = re.compile(r"^" + _VN_WD + r"(?:ngay\s+)?(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})"
                     r"\s*(?:,?\s*nam\s+|[/.-]\s*)(?P<y>\d{4})$", re.A)
_VN_MY = re.compile(r"^thang\s+(?P<m>\d{1,2})\s*(?:,?\s*nam\s+|[/.-]\s*)(?P<y>\d{4})$", re.A)
_VN_Y = re.compile(r"^nam\s+(?P<y>\d{4})$", re.A)
_VN_NGAY = re.compile(r"^" + _VN_WD + r"(?:ngay\s+)?(?P<rest>\d.*)$", re.A)
_VN_NO_YEAR = re.compile(r"^(?:ngay\s+)?\d{1,2}\s+thang\s+\d{1,2}$", re.A)

_WD = (r"(?:(?P<wd>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
       + r")\.?\s*,?\s+)?")
_NAMED_DMY = re.compile(r"^" + _WD + r"(?:le\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th|er)?\s+(?:of\s+)?"
                        r"(?P<m>[a-z]+)\.?\s*,?\s+(?P<y>\d{4})$", re.A)
_NAMED_MDY = re.compile(r"^" + _WD + r"(?P<m>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?"
                        r"\s*,?\s+(?P<y>\d{4})$", re.A)
_NAMED_MY = re.compile(r"^(?P<m>[a-z]+)\.?\s*,?\s+(?P<y>\d{4})$", re.A)

_RANGE_SPLIT = re.compile(r"\s+-\s+|\s*[\u2013\u2014]\s*|\s+(?:den|toi|to|au)\s+|(?<=\b[0-9]{4})-(?=[0-9]{4}\b)")
_LIST_SPLIT = re.compile(r"\s*[;,]\s*|\s+(?:va|and|et)\s+")
_RELATIVE = re.compile(r"\b(?:ke tu|tu ngay|sau ngay|from (?:the )?date|after)\b")


def _join_flags(*flags: Optional[str]) -> Optional[str]:
    kept = [f for f in flags if f]
    return "; ".join(kept) if kept else None


def _build(year: int, month: Optional[int] = None, day: Optional[int] = None,
           flag: Optional[str] = None) -> ParsedDate:
    """Validate calendar parts; out-of-range years and non-dates are 'impossible'."""
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return ParsedDate(None, None, "impossible date")
    if month is None:
        return ParsedDate(f"{year:04d}", "year", flag)
    if not 1 <= month <= 12:
        return ParsedDate(None, None, "impossible date")
    if day is None:
        return ParsedDate(f"{year:04d}-{month:02d}", "month", flag)
    try:
        _dt.date(year, month, day)
    except ValueError:
        return ParsedDate(None, None, "impossible date")
    return ParsedDate(f"{year:04d}-{month:02d}-{day:02d}", "day", flag)


def _year(text: str) -> tuple[int, Optional[str]]:
    """Four digits as is; two digits through the pivot, with a flag."""
    if len(text) == 2:
        yy = int(text)
        return (2000 + yy if yy < _TWO_DIGIT_PIVOT else 1900 + yy), "two-digit year"
    return int(text), None


def _check_weekday(parsed: ParsedDate, weekday: Optional[int]) -> ParsedDate:
    """A printed weekday that contradicts the date is worth a flag (typo somewhere)."""
    if weekday is None or parsed.precision != "day":
        return parsed
    if _dt.date.fromisoformat(parsed.iso).weekday() != weekday:
        return parsed._replace(flag=_join_flags(parsed.flag, "weekday does not match date"))
    return parsed


def _date_from_digits(s: str, order: str) -> Optional[ParsedDate]:
    """'2020', 'mmyyyy'/'ddmmyy' (6 digits), 'yyyymmdd'/'ddmmyyyy' (8 digits)."""
    if not _DIGITS.match(s):
        return None
    if len(s) == 4:
        return _build(int(s))
    if len(s) == 6:
        # mmyyyy and ddmmyy cannot both be valid: mmyyyy needs the middle digits to
        # start a year (19/20), which is never a month.
        if 1 <= int(s[:2]) <= 12 and _MIN_YEAR <= int(s[2:]) <= _MAX_YEAR:
            return _build(int(s[2:]), int(s[:2]))
        first, second = (s[:2], s[2:4]) if order == "dmy" else (s[2:4], s[:2])
        year, _ = _year(s[4:])
        parsed = _build(year, int(second), int(first), "ambiguous six-digit date")
        return parsed if parsed.iso else ParsedDate(None, None, "unreadable date")
    if len(s) == 8:
        ymd = _build(int(s[:4]), int(s[4:6]), int(s[6:]))
        first, second = (s[:2], s[2:4]) if order == "dmy" else (s[2:4], s[:2])
        dmy = _build(int(s[4:]), int(second), int(first))
        # Never both valid: yyyymmdd's month would be the '19'/'20' of dmy's year.
        for candidate in (ymd, dmy):
            if candidate.iso:
                return candidate
        return ParsedDate(None, None, "impossible date")
    return ParsedDate(None, None, "unreadable date")


def _date_numeric(s: str, order: str) -> Optional[ParsedDate]:
    """'27/03/2020', '5.3.2025', '21-2-2024', '??/10/2014', '2026-04-28', '03/2020'."""
    m = _YMD.match(s)
    if m:
        flag = "mixed separators" if m["s1"] != m["s2"] else None
        return _build(int(m["y"]), int(m["m"]), int(m["d"]), flag)
    m = _NUM3.match(s)
    if m:
        year, flag = _year(m["y"])
        if m["s1"] != m["s2"]:  # '5/5.2023' as printed: readable, but say so
            flag = _join_flags(flag, "mixed separators")
        day_s, month_s = (m["a"], m["b"]) if order == "dmy" else (m["b"], m["a"])
        if not day_s.isdigit():  # '??/10/2014': the day is unknown, month is fine
            return _build(year, int(month_s), None, flag)
        if not month_s.isdigit():
            return ParsedDate(None, None, "unreadable date")
        return _build(year, int(month_s), int(day_s), flag)
    m = _MY.match(s) or _YM.match(s)
    if m:
        return _build(int(m["y"]), int(m["m"]))
    if _NO_YEAR.match(s):  # '27.3', '1/8', '5.11', also 'mm/yy' on packs: undecidable
        return ParsedDate(None, None, "date without year")
    return None


def _date_vietnamese(f: str, order: str) -> Optional[ParsedDate]:
    """'ngày 5 tháng 3 năm 2025', 'tháng 3/2025', 'tháng 3 năm 2025', 'năm 2025',
    'ngày 5/3/2025', optionally after 'thứ năm,' (all matched on folded text)."""
    m = _VN_DMY.match(f)
    if m:
        parsed = _build(int(m["y"]), int(m["m"]), int(m["d"]))
        return _check_weekday(parsed, _vn_weekday(m))
    m = _VN_MY.match(f)
    if m:
        return _build(int(m["y"]), int(m["m"]))
    m = _VN_Y.match(f)
    if m:
        return _build(int(m["y"]))
    m = _VN_NGAY.match(f)
    if m:
        parsed = _date_numeric(m["rest"], order)
        return _check_weekday(parsed, _vn_weekday(m)) if parsed else None
    if _VN_NO_YEAR.match(f):
        return ParsedDate(None, None, "date without year")
    return None


def _vn_weekday(m: re.Match) -> Optional[int]:
    if m["cn"]:
        return 6
    return _VN_WEEKDAYS.get(m["vwd"]) if m["vwd"] else None


def _date_named(f: str) -> Optional[ParsedDate]:
    """English/French month names: 'November 10, 2021', 'Wed, 10 Nov 2021',
    'jeudi 31 mars 2022', '1er mars 2022', 'March 2022'."""
    for rx in (_NAMED_DMY, _NAMED_MDY):
        m = rx.match(f)
        if m and m["m"] in _MONTHS:
            weekday = _WEEKDAYS.get(m["wd"]) if m["wd"] else None
            parsed = _build(int(m["y"]), _MONTHS[m["m"]], int(m["d"]))
            return _check_weekday(parsed, weekday)
    m = _NAMED_MY.match(f)
    if m and m["m"] in _MONTHS:
        return _build(int(m["y"]), _MONTHS[m["m"]])
    return None


def _parse_single_date(s: str, order: str) -> Optional[ParsedDate]:
    """One date in any supported shape, or None when the shape is not recognised."""
    f = fold(s).translate(_DASHES)
    f = _TRAILING_TIME.sub("", f).strip(" ,")
    if not f:
        return None
    return (_date_from_digits(f, order) or _date_numeric(f, order)
            or _date_vietnamese(f, order) or _date_named(f))


def _parse_composite_date(s: str, order: str) -> Optional[ParsedDate]:
    """Production windows ('01/2023 – 07/2024') and lists ('2019, 2020, 2022')."""
    f = re.sub(r"^(?:tu|from|du)\s+", "", fold(s))
    for splitter, flag in ((_RANGE_SPLIT, "date range"), (_LIST_SPLIT, "multiple dates")):
        parts = [p for p in splitter.split(f) if p.strip()]
        if len(parts) < 2:
            continue
        # A list may contain ranges: '05/10/2017 – 10/11/2017; 31/07/2018 – 06/12/2018'.
        if all((_parse_single_date(p, order) or EMPTY_DATE).iso
               or (_parse_composite_date(p, order) if splitter is _LIST_SPLIT else None)
               for p in parts):
            return ParsedDate(None, None, flag)
    return None


@_memo_str
def parse_date(text: Optional[str], order: str = "dmy") -> ParsedDate:
    """Parse one printed date into ``ParsedDate(iso, precision, flag)``.

    Formats (``order`` only matters for all-numeric day/month forms, "dmy" or "mdy"):

    * ``27/03/2020``, ``5/3/2025``, ``27.03.2020``, ``21-2-2024``; mdy ``04/14/2026``
    * ``03/2020``, ``3/2020`` (month), ``2020`` (year), ``??/10/2014`` (month)
    * ``2026-04-28``, ``2014-06-02 00:00:00``, ISO datetimes with ``Z``/offsets; the
      printed day is kept, no time-zone conversion
    * ``20140602`` / ``01012024`` (8 digits: yyyymmdd or ddmmyyyy, whichever is valid)
    * ``012012`` (mmyyyy, clean); ``030324`` (ddmmyy -> 2024-03-03, flagged
      "ambiguous six-digit date")
    * ``ngày 5 tháng 3 năm 2025``, ``tháng 3/2025``, ``tháng 3 năm 2025``, ``năm 2025``
    * ``November 10, 2021``, ``Wed, 10 Nov 2021 00:00:00 -0500``, ``jeudi 31 mars 2022``,
      ``31 mars 2022``, ``1er mars 2022``

    Flags: "unreadable date", "impossible date" (31/02, years outside 1900-2100),
    "two-digit year" (pivot 70, iso given), "mixed separators" (``5/5.2023``, iso given),
    "weekday does not match date" (iso given), "date without year" (``5.11``),
    "date range", "multiple dates", "relative date" ("3 năm kể từ ngày sản xuất").
    Empty or whitespace gives ``(None, None, None)``.
    """
    if order not in ("dmy", "mdy"):
        raise ValueError(f"order must be 'dmy' or 'mdy', not {order!r}")
    if isinstance(text, _dt.datetime):  # openpyxl hands over real datetimes
        text = text.date()
    if isinstance(text, _dt.date):
        return _build(text.year, text.month, text.day)
    s = _coerce(text)
    if s is None:
        return EMPTY_DATE if text is None else ParsedDate(None, None, "unreadable date")
    s = _clean(s)
    if not s:
        return EMPTY_DATE
    if len(s) > _MAX_LEN:
        return ParsedDate(None, None, "unreadable date")
    parsed = _parse_single_date(s, order) or _parse_composite_date(s, order)
    if parsed is not None:
        return parsed
    if _RELATIVE.search(fold(s)):
        return ParsedDate(None, None, "relative date")
    return ParsedDate(None, None, "unreadable date")


# --------------------------------------------------------------------------- money

_UNITS = {"ty": 10**9, "ti": 10**9, "trieu": 10**6, "tr": 10**6,
          "nghin": 10**3, "ngan": 10**3, "k": 10**3}
_CURRENCY = {"dong", "d", "vnd", "₫"}
_FOREIGN = re.compile(r"[$€£¥]|\b(?:usd|eur|euro|euros|gbp|jpy|cny|yuan|dollars?|do la)\b")
_HEDGES = (  # longest first; folded text
    ("it nhat", "lower bound"), ("toi thieu", "lower bound"), ("hon", "lower bound"),
    ("tren", "lower bound"), ("gan", "approximate (upper bound)"),
    ("toi da", "upper bound"), ("len den", "upper bound"), ("len toi", "upper bound"),
    ("duoi", "upper bound"), ("khoang", "approximate"), ("xap xi", "approximate"),
    ("uoc tinh", "approximate"), ("chung", "approximate"),
    ("hang", "order of magnitude, not an amount"),   # "hàng trăm triệu"
)
# Compiled once (in the same order: the first match wins), not once per hedge per call.
_HEDGE_RES = tuple((re.compile(re.escape(word) + r"\b"), word, meaning) for word, meaning in _HEDGES)
_LEAD_WORDS = re.compile(r"^(?:(?:phat tien|bi phat|phat|tong cong|tong so tien|tong|so tien|muc phat)\s*:?\s*)+")
_NUMBER_WORDS = {"mot", "hai", "ba", "bon", "tu", "nam", "lam", "sau", "bay", "tam",
                 "chin", "muoi", "muoi", "tram", "linh", "le", "ruoi", "nua"}
_MONEY_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]{1,3}(?: [0-9]{3})+(?![0-9.,])|[0-9]+(?:[.,][0-9]+)*)"
                          r"|(?P<word>[a-z]+|₫))")
_MONEY_RANGE = re.compile(r"\b(?:tu\s+)?[0-9][0-9.,]*\s*[a-z]*\s*(?:-|~|\bden\b|\btoi\b)\s*[0-9]")
_MAX_VND = 10**15  # far above any fine or contract; beyond this it is a typo


class _MoneyError(Exception):
    """Internal: carries the flag for an unparseable amount."""


def _grouped(parts: list[str]) -> bool:
    """Thousands groups: first 1-3 digits, every later group exactly 3."""
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def _money_number(tok: str, has_unit: bool) -> Decimal:
    """Read one number token under Vietnamese conventions.

    ``.`` groups thousands and ``,`` is the decimal comma (``3,2 tỷ``, ``453.120.000``).
    With a unit word a lone separator followed by other than 3 digits is a decimal
    (``46.5 triệu``, ``22,5 triệu``).  Without a unit a lone separator must be a
    3-digit thousands group (``1.000 đ``, English ``1,500 VND``), since fractional
    đồng do not exist.  With a unit, ``1,500 triệu`` reads as 1.5 million (comma is
    decimal in Vietnamese) while ``1.500 triệu`` is 1 500 million.
    """
    if len(tok) > 30:
        raise _MoneyError("implausible amount")
    if " " in tok:
        return Decimal(tok.replace(" ", ""))
    dots, commas = tok.count("."), tok.count(",")
    if dots and commas:
        dec = "," if tok.rfind(",") > tok.rfind(".") else "."
        grp = "." if dec == "," else ","
        whole, _, frac = tok.rpartition(dec)
        if tok.count(dec) != 1 or not _grouped(whole.split(grp)):
            raise _MoneyError("malformed digit groups")
        return Decimal(whole.replace(grp, "") + "." + frac)
    sep = "." if dots else "," if commas else None
    if sep is None:
        return Decimal(tok)
    parts = tok.split(sep)
    if len(parts) > 2:
        if not _grouped(parts):
            raise _MoneyError("malformed digit groups")
        return Decimal("".join(parts))
    whole, frac = parts
    if has_unit and (sep == "," or len(frac) != 3):
        return Decimal(whole + "." + frac)
    if _grouped(parts):
        return Decimal(whole + frac)
    raise _MoneyError("malformed digit groups")


def _money_tokens(f: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(f):
        m = _MONEY_TOKEN.match(f, pos)
        if not m:
            raise _MoneyError("unreadable amount")
        kind = "num" if m["num"] is not None else "word"
        tokens.append((kind, m[kind]))
        pos = m.end()
    return tokens


def _money_value(f: str) -> int:
    """'90 trieu dong', '1 ty 200 trieu', '45.000.000 d', 'vnd 1,500,000' -> int."""
    tokens = _money_tokens(f)
    if tokens and tokens[0] == ("word", "vnd"):
        tokens = tokens[1:]
    while tokens and tokens[-1][0] == "word" and tokens[-1][1] in _CURRENCY:
        tokens = tokens[:-1]  # 'đồng', 'VNĐ', 'VN đồng'
    terms, i = [], 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind != "num":
            raise _MoneyError("number words" if _NUMBER_WORDS & {v for _, v in tokens}
                              else "unreadable amount")
        unit = None
        if i + 1 < len(tokens) and tokens[i + 1][0] == "word" and tokens[i + 1][1] in _UNITS:
            unit = _UNITS[tokens[i + 1][1]]
            i += 1
        terms.append((value, unit))
        i += 1
    if not terms:
        raise _MoneyError("unreadable amount")
    units = [u for _, u in terms]
    # '1 tỷ 200 triệu' is fine; a bare number only on its own; units must descend.
    if len(terms) > 1 and (None in units or units != sorted(units, reverse=True)
                           or len(set(units)) != len(units)):
        raise _MoneyError("unreadable amount")
    total = sum(_money_number(v, u is not None) * (u or 1) for v, u in terms)
    if total > _MAX_VND:
        raise _MoneyError("implausible amount")
    if total != total.to_integral_value():
        raise _MoneyError("fractional amount")
    return int(total)


@_memo_str
def parse_money_vnd(text: Optional[str]) -> ParsedMoney:
    """Parse a Vietnamese money amount into ``ParsedMoney(vnd, note, flag)``.

    Formats: ``90 triệu đồng``, ``22,5 triệu``, ``3,2 tỷ đồng``, ``1 tỷ 200 triệu``,
    ``45.000.000 đồng``, ``500 nghìn``/``ngàn``, ``500k``, ``90tr``, ``VND``, ``VNĐ``,
    ``đ``, ``₫``, English ``1,500,000 VND``, ``46.5 triệu`` (dot decimal before a unit).
    Hedges go to ``note``: ``hơn``/``trên`` "lower bound", ``gần`` "approximate (upper
    bound)", ``khoảng`` "approximate", ``dưới``/``tối đa`` "upper bound".

    Flags (vnd None): "malformed digit groups" (``90.0000.000``), "number words"
    (``50 mươi triệu``), "range" (``từ 10 đến 20 triệu``, ``10-20 triệu``),
    "negative amount", "not VND", "fractional amount", "implausible amount" (> 10^15),
    "unreadable amount".  Empty gives ``(None, None, None)``.
    """
    if isinstance(text, float) and text.is_integer():  # numeric spreadsheet cell
        text = int(text)
    if isinstance(text, int) and not isinstance(text, bool):
        return ParsedMoney(text, None, None) if 0 <= text <= _MAX_VND else \
            ParsedMoney(None, None, "negative amount" if text < 0 else "implausible amount")
    s = _coerce(text)
    if s is None:
        return EMPTY_MONEY if text is None else ParsedMoney(None, None, "unreadable amount")
    s = _clean(s)
    if not s:
        return EMPTY_MONEY
    if len(s) > _MAX_LEN:
        return ParsedMoney(None, None, "unreadable amount")
    f = fold(s).translate(_DASHES).strip(" .;:!()")
    f = _LEAD_WORDS.sub("", f)
    note = None
    for pattern, word, meaning in _HEDGE_RES:
        if pattern.match(f):
            note, f = meaning, f[len(word):].strip()
            break
    if _FOREIGN.search(f):
        return ParsedMoney(None, note, "not VND")
    if f.startswith("-") or re.match(r"am\s+[0-9]", f):
        return ParsedMoney(None, note, "negative amount")
    if _MONEY_RANGE.search(f):
        return ParsedMoney(None, note, "range")
    try:
        return ParsedMoney(_money_value(f), note, None)
    except _MoneyError as err:
        return ParsedMoney(None, note, str(err))
    except (InvalidOperation, ValueError, ArithmeticError):
        return ParsedMoney(None, note, "unreadable amount")


# The hedge parse_money_vnd recognises, found again in the unfolded text so the source's own word
# ("gần", "Hơn") can be shown beside the number, as the source wrote it.
_HEDGE_AT_START = re.compile(
    r"^[\s.;:!()]*(?:" + _LEAD_WORDS.pattern.lstrip("^")
    + r")?(" + "|".join(re.escape(word) for word, _meaning in _HEDGES if word != "hang")
    + r"|hang(?= (?:chuc|tram|nghin|ngan|trieu|ty|ti)\b))\b")   # "hàng trăm triệu", not "hàng hóa"


@_memo_str
def money_hedge(text: Optional[str]) -> Optional[str]:
    """The hedge word before an amount as the source wrote it, lower-cased: ``gần 40 triệu`` → ``gần``."""
    s = _coerce(text) if not isinstance(text, (int, float)) else None
    if not s:
        return None
    s = _clean(s)
    folded = fold(s)
    if len(folded) != len(s):   # folding changed the length: offsets would not match, keep the folded word
        match = _HEDGE_AT_START.match(folded)
        return match[1] if match else None
    match = _HEDGE_AT_START.match(folded)
    return s[match.start(1):match.end(1)].lower() if match else None


# --------------------------------------------------------------------------- identifiers

_MST_LABEL = re.compile(r"^(?:ma so thue|ma so doanh nghiep|mst|msdn|tax code)\s*:?\s*")


def _mst_check_digit(first9: str) -> str:
    """Same algorithm as stdnum.vn.mst (used only if that module is missing)."""
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    return str(10 - sum(w * int(n) for w, n in zip(weights, first9)) % 11)


@_memo_str
def parse_tax_code(text: Optional[str]) -> Optional[str]:
    """Vietnamese tax / enterprise code (mã số thuế) -> canonical form or None.

    Accepts ``0200572501``, ``0100109106-001``, ``0100109106001``, spaced or dotted
    forms, an optional ``MST:`` label.  Validates the check digit (``stdnum.vn.mst``).
    Returns ``'0200572501'`` or ``'0100109106-001'``.  An ``int`` with 9 digits (a
    spreadsheet that ate the leading zero) is zero-padded before validation.
    The 12-digit personal codes (citizen ID numbers since 2025) are not handled.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text).zfill(10) if len(str(text)) == 9 else str(text)
    s = _coerce(text)
    if not s or len(s) > _MAX_LEN:
        return None
    f = _MST_LABEL.sub("", fold(_clean(s)).translate(_DASHES))
    digits = re.sub(r"[\s.\-]", "", f)
    if not re.fullmatch(r"[0-9]{10}|[0-9]{13}", digits):
        return None
    if _stdnum_mst is not None:
        return _stdnum_mst.format(digits) if _stdnum_mst.is_valid(digits) else None
    if digits[2:9] == "0000000" or (len(digits) == 13 and digits[10:] == "000"):
        return None  # pragma: no cover
    if digits[9] != _mst_check_digit(digits[:9]):
        return None  # pragma: no cover
    return digits if len(digits) == 10 else f"{digits[:10]}-{digits[10:]}"  # pragma: no cover


_DRUG_LABEL = re.compile(r"^(?:SỐ\s+)?(?:SĐK|SDK|GĐKLH|GDKLH|ĐĂNG KÝ|ĐKLH|SỐ TIẾP NHẬN|STN)\s*(?:CŨ)?\s*[:.]?\s*")
_DRUG_PREFIXES = {"VD", "VN", "VN1", "VN2", "VN3", "VNA", "VNB", "VND", "VNS", "VS",
                  "GC", "QLĐB", "QLSP", "QLVX"}
_DRUG_CLASSIC = re.compile(r"^(?P<p>[A-ZĐ]{2,4}[0-9]?)-(?:(?P<h>H[0-9]{2})-)?(?P<n>[0-9]{1,6})-(?P<y>[0-9]{2})$")
_DRUG_YHCT = re.compile(r"^V(?P<n>[0-9]{1,5})-H(?P<h>[0-9]{2})-(?P<y>[0-9]{2})$")
_DRUG_NEW = re.compile(r"^[0-9]{12}$")
_COSMETIC = re.compile(r"^(?P<n>[0-9]{1,7})[/-](?P<y>[0-9]{2})[/-]CBMP-(?P<p>[A-ZĐ]{1,5})$")
_PAREN_TAIL = re.compile(r"^(?P<main>[^()]+?)\s*\((?P<inner>[^()]*)\)$")


def parse_drug_registration(text: Optional[str]) -> Optional[str]:
    """Drug registration (SĐK/GĐKLH) or cosmetic notification number, normalised.

    * ``VD-24891-16``, ``VN-21939-19``, ``VN- 14902-12`` -> ``VN-14902-12``,
      ``VNB-4408- 05``, ``VND-2907-05``, ``QLĐB-…``, ``QLSP-…``, ``GC-…``, ``VS-…``
      (``QLDB`` is written back as ``QLĐB``)
    * traditional-medicine ``V1453-h12-10`` / ``V42 - H12 - 06`` -> ``V42-H12-06``
    * 12-digit numbers since 2022 (``893100493025``); spaces inside are dropped
    * cosmetic notifications ``000046/20/CBMP-HCM``; ``142695-21-CBMP-QLD`` is written
      back with slashes
    * a trailing parenthesis (``893100414024 (SĐK cũ VD-32292-19)``) is ignored: the
      first number is the current one
    * ``Việt Nam-18188-14`` is read as ``VN-18188-14``: a press find-and-replace of
      "VN"; the prefix and digit shape are otherwise exact.

    Food declarations (``…/2024/ĐKSP``) are not drug numbers: see
    :func:`parse_declaration_no`.
    """
    s = _coerce(text)
    if not s or len(s) > _MAX_LEN:
        return None
    s = _clean(s).translate(_DASHES).upper()
    m = _PAREN_TAIL.match(s)
    if m:
        s = m["main"]
    s = _DRUG_LABEL.sub("", s)
    s = re.sub(r"^VIỆT NAM\s*-", "VN-", s)
    s = re.sub(r"\s*([-/])\s*", r"\1", s).strip()
    if _DRUG_NEW.match(s.replace(" ", "")):
        return s.replace(" ", "")
    m = _DRUG_YHCT.match(s)
    if m:
        return f"V{m['n']}-H{m['h']}-{m['y']}"
    m = _DRUG_CLASSIC.match(s)
    if m:
        prefix = "QLĐB" if m["p"] == "QLDB" else m["p"]
        if prefix in _DRUG_PREFIXES:
            middle = f"{m['h']}-" if m["h"] else ""
            return f"{prefix}-{middle}{m['n']}-{m['y']}"
        return None
    m = _COSMETIC.match(s)
    if m:
        return f"{m['n']}/{m['y']}/CBMP-{m['p']}"
    return None


_DECLARATION = re.compile(r"^(?:SỐ\s*:?\s*)?(?P<n>[0-9]{1,7})\s*[/-]\s*(?P<y>[0-9]{4})\s*[/-]\s*(?:ĐKSP|DKSP)$")


def parse_declaration_no(text: Optional[str]) -> Optional[str]:
    """Food product declaration registration number (giấy tiếp nhận đăng ký bản công
    bố sản phẩm, Decree 15/2018): ``12/2024/ĐKSP``, ``4984/2019/ĐKSP``; ``DKSP`` without
    the stroke and ``-`` separators are normalised.  Year must be 2000-2100.
    Returns ``'12/2024/ĐKSP'`` or None.
    """
    s = _coerce(text)
    if not s or len(s) > _MAX_LEN:
        return None
    s = _clean(s).translate(_DASHES).upper()
    m = _DECLARATION.match(s)
    if not m or not 2000 <= int(m["y"]) <= 2100:
        return None
    return f"{m['n']}/{m['y']}/ĐKSP"


# --------------------------------------------------------------------------- GTIN

def _gtin_check_digit(body: str) -> str:
    """GS1 mod-10: weights 3,1,3,… from the right of the body."""
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    return str((10 - total) % 10)


def gtin_check(code: Optional[str]) -> bool:
    """True for a GTIN-8/12/13/14 (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid
    check digit.  Spaces and hyphens inside are ignored; an all-zero code is False
    (it passes the arithmetic but is never a real product)."""
    s = _coerce(code)
    if not s or len(s) > _MAX_LEN:
        return False
    digits = re.sub(r"[\s-]", "", _clean(s))
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", digits) or not digits.strip("0"):
        return False
    if _stdnum_ean is not None:
        return _stdnum_ean.is_valid(digits)
    return _gtin_check_digit(digits[:-1]) == digits[-1]  # pragma: no cover


# Bounded by non-alphanumerics so lot codes like 'A12345670B' are not mistaken for GTINs.
_GTIN_RUN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{8}|[0-9]{12,14})(?![0-9A-Za-z])")


def extract_gtins(text: Optional[str]) -> list[str]:
    """All 8/12/13/14-digit runs in free text with a valid GS1 check digit, as found
    (no padding), de-duplicated, in order: ``"3250391660995 Lot 123"`` ->
    ``['3250391660995']``.  Runs glued to letters are skipped.  An 8-digit run can be
    a date (``20140602``) that happens to pass the check (1 in 10); callers that know
    their source has no GTIN-8 may filter on length."""
    s = _coerce(text)
    if not s:
        return []
    found = (m.group() for m in _GTIN_RUN.finditer(s) if gtin_check(m.group()))
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- floats

_FLOAT = re.compile(r"^(?P<sign>[+-]?)(?P<body>[0-9]+(?:[.,][0-9]+)*|[.,][0-9]+)(?P<exp>[eE][+-]?[0-9]{1,3})?$")
_SPACE_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]+)?$")


def parse_float(text: Optional[str]) -> Optional[float]:
    """Number with either decimal convention -> float, or None.

    Rules, in order:

    * both ``.`` and ``,`` present: the *last* one is the decimal separator and must
      occur once; the other must form valid thousands groups (``3.359,80`` -> 3359.8,
      ``1,234.5`` -> 1234.5);
    * the same separator twice or more: thousands groups (``1.234.567`` -> 1234567.0);
    * a *single* separator, dot or comma: always the decimal point (``53.5737872``,
      ``-2.4290353``, ``22,5``).  So ``6,318`` and ``6.318`` both give 6.318 even though
      Vietnamese prose often means 6318: there is no way to tell from the string,
      and coordinates/measurements (this function's job) need the decimal reading;
    * French spaces as thousands groups (``1 234,5``), a leading ``+``/``-``/``−``,
      an exponent (``1.5e3``, no thousands groups then).

    Non-finite results (``nan``, ``inf``, overflow) give None.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
        return value if value == value and abs(value) != float("inf") else None
    s = _coerce(text)
    if not s or len(s) > _MAX_LEN:
        return None
    s = _clean(s).translate(_DASHES)
    if _SPACE_GROUPED.match(s):
        s = s.replace(" ", "")
    m = _FLOAT.match(s)
    if not m:
        return None
    body = m["body"]
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        dec = "," if body.rfind(",") > body.rfind(".") else "."
        grp = "." if dec == "," else ","
        whole, _, frac = body.rpartition(dec)
        if body.count(dec) != 1 or not _grouped(whole.split(grp)):
            return None
        body = whole.replace(grp, "") + "." + frac
    elif dots > 1 or commas > 1:
        parts = body.split("." if dots else ",")
        if not _grouped(parts):
            return None
        body = "".join(parts)
    else:
        body = body.replace(",", ".")
    if m["exp"] and (dots > 1 or commas > 1 or (dots and commas)):
        return None
    try:
        value = float(m["sign"] + body + (m["exp"] or ""))
    except ValueError:  # pragma: no cover - the regex already guarantees the shape
        return None
    return value if abs(value) != float("inf") else None


# --------------------------------------------------------------------------- barcodes in prose

def _gs1_element_gtin(digits: str) -> Optional[str]:
    """The GTIN of a GS1 element string ``(01)`` + 14 digits, read by biip (GS1's own AI table)."""
    import biip
    try:
        result = biip.parse(digits)
    except Exception:   # biip.ParseError and anything else: not a GS1 message, so not a GTIN here
        return None
    message = result.gs1_message
    if message is None:
        return None
    return next((element.value for element in message.element_strings if element.ai.ai == "01"), None)


def normalise_gtin(code: Optional[str]) -> Optional[str]:
    """A GTIN with a valid check digit in one canonical form, or None.

    Separators are dropped; a 14-digit GTIN with indicator 0 is the EAN-13 inside it, and an
    EAN-13 starting with 0 is the UPC-A inside it (GS1's rule: leading zeros carry nothing). So
    ``0 42743 19026 6``, ``0042743190266`` and ``00042743190266`` all give ``042743190266``;
    a GTIN-14 with another indicator (a case of units) stays 14 digits. A GS1 element string
    ``01`` + 14 digits (``0110817134020432``, printed by some firms as their "UPC") gives its GTIN.
    """
    s = _coerce(code)
    if not s or len(s) > 40:
        return None
    digits = re.sub(r"[\s-]", "", _clean(s))
    if len(digits) == 16 and digits.startswith("01"):
        digits = _gs1_element_gtin(digits) or digits
    if not gtin_check(digits):
        return None
    if len(digits) == 14 and digits[0] == "0":
        digits = digits[1:]
    if len(digits) == 13 and digits[0] == "0":
        digits = digits[1:]
    return digits


# A barcode is taken from prose only where the text labels it as one: a bare 12-digit run is as
# likely a Vietnamese registration number (893100493025) or an FDA lot as a UPC.
_BARCODE_LABEL = re.compile(
    r"(?i)(?<![0-9A-Za-z])(?:UPC|EAN(?:[- ]?(?:13|8))?|GTIN(?:[- ]?(?:8|12|13|14))?|bar[- ]?codes?"
    r"|codes?[- ]barres?|code EAN|mã vạch)s?(?![A-Za-z])")
# After the label: a short qualifier without digits or line breaks ("(on can):", " on case label:", "#").
_LABEL_TAIL = re.compile(r"[^0-9\n]{0,40}?(?=[0-9])")
# Digits in groups separated by single spaces or hyphens, as printed under a barcode.
_BARCODE_DIGITS = re.compile(r"[0-9](?:[ -]?[0-9]){7,17}(?![0-9])")
_BARCODE_LIST_SEP = re.compile(r"\s*(?:,|;|/|&|\band\b|\bor\b|\bvà\b|\bet\b)\s*", re.I)


def extract_labelled_gtins(text: Optional[str]) -> tuple[list[str], list[str]]:
    """Barcodes a text labels as such (``UPC: 042743190266``, ``UPC 8 75343 00001 3``,
    ``UPC (on carton): …``, ``EAN 3250391660995, 3250391660996``, ``mã vạch 893…``).

    Returns ``(gtins, rejected)``: the valid codes normalised by :func:`normalise_gtin`, in
    order and once each; and the labelled digit runs that are not GTINs (wrong length, wrong
    check digit: ``UPC 3680017231`` prints ten digits, the check digit left off), as printed,
    so the caller can flag them. A label followed by no digits (``UPC: NA``) gives nothing.
    """
    s = _coerce(text)
    if not s:
        return [], []
    s = s[:200_000]   # bound the work on hostile input; real notices are far shorter
    found, rejected = [], []
    for label in _BARCODE_LABEL.finditer(s):
        tail = _LABEL_TAIL.match(s, label.end())
        if not tail:
            continue
        pos = tail.end()
        while True:
            run = _BARCODE_DIGITS.match(s, pos)
            if not run:
                break
            gtin = normalise_gtin(run.group())
            (found if gtin else rejected).append(gtin or run.group())
            sep = _BARCODE_LIST_SEP.match(s, run.end())
            if not sep or not _BARCODE_DIGITS.match(s, sep.end()):
                break
            pos = sep.end()
    return list(dict.fromkeys(found)), list(dict.fromkeys(rejected))


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


@_memo_str
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
                repaired = " ".join(_TAG.sub(" ", repaired).split())
                done.append("HTML tags removed")
    return repaired, tuple(done)
