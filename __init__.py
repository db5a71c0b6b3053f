"""glianet: neural networks built as multi-agent systems, simulated with Mesa."""

from glianet.model import NGModel

__all__ = ["NGModel"]
__version__ = "0.1.0"
