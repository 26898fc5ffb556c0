"""``--group-by``: groups side by side (retold.audit.groups), end to end through the report."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

import retold
from conftest import WORDS, requires_shared
from retold.audit import groups


def test_group_names_none_and_pooled(monkeypatch) -> None:
    labels, names, pooled = groups.group_names(["a", "b", None, "a", "", 3, "b", "a"])
    assert names == ["a", "(none)", "b", "3"]  # by size, then name
    assert labels.tolist() == [0, 2, 1, 0, 1, 3, 2, 0]
    assert pooled == {"groups": 0, "documents": 0}
    monkeypatch.setattr(groups, "MAX_GROUPS", 2)
    labels, names, pooled = groups.group_names(["a", "b", "c", "a", "b", "d"])
    assert names == ["a", "b", "(other)"] and pooled == {"groups": 2, "documents": 2}
    assert labels.tolist() == [0, 1, 2, 0, 1, 2]


def test_sample_size_is_the_smallest_real_group() -> None:
    assert groups.sample_size([300, 75, 150]) == 75
    assert groups.sample_size([3000, 2000]) == groups.GROUP_SAMPLE
    assert groups.sample_size([300, 5, 100]) == 100  # a group of 5 does not set the size for all
    assert groups.sample_size([4, 6]) == 4
    assert groups.sample_size([1, 6, 6]) == 6  # nothing of MIN_GROUP: the groups of half the largest


def corpus() -> list[dict[str, object]]:
    """Group "varied": free word salad stories; "template": one frame with a few words changed;
    plus an exact copy across the two groups and records without the field."""
    rng = random.Random(0)
    rows: list[dict[str, object]] = []
    for _ in range(40):
        words = " ".join(rng.choice(WORDS) for _word in range(60))
        rows.append({"text": f"{words.capitalize()}.", "model": "varied"})
    for _ in range(40):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        frame = (
            f"Once upon a time the {a} and the {b} walked to the village market together. "
            "They talked about the weather and the long winter ahead of them. "
            f"In the end the {a} went home and the {b} stayed by the old bridge."
        )
        rows.append({"text": frame, "model": "template"})
    rows.append({"text": rows[0]["text"], "model": "template"})  # a copy across groups
    rows.append({"text": "A record that names no model at all, told in its own words here."})
    return rows


def test_groups_rank_and_say_what_they_measured(tmp_path: Path) -> None:
    result = retold.audit(corpus(), out=tmp_path / "a", group_by="model", levels="exact,near", quiet=True)
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    g = report["audit"]["groups"]
    assert result.documents_in == 82 and g["field"] == "model" and g["none"] == 1
    rows = {r["group"]: r for r in g["rows"]}
    assert set(rows) == {"varied", "template", "(none)"}
    assert g["sample_size"] == 40 and rows["(none)"]["smaller_sample"]
    assert [r["group"] for r in g["rows"]][:2] == ["varied", "template"]  # by compression: varied first
    assert rows["template"]["compression"] > rows["varied"]["compression"]
    assert rows["template"]["self_repetition"] > rows["varied"]["self_repetition"]
    assert rows["varied"]["across_share"] > 0 and rows["template"]["across_share"] > 0  # the copy
    assert g["shared_between"][0]["level"] == "exact"
    assert any("village market" in p["phrase"] for p in rows["template"]["overused"])
    page = (tmp_path / "a" / "report.html").read_text()
    assert "Groups side by side" in page and "1 document lacks the field" in page


def test_group_sort_chooses_the_column(tmp_path: Path) -> None:
    retold.audit(corpus(), out=tmp_path / "a", group_by="model", group_sort="self_repetition", levels="exact")
    g = json.loads((tmp_path / "a" / "report.json").read_text())["audit"]["groups"]
    assert g["sorted_by"] == "self_repetition" and not g["higher_is_more_diverse"]
    values = [r["self_repetition"] for r in g["rows"] if not r["smaller_sample"]]  # (none) follows
    assert values == sorted(values) and g["rows"][-1]["group"] == "(none)"
    with pytest.raises(retold.errors.BadOption, match="--group-sort must be one of"):
        retold.audit(corpus(), out=tmp_path / "b", group_by="model", group_sort="size")


def test_a_field_no_record_has_is_one_group(tmp_path: Path) -> None:
    retold.audit(corpus(), out=tmp_path / "a", group_by="nope", levels="exact")
    g = json.loads((tmp_path / "a" / "report.json").read_text())["audit"]["groups"]
    assert [r["group"] for r in g["rows"]] == ["(none)"] and g["none"] == 82


@requires_shared
def test_hanna_human_stories_rank_most_diverse(tmp_path: Path) -> None:
    from conftest import SHARED

    retold.audit(
        SHARED / "data" / "hanna_stories" / "stories.jsonl", out=tmp_path / "h", group_by="author", quiet=True
    )
    g = json.loads((tmp_path / "h" / "report.json").read_text())["audit"]["groups"]
    rows = {r["group"]: r for r in g["rows"]}
    assert g["rows"][0]["group"] == "Human" and g["sample_size"] == 96
    others = [r for name, r in rows.items() if name != "Human"]
    human = rows["Human"]
    assert human["distinct_4"] > max(r["distinct_4"] for r in others)
    assert human["self_repetition"] < min(r["self_repetition"] for r in others)
    assert human["stock_density"] < min(r["stock_density"] for r in others)
    # the similarity-based figure separates them too (style profiles: human 0.58, models <= 0.50)
    assert human["vendi_style_share"] > 1.1 * max(r["vendi_style_share"] for r in others)
    assert np.isfinite(human["vendi_share"])
