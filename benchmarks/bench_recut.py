"""`retold recut` beside a fresh scan, on bench_scale's corpus (built on the fly from ../shared/data).

Two scans, once each: the defaults (exact, near and retold, with the report) and ``--levels
exact,near`` (a recut to a higher near threshold needs the retold level off, or it is refused: the
near copies it no longer drops were never compared by the retold level). Then, each on a fresh copy
of its scan, median of 3: the first recut to other drop levels (``--drop exact,near,retold``), the
second to ``--near-threshold 0.8``; and a fresh scan at each of those settings, whose record files
and index are compared with the recut's byte for byte.

    .venv/bin/python benchmarks/bench_recut.py [--size 100000]
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
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "retold-bench-recut")
    args = parser.parse_args()
    tmp = args.work / str(args.size)
    corpus = tmp / "corpus.jsonl.zst"
    if not corpus.exists():
        tmp.mkdir(parents=True, exist_ok=True)
        build(args.size, sentence_pool(single=True), corpus)
    cases = [
        ("defaults", {}, {"drop": ("exact", "near", "retold")}),
        ("exact,near", {"levels": "exact,near"}, {"near_threshold": 0.8}),
    ]
    for name, options, asked in cases:
        scan = tmp / f"scan-{name}"
        took = scanned(corpus, scan, **options)
        recut_s, out = timed_recut(scan, tmp / name, **asked)
        redo = {**options, **{k: ",".join(v) if isinstance(v, tuple) else v for k, v in asked.items()}}
        fresh_s = scanned(corpus, tmp / f"fresh-{name}", **redo)
        summary = json.loads((out / "summary.json").read_text())
        print(
            f"{args.size:,} docs, scan {name} ({took:.1f} s): recut {asked} {recut_s:.1f} s (median of 3; "
            f"{summary['timings']}) vs a fresh scan at those settings {fresh_s:.1f} s "
            f"({fresh_s / recut_s:.0f}x); files differing from the fresh scan's: "
            f"{differing(out, tmp / f'fresh-{name}') or 'none'}"
        )


if __name__ == "__main__":
    main()
