"""score()'s precomputed kernel (issue 11, item 3): same values as a plain per-row reference,
sort-based ranks and percentiles equal to their definitions, the kernel rebuilt when the model's
frames are replaced, result frames that cannot change the model.

The models are SYNTHETIC (benchmarks.rescore.synthetic_model: random scores with gaps, statistics
per municipality, missing and partial indicators).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.rescore import dense_check, pandas_score, synthetic_model  # noqa: E402
from geo.scoring import (  # noqa: E402
    STAT_CAP,
    _rank,
    capped_composites,
    compose_share,
    percentiles,
    resolve_weights,
    score,
)


def _reference_row(s: np.ndarray, ind_theme: np.ndarray, ind_w: np.ndarray, stat: np.ndarray,
                   done: np.ndarray, w: np.ndarray, penalty: bool) -> tuple[float, float, float]:
    """Composite, statistics' share and complete share of one row, written out theme by theme
    from the module notes (the statistics capped at STAT_CAP in mixed themes and in the
    composite)."""
    themes, sig = {}, {}
    comp_num = comp_den = 0.0
    for t in range(len(w)):
        sel = (ind_theme == t) & ~np.isnan(s) & (ind_w > 0)
        if not sel.any():
            continue
        loc, st = sel & ~stat, sel & stat
        wl, ws = ind_w[loc].sum(), ind_w[st].sum()
        local = (s[loc] * ind_w[loc]).sum() / wl if wl else 0.0
        stv = (s[st] * ind_w[st]).sum() / ws if ws else 0.0
        sigma = 0.0 if not ws else (1.0 if not wl else min(ws / (wl + ws), STAT_CAP))
        themes[t] = ((1 - sigma) * local + sigma * stv, local, stv)
        sig[t] = sigma
        comp_num += w[t] * ind_w[sel & done].sum() / ind_w[sel].sum()
        comp_den += w[t]
    wsum = sum(w[t] for t in themes)
    if not wsum:
        return math.nan, math.nan, math.nan
    loc_w = sum(w[t] * (1 - sig[t]) for t in themes)
    stat_w = sum(w[t] * sig[t] for t in themes)
    natural = stat_w / wsum
    share = STAT_CAP if natural > STAT_CAP and loc_w > 0 else natural
    lc = sum(w[t] * (1 - sig[t]) * themes[t][1] for t in themes) / loc_w if loc_w else 0.0
    sc = sum(w[t] * sig[t] * themes[t][2] for t in themes) / stat_w if stat_w else 0.0
    comp = (1 - share) * lc + share * sc
    if penalty:
        m1 = sum(w[t] * themes[t][0] for t in themes) / wsum
        m2 = sum(w[t] * themes[t][0] ** 2 for t in themes) / wsum
        if comp > 0:
            comp = max(comp - max(m2 - m1 ** 2, 0.0) / comp, 0.0)
    return comp, share, comp_num / comp_den


def _reference(arr: np.ndarray, model, w: np.ndarray, penalty: bool) -> np.ndarray:
    return np.array([_reference_row(row, model.ind_theme, model.ind_weight, model.ind_stat,
                                    model.ind_complete, w, penalty) for row in arr])


@pytest.fixture(scope="module")
def model():
    return synthetic_model(3000, seed=11)


WEIGHTS = [None, {"housing": 3.0, "schools": 0.0, "transit": 2.5},
           {t: 0.0 for t in ("schools", "transit", "nature", "services", "culture")}]


@pytest.mark.parametrize("penalty", [False, True])
@pytest.mark.parametrize("wi", range(len(WEIGHTS)))
def test_score_equals_the_per_row_reference(model, wi: int, penalty: bool) -> None:
    weights = WEIGHTS[wi]
    w = resolve_weights(model.themes, weights)
    s = score(model, weights, penalty=penalty)
    cell_arr, loc_arr = model.indicator_arrays()
    for arr, frame in ((cell_arr, s.cells), (loc_arr, s.localities)):
        ref = _reference(arr, model, w, penalty)
        got = frame[["composite", "stat_share", "complete_share"]].to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(ref))
        assert np.nanmax(np.abs(got - ref)) < 1e-12
    if wi == 2:  # housing (statistics only) + workplaces: the composite cap binds
        assert np.nanmax(s.localities["stat_share"]) == pytest.approx(STAT_CAP)
    # ranks: scipy's "min" method on the composites (NaN: unranked)
    lc = s.localities["composite"].to_numpy()
    ok = ~np.isnan(lc)
    assert np.array_equal(s.localities["rank"].to_numpy()[ok], rankdata(-lc[ok], method="min"))
    # municipalities: population-weighted means of their localities (NaN-aware)
    L = s.localities.assign(w=model.localities["population"])
    L = L[L["composite"].notna()]
    by = L.groupby("municipality")
    exp = by.apply(lambda g: np.average(g["composite"], weights=g["w"]) if g["w"].sum() > 0
                   else g["composite"].mean(), include_groups=False)
    got_m = s.municipalities.set_index("code")["composite"].reindex(exp.index)
    assert np.max(np.abs(got_m.to_numpy() - exp.to_numpy())) < 1e-12


def test_score_agrees_with_the_pandas_version_and_the_dense_path(model) -> None:
    w = {"housing": 2.0, "culture": 0.5, "workplaces": 3.0}
    s = score(model, w)
    alt = pandas_score(model, dict(s.weights))
    assert np.nanmax(np.abs(s.cells["composite"].to_numpy()
                            - alt["cells"]["composite"].to_numpy())) < 1e-12
    assert np.array_equal(s.localities["rank"].to_numpy(), alt["localities"]["rank"].to_numpy(),
                          equal_nan=True)
    d_cell, d_loc, same = dense_check(model, s, w)
    assert d_cell < 1e-12 and d_loc < 1e-12 and same


def test_many_weightings_at_once_equal_one_at_a_time(model) -> None:
    """capped_composites with a matrix of weightings (rank bands) = compose_share per weighting."""
    _, loc_arr = model.indicator_arrays()
    draws = np.random.default_rng(3).dirichlet(np.ones(len(model.themes)), size=7)
    for penalty in (False, True):
        _, comp, share = capped_composites(loc_arr, model.theme_matrix, draws,
                                           stat_mask=model.ind_stat, penalty=penalty)
        for k, d in enumerate(draws):
            _, c1, s1 = compose_share(loc_arr, model.theme_matrix, d, penalty=penalty,
                                      stat_mask=model.ind_stat)
            assert np.nanmax(np.abs(comp[:, k] - c1)) < 1e-12
            assert np.nanmax(np.abs(share[:, k] - s1)) < 1e-12


def test_rank_is_scipys_min_rank_with_ties_and_nan() -> None:
    v = np.array([3.0, np.nan, 5.0, 3.0, 5.0, -1.0, np.nan, 0.0])
    assert _rank(v).tolist()[:6] == [3.0, pytest.approx(math.nan, nan_ok=True), 1.0, 3.0, 1.0,
                                     6.0]
    assert np.isnan(_rank(v)[[1, 6]]).all() and _rank(v)[7] == 5.0
    x = np.random.default_rng(0).integers(0, 20, 500).astype(float)
    assert np.array_equal(_rank(x), rankdata(-x, method="min"))
    assert _rank(np.zeros(0)).shape == (0,)


def test_percentiles_equal_the_pairwise_definition() -> None:
    rng = np.random.default_rng(1)
    v = rng.integers(0, 30, 400).astype(float)
    v[rng.random(400) < 0.1] = np.nan
    g = rng.choice(["town", "village", "solo"], 400, p=[0.6, 0.4 - 1 / 400, 1 / 400])
    got = percentiles(v, g)
    exp = np.full(len(v), np.nan)
    for key in np.unique(g):
        idx = np.flatnonzero((g == key) & ~np.isnan(v))
        if len(idx) < 2:
            continue
        x = v[idx]
        below = (x[None, :] < x[:, None]).sum(axis=1)
        ties = (x[None, :] == x[:, None]).sum(axis=1) - 1
        exp[idx] = 100.0 * (below + 0.5 * ties) / (len(idx) - 1)
    assert np.array_equal(got, exp, equal_nan=True)


def test_kernel_is_reused_and_rebuilt_when_the_frames_are_replaced(model) -> None:
    score(model)
    k = model.kernel()
    score(model, {"nature": 2.0})
    assert model.kernel() is k  # same frames: the precomputed state is reused
    bumped = dataclasses.replace(model, loc_scores=model.loc_scores.clip(upper=50.0))
    assert bumped.kernel() is not k
    before = score(model).localities["composite"]
    after = score(bumped).localities["composite"]
    assert (after <= 50.0 + 1e-9).all() and not np.allclose(before, after, equal_nan=True)
    assert score(model).localities["composite"].equals(before)


def test_result_frames_cannot_change_the_model_or_the_next_result(model) -> None:
    s1 = score(model)
    snap_cells = model.cells.copy()
    theme0 = s1.cells[f"theme:{model.themes[0]}"].copy()
    s1.cells.loc[s1.cells.index[0], "h3"] = "changed"
    s1.cells[f"theme:{model.themes[0]}"] = -1.0
    s1.localities.loc[s1.localities.index[0], "name"] = "changed"
    s2 = score(model)
    assert s2.cells["h3"].iloc[0] == model.cells["h3"].iloc[0] != "changed"
    assert s2.cells[f"theme:{model.themes[0]}"].equals(theme0)
    assert s2.localities["name"].iloc[0] == model.localities["name"].iloc[0]
    pd.testing.assert_frame_equal(model.cells, snap_cells)
    # the frames keep the Scores API: keyed by place, the model's columns and dtypes
    assert s2.cells.index.equals(model.cells.index)
    assert s2.localities.index.equals(model.localities.index)
    assert list(s2.cells.columns[:7]) == ["h3", "locality", "municipality", "place_type",
                                          "weight", "lon", "lat"]
    assert s2.cells["composite"].dtype == np.float64
