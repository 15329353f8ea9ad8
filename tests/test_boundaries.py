"""The package boundaries hold: the site runs without Scrapy, db/ and vn/ never import the crawler,
and scrapers/ never imports the database (ingest/ joins them)."""
import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PLUGINS = sorted((ROOT / "plugins").glob("*.py")) + [ROOT / "deploy" / "datasette_replica.py"]


def imported_modules(folder):
    """{file: top-level names of the modules it imports}, for every .py file under ``folder``."""
    found = {}
    for path in sorted(Path(folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[path.relative_to(ROOT)] = names
    return found


def test_every_plugin_imports_without_scrapy():
    # As in the serving image (pip install .[serve]): importing scrapy fails.
    code = (
        "import importlib.util, sys\n"
        "sys.modules['scrapy'] = None\n"
        "sys.modules['twisted'] = None\n"
        f"for path in {[str(p) for p in PLUGINS]!r}:\n"
        "    spec = importlib.util.spec_from_file_location('plugin_' + path.rsplit('/', 1)[-1][:-3], path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "for name in ('db.schema', 'db.build', 'db.store', 'db.serving', 'db.snapshot', 'db.docs', 'vn.places'):\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_db_and_vn_do_not_import_the_crawler():
    for folder in ("db", "vn"):
        for path, names in imported_modules(ROOT / folder).items():
            assert not names & {"scrapy", "twisted", "scrapers", "ingest"}, path


def test_vn_imports_no_other_part_of_the_project():
    for path, names in imported_modules(ROOT / "vn").items():
        assert not names & {"db", "scrapers", "ingest", "plugins", "datasette"}, path


def test_scrapers_do_not_import_the_database():
    for path, names in imported_modules(ROOT / "scrapers").items():
        assert not names & {"db", "ingest"}, path
