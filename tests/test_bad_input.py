"""Bad input: each case gives a one-line error saying what is wrong and how to fix it, and the
store is left exactly as it was (checked byte for byte)."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from geo.cli import main


def _store_digest(data: Path) -> dict[str, str]:
    return {p.relative_to(data).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def store(pack_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a good Blekinge snapshot already in it (built once: every test checks that
    its failed build left it byte for byte unchanged, so they can share it)."""
    data = tmp_path_factory.mktemp("bad_input") / "store"
    assert main(["--data-dir", str(data), "build", "--pack", str(pack_dir), "--offline", "--quiet",
                 "--no-default-packs"]) == 0
    return data


def _fails(store: Path, capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    before = _store_digest(store)
    rc = main(["--data-dir", str(store), "build", "--offline", "--quiet", "--no-default-packs", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    assert _store_digest(store) == before, "the store changed after a failed build"
    return err


def test_unknown_region(store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _fails(store, capsys, "--region", "Blekinnge")
    assert "Unknown region 'Blekinnge'" in err and "Did you mean: Blekinge län?" in err


def test_broken_geojson(store: Path, pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "schools.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geom')
    err = _fails(store, capsys, "--pack", str(pack_dir), "--file", f"schools={bad}")
    assert str(bad) in err and "not a readable GEOJSON file" in err and "ogrinfo" in err


def test_csv_without_coordinates(store: Path, pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "libraries.csv"
    bad.write_text("name,address\nStadsbiblioteket,Ronnebygatan 11\n")
    err = _fails(store, capsys, "--pack", str(pack_dir), "--file", f"culture={bad}")
    assert "has no coordinates" in err and "lon/lat" in err and "name, address" in err


def test_pack_manifest_names_missing_file(store: Path, pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "brokenpack"
    shutil.copytree(pack_dir, pack)
    for f in pack.rglob("*"):
        f.chmod(0o644 if f.is_file() else 0o755)
    pack.chmod(0o755)
    (pack / "transit" / "rail_stations.geojson").unlink()
    err = _fails(store, capsys, "--pack", str(pack))
    assert "names missing file(s) transit/rail_stations.geojson" in err and "pack.json" in err


def test_pack_manifest_not_json(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.json").write_text("{'layers': }")
    err = _fails(store, capsys, "--pack", str(pack))
    assert "not valid JSON" in err


def test_pack_unknown_theme(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "a.geojson").write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                                    '"properties":{},"geometry":{"type":"Point","coordinates":[15.5,56.2]}}]}')
    (pack / "pack.json").write_text(json.dumps({"layers": [{"file": "a.geojson", "theme": "scools"}]}))
    err = _fails(store, capsys, "--pack", str(pack))
    assert "theme 'scools'" in err and "schools" in err


def test_file_that_claims_to_be_pbf(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "blekinge-latest.osm.pbf"
    fake.write_text("<html>404 Not Found</html>\n" * 20)
    err = _fails(store, capsys, "--pbf", str(fake))
    assert str(fake) in err and "PBF" in err


def test_gtfs_zip_without_stops(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    z = tmp_path / "feed.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\n"
                                  "1,Test,https://example.org,Europe/Stockholm\n")
        zf.writestr("routes.txt", "route_id,route_type\nr1,3\n")
    err = _fails(store, capsys, "--gtfs", str(z))
    assert str(z) in err and "stops.txt" in err


def test_missing_input_file(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _fails(store, capsys, "--pbf", str(tmp_path / "nope.osm.pbf"))
    assert "does not exist" in err


def test_bad_file_flag(store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _store_digest(store)
    with pytest.raises(SystemExit) as exit_:
        main(["--data-dir", str(store), "build", "--file", "nonsense.geojson"])
    assert exit_.value.code == 2
    assert "--file takes LAYER=PATH" in capsys.readouterr().err.strip().splitlines()[-1]
    assert _store_digest(store) == before


def test_unknown_layer_for_file(store: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "x.csv"
    f.write_text("name,lat,lon\nA,56.2,15.3\n")
    err = _fails(store, capsys, "--file", f"scools={f}")
    assert "No layer 'scools'" in err and "Did you mean schools" in err
