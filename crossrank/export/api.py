"""``export_onnx``: a model folder in, a folder with ``onnx/model.onnx`` (+ an int8 file) out, checked and atomic.

The output folder is the input folder (config with activation and fusion weight, tokenizer, model card,
weights) plus ``onnx/``: the fp32 graph, optionally one int8 file named for its CPU family, and
``onnx/export_report.json`` with what the parity gate measured. Everything is written to a temporary sibling
and renamed into place only when the gate passes (or ``force`` is set), so a refused export leaves nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from crossrank.export.check_data import CandidateList, built_in_sample, read_check_data
from crossrank.export.parity import ParityReport, Thresholds, compare, refusal
from crossrank.export.targets import QuantTarget, resolve_target
from crossrank.inference.onnx_backend import import_onnxruntime

logger = logging.getLogger(__name__)

FP32_FILE = "onnx/model.onnx"
REPORT_FILE = "onnx/export_report.json"


@dataclass(frozen=True)
class Graph:
    """How the fp32 graph is built: ONNX Runtime's fusions, and the first-token last layer."""

    fuse: bool
    first_token: bool


class ExportRefused(ValueError):
    """The parity gate refused an exported file (one line: which file, which limit, how to override)."""


@dataclass
class ExportResult:
    """Where the export went and what the gate measured for each file."""

    folder: Path
    kind: str
    files: list[str]
    reports: list[ParityReport] = field(default_factory=list)


def detect_kind(folder: Path) -> Literal["reranker", "embedder"]:
    """``embedder`` for a Sentence Transformers folder (``modules.json``), ``reranker`` for a classification one."""
    if (folder / "modules.json").is_file():
        return "embedder"
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or []):
        return "reranker"
    raise ValueError(
        f"{str(folder)!r} is neither a reranker (no *ForSequenceClassification architecture in config.json) nor a "
        "Sentence Transformers embedder (no modules.json); pass kind='reranker' to export it with a fresh head "
        "after saving it with CrossEncoder(...).save_pretrained()."
    )


def _source_folder(model: Any, staging: Path) -> Path:
    """A folder holding the model: a CrossEncoder is saved into ``staging`` first."""
    from crossrank.inference.loading import resolve_model_source

    if hasattr(model, "save_pretrained") and hasattr(model, "predict"):
        model.save_pretrained(staging / "model")
        return staging / "model"
    folder = Path(resolve_model_source(model, local_files_only=True))
    return folder


def export_onnx(model: Any, out: str | os.PathLike[str], quantize: str | None = None,
                check_data: str | os.PathLike[str] | Sequence[CandidateList] | None = None, force: bool = False,
                kind: Literal["auto", "reranker", "embedder"] = "auto", fuse: bool = True,
                thresholds: Thresholds | None = None, first_token: bool = True) -> ExportResult:
    """Export a reranker (or a Sentence Transformers embedder) to ONNX, optionally int8, behind a parity gate.

    Args:
        model: a model folder, ``package:NAME``, or a :class:`~crossrank.CrossEncoder`.
        out: the folder to write (replaced atomically if it exists).
        quantize: ``None``/``"none"``: fp32 only; ``"avx2"``, ``"avx512"``, ``"avx512_vnni"``, ``"arm64"``: also
            write that int8 file; ``"auto"``: the one for this CPU.
        check_data: pairs to check on: a file (see :mod:`crossrank.export.check_data`) or candidate lists;
            default a built-in sample.
        force: keep files the gate refuses (a warning is logged instead).
        kind: what the folder holds; ``auto`` reads ``config.json`` / ``modules.json``.
        fuse: apply ONNX Runtime's transformer fusions to the graph (see :mod:`crossrank.export.fuse`).
        thresholds: the gate's limits.
        first_token: trace a BERT reranker's last layer for the first token only, the one its head reads
            (see :mod:`crossrank.export.first_token`; same logits, less work).

    Returns:
        The output folder, the ONNX files written and the gate's reports.

    Raises:
        ExportRefused: a file failed the gate and ``force`` is False (nothing is written).
    """
    import_onnxruntime()
    target = resolve_target(quantize)
    lists = _check_lists(check_data)
    limits = thresholds or Thresholds()
    with tempfile.TemporaryDirectory(prefix="crossrank-export-") as staging:
        source = _source_folder(model, Path(staging))
        kind = detect_kind(source) if kind == "auto" else kind
        result = ExportResult(Path(out).resolve(), kind, [])
        from crossrank.storage.atomic import atomic_dir_write

        atomic_dir_write(Path(out), lambda tmp: _write(source, tmp, kind, target, lists, limits, force,
                                                           Graph(fuse, first_token), result),
                         kind="export")
    return result


def _check_lists(check_data: str | os.PathLike[str] | Sequence[CandidateList] | None) -> list[CandidateList]:
    if check_data is None:
        return built_in_sample()
    if isinstance(check_data, (str, os.PathLike)):
        return read_check_data(check_data)
    lists = list(check_data)
    if not any(item.documents for item in lists):
        raise ValueError("check data holds no (query, document) pairs; pass candidate lists with documents.")
    return lists


def _gate(tmp: Path, kind: str, name: str, lists: list[CandidateList], reference: Any, limits: Thresholds,
          target: QuantTarget | None = None) -> tuple[ParityReport, str | None]:
    """Score one file against torch: its report, and why the gate refuses it (None: it passes)."""
    from crossrank.export.scoring import onnx_scores

    scores, raw = onnx_scores(tmp, kind, lists, name)
    report = compare(name, lists, reference.scores, scores, reference.raw, raw, quantized=name != FP32_FILE)
    report.settings = target.describe() if target is not None else None
    logger.info("Parity: %s", report.summary())
    return report, refusal(report, limits)


def _accept(report: ParityReport, reason: str | None, force: bool, result: ExportResult) -> None:
    if reason and not force:
        raise ExportRefused(f"refused {report.file}: {reason}; nothing was written. Check the model, or pass "
                            "--force (force=True) to keep the file anyway.")
    if reason:
        logger.warning("Keeping %s although %s (force)", report.file, reason)
    result.reports.append(report)


def _copy_folder(source: Path, tmp: Path) -> None:
    """Everything in ``source`` except ONNX files (they are written anew)."""
    shutil.copytree(source, tmp, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n.endswith(".onnx") or n.startswith(".")])
    (tmp / REPORT_FILE).unlink(missing_ok=True)


def _write(source: Path, tmp: Path, kind: str, target: QuantTarget | None, lists: list[CandidateList],
           limits: Thresholds, force: bool, graph: Graph, result: ExportResult) -> None:
    from crossrank.export.fuse import fuse_graph
    from crossrank.export.onnx_export import export_graph
    from crossrank.export.quantize import quantize_file
    from crossrank.export.scoring import torch_scores

    _copy_folder(source, tmp)
    reference = torch_scores(tmp, kind, lists)
    tokenizer = reference.tokenizer
    export_graph(tmp if kind == "reranker" else reference.transformer_path, tokenizer, tmp / FP32_FILE, kind,
                 graph.first_token)
    if graph.fuse:
        fuse_graph(tmp / FP32_FILE, json.loads((reference.transformer_path / "config.json").read_text("utf-8")))
    files = [FP32_FILE] + ([target.file_name] if target else [])
    _accept(*_gate(tmp, kind, FP32_FILE, lists, reference, limits), force, result)
    if target is not None:
        settings = target.settings()  # the fastest first; a refused one makes way for the next
        for step, current in enumerate(settings):
            quantize_file(tmp / FP32_FILE, tmp / target.file_name, current)
            report, reason = _gate(tmp, kind, target.file_name, lists, reference, limits, current)
            if reason and step + 1 < len(settings):
                logger.info("The gate refused %s with %s (%s); trying %s", target.file_name, current.describe(),
                            reason, settings[step + 1].describe())
                continue
            _accept(report, reason, force, result)
            break
    result.files = files
    (tmp / REPORT_FILE).write_text(json.dumps([r.to_dict() for r in result.reports], indent=2) + "\n", "utf-8")
