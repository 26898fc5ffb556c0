"""Stock phrases, their density and recurring names."""

from __future__ import annotations

import numpy as np

from conftest import SHARED
from retold.audit.phrases import find


def test_shared_collocations_are_stock_against_wordfreq() -> None:
    texts = [
        "Tom was a man shrouded in mystery. He felt the weight of his past every day.",
        "Ann was a woman shrouded in mystery, and she felt the weight of his past too.",
        "A plain sentence about the weather and the market.",
    ]
    found = [p["phrase"] for p in find(texts, lang="en").phrases]
    assert any("shrouded in mystery" in p for p in found)
    assert any("weight of his past" in p for p in found)
    assert not any(p.split()[0] in ("the", "of") for p in found)  # no phrase starts with a common word


def test_reference_phrases_and_density() -> None:
    llm = [f"Story {i}. Once upon a time a tapestry of dreams woven together unfolded." for i in range(30)]
    human = [f"Note {i}. We went to the shop and bought bread and milk for dinner." for i in range(30)]
    stock = find(llm + human[:5], reference=human[5:], lang="en")
    phrases = [p["phrase"] for p in stock.phrases]
    assert any("tapestry of dreams" in p for p in phrases)
    assert np.nanmean(stock.density[:30]) > np.nanmean(stock.density[30:])


def test_recurring_names_and_empty_input() -> None:
    """Names the documents use as persons (acting, spoken to, titled) are characters; a planet, a
    weekday, a company or the pronoun's contraction in every document is not."""
    texts = [
        "On Tuesday Lily smiled and Max laughed. Earth was far below, and I’d never seen Google so quiet.",
        'On Tuesday Lily sighed and Max played. "Come," said Max. Earth was blue; I’d say Google knew.',
        "It was dark on Earth, and Dr. Voss ran to Google. I’d go.",
        "Dr. Voss nodded at Elara. Earth shook on Tuesday at Google.",
    ]
    stock = find(texts, lang="en")
    names = {n["name"]: n["documents"] for n in stock.names}
    assert names == {"Lily": 2, "Max": 2, "Voss": 2}
    assert find([], lang="en").phrases == []


def test_seeds_stock_phrases() -> None:
    import ftfy

    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        import pytest

        pytest.skip(f"seeds not found under {SHARED}/seeds")
    texts = [ftfy.fix_text(p.read_text(encoding="utf-8")) for p in seeds]
    found = " | ".join(p["phrase"] for p in find(texts, lang="en").phrases)
    assert "shrouded in mystery" in found and "weight of his past" in found


def test_a_stock_phrase_is_told_across_premises() -> None:
    """One prompt's topic ("freddy krueger and jason") is not a stock phrase; a phrase that
    stories of many premises tell ("took a deep breath") is."""
    import numpy as np

    from retold.audit import phrases as stock

    texts, premises = [], []
    for p in range(6):
        for k in range(5):
            topic = (
                " freddy krueger fought jason voorhees at camp."
                if p == 0
                else f" the {p} thing happened {k}."
            )
            texts.append(f"She took a deep breath and waited.{topic} Story {p} {k} went on quietly.")
            premises.append(p)
    found = {x["phrase"] for x in stock.find(texts, premises=np.array(premises)).phrases}
    assert "took a deep breath" in found and not any("krueger" in x for x in found)
    unfiltered = {x["phrase"] for x in stock.find(texts).phrases}
    assert any("krueger" in x for x in unfiltered)
