"""Duplicate detection by level: exact (here), near, retold (later issues)."""

from retold.dedup.clusters import Decisions, KeepPolicy
from retold.dedup.exact import ExactIndex, ExactSignature, normalize_for_hash

__all__ = ["Decisions", "ExactIndex", "ExactSignature", "KeepPolicy", "normalize_for_hash"]
