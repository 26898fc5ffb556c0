"""Premise clusters: documents about the same thing group together, labelled by their phrases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED, requires_shared
from retold.audit.premise import (
    TOKEN_PATTERN,
    PremiseSpace,
    Words,
    _Handover,
    cluster,
    cluster_stream,
    communities,
    labelled,
    neighbour_graph,
    representatives,
)

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


def ari_against(truth: list, labels: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    labels = labels.copy()
    alone = labels < 0
    labels[alone] = 100_000 + np.flatnonzero(alone)  # each unclustered story is its own group
    return float(adjusted_rand_score(truth, labels))


@requires_shared
def test_hanna_premise_clusters_match_prompts() -> None:
    with open(SHARED / "data" / "hanna_stories" / "stories.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]
    result = cluster([r["text"] for r in rows], [str(i) for i in range(len(rows))])
    ari = ari_against([r["prompt_id"] for r in rows], result.labels)
    assert ari >= 0.7, ari  # issue 17's bar, with the same defaults as the next test
    assert ari == pytest.approx(0.716, abs=0.02)


@requires_shared
def test_slopscore_premise_clusters_match_prompts_with_the_same_defaults() -> None:
    """150 prompts × ~20 models of ~7,800 characters: the size at which the old method fell apart."""
    import gzip

    with gzip.open(SHARED / "data" / "slopscore_stories" / "stories.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]
    result = cluster([r["text"] for r in rows], [str(i) for i in range(len(rows))])
    truth = [r["prompt_id"] for r in rows]
    assert ari_against(truth, result.labels) >= 0.85
    creative = np.array([int(r["prompt_id"]) < 150 for r in rows])
    essay_ari = ari_against(
        [t for t, c in zip(truth, creative, strict=True) if not c], result.labels[~creative]
    )
    creative_ari = ari_against(
        [t for t, c in zip(truth, creative, strict=True) if c], result.labels[creative]
    )
    assert essay_ari > creative_ari >= 0.75  # the essay prompts give every model a detailed summary


def test_clusters_are_deterministic_and_the_stream_agrees() -> None:
    texts, _ = corpus(per_topic=12)
    ids = [str(i) for i in range(len(texts))]
    first = cluster(texts, ids)
    assert np.array_equal(first.labels, cluster(texts, ids).labels)
    streamed = cluster_stream(
        texts,
        (texts[lo : lo + 5] for lo in range(0, len(texts), 5)),
        len(texts),
        lambda pos: {p: texts[p] for p in pos},
        str,
    )
    assert np.array_equal(first.labels, streamed.labels)
    assert [c["label"] for c in first.clusters] == [c["label"] for c in streamed.clusters]


def test_capitalised_words_are_names_not_premises() -> None:
    """Two stories about different things that share only their characters' names stay apart."""
    texts, truth = corpus()
    names = ["Lily", "Oscar", "Marguerite"]
    texts = [t + " " + " ".join(names * 10) for t in texts]
    result = cluster(texts, [str(i) for i in range(len(texts))])
    assert ari_against(truth, result.labels) == pytest.approx(1.0)
    assert not any(n.lower() in " ".join(c["label"]).lower() for c in result.clusters for n in names)


def test_words_match_scikit_learn_tfidf() -> None:
    """The hand-written TF-IDF (pyarrow, for speed) gives scikit-learn's rows on the same words."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, _ = corpus()
    words = Words(texts, ["the", "and"])
    reference = TfidfVectorizer(
        sublinear_tf=True,
        min_df=2,
        max_df=0.5,
        lowercase=False,
        token_pattern=TOKEN_PATTERN,
        stop_words=["the", "and"],
    ).fit(texts)
    assert words.vocabulary.to_pylist() == reference.get_feature_names_out().tolist()
    assert np.allclose(words.transform(texts).toarray(), reference.transform(texts).toarray(), atol=1e-6)


def test_a_copy_or_retelling_shares_its_keepers_premise() -> None:
    """The scan's keepers join documents into one node: a retelling is never in another premise."""
    texts, _ = corpus()
    space = PremiseSpace(texts, ["the", "and"])
    rows, lsa, _ = space.transform(None)
    alone = labelled(rows, lsa)
    a, b = 0, len(texts) - 1  # a dragon story and a baking story
    assert alone[a] != alone[b]
    keepers = np.full(len(texts), -1)
    keepers[b] = a  # say the level found b retelling a
    joined = labelled(rows, lsa, [keepers])
    assert joined[a] == joined[b] >= 0
    same_words = [*texts, texts[5] + " Oscar met Lily."]  # told again with names: the same words
    rows, lsa, _ = PremiseSpace(same_words, ["the"]).transform(None)
    assert representatives(rows)[-1] == representatives(rows)[5]


def test_bad_input_is_labelled_without_a_crash() -> None:
    """Copies still share a premise when no word can be compared; blank and letterless texts are alone."""
    assert cluster(["the dragon guarded gold in the cave"] * 6, list("abcdef")).labels.tolist() == [0] * 6
    assert cluster(["", " ", "", "\n"], list("abcd")).labels.tolist() == [-1] * 4
    assert len(cluster(["123 456 !!!", "7 8 9", "..."], list("abc")).clusters) == 0
    assert cluster(["LILY AND OSCAR", "ANNA", "BEN"], list("abc")).labels.tolist() == [-1] * 3


def test_leiden_reads_the_weights_handed_over_a_part_at_a_time_as_it_reads_the_array() -> None:
    """The handover frees each part once igraph has read it; the partition is the array's."""
    rng = np.random.default_rng(0)
    n = 400
    a = rng.integers(0, n, 4000)
    b = rng.integers(0, n, 4000)
    pairs = np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)[a != b], axis=0)
    weights = rng.random(len(pairs))
    graph = neighbour_graph(n, pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.int32))

    class Parts(_Handover):
        PART = 97  # several parts, the last one short

    handover = Parts(weights)
    assert len(handover) == len(weights) and len(handover._parts) == -(-len(weights) // 97)
    assert np.array_equal(communities(graph, handover), communities(graph, weights))
    assert handover._parts == []  # every part read once and freed
