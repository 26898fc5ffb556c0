"""Plain-text helpers shared by the semantic stages: sentences and words.

>>> sentences('He sat down. "Who are you?" she asked.\\n\\nA new day. Ok.')
['He sat down.', '"Who are you?" she asked.', 'A new day. Ok.']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import numpy as np
from numba import njit

# a sentence ends at . ! ? … (and one closing quote or bracket) followed by space (group 1: the space
# it splits at), or at a blank line. The mark is matched, not looked behind for: lookbehinds tried
# at every character cost 0.24 ms a slop-score story, this 0.09 ms (the same pieces: tests/test_text.py
# on ../shared/data's English sets; once, by hand, on 19,824 texts with tinystories_ru's)
_SENTENCE_END = re.compile(r"[.!?…\n](?:(?<=[.!?…])[\"'»”’)\]]?(\s+)|(?<=\n)\s*\n)")
#: A word: letters, with inner apostrophes or hyphens (digits and punctuation are not words).
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
MIN_SENTENCE_WORDS = 3


class PieceValues(dict):  # type: ignore[type-arg]
    """A value of each whitespace-separated piece of text (``value(piece)``: its word count, its
    English tally), remembered, so that a text's total is one lookup a piece at C speed
    (:meth:`total`): a word never spans whitespace, so a text's value is the sum of its pieces'.
    Pieces of up to ``longest`` characters are remembered (a script written without spaces makes
    whole sentences single pieces, which recur rarely), ``most`` of them at once."""

    def __init__(self, value: Callable[[str], int], longest: int = 32, most: int = 200_000) -> None:
        super().__init__()
        self.value, self.longest, self.most = value, longest, most

    def __missing__(self, piece: str) -> int:
        found = self.value(piece)
        if len(piece) <= self.longest:
            if len(self) >= self.most:
                self.clear()
            self[piece] = found
        return found

    def total(self, pieces: Iterable[str]) -> int:
        return sum(map(self.__getitem__, pieces))


def _pieces(text: str) -> list[str]:
    """``text`` split where a sentence ends (the whitespace there dropped)."""
    return [text[a:b] for a, b in _piece_spans(text)]


def _counted_words(text: str) -> int:
    """:func:`word_count`, from the counts of its whitespace-separated pieces, each counted once
    while remembered: half the cost of a regex pass per sentence."""
    return _COUNTED.total(text.split())


def _word_count_of_piece(piece: str) -> int:
    return len(WORD.findall(piece))


_COUNTED = PieceValues(_word_count_of_piece)


def sentences(text: str) -> list[str]:
    """The text's sentences; a fragment of fewer than 3 words joins the sentence before it."""
    return counted_sentences(text)[0]


def counted_sentences(text: str) -> tuple[list[str], list[int]]:
    """:func:`sentences` and each one's :func:`word_count`, counted once (a fragment joins its
    sentence with a space, which no word spans, so the counts add up).

    >>> counted_sentences("It rained. Oh well. Then the sun came out.")
    (['It rained. Oh well.', 'Then the sun came out.'], [4, 5])
    """
    return counted_sentences_each([text])[0]


def counted_sentences_each(texts: list[str]) -> list[tuple[list[str], list[int]]]:
    """:func:`counted_sentences` of each text, the sentence ends found, the pieces stripped and
    their words counted in one numba pass over the texts' code points (:func:`_sentence_spans`,
    which reads :data:`_SENTENCE_END`, whitespace and :data:`WORD` as Python's regex and
    ``str.strip`` do; tests compare them), only the sentences' strings made in Python. The regex
    split and a Python loop over each piece were 0.73 s of pieces' 6 s candidate stage on a core.
    A text with a character past the Basic Multilingual Plane (the pass's tables end there) is
    read the plain way (:func:`_counted_sentences_plain`)."""
    codes = code_points("".join(texts))
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=bounds[1:])
    room = len(codes) // 16 + len(texts) + 1  # (pieces: ~90 code points a sentence; more on need)
    found = _sentence_spans(codes, bounds, _spaces(), _classes(), room)
    if found[0] < 0:
        found = _sentence_spans(codes, bounds, _spaces(), _classes(), len(codes) // 2 + len(texts) + 1)
    _, piece_lo, piece_hi, first, words, per_text, far = found
    lo, hi, first_of, counts, at, plain = (
        piece_lo.tolist(),
        piece_hi.tolist(),
        first.tolist(),
        words.tolist(),
        per_text.tolist(),
        far.tolist(),
    )
    out: list[tuple[list[str], list[int]]] = []
    for t, text in enumerate(texts):
        if plain[t]:
            out.append(_counted_sentences_plain(text))
            continue
        base = int(bounds[t])
        said: list[str] = []
        for s in range(at[t], at[t + 1]):
            p, q = first_of[s], first_of[s + 1]
            if q - p == 1:
                said.append(text[lo[p] - base : hi[p] - base])
            else:  # (fragments joined to the sentence before them, by a space)
                said.append(" ".join([text[lo[k] - base : hi[k] - base] for k in range(p, q)]))
        out.append((said, counts[at[t] : at[t + 1]]))
    return out


def _counted_sentences_plain(text: str) -> tuple[list[str], list[int]]:
    """:func:`counted_sentences` by the regex split and each piece's words counted by WORD."""
    out: list[str] = []
    counts: list[int] = []
    for a, b in _piece_spans(text):
        part = text[a:b].strip()
        if not part:
            continue
        words = _counted_words(part)
        if out and words < MIN_SENTENCE_WORDS:
            out[-1] += " " + part
            counts[-1] += words
        else:
            out.append(part)
            counts.append(words)
    return out, counts


def _piece_spans(text: str) -> list[tuple[int, int]]:
    """Where :func:`_pieces` cuts ``text``: each piece's (start, end)."""
    out: list[tuple[int, int]] = []
    prev = 0
    for m in _SENTENCE_END.finditer(text):
        start, end = m.span(1) if m.lastindex else m.span()
        out.append((prev, start))
        prev = end
    out.append((prev, len(text)))
    return out


def code_points(text: str) -> np.ndarray:
    """The text's code points (a lone surrogate as itself)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


#: :func:`_classes`: a letter as :data:`WORD` reads one, and the marks inside a word.
_LETTER, _JOINER = 1, 2


@functools.cache
def _classes() -> np.ndarray:
    r"""Each code point of the Basic Multilingual Plane: :data:`_LETTER` where ``[^\W\d_]`` matches
    it (Python's own regex reads each, so the classes are the regex's by construction; 3 ms),
    :data:`_JOINER` for ``'’-``, else 0."""
    codes = np.arange(0x10000, dtype=np.uint32)
    plane = codes.tobytes().decode("utf-32-le", "surrogatepass")
    marked = code_points(re.sub(r"[^\W\d_]", "\x00", plane))
    out = (marked != codes).astype(np.uint8) * _LETTER
    out[[ord(c) for c in "'’-"]] = _JOINER
    return out


@njit(cache=True, nogil=True)
def _words_in(codes, a, b, classes):  # type: ignore[no-untyped-def]
    """How many times :data:`WORD` matches in ``codes[a:b]`` (every code point within the
    table), as its regex matches: letters, then as long as an inner mark and a letter follow, the
    mark and more letters."""
    count = 0
    k = a
    while k < b:
        if classes[codes[k]] != _LETTER:
            k += 1
            continue
        count += 1
        k += 1
        while k < b:
            if classes[codes[k]] == _LETTER:
                k += 1
            elif classes[codes[k]] == _JOINER and k + 1 < b and classes[codes[k + 1]] == _LETTER:
                k += 2
            else:
                break
    return count


def word_count(text: str) -> int:
    return len(WORD.findall(text))


@njit(cache=True, nogil=True)
def is_end_mark(c):  # type: ignore[no-untyped-def]
    """Whether code point ``c`` ends a sentence: . ! ? … (the sentence patterns' first class)."""
    return c == 46 or c == 33 or c == 63 or c == 0x2026


@njit(cache=True, nogil=True)
def is_closing(c):  # type: ignore[no-untyped-def]
    """Whether code point ``c`` closes a quote or bracket after a sentence's end: " ' » ” ’ ) ]."""
    return c == 34 or c == 39 or c == 0xBB or c == 0x201D or c == 0x2019 or c == 41 or c == 93


@njit(cache=True, nogil=True)
def beyond(codes, start, end, top):  # type: ignore[no-untyped-def]
    """Whether ``codes[start:end]`` holds a code point past a table of ``top`` (the Basic
    Multilingual Plane's): such a text is left to the regexes."""
    for i in range(start, end):  # noqa: SIM110 - a loop numba compiles (no generator in any())
        if codes[i] >= top:
            return True
    return False


@njit(cache=True, nogil=True)
def _sentence_spans(codes, bounds, spaces, classes, room):  # type: ignore[no-untyped-def]
    """Each text's sentences as :func:`counted_sentences` makes them, as spans: the pieces
    between :data:`_SENTENCE_END`'s matches (an end mark, maybe one closing mark, then its
    whitespace, the split; or a line break, then whitespace up to its last line break), stripped
    of whitespace, empty ones dropped, each one's :data:`WORD` matches counted, a piece of fewer
    than ``MIN_SENTENCE_WORDS`` joined to the sentence before it. Returns (pieces, their starts,
    their ends, each sentence's first piece (and the end after the last), each sentence's words,
    each text's first sentence (and the end), texts left to the caller (a code point past the
    tables)); (-1, ...) where ``room`` pieces or sentences were too few."""
    top = spaces.shape[0]
    texts = bounds.shape[0] - 1
    piece_lo = np.empty(room, dtype=np.int64)
    piece_hi = np.empty(room, dtype=np.int64)
    first = np.empty(room + 1, dtype=np.int64)
    words = np.empty(room, dtype=np.int64)
    per_text = np.zeros(texts + 1, dtype=np.int64)
    far = np.zeros(texts, dtype=np.bool_)
    pieces = 0
    told = 0
    for t in range(texts):
        start, end = bounds[t], bounds[t + 1]
        if beyond(codes, start, end, top):
            far[t] = True
            per_text[t + 1] = told
            continue
        mine = told
        prev = start
        i = start
        while i <= end:
            cut, nxt = end, end + 1  # (past the text's end: its last piece)
            if i < end:
                c = codes[i]
                cut = -1
                if is_end_mark(c):  # then maybe one closing mark
                    j = i + 1
                    if j < end and is_closing(codes[j]):
                        j += 1
                        r = j
                        while r < end and spaces[codes[r]]:
                            r += 1
                        if r > j:
                            cut, nxt = j, r
                    else:
                        r = j
                        while r < end and spaces[codes[r]]:
                            r += 1
                        if r > j:
                            cut, nxt = j, r
                elif c == 10:
                    r = i + 1
                    last = -1
                    while r < end and spaces[codes[r]]:
                        if codes[r] == 10:
                            last = r
                        r += 1
                    if last >= 0:
                        cut, nxt = i, last + 1
                if cut < 0:
                    i += 1
                    continue
            # the piece prev..cut, stripped
            a, b = prev, cut
            while a < b and spaces[codes[a]]:
                a += 1
            while b > a and spaces[codes[b - 1]]:
                b -= 1
            if b > a:
                count = _words_in(codes, a, b, classes)
                if pieces >= room or told >= room:
                    return -1, piece_lo, piece_hi, first, words, per_text, far
                if told > mine and count < 3:  # (MIN_SENTENCE_WORDS) a fragment: the sentence before
                    words[told - 1] += count
                else:
                    first[told] = pieces
                    words[told] = count
                    told += 1
                piece_lo[pieces] = a
                piece_hi[pieces] = b
                pieces += 1
            prev = nxt
            i = nxt
        per_text[t + 1] = told
    first[told] = pieces
    return pieces, piece_lo[:pieces], piece_hi[:pieces], first[: told + 1], words[:told], per_text, far


class WordTable:
    """Word → number, a word being what ``str.split()`` makes of a text, a new word numbered as it
    is first met (in text order: the same numbers in every run), and listed in ``by_number``.

    The texts are split and their words looked up in one numba pass over their code points
    (:func:`_numbered`): an open-addressing table of the words' hashes, each hit compared with the
    word's stored code points, so a word's number is exact, not a hash's. A batch of 1,024
    slop-score stories (1,147,649 words, all known) takes 0.065 s; split in Python and looked up
    in a dict, 0.19 s, a string made of each word though most are words met before."""

    def __init__(self) -> None:
        self.by_number: list[str] = []
        self.slots = np.full(1 << 16, -1, dtype=np.int64)  # a word's number at its hash's slot
        self.arena = np.zeros(1 << 20, dtype=np.uint32)  # the words' code points, one after another
        self.words = np.zeros((1 << 15, 2), dtype=np.int64)  # each word's (start in arena, length)
        self.used = 0

    def __len__(self) -> int:
        return len(self.by_number)

    def numbers(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every text's words as numbers, one after another, and where each text's start."""
        codes = code_points("".join(texts))
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=bounds[1:])
        spaces = _spaces(full=bool(len(codes)) and int(codes.max()) >= 0x10000 and _far_spaces(codes))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        flat = np.empty(len(codes) // 4 + 16, dtype=np.int64)  # (English: ~5.5 code points a word)
        had = len(self.by_number)
        # (text, code point, word, words known, code points stored): where the pass goes on
        state = np.array([0, 0, 0, had, self.used], dtype=np.int64)
        while True:
            full = _numbered(codes, bounds, spaces, self.slots, self.arena, self.words, flat, offsets, state)
            if not full:
                break
            if full == 4:
                flat = np.concatenate([flat, np.empty_like(flat)])
            else:
                self._grow(full, int(state[3]))
        flat = flat[: int(state[2])]
        count, self.used = int(state[3]), int(state[4])
        if count > had:  # the new words, stored one after another: one decoding, then cut
            first = int(self.words[had, 0])
            new = self.arena[first : self.used].tobytes().decode("utf-32-le", "surrogatepass")
            ends = np.cumsum(self.words[had:count, 1]).tolist()
            self.by_number += [new[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        return flat, offsets

    def _grow(self, full: int, count: int) -> None:
        """Twice the room where the pass ran out: code points (1), words (2), or slots (3), the
        ``count`` words known so far put in again."""
        if full == 1:
            self.arena = np.concatenate([self.arena, np.zeros_like(self.arena)])
        elif full == 2:
            self.words = np.concatenate([self.words, np.zeros_like(self.words)])
        else:
            self.slots = np.full(2 * len(self.slots), -1, dtype=np.int64)
            _rehash(self.slots, self.arena, self.words, count)


@functools.cache
def _spaces(full: bool = False) -> np.ndarray:
    """Where ``str.split()`` splits: ``isspace`` of each code point of the Basic Multilingual
    Plane (or, ``full``, of every code point: none past the plane is a space in any Unicode
    version yet)."""
    return np.array([chr(c).isspace() for c in range(0x110000 if full else 0x10000)], dtype=np.bool_)


def _far_spaces(codes: np.ndarray) -> bool:
    """Whether any code point of ``codes`` past the Basic Multilingual Plane is a space."""
    return any(chr(c).isspace() for c in np.unique(codes[codes >= 0x10000]).tolist())


@njit(cache=True, nogil=True)
def _word_hash(codes, a, b):  # type: ignore[no-untyped-def]
    """FNV-1a over the code points, then splitmix64's finaliser (the table's slot is its low bits)."""
    h = np.uint64(14695981039346656037)
    for i in range(a, b):
        h ^= np.uint64(codes[i])
        h *= np.uint64(1099511628211)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@njit(cache=True, nogil=True)
def _rehash(slots, arena, words, count):  # type: ignore[no-untyped-def]
    """The first ``count`` words put in (an emptied, larger) ``slots``."""
    mask = slots.shape[0] - 1
    for w in range(count):
        s = np.int64(_word_hash(arena, words[w, 0], words[w, 0] + words[w, 1]) & np.uint64(mask))
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = w


@njit(cache=True, nogil=True)
def _numbered(codes, bounds, spaces, slots, arena, words, flat, offsets, state):  # type: ignore[no-untyped-def]
    """Each text's words (runs of code points between spaces) as numbers into ``flat``, where
    each text's start into ``offsets``: a word met before gets its number (found at its hash's
    slot, its stored code points compared), a new one the next number, its code points stored.
    Goes on from ``state`` (text, code point, word, words known, code points stored) and keeps it
    there; returns 0 when done, or what ran out before a word: 1 the code points' room, 2 the
    words', 3 the slots (kept at most half full), 4 ``flat``."""
    top = spaces.shape[0]
    mask = slots.shape[0] - 1
    texts = bounds.shape[0] - 1
    t, i, k, count, used = state[0], state[1], state[2], state[3], state[4]
    if t < texts and i < bounds[t]:
        i = bounds[t]
    while t < texts:
        end = bounds[t + 1]
        while i < end:
            c = codes[i]
            if c < top and spaces[c]:
                i += 1
                continue
            # the word's end and its hash in one pass: FNV-1a, then splitmix64's finaliser
            h = np.uint64(14695981039346656037)
            j = i
            while j < end:
                c = codes[j]
                if c < top and spaces[c]:
                    break
                h ^= np.uint64(c)
                h *= np.uint64(1099511628211)
                j += 1
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
            size = j - i
            if k >= flat.shape[0]:
                state[0], state[1], state[2], state[3], state[4] = t, i, k, count, used
                return 4
            s = np.int64(h & np.uint64(mask))
            while True:
                w = slots[s]
                if w < 0:  # new: the next number, if there is room
                    full = 0
                    if used + size > arena.shape[0]:
                        full = 1
                    elif count >= words.shape[0]:
                        full = 2
                    elif 2 * (count + 1) > slots.shape[0]:
                        full = 3
                    if full:
                        state[0], state[1], state[2], state[3], state[4] = t, i, k, count, used
                        return full
                    w = count
                    slots[s] = w
                    words[w, 0], words[w, 1] = used, size
                    arena[used : used + size] = codes[i:j]
                    used += size
                    count += 1
                    break
                if words[w, 1] == size:
                    at = words[w, 0]
                    same = True
                    for m in range(size):
                        if arena[at + m] != codes[i + m]:
                            same = False
                            break
                    if same:
                        break
                s = (s + 1) & mask
            flat[k] = w
            k += 1
            i = j
        offsets[t + 1] = k
        t += 1
        if t < texts:
            i = bounds[t]
    state[0], state[1], state[2], state[3], state[4] = t, i, k, count, used
    return 0


@njit(cache=True, nogil=True)
def summed_rows(rows, flat, offsets):  # type: ignore[no-untyped-def]
    """Each text's sum of ``rows`` over its words (``flat[offsets[d]:offsets[d + 1]]``)."""
    width = rows.shape[1]
    out = np.zeros((offsets.shape[0] - 1, width), dtype=np.int64)
    for d in range(out.shape[0]):
        for p in range(offsets[d], offsets[d + 1]):
            word = flat[p]
            for k in range(width):  # (a row slice added as an array: 5x slower, for rows of 3)
                out[d, k] += rows[word, k]
    return out
