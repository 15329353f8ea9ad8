"""Range filters on dates stored at mixed precision behave as the API page documents.

Dates are ISO text at the precision the source published: "2025", "2025-01" or "2025-01-15"
(`*_precision` says which). Compared as text, "2025-01" < "2025-01-01", so `published__gte=2025-01-01`
silently dropped every month-only row of January. The rule we document (/api, README):

- a stored partial date counts as the FIRST DAY of its period ("2025-01" is 1 January 2025);
- a bound may be a day, a month or a year, written yyyy-mm-dd, yyyy-mm, yyyy, dd/mm/yyyy or mm/yyyy,
  and means its whole period: `__gte` from its first day, `__lt` before its first day, `__gt` after
  its last day, `__lte` up to its last day.

So `__gte=X` and `__lt=X` split the rows in two, each row once. The bound is rewritten (the column is
not), so the index on the column still answers: a row compares as its first day exactly when its
text is >= the bound's first day with trailing "-01"s dropped ("2025-01-01" -> "2025", "2025-03-01"
-> "2025-03"), because a shorter prefix sorts first. `__gt`/`__lte` become `__gte`/`__lt` at the next
period's first day. The `since` of the `changes` query is read the same way (dd/mm/yyyy accepted).
Malformed dates are refused with a 400 by plugins/parameter_errors.py; they are left untouched here.
"""
import datetime
import re
import urllib.parse

from datasette import hookimpl
from datasette.utils import tilde_decode

# The date columns of the public tables (ISO dates or date-times); see db/schema.py.
DATE_COLUMNS = {"published", "decided", "valid_from", "valid_until", "manufactured", "expires",
                "first_seen", "last_seen", "withdrawn", "started", "finished", "replaced"}
QUERY_DATES = {"changes": {"since"}}
ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
VIETNAMESE = re.compile(r"(?:(\d{1,2})/)?(\d{1,2})/(\d{4})")


def period(text):
    """(first day, first day of the next period) of a written date, or None when it is not one."""
    text = text.strip()
    iso, vn = ISO.fullmatch(text), VIETNAMESE.fullmatch(text)
    if iso:
        year, month, day = iso.groups()
    elif vn:
        day, month, year = vn.groups()
    else:
        return None
    try:
        if day:
            start = datetime.date(int(year), int(month), int(day))
            return start, start + datetime.timedelta(days=1)
        if month:
            start = datetime.date(int(year), int(month), 1)
            return start, (start + datetime.timedelta(days=31)).replace(day=1)
        start = datetime.date(int(year), 1, 1)
        return start, start.replace(year=start.year + 1)
    except (ValueError, OverflowError):
        return None


def bound(day):
    """The text bound that compares partial dates as their first day (see the module docstring)."""
    text = day.isoformat()
    while text.endswith("-01"):
        text = text[:-3]
    return text


def rewrite_range(column, lookup, value):
    """(key, value) of an equivalent filter on the stored text, or None to leave it as it is."""
    span = period(value)
    if span is None:
        return None
    start, following = span
    if lookup == "gte":
        return f"{column}__gte", bound(start)
    if lookup == "lt":
        return f"{column}__lt", bound(start)
    if lookup == "gt":
        return f"{column}__gte", bound(following)
    if lookup == "lte":
        return f"{column}__lt", bound(following)
    return None


def rewrite(name, pairs):
    out = []
    for key, value in pairs:
        column, _, lookup = key.rpartition("__")
        if column in DATE_COLUMNS and lookup in ("gt", "gte", "lt", "lte"):
            key, value = rewrite_range(column, lookup, value) or (key, value)
        elif key in QUERY_DATES.get(name, ()):
            span = period(value)
            value = span[0].isoformat() if span else value
        out.append((key, value))
    return out


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def dates(scope, receive, send):
            if scope["type"] == "http" and scope.get("query_string"):
                parts = scope.get("path", "").strip("/").split("/")
                if len(parts) == 2 and parts[0] in datasette.databases:
                    try:
                        pairs = urllib.parse.parse_qsl(scope["query_string"].decode("utf-8"), keep_blank_values=True)
                    except UnicodeDecodeError:
                        pairs = None        # refused by plugins/parameter_errors.py
                    if pairs:
                        name = tilde_decode(parts[1]).rsplit(".", 1)[0]
                        new_pairs = rewrite(name, pairs)
                        if new_pairs != pairs:
                            scope = dict(scope, query_string=urllib.parse.urlencode(new_pairs).encode())
            return await app(scope, receive, send)
        return dates
    return wrap
