"""Exports never lose a user's data: what --force may replace, exclusive claims, single files,
one-line write errors and hidden DSN passwords.

Every case checks the exit code (2), the one-line message and that nothing outside the intended
output changed: sibling files, the parent folder listing, a symlink's target, a FIFO standing in
for /dev/null (the real /dev/null is never touched). Every snapshot is SYNTHETIC
(tests/_export_fixtures.py).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from _export_fixtures import REGION, build_snapshot, fake_scores

import geo.export as ge
import geo.export_files as ef
from geo.cli import main
from geo.export import ExportError, export
from geo.export_files import EXPORT_MARKER
from geo.export_postgis import redact
from geo.settings import OSM_ATTRIBUTION
from geo.store import open_snapshot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def snap(tmp_path: Path) -> Any:
    return build_snapshot(tmp_path / "data")


@pytest.fixture()
def w(tmp_path: Path, snap: Any) -> Path:
    """The folder the exports go to, with a sibling file of the user's that must never change."""
    d = tmp_path / "w"
    d.mkdir()
    (d / "keep.txt").write_bytes(b"the user's own notes\n")
    return d


def _state(root: Path) -> dict[str, Any]:
    """Everything under ``root`` by relative path: type and bytes / link target (links not followed)."""
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = p.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", p.read_bytes())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode))
    return out


def _cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["--data-dir", str(tmp_path / "data"), "export", "--region", REGION, *args])
    return rc, capsys.readouterr().err.strip()


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], watch: Path, *args: str) -> str:
    """Run the CLI expecting a refusal: exit 2, one line, nothing under ``watch`` changed."""
    before = _state(watch)
    rc, err = _cli(tmp_path, capsys, *args)
    assert rc == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    assert _state(watch) == before, "a refused export changed files"
    return err


def _our_csv(snap: Any, out: Path, layers: list[str] | None = None) -> dict[str, Any]:
    export(snap, "csv", out, layers=layers or ["schools"])
    return _state(out)


# -- what --force may replace -------------------------------------------------------------------------
def test_gpkg_force_over_a_folder_is_refused(tmp_path: Path, w: Path, snap: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    foreign = w / "out.gpkg"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"years of work")
    err = _refused(tmp_path, capsys, w, "--format", "gpkg", "--out", str(foreign), "--force")
    assert f"error: {foreign} is a folder, but a gpkg export to this name is one file" in err
    # not even a folder this tool wrote becomes a file: never a folder-for-file swap
    ours = w / "ours.gpkg"
    _our_csv(snap, ours)
    err = _refused(tmp_path, capsys, w, "--format", "gpkg", "--out", str(ours), "--force")
    assert f"{ours} is a folder, but a gpkg export to this name is one file" in err
    # without --force the reason is the same (--force would not help)
    err = _refused(tmp_path, capsys, w, "--format", "gpkg", "--out", str(foreign))
    assert "is a folder, but a gpkg export" in err


def test_folder_formats_replace_only_folders_this_tool_wrote(tmp_path: Path, w: Path, snap: Any,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    foreign = w / "mine"
    foreign.mkdir()
    (foreign / "metadata.json").write_text('{"software": "something else"}')
    (foreign / "data.csv").write_text("a,b\n1,2\n")
    for fmt in ("csv", "parquet", "geojson"):
        err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", str(foreign), "--force")
        assert f"error: {foreign} is a folder this tool did not write (has no metadata.json with " \
               f"the '{EXPORT_MARKER}' marker" in err and "choose another --out" in err
    # our own earlier export, with a file of the user's added: refused, that file is theirs
    ours = w / "ours"
    _our_csv(snap, ours)
    (ours / "my_analysis.xlsx").write_bytes(b"user data")
    err = _refused(tmp_path, capsys, w, "--format", "csv", "--out", str(ours), "--force")
    assert "holds 'my_analysis.xlsx', which this tool did not write" in err
    (ours / "my_analysis.xlsx").unlink()
    (ours / "sub").mkdir()  # nor a sub-folder
    err = _refused(tmp_path, capsys, w, "--format", "csv", "--out", str(ours), "--force")
    assert "holds 'sub', which this tool did not write" in err


def test_force_replaces_our_previous_csv_folder(tmp_path: Path, w: Path, snap: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = w / "c"
    before = _our_csv(snap, out)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta[EXPORT_MARKER]["tool"] == "blekinge-livability"
    assert meta[EXPORT_MARKER]["format"] == "csv"
    assert sorted(meta[EXPORT_MARKER]["files"]) == sorted(p.name for p in out.iterdir())
    rc, err = _cli(tmp_path, capsys, "--format", "csv", "--out", str(out), "--force")
    assert rc == 0, err
    after = _state(out)
    assert after != before and "transit.csv" in after and "transit.csv" not in before
    assert sorted(p.name for p in w.iterdir()) == ["c", "keep.txt"]  # no temp or old copy left
    assert (w / "keep.txt").read_bytes() == b"the user's own notes\n"
    # and a folder from before the marker existed (metadata.json by this tool, our files only)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    del meta[EXPORT_MARKER]
    (out / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    assert export(snap, "parquet", out, force=True).counts["transit"] == 2
    assert (out / "transit.parquet").is_file() and not (out / "transit.csv").exists()


def test_csv_folder_force_over_a_regular_file_is_refused(tmp_path: Path, w: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    report = w / "report"
    report.write_bytes(b"important numbers")
    err = _refused(tmp_path, capsys, w, "--format", "csv", "--out", str(report), "--force")
    assert f"error: {report} is a file, but a csv export to this name is a folder" in err
    assert "a name ending in .csv for a single table" in err


def test_gpkg_force_replaces_a_regular_file(tmp_path: Path, w: Path, snap: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = w / "x.gpkg"
    export(snap, "gpkg", out, layers=["schools"])
    rc, err = _cli(tmp_path, capsys, "--format", "gpkg", "--out", str(out), "--force")
    assert rc == 0, err
    assert len(gpd.read_file(out, layer="transit")) == len(snap.layer("transit"))
    assert sorted(p.name for p in w.iterdir()) == ["keep.txt", "x.gpkg"]


def test_force_over_symlink_is_refused_and_target_intact(tmp_path: Path, w: Path, snap: Any,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    target = tmp_path / "elsewhere"
    _our_csv(snap, target)  # even a folder this tool wrote is not reached through a link
    (w / "link").symlink_to(target, target_is_directory=True)
    before_target = _state(target)
    for fmt in ("csv", "gpkg"):
        err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", str(w / "link"), "--force")
        assert f"error: {w / 'link'} is a symbolic link; exports neither follow nor replace " \
               "links" in err
    assert _state(target) == before_target
    (w / "flink.gpkg").symlink_to(w / "keep.txt")
    err = _refused(tmp_path, capsys, w, "--format", "gpkg", "--out", str(w / "flink.gpkg"),
                   "--force")
    assert "is a symbolic link" in err
    assert (w / "keep.txt").read_bytes() == b"the user's own notes\n"


@pytest.mark.parametrize("force", [False, True])
def test_empty_out_is_refused(tmp_path: Path, w: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch, force: bool) -> None:
    monkeypatch.chdir(w)
    for fmt in ("csv", "gpkg"):
        for empty in ("", "   "):
            err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", empty,
                           *(["--force"] if force else []))
            assert err == "error: --out is empty; give a file name (e.g. export.gpkg) or a new " \
                          "folder name"


def test_current_folder_and_its_parents_are_refused(tmp_path: Path, w: Path, snap: Any,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    deep = w / "sub" / "deeper"
    deep.mkdir(parents=True)
    # make the cwd look like our own export, so only the cwd rule can stop it
    export(snap, "csv", w / "probe", layers=["schools"])
    for f in (w / "probe").iterdir():
        f.rename(deep / f.name)
    (w / "probe").rmdir()
    monkeypatch.chdir(deep)
    for out in (".", "..", str(w / "sub"), str(w), "./"):
        err = _refused(tmp_path, capsys, w, "--format", "csv", "--out", out, "--force")
        assert "is the current folder or one of its parents; an export never replaces it" in err
        assert err.startswith(f"error: {Path(os.path.abspath(out))} is the current folder")


def test_force_over_fifo_is_refused(tmp_path: Path, w: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    null = w / "null"  # stands in for /dev/null
    os.mkfifo(null)
    for fmt in ("gpkg", "csv"):
        err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", str(null), "--force")
        assert err == (f"error: {null} is a FIFO (named pipe), not a regular file; exports only "
                       "replace regular files: choose another --out")
    assert stat.S_ISFIFO(os.lstat(null).st_mode)


def test_force_over_character_device_is_refused(tmp_path: Path, w: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    dev = w / "devnull"  # a device node like /dev/null, made in the temp folder
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    err = _refused(tmp_path, capsys, w, "--format", "gpkg", "--out", str(dev), "--force")
    assert f"{dev} is a character device, not a regular file" in err
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


# -- a file name is a file ------------------------------------------------------------------------------
def test_geojson_single_layer_to_a_file_name(tmp_path: Path, w: Path, snap: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = w / "t.geojson"
    rc, err = _cli(tmp_path, capsys, "--format", "geojson", "--layers", "transit", "--out", str(out))
    assert rc == 0, err
    assert out.is_file()
    with out.open(encoding="utf-8") as fh:
        fc = json.load(fh)
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    assert len(fc["features"]) == len(snap.layer("transit")) == 2
    assert fc["attribution"] == OSM_ATTRIBUTION
    assert fc["metadata"]["software"].startswith("blekinge-livability ")
    assert fc["metadata"]["sources"][0]["license"] == "ODbL-1.0"
    assert sorted(p.name for p in w.iterdir()) == ["keep.txt", "t.geojson"]


def test_several_tables_into_a_file_name_are_refused(tmp_path: Path, w: Path, snap: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = w / "x.geojson"
    err = _refused(tmp_path, capsys, w, "--format", "geojson", "--layers", "transit,schools",
                   "--out", str(out))
    assert f"error: {out} names one geojson file, but this export has 2 tables (transit, " \
           f"schools); give a folder --out such as {w / 'x'}" in err
    # score tables count too
    with pytest.raises(ExportError, match=r"has 4 tables \(transit, locality_scores, "
                                          r"municipality_scores, cell_scores\)"):
        export(snap, "csv", w / "x.csv", layers=["transit"], scores=fake_scores())
    assert sorted(p.name for p in w.iterdir()) == ["keep.txt"]


def test_csv_and_parquet_single_table_files(tmp_path: Path, w: Path, snap: Any) -> None:
    rep = export(snap, "csv", w / "s.csv", layers=["schools"])
    assert rep.counts == {"schools": 3}
    df = pd.read_csv(w / "s.csv")
    assert len(df) == len(snap.layer("schools")) and {"lon", "lat"} <= set(df)
    assert set(df["attribution"]) == {"SYNTHETIC test data (not real)"}
    export(snap, "parquet", w / "t.parquet", layers=["transit"])
    back = gpd.read_parquet(w / "t.parquet")
    assert sorted(back["uid"]) == sorted(snap.layer("transit")["uid"])
    prov = json.loads(pq.read_schema(w / "t.parquet").metadata[b"livability"])
    assert prov["table"]["attribution"] == OSM_ATTRIBUTION
    # a single-file name over an existing folder is a file-for-folder swap: refused
    (w / "d.csv").mkdir()
    with pytest.raises(ExportError, match=r"d\.csv is a folder, but a csv export to this name is "
                                          r"one file"):
        export(snap, "csv", w / "d.csv", layers=["schools"], force=True)
    assert sorted(p.name for p in w.iterdir()) == ["d.csv", "keep.txt", "s.csv", "t.parquet"]


# -- two writers, one new name ----------------------------------------------------------------------------
def _race(data: Path, fmt: str, out: Path, layers: list[str] | None,
          force: bool = False) -> list[Any]:
    """Two threads exporting to ``out`` at once; their reports or ExportErrors."""
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = export(open_snapshot(REGION, data), fmt, out, layers=layers, force=force)
        except ExportError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _meet_at_the_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold both writers at the exclusive claim of the output name until both are there."""
    barrier = threading.Barrier(2, timeout=60)
    for claim in ("_claim_file", "_claim_folder"):
        real = getattr(ge, claim)

        def at_once(tmp: Path, out: Path, _real: Any = real) -> None:
            barrier.wait()
            _real(tmp, out)

        monkeypatch.setattr(ge, claim, at_once)


#: One race per format in the unit suite (the barrier makes every run a real race at the claim);
#: `make test` repeats it 8 times for other interleavings after the barrier.
RACE_RUNS = [1, pytest.param(8, marks=pytest.mark.slow, id="8-runs")]


@pytest.mark.parametrize("runs", RACE_RUNS)
@pytest.mark.parametrize(("fmt", "name", "layers"), [("gpkg", "x.gpkg", ["schools"]),
                                                     ("csv", "c", ["schools"]),
                                                     ("geojson", "t.geojson", ["transit"])])
def test_two_threads_racing_for_a_new_name_one_wins(tmp_path: Path, w: Path, snap: Any,
                                                    monkeypatch: pytest.MonkeyPatch, fmt: str,
                                                    name: str, layers: list[str],
                                                    runs: int) -> None:
    """Both writers pass the early check, then meet at the claim: exactly one may win."""
    _meet_at_the_claim(monkeypatch)
    for run in range(runs):
        out = w / f"{run}-{name}"
        results = _race(tmp_path / "data", fmt, out, layers)
        wins = [r for r in results if isinstance(r, ge.ExportReport)]
        errors = [r for r in results if isinstance(r, ExportError)]
        assert len(wins) == 1 and len(errors) == 1, results
        assert str(errors[0]) == (f"{out} already exists (another export created it meanwhile); "
                                  "pass --force to overwrite it or choose another --out")
        _assert_complete(fmt, out, snap, layers[0])
    want = sorted(["keep.txt", *(f"{r}-{name}" for r in range(runs))])
    assert sorted(p.name for p in w.iterdir()) == want  # no temporary file left behind


def _assert_complete(fmt: str, out: Path, snap: Any, layer: str) -> None:
    n = len(snap.layer(layer))
    if fmt == "gpkg":
        assert len(gpd.read_file(out, layer=layer)) == n
        assert set(gpd.read_file(out, layer="metadata")["table_name"]) >= {layer, "boundary"}
    elif fmt == "csv":
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        assert sorted(meta[EXPORT_MARKER]["files"]) == sorted(p.name for p in out.iterdir())
        assert len(pd.read_csv(out / f"{layer}.csv")) == n
    else:
        assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == n


def test_two_forced_writers_racing_for_a_new_name(tmp_path: Path, w: Path, snap: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With --force too, one writer claims the new name; the other stops, replacing nothing."""
    _meet_at_the_claim(monkeypatch)
    for fmt, name in (("csv", "c"), ("gpkg", "x.gpkg")):
        out = w / name
        results = _race(tmp_path / "data", fmt, out, ["schools"], force=True)
        errors = [str(r) for r in results if isinstance(r, ExportError)]
        assert errors == [f"{out} was created by another export while this one was writing; "
                          "nothing was replaced: run the export again to replace it"], results
        _assert_complete(fmt, out, snap, "schools")
    assert sorted(p.name for p in w.iterdir()) == ["c", "keep.txt", "x.gpkg"]


@pytest.mark.slow
def test_two_cli_processes_racing_for_a_new_name(tmp_path: Path, w: Path, snap: Any) -> None:
    """Two real `python -m geo.cli export` processes started together, 8 times, 3 formats."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cases = [("gpkg", "x.gpkg", "schools"), ("csv", "c", "schools"),
             ("geojson", "t.geojson", "transit")]
    late = 0
    for run in range(8):
        fmt, name, layer = cases[run % len(cases)]
        out = w / f"{run}-{name}"
        cmd = [sys.executable, "-m", "geo.cli", "--data-dir", str(tmp_path / "data"), "export",
               "--region", REGION, "--format", fmt, "--layers", layer, "--out", str(out)]
        procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        done = [(p.wait(180), *p.communicate()) for p in procs]
        codes = sorted(rc for rc, _, _ in done)
        assert codes == [0, 2], done
        err = next(e for rc, _, e in done if rc == 2).strip()
        assert err.startswith(f"error: {out} already exists") and "\n" not in err, err
        late += "meanwhile" in err
        _assert_complete(fmt, out, snap, layer)
    assert sorted(p.name for p in w.iterdir()) == sorted(
        ["keep.txt", *(f"{r}-{cases[r % 3][1]}" for r in range(8))])
    print(f"\n{late} of 8 losers got past the early check and lost at the claim")


# -- write errors: one line, nothing left behind -------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "name"), [("gpkg", "x.gpkg"), ("csv", "c"), ("geojson", "t.geojson")])
def test_disk_full_is_one_line_and_leaves_nothing(tmp_path: Path, w: Path, snap: Any,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch, fmt: str,
                                                  name: str) -> None:
    def full(table: Any, f: str, target: Path, bundle: Any) -> None:
        with open(target, "wb") as fh:  # a partial temporary file, then the disk is full
            fh.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ef, "write_table", full)
    out = w / name
    err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", str(out), "--layers", "transit")
    assert err == (f"error: cannot write {out}: No space left on device; free space or choose "
                   "another --out (nothing was written; the previous output, if any, is unchanged)")
    assert sorted(p.name for p in w.iterdir()) == ["keep.txt"]


def test_permission_denied_is_one_line(tmp_path: Path, w: Path, snap: Any,
                                       capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ro = w / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root: the mode does not stop us, so the OS is simulated
            def denied(*args: Any, **kwargs: Any) -> Any:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(ro))

            monkeypatch.setattr(ge.tempfile, "mkdtemp", denied)
            monkeypatch.setattr(ge.tempfile, "mkstemp", denied)
        for fmt, name in (("gpkg", "x.gpkg"), ("csv", "c")):
            out = ro / name
            err = _refused(tmp_path, capsys, w, "--format", fmt, "--out", str(out))
            assert err == (f"error: cannot write {out}: Permission denied; check the folder's "
                           "permissions or choose another --out (nothing was written; the "
                           "previous output, if any, is unchanged)")
    finally:
        ro.chmod(0o755)
    assert list(ro.iterdir()) == []


@contextlib.contextmanager
def _tmpfs(where: Path, size: str = "5m") -> Iterator[Path]:
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip() or res.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_real_full_and_read_only_file_system(tmp_path: Path, snap: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with _tmpfs(tmp_path / "fs") as fs:
        (fs / "keep.txt").write_bytes(b"the user's own notes\n")
        filler = fs / "filler"
        with filler.open("wb", buffering=0) as fh:  # fill the 5 MB file system to the last block
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        for fmt, name in (("csv", "c"), ("gpkg", "x.gpkg"), ("geojson", "t.geojson")):
            out = fs / name
            err = _refused(tmp_path, capsys, fs, "--format", fmt, "--out", str(out), "--layers",
                           "transit")
            assert err == (f"error: cannot write {out}: No space left on device; free space or "
                           "choose another --out (nothing was written; the previous output, if "
                           "any, is unchanged)")
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        for fmt, name in (("csv", "c"), ("gpkg", "x.gpkg")):
            out = fs / name
            err = _refused(tmp_path, capsys, fs, "--format", fmt, "--out", str(out))
            assert err == (f"error: cannot write {out}: Read-only file system; the file system is "
                           "read-only: choose another --out (nothing was written; the previous "
                           "output, if any, is unchanged)")
        assert sorted(p.name for p in fs.iterdir()) == ["keep.txt"]


# -- DSN passwords ------------------------------------------------------------------------------------------
SECRET = "s3cr@et/x"
DSNS = [
    f"postgresql://me:{SECRET}@127.0.0.1:1/nodb",
    "postgresql://me:s3cr@et@127.0.0.1:1/nodb",
    "postgresql://me:s3cret@127.0.0.1:1/nodb?sslmode=disable",
    "postgresql://me@127.0.0.1:1/nodb?connect_timeout=5&password=s3cret",
    "host=127.0.0.1 port=1 user=me password=s3cret dbname=nodb",
    f"host=127.0.0.1 port=1 user=me password='{SECRET}' dbname=nodb",
]
FRAGMENTS = ("s3cr", "et/x", "et@", "s3cret")


@pytest.mark.parametrize("dsn", DSNS)
def test_password_never_in_messages_or_logs(tmp_path: Path, snap: Any, dsn: str,
                                            capsys: pytest.CaptureFixture[str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ExportError, match=r"cannot connect to PostgreSQL at .*127\.0\.0\.1") as exc:
        export(snap, "postgis", dsn, layers=["schools"])
    text = str(exc.value)
    assert "\n" not in text and "***" in text
    rc, err = _cli(tmp_path, capsys, "--format", "postgis", "--out", dsn, "--layers",
                   "schools")
    assert rc == 2 and err.startswith("error: cannot connect to PostgreSQL at ")
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for frag in FRAGMENTS:
        assert frag not in text and frag not in err and frag not in logs, frag
    assert "127.0.0.1" in redact(dsn) and not any(f in redact(dsn) for f in FRAGMENTS)


def test_pgpassword_and_bad_dsns_are_not_echoed(tmp_path: Path, snap: Any,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PGPASSWORD", "envs3cret")
    with pytest.raises(ExportError, match="cannot connect") as exc:
        export(snap, "postgis", "postgresql://me@127.0.0.1:1/nodb", layers=["schools"])
    assert "envs3cret" not in str(exc.value)
    for bad in ("mysql://me:s3cret@host/db", "host=x password='s3cret"):
        with pytest.raises(ExportError, match=r"not a (valid )?PostgreSQL DSN") as exc:
            export(snap, "postgis", bad)
        assert "s3cret" not in str(exc.value), str(exc.value)
    assert not any("s3cret" in r.getMessage() for r in caplog.records)
    assert redact("host=x password='s e c' dbname=y") == "host=x password=*** dbname=y"
    assert redact("postgresql://u:p%40ss@h/db?password=x%26y") == \
        "postgresql://u:***@h/db?password=***"
