"""Dates as printed by Vietnamese and foreign sources -> ISO dates with their precision.

* Dates keep the calendar day *as printed*; time zones are never applied, because a
  notice's date is the issuer's local date.
* Six digits: ``mmyyyy`` when that is a valid month (``012012`` -> 2012-01, clean),
  otherwise ``ddmmyy`` (``030324`` -> 2024-03-03, flagged "ambiguous six-digit date"
  because ``yymmdd`` would read it differently).  Both can never be valid at once.
* Two-digit years pivot at 70 (``24`` -> 2024, ``85`` -> 1985) and are flagged.
* Ranges and lists of dates are recognised but not parsed: flag "date range" /
  "multiple dates", iso None.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import NamedTuple, Optional

# fold: lower case, đ -> d, diacritics dropped (the search's folding), so the regexes below match
# 'tháng', 'août'...
from vn.fold import fold
from vn.text import DASHES, MAX_CELL, as_text, clean_cell, memo_str

__all__ = ["ParsedDate", "EMPTY_DATE", "parse_date"]


class ParsedDate(NamedTuple):
    """``iso`` 'YYYY-MM-DD' / 'YYYY-MM' / 'YYYY' or None; ``precision`` 'day' /
    'month' / 'year' or None; ``flag`` None when clean, else a short reason."""

    iso: Optional[str]
    precision: Optional[str]
    flag: Optional[str]


EMPTY_DATE = ParsedDate(None, None, None)

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
    f = fold(s).translate(DASHES)
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


@memo_str
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
    s = as_text(text)
    if s is None:
        return EMPTY_DATE if text is None else ParsedDate(None, None, "unreadable date")
    s = clean_cell(s)
    if not s:
        return EMPTY_DATE
    if len(s) > MAX_CELL:
        return ParsedDate(None, None, "unreadable date")
    parsed = _parse_single_date(s, order) or _parse_composite_date(s, order)
    if parsed is not None:
        return parsed
    if _RELATIVE.search(fold(s)):
        return ParsedDate(None, None, "relative date")
    return ParsedDate(None, None, "unreadable date")
