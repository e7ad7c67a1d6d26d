"""Stage 10 of the run order, export: the reranker as ONNX (fp32 and int8) through the library's parity gate.

Calls :mod:`crossrank.export` when this crossrank has it; otherwise the stage records that it was skipped
and why (the PyTorch model in ``OUT/model`` is the result either way).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# the parity gate judges the int8 file on the user's own dev lists (labelled, so by the MAP change): this many
# seeded dev queries, each with the first stage's top GATE_DEPTH documents. With one relevant document a query,
# one flip at the top moves MAP by up to 0.5 / GATE_LISTS, so below 50 lists a single flip exceeds the gate's 0.01
# limit: on SciFact (2026-12-04) 24 lists refused an int8 file at a 0.0280 drop and 50 lists at 0.0197, where over
# 100 lists the same file's MAP rose by 0.0005 (Spearman 0.9941): bench/results/fit-gate.md.
GATE_LISTS = 100
GATE_DEPTH = 8


def export_available() -> bool:
    return importlib.util.find_spec("crossrank.export") is not None


def gate_lists(collection: Mapping[str, Any], dev: Sequence[str], run: Mapping[str, Mapping[str, float]],
               seed: int) -> list[Any]:
    """The parity gate's candidate lists: up to GATE_LISTS dev queries with a relevant document (seeded)."""
    from crossrank.evaluation.beir import build_lists
    from crossrank.export.check_data import CandidateList
    from crossrank.fit.dev import eval_subset
    from crossrank.fit.first_stage import collection_data
    from crossrank.fit.metrics import AT_K

    ids = eval_subset(dev, GATE_LISTS, seed)
    lists = build_lists(collection_data(collection, ids), {q: dict(run[q]) for q in ids}, GATE_DEPTH, AT_K, False,
                        "binary")
    return [CandidateList(item.query, list(item.documents), [float(g) for g in item.gains]) for item in lists]


def export_model(model_dir: Path, work: Path, kind: str, check: Sequence[Any] | None = None) -> dict[str, Any]:
    """Export ``model_dir`` into ``work/onnx`` (the model folder plus its ``onnx/`` files); returns what was
    written and the parity gate's numbers, or why nothing was (no exporter, or the gate refused the files).

    ``int8`` writes the fp32 graph and the int8 file for this CPU; when the gate refuses the int8 file, the
    fp32 export alone is tried and the refusal is recorded. ``check``: the gate's candidate lists (default the
    exporter's built-in sample).
    """
    if kind == "none":
        return {"skipped": "--export none"}
    if not export_available():
        return {"skipped": "this crossrank has no crossrank.export module (ONNX export); the PyTorch model is the "
                           "result"}
    from crossrank.export.api import ExportRefused, export_onnx

    refused = None
    for quantize in (["auto", None] if kind == "int8" else [None]):
        try:
            result = export_onnx(str(model_dir), work / "onnx", quantize=quantize, check_data=check or None)
        except ExportRefused as err:
            refused = refused or str(err)
            continue
        payload = {"files": list(result.files), "reports": _plain(result.reports), "kind": kind}
        return {**payload, "int8_refused": refused} if refused else payload
    return {"skipped": f"the parity gate refused the export ({refused})"}


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
    refused = f"; int8 refused by the parity gate ({payload['int8_refused']})" if payload.get("int8_refused") else ""
    return f"ONNX through the parity gate: {', '.join(payload['files'])}{refused}"
