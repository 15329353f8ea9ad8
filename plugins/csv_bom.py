"""CSV that opens cleanly and safely in Excel with Vietnamese text.

- A UTF-8 byte order mark before the first byte: Excel reads a BOM-less CSV as the local ANSI code
  page, which turns "Hà Nội" into "HÃ  Ná»™i".
- No formula runs: a cell from an imported file that starts with `=`, `+`, `-`, `@`, a tab or a
  carriage return (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`) is a formula to Excel. As OWASP's "CSV
  Injection" advises, such a cell is written with a leading apostrophe, which Excel shows as text.
  Numbers are left alone (-105.85 is a longitude, not a formula), and a row without such a cell is
  passed through byte for byte.

The CSV is rewritten as it streams (Datasette streams large exports), one complete record at a time.
"""
import codecs
import csv
import io
import re

from datasette import hookimpl

BOM = b"\xef\xbb\xbf"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def neutralise(cell):
    """The cell as text Excel will not evaluate: a leading apostrophe before a formula trigger."""
    if cell.startswith(TRIGGERS) and not NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


class FormulaFilter:
    """Feed CSV text in chunks; get back the same CSV with formula cells neutralised.

    A record ends at a line break outside quotes (an even number of `"` so far), so a cell holding
    line breaks stays whole."""

    def __init__(self):
        self.pending = ""

    def feed(self, text, final=False):
        self.pending += text
        records, start, quotes, at = [], 0, 0, 0
        while True:
            newline = self.pending.find("\n", at)
            if newline < 0:
                break
            quotes += self.pending.count('"', at, newline)
            at = newline + 1
            if quotes % 2 == 0:
                records.append((start, at))
                start, quotes = at, 0
        ready, self.pending = self.pending[:start], self.pending[start:]
        if final and self.pending:
            records.append((len(ready), len(ready) + len(self.pending)))
            ready, self.pending = ready + self.pending, ""
        if not ready or not self._may_hold_formula(ready):
            return ready        # the common case, byte for byte
        return "".join(self._rewrite(ready[a:b]) for a, b in records)

    @staticmethod
    def _may_hold_formula(text):
        starts = (",", "\n", ',"', '\n"')
        return text.lstrip('"').startswith(TRIGGERS) or \
            any(f"{s}{t}" in text for s in starts for t in TRIGGERS)

    @staticmethod
    def _rewrite(record):
        cells = next(csv.reader(io.StringIO(record, newline="")), [])
        safe = [neutralise(cell) for cell in cells]
        if safe == cells:
            return record
        out = io.StringIO(newline="")
        body = record.rstrip("\r\n")
        csv.writer(out, lineterminator=record[len(body):]).writerow(safe)
        return out.getvalue()


def _is_csv(scope, headers):
    content_type = headers.get(b"content-type", b"")
    return content_type.startswith(b"text/csv") or \
        content_type.startswith(b"text/plain") and scope.get("path", "").endswith(".csv")


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def safe_csv(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            state = {"csv": False, "started": False}

            async def send_safe_csv(message):
                if message["type"] == "http.response.start":
                    headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                    state["csv"] = _is_csv(scope, headers)
                    if state["csv"]:
                        state["decoder"] = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
                        state["filter"] = FormulaFilter()
                        message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                          if k.lower() != b"content-length"]}
                elif message["type"] == "http.response.body" and state["csv"]:
                    final = not message.get("more_body", False)
                    text = state["decoder"].decode(message.get("body", b""), final=final)
                    body = state["filter"].feed(text, final=final).encode("utf-8", errors="surrogateescape")
                    if not state["started"]:
                        state["started"] = True
                        body = BOM + body
                    message = {**message, "body": body}
                await send(message)
            return await app(scope, receive, send_safe_csv)
        return safe_csv
    return wrap
