"""Smoke test of the benchmark harness at tiny sizes (no timing assertions)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import kernel  # noqa: E402
from benchmarks.__main__ import SUITES, main, run_suites  # noqa: E402
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


def test_kernel_agrees_with_networkx_on_a_small_graph() -> None:
    """Our kernel and networkx give the same distances (the timed comparison is in `make bench`)."""
    from geo.network import StreetGraph

    # a hand-made graph: a parallel edge (the cheaper one counts), a detour shorter than the direct
    # edge, and node 5 unreachable
    nodes = pd.DataFrame({"node": [1, 2, 3, 4, 5], "x": [15.0, 15.001, 15.002, 15.003, 15.01],
                          "y": [56.2] * 5})
    uv = [(1, 2, 100.0), (1, 2, 70.0), (2, 3, 50.0), (1, 3, 200.0), (3, 4, 30.0)]
    one_way = pd.DataFrame(uv, columns=["u", "v", "length"]).assign(highway="footway")
    edges = pd.concat([one_way, one_way.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    net = kernel.Network("hand-made", nodes, edges)
    g = StreetGraph.from_frames(nodes, edges, mode="walk")
    ours = g.distances_from(np.array([0]))
    assert ours.tolist() == [0.0, 70.0, 120.0, 150.0, math.inf]
    ref = kernel.nx_distances(kernel.nx_graph(net), np.array([1]), g.node_ids)
    assert ref.tolist() == ours.tolist()

    # the synthetic network the benchmark uses, at its smallest size: 50 seeded sources
    syn = kernel.synthetic_walk(0.01)
    g = StreetGraph.from_frames(syn.nodes, syn.edges, mode="walk")
    sources = np.random.default_rng(42).choice(g.n_nodes, size=kernel.N_SOURCES, replace=False)
    ours = g.distances_from(sources)
    ref = kernel.nx_distances(kernel.nx_graph(syn), g.node_ids[sources], g.node_ids)
    assert g.n_nodes > 1000 and np.isfinite(ours).all()
    assert np.array_equal(np.isfinite(ours), np.isfinite(ref))
    assert np.max(np.abs(ours - ref)) < 1e-6


def _fake_suite(agree: bool) -> list[Row]:
    return [Row("fake ours", "synthetic", [0.002, 0.001, 0.003], target="< 1 s", met=True),
            Row("fake reference", "synthetic", [0.02], ratio=10.0, ratio_vs="reference/ours",
                note="agreement checked", extra={"agree": agree})]


def test_main_prints_the_table_and_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(SUITES, "kernel", lambda quick: _fake_suite(agree=True))
    assert main(["--quick", "--only", "kernel", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "fake reference" in captured.out and "10.0x reference/ours" in captured.out
    assert "[2] agreement checked" in captured.out and captured.err == ""
    payload = json.loads((tmp_path / "latest.json").read_text())
    assert payload["machine"]["nproc"] >= 1
    assert [r["name"] for r in payload["rows"]] == ["fake ours", "fake reference"]
    ours = payload["rows"][0]
    assert (ours["min_s"], ours["median_s"], ours["max_s"], ours["runs"]) == (0.001, 0.002, 0.003, 3)


def test_main_fails_when_a_comparison_disagrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(SUITES, "kernel", lambda quick: _fake_suite(agree=False))
    assert main(["--quick", "--only", "kernel", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "error: results differ from ours in 1 comparison(s): fake reference (synthetic); "
        "see the notes above\n")


@pytest.mark.slow
def test_quick_kernel_suite_runs_and_agrees(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The real kernel suite at its tiny size, through `python -m benchmarks --quick`."""
    assert main(["--quick", "--only", "kernel", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kernel networkx multi_source_dijkstra" in out and "synthetic" in out
    rows = json.loads((tmp_path / "latest.json").read_text())["rows"]
    assert any(r["name"].startswith("kernel ours") for r in rows)
    nx_row = next(r for r in rows if "networkx" in r["name"])
    assert nx_row["extra"]["agree"] is True and nx_row["extra"]["max_abs_diff_m"] < 1.0
    assert nx_row["ratio"] is not None and math.isfinite(nx_row["ratio"]) and nx_row["ratio"] > 0
    for r in rows:
        assert all(t > 0 and math.isfinite(t) for t in r["times"])
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
