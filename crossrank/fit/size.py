"""Stage 3 of the run order, size: loss, epochs, learning rate, max_length and rerank depth from the data
and the time budget.

It runs right after the split, before the long work (retrieval, training), so a budget too small for even
one epoch is a one-line error that names the minimum measured. The numbers come from the data (queries,
positives per query, token lengths of real (query, document) pairs) and, with a budget, from a short
throughput probe (:mod:`crossrank.fit.probe`); costs at other lengths scale with the mean truncated pair
length. Every choice is returned with its reason for the report. The training plan is fixed in steps, so a
resumed run trains exactly as much as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from crossrank.data.columns import is_positive
from crossrank.fit.config import FitConfig
from crossrank.fit.export import GATE_DEPTH, GATE_LISTS
from crossrank.fit.probe import LADDER, PROBE_MAX_LENGTH, Rates

DEPTHS = (100, 50, 30, 20, 10)
MIN_DEPTH = 20  # rerank at least the top 20 when some max_length leaves time for it
EVALS = 5
WARM_SHARE = 0.3  # of the training time left after one supervised epoch, for the warm start
# Half of that time with few labels (under 300 train queries) made Cranfield's 30-minute run warm-start on 298 lists
# (dev NDCG@10 0.42 against the first stage's 0.61) before 139 steps at 3e-5 and 192 tokens: alone 0.2284, fused
# -0.0011 against the hybrid, where 30% (warm start skipped, 272 steps at 1e-4 and 128 tokens) had reached 0.3061
# and +0.0013 (bench/results/fit-cranfield-warm-share-0.5.md, fit-cranfield.md).
WARM_FT_LR = 3e-5  # supervised rate after a warm start: refine what it learnt (at 1e-4, 70 steps on Cranfield's
# 135 train queries took fit's warm reranker from 0.29 to 0.15 dev NDCG@10, bench/results/fit-recipes-cranfield.md)
WARM_LIST = 16  # documents per warm-start list (the teacher's top 8 + 8 sampled)
WARM_SCORED_LISTS = 2 * 16 + 32  # lists the warm start scores without training: held-out loss twice, head fit
WARM_MAX_LENGTH = 128  # the warm start trains at most this long: its lists are many and its queries short
WARM_MIN_LISTS = 1000  # a shorter warm start costs more than it teaches: 248 lists on SciFact (dev NDCG@10 0.37 against
# the first stage's 0.71) then 328 steps at 3e-5 gave fused +0.0204 and alone 0.6547, where skipping it had given
# +0.0239 and 0.6939 (bench/results/fit-scifact-warm-248.md); 298 lists on Cranfield did worse too (below). The
# 1,136-list warm start of bench_warm_start.py reached 0.51 dev against its teacher's 0.59.
SHORT_STEPS = 300  # up to this many optimiser steps train at 1e-4 (SciFact's 110-step plan at 5e-5 was still
# climbing on dev at its last step); from LONG_STEPS at the long rate (SciFact's 931 steps at 3e-5 met its target)
LONG_STEPS = 1000
EXPORT_SECONDS = 12.0  # tracing, fusing and quantizing a MiniLM took 7-12 s here; the gate's scoring is added
GATE_SCORINGS = 3.2  # the gate scores its pairs with torch, fp32 ONNX and up to two int8 files (ONNX ~1.5x faster)
SCORING_SHARE = 0.2  # of the budget, for the final dev and test scoring
EVAL_SHARE = 0.12  # of the budget, for the dev evaluations during training
SAFETY = 0.95  # plan to finish within this share of the budget (the rates are re-measured at the chosen length)


def truncated_mean(lengths: Sequence[int], max_length: int) -> float:
    return float(np.mean(np.minimum(np.asarray(lengths or [max_length]), max_length)))


def data_max_length(lengths: Sequence[int], model_limit: int) -> int:
    """The smallest ladder length that holds 90% of the pairs whole, within the model's limit."""
    p90 = float(np.percentile(lengths, 90)) if lengths else 128.0
    fits = [n for n in LADDER if n <= model_limit]
    return next((n for n in fits if n >= p90), fits[-1] if fits else model_limit)


def choose_loss(stats: Mapping[str, Any], pinned: str) -> tuple[str, str]:
    if pinned != "auto":
        return pinned, "--loss"
    # the mined lists carry binary labels (relevant or not), so LambdaLoss's NDCG weighting of graded order has
    # nothing to weigh; on Cranfield's dev split (7.2 relevant per query, 70 steps) ListNet's reranker reached
    # 0.357 NDCG@10 alone where LambdaLoss's reached 0.285 (bench/results/fit-recipes-cranfield.md).
    # LambdaLoss stays available as --loss lambda.
    mean = stats["positives_per_query"]["mean"]
    return "listnet", (f"{mean:.1f} relevant documents per query: one list per query (positives + negatives), "
                       "softmax cross-entropy (ListNet); the lists' labels are binary, so a graded-order loss "
                       "has nothing to weigh")


def target_epochs(train_lists: int) -> float:
    """Epochs wanted without a budget limit: about 6,000 lists in all, between 1 and 10 passes."""
    return float(min(10, max(1, math.ceil(6000 / max(train_lists, 1)))))


def embed_seconds(counts: Mapping[str, int], rates: Rates) -> float:
    """Estimated seconds to embed the corpus and every query (dense first stage)."""
    if not rates.embed_docs_per_s:
        return 0.0
    return counts["documents"] / rates.embed_docs_per_s + counts["queries"] / (
        rates.embed_queries_per_s or rates.embed_docs_per_s)


def fixed_costs(counts: Mapping[str, int], rates: Rates, scale: float, depth: int, eval_queries: int,
                eval_depth: int, dense: bool, export: bool, warm: bool = False) -> dict[str, float]:
    """Estimated seconds of the stages that do not grow with training."""
    score = rates.score_pairs_per_s * scale
    first = embed_seconds(counts, rates) if dense else 0.0
    return {
        "first_stage": first + counts["documents"] / 5000.0 + 2.0,
        "dev_evaluations": (EVALS + 1) * eval_queries * eval_depth / score,
        "dev_scoring": counts["dev"] * depth / score,  # once, for the depth choice; the fusion reuses its logits
        "evaluate": counts["test"] * (depth + 2) / score,
        "export": EXPORT_SECONDS + GATE_SCORINGS * GATE_LISTS * GATE_DEPTH / score if export else 0.0,
        "report": 5.0,
        "warm_overhead": WARM_SCORED_LISTS * WARM_LIST / score if warm else 0.0,
    }


def choose_depth(counts: Mapping[str, int], rates: Rates | None, budget: float | None, pinned: int | None,
                 scale: float = 1.0) -> tuple[int, str]:
    if pinned is not None:
        return pinned, "--rerank-k"
    if budget is None or rates is None:
        return DEPTHS[0], "no time budget: the first stage's top 100"
    score = rates.score_pairs_per_s * scale
    for depth in DEPTHS:
        if (counts["dev"] + counts["test"]) * depth / score <= SCORING_SHARE * budget:
            return depth, f"scoring dev + test at depth {depth} fits {SCORING_SHARE:.0%} of the budget"
    return DEPTHS[-1], f"the smallest depth; scoring dev + test takes more than {SCORING_SHARE:.0%} of the budget"


def eval_plan(counts: Mapping[str, int], rates: Rates | None, budget: float | None, depth: int,
              scale: float = 1.0) -> tuple[int, int]:
    """(dev queries, depth) of each evaluation during training."""
    eval_depth = min(depth, 20)
    if budget is None or rates is None:
        return counts["dev"], eval_depth
    pairs = EVAL_SHARE * budget * rates.score_pairs_per_s * scale / ((EVALS + 1) * eval_depth)
    return max(10, min(counts["dev"], int(pairs))), eval_depth


def exporting(config: FitConfig) -> bool:
    """Whether the export stage will run (asked for, and this crossrank has the exporter)."""
    from crossrank.fit.export import export_available

    return config.export != "none" and export_available()


def warm_available() -> bool:
    """Whether this crossrank has the warm-start stage (``crossrank.warm_start``)."""
    import importlib.util

    return importlib.util.find_spec("crossrank.warm_start") is not None


def training_units(loss: str, lists: int, group: float, batch_pairs: int) -> tuple[int, int]:
    """(rows per optimiser step, rows per epoch): pairs for BCE, lists otherwise."""
    if loss == "bce":
        return batch_pairs, int(round(lists * group))
    return max(1, int(batch_pairs // max(group, 1.0))), lists


def _budget_error(budget: float, pairs: int, rates: Rates, scale: float, costs: Mapping[str, float],
                  elapsed: float, length: int) -> ValueError:
    per_s = rates.train_pairs_per_s * scale
    epoch = pairs / per_s
    fixed = sum(costs.values())
    minimum = (elapsed + fixed + epoch) / SAFETY
    parts = ", ".join(f"{name.replace('_', ' ')} {sec / 60:.1f}" for name, sec in costs.items() if sec >= 30)
    parts = f" ({parts} min)" if parts else ""
    return ValueError(
        f"the time budget of {budget / 60:.1f} min is too small for one epoch: {pairs} training pairs take "
        f"{epoch / 60:.1f} min at the measured {per_s:.1f} pairs/s (max_length {length}), plus {fixed / 60:.1f} min "
        f"for retrieval, evaluation and export{parts}; the minimum measured here is "
        f"{math.ceil(minimum / 60)} min. "
        f"Pass --time-budget {math.ceil(minimum / 60)}m or more.")


def negative_ladder(most: int) -> list[int]:
    """Hard negatives per list to try, most first: ``most``, then fewer down to 3 when the budget is short."""
    return [most] + [n for n in (5, 3) if n < most]


def _plan_at(counts: Mapping[str, int], lengths: Sequence[int], rates: Rates, config: FitConfig, length: int,
             pairs: int, elapsed: float, warm: bool) -> dict[str, Any]:
    """The plan at one max_length and epoch size: rerank depth, evaluations, costs and affordable epochs."""
    budget = float(config.time_budget or 0.0)
    scale = truncated_mean(lengths, rates.max_length) / truncated_mean(lengths, length)
    depth, depth_reason = choose_depth(counts, rates, budget, config.rerank_k, scale)
    eval_queries, eval_depth = eval_plan(counts, rates, budget, depth, scale)
    fixed = fixed_costs(counts, rates, scale, depth, eval_queries, eval_depth, config.first_stage != "bm25",
                        exporting(config), warm)
    available = SAFETY * budget - elapsed - sum(fixed.values())
    per_s = rates.train_pairs_per_s * scale
    epoch_s = pairs / per_s
    warm_per_s = rates.train_pairs_per_s * truncated_mean(lengths, rates.max_length) / truncated_mean(
        lengths, min(length, WARM_MAX_LENGTH))
    # the supervised epoch comes first; the warm start takes up to its share of the rest
    warm_s = min(WARM_SHARE * available, max(0.0, available - epoch_s)) if warm else 0.0
    warm_lists = int(warm_s * warm_per_s) // WARM_LIST
    if warm_skipped(config, warm_lists):
        warm_s = 0.0  # too short to teach: its time and its fixed overhead go to the supervised epochs
        available += fixed.pop("warm_overhead")
    return {"warm_lists_affordable": warm_lists, "max_length": length,
            "depth": depth, "depth_reason": depth_reason, "eval_queries": eval_queries,
            "eval_depth": eval_depth, "estimates": fixed, "affordable_epochs": (available - warm_s) / epoch_s,
            "warm_pairs": int(warm_s * warm_per_s), "warm_pairs_per_s": warm_per_s, "train_pairs_per_s": per_s,
            "train_pairs": pairs}


def rates_for(measured: Rates | Mapping[int, Rates], length: int) -> Rates:
    """The rates measured at ``length``, else at the nearest measured length (ties: the longer one, whose
    scaled-down estimate errs on the safe side)."""
    if isinstance(measured, Rates):
        return measured
    return measured[min(measured, key=lambda n: (abs(math.log(n / length)), -n))]


def budget_plan(counts: Mapping[str, int], lengths: Sequence[int], rates: Rates | Mapping[int, Rates],
                config: FitConfig, positives: float, want_epochs: float, elapsed: float, warm: bool,
                top_length: int) -> dict[str, Any]:
    """Passes before length: a max_length above the shortest candidate (128, or the data's own when shorter)
    only when its plan trains every wanted epoch with every hard negative; else, at the shortest length, the
    most hard negatives per list (down to 3) that still train ``min(want, 2)`` epochs; else the fewest
    negatives there (the most epochs).

    Training is short of passes long before it is short of tokens at these budgets: on Cranfield (135 train
    queries, 30 min) the plans that went to 256 tokens at 2-3 epochs reached 0.19 and 0.17 NDCG@10 alone where
    128 tokens at 4 epochs reached 0.31; SciFact's best 30-minute runs trained at 128 tokens.

    ``rates``: one measurement, or measurements by max_length (each length is costed from the nearest).
    """
    candidates = [top_length] if config.max_length else [n for n in LADDER if 128 <= n <= top_length][::-1] or \
        [top_length]
    shortest = candidates[-1]
    every = config.epochs or want_epochs
    need = config.epochs or min(want_epochs, 2.0)
    plans = []
    for length in candidates:
        for negatives in negative_ladder(config.num_negatives):
            pairs = int(round(counts["train"] * (positives + negatives + config.random_negatives)))
            plans.append({**_plan_at(counts, lengths, rates_for(rates, length), config, length, pairs, elapsed, warm),
                          "num_negatives": negatives})
    # a plan whose scoring cost pushes the rerank depth under MIN_DEPTH comes last: reranking only the top 10
    # cannot bring a missed document into the top 10
    for deep in (True, False):
        keep = [p for p in plans if not deep or p["depth"] >= MIN_DEPTH]
        found = next((p for p in keep if p["max_length"] > shortest and p["affordable_epochs"] >= every
                      and p["num_negatives"] == config.num_negatives), None)
        short = [p for p in keep if p["max_length"] == shortest]
        found = found or next((p for p in short if p["affordable_epochs"] >= need), None)
        if found is not None:
            return found
        # below two epochs, passes come before negatives: the plan then moves smoothly with the measured speed
        # instead of jumping from (3 negatives, 1.9 epochs) to (7, 1.06). On SciFact (30m) the jump's plan reached
        # fused +0.0245 NDCG@10 where 3 negatives and 2.26 epochs had reached +0.0392.
        fits = [p for p in short if p["affordable_epochs"] >= (config.epochs or 1.0)]
        if fits:
            return max(fits, key=lambda p: p["affordable_epochs"])
    plan = plans[-1]
    last = rates_for(rates, plan["max_length"])
    raise _budget_error(float(config.time_budget or 0.0), int(plan["train_pairs"] * (config.epochs or 1.0)), last,
                        plan["train_pairs_per_s"] / last.train_pairs_per_s, plan["estimates"], elapsed,
                        plan["max_length"])


def _plan_or_lexical(counts: Mapping[str, int], lengths: Sequence[int], rates: Rates, config: FitConfig,
                     positives: float, want: float, elapsed: float, warm: bool,
                     top: int) -> tuple[FitConfig, dict[str, Any]]:
    """:func:`budget_plan`; with ``--first-stage auto``, when embedding the corpus leaves no time for one epoch,
    the plan with BM25 alone (the config returned then says ``first_stage="bm25"``, the plan says why)."""
    try:
        return config, budget_plan(counts, lengths, rates, config, positives, want, elapsed, warm, top)
    except ValueError:
        if config.first_stage != "auto" or not rates.embed_docs_per_s:
            raise
    lexical = dataclasses.replace(config, first_stage="bm25")
    plan = budget_plan(counts, lengths, rates, lexical, positives, want, elapsed, warm, top)
    minutes = embed_seconds(counts, rates) / 60
    plan["first_stage_reason"] = (
        f"embedding {counts['documents']} documents would take {minutes:.1f} min at the measured "
        f"{rates.embed_docs_per_s:.1f} documents/s and leave no time for one epoch in the budget: BM25 only "
        "(a longer --time-budget adds the dense and hybrid first stages)")
    return lexical, plan


def _remeasured(model: Any, pairs: Sequence[tuple], lengths: Sequence[int], rates: Rates, plan: dict[str, Any],
                counts: Mapping[str, int], config: FitConfig, positives: float, want: float, elapsed: float,
                warm: bool, top: int) -> tuple[Rates, dict[str, Any]]:
    """The plan made once its own max_length has been measured, and the rates measured there.

    Scaling rates by mean token length over-estimates the cost of shorter pairs (attention and padding shrink
    faster than linearly) and under-estimates longer ones: on SciFact, scaled from 256 to 128 tokens, the
    estimates ran ~20% above the stage times measured, and the run ended at 74% of its budget. So while the
    plan's length has no measurement of its own (at most three more probes), it is measured there and the
    plan made again, each length costed from its nearest measurement.
    """
    from crossrank.fit.probe import measure

    measured = {rates.max_length: rates}
    spent = rates.seconds
    for _ in range(3):
        length = plan["max_length"]
        if length in measured:
            break
        again = measure(model, pairs, [], length, None)
        spent += again.seconds
        measured[length] = Rates(length, again.train_pairs_per_s, again.score_pairs_per_s, rates.embed_docs_per_s,
                                 0.0, rates.embed_queries_per_s)
        plan = budget_plan(counts, lengths, measured, config, positives, want, elapsed + spent, warm, top)
    return dataclasses.replace(rates_for(measured, plan["max_length"]), seconds=spent), plan


def _measured_plan(model: Any, pairs: Sequence[tuple], lengths: Sequence[int], probed: Rates,
                   counts: Mapping[str, int], config: FitConfig, positives: float, want: float, elapsed: float,
                   warm: bool, top: int) -> tuple[FitConfig, Rates, dict[str, Any]]:
    """:func:`_plan_or_lexical` on the probe's rates, then :func:`_remeasured` at the planned length.

    A BM25-only fallback decided on the probe's rates scaled to a shorter length is tried again, with the dense
    first stage, on the rates measured at that length: the scaled estimate runs ~20% high at 128 tokens, and on
    SciFact it once dropped a dense stage that the measured rate affords (2.1 epochs with it).
    """
    chosen, plan = _plan_or_lexical(counts, lengths, probed, config, positives, want, elapsed + probed.seconds,
                                    warm, top)
    reason = plan.get("first_stage_reason")
    rates, plan = _remeasured(model, pairs, lengths, probed, plan, counts, chosen, positives, want, elapsed, warm,
                              top)
    if reason:
        try:
            dense = budget_plan(counts, lengths, rates, config, positives, want, elapsed + rates.seconds, warm, top)
        except ValueError:
            plan["first_stage_reason"] = reason
        else:
            chosen = config
            rates, plan = _remeasured(model, pairs, lengths, rates, dense, counts, config, positives, want, elapsed,
                                      warm, top)
    return chosen, rates, plan


def sample_pairs(collection: Mapping[str, Any], query_ids: Sequence[str], count: int, seed: int) -> list[tuple]:
    """Up to ``count`` (query, relevant document) pairs of the given queries, seeded."""
    qrels, queries, corpus = collection["qrels"], collection["queries"], collection["corpus"]
    pairs = [(queries[q], corpus[d]) for q in query_ids for d, g in qrels[q].items() if is_positive(g)]
    rng = np.random.default_rng(seed)
    picks = rng.permutation(len(pairs))[:count]
    return [pairs[i] for i in sorted(picks.tolist())]


def list_positives(stats: Mapping[str, Any]) -> float:
    """Mean positives per training list (at most 8 are kept per query)."""
    return min(stats["positives_per_query"]["mean"], 8.0)


def size_run(collection: Mapping[str, Any], split: Mapping[str, list[str]], config: FitConfig, elapsed: float,
             model_loader: Any) -> dict[str, Any]:
    """The run's plan (see the module docstring); ``model_loader()`` gives the base CrossEncoder."""
    stats = collection["stats"]
    counts = {"documents": stats["documents"], "queries": len(split["train"]) + len(split["dev"]) + len(split["test"]),
              "train": len(split["train"]), "dev": len(split["dev"]), "test": len(split["test"])}
    model = model_loader()
    pairs = sample_pairs(collection, split["train"], 256, config.seed)
    from crossrank.fit.probe import measure, pair_lengths

    lengths = pair_lengths(model.tokenizer, pairs)
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    top = config.max_length or data_max_length(lengths, limit)
    loss, loss_reason = choose_loss(stats, config.loss)
    positives = list_positives(stats)
    want = config.epochs or target_epochs(counts["train"])
    warm = config.warm_start != "off" and warm_available()
    rates = None
    if config.time_budget is None:
        depth, depth_reason = choose_depth(counts, None, None, config.rerank_k)
        eval_queries, eval_depth = eval_plan(counts, None, None, depth)
        plan = {"max_length": top, "depth": depth, "depth_reason": depth_reason, "eval_queries": eval_queries,
                "eval_depth": eval_depth, "estimates": {}, "affordable_epochs": None,
                "warm_pairs": int(WARM_LIST * min(2000, max(500, 2 * counts["train"]))) if warm else 0,
                "num_negatives": config.num_negatives}
        epochs = want
    else:
        rates = measure(model, pairs, list(collection["corpus"].values())[:256], min(top, PROBE_MAX_LENGTH),
                        config.embedder if config.first_stage != "bm25" else None)
        config, rates, plan = _measured_plan(model, pairs, lengths, rates, counts, config, positives, want, elapsed,
                                             warm, top)
        epochs = config.epochs or round(min(want, plan["affordable_epochs"]), 2)
    group = positives + plan["num_negatives"] + config.random_negatives
    per_step, units = training_units(loss, counts["train"], group, config.batch_pairs)
    steps = max(1, math.ceil(epochs * units / per_step))
    warm_plan = _warm_plan(config, warm, plan, rates)
    rate = config.learning_rate or (WARM_FT_LR if warm_plan["enabled"] else learning_rate(steps, epochs))
    lowered = (f"; lowered to {plan['max_length']}: a longer one does not train all {want:g} wanted epochs with "
               f"every hard negative in the budget (passes come first)")
    length_reason = "--max-length" if config.max_length else (
        f"90% of the sampled pairs fit {top} tokens" + ("" if plan["max_length"] == top else lowered))
    return {
        "first_stage": config.first_stage, "first_stage_reason": plan.get("first_stage_reason"),
        "loss": loss, "max_length": plan["max_length"], "epochs": epochs, "learning_rate": rate,
        "head_learning_rate": 1e-3, "rerank_k": plan["depth"], "num_negatives": plan["num_negatives"],
        "eval_queries": plan["eval_queries"],
        "eval_depth": plan["eval_depth"], "rows_per_step": per_step, "max_steps": steps, "evaluations": EVALS,
        "warm_start": warm_plan, "want_epochs": want, "list_size": group, "batch_pairs": config.batch_pairs,
        "train_seconds": epochs * plan["train_pairs"] / plan["train_pairs_per_s"] if rates else None,
        "rates": rates.to_dict() if rates else None, "estimates": plan["estimates"],
        "pair_tokens_p90": float(np.percentile(lengths, 90)) if lengths else None,
        "reasons": {"loss": loss_reason, "num_negatives": f"{config.num_negatives} per list" if plan["num_negatives"] ==
                    config.num_negatives else f"lowered from {config.num_negatives} to fit one epoch in the budget",
                    "max_length": length_reason, "rerank_k": plan["depth_reason"],
                    "epochs": "--epochs" if config.epochs else _epoch_reason(want, epochs),
                    "learning_rate": "--learning-rate" if config.learning_rate else _rate_reason(
                        rate, steps, epochs, warm_plan["enabled"])},
    }


def fit_to_lists(plan: Mapping[str, Any], lists: Sequence[Mapping[str, Any]], config: FitConfig) -> dict[str, Any]:
    """The training schedule for the lists actually mined: ``{epochs, max_steps, rows_per_step, learning_rate,
    reasons, list_size}``.

    Sizing runs before mining, so it costs each list at the positives and hard negatives asked for; the mined
    lists are often shorter (at most 8 positives each, hard negatives skipped by the margin) or longer (a judged
    negative added). With a budget, the plan's training seconds are kept and the epochs re-counted at the mined
    size (never above the epochs wanted); the step count and an ``auto`` learning rate follow. On Cranfield the
    plan costed 15.2 documents a list, the mined lists held 12.7, and training ended in 61% of its planned time.
    Deterministic given the plan and the lists, so a resumed run trains the same schedule. A plan cached by an
    older crossrank (no ``list_size``) keeps its own schedule, so resuming such a run trains what it planned.
    """
    if "list_size" not in plan:
        return {"epochs": plan["epochs"], "max_steps": plan["max_steps"], "rows_per_step": plan["rows_per_step"],
                "learning_rate": plan["learning_rate"], "reasons": plan["reasons"],
                "list_size": float(np.mean([len(x["documents"]) for x in lists])) if lists else 0.0}
    size = float(np.mean([len(x["documents"]) for x in lists])) if lists else float(plan["list_size"])
    per_step, units = training_units(plan["loss"], len(lists), size, int(plan["batch_pairs"]))
    epochs, reason = float(plan["epochs"]), plan["reasons"]["epochs"]
    if plan.get("train_seconds") and not config.epochs:
        affordable = plan["train_seconds"] * plan["rates"]["train_pairs_per_s"] / max(size * len(lists), 1.0)
        epochs = round(min(float(plan["want_epochs"]), affordable), 2)
        reason = (_epoch_reason(float(plan["want_epochs"]), epochs) +
                  f" ({size:.1f} documents a mined list; the plan costed {plan['list_size']:.1f})")
    steps = max(1, math.ceil(epochs * units / per_step))
    warm = bool(plan["warm_start"]["enabled"])
    rate = config.learning_rate or (WARM_FT_LR if warm else learning_rate(steps, epochs))
    rate_reason = "--learning-rate" if config.learning_rate else _rate_reason(rate, steps, epochs, warm)
    return {"epochs": epochs, "max_steps": steps, "rows_per_step": per_step, "learning_rate": rate,
            "list_size": size, "reasons": {**plan["reasons"], "epochs": reason, "learning_rate": rate_reason}}


def trained_plan(payloads: Mapping[str, Any]) -> dict[str, Any]:
    """The sizing plan with the schedule the train stage ran (:func:`fit_to_lists`; older caches: the plan)."""
    return {**payloads["size"], **payloads.get("train", {}).get("schedule", {})}


def _rate_reason(rate: float, steps: int, epochs: float, warm: bool) -> str:
    if warm:
        return f"{rate:g}: after the warm start, finetuning refines what it learnt ({steps} steps, {epochs:g} epochs)"
    return f"{rate:g}: {steps} optimiser steps, {epochs:g} epochs"


def learning_rate(steps: int, epochs: float) -> float:
    """Encoder learning rate: larger when the budget allows few optimiser steps (each must move further),
    smaller for long schedules that revisit the same lists many times.

    1e-4 up to :data:`SHORT_STEPS` steps, the long rate (5e-5 within 3 epochs, else 3e-5) from
    :data:`LONG_STEPS`, log-linear between. A step function there made the plan jump from 1e-4 to 3e-5 when the
    probe's measured speed moved the step count across its edge: on Cranfield's 30-minute plan, 308 steps at 1e-4
    on one probe and 574 steps at 3e-5 on the next, on the same machine.
    """
    floor = 5e-5 if epochs <= 3 else 3e-5
    if steps <= SHORT_STEPS:
        return 1e-4
    if steps >= LONG_STEPS:
        return floor
    share = math.log(steps / SHORT_STEPS) / math.log(LONG_STEPS / SHORT_STEPS)
    return float(f"{math.exp(math.log(1e-4) + share * math.log(floor / 1e-4)):.2g}")


def warm_skipped(config: FitConfig, lists: int) -> bool:
    """Whether an ``auto`` warm start of ``lists`` lists is skipped as too short to teach."""
    return config.warm_start == "auto" and not config.warm_lists and lists < WARM_MIN_LISTS


def _warm_plan(config: FitConfig, warm: bool, plan: Mapping[str, Any], rates: Rates | None) -> dict[str, Any]:
    lists = config.warm_lists or max(1, plan["warm_pairs"] // WARM_LIST)
    per_s = plan.get("warm_pairs_per_s", plan.get("train_pairs_per_s"))
    affordable = int(plan.get("warm_lists_affordable", plan["warm_pairs"] // WARM_LIST))
    if warm and warm_skipped(config, affordable):
        lists = affordable
        return {"enabled": False, "lists": 0, "seconds": None,
                "reason": f"the budget leaves time for {lists} warm-start lists after one supervised epoch (fewer "
                          f"than {WARM_MIN_LISTS} cost more than they teach); a longer --time-budget turns it on"}
    return {"enabled": warm, "lists": lists if warm else 0, "reason": _warm_reason(config, warm),
            "seconds": lists * WARM_LIST / per_s if warm and per_s else None}


def _warm_reason(config: FitConfig, warm: bool) -> str:
    if config.warm_start == "off":
        return "--warm-start off"
    if config.warm_lists:
        return f"on, --warm-lists {config.warm_lists}"
    if not warm:
        return "this crossrank has no crossrank.warm_start module; supervised training starts from the base model"
    return "on: the reranker first learns the first stage's ranking (user queries + pseudo-queries), then the labels"


def _epoch_reason(want: float, epochs: float) -> str:
    if epochs >= want:
        return f"{want:g} epochs: about 6,000 training lists in all (1 to 10 passes)"
    return f"{epochs:g} of the {want:g} epochs wanted fit the time budget"


def summary(payload: Mapping[str, Any]) -> str:
    rates = payload["rates"]
    measured = (f"; measured {rates['train_pairs_per_s']:.1f} train / {rates['score_pairs_per_s']:.1f} scored pairs/s"
                if rates else "")
    warm = payload["warm_start"]
    return (f"loss {payload['loss']}, {payload['epochs']:g} epochs ({payload['max_steps']} steps), lr "
            f"{payload['learning_rate']:g}, max_length {payload['max_length']}, rerank top {payload['rerank_k']}, "
            f"warm start {'on, ' + str(warm['lists']) + ' lists' if warm['enabled'] else 'off'}{measured}"
            + ("; first stage BM25 only: the dense one does not fit the budget" if payload.get("first_stage_reason")
               else ""))
