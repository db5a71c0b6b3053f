"""The ``glianet`` command."""

from __future__ import annotations

import argparse
import ast
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor
from contextlib import contextmanager

# Exit statuses, one per kind of failure; a signal gives 128 + its number (Ctrl-C: 130).
BAD_INPUT = 2  # a parameter, spec or path is wrong, or an output exists (see --force)
FILE_ERROR = 3  # a file could not be read or written: disk full, read-only, no permission
WORKER_LOST = 4  # a worker process was lost (killed, out of memory) or its cluster failed
EPILOG = (
    f"exit status: 0 done; {BAD_INPUT} bad input (or outputs exist: see --force); {FILE_ERROR} a "
    f"file could not be read or written (disk full, read-only, no permission); {WORKER_LOST} a "
    "worker process was lost (killed, out of memory); 130 interrupted (Ctrl-C); 143 terminated "
    "(SIGTERM). Finished results are kept: run the same sweep again to resume it."
)


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


def draw_to_files() -> None:
    """Figures go to files only: no display is needed (or opened)."""
    import matplotlib

    matplotlib.use("Agg")


def cmd_reproduce(args: argparse.Namespace) -> None:
    draw_to_files()
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
        retry_failed=args.retry_failed, append=args.append,
    )  # fmt: skip
    print(f"\nsweep {args.spec}: {len(summary)} runs in {args.out}")
    print(summary_table(summary, spec).to_string())
    failed = summary[summary["status"] != "ok"]
    for _, row in failed.iterrows():
        print(f"run {row['run_id']} (seed {row['seed']}) {row['status']}: "
              f"{row['message'].splitlines()[0]}")  # fmt: skip


def cmd_masda(args: argparse.Namespace) -> None:
    draw_to_files()
    from glianet.experiments.masda_eval import evaluate

    table = evaluate(
        args.out, dataset=args.dataset, seeds=args.seeds, pretrain_epochs=args.epochs,
        finetune_epochs=args.finetune_epochs, engine=args.engine, force=args.force,
        **parse_assignments(args.set),
    )  # fmt: skip
    print(f"\nMASDA on {args.dataset} ({args.seeds} seeds) -> {args.out}")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def cmd_prune_study(args: argparse.Namespace) -> None:
    draw_to_files()
    from glianet.experiments.prune_study import prune_study

    table = prune_study(
        args.out, seeds=args.seeds, epochs=args.epochs, force=args.force, engine=args.engine,
        **parse_assignments(args.set),
    )  # fmt: skip
    print(f"\nPruning study on digits ({args.seeds} seeds, {args.epochs} epochs) -> {args.out}")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def cmd_serve(args: argparse.Namespace) -> None:
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
        sys.executable, "-m", "glianet.serve", "run", str(Path(__file__).with_name("server.py")),
        "--host", args.host, "--port", str(args.port), "--no-open", "--production",
    ]  # fmt: skip
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    # This process becomes the server (no child): a signal to it (Ctrl-C, SIGTERM) stops the
    # server itself, and nothing is left listening.
    os.execve(sys.executable, command, env)


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
        prog="glianet", description="Neural networks built as multi-agent systems (Mesa).",
        epilog=EPILOG,
    )  # fmt: skip
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

    study = commands.add_parser("prune-study", help="glia against magnitude pruning, digits")
    add_experiment_options(study, "results/prune_study", seeds=5, epochs=20, model="ng")
    study.set_defaults(run=cmd_prune_study)

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
    sweep.add_argument(
        "--append", action="store_true",
        help="add this spec's runs to an --out that holds another spec's results",
    )  # fmt: skip
    sweep.set_defaults(run=cmd_sweep)
    return parser


@contextmanager
def unwinding_on_signals() -> Iterator[list[int]]:
    """Turn SIGINT and SIGTERM into a ``KeyboardInterrupt``, so that a command stopped either
    way unwinds: it stops its workers and removes its temporary files. A second signal while
    it unwinds ends the process at once. The previous handlers are restored at the end.

    Yields
    ------
    list of int
        The signal received, once one is.
    """
    received: list[int] = []

    def handler(signum: int, frame) -> None:
        if received:
            os._exit(128 + received[0])
        received.append(signum)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def describe(error: OSError) -> str:
    """One line for an operating-system error: what went wrong, and on which file."""
    if error.strerror is None:
        return str(error)
    return f"{error.strerror}: {error.filename}" if error.filename else error.strerror


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glianet`` command; returns the exit status (see ``EPILOG``).

    Every failure the user can act on is one line on stderr, never a traceback.
    """
    with unwinding_on_signals() as received:
        try:
            return run(build_parser().parse_args(argv))
        except KeyboardInterrupt:
            signum = received[0] if received else signal.SIGINT
            stopped = "interrupted" if signum == signal.SIGINT else "terminated"
            print(f"glianet: {stopped}", file=sys.stderr)
            return 128 + signum


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; returns its exit status, printing a failure as one line."""
    name = f"glianet {args.command}"
    try:
        args.run(args)
    except (ValueError, FileExistsError) as error:
        text = describe(error) if isinstance(error, OSError) else str(error)
        print(f"{name}: error: {text}", file=sys.stderr)
        return BAD_INPUT
    except BrokenExecutor as error:
        print(f"{name}: a worker process was lost: {error}", file=sys.stderr)
        return WORKER_LOST
    except OSError as error:
        print(f"{name}: file error: {describe(error)}", file=sys.stderr)
        return FILE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
