"""Inference speed: CrossEncoder.predict pairs/s on the WikiQA test pairs, crossrank vs the reference.

    python bench/bench_inference.py [--limit N] [--rounds R]

Same checkpoint (all-MiniLM-L6-v2 + a seeded head), batch 32, max_length 256, fp32, CPU; the rounds
alternate between the two libraries and the best round of each counts. Prints the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    quiet()
    import sentence_transformers as st

    from crossrank import CrossEncoder

    pairs = [(r["question"], r["sentence"]) for r in wikiqa_rows("test")][: args.limit]
    folder = start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    ours = CrossEncoder(folder, max_length=256, device="cpu")
    ref = st.CrossEncoder(str(folder), max_length=256, device="cpu")
    ours.predict(pairs[:64])
    ref.predict(pairs[:64])
    best = {"crossrank": float("inf"), "reference": float("inf")}
    for _ in range(args.rounds):
        with Timer() as t:
            s_ours = ours.predict(pairs, batch_size=32, show_progress_bar=False)
        best["crossrank"] = min(best["crossrank"], t.seconds)
        with Timer() as t:
            s_ref = ref.predict(pairs, batch_size=32, show_progress_bar=False)
        best["reference"] = min(best["reference"], t.seconds)
    diff = float(np.abs(np.asarray(s_ours) - np.asarray(s_ref)).max())
    rate = {k: len(pairs) / v for k, v in best.items()}
    table = (f"| library | pairs/s | max abs score diff |\n|---|---|---|\n"
             f"| crossrank | {rate['crossrank']:.1f} | {diff:.1e} |\n"
             f"| sentence-transformers | {rate['reference']:.1f} | |\n"
             f"\n**ratio crossrank / reference: {rate['crossrank'] / rate['reference']:.2f}×** "
             f"({len(pairs)} WikiQA test pairs, batch 32, max_length 256, best of {args.rounds} rounds)")
    print(table)
    write_result("inference", "python bench/bench_inference.py" + (f" --limit {args.limit}" if args.limit else ""),
                 table)


if __name__ == "__main__":
    main()
