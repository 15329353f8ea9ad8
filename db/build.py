"""Building the database file: prepare beside the published one, finalize, smoke-test, swap.

A failed build never replaces the published file: everything happens on a new file in the same
folder, and only `swap` (an atomic rename) touches the published path.
"""
import asyncio
import datetime
import hashlib
import json
import lzma
import os
import sqlite3
from importlib import resources
from pathlib import Path

import sqlite_utils

from db import authorities, corrections, facets, hazards, schema
from db.store import connect
from vn import units
from vn.fold import canonical

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "minhbach"


class BuildError(Exception):
    pass


def new_path(published):
    """The build happens beside the published file (same filesystem, so the swap is a rename)."""
    published = Path(published)
    return published.with_name(f".{published.stem}.building.{os.getpid()}.db")


def remove_stale_builds(published):
    """Builds left by a killed ingest (its process gone) are deleted; they were never published."""
    published = Path(published)
    for stale in published.parent.glob(f".{published.stem}.building.*.db*"):
        pid = stale.name.split(".building.")[1].split(".")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            stale.unlink(missing_ok=True)


def prepare(path, base=None):
    """Start a build: a consistent copy of ``base`` (the published file), then the schema applied."""
    path = Path(path)
    path.unlink(missing_ok=True)
    if base and Path(base).exists():
        with sqlite3.connect(f"file:{base}?mode=ro", uri=True) as source, sqlite3.connect(path) as target:
            source.backup(target)
        source.close()
        target.close()
    apply_schema(path)
    return path


def apply_schema(path):
    """Create missing tables, add missing columns (a schema change never needs a rebuild)."""
    db = sqlite_utils.Database(path)
    for name, spec in schema.TABLES.items():
        columns = {c: typ for c, (typ, _d) in spec["columns"].items()}
        table = db[name]
        if not table.exists():
            table.create(columns, pk=schema.pk(name), not_null=spec["required"], strict=True)
        else:
            for column, typ in columns.items():
                if column not in table.columns_dict:
                    table.add_column(column, typ)
        present = {row[1] for row in db.execute(f"pragma table_xinfo([{name}])")}  # xinfo lists generated ones
        for column, (expression, _d) in spec.get("generated", {}).items():
            if column not in present:
                db.execute(f"alter table [{name}] add column [{column}] text "
                           f"generated always as ({expression}) virtual")
    db.close()


def load_reference(conn):
    """The 2025 administrative units and GS1 prefixes, from the packages that carry them."""
    for name, rows in units.reference_rows().items():
        _replace(conn, name, rows)
    # biip's public API looks one number up (GS1Prefix.extract) but cannot list its table, and probing
    # every digit string up to 7 digits through it would take millions of calls: we read the data file
    # it ships and loads itself (biip/gs1_prefixes/__init__.py). tests/test_reference_data.py checks the
    # rows against the public lookup.
    trie = json.loads(lzma.decompress(
        resources.files("biip.gs1_prefixes").joinpath("_prefix_trie.json.lzma").read_bytes()))
    rows = []

    def walk(node, digits):
        for digit, child in node.items():
            if isinstance(child, list):
                length, usage = child
                rows.append({"prefix": (digits + digit)[:length], "prefix_length": length, "usage": usage})
            else:
                walk(child, digits + digit)
    walk(trie, "")
    _replace(conn, "gs1_prefixes", list({r["prefix"]: r for r in rows}.values()))


def _replace(conn, table, rows):
    columns = list(schema.TABLES[table]["columns"])
    conn.execute(f"delete from [{table}]")
    conn.executemany(
        f"insert into [{table}] ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
        [[row.get(c) for c in columns] for row in rows])


# A name shared by more establishments than this in one place is a chain or a generic word, not a
# lead worth a link on each page (and pairs grow as the square): such groups get no links.
MAX_RELATED = 30


def build_establishments(conn):
    """One row per establishment (identity by evidence only, db/enrich.py), with the reviewed
    decisions of db/resolver.csv applied to every stored record, and same-name establishments of one
    place linked as possibly related (never merged)."""
    from db import enrich
    try:
        judgements, _merged = enrich.resolver()
    except enrich.ResolverError as error:
        raise BuildError(f"resolver file: {error}") from error
    rekey_records(conn, judgements)
    conn.execute("delete from establishments")
    conn.execute("""
        insert into establishments (id, name, tax_code, address, province_code, province, ward_code, ward,
                                    latitude, longitude, geo_precision, jurisdiction,
                                    violations_count, listings_count, recalls_count)
        select establishment_id, name, max(tax_code), address, province_code, province, ward_code, ward,
               latitude, longitude, geo_precision, jurisdiction,
               sum(is_violation), sum(1 - is_violation), 0
        from (
            select establishment_id, establishment as name, tax_code, address, province_code, province,
                   ward_code, ward, latitude, longitude, geo_precision, jurisdiction, 1 as is_violation,
                   coalesce(decided, '') as d
            from violations where establishment_id is not null and withdrawn is null
            union all
            select establishment_id, holder, tax_code, address, province_code, province, ward_code, ward,
                   latitude, longitude, geo_precision, jurisdiction, 0, coalesce(valid_from, '')
            from listings where establishment_id is not null and withdrawn is null
            order by d
        )
        group by establishment_id
    """)
    conn.create_function("vn_name_key", 1, enrich.name_key, deterministic=True)
    conn.execute("update establishments set name_key = vn_name_key(name)")
    # A recall is linked by the same evidence as any record (tax code, or name at the same address).
    # One grouped pass over recalls, not a count per establishment (no index yet in a fresh build).
    conn.execute("""
        with counts as (select establishment_id as id, count(*) as n from recalls
                        where withdrawn is null and establishment_id is not null group by establishment_id)
        update establishments set recalls_count = counts.n from counts where counts.id = establishments.id
    """)
    build_establishment_links(conn, judgements)


def rekey_records(conn, judgements):
    """Apply the reviewed decisions to stored records: rows of sources not crawled in this build keep
    the id they were written with, so every row a judgement (now, or in the file this build started
    from) names is keyed again, as are rows keyed by an older rule (`name:`)."""
    from db import enrich
    previous = conn.execute("select left_id, right_id from establishment_judgements").fetchall()
    named = {key for j in judgements for key in (j["left_id"], j["right_id"])}
    named |= {key for row in previous for key in row}
    conn.execute("create temp table if not exists rekey_ids (id text primary key)")
    conn.execute("delete from rekey_ids")
    conn.executemany("insert or ignore into rekey_ids values (?)", [(k,) for k in named])
    for table in ("violations", "listings", "recalls"):
        rows = conn.execute(f"""select * from [{table}] where establishment_id in (select id from rekey_ids)
                                or establishment_id >= 'name:' and establishment_id < 'name;'""").fetchall()
        conn.executemany(f"update [{table}] set establishment_id = ? where id = ?",
                         [(enrich.establishment_id_of(table, dict(row)), row["id"]) for row in rows])
    conn.execute("drop table rekey_ids")
    conn.execute("delete from establishment_judgements")
    conn.executemany("insert into establishment_judgements (left_id, right_id, judgement, reason, date, reviewer) "
                     "values (:left_id, :right_id, :judgement, :reason, :date, :reviewer)", judgements)


def build_establishment_links(conn, judgements):
    """Establishments with the same folded name in one province, kept apart for lack of evidence:
    "có thể liên quan · possibly related", both ways. Abroad no source gives a town for every row
    (FHRS rows carry none), and a whole country is no place: no links there. A reviewed
    do-not-merge removes the link (the question was asked and answered)."""
    conn.execute("delete from establishment_links")
    conn.execute("""
        with placed as (
            select id, name_key, ward_code, province_code from establishments
            where name_key is not null and province_code is not null
        ), small as (
            select name_key, province_code from placed group by 1, 2 having count(*) between 2 and :max
        )
        insert into establishment_links (establishment_id, related_id, reason)
        select a.id, b.id, case when a.ward_code = b.ward_code then 'same name, same ward'
                                else 'same name, same province' end
        from small join placed a using (name_key, province_code)
        join placed b on b.name_key = a.name_key and b.province_code = a.province_code and b.id != a.id
    """, {"max": MAX_RELATED})
    conn.executemany("delete from establishment_links where establishment_id = ? and related_id = ? "
                     "or establishment_id = ? and related_id = ?",
                     [(j["left_id"], j["right_id"], j["right_id"], j["left_id"])
                      for j in judgements if j["judgement"] == "do-not-merge"])


def load_sources(conn, sources=None, today=None):
    """The `sources` table, from the spiders' own declarations and their runs.

    ``sources``: the spider classes (ingest/ passes them: db/ never imports the crawler); None keeps
    the declarations the file already publishes (a rebuild of a built file), with fresh counts and dates.

    Freshness is stated from evidence, never as "updated today": when we last read the source
    (`last_checked`), when it last loaded (`last_good_run`), the source's own date of its newest
    record (`newest_record`), whether it is a fixed historical dataset, and `overdue` for a live
    source whose newest record is older than its usual cadence (as of this build, `today`).
    """
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    if sources is None:
        sources = [_Declared(row) for row in conn.execute("select * from sources order by rowid")]
    rows = []
    for spider in sources:
        date_column = schema.TABLES[spider.table]["sort"]
        newest = conn.execute(f"select max([{date_column}]) from [{spider.table}] where source = ?",
                              [spider.name]).fetchone()[0]
        rows.append({
            "source": spider.name, "title": spider.title, "publisher": spider.publisher,
            "jurisdiction": spider.jurisdiction, "licence": spider.licence, "licence_url": spider.licence_url,
            "live_url": spider.live_url, "table_name": spider.table, "kind": spider.kind,
            "last_good_run": conn.execute(
                "select max(finished) from runs where source = ? and status = 'ok'", [spider.name]).fetchone()[0],
            "last_checked": conn.execute("select max(finished) from runs where source = ?", [spider.name]).fetchone()[0],
            "newest_record": newest,
            "historical": int(bool(spider.historical)),
            "cadence_days": spider.cadence_days,
            "overdue": _overdue(newest, spider, today),
            "url_kind": spider.url_kind,
            "rows": conn.execute(f"select count(*) from [{spider.table}] where source = ?",
                                 [spider.name]).fetchone()[0],
        })
    _replace(conn, "sources", rows)


def _overdue(newest, spider, today):
    """1 when a live source with a cadence has nothing dated within it; None when it cannot be late
    (historical, no cadence) or has no dated record. A partial date counts as the end of its period."""
    if spider.historical or not spider.cadence_days or not newest:
        return None
    text = str(newest)[:10]
    try:
        if len(text) == 4:
            last = datetime.date(int(text), 12, 31)
        elif len(text) == 7:
            year, month = map(int, text.split("-"))
            last = datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)
        else:
            last = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return int((today - last).days > spider.cadence_days)


class _Declared:
    """A source's declarations as the `sources` table published them, read as the spider's attributes."""

    def __init__(self, row):
        row = dict(row)
        self.name, self.table, self.historical = row["source"], row["table_name"], bool(row["historical"])
        for key in ("title", "publisher", "jurisdiction", "licence", "licence_url", "live_url", "kind",
                    "cadence_days", "url_kind"):
            setattr(self, key, row[key])


def build_fts(conn, folded=None):
    """Full-text tables over folded text (FTS5 never folds đ to d): rebuilt whole, no triggers.

    ``folded``: {text: canonical(text)} the ingest's workers computed during the crawl (ingest/enricher.py),
    taken instead of folding again, and emptied here."""
    folded = {} if folded is None else folded

    def canonical_for_index(text):
        done = folded.pop(text, None)
        return canonical(text) if done is None else done

    conn.create_function("vn_canonical", 1, lambda text: canonical_for_index(text or ""), deterministic=True)
    for name, spec in schema.TABLES.items():
        if not spec["fts"]:
            continue
        fts = f"{name}_fts"
        conn.execute(f"drop table if exists [{fts}]")
        conn.execute(f"create virtual table [{fts}] using fts5(folded, tokenize='unicode61 remove_diacritics 2')")
        text = " || ' ' || ".join(f"coalesce([{c}], '')" for c in spec["fts"])
        conn.execute(f"insert into [{fts}] (rowid, folded) select rowid, vn_canonical({text}) from [{name}]")
    folded.clear()     # what the index did not use (a failed source, rows since replaced)


def build_summaries(conn):
    for name, sql in schema.SUMMARIES.items():
        conn.execute(f"drop table if exists [{name}]")
        conn.execute(f"create table [{name}] as {sql}")


def build_views(conn):
    for name, sql in schema.VIEWS.items():
        conn.execute(f"drop view if exists [{name}]")
        conn.execute(f"create view [{name}] as {sql}")


def build_indexes(conn):
    wanted = {f"idx_{name}_{'_'.join(columns)}": (name, columns)
              for name, spec in schema.TABLES.items() for columns in spec["indexes"]}
    # The build starts from the published file: indexes an older schema declared are dropped.
    present = conn.execute("select name from sqlite_master where type = 'index' and name like 'idx\\_%' escape '\\'")
    for (index,) in present.fetchall():
        if index not in wanted:
            conn.execute(f"drop index [{index}]")
    for index, (name, columns) in wanted.items():
        conn.execute(f"create index if not exists [{index}] on [{name}] ({', '.join(columns)})")


def finalize(path, sources=None, folded=None):
    """The build's derived tables, indexes and checks. ``sources`` (the spider classes) and ``folded``
    (texts folded ahead) come from the ingest (ingest/run.py); see load_sources and build_fts."""
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        load_reference(conn)
        corrections.apply(conn)     # reviewed corrections (db/corrections.csv): the earlier version kept in `versions`
        authorities.apply(conn)     # canonical names from the reviewed table (db/authorities.csv)
        hazards.apply(conn)         # harmonised hazard codes from the reviewed mapping (db/hazards.csv)
        build_establishments(conn)
        load_sources(conn, sources)
        build_fts(conn, folded)
        build_indexes(conn)
        build_summaries(conn)
        build_views(conn)
        facets.build(conn)      # after the views: the map views get their own counts
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        # quick_check verifies every page and b-tree (what a torn or corrupt file shows) in ~0.4 s at
        # 100k rows; integrity_check also matches each index against its table (~4 s), which only
        # finds SQLite bugs: every index here is written by SQLite itself, never by hand.
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BuildError(f"integrity check failed: {check}")
    finally:
        conn.close()


def smoke(path, metadata=None):
    """The new file must serve: Datasette (in process, configured as it is served: db/serving.py) answers on it."""
    from datasette.app import Datasette
    from datasette.database import Database

    from db.serving import datasette_kwargs

    metadata = Path(metadata or os.environ.get("MINHBACH_METADATA") or ROOT / "metadata.yml")

    async def check():
        ds = Datasette([], **datasette_kwargs(ROOT, metadata=metadata))
        ds.add_database(Database(ds, path=str(path), is_mutable=False), name=DATABASE_NAME)
        for table in schema.RECORD_TABLES:
            response = await ds.client.get(f"/{DATABASE_NAME}/{table}.json?_size=1&_nofacet=1&_nocount=1")
            if response.status_code != 200:
                raise BuildError(f"smoke test: /{DATABASE_NAME}/{table}.json answered {response.status_code}")
    try:
        asyncio.run(check())
    except BuildError:
        raise
    except Exception as error:
        raise BuildError(f"smoke test failed: {type(error).__name__}: {error}") from error


def content_hash(path):
    """Hash of what readers see: the record and reference tables, not the bookkeeping of runs."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for name in schema.TABLES:
            if name in ("runs", "sources", "facet_counts"):   # bookkeeping, or derived from the rest
                continue
            present = {row[1] for row in conn.execute(f"pragma table_info([{name}])")}
            columns = [c for c in schema.TABLES[name]["columns"] if c != "last_seen" and c in present]
            digest.update(repr(columns).encode())   # a new column is a change
            query = f"select {', '.join(f'[{c}]' for c in columns)} from [{name}] order by 1, 2"
            for row in conn.execute(query):
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()


def swap(new, published):
    """Atomically put the new file in place of the published one."""
    new, published = Path(new), Path(published)
    with open(new, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(new, published)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
