"""`retold demo`: generates, scans and scores; copies, retellings and mojibake are found."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from retold.cli import cli


def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--quiet"])  # as make demo runs it
    assert result.exit_code == 0, result.output
    assert f"Report: {out / 'scan' / 'report.html'}" in result.output
    scores = json.loads((out / "demo_scores.json").read_text())
    assert scores["exact"]["precision"] == 1.0 and scores["exact"]["recall"] == 1.0
    assert scores["mojibake"]["precision"] == 1.0 and scores["mojibake"]["recall"] == 1.0
    assert scores["near"]["precision"] == 1.0 and scores["near"]["recall"] >= 0.8
    assert scores["retold"]["precision"] == 1.0 and scores["retold"]["recall"] >= 0.9  # on by default
