"""The score model on disk, so a server start does not rebuild it (seconds) for an unchanged build.

:func:`app.data.get_model` keeps the model in memory for the server's life; this module adds a
pickle under ``<data dir>/cache/models/`` written atomically (temporary file, then
``os.replace``), named after everything the model depends on: the snapshot (region and build
time), the engine's code (``geo/`` and ``layers/`` sources) and the Python, numpy and pandas
versions. Any change gives a new name, so a stale model is never read; an unreadable or foreign
file is ignored (the model is rebuilt). The file is the app's own cache in the user's data folder,
like the downloads under ``data/cache/``; ``LIVABILITY_MODEL_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

__all__ = ["cache_path", "code_fingerprint", "enabled", "load_or_build"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_ROOT = Path(__file__).resolve().parents[1]
#: marks a file as this cache's (checked before the model is used)
_MAGIC = "livability-score-model/1"


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


def enabled() -> bool:
    """False when ``LIVABILITY_MODEL_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("LIVABILITY_MODEL_CACHE", "1").strip().lower() not in {
        "0", "false", "no", "off"}


def cache_path(data: Path, region: str, built_at: str) -> Path:
    """Where the model of ``region`` built at ``built_at`` is kept for this code."""
    stamp = hashlib.sha256(f"{region}|{built_at}|{code_fingerprint()}".encode()).hexdigest()[:24]
    return data / "cache" / "models" / f"{region}-{stamp}.pickle"


def _read(path: Path) -> object | None:
    try:
        with path.open("rb") as fh:
            magic, value = pickle.load(fh)  # the app's own file, see the module doc
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated, foreign or from another library version: rebuild
        log.warning("score model cache %s unreadable (%s): rebuilding", path.name, exc)
        return None
    return value if magic == _MAGIC else None


def _write(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((_MAGIC, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except Exception as exc:  # a read-only data folder: the app works, only slower to start
        log.warning("score model cache not written to %s: %s", path.parent, exc)


def load_or_build(data: Path, region: str, built_at: str, build: Callable[[], T],
                  kind: type) -> T:
    """The cached model of this snapshot and code, else ``build()`` (then cached).

    Parameters
    ----------
    data, region, built_at
        The snapshot's data folder, region key and build time (:class:`app.data.SnapKey`).
    build
        Builds the model (``geo.scoring.build_model`` of the snapshot).
    kind
        The model's class: a cached value of any other type is ignored.
    """
    if not enabled() or not built_at or built_at == "unreadable":
        return build()
    path = cache_path(data, region, built_at)
    value = _read(path)
    if isinstance(value, kind):
        return value  # type: ignore[return-value]
    model = build()
    _write(path, model)
    return model
