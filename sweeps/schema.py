"""The results schema of a sweep folder, and the record of the specs written into it.

Every run file of a folder has the same columns with the same types, so pandas, pyarrow's
datasets, polars and DuckDB read the folder as one table whatever order they take the files in:

- the run's bookkeeping (:data:`META`);
- every parameter of the model (the value the run used, defaults filled in), typed by the
  parameter table: real parameters float64, integers int64, switches bool, choices and tasks
  text, lists (``layers``) JSON text;
- every reporter any run of the folder can produce (``model.result_columns``), counts int64 and
  measures float64; a run that does not produce one (a shallower network) has nulls there.

The folder's ``_sweep.json`` (readers skip files whose names start with ``_``) holds the specs
written into it, each with its fingerprint, and the schema. A run into a folder of another spec
is refused unless it is appended; an appended spec that brings new columns rewrites the files
already there to the wider schema, so no file lacks a column.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from glianet.outputs import write_atomic
from glianet.sweeps.spec import EPOCHS_KEYWORD, MODELS, SweepSpec, column_type

#: The record of a folder's specs and schema.
RECORD = "_sweep.json"
RECORD_FORMAT = "glianet-sweep-folder"
#: Each run's bookkeeping columns, first in every file.
META = {
    "run_id": "string", "model": "string", "seed": "int", "kind": "string", "status": "string",
    "message": "string", "wall_seconds": "float",
}  # fmt: skip
ARROW = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "string": pa.string(),
         "json": pa.string()}  # fmt: skip
PANDAS = {"int": "Int64", "float": "float64", "bool": "boolean", "string": "string",
          "json": "string"}  # fmt: skip


class FolderError(ValueError):
    """A sweep folder holds results the run cannot join (another spec, files of no record)."""


def spec_columns(spec: SweepSpec) -> dict[str, str]:
    """Every column a run of ``spec`` can write, with its type, in order."""
    cls = MODELS[spec.model]
    columns = dict(META)
    columns.update({p.name: column_type(p) for p in cls.parameters})
    reals = {p.name for p in cls.parameters if column_type(p) == "float"}
    seen = set()
    for point in spec.points():
        params = run_parameters(spec.model, point, spec.epochs)
        shape = {name: value for name, value in params.items() if name not in reals}
        key = json.dumps(shape, sort_keys=True, default=str)
        if key not in seen:  # points differing only in real values have the same reporters
            seen.add(key)
            for name, kind in cls.result_columns(params).items():
                columns.setdefault(name, kind)
    return columns


def run_parameters(model: str, params: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Every parameter of a run (validated, defaults filled in), as the model sees them."""
    return MODELS[model].parameters.validate({**params, EPOCHS_KEYWORD[model]: epochs})


def widen(columns: dict[str, str], more: dict[str, str]) -> dict[str, str]:
    """``columns`` with the columns of ``more`` it lacks; a column of two types is refused."""
    wider = dict(columns)
    for name, kind in more.items():
        if wider.setdefault(name, kind) != kind:
            raise FolderError(f"column {name!r} would be {wider[name]} and {kind} in one folder")
    return wider


def arrow_schema(columns: dict[str, str]) -> pa.Schema:
    """The Arrow schema of ``columns``."""
    return pa.schema([(name, ARROW[kind]) for name, kind in columns.items()])


def to_table(frame: pd.DataFrame, columns: dict[str, str]) -> pa.Table:
    """``frame`` with exactly ``columns``, each of its type (missing ones null).

    Raises
    ------
    ValueError
        A value that its column's type cannot hold (e.g. 2.5 in an int column).
    """
    arrays = []
    for name, kind in columns.items():
        if name not in frame:
            arrays.append(pa.nulls(len(frame), ARROW[kind]))
            continue
        values = frame[name]
        if kind == "json":
            values = values.map(encode, na_action="ignore")
        try:
            values = values.astype(PANDAS[kind])
        except (TypeError, ValueError) as error:
            raise ValueError(f"column {name!r} cannot be {kind}: {error}") from None
        arrays.append(pa.array(values, type=ARROW[kind], from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(columns))


def encode(value: Any) -> Any:
    """A list or table as JSON text (Parquet has no column type for a value of any shape)."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return value


def fingerprint(spec: SweepSpec) -> str:
    """A hash of everything that makes ``spec`` the sweep it is."""
    text = json.dumps(spec.canonical(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """The fields where two canonical specs differ, as ``field: OLD there, NEW here``."""
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(differences(a, b, f"{name}."))
        elif a != b:
            found.append(f"{name}: {json.dumps(a)} there, {json.dumps(b)} here")
    return found


def prepare_folder(out: Path, spec: SweepSpec, append: bool) -> dict[str, str]:
    """Check that ``spec`` may write into ``out`` and record it; returns the folder's columns.

    A folder without a record and without results takes the spec. A folder of the same spec is
    resumed. Another spec is refused unless ``append``: then it joins the record, and if it
    brings columns the folder lacks, the files there are rewritten to the wider schema.

    Raises
    ------
    FolderError
        ``out`` holds another spec's results (naming the folder and the differences) and
        ``append`` is not set, or result files without a record.
    """
    path = out / RECORD
    mark = fingerprint(spec)
    columns = spec_columns(spec)
    entry = {"fingerprint": mark, "spec": spec.canonical()}
    results = sorted(out.glob("[!._]*.parquet"))
    if not path.exists():
        if results:
            raise FolderError(
                f"{out} holds {len(results)} result files but no {RECORD} (written by an older "
                "glianet, or not by a sweep): their spec and columns are unknown; write the "
                "sweep into another folder"
            )
        write_record(path, [entry], columns)
        return columns
    record = read_record(path)
    specs, stored = record["specs"], dict(record["columns"])
    if any(old["fingerprint"] == mark for old in specs):
        wider = widen(stored, columns)
        if wider != stored:  # the spec is known but its columns grew (a newer model)
            rewrite(out, results, wider)
            write_record(path, specs, wider)
        return wider
    if not append:
        last = specs[-1]
        changed = differences(last["spec"], entry["spec"])
        shown = "; ".join(changed[:4]) + ("; ..." if len(changed) > 4 else "")
        raise FolderError(
            f"{out} holds the results of another sweep spec (fingerprint {last['fingerprint']}, "
            f"this one {mark}): {shown}. Write into another folder, or pass --append "
            "(append=True) to add this spec's runs to it"
        )
    wider = widen(stored, columns)
    if wider != stored:
        rewrite(out, results, wider)
    write_record(path, [*specs, entry], wider)
    return wider


def read_record(path: Path) -> dict:
    """The record of a sweep folder.

    Raises
    ------
    FolderError
        It cannot be read or is not a sweep folder's record.
    """
    try:
        record = json.loads(path.read_text())
        if record.get("format") != RECORD_FORMAT:
            raise ValueError(f"its format is {record.get('format')!r}, not {RECORD_FORMAT!r}")
        return record
    except (OSError, ValueError, AttributeError) as error:
        raise FolderError(f"{path} is not a readable sweep record: {error}") from None


def write_record(path: Path, specs: list[dict], columns: dict[str, str]) -> None:
    """Write a folder's record, atomically."""
    record = {"format": RECORD_FORMAT, "specs": specs, "columns": list(columns.items())}
    text = json.dumps(record, indent=1, default=str)
    write_atomic(path, lambda temporary: temporary.write_text(text))


def rewrite(out: Path, files: list[Path], columns: dict[str, str]) -> None:
    """Give the result ``files`` the wider schema ``columns`` (new columns null), atomically."""
    for file in files:
        table = to_table(pq.read_table(file).to_pandas(), columns)
        write_atomic(file, lambda temporary, t=table: pq.write_table(t, temporary))
