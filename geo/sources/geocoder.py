"""Addresses through OpenStreetMap's Nominatim (geopy), rate-limited, identified and cached on disk.

Addresses need the internet: :func:`online` is True unless ``LIVABILITY_OFFLINE=1`` (or
``LIVABILITY_ONLINE=0``); offline the geocoder is not asked at all, only its cache is read, and
after a failed connection it stays quiet for :data:`RETRY_AFTER_S` (one slow failure, not one per
keystroke). The test suite sets ``LIVABILITY_OFFLINE=1`` (tests/conftest.py).
Online, :class:`Geocoder` follows Nominatim's usage policy: at most one request a second
(geopy's ``RateLimiter``, shared by every lookup of the instance), a User-Agent naming this
application (:func:`user_agent`), results bounded to the region's box and Sweden, and every answer
cached on disk (``<data>/cache/geocoder/<sha256 of the normalised query>.json``, written atomically)
so a query is sent once.

Failures are :class:`geo.errors.OfflineError` with a :class:`geo.messages.Message`:
``geocoder_offline`` (offline, no network, a refused connection) or ``geocoder_busy`` (HTTP 429,
quota, timeout, a service error). The engine never imports geopy at module level: a missing geopy is
``geocoder_offline`` too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import OfflineError
from ..fsutil import fsync_dir
from ..messages import Message
from ..search import MAX_QUERY_CHARS, SearchHit, clean_query, fold
from ..settings import cache_dir

__all__ = [
    "CACHE_VERSION",
    "NOMINATIM_LICENCE",
    "NOMINATIM_SOURCE",
    "Geocoder",
    "cache_key",
    "online",
    "user_agent",
]

log = logging.getLogger(__name__)

NOMINATIM_SOURCE = "OpenStreetMap Nominatim (© OpenStreetMap contributors)"
NOMINATIM_LICENCE = "ODbL-1.0"
#: The cache files' layout; a file of another version is ignored (asked again).
CACHE_VERSION = 1
#: Seconds one request may take before it counts as "busy".
TIMEOUT_S = 6.0
_TRUE = ("1", "true", "yes", "on")


#: Seconds the geocoder stays quiet after the network was unreachable.
RETRY_AFTER_S = 300.0
_FALSE = frozenset({"0", "false", "no", "off"})


def online() -> bool:
    """Whether the app may ask network services: yes unless ``LIVABILITY_OFFLINE=1`` or
    ``LIVABILITY_ONLINE=0`` (a real user has the internet; a machine without it fails once, see
    :data:`RETRY_AFTER_S`, and the UI says addresses need the internet)."""
    if os.environ.get("LIVABILITY_OFFLINE", "").strip().lower() in _TRUE:
        return False
    return os.environ.get("LIVABILITY_ONLINE", "").strip().lower() not in _FALSE


def _project_url() -> str:
    """The project's URL from its installed metadata ("" when it states none)."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        md = metadata("blekinge-livability")
    except (ImportError, PackageNotFoundError):
        return ""
    for entry in md.get_all("Project-URL") or []:
        _, _, url = str(entry).partition(",")
        if url.strip():
            return url.strip()
    return str(md["Home-page"] or "").strip() if "Home-page" in md else ""


def user_agent() -> str:
    """``blekinge-livability/<version> (+<contact>)``: ``LIVABILITY_CONTACT`` (a URL or e-mail
    address of whoever runs the app), else the project's URL; without either, no ``(+...)``."""
    contact = os.environ.get("LIVABILITY_CONTACT", "").strip()[:200] or _project_url()
    base = f"blekinge-livability/{__version__}"
    return f"{base} (+{contact})" if contact else base


def cache_key(query: str) -> str:
    """The cache file's name for ``query``: the SHA-256 of its folded form (case, spacing and
    punctuation do not make a new request; å/ä/ö do)."""
    text, _ = clean_query(query)
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()


def _busy() -> OfflineError:
    return OfflineError(message=Message("geocoder_busy"))


def _offline() -> OfflineError:
    return OfflineError(message=Message("geocoder_offline"))


class Geocoder:
    """Nominatim lookups for one region, cached in ``cache``.

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees: the search box (``viewbox``, ``bounded``).
    cache
        The cache folder (default ``<data>/cache/geocoder``).
    enabled
        Whether the network may be used (default :func:`online`); disabled, only the cache answers.
    geocode
        The function that asks the service (tests pass a fake): called as
        ``geocode(query, exactly_one=False, limit=..., ...)`` and returning geopy ``Location``-like
        objects (``latitude``, ``longitude``, ``address``, ``raw``) or None. Default: geopy's
        ``Nominatim(user_agent=user_agent()).geocode`` behind ``RateLimiter(min_delay_seconds=1)``.
    """

    def __init__(self, bbox: tuple[float, float, float, float] | None = None, *,
                 cache: str | os.PathLike[str] | None = None, enabled: bool | None = None,
                 geocode: Callable[..., Any] | None = None, country: str = "se") -> None:
        self.bbox = bbox
        self.cache = Path(cache) if cache is not None else cache_dir() / "geocoder"
        self.enabled = online() if enabled is None else enabled
        self.country = country
        self._geocode = geocode
        self.calls = 0  # requests sent (for tests and logs)
        self._quiet_until = 0.0  # monotonic time before which an unreachable service is not asked

    # -- the service -----------------------------------------------------------------------------
    def _service(self) -> Callable[..., Any]:
        if self._geocode is None:
            try:
                from geopy.extra.rate_limiter import RateLimiter
                from geopy.geocoders import Nominatim
            except ImportError as exc:
                log.info("geopy not installed (%s): no address search", exc)
                raise _offline() from exc
            nominatim = Nominatim(user_agent=user_agent(), timeout=TIMEOUT_S)
            self._geocode = RateLimiter(nominatim.geocode, min_delay_seconds=1.0, max_retries=0,
                                        swallow_exceptions=False)
        return self._geocode

    def _ask(self, query: str, limit: int) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"exactly_one": False, "limit": limit, "addressdetails": True,
                                  "country_codes": self.country, "language": "sv"}
        if self.bbox is not None:
            x0, y0, x1, y1 = self.bbox
            kwargs |= {"viewbox": [(y0, x0), (y1, x1)], "bounded": True}
        if time.monotonic() < self._quiet_until:
            raise _offline()
        service = self._service()
        self.calls += 1
        try:
            found = service(query, **kwargs)
        except Exception as exc:
            err = _translate(exc)
            if getattr(err.message, "code", None) == "geocoder_offline":
                self._quiet_until = time.monotonic() + RETRY_AFTER_S
                log.info("geocoder unreachable (%s): not asked again for %.0f s", exc, RETRY_AFTER_S)
            raise err from exc
        return [_record(loc) for loc in (found or [])]

    # -- the cache -------------------------------------------------------------------------------
    def _path(self, query: str) -> Path:
        return self.cache / f"{cache_key(query)}.json"

    def _cached(self, query: str) -> list[dict[str, Any]] | None:
        path = self._path(query)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.info("geocoder cache %s unreadable (%s): asking again", path.name, exc)
            return None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
                or not isinstance(data.get("results"), list):
            return None
        return [r for r in data["results"] if isinstance(r, dict)]

    def _store(self, query: str, results: list[dict[str, Any]]) -> None:
        """Write the answer atomically (a temporary file in the folder, then a rename)."""
        path = self._path(query)
        payload = {"version": CACHE_VERSION, "query": fold(query), "at": int(time.time()),
                   "source": NOMINATIM_SOURCE, "results": results}
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".geocode-", suffix=".tmp", dir=self.cache)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(payload, fh, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(self.cache)
        except OSError as exc:  # a read-only data folder: answers are not kept, search still works
            log.warning("geocoder cache not written to %s (%s)", self.cache, exc)

    # -- lookups ---------------------------------------------------------------------------------
    def lookup(self, query: str, limit: int = 5) -> list[SearchHit]:
        """Addresses for ``query`` (at most ``limit``), from the cache or the service.

        Raises
        ------
        OfflineError
            With ``Message("geocoder_offline")`` when disabled and not cached, or the network is
            unreachable; ``Message("geocoder_busy")`` when the service is rate-limited (HTTP 429),
            times out or fails.
        """
        text, _ = clean_query(query)
        text = text[:MAX_QUERY_CHARS]
        if not text:
            return []
        limit = max(1, min(int(limit), 10))
        results = self._cached(text)
        if results is None:
            if not self.enabled:
                raise _offline()
            results = self._ask(text, limit)
            self._store(text, results)
        return [h for h in (_hit(r) for r in results[:limit]) if h is not None]


def _translate(exc: BaseException) -> OfflineError:
    """A geopy (or network) exception as this project's error with a message."""
    try:
        from geopy import exc as gexc
    except ImportError:  # pragma: no cover - geopy raised it, so geopy is there
        return _offline()
    if isinstance(exc, (gexc.GeocoderQuotaExceeded, gexc.GeocoderTimedOut, TimeoutError)):
        return _busy()  # 429 (GeocoderRateLimited is a GeocoderQuotaExceeded) and timeouts
    if isinstance(exc, (gexc.GeocoderUnavailable, ConnectionError, OSError)):
        return _offline()  # DNS failure, refused connection, no route: no internet
    if isinstance(exc, gexc.GeocoderServiceError):
        return _busy()  # 5xx and other answers of a service that is up but not answering well
    log.warning("geocoder failed: %s: %s", type(exc).__name__, exc)
    return _busy()


def _record(loc: Any) -> dict[str, Any]:
    """A geopy ``Location`` as the cache's JSON record."""
    raw = getattr(loc, "raw", None) or {}
    address = raw.get("address") if isinstance(raw, dict) else None
    return {"lat": float(loc.latitude), "lon": float(loc.longitude),
            "label": str(getattr(loc, "address", "") or ""),
            "type": str(raw.get("type", "")) if isinstance(raw, dict) else "",
            "address": address if isinstance(address, dict) else {}}


def _short_name(rec: dict[str, Any]) -> str:
    """"Ronnebygatan 12" from the address parts; else the label's first part."""
    parts = rec.get("address") or {}
    road = str(parts.get("road") or parts.get("pedestrian") or parts.get("square") or "")
    number = str(parts.get("house_number") or "")
    if road:
        return f"{road} {number}".strip()
    label = str(rec.get("label") or "")
    return label.split(",")[0].strip()


def _municipality(rec: dict[str, Any]) -> str:
    parts = rec.get("address") or {}
    for key in ("municipality", "city", "town", "village", "suburb"):
        value = str(parts.get(key) or "")
        if value:
            return value
    return ""


def _hit(rec: dict[str, Any]) -> SearchHit | None:
    try:
        lat, lon = float(rec["lat"]), float(rec["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    name = _short_name(rec)
    if not name:
        return None
    return SearchHit("address", name, _municipality(rec), lat, lon, None, NOMINATIM_SOURCE,
                     NOMINATIM_LICENCE)
