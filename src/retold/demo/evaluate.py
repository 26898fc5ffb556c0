"""``retold demo``: generate a corpus with planted defects, scan it, score the scan per planted kind.

Scoring is by pairs. A planted copy or retelling and its original form a true pair; every pair a
level reports (``pairs.jsonl``: all its verified pairs, not only those it dropped) is a predicted
pair. Precision = predicted pairs that are true (both members derive from the same original) /
predicted pairs; recall = planted documents that a reported pair joins with their original (or
with a copy of it) / planted documents. Mojibake is scored per document: flagged = repaired with a
mojibake fix, restored = the repaired text equals the clean text exactly.

>>> report = run_demo(Path(__import__("tempfile").mkdtemp()))  # 200 stories, seed 0: as ``make demo``
>>> [(s.kind, s.precision, s.recall) for s in report.scores if s.recall is not None]
[('exact', 1.0, 1.0), ('near', 1.0, 1.0), ('retold', 1.0, 1.0), ('mojibake', 1.0, 1.0)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from retold.config import ScanConfig
from retold.corpus.writers import AtomicWriter, write_json_atomic
from retold.demo.generator import clean_texts, generate_corpus
from retold.result import ScanResult


@dataclass
class KindScore:
    kind: str
    planted: int
    found: int | None = None  # None: the level that finds this kind is not in this version
    predicted: int | None = None
    correct: int | None = None
    note: str = ""

    @property
    def precision(self) -> float | None:
        if self.predicted is None or self.correct is None:
            return None
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float | None:
        return None if self.found is None else (self.found / self.planted if self.planted else 1.0)


@dataclass
class DemoReport:
    """Scores per planted kind, and the scan they come from."""

    scan: ScanResult
    corpus: Path
    truth: Path
    scores: list[KindScore] = field(default_factory=list)

    def table(self) -> str:
        lines = [
            f"demo corpus: {self.scan.documents_in} documents ({self.corpus}); ground truth: {self.truth}",
            f"{'planted kind':14} {'planted':>7} {'precision':>9} {'recall':>7}  note",
        ]
        for s in self.scores:
            p = "-" if s.precision is None else f"{s.precision:.3f}"
            r = "-" if s.recall is None else f"{s.recall:.3f}"
            lines.append(f"{s.kind:14} {s.planted:>7} {p:>9} {r:>7}  {s.note}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            s.kind: {"planted": s.planted, "precision": s.precision, "recall": s.recall, "note": s.note}
            for s in self.scores
        }


def run_demo(out: Path, stories: int = 200, seed: int = 0, quiet: bool = True) -> DemoReport:
    out.mkdir(parents=True, exist_ok=True)
    records, truth = generate_corpus(stories, seed)
    corpus, truth_path = out / "corpus.jsonl", out / "truth.jsonl"
    with AtomicWriter(corpus) as w:
        for rec in records:
            w.write_json(rec)
    with AtomicWriter(truth_path) as w:
        for t in truth:
            w.write_json({"id": t.id, "kind": t.kind, "of": t.of, "note": t.note})
    from retold.engine.local import RunOptions, run_scan

    result = run_scan([str(corpus)], out / "scan", ScanConfig(), "scan", RunOptions(quiet=quiet))
    report = DemoReport(result, corpus, truth_path, score(result, truth, clean_texts(stories, seed)))
    write_json_atomic(out / "demo_scores.json", report.to_json())
    return report


def _is_encoding_fix(name: str) -> bool:
    """Mojibake repairs (not NFC, CRLF or control-character clean-ups, which clean text may also get)."""
    return "mojibake" in name or name == "decode_inconsistent_utf8"


def score(result: ScanResult, truth: list, clean: dict[str, str]) -> list[KindScore]:
    # a planted copy or retelling stands for its original: a pair is right when both sides do
    origin = {t.id: t.of for t in truth if t.of is not None}

    def root(doc: str) -> str:
        while doc in origin:
            doc = origin[doc]
        return doc

    dropped = list(result.dropped_records())
    kept_ids = {r["retold"]["id"]: r for r in result.kept_records()}
    by_id = {r["retold"]["id"]: r for r in dropped} | kept_ids
    scores = []

    summary = json.loads((result.out / "summary.json").read_text(encoding="utf-8"))
    detected = set(summary["options"]["levels"])
    reported: dict[str, list[tuple[str, str]]] = {}
    with open(result.out / "pairs.jsonl", encoding="utf-8") as fh:  # every verified pair
        for line in fh:
            pair = json.loads(line)
            reported.setdefault(pair["level"], []).append((pair["a"], pair["b"]))
    for kind in ("exact", "near", "retold"):
        planted = [t for t in truth if t.kind == kind]
        if kind not in detected:
            note = f"'{kind}' level not run (--levels {','.join(summary['options']['levels'])})"
            scores.append(KindScore(kind, len(planted), note=note))
            continue
        pairs = reported.get(kind, [])
        # found: a pair joins the planted document with its original (or with a copy of it, which
        # is the one kept when it comes first in the input)
        linked = {(a, root(b)) for a, b in pairs} | {(b, root(a)) for a, b in pairs}
        found = sum(1 for t in planted if (t.id, root(t.id)) in linked)
        correct = sum(1 for a, b in pairs if root(a) == root(b))
        scores.append(
            KindScore(kind, len(planted), found, len(pairs), correct, f"{kind} level: every pair it reports")
        )

    moji = [t for t in truth if t.kind == "mojibake"]
    flagged = {i for i, r in by_id.items() if any(_is_encoding_fix(f) for f in r["retold"].get("fixes", []))}
    moji_ids = {t.id for t in moji}
    restored = sum(1 for t in moji if t.id in by_id and by_id[t.id]["text"] == clean[t.id])
    scores.append(
        KindScore(
            "mojibake",
            len(moji),
            len(flagged & moji_ids),
            len(flagged),
            len(flagged & moji_ids),
            f"{restored}/{len(moji)} restored to the exact clean text",
        )
    )
    return scores
