"""Word n-grams of a whole sample as integer keys, in numpy: the counting the audit metrics share.

Every word gets an id from one vocabulary (shared with a reference corpus, so keys agree across
the two); an n-gram's key is a polynomial hash of its ids (uint64, wrapping). Counting, distinct
shares and document frequencies are then sorts of one array, not Python dictionaries of tuples.
Measured on the 14,753 tinystories_ru stories (1.75M words), n = 1..4, tokenising included: 2.8 s
and 175 MB, against 4.0 s and 397 MB for a ``collections.Counter`` of word tuples, which would
still need a second pass for document frequencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from retold.text import WORD

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): spreads ids over keys


#: A phrase does not run across sentence or clause punctuation, a dash or a line break.
_BREAK = re.compile(r"[.!?…;:,()\[\]\"“”«»„—–]|\s-+\s|\n")


def words(text: str) -> list[str]:
    """Lower-cased words (letters, inner apostrophes and hyphens)."""
    return [w.lower() for w in WORD.findall(text)]


@dataclass
class Tokens:
    """A corpus as one array of word ids, the document and the clause each position belongs to."""

    vocab: dict[str, int] = field(default_factory=dict)
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    doc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    docs: int = 0
    clause: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def of(cls, texts: Iterable[str], vocab: dict[str, int] | None = None) -> Tokens:
        vocab = {} if vocab is None else vocab
        ids: list[int] = []
        doc: list[int] = []
        clause: list[int] = []
        n = c = 0
        for n, text in enumerate(texts, 1):
            for part in _BREAK.split(text):
                ws = words(part)
                ids.extend(vocab.setdefault(w, len(vocab)) for w in ws)
                doc.extend([n - 1] * len(ws))
                clause.extend([c] * len(ws))
                c += 1
        as_array = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
        return cls(vocab, as_array(ids), as_array(doc), n, as_array(clause))

    def keys(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(key, document, start position) of every n-gram that lies inside one clause."""
        m = len(self.ids) - n + 1
        if m <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty.astype(np.uint64), empty, empty
        start = np.arange(m)
        same = self.clause[:m] == self.clause[n - 1 :]
        key = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                key = key * _MULT + (self.ids[k : k + m].astype(np.uint64) + np.uint64(1))
        return key[same], self.doc[:m][same], start[same]

    def words_per_doc(self) -> np.ndarray:
        return np.bincount(self.doc, minlength=self.docs)

    def phrase(self, start: int, n: int) -> str:
        inverse = getattr(self, "_inverse", None)
        if inverse is None:
            inverse = [""] * len(self.vocab)
            for w, i in self.vocab.items():
                inverse[i] = w
            self._inverse = inverse
        return " ".join(inverse[int(i)] for i in self.ids[start : start + n])


def doc_unique(key: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (key, document) pairs: each n-gram once per document it occurs in."""
    if not len(key):
        return key, doc
    order = np.lexsort((doc, key))
    k, d = key[order], doc[order]
    first = np.r_[True, (k[1:] != k[:-1]) | (d[1:] != d[:-1])]
    return k[first], d[first]


def counts(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and how often each occurs."""
    return np.unique(key, return_counts=True)


def lookup(table_keys: np.ndarray, table_values: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``table_values`` at each ``key`` (0 where absent); ``table_keys`` sorted."""
    if not len(table_keys):
        return np.zeros(len(key), dtype=table_values.dtype)
    at = np.searchsorted(table_keys, key)
    at = np.minimum(at, len(table_keys) - 1)
    return np.where(table_keys[at] == key, table_values[at], 0)
