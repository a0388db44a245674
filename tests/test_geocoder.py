"""The address geocoder (geo/sources/geocoder.py): cache, errors as messages, identification.

No test touches the network: the service is a fake ``geocode`` callable, and the real geopy
objects are only built (never called).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from geo.catalog import t
from geo.errors import LivabilityError, OfflineError
from geo.search import SearchHit, SearchIndex, search_places
from geo.sources import geocoder as gc
from geo.sources.geocoder import Geocoder, cache_key, online, user_agent

BOX = (14.3, 55.9, 16.2, 56.6)

geopy_exc = pytest.importorskip("geopy.exc")


@dataclass
class FakeLocation:
    """What geopy's ``Location`` offers the adapter."""

    latitude: float
    longitude: float
    address: str
    raw: dict[str, Any] = field(default_factory=dict)


class FakeService:
    """A ``geocode`` stand-in that records its calls and answers from a table (or raises)."""

    def __init__(self, answers: dict[str, list[FakeLocation]] | None = None,
                 error: BaseException | None = None) -> None:
        self.answers = answers or {}
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, query: str, **kwargs: Any) -> list[FakeLocation] | None:
        self.calls.append((query, kwargs))
        if self.error is not None:
            raise self.error
        return self.answers.get(query)


STREET = FakeLocation(56.1612, 15.5869, "12, Ronnebygatan, Centrum, Karlskrona, Blekinge län, Sverige",
                      {"type": "house", "address": {"road": "Ronnebygatan", "house_number": "12",
                                                    "city": "Karlskrona"}})


def test_lookup_asks_once_then_answers_from_the_cache(tmp_path: Path) -> None:
    svc = FakeService({"Ronnebygatan 12": [STREET]})
    geo = Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc)
    first = geo.lookup("Ronnebygatan 12")
    assert [(h.kind, h.name, h.detail, h.lat, h.lon) for h in first] == \
        [("address", "Ronnebygatan 12", "Karlskrona", 56.1612, 15.5869)]
    assert first[0].licence == "ODbL-1.0" and "OpenStreetMap" in first[0].source
    # case, spacing and punctuation make no new request; neither does a second instance
    again = Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc).lookup("  ronnebygatan   12 ")
    assert again == first
    assert len(svc.calls) == 1
    query, kwargs = svc.calls[0]
    assert query == "Ronnebygatan 12"
    assert kwargs["country_codes"] == "se" and kwargs["bounded"] is True
    assert kwargs["viewbox"] == [(55.9, 14.3), (56.6, 16.2)]  # (lat, lon) corners of the box
    assert kwargs["exactly_one"] is False


def test_cache_file_is_written_atomically_and_holds_the_answer(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(gc.os, "replace", spy)
    Geocoder(BOX, cache=tmp_path, enabled=True, geocode=FakeService({"Ronnebygatan 12": [STREET]})
             ).lookup("Ronnebygatan 12")
    final = tmp_path / f"{cache_key('Ronnebygatan 12')}.json"
    assert [Path(d) for _, d in replaced] == [final]
    src = Path(replaced[0][0])
    assert src.parent == tmp_path and src.name.startswith(".geocode-")  # same folder: a rename
    assert sorted(p.name for p in tmp_path.iterdir()) == [final.name]  # no temporary file left
    data = json.loads(final.read_text(encoding="utf-8"))
    assert data["version"] == gc.CACHE_VERSION
    assert data["results"][0]["lat"] == 56.1612 and data["results"][0]["address"]["road"] == "Ronnebygatan"


def test_a_failed_write_leaves_the_old_cache_file_byte_for_byte(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    final = tmp_path / f"{cache_key('Ronnebygatan 12')}.json"
    final.write_bytes(b"{not json: an old file the next lookup ignores")
    before = final.read_bytes()

    def broken_dump(*_a: Any, **_k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gc.json, "dump", broken_dump)
    hits = Geocoder(BOX, cache=tmp_path, enabled=True,
                    geocode=FakeService({"Ronnebygatan 12": [STREET]})).lookup("Ronnebygatan 12")
    assert [h.name for h in hits] == ["Ronnebygatan 12"]  # the answer is still given
    assert final.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [final.name]


def test_offline_asks_nobody_but_reads_the_cache(tmp_path: Path) -> None:
    svc = FakeService({"Ronnebygatan 12": [STREET]})
    Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc).lookup("Ronnebygatan 12")
    off = Geocoder(BOX, cache=tmp_path, enabled=False, geocode=svc)
    assert [h.name for h in off.lookup("Ronnebygatan 12")] == ["Ronnebygatan 12"]
    with pytest.raises(OfflineError) as err:
        off.lookup("Lyckebyvägen 1")
    assert len(svc.calls) == 1 and off.calls == 0
    assert str(err.value) == "Address search needs the internet: showing places we know"
    assert err.value.render("sv") == "Att söka adresser kräver internet: visar platser vi känner till"
    assert not (tmp_path / f"{cache_key('Lyckebyvägen 1')}.json").exists()


@pytest.mark.parametrize(("error", "code"), [
    (geopy_exc.GeocoderRateLimited("HTTP 429", retry_after=60), "geocoder_busy"),
    (geopy_exc.GeocoderTimedOut("timed out"), "geocoder_busy"),
    (geopy_exc.GeocoderServiceError("HTTP 503"), "geocoder_busy"),
    (geopy_exc.GeocoderUnavailable("Name or service not known"), "geocoder_offline"),
    (ConnectionRefusedError(111, "Connection refused"), "geocoder_offline"),
])
def test_service_failures_are_one_line_messages_in_en_and_sv(tmp_path: Path, error: BaseException,
                                                             code: str) -> None:
    geo = Geocoder(BOX, cache=tmp_path, enabled=True, geocode=FakeService(error=error))
    with pytest.raises(LivabilityError) as err:
        geo.lookup("Ronnebygatan 12")
    assert isinstance(err.value, OfflineError)
    assert err.value.message is not None and err.value.message.code == code  # type: ignore[attr-defined]
    assert str(err.value) == t(f"msg.{code}", "en")
    assert err.value.render("sv") == t(f"msg.{code}", "sv")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []  # a failure is not cached


def test_busy_and_offline_texts() -> None:
    assert t("msg.geocoder_busy", "en") == "The address service is busy; try again in a minute"
    assert t("msg.geocoder_busy", "sv") == "Adresstjänsten är upptagen; försök igen om en minut"


def test_real_service_is_nominatim_behind_a_one_second_rate_limiter(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Built, never called: the User-Agent names the app, not geopy's default."""
    pytest.importorskip("geopy")
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    monkeypatch.setenv("LIVABILITY_CONTACT", "https://example.org/livability")
    limiter = Geocoder(BOX, cache=tmp_path, enabled=True)._service()
    assert isinstance(limiter, RateLimiter)
    assert limiter.min_delay_seconds == 1.0 and limiter.max_retries == 0
    nominatim = limiter.func.__self__
    assert isinstance(nominatim, Nominatim)
    assert nominatim.headers["User-Agent"] == \
        "blekinge-livability/0.1.0 (+https://example.org/livability)"
    monkeypatch.delenv("LIVABILITY_CONTACT")
    assert user_agent().startswith("blekinge-livability/0.1.0")
    assert "geopy" not in user_agent()


@pytest.mark.parametrize(("env", "expected"), [
    ({}, True),  # a real user has the internet; the suite runs with LIVABILITY_OFFLINE=1
    ({"LIVABILITY_ONLINE": "0"}, False),
    ({"LIVABILITY_ONLINE": "1"}, True),
    ({"LIVABILITY_ONLINE": "1", "LIVABILITY_OFFLINE": "1"}, False),
    ({"LIVABILITY_OFFLINE": "0", "LIVABILITY_ONLINE": "yes"}, True),
])
def test_online_switch(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool) -> None:
    monkeypatch.delenv("LIVABILITY_ONLINE", raising=False)
    monkeypatch.delenv("LIVABILITY_OFFLINE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert online() is expected
    assert Geocoder(BOX, cache="/nonexistent").enabled is expected


def test_default_cache_is_the_data_dir_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVABILITY_DATA_DIR", str(tmp_path))
    assert Geocoder(BOX).cache == tmp_path.resolve() / "cache" / "geocoder"


# -- search_places: places first, addresses after, failures as a notice --------------------------
def _index() -> SearchIndex:
    return SearchIndex([SearchHit("stop", "Ronnebygatan", "Karlskrona", 56.162, 15.588, None,
                                  "SYNTHETIC", "CC0-1.0", "bus_stop")], bbox=BOX)


def test_search_places_adds_addresses_after_places(tmp_path: Path) -> None:
    outside = FakeLocation(59.33, 18.06, "Ronnebygatan 12, Stockholm",
                           {"address": {"road": "Ronnebygatan", "house_number": "12", "city": "Stockholm"}})
    geo = Geocoder(BOX, cache=tmp_path, enabled=True,
                   geocode=FakeService({"Ronnebygatan 12": [STREET, outside]}))
    out = search_places(_index(), "Ronnebygatan 12", geocoder=geo, online=True)
    assert [(h.kind, h.name) for h in out.hits] == [("stop", "Ronnebygatan"),
                                                     ("address", "Ronnebygatan 12")]  # Stockholm: outside
    assert out.notice is None


def test_search_places_offline_or_busy_keeps_the_places(tmp_path: Path) -> None:
    off = search_places(_index(), "Ronnebygatan 12", geocoder=None, online=False)
    assert [h.name for h in off.hits] == ["Ronnebygatan"]
    assert off.notice is not None and off.notice.render("en") == \
        "Address search needs the internet: showing places we know"
    svc = FakeService(error=geopy_exc.GeocoderRateLimited("HTTP 429"))
    busy = search_places(_index(), "Ronnebygatan 12", online=True,
                         geocoder=Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc))
    assert [h.name for h in busy.hits] == ["Ronnebygatan"]
    assert busy.notice is not None and busy.notice.render("sv") == \
        "Adresstjänsten är upptagen; försök igen om en minut"


def test_search_places_does_not_ask_when_places_suffice(tmp_path: Path) -> None:
    hits = [SearchHit("stop", f"Lyckeby {i}", "", 56.2, 15.6 + i / 100, None, "S", "CC0") for i in range(4)]
    svc = FakeService()
    out = search_places(SearchIndex(hits), "Lyckeby", online=True,
                        geocoder=Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc))
    assert len(out.hits) == 4 and out.notice is None and svc.calls == []


def test_an_unreachable_service_is_asked_once_then_left_alone(tmp_path: Path) -> None:
    """A machine without internet pays for one failed connection, not one per query."""
    svc = FakeService(error=ConnectionRefusedError(111, "Connection refused"))
    geo = Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc)
    for query in ("Ronnebygatan 12", "Lyckebyvägen 1", "Kungsgatan 3"):
        with pytest.raises(OfflineError) as err:
            geo.lookup(query)
        assert err.value.message is not None and err.value.message.code == "geocoder_offline"
    assert geo.calls == 1 and len(svc.calls) == 1


def test_a_busy_service_is_asked_again(tmp_path: Path) -> None:
    svc = FakeService(error=geopy_exc.GeocoderRateLimited("HTTP 429", retry_after=60))
    geo = Geocoder(BOX, cache=tmp_path, enabled=True, geocode=svc)
    for query in ("Ronnebygatan 12", "Lyckebyvägen 1"):
        with pytest.raises(OfflineError):
            geo.lookup(query)
    assert geo.calls == 2
