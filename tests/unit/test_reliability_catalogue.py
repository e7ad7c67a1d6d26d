"""Every case of docs/reliability.md still answers with one line, and the page matches what the cases print."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import reliability_catalogue as catalogue  # noqa: E402


@pytest.fixture(scope="module")
def table() -> list[tuple[str, str, str, str]]:
    return catalogue.run_cases()


def test_every_case_answers_with_one_line(table: list[tuple[str, str, str, str]]) -> None:
    for group, case, _, message in table:
        assert message and "\n" not in message, (group, case, message)
        assert "Traceback" not in message and "exit 2, no message" not in message, (case, message)
        if message.startswith("crossrank ") and ": error: " in message:
            assert group != "Also", case


def test_the_page_is_up_to_date(table: list[tuple[str, str, str, str]]) -> None:
    rendered = catalogue.render(table).splitlines()
    page = catalogue.DOC.read_text().split(catalogue.MARK)[1].strip().splitlines()
    missing = [row for row in rendered if row not in page and "skipped:" not in row]
    assert not missing, "docs/reliability.md is out of date; run python scripts/reliability_catalogue.py --write"
