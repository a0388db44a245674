"""Contraction hierarchies and bucket many-to-many counts within a budget (numba).

"Workplaces within 30 min by car" needs, per scored origin (cells and localities), how many
workplaces lie within the budget. One bounded Dijkstra per origin (:mod:`geo.reach`) settles a
quarter of the network each time when the budget is 30 min by car. Here the work is shared:

1. :func:`build` contracts the graph once (node order by edge difference + contracted neighbours
   + hierarchy depth, lazy updates, neighbours re-evaluated after each contraction; witness
   searches bounded by the shortcut's cost and a number of settled nodes: a witness search that
   gives up only adds a shortcut that is not needed, never a wrong one). The result, a
   :class:`Hierarchy`, is an upward graph (edges to higher-ranked nodes) and a downward graph
   stored backwards (edges from higher-ranked nodes, by their head).
2. :func:`counts` (Knopp et al. 2007, bucket-based many-to-many): a backward upward search from
   every distinct source node, pruned at the budget, leaves ``(source, distance)`` in a bucket at
   every node it settles; then a forward upward search from every distinct origin, pruned at the
   budget, scans the buckets of the nodes it settles (sorted by distance, so the scan stops at the
   first entry beyond the budget). Per origin the best meeting distance to every source is kept
   in a dense array over the sources (reset through a touched list), then thresholded with the
   sources' offsets. Both searches stall on demand.

Exactness and ties
------------------
A distance through the hierarchy is a float sum of the same edge costs as a plain Dijkstra's, in
another order (shortcuts are summed first), so it can differ by a few units in the last place.
Every (origin, source) decision with ``|distance + offset - budget| <= tol`` is therefore not
taken here: the origin is flagged, and its counts come from :mod:`geo.reach`'s exact bounded
Dijkstra (which equals ``scipy.sparse.csgraph.dijkstra`` bit for bit). ``tol`` is
:func:`tolerance`: ``max(1e-9, 8 n 2**-53) * budget`` for ``n`` nodes, more than twice the
worst-case error of summing up to ``n`` non-negative terms in any order. Outside that band both
computations take the same side of the budget, so the counts are exactly today's, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["Hierarchy", "build", "counts", "counts_at", "tolerance"]

#: Settled nodes after which a witness search gives up (then the shortcut is added).
WITNESS_SETTLE_LIMIT = 60
#: The same for the searches that only estimate a node's priority.
SIMULATION_SETTLE_LIMIT = 12


@dataclass(frozen=True)
class Hierarchy:
    """A contraction hierarchy of one directed graph (internal node order of the caller).

    Attributes
    ----------
    rank
        Contraction order of every node (higher: contracted later, more important).
    up_ptr, up_idx, up_w
        CSR of the upward edges ``u -> v`` (``rank[v] > rank[u]``), by tail ``u``.
    dn_ptr, dn_idx, dn_w
        CSR of the downward edges ``u -> v`` (``rank[u] > rank[v]``), by head ``v``: row ``v``
        lists the tails ``u``.
    shortcuts
        Number of shortcut edges added.
    """

    rank: np.ndarray
    up_ptr: np.ndarray
    up_idx: np.ndarray
    up_w: np.ndarray
    dn_ptr: np.ndarray
    dn_idx: np.ndarray
    dn_w: np.ndarray
    shortcuts: int

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.rank)


# -- heaps ------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _push(hd: np.ndarray, hv: np.ndarray, size: int, d: float, v: int) -> int:  # pragma: no cover
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hd[p] > d:
            hd[i] = hd[p]
            hv[i] = hv[p]
            i = p
        else:
            break
    hd[i] = d
    hv[i] = v
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _pop(hd: np.ndarray, hv: np.ndarray, size: int) -> int:  # pragma: no cover - compiled
    """Remove the root (read ``hd[0]``, ``hv[0]`` before); returns the new size."""
    size -= 1
    if size > 0:
        ld = hd[size]
        lv = hv[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hd[c + 1] < hd[c]:
                c += 1
            if hd[c] < ld:
                hd[i] = hd[c]
                hv[i] = hv[c]
                i = c
            else:
                break
        hd[i] = ld
        hv[i] = lv
    return size


# -- contraction ------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _witness(ohead: np.ndarray, onext: np.ndarray, ev: np.ndarray, ew: np.ndarray,
             done: np.ndarray, skip: int, src: int, bound: float, limit: int,
             dist: np.ndarray, touched: np.ndarray, hd: np.ndarray,
             hv: np.ndarray, tgt: np.ndarray, n_tgt: int) -> int:  # pragma: no cover - compiled
    """Dijkstra from ``src`` over uncontracted nodes but ``skip``, up to ``bound``/``limit``.

    Stops as well once the ``n_tgt`` nodes marked ``tgt[x] == skip`` (other than ``src``) are
    settled. Leaves ``dist`` set on ``touched[:k]`` (returned ``k``); the caller resets them.
    """
    k = 0
    size = _push(hd, hv, 0, 0.0, src)
    dist[src] = 0.0
    touched[k] = src
    k += 1
    settled = 0
    while size > 0:
        d = hd[0]
        u = hv[0]
        size = _pop(hd, hv, size)
        if d > dist[u]:
            continue
        if d > bound or settled >= limit:
            break
        settled += 1
        if tgt[u] == skip and u != src:
            n_tgt -= 1
            if n_tgt <= 0:
                break
        e = ohead[u]
        while e >= 0:
            v = ev[e]
            if not done[v] and v != skip:
                nd = d + ew[e]
                if nd <= bound and nd < dist[v]:
                    if dist[v] == np.inf:
                        if k >= len(touched):
                            return k
                        touched[k] = v
                        k += 1
                    dist[v] = nd
                    if size >= len(hd):
                        return k
                    size = _push(hd, hv, size, nd, v)
            e = onext[e]
    return k


@njit(cache=True, nogil=True)
def _shortcuts(v: int, ohead: np.ndarray, onext: np.ndarray, ihead: np.ndarray,
               inext: np.ndarray, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray,
               done: np.ndarray, limit: int, dist: np.ndarray, touched: np.ndarray,
               hd: np.ndarray, hv: np.ndarray, out_u: np.ndarray, out_w: np.ndarray,
               out_c: np.ndarray, tgt: np.ndarray) -> tuple[int, int]:  # pragma: no cover - compiled
    """Shortcuts that contracting ``v`` needs, in ``out_*[:s]``; returns ``(s, live degree)``.

    The lists of uncontracted nodes hold only edges between uncontracted nodes (:func:`_prune`).
    """
    n_out = 0
    max_out = 0.0
    e = ohead[v]
    while e >= 0:
        n_out += 1
        tgt[ev[e]] = v
        if ew[e] > max_out:
            max_out = ew[e]
        e = onext[e]
    n_in = 0
    s = 0
    ei = ihead[v]
    while ei >= 0:
        n_in += 1
        u = eu[ei]
        a = ew[ei]
        ei = inext[ei]
        if n_out == 0:
            continue
        k = _witness(ohead, onext, ev, ew, done, v, u, a + max_out, limit, dist, touched,
                     hd, hv, tgt, n_out - (1 if tgt[u] == v else 0))
        eo = ohead[v]
        while eo >= 0:
            w = ev[eo]
            if w != u and dist[w] > a + ew[eo]:
                if s < len(out_u):
                    out_u[s] = u
                    out_w[s] = w
                    out_c[s] = a + ew[eo]
                s += 1
            eo = onext[eo]
        for t in range(k):
            dist[touched[t]] = np.inf
    e = ohead[v]
    while e >= 0:
        tgt[ev[e]] = -1
        e = onext[e]
    return s, n_in + n_out


@njit(cache=True, nogil=True)
def _unlink_dead(head: np.ndarray, nxt: np.ndarray, other: np.ndarray, done: np.ndarray,
                 x: int) -> None:  # pragma: no cover - compiled
    """Drop from ``x``'s list the edges whose other end is contracted."""
    prev = -1
    e = head[x]
    while e >= 0:
        f = nxt[e]
        if done[other[e]]:
            if prev < 0:
                head[x] = f
            else:
                nxt[prev] = f
        else:
            prev = e
        e = f


@njit(cache=True, nogil=True)
def _prune(v: int, ohead: np.ndarray, onext: np.ndarray, ev: np.ndarray, ihead: np.ndarray,
           inext: np.ndarray, eu: np.ndarray, done: np.ndarray) -> None:  # pragma: no cover
    """After contracting ``v``: its live neighbours forget their edges to contracted nodes."""
    e = ohead[v]
    while e >= 0:
        x = ev[e]
        if not done[x]:
            _unlink_dead(ohead, onext, ev, done, x)
            _unlink_dead(ihead, inext, eu, done, x)
        e = onext[e]
    e = ihead[v]
    while e >= 0:
        x = eu[e]
        if not done[x]:
            _unlink_dead(ohead, onext, ev, done, x)
            _unlink_dead(ihead, inext, eu, done, x)
        e = inext[e]


@njit(cache=True, nogil=True)
def _grow(a: np.ndarray, cap: int) -> np.ndarray:  # pragma: no cover - compiled
    b = np.empty(cap, dtype=a.dtype)
    b[:len(a)] = a
    return b


@njit(cache=True, nogil=True)
def _contract(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
              limit: int, sim: int, resim: bool, stats: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Contract every node; returns ``(rank, eu, ev, ew, edges, shortcuts)``.

    ``stats[0]`` counts the priority simulations and contractions, ``stats[1]`` the contractions.
    """  # pragma: no cover
    n = len(indptr) - 1
    m = len(indices)
    cap = 2 * m + 16
    eu = np.empty(cap, dtype=np.int64)
    ev = np.empty(cap, dtype=np.int64)
    ew = np.empty(cap)
    onext = np.empty(cap, dtype=np.int64)
    inext = np.empty(cap, dtype=np.int64)
    ohead = np.full(n, -1, dtype=np.int64)
    ihead = np.full(n, -1, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            eu[e] = u
            ev[e] = v
            ew[e] = data[e]
            onext[e] = ohead[u]
            ohead[u] = e
            inext[e] = ihead[v]
            ihead[v] = e
    done = np.zeros(n, dtype=np.bool_)
    dist = np.full(n, np.inf)
    big = max(limit, sim)
    touched = np.empty(4 * big + 64, dtype=np.int64)
    hcap = 64 * big + 64
    hd = np.empty(hcap)
    hv = np.empty(hcap, dtype=np.int64)
    scap = 1024
    su = np.empty(scap, dtype=np.int64)
    sw = np.empty(scap, dtype=np.int64)
    sc = np.empty(scap)
    depth = np.zeros(n, dtype=np.int64)
    gone = np.zeros(n, dtype=np.int64)  # contracted neighbours
    prio = np.empty(n, dtype=np.int64)
    tgt = np.full(n, -1, dtype=np.int64)  # tgt[w] == v: w is a head of v (witness targets)
    mark = np.full(n, -1, dtype=np.int64)  # edge id u -> x while adding u's shortcuts
    ed = np.empty(n, dtype=np.int64)  # edge difference at the last simulation (x2)
    qd = np.empty(n + 4 * m + 16)  # lazy priority queue (stale entries skipped)
    qv = np.empty(n + 4 * m + 16, dtype=np.int64)
    qs = 0
    for v in range(n):
        s, deg = _shortcuts(v, ohead, onext, ihead, inext, eu, ev, ew, done, sim, dist,
                            touched, hd, hv, su, sw, sc, tgt)
        stats[0] += 1
        ed[v] = 2 * (s - deg)
        prio[v] = ed[v]
        qs = _push(qd, qv, qs, float(prio[v]), v)
    rank = np.empty(n, dtype=np.int64)
    nxt_rank = 0
    added = 0
    while qs > 0:
        p = qd[0]
        v = qv[0]
        qs = _pop(qd, qv, qs)
        if done[v] or p != prio[v]:
            continue
        stats[1] += 1
        stats[0] += 1
        s, deg = _shortcuts(v, ohead, onext, ihead, inext, eu, ev, ew, done, sim, dist,
                            touched, hd, hv, su, sw, sc, tgt)
        ed[v] = 2 * (s - deg)
        newp = ed[v] + gone[v] + depth[v]
        if newp > p and qs > 0 and newp > qd[0]:
            prio[v] = newp
            qs = _push(qd, qv, qs, float(newp), v)
            continue
        while True:  # the shortcuts to add, with the thorough witness searches
            stats[0] += 1
            s, deg = _shortcuts(v, ohead, onext, ihead, inext, eu, ev, ew, done, limit, dist,
                                touched, hd, hv, su, sw, sc, tgt)
            if s <= scap:
                break
            scap = 2 * s
            su = np.empty(scap, dtype=np.int64)
            sw = np.empty(scap, dtype=np.int64)
            sc = np.empty(scap)
        # contract v: add (or improve) its shortcuts
        if m + s > cap:
            cap = 2 * (m + s)
            eu, ev, ew = _grow(eu, cap), _grow(ev, cap), _grow(ew, cap)
            onext, inext = _grow(onext, cap), _grow(inext, cap)
        t = 0
        while t < s:  # shortcuts come grouped by their tail u: mark u's heads once per group
            u = su[t]
            e = ohead[u]
            while e >= 0:
                mark[ev[e]] = e
                e = onext[e]
            while t < s and su[t] == u:
                w, c = sw[t], sc[t]
                e = mark[w]
                if e >= 0:
                    if c < ew[e]:
                        ew[e] = c
                else:
                    eu[m] = u
                    ev[m] = w
                    ew[m] = c
                    onext[m] = ohead[u]
                    ohead[u] = m
                    inext[m] = ihead[w]
                    ihead[w] = m
                    mark[w] = m
                    m += 1
                    added += 1
                t += 1
            e = ohead[u]
            while e >= 0:
                mark[ev[e]] = -1
                e = onext[e]
        done[v] = True
        rank[v] = nxt_rank
        nxt_rank += 1
        _prune(v, ohead, onext, ev, ihead, inext, eu, done)
        # neighbours: one more contracted neighbour, deeper, re-evaluated
        for side in range(2):
            head = ohead if side == 0 else ihead
            nx = onext if side == 0 else inext
            other = ev if side == 0 else eu
            e = head[v]
            while e >= 0:
                x = other[e]
                if not done[x]:
                    gone[x] += 1
                    if depth[v] + 1 > depth[x]:
                        depth[x] = depth[v] + 1
                    if resim:
                        stats[0] += 1
                        sx, dx = _shortcuts(x, ohead, onext, ihead, inext, eu, ev, ew, done,
                                            sim, dist, touched, hd, hv, su, sw, sc, tgt)
                        ed[x] = 2 * (sx - dx)
                    np_ = ed[x] + gone[x] + depth[x]
                    if np_ != prio[x]:
                        prio[x] = np_
                        if qs >= len(qd):
                            qd, qv = _grow(qd, 2 * len(qd)), _grow(qv, 2 * len(qv))
                        qs = _push(qd, qv, qs, float(np_), x)
                e = nx[e]
    return rank, eu[:m], ev[:m], ew[:m], m, added


def _csr_by(keys: np.ndarray, vals: np.ndarray, w: np.ndarray, n: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(keys, minlength=n))
    return ptr, np.ascontiguousarray(vals[order], dtype=np.int64), np.ascontiguousarray(w[order])


def build(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
          witness_limit: int = WITNESS_SETTLE_LIMIT,
          simulation_limit: int = SIMULATION_SETTLE_LIMIT,
          resimulate: bool = False) -> Hierarchy:
    """Contract the directed graph given as CSR (edge ``u -> v`` of cost ``w >= 0``).

    Parameters
    ----------
    indptr, indices, data
        CSR arrays without parallel edges or self-loops (as :class:`geo.network.StreetGraph`
        stores them).
    witness_limit, simulation_limit
        Settled nodes after which a witness search gives up (more shortcuts, same answers),
        when contracting a node and when only estimating its priority.
    resimulate
        Re-estimate the neighbours' priorities with witness searches after each contraction
        (slower: measured 1.9 s against 1.0 s at 44k nodes, same query times); by default they
        only get the contracted-neighbour and depth terms updated, the lazy re-estimate at
        their turn does the rest.

    Returns
    -------
    Hierarchy
        Upward and (backward-stored) downward graphs and the node ranks.
    """
    ip = np.ascontiguousarray(indptr, dtype=np.int64)
    ix = np.ascontiguousarray(indices, dtype=np.int64)
    w = np.ascontiguousarray(data, dtype=np.float64)
    n = len(ip) - 1
    rank, eu, ev, ew, _, added = _contract(ip, ix, w, int(witness_limit), int(simulation_limit),
                                          bool(resimulate), np.zeros(2, dtype=np.int64))
    up = rank[ev] > rank[eu]
    up_ptr, up_idx, up_w = _csr_by(eu[up], ev[up], ew[up], n)
    dn_ptr, dn_idx, dn_w = _csr_by(ev[~up], eu[~up], ew[~up], n)
    return Hierarchy(rank, up_ptr, up_idx, up_w, dn_ptr, dn_idx, dn_w, int(added))


# -- queries ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _upward(ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, sptr: np.ndarray,
            sidx: np.ndarray, sw: np.ndarray, origin: int, limit: float, dist: np.ndarray,
            order: np.ndarray, live: np.ndarray, hd: np.ndarray,
            hv: np.ndarray) -> int:  # pragma: no cover - compiled
    """Upward search with stall-on-demand; ``order[:k]`` settled, ``live[:k]`` not stalled.

    ``dist`` is ``inf`` on entry and set on ``order[:k]`` on return (the caller resets it).
    ``sptr/sidx/sw`` are the edges into a node from higher-ranked nodes in the search's
    direction (used to stall).
    """
    k = 0
    size = _push(hd, hv, 0, 0.0, origin)
    dist[origin] = 0.0
    while size > 0:
        d = hd[0]
        u = hv[0]
        size = _pop(hd, hv, size)
        if d > dist[u]:
            continue
        stalled = False
        for e in range(sptr[u], sptr[u + 1]):
            if dist[sidx[e]] + sw[e] < d:
                stalled = True
                break
        order[k] = u
        live[k] = not stalled
        k += 1
        if stalled:
            continue
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            nd = d + w[e]
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                size = _push(hd, hv, size, nd, v)
    return k


@njit(cache=True, nogil=True)
def _buckets(h_dn_ptr: np.ndarray, h_dn_idx: np.ndarray, h_dn_w: np.ndarray,
             h_up_ptr: np.ndarray, h_up_idx: np.ndarray, h_up_w: np.ndarray,
             nodes: np.ndarray, limits: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Backward upward searches from ``nodes``: bucket CSR ``(ptr, group, distance)``.

    Entries of a bucket are sorted by distance.
    """
    n = len(h_dn_ptr) - 1
    dist = np.full(n, np.inf)
    order = np.empty(n, dtype=np.int64)
    live = np.empty(n, dtype=np.bool_)
    cap_h = len(h_dn_idx) + 1
    hd = np.empty(cap_h)
    hv = np.empty(cap_h, dtype=np.int64)
    cap = 16 * len(nodes) + 16
    bm = np.empty(cap, dtype=np.int64)
    bg = np.empty(cap, dtype=np.int64)
    bd = np.empty(cap)
    t = 0
    for g in range(len(nodes)):
        k = _upward(h_dn_ptr, h_dn_idx, h_dn_w, h_up_ptr, h_up_idx, h_up_w, nodes[g],
                    limits[g], dist, order, live, hd, hv)
        if t + k > cap:
            cap = 2 * (t + k)
            bm, bg, bd = _grow(bm, cap), _grow(bg, cap), _grow(bd, cap)
        for i in range(k):
            v = order[i]
            if live[i]:
                bm[t] = v
                bg[t] = g
                bd[t] = dist[v]
                t += 1
            dist[v] = np.inf
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(t):
        ptr[bm[i] + 1] += 1
    for v in range(n):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    og = np.empty(t, dtype=np.int64)
    od = np.empty(t)
    for i in range(t):
        j = fill[bm[i]]
        fill[bm[i]] += 1
        og[j] = bg[i]
        od[j] = bd[i]
    for v in range(n):
        a, b = ptr[v], ptr[v + 1]
        if b - a > 1:
            s = np.argsort(od[a:b], kind="mergesort")
            og[a:b] = og[a:b][s]
            od[a:b] = od[a:b][s]
    return ptr, og, od


@njit(cache=True, nogil=True)
def _n_within(off: np.ndarray, lo: int, hi: int, d: float, budget: float) -> int:  # pragma: no cover
    a, b = lo, hi
    while a < b:
        mid = (a + b) >> 1
        if d + off[mid] <= budget:
            a = mid + 1
        else:
            b = mid
    return a - lo


@njit(cache=True, nogil=True)
def _scan(h_up_ptr: np.ndarray, h_up_idx: np.ndarray, h_up_w: np.ndarray,
          h_dn_ptr: np.ndarray, h_dn_idx: np.ndarray, h_dn_w: np.ndarray,
          origins: np.ndarray, bptr: np.ndarray, bg: np.ndarray, bd: np.ndarray,
          groups: int, gbounds: np.ndarray, off: np.ndarray, budgets: np.ndarray,
          tol: float) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Forward upward search per origin, bucket scans, counts; ``(counts, flagged)``."""
    n = len(h_up_ptr) - 1
    nb = len(budgets)
    top = budgets[nb - 1] + tol
    counts = np.zeros((nb, len(origins)), dtype=np.int64)
    flagged = np.zeros(len(origins), dtype=np.bool_)
    dist = np.full(n, np.inf)
    order = np.empty(n, dtype=np.int64)
    live = np.empty(n, dtype=np.bool_)
    cap_h = len(h_up_idx) + 1
    hd = np.empty(cap_h)
    hv = np.empty(cap_h, dtype=np.int64)
    best = np.full(groups, np.inf)
    seen = np.empty(groups, dtype=np.int64)
    for o in range(len(origins)):
        k = _upward(h_up_ptr, h_up_idx, h_up_w, h_dn_ptr, h_dn_idx, h_dn_w, origins[o], top,
                    dist, order, live, hd, hv)
        ns = 0
        for i in range(k):
            v = order[i]
            if live[i]:
                do = dist[v]
                for j in range(bptr[v], bptr[v + 1]):
                    t = do + bd[j]
                    if t > top:
                        break
                    g = bg[j]
                    if best[g] == np.inf:
                        seen[ns] = g
                        ns += 1
                    if t < best[g]:
                        best[g] = t
            dist[v] = np.inf
        for i in range(ns):
            g = seen[i]
            d = best[g]
            lo, hi = gbounds[g], gbounds[g + 1]
            for j in range(nb):
                b = budgets[j]
                c = _n_within(off, lo, hi, d, b)
                if _n_within(off, lo, hi, d, b + tol) != _n_within(off, lo, hi, d, b - tol):
                    flagged[o] = True
                counts[j, o] += c
            best[g] = np.inf
    return counts, flagged


def tolerance(n_nodes: int, budget: float) -> float:
    """Band around the budget within which a decision is left to the exact search."""
    return float(max(1e-9, 8.0 * n_nodes * 2.0**-53) * max(abs(budget), 1.0))


def counts(h: Hierarchy, origins: np.ndarray, nodes: np.ndarray, bounds: np.ndarray,
           off: np.ndarray, budgets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct origin, items within each budget, and which origins need the exact search.

    Parameters
    ----------
    h
        The hierarchy of the graph along which ``cost(origin -> item)`` is measured.
    origins
        Distinct origin nodes.
    nodes, bounds, off
        Items grouped by node (:func:`geo.reach.group_items`): the offsets of the items at
        ``nodes[g]`` are ``off[bounds[g]:bounds[g + 1]]``, ascending.
    budgets
        Ascending budgets.

    Returns
    -------
    tuple of numpy.ndarray
        ``(len(budgets), len(origins))`` int64 counts, and a boolean per origin: True when some
        decision fell within :func:`tolerance` of a budget (recount that origin exactly).
    """
    b = np.asarray(budgets, dtype=np.float64)
    tol = tolerance(h.n_nodes, float(b[-1]))
    limits = b[-1] + tol - off[bounds[:-1]]  # the smallest offset of each node's items
    bptr, bg, bd = _buckets(h.dn_ptr, h.dn_idx, h.dn_w, h.up_ptr, h.up_idx, h.up_w,
                            np.asarray(nodes, dtype=np.int64), np.ascontiguousarray(limits))
    return _scan(h.up_ptr, h.up_idx, h.up_w, h.dn_ptr, h.dn_idx, h.dn_w,
                 np.asarray(origins, dtype=np.int64), bptr, bg, bd, len(nodes),
                 np.asarray(bounds, dtype=np.int64), off, b, tol)


def counts_at(h: Hierarchy, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
              origins: np.ndarray, items: np.ndarray, offsets: np.ndarray,
              budgets: np.ndarray) -> tuple[np.ndarray, int]:
    """Per origin node, how many items lie within each budget (the graph's CSR and its CH).

    Same contract as :func:`geo.reach.counts_at_origins` (item ``i`` counts at origin ``o`` for
    budget ``b`` when ``cost(o -> items[i]) + offsets[i] <= b``), same counts: origins with a
    decision within :func:`tolerance` of a budget are recounted by
    :func:`geo.reach.counts_at_origins`.

    Returns
    -------
    tuple
        ``(len(budgets), len(origins))`` int64 counts, and how many distinct origins were
        recounted exactly.
    """
    from .reach import _budgets, counts_at_origins, group_items

    b = _budgets(budgets)
    n = h.n_nodes
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) and (origins.min() < 0 or origins.max() >= n):
        raise IndexError(f"origin node index out of range 0..{n - 1}")
    nodes, bounds, off = group_items(items, offsets, n)
    uniq, inv = np.unique(origins, return_inverse=True)
    uniq = uniq.astype(np.int64)
    if len(nodes) == 0 or len(uniq) == 0:
        return np.zeros((len(b), len(origins)), dtype=np.int64), 0
    out, flagged = counts(h, uniq, nodes, bounds, off, b)
    if flagged.any():
        out[:, flagged] = counts_at_origins(indptr, indices, data, uniq[flagged], items,
                                            offsets, b)
    return out[:, inv.reshape(-1)], int(flagged.sum())
