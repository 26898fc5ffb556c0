"""Shingles and MinHash signatures, text → sketch in one compiled pass.

A document's *sketch* is everything the near-copy level needs from it:

- its **shingles**: word n-grams (default 5) or character n-grams of the normalised text, each
  hashed to 64 bits; kept as the sorted distinct high 32 bits, for exact verification later;
- its **signature**: ``num_perm`` MinHash values, ``min over shingles of (a_k·x + b_k) >> 32``
  (64-bit multiply-add-shift, a strongly universal family; datasketch uses ``(a·x + b) mod p``);
- its **band keys**: one 64-bit hash per LSH band of ``rows`` signature values.

Normalisation: case-folded, NFC. *Words* are maximal runs of characters that are not whitespace,
punctuation or symbols (the ranges in :data:`SEPARATOR_RANGES`), so ``"Hello, world!"`` and
``"hello world"`` have the same shingles. *Characters* (``unit="char"``) keep punctuation and fold
each run of whitespace to one space.

A document with fewer tokens than ``n`` gets exactly one shingle made of all its tokens (it can
only match a document with the same tokens; text-dedup drops such documents silently). A document
with no token at all (only punctuation) gets no shingle and takes no part in the near level; both
cases are counted by :class:`NearIndex`.

Why a hand-written kernel: rensa's Rust kernel is fast, but its users build shingles as Python
strings (``" ".join(words[i:i+5])``), and that is most of the time. Here tokenising, hashing,
shingling and the permutations run in one numba loop over the UTF-8 bytes; only case folding and
NFC stay in Python (C code). ``benchmarks/bench_minhash.py`` measures the whole text → signature
path against rensa and datasketch on the same documents.
"""

from __future__ import annotations

import re
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


def _table(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    table = np.zeros(0x110000, dtype=np.bool_)
    for lo, hi in ranges:
        table[lo : hi + 1] = True
    return table


_SEP = _table(SEPARATOR_RANGES)
_SPACE = _table(WHITESPACE_RANGES)
_WORD_RE = re.compile("[^" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in SEPARATOR_RANGES) + "]+")


def normalize(text: str) -> str:
    """Case fold, then NFC (skipped for ASCII, where it changes nothing).

    >>> normalize("The CAFÉ")
    'the café'
    """
    text = text.casefold()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


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


@njit(cache=True, nogil=True)
def _tokens(buf, char_unit, sep, space):  # type: ignore[no-untyped-def]
    """UTF-8 bytes → one 64-bit hash per token (word, or character with whitespace runs folded)."""
    size = buf.shape[0]
    out = np.empty(size + 1, dtype=np.uint64)
    count = 0
    h = _FNV_OFFSET
    in_word = False
    pending_space = False
    i = 0
    while i < size:
        c = np.uint32(buf[i])
        if c < 0x80:
            cp = c
            i += 1
        elif c < 0xE0:
            cp = ((c & 0x1F) << 6) | (np.uint32(buf[min(i + 1, size - 1)]) & 0x3F)
            i += 2
        elif c < 0xF0:
            cp = (
                ((c & 0x0F) << 12)
                | ((np.uint32(buf[min(i + 1, size - 1)]) & 0x3F) << 6)
                | (np.uint32(buf[min(i + 2, size - 1)]) & 0x3F)
            )
            i += 3
        else:
            cp = (
                ((c & 0x07) << 18)
                | ((np.uint32(buf[min(i + 1, size - 1)]) & 0x3F) << 12)
                | ((np.uint32(buf[min(i + 2, size - 1)]) & 0x3F) << 6)
                | (np.uint32(buf[min(i + 3, size - 1)]) & 0x3F)
            )
            i += 4
        if cp > 0x10FFFF:
            cp = 0xFFFD
        if char_unit:
            if space[cp]:
                if count > 0:
                    pending_space = True
                continue
            if pending_space:
                out[count] = _fmix64(np.uint64(32) + _GOLDEN)
                count += 1
                pending_space = False
            out[count] = _fmix64(np.uint64(cp) + _GOLDEN)
            count += 1
        elif sep[cp]:
            if in_word:
                out[count] = h
                count += 1
                in_word = False
                h = _FNV_OFFSET
        else:
            h = (h ^ np.uint64(cp)) * _FNV_PRIME
            in_word = True
    if in_word:
        out[count] = h
        count += 1
    return out[:count]


@njit(cache=True, nogil=True)
def _sketch(buf, char_unit, n, a, b, rows, sep, space, signature, bands):  # type: ignore[no-untyped-def]
    """Fill ``signature`` and ``bands``; return (sorted distinct 32-bit shingles, token count)."""
    tokens = _tokens(buf, char_unit, sep, space)
    ntok = tokens.shape[0]
    k_perm = a.shape[0]
    for k in range(k_perm):
        signature[k] = _MASK32
    if ntok == 0:
        for j in range(bands.shape[0]):
            bands[j] = 0
        return np.empty(0, dtype=np.uint32), 0
    nsh = ntok - n + 1 if ntok >= n else 1
    width = n if ntok >= n else ntok
    shingles = np.empty(nsh, dtype=np.uint32)
    for s in range(nsh):
        x = np.uint64(n)
        for j in range(s, s + width):
            x = (x ^ tokens[j]) * _GOLDEN
            x ^= x >> np.uint64(29)
        x = _fmix64(x)
        shingles[s] = np.uint32(x >> np.uint64(32))
        for k in range(k_perm):
            v = np.uint32((a[k] * x + b[k]) >> np.uint64(32))
            if v < signature[k]:
                signature[k] = v
    for j in range(bands.shape[0]):
        h = np.uint64(j + 1) * _GOLDEN
        for k in range(j * rows, (j + 1) * rows):
            h = (h ^ np.uint64(signature[k])) * _FNV_PRIME
            h ^= h >> np.uint64(31)
        h = _fmix64(h)
        bands[j] = h if h != 0 else np.uint64(1)  # 0 marks "no key"
    shingles.sort()
    distinct = 1
    for s in range(1, nsh):
        if shingles[s] != shingles[distinct - 1]:
            shingles[distinct] = shingles[s]
            distinct += 1
    return shingles[:distinct], ntok


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
    (0.5, 0.53)
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
        self.bands = bands if bands is not None else 0
        self.rows = rows if rows is not None else 0
        if self.ngram < 1 or num_perm < 1 or self.bands * self.rows > num_perm:
            raise ValueError("need ngram ≥ 1, num_perm ≥ 1 and bands × rows ≤ num_perm")
        self.a, self.b = permutations(num_perm, seed)
        self._char = unit == "char"

    def sketch(self, text: str) -> Sketch:
        buf = np.frombuffer(normalize(text).encode("utf-8", "surrogatepass"), dtype=np.uint8)
        signature = np.empty(self.num_perm, dtype=np.uint32)
        bands = np.empty(self.bands, dtype=np.uint64)
        shingles, ntok = _sketch(
            buf, self._char, self.ngram, self.a, self.b, self.rows, _SEP, _SPACE, signature, bands
        )
        return Sketch(shingles, signature, bands, int(ntok), 0 < ntok < self.ngram)

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature alone (``num_perm`` uint32 values)."""
        return self.sketch(text).signature

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
