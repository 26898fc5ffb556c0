"""Plain-text helpers shared by the semantic stages: sentences and words.

>>> sentences('He sat down. "Who are you?" she asked.\\n\\nA new day. Ok.')
['He sat down.', '"Who are you?" she asked.', 'A new day. Ok.']
"""

from __future__ import annotations

import re

# a sentence ends at . ! ? … (and any closing quotes or brackets) followed by space, or at a blank line
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'»”’)\]]))\s+|\n\s*\n")
#: A word: letters, with inner apostrophes or hyphens (digits and punctuation are not words).
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
MIN_SENTENCE_WORDS = 3


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
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if not part:
            continue
        words = len(WORD.findall(part))
        if out and words < MIN_SENTENCE_WORDS:
            out[-1] += " " + part
            counts[-1] += words
        else:
            out.append(part)
            counts.append(words)
    return out, counts


def word_count(text: str) -> int:
    return len(WORD.findall(text))
