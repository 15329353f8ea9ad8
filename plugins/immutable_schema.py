"""Schema questions about a file that cannot change are asked of SQLite once, not on every request.

Datasette 0.65.5 asks a database for its schema many times per page, each time through its SQL
thread (a queue round trip and a thread switch, ~0.5 ms of CPU on this machine): a record page at
1M rows made 11 such calls besides its own queries — `PRAGMA schema_version` for every database
(refresh_schemas), the table's name for each permission check, its columns, primary keys, foreign
keys, every foreign key of the database (get_all_foreign_keys, one PRAGMA per table)…

A database opened immutable (`datasette -i`, `make serve`) cannot change while it is served, so
every one of those answers is the same on every request. For such a database this plugin keeps:

- the results of Database methods that only read the schema (`CACHED` below), by arguments;
- the results of the exact schema queries in `SCHEMA_SQL` (sqlite_master reads), by parameters;
- refresh_schemas: once every database but `_internal` is immutable and all were refreshed once,
  with the same databases attached, Datasette's schema tables cannot be out of date: it is skipped.

Bounded (a URL can name any table): at most MAX_ENTRIES answers per database, and none for
arguments longer than MAX_KEY_CHARS; past that an answer is asked of SQLite as before.

Mutable and in-memory databases are never cached. Answers are copied on the way out (callers get
their own lists and dicts, as before). Nothing about metadata is cached (hidden tables and label
columns read it).
"""
from datasette.app import Datasette
from datasette.database import Database

CACHED = ("table_exists", "table_names", "view_names", "table_columns", "table_column_details", "primary_keys",
          "fts_table", "foreign_keys_for_table", "get_all_foreign_keys")
SCHEMA_SQL = {
    "PRAGMA schema_version",
    "select name from sqlite_master where type in ('table', 'view') and name = ? collate nocase",
    "select 1 from sqlite_master where type='table' and name=?",
    "select name from sqlite_master where type='table'",
    "select name from sqlite_master where type='view'",
    "select sql from sqlite_master where name = :n and type=:t",
    "select sql from sqlite_master where tbl_name = :n and type='index' and sql is not null",
}


MAX_ENTRIES = 2048
MAX_KEY_CHARS = 512


def frozen(db):
    return not db.is_mutable and not db.is_memory and bool(db.path)


def _memo(db):
    memo = db.__dict__.get("_immutable_schema")
    if memo is None:
        memo = db.__dict__["_immutable_schema"] = {}
    return memo


def _keep(memo, key, value):
    if len(memo) < MAX_ENTRIES and len(repr(key)) <= MAX_KEY_CHARS:
        memo[key] = value
    return value


def _hashable(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def _copy(value):
    """A copy of the lists and dicts (callers may change them); tuples (Column, AttachedDatabase…),
    strings and numbers are immutable and shared. copy.deepcopy was ~3 ms a page."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def cached_method(name, original):
    async def method(self, *args, **kwargs):
        if not frozen(self) or kwargs:
            return await original(self, *args, **kwargs)
        key = (name, args)
        memo = _memo(self)
        if key in memo:
            return _copy(memo[key])
        return _copy(_keep(memo, key, await original(self, *args)))
    method.__name__ = name
    method._immutable_schema = True
    return method


def cached_execute(original):
    async def execute(self, sql, params=None, *args, **kwargs):
        if isinstance(sql, str) and sql in SCHEMA_SQL and frozen(self) and not args and not kwargs:
            key = ("sql", sql, _hashable(params))
            memo = _memo(self)
            if key in memo:
                return memo[key]     # Results: read only (rows, first(), single_value())
            return _keep(memo, key, await original(self, sql, params))
        return await original(self, sql, params, *args, **kwargs)
    execute._immutable_schema = True
    execute.__wrapped__ = original      # the next wrapper (plugins/search_plan.py's, tests find it this way)
    return execute


def install():
    for name in CACHED:
        original = getattr(Database, name)
        if not getattr(original, "_immutable_schema", False):
            setattr(Database, name, cached_method(name, original))
    if not getattr(Database.execute, "_immutable_schema", False):
        Database.execute = cached_execute(Database.execute)
    if not getattr(Datasette.refresh_schemas, "_immutable_schema", False):
        original = Datasette.refresh_schemas

        async def refresh_schemas(self):
            attached = tuple((name, id(db)) for name, db in self.databases.items())
            if self.__dict__.get("_schemas_frozen") == attached:
                return
            was_locked = self._refresh_schemas_lock.locked()
            await original(self)
            if not was_locked and all(frozen(db) for name, db in self.databases.items() if name != "_internal"):
                self.__dict__["_schemas_frozen"] = attached
        refresh_schemas._immutable_schema = True
        Datasette.refresh_schemas = refresh_schemas


install()
