"""Signals and lost processes: a stopped command leaves no process, no traceback, no leftover.

Each test starts the real ``glianet`` command, waits until it has the processes of interest
(workers, a cluster, a server), stops it the way a user or the system would, and checks by pid
that nothing it started is left.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

#: Runs long enough (per-agent engine) that a sweep is still going when it is stopped.
SLOW_SPEC = (
    'model = "ng"\nepochs = 2\nseeds = 20\n'
    '[fixed]\nsamples_per_epoch = 1000\nengine = "agents"\n[grid]\nz = [2.0, 2.3]\n'
)
#: Generous bounds for a loaded 2-core machine; on a quiet one each wait takes a fraction.
START = 120
GONE = 20


def glianet(*args: str) -> subprocess.Popen:
    """Start ``glianet ARGS`` in its own process group (so a test can clean up after it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "glianet.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def ctrl_c(process: subprocess.Popen) -> None:
    """What Ctrl-C in a terminal does: SIGINT to every process of the command."""
    os.killpg(process.pid, signal.SIGINT)


def wait_for(condition, what: str, timeout: float = START) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def workers(pid: int) -> list[psutil.Process]:
    """The worker processes of a local sweep (not the resource tracker)."""
    found = []
    for child in descendants(pid):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" not in command:
            found.append(child)
    return found


def running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an ended process whose new parent, here, may never reap it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(processes: list[psutil.Process]) -> None:
    """Every one of ``processes`` ends within ``GONE`` seconds (and is killed if not)."""
    deadline = time.monotonic() + GONE
    while any(map(running, processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [process for process in processes if running(process)]
    for process in alive:
        process.kill()
    assert not alive, f"left running: {[p.pid for p in alive]}"


@pytest.fixture
def sweep_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "sweep.toml"
    spec.write_text(SLOW_SPEC)
    return spec


@pytest.fixture
def cleanup():
    """Kill, at the end, the process groups of the commands a test started."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=GONE)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_local_sweep_leaves_no_process(tmp_path, sweep_spec, cleanup, signum):
    out = tmp_path / "out"
    process = glianet("sweep", str(sweep_spec), "--out", str(out), "--workers", "2")
    cleanup.append(process)
    # the 2 workers and the resource tracker; the workers may still be starting
    wait_for(lambda: len(workers(process.pid)) == 2, "2 workers")
    started = descendants(process.pid)
    if signum == signal.SIGINT:
        ctrl_c(process)
    else:
        process.send_signal(signum)
    status = process.wait(timeout=GONE)
    assert_all_gone(started)
    if signum != signal.SIGKILL:  # the command unwinds: a status, one line, no leftover
        assert status == 128 + signum
        stderr = process.stderr.read()
        assert "Traceback" not in stderr
        assert "glianet: interrupted" in stderr or "glianet: terminated" in stderr
        assert not list(out.glob(".*"))


def test_ctrl_c_stops_a_dask_sweep_at_once(tmp_path, sweep_spec, cleanup):
    out = tmp_path / "out"
    process = glianet(
        "sweep", str(sweep_spec), "--out", str(out), "--backend", "dask", "--workers", "2"
    )
    cleanup.append(process)
    wait_for(lambda: list(out.glob("[!.]*.parquet")), "the first finished run")
    started = descendants(process.pid)  # the cluster's worker processes
    assert started
    ctrl_c(process)
    assert process.wait(timeout=GONE) == 128 + signal.SIGINT
    assert "Traceback" not in process.stderr.read()
    assert_all_gone(started)
    assert len(list(out.glob("[!.]*.parquet"))) < 40, "the sweep stopped in the middle"


def test_a_killed_worker_is_one_line_and_its_own_status(tmp_path, sweep_spec, cleanup):
    out = tmp_path / "out"
    process = glianet("sweep", str(sweep_spec), "--out", str(out), "--workers", "1")
    cleanup.append(process)
    wait_for(lambda: workers(process.pid), "the worker")
    (worker,) = workers(process.pid)
    worker.kill()
    assert process.wait(timeout=GONE) == 4
    stderr = process.stderr.read()
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if "glianet" in line]
    assert "worker process was lost" in line and "run the sweep again" in line


def handles_sigterm(pid: int) -> bool:
    """Whether ``glianet`` has reached the point where it handles signals (Linux: SigCgt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    (mask,) = [line.split()[1] for line in status.splitlines() if line.startswith("SigCgt")]
    return bool(int(mask, 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_ctrl_c_while_starting_prints_no_traceback(tmp_path, sweep_spec, cleanup, delay):
    process = glianet("sweep", str(sweep_spec), "--out", str(tmp_path / "out"))
    cleanup.append(process)
    wait_for(lambda: handles_sigterm(process.pid), "the command to start")
    time.sleep(delay)  # right away, or while it loads the model and spec
    started = descendants(process.pid)
    ctrl_c(process)
    assert process.wait(timeout=GONE) == 128 + signal.SIGINT
    assert "Traceback" not in process.stderr.read()
    assert_all_gone(started + descendants(process.pid))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> int:
    """HTTP status of ``GET url``."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_served_page_survives_a_request_for_an_asset_folder_and_sigterm(
    tmp_path, monkeypatch, cleanup
):
    # a copy of the asset cache's layout, so that a failure cannot delete the real one
    package = tmp_path / "cdn" / "@widgetti" / "solara-vuetify-app@10.1.1"
    (package / "dist").mkdir(parents=True)
    (package / "dist" / "main.js").write_text("// the app")
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path / "cdn"))
    port = free_port()
    process = glianet("serve", "--port", str(port))
    cleanup.append(process)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: get_or_none(f"{url}/readyz") == 200, "the server")
    cdn = f"{url}/_solara/cdn/@widgetti/solara-vuetify-app@10.1.1"
    assert get(cdn) == 404
    assert get(f"{cdn}/") == 404
    assert (package / "dist" / "main.js").exists(), "the cached package is still there"
    assert get(f"{cdn}/dist/main.js") == 200
    started = [psutil.Process(process.pid), *descendants(process.pid)]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=GONE)
    assert_all_gone(started)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens any more"


def get_or_none(url: str) -> int | None:
    try:
        return get(url)
    except OSError:
        return None
