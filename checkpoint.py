"""Checkpoints of an NG model: one ``.npz`` file, JSON metadata plus arrays, never pickle.

Format (version 1): a NumPy ``.npz`` (a zip of ``.npy`` arrays) holding

- ``meta.json``: UTF-8 JSON as a ``uint8`` array: ``format``, ``version``, the model's constructor
  parameters, its counters (epoch, samples seen, prune orders), its random generators' states,
  the prune log and the data collected so far;
- ``w``, ``mask``, ``b``, ``cnt``, ``sig``: the arrays the agents are handles onto (the other
  arrays are scratch space within a sample);
- ``task_inputs``, ``task_targets``: only for a task given as a ``Task`` object.

Loading reads with ``allow_pickle=False`` and checks every field, type and shape before it
builds anything, so a truncated, corrupted, wrong-version or hostile file fails with a
:class:`CheckpointError` and never runs code. Mesa's own clock (``model.steps``, ``model.time``)
restarts at 0 in a loaded model; ``model.epoch`` carries on.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from glianet.experiments.outputs import write_atomic
from glianet.tasks import Task

FORMAT = "glianet-ng-checkpoint"
VERSION = 1
ARRAYS = {"w": np.float64, "mask": np.bool_, "b": np.float64, "cnt": np.int64, "sig": np.float64}
MAX_META_BYTES = 64 * 2**20


class CheckpointError(ValueError):
    """A checkpoint file cannot be loaded; the message says why."""


def save(model, path: str | Path) -> None:
    """Write ``model`` to ``path`` (atomically: an interrupted save leaves no half file)."""
    params = dict(model.params)
    arrays = {name: getattr(model.state, name) for name in ARRAYS}
    if isinstance(params["task"], Task):
        arrays["task_inputs"] = params["task"].inputs
        arrays["task_targets"] = params["task"].targets
        params["task"] = {"name": params["task"].name}
    if isinstance(params["glia_topology"], nx.Graph):
        params["glia_topology"] = {"edges": [list(e) for e in params["glia_topology"].edges]}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "params": params,
        "epoch": model.epoch,
        "samples_seen": model.scheduler.samples_seen,
        "prune_orders": model.prune_orders,
        "prune_log": model.prune_log,
        "rng": model.rng.bit_generator.state,
        "random": list(model.random.getstate()[1]),
        "collected": model.datacollector.model_vars,
        "collection_times": model.datacollector._collection_steps,
    }
    text = json.dumps(meta, default=_json_default)
    arrays["meta.json"] = np.frombuffer(text.encode(), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    write_atomic(Path(path), write)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def load(cls, path: str | Path):
    """Rebuild the model saved at ``path``; raises :class:`CheckpointError` if it cannot."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = set(npz.files)
            if "meta.json" not in names:
                raise CheckpointError(f"{path}: not a glianet checkpoint (no meta.json)")
            raw = npz["meta.json"]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
                raise CheckpointError(f"{path}: meta.json is not a UTF-8 byte string")
            meta = json.loads(raw.tobytes().decode())
            _check_meta(path, meta)
            arrays = {name: npz[name] for name in names - {"meta.json"}}
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        # json.JSONDecodeError is a ValueError; so is numpy's refusal of pickled arrays.
        raise CheckpointError(f"{path}: unreadable or corrupted checkpoint ({error})") from None

    params = dict(meta["params"])
    if isinstance(params.get("task"), dict):
        if not {"task_inputs", "task_targets"} <= set(arrays):
            raise CheckpointError(f"{path}: the task's arrays are missing")
        try:
            params["task"] = Task(params["task"]["name"], arrays["task_inputs"],
                                  arrays["task_targets"])  # fmt: skip
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointError(f"{path}: bad task: {error}") from None
    if isinstance(params.get("glia_topology"), dict):
        try:
            params["glia_topology"] = nx.Graph(
                [tuple(edge) for edge in params["glia_topology"]["edges"]]
            )
        except (KeyError, TypeError, nx.NetworkXError) as error:
            raise CheckpointError(f"{path}: bad glia_topology: {error}") from None
    try:
        model = cls(**params)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: bad parameters: {error}") from None
    s = model.state
    for name, dtype in ARRAYS.items():
        array = arrays.get(name)
        expected = getattr(s, name)
        if array is None or array.dtype != dtype or array.shape != expected.shape:
            raise CheckpointError(
                f"{path}: array {name!r} is missing or has the wrong type or shape "
                f"(expected {np.dtype(dtype)} {expected.shape})"
            )
    if not np.all(np.isfinite(arrays["sig"])) or arrays["sig"].min(initial=0) < 0:
        raise CheckpointError(f"{path}: sig values outside [0, 1]")

    for synapse in [model.grid.G.edges[e]["synapse"] for e in model.grid.G.edges]:
        if not arrays["mask"][synapse.index]:
            synapse.remove()
    for name in ARRAYS:
        getattr(s, name)[:] = arrays[name]
    try:
        model.rng.bit_generator.state = meta["rng"]
        model.random.setstate((3, tuple(meta["random"]), None))
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path}: bad random generator state: {error}") from None
    model.epoch = meta["epoch"]
    model.scheduler.samples_seen = meta["samples_seen"]
    model.prune_orders = meta["prune_orders"]
    model.prune_log = meta["prune_log"]
    model.datacollector.model_vars = meta["collected"]
    model.datacollector._collection_steps = meta["collection_times"]
    model.running = model.epoch < model.epochs
    return model


def _check_meta(path: Path, meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a glianet NG checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {meta.get('version')!r}; this glianet reads version "
            f"{VERSION}"
        )
    kinds = {
        "params": dict, "epoch": int, "samples_seen": int, "prune_orders": int,
        "prune_log": list, "rng": dict, "random": list, "collected": dict,
        "collection_times": list,
    }  # fmt: skip
    for key, kind in kinds.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    if not isinstance(meta["params"].get("task"), str | dict):
        raise CheckpointError(f"{path}: field 'params.task' is missing")
