"""Thin cached wrappers around the engine: snapshot, score model, scores, rank bands, map.

Caches are keyed by (region, data dir, snapshot build time) so a rebuilt snapshot is picked up on the
next rerun. When scoring fails, the app shows the data without scores and says so. The engine is
imported as usual (``geo.scoring``, ``geo.sensitivity``): the map page needs scores on its first run
anyway, so deferring the import would not make the first page any faster.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import scoring, sensitivity
from geo.errors import LivabilityError, Renderable
from geo.regions import COUNTRY_KEY, region_key
from geo.settings import DEFAULT_REGION, data_dir
from geo.store import MANIFEST, Snapshot, list_snapshots, open_snapshot, snapshot_dir

__all__ = [
    "ScoreResult",
    "SnapKey",
    "current_key",
    "explanation",
    "get_layer",
    "get_model",
    "get_rank_bands",
    "get_scores",
    "get_snapshot",
    "national_key",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapKey:
    """Identifies one built snapshot (hashable, used as cache key)."""

    region: str
    data: str
    built_at: str


def current_key(region: str | None = None) -> SnapKey | None:
    """Return the key of the snapshot to show, or None when nothing is built.

    The region is ``region``, else ``LIVABILITY_REGION``, else Blekinge, else the first built one;
    a name is mapped to its store key as ``livability build`` does (``Skåne`` -> ``skane``).
    """
    root = data_dir()
    wanted = region or os.environ.get("LIVABILITY_REGION") or DEFAULT_REGION
    try:
        key = region_key(wanted)
        folder = snapshot_dir(key, root)
    except LivabilityError as exc:
        log.warning("LIVABILITY_REGION %s", exc)
        folder = None
    if folder is None:
        built = list_snapshots(root)
        if not built:
            return None
        key = built[0]
        folder = snapshot_dir(key, root)
        if folder is None:
            return None
    return _snap_key(key, root, folder)


def _snap_key(key: str, root: Path, folder: Path) -> SnapKey:
    """The cache key of snapshot ``key`` in ``folder``: its manifest's build time (one small read)."""
    try:
        built_at = str(json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("built_at", ""))
    except (OSError, json.JSONDecodeError, AttributeError):
        built_at = "unreadable"
    return SnapKey(key, str(root), built_at)


def national_key() -> SnapKey | None:
    """The key of the national snapshot (``sverige``) in the data folder, or None when it is not
    built. Reads the folder listing and one manifest; never the snapshot's layers."""
    root = data_dir()
    try:
        if COUNTRY_KEY not in list_snapshots(root):
            return None
        folder = snapshot_dir(COUNTRY_KEY, root)
    except (OSError, LivabilityError) as exc:
        log.warning("national snapshot: %s", exc)
        return None
    if folder is None:
        return None
    return _snap_key(COUNTRY_KEY, root, folder)


@st.cache_resource(show_spinner=False, max_entries=4)
def get_snapshot(key: SnapKey) -> Snapshot:
    """Open (and verify) the snapshot once per build."""
    return open_snapshot(key.region, Path(key.data))


@st.cache_resource(show_spinner=False, max_entries=4)
def get_model(key: SnapKey) -> scoring.ScoreModel:
    """Build the score model (accessibility per indicator) once per snapshot (and keep it on disk
    for the next server start: :mod:`app.model_cache`)."""
    from . import model_cache

    return model_cache.load_or_build(Path(key.data), key.region, key.built_at,
                                     lambda: scoring.build_model(get_snapshot(key)),
                                     scoring.ScoreModel)


@dataclass
class ScoreResult:
    """Scores for one weighting, or the reason there are none."""

    scores: scoring.Scores | None = None
    localities: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    #: why there are no scores, in English ("" when scored)
    error: str = ""
    #: the error's message, for :meth:`error_in` (None: free text, or no error)
    message: Renderable | None = None

    @property
    def ok(self) -> bool:
        """True when locality scores exist."""
        return self.localities is not None and len(self.localities) > 0

    def error_in(self, lang: str) -> str:
        """Why there are no scores, in ``lang`` when the error carried a message ("" when scored)."""
        return self.message.render(lang) if self.message is not None else self.error


@st.cache_resource(show_spinner=False, max_entries=32)
def _score(key: SnapKey, weights: tuple[tuple[str, float], ...]) -> ScoreResult:
    try:
        model = get_model(key)
        s = scoring.score(model, weights=dict(weights))
    except LivabilityError as exc:
        return ScoreResult(error=str(exc), message=exc.message)
    except Exception as exc:  # scoring is another team's module; never let it kill the page
        log.exception("scoring failed")
        return ScoreResult(error=f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    return ScoreResult(
        scores=s,
        localities=getattr(s, "localities", None),
        municipalities=getattr(s, "municipalities", None),
        cells=getattr(s, "cells", None),
    )


def get_scores(key: SnapKey, weights: dict[str, float]) -> ScoreResult:
    """Scores for ``weights`` (cached per weights tuple)."""
    return _score(key, tuple(sorted((k, float(v)) for k, v in weights.items())))


@st.cache_data(show_spinner=False, max_entries=32)
def _bands(key: SnapKey, weights: tuple[tuple[str, float], ...]) -> pd.DataFrame | None:
    try:
        df = sensitivity.rank_bands(get_model(key), dict(weights))
    except Exception:
        log.exception("rank bands failed")
        return None
    return pd.DataFrame(df)


def get_rank_bands(key: SnapKey, weights: dict[str, float]) -> pd.DataFrame | None:
    """Rank bands (rank_low, rank_high, top5_share) per place, or None when not available."""
    return _bands(key, tuple(sorted((k, float(v)) for k, v in weights.items())))


def explanation(key: SnapKey, result: ScoreResult, place: str) -> scoring.Explanation | None:
    """``geo.scoring.explain(...)`` (a :class:`geo.scoring.Explanation`) for ``place``, or None
    when not available."""
    if result.scores is None:
        return None
    try:
        exp = scoring.explain(get_model(key), result.scores, place)
    except Exception:
        log.exception("explain failed for %s", place)
        return None
    return exp


def get_layer(key: SnapKey, layer: str) -> gpd.GeoDataFrame:
    """One theme layer from the snapshot."""
    return get_snapshot(key).layer(layer)
