"""Smoke tests of the recipe scripts in examples/: a few steps on a slice of WikiQA, model saved."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(monkeypatch: pytest.MonkeyPatch, script: str, *argv: str) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [script, *argv])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")


@pytest.mark.parametrize("script", ["train_lambdaloss.py", "train_bce_mined.py", "train_margin_mse.py"])
def test_recipe_runs(script: str, tiny_bert: Path, minilm_path: Path, shared_data: Path, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    extra = [] if script == "train_lambdaloss.py" else ["--embedder", str(minilm_path)]
    run_example(monkeypatch, script, "--model", str(tiny_bert), "--data", str(shared_data / "wikiqa"),
                "--output", str(out), "--max-steps", "2", "--limit", "4", "--eval-limit", "3", "--batch-size", "4",
                "--max-length", "64", *extra)
    printed = capsys.readouterr().out
    assert "after: {'wikiqa-test_map'" in printed
    assert (out / "final" / "config.json").is_file()
