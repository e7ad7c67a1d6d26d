"""Cheap checks that a weights file was written to the end (no tensor data is read).

A ``.safetensors`` file is an 8-byte header length, a JSON header giving every tensor's byte range, then
the data: it is complete when the header parses and the file is exactly as long as the ranges say. A torch
``.pt``/``.bin`` file is a zip archive, complete when its end-of-archive record is present.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path


def safetensors_problem(path: str | Path) -> str | None:
    """None when ``path`` is a complete safetensors file, else what is wrong with it (for a message)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return f"{path.name} is truncated ({size} bytes)"
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                return f"{path.name} is truncated ({size} bytes, its header alone needs {length + 8})"
            header = json.loads(handle.read(length))
    except OSError as err:
        return f"{path.name} cannot be read ({err.strerror})"
    except ValueError:
        return f"{path.name} has a damaged header"
    ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    expected = 8 + length + max(ends, default=0)
    if size < expected:
        return f"{path.name} is truncated ({size} of {expected} bytes)"
    return None


def zip_problem(path: str | Path) -> str | None:
    """None when ``path`` is a complete zip archive (torch's save format), else what is wrong."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            return None
    except OSError as err:
        return f"{path.name} cannot be read ({err.strerror})"
    return f"{path.name} is truncated or not a torch file"


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")


def weights_problem(folder: str | Path) -> str | None:
    """None when ``folder`` holds complete weights (single or sharded), else what is missing or damaged."""
    folder = Path(folder)
    for name in WEIGHT_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".index.json"):
            try:
                shards = sorted(set(json.loads(path.read_text(encoding="utf-8"))["weight_map"].values()))
            except (OSError, ValueError, KeyError, TypeError):
                return f"{name} is damaged"
            for shard in shards:
                if not (folder / shard).is_file():
                    return f"shard {shard} named in {name} is missing"
                problem = _file_problem(folder / shard)
                if problem:
                    return problem
            return None
        return _file_problem(path)
    return f"no weights file ({', '.join(WEIGHT_FILES[::2])})"


def _file_problem(path: Path) -> str | None:
    return safetensors_problem(path) if path.suffix == ".safetensors" else zip_problem(path)
