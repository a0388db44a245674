"""Reading the store's GeoParquet files without parsing the same CRS again for every file.

:func:`geopandas.read_parquet` builds a :class:`pyproj.CRS` from each file's PROJJSON, about 20 ms
a file, although a store holds one CRS (``EPSG:4326``) in every file: the app and each score
model read a dozen files. :func:`read_geoparquet` reads the table with pyarrow, decodes the WKB
geometry columns with shapely (through :meth:`geopandas.GeoSeries.from_wkb`) and takes the CRS
from a per-process cache keyed by the PROJJSON text. Files in another encoding than WKB (GeoArrow)
are handed to :func:`geopandas.read_parquet` unchanged. Public APIs only (pyarrow, geopandas,
pyproj); follows the GeoParquet 1.x ``geo`` metadata: a missing ``crs`` means ``OGC:CRS84``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

__all__ = ["from_table", "read_geoparquet"]

#: the CRS of a GeoParquet geometry column without a ``crs`` entry (GeoParquet 1.x)
_DEFAULT_CRS = "OGC:CRS84"


@lru_cache(maxsize=32)
def _crs(text: str) -> CRS:
    """The CRS of a PROJJSON (or other user input) text, parsed once per process."""
    return CRS.from_user_input(json.loads(text) if text.startswith("{") else text)


def read_geoparquet(path: str | Path) -> gpd.GeoDataFrame:
    """The GeoDataFrame of the GeoParquet file ``path`` (same result as ``gpd.read_parquet``).

    Raises
    ------
    pyarrow.lib.ArrowException, OSError, ValueError
        For a missing, damaged or non-GeoParquet file (the caller words the error).
    """
    table = pq.read_table(path)
    gdf = from_table(table)
    return gdf if gdf is not None else gpd.read_parquet(path)


def from_table(table: pa.Table) -> gpd.GeoDataFrame | None:
    """The GeoDataFrame of an Arrow table read from GeoParquet (its schema's ``geo`` metadata).

    None when the table has no ``geo`` metadata or a geometry column in another encoding than
    WKB (read those files with :func:`geopandas.read_parquet`).
    """
    meta = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    columns = meta.get("columns") or {}
    if not columns or any(str(c.get("encoding", "")).upper() != "WKB" for c in columns.values()):
        return None
    df = table.to_pandas()
    for name, spec in columns.items():
        crs = spec.get("crs", _DEFAULT_CRS)
        text = crs if isinstance(crs, str) else json.dumps(crs, sort_keys=True)
        df[name] = gpd.GeoSeries.from_wkb(df[name], index=df.index,
                                          crs=None if crs is None else _crs(text))
    return gpd.GeoDataFrame(df, geometry=meta.get("primary_column", next(iter(columns))))
