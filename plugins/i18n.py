"""One translation catalogue for the public pages: Vietnamese is the source language, English comes from
locale/en/LC_MESSAGES/messages.po (gettext, read with Babel), through Jinja's i18n extension.

A page asks for English with ``?lang=en`` (no cookie: a link can be shared, a CDN can cache it);
the language of the request is kept in a context variable for the templates' ``_()`` /
``{% trans %}``. ``lang`` is in every template's context, ``lang_url(code)`` is the current page in
the other language, and ``label(field, code)`` is a vocabulary label (db/vocabulary.csv) in it.

Every public page is moved over: a template wraps its Vietnamese in ``{{ _("…") }}`` (placeholders as
``_("… %(n)s …", n=value)``; a literal ``%`` is ``%%``, Jinja formats every message), a plugin marks a
label with ``N_("…")`` (babel.cfg lists the plugins read). After changing a string, from the project root:

    pybabel extract -F babel.cfg --no-location --omit-header -o locale/messages.pot .
    pybabel update -i locale/messages.pot -d locale --ignore-obsolete --no-fuzzy-matching

and translate the new (empty) entries in locale/en/LC_MESSAGES/messages.po. Nothing is compiled: the .po
file is read as it is (no .mo). tests/test_i18n_pages.py fails while an extracted string has no English.
"""
import contextvars
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from babel.messages.pofile import read_po
from datasette import hookimpl

from db.hazards import vocabulary

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "messages.po"
LANGUAGES = ("vi", "en")
LANG = contextvars.ContextVar("minhbach_lang", default="vi")
PAGE = contextvars.ContextVar("minhbach_page", default=("/", ""))   # the request's path and query string


def load_catalogue(path=CATALOGUE):
    with open(path, "rb") as f:
        catalog = read_po(f, locale="en")
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


ENGLISH = load_catalogue()
VOCABULARY = vocabulary()


def gettext(message):
    return ENGLISH.get(message, message) if LANG.get() == "en" else message


def ngettext(singular, plural, n):
    return gettext(singular if n == 1 else plural)


def label(field, code):
    """The vocabulary label of a code in the request's language; '' when the code is not in it."""
    labels = VOCABULARY.get((field, code))
    return (labels[1] if LANG.get() == "en" else labels[0]) if labels else ""


def request_lang(query_string):
    value = dict(parse_qsl(query_string)).get("lang")
    return value if value in LANGUAGES else "vi"


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def lang_app(scope, receive, send):
            if scope["type"] == "http":
                query = scope.get("query_string", b"").decode("latin-1")
                LANG.set(request_lang(query))
                PAGE.set((scope.get("path", "/"), query))
            await app(scope, receive, send)
        return lang_app
    return wrap


@hookimpl
def prepare_jinja2_environment(env):
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals["label"] = label
    env.globals["lang_url"] = lang_url
    env.globals["lang_now"] = LANG.get


def lang_url(code):
    """The page being answered, in language `code` (error pages too: no request object needed)."""
    path, query = PAGE.get()
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    if code != "vi":
        params.append(("lang", code))
    return path + ("?" + urlencode(params) if params else "")


@hookimpl
def extra_template_vars():
    return {"lang": LANG.get()}
