"""The parity gate: does the exported file score like the PyTorch model it came from?

fp32 must reproduce the torch outputs (a reranker's logits, an embedder's vectors) to ``1e-4``. An int8 file
is judged on rankings: the Spearman correlation of its scores with torch's over all pairs, how often it puts
the same document first in each candidate list, and, when the lists are labelled, the change in MAP and
MRR@10. A file past any threshold is refused (``force`` keeps it).

Top-1 agreement stands in for quality only when the lists carry no labels. With labels the MAP change
judges instead: a flip between two documents of the same label costs nothing, and on a few short lists one
harmless flip moves the agreement by a large step (on the built-in 8 lists an int8 file that raised MAP
from 0.73 to 0.79 agreed on 6 of 8 top documents). Spearman always applies: it catches a broken file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from crossrank.evaluation.metrics import average_precision, mrr_at_k, spearman
from crossrank.export.check_data import CandidateList


@dataclass(frozen=True)
class Thresholds:
    """Limits of the gate: fp32 max abs difference; int8 Spearman, top-1 agreement (unlabelled lists) and MAP drop."""

    fp32_max_abs_diff: float = 1e-4
    min_spearman: float = 0.95
    min_top1_agreement: float = 0.85
    max_map_drop: float = 0.01


@dataclass
class ParityReport:
    """What the gate measured for one ONNX file (scores compared with the torch model's on the same pairs)."""

    file: str
    quantized: bool
    pairs: int
    lists: int
    max_abs_diff: float
    spearman: float | None = None
    top1_agreement: float | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    settings: str | None = None  # an int8 file's quantizer settings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        name = f"{self.file} ({self.settings})" if self.settings else self.file
        parts = [f"{name}: {self.pairs} pairs, max |diff| {self.max_abs_diff:.2e}"]
        if self.quantized:
            parts.append(f"Spearman {self.spearman:.4f}, top-1 agreement {self.top1_agreement:.3f} "
                         f"over {self.lists} lists")
            if self.metrics:
                t, o = self.metrics["torch"], self.metrics["onnx"]
                parts.append(f"MAP {t['map']:.4f} -> {o['map']:.4f}, MRR@10 {t['mrr@10']:.4f} -> {o['mrr@10']:.4f}")
        return "; ".join(parts)


def _ranking_metrics(lists: list[CandidateList], scores: np.ndarray) -> dict[str, float]:
    aps, mrrs, offset = [], [], 0
    for item in lists:
        chunk = scores[offset : offset + len(item.documents)]
        offset += len(item.documents)
        if item.gains is not None and any(g > 0 for g in item.gains):
            aps.append(average_precision(item.gains, chunk))
            mrrs.append(mrr_at_k(item.gains, chunk, 10))
    return {"map": float(np.mean(aps)), "mrr@10": float(np.mean(mrrs))} if aps else {}


def _top1_agreement(lists: list[CandidateList], a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    same, counted, offset = 0, 0, 0
    for item in lists:
        n = len(item.documents)
        if n > 1:
            same += int(np.argmax(a[offset : offset + n]) == np.argmax(b[offset : offset + n]))
            counted += 1
        offset += n
    return (same / counted if counted else 1.0), counted


def compare(file: str, lists: list[CandidateList], torch_scores: np.ndarray, onnx_scores: np.ndarray,
            torch_raw: np.ndarray, onnx_raw: np.ndarray, quantized: bool) -> ParityReport:
    """Measure ``onnx`` against ``torch``: per-pair scores (flat, in list order) and the raw outputs."""
    report = ParityReport(file, quantized, int(torch_scores.size), len(lists),
                          float(np.abs(np.asarray(torch_raw, np.float64) - onnx_raw).max()) if torch_raw.size else 0.0)
    if quantized:
        report.spearman = float(spearman(torch_scores, onnx_scores)) if torch_scores.size > 1 else 1.0
        report.top1_agreement, report.lists = _top1_agreement(lists, torch_scores, onnx_scores)
        before, after = _ranking_metrics(lists, torch_scores), _ranking_metrics(lists, onnx_scores)
        if before:
            report.metrics = {"torch": before, "onnx": after}
    return report


def refusal(report: ParityReport, limits: Thresholds) -> str | None:
    """Why ``report`` fails the gate (None when it passes)."""
    if not report.quantized:
        if report.max_abs_diff > limits.fp32_max_abs_diff:
            return (f"fp32 outputs differ from torch by {report.max_abs_diff:.2e} (limit "
                    f"{limits.fp32_max_abs_diff:.0e})")
        return None
    if report.spearman is not None and report.spearman < limits.min_spearman:
        return f"Spearman {report.spearman:.4f} with torch is below {limits.min_spearman}"
    if not report.metrics and report.top1_agreement is not None and report.top1_agreement < limits.min_top1_agreement:
        return f"top-1 agreement {report.top1_agreement:.3f} with torch is below {limits.min_top1_agreement}"
    if report.metrics:
        drop = report.metrics["torch"]["map"] - report.metrics["onnx"]["map"]
        if drop > limits.max_map_drop:
            return f"MAP drops by {drop:.4f} (limit {limits.max_map_drop})"
    return None
