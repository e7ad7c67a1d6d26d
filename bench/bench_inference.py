"""Inference speed and quality cost: the reference's CrossEncoder.predict vs crossrank on torch, ONNX fp32, ONNX int8.

    python bench/bench_inference.py [--limit N] [--rounds R] [--threads T] [--model DIR] [--quantize TARGET]

Speed: the same checkpoint (all-MiniLM-L6-v2 + a seeded head, or ``--model``), batch 32, max_length 256, CPU,
``T`` threads for everyone (torch.set_num_threads for the torch sides, the ONNX Runtime session's intra-op
threads for ONNX), on the WikiQA test pairs and the MRPC test pairs (a second real text set of similar
length). Rounds alternate between the sides; the best round of each counts. The ONNX files come from
``crossrank.export_onnx`` (fp32 ``onnx/model.onnx`` and the int8 file of ``--quantize``, default this CPU's).

Quality (with ``--model``, a trained reranker): WikiQA test MAP / MRR@10 of the answered questions (candidates
as bench_quality.py orders them) under torch, ONNX fp32 and ONNX int8.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, Timer, quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

MRPC = ROOT.parent / "shared" / "data" / "mrpc" / "test.jsonl"


def pair_sets(limit: int | None) -> dict[str, list[tuple[str, str]]]:
    wikiqa = [(r["question"], r["sentence"]) for r in wikiqa_rows("test")][:limit]
    rows = [json.loads(line) for line in MRPC.open(encoding="utf-8")]
    return {"WikiQA test": wikiqa, "MRPC test": [(r["sentence1"], r["sentence2"]) for r in rows][:limit]}


def load_sides(folder: Path, onnx_folder: Path, int8_file: str, threads: int) -> dict[str, object]:
    import sentence_transformers as st

    from crossrank import CrossEncoder

    return {
        "reference (sentence-transformers, torch)": st.CrossEncoder(str(folder), max_length=256, device="cpu"),
        "crossrank torch": CrossEncoder(folder, max_length=256, device="cpu"),
        "crossrank ONNX fp32": CrossEncoder(onnx_folder, max_length=256, backend="onnx", threads=threads),
        f"crossrank ONNX int8 ({int8_file})": CrossEncoder(onnx_folder, max_length=256, backend="onnx",
                                                          file_name=int8_file, threads=threads),
    }


def time_sides(sides: dict[str, object], pairs: list[tuple[str, str]], rounds: int) -> tuple[dict, dict]:
    """Best-of-``rounds`` seconds of each side's ``predict`` (sides alternate within a round), and its scores."""
    for model in sides.values():
        model.predict(pairs[:64], batch_size=32, show_progress_bar=False)  # warm-up
    best = {name: float("inf") for name in sides}
    scores: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for name, model in sides.items():
            with Timer() as t:
                scores[name] = np.asarray(model.predict(pairs, batch_size=32, show_progress_bar=False))
            best[name] = min(best[name], t.seconds)
    return best, scores


def speed_table(sets: dict[str, list], sides: dict[str, object], rounds: int) -> str:
    ref = next(iter(sides))
    lines = ["| pairs | side | pairs/s | × reference | max abs score diff vs reference |", "|---|---|---|---|---|"]
    for set_name, pairs in sets.items():
        best, scores = time_sides(sides, pairs, rounds)
        for name in sides:
            rate = len(pairs) / best[name]
            diff = float(np.abs(scores[name] - scores[ref]).max())
            lines.append(f"| {set_name} ({len(pairs)}) | {name} | {rate:.1f} | {best[ref] / best[name]:.2f}× | "
                         f"{'' if name == ref else f'{diff:.1e}'} |")
    return "\n".join(lines)


def quality_table(sides: dict[str, object]) -> str:
    from bench_quality import test_samples

    from crossrank.evaluation import RerankingEvaluator

    samples = test_samples()
    evaluator = RerankingEvaluator(samples, name="test", write_csv=False)
    lines = ["| backend | WikiQA test MAP | MRR@10 | MAP change (points) |", "|---|---|---|---|"]
    base = None
    for name, model in list(sides.items())[1:]:
        result = evaluator(model)
        base = result["test_map"] if base is None else base
        lines.append(f"| {name} | {result['test_map']:.4f} | {result['test_mrr@10']:.4f} | "
                     f"{100 * (result['test_map'] - base):+.2f} |")
    note = f"{len(samples)} answered WikiQA test questions, candidates ordered by the bi-encoder."
    return "\n".join(lines) + "\n\n" + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None, help="a trained reranker: adds the WikiQA quality table")
    parser.add_argument("--quantize", default="auto")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    quiet()
    import torch

    from crossrank import export_onnx

    torch.set_num_threads(args.threads)  # the benchmark owns its process: one thread count for every side
    folder = Path(args.model) if args.model else start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    with tempfile.TemporaryDirectory() as tmp:
        with Timer() as t:
            result = export_onnx(folder, Path(tmp) / "onnx-model", quantize=args.quantize, force=True)
        export_s = t.seconds
        sides = load_sides(folder, result.folder, result.files[-1], args.threads)
        sections = [speed_table(pair_sets(args.limit), sides, args.rounds)]
        if args.model:
            sections.append(quality_table(sides))
    gate = "; ".join(r.summary() for r in result.reports)
    table = "\n\n".join(sections) + (f"\n\nbatch 32, max_length 256, {args.threads} threads, best of {args.rounds} "
                                     f"rounds; export took {export_s:.0f} s; parity gate: {gate}")
    print(table)
    if not args.no_write:
        flags = [f"--{k.replace('_', '-')} {v}" for k, v in (("limit", args.limit), ("model", args.model))
                 if v is not None] + ([f"--rounds {args.rounds}"] if args.rounds != 2 else [])
        write_result("inference" if not args.model else "inference-quality",
                     " ".join(["python bench/bench_inference.py", *flags]), table)


if __name__ == "__main__":
    main()
