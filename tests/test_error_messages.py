"""Errors a user of the app can meet carry a message: English as before, Swedish in the app.

``LivabilityError(message=Message(code, params))``: ``str(exc)`` is the English text the engine
wrote before the migration (byte for byte: tests/_error_samples.py holds the old texts, written
from the old f-strings), ``exc.render("sv")`` the Swedish one; the app renders it in the reader's
language. Stores here are SYNTHETIC (tests/_app_fixtures.py): invented places.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from _app_fixtures import run_app, write_synthetic_store
from _error_samples import ERROR_CASES

from app.common import error_text, safe_text
from app.data import ScoreResult
from geo import export as geo_export
from geo.catalog import CATALOGUE
from geo.errors import (
    LimitError,
    LivabilityError,
    RegionNotFoundError,
    StoreError,
    UnknownLayerError,
)
from geo.export_bundle import ExportError
from geo.messages import Message, render
from geo.regions import region_key
from geo.scoring import resolve_weights
from geo.store import SCHEMA_VERSION, open_snapshot


@pytest.mark.parametrize("code", sorted(ERROR_CASES))
def test_english_is_the_old_text_and_swedish_differs(code: str) -> None:
    params, old = ERROR_CASES[code]
    msg = Message(code, params)
    exc = LivabilityError(message=msg)
    assert str(exc) == old and exc.render("en") == old and exc.message is msg
    sv = exc.render("sv")
    assert sv.strip() and sv != old and "\n" not in sv
    assert sv == render(msg, "sv") and exc.render("de") == old  # others: English


def test_every_migrated_code_is_in_the_catalogue() -> None:
    assert len(ERROR_CASES) == 27
    for code in ERROR_CASES:
        en, sv = CATALOGUE[f"msg.{code}"]
        assert en and sv


def test_free_text_errors_stay_as_they_are() -> None:
    exc = StoreError("cannot write the snapshot of t in /data: disk full")
    assert exc.message is None and exc.render("sv") == str(exc) == exc.args[0]
    assert error_text(exc, "sv") == str(exc)
    assert error_text(RuntimeError("boom"), "sv") == "boom" and error_text("text", "sv") == "text"


def test_hints_in_swedish() -> None:
    msg = Message("store_missing", {"region": "x", "root": "/d", "close": [], "known": []})
    assert str(msg) == "No snapshot for region 'x' in /d. Build it with: livability build --region x"
    assert render(msg, "sv") == ("Ingen ögonblicksbild för regionen 'x' i /d. Bygg den med: "
                                 "livability build --region x")
    msg = Message("store_missing", {"region": "x", "root": "/d", "close": ["y"], "known": ["y"]})
    assert render(msg, "sv") == ("Ingen ögonblicksbild för regionen 'x' i /d. Menade du: y? "
                                 "Byggda regioner: y. Bygg den med: livability build --region x")
    assert render(Message("weight_range", {"theme": "schools", "value": "nan", "max": 100.0}),
                  "sv").startswith("vikten schools=nan är inte ett tal från 0 till 100;")
    odd = Message("export_write", {"path": "/o", "reason": "I/O error", "hint": "EIO"})
    assert str(odd) == ("cannot write /o: I/O error; choose another --out (nothing was written; "
                        "the previous output, if any, is unchanged)")
    assert "välj en annan --out" in render(odd, "sv")


# -- the engine raises them ---------------------------------------------------------------------
def _raised(exc: LivabilityError, code: str) -> str:
    assert exc.message is not None and isinstance(exc.message, Message)
    assert exc.message.code == code
    return str(exc)


def test_opening_a_store(tmp_path: Path) -> None:
    write_synthetic_store(tmp_path)
    with pytest.raises(StoreError) as err:
        open_snapshot("blekinj", tmp_path)
    assert _raised(err.value, "store_missing") == (
        f"No snapshot for region 'blekinj' in {tmp_path}. Did you mean: blekinge? Built regions: "
        "blekinge. Build it with: livability build --region blekinj")
    assert "Menade du: blekinge? Byggda regioner: blekinge." in err.value.render("sv")
    with pytest.raises(StoreError) as err:
        open_snapshot("", tmp_path)
    assert _raised(err.value, "store_key_empty") == \
        "empty region key; give a region such as blekinge"
    mpath = tmp_path / "blekinge" / "manifest.json"
    man = json.loads(mpath.read_text(encoding="utf-8"))
    man["schema_version"] = 1
    mpath.write_text(json.dumps(man), encoding="utf-8")
    with pytest.raises(StoreError) as err:
        open_snapshot("blekinge", tmp_path)
    assert _raised(err.value, "store_schema") == (
        f"{tmp_path / 'blekinge'} was written with store schema 1, this version reads "
        f"{SCHEMA_VERSION}. Rebuild with: livability build --region blekinge")
    assert err.value.render("sv") == (
        f"{tmp_path / 'blekinge'} skrevs med lagringsschema 1, den här versionen läser "
        f"{SCHEMA_VERSION}. Bygg om med: livability build --region blekinge")
    mpath.write_text("[]", encoding="utf-8")
    with pytest.raises(StoreError) as err:
        open_snapshot("blekinge", tmp_path)
    assert _raised(err.value, "store_manifest_damaged").startswith(
        f"The manifest of {tmp_path / 'blekinge'} is damaged: it holds an array")


def test_resolving_a_region() -> None:
    with pytest.raises(RegionNotFoundError) as err:
        region_key("   ")
    assert _raised(err.value, "region_empty") == \
        "empty region name; try 'blekinge' or a county/municipality code"
    assert err.value.render("sv") == "tomt regionnamn; prova 'blekinge' eller en läns- eller kommunkod"
    with pytest.raises(RegionNotFoundError) as err:
        region_key("ble\x00kinge")
    assert _raised(err.value, "region_nul") == \
        "region name 'ble\\x00kinge' contains a NUL character; retype it"


def test_weights() -> None:
    themes = ["schools", "transit"]
    with pytest.raises(LimitError) as err:
        resolve_weights(themes, {"schools": 0, "transit": 0})
    assert _raised(err.value, "weights_zero") == \
        "all theme weights are 0; give at least one theme a weight > 0"
    with pytest.raises(LimitError) as err:
        resolve_weights(themes, {"schools": -1})
    assert _raised(err.value, "weight_range") == ERROR_CASES["weight_range"][1]
    with pytest.raises(UnknownLayerError) as err:
        resolve_weights(themes, {"schol": 1})
    assert _raised(err.value, "theme_unknown") == ERROR_CASES["theme_unknown"][1]
    assert err.value.render("sv") == \
        "Inget tema 'schol' att vikta. Menade du schools? Teman: schools, transit"


def test_exports() -> None:
    with pytest.raises(ExportError) as err:
        geo_export._check("shp", 4326)
    assert _raised(err.value, "export_format_unknown") == ERROR_CASES["export_format_unknown"][1]
    with pytest.raises(ExportError) as err:
        geo_export._check("geojson", 3006)
    assert _raised(err.value, "export_geojson_crs") == ERROR_CASES["export_geojson_crs"][1]
    full = geo_export._oserror_message(Path("/out/x.gpkg"),
                                       OSError(errno.ENOSPC, "No space left on device"))
    assert str(full) == ERROR_CASES["export_write"][1]
    assert render(full, "sv").startswith("kan inte skriva /out/x.gpkg: No space left on device; "
                                         "frigör utrymme eller välj en annan --out")


def test_score_result_carries_the_message() -> None:
    exc = LimitError(message=Message("weights_zero"))
    res = ScoreResult(error=str(exc), message=exc.message)
    assert res.error_in("en") == "all theme weights are 0; give at least one theme a weight > 0"
    assert res.error_in("sv") == "alla temavikter är 0; ge minst ett tema en vikt över 0"
    assert ScoreResult(error="free text").error_in("sv") == "free text"


# -- the app in Swedish -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's synthetic store, marked as written by the previous store schema."""
    data = write_synthetic_store(tmp_path_factory.mktemp("errs_old"))
    mpath = data / "blekinge" / "manifest.json"
    man = json.loads(mpath.read_text(encoding="utf-8"))
    man["schema_version"] = 1
    mpath.write_text(json.dumps(man), encoding="utf-8")
    return data


def _error(at: Any) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    return str(at.error[0].value)


def test_app_shows_an_old_store_s_error_in_swedish(monkeypatch: pytest.MonkeyPatch,
                                                   old_store: Path) -> None:
    shown = old_store / "blekinge"
    err = _error(run_app(monkeypatch, old_store, lang="sv"))
    sv = (f"{shown} skrevs med lagringsschema 1, den här versionen läser {SCHEMA_VERSION}. "
          "Bygg om med: livability build --region blekinge")
    assert safe_text(sv) in err
    assert "was written with store schema" not in err and "Rebuild with" not in err
    err = _error(run_app(monkeypatch, old_store))  # English: the old text
    assert safe_text(f"{shown} was written with store schema 1, this version reads "
                     f"{SCHEMA_VERSION}. Rebuild with: livability build --region blekinge") in err


def test_app_shows_a_scoring_error_in_swedish(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    data = write_synthetic_store(tmp_path)
    at = run_app(monkeypatch, data, lang="sv")
    assert not at.exception
    for s in at.sidebar.select_slider:
        s.set_value(0.0)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "alla temavikter är 0; ge minst ett tema en vikt över 0" in warnings
    assert "all theme weights are 0" not in warnings


def test_app_damaged_store_in_swedish(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      old_store: Path) -> None:
    data = tmp_path / "damaged"
    shutil.copytree(old_store, data)
    mpath = data / "blekinge" / "manifest.json"
    mpath.write_text("{not json", encoding="utf-8")
    err = _error(run_app(monkeypatch, data, lang="sv"))
    assert "går inte att läsa" in err and "ögonblicksbilden är skadad" in err
    assert "livability build --region blekinge" in err
