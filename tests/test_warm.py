"""The cold-start path (app.launch, app.warm, app.views): what the map page imports, the disk
caches ``python -m app.warm`` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=os.environ | {"PYTHONPATH": str(ROOT)} | env, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_map_page_imports_leave_out_other_pages_and_kd_trees() -> None:
    """The warm-up's modules (the frame and the map page) import neither Altair (the profile's and
    compare's charts) nor scipy.spatial (KD-trees are made only by builds and point scores), and
    the page registry imports a page's module only when the page is drawn."""
    got = json.loads(_run(
        "import json, sys, streamlit\n"
        "from app.import_lock import import_modules\n"
        "from app import warm\n"
        "import_modules(warm.MODULES)\n"
        "print(json.dumps([m in sys.modules for m in "
        "('altair', 'scipy.spatial', 'app.view_profile', 'app.view_compare', 'app.view_map')]))"))
    assert got == [False, False, False, False, True]


def test_page_registry_draws_through_the_page_module() -> None:
    from app import views

    assert list(views.VIEWS) == ["map", "profile", "compare", "export", "data"]
    assert views.page_module("compare") == "app.view_compare"
    assert views.VIEWS["map"].__name__ == "render_map"


@pytest.mark.pack
@pytest.mark.slow
def test_prepare_writes_the_disk_caches(blekinge_store: Path, tmp_path: Path) -> None:
    """``python -m app.warm`` on a built store writes the score model and both languages' county
    maps; the next run reads them (the same files, nothing new)."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(blekinge_store, data)
    env = {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none"}
    env_run = os.environ | {"PYTHONPATH": str(ROOT)} | env
    first = subprocess.run([sys.executable, "-m", "app.warm"], cwd=ROOT, env=env_run,
                           capture_output=True, text=True, timeout=300, check=True)
    assert first.stdout.startswith("app caches ready in")
    models = sorted((data / "cache" / "models").glob("*.pickle"))
    maps = sorted((data / "cache" / "maps").glob("*.pickle"))
    assert len(models) == 1 and len(maps) == 2  # en, sv (tiles off, hexagons on)
    stamps = {p: p.stat().st_mtime_ns for p in models + maps}
    subprocess.run([sys.executable, "-m", "app.warm"], cwd=ROOT, env=env_run,
                   capture_output=True, text=True, timeout=300, check=True)
    again = sorted((data / "cache" / "models").glob("*.pickle")) + \
        sorted((data / "cache" / "maps").glob("*.pickle"))
    assert {p: p.stat().st_mtime_ns for p in again} == stamps


def test_precompile_writes_bytecode_once_and_survives_a_read_only_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``app.launch.precompile`` byte-compiles the project's packages where stale (Python does
    not with ``PYTHONDONTWRITEBYTECODE``), leaves fresh ones alone and reports, without raising,
    a checkout it cannot write."""
    import importlib.util

    from app.launch import PACKAGES, precompile

    for name in PACKAGES:
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "mod.py").write_text("X = 1\n")
        (tmp_path / name / "sub" / "deep.py").write_text("Y = 2\n")
    assert precompile(tmp_path) is True
    for name in PACKAGES:
        for src in (tmp_path / name / "mod.py", tmp_path / name / "sub" / "deep.py"):
            assert Path(importlib.util.cache_from_source(str(src))).is_file()
    pyc = Path(importlib.util.cache_from_source(str(tmp_path / "geo" / "mod.py")))
    stamp = pyc.stat().st_mtime_ns
    assert precompile(tmp_path) is True and pyc.stat().st_mtime_ns == stamp  # fresh: untouched
    # a checkout it cannot write (a full or read-only disk): False, nothing raised
    import compileall

    def no_space(*_a: object, **_k: object) -> bool:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compileall, "compile_dir", no_space)
    assert precompile(tmp_path) is False
