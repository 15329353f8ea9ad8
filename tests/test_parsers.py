"""vn/ parsers (dates, money, ids, text): real cells from the curated press tables, explicit examples, properties."""
import csv
import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.vn import mst

# Hypothesis profiles (ci, full) are loaded by conftest.py, which pytest reads for this file too.
from vn.dates import ParsedDate, parse_date
from vn.ids import extract_gtins, gtin_check, parse_declaration_no, parse_drug_registration, parse_tax_code
from vn.money import ParsedMoney, parse_float, parse_money_vnd
from vn.text import clean_cell as _clean  # the parsers' own notion of "empty"

CURATED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "curated" / "vn-news"
RECALLS, PENALTIES, CERTIFIED = "thu-hoi-san-pham.csv", "xu-phat-co-so.csv", "san-pham-an-toan.csv"


def real_cells(filename, *columns):
    """Distinct non-empty cells of the named columns, as pytest params; one skipped
    param when the shared data is not beside this checkout."""
    path = CURATED / filename
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} is not present"))]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cells = dict.fromkeys(row[c] for row in rows for c in columns if row[c].strip())
    return [pytest.param(cell, id=f"{filename[:8]}:{cell[:40]}") for cell in cells]


DATE_CELLS = (real_cells(RECALLS, "Ngày thông báo", "Ngày sản xuất", "Hạn dùng")
              + real_cells(PENALTIES, "Ngày quyết định") + real_cells(CERTIFIED, "Ngày công nhận"))
KNOWN_DATE_FLAGS = {"unreadable date", "impossible date", "two-digit year", "ambiguous six-digit date",
                    "date without year", "date range", "multiple dates", "relative date", "mixed separators",
                    "weekday does not match date"}


# --------------------------------------------------------------------------- real cells

@pytest.mark.parametrize("cell", DATE_CELLS)
def test_every_real_date_cell_is_parsed_or_flagged(cell):
    parsed = parse_date(cell)
    assert parsed.iso is not None or parsed.flag is not None, cell
    assert parsed.flag is None or set(parsed.flag.split("; ")) <= KNOWN_DATE_FLAGS
    assert parsed.flag != "unreadable date", f"real format not understood: {cell!r}"


@pytest.mark.parametrize("cell", real_cells(PENALTIES, "Số tiền phạt"))
def test_every_real_fine_is_parsed_or_flagged(cell):
    money = parse_money_vnd(cell)
    assert money.vnd is not None or money.flag is not None, cell
    assert money.flag in (None, "malformed digit groups"), cell  # the one known misprint


@pytest.mark.parametrize("cell", real_cells(RECALLS, "Số đăng ký"))
def test_every_real_registration_number_is_recognised(cell):
    # The column mixes drug/cosmetic numbers with food declarations (…/ĐKSP).
    assert parse_drug_registration(cell) or parse_declaration_no(cell), cell


@pytest.mark.parametrize("cell", real_cells(PENALTIES, "Mã số thuế"))
def test_every_real_tax_code_is_valid(cell):
    assert parse_tax_code(cell) == cell


# --------------------------------------------------------------------------- dates

DAY, MONTH, YEAR = "day", "month", "year"
DATE_EXAMPLES = [
    # as printed in the curated tables
    ("27/03/2020", ParsedDate("2020-03-27", DAY, None)),
    ("04/05/2010", ParsedDate("2010-05-04", DAY, None)),
    ("03/2020", ParsedDate("2020-03", MONTH, None)),
    ("2016", ParsedDate("2016", YEAR, None)),
    ("02.01.2025", ParsedDate("2025-01-02", DAY, None)),
    ("01012024", ParsedDate("2024-01-01", DAY, None)),
    ("01012028", ParsedDate("2028-01-01", DAY, None)),
    ("030324", ParsedDate("2024-03-03", DAY, "ambiguous six-digit date")),
    ("080528", ParsedDate("2028-05-08", DAY, "ambiguous six-digit date")),
    ("201224", ParsedDate("2024-12-20", DAY, "ambiguous six-digit date")),
    ("010608", ParsedDate("2008-06-01", DAY, "ambiguous six-digit date")),
    ("012012", ParsedDate("2012-01", MONTH, None)),  # mmyyyy: ddmmyy would need month 20
    ("062010", ParsedDate("2010-06", MONTH, None)),
    ("01/10/24", ParsedDate("2024-10-01", DAY, "two-digit year")),
    ("5/5.2023", ParsedDate("2023-05-05", DAY, "mixed separators")),
    ("5.11", ParsedDate(None, None, "date without year")),
    ("01/02/2018 – 07/10/2019", ParsedDate(None, None, "date range")),
    ("01/2023 – 07/2024", ParsedDate(None, None, "date range")),
    ("2018 – 2019", ParsedDate(None, None, "date range")),
    ("09/2023 – 11/04/2024", ParsedDate(None, None, "date range")),
    ("2018-2019", ParsedDate(None, None, "date range")),
    ("từ 01/2023 đến 07/2024", ParsedDate(None, None, "date range")),
    ("2019, 2020, 2022", ParsedDate(None, None, "multiple dates")),
    ("29/08/2018; 20/10/2018", ParsedDate(None, None, "multiple dates")),
    ("05/10/2017 – 10/11/2017; 31/07/2018 – 06/12/2018", ParsedDate(None, None, "multiple dates")),
    ("3 năm kể từ ngày sản xuất", ParsedDate(None, None, "relative date")),
    ("36 tháng kể từ ngày sản xuất", ParsedDate(None, None, "relative date")),
    # other press forms
    ("5/3/2025", ParsedDate("2025-03-05", DAY, None)),
    ("27.03.2020", ParsedDate("2020-03-27", DAY, None)),
    ("21-2-2024", ParsedDate("2024-02-21", DAY, None)),
    ("3/2020", ParsedDate("2020-03", MONTH, None)),
    ("ngày 5 tháng 3 năm 2025", ParsedDate("2025-03-05", DAY, None)),
    ("Ngày 05 tháng 03 năm 2025", ParsedDate("2025-03-05", DAY, None)),
    ("ngày 5/3/2025", ParsedDate("2025-03-05", DAY, None)),
    ("tháng 3/2025", ParsedDate("2025-03", MONTH, None)),
    ("tháng 3 năm 2025", ParsedDate("2025-03", MONTH, None)),
    ("năm 2025", ParsedDate("2025", YEAR, None)),
    ("Thứ Sáu, 27/3/2020, 10:30 (GMT+7)", ParsedDate("2020-03-27", DAY, None)),
    ("Thứ Năm, 27/3/2020", ParsedDate("2020-03-27", DAY, "weekday does not match date")),
    ("??/10/2014", ParsedDate("2014-10", MONTH, None)),
    ("27.3", ParsedDate(None, None, "date without year")),
    ("31/02/2020", ParsedDate(None, None, "impossible date")),
    ("18/3/3034", ParsedDate(None, None, "impossible date")),
    ("13/13/2020", ParsedDate(None, None, "impossible date")),
    ("1850", ParsedDate(None, None, "impossible date")),
    # machine and foreign formats
    ("2014-06-02 00:00:00", ParsedDate("2014-06-02", DAY, None)),
    ("2026-04-28", ParsedDate("2026-04-28", DAY, None)),
    ("2026-04-28T10:00:00Z", ParsedDate("2026-04-28", DAY, None)),
    ("2026-04-28T10:00:00+00:00", ParsedDate("2026-04-28", DAY, None)),
    ("2026-04-28T23:59:59.123+07:00", ParsedDate("2026-04-28", DAY, None)),  # printed day, no tz shift
    ("2026-04", ParsedDate("2026-04", MONTH, None)),
    ("20140602", ParsedDate("2014-06-02", DAY, None)),
    ("\tNovember 10, 2021", ParsedDate("2021-11-10", DAY, None)),
    ("  Nov. 10,  2021 ", ParsedDate("2021-11-10", DAY, None)),
    ("Wed, 10 Nov 2021 00:00:00 -0500", ParsedDate("2021-11-10", DAY, None)),
    ("Thu, 10 Nov 2021 00:00:00 GMT", ParsedDate("2021-11-10", DAY, "weekday does not match date")),
    ("jeudi 31 mars 2022", ParsedDate("2022-03-31", DAY, None)),
    ("31 mars 2022", ParsedDate("2022-03-31", DAY, None)),
    ("1er août 2023", ParsedDate("2023-08-01", DAY, None)),
    ("Février 2024", ParsedDate("2024-02", MONTH, None)),
    ("March 2022", ParsedDate("2022-03", MONTH, None)),
    # empties and junk
    ("", ParsedDate(None, None, None)),
    ("   \u00a0 ", ParsedDate(None, None, None)),
    (None, ParsedDate(None, None, None)),
    ("không rõ", ParsedDate(None, None, "unreadable date")),
    ("10:30", ParsedDate(None, None, "unreadable date")),
]


@pytest.mark.parametrize("text,expected", DATE_EXAMPLES)
def test_parse_date_examples(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("04/14/2026", ParsedDate("2026-04-14", DAY, None)),  # FDA enforcement report
    ("4/1/2026", ParsedDate("2026-04-01", DAY, None)),
    ("14/04/2026", ParsedDate(None, None, "impossible date")),
    ("04142026", ParsedDate("2026-04-14", DAY, None)),
    ("2026-04-14", ParsedDate("2026-04-14", DAY, None)),  # ISO ignores order
    ("November 10, 2021", ParsedDate("2021-11-10", DAY, None)),
])
def test_parse_date_mdy(text, expected):
    assert parse_date(text, order="mdy") == expected


def test_parse_date_accepts_spreadsheet_dates_and_rejects_bad_order():
    assert parse_date(dt.datetime(2024, 3, 3, 10, 0)) == ParsedDate("2024-03-03", DAY, None)
    assert parse_date(dt.date(2024, 3, 3)) == ParsedDate("2024-03-03", DAY, None)
    with pytest.raises(ValueError):
        parse_date("01/02/2020", order="ymd")


ISO_SHAPE = {"day": r"\d{4}-\d{2}-\d{2}", "month": r"\d{4}-\d{2}", "year": r"\d{4}"}


def check_date_invariants(parsed):
    assert isinstance(parsed, ParsedDate)
    assert (parsed.iso is None) == (parsed.precision is None)
    if parsed.iso is not None:
        assert re.fullmatch(ISO_SHAPE[parsed.precision], parsed.iso)
        assert 1900 <= int(parsed.iso[:4]) <= 2100
        if parsed.precision == "day":
            dt.date.fromisoformat(parsed.iso)
    if parsed.flag is not None:
        assert isinstance(parsed.flag, str) and parsed.flag.strip()


@given(st.text(), st.sampled_from(["dmy", "mdy"]))
def test_parse_date_never_raises(text, order):
    parsed = parse_date(text, order=order)
    check_date_invariants(parsed)
    if _clean(text):
        assert parsed.iso is not None or parsed.flag  # something written is read or explained


@given(st.from_regex(r"[0-9?x]{0,4}[ ./\-–]{0,2}[0-9]{0,4}[ ./\-]{0,2}[0-9]{0,5}( [0-9:]{0,8})?", fullmatch=True))
def test_parse_date_numeric_noise(text):
    parsed = parse_date(text)
    check_date_invariants(parsed)
    assert parsed.iso is not None or parsed.flag is not None or not text.strip()


DATE_FORMATS = [
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day}.{d.month}.{d.year}",
    lambda d: f"{d.day}-{d.month}-{d.year}",
    lambda d: f"ngày {d.day} tháng {d.month} năm {d.year}",
    lambda d: d.isoformat(),
    lambda d: f"{d.isoformat()}T08:15:00+07:00",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: d.strftime("%d%m%Y"),
    lambda d: d.strftime("%B %d, %Y"),
    lambda d: d.strftime("%a, %d %b %Y 00:00:00 -0500"),
]


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(DATE_FORMATS))
def test_parse_date_round_trip(day, fmt):
    assert parse_date(fmt(day)) == ParsedDate(day.isoformat(), "day", None)


# --------------------------------------------------------------------------- money

MONEY_EXAMPLES = [
    ("90 triệu đồng", ParsedMoney(90_000_000, None, None)),
    ("45.000.000 đồng", ParsedMoney(45_000_000, None, None)),
    ("22,5 triệu", ParsedMoney(22_500_000, None, None)),
    ("22,5 triệu đồng", ParsedMoney(22_500_000, None, None)),
    ("16,65 triệu đồng", ParsedMoney(16_650_000, None, None)),
    ("114,5 triệu đồng", ParsedMoney(114_500_000, None, None)),
    ("3,2 tỷ đồng", ParsedMoney(3_200_000_000, None, None)),
    ("1,5 tỷ", ParsedMoney(1_500_000_000, None, None)),
    ("1,5 tỉ đồng", ParsedMoney(1_500_000_000, None, None)),
    ("1 tỷ 200 triệu đồng", ParsedMoney(1_200_000_000, None, None)),
    ("70.000.000 đồng", ParsedMoney(70_000_000, None, None)),
    ("453.120.000 đồng", ParsedMoney(453_120_000, None, None)),
    ("153.792.000 đồng", ParsedMoney(153_792_000, None, None)),
    ("1.000.000 đồng", ParsedMoney(1_000_000, None, None)),
    ("hơn 188 triệu đồng", ParsedMoney(188_000_000, "lower bound", None)),
    ("hơn 8,3 triệu đồng", ParsedMoney(8_300_000, "lower bound", None)),
    ("gần 40 triệu đồng", ParsedMoney(40_000_000, "approximate (upper bound)", None)),
    ("gần 350 triệu đồng", ParsedMoney(350_000_000, "approximate (upper bound)", None)),
    ("khoảng 3 tỷ đồng", ParsedMoney(3_000_000_000, "approximate", None)),
    ("46.5 triệu đồng", ParsedMoney(46_500_000, None, None)),  # dot decimal before a unit word
    ("500 nghìn đồng", ParsedMoney(500_000, None, None)),
    ("500 ngàn", ParsedMoney(500_000, None, None)),
    ("45.000.000 VND", ParsedMoney(45_000_000, None, None)),
    ("45.000.000 VNĐ", ParsedMoney(45_000_000, None, None)),
    ("45.000.000đ", ParsedMoney(45_000_000, None, None)),
    ("45.000.000 ₫", ParsedMoney(45_000_000, None, None)),
    ("1,500,000 VND", ParsedMoney(1_500_000, None, None)),
    ("Phạt tiền 90 triệu đồng.", ParsedMoney(90_000_000, None, None)),
    ("0 đồng", ParsedMoney(0, None, None)),
    ("90.0000.000 đồng", ParsedMoney(None, None, "malformed digit groups")),
    ("1.00.000 đồng", ParsedMoney(None, None, "malformed digit groups")),
    ("50 mươi triệu đồng", ParsedMoney(None, None, "number words")),
    ("năm mươi triệu đồng", ParsedMoney(None, None, "number words")),
    ("từ 10 đến 20 triệu", ParsedMoney(None, None, "range")),
    ("10 - 20 triệu đồng", ParsedMoney(None, None, "range")),
    ("-5 triệu đồng", ParsedMoney(None, None, "negative amount")),
    ("500 USD", ParsedMoney(None, None, "not VND")),
    ("12,5 đồng", ParsedMoney(None, None, "malformed digit groups")),
    ("0,5 nghìn đồng", ParsedMoney(500, None, None)),
    ("0,0005 nghìn đồng", ParsedMoney(None, None, "fractional amount")),
    ("9999999 tỷ", ParsedMoney(None, None, "implausible amount")),
    ("không rõ", ParsedMoney(None, None, "unreadable amount")),
    ("", ParsedMoney(None, None, None)),
    (None, ParsedMoney(None, None, None)),
    (45_000_000, ParsedMoney(45_000_000, None, None)),
]


@pytest.mark.parametrize("text,expected", MONEY_EXAMPLES)
def test_parse_money_examples(text, expected):
    assert parse_money_vnd(text) == expected


@given(st.text())
def test_parse_money_never_raises(text):
    money = parse_money_vnd(text)
    assert isinstance(money, ParsedMoney)
    if money.vnd is not None:
        assert isinstance(money.vnd, int) and money.vnd >= 0 and money.flag is None
    if money.flag is not None:
        assert money.flag.strip() and money.vnd is None
    if _clean(text) and money.vnd is None:
        assert money.flag  # something written is either read or explained


def vn_grouped(n):
    return f"{n:,}".replace(",", ".")


@given(st.integers(0, 10**13))
def test_parse_money_round_trip_grouped(n):
    assert parse_money_vnd(f"{vn_grouped(n)} đồng").vnd == n


@given(st.integers(0, 9999), st.integers(0, 99), st.sampled_from([("triệu", 10**6), ("tỷ", 10**9)]))
def test_parse_money_round_trip_decimal_comma(whole, frac, unit):
    word, factor = unit
    expected = whole * factor + frac * factor // 100
    assert parse_money_vnd(f"{whole},{frac:02d} {word} đồng").vnd == expected


# --------------------------------------------------------------------------- identifiers

@pytest.mark.parametrize("text,expected", [
    ("0200572501", "0200572501"),
    ("4400116704", "4400116704"),
    ("0100109106-001", "0100109106-001"),
    ("0100109106001", "0100109106-001"),
    ("0100 109 106 - 001", "0100109106-001"),
    ("MST: 0104014039", "0104014039"),
    ("Mã số thuế 0313571604", "0313571604"),
    (200572501, "0200572501"),  # a spreadsheet dropped the leading zero
    ("0100233480", None),  # wrong check digit
    ("0100109106-000", None),
    ("12345", None),
    ("", None),
    (None, None),
])
def test_parse_tax_code(text, expected):
    assert parse_tax_code(text) == expected


@given(st.text())
def test_parse_tax_code_never_raises(text):
    result = parse_tax_code(text)
    assert result is None or mst.is_valid(result)


@given(st.from_regex(r"[0-9]{9}", fullmatch=True), st.one_of(st.none(), st.integers(1, 999)))
def test_parse_tax_code_round_trip(first9, branch):
    code = first9 + mst.calc_check_digit(first9)
    full = code if branch is None else f"{code}-{branch:03d}"
    assert parse_tax_code(full) == (full if mst.is_valid(full) else None)


@pytest.mark.parametrize("text,expected", [
    ("VD-24891-16", "VD-24891-16"),
    ("VN-21939-19", "VN-21939-19"),
    ("VN- 14902-12", "VN-14902-12"),
    ("VN-17936- 14", "VN-17936-14"),
    ("VNB-4408- 05", "VNB-4408-05"),
    ("VND-2907-05", "VND-2907-05"),
    ("vd-3966-07", "VD-3966-07"),
    ("QLĐB-559-16", "QLĐB-559-16"),
    ("QLDB-559-16", "QLĐB-559-16"),
    ("GC-287-17", "GC-287-17"),
    ("VS-4912-16", "VS-4912-16"),
    ("SĐK: VD-25150-16", "VD-25150-16"),
    ("V1453-h12-10", "V1453-H12-10"),
    ("V42 - H12 - 06", "V42-H12-06"),
    ("893100493025", "893100493025"),
    ("893100414024 (SĐK cũ VD-32292-19)", "893100414024"),
    ("300111082223 (số cũ VN-18966-15)", "300111082223"),
    ("000046/20/CBMP-HCM", "000046/20/CBMP-HCM"),
    ("123/21/CBMP-HN", "123/21/CBMP-HN"),
    ("181/20/CBMP-NĐ", "181/20/CBMP-NĐ"),
    ("142695-21-CBMP-QLD", "142695/21/CBMP-QLD"),
    ("46-23-CBMP-HD", "46/23/CBMP-HD"),
    ("Việt Nam-18188-14", "VN-18188-14"),  # press expansion of "VN"
    ("12/2024/ĐKSP", None),  # a food declaration, not a drug number
    ("ABC-123-45", None),
    ("VD-24891", None),
    ("", None),
    (None, None),
])
def test_parse_drug_registration(text, expected):
    assert parse_drug_registration(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("12/2024/ĐKSP", "12/2024/ĐKSP"),
    ("4984/2019/ĐKSP", "4984/2019/ĐKSP"),
    ("395/2020/DKSP", "395/2020/ĐKSP"),
    ("số 12 / 2024 / đksp", "12/2024/ĐKSP"),
    ("12-2024-ĐKSP", "12/2024/ĐKSP"),
    ("1312/2020/XNQC-ATTP", None),  # advertising approval, not a product declaration
    ("12/1024/ĐKSP", None),
    ("VD-24891-16", None),
    (None, None),
])
def test_parse_declaration_no(text, expected):
    assert parse_declaration_no(text) == expected


@given(st.text())
def test_registration_parsers_never_raise_and_are_idempotent(text):
    for parser in (parse_drug_registration, parse_declaration_no):
        result = parser(text)
        assert result is None or (isinstance(result, str) and parser(result) == result)


# --------------------------------------------------------------------------- GTIN

@pytest.mark.parametrize("code,valid", [
    ("3250391660995", True),  # EAN-13 as in RappelConso
    ("3250391660996", False),
    ("73513537", True),  # EAN-8
    ("036000291452", True),  # UPC-A
    ("98412345678908", True),  # GTIN-14
    ("325-0391-660995", True),
    ("00000000", False),
    ("3250391660995x", False),
    ("", False),
    (None, False),
])
def test_gtin_check(code, valid):
    assert gtin_check(code) is valid


def test_extract_gtins():
    text = ("3250391660995 Lot 123, DLC 12/05/2024; EAN: 3250391660995 / 036000291452, "
            "lot A3250391660995B, 3250391660996")
    assert extract_gtins(text) == ["3250391660995", "036000291452"]
    assert extract_gtins(None) == []


def gs1_check_digit(body):
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    return str((10 - total) % 10)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)))
def test_gtin_round_trip(body):
    code = body + gs1_check_digit(body)
    wrong = body + str((int(code[-1]) + 1) % 10)
    assert gtin_check(code) is bool(code.strip("0"))
    assert gtin_check(wrong) is False
    assert extract_gtins(f"Lot 12 {code}, x") == ([code] if code.strip("0") else [])


@given(st.text())
def test_gtin_functions_never_raise(text):
    assert isinstance(gtin_check(text), bool)
    found = extract_gtins(text)
    assert len(found) == len(set(found))
    assert all(gtin_check(g) and g in text for g in found)


# --------------------------------------------------------------------------- floats

@pytest.mark.parametrize("text,expected", [
    ("3.359,80", 3359.8),  # Vietnamese: dot thousands, comma decimal
    ("53.5737872", 53.5737872),
    ("-2.4290353", -2.4290353),
    ("1,234.5", 1234.5),  # English
    ("1.234.567", 1234567.0),
    ("1,234,567", 1234567.0),
    ("22,5", 22.5),
    ("6,318", 6.318),  # single separator = decimal, see parse_float's docstring
    ("6.318", 6.318),
    ("1 234,5", 1234.5),
    ("−2,5", -2.5),
    (" +10 ", 10.0),
    ("1.5e3", 1500.0),
    (".5", 0.5),
    ("1,2.3", None),
    ("1.23.4", None),
    ("12,34,567", None),
    ("nan", None),
    ("inf", None),
    ("1e999", None),
    ("abc", None),
    ("", None),
    (None, None),
    (2.5, 2.5),
])
def test_parse_float(text, expected):
    assert parse_float(text) == expected


@given(st.text())
def test_parse_float_never_raises(text):
    value = parse_float(text)
    assert value is None or (isinstance(value, float) and value == value and abs(value) != float("inf"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_float_round_trip_repr(x):
    assert parse_float(repr(x)) == x


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_parse_float_round_trip_vietnamese(x):
    english = f"{x:,.2f}"
    vietnamese = english.translate(str.maketrans(",.", ".,"))
    assert parse_float(vietnamese) == parse_float(english) == float(x)


# --------------------------------------------------------------------------- all parsers

@given(st.text().map(lambda s: unicodedata.normalize("NFD", s)))
def test_no_parser_raises_on_nfd_text(text):
    for parser in (parse_date, parse_money_vnd, parse_tax_code, parse_drug_registration,
                   parse_declaration_no, gtin_check, extract_gtins, parse_float):
        parser(text)


# --------------------------------------------------------------------------- barcodes in prose, dirty text

from vn.ids import extract_labelled_gtins, normalise_gtin  # noqa: E402
from vn.text import repair_text  # noqa: E402


@given(st.text(max_size=300))
def test_labelled_gtins_never_raise_and_only_return_valid_codes(text):
    from stdnum import ean
    found, rejected = extract_labelled_gtins("UPC: " + text)
    assert all(ean.is_valid(code) and normalise_gtin(code) == code for code in found)
    assert not set(found) & set(rejected)


@given(st.text(max_size=300))
def test_repair_text_never_raises_and_changes_nothing_it_does_not_report(text):
    fixed, repairs = repair_text(text)
    assert isinstance(fixed, str)
    assert (fixed == text) == (not repairs)


def test_normalise_gtin_forms_and_rejects():
    assert normalise_gtin("4006381333931") == "4006381333931"             # EAN-13
    assert normalise_gtin("0 42743 19026 6") == "042743190266"           # UPC-A as printed
    assert normalise_gtin("00042743190266") == "042743190266"            # GTIN-14, indicator 0
    assert normalise_gtin("10072714002158") == "10072714002158"          # a case: indicator 1 stays
    assert normalise_gtin("042743190267") is None                        # check digit
    assert normalise_gtin("3680017231") is None and normalise_gtin(None) is None and normalise_gtin("") is None
