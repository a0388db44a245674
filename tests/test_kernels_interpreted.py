"""The numba kernels run as plain Python, where numpy checks every index.

Compiled numba code does not check array bounds: a write past an array's end corrupts memory
silently (a ``ctr[1]`` on a one-element array did, in ``geo.ch``'s contraction). Run
interpreted (``NUMBA_DISABLE_JIT=1``, in a child process, since the switch is read at import),
the same calls raise ``IndexError`` instead, and their answers must still equal scipy's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent("""
    import numpy as np
    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra

    from geo import ch, reach

    rng = np.random.default_rng(7)
    n = 90
    u, v = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    ok = u != v
    w = rng.integers(1, 6, ok.sum()) * 10.0  # ties everywhere
    m = sparse.coo_matrix((w, (u[ok], v[ok])), shape=(n, n)).tocsr()
    exact = dijkstra(m, directed=True)
    sources = rng.integers(0, n, 25)
    offsets = rng.integers(0, 3, 25) * 10.0
    origins = np.arange(n)
    budgets = np.array([30.0, 80.0])
    want = np.stack([((exact[:, sources] + offsets) <= b).sum(axis=1) for b in budgets])
    for kw in ({}, {"resimulate": True}, {"hop_rule": (0.0, 2.0)}, {"compact": False},
               {"witness_limit": 2, "simulation_limit": 1}):
        h = ch.build(m.indptr, m.indices, m.data, **kw)
        got, _ = ch.counts_at(h, m.indptr, m.indices, m.data, origins, sources, offsets,
                              budgets)
        assert np.array_equal(got, want), kw
    got = reach.counts_at_origins(m.indptr, m.indices, m.data, origins, sources, offsets,
                                  budgets)
    assert np.array_equal(np.asarray(got), want)
    print("interpreted kernels agree")
""")


def test_kernels_interpreted_stay_in_bounds_and_agree_with_scipy() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "interpreted kernels agree" in proc.stdout
