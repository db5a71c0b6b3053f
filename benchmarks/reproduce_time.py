"""Wall time of the default paper reproduction, end to end, as a user runs it.

Run: ``python benchmarks/reproduce_time.py`` (times ``glianet reproduce`` in a fresh process,
imports and figure drawing included).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "glianet.cli", "reproduce", "--out", out],
            check=True, capture_output=True,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    print(
        f"glianet reproduce (5 seeds x pruning on/off x 100 epochs x 2000 samples): {seconds:.1f} s"
    )
    print(f"goal < 30 s: {'met' if seconds < 30 else f'missed by {seconds / 30:.1f}x'}")


if __name__ == "__main__":
    main()
