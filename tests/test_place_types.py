"""Place types, standards per place type, the absolute scale, bands in words and percentiles.

Pack tests take their expected values from the pack's own files (pack.json field names, the
tätort populations) and the documented constants of geo.placetypes, never from literals. The
small stores written here are SYNTHETIC: invented places.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import geo.placetypes as pt
from geo.access import DETOUR, DistanceEngine, compute_indicator, decay_score
from geo.catalog import CATALOGUE
from geo.messages import band_name, fmt_spec, place_type_name, render
from geo.schema import LOCALITY_COLUMNS, Provenance, conform
from geo.scoring import BANDS, build_model, explain, percentiles, score, score_band
from geo.store import open_snapshot, write_snapshot
from layers import all_indicators, get_indicator
from layers.spec import Indicator, by_place_type

SYNTH = Provenance(source="synthetic test fixture", license="CC0-1.0", coverage="complete")


# -- the pack ------------------------------------------------------------------------------------
def _pack_localities(pack_dir: Path) -> gpd.GeoDataFrame:
    """The pack's tätorter with the columns named as pack.json says (population, area_ha, ...)."""
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["layers"] if e["theme"] == "localities")
    gdf = gpd.read_file(pack_dir / entry["file"])
    cols = {key: gdf[src].to_numpy() for key, src in entry["fields"].items()}
    return gpd.GeoDataFrame(cols, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def _expected_type(pop: float, area: float, municipality: str, name: str) -> str:
    """The documented rules of geo.placetypes, written out independently of its code."""
    if (municipality, name) in pt.ARCHIPELAGO:
        return "archipelago"
    level = 0 if pop >= pt.TOWN_MIN else 1 if pop >= pt.SMALL_TOWN_MIN else 2
    if area > 0 and pop / area < pt.LOW_DENSITY_PER_HA:
        level = min(level + 1, 2)
    return ("town", "small_town", "village")[level]


@pytest.fixture(scope="module")
def model(blekinge_snapshot):  # type: ignore[no-untyped-def]
    return build_model(blekinge_snapshot)


def test_pack_locality_types_follow_population_and_thresholds(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    raw = _pack_localities(pack_dir)
    expected = {str(r.id): _expected_type(float(r.population), float(r.area_ha),
                                            str(r.municipality).zfill(4), str(r.name))
                for r in raw.itertuples()}
    got = dict(zip(model.localities["code"].astype(str), model.localities["place_type"]))
    assert got == expected
    counts = pd.Series(list(got.values())).value_counts()
    n_towns = int((pd.to_numeric(raw["population"]) >= pt.TOWN_MIN).sum())
    assert counts.get("town", 0) == n_towns > 0
    assert counts.get("small_town", 0) > 0 and counts.get("village", 0) > 0
    # every cell carries its locality's type (the pack has no housing, so no rural cells)
    cell_types = model.cells["place_type"].to_numpy()
    assert (cell_types == model.cells["locality"].map(got).to_numpy()).all()


def test_archipelago_list_is_backed_by_the_coast_clipped_outline(pack_dir) -> None:  # type: ignore[no-untyped-def]
    raw = _pack_localities(pack_dir)
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    outline = next(b["file"] for b in manifest["boundaries"] if "coast_clipped" in b["file"])
    land = gpd.read_file(pack_dir / outline)
    off = pt.island_candidates(raw.geometry, land)
    candidates = {(str(m).zfill(4), str(n))
                  for m, n, o in zip(raw["municipality"], raw["name"], off) if o}
    listed = {k for k in pt.ARCHIPELAGO if k[0] in set(raw["municipality"].astype(str))}
    assert listed and listed <= candidates  # every listed place lies off the mainland outline
    assert len(candidates) > len(listed)    # islands with bridges are candidates, not listed


def test_municipal_seats_are_towns_or_small_towns(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    munis = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))["region"][
        "municipalities"]
    L = model.localities
    for code, name in munis.items():
        seat = L[(L["municipality"] == code) & (L["name"] == name)]
        assert len(seat) == 1, name
        assert seat["place_type"].iloc[0] in ("town", "small_town"), name


def test_each_cell_is_scored_against_its_own_type(model) -> None:  # type: ignore[no-untyped-def]
    res = model.results["transit.bus"]
    ind = get_indicator("transit.bus")
    n = len(model.cells)
    types = model.cells["place_type"].to_numpy(dtype=object)  # cells only: no centre points
    want_t = np.array([ind.threshold_for(t) for t in types])
    assert res.thresholds is not None and np.array_equal(res.thresholds, want_t)
    assert np.allclose(res.score, decay_score(res.raw, "plateau", want_t), equal_nan=True)
    assert len(set(want_t[:n])) >= 3  # towns, small towns and villages differ


# -- standards per place type ----------------------------------------------------------------------
def test_bus_stop_700_m_scores_higher_in_a_village_than_in_a_town() -> None:
    ind = get_indicator("transit.bus")
    # two points with a stop 700 m away (straight line x the walking detour factor)
    stop = layer([Point(700.0 / DETOUR["walk"], 0.0)], ["bus_stop"])
    eng = DistanceEngine(np.zeros((2, 2)))
    res = compute_indicator(ind, eng, layer=stop, place_types=np.array(["town", "village"]))
    assert res.raw == pytest.approx([700.0, 700.0])
    town, village = res.score
    assert village > town
    assert town == pytest.approx(decay_score(np.array([700.0]), "plateau",
                                             ind.threshold_for("town"))[0])
    assert village == pytest.approx(decay_score(np.array([700.0]), "plateau",
                                                ind.threshold_for("village"))[0])
    # the other decays keep the per-point standards too
    assert res.rescore("logistic")[1] > res.rescore("logistic")[0]


def test_plateau_decay_anchors() -> None:
    t = 800.0
    d = np.array([0.0, t, 1.5 * t, 2 * t, 3 * t, np.inf])
    s = decay_score(d, "plateau", t)
    assert s[:2].tolist() == [100.0, 100.0]            # within the standard: 100
    assert s[2] == pytest.approx(50.0)                 # 1.5 x the standard: 50
    assert s[3] == pytest.approx(20.0)                 # twice the standard: 20
    assert 0 < s[4] < 3 and s[5] == 0.0                # three times: about 0; unreachable: 0
    assert get_indicator("services.grocery").decay == "plateau"


def _table_rows() -> list[list[str]]:
    doc = pt.__doc__ or ""
    return [line.split() for line in doc.splitlines()
            if line.split() and "." in line.split()[0] and line.split()[0].islower()
            and line.split()[-1].startswith("[") and line.split()[1].isdigit()]


def test_documented_standards_match_the_specs() -> None:
    rows = _table_rows()
    adapted = {i.key for i in all_indicators() if i.thresholds}
    assert {r[0] for r in rows} == adapted
    for key, *metres, _basis in rows:
        ind = get_indicator(key)
        assert [ind.threshold_for(t) for t in pt.PLACE_TYPES] == [float(m) for m in metres], key
    for ind in all_indicators():
        if ind.measure == "nearest" and ind.key not in adapted:
            assert {ind.threshold_for(t) for t in pt.PLACE_TYPES} == {ind.threshold_m}


def test_standards_may_not_shrink_and_types_must_be_known() -> None:
    with pytest.raises(ValueError, match="not shrink"):
        Indicator("transit.x", kinds=("bus_stop",), threshold_m=400,
                  thresholds=by_place_type(300, 800, 1500))
    with pytest.raises(ValueError, match="unknown place types"):
        Indicator("transit.x", kinds=("bus_stop",), thresholds=(("suburb", 600.0),))


def test_size_class_uses_population_and_footprint() -> None:
    pops = [pt.TOWN_MIN, pt.TOWN_MIN - 1, pt.SMALL_TOWN_MIN, pt.SMALL_TOWN_MIN - 1, pt.VILLAGE_MIN]
    assert pt.size_class(pops).tolist() == ["town", "small_town", "small_town", "village",
                                            "village"]
    sparse_area = pt.TOWN_MIN / pt.LOW_DENSITY_PER_HA * 2  # half the minimum density
    assert pt.size_class([pt.TOWN_MIN], [sparse_area]).tolist() == ["small_town"]
    assert pt.size_class([pt.TOWN_MIN], [np.nan]).tolist() == ["town"]


# -- rural cells (synthetic) -----------------------------------------------------------------------
def layer(points: list[Point], kinds: list[str], crs: str = "EPSG:3006") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"F{i}" for i in range(len(points))], "kind": kinds},
                            geometry=points, crs=crs)


def test_rural_cells_are_countryside(tmp_path: Path) -> None:
    loc = gpd.GeoDataFrame({
        "code": ["V1"], "name": ["Invented village"], "municipality": ["0001"],
        "municipality_name": ["One"], "population": [500], "area_ha": [30.0],
        "source": "synthetic", "license": "CC0-1.0", "source_date": "", "coverage": "complete",
    }, geometry=[Point(15.0, 56.0)], crs="EPSG:4326")[list(LOCALITY_COLUMNS)]
    far_house = (15.1, 56.0)  # about 6 km east: beyond the attach distance, a rural cell
    housing = conform(gpd.GeoDataFrame({"name": ["farm"], "kind": ["house"]},
                                       geometry=[Point(*far_house)], crs="EPSG:4326"),
                      "housing", SYNTH)
    stops = conform(gpd.GeoDataFrame({"name": ["Stop"], "kind": ["bus_stop"]},
                                     geometry=[Point(15.0, 56.001)], crs="EPSG:4326"),
                    "transit", SYNTH)
    with write_snapshot("synthpt", {"name": "Synthetica"}, tmp_path) as w:
        w.put_base("localities", loc, [SYNTH])
        w.put_layer("housing", housing, [SYNTH], "complete")
        w.put_layer("transit", stops, [SYNTH], "complete")
    m = build_model(open_snapshot("synthpt", tmp_path))
    rural = m.cells["locality"].isna().to_numpy()
    assert rural.any() and (m.cells.loc[rural, "place_type"] == "countryside").all()
    assert (m.cells.loc[~rural, "place_type"] == "village").all()
    t = m.results["transit.bus"].thresholds
    ind = get_indicator("transit.bus")
    assert t is not None and (t[: len(m.cells)][rural] == ind.threshold_for("countryside")).all()
    s = score(m)
    assert (s.cells.loc[rural, "place_type"] == "countryside").all()


# -- bands and percentiles -------------------------------------------------------------------------
WORDS = {  # the band words, as documented in README "Scores"
    80.0: ("most errands on foot", "de flesta ärenden till fots"),
    60.0: ("many errands on foot or by bike", "många ärenden till fots eller med cykel"),
    40.0: ("some errands on foot, others by bike or bus",
           "vissa ärenden till fots, andra med cykel eller buss"),
    20.0: ("a car is useful for most errands", "bil är till nytta för de flesta ärenden"),
    0.0: ("a car is needed for most errands", "bil behövs för de flesta ärenden"),
}


@pytest.mark.parametrize("lower", sorted(WORDS))
def test_every_band_boundary_maps_to_its_words(lower: float) -> None:
    bounds = [b for b, _ in BANDS]
    assert sorted(bounds) == sorted(WORDS)
    top = min([b for b in bounds if b > lower], default=100.0)
    for value in (lower, (lower + top) / 2, np.nextafter(top, lower) if top < 100 else 100.0):
        key = score_band(value)[0]
        assert (band_name(key, "en"), band_name(key, "sv")) == WORDS[lower], value
    if lower > 0:  # just below the boundary: the band below
        below = score_band(np.nextafter(lower, 0.0))[0]
        assert band_name(below, "en") == WORDS[max(b for b in WORDS if b < lower)][0]
    assert {k[5:] for k in CATALOGUE if k.startswith("band.")} == {k for _, k in BANDS}


def test_bands_of_nan_and_out_of_range() -> None:
    assert score_band([float("nan")]).tolist() == [None]
    assert band_name(None) == ""


@pytest.mark.parametrize("persona", ["family", "balanced"])
def test_percentiles_in_range_and_monotone(model, persona: str) -> None:  # type: ignore[no-untyped-def]
    L = score(model, persona=persona).localities
    for col in ("place_type", "band", "pct_region", "pct_type"):
        assert col in L.columns
    assert L["pct_region"].between(0, 100).all()
    assert L["pct_region"].max() == 100.0 and L["pct_region"].min() == 0.0
    assert (L["band"] == pd.Series(score_band(L["composite"]), index=L.index)).all()
    by = L.sort_values("composite")
    assert by["pct_region"].is_monotonic_increasing
    for typ, g in L.groupby("place_type"):
        if len(g) == 1:
            assert g["pct_type"].isna().all(), typ  # no peers: no percentile
            continue
        assert g["pct_type"].between(0, 100).all(), typ
        assert g.sort_values("composite")["pct_type"].is_monotonic_increasing, typ
        hi, lo = g["composite"].idxmax(), g["composite"].idxmin()
        assert g.loc[hi, "pct_type"] == 100.0 and g.loc[lo, "pct_type"] == 0.0


def test_percentile_ties_count_half() -> None:
    assert percentiles([1.0, 1.0]).tolist() == [50.0, 50.0]
    assert np.isnan(percentiles([5.0])).all()


def test_explanation_says_what_the_score_means(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model, persona="family")
    L = s.localities
    village = L[L["place_type"] == "village"].sort_values("composite").iloc[-1]
    e = explain(model, s, str(village["name"]))
    assert e.place_type == "village" and e.band == score_band(e.composite)[0]
    assert e.pct_region == village["pct_region"] and e.pct_type == village["pct_type"] == 100.0
    assert e.n_type == int((L["place_type"] == "village").sum())
    en, sv = e.to_text("en"), e.to_text("sv")
    words_en, words_sv = CATALOGUE[f"band.{e.band}"]
    assert (f"{e.composite:.0f}, {words_en}; better than {e.pct_region:.0f}% of the places in "
            f"{model.region_name} and 100% of its villages") in en
    assert f"{words_sv}; bättre än {e.pct_region:.0f} % av orterna i {model.region_name}" in sv
    assert "av dess byar" in sv and "ortstyp: by" in sv
    grocery = next(r for r in e.indicators if r.key == "services.grocery")
    std = get_indicator("services.grocery").threshold_for("village")
    assert grocery.standard_m == std
    assert f"standard {fmt_spec(std / 1000, '.1f', 'en')} km" in en
    assert f"norm {fmt_spec(std / 1000, '.1f', 'sv')} km" in sv


def test_a_type_with_one_place_says_so(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model, persona="balanced")
    L = s.localities
    counts = L["place_type"].value_counts()
    sole = [t for t, n in counts.items() if n == 1]
    if not sole:
        pytest.skip("every place type of the pack has several localities")
    row = L[L["place_type"] == sole[0]].iloc[0]
    e = explain(model, s, str(row["name"]))
    assert e.meaning.code == "score_meaning_sole" and np.isnan(e.pct_type)
    assert f"its only {place_type_name(sole[0], 'en', 'one')}" in e.to_text("en")
    assert f"dess enda {place_type_name(sole[0], 'sv', 'one')}" in e.to_text("sv")


def test_cell_explanation_has_a_band_without_percentiles(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    h3 = str(model.cells["h3"].iloc[0])
    e = explain(model, s, h3)
    assert e.meaning.code == "score_band" and np.isnan(e.pct_region)
    assert render(e.meaning, "en").startswith(f"{e.composite:.0f}, {band_name(e.band)}")
