"""Portico: a generic Helm chart and the harness that proves it."""

__version__ = "0.1.0"
