"""Warm start: a fresh cross-encoder distilled from the first stage (no labels), then finetuned.

    flock /tmp/crossrank-heavy.lock python bench/bench_warm_start.py --dataset scifact --steps all

Rows (each reranks the same test candidate lists; "fused" blends the row's score with the first stage's
score by a weight tuned on dev, plateau rule): the first stage alone (BM25 on SciFact / Cranfield, the
bi-encoder on WikiQA), the teachers (bi-encoder cosine, BM25, their hybrid), today's recipe (supervised
ListNet from a fresh head), the warm start alone (labels unused) and the warm start + finetuning (plain, or
``--ft-mode residual``: the first-stage score inside the loss). all-MiniLM-L6-v2 is the student's start and
the dense teacher. Splits: see ``bench/_warm_data.py``; no test query is used for any choice.

Each step caches its model, its test/dev logits and its row under ``--work-dir`` (a step can run alone,
within one bounded job: ``--steps warm``, then ``--steps warm-ft``); the table is rebuilt from all cached
rows and written to ``bench/results/warm-start-{dataset}.md`` with each row's command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _warm_data  # noqa: E402
import _warm_steps as steps  # noqa: E402
from _common import quiet  # noqa: E402
from _train_helpers import command, save, set_threads  # noqa: E402

from crossrank.warm_start.config import WarmStartConfig  # noqa: E402

STEPS = ("first-stage", "recipe", "warm", "warm-ft")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["scifact", "cranfield", "wikiqa"], required=True)
    p.add_argument("--steps", nargs="+", choices=[*STEPS, "all", "table"], default=["all"])
    p.add_argument("--work-dir", default="/tmp/crossrank-warm-bench", help="cached models, logits and rows")
    p.add_argument("--max-queries", type=int, default=100, help="test queries (SciFact, Cranfield)")
    p.add_argument("--rerank-k", type=int, default=100, help="BM25 depth of the test lists")
    p.add_argument("--dev-queries", type=int, default=100, help="dev queries held out of the train queries")
    p.add_argument("--dev-k", type=int, default=20, help="BM25 depth of the dev lists")
    p.add_argument("--negatives", type=int, default=7, help="BM25 negatives per finetuning list")
    p.add_argument("--depth", type=int, default=50, help="BM25 depth the finetuning negatives come from")
    p.add_argument("--eval-max-length", type=int, default=256)
    p.add_argument("--max-length", type=int, default=128, help="training max_length (warm start and finetuning)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    # warm start (WarmStartConfig fields)
    p.add_argument("--teacher", choices=["embedder", "bm25", "hybrid"], default="hybrid")
    p.add_argument("--hybrid-weight", type=float, default=0.5)
    p.add_argument("--warm-lists", type=int, default=WarmStartConfig.num_lists)
    p.add_argument("--warm-top-k", type=int, default=WarmStartConfig.top_k)
    p.add_argument("--warm-sampled", type=int, default=WarmStartConfig.sampled)
    p.add_argument("--warm-depth", type=int, default=WarmStartConfig.depth, help="teacher ranks sampled from")
    p.add_argument("--warm-scale", type=float, default=WarmStartConfig.target_scale, help="target_scale")
    p.add_argument("--warm-loss", choices=["listnet", "margin_mse"], default="listnet")
    p.add_argument("--warm-lr", type=float, default=WarmStartConfig.learning_rate)
    p.add_argument("--warm-head-lr", type=float, default=WarmStartConfig.head_learning_rate)
    p.add_argument("--warm-head-init", action="store_true", help="ridge fit of the head first (head_init)")
    p.add_argument("--warm-epochs", type=float, default=1.0)
    p.add_argument("--warm-batch-size", type=int, default=WarmStartConfig.batch_size, help="lists per step")
    p.add_argument("--warm-budget-s", type=float, default=None)
    p.add_argument("--warm-tag", default="warm", help="name of the warm-start row/cache (variants)")
    # finetuning
    p.add_argument("--ft-mode", choices=["plain", "residual"], default="plain")
    p.add_argument("--ft-residual-weight", type=float, default=1.0)
    p.add_argument("--ft-lr", type=float, default=2e-5, help="finetuning lr after the warm start")
    p.add_argument("--recipe-lr", type=float, default=5e-5, help="today's recipe lr (fresh head)")
    p.add_argument("--ft-epochs", type=float, default=1.0)
    p.add_argument("--ft-batch-size", type=int, default=8)
    p.add_argument("--ft-evals", type=int, default=4, help="dev evaluations per epoch")
    p.add_argument("--ft-budget-s", type=float, default=None)
    p.add_argument("--ft-from", default=None, help="warm row tag to finetune from (default --warm-tag)")
    p.add_argument("--results-dir", default=None)
    return p.parse_args(argv)


def row_file(args: argparse.Namespace, tag: str) -> Path:
    return Path(args.work_dir) / args.dataset / f"{tag}.json"


def store(args: argparse.Namespace, tag: str, row: dict[str, Any], argv: Sequence[str] | None) -> None:
    row["command"] = command("bench_warm_start.py", argv)
    path = row_file(args, tag)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row, indent=2))


ORDER = ["first-stage", "teacher-embedder", "teacher-bm25", "teacher-hybrid", "recipe"]


def table(args: argparse.Namespace, data: Any) -> str:
    folder = Path(args.work_dir) / args.dataset
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rank = {t: i for i, t in enumerate(ORDER)}
    rows.sort(key=lambda r: (rank.get(r["tag"], len(ORDER)), r["tag"]))
    metric = steps.primary(data)
    head = (f"| row | dev {metric} | test {metric} | test MAP | test MRR@10 | test NDCG@10 | fused test {metric} "
            f"| fusion weight | minutes |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        fused = "-" if r.get("fused") is None else f"{r['fused'][metric]:.4f}"
        weight = "-" if r.get("weight") is None else f"{r['weight']:.2f}"
        t = r["test"]
        lines.append(f"| {r['label']} | {r['dev'][metric]:.4f} | **{t[metric]:.4f}** | {t['map']:.4f} | "
                     f"{t['mrr@10']:.4f} | {t['ndcg@10']:.4f} | {fused} | {weight} | {r.get('minutes', 0):.1f} |")
    notes = [f"- `{r['tag']}`: {r['how']} Command: `{r['command']}`" for r in rows]
    return "\n".join(lines) + f"\n\n{data.note}.\n\n" + "\n".join(notes) + "\n"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    quiet()
    set_threads(args.threads)
    data = _warm_data.load(args.dataset, args)
    wanted = list(STEPS) if "all" in args.steps else [s for s in args.steps if s != "table"]
    for step in wanted:
        for tag, row in steps.run(step, data, args):
            store(args, tag, row, argv)
            print(f"{tag}: test {json.dumps(row['test'])} fused {json.dumps(row.get('fused'))}", flush=True)
    text = table(args, data)
    print(text)
    save(f"warm-start-{args.dataset}", "bench_warm_start.py", argv, text, args.results_dir)
    return {p.stem: json.loads(p.read_text()) for p in (Path(args.work_dir) / args.dataset).glob("*.json")}


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
