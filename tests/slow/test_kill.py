"""The fast version of ``bench/kill_test.py``: three SIGKILLs of ``crossrank train``, each followed by a resume.

Run: ``python -m pytest -m slow tests/slow/test_kill.py`` (the full test: ``python bench/kill_test.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_three_kills_leave_a_loadable_model_and_a_resume_that_completes(tmp_path: Path) -> None:
    out = tmp_path / "kill.md"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "kill_test.py"), "--kills", "3", "--seed", "1",
                           "--work", str(tmp_path / "work"), "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert "rounds passed, 3 of them SIGKILLed mid-run**" in text and "| FAILED |" not in text
