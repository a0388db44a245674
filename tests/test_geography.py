"""Geography: island-keeping region polygons, tätort footprints from outlines, cells where people live.

Pack tests read their expected figures from the pack's own files (``pack.json``, the localities,
outline, municipality and station files); synthetic fixtures below are built in the test code.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.cli import main
from geo.footprints import OVERLAP_M, locality_footprints, normalise_name
from geo.grid import build_grid
from geo.settings import WORK_CRS

#: Stortorget, the main square of central Karlskrona on Trossö.
STORTORGET = (56.1612, 15.5869)  # lat, lon
#: Island extents (lon_min, lon_max, lat_min, lat_max), read off the pack's stop-areas file (the
#: stops named after each island: "Aspö Djupvik", "Aspö Madsviken", "Hasslö ...", "Sturkö ...",
#: "... (Sturkö)") and Lantmäteriet's tätort outlines of Hasslö and Sturkö in the pack's
#: boundaries/tatort_outlines_lantmateriet_2020.geojson (bounds 15.447-15.491 E, 56.098-56.124 N
#: and 15.640-15.707 E, 56.077-56.125 N), padded about 500 m; Hasslöbron (the bridge's mainland
#: end, 56.1315 N) lies outside the Hasslö box. Aspö lies between Hasslö and Trossö (the brief's
#: guess 15.64-15.72 E is Sturkö).
ISLANDS = {
    "Aspö": (15.50, 15.58, 56.105, 56.14),
    "Hasslö": (15.43, 15.50, 56.095, 56.127),
    "Sturkö": (15.645, 15.735, 56.075, 56.125),
}


def _pack_json(pack: Path) -> dict:  # type: ignore[type-arg]
    return dict(json.loads((pack / "pack.json").read_text(encoding="utf-8")))


def _entry(pack: Path, section: str, needle: str) -> dict:  # type: ignore[type-arg]
    return next(e for e in _pack_json(pack)[section] if needle in e["file"])


def _code_of(pack: Path, municipality: str) -> str:
    munis = _pack_json(pack)["region"]["municipalities"]
    return next(c for c, n in munis.items() if n == municipality)


def _localities_file(pack: Path) -> gpd.GeoDataFrame:
    e = next(e for e in _pack_json(pack)["layers"] if e["theme"] == "localities")
    raw = gpd.read_file(pack / e["file"])
    return gpd.GeoDataFrame({k: raw[v] for k, v in e["fields"].items()}, geometry=raw.geometry)


@pytest.fixture(scope="module")
def model(blekinge_snapshot):  # type: ignore[no-untyped-def]
    from geo.scoring import build_model

    return build_model(blekinge_snapshot)


@pytest.fixture(scope="module")
def scores(model):  # type: ignore[no-untyped-def]
    from geo.scoring import score

    return score(model)


# -- the real pack ----------------------------------------------------------------------------
@pytest.mark.pack
def test_stortorget_is_scored_in_karlskrona(model, scores, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    cell = h3.latlng_to_cell(*STORTORGET, 9)
    row = model.cells.set_index("h3").loc[cell]
    kk = _code_of(pack_dir, "Karlskrona")
    scb = _localities_file(pack_dir)
    assert row["municipality"] == kk
    assert row["locality"] == scb.loc[scb["name"] == "Karlskrona", "id"].iloc[0]
    assert row["weight"] > 0
    composite = scores.cells.set_index("h3").loc[cell, "composite"]
    assert np.isfinite(composite) and 0 <= composite <= 100


@pytest.mark.pack
def test_karlskrona_station_is_nearest_to_central_karlskrona(model, scores, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from geo.scoring import explain

    stations = gpd.read_file(pack_dir / _entry(pack_dir, "layers", "rail_stations")["file"])
    metric = stations.to_crs(WORK_CRS)
    sq = gpd.GeoSeries([Point(STORTORGET[1], STORTORGET[0])], crs=4326).to_crs(WORK_CRS).iloc[0]
    central = str(stations["name"].iloc[int(np.argmin(metric.distance(sq).to_numpy()))])
    assert central.startswith("Karlskrona")  # "Karlskrona Centralstation" in this pack
    cell = explain(model, scores, h3.latlng_to_cell(*STORTORGET, 9))
    rail = cell.row("transit.rail")
    assert rail.nearest[0].name == central
    # the locality: central Karlskrona's residents now count (before, Trossö was not in the grid
    # and Bergåsa station was nearest for 100% of Karlskrona); the named station is the one nearest
    # for the largest share of the tätort's cells (people spread evenly: no population grid)
    place = explain(model, scores, "Karlskrona")
    rail = place.row("transit.rail")
    res = model.results["transit.rail"]
    cells = model.cells.index[model.cells["locality"] == place.code]
    w = model.cells.loc[cells, "weight"].to_numpy()
    uids = model.indicator_values("transit.rail").loc[cells, "nearest"]
    names = uids.map(res.amenities.set_index(res.amenities["uid"].astype(str))["name"]).to_numpy()
    share = pd.Series(w).groupby(names).sum() / w.sum()
    assert share[central] > 0.05
    assert rail.nearest[0].name == share.idxmax()
    assert rail.nearest[0].share == pytest.approx(share.max())
    # the explanation names Karlskrona's own station too, with the share it is nearest for and
    # the median distance of those residents (en and sv)
    named = {a.name: a.share for a in rail.nearest}
    assert named[central] == pytest.approx(share[central])
    for lang in ("en", "sv"):
        line = next(ln for ln in place.to_text(lang).splitlines() if central in ln)
        assert f"{round(100 * share[central])}" in line


@pytest.mark.pack
def test_island_stops_are_in_karlskrona(blekinge_snapshot, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    kk = _code_of(pack_dir, "Karlskrona")
    stops = blekinge_snapshot.layer("transit").query("kind == 'bus_stop'")
    raw = gpd.read_file(pack_dir / _entry(pack_dir, "layers", "stop_areas")["file"])
    munis = blekinge_snapshot.municipalities()
    from geo.regions import municipalities as scb_municipalities

    scb = scb_municipalities()
    for island, (x0, x1, y0, y1) in ISLANDS.items():
        on = stops.cx[x0:x1, y0:y1]
        named = raw[raw["stop_name"].str.contains(island)].cx[x0:x1, y0:y1]
        assert len(named) >= 2 and set(named["stop_name"]) <= set(on["name"]), island
        assert (on["municipality"] == kk).all(), (island, on[on["municipality"] != kk]["name"].tolist())
        # and by geometry: the stored (island-keeping) municipality polygons hold every stop
        inside = gpd.sjoin(on[["geometry"]], munis[["code", "geometry"]], how="left")
        assert (inside["code"] == kk).all(), island
        # which SCB's simplified polygons do not (they miss the islands)
        scb_hit = gpd.sjoin(on[["geometry"]], scb[["code", "geometry"]], how="left")
        assert (scb_hit["code"] != kk).any(), island


@pytest.mark.pack
def test_region_polygons_come_from_the_pack_municipality_file(blekinge_snapshot, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    entry = _entry(pack_dir, "boundaries", "municipalities")
    assert entry["license"].startswith("unclear:")
    base = blekinge_snapshot.manifest["base"]
    for name in ("municipalities", "boundary"):
        assert [(s["source"], s["license"]) for s in base[name]["sources"]] == [
            (entry["source"], entry["license"])], name
    assert blekinge_snapshot.manifest["region"]["boundary_license"] == entry["license"]
    raw = gpd.read_file(pack_dir / entry["file"]).dissolve("kommun_kod").to_crs(WORK_CRS)
    stored = blekinge_snapshot.municipalities().set_index("code").to_crs(WORK_CRS)
    assert sorted(stored.index) == sorted(raw.index)
    for code in raw.index:
        assert stored.geometry[code].symmetric_difference(raw.geometry[code]).area < 1.0  # m²
    assert set(stored["license"]) == {entry["license"]}
    sq = Point(STORTORGET[1], STORTORGET[0])
    assert blekinge_snapshot.boundary().geometry.iloc[0].contains(sq)
    from geo.regions import resolve_region

    assert not resolve_region("blekinge").polygon.contains(sq)  # SCB's simplified county misses Trossö


def _expected_matches(pack: Path) -> tuple[int, list[str], list[str]]:
    """From the files: localities with an outline by name or within OVERLAP_M, and the rest."""
    e = _entry(pack, "boundaries", "tatort")
    out = gpd.read_file(pack / e["file"]).dissolve(e["fields"]["id"]).reset_index().to_crs(WORK_CRS)
    scb = _localities_file(pack).to_crs(WORK_CRS)
    onames = out[e["fields"]["name"]].map(normalise_name)
    by_name = scb["name"].map(normalise_name).isin(set(onames))
    free = out[~onames.isin(set(scb["name"].map(normalise_name)))]
    near = scb.geometry.map(lambda p: bool(len(free)) and free.distance(p).min() <= OVERLAP_M)
    matched = by_name | near
    lost_out = [n for n in free[e["fields"]["name"]]
                if scb[~by_name].distance(out.loc[out[e["fields"]["name"]] == n].geometry.iloc[0]).min()
                > OVERLAP_M]
    return int(matched.sum()), sorted(scb.loc[~matched, "name"]), sorted(lost_out)


@pytest.mark.pack
def test_every_tatort_has_one_footprint(blekinge_snapshot, model, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    fp = blekinge_snapshot.footprints()
    scb = _localities_file(pack_dir)
    assert len(fp) == len(scb) and fp["code"].is_unique
    assert set(fp["code"]) == set(blekinge_snapshot.localities()["code"])
    n_matched, lost_loc, lost_out = _expected_matches(pack_dir)
    outlines = fp[fp["footprint_source"] == "outline"]
    assert len(outlines) == n_matched
    assert outlines["outline_id"].is_unique  # one outline per tätort, parts dissolved
    discs = fp[fp["footprint_source"] == "disc"]
    assert sorted(discs["name"]) == lost_loc  # the pack's outlines lack these SCB tätorter
    assert set(fp["footprint_source"]) <= {"outline", "disc"}
    entry = blekinge_snapshot.manifest["base"]["footprints"]
    assert (entry["matched"], entry["unmatched_localities"]) == (n_matched, lost_loc)
    assert sorted(entry["unmatched_outlines"]) == lost_out
    assert any(n.startswith(f"tätort outlines: {n_matched} of {len(scb)} localities matched")
               for n in blekinge_snapshot.manifest["notes"])
    # Karlskrona's outline is several parts in the file, dissolved into one footprint
    e = _entry(pack_dir, "boundaries", "tatort")
    raw = gpd.read_file(pack_dir / e["file"])
    kk = raw[raw[e["fields"]["name"]] == "Karlskrona"]
    geom = fp.loc[fp["name"] == "Karlskrona"].geometry.iloc[0]
    assert len(kk) > 1 and isinstance(geom, MultiPolygon) and len(geom.geoms) == len(kk)
    # cells where people live: every locality has cells, and all its population
    per = model.cells.groupby("locality")
    assert (per.size().reindex(fp["code"]).fillna(0) > 0).all()
    pop = blekinge_snapshot.localities().set_index("code")["population"]
    assert per["weight"].sum().reindex(pop.index).to_numpy() == pytest.approx(pop.to_numpy())


@pytest.mark.pack
def test_outline_cells_have_centres_inside(blekinge_snapshot, model) -> None:  # type: ignore[no-untyped-def]
    fp = blekinge_snapshot.footprints().set_index("code")
    loc = blekinge_snapshot.localities().set_index("code")
    cells = model.cells[model.cells["locality"].notna()]
    pts = gpd.GeoSeries(gpd.points_from_xy(cells["lon"], cells["lat"]), crs=4326, index=cells.index)
    inside = pts.within(gpd.GeoSeries(fp.geometry.reindex(cells["locality"]).values, crs=4326,
                                      index=cells.index))
    own = cells["h3"].to_numpy() == np.array(
        [h3.latlng_to_cell(p.y, p.x, 9) for p in loc.geometry.reindex(cells["locality"])])
    outline = fp["footprint_source"].reindex(cells["locality"]).to_numpy() == "outline"
    # an outline cell's centre is inside its outline, or it holds the SCB point, or it is a cell a
    # part too small for any centre touches
    extra = cells[outline & ~inside.to_numpy() & ~own]
    assert len(extra) <= 0.05 * outline.sum()
    touched = gpd.GeoSeries(fp.geometry.reindex(extra["locality"]).values, crs=4326)
    from geo.grid import cell_polygons

    assert cell_polygons(extra["h3"].tolist()).reset_index(drop=True).intersects(touched).all()


@pytest.mark.pack
def test_outline_file_without_names_or_codes(pack_dir: Path, blekinge_store: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "store"
    shutil.copytree(blekinge_store, data, symlinks=True)  # the session's real-pack build, copied
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.rglob("*"))
              if p.is_file()}
    bad = tmp_path / "bad-pack"
    (bad / "boundaries").mkdir(parents=True)
    gpd.GeoDataFrame({"AREA": [12.0]}, geometry=[box(15.58, 56.16, 15.59, 56.17)], crs=4326).to_file(
        bad / "boundaries" / "outlines.geojson", driver="GeoJSON")
    (bad / "pack.json").write_text(json.dumps({"name": "bad", "boundaries": [
        {"file": "boundaries/outlines.geojson", "what": "tätort outlines"}]}), encoding="utf-8")
    capsys.readouterr()
    rc = main(["--data-dir", str(data), "build", "--region", "blekinge", "--pack", str(pack_dir),
               "--pack", str(bad), "--offline", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert str(bad / "boundaries" / "outlines.geojson") in err
    assert "name or code" in err and "NAMN1" in err and "TATNR" in err and "AREA" in err
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.rglob("*"))
             if p.is_file()}
    assert after == before


# -- synthetic: footprints, grid and region polygons -------------------------------------------
def _points(rows: list[tuple[str, str, float, float, float, str]]) -> gpd.GeoDataFrame:
    """Synthetic localities: (code, name, lon, lat, area_ha, municipality), 100 people each."""
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows], "area_ha": [r[4] for r in rows],
         "municipality": [r[5] for r in rows], "population": [100.0] * len(rows)},
        geometry=[Point(r[2], r[3]) for r in rows], crs=4326)


def test_outlines_join_by_name_then_overlap() -> None:
    loc = _points([("A", "Bräkne-Hoby", 15.00, 56.00, 50, "0001"),
                   ("B", "Spjälkö och Saxemara", 15.10, 56.00, 50, "0001"),
                   ("C", "Färmanstorp", 15.20, 56.00, 50, "0001")])
    outlines = gpd.GeoDataFrame(
        {"name": ["BRÄKNE HOBY", "Saxemara", "Djupekås"], "tatort_id": ["1", "2", "3"]},
        geometry=[box(15.02, 56.02, 15.03, 56.03),      # by name, 2.5 km off the point
                  box(15.1002, 55.998, 15.11, 56.01),    # holds nothing: 13 m from B's point
                  box(15.25, 56.05, 15.26, 56.06)],      # far from C
        crs=4326)
    m = locality_footprints(loc, outlines)
    fp = m.footprints.set_index("code")
    assert fp["footprint_source"].to_dict() == {"A": "outline", "B": "outline", "C": "disc"}
    assert fp["matched_by"].fillna("-").to_dict() == {"A": "name", "B": "overlap", "C": "-"}
    assert fp["outline_id"].fillna("-").to_dict() == {"A": "1", "B": "2", "C": "-"}
    assert (m.unmatched_localities, m.unmatched_outlines) == (["Färmanstorp"], ["Djupekås"])
    assert fp.loc["C", "area_ha"] == pytest.approx(50, rel=0.01)  # the disc keeps the SCB area
    assert m.note() == ("tätort outlines: 2 of 3 localities matched; no outline for Färmanstorp (a "
                        "disc of the locality's area is used); outlines matching no locality: Djupekås")


def test_grid_fills_outlines_touches_islets_and_keeps_the_point() -> None:
    loc = _points([("A", "Town", 15.00, 56.00, 5, "0001")])
    main_part = box(15.01, 56.01, 15.03, 56.02)          # 1.2 x 1.1 km, far from the point
    islet = box(15.05, 56.05, 15.0502, 56.0501)          # 12 x 11 m: no cell centre inside
    fp = gpd.GeoDataFrame({"code": ["A"], "footprint_source": ["outline"]},
                          geometry=[MultiPolygon([main_part, islet])], crs=4326)
    cells = build_grid(loc, footprints=fp)
    ids = set(cells["h3"])
    inside = set(h3.h3shape_to_cells(h3.geo_to_h3shape(main_part), 9))
    assert inside and inside <= ids
    assert h3.latlng_to_cell(56.00, 15.00, 9) in ids  # the SCB point's cell
    assert h3.latlng_to_cell(56.05005, 15.0501, 9) in ids  # the islet's cell
    assert (cells["locality"] == "A").all()
    assert cells["weight"].sum() == pytest.approx(100) and np.allclose(cells["weight"], 100 / len(cells))
    # a 5 ha disc (no footprint) covers the point only
    assert len(build_grid(loc)) < len(cells)


def test_cell_municipality_locality_then_polygon() -> None:
    loc = _points([("A", "Town", 15.00, 56.00, 400, "0001"), ("B", "Hamlet", 15.30, 56.00, 5, None)])
    east = gpd.GeoDataFrame({"code": ["0002"]}, geometry=[box(15.005, 55.9, 15.5, 56.1)], crs=4326)
    farm = (15.1, 56.05)  # a rural house inside 0002, 8 km from A and 13 km from B
    housing = gpd.GeoDataFrame({"kind": ["house"]}, geometry=[Point(*farm)], crs=4326)
    cells = build_grid(loc, housing=housing, municipalities=east).set_index("h3")
    a = cells[cells["locality"] == "A"]
    assert (a["lon"] > 15.005).any()  # part of A lies inside 0002's (generalised) polygon
    assert (a["municipality"] == "0001").all()  # a locality is one place in one municipality
    rural = cells.loc[h3.latlng_to_cell(farm[1], farm[0], 9)]
    assert pd.isna(rural["locality"]) and rural["municipality"] == "0002"  # by its centre
    assert (cells.loc[cells["locality"] == "B", "municipality"] == "0002").all()  # B has none
    # without polygons a rural cell takes the nearest locality's municipality
    assert build_grid(loc, housing=housing).set_index("h3").loc[rural.name, "municipality"] == "0001"


def test_centre_inside_beats_a_touch() -> None:
    loc = _points([("A", "A", 15.00, 56.00, 5, "0001"), ("B", "B", 15.0104, 56.00, 5, "0001")])
    c = h3.latlng_to_cell(56.0, 15.01, 9)
    hexagon = Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)])
    tiny = Point(15.0104, 56.0).buffer(0.00005)  # B's outline: too small for a centre
    fp = gpd.GeoDataFrame({"code": ["A", "B"], "footprint_source": ["outline", "outline"]},
                          geometry=[hexagon.buffer(0.0002), tiny], crs=4326)
    cells = build_grid(loc, footprints=fp).set_index("h3")
    assert cells.loc[c, "locality"] == "A"  # A holds its centre; B's outline only touches it


def test_island_keeping_region_from_pack_rows() -> None:
    from geo.build import _island_keeping
    from geo.regions import resolve_region
    from geo.sources.base import SourceResult

    reg = resolve_region("blekinge")
    r = SourceResult(name="pack t")
    big = reg.municipalities.set_index("code").geometry["1080"].buffer(0.05)
    r.boundary = gpd.GeoDataFrame(
        {"kind": ["municipality"], "municipality": ["1080"], "name": ["Karlskrona"],
         "tatort_id": [None], "what": ["m"], "source": ["Election Authority"],
         "license": ["unclear: none stated"], "date": [""], "file": ["m.geojson"]},
        geometry=[big], crs=4326)
    new, provs = _island_keeping(reg, [r])
    mun = new.municipalities.set_index("code")
    assert mun.geometry["1080"].equals(big) and mun.loc["1080", "license"] == "unclear: none stated"
    assert mun.loc["1081", "license"] == reg.license  # the others stay SCB's
    assert {p.license for p in provs} == {"unclear: none stated", reg.license}
    assert new.polygon.contains(Point(STORTORGET[1], STORTORGET[0]))
    assert "unclear: none stated" in new.to_dict()["boundary_license"]
    # no municipality file: an outline of the county with its sea extends the county
    sea = reg.polygon.buffer(0.05)
    r.boundary = r.boundary.assign(kind="outline", municipality=None, source="province", license="CC-BY-4.0")
    r.boundary = r.boundary.set_geometry([sea])
    new, provs = _island_keeping(reg, [r])
    assert new.polygon.contains(Point(STORTORGET[1], STORTORGET[0]))
    assert new.municipalities["code"].tolist() == reg.municipalities["code"].tolist()
    assert [p.license for p in provs] == [reg.license, "CC-BY-4.0"]
    # nothing from packs: the SCB polygons as they are
    new, provs = _island_keeping(reg, [])
    assert new is reg and [p.source for p in provs] == [reg.source]
