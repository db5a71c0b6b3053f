"""glianet: neural networks built as multi-agent systems, simulated with Mesa."""

from glianet.model import MASDAModel, NGModel

__all__ = ["MASDAModel", "NGModel"]
__version__ = "0.1.0"
