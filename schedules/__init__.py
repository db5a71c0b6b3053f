"""Staged schedulers: which agents act in which phase, and in what order."""

from glianet.schedules.staged import ENGINES, NGStagedScheduler

__all__ = ["ENGINES", "NGStagedScheduler"]
