"""File writers of :mod:`geo.export`: GeoPackage, GeoParquet, GeoJSON and CSV.

Each writer gets an :class:`~geo.export_bundle.ExportBundle` and a *temporary* target path (a file
for GeoPackage, a folder otherwise) and returns what it wrote; :func:`geo.export.export` moves the
finished target into place atomically.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from .export_bundle import ExportBundle, ExportTable, table_metadata

__all__ = [
    "EXPORT_MARKER",
    "GEOPARQUET_VERSION",
    "ExportedItem",
    "write_csv",
    "write_geojson",
    "write_gpkg",
    "write_parquet",
    "write_single_file",
    "write_table",
]

log = logging.getLogger(__name__)

GEOPARQUET_VERSION = "1.1.0"
#: Parquet key-value metadata key holding the export's provenance (JSON).
PARQUET_META_KEY = b"livability"
#: Key of ``metadata.json`` that marks a folder as written by this tool: ``{"tool":
#: "blekinge-livability", "format": ..., "files": [every file the export wrote]}``. ``--force``
#: replaces a folder only when it carries this marker and holds nothing but the listed files.
EXPORT_MARKER = "blekinge_livability_export"
#: The ``tool`` value of :data:`EXPORT_MARKER`.
EXPORT_TOOL = "blekinge-livability"


@dataclass(frozen=True)
class ExportedItem:
    """One table written: its name, row count and where (file name, or ``schema.table``)."""

    name: str
    count: int
    target: str


# -- shared ---------------------------------------------------------------------------------------
def write_table(table: ExportTable, fmt: str, target: Path, bundle: ExportBundle) -> None:
    """Write one table in ``fmt`` to ``target`` (hook point: tests patch it to fail midway)."""
    _TABLE_WRITERS[fmt](table, target, bundle)


def _sidecars(bundle: ExportBundle, folder: Path, fmt: str, files: list[str]) -> None:
    """``metadata.json`` (with the :data:`EXPORT_MARKER` listing ``files``) and ``ATTRIBUTION.txt``."""
    listed = sorted({*files, "metadata.json", "ATTRIBUTION.txt"})
    meta = {EXPORT_MARKER: {"tool": EXPORT_TOOL, "format": fmt, "files": listed},
            **bundle.metadata_dict()}
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False,
                                                     default=str) + "\n", encoding="utf-8")
    lines = [f"Data exported by blekinge-livability {bundle.software_version} "
             f"on {bundle.exported_at} for {bundle.region_name} (EPSG:{bundle.crs}).",
             "", "Attribution (show wherever this data is shown):",
             *(f"  {a}" for a in bundle.attributions()), "", "Licences per table:"]
    for t in bundle.tables:
        lic = ", ".join(dict.fromkeys(p.license for p in t.sources)) or "(unknown)"
        lines.append(f"  {t.name}: {lic}")
    (folder / "ATTRIBUTION.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- GeoPackage -----------------------------------------------------------------------------------
#: GeoPackage version written: 1.2 opens without warnings in older GDAL/QGIS (Debian's GDAL 3.6).
GPKG_VERSION = "1.2"


def _gpkg_table(table: ExportTable, target: Path, bundle: ExportBundle) -> None:
    import pyogrio

    dataset = None if target.exists() else {"VERSION": GPKG_VERSION}

    desc = f"{table.title}. {table.attribution}".strip()
    meta = {"SOURCE": "; ".join(dict.fromkeys(p.source for p in table.sources)),
            "LICENSE": "; ".join(dict.fromkeys(p.license for p in table.sources)),
            "ATTRIBUTION": table.attribution, "EXPORTED_AT": bundle.exported_at,
            "SOFTWARE": f"blekinge-livability {bundle.software_version}"}
    if table.is_geo:
        pyogrio.write_dataframe(table.frame, target, layer=table.name, driver="GPKG",
                                layer_metadata=meta, dataset_options=dataset,
                                layer_options={"DESCRIPTION": desc[:1000],
                                               "IDENTIFIER": table.title})
    else:
        pyogrio.write_dataframe(table.frame, target, layer=table.name, driver="GPKG",
                                dataset_options=dataset)


@contextmanager
def _sqlite_unsynced() -> Iterator[None]:
    """Skip SQLite's fsync per statement (4x faster); the caller fsyncs the finished temp file."""
    import pyogrio

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def write_gpkg(bundle: ExportBundle, target: Path) -> list[ExportedItem]:
    """Write every table and the ``metadata`` table as layers of one GeoPackage file."""
    items: list[ExportedItem] = []
    with _sqlite_unsynced():
        for t in bundle.tables:
            write_table(t, "gpkg", target, bundle)
            items.append(ExportedItem(t.name, len(t.frame), f"{target.name}:{t.name}"))
        meta = ExportTable("metadata", bundle.metadata_frame(), "metadata", "Export metadata")
        write_table(meta, "gpkg", target, bundle)
        items.append(ExportedItem("metadata", len(meta.frame), f"{target.name}:metadata"))
    return items


# -- GeoParquet -----------------------------------------------------------------------------------
def _geoarrow_table(gdf: gpd.GeoDataFrame) -> pa.Table:
    """Arrow table with GeoParquet 1.1 ``geo`` metadata, exactly as geopandas writes it.

    Through geopandas' public ``to_parquet`` into memory and back: ``GeoDataFrame.to_arrow`` is
    public too but writes GeoArrow extension types and no ``geo`` metadata, so it is not GeoParquet
    (the in-memory round trip costs a second encode, milliseconds for the export's tables).
    """
    buf = io.BytesIO()
    gdf.to_parquet(buf, index=False, schema_version=GEOPARQUET_VERSION)
    buf.seek(0)
    return pq.read_table(buf)


def _parquet_table(table: ExportTable, target: Path, bundle: ExportBundle) -> None:
    meta = {"export": {k: v for k, v in bundle.metadata_dict().items() if k != "tables"},
            "table": {"name": table.name, **table_metadata(table)}}
    blob = json.dumps(meta, ensure_ascii=False, default=str).encode("utf-8")
    if table.is_geo:
        arrow = _geoarrow_table(table.frame)
    else:
        arrow = pa.Table.from_pandas(table.frame, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                           PARQUET_META_KEY: blob})
    pq.write_table(arrow, target, compression="zstd")


def _write_folder(bundle: ExportBundle, target: Path, fmt: str, *,
                  with_metadata: bool) -> list[ExportedItem]:
    """One ``<table>.<fmt>`` file per table (plus a metadata table if asked) and the sidecars."""
    target.mkdir(parents=True, exist_ok=True)
    tables = list(bundle.tables)
    if with_metadata:
        tables.append(ExportTable("metadata", bundle.metadata_frame(), "metadata", "Export metadata"))
    items = []
    for t in tables:
        write_table(t, fmt, target / f"{t.name}.{fmt}", bundle)
        items.append(ExportedItem(t.name, len(t.frame), f"{t.name}.{fmt}"))
    _sidecars(bundle, target, fmt, [i.target for i in items])
    return items


def write_parquet(bundle: ExportBundle, target: Path) -> list[ExportedItem]:
    """Write one GeoParquet 1.1 file per table (provenance in its key-value metadata)."""
    return _write_folder(bundle, target, "parquet", with_metadata=True)


# -- GeoJSON --------------------------------------------------------------------------------------
def _geojson_table(table: ExportTable, target: Path, bundle: ExportBundle) -> None:
    gdf = table.frame
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    gdf = gdf.copy()
    # RFC 7946 section 3.1.6: exterior rings counterclockwise, holes clockwise
    gdf["geometry"] = shapely.orient_polygons(gdf.geometry.values, exterior_cw=False)
    fc: dict[str, Any] = json.loads(gdf.to_json(na="null", drop_id=True))
    fc.pop("crs", None)  # RFC 7946 has no crs member: WGS 84 longitude/latitude is implied
    out = {"type": "FeatureCollection", "name": table.name, "title": table.title,
           "attribution": table.attribution,
           "metadata": {**table_metadata(table), "exported_at": bundle.exported_at,
                        "software": f"blekinge-livability {bundle.software_version}",
                        "region": bundle.region_name},
           "features": fc["features"]}
    with target.open("w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False)


def write_geojson(bundle: ExportBundle, target: Path) -> list[ExportedItem]:
    """Write one RFC 7946 FeatureCollection per table plus ``metadata.json``/``ATTRIBUTION.txt``."""
    return _write_folder(bundle, target, "geojson", with_metadata=False)


# -- CSV ------------------------------------------------------------------------------------------
def _csv_frame(table: ExportTable) -> pd.DataFrame:
    """Attributes plus ``lon``/``lat`` (WGS 84; and ``x``/``y`` in 3006) for points, else ``wkt``."""
    if not table.is_geo:
        return pd.DataFrame(table.frame)
    gdf: gpd.GeoDataFrame = table.frame
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    geoms = gdf.geometry
    types = set(geoms.dropna().geom_type)
    if types <= {"Point"} and types:
        wgs = geoms.to_crs(4326) if gdf.crs.to_epsg() != 4326 else geoms
        df["lon"] = wgs.x.round(7)
        df["lat"] = wgs.y.round(7)
        if gdf.crs.to_epsg() != 4326:
            df["x"] = geoms.x.round(3)
            df["y"] = geoms.y.round(3)
    else:
        prec = 7 if gdf.crs.to_epsg() == 4326 else 3
        df["wkt"] = [None if g is None else shapely.to_wkt(g, rounding_precision=prec, trim=True)
                     for g in geoms]
    return df


def _csv_table(table: ExportTable, target: Path, bundle: ExportBundle) -> None:
    _csv_frame(table).to_csv(target, index=False, encoding="utf-8")


def write_csv(bundle: ExportBundle, target: Path) -> list[ExportedItem]:
    """Write one CSV per table, ``metadata.csv``, ``metadata.json`` and ``ATTRIBUTION.txt``."""
    return _write_folder(bundle, target, "csv", with_metadata=True)


# -- one table, one file ----------------------------------------------------------------------------
def write_single_file(bundle: ExportBundle, target: Path, fmt: str) -> list[ExportedItem]:
    """Write the bundle's only table as one ``fmt`` file (``x.geojson``, ``x.csv``, ``x.parquet``).

    The provenance travels inside the file: a GeoJSON FeatureCollection carries ``attribution`` and
    ``metadata`` members, a GeoParquet file its key-value metadata, and a CSV file gets an
    ``attribution`` column when the table has none.
    """
    if len(bundle.tables) != 1:
        raise ValueError(f"a single-file export takes one table, not {len(bundle.tables)}")
    table = bundle.tables[0]
    if fmt == "csv" and "attribution" not in table.frame:
        table = replace(table, frame=table.frame.assign(attribution=table.attribution))
    write_table(table, fmt, target, bundle)
    return [ExportedItem(table.name, len(table.frame), target.name)]


_TABLE_WRITERS = {
    "gpkg": _gpkg_table,
    "parquet": _parquet_table,
    "geojson": _geojson_table,
    "csv": _csv_table,
}
