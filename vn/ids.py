"""Identifiers: Vietnamese tax codes (mã số thuế), drug and cosmetic registrations, product
declarations, and GTIN barcodes (check digits by python-stdnum, GS1 element strings by biip).

``Việt Nam-18188-14`` is read as ``VN-18188-14`` (an editor's expansion of "VN").
"""
from __future__ import annotations

import re
from typing import Optional

from stdnum import ean as _stdnum_ean
from stdnum.vn import mst as _stdnum_mst

from vn.fold import fold
from vn.text import DASHES, MAX_CELL, as_text, clean_cell, memo_str

__all__ = ["parse_tax_code", "parse_drug_registration", "parse_declaration_no", "gtin_check", "extract_gtins",
           "normalise_gtin", "extract_labelled_gtins"]

# --------------------------------------------------------------------------- identifiers

_MST_LABEL = re.compile(r"^(?:ma so thue|ma so doanh nghiep|mst|msdn|tax code)\s*:?\s*")


@memo_str
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
    s = as_text(text)
    if not s or len(s) > MAX_CELL:
        return None
    f = _MST_LABEL.sub("", fold(clean_cell(s)).translate(DASHES))
    digits = re.sub(r"[\s.\-]", "", f)
    if not re.fullmatch(r"[0-9]{10}|[0-9]{13}", digits):
        return None
    return _stdnum_mst.format(digits) if _stdnum_mst.is_valid(digits) else None


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
    s = as_text(text)
    if not s or len(s) > MAX_CELL:
        return None
    s = clean_cell(s).translate(DASHES).upper()
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
    s = as_text(text)
    if not s or len(s) > MAX_CELL:
        return None
    s = clean_cell(s).translate(DASHES).upper()
    m = _DECLARATION.match(s)
    if not m or not 2000 <= int(m["y"]) <= 2100:
        return None
    return f"{m['n']}/{m['y']}/ĐKSP"


# --------------------------------------------------------------------------- GTIN

def gtin_check(code: Optional[str]) -> bool:
    """True for a GTIN-8/12/13/14 (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid
    check digit.  Spaces and hyphens inside are ignored; an all-zero code is False
    (it passes the arithmetic but is never a real product)."""
    s = as_text(code)
    if not s or len(s) > MAX_CELL:
        return False
    digits = re.sub(r"[\s-]", "", clean_cell(s))
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", digits) or not digits.strip("0"):
        return False
    return _stdnum_ean.is_valid(digits)


# Bounded by non-alphanumerics so lot codes like 'A12345670B' are not mistaken for GTINs.
_GTIN_RUN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{8}|[0-9]{12,14})(?![0-9A-Za-z])")


def extract_gtins(text: Optional[str]) -> list[str]:
    """All 8/12/13/14-digit runs in free text with a valid GS1 check digit, as found
    (no padding), de-duplicated, in order: ``"3250391660995 Lot 123"`` ->
    ``['3250391660995']``.  Runs glued to letters are skipped.  An 8-digit run can be
    a date (``20140602``) that happens to pass the check (1 in 10); callers that know
    their source has no GTIN-8 may filter on length."""
    s = as_text(text)
    if not s:
        return []
    found = (m.group() for m in _GTIN_RUN.finditer(s) if gtin_check(m.group()))
    return list(dict.fromkeys(found))


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
    s = as_text(code)
    if not s or len(s) > 40:
        return None
    digits = re.sub(r"[\s-]", "", clean_cell(s))
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
    s = as_text(text)
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
