"""Repair: ftfy's labelled cases, the seeds, partial-line mojibake, and content that must stay."""

from __future__ import annotations

import json
import re

import pytest
from ftfy import fix_and_explain
from ftfy.badness import BADNESS_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED, requires_shared
from retold.repair import fixes
from retold.repair.fixes import FTFY_CONFIG, looks_bad, needs_ftfy, repair_text


def load_cases() -> list[dict]:
    path = SHARED / "data" / "ftfy_mojibake" / "cases.jsonl"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="\n") as fh:  # split on \n only: cases hold U+2028
        return [json.loads(line) for line in fh if line.strip()]


CASES = load_cases()


@requires_shared
@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "pass"], ids=lambda c: c["label"][:50])
def test_ftfy_pass_cases(case: dict) -> None:
    """Every case ftfy expects to pass comes out as ftfy's content-keeping expected output.

    ``fixed_encoding`` is the target; three cases go further by design and equal ``fixed``: an HTML
    entity (we unescape entities) and two stray U+001A control characters (we remove controls).
    """
    out, fixes = repair_text(case["original"])
    assert out in (case["fixed_encoding"], case["fixed"])
    if out != case["original"]:
        assert fixes, "a change must be explained"


@requires_shared
def test_negative_cases_unchanged() -> None:
    negatives = [c for c in CASES if c["set"] == "negative"]
    assert len(negatives) == 31
    changed = [c for c in negatives if repair_text(c["original"])[0] != c["original"]]
    # The one change is labelled "Mostly negative: we only need to fix C1 control characters",
    # and its expected output is the C1 fix.
    assert [c["label"] for c in changed] == ["Mostly negative: we only need to fix C1 control characters"]
    assert repair_text(changed[0]["original"])[0] == changed[0]["fixed_encoding"]


@requires_shared
def test_seeds() -> None:
    damaged = (SHARED / "seeds" / "000_2f48dfd8eb95aece.txt").read_text(encoding="utf-8")
    clean = (SHARED / "seeds" / "001_9c37dd702f0336c6.txt").read_text(encoding="utf-8")
    fixed, fixes = repair_text(damaged)
    assert "caf√©" in damaged and "caf√©" not in fixed and "café" in fixed
    assert fixes == ["mojibake:macroman"]
    assert fixed == damaged.replace("caf√©", "café")
    assert repair_text(clean) == (clean, [])


@pytest.mark.parametrize(
    "text, expected, fix",
    [
        ("The café and the caf√©", "The café and the café", "partial_mojibake:macroman"),
        (
            "Déjà vu, but the crÃ¨me brÃ»lÃ©e was cold",
            "Déjà vu, but the crème brûlée was cold",
            "decode_inconsistent_utf8",
        ),  # ftfy handles partial cp1252 itself
        ("Zoë met “Zo√´” at the café.", "Zoë met “Zoë” at the café.", "partial_mojibake:macroman"),
    ],
)
def test_partial_line_mojibake(text: str, expected: str, fix: str) -> None:
    assert repair_text(text) == (expected, [fix])


@pytest.mark.parametrize(
    "text",
    [
        "“Curly quotes” and ‘single’ ones stay curly.",
        "Full-width punctuation stays：「こんにちは」。",
        "The ﬁnal ligature stays.",
        "Line\u2028separator is kept (U+0085 is a C1 control: ftfy maps it to …).",
        "Plain ASCII.",
        "Привет, мир! Ёлка.",
        "Bremer/Mccoy – DrÃ¥ber",  # ambiguous (Latin-1 or MacRoman): ftfy's tests say leave it
        "<p>Tom &amp; Jerry</p>",  # HTML markup: entities are left (ftfy's unescape_html="auto")
    ],
)
def test_legitimate_content_is_kept(text: str) -> None:
    assert repair_text(text) == (text, [])


@pytest.mark.parametrize(
    "text, expected, fix",
    [
        ("Tom &amp; Jerry", "Tom & Jerry", "unescape_html"),
        ("bell\x07 and nul\x00", "bell and nul", "remove_control_chars"),
        ("a\r\nb\rc", "a\nb\nc", "fix_crlf"),
        ("e\u0301", "é", "normalize:NFC"),
        ("\x1b[31mred\x1b[0m", "red", "remove_terminal_escapes"),
    ],
)
def test_named_fixes(text: str, expected: str, fix: str) -> None:
    assert repair_text(text) == (expected, [fix])


def _ftfy_reference(text: str) -> str:
    """What the slow path gives without the needs_ftfy shortcut."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for seg in text.split("\n"):
        out.append(fix_and_explain(seg, FTFY_CONFIG).text)
    return "\n".join(out)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_shortcut_never_skips_a_change(text: str) -> None:
    """If needs_ftfy says no, ftfy itself would have changed nothing."""
    if not needs_ftfy(text):
        assert _ftfy_reference(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aéÃ©√¢€™ \n&;#x1bcd", max_size=40))
def test_shortcut_on_mojibake_alphabet(text: str) -> None:
    if not needs_ftfy(text):
        assert _ftfy_reference(text) == text


def test_badness_classes_are_all_non_ascii() -> None:
    """looks_bad searches only around non-ASCII characters: that is only right while every
    character class of ftfy's BADNESS_RE is non-ASCII (a new ftfy could change that)."""
    from ftfy.badness import MOJIBAKE_CATEGORIES

    for name, chars in MOJIBAKE_CATEGORIES.items():
        cls = re.compile(f"[{chars}]")
        assert not [chr(c) for c in range(128) if cls.match(chr(c))], name


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="abcXYZ .,?!\n'\"aéÃÂ©√¢€™–—“”’‘ØÙвЂВГРСβ€ā×²³ŒœГўàµ°", max_size=80),
    st.integers(0, 200),
)
def test_looks_bad_is_ftfys_search(text: str, pad: int) -> None:
    """The windowed search finds what ftfy's whole-text search finds, wherever the text sits."""
    padded = "x" * pad + text + " y" * pad
    assert looks_bad(padded) == bool(BADNESS_RE.search(padded))


_NEEDED = sorted({c for needs in fixes._BADNESS_NEEDS for need in needs for c in need})


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_NEEDED + list("abcXYZ .,?!\n'\"")), max_size=12), st.integers(0, 20))
def test_looks_bad_skips_only_texts_ftfy_passes(text: str, pad: int) -> None:
    """The characters-only check that skips the search (``_could_look_bad``) never skips a text
    BADNESS_RE flags: texts made of the very characters its classes name."""
    padded = "x" * pad + text
    assert looks_bad(padded) == bool(BADNESS_RE.search(padded))


def test_a_clean_storys_punctuation_skips_the_search() -> None:
    """Curly quotes, dashes and an ellipsis cannot make a match (what
    lets a clean LLM story skip the search); a mojibake pair can."""
    assert not fixes._could_look_bad(frozenset("“”‘’—–…"))
    assert fixes._could_look_bad(frozenset("√©"))
    assert len(fixes._BADNESS_NEEDS) > 30 and all(fixes._BADNESS_NEEDS)
