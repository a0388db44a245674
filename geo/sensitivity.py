"""Rank bands: how far a locality's rank moves under other reasonable weights and decays.

Each of ``n`` draws takes theme weights from a Dirichlet distribution centred on the chosen ones
(``alpha = concentration * w / sum(w)``; a larger concentration keeps draws closer) and one of the
alternative decay functions (cycled evenly over the draws). Themes weighted 0 stay at 0.

Vectorised: the locality theme scores are computed once per decay (they do not depend on theme
weights), then the composites of all draws of that decay are one matrix product; ranks come from a
column-wise argsort.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from layers.vocab import SENSITIVITY_DECAYS

from .scoring import ScoreModel, capped_composites, resolve_weights

__all__ = ["rank_bands"]

log = logging.getLogger(__name__)


def _ranks(comp: np.ndarray) -> np.ndarray:
    """Column-wise ranks, 1 = highest; NaN composites rank last."""
    key = np.where(np.isnan(comp), -np.inf, comp)
    order = np.argsort(-key, axis=0, kind="stable")
    ranks = np.empty_like(order)
    cols = np.arange(comp.shape[1])[None, :]
    ranks[order, cols] = np.arange(1, comp.shape[0] + 1)[:, None]
    return ranks


def rank_bands(model: ScoreModel, weights: dict[str, float] | None = None, *, n: int = 200,
               concentration: float = 20.0, seed: int = 0,
               decays: tuple[str, ...] = SENSITIVITY_DECAYS,
               persona: str | None = None, penalty: bool = False,
               quantiles: tuple[float, float] = (5.0, 95.0), top: int = 5) -> pd.DataFrame:
    """Rank band of every locality under perturbed weights and alternative decays.

    Parameters
    ----------
    model
        From :func:`geo.scoring.build_model`.
    weights, persona
        The chosen theme weights (as for :func:`geo.scoring.score`).
    n
        Number of draws.
    concentration
        Dirichlet concentration (sum of the alphas).
    seed
        Random seed (results are reproducible).
    decays
        Decay functions cycled over the draws (default
        :data:`layers.vocab.SENSITIVITY_DECAYS`: plateau, logistic, linear).
    penalty
        Use the Mazziotta-Pareto composite.
    quantiles
        Percentiles of the rank distribution reported as ``rank_low`` (best) and ``rank_high``.
    top
        ``top5_share`` counts the draws in which the locality ranks ``<= top``.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``rank_low``, ``rank_median``, ``rank_high``, ``top5_share`` (0-1),
        one row per locality in model order, indexed by ``code``.
    """
    if n < 1:
        raise ValueError(f"n={n}: need at least one draw")
    rng = np.random.default_rng(seed)
    w = resolve_weights(model.themes, weights, persona)
    active = w > 0
    alpha = concentration * w[active] / w[active].sum()
    draws = np.zeros((n, len(w)))
    draws[:, active] = rng.dirichlet(alpha, size=n)
    tm = model.theme_matrix
    ranks = np.empty((len(model.localities), n), dtype=np.int64)
    for k, dec in enumerate(decays):
        cols = np.arange(k, n, len(decays))
        if not len(cols):
            continue
        _, loc_scores = model.indicator_arrays(dec)
        _, comp, _ = capped_composites(loc_scores, tm, draws[cols], stat_mask=model.ind_stat,
                                       penalty=penalty)  # the same statistics cap as score()
        ranks[:, cols] = _ranks(comp)
    lo, hi = np.percentile(ranks, quantiles, axis=1)
    out = pd.DataFrame({
        "code": model.localities["code"].to_numpy(),
        "name": model.localities["name"].to_numpy(),
        "rank_low": np.floor(lo).astype(int),
        "rank_median": np.median(ranks, axis=1),
        "rank_high": np.ceil(hi).astype(int),
        "top5_share": (ranks <= top).mean(axis=1),
    }, index=model.localities.index)
    log.info("rank bands from %d draws x %d decays for %d localities", n, len(decays), len(out))
    return out


def attach_bands(scores_frame: pd.DataFrame, bands: pd.DataFrame) -> pd.DataFrame:
    """Join rank bands onto a localities score table (by ``code``; the table keeps its index)."""
    cols = ["code", "rank_low", "rank_median", "rank_high", "top5_share"]
    out = scores_frame.merge(bands[cols].reset_index(drop=True), on="code", how="left")
    return out.set_axis(scores_frame.index)
