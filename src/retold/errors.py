"""Named errors. The CLI turns each into ``Error: <message>`` and exit code 1.

Every message says what was expected, what arrived, and the next step.
"""

from __future__ import annotations


class RetoldError(Exception):
    """Base class of every error retold raises on purpose."""


class InputNotFound(RetoldError):
    """An input path does not exist."""


class InputChanged(RetoldError):
    """An input file changed (appended, truncated, replaced) while the run read it."""


class UnknownFormat(RetoldError):
    """retold cannot tell what format an input is in."""


class OutputNotWritable(RetoldError):
    """The output folder cannot be created or written."""


class BadOption(RetoldError):
    """An option's value is out of range or contradicts another option."""


class ModelNotAvailable(RetoldError):
    """An embedding model cannot be loaded (not installed, not found, hub not reachable)."""
