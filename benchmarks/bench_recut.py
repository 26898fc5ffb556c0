"""`retold recut` beside a fresh scan, on bench_scale's corpus (built on the fly from ../shared/data)
and on the slop-score stories.

Scans, once each: the defaults (exact, near and retold, with the report) and ``--levels
exact,near``. Then, each recut on a fresh copy of its scan, median of 3: to other drop levels
(``--drop exact,near,retold``), to ``--retold-threshold 0.02`` (replayed from pairs.jsonl), to
``--near-threshold 0.8`` (with the retold level on, the near copies it compares change, and it is
decided again with its models: the slow case, shown as it is); and a fresh scan at each of those
settings, whose record files and index are compared with the recut's byte for byte.

    .venv/bin/python benchmarks/bench_recut.py [--size 100000] [--slop]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import retold
from bench_near_scale import sentence_pool
from bench_scale import build
from retold.engine.recut import recut

RECORDS = ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "pairs.jsonl", "quarantine.jsonl")
# the slop-score stories' ids and model names are in their records; the corpus is read as it is


def scanned(corpus: Path, out: Path, **options: object) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    retold.scan(str(corpus), out=out, **options)  # type: ignore[arg-type]
    return time.perf_counter() - t


def timed_recut(scan: Path, work: Path, **asked: object) -> tuple[float, Path]:
    times = []
    for k in range(3):
        out = work / f"recut-{k}"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(scan, out)
        t = time.perf_counter()
        recut(out, **asked)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def differing(a: Path, b: Path) -> list[str]:
    names = [*RECORDS, *(f"index/{p.name}" for p in sorted((b / "index").iterdir()))]
    return [n for n in names if not (a / n).exists() or (a / n).read_bytes() != (b / n).read_bytes()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--slop", action="store_true", help="the 3,035 slop-score stories instead")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "retold-bench-recut")
    args = parser.parse_args()
    if args.slop:
        tmp = args.work / "slop"
        corpus = (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "slopscore_stories" / "stories.jsonl.gz"
        )
        size = "3,035 slop-score stories"
    else:
        tmp = args.work / str(args.size)
        corpus = tmp / "corpus.jsonl.zst"
        if not corpus.exists():
            tmp.mkdir(parents=True, exist_ok=True)
            build(args.size, sentence_pool(single=True), corpus)
        size = f"{args.size:,} docs"
    cases = [
        ("defaults", {}, {"drop": ("exact", "near", "retold")}),
        ("defaults", {}, {"retold_threshold": 0.02}),
        ("defaults", {}, {"near_threshold": 0.8}),
        ("exact,near", {"levels": "exact,near"}, {"near_threshold": 0.8}),
    ]
    scans: dict[str, tuple[Path, float]] = {}
    for k, (name, options, asked) in enumerate(cases):
        if name not in scans:
            scans[name] = (tmp / f"scan-{name}", scanned(corpus, tmp / f"scan-{name}", **options))
        scan, took = scans[name]
        recut_s, out = timed_recut(scan, tmp / f"case-{k}", **asked)
        redo = {**options, **{k: ",".join(v) if isinstance(v, tuple) else v for k, v in asked.items()}}
        fresh_s = scanned(corpus, tmp / f"fresh-{k}", **redo)
        summary = json.loads((out / "summary.json").read_text())
        again = any("compared the documents again" in w for w in summary["warnings"])
        print(
            f"{size}, scan {name} ({took:.1f} s): recut {asked} {recut_s:.1f} s (median of 3; "
            f"{summary['timings']}{'; retold decided again with its models' if again else ''}) vs a "
            f"fresh scan at those settings {fresh_s:.1f} s ({fresh_s / recut_s:.1f}x); files differing "
            f"from the fresh scan's: {differing(out, tmp / f'fresh-{k}') or 'none'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
