"""Stage 10 of the run order, export: the reranker as ONNX (fp32 and int8) through the library's parity gate.

Calls :mod:`crossrank.export` when this crossrank has it; otherwise the stage records that it was skipped
and why (the PyTorch model in ``OUT/model`` is the result either way).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def export_available() -> bool:
    return importlib.util.find_spec("crossrank.export") is not None


def export_model(model_dir: Path, work: Path, kind: str) -> dict[str, Any]:
    """Export ``model_dir`` into ``work/onnx`` (the model folder plus its ``onnx/`` files); returns what was
    written and the parity gate's numbers, or why nothing was (no exporter, or the gate refused a file)."""
    if kind == "none":
        return {"skipped": "--export none"}
    if not export_available():
        return {"skipped": "this crossrank has no crossrank.export module (ONNX export); the PyTorch model is the "
                           "result"}
    from crossrank.export.api import ExportRefused, export_onnx

    try:
        result = export_onnx(str(model_dir), work / "onnx", quantize="auto" if kind == "int8" else None)
    except ExportRefused as err:
        return {"skipped": f"the parity gate refused the export ({err})"}
    return {"files": list(result.files), "reports": _plain(result.reports), "kind": kind}


def _plain(value: Any) -> Any:
    """A JSON-able view of whatever the exporter returned."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "__dict__"):
        return _plain(vars(value))
    return str(value)


def summary(payload: dict[str, Any]) -> str:
    if "skipped" in payload:
        return f"skipped: {payload['skipped']}"
    return f"{payload['kind']} ONNX through the parity gate: {', '.join(payload['files'])}"
