"""`retold audit --group-by`: the leaderboard on real corpora, its agreement with slop-score's own
published ranking, and its cost.

* slop-score stories grouped by ``model`` (3,035 stories, 22 models): the table, the most and least
  diverse, and Spearman's rank correlation between each of our columns and the slop-score project's
  own per-model figures (:data:`SLOP_SCORE`);
* HANNA grouped by ``author``: where the human stories rank;
* the cost (wall, peak RSS of the ``retold audit`` process) on both, and on 100,000 documents made
  from the slop-score stories, grouped by its model: a random 60-90% of a story's sentences
  (``variants``) or 1-3 consecutive paragraphs of a story (``windows``).

    .venv/bin/python benchmarks/bench_groups.py [--size 100000] [--skip-large | --only-large]
        [--large-levels L] [--large-kind variants|windows]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scipy.stats import spearmanr

from retold.audit.groups import COLUMNS as GROUP_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SLOP = DATA / "slopscore_stories" / "stories.jsonl.gz"
HANNA = DATA / "hanna_stories" / "stories.jsonl"

#: slop-score's per-model figures (github.com/sam-paech/slop-score, MIT): data/leaderboard_results.json
#: at commit 66289626ed75fbb29d72078c91f6842ac9dd5470 (generated 2025-11-07), the composite score as its
#: page slop-score.html computes it (0.6 slop words + 0.25 not-x-but-y + 0.15 trigrams, each scaled over
#: the 23 rows, human baseline included). Higher = more slop. Columns: score, slop-list words per 1k
#: words, slop trigrams per 1k words, "not x but y" per 1k characters. Their figures come from up to 300
#: outputs a model; our file holds the even-numbered prompts (about half of them).
SLOP_SCORE = {
    "google/gemma-3-4b-it": (85.2, 40.44, 0.586, 0.811),
    "google/gemini-2.5-flash": (77.6, 40.16, 0.951, 0.386),
    "google/gemma-3-12b-it": (70.6, 36.35, 0.998, 0.308),
    "google/gemma-3-27b-it": (69.5, 32.27, 0.782, 0.577),
    "deepseek/deepseek-r1": (67.9, 40.16, 0.700, 0.137),
    "qwen/qwen3-4b": (62.2, 23.63, 0.880, 0.722),
    "z-ai/glm-4.5": (59.9, 28.45, 0.790, 0.424),
    "inclusionai/ling-1t": (56.2, 22.92, 0.286, 0.801),
    "mistralai/mistral-nemo": (54.4, 26.41, 1.011, 0.230),
    "deepseek/deepseek-v3.2-exp": (54.2, 23.95, 0.522, 0.569),
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506": (52.7, 26.05, 1.093, 0.151),
    "meta-llama/llama-4-maverick": (49.2, 23.73, 1.125, 0.130),
    "openai/chatgpt-4o-latest": (47.7, 23.26, 0.794, 0.245),
    "openai/gpt-5-nano": (34.1, 16.92, 0.288, 0.303),
    "openai/o3": (31.8, 19.89, 0.228, 0.086),
    "openrouter/polaris-alpha": (30.8, 17.21, 0.226, 0.193),
    "claude-sonnet-4-20250514": (27.3, 13.53, 0.328, 0.214),
    "openai/gpt-5-mini": (26.3, 15.44, 0.205, 0.129),
    "moonshotai/kimi-k2": (23.7, 12.95, 0.135, 0.196),
    "sam-paech/gemma-3-27b-it-antislop": (20.8, 5.61, 0.176, 0.459),
    "claude-sonnet-4-5": (19.5, 9.72, 0.229, 0.171),
    "moonshotai/kimi-k2-0905": (18.3, 10.12, 0.078, 0.174),
}
#: The groups' columns this prints: the per-group metrics of ``retold.audit.groups`` (not the copy
#: shares and premise coverage, printed apart).
COLUMNS = tuple(c for c in GROUP_COLUMNS if c not in ("within_share", "across_share", "premise_coverage"))

AUDIT = """
import json, resource, sys, time
import retold
t = time.perf_counter()
levels = sys.argv[4] if len(sys.argv) > 4 else None
retold.audit(sys.argv[1], out=sys.argv[2], group_by=sys.argv[3], levels=levels, quiet=True)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def audited(corpus: Path, out: Path, field: str, levels: str | None = None) -> tuple[dict, dict]:
    """(the groups of report.json, {wall, rss_mb}) of ``retold audit CORPUS --group-by FIELD`` in a
    fresh process (``levels``: its --levels; None, the default levels)."""
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, str(corpus), str(out), field, *([levels] if levels else [])],
        capture_output=True,
        text=True,
        check=True,
    )
    cost = json.loads(proc.stdout.strip().splitlines()[-1])
    return json.loads((out / "report.json").read_text())["audit"]["groups"], cost


def table(groups: dict) -> None:
    print(
        f"  sorted by {groups['sorted_by']} ({'higher' if groups['higher_is_more_diverse'] else 'lower'} = more "
        f"diverse first); size-dependent columns on {groups['sample_size']} documents a group"
    )
    print(
        f"  {'#':>2} {'group':46} {'docs':>5} "
        + " ".join(f"{c[:11]:>11}" for c in COLUMNS)
        + "  within  across  premises"
    )
    for r in groups["rows"]:
        cells = " ".join(f"{r.get(c) if r.get(c) is not None else '-':>11}" for c in COLUMNS)
        print(
            f"  {r['rank']:>2} {r['group'][:46]:46} {r['documents']:>5} {cells}  {r['within_share']:>6} "
            f"{r['across_share']:>7} {r['premises_reached']:>9}"
        )


def agreement(groups: dict) -> None:
    """Spearman's rho between each column and slop-score's figures, over the models both have."""
    rows = {r["group"]: r for r in groups["rows"]}
    models = [m for m in SLOP_SCORE if m in rows]
    print(f"  Spearman rho against slop-score's figures ({len(models)} models; + = ranks alike):")
    theirs = {
        "score": [SLOP_SCORE[m][0] for m in models],
        "slop words": [SLOP_SCORE[m][1] for m in models],
        "trigrams": [SLOP_SCORE[m][2] for m in models],
        "not x but y": [SLOP_SCORE[m][3] for m in models],
    }
    for column in COLUMNS:
        ours = [rows[m].get(column) for m in models]
        cells = []
        for name, values in theirs.items():
            rho, p = spearmanr(ours, values)
            cells.append(f"{name} {rho:+.2f} (p {p:.3f})")
        print(f"    {column:16} " + "; ".join(cells))


def variants(size: int, path: Path) -> None:
    """``size`` documents, each a random 60-90% of a slop-score story's sentences, with its model."""
    with gzip.open(SLOP, "rt", encoding="utf-8") as fh:
        stories = [json.loads(line) for line in fh]
    split = [re.split(r"(?<=[.!?])\s+", s["text"]) for s in stories]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(size):
            rng = random.Random(i)
            k = rng.randrange(len(stories))
            keep = [s for s in split[k] if rng.random() < rng.uniform(0.6, 0.9)] or split[k][:1]
            fh.write(json.dumps({"text": " ".join(keep), "model": stories[k]["model"]}) + "\n")


def windows(size: int, path: Path) -> None:
    """``size`` documents, each 1-3 consecutive paragraphs (of 200+ characters) of a slop-score
    story, with its model: a corpus of paragraph-length training text (~1,000 characters), where
    windows of one story overlap as scraped chunks do."""
    with gzip.open(SLOP, "rt", encoding="utf-8") as fh:
        stories = [json.loads(line) for line in fh]
    paragraphs = [[p.strip() for p in s["text"].split("\n\n") if len(p.strip()) >= 200] for s in stories]
    usable = [k for k, ps in enumerate(paragraphs) if ps]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(size):
            rng = random.Random(i)
            k = usable[rng.randrange(len(usable))]
            start = rng.randrange(len(paragraphs[k]))
            text = "\n\n".join(paragraphs[k][start : start + rng.randint(1, 3)])
            fh.write(json.dumps({"text": text, "model": stories[k]["model"]}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--only-large", action="store_true")
    parser.add_argument(
        "--large-levels",
        default="exact,near",
        help="--levels of the large audit (the default levels' retold level on 100k variants of long "
        "stories, ~33 retellings each, ran past 17 minutes and 19 GB: docs/benchmarks.md)",
    )
    parser.add_argument(
        "--large-kind",
        choices=("variants", "windows"),
        default="variants",
        help="the large corpus: variants of whole stories (60-90%% of a story's sentences) or windows "
        "of 1-3 paragraphs",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.only_large:
            groups, cost = audited(SLOP, work / "slop", "model")
            print(f"slop-score stories by model: {cost['wall']:.1f} s, peak RSS {cost['rss_mb']:.0f} MB")
            table(groups)
            print(f"  most diverse: {groups['rows'][0]['group']}; least: {groups['rows'][-1]['group']}")
            agreement(groups)
            groups, cost = audited(HANNA, work / "hanna", "author")
            human = next(r["rank"] for r in groups["rows"] if r["group"] == "Human")
            print(
                f"HANNA by author: {cost['wall']:.1f} s, peak RSS {cost['rss_mb']:.0f} MB; Human ranks {human} of {len(groups['rows'])}"
            )
            table(groups)
        if not args.skip_large:
            corpus = work / "variants.jsonl"
            t = time.perf_counter()
            (variants if args.large_kind == "variants" else windows)(args.size, corpus)
            made = time.perf_counter() - t
            groups, cost = audited(corpus, work / "large", "model", args.large_levels)
            print(
                f"{args.size:,} documents (slop-score story {args.large_kind}, made in {made:.0f} s) by model, "
                f"--levels {args.large_levels}: {cost['wall']:.1f} s, peak RSS {cost['rss_mb']:.0f} MB"
            )
            table(groups)


if __name__ == "__main__":
    main()
