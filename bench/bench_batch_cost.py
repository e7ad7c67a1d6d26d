"""What one more forward pass costs: the per-batch overhead each backend declares for the server's batcher.

    python bench/bench_batch_cost.py [--model FOLDER] [--onnx-model FOLDER --file-name onnx/model_quint8_avx2.onnx]

The server cuts each round of pairs where padded tokens plus ``batch_overhead_tokens`` per batch is least
(``crossrank.inference.batching.least_padding_cuts``). This benchmark measures that overhead on WikiQA test
pairs: batches of 1 to 32 rows, each cut to 24 ... 96 tokens, are timed through the engine, and a least-squares
line of seconds on rows (1 to 16 rows) at each width gives the overhead, intercept / (slope per token), in
padded tokens; the median over the widths is reported. It prints, per backend,
the fit beside the value the backend declares, and the time per token of 16- and 32-row batches (when bigger
batches stop paying, tight batches win). The machine is shared and noisy: read the fit, not one cell.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

ROWS = (1, 2, 4, 8, 16, 32)
WIDTHS = (24, 40, 64, 96)


def long_pairs(count: int) -> list[tuple[str, str]]:
    """WikiQA test (question, sentence) pairs, the longest first, so every width can be cut from each."""
    rows = sorted(wikiqa_rows("test"), key=lambda r: -len(r["question"]) - len(r["sentence"]))
    return [(r["question"], r["sentence"]) for r in rows[:count]]


def batch_seconds(engine: Any, encoded: Any, rows: int, width: int) -> float:
    """Median seconds of one forward pass of ``rows`` pairs cut to ``width`` tokens."""
    features = {k: [ids[:width] for ids in v] for k, v in encoded.features.items()}
    cut = type(encoded)(features=features, lengths=np.minimum(encoded.lengths, width), truncated=encoded.truncated)
    idx = np.arange(rows)
    engine.run(cut, idx)  # warm-up of this shape
    times = []
    for _ in range(max(3, 48 // rows)):
        began = time.perf_counter()
        engine.run(cut, idx)
        times.append(time.perf_counter() - began)
    return float(np.median(times))


def measure(engine: Any, encoded: Any) -> dict[str, Any]:
    """The timing grid and, per width, the least-squares line of seconds on rows (1 to 16 rows)."""
    cells = {(rows, width): batch_seconds(engine, encoded, rows, width) for width in WIDTHS for rows in ROWS}
    fits = {}
    for width in WIDTHS:
        rows = [r for r in ROWS if r <= 16]  # where the batcher's choice lies; 32 rows turn superlinear here
        slope, intercept = np.polyfit(rows, [cells[(r, width)] for r in rows], 1)
        fits[width] = (float(slope / width), float(intercept), float(intercept / (slope / width)))
    return {"cells": cells, "fits": fits, "overhead": float(np.median([f[2] for f in fits.values()]))}


def table(name: str, declared: int | None, found: dict[str, Any]) -> str:
    cells = found["cells"]
    lines = [f"### {name}", "", "| width \\ rows | " + " | ".join(str(r) for r in ROWS) + " |",
             "|---|" + "---|" * len(ROWS)]
    for width in WIDTHS:
        lines.append(f"| {width} | " + " | ".join(f"{cells[(r, width)] * 1000:.1f} ms" for r in ROWS) + " |")
    us16 = np.mean([cells[(16, w)] / (16 * w) for w in WIDTHS]) * 1e6
    us32 = np.mean([cells[(32, w)] / (32 * w) for w in WIDTHS]) * 1e6
    fits = "; ".join(f"width {w}: {t * 1e6:.0f} us/token + {b * 1000:.1f} ms = {o:.0f} tokens"
                     for w, (t, b, o) in found["fits"].items())
    lines += ["", f"- per-batch overhead, line of time on rows 1-16 at each width: {fits}",
              f"- median: **{found['overhead']:.0f} tokens** per batch; the backend declares {declared}",
              f"- mean time per token: 16-row batches {us16:.1f} us, 32-row batches {us32:.1f} us "
              f"(32 / 16 = {us32 / us16:.2f})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="a torch model folder (default: the benchmarks' start model)")
    p.add_argument("--onnx-model", default=None, help="an exported folder (crossrank export) to measure too")
    p.add_argument("--file-name", default=None, help="the ONNX file in --onnx-model")
    args = p.parse_args(argv)
    quiet()
    from crossrank import CrossEncoder

    model = args.model or str(start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start"))
    setups = [("torch", CrossEncoder(model, device="cpu"))]
    if args.onnx_model:
        setups.append((f"onnx {args.file_name or 'model.onnx'}",
                       CrossEncoder(args.onnx_model, backend="onnx", file_name=args.file_name)))
    pairs = long_pairs(max(ROWS))
    parts = []
    for name, scorer in setups:
        engine = scorer.engine
        found = measure(engine, engine.encode(pairs, max_length=max(WIDTHS)))
        parts.append(table(name, engine.batch_overhead_tokens, found))
        print(parts[-1], flush=True)
    text = "\n\n".join(parts)
    command = "python bench/bench_batch_cost.py " + " ".join(argv if argv is not None else sys.argv[1:])
    write_result("batch-cost", command.strip(), text)
    return text


if __name__ == "__main__":
    main()
