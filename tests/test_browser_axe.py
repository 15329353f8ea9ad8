"""An automated WCAG 2 A/AA check of the public pages with axe-core in Debian's Chromium, at 375 px and
1280 px, in Vietnamese and in English: no serious or critical violation.

axe-core comes from a pip- or npm-installed copy: $AXE_JS, the axe.min.js bundled by the
`axe-playwright-python` package, or node_modules/axe-core/axe.min.js. Without one the test is skipped
and says so (the check is offline: nothing is fetched)."""
import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode

import test_browser
from conftest import ROOT

pytestmark = test_browser.pytestmark   # browser mark, skipped without Debian's chromium
site, browser = test_browser.site, test_browser.browser


def axe_source():
    candidates = [os.environ.get("AXE_JS")]
    try:
        import axe_playwright_python
        candidates.append(Path(axe_playwright_python.__file__).parent / "axe.min.js")
    except ImportError:
        pass
    candidates.append(ROOT / "node_modules" / "axe-core" / "axe.min.js")
    for candidate in filter(None, candidates):
        if Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    return None


AXE = axe_source()
needs_axe = pytest.mark.skipif(AXE is None, reason="axe-core is not installed (pip install axe-playwright-python, "
                                                   "npm install axe-core, or set AXE_JS): no automated WCAG check")


def public_pages(db):
    with sqlite3.connect(db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]   # noqa: E731
        records = {table: one(f"select id from {table} order by rowid limit 1")
                   for table in ("recalls", "violations", "listings")}
        records["establishments"] = one("select establishment_id from establishment_links limit 1")
    paths = {"home": "/", "thu-hoi": "/thu-hoi", "xu-phat": "/xu-phat", "xep-hang": "/xep-hang-chung-nhan",
             "search": "/minhbach/search?q=" + quote("sữa"), "404": "/khong-co-trang-nay"}
    paths.update({f"record-{t}": f"/minhbach/{t}/{tilde_encode(str(pk))}" for t, pk in records.items()})
    paths.update({p.stem: "/" + p.stem for p in sorted((ROOT / "templates" / "pages").glob("*.html"))})
    paths.update({"ma-vach-gtin": "/ma-vach?gtin=8934567890128", "gan-toi-point": "/gan-toi?lat=21.028&lon=105.854",
                  "phan-anh-kind": "/phan-anh?kind=food&province=01"})
    return paths


def serious(page):
    page.add_script_tag(content=AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                                           resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@needs_axe
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_public_pages_have_no_serious_wcag_violation(site, browser, demo_db, width, lang):
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    page = context.new_page()
    found = {}
    try:
        for name, path in public_pages(demo_db).items():
            if lang == "en":
                path += ("&" if "?" in path else "?") + "lang=en"
            page.goto(site + path)
            if name == "ban-do":
                page.wait_for_selector("body[data-map-ready]", timeout=15000)
            violations = serious(page)
            if violations:
                found[path] = violations
    finally:
        context.close()
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
