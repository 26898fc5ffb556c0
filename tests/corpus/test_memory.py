"""Corpora in memory (lists, DataFrames, Arrow, Hugging Face datasets) in, the same type out."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import retold
from conftest import check_invariant, read_output
from retold.corpus.memory import InputFailed, kind_of, spill
from retold.errors import BadOption

pd = pytest.importorskip("pandas", reason="pandas is a dev extra (make test installs it)")
pl = pytest.importorskip("polars", reason="polars is a dev extra (make test installs it)")
datasets = pytest.importorskip("datasets", reason="datasets is a dev extra (make test installs it)")

STORY = "The miller walked to the river at night and found a silver lamp under the old bridge."
TEXTS = [STORY, STORY, "caf√© by the harbor in winter", "A wagon of bread rolled to the market at dawn."]
FAST = {"levels": "exact,near", "report": False, "quiet": True}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": TEXTS,
            "score": pd.array([3, 1, 2, 5], dtype="int16"),
            "when": pd.date_range("2024-01-01", periods=4, freq="D"),
            "tags": [["a"], [], ["b", "c"], None],
        }
    )


def test_list_of_texts_in_list_of_records_out() -> None:
    with retold.scan(TEXTS, **FAST) as result:
        assert (result.documents_in, result.kept, result.dropped) == (4, 3, {"exact": 1})
        kept = result.kept_data()
        assert isinstance(kept, list) and [r["retold"]["id"] for r in kept] == ["0", "2", "3"]
        assert kept[1]["text"] == "café by the harbor in winter"  # repaired
        assert result.kept_texts()[1] == "café by the harbor in winter"
        dropped = result.dropped_data()
        assert dropped[0]["retold"]["reason"] == "exact" and dropped[0]["retold"]["kept_id"] == "0"
        pairs = result.pairs_data()
        assert [(p["level"], p["a"], p["b"]) for p in pairs] == [("exact", "0", "1")]
        folder = result.owned
        assert folder is not None and folder.exists()
    assert not folder.exists()  # the temporary folder went with the result
    with pytest.raises(ValueError, match="closed"):
        result.kept_data()


def test_pandas_in_pandas_out_with_types_kept(tmp_path: Path) -> None:
    result = retold.scan(frame(), out=tmp_path / "out", **FAST)
    check_invariant(tmp_path / "out")
    assert (tmp_path / "out" / "kept.parquet").exists()  # a table in: Parquet on disk, typed
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["output_format"] == "parquet"
    assert not (tmp_path / "out" / ".retold-input").exists()  # the copy of the corpus went
    kept = result.kept_data()
    assert isinstance(kept, pd.DataFrame)
    assert str(kept["score"].dtype) == "int16" and str(kept["when"].dtype).startswith("datetime64")
    assert list(kept["retold_id"]) == ["0", "2", "3"]
    assert list(kept.columns[:4]) == ["text", "score", "when", "tags"]
    assert kept["tags"].iloc[1].tolist() == ["b", "c"]
    dropped = result.dropped_data()
    assert dropped[["retold_reason", "retold_kept_id", "retold_similarity"]].values.tolist() == [
        ["exact", "0", 1.0]
    ]
    assert isinstance(result.pairs_data(), pd.DataFrame)
    assert result.kept_data(as_="list")[0]["retold"]["id"] == "0"


def test_polars_arrow_and_datasets_round_trip() -> None:
    source = frame()
    for data, check in (
        (pl.from_pandas(source), lambda k: isinstance(k, pl.DataFrame) and k.schema["score"] == pl.Int16),
        (pl.from_pandas(source).lazy(), lambda k: isinstance(k, pl.DataFrame)),
        (
            pa.Table.from_pandas(source, preserve_index=False),
            lambda k: k.schema.field("retold").type.num_fields == 8,
        ),
        (datasets.Dataset.from_pandas(source), lambda k: isinstance(k, datasets.Dataset) and k.num_rows == 3),
        (
            datasets.Dataset.from_pandas(source).to_iterable_dataset(),
            lambda k: isinstance(k, datasets.IterableDataset) and len(list(k)) == 3,
        ),
    ):
        with retold.scan(data, **FAST) as result:
            assert (result.kept, result.dropped) == (3, {"exact": 1}), type(data)
            assert check(result.kept_data()), type(data)


def test_dataset_view_reads_the_rows_it_shows() -> None:
    ds = datasets.Dataset.from_dict({"text": TEXTS, "n": [0, 1, 2, 3]}).select([3, 2, 0])
    with retold.scan(ds, **FAST) as result:
        assert result.kept_data()["n"] == [3, 2, 0]


def test_nested_columns_and_non_string_texts_are_quarantined() -> None:
    ds = datasets.Dataset.from_list(
        [
            {"text": STORY, "meta": {"model": "a", "scores": [1, 2]}},
            {"text": "other words here", "meta": {"model": "b", "scores": []}},
        ]
    )
    with retold.scan(ds, **FAST) as result:
        assert result.kept_data()["meta"][0] == {"model": "a", "scores": [1, 2]}
    mixed = pd.DataFrame({"text": [STORY, 3, None, float("nan"), "fine text"]})
    with retold.scan(mixed, **FAST) as result:
        assert (result.kept, result.quarantined) == (2, 3)
        errors = list(result.quarantined_data()["error"])  # a DataFrame in: a DataFrame out
        assert errors == ["text field 'text' is int, expected a string", *["text field 'text' is null"] * 2]
    with retold.scan([STORY, None, 7, {"text": "a dict record", "id": "d"}], **FAST) as result:
        assert (result.kept, result.quarantined) == (2, 2)
        assert [r["retold"]["id"] for r in result.kept_data()] == ["0", "d"]


def test_bad_corpora_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BadOption, match=r"has no column 'text' \(columns: body, n\); pass text_field="):
        retold.scan(pd.DataFrame({"body": ["x"], "n": [1]}), **FAST)
    with pytest.raises(BadOption, match="got a dict"):
        retold.scan({"text": ["a"]}, **FAST)
    with pytest.raises(BadOption, match="cannot read a corpus from a int"):
        retold.scan(5, **FAST)

    def broken():
        yield "one story of some words"
        yield "another story of other words"
        raise RuntimeError("the source went away")

    with pytest.raises(InputFailed, match="raised after 2 records: RuntimeError: the source went away"):
        retold.scan(broken(), out=tmp_path / "out", **FAST)
    assert not (tmp_path / "out" / "summary.json").exists()  # nothing written as complete
    assert not list((tmp_path / "out").glob("kept.*"))
    result = retold.scan([], **FAST)
    assert result.documents_in == 0 and "the input holds no documents" in result.warnings
    result = retold.scan([{"id": "x", "text": "one text"}, {"id": "x", "text": "two texts"}], **FAST)
    assert result.duplicate_ids == 1 and [r["retold"]["id"] for r in result.kept_data()] == ["x", "x#2"]


def test_paths_are_still_paths(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": STORY}) + "\n")
    assert kind_of(str(path)) is None and kind_of([path]) is None and kind_of([str(path), "-"]) is None
    assert kind_of(["two words", "three more words"]) == "list"
    with pytest.raises(retold.errors.InputNotFound):
        retold.scan(["missing.jsonl"], out=tmp_path / "o")


def test_same_corpus_spills_to_the_same_untouched_file(tmp_path: Path) -> None:
    """What lets a rerun after an interruption resume: the same input file, its mtime kept."""
    a = spill(frame(), "pandas", tmp_path, "text").source.path
    before = a.stat().st_mtime_ns
    b = spill(frame(), "pandas", tmp_path, "text").source.path
    assert a == b and b.stat().st_mtime_ns == before
    assert (
        spill(TEXTS, "list", tmp_path, "text").source.path
        == spill(list(TEXTS), "list", tmp_path, "text").source.path
    )
    assert len(list(tmp_path.iterdir())) == 2  # no temporary files left


def test_parquet_output_keeps_types_and_notes(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": TEXTS,
            "n": pa.array([1, 2, 3, 4], pa.int8()),
            "ts": pa.array([dt.datetime(2024, 5, d) for d in range(1, 5)], pa.timestamp("ns", tz="UTC")),
            "blob": pa.array([b"\x00\xff", None, b"x", b""], pa.binary()),
            "price": pa.array([1, 2, 3, 4], pa.decimal128(6, 2)),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    retold.scan(tmp_path / "in.parquet", out=tmp_path / "p", **FAST)
    kept = pq.read_table(tmp_path / "p" / "kept.parquet")
    assert kept.schema.remove_metadata().field("ts").type == pa.timestamp("ns", tz="UTC")
    assert kept.column("blob").to_pylist() == [b"\x00\xff", b"x", b""]
    assert kept.schema.field("price").type == pa.decimal128(6, 2) and kept.schema.field("n").type == pa.int8()
    dropped = pq.read_table(tmp_path / "p" / "dropped.parquet").to_pylist()
    assert dropped[0]["retold"]["reason"] == "exact" and dropped[0]["n"] == 2
    # the same input asked for JSONL; --against reads a Parquet folder's index
    retold.scan(tmp_path / "in.parquet", out=tmp_path / "j", output_format="jsonl", **FAST)
    assert (tmp_path / "j" / "kept.jsonl").exists() and not (tmp_path / "j" / "kept.parquet").exists()
    assert [r["retold"]["id"] for r in read_output(tmp_path / "p", "kept")] == [
        r["retold"]["id"] for r in read_output(tmp_path / "j", "kept")
    ]
    again = retold.scan(tmp_path / "in.parquet", out=tmp_path / "a", against=[tmp_path / "p"], **FAST)
    assert again.dropped == {"exact": 4}
    # rewritten in the other format: the earlier run's tables go, nothing stale is left
    retold.scan(tmp_path / "in.parquet", out=tmp_path / "p", output_format="jsonl", **FAST)
    assert not list((tmp_path / "p").glob("*.parquet"))


def test_jsonl_in_parquet_out(tmp_path: Path) -> None:
    rows = [{"text": t, "n": i, "odd": "x" if i % 2 else i} for i, t in enumerate(TEXTS)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    retold.scan(tmp_path / "in.jsonl", out=tmp_path / "o", output_format="parquet", **FAST)
    check_invariant(tmp_path / "o")
    kept = pq.read_table(tmp_path / "o" / "kept.parquet")
    assert kept.schema.field("n").type == pa.int64()
    assert kept.column("odd").to_pylist() == ["0", "2", "x"]  # no common type: JSON text
    assert {p.name for p in (tmp_path / "o").iterdir()} >= {
        f"{n}.parquet" for n in ("kept", "dropped", "quarantine", "clusters", "pairs")
    }


def test_no_out_removes_its_folder_when_collected() -> None:
    import gc

    result = retold.scan(TEXTS, **FAST)
    folder = result.owned
    assert folder is not None and folder.exists()
    del result
    gc.collect()
    assert not folder.exists()


def test_interrupted_in_memory_run_keeps_its_input_to_resume(tmp_path: Path, monkeypatch) -> None:
    from retold.engine import local

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "decide", stop)
    with pytest.raises(KeyboardInterrupt):
        retold.scan(frame(), out=tmp_path / "out", **FAST)
    spilled = list((tmp_path / "out" / ".retold-input").iterdir())
    assert len(spilled) == 1 and os.path.getsize(spilled[0]) > 0
    monkeypatch.undo()
    result = retold.scan(frame(), out=tmp_path / "out", **FAST)
    assert result.kept == 3 and not (tmp_path / "out" / ".retold-input").exists()


def test_recut_a_result_gives_a_result_of_its_kind() -> None:
    result = retold.scan(frame(), report=False, quiet=True)
    again = retold.recut(result, drop="near")  # exact copies kept now, reported
    assert isinstance(again.kept_data(), pd.DataFrame) and again.kept == 4
    assert list(again.kept_data()["retold_cluster_id"].dropna()) == []  # kept records carry no cluster
    folder = again.owned
    del result  # the first result gave its folder up: collecting it removes nothing
    import gc

    gc.collect()
    assert folder is not None and folder.exists()
    again.close()
    assert not folder.exists()


def test_audit_takes_a_dataframe(tmp_path: Path) -> None:
    result = retold.audit(frame(), out=tmp_path / "a", levels="exact,near", quiet=True)
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert result.documents_in == 4 and report["documents_in"] == 4
    assert not (tmp_path / "a" / ".retold-input").exists()


def test_a_missing_library_names_its_extra(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    with (
        retold.scan(TEXTS, **FAST) as result,
        pytest.raises(ModuleNotFoundError, match=r"pip install 'retold\[polars\]'"),
    ):
        result.kept_data(as_="polars")
    with retold.scan(TEXTS, **FAST) as result, pytest.raises(ValueError, match="as_ must be one of"):
        result.kept_data(as_="excel")
