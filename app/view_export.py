"""Download the current layers and scores as GeoPackage, GeoJSON or CSV (with provenance)."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from importlib import import_module
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from .common import Ctx, bound, num, safe_text, store, theme_title

__all__ = ["export_bytes", "render"]

log = logging.getLogger(__name__)

FORMATS: dict[str, tuple[str, str]] = {
    "gpkg": ("GeoPackage (.gpkg)", "application/geopackage+sqlite3"),
    "geojson": ("GeoJSON (.zip)", "application/zip"),
    "csv": ("CSV (.zip)", "application/zip"),
}


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()


def _fallback(snapshot: Any, fmt: str, layers: list[str], scores: Any, out: Path) -> None:
    """Plain geopandas writes when ``geo.export`` is not available."""
    frames: dict[str, gpd.GeoDataFrame] = {k: snapshot.layer(k) for k in layers}
    locs = snapshot.localities()
    if scores is not None and getattr(scores, "localities", None) is not None:
        s = scores.localities.copy()
        s["code"] = s["code"].astype(str)
        locs = locs.assign(code=locs["code"].astype(str))
        locs = locs[["code", "geometry", *[c for c in ("source", "license", "source_date")
                                           if c in locs]]].merge(s, on="code", how="left")
    frames["locality_scores"] = gpd.GeoDataFrame(locs, geometry="geometry", crs=snapshot.localities().crs)
    if fmt == "gpkg":
        for name, g in frames.items():
            if len(g):
                g.to_file(out, layer=name, driver="GPKG")
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, g in frames.items():
        if not len(g):
            continue
        if fmt == "geojson":
            g.to_file(out / f"{name}.geojson", driver="GeoJSON")
        else:
            df = pd.DataFrame(g.drop(columns="geometry"))
            pts = g.geometry.representative_point()
            df["lon"], df["lat"] = pts.x, pts.y
            df.to_csv(out / f"{name}.csv", index=False)
    pd.DataFrame({"attribution": snapshot.attributions()}).to_csv(out / "sources.csv", index=False)


def export_bytes(snapshot: Any, fmt: str, layers: list[str], scores: Any | None) -> bytes:
    """Export to a temporary place and return the file (gpkg) or a zip of the folder."""
    with tempfile.TemporaryDirectory(prefix="livability-export-") as tmp:
        out = Path(tmp) / ("export.gpkg" if fmt == "gpkg" else "export")
        try:
            exp = import_module("geo.export")
        except ImportError:
            exp = None
        if exp is not None:
            exp.export(snapshot, fmt, out, layers=layers or None, scores=scores, force=True)
        else:
            _fallback(snapshot, fmt, layers, scores, out)
        return out.read_bytes() if fmt == "gpkg" else _zip_folder(out)


def render(ctx: Ctx) -> None:
    """Draw the export page."""
    st.markdown(ctx.t("export_intro"))
    snap = ctx.snapshot
    avail = [k for k in snap.layer_keys() if snap.layer_status(k).available]
    if "export_layers" not in st.session_state:
        st.session_state["export_layers"] = avail
    layers = store("export_layers", st.multiselect(
        ctx.t("export_what"), avail, **bound("export_layers", ctx.lang),
        format_func=lambda k: safe_text(theme_title(k, ctx.lang), "plain")))
    fmt = st.radio(ctx.t("export_format"), list(FORMATS), key="export_fmt", horizontal=True,
                   format_func=lambda f: FORMATS[f][0])
    sig = (ctx.key, fmt, tuple(layers), tuple(sorted(ctx.weights.items())))
    if st.button(ctx.t("prepare", fmt=FORMATS[fmt][0]), key="export_prepare"):
        with st.spinner(ctx.t("preparing")):
            data = export_bytes(snap, fmt, layers, ctx.result.scores)
        st.session_state["_export"] = (sig, data)
    ready = st.session_state.get("_export")
    if ready and ready[0] == sig:
        ext = "gpkg" if fmt == "gpkg" else "zip"
        st.download_button(f"{ctx.t('download')} ({num(len(ready[1]) / 1e6, ctx.lang)} MB)", ready[1],
                           file_name=f"livability-{ctx.key.region}-{fmt}.{ext}",
                           mime=FORMATS[fmt][1], key="export_download", type="primary")
