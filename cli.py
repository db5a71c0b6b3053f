"""The ``glianet`` command."""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence


def parse_assignments(pairs: Sequence[str]) -> dict:
    """Turn ``["z=2.0", "sig_rule=printed"]`` into ``{"z": 2.0, "sig_rule": "printed"}``."""
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set {pair!r} is invalid: write NAME=VALUE, e.g. --set z=2.0")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    return params


def cmd_reproduce(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from glianet.experiments.ng_paper import reproduce

    params = parse_assignments(args.set)
    params.update(epochs=args.epochs, engine=args.engine)
    table = reproduce(args.out, seeds=args.seeds, force=args.force, **params)
    print(f"\nNG paper reproduction ({args.seeds} seeds, {args.epochs} epochs) -> {args.out}")
    print(table.to_string())


def cmd_sweep(args: argparse.Namespace) -> None:
    from glianet.sweeps.runner import run_sweep, summary_table
    from glianet.sweeps.spec import load_spec

    spec = load_spec(args.spec)
    summary = run_sweep(
        spec, args.out, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
        retry_failed=args.retry_failed,
    )  # fmt: skip
    print(f"\nsweep {args.spec}: {len(summary)} runs in {args.out}")
    print(summary_table(summary, spec).to_string())
    failed = summary[summary["status"] != "ok"]
    for _, row in failed.iterrows():
        print(f"run {row['run_id']} (seed {row['seed']}) {row['status']}: "
              f"{row['message'].splitlines()[0]}")  # fmt: skip


def cmd_masda(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from glianet.experiments.masda_eval import evaluate

    table = evaluate(
        args.out, dataset=args.dataset, seeds=args.seeds, pretrain_epochs=args.epochs,
        finetune_epochs=args.finetune_epochs, engine=args.engine, force=args.force,
        **parse_assignments(args.set),
    )  # fmt: skip
    print(f"\nMASDA on {args.dataset} ({args.seeds} seeds) -> {args.out}")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def cmd_serve(args: argparse.Namespace) -> None:
    import os
    import subprocess
    from pathlib import Path

    if not 0 < args.port < 65536:
        raise ValueError(f"--port {args.port} is invalid: it must be between 1 and 65535")
    reach = (
        "this machine only"
        if args.host in ("127.0.0.1", "localhost", "::1")
        else ("reachable from other machines")
    )
    print(f"glianet: serving on http://{args.host}:{args.port} ({reach})", flush=True)
    command = [
        sys.executable, "-m", "solara", "run", str(Path(__file__).with_name("server.py")),
        "--host", args.host, "--port", str(args.port), "--no-open", "--production",
    ]  # fmt: skip
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    raise SystemExit(subprocess.run(command, env=env).returncode)


def cmd_params(args: argparse.Namespace) -> None:
    from glianet.parameters import TABLES

    table = TABLES[args.model]
    print(f"{table.model} parameters (set with --set NAME=VALUE, or in a sweep spec):")
    print(table.describe())


def add_experiment_options(
    command: argparse.ArgumentParser, out: str, seeds: int, epochs: int | None, model: str
) -> None:
    """The options every experiment command shares (``epochs`` None: the parameter table's
    default for the task)."""
    from glianet.parameters import ENGINES

    command.add_argument("--out", default=out, help="output directory (default: %(default)s)")
    command.add_argument("--seeds", type=int, default=seeds, help="number of seeds (%(default)s)")
    shown = epochs if epochs is not None else f"`glianet params {model}`: per task"
    command.add_argument("--epochs", type=int, default=epochs, help=f"epochs ({shown})")
    command.add_argument("--engine", default=ENGINES[0], choices=ENGINES)
    command.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         help=f"any other parameter; `glianet params {model}` lists them, e.g. "
                              "--set eta=0.1")  # fmt: skip
    command.add_argument("--force", action="store_true", help="overwrite existing outputs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glianet", description="Neural networks built as multi-agent systems (Mesa)."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rep = commands.add_parser("reproduce", help="the NG paper's experiment, tables and figures")
    add_experiment_options(rep, "results/ng", seeds=5, epochs=100, model="ng")
    rep.set_defaults(run=cmd_reproduce)

    masda = commands.add_parser("masda", help="MASDA pretrain + fine-tune against baselines")
    masda.add_argument("--dataset", default="digits", choices=("digits", "any-upper-3"))
    masda.add_argument("--finetune-epochs", type=int, default=60,
                       help="fine-tuning epochs with every label (%(default)s)")  # fmt: skip
    add_experiment_options(masda, "results/masda", seeds=3, epochs=None, model="masda")
    masda.set_defaults(run=cmd_masda)

    params = commands.add_parser("params", help="a model's parameters: defaults, allowed values")
    params.add_argument("model", choices=("ng", "masda"))
    params.set_defaults(run=cmd_params)

    serve = commands.add_parser("serve", help="the browser visualization (SolaraViz)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s: local only)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port (default: %(default)s)")
    serve.set_defaults(run=cmd_serve)

    sweep = commands.add_parser("sweep", help="a parameter sweep from a TOML spec")
    sweep.add_argument("spec", help="the sweep spec (TOML)")
    sweep.add_argument("--out", required=True, help="result directory (Parquet, one file a run)")
    sweep.add_argument("--backend", default="local", choices=("local", "dask"))
    sweep.add_argument("--workers", type=int, default=None, help="worker processes")
    sweep.add_argument(
        "--scheduler", default=None, metavar="tcp://HOST:PORT",
        help="an existing Dask scheduler (implies --backend dask)",
    )  # fmt: skip
    sweep.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    sweep.set_defaults(run=cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glianet`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileExistsError) as error:
        print(f"glianet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"glianet {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
