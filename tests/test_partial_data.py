"""One place, one measurement; honest partial data (issue 13, items 2 and 3).

Tests marked ``pack`` use the real Blekinge pack (skipped when it is absent); the others build a
SYNTHETIC snapshot in this file (invented places and amenities on a line at 56 N).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.access import kind_gaps, layer_gaps, weighted_median
from geo.cli import main
from geo.messages import Message
from geo.schema import LOCALITY_COLUMNS, Provenance, conform
from geo.scoring import build_model, complete_share, explain, score
from geo.store import open_snapshot, write_snapshot
from layers import PERSONAS, get_indicator

#: The hospital the pack lacks (pack.json not_available_offline): Blekingesjukhuset in Karlskrona,
#: at 56.1797 N, 15.6070 E (its main entrance at Wämö, north of Trossö).
KARLSKRONA_HOSPITAL = ("Blekingesjukhuset Karlskrona", 56.1797, 15.6070)
HOSPITAL_T = get_indicator("services.hospital").threshold_m


# -- the real pack ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pack_model(blekinge_snapshot):  # type: ignore[no-untyped-def]
    model = build_model(blekinge_snapshot)
    return model, score(model, persona="family")


def _line(text: str, title: str) -> str:
    return next(ln for ln in text.splitlines() if ln.strip().startswith(title + ":"))


def _row(e: Any, key: str) -> dict[str, Any]:
    return next(r for r in e.indicators if r.key == key)


def _distances(line: str) -> list[str]:
    """Distances a line states as facts (the place type's standard, "standard 20 km", is none)."""
    line = re.sub(r"(standard|norm) \d+(?:[.,]\d+)? k?m\b", "", line)
    return re.findall(r"\d+(?:[.,]\d+)? k?m\b", line)


@pytest.mark.pack
def test_karlskrona_hospital_is_bounded_by_its_town_not_67_km(pack_model) -> None:  # type: ignore[no-untyped-def]
    """The pack lacks Blekingesjukhuset Karlskrona but names it with its town: the distance is
    stated as "at most" the farthest point of Karlskrona's outline (geo.gapbounds), which is
    never less than the distance to the real hospital, and never as the Karlshamn hospital."""
    from geo.access import DETOUR
    from geo.network import project_lonlat

    model, s = pack_model
    L = model.localities
    karlskrona = L.index[L["municipality_name"] == "Karlskrona"].tolist()
    assert len(karlskrona) >= 15
    name, lat, lon = KARLSKRONA_HOSPITAL
    real = project_lonlat(np.array([lon]), np.array([lat]))[0]
    C = model.cells
    bounded = 0
    for i in karlskrona:
        e = explain(model, s, str(L.loc[i, "code"]))
        row = _row(e, "services.hospital")
        assert row.partial and not row.complete
        assert row.gaps == ("Blekingesjukhuset Karlskrona (hospital)",)
        en = _line(e.to_text("en"), "Hospital by car")
        sv = _line(e.to_text("sv"), "Sjukhus med bil")
        assert "Karlshamn" not in en and "Karlshamn" not in sv
        if not row.nearest:  # the bound too is beyond what the list can support
            assert row.statement.code == "no_known_within" and np.isnan(row.median_m)
            continue
        near = row.nearest[0]
        assert near.name == name and near.within == "Karlskrona" and near.known
        assert np.isnan(near.lat) and np.isnan(near.lon)  # no position is invented
        assert row.statement.code == "nearest_bound"
        m_en = re.search(rf"{name} is not in the list with a position but lies in Karlskrona: "
                         r"at most (\d+(?:\.\d)?) km by car", en)
        m_sv = re.search(r"ligger i Karlskrona: högst (\d+(?:,\d)?) km med bil", sv)
        assert m_en and m_sv, (en, sv)
        assert float(m_en.group(1)) == float(m_sv.group(1).replace(",", "."))
        assert float(m_en.group(1)) == pytest.approx(row.median_m / 1000, abs=0.051)
        # an upper bound: at least the (straight line x detour) distance to the real hospital
        w = model.cells_of(i)
        xy = C.loc[w.index, ["x", "y"]].to_numpy(dtype=float)
        true = np.hypot(*(xy - real).T) * DETOUR["car"]
        assert row.median_m >= weighted_median(true, w.to_numpy()) - 1.0
        assert row.score == pytest.approx(model.loc_scores.loc[i, "services.hospital"])
        bounded += 1
    assert bounded >= len(karlskrona) // 2
    town = _row(explain(model, s, "Karlskrona"), "services.hospital")
    assert town.nearest and town.median_m < HOSPITAL_T and town.score > 90


@pytest.mark.pack
def test_pack_gaps_reach_the_manifest_per_layer(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    layers = blekinge_snapshot.manifest["layers"]
    assert layers["services"]["gaps"] == [
        "independent grocery stores and pharmacies; Blekingesjukhuset Karlskrona (hospital)"]
    assert "gaps" not in layers["transit"]  # no gap line names a bus stop or a railway station
    assert model_gaps(blekinge_snapshot, "services.grocery") == ["independent grocery stores"]
    assert model_gaps(blekinge_snapshot, "services.pharmacy") == ["independent pharmacies"]


def model_gaps(snapshot: Any, key: str) -> list[str]:
    ind = get_indicator(key)
    return kind_gaps(snapshot.manifest["layers"][ind.layer].get("gaps", []), ind.kinds)[0]


@pytest.mark.slow
@pytest.mark.pack
def test_added_hospital_file_moves_karlskrona_to_a_few_km(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    name, lat, lon = KARLSKRONA_HOSPITAL
    csv = tmp_path / "hospital_karlskrona.csv"  # "hospital" in the file name: kind hospital
    csv.write_text(f"name,lon,lat\n{name},{lon},{lat}\n", encoding="utf-8")
    snap = build_region("blekinge", packs=[pack_dir], files=[("services", csv)], offline=True,
                        data=tmp_path / "store", default_packs=False)
    assert snap.layer_status("services").kinds["hospital"] == 2
    model = build_model(snap)
    s = score(model, persona="family")
    e = explain(model, s, "Karlskrona")
    row = _row(e, "services.hospital")
    near = row.nearest[0]
    assert near.name == name and near.known and near.share == 1.0
    assert 0 < row.median_m < 5000 and row.raw == row.median_m
    assert row.supported and row.score > 95
    assert row.gaps == ()  # the named gap is filled; the user file is still a partial source
    assert row.gap.to_dict() == {"code": "partial_generic"}
    en = _line(e.to_text("en"), "Hospital by car")
    km = f"{row.median_m / 1000:.1f}"
    assert (f"nearest known: {name}, nearest for 100% of residents; median resident {km} km "
            "by car") in en
    assert "list incomplete (source marked partial)" in en and "missing" not in en
    sv = _line(e.to_text("sv"), "Sjukhus med bil")
    assert f"närmaste kända: {name}" in sv and f"medianinvånaren {km.replace('.', ',')} km" in sv


@pytest.mark.pack
def test_explanation_and_score_come_from_the_same_cells(pack_model) -> None:  # type: ignore[no-untyped-def]
    model, s = pack_model
    checked = 0
    for code in model.localities.index:
        e = explain(model, s, str(code))
        cells = model.cells_of(code)
        assert e.n_cells == len(cells) > 0
        for ind in model.indicators:
            res = model.results[ind.key]
            if res.missing or ind.measure != "nearest":
                continue
            row = _row(e, ind.key)
            assert row.score == pytest.approx(model.loc_scores.loc[code, ind.key], nan_ok=True)
            d = model.indicator_values(ind.key).loc[cells.index, "raw"].to_numpy()
            median = weighted_median(d, cells.to_numpy())
            assert d.min() <= median <= d.max()
            if row.supported:
                assert row.median_m == pytest.approx(median)
                near = row.nearest[0]
                assert near.distance_m == pytest.approx(median)
                # the named amenity is the nearest for that share of the locality's residents
                uid = model.indicator_values(ind.key).loc[cells.index, "nearest"]
                share = cells[uid == near.uid].sum() / cells.sum()
                assert near.share == pytest.approx(share)
                assert near.share >= max(cells.groupby(uid, dropna=False).sum()) / cells.sum() - 1e-9
            else:
                assert res.partial and median > res.support_m
            checked += 1
    assert checked > 52 * 8


@pytest.mark.pack
def test_wording_says_median_resident(pack_model) -> None:  # type: ignore[no-untyped-def]
    model, s = pack_model
    e = explain(model, s, "Bräkne-Hoby")
    rail = _line(e.to_text(), "Railway station by bike")
    assert re.search(r"nearest: Bräkne-Hoby station, nearest for \d+% of residents; "
                     r"median resident [\d.]+ k?m by bike", rail), rail
    grocery = _line(e.to_text(), "Grocery store on foot")
    assert "nearest known:" in grocery or "no known grocery within 1.6 km" in grocery
    assert "grocery list incomplete: independent grocery stores missing" in grocery
    assert re.fullmatch(r"  \d+% of this score rests on complete data",
                        e.to_text().splitlines()[1])
    assert re.fullmatch(r"  \d+ % av betyget vilar på fullständiga data",
                        e.to_text("sv").splitlines()[1])


@pytest.mark.pack
def test_complete_share_on_the_pack(pack_model, blekinge_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    model, s = pack_model
    for frame in (s.localities, s.municipalities, s.cells):
        share = frame["complete_share"].to_numpy(dtype=float)
        assert ((share >= 0) & (share <= 1)).all()
    # transit and the municipal statistics are complete; services, schools' distances are not
    assert "transit.rail" in s.complete_indicators and "housing.rent" in s.complete_indicators
    assert "services.hospital" not in s.complete_indicators
    assert 0 < s.localities["complete_share"].min() <= s.localities["complete_share"].max() < 1
    e = explain(model, s, "Karlskrona")
    assert e.complete_share == s.localities.set_index("name").loc["Karlskrona", "complete_share"]
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--persona",
               "family", "--sensitivity", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    head = out.splitlines()[0].split()
    assert head[:5] == ["Rank", "Locality", "Municipality", "Score", "Complete"]
    top = next(ln for ln in out.splitlines() if ln.strip().startswith("1 "))
    pct = round(100 * float(s.localities.sort_values("rank")["complete_share"].iloc[0]))
    assert f"{pct}%" in top.split()


# -- synthetic data --------------------------------------------------------------------------------
COMPLETE = Provenance(source="synthetic complete list", license="CC0-1.0", coverage="complete")
PARTIAL = Provenance(source="synthetic partial list", license="CC0-1.0", coverage="partial")
#: invented places on a line at 56 N (0.05 degrees of longitude: about 3.1 km)
PLACES = [("S1", "Alpha", 15.00, 1000, "0001"), ("S2", "Beta", 15.05, 800, "0001"),
          ("S3", "Gamma", 15.10, 1500, "0001"), ("S4", "Delta", 15.40, 600, "0002"),
          ("S5", "Echo", 15.70, 400, "0002")]
#: invented amenities (name, kind, lon, lat); the ones marked True are removed in the partial copy
SERVICES = [("Alpha Mat", "grocery", 15.001, 56.0, False), ("Beta Mat", "grocery", 15.051, 56.0, True),
            ("Gamma Mat", "grocery", 15.101, 56.001, False),
            ("Alpha Apotek", "pharmacy", 15.0, 56.002, False),
            ("Delta Apotek", "pharmacy", 15.401, 56.0, False), ("Beta VC", "clinic", 15.05, 56.003, False),
            ("Alpha sjukhus", "hospital", 15.0, 56.01, False),
            ("Echo sjukhus", "hospital", 15.7, 56.01, True)]
#: kinds whose list is partial in the partial copy
PARTIAL_KINDS = ("grocery", "hospital")
TRANSIT = [("Alpha station", "rail_station", 15.0, 56.004), ("Gamma busshållplats", "bus_stop", 15.1, 56.0),
           ("Delta busshållplats", "bus_stop", 15.4, 56.002)]
SCHOOLS = [("Beta skola", "school", 15.05, 56.001), ("Alpha förskola", "kindergarten", 15.0, 56.001)]


def _layer(rows: list[tuple[Any, ...]], layer: str, prov: Provenance) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({"name": [r[0] for r in rows], "kind": [r[1] for r in rows]},
                           geometry=[Point(r[2], r[3]) for r in rows], crs="EPSG:4326")
    return conform(gdf, layer, prov)


def _synthetic(data: Path, *, partial: bool) -> Any:
    """The complete snapshot, or the partial copy: the grocery and hospital lists lose a feature
    each and come from a partial source (the services layer is partial, a gap line names the Echo
    hospital); pharmacies and clinics stay a complete list."""
    loc = gpd.GeoDataFrame({
        "code": [p[0] for p in PLACES], "name": [p[1] for p in PLACES],
        "municipality": [p[4] for p in PLACES],
        "municipality_name": ["Ett" if p[4] == "0001" else "Två" for p in PLACES],
        "population": [p[3] for p in PLACES], "area_ha": [30.0] * len(PLACES),
        "source": "synthetic", "license": "CC0-1.0", "source_date": "", "coverage": "complete",
    }, geometry=[Point(p[2], 56.0) for p in PLACES], crs="EPSG:4326")[list(LOCALITY_COLUMNS)]
    rent = pd.DataFrame({"municipality": ["0001", "0002"], "year": [2024, 2024],
                         "value": [1100.0, 900.0]})
    kept = [r for r in SERVICES if not (partial and r[4])]
    lists = [_layer([r for r in kept if (r[1] in PARTIAL_KINDS) == p], "services", prov)
             for p, prov in ((False, COMPLETE), (True, PARTIAL if partial else COMPLETE))]
    services = gpd.GeoDataFrame(pd.concat(lists, ignore_index=True), crs=lists[0].crs)
    with write_snapshot("synthp", {"name": "Synthetic partial"}, data) as w:
        w.put_base("localities", loc, [COMPLETE])
        w.put_layer("services", services, [COMPLETE, PARTIAL] if partial else [COMPLETE],
                    "partial" if partial else "complete",
                    Message("layer_partial_sources", {"sources": ["synthetic partial list"]})
                    if partial else None)
        w.put_layer("transit", _layer(TRANSIT, "transit", COMPLETE), [COMPLETE], "complete")
        w.put_layer("schools", _layer(SCHOOLS, "schools", COMPLETE), [COMPLETE], "complete")
        w.put_table("rent_median_sek_per_m2_year", rent, COMPLETE)
        if partial:
            w.manifest["layers"]["services"]["gaps"] = ["Echo sjukhus (hospital)"]
    return open_snapshot("synthp", data)


@pytest.fixture(scope="module")
def synth_models(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    full = build_model(_synthetic(tmp_path_factory.mktemp("full"), partial=False))
    part = build_model(_synthetic(tmp_path_factory.mktemp("part"), partial=True))
    return full, part


@pytest.mark.parametrize("persona", [None, *sorted(PERSONAS)])
def test_removing_features_never_raises_a_composite(synth_models, persona: str | None) -> None:  # type: ignore[no-untyped-def]
    full, part = synth_models
    assert not full.results["services.grocery"].partial and part.results["services.grocery"].partial
    a, b = score(full, persona=persona), score(part, persona=persona)
    for key in ("localities", "municipalities", "cells"):
        before = getattr(a, key)["composite"].to_numpy(dtype=float)
        after = getattr(b, key)["composite"].to_numpy(dtype=float)
        assert np.all(after <= before + 1e-9), (key, persona, after - before)
    # Beta lost its grocery store: it goes down
    loc_a, loc_b = a.localities.set_index("name"), b.localities.set_index("name")
    assert loc_b.loc["Beta", "composite"] < loc_a.loc["Beta", "composite"] - 0.1
    # Gamma lost nothing: its lists are partial now, its scores the same (no gain, no loss)
    assert loc_b.loc["Gamma", "composite"] == pytest.approx(loc_a.loc["Gamma", "composite"])


def test_partial_indicator_scores_are_lower_bounds(synth_models) -> None:  # type: ignore[no-untyped-def]
    full, part = synth_models
    for ind in full.indicators:
        if ind.layer == "services" and not full.results[ind.key].missing:
            assert np.all(part.cell_scores[ind.key] <= full.cell_scores[ind.key] + 1e-9), ind.key
    assert full.results["services.hospital"].complete
    hosp = part.results["services.hospital"]
    assert hosp.partial and hosp.gaps == ["Echo sjukhus (hospital)"] and hosp.gap_kinds == ["hospital"]
    assert part.results["services.health"].gaps == ["Echo sjukhus (hospital)"]
    assert part.results["services.grocery"].gaps == []  # partial source, no named gap
    assert part.results["services.pharmacy"].complete  # its list is complete: the layer is not
    assert part.results["transit.rail"].complete and part.results["schools.primary"].complete


def test_echo_hospital_line_is_not_a_distance_claim(synth_models) -> None:  # type: ignore[no-untyped-def]
    full, part = synth_models
    e_full = explain(full, score(full), "Echo")
    assert "nearest: Echo sjukhus, nearest for 100% of residents; median resident" in \
        _line(e_full.to_text(), "Hospital by car")
    e = explain(part, score(part), "Echo")  # Alpha sjukhus, 44 km away, is the only one known
    line = _line(e.to_text(), "Hospital by car")
    assert "no known hospital within 40 km by car" in line
    assert "hospital list incomplete: Echo sjukhus (hospital) missing" in line
    assert _distances(line) == ["40 km"] and "Alpha sjukhus" not in line
    gro = _line(e.to_text(), "Grocery store on foot")
    assert "list incomplete (source marked partial)" in gro


def test_complete_share_synthetic(synth_models) -> None:  # type: ignore[no-untyped-def]
    full, part = synth_models
    a, b = score(full, persona="family"), score(part, persona="family")
    for frame in (a.localities, a.municipalities, a.cells):
        assert np.allclose(frame["complete_share"].to_numpy(dtype=float), 1.0)
    for frame in (b.localities, b.municipalities, b.cells):
        share = frame["complete_share"].to_numpy(dtype=float)
        assert ((share > 0) & (share < 1)).all()
    # by hand: services weigh 1.5 of the available themes' weights; within services, grocery (2),
    # health (1.5, clinics and hospitals) and hospital (0.5) are partial, pharmacy (1) complete
    avail = [t for t in part.themes if b.localities[f"theme:{t}"].notna().all()]
    w = {t: b.weights[t] for t in avail}
    expected = 1 - w["services"] / sum(w.values()) * (2 + 1.5 + 0.5) / 5
    assert b.localities["complete_share"].to_numpy() == pytest.approx(expected)
    assert explain(part, b, "Alpha").complete_share == pytest.approx(expected)


def test_complete_share_counts_available_weight_only() -> None:
    tm = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])  # two indicators in theme 0, one in theme 1
    scores = np.array([[50.0, 60.0, 70.0], [50.0, np.nan, 70.0], [np.nan, np.nan, np.nan]])
    share = complete_share(scores, tm, np.array([1.0, 3.0]), np.array([True, False, True]))
    assert share[0] == pytest.approx(0.25 * 0.5 + 0.75)
    assert share[1] == pytest.approx(1.0)  # the partial indicator has no value there
    assert np.isnan(share[2])


def test_kind_gaps_match_english_and_swedish_words() -> None:
    line = "independent grocery stores and pharmacies; Blekingesjukhuset Karlskrona (hospital)"
    assert kind_gaps([line], ["grocery"]) == (["independent grocery stores"], ["grocery"])
    assert kind_gaps([line], ["pharmacy"]) == (["independent pharmacies"], ["pharmacy"])
    assert kind_gaps(["Blekingesjukhuset Karlskrona"], ["hospital"])[0] == \
        ["Blekingesjukhuset Karlskrona"]  # "sjukhus" inside a Swedish compound
    assert kind_gaps([line], ["clinic", "hospital"])[1] == ["hospital"]
    assert kind_gaps(["förskolor i Ronneby"], ["school"]) == ([], [])  # förskola is not skola
    assert kind_gaps(["förskolor i Ronneby"], ["kindergarten"])[0] == ["förskolor i Ronneby"]
    assert kind_gaps(["street network", "workplaces and employment"], ["bus_stop"]) == ([], [])
    assert layer_gaps([line, "street network"], ["hospital"]) == [line]


def test_a_confidence_weight_would_let_places_gain_from_missing_data(synth_models) -> None:  # type: ignore[no-untyped-def]
    """Why partial indicators keep their full weight (geo.access, *Partial data*)."""
    from geo.scoring import compose, resolve_weights

    full, part = synth_models
    tw = resolve_weights(full.themes, persona="family")
    _, before = compose(full.loc_scores.to_numpy(), full.theme_matrix, tw)
    _, after = compose(part.loc_scores.to_numpy(), part.theme_matrix, tw)
    halved = part.theme_matrix.copy()
    halved[~part.ind_complete] *= 0.5  # partial indicators counting half
    _, weighted = compose(part.loc_scores.to_numpy(), halved, tw)
    assert np.all(after <= before + 1e-9)
    gain = weighted - before
    assert gain.max() > 0.5  # some place would rank up because its data went missing
