"""The spool: every readable document of a run, repaired, on disk, in input order.

Pass 1 appends each record to two files in the run's work folder; the decisions, the retold
verifier, the report and the outputs read them back:

* ``spool.jsonl``: one line per document, ``FIXES<TAB>RECORD``: the JSON list of the repairs
  applied, a tab, and the record as JSON (its text repaired);
* ``ids.jsonl``: each document's id as a JSON string, one a line.

Both are only appended to; a checkpoint notes their sizes (:meth:`Spool.checkpoint`) and a resumed
run cuts them back to those sizes (:meth:`Spool.open`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from retold.corpus.writers import dumps, reopen_at
from retold.records import Record

SPOOL = "spool.jsonl"
IDS = "ids.jsonl"


class Spool:
    """The spool's writer, with the ids of what it holds (in memory: one string a document)."""

    def __init__(self, work: Path, checkpoint: dict[str, int] | None = None) -> None:
        self.path = work / SPOOL
        self.ids: list[str] = []
        if checkpoint is None:
            self._records = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            self._ids = open(work / IDS, "wb")  # noqa: SIM115
        else:
            self._records = reopen_at(self.path, checkpoint["spool"])
            self._ids = reopen_at(work / IDS, checkpoint["ids"])
            self._ids.seek(0)
            self.ids = [json.loads(line) for line in self._ids.read(checkpoint["ids"]).splitlines()]
            self._ids.seek(checkpoint["ids"])

    def __len__(self) -> int:
        return len(self.ids)

    def write(self, record: Record) -> None:
        self.ids.append(record.id)
        self._ids.write(dumps(record.id).encode("utf-8") + b"\n")
        self._records.write(f"{dumps(record.fixes)}\t{dumps(record.data)}\n".encode())

    def checkpoint(self) -> dict[str, int]:
        """Everything written flushed (to the system: the engine's checkpoint fsyncs it): the sizes
        a resumed run cuts the files back to."""
        for fh in (self._records, self._ids):
            fh.flush()
        return {"spool": self._records.tell(), "ids": self._ids.tell()}

    def close(self) -> None:
        self._records.close()
        self._ids.close()


def read_spool(path: Path) -> Iterator[tuple[list[str], str]]:
    """(repairs applied, the record's JSON) of each document, in order."""
    with open(path, encoding="utf-8", newline="\n") as fh:
        for line in fh:
            head, _, data = line.rstrip("\n").partition("\t")
            yield json.loads(head), data


def texts_in_blocks(
    path: Path, keep: Sequence[bool], text_field: str, size: int = 10_000
) -> Iterator[list[str]]:
    """The texts of the documents whose ``keep`` is true, in order, ``size`` at a time."""
    block: list[str] = []
    with open(path, encoding="utf-8", newline="\n") as fh:
        for i, line in enumerate(fh):
            if keep[i]:
                block.append(json.loads(line.rstrip("\n").partition("\t")[2])[text_field])
                if len(block) == size:
                    yield block
                    block = []
    if block:
        yield block


def texts_at(path: Path, positions: Iterable[int], text_field: str) -> dict[int, str]:
    """The texts of the documents at ``positions`` (one pass over the spool, stopping early)."""
    wanted = set(positions)
    out: dict[int, str] = {}
    if not wanted:
        return out
    with open(path, encoding="utf-8", newline="\n") as fh:
        for i, line in enumerate(fh):
            if i in wanted:
                record: dict[str, Any] = json.loads(line.rstrip("\n").partition("\t")[2])
                out[i] = record[text_field]
                if len(out) == len(wanted):
                    break
    return out


def field_values(path: Path, field: str) -> list[Any]:
    """The value of ``field`` in every spooled record, in order (None where a record lacks it)."""
    out: list[Any] = []
    with open(path, encoding="utf-8", newline="\n") as fh:
        for line in fh:
            record: dict[str, Any] = json.loads(line.rstrip("\n").partition("\t")[2])
            out.append(record.get(field))
    return out
