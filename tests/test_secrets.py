"""No secret or credential in the repository: keys come from the environment only."""
import re
import subprocess

from conftest import ROOT

PATTERNS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),                                  # AWS access key
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)(api[_-]?key|secret|password|token)\s*[:=]\s*['\"][^'\"\s]{12,}['\"]"),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}"),                         # GitHub tokens
    re.compile(r"Authorization-Key\"?\s*:\s*\"[^\"$]{8,}\""),          # FDA iRES key in code
]


def test_no_credentials_in_tracked_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="ignore")
        found += [(name, p.pattern) for p in PATTERNS if p.search(text)]
    assert found == []
