"""Scores on a small synthetic snapshot (built by this test; the places and data are invented)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.errors import RegionNotFoundError, UnknownLayerError
from geo.network import project_lonlat
from geo.schema import LOCALITY_COLUMNS, Provenance, conform
from geo.scoring import build_model, compose, explain, score
from geo.store import open_snapshot, write_snapshot

SYNTH = Provenance(source="synthetic test fixture", license="CC0-1.0", coverage="complete")
# Synthetic localities on a line at 56 N, about 6.2 km apart.
PLACES = [("T1", "Alpha", 15.00, 56.0, 1000, "0001"), ("T2", "Beta", 15.10, 56.0, 500, "0001"),
          ("T3", "Gamma", 15.20, 56.0, 2000, "0002")]
STATION = (15.0, 56.005)  # about 556 m north of Alpha


def _pts(rows: list[tuple[float, float]]) -> list[Point]:
    return [Point(x, y) for x, y in rows]


def make_snapshot(data: Path) -> None:
    """Write the synthetic snapshot 'synth' into ``data``."""
    loc = gpd.GeoDataFrame({
        "code": [p[0] for p in PLACES], "name": [p[1] for p in PLACES],
        "municipality": [p[5] for p in PLACES],
        "municipality_name": ["One" if p[5] == "0001" else "Two" for p in PLACES],
        "population": [p[4] for p in PLACES], "area_ha": [30.0] * 3, "source": "synthetic",
        "license": "CC0-1.0", "source_date": "", "coverage": "complete",
    }, geometry=_pts([(p[2], p[3]) for p in PLACES]), crs="EPSG:4326")[list(LOCALITY_COLUMNS)]
    transit = conform(gpd.GeoDataFrame({"name": ["Alpha station"], "kind": ["rail_station"]},
                                       geometry=_pts([STATION]), crs="EPSG:4326"), "transit", SYNTH)
    schools = conform(gpd.GeoDataFrame({"name": ["Gamma skola"], "kind": ["school"]},
                                       geometry=_pts([(15.2, 56.0)]), crs="EPSG:4326"),
                      "schools", SYNTH)
    rent = pd.DataFrame({"municipality": ["0001", "0002", "0002"], "year": [2020, 2020, 2021],
                         "value": [1000.0, 800.0, 0.0]})
    with write_snapshot("synth", {"name": "Synthetica"}, data) as w:
        w.put_base("localities", loc, [SYNTH])
        w.put_layer("transit", transit, [SYNTH], "complete")
        w.put_layer("schools", schools, [SYNTH], "partial")
        w.put_layer("workplaces", transit.iloc[0:0], [], "missing", reason="not available offline")
        w.put_table("rent_median_sek_per_m2_year", rent, SYNTH)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("synth")
    make_snapshot(data)
    return build_model(open_snapshot("synth", data))


def col(model, key: str) -> int:  # type: ignore[no-untyped-def]
    return model.ind_keys.index(key)


def test_model_shape_and_missing(model) -> None:  # type: ignore[no-untyped-def]
    assert model.localities["code"].tolist() == ["T1", "T2", "T3"]
    assert set(model.cells["locality"]) == {"T1", "T2", "T3"}
    assert "transit.bus" in model.missing and "bus stop" in model.missing["transit.bus"]
    assert "not available offline" in model.missing["workplaces.jobs_30min"]
    assert np.isnan(model.loc_scores[:, col(model, "transit.bus")]).all()
    assert model.approximate
    assert model.results["schools.primary"].partial


def test_locality_indicator_is_population_weighted_cell_mean(model) -> None:  # type: ignore[no-untyped-def]
    j = col(model, "transit.rail")
    cells = model.cells
    mask = (cells["locality"] == "T1").to_numpy()
    w = cells["weight"].to_numpy()[mask]
    expected = np.sum(model.cell_scores[mask, j] * w) / w.sum()
    assert model.loc_scores[0, j] == pytest.approx(expected)
    assert model.loc_scores[0, j] > 90  # station ~0.7 km by bike (t = 2 km)
    assert model.loc_scores[2, j] < 1  # Gamma is ~12 km away


def test_stat_indicator_uses_latest_positive_year(model) -> None:  # type: ignore[no-untyped-def]
    j = col(model, "housing.rent")
    # 0002's 2021 value is 0 (missing), so 2020's 800 counts; lower rent is better
    assert model.loc_scores[:, j].tolist() == pytest.approx([0.0, 0.0, 100.0])


def test_missing_indicator_renormalised_not_zero(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    loc = s.localities.set_index("code")
    # transit = transit.rail alone (bus is missing, not zero)
    assert loc.loc["T1", "theme:transit"] == pytest.approx(model.loc_scores[0, col(model, "transit.rail")])
    # composite = mean of the available themes (balanced weights 1)
    themes = loc.loc["T1", [c for c in loc.columns if c.startswith("theme:")]].astype(float)
    assert loc.loc["T1", "composite"] == pytest.approx(themes.dropna().mean())
    assert np.isnan(loc.loc["T1", "theme:workplaces"])
    assert "transit.bus" in loc.loc["T1", "missing"]


def test_persona_changes_ranking(model) -> None:  # type: ignore[no-untyped-def]
    commuter = score(model, persona="commuter").localities.set_index("code")["rank"]
    family = score(model, persona="family").localities.set_index("code")["rank"]
    assert commuter["T1"] == 1 and commuter["T1"] < commuter["T3"]  # rail matters most
    assert family["T3"] == 1 and family["T3"] < family["T1"]  # school + rent matter most
    only_transit = score(model, {t: 0 for t in model.themes} | {"transit": 1})
    assert only_transit.localities.set_index("code").loc["T1", "rank"] == 1


def test_weights_validated(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownLayerError, match="Did you mean schools"):
        score(model, {"scools": 2})
    with pytest.raises(Exception, match="all theme weights are 0"):
        score(model, {t: 0 for t in model.themes})


def test_mazziotta_pareto_penalty_exact() -> None:
    ind = np.array([[50.0, 50.0], [100.0, 0.0], [80.0, 20.0], [np.nan, 70.0]])
    tm = np.eye(2)
    w = np.array([1.0, 1.0])
    _, plain = compose(ind, tm, w)
    _, pen = compose(ind, tm, w, penalty=True)
    assert plain.tolist() == pytest.approx([50.0, 50.0, 50.0, 70.0])
    # M - S^2/M: balanced 50 -> 50; (100, 0) -> 50 - 2500/50 = 0; (80, 20) -> 50 - 900/50 = 32
    assert pen.tolist() == pytest.approx([50.0, 0.0, 32.0, 70.0])


def test_penalty_lowers_unbalanced_place(model) -> None:  # type: ignore[no-untyped-def]
    plain = score(model).localities["composite"].to_numpy()
    pen = score(model, penalty=True).localities["composite"].to_numpy()
    assert (pen <= plain + 1e-9).all() and (pen < plain).any()


def test_municipality_rollup_population_weighted(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    loc = s.localities.set_index("code")
    mun = s.municipalities.set_index("code")
    exp = (loc.loc["T1", "composite"] * 1000 + loc.loc["T2", "composite"] * 500) / 1500
    assert mun.loc["0001", "composite"] == pytest.approx(exp)
    assert mun.loc["0002", "composite"] == pytest.approx(loc.loc["T3", "composite"])
    assert mun.loc["0001", "population"] == 1500
    assert sorted(mun["rank"].tolist()) == [1.0, 2.0]
    assert len(s.cells) == len(model.cells) and s.cells["composite"].notna().all()


def test_explanation_names_nearest_amenity(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    e = explain(model, s, "alpha")
    rail = next(r for r in e.indicators if r["key"] == "transit.rail")
    a, b = project_lonlat(np.array([15.0, STATION[0]]), np.array([56.0, STATION[1]]))
    expected = 1.3 * float(np.hypot(*(a - b)))
    assert rail["nearest"][0]["name"] == "Alpha station"
    assert rail["nearest"][0]["distance_m"] == pytest.approx(expected, rel=1e-6)
    assert rail["approximate"] and not rail["missing"]
    bus = next(r for r in e.indicators if r["key"] == "transit.bus")
    assert bus["missing"] and "bus stop" in bus["reason"]
    text = e.to_text()
    assert f"Alpha station, {expected:.0f} m, by bike" in text
    assert "missing" in text
    assert "Järnvägsstation med cykel" in e.to_text("sv")
    assert e.as_dict()["name"] == "Alpha" and e.rank == s.localities.loc[0, "rank"]
    assert explain(model, s, "T3").name == "Gamma"


def test_unknown_place_suggests(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegionNotFoundError, match="Did you mean Gamma"):
        explain(model, score(model), "Gama")
