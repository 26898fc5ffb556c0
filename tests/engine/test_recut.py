"""``retold.engine.recut``: a finished scan decided again gives what a fresh scan at the new settings
writes, byte for byte, or refuses with the next step.

The corpora are the golden fixtures (``tests/data/golden``: exact, near and retold copies, repair,
quarantine, empty texts, a repeated id). Each scan is made once per module and copied for each
recut; fresh scans run without the report (it plays no part in the compared files).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import retold
from conftest import check_invariant
from retold.engine.recut import NotRecuttable, recut
from retold.errors import BadOption

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
ALL = ["a.jsonl", "b.jsonl", "c.jsonl"]
RECORDS = ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "pairs.jsonl", "quarantine.jsonl")


def files(out: Path, index: bool = True) -> dict[str, bytes]:
    """The bytes of every record file (and of index/, when asked) under ``out``."""
    found = {name: (out / name).read_bytes() for name in RECORDS}
    if index:
        for path in sorted((out / "index").iterdir()):
            found[f"index/{path.name}"] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recut")
    shutil.copytree(GOLDEN, root / "in")
    return root


_scans: dict[str, Path] = {}


def scanned(place: Path, inputs: list[str], **options: object) -> Path:
    """A scan of ``inputs`` with ``options``, made once (report included)."""
    key = json.dumps([inputs, options], sort_keys=True)
    if key not in _scans:
        out = place / f"scan-{len(_scans)}"
        retold.scan([str(place / "in" / i) for i in inputs], out=out, **options)  # type: ignore[arg-type]
        _scans[key] = out
    return _scans[key]


def fresh(place: Path, inputs: list[str], **options: object) -> Path:
    return scanned(place, inputs, report=False, **options)


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def test_drop_retold_too_is_a_fresh_scan(place: Path, tmp_path: Path) -> None:
    out = copy(scanned(place, ALL, levels="exact,near,retold"), tmp_path / "out")
    result = recut(out, drop=("exact", "near", "retold"))
    assert result.dropped["retold"] > 0
    assert files(out) == files(fresh(place, ALL, levels="exact,near,retold", drop="exact,near,retold"))
    summary = check_invariant(out)
    assert summary["options"]["drop"] == ["exact", "near", "retold"]
    assert summary["recut"]["changed"] == {
        "drop": {"scanned": ["exact", "near"], "now": ["exact", "near", "retold"]}
    }
    # the report described the scan's decisions: it goes, and the summary says so
    assert not (out / "report.html").exists() and not (out / "premises.jsonl").exists()
    assert any("report.html" in w for w in summary["warnings"])
    assert summary["fingerprint"] is None


def test_drop_near_no_more_keeps_its_copies(place: Path, tmp_path: Path) -> None:
    out = copy(scanned(place, ALL, levels="exact,near,retold"), tmp_path / "out")
    result = recut(out, drop="exact")
    assert "near" not in result.dropped and result.reported["near"] > 0
    want = fresh(place, ALL, levels="exact,near,retold", drop="exact")
    assert files(out, index=False) == files(want, index=False)
    # the near copies kept now had no vector saved: the index leaves the retold level out, and says so
    manifest = json.loads((out / "index" / "manifest.json").read_text())
    assert sorted(manifest["levels"]) == ["exact", "near"]
    assert any("holds no retold vectors" in w for w in check_invariant(out)["warnings"])


@pytest.mark.parametrize("threshold", [0.8, 0.9])
def test_higher_near_threshold_is_a_fresh_scan(place: Path, tmp_path: Path, threshold: float) -> None:
    out = copy(scanned(place, ALL, levels="exact,near"), tmp_path / "out")
    before = check_invariant(out)["dropped"]["near"]
    result = recut(out, near_threshold=threshold)
    assert result.dropped.get("near", 0) < before
    assert files(out) == files(fresh(place, ALL, levels="exact,near", near_threshold=threshold))
    summary = check_invariant(out)
    assert summary["options"]["near_threshold"] == threshold
    assert summary["levels"]["near"]["threshold"] == threshold


def test_same_settings_change_nothing(place: Path, tmp_path: Path) -> None:
    scan = scanned(place, ALL, levels="exact,near,retold")
    out = copy(scan, tmp_path / "out")
    recut(out, near_threshold=0.7, retold_threshold=0.01)
    assert files(out) == files(scan)
    check_invariant(out)


def test_higher_retold_threshold_is_a_fresh_scan(place: Path, tmp_path: Path) -> None:
    scan = scanned(place, ["c.jsonl"], levels="exact,near,retold")
    assert check_invariant(scan)["reported"]["retold"] == 1  # one pair, order gain 0.2998
    out = copy(scan, tmp_path / "kept")
    recut(out, retold_threshold=0.1)
    assert files(out) == files(fresh(place, ["c.jsonl"], levels="exact,near,retold", retold_threshold=0.1))
    out = copy(scan, tmp_path / "gone")
    result = recut(out, retold_threshold=0.5, drop="exact,near,retold")
    assert result.clusters["retold"] == 0 and check_invariant(out)["levels"]["retold"]["verified_pairs"] == 0
    want = fresh(
        place, ["c.jsonl"], levels="exact,near,retold", retold_threshold=0.5, drop="exact,near,retold"
    )
    assert files(out) == files(want)


@pytest.mark.parametrize("threshold", [0.015, 0.02, 0.03, 0.05, 0.1])
def test_any_higher_retold_threshold_is_replayed_as_a_fresh_scan(
    place: Path, tmp_path: Path, threshold: float
) -> None:
    """The level verifies at its floor and applies its threshold last: every higher threshold is
    the scan's pairs that reach it, groups of tellings and near-verbatim pairs included."""
    out = copy(scanned(place, ALL, levels="exact,near,retold"), tmp_path / "out")
    recut(out, retold_threshold=threshold)
    assert files(out) == files(fresh(place, ALL, levels="exact,near,retold", retold_threshold=threshold))
    summary = check_invariant(out)
    assert not any("compared the documents again" in w for w in summary["warnings"])  # replayed, no model


@pytest.mark.parametrize("threshold", [0.6, 0.8])
def test_near_threshold_with_retold_on_decides_retold_again(
    place: Path, tmp_path: Path, threshold: float
) -> None:
    """Near copies kept (or dropped) at the new near threshold change what the retold level
    compares: it is decided again with its models, and the outputs are still a fresh scan's."""
    out = copy(scanned(place, ALL, levels="exact,near,retold"), tmp_path / "out")
    recut(out, near_threshold=threshold)
    assert files(out) == files(fresh(place, ALL, levels="exact,near,retold", near_threshold=threshold))
    assert any("retold level compared the documents again" in w for w in check_invariant(out)["warnings"])


def test_refusals_leave_the_folder_as_it_was(place: Path, tmp_path: Path) -> None:
    out = copy(scanned(place, ALL, levels="exact,near,retold"), tmp_path / "out")
    before = files(out) | {"summary.json": (out / "summary.json").read_bytes()}
    # below the scanned retold threshold: pairs.jsonl holds none of the pairs there
    with pytest.raises(
        BadOption,
        match=r"wrote the retold pairs at --retold-threshold 0.01; recut can only raise it \(asked 0.005\): "
        r"rerun retold scan .* --retold-threshold 0.005",
    ):
        recut(out, retold_threshold=0.005)
    with pytest.raises(BadOption, match="unknown level 'nope' in --drop; the levels are exact, near, retold"):
        recut(out, drop="exact,nope")
    assert files(out) | {"summary.json": (out / "summary.json").read_bytes()} == before
    assert not (out / ".retold-work").exists() and (out / "report.html").exists()


def test_parquet_outputs_are_recut_as_parquet(place: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for name in ALL:
        for line in (place / "in" / name).read_bytes().decode("utf-8", "replace").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # the fixtures' unreadable lines
    rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("text"), str)]
    table = pa.Table.from_pylist([{"id": r.get("id"), "text": r["text"], "n": i} for i, r in enumerate(rows)])
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "out"
    retold.scan(tmp_path / "in.parquet", out=out, levels="exact,near,retold")
    recut(out, retold_threshold=0.03, drop="exact,near,retold")
    want = tmp_path / "want"
    retold.scan(
        tmp_path / "in.parquet",
        out=want,
        levels="exact,near,retold",
        retold_threshold=0.03,
        drop="exact,near,retold",
        report=False,
    )
    names = ("kept", "dropped", "clusters", "pairs", "quarantine")
    for name in names:
        assert (out / f"{name}.parquet").read_bytes() == (want / f"{name}.parquet").read_bytes(), name
    assert not (out / "kept.jsonl").exists()
    kept = pq.read_table(out / "kept.parquet")
    assert kept.schema.field("n").type == pa.int64() and "retold" in kept.schema.names
    check_invariant(out)


def test_not_a_finished_scan(place: Path, tmp_path: Path) -> None:
    with pytest.raises(NotRecuttable, match="not a folder"):
        recut(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotRecuttable, match=r"no summary\.json, not a finished retold scan"):
        recut(tmp_path / "empty")
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "report.json").write_text("{}")
    with pytest.raises(NotRecuttable, match="a retold audit's report"):
        recut(tmp_path / "audit")
    retold.fix([str(place / "in" / "c.jsonl")], out=tmp_path / "fixed")
    with pytest.raises(NotRecuttable, match="output of retold fix"):
        recut(tmp_path / "fixed")
    scan = scanned(place, ["c.jsonl"], levels="exact,near,retold")
    busy = copy(scan, tmp_path / "busy")
    (busy / ".retold-work").mkdir()
    (busy / ".retold-work" / "state.json").write_text("{}")
    with pytest.raises(NotRecuttable, match="run in progress or stopped part way"):
        recut(busy)
    other = copy(scan, tmp_path / "other")
    summary = json.loads((other / "summary.json").read_text())
    (other / "summary.json").write_text(json.dumps({**summary, "retold_version": "0.0.1"}))
    with pytest.raises(NotRecuttable, match=r"written by retold 0\.0\.1"):
        recut(other)
    bare = copy(scan, tmp_path / "bare")
    shutil.rmtree(bare / "index")
    with pytest.raises(NotRecuttable, match="--no-index"):
        recut(bare)
    edited = copy(scan, tmp_path / "edited")
    with open(edited / "kept.jsonl", "a") as fh:
        fh.write('{"text": "x"}\n')
    with pytest.raises(NotRecuttable, match=r"kept\.jsonl changed since the scan"):
        recut(edited)
    # the near copies' vectors and the order of documents come from index/: a scan --against is not handled
    against = copy(scan, tmp_path / "against")
    summary = json.loads((against / "summary.json").read_text())
    (against / "summary.json").write_text(json.dumps({**summary, "against": [{"folder": "x"}]}))
    with pytest.raises(NotRecuttable, match="--against"):
        recut(against)
