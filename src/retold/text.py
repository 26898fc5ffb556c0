"""Plain-text helpers shared by the semantic stages: sentences and words.

>>> sentences('He sat down. "Who are you?" she asked.\\n\\nA new day. Ok.')
['He sat down.', '"Who are you?" she asked.', 'A new day. Ok.']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import numpy as np
from numba import njit

# a sentence ends at . ! ? … (and one closing quote or bracket) followed by space (group 1: the space
# it splits at), or at a blank line. The mark is matched, not looked behind for: lookbehinds tried
# at every character cost 0.24 ms a slop-score story, this 0.09 ms (the same pieces: tests/test_text.py
# on ../shared/data's English sets; once, by hand, on 19,824 texts with tinystories_ru's)
_SENTENCE_END = re.compile(r"[.!?…\n](?:(?<=[.!?…])[\"'»”’)\]]?(\s+)|(?<=\n)\s*\n)")
#: A word: letters, with inner apostrophes or hyphens (digits and punctuation are not words).
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
MIN_SENTENCE_WORDS = 3


class PieceValues(dict):  # type: ignore[type-arg]
    """A value of each whitespace-separated piece of text (``value(piece)``: its word count, its
    English tally), remembered, so that a text's total is one lookup a piece at C speed
    (:meth:`total`): a word never spans whitespace, so a text's value is the sum of its pieces'.
    Pieces of up to ``longest`` characters are remembered (a script written without spaces makes
    whole sentences single pieces, which recur rarely), ``most`` of them at once."""

    def __init__(self, value: Callable[[str], int], longest: int = 32, most: int = 200_000) -> None:
        super().__init__()
        self.value, self.longest, self.most = value, longest, most

    def __missing__(self, piece: str) -> int:
        found = self.value(piece)
        if len(piece) <= self.longest:
            if len(self) >= self.most:
                self.clear()
            self[piece] = found
        return found

    def total(self, pieces: Iterable[str]) -> int:
        return sum(map(self.__getitem__, pieces))


def _pieces(text: str) -> list[str]:
    """``text`` split where a sentence ends (the whitespace there dropped)."""
    return [text[a:b] for a, b in _piece_spans(text)]


def _counted_words(text: str) -> int:
    """:func:`word_count`, from the counts of its whitespace-separated pieces, each counted once
    while remembered: half the cost of a regex pass per sentence."""
    return _COUNTED.total(text.split())


def _word_count_of_piece(piece: str) -> int:
    return len(WORD.findall(piece))


_COUNTED = PieceValues(_word_count_of_piece)


def sentences(text: str) -> list[str]:
    """The text's sentences; a fragment of fewer than 3 words joins the sentence before it."""
    return counted_sentences(text)[0]


def counted_sentences(text: str) -> tuple[list[str], list[int]]:
    """:func:`sentences` and each one's :func:`word_count`, counted once (a fragment joins its
    sentence with a space, which no word spans, so the counts add up).

    >>> counted_sentences("It rained. Oh well. Then the sun came out.")
    (['It rained. Oh well.', 'Then the sun came out.'], [4, 5])
    """
    return counted_sentences_each([text])[0]


def counted_sentences_each(texts: list[str]) -> list[tuple[list[str], list[int]]]:
    """:func:`counted_sentences` of each text, every piece's words counted in one pass over the
    texts' code points (:func:`_span_words`): a split and a lookup of each of its whitespace
    pieces cost 0.88 s of pieces' 8 s candidate stage on one core."""
    spans: list[list[tuple[int, int]]] = []
    lo: list[int] = []
    hi: list[int] = []
    base = 0
    for text in texts:
        mine = _piece_spans(text)
        spans.append(mine)
        lo += [base + a for a, _ in mine]
        hi += [base + b for _, b in mine]
        base += len(text)
    counts = _span_words(
        code_points("".join(texts)), np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64), _classes()
    ).tolist()
    found: list[tuple[list[str], list[int]]] = []
    at = 0
    for text, mine in zip(texts, spans, strict=True):
        out: list[str] = []
        tally: list[int] = []
        for a, b in mine:
            words = counts[at]
            at += 1
            part = text[a:b].strip()
            if not part:
                continue
            if words < 0:  # (a code point past the Basic Multilingual Plane: counted by WORD)
                words = _counted_words(part)
            if out and words < MIN_SENTENCE_WORDS:
                out[-1] += " " + part
                tally[-1] += words
            else:
                out.append(part)
                tally.append(words)
        found.append((out, tally))
    return found


def _piece_spans(text: str) -> list[tuple[int, int]]:
    """Where :func:`_pieces` cuts ``text``: each piece's (start, end)."""
    out: list[tuple[int, int]] = []
    prev = 0
    for m in _SENTENCE_END.finditer(text):
        start, end = m.span(1) if m.lastindex else m.span()
        out.append((prev, start))
        prev = end
    out.append((prev, len(text)))
    return out


def code_points(text: str) -> np.ndarray:
    """The text's code points (a lone surrogate as itself)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


#: :func:`_classes`: a letter as :data:`WORD` reads one, and the marks inside a word.
_LETTER, _JOINER = 1, 2


@functools.cache
def _classes() -> np.ndarray:
    r"""Each code point of the Basic Multilingual Plane: :data:`_LETTER` where ``[^\W\d_]`` matches
    it (Python's own regex reads each, so the classes are the regex's by construction; 3 ms),
    :data:`_JOINER` for ``'’-``, else 0."""
    codes = np.arange(0x10000, dtype=np.uint32)
    plane = codes.tobytes().decode("utf-32-le", "surrogatepass")
    marked = code_points(re.sub(r"[^\W\d_]", "\x00", plane))
    out = (marked != codes).astype(np.uint8) * _LETTER
    out[[ord(c) for c in "'’-"]] = _JOINER
    return out


@njit(cache=True, nogil=True)
def _span_words(codes, lo, hi, classes):  # type: ignore[no-untyped-def]
    """How many times :data:`WORD` matches in each ``codes[lo[k]:hi[k]]``, as its regex matches:
    letters, then as long as an inner mark and a letter follow, the mark and more letters.
    -1 where the span holds a code point past the table (the caller counts it with the regex)."""
    out = np.zeros(lo.shape[0], dtype=np.int64)
    top = classes.shape[0]
    for k in range(lo.shape[0]):
        end = hi[k]
        count = 0
        i = lo[k]
        while i < end:
            c = codes[i]
            if c >= top:
                count = -1
                break
            if classes[c] != _LETTER:
                i += 1
                continue
            count += 1
            i += 1
            while i < end:
                c = codes[i]
                if c >= top:
                    break
                if classes[c] == _LETTER:
                    i += 1
                elif (
                    classes[c] == _JOINER
                    and i + 1 < end
                    and codes[i + 1] < top
                    and classes[codes[i + 1]] == _LETTER
                ):
                    i += 2
                else:
                    break
        out[k] = count
    return out


def word_count(text: str) -> int:
    return len(WORD.findall(text))
