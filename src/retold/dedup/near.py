"""Near copies: MinHash-LSH candidates, each verified against the document its cluster keeps.

Three passes, each bounded in memory:

1. :class:`NearSketch` (a stage) computes each record's :class:`~retold.dedup.minhash.Sketch`.
   :class:`NearIndex` spills it at once: the sorted distinct shingles to ``shingles.u32`` and the
   band keys to one file per band (``band-07.u64``); in memory stay 8 bytes of offset and 8 of
   keep rank per document.
2. :meth:`NearIndex.decide` reads one band at a time (8 bytes a document), sorts it by (key, keep
   rank) and pairs each member of a bucket with the bucket's ``anchors`` best-ranked members
   (:func:`~retold.dedup.lsh.bucket_pairs`). Each candidate pair is verified on the exact shingle
   sets (read back from the spill, a chunk of pairs at a time): Jaccard, and the containment of the worse-ranked
   document in the better-ranked one. Pairs below the threshold are discarded at once.
3. Clusters are built from the verified pairs in keep-rank order: the best-ranked document not yet
   in a cluster keeps its cluster, and takes in every verified neighbour not yet taken. A document
   is therefore only ever dropped for a verified match with the very document that is kept, so
   A~B and B~C never drag C into A's cluster (union-find over raw pairs does; the size of the
   largest such chained component is reported beside the largest cluster, to show what was avoided).

Which measure decides: ``jaccard`` (default) is symmetric and what every MinHash tool reports, so
figures compare. ``containment`` (the share of the droppable document's shingles found in the
kept one) also catches excerpts and truncated copies whose Jaccard is low because the lengths
differ; it drops a document only in favour of one that contains it, so pair it with
``--keep longest`` to keep the fuller copy. With ``containment`` the LSH bands are tuned to the
Jaccard that a document contained at the threshold in one four times its size would have
(``c / (5 - c)``), so such pairs become candidates; more candidates, all verified exactly.
"""

from __future__ import annotations

import os
import shutil
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from retold.corpus.writers import reopen_at
from retold.dedup.clusters import Decisions, rank_positions
from retold.dedup.level import DecideContext, Level, LevelIndex, Outcome
from retold.dedup.lsh import bucket_pairs, optimal_bands
from retold.dedup.minhash import DEFAULT_NGRAM, UNITS, MinHasher
from retold.options import option
from retold.records import Record
from retold.stages import BatchStage

if TYPE_CHECKING:
    from retold.dedup.saved import SavedIndex

NAME = "near"
MEASURES = ("jaccard", "containment")
_COPY_CHUNK = 1 << 22  # shingles copied into a saved index 16 MiB at a time
DEFAULT_ANCHORS = 8
_CHUNK = 8192
_VERIFY_CHUNK = 1 << 16  # pairs verified per read of their documents' shingles


def overlaps(left: np.ndarray, right: np.ndarray, offsets: np.ndarray, path: Path) -> np.ndarray:
    """Shingle-set intersection sizes of the pairs, reading the sets from the spill at ``path``.

    Pairs go in chunks of ``_VERIFY_CHUNK``: the distinct documents of a chunk are read into one
    buffer (a ``pread`` each, in file order), so memory is bounded by the chunk, not the corpus.
    Why not a memory map: the OS maps page-cache folios of up to 2 MB per touched document, and a
    1M-document run had the whole 290 MB spill resident after a few hundred pairs (measured,
    MADV_DONTNEED after every 64 pairs still peaked at 287 MB). The reads cost ~4 µs a document:
    ~1.5 s for 200k pairs, against ~0.2 s mapped.
    """
    out = np.zeros(len(left), dtype=np.int64)
    if not len(left):
        return out
    fd = os.open(path, os.O_RDONLY)
    try:
        for lo in range(0, len(left), _VERIFY_CHUNK):
            a, b = left[lo : lo + _VERIFY_CHUNK], right[lo : lo + _VERIFY_CHUNK]
            docs = np.unique(np.concatenate([a, b]))
            shingles, local = _read_sets(fd, docs, offsets)
            ia, ib = np.searchsorted(docs, a), np.searchsorted(docs, b)
            out[lo : lo + _VERIFY_CHUNK] = _overlaps(ia, ib, local, shingles)
    finally:
        os.close(fd)
    return out


def _read_sets(fd: int, docs: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shingle sets of ``docs`` (sorted) packed in one array, with their local offsets."""
    start, stop = offsets[docs], offsets[docs + 1]
    local = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(stop - start, out=local[1:])
    buf = bytearray(int(local[-1]) * 4)
    view = memoryview(buf)
    for at, begin, end in zip(
        (local[:-1] * 4).tolist(), (start * 4).tolist(), (stop * 4).tolist(), strict=True
    ):
        if os.preadv(fd, [view[at : at + end - begin]], begin) != end - begin:
            raise OSError(f"near-copy spill is shorter than expected ({fd})")
    return np.frombuffer(buf, dtype=np.uint32), local


@dataclass(frozen=True)
class NearOptions:
    """How near copies are found. ``bands``/``rows`` default to :func:`optimal_bands`."""

    threshold: float = option(
        "near_threshold",
        0.7,
        "Similarity at which a document is a near copy of the kept one.",
        kind=float,
        low=0.0,
        high=1.0,
        low_open=True,
    )
    measure: str = option(
        "near_measure",
        "jaccard",
        "jaccard, or containment (share of the copy's shingles in the kept one: catches excerpts; "
        "use with --keep longest).",
        choices=MEASURES,
    )
    num_perm: int = option("num_perm", 128, "MinHash permutations.", kind=int, low=1, high=1024)
    ngram: int | None = option(
        "ngram",
        None,
        "Shingle length.",
        kind=int,
        low=1,
        high=64,
        shown_default="5 words, or 24 characters with --shingle char",
    )
    unit: str = option(
        "shingle",
        "word",
        "Shingle unit: word n-grams, or character n-grams (text without spaces).",
        choices=UNITS,
    )
    bands: int | None = None
    rows: int | None = None
    anchors: int = DEFAULT_ANCHORS
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"near threshold must be in (0, 1], got {self.threshold}")
        if self.measure not in MEASURES:
            raise ValueError(f"near measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        if self.unit not in UNITS:
            raise ValueError(f"shingle unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if not 1 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be between 1 and 1024, got {self.num_perm}")
        if self.ngram is not None and not 1 <= self.ngram <= 64:
            raise ValueError(f"ngram must be between 1 and 64, got {self.ngram}")
        if self.anchors < 1:
            raise ValueError("anchors must be at least 1")

    @property
    def lsh_threshold(self) -> float:
        """The Jaccard the bands are tuned for (lower under containment; see the module text)."""
        if self.measure == "jaccard":
            return self.threshold
        c = self.threshold  # contained at c in a document 4 times its size: J = c / (5 - c)
        return max(0.05, round(c / (5.0 - c), 2))

    def banding(self) -> tuple[int, int]:
        if self.bands is not None and self.rows is not None:
            if self.bands * self.rows > self.num_perm:
                raise ValueError("bands × rows must not exceed num_perm")
            return self.bands, self.rows
        return optimal_bands(self.lsh_threshold, self.num_perm)

    def hasher(self) -> MinHasher:
        bands, rows = self.banding()
        ngram = self.ngram if self.ngram is not None else DEFAULT_NGRAM[self.unit]
        return MinHasher(self.num_perm, ngram, self.unit, bands, rows, self.seed)


class NearSketch(BatchStage):
    """Pass 1 of near dedup: ``record.meta[NAME] = hasher.sketch(record.text)``.

    :meth:`run` sketches records in batches (one compiled call per batch), in order.
    """

    name = "near-sketch"
    batch_size = 256

    def __init__(self, options: NearOptions) -> None:
        super().__init__()
        self.hasher = options.hasher()

    def process_batch(self, batch: list[Record]) -> None:
        todo = [r for r in batch if r.text.strip()]
        if todo:
            sketches = self.hasher.sketch_batch([r.text for r in todo])
            for i, record in enumerate(todo):
                record.meta[NAME] = sketches[i]


@njit(cache=True, nogil=True)
def _overlaps(left, right, offsets, shingles):  # type: ignore[no-untyped-def]
    """Size of the intersection of the two documents' sorted shingle sets, per pair."""
    out = np.empty(left.shape[0], dtype=np.int64)
    for p in range(left.shape[0]):
        i, i_end = offsets[left[p]], offsets[left[p] + 1]
        j, j_end = offsets[right[p]], offsets[right[p] + 1]
        inter = 0
        while i < i_end and j < j_end:
            x = shingles[i]
            y = shingles[j]
            if x == y:
                inter += 1
                i += 1
                j += 1
            elif x < y:
                i += 1
            else:
                j += 1
        out[p] = inter
    return out


@njit(cache=True, nogil=True)
def _largest_component(left, right, n):  # type: ignore[no-untyped-def]
    """Union-find over the pairs; the size of the largest connected component."""
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    best = 1 if n else 0
    for p in range(left.shape[0]):
        a = left[p]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = right[p]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a == b:
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        if size[a] > best:
            best = size[a]
    return best


@dataclass
class NearStats:
    """What the near level did, for summary.json."""

    documents: int = 0
    short: int = 0
    no_words: int = 0
    bands: int = 0
    rows: int = 0
    candidate_pairs: int = 0
    verified_pairs: int = 0
    clusters: int = 0
    dropped: int = 0
    largest_cluster: int = 0
    largest_chained_component: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class NearIndex(LevelIndex):
    """Collects sketches on disk, then decides near copies (see the module text)."""

    def __init__(self, work: Path, options: NearOptions, stage: NearSketch | None = None) -> None:
        self.options = options
        self.hasher = stage.hasher if stage is not None else options.hasher()
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.bands = self.hasher.bands
        self._offsets = array("q", [0])
        self._rank = array("d")
        self._counts = Counter[str]()  # documents sketched, short, without words
        # appended to: a resumed run cuts them back to its checkpoint (restore), a new run starts
        # in an emptied work folder (retold.engine.state.clear)
        self._shingles = open(self.work / "shingles.u32", "ab")  # noqa: SIM115 (closed in close())
        self._band_files = [open(self._band_path(j), "ab") for j in range(self.bands)]  # noqa: SIM115
        self._buffer = np.zeros((_CHUNK, self.bands), dtype=np.uint64)
        self._filled = 0

    def _band_path(self, j: int) -> Path:
        return self.work / f"band-{j:03d}.u64"

    def __len__(self) -> int:
        return len(self._rank)

    def add(self, record: Record, rank: float) -> None:
        """Add the next document (one with no text has no sketch: it takes no part)."""
        sketch = record.meta.get(NAME)
        if sketch is None or sketch.tokens == 0:
            self._buffer[self._filled] = 0
            if sketch is not None:
                self._counts["no_words"] += 1
        else:
            self._buffer[self._filled] = sketch.bands
            self._shingles.write(sketch.shingles.tobytes())
            self._counts["documents"] += 1
            self._counts["short"] += sketch.short
        self._offsets.append(self._offsets[-1] + (0 if sketch is None else len(sketch.shingles)))
        self._rank.append(rank)
        self._filled += 1
        if self._filled == _CHUNK:
            self._flush()

    def parameters(self) -> dict[str, Any]:
        """What makes two runs' band keys and shingle sets comparable."""
        h = self.hasher
        return {
            "num_perm": h.num_perm,
            "ngram": h.ngram,
            "unit": h.unit,
            "bands": h.bands,
            "rows": h.rows,
            "seed": h.seed,
        }

    def extend(self, saved: SavedIndex, rank: float) -> None:
        """The kept documents of an earlier run have their sets and band keys in its index; the
        others take no part (as a document without text)."""
        count = saved.documents
        docs = np.fromfile(saved.path / "near.docs.i64", dtype=np.int64)
        offsets = np.fromfile(saved.path / "near.offsets.i64", dtype=np.int64)
        keys = np.fromfile(saved.path / "near.bands.u64", dtype=np.uint64).reshape(len(docs), self.bands)
        shingles = saved.path / "near.shingles.u32"
        self._flush()
        for j, fh in enumerate(self._band_files):
            column = np.zeros(count, dtype=np.uint64)
            column[docs] = keys[:, j]
            fh.write(column.tobytes())
        with open(shingles, "rb") as src:
            shutil.copyfileobj(src, self._shingles, 1 << 22)
        sizes = np.zeros(count, dtype=np.int64)
        sizes[docs] = np.diff(offsets)
        ends = self._offsets[-1] + np.cumsum(sizes)
        self._offsets.frombytes(ends.astype(np.int64).tobytes())
        self._rank.frombytes(np.full(count, rank, dtype=np.float64).tobytes())

    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        """Band keys and sorted shingle sets of this run's kept documents (those with words)."""
        self.close()
        offsets = np.frombuffer(self._offsets, dtype=np.int64)[start:]
        n = len(offsets) - 1
        docs = kept[np.diff(offsets)[kept] > 0]
        _copy_sets(self.work / "shingles.u32", offsets, docs, dest)
        keys = np.zeros((len(docs), self.bands), dtype=np.uint64)
        for j in range(self.bands):
            column = np.fromfile(self._band_path(j), dtype=np.uint64, count=start + n)
            keys[:, j] = column[start + docs]
        docs.astype(np.int64).tofile(dest / "near.docs.i64")
        keys.tofile(dest / "near.bands.u64")
        return {**self.parameters(), "documents": len(docs)}

    def _flush(self) -> None:
        for j, fh in enumerate(self._band_files):
            fh.write(np.ascontiguousarray(self._buffer[: self._filled, j]).tobytes())
        self._filled = 0

    def checkpoint(self) -> dict[str, Any]:
        """Flush the files (the engine fsyncs them) and return the in-memory state and file sizes
        a resumed run starts from."""
        self._flush()
        for fh in (self._shingles, *self._band_files):
            fh.flush()
        return {
            "offsets": self._offsets.tobytes(),
            "rank": self._rank.tobytes(),
            "tokens": dict(self._counts),
            "sizes": [fh.tell() for fh in (self._shingles, *self._band_files)],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Go on from a checkpoint: files cut back to their checkpointed sizes, appended to."""
        self._offsets = array("q", state["offsets"])
        self._rank = array("d", state["rank"])
        self._counts = Counter(state["tokens"])
        self._filled = 0
        paths = [self.work / "shingles.u32", *(self._band_path(j) for j in range(self.bands))]
        handles = []
        for fh, path, size in zip((self._shingles, *self._band_files), paths, state["sizes"], strict=True):
            fh.close()
            handles.append(reopen_at(path, size))
        self._shingles, self._band_files = handles[0], handles[1:]

    def close(self) -> None:
        if self._shingles.closed:
            return
        self._flush()
        self._shingles.close()
        for fh in self._band_files:
            fh.close()

    def _band_keys(self) -> Iterator[np.ndarray]:
        for j in range(self.bands):
            yield np.fromfile(self._band_path(j), dtype=np.uint64)

    def decide(self, decisions: Decisions, context: DecideContext) -> Outcome:
        """Drop near copies among the documents still kept in ``decisions``."""
        stats = self._decide(decisions, context.skip_before)
        figures = {
            **stats.to_json(),
            "threshold": self.options.threshold,
            "measure": self.options.measure,
            "shingle": f"{self.hasher.ngram}-{self.hasher.unit}",
            "num_perm": self.hasher.num_perm,
        }
        return Outcome(stats.clusters, figures)

    def _decide(self, decisions: Decisions, skip_before: int) -> NearStats:
        self.close()
        n = len(self._rank)
        assert n == decisions.n, "one sketch (or None) per document"
        stats = NearStats(
            documents=self._counts["documents"],
            short=self._counts["short"],
            no_words=self._counts["no_words"],
            bands=self.bands,
            rows=self.hasher.rows,
        )
        if n == 0:
            return stats
        offsets = np.frombuffer(self._offsets, dtype=np.int64)
        sizes = np.diff(offsets)
        active = (decisions.reason == 0) & (sizes > 0)
        pos = rank_positions(np.frombuffer(self._rank, dtype=np.float64))
        shingle_path = self.work / "shingles.u32"
        threshold = np.float64(self.options.threshold)
        kept_left: list[np.ndarray] = []
        kept_right: list[np.ndarray] = []
        for keys in self._band_keys():
            keys[~active] = 0
            order = np.lexsort((pos, keys))
            left, right = bucket_pairs(keys, order, self.options.anchors)
            if not len(left):
                continue
            code = np.unique(left * n + right)
            left, right = code // n, code % n
            if skip_before:
                new = np.maximum(left, right) >= skip_before
                code, left, right = code[new], left[new], right[new]
            stats.candidate_pairs += len(code)
            inter = overlaps(left, right, offsets, shingle_path)
            score = self._score(inter, sizes[left], sizes[right])
            ok = score >= threshold
            kept_left.append(left[ok])
            kept_right.append(right[ok])
        if kept_left:
            code = np.unique(np.concatenate(kept_left) * n + np.concatenate(kept_right))
        else:
            code = np.zeros(0, dtype=np.int64)
        left, right = code // n, code % n
        stats.verified_pairs = len(code)
        if not len(code):
            return stats
        order = np.lexsort((pos[right], pos[left]))
        left, right = left[order], right[order]
        jac, con = _measures(overlaps(left, right, offsets, shingle_path), sizes[left], sizes[right])
        evidence = [
            {"jaccard": round(float(j), 4), "containment": round(float(c), 4)}
            for j, c in zip(jac, con, strict=True)
        ]
        decisions.add_pairs(NAME, left, right, jac if self.options.measure == "jaccard" else con, evidence)
        keeper_of, taken, largest = decisions.greedy(NAME, left, right)
        inter = overlaps(keeper_of[taken], taken, offsets, shingle_path)
        jac, con = _measures(inter, sizes[keeper_of[taken]], sizes[taken])
        decisions.mark(NAME, taken, keeper_of[taken], jac if self.options.measure == "jaccard" else con)
        decisions.evidence_column("jaccard")[taken] = jac
        decisions.evidence_column("containment")[taken] = con
        stats.clusters = len(np.unique(keeper_of[taken]))
        stats.dropped = len(taken)
        stats.largest_cluster = largest
        stats.largest_chained_component = int(_largest_component(left, right, n))
        return stats

    def _score(self, inter: np.ndarray, size_left: np.ndarray, size_right: np.ndarray) -> np.ndarray:
        jac, con = _measures(inter, size_left, size_right)
        return jac if self.options.measure == "jaccard" else con


def _measures(
    inter: np.ndarray, size_keep: np.ndarray, size_drop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(Jaccard, containment of the droppable document in the kept one) from set sizes."""
    inter = inter.astype(np.float64)
    union = size_keep + size_drop - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    con = np.divide(inter, size_drop, out=np.zeros_like(inter), where=size_drop > 0)
    return jac, con


def _copy_sets(src: Path, offsets: np.ndarray, docs: np.ndarray, dest: Path) -> None:
    """The shingle sets of ``docs`` from the spill into ``near.shingles.u32`` (+ their offsets);
    ``offsets``: this run's documents' offsets into ``src`` (in shingles)."""
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
            fin.seek(lo * 4)
            block = np.frombuffer(fin.read((hi - lo) * 4), dtype=np.uint32)
            pieces = [block[int(offsets[d]) - lo : int(offsets[d + 1]) - lo] for d in docs[at:stop]]
            np.concatenate(pieces).tofile(fout)
            at = stop


LEVEL = Level(
    name=NAME,
    about="copies with edits: MinHash-LSH candidates verified on word 5-gram Jaccard (or containment)",
    options=NearOptions,
    stage=NearSketch,
    index=NearIndex,
    score="word 5-gram Jaccard (or containment)",
)
