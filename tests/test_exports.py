"""Exports for journalists: CSV with a BOM for Excel, the sitemap, CORS, the database file."""
import asyncio
import csv
import io


def get(datasette, path):
    return asyncio.run(datasette.client.get(path))


def test_csv_opens_in_excel_with_vietnamese(datasette):
    response = get(datasette, "/minhbach/violations.csv?jurisdiction=VN&_size=5")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and any("ạ" in r["establishment"] or "ư" in r["establishment"] or "ộ" in r["establishment"]
                        for r in rows)


def test_csv_of_a_canned_query_too(datasette):
    response = get(datasette, "/minhbach/search.csv?q=sua")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")


def test_json_is_untouched(datasette):
    assert get(datasette, "/minhbach/violations.json?_size=1").content.startswith(b"{")


def test_sitemap_lists_record_pages(datasette):
    response = get(datasette, "/sitemap.xml")
    assert response.status_code == 200 and "<urlset" in response.text
    assert "/minhbach/recalls/us_fda_recalls~3A219865</loc>" in response.text
    (count,), = asyncio.run(datasette.get_database("minhbach").execute(
        "select (select count(*) from recalls) + (select count(*) from violations) + "
        "(select count(*) from listings) + (select count(*) from establishments)")).rows
    assert response.text.count("<loc>") == count + 1
