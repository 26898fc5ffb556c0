"""Repair quality on ftfy's own labelled cases, ours beside ftfy's, plus partial-line damage.

Run: make bench-repair   (or .venv/bin/python benchmarks/bench_repair.py)

1. ../shared/data/ftfy_mojibake/cases.jsonl (161 cases): for the 120 positive `pass` cases, how many
   come out as expected (`fixed_encoding`, the content-keeping target, or `fixed`); for the 31
   `negative` cases, how many come out unchanged / as expected.
2. Partial-line damage, built from the same cases: in each case's expected text that has a
   non-ASCII word, one word is damaged (UTF-8 read as MacRoman, or as Windows-1252) while a correct
   accented word stays on the line, e.g. "The café and the caf√©". ftfy fixes a line only when the
   whole line decodes; retold's fallback fixes single words when exactly one encoding explains them.
"""

from __future__ import annotations

import re

import ftfy

from _common import DATA, read_jsonl, require
from retold.repair.fixes import repair_text

CASES = read_jsonl(require(DATA / "ftfy_mojibake" / "cases.jsonl"))

FIXERS = {
    "retold repair_text": lambda t: repair_text(t)[0],
    "ftfy.fix_text() defaults": ftfy.fix_text,
    "ftfy.fix_text(uncurl_quotes=False)": lambda t: ftfy.fix_text(t, uncurl_quotes=False),
    "ftfy.fix_encoding()": ftfy.fix_encoding,
}


def labelled() -> None:
    positives = [c for c in CASES if c["expect"] == "pass" and c["set"] != "negative"]
    negatives = [c for c in CASES if c["set"] == "negative"]
    print(f"ftfy labelled cases: {len(positives)} positive `pass`, {len(negatives)} negative\n")
    print(
        f"{'fixer':38} {'=fixed_encoding':>15} {'=either':>8} {'neg unchanged':>14} {'neg as expected':>16}"
    )
    for name, fn in FIXERS.items():
        outs = [fn(c["original"]) for c in positives]
        enc = sum(o == c["fixed_encoding"] for o, c in zip(outs, positives, strict=True))
        either = sum(o in (c["fixed_encoding"], c["fixed"]) for o, c in zip(outs, positives, strict=True))
        nouts = [fn(c["original"]) for c in negatives]
        unchanged = sum(o == c["original"] for o, c in zip(nouts, negatives, strict=True))
        expected = sum(o == c["fixed_encoding"] for o, c in zip(nouts, negatives, strict=True))
        print(
            f"{name:38} {enc:>11}/{len(positives)} {either:>4}/{len(positives)} "
            f"{unchanged:>10}/{len(negatives)} {expected:>12}/{len(negatives)}"
        )
    print("(one negative, 'Mostly negative: we only need to fix C1 control characters', expects the C1 fix)")


WORD = re.compile(r"\S*[^\x00-\x7f]\S*")


def partial_cases(encoding: str) -> list[tuple[str, str]]:
    """(damaged line, expected line) pairs: one word damaged, one correct accented word kept."""
    out = []
    for case in CASES:
        if case["expect"] != "pass" or case["set"] == "negative" or case["fixed"] != case["fixed_encoding"]:
            continue  # (where `fixed` goes beyond `fixed_encoding`, the clean line is not clean)
        text = case["fixed_encoding"].split("\n")[0]
        words = list(WORD.finditer(text))
        if not words:
            continue
        target = words[-1]
        try:
            damaged_word = target.group(0).encode("utf-8").decode(encoding)
        except UnicodeDecodeError:
            continue
        if damaged_word == target.group(0):
            continue
        clean = "Déjà vu: " + text
        damaged = "Déjà vu: " + text[: target.start()] + damaged_word + text[target.end() :]
        out.append((damaged, clean))
    return out


def partial() -> None:
    print("\npartial-line damage (one word damaged, a correct accented word on the same line)\n")
    print(
        f"{'damage':28} {'cases':>5} {'retold':>8} {'ftfy.fix_text':>14} {'clean lines changed (retold)':>30}"
    )
    for label, encoding in (
        ("UTF-8 read as MacRoman", "mac_roman"),
        ("UTF-8 read as Windows-1252", "cp1252"),
    ):
        pairs = partial_cases(encoding)
        ours = sum(repair_text(d)[0] == c for d, c in pairs)
        theirs = sum(ftfy.fix_text(d, uncurl_quotes=False) == c for d, c in pairs)
        harmed = sum(repair_text(c)[0] != c for _, c in pairs)
        print(f"{label:28} {len(pairs):>5} {ours:>8} {theirs:>14} {harmed:>30}")


if __name__ == "__main__":
    labelled()
    partial()
