"""Render the failure catalogue (``scripts/reliability_cases.py``) as the tables of docs/reliability.md.

Usage: ``python scripts/reliability_catalogue.py [--write]``: prints the tables, or with ``--write`` replaces
the generated part of docs/reliability.md (between its two ``<!-- catalogue -->`` markers). Every message is
what the case's command printed or raised in this run; scratch paths read ``<tmp>``, the tiny test model
``<model>``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]
DOC = ROOT / "docs" / "reliability.md"
MARK = "<!-- catalogue -->"


def normalise(text: str, tmp: Path, model: Path) -> str:
    """Stable text: scratch paths, pids, hosts and times replaced by placeholders."""
    text = text.replace(str(model), "<model>").replace(str(tmp), "<tmp>")
    text = re.sub(r"\(pid \d+ on [^,]+, started [^,]+, command: [^)]*\)", "(pid <pid> on <host>, started <time>, "
                  "command: <command>)", text)
    text = re.sub(r"\.(final|model)\.(tmp|old)-\d+-[0-9a-f]+", r".\1.\2-<pid>-<id>", text)
    text = re.sub(r"is truncated \(\d+ of \d+ bytes\)", "is truncated (<n> of <m> bytes)", text)
    text = re.sub(r"\d+/\d+ \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(it/s|s/it)\]", "N/N [mm:ss<mm:ss, rate]", text)
    return text.replace("|", "\\|")


def run_cases() -> list[tuple[str, str, str, str]]:
    """(group, case, behaviour, message) for every case, each in a fresh scratch folder."""
    from conftest import build_tiny_bert
    from reliability_cases import CASES

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.disable(logging.WARNING)
    table = []
    with tempfile.TemporaryDirectory(prefix="crossrank-catalogue-") as root:
        model = build_tiny_bert(Path(root) / "tiny-bert")
        for i, case in enumerate(CASES):
            tmp = Path(root) / f"case-{i:02d}"
            tmp.mkdir()
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                message = case.run(tmp, model)
            finally:
                os.chdir(cwd)
            table.append((case.group, case.case, case.behaviour, normalise(message, tmp, model)))
    return table


def render(table: list[tuple[str, str, str, str]]) -> str:
    out: list[str] = []
    for group in dict.fromkeys(row[0] for row in table):
        out += [f"### {group}", "", "| case | behaviour | message |", "|---|---|---|"]
        out += [f"| {case} | {behaviour} | {message} |" for g, case, behaviour, message in table if g == group]
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    text = render(run_cases())
    if not args.write:
        print(text)
        return 0
    head, _, rest = DOC.read_text().partition(MARK)
    _, _, tail = rest.partition(MARK)
    DOC.write_text(f"{head}{MARK}\n{text}\n{MARK}{tail}")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
