"""Regressions found in review: each input once lost, double-counted or crashed a run."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner

import retold
from conftest import check_invariant, read_jsonl
from retold.cli import cli
from retold.repair.fixes import repair_text

DOCS = b"".join(b'{"id":"%d","text":"doc %d"}\n' % (i, i) for i in range(3))


def scan(tmp_path: Path, name: str, data: bytes, **kw) -> dict:
    src = tmp_path / name
    src.write_bytes(data)
    retold.scan(src, out=tmp_path / "out", **kw)
    return check_invariant(tmp_path / "out")


def test_truncated_zstd_is_reported(tmp_path: Path) -> None:
    s = scan(tmp_path, "z.jsonl.zst", zstandard.ZstdCompressor().compress(DOCS)[:-3])
    assert s["quarantined"] == 1 and "broke off" in next(iter(s["quarantined_by_error"]))


def test_truncated_gzip_keeps_every_decodable_line(tmp_path: Path) -> None:
    rows = b"".join(
        b'{"id":"%d","text":"story %d %s"}\n' % (i, i, os.urandom(8).hex().encode()) for i in range(3000)
    )
    blob = gzip.compress(rows)
    s = scan(tmp_path, "t.jsonl.gz", blob[: len(blob) // 2])
    import zlib

    decodable = zlib.decompressobj(31).decompress(blob[: len(blob) // 2]).count(b"\n")
    assert s["kept"] >= decodable - 1


def test_sniffing_a_broken_stream(tmp_path: Path) -> None:
    s = scan(tmp_path, "short.gz", gzip.compress(DOCS)[:20])
    assert s["quarantined"] == 1


def test_out_equal_to_input_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kept.jsonl").write_text('{"text": "precious"}\n')
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "is an input folder" in result.output
    assert (tmp_path / "kept.jsonl").read_text() == '{"text": "precious"}\n'


def test_tsv_quote_is_text(tmp_path: Path) -> None:
    s = scan(tmp_path, "q.tsv", b'id\ttext\n1\t"Hello, he said\n2\tsecond doc\n3\tthird doc\n')
    assert s["kept"] == 3


def test_csv_unclosed_quote_quarantines_one_line(tmp_path: Path) -> None:
    s = scan(tmp_path, "q.csv", b'id,text\n1,"Hello\n2,second\n3,third\n')
    assert (s["kept"], s["quarantined"]) == (2, 1)
    assert read_jsonl(tmp_path / "out" / "quarantine.jsonl")[0]["line"] == 2


def test_csv_bad_header_and_blank_lines(tmp_path: Path) -> None:
    s = scan(tmp_path, "h.csv", b"id,te\xffxt\n1,hello\n2,world\n")
    assert (s["documents_in"], s["quarantined"]) == (3, 3)
    s = scan(tmp_path, "b.csv", b"\n\nid,text\n1,a\n")
    assert s["kept"] == 1


def test_csv_duplicate_columns_and_big_field(tmp_path: Path) -> None:
    scan(tmp_path, "d.csv", b"id,text,text\n1,hello,HELLO2\n")
    rec = read_jsonl(tmp_path / "out" / "kept.jsonl")[0]
    assert rec["text"] == "hello" and rec["text.1"] == "HELLO2"
    big = "x" * 100_000 + "\n" + "y" * 100_000
    s = scan(tmp_path, "big.csv", f'id,text\n1,"{big}"\n2,b\n'.encode())
    assert (s["documents_in"], s["kept"]) == (2, 2)


def test_parquet_nanosecond_timestamps(tmp_path: Path) -> None:
    table = pa.table({"text": ["a", "b"], "ts": pa.array([1, 2], pa.timestamp("ns"))})
    pq.write_table(table, tmp_path / "p.parquet")
    retold.scan(tmp_path / "p.parquet", out=tmp_path / "out")
    assert check_invariant(tmp_path / "out")["kept"] == 2


def test_huge_json_integer_and_nan(tmp_path: Path) -> None:
    data = b'{"text": "a", "n": ' + b"9" * 5000 + b'}\n{"text": "b", "x": NaN, "y": 1e999}\n'
    s = scan(tmp_path, "h.jsonl", data)
    assert (s["kept"], s["quarantined"]) == (1, 1)
    line = (tmp_path / "out" / "kept.jsonl").read_text()
    assert "NaN" not in line and "Infinity" not in line and json.loads(line)["x"] is None


def test_keep_field_with_big_ints_and_decimals(tmp_path: Path) -> None:
    rows = [{"id": "a", "text": "same", "s": 10**400}, {"id": "b", "text": "SAME", "s": 1}]
    (tmp_path / "k.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = retold.scan(tmp_path / "k.jsonl", out=tmp_path / "o1", keep="s")
    assert [x["id"] for x in r.kept_records()] == ["a"]
    import decimal

    table = pa.table(
        {"id": ["1", "2"], "text": ["t", "T"], "dec": [decimal.Decimal("1.50"), decimal.Decimal("9.25")]}
    )
    pq.write_table(table, tmp_path / "d.parquet")
    r = retold.scan(tmp_path / "d.parquet", out=tmp_path / "o2", keep="dec")
    assert [x["id"] for x in r.kept_records()] == ["2"]
    # a --keep that is neither first, longest nor a field the records hold fails before any work
    with pytest.raises(
        retold.errors.BadOption, match=r"none of the first 2 records has 'Longest' \(fields: id, s, text\)"
    ):
        retold.scan(tmp_path / "k.jsonl", out=tmp_path / "o3", keep="Longest")
    assert not (tmp_path / "o3" / "summary.json").exists()


def test_stdin_twice_and_huge_max_doc_bytes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "-", "-", "--out", str(tmp_path / "o")], input=DOCS)
    assert result.exit_code == 2 and "only once" in result.output
    result = CliRunner().invoke(
        cli, ["scan", "-", "--out", str(tmp_path / "o"), "--max-doc-bytes", str(2**63 - 1)]
    )
    assert result.exit_code == 2


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(DOCS)
    r = retold.scan([tmp_path / "a.jsonl", tmp_path / "a.jsonl"], out=tmp_path / "o")
    assert (r.documents_in, r.kept, r.duplicate_ids) == (3, 3, 0)


def test_non_utf8_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "weird"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")
    (folder / name).write_text("hi")
    r = retold.scan(folder, out=tmp_path / "o")
    assert r.kept == 1
    check_invariant(tmp_path / "o")


@pytest.mark.parametrize(
    "text",
    [
        "Er sagte “Über alles” und ging.",
        "«Ça va?» dit-il.",
        "Et puis…à demain!",
        "Attends…ça suffit",
        "Non…è vero",
    ],
)
def test_punctuation_before_accented_letter_is_not_mojibake(text: str) -> None:
    assert repair_text(text) == (text, [])
