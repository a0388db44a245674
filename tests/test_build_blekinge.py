"""Building Blekinge offline from the real open-data pack, and what `livability info` says."""

from __future__ import annotations

from pathlib import Path

import _pack_facts as facts
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


def test_layers_counts_and_coverage(blekinge_snapshot, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    s = blekinge_snapshot
    for theme in sorted(facts.themes(pack_dir)):
        st = s.layer_status(theme)
        for kind, (low, high) in facts.kind_bounds(pack_dir, theme).items():
            assert low <= st.kinds.get(kind, 0) <= high, (theme, kind, st.kinds)
        if facts.any_partial(pack_dir, theme):
            assert st.coverage == "partial", theme  # one partial file makes the layer partial
    transit = s.layer_status("transit")
    assert transit.kinds == facts.exact_kinds(pack_dir, "transit")  # rail stations and stop areas
    names = set(s.layer("transit")["name"])
    assert {"Ronneby station", "Karlshamn station", "Bräkne-Hoby station"} <= names
    nature = s.layer_status("nature")
    # EU bathing waters and topographic bathing places name the same place twice (45 pairs when
    # counted): de-duplication keeps every named EU entry inside the county
    eu = next(f for f in facts.layer_files(pack_dir) if f.entry["file"].endswith("bathing_waters_eu.geojson"))
    bathing = s.layer("nature").query("kind == 'bathing_place'")
    assert bathing["name"].notna().sum() == eu.kinds["bathing_place"]
    assert nature.kinds["bathing_place"] < facts.kind_bounds(pack_dir, "nature")["bathing_place"][1]
    assert nature.coverage == "partial"
    health = s.layer_status("services")
    assert any("OpenStreetMap" in p.source and p.attribution == "© OpenStreetMap contributors"
               for p in health.sources)
    from layers import LAYERS

    for key in sorted(set(LAYERS) - facts.themes(pack_dir)):  # no file in the pack: missing
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


@pytest.mark.slow
def test_cli_build_then_info(pack_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(["--data-dir", str(tmp_path), "build", "--region", "blekinge", "--pack", str(pack_dir),
               "--offline", "--quiet"])
    assert rc == 0
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "info", "--region", "blekinge"]) == 0
    out = capsys.readouterr().out
    assert "localities        52  population 132,691  [complete]" in out
    assert "Statistics Sweden (SCB), Tätorter 2020" in out
    transit = facts.exact_kinds(pack_dir, "transit")
    assert f"transit      {sum(transit.values()):>6}  " in out
    assert "kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(transit.items())) in out
    assert "rent_median_sek_per_m2_year" in out
    from layers import LAYERS

    for missing in sorted(set(LAYERS) - facts.themes(pack_dir)):
        assert f"  {missing:<12} no source provided" in out
    assert "Naturvårdsverket" in out and "Skolverket" in out


@pytest.mark.slow
def test_rebuild_is_stable(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    a = build_region("blekinge", packs=[pack_dir], offline=True, data=tmp_path, default_packs=False)
    files_a = dict(a.manifest["files"])
    b = build_region("blekinge", packs=[pack_dir], offline=True, data=tmp_path, default_packs=False)
    assert b.manifest["files"] == files_a  # same inputs, same bytes
    assert b.manifest["inputs"]["pack:blekinge"]["sha256"] == a.manifest["inputs"]["pack:blekinge"]["sha256"]
    expected = sum(facts.exact_kinds(pack_dir, "transit").values())
    assert open_snapshot("blekinge", tmp_path).layer_status("transit").count == expected


@pytest.mark.slow
def test_default_packs_are_picked_up(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "blekinge").symlink_to(pack_dir)
    snap = build_region("blekinge", offline=True, data=tmp_path)
    assert len(snap.localities()) == 52


@pytest.mark.slow
def test_single_file_added_to_layer(pack_dir: Path, tmp_path: Path) -> None:
    from geo.build import build_region

    f = tmp_path / "my_libraries.csv"
    f.write_text("name,lat,lon\nStadsbiblioteket (test entry),56.1621,15.5866\n")
    snap = build_region("blekinge", packs=[pack_dir], files=[("culture", f)], offline=True,
                        data=tmp_path / "store", default_packs=False)
    st = snap.layer_status("culture")
    # the pack has no library: the one added file holds the only one, on top of the pack's features
    before = sum(hi for _, hi in facts.kind_bounds(pack_dir, "culture").values())
    assert "library" not in facts.kind_bounds(pack_dir, "culture")
    assert (st.kinds["library"], st.coverage) == (1, "partial")
    assert st.count == before + 1
    culture = snap.layer("culture")
    row = culture[culture["kind"] == "library"].iloc[0]
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


def test_upper_secondary_schools_told_by_name(blekinge_snapshot, pack_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Skolverket's school units list gymnasier beside compulsory schools: each is upper secondary."""
    import geopandas as gpd

    entry = next(f.entry for f in facts.layer_files(pack_dir) if "school_units" in f.entry["file"])
    units = gpd.read_file(pack_dir / entry["file"])
    names = units[entry["fields"]["name"]].astype(str)
    gymnasier = set(names[names.str.contains("gymnasi", case=False)])
    assert gymnasier  # the pack lists some (Fischerströmska gymnasiet, Knut Hahn, Vägga ...)
    schools = blekinge_snapshot.layer("schools")
    college = schools.query("kind == 'college'")
    assert len(college) and set(college["name"]) <= gymnasier  # the file's, clipped to the county
    compulsory = schools.query("kind == 'school'")["name"].astype(str)
    assert not compulsory.str.contains("gymnasi", case=False).any()
    assert len(compulsory) and set(compulsory) <= set(names) - gymnasier


def test_name_kinds_rule() -> None:
    from layers import get_layer

    spec = get_layer("schools")
    assert spec.kind_for_name("school", "Fischerströmska gymnasiet") == "college"
    assert spec.kind_for_name("school", "Vägga Gymnasieskola 3") == "college"
    assert spec.kind_for_name("school", "Gymnastikhallens skola") == "school"  # not "gymnastik"
    assert spec.kind_for_name("kindergarten", "Gymnasiets förskola") == "kindergarten"  # only from school
    assert spec.kind_for_name("school", None) == "school"
