"""The score model on disk, so a server start does not rebuild it (seconds) for an unchanged build.

:func:`app.data.get_model` keeps the model in memory for the server's life; this module adds a
pickle under ``<data dir>/cache/models/`` written atomically (temporary file, then
``os.replace``), named after everything the model depends on: the snapshot (region and build
time), the engine's code (``geo/`` and ``layers/`` sources) and the Python, numpy and pandas
versions. Any change gives a new name, so a stale model is never read; an unreadable or foreign
file is ignored (the model is rebuilt). The file is the app's own cache in the user's data folder,
like the downloads under ``data/cache/``; ``LIVABILITY_MODEL_CACHE=0`` turns it off.

A pickle runs code when it is read, so a file is unpickled only after its HMAC-SHA256 checks out
against a secret key kept beside it (``.key``, 32 random bytes, mode 0600, made on first use): a
file this cache did not write (copied in, edited, truncated) is ignored and rebuilt, never loaded.
After a new model is written, the older models of the same region that this cache wrote (its name
pattern and a valid HMAC) are removed; nothing else in the folder is touched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

__all__ = ["cache_path", "code_fingerprint", "enabled", "load_or_build", "map_fingerprint"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_ROOT = Path(__file__).resolve().parents[1]
#: marks a file as this cache's (checked before the model is used)
_MAGIC = "livability-score-model/1"
#: the file's first bytes, then the 32-byte HMAC of the pickle that follows
_HEADER = b"LVMODEL2"
_KEY_NAME = ".key"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the engine's sources (``geo/``, ``layers/``) and the library versions."""
    import numpy
    import pandas

    h = hashlib.sha256(f"{sys.version}|{numpy.__version__}|{pandas.__version__}".encode())
    for pkg in ("geo", "layers"):
        for f in sorted((_ROOT / pkg).rglob("*.py")):
            h.update(f.relative_to(_ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:20]


@lru_cache(maxsize=1)
def map_fingerprint() -> str:
    """:func:`code_fingerprint` plus what a rendered county map depends on beyond the engine: the
    map page's sources (``app/view_map.py``, ``app/folium_adapter.py``) and the versions of folium,
    branca, streamlit-folium and the inlined Leaflet (xstatic) packages."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(code_fingerprint().encode())
    for name in ("folium", "branca", "streamlit-folium", "xstatic-leaflet",
                 "xstatic-leaflet-markercluster", "jinja2"):
        try:
            h.update(f"{name}={version(name)}|".encode())
        except PackageNotFoundError:
            h.update(f"{name}=-|".encode())
    for rel in ("app/view_map.py", "app/folium_adapter.py", "app/common.py"):
        h.update(rel.encode())
        h.update((_ROOT / rel).read_bytes())
    return h.hexdigest()[:20]


def enabled() -> bool:
    """False when ``LIVABILITY_MODEL_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("LIVABILITY_MODEL_CACHE", "1").strip().lower() not in {
        "0", "false", "no", "off"}


def cache_path(data: Path, region: str, built_at: str, *, folder: str = "models",
               variant: str = "", fingerprint: str | None = None) -> Path:
    """Where the value of ``region`` built at ``built_at`` is kept for this code.

    ``folder`` is the cache's sub-folder of ``<data>/cache`` (``models``: the score model;
    ``maps``: the rendered county maps); ``variant`` tells values of one snapshot apart (a map's
    language and toggles); ``fingerprint`` is the code version (default :func:`code_fingerprint`).
    """
    code = code_fingerprint() if fingerprint is None else fingerprint
    stamp = hashlib.sha256(f"{region}|{built_at}|{variant}|{code}".encode()).hexdigest()[:24]
    return data / "cache" / folder / f"{region}-{stamp}.pickle"


def _key(folder: Path, *, create: bool) -> bytes | None:
    """The folder's secret HMAC key (made, mode 0600, when ``create`` and missing)."""
    path = folder / _KEY_NAME
    try:
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except FileNotFoundError:
        if not create:
            return None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server made it first
        key = path.read_bytes()
        return key if len(key) == 32 else None
    key = os.urandom(32)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def _payload(path: Path, key: bytes) -> bytes | None:
    """The pickle bytes of ``path`` when its header and HMAC are this cache's, else None."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    n = len(_HEADER)
    if len(blob) < n + 32 or blob[:n] != _HEADER:
        return None
    body = blob[n + 32:]
    if not hmac.compare_digest(blob[n:n + 32], hmac.new(key, body, hashlib.sha256).digest()):
        return None
    return body


def _read(path: Path) -> object | None:
    if not path.is_file():
        return None
    key = _key(path.parent, create=False)
    body = _payload(path, key) if key is not None else None
    if body is None:
        log.warning("score model cache %s is not this cache's (no valid HMAC): rebuilding",
                    path.name)
        return None
    try:
        magic, value = pickle.loads(body)  # authenticated: written by _write with the key
    except Exception as exc:  # from another library version: rebuild
        log.warning("score model cache %s unreadable (%s): rebuilding", path.name, exc)
        return None
    return value if magic == _MAGIC else None


def _prune(path: Path, region: str, key: bytes, keep: frozenset[str] = frozenset()) -> None:
    """Remove this cache's older values of ``region`` (pattern and HMAC checked), except the
    file names in ``keep``."""
    for old in path.parent.glob(f"{region}-*.pickle"):
        if old == path or old.name in keep or _payload(old, key) is None:
            continue
        try:
            old.unlink()
        except OSError as exc:
            log.info("old score model %s kept (%s)", old.name, exc)


def _write(path: Path, value: object, region: str, keep: frozenset[str] = frozenset()) -> None:
    try:
        key = _key(path.parent, create=True)
        if key is None:
            log.warning("score model cache key in %s unreadable: not cached", path.parent)
            return
        body = pickle.dumps((_MAGIC, value), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_HEADER + hmac.new(key, body, hashlib.sha256).digest() + body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(path, region, key, keep)
    except Exception as exc:  # a read-only data folder: the app works, only slower to start
        log.warning("score model cache not written to %s: %s", path.parent, exc)


def load_or_build(data: Path, region: str, built_at: str, build: Callable[[], T],
                  kind: type, *, folder: str = "models", variant: str = "",
                  fingerprint: str | None = None, keep: Sequence[Path] = ()) -> T:
    """The cached model of this snapshot and code, else ``build()`` (then cached).

    Parameters
    ----------
    data, region, built_at
        The snapshot's data folder, region key and build time (:class:`app.data.SnapKey`).
    build
        Builds the model (``geo.scoring.build_model`` of the snapshot).
    kind
        The model's class: a cached value of any other type is ignored.
    folder, variant, fingerprint
        As :func:`cache_path` (defaults: the score model).
    keep
        Other current files of the same folder that the pruning of older values must keep (the
        other languages and toggles of a map).
    """
    if not enabled() or not built_at or built_at == "unreadable":
        return build()
    path = cache_path(data, region, built_at, folder=folder, variant=variant,
                      fingerprint=fingerprint)
    value = _read(path)
    if isinstance(value, kind):
        return value  # type: ignore[return-value]
    model = build()
    _write(path, model, region, frozenset(p.name for p in keep))
    return model
