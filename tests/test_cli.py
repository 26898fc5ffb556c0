"""The command line: help, exit codes, messages, determinism, atomic outputs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import retold
from conftest import check_invariant
from retold.cli import cli


def make_input(tmp_path: Path) -> Path:
    rows = [{"id": str(i), "text": f"Story {i % 7} about a caf√© and a fox."} for i in range(50)]
    rows.append({"id": "broken"})
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in rows) + '{"id": "trunc", "text": "cut', encoding="utf-8"
    )
    return path


def test_every_command_has_help_and_example() -> None:
    runner = CliRunner()
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example:" in command.help, f"{name} lacks help with an example"
        assert "--quiet" in result.output, name


def test_scan_ok(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "52 documents in: kept 7, dropped 43 (exact 43), quarantined 2; repaired 50" in result.output
    check_invariant(tmp_path / "out")


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(src), "-o", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0 and result.output == ""


def test_recut_from_the_command_line(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["scan", str(src), "--out", str(out), "-q"]).exit_code == 0
    result = CliRunner().invoke(cli, ["recut", str(out), "--drop", "near"])
    assert result.exit_code == 0, result.output
    assert "52 documents in: kept 50, dropped 0 (none), quarantined 2" in result.output
    assert "exact: 7 clusters, 43 documents; reported, kept" in result.output
    assert check_invariant(out)["recut"]["changed"]["drop"] == {"scanned": ["exact", "near"], "now": ["near"]}
    below = CliRunner().invoke(cli, ["recut", str(out), "--retold-threshold", "0.001"])
    assert below.exit_code == 2 and "recut can only raise it (asked 0.001)" in below.output
    missing = CliRunner().invoke(cli, ["recut", str(tmp_path / "nowhere")])
    assert (
        missing.exit_code == 1 and "is not a folder" in missing.output and "Traceback" not in missing.output
    )


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["scan", "missing.jsonl", "--out", "o"], 1, "Error: input not found: missing.jsonl"),
        (["scan", "in.jsonl"], 2, "Missing option '--out'"),
        (["scan", "in.jsonl", "--out", "o", "--levels", "fuzzy"], 2, "unknown level 'fuzzy'"),
        (["scan", "in.jsonl", "--out", "o", "--max-doc-bytes", "0"], 2, "Invalid value"),
        (["scan", "noext", "--out", "o"], 1, "cannot tell the format of noext"),
        (["scan", "in.jsonl", "--out", "in.jsonl"], 2, "is a file"),
        (["frobnicate"], 2, "No such command"),
        (
            ["scan", "in.jsonl", "--out", "o", "--levels", "exact,nearr"],
            2,
            "unknown level 'nearr' in --levels (did you mean near?)",
        ),
        (
            ["scan", "in.jsonl", "--out", "o", "--levels", "exact,near", "--drop", "retold"],
            2,
            "--drop retold needs retold in --levels too",
        ),
        (
            ["scan", "in.jsonl", "--out", "o", "--keep", "lngest"],
            2,
            "none of the first 50 records has 'lngest' (fields: id, text)",
        ),
        (
            ["scan", "in.jsonl", "--out", "o", "--text-field", "story"],
            2,
            "--text-field: none of the first 52 records has it: no text field 'story'",
        ),
    ],
)
def test_errors_are_one_line(tmp_path: Path, monkeypatch, args, code, message) -> None:
    monkeypatch.chdir(tmp_path)
    make_input(tmp_path)
    (tmp_path / "noext").write_bytes(b"\x00\x01 binary")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; permission errors cannot be provoked")
def test_unwritable_out(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = CliRunner().invoke(cli, ["scan", str(make_input(tmp_path)), "--out", str(locked / "o")])
    assert result.exit_code == 1 and "cannot write to --out" in result.output


def test_unwritable_out_under_a_file(tmp_path: Path) -> None:
    """Works as root too: a folder cannot be made under a regular file."""
    (tmp_path / "afile").write_text("x")
    result = CliRunner().invoke(
        cli, ["scan", str(make_input(tmp_path)), "--out", str(tmp_path / "afile" / "o")]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: cannot write to --out") and "Traceback" not in result.output


def test_all_quarantined_hint(tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text('{"story": "a"}\n{"story": "b"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2  # a usage error, before any work
    assert "no text field 'text' (fields: story); pass --text-field" in result.output
    assert not (tmp_path / "o" / "summary.json").exists()


def digest_folder(out: Path) -> dict[str, str]:
    digests = {}
    for path in sorted(out.rglob("*")):
        if path.is_dir():
            continue
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            summary.pop("timings")
            data = json.dumps(summary, sort_keys=True).encode()
        digests[str(path.relative_to(out))] = hashlib.sha256(data).hexdigest()
    return digests


def test_deterministic_and_input_untouched(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    before = src.read_bytes()
    retold.scan(src, out=tmp_path / "a", keep="longest")
    retold.scan(src, out=tmp_path / "b", keep="longest")
    assert digest_folder(tmp_path / "a") == digest_folder(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "clusters.jsonl",
        "dropped.jsonl",
        "index",
        "kept.jsonl",
        "pairs.jsonl",
        "premises.jsonl",
        "quarantine.jsonl",
        "report.html",
        "report.json",
        "summary.json",
    ]
    assert src.read_bytes() == before


def test_input_inside_out_is_refused(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    retold.scan(src, out=tmp_path / "o")
    with pytest.raises(retold.RetoldError, match="would be overwritten"):
        retold.scan(tmp_path / "o" / "kept.jsonl", out=tmp_path / "o")


def test_crash_leaves_previous_outputs_whole(tmp_path: Path, monkeypatch) -> None:
    src = make_input(tmp_path)
    out = tmp_path / "o"
    retold.scan(src, out=out)
    before = digest_folder(out)

    from retold.repair import stage

    calls = {"n": 0}
    real = stage.repair_text

    def explode(text: str):
        calls["n"] += 1
        if calls["n"] > 20:
            raise RuntimeError("simulated crash")
        return real(text)

    monkeypatch.setattr(stage, "repair_text", explode)
    result = CliRunner().invoke(cli, ["scan", str(src), "--out", str(out), "--restart"])
    assert result.exit_code == 1 and "internal error: RuntimeError: simulated crash" in result.output
    assert digest_folder(out) == before  # nothing half-written; no temp files left beside them


def test_fix_verb(tmp_path: Path) -> None:
    src = make_input(tmp_path)
    result = CliRunner().invoke(cli, ["fix", str(src), "--out", str(tmp_path / "f")])
    assert result.exit_code == 0, result.output
    summary = check_invariant(tmp_path / "f")
    assert summary["kept"] == 50 and summary["repairs"] == {"mojibake:macroman": 50}
    first = json.loads((tmp_path / "f" / "kept.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["text"] == "Story 0 about a café and a fox." and first["retold"]["fixes"] == [
        "mojibake:macroman"
    ]


def test_python_m_retold() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "retold", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"retold, version {retold.__version__}"


def test_stdin_csv_is_sniffed(tmp_path: Path) -> None:
    data = 'id,story\n1,"Once upon a time, a fox."\n2,"Once upon a time, a fox."\n3,Another tale entirely.\n'
    result = CliRunner().invoke(
        cli, ["scan", "-", "--text-field", "story", "-o", str(tmp_path / "o")], input=data
    )
    assert result.exit_code == 0, result.output
    assert "3 documents in: kept 2, dropped 1 (exact 1)" in result.output


def test_the_api_and_the_cli_take_the_same_options() -> None:
    """Same names, and the CLI's values with no option given are the API's defaults."""
    import inspect

    positional = {"scan": ["in.jsonl"], "audit": ["in.jsonl"], "compare": ["a", "b"], "fix": ["in.jsonl"]}
    for verb, args in positional.items():
        parameters = inspect.signature(getattr(retold, verb)).parameters
        values = cli.commands[verb].make_context(verb, [*args, "--out", "o"]).params
        for name in ("inputs", "a", "b", "out"):
            values.pop(name, None)
        assert set(values) == set(parameters) - {"inputs", "a", "b", "out"}, verb
        for name, value in values.items():
            assert value == parameters[name].default, (verb, name)


def test_an_unknown_api_option_names_the_closest(tmp_path: Path) -> None:
    with pytest.raises(
        TypeError, match="unexpected keyword argument 'near_treshold'; did you mean 'near_threshold'"
    ):
        retold.scan(tmp_path / "x.jsonl", out=tmp_path / "o", near_treshold=0.8)
