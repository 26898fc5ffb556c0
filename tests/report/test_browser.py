"""report.html as a user sees it: opened from disk in headless Chromium, with hostile corpus text.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with a reason where it is missing.
The screenshot is kept under ``tests/report/screenshots/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_html import hostile_corpus

import retold

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={cwd / 'profile'}",
            "--window-size=1200,1800",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.timeout(300)
def test_report_renders_and_no_script_runs(tmp_path: Path) -> None:
    retold.scan(hostile_corpus(tmp_path), out=tmp_path / "out", group_by="model")
    page = (tmp_path / "out" / "report.html").resolve().as_uri()

    dom = chromium("--dump-dom", page, cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<title>retold report" in html and "PWNED" not in html.split("</title>")[0]
    assert "Diversity metrics" in html and "Example pairs" in html and "Groups side by side" in html
    assert "Map of the corpus" in html and html.count("<circle") >= 13
    assert "&lt;script&gt;document.title" in html  # the hostile text is there, as text
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()  # no element was made from corpus text

    SHOTS.mkdir(exist_ok=True)
    shot = SHOTS / "hostile-report.png"
    result = chromium(f"--screenshot={shot}", page, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
