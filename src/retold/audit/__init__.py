"""The audit: how diverse a corpus is and what it repeats (the numbers behind report.json/html).

:func:`audit_texts` takes the documents' texts (a sample of at most ``AUDIT_SAMPLE``, spread
evenly over the corpus, when it is larger; the report says so) and computes every corpus metric
(:mod:`.metrics`), the premise clusters (:mod:`.premise`) and the stock phrases and names
(:mod:`.phrases`). The engine adds what only a scan knows: counts and duplicate shares per level,
and example pairs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from retold.audit import metrics, phrases, premise
from retold.audit.language import detect_language
from retold.audit.ngrams import Tokens
from retold.options import DEFAULT_AUDIT_SAMPLE as AUDIT_SAMPLE

#: The audit reads at most this many characters of a document (its beginning): a corpus metric is
#: about the corpus, and one 50 MB document took 46 s of the audit (phrases 22 s, lexical 11 s) and
#: would outweigh every other document's n-grams; 100,000 characters is 13 slop-score stories.
AUDIT_DOC_CHARS = 100_000


def cut(texts: Sequence[str], limit: int = AUDIT_DOC_CHARS) -> tuple[list[str], int]:
    """The texts with each cut to its first ``limit`` characters, and how many were cut."""
    out = [t if len(t) <= limit else t[:limit] for t in texts]
    return out, sum(len(t) > limit for t in texts)


def sample_positions(n: int, cap: int = AUDIT_SAMPLE) -> np.ndarray:
    """At most ``cap`` positions spread evenly over ``range(n)`` (all when n <= cap)."""
    return metrics.sample_positions(n, cap)


@functools.lru_cache(maxsize=2)
def _static_model(embedder: str | None) -> Any:
    """The static model, loaded once a process (0.3 s a load; a test suite scans hundreds of times)."""
    from retold.embed import load

    return load(embedder, kind="static")


def document_vectors(texts: Sequence[str], embedder: str | None, lang: str) -> tuple[np.ndarray | None, str]:
    """Static-model vectors of the (name-masked) texts, or (None, why).

    The default model is English (distilled from all-MiniLM-L6-v2): on other languages its vectors
    all look alike (tinystories_ru: mean pairwise cosine 0.989, Vendi 1.1 for 14,753 stories), so
    there, unless ``--embedder`` names a model, none are made and the LSA vectors stand in.
    """
    from retold.dedup.names import masked
    from retold.errors import ModelNotAvailable

    if embedder is None and lang != "en":
        return None, f"the default static model is English; the corpus is {lang}"
    try:
        model = _static_model(embedder)
    except ModelNotAvailable as e:
        return None, f"not computed: {e}"
    return np.asarray(model.encode([masked(t) for t in texts])), str(getattr(model, "name", "static"))


def audit_texts(
    texts: Sequence[str],
    ids: Sequence[str],
    *,
    reference: Sequence[str] | None = None,
    lang: str = "auto",
    embedder: str | None = None,
    documents: int | None = None,
    quiet: bool = True,
    premises: premise.PremiseClusters | None = None,
    premise_of: np.ndarray | None = None,
) -> dict[str, Any]:
    """The audit of ``texts`` (which may be a sample of ``documents`` documents). ``premises``: the
    premise clusters when the caller computed them over the whole corpus (else over ``texts``);
    ``premise_of``: then each text's cluster (stock phrases are those told across premises)."""
    from retold.progress import Steps

    steps = Steps("audit", 4, quiet)
    timings: dict[str, float] = {}
    texts, cut_documents = cut(texts)
    reference = cut(reference)[0] if reference is not None else None
    steps.step("lexical")
    t = time.perf_counter()
    lang = detect_language(texts) if lang == "auto" else lang
    tokens = Tokens.of(texts)
    corpus: dict[str, Any] = {
        "compression": metrics.compression_ratio(texts),
        **metrics.distinct_n(tokens),
    }
    self_rep, per_doc_rep = metrics.self_repetition(tokens)
    corpus["self_repetition"] = self_rep
    corpus.update(metrics.style_vendi(tokens, lang))
    timings["lexical"] = time.perf_counter() - t

    steps.step("document vectors")
    t = time.perf_counter()
    vectors, embedding = document_vectors(texts, embedder, lang)
    timings["embed"] = time.perf_counter() - t
    steps.step("premise clusters")
    t = time.perf_counter()
    clusters = premises if premises is not None else premise.cluster(texts, ids, lang=lang)
    if premise_of is None and premises is None:
        premise_of = clusters.labels
    timings["premise"] = time.perf_counter() - t
    # a metric's name fixes its method: the static model's vectors give vendi / vendi_share /
    # mean_pairwise_similarity; where it cannot be used (a language it does not cover), the TF-IDF +
    # LSA vectors stand in under names of their own (*_lsa), never under the model's
    suffix = ""
    if vectors is None:
        lsa = clusters.vectors if clusters.vectors is not None else premise.lsa_vectors(texts, lang)
        if lsa is not None and lsa.shape[1] > 1:
            vectors, embedding, suffix = lsa, f"TF-IDF + LSA ({embedding})", "_lsa"
    if vectors is not None:
        pairwise = metrics.pairwise_similarity(vectors)
        corpus[f"mean_pairwise_similarity{suffix}"] = pairwise["mean"]
        corpus.update({f"{k}{suffix}": v for k, v in metrics.vendi(vectors).items()})
    else:
        pairwise = {"mean": None, "sampled": 0, "histogram": {"edges": [], "counts": []}}
    steps.step("stock phrases")
    t = time.perf_counter()
    stock = phrases.find(texts, reference=reference, lang=lang, premises=premise_of)
    timings["phrases"] = time.perf_counter() - t
    steps.close()
    density = stock.density
    return {
        "documents": documents if documents is not None else len(texts),
        "audited": len(texts),
        "sampled": documents is not None and documents > len(texts),
        "cut": {"characters": AUDIT_DOC_CHARS, "documents": cut_documents},
        "language": lang,
        "words": len(tokens.ids),
        "embedding": embedding,
        "metrics": corpus,
        "similarity": pairwise,
        "premise": clusters.to_json(),
        "stock": stock.to_json(),
        "per_document": {
            "ids": list(ids),
            "stock_density": [None if np.isnan(v) else round(float(v), 2) for v in density],
            "self_repetition": [None if np.isnan(v) else round(float(v), 4) for v in per_doc_rep],
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        VECTORS: vectors,  # for the map (retold.report): not written to report.json
    }


VECTORS = "_vectors"


def corpus_metrics(
    texts: Sequence[str], embedder: str | None, lang: str, compression: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The corpus metrics alone (compression, distinct-n, self-repetition, and the vector ones,
    named by their vectors as :func:`audit_texts` names them), for one more set of documents.
    ``compression``: :func:`~retold.audit.metrics.compression_ratio` of ``texts``, if made already.
    Each text is read to its first :data:`AUDIT_DOC_CHARS` characters, as :func:`audit_texts` reads it."""
    texts = cut(texts)[0]
    tokens = Tokens.of(texts)
    out: dict[str, Any] = {
        "compression": compression if compression is not None else metrics.compression_ratio(texts),
        **metrics.distinct_n(tokens),
    }
    out["self_repetition"] = metrics.self_repetition(tokens)[0]
    out.update(metrics.style_vendi(tokens, lang))
    vectors, _ = document_vectors(texts, embedder, lang)
    suffix = ""
    if vectors is None:
        vectors, suffix = premise.lsa_vectors(list(texts), lang), "_lsa"
    if vectors is not None and len(vectors) and vectors.shape[1] > 1:
        out[f"mean_pairwise_similarity{suffix}"] = metrics.pairwise_similarity(vectors)["mean"]
        out.update({f"{k}{suffix}": v for k, v in metrics.vendi(vectors).items()})
    return out


__all__ = [
    "AUDIT_DOC_CHARS",
    "AUDIT_SAMPLE",
    "audit_texts",
    "corpus_metrics",
    "cut",
    "detect_language",
    "sample_positions",
]
