"""URL state for points and commute targets: parsed strictly, round-tripped, hostile values dropped."""

from __future__ import annotations

import pytest

from app.state import COMMUTE_MODES, ViewState, encode_params, parse_params


def test_point_and_commute_round_trip() -> None:
    s = ViewState(point=(56.16123, 15.58669), commute=(56.2, 15.27), commute_name="BTH Karlskrona",
                  commute_mode="bike", commute_max=30)
    p = encode_params(s)
    assert p["point"] == "56.16123,15.58669"
    assert p["commute"] == "56.20000,15.27000"
    assert p["commute_mode"] == "bike" and p["commute_max"] == "30"
    back = parse_params(p)
    assert (back.point, back.commute, back.commute_name, back.commute_mode, back.commute_max) == \
        ((56.16123, 15.58669), (56.2, 15.27), "BTH Karlskrona", "bike", 30)


def test_default_commute_mode_is_left_out() -> None:
    p = encode_params(ViewState(commute=(56.0, 15.0)))
    assert "commute_mode" not in p and "commute_max" not in p
    assert parse_params(p).commute_mode == COMMUTE_MODES[0]


@pytest.mark.parametrize("raw", ["91,15", "56,181", "abc", "56.1;15.2", "1e3,2", "nan,nan", "",
                                 "56," + "1" * 100, "<script>,1"])
def test_bad_coordinates_are_dropped(raw: str) -> None:
    s = parse_params({"point": raw, "commute": raw, "commute_mode": "bike"})
    assert s.point is None and s.commute is None and s.commute_mode == COMMUTE_MODES[0]


def test_commute_extras_need_a_target_and_valid_values() -> None:
    assert parse_params({"commute_mode": "bike", "commute_max": "30"}).commute_max is None
    s = parse_params({"commute": "56,15", "commute_mode": "rocket", "commute_max": "9999",
                      "commute_name": "<img src=x onerror=alert(1)>\x00" + "x" * 300})
    assert s.commute_mode == COMMUTE_MODES[0] and s.commute_max is None
    assert s.commute_name is not None and "<" not in s.commute_name and "\x00" not in s.commute_name
    assert len(s.commute_name) <= 80
