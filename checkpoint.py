"""Checkpoints of glianet models: one ``.npz`` file, JSON metadata plus arrays, never pickle.

Format (version 1): a NumPy ``.npz`` (a zip of ``.npy`` arrays) holding

- ``meta.json``: UTF-8 JSON as a ``uint8`` array: ``format`` (which model), ``version``, the
  model's constructor parameters, its epoch, its random generators' states, the data collected
  so far, and what else the model needs (NG: samples seen, prune orders, prune log; MASDA: the
  units' names and kinds, each unit's own noise generator state, message count);
- the arrays the agents are handles onto (NG: ``w``, ``mask``, ``b``, ``cnt``, ``sig``; MASDA:
  the unit arrays, ``W`` and the edge list ``edges``);
- ``task_inputs``, ``task_targets``: only for a task given as a ``Task`` object.

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

FORMATS = {"NGModel": "glianet-ng-checkpoint", "MASDAModel": "glianet-masda-checkpoint"}
VERSION = 1
NG_ARRAYS = {"w": np.float64, "mask": np.bool_, "b": np.float64, "cnt": np.int64, "sig": np.float64}
MAX_META_BYTES = 64 * 2**20


class CheckpointError(ValueError):
    """A checkpoint file cannot be loaded; the message says why."""


# -- writing --------------------------------------------------------------------------------
def save(model, path: str | Path) -> None:
    """Write ``model`` to ``path`` (atomically: an interrupted save leaves no half file)."""
    params = dict(model.params)
    arrays: dict[str, np.ndarray] = {}
    if isinstance(params["task"], Task):
        arrays["task_inputs"] = params["task"].inputs
        arrays["task_targets"] = params["task"].targets
        params["task"] = {"name": params["task"].name}
    if isinstance(params.get("glia_topology"), nx.Graph):
        params["glia_topology"] = {"edges": [list(e) for e in params["glia_topology"].edges]}
    meta = {
        "format": FORMATS[type(model).__name__],
        "version": VERSION,
        "params": params,
        "epoch": model.epoch,
        "rng": model.rng.bit_generator.state,
        "random": list(model.random.getstate()[1]),
        "collected": model.datacollector.model_vars,
        "collection_times": model.datacollector._collection_steps,
    }
    if type(model).__name__ == "NGModel":
        arrays.update({name: getattr(model.state, name) for name in NG_ARRAYS})
        meta.update(
            samples_seen=model.scheduler.samples_seen,
            prune_orders=model.prune_orders,
            prune_log=model.prune_log,
        )
    else:
        u, size = model.units, model.units.size
        arrays.update({name: getattr(u, name)[:size] for name in u.PER_UNIT})
        arrays["W"] = u.W[:size, :size]
        arrays["edges"] = np.array(list(model.grid.G.edges), dtype=np.int64).reshape(-1, 2)
        meta.update(
            size=size,
            names={str(s): unit.name for s, unit in model.unit_by_slot.items()},
            noise={
                str(s): unit.noise.bit_generator.state for s, unit in model.unit_by_slot.items()
            },
            bias=model.bias.slot,
            data_constants=[unit.slot for unit in model.data_constants],
            messages=model.messages,
            last_epoch=model.last_epoch,
            seed_sequence_entropy=model.seed_sequence_entropy,
        )
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
            _check_meta(path, meta, FORMATS[cls.__name__])
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
        if cls.__name__ == "NGModel":
            _restore_ng(path, model, meta, arrays)
        else:
            _restore_masda(path, model, meta, arrays)
        model.rng.bit_generator.state = meta["rng"]
        model.random.setstate((3, tuple(meta["random"]), None))
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as error:
        raise CheckpointError(f"{path}: bad checkpoint content: {error}") from None
    model.epoch = meta["epoch"]
    model.datacollector.model_vars = meta["collected"]
    model.datacollector._collection_steps = meta["collection_times"]
    model.running = model.epoch < model.epochs
    return model


def _decode_params(path: Path, params: dict, arrays: dict) -> dict:
    params = dict(params)
    if isinstance(params.get("task"), dict):
        if not {"task_inputs", "task_targets"} <= set(arrays):
            raise CheckpointError(f"{path}: the task's arrays are missing")
        params["task"] = Task(params["task"]["name"], arrays["task_inputs"], arrays["task_targets"])
    if isinstance(params.get("glia_topology"), dict):
        params["glia_topology"] = nx.Graph(
            [tuple(edge) for edge in params["glia_topology"]["edges"]]
        )
    return params


def _check_array(path: Path, arrays: dict, name: str, dtype, shape: tuple) -> np.ndarray:
    array = arrays.get(name)
    if array is None or array.dtype != dtype or array.shape != shape:
        raise CheckpointError(
            f"{path}: array {name!r} is missing or has the wrong type or shape "
            f"(expected {np.dtype(dtype)} {shape})"
        )
    return array


def _restore_ng(path: Path, model, meta: dict, arrays: dict) -> None:
    s = model.state
    for name, dtype in NG_ARRAYS.items():
        _check_array(path, arrays, name, dtype, getattr(s, name).shape)
    sig = arrays["sig"]
    if not np.all(np.isfinite(sig)) or (sig < 0).any() or (sig > 1).any():
        raise CheckpointError(f"{path}: sig values outside [0, 1]")
    for synapse in [model.grid.G.edges[e]["synapse"] for e in model.grid.G.edges]:
        if not arrays["mask"][synapse.index]:
            synapse.remove()
    for name in NG_ARRAYS:
        getattr(s, name)[:] = arrays[name]
    model.scheduler.samples_seen = int(meta["samples_seen"])
    model.prune_orders = int(meta["prune_orders"])
    model.prune_log = list(meta["prune_log"])


def _restore_masda(path: Path, model, meta: dict, arrays: dict) -> None:
    from glianet.agents.masda import (
        CONSTANT,
        REWARD,
        VARIABLE,
        ConstantUnit,
        RewardUnit,
        VariableUnit,
    )
    from glianet.state import UnitState

    size = int(meta["size"])
    if not 0 < size <= 10**6:
        raise CheckpointError(f"{path}: implausible unit count {size}")
    for name, (dtype, _) in UnitState.PER_UNIT.items():
        _check_array(path, arrays, name, dtype, (size,))
    _check_array(path, arrays, "W", np.float64, (size, size))
    edges = arrays.get("edges")
    if edges is None or edges.dtype != np.int64 or edges.ndim != 2 or edges.shape[1] != 2:
        raise CheckpointError(f"{path}: array 'edges' is missing or not (n, 2) int64")
    if edges.size and (edges.min() < 0 or edges.max() >= size):
        raise CheckpointError(f"{path}: an edge names a unit that does not exist")

    # Replace the constructor's population with the saved one, slot by slot.
    for unit in list(model.unit_by_slot.values()):
        model.remove_unit(unit)
    model.units = UnitState(capacity=size)
    model.seed_sequence_entropy = int(meta["seed_sequence_entropy"])
    kinds, alive, targets = arrays["kind"], arrays["alive"], arrays["target"]
    for slot in range(size):
        name = meta["names"].get(str(slot))
        if not alive[slot] or name is None:
            model.units.allocate(int(kinds[slot]), -1, 0.0)
        elif kinds[slot] == CONSTANT:
            ConstantUnit(model, 0.0, name)
        elif kinds[slot] == VARIABLE:
            VariableUnit(model, name)
        elif kinds[slot] == REWARD:
            RewardUnit(model, model.unit_at(int(targets[slot])))
        else:
            raise CheckpointError(f"{path}: unit {slot} has an unknown kind {kinds[slot]}")
    for name in UnitState.PER_UNIT:
        getattr(model.units, name)[:size] = arrays[name]
    for pre, post in edges:
        model.connect_units(model.unit_at(pre), model.unit_at(post), 0.0)
    model.units.W[:size, :size] = arrays["W"]
    for slot, state in meta["noise"].items():
        model.unit_at(int(slot)).noise.bit_generator.state = state
    model.bias = model.unit_at(int(meta["bias"]))
    model.data_constants = [model.unit_at(int(s)) for s in meta["data_constants"]]
    model.constants = [*model.data_constants, model.bias]
    model.messages = int(meta["messages"])
    model.last_epoch = dict(meta["last_epoch"])


def _check_meta(path: Path, meta: Any, expected_format: str) -> None:
    if not isinstance(meta, dict) or meta.get("format") not in FORMATS.values():
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
        "collection_times": list,
    }  # fmt: skip
    for key, kind in kinds.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    if not isinstance(meta["params"].get("task"), str | dict):
        raise CheckpointError(f"{path}: field 'params.task' is missing")
