"""Groups side by side (``--group-by FIELD``): one row a group (a model, a prompt, a run), ranked.

Each document's group is the value of a field of its record (missing or null: ``(none)``). The
largest :data:`MAX_GROUPS` groups are shown; the rest are pooled as ``(other)``, and the report
says how many groups and documents that is.

Per group (:func:`compare_groups`):

* **size-dependent metrics on equal samples**: compression, distinct-n, self-repetition (within
  the group), Vendi / n and mean pairwise similarity are computed on the same number of documents
  for every group (:func:`sample_size`: the smallest shown group's size, at most
  :data:`GROUP_SAMPLE`), evenly spread over the group; a group smaller than that is measured on
  all of its documents and marked;
* **style diversity** (``vendi_style_share``, :func:`metrics.style_vendi`): how differently the
  group's documents use the language's common words, on the same equal samples;
* **stock-phrase density**: the corpus's stock phrases (those the audit found) per 1,000 words of
  the group's sample, the same phrase list for every group, so the densities rank;
* **phrases the group over-uses against the other groups**: log-odds with an informative prior
  (Monroe et al. 2008) of its n-grams against every other group's sample;
* **copies within and across groups**: the share of the group's documents in a verified pair
  (pairs.jsonl's, every level) with a document of the same group, and with one of another group;
  and the pairs of groups that share the most (which models retell each other's stories);
* **premise coverage**: how many of the corpus's premise clusters the group's documents reach
  (all of them, and its equal sample).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from retold.audit import cut, metrics, phrases
from retold.audit.ngrams import Tokens, counts, doc_unique, lookup

MAX_GROUPS = 30
GROUP_SAMPLE = 500
#: A group this small is measured on all of its documents, not used to set the common size.
MIN_GROUP = 20
NONE = "(none)"
OTHER = "(other)"
TOP_PHRASES = 8
#: Columns a person sorts by (``--group-sort``), with whether higher means more diverse; the spread
#: is shown for each. Compression is the default: the measure of homogeneity that separates human
#: from model writing most plainly (HANNA: human 2.80, the six models 3.16-3.43), where the static
#: model's document vectors saturate (mean cosine 0.82-0.85 for every author).
COLUMNS = {
    "vendi_style_share": True,
    "vendi_share": True,
    "distinct_4": True,
    "compression": False,
    "self_repetition": False,
    "mean_similarity": False,
    "stock_density": False,
    "within_share": False,
    "across_share": False,
    "premise_coverage": True,
}


def group_names(values: Sequence[Any]) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """Each document's group number (into the returned names), the names (largest group first;
    ties by name), and what was pooled: ``{"groups": k, "documents": m}`` in ``(other)``."""
    shown = [NONE if v is None or v == "" else v if isinstance(v, str) else str(v) for v in values]
    sizes = Counter(shown)
    ranked = sorted(sizes, key=lambda g: (-sizes[g], g))
    keep = ranked[:MAX_GROUPS]
    pooled = ranked[MAX_GROUPS:]
    names = keep + ([OTHER] if pooled else [])
    number = {g: i for i, g in enumerate(keep)}
    other = len(keep)
    labels = np.array([number.get(g, other) for g in shown], dtype=np.int64)
    return labels, names, {"groups": len(pooled), "documents": sum(sizes[g] for g in pooled)}


def sample_size(sizes: Sequence[int]) -> int:
    """The common sample: the smallest group of at least ``MIN_GROUP`` documents (where none is
    that large, of at least half the largest), at most ``GROUP_SAMPLE``."""
    if not sizes:
        return 0
    floor = MIN_GROUP if max(sizes) >= MIN_GROUP else max(sizes) / 2
    return int(min(GROUP_SAMPLE, min(s for s in sizes if s >= floor)))


def compare_groups(
    field: str,
    labels: np.ndarray,
    names: list[str],
    pooled: dict[str, int],
    present: np.ndarray,
    texts_of: Callable[[list[int]], dict[int, str]],
    vectors_of: Callable[[list[str]], np.ndarray | None],
    stock: list[tuple[str, int]],
    pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]],
    premise_labels: np.ndarray,
    sort_by: str = "compression",
    lang: str = "en",
) -> dict[str, Any]:
    """The groups' table (see the module text). ``labels``: each document's group; ``present``:
    documents with text (the others take no part); ``texts_of(docs)``: their texts; ``vectors_of``:
    document vectors of texts (None: not computed); ``stock``: the corpus's stock phrases (phrase,
    words); ``pairs``: per level, verified (a, b) arrays; ``premise_labels``: each document's
    premise cluster (-1: none)."""
    docs_of = [np.flatnonzero((labels == g) & present) for g in range(len(names))]
    k = sample_size([len(d) for d in docs_of])
    picked = [d[metrics.sample_positions(len(d), k)] for d in docs_of]
    wanted = sorted({int(i) for p in picked for i in p})
    text = texts_of(wanted)
    samples = [cut([text[int(i)] for i in p])[0] for p in picked]  # each read as the audit reads it
    everything = [t for s in samples for t in s]
    owner = np.repeat(np.arange(len(names)), [len(s) for s in samples])
    tokens = Tokens.of(everything)
    stock_density = phrases.density(tokens, stock) if stock else np.full(len(everything), np.nan)
    vectors = vectors_of(everything) if everything else None
    over = overused(tokens, owner, len(names))
    within, across, between = _copies(labels, pairs, len(names))
    n_premises = len(np.unique(premise_labels[premise_labels >= 0]))
    rows = []
    for g, name in enumerate(names):
        texts = samples[g]
        mine = owner == g
        row: dict[str, Any] = {
            "group": name,
            "documents": int((labels == g).sum()),
            "sampled": len(texts),
            "smaller_sample": len(texts) < k,
        }
        if texts:
            group_tokens = Tokens.of(texts)
            row["compression"] = metrics.compression_ratio(texts)["zstd_long"]
            row.update(metrics.distinct_n(group_tokens, (1, 2, 4)))
            row["self_repetition"] = metrics.self_repetition(group_tokens)[0]
            row["vendi_style_share"] = metrics.style_vendi(group_tokens, lang)["vendi_style_share"]
            if vectors is not None:
                v = vectors[mine]
                row["vendi_share"] = metrics.vendi(v)["vendi_share"]
                row["mean_similarity"] = metrics.pairwise_similarity(v)["mean"]
            d = stock_density[mine]
            row["stock_density"] = round(float(np.nanmean(d)), 3) if np.isfinite(d).any() else None
        size = max(1, int(((labels == g) & present).sum()))
        row["within_share"] = round(within[g] / size, 4)
        row["across_share"] = round(across[g] / size, 4)
        reached = premise_labels[docs_of[g]]
        row["premises_reached"] = len(np.unique(reached[reached >= 0]))
        row["premise_coverage"] = round(row["premises_reached"] / n_premises, 4) if n_premises else None
        on_sample = premise_labels[picked[g]]
        row["premises_reached_in_sample"] = len(np.unique(on_sample[on_sample >= 0]))
        row["overused"] = over[g]
        rows.append(row)
    key = sort_by if sort_by in COLUMNS else "compression"
    higher = COLUMNS[key]
    # groups measured on the common sample rank first; a smaller group and the pooled rest follow
    rows.sort(
        key=lambda r: (
            r["smaller_sample"] or r["group"] == OTHER,
            r.get(key) is None,
            -(r.get(key) or 0) if higher else (r.get(key) or 0),
            r["group"],
        )
    )
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    spread = {}
    for column in COLUMNS:
        values = [r[column] for r in rows if r.get(column) is not None and r["group"] != OTHER]
        if values:
            spread[column] = {"min": min(values), "max": max(values), "ratio": _ratio(values)}
    return {
        "field": field,
        "groups": len(names),
        "pooled": pooled,
        "none": int((labels == names.index(NONE)).sum()) if NONE in names else 0,
        "sample_size": k,
        "sorted_by": key,
        "higher_is_more_diverse": higher,
        "columns": COLUMNS,
        "rows": rows,
        "spread": spread,
        "shared_between": [{**s, "a": names[s["a"]], "b": names[s["b"]]} for s in between],
        "premise_clusters": n_premises,
    }


def _ratio(values: list[float]) -> float | None:
    low, high = min(values), max(values)
    return round(high / low, 3) if low > 0 else None


def _copies(
    labels: np.ndarray, pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]], n_groups: int
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Per group: documents in a verified pair within the group, and across groups; and the pairs
    of groups that share the most verified pairs, by level."""
    inside = np.zeros(len(labels), dtype=bool)
    outside = np.zeros(len(labels), dtype=bool)
    between: Counter[tuple[int, int, str]] = Counter()
    for level, chunks in pairs.items():
        for a, b in chunks:
            ok = (a < len(labels)) & (b < len(labels)) & (a >= 0) & (b >= 0)
            a, b = a[ok], b[ok]
            same = labels[a] == labels[b]
            inside[a[same]] = inside[b[same]] = True
            outside[a[~same]] = outside[b[~same]] = True
            for ga, gb in zip(labels[a[~same]].tolist(), labels[b[~same]].tolist(), strict=True):
                between[(min(ga, gb), max(ga, gb), level)] += 1
    within = np.bincount(labels[inside], minlength=n_groups)
    across = np.bincount(labels[outside], minlength=n_groups)
    top = [
        {"a": int(a), "b": int(b), "level": level, "pairs": n}
        for (a, b, level), n in sorted(between.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    ]
    return within, across, top


def overused(
    tokens: Tokens, owner: np.ndarray, n_groups: int, top: int = TOP_PHRASES
) -> list[list[dict[str, Any]]]:
    """Each group's n-grams (2-4 words, not starting or ending with a common word) it uses more
    than the other groups together: the log-odds z-score with an informative Dirichlet prior,
    kept when at least 3 of its sampled documents (and 5% of them) use it."""
    common_ids = phrases.common_word_ids(tokens, phrases.common_words("en"))
    per_group_docs = np.bincount(owner, minlength=n_groups)
    found: list[list[tuple[float, str, int, int]]] = [[] for _ in range(n_groups)]
    for n in (2, 3, 4):
        key, doc, start = phrases.content_ngrams(tokens, n, common_ids)
        if not len(key):
            continue
        group = owner[doc]
        table, total = counts(key)
        totals = np.bincount(group, minlength=n_groups).astype(np.float64)
        all_total = float(totals.sum())
        ukey, udoc = doc_unique(key, doc)
        for g in range(n_groups):
            mine = group == g
            if not mine.any():
                continue
            gtable, gcount = counts(key[mine])
            in_docs = owner[udoc] == g
            dkeys, df = counts(ukey[in_docs])
            gdf = lookup(dkeys, df, gtable)
            need = max(3, math.ceil(0.05 * per_group_docs[g]))
            keep = gdf >= need
            if not keep.any():
                continue
            c = gcount[keep].astype(np.float64)
            rest = lookup(table, total, gtable[keep]).astype(np.float64) - c
            z = np.array(
                [
                    phrases.log_odds_z(float(a), totals[g], float(b), all_total - totals[g])
                    for a, b in zip(c.tolist(), rest.tolist(), strict=True)
                ]
            )
            order = np.argsort(-z)[: top * 3]
            positions = {int(k): int(s) for k, s in zip(key[mine][::-1], start[mine][::-1], strict=True)}
            for i in order.tolist():
                if z[i] < 3:
                    break
                k = int(gtable[keep][i])
                found[g].append((float(z[i]), tokens.phrase(positions[k], n), int(c[i]), int(gdf[keep][i])))
    out = []
    for rows in found:
        rows.sort(key=lambda r: (-r[0], r[1]))
        chosen: list[tuple[float, str, int, int]] = []
        for row in rows:
            if not any(f" {row[1]} " in f" {c[1]} " or f" {c[1]} " in f" {row[1]} " for c in chosen):
                chosen.append(row)
                if len(chosen) == top:
                    break
        out.append([{"phrase": p, "z": round(z, 2), "count": c, "documents": d} for z, p, c, d in chosen])
    return out
