"""Staged schedulers: which agents act in which phase, and in what order."""

from glianet.schedules.masda import MASDAScheduler
from glianet.schedules.staged import NGStagedScheduler

__all__ = ["MASDAScheduler", "NGStagedScheduler"]
