"""Throughput of read + repair + exact dedup on ../shared/data/tinystories_ru (14,753 stories).

Run: make bench-throughput   (or .venv/bin/python benchmarks/bench_throughput.py [--runs 3])

Printed side by side, same texts, same process, median of --runs runs:
  * ftfy.fix_text (defaults, and with uncurl_quotes=False) vs retold's repair_text, on the corpus
    as it is (clean) and with 10% of the stories damaged (UTF-8 read as Windows-1252);
  * the whole `retold scan` (gzip JSONL read, repair, exact dedup, all outputs written), each run in
    a fresh subprocess: wall time, docs/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import ftfy
import ftfy.bad_codecs

from _common import DATA, PEAK_RSS, ROOT, median_time, read_jsonl, require
from retold.repair.fixes import repair_text

CORPUS = DATA / "tinystories_ru" / "stories.jsonl.gz"

SCAN = (
    PEAK_RSS
    + """
import sys, time, json
import retold
t = time.perf_counter()
r = retold.scan(sys.argv[1], out=sys.argv[2], text_field="story")
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "docs": r.documents_in, "kept": r.kept, "dropped": r.dropped,
                  "repaired": r.repaired, "rss_mb": peak_rss_mb()}))
"""
)


def damage(texts: list[str]) -> tuple[list[str], list[int]]:
    out, hit = list(texts), []
    for i in range(0, len(texts), 10):
        out[i] = texts[i].encode("utf-8").decode("sloppy-windows-1252")
        hit.append(i)
    return out, hit


def repair_rows(texts: list[str], runs: int) -> list[tuple[str, float]]:
    fixers = {
        "ftfy.fix_text() defaults": ftfy.fix_text,
        "ftfy.fix_text(uncurl_quotes=False)": lambda t: ftfy.fix_text(t, uncurl_quotes=False),
        "retold repair_text": lambda t: repair_text(t)[0],
    }
    rows = []
    for name, fn in fixers.items():
        seconds = median_time(lambda fn=fn: [fn(t) for t in texts], runs)
        rows.append((name, len(texts) / seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    require(CORPUS)
    texts = [r["story"] for r in read_jsonl(CORPUS)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts):,} stories, {mb:.1f} MB of text; median of {args.runs} runs\n")

    damaged, hit = damage(texts)
    ours_ok = sum(repair_text(damaged[i])[0] == texts[i] for i in hit)
    ftfy_ok = sum(ftfy.fix_text(damaged[i], uncurl_quotes=False) == texts[i] for i in hit)
    print(
        f"10% damaged (UTF-8 read as Windows-1252): retold restores {ours_ok}/{len(hit)}, "
        f"ftfy.fix_text {ftfy_ok}/{len(hit)}\n"
    )

    for label, corpus in (("clean corpus", texts), ("10% damaged", damaged)):
        rows = repair_rows(corpus, args.runs)
        base = rows[0][1]
        print(f"repair only, {label}:")
        for name, rate in rows:
            print(f"  {name:38} {rate:10,.0f} docs/s   {rate / base:5.2f}x ftfy defaults")
        print()

    walls, rss = [], []
    info: dict = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [sys.executable, "-c", SCAN, str(CORPUS), str(Path(tmp) / "out")],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            info = json.loads(proc.stdout)
            walls.append(info["wall"])
            rss.append(info["rss_mb"])
    wall = statistics.median(walls)
    print("retold scan end to end (gzip JSONL read + repair + exact dedup + outputs written):")
    print(
        f"  wall {wall:.2f} s, {info['docs'] / wall:,.0f} docs/s, peak RSS {statistics.median(rss):.0f} MB; "
        f"kept {info['kept']:,}, dropped {info['dropped']}, repaired {info['repaired']}"
    )


if __name__ == "__main__":
    main()
