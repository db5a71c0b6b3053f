"""Parameter sweeps: a TOML spec, run on local processes or a Dask cluster, results in Parquet."""

from glianet.sweeps.runner import run_sweep
from glianet.sweeps.spec import SweepSpec, load_spec

__all__ = ["SweepSpec", "load_spec", "run_sweep"]
