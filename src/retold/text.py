"""Plain-text helpers shared by the semantic stages: sentences and words.

>>> sentences('He sat down. "Who are you?" she asked.\\n\\nA new day. Ok.')
['He sat down.', '"Who are you?" she asked.', 'A new day. Ok.']
"""

from __future__ import annotations

import re

# a sentence ends at . ! ? … (and one closing quote or bracket) followed by space (group 1: the space
# it splits at), or at a blank line. The mark is matched, not looked behind for: lookbehinds tried
# at every character cost 0.24 ms a slop-score story, this 0.09 ms (the same pieces: tests/test_text.py
# on ../shared/data's English sets; once, by hand, on 19,824 texts with tinystories_ru's)
_SENTENCE_END = re.compile(r"[.!?…\n](?:(?<=[.!?…])[\"'»”’)\]]?(\s+)|(?<=\n)\s*\n)")
#: A word: letters, with inner apostrophes or hyphens (digits and punctuation are not words).
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
MIN_SENTENCE_WORDS = 3
#: Whitespace-separated pieces remembered with their word counts (:func:`_counted_words`): pieces
#: of up to ``_COUNTED_LONGEST`` characters (a script written without spaces makes whole sentences
#: single pieces, which recur rarely), ``_COUNTED_MAX`` of them at once.
_COUNTED: dict[str, int] = {}
_COUNTED_MAX = 200_000
_COUNTED_LONGEST = 32


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
    while remembered (a word never spans whitespace): half the cost of a regex pass per sentence."""
    pieces = text.split()
    try:
        return sum(map(_COUNTED.__getitem__, pieces))  # at C speed when every piece is known
    except KeyError:
        total = 0
        for piece in pieces:
            found = _COUNTED.get(piece)
            if found is None:
                found = len(WORD.findall(piece))
                if len(piece) <= _COUNTED_LONGEST:
                    if len(_COUNTED) >= _COUNTED_MAX:
                        _COUNTED.clear()
                    _COUNTED[piece] = found
            total += found
        return total


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
