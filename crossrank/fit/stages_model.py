"""The model stages of ``crossrank fit``: warm start, train, evaluate (their cache and files as in ``stages``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from crossrank.fit import depth as depth_mod
from crossrank.fit import evaluate as evaluate_mod
from crossrank.fit.dev import dev_evaluator, eval_subset
from crossrank.fit.metrics import AT_K
from crossrank.fit.size import DEPTHS, fit_to_lists
from crossrank.fit.stages import Context
from crossrank.inference.memo import MemoScorer

RESERVE_AFTER_TRAIN = ("dev_scoring", "evaluate", "export", "report")


def _chosen_run(ctx: Context) -> dict[str, dict[str, float]]:
    first = ctx.payloads["first_stage"]
    return first["runs"][first["chosen"]]


def periodic_evaluator(ctx: Context) -> Any:
    """The dev evaluator used during training: a seeded subset of dev at the sizing stage's depth."""
    plan, split = ctx.payloads["size"], ctx.payloads["split"]
    ids = eval_subset(split["dev"], int(plan["eval_queries"]), ctx.config.seed)
    return dev_evaluator(ctx.payloads["validate"], ids, _chosen_run(ctx), int(plan["eval_depth"]))


def run_warm_start(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    plan = ctx.payloads["size"]
    if not plan["warm_start"]["enabled"]:
        return {"enabled": False, "reason": plan["warm_start"]["reason"]}, f"skipped: {plan['warm_start']['reason']}"
    from crossrank.fit.warm import run_warm_start as warm

    model = ctx.load_model()
    evaluator = periodic_evaluator(ctx)
    report = warm(model, ctx.payloads["validate"], ctx.payloads["split"], ctx.payloads["first_stage"], plan,
                  ctx.config, ctx.cache_dir / "embeddings")
    metrics = evaluator(model)
    after, teacher = metrics[evaluator.primary_metric], evaluator.ranked_first_stage()[f"ndcg@{AT_K}"]
    model.save_pretrained(work / "model")
    payload = {"enabled": True, "report": report, "dev_after": after, "dev_first_stage": teacher}
    return payload, (f"{report['lists']} lists ({report['user_queries']} train queries, {report['pseudo_queries']} "
                     f"pseudo-queries), {report['steps']} steps; dev NDCG@10 of the warm reranker {after:.4f} "
                     f"(first stage {teacher:.4f}, evaluation subset)")


def run_train(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    from crossrank.fit.train import train_model, tune_fusion

    warm, lists = ctx.payloads["warm_start"], ctx.payloads["mine"]["lists"]
    schedule = fit_to_lists(ctx.payloads["size"], lists, ctx.config)
    plan = {**ctx.payloads["size"], **schedule}
    start_name = "warm_start" if warm.get("enabled") else None
    model = ctx.load_model(start_name)
    evaluator = periodic_evaluator(ctx)
    reserve = sum(plan["estimates"].get(k, 0.0) for k in RESERVE_AFTER_TRAIN)
    result = train_model(model, ctx.payloads["validate"], lists, plan, evaluator, work,
                         ctx.config.seed, fresh_head=start_name is None, deadline=ctx.clock.deadline(reserve),
                         start_metric=warm.get("dev_after"))
    trainer = result.pop("trainer")
    if result["keep_start"]:
        model = ctx.load_model(start_name)
    model.max_length = int(plan["max_length"])
    scorer = MemoScorer(model)  # the depth choice scores dev once; the fusion and its metrics reuse those logits
    depth, choice = _rerank_depth(ctx, scorer)
    full_dev = dev_evaluator(ctx.payloads["validate"], ctx.payloads["split"]["dev"], _chosen_run(ctx), depth)
    fusion = tune_fusion(scorer, full_dev)
    model.save_pretrained(work / "model")
    from crossrank.model_card import write_model_card

    write_model_card(work / "model", trainer=None if result["keep_start"] else trainer,
                     evaluator_metrics={f"dev_{k}": v for k, v in fusion["dev"].items()})
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    kept = "the start model (no trained checkpoint beat it on dev)" if result["keep_start"] else (
        f"step {result['best_step']}")
    payload = {**result, "fusion": fusion, "kept": kept, "rerank_k": depth, "depth_choice": choice,
               "schedule": schedule}
    dev = fusion["dev"]
    retriever = fusion["first_stage"][f"ndcg@{AT_K}"]  # the listed documents only, as the reranker and fused
    return payload, (f"{result['steps']} steps ({schedule['epochs']:g} epochs of {schedule['list_size']:.1f}-document "
                     f"lists, lr {schedule['learning_rate']:g}) in {result['seconds'] / 60:.1f} min; kept {kept}; "
                     f"{depth_mod.summary(choice)}; dev NDCG@10 at top {depth} (its documents only): retriever "
                     f"{retriever:.4f}, reranker "
                     f"{dev[f'ndcg@{AT_K}']:.4f}, fused {dev.get(f'fused_ndcg@{AT_K}', float('nan')):.4f} "
                     f"(fusion weight {fusion['weight']:.2f})")


def _rerank_depth(ctx: Context, model: Any) -> tuple[int, dict[str, Any]]:
    """The plan's depth when ``--rerank-k`` pins it, else the one chosen on dev (:mod:`crossrank.fit.depth`)."""
    planned = int(ctx.payloads["size"]["rerank_k"])
    if ctx.config.rerank_k is not None:
        return planned, {"rerank_k": planned, "by_depth": {}, "pinned": True}
    choice = depth_mod.choose_rerank_depth(model, ctx.payloads["validate"], ctx.payloads["split"]["dev"],
                                           _chosen_run(ctx), planned, DEPTHS)
    return int(choice["rerank_k"]), choice


def rerank_depth(ctx: Context) -> int:
    """The depth the trained reranker rescores: the train stage's choice (older caches: the plan's)."""
    return int(ctx.payloads["train"].get("rerank_k", ctx.payloads["size"]["rerank_k"]))


def run_evaluate(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    model = ctx.load_model("train")
    plan = ctx.payloads["size"]
    model.max_length = int(plan["max_length"])
    payload = evaluate_mod.evaluate(model, ctx.payloads["validate"], ctx.payloads["first_stage"],
                                    ctx.payloads["split"]["test"], rerank_depth(ctx), ctx.config.seed)
    return payload, evaluate_mod.summary(payload)
