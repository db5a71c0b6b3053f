"""Running a sweep: one code path over a ``concurrent.futures`` executor.

The executor is a local process pool (default) or a Dask distributed cluster (its
``Client.get_executor()``): a ``LocalCluster`` started here, or an existing scheduler. Workers only
compute; this process writes each finished run at once, atomically and durably, to
``OUT/<run_id>.parquet``. So an interrupted sweep loses no finished run, and running it again
skips those (after checking that each can be read and holds its summary row). Every file of a
folder has the folder's columns and types (:mod:`glianet.sweeps.schema`); a folder takes one
spec, or several appended on purpose.

An interrupted sweep (Ctrl-C, an exception, SIGTERM through the ``glianet`` command) stops its
workers at once: queued runs are cancelled and running ones ended, since they run again on
resume. Worker processes ignore Ctrl-C (a terminal sends it to them too; the main process
handles it for them), and local workers end themselves when the main process is gone, however
it ended.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from glianet.outputs import remove_stale_temporaries, write_atomic
from glianet.sweeps.schema import META, encode, prepare_folder, run_parameters, to_table
from glianet.sweeps.spec import Run, SweepSpec, load_spec
from glianet.sweeps.worker import start_local_worker

BACKENDS = ("local", "dask")
logger = logging.getLogger(__name__)


class WorkerError(BrokenExecutor):
    """A worker could not deliver a run: it was killed, ran out of memory, or its cluster failed."""


def execute_run(run: Run) -> pd.DataFrame:
    """Run one model to the end; never raises for a failing run.

    Returns
    -------
    DataFrame
        One row per collected epoch (``kind="epoch"``) and one summary row (``kind="summary"``)
        holding the final values, ``status`` ("ok", "failed", "diverged" or "saturated"), the
        error message and the wall time; every parameter of the run in its columns.
    """
    start = time.perf_counter()
    model, status, message = None, "ok", ""
    try:
        model = run.build()
        while model.running:
            model.step()
        if model.diverged or model.saturated:
            status, message = model.status, model.status_message
    except Exception as error:  # a failing run is a result, not the end of the sweep
        status = "failed"
        message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
    # what was collected before a failure is kept too
    epochs = (
        model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        if model is not None
        else pd.DataFrame()
    )
    summary = epochs.tail(1).copy() if len(epochs) else pd.DataFrame(index=[0])
    summary = summary.assign(kind="summary", status=status, message=message)
    epochs = epochs.assign(kind="epoch", status=status, message="")
    frame = pd.concat([epochs, summary], ignore_index=True)
    return frame.assign(
        run_id=run.run_id,
        model=run.model,
        seed=run.seed,
        wall_seconds=time.perf_counter() - start,
        **{
            name: encode(value)
            for name, value in run_parameters(run.model, run.params, run.epochs).items()
        },
    )


def make_executor(stack: ExitStack, backend: str, workers: int | None, scheduler: str | None):
    """The executor of a backend, closed when ``stack`` closes."""
    if scheduler is not None:
        backend = "dask"
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is invalid: it must be one of {BACKENDS}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers={workers!r} is invalid: it must be an integer >= 1")
    workers = workers or os.cpu_count() or 1
    if backend == "local":
        # spawn: this process may hold threads (progress bar, Dask), which fork does not copy.
        context = multiprocessing.get_context("spawn")
        return stack.enter_context(
            ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=start_local_worker,
                initargs=(os.getpid(),),
            )
        )  # fmt: skip
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        # silence_logs: the workers' warnings as the cluster closes (cancelled runs, a missed
        # heartbeat) are no news to someone who stopped the sweep; errors still show
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        )  # fmt: skip
        client = stack.enter_context(Client(cluster))
    else:
        try:
            client = stack.enter_context(Client(scheduler, timeout="10s"))
        except OSError as error:
            raise ValueError(
                f"scheduler={scheduler!r}: cannot reach a Dask scheduler there ({error})"
            ) from None
    return stack.enter_context(client.get_executor(pure=False))


@contextmanager
def ignoring_ctrl_c() -> Iterator[None]:
    """Processes started in this block ignore Ctrl-C, which a terminal sends to every process
    of the command: the main process stops them itself. (A Ctrl-C within the block, while a
    Dask cluster starts, is ignored too.) Only in the main thread, where signals are handled.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by child processes
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_now(executor: Executor) -> None:
    """Stop a sweep's executor at once: cancel queued runs and end running ones."""
    if isinstance(executor, ProcessPoolExecutor):
        # shutdown() waits for running runs; Python < 3.14 has no public way to end them
        for process in list((executor._processes or {}).values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
    else:  # Dask's executor: without waiting, shutdown cancels every future on the cluster
        executor.shutdown(wait=False)


def run_sweep(
    spec: str | Path | dict | SweepSpec,
    out: str | Path,
    backend: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    append: bool = False,
) -> pd.DataFrame:
    """Run every run of a sweep that ``out`` does not hold yet.

    Parameters
    ----------
    spec : path, dict or SweepSpec
        The sweep (see :mod:`glianet.sweeps.spec`); validated before any run starts.
    out : path
        Result directory: one Parquet file per finished run, all of one schema (every
        parameter, every reporter a run can produce); ``pandas.read_parquet(out)`` loads them
        all (rows with ``kind == "epoch"`` per epoch, ``kind == "summary"`` one per run).
    backend : {"local", "dask"}
        Local worker processes, or Dask distributed.
    workers : int, optional
        Worker processes (local pool or ``LocalCluster``); default: the number of CPUs.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); implies ``backend="dask"``.
    retry_failed : bool
        Run again the runs recorded as failed, diverged or saturated (default: they count as
        done).
    progress : bool
        Show a progress bar.
    append : bool
        Add this spec's runs to a folder that holds another spec's results (refused otherwise).

    Returns
    -------
    DataFrame
        The summary rows of every run of the sweep in ``out``.

    Raises
    ------
    WorkerError
        A worker died (killed, out of memory) or the cluster failed; the runs finished so far
        are saved, and running the sweep again resumes it.
    FolderError
        ``out`` holds another spec's results and ``append`` is not set.
    """
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    columns = prepare_folder(out, spec, append)
    runs = spec.runs()
    done = finished_runs(out, runs, retry_failed)
    todo = [run for run in runs if run.run_id not in done]

    with ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=len(runs), initial=len(runs) - len(todo), desc="sweep", unit="run",
                 disable=not progress)
        )  # fmt: skip
        if todo:
            executor: Executor | None = None
            try:
                with ignoring_ctrl_c():  # local workers start on submit
                    executor = make_executor(stack, backend, workers, scheduler)
                    futures = {executor.submit(execute_run, run): run for run in todo}
                for future in as_completed(futures):
                    write_result(out, futures[future], future, columns)
                    bar.update()
            except BaseException:
                if executor is not None:
                    stop_now(executor)
                raise
    return load_summary(out, runs)


def write_result(out: Path, run: Run, future: Future, columns: dict[str, str]) -> None:
    """Write the result file of a finished run, atomically and durably, with the folder's
    ``columns`` (name: type).

    Raises
    ------
    WorkerError
        The run's worker could not deliver it (``execute_run`` itself never raises).
    """
    try:
        result = future.result()
    except Exception as error:
        raise WorkerError(
            f"run {run.run_id} was lost with its worker ({type(error).__name__}"
            f"{': ' if str(error) else ''}{error}); the finished runs are saved in {out}: run the"
            " sweep again to resume it"
        ) from error
    table = to_table(result, columns)
    write_atomic(out / f"{run.run_id}.parquet", lambda path: pq.write_table(table, path))


def finished_runs(out: Path, runs: list[Run], retry_failed: bool) -> set[str]:
    """Ids of the ``runs`` whose result file in ``out`` is sound (failed ones only if not
    ``retry_failed``).

    A result file that cannot be read or lacks its one summary row (a disk fault, a copy cut
    short) is removed, with a warning, so its run is done again.
    """
    done = set()
    for run in runs:
        path = out / f"{run.run_id}.parquet"
        if not path.exists():
            continue
        try:
            table = pd.read_parquet(path, columns=["run_id", "kind", "status"])
            summary = table[table["kind"] == "summary"]
            sound = len(summary) == 1 and summary["run_id"].iloc[0] == run.run_id
        except Exception as error:  # pyarrow raises several types for a damaged file
            sound, problem = False, f"{type(error).__name__}: {error}"
        else:
            problem = "it does not hold the run's one summary row"
        if not sound:
            logger.warning("result file %s is damaged (%s): its run is done again", path, problem)
            path.unlink()
            continue
        if retry_failed and summary["status"].iloc[0] != "ok":
            continue
        done.add(run.run_id)
    return done


def load_summary(out: Path, runs: list[Run]) -> pd.DataFrame:
    """The summary rows of ``runs`` found in ``out``."""
    files = [out / f"{run.run_id}.parquet" for run in runs]
    frames = [pd.read_parquet(path) for path in files if path.exists()]
    if not frames:
        return pd.DataFrame(columns=list(META))
    table = pd.concat(frames, ignore_index=True)
    return table[table["kind"] == "summary"].reset_index(drop=True)


def summary_table(summary: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Final values per parameter set, mean over seeds, with run and failure counts."""
    keys = [name for name in spec.swept if name in summary] or ["model"]
    metrics = [c for c in ("synapses", "error", "mse") if c in summary]
    grouped = summary.groupby(keys, dropna=False)
    table = grouped[metrics].mean() if metrics else grouped.size().to_frame("runs")
    table["runs"] = grouped.size()
    table["failed"] = grouped["status"].agg(lambda s: int((s != "ok").sum()))
    return table
