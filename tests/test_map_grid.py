"""The aggregate map endpoint (plugins/map_grid.py) through Datasette's in-process client."""
import asyncio
import random
import re

import pytest
import sqlite_utils
from datasette.app import Datasette

from conftest import ROOT

# A few places in Vietnam, and rows scattered around them.
CENTRES = {"01": (21.03, 105.85), "79": (10.78, 106.70), "48": (16.05, 108.20)}


def make_db(path, n=600, seed=3):
    rng = random.Random(seed)
    db = sqlite_utils.Database(path)
    rows = []
    for i in range(n):
        code = rng.choice(sorted(CENTRES))
        lat, lon = CENTRES[code]
        rows.append({"id": f"src:{i}/x y", "name": f"Cơ sở <b>{i}</b>", "province_code": code,
                     "latitude": round(lat + rng.uniform(-0.5, 0.5), 5), "longitude": round(lon + rng.uniform(-0.5, 0.5), 5)})
    rows += [{"id": "nocoord:1", "name": "no coordinates", "province_code": "01", "latitude": None, "longitude": None},
             {"id": "nocoord:2", "name": "only latitude", "province_code": "79", "latitude": 10.0, "longitude": None}]
    db["violations"].insert_all(rows, pk="id")
    db["provinces"].insert_all([{"province_code": c, "province": f"Tỉnh {c}", "latitude": la, "longitude": lo}
                                for c, (la, lo) in CENTRES.items()], pk="province_code")
    db["plain"].insert_all([{"lat": 10.5 + i / 100, "lon": 106.5, "title": f"t{i}"} for i in range(20)])
    db["nogeo"].insert_all([{"a": 1}])
    db.close()
    return rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("mapgrid") / "mapgrid.db"
    rows = make_db(path)
    ds = Datasette([], immutables=[str(path)], plugins_dir=str(ROOT / "plugins"),
                   static_mounts=[("static", str(ROOT / "static"))],
                   metadata={"plugins": {"map-grid": {"max_points": 50}}})
    return ds, rows


def get(ds, path):
    async def run():
        return await ds.client.get(path)
    response = asyncio.run(run())
    return response.status_code, response.json() if "json" in response.headers.get("content-type", "") else response.text


def with_coordinates(rows):
    return [r for r in rows if r["latitude"] is not None and r["longitude"] is not None]


def test_low_zoom_cells_add_up_to_the_rows_with_coordinates(setup):
    ds, rows = setup
    status, body = get(ds, "/-/map/violations.json?zoom=5&bbox=100,5,112,25")
    assert status == 200, body
    assert body["mode"] == "cells"
    assert body["rows_with_coordinates"] == len(with_coordinates(rows)) == 600
    assert sum(c[2] for c in body["cells"]) == body["total"] == 600
    for lat, lon, n in body["cells"]:
        assert 5 <= lat <= 25 and 100 <= lon <= 112 and n > 0
    # The database can be named in the path too; the whole world is the default box.
    status, body2 = get(ds, "/-/map/mapgrid/violations.json?zoom=3")
    assert status == 200 and sum(c[2] for c in body2["cells"]) == 600


def test_each_zoom_partitions_the_same_rows(setup):
    ds, _rows = setup
    for zoom in (3, 6, 9, 12):
        status, body = get(ds, f"/-/map/violations.json?zoom={zoom}&bbox=100,5,112,25")
        assert status == 200
        counts = [c[2] for c in body["cells"]] if body["mode"] == "cells" else [1] * len(body["points"])
        assert sum(counts) == 600, zoom


def test_zoomed_in_returns_the_points_in_the_box(setup):
    ds, rows = setup
    w, s, e, n = 106.60, 10.70, 106.70, 10.80
    expected = {r["id"] for r in with_coordinates(rows) if s <= r["latitude"] <= n and w <= r["longitude"] <= e}
    assert 0 < len(expected) <= 50
    status, body = get(ds, f"/-/map/violations.json?zoom=13&bbox={w},{s},{e},{n}")
    assert status == 200, body
    assert body["mode"] == "points" and body["pk"] == ["id"] and body["label"] == "name"
    assert {p[0] for p in body["points"]} == expected
    by_id = {r["id"]: r for r in rows}
    for pk, lat, lon, name in body["points"]:
        assert (lat, lon, name) == (by_id[pk]["latitude"], by_id[pk]["longitude"], by_id[pk]["name"])


def test_province_filter_and_units(setup):
    ds, rows = setup
    in_79 = [r for r in with_coordinates(rows) if r["province_code"] == "79"]
    status, body = get(ds, "/-/map/violations.json?zoom=4&province_code=79")
    assert status == 200 and body["filters"] == {"province_code": "79"}
    assert body["rows_with_coordinates"] == len(in_79) == sum(c[2] for c in body["cells"])
    status, body = get(ds, "/-/map/violations.json?zoom=5&by=province")
    assert status == 200 and body["mode"] == "province"
    units = {u[3]: u for u in body["units"]}
    assert set(units) == set(CENTRES)
    for code, (lat, lon) in CENTRES.items():      # placed at the provinces table's centroid
        assert units[code][:2] == [lat, lon] and units[code][4] == f"Tỉnh {code}"
    assert sum(u[2] for u in body["units"]) == 600


def test_rowid_table_and_other_column_names(setup):
    ds, _rows = setup
    status, body = get(ds, "/-/map/plain.json?zoom=12&bbox=106,10,107,11")
    assert status == 200 and body["mode"] == "points" and body["pk"] == ["rowid"] and body["label"] == "title"
    assert sorted(p[0] for p in body["points"]) == list(range(1, 21))


@pytest.mark.parametrize("query, message", [
    ("zoom=abc", "zoom must be an integer"),
    ("zoom=99", "zoom must be an integer"),
    ("zoom=-1", "zoom must be an integer"),
    ("bbox=1,2,3", "bbox must be west,south,east,north"),
    ("bbox=a,2,3,4", "bbox west must be a number"),
    ("bbox=100,10,200,20", "bbox east must be between"),
    ("bbox=110,10,100,20", "west <= east"),
    ("bbox=nan,10,100,20", "bbox west must be between"),
    ("province_code=01'%20or%201=1--", "province_code must be a code"),
    ("ward_code=00001", "no ward_code column"),
    ("by=district", "by must be grid, province or ward"),
    ("by=ward", "needs a ward_code column"),
    ("zoom=5&sql=select", "unknown parameter(s): sql"),
])
def test_bad_parameters_are_a_400_with_a_clear_message(setup, query, message):
    ds, _rows = setup
    status, body = get(ds, f"/-/map/violations.json?{query}")
    assert status == 400, body
    assert body["ok"] is False and message in body["error"], body["error"]


def test_unknown_table_and_table_without_coordinates(setup):
    ds, _rows = setup
    status, body = get(ds, "/-/map/nope.json")
    assert status == 404 and "no table named 'nope'" in body["error"]
    status, body = get(ds, "/-/map/nogeo.json")
    assert status == 400 and "no latitude/longitude columns" in body["error"]
    status, body = get(ds, "/-/map/nodb/violations.json")
    assert status == 404 and "no database" in body["error"]


def test_status_lists_the_built_indexes(setup):
    ds, _rows = setup
    get(ds, "/-/map/violations.json?zoom=5")
    status, body = get(ds, "/-/map.json")
    assert status == 200
    assert any(i["table"] == "violations" and i["ready"] and i["rows"] == 600 for i in body["indexes"])


def test_mutable_database_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "live.db"
    make_db(path, n=30)
    ds = Datasette([str(path)], plugins_dir=str(ROOT / "plugins"))
    status, body = get(ds, "/-/map/violations.json?zoom=3")
    assert status == 200 and body["rows_with_coordinates"] == 30
    db = sqlite_utils.Database(path)
    db["violations"].insert({"id": "new:1", "name": "n", "province_code": "01", "latitude": 21.0, "longitude": 105.8})
    db.close()
    status, body = get(ds, "/-/map/violations.json?zoom=3")
    assert body["rows_with_coordinates"] == 31


def test_page_uses_vendored_leaflet_and_no_cdn(setup):
    ds, _rows = setup
    status, html = get(ds, "/static/map/index.html")
    assert status == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/-/static-plugins/datasette-leaflet/leaflet-v1.7.1.min.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    status, _js = get(ds, "/-/static-plugins/datasette-leaflet/leaflet-v1.7.1.min.js")
    assert status == 200
    js = (ROOT / "static" / "map" / "map.js").read_text()
    assert "innerHTML" not in js     # popups are built from text, never from HTML in the data


def test_year_filter_and_details_on_the_demo(datasette, demo_db):
    """On the demo database: `year=` keeps that year's rows (SQL truth), and each point carries the
    columns a popup needs (what, when, the fine and its hedge word, how precise the point is)."""
    from conftest import query
    (year,), = query(demo_db, "select year from violations where latitude is not null and year is not null "
                              "group by year order by count(*) desc limit 1")
    expected = {pk for (pk,) in query(demo_db, "select id from violations where year = ? and latitude is not null", year)}
    async def run():
        return await datasette.client.get(f"/-/map/minhbach/violations.json?zoom=16&year={year}")
    body = asyncio.run(run()).json()
    assert body["mode"] == "points" and body["filters"] == {"year": year}
    assert {p[0] for p in body["points"]} == expected
    details = body["details"]
    for name in ("violation", "decided", "fine_vnd", "fine_qualifier", "geo_precision"):
        assert name in details
    truth = {pk: (v, d, f, q, g) for pk, v, d, f, q, g in query(
        demo_db, "select id, violation, decided, fine_vnd, fine_qualifier, geo_precision from violations where year = ?", year)}
    for p in body["points"]:
        row = dict(zip(details, p[4:]))
        assert (row["violation"], row["decided"], row["fine_vnd"], row["fine_qualifier"], row["geo_precision"]) == truth[p[0]]
    async def bad():
        return await datasette.client.get("/-/map/minhbach/violations.json?year=2025;drop")
    assert asyncio.run(bad()).status_code == 400


def test_every_year_from_the_whole_table_index_equals_sql(datasette, demo_db):
    """`year=` alone and `year=` with a province give, for every year and for a year nobody has, the rows
    SQL gives (counts per province, every row in points mode): the guard for answering a year from the
    whole table's index instead of a scan per year."""
    from conftest import query
    years = [y for (y,) in query(demo_db, "select distinct year from violations where latitude is not null "
                                          "and longitude is not null and year is not null")] + ["1066"]
    assert len(years) > 2

    def get_json(path):
        async def run():
            return await datasette.client.get(path)
        response = asyncio.run(run())
        assert response.status_code == 200, response.text[:300]
        return response.json()
    for year in years:
        where = "latitude is not null and longitude is not null and year = ?"
        (total,), = query(demo_db, f"select count(*) from violations where {where}", year)
        body = get_json(f"/-/map/minhbach/violations.json?zoom=3&year={year}&by=province")
        assert body["rows_with_coordinates"] == total
        by_province = dict(query(demo_db, f"select province_code, count(*) from violations where {where} "
                                          "and province_code is not null group by province_code", year))
        assert {u[3]: u[2] for u in body["units"]} == by_province
        points = get_json(f"/-/map/minhbach/violations.json?zoom=16&year={year}")
        ids = {i for (i,) in query(demo_db, f"select id from violations where {where}", year)}
        assert {p[0] for p in points["points"]} == ids
        if by_province:
            code = max(by_province, key=by_province.get)
            both = get_json(f"/-/map/minhbach/violations.json?zoom=16&year={year}&province_code={code}")
            assert len(both["points"]) == by_province[code]
