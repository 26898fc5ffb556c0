"""Premise clusters: adjusted Rand index against the prompt, as the corpus grows, and the cost.

Quality (ARI against each story's prompt, a story left alone counting as its own group), this code
beside the method it replaced (``--before``, default ``0526e2e``: TF-IDF + LSA-128, average
linkage at cosine distance 0.7 on a sample of 4,000, loaded from git) in the same run:

* HANNA (672 stories, 96 prompts × 7) and slopscore_stories (3,035 stories, 150 prompts × ~20),
  the latter split into creative prompts (ids < 150) and essay prompts (ids >= 150, which give
  every model a detailed summary);
* a size curve: HANNA, then HANNA + NT chapters + slopscore_stories by 6, 11 and 22 models a
  prompt, then the same with every slopscore story told again with its names swapped (7,314
  documents, premises of ~44); ARI is reported per part, so a part that falls as others are added
  shows.

Cost (``--size N``): N documents of real text (variants of the labelled stories: a random 60-90%
of a story's sentences in order), premise clusters as the report computes them (fitted on an even
sample, every document labelled, read in blocks), in a fresh process: wall time, peak RSS of the
process (and of the clustering alone, above what holding the texts costs), and the ARI against the
variants' prompts and source stories.

Streamed (``--stream N``): the same documents made one block at a time from their number, so the
benchmark holds no texts: wall time and peak RSS at a million.

    .venv/bin/python benchmarks/bench_premise.py [--size 100000] [--stream 1000000] [--before REF]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import DATA, PEAK_RSS, ROOT, read_jsonl, require

COST = (
    PEAK_RSS
    + """
import json, sys, time
import numpy as np
from retold.audit import premise
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
base = peak_rss_mb()
t = time.perf_counter()
n = len(texts)
sample = [texts[int(i)] for i in premise.sample_positions(n, premise.PREMISE_FIT)]
blocks = (texts[lo : lo + 10000] for lo in range(0, n, 10000))
r = premise.cluster_stream(sample, blocks, n, lambda pos: {p: texts[p] for p in pos}, str, lang="en")
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": peak_rss_mb(), "texts_mb": base, "labels": r.labels.tolist(),
                  "clusters": len(r.clusters)}))
"""
)


STREAM = (
    PEAK_RSS
    + """
import json, sys, time
sys.path.insert(0, "benchmarks")
from bench_premise import Variants
from retold.audit import premise
n = int(sys.argv[1])
v = Variants()
base = peak_rss_mb()
t = time.perf_counter()
sample = [v.text(int(i)) for i in premise.sample_positions(n, premise.PREMISE_FIT)]
blocks = ([v.text(i) for i in range(lo, min(n, lo + 10000))] for lo in range(0, n, 10000))
r = premise.cluster_stream(sample, blocks, n, lambda pos: {p: v.text(p) for p in pos}, str, lang="en")
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": peak_rss_mb(), "base_mb": base, "clusters": len(r.clusters),
                  "alone": int((r.labels < 0).sum())}))
"""
)


class Variants:
    """Document i (of any number): a random 60-90% of a labelled story's sentences, in order, made
    from i alone, so a million documents need not be held (the streamed cost at 1M)."""

    def __init__(self) -> None:
        rows = corpora()["hanna+nt+slop(22 models)"]
        self.prompts = [y for _, y, _ in rows]
        self.sentences = [re.split(r"(?<=[.!?])\s+", t) for t, _, _ in rows]

    def source(self, i: int) -> int:
        return random.Random(i).randrange(len(self.sentences))

    def text(self, i: int) -> str:
        rng = random.Random(i)
        sentences = self.sentences[rng.randrange(len(self.sentences))]
        keep = [s for s in sentences if rng.random() < rng.uniform(0.6, 0.9)] or sentences[:1]
        return " ".join(keep)


def measured(script: str, arg: str) -> dict:
    """The last JSON line a fresh process running ``script`` prints."""
    proc = subprocess.run(
        [sys.executable, "-c", script, arg], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def streamed_cost(size: int) -> None:
    run = measured(STREAM, str(size))
    print(
        f"{size:,} documents made one block at a time (never all held): {run['wall']:.1f} s "
        f"({1e6 * run['wall'] / size:.0f} µs a document), peak RSS {run['rss_mb']:.0f} MB "
        f"({run['base_mb']:.0f} MB before: the stories the documents are made from), "
        f"{run['clusters']:,} clusters, {run['alone']:,} alone, every document labelled"
    )


def ari(truth: list[str], labels: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    labels = np.asarray(labels).copy()
    alone = labels < 0
    labels[alone] = labels.max() + 1 + np.arange(alone.sum())
    return float(adjusted_rand_score(truth, labels))


def before_module(ref: str):  # type: ignore[no-untyped-def]
    """The premise module as it was at ``ref`` (for the side-by-side figures)."""
    source = subprocess.run(
        ["git", "show", f"{ref}:src/retold/audit/premise.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "premise_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("premise_before", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["premise_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def swap_names(text: str, rng: random.Random) -> str:
    from bench_scale import swap_names as swap

    return swap(text, rng) or text


def corpora() -> dict[str, list[tuple[str, str, str]]]:
    """Labelled parts: name -> [(text, truth, part)]."""
    hanna = read_jsonl(require(DATA / "hanna_stories" / "stories.jsonl"))
    slop = read_jsonl(require(DATA / "slopscore_stories" / "stories.jsonl.gz"))
    nt = read_jsonl(require(DATA / "nt_translations" / "chapters.jsonl.gz"))
    models = sorted({r["model"] for r in slop})
    kind = lambda r: "slop/creative" if int(r["prompt_id"]) < 150 else "slop/essay"  # noqa: E731
    h = [(r["text"], f"h{r['prompt_id']}", "hanna") for r in hanna]
    n = [(r["text"], f"n{r['book']}:{r['chapter']}", "nt") for r in nt]

    def s(m: int) -> list[tuple[str, str, str]]:
        return [(r["text"], f"s{r['prompt_id']}", kind(r)) for r in slop if r["model"] in models[:m]]

    rng = random.Random(0)
    swapped = [(swap_names(t, rng), y, p + "/swapped") for t, y, p in s(22)]
    return {
        "hanna": h,
        "slopscore_stories": s(22),
        "hanna+nt+slop(6 models)": h + n + s(6),
        "hanna+nt+slop(11 models)": h + n + s(11),
        "hanna+nt+slop(22 models)": h + n + s(22),
        "hanna+nt+slop(22)+slop names swapped": h + n + s(22) + swapped,
    }


def quality(before_ref: str) -> None:
    from retold.audit import premise

    before = before_module(before_ref)
    print(f"ARI against the prompt (this code | before = {before_ref})")
    for name, rows in corpora().items():
        texts = [t for t, _, _ in rows]
        truth = np.array([y for _, y, _ in rows])
        parts = np.array([p for _, _, p in rows])
        t = time.perf_counter()
        ours = premise.cluster(texts, [str(i) for i in range(len(texts))], lang="en").labels
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        old = before.cluster(texts, [str(i) for i in range(len(texts))], lang="en").labels
        t_old = time.perf_counter() - t
        cells = []
        for part in sorted(set(parts.tolist())) + (["slop/all"] if any("slop" in p for p in parts) else []):
            mask = np.char.startswith(parts, "slop") if part == "slop/all" else parts == part
            cells.append(f"{part} {ari(truth[mask], ours[mask]):.3f} | {ari(truth[mask], old[mask]):.3f}")
        print(f"  {name} ({len(texts):,} documents; {t_ours:.1f} s | {t_old:.1f} s): " + "; ".join(cells))


def cost(size: int) -> None:
    v = Variants()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(size):
                fh.write(json.dumps({"text": v.text(i)}, ensure_ascii=False) + "\n")
        run = measured(COST, str(path))
    story = [v.source(i) for i in range(size)]
    labels = np.array(run["labels"])
    print(
        f"{size:,} documents (variants of the labelled stories): {run['wall']:.1f} s, "
        f"peak RSS {run['rss_mb']:.0f} MB ({run['rss_mb'] - run['texts_mb']:.0f} MB above the texts "
        f"held by the benchmark), {run['clusters']:,} clusters, every document labelled, "
        f"ARI against the source prompt {ari([v.prompts[s] for s in story], labels):.3f}, against the "
        f"source story {ari([str(s) for s in story], labels):.3f} (~{size // len(v.prompts)} variants a "
        "story: each story's variants are closer to each other than to other stories on its prompt)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="*", default=[], help="cost at these sizes")
    parser.add_argument("--stream", type=int, nargs="*", default=[], help="streamed cost at these sizes (1M)")
    parser.add_argument("--before", default="0526e2e", help="git ref of the method to compare with")
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()
    if not args.no_quality:
        quality(args.before)
    for size in args.size:
        cost(size)
    for size in args.stream:
        streamed_cost(size)


if __name__ == "__main__":
    main()
