"""A tiny SYNTHETIC snapshot for UI tests (invented places, clearly labelled; never shown as real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import Point, box

from geo.messages import text
from geo.schema import Provenance, conform
from geo.store import write_snapshot

HOSTILE = "<img src=x onerror=alert(1)>"
SYNTH = Provenance(source="SYNTHETIC test fixture", license="CC0-1.0", date="2026",
                   coverage="complete", attribution="synthetic test data")
SYNTH_PARTIAL = Provenance(source="SYNTHETIC test fixture (partial)", license="CC0-1.0",
                           date="2026", coverage="partial", attribution="synthetic test data")

#: (code, name, municipality, population, lon, lat)
PLACES = [
    ("S001", "Alphaby", "9901", 12000, 15.00, 56.20),
    ("S002", "Betaköping", "9901", 3000, 15.08, 56.22),
    ("S003", HOSTILE, "9902", 800, 15.20, 56.18),
    ("S004", "Deltavik", "9902", 450, 15.30, 56.25),
    ("S005", "Epsilonstad", "9902", 2200, 15.36, 56.21),
]


def write_synthetic_store(data: Path, region: str = "blekinge") -> Path:
    """Write a small synthetic snapshot under ``data/region`` and return ``data``."""
    crs = "EPSG:4326"
    boundary = gpd.GeoDataFrame({"name": ["Synthetic county"]},
                                geometry=[box(14.9, 56.1, 15.45, 56.3)], crs=crs)
    munis = gpd.GeoDataFrame({"code": ["9901", "9902"], "name": ["Västkommun", "Östkommun"]},
                             geometry=[box(14.9, 56.1, 15.15, 56.3), box(15.15, 56.1, 15.45, 56.3)],
                             crs=crs)
    locs = gpd.GeoDataFrame(
        {"code": [p[0] for p in PLACES], "name": [p[1] for p in PLACES],
         "municipality": [p[2] for p in PLACES],
         "municipality_name": ["Västkommun" if p[2] == "9901" else "Östkommun" for p in PLACES],
         "population": [p[3] for p in PLACES], "area_ha": [100.0] * len(PLACES),
         "source": SYNTH.source, "license": SYNTH.license, "source_date": SYNTH.date,
         "coverage": "complete"},
        geometry=[Point(p[4], p[5]) for p in PLACES], crs=crs)
    schools = conform(gpd.GeoDataFrame(
        {"name": ["Alpha skola", "Delta skola", "Epsilon förskola"],
         "kind": ["school", "school", "kindergarten"]},
        geometry=[Point(15.005, 56.201), Point(15.301, 56.251), Point(15.361, 56.211)], crs=crs),
        "schools", SYNTH_PARTIAL)
    transit = conform(gpd.GeoDataFrame(
        {"name": ["Betaköping station", "Epsilon C"], "kind": ["rail_station", "rail_station"]},
        geometry=[Point(15.081, 56.221), Point(15.359, 56.209)], crs=crs), "transit", SYNTH)
    services = conform(gpd.GeoDataFrame(
        {"name": ["Apotek Alpha", HOSTILE], "kind": ["pharmacy", "grocery"]},
        geometry=[Point(15.001, 56.199), Point(15.201, 56.181)], crs=crs), "services", SYNTH)
    nature = conform(gpd.GeoDataFrame(
        {"name": ["Deltavik badplats"], "kind": ["bathing_place"]},
        geometry=[Point(15.305, 56.255)], crs=crs), "nature", SYNTH)
    with write_snapshot(region, {"name": "Synthetic county (TEST)", "code": "99"}, data) as w:
        w.put_base("boundary", boundary, [SYNTH])
        w.put_base("municipalities", munis, [SYNTH])
        w.put_base("localities", locs, [SYNTH])
        for key, gdf, prov, cov in (("schools", schools, SYNTH_PARTIAL, "partial"),
                                    ("transit", transit, SYNTH, "complete"),
                                    ("services", services, SYNTH, "complete"),
                                    ("nature", nature, SYNTH, "complete")):
            w.put_layer(key, gdf, [prov], cov)
        for key in ("housing", "workplaces", "culture"):
            w.put_layer(key, schools.iloc[0:0], [], "missing", reason=text("synthetic store has none"))
    return data


APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def run_app(monkeypatch: Any, data: Path, **params: str) -> Any:
    """Run the app with AppTest against the store in ``data`` and the given query parameters."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LIVABILITY_DATA_DIR", str(data))
    monkeypatch.delenv("LIVABILITY_REGION", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    return at


def compare_table(at: Any) -> Any:
    """The compare page's HTML table (``st.html``) as a DataFrame of its texts: rows by places.

    The cell texts are what a reader sees (``"47,5"``, ``"–"``); ``best`` lists the highlighted
    ``(row, place)`` pairs (``df.attrs["best"]``).
    """
    from html.parser import HTMLParser

    import pandas as pd

    body = next(h.value for h in at.html if 'class="lv-compare"' in h.value)

    class _Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.best: list[tuple[int, int]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th") and self.rows:
                self.cell = []
                if ("class", "best") in attrs:
                    self.best.append((len(self.rows) - 1, len(self.rows[-1])))

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    p = _Cells()
    p.feed(body)
    head, *rows = p.rows
    df = pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=head[1:])
    df.attrs["best"] = [(rows[r - 1][0], head[c]) for r, c in p.best]
    return df
