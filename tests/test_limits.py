"""Bounded inputs: no input makes the tool run unbounded or accept nonsense (README "Limits").

Every GTFS feed and zip here is SYNTHETIC, built by the test code (the hostile ones too: a
frequencies.txt with a 0.0001 s headway, a zip bomb, a forged zip header, impossible times), except
the damaged-zip case, which flips one byte in a temporary copy of the real MTA subway feed in
../shared/data/external/gtfs (skipped when absent).
"""

from __future__ import annotations

import io
import shutil
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _score_fixtures import make_snapshot
from test_gtfs import FREQ_FILES, synthetic_files, write_zip

from geo import settings
from geo.cli import main
from geo.errors import DataSourceError, LimitError, LivabilityError
from geo.grid import build_grid
from geo.scoring import resolve_weights
from geo.sources import gtfs
from geo.sources.gtfs import gtfs_from_zip

NYC = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "gtfs" / \
    "nyc_subway_gtfs.zip"
MB = 1 << 20


def _peak_mb(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn`` twice: timed, then traced; return (result or LivabilityError, peak MB, seconds).

    Only the project's own errors are returned for the caller to assert on; anything else (a
    crash, a failed assertion inside ``fn``) propagates and fails the test.

    Seconds are CPU seconds of this process (the machine is shared: wall time depends on the
    neighbours); tracemalloc slows pandas down several times, so they come from the untraced run.
    """
    def run() -> Any:
        try:
            return fn()
        except LivabilityError as exc:  # the caller asserts on its class and message
            return exc

    t0 = time.process_time()
    out = run()
    seconds = time.process_time() - t0
    tracemalloc.start()
    try:
        run()
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    return out, peak, seconds


def _one_line_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; assert exit 2 and a single ``error:`` line; return it."""
    capsys.readouterr()
    rc = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Import everything a GTFS read needs once, so timings measure the work, not the imports."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        gtfs_from_zip(write_zip(Path(d) / "warm.zip", FREQ_FILES))


# --- frequencies.txt ----------------------------------------------------------------------------


def test_tiny_headway_row_is_skipped_and_counted_quickly(tmp_path: Path) -> None:
    files = dict(FREQ_FILES)
    files["frequencies.txt"] = ("trip_id,start_time,end_time,headway_secs\n"
                                "f,07:00:00,09:00:00,600\n"
                                "f,00:00:00,47:00:00,0.0001\n")  # 1.7 billion runs if expanded
    path = write_zip(tmp_path / "headway.zip", files)
    result, peak, seconds = _peak_mb(lambda: gtfs_from_zip(path, hours=(7, 9)))
    assert not isinstance(result, Exception), result
    assert seconds < 1.0 and peak < 30, (seconds, peak)
    assert result.notes == ["GTFS: 1 of 2 frequencies.txt rows skipped (headway_secs below 1 s "
                            "such as '0.0001'); their runs are not counted"]
    layer = result.layers["transit"].set_index("uid")
    assert layer.loc["gtfs:X", "departures_day"] == 12 + 1  # the 600 s row + the plain trip n
    assert set(layer["coverage"]) == {"partial"}
    assert "1 of 2 frequencies.txt rows skipped" in result.provenance["transit"][0].note


@pytest.mark.parametrize("headway", ["0", "-5", "nan", "inf", "soon"])
def test_headway_not_a_number_of_seconds_is_skipped(tmp_path: Path, headway: str) -> None:
    files = dict(FREQ_FILES)
    files["frequencies.txt"] = ("trip_id,start_time,end_time,headway_secs\n"
                                f"f,07:00:00,09:00:00,{headway}\n")
    try:
        result = gtfs_from_zip(write_zip(tmp_path / "hw.zip", files))
    except DataSourceError as exc:  # "soon" is not a number: the CSV parser refuses the column
        assert headway == "soon"
        assert "frequencies.txt cannot be parsed as CSV" in str(exc)
        return
    assert result.notes[0].startswith("GTFS: 1 of 1 frequencies.txt rows skipped (headway_secs "
                                      "below 1 s")
    # the frequency trip is a template only: no runs, no departures from it; n still counts
    assert result.layers["transit"].set_index("uid").loc["gtfs:X", "departures_day"] == 1


def test_departure_cap_fires_before_any_expansion(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(FREQ_FILES)
    # a 31-stop template every second for 48 hours: 172,799 runs x 30 departures = 5,183,970
    files["stop_times.txt"] = "trip_id,stop_id,stop_sequence,arrival_time,departure_time\n" + "".join(
        f"f,{'XY'[i % 2]},{i + 1},07:{i:02d}:00,07:{i:02d}:00\n" for i in range(31))
    files["frequencies.txt"] = ("trip_id,start_time,end_time,headway_secs\n"
                                "f,00:00:00,47:59:59,1\n")
    path = write_zip(tmp_path / "cap.zip", files)

    class NoRepeat:  # numpy for the gtfs module, whose np.repeat (the expansion) must not run
        def __getattr__(self, name: str) -> Any:
            if name == "repeat":
                raise AssertionError("frequencies were expanded")
            return getattr(np, name)

    monkeypatch.setattr(gtfs, "np", NoRepeat())
    err, peak, seconds = _peak_mb(lambda: gtfs_from_zip(path))
    assert isinstance(err, DataSourceError), err
    assert str(err) == (
        f"GTFS zip {path}: frequencies.txt would make 5,183,970 departures on the service day, "
        "more than the limit of 5,000,000; check headway_secs (seconds between runs) and "
        "start_time/end_time")
    assert seconds < 1.0 and peak < 30, (seconds, peak)
    assert settings.GTFS_MAX_DEPARTURES == 5_000_000


# --- zips ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GTFS zip whose stop_times.txt is 200 MB of zeros (about 200 KB packed), written
    streaming so the test never holds it in memory."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in FREQ_FILES.items():
            if name != "stop_times.txt":
                zf.writestr(name, text)
        with zf.open("stop_times.txt", "w") as fh:
            fh.write(b"trip_id,stop_id,stop_sequence,arrival_time,departure_time\n")
            zeros = bytes(MB)
            for _ in range(200):
                fh.write(zeros)
    return path


def _no_csv_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: Any, **k: Any) -> None:
        raise AssertionError("a member was parsed")

    monkeypatch.setattr(gtfs.pacsv, "read_csv", refuse)


def test_zip_bomb_is_refused_from_the_directory(bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bomb.stat().st_size < 400_000
    _no_csv_reads(monkeypatch)
    err, peak, seconds = _peak_mb(lambda: gtfs_from_zip(bomb))
    assert isinstance(err, DataSourceError), err
    assert str(err) == (
        f"GTFS zip {bomb}: stop_times.txt unpacks 1,029 times its packed size (at most 200:1 is "
        "accepted): a zip bomb, not a GTFS feed; download the feed from its publisher")
    assert seconds < 0.5 and peak < 5, (seconds, peak)


def test_zip_bomb_through_the_cli(bomb: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _one_line_cli(capsys, "--data-dir", str(tmp_path), "build", "--offline", "--quiet",
                        "--no-default-packs", "--gtfs", str(bomb))
    assert "stop_times.txt unpacks 1,029 times its packed size" in err
    assert not (tmp_path / "blekinge").exists()


def test_total_uncompressed_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_zip(tmp_path / "big.zip", synthetic_files())
    with zipfile.ZipFile(path) as zf:
        total = sum(i.file_size for i in zf.infolist())  # every member is a table we read
    monkeypatch.setattr(settings, "ZIP_MAX_UNCOMPRESSED_BYTES", total - 1)
    _no_csv_reads(monkeypatch)
    with pytest.raises(DataSourceError) as err:
        gtfs_from_zip(path)
    assert str(err.value) == (
        f"GTFS zip {path} unpacks to {total:,} bytes, more than the limit of {total - 1:,}; use a "
        "regional feed or cut the feed down (e.g. with gtfs-kit) first")


def test_unread_members_do_not_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = synthetic_files() | {"shapes.txt": "x" * 100_000}
    path = write_zip(tmp_path / "shapes.zip", files)
    with zipfile.ZipFile(path) as zf:
        read = sum(i.file_size for i in zf.infolist() if i.filename != "shapes.txt")
    monkeypatch.setattr(settings, "ZIP_MAX_UNCOMPRESSED_BYTES", read)
    assert len(gtfs_from_zip(path).layers["transit"]) == 8


def _forge_size(path: Path, member: str, declared: int) -> None:
    """Rewrite the uncompressed size of ``member`` in the zip's central directory."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")  # the first central directory entry
    name = member.encode()
    while True:
        n = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + n] == name:
            break
        at = raw.index(b"PK\x01\x02", at + 4)
    raw[at + 24:at + 28] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def test_lying_header_stops_at_the_declared_size(tmp_path: Path) -> None:
    files = dict(FREQ_FILES)
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            if name != "stop_times.txt":
                zf.writestr(name, text)
        with zf.open("stop_times.txt", "w") as fh:  # 64 MB of valid-looking rows ...
            fh.write(b"trip_id,stop_id,stop_sequence,arrival_time,departure_time\n")
            block = b"f,X,1,07:00:00,07:00:00\n" * (MB // 24)
            for _ in range(64):
                fh.write(block)
    _forge_size(path, "stop_times.txt", 1000)  # ... declared as 1,000 bytes
    err, peak, seconds = _peak_mb(lambda: gtfs_from_zip(path))
    assert isinstance(err, DataSourceError), err
    assert str(err) == (f"GTFS zip {path}: stop_times.txt is damaged (Bad CRC-32 for file "
                        "'stop_times.txt'); download it again")
    assert peak < 10 and seconds < 1.0, (peak, seconds)


def test_bounded_stream_refuses_more_than_declared() -> None:
    stream = io.BufferedReader(gtfs._Bounded(io.BytesIO(b"x" * 5000), 1000, "GTFS zip z: a.txt"))
    with pytest.raises(DataSourceError) as err:
        stream.read()
    assert str(err.value) == ("GTFS zip z: a.txt holds more than the 1,000 bytes its zip "
                              "directory declares; the zip is damaged or forged, download it again")
    exact = io.BufferedReader(gtfs._Bounded(io.BytesIO(b"y" * 1000), 1000, "z"))
    assert exact.read() == b"y" * 1000


@pytest.fixture()
def nyc_copy(tmp_path: Path) -> Iterator[Path]:
    if not NYC.is_file():
        pytest.skip(f"real GTFS test feed not found at {NYC}")
    copy = tmp_path / "nyc.zip"
    shutil.copyfile(NYC, copy)
    yield copy


def _flip(path: Path, offset_in_stop_times: int) -> None:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("stop_times.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw = bytearray(path.read_bytes())
    raw[start + offset_in_stop_times] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(("offset", "why"), [
    (13, "Error -3 while decompressing data: invalid bit length repeat"),  # a zlib.error
    (5000, "Bad CRC-32 for file 'stop_times.txt'"),
])
def test_flipped_byte_in_a_real_feed(nyc_copy: Path, offset: int, why: str) -> None:
    assert len(gtfs_from_zip(nyc_copy, weekday="monday").layers["transit"]) == 91  # intact: fine
    _flip(nyc_copy, offset)
    with pytest.raises(DataSourceError) as err:
        gtfs_from_zip(nyc_copy, weekday="monday")
    assert str(err.value) == f"GTFS zip {nyc_copy}: stop_times.txt is damaged ({why}); download it again"


def test_flipped_byte_through_the_cli(nyc_copy: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _flip(nyc_copy, 13)
    err = _one_line_cli(capsys, "--data-dir", str(tmp_path / "store"), "build", "--offline",
                        "--quiet", "--no-default-packs", "--gtfs", str(nyc_copy))
    assert err.endswith("stop_times.txt is damaged (Error -3 while decompressing data: invalid "
                        "bit length repeat); download it again")
    assert not (tmp_path / "store" / "blekinge").exists()


# --- GTFS times ---------------------------------------------------------------------------------


def test_time_rule() -> None:
    values = ["07:00:00", "7:05:03", " 25:10:00", "47:59:59", "48:00:00", "25:99:00", "12:60:00",
              "12:00:60", "100:00:00", "7 pm", None]
    secs, bad = gtfs._seconds(pd.Series(values, dtype="object"))
    assert secs[:4].tolist() == [25200.0, 25503.0, 90600.0, 172799.0]
    assert np.isnan(secs[4:]).all()
    assert bad.tolist() == [False] * 4 + [True] * 6 + [False]  # empty is missing, not malformed


def _with_bad_times(n_bad: int) -> dict[str, str]:
    files = synthetic_files()
    rows = files["stop_times.txt"].splitlines()
    for i in range(1, n_bad + 1):  # the first rows of the bus trips
        trip, stop, seq, _, _, pick = rows[i].split(",")
        rows[i] = f"{trip},{stop},{seq},25:99:00,25:99:00,{pick}"
    files["stop_times.txt"] = "\n".join(rows) + "\n"
    return files


def test_bad_times_are_rejected_and_counted(tmp_path: Path) -> None:
    good = gtfs_from_zip(write_zip(tmp_path / "good.zip", synthetic_files()))
    n_rows = len(synthetic_files()["stop_times.txt"].splitlines()) - 1
    result = gtfs_from_zip(write_zip(tmp_path / "bad.zip", _with_bad_times(1)))
    note = (f"GTFS: 1 of {n_rows} stop_times rows with malformed times such as '25:99:00' were "
            "skipped (GTFS times are HH:MM:SS with MM and SS 00-59 and HH 00-47)")
    assert note in result.notes
    prov = result.provenance["transit"][0]
    assert prov.coverage == "partial"  # 1 of 44 rows is above the 1 % threshold
    assert prov.note.endswith(f"; 1 of {n_rows} stop_times rows skipped (malformed times)")
    # the rejected row (bus b0 leaving Torget at 06:30) is gone, not interpolated over
    before = good.layers["transit"].set_index("uid").loc["gtfs:A", "departures_day"]
    after = result.layers["transit"].set_index("uid").loc["gtfs:A", "departures_day"]
    assert (before, after) == (7, 6)
    assert good.provenance["transit"][0].coverage == "complete"


def test_few_bad_times_stay_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "GTFS_MAX_BAD_ROW_SHARE", 0.5)
    result = gtfs_from_zip(write_zip(tmp_path / "few.zip", _with_bad_times(2)))
    assert result.provenance["transit"][0].coverage == "complete"
    assert any("2 of" in n and "malformed times" in n for n in result.notes)


def test_all_bad_times_is_an_error_not_complete(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    files = synthetic_files()
    n_rows = len(files["stop_times.txt"].splitlines()) - 1
    path = write_zip(tmp_path / "allbad.zip", _with_bad_times(n_rows))
    with pytest.raises(DataSourceError) as err:
        gtfs_from_zip(path)
    assert str(err.value) == (
        f"GTFS zip {path}: stop_times.txt has no valid time ({n_rows} of {n_rows} rows have "
        "malformed times such as '25:99:00'); GTFS times are HH:MM:SS with MM and SS 00-59 and HH "
        "00-47")
    err_line = _one_line_cli(capsys, "--data-dir", str(tmp_path / "store"), "build", "--offline",
                             "--quiet", "--no-default-packs", "--gtfs", str(path))
    assert "stop_times.txt has no valid time" in err_line
    assert not (tmp_path / "store" / "blekinge").exists()


# --- H3 resolution, weights, names (the CLI) ------------------------------------------------------


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth")
    make_snapshot(data)
    return data


def _score(data: Path, *args: str) -> list[str]:
    return ["--data-dir", str(data), "score", "--region", "synth", "--sensitivity", "0", *args]


@pytest.mark.parametrize("res", ["-1", "0", "6", "11", "15", "99"])
def test_resolution_out_of_range(synth_store: Path, res: str, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _one_line_cli(capsys, *_score(synth_store, "--resolution", res))
    assert err == (f"error: H3 resolution {res} is outside 7-10; use 7 (coarse) to 10 (fine), 9 is "
                   "the default (about 0.1 km2 per cell)")


def test_resolution_default_and_bounds_work(synth_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for extra in ([], ["--resolution", "7"], ["--resolution", "10"]):
        capsys.readouterr()
        assert main(_score(synth_store, *extra)) == 0
        out = capsys.readouterr().out
        assert "Alpha" in out and "Gamma" in out


def test_build_grid_checks_resolution() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    loc = gpd.GeoDataFrame({"code": ["A"], "population": [100.0], "area_ha": [20.0],
                            "municipality": ["0001"]}, geometry=[Point(15.0, 56.0)], crs="EPSG:4326")
    for res in (-1, 0, 6, 15, 99, 9.5, True):
        with pytest.raises(LimitError, match=r"^H3 resolution .* is outside 7-10; use 7"):
            build_grid(loc, resolution=res)  # type: ignore[arg-type]
    assert len(build_grid(loc, resolution=7)) == 1
    assert len(build_grid(loc, resolution=np.int64(10))) == 16  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "shown"), [
    ("schools=1e308", "schools=1e+308"), ("schools=-1", "schools=-1.0"),
    ("schools=nan", "schools=nan"), ("schools=inf", "schools=inf"), ("schools=100.5", "schools=100.5"),
])
def test_weight_out_of_range(synth_store: Path, text: str, shown: str, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _one_line_cli(capsys, *_score(synth_store, "--weights", text))
    assert err == (f"error: weight {shown} is not a number from 0 to 100; give each theme a weight "
                   "in 0-100 (e.g. schools=3; 0 leaves a theme out)")


def test_all_zero_weights(synth_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from layers import LAYERS

    zero = ",".join(f"{k}=0" for k in LAYERS)
    err = _one_line_cli(capsys, *_score(synth_store, "--weights", zero))
    assert err == "error: all theme weights are 0; give at least one theme a weight > 0"


def test_weights_in_range_still_work(synth_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for text in ("schools=3,transit=1", "schools=100,transit=0"):
        capsys.readouterr()
        assert main(_score(synth_store, "--weights", text)) == 0
        assert "Alpha" in capsys.readouterr().out


def test_resolve_weights_limits() -> None:
    themes = ["schools", "transit"]
    for bad in (1e308, -1.0, float("nan"), float("inf"), -float("inf"), 101.0, "lots"):
        with pytest.raises(LimitError, match=r"^weight schools=.* is not a number from 0 to 100"):
            resolve_weights(themes, {"schools": bad})  # type: ignore[dict-item]
    with pytest.raises(LimitError, match="all theme weights are 0"):
        resolve_weights(themes, {"schools": 0, "transit": 0})
    assert resolve_weights(themes, {"schools": 100, "transit": 0}).tolist() == [100.0, 0.0]
    assert issubclass(LimitError, ValueError) and issubclass(LimitError, LivabilityError)


@pytest.mark.parametrize("option", ["--explain", "--region"])
def test_long_names_are_refused(synth_store: Path, option: str, capsys) -> None:  # type: ignore[no-untyped-def]
    err, _, seconds = _peak_mb(lambda: _one_line_cli(
        capsys, *_score(synth_store, option, "x" * 100_000)))
    assert err == (f"error: {option} is 100,000 characters long, more than the limit of 200; give "
                   "a name or code of at most 200")
    assert seconds < 1.0


@pytest.mark.parametrize("n", ["-1", "10001", "1000000000"])
def test_sensitivity_draws_bounded(synth_store: Path, n: str, capsys) -> None:  # type: ignore[no-untyped-def]
    err = _one_line_cli(capsys, *_score(synth_store)[:-2], "--sensitivity", n)
    assert err == (f"error: --sensitivity {n} is outside 0-10,000; give the number of draws for "
                   "the rank band (default 200, 0: no band)")


def test_sensitivity_within_bounds(synth_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main([*_score(synth_store)[:-2], "--sensitivity", "10000"]) == 0
    assert "Band" in capsys.readouterr().out


def test_long_names_elsewhere(synth_store: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    long = "B" * 201
    err = _one_line_cli(capsys, *_score(synth_store, "--weights", f"{long}=1"))
    assert "a --weights theme is 201 characters long" in err
    err = _one_line_cli(capsys, "--data-dir", str(synth_store), "build", "--offline", "--quiet",
                        "--region", long)
    assert err.startswith("error: --region is 201 characters long")
    err = _one_line_cli(capsys, "--data-dir", str(synth_store), "info", "--region", long)
    assert err.startswith("error: --region is 201 characters long")
    assert main(_score(synth_store, "--explain", "Alpha")) == 0  # a real name still works


def test_limits_are_named_and_documented() -> None:
    assert (settings.ZIP_MAX_UNCOMPRESSED_BYTES, settings.ZIP_MAX_RATIO) == (2 * 1024**3, 200)
    assert (settings.GTFS_MIN_HEADWAY_S, settings.GTFS_MAX_DEPARTURES) == (1.0, 5_000_000)
    assert (settings.GTFS_MAX_HOUR, settings.GTFS_MAX_BAD_ROW_SHARE) == (47, 0.01)
    assert list(settings.H3_RESOLUTIONS) == [7, 8, 9, 10]
    assert (settings.MAX_WEIGHT, settings.MAX_NAME_CHARS) == (100.0, 200)
    assert settings.MAX_SENSITIVITY_DRAWS == 10_000
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    limits = readme.split("### Limits", 1)[1].split("\n## ", 1)[0]
    for fact in ("2 GiB", "200:1", "headway_secs", "5 million", "47:59:59", "1 %", "7-10",
                 "0-100", "0-10,000", "200 characters"):
        assert fact in limits, fact
