"""Parameter sweeps: a TOML spec, run on local processes or a Dask cluster, results in Parquet."""

__all__ = ["SweepSpec", "load_spec", "run_sweep"]


def __getattr__(name: str):
    """The public names, imported on first use: a worker process starting up imports only
    :mod:`glianet.sweeps.worker`, and so can watch its main process at once."""
    if name == "run_sweep":
        from glianet.sweeps.runner import run_sweep

        return run_sweep
    if name in __all__:
        from glianet.sweeps import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'glianet.sweeps' has no attribute {name!r}")
