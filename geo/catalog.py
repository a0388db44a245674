"""The one catalogue of user-facing strings, in English and Swedish, and their number formatting.

Every string a person reads (engine messages, CLI lines, app labels, layer and indicator titles)
lives here under a key, as an ``(English, Swedish)`` pair of :meth:`str.format` templates with the
same placeholders. The engine produces keys and parameters (:class:`geo.messages.Message`); only
the edges (CLI, app, exports) turn them into text with :func:`t`.

Numbers, decimals and percentages are formatted by Babel (CLDR data) for ``en`` and ``sv``:
``1,720.5`` and ``1 720,5`` (a no-break space groups Swedish digits).

This module is pure: no streamlit, no I/O.

Examples
--------
>>> fmt_number(1720.5, "sv", 1), fmt_number(1720.5, "en", 1)
('1\\xa0720,5', '1,720.5')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from babel.numbers import format_decimal

__all__ = ["CATALOGUE", "LANGS", "LOCALES", "fmt_number", "has", "lang_of", "t"]

#: the languages every key has, the first the default
LANGS: tuple[str, ...] = ("en", "sv")

#: language -> Babel locale used for numbers
LOCALES: Mapping[str, str] = {"en": "en_GB", "sv": "sv_SE"}

# --- engine: messages, reasons, notes, explanations (geo/) --------------------------------------
#: key -> (English, Swedish). ``msg.<code>``: the template of a :class:`geo.messages.Message` with
#: that code (format specs such as ``{kinds:kinds}`` are :data:`geo.messages.SPECS`); ``kind.``,
#: ``band.``, ``ptype.`` (``.one`` / ``.many``: singular / plural noun), ``net.`` / ``net_def.``,
#: ``mode.``, ``travel.``, ``unit.``: the words those specs fill in; ``explain.``: the labels of
#: :meth:`geo.scoring.Explanation.to_text`.
_ENGINE: dict[str, tuple[str, str]] = {
    # msg
    "msg.areas_too_small": (
        "{n} areas under {min_ha:g} ha left out",
        "{n} områden under {min_ha:g} ha utelämnade",
    ),
    "msg.point_features": (
        "{n} features are points (area unknown) and count",
        "{n} objekt är punkter (okänd yta) och räknas",
    ),
    "msg.network_fallback": (
        "{mode} distances along the {network} network",
        "avstånd {mode:mode} längs {network:netdef}",
    ),
    "msg.no_network": (
        "no {network} network loaded: straight-line distance x {factor} (approximate)",
        "inget {network:net} inläst: fågelvägen x {factor} (ungefärligt)",
    ),
    "msg.stat_table_missing": (
        "statistics table {table!r} not loaded",
        "statistiktabellen {table!r} är inte inläst",
    ),
    "msg.stat_no_values": (
        "table {table!r} has no usable values in column {column!r}",
        "tabellen {table!r} har inga användbara värden i kolumnen {column!r}",
    ),
    "msg.stat_no_municipalities": (
        "table {table!r} has no value for these municipalities",
        "tabellen {table!r} har inget värde för dessa kommuner",
    ),
    "msg.stat_standardised": (
        "standardised across {n} municipalities (mean {mean:.4g}, range {lo:g}-{hi:g}): 50 = average, "
        "±{points:g} per standard deviation",
        "standardiserat över {n} kommuner (medel {mean:,.4g}, spann {lo:,g}–{hi:,g}): 50 = genomsnittet, "
        "±{points:g} per standardavvikelse",
    ),
    "msg.column_used": ("column {column!r} used", "kolumnen {column!r} används"),
    "msg.stat_national": (
        "standardised against all {n} municipalities in the table (national median {median:,.4g}): 50 = "
        "the average municipality, ±{points:g} per standard deviation",
        "standardiserat mot alla {n} kommuner i tabellen (riksmedian {median:,.4g}): 50 = "
        "genomsnittskommunen, ±{points:g} per standardavvikelse",
    ),
    "msg.stat_national_log": (
        "standardised on a log scale (skewed values) against all {n} municipalities in the table "
        "(national median {median:,.4g}): 50 = the geometric mean, ±{points:g} per standard deviation",
        "standardiserat på logaritmisk skala (sneda värden) mot alla {n} kommuner i tabellen (riksmedian "
        "{median:,.4g}): 50 = det geometriska medelvärdet, ±{points:g} per standardavvikelse",
    ),
    "msg.stat_no_value_for": (
        "no value for {municipalities:list} in {table}",
        "inget värde för {municipalities:list} i {table}",
    ),
    "msg.stat_county_only": (
        "compared within {region} only: no national table in the pack",
        "jämfört bara inom {region}: ingen rikstäckande tabell i paketet",
    ),
    "msg.stat_table_only": (
        "compared within the {n} municipalities of the table only: no national table in the pack",
        "jämfört bara inom tabellens {n} kommuner: ingen rikstäckande tabell i paketet",
    ),
    "msg.national_median": ("national median {median}", "riksmedian {median}"),
    "msg.licence_unclear": ("licence unclear", "oklar licens"),
    "msg.context_group": (
        "{n} of the {total} municipalities are in this group",
        "{n} av de {total} kommunerna hör till gruppen",
    ),
    "msg.context_header": (
        "Municipal context, {municipality} (one value for every place in the municipality; national "
        "median in brackets):",
        "Kommunfakta, {municipality} (ett värde för alla platser i kommunen; riksmedian inom parentes):",
    ),
    "msg.stat_share": (
        "municipal statistics: {share:.0%} of the composite (capped at {cap:.0%}; they do not tell places "
        "inside one municipality apart)",
        "kommunstatistik: {share:.0%} av det sammanvägda betyget (högst {cap:.0%}; den skiljer inte "
        "platser inom en kommun åt)",
    ),
    "msg.layer_not_loaded": (
        "no {kinds:kinds}: the {layer} layer is not loaded",
        "{kinds:kinds} saknas: lagret {layer:layer} är inte inläst",
    ),
    "msg.kinds_absent": (
        "no {kinds:kinds} among the {n} {layer} features (kinds: {present:keys})",
        "{kinds:kinds} saknas bland de {n} objekten i lagret {layer:layer} (typer: {present:keys})",
    ),
    "msg.kinds_absent_area": (
        "no {kinds:kinds} among the {n} {layer} features (kinds: {present:keys}) of at least {min_ha:g} ha",
        "{kinds:kinds} på minst {min_ha:g} ha saknas bland de {n} objekten i lagret {layer:layer} (typer: "
        "{present:keys})",
    ),
    "msg.departures_weighted": (
        "weighted by departures per hour ({classes:depclasses})",
        "viktat efter avgångar per timme ({classes:depclasses})",
    ),
    "msg.no_value_here": ("no value for this place", "inget värde för den här platsen"),
    "msg.nearest_median": (
        "nearest: {place:place}, nearest for {pct:.0f}% of residents; median resident {dist:dist} "
        "{mode:travel}",
        "närmast: {place:place}, närmast för {pct:.0f} % av invånarna; medianinvånaren {dist:dist} "
        "{mode:travel}",
    ),
    "msg.nearest_known_median": (
        "nearest known: {place:place}, nearest for {pct:.0f}% of residents; median resident {dist:dist} "
        "{mode:travel}",
        "närmaste kända: {place:place}, närmast av de kända för {pct:.0f} % av invånarna; medianinvånaren "
        "{dist:dist} {mode:travel}",
    ),
    "msg.nearest_also": (
        "for {pct:.0f}% of residents: {place:place}, median {dist:dist}",
        "för {pct:.0f} % av invånarna: {place:place}, median {dist:dist}",
    ),
    "msg.nearest_point": (
        "nearest: {place:place}, {dist:dist} {mode:travel}",
        "närmast: {place:place}, {dist:dist} {mode:travel}",
    ),
    "msg.nearest_known_point": (
        "nearest known: {place:place}, {dist:dist} {mode:travel}",
        "närmaste kända: {place:place}, {dist:dist} {mode:travel}",
    ),
    "msg.no_known_within": (
        "no known {kinds:kinds} within {dist:dist} {mode:travel}",
        "närmaste kända {kinds:kinds} ligger över {dist:dist} bort {mode:travel}",
    ),
    "msg.none_in_reach": ("none within reach", "ingen inom räckhåll"),
    "msg.partial_gap": (
        "{kinds:kinds} list incomplete: {gaps:semi} missing",
        "{kinds:kinds}: listan är ofullständig, {gaps:semi} saknas",
    ),
    "msg.partial_generic": (
        "list incomplete (source marked partial)",
        "listan är ofullständig (källan är markerad som ofullständig)",
    ),
    "msg.complete_share": (
        "{pct:.0f}% of this score rests on complete data",
        "{pct:.0f} % av betyget vilar på fullständiga data",
    ),
    "msg.score_meaning": (
        "{score:.0f}, {band:band}; better than {pct_region:.0f}% of the places in {region} and "
        "{pct_type:.0f}% of its {place_type:ptypes}",
        "{score:.0f}, {band:band}; bättre än {pct_region:.0f} % av orterna i {region} och {pct_type:.0f} "
        "% av dess {place_type:ptypes}",
    ),
    "msg.score_meaning_sole": (
        "{score:.0f}, {band:band}; better than {pct_region:.0f}% of the places in {region}; its only "
        "{place_type:ptype1}",
        "{score:.0f}, {band:band}; bättre än {pct_region:.0f} % av orterna i {region}; dess enda "
        "{place_type:ptype1}",
    ),
    "msg.score_band": (
        "{score:.0f}, {band:band} ({place_type:ptype})",
        "{score:.0f}, {band:band} ({place_type:ptype})",
    ),
    "msg.layer_no_source": (
        "no source provided data for this layer ({what:kinds})",
        "ingen källa gav data för det här lagret ({what:kinds})",
    ),
    "msg.layer_no_data": (
        "no source provided data for this layer",
        "ingen källa gav data för det här lagret",
    ),
    "msg.layer_absent_kinds": ("no {kinds:keys}", "{kinds:keys} saknas"),
    "msg.layer_partial_sources": ("partial source: {sources:semi}", "ofullständig källa: {sources:semi}"),
    "msg.layer_not_in_snapshot": ("not in this snapshot", "finns inte i den här ögonblicksbilden"),
    # kind
    "kind.alcohol_shop": ("alcohol shop", "Systembolaget"),
    "kind.apartments": ("apartments", "flerbostadshus"),
    "kind.bathing_place": ("bathing place", "badplats"),
    "kind.biosphere_area": ("biosphere area", "biosfärområde"),
    "kind.bus_stop": ("bus stop", "busshållplats"),
    "kind.church": ("church", "kyrka"),
    "kind.clinic": ("clinic", "vårdcentral"),
    "kind.college": ("college", "gymnasieskola"),
    "kind.commercial": ("commercial", "verksamhetsområde"),
    "kind.dentist": ("dentist", "tandvård"),
    "kind.facility": ("facility", "anläggning"),
    "kind.grocery": ("grocery", "livsmedelsbutik"),
    "kind.hospital": ("hospital", "sjukhus"),
    "kind.house": ("house", "småhus"),
    "kind.industrial": ("industrial", "industriområde"),
    "kind.kindergarten": ("kindergarten", "förskola"),
    "kind.library": ("library", "bibliotek"),
    "kind.natural_monument": ("natural monument", "naturminne"),
    "kind.nature_reserve": ("nature reserve", "naturreservat"),
    "kind.office": ("office", "kontor"),
    "kind.park": ("park", "park"),
    "kind.pharmacy": ("pharmacy", "apotek"),
    "kind.rail_station": ("rail station", "järnvägsstation"),
    "kind.recycling": ("recycling", "återvinningsstation"),
    "kind.residential_area": ("residential area", "bostadsområde"),
    "kind.residential_building": ("residential building", "bostadshus"),
    "kind.retail": ("retail", "handelsområde"),
    "kind.school": ("school", "skola"),
    "kind.sports": ("sports", "idrottsanläggning"),
    "kind.university": ("university", "universitet"),
    "kind.venue": ("venue", "teater/bio/museum"),
    # band
    "band.on_foot": ("most errands on foot", "de flesta ärenden till fots"),
    "band.foot_or_bike": ("many errands on foot or by bike", "många ärenden till fots eller med cykel"),
    "band.bike_or_bus": (
        "some errands on foot, others by bike or bus",
        "vissa ärenden till fots, andra med cykel eller buss",
    ),
    "band.car_useful": ("a car is useful for most errands", "bil är till nytta för de flesta ärenden"),
    "band.car_needed": ("a car is needed for most errands", "bil behövs för de flesta ärenden"),
    # ptype
    "ptype.town": ("town", "stad"),
    "ptype.town.one": ("town", "stad"),
    "ptype.town.many": ("towns", "städer"),
    "ptype.small_town": ("small town", "mindre tätort"),
    "ptype.small_town.one": ("small town", "mindre tätort"),
    "ptype.small_town.many": ("small towns", "mindre tätorter"),
    "ptype.village": ("village", "by"),
    "ptype.village.one": ("village", "by"),
    "ptype.village.many": ("villages", "byar"),
    "ptype.countryside": ("countryside", "landsbygd"),
    "ptype.countryside.one": ("countryside place", "landsbygdsplats"),
    "ptype.countryside.many": ("countryside places", "landsbygdsplatser"),
    "ptype.archipelago": ("archipelago", "skärgård"),
    "ptype.archipelago.one": ("archipelago place", "skärgårdsort"),
    "ptype.archipelago.many": ("archipelago places", "skärgårdsorter"),
    # net
    "net.walk": ("walk", "gångnät"),
    # net_def
    "net_def.walk": ("walk", "gångnätet"),
    # net
    "net.bike": ("bike", "cykelnät"),
    # net_def
    "net_def.bike": ("bike", "cykelnätet"),
    # net
    "net.drive": ("drive", "bilvägnät"),
    # net_def
    "net_def.drive": ("drive", "bilvägnätet"),
    # net
    "net.car": ("car", "bilvägnät"),
    # net_def
    "net_def.car": ("car", "bilvägnätet"),
    # mode
    "mode.walk": ("walk", "till fots"),
    # travel
    "travel.walk": ("on foot", "till fots"),
    # mode
    "mode.bike": ("bike", "med cykel"),
    # travel
    "travel.bike": ("by bike", "med cykel"),
    # mode
    "mode.car": ("car", "med bil"),
    # travel
    "travel.car": ("by car", "med bil"),
    # unit
    "unit.percent": ("%", " %"),
    "unit.pct_change": ("%", " %"),
    "unit.sek_m2_year": (" SEK/m²/yr", " kr/m²/år"),
    "unit.per_100k": (" per 100,000 inhabitants", " per 100 000 invånare"),
    "unit.persons": (" inhabitants", " invånare"),
    "unit.per_1000": (" per 1,000 inhabitants", " per 1 000 invånare"),
    "unit.ksek": (" kSEK", " tkr"),
    "unit.msek": (" MSEK", " mnkr"),
    # explain
    "explain.rank": ("rank", "plats"),
    "explain.of": ("of", "av"),
    "explain.composite": ("Composite score", "Sammanvägt betyg"),
    "explain.theme": ("Theme", "Tema"),
    "explain.missing": ("missing", "saknas"),
    "explain.approx": (
        "approximate: straight-line distance x detour factor",
        "ungefärligt: fågelvägen x omvägsfaktor",
    ),
    "explain.partial": ("partial data", "ofullständiga data"),
    "explain.nearest": ("nearest", "närmast"),
    "explain.from_centre": ("from the centre", "från centrum"),
    "explain.score": ("score", "betyg"),
    "explain.walk": ("on foot", "till fots"),
    "explain.bike": ("by bike", "med cykel"),
    "explain.car": ("by car", "med bil"),
    "explain.cells": ("cells", "rutor"),
    "explain.weight": ("weight", "vikt"),
    "explain.muni": ("municipality", "kommun"),
    "explain.pop": ("population", "invånare"),
    "explain.none": ("none within reach", "ingen inom räckhåll"),
    "explain.count": ("reachable", "nåbara"),
    "explain.stat": ("municipal value", "kommunens värde"),
    "explain.median": ("median resident", "medianinvånaren"),
    "explain.ptype": ("place type", "ortstyp"),
    "explain.standard": ("standard", "norm"),
}


# --- edges: app pages, CLI lines, layer and indicator titles -----------------------------------
#: key -> (English, Swedish)
_UI: dict[str, tuple[str, str]] = {
}


#: every key -> (English, Swedish); a key is in one section only
CATALOGUE: dict[str, tuple[str, str]] = {**_ENGINE, **_UI}


def lang_of(lang: str | None) -> str:
    """``lang`` when the catalogue has it, else the default language (English)."""
    return lang if lang in LANGS else LANGS[0]


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in CATALOGUE


def t(key: str, lang: str = "en", **params: object) -> str:
    """The string ``key`` in ``lang``, its placeholders filled from ``params``.

    An unknown key gives the key itself (so a missing entry is visible, never a crash); the test
    of the catalogue makes sure no key the code uses is missing.
    """
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    template = pair[LANGS.index(lang_of(lang))]
    return template.format(**params) if params else template


def fmt_number(x: float, lang: str = "en", decimals: int = 0, *, grouping: bool = True) -> str:
    """``x`` with ``decimals`` digits for a reader of ``lang`` (Babel); NaN and infinities: ``"-"``."""
    xf = float(x)
    if not math.isfinite(xf):
        return "-"
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * int(decimals) if decimals > 0 else "")
    return format_decimal(round(xf, int(decimals)), pattern, locale=LOCALES[lang_of(lang)])
