"""Sweeps: spec validation, local and Dask backends, failures, interruption and resumption."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from glianet.sweeps import load_spec, run_sweep
from glianet.sweeps.runner import execute_run
from glianet.sweeps.spec import SpecError

QUICK = {
    "model": "ng",
    "epochs": 2,
    "seeds": 2,
    "fixed": {"samples_per_epoch": 300},
    "grid": {"z": [2.0, 2.3]},
    "random": {"n": 2, "seed": 1, "sig0": {"low": 0.2, "high": 0.6}},
}
# Runs slow enough (per-agent engine) to interrupt or kill a worker in the middle of a sweep.
SLOW = {
    "model": "ng",
    "epochs": 2,
    "seeds": 6,
    "fixed": {"samples_per_epoch": 1000, "engine": "agents"},
    "grid": {"z": [2.0, 2.3]},
}


def one_row_per_run(out: Path, spec) -> pd.DataFrame:
    table = pd.read_parquet(out)
    summary = table[table["kind"] == "summary"]
    expected = {run.run_id for run in load_spec(spec).runs()}
    assert set(summary["run_id"]) == expected
    assert summary["run_id"].is_unique
    assert len(list(out.glob("[!.]*.parquet"))) == len(expected)
    return table


def test_local_sweep_writes_one_parquet_dataset(tmp_path):
    summary = run_sweep(QUICK, tmp_path, workers=2, progress=False)
    assert len(summary) == 2 * 2 * 2 and (summary["status"] == "ok").all()
    table = one_row_per_run(tmp_path, QUICK)
    epochs = table[table["kind"] == "epoch"]
    assert len(epochs) == 8 * 3  # epoch 0, 1, 2 of each run
    assert {"z", "sig0", "samples_per_epoch", "synapses", "error", "seed"} <= set(table.columns)
    assert set(table["z"]) == {2.0, 2.3} and table["sig0"].between(0.2, 0.6).all()


def test_dask_local_cluster_gives_the_same_results(tmp_path):
    from dask.distributed import LocalCluster

    local = run_sweep(QUICK, tmp_path / "local", workers=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        dask = run_sweep(QUICK, tmp_path / "dask", scheduler=cluster.scheduler_address,
                         progress=False)  # fmt: skip
    one_row_per_run(tmp_path / "dask", QUICK)
    columns = ["run_id", "synapses", "error", "mse", "mean_sig"]
    pd.testing.assert_frame_equal(
        local[columns].sort_values("run_id").reset_index(drop=True),
        dask[columns].sort_values("run_id").reset_index(drop=True),
    )


def test_killed_dask_worker_loses_and_duplicates_nothing(tmp_path):
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        errors = []

        def sweep():
            try:
                run_sweep(SLOW, tmp_path, scheduler=cluster.scheduler_address, progress=False)
            except Exception as error:  # reported below
                errors.append(error)

        thread = threading.Thread(target=sweep)
        thread.start()
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("[!.]*.parquet"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive() and not errors
    one_row_per_run(tmp_path, SLOW)


def test_interrupted_local_sweep_resumes_without_duplicates(tmp_path):
    spec_file = tmp_path / "sweep.toml"
    spec_file.write_text(
        'model = "ng"\nepochs = 2\nseeds = 6\n'
        '[fixed]\nsamples_per_epoch = 1000\nengine = "agents"\n[grid]\nz = [2.0, 2.3]\n'
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "glianet.cli", "sweep", str(spec_file), "--out", str(out),
               "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob("[!.]*.parquet"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    kept = {path.name: path.stat().st_mtime_ns for path in out.glob("[!.]*.parquet")}
    assert 2 <= len(kept) < 12, "the sweep was interrupted in the middle"
    assert not list(out.glob(".*")), "no half-written file is left"

    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    one_row_per_run(out, spec_file)
    for name, mtime in kept.items():
        assert (out / name).stat().st_mtime_ns == mtime, "finished runs are not run again"


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    # A fault injected into the worker processes: every run with 300 samples an epoch raises.
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "sitecustomize.py").write_text(
        "from glianet.model import NGModel\n"
        "original = NGModel.run_epoch\n"
        "def run_epoch(self):\n"
        "    if self.samples_per_epoch == 300:\n"
        "        raise RuntimeError('injected fault')\n"
        "    original(self)\n"
        "NGModel.run_epoch = run_epoch\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(faults))
    spec = {
        "model": "ng",
        "epochs": 2,
        "seeds": 1,
        "fixed": {"pruning": False},
        "grid": {"samples_per_epoch": [200, 300]},
    }
    out = tmp_path / "out"
    summary = run_sweep(spec, out, workers=1, progress=False).set_index("samples_per_epoch")
    assert summary.loc[200, "status"] == "ok" and summary.loc[200, "synapses"] == 184
    assert summary.loc[300, "status"] == "failed"
    assert "RuntimeError: injected fault" in summary.loc[300, "message"]
    one_row_per_run(out, spec)
    # A failed run counts as done, unless asked to retry it.
    again = run_sweep(spec, out, workers=1, progress=False)
    assert len(again) == 2


def test_a_diverging_run_is_recorded_with_its_data(monkeypatch):
    from glianet.model import NGModel

    original = NGModel.step

    def step_into_nan(self):
        original(self)
        if self.epoch == 2:
            self.state.w[0] = float("nan")
            original(self)

    monkeypatch.setattr(NGModel, "step", step_into_nan)
    spec = {"model": "ng", "epochs": 5, "fixed": {"samples_per_epoch": 100}}
    with pytest.warns(RuntimeWarning, match="NaN"):
        frame = execute_run(load_spec(spec).runs()[0])
    summary = frame[frame["kind"] == "summary"].iloc[0]
    assert summary["status"] == "diverged" and "NaN" in summary["message"]
    assert list(frame[frame["kind"] == "epoch"]["epoch"]) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": "transformer"}, "model"),
        ({"grid": {"zeta": [1.0]}}, "grid.zeta"),
        ({"grid": {"z": []}}, "grid.z"),
        ({"grid": {"z": "2.0"}}, "grid.z"),
        ({"grid": {"z": [2.0, "high"]}}, "grid.z"),
        ({"fixed": {"eta": -1.0}}, "fixed.eta"),
        ({"grid": {"sig_rule": ["logistic", "cubic"]}}, "grid.sig_rule"),
        ({"epochs": 0}, "epochs"),
        ({"seeds": "three"}, "seeds"),
        ({"random": {"n": 2, "A": {"low": 0.5, "high": 0.1}}}, "random.A"),
        ({"random": {"A": {"low": 0.0, "high": 0.1}}}, "random.n"),
        ({"fixed": {"rng": 3}}, "fixed.rng"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_malformed_specs_fail_naming_the_field(tmp_path, change, field):
    spec = {**QUICK, **change}
    with pytest.raises(SpecError, match=rf": {field}: "):
        run_sweep(spec, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists(), "nothing runs before the spec is valid"


def test_malformed_toml_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("model = 'ng\nepochs = 2\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.toml")


def test_masda_sweeps_too(tmp_path):
    spec = {"model": "masda", "epochs": 3, "seeds": 2, "grid": {"corruption": [0.1, 0.3]}}
    summary = run_sweep(spec, tmp_path, workers=1, progress=False)
    assert len(summary) == 4 and (summary["status"] == "ok").all()
    assert {"A_d1", "mean_score", "recon_d0"} <= set(summary.columns)
    assert (summary["epoch"] == 3).all()


def test_a_run_failing_midway_keeps_what_it_collected(monkeypatch):
    from glianet.model import NGModel

    original = NGModel.step

    def step_then_fail(self):
        if self.epoch == 2:
            raise RuntimeError("boom")
        original(self)

    monkeypatch.setattr(NGModel, "step", step_then_fail)
    frame = execute_run(load_spec({"model": "ng", "epochs": 5}).runs()[0])
    summary = frame[frame["kind"] == "summary"].iloc[0]
    assert summary["status"] == "failed" and "RuntimeError: boom" in summary["message"]
    assert list(frame[frame["kind"] == "epoch"]["epoch"]) == [0, 1, 2]


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ValueError, match="cannot reach a Dask scheduler"):
        run_sweep(QUICK, tmp_path, scheduler=f"tcp://127.0.0.1:{port}", progress=False)
    assert not list(tmp_path.glob("[!.]*.parquet"))
