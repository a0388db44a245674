"""Where things live: the data directory, packs, caches, and default parameters."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_REGION",
    "EXPORT_FORMATS",
    "GTFS_MAX_BAD_ROW_SHARE",
    "GTFS_MAX_DEPARTURES",
    "GTFS_MAX_HOUR",
    "GTFS_MIN_HEADWAY_S",
    "H3_RESOLUTIONS",
    "MAX_NAME_CHARS",
    "MAX_SENSITIVITY_DRAWS",
    "MAX_WEIGHT",
    "OSM_ATTRIBUTION",
    "WORK_CRS",
    "ZIP_MAX_RATIO",
    "ZIP_MAX_UNCOMPRESSED_BYTES",
    "ZIP_RATIO_MIN_BYTES",
    "cache_dir",
    "data_dir",
    "pack_dirs",
    "project_root",
]

DEFAULT_REGION = "blekinge"
#: The export formats (the keys of :data:`geo.export.FORMATS`, which tests/test_imports.py checks),
#: here so the CLI offers ``--format`` choices without importing geopandas.
EXPORT_FORMATS: tuple[str, ...] = ("gpkg", "parquet", "geojson", "csv", "postgis")
#: Metric CRS for every distance and area computation (SWEREF 99 TM).
WORK_CRS = "EPSG:3006"
#: Storage CRS of every layer in the store.
STORE_CRS = "EPSG:4326"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
OSM_LICENSE = "ODbL-1.0"

# --- limits (README "Command line" > "Limits"): no input may make the tool run unbounded ---------
#: The GTFS tables a zip is read for may hold at most this many bytes uncompressed together
#: (from the zip's central directory); Sweden's national feed is well below.
ZIP_MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: A zip member larger than :data:`ZIP_RATIO_MIN_BYTES` uncompressed may be at most this many times
#: its compressed size (CSV compresses 5-20:1; a zip bomb 1000:1).
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 4 * 1024**2
#: ``headway_secs`` below this (or not a finite number) is nonsense: the frequencies.txt row is
#: skipped and counted.
GTFS_MIN_HEADWAY_S = 1.0
#: At most this many departures (stop_times plus frequency runs) on the service day.
GTFS_MAX_DEPARTURES = 5_000_000
#: GTFS times are ``HH:MM:SS`` with HH at most this (service days run past midnight).
GTFS_MAX_HOUR = 47
#: More than this share of stop_times rows with malformed times labels the transit layer partial.
GTFS_MAX_BAD_ROW_SHARE = 0.01
#: H3 resolutions the grid accepts. Blekinge: 7 (5 km2 cells) gives 65 cells and still scores all
#: 52 localities (6 leaves 10 of them without a cell of their own); 10 (0.015 km2) gives 11,904
#: cells in 2 s; each step finer is 7 times as many cells (15: about 200 million).
H3_RESOLUTIONS = range(7, 11)
#: A theme weight is a finite number in ``[0, MAX_WEIGHT]``.
MAX_WEIGHT = 100.0
#: Place names, region names and search strings longer than this are refused.
MAX_NAME_CHARS = 200
#: ``score --sensitivity N``: at most this many weight/decay draws for the rank bands (10,000 take
#: 0.1 s for Blekinge; the draws are held in memory, so 10**9 would need about 500 GB).
MAX_SENSITIVITY_DRAWS = 10_000


def project_root() -> Path:
    """Return the checkout's top folder (the parent of ``geo/``)."""
    return Path(__file__).resolve().parent.parent


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the store's folder.

    Parameters
    ----------
    override
        An explicit folder (the CLI's ``--data-dir``). Otherwise ``LIVABILITY_DATA_DIR``, otherwise
        ``./data`` under the project root.
    """
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("LIVABILITY_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return project_root() / "data"


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the HTTP cache folder (osmnx's Overpass cache) inside the data directory."""
    return data_dir(override) / "cache"


def pack_dirs(override: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return every data pack (a folder holding ``pack.json``) found under ``<data>/packs/``.

    Links are followed, so ``make run`` can link ``../shared/data/blekinge`` there.
    """
    root = data_dir(override) / "packs"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "pack.json").is_file())
