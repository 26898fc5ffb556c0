"""report.html: self-contained, every corpus string escaped, no script allowed; audit and compare."""

from __future__ import annotations

import json
import re
from pathlib import Path

import retold
from conftest import read_jsonl
from retold.report.html import CSP, highlighted, render

HOSTILE = [
    '<script>document.title="PWNED"</script>A story about a fox.',
    "<img src=x onerror=\"document.title='PWNED'\"> The fox ran far away.",
    '"><svg onload=alert(1)> A quiet story.',
]


def hostile_corpus(tmp_path: Path) -> Path:
    rows = []
    for i in range(12):
        text = HOSTILE[i % 3] + f" Then the fox met the hen number {i} near the old mill by the river."
        model = f'<img src=x onerror="alert({i % 2})">model-{i % 2}'  # hostile group names (--group-by model)
        rows.append({"id": f'<b id="x{i}">doc{i}</b>', "text": text, "model": model})
    rows.append({"id": "copy", "text": rows[0]["text"]})  # an exact copy: shown as an example pair
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out", group_by="model")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f'content="{CSP}"' in page and "script-src" not in CSP and "default-src 'none'" in CSP
    assert not re.search(r"<script", page, re.I)
    assert not re.search(r"<img|<svg[^>]*onload|<[^>]*onerror", page, re.I)  # only as escaped text
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=" in page
    assert '<b id="x0">' not in page and "&lt;b id=&quot;x0&quot;&gt;" in page
    assert "Groups side by side" in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;model-1" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_shared_runs_are_marked() -> None:
    out = highlighted("the quick brown fox <jumps> over", "a quick brown fox <jumps> here")
    assert out.startswith("the <mark>quick brown fox &lt;jumps&gt; </mark>over")


def test_render_handles_an_empty_report() -> None:
    page = render({})
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page


def test_report_json_holds_the_numbers_shown(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert report["levels"]["exact"]["duplicates"] == 1
    assert report["pairs"][0]["level"] == "exact"
    d1 = report["audit"]["metrics"]["distinct_1"]
    assert f"{d1:.4f}" in page
    assert report["documents_in"] == 13


def test_audit_writes_only_the_report(tmp_path: Path) -> None:
    src = hostile_corpus(tmp_path)
    result = retold.audit(src, tmp_path / "audit")
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == [
        "premises.jsonl",
        "report.html",
        "report.json",
    ]
    assert result.documents_in == 13
    report = json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))
    assert report["mode"] == "audit" and report["levels"]["exact"]["duplicates"] == 1


def test_no_report_option(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out", report=False)
    assert not (tmp_path / "out" / "report.html").exists()


def test_compare_two_corpora(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text(
        "".join(
            json.dumps({"id": str(i), "text": f"Once upon a time, in a tapestry of dreams, fox {i} woke up."})
            + "\n"
            for i in range(20)
        ),
        encoding="utf-8",
    )
    b.write_text(
        "".join(
            json.dumps({"id": str(i), "text": f"We bought {i} loaves of bread and milk at the shop today."})
            + "\n"
            for i in range(20)
        ),
        encoding="utf-8",
    )
    result = retold.compare(a, b, tmp_path / "cmp")
    assert (tmp_path / "cmp" / "compare.html").exists() and (tmp_path / "cmp" / "a" / "report.html").exists()
    density = next(r for r in result.per_document if r["figure"].startswith("density"))
    assert density["auc"] == 1.0 and density["separates"]
    assert any("tapestry of dreams" in p["phrase"] for p in result.phrases_a)
    assert "metric" in result.table()


def test_premises_label_every_kept_and_dropped_document(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out")
    out = tmp_path / "out"
    premises = read_jsonl(out / "premises.jsonl")
    decided = [r["id"] for name in ("kept.jsonl", "dropped.jsonl") for r in read_jsonl(out / name)]
    assert sorted(r["id"] for r in premises) == sorted(decided)
    assert all(r["premise"] is None or isinstance(r["premise"], int) for r in premises)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    sizes = {c["cluster"]: c["size"] for c in report["audit"]["premise"]["top"]}
    counted: dict[int, int] = {}
    for r in premises:
        if r["premise"] is not None:
            counted[r["premise"]] = counted.get(r["premise"], 0) + 1
    assert counted == sizes


def test_the_map_shows_every_document_or_an_even_sample(tmp_path: Path, monkeypatch) -> None:
    from retold import report as report_module

    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out")
    m = json.loads((tmp_path / "out" / "report.json").read_text())["audit"]["map"]
    assert m["shown"] == m["documents"] == 13 and len(m["x"]) == len(m["kind"]) == 13
    assert all(0 <= v <= 1 for v in m["x"] + m["y"]) and m["kind"].count("exact") == 1  # the copy, ringed
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Map of the corpus" in page and "13 of 13 documents" in page and "repeats another (exact)" in page
    monkeypatch.setattr(report_module, "MAP_POINTS", 5)  # a large corpus: an even sample, said so
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "small", report=True)
    m = json.loads((tmp_path / "small" / "report.json").read_text())["audit"]["map"]
    assert (
        m["shown"] == 5
        and "5 of 13 documents (an even sample)" in (tmp_path / "small" / "report.html").read_text()
    )


def test_a_scan_describes_what_it_keeps_beside_its_input(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out")
    audit = json.loads((tmp_path / "out" / "report.json").read_text())["audit"]
    c = audit["curated"]
    assert (c["documents"], c["input_documents"], c["sample"]) == (12, 13, 12)
    assert c["kept"]["self_repetition"] <= c["input"]["self_repetition"]  # the exact copy is gone
    page = (tmp_path / "out" / "report.html").read_text()
    assert "kept (curated output)" in page and "the 12 documents the scan keeps" in page
    retold.audit(hostile_corpus(tmp_path), out=tmp_path / "audit")  # an audit drops nothing
    assert json.loads((tmp_path / "audit" / "report.json").read_text())["audit"]["curated"] is None
