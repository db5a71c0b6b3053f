"""Writing results for checkpoints, sweeps and experiments.

Atomically (an interrupted write leaves the old file or the new one, never half of one), durably
(``fsync`` before a file counts as written), with the usual permissions (the umask applies, as
for any new file), never silently overwriting, and without leftovers: a temporary file or folder
carries its writer's process id, so what a killed writer left behind is recognised and removed.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: ``.<name>.<pid>.<token>.tmp``: hidden (readers of a folder never take it for a result), and
#: its writer's pid says whether anyone may still be writing it.
TEMPORARY = re.compile(r"^\.(?P<name>.*)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


class OutputExistsError(FileExistsError):
    """An output file exists already and ``force`` was not given."""


def check_outputs(out: Path, names: Iterable[str], force: bool) -> None:
    """Fail before any work if an output would be overwritten without ``force``."""
    existing = [name for name in names if (out / name).exists()]
    if existing and not force:
        raise OutputExistsError(
            f"{out} already holds {', '.join(existing)}; pass --force (force=True) to overwrite"
        )


def temporary_path(path: Path) -> Path:
    """A fresh temporary name beside ``path``, marked with this process's id."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files and folders in ``folder`` whose writer no longer runs.

    A writer killed outright (SIGKILL, power loss) cannot clean up after itself; the next
    writer into the same folder does. Temporaries of running processes are left alone.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    for path in folder.glob(".*.tmp"):
        match = TEMPORARY.match(path.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:  # some file systems cannot sync a folder; the files are synced
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, sync it, then move it into place.

    An interrupted write leaves either the old file or the new one, never half of one, and
    removes its temporary file (unless killed outright: see :func:`remove_stale_temporaries`).
    The file gets the permissions of any new file (``0o666`` less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def staged_outputs(out: Path, names: Sequence[str], force: bool) -> Iterator[Path]:
    """A temporary folder to write the outputs ``names`` into; they move into ``out`` at the end.

    Checks first that no output would be overwritten without ``force``. Only when the block
    finishes do the outputs move into ``out`` (created if missing); a run that fails or is
    interrupted leaves ``out`` as it was, so it can be run again without ``force``, and leaves
    no temporary folder.

    Yields
    ------
    Path
        The temporary folder (beside ``out``, on the same file system).
    """
    out = Path(out)
    check_outputs(out, names, force)
    target = out.absolute()  # out may be "." or end in "..": stage beside the real folder
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent)
    staging = temporary_path(target)
    staging.mkdir()
    try:
        yield staging
        out.mkdir(exist_ok=True)
        for name in names:
            os.replace(staging / name, out / name)
        fsync_folder(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
