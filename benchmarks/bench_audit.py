"""The audit on labelled data: premise clusters, stock phrases, compare, the seeds; time and memory.

Sections (``--only NAME`` runs one):

* ``premise``: HANNA's 672 stories (96 prompts × 7 authors): premise clusters against ``prompt_id``,
  adjusted Rand index (goal ≥ 0.5); each unclustered story counts as its own group.
* ``density``: per-document stock-phrase density separating HANNA's LLM stories from the human
  ones, ROC-AUC (goal ≥ 0.8). The reference is the human stories *of other prompts*: the prompts
  are split in two halves; each half's stories are audited against the other half's human stories.
* ``compare``: ``retold compare`` of HANNA's 96 human stories against its 576 LLM stories (each
  audited on 96, evenly spread): which metrics separate them.
* ``seeds``: ``retold scan ../shared/seeds``: the stock phrases the report names.
* ``cost``: ``retold audit`` of the 14,753 tinystories_ru stories in a subprocess: wall time and peak
  RSS (the child's VmHWM), with the audit's own timings.

    make bench-audit        (or: .venv/bin/python benchmarks/bench_audit.py [--only premise])
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import retold
from _common import DATA, PEAK_RSS, SHARED, read_jsonl, require


def hanna() -> list[dict]:
    return read_jsonl(require(DATA / "hanna_stories" / "stories.jsonl"))


def premise(tmp: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    from retold.audit.premise import PREMISE_RESOLUTION, cluster

    rows = hanna()
    t = time.perf_counter()
    result = cluster([r["text"] for r in rows], [str(i) for i in range(len(rows))])
    wall = time.perf_counter() - t
    labels = result.labels.copy()
    alone = labels < 0
    labels[alone] = 1_000_000 + np.flatnonzero(alone)
    ari = adjusted_rand_score([r["prompt_id"] for r in rows], labels)
    print(
        f"premise: HANNA {len(rows)} stories, 96 prompts: {len(result.clusters)} clusters hold "
        f"{int((~alone).sum())} stories; ARI vs prompt_id {ari:.3f} (goal >= 0.7; resolution {PREMISE_RESOLUTION}; more corpora and sizes: bench_premise.py); {wall:.1f} s"
    )
    for c in result.clusters[:5]:
        print(f"  {c['size']:>3}  {', '.join(c['label'])}")


def density(tmp: Path) -> None:
    from sklearn.metrics import roc_auc_score

    from retold.audit.phrases import find

    rows = hanna()
    prompts = sorted({r["prompt_id"] for r in rows})
    halves = (set(prompts[::2]), set(prompts[1::2]))
    score = np.full(len(rows), np.nan)
    for part in halves:
        idx = [i for i, r in enumerate(rows) if r["prompt_id"] in part]
        reference = [r["text"] for r in rows if r["prompt_id"] not in part and not r["is_llm"]]
        stock = find([rows[i]["text"] for i in idx], reference=reference, lang="en")
        score[idx] = stock.density
        print(
            f"  half of {len(part)} prompts: {len(stock.phrases)} stock phrases, e.g. "
            + "; ".join(p["phrase"] for p in stock.phrases[:8])
        )
    llm = np.array([r["is_llm"] for r in rows])
    auc = roc_auc_score(llm, np.nan_to_num(score))
    print(
        f"density: stock-phrase density, LLM ({llm.sum()}) vs human ({(~llm).sum()}) stories, reference = "
        f"human stories of the other prompts: ROC-AUC {auc:.3f} (goal >= 0.8)"
    )
    print(
        f"  mean density per 1,000 words: LLM {np.nanmean(score[llm]):.1f}, human {np.nanmean(score[~llm]):.1f}"
    )


def compare(tmp: Path) -> None:
    rows = hanna()
    a, b = tmp / "human.jsonl", tmp / "llm.jsonl"
    for path, want in ((a, False), (b, True)):
        with open(path, "w", encoding="utf-8") as fh:
            for i, r in enumerate(rows):
                if r["is_llm"] == want:
                    fh.write(json.dumps({"id": f"h{i}", "text": r["text"]}) + "\n")
    t = time.perf_counter()
    result = retold.compare(a, b, tmp / "compare")
    print(
        f"compare: A = HANNA human (96), B = HANNA LLM (576; audited on 96 evenly spread); {time.perf_counter() - t:.0f} s"
    )
    print(result.table())
    print("  phrases B (LLM) uses more than A: " + "; ".join(p["phrase"] for p in result.phrases_b[:12]))


def seeds(tmp: Path) -> None:
    retold.scan(require(SHARED / "seeds"), out=tmp / "seeds", levels="exact,near,retold")
    report = json.loads((tmp / "seeds" / "report.json").read_text(encoding="utf-8"))
    print(
        "seeds: stock phrases named in report.html: "
        + "; ".join(p["phrase"] for p in report["audit"]["stock"]["phrases"][:10])
    )
    print("  stock words: " + ", ".join(w["word"] for w in report["audit"]["stock"]["words"][:12]))
    for p in report["pairs"]:
        print(f"  example pair: {p['level']} {p['id']} ~ {p['kept_id']}, names {p['names']}")


AUDIT = (
    PEAK_RSS
    + """
import sys, time, json
import retold
t = time.perf_counter()
r = retold.audit(sys.argv[1], sys.argv[2], text_field="story")
wall = time.perf_counter() - t
report = json.load(open(sys.argv[2] + "/report.json"))
print(json.dumps({"wall": wall, "docs": r.documents_in, "timings": r.timings, "rss_mb": peak_rss_mb(),
                  "metrics": report["audit"]["metrics"], "premise": report["audit"]["premise"]["clusters"],
                  "language": report["audit"]["language"]}))
"""
)


def cost(tmp: Path) -> None:
    src = require(DATA / "tinystories_ru" / "stories.jsonl.gz")
    out = subprocess.run(
        [sys.executable, "-c", AUDIT, str(src), str(tmp / "cost")], capture_output=True, text=True, check=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"cost: retold audit of {r['docs']:,} tinystories_ru stories (default levels exact,near): "
        f"{r['wall']:.1f} s ({r['docs'] / r['wall']:.0f} docs/s), peak RSS {r['rss_mb']:.0f} MB; language {r['language']}"
    )
    print("  timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in r["timings"].items()))
    print(f"  metrics: {json.dumps(r['metrics'])}; premise clusters {r['premise']}")


SECTIONS = {"premise": premise, "density": density, "compare": compare, "seeds": seeds, "cost": cost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for name, fn in SECTIONS.items():
            if args.only and name != args.only:
                continue
            print(f"\n== {name}")
            fn(Path(d))


if __name__ == "__main__":
    main()
