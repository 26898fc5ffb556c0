"""``retold compare A B``: two audits side by side, and what tells the corpora apart.

Corpus metrics have one value per corpus: the table gives both and the change. Per-document
figures (document length, self-repetition, and the density of the phrases one corpus over-uses
against the other) have a value per document: their ROC-AUC says how well each separates the
documents of A from those of B (0.5: not at all; 1.0 or 0.0: perfectly). The phrases come from
:func:`retold.audit.phrases.find` with the other corpus as the reference, both ways.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retold.audit import cut, metrics
from retold.audit.ngrams import Tokens
from retold.audit.phrases import find
from retold.corpus.writers import pretty_json, staged_files
from retold.report.html import CSP, METRICS, STYLE, esc, fmt, metric_value

SEPARATES = 0.7  # an AUC at or beyond 0.7 (or at or below 0.3) is called a separation


def roc_auc(a: np.ndarray, b: np.ndarray) -> float | None:
    """P(a value from ``a`` > one from ``b``) (ties count half): the ROC-AUC of "is from A"."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if not len(a) or not len(b):
        return None
    both = np.concatenate([a, b])
    order = both.argsort(kind="mergesort")
    ranks = np.empty(len(both))
    sorted_vals = both[order]
    # average ranks for ties
    i = 0
    while i < len(both):
        j = i
        while j + 1 < len(both) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[: len(a)].sum() - len(a) * (len(a) + 1) / 2.0
    return round(float(u / (len(a) * len(b))), 4)


@dataclass
class Comparison:
    a: str
    b: str
    corpus: list[dict[str, Any]] = field(default_factory=list)
    per_document: list[dict[str, Any]] = field(default_factory=list)
    phrases_a: list[dict[str, Any]] = field(default_factory=list)
    phrases_b: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "corpus_metrics": self.corpus,
            "per_document": self.per_document,
            "phrases_a_over_b": self.phrases_a,
            "phrases_b_over_a": self.phrases_b,
        }

    def table(self) -> str:
        lines = [f"{'metric':<34} {'A':>10} {'B':>10}"]
        for row in self.corpus:
            lines.append(f"{row['metric']:<34} {_num(row['a']):>10} {_num(row['b']):>10}")
        lines.append(f"{'per document (ROC-AUC, A vs B)':<34} {'AUC':>10} {'separates':>10}")
        for row in self.per_document:
            lines.append(
                f"{row['figure']:<34} {_num(row['auc']):>10} {'yes' if row['separates'] else 'no':>10}"
            )
        return "\n".join(lines)


def _num(v: Any) -> str:
    return "–" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def compare_reports(
    out: Path, a: str, b: str, texts_a: list[str], texts_b: list[str], lang: str = "auto"
) -> Comparison:
    """Read out/a/report.json and out/b/report.json; write out/compare.json and out/compare.html.
    Each text is read as the audits read it (its first ``AUDIT_DOC_CHARS`` characters)."""
    texts_a, texts_b = cut(texts_a)[0], cut(texts_b)[0]
    ra = json.loads((out / "a" / "report.json").read_text(encoding="utf-8"))
    rb = json.loads((out / "b" / "report.json").read_text(encoding="utf-8"))
    result = Comparison(a, b)
    ma, mb = ra["audit"]["metrics"], rb["audit"]["metrics"]
    for key, label in METRICS:
        va, vb = metric_value(ma, key), metric_value(mb, key)
        result.corpus.append({"metric": key, "label": label, "a": va, "b": vb})
    for level in sorted(set(ra.get("levels", {})) | set(rb.get("levels", {}))):
        result.corpus.append(
            {
                "metric": f"{level}_share",
                "label": f"share of documents that repeat another ({level})",
                "a": ra.get("levels", {}).get(level, {}).get("share"),
                "b": rb.get("levels", {}).get(level, {}).get("share"),
            }
        )
    lang = ra["audit"].get("language", "en") if lang == "auto" else lang
    over_a = find(texts_a, reference=texts_b, lang=lang)
    over_b = find(texts_b, reference=texts_a, lang=lang)
    result.phrases_a = over_a.phrases[:50]
    result.phrases_b = over_b.phrases[:50]
    tokens_a, tokens_b = Tokens.of(texts_a), Tokens.of(texts_b, None)
    from retold.audit.phrases import density

    phrases = [(p["phrase"], len(p["phrase"].split())) for p in over_a.phrases]
    figures = {
        "words": (tokens_a.words_per_doc().astype(float), tokens_b.words_per_doc().astype(float)),
        "self_repetition": (metrics.self_repetition(tokens_a)[1], metrics.self_repetition(tokens_b)[1]),
        "density of A's over-used phrases": (
            density(tokens_a, phrases),
            density(Tokens.of(texts_b, tokens_a.vocab), phrases),
        ),
    }
    for name, (fa, fb) in figures.items():
        auc = roc_auc(fa, fb)
        result.per_document.append(
            {
                "figure": name,
                "auc": auc,
                "mean_a": _mean(fa),
                "mean_b": _mean(fb),
                "separates": auc is not None and abs(auc - 0.5) >= SEPARATES - 0.5,
            }
        )
    pages = {
        out / "compare.json": pretty_json(result.to_json()),
        out / "compare.html": render_comparison(result),
    }
    for w in staged_files(pages):
        w.commit()
    return result


def _mean(v: np.ndarray) -> float | None:
    v = v[~np.isnan(v)]
    return round(float(v.mean()), 4) if len(v) else None


def render_comparison(c: Comparison) -> str:
    rows = "".join(
        f"<tr><td>{esc(r['label'])}</td><td class=n>{fmt(r['a'], 4)}</td><td class=n>{fmt(r['b'], 4)}</td></tr>"
        for r in c.corpus
    )
    docs = "".join(
        f"<tr><td>{esc(r['figure'])}</td><td class=n>{fmt(r['mean_a'], 3)}</td><td class=n>{fmt(r['mean_b'], 3)}</td>"
        f"<td class=n>{fmt(r['auc'], 3)}</td><td>{'yes' if r['separates'] else 'no'}</td></tr>"
        for r in c.per_document
    )

    def phrase_table(rows_: list[dict[str, Any]]) -> str:
        body = "".join(
            f"<tr><td>{esc(r['phrase'])}</td><td class=n>{fmt(r['score'], 2)}</td><td class=n>{fmt(r['documents'])}</td></tr>"
            for r in rows_[:30]
        )
        return f"<table><tr><th>phrase</th><th>z</th><th>documents</th></tr>{body}</table>"

    return "\n".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            f"<title>retold compare: {esc(c.a)} vs {esc(c.b)}</title><style>{STYLE}</style></head><body><main>",
            f"<h1>retold compare</h1><p class=sub>A: {esc(c.a)} · B: {esc(c.b)} · each side's full report: "
            "a/report.html, b/report.html</p>",
            f"<h2>Corpus metrics</h2><table><tr><th>metric</th><th>A</th><th>B</th></tr>{rows}</table>",
            "<h2>Per-document figures: do they separate A from B?</h2>"
            "<p class=note>ROC-AUC of the figure for telling A's documents from B's (0.5: not at all; "
            f"≥ {SEPARATES} or ≤ {1 - SEPARATES:.1f}: separates)</p>"
            f"<table><tr><th>figure</th><th>mean A</th><th>mean B</th><th>AUC</th><th>separates</th></tr>{docs}</table>",
            "<h2>Phrases A uses more than B</h2>" + phrase_table(c.phrases_a),
            "<h2>Phrases B uses more than A</h2>" + phrase_table(c.phrases_b),
            "</main></body></html>",
        ]
    )
