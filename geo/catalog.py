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

from babel.numbers import format_decimal, format_percent

__all__ = ["CATALOGUE", "LANGS", "LOCALES", "fmt_number", "fmt_percent", "has", "indicator_title", "lang_of",
           "layer_title", "persona_title", "stat_title", "t"]

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
    # commute (geo/commute.py)
    "msg.commute_network": (
        "along the {network} street network",
        "längs {network:netdef}",
    ),
    "msg.commute_outside": (
        "the commute target ({lat}° N, {lon}° E) lies {km} km outside {region}; choose a "
        "workplace or school inside the region or at most {buffer_km} km beyond its border",
        "pendlingsmålet ({lat}° N, {lon}° O) ligger {km} km utanför {region}; välj en arbetsplats eller "
        "skola i regionen eller högst {buffer_km} km utanför dess gräns",
    ),
    "msg.commute_mode": (
        "no travel mode {mode!r}; choose one of {modes:list}",
        "inget färdsätt {mode!r}; välj ett av {modes:list}",
    ),
    "msg.commute_bad_point": (
        "the commute target {lat}, {lon} is not a coordinate; give a latitude and longitude in "
        "degrees",
        "pendlingsmålet {lat}, {lon} är ingen koordinat; ange latitud och longitud i grader",
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
    # search (geo/search.py, geo/sources/geocoder.py)
    "msg.geocoder_offline": ("Address search needs the internet: showing places we know",
                             "Att söka adresser kräver internet: visar platser vi känner till"),
    "msg.geocoder_busy": ("The address service is busy; try again in a minute",
                          "Adresstjänsten är upptagen; försök igen om en minut"),
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
        "no {kinds:kinds} among the {n} places of the {layer} layer (it has: {present:kinds})",
        "{kinds:kinds} saknas bland de {n} objekten i lagret {layer:layer} (typer: {present:kinds})",
    ),
    "msg.kinds_absent_area": (
        "no {kinds:kinds} of at least {min_ha:g} ha among the {n} places of the {layer} layer "
        "(it has: {present:kinds})",
        "{kinds:kinds} på minst {min_ha:g} ha saknas bland de {n} objekten i lagret {layer:layer} (typer: "
        "{present:kinds})",
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
    "msg.nearest_bound": (
        "{place:place} is not in the list with a position but lies in {within}: at most {dist:dist} "
        "{mode:travel}",
        "{place:place} finns inte med position i listan men ligger i {within}: högst {dist:dist} "
        "{mode:travel}",
    ),
    "msg.position_doubt": (
        "the source places {place:place} {dist:dist} outside {named}, which its name gives: its "
        "position may be wrong",
        "källan placerar {place:place} {dist:dist} utanför {named}, som namnet anger: läget kan "
        "vara fel",
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
    "msg.layer_absent_kinds": ("no {kinds:kinds}", "{kinds:kinds} saknas"),
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
    "ptype.municipality": ("municipality", "kommun"),
    "ptype.municipality.one": ("municipality", "kommun"),
    "ptype.municipality.many": ("municipalities", "kommuner"),
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
    # the rebuild check (geo.sources.registry.check_inputs); {input:input} is [kind, name]
    "msg.input_changed": (
        "{input:input} changed since the build ({built}): rebuild with: {command}",
        "{input:input} har ändrats sedan bygget ({built}): bygg om med: {command}",
    ),
    "msg.input_added": (
        "{input:input} is new since the build ({built}): rebuild with: {command}",
        "{input:input} har tillkommit sedan bygget ({built}): bygg om med: {command}",
    ),
    "msg.input_missing": (
        "{input:input} is missing (the build of {built} read it): restore it, or rebuild "
        "without it: {command}",
        "{input:input} saknas (bygget {built} läste det): lägg tillbaka det, eller bygg om "
        "utan det: {command}",
    ),
    "msg.input_online": (
        "{input:input}: not checked (online source)",
        "{input:input}: inte kontrollerad (källa på nätet)",
    ),
    "msg.rules_changed": (
        "this version gives features their kinds by other rules than the build of {built} did: "
        "rebuild with: {command}",
        "den här versionen ger objekten deras slag med andra regler än bygget {built} gjorde: "
        "bygg om med: {command}",
    ),
    "msg.inputs_unrecorded": (
        "the build of {built} did not record its sources (an older version): rebuild once "
        "with: {command}",
        "bygget {built} sparade inte sina källor (en äldre version): bygg om en gång med: "
        "{command}",
    ),
    "msg.inputs_not_built": (
        "written without a build: its inputs are not checked",
        "skriven utan bygge: dess indata kontrolleras inte",
    ),
    # source kinds (format spec ``input`` of geo.messages: "pack blekinge")
    "source.pack": ("pack", "datapaketet"),
    "source.file": ("file", "filen"),
    "source.pbf": ("OpenStreetMap extract", "OpenStreetMap-utdraget"),
    "source.osm-xml": ("OpenStreetMap XML", "OpenStreetMap-XML-filen"),
    "source.osm-online": ("OpenStreetMap (Overpass)", "OpenStreetMap (Overpass)"),
    "source.gtfs-zip": ("GTFS zip", "GTFS-zipfilen"),
    "source.gtfs-url": ("GTFS feed URL", "GTFS-flödet (URL)"),
    # errors a user of the app can meet (LivabilityError(message=Message(...))): opening a
    # snapshot (geo/store.py), resolving a region or place (geo/regions.py, geo/scoring.py),
    # weights (geo/scoring.py) and exports (geo/export.py). English: byte for byte the old text.
    "msg.store_key_empty": (
        "empty region key; give a region such as blekinge",
        "tom regionnyckel; ange en region, till exempel blekinge",
    ),
    "msg.store_key_long": (
        "region key {region!r}... is {n:,} characters long; the limit is {limit}: use a shorter "
        "region name",
        "regionnyckeln {region!r}... är {n:,} tecken lång; gränsen är {limit}: använd ett kortare "
        "regionnamn",
    ),
    "msg.store_key_bad": (
        "region key {region!r} is not a plain folder name (letters, digits, '-' and '_', not starting "
        "with '.' or '-'); use a region name such as blekinge",
        "regionnyckeln {region!r} är inte ett enkelt mappnamn (bokstäver, siffror, '-' och '_', som "
        "inte börjar med '.' eller '-'); använd ett regionnamn, till exempel blekinge",
    ),
    "msg.partitions_failed": (
        "{n} of {total} partitions failed twice: {names:list} (first error: {error}); the others "
        "are computed and cached, so a rerun computes only these",
        "{n} av {total} delar misslyckades två gånger: {names:list} (första felet: {error}); de "
        "andra är beräknade och sparade, så en ny körning beräknar bara dessa",
    ),
    "msg.store_missing": (
        "No snapshot for region {region!r} in {root}.{close:close}{known:built} Build it with: "
        "livability build --region {region}",
        "Ingen ögonblicksbild för regionen {region!r} i {root}.{close:close}{known:built} Bygg den "
        "med: livability build --region {region}",
    ),
    "msg.store_link_broken": (
        "{shown} points to {folder}, which is missing; the snapshot is damaged. Rebuild with: "
        "livability build --region {region}",
        "{shown} pekar på {folder}, som saknas; ögonblicksbilden är skadad. Bygg om med: "
        "livability build --region {region}",
    ),
    "msg.store_manifest_unreadable": (
        "The manifest of {shown} is unreadable ({error}); the snapshot is damaged. Rebuild with: "
        "livability build --region {region}",
        "Manifestet i {shown} går inte att läsa ({error}); ögonblicksbilden är skadad. Bygg om "
        "med: livability build --region {region}",
    ),
    "msg.store_schema": (
        "{shown} was written with store schema {version!r}, this version reads {reads}. Rebuild "
        "with: livability build --region {region}",
        "{shown} skrevs med lagringsschema {version!r}, den här versionen läser {reads}. Bygg om "
        "med: livability build --region {region}",
    ),
    "msg.store_manifest_damaged": (
        "The manifest of {shown} is damaged: {problem}. Rebuild with: livability build --region "
        "{region}",
        "Manifestet i {shown} är skadat: {problem}. Bygg om med: livability build --region {region}",
    ),
    "msg.store_damaged": (
        "The snapshot in {shown} is damaged: {what}. Rebuild with: livability build --region {region}",
        "Ögonblicksbilden i {shown} är skadad: {what}. Bygg om med: livability build --region "
        "{region}",
    ),
    "msg.store_file_unreadable": (
        "cannot read {path}: {error}. Rebuild with 'livability build'.",
        "kan inte läsa {path}: {error}. Bygg om med 'livability build'.",
    ),
    "msg.store_no_boundary": (
        "{path} has no boundary.parquet; rebuild the region",
        "{path} saknar boundary.parquet; bygg om regionen",
    ),
    "msg.region_empty": (
        "empty region name; try 'blekinge' or a county/municipality code",
        "tomt regionnamn; prova 'blekinge' eller en läns- eller kommunkod",
    ),
    "msg.region_too_long": (
        "region name {text!r}... is {n:,} characters long; the limit is {limit}. Give a county or "
        "municipality name or code (blekinge, 10, Karlskrona), a polygon file, or osm:NAME",
        "regionnamnet {text!r}... är {n:,} tecken långt; gränsen är {limit}. Ange ett läns- eller "
        "kommunnamn eller en kod (blekinge, 10, Karlskrona), en polygonfil eller osm:NAMN",
    ),
    "msg.region_nul": (
        "region name {text!r} contains a NUL character; retype it",
        "regionnamnet {text!r} innehåller ett NUL-tecken; skriv det igen",
    ),
    "msg.region_code_unknown": (
        "No county or municipality with code {given!r}. County codes are 01-25 (Blekinge is 10); "
        "municipality codes have four digits (Karlskrona is 1080)",
        "Inget län eller ingen kommun har koden {given!r}. Länskoder är 01–25 (Blekinge är 10); "
        "kommunkoder har fyra siffror (Karlskrona är 1080)",
    ),
    "msg.region_unknown": (
        "Unknown region {text!r}.{close:close} Give a Swedish county or municipality (name or "
        "code), a polygon file, or an OpenStreetMap place as 'osm:NAME' (online)",
        "Okänd region {text!r}.{close:close} Ange ett svenskt län eller en kommun (namn eller "
        "kod), en polygonfil eller en plats i OpenStreetMap som 'osm:NAMN' (kräver nätet)",
    ),
    "msg.no_localities": (
        "the snapshot of {region!r} has no localities; rebuild it with a source of localities (the "
        "data pack's tätorter or OSM places)",
        "ögonblicksbilden för {region!r} har inga orter; bygg om den med en källa för orter "
        "(datapaketets tätorter eller platser från OSM)",
    ),
    "msg.theme_unknown": (
        "No theme {theme!r} to weigh.{close:close_nc} Themes: {themes:list}",
        "Inget tema {theme!r} att vikta.{close:close_nc} Teman: {themes:list}",
    ),
    "msg.weight_range": (
        "weight {theme}={value} is not a number from 0 to {max:g}; give each theme a weight in "
        "0-{max:g} (e.g. schools=3; 0 leaves a theme out)",
        "vikten {theme}={value} är inte ett tal från 0 till {max:g}; ge varje tema en vikt i "
        "0–{max:g} (t.ex. schools=3; 0 lämnar ett tema utanför)",
    ),
    "msg.weights_zero": (
        "all theme weights are 0; give at least one theme a weight > 0",
        "alla temavikter är 0; ge minst ett tema en vikt över 0",
    ),
    "msg.locality_unknown": (
        "No locality {place!r} in {region_name}.{close:close_nc} Run 'livability score --region "
        "{region}' to list them.",
        "Ingen ort {place!r} i {region_name}.{close:close_nc} Kör 'livability score --region "
        "{region}' för att lista dem.",
    ),
    "msg.place_unknown": (
        "No locality or municipality {place!r} in {region_name}.{close:close_nc} Give a tätort or "
        "municipality name or code (all of Sweden: livability build --region sverige --pack "
        "../shared/data/sweden)",
        "Ingen tätort eller kommun {place!r} i {region_name}.{close:close_nc} Ange en tätorts eller "
        "kommuns namn eller kod (hela Sverige: livability build --region sverige --pack "
        "../shared/data/sweden)",
    ),
    "msg.place_ambiguous": (
        "{place!r} names {n} localities: {candidates:semi}. Write the municipality in brackets, "
        "e.g. {example!r}, or give the code",
        "{place!r} är namnet på {n} tätorter: {candidates:semi}. Skriv kommunen inom parentes, "
        "t.ex. {example!r}, eller ange koden",
    ),
    "msg.place_type_unknown": (
        "No place type {given!r}; known: {known:ptype_keys}",
        "Ingen ortstyp {given!r}; kända: {known:ptype_keys}",
    ),
    "msg.pct_of_type": (
        "better than {pct:.0f}% of the {n} {place_type:ptypes} in {region}",
        "bättre än {pct:.0f} % av de {n} {place_type:ptypes} i {region}",
    ),
    "msg.pct_of_type_national": (
        "better than {pct:.0f}% of Sweden's {n} {place_type:ptypes}",
        "bättre än {pct:.0f} % av Sveriges {n} {place_type:ptypes}",
    ),
    "msg.municipality_unknown": (
        "No municipality {municipality!r} in the region {region_name}.{close:close_nc} Give a "
        "4-digit code (1080) or a name (Karlskrona).",
        "Ingen kommun {municipality!r} i regionen {region_name}.{close:close_nc} Ange en "
        "fyrsiffrig kod (1080) eller ett namn (Karlskrona).",
    ),
    "msg.municipality_unknown_tables": (
        "No municipality {municipality!r} in the snapshot's tables.{close:close_nc} Give a "
        "4-digit code (1080) or a name (Karlskrona).",
        "Ingen kommun {municipality!r} i ögonblicksbildens tabeller.{close:close_nc} Ange en "
        "fyrsiffrig kod (1080) eller ett namn (Karlskrona).",
    ),
    "msg.export_format_unknown": (
        "unknown export format {fmt!r}; use one of {formats:list}",
        "okänt exportformat {fmt!r}; använd ett av {formats:list}",
    ),
    "msg.export_geojson_crs": (
        "GeoJSON (RFC 7946) is WGS 84 only, not EPSG:{crs}; use --crs 4326, or --format "
        "gpkg/parquet/csv for SWEREF 99 TM",
        "GeoJSON (RFC 7946) är bara WGS 84, inte EPSG:{crs}; använd --crs 4326, eller --format "
        "gpkg/parquet/csv för SWEREF 99 TM",
    ),
    "msg.export_write": (
        "cannot write {path}: {reason}; {hint:export_hint} (nothing was written; the previous "
        "output, if any, is unchanged)",
        "kan inte skriva {path}: {reason}; {hint:export_hint} (inget skrevs; en tidigare export "
        "är i så fall oförändrad)",
    ),
    "msg.export_failed": (
        "export to {path} failed and was not written ({error}); the previous output, if any, is "
        "unchanged",
        "exporten till {path} misslyckades och skrevs inte ({error}); en tidigare export är i så "
        "fall oförändrad",
    ),
    # a scored point (geo.point)
    "msg.point_invalid": (
        "{lat}, {lon} is not a point on Earth; give a latitude from -90 to 90 and a longitude "
        "from -180 to 180",
        "{lat}, {lon} är ingen punkt på jorden; ange en latitud från -90 till 90 och en longitud "
        "från -180 till 180",
    ),
    "msg.point_maybe_water": (
        "This point lies outside the coastline we know: it may be water or a small island our "
        "outline leaves out; the scores assume a home could be here.",
        "Den här punkten ligger utanför den kustlinje vi känner till: den kan ligga i vattnet "
        "eller på en liten ö som vår kontur saknar; poängen förutsätter att en bostad kunde "
        "ligga här.",
    ),
    "msg.point_off_land": (
        "This point ({lat:.4f}, {lon:.4f}) is not on land in {region}: it lies in the sea or "
        "beyond the county border. Click on land inside the region.",
        "Den här punkten ({lat:.4f}, {lon:.4f}) ligger inte på land i {region}: den ligger i "
        "havet eller utanför länsgränsen. Klicka på land inom regionen.",
    ),
    "msg.point_outside": (
        "This point ({lat:.4f}, {lon:.4f}) is outside {region}, which spans {south:.2f}-"
        "{north:.2f} N, {west:.2f}-{east:.2f} E. Click on land inside the region.",
        "Den här punkten ({lat:.4f}, {lon:.4f}) ligger utanför {region}, som sträcker sig över "
        "{south:.2f}–{north:.2f} N, {west:.2f}–{east:.2f} Ö. Klicka på land inom regionen.",
    ),
    "msg.point_meaning": (
        "{score:.0f}, {band:band} ({place_type:ptype}); better than {pct_places:.0f}% of the "
        "localities and {pct_cells:.0f}% of the inhabited grid cells in {region}",
        "{score:.0f}, {band:band} ({place_type:ptype}); bättre än {pct_places:.0f} % av orterna "
        "och {pct_cells:.0f} % av de bebodda rutorna i {region}",
    ),
    # words of the error specs (geo.messages.SPECS: close, close_nc, built, export_hint)
    "err.did_you_mean": ("Did you mean: {names}?", "Menade du: {names}?"),
    "err.did_you_mean_nc": ("Did you mean {names}?", "Menade du {names}?"),
    "err.built_regions": ("Built regions: {names}.", "Byggda regioner: {names}."),
    "export_hint.ENOSPC": ("free space or choose another --out",
                           "frigör utrymme eller välj en annan --out"),
    "export_hint.EDQUOT": ("free space (disk quota exceeded) or choose another --out",
                           "frigör utrymme (diskkvoten är slut) eller välj en annan --out"),
    "export_hint.EROFS": ("the file system is read-only: choose another --out",
                          "filsystemet är skrivskyddat: välj en annan --out"),
    "export_hint.EACCES": ("check the folder's permissions or choose another --out",
                           "kontrollera mappens behörigheter eller välj en annan --out"),
    "export_hint.EPERM": ("check the folder's permissions or choose another --out",
                          "kontrollera mappens behörigheter eller välj en annan --out"),
    "export_hint.other": ("choose another --out", "välj en annan --out"),
}


# --- edges: app pages, CLI lines, layer and indicator titles -----------------------------------
#: key -> (English, Swedish)
_UI: dict[str, tuple[str, str]] = {
    # layer (theme) titles and descriptions: layer.<key>, layer.<key>.description (layers/*.py)
    "layer.culture": ("Culture and leisure", "Kultur och fritid"),
    "layer.culture.description": (
        "Libraries, theatres, cinemas, museums, sports centres, pitches and pools.",
        "Bibliotek, teatrar, biografer, museer, sporthallar, planer och simhallar."),
    "layer.housing": ("Housing", "Boende"),
    "layer.housing.description": (
        "Residential areas and buildings; house prices, tax rate and rent per municipality.",
        "Bostadsområden och bostadshus; huspriser, skattesats och hyror per kommun."),
    "layer.nature": ("Nature", "Natur"),
    "layer.nature.description": (
        "Parks, nature reserves, bathing places, natural monuments and the biosphere area.",
        "Parker, naturreservat, badplatser, naturminnen och biosfärområdet."),
    "layer.schools": ("Schools", "Skolor"),
    "layer.schools.description": (
        "Preschools, schools and colleges; results and certified teachers per municipality.",
        "Förskolor, skolor och gymnasier; resultat och behöriga lärare per kommun."),
    "layer.services": ("Services", "Service"),
    "layer.services.description": (
        "Grocery stores, pharmacies, health centres, dentists, hospitals and Systembolaget.",
        "Livsmedelsbutiker, apotek, vårdcentraler, tandvård, sjukhus och Systembolaget."),
    "layer.transit": ("Transit", "Kollektivtrafik"),
    "layer.transit.description": (
        "Bus stops and railway stations; departures per hour when a GTFS feed is loaded.",
        "Busshållplatser och järnvägsstationer; avgångar per timme när GTFS finns."),
    "layer.workplaces": ("Workplaces", "Arbetsplatser"),
    "layer.workplaces.description": (
        "Offices and industrial, commercial and retail areas; unemployment and household income per"
        " municipality.",
        "Kontor samt industri-, handels- och verksamhetsområden; arbetslöshet och hushållens "
        "inkomster per kommun."),
    # indicator titles: indicator.<key> (layers/*.py)
    "indicator.culture.library": ("Library by bike", "Bibliotek med cykel"),
    "indicator.culture.sports": ("Sports venue on foot", "Idrottsplats till fots"),
    "indicator.culture.venue": ("Theatre, cinema or museum by bike",
                                "Teater, bio eller museum med cykel"),
    "indicator.housing.house_price": ("House price (småhus, mean; lower is better)",
                                      "Huspris (småhus, medel; lägre är bättre)"),
    "indicator.housing.tax_rate": ("Income tax rate (municipal + regional; lower is better)",
                                   "Skattesats (kommun + region; lägre är bättre)"),
    "indicator.housing.rent": ("Rent level (lower is better)", "Hyresnivå (lägre är bättre)"),
    "indicator.nature.green_space": ("Green space (1.5 ha+) on foot",
                                     "Grönområde (1,5 ha+) till fots"),
    "indicator.nature.reserve": ("Nature reserve by bike", "Naturreservat med cykel"),
    "indicator.nature.bathing": ("Bathing place by bike", "Badplats med cykel"),
    "indicator.schools.preschool": ("Preschool on foot", "Förskola till fots"),
    "indicator.schools.primary": ("Compulsory school on foot", "Grundskola till fots"),
    "indicator.schools.upper_secondary": ("Upper secondary school by bike",
                                          "Gymnasieskola med cykel"),
    "indicator.schools.eligibility": ("Pupils eligible for upper secondary",
                                      "Elever behöriga till gymnasiet"),
    "indicator.schools.grade6_pass": ("Grade 6 pupils passing all subjects",
                                      "Elever i åk 6 godkända i alla ämnen"),
    "indicator.schools.certified_teachers": ("Certified teachers", "Behöriga lärare"),
    "indicator.services.grocery": ("Grocery store on foot", "Matbutik till fots"),
    "indicator.services.pharmacy": ("Pharmacy by bike", "Apotek med cykel"),
    "indicator.services.health": ("Health centre by bike", "Vårdcentral med cykel"),
    "indicator.services.hospital": ("Hospital by car", "Sjukhus med bil"),
    "indicator.services.systembolaget": ("Systembolaget by bike", "Systembolaget med cykel"),
    "indicator.transit.bus": ("Bus stop on foot", "Busshållplats till fots"),
    "indicator.transit.rail": ("Railway station by bike", "Järnvägsstation med cykel"),
    "indicator.workplaces.jobs_30min": ("Workplaces within 30 min by car",
                                        "Arbetsplatser inom 30 min med bil"),
    "indicator.workplaces.nearest": ("Workplace area by bike", "Arbetsplatsområde med cykel"),
    "indicator.workplaces.unemployment": ("Open unemployment (share of ages 18-65; lower is better)",
                                          "Öppen arbetslöshet (andel av 18–65 år; lägre är bättre)"),
    "indicator.workplaces.income": ("Household income (median, disposable)",
                                    "Hushållens inkomst (median, disponibel)"),
    # persona titles: persona.<key> (layers/personas.py)
    "persona.balanced": ("Balanced", "Balanserad"),
    "persona.family": ("Family with children", "Barnfamilj"),
    "persona.student": ("Student", "Student"),
    "persona.commuter": ("Commuter", "Pendlare"),
    "persona.retiree": ("Retiree", "Pensionär"),
    "persona.remote": ("Remote worker", "Distansarbetare"),
    # municipal context lines: stat.<key> (layers/context.py)
    "stat.context.crime": ("Reported crimes per 100,000 inhabitants (lower is better)",
                           "Anmälda brott per 100 000 invånare (lägre är bättre)"),
    "stat.context.population": ("Population", "Folkmängd"),
    "stat.context.population_trend": ("Population change 2015-2025",
                                      "Befolkningsförändring 2015–2025"),
    "stat.context.population_forecast": ("Population forecast, change over 10 years",
                                         "Befolkningsprognos, förändring på 10 år"),
    "stat.context.house_price_trend": ("House price change 2014-2024 (småhus, mean)",
                                       "Husprisförändring 2014–2024 (småhus, medel)"),
    "stat.context.completed_dwellings": ("Completed dwellings per 1,000 inhabitants",
                                         "Färdigställda bostäder per 1 000 invånare"),
    "stat.context.skr_group": ("SKR municipality group", "SKR:s kommungrupp"),
    # command line (geo/cli*.py, geo/export.py's report); English unless --lang says otherwise
    "cli.error": ("error: {msg}", "fel: {msg}"),
    "cli.interrupted": ("interrupted; the store is left as it was",
                        "avbrutet; lagret lämnas som det var"),
    "cli.built": ("built {region} into {path}", "byggde {region} i {path}"),
    "cli.regions_in_store": ("regions in this store: {regions}", "regioner i detta lager: {regions}"),
    "cli.info.head": ("{region} ({code}), built {built}, store {path}",
                      "{region} ({code}), byggd {built}, lager {path}"),
    "cli.info.localities": ("localities    {n:>6}  population {population}  [{coverage}]  {sources}",
                            "tätorter      {n:>6}  folkmängd {population}  [{coverage}]  {sources}"),
    "cli.info.none": ("none", "inga"),
    "cli.info.stale": ("stale: {msg}", "inaktuell: {msg}"),
    "cli.check.fresh": ("{region}: up to date (built {built}; local inputs unchanged: {n})",
                        "{region}: aktuell (byggd {built}; lokala indata oförändrade: {n})"),
    "cli.info.col.layer": ("layer", "lager"),
    "cli.info.col.count": ("count", "antal"),
    "cli.info.col.coverage": ("coverage", "täckning"),
    "cli.info.col.source": ("source (date)", "källa (datum)"),
    "cli.info.kinds": ("kinds: {kinds}", "slag: {kinds}"),
    "cli.info.note": ("note: {note}", "not: {note}"),
    "cli.info.tables": ("tables", "tabeller"),
    "cli.info.table_rows": ("{rows:>4} rows  {sources}", "{rows:>4} rader  {sources}"),
    "cli.info.network": ("network {mode:<6} {nodes} nodes, {edges} edges",
                         "vägnät {mode:<6} {nodes} noder, {edges} länkar"),
    "cli.info.no_network": (
        "network       none (distances are straight-line x detour factor: approximate)",
        "vägnät        inget (avstånden är fågelvägen x omvägsfaktor: ungefärliga)"),
    "cli.info.dropped_head": ("features dropped while building (counted, not stored):",
                              "objekt som föll bort vid bygget (räknade, inte lagrade):"),
    "cli.info.dropped": ("dropped  {origin}: {what}", "bortfall  {origin}: {what}"),
    "cli.info.drop_count": ("{n} {reason}", "{n} {reason}"),
    "cli.drop.outside_region": ("outside the region", "utanför regionen"),
    "cli.drop.no_coordinates": ("without coordinates", "utan koordinater"),
    "cli.drop.duplicate": ("duplicates of another source's", "dubbletter av en annan källas"),
    "cli.drop.superseded": ("not used (an earlier source gave localities)",
                            "inte använda (en tidigare källa gav tätorter)"),
    "cli.info.missing_head": ("missing layers (left out of the scores):",
                              "saknade lager (utelämnade ur poängen):"),
    "cli.info.get_them": (
        "get them: build online (OpenStreetMap), or --pbf extract.osm.pbf, --gtfs feed.zip, "
        "--pack DIR, --file LAYER=PATH",
        "hämta dem: bygg med internet (OpenStreetMap), eller --pbf extract.osm.pbf, "
        "--gtfs feed.zip, --pack DIR, --file LAYER=PATH"),
    "cli.score.col.rank": ("Rank", "Plats"),
    "cli.score.col.locality": ("Locality", "Ort"),
    "cli.score.col.municipality": ("Municipality", "Kommun"),
    "cli.score.col.score": ("Score", "Betyg"),
    "cli.score.col.complete": ("Complete", "Fullständigt"),
    "cli.score.col.band": ("Band", "Band"),
    "cli.score.col.missing": ("Missing here", "Saknas här"),
    "cli.score.percent": ("{n}%", "{n} %"),
    "cli.score.missing_everywhere": ("Missing everywhere (left out, not counted as zero):",
                                     "Saknas överallt (räknas inte som noll):"),
    "cli.score.complete_note": (
        "Complete: share of the score resting on complete data (the rest on incomplete lists: "
        "nearest known).",
        "Fullständigt: andel av betyget som vilar på fullständiga data (resten på ofullständiga "
        "listor: närmaste kända)."),
    "cli.score.approximate": (
        "Distances are approximate: straight line x detour factor (no street network loaded).",
        "Avstånd är ungefärliga: fågelvägen x omvägsfaktor (inget gatunät laddat)."),
    "cli.dist.dashboard": ("Dask dashboard: {url}", "Dask-översikt: {url}"),
    "cli.dist.summary": (
        "{n} partitions ({where}, {workers} workers): {computed} computed, {cached} from the "
        "cache, in {s} s",
        "{n} delar ({where}, {workers} arbetare): {computed} beräknade, {cached} från cachen, "
        "på {s} s",
    ),
    "cli.score.wrote": ("wrote {n} localities to {path}", "skrev {n} tätorter till {path}"),
    "cli.score.shown": ("{n} of {total} localities shown ({what})",
                        "{n} av {total} tätorter visas ({what})"),
    "cli.score.shown_top": ("top {n}", "de {n} bästa"),
    "cli.compare.head": ("Compared: {places}; scored with {region} ({built})",
                         "Jämförda: {places}; betygsatta med {region} ({built})"),
    "cli.compare.national": (
        "Both places scored the same way, with the national data pack (snapshot sverige).",
        "Båda orterna betygsätts på samma sätt, med det nationella datapaketet (ögonblicksbild "
        "sverige)."),
    "cli.compare.row.kind": ("Kind", "Slag"),
    "cli.compare.row.municipality": ("Municipality", "Kommun"),
    "cli.compare.row.population": ("Population", "Befolkning"),
    "cli.compare.row.score": ("Score (0-100)", "Betyg (0–100)"),
    "cli.compare.row.band": ("Band", "Band"),
    "cli.compare.row.rank": ("Rank", "Plats"),
    "cli.compare.row.type": ("Place type", "Ortstyp"),
    "cli.compare.row.percentile": ("Percentile (same type)", "Percentil (samma typ)"),
    "cli.compare.rank_of": ("{rank} of {n}", "{rank} av {n}"),
    "cli.compare.themes": ("Themes", "Teman"),
    "cli.compare.indicators": (
        "Key indicators (score; median resident's distance; nearest)",
        "Viktiga indikatorer (betyg; medianinvånarens avstånd; närmast)"),
    "cli.compare.context": ("Municipal context", "Kommunala förhållanden"),
    "cli.compare.kind.locality": ("locality (tätort)", "tätort"),
    "cli.compare.kind.municipality": ("municipality", "kommun"),
    "cli.compare.no_indicators": (
        "A municipality is scored as the population-weighted mean of its localities; its "
        "indicators are shown per locality (compare one of its tätorter).",
        "En kommun får medelvärdet av sina tätorters betyg, vägt med befolkningen; indikatorerna "
        "visas per tätort (jämför en av dess tätorter)."),
    "cli.compare.minutes": ("~{n} min {mode}", "~{n} min {mode}"),
    "cli.compare.licence_note": (
        "Sources and licences: livability info --region {region} (several national layers are "
        "partial, several licences unclear).",
        "Källor och licenser: livability info --region {region} (flera nationella lager är "
        "ofullständiga, flera licenser oklara)."),
    "cli.compare.no_sverige": (
        "No national snapshot: compared within {region}. For any Swedish place: livability build "
        "--region sverige --pack ../shared/data/sweden",
        "Ingen nationell ögonblicksbild: jämfört inom {region}. För vilken svensk ort som helst: "
        "livability build --region sverige --pack ../shared/data/sweden"),
    "cli.export.summary": ("exported {n} tables as {format} (EPSG:{crs}) to {target} in {seconds} s",
                           "exporterade {n} tabeller som {format} (EPSG:{crs}) till {target} på "
                           "{seconds} s"),
    "cli.export.skipped": ("skipped {name}: {reason}", "hoppade över {name}: {reason}"),
    "cli.export.attribution": ("attribution: {items}", "erkännanden: {items}"),
    # app pages (streamlit_app.py, app/)
    "app_title": ("Livability explorer", "Livskvalitetsutforskaren"),
    "tagline": ("Where to live in {region}: open data, transparent scores.",
                "Var ska man bo i {region}: öppna data, öppna poäng."),
    "language": ("Language", "Språk"),
    "page": ("Page", "Sida"),
    "page_map": ("Map", "Karta"),
    "page_profile": ("Place profile", "Ortsprofil"),
    "page_compare": ("Compare", "Jämför"),
    "page_export": ("Download", "Ladda ner"),
    "page_data": ("About the data", "Om data"),
    "what_matters": ("What matters to you", "Vad är viktigt för dig"),
    "persona": ("Preset", "Förval"),
    "custom": ("Custom", "Egen"),
    "weights_help": ("0 = ignore, 5 = very important", "0 = strunta i, 5 = mycket viktigt"),
    "theme_from": ("Scored here from: {what}.", "Poängsätts här med: {what}."),
    "theme_stats_only": ("Municipal statistics only: every place in a municipality gets the same "
                         "value.",
                         "Bara kommunstatistik: alla orter i en kommun får samma värde."),
    "reset_weights": ("Reset to profile", "Återställ profil"),
    "themes_no_data": ("Not scored (no data yet): {themes}. How to add one: {how}",
                       "Poängsätts inte (inga data än): {themes}. Så lägger du till ett: {how}"),
    "choose_option": ("Choose an option", "Välj ett alternativ"),
    "choose_options": ("Choose one or more", "Välj en eller flera"),
    "base_tiles": ("Background map (OpenStreetMap tiles, needs internet)",
                   "Bakgrundskarta (OpenStreetMap, kräver internet)"),
    "show_hexagons": ("Show hexagon scores", "Visa hexagonpoäng"),
    "theme_layers": ("Point layers on the map", "Punktlager på kartan"),
    "score": ("Score", "Poäng"),
    "rank": ("Rank", "Placering"),
    "rank_band": ("Rank band", "Placeringsintervall"),
    "rank_band_help": ("How the rank moves under other reasonable weights",
                       "Hur placeringen rör sig med andra rimliga vikter"),
    "top5_share": ("Share of weightings where it is top 5", "Andel viktningar med topp 5"),
    "locality": ("Locality", "Tätort"),
    "localities": ("Localities", "Tätorter"),
    "municipality": ("Municipality", "Kommun"),
    "municipalities": ("Municipalities", "Kommuner"),
    "population": ("Population", "Folkmängd"),
    "hexagons": ("Hexagons", "Hexagoner"),
    "ranking": ("Ranking", "Rangordning"),
    "ranking_caption": ("Localities ranked for the weights on the left (text alternative to the map).",
                        "Tätorter rangordnade efter vikterna till vänster (textalternativ till kartan)."),
    "legend": ("Legend", "Teckenförklaring"),
    "legend_text": ("Colour: score 0-100 (dark purple low, yellow high; grey = no score). "
                    "Circle size: population.",
                    "Färg: poäng 0-100 (mörklila låg, gul hög; grå = ingen poäng). "
                    "Cirkelns storlek: folkmängd."),
    "map_hexagons_aggregated": (
        "Hexagons shown at H3 resolution {res} ({count} areas) at this zoom: each is the "
        "population-weighted mean of its grid cells ({cells} cells at resolution {cell_res}).",
        "Hexagonerna visas på H3-upplösning {res} ({count} områden) i denna zoomnivå: var och en är "
        "det befolkningsviktade medelvärdet av sina rutor ({cells} rutor på upplösning {cell_res})."),
    "map_hexagons_cells": ("Hexagons shown: {count} grid cells at H3 resolution {res}.",
                           "Hexagoner som visas: {count} rutor på H3-upplösning {res}."),
    "map_layer_capped": ("{layer}: showing {drawn} of {total} features (the map draws at most "
                         "{cap} per layer).",
                         "{layer}: visar {drawn} av {total} objekt (kartan ritar högst {cap} "
                         "per lager)."),
    "map_tip_ranked": ("{name}: {score}, {band}, {rank} of {total}",
                       "{name}: {score}, {band}, plats {rank} av {total}"),
    "map_tip_score": ("{name}: {score}, {band}", "{name}: {score}, {band}"),
    "map_tip_no_score": ("{name}: no score", "{name}: ingen poäng"),
    "map_tip_area": ("This area: {score}, {band}", "Det här området: {score}, {band}"),
    "map_tip_area_none": ("This area: no score", "Det här området: ingen poäng"),
    "map_legend_scale": ("Score 0-100", "Poäng 0–100"),
    "map_legend_no_score": ("no score", "ingen poäng"),
    "map_legend_size": ("(size: population)", "(storlek: folkmängd)"),
    "map_tiles_failed": ("The background map could not be loaded (no internet?). The map works "
                         "without it.",
                         "Bakgrundskartan kunde inte laddas (inget internet?). Kartan fungerar "
                         "utan den."),
    "map_click_hint": ("Click a locality on the map, or pick one below, to open its profile.",
                       "Klicka på en tätort på kartan, eller välj nedan, för att öppna profilen."),
    "open_profile": ("Open profile", "Öppna profil"),
    "choose_place": ("Place", "Ort"),
    "no_scores": ("Scores are not available yet: the map shows the data without scores.",
                  "Poäng finns inte ännu: kartan visar data utan poäng."),
    "nothing_scored": ("No indicator has data for this region yet, so no place can be scored. "
                       "See About the data for the missing layers and how to get them.",
                       "Ingen indikator har data för regionen ännu, så ingen ort kan få poäng. "
                       "Se Om data för de saknade lagren och hur man hämtar dem."),
    "scores_failed": ("Scores could not be computed: {msg}",
                      "Poängen kunde inte beräknas: {msg}"),
    "breakdown": ("Theme breakdown", "Poäng per tema"),
    "indicators": ("Indicators and nearest places", "Indikatorer och närmaste platser"),
    # the place profile (app/view_profile.py): pf_*; pf_kinds.<kind>: plural nouns for the gaps
    "pf_place_line": ("{ptype} in {municipality} municipality · {population} inhabitants",
                      "{ptype} i {municipality} kommun · {population} invånare"),
    "pf_muni_line": ("Municipality in {region} · {population} inhabitants",
                     "Kommun i {region} · {population} invånare"),
    "pf_score_of": ("Score {score} of 100", "Poäng {score} av 100"),
    "pf_pct_region": ("Better than {pct} of the places in {region}.",
                      "Bättre än {pct} av orterna i {region}."),
    "pf_pct_both": ("Better than {pct} of the places in {region} and {pct_type} of its {ptypes}.",
                    "Bättre än {pct} av orterna i {region} och {pct_type} av dess {ptypes}."),
    "pf_pct_munis": ("Better than {pct} of the municipalities in {region}.",
                     "Bättre än {pct} av kommunerna i {region}."),
    "pf_rank": ("Rank {rank} of {n}.", "Plats {rank} av {n}."),
    "pf_rank_band": ("Rank {rank} of {n}; between {low} and {high} under other reasonable weightings.",
                     "Plats {rank} av {n}; mellan {low} och {high} med andra rimliga viktningar."),
    "pf_complete": ("{pct} of this score rests on complete data.",
                    "{pct} av poängen vilar på fullständiga data."),
    "pf_map": ("The place and its nearest amenities", "Orten och det närmaste runt den"),
    "pf_map_muni": ("The municipality and its localities", "Kommunen och dess tätorter"),
    "pf_map_title": ("Map of {name} and its nearest amenities", "Karta över {name} och det närmaste"),
    "pf_map_legend": ("Ring: {name}. Dots: the nearest amenity of each kind, coloured by theme:",
                      "Ring: {name}. Prickar: det närmaste av varje slag, färgade efter tema:"),
    "pf_map_legend_muni": ("Outline: {name}. Circles: its localities, coloured by score (dark low, "
                           "yellow high).",
                           "Kontur: {name}. Cirklar: dess tätorter, färgade efter poäng (mörk låg, "
                           "gul hög)."),
    "pf_chart_alt": ("Theme scores out of 100: {items}.", "Poäng per tema av 100: {items}."),
    "pf_themes": ("What is near, theme by theme", "Vad som finns nära, tema för tema"),
    "pf_no_data": ("no data", "inga data"),
    "pf_none_known": ("none we know of within {dist} {travel}",
                      "ingen som vi känner till inom {dist} {travel}"),
    "pf_none_in_reach": ("none within reach", "ingen inom räckhåll"),
    "pf_for_share": ("nearest for {pct} of residents", "närmast för {pct} av invånarna"),
    "pf_vs_sweden": ("Sweden: {median}", "Sverige: {median}"),
    "pf_typical": ("Distances are the typical resident's.", "Avstånden gäller den typiska invånaren."),
    "pf_approx_mark": ("≈: {note}", "≈: {note}"),
    "pf_gaps": ("What we do not know here", "Det här vet vi inte"),
    "pf_gap_partial_lead": ("Incomplete lists. A score counts only the places its list has, so "
                            "where a list lacks one near you the score is too low, never too high:",
                            "Ofullständiga listor. Poängen räknar bara de ställen som listan har, så "
                            "där ett ställe nära dig saknas blir poängen för låg, aldrig för hög "
                            "(källornas egna anteckningar citeras på engelska):"),
    "pf_gap_partial": ("{kinds}: {what} missing.", "{kinds}: {what} saknas."),
    "pf_gap_partial_generic": ("{kinds}: the source lists only some.",
                               "{kinds}: källan listar bara en del."),
    # Swedish, when the pack says what is missing only in English: its words quoted, not translated
    "pf_gap_partial_quoted": ("{kinds}: the source lists only some (its note, in English: "
                              "“{what} missing”).",
                              "{kinds}: källan listar bara en del (”{what} missing”)."),
    "pf_doubt_short": ("position doubtful", "läget osäkert"),
    "pf_gap_absent": ("We have no data on {kinds} yet, so {indicators} is left out of the score.",
                      "Vi har inga data om {kinds} ännu, så {indicators} räknas inte in i poängen."),
    "pf_gap_no_value": ("There is no figure for {indicators} here, so it is left out of the score.",
                        "Det finns ingen siffra för {indicators} här, så den räknas inte in i poängen."),
    "pf_quoted": ("“{text}”", "”{text}”"),
    "pf_gap_approx": ("Distances are straight-line distances with a detour factor (no street map "
                      "loaded), so they are approximate.",
                      "Avstånden är fågelvägen med en omvägsfaktor (ingen vägkarta inläst), så de är "
                      "ungefärliga."),
    "pf_gap_none": ("Nothing we know of: every list used here is complete.",
                    "Inget vi känner till: alla listor som används här är fullständiga."),
    "pf_and": ("and", "och"),
    "pf_context": ("The municipality in numbers", "Kommunen i siffror"),
    "pf_context_caption": ("{municipality} against the median Swedish municipality.",
                           "{municipality} jämfört med medianen för Sveriges kommuner."),
    "pf_col_stat": ("Statistic", "Statistik"),
    "pf_col_here": ("Here", "Här"),
    "pf_col_sweden": ("Sweden (median)", "Sverige (median)"),
    "pf_col_year": ("Year", "År"),
    "pf_county_only": ("county only", "bara länet"),
    "pf_localities": ("Localities in the municipality", "Tätorter i kommunen"),
    "pf_sources": ("Sources and licences", "Källor och licenser"),
    "pf_print_hint": ("To print or save this profile as a PDF, use your browser's Print (Ctrl+P): "
                      "it is laid out for A4.",
                      "Skriv ut eller spara profilen som PDF med webbläsarens Skriv ut (Ctrl+P): "
                      "den är anpassad för A4."),
    "pf_kinds.alcohol_shop": ("Systembolaget shops", "Systembolagsbutiker"),
    "pf_kinds.bathing_place": ("bathing places", "badplatser"),
    "pf_kinds.bus_stop": ("bus stops", "busshållplatser"),
    "pf_kinds.clinic": ("health centres", "vårdcentraler"),
    "pf_kinds.college": ("upper secondary schools", "gymnasieskolor"),
    "pf_kinds.commercial": ("commercial areas", "verksamhetsområden"),
    "pf_kinds.grocery": ("grocery stores", "matbutiker"),
    "pf_kinds.hospital": ("hospitals", "sjukhus"),
    "pf_kinds.industrial": ("industrial areas", "industriområden"),
    "pf_kinds.kindergarten": ("preschools", "förskolor"),
    "pf_kinds.library": ("libraries", "bibliotek"),
    "pf_kinds.nature_reserve": ("nature reserves", "naturreservat"),
    "pf_kinds.office": ("offices", "kontor"),
    "pf_kinds.park": ("parks", "parker"),
    "pf_kinds.pharmacy": ("pharmacies", "apotek"),
    "pf_kinds.rail_station": ("railway stations", "järnvägsstationer"),
    "pf_kinds.retail": ("shopping areas", "handelsområden"),
    "pf_kinds.school": ("schools", "skolor"),
    "pf_kinds.sports": ("sports grounds and halls", "idrottsplatser och hallar"),
    "pf_kinds.venue": ("theatres, cinemas and museums", "teatrar, biografer och museer"),
    "key_facts": ("Key facts", "Fakta"),
    "rent": ("Median rent (SEK/m² per year)", "Medianhyra (kr/m² och år)"),
    "school_results": ("School results", "Skolresultat"),
    "coverage_warnings": ("Coverage warnings", "Täckningsvarningar"),
    "coverage_layers": ("Data gaps in the map layers", "Luckor i kartlagrens data"),
    "sources": ("Sources", "Källor"),
    "missing_indicators": ("Could not compute: {items}", "Kunde inte beräknas: {items}"),
    "no_place": ("Pick a place to see its profile.", "Välj en ort för att se dess profil."),
    "compare_pick": ("Pick 2 to 4 places", "Välj 2 till 4 orter"),
    "compare_kind": ("Compare", "Jämför"),
    "compare_need_two": ("Pick at least two places.", "Välj minst två orter."),
    "compare_sweden": ("With where you live now (all Sweden)",
                       "Med där du bor nu (hela Sverige)"),
    "se_missing": (
        "To compare with any place in Sweden, build the national snapshot once: {cmd}",
        "För att jämföra med vilken ort som helst i Sverige, bygg den nationella "
        "ögonblicksbilden en gång: {cmd}"),
    "se_loading": ("Loading the national scores (all of Sweden)...",
                   "Läser in de nationella betygen (hela Sverige)..."),
    "se_pick": ("Where you live now: any Swedish tätort or municipality",
                "Där du bor nu: vilken svensk tätort eller kommun som helst"),
    "se_placeholder": ("Type a place, e.g. Malmö", "Skriv en ort, t.ex. Malmö"),
    "se_with": ("Compared with a place in {region}", "Jämförd med en ort i {region}"),
    "se_choose": ("Choose where you live now to see it beside the place here.",
                  "Välj var du bor nu för att se det bredvid orten här."),
    "se_no_region_places": ("The national snapshot has no locality of {region}.",
                            "Den nationella ögonblicksbilden har ingen tätort i {region}."),
    "se_pct_row": ("Better than (% of Sweden's places of the same type)",
                   "Bättre än (% av Sveriges orter av samma typ)"),
    "se_indicators": ("Key indicators", "Viktiga indikatorer"),
    "se_indicators_caption": (
        "Score; the median resident's distance; the nearest place (travel time by bike or car).",
        "Betyg; medianinvånarens avstånd; närmaste plats (restid med cykel eller bil)."),
    "se_context": ("Municipal context", "Kommunala förhållanden"),
    "se_scored_same": (
        "Both places scored with the national data pack (snapshot sverige, built {built}), the "
        "same way, so they can differ from {region}'s own pages, which use the region's data.",
        "Båda orterna betygsätts med det nationella datapaketet (ögonblicksbild sverige, byggd "
        "{built}), på samma sätt; därför kan de skilja sig från sidorna för {region}, som "
        "använder regionens data."),
    "se_coverage": (
        "Partial national layers: {partial}. {unclear} of {total} sources have an unclear "
        "licence; {cmd} lists them.",
        "Ofullständiga nationella lager: {partial}. {unclear} av {total} källor har en oklar "
        "licens; {cmd} listar dem."),
    "compare_best": ("Best value per row is highlighted.", "Bästa värdet per rad är markerat."),
    "export_intro": ("Download the current layers and scores (with source and licence columns).",
                     "Ladda ner aktuella lager och poäng (med käll- och licenskolumner)."),
    "export_what": ("What to download", "Vad vill du ladda ner"),
    "export_format": ("Format", "Format"),
    "download": ("Download", "Ladda ner"),
    "prepare": ("Prepare {fmt}", "Förbered {fmt}"),
    "preparing": ("Writing the file…", "Skriver filen…"),
    "rows": ("Rows", "Rader"),
    "data_loaded": ("What is loaded", "Vad som är inläst"),
    "region": ("Region", "Region"),
    "built_at": ("Built", "Byggd"),
    "stale": ("Stale: {msg}", "Inaktuell: {msg}"),
    "layer": ("Layer", "Lager"),
    "count": ("Features", "Objekt"),
    "coverage": ("Coverage", "Täckning"),
    "reason": ("Why missing / note", "Varför saknas / not"),
    "licence": ("Licence", "Licens"),
    "date": ("Date", "Datum"),
    "tables": ("Statistics tables", "Statistiktabeller"),
    "networks": ("Street networks", "Vägnät"),
    "attributions": ("Attributions", "Erkännanden"),
    "map_frame_title": ("Interactive map of {region}", "Interaktiv karta över {region}"),
    "dataset": ("Dataset", "Datamängd"),
    "net_mode": ("Mode", "Färdsätt"),
    "net_nodes": ("Nodes", "Noder"),
    "net_edges": ("Edges", "Länkar"),
    "about_method": ("How the scores work", "Så fungerar poängen"),
    "about_score": (
        "Every place gets a **score from 0 to 100**: how well everyday needs are met from where its "
        "residents live. {region} is covered by small hexagons (H3, about 0.1 km²); each inhabited "
        "hexagon is scored, and a locality's score is the population-weighted mean of its hexagons "
        "(a municipality's of its localities). 100 means every need within its standard.",
        "Varje ort får en **poäng från 0 till 100**: hur väl vardagens behov nås från där "
        "invånarna bor. {region} täcks av små hexagoner (H3, ungefär 0,1 km²); varje bebodd "
        "hexagon får poäng, och en orts poäng är hexagonernas medel viktat efter befolkning "
        "(en kommuns efter dess orter). 100 betyder att varje behov nås inom sin norm."),
    "about_themes": (
        "**Themes** ({themes}) each hold a few **indicators**: the distance to the nearest "
        "preschool, grocery store or bus stop by a travel mode, departures nearby, or a municipal "
        "statistic such as the tax rate. A theme is the weighted mean of its indicators, the score "
        "the weighted mean of the themes; the sliders set the themes' weights.",
        "**Teman** ({themes}) har var och en några **indikatorer**: avståndet till närmaste "
        "förskola, livsmedelsbutik eller busshållplats med ett färdsätt, avgångar i närheten, "
        "eller ett kommunalt mått som skattesatsen. Ett tema är det viktade medlet av sina "
        "indikatorer, poängen det viktade medlet av temana; reglagen sätter temanas vikter."),
    "about_decay": (
        "**From distance to points (decay)**: a distance indicator is 100 while the amenity lies "
        "within the standard for the place type (a grocery store within 800 m in a town, 1,500 m "
        "in a village), 50 at 1.5 times the standard and 20 at twice it. A municipal statistic "
        "scores 50 for an average Swedish municipality and weighs at most 20 % of a theme, since "
        "one number per municipality cannot tell two villages apart.",
        "**Från avstånd till poäng (avtagande)**: en avståndsindikator är 100 så länge målet "
        "ligger inom normen för ortstypen (en livsmedelsbutik inom 800 m i en stad, 1 500 m i en "
        "by), 50 vid 1,5 gånger normen och 20 vid dubbla normen. Ett kommunalt mått ger 50 för en "
        "genomsnittlig svensk kommun och väger högst 20 % av ett tema, eftersom ett tal per kommun "
        "inte skiljer två byar åt."),
    "about_bands": (
        "**The scale in words**: {bands}. **Percentile**: the share of the region's other "
        "localities a place beats (ties count half), also among places of its own type (town, "
        "small town, village). **Rank band**: how the rank moves under other reasonable weights "
        "and decays.",
        "**Skalan i ord**: {bands}. **Percentil**: andelen av regionens övriga orter som en ort "
        "slår (lika räknas som hälften), även bland orter av samma typ (stad, mindre tätort, by). "
        "**Rangintervall**: hur placeringen rör sig med andra rimliga vikter och avtaganden."),
    "about_missing": (
        "**Missing and partial data**: a theme or indicator without data is left out and the "
        "other weights are rescaled; it never counts as zero, and the pages say what is missing. "
        "Where a list is known to be incomplete, the distance is to the **nearest known** "
        "amenity: an upper bound of the true distance, so the score is a lower bound and a place "
        "never gains from a gap. A missing amenity the data names with its town (Blekingesjukhuset "
        "Karlskrona) lies somewhere in that town: its distance is given as **at most** the "
        "distance to the town's farthest edge. Without a street network, distances are straight-line × a "
        "detour factor (1.3 on foot and by bike, 1.4 by car), marked approximate.",
        "**Saknade och ofullständiga data**: ett tema eller en indikator utan data lämnas utanför "
        "och de andra vikterna skalas om; det räknas aldrig som noll, och sidorna säger vad som "
        "saknas. Där en lista är känd som ofullständig mäts avståndet till **närmaste kända** "
        "mål: en övre gräns för det verkliga avståndet, så poängen är en undre gräns och en ort "
        "vinner aldrig på en lucka. Ett saknat mål som data nämner med sin ort (Blekingesjukhuset "
        "Karlskrona) ligger någonstans i den orten: avståndet anges som **högst** avståndet till "
        "ortens bortersta kant. Utan vägnät är avstånden fågelvägen × en omvägsfaktor (1,3 "
        "till fots och med cykel, 1,4 med bil), markerade som ungefärliga."),
    "about_sources": (
        "**Sources and licences**: every layer and table below names its source, licence and "
        "date, and they travel into every export. {unclear} of {total} sources have an unclear "
        "licence status (the licence column starts with “unclear”): check those before you "
        "republish the data. More in the README, sections “Data: real, traceable, never "
        "invented” and “Scores”.",
        "**Källor och licenser**: varje lager och tabell nedan anger källa, licens och datum, och "
        "de följer med i varje export. {unclear} av {total} källor har oklar licensstatus "
        "(licenskolumnen börjar med ”unclear”): kontrollera dem innan du publicerar data vidare. "
        "Mer i README, avsnitten ”Data: real, traceable, never invented” och ”Scores”."),
    "refresh": ("How to refresh", "Så uppdaterar du"),
    "refresh_text": ("Rebuild the snapshot from the command line (the app picks it up on reload):",
                     "Bygg om ögonblicksbilden från kommandoraden (appen läser in den vid omladdning):"),
    "own_pack": ("Add your own data", "Lägg till egna data"),
    "own_pack_text": (
        "Put a folder with a `pack.json` (files, theme, source, licence, date, coverage) under "
        "`data/packs/<name>/`, or pass `--pack <folder>` to the build; one file goes into a layer "
        "with `--file <layer>=<file>` (GeoJSON, GeoPackage or CSV). Then rebuild.",
        "Lägg en mapp med en `pack.json` (filer, tema, källa, licens, datum, täckning) i "
        "`data/packs/<namn>/`, eller ange `--pack <mapp>` vid bygget; en enstaka fil läggs i ett "
        "lager med `--file <lager>=<fil>` (GeoJSON, GeoPackage eller CSV). Bygg sedan om."),
    "partial": ("partial", "ofullständig"),
    "missing": ("missing", "saknas"),
    "complete": ("complete", "komplett"),
    "first_run_title": ("No data built yet", "Inga data byggda ännu"),
    "first_run_text": (
        "The explorer needs a local snapshot of the region. Build it once (a few minutes; works "
        "offline with the Blekinge data pack):",
        "Utforskaren behöver en lokal ögonblicksbild av regionen. Bygg den en gång (några minuter; "
        "fungerar utan internet med Blekinges datapaket):"),
    "first_run_then": ("Then reload this page. Data folder: `{path}`",
                       "Ladda sedan om sidan. Datamapp: `{path}`"),
    "error_title": ("Something went wrong", "Något gick fel"),
    "error_todo": ("What to do: {todo}", "Vad du kan göra: {todo}"),
    "error_generic_todo": (
        "reload the page; if it persists, rebuild the data with `livability build --region {region}` "
        "and check the server log.",
        "ladda om sidan; om felet kvarstår, bygg om data med `livability build --region {region}` "
        "och läs serverloggen."),
    "loading": ("Loading data…", "Läser in data…"),
    "computing": ("Computing scores…", "Beräknar poäng…"),
    "mode_walk": ("on foot", "till fots"),
    "mode_bike": ("by bike", "med cykel"),
    "mode_car": ("by car", "med bil"),
    "distance": ("Distance", "Avstånd"),
    "nearest": ("Nearest", "Närmast"),
    "value": ("Value", "Värde"),
    "theme": ("Theme", "Tema"),
    "indicator": ("Indicator", "Indikator"),
    "approx_note": ("Distances are straight-line × detour factor where no street network is loaded.",
                    "Avstånd är fågelvägen × omvägsfaktor där vägnät saknas."),
    "layer_partial_note": ("{layer}: partial data, {count} places on the map (some are missing)",
                           "{layer}: ofullständiga data, {count} platser på kartan (några saknas)"),
    "layer_missing_note": ("{layer}: no data yet: {reason}", "{layer}: inga data än: {reason}"),
    # the search box (app/search_ui.py)
    "search_label": ("Find a place, stop or address", "Hitta en ort, hållplats eller adress"),
    "search_placeholder": ("e.g. Lyckeby, Karlskrona campus Gräsvik or a street address",
                           "t.ex. Lyckeby, Karlskrona campus Gräsvik eller en gatuadress"),
    "search_hits": ("{n} places found: choose one to see its score",
                    "{n} platser hittades: välj en för att se dess poäng"),
    "search_cut": ("Only the first {n} characters were searched.",
                   "Bara de första {n} tecknen användes i sökningen."),
    "search_no_hits": ("No place called “{query}” in {region}.",
                       "Ingen plats som heter ”{query}” i {region}."),
    "search_source": ("Source: {source}. Licence: {licence}.", "Källa: {source}. Licens: {licence}."),
    "search_kind.locality": ("urban area", "tätort"),
    "search_kind.town": ("village or town (GeoNames)", "ort (GeoNames)"),
    "search_kind.address": ("address", "adress"),
    "search_kind.place": ("place", "plats"),
    "search_unavailable": ("Search is not available for this data (see the log); pick a place below.",
                           "Sökningen fungerar inte för dessa data (se loggen); välj en ort nedan."),
    "show_on_map": ("Show on map", "Visa på kartan"),
    "licence_unclear": ("licence unclear", "licens oklar"),
    # the score of a point (app/view_point.py)
    "point_title": ("Point {lat}, {lon}", "Punkt {lat}, {lon}"),
    "point_where_locality": ("In {locality} ({ptype}), {municipality} municipality",
                             "I {locality} ({ptype}), {municipality} kommun"),
    "point_where_country": ("Countryside in {municipality} municipality, {dist} from {locality}",
                            "Landsbygd i {municipality} kommun, {dist} från {locality}"),
    "point_where_country_alone": ("Countryside in {municipality} municipality",
                                  "Landsbygd i {municipality} kommun"),
    "point_pct": ("Better than {places}% of the localities and {cells}% of the inhabited grid "
                  "cells in {region}",
                  "Bättre än {places} % av orterna och {cells} % av de bebodda rutorna i "
                  "{region}"),
    "point_themes": ("Themes", "Teman"),
    "point_nearest": ("Nearest places", "Närmaste platser"),
    "point_more": ("{n} more nearest places", "{n} fler närmaste platser"),
    "point_min_walk": ("{minutes} min on foot", "{minutes} min till fots"),
    "point_min_bike": ("{minutes} min by bike", "{minutes} min med cykel"),
    "point_min_car": ("{minutes} min by car", "{minutes} min med bil"),
    "point_known": ("nearest known", "närmaste kända"),
    "point_bound": ("at most {dist}: not in the list with a position, lies in {within}",
                    "högst {dist}: finns inte med position i listan, ligger i {within}"),
    "point_known_note": ("“Nearest known”: our list is incomplete here, a closer one may exist.",
                         "”Närmaste kända”: vår lista är ofullständig här, det kan finnas en "
                         "närmare."),
    "point_no_score": ("No score here: none of the weighted themes has data at this point.",
                       "Ingen poäng här: inget av de viktade temana har data för den här "
                       "punkten."),
    "point_close": ("Close", "Stäng"),
    "point_commute": ("Use as my commute target", "Använd som mitt pendlingsmål"),
    "point_failed": ("This point could not be scored ({error}); try another point.",
                     "Den här punkten kunde inte poängsättas ({error}); prova en annan punkt."),
    "share_link": ("This page's address holds your choices: copy it to share the view.",
                   "Sidans adress innehåller dina val: kopiera den för att dela vyn."),
    # my commute (app/commute_ui.py)
    "commute_title": ("My commute", "Min pendling"),
    "commute_intro": ("Pick a workplace or school: every locality gets its travel time there.",
                      "Välj en arbetsplats eller skola: varje ort får sin restid dit."),
    "commute_to": ("Commute to **{name}**", "Pendling till **{name}**"),
    "commute_unnamed": ("your target", "ditt mål"),
    "commute_mode": ("Travel by", "Färdsätt"),
    "commute_filter": ("Only localities within a travel time", "Bara orter inom en restid"),
    "commute_max": ("At most (minutes)", "Högst (minuter)"),
    "commute_clear": ("Clear commute target", "Ta bort pendlingsmålet"),
    "commute_pick": ("Commute target: a locality", "Pendlingsmål: en ort"),
    "commute_pick_placeholder": ("Choose a locality", "Välj en ort"),
    "commute_col": ("To {name}, {mode} (min)", "Till {name}, {mode} (min)"),
    "commute_col_approx": ("To {name}, {mode} (min, approx.)", "Till {name}, {mode} (min, ungefär)"),
    "commute_label": ("To {name} (min)", "Till {name} (min)"),
    "commute_label_approx": ("To {name} (≈ min)", "Till {name} (≈ min)"),
    "commute_word.car": ("car", "bil"),
    "commute_word.bike": ("bike", "cykel"),
    "commute_word.walk": ("walk", "gång"),
    "commute_hidden": (
        "{shown} of {total} localities are at most {max} min away {travel}; {hidden} hidden.",
        "{shown} av {total} orter ligger högst {max} min bort {travel}; {hidden} dolda."),
    "commute_method": ("Travel times {travel}: {method}.", "Restider {travel}: {method}."),
    "commute_failed": ("The commute target was not used: {msg}.",
                       "Pendlingsmålet användes inte: {msg}."),
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


def _title(prefix: str, key: str, lang: str) -> str:
    """The catalogue's ``<prefix>.<key>`` in ``lang``; the bare key when the catalogue lacks it."""
    full = f"{prefix}.{key}"
    return t(full, lang) if full in CATALOGUE else str(key)


def layer_title(key: str, lang: str = "en") -> str:
    """Title of theme layer ``key`` (``layer.<key>``): ``layer_title("schools", "sv") == "Skolor"``."""
    return _title("layer", key, lang)


def indicator_title(key: str, lang: str = "en") -> str:
    """Title of indicator ``key`` (``indicator.<key>``, e.g. ``indicator.transit.rail``)."""
    return _title("indicator", key, lang)


def persona_title(key: str, lang: str = "en") -> str:
    """Title of persona ``key`` (``persona.<key>``)."""
    return _title("persona", key, lang)


def stat_title(key: str, lang: str = "en") -> str:
    """Title of municipal context line ``key`` (``stat.<key>``, e.g. ``stat.context.crime``)."""
    return _title("stat", key, lang)


def fmt_number(x: float, lang: str = "en", decimals: int = 0, *, grouping: bool = True) -> str:
    """``x`` with ``decimals`` digits for a reader of ``lang`` (Babel); NaN and infinities: ``"-"``."""
    xf = float(x)
    if not math.isfinite(xf):
        return "-"
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * int(decimals) if decimals > 0 else "")
    return format_decimal(round(xf, int(decimals)), pattern, locale=LOCALES[lang_of(lang)])


def fmt_percent(share: float, lang: str = "en") -> str:
    """``share`` (0.04) as a whole percentage for ``lang`` (Babel): ``4%``, ``4\xa0%``; NaN: ``"-"``."""
    xf = float(share)
    if not math.isfinite(xf):
        return "-"
    return format_percent(xf, locale=LOCALES[lang_of(lang)])
