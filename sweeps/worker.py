"""The start of a local worker process: it ends itself when the main process is gone.

Kept apart from the runner (standard library only), so that a worker starting up watches its
main process before it spends seconds importing the models.
"""

from __future__ import annotations

import os
import threading
import time

#: How often a worker checks that the main process still runs (seconds).
PARENT_POLL = 0.2


def start_local_worker(parent: int) -> None:
    """Make this worker end itself once the main process ``parent`` is gone (even killed with
    SIGKILL, which no handler sees), so that no worker is left computing for nobody.

    Parameters
    ----------
    parent : int
        Process id of the sweep's main process.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
