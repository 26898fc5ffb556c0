"""Every option once: its name, default, help and check. The CLI and the API are built from here.

An :class:`Option` is the one description of a setting. ``retold.cli`` turns each into a click
option (``near_threshold`` → ``--near-threshold``, a ``negate`` flag → ``--no-report``) and
``retold.api`` into a keyword of the same name with the same default, so the two cannot drift
(sqlite-utils' habit, enforced by construction instead of by review). A duplicate level declares
its options as the fields of its options dataclass with :func:`option` (see
:mod:`retold.dedup.level`); the general options are :data:`GENERAL` below.

>>> THRESHOLD = Option("near_threshold", 0.7, "Similarity…", kind=float, low=0.0, high=1.0, low_open=True)
>>> THRESHOLD.flag, THRESHOLD.check(0.8)
('--near-threshold', 0.8)
>>> THRESHOLD.check(0)
Traceback (most recent call last):
...
retold.errors.BadOption: --near-threshold must be above 0.0 and at most 1.0, got 0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from retold.errors import BadOption

#: Option groups, by what they are about; a verb takes some of them (:data:`VERB_GROUPS`).
GROUPS = ("read", "run", "curate", "detect", "audit")


@dataclass(frozen=True)
class Option:
    """One option. ``kind``: str, int, float or bool; ``choices``/``low``/``high`` bound it.

    ``negate``: a boolean that defaults to True and is switched off on the command line by this
    flag (``report`` by ``--no-report``). ``shown_default``: the help's ``[default: …]`` text when
    the default is worked out at run time. ``multiple``: repeatable on the command line, a tuple
    in the API. ``cli``: False for settings only the API or a verb sets (``drop_empty``).
    """

    name: str
    default: Any
    help: str
    kind: type = str
    group: str = "detect"
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    negate: str | None = None
    shown_default: str | None = None
    multiple: bool = False
    short: str | None = None
    existing_path: bool = False
    cli: bool = True

    @property
    def flag(self) -> str:
        return self.negate or "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """``value`` if it is allowed, else :class:`BadOption` naming the flag and what arrived."""
        if value is None or self.kind is bool or self.multiple:
            return value
        if self.kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise BadOption(f"{self.flag} must be a number, got {value!r}")
        if self.kind is int and not isinstance(value, int):
            raise BadOption(f"{self.flag} must be a whole number, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise BadOption(f"{self.flag} must be one of {', '.join(self.choices)}, got {value!r}")
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high:
            raise BadOption(f"{self.flag} must be {self._range()}, got {value!r}")
        return value

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{'above' if self.low_open else 'at least'} {self.low} and at most {self.high}"
        if self.low is not None:
            return f"{'above' if self.low_open else 'at least'} {self.low}"
        return f"at most {self.high}"


def option(name: str, default: Any, help: str, **spec: Any) -> Any:
    """A dataclass field that is also an :class:`Option` (for a level's options dataclass)."""
    return dataclasses.field(default=default, metadata={"option": Option(name, default, help, **spec)})


def options_of(cls: type) -> list[tuple[str, Option]]:
    """(field name, option) of each field of the dataclass ``cls`` declared with :func:`option`."""
    return [(f.name, f.metadata["option"]) for f in dataclasses.fields(cls) if "option" in f.metadata]


DEFAULT_MAX_DOC_BYTES = 16 << 20
MAX_DOC_BYTES_LIMIT = 1 << 30  # one document of 1 GiB is the most a run will hold in memory
DEFAULT_AUDIT_SAMPLE = 20_000
FORMATS = ("jsonl", "csv", "tsv", "parquet", "text")

#: The options every level shares, by group. ``levels`` and ``drop`` take their defaults from the
#: levels' own declarations (:mod:`retold.dedup.registry`).
GENERAL: tuple[Option, ...] = (
    Option("text_field", "text", "Field holding the text.", group="read"),
    Option(
        "id_field",
        None,
        "Field holding the document id.",
        group="read",
        shown_default="id when present, else file:line",
    ),
    Option(
        "format",
        None,
        "Input format.",
        group="read",
        choices=FORMATS,
        shown_default="from the extension; sniffed for stdin",
    ),
    Option(
        "max_doc_bytes",
        DEFAULT_MAX_DOC_BYTES,
        "Larger documents are quarantined, not processed.",
        kind=int,
        group="read",
        low=1,
        high=MAX_DOC_BYTES_LIMIT,
    ),
    Option(
        "output_format",
        "auto",
        "Format of kept/dropped/quarantine/clusters/pairs: jsonl, or parquet (the input's columns and "
        "types kept, retold's annotation a struct column).",
        group="run",
        choices=("auto", "jsonl", "parquet"),
        shown_default="parquet when every input is Parquet, else jsonl",
    ),
    Option("quiet", False, "No progress bars and no summary lines.", kind=bool, group="run", short="-q"),
    Option(
        "workers",
        None,
        "Processes for the per-document stages.",
        kind=int,
        group="run",
        low=1,
        shown_default="every core for inputs of 16 MiB or more, else 1",
    ),
    Option(
        "engine",
        "local",
        "Where the per-document stages run: local processes, or a Ray cluster (see --address).",
        group="run",
        choices=("local", "ray"),
    ),
    Option(
        "address",
        None,
        "Ray cluster to use with --engine ray (HOST:PORT of the head node, or auto).",
        group="run",
        shown_default="RAY_ADDRESS, else a Ray instance started on this machine for the run",
    ),
    Option(
        "restart",
        False,
        "Discard an unfinished run in --out (or redo a finished one) instead of resuming it.",
        kind=bool,
        group="run",
    ),
    Option(
        "keep",
        "first",
        "Which copy stays: first, longest, or a FIELD the records hold (highest value wins).",
        group="curate",
    ),
    Option(
        "drop",
        None,
        "Detected levels to remove (comma-separated); others are only reported.",
        group="curate",
        shown_default="the levels that drop by default, among --levels",
    ),
    Option("repair", True, "Skip the repair stage.", kind=bool, group="curate", negate="--no-repair"),
    Option(
        "report",
        True,
        "Do not write report.html / report.json.",
        kind=bool,
        group="curate",
        negate="--no-report",
    ),
    Option(
        "against",
        (),
        "A curated folder from an earlier scan: drop copies of its documents using the index it saved, "
        "without reading its corpus again (repeatable).",
        group="curate",
        multiple=True,
    ),
    Option(
        "save_index",
        True,
        "Do not save index/ (what a later --against run needs).",
        kind=bool,
        group="curate",
        negate="--no-index",
    ),
    Option("drop_empty", True, "Drop documents whose text is empty.", kind=bool, group="curate", cli=False),
    Option(
        "levels",
        None,
        "Duplicate levels to detect (comma-separated).",
        group="detect",
        shown_default="the levels on by default",
    ),
    Option(
        "reference",
        None,
        "Human-written corpus that stock phrases are measured against [default: wordfreq].",
        group="audit",
        existing_path=True,
    ),
    Option(
        "audit_sample",
        DEFAULT_AUDIT_SAMPLE,
        "The audit's metrics and phrases use at most this many documents, evenly spread (premise clusters label every document).",
        kind=int,
        group="audit",
        low=1,
    ),
    Option(
        "group_by",
        None,
        "Field naming each document's group (a model, a prompt, a run): the report ranks the groups "
        "side by side (diversity on equal samples, stock phrases, copies within and across groups, "
        "premise coverage).",
        group="audit",
    ),
    Option(
        "group_sort",
        "compression",
        "Column the --group-by table is ranked by (the direction that means more diverse comes first).",
        group="audit",
        choices=(
            "compression",
            "distinct_4",
            "self_repetition",
            "vendi_style_share",
            "vendi_share",
            "mean_similarity",
            "stock_density",
            "within_share",
            "across_share",
            "premise_coverage",
        ),
    ),
    Option(
        "lang",
        "auto",
        "Corpus language for wordfreq (en, ru, de, …; auto: guessed from common words).",
        group="audit",
    ),
)

#: The option groups each verb takes (``fix``: reading and running only).
VERB_GROUPS: dict[str, tuple[str, ...]] = {
    "scan": ("read", "run", "curate", "detect", "audit"),
    "audit": ("read", "run", "detect", "audit"),
    "compare": ("read", "run", "detect", "audit"),
    "fix": ("read", "run"),
}
#: Options that say how a run goes, not what it computes: they go to the engine's ``RunOptions``,
#: not to :class:`retold.config.ScanConfig`, and are not part of the run's fingerprint.
RUN_OPTIONS = ("quiet", "workers", "engine", "address", "restart", "against", "save_index")


def check_all(options: dict[str, Any], table: dict[str, Option], verb: str) -> dict[str, Any]:
    """``options`` checked against ``table`` (unknown names are a TypeError, as for any function:
    the message suggests the closest name)."""
    import difflib

    for name, value in options.items():
        if name not in table:
            close = difflib.get_close_matches(name, list(table), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"retold.{verb}() got an unexpected keyword argument {name!r}{hint}")
        table[name].check(value)
    return options
