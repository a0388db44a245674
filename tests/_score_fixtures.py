"""A small SYNTHETIC snapshot for scoring tests: invented places, a station, a school, a rent table."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo.messages import text
from geo.schema import LOCALITY_COLUMNS, Provenance, conform
from geo.store import write_snapshot

SYNTH = Provenance(source="synthetic test fixture", license="CC0-1.0", coverage="complete")
# Synthetic localities on a line at 56 N, about 6.2 km apart.
PLACES = [("T1", "Alpha", 15.00, 56.0, 1000, "0001"), ("T2", "Beta", 15.10, 56.0, 500, "0001"),
          ("T3", "Gamma", 15.20, 56.0, 2000, "0002")]
STATION = (15.0, 56.005)  # about 556 m north of Alpha


def _pts(rows: list[tuple[float, float]]) -> list[Point]:
    return [Point(x, y) for x, y in rows]


def make_snapshot(data: Path) -> None:
    """Write the synthetic snapshot 'synth' into ``data``."""
    loc = gpd.GeoDataFrame({
        "code": [p[0] for p in PLACES], "name": [p[1] for p in PLACES],
        "municipality": [p[5] for p in PLACES],
        "municipality_name": ["One" if p[5] == "0001" else "Two" for p in PLACES],
        "population": [p[4] for p in PLACES], "area_ha": [30.0] * 3, "source": "synthetic",
        "license": "CC0-1.0", "source_date": "", "coverage": "complete",
    }, geometry=_pts([(p[2], p[3]) for p in PLACES]), crs="EPSG:4326")[list(LOCALITY_COLUMNS)]
    transit = conform(gpd.GeoDataFrame({"name": ["Alpha station"], "kind": ["rail_station"]},
                                       geometry=_pts([STATION]), crs="EPSG:4326"), "transit", SYNTH)
    schools = conform(gpd.GeoDataFrame({"name": ["Gamma skola"], "kind": ["school"]},
                                       geometry=_pts([(15.2, 56.0)]), crs="EPSG:4326"),
                      "schools", SYNTH)
    rent = pd.DataFrame({"municipality": ["0001", "0002", "0002"], "year": [2020, 2020, 2021],
                         "value": [1000.0, 800.0, 0.0]})
    with write_snapshot("synth", {"name": "Synthetica"}, data) as w:
        w.put_base("localities", loc, [SYNTH])
        w.put_layer("transit", transit, [SYNTH], "complete")
        w.put_layer("schools", schools, [SYNTH], "partial")
        w.put_layer("workplaces", transit.iloc[0:0], [], "missing", reason=text("not available offline"))
        w.put_table("rent_median_sek_per_m2_year", rent, SYNTH)
