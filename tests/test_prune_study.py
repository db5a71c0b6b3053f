"""The pruning study on digits, on a tiny configuration."""

import pandas as pd
import pytest

from glianet import NGModel
from glianet.cli import main
from glianet.experiments.prune_study import BASELINES, STUDY, glia_configurations, sensing_off

TINY = ["--seeds", "1", "--epochs", "2", "--set", "layers=[64,6,6,10]",
        "--set", "samples_per_epoch=200"]  # fmt: skip


def test_prune_study_writes_matched_runs_and_a_figure_and_keeps_them(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["prune-study", "--out", str(out), *TINY]) == 0
    assert "magnitude gradual" in capsys.readouterr().out
    runs = pd.read_csv(out / "prune_study.csv")
    assert (out / "prune_study.png").read_bytes()[:4] == b"\x89PNG"
    configs = glia_configurations()
    assert len(runs) == 1 + len(configs) * (1 + len(BASELINES)) + 1
    assert set(runs["method"]) == {"none", "glia", *BASELINES, "MLPClassifier"}
    assert runs["test_accuracy"].between(0, 1).all()
    # Every baseline ends with exactly the synapses of the glia run it is matched to.
    glia = runs[runs["method"] == "glia"].set_index(["protect_io", "sensing"])["synapses"]
    assert (glia < runs.loc[runs["method"] == "none", "synapses"].iloc[0]).all()
    for _, row in runs[runs["method"].isin(BASELINES)].iterrows():
        assert row["synapses"] == glia[(row["protect_io"], row["sensing"])]
    # An existing result is never overwritten without --force.
    before = (out / "prune_study.csv").read_bytes()
    assert main(["prune-study", "--out", str(out), *TINY]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "prune_study.csv").read_bytes() == before


def test_prune_study_rejects_what_it_sets_itself(tmp_path, capsys):
    assert main(["prune-study", "--out", str(tmp_path), "--set", "protect_io=False"]) == 2
    assert "protect_io" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_sensing_off_means_no_neuron_is_ever_an_outlier():
    params = {**STUDY, "layers": [64, 16, 16, 10], "samples_per_epoch": 200, "pruning": False}
    counts = []
    for changes in ({}, sensing_off()):
        model = NGModel(**params, **changes, rng=0)
        model.step()
        counts.append(model.state.cnt.sum())
    assert counts[0] > 0 and counts[1] == 0


@pytest.mark.parametrize("seeds", ["0", "-1"])
def test_prune_study_needs_a_seed(tmp_path, capsys, seeds):
    assert main(["prune-study", "--out", str(tmp_path), "--seeds", seeds]) == 2
    assert "seeds" in capsys.readouterr().err
