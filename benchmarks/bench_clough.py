"""Near copies on real plagiarism: Clough & Stevenson's 95 answers and 5 sources, scanned as one corpus.

Positives: answers written by cut-and-paste or light revision of the source (38); negatives: heavy
revision or written without the source (57). An answer counts as found when the scan puts it in
its source's near cluster (dropped with the source as ``kept_id``, since the sources come first
in the corpus). Each setting is a real ``retold.scan`` (LSH, verification, clusters), for Jaccard
and for containment, over a threshold sweep, with word 5-grams (the default) and 3-grams.

    make bench-clough        (or: .venv/bin/python benchmarks/bench_clough.py)
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

import retold
from _common import DATA, read_jsonl, require
from retold.dedup.minhash import MinHasher

POSITIVE = {"cut", "light"}
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    folder = require(DATA / "clough_plagiarism")
    sources = read_jsonl(folder / "sources.jsonl")
    answers = read_jsonl(folder / "pairs.jsonl")
    tmp = Path(tempfile.mkdtemp(prefix="retold-clough-"))
    corpus = tmp / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for s in sources:
            fh.write(json.dumps({"id": f"source-{s['task']}", "text": s["text"]}) + "\n")
        for a in answers:
            fh.write(json.dumps({"id": a["file"], "text": a["text"], "category": a["category"]}) + "\n")
    truth = {a["file"]: (a["category"] in POSITIVE, f"source-{a['task']}") for a in answers}
    n_pos = sum(p for p, _ in truth.values())
    print(f"{len(sources)} sources + {len(answers)} answers; positives (cut+light) {n_pos}, ")
    print(f"negatives (heavy+non) {len(answers) - n_pos}. found = in its source's near cluster.\n")
    print(
        f"{'measure':12} {'ngram':>5} {'threshold':>9} {'precision':>9} {'recall':>6} {'F1':>5}  found/flagged"
    )
    best: dict[str, tuple[float, float]] = {}
    for measure in ("jaccard", "containment"):
        for ngram in (5, 3):
            for threshold in THRESHOLDS:
                out = tmp / f"{measure}-{ngram}-{threshold}"
                result = retold.scan(
                    corpus, out=out, near_measure=measure, near_threshold=threshold, ngram=ngram
                )
                cluster_of = {
                    m["id"]: m["cluster_id"] for m in result.cluster_members() if m["level"] == "near"
                }
                flagged = {
                    doc
                    for doc, (_, source) in truth.items()
                    if doc in cluster_of and cluster_of[doc] == cluster_of.get(source)
                }
                tp = sum(1 for doc in flagged if truth[doc][0])
                precision = tp / len(flagged) if flagged else 1.0
                recall = tp / n_pos
                f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
                default = " (default)" if (measure, ngram, threshold) == ("jaccard", 5, 0.7) else ""
                print(
                    f"{measure:12} {ngram:>5} {threshold:>9.1f} {precision:>9.3f} {recall:>6.3f} {f1:>5.3f}"
                    f"  {tp}/{len(flagged)}{default}"
                )
                key = f"{measure}, word {ngram}-grams"
                if f1 > best.get(key, (0.0, 0.0))[0]:
                    best[key] = (f1, threshold)
            print()
    for key, (f1, threshold) in best.items():
        print(f"best F1 {key}: {f1:.3f} at threshold {threshold}")

    # what LSH costs: the same measures computed exactly on every (answer, its source) pair
    print("\nexact scores of every (answer, source) pair, no LSH: recall at each threshold")
    source_text = {f"source-{s['task']}": s["text"] for s in sources}
    for ngram in (5, 3):
        hasher = MinHasher(ngram=ngram)
        scores = {"jaccard": {}, "containment": {}}
        for a in answers:
            x, y = hasher.sketch(a["text"]), hasher.sketch(source_text[f"source-{a['task']}"])
            inter = len(np.intersect1d(x.shingles, y.shingles, assume_unique=True))
            scores["jaccard"][a["file"]] = inter / (len(x.shingles) + len(y.shingles) - inter)
            scores["containment"][a["file"]] = inter / len(x.shingles)
        for measure, by_doc in scores.items():
            cells = []
            for threshold in THRESHOLDS:
                hit = [d for d, v in by_doc.items() if v >= threshold]
                tp = sum(1 for d in hit if truth[d][0])
                cells.append(f"{threshold:.1f}: P {tp / len(hit) if hit else 1:.2f} R {tp / n_pos:.2f}")
            print(f"  {measure:12} {ngram}-grams  " + " | ".join(cells))


if __name__ == "__main__":
    main()
