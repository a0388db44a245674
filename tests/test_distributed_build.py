"""The partitioned build (geo.distributed.build_region_distributed): Blekinge built from the pack
offline on a 2-worker LocalCluster (pack files read as tasks, parts written county by county as
tasks) is the one-process build's snapshot: every layer, base frame and table equal, the
manifest's counts, part lists and file checksums equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from geo.distributed import build_region_distributed, have_dask
from geo.store import open_snapshot

pytestmark = pytest.mark.slow


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    key = "uid" if "uid" in df.columns else ("code" if "code" in df.columns else None)
    out = df.sort_values(key, kind="stable") if key else df
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def two_builds(pack_dir: Path, blekinge_store: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[Any, Any, Any]:
    if not have_dask():
        pytest.skip("dask.distributed is not installed")
    from geo.sources.registry import BuildOptions

    data = tmp_path_factory.mktemp("dask-store")
    opts = BuildOptions(packs=(pack_dir,), offline=True, data=data, default_packs=False)
    snap, info = build_region_distributed("blekinge", opts, workers=2)
    return open_snapshot("blekinge", blekinge_store), snap, info


def test_ran_on_a_local_cluster(two_builds: tuple[Any, Any, Any]) -> None:
    _, _, info = two_builds
    assert (info.where, info.workers, info.local) == ("LocalCluster", 2, True)


def test_layers_base_and_tables_equal(two_builds: tuple[Any, Any, Any]) -> None:
    one, dask, _ = two_builds
    assert one.layer_keys() == dask.layer_keys()
    for key in one.layer_keys():
        pd.testing.assert_frame_equal(_sorted(one.layer(key)), _sorted(dask.layer(key)))
    for name in ("boundary", "municipalities", "localities", "footprints"):
        a, b = getattr(one, name)(), getattr(dask, name)()
        if a is None:
            assert b is None
            continue
        pd.testing.assert_frame_equal(_sorted(a), _sorted(b))
    assert one.table_names() == dask.table_names()
    for name in one.table_names():
        pd.testing.assert_frame_equal(one.table(name), dask.table(name))


def test_manifest_counts_parts_and_files_equal(two_builds: tuple[Any, Any, Any]) -> None:
    a, b = two_builds[0].manifest, two_builds[1].manifest
    assert a["layers"] == b["layers"]  # counts, kinds, coverage and each part (file, count, sha256)
    assert a["base"] == b["base"]
    assert a["tables"] == b["tables"]
    assert a["files"] == b["files"]  # the same files, byte for byte
    assert len(a["files"]) > 20
