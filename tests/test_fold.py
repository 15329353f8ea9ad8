"""vn.fold through a real SQLite FTS5 table: folded queries and folded text meet."""
import csv
import os
import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Same profiles as conftest.py (kept here so this file also runs on its own).
settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("full", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from vn.fold import canonical, fold, fts_query  # noqa: E402

CURATED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "curated" / "vn-news"
TOKENIZE = "unicode61 remove_diacritics 2"


def nfd(text):
    return unicodedata.normalize("NFD", text)


# Short phrases copied from the curated tables, some re-spelt the way the press also
# writes them (abbreviation, upper case, NFD, old-style "hoà"), so every probe has
# rows even where the shared data is absent.
SUPPLEMENT = [
    "Công ty cổ phần dược – thiết bị y tế Đà Nẵng (nhập khẩu)",
    "CÔNG TY CỔ PHẦN DƯỢC – THIẾT BỊ Y TẾ ĐÀ NẴNG",
    "Đường hoa dừa, OCOP 5 sao",
    "364 Cộng Hòa, Phường 13",
    "phường Hoà Lợi",
    nfd("Nước mắm Phú Quốc Khải Hoàn 40 độ đạm"),
    "số 3B Trần Hưng Đạo, quận Hai Bà Trưng, Hà Nội",
    "Hà Nội yêu cầu thu hồi 12 mỹ phẩm vi phạm",
    "Công ty Cổ phần Dược phẩm Cửu Long",
    "Công ty trách nhiệm hữu hạn nhà hàng Hạnh Phúc Quảng Ninh",
    "Thành phố Biên Hòa, tỉnh Đồng Nai",
    "Công ty cổ phần Mỹ phẩm Sài Gòn",
    "CTCP Mỹ phẩm Sài Gòn",
    "Công ty TNHH MTV Thương mại Mỹ Lợi, số 345/2 Trần Hưng Đạo, Phường Cầu Ông Lãnh, TP.HCM",
    "Cty TNHH MTV Thương mại Mỹ Lợi",
    "C.ty TNHH Spice World Hotpot Vietnam, Quận 5, TPHCM",
    "Công ty CP Dược phẩm Cửu Long, TP HCM",
    "quận Tân Phú, TP. Hồ Chí Minh",
    "1061-1063-1065 Trần Hưng Đạo, Phường 05, Quận 5, Thành phố Hồ Chí Minh",
    "HTX Nông nghiệp, UBND tỉnh Quảng Nam",
]


def curated_rows():
    """Every row of the three curated tables as one text (URL column left out)."""
    rows = []
    for name in ("thu-hoi-san-pham.csv", "xu-phat-co-so.csv", "san-pham-an-toan.csv"):
        path = CURATED / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                rows.append(" | ".join(v for k, v in row.items() if k != "Nguồn" and v))
    return rows


@pytest.fixture(scope="module")
def corpus():
    return SUPPLEMENT + curated_rows()


def fts_table(texts, index=canonical):
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE doc USING fts5(body, tokenize='{TOKENIZE}')")
    db.executemany("INSERT INTO doc(rowid, body) VALUES (?, ?)",
                   [(i, index(t)) for i, t in enumerate(texts, start=1)])
    return db


@pytest.fixture(scope="module")
def corpus_words(corpus):
    return [words(text) for text in corpus]


@pytest.fixture(scope="module")
def fts(corpus):
    db = fts_table(corpus)
    yield db
    db.close()


def search(db, query):
    return {r for (r,) in db.execute("SELECT rowid FROM doc WHERE doc MATCH ?", (fts_query(query),))}


def words(text):
    return " " + " ".join(re.findall(r"[^\W_]+", fold(text))) + " "


PROBES = [
    ["da nang", "Đà Nẵng", "ĐÀ NẴNG", nfd("Đà Nẵng")],
    ["duong", "đường", "ĐƯỜNG", nfd("đường")],
    ["hoa", "hòa", "hoà", nfd("hòa")],
    ["nuoc mam", "nước mắm", nfd("nước mắm")],
    ["tran hung dao", "Trần Hưng Đạo", nfd("Trần Hưng Đạo")],
    ["ha noi", "Hà Nội", "HÀ NỘI"],
    ["thu hoi", "thu hồi", nfd("thu hồi")],
    ["duoc pham", "dược phẩm", "Dược Phẩm"],
    ["cong ty", "công ty", "Cty", "C.ty", "c.ty"],
    ["my pham", "mỹ phẩm", nfd("mỹ phẩm")],
    ["quang ninh", "Quảng Ninh"],
    ["dong nai", "Đồng Nai", "ĐỒNG NAI"],
    ["ho chi minh", "Hồ Chí Minh", "TP.HCM", "TP HCM", "TPHCM", "tp.hcm", "HCM", "HCMC",
     "TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh", "thành phố hồ chí minh", "Sài Gòn", "sai gon"],
    ["CTCP", "Công ty cổ phần", "công ty CP", "Cty CP", "cong ty co phan"],
    ["TNHH", "trách nhiệm hữu hạn", "tnhh"],
]


@pytest.mark.parametrize("variants", PROBES, ids=[p[0] for p in PROBES])
def test_probe_variants_find_the_same_rows(fts, corpus, corpus_words, variants):
    results = {v: search(fts, v) for v in variants}
    first = results[variants[0]]
    assert first, f"no row found for {variants[0]!r}"
    for variant, rows in results.items():
        assert rows == first, f"{variant!r} finds different rows than {variants[0]!r}"
    # Recall: every row that literally contains any of the spellings is found.
    for variant in variants:
        needle = words(variant)
        literal = {i for i, text in enumerate(corpus_words, start=1) if needle in text}
        assert literal <= first, (variant, [corpus[i - 1][:80] for i in literal - first])


@pytest.mark.parametrize("query,expected_text", [
    ("Công ty cổ phần Mỹ phẩm Sài Gòn", "CTCP Mỹ phẩm Sài Gòn"),
    ("CTCP Mỹ phẩm", "Công ty cổ phần Mỹ phẩm Sài Gòn"),
    ("Công ty Mỹ Lợi", "Cty TNHH MTV Thương mại Mỹ Lợi"),
    ("Spice World công ty", "C.ty TNHH Spice World Hotpot Vietnam, Quận 5, TPHCM"),
    ("Spice World Hồ Chí Minh", "C.ty TNHH Spice World Hotpot Vietnam, Quận 5, TPHCM"),
    ("Tân Phú TP.HCM", "quận Tân Phú, TP. Hồ Chí Minh"),
    ("Cửu Long công ty cổ phần", "Công ty CP Dược phẩm Cửu Long, TP HCM"),
    ("hop tac xa nong nghiep", "HTX Nông nghiệp, UBND tỉnh Quảng Nam"),
    ("uy ban nhan dan Quảng Nam", "HTX Nông nghiệp, UBND tỉnh Quảng Nam"),
    ("Hạnh Phúc TNHH", "Công ty trách nhiệm hữu hạn nhà hàng Hạnh Phúc Quảng Ninh"),
    ("nuoc mam phu quoc", nfd("Nước mắm Phú Quốc Khải Hoàn 40 độ đạm")),
    ("Đà Nan", "Công ty cổ phần dược – thiết bị y tế Đà Nẵng (nhập khẩu)"),  # as typed
])
def test_alias_and_prefix_queries_reach_the_other_spelling(query, expected_text):
    db = fts_table(SUPPLEMENT)
    assert SUPPLEMENT.index(expected_text) + 1 in search(db, query)


def test_without_folding_dj_does_not_match():
    """Why fold exists: unicode61 drops tone marks but keeps đ as its own letter."""
    raw = fts_table(["Đường hoa dừa"], index=lambda t: t)
    def plain(q):
        return raw.execute("SELECT count(*) FROM doc WHERE doc MATCH ?", (q,)).fetchone()[0]
    assert plain('"hoa"') == 1 and plain('"dua"') == 1  # marks are removed by the tokenizer
    assert plain('"duong"') == 0  # ... but not đ
    assert search(fts_table(["Đường hoa dừa"]), "duong") == {1}


# --------------------------------------------------------------------------- unit level

@pytest.mark.parametrize("text,expected", [
    ("ĐÀ NẴNG", "da nang"),
    ("da nang", "da nang"),
    ("Đà Nẵng", "da nang"),
    (nfd("Đà Nẵng"), "da nang"),
    ("hòa", "hoa"),
    ("hoà", "hoa"),
    (nfd("hoà"), "hoa"),
    ("  Nước\tmắm \n Phú  Quốc ", "nuoc mam phu quoc"),
    ("Ðồng Nai", "dong nai"),  # Icelandic eth left by legacy encodings
    ("Straße", "strasse"),
    ("", ""),
    (None, ""),
])
def test_fold(text, expected):
    assert fold(text) == expected


@pytest.mark.parametrize("text,for_query,expected", [
    ("TP.HCM", False, "tp.hcm ho chi minh"),
    ("TP.HCM", True, "ho chi minh"),
    ("tp hcm", True, "ho chi minh"),
    ("TPHCM", True, "ho chi minh"),
    ("TP. Hồ Chí Minh", True, "ho chi minh"),
    ("Thành phố Hồ Chí Minh", True, "ho chi minh"),
    ("Thành phố Hồ Chí Minh", False, "thanh pho ho chi minh"),  # nothing to add
    ("Sài Gòn", False, "sai gon ho chi minh"),
    ("HCMC", True, "ho chi minh"),
    ("CTCP Sữa", False, "ctcp sua cong ty co phan"),
    ("CTCP Sữa", True, "cong ty co phan sua"),
    ("Cty TNHH X", False, "cty tnhh x cong ty trach nhiem huu han"),
    ("Cty TNHH X", True, "cong ty trach nhiem huu han x"),
    ("C.ty", True, "cong ty"),
    ("công ty trách nhiệm hữu hạn", False, "cong ty trach nhiem huu han tnhh"),
    ("công ty trách nhiệm hữu hạn", True, "cong ty trach nhiem huu han"),
    ("HTX Hòa Nam", True, "hop tac xa hoa nam"),
    ("TP Tuy Hòa", True, "thanh pho tuy hoa"),
    ("UBND tỉnh", True, "uy ban nhan dan tinh"),
    ("", False, ""),
    ("", True, ""),
])
def test_canonical(text, for_query, expected):
    assert canonical(text, for_query=for_query) == expected


@pytest.mark.parametrize("query,expected", [
    ("Đà Nan", '"da" "nan"*'),
    ("tp.hcm", '"ho" "chi" "minh"*'),
    ('NOT "x" OR y*', '"not" "x" "or" "y"'),  # FTS5 syntax in input is inert
    ("ty", '"ty"'),                  # a last word under 3 letters is matched whole, not as a prefix
    ("cong ty", '"cong" "ty"'),
    ("sua", '"sua"*'),
    ("hanoi", '"ha" "noi"*'),        # place names written joined
    ("DaNang", '"da" "nang"*'),
    ("hochiminh", '"ho" "chi" "minh"*'),
    ("", '""'),
    ("   ", '""'),
    ("?!.,;-", '""'),
    (None, '""'),
])
def test_fts_query(query, expected):
    assert fts_query(query) == expected


def test_empty_query_is_valid_fts_and_matches_nothing(fts):
    assert fts.execute("SELECT count(*) FROM doc WHERE doc MATCH ?", (fts_query("?!"),)).fetchone() == (0,)


@given(st.text())
def test_fold_properties(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
    assert "đ" not in folded and "Đ" not in folded
    assert not any(unicodedata.category(ch) == "Mn" for ch in folded)
    assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))


@given(st.text())
def test_canonical_query_form_is_stable(text):
    query = canonical(text, for_query=True)
    assert canonical(query, for_query=True) == query
    assert canonical(text).startswith(fold(text))


EMPTY_FTS = fts_table(["Đà Nẵng", "Công ty cổ phần", "ho chi minh"])


@given(st.text())
def test_fts_query_never_breaks_fts5(text):
    EMPTY_FTS.execute("SELECT rowid FROM doc WHERE doc MATCH ?", (fts_query(text),)).fetchall()


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x1EFF), max_size=60))
def test_fast_fold_path_equals_the_slow_path(text):
    from vn.fold import _fold_slow
    assert fold(text) == _fold_slow(text)


def test_joined_place_names_are_real_places():
    """Every name in PLACE_NAMES is a pre-2025 province, a 2025 province or a 2025 ward (the reference
    units of vietnamadminunits), so a joined form always stands for a real place."""
    from vn.fold import PLACE_NAMES
    from vn.units import admin_units as _data
    D = _data()
    known = {fold(p["short"]) for p in D.provinces.values()} | {fold(p["short"]) for p in D.old_provinces.values()}
    known |= {fold(w["short"]) for w in D.wards.values()}
    known |= {part.strip() for name in list(known) for part in name.split(" - ")}
    known.add(fold("Thừa Thiên Huế"))          # the province's name before it became Huế city
    known.add(fold("Bà Rịa Vũng Tàu"))
    assert [n for n in PLACE_NAMES if fold(n) not in known] == []


def test_exact_marks():
    from vn.fold import exact_marks, marked_words
    assert marked_words("Sửa xe") == ["sửa"] and marked_words("sua xe") == []
    assert exact_marks("sửa", "Cơ sở SỬA chữa") == 1
    assert exact_marks("sửa", "Sữa rửa mặt") == 0
    assert exact_marks("sua", "sửa") == 0        # an unaccented query ranks nothing first
