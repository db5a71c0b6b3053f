"""Tasks: the data a network is trained on, one interface for both models.

A task is a fixed set of patterns (``inputs``) with their ``targets``; the models draw their
samples from it. Add a task by writing a :class:`Task` subclass and registering it in ``TASKS``.
"""

from glianet.tasks.base import TASKS, Task, get_task, register_task, task_family
from glianet.tasks.digits import Digits
from glianet.tasks.upper_bits import AnyUpperBits

__all__ = ["TASKS", "AnyUpperBits", "Digits", "Task", "get_task", "register_task", "task_family"]
