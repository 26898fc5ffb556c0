"""Stock words and phrases: what a corpus says more often than people do.

* **Words** against ``wordfreq`` (a human baseline in 40 languages): the log2 ratio of a word's
  frequency in the corpus to its frequency in wordfreq, smoothed; a word must be in at least
  ``min_docs`` documents.
* **Phrases** (2-4 words, not beginning or ending with one of the language's 100 most common
  words, in at least ``min_docs`` documents):
  - with a reference corpus (``--reference human.jsonl``): the log-odds ratio with an informative
    Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"), as a z-score: how far the
    phrase is over-used against the reference, with rare phrases shrunk toward the prior;
  - without one: the log2 ratio of the phrase's frequency to what its words' wordfreq frequencies
    predict if they were independent: a collocation people rarely form ("shrouded in mystery").
* **Density**: per document, the share of its words covered by the stock phrases (per 1,000
  words): the per-document stock-phrase figure.
* **Names**: character names (:func:`retold.dedup.names.find_names`) by how many documents use them,
  kept only where the documents use them as persons (:func:`recurring_names`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retold.audit.ngrams import Tokens, counts, doc_unique, lookup

STOCK_PHRASES = 300  # phrases kept as "stock" (the density counts these)
STOCK_WORDS = 50
#: A stock phrase is told across premises, not one prompt's topic ("freddy krueger and jason" in the
#: stories of one prompt): it must occur in documents of at least this many premise clusters (a
#: document of no cluster counts as its own).
MIN_PREMISES = 3
#: With a reference, a phrase is stock only if over-used at z >= 1.96 (two-sided 5%, the usual
#: cut for Monroe et al.'s z). HANNA LLM-vs-human density ROC-AUC by cut: z >= 3: 0.71 (8 phrases
#: pass), 2: 0.82, 1: 0.88-0.95 (but then a third of the phrases are noise).
MIN_Z = 1.96
_WORDFREQ_FLOOR = 1e-8  # a word wordfreq does not know is taken as this rare


def _wordfreq(lang: str) -> Any:
    from wordfreq import word_frequency

    cache: dict[str, float] = {}

    def freq(word: str) -> float:
        if word not in cache:
            cache[word] = max(word_frequency(word, lang), _WORDFREQ_FLOOR)
        return cache[word]

    return freq


def common_words(lang: str, top: int = 100) -> set[str]:
    from wordfreq import top_n_list

    return set(top_n_list(lang, top, wordlist="small"))


@dataclass
class StockPhrases:
    words: list[dict[str, Any]] = field(default_factory=list)
    phrases: list[dict[str, Any]] = field(default_factory=list)
    density: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per document, per 1,000 words
    baseline: str = "wordfreq"
    names: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, limit: int = 50) -> dict[str, Any]:
        d = self.density[~np.isnan(self.density)] if len(self.density) else self.density
        return {
            "baseline": self.baseline,
            "words": self.words[:limit],
            "phrases": self.phrases[:limit],
            "density_per_1000_words": {
                "mean": round(float(d.mean()), 3) if len(d) else None,
                "median": round(float(np.median(d)), 3) if len(d) else None,
            },
            "names": self.names[:limit],
        }


def find(
    texts: Sequence[str],
    reference: Sequence[str] | None = None,
    lang: str = "en",
    min_docs: int | None = None,
    top: int = STOCK_PHRASES,
    premises: np.ndarray | None = None,
) -> StockPhrases:
    """Stock words and phrases of ``texts`` (against ``reference`` for phrases when given).
    ``premises``: each text's premise cluster (-1: none); a phrase (or word) then counts only when
    documents of at least :data:`MIN_PREMISES` clusters use it."""
    tokens = Tokens.of(texts)
    ref = Tokens.of(reference, tokens.vocab) if reference is not None else None
    n_docs = tokens.docs
    # each document's premise, a document of no cluster its own
    premise = None
    if premises is not None and len(premises) == n_docs:
        labels = np.asarray(premises, dtype=np.int64)
        premise = np.where(labels >= 0, labels, labels.max(initial=0) + 1 + np.arange(n_docs))
    if min_docs is None:  # in 2 documents, and in 0.5% of a large corpus
        min_docs = max(2, math.ceil(0.005 * n_docs))
    freq = _wordfreq(lang)
    common = common_words(lang)
    total_words = max(1, len(tokens.ids))
    out = StockPhrases(baseline="reference corpus" if ref is not None else "wordfreq (" + lang + ")")

    # words
    key, doc, start = tokens.keys(1)
    table, count = counts(key)
    ukey, udoc = doc_unique(key, doc)
    dkeys, df = counts(ukey)
    spread = _spread(ukey, udoc, premise)
    firsts = {int(k): int(s) for k, s in zip(key[::-1], start[::-1], strict=True)}  # a position of each
    scored = []
    for k, c in zip(table.tolist(), count.tolist(), strict=True):
        d = int(lookup(dkeys, df, np.array([k], dtype=np.uint64))[0])
        if d < min_docs or (
            spread is not None and int(lookup(*spread, np.array([k], dtype=np.uint64))[0]) < MIN_PREMISES
        ):
            continue
        word = tokens.phrase(firsts[k], 1)
        if word in common:
            continue
        score = math.log2((c / total_words + 1e-7) / (freq(word) + 1e-7))
        scored.append((score, word, c, d))
    scored.sort(key=lambda r: (-r[0], r[1]))
    out.words = [
        {"word": w, "score": round(s, 2), "count": c, "documents": d} for s, w, c, d in scored[:STOCK_WORDS]
    ]

    # phrases
    common_ids = common_word_ids(tokens, common)
    candidates = []
    for n in (2, 3, 4):
        key, doc, start = content_ngrams(tokens, n, common_ids)
        if not len(key):
            continue
        table, count = counts(key)
        ukey, udoc = doc_unique(key, doc)
        dkeys, df = counts(ukey)
        dfs = lookup(dkeys, df, table)
        keep = dfs >= min_docs
        spread = _spread(ukey, udoc, premise)
        if spread is not None:
            keep &= lookup(*spread, table) >= MIN_PREMISES
        if not keep.any():
            continue
        order = np.argsort(key, kind="stable")
        first_at = start[order][np.searchsorted(key[order], table[keep])]
        ref_count = np.zeros(int(keep.sum()))
        ref_total = 0
        if ref is not None:
            rkey, _, _ = ref.keys(n)
            rtable, rcount = counts(rkey)
            ref_count = lookup(rtable, rcount, table[keep]).astype(np.float64)
            ref_total = len(rkey)
        for k_count, k_df, at, r_c in zip(count[keep], dfs[keep], first_at, ref_count, strict=True):
            candidates.append((n, int(k_count), int(k_df), int(at), float(r_c), ref_total, len(key)))
    scored = []
    for n, c, d, at, r_c, r_total, total in candidates:
        phrase = tokens.phrase(at, n)
        if ref is not None:
            score = log_odds_z(c, total, r_c, r_total)
            if score < MIN_Z:
                continue
        else:
            expected = math.prod(freq(w) for w in phrase.split())
            score = math.log2((c / total) / expected)
        scored.append((score, phrase, n, c, d))
    scored.sort(key=lambda r: (-r[0], r[1]))
    chosen: list[tuple[float, str, int, int, int]] = []
    for row in scored:  # "man shrouded in mystery" shows; "shrouded in mystery" inside it does not
        if not any(f" {row[1]} " in f" {c[1]} " or f" {c[1]} " in f" {row[1]} " for c in chosen):
            chosen.append(row)
            if len(chosen) == top:
                break
    out.phrases = [
        {"phrase": p, "score": round(s, 2), "count": c, "documents": d} for s, p, n, c, d in chosen
    ]
    out.density = density(tokens, [(p, n) for _, p, n, _, _ in chosen])
    out.names = recurring_names(texts)
    return out


def common_word_ids(tokens: Tokens, common: set[str]) -> np.ndarray:
    """The token ids of the language's common words (sorted)."""
    return np.array(sorted(tokens.vocab[w] for w in common if w in tokens.vocab), dtype=np.int64)


def content_ngrams(
    tokens: Tokens, n: int, common_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, document, start) of the n-grams that neither begin nor end with a common word: "of the
    house" says nothing a phrase list is for; "dipped below the horizon" does."""
    key, doc, start = tokens.keys(n)
    if not len(key):
        return key, doc, start
    edge = ~np.isin(tokens.ids[start], common_ids) & ~np.isin(tokens.ids[start + n - 1], common_ids)
    return key[edge], doc[edge], start[edge]


def _spread(
    ukey: np.ndarray, udoc: np.ndarray, premise: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(keys, how many premise clusters' documents use each), from distinct (key, document) pairs."""
    if premise is None or not len(ukey):
        return None
    # one 64-bit key a (n-gram, premise) pair (a collision would need 2^32 pairs), unique in 1-D:
    # np.unique(axis=0) on the pairs took minutes on the slop-score stories, this takes a second
    mixed = ukey ^ (premise[udoc].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    _, first = np.unique(mixed, return_index=True)
    return counts(ukey[first])


def log_odds_z(c: float, total: float, r_c: float, r_total: float, prior: float = 0.01) -> float:
    """Log-odds ratio of a phrase in the corpus vs the reference, informative Dirichlet prior, z.

    The prior gives every phrase ``prior`` pseudo-counts split in proportion to its pooled share.
    """
    alpha = prior * (c + r_c) + 0.01
    alpha0 = prior * (total + r_total) + 1.0
    a = math.log((c + alpha) / (total + alpha0 - c - alpha))
    b = math.log((r_c + alpha) / (r_total + alpha0 - r_c - alpha))
    var = 1.0 / (c + alpha) + 1.0 / (r_c + alpha)
    return (a - b) / math.sqrt(var)


def density(tokens: Tokens, phrases: list[tuple[str, int]]) -> np.ndarray:
    """Per document: words covered by any of ``phrases`` per 1,000 words (NaN: no words)."""
    covered = np.zeros(len(tokens.ids), dtype=bool)
    by_n: dict[int, list[str]] = {}
    for phrase, n in phrases:
        by_n.setdefault(n, []).append(phrase)
    for n, group in by_n.items():
        wanted = Tokens.of(group, tokens.vocab)
        wkeys, _, _ = wanted.keys(n)
        key, _, start = tokens.keys(n)
        hit = start[np.isin(key, wkeys)]
        for k in range(n):
            covered[hit + k] = True
    per_doc = tokens.words_per_doc().astype(np.float64)
    hits = np.bincount(tokens.doc, weights=covered, minlength=tokens.docs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(per_doc > 0, 1000.0 * hits / per_doc, np.nan)


#: Verbs only a person (or a personified character) does: "Elara whispered", "said Marcus". Verbs a
#: company or a place can do ("Google opened", "Earth turned") are left out on purpose.
_PERSON_VERBS = (
    "said|says|asked|asks|replied|whispered|smiled|nodded|laughed|sighed|shouted|muttered|murmured|"
    "grinned|frowned|stared|thought|felt|wondered|realized|realised|cried|screamed|yelled|gasped|"
    "chuckled|blinked|swallowed|hesitated|exclaimed|answered|admitted|shrugged|winced|knelt|smirked|"
    "groaned|exhaled|glanced|leaned|sat|stood|walked|ran"
)
_NAME = r"([A-Z][\w’'-]*)"
_ACTING = re.compile(rf"\b{_NAME}\s+(?:{_PERSON_VERBS})\b")
_SPOKEN_TO = re.compile(
    rf"\b(?:said|asked|replied|whispered|murmured|muttered|shouted|answered|called)\s+{_NAME}"
)
_TITLED = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Doctor|Professor|Captain|Detective|Officer|Agent|Sergeant|Commander|"
    rf"Sir|Lady|Lord|Aunt|Uncle)\.?\s+{_NAME}"
)
_CONTRACTION = re.compile(r"^I[’'][a-z]+$")  # "I’d", "I’ve": the pronoun, not a name
#: A recurring name is a character's when at least this share of its documents (and two) use it
#: as a person. Measured on slop-score's 3,035 stories: "Sarah" 31 of 108, "Elias" 37 of 102,
#: "Eleanor" 5 of 34; "Earth" 0 of 177, "Tuesday" 1 of 199, "United" 0 of 267, "Google" 1 of 12
#: on HANNA.
PERSON_SHARE = 0.1


def person_names(text: str) -> set[str]:
    """Capitalised words ``text`` uses as a person: before a person's verb, after a verb of
    speech, or after a title."""
    found = set(_ACTING.findall(text)) | set(_SPOKEN_TO.findall(text)) | set(_TITLED.findall(text))
    return {w for w in found if not _CONTRACTION.match(w)}


def recurring_names(texts: Sequence[str], top: int = 30) -> list[dict[str, Any]]:
    """Character names used in two or more documents, most documents first.

    :func:`retold.dedup.names.find_names` finds every proper name (places, weekdays, companies,
    nationalities too: what the retold level must mask); a character's name is one the documents
    also use as a person (:func:`person_names`) in :data:`PERSON_SHARE` of them. Titles ("Mr",
    "Dr") and the pronoun's contractions are not names.
    """
    from retold.dedup.names import find_names

    df: Counter[str] = Counter()
    acting: Counter[str] = Counter()
    for t in texts:
        # a titled name is a name even where a title's full stop hides it ("Dr. Voss nodded")
        names = {n for n in find_names(t) | set(_TITLED.findall(t)) if not _CONTRACTION.match(n)}
        df.update(names)
        acting.update(names & person_names(t))
    rows = [(name, d) for name, d in df.items() if d >= 2 and acting[name] >= max(2, PERSON_SHARE * d)]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return [
        {"name": name, "documents": d, "share": round(d / max(1, len(texts)), 4)} for name, d in rows[:top]
    ]
