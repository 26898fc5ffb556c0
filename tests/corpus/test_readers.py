"""Every input kind, read end to end through ``retold.scan``; the invariant holds on each."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import retold
from conftest import read_jsonl, read_output

STORIES = [
    {"id": "a", "text": "The fox ran home."},
    {"id": "b", "text": "the   FOX ran home."},  # exact copy of a after normalisation
    {"id": "c", "text": "A different story about a café."},
]


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name, compress",
    [
        ("c.jsonl", lambda b: b),
        ("c.jsonl.gz", gzip.compress),
        ("c.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
        ("c.jsonl.bz2", bz2.compress),
        ("c.data", gzip.compress),  # no telling extension: magic bytes say gzip, content says JSONL
    ],
)
def test_jsonl_and_compressions(tmp_path: Path, invariant, name, compress) -> None:
    src = write(tmp_path / name, compress(jsonl_bytes(STORIES)))
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert (result.documents_in, result.kept, result.dropped) == (3, 2, {"exact": 1})
    dropped = read_jsonl(tmp_path / "out" / "dropped.jsonl")
    assert dropped[0]["retold"]["kept_id"] == "a" and dropped[0]["retold"]["similarity"] == 1.0


def test_csv_and_tsv(tmp_path: Path, invariant) -> None:
    csv_text = 'id,text\na,"The fox, it ran\nhome."\nb,plain\nc,"bad row",extra\n'
    src = write(tmp_path / "c.csv", csv_text.encode())
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert [r["text"] for r in kept] == ["The fox, it ran\nhome.", "plain"]
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")
    assert result.quarantined == 1 and "3 fields" in q[0]["error"] and q[0]["line"] == 5
    tsv = write(tmp_path / "t.tsv", b"id\ttext\nx\thello\n")
    assert retold.scan(tsv, out=tmp_path / "out2").kept == 1


def test_csv_bad_bytes_are_quarantined_with_raw(tmp_path: Path, invariant) -> None:
    src = write(tmp_path / "c.csv", b"id,text\na,ok\nb,bad \xff byte\nc,nul\x00here\nd,fine\n")
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.kept == 2 and result.quarantined == 2
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")
    assert q[0]["raw"]["encoding"] == "base64" and "invalid UTF-8" in q[0]["error"]
    assert "NUL" in q[1]["error"]


def test_parquet(tmp_path: Path, invariant) -> None:
    table = pa.table({"id": ["a", "b", "c", "d"], "text": ["one", "ONE", None, "two"], "score": [1, 5, 2, 3]})
    pq.write_table(table, tmp_path / "c.parquet")
    result = retold.scan(tmp_path / "c.parquet", out=tmp_path / "out", keep="score")
    invariant(tmp_path / "out")
    assert result.kept == 2 and result.quarantined == 1  # null text quarantined
    kept_ids = [r["id"] for r in read_output(tmp_path / "out", "kept")]  # Parquet in, Parquet out
    assert kept_ids == ["b", "d"]  # --keep score: b (5) beats a (1)


def test_corrupt_parquet_is_quarantined(tmp_path: Path, invariant) -> None:
    src = write(tmp_path / "bad.parquet", b"PAR1 this is not parquet")
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.quarantined == 1
    assert "Parquet" in read_output(tmp_path / "out", "quarantine")[0]["error"]


def test_folder_of_text_files(tmp_path: Path, invariant) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("First story.\r\nSecond line.\r\n", encoding="utf-8")
    (folder / "sub" / "b.md").write_bytes(b"\xef\xbb\xbf# Title\n\nBody.")  # BOM
    (folder / "sub" / "c.txt").write_bytes(b"\xff\xfeh\x00i\x00")  # UTF-16 with BOM
    (folder / "d.txt").write_bytes(b"bin\x00ary")
    (folder / "e.txt").write_bytes(b"bad \xc3\x28 utf8")
    (folder / "image.png").write_bytes(b"\x89PNG")  # not a corpus file: skipped
    (folder / ".hidden.txt").write_text("skip me")
    result = retold.scan(folder, out=folder / "out")  # --out inside the input folder is skipped
    summary = invariant(folder / "out")
    assert result.documents_in == 5 and result.kept == 3 and result.quarantined == 2
    kept = {r["id"]: r["text"] for r in read_jsonl(folder / "out" / "kept.jsonl")}
    assert kept == {
        "a.txt": "First story.\nSecond line.\n",
        "sub/b.md": "# Title\n\nBody.",
        "sub/c.txt": "hi",
    }
    assert summary["repairs"] == {"fix_crlf": 1}


def test_stdin(tmp_path: Path, invariant, monkeypatch) -> None:
    import io
    import sys

    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(gzip.compress(jsonl_bytes(STORIES))))  # type: ignore[arg-type]

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    result = retold.scan("-", out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.kept == 2
    assert read_jsonl(tmp_path / "out" / "kept.jsonl")[0]["id"] == "a"


def test_several_inputs_and_default_ids(tmp_path: Path, invariant) -> None:
    a = write(tmp_path / "a.jsonl", jsonl_bytes([{"text": "one"}, {"text": "two"}]))
    b = write(tmp_path / "b.jsonl", jsonl_bytes([{"text": "TWO"}]))
    result = retold.scan([a, b], out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.kept == 2
    dropped = read_jsonl(tmp_path / "out" / "dropped.jsonl")
    assert dropped[0]["retold"]["id"] == "b.jsonl:1" and dropped[0]["retold"]["kept_id"] == "a.jsonl:2"


BAD_LINES = [
    (b'{"id": "nul", "text": "a\x00b"}', "NUL byte"),
    (b'{"id": "utf", "text": "caf\xe9"}', "invalid UTF-8"),
    (b'{"id": "trunc", "text": "cut of', "malformed JSON"),
    (b'{"id": "nofield", "body": "x"}', "no text field 'text'"),
    (b'{"id": "null", "text": null}', "is null"),
    (b'{"id": "num", "text": 42}', "is int"),
    (b'["a", "list"]', "expected an object"),
]


def test_bad_lines_are_quarantined_not_lost(tmp_path: Path, invariant) -> None:
    good = b'{"id": "ok", "text": "fine"}'
    data = b"\xef\xbb\xbf" + b"\r\n".join([good] + [line for line, _ in BAD_LINES]) + b"\r\n"
    data += b'{"id": "empty", "text": "   "}\n\n{"id": "ok", "text": "second with same id"}\n'
    result = retold.scan(write(tmp_path / "bad.jsonl", data), out=tmp_path / "out")
    summary = invariant(tmp_path / "out")
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")
    assert [e for _, e in BAD_LINES] == [next(e for _, e in BAD_LINES if e in item["error"]) for item in q]
    assert [item["line"] for item in q] == list(range(2, 2 + len(BAD_LINES)))
    assert result.dropped == {"empty": 1}
    assert summary["duplicate_ids"] == 1
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert [r["retold"]["id"] for r in kept] == ["ok", "ok#2"]
    assert [r["id"] for r in kept] == ["ok", "ok"]  # the record itself is not changed
    # raw bytes round-trip
    import base64

    raw = q[1]["raw"]
    assert base64.b64decode(raw["data"]) == BAD_LINES[1][0]


def test_unpaired_surrogate_escape_is_repaired(tmp_path: Path, invariant) -> None:
    src = write(tmp_path / "s.jsonl", b'{"id": "s", "text": "a\\ud800b", "other": "x\\udfffy"}\n')
    retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    rec = read_jsonl(tmp_path / "out" / "kept.jsonl")[0]
    assert rec["text"] == "a\ufffdb" and rec["other"] == "x\udfffy"  # other fields kept as they were


def test_truncated_gzip(tmp_path: Path, invariant) -> None:
    rows = [{"id": str(i), "text": f"story number {i} " * 20} for i in range(2000)]
    blob = gzip.compress(jsonl_bytes(rows))
    src = write(tmp_path / "t.jsonl.gz", blob[: len(blob) // 2])
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")
    assert result.kept > 0 and result.quarantined == 1
    assert "broke off" in q[0]["error"] and q[0]["line"] == result.kept + 1


def test_empty_file(tmp_path: Path, invariant) -> None:
    result = retold.scan(write(tmp_path / "e.jsonl", b""), out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.documents_in == 0 and "no documents" in result.warnings[0]


def test_oversize_document(tmp_path: Path, invariant) -> None:
    big = "word " * 300_000  # 1.5 MB
    src = write(
        tmp_path / "big.jsonl", jsonl_bytes([{"id": "big", "text": big}, {"id": "s", "text": "small"}])
    )
    result = retold.scan(src, out=tmp_path / "out", max_doc_bytes=1 << 20)
    invariant(tmp_path / "out")
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")
    assert result.kept == 1 and "over --max-doc-bytes" in q[0]["error"]
    assert q[0]["raw"]["bytes"] == len(json.dumps({"id": "big", "text": big}))


def test_fifty_megabyte_document(tmp_path: Path, invariant) -> None:
    """The issue's 50 MB single document: quarantined by default, processed when allowed."""
    line = ("A long line of story text with a café in it. " * 20 + "\n") * 55_000
    src = tmp_path / "huge.txt"
    src.write_text(line, encoding="utf-8")
    assert src.stat().st_size > 50_000_000
    result = retold.scan(src, out=tmp_path / "out")
    invariant(tmp_path / "out")
    assert result.quarantined == 1
    q = read_jsonl(tmp_path / "out" / "quarantine.jsonl")[0]
    assert q["raw"]["truncated"] is True and q["raw"]["bytes"] == src.stat().st_size
    result = retold.scan(src, out=tmp_path / "out2", max_doc_bytes=64 << 20)
    invariant(tmp_path / "out2")
    assert result.kept == 1
    # the audit reads its first AUDIT_DOC_CHARS characters, and says so
    audit = json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))["audit"]
    assert audit["cut"] == {"characters": 100_000, "documents": 1}
    assert "1 audited document was longer than 100,000 characters" in (
        tmp_path / "out2" / "report.html"
    ).read_text(encoding="utf-8")


def test_oversize_jsonl_line_does_not_load_whole(tmp_path: Path, invariant) -> None:
    src = write(tmp_path / "l.jsonl", b'{"text": "' + b"x" * 3_000_000 + b'"}\n{"text": "after"}\n')
    result = retold.scan(src, out=tmp_path / "out", max_doc_bytes=1 << 20)
    invariant(tmp_path / "out")
    assert result.kept == 1 and result.quarantined == 1
