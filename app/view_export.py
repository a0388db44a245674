"""Download the current layers and scores as GeoPackage, GeoJSON or CSV (with provenance)."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from geo import export as engine_export
from geo.scoring import Scores
from geo.store import Snapshot

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


def export_bytes(snapshot: Snapshot, fmt: str, layers: list[str], scores: Scores | None) -> bytes:
    """Export to a temporary place and return the file (gpkg) or a zip of the folder."""
    with tempfile.TemporaryDirectory(prefix="livability-export-") as tmp:
        out = Path(tmp) / ("export.gpkg" if fmt == "gpkg" else "export")
        engine_export.export(snapshot, fmt, out, layers=layers or None, scores=scores, force=True)
        return out.read_bytes() if fmt == "gpkg" else _zip_folder(out)


def render(ctx: Ctx) -> None:
    """Draw the export page."""
    st.markdown(ctx.t("export_intro"))
    snap = ctx.snapshot
    avail = [k for k in snap.layer_keys() if snap.layer_status(k).available]
    if "export_layers" not in st.session_state:
        st.session_state["export_layers"] = avail
    layers = store("export_layers", st.multiselect(
        ctx.t("export_what"), avail, **bound("export_layers", ctx.lang), placeholder=ctx.t("choose_options"),
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
