"""What is declared once is not copied by hand: metadata.yml's column descriptions come from db/schema.py
and the README's table of sources from the spiders' class attributes, written by cog (db/docs.py, scrapers/docs.py)."""
import subprocess
import sys

import yaml

from conftest import ROOT
from db import docs, schema
from scrapers.spiders import all_spiders

GENERATED = ["metadata.yml", "README.md"]


def test_generated_blocks_are_current():
    result = subprocess.run([sys.executable, "-m", "cogapp", "--check", *GENERATED], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (f"{result.stdout}{result.stderr}\n"
                                    f"regenerate them: .venv/bin/cog -r {' '.join(GENERATED)}")


def test_metadata_describes_every_column_as_the_schema_does():
    tables = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["databases"]["minhbach"]["tables"]
    for table, spec in schema.TABLES.items():
        expected = {name: desc for name, (_type, desc) in spec["columns"].items()}
        expected.update({name: desc for name, (_sql, desc) in spec.get("generated", {}).items()})
        assert tables[table]["columns"] == expected, f"{table}: run cog -r metadata.yml"
        assert list(tables[table]["columns"]) == list(expected), table   # in the schema's order


def test_readme_lists_every_source_with_its_declared_publisher_and_licence():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split(" | ")[0].strip("|` "): line for line in readme.splitlines() if line.startswith("| `")}
    for spider in all_spiders():
        row = rows.get(spider.name)
        assert row, f"README's sources table lacks {spider.name}: run cog -r README.md"
        assert f"| {spider.table} | {spider.publisher} | {spider.licence} |" in row, row


def test_a_column_added_to_the_schema_reaches_metadata(monkeypatch):
    """The generator reads the schema as it is when cog runs (new columns keep arriving)."""
    columns = {**schema.TABLES["runs"]["columns"], "note_added": (str, "A column added after the last cog run.")}
    monkeypatch.setitem(schema.TABLES["runs"], "columns", columns)
    generated = yaml.safe_load(docs.metadata_columns("runs"))
    assert generated["columns"]["note_added"] == "A column added after the last cog run."
    assert list(generated["columns"])[-1] == "note_added"
