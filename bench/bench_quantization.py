"""int8 settings on this CPU: which ``quantize_dynamic`` settings keep a trained reranker's WikiQA test MAP.

    python bench/bench_quantization.py --model DIR [--threads T]

Exports ``DIR`` once (fp32, ONNX Runtime fusions), then writes one int8 file per setting (weight type u8/s8,
per-channel or per-tensor scales, reduce_range) with ONNX Runtime's quantizer, and reports WikiQA test MAP /
MRR@10 (answered questions, candidates as bench_quality.py orders them) and pairs/s of each, beside torch and
fp32. The settings crossrank.export.targets uses for ``avx2`` come from this table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, quiet, write_result  # noqa: E402

SETTINGS = [  # (label, weight type, per_channel, reduce_range)
    ("u8 weights, per-channel", "QUInt8", True, False),
    ("u8 weights, per-tensor", "QUInt8", False, False),
    ("s8 weights, per-channel", "QInt8", True, False),
    ("s8 weights, per-channel, reduce_range", "QInt8", True, True),
    ("s8 weights, per-tensor", "QInt8", False, False),
]


def evaluate(model: object, evaluator: object, pairs: int) -> tuple[float, float, float]:
    with Timer() as t:
        result = evaluator(model)
    return result["test_map"], result["test_mrr@10"], pairs / t.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    quiet()
    import torch
    from bench_quality import test_samples

    from crossrank import CrossEncoder, export_onnx
    from crossrank.evaluation import RerankingEvaluator
    from crossrank.export.quantize import quantize_file
    from crossrank.export.targets import QuantTarget

    torch.set_num_threads(args.threads)
    evaluator = RerankingEvaluator(test_samples(), name="test", write_csv=False)
    pairs = len(evaluator.pairs())
    lines = ["| model | WikiQA test MAP | MRR@10 | MAP change (points) | pairs/s |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_onnx(args.model, Path(tmp) / "onnx-model").folder
        rows = [("torch fp32", CrossEncoder(folder, device="cpu")),
                ("ONNX fp32", CrossEncoder(folder, backend="onnx", threads=args.threads))]
        for label, weight, per_channel, reduce_range in SETTINGS:
            name = f"onnx/int8_{weight}_{int(per_channel)}{int(reduce_range)}.onnx"
            quantize_file(folder / "onnx" / "model.onnx", folder / name,
                          QuantTarget(label, name, weight, per_channel, reduce_range))
            rows.append((f"ONNX int8, {label}", (folder, name)))
        base = None
        for label, model in rows:
            if isinstance(model, tuple):
                model = CrossEncoder(model[0], backend="onnx", file_name=model[1], threads=args.threads)
            map_, mrr, rate = evaluate(model, evaluator, pairs)
            base = map_ if base is None else base
            lines.append(f"| {label} | {map_:.4f} | {mrr:.4f} | {100 * (map_ - base):+.2f} | {rate:.1f} |")
    table = "\n".join(lines) + (f"\n\n{pairs} (question, candidate) pairs of the answered WikiQA test questions, "
                                f"batch 32, {args.threads} threads; pairs/s includes the metrics (small).")
    print(table)
    if not args.no_write:
        write_result("quantization", f"python bench/bench_quantization.py --model {args.model}", table)


if __name__ == "__main__":
    main()
