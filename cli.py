"""The ``glianet`` command.

Only the standard library is imported until a command runs, so ``--help`` and a mistyped option
answer at once, without loading NumPy, Mesa or Dask.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from glianet.engines import ENGINES

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slower than argparse)
if TYPE_CHECKING:
    import argparse

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
    import ast

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


def model_parameters(args: argparse.Namespace) -> dict:
    """The model parameters an experiment command was given with ``--set``, checked before
    anything runs or any output is looked at.

    Parameters
    ----------
    args : Namespace
        The parsed command: ``set`` (the ``NAME=VALUE`` texts), ``model`` (``"ng"`` or
        ``"masda"``) and ``set_by`` (each name an option of the command sets, to that option's
        name in ``args``).

    Returns
    -------
    dict
        The parameters by name, with their values as given.

    Raises
    ------
    ValueError
        Naming the ``--set`` at fault: not ``NAME=VALUE``; a name an option sets (one way to
        give a value, so none is silently overridden); a name that is no parameter of the
        model, with the close ones; a value the parameter does not allow.
    """
    import difflib

    from glianet.parameters import TABLES

    table = TABLES[args.model]
    params = parse_assignments(args.set)
    for pair in args.set:
        name = pair.partition("=")[0]
        if name in args.set_by:
            option = "--" + args.set_by[name].replace("_", "-")
            raise ValueError(f"--set {pair}: {name} is set by the option {option}; use that")
        if name not in table:
            close = difflib.get_close_matches(name, table.names, n=3)
            guess = f"did you mean {' or '.join(close)}? " if close else ""
            raise ValueError(
                f"--set {pair}: {name} is not a parameter of {table.model}; {guess}"
                f"`glianet params {args.model}` lists them"
            )
    table.validate(params)
    return params


def draw_to_files() -> None:
    """Figures go to files only: no display is needed (or opened)."""
    import matplotlib

    matplotlib.use("Agg")


def cmd_reproduce(args: argparse.Namespace) -> None:
    params = model_parameters(args)
    draw_to_files()
    from glianet.experiments.ng_paper import reproduce

    table = reproduce(
        args.out, seeds=args.seeds, force=args.force, epochs=args.epochs, engine=args.engine,
        **params,
    )  # fmt: skip
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
    params = model_parameters(args)
    draw_to_files()
    from glianet.experiments.masda_eval import evaluate

    table = evaluate(
        args.out, dataset=args.dataset, seeds=args.seeds, pretrain_epochs=args.epochs,
        finetune_epochs=args.finetune_epochs, engine=args.engine, force=args.force, **params,
    )  # fmt: skip
    print(f"\nMASDA on {args.dataset} ({args.seeds} seeds) -> {args.out}")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def cmd_prune_study(args: argparse.Namespace) -> None:
    params = model_parameters(args)
    draw_to_files()
    from glianet.experiments.prune_study import prune_study

    table = prune_study(
        args.out, seeds=args.seeds, epochs=args.epochs, force=args.force, engine=args.engine,
        **params,
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
    command: argparse.ArgumentParser,
    out: str,
    seeds: int,
    epochs: int | None,
    model: str,
    set_by: Mapping[str, str] | None = None,
) -> None:
    """Add the options every experiment command shares.

    Parameters
    ----------
    command : ArgumentParser
        The command's parser.
    out : str
        Default output directory.
    seeds : int
        Default number of seeds.
    epochs : int or None
        Default epochs (None: the parameter table's default for the task).
    model : {"ng", "masda"}
        The model whose parameters ``--set`` takes.
    set_by : mapping, optional
        Model parameters the command's own options set, to the option's name in the parsed
        arguments, beyond those every experiment has (``epochs``, ``engine``, ``rng``):
        ``--set`` refuses them.
    """
    command.add_argument("--out", default=out, help="output directory (default: %(default)s)")
    command.add_argument("--seeds", type=int, default=seeds,
                         help="number of seeds 0..N-1 (%(default)s)")  # fmt: skip
    shown = epochs if epochs is not None else f"`glianet params {model}`: per task"
    command.add_argument("--epochs", type=int, default=epochs, help=f"epochs ({shown})")
    command.add_argument("--engine", default=ENGINES[0], choices=ENGINES)
    command.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         help=f"any other parameter; `glianet params {model}` lists them, e.g. "
                              "--set eta=0.1")  # fmt: skip
    command.add_argument("--force", action="store_true", help="overwrite existing outputs")
    shared = {"epochs": "epochs", "engine": "engine", "rng": "seeds"}
    command.set_defaults(model=model, set_by={**shared, **(set_by or {})})


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options."""
    import argparse

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
    add_experiment_options(
        masda, "results/masda", seeds=3, epochs=None, model="masda",
        set_by={"pretrain_epochs": "epochs", "task": "dataset"},
    )  # fmt: skip
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

    # Options only as spelled in full: an abbreviation (--epoch for --epochs) would silently
    # change meaning once another option shares its start.
    for command in (parser, *commands.choices.values()):
        command.allow_abbrev = False
    return parser


@contextmanager
def unwinding_on_signals(received: list[int]) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a ``KeyboardInterrupt``, so that a command stopped either
    way unwinds: it stops its workers and removes its temporary files. A second signal while
    it unwinds ends the process at once. The previous handlers are restored at the end.

    Parameters
    ----------
    received : list of int
        Gets the signal received, once one is.
    """

    def handler(signum: int, frame) -> None:
        if received:
            os._exit(128 + received[0])
        received.append(signum)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def describe(error: OSError) -> str:
    """One line for an operating-system error: what went wrong, and on which file."""
    if error.strerror is None:
        return str(error)
    return f"{error.strerror}: {error.filename}" if error.filename else error.strerror


def explain(error: BaseException, received: Sequence[int]) -> tuple[int, str] | None:
    """The exit status and the one line for a failure the user can act on.

    Parameters
    ----------
    error : BaseException
        What stopped the command.
    received : sequence of int
        The signals received (see :func:`unwinding_on_signals`).

    Returns
    -------
    tuple of (int, str) or None
        The status (see ``EPILOG``) and the line; None for anything else (a bug, or argparse's
        own exit), which is raised again.
    """
    if isinstance(error, KeyboardInterrupt):
        signum = received[0] if received else signal.SIGINT
        return 128 + signum, "interrupted" if signum == signal.SIGINT else "terminated"
    if isinstance(error, ValueError | FileExistsError):
        return BAD_INPUT, f"error: {describe(error) if isinstance(error, OSError) else error}"
    if isinstance(error, OSError):
        return FILE_ERROR, f"file error: {describe(error)}"
    if isinstance(error, RuntimeError):  # imported only here: --help need not load it
        from concurrent.futures import BrokenExecutor

        if isinstance(error, BrokenExecutor):
            return WORKER_LOST, f"a worker process was lost: {error}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glianet`` command; returns the exit status (see ``EPILOG``).

    Every failure the user can act on is one line on stderr, never a traceback; so is Ctrl-C
    (or SIGTERM) at any moment of it, from parsing the arguments to the end of a run.
    """
    name, received = "glianet", []
    try:
        with unwinding_on_signals(received):
            try:
                args = build_parser().parse_args(argv)
                name = f"glianet {args.command}"
                args.run(args)
                return 0
            except BaseException as error:  # reported with the handlers still on
                return report(name, error, received)
    except KeyboardInterrupt as error:  # while the handlers were being put on or taken off
        return report(name, error, received)


def report(name: str, error: BaseException, received: Sequence[int]) -> int:
    """Print ``error`` as one line and return its exit status (see :func:`explain`); raise it
    again if it is not one the user can act on."""
    explained = explain(error, received)
    if explained is None:
        raise error
    status, text = explained
    print(f"{name}: {text}", file=sys.stderr)
    return status


def console() -> None:
    """The ``glianet`` executable: :func:`main`, then exit with its status. A command stopped
    by a signal has already stopped its workers and removed its files, so it ends at once
    (``os._exit``): the interpreter's own shutdown, which joins library threads, would otherwise
    let a late Ctrl-C end the process by the signal instead of the status."""
    status = main()
    if status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    console()
