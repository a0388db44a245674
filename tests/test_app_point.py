"""The point panel of the map page (app/view_point.py), with Streamlit's AppTest on the SYNTHETIC
store of tests/_app_fixtures.py (invented places)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from _app_fixtures import HOSTILE, run_app, write_synthetic_store

from geo.point import score_point
from geo.scoring import build_model
from geo.store import open_snapshot

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

#: north-east of the invented Alphaby, by its pharmacy "Apotek Alpha"
POINT = "56.20150,15.00400"


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth_point"))


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error], [e.value for e in at.error]


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def _buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


def test_url_point_shows_the_panel_with_values(monkeypatch: pytest.MonkeyPatch,
                                               synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, point=POINT)
    _ok(at)
    text = _text(at)
    assert "**Point 56.2015, 15.0040**" in text
    model = build_model(open_snapshot("blekinge", synth_store))
    p = score_point(model, 56.2015, 15.004, snapshot=open_snapshot("blekinge", synth_store))
    assert f"#### {p.composite:.0f} / 100\n\n**" in text
    pharm = p.nearest_of("services.pharmacy")
    assert pharm is not None and pharm.place.name == "Apotek Alpha"
    dist = f"{pharm.place.distance_m:.0f} m" if pharm.place.distance_m < 1000 else None
    line = next(ln for ln in text.splitlines() if "Apotek Alpha" in ln)
    assert line.startswith("- **Pharmacy by bike**: Apotek Alpha, ")
    assert dist is None or dist in line
    assert "min on foot" in line and "min by bike" in line and "min by car" in line
    assert "Nearest places" in text and "Ranking" in [s.value for s in at.subheader]
    assert at.query_params["point"] == [POINT] or at.query_params["point"] == POINT
    assert "point_close" in _buttons(at)


def test_panel_in_swedish(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, point=POINT, lang="sv")
    _ok(at)
    text = _text(at)
    assert "**Punkt 56,2015, 15,0040**" in text
    assert "Närmaste platser" in text and "min till fots" in text and "Point " not in text
    assert any(b.label == "Stäng" for b in at.button)


def test_close_clears_the_point(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, point=POINT)
    _ok(at)
    at.button(key="point_close").click().run()
    _ok(at)
    assert at.session_state["point"] is None
    assert "point" not in at.query_params
    assert "Point 56.2015" not in _text(at) and "point_close" not in _buttons(at)


def test_point_outside_the_region_is_a_message(monkeypatch: pytest.MonkeyPatch,
                                               synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, point="55.50000,15.00000")
    _ok(at)
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("This point (55.5000, 15.0000) is outside Synthetic county (TEST)")
               and w.endswith("Click on land inside the region.") for w in warnings), warnings
    assert "Ranking" in [s.value for s in at.subheader]  # the page stays usable
    at.button(key="point_close").click().run()
    assert at.session_state["point"] is None and not at.warning
    at = run_app(monkeypatch, synth_store, point="55.50000,15.00000", lang="sv")
    assert any(w.value.startswith("Den här punkten (55,5000, 15,0000) ligger utanför") and
               "Klicka på land inom regionen." in w.value for w in at.warning)


def test_a_search_hit_name_and_hostile_amenity_names(monkeypatch: pytest.MonkeyPatch,
                                                     synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store)
    _ok(at)
    at.session_state["point"] = (56.1815, 15.2005)  # by the invented grocery with a hostile name
    at.session_state["point_name"] = "Gräsvik <b>kyrka</b>"
    at.run()
    _ok(at)
    text = _text(at)
    assert "**Gräsvik &lt;b&gt;kyrka&lt;/b&gt;**" in text
    assert HOSTILE not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_commute_button_only_with_the_commute_helper(monkeypatch: pytest.MonkeyPatch,
                                                     synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, point=POINT)
    _ok(at)
    have = importlib.util.find_spec("app.commute_ui") is not None
    assert ("point_commute" in _buttons(at)) is have


def test_the_map_marks_the_scored_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The point of the panel is ringed and named on the map (the layer sent with the map)."""
    from app import folium_adapter

    sent: list[dict[str, object]] = []

    def send(payload: object, **kw: object) -> dict[str, object]:
        sent.append(kw)
        return {}

    monkeypatch.setattr(folium_adapter, "send", send)
    data = write_synthetic_store(tmp_path / "data")
    at = run_app(monkeypatch, data, point="56.15,15.25")
    assert not at.exception
    import folium

    group = sent[-1]["group"]
    assert isinstance(group, folium.FeatureGroup)
    m = folium.Map(location=(56.2, 15.3), tiles=None)
    group.add_to(m)
    html = m.get_root().render()
    assert "[56.15, 15.25]" in html and "Point 56.1500, 15.2500" in html
    sent.clear()
    at.session_state["point"] = None
    at.run()
    assert sent and sent[-1]["group"] is None  # no point, no place: nothing drawn over the map


@pytest.mark.parametrize(("lang", "start"), [
    ("en", "This point lies outside the coastline we know"),
    ("sv", "Den här punkten ligger utanför den kustlinje vi känner till")])
def test_possibly_water_caveat_is_shown_first(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                              lang: str, start: str) -> None:
    """A point outside the known land (forced here: the synthetic store has no land outline)
    shows the caveat as the panel's first warning, in the page's language."""
    from geo.point import PointIndex

    monkeypatch.setattr(PointIndex, "maybe_water", lambda self, lon, lat: True)
    # a point of its own: the panel caches scores per point across tests
    at = run_app(monkeypatch, synth_store, point="56.20160,15.00410" if lang == "en"
                 else "56.20170,15.00420", lang=lang)
    _ok(at)
    assert at.warning and str(at.warning[0].value).startswith(start)
