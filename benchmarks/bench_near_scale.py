"""Near copies at scale: a synthetic corpus built from real stories, with planted edits at known Jaccard.

Documents: sentence mosaics of the real stories in ../shared/data (tinystories_ru and HANNA):
each base document is 6-12 sentences drawn at random from the pool. 10% of the documents are
near copies of an earlier base document, with random words replaced at the rate that gives a
target word 5-gram Jaccard drawn uniformly from [0.5, 1.0]; the true Jaccard is then measured
exactly in Python (``retold.dedup.minhash.words``, sets of 5-word tuples).

Scored against the default threshold (0.7): recall = planted pairs with true J ≥ 0.7 whose copy
ends in its original's near cluster (or exact cluster: a copy whose edits all missed is exact); precision = reported pairs (a dropped document and its
``kept_id``) whose true Jaccard is ≥ 0.7. Wall time and peak RSS of a whole ``retold scan``
(read, repair, exact, near, outputs) in a fresh process, per size.

    .venv/bin/python benchmarks/bench_near_scale.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

from _common import DATA, PEAK_RSS, ROOT, read_jsonl, require
from retold.dedup.minhash import words

THRESHOLD = 0.7
N = 5
SCAN = (
    PEAK_RSS
    + """
import sys, time, json
import retold
t = time.perf_counter()
r = retold.scan(sys.argv[1], out=sys.argv[2])
wall = time.perf_counter() - t
s = json.load(open(sys.argv[2] + "/summary.json"))
print(json.dumps({"wall": wall, "docs": r.documents_in, "dropped": r.dropped, "timings": s["timings"],
                  "near": s["levels"]["near"],
                  "rss_mb": peak_rss_mb()}))
"""
)


def shingles(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + N]) for i in range(len(w) - N + 1)} or {tuple(w)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def sentence_pool(single: bool = False) -> list[str]:
    """Sentences of tinystories_ru and HANNA (4+ words). ``single``: cut as retold cuts them
    (after closing quotes too), so that two mosaics never share a run of sentences by chance."""
    texts = [r["story"] for r in read_jsonl(require(DATA / "tinystories_ru" / "stories.jsonl.gz"))]
    texts += [r["text"] for r in read_jsonl(require(DATA / "hanna_stories" / "stories.jsonl"))]
    if single:
        from retold.text import sentences

        pool = [s.strip() for t in texts for s in sentences(t) if len(s.split()) >= 4]
    else:
        pool = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 4]
    return sorted(set(pool))


def edit(text: str, target: float, rng: random.Random, vocab: list[str]) -> str:
    w = text.split()
    q = 2 * target / (1 + target)  # share of shingles kept for Jaccard = target
    rate = 1 - q ** (1 / N)
    for i in range(len(w)):
        if rng.random() < rate:
            w[i] = rng.choice(vocab)
    return " ".join(w)


def build(size: int, pool: list[str], path: Path, seed: int = 0) -> dict[str, tuple[str, float]]:
    """Write the corpus; return planted copy id → (original id, true Jaccard)."""
    rng = random.Random(seed)
    vocab = sorted({w for s in pool[:20000] for w in s.split()})
    texts: list[str] = []
    planted: dict[str, tuple[str, float]] = {}
    with zstandard.open(path, "wt", encoding="utf-8", cctx=zstandard.ZstdCompressor(level=1)) as fh:
        for i in range(size):
            if i > 100 and rng.random() < 0.10:
                j = rng.randrange(len(texts))
                while f"d{j}" in planted:
                    j = rng.randrange(len(texts))
                text = edit(texts[j], rng.uniform(0.5, 1.0), rng, vocab)
                planted[f"d{i}"] = (f"d{j}", jaccard(texts[j], text))
            else:
                text = " ".join(rng.sample(pool, rng.randint(6, 12)))
            texts.append(text)
            fh.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    build.texts = texts  # type: ignore[attr-defined]
    return planted


def score(
    out: Path, planted: dict[str, tuple[str, float]], texts: list[str]
) -> tuple[float, float, int, int]:
    cluster: dict[str, dict[str, str]] = {"near": {}, "exact": {}}
    with open(out / "clusters.jsonl", encoding="utf-8") as fh:
        for line in fh:
            m = json.loads(line)
            cluster[m["level"]][m["id"]] = m["cluster_id"]
    pairs = []
    with open(out / "dropped.jsonl", encoding="utf-8") as fh:
        for line in fh:
            note = json.loads(line)["retold"]
            if note["reason"] == "near":
                pairs.append((note["id"], note["kept_id"]))
    text = {f"d{i}": t for i, t in enumerate(texts)}
    correct = sum(1 for a, b in pairs if jaccard(text[a], text[b]) >= THRESHOLD)
    above = [(c, o) for c, (o, j) in planted.items() if j >= THRESHOLD]
    found = sum(  # copies left unedited (J = 1) are exact copies: found by the exact level
        1 for c, o in above if any(c in cl and cl[c] == cl.get(o) for cl in cluster.values())
    )
    return correct / max(1, len(pairs)), found / max(1, len(above)), len(pairs), len(above)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "retold-bench-scale",
        help="where corpora are built, and reused by later runs (same size, same seed)",
    )
    args = parser.parse_args()
    pool = sentence_pool()
    print(f"sentence pool: {len(pool):,} sentences from tinystories_ru + HANNA\n")
    # one small scan first, so numba's on-disk cache is warm and no measured run pays the
    # one-off compilation (about 60 MB of RSS and a few seconds on a fresh install)
    warm = args.work / "warm-up"
    warm.mkdir(parents=True, exist_ok=True)
    (warm / "c.jsonl").write_text(json.dumps({"id": "a", "text": "one two three four five six"}) + "\n")
    subprocess.run(
        [sys.executable, "-c", SCAN, str(warm / "c.jsonl"), str(warm / "out")],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    for size in args.sizes:
        tmp = args.work / f"{size}-seed0"
        corpus, planted_path = tmp / "corpus.jsonl.zst", tmp / "planted.json"
        t = time.perf_counter()
        if corpus.exists() and planted_path.exists():
            planted = {k: (o, j) for k, (o, j) in json.loads(planted_path.read_text()).items()}
            with zstandard.open(corpus, "rt", encoding="utf-8") as fh:
                texts = [json.loads(line)["text"] for line in fh]
            print(f"{size:,} documents reused from {tmp}")
        else:
            tmp.mkdir(parents=True, exist_ok=True)
            planted = build(size, pool, corpus)
            planted_path.write_text(json.dumps(planted))
            texts = build.texts  # type: ignore[attr-defined]
            print(
                f"{size:,} documents built in {time.perf_counter() - t:.0f} s "
                f"({corpus.stat().st_size >> 20} MB zstd) in {tmp}"
            )
        shutil.rmtree(tmp / "out", ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-c", SCAN, str(corpus), str(tmp / "out")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        precision, recall, reported, above = score(tmp / "out", planted, texts)
        print(
            f"  scan: {run['wall']:.1f} s, {run['docs'] / run['wall']:,.0f} docs/s, "
            f"{1e6 * run['wall'] / run['docs']:.0f} µs/doc, peak RSS {run['rss_mb']:.0f} MB; "
            f"timings {run['timings']}"
        )
        near = run["near"]
        print(
            f"  near: {near['candidate_pairs']:,} candidate pairs, {near['verified_pairs']:,} verified, "
            f"{near['dropped']:,} dropped, largest cluster {near['largest_cluster']}, "
            f"largest chained component {near['largest_chained_component']}"
        )
        print(
            f"  planted pairs with true J >= {THRESHOLD}: {above:,}; recall {recall:.4f}; "
            f"reported pairs {reported:,}; precision {precision:.4f}\n"
        )


if __name__ == "__main__":
    main()
