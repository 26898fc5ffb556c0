"""Lexical vectors: any script, names masked before hashing make a name swap invisible."""

from __future__ import annotations

import numpy as np

from retold.dedup.names import masked
from retold.embed.lexical import LexicalEmbedder

RU = "Маша пошла в лес за грибами. В лесу Маша встретила медведя, и медведь попросил у неё пирожок."


def test_a_name_swap_is_the_same_vector_and_unrelated_text_is_far() -> None:
    model = LexicalEmbedder(256)
    swapped = RU.replace("Маша", "Оля")
    other = "Зимой дети катались с горки и лепили снеговиков до самого вечера, пока не стемнело."
    a, b, c, empty = model.encode([masked(RU), masked(swapped), masked(other), "— !"])
    assert np.isclose(a @ b, 1.0) and abs(float(a @ c)) < 0.3
    assert np.isclose(np.linalg.norm(a), 1.0) and not empty.any()
    assert model.encode([]).shape == (0, 256)
