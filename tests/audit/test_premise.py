"""Premise clusters: documents about the same thing group together, labelled by their phrases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED, requires_shared
from retold.audit.premise import cluster

TOPICS = {
    "dragon": "dragon castle knight sword fire princess tower",
    "space": "rocket astronaut planet orbit station launch moon",
    "baking": "oven flour bread dough yeast butter kitchen",
}


def corpus(per_topic: int = 6) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(0)
    texts, truth = [], []
    filler = ["the", "a", "and", "then", "it", "was", "very", "so", "when", "they", "we"]
    for topic, words in TOPICS.items():
        vocab = words.split()
        for _ in range(per_topic):
            chosen = [
                str(rng.choice(vocab)) if rng.random() < 0.5 else str(rng.choice(filler)) for _ in range(60)
            ]
            texts.append(" ".join(chosen) + ".")
            truth.append(topic)
    return texts, truth


def test_topics_become_clusters_with_their_words_as_labels() -> None:
    texts, truth = corpus()
    result = cluster(texts, [str(i) for i in range(len(texts))])
    assert len(result.clusters) == 3
    for c in result.clusters:
        members = [truth[int(e["id"])] for e in c["examples"]]
        assert len(set(members)) == 1 and c["size"] == 6
        assert set(" ".join(c["label"]).split()) & set(TOPICS[members[0]].split())


def test_tiny_corpora_give_no_clusters() -> None:
    assert cluster(["one story"], ["a"]).clusters == []
    assert cluster([], []).clusters == []


@requires_shared
def test_hanna_premise_clusters_match_prompts() -> None:
    from sklearn.metrics import adjusted_rand_score

    with open(SHARED / "data" / "hanna_stories" / "stories.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]
    result = cluster([r["text"] for r in rows], [str(i) for i in range(len(rows))])
    labels = result.labels.copy()
    alone = labels < 0
    labels[alone] = 100_000 + np.flatnonzero(alone)  # each unclustered story is its own group
    ari = adjusted_rand_score([r["prompt_id"] for r in rows], labels)
    assert ari >= 0.5, ari
    assert ari == pytest.approx(0.698, abs=0.03)
