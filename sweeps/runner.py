"""Running a sweep: one code path over a ``concurrent.futures`` executor.

The executor is a local process pool (default) or a Dask distributed cluster (its
``Client.get_executor()``): a ``LocalCluster`` started here, or an existing scheduler. Workers only
compute; this process writes each finished run at once, atomically, to ``OUT/<run_id>.parquet``.
So an interrupted sweep loses no finished run, and running it again skips those.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from glianet.outputs import write_atomic
from glianet.sweeps.spec import Run, SweepSpec, load_spec

BACKENDS = ("local", "dask")
META = ["run_id", "model", "seed", "kind", "status", "message", "wall_seconds"]


def execute_run(run: Run) -> pd.DataFrame:
    """Run one model to the end; never raises for a failing run.

    Returns
    -------
    DataFrame
        One row per collected epoch (``kind="epoch"``) and one summary row (``kind="summary"``)
        holding the final values, ``status`` ("ok", "failed", "diverged" or "saturated"), the
        error message and the wall time.
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
        **{name: encode(value) for name, value in run.params.items()},
    )


def encode(value: Any) -> Any:
    """Parameter values as Parquet stores them: lists and tables as JSON text."""
    return json.dumps(value) if isinstance(value, list | dict | tuple) else value


def conform(frame: pd.DataFrame, columns: list[str], params: list[str]) -> pd.DataFrame:
    """Give every run file the same columns and types, so the directory reads as one table.

    Metrics become float64 (a failed run has NaN where another has numbers); parameters keep
    their own type (the spec gives each parameter one type).
    """
    frame = frame.reindex(columns=columns)
    for column in ("kind", "status", "message", "run_id", "model"):
        frame[column] = frame[column].astype("string")
    frame["seed"] = frame["seed"].astype("int64")
    frame["wall_seconds"] = frame["wall_seconds"].astype("float64")
    metrics = [c for c in columns if c not in META and c not in params]
    frame[metrics] = frame[metrics].astype("float64")
    return frame


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
        return stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=context))
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        )
        client = stack.enter_context(Client(cluster))
    else:
        try:
            client = stack.enter_context(Client(scheduler, timeout="10s"))
        except OSError as error:
            raise ValueError(
                f"scheduler={scheduler!r}: cannot reach a Dask scheduler there ({error})"
            ) from None
    return stack.enter_context(client.get_executor(pure=False))


def run_sweep(
    spec: str | Path | dict | SweepSpec,
    out: str | Path,
    backend: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every run of a sweep that ``out`` does not hold yet.

    Parameters
    ----------
    spec : path, dict or SweepSpec
        The sweep (see :mod:`glianet.sweeps.spec`); validated before any run starts.
    out : path
        Result directory: one Parquet file per finished run; ``pandas.read_parquet(out)`` loads
        them all (rows with ``kind == "epoch"`` per epoch, ``kind == "summary"`` one per run).
    backend : {"local", "dask"}
        Local worker processes, or Dask distributed.
    workers : int, optional
        Worker processes (local pool or ``LocalCluster``); default: the number of CPUs.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); implies ``backend="dask"``.
    retry_failed : bool
        Run again the runs recorded as failed or diverged (default: they count as done).
    progress : bool
        Show a progress bar.

    Returns
    -------
    DataFrame
        The summary rows of every run of the sweep in ``out``.
    """
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = spec.runs()
    done = finished_runs(out, retry_failed)
    todo = [run for run in runs if run.run_id not in done]
    params = parameter_columns(spec)
    columns = META + params + [m for m in metric_columns(spec) if m not in params]

    with ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=len(runs), initial=len(runs) - len(todo), desc="sweep", unit="run",
                 disable=not progress)
        )  # fmt: skip
        if todo:
            executor: Executor = make_executor(stack, backend, workers, scheduler)
            futures: dict[Future, Run] = {executor.submit(execute_run, run): run for run in todo}
            try:
                for future in as_completed(futures):
                    run = futures[future]
                    frame = conform(future.result(), columns, params)
                    write_atomic(
                        out / f"{run.run_id}.parquet",
                        lambda path, frame=frame: frame.to_parquet(path, index=False),
                    )
                    bar.update()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    return load_summary(out, runs)


def parameter_columns(spec: SweepSpec) -> list[str]:
    """The parameters the spec sets, fixed or swept."""
    return list(dict.fromkeys(list(spec.fixed) + spec.swept))


def metric_columns(spec: SweepSpec) -> list[str]:
    """What the model's DataCollector reports."""
    return list(spec.runs()[0].build().datacollector.model_reporters)


def finished_runs(out: Path, retry_failed: bool) -> set[str]:
    """Run ids with a result file in ``out`` (failed ones only if not ``retry_failed``)."""
    done = set()
    for path in out.glob("[!.]*.parquet"):
        if retry_failed:
            status = pd.read_parquet(path, columns=["kind", "status"])
            if not status[status["kind"] == "summary"]["status"].eq("ok").all():
                continue
        done.add(path.stem)
    return done


def load_summary(out: Path, runs: list[Run]) -> pd.DataFrame:
    """The summary rows of ``runs`` found in ``out``."""
    files = [out / f"{run.run_id}.parquet" for run in runs]
    frames = [pd.read_parquet(path) for path in files if path.exists()]
    if not frames:
        return pd.DataFrame(columns=META)
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
