"""report.html: one self-contained page (inline CSS and SVG, no script, no network) from report.json.

Corpus text is untrusted. Every string that reaches the page goes through :func:`esc`
(``html.escape`` with quotes), numbers are formatted, and the page carries a Content-Security-Policy
that allows no script and no remote resource at all, so even a mistake in escaping could not run
code or fetch anything. The page uses no JavaScript.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence
from typing import Any

from retold.audit.ngrams import words

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
SHOWN_WORDS = 400  # of each text in an example pair
MIN_SHARED_WORDS = 3

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:22px}.card span{color:#666;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border-bottom:1px solid #eee;
padding:5px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin:8px 0 20px}
.pair div{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px;font-size:13px;
white-space:pre-wrap;overflow-wrap:anywhere;max-height:340px;overflow:auto}
mark{background:#ffe58a}.note{color:#555;font-size:13px}svg{background:#fff;border:1px solid #e2e2e2;border-radius:6px}
.tag{display:inline-block;background:#eef;border-radius:4px;padding:0 5px;margin:1px;font-size:13px}
table.groups td,table.groups th{font-size:13px;padding:4px 6px}table.groups td.g{overflow-wrap:anywhere;max-width:220px}
"""


def esc(value: Any) -> str:
    """Escaped for HTML text and attributes; a lone surrogate (from an undecodable file name or
    a broken JSON escape) is shown as ``\\udce9``, not allowed to break the page's UTF-8."""
    text = str(value)
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(text, quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return esc(value)


def bars(rows: Sequence[tuple[str, float]], width: int = 640, unit: str = "", axis: str = "") -> str:
    """A horizontal bar chart as inline SVG; the label column as wide as the longest label needs
    (up to half the chart), longer labels ending in an ellipsis with the whole label as a tooltip."""
    if not rows:
        return '<p class="note">nothing to show</p>'
    top = max(v for _, v in rows) or 1.0
    label_w = min(width // 2, max(60, 7 * max(len(label) for label, _ in rows) + 12))
    fits = max(4, (label_w - 12) // 7)
    height = 22 * len(rows) + 10 + (20 if axis else 0)
    parts = [f'<svg width="{width}" height="{height}" role="img">']
    for k, (label, value) in enumerate(rows):
        y = 6 + 22 * k
        w = max(1.0, (width - label_w - 60) * value / top)
        shown = label if len(label) <= fits else label[: fits - 1] + "…"
        parts.append(
            f'<text x="4" y="{y + 14}" font-size="12"><title>{esc(label)}</title>{esc(shown)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="15" fill="#6b8cce"/>'
            f'<text x="{label_w + 5 + w:.1f}" y="{y + 14}" font-size="11">{esc(fmt(value, 2))}{esc(unit)}</text>'
        )
    if axis:
        parts.append(f'<text x="{label_w}" y="{height - 4}" font-size="11" fill="#555">{esc(axis)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def columns(
    labels: Sequence[str],
    counts: Sequence[float],
    width: int = 640,
    height: int = 180,
    x_title: str = "",
    y_title: str = "",
) -> str:
    """A vertical bar chart (histogram) as inline SVG, with axis titles."""
    if not counts or not any(counts):
        return '<p class="note">nothing to show</p>'
    top = max(counts)
    n = len(counts)
    left = 46
    step = (width - left - 10) / n
    parts = [f'<svg width="{width}" height="{height + 50}" role="img">']
    for k, (label, c) in enumerate(zip(labels, counts, strict=True)):
        h = (height - 10) * c / top
        x = left + k * step
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{max(1.0, step - 2):.1f}" height="{h:.1f}" '
            f'fill="#6b8cce"><title>{esc(label)}: {esc(fmt(c))}</title></rect>'
        )
        if n <= 12 or k % max(1, n // 10) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10">{esc(label)}</text>')
    parts.append(f'<text x="{left - 4}" y="12" font-size="10" text-anchor="end">{esc(fmt(top))}</text>')
    parts.append(f'<text x="{left - 4}" y="{height}" font-size="10" text-anchor="end">0</text>')
    if x_title:
        parts.append(
            f'<text x="{left + (width - left) / 2:.0f}" y="{height + 38}" font-size="11" text-anchor="middle" '
            f'fill="#555">{esc(x_title)}</text>'
        )
    if y_title:
        parts.append(
            f'<text x="12" y="{height / 2:.0f}" font-size="11" text-anchor="middle" fill="#555" '
            f'transform="rotate(-90 12 {height / 2:.0f})">{esc(y_title)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def highlighted(text: str, other: str) -> str:
    """``text`` escaped, with the runs of 3+ words it shares with ``other`` in <mark>."""
    mine = text.split()[:SHOWN_WORDS]
    theirs = other.split()[:SHOWN_WORDS]
    norm_a = [" ".join(words(w)) for w in mine]
    norm_b = [" ".join(words(w)) for w in theirs]
    marked = [False] * len(mine)
    matcher = difflib.SequenceMatcher(None, norm_a, norm_b, autojunk=False)
    for block in matcher.get_matching_blocks():
        if block.size >= MIN_SHARED_WORDS:
            for k in range(block.a, block.a + block.size):
                marked[k] = True
    out, run = [], False
    for token, m in zip(mine, marked, strict=True):
        if m and not run:
            out.append("<mark>")
        elif not m and run:
            out.append("</mark>")
        run = m
        out.append(esc(token) + " ")
    if run:
        out.append("</mark>")
    if len(text.split()) > SHOWN_WORDS:
        out.append("…")
    return "".join(out)


def render(report: dict[str, Any]) -> str:
    """The page for one report (the dict written as report.json)."""
    audit = report.get("audit", {})
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>retold report: {esc(', '.join(report.get('inputs', [])) or 'corpus')}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>retold report</h1>",
        f'<p class="sub">{esc(", ".join(report.get("inputs", [])))} · retold {esc(report.get("retold_version", ""))}'
        f" · {esc(report.get('mode', ''))}</p>",
        '<p class="sub">'
        + " · ".join(
            f'<a href="#{k}">{v}</a>'
            for k, v in (
                ("counts", "counts"),
                ("metrics", "metrics"),
                ("plots", "plots"),
                ("map", "map"),
                ("premise", "premise clusters"),
                ("stock", "stock phrases"),
                ("pairs", "example pairs"),
            )
        )
        + (' · <a href="#groups">groups</a>' if audit.get("groups") else "")
        + "</p>",
    ]
    out.append(_counts(report))
    if audit.get("groups"):
        out.append(_groups(audit["groups"]))
    out.append(_metrics(audit))
    out.append(_plots(audit))
    out.append(_map(audit.get("map") or {}, list((report.get("levels") or {}).keys())))
    out.append(_premise(audit))
    out.append(_stock(audit))
    out.append(_pairs(report.get("pairs", [])))
    out.append(_notes(report, audit))
    out.append("</main></body></html>")
    return "\n".join(out)


#: The groups' table: (key, heading, digits, what higher means).
GROUP_COLUMNS = (
    ("documents", "documents", 0, ""),
    ("compression", "compression", 2, "higher: more repetitive"),
    ("distinct_4", "distinct-4", 3, "higher: more varied"),
    ("self_repetition", "self-repetition", 3, "share of 4-grams also in another of the group's documents"),
    ("vendi_style_share", "style Vendi / n", 3, "higher: written more differently (common-word profiles)"),
    ("vendi_share", "Vendi / n", 4, "higher: more varied (document vectors)"),
    ("mean_similarity", "mean cosine", 3, "higher: more alike"),
    ("stock_density", "stock / 1k words", 2, "the corpus's stock phrases per 1,000 words"),
    ("within_share", "copies within", 3, "share of its documents in a verified pair inside the group"),
    ("across_share", "copies across", 3, "share in a verified pair with another group"),
    ("premises_reached", "premises", 0, "premise clusters its documents reach"),
)
#: Names of the spread's columns that the table does not show.
SPREAD_NAMES = {"premise_coverage": "share of premise clusters reached"}


def _groups(g: dict[str, Any]) -> str:
    """The groups side by side, ranked by one column, with each column's spread."""
    head = "".join(
        f'<th title="{esc(why)}">{esc(label)}{" ▼" if key == g.get("sorted_by") else ""}</th>'
        for key, label, _, why in GROUP_COLUMNS
    )
    body, over = [], []
    for r in g.get("rows", []):
        cells = "".join(
            f"<td class=n>{fmt(r.get(key), digits) if digits else fmt(r.get(key))}</td>"
            for key, _, digits, _ in GROUP_COLUMNS
        )
        mark = " *" if r.get("smaller_sample") else ""
        body.append(
            f"<tr><td class=n>{r.get('rank')}</td><td class=g>{esc(r['group'])}{mark}</td>{cells}</tr>"
        )
        tags = " ".join(f'<span class="tag">{esc(p["phrase"])}</span>' for p in r.get("overused", [])[:8])
        over.append(f"<tr><td class=g>{esc(r['group'])}</td><td>{tags or '–'}</td></tr>")
    label = {key: name for key, name, _, _ in GROUP_COLUMNS} | SPREAD_NAMES
    spread = "; ".join(
        f"{esc(label.get(key, key))} {fmt(v['min'], 3)}–{fmt(v['max'], 3)}"
        for key, v in (g.get("spread") or {}).items()
    )
    pooled = g.get("pooled") or {}
    notes = [
        f"grouped by the field <b>{esc(g.get('field'))}</b>; sorted by {esc(g.get('sorted_by'))} "
        f"({'higher' if g.get('higher_is_more_diverse') else 'lower'} = more diverse first). Compression, "
        f"distinct-n, self-repetition, style Vendi / n, Vendi / n and the mean cosine are measured on "
        f"{fmt(g.get('sample_size'))} documents of every group, evenly spread (* a smaller group: all of it).",
        f"spread across groups: {spread}" if spread else "",
    ]
    if g.get("none"):
        n = g["none"]
        notes.append(f"{fmt(n)} document{'s lack' if n != 1 else ' lacks'} the field: the group (none)")
    if pooled.get("groups"):
        notes.append(
            f"{fmt(pooled['groups'])} smaller groups ({fmt(pooled['documents'])} documents) are pooled as (other)"
        )
    shared = g.get("shared_between") or []
    if shared:
        notes.append(
            "groups that share the most verified pairs: "
            + "; ".join(
                f"{esc(s['a'])} – {esc(s['b'])}: {fmt(s['pairs'])} {esc(s['level'])}" for s in shared[:8]
            )
        )
    return (
        "<h2 id=groups>Groups side by side</h2>"
        + "".join(f"<p class=note>{n}</p>" for n in notes if n)
        + f"<table class=groups><tr><th>rank</th><th>group</th>{head}</tr>"
        + "".join(body)
        + "</table><h3>Phrases each group over-uses against the other groups</h3>"
        + "<table class=groups><tr><th>group</th><th>phrases (log-odds z ≥ 3, in 5% of its documents)</th></tr>"
        + "".join(over)
        + "</table>"
    )


def _counts(report: dict[str, Any]) -> str:
    cards = [
        ("documents in", report.get("documents_in")),
        ("kept", report.get("kept")),
        (
            "dropped",
            sum((report.get("dropped") or {}).values()) if report.get("dropped") is not None else None,
        ),
        ("quarantined", report.get("quarantined")),
    ]
    for level, row in (report.get("levels") or {}).items():
        cards.append((f"{level} duplicates", row.get("duplicates")))
    body = "".join(f'<div class="card"><b>{fmt(v)}</b><span>{esc(k)}</span></div>' for k, v in cards)
    rows = "".join(
        f"<tr><td>{esc(level)}</td><td class=n>{fmt(r.get('clusters'))}</td><td class=n>{fmt(r.get('duplicates'))}</td>"
        f"<td class=n>{fmt(r.get('share'), 4)}</td><td>{esc(r.get('action', ''))}</td></tr>"
        for level, r in (report.get("levels") or {}).items()
    )
    table = (
        "<table><tr><th>level</th><th>clusters</th><th>documents that repeat another</th><th>share</th><th>action</th></tr>"
        f"{rows}</table>"
        if rows
        else '<p class="note">no duplicate level was run</p>'
    )
    return f'<h2 id=counts>Counts</h2><div class="grid">{body}</div><h2 id=levels>Duplicates by level</h2>{table}'


METRICS = (
    ("compression.zstd_long", "compression ratio, zstd with a 128 MiB window (higher: more repetitive)"),
    ("compression.gzip", "compression ratio, gzip (32 KiB window: sees only nearby repeats)"),
    ("distinct_1", "distinct-1: distinct words / words"),
    ("distinct_2", "distinct-2"),
    ("distinct_3", "distinct-3"),
    ("distinct_4", "distinct-4"),
    ("self_repetition", "self-repetition: mean share of a document's 4-grams found in another document"),
    (
        "vendi_style",
        "style Vendi: effective number of differently written documents (profiles of the language's "
        "300 commonest words, each document's first 400)",
    ),
    ("vendi_style_share", "style Vendi / n: effective share of differently written documents"),
    ("mean_pairwise_similarity", "mean pairwise cosine of the static model's document vectors (sampled)"),
    ("vendi", "Vendi score, static model vectors: effective number of distinct documents"),
    ("vendi_share", "Vendi / n, static model vectors: effective share of unique documents"),
    (
        "mean_pairwise_similarity_lsa",
        "mean pairwise cosine of TF-IDF + LSA vectors (no model covers the language)",
    ),
    ("vendi_lsa", "Vendi score, TF-IDF + LSA vectors"),
    ("vendi_share_lsa", "Vendi / n, TF-IDF + LSA vectors"),
)


def metric_value(metrics: dict[str, Any], key: str) -> Any:
    value: Any = metrics
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _metrics(audit: dict[str, Any]) -> str:
    m = audit.get("metrics", {})
    c = audit.get("curated") or {}
    shown = [
        (key, label)
        for key, label in METRICS
        if not key.endswith("_lsa") or key in m  # stand-ins where used
    ]
    if not c:
        rows = "".join(
            f"<tr><td>{esc(label)}</td><td class=n>{fmt(metric_value(m, key), 4)}</td></tr>"
            for key, label in shown
        )
        return f"<h2 id=metrics>Diversity metrics</h2><table><tr><th>metric</th><th>value</th></tr>{rows}</table>"
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td class=n>{fmt(metric_value(c['kept'], key), 4)}</td>"
        f"<td class=n>{fmt(metric_value(c['input'], key), 4)}</td>"
        f"<td class=n>{fmt(metric_value(m, key), 4)}</td></tr>"
        for key, label in shown
    )
    note = (
        f"<p class=note>The curated output: the {fmt(c['documents'])} documents the scan keeps, beside its "
        f"{fmt(c['input_documents'])} input documents, each on {fmt(c['sample'])} documents evenly spread "
        "(distinct-n, self-repetition and Vendi / n change with the number of documents, so they compare only "
        f"at one size); the last column is the input's audit sample ({fmt(audit.get('audited'))} documents), "
        "which the rest of the report describes.</p>"
    )
    return (
        "<h2 id=metrics>Diversity metrics</h2>"
        + note
        + "<table><tr><th>metric</th><th>kept (curated output)</th><th>input</th><th>input, audit sample</th></tr>"
        + rows
        + "</table>"
    )


def _plots(audit: dict[str, Any]) -> str:
    sim = audit.get("similarity", {}).get("histogram", {})
    edges = sim.get("edges", [])
    labels = [f"{edges[k]:.1f}" for k in range(len(edges) - 1)]
    sizes = audit.get("premise", {}).get("size_distribution", {})
    phrases = [(p["phrase"], float(p["score"])) for p in audit.get("stock", {}).get("phrases", [])[:15]]
    return (
        "<h2 id=plots>Plots</h2>"
        f"<h3>Pairwise similarity of documents ({fmt(audit.get('similarity', {}).get('sampled'))} sampled)</h3>"
        + columns(labels, sim.get("counts", []), x_title="cosine of two documents' vectors", y_title="pairs")
        + "<h3>Premise cluster sizes</h3>"
        + columns(list(sizes), list(sizes.values()), x_title="documents in a cluster", y_title="clusters")
        + "<h3>Top stock phrases (score)</h3>"
        + bars(
            phrases,
            axis="score: log-odds z against the reference corpus"
            if audit.get("stock", {}).get("baseline") == "reference corpus"
            else "score: log2 of how much more often than word frequencies predict",
        )
    )


#: Premise clusters' colours on the map (cluster k takes colour k mod 10).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#17becf",
)
#: The marks, one shape a level (circle, square, diamond, triangle, cross), in near-black: shapes
#: stay apart where colours would blur into the clusters' fills.
MARKS = ("circle", "square", "diamond", "triangle", "cross")
MARK_COLOUR = "#111111"


def _mark(shape: str, cx: float, cy: float, r: float, width: float = 1.3) -> str:
    """An outline of ``shape`` centred on (cx, cy), about ``r`` across from the centre."""
    style = f'fill="none" stroke="{MARK_COLOUR}" stroke-width="{width}"'
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" {style}/>'
    if shape == "square":
        a = r * 0.9
        return f'<rect x="{cx - a:.1f}" y="{cy - a:.1f}" width="{2 * a:.1f}" height="{2 * a:.1f}" {style}/>'
    if shape == "diamond":
        a = r * 1.25
        points = f"{cx:.1f},{cy - a:.1f} {cx + a:.1f},{cy:.1f} {cx:.1f},{cy + a:.1f} {cx - a:.1f},{cy:.1f}"
        return f'<polygon points="{points}" {style}/>'
    if shape == "triangle":
        a = r * 1.3
        points = f"{cx:.1f},{cy - a:.1f} {cx + a:.1f},{cy + a * 0.75:.1f} {cx - a:.1f},{cy + a * 0.75:.1f}"
        return f'<polygon points="{points}" {style}/>'
    return f'<path d="M{cx - r:.1f},{cy:.1f}H{cx + r:.1f}M{cx:.1f},{cy - r:.1f}V{cy + r:.1f}" {style}/>'


def _map(m: dict[str, Any], levels: list[str], width: int = 760, height: int = 520) -> str:
    """Every shown document as a point of the 2-D projection: filled by premise cluster (colours
    repeat past the palette; in no cluster: hollow), marked by the level that found it repeating another (a
    shape a level).
    Translucent points let dense regions show darker at 50,000 documents; at 50 each point stands out."""
    if not m.get("shown"):
        return ""
    n = m["shown"]
    radius = 4.5 if n <= 300 else 3.0 if n <= 1500 else 2.2
    opacity = 0.9 if n <= 300 else 0.6 if n <= 1500 else 0.45
    pad = 44
    shape_of = {level: MARKS[k % len(MARKS)] for k, level in enumerate(levels)}
    coloured = int(m.get("coloured", len(PALETTE)))
    dots, rings = [], []
    for x, y, p, kind in zip(m["x"], m["y"], m["premise"], m["kind"], strict=True):
        cx = pad + x * (width - 2 * pad)
        cy = height - pad - y * (height - 2 * pad)
        if p < 0:
            dots.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="none" stroke="#bbb"/>')
        else:
            # past the palette the colours repeat: at 50,000 documents a corpus has thousands of
            # clusters, and grey for all but ten left the map one grey cloud; a clump of one colour
            # is one cluster, as neighbouring clusters rarely share a colour
            colour = PALETTE[p % len(PALETTE)]
            dots.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}" fill-opacity="{opacity}"/>'
            )
        if kind:
            rings.append(_mark(shape_of.get(kind, "cross"), cx, cy, radius + 2))
    legend = []
    lx = pad
    for k in range(min(coloured, len(PALETTE))):
        legend.append(
            f'<circle cx="{lx + 5}" cy="14" r="5" fill="{PALETTE[k]}"/><text x="{lx + 13}" y="18" font-size="11">{k}</text>'
        )
        lx += 34
    repeat = max(m["premise"], default=-1) >= len(PALETTE)
    if repeat:
        legend.append(f'<text x="{lx + 2}" y="18" font-size="11">… colours repeat</text>')
        lx += 112
    legend.append(
        f'<circle cx="{lx + 5}" cy="14" r="5" fill="none" stroke="#bbb"/><text x="{lx + 13}" y="18" font-size="11">alone</text>'
    )
    lx, ly = pad, 34  # the marks' legend: a second line, only the levels found on the map
    found = {k for k in m["kind"] if k}
    for level in [lv for lv in levels if lv in found] + sorted(found - set(levels)):
        legend.append(
            _mark(shape_of.get(level, "cross"), lx + 6, ly - 4, 5.5, 1.5)
            + f'<text x="{lx + 15}" y="{ly}" font-size="11">repeats another ({esc(level[:20])})</text>'
        )
        lx += 190
    axes = (
        f'<text x="{width / 2:.0f}" y="{height - 6}" font-size="11" text-anchor="middle">first principal axis</text>'
        f'<text x="12" y="{height / 2:.0f}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {height / 2:.0f})">second principal axis</text>'
    )
    svg = (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="map of the corpus">{"".join(dots)}{"".join(rings)}{"".join(legend)}{axes}</svg>'
    )
    note = (
        f"{fmt(n)} of {fmt(m.get('documents'))} documents"
        + (" (an even sample)" if n < (m.get("documents") or 0) else "")
        + f", placed by {esc(m.get('projection', ''))} ({fmt(100 * m.get('variance_shown', 0), 1)}% of their variance): "
        "near points are documents with similar vectors. Fill: premise cluster (the numbers of the table below; "
        + ("past the tenth the colours repeat, so a clump of one colour is one cluster; " if repeat else "")
        + "hollow: in no cluster). Outline (a shape a level, as the legend shows): the document "
        "repeats another, at that level. "
        + ("Points are translucent: darker regions hold more documents." if n > 300 else "")
    )
    return f'<h2 id=map>Map of the corpus</h2><p class="note">{note}</p>{svg}'


def _premise(audit: dict[str, Any]) -> str:
    p = audit.get("premise", {})
    rows = "".join(
        f"<tr><td class=n>{fmt(c['cluster'])}</td><td class=n>{fmt(c['size'])}</td><td>{''.join(f'<span class=tag>{esc(x)}</span>' for x in c['label'])}</td>"
        f"<td>{'<br>'.join(esc(e['id']) + ': ' + esc(e['text']) for e in c['examples'])}</td></tr>"
        for c in p.get("top", [])[:30]
    )
    head = (
        f'<p class="note">{fmt(p.get("clusters"))} clusters hold {fmt(p.get("documents_in_clusters"))} of '
        f"{fmt(p.get('documents'))} documents; every document's cluster is in premises.jsonl. "
        f"Method: {esc(p.get('method', ''))}.</p>"
    )
    table = (
        f"<table><tr><th>cluster</th><th>size</th><th>label</th><th>examples</th></tr>{rows}</table>"
        if rows
        else ""
    )
    return "<h2 id=premise>Premise clusters</h2>" + head + table


def _stock(audit: dict[str, Any]) -> str:
    s = audit.get("stock", {})
    phrases = "".join(
        f"<tr><td>{esc(r['phrase'])}</td><td class=n>{fmt(r['score'], 2)}</td><td class=n>{fmt(r['count'])}</td>"
        f"<td class=n>{fmt(r['documents'])}</td></tr>"
        for r in s.get("phrases", [])[:40]
    )
    words_ = " ".join(f"<span class=tag>{esc(r['word'])}</span>" for r in s.get("words", [])[:40])
    names = " ".join(
        f"<span class=tag>{esc(r['name'])} ({fmt(r['documents'])})</span>" for r in s.get("names", [])[:30]
    )
    density = s.get("density_per_1000_words", {})
    return (
        f"<h2 id=stock>Stock phrases</h2><p class=note>baseline: {esc(s.get('baseline', ''))}; stock-phrase density "
        f"(words in stock phrases per 1,000): mean {fmt(density.get('mean'), 1)}, median {fmt(density.get('median'), 1)}</p>"
        f"<table><tr><th>phrase</th><th>score</th><th>count</th><th>documents</th></tr>{phrases}</table>"
        f"<h3>Stock words (against wordfreq)</h3><p>{words_ or '–'}</p>"
        f"<h3>Recurring character names (documents)</h3><p>{names or '–'}</p>"
    )


def _pairs(pairs: list[dict[str, Any]]) -> str:
    if not pairs:
        return "<h2 id=pairs>Example pairs</h2><p class=note>no duplicate pairs found</p>"
    out = [
        "<h2 id=pairs>Example pairs</h2><p class=note>shared runs of 3+ words are marked; a retelling shows "
        "the sentences its alignment paired, side by side, with their cosine</p>"
    ]
    for p in pairs:
        mapping = p.get("names") or {}
        names = (
            "<p class=note>names: " + ", ".join(f"{esc(a)} → {esc(b)}" for a, b in mapping.items()) + "</p>"
            if mapping
            else ""
        )
        score = p.get("score") or "similarity"
        out.append(
            f"<h3>{esc(p['level'])}: {esc(p['id'])} ~ kept {esc(p['kept_id'])}</h3>"
            f"<p class=note>{esc(score)}: <b>{fmt(p.get('similarity'), 4)}</b></p>{names}"
        )
        aligned = p.get("aligned") or []
        if aligned:
            rows = "".join(
                f"<tr><td>{esc(s.get('kept', ''))}</td><td>{esc(s.get('this', ''))}</td>"
                f"<td class=n>{fmt(s.get('similarity'), 2)}</td></tr>"
                for s in aligned
            )
            out.append(
                "<table><tr><th>kept document's sentence</th><th>this document's sentence</th><th>cosine</th></tr>"
                f"{rows}</table>"
            )
        out.append(
            f'<div class="pair"><div>{highlighted(p["kept_text"], p["text"])}</div>'
            f"<div>{highlighted(p['text'], p['kept_text'])}</div></div>"
        )
    return "".join(out)


def _notes(report: dict[str, Any], audit: dict[str, Any]) -> str:
    notes = []
    if audit.get("sampled"):
        notes.append(
            f"The corpus metrics and stock phrases were computed on {fmt(audit.get('audited'))} "
            f"of {fmt(audit.get('documents'))} documents, spread evenly over the corpus; premise clusters "
            f"on all {fmt(audit.get('premise', {}).get('documents'))}."
        )
    cut_to = audit.get("cut") or {}
    if cut_to.get("documents"):
        notes.append(
            f"{fmt(cut_to['documents'])} audited document{'s were' if cut_to['documents'] > 1 else ' was'} longer "
            f"than {fmt(cut_to['characters'])} characters: the audit read the first {fmt(cut_to['characters'])} "
            f"of {'each' if cut_to['documents'] > 1 else 'it'}."
        )
    notes.append(
        f"Language: {esc(audit.get('language', ''))}. Document vectors: {esc(audit.get('embedding', ''))}. "
        f"Compression over {fmt(audit.get('metrics', {}).get('compression', {}).get('bytes'))} bytes of shuffled documents."
    )
    return "<h2 id=notes>Notes</h2>" + "".join(f"<p class=note>{n}</p>" for n in notes)
