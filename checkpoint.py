"""Checkpoints of glianet models: one ``.npz`` file, JSON metadata plus arrays, never pickle.

Format (version 4): a NumPy ``.npz`` (a zip of ``.npy`` arrays) holding

- ``meta.json``: UTF-8 JSON as a ``uint8`` array: ``format`` (the model's
  ``checkpoint_format``), ``version``, the model's parameters, its epoch, its random generators'
  states, the data collected so far, its ``diverged`` and ``saturated`` status, and ``state``:
  what else the model needs (NG: samples seen, prune orders, prune log; MASDA: the units'
  names, each unit's own noise generator state, message count);
- the arrays the agents are handles onto (NG: ``w``, ``mask``, ``b``, ``cnt``, ``sig`` and the
  neurons' running output statistics ``run_mean``, ``run_var``, ``run_n``; MASDA: the unit
  arrays, ``W`` and the edge list ``edges``);
- ``task_inputs``, ``task_targets`` (and ``task_test_inputs``, ``task_test_targets`` if it has a
  test split): only for a task given as a ``Task`` object.

A model takes part through a class attribute and three hooks: ``checkpoint_members`` (the
names of its arrays), ``_checkpoint_state() -> (state, arrays)``, the class method
``_checkpoint_arrays(params, state) -> {name: (dtype, shape)}`` (what loading must find, derived
from the checked parameters before the model is built) and ``_restore_state(state, arrays)``
(which checks the arrays' contents against the built model). Files of an older version are
refused with a :class:`CheckpointError` that names their version and why it cannot be read
(see :data:`OLD_VERSIONS`).

Loading never unpickles (an object array is refused from its header) and checks every
field, type, shape and size before it trusts it (see :func:`load`), so a truncated,
corrupted, wrong-version or hostile file fails with a :class:`CheckpointError` and never runs
code. Mesa's own clock (``model.steps``, ``model.time``) restarts at 0 in a loaded model;
``model.epoch`` carries on.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from glianet.outputs import write_atomic
from glianet.state import free_memory
from glianet.tasks import Task

VERSION = 4
#: Why files of each older version cannot be read.
OLD_VERSIONS = {
    1: "glianet 0.1's layout",
    2: "written before NG's sensing readings and running statistics",
    3: "written before the saturated status and the checks of every array's contents",
}


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
        "saturated": model.saturated,
        "agent_reporters": _agent_reporters_record(model),
        "state": state,
    }
    text = json.dumps(meta, default=_json_default)
    arrays["meta.json"] = np.frombuffer(text.encode(), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    write_atomic(Path(path), write)


def _agent_reporters_record(model) -> bool | str:
    """What a checkpoint records of the agent reporters: True for the built-in set, False for
    none, ``"custom"`` for a user's dict (its functions cannot be saved)."""
    if not model.agent_reporters:
        return False
    return True if model.agent_reporters == model.AGENT_REPORTERS else "custom"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


# -- reading --------------------------------------------------------------------------------
#: Limits every file is checked against before anything of it is read.
MAX_META_BYTES = 16 * 2**20
MAX_MEMBERS = 32
MAX_DIRECTORY_BYTES = 64 * 2**10
MAX_JSON_DEPTH = 16
MAX_GLIA_EDGES = 2**20
#: The members holding a task's arrays (the test split's two are optional).
TASK_MEMBERS = tuple(f"task_{name}" for name in TASK_ARRAYS)


def load(cls, path: str | Path, agent_reporters: bool | dict | None = None):
    """Rebuild the ``cls`` model saved at ``path``; raises :class:`CheckpointError` if it cannot.

    ``agent_reporters`` as for the model; None: as the saved model had them (a model that
    collected a custom dict of reporters must be given it again, since functions are not
    saved). Agent rows are collected from the loaded epoch on: those collected before the save
    are not in the file (the model-level data is).

    Nothing is read before it is bounded: the file must be a regular file (not a FIFO or a
    device); its zip directory may list at most ``MAX_MEMBERS`` members, each once, each one the
    model knows (``meta.json``, the model's ``checkpoint_members``, a task's arrays), stored or
    deflated; ``meta.json`` is at most ``MAX_META_BYTES`` and nested at most
    ``MAX_JSON_DEPTH`` deep. Every array's ``.npy`` header and the size the zip directory
    declares for it must match, exactly, the type and shape the model's
    ``_checkpoint_arrays(params, state)`` hook derives from the checked parameters, before the
    array is read or the model is built; so a deflate bomb, a member declaring a huge array or
    metadata asking for a huge model is refused without allocating it. Then the model is built,
    and its ``_restore_state(meta, arrays)`` hook checks the arrays' contents against it before
    putting them back.
    """
    path = Path(path)
    try:
        with _open_regular_file(path) as handle:
            _check_directory(path, handle)
            with zipfile.ZipFile(handle) as archive:
                members = _members(path, archive)
                meta = _read_meta(path, archive, members.pop("meta.json", None))
                _check_meta(path, meta, cls.checkpoint_format)
                unknown = sorted(set(members) - {*TASK_MEMBERS, *cls.checkpoint_members})
                if unknown:
                    raise CheckpointError(f"{path}: unknown member '{unknown[0]}.npy'")
                headers = {name: _read_header(path, archive, i) for name, i in members.items()}
                params = _decode_params(path, cls, meta["params"], archive, members, headers)
                expected = cls._checkpoint_arrays(params, meta["state"])
                _check_headers(path, headers, expected)
                arrays = {
                    name: _read_array(archive, members[name], headers[name]) for name in expected
                }
    except CheckpointError:
        raise
    except Exception as error:  # anything a damaged or hostile file provokes
        raise CheckpointError(
            f"{path}: unreadable or corrupted checkpoint ({type(error).__name__}: {error})"
        ) from error

    saved = meta["agent_reporters"]
    if agent_reporters is None:
        if saved == "custom":
            raise CheckpointError(
                f"{path}: the saved run collected custom agent reporters, which a checkpoint "
                "cannot hold: pass them again, load(path, agent_reporters={...}), or False"
            )
        agent_reporters = saved
    try:
        model = cls(**params, agent_reporters=agent_reporters)
        epoch = meta["epoch"]
        if not 0 <= epoch <= model.epochs:
            raise CheckpointError(f"{path}: epoch {epoch} is outside 0..{model.epochs}")
        _check_collected(path, model, meta["collected"], epoch)
        model.epoch = epoch
        model.diverged, model.saturated = meta["diverged"], meta["saturated"]
        model._restore_state(meta["state"], arrays)
        model.rng.bit_generator.state = meta["rng"]
        model.random.setstate((3, tuple(meta["random"]), None))
    except CheckpointError:
        raise
    except Exception as error:  # a value the model refuses, found while rebuilding it
        raise CheckpointError(
            f"{path}: bad checkpoint content: {type(error).__name__}: {error}"
        ) from error
    # The data collected so far; Mesa's own clock (model.time, model.steps) restarts at 0. A
    # fresh collector: the one built with the model holds agent rows of the state before restoring.
    model.datacollector = model.make_datacollector()
    model.datacollector.model_vars = meta["collected"]
    model.running = model.status == "running"
    return model


def _open_regular_file(path: Path):
    """The file opened for reading, refused unless it is a regular file (opening a FIFO
    without ``O_NONBLOCK`` would wait for a writer forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be opened ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CheckpointError(f"{path}: not a regular file")
    return os.fdopen(fd, "rb")


def _check_directory(path: Path, handle) -> None:
    """Read the zip's end record as :mod:`zipfile` finds it and refuse a directory too large
    to be a checkpoint's, before :mod:`zipfile` parses it."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - 22 - 65535))
    tail = handle.read()
    handle.seek(0)
    at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # not a zip: zipfile says so
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise CheckpointError(
            f"{path}: its zip directory lists {entries} members in {directory_bytes} bytes; a "
            f"checkpoint has at most {MAX_MEMBERS}"
        )


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's ``.npy`` members by array name; duplicates, encrypted or oddly compressed
    members are refused (a duplicate would replace the first's array)."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise CheckpointError(f"{path}: member {twice[0]!r} appears more than once")
    odd = sorted(name for name in names if not name.endswith(".npy"))
    if odd:
        raise CheckpointError(f"{path}: unknown member {odd[0]!r}")
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):  # fmt: skip
            raise CheckpointError(f"{path}: member {info.filename!r} is encrypted or compressed "
                                  "with a method glianet does not write")  # fmt: skip
    return {info.filename.removesuffix(".npy"): info for info in infos}


def _read_header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple:
    """``(dtype, shape, fortran_order, offset)`` of a member's ``.npy`` header, checked against
    the size the zip directory declares for the member."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"{path}: member {info.filename!r} has .npy version {version}")
        offset = member.tell()
    if dtype.hasobject:
        raise CheckpointError(f"{path}: member {info.filename!r} holds Python objects")
    if info.file_size != offset + math.prod(shape) * dtype.itemsize:
        raise CheckpointError(
            f"{path}: member {info.filename!r} declares {info.file_size} bytes, which does not "
            f"match its header ({dtype} {shape})"
        )
    return dtype, shape, fortran, offset


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: tuple) -> np.ndarray:
    """A member's array, read after its header was checked (at most its declared size)."""
    dtype, shape, fortran, offset = header
    with archive.open(info) as member:
        member.seek(offset)
        data = member.read(info.file_size - offset)
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _read_meta(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> Any:
    if info is None:
        raise CheckpointError(f"{path}: not a glianet checkpoint (no meta.json)")
    if info.file_size > MAX_META_BYTES:
        raise CheckpointError(f"{path}: meta.json is larger than {MAX_META_BYTES} bytes")
    header = _read_header(path, archive, info)
    dtype, shape = header[:2]
    if dtype != np.uint8 or len(shape) != 1:
        raise CheckpointError(f"{path}: meta.json is not a UTF-8 byte string")
    meta = json.loads(_read_array(archive, info, header).tobytes().decode())
    stack = [(meta, 1)]
    while stack:  # nesting depth, without recursion
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise CheckpointError(f"{path}: meta.json is nested deeper than {MAX_JSON_DEPTH}")
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((child, depth + 1) for child in children)
    return meta


def _check_headers(path: Path, headers: dict, expected: dict) -> None:
    """The arrays the model's hook declares, by type and shape (``None``: any length, but no
    larger than twice the model's fixed arrays together), before they are read."""
    fixed = sum(
        math.prod(shape) * np.dtype(dtype).itemsize
        for dtype, shape in expected.values() if None not in shape
    )  # fmt: skip
    for name, (dtype, shape) in expected.items():
        if name not in headers:
            raise CheckpointError(f"{path}: array {name!r} is missing")
        found_dtype, found_shape = headers[name][:2]
        fits = len(found_shape) == len(shape) and all(
            want is None or want == got for want, got in zip(shape, found_shape, strict=False)
        )
        if found_dtype != dtype or not fits:
            raise CheckpointError(
                f"{path}: array {name!r} is {found_dtype} {found_shape}; expected "
                f"{np.dtype(dtype)} {shape}"
            )
        if None in shape and math.prod(found_shape) * found_dtype.itemsize > 2 * fixed + 2**20:
            raise CheckpointError(f"{path}: array {name!r} is implausibly large {found_shape}")
    extra = sorted(set(headers) - set(expected) - set(TASK_MEMBERS))
    if extra:
        raise CheckpointError(f"{path}: array {extra[0]!r} does not belong to this model")


def _check_collected(path: Path, model, collected: dict, epoch: int) -> None:
    """The data collected so far: the model's columns, one value per epoch 0..epoch."""
    columns = set(model.datacollector.model_vars)
    if set(collected) != columns:
        raise CheckpointError(f"{path}: the collected data has other columns than the model's")
    for name, values in collected.items():
        if not isinstance(values, list) or len(values) != epoch + 1:
            raise CheckpointError(
                f"{path}: collected column {name!r} does not hold one value per epoch 0..{epoch}"
            )


def _decode_params(path: Path, cls, params: dict, archive, members: dict, headers: dict) -> dict:
    """The model's parameters, checked by its table; a ``Task`` and a glia graph rebuilt."""
    params = dict(params)
    task = params.get("task")
    present = [name for name in TASK_MEMBERS if name in members]
    if isinstance(task, dict):
        if present not in (list(TASK_MEMBERS[:2]), list(TASK_MEMBERS)):
            raise CheckpointError(
                f"{path}: the task's arrays are missing (inputs and targets, and the test "
                "split's two or neither)"
            )
        if not isinstance(task.get("name"), str):
            raise CheckpointError(f"{path}: the task's name is missing")
        bound = free_memory() // 4
        for name in present:
            dtype, shape = headers[name][:2]
            if dtype != np.float64 or len(shape) != 2 or math.prod(shape) * 8 > bound:
                raise CheckpointError(f"{path}: array {name!r} is not a task's (n, k) float64")
        split = {
            name: _read_array(archive, members[member], headers[member])
            for name, member in zip(TASK_ARRAYS, TASK_MEMBERS, strict=True)
            if member in members
        }
        params["task"] = Task(task["name"], **split)  # checks the splits agree
    elif present:
        raise CheckpointError(f"{path}: task arrays for the named task {task!r}")
    topology = params.get("glia_topology")
    if isinstance(topology, dict):
        edges = topology.get("edges")
        if (
            not isinstance(edges, list) or len(edges) > MAX_GLIA_EDGES
            or not all(isinstance(e, list) and len(e) == 2 for e in edges)
        ):  # fmt: skip
            raise CheckpointError(f"{path}: field 'params.glia_topology' is not an edge list")
        params["glia_topology"] = nx.Graph([tuple(edge) for edge in edges])
    return cls.parameters.validate(params)


def _check_meta(path: Path, meta: Any, expected_format: str) -> None:
    if not isinstance(meta, dict) or not str(meta.get("format")).startswith("glianet-"):
        raise CheckpointError(f"{path}: not a glianet checkpoint")
    if meta["format"] != expected_format:
        raise CheckpointError(f"{path}: a {meta['format']}, not a {expected_format}")
    version = meta.get("version")
    if version != VERSION:
        known = type(version) is int and version in OLD_VERSIONS
        why = f" ({OLD_VERSIONS[version]})" if known else ""
        raise CheckpointError(
            f"{path}: checkpoint version {version!r}{why}; this glianet reads version {VERSION}"
        )
    kinds = {
        "params": dict, "epoch": int, "rng": dict, "random": list, "collected": dict,
        "state": dict,
    }  # fmt: skip
    for key, kind in kinds.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    record = meta.get("agent_reporters")
    if type(record) is not bool and record != "custom":
        raise CheckpointError(f"{path}: field 'agent_reporters' is not true, false or 'custom'")
    for key in ("diverged", "saturated"):
        if key not in meta or not isinstance(meta[key], str | None):
            raise CheckpointError(f"{path}: field {key!r} is not a message or null")
    if not isinstance(meta["params"].get("task"), str | dict):
        raise CheckpointError(f"{path}: field 'params.task' is missing")
