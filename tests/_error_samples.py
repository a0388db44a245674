"""The errors migrated to messages: one sample per code and the English text the engine wrote
before (byte for byte, from the f-strings it used), for tests/test_error_messages.py and the
sample table of tests/test_messages.py."""

from __future__ import annotations

from typing import Any

#: code -> (sample parameters, the old English text for them)
ERROR_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "store_key_empty": ({}, "empty region key; give a region such as blekinge"),
    "store_key_long": (
        {"region": "x" * 30, "n": 5000, "limit": 64},
        f"region key {'x' * 30!r}... is 5,000 characters long; the limit is 64: use a shorter "
        "region name"),
    "store_key_bad": (
        {"region": "../etc"},
        "region key '../etc' is not a plain folder name (letters, digits, '-' and '_', not "
        "starting with '.' or '-'); use a region name such as blekinge"),
    "store_missing": (
        {"region": "blekinj", "root": "/data", "close": ["blekinge"], "known": ["blekinge", "skane"]},
        "No snapshot for region 'blekinj' in /data. Did you mean: blekinge? Built regions: "
        "blekinge, skane. Build it with: livability build --region blekinj"),
    "store_link_broken": (
        {"shown": "/data/t", "folder": "/data/.versions/t/v1", "region": "t"},
        "/data/t points to /data/.versions/t/v1, which is missing; the snapshot is damaged. "
        "Rebuild with: livability build --region t"),
    "store_manifest_unreadable": (
        {"shown": "/data/t", "error": "Expecting value: line 1 column 1 (char 0)", "region": "t"},
        "The manifest of /data/t is unreadable (Expecting value: line 1 column 1 (char 0)); the "
        "snapshot is damaged. Rebuild with: livability build --region t"),
    "store_schema": (
        {"shown": "/data/t", "version": 1, "reads": 2, "region": "t"},
        "/data/t was written with store schema 1, this version reads 2. Rebuild with: "
        "livability build --region t"),
    "store_manifest_damaged": (
        {"shown": "/data/t", "problem": "it holds an array, not a JSON object", "region": "t"},
        "The manifest of /data/t is damaged: it holds an array, not a JSON object. Rebuild with: "
        "livability build --region t"),
    "store_damaged": (
        {"shown": "/data/t", "what": "cells.parquet (checksum differs)", "region": "t"},
        "The snapshot in /data/t is damaged: cells.parquet (checksum differs). Rebuild with: "
        "livability build --region t"),
    "store_file_unreadable": (
        {"path": "/data/t/cells.parquet", "error": "Parquet magic bytes not found"},
        "cannot read /data/t/cells.parquet: Parquet magic bytes not found. Rebuild with "
        "'livability build'."),
    "store_no_boundary": (
        {"path": "/data/t"}, "/data/t has no boundary.parquet; rebuild the region"),
    "region_empty": ({}, "empty region name; try 'blekinge' or a county/municipality code"),
    "region_too_long": (
        {"text": "y" * 30, "n": 1234, "limit": 200},
        f"region name {'y' * 30!r}... is 1,234 characters long; the limit is 200. Give a county "
        "or municipality name or code (blekinge, 10, Karlskrona), a polygon file, or osm:NAME"),
    "region_nul": (
        {"text": "ble\x00kinge"},
        "region name 'ble\\x00kinge' contains a NUL character; retype it"),
    "region_code_unknown": (
        {"given": "99"},
        "No county or municipality with code '99'. County codes are 01-25 (Blekinge is 10); "
        "municipality codes have four digits (Karlskrona is 1080)"),
    "region_unknown": (
        {"text": "Blekingee", "close": ["Blekinge län"]},
        "Unknown region 'Blekingee'. Did you mean: Blekinge län? Give a Swedish county or "
        "municipality (name or code), a polygon file, or an OpenStreetMap place as 'osm:NAME' "
        "(online)"),
    "no_localities": (
        {"region": "t"},
        "the snapshot of 't' has no localities; rebuild it with a source of localities (the data "
        "pack's tätorter or OSM places)"),
    "theme_unknown": (
        {"theme": "schol", "close": ["schools"], "themes": ["schools", "transit"]},
        "No theme 'schol' to weigh. Did you mean schools? Themes: schools, transit"),
    "weight_range": (
        {"theme": "schools", "value": "-1", "max": 100.0},
        "weight schools=-1 is not a number from 0 to 100; give each theme a weight in 0-100 (e.g. "
        "schools=3; 0 leaves a theme out)"),
    "weights_zero": ({}, "all theme weights are 0; give at least one theme a weight > 0"),
    "locality_unknown": (
        {"place": "Alfa", "region_name": "Synthland", "close": ["Alpha"], "region": "synth"},
        "No locality 'Alfa' in Synthland. Did you mean Alpha? Run 'livability score --region "
        "synth' to list them."),
    "municipality_unknown": (
        {"municipality": "Karlskron", "close": ["Karlskrona"], "region_name": "Blekinge län"},
        "No municipality 'Karlskron' in the region Blekinge län. Did you mean Karlskrona? Give a "
        "4-digit code (1080) or a name (Karlskrona)."),
    "municipality_unknown_tables": (
        {"municipality": "Nowhere", "close": []},
        "No municipality 'Nowhere' in the snapshot's tables. Give a 4-digit code (1080) or a name "
        "(Karlskrona)."),
    "export_format_unknown": (
        {"fmt": "shp", "formats": ["gpkg", "parquet", "geojson", "csv", "postgis"]},
        "unknown export format 'shp'; use one of gpkg, parquet, geojson, csv, postgis"),
    "export_geojson_crs": (
        {"crs": 3006},
        "GeoJSON (RFC 7946) is WGS 84 only, not EPSG:3006; use --crs 4326, or --format "
        "gpkg/parquet/csv for SWEREF 99 TM"),
    "export_write": (
        {"path": "/out/x.gpkg", "reason": "No space left on device", "hint": "ENOSPC"},
        "cannot write /out/x.gpkg: No space left on device; free space or choose another --out "
        "(nothing was written; the previous output, if any, is unchanged)"),
    "export_failed": (
        {"path": "/out/x.gpkg", "error": "sqlite3_exec failed"},
        "export to /out/x.gpkg failed and was not written (sqlite3_exec failed); the previous "
        "output, if any, is unchanged"),
}

#: code -> sample parameters (the sample table of tests/test_messages.py)
ERROR_SAMPLES: dict[str, dict[str, Any]] = {c: p for c, (p, _) in ERROR_CASES.items()}
