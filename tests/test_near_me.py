"""Near me (issue 17, item 4): addresses naming a pre-2025 district land on the wards that replaced it,
every distance says how precise the position is, and nothing beyond the radius is listed.

Expected values come from the reference tables in the same database (`ward_aliases`, `wards`) and from
SQL over the rows, never from numbers written here."""
import asyncio
import csv
import math
import re
import sqlite3

import pytest

from conftest import SAMPLES

RADIUS_KM = 100
# Curated sample rows naming an old district, and the district (old_district, old_province in ward_aliases).
DISTRICTS = [
    ("Q.Hải Châu", "Quận Hải Châu", "Thành phố Đà Nẵng"),
    ("Q.1", "Quận 1", "Thành phố Hồ Chí Minh"),
    ("quận Hai Bà Trưng", "Quận Hai Bà Trưng", "Thành phố Hà Nội"),
    ("Q.Liên Chiểu", "Quận Liên Chiểu", "Thành phố Đà Nẵng"),
    ("quận Phú Nhuận", "Quận Phú Nhuận", "Thành phố Hồ Chí Minh"),
]


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def sample_addresses():
    with open(SAMPLES / "vn_news_violations.csv", encoding="utf-8-sig") as f:
        return [row["Địa chỉ"] for row in csv.DictReader(f)]


@pytest.mark.parametrize("written,district,province", DISTRICTS)
def test_district_addresses_land_on_the_districts_wards(demo_db, written, district, province):
    addresses = [a for a in sample_addresses() if re.search(re.escape(written) + r"\b", a)]
    assert addresses, f"the curated sample should name {written!r}"
    conn = sqlite3.connect(demo_db)
    try:
        wards = conn.execute("""select distinct w.ward_code, w.latitude, w.longitude from ward_aliases a
                                join wards w on w.ward_code = a.ward_code
                                where a.old_district = ? and a.old_province = ?""", (district, province)).fetchall()
        assert wards
        centre = (sum(w[1] for w in wards) / len(wards), sum(w[2] for w in wards) / len(wards))
        province_centre = conn.execute("select p.latitude, p.longitude from provinces p where p.province = ?",
                                       (province,)).fetchone()
        for address in addresses:
            rows = conn.execute("select latitude, longitude, geo_precision, ward_code from violations where address = ?",
                                (address,)).fetchall()
            assert rows, address
            for lat, lon, precision, ward_code in rows:
                if precision == "ward":      # placed more precisely still: on one of the district's wards
                    assert ward_code in {w[0] for w in wards}, address
                    continue
                assert precision == "district", (address, precision)
                assert (lat, lon) == pytest.approx(centre, abs=1e-6), address
                # within the box of the wards that replaced the district, far nearer than the province centre
                assert min(w[1] for w in wards) <= lat <= max(w[1] for w in wards)
                assert min(w[2] for w in wards) <= lon <= max(w[2] for w in wards)
                assert km(lat, lon, *centre) < km(lat, lon, *province_centre) or km(*centre, *province_centre) < 1
    finally:
        conn.close()


def nearby_truth(demo_db, lat, lon):
    """Rows within the radius by SQL over every row, province centres left out."""
    conn = sqlite3.connect(demo_db)
    try:
        rows = conn.execute("""select 'violations', id, latitude, longitude, geo_precision from violations
                               where latitude is not null and geo_precision is not 'province'
                               union all select 'listings', id, latitude, longitude, geo_precision from listings
                               where latitude is not null and geo_precision is not 'province'""").fetchall()
    finally:
        conn.close()
    return {(k, i) for k, i, la, lo, _p in rows if km(lat, lon, la, lo) <= RADIUS_KM}


@pytest.mark.parametrize("ward_name", ["Phường Hải Châu", "Phường Sài Gòn", "Phường Hai Bà Trưng"])
def test_nearby_lists_only_the_radius_with_precision(datasette, demo_db, ward_name):
    conn = sqlite3.connect(demo_db)
    ward_code, lat, lon, province_code = conn.execute(
        "select ward_code, latitude, longitude, province_code from wards where ward = ?", (ward_name,)).fetchone()
    at_centre = conn.execute("""select (select count(*) from violations where province_code = ? and geo_precision = 'province')
                                + (select count(*) from listings where province_code = ? and geo_precision = 'province')""",
                             (province_code, province_code)).fetchone()[0]
    conn.close()
    response = asyncio.run(datasette.client.get(f"/minhbach/nearby.json?lat={lat}&lon={lon}&page=1&_shape=array"))
    assert response.status_code == 200, response.text[:300]
    rows = response.json()
    expected = nearby_truth(demo_db, lat, lon)
    assert len(expected) <= 50            # one page holds them all in the demo
    assert {(r["kind"], r["id"]) for r in rows} == expected
    assert all(r["km"] <= RADIUS_KM and r["geo_precision"] not in (None, "province") for r in rows)
    assert [r["km"] for r in rows] == sorted(r["km"] for r in rows)

    page = asyncio.run(datasette.client.get(f"/gan-toi?province={province_code}&ward={ward_code}")).text
    assert "trong vòng 100 km" in page and "khoảng 100 km" not in page
    items = re.findall(r"<li><span class=\"kind.*?</li>", page, flags=re.S)
    assert len(items) == len(rows)
    words = {"point": "vị trí chính xác", "street": "trung tâm đường phố", "town": "trung tâm thị trấn",
             "ward": "trung tâm phường, xã", "district": "trung tâm quận, huyện cũ"}
    for item, row in zip(items, rows):
        assert f"{row['km']:.1f} km" in item and words[row["geo_precision"]] in item, item
    if at_centre:
        assert f"{at_centre} dòng trong tỉnh này chỉ biết tỉnh" in page
