"""Beyond one machine: the Ray engine beside the local one, and incremental scans beside a rescan.

Corpus: bench_scale.py's planted corpus (real sentences from ../shared/data; 3% exact copies, 7%
near copies, 2% name-swapped copies of earlier documents), built once and cached.

1. **Local vs Ray** on the same corpus, ``retold scan --no-report`` in a fresh process each run,
   runs interleaved: the local engine (``--workers 2``: both cores) and ``--engine ray
   --address`` of a one-node cluster on 127.0.0.1 started here (2 CPUs). Wall time per run
   (median), whether the outputs are byte-identical (kept, dropped, clusters, quarantine, the
   saved index), and the peak RSS of the Ray workers (the ``_StageActor`` processes, sampled).
2. **Incremental vs full rescan**: the corpus cut at ``--split`` (A: the first 90%, B: the rest;
   B holds planted copies of A's documents). ``scan A+B`` at once against ``scan A`` once, then
   ``scan B --against A``: whether B's drops are the same (id, reason, kept id) and the wall time
   of the incremental run against the full rescan (medians).

    .venv/bin/python benchmarks/bench_scaleout.py --size 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zstandard

from _common import ROOT
from bench_near_scale import sentence_pool
from bench_scale import build, read_dropped

RETOLD = [sys.executable, "-m", "retold"]
COMPARED = ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "quarantine.jsonl")


def corpus_of(size: int, work: Path) -> tuple[Path, dict]:
    tmp = work / f"{size}"
    corpus, truth_path = tmp / "corpus.jsonl.zst", tmp / "truth.json"
    if not (corpus.exists() and truth_path.exists()):
        tmp.mkdir(parents=True, exist_ok=True)
        truth, _ = build(size, sentence_pool(), corpus)
        truth_path.write_text(json.dumps(truth))
    return corpus, json.loads(truth_path.read_text())


class ActorMemory:
    """Peak RSS of the Ray worker processes that hold retold's stages, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"_StageActor" not in cmd:
                        continue
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue

    def __enter__(self) -> ActorMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def scan(args: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run([*RETOLD, "scan", *args, "-q", "--no-report"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - t


def same_outputs(a: Path, b: Path) -> list[str]:
    names = list(COMPARED) + sorted(str(p.relative_to(a)) for p in (a / "index").iterdir())
    return [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


def local_vs_ray(corpus: Path, tmp: Path, runs: int) -> None:
    from retold.engine.ray import LoopbackCluster

    walls: dict[str, list[float]] = {"local": [], "ray": []}
    with LoopbackCluster(cpus=2) as cluster:
        peak = 0
        for r in range(runs):
            for engine in ("local", "ray"):
                out = tmp / f"out-{engine}"
                shutil.rmtree(out, ignore_errors=True)
                if engine == "local":
                    walls[engine].append(scan([str(corpus), "--out", str(out), "--workers", "2"]))
                else:
                    with ActorMemory() as mem:
                        extra = ["--engine", "ray", "--address", cluster.address]
                        walls[engine].append(scan([str(corpus), "--out", str(out), *extra], env=cluster.env))
                    peak = max(peak, mem.peak_kb)
                print(f"  run {r + 1} {engine:>5}: {walls[engine][-1]:.1f} s", flush=True)
        differ = same_outputs(tmp / "out-local", tmp / "out-ray")
    summary = json.loads((tmp / "out-ray" / "summary.json").read_text())
    local, ray = statistics.median(walls["local"]), statistics.median(walls["ray"])
    print(
        f"local engine: {local:.1f} s (median of {runs}); Ray engine, 1-node loopback cluster, "
        f"{summary['workers']} workers: {ray:.1f} s; Ray/local = {ray / local:.2f}x"
    )
    print(f"Ray worker peak RSS: {peak / 1024:.0f} MB each at most")
    print(
        "outputs byte-identical (kept, dropped, clusters, quarantine, index/*): "
        + ("yes" if not differ else f"NO: {differ}")
    )


def split(corpus: Path, at: float, tmp: Path) -> tuple[Path, Path, set[str], set[str]]:
    with zstandard.open(corpus, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    cut = int(len(lines) * at)
    a, b = tmp / "a.jsonl", tmp / "b.jsonl"
    a.write_text("".join(lines[:cut]), encoding="utf-8")
    b.write_text("".join(lines[cut:]), encoding="utf-8")
    ids = lambda part: {json.loads(line)["id"] for line in part}  # noqa: E731
    return a, b, ids(lines[:cut]), ids(lines[cut:])


def incremental(corpus: Path, at: float, tmp: Path, runs: int) -> None:
    a, b, a_ids, b_ids = split(corpus, at, tmp)
    full_walls, inc_walls = [], []
    first = scan([str(a), "--out", str(tmp / "cur-a")])
    for r in range(runs):
        shutil.rmtree(tmp / "full", ignore_errors=True)
        shutil.rmtree(tmp / "cur-b", ignore_errors=True)
        full_walls.append(scan([str(a), str(b), "--out", str(tmp / "full")]))
        inc_walls.append(scan([str(b), "--out", str(tmp / "cur-b"), "--against", str(tmp / "cur-a")]))
        print(
            f"  run {r + 1}: full rescan {full_walls[-1]:.1f} s, incremental {inc_walls[-1]:.1f} s",
            flush=True,
        )
    full = {k: v for k, v in read_dropped(tmp / "full").items() if k in b_ids}
    mine = read_dropped(tmp / "cur-b")
    cross = sum(1 for v in mine.values() if v[1] in a_ids)
    agree = sum(1 for k, v in full.items() if mine.get(k) == v)
    full_wall, inc_wall = statistics.median(full_walls), statistics.median(inc_walls)
    print(
        f"A = {len(a_ids):,} documents (scanned once: {first:.1f} s), B = {len(b_ids):,}; "
        f"B's drops: full rescan {len(full):,}, incremental {len(mine):,} ({cross:,} of them against A's "
        f"documents); same id, reason and kept id: {agree:,}/{len(full):,}; "
        f"sets {'identical' if set(full) == set(mine) else 'DIFFER'}"
    )
    index_mb = sum(p.stat().st_size for p in (tmp / "cur-a" / "index").iterdir()) / 1e6
    print(
        f"incremental {inc_wall:.1f} s vs full rescan {full_wall:.1f} s (medians of {runs}): "
        f"{full_wall / inc_wall:.1f}x faster; A's saved index {index_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--split", type=float, default=0.9)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "retold-bench-e2e")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    corpus, _ = corpus_of(args.size, args.work)
    tmp = args.work / f"{args.size}" / "scaleout"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"corpus: {corpus} ({args.size:,} documents)")
    if not args.skip_ray:
        local_vs_ray(corpus, tmp, args.runs)
    incremental(corpus, args.split, tmp, args.runs)


if __name__ == "__main__":
    main()
