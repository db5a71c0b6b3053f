"""Experiments: runs of the models that produce tables and figures."""
