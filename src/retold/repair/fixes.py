"""Text repairs: ftfy, line by line with explanations, plus retold's own small fixes.

Each fix is a function named for what it does; its name is what a repaired record lists in
``retold.fixes``. ftfy's explanation steps are turned into short names by :func:`step_name`.

Why not just ``ftfy.fix_text``: it explains nothing, and it rewrites legitimate content with its
defaults (curly quotes, full-width punctuation). retold calls ``ftfy.fix_and_explain`` per line,
the way ``fix_text`` splits text internally, with a configuration that keeps content as written:

* ``uncurl_quotes=False`` – curly quotes are content, not damage;
* ``fix_character_width=False`` – full-width punctuation is correct in CJK text;
* ``fix_latin_ligatures=False`` – ``ﬁ`` is rare and legitimate in typeset text;
* ``fix_line_breaks=False`` – U+2028 and U+0085 inside text are kept; ``\\r\\n`` and lone ``\\r``
  become ``\\n`` through :func:`fix_crlf` instead;
* NFC normalisation on, since the same text in two normal forms would hash differently.

ftfy fixes mojibake only when a whole line decodes (``The café and the caf√©`` is left alone,
because the line's correct ``é`` does not encode back to valid UTF-8). :func:`fix_partial_mojibake`
retries ftfy's own encoding fixer on each word that ftfy's badness measure flags, and accepts the
result only when the word stops looking bad.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ftfy import TextFixerConfig, fix_and_explain, fix_encoding_and_explain
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CHARMAP_ENCODINGS, CONTROL_CHARS, HTML_ENTITY_RE, possible_encoding

FTFY_CONFIG = TextFixerConfig(
    unescape_html="auto",
    remove_terminal_escapes=True,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=True,
    normalization="NFC",
    explain=True,
)

# Anything ftfy (with FTFY_CONFIG) could change. Text with none of these is left as it is without
# calling ftfy at all, which is most of a clean corpus: see benchmarks/bench_repair.py.
_TRIGGER_RE = re.compile(
    "[\r\x80-\x9f\ud800-\udfff" + "".join(re.escape(chr(c)) for c in sorted(CONTROL_CHARS)) + "]"
)
_LINE_START_BAD_RE = re.compile(r"(?m)^[ÃÂ] ")  # BADNESS_RE anchors this pattern at ^
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_WORD_RE = re.compile(r"\S+")
# UTF-8 read as MacRoman: a lead byte (C2-F4) shown as MacRoman, then a continuation byte (80-BF).
# ftfy's badness measure is tuned to whole lines and misses many such words (``ZUR√úCK``).
_MAC_LEAD = "".join(bytes([b]).decode("mac_roman") for b in range(0xC2, 0xF5))
_MAC_CONT = "".join(bytes([b]).decode("mac_roman") for b in range(0x80, 0xC0))
_MACROMAN_PAIR_RE = re.compile(f"[{re.escape(_MAC_LEAD)}][{re.escape(_MAC_CONT)}]")
_EDGE_PUNCT = "\"'“”‘’«»()[]{}<>,;:!?."
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
#: Every match of ftfy's BADNESS_RE holds a non-ASCII character (each of its character classes is
#: non-ASCII; tests/repair check it) and is at most 7 characters long, so it lies within this many
#: characters of one. Searching only there: 110 µs instead of 940 µs on a 7,800-character LLM story
#: with curly quotes (slopscore_stories), where the whole-text search was most of repair's time.
_BADNESS_REACH = 8


def _needed_characters(pattern: re.Pattern[str]) -> list[list[frozenset[str]]]:
    """For each alternative of ``pattern``, the sets of non-ASCII characters of which any match of
    it holds one each (a position an ASCII character may fill is left out: a text is taken to hold
    every ASCII character). What the parse does not make out (a negated class, a category, an
    optional part) adds no set, so the list errs towards "could match"."""
    import re._parser as parser  # (Python's own parse of a pattern: sre_parse before 3.11)

    if pattern.flags & re.IGNORECASE:
        return [[]]

    def accepted(op: object, arg: object) -> frozenset[str] | None:
        if op is parser.LITERAL:
            return frozenset(chr(arg))  # type: ignore[arg-type]
        if op is not parser.IN:
            return None
        out: set[str] = set()
        for item, value in arg:  # type: ignore[attr-defined]
            if item is parser.LITERAL:
                out.add(chr(value))
            elif item is parser.RANGE:
                out.update(map(chr, range(value[0], value[1] + 1)))
            else:
                return None
        return frozenset(out)

    def needed(items: list[tuple[object, object]]) -> list[frozenset[str]]:
        out = []
        for op, arg in items:
            if op in (parser.MAX_REPEAT, parser.MIN_REPEAT) and arg[0] >= 1:  # type: ignore[index]
                out += needed(list(arg[2]))  # type: ignore[index]
            elif op is parser.SUBPATTERN:
                out += needed(list(arg[-1]))  # type: ignore[index]
            elif (chars := accepted(op, arg)) is not None and all(ord(c) >= 128 for c in chars):
                out.append(chars)
        return out

    items = list(parser.parse(pattern.pattern, pattern.flags))
    if len(items) == 1 and items[0][0] is parser.BRANCH:
        return [needed(list(b)) for b in items[0][1][1]]
    return [needed(items)]


_BADNESS_NEEDS = _needed_characters(BADNESS_RE)


@functools.lru_cache(maxsize=4096)
def _could_look_bad(chars: frozenset[str]) -> bool:
    """Whether a text whose non-ASCII characters are ``chars`` could match ftfy's BADNESS_RE: some
    alternative of it finds a character of each set it needs. A clean LLM story's curly quotes and
    dashes never can (2,737 of slop-score's 3,035 stories, 8,705 of 9,049 pieces): its search
    is skipped (0.58 -> 0.32 s for slop-score's stories on one core)."""
    return any(all(not need.isdisjoint(chars) for need in needs) for needs in _BADNESS_NEEDS)


def looks_bad(text: str) -> bool:
    """ftfy's ``is_bad`` (``BADNESS_RE.search``), searched only around non-ASCII characters, and
    not at all where those characters cannot make a match (:func:`_could_look_bad`).

    >>> looks_bad("plain “curly” text"), looks_bad("caf√© and more")
    (False, True)
    """
    return _looks_bad(text, _non_ascii(text))


def _non_ascii(text: str) -> frozenset[str]:
    """The text's non-ASCII characters (one pass: 16 µs for a 7,800-character story, where its
    runs' matches took 90 µs)."""
    return frozenset(_ASCII_RUN.sub("", text)) if not text.isascii() else frozenset()


def _looks_bad(text: str, chars: frozenset[str]) -> bool:
    """:func:`looks_bad`, given the text's non-ASCII characters."""
    if not chars or not _could_look_bad(chars):
        return False
    end = len(text)
    lo = hi = -1
    for run in _NON_ASCII_RUN.finditer(text):
        start, stop = max(run.start() - _BADNESS_REACH, 0), min(run.end() + _BADNESS_REACH, end)
        if start > hi:  # a new window: search the one before it
            if hi > 0 and BADNESS_RE.search(text, lo, hi):
                return True
            lo = start
        hi = stop
    return hi > 0 and BADNESS_RE.search(text, lo, hi) is not None


def needs_ftfy(text: str) -> bool:
    """Whether repair could change ``text`` (False means: certainly unchanged, skip the work).

    >>> needs_ftfy("plain text, “curly” and café")
    False
    >>> needs_ftfy("caf√©")
    True
    """
    chars = _non_ascii(text)  # (the searches that need a non-ASCII character run only where one is)
    return bool(
        _looks_bad(text, chars)
        or _TRIGGER_RE.search(text)
        or ("&" in text and HTML_ENTITY_RE.search(text))
        or (not chars.isdisjoint("ÃÂ") and _LINE_START_BAD_RE.search(text))
        or (not chars.isdisjoint(_MAC_LEAD) and _MACROMAN_PAIR_RE.search(text))
        or not unicodedata.is_normalized("NFC", text)
    )


def step_name(action: str, parameter: str) -> str:
    """A short name for one of ftfy's explanation steps.

    >>> step_name("encode", "macroman")
    'mojibake:macroman'
    >>> step_name("apply", "unescape_html")
    'unescape_html'
    """
    if action == "encode":
        return f"mojibake:{parameter}"
    if action == "normalize":
        return f"normalize:{parameter}"
    if action == "decode":
        return ""  # always follows an encode step, which names the fix
    return parameter


def fix_crlf(text: str) -> str:
    r"""Windows (``\r\n``) and old Mac (``\r``) line endings become ``\n``.

    >>> fix_crlf("a\r\nb\rc")
    'a\nb\nc'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fix_lone_surrogates(text: str) -> str:
    """Unpaired surrogates (invalid in UTF-8 output) become U+FFFD.

    >>> fix_lone_surrogates("a\\ud800b")
    'a\\ufffdb'
    """
    return _LONE_SURROGATE_RE.sub("\ufffd", text)


def fix_partial_mojibake(line: str) -> tuple[str, list[str]]:
    """Fix mojibake in single words of a line that ftfy left alone as a whole.

    >>> fix_partial_mojibake("The café and the caf√©")
    ('The café and the café', ['partial_mojibake:macroman'])
    >>> fix_partial_mojibake("“Écoute”, dit-il")
    ('“Écoute”, dit-il', [])
    >>> fix_partial_mojibake("Paris–Évian and ZUR√úCK")
    ('Paris–Évian and ZURÜCK', ['partial_mojibake:macroman'])
    """
    if not (BADNESS_RE.search(line) or _MACROMAN_PAIR_RE.search(line)):
        return line, []
    names: list[str] = []

    def fix_word(match: re.Match[str]) -> str:
        word = match.group(0)
        flagged = BADNESS_RE.search(word)
        if not (flagged or _MACROMAN_PAIR_RE.search(word)):
            return word
        core = word.strip(_EDGE_PUNCT)
        start = word.find(core) if core else 0
        for lo, hi in ((0, len(word)), (start, start + len(core))):
            piece = word[lo:hi]
            if not piece:
                continue
            if not _unambiguous(piece):
                continue
            if flagged:
                fixed, steps = fix_encoding_and_explain(piece, FTFY_CONFIG)
                encodings = [param for action, param in steps if action == "encode"]
            else:
                fixed, encodings = _from_macroman(piece), ["macroman"]
                if not _plausible_macroman_fix(fixed) or _punctuation_led(piece, fixed):
                    continue
            if fixed != piece and not BADNESS_RE.search(fixed) and _one_script(fixed):
                names.extend(f"partial_mojibake:{e}" for e in encodings)
                return word[:lo] + fixed + word[hi:]
        return word

    out = _WORD_RE.sub(fix_word, line)
    return out, names


def _from_macroman(word: str) -> str:
    try:
        return word.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return word


def _plausible_macroman_fix(fixed: str) -> bool:
    """Whether a word read back through MacRoman looks like what was meant (ftfy did not flag it).

    Accepted: a character from a 3- or 4-byte sequence (``‚úî`` → ``✔``: three MacRoman symbols in
    a row that happen to form UTF-8 are rare in real text); a whole word of non-ASCII letters
    (``—Ñ—É—Ç–±–æ–ª`` → ``футбол``); accented letters inside a word with ASCII letters
    (``ZUR√úCK`` → ``ZURÜCK``). Refused: private-use, unassigned or control characters, and a lone
    two-byte pair outside a word, which legitimate symbols form often (``√π``, ``∆°``, ``—∞``).

    >>> [_plausible_macroman_fix(w) for w in ("✔", "футбол", "ZURÜCK", "ù", "2012Ѱ", "\uf659")]
    [True, True, True, False, False, False]
    """
    new = [ch for ch in fixed if ord(ch) > 0x7F]
    if not new or any(unicodedata.category(ch) in ("Co", "Cn", "Cs", "Cc", "Mn", "Me") for ch in new):
        return False
    if any(ord(ch) >= 0x800 and unicodedata.category(ch)[0] in "LSM" for ch in new):
        return True
    if not all(ch.isalpha() or unicodedata.category(ch) == "Mn" for ch in new):
        return False
    return len(new) >= 2 or any(ch.isascii() and ch.isalpha() for ch in fixed)


_PUNCT_LEADS = frozenset("“”‘’«»…–—‹›‚„")


def _punctuation_led(piece: str, fixed: str) -> bool:
    """A lone pair led by punctuation (``«Ç``, ``…à``, ``“Ü``) is legitimate text far more often
    than mojibake; only a run of several decoded letters (a whole Cyrillic word) outweighs that.

    >>> _punctuation_led("«Ça", "ǂa"), _punctuation_led("—Ñ—É—Ç–±–æ–ª", "футбол")
    (True, False)
    """
    pairs = _MACROMAN_PAIR_RE.findall(piece)
    decoded_letters = sum(1 for ch in fixed if ord(ch) > 0x7F and ch.isalpha())
    return any(p[0] in _PUNCT_LEADS for p in pairs) and decoded_letters < 2


def _one_script(word: str) -> bool:
    """True when the letters of ``word`` belong to one script (a repair must not mix scripts).

    ``Paris–Évian`` read back through MacRoman gives ``ParisЃvian``: Latin and Cyrillic, rejected.

    >>> _one_script("#футбол"), _one_script("giá?"), _one_script("ParisЃvian"), _one_script("❤")
    (True, True, False, True)
    """
    scripts = set()
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            scripts.add(name.split(" ")[0] if name else "?")
    return len(scripts) <= 1


def _unambiguous(word: str) -> bool:
    """True when exactly one single-byte encoding turns ``word`` back into valid, different UTF-8.

    ``DrÃ¥ber`` reads as ``Dråber`` through Latin-1 and as ``Dr̴ber`` through MacRoman: ftfy's own
    tests say not to guess there, so neither do we.

    >>> _unambiguous("caf√©"), _unambiguous("DrÃ¥ber")
    (True, False)
    """
    results = set()
    for encoding in CHARMAP_ENCODINGS:
        if not possible_encoding(word, encoding):
            continue
        try:
            decoded = word.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if decoded != word:
            results.add(decoded)
    return len(results) == 1


def repair_text(text: str) -> tuple[str, list[str]]:
    """Repair one document; return the text and the names of the fixes applied (in order, unique).

    >>> repair_text("He opened a small caf√© &amp; bar")
    ('He opened a small café & bar', ['unescape_html', 'mojibake:macroman'])
    >>> repair_text("Nothing to see “here”.")
    ('Nothing to see “here”.', [])
    """
    if not needs_ftfy(text):
        return text, []
    names: list[str] = []
    if "\r" in text:
        text = fix_crlf(text)
        names.append("fix_crlf")
    out: list[str] = []
    for segment in _split_lines(text):
        fixed, steps = fix_and_explain(segment, FTFY_CONFIG)
        for action, param in steps or ():
            name = step_name(action, param)
            if name:
                names.append(name)
        fixed, partial = fix_partial_mojibake(fixed)
        names.extend(partial)
        out.append(fixed)
    result = "".join(out)
    if _LONE_SURROGATE_RE.search(result):
        result = fix_lone_surrogates(result)
        names.append("fix_lone_surrogates")
    return result, list(dict.fromkeys(names))


#: Like ftfy.fix_text's ``max_decode_length``: a longer line is fixed in pieces of this many characters.
MAX_SEGMENT = 1_000_000


def _split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only (keeping it), as ftfy.fix_text does; U+2028 and U+0085 stay inside."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos) + 1 or len(text)
        end = min(end, pos + MAX_SEGMENT)
        out.append(text[pos:end])
        pos = end
    return out
