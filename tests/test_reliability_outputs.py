"""Outputs and sweep specs: durable results, no leftovers, sizes counted, one-line errors."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from glianet import cli
from glianet.experiments import ng_paper
from glianet.outputs import write_atomic
from glianet.sweeps import load_spec, run_sweep
from glianet.sweeps.spec import MAX_RUNS, SpecError

TINY = {"model": "ng", "epochs": 1, "seeds": 4, "fixed": {"samples_per_epoch": 100}}
QUICK_REPRODUCE = {"seeds": 1, "epochs": 1, "samples_per_epoch": 100, "progress": False}


def hidden(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob(".*"))


def kill_while_writing(path: Path) -> None:
    """Start a process writing ``path`` atomically and SIGKILL it in the middle of the write."""
    script = (
        "import sys, time; from pathlib import Path; from glianet.outputs import write_atomic\n"
        "def slow(tmp):\n"
        "    tmp.write_bytes(b'x' * 100_000); print('writing', flush=True); time.sleep(60)\n"
        f"write_atomic(Path({str(path)!r}), slow)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "writing\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)


def test_resume_redoes_damaged_results_and_removes_what_killed_writers_left(tmp_path):
    run_sweep(TINY, tmp_path, workers=1, progress=False)
    files = sorted(tmp_path.glob("*.parquet"))
    assert len(files) == 4
    files[0].write_bytes(b"")  # zero length
    files[1].write_bytes(files[1].read_bytes()[:100])  # cut short
    table = pd.read_parquet(files[2])
    table[table["kind"] == "epoch"].to_parquet(files[2])  # readable, no summary row
    kill_while_writing(tmp_path / "killed.parquet")
    assert len(hidden(tmp_path)) == 1, "the killed writer left its temporary file"
    intact = files[3].stat().st_mtime_ns
    time.sleep(0.01)

    summary = run_sweep(TINY, tmp_path, workers=1, progress=False)
    assert len(summary) == 4 and summary["run_id"].is_unique
    for path in files:
        table = pd.read_parquet(path)
        assert (table["kind"] == "summary").sum() == 1
    assert files[3].stat().st_mtime_ns == intact, "a sound result is not run again"
    assert hidden(tmp_path) == []


def test_results_are_synced_before_they_count(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd)
    )
    target = tmp_path / "result.csv"
    write_atomic(target, lambda path: path.write_text("a,b\n1,2\n"))
    assert target.read_text() == "a,b\n1,2\n"
    assert len(synced) == 2
    assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name.startswith(".result.csv.")
    assert Path(synced[1]) == tmp_path, "the folder, so the rename is durable too"


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_outputs_get_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "out.csv", lambda path: path.write_text("x"))
    finally:
        os.umask(old)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_interrupted_write_removes_its_temporary_file(tmp_path):
    def fail(path):
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "out.csv", fail)
    assert list(tmp_path.iterdir()) == []


def test_a_reproduction_failing_midway_leaves_nothing_and_can_run_again(tmp_path, monkeypatch):
    out = tmp_path / "results" / "ng"

    def broken(epochs):
        raise RuntimeError("the figure failed")

    monkeypatch.setattr(ng_paper, "plot_synapses_and_error", broken)
    with pytest.raises(RuntimeError, match="the figure failed"):
        ng_paper.reproduce(out, **QUICK_REPRODUCE)
    assert not out.exists() or list(out.iterdir()) == []
    assert hidden(out.parent) == []
    monkeypatch.undo()
    ng_paper.reproduce(out, **QUICK_REPRODUCE)  # no --force needed
    assert sorted(p.name for p in out.iterdir()) == sorted(ng_paper.OUTPUTS)
    assert hidden(out.parent) == []


def thousand(start: float) -> list[float]:
    return [start + i / 1000 for i in range(1000)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seeds": 10**9}, "seeds"),
        ({"grid": {"z": thousand(2), "alpha": thousand(0.01), "A": thousand(0.01)}}, "grid.z"),
        ({"random": {"n": 10**9, "sig0": {"low": 0.1, "high": 0.9}}}, "random.n"),
        ({"seeds": MAX_RUNS // 10, "grid": {"z": thousand(2)[:11]}}, "seeds"),
    ],
)
def test_a_sweep_too_large_is_refused_before_any_run_is_made(change, field):
    with pytest.raises(SpecError, match=rf"{field}: the sweep would have .* runs; at most"):
        load_spec({**TINY, **change})


def test_the_largest_sweep_allowed_is_counted_right():
    spec = load_spec({**TINY, "seeds": MAX_RUNS // 10, "grid": {"z": thousand(2)[:10]}})
    assert len(spec.seeds) * 10 == MAX_RUNS


def test_a_grid_value_listed_twice_is_refused():
    with pytest.raises(SpecError, match=r"grid\.z: 2\.3 is listed twice"):
        load_spec({**TINY, "grid": {"z": [2.3, 2.0, 2.3]}})
    with pytest.raises(SpecError, match=r"grid\.mini_batch_size: 50\.0 is listed twice"):
        load_spec({**TINY, "grid": {"mini_batch_size": [50, 50.0]}})


def test_random_points_drawn_twice_run_once():
    spec = load_spec(
        {**TINY, "random": {"n": 20, "mini_batch_size": {"low": 50, "high": 51, "integer": True}}}
    )
    runs = spec.runs()
    assert len({run.run_id for run in runs}) == len(runs) == 2 * 4


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    status = cli.main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


def test_a_spec_that_is_a_folder_is_one_line_of_bad_input(tmp_path, capsys):
    status, lines = run_cli(capsys, "sweep", str(tmp_path), "--out", str(tmp_path / "out"))
    assert status == cli.BAD_INPUT
    assert lines == [f"glianet sweep: error: sweep spec {tmp_path}: cannot be read: Is a directory"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_file_that_cannot_be_written_is_one_line_and_its_own_status(
    tmp_path, capsys, monkeypatch, code
):
    def refuse(frame, path, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    out = tmp_path / "out"
    status, lines = run_cli(
        capsys, "reproduce", "--out", str(out), "--seeds", "1", "--epochs", "1",
        "--set", "samples_per_epoch=100",
    )  # fmt: skip
    assert status == cli.FILE_ERROR
    (line,) = [line for line in lines if line.startswith("glianet")]
    assert line.startswith(f"glianet reproduce: file error: {os.strerror(code)}: ")
    assert not out.exists() or list(out.iterdir()) == []
