"""Contraction hierarchies and bucket many-to-many counts within a budget (numba).

"Workplaces within 30 min by car" needs, per scored origin (cells and localities), how many
workplaces lie within the budget. One bounded Dijkstra per origin (:mod:`geo.reach`) settles a
quarter of the network each time when the budget is 30 min by car. Here the work is shared:

1. :func:`build` contracts the graph once (node order by edge difference + contracted neighbours
   + hierarchy depth, lazy updates: one queue entry per node, re-queued at its turn when its
   priority rose; witness searches bounded by the shortcut's cost and a number of settled nodes,
   stopped as soon as every head is decided, i.e. settled or reached within the cost through the
   contracted node: a witness search that gives up only adds a shortcut that is not needed,
   never a wrong one). The priority estimate at a node's turn uses few settled nodes; the
   thorough searches run only when one of those was cut short (otherwise they are the same
   searches). The uncontracted graph lives in per-node contiguous blocks (int32 neighbours),
   renumbered into fresh compact arrays each time the number of uncontracted nodes halves, so
   the dense core at the end of the contraction stays in cache. The result, a
   :class:`Hierarchy`, is an upward graph (edges to higher-ranked nodes) and a downward graph
   stored backwards (edges from higher-ranked nodes, by their head), recorded as each node is
   contracted.
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

import io
import zipfile
from dataclasses import dataclass

import numpy as np
from numba import njit

from .reach import heap_pop as _pop
from .reach import heap_push as _push

__all__ = ["Hierarchy", "build", "counts", "counts_at", "from_bytes", "to_bytes", "tolerance"]

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


#: Format tag of :func:`to_bytes` (a stored hierarchy of another format is rebuilt, not read).
FORMAT = "geo.ch.Hierarchy/1"
_ARRAYS = ("rank", "up_ptr", "up_idx", "up_w", "dn_ptr", "dn_idx", "dn_w")


def to_bytes(h: Hierarchy, fingerprint: str) -> bytes:
    """The hierarchy as an uncompressed ``.npz`` (no pickles), tagged with ``fingerprint``.

    ``fingerprint`` identifies the graph it was built for
    (:meth:`geo.network.StreetGraph.fingerprint`); :func:`from_bytes` returns it unchanged, so
    a caller can refuse a hierarchy of another graph. Node indices are stored as int32 when they
    fit.
    """
    small = h.n_nodes < 2**31 - 1
    arrays = {k: (getattr(h, k).astype(np.int32) if small and k in ("rank", "up_idx", "dn_idx")
                  else getattr(h, k)) for k in _ARRAYS}
    buf = io.BytesIO()
    np.savez(buf, format=np.array(FORMAT), fingerprint=np.array(fingerprint),
             shortcuts=np.array(h.shortcuts, dtype=np.int64), **arrays)
    return buf.getvalue()


def from_bytes(data: bytes) -> tuple[Hierarchy, str]:
    """``(hierarchy, fingerprint)`` from :func:`to_bytes`' output.

    Raises
    ------
    ValueError
        When the data is not a hierarchy of this format or its arrays do not fit together.
    """
    if not data.startswith(b"PK"):
        raise ValueError("not a stored contraction hierarchy (not an .npz file)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if str(z["format"]) != FORMAT:
                raise ValueError(f"not a {FORMAT} file (format {str(z['format'])!r})")
            fp = str(z["fingerprint"])
            shortcuts = int(z["shortcuts"])
            a = {k: z[k] for k in _ARRAYS}
    except (OSError, KeyError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"not a stored contraction hierarchy ({exc})") from exc
    n = len(a["rank"])
    ints = {k: np.ascontiguousarray(a[k], dtype=np.int64) for k in
            ("rank", "up_ptr", "up_idx", "dn_ptr", "dn_idx")}
    for side in ("up", "dn"):
        ptr, idx, w = ints[f"{side}_ptr"], ints[f"{side}_idx"], a[f"{side}_w"]
        if (len(ptr) != n + 1 or ptr[0] != 0 or ptr[-1] != len(idx) or len(w) != len(idx)
                or np.any(np.diff(ptr) < 0) or (len(idx) and (idx.min() < 0 or idx.max() >= n))):
            raise ValueError(f"stored contraction hierarchy: the {side} arrays do not fit")
    h = Hierarchy(ints["rank"], ints["up_ptr"], ints["up_idx"],
                  np.ascontiguousarray(a["up_w"], dtype=np.float64), ints["dn_ptr"],
                  ints["dn_idx"], np.ascontiguousarray(a["dn_w"], dtype=np.float64), shortcuts)
    return h, fp


# -- contraction ------------------------------------------------------------------------------
# Adjacency of the uncontracted graph: per node one contiguous block of (neighbour, cost) in a
# shared pool (``start``, ``size``, ``cap`` per node; a full block moves to the pool's end with
# twice the room), out-lists and in-lists apart. A contracted node is swap-removed from its
# neighbours' blocks, so the blocks hold only edges between uncontracted nodes.
@njit(cache=True, nogil=True)
def _bound(start: np.ndarray, size: np.ndarray, nbr: np.ndarray, skip: int, src: int,
           c_in: float, tgt: np.ndarray, cw: np.ndarray, seen: np.ndarray,
           sid: int) -> float:  # pragma: no cover - compiled
    """``c_in`` + the largest ``cw`` of the undecided targets (the heads of ``skip``)."""
    b = -np.inf
    a = start[skip]
    for e in range(a, a + size[skip]):
        w = nbr[e]
        if w != src and seen[w] != sid and c_in + cw[w] > b:
            b = c_in + cw[w]
    return b


@njit(cache=True, nogil=True)
def _witness(start: np.ndarray, size: np.ndarray, nbr: np.ndarray, cost: np.ndarray,
             skip: int, src: int, c_in: float, bound: float, limit: int, dist: np.ndarray,
             touched: np.ndarray, hd: np.ndarray, hv: np.ndarray, tgt: np.ndarray,
             cw: np.ndarray, seen: np.ndarray, ctr: np.ndarray, n_tgt: int, hops: int,
             hop: np.ndarray) -> int:  # pragma: no cover - compiled
    """Dijkstra from ``src`` over uncontracted nodes but ``skip``, up to ``bound``/``limit``.

    The targets are the nodes ``w`` marked ``tgt[w] == skip`` (other than ``src``); ``w`` needs
    no shortcut once a path avoiding ``skip`` costs at most ``c_in + cw[w]`` (the path through
    ``skip``). The search stops once every one of the ``n_tgt`` targets is decided: settled, or
    reached within that cost (its tentative distance is the length of a real path, and it can
    only decrease). ``seen[w] == ctr[0]`` marks the decided targets; ``ctr[1]`` counts the
    searches cut short by ``limit`` or by the room in ``touched``/``hd`` (any other search has
    the result a larger ``limit`` would give). Nodes first reached over
    ``hops`` edges are not expanded (``hop``: edges to each touched node). Leaves ``dist`` set on
    ``touched[:k]`` (returned ``k``); the caller resets them.
    """
    k = 0
    if n_tgt <= 0:
        return k
    sid = ctr[0]
    hs = _push(hd, hv, 0, 0.0, src)
    dist[src] = 0.0
    hop[src] = 0
    touched[k] = src
    k += 1
    settled = 0
    while hs > 0:
        d = hd[0]
        u = hv[0]
        hs = _pop(hd, hv, hs)
        if d > dist[u]:
            continue
        if d > bound:
            break
        if settled >= limit:
            ctr[1] += 1
            break
        settled += 1
        if tgt[u] == skip and u != src and seen[u] != sid:
            seen[u] = sid
            n_tgt -= 1
            if n_tgt <= 0:
                break
            if c_in + cw[u] >= bound:
                bound = _bound(start, size, nbr, skip, src, c_in, tgt, cw, seen, sid)
        if hop[u] >= hops:
            continue
        a = start[u]
        for e in range(a, a + size[u]):
            v = nbr[e]
            if v != skip:
                nd = d + cost[e]
                if nd <= bound and nd < dist[v]:
                    if dist[v] == np.inf:
                        if k >= len(touched):
                            ctr[1] += 1
                            return k
                        touched[k] = v
                        k += 1
                    dist[v] = nd
                    hop[v] = hop[u] + 1
                    if tgt[v] == skip and v != src and seen[v] != sid and nd <= c_in + cw[v]:
                        seen[v] = sid
                        n_tgt -= 1
                        if n_tgt <= 0:
                            return k
                        if c_in + cw[v] >= bound:
                            bound = _bound(start, size, nbr, skip, src, c_in, tgt, cw, seen,
                                           sid)
                    if hs >= len(hd):
                        ctr[1] += 1
                        return k
                    hs = _push(hd, hv, hs, nd, v)
    return k


@njit(cache=True, nogil=True)
def _shortcuts(v: int, ost: np.ndarray, osz: np.ndarray, onb: np.ndarray, ocs: np.ndarray,
               ist: np.ndarray, isz: np.ndarray, inb: np.ndarray, ics: np.ndarray,
               limit: int, dist: np.ndarray, touched: np.ndarray, hd: np.ndarray,
               hv: np.ndarray, out_u: np.ndarray, out_w: np.ndarray, out_c: np.ndarray,
               tgt: np.ndarray, cw: np.ndarray, seen: np.ndarray,
               ctr: np.ndarray, hops: int, hop: np.ndarray) -> int:  # pragma: no cover - compiled
    """Shortcuts that contracting ``v`` needs, in ``out_*[:s]`` (grouped by tail); returns s.

    ``s`` can exceed the room in ``out_*`` (then only counted: grow and call again).
    ``ctr[0]`` numbers the witness searches (for ``seen``); ``ctr[1]`` is left at the number
    of them cut short (0: a larger ``limit`` gives the same shortcuts).
    """
    ctr[1] = 0
    n_out = osz[v]
    a0 = ost[v]
    max_out = 0.0
    for e in range(a0, a0 + n_out):
        tgt[onb[e]] = v
        cw[onb[e]] = ocs[e]
        if ocs[e] > max_out:
            max_out = ocs[e]
    s = 0
    if n_out > 0:
        b0 = ist[v]
        for ei in range(b0, b0 + isz[v]):
            u = inb[ei]
            c_in = ics[ei]
            ctr[0] += 1
            k = _witness(ost, osz, onb, ocs, v, u, c_in, c_in + max_out, limit, dist, touched,
                         hd, hv, tgt, cw, seen, ctr, n_out - (1 if tgt[u] == v else 0),
                         hops, hop)
            for eo in range(a0, a0 + n_out):
                w = onb[eo]
                c = c_in + ocs[eo]
                if w != u and dist[w] > c:
                    if s < len(out_u):
                        out_u[s] = u
                        out_w[s] = w
                        out_c[s] = c
                    s += 1
            for t in range(k):
                dist[touched[t]] = np.inf
    for e in range(a0, a0 + n_out):
        tgt[onb[e]] = -1
    return s


@njit(cache=True, nogil=True)
def _hops(m_live: int, n_live: int, rule: np.ndarray) -> int:  # pragma: no cover - compiled
    """Hop limit of the witness searches: ``i + 1`` while the live graph's mean out-degree is
    below ``rule[i]``; unlimited (a large number) beyond the last threshold."""
    deg = m_live / max(1, n_live)
    for i in range(len(rule)):
        if deg < rule[i]:
            return i + 1
    return 1 << 30


@njit(cache=True, nogil=True)
def _grow(a: np.ndarray, cap: int) -> np.ndarray:  # pragma: no cover - compiled
    b = np.empty(cap, dtype=a.dtype)
    b[:len(a)] = a
    return b


@njit(cache=True, nogil=True)
def _remove(st: np.ndarray, sz: np.ndarray, nb: np.ndarray, cs: np.ndarray, x: int,
            y: int) -> None:  # pragma: no cover - compiled
    """Swap-remove ``y`` from ``x``'s block."""
    a = st[x]
    last = a + sz[x] - 1
    for e in range(a, last + 1):
        if nb[e] == y:
            nb[e] = nb[last]
            cs[e] = cs[last]
            sz[x] -= 1
            return


@njit(cache=True, nogil=True)
def _contract(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
              limit: int, sim: int, resim: bool, onepass: bool, hop_rule: np.ndarray,
              compact: bool,
              stats: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                         np.ndarray, np.ndarray, int]:
    """Contract every node; returns ``(rank, up_u, up_v, up_w, dn_v, dn_u, dn_w, shortcuts)``.

    ``up_*``: the edges ``u -> v`` out of each node to the higher-ranked nodes, ``dn_*`` the
    edges ``u -> v`` into each node ``v`` from the higher-ranked ones, both in rank order of
    their lower end. ``stats[0]`` counts the witness-search rounds (``_shortcuts`` calls),
    ``stats[1]`` the pops that were re-queued.
    """  # pragma: no cover
    n = len(indptr) - 1
    m = len(indices)
    # the two pools: out-blocks and in-blocks, two spare slots per node to start with
    pcap = 2 * m + 4 * n + 16
    onb = np.empty(pcap, dtype=np.int32)
    ocs = np.empty(pcap)
    inb = np.empty(pcap, dtype=np.int32)
    ics = np.empty(pcap)
    ost = np.empty(n, dtype=np.int64)
    osz = np.zeros(n, dtype=np.int64)
    ocp = np.empty(n, dtype=np.int64)
    ist = np.empty(n, dtype=np.int64)
    isz = np.zeros(n, dtype=np.int64)
    icp = np.empty(n, dtype=np.int64)
    indeg = np.zeros(n, dtype=np.int64)
    for e in range(m):
        indeg[indices[e]] += 1
    otop = 0
    itop = 0
    for u in range(n):
        ost[u] = otop
        ocp[u] = indptr[u + 1] - indptr[u] + 2
        otop += ocp[u]
        ist[u] = itop
        icp[u] = indeg[u] + 2
        itop += icp[u]
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            j = ost[u] + osz[u]
            onb[j] = v
            ocs[j] = data[e]
            osz[u] += 1
            j = ist[v] + isz[v]
            inb[j] = u
            ics[j] = data[e]
            isz[v] += 1
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
    tgt = np.full(n, -1, dtype=np.int32)  # tgt[w] == v: w is a head of v (witness targets)
    cw = np.zeros(n)  # cost v -> w of those heads
    seen = np.full(n, -1, dtype=np.int64)  # seen[w] == search id: target w decided
    ctr = np.zeros(2, dtype=np.int64)
    hop = np.zeros(n, dtype=np.int32)
    m_live = m
    hops = _hops(m_live, n, hop_rule)
    mark = np.full(n, -1, dtype=np.int64)  # position of u -> x in u's block, while adding
    ed = np.empty(n, dtype=np.int64)  # edge difference at the last simulation (x2)
    qcap = 2 * n + 16
    qd = np.empty(qcap)  # lazy priority queue (stale entries skipped)
    qv = np.empty(qcap, dtype=np.int64)
    qs = 0
    for v in range(n):
        s = _shortcuts(v, ost, osz, onb, ocs, ist, isz, inb, ics, sim, dist, touched, hd, hv,
                       su, sw, sc, tgt, cw, seen, ctr, hops, hop)
        stats[0] += 1
        ed[v] = 2 * (s - osz[v] - isz[v])
        prio[v] = ed[v]
        qs = _push(qd, qv, qs, float(prio[v]), v)
    # the hierarchy's edges, appended as their lower end is contracted
    hcap_e = 2 * m + 16
    up_u = np.empty(hcap_e, dtype=np.int64)
    up_v = np.empty(hcap_e, dtype=np.int64)
    up_w = np.empty(hcap_e)
    n_up = 0
    dn_v = np.empty(hcap_e, dtype=np.int64)
    dn_u = np.empty(hcap_e, dtype=np.int64)
    dn_w = np.empty(hcap_e)
    n_dn = 0
    rank = np.empty(n, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    orig = np.arange(n)  # internal id -> caller's node (renumbered by compaction)
    n_cur = n
    nxt_rank = 0
    added = 0
    while qs > 0:
        p = qd[0]
        v = qv[0]
        qs = _pop(qd, qv, qs)
        if done[v]:
            continue
        if p != prio[v]:
            if resim:  # a newer entry is queued
                continue
            # its contracted-neighbour or depth term rose since: queue it again (one entry
            # per node: updates between two of its turns cost one push, not one each)
            if qs >= len(qd):
                qd, qv = _grow(qd, 2 * len(qd)), _grow(qv, 2 * len(qv))
            qs = _push(qd, qv, qs, float(prio[v]), v)
            continue
        stats[0] += 1
        s = _shortcuts(v, ost, osz, onb, ocs, ist, isz, inb, ics, limit if onepass else sim,
                       dist, touched, hd, hv, su, sw, sc, tgt, cw, seen, ctr, hops, hop)
        ed[v] = 2 * (s - osz[v] - isz[v])
        newp = ed[v] + gone[v] + depth[v]
        if newp > p and qs > 0 and newp > qd[0]:
            stats[1] += 1
            prio[v] = newp
            if qs >= len(qd):
                qd, qv = _grow(qd, 2 * len(qd)), _grow(qv, 2 * len(qv))
            qs = _push(qd, qv, qs, float(newp), v)
            continue
        # the shortcuts to add, with the thorough witness searches (unless the estimate's were
        # all complete: then they are the same searches)
        while (not onepass and ctr[1] > 0) or s > scap:
            if s > scap:
                scap = 2 * s
                su = np.empty(scap, dtype=np.int64)
                sw = np.empty(scap, dtype=np.int64)
                sc = np.empty(scap)
            stats[0] += 1
            s = _shortcuts(v, ost, osz, onb, ocs, ist, isz, inb, ics, limit, dist, touched,
                           hd, hv, su, sw, sc, tgt, cw, seen, ctr, hops, hop)
            if s <= scap:
                break
        t = 0
        while t < s:  # shortcuts come grouped by their tail u: mark u's heads once per group
            u = su[t]
            a = ost[u]
            for e in range(a, a + osz[u]):
                mark[onb[e]] = e
            while t < s and su[t] == u:
                w, c = sw[t], sc[t]
                e = mark[w]
                if e >= 0:
                    if c < ocs[e]:
                        ocs[e] = c
                        b = ist[w]
                        for f in range(b, b + isz[w]):
                            if inb[f] == u:
                                ics[f] = c
                                break
                else:
                    if osz[u] == ocp[u]:  # move u's out-block to the pool's end, twice the room
                        nc = 2 * ocp[u]
                        if otop + nc > len(onb):
                            onb, ocs = _grow(onb, 2 * (otop + nc)), _grow(ocs, 2 * (otop + nc))
                        a = ost[u]
                        for e2 in range(osz[u]):
                            onb[otop + e2] = onb[a + e2]
                            ocs[otop + e2] = ocs[a + e2]
                            mark[onb[otop + e2]] = otop + e2
                        ost[u] = otop
                        ocp[u] = nc
                        otop += nc
                    j = ost[u] + osz[u]
                    onb[j] = w
                    ocs[j] = c
                    osz[u] += 1
                    mark[w] = j
                    if isz[w] == icp[w]:
                        nc = 2 * icp[w]
                        if itop + nc > len(inb):
                            inb, ics = _grow(inb, 2 * (itop + nc)), _grow(ics, 2 * (itop + nc))
                        b = ist[w]
                        for e2 in range(isz[w]):
                            inb[itop + e2] = inb[b + e2]
                            ics[itop + e2] = ics[b + e2]
                        ist[w] = itop
                        icp[w] = nc
                        itop += nc
                    j = ist[w] + isz[w]
                    inb[j] = u
                    ics[j] = c
                    isz[w] += 1
                    added += 1
                    m_live += 1
                t += 1
            a = ost[u]
            for e in range(a, a + osz[u]):
                mark[onb[e]] = -1
        done[v] = True
        rank[orig[v]] = nxt_rank
        nxt_rank += 1
        # v's edges now are its hierarchy edges; its neighbours forget v
        if n_up + osz[v] > len(up_u):
            c2 = 2 * (n_up + osz[v])
            up_u, up_v, up_w = _grow(up_u, c2), _grow(up_v, c2), _grow(up_w, c2)
        if n_dn + isz[v] > len(dn_u):
            c2 = 2 * (n_dn + isz[v])
            dn_u, dn_v, dn_w = _grow(dn_u, c2), _grow(dn_v, c2), _grow(dn_w, c2)
        a = ost[v]
        for e in range(a, a + osz[v]):
            x = onb[e]
            up_u[n_up] = orig[v]
            up_v[n_up] = orig[x]
            up_w[n_up] = ocs[e]
            n_up += 1
            _remove(ist, isz, inb, ics, x, v)
        b = ist[v]
        for e in range(b, b + isz[v]):
            x = inb[e]
            dn_v[n_dn] = orig[v]
            dn_u[n_dn] = orig[x]
            dn_w[n_dn] = ics[e]
            n_dn += 1
            _remove(ost, osz, onb, ocs, x, v)
        # neighbours: one more contracted neighbour (per edge), deeper, re-evaluated
        for side in range(2):
            a = ost[v] if side == 0 else ist[v]
            k = osz[v] if side == 0 else isz[v]
            for e in range(a, a + k):
                x = onb[e] if side == 0 else inb[e]
                gone[x] += 1
                if depth[v] + 1 > depth[x]:
                    depth[x] = depth[v] + 1
                if resim:
                    stats[0] += 1
                    sx = _shortcuts(x, ost, osz, onb, ocs, ist, isz, inb, ics, sim, dist,
                                    touched, hd, hv, su, sw, sc, tgt, cw, seen, ctr, hops, hop)
                    ed[x] = 2 * (sx - osz[x] - isz[x])
                np_ = ed[x] + gone[x] + depth[x]
                if np_ != prio[x]:
                    prio[x] = np_
                    if not resim:
                        continue
                    if qs >= len(qd):
                        qd, qv = _grow(qd, 2 * len(qd)), _grow(qv, 2 * len(qv))
                    qs = _push(qd, qv, qs, float(np_), x)
        m_live -= osz[v] + isz[v]
        osz[v] = 0
        isz[v] = 0
        if len(hop_rule) and nxt_rank % 64 == 0:
            hops = _hops(m_live, n - nxt_rank, hop_rule)
        n_live = n - nxt_rank
        if compact and n_live >= 64 and 2 * n_live <= n_cur:
            # renumber the live nodes 0..n_live-1 (same relative order) into compact blocks:
            # the shrinking core's per-node arrays and lists stay small and close together
            newid = np.full(n_cur, -1, dtype=np.int64)
            r = 0
            tot_o = 0
            tot_i = 0
            for x in range(n_cur):
                if not done[x]:
                    newid[x] = r
                    r += 1
                    tot_o += osz[x] + 2
                    tot_i += isz[x] + 2
            onb2 = np.empty(tot_o, dtype=np.int32)
            ocs2 = np.empty(tot_o)
            inb2 = np.empty(tot_i, dtype=np.int32)
            ics2 = np.empty(tot_i)
            ost2 = np.empty(r, dtype=np.int64)
            osz2 = np.empty(r, dtype=np.int64)
            ocp2 = np.empty(r, dtype=np.int64)
            ist2 = np.empty(r, dtype=np.int64)
            isz2 = np.empty(r, dtype=np.int64)
            icp2 = np.empty(r, dtype=np.int64)
            depth2 = np.empty(r, dtype=np.int64)
            gone2 = np.empty(r, dtype=np.int64)
            prio2 = np.empty(r, dtype=np.int64)
            ed2 = np.empty(r, dtype=np.int64)
            orig2 = np.empty(r, dtype=np.int64)
            po = 0
            pi = 0
            for x in range(n_cur):
                y = newid[x]
                if y < 0:
                    continue
                ost2[y] = po
                osz2[y] = osz[x]
                ocp2[y] = osz[x] + 2
                for e in range(osz[x]):
                    onb2[po + e] = newid[onb[ost[x] + e]]
                    ocs2[po + e] = ocs[ost[x] + e]
                po += ocp2[y]
                ist2[y] = pi
                isz2[y] = isz[x]
                icp2[y] = isz[x] + 2
                for e in range(isz[x]):
                    inb2[pi + e] = newid[inb[ist[x] + e]]
                    ics2[pi + e] = ics[ist[x] + e]
                pi += icp2[y]
                depth2[y] = depth[x]
                gone2[y] = gone[x]
                prio2[y] = prio[x]
                ed2[y] = ed[x]
                orig2[y] = orig[x]
            onb, ocs, inb, ics = onb2, ocs2, inb2, ics2
            otop, itop = po, pi
            ost, osz, ocp, ist, isz, icp = ost2, osz2, ocp2, ist2, isz2, icp2
            depth, gone, prio, ed, orig = depth2, gone2, prio2, ed2, orig2
            done = np.zeros(r, dtype=np.bool_)
            dist = np.full(r, np.inf)
            tgt = np.full(r, -1, dtype=np.int32)
            cw = np.zeros(r)
            seen = np.full(r, -1, dtype=np.int64)
            hop = np.zeros(r, dtype=np.int32)
            mark = np.full(r, -1, dtype=np.int64)
            qd = np.empty(2 * r + 16)
            qv = np.empty(2 * r + 16, dtype=np.int64)
            qs = 0
            for y in range(r):
                qs = _push(qd, qv, qs, float(prio[y]), y)
            n_cur = r
    return (rank, up_u[:n_up], up_v[:n_up], up_w[:n_up], dn_v[:n_dn], dn_u[:n_dn],
            dn_w[:n_dn], added)


def _csr_by(keys: np.ndarray, vals: np.ndarray, w: np.ndarray, n: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(keys, minlength=n))
    return ptr, np.ascontiguousarray(vals[order], dtype=np.int64), np.ascontiguousarray(w[order])


def build(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
          witness_limit: int = WITNESS_SETTLE_LIMIT,
          simulation_limit: int = SIMULATION_SETTLE_LIMIT,
          resimulate: bool = False, onepass: bool = False,
          hop_rule: tuple[float, ...] = (), compact: bool = True) -> Hierarchy:
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
    onepass
        At a node's turn, estimate its priority with the thorough witness searches and keep
        their shortcuts when it is contracted, instead of a ``simulation_limit`` estimate
        followed by the thorough searches (default): one witness round per contraction
        instead of two, but a worse order (measured at 148k SYNTHETIC nodes: about as fast to
        build, queries 0.51 s instead of 0.37 s).
    hop_rule
        Hop limits of the witness searches by the live graph's mean out-degree: ``i + 1``
        edges while it is below ``hop_rule[i]``, unlimited beyond (default ``()``: no hop
        limit). A search that stops early only adds shortcuts that are not needed.

    Returns
    -------
    Hierarchy
        Upward and (backward-stored) downward graphs and the node ranks.
    """
    ip = np.ascontiguousarray(indptr, dtype=np.int64)
    ix = np.ascontiguousarray(indices, dtype=np.int64)
    w = np.ascontiguousarray(data, dtype=np.float64)
    n = len(ip) - 1
    rank, uu, uv, uw, dv, du, dw, added = _contract(
        ip, ix, w, int(witness_limit), int(simulation_limit), bool(resimulate), bool(onepass),
        np.asarray(hop_rule, dtype=np.float64), bool(compact),
        np.zeros(2, dtype=np.int64))
    up_ptr, up_idx, up_w = _csr_by(uu, uv, uw, n)
    dn_ptr, dn_idx, dn_w = _csr_by(dv, du, dw, n)
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
