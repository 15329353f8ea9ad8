"""How the site is served: the one definition of Datasette's options, read by every way we serve it.

`make serve`, `deploy/replicas.py`, the Dockerfile's CMD, the README's `datasette publish` commands,
the tests' in-process Datasette and the build's smoke test all take their options from here
(tests/test_serving.py checks each of them), so they cannot drift apart again.

    python -m db.serving              # the `datasette serve` options, one line (the Makefile, the Dockerfile)
    python -m db.serving --settings   # only --setting pairs and --cors (`datasette publish --extra-options`)

Standard library only: the serving image runs it before Datasette starts, and it must not pull in
the crawling side (Scrapy).
"""
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Datasette settings, typed as Datasette keeps them (the command line spells booleans on/off).
SETTINGS = {
    "suggest_facets": False,       # facet counts come from the file (plugins/facet_counts.py)
    "sql_time_limit_ms": 1500,     # arbitrary SQL is cut off, a page never hangs a worker
    # The published file changes at most nightly; a short TTL bounds how stale a browser's or a CDN's
    # copy can be after a publish (README: "Cache policy for a CDN"); ETags make revalidation cheap.
    "default_cache_ttl": 300,
    "facet_time_limit_ms": 500,
    "num_sql_threads": 4,
    "allow_download": True,        # the whole database file is part of the API
}
# CORS on: journalists' notebooks and other sites read the JSON API from the browser.
CORS = True
# Files beside the database, relative to the project root (the image's /app has the same layout).
METADATA = "metadata.yml"
PLUGINS_DIR = "plugins"
TEMPLATE_DIR = "templates"
STATIC = ("static", "static")   # mounted at /static/


def _cli_value(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def setting_args():
    """`--setting name value` pairs and `--cors`, as `datasette serve` (and `publish --extra-options`) take them."""
    args = [arg for name, value in SETTINGS.items() for arg in ("--setting", name, _cli_value(value))]
    return args + (["--cors"] if CORS else [])


def serve_args(root=None):
    """Every `datasette serve` option except the database, inspect file, host and port.

    Paths are relative to the working directory when ``root`` is None (the Makefile, the image),
    else absolute under ``root`` (deploy/replicas.py starts replicas from anywhere).
    """
    def path(relative):
        return relative if root is None else str(Path(root) / relative)
    mount, folder = STATIC
    return ["--metadata", path(METADATA), "--plugins-dir", path(PLUGINS_DIR),
            "--template-dir", path(TEMPLATE_DIR), "--static", f"{mount}:{path(folder)}", *setting_args()]


def datasette_kwargs(root=ROOT, metadata=None):
    """Keyword arguments for an in-process ``datasette.app.Datasette`` served as `datasette serve` serves."""
    import yaml   # PyYAML: Datasette's own dependency, declared in pyproject.toml

    root = Path(root)
    metadata = Path(metadata) if metadata else root / METADATA
    mount, folder = STATIC
    return {"metadata": yaml.safe_load(metadata.read_text()), "plugins_dir": str(root / PLUGINS_DIR),
            "template_dir": str(root / TEMPLATE_DIR), "static_mounts": [(mount, str(root / folder))],
            "settings": dict(SETTINGS), "cors": CORS}


def free_port(avoid=(), host="127.0.0.1"):
    """A TCP port free on ``host`` now, not in ``avoid`` (replicas, benchmarks and tests start servers on it)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port
    raise RuntimeError("no free port")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--settings"]):
        print("usage: python -m db.serving [--settings]", file=sys.stderr)
        return 2
    print(" ".join(setting_args() if argv else serve_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
