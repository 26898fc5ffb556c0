"""Text → MinHash signature throughput: retold vs rensa vs datasketch, one process, same documents.

Every contender starts from the raw text and ends with a 128-value signature of the same shingles
(word 5-grams of the case-folded NFC text, words as retold defines them, see
``retold.dedup.minhash.words``). rensa and datasketch get those shingles built in Python, as their
users do; rensa is also timed with its bulk Rust entry point (``digest_matrix_from_token_sets``)
and with the cheapest Python shingling (``str.split``), to be generous to it. Rounds interleave the contenders; median over 5 rounds.

Also checked: each signature estimates the exact Jaccard of random pairs equally well (mean error).

    make bench-minhash        (or: .venv/bin/python benchmarks/bench_minhash.py [--docs N])
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys

import numpy as np

from _common import DATA, median_time, read_jsonl, require
from retold.dedup.minhash import MinHasher, normalize, words

NUM_PERM = 128
N = 5


def shingles_same(text: str) -> list[str]:
    w = words(text)
    return [" ".join(w[i : i + N]) for i in range(len(w) - N + 1)] or [" ".join(w)]


def shingles_split(text: str) -> list[str]:
    w = normalize(text).split()
    return [" ".join(w[i : i + N]) for i in range(len(w) - N + 1)] or [" ".join(w)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="documents (datasketch is slow)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    try:
        import datasketch
        import rensa
    except ImportError:
        sys.exit("pip install -e '.[bench]' (datasketch, rensa) first; nothing measured")
    rows = read_jsonl(require(DATA / "tinystories_ru" / "stories.jsonl.gz"))
    texts = [r["story"] for r in rows[: args.docs]]
    chars = sum(map(len, texts))
    hasher = MinHasher(NUM_PERM, N)
    hasher.sketch("warm up the compiled kernel")

    def ours() -> list[np.ndarray]:  # batches of 256 documents, as the pipeline does
        return [hasher.signatures(texts[i : i + 256]) for i in range(0, len(texts), 256)]

    def ours_sketch() -> list[object]:  # what the near stage computes: + sorted shingle sets, band keys
        return [hasher.sketch_batch(texts[i : i + 256]) for i in range(0, len(texts), 256)]

    def ours_single() -> list[np.ndarray]:
        return [hasher.sketch(t).signature for t in texts]

    def rensa_same() -> list[list[int]]:
        out = []
        for t in texts:
            m = rensa.RMinHash(NUM_PERM, 42)
            m.update(shingles_same(t))
            out.append(m.digest())
        return out

    def rensa_bulk() -> object:
        return rensa.RMinHash.digest_matrix_from_token_sets([shingles_same(t) for t in texts], NUM_PERM, 42)

    def rensa_split() -> list[list[int]]:
        out = []
        for t in texts:
            m = rensa.RMinHash(NUM_PERM, 42)
            m.update(shingles_split(t))
            out.append(m.digest())
        return out

    def datasketch_same() -> list[np.ndarray]:
        out = []
        for t in texts:
            m = datasketch.MinHash(num_perm=NUM_PERM, seed=1)
            m.update_batch([s.encode("utf-8") for s in shingles_same(t)])
            out.append(m.hashvalues)
        return out

    contenders = [
        ("retold MinHasher.signatures (text → signature)", ours),
        ("retold MinHasher.sketch_batch (+ sorted shingle sets, band keys)", ours_sketch),
        ("retold MinHasher.sketch, one document per call", ours_single),
        ("rensa RMinHash, same shingles built in Python", rensa_same),
        ("rensa digest_matrix_from_token_sets (bulk), same shingles", rensa_bulk),
        ("rensa RMinHash, str.split shingles (cheapest Python)", rensa_split),
        (f"datasketch {datasketch.__version__} MinHash.update_batch, same shingles", datasketch_same),
    ]
    print(f"{len(texts):,} tinystories_ru documents, {chars / len(texts):.0f} characters each on average; ")
    print(
        f"{NUM_PERM} permutations, word {N}-grams; median of {args.runs} interleaved rounds (3 calls each)\n"
    )
    # rounds interleave the contenders, so a slow spell of the machine hits all of them alike;
    # each ratio is taken within a round (median of 3 calls each), then the median over rounds
    seconds: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for _ in range(args.runs):
        for name, fn in contenders:
            seconds[name].append(median_time(fn, 3))
    for name, _ in contenders:
        rate = len(texts) / statistics.median(seconds[name])
        print(f"{name:70} {rate:>10,.0f} docs/s")
    print()
    for ours_name, _ in contenders[:2]:
        print(ours_name)
        for name, _ in contenders[3:]:
            ratios = [b / a for a, b in zip(seconds[ours_name], seconds[name], strict=True)]
            spread = f"(rounds: {min(ratios):.1f}-{max(ratios):.1f})"
            print(f"  / {name:66} {statistics.median(ratios):6.2f}x {spread}")

    # quality: the estimate of the same pairs' Jaccard, against the exact Jaccard
    rng = random.Random(0)
    pairs = []
    for _ in range(300):
        i = rng.randrange(len(texts))
        w = texts[i].split()
        edited = list(w)
        for _ in range(rng.randint(0, max(1, len(w) // 8))):
            edited[rng.randrange(len(edited))] = rng.choice(w)
        pairs.append((texts[i], " ".join(edited)))
    err_ours, err_rensa, err_ds = [], [], []
    for a, b in pairs:
        sa, sb = hasher.sketch(a), hasher.sketch(b)
        exact = hasher.jaccard(sa, sb)
        err_ours.append(abs(hasher.estimate(sa, sb) - exact))
        ra, rb = rensa.RMinHash(NUM_PERM, 42), rensa.RMinHash(NUM_PERM, 42)
        ra.update(shingles_same(a))
        rb.update(shingles_same(b))
        err_rensa.append(abs(ra.jaccard(rb) - exact))
        da, db = datasketch.MinHash(NUM_PERM, seed=1), datasketch.MinHash(NUM_PERM, seed=1)
        da.update_batch([s.encode() for s in shingles_same(a)])
        db.update_batch([s.encode() for s in shingles_same(b)])
        err_ds.append(abs(da.jaccard(db) - exact))
    print(
        f"\nmean |estimate - exact Jaccard| over {len(pairs)} edited pairs: retold "
        f"{statistics.mean(err_ours):.4f}, rensa {statistics.mean(err_rensa):.4f}, "
        f"datasketch {statistics.mean(err_ds):.4f}"
    )


if __name__ == "__main__":
    main()
