"""The agents of glianet's two models.

NG (neuro-glia pruning): :class:`NeuroAgent`, :class:`SynapseAgent`, :class:`GliaAgent`.
"""

from glianet.agents.glia import GliaAgent
from glianet.agents.neuron import NeuroAgent
from glianet.agents.synapse import SynapseAgent

__all__ = ["GliaAgent", "NeuroAgent", "SynapseAgent"]
