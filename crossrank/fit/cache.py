"""The stage cache of ``crossrank fit``: each stage's output lives in ``OUT/stages/NN-name/``.

A stage folder holds ``meta.json`` (the stage's key, seconds, one-line summary) and whatever the stage
wrote (JSON payloads, a model folder). The folder is written into a temporary sibling and renamed into
place when the stage has finished (:func:`crossrank.storage.atomic.atomic_dir_write`), so a run killed
mid-stage leaves no partial output: ``--resume`` finds every finished stage whose key still matches and
recomputes from the first one that is missing or stale.

A stage's key is the SHA-256 of its name, its options and the keys of the stages it reads, so changing an
option recomputes that stage and everything downstream, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossrank.storage.atomic import atomic_dir_write

META = "meta.json"
PAYLOAD = "output.json"


def stage_key(name: str, options: Mapping[str, Any], upstream: Mapping[str, str]) -> str:
    """The hash of a stage's name, options and the keys of the stages it depends on."""
    blob = json.dumps({"stage": name, "options": options, "upstream": dict(upstream)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class StageRecord:
    """A finished stage: where it lives, its key, its payload, how long it took and its summary."""

    name: str
    folder: Path
    key: str
    payload: dict[str, Any]
    seconds: float
    summary: str
    cached: bool


class StageCache:
    """Finished stages under ``root/stages``; ``work(name)`` is the scratch folder of a running stage."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.stages = self.root / "stages"

    def folder(self, index: int, name: str) -> Path:
        return self.stages / f"{index:02d}-{name}"

    def work(self, name: str) -> Path:
        """A scratch folder for a stage in progress (emptied first); its contents are not kept."""
        path = self.stages / f".work-{name}"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def finished(self) -> list[str]:
        """Names of the stage folders on disk (finished stages of some earlier run), in order."""
        if not self.stages.is_dir():
            return []
        return [p.name.split("-", 1)[1] for p in sorted(self.stages.iterdir())
                if p.is_dir() and not p.name.startswith(".") and (p / META).is_file()]

    def load(self, index: int, name: str, key: str) -> StageRecord | None:
        """The cached record of a stage when its folder exists and was made with ``key``; else None."""
        folder = self.folder(index, name)
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            payload = json.loads((folder / PAYLOAD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("key") != key:
            return None
        return StageRecord(name, folder, key, payload, float(meta["seconds"]), str(meta["summary"]), True)

    def save(self, index: int, name: str, key: str, seconds: float, summary: str, payload: dict[str, Any],
             write_files: Callable[[Path], None] | None = None) -> StageRecord:
        """Write a finished stage atomically: its files (``write_files(tmp)``), payload and meta last."""
        folder = self.folder(index, name)
        text = json.dumps(payload, indent=1, sort_keys=True)

        def write(tmp: Path) -> None:
            if write_files is not None:
                write_files(tmp)
            (tmp / PAYLOAD).write_text(text, encoding="utf-8")
            meta = {"stage": name, "key": key, "seconds": seconds, "summary": summary}
            (tmp / META).write_text(json.dumps(meta, indent=1), encoding="utf-8")

        atomic_dir_write(folder, write)
        shutil.rmtree(self.stages / f".work-{name}", ignore_errors=True)
        # later stages read the payload as a resumed run would: through JSON (key order, number formats)
        return StageRecord(name, folder, key, json.loads(text), seconds, summary, False)
