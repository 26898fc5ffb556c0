"""The README's option reference is ``--help`` itself: a test fails when they differ.

To bring the README up to date after changing an option: ``make readme`` (``python
tests/test_docs.py``), which rewrites each block between its markers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

README = Path(__file__).resolve().parents[1] / "README.md"
VERBS = ("scan", "audit", "compare", "fix", "recut", "demo")


def help_text(verb: str) -> str:
    from retold.cli import cli

    result = CliRunner().invoke(cli, [verb, "--help"], terminal_width=100, prog_name="retold")
    assert result.exit_code == 0, result.output
    return result.output.rstrip() + "\n"


def block(verb: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- retold {verb} --help -->\n```\n)(.*?)(```\n<!-- end -->)", re.S)


def test_the_readme_option_reference_is_help() -> None:
    readme = README.read_text(encoding="utf-8")
    for verb in VERBS:
        found = block(verb).search(readme)
        assert found, f"README.md has no block for `retold {verb} --help`; run `make readme`"
        assert found.group(2) == help_text(verb), f"`retold {verb} --help` changed; run `make readme`"


def write() -> None:
    readme = README.read_text(encoding="utf-8")
    for verb in VERBS:
        readme = block(verb).sub(lambda m, v=verb: m.group(1) + help_text(v) + m.group(3), readme)
    README.write_text(readme, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(write())
