"""Sweep designs (issue #16 point 3): Latin hypercube, Saltelli's Sobol' sample, points from a
table; resumable like a grid, bad tables refused naming the problem."""

import math

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as salib_sobol

from glianet.sweeps import load_spec, run_sweep
from glianet.sweeps.design import sobol_indices, sobol_problem
from glianet.sweeps.spec import SpecError

BASE = {"model": "ng", "epochs": 1, "seeds": 1, "fixed": {"samples_per_epoch": 100}}
LHS = {**BASE, "lhs": {"n": 6, "seed": 3, "eta": {"low": 0.05, "high": 5.0, "log": True},
                       "mini_batch_size": {"low": 20, "high": 80, "integer": True}}}  # fmt: skip
SOBOL = {**BASE, "sobol": {"n": 16, "seed": 1, "A": {"low": 0.0, "high": 0.05},
                           "alpha": {"low": 0.001, "high": 0.1, "log": True}}}  # fmt: skip


def test_lhs_puts_one_point_in_each_stratum_of_every_range():
    points = load_spec(LHS).points()
    assert len(points) == 6
    strata = np.floor(6 * np.log(np.array([p["eta"] for p in points]) / 0.05) / math.log(100))
    assert sorted(strata.astype(int)) == list(range(6)), "a Latin hypercube has one per stratum"
    batch = np.array([p["mini_batch_size"] for p in points])
    assert all(isinstance(b, int) for b in batch.tolist()) and batch.min() >= 20
    assert len(set(np.floor((batch - 20) / 60 * 6).clip(0, 5))) >= 5  # rounding may share one


def test_designs_are_reproducible_and_their_run_ids_stable():
    for spec in (LHS, SOBOL):
        first, again = load_spec(spec).runs(), load_spec(spec).runs()
        assert [r.run_id for r in first] == [r.run_id for r in again]
    block = {**LHS["lhs"], "seed": 4}
    assert load_spec({**LHS, "lhs": block}).points() != load_spec(LHS).points()


def test_sobol_is_saltellis_sample_from_salib():
    spec = load_spec(SOBOL)
    assert spec.design == "sobol" and len(spec.design_points()) == 16 * (2 * 2 + 2)
    unit = salib_sobol.sample(sobol_problem(spec.ranges), 16, seed=1)
    a = [p["A"] for p in spec.design_points()]
    np.testing.assert_allclose(a, 0.05 * unit[:, 0])
    alpha = [p["alpha"] for p in spec.design_points()]
    np.testing.assert_allclose(alpha, np.exp(np.log(0.001) + unit[:, 1] * np.log(100)))
    first = load_spec({**SOBOL, "sobol": {**SOBOL["sobol"], "second_order": False}})
    assert len(first.design_points()) == 16 * (2 + 2)


def test_sobol_indices_rank_what_drives_the_output():
    spec = load_spec(SOBOL)
    rows = [{**p, "seed": 0} for p in spec.points()]
    results = pd.DataFrame(rows)
    results["error"] = 10 * results["A"] + 0.01 * np.log(results["alpha"])  # A drives it
    indices = sobol_indices(spec, results, "error", seed=0).to_df()
    total = indices[0]["ST"]
    assert total["A"] > 0.9 and total["alpha"] < 0.1


def test_points_from_a_table_run_and_resume(tmp_path):
    pd.DataFrame({"eta": [0.2, 0.5, 0.2], "mini_batch_size": [50.0, 100.0, 50.0]}).to_csv(
        tmp_path / "design.csv", index=False
    )
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text('model = "ng"\nepochs = 1\npoints = "design.csv"\n'
                         "[fixed]\nsamples_per_epoch = 100\n")  # fmt: skip
    spec = load_spec(spec_file)
    assert spec.points() == [
        {"samples_per_epoch": 100, "eta": 0.2, "mini_batch_size": 50},
        {"samples_per_epoch": 100, "eta": 0.5, "mini_batch_size": 100},
    ], "a row twice is one run; 50.0 of an integer parameter is 50"
    out = tmp_path / "out"
    run_sweep(spec_file, out, workers=1, progress=False)
    written = {path: path.stat().st_mtime_ns for path in out.glob("*.parquet")}
    summary = run_sweep(spec_file, out, workers=1, progress=False)
    assert len(summary) == 2 and set(summary["eta"]) == {0.2, 0.5}
    assert {path: path.stat().st_mtime_ns for path in out.glob("*.parquet")} == written


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.csv", None, "no such file"),
        ("design.txt", "eta\n0.2\n", "must be a .csv or .parquet file"),
        ("design.csv", "", "cannot be read as a table"),
        ("design.csv", "eta\n", "holds no points"),
        ("design.csv", "eta,zeta\n0.2,1\n", "column 'zeta' is not a parameter"),
        ("design.csv", "eta,mini_batch_size\n0.2,50\n0.3,\n",
         "row 2, column 'mini_batch_size' is empty"),
        ("design.csv", "mini_batch_size\n50.5\n",
         "row 1, column 'mini_batch_size': 50.5 is not an integer"),
        ("design.csv", "eta\nfast\n", "row 1, column 'eta': 'fast' is not a number"),
        ("design.csv", "eta\n-1\n", "points.eta"),
        ("design.csv", "epochs\n3\n", "column 'epochs' is not a parameter"),
    ],
)  # fmt: skip
def test_bad_tables_are_refused_naming_the_problem(tmp_path, name, content, problem):
    if content is not None:
        (tmp_path / name).write_text(content)
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(f'model = "ng"\nepochs = 1\npoints = "{name}"\n')
    with pytest.raises(SpecError, match="points") as error:
        load_spec(spec_file)
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lhs": {"n": 4, "eta": {"low": 0.1, "high": 1.0}},
          "random": {"n": 2, "A": {"low": 0, "high": 1}}}, "lhs"),
        ({"sobol": {"n": 6, "A": {"low": 0.0, "high": 0.05}}}, "sobol.n"),
        ({"lhs": {"n": 0, "eta": {"low": 0.1, "high": 1.0}}}, "lhs.n"),
        ({"lhs": {"n": 4, "eta": {"low": 1.0, "high": 0.1}}}, "lhs.eta"),
        ({"lhs": {"n": 4}}, "lhs"),
        ({"sobol": {"n": 4, "zeta": {"low": 0.0, "high": 1.0}}}, "sobol.zeta"),
        ({"lhs": {"n": 4, "eta": {"low": 0.1, "high": 1.0}}, "fixed": {"eta": 0.5}}, "lhs.eta"),
        ({"points": 3}, "points"),
    ],
)  # fmt: skip
def test_malformed_designs_fail_naming_the_field(change, field):
    with pytest.raises(SpecError, match=rf"sweep spec: {field}\b"):
        load_spec({**BASE, **change})


def test_an_ema_workbench_design_runs_through_the_runner(tmp_path):
    from glianet.experiments.ema_design import ema_design, run

    design = ema_design(4, seed=0)
    assert list(design.columns) == ["eta", "alpha", "mini_batch_size"] and len(design) == 4
    settings = {"n": 4, "epochs": 1, "samples_per_epoch": 100, "workers": 1, "progress": False}
    summary = run(tmp_path, **settings)
    assert len(summary) == 4 and (summary["status"] == "ok").all()
    np.testing.assert_allclose(sorted(summary["eta"]), sorted(design["eta"]))
    assert sorted(summary["mini_batch_size"]) == sorted(design["mini_batch_size"])
    again = run(tmp_path, **settings)  # resumed: the same runs, none made twice
    assert sorted(again["run_id"]) == sorted(summary["run_id"])
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 4
