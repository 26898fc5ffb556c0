"""Static embeddings (model2vec): a token table looked up and averaged, no transformer at run time.

The default is distilled from the default transformer (all-MiniLM-L6-v2) with model2vec's
``distill`` on first use — offline, ~12 s on 2 cores — and saved under ``cache_dir()/static/``;
later runs load it in a fraction of a second. A model2vec model on disk or on the hub can be named
instead (``--embedder static:PATH``).

The whole text counts: the tokenizer a model2vec model saves truncates at 512 tokens, and that is
switched off (it had cut 78% of tinystories_ru's stories, 615 tokens on average). With a BERT
tokenizer each distinct word is tokenised once per run and its ids reused
(:meth:`StaticEmbedder._word_numbers`), bit-identical to tokenising whole texts and ~3× faster.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from numba import njit, prange

from retold.embed.base import DEFAULT_MODEL, cache_dir, normalise, quiet_loading, resolve_model
from retold.text import WordTable, summed_rows

_LOCK = threading.Lock()


#: Characters Python's ``str.split`` splits at and BERT does not (control characters BERT deletes,
#: line and paragraph separators it keeps): a text holding one takes the whole-text path.
_ODD_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
#: distinct words remembered per embedder (~200 bytes each); past it the memory starts over
WORD_CACHE = 200_000
#: new words tokenised as one text (joined by spaces): 1,024 was fastest of 1,024-16,384
_WORD_CHUNK = 1024


class StaticEmbedder:
    """A model2vec ``StaticModel``; ``encode`` gives unit rows."""

    def __init__(self, model: object, name: str) -> None:
        self.model = model
        self.name = name
        #: The folder retold distilled the model into (None for a model named by the user).
        self.cache_folder: Path | None = None
        self.dim = int(model.dim)  # type: ignore[attr-defined]
        tokenizer = getattr(model, "tokenizer", None)
        if tokenizer is not None:  # saved tokenizers carry truncation at 512 tokens: the whole text counts
            tokenizer.no_truncation()
            tokenizer.no_padding()
        self._words = WordTable()  # word → its number in _starts/_lengths
        self._starts = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._ids = np.zeros(0, dtype=np.int64)  # the words' token ids, one after another
        self._word_list: list[str] = self._words.by_number  # the words by number
        self._generation = 0  # how often the word table started over
        # encode_tallied's one tally function, the table's generation, its rows by word number
        self._tallies: tuple[Callable[[list[str]], np.ndarray] | None, int, np.ndarray] = (
            None,
            -1,
            np.zeros((0, 0), dtype=np.int64),
        )
        spec = _spec(tokenizer)
        self._bert = _is_bert_pre_tokenised(spec)
        self._lock = threading.Lock()  # the word table grows in place
        # added tokens ("[UNK]") are matched in the raw text before it is split: a text holding
        # one takes the whole-text path
        added = sorted({t["content"] for t in spec.get("added_tokens") or [] if t.get("content")})
        self._added = re.compile("|".join(map(re.escape, added)), re.IGNORECASE) if added else None

    @classmethod
    def load(cls, spec: str | None = None) -> StaticEmbedder:
        """A model2vec model by path or hub name; ``None`` distils (once) from the default model."""
        from model2vec import StaticModel

        if spec is None or spec == DEFAULT_MODEL or _is_transformer(spec):
            source = spec or DEFAULT_MODEL
            path = distilled(source)
            found = cls(_own_model(path), f"model2vec distilled from {source}")
            found.cache_folder = path  # retold's own folder: figures fixed by the model keep there
            return found
        return cls(StaticModel.from_pretrained(resolve_model(spec)), spec)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Mean of the token vectors of each whole text (no truncation), unit length."""
        return self._encode(texts)[0]

    def encode_tallied(
        self, texts: list[str], tally: Callable[[list[str]], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode`, and for each text the sum of ``tally``'s rows over its words (split at
        whitespace): ``tally(words)`` gives each word a row of counts (``tally([])`` an empty row
        block of that width), and sees each distinct word once while the word table lasts.
        Counting what a text's words are (the English share of a sentence) costs a second split
        and regex pass per text otherwise; here it rides on the split the encoding does anyway,
        where :attr:`splits_words` (elsewhere each text is split and tallied again)."""
        vectors, sums, _ = self._encode(texts, tally)
        assert sums is not None
        return vectors, sums

    def encode_runs(
        self,
        texts: list[str],
        runs: np.ndarray | None,
        tally: Callable[[list[str]], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """:meth:`encode` (:meth:`encode_tallied` with a ``tally``), and the vector of each run of consecutive texts
        (``texts[runs[k]:runs[k + 1]]``: a document's sentences) as one text: pooled over the
        run's words as they were looked up for its texts, so a document's vector costs no second
        split or lookup. It is what :meth:`encode` gives any text whose whitespace-split words are
        the run's words in order, bit for bit, where every text of the run is split at whitespace
        (:meth:`splits`); ``pooled[k]`` says whether run ``k``'s were (else its row is not its
        vector). Returns (vectors, tallies, run vectors, pooled); ``runs`` None: no runs (None)."""
        vectors, sums, whole = self._encode(texts, tally, runs)
        return (vectors, sums, None, None) if whole is None else (vectors, sums, whole[0], whole[1])

    def splits(self, text: str) -> bool:
        """Whether :meth:`encode` pools ``text`` from its whitespace-split words (through the
        word table), not from the tokenizer's pass over the whole text."""
        return self.splits_words and not (
            _ODD_SPACE.search(text) or (self._added is not None and self._added.search(text))
        )

    @property
    def splits_words(self) -> bool:
        """Whether texts are encoded through the word table (a BERT tokenizer and a plain token
        table): then :meth:`encode_tallied` costs little more than :meth:`encode`."""
        return self._bert and self._table is not None

    def _encode(
        self,
        texts: list[str],
        tally: Callable[[list[str]], np.ndarray] | None = None,
        runs: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
        sums = None
        grouped = None
        if runs is not None:  # (no run pooled unless every text of it is split below)
            grouped = (
                np.zeros((len(runs) - 1, self.dim), dtype=np.float32),
                np.zeros(len(runs) - 1, dtype=bool),
            )
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), _tally_of(tally, [], []), grouped
        if self._table is None:  # a model2vec variant this fast path does not cover
            vectors = self.model.encode(  # type: ignore[attr-defined]
                list(texts), max_length=None, use_multiprocessing=False, show_progress_bar=False
            )
            return normalise(vectors), _tally_of(tally, list(texts), range(len(texts))), grouped
        unk = getattr(self.model, "unk_token_id", None)  # model2vec leaves unknown tokens out
        unk = -1 if unk is None else int(unk)
        texts = list(texts)
        out = None  # (the pooled rows themselves where every text is split: no second array)
        whole = [
            i
            for i, t in enumerate(texts)
            if not self._bert or _ODD_SPACE.search(t) or (self._added is not None and self._added.search(t))
        ]
        split = sorted(set(range(len(texts))).difference(whole))
        if tally is not None:
            sums = _tally_of(tally, texts, whole)  # the whole-text path's texts split here
        if split:
            with self._lock:
                flat, offsets = self._word_numbers([texts[i] for i in split])
                if grouped is not None and runs is not None:
                    # each run's words: from its first split text's first word to the next run's
                    # (consecutive: pooled in the texts' pass); a run with a text not split is not
                    # pooled
                    is_split = np.zeros(len(texts), dtype=np.int64)
                    is_split[split] = 1
                    before = np.concatenate([[0], np.cumsum(is_split)])  # split texts before each
                    pooled, grouped_rows = _pool_runs(
                        flat, offsets, before[runs], self._starts, self._lengths, self._ids, self._table, unk
                    )
                    grouped = (grouped_rows, (before[runs[1:]] - before[runs[:-1]]) == np.diff(runs))
                else:
                    pooled = _pool_words(
                        flat, offsets, self._starts, self._lengths, self._ids, self._table, unk
                    )
                if len(split) == len(texts):
                    out = pooled
                else:
                    out = np.zeros((len(texts), self.dim), dtype=np.float32)
                    out[split] = pooled
                if tally is not None and len(flat):
                    assert sums is not None
                    sums[split] = summed_rows(self._tallied(tally), flat, offsets)
        if whole:
            flat, offsets = self._token_ids([texts[i] for i in whole])
            each = np.arange(len(flat), dtype=np.int64)  # every token its own word
            if out is None:
                out = np.zeros((len(texts), self.dim), dtype=np.float32)
            out[whole] = _pool_words(each, offsets, each, np.ones_like(each), flat, self._table, unk)
        if grouped is not None:
            grouped = (normalise(grouped[0], in_place=True), grouped[1])
        assert out is not None
        return normalise(out, in_place=True), sums, grouped

    def _tallied(self, tally: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """``tally``'s rows for every word of the word table, by word number (new words tallied
        now). Called with the lock held."""
        known, generation, have = self._tallies
        if known is not tally or generation != self._generation:  # a new function, or a new table
            have = np.zeros((0, np.asarray(tally([])).shape[-1]), dtype=np.int64)
        if len(have) < len(self._word_list):
            rows = np.asarray(tally(self._word_list[len(have) :]), dtype=np.int64)
            have = np.concatenate([have, rows])
        self._tallies = (tally, self._generation, have)
        return have

    def _token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every text's token ids, one after another, and where each text's start."""
        encodings = self.model.tokenizer.encode_batch_fast(texts, add_special_tokens=False)  # type: ignore[attr-defined]
        ids = [e.ids for e in encodings]
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids)), out=offsets[1:])
        return np.fromiter(
            itertools.chain.from_iterable(ids), dtype=np.int64, count=int(offsets[-1])
        ), offsets

    def _words_token_ids(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_token_ids` of whitespace-free words, tokenised as a few long texts of words
        joined by spaces, each token given to the word its offset falls in. The same ids (a BERT
        tokenizer never looks across whitespace) at ~2.6x the speed: 187,056 distinct slop-score
        words took 1.24 s one text each (an encoding object per word) and 0.47 s joined."""
        counts = np.zeros(len(words), dtype=np.int64)
        ids: list[np.ndarray] = []
        chunks = range(0, len(words), _WORD_CHUNK)
        texts = [" ".join(words[lo : lo + _WORD_CHUNK]) for lo in chunks]
        encodings = self.model.tokenizer.encode_batch(texts, add_special_tokens=False)  # type: ignore[attr-defined]
        for lo, encoding in zip(chunks, encodings, strict=True):
            part = words[lo : lo + _WORD_CHUNK]
            starts = np.zeros(len(part), dtype=np.int64)  # where each word starts in the joined text
            np.cumsum(
                np.fromiter(map(len, part[:-1]), dtype=np.int64, count=len(part) - 1) + 1, out=starts[1:]
            )
            at = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)[:, 0]
            counts[lo : lo + len(part)] = np.bincount(
                np.searchsorted(starts, at, side="right") - 1, minlength=len(part)
            )
            ids.append(np.array(encoding.ids, dtype=np.int64))
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return (np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)), offsets

    def _word_numbers(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every text's words as numbers into the word table (new words tokenised, in one batch).

        A BERT tokenizer (normaliser, ``BertPreTokenizer``, WordPiece) never looks across
        whitespace, so each distinct word is tokenised once and its ids reused: the same tokens,
        in the same order, as the whole text gives (tests/embed compare them on HANNA and
        tinystories_ru, and on odd characters). Why not the tokenizer on whole texts: on
        tinystories_ru (615 tokens a story) it took ~250 µs a story on 2 cores; splitting and
        looking up takes ~40 µs, and a corpus has few distinct words (70k in 14,753 stories).
        The split and the lookup are :class:`~retold.text.WordTable`' pass over the texts' code points.
        """
        if len(self._words) > WORD_CACHE:
            self._words = WordTable()
            self._word_list = self._words.by_number
            self._generation += 1
            self._starts = self._lengths = self._ids = np.zeros(0, dtype=np.int64)
        known = self._words
        had = len(known)
        flat, offsets = known.numbers(texts)
        new = known.by_number[had:]
        if new:
            ids, starts = self._words_token_ids(new)
            self._starts = np.concatenate([self._starts, len(self._ids) + starts[:-1]])
            self._lengths = np.concatenate([self._lengths, np.diff(starts)])
            self._ids = np.concatenate([self._ids, ids])
        return flat, offsets

    @property
    def _table(self) -> np.ndarray | None:
        """The token table as float32, when the model is a plain mean of token vectors."""
        if not hasattr(self, "_table32"):
            m = self.model
            plain = getattr(m, "weights", None) is None and getattr(m, "token_mapping", None) is None
            plain = (
                plain
                and hasattr(m, "tokenize")
                and str(getattr(m, "pooling", "mean")).lower().endswith("mean")
            )
            self._table32 = np.ascontiguousarray(m.embedding, dtype=np.float32) if plain else None  # type: ignore[attr-defined]
        return self._table32

    encode_short = encode  # sentences: the same lookup


def _tally_of(
    tally: Callable[[list[str]], np.ndarray] | None, texts: list[str], which: Iterable[int]
) -> np.ndarray | None:
    """The texts' tallies, summed over their words, for the texts ``which`` (the others zero)."""
    if tally is None:
        return None
    which = list(which)
    width = np.asarray(tally([])).shape[-1]  # a tally gives (words, width) rows
    sums = np.zeros((len(texts), width), dtype=np.int64)
    for i in which:
        words = texts[i].split()
        if words:
            sums[i] = np.asarray(tally(words), dtype=np.int64).sum(axis=0)
    return sums


@njit(cache=True, nogil=True)
def _add_words(row, flat, lo, hi, starts, lengths, ids, table, unk):  # type: ignore[no-untyped-def]
    """Add the token vectors of words ``flat[lo:hi]`` (unknown tokens left out) to ``row``, a
    component at a time (the same sums in the same order as adding the row as an array, which
    numba ran 1.5x slower: slop-score's sentences 0.11 -> 0.07 s); returns how many were added."""
    count = 0
    dim = table.shape[1]
    for p in range(lo, hi):
        word = flat[p]
        for t in range(starts[word], starts[word] + lengths[word]):
            token = ids[t]
            if token == unk:
                continue
            vector = table[token]
            for k in range(dim):
                row[k] += vector[k]
            count += 1
    return count


@njit(cache=True, nogil=True)
def _mean(row, count):  # type: ignore[no-untyped-def]
    if count:
        for k in range(row.shape[0]):
            row[k] /= count


@njit(cache=True, nogil=True, parallel=True)
def _pool_words(flat, offsets, starts, lengths, ids, table, unk):  # type: ignore[no-untyped-def]
    """Mean token vector of each text, unknown tokens left out (as model2vec does). A text is a
    run of words (``flat[offsets[d]:offsets[d + 1]]``), a word a run of token ids
    (``ids[starts[w]:starts[w] + lengths[w]]``); whole texts pass each token as its own word.
    model2vec's own ``encode`` does this per text in numpy: 543 µs a story against ~270 µs here,
    tokenising whole texts included (tinystories_ru, 2 cores)."""
    n = offsets.shape[0] - 1
    out = np.zeros((n, table.shape[1]), dtype=np.float32)
    for d in prange(n):
        _mean(out[d], _add_words(out[d], flat, offsets[d], offsets[d + 1], starts, lengths, ids, table, unk))
    return out


@njit(cache=True, nogil=True, parallel=True)
def _pool_runs(flat, offsets, runs, starts, lengths, ids, table, unk):  # type: ignore[no-untyped-def]
    """:func:`_pool_words` of each text and of each run of consecutive texts (``runs[g]:runs[g +
    1]``) as one text: a run's row adds its texts' rows' sums, which are not its tokens' sums in
    order, so it adds the tokens again, while they are in the cache: 1,024 slop-score stories'
    sentences 0.18 s on a core, against 0.25 s for a second pass over the documents' words;
    every row has the bits of :func:`_pool_words` of it alone."""
    n = offsets.shape[0] - 1
    dim = table.shape[1]
    out = np.zeros((n, dim), dtype=np.float32)
    whole = np.zeros((runs.shape[0] - 1, dim), dtype=np.float32)
    for g in prange(runs.shape[0] - 1):
        total = 0
        for d in range(runs[g], runs[g + 1]):
            lo, hi = offsets[d], offsets[d + 1]
            _mean(out[d], _add_words(out[d], flat, lo, hi, starts, lengths, ids, table, unk))
            total += _add_words(whole[g], flat, lo, hi, starts, lengths, ids, table, unk)
        _mean(whole[g], total)
    return out, whole


def _own_model(path: Path) -> object:
    """The model2vec ``StaticModel`` retold distilled into ``path``, read as ``from_pretrained``
    reads a local folder (its vectors, tokenizer and config) without its loader, whose module
    imports huggingface_hub's model-card and download code (the load 0.29 -> 0.13 s in each of a
    run's processes; a HANNA-size scan is ~2 s). A folder of another layout goes through
    ``from_pretrained``."""
    from model2vec import StaticModel

    files = [path / n for n in ("model.safetensors", "tokenizer.json", "config.json")]
    if not all(f.is_file() for f in files):
        return StaticModel.from_pretrained(path)
    import safetensors
    from tokenizers import Tokenizer

    with safetensors.safe_open(str(files[0]), framework="numpy") as tensors:
        names = set(tensors.keys())
        if names - {"embeddings", "weights", "mapping"} or "embeddings" not in names:
            return StaticModel.from_pretrained(path)
        vectors = tensors.get_tensor("embeddings")
        weights = tensors.get_tensor("weights") if "weights" in names else None
        mapping = tensors.get_tensor("mapping") if "mapping" in names else None
    config = json.loads(files[2].read_text(encoding="utf-8"))
    return StaticModel(
        vectors=vectors,
        tokenizer=Tokenizer.from_file(str(files[1])),
        config=config,
        normalize=config.get("normalize", False),
        weights=weights,
        token_mapping=mapping,
        max_length=config.get("max_length", 512),
    )


def _spec(tokenizer: object) -> dict:
    """The tokenizer's JSON description (empty when it has none)."""
    try:
        return json.loads(tokenizer.to_str())  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, TypeError, ValueError):
        return {}


def _is_bert_pre_tokenised(spec: dict) -> bool:
    """Whether the tokenizer (its JSON ``spec``) never looks across whitespace (BERT's normaliser
    and pre-tokeniser, WordPiece): then words can be tokenised one by one."""
    return (
        (spec.get("pre_tokenizer") or {}).get("type") == "BertPreTokenizer"
        and (spec.get("normalizer") or {}).get("type") in ("BertNormalizer", None)
        and (spec.get("model") or {}).get("type") == "WordPiece"
    )


def _is_transformer(spec: str) -> bool:
    """Whether ``spec`` names a sentence-transformers model (to distil) rather than a model2vec one."""
    path = Path(resolve_model(spec))
    return (path / "config.json").exists() and (path / "modules.json").exists()


def distilled(source: str = DEFAULT_MODEL) -> Path:
    """The cached static model distilled from ``source``, made now if missing (atomically)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")
    target = cache_dir() / "static" / slug
    if (target / "model.safetensors").exists():
        return target
    with _LOCK:
        if (target / "model.safetensors").exists():
            return target
        os.environ.setdefault("HF_HUB_OFFLINE", "1" if Path(resolve_model(source)).exists() else "0")
        from model2vec.distill import distill

        print(
            f"retold: making the static model from {source} (once, about 15 s; kept in {target})",
            file=sys.stderr,
            flush=True,
        )
        from model2vec.distill import inference

        bar = inference.tqdm  # its progress bar writes ~110 lines to a log: this one line says it
        inference.tqdm = functools.partial(bar, disable=True)
        try:
            with quiet_loading():
                model = distill(model_name=resolve_model(source), pca_dims=256, trust_remote_code=False)
        finally:
            inference.tqdm = bar
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
        try:
            model.save_pretrained(str(tmp))
            try:
                tmp.rename(target)
            except OSError:  # another process finished first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
