"""Rank bands on the synthetic snapshot of test_scoring (invented places and data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _score_fixtures import make_snapshot

from geo.scoring import build_model, score
from geo.sensitivity import _ranks, attach_bands, rank_bands
from geo.store import open_snapshot


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data: Path = tmp_path_factory.mktemp("synth-sens")
    make_snapshot(data)
    return build_model(open_snapshot("synth", data))


def test_ranks_columnwise() -> None:
    comp = np.array([[10.0, 1.0], [30.0, np.nan], [20.0, 5.0]])
    assert _ranks(comp).tolist() == [[3, 2], [1, 3], [2, 1]]


def test_bands_shape_order_and_reproducible(model) -> None:  # type: ignore[no-untyped-def]
    b1 = rank_bands(model, persona="family", n=120, seed=3)
    b2 = rank_bands(model, persona="family", n=120, seed=3)
    pd.testing.assert_frame_equal(b1, b2)
    assert b1["code"].tolist() == ["T1", "T2", "T3"]
    assert (b1["rank_low"] <= b1["rank_median"]).all()
    assert (b1["rank_median"] <= b1["rank_high"]).all()
    assert b1["rank_low"].min() == 1 and b1["rank_high"].max() <= 3
    assert (b1["top5_share"] == 1.0).all()  # only three places: always in the top 5


def test_tight_concentration_collapses_to_the_rank(model) -> None:  # type: ignore[no-untyped-def]
    base = score(model, persona="commuter").localities.set_index("code")["rank"]
    bands = rank_bands(model, persona="commuter", n=30, concentration=1e7,
                       decays=("plateau",)).set_index("code")
    assert (bands["rank_low"] == base).all() and (bands["rank_high"] == base).all()
    top1 = rank_bands(model, persona="commuter", n=30, concentration=1e7, decays=("plateau",),
                      top=1).set_index("code")["top5_share"]
    assert top1[base.idxmin()] == 1.0 and top1.sum() == pytest.approx(1.0)


def test_loose_weights_and_decays_widen_bands(model) -> None:  # type: ignore[no-untyped-def]
    tight = rank_bands(model, n=200, concentration=1e6, decays=("plateau",))
    loose = rank_bands(model, n=200, concentration=1.0)
    assert (loose["rank_high"] - loose["rank_low"]).sum() > (tight["rank_high"] - tight["rank_low"]).sum()


def test_attach_bands(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model)
    merged = attach_bands(s.localities, rank_bands(model, n=20))
    assert {"rank_low", "rank_high", "top5_share"} <= set(merged.columns)
    assert len(merged) == len(s.localities)
