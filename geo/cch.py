"""A customizable contraction hierarchy: node order from coordinates, no witness searches (numba).

:func:`geo.ch.build` orders the nodes by simulated contractions and runs bounded witness
searches for every shortcut: 16-20 us per node at 148k nodes, more than the bucket queries that
use it. Here (Dibbelt, Strasser and Wagner, "Customizable Contraction Hierarchies", 2016) the
same kind of :class:`geo.ch.Hierarchy` is built in three linear-ish passes:

1. **Order** (:func:`nd_order`): nested dissection by coordinates. A part of the graph is cut at
   the median of one of four directions (x, y and the two diagonals: the one cutting the fewest
   edges); the end nodes of the cut edges on the side with fewer of them form the separator,
   ranked above both halves, which are cut in turn.
2. **Symbolic contraction** (``_symbolic``): contracting the nodes in that order adds, without
   any witness search, every shortcut an elimination can need (the chordal supergraph: the
   upward neighbours of a node form a clique). Each node's upward neighbours are its own plus
   those of its children in the elimination tree.
3. **Customization** (``_customize``): the costs, both directions of every arc. The *basic*
   pass (lowest node first) takes over each lower triangle ``z < x < y``: ``x -> z -> y``; the
   *perfect* pass (highest node first) sets each arc to the true shortest-path cost
   (``m(x, y) = min(b(x, y), min_z b(x, z) + m(z, y))`` over the upward neighbours ``z`` of
   ``x``, whose arcs are already exact), and then drops every arc direction that a path through
   a higher node (an upper or intermediate triangle) matches, as a contraction hierarchy with
   exact witness searches would not have added it: the upward searches stay small.

Exactness: every cost is a float sum of the edge costs of a real path, compared with ``min``:
the same reassociation as :mod:`geo.ch` (decisions within :func:`geo.ch.tolerance` of a budget
are recounted by the exact search). An arc direction is dropped only when both parts of the
matching path cost strictly less than the arc (so a chain of drops ends, also with zero-cost
edges: the matching path never needs the dropped arc itself).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .ch import Hierarchy

__all__ = ["build", "nd_order"]

#: Parts of at most this many nodes are not cut further (ranked in any order).
_LEAF = 2


# -- order ------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _nd(ptr: np.ndarray, idx: np.ndarray, x: np.ndarray, y: np.ndarray
        ) -> np.ndarray:  # pragma: no cover - compiled
    """Rank of every node (nested dissection by coordinates); ``ptr/idx`` symmetric, no loops."""
    n = len(ptr) - 1
    rank = np.full(n, -1, dtype=np.int64)
    perm = np.arange(n)
    stamp = np.full(n, -1, dtype=np.int64)
    side = np.zeros(n, dtype=np.int8)
    sep = np.zeros(n, dtype=np.bool_)
    keys = np.empty((4, n))
    for i in range(n):
        keys[0, i] = x[i]
        keys[1, i] = y[i]
        keys[2, i] = x[i] + y[i]
        keys[3, i] = x[i] - y[i]
    top = n - 1
    # stack of [a, b) segments of perm
    sa = np.empty(2 * n + 8, dtype=np.int64)
    sb = np.empty(2 * n + 8, dtype=np.int64)
    ns = 1
    sa[0] = 0
    sb[0] = n
    seg = 0
    buf = np.empty(n)
    tmp = np.empty(n, dtype=np.int64)
    while ns > 0:
        ns -= 1
        a = sa[ns]
        b = sb[ns]
        k = b - a
        if k <= _LEAF:
            for i in range(a, b):
                rank[perm[i]] = top
                top -= 1
            continue
        seg += 1
        for i in range(a, b):
            stamp[perm[i]] = seg
        best_d = 0
        best_cut = -1
        best_thr = 0.0
        for d in range(4):
            for i in range(a, b):
                buf[i - a] = keys[d, perm[i]]
            thr = np.median(buf[:k])
            cut = 0
            for i in range(a, b):
                u = perm[i]
                if keys[d, u] < thr:
                    for e in range(ptr[u], ptr[u + 1]):
                        v = idx[e]
                        if stamp[v] == seg and keys[d, v] >= thr:
                            cut += 1
            if best_cut < 0 or cut < best_cut:
                best_cut = cut
                best_d = d
                best_thr = thr
        # sides and the boundary of each
        n_lo = 0
        for i in range(a, b):
            u = perm[i]
            side[u] = 0 if keys[best_d, u] < best_thr else 1
            if side[u] == 0:
                n_lo += 1
        if n_lo == 0 or n_lo == k:  # all keys equal: split the segment in two halves
            for i in range(a, b):
                side[perm[i]] = 0 if i - a < k // 2 else 1
        b0 = 0
        b1 = 0
        for i in range(a, b):
            u = perm[i]
            sep[u] = False
            for e in range(ptr[u], ptr[u + 1]):
                v = idx[e]
                if stamp[v] == seg and side[v] != side[u]:
                    sep[u] = True
                    break
            if sep[u]:
                if side[u] == 0:
                    b0 += 1
                else:
                    b1 += 1
        cut_side = 0 if b0 <= b1 else 1
        # separator ranked highest; then the two halves as new segments
        p = a
        for i in range(a, b):
            u = perm[i]
            if sep[u] and side[u] == cut_side:
                rank[u] = top
                top -= 1
        for s in range(2):
            start = p
            for i in range(a, b):
                u = perm[i]
                if side[u] == s and not (sep[u] and side[u] == cut_side):
                    tmp[p] = u
                    p += 1
            if p > start:
                sa[ns] = start
                sb[ns] = p
                ns += 1
        for i in range(a, p):
            perm[i] = tmp[i]
    return rank


def nd_order(indptr: np.ndarray, indices: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Nested-dissection rank of every node of a graph (CSR, either direction) with coordinates.

    Returns
    -------
    numpy.ndarray
        int64 ranks ``0..n-1`` (higher: contracted later); separators rank above the parts they
        separate.
    """
    from scipy import sparse

    n = len(indptr) - 1
    m = sparse.csr_matrix((np.ones(len(indices)), np.asarray(indices), np.asarray(indptr)),
                          shape=(n, n))
    s = (m + m.T).tocsr()
    s.setdiag(0)
    s.eliminate_zeros()
    xy = np.asarray(xy, dtype=np.float64)
    return np.asarray(_nd(s.indptr.astype(np.int64), s.indices.astype(np.int64),
                          np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])))


# -- symbolic contraction ---------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _symbolic(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Upward neighbours of every node of the chordal supergraph (nodes numbered by rank).

    ``ptr/idx``: symmetric structure in rank numbering. Returns CSR ``(cptr, chead)`` with each
    row ascending.
    """
    n = len(ptr) - 1
    cptr = np.zeros(n + 1, dtype=np.int64)
    cap = 2 * len(idx) + 16
    chead = np.empty(cap, dtype=np.int64)
    mark = np.full(n, -1, dtype=np.int64)
    child = np.full(n, -1, dtype=np.int64)  # first child in the elimination tree
    sib = np.full(n, -1, dtype=np.int64)  # next sibling
    t = 0
    for r in range(n):
        start = t
        mark[r] = r
        for e in range(ptr[r], ptr[r + 1]):
            v = idx[e]
            if v > r and mark[v] != r:
                mark[v] = r
                if t >= cap:
                    cap *= 2
                    nh = np.empty(cap, dtype=np.int64)
                    nh[:t] = chead[:t]
                    chead = nh
                chead[t] = v
                t += 1
        c = child[r]
        while c >= 0:
            for e in range(cptr[c], cptr[c + 1]):
                v = chead[e]
                if mark[v] != r:
                    mark[v] = r
                    if t >= cap:
                        cap *= 2
                        nh = np.empty(cap, dtype=np.int64)
                        nh[:t] = chead[:t]
                        chead = nh
                    chead[t] = v
                    t += 1
            c = sib[c]
        if t - start > 1:
            chead[start:t] = np.sort(chead[start:t])
        cptr[r + 1] = t
        if t > start:
            p = chead[start]
            sib[r] = child[p]
            child[p] = r
    return cptr, chead[:t]


# -- customization ----------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _arc(cptr: np.ndarray, chead: np.ndarray, a: int, b: int) -> int:  # pragma: no cover
    lo, hi = cptr[a], cptr[a + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if chead[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return int(lo)


@njit(cache=True, nogil=True)
def _customize(cptr: np.ndarray, chead: np.ndarray, eu: np.ndarray, ev: np.ndarray,
               ew: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                        np.ndarray, np.ndarray]:  # pragma: no cover
    """Perfect costs of every arc ``(x, y)``, ``x < y``: ``wu`` (x -> y), ``wd`` (y -> x).

    ``eu/ev/ew``: the directed edges in rank numbering. Returns ``(wu, wd, keep_u, keep_d,
    orig_u, orig_d)``: which directions stay in the hierarchy and which were edges.
    """
    n = len(cptr) - 1
    na = len(chead)
    wu = np.full(na, np.inf)
    wd = np.full(na, np.inf)
    orig_u = np.zeros(na, dtype=np.bool_)
    orig_d = np.zeros(na, dtype=np.bool_)
    for e in range(len(eu)):
        u, v, c = eu[e], ev[e], ew[e]
        if u < v:
            a = _arc(cptr, chead, u, v)
            if c < wu[a]:
                wu[a] = c
            orig_u[a] = True
        else:
            a = _arc(cptr, chead, v, u)
            if c < wd[a]:
                wd[a] = c
            orig_d[a] = True
    # basic: lower triangles, lowest node first
    for z in range(n):
        a0, a1 = cptr[z], cptr[z + 1]
        for i in range(a0, a1):
            x = chead[i]
            up_zx = wu[i]
            dn_xz = wd[i]  # cost x -> z
            if up_zx == np.inf and dn_xz == np.inf:
                continue
            p = cptr[x]
            for j in range(i + 1, a1):
                yv = chead[j]
                while chead[p] != yv:
                    p += 1
                c1 = dn_xz + wu[j]  # x -> z -> y
                if c1 < wu[p]:
                    wu[p] = c1
                c2 = wd[j] + up_zx  # y -> z -> x
                if c2 < wd[p]:
                    wd[p] = c2
    keep_u = np.ones(na, dtype=np.bool_)
    keep_d = np.ones(na, dtype=np.bool_)
    mu = np.empty(n)
    md = np.empty(n)
    # perfect: highest node first; m(x, .) from the basic costs of x's arcs and the exact
    # costs among its upward neighbours (a clique, already exact)
    for x in range(n - 1, -1, -1):
        a0, a1 = cptr[x], cptr[x + 1]
        k = a1 - a0
        for i in range(k):
            mu[i] = wu[a0 + i]
            md[i] = wd[a0 + i]
        for i in range(k):
            yv = chead[a0 + i]
            bu_y = wu[a0 + i]
            bd_y = wd[a0 + i]
            p = cptr[yv]
            for j in range(i + 1, k):
                zv = chead[a0 + j]
                while chead[p] != zv:
                    p += 1
                # y < z: wu[p] = y -> z, wd[p] = z -> y
                c = bu_y + wu[p]  # x -> y -> z
                if c < mu[j]:
                    mu[j] = c
                c = wu[a0 + j] + wd[p]  # x -> z -> y
                if c < mu[i]:
                    mu[i] = c
                c = wd[p] + bd_y  # z -> y -> x
                if c < md[j]:
                    md[j] = c
                c = wu[p] + wd[a0 + j]  # y -> z -> x
                if c < md[i]:
                    md[i] = c
        for i in range(k):
            wu[a0 + i] = mu[i]
            wd[a0 + i] = md[i]
        # drop the directions a path through a higher node matches (both parts strictly
        # cheaper than the arc)
        for i in range(k):
            yv = chead[a0 + i]
            p = cptr[yv]
            for j in range(i + 1, k):
                zv = chead[a0 + j]
                while chead[p] != zv:
                    p += 1
                xy_u, xz_u = wu[a0 + i], wu[a0 + j]
                xy_d, xz_d = wd[a0 + i], wd[a0 + j]
                yz, zy = wu[p], wd[p]
                if xy_u < xz_u and yz < xz_u and xy_u + yz <= xz_u:
                    keep_u[a0 + j] = False  # x -> z through y
                if xz_u < xy_u and zy < xy_u and xz_u + zy <= xy_u:
                    keep_u[a0 + i] = False  # x -> y through z
                if zy < xz_d and xy_d < xz_d and zy + xy_d <= xz_d:
                    keep_d[a0 + j] = False  # z -> x through y
                if yz < xy_d and xz_d < xy_d and yz + xz_d <= xy_d:
                    keep_d[a0 + i] = False  # y -> x through z
    for a in range(na):
        if wu[a] == np.inf:
            keep_u[a] = False
        if wd[a] == np.inf:
            keep_d[a] = False
    return wu, wd, keep_u, keep_d, orig_u, orig_d


def _csr_by(keys: np.ndarray, vals: np.ndarray, w: np.ndarray, n: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(keys, minlength=n))
    return ptr, np.ascontiguousarray(vals[order], dtype=np.int64), np.ascontiguousarray(w[order])


def build(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, xy: np.ndarray,
          rank: np.ndarray | None = None) -> Hierarchy:
    """Contraction hierarchy of the directed graph (CSR, costs ``>= 0``) with node coordinates.

    Parameters
    ----------
    indptr, indices, data
        CSR of the edges ``u -> v`` (no parallel edges or self-loops needed: the cheapest counts).
    xy
        ``(n, 2)`` node coordinates (metric), for the order.
    rank
        A node order to use instead of :func:`nd_order` (tests).

    Returns
    -------
    geo.ch.Hierarchy
        The same structure :func:`geo.ch.build` returns (answers through :func:`geo.ch.counts`).
    """
    ip = np.asarray(indptr, dtype=np.int64)
    ix = np.asarray(indices, dtype=np.int64)
    w = np.asarray(data, dtype=np.float64)
    n = len(ip) - 1
    r = nd_order(ip, ix, xy) if rank is None else np.asarray(rank, dtype=np.int64)
    inv = np.empty(n, dtype=np.int64)
    inv[r] = np.arange(n)
    tail = np.repeat(np.arange(n), np.diff(ip))
    keep = tail != ix
    ru, rv, w = r[tail[keep]], r[ix[keep]], w[keep]
    lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
    order = np.lexsort((hi, lo))
    lo, hi = lo[order], hi[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi = lo[first], hi[first]
    sptr = np.zeros(n + 1, dtype=np.int64)
    sptr[1:] = np.cumsum(np.bincount(lo, minlength=n))
    cptr, chead = _symbolic(sptr, hi)
    wu, wd, ku, kd, ou, od = _customize(cptr, chead, ru, rv, w)
    tails = np.repeat(np.arange(n), np.diff(cptr))
    up_t, up_h, up_w = inv[tails[ku]], inv[chead[ku]], wu[ku]
    dn_t, dn_h, dn_w = inv[chead[kd]], inv[tails[kd]], wd[kd]  # edge (higher) y -> x (lower)
    added = int((ku & ~ou).sum() + (kd & ~od).sum())
    up_ptr, up_idx, up_w2 = _csr_by(up_t, up_h, up_w, n)
    dn_ptr, dn_idx, dn_w2 = _csr_by(dn_h, dn_t, dn_w, n)
    return Hierarchy(r, up_ptr, up_idx, up_w2, dn_ptr, dn_idx, dn_w2, added)
