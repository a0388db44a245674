"""The score model on disk (app.model_cache): read back, invalidated, and never unpickled unless
this cache wrote it (HMAC with the folder's key)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from app import model_cache

BUILT = "2026-01-01T00:00"


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, list[int]]:
        self.calls += 1
        return {"model": [1, 2, 3]}


def test_round_trip_and_invalidation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SYNTHETIC value: built once, then read back; another build time is another file (the old
    one removed); a cached value of another type is rebuilt; LIVABILITY_MODEL_CACHE=0 never
    touches the disk."""
    build = _Counter()
    first = model_cache.load_or_build(tmp_path, "blekinge", BUILT, build, dict)
    again = model_cache.load_or_build(tmp_path, "blekinge", BUILT, build, dict)
    assert first == again == {"model": [1, 2, 3]} and build.calls == 1
    path = model_cache.cache_path(tmp_path, "blekinge", BUILT)
    assert path.parent == tmp_path / "cache" / "models" and path.is_file()
    assert sorted(p.name for p in path.parent.iterdir()) == [".key", path.name]  # no temp file
    assert (path.parent / ".key").stat().st_mode & 0o077 == 0  # the key is the user's alone
    model_cache.load_or_build(tmp_path, "blekinge", "2026-02-01T00:00", build, dict)
    newer = model_cache.cache_path(tmp_path, "blekinge", "2026-02-01T00:00")
    assert build.calls == 2 and sorted(p.name for p in path.parent.iterdir()) == [".key", newer.name]
    assert model_cache.load_or_build(tmp_path, "blekinge", "2026-02-01T00:00", build, list) == first
    assert build.calls == 3  # a cached dict is not the list asked for: rebuilt
    monkeypatch.setenv("LIVABILITY_MODEL_CACHE", "0")
    other = tmp_path / "off"
    model_cache.load_or_build(other, "blekinge", BUILT, build, dict)
    assert build.calls == 4 and not other.exists()


class _Boom:
    """Unpickling this runs code: what a planted cache file would do."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (pytest.fail, ("a foreign pickle was loaded",))


@pytest.mark.parametrize("content", [
    b"not a pickle",
    pickle.dumps(("livability-score-model/1", _Boom())),  # a plain pickle with the old layout
    b"LVMODEL2" + b"\0" * 32 + pickle.dumps(("livability-score-model/1", _Boom())),  # forged HMAC
    b"LVMODEL2" + b"\0" * 10,  # truncated
])
def test_a_file_this_cache_did_not_write_is_never_unpickled(tmp_path: Path, content: bytes) -> None:
    build = _Counter()
    model_cache.load_or_build(tmp_path, "blekinge", BUILT, build, dict)  # makes the key
    path = model_cache.cache_path(tmp_path, "blekinge", BUILT)
    path.write_bytes(content)
    assert model_cache.load_or_build(tmp_path, "blekinge", BUILT, build, dict) == {"model": [1, 2, 3]}
    assert build.calls == 2  # rebuilt (and rewritten with a valid HMAC)
    assert path.read_bytes().startswith(b"LVMODEL2") and path.read_bytes() != content


def test_other_files_in_the_folder_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "models"
    folder.mkdir(parents=True)
    mine = {"notes.txt": b"keep me", "blekinge-handmade.pickle": b"not ours", "skane-x.pickle": b"x"}
    for name, data in mine.items():
        (folder / name).write_bytes(data)
    model_cache.load_or_build(tmp_path, "blekinge", BUILT, _Counter(), dict)
    model_cache.load_or_build(tmp_path, "blekinge", "2026-03-01T00:00", _Counter(), dict)
    for name, data in mine.items():
        assert (folder / name).read_bytes() == data


def test_cached_model_scores_like_a_fresh_one(tmp_path: Path) -> None:
    """SYNTHETIC store: the model read from disk gives the same locality scores as a new one."""
    from _app_fixtures import write_synthetic_store

    from geo import scoring
    from geo.store import open_snapshot

    data = write_synthetic_store(tmp_path / "data")
    snap = open_snapshot("blekinge", data)
    built = str(snap.manifest.get("built_at", ""))
    model_cache.load_or_build(data, "blekinge", built, lambda: scoring.build_model(snap),
                              scoring.ScoreModel)
    cached = model_cache.load_or_build(data, "blekinge", built,
                                       lambda: pytest.fail("rebuilt"), scoring.ScoreModel)
    fresh = scoring.score(scoring.build_model(snap), weights={}).localities
    again = scoring.score(cached, weights={}).localities
    assert fresh["code"].tolist() == again["code"].tolist()
    assert fresh["composite"].round(9).tolist() == again["composite"].round(9).tolist()


def test_map_variants_kept_older_builds_pruned(tmp_path: Path) -> None:
    """SYNTHETIC values: the county-map cache (folder ``maps``) keeps one file per variant (language,
    toggles) of the current build and code; a rebuild's first write removes the older build's
    files but not the current variants named in ``keep``; another code fingerprint is another
    file (never read as this code's)."""
    def path(built: str, variant: str, code: str = "code-a") -> Path:
        return model_cache.cache_path(tmp_path, "blekinge", built, folder="maps", variant=variant,
                                      fingerprint=code)

    variants = ("en", "sv")
    for built in (BUILT, "2026-02-01T00:00"):
        keep = [path(built, v) for v in variants]
        for v in variants:
            got = model_cache.load_or_build(tmp_path, "blekinge", built, lambda v=v: {"map": v},
                                            dict, folder="maps", variant=v, fingerprint="code-a",
                                            keep=keep)
            assert got == {"map": v}
    files = sorted(p.name for p in (tmp_path / "cache" / "maps").glob("*.pickle"))
    assert files == sorted(path("2026-02-01T00:00", v).name for v in variants)
    assert path(BUILT, "en") != path(BUILT, "en", "code-b")  # new code: a new name
    built = _Counter()
    assert model_cache.load_or_build(tmp_path, "blekinge", "2026-02-01T00:00", built, dict,
                                     folder="maps", variant="en", fingerprint="code-a") == {"map": "en"}
    assert built.calls == 0  # read back, not rebuilt
