"""App: the county map's HTML payload and the time to build it.

The map is built as the app's map page builds it (``geo.maps.build_region_map`` with the boundary,
municipalities, localities with their scores, the hexagon cells and every available theme layer,
no base tiles) from the real Blekinge pack's snapshot (what ``make run`` builds offline), and
rendered to the standalone HTML a browser receives (``m.get_root().render()``). The row says what
the map draws (``geo.maps.MapContents``): the hexagons' H3 resolution and count (the grid's cells
averaged into them), the locality markers, and per layer the features drawn of its total (each
layer is capped at ``geo.maps.MAX_POINTS``).
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
        first = build_map(snap, scores)
        contents = first.contents  # what the map draws: hexagon aggregation, layer caps
        html = first.get_root().render()

        def build_render() -> str:
            return str(build_map(snap, scores).get_root().render())

        times = measure(build_render, runs)
        peak = peak_mb(build_render)
        size = len(html.encode("utf-8"))
        n_points = sum(snap.layer_status(k).count for k in snap.layer_keys())
        recolour_s, script_bytes, shown = _recolour(snap, scores, runs)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    med = sorted(times)[len(times) // 2]
    drawn = contents.describe()
    label = (f"Blekinge pack (real): {len(scores.localities)} localities, {len(scores.cells):,} "
             f"res-{contents.cell_resolution} grid cells, {n_points:,} layer features, no tiles")
    cdn = _cdn_count(html)
    return [
        Row("app: county map build + render", label, times, peak_mb=peak,
            target="< 1 s", met=med < 1.0,
            note=("geo.maps.build_region_map + m.get_root().render() (the HTML st_folium sends); "
                  f"draws {drawn}"),
            extra={"drawn": drawn, "hexagons": contents.hexagons,
                   "hex_resolution": contents.hex_resolution,
                   "layers": {d.key: [d.drawn, d.total] for d in contents.layers}}),
        Row("app: weight change colours (recolour_data + script)", label, recolour_s,
            target="< 50 ms", met=sorted(recolour_s)[len(recolour_s) // 2] < 0.05,
            note=(f"what the map page sends per weighting instead of a new map: {shown:,} hexagon "
                  f"and {len(scores.localities)} locality colours, {script_bytes:,} bytes of "
                  "script (the base map is cached, the same for every weighting)"),
            extra={"bytes": script_bytes, "hexagons": shown}),
        Row("app: county map HTML payload", label, [], target="< 2 MB",
            met=size < 2 * 10**6,
            note=f"{size:,} bytes ({size / 10**6:.2f} MB); {cdn} script/style URLs on CDNs",
            extra={"bytes": size, "cdn_urls": cdn}),
    ]


def _recolour(snap: Any, scores: Any, runs: int) -> tuple[list[float], int, int]:
    """Seconds per :func:`geo.maps.recolour_data` + ``recolour_script`` on the app's base map,
    the script's bytes and the hexagons it colours."""
    from geo import maps

    base = maps.build_region_map(snap.boundary(), snap.localities(),
                                 municipalities=snap.municipalities(), cells=scores.cells,
                                 recolour=True)
    index = base.recolour
    assert index is not None

    def colours() -> str:
        return maps.recolour_script(maps.recolour_data(index, scores.cells, scores.localities))

    times = measure(colours, runs)
    data = maps.recolour_data(index, scores.cells, scores.localities)
    return times, len(colours().encode("utf-8")), len(data["cells"])


def _cdn_count(html: str) -> int:
    from geo import maps

    return len(maps.cdn_links(html))
