"""The whole country as a region: ``livability build --region sverige --pack ../shared/data/sweden``.

Expected figures are counted from the national pack's own files (``pack.json`` and the GeoJSON it
names), never literals: every feature of a file is stored, or counted as dropped (a duplicate of
another source's, or outside the region: the pack itself could not give it a municipality).
The build takes about 12 s, so these tests are slow; the snapshot is built once per session
(``sweden_store`` in conftest.py) and skipped without the pack.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

pytestmark = pytest.mark.slow


def _pack(pack: Path) -> dict[str, Any]:
    return dict(json.loads((pack / "pack.json").read_text(encoding="utf-8")))


def _files(pack: Path) -> dict[str, gpd.GeoDataFrame]:
    return {e["file"]: gpd.read_file(pack / e["file"]) for e in _pack(pack)["layers"]}


def test_country_snapshot_counts_equal_the_pack(sweden_store: Path, sweden_pack: Path) -> None:
    from geo.store import open_region

    snap = open_region("Sverige", sweden_store)
    assert snap.region_key == "sverige"
    m = snap.manifest
    files = _files(sweden_pack)
    drops: dict[str, dict[str, int]] = {}
    for origin, counts in m["drops"].items():
        drops[origin.split(": ", 1)[1]] = counts
    # the localities: every tätort of the pack (the polygon-file build lost the coastal ones)
    loc_file = next(e["file"] for e in _pack(sweden_pack)["layers"] if e["theme"] == "localities")
    assert len(snap.localities()) == len(files[loc_file]) - sum(drops.get(loc_file, {}).values())
    assert loc_file not in drops
    # per theme: what the files hold less what was dropped (and counted)
    expected: dict[str, int] = defaultdict(int)
    for e in _pack(sweden_pack)["layers"]:
        if e["theme"] != "localities":
            expected[e["theme"]] += len(files[e["file"]]) - sum(drops.get(e["file"], {}).values())
    got = {k: int(m["layers"][k]["count"]) for k in expected}
    assert got == dict(expected)
    # a feature the pack placed in a municipality is never "outside the country"; one it could not
    # place (no kommun_kod: the island parks Gotska Sandön and Blå Jungfrun) is placed by where it is
    # (they were once dropped: a missing code read as the text "nan")
    munis = snap.municipalities()
    codes = set(munis["code"].astype(str))
    for f, gdf in files.items():
        nulls = int(gdf["kommun_kod"].isna().sum()) if "kommun_kod" in gdf else 0
        assert drops.get(f, {}).get("outside_region", 0) <= nulls, f
    for key in expected:
        layer = snap.layer(key)
        assert layer["municipality"].notna().all() and set(layer["municipality"]) <= codes, key
    parks = next(e for e in _pack(sweden_pack)["layers"] if e["file"].endswith("national_parks.geojson"))
    name_field = parks["fields"]["name"]
    unplaced = files[parks["file"]]
    unplaced = set(unplaced.loc[unplaced["kommun_kod"].isna(), name_field].astype(str))
    assert unplaced and unplaced <= set(snap.layer(parks["theme"])["name"].astype(str))
    # every municipality of the country, each once
    assert sorted(munis["code"]) == sorted(_pack(sweden_pack)["region"]["municipalities"])


def test_country_population_equals_the_pack(sweden_store: Path, sweden_pack: Path) -> None:
    from geo.store import open_region

    snap = open_region("sverige", sweden_store)
    entry = next(e for e in _pack(sweden_pack)["layers"] if e["theme"] == "localities")
    raw = gpd.read_file(sweden_pack / entry["file"])
    pop_field = entry["fields"]["population"]
    assert int(snap.localities()["population"].sum()) == int(raw[pop_field].sum())


def test_a_county_from_the_national_pack(sweden_pack: Path, tmp_path: Path) -> None:
    """``--region skane --pack ../shared/data/sweden``: the county's tätorter, by municipality code."""
    from geo.build import build_region
    from geo.regions import resolve_region

    snap = build_region("Skåne", packs=[sweden_pack], offline=True, data=tmp_path,
                        default_packs=False)
    assert snap.region_key == "skane"
    entry = next(e for e in _pack(sweden_pack)["layers"] if e["theme"] == "localities")
    raw = gpd.read_file(sweden_pack / entry["file"])
    codes = set(resolve_region("skane").municipalities["code"])
    assert len(snap.localities()) == int(raw["kommun_kod"].isin(codes).sum())
    assert set(snap.localities()["municipality"]) <= codes
