"""GTFS source: departures per hour, headways, kinds, clipping, bad input, download cache.

Every feed here is SYNTHETIC, built by the test code below (invented stops near 15.6 E 56.2 N with
invented timetables); none of it is real transit data.
"""

from __future__ import annotations

import logging
import math
import zipfile
from pathlib import Path

import pytest
import requests
from shapely.geometry import box

from geo.errors import DataSourceError, OfflineError
from geo.schema import FEATURE_COLUMNS
from geo.sources import gtfs
from geo.sources.gtfs import gtfs_from_url, gtfs_from_zip


def write_zip(path: Path, files: dict[str, str], *, compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def _trip_rows(trip: str, stops: list[tuple[str, str]], pickup: dict[str, int] | None = None
               ) -> list[str]:
    pickup = pickup or {}
    return [f"{trip},{stop},{i + 1},{t},{t},{pickup.get(stop, 0)}"
            for i, (stop, t) in enumerate(stops)]


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


# Bus: Torget (A) -> Centralstation bus platform (STN_P2, +5 min) -> Skolan (B, +12 min, last stop)
BUS_STARTS = [6 * 60 + 30, 7 * 60, 7 * 60 + 30, 8 * 60 + 30, 18 * 60 + 30, 19 * 60 + 30,
              25 * 60 + 10]
# Rail in: Bergby (R) -> Mellanby (M, no time: interpolated) -> Centralstation platform (STN_P1)
RAIL_IN = [7 * 60 + 15, 9 * 60 + 15, 11 * 60 + 15]
# Rail out: Centralstation (STN_P1) -> Bergby (R)
RAIL_OUT = [8 * 60, 10 * 60, 12 * 60, 16 * 60]


def synthetic_files(*, feed_info: bool = True) -> dict[str, str]:
    """A small SYNTHETIC feed: one bus, one rail and one ferry route, weekday and Saturday service,
    a holiday Tuesday (2026-03-17) that replaces the weekday service by a single extra trip."""
    stops = "\n".join([
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station",
        "STN,Centralstation,56.1600,15.5900,1,",
        "STN_P1,Centralstation spår 1,56.1601,15.5905,0,STN",
        "STN_P2,Centralstation läge B,56.1599,15.5895,0,STN",
        "STN_E,Centralstation entré,56.1602,15.5901,2,STN",
        "A,Torget,56.1700,15.6000,,",
        "B,Skolan,56.2000,15.6500,0,",
        "M,Mellanby,56.2200,15.6600,0,",
        "R,Bergby,56.2500,15.7000,0,",
        "F,Färjeläget,56.1500,15.6100,0,",
        "G,Ön,56.1300,15.6300,0,",
        "U,Oanvänd,56.1710,15.6010,0,",
    ])
    routes = "\n".join([
        "route_id,agency_id,route_short_name,route_type",
        "BUS1,X,1,3",
        "RAIL1,X,Pågatåg,2",
        "FERRY1,X,Färja,1000",
    ])
    trips = ["route_id,service_id,trip_id"]
    st = ["trip_id,stop_id,stop_sequence,arrival_time,departure_time,pickup_type"]
    for i, t0 in enumerate(BUS_STARTS):
        trips.append(f"BUS1,WK,b{i}")
        # the after-midnight trip only drops off at the station
        pickup = {"STN_P2": 1} if t0 > 24 * 60 else None
        st += _trip_rows(f"b{i}", [("A", _hm(t0)), ("STN_P2", _hm(t0 + 5)),
                                   ("B", _hm(t0 + 12))], pickup)
    for i, t0 in enumerate(RAIL_IN):
        trips.append(f"RAIL1,WK,ri{i}")
        st += _trip_rows(f"ri{i}", [("R", _hm(t0)), ("M", ""), ("STN_P1", _hm(t0 + 30))])
    for i, t0 in enumerate(RAIL_OUT):
        trips.append(f"RAIL1,WK,ro{i}")
        st += _trip_rows(f"ro{i}", [("STN_P1", _hm(t0)), ("R", _hm(t0 + 30))])
    # invalid GTFS: the first stop has no time; its rows must not borrow times from other trips
    trips.append("BUS1,WK,bad")
    st += _trip_rows("bad", [("B", ""), ("A", "")])
    trips.append("FERRY1,WK,f0")
    st += _trip_rows("f0", [("F", "09:00:00"), ("G", "09:40:00")])
    trips.append("BUS1,SAT,s0")
    st += _trip_rows("s0", [("A", "10:00:00"), ("STN_P2", "10:05:00"), ("B", "10:12:00")])
    trips.append("BUS1,EXTRA,x0")
    st += _trip_rows("x0", [("A", "12:00:00"), ("STN_P2", "12:05:00"), ("B", "12:12:00")])
    calendar = "\n".join([
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date",
        "WK,1,1,1,1,1,0,0,20260105,20260329",
        "SAT,0,0,0,0,0,1,0,20260105,20260329",
    ])
    calendar_dates = "\n".join([
        "service_id,date,exception_type",
        "WK,20260317,2",
        "EXTRA,20260317,1",
    ])
    files = {
        "stops.txt": stops + "\n",
        "routes.txt": routes + "\n",
        "trips.txt": "\n".join(trips) + "\n",
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar.txt": calendar + "\n",
        "calendar_dates.txt": calendar_dates + "\n",
    }
    if feed_info:
        files["feed_info.txt"] = (
            "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date\n"
            "Synthetic Test Transit,https://example.invalid,sv,20260112,20260329\n"
        )
    return files


@pytest.fixture
def feed_zip(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "synthetic.zip", synthetic_files())


def by_uid(result):  # type: ignore[no-untyped-def]
    layer = result.layers["transit"]
    return {row.uid: row for row in layer.itertuples(index=False)}


def test_departures_headways_kinds(feed_zip: Path) -> None:
    result = gtfs_from_zip(feed_zip)
    assert result.name == "GTFS Synthetic Test Transit"
    layer = result.layers["transit"]
    assert list(layer.columns[: len(FEATURE_COLUMNS) - 1]) == list(FEATURE_COLUMNS[:-1])
    for extra in ("departures_day", "headway_min", "route_types"):
        assert extra in layer.columns
    rows = by_uid(result)
    # U is in no trip, STN_E is an entrance: neither becomes a row; platforms merge into STN
    assert set(rows) == {"gtfs:STN", "gtfs:STN:bus_stop", "gtfs:A", "gtfs:B", "gtfs:M",
                         "gtfs:R", "gtfs:F", "gtfs:G"}

    a = rows["gtfs:A"]  # bus at 07:00 07:30 08:30 18:30 in [7, 19); 7 on the service day
    assert a.kind == "bus_stop" and a.name == "Torget"
    assert a.value == pytest.approx(4 / 12)
    assert a.departures_day == 7
    assert a.headway_min == pytest.approx((18 * 60 + 30 - 7 * 60) / 3)
    assert a.route_types == "3"
    assert (a.geometry.x, a.geometry.y) == pytest.approx((15.6, 56.17))

    stn = rows["gtfs:STN"]  # rail out of the station at 08, 10, 12, 16
    assert stn.kind == "rail_station" and stn.name == "Centralstation"
    assert stn.value == pytest.approx(4 / 12)
    assert stn.departures_day == 4
    assert stn.headway_min == pytest.approx(160.0)
    assert stn.route_types == "2"
    assert (stn.geometry.x, stn.geometry.y) == pytest.approx((15.59, 56.16))  # the station's
    stn_bus = rows["gtfs:STN:bus_stop"]  # the 25:15 run has pickup_type 1 there
    assert stn_bus.kind == "bus_stop" and stn_bus.name == "Centralstation"
    assert stn_bus.departures_day == 6
    assert stn_bus.value == pytest.approx(4 / 12)

    b = rows["gtfs:B"]  # last stop of every trip: served, but no departures
    assert b.kind == "bus_stop" and b.value == 0 and b.departures_day == 0
    assert math.isnan(b.headway_min)

    m = rows["gtfs:M"]  # interpolated 07:30 09:30 11:30
    assert m.kind == "rail_station"
    assert m.departures_day == 3 and m.value == pytest.approx(3 / 12)
    assert m.headway_min == pytest.approx(120.0)
    assert rows["gtfs:R"].value == pytest.approx(3 / 12)
    assert rows["gtfs:F"].kind == "ferry_stop" and rows["gtfs:F"].departures_day == 1
    assert rows["gtfs:F"].route_types == "1000"
    assert math.isnan(rows["gtfs:F"].headway_min)
    assert rows["gtfs:G"].kind == "ferry_stop" and rows["gtfs:G"].departures_day == 0


def test_provenance_and_representative_date(feed_zip: Path) -> None:
    result = gtfs_from_zip(feed_zip)
    layer = result.layers["transit"]
    assert set(layer["source"]) == {"GTFS: Synthetic Test Transit"}
    assert set(layer["license"]) == {gtfs.DEFAULT_LICENSE}
    assert set(layer["source_date"]) == {"2026-01-12..2026-03-29"}
    assert set(layer["coverage"]) == {"complete"}
    (prov,) = result.provenance["transit"]
    # first Tuesday inside feed_info's validity with the median number of trips
    assert "2026-01-13 (tuesday)" in prov.note
    assert result.notes == []


def test_calendar_dates_exceptions_on_a_given_date(feed_zip: Path) -> None:
    holiday = by_uid(gtfs_from_zip(feed_zip, date="2026-03-17"))
    assert holiday["gtfs:A"].departures_day == 1  # only the EXTRA trip at 12:00
    assert holiday["gtfs:A"].value == pytest.approx(1 / 12)
    assert math.isnan(holiday["gtfs:A"].headway_min)
    assert holiday["gtfs:STN"].departures_day == 0
    normal = by_uid(gtfs_from_zip(feed_zip, date="2026-03-10"))
    assert normal["gtfs:A"].departures_day == 7
    saturday = by_uid(gtfs_from_zip(feed_zip, weekday="saturday"))
    assert saturday["gtfs:A"].departures_day == 1
    assert saturday["gtfs:A"].value == pytest.approx(1 / 12)
    assert saturday["gtfs:STN"].value == 0


def test_no_service_on_weekday_is_a_note(feed_zip: Path) -> None:
    result = gtfs_from_zip(feed_zip, weekday="sunday")
    layer = result.layers["transit"]
    assert len(layer) == 8
    assert (layer["value"] == 0).all() and (layer["departures_day"] == 0).all()
    assert any("sunday" in n for n in result.notes)


def test_hours_past_midnight(feed_zip: Path) -> None:
    rows = by_uid(gtfs_from_zip(feed_zip, hours=(24, 26)))
    assert rows["gtfs:A"].value == pytest.approx(1 / 2)  # 25:10
    assert rows["gtfs:STN:bus_stop"].value == 0  # 25:15 has no pickup


def test_clip_to_polygon(feed_zip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    poly = box(15.55, 56.10, 15.68, 56.23)  # everything but Bergby (R)
    rows = by_uid(gtfs_from_zip(feed_zip, poly))
    assert "gtfs:R" not in rows
    assert set(rows) == {"gtfs:STN", "gtfs:STN:bus_stop", "gtfs:A", "gtfs:B", "gtfs:M",
                         "gtfs:F", "gtfs:G"}
    assert rows["gtfs:M"].departures_day == 3  # interpolation still uses the clipped-away R
    around_a = box(15.595, 56.165, 15.605, 56.175)
    # within 2 km of the box: the station (0.65 km) and the ferry quay (1.7 km), not B (2.8 km)
    near = by_uid(gtfs_from_zip(feed_zip, around_a))
    assert set(near) == {"gtfs:A", "gtfs:STN", "gtfs:STN:bus_stop", "gtfs:F"}
    monkeypatch.setattr(gtfs, "CLIP_TOLERANCE_M", 0.0)
    assert set(by_uid(gtfs_from_zip(feed_zip, around_a))) == {"gtfs:A"}


def test_calendar_dates_only_feed_and_nested_folder(tmp_path: Path) -> None:
    files = synthetic_files(feed_info=False)
    del files["calendar.txt"]
    files["calendar_dates.txt"] = "service_id,date,exception_type\n" + "".join(
        f"WK,{d},1\n" for d in ("20260310", "20260311", "20260317")
    )
    # a byte-order mark and blanks after the commas, as some exporters write them
    files["stops.txt"] = "\ufeff" + files["stops.txt"].replace(",", ", ")
    nested = {f"feed/{k}": v for k, v in files.items()}
    result = gtfs_from_zip(write_zip(tmp_path / "cd_only.zip", nested))
    rows = by_uid(result)
    assert rows["gtfs:A"].departures_day == 7  # Tuesday 2026-03-10 (ties: earliest)
    assert rows["gtfs:A"].name == "Torget" and rows["gtfs:STN"].kind == "rail_station"
    assert result.name == "GTFS cd_only"
    assert set(result.layers["transit"]["source_date"]) == {"2026-03-10..2026-03-17"}


FREQ_FILES = {
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nX,Ett,56.1,15.1\nY,Två,56.2,15.2\n",
    "routes.txt": "route_id,route_type\nT,700\n",
    "trips.txt": "route_id,service_id,trip_id\nT,ALL,f\nT,ALL,n\n",
    "stop_times.txt": (
        "trip_id,stop_id,stop_sequence,arrival_time,departure_time\n"
        "f,X,1,07:00:00,07:00:00\nf,Y,2,07:20:00,07:20:00\n"
        "n,X,1,24:30:00,24:30:00\nn,Y,2,24:50:00,24:50:00\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "ALL,1,1,1,1,1,1,1,20260101,20261231\n"
    ),
    # every 10 minutes from 07:00 to (not including) 09:00, and every 30 minutes 17:00-18:00
    "frequencies.txt": (
        "trip_id,start_time,end_time,headway_secs\nf,07:00:00,09:00:00,600\n"
        "f,17:00:00,18:00:00,1800\n"
    ),
}


def test_frequencies_and_times_past_24(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "freq.zip", FREQ_FILES)
    x = by_uid(gtfs_from_zip(path, hours=(7, 9)))["gtfs:X"]
    assert x.departures_day == 12 + 2 + 1
    assert x.value == pytest.approx(12 / 2)
    assert x.headway_min == pytest.approx(10.0)
    late = by_uid(gtfs_from_zip(path, hours=(24, 25)))["gtfs:X"]
    assert late.value == pytest.approx(1.0)
    assert by_uid(gtfs_from_zip(path))["gtfs:X"].value == pytest.approx(14 / 12)


# --- bad input ----------------------------------------------------------------------------------


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("<html>not found</html>")
    with pytest.raises(DataSourceError, match=r"feed\.zip is not a readable zip.*GTFS \.zip"):
        gtfs_from_zip(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"nope\.zip does not exist.*GTFS \.zip"):
        gtfs_from_zip(tmp_path / "nope.zip")


def test_corrupt_zip_member(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "broken.zip", synthetic_files(), compress=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"b0,A,1,06:30:00")
    raw[at: at + 4] = b"ZZZZ"  # same length: the zip opens, the CRC check fails on reading
    path.write_bytes(bytes(raw))
    with pytest.raises(DataSourceError, match=r"broken\.zip: stop_times\.txt.*download it again"):
        gtfs_from_zip(path)


def test_zip_without_stops(tmp_path: Path) -> None:
    files = synthetic_files()
    del files["stops.txt"]
    path = write_zip(tmp_path / "nostops.zip", files)
    with pytest.raises(DataSourceError) as err:
        gtfs_from_zip(path)
    assert str(err.value) == (
        f"{path} has no stops.txt: not a GTFS feed? A GTFS zip must contain stops.txt, "
        "stop_times.txt, trips.txt, routes.txt"
    )


def test_zip_without_trips(tmp_path: Path) -> None:
    files = synthetic_files()
    del files["trips.txt"]
    with pytest.raises(DataSourceError, match=r"notrips\.zip has no trips\.txt.*must contain"):
        gtfs_from_zip(write_zip(tmp_path / "notrips.zip", files))


def test_stops_without_coordinates(tmp_path: Path) -> None:
    files = synthetic_files()
    files["stops.txt"] = "stop_id,stop_name\nA,Torget\nB,Skolan\n"
    with pytest.raises(DataSourceError, match=r"nocoords\.zip: stops\.txt has no stop_lat/stop_lon"
                       r".*coordinates"):
        gtfs_from_zip(write_zip(tmp_path / "nocoords.zip", files))
    files["stops.txt"] = "stop_id,stop_name,stop_lat,stop_lon\nA,Torget,0,0\nB,Skolan,,\n"
    with pytest.raises(DataSourceError, match=r"zerocoords\.zip: no stop .*valid stop_lat"):
        gtfs_from_zip(write_zip(tmp_path / "zerocoords.zip", files))


def test_malformed_csv(tmp_path: Path) -> None:
    files = synthetic_files()
    files["stop_times.txt"] += "b0,A\n"  # too few columns
    with pytest.raises(DataSourceError, match=r"bad\.zip: stop_times\.txt cannot be parsed as CSV"
                       r" \(.*columns.*\); fix the file"):
        gtfs_from_zip(write_zip(tmp_path / "bad.zip", files))
    files = synthetic_files()
    files["stop_times.txt"] += "b0,A,first,07:00:00,07:00:00,0\n"  # stop_sequence not a number
    with pytest.raises(DataSourceError, match=r"seq\.zip: stop_times\.txt cannot be parsed"):
        gtfs_from_zip(write_zip(tmp_path / "seq.zip", files))


def test_no_calendar_at_all(tmp_path: Path) -> None:
    files = synthetic_files()
    del files["calendar.txt"], files["calendar_dates.txt"]
    with pytest.raises(DataSourceError, match=r"nocal\.zip has neither calendar\.txt nor "
                       r"calendar_dates\.txt"):
        gtfs_from_zip(write_zip(tmp_path / "nocal.zip", files))


def test_missing_column_and_bad_arguments(feed_zip: Path, tmp_path: Path) -> None:
    files = synthetic_files()
    files["trips.txt"] = "route_id,trip_id\nBUS1,b0\n"
    with pytest.raises(DataSourceError, match=r"nosvc\.zip: trips\.txt has no column service_id"):
        gtfs_from_zip(write_zip(tmp_path / "nosvc.zip", files))
    with pytest.raises(DataSourceError, match=r"weekday 'tusday'.*monday, tuesday"):
        gtfs_from_zip(feed_zip, weekday="tusday")
    with pytest.raises(DataSourceError, match=r"hours \(19, 7\).*\(7, 19\)"):
        gtfs_from_zip(feed_zip, hours=(19, 7))
    with pytest.raises(DataSourceError, match=r"date '10/03/2026'.*YYYY-MM-DD"):
        gtfs_from_zip(feed_zip, date="10/03/2026")


# --- download and cache (requests is monkeypatched: no network) ---------------------------------

KEY = "SECRET-KEY-123"
URL = gtfs.TRAFIKLAB_REGIONAL_URL.format(operator="blekinge")


class FakeResponse:
    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.status_code = status
        self.body = body
        self.headers = headers or {}
        self.closed = False

    def iter_content(self, chunk_size: int = 1):  # type: ignore[no-untyped-def]
        for i in range(0, len(self.body), 1000):
            yield self.body[i: i + 1000]

    def close(self) -> None:
        self.closed = True


class FakeServer:
    def __init__(self, body: bytes, etag: str = '"v1"') -> None:
        self.body = body
        self.etag = etag
        self.calls: list[dict] = []  # type: ignore[type-arg]

    def get(self, url, params=None, headers=None, **kw):  # type: ignore[no-untyped-def]
        self.calls.append({"url": url, "params": params, "headers": headers or {}})
        if (headers or {}).get("If-None-Match") == self.etag:
            return FakeResponse(304)
        return FakeResponse(200, self.body, {"ETag": self.etag, "Content-Type": "application/zip"})


def _no_network(*a, **k):  # type: ignore[no-untyped-def]
    raise AssertionError("requests.get called although offline=True")


def test_url_download_then_not_modified(feed_zip: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    server = FakeServer(feed_zip.read_bytes())
    monkeypatch.setattr(requests, "get", server.get)
    cache = tmp_path / "cache"
    caplog.set_level(logging.DEBUG)
    first = gtfs_from_url(URL, KEY, cache_dir=cache)
    assert server.calls[0]["params"] == {"key": KEY}
    assert server.calls[0]["headers"] == {}
    assert by_uid(first)["gtfs:A"].departures_day == 7
    assert first.provenance["transit"][0].url == URL
    cached = list(cache.iterdir())
    assert len(cached) == 2 and all(KEY not in p.read_text(errors="ignore") for p in cached
                                    if p.suffix == ".json")
    second = gtfs_from_url(URL + f"?key={KEY}", None, cache_dir=cache)  # key in the URL: same cache
    assert server.calls[1]["headers"] == {"If-None-Match": '"v1"'}
    assert any("not modified" in n for n in second.notes)
    assert by_uid(second)["gtfs:A"].departures_day == 7
    assert KEY not in caplog.text
    assert all(KEY not in p.name for p in cache.iterdir())

    monkeypatch.setattr(requests, "get", _no_network)
    third = gtfs_from_url(URL, KEY, cache_dir=cache, offline=True, weekday="saturday")
    assert by_uid(third)["gtfs:A"].departures_day == 1
    assert any("offline" in n for n in third.notes)


def test_url_offline_without_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "get", _no_network)
    with pytest.raises(OfflineError) as err:
        gtfs_from_url(URL, KEY, cache_dir=tmp_path, offline=True)
    assert str(err.value) == (f"no cached GTFS for {URL}; run once online or pass a local zip "
                              "with --gtfs")


def test_url_network_error_hides_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     caplog: pytest.LogCaptureFixture) -> None:
    def fail(url, params=None, **kw):  # type: ignore[no-untyped-def]
        raise requests.ConnectionError(f"Max retries exceeded with url: {url}?key={KEY}")

    monkeypatch.setattr(requests, "get", fail)
    with pytest.raises(OfflineError, match=r"cannot download GTFS .*--gtfs") as err:
        gtfs_from_url(URL, KEY, cache_dir=tmp_path)
    assert KEY not in str(err.value) and URL in str(err.value)
    assert KEY not in caplog.text


@pytest.mark.parametrize(("status", "error", "text"), [
    (401, DataSourceError, "check the API key"),
    (404, DataSourceError, "check the URL"),
    (503, OfflineError, "HTTP 503"),
])
def test_url_http_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int,
                         error: type[Exception], text: str) -> None:
    monkeypatch.setattr(requests, "get", lambda *a, **k: FakeResponse(status))
    with pytest.raises(error, match=text):
        gtfs_from_url(URL, KEY, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_url_unwritable_cache(feed_zip: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(requests, "get", FakeServer(feed_zip.read_bytes()).get)
    with pytest.raises(DataSourceError, match=r"cannot write the GTFS cache in .*file.*cache_dir"):
        gtfs_from_url(URL, KEY, cache_dir=blocker / "gtfs")


def test_url_default_cache_dir(feed_zip: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVABILITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(requests, "get", FakeServer(feed_zip.read_bytes()).get)
    gtfs_from_url(URL, KEY)
    cached = sorted(p.name for p in (tmp_path / "data" / "cache" / "gtfs").iterdir())
    assert len(cached) == 2 and cached[0].startswith("blekinge-") and cached[0].endswith(".json")


def test_url_html_instead_of_zip_is_not_cached(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "get", lambda *a, **k: FakeResponse(
        200, b"<html>quota exceeded</html>", {"Content-Type": "text/html"}))
    with pytest.raises(DataSourceError, match=r"text/html, not a zip.*API key"):
        gtfs_from_url(URL, KEY, cache_dir=tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.pack
def test_clip_to_blekinge_keeps_every_real_station(pack_dir: Path, tmp_path: Path) -> None:
    """Real station coordinates (pack) with a SYNTHETIC timetable: every station survives the
    clip to Blekinge's generalised SCB polygon (Karlskrona C lies 1.4 km outside it)."""
    import geopandas as gpd

    from geo.regions import resolve_region

    stations = gpd.read_file(pack_dir / "transit" / "rail_stations.geojson")
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"{r.uic},{r.name},{r.geometry.y},{r.geometry.x}\n" for r in stations.itertuples())
    st = "trip_id,stop_id,stop_sequence,departure_time\n" + "".join(
        f"t,{r.uic},{i + 1},{_hm(8 * 60 + i * 10)}\n" for i, r in enumerate(stations.itertuples()))
    files = {
        "stops.txt": stops, "stop_times.txt": st,
        "routes.txt": "route_id,route_type\nK,102\n",
        "trips.txt": "route_id,service_id,trip_id\nK,S,t\n",
        "calendar_dates.txt": "service_id,date,exception_type\nS,20260310,1\n",
    }
    result = gtfs_from_zip(write_zip(tmp_path / "rail.zip", files),
                           resolve_region("blekinge").polygon)
    layer = result.layers["transit"]
    assert len(layer) == len(stations) == 8
    assert set(layer["kind"]) == {"rail_station"}
    assert sorted(layer["departures_day"]) == [0] + [1] * 7  # the last stop has no departure
