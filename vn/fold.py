"""Search folding for Vietnamese text, shared by FTS indexing and the query side.

SQLite's ``unicode61`` tokenizer with ``remove_diacritics 2`` strips most Vietnamese
tone and vowel marks, but *not* ``đ``/``Đ``: that letter is a base character (U+0111),
not ``d`` plus a combining mark, so ``đường`` would never match ``duong``.  And people
write the same entity many ways (``TP.HCM``, ``Sài Gòn``, ``Cty``, ``CTCP``).  So both
sides go through this module:

* index:  store ``canonical(text)`` in the FTS column (folded text + alias expansions);
* query:  ``MATCH fts_query(user_input)``.

Pure stdlib; no state beyond a cache of pure results (folded words).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

__all__ = ["fold", "squash", "canonical", "fts_query", "ALIASES", "PLACE_NAMES", "PREFIX_MIN", "marked_words",
           "exact_marks"]

# Eth (Ð/ð) is what legacy VNI/TCVN3 conversions often leave where Đ/đ belongs.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters/digits, any script


def _drop_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def fold(text: Optional[str]) -> str:
    """Fold for matching: NFC, đ/Đ -> d/D, NFD, drop combining marks, casefold,
    collapse whitespace.  ``fold("ĐÀ NẴNG") == fold("da nang") == "da nang"``;
    ``hòa``, ``hoà`` and NFD input all give ``hoa``.  None gives ``""``.

    Marks are dropped again after casefold because casefold can produce new ones
    (``İ`` -> ``i̇``); this keeps ``fold`` idempotent.

    Text made only of precomposed Latin letters (all Vietnamese in NFC) takes a one-pass
    ``str.translate`` built from the slow path itself: 4x faster when indexing a million rows.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    folded = _fold_words(text)
    return _fold_slow(text) if folded is None else folded


# Words recur (a few thousand syllables make most Vietnamese text): each one is translated once.
# No folded character contains a space, so folding word by word and dropping empty results is
# the one-pass translate above. Bounded in bytes, not only in entries: only words of at most
# _MAX_CACHED_WORD characters are kept (a syllable is under 8; a search of long unique "words" kept
# ~115 KB each), so the cache holds at most about _MAX_WORDS * 300 bytes (~60 MB).
_WORDS: dict[str, Optional[str]] = {}
_MAX_WORDS = 200_000
_MAX_CACHED_WORD = 32
_UNSEEN = object()


def _fold_words(text: str) -> Optional[str]:
    """The fast fold of ``text``, or None when a word needs the slow path."""
    words = _WORDS
    out = []
    for word in text.split(" "):
        folded = words.get(word, _UNSEEN)
        if folded is _UNSEEN:
            folded = word.translate(_FAST_TABLE) if _FAST_CHARS.issuperset(word) else None
            if len(word) <= _MAX_CACHED_WORD:
                if len(words) >= _MAX_WORDS:
                    words.clear()
                words[word] = folded
        if folded is None:
            return None
        if folded:
            out.append(folded)
    return " ".join(out)


def _fold_slow(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_D_MAP)
    text = _drop_marks(text).casefold()
    text = _drop_marks(text)
    return squash(text)


def squash(text: str) -> str:
    """Runs of whitespace (spaces, tabs, line breaks, any Unicode space) as one space, trimmed: the
    project's one whitespace rule (parsing, folding, place names)."""
    return " ".join(text.split())


def _fast_table():
    """Per-character folds for Latin text where no character can combine with a neighbour."""
    table = {}
    for block in (range(0x20, 0x7F), range(0xA0, 0x250), range(0x1E00, 0x1F00)):
        for code in block:
            char = chr(code)
            if (char.isspace() and char != " ") or unicodedata.combining(char) \
                    or unicodedata.normalize("NFC", char) != char:
                continue
            table[code] = _fold_slow(char) if char != " " else " "
    return table


_FAST_TABLE = _fast_table()
_FAST_CHARS = frozenset(map(chr, _FAST_TABLE))


# Alias table on folded token sequences: (tokens, expansion, replace_in_query).
# replace_in_query=False entries only *add* a form at index time (the reverse
# direction), so a raw FTS query in either form also works.
_HCM = "ho chi minh"
ALIASES: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("thanh", "pho", "ho", "chi", "minh"), _HCM, True),
    (("tp", "ho", "chi", "minh"), _HCM, True),
    (("tp", "hcm"), _HCM, True),
    (("tphcm",), _HCM, True),
    (("hcm",), _HCM, True),
    (("hcmc",), _HCM, True),
    (("tp", "sai", "gon"), _HCM, True),
    (("sai", "gon"), _HCM, True),
    (("cong", "ty", "cp"), "cong ty co phan", True),
    (("cty", "cp"), "cong ty co phan", True),
    (("ctcp",), "cong ty co phan", True),
    (("cty",), "cong ty", True),
    (("c", "ty"), "cong ty", True),
    (("tnhh",), "trach nhiem huu han", True),
    (("trach", "nhiem", "huu", "han"), "tnhh", False),
    (("htx",), "hop tac xa", True),
    (("ubnd",), "uy ban nhan dan", True),
    (("tp",), "thanh pho", True),
)
# Place names written joined, as in domain names and romanised spellings ("hanoi", "danang",
# "hochiminh"): the 63 pre-2025 provinces (the 34 of 2025 are among their names) and well-known
# cities that are 2025 wards or special zones (tests/test_fold.py checks each against the reference
# units). A joined form is read as the spaced name, in queries and in indexed text.
PLACE_NAMES = (
    "An Giang", "Bà Rịa", "Vũng Tàu", "Bà Rịa Vũng Tàu", "Bình Dương", "Bình Phước", "Bình Thuận", "Bình Định",
    "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre", "Cao Bằng", "Cà Mau", "Cần Thơ", "Gia Lai",
    "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hòa Bình", "Hưng Yên", "Hải Dương", "Hải Phòng", "Hậu Giang",
    "Hồ Chí Minh", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Long An", "Lào Cai", "Lâm Đồng",
    "Lạng Sơn", "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình",
    "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Thanh Hóa", "Thái Bình",
    "Thái Nguyên", "Tiền Giang", "Trà Vinh", "Tuyên Quang", "Tây Ninh", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
    "Điện Biên", "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Đồng Nai", "Đồng Tháp", "Thừa Thiên Huế",
    # cities that are 2025 wards or special zones
    "Nha Trang", "Đà Lạt", "Hạ Long", "Hội An", "Phú Quốc", "Quy Nhơn", "Phan Thiết", "Buôn Ma Thuột",
    "Sa Pa", "Cam Ranh", "Tuy Hòa", "Rạch Giá", "Mỹ Tho", "Biên Hòa", "Thủ Dầu Một",
)


def _joined_aliases():
    out, seen = [], set()
    for name in PLACE_NAMES:
        tokens = fold(name).split()
        joined = "".join(tokens)
        if len(tokens) > 1 and joined not in seen:
            seen.add(joined)
            out.append(((joined,), _HCM if joined == "hochiminh" else " ".join(tokens), True))
    out.append((("saigon",), _HCM, True))
    return tuple(out)


ALIASES = ALIASES + _joined_aliases()
_ALIAS_MAP = {tokens: (expansion, replace) for tokens, expansion, replace in ALIASES}
# _TOKEN on ASCII text: runs of [A-Za-z0-9]; every other byte becomes a space, then split (3x faster).
_ASCII_SPLIT = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))
_MAX_ALIAS = max(len(tokens) for tokens in _ALIAS_MAP)
_ALIAS_FIRST = frozenset(tokens[0] for tokens in _ALIAS_MAP)


def _tokens(folded: str) -> list[str]:
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_SPLIT).decode("ascii").split()
    return _TOKEN.findall(folded)


def _index_extras(tokens: list[str]) -> list[str]:
    """canonical()'s alias loop for indexing, visiting only tokens that can start an alias."""
    extra: list[str] = []
    resume = 0
    for i, token in enumerate(tokens):
        if i < resume or token not in _ALIAS_FIRST:
            continue
        hit = _match_alias(tokens, i)
        if hit:
            resume = i + hit[0]
            if hit[1] not in extra:
                extra.append(hit[1])
    return extra


def _match_alias(tokens: list[str], i: int):
    """Longest alias starting at tokens[i]: (length, expansion, replace) or None."""
    if tokens[i] not in _ALIAS_FIRST:
        return None   # most tokens start no alias
    for n in range(min(_MAX_ALIAS, len(tokens) - i), 0, -1):
        hit = _ALIAS_MAP.get(tuple(tokens[i:i + n]))
        if hit:
            return n, hit[0], hit[1]
    return None


def canonical(text: Optional[str], for_query: bool = False) -> str:
    """``fold(text)`` plus alias handling so indexed text and queries meet.

    Aliases (longest match first): ``tp.hcm``, ``tp hcm``, ``tphcm``, ``hcm``, ``hcmc``,
    ``tp. ho chi minh``, ``thanh pho ho chi minh``, ``sai gon`` -> ``ho chi minh``;
    ``cty``, ``c.ty`` -> ``cong ty``; ``ctcp``, ``cty cp``, ``cong ty cp`` ->
    ``cong ty co phan``; ``tnhh`` <-> ``trach nhiem huu han``; ``htx`` -> ``hop tac
    xa``; ``ubnd`` -> ``uy ban nhan dan``; ``tp`` alone -> ``thanh pho``.

    * ``for_query=False`` (indexing): returns the folded text unchanged followed by
      each distinct expansion not already present, so nothing written is lost:
      ``"CTCP Sữa" -> "ctcp sua cong ty co phan"``.
    * ``for_query=True``: tokens only, each alias replaced by its expansion:
      ``"tp.hcm" -> "ho chi minh"``.  Then every query form matches every indexed form.

    Note ``sai gon`` is treated as the city; a brand like "Bia Sài Gòn" is still found
    by its own words, but a "Sài Gòn" query also returns other Ho Chi Minh City rows.
    """
    folded = fold(text)
    tokens = _tokens(folded)
    if not for_query:
        extra = _index_extras(tokens)
        if not extra:
            return folded
        padded = f" {' '.join(tokens)} "
        extra = [e for e in extra if f" {e} " not in padded]
        return " ".join([folded] + extra) if extra else folded
    out: list[str] = []
    i = 0
    while i < len(tokens):
        hit = _match_alias(tokens, i)
        if hit is None:
            out.append(tokens[i])
            i += 1
            continue
        length, expansion, replace = hit
        out.extend([expansion] if replace else tokens[i:i + length])
        i += length
    return " ".join(out)


def fts_query(q: Optional[str]) -> str:
    """FTS5 MATCH expression for user input: ``canonical(q, for_query=True)`` split
    into letter/digit tokens, each double-quoted (so FTS5 keywords and punctuation
    are inert), joined by spaces (implicit AND), the last one a prefix query so
    results follow typing: ``"Đà Nan"`` -> ``'"da" "nan"*'``; a last word shorter than
    PREFIX_MIN letters is matched whole (``"ty"`` -> ``'"ty"'``).

    Input with no letters or digits gives ``'""'``, an empty phrase that FTS5 accepts
    and that matches no row.
    """
    tokens = _TOKEN.findall(canonical(q, for_query=True))
    if not tokens:
        return '""'
    quoted = [f'"{t}"' for t in tokens]
    if len(tokens[-1]) >= PREFIX_MIN:
        quoted[-1] += "*"
    return " ".join(quoted)


# The last word is read as a prefix (search as you type) only from this many letters: "ty" would
# otherwise reach every word starting with ty ("TYPES", "tỷ"), drowning the word itself.
PREFIX_MIN = 3


def _nfc_words(text: Optional[str]) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text or "").casefold())


def marked_words(q: Optional[str]) -> list[str]:
    """The words of a query typed with diacritics (or đ), lower-cased NFC: ``"sửa xe"`` -> ``["sửa"]``."""
    return [w for w in _nfc_words(q) if fold(w) != w]


def exact_marks(q: Optional[str], text: Optional[str]) -> int:
    """1 when every word the user typed with diacritics is in ``text`` as written (case aside), else 0
    (also 0 for a query without diacritics). Ranks "sửa" above "sữa" when "sửa" was typed."""
    words = marked_words(q)
    if not words or not text:
        return 0
    have = set(_nfc_words(text))
    return int(all(w in have for w in words))
