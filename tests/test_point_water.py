"""Points that may be water (issue 10): outside the known land (the pack's coast-clipped outline)
and every locality footprint, a point is scored with the ``point_maybe_water`` caveat.

The Blekinge tests run on the real pack (skipped without it); every expected figure is derived
from the pack's geometries here, none is hard-coded.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box
from test_point_score import make_store

from geo.errors import RegionNotFoundError
from geo.messages import Message
from geo.point import point_index, score_point
from geo.scoring import build_model
from geo.settings import WORK_CRS
from geo.store import open_snapshot

WATER = Message("point_maybe_water")


# -- synthetic -----------------------------------------------------------------------------------
def test_without_a_land_outline_nothing_changes(tmp_path: Path) -> None:
    snap = open_snapshot("synthpoint", make_store(tmp_path, network=False))
    assert snap.land() is None
    model = build_model(snap)
    c = model.cells.iloc[0]
    p = score_point(model, float(c["lat"]), float(c["lon"]), snapshot=snap)
    assert p.caveats == ()
    assert point_index(model).known is None


def test_a_point_outside_the_known_land_gets_the_caveat(tmp_path: Path) -> None:
    snap = open_snapshot("synthpoint", make_store(tmp_path, network=False))
    model = build_model(snap)
    idx = point_index(model, snap)
    c = model.cells.iloc[0]
    lat, lon = float(c["lat"]), float(c["lon"])
    idx.known = box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)  # a tiny known "land"
    assert score_point(model, lat, lon, snapshot=snap).caveats == ()
    far = model.cells.iloc[-1]
    p = score_point(model, float(far["lat"]), float(far["lon"]), snapshot=snap)
    assert p.caveats == (WATER,) and p.composite == p.composite  # still scored
    assert WATER.render("en").startswith("This point lies outside the coastline we know")
    assert WATER.render("sv").startswith("Den här punkten ligger utanför den kustlinje")


# -- the Blekinge pack ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blekinge(blekinge_snapshot):  # type: ignore[no-untyped-def]
    model = build_model(blekinge_snapshot)
    point_index(model, blekinge_snapshot)
    return model, blekinge_snapshot


def _known(snap) -> shapely.Geometry:  # type: ignore[no-untyped-def]
    land = snap.land()
    fp = snap.footprints()
    return shapely.union_all([*land.geometry.to_numpy(), *fp.geometry.to_numpy()])


def test_the_land_is_the_coast_clipped_outline(blekinge) -> None:  # type: ignore[no-untyped-def]
    _, snap = blekinge
    land = snap.land()
    assert land is not None and list(land["file"]) == ["province_outline_coast_clipped.geojson"]
    with_sea = gpd.read_file(Path(__file__).resolve().parents[2] / "shared" / "data" / "blekinge"
                             / "boundaries" / "province_outline_with_sea.geojson")
    assert land.to_crs(WORK_CRS).area.sum() < with_sea.to_crs(WORK_CRS).area.sum()


def test_a_bay_point_gets_the_caveat_and_the_mainland_none(blekinge) -> None:  # type: ignore[no-untyped-def]
    model, snap = blekinge
    munis = snap.municipalities().to_crs(WORK_CRS).union_all()
    known = gpd.GeoSeries([_known(snap)], crs=snap.land().crs).to_crs(WORK_CRS).iloc[0]
    reach = point_index(model, snap).water_m  # where open water begins (refused beyond)
    assert 2000 < reach < float("inf")
    # inside a municipality, 2 km off the known land, short of open water
    water = munis.difference(known.buffer(2000)).intersection(known.buffer(reach - 300)) \
        .buffer(-100)
    assert not water.is_empty
    parts = sorted(getattr(water, "geoms", [water]), key=lambda g: g.area)
    pt = gpd.GeoSeries([parts[-1].representative_point()], crs=WORK_CRS).to_crs(4326).iloc[0]
    p = score_point(model, pt.y, pt.x, snapshot=snap)
    assert p.caveats == (WATER,)
    assert p.municipality in set(snap.municipalities()["code"].astype(str))
    land = snap.land().to_crs(WORK_CRS).union_all().buffer(-2000)
    inland = gpd.GeoSeries([land.representative_point()], crs=WORK_CRS).to_crs(4326).iloc[0]
    assert score_point(model, inland.y, inland.x, snapshot=snap).caveats == ()


def test_every_tatort_and_stop_outside_the_land_is_scored(blekinge) -> None:  # type: ignore[no-untyped-def]
    model, snap = blekinge
    land = snap.land().union_all()
    known = _known(snap)
    loc = snap.localities()
    for g in loc.geometry:
        p = score_point(model, g.y, g.x, snapshot=snap)
        assert p.caveats == (() if known.intersects(g) else (WATER,))
    # every tätort point lies in its footprint (Karlskrona's on Trossö, outside the coast outline)
    assert all(known.intersects(g) for g in loc.geometry)
    assert any(not land.intersects(g) for g in loc.geometry)
    stops = snap.layer("transit")
    off = [g for g in stops.geometry if g is not None and not land.intersects(g)]
    assert off  # the islands' stops
    for g in off:
        rp = g if g.geom_type == "Point" else g.representative_point()
        p = score_point(model, rp.y, rp.x, snapshot=snap)
        assert p.composite == p.composite or p.band is None  # scored, not refused
        assert p.caveats == (() if known.intersects(rp) else (WATER,))


def test_open_water_beyond_every_known_feature_is_refused(blekinge) -> None:  # type: ignore[no-untyped-def]
    """Open water begins 1 km beyond the farthest feature of any layer outside the known land:
    derived from the pack here as the index does, and a point beyond it is refused."""
    model, snap = blekinge
    idx = point_index(model, snap)
    known = gpd.GeoSeries([_known(snap)], crs=snap.land().crs).to_crs(WORK_CRS).iloc[0]
    far = 0.0
    for key in idx.layers:
        lay = snap.layer(key)
        if len(lay):
            pts = lay.to_crs(WORK_CRS).geometry.representative_point()
            far = max(far, float(shapely.distance(pts.to_numpy(), known).max()))
    assert idx.water_m == pytest.approx(far + 1000.0, abs=1.0)
    munis = snap.municipalities().to_crs(WORK_CRS).union_all()
    sea = munis.difference(known.buffer(idx.water_m + 200)).buffer(-50)
    if sea.is_empty:
        pytest.skip("the municipality polygons reach no open water beyond the known features")
    parts = sorted(getattr(sea, "geoms", [sea]), key=lambda g: g.area)
    pt = gpd.GeoSeries([parts[-1].representative_point()], crs=WORK_CRS).to_crs(4326).iloc[0]
    with pytest.raises(RegionNotFoundError) as info:
        score_point(model, pt.y, pt.x, snapshot=snap)
    assert info.value.message is not None and info.value.message.code == "point_off_land"
