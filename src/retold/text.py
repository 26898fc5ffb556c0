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
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if not part:
            continue
        if out and len(WORD.findall(part)) < MIN_SENTENCE_WORDS:
            out[-1] += " " + part
        else:
            out.append(part)
    return out


def word_count(text: str) -> int:
    return len(WORD.findall(text))
