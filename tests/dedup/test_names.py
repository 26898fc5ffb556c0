"""Names found by capitalisation, masked, and mapped between two tellings."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from retold.dedup.names import PLACEHOLDER, find_names, mask_names, name_mapping
from retold.text import sentences

SHARED = Path(__file__).resolve().parents[3] / "shared"
STORY = (
    "Marco Kowalska was a man shrouded in mystery. He settled in Paris and opened a café. "
    "One evening Marco met a young woman named Sophie. Sophie was an art student. "
    "Over the weeks Marco and Sophie walked along the Seine. Sophie's eyes never left Marco's face. "
    "The Coffee was strong; he loved coffee."
)


def test_names_found_and_common_words_left() -> None:
    names = find_names(STORY)
    assert {"Marco", "Kowalska", "Paris", "Sophie", "Seine"} <= names
    assert not names & {"The", "One", "Coffee", "He", "Over"}


def test_mask_is_invariant_under_a_consistent_swap_of_names() -> None:
    swap = {"Marco": "Arseniy", "Kowalska": "Rousseau", "Sophie": "Sophia", "Paris": "Lyon", "Seine": "Rhône"}
    swapped = re.sub(r"\b(" + "|".join(swap) + r")\b", lambda m: swap[m.group()], STORY)
    masked = mask_names(STORY, find_names(STORY))
    assert mask_names(swapped, find_names(swapped)) == masked
    assert "Marco" not in masked and "Sophie" not in masked
    assert f"{PLACEHOLDER} was a man" in masked  # a run of names is one placeholder
    assert f"{PLACEHOLDER} eyes never left {PLACEHOLDER} face" in masked  # possessives too


def test_mapping_from_aligned_sentences() -> None:
    a = sentences(
        "Marco met Sophie in Paris. Then Marco smiled at Sophie. They walked, then they ate in Paris."
    )
    b = sentences(
        "Arseniy met Sophia in Paris. Then Arseniy smiled at Sophia. They walked, then they ate in Paris."
    )
    mapping, shared = name_mapping(zip(a, b, strict=True), find_names(" ".join(a)), find_names(" ".join(b)))
    assert mapping == {"Marco": "Arseniy", "Sophie": "Sophia"}
    assert shared == ["Paris"]


def test_mapping_prefers_lookalike_names_and_folds_aliases() -> None:
    a = ["Marco met Sophie.", "Marc smiled."]
    b = ["Arseniy met Sophia.", "Arseniy smiled."]
    mapping, _ = name_mapping(zip(a, b, strict=True), {"Marco", "Marc", "Sophie"}, {"Arseniy", "Sophia"})
    assert mapping == {"Marc": "Arseniy", "Sophie": "Sophia"}


def test_no_names_no_change() -> None:
    text = "the cat sat on the mat. it was warm."
    assert find_names(text) == set()
    assert mask_names(text, set()) == text
    assert name_mapping([], set(), set()) == ({}, [])


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds not present")
def test_seed_names() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    assert {"Marco", "Kowalska", "Sophie", "Paris"} <= find_names(texts[0])
    assert {"Arseniy", "Rousseau", "Sophia", "Paris"} <= find_names(texts[1])


def _fuzz_texts(count: int = 4000, seed: int = 3) -> list[str]:
    """Random strings over the characters the name patterns turn on (capitals of several
    scripts, inner marks, possessives, sentence ends, spaces and digits)."""
    import random

    alphabet = [*list("AaBbZzÉéİıΣσЖж ЯZ'’-_.,;:!?…)(][\"»”“ \t\n\xa0\u2028x9²s"), "'s", "’s", "\n\n"]
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(count)]


def test_name_patterns_match_as_their_plain_lookbehind_forms() -> None:
    """The patterns start with the character a match starts with (the regex engine then skips
    ahead to it); their matches must be the plain forms', where each lookbehind comes first."""
    from retold.dedup import names as n

    capitalised, upper = n._CAPITALISED, n._UPPER
    plain = {
        n._BOUNDARY: re.compile(r"[.!?…][\"'»”’)\]]*\s+|\n\s*\n"),
        n._CAPITAL_RUN: re.compile(rf"(?<![^\W\d_])(?<![^\W\d_]['’-]){capitalised}"),
        n._CAPITAL_WORD: re.compile(rf"(?<![\w'’-]){capitalised}(?:['’]s)?(?![\w'’-])"),
    }
    assert upper and "İ" in upper and "Σ" in upper
    texts = [
        *_fuzz_texts(),
        "Marco met Sophie's sister in Paris.",
        "said Anna Bob, then O’Brien-Smith and Jean-Luc left. Then Marco smiled.",
        "A",
        " B",
        "x B",
        "x'B",
        "x-B c",
        "Éa Éb",
        "d’Artagnan’s",
        "5 Ab",
    ]
    inside = re.compile(rf"(?<=[\w,;)\]])[ \t]+({capitalised})")
    for text in [*texts, "x,  \t Ab", "x \n  Ab", "  Ab", "x)\t\tÉb c", "x  y   Z"]:
        assert sorted(n._inside_words(text)) == sorted(inside.findall(text)), text
    for ours, theirs in plain.items():
        for text in texts:
            found = [(m.span(), m.groups()) for m in ours.finditer(text)]
            assert found == [(m.span(), m.groups()) for m in theirs.finditer(text)], (ours.pattern[:30], text)


def test_possessive_cut_as_the_regex_cuts_it() -> None:
    from retold.dedup.names import _unpossessed

    words = ["Anna's", "Anna’s", "Anna", "s", "'s", "’s", "Bob's's", "James'", "Ann’S", "x's\n", ""]
    words += [w for text in _fuzz_texts(500) for w in text.split()]
    for word in words:
        if "\n" not in word:  # (words as the name patterns find them hold none)
            assert _unpossessed(word) == re.sub(r"['’]s$", "", word), word


def test_sentence_names_and_mentions_in_one_pass_equal_the_two_passes() -> None:
    """One pass over each sentence's capitalised words gives what each sentence's own names and
    :func:`mentions` of the joined sentences give: odd marks at a sentence's edges, possessives,
    aliases ("Marc" in "Marco"), a name that starts a sentence after a letter."""
    from retold.dedup.names import _aliases, _canonical_in, mentions, sentence_names_and_mentions

    def sentence_names(sentences: list[str], names: set[str]) -> list[frozenset[str]]:
        canon = _aliases(names)  # each sentence read on its own
        return [_canonical_in(s, canon) for s in sentences]

    texts = [
        STORY,
        "Marc ran.Marco followed. ’Sophie’s turn,’ said Marc-André. -Paris- was far.\n\nMarco’s end",
        "no names here. none at all",
    ]
    hanna = SHARED / "data" / "hanna_stories" / "stories.jsonl"
    if hanna.is_file():
        import json

        with open(hanna, encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in list(fh)[:200]]
    for text in texts:
        said = sentences(text)
        names = find_names(text)
        each, often = sentence_names_and_mentions(said, names)
        assert each == sentence_names(said, names)
        assert often == mentions(" ".join(said), names)


def test_names_found_over_code_points_as_by_the_regexes() -> None:
    """The code-point pass finds the regexes' capitalised words inside sentences (as a multiset)
    and sentence starts (in order), so the same names: fuzzed text, sentence ends of every kind,
    runs of spaces and tabs, characters past the Basic Multilingual Plane (read by the regexes),
    ../shared's stories where present, and batches past the first room it makes."""
    import gzip
    import json
    import random

    from conftest import SHARED
    from retold.dedup import names as n

    rng = random.Random(11)
    parts = [*"Ab cD.!?…\"'»”’)] \t\n,;é-_9", "Éa", "Marco", "Sophie's", "\n\n", ". ", " \t ", "𝐀", "İ"]
    texts = [*_fuzz_texts(count=400, seed=12)]
    texts += ["".join(rng.choice(parts) for _ in range(rng.randrange(0, 40))) for _ in range(1500)]
    texts += ["A b. " * 300, "x, Ab " * 400, ""]  # past the first room
    said = ["Marco went", "Sophie's cat", "the dog", "Then Marco", "Paris, Texas", "O’Brien-Smith ran", "a"]
    ends = [". ", ".’ ", ".” ", "!» ", "?) ", ".\n\n", "\n\n", ".]\t", "… ", ".’”  ", "\n \n", " ", ".'"]
    texts += [
        "".join(rng.choice(said) + rng.choice(ends) for _ in range(rng.randrange(1, 12))) for _ in range(1500)
    ]
    for name in ("hanna_stories/stories.jsonl", "slopscore_stories/stories.jsonl.gz"):
        path = SHARED / "data" / name
        if path.exists():
            with (gzip.open if name.endswith(".gz") else open)(path, "rt", encoding="utf-8") as fh:
                texts += [json.loads(line)["text"] for line, _ in zip(fh, range(300), strict=False)]
    for lo in range(0, len(texts), 50):
        batch = texts[lo : lo + 50]
        assert n.find_names_each(batch) == [n.find_names(t) for t in batch]
    codes = n.code_points("".join(texts))
    bounds = np.cumsum([0, *map(len, texts)]).astype(np.int64)
    _, inside, inside_at, pairs, pairs_at, far = n._capital_spans(
        codes, bounds, n._flags(), len(codes), len(codes)
    )
    for t, text in enumerate(texts):
        if far[t]:
            continue
        words = [text[a:b] for a, b in inside[:, inside_at[t] : inside_at[t + 1]].T.tolist()]
        assert sorted(words) == sorted(n._inside_words(text)), text[:80]
        starts = [(text[a:b], text[c:d]) for a, b, c, d in pairs[:, pairs_at[t] : pairs_at[t + 1]].T.tolist()]
        assert starts == n._sentence_starts(text), text[:80]


def test_masks_over_code_points_as_by_the_pattern() -> None:
    """Each text masked from the code-point pass's capitalised words is what ``mask_names`` makes:
    the text's own names and random ones, runs of names across spaces, tabs and line breaks,
    possessives, hyphens, digits and marks beside capitals, characters past the Basic
    Multilingual Plane, ../shared's stories where present, and more words than the first room."""
    import gzip
    import json
    import random

    from conftest import SHARED
    from retold.dedup.names import mask_names_each

    rng = random.Random(14)
    parts = ["Marco", "Sophie's", "Sophie’s", "Jean-Luc", "O'Brien", "Paris2", "_Anna", "Anna", "the", "A"]
    parts += [" ", "  ", "\t", "\n\n", ". ", ", ", "-", "'", "x", "É", "Élodie", "𝐀", "İz", "9"]
    texts = [*_fuzz_texts(count=600, seed=15)]
    texts += ["".join(rng.choice(parts) for _ in range(rng.randrange(0, 30))) for _ in range(2000)]
    texts += ["Anna " * 2000, ""]
    for name in ("hanna_stories/stories.jsonl", "slopscore_stories/stories.jsonl.gz"):
        path = SHARED / "data" / name
        if path.exists():
            with (gzip.open if name.endswith(".gz") else open)(path, "rt", encoding="utf-8") as fh:
                texts += [json.loads(line)["text"] for line, _ in zip(fh, range(300), strict=False)]
    pool = ["Marco", "Sophie", "Jean-Luc", "O'Brien", "Anna", "A", "Élodie", "Paris", "The"]
    names = [find_names(t) | set(rng.sample(pool, rng.randrange(0, 5))) for t in texts]
    names[-1] = set()
    for lo in range(0, len(texts), 64):
        got = mask_names_each(texts[lo : lo + 64], names[lo : lo + 64])
        assert got == [
            mask_names(t, n) for t, n in zip(texts[lo : lo + 64], names[lo : lo + 64], strict=True)
        ]
