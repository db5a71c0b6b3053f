"""glianet: neural networks built as multi-agent systems, simulated with Mesa."""

__all__ = ["MASDAModel", "NGModel"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """The models, imported on first use, so the ``glianet`` command starts (and can be
    interrupted cleanly) before NumPy, Numba and Mesa load."""
    if name in __all__:
        from glianet import model

        return getattr(model, name)
    raise AttributeError(f"module 'glianet' has no attribute {name!r}")
