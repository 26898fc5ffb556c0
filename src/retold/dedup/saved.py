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
``exact.*``          every document with a digest (kept *and* dropped: a new copy of a dropped
                     document is an exact copy of it, as in a scan of both corpora together)
``near.*``           kept documents: band keys, and the sorted shingle sets for verification
``retold.*``         kept documents: whole-text vectors (names masked)
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retold import __version__
from retold.errors import RetoldError

FORMAT = "retold-index"
VERSION = 1
INDEX_DIR = "index"
MANIFEST = "manifest.json"
_COPY_CHUNK = 1 << 22  # shingles copied 16 MiB at a time


class IncompatibleIndex(RetoldError):
    """A saved index that this run cannot use (missing, another version, other parameters)."""


def near_parameters(hasher: Any) -> dict[str, Any]:
    """What makes two runs' MinHash band keys and shingle sets comparable."""
    return {
        "num_perm": hasher.num_perm,
        "ngram": hasher.ngram,
        "unit": hasher.unit,
        "bands": hasher.bands,
        "rows": hasher.rows,
        "seed": hasher.seed,
    }


@dataclass
class LevelArrays:
    """One run's per-level arrays for its own documents (numbered 0…n-1), as the engine has them."""

    exact_docs: np.ndarray | None = None  # documents with a digest
    exact_digest: bytes = b""  # 16 bytes each
    near_offsets: np.ndarray | None = None  # n + 1 offsets into near_shingles (uint32 counts)
    near_shingles: Path | None = None  # the spill: documents' sorted sets back to back
    near_shingles_start: int = 0  # shingles (not bytes) before this run's first document
    near_bands: list[Path] | None = None  # one uint64 file per band, a key per document
    near_bands_start: int = 0  # keys before this run's first document
    near_params: dict[str, Any] | None = None
    retold_has: np.ndarray | None = None  # bool per document
    retold_vectors: Path | None = None  # float32 rows of the documents that have one
    retold_vectors_start: int = 0  # rows before this run's first document
    retold_dim: int = 0
    embedder: str = ""


def save_index(
    dest: Path,
    ids: list[str],
    fate: np.ndarray,
    kept_at: np.ndarray,
    kept_size: int,
    text_field: str,
    arrays: LevelArrays,
) -> None:
    """Write the index of a finished run into ``dest`` (a fresh folder the caller renames)."""
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
    if arrays.exact_docs is not None:
        order = np.argsort(arrays.exact_docs, kind="stable")
        digest = np.frombuffer(arrays.exact_digest, dtype=np.uint8).reshape(-1, 16)[order]
        arrays.exact_docs[order].astype(np.int64).tofile(dest / "exact.docs.i64")
        digest.tofile(dest / "exact.digest.u8")
        levels["exact"] = {
            "hash": "xxh3-128",
            "normalise": "nfc-casefold-whitespace",
            "documents": len(order),
        }
    if arrays.near_offsets is not None and arrays.near_bands is not None:
        offsets = arrays.near_offsets
        sizes = np.diff(offsets)
        docs = kept[sizes[kept] > 0]
        _copy_sets(arrays.near_shingles, arrays.near_shingles_start, offsets, docs, dest)
        keys = np.zeros((len(docs), len(arrays.near_bands)), dtype=np.uint64)
        for j, path in enumerate(arrays.near_bands):
            column = np.fromfile(path, dtype=np.uint64, count=arrays.near_bands_start + n)
            keys[:, j] = column[arrays.near_bands_start + docs]
        docs.astype(np.int64).tofile(dest / "near.docs.i64")
        keys.tofile(dest / "near.bands.u64")
        levels["near"] = {**(arrays.near_params or {}), "documents": len(docs)}
    if arrays.retold_has is not None and arrays.retold_vectors is not None and arrays.retold_dim:
        has = arrays.retold_has
        docs = kept[has[kept]]
        row = np.cumsum(has) - 1
        vectors = np.memmap(arrays.retold_vectors, dtype=np.float32, mode="r").reshape(-1, arrays.retold_dim)
        np.asarray(vectors[arrays.retold_vectors_start + row[docs]]).tofile(dest / "retold.vectors.f32")
        del vectors
        docs.astype(np.int64).tofile(dest / "retold.docs.i64")
        levels["retold"] = {"embedder": arrays.embedder, "dim": arrays.retold_dim, "documents": len(docs)}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "retold_version": __version__,
        "documents": n,
        "kept": len(kept),
        "text_field": text_field,
        "kept_jsonl_bytes": kept_size,
        "levels": levels,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _copy_sets(src: Path | None, start: int, offsets: np.ndarray, docs: np.ndarray, dest: Path) -> None:
    """The shingle sets of ``docs`` from the spill into ``near.shingles.u32`` (+ their offsets)."""
    assert src is not None
    sizes = np.diff(offsets)[docs]
    local = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(sizes, out=local[1:])
    local.tofile(dest / "near.offsets.i64")
    with open(src, "rb") as fin, open(dest / "near.shingles.u32", "wb") as fout:
        at = 0
        while at < len(docs):  # runs of documents whose sets fit one read
            lo = int(offsets[docs[at]])
            stop = at + 1
            while stop < len(docs) and int(offsets[docs[stop] + 1]) - lo <= _COPY_CHUNK:
                stop += 1
            hi = int(offsets[docs[stop - 1] + 1])
            fin.seek((start + lo) * 4)
            block = np.frombuffer(fin.read((hi - lo) * 4), dtype=np.uint32)
            pieces = [block[int(offsets[d]) - lo : int(offsets[d + 1]) - lo] for d in docs[at:stop]]
            np.concatenate(pieces).tofile(fout)
            at = stop


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

    @functools.cached_property
    def kept_at(self) -> np.ndarray:
        return np.fromfile(self.path / "kept_at.i64", dtype=np.int64)

    def exact(self) -> tuple[np.ndarray, bytes]:
        docs = np.fromfile(self.path / "exact.docs.i64", dtype=np.int64)
        return docs, (self.path / "exact.digest.u8").read_bytes()

    def near(self) -> tuple[np.ndarray, np.ndarray, Path, np.ndarray]:
        """(documents, set offsets, shingles file, band keys documents × bands)."""
        docs = np.fromfile(self.path / "near.docs.i64", dtype=np.int64)
        offsets = np.fromfile(self.path / "near.offsets.i64", dtype=np.int64)
        bands = int(self.manifest["levels"]["near"]["bands"])
        keys = np.fromfile(self.path / "near.bands.u64", dtype=np.uint64).reshape(len(docs), bands)
        return docs, offsets, self.path / "near.shingles.u32", keys

    def retold(self) -> tuple[np.ndarray, np.ndarray]:
        docs = np.fromfile(self.path / "retold.docs.i64", dtype=np.int64)
        dim = int(self.manifest["levels"]["retold"]["dim"])
        vectors = np.fromfile(self.path / "retold.vectors.f32", dtype=np.float32).reshape(len(docs), dim)
        return docs, vectors

    def texts(self, docs: list[int]) -> dict[int, str]:
        """The texts of kept documents, read back from the folder's kept.jsonl (a line each)."""
        field = self.manifest["text_field"]
        out = {}
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
            if not (folder / "kept.jsonl").exists()
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
    kept = folder / "kept.jsonl"
    if not kept.exists() or kept.stat().st_size != manifest["kept_jsonl_bytes"]:
        raise IncompatibleIndex(
            f"--against {folder}: kept.jsonl changed since its index was saved "
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
