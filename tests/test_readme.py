"""The README's API examples work: each URL in its JSON API section answers through Datasette."""
import asyncio
import re

import pytest

from conftest import ROOT

SECTION = (ROOT / "README.md").read_text().split("## The JSON API", 1)[1].split("\n## ", 1)[0]
URLS = sorted(set(re.findall(r"`(/[^`\s]+)`", SECTION)))


def test_the_section_lists_examples():
    assert len(URLS) >= 15


@pytest.mark.parametrize("url", URLS)
def test_example_answers(datasette, url):
    response = asyncio.run(datasette.client.get(url))
    assert response.status_code == 200, (url, response.text[:300])
    if ".json" in url:
        data = response.json()
        if "_facet=" in url:
            assert data["facet_results"]["province"]["results"], url
        elif url.endswith("/datapackage.json"):    # the contract: one resource per table
            assert data["resources"], url
        else:   # every example returns something on the demo data
            assert data if isinstance(data, list) else data["rows"], url


def test_search_examples_agree(datasette):
    plain, marked = (asyncio.run(datasette.client.get(u)).json()["rows"] for u in
                     ("/minhbach/violations.json?_search=ha+noi", "/minhbach/violations.json?_search=H%C3%A0+N%E1%BB%99i"))
    assert plain and plain == marked
