"""Hostile input: packs stay in their folder, pack.json is checked by a schema, CSV coordinates are
checked, and no feature is dropped without being counted.

Every refused input gives exit code 2 with a one-line message and leaves the store byte-for-byte
as it was; every accepted one lands where it belongs (coastal Karlskrona stays in 1080).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from geo.cli import main
from geo.store import open_snapshot

#: WGS 84 (lat, lon) of coastal Karlskrona places that lie over 2 km from SCB's simplified
#: municipality polygons; the Blekinge pack's Valmyndigheten boundaries keep them in 1080.
MARINMUSEUM = (56.1597, 15.5971)
SALTO = (56.148, 15.585)
LANGO = (56.160, 15.600)
STORTORGET = (56.1612, 15.5869)
SECRET = "hunter2-do-not-store"


def _digest(data: Path) -> dict[str, str]:
    return {p.relative_to(data).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, towns_pack: Path) -> Path:
    """A data dir with a Blekinge snapshot (offline, two synthetic towns: quick) to prove failures
    change nothing."""
    data = tmp_path_factory.mktemp("safety_store")
    assert main(["--data-dir", str(data), "build", "--offline", "--quiet", "--no-default-packs",
                 "--pack", str(towns_pack)]) == 0
    return data


def _fails(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    before = _digest(store)
    rc = main(["--data-dir", str(store), "build", "--offline", "--quiet", "--no-default-packs", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    assert _digest(store) == before, "the store changed after a failed build"
    assert not any(SECRET.encode() in p.read_bytes() for p in store.rglob("*") if p.is_file())
    return err


def _point_geojson(path: Path, props: dict[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props or {"name": "Ett ställe", "pop": 120},
         "geometry": {"type": "Point", "coordinates": [15.5866, 56.1612]}}]}))
    return path


def _pack(tmp_path: Path, manifest: Any) -> Path:
    pack = tmp_path / "pack"
    _point_geojson(pack / "a.geojson")
    (pack / "pack.json").write_text(json.dumps(manifest))
    return pack


def _secret(tmp_path: Path) -> Path:
    f = tmp_path / "secret.csv"
    f.write_text(f"kommun_kod,user,password\n1080,admin,{SECRET}\n")
    return f


# --- packs stay in their folder -------------------------------------------------------------------

def test_pack_absolute_path_refused(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"tables": [{"file": "a.geojson"}, {"file": str(_secret(tmp_path))}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert "tables[1].file" in err and "is an absolute path" in err and "inside its folder" in err


def test_pack_etc_passwd_refused_before_reading(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [{"file": "/etc/passwd", "theme": "nature"}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert "layers[0].file '/etc/passwd' is an absolute path" in err
    assert "CSV" not in err  # refused for where it is, not for its format


def test_pack_dotdot_refused(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _secret(tmp_path)
    pack = _pack(tmp_path, {"tables": [{"file": "../secret.csv"}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert "tables[0].file '../secret.csv' climbs out of the pack with '..'" in err


def test_pack_symlink_out_refused(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"tables": [{"file": "stats/rents.csv"}]})
    (pack / "stats").mkdir()
    (pack / "stats" / "rents.csv").symlink_to(_secret(tmp_path))
    err = _fails(store, capsys, "--pack", str(pack))
    assert "tables[0].file 'stats/rents.csv' is (or lies under) a symbolic link pointing outside" in err
    # a linked folder pointing out is refused the same way
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _point_geojson(outside / "b.geojson")
    (pack / "linked").symlink_to(outside, target_is_directory=True)
    (pack / "pack.json").write_text(json.dumps({"layers": [{"file": "linked/b.geojson", "theme": "nature"}]}))
    err = _fails(store, capsys, "--pack", str(pack))
    assert "layers[0].file 'linked/b.geojson' is (or lies under) a symbolic link" in err


def test_pack_symlink_inside_is_fine(tmp_path: Path) -> None:
    from geo.sources.pack import read_pack

    pack = _pack(tmp_path, {"layers": [{"file": "b.geojson", "theme": "nature", "kind": "park"}]})
    (pack / "b.geojson").symlink_to(pack / "a.geojson")
    result = read_pack(pack)
    assert result.layers["nature"]["name"].tolist() == ["Ett ställe"]


# --- pack.json schema ------------------------------------------------------------------------------

_GOOD = {"file": "a.geojson", "theme": "nature", "kind": "park"}


@pytest.mark.parametrize(("manifest", "phrase"), [
    ({"layers": [_GOOD, {**_GOOD, "fields": "NAMN"}]},
     "pack.json: layers[1].fields must be an object mapping our names to the file's columns "
     "(e.g. {\"name\": \"NAMN\"}), got a string ('NAMN')"),
    ({"layers": [{"file": None, "theme": "nature"}]},
     "pack.json: layers[0].file must be the file's path inside the pack folder (a non-empty string), "
     "got null"),
    ({"layers": {}}, "pack.json: layers must be a list of layer entries"),
    ({"layers": "x"}, "pack.json: layers must be a list of layer entries ({\"file\": ..., \"theme\": ...}), "
                      "got a string ('x')"),
    ({"layers": [{"file": "a.geojson"}]}, "pack.json: layers[0] has no 'theme' key"),
    ({"layers": [{**_GOOD, "coverage": "full"}]},
     "pack.json: layers[0].coverage must be \"complete\" or \"partial\", got a string ('full')"),
    ({"layers": [{**_GOOD, "fields": {"name": 3}}]}, "layers[0].fields.name must be the name of a column"),
    ({"boundaries": [{"file": ""}]}, "boundaries[0].file must be the file's path inside the pack"),
])
def test_pack_schema_errors_name_the_key(store: Path, tmp_path: Path, capsys, manifest: Any,  # type: ignore[no-untyped-def]
                                         phrase: str) -> None:
    err = _fails(store, capsys, "--pack", str(_pack(tmp_path, manifest)))
    assert phrase in err
    assert "got an object" in err if manifest == {"layers": {}} else True


def test_two_localities_files_refused(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [{"file": "a.geojson", "theme": "localities"}, _GOOD,
                                       {"file": "b.geojson", "theme": "localities"}]})
    _point_geojson(pack / "b.geojson")
    err = _fails(store, capsys, "--pack", str(pack))
    assert ("2 layers have theme 'localities' (layers[0] a.geojson, layers[2] b.geojson); "
            "a build takes one localities file") in err


def test_localities_field_naming_missing_column(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [{"file": "a.geojson", "theme": "localities",
                                        "fields": {"name": "name", "population": "BEFOLKNING"}}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert str(pack / "a.geojson") in err
    assert "layers[0].fields.population names column 'BEFOLKNING', which the file does not have; " \
           "columns available: name, pop" in err


def test_layer_field_with_unknown_name(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [{**_GOOD, "fields": {"nmae": "name"}}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert "layers[0].fields has unknown name(s) 'nmae'; use id, name, kind" in err


def test_pack_missing_boundary_file_is_an_error(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [_GOOD], "boundaries": [{"file": "outline.geojson"}]})
    err = _fails(store, capsys, "--pack", str(pack))
    assert "names missing file(s) outline.geojson" in err


# --- CSV coordinates -------------------------------------------------------------------------------

def _csv(tmp_path: Path, text: str, name: str = "places.csv") -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


def test_empty_csv(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "")
    err = _fails(store, capsys, "--file", f"culture={f}")
    assert f"{f} is empty (0 bytes of data)" in err


def test_header_only_csv(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "name,lat,lon\n")
    err = _fails(store, capsys, "--file", f"culture={f}")
    assert f"{f} has a header (name, lat, lon) but no rows" in err


def test_nan_and_infinity_coordinates(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "name,lat,lon\nA,NaN,15.5\nB,56.1,Infinity\nC,-inf,15.5\n")
    err = _fails(store, capsys, "--file", f"culture={f}")
    assert "columns 'lon'/'lat' hold no finite numeric coordinates" in err


def _sweref(lat: float, lon: float) -> tuple[float, float]:
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True).transform(lon, lat)
    return e, n


def test_sweref_coordinates_without_crs(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    e, n = _sweref(*STORTORGET)
    f = _csv(tmp_path, f"name,lon,lat\nStortorget,{e:.1f},{n:.1f}\n")
    err = _fails(store, capsys, "--file", f"culture={f}")
    assert "SWEREF 99 TM (EPSG:3006) metres, not WGS 84 degrees" in err and "--file-crs 3006" in err


def test_sweref_coordinates_with_file_crs(tmp_path: Path, towns_pack: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    e, n = _sweref(*STORTORGET)
    f = _csv(tmp_path, f"name,lon,lat\nStortorget (test),{e:.1f},{n:.1f}\n")
    data = tmp_path / "store"
    assert main(["--data-dir", str(data), "build", "--offline", "--quiet", "--no-default-packs",
                 "--pack", str(towns_pack), "--file", f"culture={f}", "--file-crs", "3006"]) == 0
    culture = open_snapshot("blekinge", data).layer("culture")
    row = culture.iloc[0]
    assert (len(culture), row["name"], row["municipality"]) == (1, "Stortorget (test)", "1080")
    assert (round(row.geometry.y, 4), round(row.geometry.x, 4)) == STORTORGET


def test_pack_geojson_in_sweref_labelled_wgs84(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = _pack(tmp_path, {"layers": [{**_GOOD, "file": "m.geojson"}]})
    e, n = _sweref(*STORTORGET)
    (pack / "m.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [e, n]}}]}))
    err = _fails(store, capsys, "--pack", str(pack))
    assert "outside the range of WGS 84 degrees" in err and "EPSG:3006" in err


def test_bad_file_crs(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "name,lat,lon\nA,56.16,15.58\n")
    err = _fails(store, capsys, "--file", f"culture={f}", "--file-crs", "EPSG:99999")
    assert "--file-crs 'EPSG:99999' is not a CRS pyproj knows" in err


def test_swapped_lat_lon(store: Path, tmp_path: Path, towns_pack: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = "".join(f"{name},{lon},{lat}\n" for name, (lat, lon) in
                   {"a": MARINMUSEUM, "b": STORTORGET, "c": (56.2069, 15.2829)}.items())
    f = _csv(tmp_path, "name,lat,lon\n" + rows)  # the header says lat,lon; the values are lon,lat
    err = _fails(store, capsys, "--pack", str(towns_pack), "--file", f"culture={f}")
    assert "file places.csv: 3 of 3 features lie outside Blekinge län" in err
    assert "latitude and longitude look swapped" in err


def test_wrong_declared_crs(store: Path, tmp_path: Path, towns_pack: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "name,lat,lon\nA,56.1612,15.5869\nB,56.2069,15.2829\n")
    err = _fails(store, capsys, "--pack", str(towns_pack), "--file", f"culture={f}",
                 "--file-crs", "3006")  # degrees read as metres
    assert "2 of 2 features lie outside Blekinge län" in err and "check its CRS" in err


def test_file_for_another_region(store: Path, tmp_path: Path, towns_pack: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "name,lat,lon\nStockholms stadsbibliotek,59.3434,18.0549\nKarlskrona,56.1612,15.5869\n"
                       "Uppsala,59.8586,17.6389\n")
    err = _fails(store, capsys, "--pack", str(towns_pack), "--file", f"culture={f}")
    assert "2 of 3 features lie outside Blekinge län" in err and "--region is the area the file covers" in err


# --- coastal points and drop accounting with the real pack ----------------------------------------

def _scb_distance_m(lat: float, lon: float) -> float:
    from geo.regions import resolve_region

    mun = resolve_region("blekinge").municipalities.to_crs(3006)
    return float(mun.distance(gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(3006).iloc[0]).min())


@pytest.mark.slow
@pytest.mark.pack
def test_coastal_karlskrona_points_kept_and_drops_counted(pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    places = {"Marinmuseum": MARINMUSEUM, "Saltö": SALTO, "Långö": LANGO}
    valm = gpd.read_file(pack_dir / "boundaries" / "municipalities_valmyndigheten.geojson")
    for lat, lon in places.values():  # the island-keeping boundaries put them in Karlskrona ...
        assert valm[valm.contains(Point(lon, lat))]["kommun_kod"].tolist() == ["1080"]
    # ... while SCB's simplified polygons are over 2 km away for two of them (dropped before)
    assert _scb_distance_m(*MARINMUSEUM) > 2000 and _scb_distance_m(*SALTO) > 2000
    rows = "".join(f"{n},{lat},{lon}\n" for n, (lat, lon) in places.items())
    rows += "Kalmar slott,56.6593,16.3562\nUtan läge,NaN,15.5\nOändlig,56.1,Infinity\n"
    f = _csv(tmp_path, "name,lat,lon\n" + rows, "museums.csv")
    data = tmp_path / "store"
    assert main(["--data-dir", str(data), "build", "--offline", "--quiet", "--no-default-packs",
                 "--pack", str(pack_dir), "--file", f"culture={f}"]) == 0
    snap = open_snapshot("blekinge", data)
    culture = snap.layer("culture")
    mine = culture[culture["source"] == "user file museums.csv"].set_index("name")["municipality"]
    assert mine.to_dict() == {"Marinmuseum": "1080", "Saltö": "1080", "Långö": "1080"}
    assert "_origin" not in culture.columns
    assert snap.manifest["drops"]["file museums.csv"] == {"no_coordinates": 2, "outside_region": 1}
    capsys.readouterr()
    assert main(["--data-dir", str(data), "info"]) == 0
    out = capsys.readouterr().out
    assert "  dropped  file museums.csv: 2 without coordinates, 1 outside the region" in out


@pytest.mark.pack
def test_real_pack_drops_are_counted(blekinge_snapshot, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    drops = blekinge_snapshot.manifest["drops"]
    monuments = gpd.read_file(pack_dir / "nature" / "natural_monuments_points.geojson")
    outside = int((monuments["LAN"] != "Blekinge Län").sum())  # 5 of 61 per pack.json
    assert outside == 5
    key = "pack blekinge-open-data: nature/natural_monuments_points.geojson"
    assert drops[key] == {"outside_region": outside}
    nature = blekinge_snapshot.layer("nature")
    assert not set(monuments.loc[monuments["LAN"] != "Blekinge Län", "NVRID"].astype(str)) & {
        u.split(":", 1)[1] for u in nature["uid"] if u.startswith("natural-monuments-points:")}
    # EU and topographic bathing places name the same place twice: the duplicates are counted too
    assert drops["pack blekinge-open-data: nature/bathing_places_topo.geojson"]["duplicate"] > 0
    from geo.cli_build import format_info

    assert f"  dropped  {key}: {outside} outside the region" in format_info(blekinge_snapshot)


@pytest.mark.pack
def test_sea_outline_fallback_assigns_outer_islands(pack_dir: Path) -> None:
    """Without island-keeping polygons, the with-sea outline still reaches Saltö (3.4 km off SCB)."""
    from geo.regions import assign_municipality, resolve_region

    mun = resolve_region("blekinge").municipalities
    sea = gpd.read_file(pack_dir / "boundaries" / "province_outline_with_sea.geojson").union_all()
    pts = gpd.GeoDataFrame(geometry=[Point(SALTO[1], SALTO[0]), Point(16.3562, 56.6593)], crs=4326)
    assert assign_municipality(pts, mun, max_distance_m=2000).tolist() == [None, None]
    assert assign_municipality(pts, mun, max_distance_m=2000, within=sea).tolist() == ["1080", None]


# --- region polygons -------------------------------------------------------------------------------

def _polygon_file(path: Path, ring: list[tuple[float, float]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return path


def test_bow_tie_region_is_repaired(tmp_path: Path, towns_pack: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    bow = _polygon_file(tmp_path / "bowtie.geojson",
                        [(15.3, 56.1), (15.7, 56.3), (15.7, 56.1), (15.3, 56.3), (15.3, 56.1)])
    data = tmp_path / "store"
    with caplog.at_level(logging.WARNING, logger="geo.regions"):
        assert main(["--data-dir", str(data), "build", "--region", str(bow), "--offline", "--quiet",
                     "--no-default-packs", "--pack", str(towns_pack)]) == 0
    assert "1 invalid polygon(s) repaired with make_valid (Self-intersection" in caplog.text
    boundary = open_snapshot("bowtie", data).boundary().geometry.iloc[0]
    assert boundary.is_valid and boundary.geom_type == "MultiPolygon"
    assert boundary.area == pytest.approx(0.5 * 0.4 * 0.2)  # two triangles: half the box


def test_degenerate_region_refused(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    flat = _polygon_file(tmp_path / "flat.geojson", [(15.3, 56.1), (15.5, 56.2), (15.7, 56.3), (15.3, 56.1)])
    err = _fails(store, capsys, "--region", str(flat))
    assert "the region polygon has no area, even after repairing it" in err
    # a ring that only runs back and forth is invalid, and make_valid leaves a line: refused too
    there_and_back = _polygon_file(tmp_path / "line.geojson",
                                   [(15.3, 56.1), (15.7, 56.3), (15.3, 56.1), (15.7, 56.3), (15.3, 56.1)])
    err = _fails(store, capsys, "--region", str(there_and_back))
    assert "the region polygon has no area, even after repairing it" in err
