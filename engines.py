"""The engines a model can run on: names only, importing nothing, so that the command line lists
them (``glianet reproduce --help``) without loading NumPy. ``parameters`` checks them."""

#: ``vectorized``: each phase over the model's arrays at once; ``agents``: each agent applies
#: its rule. Both give the same trajectory for a seed.
ENGINES = ("vectorized", "agents")
