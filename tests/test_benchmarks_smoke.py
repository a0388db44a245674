"""Smoke test of the benchmark harness at tiny sizes (no timing assertions)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import kernel  # noqa: E402
from benchmarks.__main__ import main, run_suites  # noqa: E402
from benchmarks.harness import Row, format_table  # noqa: E402
from benchmarks.synthetic import synthetic_amenities, synthetic_network  # noqa: E402


def test_synthetic_network_is_deterministic_labelled_and_connected() -> None:
    a, b = synthetic_network(0.01), synthetic_network(0.01)
    assert a.nodes.equals(b.nodes) and a.edges.equals(b.edges)
    assert a.nodes["synthetic"].all() and a.edges["synthetic"].all()
    assert set(a.nodes.columns) >= {"node", "x", "y"}
    assert set(a.edges.columns) >= {"u", "v", "length", "highway", "maxspeed"}
    # over Blekinge's extent (jitter may step a few hundred metres past its edge), both directions
    # stored, no zero-length edges
    assert a.nodes["x"].between(14.38, 16.02).all() and a.nodes["y"].between(55.99, 56.46).all()
    assert a.nodes["x"].min() < 14.5 and a.nodes["x"].max() > 15.9
    assert len(a.edges) % 2 == 0 and (a.edges["length"] > 0).all()
    ids = set(a.nodes["node"])
    assert set(a.edges["u"]) <= ids and set(a.edges["v"]) <= ids
    am = synthetic_amenities(a, {"grocery": 5, "library": 3})
    assert am["kind"].value_counts().to_dict() == {"grocery": 5, "library": 3}
    assert am["name"].str.startswith("synthetic ").all() and am["synthetic"].all()


def test_full_size_parameters_give_blekinge_size() -> None:
    net = synthetic_network(1.0)
    assert 140_000 <= net.n_nodes <= 160_000
    assert 380_000 <= net.n_edges <= 430_000


def test_kernel_quick_rows_agree_with_networkx() -> None:
    rows = kernel.run(quick=True)
    names = [r.name for r in rows]
    assert any(n.startswith("kernel ours") for n in names)
    nx_row = next(r for r in rows if "networkx" in r.name)
    assert nx_row.extra["agree"] is True and nx_row.extra["max_abs_diff_m"] < 1.0
    assert nx_row.ratio is not None and math.isfinite(nx_row.ratio) and nx_row.ratio > 0
    for r in rows:
        assert all(t > 0 and math.isfinite(t) for t in r.times)


def test_quick_suite_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--only", "kernel", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kernel networkx multi_source_dijkstra" in out and "synthetic" in out
    payload = json.loads((tmp_path / "latest.json").read_text())
    assert payload["machine"]["nproc"] >= 1
    assert {r["name"] for r in payload["rows"]} >= {"kernel networkx multi_source_dijkstra"}
    for r in payload["rows"]:
        if r["runs"]:
            assert r["min_s"] <= r["median_s"] <= r["max_s"]


@pytest.mark.pack
@pytest.mark.slow
def test_quick_rescore_and_app(pack_dir: Path) -> None:
    rows = run_suites(["rescore", "app"], quick=True)
    names = [r.name for r in rows]
    assert not any("FAILED" in n for n in names), [r.note for r in rows]
    alt = next(r for r in rows if r.name.startswith("re-score: pandas"))
    assert alt.ratio is not None and np.isfinite(alt.ratio)
    assert alt.extra["max_abs_diff_localities"] < 1e-6 and alt.extra["ranks_equal"]
    payload = next(r for r in rows if r.name == "app: county map HTML payload")
    assert payload.extra["bytes"] > 10_000


def test_format_table_marks_missed_targets() -> None:
    rows = [Row("a", "synthetic", [0.5, 0.1, 0.3], target="< 1 s", met=True),
            Row("b", "synthetic", [], target="< 1 s", met=False, note="skipped")]
    text = format_table(rows)
    assert "300.0 ms" in text and "NO" in text and "[2] skipped" in text
