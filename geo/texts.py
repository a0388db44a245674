"""Engine messages in English and Swedish: message codes with parameters, rendered by templates.

The engine writes every reason and note twice: as English text (CLI, logs, manifest) and as a
message, a JSON-ready dict ``{"code": "no_network", "mode": "walk", ...}``. :func:`render` turns a
message into text in ``en`` or ``sv``; the English rendering is the engine's text, byte for byte.

Composite messages: ``{"code": "join", "parts": [msg, ...]}`` (parts joined with ``"; "``), and
``{"code": "text", "text": "..."}`` for free text from data (the same in every language).

Template fields are formatted by language: numbers get ``1 720`` and ``41,7`` in Swedish, and the
format specs below translate parameters:

``kinds``
    a list of feature kinds (``bus_stop`` -> "bus stop" / "busshållplats");
``keys``
    the same, shown raw in English (``bus_stop``);
``layer``
    a layer key (English: the key, Swedish: the layer's title);
``net`` / ``netdef``
    a network name (English: the key; Swedish: "gångnät" / "gångnätet");
``mode``
    a travel mode (English: the key; Swedish: "med cykel");
``semi``
    a list joined with ``"; "``;
``depclasses``
    ``[[min departures per hour, factor], ...]``;
``dist``
    metres as "640 m" / "1.4 km" (:func:`fmt_distance`);
``travel``
    a travel mode as "on foot" / "till fots";
``place``
    ``[name, kind]``: the name, or the kind's name when unnamed.
``band``
    a score band key of :data:`geo.scoring.BANDS` (:data:`BAND_NAMES`);
``ptype`` / ``ptype1`` / ``ptypes``
    a place type (:data:`PLACE_TYPE_NAMES`): label, singular noun, plural noun.

This module is pure: no streamlit, no I/O.

Examples
--------
>>> msg = {"code": "no_network", "mode": "walk", "network": "walk", "factor": 1.3}
>>> render(msg, "en")
'no walk network loaded: straight-line distance x 1.3 (approximate)'
>>> render(msg, "sv")
'inget gångnät inläst: fågelvägen x 1,3 (ungefärligt)'
>>> fmt_number(1720, "sv"), fmt_number(41.66, "sv", 1), fmt_number(1720, "en")
('1 720', '41,7', '1,720')
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "BAND_NAMES",
    "KIND_NAMES_SV",
    "PLACE_TYPE_NAMES",
    "TEMPLATES",
    "band_name",
    "fmt_distance",
    "fmt_number",
    "fmt_spec",
    "fmt_value",
    "join",
    "kind_name",
    "messages",
    "parse_reason",
    "place_type_name",
    "render",
    "render_or",
    "text",
]

Msg = Mapping[str, Any]

#: code -> (English template, Swedish template)
TEMPLATES: dict[str, tuple[str, str]] = {
    # amenity selection (geo.access.select_amenities)
    "areas_too_small": ("{n} areas under {min_ha:g} ha left out",
                        "{n} områden under {min_ha:g} ha utelämnade"),
    "point_features": ("{n} features are points (area unknown) and count",
                       "{n} objekt är punkter (okänd yta) och räknas"),
    # distances (geo.access.DistanceEngine)
    "network_fallback": ("{mode} distances along the {network} network",
                         "avstånd {mode:mode} längs {network:netdef}"),
    "no_network": ("no {network} network loaded: straight-line distance x {factor} (approximate)",
                   "inget {network:net} inläst: fågelvägen x {factor} (ungefärligt)"),
    # statistics (geo.access.compute_indicator)
    "stat_table_missing": ("statistics table {table!r} not loaded",
                           "statistiktabellen {table!r} är inte inläst"),
    "stat_no_values": ("table {table!r} has no usable values in column {column!r}",
                       "tabellen {table!r} har inga användbara värden i kolumnen {column!r}"),
    "stat_no_municipalities": ("table {table!r} has no value for these municipalities",
                               "tabellen {table!r} har inget värde för dessa kommuner"),
    "stat_standardised": (
        "standardised across {n} municipalities (mean {mean:.4g}, range {lo:g}-{hi:g}): "
        "50 = average, ±{points:g} per standard deviation",
        "standardiserat över {n} kommuner (medel {mean:,.4g}, spann {lo:,g}–{hi:,g}): "
        "50 = genomsnittet, ±{points:g} per standardavvikelse"),
    "column_used": ("column {column!r} used", "kolumnen {column!r} används"),
    # municipal statistics against the country (geo.access.StatReference, geo.context)
    "stat_national": (
        "standardised against all {n} municipalities in the table (national median {median:,.4g}): "
        "50 = the average municipality, ±{points:g} per standard deviation",
        "standardiserat mot alla {n} kommuner i tabellen (riksmedian {median:,.4g}): "
        "50 = genomsnittskommunen, ±{points:g} per standardavvikelse"),
    "stat_national_log": (
        "standardised on a log scale (skewed values) against all {n} municipalities in the table "
        "(national median {median:,.4g}): 50 = the geometric mean, ±{points:g} per standard "
        "deviation",
        "standardiserat på logaritmisk skala (sneda värden) mot alla {n} kommuner i tabellen "
        "(riksmedian {median:,.4g}): 50 = det geometriska medelvärdet, ±{points:g} per "
        "standardavvikelse"),
    "stat_no_value_for": ("no value for {municipalities:list} in {table}",
                          "inget värde för {municipalities:list} i {table}"),
    "stat_county_only": ("compared within {region} only: no national table in the pack",
                         "jämfört bara inom {region}: ingen rikstäckande tabell i paketet"),
    "stat_table_only": ("compared within the {n} municipalities of the table only: no national "
                        "table in the pack",
                        "jämfört bara inom tabellens {n} kommuner: ingen rikstäckande tabell i "
                        "paketet"),
    "national_median": ("national median {median}", "riksmedian {median}"),
    "licence_unclear": ("licence unclear", "oklar licens"),
    "context_group": ("{n} of the {total} municipalities are in this group",
                      "{n} av de {total} kommunerna hör till gruppen"),
    "context_header": ("Municipal context, {municipality} (one value for every place in the "
                       "municipality; national median in brackets):",
                       "Kommunfakta, {municipality} (ett värde för alla platser i kommunen; "
                       "riksmedian inom parentes):"),
    "stat_share": ("municipal statistics: {share:.0%} of the composite (capped at {cap:.0%}; they "
                   "do not tell places inside one municipality apart)",
                   "kommunstatistik: {share:.0%} av det sammanvägda betyget (högst {cap:.0%}; den "
                   "skiljer inte platser inom en kommun åt)"),
    # missing amenities (geo.access.compute_indicator)
    "layer_not_loaded": ("no {kinds:kinds}: the {layer} layer is not loaded",
                         "{kinds:kinds} saknas: lagret {layer:layer} är inte inläst"),
    "kinds_absent": ("no {kinds:kinds} among the {n} {layer} features (kinds: {present:keys})",
                     "{kinds:kinds} saknas bland de {n} objekten i lagret {layer:layer} "
                     "(typer: {present:keys})"),
    "kinds_absent_area": ("no {kinds:kinds} among the {n} {layer} features (kinds: {present:keys}) "
                          "of at least {min_ha:g} ha",
                          "{kinds:kinds} på minst {min_ha:g} ha saknas bland de {n} objekten i "
                          "lagret {layer:layer} (typer: {present:keys})"),
    "departures_weighted": ("weighted by departures per hour ({classes:depclasses})",
                            "viktat efter avgångar per timme ({classes:depclasses})"),
    # scoring (geo.scoring)
    "no_value_here": ("no value for this place", "inget värde för den här platsen"),
    # explanations from a locality's cells, partial data (geo.scoring.explain)
    "nearest_median": (
        "nearest: {place:place}, nearest for {pct:.0f}% of residents; "
        "median resident {dist:dist} {mode:travel}",
        "närmast: {place:place}, närmast för {pct:.0f} % av invånarna; "
        "medianinvånaren {dist:dist} {mode:travel}"),
    "nearest_known_median": (
        "nearest known: {place:place}, nearest for {pct:.0f}% of residents; "
        "median resident {dist:dist} {mode:travel}",
        "närmaste kända: {place:place}, närmast av de kända för {pct:.0f} % av invånarna; "
        "medianinvånaren {dist:dist} {mode:travel}"),
    "nearest_also": ("for {pct:.0f}% of residents: {place:place}, median {dist:dist}",
                     "för {pct:.0f} % av invånarna: {place:place}, median {dist:dist}"),
    "nearest_point": ("nearest: {place:place}, {dist:dist} {mode:travel}",
                      "närmast: {place:place}, {dist:dist} {mode:travel}"),
    "nearest_known_point": ("nearest known: {place:place}, {dist:dist} {mode:travel}",
                            "närmaste kända: {place:place}, {dist:dist} {mode:travel}"),
    "no_known_within": ("no known {kinds:kinds} within {dist:dist} {mode:travel}",
                        "närmaste kända {kinds:kinds} ligger över {dist:dist} bort {mode:travel}"),
    "none_in_reach": ("none within reach", "ingen inom räckhåll"),
    "partial_gap": ("{kinds:kinds} list incomplete: {gaps:semi} missing",
                    "{kinds:kinds}: listan är ofullständig, {gaps:semi} saknas"),
    "partial_generic": ("list incomplete (source marked partial)",
                        "listan är ofullständig (källan är markerad som ofullständig)"),
    "complete_share": ("{pct:.0f}% of this score rests on complete data",
                       "{pct:.0f} % av betyget vilar på fullständiga data"),
    # what a score means (geo.scoring.explain)
    "score_meaning": ("{score:.0f}, {band:band}; better than {pct_region:.0f}% of the places in "
                      "{region} and {pct_type:.0f}% of its {place_type:ptypes}",
                      "{score:.0f}, {band:band}; bättre än {pct_region:.0f} % av orterna i "
                      "{region} och {pct_type:.0f} % av dess {place_type:ptypes}"),
    "score_meaning_sole": ("{score:.0f}, {band:band}; better than {pct_region:.0f}% of the places "
                           "in {region}; its only {place_type:ptype1}",
                           "{score:.0f}, {band:band}; bättre än {pct_region:.0f} % av orterna i "
                           "{region}; dess enda {place_type:ptype1}"),
    "score_band": ("{score:.0f}, {band:band} ({place_type:ptype})",
                   "{score:.0f}, {band:band} ({place_type:ptype})"),
    # layer coverage (geo.build.layer_coverage, geo.store)
    "layer_no_source": ("no source provided data for this layer ({what:kinds})",
                        "ingen källa gav data för det här lagret ({what:kinds})"),
    "layer_no_data": ("no source provided data for this layer",
                      "ingen källa gav data för det här lagret"),
    "layer_absent_kinds": ("no {kinds:keys}", "{kinds:keys} saknas"),
    "layer_partial_sources": ("partial source: {sources:semi}",
                              "ofullständig källa: {sources:semi}"),
    "layer_not_in_snapshot": ("not in this snapshot", "finns inte i den här ögonblicksbilden"),
}

#: Swedish names of feature kinds (the ``kind`` column); unknown kinds show with spaces.
KIND_NAMES_SV: dict[str, str] = {
    "apartments": "flerbostadshus", "house": "småhus", "residential_area": "bostadsområde",
    "residential_building": "bostadshus", "bathing_place": "badplats",
    "biosphere_area": "biosfärområde", "bus_stop": "busshållplats", "clinic": "vårdcentral",
    "college": "gymnasieskola", "commercial": "verksamhetsområde", "dentist": "tandvård",
    "grocery": "livsmedelsbutik", "hospital": "sjukhus", "industrial": "industriområde",
    "kindergarten": "förskola", "library": "bibliotek", "natural_monument": "naturminne",
    "nature_reserve": "naturreservat", "office": "kontor", "park": "park",
    "pharmacy": "apotek", "rail_station": "järnvägsstation", "retail": "handelsområde",
    "school": "skola", "sports": "idrottsanläggning", "university": "universitet",
    "venue": "teater/bio/museum", "facility": "anläggning", "alcohol_shop": "Systembolaget",
    "recycling": "återvinningsstation", "church": "kyrka",
}

#: Score band key (:data:`geo.scoring.BANDS`) -> (English, Swedish) words.
BAND_NAMES: dict[str, tuple[str, str]] = {
    "on_foot": ("most errands on foot", "de flesta ärenden till fots"),
    "foot_or_bike": ("many errands on foot or by bike", "många ärenden till fots eller med cykel"),
    "bike_or_bus": ("some errands on foot, others by bike or bus",
                    "vissa ärenden till fots, andra med cykel eller buss"),
    "car_useful": ("a car is useful for most errands", "bil är till nytta för de flesta ärenden"),
    "car_needed": ("a car is needed for most errands", "bil behövs för de flesta ärenden"),
}
#: Place type (:mod:`geo.placetypes`) -> language -> (label, singular noun, plural noun).
PLACE_TYPE_NAMES: dict[str, dict[str, tuple[str, str, str]]] = {
    "town": {"en": ("town", "town", "towns"), "sv": ("stad", "stad", "städer")},
    "small_town": {"en": ("small town", "small town", "small towns"),
                   "sv": ("mindre tätort", "mindre tätort", "mindre tätorter")},
    "village": {"en": ("village", "village", "villages"), "sv": ("by", "by", "byar")},
    "countryside": {"en": ("countryside", "countryside place", "countryside places"),
                    "sv": ("landsbygd", "landsbygdsplats", "landsbygdsplatser")},
    "archipelago": {"en": ("archipelago", "archipelago place", "archipelago places"),
                    "sv": ("skärgård", "skärgårdsort", "skärgårdsorter")},
}
_PT_FORMS = {"label": 0, "one": 1, "many": 2}


def band_name(key: str | None, lang: str = "en") -> str:
    """Words of a score band (``car_useful`` -> "a car is useful for most errands"); "" for None."""
    if not key:
        return ""
    en, sv = BAND_NAMES[str(key)]
    return sv if lang == "sv" else en


def place_type_name(key: str | None, lang: str = "en", form: str = "label") -> str:
    """Name of a place type: ``form`` ``label`` (small town), ``one`` or ``many`` (small towns).

    Unknown types show with spaces.
    """
    names = PLACE_TYPE_NAMES.get(str(key))
    if names is None:
        return str(key or "").replace("_", " ")
    return names["sv" if lang == "sv" else "en"][_PT_FORMS[form]]
_NET_SV = {"walk": ("gångnät", "gångnätet"), "bike": ("cykelnät", "cykelnätet"),
           "drive": ("bilvägnät", "bilvägnätet"), "car": ("bilvägnät", "bilvägnätet")}
_MODE_SV = {"walk": "till fots", "bike": "med cykel", "car": "med bil"}
_MODE_EN = {"walk": "on foot", "bike": "by bike", "car": "by car"}


def kind_name(kind: str, lang: str = "en") -> str:
    """Readable name of a feature kind (``bus_stop`` -> "bus stop" / "busshållplats")."""
    if lang == "sv" and kind in KIND_NAMES_SV:
        return KIND_NAMES_SV[kind]
    return str(kind).replace("_", " ")


def _sv_digits(s: str) -> str:
    """``1,720.5`` -> ``1 720,5`` (Swedish separators)."""
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", " ")


def fmt_number(x: float, lang: str = "en", decimals: int = 0, *, grouping: bool = True) -> str:
    """A number with ``decimals`` digits for a reader of ``lang``: ``1,720.5`` or ``1 720,5``.

    NaN and infinities give ``"-"``.
    """
    xf = float(x)
    if xf != xf or xf in (float("inf"), float("-inf")):
        return "-"
    s = format(xf, f"{',' if grouping else ''}.{int(decimals)}f")
    return _sv_digits(s) if lang == "sv" else s


def fmt_spec(x: float, spec: str, lang: str = "en") -> str:
    """``format(x, spec)`` with Swedish separators for ``sv`` (``nan`` stays ``nan``).

    >>> fmt_spec(1167.5, ",.1f", "sv"), fmt_spec(1167.5, ",.1f", "en")
    ('1 167,5', '1,167.5')
    """
    s = format(x, spec)
    return _sv_digits(s) if lang == "sv" else s


#: unit code -> (English suffix, Swedish suffix) of a municipal statistic (see :func:`fmt_value`)
UNIT_SUFFIXES: dict[str, tuple[str, str]] = {
    "percent": ("%", " %"), "pct_change": ("%", " %"), "sek_m2_year": (" SEK/m²/yr", " kr/m²/år"),
    "per_100k": (" per 100,000 inhabitants", " per 100 000 invånare"),
    "persons": (" inhabitants", " invånare"),
    "per_1000": (" per 1,000 inhabitants", " per 1 000 invånare"), "ksek": (" kSEK", " tkr"),
    "msek": (" MSEK", " mnkr"),
}


def fmt_value(x: float, unit: str, lang: str = "en") -> str:
    """A municipal statistic with its unit for a reader of ``lang``.

    ``percent``: up to two decimals; ``pct_change``: signed, one decimal; ``ksek``: thousand SEK,
    shown in MSEK from 1,000; ``per_1000``: one decimal; ``sek_m2_year``, ``per_100k``,
    ``persons``: whole numbers. NaN: "-".

    >>> fmt_value(33.69, "percent"), fmt_value(3018.0, "ksek", "sv"), fmt_value(-2.68, "pct_change")
    ('33.69%', '3,0 mnkr', '-2.7%')
    """
    xf = float(x)
    if xf != xf:
        return "-"
    sv = lang == "sv"
    if unit == "ksek" and abs(xf) >= 1000:
        xf, unit = xf / 1000, "msek"
    if unit == "percent":
        body = f"{xf:.2f}".rstrip("0").rstrip(".")
    elif unit == "pct_change":
        body = f"{xf:+.1f}"
    elif unit in ("msek", "per_1000"):
        body = f"{xf:.1f}"
    elif unit in ("ksek", "sek_m2_year", "per_100k", "persons"):
        body = f"{xf:,.0f}"
    else:
        body = f"{xf:,.4g}"
    body = _sv_digits(body) if sv else body
    return body + UNIT_SUFFIXES.get(unit, ("", ""))[1 if sv else 0]


def _layer_title(key: str, lang: str) -> str:
    if lang != "sv":
        return str(key)
    from .catalog import layer_title

    return layer_title(str(key), "sv")


def _dep_classes(value: Any, lang: str) -> str:
    parts = []
    for m, f in value:
        p = f">={m:g}/h x{f:g}"
        parts.append(_sv_digits(p).replace(">=", "≥") if lang == "sv" else p)
    return ", ".join(parts)


def fmt_distance(m: float, lang: str = "en") -> str:
    """Metres for a reader: ``640 m``, ``1.4 km`` (``1,4 km`` in Swedish), ``40 km``."""
    if float(m) < 1000:
        return f"{float(m):.0f} m"
    km = fmt_spec(float(m) / 1000, ".1f", lang)
    return (km[:-2] if km.endswith((".0", ",0")) else km) + " km"


def _place(value: Any, lang: str) -> str:
    """``[name, kind]``: the name, or the kind's name for an unnamed amenity."""
    name, kind = value
    return str(name) if name else kind_name(str(kind), lang)


_SPECS: dict[str, Callable[[Any, str], str]] = {
    "dist": lambda v, lang: fmt_distance(v, lang),
    "travel": lambda v, lang: (_MODE_SV if lang == "sv" else _MODE_EN).get(v, str(v)),
    "place": _place,
    "kinds": lambda v, lang: ", ".join(kind_name(k, lang) for k in v),
    "keys": lambda v, lang: ", ".join(kind_name(k, "sv") if lang == "sv" else str(k) for k in v),
    "layer": lambda v, lang: _layer_title(v, lang),
    "net": lambda v, lang: _NET_SV.get(v, (str(v),))[0] if lang == "sv" else str(v),
    "netdef": lambda v, lang: _NET_SV.get(v, (str(v), str(v)))[1] if lang == "sv" else str(v),
    "mode": lambda v, lang: _MODE_SV.get(v, str(v)) if lang == "sv" else str(v),
    "semi": lambda v, lang: "; ".join(str(x) for x in v),
    "list": lambda v, lang: ", ".join(str(x) for x in v),
    "depclasses": _dep_classes,
    "band": lambda v, lang: band_name(v, lang),
    "ptype": lambda v, lang: place_type_name(v, lang),
    "ptype1": lambda v, lang: place_type_name(v, lang, "one"),
    "ptypes": lambda v, lang: place_type_name(v, lang, "many"),
}


class _Formatter(string.Formatter):
    """``str.format`` with per-language number separators and the specs of :data:`_SPECS`."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in _SPECS:
            return _SPECS[format_spec](value, self.lang)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            s = format(value, format_spec)
            if self.lang != "sv":
                return s
            s = _sv_digits(s)  # Swedish writes a space before the percent sign: "20 %"
            return s[:-1] + "\u00a0%" if format_spec.endswith("%") else s
        return str(format(value, format_spec))


def render(msg: Msg | None, lang: str = "en") -> str:
    """Text of message ``msg`` in ``lang`` (``en`` or ``sv``; others fall back to English).

    Raises
    ------
    KeyError
        For an unknown message code or a missing parameter.
    """
    if not msg:
        return ""
    code = msg.get("code", "")
    if code == "text":
        return str(msg.get("text", ""))
    if code == "join":
        return "; ".join(t for t in (render(p, lang) for p in msg.get("parts", [])) if t)
    en, sv = TEMPLATES[str(code)]
    params = {k: v for k, v in msg.items() if k != "code"}
    return _Formatter(lang).vformat(sv if lang == "sv" else en, (), params)


def render_or(msg: Msg | None, lang: str, fallback: str) -> str:
    """:func:`render` in ``lang``, or ``fallback`` (the stored English text) when English was
    asked for, there is no message, or it cannot be rendered (a newer or damaged code)."""
    if lang == "en" or not msg:
        return fallback
    try:
        return render(msg, lang) or fallback
    except (KeyError, ValueError, TypeError, IndexError):
        return fallback


def join(*parts: Msg | None) -> dict[str, Any]:
    """A message joining the non-empty ``parts`` with ``"; "`` (one part: that part)."""
    kept = [dict(p) for p in parts if p]
    if len(kept) == 1:
        return kept[0]
    return {"code": "join", "parts": kept}


def text(value: str) -> dict[str, Any]:
    """A free-text message (shown as is in every language); ``{}`` for empty text."""
    return {"code": "text", "text": value} if value else {}


def messages(items: Sequence[Msg], lang: str = "en") -> list[str]:
    """Render a list of messages."""
    return [render(m, lang) for m in items]


_KINDS_RE = r"[a-z_]+(?:, [a-z_]+)*"
_COVERAGE_RE = re.compile(rf"(?:no (?P<absent>{_KINDS_RE}))?(?:(?:^|; )partial source: (?P<src>.+))?")
_NO_SOURCE_RE = re.compile(r"no source provided data for this layer \((?P<what>[a-z_ ]+(?:, [a-z_ ]+)*)\)")


def parse_reason(reason: str) -> dict[str, Any]:
    """The message of a layer ``reason`` in a manifest written before ``reason_msg`` existed.

    Recognises the texts of :func:`geo.build.layer_coverage` (and the store's own); anything else
    becomes a free-text message. The result always renders back to ``reason`` in English.

    >>> parse_reason("no bus_stop; partial source: OSM")["parts"][0]
    {'code': 'layer_absent_kinds', 'kinds': ['bus_stop']}
    >>> render(parse_reason("no bus_stop; partial source: OSM"), "sv")
    'busshållplats saknas; ofullständig källa: OSM'
    """
    if not reason:
        return {}
    msg: dict[str, Any] = text(reason)
    fixed = {"not in this snapshot": "layer_not_in_snapshot",
             "no source provided data for this layer": "layer_no_data"}
    if reason in fixed:
        msg = {"code": fixed[reason]}
    elif m := _NO_SOURCE_RE.fullmatch(reason):
        msg = {"code": "layer_no_source",
               "what": [k.replace(" ", "_") for k in m["what"].split(", ")]}
    elif (m := _COVERAGE_RE.fullmatch(reason)) and (m["absent"] or m["src"]):
        parts = []
        if m["absent"]:
            parts.append({"code": "layer_absent_kinds", "kinds": m["absent"].split(", ")})
        if m["src"]:
            parts.append({"code": "layer_partial_sources", "sources": m["src"].split("; ")})
        msg = join(*parts)
    try:
        return msg if render(msg) == reason else text(reason)
    except (KeyError, ValueError, TypeError, IndexError):
        return text(reason)
