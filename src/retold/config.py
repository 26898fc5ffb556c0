"""One frozen configuration object for a run; the CLI options and API keywords share its names."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retold.errors import BadOption

if TYPE_CHECKING:
    from retold.dedup.near import NearOptions
    from retold.dedup.semantic import RetoldOptions

#: The levels of the contract, closest first.
LEVELS = ("exact", "near", "retold", "premise")
#: The levels this version detects.
AVAILABLE_LEVELS = ("exact", "near", "retold")
#: The levels detected unless --levels says otherwise: the lexical ones, which need no model.
DEFAULT_LEVELS = ("exact", "near")
#: The levels dropped unless --drop says otherwise (the contract: exact and near copies go).
DEFAULT_DROP = ("exact", "near")
DEFAULT_MAX_DOC_BYTES = 16 << 20
#: Near level defaults (here, not in retold.dedup.near, so reading them imports no numba).
DEFAULT_NEAR_THRESHOLD = 0.7
DEFAULT_NUM_PERM = 128
#: Retold level defaults (see retold.dedup.semantic and docs/measurements.md for the calibration).
DEFAULT_RETOLD_THRESHOLD = 0.02  # order gain of the sentence alignment
DEFAULT_RETOLD_CANDIDATE = 0.5  # whole-text cosine (static model, names masked) to be a candidate
DEFAULT_RETOLD_NEIGHBOURS = 10
DEFAULT_RETOLD_MARGIN = 0.35  # a sentence pair counts for its cosine above this
DEFAULT_BOILERPLATE_DOCS = 5  # a sentence recurring in this many documents is boilerplate
DEFAULT_AUDIT_SAMPLE = 20_000
MAX_DOC_BYTES_LIMIT = 1 << 30  # one document of 1 GiB is the most a run will hold in memory


def parse_list(value: str | tuple[str, ...] | list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """``"exact,near"`` or ``["exact", "near"]`` → ``("exact", "near")``.

    >>> parse_list("exact, near", ())
    ('exact', 'near')
    >>> parse_list(None, ("exact",))
    ('exact',)
    """
    if value is None:
        return default
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


@dataclass(frozen=True)
class ScanConfig:
    """Options of ``retold scan`` / :func:`retold.scan`.

    text_field: the field holding the document text (default ``text``).
    id_field: the field holding a document id; default ``id`` when present, else ``file:line``.
    format: force the input format (``jsonl``, ``csv``, ``tsv``, ``parquet``, ``text``); default from
        the file extension, or sniffed for stdin.
    keep: which member of a cluster stays: ``first`` (input order, default), ``longest``, or a field
        name (highest numeric value wins; ties go to the earlier document).
    levels: which duplicate levels are detected (default: every level this version has).
    drop: which detected levels are removed from kept.jsonl (default ``exact,near``); a detected
        level not in ``drop`` is reported in clusters.jsonl and its documents kept.
    repair: run the repair stage (default True).
    drop_empty: drop documents whose text is empty or whitespace (default True for scan).
    max_doc_bytes: a document larger than this (UTF-8 bytes) is quarantined, not processed
        (default 16 MiB: larger "documents" in text corpora are nearly always concatenation errors).
    near_threshold: a document is a near copy of the kept one when its similarity is at least this
        (default 0.7, word 5-gram Jaccard; see :mod:`retold.dedup.near`).
    near_measure: ``jaccard`` (default) or ``containment`` (share of the dropped document's shingles
        found in the kept one; catches excerpts; pair it with ``keep="longest"``).
    num_perm: MinHash permutations (default 128); ``bands``/``rows`` follow from the threshold.
    ngram: shingle length (default 5 words, or 24 characters with ``shingle="char"``).
    shingle: ``word`` (default) or ``char`` n-grams (for text without spaces between words).
    retold_threshold: a candidate pair is retold when the order gain of its sentence alignment is at
        least this (default 0.02; see :mod:`retold.dedup.semantic`).
    retold_candidate: whole-text cosine (names masked) for a pair to be verified (default 0.5).
    embedder: the static model for candidates (model2vec path or name; default distilled from
        all-MiniLM-L6-v2 on first use and cached).
    verifier: the sentence-transformers model for verification (default all-MiniLM-L6-v2).
    report: write report.html and report.json, the audit of the corpus (default True for scan).
    reference: a corpus of human writing (any input format) that stock phrases are measured
        against; without it, phrases are measured against wordfreq's word frequencies.
    lang: the corpus language for wordfreq (``auto``, default: guessed from the common words).
    audit_sample: the audit's metrics, premise clusters and phrases are computed on at most this
        many documents, spread evenly over the corpus (default 20,000; the report says so).
    """

    text_field: str = "text"
    id_field: str | None = None
    format: str | None = None
    keep: str = "first"
    levels: tuple[str, ...] = DEFAULT_LEVELS
    drop: tuple[str, ...] | None = None
    repair: bool = True
    drop_empty: bool = True
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES
    near_threshold: float = DEFAULT_NEAR_THRESHOLD
    near_measure: str = "jaccard"
    num_perm: int = DEFAULT_NUM_PERM
    ngram: int | None = None
    shingle: str = "word"
    retold_threshold: float = DEFAULT_RETOLD_THRESHOLD
    retold_candidate: float = DEFAULT_RETOLD_CANDIDATE
    embedder: str | None = None
    verifier: str | None = None
    report: bool = True
    reference: str | None = None
    lang: str = "auto"
    audit_sample: int = DEFAULT_AUDIT_SAMPLE

    def __post_init__(self) -> None:
        if self.drop is None:  # the default: the contract's dropped levels among those detected
            object.__setattr__(self, "drop", tuple(x for x in DEFAULT_DROP if x in self.levels))
        for name in ("levels", "drop"):
            value = getattr(self, name)
            for level in value:
                if level not in LEVELS:
                    raise BadOption(
                        f"unknown level {level!r} in {name}; expected some of {', '.join(LEVELS)}"
                    )
                if level not in AVAILABLE_LEVELS:
                    raise BadOption(
                        f"level {level!r} is not available in this version of retold "
                        f"(available: {', '.join(AVAILABLE_LEVELS)})"
                    )
        if not self.text_field:
            raise BadOption("--text-field must not be empty")
        if not 1 <= self.max_doc_bytes <= MAX_DOC_BYTES_LIMIT:
            raise BadOption(
                f"--max-doc-bytes must be between 1 and {MAX_DOC_BYTES_LIMIT}, got {self.max_doc_bytes}"
            )
        if self.audit_sample < 1:
            raise BadOption(f"--audit-sample must be at least 1, got {self.audit_sample}")
        if not self.keep:
            raise BadOption("--keep must be first, longest or a field name")
        for name in self.drop or ():
            if name not in self.levels:
                raise BadOption(f"--drop {name} needs {name} in --levels too")
        try:
            self.near_options()
            self.retold_options()
        except ValueError as exc:
            raise BadOption(str(exc)) from None

    def near_options(self) -> NearOptions:
        """The near level's options (imported here so exact-only runs stay light)."""
        from retold.dedup.near import NearOptions

        return NearOptions(
            threshold=self.near_threshold,
            measure=self.near_measure,
            num_perm=self.num_perm,
            ngram=self.ngram,
            unit=self.shingle,
        )

    def retold_options(self) -> RetoldOptions:
        """The retold level's options (importing no model)."""
        from retold.dedup.semantic import RetoldOptions

        return RetoldOptions(
            threshold=self.retold_threshold,
            candidate_threshold=self.retold_candidate,
            embedder=self.embedder,
            verifier=self.verifier,
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["levels"] = list(self.levels)
        out["drop"] = list(self.drop or ())
        return out
