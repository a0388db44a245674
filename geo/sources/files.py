"""Reading single vector or CSV files into GeoDataFrames, with clear errors for bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely import wkt as shapely_wkt

from ..errors import DataSourceError

__all__ = ["read_csv_table", "read_vector"]

log = logging.getLogger(__name__)

_LON = ("lon", "lng", "long", "longitude", "x", "wgs84longitude", "wgs84_lon")
_LAT = ("lat", "latitude", "y", "wgs84latitude", "wgs84_lat")
_WKT = ("wkt", "geometry", "geom", "the_geom")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".geoparquet")


def _find(cols: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower().strip(): c for c in cols}
    for n in names:
        if n in low:
            return low[n]
    return None


def _read_csv_points(path: Path, crs: str) -> gpd.GeoDataFrame:
    try:
        df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataSourceError(f"{path} is not a readable CSV file ({exc}); save it as UTF-8 CSV") from None
    cols = list(df.columns)
    lon, lat, wkt = _find(cols, _LON), _find(cols, _LAT), _find(cols, _WKT)
    if lon and lat:
        x = pd.to_numeric(df[lon].astype(str).str.replace(",", "."), errors="coerce")
        y = pd.to_numeric(df[lat].astype(str).str.replace(",", "."), errors="coerce")
        bad = int((x.isna() | y.isna()).sum())
        if bad == len(df):
            raise DataSourceError(f"{path}: columns {lon!r}/{lat!r} hold no numeric coordinates")
        if bad:
            log.warning("%s: %d rows without coordinates dropped", path.name, bad)
        keep = x.notna() & y.notna()
        return gpd.GeoDataFrame(df[keep], geometry=gpd.points_from_xy(x[keep], y[keep]), crs=crs)
    if wkt:
        try:
            geoms = df[wkt].map(lambda s: shapely_wkt.loads(s) if isinstance(s, str) and s else None)
        except Exception as exc:  # shapely raises GEOSException subclasses
            raise DataSourceError(f"{path}: column {wkt!r} is not valid WKT ({exc})") from None
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms.values, crs=crs)
    raise DataSourceError(
        f"{path} has no coordinates: add lon/lat columns (WGS 84) or a WKT column named 'wkt'. "
        f"Columns found: {', '.join(map(str, cols[:12]))}"
    )


def read_vector(path: str | Path, *, default_crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GeoParquet or CSV (lon/lat or WKT) file.

    Parameters
    ----------
    path
        The file.
    default_crs
        CRS for CSV coordinates (files carry their own).

    Raises
    ------
    DataSourceError
        Missing file, unreadable or broken file, CSV without coordinates, no CRS, no features.
    """
    p = Path(path)
    if not p.is_file():
        raise DataSourceError(f"{p} does not exist; check the path")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        gdf = _read_csv_points(p, default_crs)
    elif suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(p)
        except Exception as exc:  # pyarrow raises several error types
            raise DataSourceError(f"{p} is not a readable GeoParquet file ({exc})") from None
    elif suffix in VECTOR_SUFFIXES:
        try:
            gdf = gpd.read_file(p, engine="pyogrio")
        except Exception as exc:  # pyogrio.errors.DataSourceError and friends
            msg = str(exc).splitlines()[0][:200]
            raise DataSourceError(
                f"{p} is not a readable {suffix[1:].upper()} file ({msg}); check that it is complete "
                "and valid (e.g. open it in QGIS or run ogrinfo on it)"
            ) from None
    else:
        raise DataSourceError(
            f"{p}: unsupported file type {suffix!r}; use one of "
            f"{', '.join((*VECTOR_SUFFIXES, '.csv'))}"
        )
    if gdf.crs is None:
        if suffix in (".geojson", ".json"):
            gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS 84
        else:
            raise DataSourceError(f"{p} has no CRS; save it with one (e.g. EPSG:4326 or EPSG:3006)")
    gdf = gdf[gdf.geometry.notna()]
    log.info("%d features read from %s", len(gdf), p.name)
    return gdf


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a statistics CSV: plain (comma) or a Skolverket export (semicolon, preamble, decimal comma).

    Returns the raw table with numeric columns converted (``..`` and empty cells become NaN).
    """
    p = Path(path)
    if not p.is_file():
        raise DataSourceError(f"{p} does not exist; check the path")
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        lines = p.read_text(encoding="latin-1").splitlines()
    if not lines:
        raise DataSourceError(f"{p} is empty")
    header = next((i for i, ln in enumerate(lines) if ln.lower().startswith("kommun;")), None)
    if header is not None:
        # Skolverket export: preamble lines, ';' separated, decimal comma, '..' for suppressed values
        rows = [ln.rstrip(";").split(";") for ln in lines[header:] if ln.count(";") >= 3]
        head = _unique([h.strip() for h in rows[0]])
        body = [r[: len(head)] + [""] * (len(head) - len(r)) for r in rows[1:]]
        df = pd.DataFrame(body, columns=head)
        for c in df.columns:
            raw = df[c].str.strip().replace({"..": None, "": None, "-": None})
            conv = pd.to_numeric(raw.str.replace(",", ".", regex=False).str.lstrip("~"), errors="coerce")
            if raw.notna().any() and conv.notna().sum() == raw.notna().sum():
                df[c] = conv
        return df
    try:
        return pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataSourceError(f"{p} is not a readable CSV table ({exc})") from None
