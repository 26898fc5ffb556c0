"""Plain-text helpers shared by the semantic stages: sentences and words.

>>> sentences('He sat down. "Who are you?" she asked.\\n\\nA new day. Ok.')
['He sat down.', '"Who are you?" she asked.', 'A new day. Ok.']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

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
    out: list[str] = []
    prev = 0
    for m in _SENTENCE_END.finditer(text):
        start, end = m.span(1) if m.lastindex else m.span()
        out.append(text[prev:start])
        prev = end
    out.append(text[prev:])
    return out


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
    out: list[str] = []
    counts: list[int] = []
    for part in _pieces(text):
        part = part.strip()
        if not part:
            continue
        words = _counted_words(part)
        if out and words < MIN_SENTENCE_WORDS:
            out[-1] += " " + part
            counts[-1] += words
        else:
            out.append(part)
            counts.append(words)
    return out, counts


def word_count(text: str) -> int:
    return len(WORD.findall(text))
