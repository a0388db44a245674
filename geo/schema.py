"""The one schema every source returns, and the provenance that travels with every feature.

Every layer in the store is a GeoDataFrame in EPSG:4326 with the columns of :data:`FEATURE_COLUMNS`
(extra columns are allowed and kept). Provenance is stored per feature (so a layer fed by several
sources stays traceable after merging) and summarised per layer in the snapshot manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.vocab import Coverage

from .errors import DataSourceError
from .settings import STORE_CRS

__all__ = [
    "COVERAGES",
    "FEATURE_COLUMNS",
    "LOCALITY_COLUMNS",
    "Provenance",
    "conform",
    "empty_features",
    "provenance_of",
]

#: Coverage levels (:class:`layers.vocab.Coverage`).
COVERAGES: tuple[str, ...] = tuple(c.value for c in Coverage)

#: Columns of every layer: ``uid`` is unique within a layer (``<source-prefix>:<id>``), ``kind`` is the
#: amenity kind that indicators select on (``rail_station``, ``pharmacy``, ``park`` ...), ``value`` an
#: optional number (departures per hour for stops, floor area, ...).
FEATURE_COLUMNS: tuple[str, ...] = (
    "uid",
    "layer",
    "kind",
    "name",
    "municipality",
    "value",
    "source",
    "license",
    "source_date",
    "coverage",
    "geometry",
)

#: Columns of the localities table (tätorter or a fallback), points in EPSG:4326.
LOCALITY_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "municipality",
    "municipality_name",
    "population",
    "area_ha",
    "source",
    "license",
    "source_date",
    "coverage",
    "geometry",
)


@dataclass(frozen=True)
class Provenance:
    """Where a piece of data comes from.

    Parameters
    ----------
    source
        Human-readable source ("OpenStreetMap via Overpass", "Statistics Sweden (SCB), Tätorter 2020").
    license
        Licence identifier or text ("ODbL-1.0", "CC0-1.0").
    date
        Date or year of the data (not of the download), ISO-like text.
    coverage
        ``complete``, ``partial`` or ``missing``.
    attribution
        Text to show wherever the data is shown ("© OpenStreetMap contributors").
    url
        Where to get it, if known.
    note
        Free text: what is partial, how it was filtered.
    """

    source: str
    license: str
    date: str = ""
    coverage: str = "complete"
    attribution: str = ""
    url: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.coverage not in COVERAGES:
            raise ValueError(
                f"coverage {self.coverage!r} is not one of {', '.join(COVERAGES)}"
            )
        if not self.source:
            raise ValueError("a Provenance needs a source")

    def to_dict(self) -> dict[str, str]:
        """Return the provenance as a plain dict (for JSON manifests and exports)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        """Build from :meth:`to_dict` output, ignoring unknown keys."""
        keys = {f for f in cls.__dataclass_fields__}
        return cls(**{k: str(v) for k, v in d.items() if k in keys and v is not None})


def empty_features(extra: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Return an empty layer with the feature schema (and any ``extra`` columns)."""
    cols = [c for c in FEATURE_COLUMNS if c != "geometry"] + list(extra)
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in cols},
                            geometry=gpd.GeoSeries([], crs=STORE_CRS), crs=STORE_CRS)


def _stable_uid(prefix: str, geom_wkb: bytes) -> str:
    return f"{prefix}:{hashlib.sha1(geom_wkb).hexdigest()[:12]}"


def conform(
    gdf: gpd.GeoDataFrame,
    layer: str,
    provenance: Provenance,
    *,
    kind: str | pd.Series | None = None,
    uid_prefix: str = "f",
) -> gpd.GeoDataFrame:
    """Bring a source's GeoDataFrame into the feature schema.

    Parameters
    ----------
    gdf
        Features with a CRS. Columns ``name``, ``kind``, ``municipality``, ``value``, ``uid`` are used
        when present; other columns are kept.
    layer
        Layer key the features belong to.
    provenance
        Stamped on every row (``source``, ``license``, ``source_date``, ``coverage``) unless the row
        already carries its own.
    kind
        Constant kind or a Series of kinds; defaults to the ``kind`` column, else the layer key.
    uid_prefix
        Prefix of generated ids when there is no ``uid`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, with every column of :data:`FEATURE_COLUMNS`, empty geometries dropped.
    """
    if gdf.crs is None:

        raise DataSourceError(
            f"layer {layer!r} from {provenance.source!r} has no CRS; set one (e.g. EPSG:4326) "
            "in the file or the pack manifest"
        )
    out = gdf.to_crs(STORE_CRS) if gdf.crs.to_epsg() != 4326 else gdf.copy()
    out = out[out.geometry.notna() & ~out.geometry.is_empty].copy()
    out["layer"] = layer
    if kind is not None:
        out["kind"] = kind if isinstance(kind, str) else kind.reindex(out.index)
    elif "kind" not in out.columns:
        out["kind"] = layer
    out["kind"] = out["kind"].fillna(layer).astype(str)
    for col in ("name", "municipality"):
        if col not in out.columns:
            out[col] = None
    if "value" not in out.columns:
        out["value"] = float("nan")
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    stamp = {
        "source": provenance.source,
        "license": provenance.license,
        "source_date": provenance.date,
        "coverage": provenance.coverage,
    }
    for col, val in stamp.items():
        if col not in out.columns:
            out[col] = val
        else:
            out[col] = out[col].fillna(val)
    if "uid" not in out.columns:
        out["uid"] = [_stable_uid(uid_prefix, g.wkb) for g in out.geometry]
    out["uid"] = out["uid"].astype(str)
    # keep uids unique within a layer (two features at one spot)
    dup = out["uid"].duplicated(keep=False)
    if dup.any():
        out.loc[dup, "uid"] = out.loc[dup, "uid"] + "#" + out.loc[dup].groupby("uid").cumcount().astype(str)
    for col in ("name", "municipality"):
        # missing stays missing: with pandas' string dtype ``where(notna, None)`` keeps NaN, which
        # ``str`` would turn into the text "nan"; the Series takes pandas' own default text dtype
        # (pandas 3: ``str`` with NaN for missing, as a stored layer reads back)
        out[col] = pd.Series([None if pd.isna(v) else str(v) for v in out[col]], index=out.index)
    ordered = [c for c in FEATURE_COLUMNS if c != "geometry"]
    extra = [c for c in out.columns if c not in FEATURE_COLUMNS]
    result = gpd.GeoDataFrame(out[[*ordered, *extra, "geometry"]], geometry="geometry", crs=STORE_CRS)
    return result.reset_index(drop=True)


def provenance_of(gdf: gpd.GeoDataFrame) -> list[Provenance]:
    """Return the distinct provenances found in a layer's rows."""
    if gdf.empty:
        return []
    cols = ["source", "license", "source_date", "coverage"]
    rows = gdf[cols].drop_duplicates().itertuples(index=False)
    return [Provenance(source=s, license=lic, date=d or "", coverage=c or "complete")
            for s, lic, d, c in rows]
