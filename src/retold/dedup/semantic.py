"""Retold: the same story told again with other names and other words.

Two steps, the first cheap and wide, the second fine and strict:

1. **Candidates.** :class:`RetoldEmbed` (a stage) masks each document's proper names
   (:mod:`retold.dedup.names`) and embeds the whole masked text with the static model
   (model2vec, distilled from all-MiniLM-L6-v2), or, for a text in a language the default
   (English) models do not cover, hashes its words (:mod:`retold.embed.lexical`): two spaces,
   never compared with each other. :class:`RetoldIndex` spills the vectors to disk; at decision
   time each document's nearest neighbours by cosine in its space
   (:func:`~retold.dedup.neighbours.nearest`) at or above ``candidate_threshold`` (at least
   ``LEXICAL_CANDIDATE`` among hashed words) become candidate pairs.
2. **Verification: the same events, in the same order.** Both texts are cut into sentences, names
   masked, and each sentence embedded by the verifier (the static model with its vectors centred,
   by default; a transformer on request; hashed words in the lexical space). A monotone alignment of the shorter
   text's sentences into the longer one (dynamic programming; a pair counts for its cosine above a
   floor ``margin``, scaled down for sentences under 8 words) scores how much of one is told again
   in the other, in order. Stories on one
   premise share topic sentences too, but in no particular order, so the score is compared with
   the same alignment after shuffling the longer text's sentences (16 fixed shuffles): the
   **order gain** = aligned score − shuffled mean. A pair is retold when the order gain is at
   least ``threshold``, at least ``MIN_ALIGNED`` sentences align, and the best aligned pair
   reaches ``MIN_ANCHOR``.
3. **The pair's own.** What two stories share with other stories is their premise, genre or a
   stock sentence, not one story: the best aligned pair must be told more closely between the two
   than in any other document being verified (outside their group of verified tellings), by
   ``MIN_DISTINCT`` (:func:`distinct_anchor`).

Why order gain and not a cosine: whole-text cosine cannot tell a retelling from a second story
on the same prompt (the seeds' MiniLM cosine, .60, is the median of HANNA's same-prompt pairs), and
neither can the plain aligned score (the seeds sit at HANNA's 90th percentile). Order gain puts
the seeds above 94% of HANNA's same-prompt pairs and separates Clough's rewritten answers from the
independent ones (see docs/benchmarks.md).

Evidence per retold pair: the order gain (``similarity``), the aligned score, the anchor and its
lead over the nearby stories (``distinct``), the best-aligned sentence pairs, and the name mapping
between the tellings (``Marco → Arseniy``).
"""

from __future__ import annotations

import contextlib
import functools
import mmap
import os
import pickle
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from numba import njit, prange

from retold.corpus.writers import reopen_at
from retold.dedup.clusters import Decisions, rank_positions
from retold.dedup.level import DecideContext, Level, LevelIndex, Outcome, Replay
from retold.dedup.names import (
    PLACEHOLDER,
    find_names_each,
    mask_names,
    mask_names_each,
    sentence_names_and_mentions,
    vote_mapping,
)
from retold.dedup.neighbours import EXACT_LIMIT, Neighbours, Rows, one_blas_thread
from retold.options import option
from retold.records import Record
from retold.stages import BatchStage
from retold.text import WORD, PieceValues, WordTable, counted_sentences_each, summed_rows, word_count

if TYPE_CHECKING:
    from retold.dedup.saved import SavedIndex

NAME = "retold"
#: The default order gain a pair needs, by verifier (:func:`gain_threshold`).
STATIC_THRESHOLD = 0.01
TRANSFORMER_THRESHOLD = 0.02
#: A sentence pair counts for its cosine above this margin in the alignment.
MARGIN = 0.35
#: Candidates: each document's nearest neighbours by whole-text cosine.
NEIGHBOURS = 10
#: An edge sentence recurring in this many otherwise unrelated documents is boilerplate.
BOILERPLATE_DOCS = 5
SHUFFLES = 16
#: A pair needs this many aligned sentences: two lines of a chat refusal aligned in order are no
#: story told twice.
MIN_ALIGNED = 3
#: A retelling keeps at least one sentence whose meaning survives nearly whole: the best aligned
#: pair must reach this cosine. Two stories that only follow one arc in loosely similar sentences
#: do not (Clough's rewrites keep one at 0.84 or more; HANNA's cross-prompt look-alikes peak at 0.6).
MIN_ANCHOR = 0.7
#: A sentence shorter than this many words counts for its share of a full one in the alignment:
#: "That's fascinating." aligned with "That's fascinating!" says little.
FULL_SENTENCE_WORDS = 8
#: The best aligned sentence must be the pair's own: its cosine, less the best cosine either of its
#: sentences reaches in any other document being verified (outside the pair's group of verified
#: tellings), must reach this. What two stories share with other stories is a premise, a genre or a
#: stock sentence ("It was a dark and stormy night, and Emma was home alone"), not one story. 0.2
#: sits between the rewrites' own sentences (a lead of 0.14-0.82 on Clough, the seeds 0.56) and
#: generic ones (HANNA's closest cross-prompt pair: 0.13; Clough's `non`: <= 0.05).
MIN_DISTINCT = 0.2
#: ...unless the pair tells most of itself again nearly whole, in order: an aligned score of 0.4
#: is ~60% of the shorter text's sentences at cosine 1. A story made of sentences that other
#: documents tell too (every sentence of the bench-scale mosaics recurs in ~30 others at a million)
#: is still one story told twice; two that share two stock sentences (aligned 0.09-0.24 in the
#: demo) are not.
WHOLE_ALIGNED = 0.4
#: A candidate pair this close as whole texts (names masked) is verified on its sentences as they
#: are, boilerplate included, when it fails with its boilerplate silenced; it must then reach
#: ``WHOLE_ALIGNED``.
WHOLE_COSINE = 0.95
EVIDENCE_SENTENCES = 3
#: A document's first this many sentences are verified (an alignment of two costs their product:
#: 2,000 × 2,000 is ~0.1 s and 32 MB; a 50 MB text has ~700,000). About 200,000 characters of prose.
MAX_SENTENCES = 2000
_TELLING_BLOCK = 256  # documents cut into sentences and embedded a step (for the progress bar)
_SAVE_BLOCK = 65536  # documents' vectors written to the saved index a step
_PAIR_BLOCK = 8192  # candidate pairs scored a step, over both cores


@dataclass(frozen=True)
class RetoldOptions:
    """How retold pairs are found (see the module text for each figure's meaning)."""

    threshold: float | None = option(
        "retold_threshold",
        None,
        "Order gain of the sentence alignment at which a candidate pair is retold.",
        kind=float,
        low=-1.0,
        high=1.0,
        shown_default="0.01 with the static verifier, 0.02 with a transformer",
    )
    candidate_threshold: float = option(
        "retold_candidate",
        0.5,
        "Whole-text cosine (names masked, static model) at which a pair is verified.",
        kind=float,
        low=-1.0,
        high=1.0,
    )
    embedder: str | None = option(
        "embedder",
        None,
        "Static (model2vec) model for retold candidates and the audit's document vectors, path or name.",
        shown_default="distilled from all-MiniLM-L6-v2 on first use, cached",
    )
    verifier: str | None = option(
        "verifier",
        None,
        "Sentence vectors for retold verification: static (the candidates' static model, centred), "
        "static:MODEL, transformer (all-MiniLM-L6-v2), or a sentence-transformers model's name or path.",
        shown_default="static",
    )
    neighbours: int = NEIGHBOURS
    margin: float = MARGIN
    boilerplate_docs: int = BOILERPLATE_DOCS

    def __post_init__(self) -> None:
        if self.threshold is not None and not -1.0 <= self.threshold <= 1.0:
            raise ValueError(f"retold threshold must be in [-1, 1], got {self.threshold}")
        if not -1.0 <= self.candidate_threshold <= 1.0:
            raise ValueError(f"retold candidate threshold must be in [-1, 1], got {self.candidate_threshold}")
        if self.neighbours < 1:
            raise ValueError("retold neighbours must be at least 1")


def static_verifier(options: RetoldOptions) -> bool:
    spec = options.verifier or "static"
    return spec == "static" or spec.startswith("static:")


def verifies_on_candidates_model(options: RetoldOptions) -> bool:
    """Whether the verifier is the candidate stage's static model (the default: ``static``)."""
    spec = options.verifier or "static"
    return static_verifier(options) and (spec.partition(":")[2] or options.embedder) == options.embedder


def gain_threshold(options: RetoldOptions) -> float:
    """The order gain a pair needs: as given, else the verifier's calibrated default (static
    sentence vectors, centred, spread less than a transformer's: Clough F1 0.944-0.945 at
    0.01-0.02, the seeds at 0.0197; the transformer's 0.02 puts the seeds at 0.0282)."""
    if options.threshold is not None:
        return options.threshold
    return STATIC_THRESHOLD if static_verifier(options) else TRANSFORMER_THRESHOLD


def gain_floor(options: RetoldOptions) -> float:
    """The order gain the level verifies its pairs at: the verifier's default, or a threshold
    below it. Every gate (the alignment's, the stock-sentence check's groups of tellings, the
    second look at near-verbatim pairs) works at this floor; the threshold is applied last, to
    the verified pairs' gains as reported (4 decimals). So a pair's fate above the floor depends
    on its own gain alone, and a finished scan can be cut again at any higher threshold from
    its pairs.jsonl (:mod:`retold.engine.recut`) with the outputs a scan at that threshold gives."""
    default = STATIC_THRESHOLD if static_verifier(options) else TRANSFORMER_THRESHOLD
    return min(gain_threshold(options), default)


#: The default models are English. A document is read by them when at least this share of its
#: words (names masked) are among English's 5,000 commonest (wordfreq): HANNA, slop-score and the NT
#: translations have 0.61 at the least (median 0.79-0.87); French runs about 0.26, German 0.15,
#: Russian 0. Below it, the models' vectors say nothing (the Russian stories' whole-text cosines
#: were 0.99 apart, and every candidate pair arbitrary), and the document is compared by its words
#: instead (:mod:`retold.embed.lexical`). A model the user names is trusted with every document.
ENGLISH_SHARE = 0.45
#: The share is estimated on the text's first this many characters (a whole 50 MB text need not
#: be read to know its language; a name-swapped copy gets the same estimate as its original).
SHARE_PREFIX = 2000
#: Where a document's vectors come from: none (no words), the models (semantic), or its words.
NO_SPACE, SEMANTIC, LEXICAL = 0, 1, 2
#: The candidate floor among documents read by their words: a retelling there keeps much of its
#: wording (name-swapped copies score 0.95-1.0), while among 100,000 unrelated Russian and English
#: mosaics the tenth nearest reaches 0.5 by chance often enough to make 77,000 candidate pairs.
LEXICAL_CANDIDATE = 0.7
SPACE_NAMES = {SEMANTIC: "semantic", LEXICAL: "lexical"}


@functools.cache
def _english_words() -> frozenset[str]:
    """English's ``CENTRE_WORDS`` commonest words (wordfreq), kept in retold's cache folder once
    read: importing wordfreq and reading its list cost 0.15 s in each process of a run (a
    HANNA-size scan is ~2.4 s), the kept list ~5 ms."""
    from importlib.metadata import version

    from retold.embed.base import cache_dir

    kept = cache_dir() / f"english-{CENTRE_WORDS}-wordfreq{version('wordfreq')}.txt"
    try:
        return frozenset(kept.read_text(encoding="utf-8").split("\n"))
    except OSError:
        pass
    from wordfreq import top_n_list

    words = top_n_list("en", CENTRE_WORDS)
    _keep(kept, lambda fh: fh.write("\n".join(words).encode("utf-8")))
    return frozenset(words)


def _keep(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """A derived file kept in a cache folder atomically (``write`` fills it); a folder that cannot
    be written is let be: the next run derives it again."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def english_share(text: str) -> float:
    """The share of the text's words among English's commonest, masked names left out (see
    :data:`ENGLISH_SHARE`).

    >>> english_share("The cat sat on the mat."), english_share("Кошка сидела на ковре.")
    (0.8333333333333334, 0.0)
    """
    found, hits, masks = _piece_tallies(text.split())
    if PLACEHOLDER in _english_words():
        hits -= masks
    return hits / (found - masks) if found > masks else 0.0


def _piece_tallies(pieces: list[str]) -> tuple[int, int, int]:
    """The sum of :func:`english_tally`'s rows over ``pieces`` (a word never spans whitespace),
    from each piece's remembered tally (a regex pass over a 2,000-character prefix cost 85 µs;
    this 69 µs while its pieces are new, 39 µs once they are known)."""
    packed = _TALLIED.total(pieces)
    low = (1 << 32) - 1
    return packed & low, packed >> 32 & low, packed >> 64


def english_tally(words: list[str]) -> np.ndarray:
    """For each whitespace-separated word: (its words, those among English's commonest, its
    placeholders), as :func:`english_share` counts them (a word never spans whitespace, so a
    text's counts are the sums of its pieces')."""
    out = np.zeros((len(words), 3), dtype=np.int64)
    for k, piece in enumerate(words):
        out[k] = _piece_tally(piece)
    return out


def _packed_tally(piece: str) -> int:
    """:func:`_piece_tally` packed into one int: words, common words << 32, placeholders << 64."""
    words, common, masks = _piece_tally(piece)
    return words | common << 32 | masks << 64


_TALLIED = PieceValues(_packed_tally)


def _piece_tally(piece: str) -> tuple[int, int, int]:
    """:func:`english_tally`'s row of one piece."""
    lowered = piece.lower()  # the same words, lower-cased, unless a letter grows ("İ" → "i̇")
    found = WORD.findall(lowered) if len(lowered) == len(piece) else [w.lower() for w in WORD.findall(piece)]
    if not found:
        return 0, 0, 0
    return len(found), sum(map(_english_words().__contains__, found)), found.count(PLACEHOLDER)


def prefix_shares(texts: list[str]) -> np.ndarray:
    """:func:`english_share` of each text's first :data:`SHARE_PREFIX` characters, the prefixes'
    words looked up in one pass over their code points (:class:`_WordTallies`): pieces' shares
    0.70 -> 0.54 s on a core, slop-score's 0.26 -> 0.21 (a fresh process, batches of 1,024; the
    rest is tallying new words). A prefix's last piece, maybe a word cut short, is tallied on its
    own (``_TALLIED``), so that the table holds whole words only; a text's tallies are the sums
    of its pieces'."""
    heads: list[str] = []
    tails: list[str] = []
    for text in texts:
        if len(text) <= SHARE_PREFIX:
            heads.append(text)
            tails.append("")
        else:  # (the pieces before the last whitespace, and the last)
            parts = text[:SHARE_PREFIX].rsplit(None, 1)
            heads.append(parts[0] if len(parts) == 2 else "")
            tails.append(parts[-1] if parts else "")
    counts = _WORD_TALLIES.sums(heads)
    for k, tail in enumerate(tails):
        if tail:
            counts[k] += _piece_tallies([tail])
    return english_shares(counts)


class _WordTallies:
    """:func:`english_tally`'s row of each word, kept by its number in a :class:`WordTable` (each
    distinct word tallied once; the table starts over past :data:`TALLY_WORDS` words). The static
    model's own word table is not used: a word there is tokenised too, which a Russian story's
    words, read by their hashes, never need (tinystories_ru's read was 15% slower through it)."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        self.table = WordTable()
        self.rows = np.zeros((0, 3), dtype=np.int64)

    def _numbers(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The texts' words' numbers and each text's start (:meth:`WordTable.numbers`), every
        number with its row."""
        if len(self.table) > TALLY_WORDS:
            self._start()
        flat, offsets = self.table.numbers(texts)
        if len(self.rows) < len(self.table):
            self.rows = np.concatenate([self.rows, english_tally(self.table.by_number[len(self.rows) :])])
        return flat, offsets

    def sums(self, texts: list[str]) -> np.ndarray:
        """Each text's :func:`english_tally` rows summed over its whitespace-split words."""
        flat, offsets = self._numbers(texts)  # (first: it extends the rows)
        return summed_rows(self.rows, flat, offsets)

    def rows_of(self, words: list[str]) -> np.ndarray:
        """:func:`english_tally` of whitespace-free words, from the rows kept (the static model's
        new words are mostly the prefixes' words the shares met first: the stage's tallies of
        pieces' new words 0.34 -> 0.14 s on a core, py-spy)."""
        flat, _ = self._numbers(words)
        return self.rows[flat]


def _kept_english_tally(words: list[str]) -> np.ndarray:
    """:func:`english_tally` of the static model's words (whitespace-free), through the rows the
    stage's shares keep (:meth:`_WordTallies.rows_of`)."""
    if not words:
        return english_tally(words)
    return _WORD_TALLIES.rows_of(words)


#: distinct words whose English tallies a process keeps (~60 bytes each); past it they start over
TALLY_WORDS = 200_000
_WORD_TALLIES = _WordTallies()


def english_shares(counts: np.ndarray) -> np.ndarray:
    """:func:`english_share` from each text's :func:`english_tally` sums."""
    found, hits, masks = counts[:, 0], counts[:, 1], counts[:, 2]
    if PLACEHOLDER in _english_words():
        hits = hits - masks
    live = found - masks
    return np.where(live > 0, hits / np.maximum(live, 1), 0.0)


#: The retold stage makes a worker's documents' tellings (:meth:`Verifier.tellings_and_vectors`)
#: until their sentence vectors reach this many bytes; past it, the documents' whole-text vectors
#: only, and the decision makes their tellings from the texts. Slop-score's 3,035 stories are
#: 240 MiB of sentence vectors in all; a million documents' would not be held.
STAGE_TELLING_BYTES = 256 << 20


def tellings_space(size: int) -> int:
    """The most bytes the stage's tellings take in the index's folder for ``size`` bytes of text:
    ~12x (a 1,024-byte vector a ~90-character sentence, and the sentences), at most the budget
    of each worker (what a full disk's message adds)."""
    return min(12 * size, (os.cpu_count() or 1) * STAGE_TELLING_BYTES)


class RetoldEmbed(BatchStage):
    """Pass 1 of the retold level: ``record.meta[NAME]`` = (space, masked whole-text vector): the
    models' vector (:data:`SEMANTIC`), or for a document in a language the default (English) models
    do not cover, its hashed words (:data:`LEXICAL`). A document without words gets none.

    Where the decision's verifier is this stage's static model (the default), a :data:`SEMANTIC`
    document's telling is made here too, in the same reading of its text (names found once, the
    whole-text vector pooled from its sentences' words), while :data:`STAGE_TELLING_BYTES` last:
    ``record.meta[NAME]`` = (space, vector, (sentence vectors of the batch, first row, last row,
    (sentences, names, words, cut) pickled)). Nearly every document is a candidate (9,048 of 9,049 pieces,
    3,034 of 3,035 slop-score stories), and making its telling again from the text took 4.3 s of
    slop-score's 15.4 s."""

    name = "retold-embed"
    batch_size = 1024  # the tokenizer spreads a batch over the cores; small batches idle them

    def __init__(self, options: RetoldOptions) -> None:
        from retold.embed import load
        from retold.embed.lexical import LexicalEmbedder

        super().__init__()
        self.embedder = load(options.embedder, kind="static")
        self.lexical = LexicalEmbedder(self.embedder.dim)
        self.english_only = options.embedder is None  # the default model; a named one is trusted
        self.tells = verifies_on_candidates_model(options)
        self.options = options
        self._verifier: Verifier | None = None
        self._told_bytes = 0

    def verifier(self) -> Verifier:
        """The decision's verifier, on this stage's model (built on first use)."""
        if self._verifier is None:
            self._verifier = load_verifier(self.options, self.embedder)
            self._verifier.english_only = self.english_only
        return self._verifier

    def process_batch(self, batch: list[Record]) -> None:
        todo = [r for r in batch if WORD.search(r.text)]
        names = find_names_each([r.text for r in todo])
        texts = mask_names_each([r.text for r in todo], names)  # masked()
        if self.english_only:
            covered = (prefix_shares(texts) >= ENGLISH_SHARE).tolist()
        else:
            covered = [True] * len(todo)
        for space, model in ((SEMANTIC, self.embedder), (LEXICAL, self.lexical)):
            mine = [k for k, c in enumerate(covered) if c == (space == SEMANTIC)]
            if not mine:
                continue
            if space == SEMANTIC and self.tells and self._told_bytes < STAGE_TELLING_BYTES:
                self._tell([todo[k] for k in mine], [names[k] for k in mine], [texts[k] for k in mine])
                continue
            vectors = model.encode([texts[k] for k in mine])
            for k, vector in zip(mine, vectors, strict=True):
                todo[k].meta[NAME] = (space, vector)

    def _tell(self, records: list[Record], names: list[set[str]], texts: list[str]) -> None:
        """The records' tellings and whole-text vectors (:data:`SEMANTIC`), in one reading."""
        tellings, whole = self.verifier().tellings_and_vectors([r.text for r in records], names, texts)
        again = [k for k, w in enumerate(whole) if w is None]
        if again:  # (a name masked across a sentence's end: the whole text's words differ)
            for k, vector in zip(again, self.embedder.encode([texts[k] for k in again]), strict=True):
                whole[k] = vector
        vectors, parts = _packed(tellings)
        self._told_bytes += vectors.nbytes
        at = 0
        for record, telling, vector, part in zip(records, tellings, whole, parts, strict=True):
            rows = len(telling.sentences)
            # (the parts pickled here: the index writes them as they are, and the main process
            # neither unpickles nor pickles them again)
            blob = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
            record.meta[NAME] = (SEMANTIC, vector, (vectors, at, at + rows, blob))
            at += rows


@njit(cache=True, nogil=True)
def _align(sim, margin):  # type: ignore[no-untyped-def]
    """Monotone alignment of rows into columns maximising Σ max(0, sim − margin).

    Returns (Σ max(0, sim − margin) over the aligned pairs / rows, the aligned (row, column)
    pairs as a (k, 2) array).
    """
    m, n = sim.shape
    best = np.zeros((m + 1, n + 1))
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            gain = sim[i - 1, j - 1] - margin
            diag = best[i - 1, j - 1] + (gain if gain > 0 else 0.0)
            up = best[i - 1, j]
            left = best[i, j - 1]
            best[i, j] = max(diag, up, left)
    pairs = np.empty((min(m, n), 2), dtype=np.int64)
    k = 0
    i, j = m, n
    while i > 0 and j > 0:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs[k, 0] = i - 1
            pairs[k, 1] = j - 1
            k += 1
            i -= 1
            j -= 1
    return best[m, n] / m, pairs[:k][::-1]


@njit(cache=True, nogil=True)
def _shuffled_mean(sim, margin, seed, shuffles, give_up=np.inf):  # type: ignore[no-untyped-def]
    """The mean alignment score over ``shuffles`` permutations of the columns, drawn from numba's
    generator seeded with ``seed`` (per thread, so the same pair gets the same permutations on any
    number of threads). Scores are never negative, so once the running sum / ``shuffles`` passes
    ``give_up`` the mean will too: it stops there and returns that bound (the order gain of a pair
    that fails fails whatever the rest would add).

    Each shuffle's score is :func:`_align`'s, bit for bit, without its pairs: the gains
    max(0, sim - margin) are worked out once, the columns are read through the permutation (no
    permuted copy), and the table is two rows, each row's maximum over (diagonal, above) taken
    first and its running maximum along the row after (the same maxima of the same sums). Most of
    the level's scoring is these shuffles: 16 of a passing pair's 17 alignments."""
    np.random.seed(seed)
    m, n = sim.shape
    gain = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            g = sim[i, j] - margin
            gain[i, j] = g if g > 0 else 0.0
    above = np.zeros(n + 1)
    row = np.zeros(n + 1)
    total = 0.0
    for _ in range(shuffles):
        perm = np.random.permutation(n)
        above[:] = 0.0
        for i in range(m):
            g = gain[i]
            run = 0.0
            for j in range(1, n + 1):
                diag = above[j - 1] + g[perm[j - 1]]
                up = above[j]
                best = diag if diag > up else up
                run = best if best > run else run
                row[j] = run
            above, row = row, above
        total += above[n] / m
        if total / shuffles > give_up:
            return total / shuffles
    return total / shuffles


@njit(cache=True, nogil=True)
def _weighted(raw, wx, wy, margin, full_words):  # type: ignore[no-untyped-def]
    """Cosines of sentence pairs with short sentences counted for their share of a full one."""
    m, n = raw.shape
    sim = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            w = min(1.0, min(wx[i], wy[j]) / full_words)
            sim[i, j] = margin + (raw[i, j] - margin) * w
    return sim


@njit(cache=True, nogil=True)
def _gain_or_fail(
    x, y, wx, wy, margin, full_words, min_anchor, min_aligned, threshold, seed, shuffles, min_score
):  # type: ignore[no-untyped-def]
    """The order gain of one pair (``x`` the shorter telling's sentence vectors), or -inf as soon
    as a gate fails: the best sentence pair anywhere, then one alignment (its score must reach
    ``threshold`` and ``min_score``), then the shuffles."""
    if x.shape[0] == 0 or y.shape[0] == 0:
        return -np.inf
    sim = _weighted(np.dot(np.ascontiguousarray(x), np.ascontiguousarray(y.T)), wx, wy, margin, full_words)
    if sim.max() < min_anchor:
        return -np.inf
    score, pairs = _align(sim, margin)
    kept = 0
    anchor = -np.inf
    for k in range(pairs.shape[0]):
        v = sim[pairs[k, 0], pairs[k, 1]]
        if v > margin:
            kept += 1
        anchor = max(anchor, v)
    if kept < min_aligned or anchor < min_anchor or score < threshold or score < min_score:
        return -np.inf
    return score - _shuffled_mean(sim, margin, seed, shuffles, score - threshold)


@njit(cache=True, nogil=True, parallel=True)
def _gains(
    vectors,
    words,
    starts,
    left,
    right,
    seeds,
    margin,
    full_words,
    min_anchor,
    min_aligned,
    threshold,
    shuffles,
    min_score=-np.inf,
):  # type: ignore[no-untyped-def]
    """:func:`_gain_or_fail` of many pairs, spread over the cores (pairs are independent)."""
    out = np.full(left.shape[0], -np.inf)
    for p in prange(left.shape[0]):
        a, b = left[p], right[p]
        if starts[a + 1] - starts[a] > starts[b + 1] - starts[b]:
            a, b = b, a
        out[p] = _gain_or_fail(
            vectors[starts[a] : starts[a + 1]],
            vectors[starts[b] : starts[b + 1]],
            words[starts[a] : starts[a + 1]],
            words[starts[b] : starts[b + 1]],
            margin,
            full_words,
            min_anchor,
            min_aligned,
            threshold,
            seeds[p],
            shuffles,
            min_score,
        )
    return out


@njit(cache=True, nogil=True, parallel=True)
def _alignments(vectors, words, starts, left, right, margin, full_words, offsets):  # type: ignore[no-untyped-def]
    """The alignment of each pair as :meth:`Verifier.verify` makes it, spread over the cores:
    for pair ``p`` its aligned sentence pairs above the margin (``offsets[p]`` on: shorter
    telling's row, longer's row, raw cosine), their count, the aligned score, the anchor (best
    weighted cosine of an aligned pair) and whether the pair was swapped (``left`` longer)."""
    total = offsets[-1]
    at_x = np.empty(total, dtype=np.int64)
    at_y = np.empty(total, dtype=np.int64)
    cosine = np.empty(total, dtype=np.float64)
    count = np.zeros(left.shape[0], dtype=np.int64)
    score = np.zeros(left.shape[0])
    anchor = np.zeros(left.shape[0])
    swapped = np.zeros(left.shape[0], dtype=np.bool_)
    for p in prange(left.shape[0]):
        a, b = left[p], right[p]
        if starts[a + 1] - starts[a] > starts[b + 1] - starts[b]:
            a, b = b, a
            swapped[p] = True
        if starts[a + 1] == starts[a] or starts[b + 1] == starts[b]:
            continue
        raw = np.dot(
            np.ascontiguousarray(vectors[starts[a] : starts[a + 1]]),
            np.ascontiguousarray(vectors[starts[b] : starts[b + 1]].T),
        )
        sim = _weighted(
            raw, words[starts[a] : starts[a + 1]], words[starts[b] : starts[b + 1]], margin, full_words
        )
        score[p], pairs = _align(sim, margin)
        best, c = -np.inf, 0
        for k in range(pairs.shape[0]):
            i, j = pairs[k, 0], pairs[k, 1]
            best = max(best, sim[i, j])
            if sim[i, j] > margin:
                at_x[offsets[p] + c] = i
                at_y[offsets[p] + c] = j
                cosine[offsets[p] + c] = raw[i, j]
                c += 1
        count[p] = c
        anchor[p] = best if pairs.shape[0] else 0.0
    return at_x, at_y, cosine, count, score, anchor, swapped


def pair_seed(a: Any, b: Any, n: int) -> Any:
    """The seed of the shuffles of pair (a, b) among n documents (numbers or arrays of them)."""
    return (a * n + b) % (1 << 32)


@dataclass
class Telling:
    """One document as the verifier sees it: sentences, names, masked-sentence vectors."""

    sentences: list[str]
    names: set[str]
    vectors: np.ndarray
    words: np.ndarray = field(default_factory=lambda: np.zeros(0))  # words per sentence

    def __post_init__(self) -> None:
        if len(self.words) != len(self.sentences):
            self.words = np.array([word_count(s) for s in self.sentences], dtype=np.float64)
        self._mentions: Counter[str] | None = None
        self._sentence_names: list[frozenset[str]] | None = None
        self.cut = False  # the text had more than MAX_SENTENCES sentences: its first ones

    def mentions(self) -> Counter[str]:
        """How often the telling mentions each of its names (counted once, for every pair)."""
        if self._mentions is None:
            self._sentence_names, self._mentions = sentence_names_and_mentions(self.sentences, self.names)
        return self._mentions

    def sentence_names(self) -> list[frozenset[str]]:
        """The names of each sentence (found once, for every pair)."""
        if self._sentence_names is None:
            self._sentence_names, self._mentions = sentence_names_and_mentions(self.sentences, self.names)
        return self._sentence_names


@dataclass
class RetoldMatch:
    """A verified (or rejected) pair: what matched what, and why."""

    order_gain: float
    aligned: float
    pairs: list[tuple[int, int, float]]
    names: dict[str, str] = field(default_factory=dict)
    shared_names: list[str] = field(default_factory=list)
    anchor: float = 0.0  # the best aligned pair's (weighted) cosine
    #: the best aligned pair's lead over other nearby stories (distinct_anchor); None where it was
    #: not needed: the pair tells most of itself again (aligned >= WHOLE_ALIGNED)
    distinct: float | None = 1.0

    def evidence(self, a: Telling, b: Telling, swapped: bool) -> dict[str, Any]:
        """JSON evidence, with ``a`` the kept document's telling and ``b`` the other's."""
        best = sorted(self.pairs, key=lambda p: -p[2])[:EVIDENCE_SENTENCES]
        shown = [
            {
                "kept": a.sentences[i if not swapped else j],
                "this": b.sentences[j if not swapped else i],
                "similarity": round(s, 4),
            }
            for i, j, s in sorted(best)
        ]
        return {
            "order_gain": round(self.order_gain, 4),
            "aligned": round(self.aligned, 4),
            "aligned_sentences": len(self.pairs),
            "anchor": round(self.anchor, 4),
            "distinct": None if self.distinct is None else round(self.distinct, 4),
            "sentences": shown,
            "names": self.names,
            "shared_names": self.shared_names,
        }


#: Words of the language that estimate a static model's common direction (:func:`common_direction`).
CENTRE_WORDS = 5000


def common_direction(model: Any, lang: str = "en") -> np.ndarray:
    """What every sentence of ``lang`` shares in a static model: the mean of the vectors of the
    language's ``CENTRE_WORDS`` most common words (wordfreq), weighted by their frequency.

    A static sentence vector is a mean of word vectors, so every sentence leans towards the common
    words' mean and any two sentences have a cosine far above zero (0.3-0.5 for unrelated ones).
    Subtracting it spreads the cosines as a transformer's are spread. It is fixed by the model and
    the language, never by the corpus, so a pair scores the same in any corpus (a mean of the
    corpus's own sentences left the seeds unpaired when they were scanned alone)."""
    from importlib.metadata import version

    folder = getattr(model, "cache_folder", None)
    # kept beside a model retold distilled (0.5 s a run: the words' frequencies and vectors)
    name = f"centre-{lang}-{CENTRE_WORDS}-wordfreq{version('wordfreq')}.npy"
    kept = Path(folder) / name if folder else None
    if kept is not None and kept.exists():
        return np.load(kept)
    import wordfreq  # (0.1 s to import: not when the centre is kept)

    words = wordfreq.top_n_list(lang, CENTRE_WORDS)
    weight = np.array([wordfreq.word_frequency(w, lang) for w in words])
    vectors = np.asarray(model.encode_short(words), dtype=np.float64)
    centre = (weight[:, None] * vectors).sum(axis=0) / weight.sum()
    if kept is not None:
        _keep(kept, lambda fh: np.save(fh, centre, allow_pickle=False))
    return centre


def _centred(vectors: np.ndarray, centre: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Each row less ``centre``, scaled to unit length (in float64, given as float32), a block of
    rows at a time: the same numbers as the whole array at once (each row's norm is its own
    reduction, ``np.linalg.norm``'s formula), without its 500 MB of float64 copies for
    slop-score's 245,770 sentences (2.1 s against 0.3 s). The block's float64 rows and squares
    reuse two buffers; ``in_place``: the rows are written back into ``vectors`` (C-contiguous
    float32, the caller's own), where a new array of a worker's batch of sentences was 85 MB of
    fresh pages."""
    if in_place and vectors.flags.c_contiguous and vectors.flags.writeable and vectors.dtype == np.float32:
        out = vectors
    else:
        out = np.empty(vectors.shape, dtype=np.float32)
    rows = min(len(vectors), _CENTRE_BLOCK)
    block = np.empty((rows, vectors.shape[1]), dtype=np.float64)
    squares = np.empty_like(block)
    for lo in range(0, len(vectors), _CENTRE_BLOCK):
        part = vectors[lo : lo + _CENTRE_BLOCK]
        here, sq = block[: len(part)], squares[: len(part)]
        np.subtract(part, centre, out=here)  # (float32 rows widened exactly, as astype does)
        np.multiply(here, here, out=sq)
        norms = np.sqrt(np.add.reduce(sq, axis=1, keepdims=True))
        here /= np.maximum(norms, 1e-12)
        out[lo : lo + _CENTRE_BLOCK] = here
    return out


_CENTRE_BLOCK = 256  # rows centred at once: a block and its squares stay in the cache (83,000 rows: 0.086 s in blocks of 4,096, 0.072 in 256)


def _masked_sentences(parts: list[list[str]], names: list[set[str]]) -> list[list[str]]:
    """Each text's sentences with its names masked: each text's sentences joined
    by a mark none holds, the joined texts masked in one batch (:func:`mask_names_each`), then
    split at the marks again (a name masked across a mark, which cannot be, would be seen by the
    count and the sentences masked one by one)."""
    todo = [k for k, n in enumerate(names) if n]
    marks = [
        next(c for c in ("\x01", "\ufdd3", "\ufdd4", "\ufdd5") if not any(c in p for p in parts[k]))
        for k in todo
    ]
    joined = mask_names_each(
        [f" {m} ".join(parts[k]) for k, m in zip(todo, marks, strict=True)], [names[k] for k in todo]
    )
    out = list(parts)
    for k, m, masked in zip(todo, marks, joined, strict=True):
        each = masked.split(f" {m} ")
        out[k] = each if len(each) == len(parts[k]) else [mask_names(p, names[k]) for p in parts[k]]
    return out


def _same_words(masked: list[str], text: str) -> bool:
    """Whether the masked sentences' words, in order, are the masked text's (``text``, the
    sentences' text masked whole with the same names, none cut off).

    The sentences drop only whitespace, and a name is masked by the characters around it, which
    are the same in both (whitespace or a string's end at a sentence's edge). So the words differ
    only where a run of names, masked as one placeholder, crosses a sentence's end in the whole
    text: there the sentence before ends with the placeholder and the one after starts with it.
    Where no two sentences meet so, they are the same without a split of either (one was 0.26 s
    of slop-score's 7 s stage on a core); where two do, both are split and compared."""
    ends = [m.endswith(PLACEHOLDER) for m in masked[:-1]]
    if not any(ends) or not any(
        m.startswith(PLACEHOLDER) for m, e in zip(masked[1:], ends, strict=True) if e
    ):
        return True
    return " ".join(masked).split() == text.split()


class Verifier:
    """The finer measure: sentence alignment, names masked. ``centre``: a direction subtracted from
    every sentence vector before comparing (a static model's :func:`common_direction`)."""

    def __init__(self, model: Any, margin: float = MARGIN, centre: np.ndarray | None = None) -> None:
        self.model = model
        self.margin = margin
        self.centre = centre
        #: The model reads English only: a sentence in another language (a Russian line in a
        #: mostly English text) gets a zero vector. Its vector would say nothing, yet such vectors
        #: sit close together and aligned unrelated mixed texts at 0.4.
        self.english_only = False

    def tellings(self, texts: list[str], names: list[set[str]] | None = None) -> list[Telling]:
        """Each text's telling; ``names``: each text's names (:func:`find_names`), if found already."""
        return self._tellings(texts, names)[0]

    def tellings_and_vectors(
        self, texts: list[str], names: list[set[str]], masked: list[str]
    ) -> tuple[list[Telling], list[np.ndarray | None]]:
        """:meth:`tellings`, and each text's whole-text vector: what the model's ``encode`` gives
        ``masked[k]`` (the text with its ``names`` masked), pooled from the words its sentences
        were looked up by, bit for bit, where they are that text's words in order and the model
        would split it at whitespace (else None: the caller encodes ``masked[k]``). The retold
        stage makes both in one reading of each text."""
        return self._tellings(texts, names, masked)

    def _tellings(
        self, texts: list[str], names: list[set[str]] | None = None, masked: list[str] | None = None
    ) -> tuple[list[Telling], list[np.ndarray | None]]:
        counted = counted_sentences_each(texts)
        parts = [ss[:MAX_SENTENCES] if ss else [t] for (ss, _), t in zip(counted, texts, strict=True)]
        words = [
            c[:MAX_SENTENCES] if c else [word_count(t)] for (_, c), t in zip(counted, texts, strict=True)
        ]
        cut = [len(ss) > MAX_SENTENCES for ss, _ in counted]
        if names is None:
            names = find_names_each(texts)
        each = _masked_sentences(parts, names)
        flat = [m for ms in each for m in ms]
        whole: list[np.ndarray | None] = [None] * len(texts)
        runs = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, each), dtype=np.int64, count=len(each)), out=runs[1:])
        pooled: np.ndarray | None = None
        pooled_vectors: np.ndarray | None = None
        shares = None
        tally = _kept_english_tally if self.english_only else None
        if not flat:
            vectors = np.zeros((0, 1), dtype=np.float32)
        elif getattr(self.model, "splits_words", False) and (masked is not None or self.english_only):
            # one split for the vectors, their English tallies and (asked) the whole texts' vectors
            asked = runs if masked is not None else None
            vectors, counts, pooled_vectors, pooled = self.model.encode_runs(flat, asked, tally)
            if counts is not None:
                shares = english_shares(counts)
        else:
            vectors = self.model.encode_short(flat)
        if pooled is not None and pooled_vectors is not None and masked is not None:
            for k, (ms, text) in enumerate(zip(each, masked, strict=True)):
                # the same words in order: the sentences drop only whitespace, but a name masked
                # across a sentence's end, or an odd space there, would differ (then encoded whole)
                if pooled[k] and not cut[k] and self.model.splits(text) and _same_words(ms, text):
                    whole[k] = pooled_vectors[k]
        if self.centre is not None and len(vectors):
            vectors = _centred(np.ascontiguousarray(vectors, dtype=np.float32), self.centre, in_place=True)
        if self.english_only and len(vectors):
            if shares is None:
                shares = np.array([english_share(m) for m in flat])
            vectors[shares < ENGLISH_SHARE] = 0.0
        # float32: a million documents' sentences are the level's largest memory
        out, at = [], 0
        for ss, n, c, w in zip(parts, names, cut, words, strict=True):
            rows = np.ascontiguousarray(vectors[at : at + len(ss)], dtype=np.float32)
            out.append(Telling(ss, n, rows, np.array(w, dtype=np.float64)))
            out[-1].cut = c
            at += len(ss)
        return out, whole

    def match(self, a: Telling, b: Telling, seed: int = 0) -> tuple[RetoldMatch, bool]:
        """Score the pair whatever it scores, with its name mapping; the shorter telling's
        sentences are aligned into the longer one's. Returns the match and whether ``a`` and ``b``
        were swapped (``a`` longer)."""
        found = self.verify(a, b, seed, threshold=-np.inf, min_aligned=0, min_anchor=-np.inf)
        assert found is not None
        return found

    def verify(
        self,
        a: Telling,
        b: Telling,
        seed: int = 0,
        threshold: float = 0.0,
        min_aligned: int = MIN_ALIGNED,
        min_anchor: float = MIN_ANCHOR,
        names: bool = True,
        gain: float | None = None,
    ) -> tuple[RetoldMatch, bool] | None:
        """The match of a pair that passes every gate, else None, trying the cheap gates first:
        the best sentence pair anywhere (an upper bound of the anchor), then one alignment (the
        aligned score bounds the order gain from above: the shuffled mean is never negative),
        then the shuffles, then the name mapping (only for a pair that passed). ``gain``: the
        pair's order gain as :func:`_gains` found it, with the same vectors, seed and shuffles
        (its shuffles are 16 of the 17 alignments: not done twice)."""
        swapped = len(a.sentences) > len(b.sentences)
        x, y = (b, a) if swapped else (a, b)
        raw = x.vectors @ y.vectors.T
        sim = _weighted(raw, x.words, y.words, self.margin, float(FULL_SENTENCE_WORDS))
        if not sim.size or sim.max() < min_anchor:
            return None
        aligned, pairs = _align(sim, self.margin)
        # whole arrays, not an element at a time (numpy scalars made this most of the call)
        at_i, at_j = pairs[:, 0], pairs[:, 1]
        value = sim[at_i, at_j]
        anchor = float(value.max()) if len(value) else 0.0
        kept = value > self.margin
        if int(kept.sum()) < min_aligned or anchor < min_anchor or aligned < threshold:
            return None
        kept_pairs = list(
            zip(
                at_i[kept].tolist(),
                at_j[kept].tolist(),
                raw[at_i[kept], at_j[kept]].astype(float).tolist(),
                strict=True,
            )
        )
        if gain is None:
            gain = aligned - _shuffled_mean(sim, self.margin, seed % (1 << 32), SHUFFLES)
        if gain < threshold:
            return None
        match = RetoldMatch(float(gain), float(aligned), kept_pairs, anchor=anchor)
        if names:
            self.map_names(match, a, b, swapped)
        return match, swapped

    @staticmethod
    def map_names(match: RetoldMatch, a: Telling, b: Telling, swapped: bool) -> None:
        """Fill the match's name mapping (``a`` → ``b``) and shared names, from its aligned pairs."""
        x, y = (b, a) if swapped else (a, b)
        in_x, in_y = x.sentence_names(), y.sentence_names()
        mapping, shared = vote_mapping(
            ((in_x[i], in_y[j], cosine**2) for i, j, cosine in match.pairs), x.mentions(), y.mentions()
        )
        match.names = {v: k for k, v in mapping.items()} if swapped else mapping
        match.shared_names = shared


def _one_array(
    tellings: list[Telling], joined: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every telling's sentence vectors in one float32 array (each telling's ``vectors`` becomes a
    view of it, so they are held once), their word counts, and where each telling starts.
    ``joined``: that array already, the tellings' vectors views of it in their order
    (:func:`_gathered` makes it so)."""
    sizes = np.array([len(t.sentences) for t in tellings], dtype=np.int64)
    starts = np.zeros(len(tellings) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    if joined is not None:
        flat = joined
    else:
        dim = next((t.vectors.shape[1] for t in tellings if len(t.vectors)), 1)
        flat = np.zeros((int(starts[-1]), dim), dtype=np.float32)
        for t, lo, hi in zip(tellings, starts[:-1], starts[1:], strict=True):
            if hi > lo:
                flat[lo:hi] = t.vectors
                t.vectors = flat[lo:hi]
    words = np.concatenate([t.words for t in tellings] or [np.zeros(0)]).astype(np.float64)
    return flat, words, starts


def distinct_anchor(match: RetoldMatch, x: Telling, rival: np.ndarray, y: Telling | None = None) -> float:
    """How much more closely the pair tells its best shared sentence than any other story does.

    ``x`` and ``y`` are the match's shorter and longer tellings (its ``pairs`` index them);
    ``rival[k]`` the best cosine either sentence of aligned pair ``k`` reaches in another document
    (0 where none does). For each aligned pair: its cosine less its rival, scaled for short lines
    as in the alignment; the best of these.
    """
    if not match.pairs:
        return 0.0
    i = np.array([p[0] for p in match.pairs])
    j = np.array([p[1] for p in match.pairs])
    raw = np.array([p[2] for p in match.pairs])
    words_y = (y if y is not None else x).words[j]
    weight = np.minimum(1.0, np.minimum(x.words[i], words_y) / FULL_SENTENCE_WORDS)
    return float(((raw - np.maximum(np.asarray(rival, dtype=np.float64), 0.0)) * weight).max())


def _groups(left: list[int], right: list[int]) -> dict[int, int]:
    """Each document of the pairs → the number of its connected group (scipy's components)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    docs, at = np.unique(np.asarray(left + right, dtype=np.int64), return_inverse=True)
    edges = np.ones(len(left))
    graph = coo_matrix((edges, (at[: len(left)], at[len(left) :])), shape=(len(docs), len(docs)))
    _, label = connected_components(graph, directed=False)
    return dict(zip(docs.tolist(), label.tolist(), strict=True))


BOILERPLATE_COSINE = 0.7
BOILERPLATE_LIFT = 0.05
BOILERPLATE_EDGE = 4  # sentences at each end of a document looked at
BOILERPLATE_SAMPLE = 64  # nearest edge sentences that estimate where a sentence recurs, and its lift
#: Past this many edge sentences, whether one recurs is looked up in cells (:class:`Neighbours`),
#: not among them all: on 24,229 of slop-score's sentences 1.1 s against 4.6 s, and the cells find
#: 741 of the 773 that have four others at cosine >= 0.7 (the fifth-nearest of those missed sits at
#: 0.71-0.82, where the median is 0.74; chat openers recur far closer).
BOILERPLATE_EXACT = 10_000


def _subset(vectors: np.ndarray | Rows, at: np.ndarray) -> np.ndarray | Rows:
    return Rows(vectors.matrix, vectors.rows[at]) if isinstance(vectors, Rows) else vectors[at]


_SELF_BLOCK = 512


def _self_cosines(vectors: np.ndarray | Rows) -> np.ndarray:
    """Each row's inner product with itself, read a block at a time (rows may be memory-mapped).

    Blocks of 512 rows (512 KB) come from the heap and reuse its memory: blocks of 65,536 were
    64 MB of fresh pages each from the system (past the run's mmap threshold; numpy asks for huge
    pages for them), and reading pieces' 71,167 edge sentences took 0.18 s, 0.17 s of it the
    kernel's; the values are the same."""
    out = np.empty(len(vectors), dtype=np.float32)
    for lo in range(0, len(vectors), _SELF_BLOCK):
        block = np.ascontiguousarray(vectors[lo : lo + _SELF_BLOCK], dtype=np.float32)
        out[lo : lo + len(block)] = np.einsum("ij,ij->i", block, block)
    return out


def silence_boilerplate(
    tellings: list[Telling],
    doc_vectors: np.ndarray,
    min_docs: int,
    arrays: tuple[np.ndarray, np.ndarray] | None = None,
) -> int:
    """Zero the vectors of the :func:`boilerplate` sentences; return how many."""
    found = boilerplate(tellings, doc_vectors, min_docs, arrays)
    for t, lines in zip(tellings, found, strict=True):
        t.vectors[lines] = 0.0
    return sum(len(lines) for lines in found)


def boilerplate(
    tellings: list[Telling],
    doc_vectors: np.ndarray,
    min_docs: int,
    arrays: tuple[np.ndarray, np.ndarray] | None = None,
    cells: Callable[[], Neighbours] | None = None,
) -> list[np.ndarray]:
    """Each telling's boilerplate sentences (their numbers). ``arrays``: :func:`_one_array`'s
    vectors and starts, when the tellings' vectors are views of them; ``cells``: with ``arrays``,
    an index over all those vectors (made when first called), whose cells the edge sentences are
    searched in where they are more than ``BOILERPLATE_EXACT``, instead of cells of their own.

    Chat-model stories open and close with the same lines ("Sure! Here is a story based on the
    prompt you provided:"), and generic openers recur ("It was a dark and stormy night…"); aligned
    in order at both ends, they make unrelated stories look retold. An edge sentence (one of the
    first and last ``BOILERPLATE_EDGE``: that is where such lines sit) is boilerplate when it recurs
    (cosine ≥ ``BOILERPLATE_COSINE``) in ``min_docs`` or more documents *that are otherwise no closer
    to each other than to the rest*: their mean whole-text cosine among themselves (``doc_vectors``)
    exceeds their mean cosine to all verified documents by less than ``BOILERPLATE_LIFT``. HANNA's
    chat openers lift 0.017; the sentences Clough's answers copy from one source lift 0.18: they
    are evidence and stay. Where every document is on one subject the two cannot be told apart.
    """
    if min_docs < 2 or not tellings:
        return [np.zeros(0, dtype=np.int64) for _ in tellings]
    edge = [
        np.unique(
            np.r_[
                np.arange(min(BOILERPLATE_EDGE, len(t.sentences))),
                np.arange(max(0, len(t.sentences) - BOILERPLATE_EDGE), len(t.sentences)),
            ]
        )
        for t in tellings
    ]
    owner = np.concatenate([np.full(len(e), k) for k, e in enumerate(edge)])
    vectors: np.ndarray | Rows
    if arrays is not None:  # the tellings' vectors are views of one array: read the edges from it
        flat, starts = arrays
        vectors = Rows(flat, np.concatenate([starts[k] + e for k, e in enumerate(edge)]))
    else:
        vectors = np.concatenate([t.vectors[e] for t, e in zip(tellings, edge, strict=True)]).astype(
            np.float32
        )
    silenced = np.zeros(len(owner), dtype=bool)
    centre = doc_vectors.mean(axis=0)  # mean cosine of d to all documents = d · centre
    # each edge sentence's nearest edge sentences (itself among them), found without comparing
    # every sentence with every other: first whether it recurs ``min_docs`` times at all, then, for
    # those that do, a bounded sample of where
    # a zero vector (a sentence with no word the model knows: a Russian line in an English story)
    # recurs nowhere and is no sentence's neighbour at any positive cosine, so it is left out of the
    # index: bench_scale's 300,000 documents had 48,372 of 71,922 English edge sentences at zero,
    # all in one cell that every search scanned (22 s of the level's 75; at a million, quadratic)
    live = np.flatnonzero(_self_cosines(vectors) > 0)
    if cells is not None and isinstance(vectors, Rows) and len(live) > BOILERPLATE_EXACT:
        index = cells().among(vectors.rows[live], BOILERPLATE_EXACT)
    else:
        index = Neighbours(_subset(vectors, live), exact_limit=BOILERPLATE_EXACT)
    _, cos = index.search(min_docs, exclude_self=False)
    recurs = live[cos[:, -1] >= BOILERPLATE_COSINE] if cos.shape[1] == min_docs else live[:0]
    del cos
    top, cos = index.search(BOILERPLATE_SAMPLE, queries=_subset(vectors, recurs), exclude_self=False)
    top = np.where(top >= 0, live[np.maximum(top, 0)], -1)  # the index's rows → the edge sentences
    hits = (cos >= BOILERPLATE_COSINE) & (top >= 0)
    for at, r in enumerate(recurs):
        docs = np.unique(owner[top[at][hits[at]]])
        if len(docs) < min_docs:
            continue
        sims = doc_vectors[docs] @ doc_vectors[docs].T
        among = (sims.sum() - np.trace(sims)) / (len(docs) * (len(docs) - 1))
        overall = float((doc_vectors[docs] @ centre).mean())
        silenced[r] = among - overall < BOILERPLATE_LIFT
    out, at = [], 0
    for e in edge:
        out.append(e[silenced[at : at + len(e)]])
        at += len(e)
    return out


@dataclass
class RetoldStats:
    documents: int = 0
    candidate_pairs: int = 0
    candidate_documents: int = 0  # documents in a candidate pair: those cut into sentences
    verified_pairs: int = 0
    clusters: int = 0
    members: int = 0
    largest_cluster: int = 0
    boilerplate_sentences: int = 0
    long_documents: int = 0  # verified on their first MAX_SENTENCES sentences

    def to_json(self) -> dict[str, Any]:  # no timings: summary.json's figures are deterministic
        return dict(self.__dict__)


def load_verifier(options: RetoldOptions, embedder: Any = None) -> Verifier:
    """The verifier ``options`` name: the static model (default; ``static:MODEL`` for another),
    ``transformer`` (all-MiniLM-L6-v2), or a sentence-transformers model's name or path.
    ``embedder``: the candidate stage's static model, reused when it is the one named."""
    from retold.embed import load

    spec = options.verifier or "static"
    if static_verifier(options):
        shared = embedder is not None and verifies_on_candidates_model(options)
        model = embedder if shared else load(spec.partition(":")[2] or options.embedder, kind="static")
        return Verifier(model, options.margin, centre=common_direction(model))
    return Verifier(load(None if spec == "transformer" else spec, kind="transformer"), options.margin)


#: Verifiers by (space, options, dimension, English only): the one the decision uses, and in a
#: worker process the one it built for the decision's :func:`_tellings_job` calls.
_VERIFIERS: dict[tuple[int, RetoldOptions, int, bool], Verifier] = {}


def _tellings_job(job: tuple[tuple[int, RetoldOptions, int, bool], list[str]]) -> Packed:
    """Some documents' tellings (``Verifier.tellings``), with the verifier ``spec`` names."""
    spec, texts = job
    verifier = _VERIFIERS.get(spec)
    if verifier is None:
        verifier = _space_verifier(spec)
        _VERIFIERS.clear()
        _VERIFIERS[spec] = verifier
    return _packed(verifier.tellings(texts))


def _space_verifier(
    spec: tuple[int, RetoldOptions, int, bool], semantic: Callable[[], Verifier] | None = None
) -> Verifier:
    """The verifier of a space: the words' hashing for :data:`LEXICAL`, else ``semantic()`` (by
    default the one the options name), reading English only when the spec says so."""
    space, options, dim, english_only = spec
    if space == LEXICAL:
        from retold.embed.lexical import LexicalEmbedder

        return Verifier(LexicalEmbedder(dim), options.margin)
    verifier = semantic() if semantic is not None else load_verifier(options)
    verifier.english_only = english_only
    return verifier


Packed = tuple[np.ndarray, list[tuple[list[str], set[str], np.ndarray, bool]]]


def _packed(tellings: list[Telling]) -> Packed:
    """Tellings as one array of sentence vectors and the rest, to send between processes: each
    telling's own small array, unpickled, scattered 10 kB blocks over the heap that a million
    documents' run could not give back (a 1.9 GB higher floor)."""
    dim = next((t.vectors.shape[1] for t in tellings if t.vectors.ndim == 2), 1)
    vectors = _one_run(tellings, dim)
    if vectors is None:
        vectors = (
            np.concatenate([t.vectors.reshape(-1, dim) for t in tellings]).astype(np.float32, copy=False)
            if tellings
            else np.zeros((0, dim), dtype=np.float32)
        )
    return vectors, [(t.sentences, t.names, t.words, t.cut) for t in tellings]


def _one_run(tellings: list[Telling], dim: int) -> np.ndarray | None:
    """The tellings' vectors as one array without a copy, where they are consecutive rows of one
    float32 array (as :meth:`Verifier.tellings` makes them): a worker's batch of slop-score
    stories is 85 MB of sentence vectors, and a copy of it fresh pages. Else None."""
    rows = [t.vectors for t in tellings if t.vectors.size]
    base = rows[0].base if rows else None
    if not (
        isinstance(base, np.ndarray)
        and base.dtype == np.float32
        and base.ndim == 2
        and base.shape[1] == dim
        and base.flags.c_contiguous
    ):
        return None
    origin, step = base.__array_interface__["data"][0], base.strides[0]
    lo = at = (rows[0].__array_interface__["data"][0] - origin) // step
    for v in rows:
        if not (
            v.base is base
            and v.dtype == np.float32
            and v.ndim == 2
            and v.shape[1] == dim
            and v.flags.c_contiguous
            and v.__array_interface__["data"][0] == origin + at * step
        ):
            return None
        at += len(v)
    return base[lo:at]


def _unpacked(sent: list[Packed | None]) -> tuple[list[Telling], np.ndarray]:
    """:func:`_packed`'s tellings again, in the order sent, their vectors views of one array
    (:func:`_gathered` with none on disk)."""
    count = sum(len(p[1]) for p in sent if p is not None)
    return _gathered(np.zeros(count, dtype=bool), np.zeros((0, 4), dtype=np.int64), sent)


OWN_PAGES_FROM = 1 << 22  # bytes: smaller arrays are numpy's own (it asks for huge pages from 4 MiB)


def _small_paged(shape: tuple[int, int]) -> np.ndarray:
    """An empty float32 array of ``shape`` (4 MiB or more) in anonymous memory of its own, which
    numpy's allocator would ask the kernel to back with huge pages (``madvise(MADV_HUGEPAGE)``).

    The tellings' sentence vectors are read into it once, front to back. Where the kernel
    defragments on request for madvised regions (``transparent_hugepage/defrag`` at ``madvise``,
    most distributions' setting), each first touch of a 2 MiB page may wait while it compacts
    memory: reading slop-score's tellings back took 0.56-0.72 s, nearly all of it the kernel's,
    and takes 0.22 s in ordinary pages; pieces 0.70 -> 0.33 s (the same bytes). Only this array:
    numpy's pages for the whole run (``NUMPY_MADVISE_HUGEPAGE=0``) were tried and made the 1M
    scan slower."""
    size = shape[0] * shape[1] * 4
    if size < OWN_PAGES_FROM or size == 0:
        return np.empty(shape, dtype=np.float32)
    return np.frombuffer(mmap.mmap(-1, size), dtype=np.float32).reshape(shape)


def _gathered(
    have: np.ndarray,
    where: np.ndarray,
    made: list[Packed | None],
    files: tuple[Path, Path] | None = None,
    dim: int = 0,
) -> tuple[list[Telling], np.ndarray]:
    """The tellings of a decision's documents in order, their vectors views of one array: those
    the retold stage made (``have``, at ``where``: :meth:`RetoldIndex._spilled`) read from
    ``files`` (its vectors, its pickled parts) straight into the array, a run of documents stored
    one after another in one read; and ``made``'s (:func:`_packed` blocks of the others, in
    order) copied in, a run of consecutive documents at a time, each block let go of (set to None
    in ``made``) once copied, so that the blocks are not all held beside the array. A document at
    a time, each read into an array of its own and then copied again, was 0.75 s of slop-score's
    5.6 s decision, and the copies held beside the array 175-218 MB of its peak."""
    rows = np.zeros(len(have), dtype=np.int64)
    rows[have] = where[:, 1]
    rows[~have] = [len(part[0]) for block in made if block is not None for part in block[1]]
    starts = np.zeros(len(have) + 1, dtype=np.int64)
    np.cumsum(rows, out=starts[1:])
    dim = dim or next((b[0].shape[1] for b in made if b is not None and b[0].ndim == 2), 1)
    flat = _small_paged((int(starts[-1]), dim))
    parts: list[tuple[list[str], set[str], np.ndarray, bool] | None] = [None] * len(have)
    mine = np.flatnonzero(have)
    if len(mine):
        assert files is not None
        # runs of documents whose vectors, and whose parts, lie one after another on disk
        ends = where[:, 0] + where[:, 1]
        breaks = (
            np.flatnonzero(
                (where[1:, 0] != ends[:-1])
                | (where[1:, 2] != where[:-1, 2] + where[:-1, 3])
                | (mine[1:] != mine[:-1] + 1)
            )
            + 1
        )
        with open(files[0], "rb") as vectors, open(files[1], "rb") as blobs:
            for lo, hi in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(mine)].tolist(), strict=True):
                first, offset = int(where[lo, 0]), int(where[lo, 2])
                a, b = int(starts[mine[lo]]), int(starts[mine[hi - 1] + 1])
                vectors.seek(first * 4 * dim)
                if vectors.readinto(memoryview(flat[a:b]).cast("B")) != (b - a) * 4 * dim:
                    raise OSError(f"{files[0]} is shorter than its index says")
                blobs.seek(offset)
                run = memoryview(blobs.read(int(where[hi - 1, 2] + where[hi - 1, 3]) - offset))
                for k in range(lo, hi):
                    at = int(where[k, 2]) - offset
                    parts[mine[k]] = pickle.loads(run[at : at + int(where[k, 3])])
    others, taken = np.flatnonzero(~have), 0
    for k, block in enumerate(made):
        made[k] = None
        assert block is not None
        vectors, said = block
        del block
        mine = others[taken : taken + len(said)]
        taken += len(said)
        for d, part in zip(mine.tolist(), said, strict=True):
            parts[d] = part
        # (a run of consecutive documents is one copy: a copy a telling cost 0.6 s on slop-score)
        breaks = np.flatnonzero(mine[1:] != mine[:-1] + 1) + 1
        at = 0
        for lo, hi in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(mine)].tolist(), strict=True):
            if hi > lo:  # (none in a block of no tellings)
                a, b = int(starts[mine[lo]]), int(starts[mine[hi - 1] + 1])
                flat[a:b] = vectors[at : at + b - a].reshape(b - a, dim)
                at += b - a
        del vectors, said
    assert taken == len(others)
    out = []
    for d, part in enumerate(parts):
        assert part is not None
        sentences, names, words, cut = part
        out.append(Telling(sentences, names, flat[starts[d] : starts[d + 1]], words))
        out[-1].cut = cut
    return out, flat


class RetoldIndex(LevelIndex):
    """Collects the masked whole-text vectors on disk, then decides retold pairs.

    Each document's vector is in one space (:data:`SEMANTIC` or :data:`LEXICAL`); pairs are found
    and verified within a space. The verifier model loads only when there are candidate pairs."""

    def __init__(
        self,
        work: Path,
        options: RetoldOptions,
        stage: RetoldEmbed | None = None,
        verifier: Callable[[], Verifier] | None = None,
    ) -> None:
        self.options = options
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self._verifier = verifier or (lambda: load_verifier(options, stage.embedder if stage else None))
        self._own_verifier = verifier is None  # built from the options alone: workers can build it
        self._path = self.work / "vectors.f32"
        self._fh = open(self._path, "ab")  # noqa: SIM115 (closed in close(); see NearIndex on "ab")
        # the tellings the stage made (RetoldEmbed): sentence vectors, and the rest pickled, on
        # disk; which documents have one, where, in memory (doc, first row, rows, offset, length)
        self._told_path = self.work / "tellings.f32"
        self._parts_path = self.work / "tellings.parts"
        self._told_fh = open(self._told_path, "ab")  # noqa: SIM115 (closed in close())
        self._parts_fh = open(self._parts_path, "ab")  # noqa: SIM115 (closed in close())
        self._told = array("q")
        self._space = array("b")  # each document's space (NO_SPACE: no vector stored)
        self._rank = array("d")
        self.dim = 0
        self.embedder_name = stage.embedder.name if stage is not None else ""
        self.english_only = stage.english_only if stage is not None else False
        self.verifier_name = ""

    def add(self, record: Record, rank: float) -> None:
        found = record.meta.get(NAME)
        space = NO_SPACE
        if found is not None:
            space, vector, *told = found
            self.dim = len(vector)
            self._fh.write(np.asarray(vector, dtype=np.float32).tobytes())
            if told:
                rows, lo, hi, part = told[0]
                first = self._told_fh.tell() // (4 * self.dim)
                self._told_fh.write(np.ascontiguousarray(rows[lo:hi], dtype=np.float32).data)
                blob = part  # (pickled by the stage)
                self._told.extend((len(self._space), first, hi - lo, self._parts_fh.tell(), len(blob)))
                self._parts_fh.write(blob)
        self._space.append(space)
        self._rank.append(rank)

    def parameters(self) -> dict[str, Any]:
        return {"embedder": self.embedder_name}

    def spaces(self) -> np.ndarray:
        return np.frombuffer(self._space, dtype=np.int8)

    def extend(self, saved: SavedIndex, rank: float) -> None:
        """The kept documents of an earlier run have their vectors in its index."""
        count = saved.documents
        docs = np.fromfile(saved.path / "retold.docs.i64", dtype=np.int64)
        dim = int(saved.manifest["levels"][NAME]["dim"])
        vectors = np.fromfile(saved.path / "retold.vectors.f32", dtype=np.float32).reshape(len(docs), dim)
        spaces = saved.path / "retold.spaces.i8"
        space = np.zeros(count, dtype=np.int8)
        space[docs] = np.fromfile(spaces, dtype=np.int8) if spaces.exists() else SEMANTIC
        if len(docs):
            self.dim = int(vectors.shape[1])
            self._fh.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        self._space.frombytes(space.tobytes())
        self._rank.frombytes(np.full(count, rank, dtype=np.float64).tobytes())

    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        """The whole-text vectors of this run's kept documents, and their spaces."""
        self.close()
        space = self.spaces()
        has = space > 0
        if not self.dim:
            return {}
        first = int(has[:start].sum())  # vectors before this run's first document
        has, space = has[start:], space[start:]
        docs = kept[has[kept]]
        row = np.cumsum(has) - 1
        # block by block, each block's pages unmapped after it: a million kept documents' vectors
        # (1 GB) held at once, and their mapped pages, made the run's peak memory
        with open(dest / "retold.vectors.f32", "wb") as fh:
            for lo in range(0, len(docs), _SAVE_BLOCK):
                vectors = np.memmap(self._path, dtype=np.float32, mode="r").reshape(-1, self.dim)
                fh.write(np.asarray(vectors[first + row[docs[lo : lo + _SAVE_BLOCK]]]).tobytes())
                del vectors
        docs.astype(np.int64).tofile(dest / "retold.docs.i64")
        space[docs].astype(np.int8).tofile(dest / "retold.spaces.i8")
        return {"embedder": self.embedder_name, "dim": self.dim, "documents": len(docs)}

    def checkpoint(self) -> dict[str, Any]:
        """Flush the files (the engine fsyncs them) and return what a resumed run starts from."""
        for fh in (self._fh, self._told_fh, self._parts_fh):
            fh.flush()
        return {
            "space": self._space.tobytes(),
            "rank": self._rank.tobytes(),
            "dim": self.dim,
            "size": self._fh.tell(),
            "told": self._told.tobytes(),
            "told_size": self._told_fh.tell(),
            "parts_size": self._parts_fh.tell(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._space = array("b", state["space"])
        self._rank = array("d", state["rank"])
        self.dim = state["dim"]
        self._fh.close()
        self._fh = reopen_at(self._path, state["size"])
        self._told = array("q", state.get("told", b""))
        self._told_fh.close()
        self._told_fh = reopen_at(self._told_path, state.get("told_size", 0))
        self._parts_fh.close()
        self._parts_fh = reopen_at(self._parts_path, state.get("parts_size", 0))

    def close(self) -> None:
        for fh in (self._fh, self._told_fh, self._parts_fh):
            if not fh.closed:
                fh.close()

    def _spilled(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``docs`` (sorted) have a telling the stage made (a mask), and where each of
        those is on disk: (first vector row, rows, parts offset, parts length), a row each."""
        for fh in (self._told_fh, self._parts_fh):
            if not fh.closed:
                fh.flush()
        told = np.frombuffer(self._told, dtype=np.int64).reshape(-1, 5)
        if not len(told) or not self.dim:
            return np.zeros(len(docs), dtype=bool), np.zeros((0, 4), dtype=np.int64)
        at = np.minimum(np.searchsorted(told[:, 0], docs), len(told) - 1)  # (added in order)
        have = told[at, 0] == docs
        return have, told[at[have], 1:]

    def vectors_of(self, docs: np.ndarray) -> np.ndarray:
        """The stored whole-text vectors of ``docs`` (each must have one)."""
        has = self.spaces() > 0
        slot = np.cumsum(has) - 1
        assert has[docs].all()
        vectors = np.memmap(self._path, dtype=np.float32, mode="r").reshape(-1, self.dim)
        return np.asarray(vectors[slot[docs]])

    def candidates(self, space: int, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left, right, cosine) of each active document of ``space`` with its nearest active
        neighbours in it at or above the candidate threshold (:func:`~retold.dedup.neighbours.nearest`)."""
        self.close()
        n = len(self._space)
        docs = np.flatnonzero((self.spaces() == space) & active)
        empty = np.zeros(0, dtype=np.int64)
        if len(docs) < 2 or not self.dim:
            return empty, empty, np.zeros(0)
        has = self.spaces() > 0
        vectors = np.memmap(self._path, dtype=np.float32, mode="r").reshape(-1, self.dim)
        top, cos = Neighbours(Rows(vectors, (np.cumsum(has) - 1)[docs])).search(self.options.neighbours)
        del vectors
        floor = self.options.candidate_threshold
        if space == LEXICAL:
            floor = max(floor, LEXICAL_CANDIDATE)
        ok = (cos >= floor) & (top >= 0)
        if not ok.any():
            return empty, empty, np.zeros(0)
        left = docs[np.repeat(np.arange(len(docs)), top.shape[1]).reshape(top.shape)[ok]]
        right = docs[top[ok]]
        cosine = cos[ok]
        lo_, hi_ = np.minimum(left, right), np.maximum(left, right)
        code, first = np.unique(lo_ * n + hi_, return_index=True)
        return code // n, code % n, cosine[first]

    def decide(self, decisions: Decisions, context: DecideContext) -> Outcome:
        """Mark retold documents among those still kept."""
        stats = self._decide(decisions, context)
        self.close()
        lexical = int((self.spaces()[context.skip_before :] == LEXICAL).sum())
        figures = {
            **stats.to_json(),
            "threshold": gain_threshold(self.options),
            "candidate_threshold": self.options.candidate_threshold,
            "embedder": self.embedder_name,
            "verifier": self.verifier_name,
            "language": "English by the models, other languages by their words"
            if self.english_only
            else "the named models'",
            "lexical_documents": lexical,
        }
        warnings = []
        if stats.long_documents:
            warnings.append(
                f"retold: {stats.long_documents} document{'s have' if stats.long_documents > 1 else ' has'} "
                f"more than {MAX_SENTENCES:,} sentences; the level compared the first {MAX_SENTENCES:,} "
                "of each (levels.retold.long_documents)"
            )
        if lexical:
            warnings.append(
                f"retold: {lexical} document{'s are' if lexical > 1 else ' is'} not in English, which the "
                "default models cover; they are compared by their words (names masked): retellings "
                "that keep much of the wording are found, free rewordings are not. Name models that "
                "cover their language with --embedder (a model2vec model) and --verifier"
            )
        return Outcome(stats.clusters, figures, warnings)

    def _verifier_for(self, space: int) -> Verifier:
        verifier = _space_verifier((space, self.options, self.dim, self.english_only), self._verifier)
        if space != LEXICAL:
            self.verifier_name = getattr(verifier.model, "name", "")
        return verifier

    def _decide(self, decisions: Decisions, context: DecideContext) -> RetoldStats:
        skip_before = context.skip_before
        n = len(self._space)
        assert n == decisions.n, "one space (or none) per document"
        stats = RetoldStats(documents=int((self.spaces()[skip_before:] > 0).sum()))
        active = decisions.reason == 0
        pos = rank_positions(np.frombuffer(self._rank, dtype=np.float64))
        results: dict[tuple[int, int], tuple[RetoldMatch, bool]] = {}
        told: dict[int, Telling] = {}
        for space in (SEMANTIC, LEXICAL):
            left, right, cosine = self.candidates(space, active)
            if skip_before:
                new = np.maximum(left, right) >= skip_before
                left, right, cosine = left[new], right[new], cosine[new]
            stats.candidate_pairs += len(left)
            stats.candidate_documents += len(np.union1d(left, right))
            if len(left):
                self._verify(space, left, right, cosine, pos, context, stats, results, told)
        stats.verified_pairs = len(results)
        if not results:
            return stats
        pairs = np.array(sorted(results), dtype=np.int64).reshape(-1, 2)
        order = np.lexsort((pos[pairs[:, 1]], pos[pairs[:, 0]]))
        vl, vr = pairs[order, 0], pairs[order, 1]
        verified = [results[a, b] for a, b in zip(vl.tolist(), vr.tolist(), strict=True)]
        decisions.add_pairs(
            NAME,
            vl,
            vr,
            np.array([m.order_gain for m, _ in verified]),
            [
                m.evidence(told[a], told[b], sw)
                for (m, sw), a, b in zip(verified, vl.tolist(), vr.tolist(), strict=True)
            ],
        )
        keeper_of, taken, largest = decisions.greedy(NAME, vl, vr)
        notes = decisions.notes_for(NAME)
        gains = np.zeros(len(taken))
        for at, d in enumerate(taken.tolist()):
            k = int(keeper_of[d])
            match, swapped = results[k, d]
            gains[at] = match.order_gain
            notes[d] = match.evidence(told[k], told[d], swapped)
        decisions.mark(NAME, taken, keeper_of[taken], gains)
        stats.clusters = len(np.unique(keeper_of[taken]))
        stats.members = len(taken)
        stats.largest_cluster = largest
        return stats

    def _verify(
        self,
        space: int,
        left: np.ndarray,
        right: np.ndarray,
        cosine: np.ndarray,
        pos: np.ndarray,
        context: DecideContext,
        stats: RetoldStats,
        results: dict[tuple[int, int], tuple[RetoldMatch, bool]],
        told: dict[int, Telling],
    ) -> None:
        """Verify one space's candidate pairs; the verified go into ``results`` as (keeper side,
        other side) by keep rank, and their tellings into ``told``."""
        n, progress = len(self._space), context.progress
        better = pos[left] <= pos[right]
        keep_side = np.where(better, left, right)
        other = np.where(better, right, left)
        docs = np.unique(np.concatenate([keep_side, other]))
        verifier = self._verifier_for(space)
        label = f"retold ({SPACE_NAMES[space]})"
        # the tellings the stage made (the same verifier's), read back; the others made now
        have, where = self._spilled(docs) if space == SEMANTIC and self._own_verifier else (None, None)
        missing = docs if have is None else docs[~have]
        text_of = context.texts(missing)
        made: list[Packed | None] = []
        blocks = range(0, len(missing), _TELLING_BLOCK)
        # cutting into sentences and embedding them is per document: on the run's workers, which
        # build the same verifier from the same options. A transformer spreads itself over the
        # cores already (a copy in each worker would fight it for them); a verifier given in code
        # cannot be built there: both stay here.
        spec = (space, self.options, self.dim, self.english_only)
        _VERIFIERS.clear()
        _VERIFIERS[spec] = verifier
        spread = self._own_verifier and (space == LEXICAL or static_verifier(self.options))
        parallel = context.parallel if spread else map
        jobs = ((spec, [text_of[int(d)] for d in missing[lo : lo + _TELLING_BLOCK]]) for lo in blocks)
        steps = parallel(_tellings_job, jobs)
        for found in progress(steps, f"{label}: sentences ({_TELLING_BLOCK} docs a step)", len(blocks)):
            made.append(found)
            del found
        _VERIFIERS.clear()  # this process keeps no model past the decision
        del text_of
        if have is None or where is None:
            have, where = np.zeros(len(docs), dtype=bool), np.zeros((0, 4), dtype=np.int64)
        tellings, joined = _gathered(have, where, made, (self._told_path, self._parts_path), self.dim)
        del made
        doc_vectors = self.vectors_of(docs)
        flat, words, starts = _one_array(tellings, joined)
        del joined
        # the k-means cells of every sentence being verified, made at most once: the boilerplate
        # check searches its edge sentences in them (where it needs cells), and the stock-sentence
        # check uses them as they are (trained before the stock lines are silenced: a silenced
        # line's zero vector scores 0 in whichever cell it is listed). One training and assignment
        # fewer where both search in cells (pieces' decision 4.75 -> 4.15 s); where the
        # stock-sentence check has nothing to search, the boilerplate check's cells cover every
        # sentence, not its edge sentences alone (slop-score's: trained and assigned in 0.61 s
        # over 245,770 sentences, its own in 0.26 s over 24,038 edge sentences)
        shared: list[Neighbours] = []

        def cells() -> Neighbours:
            if not shared:
                shared.append(Neighbours(flat, cells=RIVAL_CELLS))
            return shared[0]

        silent = boilerplate(
            tellings,
            doc_vectors,
            self.options.boilerplate_docs,
            (flat, starts),
            cells if len(flat) > EXACT_LIMIT else None,
        )
        silent_rows = np.concatenate([starts[k] + lines for k, lines in enumerate(silent)]).astype(np.int64)
        stock_lines = flat[silent_rows].copy()
        flat[silent_rows] = 0.0
        stats.boilerplate_sentences += len(silent_rows)
        stats.long_documents += sum(t.cut for t in tellings)
        mine = dict(zip(docs.tolist(), tellings, strict=True))
        threshold = gain_floor(self.options)

        def scored(at: np.ndarray, message: str, min_score: float = -np.inf) -> np.ndarray:
            """The order gains of the candidate pairs ``at`` (-inf: failed a gate), on both cores."""
            out = np.full(len(at), -np.inf)
            blocks = range(0, len(at), _PAIR_BLOCK)
            with one_blas_thread():
                for lo in progress(blocks, f"{label}: {message} ({_PAIR_BLOCK} a step)", len(blocks)):
                    p = at[lo : lo + _PAIR_BLOCK]
                    out[lo : lo + len(p)] = _gains(
                        flat,
                        words,
                        starts,
                        np.searchsorted(docs, keep_side[p]),
                        np.searchsorted(docs, other[p]),
                        pair_seed(keep_side[p], other[p], n).astype(np.int64),
                        float(verifier.margin),
                        float(FULL_SENTENCE_WORDS),
                        float(MIN_ANCHOR),
                        MIN_ALIGNED,
                        float(threshold),
                        SHUFFLES,
                        min_score,
                    )
            return out

        gains = scored(np.arange(len(keep_side)), "pairs")
        # a pair that is one text told again nearly word for word (whole-text cosine >= WHOLE_COSINE)
        # and failed with its boilerplate silenced is scored again with its stock lines, and must then
        # tell most of itself again (aligned >= WHOLE_ALIGNED): at scale every sentence of a mosaic
        # recurs elsewhere and would be silenced
        again = np.flatnonzero((cosine >= WHOLE_COSINE) & (gains < threshold))
        # (only where either document had a line silenced: otherwise its sentences are as they
        # were, and it fails again; slop-score scored 9,393 pairs again, 0.66 s, where 1,201 can pass)
        has_silent = np.array([len(lines) > 0 for lines in silent], dtype=bool)
        again = again[
            has_silent[np.searchsorted(docs, keep_side[again])]
            | has_silent[np.searchsorted(docs, other[again])]
        ]
        if len(again) and len(silent_rows):
            flat[silent_rows] = stock_lines
            gains[again] = scored(again, "near-verbatim pairs", min_score=WHOLE_ALIGNED)
            flat[silent_rows] = 0.0
        else:
            again = again[:0]
        # the passing pairs' alignments, as the numba pass made them (a near-verbatim pair's with
        # its stock lines): their sentence pairs are the evidence and the name mapping's votes
        passed = np.flatnonzero(gains >= threshold)
        told_again = np.isin(passed, again)
        arrays = (docs, flat, words, starts)
        by_pair = self._matches(passed[~told_again], gains, keep_side, other, arrays, verifier)
        if told_again.any():
            flat[silent_rows] = stock_lines
            by_pair.update(self._matches(passed[told_again], gains, keep_side, other, arrays, verifier))
            flat[silent_rows] = 0.0
        found = {(int(keep_side[p]), int(other[p])): by_pair[p] for p in sorted(by_pair)}
        ok_left = [a for a, _ in found]
        ok_right = [b for _, b in found]
        ok_left, ok_right = self._distinct(ok_left, ok_right, found, docs, mine, (flat, starts), shared)
        wanted = gain_threshold(self.options)  # last, on the gain as reported (see gain_floor)
        for a, b in zip(ok_left, ok_right, strict=True):  # names mapped only for the verified
            match, swapped = found[a, b]
            if round(float(match.order_gain), 4) < wanted:
                continue
            verifier.map_names(match, mine[a], mine[b], swapped)
            results[a, b] = found[a, b]
            told[a], told[b] = mine[a], mine[b]

    @staticmethod
    def _matches(
        at: np.ndarray,
        gains: np.ndarray,
        keep_side: np.ndarray,
        other: np.ndarray,
        arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        verifier: Verifier,
    ) -> dict[int, tuple[RetoldMatch, bool]]:
        """The match of each candidate pair ``at`` that the numba pass passed, with its gain from
        that pass (its 16 shuffles are not done again), by the pair's number. ``arrays``: the
        verified documents and :func:`_one_array`'s vectors, words and starts of their tellings.
        :func:`_alignments` aligns them over both cores: one pair at a time in numpy was 3 s of
        slop-score's decision."""
        if not len(at):
            return {}
        docs, flat, words, starts = arrays
        left = np.searchsorted(docs, keep_side[at])
        right = np.searchsorted(docs, other[at])
        sizes = np.minimum(starts[left + 1] - starts[left], starts[right + 1] - starts[right])
        offsets = np.zeros(len(at) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        with one_blas_thread():
            at_x, at_y, cosine, count, score, anchor, swapped = _alignments(
                flat, words, starts, left, right, float(verifier.margin), float(FULL_SENTENCE_WORDS), offsets
            )
        out = {}
        for k, (p, lo, c) in enumerate(zip(at.tolist(), offsets[:-1].tolist(), count.tolist(), strict=True)):
            if c < MIN_ALIGNED or anchor[k] < MIN_ANCHOR:  # (the numba pass checked these)
                continue
            hi = lo + c
            pairs = list(zip(at_x[lo:hi].tolist(), at_y[lo:hi].tolist(), cosine[lo:hi].tolist(), strict=True))
            match = RetoldMatch(float(gains[p]), float(score[k]), pairs, anchor=float(anchor[k]))
            out[p] = (match, bool(swapped[k]))
        return out

    @staticmethod
    def _distinct(
        left: list[int],
        right: list[int],
        results: dict[tuple[int, int], tuple[RetoldMatch, bool]],
        docs: np.ndarray,
        told: dict[int, Telling],
        arrays: tuple[np.ndarray, np.ndarray] | None = None,
        made: list[Neighbours] | None = None,
    ) -> tuple[list[int], list[int]]:
        """Keep the verified pairs whose best sentence is their own (:data:`MIN_DISTINCT`).
        ``arrays``: :func:`_one_array`'s vectors and starts of ``docs``' tellings, if made already;
        ``made``: an index over those vectors made already (for the boilerplate check), if any.

        A pair's rivals are every other document being verified, less the pair's group of
        verified tellings (a sentence that three rewrites of one text share is evidence, not a
        rival): each aligned sentence's closest sentence among all of theirs
        (:meth:`~retold.dedup.neighbours.Neighbours.best_outside`) is its best rival. Two stories built
        from one stock of sentences ("Stay in bed, said the GP firmly") share a sentence that
        others tell too; a retelling keeps one of its own.

        A pair that tells most of itself again (aligned >= :data:`WHOLE_ALIGNED`) is kept whatever
        its rivals, so its sentences are not searched (``distinct`` None): where a generator wrote
        many rewrites of each text, nearly every pair is one, and the search (cells over
        every sentence) was half the level's time.
        """
        if not left:
            return left, right
        group = _groups(left, right)  # of every verified pair: rivals exclude the whole group
        for a, b in zip(left, right, strict=True):
            if results[a, b][0].aligned >= WHOLE_ALIGNED:
                results[a, b][0].distinct = None
        needs = [(a, b) for a, b in zip(left, right, strict=True) if results[a, b][0].distinct is not None]
        if not needs:
            return left, right
        label = np.full(len(docs), -1, dtype=np.int64)  # each document's group (-1: none)
        slot = {int(d): k for k, d in enumerate(docs.tolist())}
        for d, g in group.items():
            label[slot[d]] = g
        vectors, start = arrays if arrays is not None else _one_array([told[int(d)] for d in docs])[::2]
        owner = np.repeat(np.arange(len(docs)), np.diff(start))
        # the sentences that take part in a verified pair's alignment (each aligned pair's two
        # rows, its cosine and its weight, as distinct_anchor weighs them): their nearest sentences
        xs, ys, raw, weight = [], [], [], []
        for a, b in needs:
            match, swapped = results[a, b]
            sx, sy = (b, a) if swapped else (a, b)
            i = np.array([p[0] for p in match.pairs], dtype=np.int64)
            j = np.array([p[1] for p in match.pairs], dtype=np.int64)
            xs.append(start[slot[sx]] + i)
            ys.append(start[slot[sy]] + j)
            raw.append(np.array([p[2] for p in match.pairs], dtype=np.float64))
            weight.append(
                np.minimum(1.0, np.minimum(told[sx].words[i], told[sy].words[j]) / FULL_SENTENCE_WORDS)
            )
        rows = np.unique(np.concatenate(xs + ys))
        index = made[0] if made else Neighbours(vectors, cells=RIVAL_CELLS)
        rival = _rivals(index, vectors, rows, owner, label, slice(0, RIVAL_FIRST))
        if index.in_cells:
            # the rest of the cells only for the sentences of aligned pairs that may still lead by
            # MIN_DISTINCT: a pair's rival only rises with more cells searched, so an aligned pair
            # already short of it (the most, on the nearest cell alone) stays short, and its pair's
            # fate and its distinct value as reported are a search of every cell's (to the last
            # bits of products made in matrices of other shapes)
            x, y = np.concatenate(xs), np.concatenate(ys)
            bound = np.maximum(rival[np.searchsorted(rows, x)], rival[np.searchsorted(rows, y)])
            lead = (np.concatenate(raw) - np.maximum(bound, 0.0)) * np.concatenate(weight)
            live = lead >= MIN_DISTINCT - 1e-6  # (a hair under: a rounding never drops one)
            more = np.unique(np.concatenate([x[live], y[live]]))
            if len(more):
                at = np.searchsorted(rows, more)
                rest = _rivals(index, vectors, more, owner, label, slice(RIVAL_FIRST, None))
                rival[at] = np.maximum(rival[at], rest)
        at = np.searchsorted(rows, np.arange(len(vectors)))  # row → its line in rival (for rows)
        keep_left, keep_right = [], []
        for a, b in zip(left, right, strict=True):
            match, swapped = results[a, b]
            if match.distinct is None:  # told again whole: kept
                keep_left.append(a)
                keep_right.append(b)
                continue
            sx, sy = (b, a) if swapped else (a, b)
            best = rival[
                at[
                    np.r_[
                        [start[slot[sx]] + p[0] for p in match.pairs],
                        [start[slot[sy]] + p[1] for p in match.pairs],
                    ]
                ]
            ]
            k = len(match.pairs)
            match.distinct = distinct_anchor(match, told[sx], np.maximum(best[:k], best[k:]), told[sy])
            if match.distinct >= MIN_DISTINCT:
                keep_left.append(a)
                keep_right.append(b)
        return keep_left, keep_right


#: Cells (√n of them) of the index the stock-sentence check searches past EXACT_LIMIT sentences.
#: It asks about fewer sentences than it holds (slop-score: 75,425 of 245,770), so building
#: the cells weighs more than searching them: against the exact search, √n cells found the exact
#: rival for 77.8% of the queries and 2√n (every other search's) for 72.4%, in 0.6 s of building
#: against 1.8 s, the search 1.5 s either way (0.7√n: 80.7%, 0.4 s, 1.8 s).
RIVAL_CELLS = 1.0
#: The stock-sentence check searches each sentence's nearest this many cells first, then the rest
#: only for the sentences of aligned pairs still able to lead by MIN_DISTINCT: on slop-score,
#: 3.2% of 75,425 sentences after the nearest cell, so 15% of the products of every cell's search.
RIVAL_FIRST = 1


def _rivals(
    index: Neighbours,
    vectors: np.ndarray,
    rows: np.ndarray,
    owner: np.ndarray,
    label: np.ndarray,
    probes: slice = slice(None),
) -> np.ndarray:
    """For each sentence ``rows[i]`` the best cosine of a sentence of another group's document
    (-inf where none is searched; past the index's exact limit, among the sentence's cells, the
    ``probes`` of them nearest first). ``owner``: each sentence's document; ``label``: each
    document's group (the pair's documents share one; -1 for a document in none)."""
    group = label[owner]
    return index.best_outside(Rows(vectors, rows), group[rows], group, probes).astype(np.float64)


class SavedSubset:
    """The level's part of a recut's index/ (:class:`~retold.dedup.level.Replay`): the scan's
    saved vectors of the documents kept now. ``worded``: which documents have a word (the scan
    saved a vector for each kept one that has). A document kept now that the scan dropped had no
    vector saved: the level is then left out of the new index, with a warning (an ``--against``
    run with this level refuses that folder until it is scanned again)."""

    def __init__(self, path: Path, entry: dict[str, Any], worded: np.ndarray) -> None:
        self.path = path
        self.entry = entry
        self.worded = worded
        self.warnings: list[str] = []

    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        if not self.entry:
            return {}
        docs = np.fromfile(self.path / f"{NAME}.docs.i64", dtype=np.int64)
        want = kept[self.worded[kept]]
        rows = np.searchsorted(docs, want)
        inside = np.minimum(rows, max(len(docs) - 1, 0))
        found = (rows < len(docs)) & (docs[inside] == want) if len(docs) else np.zeros(len(want), bool)
        if not found.all():
            self.warnings.append(
                f"recut: index/ holds no {NAME} vectors: {int((~found).sum()):,} documents kept now were "
                "dropped by the scan, which saved no vector of them; a later --against run with the "
                f"{NAME} level refuses this folder until it is scanned again"
            )
            return {}
        dim = int(self.entry["dim"])
        vectors = np.memmap(self.path / f"{NAME}.vectors.f32", dtype=np.float32, mode="r").reshape(-1, dim)
        spaces = np.fromfile(self.path / f"{NAME}.spaces.i8", dtype=np.int8)
        with open(dest / f"{NAME}.vectors.f32", "wb") as fh:
            for lo in range(0, len(rows), 65536):
                fh.write(np.asarray(vectors[rows[lo : lo + 65536]]).tobytes())
        del vectors
        want.astype(np.int64).tofile(dest / f"{NAME}.docs.i64")
        spaces[rows].astype(np.int8).tofile(dest / f"{NAME}.spaces.i8")
        return {**self.entry, "documents": len(want)}


LEVEL = Level(
    name=NAME,
    about="the same story told again with other names and words: names masked, sentence alignment in order",
    options=RetoldOptions,
    stage=RetoldEmbed,
    index=RetoldIndex,
    on=True,
    drops=False,
    score="order gain: how much better the sentences align in their order than shuffled (not a percentage)",
    replay=Replay(
        "retold_threshold", lambda options: (gain_floor(options), gain_threshold(options)), SavedSubset
    ),
    work_space=tellings_space,
)

__all__ = [
    "RetoldEmbed",
    "RetoldIndex",
    "RetoldMatch",
    "RetoldOptions",
    "Verifier",
    "distinct_anchor",
]
