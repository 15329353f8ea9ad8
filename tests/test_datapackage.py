"""The contract (db/datapackage.py): a Frictionless Data Package generated from db/schema.py, served
at /minhbach/datapackage.json (plugins/datapackage.py) and written beside each snapshot
(db/snapshot.py). The `frictionless` library validates it and reads a CSV export with it."""
import asyncio
import csv
import io
import json

import pytest

from conftest import query
from db import schema
from db.snapshot import snapshot

frictionless = pytest.importorskip("frictionless")


def get(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response


@pytest.fixture(scope="module")
def package(datasette):
    return get(datasette, "/minhbach/datapackage.json").json()


def resource(package, name):
    return next(r for r in package["resources"] if r["name"] == name)


def test_the_package_is_valid_for_frictionless(package):
    errors = [error.message for error in frictionless.Package.metadata_validate(package)]
    assert errors == []
    assert frictionless.Package(package).name == "minhbach"


def test_one_resource_per_public_table_with_the_schema_columns(package, demo_db):
    hidden = {"facet_counts"}
    assert [r["name"] for r in package["resources"]] == [t for t in schema.TABLES if t not in hidden]
    for res in package["resources"]:
        table = res["name"]
        spec = schema.TABLES[table]
        fields = {f["name"]: f for f in res["schema"]["fields"]}
        in_file = [row[1] for row in query(demo_db, f"select * from pragma_table_xinfo('{table}')")]
        assert list(fields) == in_file, table                            # the file's columns, in its order
        for column, (python_type, description) in spec["columns"].items():
            expected = "array" if column in schema.JSON_LISTS.get(table, []) else \
                {str: "string", int: "integer", float: "number"}[python_type]
            assert fields[column]["type"] == expected and fields[column]["description"] == description
            assert fields[column].get("constraints", {}).get("required", False) == (column in spec["required"])
        for column, (_sql, description) in spec.get("generated", {}).items():
            assert fields[column]["description"] == description
        pk = schema.pk(table)
        assert res["schema"]["primaryKey"] == (list(pk) if isinstance(pk, (tuple, list)) else [pk])


def test_table_titles_are_bilingual_from_the_metadata(package):
    assert resource(package, "recalls")["title"] == "Thu hồi sản phẩm · Product recalls"
    assert "Product recalls" in resource(package, "recalls")["description"]


def test_licences_per_source_come_from_the_sources_table(package, demo_db):
    for table in schema.RECORD_TABLES:
        truth = {(licence, url) for licence, url in query(
            demo_db, "select licence, licence_url from sources where table_name = ? and licence is not null", table)}
        got = {(entry["title"], entry.get("path")) for entry in resource(package, table)["licenses"]}
        assert got == truth, table
        publishers = [p for (p,) in query(demo_db, "select publisher from sources where table_name = ? order by source", table)]
        assert [s["title"].rsplit(" (", 1)[0] for s in resource(package, table)["sources"]] == publishers
    everything = {(licence, url) for licence, url in query(
        demo_db, "select distinct licence, licence_url from sources where licence is not null")}
    assert {(e["title"], e.get("path")) for e in package["licenses"]} == everything


@pytest.mark.parametrize("table", ["recalls", "violations", "listings"])
def test_frictionless_reads_the_csv_export_with_its_types(datasette, package, demo_db, tmp_path, table):
    res = resource(package, table)
    assert res["path"].startswith("http://localhost/minhbach/") and res["path"].endswith(".csv?_stream=on")
    body = get(datasette, res["path"].replace("http://localhost", "")).content
    (tmp_path / f"{table}.csv").write_bytes(body)
    local = frictionless.Resource({**res, "path": f"{table}.csv"}, basepath=str(tmp_path))
    report = frictionless.validate(local)
    assert report.valid, [e.message for e in report.tasks[0].errors][:5]
    rows = local.read_rows()
    conn_rows = {r[0]: r for r in query(demo_db, f"select id, quality_flags, {'gtins' if table == 'recalls' else 'null'}, "
                                                 f"{'fine_vnd' if table == 'violations' else 'null'} from [{table}]")}
    assert len(rows) == len(conn_rows)                                 # every row, streamed
    for row in rows:
        _id, flags, gtins, fine = conn_rows[row["id"]]
        assert row["quality_flags"] == (json.loads(flags) if flags else None)
        if table == "recalls":
            assert row["gtins"] == (json.loads(gtins) if gtins else None)
        if table == "violations":
            assert row["fine_vnd"] == fine and (fine is None or isinstance(row["fine_vnd"], int))


def test_an_empty_export_is_read_too(datasette, package, tmp_path):
    res = resource(package, "violations")
    body = get(datasette, "/minhbach/violations.csv?_stream=on&id=nope").content
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")))) == [[f["name"] for f in res["schema"]["fields"]]]
    (tmp_path / "empty.csv").write_bytes(body)
    local = frictionless.Resource({**res, "path": "empty.csv"}, basepath=str(tmp_path))
    assert frictionless.validate(local).valid and local.read_rows() == []


def test_each_snapshot_carries_its_data_package(published, tmp_path, package):
    paths = snapshot(published, tmp_path / "snapshots")
    written = json.loads(paths[-1].read_text())
    assert paths[-1].name.endswith(".datapackage.json")
    assert json.loads(paths[2].read_text())["datapackage"] == paths[-1].name
    assert [e.message for e in frictionless.Package.metadata_validate(written)] == []
    for res in written["resources"]:
        assert res["path"] == paths[0].name and res["dialect"] == {"table": res["name"]}
        assert res["schema"] == resource(package, res["name"])["schema"]   # the same contract as served
    assert written["licenses"] == package["licenses"]

