"""Repair: mojibake, HTML entities, control characters, line endings, Unicode normalisation."""

from retold.repair.fixes import repair_text
from retold.repair.stage import RepairStage

__all__ = ["RepairStage", "repair_text"]
