"""Engines run the stages; the stages do not know which engine runs them."""

from retold.engine.local import run_scan

__all__ = ["run_scan"]
