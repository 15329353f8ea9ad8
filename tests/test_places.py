"""vn.places: addresses (pre- or post-2025 names) -> 2025 province / ward / coordinates."""
import csv
import json
import math
import random
import time

import pytest
from conftest import shared_file
from hypothesis import given, settings
from hypothesis import strategies as st

from vn.places import EMPTY, Place, in_vietnam, locate
from vn.units import reference_rows

# Only in ../shared/data beside the checkout (the tests that read them skip, saying so, without it).
CURATED = "curated/vn-news"
MAPPING_CSV = "raw/vn-admin-units/convert_legacy_2025_simple.csv"


@pytest.fixture(scope="module")
def ref():
    return reference_rows()


def _read_csv(relative):
    with open(shared_file(relative), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- examples

HAIPHONG = "số 16 Lê Đại Hành, phường Minh Khai, quận Hồng Bàng (cũ), Thành phố Hải Phòng"
HCM_SPELLINGS = ["TP HCM", "TP.HCM", "TPHCM", "TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Sài Gòn"]


@pytest.mark.parametrize("address, province, expected", [
    # old ward + old district marked "(cũ)" + 2025 province: Minh Khai went whole into Hồng Bàng
    (HAIPHONG, "Hải Phòng", ("31", "Thành phố Hải Phòng", "11311", "Phường Hồng Bàng", "ward")),
    (HAIPHONG, None, ("31", "Thành phố Hải Phòng", "11311", "Phường Hồng Bàng", "ward")),
    # old-style address in an old province that is now part of Vĩnh Long
    ("xã Phú Cần, huyện Tiểu Cần, tỉnh Trà Vinh", "Trà Vinh", ("86", "Tỉnh Vĩnh Long", "29341", "Xã Tiểu Cần", "ward")),
    # old-style HCM address without a province at all: "quận 3" exists only in HCM
    ("459B Nguyễn Đình Chiểu, phường 5, quận 3", None,
     ("79", "Thành phố Hồ Chí Minh", "27154", "Phường Bàn Cờ", "ward")),
    # an old ward divided between several 2025 wards: no ward, the centre of the old district's wards
    ("73 đường Trần Duy Hưng, phường Trung Hòa, quận Cầu Giấy, TP Hà Nội", "Hà Nội",
     ("01", "Thành phố Hà Nội", None, None, "district")),
    # post-2025 ward named next to its old district marked "(cũ)"
    ("ngõ 89 phố Đàm Quang Trung, phường Long Biên, quận Long Biên (cũ), TP Hà Nội", "Hà Nội",
     ("01", "Thành phố Hà Nội", "00145", "Phường Long Biên", "ward")),
    # 2025 ward whose name carries a dash, written with an en dash
    ("phường Cam Ly – Đà Lạt", "Lâm Đồng", ("68", "Tỉnh Lâm Đồng", "24787", "Phường Cam Ly - Đà Lạt", "ward")),
    # a bare old district name beside a province cell: the old district
    ("Quảng Xương", "Thanh Hóa", ("38", "Tỉnh Thanh Hóa", None, None, "district")),
    # a bare number is no district without its type word
    ("H1", None, (None, None, None, None, None)),
    # island district that became one special zone
    ("thị trấn Dương Đông, huyện Phú Quốc, tỉnh Kiên Giang", "Kiên Giang",
     ("91", "Tỉnh An Giang", "31078", "Đặc khu Phú Quốc", "ward")),
    # the same commune name was a commune in Đồng Nai and is one in Huế: no guess
    ("xã Hưng Lộc", None, (None, None, None, None, None)),
    # no diacritics at all
    ("So 5 Le Loi, Phuong Ben Thanh, Quan 1, TP HCM", None,
     ("79", "Thành phố Hồ Chí Minh", "26743", "Phường Bến Thành", "ward")),
    ("12 Nguyen Hue, Phuong Sai Gon, TP HCM", None, ("79", "Thành phố Hồ Chí Minh", "26740", "Phường Sài Gòn", "ward")),
])
def test_examples(address, province, expected):
    place = locate(address, province)
    assert (place.province_code, place.province, place.ward_code, place.ward, place.geo_precision) == expected


@pytest.mark.parametrize("spelling", HCM_SPELLINGS)
def test_hcm_spellings(spelling):
    in_address = locate(f"59 Ngô Thời Nhiệm, phường Xuân Hòa, {spelling}")
    assert (in_address.province_code, in_address.ward_code, in_address.ward) == ("79", "27139", "Phường Xuân Hòa")
    as_cell = locate(None, spelling)
    assert as_cell.province_code == "79" and as_cell.province == "Thành phố Hồ Chí Minh"
    assert as_cell.ward_code is None and as_cell.geo_precision == "province"
    both = locate("59 Ngô Thời Nhiệm, phường Xuân Hòa", spelling)
    assert both.ward_code == "27139"


def _province_merging(ref, old_name):
    rows = [p for p in ref["provinces"] if old_name in json.loads(p["old_provinces"])]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("cell, old_name, expected_code", [
    ("Bình Dương", "Tỉnh Bình Dương", "79"),        # merged into Thành phố Hồ Chí Minh
    ("Trà Vinh", "Tỉnh Trà Vinh", "86"),            # merged into Tỉnh Vĩnh Long
    ("Bà Rịa- Vũng Tàu", "Tỉnh Bà Rịa - Vũng Tàu", "79"),
    ("Hải Dương", "Tỉnh Hải Dương", "31"),
    ("Thừa Thiên Huế", "Thành phố Huế", "46"),
    ("Hòa Bình", "Tỉnh Hòa Bình", "25"),
])
def test_old_province_cells(ref, cell, old_name, expected_code):
    target = _province_merging(ref, old_name)
    assert target["province_code"] == expected_code
    place = locate(None, cell)
    assert place.province_code == expected_code
    assert place.province == target["province"]
    assert (place.latitude, place.longitude) == (target["latitude"], target["longitude"])


def test_trà_vinh_is_vinh_long():
    place = locate("", "Trà Vinh")
    assert place.province == "Tỉnh Vĩnh Long" and place.province_code == "86"


def test_province_cell_wins_and_old_province_narrows():
    # "Phường 5" exists in several old cities of today's Vĩnh Long: the district decides
    place = locate("Số 150, Đường 14/9, Phường 5, Tp Vĩnh Long, Tỉnh Vĩnh Long", "Vĩnh Long")
    assert place.province_code == "86" and place.ward == "Phường Thanh Đức"
    # "phường Định Hòa, TP Thủ Dầu Một" with the old province in the cell
    place = locate("phường Định Hòa, TP Thủ Dầu Một", "Bình Dương")
    assert place.province_code == "79" and place.ward_code is not None


# --------------------------------------------------------------------------- coordinates

def test_point_inside_vietnam_is_used():
    place = locate(HAIPHONG, "Hải Phòng", 20.86, 106.68)
    assert place.geo_precision == "point" and (place.latitude, place.longitude) == (20.86, 106.68)
    assert place.ward == "Phường Hồng Bàng"          # still filled from the address
    assert locate(None, None, "10.78", "106.70").geo_precision == "point"


def test_point_outside_vietnam_is_never_used():
    place = locate(HAIPHONG, "Hải Phòng", 53.57, -2.43)   # England
    assert place.geo_precision == "ward" and place.latitude != 53.57
    place = locate(None, "Hà Nội", 53.57, -2.43)
    assert place.geo_precision == "province" and place.latitude != 53.57
    assert locate(None, None, 53.57, -2.43) == EMPTY
    assert locate("Pakistan", None, 53.57, -2.43).geo_precision != "point"


@pytest.mark.parametrize("lat, lon, inside", [
    (21.03, 105.85, True), (10.78, 106.70, True), (8.68, 106.60, True),   # Hà Nội, HCM, Côn Đảo
    (16.5, 112.0, True), (8.65, 111.92, True),                           # Paracels, Spratlys
    (53.57, -2.43, False), (0, 0, False), (106.7, 10.8, False),          # UK, null island, swapped
    (float("nan"), 106.0, False), (None, 106.0, False), ("abc", 1, False), (21.0, float("inf"), False),
])
def test_in_vietnam(lat, lon, inside):
    assert in_vietnam(lat, lon) is inside


def test_centroids(ref):
    wards = {w["ward_code"]: w for w in ref["wards"]}
    place = locate(HAIPHONG)
    assert (place.latitude, place.longitude) == (wards["11311"]["latitude"], wards["11311"]["longitude"])
    assert all(in_vietnam(w["latitude"], w["longitude"]) for w in ref["wards"])
    assert all(in_vietnam(p["latitude"], p["longitude"]) for p in ref["provinces"])


# --------------------------------------------------------------------------- nothing found

@pytest.mark.parametrize("address, province", [
    (None, None), ("", ""), ("   ", " "), ("asdf qwer", None), ("Pakistan", None), ("12345", "!!!"),
    ("(cũ)", "(cũ)"), ("Phường, Quận, Tỉnh", None), ("P.", "TP."), ("\x00\x01\u200b", "\ufeff"),
    (12345, 6.5), ("Toàn quốc", "Toàn quốc"),
])
def test_garbage_gives_empty_place(address, province):
    place = locate(address, province)
    assert place == EMPTY and place == Place()
    assert all(v is None for v in place)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises(text):
    place = locate(text)
    assert isinstance(place, Place)
    assert place.geo_precision in (None, "point", "ward", "district", "province")


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(max_size=30),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers()))
def test_never_raises_with_all_arguments(address, province, lat, lon):
    place = locate(address, province, lat, lon)
    assert isinstance(place, Place)
    if place.geo_precision == "point":
        assert in_vietnam(place.latitude, place.longitude)


# --------------------------------------------------------------------------- reference rows

def test_reference_rows(ref):
    assert set(ref) == {"provinces", "wards", "ward_aliases"}
    provinces, wards, aliases = ref["provinces"], ref["wards"], ref["ward_aliases"]
    assert len(provinces) == 34 and len(wards) == 3321
    assert all(len(p["province_code"]) == 2 and p["province_code"].isdigit() for p in provinces)
    assert all(len(w["ward_code"]) == 5 and w["ward_code"].isdigit() for w in wards)
    assert sum(len(json.loads(p["old_provinces"])) for p in provinces) == 63
    assert {w["ward_type"] for w in wards} == {"Phường", "Xã", "Đặc khu"}
    codes = {p["province_code"] for p in provinces}
    assert {w["province_code"] for w in wards} == codes
    # one row per (old ward, 2025 ward); 5 island districts without wards have no old ward code
    assert len({(a["old_ward_code"], a["ward_code"]) for a in aliases}) == len(aliases) == 10597
    assert sum(a["divided"] for a in aliases) == 1033
    # every 2025 ward comes from old wards, except the 5 special zones made of those island districts
    by_code = {w["ward_code"]: w for w in wards}
    unmapped = set(by_code) - {a["ward_code"] for a in aliases}
    assert len(unmapped) == 5 and {by_code[c]["ward_type"] for c in unmapped} == {"Đặc khu"}
    assert set(provinces[0]) == {"province_code", "province", "province_short", "latitude", "longitude",
                                 "old_provinces"}
    assert set(wards[0]) == {"ward_code", "ward", "ward_short", "ward_type", "province_code", "province",
                             "latitude", "longitude", "area_km2"}
    assert set(aliases[0]) == {"old_ward_code", "old_ward", "old_district", "old_province", "ward_code", "ward",
                               "province_code", "province", "divided"}


def test_old_addresses_follow_the_published_mapping():
    """Every pre-2025 ward written as "ward, district, province" lands where the mapping says."""
    rows = _read_csv(MAPPING_CSV)
    by_old = {}
    for r in rows:
        if r["ward"]:
            by_old.setdefault((r["province"], r["district"], r["ward"]), []).append(r)
    wrong = []
    for (province, district, ward), maps in by_old.items():
        place = locate(f"12 Lê Lợi, {ward}, {district}, {province}")
        expected_ward = None if maps[0]["isDividedWard"] == "True" else maps[0]["newWardCode"].zfill(5)
        if (place.province_code, place.ward_code) != (maps[0]["newProvinceCode"].zfill(2), expected_ward):
            wrong.append((ward, district, province, place.ward))
    assert len(by_old) > 10_000
    assert not wrong, wrong[:10]


# --------------------------------------------------------------------------- curated data

def test_curated_rows():
    rows = []
    for name in ("xu-phat-co-so.csv", "san-pham-an-toan.csv"):
        rows += [(r["Địa chỉ"], r["Tỉnh/thành"]) for r in _read_csv(f"{CURATED}/{name}")]
    named = [(a, p) for a, p in rows if p.strip()]
    places = [locate(a, p) for a, p in named]
    with_province = sum(1 for pl in places if pl.province_code)
    at_ward = sum(1 for pl in places if pl.geo_precision == "ward")
    at_province = sum(1 for pl in places if pl.geo_precision == "province")
    with_address = [(pl, a) for pl, (a, _) in zip(places, named) if a.strip()]
    ward_of_addressed = sum(1 for pl, _ in with_address if pl.geo_precision == "ward")
    print(f"\ncurated rows naming a province: {len(named)}; 2025 province found: {with_province} "
          f"({with_province / len(named):.1%}); ward level: {at_ward} ({at_ward / len(named):.1%}); "
          f"province level: {at_province} ({at_province / len(named):.1%}); "
          f"ward level among rows with an address: {ward_of_addressed}/{len(with_address)} "
          f"({ward_of_addressed / len(with_address):.1%})")
    assert with_province / len(named) >= 0.95
    at_district = sum(1 for pl in places if pl.geo_precision == "district")
    assert at_ward + at_district + at_province == with_province
    assert at_ward / len(named) >= 0.35
    assert ward_of_addressed / len(with_address) >= 0.5
    # the cell's province is kept: the address never moves a row to another province
    for pl, (a, p) in zip(places, named):
        assert pl.province_code == locate(None, p).province_code, (a, p)


# --------------------------------------------------------------------------- speed

def test_ten_thousand_random_addresses_are_placed(ref):
    """Old and 2025 addresses alike get a province and coordinates (the rate is printed, not asserted:
    a shared CI machine's wall clock proves nothing)."""
    rng = random.Random(7)
    wards = ref["wards"]
    aliases = ref["ward_aliases"]
    addresses = []
    for i in range(10_000):
        if i % 2:
            a = rng.choice(aliases)
            addresses.append(f"số {i} Lê Lợi, {a['old_ward']}, {a['old_district']}, {a['old_province']}")
        else:
            w = rng.choice(wards)
            addresses.append(f"{i} Nguyễn Huệ, {w['ward']}, {w['province']}")
    start = time.perf_counter()
    placed = [locate(a) for a in addresses]
    elapsed = time.perf_counter() - start
    print(f"\n{len(addresses) / elapsed:,.0f} uncached calls/s")
    assert all(p.province_code for p in placed)
    assert not any(math.isnan(p.latitude) for p in placed)
