"""Which checkpoint a run resumes from: the last *complete* one.

``resume_from_checkpoint`` may be a folder, or ``true`` (the Python value or the YAML/CLI text) for "the
latest in ``output_dir``". A checkpoint is complete when its ``trainer_state.json`` (written last by the
Trainer) parses and its weights are whole (see :mod:`crossrank.storage.integrity`); a run killed while
checkpointing leaves an incomplete one, which is skipped with a log line and removed, since the resumed
run writes that step again. With ``true`` and no complete checkpoint, training starts at step 0 (logged).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from crossrank.storage.integrity import weights_problem, zip_problem

logger = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_TRUE = ("true", "yes", "latest", "last")
_FALSE = ("false", "no", "none", "")


def checkpoint_problem(folder: str | Path) -> str | None:
    """None when ``folder`` is a complete checkpoint, else why it is not (for a log line or an error)."""
    folder = Path(folder)
    if not folder.is_dir():
        return "it is not a folder"
    state = folder / "trainer_state.json"
    if not state.is_file():
        return "it has no trainer_state.json (the save was interrupted)"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its trainer_state.json is truncated"
    problem = weights_problem(folder)
    if problem:
        return problem
    for name in ("optimizer.pt", "scheduler.pt"):
        if (folder / name).is_file() and zip_problem(folder / name):
            return zip_problem(folder / name)
    return None


def checkpoints(output_dir: str | Path) -> list[Path]:
    """The ``checkpoint-N`` folders of ``output_dir``, newest (highest N) first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _CHECKPOINT.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found, reverse=True)]


def last_complete_checkpoint(output_dir: str | Path, remove_incomplete: bool = True) -> Path | None:
    """The newest complete checkpoint; newer incomplete ones are logged (and removed when asked)."""
    for folder in checkpoints(output_dir):
        problem = checkpoint_problem(folder)
        if problem is None:
            return folder
        logger.warning("Skipping %s: %s.", folder, problem)
        if remove_incomplete:
            shutil.rmtree(folder, ignore_errors=True)
    return None


def resolve_resume(value: Any, output_dir: str | Path, remove_incomplete: bool = True) -> str | None:
    """The checkpoint folder to resume from (None: start at step 0) for a ``resume_from_checkpoint`` value.

    ``remove_incomplete``: delete the skipped incomplete checkpoints (the main process of a run does).
    """
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in _FALSE):
        return None
    if value is True or (isinstance(value, str) and value.strip().lower() in _TRUE):
        found = checkpoints(output_dir)
        latest = last_complete_checkpoint(output_dir, remove_incomplete)
        if latest is not None:
            logger.info("Resuming from %s (the last complete checkpoint).", latest)
            return str(latest)
        removed = f" ({len(found)} incomplete skipped)" if found else ""
        logger.warning("resume_from_checkpoint: no complete checkpoint in %s%s; training starts at step 0.",
                       output_dir, removed)
        return None
    problem = checkpoint_problem(value)
    if problem is not None:
        raise ValueError(
            f"cannot resume from {value}: {problem}. Fix: pass a complete checkpoint folder, or 'true' for the "
            f"last complete checkpoint in {output_dir}."
        )
    return str(value)
