"""Reference tables read from the packages' data files agree with the packages' public API."""
from biip.gs1_prefixes import GS1Prefix

from conftest import query


def test_gs1_prefixes_agree_with_biips_lookup(demo_db):
    rows = query(demo_db, "select prefix, prefix_length, usage from gs1_prefixes")
    assert len(rows) > 500
    for prefix, length, usage in rows:
        found = GS1Prefix.extract(prefix.ljust(13, "0"))
        assert (found.value, found.usage) == (prefix, usage) and len(prefix) == length, prefix
    assert ("893", 3, "GS1 Vietnam") in rows
