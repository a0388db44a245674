"""GTFS through the build and the CLI: departures per hour on the chosen weekday and hours."""

from __future__ import annotations

from pathlib import Path

from test_gtfs import synthetic_files, write_zip

from geo.cli import main
from geo.store import open_snapshot


def _values(data: Path) -> dict[str, float]:
    t = open_snapshot("blekinge", data).layer("transit")
    return {str(r.name): float(r.value) for r in t.itertuples() if r.kind == "bus_stop"}


def test_cli_passes_weekday_and_hours(tmp_path: Path, towns_pack: Path) -> None:
    feed = write_zip(tmp_path / "synthetic.zip", synthetic_files())  # SYNTHETIC feed near Karlskrona
    data = tmp_path / "store"
    # the synthetic towns pack spares both builds the GeoNames fallback (what is tested is GTFS)
    base = ["--data-dir", str(data), "build", "--region", "blekinge", "--offline", "--quiet",
            "--no-default-packs", "--pack", str(towns_pack), "--gtfs", str(feed)]
    assert main([*base, "--gtfs-weekday", "saturday", "--gtfs-hours", "8-12"]) == 0
    # one Saturday trip leaves Torget at 10:00: 1 departure in 4 hours
    assert _values(data)["Torget"] == 0.25
    assert open_snapshot("blekinge", data).manifest["parameters"]["gtfs"] == {
        "weekday": "saturday", "date": None, "hours": [8, 12]}
    assert main([*base, "--gtfs-hours", "7-19"]) == 0
    # weekdays: buses leave Torget at 07:00, 07:30, 08:30, 18:30 inside 7-19 (06:30 and 19:30 outside)
    assert _values(data)["Torget"] == 4 / 12


def test_bad_hours_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    feed = write_zip(tmp_path / "synthetic.zip", synthetic_files())
    rc = main(["--data-dir", str(tmp_path), "build", "--offline", "--quiet", "--no-default-packs",
               "--gtfs", str(feed), "--gtfs-hours", "morning"])
    assert rc == 2
    assert "--gtfs-hours takes START-END" in capsys.readouterr().err
    assert not (tmp_path / "blekinge").exists()
