"""Proper names: found by capitalisation, masked before comparing, mapped between two tellings.

A story retold with other names must match its twin, so names must not decide. Finding them needs
no model: a word is taken as a name when it is capitalised where a sentence does not start and
the text never uses it in lower case ("Paris", "Sophie", "Kowalska"; not "The", not a capitalised
"Coffee" that also appears as "coffee"). A sentence-start word is a name when a name follows it
directly ("Marco Kowalska was"). Word frequencies cannot decide sentence starts: wordfreq rates
"marco" 3.9 and "sophie" 3.9 but "unaware" 3.9 and "gradually" 4.2 (Zipf), so they are not used. Every occurrence of a name — sentence starts and the
possessive ``'s`` included — is then replaced by one placeholder, so consistently swapping the
names of a story changes nothing the embedder sees. Caveats (measured, not hidden): languages that
capitalise every noun (German) lose more than names; a name only ever at sentence starts, and
never beside another name, is missed.

>>> sorted(find_names("Marco met Sophie in Paris. Marco smiled. Sophie's café was warm."))
['Marco', 'Paris', 'Sophie']
>>> mask_names("Marco met Sophie's sister in Paris.", {"Marco", "Sophie", "Paris"})
'someone met someone sister in someone.'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher

from retold.text import WORD, sentences

PLACEHOLDER = "someone"
_OPENERS = ('"', "“", "«", "„", "'", "‘", "(", "[", ":", "—", "–", "-")
_NOT_NAMES = frozenset({"I", "I'm", "I'd", "I'll", "I've", "O", "OK"})
_POSSESSIVE = re.compile(r"['’]s$")


def find_names(text: str) -> set[str]:
    """The words of ``text`` taken as proper names (see the module text)."""
    lowered = {w.lower() for w in WORD.findall(text) if w[0].islower()}
    names: set[str] = set()
    starts: set[str] = set()
    for sentence in sentences(text):
        for k, match in enumerate(WORD.finditer(sentence)):
            word = _POSSESSIVE.sub("", match.group())
            if not word[0].isupper() or word in _NOT_NAMES or (len(word) > 1 and word.isupper()):
                continue
            if word.lower() in lowered:
                continue
            if k == 0 or sentence[: match.start()].rstrip().endswith(_OPENERS):
                starts.add(word)  # a sentence (or quotation) starts here: capitals say little
            else:
                names.add(word)
    # a sentence-start word directly before a name is part of it ("Marco Kowalska was ...")
    for sentence in sentences(text):
        found = [_POSSESSIVE.sub("", m.group()) for m in WORD.finditer(sentence)]
        if len(found) > 1 and found[0] in starts and found[1] in names:
            names.add(found[0])
    return names


def mask_names(text: str, names: Iterable[str], placeholder: str = PLACEHOLDER) -> str:
    """Every occurrence of the names (and their possessives) replaced by one ``placeholder``;
    a run of names ("Arseniy Ivanovich Rousseau") becomes one placeholder."""
    names = sorted(set(names), key=len, reverse=True)
    if not names:
        return text
    pattern = r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?:['’]s)?(?!\w)"
    run = rf"{pattern}(?:\s+{pattern})*"
    return re.sub(run, placeholder, text)


def name_mapping(
    aligned: Iterable[tuple[str, str]],
    names_a: set[str],
    names_b: set[str],
    text_a: str = "",
    text_b: str = "",
) -> tuple[dict[str, str], list[str]]:
    """Which name of A stands for which name of B, from sentences aligned between the two.

    Each aligned sentence pair votes for every (name of A, name of B) it holds, a vote weighted by
    the pair's share of names (a sentence with one name each side is a strong vote). Pairs are then
    taken greedily, strongest first, one to one; equal votes go first to names both texts mention
    often (the characters, not a passing "Parisian"; mentions counted in ``text_a``/``text_b``),
    then to names that look alike (Sophie / Sophia). A name that extends another of the same text
    ("Marco" beside "Marc") counts as that name. Returns (differing names A → B, names both
    tellings share).
    """
    canon_a, canon_b = _aliases(names_a), _aliases(names_b)
    often_a, often_b = _mentions(text_a, canon_a), _mentions(text_b, canon_b)
    votes: Counter[tuple[str, str]] = Counter()
    for sa, sb in aligned:
        in_a = {canon_a[w] for w in (_POSSESSIVE.sub("", x) for x in WORD.findall(sa)) if w in canon_a}
        in_b = {canon_b[w] for w in (_POSSESSIVE.sub("", x) for x in WORD.findall(sb)) if w in canon_b}
        for a in in_a:
            for b in in_b:
                votes[a, b] += 1.0 / (len(in_a) * len(in_b))
    used_a: set[str] = set()
    used_b: set[str] = set()
    mapping: dict[str, str] = {}
    shared: list[str] = []
    ranked = sorted(
        votes.items(),
        key=lambda kv: (
            -round(kv[1], 6),
            -min(often_a[kv[0][0]], often_b[kv[0][1]]),
            -SequenceMatcher(None, *kv[0]).ratio(),
            kv[0],
        ),
    )
    for (a, b), _ in ranked:
        if a in used_a or b in used_b:
            continue
        used_a.add(a)
        used_b.add(b)
        if a == b:
            shared.append(a)
        else:
            mapping[a] = b
    return mapping, sorted(shared)


def _mentions(text: str, canon: dict[str, str]) -> Counter[str]:
    found = (_POSSESSIVE.sub("", w) for w in WORD.findall(text))
    return Counter(canon[w] for w in found if w in canon)


def _aliases(names: set[str]) -> dict[str, str]:
    """Each name → the shortest name of the text it extends (``Marco`` → ``Marc``), else itself.

    >>> _aliases({"Marc", "Marco", "Sophie"}) == {"Marc": "Marc", "Marco": "Marc", "Sophie": "Sophie"}
    True
    """
    out = {}
    for name in names:
        stems = [m for m in names if len(m) >= 3 and name != m and name.startswith(m)]
        out[name] = min(stems, key=len) if stems else name
    return out
