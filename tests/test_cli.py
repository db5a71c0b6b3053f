"""The command line's edges: --set names, options spelled in full, a quick --help, Ctrl-C at any
moment of start-up, and scripts/dev.sh running commands where the caller stands."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glianet import cli
from glianet.experiments import masda_eval, ng_paper, prune_study

ROOT = Path(__file__).resolve().parents[1]
#: Each experiment command, its model's `glianet params` name, and the outputs it writes.
EXPERIMENTS = {
    "reproduce": ("ng", ng_paper.OUTPUTS),
    "prune-study": ("ng", prune_study.OUTPUTS),
    "masda": ("masda", masda_eval.OUTPUTS),
}


def existing_outputs(folder: Path, command: str) -> dict[str, bytes]:
    """Put every output of ``command`` in ``folder``; returns their contents."""
    folder.mkdir(exist_ok=True)
    for name in EXPERIMENTS[command][1]:
        (folder / name).write_bytes(f"earlier {name}".encode())
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def fails_in_one_line(capsys, *args: str) -> str:
    """Run ``glianet ARGS``, which must fail as bad input; returns its one line."""
    assert cli.main(list(args)) == cli.BAD_INPUT
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("command", EXPERIMENTS)
def test_an_unknown_set_name_names_the_close_ones(tmp_path, capsys, command):
    model = EXPERIMENTS[command][0]
    line = fails_in_one_line(capsys, command, "--out", str(tmp_path), "--set", "zeta=1")
    assert line.startswith(f"glianet {command}: error: --set zeta=1: zeta is not a parameter")
    assert "did you mean eta" in line and f"`glianet params {model}`" in line
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("command", EXPERIMENTS)
@pytest.mark.parametrize("name", ["seeds", "out", "force", "progress"])
def test_a_set_name_that_is_an_argument_of_the_experiment_is_refused(
    tmp_path, capsys, command, name
):
    existing_outputs(tmp_path, command)  # a command that did not refuse would stop there
    line = fails_in_one_line(capsys, command, "--out", str(tmp_path), "--set", f"{name}=1")
    assert f"--set {name}=1: {name} is not a parameter" in line


@pytest.mark.parametrize(
    ("command", "pair", "option"),
    [
        ("reproduce", "epochs=3", "--epochs"),
        ("prune-study", "epochs=3", "--epochs"),
        ("reproduce", "engine=agents", "--engine"),
        ("prune-study", "rng=1", "--seeds"),
        ("masda", "pretrain_epochs=3", "--epochs"),
        ("masda", "engine=agents", "--engine"),
        ("masda", "task=digits", "--dataset"),
    ],
)
def test_set_refuses_a_parameter_an_option_sets(tmp_path, capsys, command, pair, option):
    # Outputs exist, so that a command that did not refuse would stop there, not run.
    before = existing_outputs(tmp_path, command)
    line = fails_in_one_line(capsys, command, "--out", str(tmp_path), "--set", pair)
    name = pair.partition("=")[0]
    assert line == (
        f"glianet {command}: error: --set {pair}: {name} is set by the option {option}; use that"
    )
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("command", "pair", "named"),
    [
        ("reproduce", "eta=-1", "eta=-1 is invalid"),
        ("reproduce", "layers=[5,3]", "layers"),  # a check only the model makes, with the task
        ("prune-study", "eta=-1", "eta=-1 is invalid"),
        ("prune-study", "layers=[5,3]", "layers"),
        ("prune-study", "task=parity", "task='parity' is not a known task"),
        ("masda", "n_units=0", "n_units=0 is invalid"),
        ("masda", "max_depth=0", "max_depth=0 is invalid"),
    ],
)
def test_bad_parameters_are_reported_before_existing_outputs(
    tmp_path, capsys, command, pair, named
):
    """The user learns of the mistake first, not of the outputs (and after a --force, of the
    mistake): outputs exist, and --force is not given."""
    before = existing_outputs(tmp_path, command)
    line = fails_in_one_line(capsys, command, "--out", str(tmp_path), "--set", pair)
    assert named in line and "--force" not in line
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "argv",
    [
        ["--hel"],
        ["reproduce", "--epoch", "3"],
        ["prune-study", "--seed", "2"],
        ["masda", "--finetune", "3"],
        ["sweep", "spec.toml", "--out", "x", "--retry"],
        ["serve", "--por", "9000"],
    ],
)
def test_options_must_be_spelled_in_full(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args(argv)
    assert stopped.value.code == 2
    assert "error:" in capsys.readouterr().err


#: Modules the command loads only to run a command, or to check a --set name (the last two).
HEAVY = ("mesa", "dask", "pandas", "matplotlib", "scipy", "numba", "numpy", "glianet.parameters")
TABLE = HEAVY[-2:]


@pytest.mark.parametrize(
    ("argv", "status", "may_load"),
    [
        (["--help"], 0, ()),
        (["reproduce", "--help"], 0, ()),
        (["masda", "--help"], 0, ()),
        (["sweep"], 2, ()),
        (["reproduce", "--epoch"], 2, ()),
        (["params", "ng"], 0, TABLE),
        (["reproduce", "--set", "zeta=1"], 2, TABLE),
    ],
)
def test_help_and_argument_errors_load_no_heavy_module(tmp_path, argv, status, may_load):
    script = textwrap.dedent(f"""
        import runpy, sys
        sys.argv = ["glianet", *{argv!r}]
        try:
            runpy.run_module("glianet.cli", run_name="__main__", alter_sys=True)
        except SystemExit as stopped:
            status = stopped.code
        loaded = [name for name in {HEAVY!r} if name in sys.modules]
        print(status, [name for name in loaded if name not in {may_load!r}], file=sys.stderr)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.stderr.splitlines()[-1] == f"{status} []", done.stderr


#: Starts ``python -m glianet.cli ARGS`` after arranging a real SIGINT to this very process as
#: soon as it first imports the module named in the first argument: so the interrupt lands at
#: one known moment of start-up, every run.
INTERRUPT_ON_IMPORT = textwrap.dedent("""
    import os, runpy, signal, sys
    target = sys.argv.pop(1)

    def interrupt(event, args):
        if event == "import" and args[0] == target and not sent:
            sent.append(target)
            os.kill(os.getpid(), signal.SIGINT)

    sent = []
    sys.addaudithook(interrupt)
    runpy.run_module("glianet.cli", run_name="__main__", alter_sys=True)
""")


@pytest.mark.parametrize("moment", ["argparse", "glianet.parameters", "matplotlib"])
def test_ctrl_c_at_any_moment_of_start_up_is_one_line(tmp_path, moment):
    args = ["reproduce", "--out", str(tmp_path / "out"), "--seeds", "1", "--epochs", "1"]
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT_ON_IMPORT, moment, *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # the command's name is known once its arguments are parsed
    name = "glianet" if moment == "argparse" else "glianet reproduce"
    assert done.stderr.splitlines() == [f"{name}: interrupted"]
    assert done.returncode == 128 + signal.SIGINT
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["glianet", "reproduce"])
def test_dev_sh_runs_commands_where_the_caller_stands(tmp_path, command):
    """scripts/dev.sh sets up in its checkout but runs glianet from the caller's folder, so
    ``--out rel`` lands beside the caller. The checkout here is a copy whose venv's python and
    glianet are stubs: pip "installs" nothing, and glianet prints where it runs."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "dev.sh").write_text((ROOT / "scripts" / "dev.sh").read_text())
    (checkout / "pyproject.toml").write_text("")
    bin_ = checkout / ".venv" / "bin"
    bin_.mkdir(parents=True)
    stubs = {"python": "exit 0", "glianet": 'echo "$PWD"; echo "$@"'}
    for name, body in stubs.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    caller = tmp_path / "elsewhere"
    caller.mkdir()
    done = subprocess.run(
        ["bash", str(checkout / "scripts" / "dev.sh"), command, "--out", "rel"],
        cwd=caller, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    where, args = done.stdout.splitlines()
    assert Path(where) == caller
    assert args.split()[-2:] == ["--out", "rel"]
