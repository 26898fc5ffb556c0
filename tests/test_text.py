"""Sentences and words, shared by the semantic stages."""

from __future__ import annotations

import gzip
import itertools
import json
import re

from conftest import SHARED
from retold.text import WORD, _counted_words, _pieces, counted_sentences_each, sentences, word_count


def test_sentences_keep_quotes_and_join_fragments() -> None:
    text = 'He sat down. "Who are you?" she asked.\n\nA new day began! Ok.'
    assert sentences(text) == ["He sat down.", '"Who are you?" she asked.', "A new day began! Ok."]


def test_sentences_of_odd_input() -> None:
    assert sentences("") == []
    assert sentences("   \n\n ") == []
    assert sentences("no end mark at all") == ["no end mark at all"]
    assert sentences("Привет, мир. Как дела у тебя?") == ["Привет, мир.", "Как дела у тебя?"]


def test_word_count_ignores_digits_and_punctuation() -> None:
    assert word_count("It's 9:30 — l'heure, well-known!") == 3


#: The sentence split as a lookbehind pattern (what ``_SENTENCE_END`` matches, said the slow way).
_LOOKBEHIND_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'»”’)\]]))\s+|\n\s*\n")
TRICKY = [
    "a. b",
    "x.\n\ny",
    "end.”) Next",
    "wait.. then",
    "Hi!\u2028There",
    "a…  b",
    "q?» r",
    "\n\n\nx\n \n",
    "",
    ".",
    ". ",
    "a.\u00a0b",
    "a \n\nb",
    "a.  \n\n b",
    "He said “no.” Then? ‘Yes.’ (Fine.) [Done.]\tNext",
    "a. . b",
    "x\n\n. y",
    "a?!. b",
    "a.’\n\n”b",
    "中文句子。没有空格的文字很长很长。 English after.",
]


SAMPLE = 400  # rows of each labelled set (the slow split is the test's cost)


def _texts() -> list[str]:
    found = list(TRICKY)
    for name in (
        "hanna_stories/stories.jsonl",
        "clough_plagiarism/pairs.jsonl",
        "clough_plagiarism/sources.jsonl",
        "stsb_en/test.jsonl",
        "nt_translations/chapters.jsonl.gz",
        "slopscore_stories/stories.jsonl.gz",
    ):
        path = SHARED / "data" / name
        if path.exists():
            with (gzip.open if name.endswith(".gz") else open)(path, "rt", encoding="utf-8") as fh:
                rows = [json.loads(line) for line in itertools.islice(fh, SAMPLE)]
            found += [r[k] for r in rows for k in ("text", "sentence1") if isinstance(r.get(k), str)]
    return found


def test_sentence_ends_matched_not_looked_behind_split_the_same() -> None:
    """The sentence split and the word counts are the slow, plain ways' bit for bit (on
    ../shared's texts where present, and on edge cases always)."""
    for text in _texts():
        assert _pieces(text) == _LOOKBEHIND_END.split(text), text[:80]
        assert all(_counted_words(p) == len(WORD.findall(p)) for p in _pieces(text)), text[:80]


def test_sentence_end_matches_as_its_plain_form_on_random_text() -> None:
    """``_SENTENCE_END`` starts with the character a match starts with (the engine skips ahead
    to it); its matches must be the plain alternation's on random text over the characters it
    turns on."""
    import random

    from retold.text import _SENTENCE_END

    plain = re.compile(r"[.!?…][\"'»”’)\]]?(\s+)|\n\s*\n")
    alphabet = [*list(".!?…\"'»”’)]x y\t\n\xa0\u2028a"), "\n\n", ". "]
    rng = random.Random(4)
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        ours = [(m.span(), m.lastindex, m.span(1)) for m in _SENTENCE_END.finditer(text)]
        assert ours == [(m.span(), m.lastindex, m.span(1)) for m in plain.finditer(text)], text


def _plain_counted(text: str) -> tuple[list[str], list[int]]:
    """What ``counted_sentences`` gives, the plain way: each piece stripped, counted by WORD."""
    out: list[str] = []
    counts: list[int] = []
    for part in _pieces(text):
        part = part.strip()
        if part:
            words = len(WORD.findall(part))
            if out and words < 3:
                out[-1] += " " + part
                counts[-1] += words
            else:
                out.append(part)
                counts.append(words)
    return out, counts


def test_words_counted_over_code_points_as_by_the_regex() -> None:
    """The code-point count of each piece's words is WORD's, on ../shared's texts, the edge cases
    and random text over letters of several scripts, digits, the inner marks, underscores,
    whitespace, sentence ends and characters past the Basic Multilingual Plane."""
    import random

    texts = _texts()
    assert counted_sentences_each(texts) == [_plain_counted(t) for t in texts]
    alphabet = [*"aZé ß²٣_5'’-‐ \t\n.!?…\"”Жж中ǅⅣ\u0301", "𝐀", "😀", "𐐷", "\ud800", ". ", "\n\n"]
    rng = random.Random(5)
    for _ in range(300):
        batch = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60))) for _ in range(5)]
        assert counted_sentences_each(batch) == [_plain_counted(t) for t in batch], batch
    # sentence ends of every kind, within the pass's tables (no character past the plane)
    ends = [*".!?…\"'»”’)] \t\n\xa0\u2028\u3000", "ab", "Cd", "é", "x-y", "\n\n", ". ", ".” ", "\n \n", "9"]
    for _ in range(1500):
        batch = ["".join(rng.choice(ends) for _ in range(rng.randrange(0, 50))) for _ in range(4)]
        assert counted_sentences_each(batch) == [_plain_counted(t) for t in batch], batch
    tiny = ["a. " * 400, "b.\n\n" * 300, "", "one two three. " * 50]  # more pieces than first made room for
    assert counted_sentences_each(tiny) == [_plain_counted(t) for t in tiny]
