"""The agents of glianet's two models.

NG (neuro-glia pruning): :class:`NeuroAgent`, :class:`SynapseAgent`, :class:`GliaAgent`.
"""

import importlib

#: Each agent class, by the module that defines it.
_MODULES = {"GliaAgent": "glia", "NeuroAgent": "neuron", "SynapseAgent": "synapse"}
__all__ = sorted(_MODULES)


def __getattr__(name: str):
    """The agent classes, imported on first use: the rules' scalar functions
    (``glianet.agents.functions``, NumPy only) are then importable without Mesa, so the parameter
    tables, and ``glianet params``, load quickly."""
    if name in _MODULES:
        return getattr(importlib.import_module(f"glianet.agents.{_MODULES[name]}"), name)
    raise AttributeError(f"module 'glianet.agents' has no attribute {name!r}")
