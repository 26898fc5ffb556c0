"""One frozen configuration object for what a run computes, built from the option table.

Every option is described once (:mod:`retold.options` for the general ones, each level's options
dataclass for its own); :meth:`ScanConfig.build` checks the values a caller gives against those
descriptions, so the CLI, the API and this object share names, defaults and checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from retold.dedup import registry
from retold.errors import BadOption
from retold.options import GENERAL, RUN_OPTIONS, Option


def _general(name: str) -> Any:
    return next(opt.default for opt in GENERAL if opt.name == name)


@dataclass(frozen=True)
class ScanConfig:
    """What a run computes (``retold scan``'s options less those that say how it runs).

    text_field: the field holding the document text (default ``text``).
    id_field: the field holding a document id; default ``id`` when present, else ``file:line``.
    format: force the input format (``jsonl``, ``csv``, ``tsv``, ``parquet``, ``text``); default from
        the file extension, or sniffed for stdin.
    keep: which member of a cluster stays: ``first`` (input order, default), ``longest``, or a field
        the records hold (highest numeric value wins; ties go to the earlier document).
    levels: which duplicate levels are detected (None, the default: the levels that are on by
        default; ``()``: none, as ``fix`` runs).
    drop: which detected levels are removed from kept.jsonl (default: the levels that drop by
        default, among those detected); a detected level not in ``drop`` is reported in
        clusters.jsonl and its documents kept.
    repair: run the repair stage (default True).
    drop_empty: drop documents whose text is empty or whitespace (default True; ``fix`` keeps them).
    max_doc_bytes: a document larger than this (UTF-8 bytes) is quarantined, not processed
        (default 16 MiB: larger "documents" in text corpora are nearly always concatenation errors).
    report: write report.html and report.json, the audit of the corpus (default True).
    reference: a corpus of human writing (any input format) that stock phrases are measured
        against; without it, phrases are measured against wordfreq's word frequencies.
    lang: the corpus language for wordfreq (``auto``, default: guessed from the common words).
    audit_sample: the audit's metrics, premise clusters and phrases are computed on at most this
        many documents, spread evenly over the corpus (default 20,000; the report says so).
    output_format: ``jsonl``, ``parquet``, or ``auto`` (default): Parquet when every input is.
    group_by: a field of the records naming each document's group; the report then ranks the
        groups side by side (:mod:`retold.audit.groups`).
    level_values: the levels' own options as given, by option name (``near_threshold``…); each
        level's options object (:meth:`options`) holds them with its defaults.
    """

    text_field: str = _general("text_field")
    id_field: str | None = None
    format: str | None = None
    keep: str = _general("keep")
    levels: tuple[str, ...] | None = None
    drop: tuple[str, ...] | None = None
    repair: bool = True
    drop_empty: bool = True
    max_doc_bytes: int = _general("max_doc_bytes")
    report: bool = True
    reference: str | None = None
    lang: str = _general("lang")
    audit_sample: int = _general("audit_sample")
    output_format: str = _general("output_format")
    group_by: str | None = None
    group_sort: str = _general("group_sort")
    level_values: tuple[tuple[str, Any], ...] = ()
    _options: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, **values: Any) -> ScanConfig:
        """A config from option values by option name (a level's too: ``near_threshold=0.8``).

        ``levels``/``drop`` may be comma-separated strings; None means the default."""
        table = option_table()
        general = {f.name for f in fields(cls) if f.init and f.name != "level_values"}
        mine: dict[str, Any] = {}
        level_values: dict[str, Any] = {}
        for name, value in values.items():
            if name not in table or name in RUN_OPTIONS:
                raise TypeError(f"unknown option {name!r}")
            table[name].check(value)
            if name in general:
                mine[name] = value
            else:
                level_values[name] = value
        mine["levels"] = registry.parse_levels(mine.get("levels"), "--levels")
        mine["drop"] = registry.parse_levels(mine.get("drop"), "--drop")
        if mine.get("reference") is not None:
            mine["reference"] = str(mine["reference"])
        return cls(**mine, level_values=tuple(sorted(level_values.items())))

    def __post_init__(self) -> None:
        levels = registry.parse_levels(self.levels, "--levels")  # None: the levels on by default
        object.__setattr__(self, "levels", registry.default_levels() if levels is None else levels)
        if self.drop is None:  # the default: the levels that drop by default, among those detected
            object.__setattr__(self, "drop", registry.default_drop(self.levels))
        else:
            object.__setattr__(self, "drop", registry.parse_levels(self.drop, "--drop"))
        if not self.text_field:
            raise BadOption("--text-field must not be empty")
        if not self.keep:
            raise BadOption("--keep must be first, longest or a field name")
        for name in self.drop or ():
            if name not in self.levels:
                raise BadOption(f"--drop {name} needs {name} in --levels too")
        values = dict(self.level_values)
        for lv in registry.levels():
            self._options[lv.name] = registry.options_for(lv.name, values)

    def options(self, level: str) -> Any:
        """Level ``level``'s options object (its dataclass, with defaults filled in)."""
        return self._options[level]

    def value(self, name: str) -> Any:
        """Any option's value by option name (general, or a level's)."""
        if name in {f.name for f in fields(self)}:
            return getattr(self, name)
        for lv in registry.levels():
            for field_name, opt in registry.options_of(lv.options):
                if opt.name == name:
                    return getattr(self._options[lv.name], field_name)
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """Every option's value by option name (the run's fingerprint and summary.json hold it)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.init and f.name != "level_values":
                out[f.name] = getattr(self, f.name)
        out["levels"] = list(self.levels)
        out["drop"] = list(self.drop or ())
        for lv in registry.levels():
            for field_name, opt in registry.options_of(lv.options):
                out[opt.name] = getattr(self._options[lv.name], field_name)
        return out


def option_table() -> dict[str, Option]:
    """Every option by name: the general ones, then each level's."""
    return {**{opt.name: opt for opt in GENERAL}, **registry.level_options()}
