"""The shared vocabulary (layers/vocab.py): enums, the one maxspeed parser, package direction."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layers import LAYERS, all_indicators, get_layer, residential_layer
from layers.spec import Indicator
from layers.vocab import (
    DECAYS,
    MODES,
    NETWORK_MODES,
    NETWORK_NAMES,
    PLACE_TYPES,
    SENSITIVITY_DECAYS,
    Coverage,
    Decay,
    Measure,
    Mode,
    NetworkMode,
    PlaceType,
    parse_maxspeed,
)

ROOT = Path(__file__).resolve().parents[1]


# -- the enums cover every value the layers use --------------------------------------------------
def test_every_indicator_value_is_a_vocabulary_member() -> None:
    inds = all_indicators()
    assert len(inds) == 26
    for ind in inds:
        assert type(ind.measure) is Measure, ind.key
        assert type(ind.mode) is Mode, ind.key
        assert type(ind.decay) is Decay, ind.key
        assert {t for t, _ in ind.thresholds} <= set(PlaceType), ind.key
    used = {(str(i.measure), str(i.mode)) for i in inds}
    assert {m for m, _ in used} == {"nearest", "count", "stat"}
    assert {m for _, m in used} == {"walk", "bike", "car"}


def test_members_equal_the_stored_strings() -> None:
    assert Mode.WALK == "walk" and "bike" in MODES and Mode("car") is Mode.CAR
    assert json.dumps({"measure": Measure.NEAREST, "mode": Mode.BIKE}) == \
        '{"measure": "nearest", "mode": "bike"}'
    assert PLACE_TYPES == ("town", "small_town", "village", "countryside", "archipelago")
    assert tuple(Coverage) == ("complete", "partial", "missing")
    assert DECAYS == ("plateau", "logistic", "linear", "exponential", "step")
    assert SENSITIVITY_DECAYS == ("plateau", "logistic", "linear")
    # plain strings: argparse's "invalid choice" message shows their repr
    assert all(type(v) is str for v in (*MODES, *NETWORK_MODES, *DECAYS, *PLACE_TYPES))


def test_string_fields_become_members_and_bad_ones_name_the_known() -> None:
    ind = Indicator("schools.x", kinds=("school",), mode="bike", decay="step")
    assert ind.mode is Mode.BIKE and ind.decay is Decay.STEP and ind.measure is Measure.NEAREST
    with pytest.raises(ValueError, match=r"indicator schools.y: mode 'boat' not in "
                                         r"\('walk', 'bike', 'car'\)"):
        Indicator("schools.y", kinds=("school",), mode="boat")
    with pytest.raises(ValueError, match="decay 'cliff' not in"):
        Indicator("schools.z", kinds=("school",), decay="cliff")


def test_modes_carry_the_speeds_and_fallbacks_the_engine_used() -> None:
    from geo.access import _NETWORK_FOR_MODE, DETOUR
    from geo.network import _MODE_ALIASES, CAR_REFERENCE_KMH, MODE_SPEEDS_KMH

    assert MODE_SPEEDS_KMH == {"walk": 4.8, "bike": 15.0, "car": 50.0, "drive": 50.0}
    assert CAR_REFERENCE_KMH == 50.0
    assert DETOUR == {"walk": 1.3, "bike": 1.3, "car": 1.4}
    assert _NETWORK_FOR_MODE == {"walk": ("walk",), "bike": ("bike", "walk"),
                                 "car": ("drive", "car")}
    assert NETWORK_NAMES == ("walk", "bike", "drive", "car")
    assert _MODE_ALIASES == {"drive": "car"}
    assert [n.travel_mode for n in NetworkMode] == [Mode.WALK, Mode.BIKE, Mode.CAR]
    assert [n.bidirectional for n in NetworkMode] == [True, True, False]


def test_every_decay_and_measure_has_its_function() -> None:
    from geo.access import _MEASURES
    from geo.access import DECAYS as DECAY_FUNCTIONS

    assert list(DECAY_FUNCTIONS) == list(Decay)
    assert set(_MEASURES) == set(Measure)


def test_place_types_live_in_the_vocabulary() -> None:
    import geo.placetypes as pt
    import layers.vocab as vocab

    assert pt.PLACE_TYPES is vocab.PLACE_TYPES
    assert (pt.TOWN_MIN, pt.SMALL_TOWN_MIN, pt.VILLAGE_MIN, pt.LOW_DENSITY_PER_HA) == \
        (10_000, 2_000, 200, 4.0)
    assert pt.size_class([36904, 8832, 953]).tolist() == ["town", "small_town", "village"]


def test_layer_roles_are_declared_in_the_specs() -> None:
    from geo.access import _by_departures

    assert residential_layer() is get_layer("housing")
    assert [k for k, s in LAYERS.items() if s.departures] == ["transit"]
    bus = Indicator("transit.bus", kinds=("bus_stop",))
    school = Indicator("schools.s", kinds=("school",))
    assert (_by_departures(bus), _by_departures(school)) == (True, False)


def test_the_engine_names_no_layer() -> None:
    """No comparison with, lookup of or dispatch on a layer key in geo/ (specs declare roles)."""
    keys = "|".join(LAYERS)
    pattern = re.compile(rf'(==|!=|\bin)\s*"({keys})"|"({keys})"\s*(==|!=)|'
                         rf'\.layer(_status)?\("({keys})"\)|^\s*"({keys})"\s*:')
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in sorted((ROOT / "geo").rglob("*.py")) if p.name != "texts.py"
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert hits == []


def _literals(source: str, words: set[str]) -> list[tuple[int, str]]:
    """String literals of ``source`` (code, not docstrings or comments) that are one of ``words``."""
    tree = ast.parse(source)
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in words
            and id(n) not in docs]


def test_the_engine_passes_no_layer_key_or_home_kind_literal() -> None:
    """No layer key as a string literal anywhere in geo/ (``conform(gdf, "transit", ...)``,
    ``add_layer("transit", ...)``, ``layers["housing"]``), and no kind of the homes layer in
    geo/grid.py or geo/sources: they come from the specs' ``departures``/``residential`` flags
    and ``home_kinds``. geo/catalog.py is exempt (its English texts may be such words)."""
    homes = residential_layer()
    assert homes is not None and homes.home_kinds
    assert _literals('"""transit"""\nconform(gdf, "transit", p)\nx.layers["housing"]\n',
                     set(LAYERS)) == [(2, "transit"), (3, "housing")]
    hits = [f"{p.relative_to(ROOT)}:{n}: {word!r}"
            for p in sorted((ROOT / "geo").rglob("*.py")) if p.name != "catalog.py"
            for n, word in _literals(p.read_text(encoding="utf-8"), set(LAYERS))]
    kind_files = [ROOT / "geo" / "grid.py", *sorted((ROOT / "geo" / "sources").glob("*.py"))]
    hits += [f"{p.relative_to(ROOT)}:{n}: {word!r}" for p in kind_files
             for n, word in _literals(p.read_text(encoding="utf-8"), set(homes.home_kinds))]
    assert hits == []


def test_layer_roles_resolve_through_the_registry() -> None:
    from geo.grid import home_kinds
    from layers import departures_layer
    from layers.spec import LayerSpec, OsmRule

    assert departures_layer() is get_layer("transit")
    assert home_kinds() == ("residential_area", "apartments", "residential_building", "house")
    with pytest.raises(ValueError, match="home_kinds are declared with residential=True"):
        LayerSpec("homes", residential=True)
    with pytest.raises(ValueError, match=r"home_kinds \['flat'\] are no kind of its OSM rules"):
        LayerSpec("homes", osm=(OsmRule("building", "house", "house"),), residential=True,
                  home_kinds=("house", "flat"))


# -- maxspeed ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "kmh"), [
    ("50", 50.0),
    ("30 mph", 30 * 1.609344),
    ("none", math.nan),        # no limit: the highway class speed applies
    ("signals", math.nan),     # variable: the class speed
    ("50;70", 50.0),           # several values: the lower one
    ("70;50", 50.0),
    ("80|60", 60.0),           # per lane: the lower one
    ("walk", math.nan),        # walking pace on living streets: their class speed (15)
    ("", math.nan),
    (None, math.nan),
    (" 90 ", 90.0),
    ("50 km/h", 50.0),
    ("10 knots", 18.52),
    ("SE:urban", math.nan),
    ("40 mph;60", 60.0),        # 64.4 km/h and 60: the lower
    (["40", "60"], 40.0),       # lists of simplified edges: the lower
    ([], math.nan),
    (np.array([110.0]), 110.0),
    (70.0, 70.0),
    (np.int64(30), 30.0),
    (math.nan, math.nan),
    (0, math.nan),
    (-5, math.nan),
    (True, math.nan),
])
def test_parse_maxspeed(value: object, kmh: float) -> None:
    got = parse_maxspeed(value)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh, abs=1e-9)


def test_network_and_osm_reader_read_maxspeed_alike() -> None:
    """The store's edges (osm_network) and car costs from raw edges (network) agree on mph."""
    from geo.network import car_speeds
    from geo.schema import Provenance
    from geo.sources.osm_network import _finish_network

    raw = ["50", "30 mph", "none", "signals", "50;70", "walk", "", None]
    edges = pd.DataFrame({"u": range(1, 9), "v": range(2, 10), "length": [100.0] * 8,
                          "highway": ["primary"] * 4 + ["residential"] * 2 + ["service"] * 2,
                          "maxspeed": pd.Series(raw, dtype=object)})
    nodes = pd.DataFrame({"node": range(1, 10), "x": np.linspace(15, 15.1, 9), "y": 56.0})
    stored = _finish_network(nodes, edges, "drive", Provenance(source="test", license="CC0")).edges
    direct = car_speeds(edges)
    from_store = car_speeds(stored)
    expect = [50.0, 48.28032, 80.0, 80.0, 50.0, 40.0, 20.0, 20.0]
    assert direct.tolist() == pytest.approx(expect)
    assert from_store.tolist() == pytest.approx(expect)


# -- osmnx's network filters -----------------------------------------------------------------------
def test_our_osm_filters_are_osmnx_s() -> None:
    """Fails on an osmnx upgrade that changes its (private) way filters. Both our paths (XML
    reader, Overpass) use ours, so they still agree; this says osmnx's idea of a walkable (...) way
    moved: decide whether layers.vocab._OSM_FILTERS follows."""
    from osmnx._overpass import _get_network_filter

    for mode in NetworkMode:
        assert mode.osm_filter == _get_network_filter(mode.value), mode


def test_overpass_path_sends_our_way_filters(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """osm_online asks osmnx for each network with ``custom_filter`` = our public filter (and the
    network type, which decides what osmnx keeps bidirectional)."""
    import networkx as nx
    import osmnx as ox
    from shapely.geometry import box

    from geo.sources import osm

    calls: list[dict[str, object]] = []

    def graph(polygon: object, **kw: object) -> nx.MultiDiGraph:
        calls.append(kw)
        return nx.MultiDiGraph()

    monkeypatch.setattr(osm, "_overpass_reachable", lambda timeout=3.0: False)  # no traffic
    monkeypatch.setattr(ox, "graph_from_polygon", graph)
    result = osm.osm_online(box(15.5, 56.1, 15.6, 56.2), layers=(), modes=NETWORK_MODES,
                            cache_dir=tmp_path)
    assert calls == [{"network_type": m.value, "custom_filter": m.osm_filter, "simplify": True,
                      "retain_all": True} for m in NetworkMode]
    assert calls[0]["custom_filter"].startswith('["highway"]["area"!~"yes"]')  # type: ignore[union-attr]
    assert result.networks == {} and list(tmp_path.iterdir()) == []


def test_xml_way_filter_reads_our_string() -> None:
    from geo.sources.osm_network import _edge_passes, _way_filter

    preds = _way_filter("bike")
    assert preds[0] == ("highway", None, None)
    assert _edge_passes({"highway": "residential"}, preds)
    assert not _edge_passes({"highway": "footway"}, preds)
    assert not _edge_passes({"highway": "cycleway", "bicycle": "no"}, preds)
    assert not _edge_passes({"highway": "residential", "access": "private"}, preds)


# -- package direction and the error it moved -------------------------------------------------------
def test_layers_imports_nothing_from_geo() -> None:
    code = ("import layers, layers.vocab, layers.context, sys; "
            "print([m for m in sys.modules if m.split('.')[0] == 'geo'])")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_layer_error_is_the_engines() -> None:
    import geo.errors
    import layers.errors

    assert geo.errors.UnknownLayerError is layers.errors.UnknownLayerError
    assert geo.errors.LivabilityError is layers.errors.LivabilityError
    assert issubclass(geo.errors.UnknownLayerError, (geo.errors.LivabilityError, KeyError))


def test_cli_turns_an_unknown_layer_into_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import geo.cli_build
    from geo.cli import main

    def info(args: object) -> int:
        get_layer("schols")
        return 0

    monkeypatch.setattr(geo.cli_build, "_info", info)
    assert main(["info", "--region", "blekinge"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: No layer 'schols'. Did you mean schools? Known layers: housing, ")


def test_cli_modes_come_from_the_vocabulary(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    with pytest.raises(SystemExit) as done:
        main(["build", "--help"])
    assert done.value.code == 0
    assert "street networks to store: walk,bike,drive (default walk)" in \
        " ".join(capsys.readouterr().out.split())
    assert main(["--data-dir", str(tmp_path), "build", "--region", "blekinge", "--offline",
                 "--modes", "walk,fly"]) == 2
    assert capsys.readouterr().err == "error: unknown --modes fly; use walk, bike, drive\n"
    assert list(tmp_path.iterdir()) == []
