"""Text that cog writes into metadata.yml and README.md, so what is declared once is not copied by hand.

    cog -r metadata.yml README.md        # rewrite the generated blocks
    cog --check metadata.yml README.md   # tests/test_generated_docs.py: fails when a block is stale

- ``metadata.yml``: each table's ``columns:`` map, from the descriptions in ``db/schema.py``;
- ``README.md``: the table of sources, from the spiders' class attributes (scrapers/docs.py: db/ does
  not import the crawler).
Everything else in both files is written by hand.
"""
import yaml

from db import schema

_YAML_WIDTH = 116   # metadata.yml's lines stay under 120 characters (PyYAML wraps at the first space past it)


def column_descriptions(table):
    """Column -> description of one table, stored columns then generated ones (schema order)."""
    spec = schema.TABLES[table]
    return {**{name: desc for name, (_type, desc) in spec["columns"].items()},
            **{name: desc for name, (_sql, desc) in spec.get("generated", {}).items()}}


def metadata_columns(table, indent=8):
    """The ``columns:`` map of ``table`` as YAML lines at ``indent`` (a table's keys in metadata.yml)."""
    text = yaml.safe_dump({"columns": column_descriptions(table)}, allow_unicode=True, sort_keys=False,
                          width=_YAML_WIDTH - indent)
    return "".join(" " * indent + line + "\n" for line in text.splitlines())
