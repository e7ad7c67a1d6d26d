"""Benchmark: exact-path mining memory at scale (precomputed embeddings, no encoding).

A random, L2-normalised 1,000,000 x 384 float32 corpus and 10,000 queries (query i is a noisy copy of
corpus row i, its positive). Runs search → filter → select on the exact chunked path with 5 negatives and
a relative margin, and reports wall time and peak RSS; the goal is a peak RSS under 4 GiB (the corpus
alone is 1.43 GiB). Appends the result to ``bench/results/mining.md``.

Usage:
    flock /tmp/crossrank-heavy.lock python bench/bench_mining_scale.py [--corpus N] [--queries Q] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from crossrank.mining.config import MiningConfig
from crossrank.mining.hard_negatives import Prepared, mine_embeddings

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "mining.md"


def random_unit(rows: int, dim: int, seed: int, block: int = 100_000) -> np.ndarray:
    """``rows`` random unit vectors, generated block by block to avoid float64 temporaries."""
    rng = np.random.default_rng(seed)
    out = np.empty((rows, dim), dtype=np.float32)
    for start in range(0, rows, block):
        part = rng.standard_normal((min(block, rows - start), dim), dtype=np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start : start + len(part)] = part
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    corpus = torch.from_numpy(random_unit(args.corpus, args.dim, 0))
    noise = torch.from_numpy(random_unit(args.queries, args.dim, 1))
    queries = torch.nn.functional.normalize(corpus[: args.queries] + 0.5 * noise, dim=1)
    prepared = Prepared(queries=[""] * args.queries, corpus=[""] * args.corpus,
                        positive_ids=[[i] for i in range(args.queries)], max_positives=1, n_rows=args.queries)
    config = MiningConfig(num_negatives=5, relative_margin=0.05, verbose=False)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    neg_scores, neg_idx, pos, skipped = mine_embeddings(queries, corpus, prepared, config)
    wall = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    filled = float(torch.isfinite(neg_scores).all(dim=1).float().mean())
    line = (f"| {args.corpus:,} x {args.dim} | {args.queries:,} | {wall:.1f} | {base_kib / 1024**2:.2f} | "
            f"{peak_gib:.2f} | {'yes' if peak_gib < 4 else 'NO'} | {filled:.3f} |")
    header = ("| corpus | queries | mine s | RSS before mining GiB | peak RSS GiB | < 4 GiB | rows with 5 negatives |\n"
              "|---|---|---|---|---|---|---|")
    print(header + "\n" + line)
    if not args.no_write:
        machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Hard-negative mining\n"
        old = old[: old.index("\n## Scale")] if "\n## Scale" in old else old
        with open(RESULTS, "w", encoding="utf-8") as handle:
            handle.write(
                old.rstrip("\n") + "\n\n## Scale: exact path on precomputed embeddings\n\n"
                f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n- machine: {machine}\n"
                "- command: `flock /tmp/crossrank-heavy.lock python bench/bench_mining_scale.py`\n"
                "- num_negatives=5, relative_margin=0.05 (range_max=51), chunked exact search\n\n"
                f"{header}\n{line}\n"
            )


if __name__ == "__main__":
    main()
