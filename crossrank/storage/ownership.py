"""Which folders a save may replace: those crossrank wrote (they hold a marker file) and empty ones.

Every folder written through :func:`crossrank.storage.atomic.atomic_dir_write` carries ``.crossrank.json``
(``{"writer": "crossrank", "kind": ..., "saved_at": ...}``). Anything else at the target (a working
directory, a training ``output_dir`` with checkpoints and logs, a folder of other files) is refused before
any work starts, so a save can never delete data it did not create.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from crossrank.storage.errors import TargetNotOursError

MARKER = ".crossrank.json"


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as written by crossrank (``kind``: ``model``, ``dataset``, ...)."""
    from crossrank.version import __version__

    info = {"writer": "crossrank", "version": __version__, "kind": kind,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (Path(folder) / MARKER).write_text(json.dumps(info) + "\n", encoding="utf-8")


def is_ours(folder: Path) -> bool:
    """Whether ``folder`` holds a valid crossrank marker."""
    try:
        info = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("writer") == "crossrank"


def check_replaceable(target: Path, what: str = "save") -> None:
    """Raise unless ``target`` is missing, an empty folder, or a folder crossrank wrote."""
    target = Path(target)
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir():
        raise TargetNotOursError(
            f"cannot {what} to {target}: it is a file, not a folder; nothing was changed. "
            f"Fix: pass a new folder path, e.g. {target.with_name(target.name + '-model')}."
        )
    entries = sorted(p.name for p in target.iterdir())
    if not entries or is_ours(target):
        return
    shown = ", ".join(repr(e) for e in entries[:4]) + (", ..." if len(entries) > 4 else "")
    raise TargetNotOursError(
        f"refusing to {what} to {target}: it is a folder crossrank did not write ({len(entries)} entries: "
        f"{shown}) and saving replaces the whole folder; nothing was changed. Fix: pass a new or empty "
        f"folder, e.g. {target / 'model'}."
    )
