"""Engine messages (geo.messages.Message) in English and Swedish, and their use in explanations
and the app.

Stores here are SYNTHETIC (tests/_score_fixtures.py, tests/_app_fixtures.py): invented places.
"""

from __future__ import annotations

import ast
import html
import json
import re
import string
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from _app_fixtures import run_app, write_synthetic_store
from _error_samples import ERROR_SAMPLES
from _score_fixtures import make_snapshot
from shapely.geometry import Point

from geo.build import layer_coverage
from geo.catalog import CATALOGUE
from geo.cli import main
from geo.errors import StoreError
from geo.messages import Message, fmt_number, fmt_spec, join, render, text
from geo.schema import Provenance
from geo.scoring import build_model, explain, score
from geo.store import SCHEMA_VERSION, open_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parents[1]
#: message codes: the ``msg.<code>`` entries of the catalogue
CODES = sorted(k[4:] for k in CATALOGUE if k.startswith("msg."))

#: one sample message per code
SAMPLES: dict[str, dict[str, Any]] = {
    "input_changed": {"input": ["pack", "blekinge"], "built": "2026-11-30",
                      "command": "livability build --region blekinge"},
    "input_added": {"input": ["pack", "extra"], "built": "2026-11-30",
                    "command": "livability build --region blekinge"},
    "input_missing": {"input": ["file", "s.csv"], "built": "2026-11-30",
                      "command": "livability build --region blekinge"},
    "input_online": {"input": ["osm-online", ""]},
    "inputs_unrecorded": {"built": "2026-11-30", "command": "livability build --region blekinge"},
    "inputs_not_built": {},
    "rules_changed": {"built": "2026-11-30", "command": "livability build --region blekinge"},
    "areas_too_small": {"n": 3, "min_ha": 1.5},
    "point_features": {"n": 28},
    "network_fallback": {"mode": "bike", "network": "walk"},
    "no_network": {"mode": "walk", "network": "walk", "factor": 1.3},
    "partitions_failed": {"names": ["county 10 Blekinge län"], "n": 1, "total": 21,
                          "error": "ValueError: boom"},
    "stat_table_missing": {"table": "rent"},
    "stat_no_values": {"table": "rent", "column": "value"},
    "stat_no_municipalities": {"table": "rent"},
    "stat_standardised": {"n": 5, "mean": 1036.2, "lo": 871.0, "hi": 1167.0, "points": 20.0},
    "column_used": {"column": "value"},
    "stat_national": {"n": 290, "median": 33.595, "points": 20.0},
    "stat_national_log": {"n": 290, "median": 2217.0, "points": 20.0},
    "stat_no_value_for": {"municipalities": ["Olofström"], "table": "kolada_tax_rate_2025"},
    "stat_county_only": {"region": "Blekinge län"},
    "stat_table_only": {"n": 12},
    "national_median": {"median": "33.6%"},
    "licence_unclear": {},
    "context_group": {"n": 27, "total": 290},
    "context_header": {"municipality": "Karlskrona"},
    "stat_share": {"share": 0.2, "cap": 0.2},
    "layer_not_loaded": {"kinds": ["office", "bus_stop"], "layer": "workplaces"},
    "kinds_absent": {"kinds": ["kindergarten"], "n": 40, "layer": "schools",
                     "present": ["school"]},
    "kinds_absent_area": {"kinds": ["park"], "n": 1, "layer": "nature",
                          "present": ["bathing_place"], "min_ha": 1.5},
    "departures_weighted": {"classes": [[4.0, 1.0], [2.0, 0.75]]},
    "no_value_here": {},
    "score_meaning": {"score": 71.2, "band": "foot_or_bike", "pct_region": 80.0, "pct_type": 65.0,
                      "region": "Blekinge län", "place_type": "village"},
    "score_meaning_sole": {"score": 47.3, "band": "bike_or_bus", "pct_region": 60.0,
                           "region": "Blekinge län", "place_type": "archipelago"},
    "score_band": {"score": 35.0, "band": "car_useful", "place_type": "countryside"},
    "place_unknown": {"place": "Malmo", "region_name": "Blekinge län", "close": ["Malmö"],
                      "region": "blekinge"},
    "place_ambiguous": {"place": "Ekeby", "n": 3, "candidates": ["Ekeby (Bjuv, 1260TB101)",
                                                                 "Ekeby (Kumla, 1881TB102)"],
                        "example": "Ekeby (Bjuv)"},
    "place_type_unknown": {"given": "city", "known": ["town", "small_town", "village", "archipelago"]},
    "pct_of_type": {"pct": 77.6, "n": 52, "place_type": "village", "region": "Blekinge län"},
    "pct_of_type_national": {"pct": 77.6, "n": 126, "place_type": "town"},
    "layer_no_source": {"what": ["library", "sports", "venue"]},
    "layer_no_data": {},
    "layer_absent_kinds": {"kinds": ["bus_stop"]},
    "layer_partial_sources": {"sources": ["OSM", "Skolverket"]},
    "layer_not_in_snapshot": {},
    "nearest_median": {"place": ["Karlskrona C", "rail_station"], "pct": 62, "dist": 1400.0,
                       "mode": "bike"},
    "nearest_known_median": {"place": [None, "grocery"], "pct": 40, "dist": 640.0,
                             "mode": "walk"},
    "nearest_also": {"place": ["Karlskrona C", "rail_station"], "pct": 13, "dist": 1100.0},
    "nearest_point": {"place": ["Alpha station", "rail_station"], "dist": 811.0, "mode": "bike"},
    "nearest_known_point": {"place": ["Apotek", "pharmacy"], "dist": 2500.0, "mode": "bike"},
    "nearest_bound": {"place": ["Blekingesjukhuset Karlskrona", "hospital"], "dist": 9800.0,
                      "mode": "car", "within": "Karlskrona"},
    "no_known_within": {"kinds": ["hospital"], "dist": 40000.0, "mode": "car"},
    "position_doubt": {"place": ["Nättraby vårdcentral", "health_centre"], "dist": 3900.0,
                       "named": "Nättraby"},
    "none_in_reach": {},
    "partial_gap": {"kinds": ["hospital"], "gaps": ["Blekingesjukhuset Karlskrona (hospital)"]},
    "partial_generic": {},
    "complete_share": {"pct": 62},
    # a scored point (geo.point)
    "point_invalid": {"lat": "nan", "lon": "15.5"},
    "point_maybe_water": {},
    "point_off_land": {"lat": 56.05, "lon": 15.6, "region": "Blekinge län"},
    "point_outside": {"lat": 57.5, "lon": 15.0, "region": "Blekinge län", "south": 55.98,
                      "north": 56.5, "west": 14.39, "east": 16.08},
    "point_meaning": {"score": 42.3, "band": "bike_or_bus", "place_type": "countryside",
                      "pct_places": 73.0, "pct_cells": 52.0, "region": "Blekinge län"},
    # the address search (geo/sources/geocoder.py)
    "geocoder_busy": {},
    "geocoder_offline": {},
    # commute (geo/commute.py)
    "commute_network": {"network": "bike"},
    "commute_outside": {"lat": 56.8777, "lon": 14.8091, "km": 49, "region": "Blekinge län",
                        "buffer_km": 30},
    "commute_mode": {"mode": "boat", "modes": ["walk", "bike", "car"]},
    "commute_bad_point": {"lat": "nan", "lon": "15.6"},
    **ERROR_SAMPLES,  # the errors a user of the app meets (tests/test_error_messages.py)
}
#: English words of engine reasons and notes that must not reach a Swedish reader
ENGLISH_WORDS = ("missing", "network loaded", "among the", "not loaded", "standardised",
                 "straight-line", "no source provided", "partial source", "not in this snapshot")


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _codes_in_source() -> dict[str, str]:
    """Every code of a ``Message("code", ...)`` call in geo/, layers/ and app/ -> where (a code
    must be a literal, or a literal choice ``"a" if ... else "b"``, so this walk sees it)."""
    found: dict[str, str] = {}
    for pkg in ("geo", "layers", "app"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path == ROOT / "geo" / "messages.py":
                continue  # the type itself: its composites join and text are not templates
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Message"
                        and node.args):
                    continue
                first = node.args[0]  # a literal code, or a literal choice of two
                branches = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
                for b in branches:
                    assert isinstance(b, ast.Constant), f"{path}:{node.lineno}: a computed code"
                    found[str(b.value)] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_code_the_engine_produces_is_in_the_catalogue_in_both_languages() -> None:
    found = _codes_in_source()
    assert len(found) >= 40, found  # the walk finds the engine's calls
    absent = {c: where for c, where in found.items() if f"msg.{c}" not in CATALOGUE}
    assert not absent, absent
    for code in found:
        en, sv = CATALOGUE[f"msg.{code}"]
        assert en.strip() and sv.strip() and _fields(en) == _fields(sv), code


def test_no_code_in_the_catalogue_is_unused() -> None:
    assert set(CODES) == set(_codes_in_source())


def test_every_code_has_a_sample() -> None:
    assert set(SAMPLES) == set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_code_renders_in_both_languages(code: str) -> None:
    en_t, _ = CATALOGUE[f"msg.{code}"]
    assert _fields(en_t) <= set(SAMPLES[code])  # messages may carry more (no_network: mode)
    msg = Message(code, SAMPLES[code])
    en, sv = render(msg, "en"), render(msg, "sv")
    for out in (en, sv):
        assert out and "{" not in out and "}" not in out and "[" not in out
    assert en != sv
    stored = json.loads(json.dumps(msg.to_dict()))  # messages go into the manifest as JSON
    assert stored == {"code": code, **SAMPLES[code]} and Message.from_dict(stored) == msg


def test_english_renderings_are_the_engine_texts() -> None:
    def en(code: str) -> str:
        return render(Message(code, SAMPLES[code]))

    assert en("no_network") == "no walk network loaded: straight-line distance x 1.3 (approximate)"
    assert en("kinds_absent") == "no kindergarten among the 40 places of the schools layer (it has: school)"
    assert en("stat_standardised") == (
        "standardised across 5 municipalities (mean 1036, range 871-1167): 50 = average, "
        "±20 per standard deviation")
    assert en("departures_weighted") == "weighted by departures per hour (>=4/h x1, >=2/h x0.75)"
    assert en("layer_not_loaded") == "no office, bus stop: the workplaces layer is not loaded"
    assert str(Message("no_network", SAMPLES["no_network"])) == en("no_network")  # logs: English


def test_swedish_renderings() -> None:
    sv = {c: render(Message(c, p), "sv") for c, p in SAMPLES.items()}
    assert sv["no_network"] == "inget gångnät inläst: fågelvägen x 1,3 (ungefärligt)"
    assert sv["network_fallback"] == "avstånd med cykel längs gångnätet"
    assert sv["kinds_absent"] == "förskola saknas bland de 40 objekten i lagret Skolor (typer: skola)"
    # Babel (CLDR) groups Swedish digits with a no-break space
    assert sv["stat_standardised"].startswith("standardiserat över 5 kommuner (medel 1\xa0036, "
                                              "spann 871–1\xa0167)")
    assert sv["departures_weighted"] == "viktat efter avgångar per timme (≥4/h x1, ≥2/h x0,75)"
    assert sv["layer_absent_kinds"] == "busshållplats saknas"
    assert sv["stat_share"].startswith("kommunstatistik: 20\xa0% av")
    for out in sv.values():
        assert not any(w in out for w in ENGLISH_WORDS), out


def test_join_text_and_unknown_codes() -> None:
    msg = join(Message("layer_absent_kinds", {"kinds": ["bus_stop"]}), None,
               text("a note from the data"))
    assert msg is not None and msg.code == "join" and len(msg.parts) == 2
    assert render(msg, "en") == "no bus stop; a note from the data"
    assert render(msg, "sv") == "busshållplats saknas; a note from the data"
    assert msg.to_dict() == {"code": "join", "parts": [
        {"code": "layer_absent_kinds", "kinds": ["bus_stop"]},
        {"code": "text", "text": "a note from the data"}]}
    assert Message.from_dict(json.loads(json.dumps(msg.to_dict()))) == msg
    assert join(None, None) is None and text("") is None and render(None, "sv") == ""
    one = Message("layer_no_data")
    assert join(one) == one and join(None, one) == one
    assert render(Message("from_the_future"), "sv") == "from_the_future"  # visible, no crash
    with pytest.raises(KeyError):
        render(Message("no_network", {"mode": "walk"}), "sv")  # a parameter is missing
    with pytest.raises(ValueError, match="no code"):
        Message.from_dict({"text": "no code"})


def test_swedish_numbers() -> None:
    assert fmt_number(1720, "sv") == "1\xa0720"
    assert fmt_number(41.66, "sv", 1) == "41,7"
    assert fmt_number(1234567.891, "sv", 2) == "1\xa0234\xa0567,89"
    assert (fmt_number(1720, "en"), fmt_number(41.66, "en", 1)) == ("1,720", "41.7")
    assert fmt_number(float("nan"), "sv") == "-"
    assert fmt_spec(0.75, "g", "sv") == "0,75" and fmt_spec(0.75, "g", "en") == "0.75"


# -- the engine ---------------------------------------------------------------------------------
def test_layer_coverage_messages() -> None:
    prov = [Provenance(source="A", license="CC0", coverage="partial")]
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326")
    cov, msg = layer_coverage("culture", empty, prov)
    assert (cov, render(msg)) == (
        "missing", "no source provided data for this layer (library, sports, venue)")
    assert render(msg, "sv") == ("ingen källa gav data för det här lagret "
                                 "(bibliotek, idrottsanläggning, teater/bio/museum)")
    g = gpd.GeoDataFrame({"kind": ["rail_station"]}, geometry=[Point(15, 56)], crs="EPSG:4326")
    cov, msg = layer_coverage("transit", g, prov)
    assert (cov, render(msg)) == ("partial", "no bus stop; partial source: A")
    assert render(msg, "sv") == "busshållplats saknas; ofullständig källa: A"
    full = [Provenance(source="A", license="CC0", coverage="complete")]
    both = gpd.GeoDataFrame({"kind": ["rail_station", "bus_stop"]},
                            geometry=[Point(15, 56)] * 2, crs="EPSG:4326")
    assert layer_coverage("transit", both, full) == ("complete", None)


def test_manifest_keeps_reasons_as_messages(tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame({"kind": [], "name": []}, geometry=[], crs="EPSG:4326")
    msg = Message("layer_no_source", {"what": ["library"]})
    with write_snapshot("t", {"name": "T"}, tmp_path) as w:
        w.put_layer("culture", empty, [], "missing", msg)
        w.put_layer("housing", empty, [], "missing")
    man = json.loads((tmp_path / "t" / "manifest.json").read_text(encoding="utf-8"))
    assert man["layers"]["culture"]["reason"] == {"code": "layer_no_source", "what": ["library"]}
    assert man["layers"]["housing"]["reason"] == {"code": "layer_no_data"}
    assert man["schema_version"] == SCHEMA_VERSION == 3
    snap = open_snapshot("t", tmp_path)
    assert snap.layer_status("culture").reason == msg
    assert snap.layer_status("housing").reason == Message("layer_no_data")
    assert render(snap.layer_status("schools").reason, "sv") == \
        "finns inte i den här ögonblicksbilden"


def test_a_store_of_the_previous_schema_is_refused_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = gpd.GeoDataFrame({"kind": [], "name": []}, geometry=[], crs="EPSG:4326")
    with write_snapshot("t", {"name": "T"}, tmp_path) as w:
        w.put_layer("culture", empty, [], "missing")
    mpath = tmp_path / "t" / "manifest.json"
    man = json.loads(mpath.read_text(encoding="utf-8"))
    man["schema_version"] = 1  # as written before reasons were messages (English text)
    man["layers"]["culture"]["reason"] = "no source provided data for this layer"
    mpath.write_text(json.dumps(man), encoding="utf-8")
    before = mpath.read_bytes()
    with pytest.raises(StoreError) as err:
        open_snapshot("t", tmp_path)
    line = str(err.value)
    assert "\n" not in line and "store schema 1, this version reads 3" in line
    assert line.endswith("Rebuild with: livability build --region t")
    rc = main(["--data-dir", str(tmp_path), "score", "--region", "t"])
    out = capsys.readouterr()
    assert rc == 2 and len(out.err.strip().splitlines()) == 1
    assert "Rebuild with: livability build --region t" in out.err
    assert mpath.read_bytes() == before  # refused, not touched


@pytest.fixture(scope="module")
def synth_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("texts_synth")
    make_snapshot(data)
    model = build_model(open_snapshot("synth", data))
    return model, score(model)


def test_swedish_explanation_has_no_english_reasons(synth_model: Any) -> None:
    model, s = synth_model
    e = explain(model, s, "Alpha")
    en, sv = e.to_text("en"), e.to_text("sv")
    assert "no walk network loaded: straight-line distance x 1.3 (approximate)" in en
    assert "missing (no kindergarten among the 1 places of the schools layer (it has: school))" in en
    assert "population 1,000" in en and "municipal value 1,000 SEK/m²/yr" in en
    for w in ENGLISH_WORDS:
        assert w not in sv, (w, sv)
    assert "(inget gångnät inläst: fågelvägen x 1,3 (ungefärligt))" in sv
    assert "Förskola till fots: saknas (förskola saknas bland de 1 objekten i lagret Skolor " \
           "(typer: skola))" in sv
    assert "invånare 1\xa0000" in sv and "kommunens värde 1\xa0000 kr/m²/år" in sv
    assert f"Sammanvägt betyg {e.composite:.1f}".replace(".", ",") in sv
    rail = e.row("transit.rail")
    km = rail.nearest[0].distance_m
    assert f"medianinvånaren {km:.0f} m med cykel" in sv  # from Alpha's cells
    pre = e.row("schools.preschool")
    assert pre.missing and pre.reason is not None and pre.reason.code == "kinds_absent"
    assert [m.code for m in e.row("housing.rent").notes][:1] == ["stat_standardised"]


# -- the app in Swedish -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sv_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's synthetic store, with engine reasons (messages) for two missing layers."""
    data = write_synthetic_store(tmp_path_factory.mktemp("texts_app"))
    mpath = data / "blekinge" / "manifest.json"
    man = json.loads(mpath.read_text(encoding="utf-8"))
    man["layers"]["culture"]["reason"] = {"code": "layer_no_source",
                                          "what": ["library", "sports", "venue"]}
    man["layers"]["housing"]["reason"] = {"code": "layer_no_source", "what": ["house"]}
    mpath.write_text(json.dumps(man, ensure_ascii=False), encoding="utf-8")
    return data


def _run(monkeypatch: pytest.MonkeyPatch, data: Path, **params: str) -> Any:
    at = run_app(monkeypatch, data, **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_app_profile_in_swedish(monkeypatch: pytest.MonkeyPatch, sv_store: Path) -> None:
    """The profile's gaps, places and numbers in Swedish; the same page in English."""
    def shown(at: Any) -> str:
        blocks = [str(h.proto.body) for h in at.get("html") if "pf-" in str(h.proto.body)]
        return html.unescape(re.sub(r"<[^>]*>", " ", " ".join(blocks)))

    text = " ".join(shown(_run(monkeypatch, sv_store, page="profile", place="S001",
                               lang="sv")).split())
    assert "Vi har inga data om gymnasieskolor ännu, så ”Gymnasieskola med cykel” räknas inte in " \
           "i poängen." in text
    assert "Vi har inga data om bibliotek ännu, så ”Bibliotek med cykel” räknas inte in i " \
           "poängen." in text
    assert "Förskolor: källan listar bara en del." in text
    for w in ENGLISH_WORDS:
        assert w not in text, w
    assert re.search(r"\(\d+,\d km\) med cykel", text)  # decimal comma
    assert not re.search(r"\d\.\d km", text)
    en = " ".join(shown(_run(monkeypatch, sv_store, page="profile", place="S001")).split())
    assert "We have no data on upper secondary schools yet, so “Upper secondary school by bike” " \
           "is left out of the score." in en
    assert re.search(r"\(\d+\.\d km\) by bike", en)


def test_app_data_and_map_notes_in_swedish(monkeypatch: pytest.MonkeyPatch, sv_store: Path) -> None:
    at = _run(monkeypatch, sv_store, page="data", lang="sv")
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "ingen källa gav data för det här lagret (bibliotek, idrottsanläggning" in text.replace("\\", "")
    assert "no source provided" not in text
    at = _run(monkeypatch, sv_store, lang="sv")
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "Skolor: ofullständiga data, 3 platser på kartan (några saknas)" in text
    # a theme without any data is listed once, under the sliders (not again in the map's notes)
    assert "Kultur och fritid" not in text
    assert any(c.value.startswith("Poängsätts inte (inga data än): Boende, Arbetsplatser, Kultur "
                                  "och fritid.") for c in at.sidebar.caption)
    at = _run(monkeypatch, sv_store, page="data")
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "no source provided data for this layer (library, sports, venue)" in text.replace("\\", "")
    assert isinstance(at.dataframe[0].value, pd.DataFrame)
