"""Table permission rules looked up once, not on every check.

Datasette 0.65.5 answers "may this actor see this table?" by deep-copying the whole metadata and
normalising every table's rules, for each check; a page makes several checks (the table, the
crumbs, the menu). With our metadata (a description for every column) that was a quarter of a
record page's time. The rules depend only on the metadata, so when no plugin supplies metadata
per request (the `get_metadata` hook), the answer for a (database, table) is kept; a different
metadata object (e.g. reloaded) is a different key. The decision itself is still Datasette's.
"""
from functools import lru_cache

from datasette import hookimpl
from datasette.plugins import pm


@hookimpl
def startup(datasette):
    if pm.hook.get_metadata.get_hookimpls():
        return      # metadata may differ per call: nothing to keep
    original = datasette._table_permission_allows

    @lru_cache(maxsize=4096)
    def allows(metadata_id, database, table):
        return original(database, table)

    datasette._table_permission_allows = lambda database, table: allows(
        id(datasette._metadata_local), database, table)
