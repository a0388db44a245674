"""Smoke test of the benchmark harness at tiny sizes (no timing assertions)."""

from __future__ import annotations

import importlib.util
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
from benchmarks.harness import Row, format_table, measure_interleaved, measure_rss  # noqa: E402
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


def test_main_fails_when_a_suite_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def broken(quick: bool) -> list[Row]:
        raise KeyError("w_transit")

    monkeypatch.setitem(SUITES, "kernel", lambda quick: _fake_suite(agree=True))
    monkeypatch.setitem(SUITES, "app_weights", broken)
    assert main(["--quick", "--only", "kernel", "--only", "app_weights",
                 "--out", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "app_weights: FAILED" in out.out and "fake reference" in out.out  # both rows shown
    assert out.err == "error: suite app_weights: KeyError: 'w_transit'\n"


@pytest.mark.pack
@pytest.mark.slow
def test_app_weights_drives_the_sidebar_as_the_app_draws_it(pack_dir: Path) -> None:
    """The AppTest part of ``app_weights`` on a store of the real pack: every step sets a
    weighting not seen before, and the run log gives a script time per run."""
    import shutil

    from benchmarks import app_weights

    data = app_weights._build_store()
    try:
        t = app_weights.time_weight_changes(data, 2)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    assert len(t.script_s) == 2 and all(s > 0 for s in t.script_s + t.rerun_script_s)
    assert t.distinct == 2


@pytest.mark.slow
def test_quick_kernel_suite_runs_and_agrees(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The real kernel suite at its tiny size, through `python -m benchmarks --quick`."""
    assert main(["--quick", "--only", "kernel", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kernel networkx multi_source_dijkstra" in out and "SYNTHETIC" in out
    assert "peak RSS MiB" in out
    rows = json.loads((tmp_path / "latest.json").read_text())["rows"]
    by_name = {r["name"]: r for r in rows}
    ours = by_name["kernel ours: 50 sources -> all nodes"]
    # peak RSS of a fresh child: at least an interpreter with numpy/scipy/pandas loaded
    assert ours["peak_rss_mb"] is not None and ours["peak_rss_mb"] > 50
    nx_row = by_name["kernel networkx multi_source_dijkstra"]
    assert nx_row["extra"]["agree"] is True and nx_row["extra"]["max_abs_diff_m"] <= 1e-6
    assert nx_row["ratio"] is not None and math.isfinite(nx_row["ratio"]) and nx_row["ratio"] > 0
    assert nx_row["ratio_vs"] == "networkx/ours (query)"
    assert "outside the timing" in nx_row["note"]
    for lib, title in (("igraph", "kernel python-igraph Graph.distances (C)"),
                       ("networkit", "kernel networkit distance.Dijkstra (C++)")):
        row = by_name[title]
        if importlib.util.find_spec(lib) is None:
            assert f"{lib} not installed" in row["note"] and row["runs"] == 0
            continue
        assert row["extra"]["agree"] is True and row["extra"]["max_abs_diff_m"] <= 1e-6
        assert row["ratio_vs"] == f"{lib}/ours (query)" and row["peak_rss_mb"] > 50
    if importlib.util.find_spec("pandana") is None:
        assert "pandana not installed" in by_name["kernel pandana (build+query)"]["note"]
    else:
        for case in ("800 m", "2,400 m (30 min walk)", "whole network"):
            both = by_name[f"kernel pandana build+query, {case}"]
            assert both["extra"]["agree"] is True and both["ratio_vs"] == \
                "pandana/ours (build+query)"
            assert by_name[f"kernel pandana query only, {case}"]["ratio_vs"] == \
                "pandana/ours (query)"
    for r in rows:
        assert all(t > 0 and math.isfinite(t) for t in r["times"])
        if r["runs"]:
            assert r["min_s"] <= r["median_s"] <= r["max_s"]


def test_measure_rss_reads_the_peak_of_a_fresh_child() -> None:
    """80 MB of numpy in the child shows in its peak RSS; the parent's memory does not."""
    big = measure_rss(np.ones, 10_000_000)  # 10M float64 = 76.3 MiB
    assert big.error == "" and big.reset is True
    assert big.peak_mib is not None and big.base_mib is not None
    assert 70 <= big.peak_mib - big.base_mib <= 120
    assert "peak RSS" in big.describe() and "fresh child" in big.describe()
    # with a setup, the peak is reset after it: the array built by setup is in the base
    held = measure_rss(np.sum, 10_000_000, setup=np.ones)
    assert held.peak_mib is not None and held.base_mib is not None
    # (measured in the same child: fresh children's own bases differ by up to 40 MiB)
    assert held.peak_mib - held.base_mib < 20 and held.setup_mib is not None
    assert 70 <= held.base_mib - held.setup_mib <= 120


def test_measure_rss_reports_a_failing_child() -> None:
    res = measure_rss(math.sqrt, -1.0)
    assert res.peak_mib is None and res.error == "ValueError: math domain error"
    assert res.describe() == "peak RSS not measured: child failed (ValueError: math domain error)"


def test_measure_interleaved_runs_round_robin() -> None:
    calls: list[str] = []
    out = measure_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"),
                               "c": lambda: calls.append("c")}, {"a": 3, "b": 3, "c": 1},
                              warmup=0)
    assert calls == ["a", "b", "c", "b", "a", "a", "b"]
    assert [len(out[k]) for k in "abc"] == [3, 3, 1]


def test_agreement_check_catches_small_and_reachability_differences() -> None:
    ours = np.array([0.0, 100.0, 250.0, np.inf])
    assert kernel.agree(ours, ours + np.array([0, 0, 5e-7, 0]), kernel.TOL_M)[1] is True
    diff, ok, bad = kernel.agree(ours, ours + np.array([0, 0, 2e-6, 0]), kernel.TOL_M)
    assert not ok and bad == 0 and diff == pytest.approx(2e-6)
    diff, ok, bad = kernel.agree(ours, np.array([0.0, 100.0, np.inf, np.inf]), kernel.TOL_M)
    assert not ok and bad == 1
    # with a limit, a node on the limit (within the tolerance) may be reached by one side only
    lim = np.array([0.0, 100.0, 800.0, np.inf])
    assert kernel.agree(lim, np.array([0.0, 100.0, np.inf, np.inf]), 0.05, limit=800.0)[1]
    assert not kernel.agree(lim, np.array([0.0, np.inf, np.inf, np.inf]), 0.05, limit=800.0)[1]


@pytest.mark.parametrize("lib", ["igraph", "networkit"])
def test_c_libraries_agree_with_ours_on_a_small_graph(lib: str) -> None:
    """igraph and networkit, from a 0 m super-source, give our distances on the seeded network."""
    pytest.importorskip(lib)
    from geo.network import StreetGraph

    syn = kernel.synthetic_walk(0.01)
    g = StreetGraph.from_frames(syn.nodes, syn.edges, mode="walk")
    sources = np.random.default_rng(42).choice(g.n_nodes, size=kernel.N_SOURCES, replace=False)
    ours = g.distances_from(sources)
    if lib == "igraph":
        theirs = kernel._igraph_to_array(kernel._igraph_query(
            kernel.igraph_graph(syn, g.node_ids, sources)))
    else:
        theirs = kernel._networkit_to_array(kernel._networkit_query(
            kernel.networkit_graph(syn, g.node_ids, sources)))
    assert theirs.shape == ours.shape
    diff, ok, bad = kernel.agree(ours, theirs, kernel.TOL_M)
    assert ok and bad == 0 and diff <= 1e-6


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


def test_format_table_shows_rss_and_keeps_traced_peaks_out_of_the_column() -> None:
    rows = [Row("rss row", "synthetic", [0.1], peak_rss_mb=412.4),
            Row("traced row", "synthetic", [0.1], peak_mb=7.4, note="old suite")]
    text = format_table(rows)
    lines = text.splitlines()
    assert "peak RSS MiB" in lines[0]
    assert " 412 " in lines[2] and " 7.4 " not in lines[3]
    assert ("[2] old suite; peak RSS not measured; tracemalloc peak 7.4 MiB (Python and numpy "
            "allocations only)") in text
