"""Every Atom feed the site links or lists answers 200 and is valid RFC 4287, empty or not.

Each feed is parsed with a real XML parser (lxml) and checked for what RFC 4287 requires (feed id,
title, updated and author; entry id, title and updated; ids that are IRIs; RFC 3339 dates), and read
by feedparser, the parser feed readers are built on, which must report no error. Feeds are found
where a visitor finds them: the links of the home, API and database pages, the README, and every
canned query that returns the atom_* columns (metadata.yml).
"""
import asyncio
import re
import shutil
import sqlite3
import urllib.parse

import feedparser
import pytest
import rfc3987
import yaml
from lxml import etree

from conftest import ROOT

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())
QUERIES = METADATA["databases"]["minhbach"]["queries"]
FEED_QUERIES = sorted(name for name, q in QUERIES.items() if "atom_id" in q["sql"])
README = (ROOT / "README.md").read_text()


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def is_iri(text):
    return rfc3987.match(text, rule="IRI") is not None


def validate(response, path):
    """The feed's entries, after checking RFC 4287's requirements; fails with the reason."""
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/atom+xml"), path
    root = etree.fromstring(response.content)
    assert root.tag == ATOM + "feed", path
    for name in ("id", "title", "updated"):
        assert len(root.findall(ATOM + name)) == 1, (path, name)
    assert is_iri(root.findtext(ATOM + "id")), (path, root.findtext(ATOM + "id"))
    assert RFC3339.fullmatch(root.findtext(ATOM + "updated")), (path, root.findtext(ATOM + "updated"))
    assert root.findtext(ATOM + "title").strip(), path
    entries = root.findall(ATOM + "entry")
    feed_author = root.findall(f"{ATOM}author/{ATOM}name")
    assert feed_author or all(e.findall(f"{ATOM}author/{ATOM}name") for e in entries), (path, "author")
    ids = []
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(ATOM + name)) == 1, (path, name)
        ids.append(entry.findtext(ATOM + "id"))
        assert is_iri(ids[-1]), (path, ids[-1])
        assert RFC3339.fullmatch(entry.findtext(ATOM + "updated")), (path, entry.findtext(ATOM + "updated"))
        assert entry.findtext(ATOM + "title").strip(), path
        for content in entry.findall(ATOM + "content"):
            assert content.get("type", "text") in ("text", "html", "xhtml"), path
    assert len(ids) == len(set(ids)), (path, "duplicate entry ids")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and parsed.version == "atom10", (path, parsed.get("bozo_exception"))
    assert len(parsed.entries) == len(entries)
    return entries


def title_of(response):
    return etree.fromstring(response.content).findtext(ATOM + "title")


@pytest.fixture(scope="module")
def cases(demo_db):
    """Per feed query: (parameters, expect entries?) pairs, from the data in the file."""
    with sqlite3.connect(demo_db) as conn:
        busy = conn.execute("select province_code from violations where withdrawn is null and province_code is not null "
                            "group by 1 order by count(*) desc limit 1").fetchone()[0]
        quiet = conn.execute("select province_code from provinces where province_code not in "
                             "(select province_code from violations where province_code is not null) limit 1").fetchone()
        word = re.findall(r"\w{4,}", conn.execute("select folded from violations_fts limit 1").fetchone()[0])[0]
        first = conn.execute("select min(substr(first_seen, 1, 10)) from violations").fetchone()[0]
        # the follow feeds (issue 18): a business, a tax code, a barcode, a brand, a kind, listings of a province
        business = conn.execute("select establishment_id from (select establishment_id from violations where withdrawn is null "
                                "union all select establishment_id from listings where withdrawn is null "
                                "union all select establishment_id from recalls where withdrawn is null) "
                                "where establishment_id in (select id from establishments) "
                                "group by 1 order by count(*) desc, 1 limit 1").fetchone()[0]
        tax_code = conn.execute("select e.tax_code from establishments e join violations v on v.establishment_id = e.id "
                                "where e.tax_code is not null and v.withdrawn is null limit 1").fetchone()[0]
        gtin = conn.execute("select g.value from recalls r join json_each(r.gtins) g where r.withdrawn is null limit 1").fetchone()[0]
        brand = conn.execute("select brand from recalls where withdrawn is null and brand <> '' limit 1").fetchone()[0]
        kind = conn.execute("select kind from recalls where withdrawn is null group by 1 order by count(*) desc limit 1").fetchone()[0]
        listed = conn.execute("select province_code from listings where withdrawn is null and province_code is not null "
                              "group by 1 order by count(*) desc limit 1").fetchone()[0]
        unlisted = conn.execute("select province_code from provinces where province_code not in "
                                "(select province_code from listings where province_code is not null) limit 1").fetchone()
    known = {
        "province_code": [({"province_code": busy}, True)] + ([({"province_code": quiet[0]}, False)] if quiet else []),
        "q": [({"q": word}, True), ({"q": "zzqxj"}, False), ({"q": "sữa"}, None)],
        "since": [({"since": first}, True), ({"since": "01/01/2100"}, False), ({"since": "2100"}, False)],
        "establishment_id": [({"establishment_id": business}, True)],
        "tax_code": [({"tax_code": tax_code}, True)],
        "gtin": [({"gtin": gtin}, True), ({"gtin": "00000000"}, False)],
        "brand": [({"brand": brand}, True), ({"brand": "zzqxj"}, False)],
        "kind": [({"kind": kind}, True)],
    }
    per_query = {"province_listings": [({"province_code": listed}, True)]
                 + ([({"province_code": unlisted[0]}, False)] if unlisted else [])}
    found = {}
    for name in FEED_QUERIES:
        params = sorted(set(re.findall(r":(\w+)", QUERIES[name]["sql"])) - {"page"})   # page: optional paging
        assert len(params) <= 1 and all(p in known for p in params), (name, params, "add cases for this feed")
        found[name] = per_query.get(name) or (known[params[0]] if params else [({}, True)])
    return found


def feed_url(name, params):
    return f"/minhbach/{name}.atom" + ("?" + urllib.parse.urlencode(params) if params else "")


def test_there_are_feeds():
    assert {"recent_recalls", "recent_violations", "province_violations", "search_feed", "changes"} <= set(FEED_QUERIES)
    assert {"establishment_feed", "tax_code_feed", "barcode_feed", "brand_feed", "province_listings", "kind_recalls"} <= set(FEED_QUERIES)


@pytest.mark.parametrize("name", FEED_QUERIES)
def test_every_listed_feed_is_valid_empty_or_not(datasette, cases, name):
    for params, has_entries in cases[name]:
        path = feed_url(name, params)
        response = get(datasette, path)
        entries = validate(response, path)
        if has_entries is not None:
            assert bool(entries) == has_entries, (path, len(entries))
        rows = get(datasette, path.replace(".atom", ".json", 1) + ("&" if params else "?") + "_shape=array").json()
        assert len(entries) == len(rows), path
        for key, value in params.items():   # the title names what is followed: the keyword, the date
            shown = re.findall(r"\d{4}", value)[0] if key == "since" else "" if key in ("province_code", "establishment_id") else value
            assert shown in title_of(response), (path, title_of(response))
        if "establishment_id" in params:    # ... a business by its name
            assert get(datasette, "/minhbach/establishments.json?_shape=array&id=" + urllib.parse.quote(
                params["establishment_id"])).json()[0]["name"] in title_of(response)
        if "province_code" in params:       # ... and the province by its name
            assert get(datasette, "/minhbach/provinces.json?_shape=array&province_code=" +
                       params["province_code"]).json()[0]["province"] in title_of(response)


def test_entry_ids_are_the_records_pages(datasette, demo_db):
    entries = validate(get(datasette, "/minhbach/recent_violations.atom"), "recent_violations")
    with sqlite3.connect(demo_db) as conn:
        ids = {i for (i,) in conn.execute("select id from violations")}
    for entry in entries:
        page = urllib.parse.urlsplit(entry.findtext(ATOM + "id")).path
        assert get(datasette, page).status_code == 200, page
        assert urllib.parse.unquote(page.rsplit("/", 1)[1].replace("~", "%")) in ids


def linked_feeds(ds):
    """Feed URLs in the site's pages (links and <link rel=alternate>) and in the README."""
    found = set()
    for page in ("/", "/api", "/minhbach"):
        text = get(ds, page).text
        found |= {urllib.parse.unquote(h.replace("&amp;", "&")) for h in re.findall(r'href="([^"]*\.atom[^"]*)"', text)}
    found |= set(re.findall(r"`(/[^`\s]*\.atom[^`\s]*)`", README))
    return sorted(found)


def test_every_linked_feed_is_valid(datasette):
    feeds = linked_feeds(datasette)
    assert len(feeds) >= 4, feeds
    for path in feeds:
        if path.endswith("since=…"):
            continue
        validate(get(datasette, urllib.parse.quote(path, safe="/?=&:~%")), path)


def test_a_feed_for_nothing_is_a_400_not_a_500(datasette):
    for path in ("/minhbach/province_violations.atom?province_code=99", "/minhbach/province_violations.atom",
                 "/minhbach/changes.atom?since=abc", "/minhbach/changes.atom"):
        response = get(datasette, path)
        assert response.status_code == 400, (path, response.status_code)
        assert " · " in response.text


@pytest.fixture(scope="module")
def emptied(demo_db, tmp_path_factory):
    """The demo file with no recalls, violations, listings or versions: every feed is empty."""
    from datasette.app import Datasette
    db = tmp_path_factory.mktemp("empty") / "minhbach.db"
    shutil.copy(demo_db, db)
    with sqlite3.connect(db) as conn:
        for table in ("recalls", "violations", "listings", "versions"):
            conn.execute(f"delete from {table}")
    return Datasette([], immutables=[str(db)], metadata=METADATA, plugins_dir=str(ROOT / "plugins"),
                     template_dir=str(ROOT / "templates"), settings={"suggest_facets": False})


@pytest.mark.parametrize("name", FEED_QUERIES)
def test_feeds_without_entries_are_valid(emptied, cases, name):
    for params, _has_entries in cases[name]:
        path = feed_url(name, params)
        assert validate(get(emptied, path), path) == [], path
