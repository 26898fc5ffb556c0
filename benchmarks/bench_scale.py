"""One machine at full use: `retold scan` with its defaults (retold included) at 10k / 100k / 1M documents.

The corpus is built on the fly (never committed) from the real stories in ../shared/data
(tinystories_ru and HANNA; mosaics of 6-12 single sentences, cut as retold cuts them: cut only at
. ! ? a run of three quoted sentences could recur in two mosaics, and that is a retelling of a
passage), with planted defects and their ground truth:

* exact copies (3%): an earlier document again, with its whitespace and letter case changed
  (the exact level folds both);
* near copies (7%): an earlier document with random words replaced at the rate that gives a
  target word 5-gram Jaccard in [0.5, 1.0]; the true Jaccard is then measured;
* name-swapped retellings (2%): an earlier document with every name (retold's name finder)
  replaced, consistently, by another. Exact and near catch those whose word overlap stays high;
  the retold level (on by default) the rest: English-majority documents through the models, the
  others (mostly Russian) through their words (``retold.embed.lexical``).

Each size is scanned by a fresh process (``retold.scan`` with defaults: exact, near, retold and the
report, ``--workers`` auto = both cores): wall time, docs/s, µs/doc and its ratio to the smallest
size, peak RSS (VmHWM of the scan process and its workers). At the largest size, precision and recall
per planted level. ``--datatrove``: on the 100k corpus, datatrove's MinHash pipeline (signatures,
buckets, clusters, filter; local executor, one task) beside retold's near level: wall, peak RSS,
and how their removed sets agree.

    .venv/bin/python benchmarks/bench_scale.py --sizes 10000 100000 1000000 [--datatrove]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

from _common import PEAK_RSS, ROOT
from bench_near_scale import edit, jaccard, sentence_pool
from retold.dedup.names import masked
from retold.dedup.semantic import ENGLISH_SHARE, SHARE_PREFIX, english_share

SCAN = (
    PEAK_RSS
    + """
import sys, time, json, resource
import retold
t = time.perf_counter()
r = retold.scan(sys.argv[1], out=sys.argv[2])
wall = time.perf_counter() - t
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
cpu = sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
          for f in ("ru_utime", "ru_stime"))
print(json.dumps({"wall": wall, "docs": r.documents_in, "dropped": r.dropped, "timings": r.timings,
                  "rss_mb": peak_rss_mb(), "workers_rss_mb": children, "cpu": cpu}))
"""
)
NAMES = [
    "Alice",
    "Boris",
    "Clara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Katya",
    "Leon",
    "Mira",
    "Nikolai",
    "Olga",
    "Pavel",
]


def swap_names(text: str, rng: random.Random) -> str | None:
    from retold.dedup.names import find_names, mask_names  # noqa: F401 (find_names is what counts)

    names = sorted(find_names(text))
    if not names:
        return None
    mapping = {n: rng.choice([m for m in NAMES if m != n]) for n in names}
    import re

    return re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b", lambda m: mapping[m.group(1)], text)


def build(size: int, pool: list[str], path: Path, seed: int = 0) -> tuple[dict, list[str]]:
    """Write the corpus; return the planted truth {kind: {copy id: [original id, measure]}}."""
    rng = random.Random(seed)
    vocab = sorted({w for s in pool[:20000] for w in s.split()})
    texts: list[str] = []
    truth: dict[str, dict[str, list]] = {"exact": {}, "near": {}, "retold": {}}
    planted: set[int] = set()
    with zstandard.open(path, "wt", encoding="utf-8", cctx=zstandard.ZstdCompressor(level=1)) as fh:
        for i in range(size):
            r = rng.random()
            text = None
            if i > 100 and r < 0.12:
                j = rng.randrange(len(texts))
                while j in planted:
                    j = rng.randrange(len(texts))
                if r < 0.03:
                    text = "  " + texts[j].upper().replace(" ", "  ")
                    truth["exact"][f"d{i}"] = [f"d{j}", 1.0]
                elif r < 0.10:
                    text = edit(texts[j], rng.uniform(0.5, 1.0), rng, vocab)
                    truth["near"][f"d{i}"] = [f"d{j}", jaccard(texts[j], text)]
                else:
                    text = swap_names(texts[j], rng)
                    if text is not None:
                        truth["retold"][f"d{i}"] = [f"d{j}", jaccard(texts[j], text)]
                if text is not None:
                    planted.add(i)
            if text is None:
                text = " ".join(rng.sample(pool, rng.randint(6, 12)))
            texts.append(text)
            fh.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    return truth, texts


def read_dropped(out: Path) -> dict[str, tuple[str, str]]:
    dropped = {}
    with open(out / "dropped.jsonl", encoding="utf-8") as fh:
        for line in fh:
            note = json.loads(line)["retold"]
            dropped[note["id"]] = (note["reason"], note["kept_id"])
    return dropped


def score(out: Path, truth: dict, texts: list[str]) -> None:
    dropped = read_dropped(out)
    cluster: dict[str, str] = {}
    with open(out / "clusters.jsonl", encoding="utf-8") as fh:
        for line in fh:
            m = json.loads(line)
            cluster[f"{m['level']}:{m['id']}"] = m["cluster_id"]

    def same_cluster(a: str, b: str) -> bool:
        return any(
            cluster.get(f"{lv}:{a}") is not None and cluster.get(f"{lv}:{a}") == cluster.get(f"{lv}:{b}")
            for lv in ("exact", "near")
        )

    exact = truth["exact"]
    found = sum(
        1 for c, (o, _) in exact.items() if dropped.get(c, ("", ""))[0] == "exact" and same_cluster(c, o)
    )
    exact_reported = [d for d, (reason, _) in dropped.items() if reason == "exact"]
    text = {f"d{i}": t for i, t in enumerate(texts)}
    norm = {d: " ".join(text[d].lower().split()) for d in exact_reported}
    exact_ok = sum(1 for d in exact_reported if norm[d] == " ".join(text[dropped[d][1]].lower().split()))
    print(
        f"  exact: planted {len(exact):,}, recall {found / max(1, len(exact)):.4f}; "
        f"reported {len(exact_reported):,}, precision {exact_ok / max(1, len(exact_reported)):.4f}"
    )
    near_above = [(c, o) for c, (o, j) in truth["near"].items() if j >= 0.7]
    near_found = sum(1 for c, o in near_above if same_cluster(c, o))
    near_reported = [(d, k) for d, (reason, k) in dropped.items() if reason == "near"]
    near_ok = sum(1 for d, k in near_reported if jaccard(text[d], text[k]) >= 0.7)
    print(
        f"  near (J >= 0.7): planted {len(near_above):,}, recall {near_found / max(1, len(near_above)):.4f}; "
        f"reported {len(near_reported):,}, precision {near_ok / max(1, len(near_reported)):.4f}"
    )
    told = truth["retold"]
    origin = {c: o for kind in truth.values() for c, (o, _) in kind.items()}

    def root(doc: str) -> str:
        while doc in origin:
            doc = origin[doc]
        return doc

    retold_pairs = []
    with open(out / "pairs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            pair = json.loads(line)
            if pair["level"] == "retold":
                retold_pairs.append((pair["a"], pair["b"]))
    linked = {(a, root(b)) for a, b in retold_pairs} | {(b, root(a)) for a, b in retold_pairs}
    by_level = {"exact/near": 0, "retold": 0}
    missed = []
    for c, (o, _) in told.items():
        if same_cluster(c, o):
            by_level["exact/near"] += 1
        elif (c, root(c)) in linked:
            by_level["retold"] += 1
        else:
            missed.append(c)
    found = by_level["exact/near"] + by_level["retold"]
    right = sum(1 for a, b in retold_pairs if root(a) == root(b))
    english = {c for c in told if english_share(masked(text[c])[:SHARE_PREFIX]) >= ENGLISH_SHARE}
    print(
        f"  name-swapped retellings: planted {len(told):,} ({len(english):,} read as English, the rest "
        f"by their words); found {found:,}, recall {found / max(1, len(told)):.4f} "
        f"(exact/near {by_level['exact/near']:,}, retold {by_level['retold']:,}; missed English "
        f"{len(english.intersection(missed)):,}, other {len(set(missed) - english):,})"
    )
    print(
        f"  retold pairs reported {len(retold_pairs):,}, precision {right / max(1, len(retold_pairs)):.4f} "
        "(right: both sides the same original, or copies of it)"
    )


def datatrove_side(corpus: Path, tmp: Path, truth: dict, texts: list[str], ours: Path) -> None:
    plain = tmp / "dt-input" / "corpus.jsonl"
    plain.parent.mkdir(parents=True, exist_ok=True)
    with zstandard.open(corpus, "rt", encoding="utf-8") as src, open(plain, "w", encoding="utf-8") as dst:
        shutil.copyfileobj(src, dst)
    script = (
        PEAK_RSS
        + f"""
import time, json
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
    MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig
base = {str(tmp / "dt")!r}
# sha1: datatrove 0.10.1's xxhash path hashes str, which the installed xxhash refuses
config = MinhashConfig(hash_config=HashConfig(hash_fc="sha1"))
read = lambda: JsonlReader({str(plain.parent)!r}, id_key="id")
t = time.perf_counter()
for name, tasks, pipeline in (
    ("sigs", 1, [read(), MinhashDedupSignature(output_folder=base + "/sigs", config=config)]),
    # datatrove requires one task per bucket (14) here; two run at a time, as retold uses 2 workers
    ("buckets", config.num_buckets,
     [MinhashDedupBuckets(input_folder=base + "/sigs", output_folder=base + "/buckets", config=config)]),
    ("cluster", 1,
     [MinhashDedupCluster(input_folder=base + "/buckets", output_folder=base + "/remove_ids", config=config)]),
    ("filter", 1, [read(), MinhashDedupFilter(input_folder=base + "/remove_ids",
        exclusion_writer=JsonlWriter(base + "/removed", compression=None)),
     JsonlWriter(base + "/kept", compression=None)]),
):
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(tasks, 2),
                          logging_dir=base + "/logs/" + name, skip_completed=False).run()
import resource
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"wall": time.perf_counter() - t, "rss_mb": max(peak_rss_mb(), children)}}))
"""
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print("  datatrove failed:", proc.stderr[-1500:])
        return
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    removed = set()
    for path in (tmp / "dt" / "removed").glob("*.jsonl"):
        with open(path, encoding="utf-8") as fh:
            removed.update(json.loads(line)["id"] for line in fh)
    ours_removed = set(read_dropped(ours))
    both = removed & ours_removed
    print(
        f"  datatrove MinHash (14 bands x 8, 5-grams, sha1; 4 stages, local executor): {run['wall']:.1f} s, "
        f"peak RSS {run['rss_mb']:.0f} MB; removed {len(removed):,}"
    )
    print(
        f"  retold removed {len(ours_removed):,}; both {len(both):,}; Jaccard of the removed sets "
        f"{len(both) / max(1, len(removed | ours_removed)):.4f}; only datatrove {len(removed - ours_removed):,}, "
        f"only retold {len(ours_removed - removed):,}"
    )
    text = {f"d{i}": t for i, t in enumerate(texts)}
    wanted = {c for c, (o, j) in truth["near"].items() if j >= 0.7} | set(truth["exact"])
    print(
        f"  planted exact + near (J >= 0.7) copies removed: datatrove {len(wanted & removed) / len(wanted):.4f}, "
        f"retold {len(wanted & ours_removed) / len(wanted):.4f}"
    )
    low = [d for d in removed - ours_removed if d in text]
    print(f"  ({len(low):,} documents only datatrove removed; retold verifies each pair's true Jaccard)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--datatrove", action="store_true", help="datatrove beside retold at 100k")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "retold-bench-e2e")
    args = parser.parse_args()
    pool = sentence_pool(single=True)
    first_cost = None
    for size in args.sizes:
        tmp = args.work / f"{size}"
        corpus, truth_path = tmp / "corpus.jsonl.zst", tmp / "truth.json"
        t = time.perf_counter()
        if corpus.exists() and truth_path.exists():
            truth = json.loads(truth_path.read_text())
            with zstandard.open(corpus, "rt", encoding="utf-8") as fh:
                texts = [json.loads(line)["text"] for line in fh]
        else:
            tmp.mkdir(parents=True, exist_ok=True)
            truth, texts = build(size, pool, corpus)
            truth_path.write_text(json.dumps(truth))
            print(f"{size:,} documents built in {time.perf_counter() - t:.0f} s in {tmp}")
        shutil.rmtree(tmp / "out", ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-c", SCAN, str(corpus), str(tmp / "out")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        cost = 1e6 * run["wall"] / run["docs"]
        first_cost = first_cost or cost
        print(
            f"{size:>9,} docs: {run['wall']:.1f} s, {run['docs'] / run['wall']:,.0f} docs/s, {cost:.0f} µs/doc "
            f"({cost / first_cost:.2f}x the smallest), peak RSS {run['rss_mb']:.0f} MB "
            f"(workers {run['workers_rss_mb']:.0f} MB each at most); both cores "
            f"{100 * run['cpu'] / run['wall'] / 2:.0f}% busy on average; timings {run['timings']}"
        )
        score(tmp / "out", truth, texts)
        if args.datatrove and size == 100_000:
            datatrove_side(corpus, tmp, truth, texts, tmp / "out")


if __name__ == "__main__":
    main()
