"""Place Vietnamese addresses on the 2025 administrative map (34 provinces, 3,321 wards).

Vietnam went from 63 provinces / ~700 districts / ~10,000 wards to 34 provinces and 3,321
wards with no district level on 1 July 2025. Published addresses use either scheme, often
mixed ("phường Minh Khai, quận Hồng Bàng (cũ), Thành phố Hải Phòng"). ``locate`` turns such
an address (plus an optional separate province cell and optional coordinates) into a 2025
province and, where that is honest, a 2025 ward, with coordinates.

Data: vn/units.py (the ``vietnamadminunits`` package's units and old -> 2025 mapping).

The package's own ``parse_address`` was measured and not used: ~3,000 calls/s in FROM_2025 mode
(it compiles a regex over a province's ward list on every call), substring matching without
word boundaries ("Trà Vinh" read as the 2025 ward Phường Trà Vinh), no way to combine a district
marked "(cũ)" with the 2025 province, and ``convert_address`` geocodes divided wards over the
network. Here a folded-name index is built once (~0.5 s) and addresses are matched token by token:
~17,000-25,000 distinct addresses/s, and repeated (address, province) pairs come from a cache.

How an address is read:

1. It is cut into segments at commas, semicolons and brackets; "(cũ)" marks the segment before.
   Within a segment, type words ("phường", "P.", "xã", "thị trấn", "quận", "Q.", "huyện",
   "thị xã", "TX", "thành phố", "TP", "tỉnh", "đặc khu") introduce a name, matched as the longest
   known name. A whole segment (or dash-separated part of one) can also be a bare name, and the
   tail of the last segment a province ("Quận 1 TP HCM").
2. Province: the province cell wins; else the rightmost province named in the address; else a
   district or ward name that exists in one province only. An old province (Trà Vinh, Bình
   Dương) gives its 2025 province and narrows the search to its old territory.
3. Ward: the rightmost old district (in that territory) and the ward named to its left are
   looked up in the old units and mapped to 2025; without a district, the ward name is looked
   up among 2025 wards and old wards of the province, preferring the written accents and type
   word. An old ward divided between several 2025 wards gives no ward (province level).

Names: ``Place.province`` and ``Place.ward`` are the full official names as in the package
("Thành phố Hà Nội", "Tỉnh Vĩnh Long", "Phường Hồng Hà"); ``reference_rows()['provinces']``
also carries the short name ("Hà Nội").

Known limitations:

* Without a district, an old ward name that a different 2025 ward now bears (same province) is
  read as the 2025 ward, unless the address is marked as pre-2025 (an old province name, "thị
  trấn"). Written "ward, province" for all 10,035 old wards, ~1.5% land on the wrong ward.
* A bare name that is also an old district ("Ba Đình, Hà Nội") is read as the district: the
  province level, not the 2025 ward of that name.
* Old wards divided between 2025 wards (~4.7%) and wards whose name differs only by accents in
  an unaccented address stay at the province level. Street-level disambiguation is not tried.
* Several addresses in one cell: the rightmost one is used.
* Coordinates are geocoder centroids (from the package), not official ones.
"""
from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

from vn.fold import fold
from vn.units import AdminUnits, accent_key, admin_units, norm_token

__all__ = ["Place", "EMPTY", "VN_LAT", "VN_LON", "in_vietnam", "locate"]


class Place(NamedTuple):
    """Where an address is, on the 2025 map. All fields are None when nothing was found."""
    province_code: str | None = None   # 2025 province code, 2 digits ("01")
    province: str | None = None        # full official 2025 name ("Thành phố Hà Nội")
    ward_code: str | None = None       # 2025 ward code, 5 digits ("00097")
    ward: str | None = None            # full official 2025 name ("Phường Hồng Hà")
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: str | None = None   # 'point' | 'ward' | 'district' | 'province' | None


EMPTY = Place()

# A generous box around Vietnam's land territory and its islands: Lũng Cú (23.39 N) to the
# southern Spratly features (~7.9 N), A Pa Chải (102.14 E) to the eastern Spratlys (~114.5 E).
# It also covers parts of neighbouring countries and the sea: it is a sanity check that rejects
# points that are plainly elsewhere (foreign addresses, swapped lat/lon, 0,0), not a border test.
VN_LAT = (7.5, 23.5)
VN_LON = (102.0, 117.5)


def in_vietnam(lat, lon) -> bool:
    """True when (lat, lon) are finite numbers inside Vietnam's bounding box (see VN_LAT/VN_LON)."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return VN_LAT[0] <= lat <= VN_LAT[1] and VN_LON[0] <= lon <= VN_LON[1]


# --------------------------------------------------------------------------- tokenising

# Administrative type words in front of a name: (folded tokens, accented form or None for an
# abbreviation, class, canonical type). A word written with diacritics must carry the right ones
# ("Phương Mai" is a name, "phường Mai" is not); written without any it counts as the type word,
# except "xa" in a text that has diacritics elsewhere, so that "Xa La" (a place) is not "xã La".
_PREFIXES = [
    (("thi", "tran"), "thị trấn", "ward", "Thị trấn"),
    (("dac", "khu"), "đặc khu", "ward", "Đặc khu"),
    (("thi", "xa"), "thị xã", "district", "Thị xã"),
    (("thanh", "pho"), "thành phố", "city", "Thành phố"),
    (("phuong",), "phường", "ward", "Phường"),
    (("xa",), "xã", "ward", "Xã"),
    (("p",), None, "ward", "Phường"),
    (("tt",), None, "ward", "Thị trấn"),
    (("x",), None, "ward", "Xã"),
    (("quan",), "quận", "district", "Quận"),
    (("huyen",), "huyện", "district", "Huyện"),
    (("q",), None, "district", "Quận"),
    (("h",), None, "district", "Huyện"),
    (("tx",), None, "district", "Thị xã"),
    (("tp",), None, "city", "Thành phố"),
    (("tinh",), "tỉnh", "province", "Tỉnh"),
]
_PREFIX_BY_FIRST = defaultdict(list)
for _p in _PREFIXES:
    _PREFIX_BY_FIRST[_p[0][0]].append(_p)

_SEGMENT_SPLIT = re.compile(r"[,;:()\[\]{}\n\r\t|]+")
_OLD_MARK = re.compile(r"\(\s*(?:cũ|cu)\s*\)")
_DASH = re.compile(r"\s[-–—]|[-–—]\s|[–—]")
_TOKEN = re.compile(r"\w+")
_GLUED = re.compile(r"^(p|q|phuong|quan)(\d{1,2})$")   # "P5", "Q10", "phuong12"
_MAX_TOKENS = 8


class _Seg(NamedTuple):
    fold: list
    acc: list
    bounds: frozenset       # token indices where a sub-segment starts or ends (dashes, ends)
    old: bool = False       # followed by "(cũ)": a pre-2025 unit named in a post-2025 address


def _segments(text: str) -> tuple[list, bool]:
    text = unicodedata.normalize("NFC", text).lower().replace("\x01", " ")
    plain = text.isascii()
    text = _OLD_MARK.sub(",\x01,", text)
    segs = []
    for part in _SEGMENT_SPLIT.split(text):
        if part.strip() == "\x01":
            if segs:
                segs[-1] = segs[-1]._replace(old=True)
            continue
        fl, ac, bounds = [], [], {0}
        for piece in _DASH.split(part):
            for tok in _TOKEN.findall(piece.replace("_", " ")):
                f = fold(tok)
                m = _GLUED.match(f)
                if m:
                    fl += [m.group(1), norm_token(m.group(2))]
                    ac += [tok[:len(m.group(1))], m.group(2)]
                else:
                    fl.append(norm_token(f))
                    ac.append(tok)
            bounds.add(len(fl))
        old = len(ac) > 1 and ac[-1] == "cũ"        # "quận Hồng Bàng cũ"
        if old:
            del fl[-1], ac[-1]
            bounds = {min(b, len(fl)) for b in bounds}
        if fl:
            segs.append(_Seg(fl, ac, frozenset(bounds), old))
    return segs, plain


class _Mention(NamedTuple):
    cls: str          # typed: 'ward' | 'district' | 'city' | 'province'; bare: 'bare' | 'suffix'
    type: str | None  # canonical type word for typed mentions
    key: str          # folded name key
    acc: str          # the name as written, lower case
    pos: tuple        # (segment index, start token) for ordering
    end: tuple
    old: bool = False  # the segment is marked "(cũ)"


def _mentions(text: str, units) -> tuple[list, bool]:
    """Typed mentions ("phường X", "Q.1", "TP HCM") and bare names (whole segments, and the
    tail of the last segment) whose keys are known names."""
    segs, plain = _segments(text)
    lex_keys, prov_keys = units.all_keys, units.prov_lex
    out = []
    last = len(segs) - 1
    for si, seg in enumerate(segs):
        fl, ac, n = seg.fold, seg.acc, len(seg.fold)
        covered = [False] * n
        i = 0
        while i < n:
            hit = None
            for toks, accented, cls, typ in _PREFIX_BY_FIRST.get(fl[i], ()):
                k = len(toks)
                if tuple(fl[i:i + k]) != toks or i + k >= n:
                    continue
                if accented is not None and not plain:
                    written = " ".join(ac[i:i + k])
                    if written != accented and (not written.isascii() or toks == ("xa",)):
                        continue
                j0 = i + k
                for L in range(min(_MAX_TOKENS, n - j0), 0, -1):
                    key = "".join(fl[j0:j0 + L])
                    if key in lex_keys:
                        hit = _Mention(cls, typ, key, " ".join(ac[j0:j0 + L]), (si, i), (si, j0 + L), seg.old)
                        break
                if hit:
                    break
            if hit:
                out.append(hit)
                for t in range(i, hit.end[1]):
                    covered[t] = True
                i = hit.end[1]
            else:
                i += 1
        # Bare names: a whole segment or dash-separated part of one ("Hoài Đức", "Cam Ly - Đà Lạt").
        bounds = sorted(seg.bounds)
        bare = []
        for ia, a in enumerate(bounds):
            for b in reversed(bounds[ia + 1:bisect_right(bounds, a + _MAX_TOKENS)]):
                if any(covered[a:b]):
                    continue
                if any(x.pos[1] <= a and b <= x.end[1] for x in bare):
                    continue      # inside a longer bare name already found
                key = "".join(fl[a:b])
                if key in lex_keys:
                    bare.append(_Mention("bare", None, key, " ".join(ac[a:b]), (si, a), (si, b), seg.old))
        out += bare
        # The tail of the last segment may be a province ("Quận 1 TP HCM" has no comma).
        if si == last:
            for a in range(max(0, n - _MAX_TOKENS), n):
                if any(covered[a:]) or a in seg.bounds:
                    continue
                key = "".join(fl[a:])
                if key in prov_keys:
                    out.append(_Mention("suffix", None, key, " ".join(ac[a:]), (si, a), (si, n)))
                    break
    out.sort(key=lambda m: (m.end, m.pos))
    return out, plain


# --------------------------------------------------------------------------- resolution

def _prefer(cands, m, type_of, acc_of, plain):
    """Among same-named candidates keep those with the written type word, then the written accents."""
    if len(cands) > 1 and m.type:
        same = [c for c in cands if type_of(c) == m.type]
        cands = same or cands
    if len(cands) > 1 and not plain:
        macc = accent_key(m.acc)
        same = [c for c in cands if acc_of(c) == macc]
        cands = same or cands
    return cands


def _is_province_mention(units, m):
    return m.key in units.prov_lex and (
        m.cls in ("province", "suffix", "bare") or (m.cls == "city" and m.key in units.city_keys))


def _province_of(units: AdminUnits, mentions):
    """(2025 code, {old province keys} or None, mention) of the rightmost province mention."""
    for m in reversed(mentions):
        if _is_province_mention(units, m):
            cands = units.prov_lex[m.key]
            codes = {c for c, _ in cands}
            if len(codes) == 1:
                old_provinces = {o for _, o in cands if o}
                return next(iter(codes)), (old_provinces or None), m
    return None, None, None


def _choose(units: AdminUnits, m, new, old, old_style: bool, plain: bool):
    """The 2025 ward a ward mention stands for, from 2025 candidates (codes) and pre-2025 ones
    (keys). Candidates score on the written accents, the written type word and the era the
    address seems to be written in; the best ones must agree on one 2025 ward, and an old ward
    that was divided between several 2025 wards gives no ward."""
    macc = accent_key(m.acc)
    scored = []
    for w in new:
        c = units.wards[w]
        scored.append((4 * (plain or c["acc"] == macc) + 2 * (m.type is None or c["type"] == m.type)
                       + (not old_style), True, w))
    for w in old:
        c = units.old_wards[w]
        scored.append((4 * (plain or c["acc"] == macc) + 2 * (m.type is None or c["type"] == m.type)
                       + old_style, False, w))
    if not scored:
        return None
    top = max(s for s, _, _ in scored)
    targets = set()
    for s, is_new, w in scored:
        if s != top:
            continue
        if is_new:
            targets.add(w)
        elif units.old_wards[w]["divided"]:
            return None
        else:
            targets.update(units.old_wards[w]["targets"])
    return next(iter(targets)) if len(targets) == 1 else None


def _national(units: AdminUnits, mentions, plain: bool):
    """Province from a district or ward named without a province, when the name is unique."""
    allowed = None          # provinces an ambiguous district name leaves open
    for m in reversed(mentions):
        if m.cls in ("district", "city") and m.key in units.dist_lex and m.key not in units.city_keys:
            # no preference on the type word here: "huyện" became "thị xã" or "thành phố" over time
            cands = _prefer(units.dist_lex[m.key], m._replace(type=None), None,
                            lambda d: units.old_districts[d]["acc"], plain)
            codes = {units.old_provinces[pk]["new"] for pk, _ in cands}
            if len(codes) == 1:
                return next(iter(codes)), {pk for pk, _ in cands}
            allowed = codes
            break
    for m in reversed(mentions):
        if m.cls != "ward":
            continue
        # The name may be a 2025 ward or a pre-2025 one: the province counts only when
        # every reading agrees ("xã Hưng Lộc" is a 2025 commune in Huế and was one in Đồng Nai).
        news = old_provinces = ()
        if m.key in units.new_ward_nat:
            news = _prefer(units.new_ward_nat[m.key], m, lambda w: units.wards[w]["type"],
                           lambda w: units.wards[w]["acc"], plain)
        if m.key in units.old_ward_nat:
            old_provinces = _prefer(units.old_ward_nat[m.key], m, lambda w: units.old_wards[w]["type"],
                           lambda w: units.old_wards[w]["acc"], plain)
        readings = [(units.wards[w]["province"], None) for w in news] \
            + [(units.old_provinces[w[0]]["new"], w[0]) for w in old_provinces]
        if allowed is not None:
            readings = [r for r in readings if r[0] in allowed]
        codes = {c for c, _ in readings}
        if len(codes) == 1:
            old_keys = {o for _, o in readings}
            return next(iter(codes)), (old_keys if None not in old_keys else None)
        if readings:
            return None, None
    return None, None


def _usable(units: AdminUnits, mentions, skip):
    return [m for m in mentions if m is not skip and m.cls not in ("province", "suffix")
            and not (m.cls == "city" and m.key in units.city_keys)]


def _district_of(units: AdminUnits, old_provinces: set, usable, plain: bool):
    """(candidate old districts, position, marked "(cũ)") of the rightmost pre-2025 district in one
    of the candidate old provinces, or (None, None, False)."""
    for m in reversed(usable):
        if m.cls in ("district", "city", "bare") and m.key in units.dist_lex:
            cands = [d for d in units.dist_lex[m.key] if d[0] in old_provinces]
            if cands:
                return _prefer(cands, m, lambda d: units.old_districts[d]["type"],
                               lambda d: units.old_districts[d]["acc"], plain), m.pos, m.old, m
    return None, None, False, None


def _ward_of(units: AdminUnits, province_code: str, old_provinces: set, mentions, skip, old_style: bool, plain: bool):
    """The 2025 ward named by the address, or None."""
    usable = _usable(units, mentions, skip)
    # The rightmost pre-2025 district in one of the candidate old provinces.
    district, dpos, dold, _m = _district_of(units, old_provinces, usable, plain)
    new_lex = units.new_ward_lex[province_code]
    for m in reversed(usable):
        if m.cls not in ("ward", "bare") or (dpos is not None and m.pos >= dpos):
            continue
        new = new_lex.get(m.key, ())
        if district:
            old = [(pk, dk, wk) for pk, dk in district for wk in units.old_ward_lex[(pk, dk)].get(m.key, ())]
            if m.cls == "bare":
                new = ()      # next to an old district, a bare name that is no ward of it is a street
            if dold:
                # "phường Long Biên, quận Long Biên (cũ)" is written after 2025: a 2025 ward of that
                # name is meant, provided the old ward of that name went (at least partly) into it.
                new = [w for w in new if not old or any(w in units.old_wards[o]["targets"] for o in old)]
                if new:
                    return _choose(units, m, new, (), False, plain)
            if old or new:
                return _choose(units, m, new, old, True, plain)
            continue
        old = [w for w in units.old_ward_nat.get(m.key, ()) if w[0] in old_provinces]
        if new or old:
            return _choose(units, m, new, old, old_style or m.type == "Thị trấn", plain)
    if district:
        # e.g. an island district that became one special zone
        targets = {units.dist_target.get(d) for d in district}
        if len(targets) == 1:
            return next(iter(targets))
    return None


@lru_cache(maxsize=4096)
def _province_cell(province: str) -> tuple:
    """(2025 code, frozenset of old province keys or None) named by a province cell: the few
    distinct cells ("Hà Nội", "TP HCM") are read once, not once per address."""
    province_code, old_provinces, _ = _province_of(admin_units(), _mentions(province, admin_units())[0])
    return province_code, (frozenset(old_provinces) if old_provinces else old_provinces)


@lru_cache(maxsize=200_000)
def _locate_text(address: str | None, province: str | None) -> tuple:
    """(province code, ward code, old district key or None) for an address and a province cell: the
    district only when no ward was found and the address names exactly one pre-2025 district."""
    units = admin_units()
    mentions, plain = _mentions(address, units) if address else ([], True)
    province_code, old_provinces, province_mention = None, None, None
    if province:
        province_code, old_provinces = _province_cell(province)
        old_provinces = set(old_provinces) if old_provinces else old_provinces
    address_province_code, address_old_provinces, province_mention = _province_of(units, mentions)
    if province_code is None:
        province_code, old_provinces = address_province_code, address_old_provinces
    elif address_province_code == province_code and address_old_provinces:
        old_provinces = address_old_provinces          # the address names the old province more precisely
    national = province_code is None
    if province_code is None:
        province_code, old_provinces = _national(units, mentions, plain)
        province_mention = None
    if province_code is None:
        return None, None, None
    # A pre-2025 province name ("Trà Vinh", "Bình Dương") means a pre-2025 address.
    old_style = bool(old_provinces)
    old_provinces = (old_provinces & units.old_provs_of[province_code]) if old_provinces else set()
    old_provinces = old_provinces or units.old_provs_of[province_code]
    ward_code = _ward_of(units, province_code, old_provinces, mentions, province_mention, old_style, plain)
    if ward_code is not None and units.wards[ward_code]["province"] != province_code:
        ward_code = None
    district = None
    if ward_code is None:
        cands, _pos, _old, m = _district_of(units, old_provinces, _usable(units, mentions, province_mention), plain)
        # A bare name ("Hoài Đức") is a district only beside a named province; a bare number never.
        typed = m is not None and m.cls != "bare"
        if cands and len(cands) == 1 and units.district_centre(cands[0])[2] == province_code and (
                typed or (not national and not m.key.isdigit())):
            district = cands[0]
    return province_code, ward_code, district


def _clean(value):
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value[:2000] or None


def locate(address: str | None, province: str | None = None, latitude=None, longitude=None) -> Place:
    """The 2025 place of an address.

    ``address`` as published (pre- or post-2025 names, "(cũ)" marks); ``province`` a separate
    province cell ("TP HCM", "Trà Vinh", ...), which takes precedence over a province read
    from the address. ``latitude``/``longitude`` are used ('point') only when inside Vietnam;
    otherwise the ward centroid ('ward'); for an address naming a pre-2025 district but no ward that
    can be placed, the centre of the 2025 wards its old wards went into ('district': the mean of
    their centroids, as ``ward_aliases`` and ``wards`` give them); else the province centroid
    ('province'). Never raises.
    """
    units = admin_units()            # a missing package is an error worth raising
    try:
        province_code, ward_code, district = _locate_text(_clean(address), _clean(province))
    except Exception:      # arbitrary text must never break a build
        province_code, ward_code, district = None, None, None
    p = units.provinces[province_code] if province_code else None
    w = units.wards[ward_code] if ward_code else None
    if latitude is not None and longitude is not None and in_vietnam(latitude, longitude):
        lat, lon, precision = float(latitude), float(longitude), "point"
    elif w:
        lat, lon, precision = w["lat"], w["lon"], "ward"
    elif district:
        lat, lon, _pc = units.district_centre(district)
        precision = "district"
    elif p:
        lat, lon, precision = p["lat"], p["lon"], "province"
    else:
        lat = lon = precision = None
    return Place(province_code, p["name"] if p else None, ward_code, w["name"] if w else None, lat, lon, precision)
