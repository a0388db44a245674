"""Building Blekinge offline from the real open-data pack, and what `livability info` says."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.cli import main
from geo.store import open_snapshot

pytestmark = pytest.mark.pack


def test_localities(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    loc = blekinge_snapshot.localities()
    assert len(loc) == 52
    assert int(loc["population"].sum()) == 132_691
    assert loc["population"].notna().all()
    assert set(loc["municipality"]) == {"1060", "1080", "1081", "1082", "1083"}
    top = loc.iloc[0]
    assert (top["name"], top["municipality_name"], int(top["population"])) == ("Karlskrona", "Karlskrona",
                                                                               int(top["population"]))
    assert top["source"] == "Statistics Sweden (SCB), Tätorter 2020"
    assert loc.crs.to_epsg() == 4326


def test_layers_counts_and_coverage(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    s = blekinge_snapshot
    transit = s.layer_status("transit")
    assert transit.kinds == {"rail_station": 8}
    assert transit.coverage == "partial" and "bus_stop" in transit.reason
    names = set(s.layer("transit")["name"])
    assert {"Ronneby station", "Karlshamn station", "Bräkne-Hoby station"} <= names
    nature = s.layer_status("nature")
    assert nature.kinds["nature_reserve"] == 28 and nature.kinds["natural_monument"] >= 60
    # 58 EU bathing waters + 88 topographic bathing places, 45 of them the same place twice
    assert nature.kinds["bathing_place"] == 98 and nature.kinds["biosphere_area"] == 1
    bathing = s.layer("nature").query("kind == 'bathing_place'")
    assert bathing["name"].notna().sum() == 55  # every named EU entry inside the county is kept
    assert nature.coverage == "partial"
    schools = s.layer_status("schools")
    assert (schools.count, schools.coverage) == (40, "partial")
    health = s.layer_status("services")
    assert health.kinds == {"pharmacy": 11, "clinic": 8, "dentist": 2, "hospital": 1}
    assert health.coverage == "partial"
    assert any("OpenStreetMap" in p.source and p.attribution == "© OpenStreetMap contributors"
               for p in health.sources)
    for key in ("housing", "workplaces", "culture"):
        st = s.layer_status(key)
        assert (st.count, st.coverage) == (0, "missing") and st.reason


def test_every_feature_carries_provenance(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    for key in ("transit", "nature", "schools", "services"):
        gdf = blekinge_snapshot.layer(key)
        assert gdf["source"].notna().all() and gdf["license"].notna().all()
        assert gdf["coverage"].isin(["complete", "partial"]).all()
        assert gdf["uid"].is_unique
        assert gdf["municipality"].isin(["1060", "1080", "1081", "1082", "1083"]).all()


def test_rent_table(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    rent = blekinge_snapshot.table("rent_median_sek_per_m2_year")
    latest = rent[rent["year"] == 2022].set_index("municipality")["value"]
    assert latest.to_dict() == {"1060": 871.0, "1080": 1167.0, "1081": 1062.0, "1082": 1073.0,
                                "1083": 1007.0}
    assert rent.loc[(rent["municipality"] == "1083") & (rent["year"] == 2016), "value"].isna().all()
    elig = blekinge_snapshot.table("school_upper_secondary_eligibility_2024_25")
    assert elig.set_index("municipality").loc["1060", "Andel (%) elever behöriga till yrkesprog."] == 88.7


def test_cli_build_then_info(pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(["--data-dir", str(tmp_path), "build", "--region", "blekinge", "--pack", str(pack_dir),
               "--offline", "--quiet"])
    assert rc == 0
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "info", "--region", "blekinge"]) == 0
    out = capsys.readouterr().out
    assert "localities        52  population 132,691  [complete]" in out
    assert "Statistics Sweden (SCB), Tätorter 2020" in out
    assert "transit           8  partial" in out
    assert "kinds: rail_station 8" in out
    assert "rent_median_sek_per_m2_year" in out
    for missing in ("housing", "workplaces", "culture"):
        assert f"  {missing:<12} no source provided" in out
    assert "Naturvårdsverket" in out and "Skolverket" in out


def test_rebuild_is_stable(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    a = build_region("blekinge", packs=[pack_dir], offline=True, data=tmp_path, default_packs=False)
    files_a = dict(a.manifest["files"])
    b = build_region("blekinge", packs=[pack_dir], offline=True, data=tmp_path, default_packs=False)
    assert b.manifest["files"] == files_a  # same inputs, same bytes
    assert b.manifest["inputs"]["pack:blekinge"]["sha256"] == a.manifest["inputs"]["pack:blekinge"]["sha256"]
    assert open_snapshot("blekinge", tmp_path).layer_status("transit").count == 8


def test_default_packs_are_picked_up(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "blekinge").symlink_to(pack_dir)
    snap = build_region("blekinge", offline=True, data=tmp_path)
    assert len(snap.localities()) == 52


def test_single_file_added_to_layer(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    f = tmp_path / "my_libraries.csv"
    f.write_text("name,lat,lon\nStadsbiblioteket (test entry),56.1621,15.5866\n")
    snap = build_region("blekinge", packs=[pack_dir], files=[("culture", f)], offline=True,
                        data=tmp_path / "store", default_packs=False)
    st = snap.layer_status("culture")
    assert (st.count, st.kinds, st.coverage) == (1, {"library": 1}, "partial")
    row = snap.layer("culture").iloc[0]
    assert (row["name"], row["municipality"], row["source"]) == ("Stadsbiblioteket (test entry)", "1080",
                                                                 "user file my_libraries.csv")


def test_dedupe_prefers_rows_with_values() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.build import dedupe_across_sources
    from geo.schema import Provenance, conform

    pack = conform(gpd.GeoDataFrame({"name": ["Ronneby station", "Kallinge"], "kind": "rail_station"},
                                    geometry=[Point(15.28294, 56.20698), Point(15.29, 56.24)],
                                    crs="EPSG:4326"), "transit", Provenance("pack", "CC0-1.0"))
    gtfs = conform(gpd.GeoDataFrame({"name": ["Ronneby station (GTFS)", "Ronneby busstation"],
                                     "kind": ["rail_station", "bus_stop"], "value": [4.5, 9.0]},
                                    geometry=[Point(15.28310, 56.20710), Point(15.28300, 56.20700)],
                                    crs="EPSG:4326"), "transit", Provenance("gtfs", "CC0-1.0"))
    import pandas as pd

    merged = gpd.GeoDataFrame(pd.concat([pack, gtfs], ignore_index=True), crs="EPSG:4326")
    out = dedupe_across_sources(merged)
    assert sorted(out["name"]) == ["Kallinge", "Ronneby busstation", "Ronneby station (GTFS)"]
    assert out.loc[out["name"] == "Ronneby station (GTFS)", "value"].item() == 4.5
