"""geo.point: any point scored as a grid cell is.

Stores here are SYNTHETIC (built below: invented places, a street grid, amenities) or built from
the real Blekinge pack (``blekinge_store``, skipped without the pack).
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import LimitError, LivabilityError, RegionNotFoundError
from geo.network import MODE_SPEEDS_KMH, project_lonlat
from geo.point import PointScore, point_index, score_point
from geo.schema import LOCALITY_COLUMNS, Provenance, conform
from geo.scoring import ScoreModel, build_model, explain, score
from geo.store import open_snapshot, write_snapshot
from layers import get_indicator

SYNTH = Provenance(source="SYNTHETIC test fixture", license="CC0-1.0", coverage="complete")
SYNTH_PARTIAL = Provenance(source="SYNTHETIC test fixture (partial)", license="CC0-1.0",
                           coverage="partial")
#: (code, name, municipality, population, lon, lat): invented
PLACES = [("P1", "Alphaby", "0001", 3000, 15.000, 56.000),
          ("P2", "Betavik", "0002", 800, 15.050, 56.000)]
PHARMACY = (15.002, 56.001)
GROCERY = (15.051, 56.0005)
CLINIC = (14.998, 55.999)


def _grid_network(oneway_every: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A street grid (about 125 x 111 m) over the synthetic county; ``oneway_every``: every
    n-th east-west edge one way only (0: all both ways)."""
    lons = np.round(np.arange(14.96, 15.0901, 0.002), 6)
    lats = np.round(np.arange(55.975, 56.0251, 0.001), 6)
    ids = np.arange(len(lons) * len(lats)).reshape(len(lats), len(lons))
    nodes = pd.DataFrame({"node": ids.ravel(), "x": np.tile(lons, len(lats)),
                          "y": np.repeat(lats, len(lons))})
    xy = project_lonlat(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    pairs = [(ids[i, j], ids[i, j + 1]) for i in range(len(lats)) for j in range(len(lons) - 1)]
    pairs += [(ids[i, j], ids[i + 1, j]) for i in range(len(lats) - 1) for j in range(len(lons))]
    u = np.array([p[0] for p in pairs])
    v = np.array([p[1] for p in pairs])
    length = np.hypot(*(xy[u] - xy[v]).T) * 1.05
    edges = pd.DataFrame({"u": u, "v": v, "length": length, "highway": "residential",
                          "maxspeed": 50.0})
    if oneway_every:
        back = edges.iloc[[k for k in range(len(edges)) if k % oneway_every]]
        edges = pd.concat([edges, back.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    return nodes, edges


def make_store(data: Path, *, network: bool) -> Path:
    """A SYNTHETIC county: two municipalities (land boxes) with a strip of 'sea' inside the
    region's bounds, two localities, amenities of every measure, a rent table; with
    ``network`` a walking grid and a drive grid with one-way streets."""
    crs = "EPSG:4326"
    munis = gpd.GeoDataFrame({"code": ["0001", "0002"], "name": ["Västra", "Östra"]},
                             geometry=[box(14.95, 55.97, 15.025, 56.03),
                                       box(15.025, 55.97, 15.1, 56.03)], crs=crs)
    boundary = gpd.GeoDataFrame({"name": ["Synthetic county"]},
                                geometry=[box(14.95, 55.94, 15.1, 56.03)], crs=crs)  # + sea
    loc = gpd.GeoDataFrame({
        "code": [p[0] for p in PLACES], "name": [p[1] for p in PLACES],
        "municipality": [p[2] for p in PLACES],
        "municipality_name": ["Västra" if p[2] == "0001" else "Östra" for p in PLACES],
        "population": [p[3] for p in PLACES], "area_ha": [60.0, 30.0], "source": "synthetic",
        "license": "CC0-1.0", "source_date": "", "coverage": "complete",
    }, geometry=[Point(p[4], p[5]) for p in PLACES], crs=crs)[list(LOCALITY_COLUMNS)]
    pts = gpd.points_from_xy
    transit = conform(gpd.GeoDataFrame(
        {"name": ["Alphaby station", "Torget", "Betavik skola hpl"],
         "kind": ["rail_station", "bus_stop", "bus_stop"]},
        geometry=pts([15.0, 15.001, 15.049], [56.004, 56.0, 56.001]), crs=crs), "transit", SYNTH)
    services = conform(gpd.GeoDataFrame(
        {"name": ["Apotek Alpha", "Affär Beta", "Vårdcentral Alpha"],
         "kind": ["pharmacy", "grocery", "clinic"]},
        geometry=pts([PHARMACY[0], GROCERY[0], CLINIC[0]], [PHARMACY[1], GROCERY[1], CLINIC[1]]),
        crs=crs), "services", SYNTH)
    schools = conform(gpd.GeoDataFrame({"name": ["Alpha skola"], "kind": ["school"]},
                                       geometry=pts([15.0], [56.002]), crs=crs),
                      "schools", SYNTH_PARTIAL)
    nature = conform(gpd.GeoDataFrame(
        {"name": ["Stora parken", "Badet"], "kind": ["park", "bathing_place"]},
        geometry=[box(15.01, 55.995, 15.02, 56.005), Point(15.03, 55.98)], crs=crs),
        "nature", SYNTH)
    work = conform(gpd.GeoDataFrame(
        {"name": ["Kontor 1", "Kontor 2", "Verkstad"], "kind": ["office", "office", "industrial"]},
        geometry=pts([15.0, 15.04, 15.08], [56.001, 56.0, 55.99]), crs=crs), "workplaces", SYNTH)
    # houses around both localities and along a country road (rural cells, countryside)
    hx = np.r_[np.linspace(14.995, 15.006, 6), np.linspace(15.046, 15.054, 4),
               np.linspace(14.97, 15.08, 12)]
    hy = np.r_[np.full(6, 56.0015), np.full(4, 55.9995), np.full(12, 56.012)]
    housing = conform(gpd.GeoDataFrame({"name": [None] * len(hx), "kind": "house"},
                                       geometry=pts(hx, hy), crs=crs), "housing", SYNTH)
    rent = pd.DataFrame({"municipality": ["0001", "0002", "0003"], "year": [2022] * 3,
                         "value": [1000.0, 800.0, 900.0]})
    with write_snapshot("synthpoint", {"name": "Syntetiska län (TEST)"}, data) as w:
        w.put_base("boundary", boundary, [SYNTH])
        w.put_base("municipalities", munis, [SYNTH])
        w.put_base("localities", loc, [SYNTH])
        for key, gdf, prov, cov in (("transit", transit, SYNTH, "complete"),
                                    ("services", services, SYNTH, "complete"),
                                    ("schools", schools, SYNTH_PARTIAL, "partial"),
                                    ("nature", nature, SYNTH, "complete"),
                                    ("workplaces", work, SYNTH, "complete"),
                                    ("housing", housing, SYNTH, "complete")):
            w.put_layer(key, gdf, [prov], cov)
        w.put_table("rent_median_sek_per_m2_year", rent, SYNTH)
        if network:
            nodes, edges = _grid_network()
            w.put_network("walk", nodes, edges[["u", "v", "length"]], SYNTH)
            dn, de = _grid_network(oneway_every=7)
            w.put_network("drive", dn, de, SYNTH)
    return data


@pytest.fixture(scope="module", params=[False, True], ids=["straight", "streets"])
def synth(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[ScoreModel, object]:
    data = make_store(tmp_path_factory.mktemp("point"), network=request.param)
    snap = open_snapshot("synthpoint", data)
    model = build_model(snap)
    point_index(model, snap)  # cached on the model: later calls without a snapshot use it
    return model, snap


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScoreModel, object]:
    data = make_store(tmp_path_factory.mktemp("point_straight"), network=False)
    snap = open_snapshot("synthpoint", data)
    model = build_model(snap)
    point_index(model, snap)  # cached on the model: later calls without a snapshot use it
    return model, snap


def _agree(model: ScoreModel, snap: object, cells: list[str], **kw: object) -> None:
    """score_point at each cell's centre == the cell's indicator, theme and composite scores."""
    s = score(model, **kw)  # type: ignore[arg-type]
    weights = kw.get("weights")
    for h in cells:
        c = model.cells.loc[h]
        p = score_point(model, float(c["lat"]), float(c["lon"]), weights,  # type: ignore[arg-type]
                        persona=kw.get("persona"), penalty=bool(kw.get("penalty", False)),
                        snapshot=snap)
        assert p.h3 == h and p.in_grid
        assert p.place_type == c["place_type"] and p.municipality == c["municipality"]
        got = np.array([p.indicator_scores()[k] for k in model.ind_keys])
        want = model.cell_scores.loc[h].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(got), np.isnan(want)), h
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-6)
        assert p.composite == pytest.approx(float(s.cells.at[h, "composite"]), abs=1e-6)
        for t in model.themes:
            a, b = p.themes[t], float(s.cells.at[h, f"theme:{t}"])
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-6)
        assert p.stat_share == pytest.approx(float(s.cells.at[h, "stat_share"]), abs=1e-9)
        assert p.complete_share == pytest.approx(float(s.cells.at[h, "complete_share"]), abs=1e-9)


def test_cell_centres_agree_with_the_grid(synth: tuple[ScoreModel, object]) -> None:
    model, snap = synth
    assert len(model.cells) > 20
    _agree(model, snap, list(model.cells.index))  # every cell of the synthetic grid


def test_network_points_are_not_approximate(synth: tuple[ScoreModel, object]) -> None:
    model, snap = synth
    c = model.cells.iloc[0]
    p = score_point(model, float(c["lat"]), float(c["lon"]), snapshot=snap)
    along = bool(snap.network_modes())  # type: ignore[attr-defined]
    assert p.row("transit.bus").approximate is (not along)
    assert p.row("workplaces.jobs_30min").approximate is (not along)  # car: drive grid
    assert not p.row("workplaces.jobs_30min").missing


@pytest.mark.parametrize("kw", [{"weights": {"transit": 3.0, "schools": 0.0}},
                                {"persona": "family"}, {"penalty": True},
                                {"weights": {"nature": 4.0}, "persona": "retiree"}])
def test_weights_and_personas_change_the_composite_as_score_does(
        straight: tuple[ScoreModel, object], kw: dict[str, object]) -> None:
    model, snap = straight
    cells = list(model.cells.index[::3])
    _agree(model, snap, cells, **kw)
    c = model.cells.loc[cells[0]]
    base = score_point(model, float(c["lat"]), float(c["lon"]))
    other = score_point(model, float(c["lat"]), float(c["lon"]),
                        kw.get("weights"), persona=kw.get("persona"),  # type: ignore[arg-type]
                        penalty=bool(kw.get("penalty", False)))
    assert other.composite != pytest.approx(base.composite, abs=1e-9)
    assert other.persona == kw.get("persona")


def test_scores_object_gives_its_weighting(straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    s = score(model, {"services": 5.0}, persona="family", penalty=True)
    c = model.cells.iloc[2]
    p = score_point(model, float(c["lat"]), float(c["lon"]), s)
    assert p.composite == pytest.approx(float(s.cells.iloc[2]["composite"]), abs=1e-6)
    assert p.persona == "family" and p.penalty and p.weights["services"] == 5.0


def _straight_m(lon: float, lat: float, target: tuple[float, float]) -> float:
    a, b = project_lonlat(np.array([lon, target[0]]), np.array([lat, target[1]]))
    return float(np.hypot(*(a - b)))


def test_nearest_named_amenities_with_distances_by_mode(
        straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    lat, lon = 56.0185, 15.004  # north of Alphaby, in no grid cell: the countryside of Västra
    p = score_point(model, lat, lon)
    assert not p.in_grid and p.locality is None and p.place_type == "countryside"
    assert p.municipality == "0001" and p.municipality_name == "Västra"
    assert p.near_locality == "P1" and p.near_locality_name == "Alphaby"
    pharm = p.nearest_of("services.pharmacy")
    assert pharm is not None and pharm.place.name == "Apotek Alpha"
    d = _straight_m(lon, lat, PHARMACY)
    assert pharm.place.mode == "bike" and pharm.place.distance_m == pytest.approx(1.3 * d)
    trips = {t.mode: t for t in pharm.trips}
    assert trips["walk"].distance_m == pytest.approx(1.3 * d)
    assert trips["car"].distance_m == pytest.approx(1.4 * d)
    assert trips["walk"].minutes == pytest.approx(1.3 * d / (MODE_SPEEDS_KMH["walk"] * 1000 / 60))
    assert all(t.approximate for t in pharm.trips)
    health = p.nearest_of("services.health")
    assert health is not None and health.place.name == "Vårdcentral Alpha"
    assert health.place.distance_m == pytest.approx(1.3 * _straight_m(lon, lat, CLINIC))
    # the countryside standard scores the distance, as for a rural cell
    row = p.row("services.grocery")
    assert row.standard_m == get_indicator("services.grocery").threshold_for("countryside")
    assert row.nearest[0].name == "Affär Beta"
    en = p.explanation.to_text("en")
    assert "nearest: Apotek Alpha, " in en and " by bike" in en
    sv = p.explanation.to_text("sv")
    assert "närmast: Apotek Alpha, " in sv and "med cykel" in sv
    # a partial list says "nearest known"
    school = p.row("schools.primary")
    assert school.partial and school.statement is not None
    assert school.statement.render("en").startswith(("nearest known: ", "no known school"))
    # the sentence of the score: band and percentiles among localities and cells
    assert p.meaning is not None and p.meaning.code == "point_meaning"
    assert 0 <= p.pct_places <= 100 and 0 <= p.pct_cells <= 100
    assert f"better than {p.pct_places:.0f}% of the localities" in p.meaning.render("en")
    assert f"bättre än {p.pct_places:.0f} % av orterna" in p.meaning.render("sv")


def test_percentiles_count_lower_places_and_half_the_ties(
        straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    s = score(model)
    c = model.cells.iloc[0]
    p = score_point(model, float(c["lat"]), float(c["lon"]))
    cells = s.cells["composite"].to_numpy(dtype=float)
    want = 100 * ((cells < p.composite).sum() + 0.5 * (cells == p.composite).sum()) / len(cells)
    assert p.pct_cells == pytest.approx(want)
    locs = s.localities["composite"].to_numpy(dtype=float)
    assert p.pct_places == pytest.approx(
        100 * ((locs < p.composite).sum() + 0.5 * (locs == p.composite).sum()) / len(locs))


def test_statistics_come_from_the_points_municipality(
        straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    west = score_point(model, 56.02, 14.97)
    east = score_point(model, 56.02, 15.09)
    assert (west.municipality, east.municipality) == ("0001", "0002")
    assert west.row("housing.rent").raw == 1000.0 and east.row("housing.rent").raw == 800.0
    assert west.row("housing.rent").context is not None
    assert west.row("housing.rent").score < east.row("housing.rent").score  # lower rent: better
    # the same value as the municipality's cells
    h = model.cells.index[model.cells["municipality"] == "0002"][0]
    assert east.row("housing.rent").score == pytest.approx(model.cell_scores.at[h, "housing.rent"])


def test_a_point_in_the_sea_or_outside_raises_a_message(
        straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    with pytest.raises(RegionNotFoundError) as sea:
        score_point(model, 55.955, 15.0)  # inside the region's bounds, on no municipality
    assert sea.value.message is not None and sea.value.message.code == "point_off_land"
    assert str(sea.value) == (
        "This point (55.9550, 15.0000) is not on land in Syntetiska län (TEST): it lies in the "
        "sea or beyond the county border. Click on land inside the region.")
    assert sea.value.render("sv") == (
        "Den här punkten (55,9550, 15,0000) ligger inte på land i Syntetiska län (TEST): den "
        "ligger i havet eller utanför länsgränsen. Klicka på land inom regionen.")
    with pytest.raises(RegionNotFoundError) as far:
        score_point(model, 59.33, 18.07)
    assert far.value.message is not None and far.value.message.code == "point_outside"
    assert str(far.value) == (
        "This point (59.3300, 18.0700) is outside Syntetiska län (TEST), which spans "
        "55.94-56.03 N, 14.95-15.10 E. Click on land inside the region.")
    assert far.value.render("sv").startswith(
        "Den här punkten (59,3300, 18,0700) ligger utanför Syntetiska län (TEST), som sträcker "
        "sig över 55,94–56,03 N, 14,95–15,10 Ö.")


@pytest.mark.parametrize("lat,lon", [(float("nan"), 15.0), (91.0, 15.0), (56.0, 181.0),
                                     ("north", 15.0), (None, None)])
def test_coordinates_not_on_earth_are_a_limit_error(
        straight: tuple[ScoreModel, object], lat: object, lon: object) -> None:
    model, _ = straight
    with pytest.raises(LimitError) as err:
        score_point(model, lat, lon)  # type: ignore[arg-type]
    assert "is not a point on Earth" in str(err.value)
    assert "är ingen punkt på jorden" in err.value.render("sv")


def test_bad_weights_are_the_scorers_errors(straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    with pytest.raises(LivabilityError, match="weight transit=-1"):
        score_point(model, 56.0, 15.0, {"transit": -1})


def test_index_is_kept_on_the_model_and_warm_calls_are_fast(
        straight: tuple[ScoreModel, object]) -> None:
    model, snap = straight
    idx = point_index(model, snap)  # type: ignore[arg-type]
    assert point_index(model) is idx
    t0 = time.perf_counter()
    p = score_point(model, 56.001, 15.001)
    assert isinstance(p, PointScore) and time.perf_counter() - t0 < 1.0
    assert p.seconds < 1.0


def test_the_explanation_matches_a_cells(straight: tuple[ScoreModel, object]) -> None:
    model, _ = straight
    s = score(model)
    h = model.cells.index[0]
    c = model.cells.loc[h]
    e_cell = explain(model, s, h)
    e_point = score_point(model, float(c["lat"]), float(c["lon"])).explanation
    for a, b in zip(e_cell.indicators, e_point.indicators, strict=True):
        assert a.key == b.key and a.missing == b.missing
        assert str(a.statement) == str(b.statement) and str(a.reason) == str(b.reason)
        assert [n.name for n in a.nearest] == [n.name for n in b.nearest]
        assert a.standard_m == b.standard_m and a.partial == b.partial


# -- the real pack ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blekinge(blekinge_store: Path) -> tuple[ScoreModel, object]:
    snap = open_snapshot("blekinge", blekinge_store)
    return build_model(snap), snap


@pytest.mark.pack
def test_real_pack_cell_centres_agree(blekinge: tuple[ScoreModel, object]) -> None:
    model, snap = blekinge
    cells = list(model.cells.index[::97]) + list(
        model.cells.index[model.cells["locality"].isna()][:5])  # rural cells too
    _agree(model, snap, cells)
    _agree(model, snap, cells[:6], persona="family")


@pytest.mark.pack
def test_real_pack_point_outside_every_locality(blekinge: tuple[ScoreModel, object]) -> None:
    model, snap = blekinge
    p = score_point(model, 56.30, 15.00, snapshot=snap)  # forest north of Åryd, Karlshamn
    assert p.place_type == "countryside" and not p.in_grid
    assert p.municipality_name == "Karlshamn"
    grocery, health = p.nearest_of("services.grocery"), p.nearest_of("services.health")
    for n in (grocery, health):
        assert n is not None and n.place.name and n.place.distance_m > 1000
        assert n.place.known and not n.stated  # a partial list, far: "nearest known"
        assert {t.mode for t in n.trips} == {"walk", "bike", "car"}
    with pytest.raises(RegionNotFoundError, match="in the sea or beyond the county border"):
        score_point(model, 56.05, 15.60)  # the Baltic south of Karlskrona
