"""Soak: scans stopped by ordinary accidents, then rerun, must end as an unbroken scan does.

Each round scans a 20,000-document corpus into a fresh folder and, at a random moment, injects one
fault: SIGKILL, SIGTERM, SIGINT (with 2 workers), a full disk (the output folder on a small tmpfs,
grown again before the rerun; root only), or a second scan started into the same folder at the
same time. Then the same command is rerun until it finishes. Every finished folder is compared
with a clean run: the output files byte for byte, the records (none lost), and the invariant
``documents_in == kept + dropped + quarantined``.

    .venv/bin/python benchmarks/soak_accidents.py [--rounds 50] [--budget 1500] [--levels exact,near]

Bounded in time: it stops starting rounds after ``--budget`` seconds and says how many ran.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

FILES = ("kept.jsonl", "dropped.jsonl", "quarantine.jsonl", "clusters.jsonl", "report.json", "report.html")
_STORY = "the fox went over a hill and saw the river where an old man sat with his dog under a tree while children played near the small house by the road that led to town in the morning light"
WORDS = _STORY.split(" ")


def make_corpus(path: Path, documents: int, seed: int = 5) -> None:
    """Stories with exact and near copies and a few broken lines."""
    rng = random.Random(seed)
    originals: list[str] = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(documents):
            kind = rng.random()
            if originals and kind < 0.08:
                text = rng.choice(originals)
            elif originals and kind < 0.16:
                words = rng.choice(originals).split()
                for _ in range(3):
                    words[rng.randrange(len(words))] = rng.choice(WORDS)
                text = " ".join(words)
            else:
                text = " ".join(rng.choice(WORDS) for _ in range(60)) + f" number {i}."
                originals.append(text)
            fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
            if kind < 0.003:
                fh.write('{"id": "broken", "text": "unterminated\n')


def digests(out: Path) -> dict[str, str]:
    return {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in FILES if (out / n).exists()}


def records(out: Path) -> int:
    return sum(
        sum(1 for _ in open(out / n, encoding="utf-8"))
        for n in ("kept.jsonl", "dropped.jsonl", "quarantine.jsonl")
    )


def invariant(out: Path) -> bool:
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return s["documents_in"] == s["kept"] + sum(s["dropped"].values()) + s["quarantined"]


class Disk:
    """A tmpfs to starve runs of space (root only)."""

    def __init__(self, where: Path) -> None:
        self.where = where
        where.mkdir(parents=True, exist_ok=True)
        self.ok = (
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(where)]).returncode == 0
        )

    def size(self, mb: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={mb}m", str(self.where)], check=True)

    def close(self) -> None:
        if self.ok:
            subprocess.run(["umount", "-l", str(self.where)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--budget", type=float, default=1500, help="seconds after which no round starts")
    parser.add_argument("--levels", default="exact,near")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="retold-soak-"))
    src = tmp / "corpus.jsonl"
    make_corpus(src, args.documents)
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "2000"}

    def command(out: Path) -> list[str]:
        scan = [sys.executable, "-m", "retold", "scan", str(src), "--out", str(out), "-q"]
        return [*scan, "--workers", "2", "--levels", args.levels]

    t = time.perf_counter()
    subprocess.run(command(tmp / "clean"), env=env, check=True)
    wall = time.perf_counter() - t
    clean, clean_records = digests(tmp / "clean"), records(tmp / "clean")
    disk = Disk(tmp / "disk")
    kinds = ["kill", "term", "int", "concurrent"] + (["disk"] if disk.ok else [])
    rng = random.Random(args.seed)
    faults: Counter[str] = Counter()
    tally: Counter[str] = Counter()
    start = time.perf_counter()
    try:
        for rnd in range(args.rounds):
            if time.perf_counter() - start > args.budget:
                break
            kind = kinds[rnd % len(kinds)]
            out = (disk.where if kind == "disk" else tmp) / f"round{rnd}"
            if kind == "disk":
                disk.size(rng.choice([2, 3, 5]))  # too small for the run's work folder
            if kind == "concurrent":
                procs = [
                    subprocess.Popen(command(out), env=env, stderr=subprocess.PIPE, text=True)
                    for _ in range(2)
                ]
                codes = [p.wait(timeout=600) for p in procs]
                errs = [p.stderr.read() if p.stderr else "" for p in procs]
                tally["refused"] += sum("in use by another retold run" in e for e in errs)
                tally["concurrent_bad_exit"] += sum(c not in (0, 1) for c in codes)
            else:
                proc = subprocess.Popen(command(out), env=env, stderr=subprocess.PIPE, text=True)
                time.sleep(rng.uniform(0.3, wall))
                if proc.poll() is None and kind != "disk":
                    proc.send_signal(
                        {"kill": signal.SIGKILL, "term": signal.SIGTERM, "int": signal.SIGINT}[kind]
                    )
                _, err = proc.communicate(timeout=600)
                if kind in ("term", "int") and proc.returncode in (130, 143):
                    tally["stopped_cleanly"] += "Traceback" not in err
                    tally["stopped"] += 1
                if kind == "disk":
                    tally["disk_full_said"] += "no space left" in err
                    disk.size(256)
            faults[kind] += 1
            for _ in range(5):  # rerun the same command until it finishes
                again = subprocess.run(command(out), env=env, capture_output=True, text=True, timeout=600)
                tally["resumed"] += "resuming the run stopped part way" in again.stderr
                if again.returncode == 0:
                    break
            else:
                tally["never_finished"] += 1
                continue
            tally["runs"] += 1
            tally["differ"] += digests(out) != clean
            tally["lost"] += max(0, clean_records - records(out))
            tally["invariant_broken"] += not invariant(out)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        disk.close()
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.perf_counter() - start
    print(
        f"soak: {sum(faults.values())} rounds in {took:.0f} s over {args.documents:,} documents ({args.levels})"
    )
    print(
        f"  faults injected: {dict(faults)}"
        + ("" if disk.ok else " (no tmpfs: not root, no disk-full rounds)")
    )
    print(
        f"  finished runs {tally['runs']}, never finished {tally['never_finished']}, resumed reruns {tally['resumed']}"
    )
    print(
        f"  stop signals answered with 130/143 {tally['stopped']} (no traceback: {tally['stopped_cleanly']}); "
        f"second starters refused {tally['refused']}; disk full said {tally['disk_full_said']}"
    )
    print(
        f"  records lost {tally['lost']} (must be 0), outputs differing from a clean run {tally['differ']} "
        f"(must be 0), invariant broken {tally['invariant_broken']} (must be 0)"
    )


if __name__ == "__main__":
    main()
