"""Which language a corpus is in, for wordfreq's word lists."""

from __future__ import annotations

from collections.abc import Sequence

from retold.audit.ngrams import words

LANGUAGES = ("en", "ru", "de", "fr", "es", "it", "pt", "nl", "pl", "uk", "sv", "tr", "cs", "fi")


def detect_language(texts: Sequence[str], sample: int = 200) -> str:
    """The wordfreq language whose 100 most common words cover most of the sample's words."""
    from wordfreq import top_n_list

    seen: list[str] = []
    for t in texts[:: max(1, len(texts) // sample)][:sample]:
        seen.extend(words(t)[:300])
    if not seen:
        return "en"
    best, cover = "en", -1.0
    for lang in LANGUAGES:
        common = set(top_n_list(lang, 100, wordlist="small"))
        share = sum(1 for w in seen if w in common) / len(seen)
        if share > cover:
            best, cover = lang, share
    return best
