"""The record pages, the search page and the site's own pages speak Vietnamese by default and English
with ?lang=en, both from the one catalogue (locale/en/LC_MESSAGES/messages.po): never both at once.
Templates take the database's name from one place (plugins/site_pages.DATABASE) and the map pages
share one copy of Datasette's tilde encoding (static/map/tilde.js)."""
import asyncio
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode

from conftest import ROOT
from test_site import query, row_path

sys.path.insert(0, str(ROOT / "plugins"))
import i18n  # noqa: E402
import site_pages  # noqa: E402

TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*.html"))


class Visible(HTMLParser):
    """The text a reader sees (no script or style), whitespace collapsed; `skip_class` leaves out the
    elements of one class (spans without nested spans)."""

    def __init__(self, html, skip_class=None):
        super().__init__()
        self.parts, self.skip, self.skip_class = [], 0, skip_class
        self.feed(html)

    def skipped(self, tag, attrs):
        return tag in ("script", "style") or (self.skip_class and tag == "span"
                                               and self.skip_class in (dict(attrs).get("class") or "").split())

    def handle_starttag(self, tag, attrs):
        self.skip += bool(self.skipped(tag, attrs))

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style", "span") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


def get(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response.text


def pages(demo_db):
    """A record of each kind (one with a business, a counterfeit, one with related businesses), the
    search page and every page of templates/pages/."""
    one = lambda sql: query(demo_db, sql)[0][0]   # noqa: E731
    paths = [row_path("recalls", one("select id from recalls where establishment_id is not null limit 1")),
             row_path("recalls", one("select id from recalls where counterfeit limit 1")),
             row_path("violations", one("select id from violations where province_code is not null limit 1")),
             row_path("listings", one("select id from listings where establishment_id is not null limit 1")),
             row_path("establishments", one("select establishment_id from establishment_links limit 1")),
             "/minhbach/search?q=" + quote("sữa")]
    paths += ["/" + p.stem for p in (ROOT / "templates" / "pages").glob("*.html")]
    paths += ["/ma-vach?gtin=8934567890128", "/gan-toi?lat=21.028&lon=105.854", "/phan-anh?kind=food&province=01"]
    return paths


def catalogue_pairs(min_length=20):
    """(Vietnamese, English) entries long enough that finding one in a page is not a coincidence of
    data; placeholders stripped to their longest literal run."""
    pairs = []
    for vi, en in i18n.ENGLISH.items():
        vi_run = max(re.split(r"%\(\w+\)s|<[^>]+>", vi), key=len).strip()
        en_run = max(re.split(r"%\(\w+\)s|<[^>]+>", en), key=len).strip()
        if len(vi_run) >= min_length and len(en_run) >= min_length and vi_run != en_run:
            pairs.append((vi_run, en_run))
    return pairs


def test_pages_speak_one_language_at_a_time(datasette, demo_db):
    pairs = catalogue_pairs()
    assert len(pairs) > 100
    for path in pages(demo_db):
        # a search result's detail line is written by the `search` canned query's SQL (metadata.yml), as data
        skip = "meta" if "/search" in path else None
        vi = Visible(get(datasette, path), skip).text
        en_path = path + ("&" if "?" in path else "?") + "lang=en"
        en = Visible(get(datasette, en_path), skip).text
        said_vi = [v for v, e in pairs if v in vi]
        assert said_vi, path                                   # the page says something from the catalogue
        assert [e for v, e in pairs if e in vi] == [], path    # ... and no English beside it
        assert [v for v, e in pairs if v in en] == [], en_path  # the English page has no Vietnamese sentence left
        assert any(e in en for v, e in pairs if v in said_vi), en_path   # ... said in English there


def test_no_template_prints_doubled_text():
    for template in TEMPLATES:
        source = template.read_text()
        assert 'class="lang-en"' not in source, template.name
        # a Vietnamese label followed by " · " and an English one, outside the catalogue
        doubled = re.findall(r"[a-zà-ỹđ)] · [A-Z][a-z]+(?: [a-z]+)*[<\"]", source)
        assert doubled == [], (template.name, doubled)


def test_every_string_of_the_pages_is_in_the_catalogue():
    """pybabel's own extraction (babel.cfg) over the templates and the plugins' N_() labels."""
    from babel.messages.frontend import CommandLineInterface
    out = ROOT / "locale" / ".test-messages.pot"
    try:
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "--no-location",
                                    "-o", str(out), str(ROOT)])
        from babel.messages.pofile import read_po
        with open(out, "rb") as f:
            extracted = {m.id for m in read_po(f) if m.id}
    finally:
        out.unlink(missing_ok=True)
    assert extracted and sorted(extracted - set(i18n.ENGLISH)) == []


def test_record_pages_in_english(datasette, demo_db):
    r = query(demo_db, "select id, decided, fine_vnd from violations where fine_vnd and decided_precision = 'day' "
                       "and fine_qualifier is null limit 1")[0]
    vi = Visible(get(datasette, row_path("violations", r["id"]))).text
    en = Visible(get(datasette, row_path("violations", r["id"]) + "?lang=en")).text
    day = "/".join(reversed(r["decided"].split("-")))
    fine = f"{r['fine_vnd']:,}".replace(",", ".")
    assert f"ngày {day}, phạt tiền {fine} đồng" in vi and "Chuyện gì đã xảy ra" in vi
    assert f"on {day}, a fine of {fine} đồng" in en and "What happened" in en and "Chuyện gì" not in en


def test_templates_take_the_database_name_from_one_place(datasette, demo_db):
    for template in TEMPLATES:
        source = template.read_text()
        assert not re.search(r"""['"/]minhbach['"/.]""", source), template.name
    assert site_pages.DATABASE == "minhbach"
    html = get(datasette, row_path("violations", query(demo_db, "select id from violations limit 1")[0][0]))
    assert f'href="/{site_pages.DATABASE}/versions?record_id=' in html


def test_one_tilde_encoding_for_the_map_pages():
    sources = {p.name: p.read_text() for p in (ROOT / "static" / "map").glob("*.js")}
    assert [name for name, text in sources.items() if "toString(16)" in text] == ["tilde.js"]
    assert 'from "./tilde.js"' in sources["map.js"] and 'from "./tilde.js"' in sources["ban-do.js"]
    assert "function tilde" not in (ROOT / "templates" / "pages" / "ban-do.html").read_text()


KEYS = ["us_fda_recalls:219865", "eu_safety_gate:A12/01477/23", "addr:care for viet nam|79|tang 4", "Đà Nẵng~%._-",
        "rec:a+b c"]


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed: the JS tilde encoder is not run")
def test_the_js_tilde_encoding_is_datasettes(tmp_path):
    script = tmp_path / "run.mjs"
    script.write_text(f'import {{ tilde, rowKey }} from "{(ROOT / "static" / "map" / "tilde.js").as_uri()}";\n'
                      f"console.log(JSON.stringify([{json.dumps(KEYS)}.map(tilde), rowKey(['a/b', 'c d'])]));\n")
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout
    encoded, compound = json.loads(out)
    assert encoded == [tilde_encode(k) for k in KEYS]
    assert compound == tilde_encode("a/b") + "," + tilde_encode("c d")


def test_forms_keep_the_english_of_the_page(datasette):
    hidden = '<input type="hidden" name="lang" value="en">'
    for path in ("/ma-vach", "/gan-toi", "/ban-do", "/phan-anh", "/thu-hoi", "/minhbach/search?q=a"):
        english = get(datasette, path + ("&" if "?" in path else "?") + "lang=en")
        assert hidden in english, path
        assert hidden not in get(datasette, path), path


def test_the_menu_and_a_record_lead_on_in_english(datasette, demo_db):
    english = get(datasette, "/?lang=en")
    for path in ("/ma-vach", "/gan-toi", "/ban-do", "/thong-ke", "/nguon", "/api", "/thu-hoi"):
        assert f'href="{path}?lang=en"' in english, path
    record = row_path("violations", query(demo_db, "select id from violations limit 1")[0][0])
    html = get(datasette, record + "?lang=en")
    assert re.search(r'href="/phan-anh\?[^"]*&amp;lang=en"', html) and re.search(r'href="/phan-hoi\?[^"]*&amp;lang=en"', html)
    assert "lang=en" not in get(datasette, record).split("<main")[1]
