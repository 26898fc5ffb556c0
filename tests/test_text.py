"""Sentences and words, shared by the semantic stages."""

from __future__ import annotations

from retold.text import sentences, word_count


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
