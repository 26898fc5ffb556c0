"""Shingles and MinHash signatures, text → sketch in one compiled pass.

A document's *sketch* is everything the near-copy level needs from it:

- its **shingles**: word n-grams (default 5) or character n-grams of the normalised text, each
  hashed to 64 bits; kept as the sorted distinct high 32 bits, for exact verification later;
- its **signature**: ``num_perm`` MinHash values, ``min over shingles of (a_k·x + b_k) >> 32``
  (64-bit multiply-add-shift, a strongly universal family; datasketch uses ``(a·x + b) mod p``);
- its **band keys**: one 64-bit hash per LSH band of ``rows`` signature values.

Normalisation: NFC, then case folded (Python's ``str.casefold``, applied per code point inside
the kernel: folding in Python costs more than the whole rest of the sketch). *Words* are maximal
runs of characters that are not whitespace, punctuation or symbols (the ranges in :data:`SEPARATOR_RANGES`), so ``"Hello, world!"`` and
``"hello world"`` have the same shingles. *Characters* (``unit="char"``) keep punctuation and fold
each run of whitespace to one space.

A document with fewer tokens than ``n`` gets exactly one shingle made of all its tokens (it can
only match a document with the same tokens; text-dedup drops such documents silently). A document
with no token at all (only punctuation) gets no shingle and takes no part in the near level; both
cases are counted by :class:`NearIndex`.

Why a hand-written kernel: rensa's Rust kernel is fast, but its users build shingles as Python
strings (``" ".join(words[i:i+5])``), and that is most of the time. Here case folding,
tokenising, hashing, shingling and the permutations run in one numba loop over the code points,
documents in batches of one compiled call each; only NFC and the UTF-32 view stay in Python (C).
``benchmarks/bench_minhash.py`` measures the whole text → signature path against rensa and
datasketch on the same documents.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np
from numba import njit

#: Code point ranges that separate words (inclusive). Everything else is part of a word.
SEPARATOR_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x2F),  # controls, space, ASCII punctuation and symbols
    (0x3A, 0x40),
    (0x5B, 0x60),
    (0x7B, 0xA9),  # ASCII symbols, DEL, C1 controls, NBSP, Latin-1 punctuation (not ª)
    (0xAB, 0xB4),  # not µ
    (0xB6, 0xB9),  # not º
    (0xBB, 0xBF),
    (0xD7, 0xD7),  # ×
    (0xF7, 0xF7),  # ÷
    (0x37E, 0x37E),  # Greek question mark
    (0x387, 0x387),
    (0x55A, 0x55F),  # Armenian punctuation
    (0x589, 0x58A),
    (0x5BE, 0x5BE),  # Hebrew punctuation
    (0x5C0, 0x5C0),
    (0x5C3, 0x5C3),
    (0x5F3, 0x5F4),
    (0x60C, 0x60D),  # Arabic punctuation
    (0x61B, 0x61B),
    (0x61D, 0x61F),
    (0x66A, 0x66D),
    (0x6D4, 0x6D4),
    (0x964, 0x965),  # Devanagari danda
    (0xE4F, 0xE4F),  # Thai
    (0xE5A, 0xE5B),
    (0x10FB, 0x10FB),
    (0x1360, 0x1368),  # Ethiopic
    (0x1680, 0x1680),  # Ogham space
    (0x2000, 0x2BFF),  # spaces, dashes, quotes, super/subscripts, currency, arrows, math, shapes
    (0x2E00, 0x2E7F),  # supplemental punctuation
    (0x3000, 0x3004),  # CJK spaces and punctuation (not 々)
    (0x3006, 0x303F),
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility and small forms
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFF00, 0xFF0F),  # fullwidth punctuation
    (0xFF1A, 0xFF20),
    (0xFF3B, 0xFF40),
    (0xFF5B, 0xFF65),
    (0x1F000, 0x1FAFF),  # emoji, pictographs, playing cards, mahjong
)
#: Whitespace for character shingles (each run becomes one space).
WHITESPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
UNITS = ("word", "char")
DEFAULT_NGRAM = {"word": 5, "char": 24}


_SEP_BIT = np.uint32(1 << 30)  # the code point separates words
_SPACE_BIT = np.uint32(1 << 29)  # the code point is whitespace
_MULTI_BIT = np.uint32(1 << 31)  # it case-folds to several code points: (start << 2 | count) in _expand
_CP_MASK = np.uint32((1 << 21) - 1)


def _build_tables() -> tuple[np.ndarray, np.ndarray]:
    """One lookup per code point: its case folding (Python's ``str.casefold``) and its class.

    Case folding is context-free and per character, so folding code point by code point in the
    kernel gives exactly ``str.casefold``; the 100-odd characters that fold to several (``ß`` →
    ``ss``) point into a small expansion table. Built once per process in about 30 ms.
    """
    table = np.arange(0x110000, dtype=np.uint32)
    top = 0x1E950  # no code point above this changes under casefold (Unicode 15)
    chars = [chr(c) for c in range(1, top)]
    folded = "\0".join(chars).casefold().split("\0")
    expand: list[int] = []
    for cp, (char, fold) in enumerate(zip(chars, folded, strict=True), start=1):
        if fold == char:
            continue
        if len(fold) == 1:
            table[cp] = ord(fold)
        else:
            table[cp] = _MULTI_BIT | np.uint32(len(expand) << 2 | len(fold))
            expand.extend(map(ord, fold))
    for ranges, bit in ((SEPARATOR_RANGES, _SEP_BIT), (WHITESPACE_RANGES, _SPACE_BIT)):
        for lo, hi in ranges:
            table[lo : hi + 1] |= bit
    return table, np.asarray(expand or [0], dtype=np.uint32)


_TABLES: tuple[np.ndarray, np.ndarray] | None = None


def _tables() -> tuple[np.ndarray, np.ndarray]:
    global _TABLES
    if _TABLES is None:
        _TABLES = _build_tables()
    return _TABLES


_WORD_RE = re.compile("[^" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in SEPARATOR_RANGES) + "]+")


def normalize(text: str) -> str:
    """NFC (skipped for ASCII, where it changes nothing), then case folded: the text the kernel sees.

    >>> normalize("The CAFE\u0301 in der Straße")
    'the café in der strasse'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.casefold()


def words(text: str) -> list[str]:
    """The words the kernel sees, computed in Python (for tests and explanations).

    >>> words("Hello, world! It's 9:30 — «déjà vu»")
    ['hello', 'world', 'it', 's', '9', '30', 'déjà', 'vu']
    """
    return _WORD_RE.findall(normalize(text))


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint32(0xFFFFFFFF)


@njit(inline="always")
def _fmix64(h):  # type: ignore[no-untyped-def]
    """MurmurHash3's 64-bit finaliser: every input bit affects every output bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(inline="always")
def _char_token(cp):  # type: ignore[no-untyped-def]
    return _fmix64(np.uint64(cp) + _GOLDEN)


@njit(cache=True, nogil=True)
def _tokenize(cps, start, end, char_unit, table, expand, out):  # type: ignore[no-untyped-def]
    """Code points of one document → token hashes in ``out``; returns how many.

    Words: FNV-1a over the case-folded code points of each run of non-separators. Characters:
    one hash per case-folded code point, each run of whitespace one space.
    """
    count = 0
    h = _FNV_OFFSET
    in_word = False
    pending_space = False
    for i in range(start, end):
        cp = cps[i]
        v = table[cp if cp < 0x110000 else 0xFFFD]
        if char_unit:
            if v & _SPACE_BIT:
                if count > 0:
                    pending_space = True
                continue
            if pending_space:
                out[count] = _char_token(32)
                count += 1
                pending_space = False
            if v & _MULTI_BIT:
                k = (v & _CP_MASK) >> np.uint32(2)
                for e in range(k, k + (v & np.uint32(3))):
                    out[count] = _char_token(expand[e])
                    count += 1
            else:
                out[count] = _char_token(v & _CP_MASK)
                count += 1
        elif v & _SEP_BIT:
            if in_word:
                out[count] = h
                count += 1
                in_word = False
                h = _FNV_OFFSET
        elif v & _MULTI_BIT:
            k = (v & _CP_MASK) >> np.uint32(2)
            for e in range(k, k + (v & np.uint32(3))):
                h = (h ^ np.uint64(expand[e])) * _FNV_PRIME
            in_word = True
        else:
            h = (h ^ np.uint64(v & _CP_MASK)) * _FNV_PRIME
            in_word = True
    if in_word:
        out[count] = h
        count += 1
    return count


@njit(cache=True, nogil=True, inline="always")
def _radix_sort(x, tmp, counts):  # type: ignore[no-untyped-def]
    """Sort the uint32 array ``x`` in place: LSD radix, four 8-bit passes through ``tmp``.

    Measured on 3,000 sets of 130 random values: 1.2 µs a set, against 4.0 µs for numba's
    ``ndarray.sort`` (quicksort); the set sort was a third of a sketch's time.
    """
    n = x.shape[0]
    counts[:] = 0
    for i in range(n):
        v = x[i]
        counts[0, v & np.uint32(255)] += 1
        counts[1, (v >> np.uint32(8)) & np.uint32(255)] += 1
        counts[2, (v >> np.uint32(16)) & np.uint32(255)] += 1
        counts[3, v >> np.uint32(24)] += 1
    src, dst = x, tmp[:n]
    for p in range(4):
        total = 0
        for k in range(256):
            c = counts[p, k]
            counts[p, k] = total
            total += c
        shift = np.uint32(8 * p)
        for i in range(n):
            v = src[i]
            k = (v >> shift) & np.uint32(255)
            dst[counts[p, k]] = v
            counts[p, k] += 1
        src, dst = dst, src  # after an even number of passes the result is back in x


@njit(cache=True, nogil=True)
def _sketch_batch(
    cps, starts, char_unit, n, a, b, rows, table, expand, sigs, bands, ntokens, shingles, offsets, want_sets
):  # type: ignore[no-untyped-def]
    """Sketch every document ``cps[starts[d]:starts[d + 1]]`` (code points).

    Fills ``sigs[d]``, ``bands[d]``, ``ntokens[d]``, and (``want_sets``) the sorted distinct 32-bit
    shingles of document d in ``shingles[offsets[d]:offsets[d + 1]]``. A shingle's hash is the polynomial
    ``Σ token_j · G^(n-1-j)`` (mod 2^64), rolled from one shingle to the next with two
    multiplications, then finalised with fmix64.
    """
    m = starts.shape[0] - 1
    k_perm = a.shape[0]
    n_bands = bands.shape[1]
    longest = 0
    for d in range(m):
        longest = max(longest, starts[d + 1] - starts[d])
    tokens = np.empty(3 * longest + 1, dtype=np.uint64)  # a code point folds to at most 3
    mins = np.empty(k_perm, dtype=np.uint32)
    sort_tmp = np.empty(3 * longest + 1 if want_sets else 0, dtype=np.uint32)
    sort_counts = np.empty((4, 256), dtype=np.int64)
    top = np.uint64(1)
    for _ in range(n - 1):
        top *= _GOLDEN
    offsets[0] = 0
    for d in range(m):
        ntok = _tokenize(cps, starts[d], starts[d + 1], char_unit, table, expand, tokens)
        ntokens[d] = ntok
        base = offsets[d]
        for k in range(k_perm):
            mins[k] = _MASK32
        if ntok == 0:
            for j in range(n_bands):
                bands[d, j] = 0
            sigs[d, :] = mins
            offsets[d + 1] = base
            continue
        nsh = ntok - n + 1 if ntok >= n else 1
        width = n if ntok >= n else ntok
        x = np.uint64(0)
        for j in range(width):
            x = x * _GOLDEN + tokens[j]
        for s in range(nsh):
            if s > 0:
                x = (x - tokens[s - 1] * top) * _GOLDEN + tokens[s + width - 1]
            y = _fmix64(x + np.uint64(width))
            if want_sets:
                shingles[base + s] = np.uint32(y >> np.uint64(32))
            for k in range(k_perm):
                mins[k] = min(mins[k], np.uint32((a[k] * y + b[k]) >> np.uint64(32)))
        sigs[d, :] = mins
        for j in range(n_bands):
            h = np.uint64(j + 1) * _GOLDEN
            for k in range(j * rows, (j + 1) * rows):
                h = (h ^ np.uint64(mins[k])) * _FNV_PRIME
                h ^= h >> np.uint64(31)
            h = _fmix64(h)
            bands[d, j] = h if h != 0 else np.uint64(1)  # 0 marks "no key"
        if not want_sets:
            offsets[d + 1] = base
            continue
        own = shingles[base : base + nsh]
        _radix_sort(own, sort_tmp, sort_counts)
        distinct = 1
        for s in range(1, nsh):
            if own[s] != own[distinct - 1]:
                own[distinct] = own[s]
                distinct += 1
        offsets[d + 1] = base + distinct
    return offsets[m]


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the near level keeps of one document.

    ``shingles``: sorted distinct 32-bit shingle hashes; ``signature``: the MinHash values;
    ``bands``: one LSH key per band (all 0 when the document has no token); ``tokens``: how many
    words (or characters) the document has; ``short``: it has fewer than n (one shingle of all).
    """

    shingles: np.ndarray
    signature: np.ndarray
    bands: np.ndarray
    tokens: int
    short: bool


@dataclass(frozen=True, slots=True)
class SketchBatch:
    """The sketches of several documents, as arrays; ``batch[i]`` is document i's :class:`Sketch`."""

    signatures: np.ndarray
    bands: np.ndarray
    tokens: np.ndarray
    shingles: np.ndarray
    offsets: np.ndarray
    ngram: int

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, i: int) -> Sketch:
        ntok = int(self.tokens[i])
        return Sketch(
            self.shingles[self.offsets[i] : self.offsets[i + 1]],
            self.signatures[i],
            self.bands[i],
            ntok,
            0 < ntok < self.ngram,
        )


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` (odd) and ``b`` coefficients of the ``num_perm`` hash functions, from ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    b |= rng.integers(0, 2, size=num_perm, dtype=np.uint64)
    return a, b


class MinHasher:
    """Text → :class:`Sketch`, for one choice of shingles, permutations and bands.

    >>> h = MinHasher(num_perm=64, ngram=3, bands=8, rows=8)
    >>> s1 = h.sketch("The old spy sat in the café and watched the rain.")
    >>> s2 = h.sketch("the old spy sat in the cafe, and watched the rain!")
    >>> round(h.jaccard(s1, s2), 2), round(h.estimate(s1, s2), 2)
    (0.5, 0.47)
    """

    def __init__(
        self,
        num_perm: int = 128,
        ngram: int | None = None,
        unit: str = "word",
        bands: int | None = None,
        rows: int | None = None,
        seed: int = 1,
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        self.num_perm = num_perm
        self.ngram = DEFAULT_NGRAM[unit] if ngram is None else ngram
        self.unit = unit
        self.seed = seed
        self.bands = bands if bands is not None else 0
        self.rows = rows if rows is not None else 0
        if self.ngram < 1 or num_perm < 1 or self.bands * self.rows > num_perm:
            raise ValueError("need ngram ≥ 1, num_perm ≥ 1 and bands × rows ≤ num_perm")
        self.a, self.b = permutations(num_perm, seed)
        self._char = unit == "char"
        self._local = threading.local()

    def sketch_batch(self, texts: list[str]) -> SketchBatch:
        """Sketch many documents in one compiled call (what the pipeline and benchmarks use)."""
        return self._run(texts, want_sets=True)

    def sketch(self, text: str) -> Sketch:
        return self.sketch_batch([text])[0]

    def signatures(self, texts: list[str]) -> np.ndarray:
        """The MinHash signatures alone: a (len(texts), num_perm) uint32 matrix.

        The same kernel as :meth:`sketch_batch`, minus the sorted shingle sets.
        """
        return self._run(texts, want_sets=False).signatures

    def _run(self, texts: list[str], want_sets: bool) -> SketchBatch:
        table, expand = _tables()
        # UTF-32 of the joined texts is a flat code point array at a third of UTF-8's encoding cost
        texts = [t if t.isascii() else unicodedata.normalize("NFC", t) for t in texts]
        m = len(texts)
        starts = np.zeros(m + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=starts[1:])
        cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        sigs = np.empty((m, self.num_perm), dtype=np.uint32)
        bands = np.empty((m, self.bands), dtype=np.uint64)
        ntokens = np.empty(m, dtype=np.int64)
        shingles = self._scratch(3 * len(cps) + m if want_sets else 0)
        offsets = np.empty(m + 1, dtype=np.int64)
        total = _sketch_batch(
            cps, starts, self._char, self.ngram, self.a, self.b, self.rows, table, expand,
            sigs, bands, ntokens, shingles, offsets, want_sets,
        )  # fmt: skip
        return SketchBatch(sigs, bands, ntokens, shingles[:total].copy(), offsets, self.ngram)

    def __getstate__(self) -> dict[str, object]:  # picklable (for other processes): no buffer
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def _scratch(self, size: int) -> np.ndarray:
        """A per-thread shingle buffer reused across batches: a fresh 2 MB array per batch cost
        page faults on every call (the kernel releases the GIL, so threads may share a hasher)."""
        buf: np.ndarray | None = getattr(self._local, "buf", None)
        if buf is None or len(buf) < size:
            buf = np.empty(max(size, 1 << 16), dtype=np.uint32)
            self._local.buf = buf
        return buf

    @staticmethod
    def jaccard(x: Sketch, y: Sketch) -> float:
        """Jaccard similarity of the two shingle sets (exact up to 32-bit shingle hashes)."""
        inter = len(np.intersect1d(x.shingles, y.shingles, assume_unique=True))
        union = len(x.shingles) + len(y.shingles) - inter
        return inter / union if union else 0.0

    @staticmethod
    def estimate(x: Sketch, y: Sketch) -> float:
        """Jaccard estimated from the signatures (share of equal MinHash values)."""
        return float(np.mean(x.signature == y.signature))
