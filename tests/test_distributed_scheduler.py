"""``livability build --scheduler ADDR`` and ``score --scheduler ADDR`` on a cluster this process
did not start: a ``dask scheduler`` and a ``dask worker`` run as separate processes (Dask's own
command line, on loopback), as an existing cluster would. The build's pack reads run on that
worker, this process writes the parts (a remote worker need not share our disk), and the snapshot
is the one-process build's byte for byte; the scores are the one-process scores. Afterwards none
of the processes the CLI started is left (the cluster is not ours to stop: its two processes are
stopped by the fixture)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo.cli import main
from geo.distributed import have_dask
from geo.store import open_snapshot

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _dask_cli() -> list[str]:
    """Dask's command line of this environment (``dask scheduler``, ``dask worker``)."""
    return [str(Path(sys.executable).with_name("dask"))]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """``(address, client)`` of a scheduler and one worker started as separate processes."""
    if not have_dask() or not Path(sys.executable).with_name("dask").is_file():
        pytest.skip("dask.distributed (with its `dask` command) is not installed")
    from distributed import Client

    tmp = tmp_path_factory.mktemp("cluster")
    info = tmp / "scheduler.json"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    logs = [(tmp / f"{n}.log").open("w") for n in ("scheduler", "worker")]
    procs = [subprocess.Popen([*_dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              env=env, cwd=tmp, stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        deadline = time.time() + 60
        while not info.is_file() or not info.read_text().strip():
            if time.time() > deadline or procs[0].poll() is not None:
                pytest.fail("the dask scheduler did not start: "
                            + (tmp / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen(
            [*_dask_cli(), "worker", address, "--nthreads", "1", "--nworkers", "1",
             "--no-dashboard", "--memory-limit", "0", "--local-directory", str(tmp)],
            env=env, cwd=tmp, stdout=logs[1], stderr=subprocess.STDOUT))
        client = Client(address, timeout="30s")
        client.wait_for_workers(1, timeout=90)
        yield address, client
        client.close()
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()


def _worker_tasks(client: Any) -> list[str]:
    return [str(key) for key, *_ in client.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.transition_log))]


def test_quiet_dask_logs_follows_the_cli_level() -> None:
    """distributed's INFO lines stay off the CLI's stderr unless ``-v`` asks for INFO."""
    if not have_dask():
        pytest.skip("dask.distributed is not installed")
    from geo.cli_distributed import quiet_dask_logs

    root, dist = logging.getLogger(), logging.getLogger("distributed")
    before = root.level, dist.level
    try:
        for level in (logging.WARNING, logging.INFO, logging.ERROR):
            root.setLevel(level)
            quiet_dask_logs()
            assert dist.level == level
    finally:
        root.setLevel(before[0])
        dist.setLevel(before[1])


def test_build_on_an_existing_scheduler_is_the_one_process_build(
        cluster: tuple[str, Any], pack_dir: Path, blekinge_store: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    address, client = cluster
    before = len(_worker_tasks(client))
    data = tmp_path / "store"
    assert main(["--data-dir", str(data), "build", "--region", "blekinge", "--pack", str(pack_dir),
                 "--offline", "--no-default-packs", "--quiet", "--scheduler", address]) == 0
    out = capsys.readouterr()
    assert "Blekinge" in out.out
    # the pack's files were read as tasks of that cluster (its scheduler saw them)
    read = [k for k in _worker_tasks(client)[before:] if "read" in k]
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    assert len(set(read)) >= len(manifest["layers"]), "the pack's layer files were not read there"
    one, dask = open_snapshot("blekinge", blekinge_store), open_snapshot("blekinge", data)
    for part in ("layers", "base", "tables", "files"):
        assert one.manifest[part] == dask.manifest[part], part
    # the cluster still runs (we did not start it, so we did not stop it)
    assert len(client.scheduler_info()["workers"]) == 1


def test_score_on_an_existing_scheduler_equals_one_process(
        cluster: tuple[str, Any], blekinge_store: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    address, _ = cluster
    data = tmp_path / "store"
    shutil.copytree(blekinge_store, data)
    for cached in [d for d in data.rglob("partitions") if d.is_dir()]:
        shutil.rmtree(cached)  # an earlier test's partitions: this run computes them there
    args = ["--data-dir", str(data), "score", "--region", "blekinge", "--top", "10",
            "--sensitivity", "0"]
    assert main(args) == 0
    plain = capsys.readouterr().out
    assert main([*args, "--scheduler", address, "--partitions", "municipality", "--lang", "en"]) == 0
    out = capsys.readouterr()
    assert out.out == plain and plain.count("\n") >= 10
    assert address in out.err and "computed" in out.err
