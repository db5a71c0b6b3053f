"""Checkpoints of glianet models: one ``.npz`` file, JSON metadata plus arrays, never pickle.

Format (version 3): a NumPy ``.npz`` (a zip of ``.npy`` arrays) holding

- ``meta.json``: UTF-8 JSON as a ``uint8`` array: ``format`` (the model's
  ``checkpoint_format``), ``version``, the model's parameters, its epoch, its random generators'
  states, the data collected so far, its ``diverged`` status, and ``state``: what else the model
  needs (NG: samples seen, prune orders, prune log; MASDA: the units' names, each unit's own
  noise generator state, message count);
- the arrays the agents are handles onto (NG: ``w``, ``mask``, ``b``, ``cnt``, ``sig`` and the
  neurons' running output statistics ``run_mean``, ``run_var``, ``run_n``; MASDA: the unit
  arrays, ``W`` and the edge list ``edges``);
- ``task_inputs``, ``task_targets`` (and ``task_test_inputs``, ``task_test_targets`` if it has a
  test split): only for a task given as a ``Task`` object.

A model takes part through three hooks: ``_checkpoint_state() -> (state, arrays)``,
``_checkpoint_arrays(state) -> {name: (dtype, shape)}`` (what loading must find) and
``_restore_state(state, arrays)``. Files of an older version (1: glianet 0.1; 2: before NG's
``sensing`` parameter and running statistics) are refused with a :class:`CheckpointError` that
names their version.

Loading reads with ``allow_pickle=False`` and checks every field, type and shape before it
trusts it, so a truncated, corrupted, wrong-version or hostile file fails with a
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

from glianet.outputs import write_atomic
from glianet.tasks import Task

VERSION = 3
MAX_META_BYTES = 64 * 2**20


class CheckpointError(ValueError):
    """A checkpoint file cannot be loaded; the message says why."""


#: A task's arrays, saved when the task is a ``Task`` object rather than a registered name.
TASK_ARRAYS = ("inputs", "targets", "test_inputs", "test_targets")


# -- writing --------------------------------------------------------------------------------
def save(model, path: str | Path) -> None:
    """Write ``model`` to ``path`` (atomically: an interrupted save leaves no half file).

    The model gives what it holds beyond its parameters and random states through its
    ``_checkpoint_state()`` hook: ``(meta, arrays)``.
    """
    params = dict(model.params)
    arrays: dict[str, np.ndarray] = {}
    if isinstance(params["task"], Task):
        task = params["task"]
        for name in TASK_ARRAYS:
            if getattr(task, name) is not None:
                arrays[f"task_{name}"] = getattr(task, name)
        params["task"] = {"name": task.name}
    if isinstance(params.get("glia_topology"), nx.Graph):
        params["glia_topology"] = {"edges": [list(e) for e in params["glia_topology"].edges]}
    state, model_arrays = model._checkpoint_state()
    arrays.update(model_arrays)
    meta = {
        "format": model.checkpoint_format,
        "version": VERSION,
        "params": params,
        "epoch": model.epoch,
        "rng": model.rng.bit_generator.state,
        "random": list(model.random.getstate()[1]),
        "collected": model.datacollector.model_vars,
        "diverged": model.diverged,
        "state": state,
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


# -- reading --------------------------------------------------------------------------------
def load(cls, path: str | Path):
    """Rebuild the ``cls`` model saved at ``path``; raises :class:`CheckpointError` if it cannot.

    The arrays the model declares are checked by type and shape before its
    ``_restore_state(meta, arrays)`` hook puts them back.
    """
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
            _check_meta(path, meta, cls.checkpoint_format)
            arrays = {name: npz[name] for name in names - {"meta.json"}}
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        # json.JSONDecodeError is a ValueError; so is numpy's refusal of pickled arrays.
        raise CheckpointError(f"{path}: unreadable or corrupted checkpoint ({error})") from None

    try:
        model = cls(**_decode_params(path, meta["params"], arrays))
        _check_arrays(path, model, meta["state"], arrays)
        model._restore_state(meta["state"], arrays)
        model.rng.bit_generator.state = meta["rng"]
        model.random.setstate((3, tuple(meta["random"]), None))
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as error:
        raise CheckpointError(f"{path}: bad checkpoint content: {error}") from None
    model.epoch = meta["epoch"]
    model.diverged = meta["diverged"]
    # The data collected so far; Mesa's own clock (model.time, model.steps) restarts at 0.
    model.datacollector.model_vars = meta["collected"]
    model.running = model.epoch < model.epochs and model.diverged is None
    return model


def _decode_params(path: Path, params: dict, arrays: dict) -> dict:
    params = dict(params)
    if isinstance(params.get("task"), dict):
        if not {"task_inputs", "task_targets"} <= set(arrays):
            raise CheckpointError(f"{path}: the task's arrays are missing")
        split = {name: arrays.get(f"task_{name}") for name in TASK_ARRAYS}
        try:
            params["task"] = Task(params["task"]["name"], **split)
        except ValueError as error:
            raise CheckpointError(f"{path}: the task's arrays are invalid: {error}") from error
    if isinstance(params.get("glia_topology"), dict):
        params["glia_topology"] = nx.Graph(
            [tuple(edge) for edge in params["glia_topology"]["edges"]]
        )
    return params


def _check_arrays(path: Path, model, state: dict, arrays: dict) -> None:
    """The arrays the model's hook will read, by the types and shapes it declares."""
    for name, (dtype, shape) in model._checkpoint_arrays(state).items():
        array = arrays.get(name)
        if array is None or array.dtype != dtype or array.shape != shape:
            raise CheckpointError(
                f"{path}: array {name!r} is missing or has the wrong type or shape "
                f"(expected {np.dtype(dtype)} {shape})"
            )


def _check_meta(path: Path, meta: Any, expected_format: str) -> None:
    if not isinstance(meta, dict) or not str(meta.get("format")).startswith("glianet-"):
        raise CheckpointError(f"{path}: not a glianet checkpoint")
    if meta["format"] != expected_format:
        raise CheckpointError(f"{path}: a {meta['format']}, not a {expected_format}")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {meta.get('version')!r}; this glianet reads version "
            f"{VERSION}"
        )
    kinds = {
        "params": dict, "epoch": int, "rng": dict, "random": list, "collected": dict,
        "state": dict,
    }  # fmt: skip
    for key, kind in kinds.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    if not isinstance(meta["params"].get("task"), str | dict):
        raise CheckpointError(f"{path}: field 'params.task' is missing")
