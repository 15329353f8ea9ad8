"""Every way we serve the site takes Datasette's options from db/serving.py, and gets the same ones.

The consumers: `make serve`, the replicas (deploy/replicas.py), the Dockerfile's CMD, the README's
`datasette publish` commands, the browser tests, the in-process Datasette of the tests and the build's
smoke test. Each command line is expanded as its shell would expand it, then read back.
"""
import json
import re
import shlex
import subprocess

import datasette.app

from conftest import ROOT
from db import build, serving

EXPECTED_SETTINGS = {name: serving._cli_value(value) for name, value in serving.SETTINGS.items()}


def shell_words(line, env=None):
    """The words a POSIX shell makes of a command line (``$(…)`` and ``${VAR}`` expanded), not run."""
    out = subprocess.run(["sh", "-c", f"printf '%s\\n' {line}"], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env).stdout
    return out.splitlines()


def options(args):
    """({option: [values]}, {setting: value}) of a `datasette serve` command line's options."""
    found, settings, i = {}, {}, 0
    while i < len(args):
        arg = args[i]
        if arg == "--setting":
            settings[args[i + 1]] = args[i + 2]
            i += 3
        elif arg.startswith("-") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            found.setdefault(arg, []).append(args[i + 1])
            i += 2
        else:
            found.setdefault(arg, [])
            i += 1
    return found, settings


def assert_serves_as_defined(args, root=None):
    found, settings = options(args)
    assert settings == EXPECTED_SETTINGS
    assert "--cors" in found
    assert found["--metadata"] == [str(root / "metadata.yml") if root else "metadata.yml"]
    assert found["--plugins-dir"] == [str(root / "plugins") if root else "plugins"]
    assert found["--template-dir"] == [str(root / "templates") if root else "templates"]
    assert found["--static"] == [f"static:{root / 'static'}" if root else "static:static"]


def test_the_module_prints_what_it_defines():
    assert shell_words("$(.venv/bin/python -m db.serving)") == serving.serve_args()
    settings_only = shell_words("$(.venv/bin/python -m db.serving --settings)")
    assert options(settings_only) == ({"--cors": []}, EXPECTED_SETTINGS)
    assert EXPECTED_SETTINGS["suggest_facets"] == "off" and EXPECTED_SETTINGS["allow_download"] == "on"


def test_make_serve(tmp_path):
    db = tmp_path / "minhbach.db"
    db.touch()   # `make -n` only prints the commands, but wants the file the inspect step depends on
    out = subprocess.run(["make", "-n", "serve", f"DB={db}", "PORT=9999"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.replace("\\\n", " ")
    line = next(line for line in out.splitlines() if re.search(r"datasette (gunicorn|serve) ", line))
    args = shlex.split(re.split(r"datasette (?:gunicorn|serve) ", line, maxsplit=1)[1])
    assert_serves_as_defined(args)
    assert options(args)[0]["--port"] == ["9999"]


def test_replicas():
    import importlib.util
    spec = importlib.util.spec_from_file_location("deploy_replicas", ROOT / "deploy" / "replicas.py")
    replicas = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replicas)
    command = replicas.Replica(0, 1234, ROOT / "v", "0" * 64, ROOT).command()
    assert command[2] == "serve"
    assert_serves_as_defined(command[3:], root=ROOT)


def test_dockerfile_cmd():
    text = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert cmd[:2] == ["sh", "-c"] and cmd[2].startswith("exec datasette serve ")
    # The image's working directory has the project's layout; run the substitution from here.
    args = shell_words(cmd[2].removeprefix("exec datasette serve "),
                       env={"PORT": "8001", "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin"})
    assert_serves_as_defined(args)
    assert options(args)[0]["--port"] == ["8001"]


def test_readme_publish_commands():
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    publishes = [line for line in text.splitlines() if line.lstrip().startswith("datasette publish ")]
    assert len(publishes) == 2
    for line in publishes:
        assert "--setting " not in line, "settings are written by hand again"
        extra = shlex.split(line, posix=True)
        value = extra[extra.index("--extra-options") + 1]
        found, settings = options(shell_words(value.replace(".venv/bin/python", str(ROOT / ".venv/bin/python"))))
        assert settings == EXPECTED_SETTINGS and "--cors" in found


def test_browser_tests_serve():
    import test_browser
    command = test_browser.serve_command(ROOT / "db" / "x.db", 1234)
    assert command[1] == "serve"
    assert_serves_as_defined(command[4:])


def test_in_process_datasette_of_the_tests(datasette):
    assert {name: datasette.setting(name) for name in serving.SETTINGS} == serving.SETTINGS
    assert datasette.cors is serving.CORS
    assert datasette.plugins_dir == str(ROOT / "plugins") and datasette.template_dir == str(ROOT / "templates")
    assert datasette.static_mounts == [("static", str(ROOT / "static"))]


def test_build_smoke_test(demo_db, monkeypatch):
    made = []

    class Recording(datasette.app.Datasette):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(datasette.app, "Datasette", Recording)
    build.smoke(demo_db)
    [ds] = made
    assert {name: ds.setting(name) for name in serving.SETTINGS} == serving.SETTINGS
    assert ds.cors is serving.CORS and ds.plugins_dir == str(ROOT / "plugins")


def test_free_port_is_free():
    import socket
    port = serving.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))   # raises if it were taken
