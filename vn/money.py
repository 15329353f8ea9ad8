"""Amounts in đồng as Vietnamese texts write them ("15 triệu đồng", "1,5 tỷ", "gần 40 triệu"), and
plain numbers (``parse_float``).

* Numbers: with both ``.`` and ``,`` the last one is the decimal separator; a *single*
  separator in :func:`parse_float` is always the decimal point (``6,318`` -> 6.318), see
  its docstring.  Money has its own rule (unit words decide).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, Optional

from vn.fold import fold
from vn.text import DASHES, MAX_CELL, as_text, clean_cell, memo_str

__all__ = ["ParsedMoney", "EMPTY_MONEY", "parse_money_vnd", "money_hedge", "parse_float"]


class ParsedMoney(NamedTuple):
    """``vnd`` whole đồng or None; ``note`` hedge such as "lower bound" (the value
    itself is fine); ``flag`` None when clean, else a short reason."""

    vnd: Optional[int]
    note: Optional[str]
    flag: Optional[str]


EMPTY_MONEY = ParsedMoney(None, None, None)

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


@memo_str
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
    s = as_text(text)
    if s is None:
        return EMPTY_MONEY if text is None else ParsedMoney(None, None, "unreadable amount")
    s = clean_cell(s)
    if not s:
        return EMPTY_MONEY
    if len(s) > MAX_CELL:
        return ParsedMoney(None, None, "unreadable amount")
    f = fold(s).translate(DASHES).strip(" .;:!()")
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


@memo_str
def money_hedge(text: Optional[str]) -> Optional[str]:
    """The hedge word before an amount as the source wrote it, lower-cased: ``gần 40 triệu`` → ``gần``."""
    s = as_text(text) if not isinstance(text, (int, float)) else None
    if not s:
        return None
    s = clean_cell(s)
    folded = fold(s)
    if len(folded) != len(s):   # folding changed the length: offsets would not match, keep the folded word
        match = _HEDGE_AT_START.match(folded)
        return match[1] if match else None
    match = _HEDGE_AT_START.match(folded)
    return s[match.start(1):match.end(1)].lower() if match else None


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
    s = as_text(text)
    if not s or len(s) > MAX_CELL:
        return None
    s = clean_cell(s).translate(DASHES)
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
