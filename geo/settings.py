"""Where things live: the data directory, packs, caches, and default parameters."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_REGION",
    "OSM_ATTRIBUTION",
    "WORK_CRS",
    "cache_dir",
    "data_dir",
    "pack_dirs",
    "project_root",
]

DEFAULT_REGION = "blekinge"
#: Metric CRS for every distance and area computation (SWEREF 99 TM).
WORK_CRS = "EPSG:3006"
#: Storage CRS of every layer in the store.
STORE_CRS = "EPSG:4326"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
OSM_LICENSE = "ODbL-1.0"


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
