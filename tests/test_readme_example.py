"""The README's worked example ("Adding a source") works as written: its spider, taken from README.md
itself (so the two cannot drift), is loaded as a spider module of its own and run through the real
ingest (`python -m ingest run <spider>=<file>`, what `make ingest SOURCE=… FILE=…` runs) over the XLSX
the example describes. Its rows must come out placed: jurisdiction from the class attribute, then the
2025 province, ward and coordinates, checked against the reference tables by SQL."""
import re

import openpyxl
import pytest

from tests.conftest import ROOT, query, run_db

pytestmark = pytest.mark.slow   # one ingest in a subprocess


def readme_example():
    """(module name, source code) of the spider in the README's worked example."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding a source (worked example)", 1)[1].split("\n## ", 1)[0]
    path = re.search(r"`scrapers/spiders/(\w+)\.py`", section)
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert path and code, "the README's worked example lost its spider file name or its code block"
    return path[1], code[1]


# The example's file: the headings the README names, in the shapes its comments give.
HEADINGS = ["Số quyết định", "Tên cơ sở", "Địa chỉ", "Số tiền phạt", "Ngày quyết định"]
ROWS = [
    ["123/QĐ-XPHC", "Cửa hàng bánh cuốn Bà Hoa", "Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
     "45.000.000 đồng", "5/3/2025"],
    # a pre-2025 address: the old ward is mapped onto its 2025 ward
    ["124/QĐ-XPHC", "Quán phở Thìn", "Số 5 Trần Hưng Đạo, phường Hàng Bài, quận Hoàn Kiếm",
     "12.500.000 đồng", "17/04/2025"],
    # no ward named: the province the spider sets places it
    ["125/QĐ-XPHC", "Công ty TNHH Thực phẩm Sạch", "Km 10 Quốc lộ 5", "7.000.000 đồng", "02/06/2025"],
]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readme_example")
    name, code = readme_example()
    package = tmp / "readme_spiders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / f"{name}.py").write_text(code, encoding="utf-8")
    # The project's settings with one more spider module, as if the file were in scrapers/spiders/.
    (tmp / "readme_settings.py").write_text(
        "from scrapers.settings import *  # noqa: F401,F403\n"
        "SPIDER_MODULES = SPIDER_MODULES + ['readme_spiders']  # noqa: F405\n")
    book = openpyxl.Workbook()
    book.active.append(HEADINGS)
    for row in ROWS:
        book.active.append(row)
    received = tmp / f"{name}.xlsx"
    book.save(received)
    db = tmp / "minhbach.db"
    env = {"PYTHONPATH": f"{tmp}:{ROOT}", "SCRAPY_SETTINGS_MODULE": "readme_settings"}
    result = run_db("ingest", f"{name}={received}", db=db, env=env)
    assert "1 of 1 sources ok" in result.stderr, result.stderr
    return name, db


def test_every_row_is_stored(ingested):
    name, db = ingested
    assert query(db, "select source_id, establishment, fine_vnd, decided from violations where source = ? order by 1", name) == [
        ("123/QĐ-XPHC", "Cửa hàng bánh cuốn Bà Hoa", 45_000_000, "2025-03-05"),
        ("124/QĐ-XPHC", "Quán phở Thìn", 12_500_000, "2025-04-17"),
        ("125/QĐ-XPHC", "Công ty TNHH Thực phẩm Sạch", 7_000_000, "2025-06-02"),
    ]
    assert query(db, "select count(*) from rejects where source = ?", name) == [(0,)]


def test_rows_are_placed(ingested):
    name, db = ingested
    placed = dict(((sid, rest) for sid, *rest in query(db, """
        select source_id, jurisdiction, province_code, province, ward_code, ward, latitude, longitude, geo_precision
        from violations where source = ?""", name)))
    hanoi = query(db, "select province_code, province, latitude, longitude from provinces where province_short = 'Hà Nội'")[0]
    ward_2025 = query(db, """select ward_code, ward, latitude, longitude from wards
                             where ward_short = 'Hoàn Kiếm' and province_code = ?""", hanoi[0])[0]
    ward_of_old = query(db, """select w.ward_code, w.ward, w.latitude, w.longitude from ward_aliases a
                               join wards w on w.ward_code = a.ward_code
                               where a.old_ward = 'Phường Hàng Bài' and a.old_district = 'Quận Hoàn Kiếm'""")
    assert len(ward_of_old) == 1    # not a divided ward: one 2025 ward to expect
    ward_of_old = ward_of_old[0]
    assert placed["123/QĐ-XPHC"] == ["VN", hanoi[0], hanoi[1], *ward_2025, "ward"]
    assert placed["124/QĐ-XPHC"] == ["VN", hanoi[0], hanoi[1], *ward_of_old, "ward"]
    assert placed["125/QĐ-XPHC"] == ["VN", hanoi[0], hanoi[1], None, None, hanoi[2], hanoi[3], "province"]


def test_the_source_is_listed(ingested):
    name, db = ingested
    assert query(db, "select jurisdiction, table_name, rows from sources where source = ?", name) == [("VN", "violations", 3)]
