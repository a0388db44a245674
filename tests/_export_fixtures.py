"""SYNTHETIC fixtures for the export tests: a tiny invented snapshot and a fake Scores object.

Nothing here is real data: names end in "(synthetic)" and every source says "SYNTHETIC test data".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import pandas as pd
from shapely.geometry import Point, Polygon, box

from geo.messages import text
from geo.schema import Provenance, conform
from geo.settings import OSM_ATTRIBUTION
from geo.store import open_snapshot, write_snapshot

SYN = Provenance(source="SYNTHETIC test data", license="CC0-1.0", date="2026-01-01",
                 attribution="SYNTHETIC test data (not real)")
SYN_OSM = Provenance(source="OpenStreetMap (SYNTHETIC test copy)", license="ODbL-1.0",
                     date="2026-02", coverage="partial", attribution=OSM_ATTRIBUTION)
REGION = "testland"


def _pts(coords: list[tuple[float, float]], **cols: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in coords], crs="EPSG:4326")


def build_snapshot(data: Path) -> Any:
    """Write and open a small synthetic snapshot in ``data``."""
    schools = conform(_pts([(15.58, 56.16), (15.60, 56.17), (15.28, 56.20)],
                           name=["Skola Å (synthetic)", "Skola Ö (synthetic)", "Skola C (synthetic)"],
                           kind=["school", "school", "kindergarten"],
                           municipality=["1080", "1080", "1081"], capacity=[120, 300, 45],
                           uid=["syn:s1", "syn:s2", "syn:s3"]), "schools", SYN)
    transit = conform(_pts([(15.586, 56.166), (15.276, 56.205)],
                           name=["Station A (synthetic)", "Station B (synthetic)"],
                           kind=["rail_station", "bus_stop"], value=[4.0, 1.5],
                           uid=["syn:t1", "syn:t2"]), "transit", SYN_OSM)
    nat = gpd.GeoDataFrame(
        {"name": ["Park (synthetic)", "Bad (synthetic)"], "kind": ["park", "bathing"],
         "uid": ["syn:n1", "syn:n2"]},
        geometry=[Polygon([(15.57, 56.15), (15.59, 56.15), (15.59, 56.165), (15.57, 56.165)]),
                  Point(15.62, 56.15)], crs="EPSG:4326")
    nature = conform(nat, "nature", SYN)
    localities = _pts([(15.586, 56.161), (15.276, 56.204)], code=["T1", "T2"],
                      name=["Stad A (synthetic)", "Stad B (synthetic)"],
                      municipality=["1080", "1081"], population=[1000, 500])
    muni = gpd.GeoDataFrame({"code": ["1080", "1081"], "name": ["Kommun A (syn)", "Kommun B (syn)"]},
                            geometry=[box(15.4, 56.0, 15.9, 56.4), box(15.0, 56.0, 15.4, 56.4)],
                            crs="EPSG:4326")
    boundary = gpd.GeoDataFrame({"name": ["Testland (synthetic)"]},
                                geometry=[box(15.0, 56.0, 15.9, 56.4)], crs="EPSG:4326")
    with write_snapshot(REGION, {"name": "Testland (synthetic)"}, data) as w:
        w.put_base("boundary", boundary, [SYN])
        w.put_base("municipalities", muni, [SYN])
        w.put_base("localities", localities, [SYN])
        w.put_layer("schools", schools, [SYN], "complete")
        w.put_layer("transit", transit, [SYN_OSM], "partial")
        w.put_layer("nature", nature, [SYN], "complete")
        w.put_layer("culture", schools.iloc[0:0], [], "missing", reason=text("no source (synthetic)"))
    return open_snapshot(REGION, data)


@dataclass
class FakeScores:
    """Stand-in for geo.scoring.Scores (same frames), SYNTHETIC numbers."""

    localities: pd.DataFrame
    municipalities: pd.DataFrame
    cells: pd.DataFrame
    weights: dict[str, float] = field(default_factory=lambda: {"schools": 2.0, "transit": 1.0})
    persona: str = "family"


def fake_scores() -> FakeScores:
    """Fake scores for the synthetic snapshot."""
    loc = pd.DataFrame({"code": ["T1", "T2"], "name": ["Stad A (synthetic)", "Stad B (synthetic)"],
                        "composite": [71.5, 40.25], "rank": [1, 2],
                        "theme:schools": [80.0, 30.0], "theme:transit": [60.0, 55.5]})
    mun = pd.DataFrame({"code": ["1080", "1081"], "name": ["Kommun A (syn)", "Kommun B (syn)"],
                        "composite": [65.0, 42.0]})
    c0 = h3.latlng_to_cell(56.16, 15.58, 8)
    cells = sorted(h3.grid_disk(c0, 1))
    cel = pd.DataFrame({"h3": cells, "composite": [float(i * 10) for i in range(len(cells))],
                        "theme:schools": [50.0] * len(cells)})
    return FakeScores(loc, mun, cel)
