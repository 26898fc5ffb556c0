"""Must show: `retold scan ../shared/seeds --out X` repairs caf√© in 000 and changes nothing in 001."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import SHARED, check_invariant, read_jsonl, requires_shared
from retold.cli import cli


@requires_shared
def test_scan_seeds(tmp_path: Path) -> None:
    seeds = SHARED / "seeds"
    before = {p.name: p.read_bytes() for p in seeds.iterdir()}
    result = CliRunner().invoke(cli, ["scan", str(seeds), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    check_invariant(tmp_path / "x")
    kept = {r["id"]: r for r in read_jsonl(tmp_path / "x" / "kept.jsonl")}
    assert set(kept) == {"000_2f48dfd8eb95aece.txt", "001_9c37dd702f0336c6.txt"}
    damaged = before["000_2f48dfd8eb95aece.txt"].decode("utf-8")
    clean = before["001_9c37dd702f0336c6.txt"].decode("utf-8")
    assert kept["000_2f48dfd8eb95aece.txt"]["text"] == damaged.replace("caf√©", "café")
    assert "caf√©" in damaged and kept["000_2f48dfd8eb95aece.txt"]["retold"]["fixes"] == ["mojibake:macroman"]
    assert kept["001_9c37dd702f0336c6.txt"]["text"] == clean
    assert kept["001_9c37dd702f0336c6.txt"]["retold"]["fixes"] == []
    assert {p.name: p.read_bytes() for p in seeds.iterdir()} == before  # input untouched
