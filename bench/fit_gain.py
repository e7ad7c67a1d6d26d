"""The test gain of a finished ``crossrank fit`` run over its first stage, with its paired standard error.

    python bench/fit_gain.py --out /tmp/fit-cran-new

Reads the evaluate stage's per-query NDCG@10 gains (fused - first stage, and reranker alone - first stage, on the
realistic lists) and prints each mean with the standard error of the mean over the test queries. Scores nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit_fusion import stage  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    evaluated, _ = stage(args.out, "evaluate")
    for name, key in (("fused - first stage", "per_query_gain"), ("reranker alone - first stage", "reranker_gain")):
        gains = np.asarray(list(evaluated[key].values()), dtype=np.float64)
        error = gains.std(ddof=1) / np.sqrt(gains.size) if gains.size > 1 else float("nan")
        print(f"{name}: {gains.mean():+.4f} NDCG@10, paired standard error {error:.4f} over {gains.size} queries")


if __name__ == "__main__":
    main()
