"""Sweep folders never lose a column and keep one type per column (issue #16 points 1, 2): a
results schema per model, a spec record per folder, a second spec refused unless appended."""

import json

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from glianet.model import MASDAModel
from glianet.sweeps import load_spec, run_sweep
from glianet.sweeps.schema import RECORD, FolderError

NG_LAYERS = {
    "model": "ng", "epochs": 1, "seeds": 1, "fixed": {"samples_per_epoch": 200},
    "grid": {"layers": [[6, 8, 1], [6, 8, 8, 8, 1]]},
}  # fmt: skip
MASDA_DEPTHS = {
    "model": "masda", "epochs": 1, "seeds": 1, "fixed": {"n_units": 4},
    "grid": {"max_depth": [1, 3]},
}  # fmt: skip
QUICK_Z = {"model": "ng", "epochs": 1, "seeds": 1, "fixed": {"samples_per_epoch": 100},
           "grid": {"z": [2, 3]}}  # fmt: skip


def read_with_every_reader(out) -> dict[str, pd.DataFrame]:
    """The folder as pandas, pyarrow's dataset, polars and DuckDB read it."""
    return {
        "pandas": pd.read_parquet(out),
        "pyarrow": ds.dataset(out, format="parquet").to_table().to_pandas(),
        "polars": pl.read_parquet(out / "*.parquet").to_pandas(),
        "duckdb": duckdb.sql(f"SELECT * FROM read_parquet('{out}/*.parquet')").df(),
    }


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of NG runs of 3 and 5 layers, with MASDA runs of depth 1 and 3 appended."""
    out = tmp_path_factory.mktemp("mixed")
    run_sweep(NG_LAYERS, out, workers=1, progress=False)
    run_sweep(MASDA_DEPTHS, out, workers=1, progress=False, append=True)
    return out


def test_a_mixed_folder_loses_no_column_in_any_reader(mixed):
    schemas = {pq.read_schema(path) for path in mixed.glob("*.parquet")}
    assert len(schemas) == 1, "every file has the folder's schema"
    (schema,) = schemas
    needed = {"synapses_l3", "synapses_l4", "mean_sig", "f_mean_l2",
              MASDAModel.units_column(3, True), MASDAModel.reconstruction_column(2)}  # fmt: skip
    assert needed <= set(schema.names)
    for reader, table in read_with_every_reader(mixed).items():
        assert list(table.columns) == schema.names, reader
        summary = table[table["kind"] == "summary"].set_index("run_id")
        assert len(summary) == 4, reader
        deep = summary[summary["layers"] == "[6, 8, 8, 8, 1]"].iloc[0]
        shallow = summary[summary["layers"] == "[6, 8, 1]"].iloc[0]
        assert deep["synapses_l4"] == 8 and pd.notna(deep["mean_sig"]), reader
        assert pd.isna(shallow["synapses_l4"]) and pd.isna(shallow["mean_sig"]), reader
        depth3 = summary[summary["max_depth"] == 3].iloc[0]
        depth1 = summary[summary["max_depth"] == 1].iloc[0]
        assert pd.notna(depth3[MASDAModel.reconstruction_column(2)]), reader
        assert pd.isna(depth1[MASDAModel.reconstruction_column(2)]), reader


def test_columns_keep_their_types(mixed):
    schema = pq.read_schema(next(mixed.glob("*.parquet")))
    for name in ("epoch", "synapses", "synapses_l4", "pruned", "seed", "mini_batch_size",
                 "max_depth", MASDAModel.units_column(1, False)):  # fmt: skip
        assert schema.field(name).type == pa.int64(), name
    for name in ("alpha", "eta", "z", "error", "mean_sig", "wall_seconds"):
        assert schema.field(name).type == pa.float64(), name
    assert schema.field("pruning").type == pa.bool_()
    assert schema.field("layers").type == pa.string()
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{mixed}/*.parquet')").df()
    types = dict(zip(described["column_name"], described["column_type"], strict=True))
    assert types["epoch"] == "BIGINT" and types["alpha"] == "DOUBLE"


def test_an_integer_value_of_a_real_parameter_is_stored_as_a_float(tmp_path):
    run_sweep(QUICK_Z, tmp_path, workers=1, progress=False)
    table = pd.read_parquet(tmp_path)
    assert table["z"].dtype == "float64" and set(table["z"]) == {2.0, 3.0}
    as_floats = {**QUICK_Z, "grid": {"z": [2.0, 3.0]}}
    ids = {run.run_id for run in load_spec(as_floats).runs()}
    assert ids == {run.run_id for run in load_spec(QUICK_Z).runs()}, "z = 2 and z = 2.0 differ"


def test_another_spec_is_refused_naming_the_folder_and_the_difference(tmp_path):
    run_sweep(QUICK_Z, tmp_path, workers=1, progress=False)
    before = sorted(path.name for path in tmp_path.iterdir())
    other = {**QUICK_Z, "grid": {"z": [2.0, 2.5]}}
    with pytest.raises(FolderError, match="another sweep spec") as error:
        run_sweep(other, tmp_path, workers=1, progress=False)
    assert str(tmp_path) in str(error.value)
    assert "grid.z: [2.0, 3.0] there, [2.0, 2.5] here" in str(error.value)
    assert "--append" in str(error.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == before, "refused, yet written"
    # the same spec resumes; appended, the new point runs beside the old ones
    run_sweep(QUICK_Z, tmp_path, workers=1, progress=False)
    run_sweep(other, tmp_path, workers=1, progress=False, append=True)
    assert set(pd.read_parquet(tmp_path)["z"]) == {2.0, 2.5, 3.0}
    record = json.loads((tmp_path / RECORD).read_text())
    assert len(record["specs"]) == 2


def test_a_folder_of_results_without_a_record_is_refused(tmp_path):
    pd.DataFrame({"error": [0.1]}).to_parquet(tmp_path / "old.parquet")
    with pytest.raises(FolderError, match=f"{tmp_path} holds 1 result files but no {RECORD}"):
        run_sweep(QUICK_Z, tmp_path, workers=1, progress=False, append=True)


def test_the_cli_refuses_another_spec_in_one_line_and_appends_on_request(tmp_path, capsys):
    from glianet.cli import main

    spec = tmp_path / "z.toml"
    spec.write_text('model = "ng"\nepochs = 1\n[fixed]\nsamples_per_epoch = 100\n'
                    "[grid]\nz = [2.0]\n")  # fmt: skip
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1"]) == 0
    spec.write_text(spec.read_text().replace("[2.0]", "[2.5]"))
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1"]) != 0
    err = capsys.readouterr().err
    assert "another sweep spec" in err and "grid.z" in err and "Traceback" not in err
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--append"]) == 0
    assert set(pd.read_parquet(out)["z"]) == {2.0, 2.5}
