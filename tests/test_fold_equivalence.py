"""vn/fold.py is the one text folding and whitespace module: the parsers and places modules (now vn/) had
copies of their own and now call it. The copies are kept here, verbatim, as the oracle: on Vietnamese
text (precomposed or decomposed, any case, with digits, punctuation and odd spacing) the shared
functions give exactly what each copy gave, so no parse, place or key changes."""
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from vn import text as vn_text, units
from vn.fold import fold, squash


# --- the copies as they were (scrapers/parsers.py and db/places.py, now vn/, before they called vn/fold.py)

def parsers_clean(text):
    text = unicodedata.normalize("NFC", text).translate(vn_text.INVISIBLE)
    return " ".join(text.split())


def parsers_ascii_fold(text):
    text = unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def _places_fold_table():
    table = {}
    for cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if base != ch:
            table[cp] = base.lower()
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    table.update({ord("đ"): "d", ord("Đ"): "d", ord("ð"): "d"})
    return table


PLACES_FOLD = _places_fold_table()


def places_fold(text):
    return unicodedata.normalize("NFC", text).lower().translate(PLACES_FOLD)


def places_key(text):
    return "".join(units.norm_token(t) for t in re.findall(r"\w+", places_fold(text)))


# --- Vietnamese text

_VOWELS = "aăâeêioôơuưy"
_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]     # huyền, sắc, hỏi, ngã, nặng
_LETTERS = sorted({unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES}
                  | set("bcdđghklmnpqrstvx"))
_LETTERS += [c.upper() for c in _LETTERS]
_SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u202f", "\u200b", "\ufeff"]   # what cells carry
_PUNCTUATION = list(",.;:/-–()'\"%") + ["đồng", "tháng", "năm", "Ngày", "TP.HCM", "Q.1", "P.5"]

syllable = st.text(alphabet=_LETTERS, min_size=1, max_size=7)
piece = st.one_of(syllable, st.from_regex(r"[0-9]{1,8}", fullmatch=True), st.sampled_from(_PUNCTUATION))
vietnamese = st.builds(
    lambda pieces, gaps, form: unicodedata.normalize(form, "".join(p + g for p, g in zip(pieces, gaps))),
    st.lists(piece, min_size=0, max_size=12), st.lists(st.sampled_from(_SPACES), min_size=12, max_size=12),
    st.sampled_from(["NFC", "NFD"]))


@given(vietnamese)
def test_parsers_clean_is_unchanged(text):
    assert vn_text.clean_cell(text) == parsers_clean(text)


@given(vietnamese)
def test_parsers_folding_is_the_search_folding(text):
    cleaned = parsers_clean(text)    # every text the parsers fold is cleaned first
    assert fold(cleaned) == parsers_ascii_fold(cleaned)


@given(vietnamese)
def test_place_keys_are_unchanged(text):
    assert units.name_key(text) == places_key(text)


@given(vietnamese)
def test_place_tokens_fold_as_before(text):
    # vn/places.py folds each \w token of the lower-cased NFC text (its _segments)
    for token in re.findall(r"\w+", unicodedata.normalize("NFC", text).lower()):
        assert fold(token) == token.translate(PLACES_FOLD)


@given(vietnamese)
def test_squash_is_the_whitespace_rule(text):
    assert squash(text) == " ".join(text.split())
    assert fold(text) == fold(squash(text))


def test_the_oracles_are_not_trivial():
    """The copies really fold (a test of an identity would pass whatever vn/fold.py did)."""
    assert parsers_ascii_fold("Ngày 5 THÁNG 3 năm Đinh Dậu") == "ngay 5 thang 3 nam dinh dau"
    assert places_key("Phường Đắk Lắk 05") == "phuongdaklak5"
    assert parsers_clean("  Hà\u00a0 Nội\u200b\n") == "Hà Nội"
