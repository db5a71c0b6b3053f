"""Writing results atomically, never silently overwriting: for checkpoints, sweeps, experiments."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


class OutputExistsError(FileExistsError):
    """An output file exists already and ``force`` was not given."""


def check_outputs(out: Path, names: Iterable[str], force: bool) -> None:
    """Fail before any work if an output would be overwritten without ``force``."""
    existing = [name for name in names if (out / name).exists()]
    if existing and not force:
        raise OutputExistsError(
            f"{out} already holds {', '.join(existing)}; pass --force (force=True) to overwrite"
        )


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place.

    An interrupted run leaves either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A hidden name with another suffix: readers of the directory never take it for a result.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
