"""App: the county map's HTML payload and the time to build it.

The map is built as the app's map page builds it (``geo.maps.build_region_map`` with the boundary,
municipalities, localities with their scores, the hexagon cells and every available theme layer,
no base tiles) from the real Blekinge pack's snapshot (what ``make run`` builds offline), and
rendered to the standalone HTML a browser receives (``m.get_root().render()``).
"""

from __future__ import annotations

import shutil
from typing import Any

from .fixtures import blekinge_snapshot, pack_path, temp_data_dir
from .harness import Row, measure, peak_mb

__all__ = ["build_map", "run"]


def build_map(snap: Any, scores: Any) -> Any:
    """Build the county map like the app's map page (all available layers, hexagons on)."""
    from geo import maps
    from geo.catalog import layer_title
    from layers import LAYERS

    layers = {}
    for key, spec in LAYERS.items():
        st = snap.layer_status(key)
        if st.available:
            title = layer_title(key, "en") + (" (partial)" if st.coverage == "partial" else "")
            layers[key] = (title, spec.color, snap.layer(key))
    return maps.build_region_map(
        snap.boundary(), snap.localities(), municipalities=snap.municipalities(),
        scores=None if scores is None else scores.localities,
        cells=None if scores is None else scores.cells, layers=layers, tiles=False,
        region_label=snap.region_name)


def run(quick: bool = False) -> list[Row]:
    """Run the app payload benchmark (``quick``: fewer runs)."""
    if pack_path() is None:
        return [Row("app: county map build + render", "Blekinge pack",
                    note="skipped: the Blekinge pack (../shared/data/blekinge) is not here")]
    from geo.scoring import build_model, score

    runs = 2 if quick else 9
    data = temp_data_dir()
    try:
        snap = blekinge_snapshot(data)
        scores = score(build_model(snap))
        # the app reads layers once per snapshot (cached): warm the snapshot's cache first
        html = build_map(snap, scores).get_root().render()

        def build_render() -> str:
            return str(build_map(snap, scores).get_root().render())

        times = measure(build_render, runs)
        peak = peak_mb(build_render)
        size = len(html.encode("utf-8"))
        n_points = sum(snap.layer_status(k).count for k in snap.layer_keys())
    finally:
        shutil.rmtree(data, ignore_errors=True)
    med = sorted(times)[len(times) // 2]
    label = (f"Blekinge pack (real): {len(scores.localities)} localities, {len(scores.cells):,} "
             f"hexagons, {n_points} features, no tiles")
    cdn = _cdn_count(html)
    return [
        Row("app: county map build + render", label, times, peak_mb=peak,
            target="< 1 s", met=med < 1.0,
            note="geo.maps.build_region_map + m.get_root().render() (the HTML st_folium sends)"),
        Row("app: county map HTML payload", label, [], target="< 2 MB",
            met=size < 2 * 10**6,
            note=f"{size:,} bytes ({size / 10**6:.2f} MB); {cdn} script/style URLs on CDNs",
            extra={"bytes": size, "cdn_urls": cdn}),
    ]


def _cdn_count(html: str) -> int:
    from geo import maps

    return len(maps.cdn_links(html))
