"""Readers fuzzed with hypothesis: random bytes and mutated valid files never crash, never lose a unit."""

from __future__ import annotations

import bz2
import gzip
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retold
from conftest import check_invariant

VALID = (
    "".join(
        json.dumps({"id": f"d{i}", "text": f"Story {i % 3} with a caf√© and “quotes”."}) + "\n"
        for i in range(12)
    )
).encode("utf-8")


def scan_bytes(name: str, data: bytes) -> dict:
    """The scan's summary; a damaged file whose readable records all lack the text field stops
    the run before any work (a usage error naming --text-field), and counts as no document."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            retold.scan(path, out=Path(tmp) / "out")
        except retold.errors.BadOption as exc:
            assert str(exc).startswith("--text-field: none of the first")
            assert not (Path(tmp) / "out" / "summary.json").exists()
            return {"documents_in": 0}
        return check_invariant(Path(tmp) / "out")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["f.jsonl", "f.csv", "f.txt", "f.jsonl.gz", "f.parquet"]))
def test_random_bytes(data: bytes, name: str) -> None:
    scan_bytes(name, data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
    st.integers(0, len(VALID)),
)
def test_mutated_jsonl(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID)
    for pos, value in edits:
        data[pos] = value
    summary = scan_bytes("f.jsonl", bytes(data[:cut]))
    lines = [line for line in bytes(data[:cut]).split(b"\n") if line.strip(b" \t\r")]
    assert summary["documents_in"] <= len(lines)  # blank lines are not units; nothing is invented


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 400), st.sampled_from(["gz", "bz2"]))
def test_truncated_compressed(cut: int, kind: str) -> None:
    blob = gzip.compress(VALID) if kind == "gz" else bz2.compress(VALID)
    summary = scan_bytes(f"f.jsonl.{kind}", blob[: min(cut, len(blob) - 1)])
    assert summary["documents_in"] >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=6), st.binary(max_size=30))
def test_csv_fields(fields: list[str], junk: bytes) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "text"])
    for i, f in enumerate(fields):
        writer.writerow([str(i), f])
    data = buf.getvalue().encode("utf-8", "surrogatepass") + junk
    scan_bytes("f.csv", data)
