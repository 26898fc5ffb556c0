"""The saved index: what a later ``retold scan NEW --against DIR`` needs of a finished scan.

Every scan writes ``DIR/index/`` beside its outputs (``--no-index`` skips it). A later run reads it
instead of the old corpus and puts the old documents *in front of* its own, in every level's index,
ranked before every new document: an old kept document is never dropped for a new one, and a new
document that copies an old one is dropped with the old one's id as ``kept_id``. With
``--keep first`` this gives the drops that scanning the old and the new corpus together would.

Files (raw little-endian arrays; ``manifest.json`` names the format and its version):

==================== =========================================================================
``manifest.json``    format, version, retold version, documents, levels and their parameters,
                     the text field, and the size of ``kept.jsonl`` the offsets point into
``ids.jsonl``        the id of each readable document of the run, in input order
``fate.i8``          each document's outcome: 0 kept, else its reason (:data:`REASONS`)
``kept_at.i64``      byte offset of each kept document's line in ``kept.jsonl`` (-1: not kept)
``LEVEL.*``          each level's own files (:meth:`retold.dedup.level.LevelIndex.save`): the exact
                     level's digests of every document, kept *and* dropped (a new copy of a dropped
                     document is an exact copy of it, as in a scan of both corpora together); the
                     near level's band keys and shingle sets and the retold level's whole-text
                     vectors of the kept documents
==================== =========================================================================

Size: ~25 bytes a document plus, for kept documents, 8 bytes a band, 4 bytes a shingle and, with
the retold level, 4 bytes a dimension. The old texts are read back (one line of ``kept.jsonl`` each)
only for retold verification of candidate pairs.

An index written by another format version, or with other MinHash parameters or another
embedder than the new run uses, is refused with a message that says what differs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retold._version import __version__
from retold.errors import RetoldError

if TYPE_CHECKING:
    from retold.dedup.level import LevelIndex

FORMAT = "retold-index"
VERSION = 1
INDEX_DIR = "index"
MANIFEST = "manifest.json"


class IncompatibleIndex(RetoldError):
    """A saved index that this run cannot use (missing, another version, other parameters)."""


def save_index(
    dest: Path,
    ids: list[str],
    fate: np.ndarray,
    kept_at: np.ndarray,
    kept_size: int,
    text_field: str,
    indexes: dict[str, LevelIndex],
    start: int,
    kept_file: str = "kept.jsonl",
) -> None:
    """Write the index of a finished run into ``dest`` (a fresh folder the caller renames): the
    run's documents are numbered ``start``… in each level's ``indexes``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    n = len(ids)
    with open(dest / "ids.jsonl", "w", encoding="utf-8") as fh:
        for i in ids:
            fh.write(json.dumps(i, ensure_ascii=True) + "\n")
    np.asarray(fate, dtype=np.int8).tofile(dest / "fate.i8")
    np.asarray(kept_at, dtype=np.int64).tofile(dest / "kept_at.i64")
    kept = np.flatnonzero(fate == 0)
    levels: dict[str, Any] = {}
    for name, index in indexes.items():
        entry = index.save(dest, start, kept)
        if entry:
            levels[name] = entry
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "retold_version": __version__,
        "documents": n,
        "kept": len(kept),
        "text_field": text_field,
        "kept_jsonl_bytes": kept_size,  # the size of the kept file, whichever its format
        "levels": levels,
    }
    if kept_file != "kept.jsonl":  # absent: kept.jsonl (indexes written before Parquet outputs)
        manifest["kept_file"] = kept_file
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


class SavedIndex:
    """A saved index, checked against what this run needs (:func:`open_index`)."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.path = folder / INDEX_DIR
        self.manifest = manifest
        self.documents = int(manifest["documents"])
        self.fate = np.fromfile(self.path / "fate.i8", dtype=np.int8)
        if len(self.fate) != self.documents:
            raise IncompatibleIndex(f"{self.path} is damaged (fate.i8 has {len(self.fate)} entries); rescan")

    @functools.cached_property
    def ids(self) -> list[str]:
        with open(self.path / "ids.jsonl", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]

    @property
    def kept_file(self) -> str:
        return str(self.manifest.get("kept_file", "kept.jsonl"))

    @functools.cached_property
    def kept_at(self) -> np.ndarray:
        return np.fromfile(self.path / "kept_at.i64", dtype=np.int64)

    def texts(self, docs: list[int]) -> dict[int, str]:
        """The texts of kept documents, read back from the folder's kept.jsonl (a line each) or
        kept.parquet (a row each)."""
        field = self.manifest["text_field"]
        out = {}
        if self.kept_file.endswith(".parquet"):
            import pyarrow.parquet as pq

            for d in docs:
                if int(self.kept_at[d]) < 0:
                    raise IncompatibleIndex(
                        f"document {d} of {self.folder} is not kept; its index is damaged"
                    )
            rows = sorted(docs)
            column = pq.read_table(self.folder / self.kept_file, columns=[field]).column(field)
            values = column.take([int(self.kept_at[d]) for d in rows]).to_pylist()
            return {d: str(v) for d, v in zip(rows, values, strict=True)}
        with open(self.folder / "kept.jsonl", "rb") as fh:
            for d in sorted(docs):
                at = int(self.kept_at[d])
                if at < 0:
                    raise IncompatibleIndex(
                        f"document {d} of {self.folder} is not kept; its index is damaged"
                    )
                fh.seek(at)
                out[d] = str(json.loads(fh.readline())[field])
        return out


def fingerprint(folder: str | Path) -> list[Any]:
    """What identifies a saved index for a run's fingerprint (a resumed run must see the same)."""
    path = Path(folder).resolve() / INDEX_DIR / MANIFEST
    if not path.exists():
        return [str(path), None]
    st = path.stat()
    return [str(path), st.st_size, st.st_mtime_ns]


def open_index(folder: str | Path, levels: dict[str, dict[str, Any]]) -> SavedIndex:
    """The index saved in ``folder``, refused unless it serves ``levels`` ({level: parameters that
    must match}) with the format this version reads."""
    folder = Path(folder)
    path = folder / INDEX_DIR / MANIFEST
    if not path.exists():
        hint = (
            "it holds no curated output"
            if not (folder / "kept.jsonl").exists() and not (folder / "kept.parquet").exists()
            else "it was scanned with --no-index"
        )
        raise IncompatibleIndex(
            f"--against {folder}: no saved index ({INDEX_DIR}/{MANIFEST} is missing; {hint}); "
            "give the --out folder of a retold scan, or rescan it"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise IncompatibleIndex(f"--against {folder}: {path} cannot be read ({exc}); rescan it") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise IncompatibleIndex(
            f"--against {folder}: its index is {manifest.get('format')} version {manifest.get('version')} "
            f"(written by retold {manifest.get('retold_version')}); this retold {__version__} reads "
            f"{FORMAT} version {VERSION}: rescan {folder} with this version"
        )
    kept_name = str(manifest.get("kept_file", "kept.jsonl"))
    kept = folder / kept_name
    if not kept.exists() or kept.stat().st_size != manifest["kept_jsonl_bytes"]:
        raise IncompatibleIndex(
            f"--against {folder}: {kept_name} changed since its index was saved "
            f"({manifest['kept_jsonl_bytes']} bytes then); rescan {folder}"
        )
    saved = manifest.get("levels", {})
    for level, wanted in levels.items():
        if level not in saved:
            raise IncompatibleIndex(
                f"--against {folder}: its index has no {level} level (it was scanned with --levels "
                f"{','.join(saved) or 'none'}); rescan it with --levels including {level}, or leave {level} out"
            )
        differ = {k: (saved[level].get(k), v) for k, v in wanted.items() if saved[level].get(k) != v}
        if differ:
            said = ", ".join(f"{k} {old} there, {new} here" for k, (old, new) in sorted(differ.items()))
            raise IncompatibleIndex(
                f"--against {folder}: its {level} index was built with other parameters ({said}); "
                "use the same options as that scan, or rescan it"
            )
    return SavedIndex(folder, manifest)


class Prefix:
    """The old documents of one or more saved indexes, numbered 0…size-1 ahead of the new ones."""

    def __init__(self, indexes: list[SavedIndex]) -> None:
        self.indexes = indexes
        self.starts = np.cumsum([0] + [ix.documents for ix in indexes])
        self.size = int(self.starts[-1])

    def locate(self, doc: int) -> tuple[SavedIndex, int]:
        k = int(np.searchsorted(self.starts, doc, side="right")) - 1
        return self.indexes[k], doc - int(self.starts[k])

    def id_of(self, doc: int) -> str:
        index, local = self.locate(doc)
        return index.ids[local]

    def folder_of(self, doc: int) -> str:
        return str(self.locate(doc)[0].folder)

    def fate(self) -> np.ndarray:
        if not self.indexes:
            return np.zeros(0, dtype=np.int8)
        return np.concatenate([ix.fate for ix in self.indexes])

    def texts(self, docs: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for k, index in enumerate(self.indexes):
            lo, hi = int(self.starts[k]), int(self.starts[k + 1])
            mine = [d - lo for d in docs if lo <= d < hi]
            if mine:
                out.update({d + lo: t for d, t in index.texts(mine).items()})
        return out


def swap_in(staged: Path, out: Path) -> None:
    """Put a finished index folder in place of ``out/index`` (the old one is removed after)."""
    target = out / INDEX_DIR
    old = out / f".{INDEX_DIR}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["FORMAT", "VERSION", "IncompatibleIndex", "Prefix", "SavedIndex", "open_index", "save_index"]
